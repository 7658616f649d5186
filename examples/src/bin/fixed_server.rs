//! A server that answers every query, simple or extended, with one int4 column
//! `?column?` = 1 (`SELECT 1`), on the adapter named by the first argument: `tokio`,
//! `asyncstd` (on smol) or `blocking`. The benchmark target for the adapters' servers.
//!
//! ```sh
//! cargo run --release -p pgproto-examples --bin fixed_server -- tokio --listen 127.0.0.1:5433
//! psql "host=127.0.0.1 port=5433 user=postgres sslmode=disable" -c 'select 1'
//! ```
//!
//! With `--tls-cert server.pem --tls-key server.key` it also offers TLS (after an
//! SSLRequest, and direct TLS with ALPN `postgresql`). The handler is the same for
//! every adapter (the blocking one is a plain `fn`); only the listener and the `serve`
//! call differ.

use pgproto_core::server::{Server, ServerEvent};
use pgproto_core::testing::fixed_answer;
use pgproto_tls::{ServerArgs, ServerOptions};

/// The application: one fixed answer to every query.
struct Fixed;

/// The async handler, for tokio and for async-std or smol (the same trait).
impl pgproto_tokio::server::Handler for Fixed {
    async fn handle(
        &mut self,
        server: &mut Server,
        event: ServerEvent,
    ) -> Result<(), pgproto_tokio::Error> {
        Ok(fixed_answer(server, event)?)
    }
}

/// The blocking handler: called on the session's thread.
impl pgproto_blocking::server::Handler for Fixed {
    fn handle(
        &mut self,
        server: &mut Server,
        event: ServerEvent,
    ) -> Result<(), pgproto_blocking::Error> {
        Ok(fixed_answer(server, event)?)
    }
}

/// Serves on tokio: one task per connection on a multi-threaded runtime.
fn on_tokio(args: &ServerArgs, options: ServerOptions) -> std::io::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.listen).await?;
        eprintln!("fixed_server listening on {}", listener.local_addr()?);
        pgproto_tokio::server::serve(listener, options, |_| Fixed).await
    })
}

/// Serves on smol's global executor (threads: `SMOL_THREADS`, default 1). On async-std
/// the spawner is `|session| { async_std::task::spawn(session); }`.
fn on_smol(args: &ServerArgs, options: ServerOptions) -> std::io::Result<()> {
    smol::block_on(async {
        let listener = async_net::TcpListener::bind(&args.listen).await?;
        eprintln!("fixed_server listening on {}", listener.local_addr()?);
        let spawn = |session| smol::spawn(session).detach();
        pgproto_asyncstd::server::serve(listener, options, |_| Fixed, spawn).await
    })
}

/// Serves on plain threads: one per connection.
fn on_threads(args: &ServerArgs, options: ServerOptions) -> std::io::Result<()> {
    let listener = std::net::TcpListener::bind(&args.listen)?;
    eprintln!("fixed_server listening on {}", listener.local_addr()?);
    pgproto_blocking::server::serve(listener, options, |_| Fixed)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut argv = std::env::args().skip(1);
    let adapter = argv.next().unwrap_or_default();
    let args = ServerArgs::parse(argv)?;
    let mut random = [0u8; 32];
    getrandom::getrandom(&mut random)?;
    let options = args.server_options(&random)?;
    match adapter.as_str() {
        "tokio" => on_tokio(&args, options)?,
        "asyncstd" => on_smol(&args, options)?,
        "blocking" => on_threads(&args, options)?,
        _ => {
            return Err(format!(
                "usage: fixed_server tokio|asyncstd|blocking [{}]",
                ServerArgs::USAGE
            )
            .into())
        }
    }
    Ok(())
}
