//! A PostgreSQL client on a `mio` event loop, using nothing of pgproto but the sans-IO
//! core: non-blocking sockets, readiness events, any number of connections on one
//! thread, and a per-query timeout that cancels the query on the server.
//!
//! ```sh
//! cargo run -p pgproto-core --example mio_client -- \
//!     "host=127.0.0.1 user=postgres sslmode=disable" "select 1" "select now()" \
//!     --connections 4 --timeout-ms 5000
//! ```
//!
//! Each connection runs the queries in order (simple query protocol) and prints every
//! row as `connN: value|value`, the command tag, or the server's error. A query that
//! runs longer than `--timeout-ms` is cancelled with a CancelRequest sent on a separate
//! connection, as libpq's `PQcancel` does; the server then reports SQLSTATE 57014.
//!
//! This file is the walkthrough of the core crate's guide (`pgproto_core::guide`). The
//! loop is, for every connection:
//!
//! 1. on a readiness event, read everything the socket has into the core
//!    ([`Client::handle_input`]), or report EOF ([`Client::handle_eof`]);
//! 2. drain [`Client::poll_event`] until it returns `Ok(None)`, issuing commands
//!    (`query`) as events allow;
//! 3. take what the core queued ([`Client::transmit_into`]) and write as much as the
//!    socket accepts; the rest waits for the next writable event.
//!
//! Step 3 comes after every step 2, whatever the events were: the core answers some
//! input by itself (the authentication exchange), and that answer must go out before
//! the server sends anything more.

mod common;

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use pgproto_core::adapter::Error;
use pgproto_core::client::{Client, Config, Event, RequestId, ResultCollector};

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
}

impl Options {
    fn parse(args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut options = Self {
            conninfo: String::new(),
            queries: Vec::new(),
            connections: 1,
            timeout: None,
        };
        let mut args = args.peekable();
        options.conninfo = args
            .next()
            .ok_or("usage: mio_client CONNINFO QUERY... [--connections N] [--timeout-ms MS]")?;
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
                _ => options.queries.push(arg),
            }
        }
        Ok(options)
    }
}

/// The query a connection is waiting for.
struct Running {
    /// The request the core assigned to it.
    request: RequestId,
    /// Its responses so far.
    results: ResultCollector,
    /// When to cancel it.
    deadline: Option<Instant>,
}

/// One connection: the socket, the core state machine, and what the socket has not
/// accepted yet.
struct Connection {
    label: String,
    socket: TcpStream,
    /// Whether the non-blocking connect completed.
    connected: bool,
    core: Client,
    /// Bytes the core produced that the socket did not take yet (socket buffer full).
    outgoing: BytesMut,
    queries: VecDeque<String>,
    /// How long a query may run before it is cancelled.
    timeout: Option<Duration>,
    running: Option<Running>,
    /// A CancelRequest was sent for the running query.
    cancelling: bool,
    /// Terminate was queued: close once `outgoing` is written.
    finished: bool,
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
    let (config, addr) = common::client_config(&options.conninfo)?;
    let mut poll = Poll::new()?;
    let mut connections = HashMap::new();
    for i in 0..options.connections {
        let mut connection = Connection::open(i, &config, addr, options)?;
        // Edge-triggered interest in both directions, registered once: a readable event
        // means "read until WouldBlock", a writable one "write until WouldBlock".
        poll.registry().register(
            &mut connection.socket,
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
        // query deadline at most.
        let now = Instant::now();
        let timeout = connections
            .values()
            .filter(|c| !c.cancelling)
            .filter_map(|c| c.running.as_ref()?.deadline)
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
                let done = write_some(&mut cancel.socket, &mut cancel.outgoing)
                    .map_or(true, |()| cancel.outgoing.is_empty());
                if done {
                    cancels.remove(&token);
                }
                continue;
            }
            let Some(connection) = connections.get_mut(&token) else {
                continue;
            };
            let result = connection.on_ready(event.is_readable(), out);
            match result {
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

        // Queries past their deadline: cancel them on a new connection.
        let now = Instant::now();
        for connection in connections.values_mut() {
            let expired = !connection.cancelling
                && connection
                    .running
                    .as_ref()
                    .and_then(|r| r.deadline)
                    .is_some_and(|d| d <= now);
            let Some(token) = expired.then(|| connection.core.cancel_token()).flatten() else {
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
            connection.cancelling = true;
        }
    }
    Ok(all_ok)
}

impl Connection {
    fn open(
        index: usize,
        config: &Config,
        addr: SocketAddr,
        options: &Options,
    ) -> Result<Self, Error> {
        // Randomness is the caller's too: fresh bytes for the SCRAM nonce.
        let mut nonce = [0u8; 24];
        getrandom::getrandom(&mut nonce).map_err(|e| Error::Io(e.into()))?;
        let socket = TcpStream::connect(addr)?;
        socket.set_nodelay(true)?;
        Ok(Self {
            label: format!("conn{index}"),
            socket,
            connected: false,
            // The StartupMessage is queued at once; it goes out when the socket is
            // connected (the first writable event).
            core: Client::new(config.clone(), &nonce),
            outgoing: BytesMut::new(),
            queries: options.queries.iter().cloned().collect(),
            timeout: options.timeout,
            running: None,
            cancelling: false,
            finished: false,
        })
    }

    /// Handles a readiness event. `Ok(false)` when the connection is over.
    fn on_ready(&mut self, readable: bool, out: &mut dyn Write) -> Result<bool, Error> {
        if !self.connected {
            // A non-blocking connect completes (or fails) with the first event.
            if let Some(e) = self.socket.take_error()? {
                return Err(e.into());
            }
            match self.socket.peer_addr() {
                Ok(_) => self.connected = true,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(true),
                Err(e) => return Err(e.into()),
            }
        }
        if readable {
            // 1. Feed: everything the socket has, until WouldBlock.
            let mut buf = [0u8; 16 * 1024];
            loop {
                match self.socket.read(&mut buf) {
                    Ok(0) => {
                        self.core.handle_eof();
                        break;
                    }
                    Ok(n) => self.core.handle_input(buf.get(..n).unwrap_or_default()),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        // 2. Drain the events.
        // After Terminate the core is closed: stop asking it for events.
        while !self.finished {
            let Some(event) = self.core.poll_event()? else {
                break;
            };
            match event {
                Event::StartTls => return Err(Error::Unsupported("TLS in this example")),
                Event::Ready => self.next_query()?,
                Event::Response {
                    request,
                    response,
                    complete,
                } => {
                    let Some(running) = self.running.as_mut() else {
                        continue;
                    };
                    running.results.push(response);
                    if complete && request == running.request {
                        if let Some(done) = self.running.take() {
                            common::print_results(out, &self.label, done.results.finish())?;
                        }
                        self.cancelling = false;
                        self.next_query()?;
                    }
                }
                Event::Notice(notice) => {
                    writeln!(out, "{}: NOTICE: {}", self.label, notice.message)?;
                }
                // Authenticated, ParameterStatus, Notification, ProtocolNegotiated:
                // nothing to do here.
                _ => {}
            }
        }
        // 3. Drain the output, after every event (readable or writable): the core may
        // have answered the input by itself.
        self.core.transmit_into(&mut self.outgoing);
        write_some(&mut self.socket, &mut self.outgoing)?;
        Ok(!(self.finished && self.outgoing.is_empty()))
    }

    /// Sends the next query, or Terminate when there is none.
    fn next_query(&mut self) -> Result<(), Error> {
        match self.queries.pop_front() {
            Some(sql) => {
                let request = self.core.query(&sql)?;
                self.running = Some(Running {
                    request,
                    results: ResultCollector::new(None),
                    deadline: self.timeout.map(|t| Instant::now() + t),
                });
            }
            None => {
                self.core.terminate();
                self.finished = true;
            }
        }
        Ok(())
    }
}

/// Writes as much of `outgoing` as the socket takes without blocking.
fn write_some(socket: &mut TcpStream, outgoing: &mut BytesMut) -> io::Result<()> {
    while !outgoing.is_empty() {
        match socket.write(outgoing) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => outgoing.advance(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = Options::parse(std::env::args().skip(1))?;
    let ok = run(&options, &mut io::stdout().lock())?;
    if !ok {
        std::process::exit(1);
    }
    Ok(())
}
