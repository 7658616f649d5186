//! A PostgreSQL client on a `mio` event loop, using nothing of pgproto but the sans-IO
//! core (and `pgproto-tls` for rustls configurations): non-blocking sockets, readiness
//! events, any number of connections on one thread, TLS as `sslmode` asks (after an
//! SSLRequest, or direct with `sslnegotiation=direct`; SCRAM-SHA-256-PLUS), and a
//! per-query timeout that cancels the query on the server.
//!
//! ```sh
//! cargo run -p pgproto-core --example mio_client -- \
//!     "host=127.0.0.1 user=postgres sslmode=disable" "select 1" "select now()" \
//!     --connections 4 --timeout-ms 5000
//! ```
//!
//! Each connection runs the queries in order (simple query protocol, or with
//! `--extended` Parse/Bind/Describe/Execute/Sync) and prints every row as
//! `connN: value|value`, the command tag, or the server's error. A query that runs
//! longer than `--timeout-ms` is cancelled with a CancelRequest sent on a separate
//! connection, as libpq's `PQcancel` does; the server then reports SQLSTATE 57014.
//!
//! This file is the walkthrough of the core crate's guide (`pgproto_core::guide`). On
//! every readiness event of a connection, `common::Connection::turn`
//! (`examples/common/mod.rs`, shared with `nonblocking_client`):
//!
//! 1. reads everything the socket has into the core ([`Client::handle_input`]); once a
//!    TLS handshake completes, reports it ([`Client::handle_tls_established`]);
//! 2. drains [`Client::poll_event`] until it returns `Ok(None)`: `StartTls` starts the
//!    handshake (`common::Transport`), the application (`common::QueryRunner`) reacts to
//!    the other events with commands (`query`);
//! 3. takes what the core queued ([`Client::transmit_into`]) and writes as much as the
//!    socket accepts; the rest waits for the next writable event. At the end of the
//!    stream, and only then, reports it ([`Client::handle_eof`]).
//!
//! Step 3 comes after every step 2, whatever the events were: the core answers some
//! input by itself (the authentication exchange), and that answer must go out before
//! the server sends anything more. This file adds what is mio's: registering sockets,
//! the non-blocking connect, the poll timeout from the query deadlines, and the cancel
//! connections (plain TCP: PostgreSQL accepts CancelRequest without TLS).

mod common;
mod nonblocking_io;

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
pub(crate) use common::Protocol;
use common::QueryRunner;
use common::TlsSetup;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use nonblocking_io::write_available;
use pgproto_core::adapter::Error;
use pgproto_core::client::Config;

/// What to run.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// libpq connection string or URL.
    pub(crate) conninfo: String,
    /// Queries each connection runs, in order.
    pub(crate) queries: Vec<String>,
    /// How many connections run them concurrently.
    pub(crate) connections: usize,
    /// Cancel a query that runs longer than this.
    pub(crate) timeout: Option<Duration>,
    /// The simple (default) or the extended query protocol (`--extended`).
    pub(crate) protocol: Protocol,
}

impl Options {
    fn parse(args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut args = args.peekable();
        let mut options = Self {
            conninfo: args
                .next()
                .ok_or("usage: mio_client CONNINFO QUERY... [--connections N] [--timeout-ms MS] [--extended]")?,
            queries: Vec::new(),
            connections: 1,
            timeout: None,
            protocol: Protocol::Simple,
        };
        while let Some(arg) = args.next() {
            let mut number = || -> Result<u64, String> {
                let v = args.next().ok_or(format!("{arg} needs a value"))?;
                v.parse().map_err(|e| format!("{arg} {v}: {e}"))
            };
            match arg.as_str() {
                "--connections" => {
                    options.connections = usize::try_from(number()?).map_err(|e| e.to_string())?
                }
                "--timeout-ms" => options.timeout = Some(Duration::from_millis(number()?)),
                "--extended" => options.protocol = Protocol::Extended,
                _ => options.queries.push(arg),
            }
        }
        Ok(options)
    }
}

/// One connection in the loop: the socket, TLS, core and application
/// (`common::Connection`), and what is mio's.
struct Connection {
    label: String,
    inner: common::Connection<TcpStream>,
    /// Whether the non-blocking connect completed.
    connected: bool,
    /// The number of the query a CancelRequest was sent for.
    cancelled: Option<u64>,
}

/// A CancelRequest on its own short-lived connection.
struct CancelRequest {
    socket: TcpStream,
    outgoing: BytesMut,
}

/// Tokens at and above this one are cancel connections.
const FIRST_CANCEL_TOKEN: usize = 1 << 20;

/// Runs `options`, printing results to `out`. Returns whether every connection
/// completed (errors of individual queries are results, not failures).
pub(crate) fn run(options: &Options, out: &mut dyn Write) -> Result<bool, Error> {
    let (config, addr, tls) = common::client_config(&options.conninfo)?;
    let mut poll = Poll::new()?;
    let mut connections = HashMap::new();
    for i in 0..options.connections {
        let mut connection = Connection::open(i, &config, addr, tls.as_ref(), options)?;
        // Edge-triggered interest in both directions, registered once: a readable event
        // means "read until WouldBlock", a writable one "write until WouldBlock".
        poll.registry().register(
            &mut connection.inner.transport.socket,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        connections.insert(Token(i), connection);
    }
    let mut cancels: HashMap<Token, CancelRequest> = HashMap::new();
    let mut next_cancel = FIRST_CANCEL_TOKEN;
    let mut all_ok = true;
    let mut events = Events::with_capacity(256);

    while !connections.is_empty() || !cancels.is_empty() {
        // Timeouts are the caller's: the core has no clock. Sleep until the earliest
        // deadline of a query not cancelled yet, at most.
        let deadline = |c: &Connection| {
            let (query, sent_at) = c.inner.queries.running()?;
            (c.cancelled != Some(query)).then_some(sent_at + options.timeout?)
        };
        let now = Instant::now();
        let timeout = connections
            .values()
            .filter_map(deadline)
            .min()
            .map(|deadline| deadline.saturating_duration_since(now));
        match poll.poll(&mut events, timeout) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => other?,
        }

        for event in &events {
            let token = event.token();
            if let Some(cancel) = cancels.get_mut(&token) {
                // Send the packet, then close: the server answers nothing.
                let done = write_available(&mut cancel.socket, &mut cancel.outgoing)
                    .map_or(true, |()| cancel.outgoing.is_empty());
                if done {
                    cancels.remove(&token);
                }
                continue;
            }
            let Some(connection) = connections.get_mut(&token) else {
                continue;
            };
            match connection.on_ready(out) {
                Ok(true) => {}
                Ok(false) => {
                    connections.remove(&token);
                }
                Err(e) => {
                    writeln!(out, "{}: connection failed: {e}", connection.label)?;
                    all_ok = false;
                    connections.remove(&token);
                }
            }
        }

        // Queries past their deadline: cancel each on a new connection.
        let now = Instant::now();
        for connection in connections.values_mut() {
            if !deadline(connection).is_some_and(|d| d <= now) {
                continue;
            }
            let (Some(token), Some((query, _))) = (
                connection.inner.core.cancel_token(),
                connection.inner.queries.running(),
            ) else {
                continue;
            };
            let mut outgoing = BytesMut::new();
            token
                .encode(&mut outgoing)
                .map_err(pgproto_core::Error::from)?;
            let mut socket = TcpStream::connect(addr)?;
            let cancel_token = Token(next_cancel);
            next_cancel += 1;
            poll.registry()
                .register(&mut socket, cancel_token, Interest::WRITABLE)?;
            cancels.insert(cancel_token, CancelRequest { socket, outgoing });
            connection.cancelled = Some(query);
        }
    }
    Ok(all_ok)
}

impl Connection {
    fn open(
        index: usize,
        config: &Config,
        addr: SocketAddr,
        tls: Option<&TlsSetup>,
        options: &Options,
    ) -> Result<Self, Error> {
        let socket = TcpStream::connect(addr)?;
        socket.set_nodelay(true)?;
        let label = format!("conn{index}");
        let queries = QueryRunner::new(label.clone(), options.protocol, &options.queries);
        Ok(Self {
            label,
            // What the core queues goes out when the socket is connected (the first
            // writable event).
            inner: common::Connection::new(socket, config.clone(), tls.cloned(), queries)?,
            connected: false,
            cancelled: None,
        })
    }

    /// Handles a readiness event. `Ok(false)` when the connection is over.
    fn on_ready(&mut self, out: &mut dyn Write) -> Result<bool, Error> {
        if !self.connected {
            // A non-blocking connect completes (or fails) with the first event.
            if let Some(e) = self.inner.transport.socket.take_error()? {
                return Err(e.into());
            }
            match self.inner.transport.socket.peer_addr() {
                Ok(_) => self.connected = true,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(true),
                Err(e) => return Err(e.into()),
            }
        }
        // Read until WouldBlock, handle the events, write until WouldBlock: on a
        // writable event the read finds nothing, on a readable one the write may have
        // nothing to do; both are cheap, and the core may have queued output either way.
        self.inner.turn(out)?;
        Ok(!self.inner.is_done())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = Options::parse(std::env::args().skip(1))?;
    let ok = run(&options, &mut io::stdout().lock())?;
    if !ok {
        std::process::exit(1);
    }
    Ok(())
}
