//! What the two client examples share: turning a connection string into a core
//! [`Config`] and an address, and printing results the way `psql -At` does.

use std::io::{self, Write};
use std::net::{SocketAddr, ToSocketAddrs};

use pgproto_core::adapter::{conninfo_from_env, with_passfile_password, Error};
use pgproto_core::client::{Config, ResultSet, SslMode};
use pgproto_core::db_error::DbError;

/// The core configuration and the server address for `conninfo` (a libpq URL or
/// `key=value` string, completed from the `PG*` environment variables and the password
/// file, as libpq does). The examples speak plain TCP only: `sslmode=require` and
/// stricter are refused, and `prefer` falls back to plain text.
pub(crate) fn client_config(conninfo: &str) -> Result<(Config, SocketAddr), Error> {
    let info = conninfo_from_env(conninfo)?;
    let (host, port) = info
        .hosts
        .first()
        .cloned()
        .unwrap_or_else(|| ("localhost".to_string(), pgproto_core::client::DEFAULT_PORT));
    if host.starts_with('/') {
        return Err(Error::Unsupported("Unix sockets (this example uses TCP)"));
    }
    let info = with_passfile_password(&info, &host, port);
    let mut config = info.config;
    if config.ssl_mode.requires_tls() {
        return Err(Error::Unsupported("TLS (this example speaks plain TCP)"));
    }
    config.ssl_mode = SslMode::Disable;
    let addr = (host.as_str(), port)
        .to_socket_addrs()?
        .next()
        .ok_or(Error::Unsupported("a host name without addresses"))?;
    Ok((config, addr))
}

/// Prints one operation's outcome, each line prefixed with `label`: for every result
/// set its rows (values separated by `|`, NULL as nothing, as `psql -At`) and its
/// command tag; or the server's error.
pub(crate) fn print_results(
    out: &mut dyn Write,
    label: &str,
    results: Result<Vec<ResultSet>, Box<DbError>>,
) -> io::Result<()> {
    match results {
        Ok(sets) => {
            for set in sets {
                for row in &set.rows {
                    let values: Vec<String> = row
                        .values()
                        .map(|v| String::from_utf8_lossy(v.unwrap_or_default()).into_owned())
                        .collect();
                    writeln!(out, "{label}: {}", values.join("|"))?;
                }
                let tag = set.tag.as_ref().map_or("(empty query)", |t| t.as_str());
                writeln!(out, "{label}: {tag}")?;
            }
        }
        Err(e) => writeln!(out, "{label}: ERROR {}: {}", e.code, e.message)?,
    }
    Ok(())
}
