//! What the two client examples share: turning a connection string into a core
//! [`Config`], an address and a TLS configuration; one turn of the loop; running a list
//! of queries one after another; printing results the way `psql -At` does.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use pgproto_core::adapter::{conninfo_from_env, with_passfile_password, Error};
use pgproto_core::client::{Client, Config, Event, Phase, RequestId, ResultCollector, ResultSet};
use pgproto_core::db_error::DbError;
use pgproto_core::message::Format;

use pgproto_tls::rustls::pki_types::ServerName;
use pgproto_tls::rustls::{ClientConfig, ClientConnection};

use super::nonblocking_io::{read_once, write_available, ReadOutcome};

/// One client connection, whatever drives it (a mio loop, a tick): the socket and its
/// TLS session, the core, the output the socket has not taken yet, and the application.
pub(crate) struct Connection<S> {
    pub(crate) transport: Transport<S>,
    tls: Option<TlsSetup>,
    pub(crate) core: Client,
    /// Bytes the core produced that the socket did not take yet (socket buffer full).
    outgoing: BytesMut,
    pub(crate) queries: QueryRunner,
}

impl<S: Read + Write> Connection<S> {
    /// A connection on a connected (or connecting) non-blocking socket. The SSLRequest
    /// or StartupMessage is queued at once; with `sslnegotiation=direct` the TLS
    /// handshake starts instead.
    pub(crate) fn new(
        socket: S,
        config: Config,
        tls: Option<TlsSetup>,
        queries: QueryRunner,
    ) -> Result<Self, Error> {
        // Randomness is the caller's: fresh bytes for the SCRAM nonce.
        let mut nonce = [0u8; 24];
        getrandom::getrandom(&mut nonce).map_err(|e| Error::Io(e.into()))?;
        let core = Client::new(config, &nonce);
        let mut transport = Transport::new(socket);
        if core.phase() == Phase::TlsHandshake {
            // sslnegotiation=direct: TLS before any PostgreSQL message.
            transport.start_tls(tls.as_ref())?;
        }
        Ok(Self {
            transport,
            tls,
            core,
            outgoing: BytesMut::new(),
            queries,
        })
    }

    /// Whether everything was sent after Terminate.
    pub(crate) fn is_done(&self) -> bool {
        self.queries.finished && self.outgoing.is_empty()
    }

    /// One turn of the loop, never waiting:
    ///
    /// 1. feed the core everything the socket has; when a TLS handshake has just
    ///    completed, tell the core, with the channel-binding data;
    /// 2. drain the core's events: start TLS when the core says so, hand the rest to
    ///    the application, which reacts with commands;
    /// 3. drain the core's output and write what the socket takes, the rest kept in
    ///    `outgoing`. This comes after every drain of events, whatever they were: the
    ///    core answers some input by itself (authentication) without an event.
    ///
    /// The end of the stream is reported to the core last, after the bytes that came
    /// before it were handled.
    pub(crate) fn turn(&mut self, out: &mut dyn Write) -> Result<(), Error> {
        // 1. Feed.
        let open = self
            .transport
            .read_available(|data| self.core.handle_input(data))?;
        if self.core.phase() == Phase::TlsHandshake {
            if let Some(channel_binding) = self.transport.handshake_done() {
                // The core queues the StartupMessage, now inside TLS.
                self.core.handle_tls_established(channel_binding)?;
            }
        }
        // 2. Drain the events. After Terminate the core is closed: ask it for nothing
        // more.
        while !self.queries.finished {
            let Some(event) = self.core.poll_event()? else {
                break;
            };
            match event {
                // The server accepted the SSLRequest (and sent nothing after its 'S',
                // which the core checked): the handshake starts on the same socket.
                Event::StartTls => self.transport.start_tls(self.tls.as_ref())?,
                event => self.queries.on_event(&mut self.core, event, out)?,
            }
        }
        // 3. Drain the output.
        self.core.transmit_into(&mut self.outgoing);
        self.transport.write_available(&mut self.outgoing)?;
        if !open && !self.queries.finished {
            // The end of the stream is reported only now: the same read may have brought
            // the server's last messages (a FATAL error), which step 2 handled. The core
            // then reports the end as an error.
            self.core.handle_eof();
            self.core.poll_event()?;
            return Err(pgproto_core::Error::Closed.into());
        }
        Ok(())
    }
}

/// Which protocol the queries run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// Query (several statements allowed).
    Simple,
    /// Parse, Bind, Describe, Execute, Sync (one statement; text results).
    Extended,
}

/// The application side of a client connection: runs its queries one after another
/// and prints each result, reacting to the core's events. It never touches the socket.
pub(crate) struct QueryRunner {
    label: String,
    protocol: Protocol,
    queries: VecDeque<String>,
    /// How many queries were sent.
    sent: u64,
    /// The running query: the request that ends it, its results, when it was sent.
    running: Option<(RequestId, ResultCollector, Instant)>,
    /// Terminate was queued: the core is closed, ask it for no more events.
    pub(crate) finished: bool,
}

impl QueryRunner {
    /// Runs `queries`; output lines start with `label`.
    pub(crate) fn new(label: String, protocol: Protocol, queries: &[String]) -> Self {
        Self {
            label,
            protocol,
            queries: queries.iter().cloned().collect(),
            sent: 0,
            running: None,
            finished: false,
        }
    }

    /// The running query's number (counting from 1) and when it was sent.
    pub(crate) fn running(&self) -> Option<(u64, Instant)> {
        self.running
            .as_ref()
            .map(|(_, _, sent_at)| (self.sent, *sent_at))
    }

    /// Reacts to one event: after Ready and after each completed query, the next query
    /// (or Terminate) is queued in `core`.
    pub(crate) fn on_event(
        &mut self,
        core: &mut Client,
        event: Event,
        out: &mut dyn Write,
    ) -> Result<(), Error> {
        match event {
            Event::Ready => self.next_query(core)?,
            Event::Response {
                request,
                response,
                complete,
            } => {
                let Some((last, results, _)) = self.running.as_mut() else {
                    return Ok(());
                };
                results.push(response);
                if complete && request == *last {
                    if let Some((_, results, _)) = self.running.take() {
                        print_results(out, &self.label, results.finish())?;
                    }
                    self.next_query(core)?;
                }
            }
            Event::Notice(notice) => writeln!(out, "{}: NOTICE: {}", self.label, notice.message)?,
            // Authenticated, ParameterStatus, Notification, ProtocolNegotiated...
            _ => {}
        }
        Ok(())
    }

    fn next_query(&mut self, core: &mut Client) -> Result<(), Error> {
        let Some(sql) = self.queries.pop_front() else {
            core.terminate();
            self.finished = true;
            return Ok(());
        };
        let last = match self.protocol {
            Protocol::Simple => core.query(&sql)?,
            // The last request (Sync) ends the sequence.
            Protocol::Extended => {
                core.query_raw(&sql, &[], &[], Format::Text, Format::Text)?
                    .1
            }
        };
        self.sent += 1;
        self.running = Some((last, ResultCollector::new(None), Instant::now()));
        Ok(())
    }
}

/// The core configuration, the server address and the TLS configuration (when
/// `sslmode` asks for TLS) for `conninfo`: a libpq URL or `key=value` string, completed
/// from the `PG*` environment variables and the password file, as libpq does. The first
/// host is used, over TCP.
pub(crate) fn client_config(
    conninfo: &str,
) -> Result<(Config, SocketAddr, Option<TlsSetup>), Error> {
    let info = conninfo_from_env(conninfo)?;
    let (host, port) = info
        .hosts
        .first()
        .cloned()
        .unwrap_or_else(|| ("localhost".to_string(), pgproto_core::client::DEFAULT_PORT));
    if host.starts_with('/') {
        return Err(Error::application("Unix sockets (this example uses TCP)"));
    }
    let info = with_passfile_password(&info, &host, port);
    // libpq's sslmode semantics, ALPN `postgresql`, sslrootcert, client certificates.
    let tls = match pgproto_tls::client_config_for(&info)? {
        Some(config) => Some((config, pgproto_tls::server_name(&host)?)),
        None => None,
    };
    let addr = (host.as_str(), port)
        .to_socket_addrs()?
        .next()
        .ok_or(Error::NoHost)?;
    Ok((info.config, addr, tls))
}

/// Prints one operation's outcome, each line prefixed with `label`: for every result
/// set its rows (values separated by `|`, NULL as nothing, as `psql -At`) and its
/// command tag; or the server's error.
pub(crate) fn print_results(
    out: &mut dyn Write,
    label: &str,
    results: Result<Vec<ResultSet>, Box<DbError>>,
) -> io::Result<()> {
    match results {
        Ok(sets) => {
            for set in sets {
                for row in &set.rows {
                    let values: Vec<String> = row
                        .values()
                        .map(|v| String::from_utf8_lossy(v.unwrap_or_default()).into_owned())
                        .collect();
                    writeln!(out, "{label}: {}", values.join("|"))?;
                }
                let tag = set.tag.as_ref().map_or("(empty query)", |t| t.as_str());
                writeln!(out, "{label}: {tag}")?;
            }
        }
        Err(e) => writeln!(out, "{label}: ERROR {}: {}", e.code, e.message)?,
    }
    Ok(())
}

/// Reads everything the socket has now, handing each chunk to `input`, until it would
/// block. Returns `false` at end of stream.
///
/// With edge-triggered readiness (mio) reading until `WouldBlock` is required: no new
/// event comes for bytes already waiting.
pub(crate) fn read_available(
    socket: &mut impl Read,
    mut input: impl FnMut(&[u8]),
) -> io::Result<bool> {
    loop {
        match read_once(socket, &mut input)? {
            ReadOutcome::Data => {}
            ReadOutcome::Empty => return Ok(true),
            ReadOutcome::End => return Ok(false),
        }
    }
}

/// The TLS configuration and the server name to verify.
pub(crate) type TlsSetup = (Arc<ClientConfig>, ServerName<'static>);

/// A client's non-blocking socket, plain or, once [`Transport::start_tls`] was called,
/// carrying a rustls session. The core only ever sees the plaintext.
pub(crate) struct Transport<S> {
    pub(crate) socket: S,
    tls: Option<ClientConnection>,
}

fn tls_error(e: impl std::fmt::Display) -> Error {
    Error::Tls(e.to_string().into())
}

impl<S: Read + Write> Transport<S> {
    pub(crate) fn new(socket: S) -> Self {
        Self { socket, tls: None }
    }

    /// Starts the TLS handshake; it proceeds in the next reads and writes.
    pub(crate) fn start_tls(&mut self, tls: Option<&TlsSetup>) -> Result<(), Error> {
        let (config, name) = tls.ok_or(Error::TlsNotConfigured)?;
        let connection = ClientConnection::new(config.clone(), name.clone()).map_err(tls_error)?;
        self.tls = Some(connection);
        Ok(())
    }

    /// The server certificate's `tls-server-end-point` hash once the handshake is
    /// complete (the outer `None` while it runs or without TLS).
    pub(crate) fn handshake_done(&self) -> Option<Option<Vec<u8>>> {
        let tls = self.tls.as_ref().filter(|t| !t.is_handshaking())?;
        Some(pgproto_tls::channel_binding(
            tls.peer_certificates().and_then(|c| c.first()),
        ))
    }

    /// Reads everything available, handing the plaintext to `input`. Returns `false` at
    /// end of stream.
    pub(crate) fn read_available(&mut self, mut input: impl FnMut(&[u8])) -> Result<bool, Error> {
        let Some(tls) = self.tls.as_mut() else {
            return Ok(read_available(&mut self.socket, input)?);
        };
        loop {
            // TLS records from the socket...
            let stop = match tls.read_tls(&mut self.socket) {
                Ok(0) => Some(false), // end of stream
                Ok(_) => None,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Some(true),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            // ...decrypted (handshake messages are handled inside rustls)...
            let state = tls.process_new_packets().map_err(tls_error)?;
            // ...and the plaintext to the core.
            let mut plaintext = vec![0u8; state.plaintext_bytes_to_read()];
            if !plaintext.is_empty() {
                tls.reader().read_exact(&mut plaintext)?;
                input(&plaintext);
            }
            if state.peer_has_closed() {
                return Ok(false);
            }
            if let Some(open) = stop {
                return Ok(open);
            }
        }
    }

    /// Writes `outgoing` (plaintext) as far as the socket takes it: into the TLS session
    /// and its records out, or straight to a plain socket.
    pub(crate) fn write_available(&mut self, outgoing: &mut BytesMut) -> Result<(), Error> {
        let Some(tls) = self.tls.as_mut() else {
            return Ok(write_available(&mut self.socket, outgoing)?);
        };
        if !outgoing.is_empty() && !tls.is_handshaking() {
            // rustls buffers the plaintext; its records go out below.
            tls.writer().write_all(outgoing)?;
            outgoing.clear();
        }
        while tls.wants_write() {
            match tls.write_tls(&mut self.socket) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}
