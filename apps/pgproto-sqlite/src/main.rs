//! A PostgreSQL-compatible server over an embedded SQLite database: both query
//! protocols, `$n` parameters, text and binary results, transactions with PostgreSQL's
//! status reporting, errors with SQLSTATEs. See `sqlite_server/mod.rs` for the design
//! and its limits.
//!
//! ```sh
//! cargo run -p pgproto-tokio --example sqlite_server -- --listen 127.0.0.1:5433 [--db FILE]
//! psql "host=127.0.0.1 port=5433 user=postgres sslmode=disable" \
//!     -c 'create table t (id integer primary key, name text)' \
//!     -c "insert into t values (1, 'one')" -c 'select * from t'
//! ```
//!
//! Options: `--listen ADDR` (default 127.0.0.1:5433), `--db PATH` (default: in memory),
//! `--auth trust|password|md5|scram-sha-256` with `--user`/`--password`, `--tls-cert PEM`
//! and `--tls-key PEM` to offer TLS (SSLRequest and direct TLS). `SQLITE_SERVER_LOCK_TIMEOUT_MS` sets how long a session waits for
//! another session's open transaction (default 10 s) before failing with 55P03.

#[path = "sqlite_server/mod.rs"]
mod engine;

use pgproto_core::server::{unknown_option, ServerArgs};
use pgproto_tokio::server::{serve, ServerOptions, ServerTls};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut db_path = None;
    let args = ServerArgs::default().parse_with(std::env::args().skip(1), |flag, value| {
        match flag {
            "--db" => db_path = Some(value()?),
            _ => return Err(unknown_option(flag, "options: --db PATH")),
        }
        Ok(())
    })?;
    let mut random = [0u8; 32];
    getrandom::getrandom(&mut random)?;
    let mut options = ServerOptions::new(args.server_auth(&random)?);
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        options = options.with_tls(ServerTls::from_pem(
            &std::fs::read(cert)?,
            &std::fs::read(key)?,
        )?);
    }
    let mut db = engine::Database::open(db_path.as_deref())?;
    if let Ok(ms) = std::env::var("SQLITE_SERVER_LOCK_TIMEOUT_MS") {
        db = db.with_lock_timeout(std::time::Duration::from_millis(ms.parse()?));
    }
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    eprintln!(
        "sqlite_server listening on {} (database: {})",
        listener.local_addr()?,
        db_path.as_deref().unwrap_or(":memory:")
    );
    serve(listener, options, move |startup| db.session(startup)).await?;
    Ok(())
}
