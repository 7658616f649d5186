//! The smallest loop that drives the core client: a non-blocking
//! `std::net::TcpStream`, no poller, no runtime. Each turn of the loop (a "tick", as in
//! a game loop) moves whatever bytes can move without waiting, handles the events they
//! produced, and returns; the program does its other work between ticks.
//!
//! ```sh
//! cargo run -p pgproto-core --example nonblocking_client -- \
//!     "host=127.0.0.1 user=postgres sslmode=disable" "select 1" "select now()"
//! ```
//!
//! The queries run one after another with the extended query protocol (Parse, Bind,
//! Describe, Execute, Sync; results in text); rows are printed as `psql -At` prints
//! them, each line prefixed with `nb`.

mod common;

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use pgproto_core::adapter::Error;
use pgproto_core::client::{Client, Event, RequestId, ResultCollector};
use pgproto_core::message::Format;

/// A connection that runs a list of queries, one tick at a time.
pub(crate) struct Connection {
    socket: TcpStream,
    core: Client,
    /// Bytes the socket did not take yet.
    outgoing: BytesMut,
    queries: VecDeque<String>,
    /// The last request of the running query and its results.
    running: Option<(RequestId, ResultCollector)>,
    /// Terminate was queued.
    finished: bool,
}

impl Connection {
    /// Connects (a blocking connect, then non-blocking I/O) and queues the startup.
    pub(crate) fn connect(conninfo: &str, queries: &[String]) -> Result<Self, Error> {
        let (config, addr) = common::client_config(conninfo)?;
        let socket = TcpStream::connect(addr)?;
        socket.set_nonblocking(true)?;
        socket.set_nodelay(true)?;
        let mut nonce = [0u8; 24];
        getrandom::getrandom(&mut nonce).map_err(|e| Error::Io(e.into()))?;
        Ok(Self {
            socket,
            core: Client::new(config, &nonce),
            outgoing: BytesMut::new(),
            queries: queries.iter().cloned().collect(),
            running: None,
            finished: false,
        })
    }

    /// Whether everything was sent after Terminate.
    pub(crate) fn is_done(&self) -> bool {
        self.finished && self.outgoing.is_empty()
    }

    /// One turn: read what has arrived, handle the events, write what is queued. Never
    /// blocks.
    pub(crate) fn tick(&mut self, out: &mut dyn Write) -> Result<(), Error> {
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
                    let Some((last, results)) = self.running.as_mut() else {
                        continue;
                    };
                    results.push(response);
                    if complete && request == *last {
                        if let Some((_, results)) = self.running.take() {
                            common::print_results(out, "nb", results.finish())?;
                        }
                        self.next_query()?;
                    }
                }
                _ => {}
            }
        }
        // Whatever the events produced goes out, including what the core answered by
        // itself (authentication), before the next read.
        self.core.transmit_into(&mut self.outgoing);
        while !self.outgoing.is_empty() {
            match self.socket.write(&self.outgoing) {
                Ok(0) => return Err(Error::Io(io::ErrorKind::WriteZero.into())),
                Ok(n) => self.outgoing.advance(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn next_query(&mut self) -> Result<(), Error> {
        match self.queries.pop_front() {
            Some(sql) => {
                // Parse, Bind, Describe, Execute, Sync: the last request (Sync) ends it.
                let (_, last) = self
                    .core
                    .query_raw(&sql, &[], &[], Format::Text, Format::Text)?;
                self.running = Some((last, ResultCollector::new(None)));
            }
            None => {
                self.core.terminate();
                self.finished = true;
            }
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let conninfo = args
        .next()
        .ok_or("usage: nonblocking_client CONNINFO QUERY...")?;
    let queries: Vec<String> = args.collect();
    let mut connection = Connection::connect(&conninfo, &queries)?;
    let mut stdout = io::stdout().lock();
    while !connection.is_done() {
        connection.tick(&mut stdout)?;
        // The rest of the program's work would go here; this one just waits a little.
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}
