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

use bytes::BytesMut;
pub(crate) use common::Protocol;
use common::QueryRunner;
use common::{TlsSetup, Transport};
use pgproto_core::adapter::Error;
use pgproto_core::client::{Client, Phase};

/// A connection that runs a list of queries, one tick at a time.
pub(crate) struct Connection {
    /// The socket, and its TLS session once started.
    transport: Transport<TcpStream>,
    tls: Option<TlsSetup>,
    core: Client,
    /// Bytes the socket did not take yet.
    outgoing: BytesMut,
    queries: QueryRunner,
}

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
            queries: QueryRunner::new("nb".into(), protocol, queries),
        })
    }

    /// Whether everything was sent after Terminate.
    pub(crate) fn is_done(&self) -> bool {
        self.queries.finished && self.outgoing.is_empty()
    }

    /// One turn: read what has arrived, handle the events, write what is queued. Never
    /// blocks.
    pub(crate) fn tick(&mut self, out: &mut dyn Write) -> Result<(), Error> {
        common::turn(
            &mut self.transport,
            self.tls.as_ref(),
            &mut self.core,
            &mut self.outgoing,
            &mut self.queries,
            out,
        )
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
