//! The adapter's error: I/O, the core's errors, and database errors.

use std::fmt;
use std::io;

use pgproto_core::client::ConnInfoError;
use pgproto_core::db_error::DbError;

/// Anything that can go wrong talking to PostgreSQL.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Socket I/O failed.
    Io(io::Error),
    /// The connection string is invalid.
    ConnInfo(ConnInfoError),
    /// The protocol core reported an error (malformed input, protocol violation,
    /// authentication failure, closed connection, misuse).
    Protocol(pgproto_core::Error),
    /// The server reported an error for this request; the connection stays usable.
    Db(DbError),
    /// Something this adapter does not support (yet).
    Unsupported(&'static str),
}

impl Error {
    /// The database error, if the server reported one (for a request or while
    /// connecting).
    pub fn as_db_error(&self) -> Option<&DbError> {
        match self {
            Self::Db(e) | Self::Protocol(pgproto_core::Error::Server(e)) => Some(e),
            _ => None,
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
            Self::Unsupported(what) => write!(f, "unsupported: {what}"),
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
            Self::Unsupported(_) => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<pgproto_core::Error> for Error {
    fn from(e: pgproto_core::Error) -> Self {
        Self::Protocol(e)
    }
}

impl From<ConnInfoError> for Error {
    fn from(e: ConnInfoError) -> Self {
        Self::ConnInfo(e)
    }
}

impl From<DbError> for Error {
    fn from(e: DbError) -> Self {
        Self::Db(e)
    }
}
