//! A server that answers every query, simple or extended, with one int4 column
//! `?column?` = 1 (`SELECT 1`): the benchmark target for the futures-io adapter. It runs
//! on smol; the same `serve` call runs on async-std with
//! `|session| { async_std::task::spawn(session); }` as the spawner.
//!
//! ```sh
//! cargo run --release -p pgproto-asyncstd --example fixed_server -- --listen 127.0.0.1:5433
//! psql "host=127.0.0.1 port=5433 user=postgres sslmode=disable" -c 'select 1'
//! ```
//!
//! With `--tls-cert server.pem --tls-key server.key` it also offers TLS (after an
//! SSLRequest, and direct TLS with ALPN `postgresql`).
//!
//! Sessions run on smol's global executor, whose thread count is `SMOL_THREADS`
//! (default 1).

use pgproto_asyncstd::server::{serve, Handler};
use pgproto_asyncstd::Error;
use pgproto_core::server::{Server, ServerEvent};
use pgproto_core::testing::fixed_answer;
use pgproto_tls::ServerArgs;

struct Fixed;

impl Handler for Fixed {
    async fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error> {
        Ok(fixed_answer(server, event)?)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ServerArgs::parse(std::env::args().skip(1))?;
    let mut random = [0u8; 32];
    getrandom::getrandom(&mut random)?;
    let options = args.server_options(&random)?;
    smol::block_on(async {
        let listener = async_net::TcpListener::bind(&args.listen).await?;
        eprintln!("fixed_server listening on {}", listener.local_addr()?);
        serve(
            listener,
            options,
            |_| Fixed,
            |session| {
                smol::spawn(session).detach();
            },
        )
        .await?;
        Ok(())
    })
}
