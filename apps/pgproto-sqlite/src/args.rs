//! The `pgproto-sqlite` command line.

use pgproto_tls::{unknown_option, ServerArgs};

/// The options of the `pgproto-sqlite` program: the options every pgproto server takes
/// ([`ServerArgs`]: `--listen ADDR`, default `127.0.0.1:5433`;
/// `--auth trust|password|md5|scram-sha-256`, default `trust`, with `--user` and
/// `--password`; `--tls-cert PEM --tls-key PEM`), and where the data lives: `--db PATH`
/// (default [`Args::DEFAULT_DB`]) or `--memory`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// Where to listen, whom to let in, TLS.
    pub server: ServerArgs,
    /// The database file (default [`Args::DEFAULT_DB`]); `None` with `--memory`: a
    /// throwaway in-memory database, shared by all sessions and gone when the server
    /// stops.
    pub db: Option<String>,
}

impl Args {
    /// The database file used when neither `--db` nor `--memory` is given.
    pub const DEFAULT_DB: &'static str = "./pgproto-sqlite.db";

    /// The usage message.
    pub const USAGE: &'static str = "usage: pgproto-sqlite [--listen ADDR] [--db PATH | --memory] \
[--auth trust|password|md5|scram-sha-256] [--user U] [--password P] \
[--tls-cert PEM --tls-key PEM]";

    /// Parses `args` (without the program name); `--help` returns the usage as the
    /// error.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut db = None;
        let mut memory = false;
        let server = ServerArgs::default().parse_with(args, |flag, value| {
            match flag {
                "--db" => db = Some(value()?),
                "--memory" => memory = true,
                _ => return Err(unknown_option(flag, Self::USAGE)),
            }
            Ok(())
        })?;
        let db = match (db, memory) {
            (Some(_), true) => {
                return Err(format!(
                    "--db and --memory exclude each other\n{}",
                    Self::USAGE
                ))
            }
            (Some(path), false) => Some(path),
            (None, true) => None,
            (None, false) => Some(Self::DEFAULT_DB.to_string()),
        };
        Ok(Self { server, db })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_flags() {
        let args = Args::parse(Vec::new()).unwrap();
        assert_eq!(args.server, ServerArgs::default());
        assert_eq!(args.server.listen, "127.0.0.1:5433");
        assert_eq!(args.db.as_deref(), Some("./pgproto-sqlite.db"));
        let args = Args::parse(["--memory".to_string()]).unwrap();
        assert_eq!(args.db, None);
        let flags = ["--db", "x.db", "--listen", "0.0.0.0:6000"].map(String::from);
        let args = Args::parse(flags).unwrap();
        assert_eq!(args.db.as_deref(), Some("x.db"));
        assert_eq!(args.server.listen, "0.0.0.0:6000");
        for (flags, error) in [
            (&["--db"][..], "--db needs a value"),
            (&["--bogus"], "unknown option --bogus"),
            (
                &["--memory", "--db", "x.db"],
                "--db and --memory exclude each other",
            ),
            (&["--help"], Args::USAGE),
            (
                &["--tls-cert", "c.pem"],
                "--tls-cert and --tls-key go together",
            ),
        ] {
            let got = Args::parse(flags.iter().map(|f| f.to_string()));
            assert!(got.unwrap_err().starts_with(error), "{flags:?}");
        }
    }
}
