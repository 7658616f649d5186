//! `pgproto-proxy`: a session-mode PostgreSQL proxy. Clients authenticate against the
//! proxy, which opens one upstream connection per client with its own credentials and
//! then relays every message both ways (COPY, LISTEN/NOTIFY, notices, errors), maps
//! cancel requests to the upstream connection, and reports upstream failures to the
//! client as ErrorResponses. See the library's documentation for the design.
//!
//! ```sh
//! cargo run --release -p pgproto-proxy -- --listen 127.0.0.1:6432 \
//!     --upstream 'postgres://app:secret@127.0.0.1:5432/app?sslmode=prefer' \
//!     --auth scram-sha-256 --user alice --password s3cret \
//!     [--tls-cert server.crt --tls-key server.key] [--threads N]
//! psql "host=127.0.0.1 port=6432 user=alice password=s3cret"
//! ```
//!
//! Options: `--listen ADDR` (default 127.0.0.1:6432); `--upstream URL` (required: a libpq
//! URL or `key=value` string, completed from `PG*` variables and the password file);
//! client authentication `--auth trust|password|md5|scram-sha-256` (default
//! scram-sha-256) with `--user`/`--password` (with `trust`, any user name is let in);
//! `--tls-cert PEM --tls-key PEM` to terminate TLS (SSLRequest and direct TLS);
//! `--threads N` threads serving connections, each a single-threaded runtime (default:
//! one per CPU).
//! `PROXY_LOG=1` logs session failures to stderr.

use pgproto_proxy::{serve_threads, Args, Options};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse(std::env::args().skip(1))?;
    let mut random = [0u8; 32];
    getrandom::getrandom(&mut random)?;
    let server = &args.server;
    let mut options = Options::new(&args.upstream, server.server_auth(&random)?)?;
    if let Some((cert, key)) = server.tls_pem()? {
        options = options.with_tls(&cert, &key)?;
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let listener = std::net::TcpListener::bind(&server.listen)?;
    eprintln!(
        "pgproto-proxy listening on {} ({threads} thread(s))",
        listener.local_addr()?
    );
    serve_threads(listener, options, threads)?;
    Ok(())
}
