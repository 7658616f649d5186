//! A server that answers every query, simple or extended, with one int4 column
//! `?column?` = 1 (`SELECT 1`): the benchmark target for the blocking adapter.
//!
//! ```sh
//! cargo run --release -p pgproto-blocking --example fixed_server -- --listen 127.0.0.1:5433
//! ```
//!
//! With `--tls-cert server.pem --tls-key server.key` it also offers TLS (after an
//! SSLRequest, and direct TLS with ALPN `postgresql`).

use pgproto_blocking::server::{serve, Handler};
use pgproto_blocking::Error;
use pgproto_core::server::{Server, ServerEvent};
use pgproto_core::testing::fixed_answer;
use pgproto_tls::ServerArgs;

struct Fixed;

impl Handler for Fixed {
    fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error> {
        Ok(fixed_answer(server, event)?)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ServerArgs::parse(std::env::args().skip(1))?;
    let mut random = [0u8; 32];
    getrandom::getrandom(&mut random)?;
    let options = args.server_options(&random)?;
    let listener = std::net::TcpListener::bind(&args.listen)?;
    eprintln!("fixed_server listening on {}", listener.local_addr()?);
    serve(listener, options, |_| Fixed)?;
    Ok(())
}
