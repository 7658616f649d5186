//! What the two client examples share: turning a connection string into a core
//! [`Config`] and an address, running a list of queries one after another, and printing
//! results the way `psql -At` does.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Instant;

use bytes::BytesMut;
use pgproto_core::adapter::{conninfo_from_env, with_passfile_password, Error};
use pgproto_core::client::{Client, Config, Event, RequestId, ResultCollector, ResultSet, SslMode};
use pgproto_core::db_error::DbError;
use pgproto_core::message::Format;

use super::nonblocking_io::{read_available, write_available};

/// One turn of a client connection's loop, on a non-blocking socket (mio's or
/// `std::net`'s), never waiting:
///
/// 1. feed the core everything the socket has (or its end);
/// 2. drain the core's events, the application reacting with commands;
/// 3. drain the core's output and write what the socket takes, the rest kept in
///    `outgoing`. This comes after every drain of events, whatever they were: the core
///    answers some input by itself (authentication) without an event.
pub(crate) fn turn(
    socket: &mut (impl Read + Write),
    core: &mut Client,
    outgoing: &mut BytesMut,
    queries: &mut QueryRunner,
    out: &mut dyn Write,
) -> Result<(), Error> {
    // 1. Feed.
    if !read_available(socket, |data| core.handle_input(data))? {
        core.handle_eof();
    }
    // 2. Drain the events. After Terminate the core is closed: ask it for nothing more.
    while !queries.finished {
        let Some(event) = core.poll_event()? else {
            break;
        };
        queries.on_event(core, event, out)?;
    }
    // 3. Drain the output.
    core.transmit_into(outgoing);
    write_available(socket, outgoing)?;
    Ok(())
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
            Event::StartTls => return Err(Error::Unsupported("TLS in this example")),
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
            // Authenticated, ParameterStatus, Notification, ProtocolNegotiated.
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

/// The core configuration and the server address for `conninfo` (a libpq URL or
/// `key=value` string, completed from the `PG*` environment variables and the password
/// file, as libpq does). The examples speak plain TCP only: `sslmode=require` and
/// stricter are refused, and `prefer` falls back to plain text.
pub(crate) fn client_config(conninfo: &str) -> Result<(Config, SocketAddr), Error> {
    let info = conninfo_from_env(conninfo)?;
    let (host, port) = info
        .hosts
        .first()
        .cloned()
        .unwrap_or_else(|| ("localhost".to_string(), pgproto_core::client::DEFAULT_PORT));
    if host.starts_with('/') {
        return Err(Error::Unsupported("Unix sockets (this example uses TCP)"));
    }
    let info = with_passfile_password(&info, &host, port);
    let mut config = info.config;
    if config.ssl_mode.requires_tls() {
        return Err(Error::Unsupported("TLS (this example speaks plain TCP)"));
    }
    config.ssl_mode = SslMode::Disable;
    let addr = (host.as_str(), port)
        .to_socket_addrs()?
        .next()
        .ok_or(Error::Unsupported("a host name without addresses"))?;
    Ok((config, addr))
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
