//! A session-mode PostgreSQL proxy: clients authenticate against the proxy, which opens
//! one upstream connection per client with its own credentials and then relays every
//! message both ways (COPY, LISTEN/NOTIFY, notices, errors), maps cancel requests to the
//! upstream connection, and reports upstream failures to the client as ErrorResponses.
//! See `proxy/mod.rs` for the design.
//!
//! ```sh
//! cargo run --release -p pgproto-tokio --example proxy -- --listen 127.0.0.1:6432 \
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

#[path = "proxy/mod.rs"]
mod engine;

use pgproto_core::server::{AuthKind, ServerAuth};

struct Args {
    listen: String,
    upstream: String,
    auth: AuthKind,
    user: String,
    password: String,
    tls: Option<(String, String)>,
    threads: Option<usize>,
}

const USAGE: &str = "usage: proxy --upstream URL [--listen ADDR] \
[--auth trust|password|md5|scram-sha-256] [--user U] [--password P] \
[--tls-cert PEM --tls-key PEM] [--threads N]";

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut out = Args {
        listen: "127.0.0.1:6432".into(),
        upstream: String::new(),
        auth: AuthKind::ScramSha256,
        user: "postgres".into(),
        password: String::new(),
        tls: None,
        threads: None,
    };
    let (mut cert, mut key) = (None, None);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => out.listen = value()?,
            "--upstream" => out.upstream = value()?,
            "--auth" => out.auth = value()?.parse()?,
            "--user" => out.user = value()?,
            "--password" => out.password = value()?,
            "--tls-cert" => cert = Some(value()?),
            "--tls-key" => key = Some(value()?),
            "--threads" => {
                out.threads = Some(value()?.parse().map_err(|e| format!("--threads: {e}"))?)
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    if out.upstream.is_empty() {
        return Err(format!("--upstream is required\n{USAGE}"));
    }
    if out.auth != AuthKind::Trust && out.password.is_empty() {
        return Err(format!("--auth {:?} needs --password", out.auth));
    }
    out.tls = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    Ok(out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let mut random = [0u8; 32];
    getrandom::getrandom(&mut random)?;
    let (mock_secret, salt) = random.split_at(16);
    let mut auth = ServerAuth::new(args.auth, mock_secret);
    auth.add_user(&args.user, &args.password, salt)?;
    let mut options = engine::Options::new(&args.upstream, auth)?;
    if let Some((cert, key)) = &args.tls {
        options = options.with_tls(&std::fs::read(cert)?, &std::fs::read(key)?)?;
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let listener = std::net::TcpListener::bind(&args.listen)?;
    eprintln!(
        "proxy listening on {} ({threads} thread(s))",
        listener.local_addr()?
    );
    engine::serve_threads(listener, options, threads)?;
    Ok(())
}
