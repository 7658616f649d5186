//! The `pgproto-proxy` command line.

use pgproto_core::server::AuthKind;
use pgproto_tls::{unknown_option, ServerArgs};

/// The options of the `pgproto-proxy` program: `--upstream URL` (required), the options
/// every pgproto server takes ([`ServerArgs`], with other defaults: `--listen`
/// `127.0.0.1:6432`, `--auth scram-sha-256`, and no password, which every method but
/// `trust` requires), and `--threads N`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// Where to listen, whom to let in, TLS.
    pub server: ServerArgs,
    /// The upstream server: a libpq URL or `key=value` string, completed from `PG*`
    /// variables and the password file when connecting.
    pub upstream: String,
    /// Threads serving connections, each a single-threaded runtime (default: one per
    /// CPU).
    pub threads: Option<usize>,
}

impl Args {
    /// The usage message.
    pub const USAGE: &'static str = "usage: pgproto-proxy --upstream URL [--listen ADDR] \
[--auth trust|password|md5|scram-sha-256] [--user U] [--password P] \
[--tls-cert PEM --tls-key PEM] [--threads N]";

    /// Parses `args` (without the program name); `--help` returns the usage as the
    /// error.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let defaults = ServerArgs {
            listen: "127.0.0.1:6432".into(),
            auth: AuthKind::ScramSha256,
            password: String::new(),
            ..ServerArgs::default()
        };
        let (mut upstream, mut threads) = (String::new(), None);
        let server = defaults.parse_with(args, |flag, value| {
            match flag {
                "--upstream" => upstream = value()?,
                "--threads" => {
                    threads = Some(value()?.parse().map_err(|e| format!("--threads: {e}"))?)
                }
                _ => return Err(unknown_option(flag, Self::USAGE)),
            }
            Ok(())
        })?;
        if upstream.is_empty() {
            return Err(format!("--upstream is required\n{}", Self::USAGE));
        }
        if server.auth != AuthKind::Trust && server.password.is_empty() {
            return Err(format!("--auth {:?} needs --password", server.auth));
        }
        Ok(Self {
            server,
            upstream,
            threads,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        Args::parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn defaults_and_checks() {
        let args = parse(&["--upstream", "postgres://u@h/d", "--password", "p"]).unwrap();
        assert_eq!(args.server.listen, "127.0.0.1:6432");
        assert_eq!(args.server.auth, AuthKind::ScramSha256);
        assert_eq!(args.server.user, "postgres");
        assert_eq!(args.threads, None);
        assert!(parse(&[])
            .unwrap_err()
            .starts_with("--upstream is required"));
        assert!(parse(&["--upstream", "x"])
            .unwrap_err()
            .contains("needs --password"));
        let args = parse(&["--upstream", "x", "--auth", "trust", "--threads", "3"]).unwrap();
        assert_eq!(args.threads, Some(3));
        assert!(parse(&["--upstream", "x", "--threads", "many"]).is_err());
        assert_eq!(parse(&["-h"]).unwrap_err(), Args::USAGE);
    }
}
