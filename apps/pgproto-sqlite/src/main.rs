//! `pgproto-sqlite`: a PostgreSQL-compatible server over an embedded SQLite database
//! (see the library's documentation for the design and its limits).
//!
//! ```sh
//! cargo run --release -p pgproto-sqlite      # serves ./pgproto-sqlite.db on 127.0.0.1:5433
//! psql "host=127.0.0.1 port=5433 user=postgres sslmode=disable" \
//!     -c 'create table t (id integer primary key, name text)' \
//!     -c "insert into t values (1, 'one')" -c 'select * from t'
//! ```
//!
//! Options: `--listen ADDR` (default 127.0.0.1:5433), `--db PATH` (the database file,
//! created if missing; default `./pgproto-sqlite.db`, so data survives a restart; it is
//! the database `postgres`, and `CREATE DATABASE x` makes `./pgproto-sqlite.databases/x.db`),
//! `--memory` (a throwaway in-memory database instead, shared by all sessions),
//! `--auth trust|password|md5|scram-sha-256` with `--user`/`--password`, `--tls-cert PEM`
//! and `--tls-key PEM` to offer TLS (SSLRequest and direct TLS).
//! `SQLITE_SERVER_LOCK_TIMEOUT_MS` sets how long a session waits for another session's
//! write transaction (default 10 s) when its `lock_timeout` and `statement_timeout` are
//! 0, before failing with 55P03. `SQLITE_SERVER_THREADS` says where SQLite's work runs:
//! `fast` (the default: off the async runtime's workers, except the statements of a
//! session whose last statement was fast), `off` (always off) or `on` (always on the
//! workers: a long statement then holds one).

use pgproto_sqlite::{Args, Database};
use pgproto_tokio::server::serve;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse(std::env::args().skip(1))?;
    let mut random = [0u8; 32];
    getrandom::getrandom(&mut random)?;
    let server = &args.server;
    let options = server.server_options(&random)?;
    let mut db = Database::open(args.db.as_deref())?;
    if let Ok(ms) = std::env::var("SQLITE_SERVER_LOCK_TIMEOUT_MS") {
        db = db.with_lock_timeout(std::time::Duration::from_millis(ms.parse()?));
    }
    if let Ok(v) = std::env::var("SQLITE_SERVER_THREADS") {
        let threads = pgproto_sqlite::SqliteThreads::parse(&v)
            .ok_or_else(|| format!("SQLITE_SERVER_THREADS={v}: off, fast or on"))?;
        db = db.with_sqlite_threads(threads);
    }
    let listener = tokio::net::TcpListener::bind(&server.listen).await?;
    eprintln!(
        "pgproto-sqlite listening on {} (database: {})",
        listener.local_addr()?,
        args.db.as_deref().map_or_else(
            || "in memory, one connection shared by all sessions".to_string(),
            |p| format!("{p}, WAL, a connection per session")
        )
    );
    serve(listener, options, move |startup| db.session(startup)).await?;
    Ok(())
}
