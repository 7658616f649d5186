//! What every I/O adapter shares (feature `std`): its error type and the libpq defaults
//! that come from the environment. Nothing here performs I/O on its own.

use std::fmt;
use std::io;

use crate::client::{ConnInfo, ConnInfoError};
use crate::db_error::DbError;

/// Anything that can go wrong in an adapter: I/O, TLS, the core's errors, database
/// errors.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Socket I/O failed.
    Io(io::Error),
    /// The connection string is invalid.
    ConnInfo(ConnInfoError),
    /// The protocol core reported an error (malformed input, protocol violation,
    /// authentication failure, closed connection, misuse).
    Protocol(crate::Error),
    /// The server reported an error for this request; the connection stays usable.
    Db(Box<DbError>),
    /// TLS setup or handshake failed.
    Tls(String),
    /// Something this adapter does not support (yet).
    Unsupported(&'static str),
    /// The connection task is gone (async adapters).
    ConnectionClosed,
}

impl Error {
    /// The database error, if the server reported one (for a request or while
    /// connecting).
    pub fn as_db_error(&self) -> Option<&DbError> {
        match self {
            Self::Db(e) | Self::Protocol(crate::Error::Server(e)) => Some(e),
            _ => None,
        }
    }

    /// Whether the connection is gone: I/O failed, the peer closed it, the core was
    /// poisoned by a closed connection, or the server ended the session (a `FATAL`
    /// error, e.g. `pg_terminate_backend`). A request that failed this way may be retried
    /// on another connection; pools discard such connections.
    pub fn is_connection_lost(&self) -> bool {
        match self {
            Self::Io(_) | Self::ConnectionClosed | Self::Protocol(crate::Error::Closed) => true,
            Self::Db(e) | Self::Protocol(crate::Error::Server(e)) => e.is_fatal(),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::ConnInfo(e) => e.fmt(f),
            Self::Protocol(e) => e.fmt(f),
            Self::Db(e) => e.fmt(f),
            Self::Tls(e) => write!(f, "TLS error: {e}"),
            Self::Unsupported(what) => write!(f, "unsupported: {what}"),
            Self::ConnectionClosed => f.write_str("the connection is closed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::ConnInfo(e) => Some(e),
            Self::Protocol(e) => Some(e),
            Self::Db(e) => Some(e),
            Self::Tls(_) | Self::Unsupported(_) | Self::ConnectionClosed => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<crate::Error> for Error {
    fn from(e: crate::Error) -> Self {
        Self::Protocol(e)
    }
}

impl From<ConnInfoError> for Error {
    fn from(e: ConnInfoError) -> Self {
        Self::ConnInfo(e)
    }
}

impl From<Box<DbError>> for Error {
    fn from(e: Box<DbError>) -> Self {
        Self::Db(e)
    }
}

/// The operating-system user name, libpq's default for `user`.
pub fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "postgres".to_string())
}

/// Parses a connection string and completes it from the `PG*` environment variables.
pub fn conninfo_from_env(conninfo: &str) -> Result<ConnInfo, Error> {
    let mut info = ConnInfo::parse(conninfo)?;
    info.apply_env(|k| std::env::var(k).ok(), &os_user())?;
    Ok(info)
}

/// The password file's path: `passfile`, `PGPASSFILE` (applied by
/// [`ConnInfo::apply_env`]), or `~/.pgpass`.
pub fn passfile_path(info: &ConnInfo) -> Option<std::path::PathBuf> {
    match &info.passfile {
        Some(p) => Some(p.into()),
        None => std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".pgpass")),
    }
}

/// `info` for one host: the password from the password file filled in when none was
/// given.
pub fn with_passfile_password(info: &ConnInfo, host: &str, port: u16) -> ConnInfo {
    let mut info = info.clone();
    if let Some(path) = passfile_path(&info) {
        if let Ok(contents) = std::fs::read_to_string(path) {
            info.password_from_passfile(&contents, host, port);
        }
    }
    info
}
