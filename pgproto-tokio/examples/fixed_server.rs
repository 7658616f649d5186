//! A server that answers every query, simple or extended, with one int4 column
//! `?column?` = 1 (`SELECT 1`): the benchmark target for the tokio adapter.
//!
//! ```sh
//! cargo run --release -p pgproto-tokio --example fixed_server -- --listen 127.0.0.1:5433
//! psql "host=127.0.0.1 port=5433 user=postgres sslmode=disable" -c 'select 1'
//! ```

use pgproto_core::server::{Server, ServerEvent};
use pgproto_core::testing::fixed_answer;
use pgproto_tls::ServerArgs;
use pgproto_tokio::server::{serve, Handler};
use pgproto_tokio::Error;

struct Fixed;

impl Handler for Fixed {
    async fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error> {
        Ok(fixed_answer(server, event)?)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ServerArgs::parse(std::env::args().skip(1))?;
    let mut random = [0u8; 32];
    getrandom::getrandom(&mut random)?;
    let options = args.server_options(&random)?;
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    eprintln!("fixed_server listening on {}", listener.local_addr()?);
    serve(listener, options, |_| Fixed).await?;
    Ok(())
}
