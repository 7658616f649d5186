//! What a COPY statement's responses say, for every driver: whether the COPY started
//! ([`CopyStart`]), and how it ended ([`CopyEnd`]). A driver feeds the responses of
//! the COPY's request as they arrive and acts on the answer; it decides nothing itself.

use alloc::boxed::Box;

use super::Response;
use crate::db_error::DbError;

/// The direction of a COPY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyDirection {
    /// COPY FROM STDIN.
    In,
    /// COPY TO STDOUT.
    Out,
}

/// Reads a COPY statement's responses until the COPY the caller expects starts, or the
/// statement ends without it (an error, or a statement that was not such a COPY).
///
/// ```
/// use pgproto_core::client::{CopyDirection, CopyStart, CopyStartProgress, Response};
/// use pgproto_core::db_error::{DbError, Severity};
/// use pgproto_core::message::TransactionStatus;
/// use pgproto_core::sqlstate::SqlState;
///
/// let mut start = CopyStart::new(CopyDirection::In);
/// let missing = DbError::new(Severity::Error, SqlState::UndefinedTable, "no t");
/// assert!(matches!(
///     start.push(Response::Error(Box::new(missing)), false),
///     CopyStartProgress::Pending
/// ));
/// // ReadyForQuery ends the request: the COPY never started, and this is why.
/// match start.push(Response::ReadyForQuery(TransactionStatus::Idle), true) {
///     CopyStartProgress::Refused(Some(e)) => assert_eq!(e.code.code(), "42P01"),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug)]
pub struct CopyStart {
    direction: CopyDirection,
    error: Option<Box<DbError>>,
}

/// What [`CopyStart::push`] learned.
#[derive(Debug)]
pub enum CopyStartProgress {
    /// The COPY started: send data (COPY FROM STDIN) or read it (COPY TO STDOUT).
    Started,
    /// Not yet: feed the next response.
    Pending,
    /// The statement ended without starting the expected COPY; with the server's error
    /// if it sent one (`None`: the statement was not a COPY in that direction).
    Refused(Option<Box<DbError>>),
}

impl CopyStart {
    /// Waits for a COPY in `direction`.
    pub fn new(direction: CopyDirection) -> Self {
        Self {
            direction,
            error: None,
        }
    }

    /// Feeds one response of the statement; `last`: it is the request's last.
    pub fn push(&mut self, response: Response, last: bool) -> CopyStartProgress {
        match (response, self.direction) {
            (Response::CopyIn(_), CopyDirection::In)
            | (Response::CopyOut(_), CopyDirection::Out) => return CopyStartProgress::Started,
            (Response::Error(e), _) => {
                self.error.get_or_insert(e);
            }
            _ => {}
        }
        if last {
            CopyStartProgress::Refused(self.error.take())
        } else {
            CopyStartProgress::Pending
        }
    }
}

/// Reads the rest of a started COPY's responses: its row count, or its error (the
/// first one, as PostgreSQL's is the one that matters).
///
/// ```
/// use pgproto_core::client::{CopyEnd, Response};
/// use pgproto_core::db_error::{DbError, Severity};
/// use pgproto_core::sqlstate::SqlState;
///
/// let mut end = CopyEnd::default();
/// let bad = DbError::new(Severity::Error, SqlState::BadCopyFileFormat, "extra data");
/// end.push(Response::Error(Box::new(bad)));
/// assert_eq!(end.finish().unwrap_err().code.code(), "22P04");
/// ```
#[derive(Debug, Default)]
pub struct CopyEnd {
    rows: u64,
    error: Option<Box<DbError>>,
}

impl CopyEnd {
    /// Feeds one response.
    pub fn push(&mut self, response: Response) {
        match response {
            Response::CommandComplete(tag) => self.rows = tag.rows().unwrap_or(0),
            Response::Error(e) => {
                self.error.get_or_insert(e);
            }
            _ => {}
        }
    }

    /// The rows copied, or the server's error.
    pub fn finish(self) -> Result<u64, Box<DbError>> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.rows),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::CopyFormat;
    use bytes::Bytes;

    fn complete(tag: &'static str) -> Response {
        let mut body = tag.as_bytes().to_vec();
        body.push(0);
        Response::CommandComplete(super::super::response::CommandTag::new(Bytes::from(body)))
    }

    #[test]
    fn a_copy_starts_only_in_the_expected_direction() {
        let format = || CopyFormat::new(crate::message::Format::Text, alloc::vec![]);
        let mut start = CopyStart::new(CopyDirection::In);
        assert!(matches!(
            start.push(Response::CopyIn(format()), false),
            CopyStartProgress::Started
        ));
        // COPY TO STDOUT given to a COPY FROM STDIN call: never started.
        let mut start = CopyStart::new(CopyDirection::In);
        assert!(matches!(
            start.push(Response::CopyOut(format()), false),
            CopyStartProgress::Pending
        ));
        assert!(matches!(
            start.push(complete("COPY 0"), true),
            CopyStartProgress::Refused(None)
        ));
    }

    #[test]
    fn the_end_reports_rows_or_the_first_error() {
        let mut end = CopyEnd::default();
        end.push(complete("COPY 42"));
        assert_eq!(end.finish().unwrap(), 42);
        let error = |code| {
            Response::Error(Box::new(DbError::new(
                crate::db_error::Severity::Error,
                code,
                "x",
            )))
        };
        let mut end = CopyEnd::default();
        end.push(error(crate::sqlstate::SqlState::BadCopyFileFormat));
        end.push(error(crate::sqlstate::SqlState::InFailedSqlTransaction));
        end.push(complete("COPY 1"));
        assert_eq!(end.finish().unwrap_err().code.code(), "22P04");
    }
}
