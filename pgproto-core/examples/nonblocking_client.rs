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
//! TLS works as in `mio_client` (`sslmode`, `sslnegotiation=direct`), inside the same
//! ticks. The queries run one after another with the extended query protocol (Parse, Bind,
//! Describe, Execute, Sync; results in text), or with `--simple` the simple one. Rows
//! are printed as `psql -At` prints them, each line prefixed with `nb`.

// The query timeout in `common` is mio_client's.
#[allow(dead_code)]
mod common;
mod nonblocking_io;

use std::io::{self, Write};
use std::net::TcpStream;
use std::time::Duration;

pub(crate) use common::Protocol;
use common::QueryRunner;
use pgproto_core::adapter::Error;

/// A connection that runs a list of queries, one tick at a time.
pub(crate) struct Connection(common::Connection<TcpStream>);

impl Connection {
    /// Connects (a blocking connect, then non-blocking I/O) and queues the startup.
    pub(crate) fn connect(
        conninfo: &str,
        protocol: Protocol,
        queries: &[String],
    ) -> Result<Self, Error> {
        let (config, addr, tls) = common::client_config(conninfo)?;
        let socket = TcpStream::connect(addr)?;
        socket.set_nonblocking(true)?;
        socket.set_nodelay(true)?;
        let queries = QueryRunner::new("nb".into(), protocol, queries);
        Ok(Self(common::Connection::new(socket, config, tls, queries)?))
    }

    /// Whether everything was sent after Terminate.
    pub(crate) fn is_done(&self) -> bool {
        self.0.is_done()
    }

    /// One turn: read what has arrived, handle the events, write what is queued. Never
    /// blocks.
    pub(crate) fn tick(&mut self, out: &mut dyn Write) -> Result<(), Error> {
        self.0.turn(out)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let conninfo = args
        .next()
        .ok_or("usage: nonblocking_client CONNINFO [--simple] QUERY...")?;
    let mut protocol = Protocol::Extended;
    let mut queries = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--simple" => protocol = Protocol::Simple,
            _ => queries.push(arg),
        }
    }
    let mut connection = Connection::connect(&conninfo, protocol, &queries)?;
    let mut stdout = io::stdout().lock();
    while !connection.is_done() {
        connection.tick(&mut stdout)?;
        // The rest of the program's work would go here; this one just waits a little.
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}
