//! Responses routed to requests, as owned values that share the input buffer.

use alloc::string::String;
use alloc::vec::Vec;

use bytes::Bytes;

use crate::db_error::DbError;
use crate::message::{
    CommandComplete, DataRow, FieldDescription, Format, ListIter, Oid, RowDescription,
    TransactionStatus,
};

/// A response to a request. Bodies are slices of the input buffer (no copy).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Response {
    /// Columns of the rows that follow.
    RowDescription(RowDescriptionBody),
    /// One row.
    DataRow(DataRowBody),
    /// A statement finished.
    CommandComplete(CommandTag),
    /// The query string was empty.
    EmptyQuery,
    /// Execute reached its row limit; execute the portal again for more.
    PortalSuspended,
    /// Parse succeeded.
    ParseComplete,
    /// Bind succeeded.
    BindComplete,
    /// Close succeeded.
    CloseComplete,
    /// The statement or portal returns no rows.
    NoData,
    /// Parameter types of a prepared statement.
    ParameterDescription(Vec<Oid>),
    /// COPY FROM STDIN started: send data with `copy_data`, then `copy_done`.
    CopyIn(CopyFormat),
    /// COPY TO STDOUT started: CopyData responses follow.
    CopyOut(CopyFormat),
    /// Bidirectional COPY started (replication).
    CopyBoth(CopyFormat),
    /// A chunk of COPY TO STDOUT data.
    CopyData(Bytes),
    /// COPY TO STDOUT data is complete.
    CopyDone,
    /// A FunctionCall's result (`None`: NULL).
    FunctionResult(Option<Bytes>),
    /// The request failed.
    Error(alloc::boxed::Box<DbError>),
    /// The request was not executed: an earlier request in the same pipeline failed and
    /// the server discarded everything up to the next Sync.
    Skipped,
    /// The server is ready for the next query cycle.
    ReadyForQuery(TransactionStatus),
}

/// A RowDescription body, checked when received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowDescriptionBody(Bytes);

impl RowDescriptionBody {
    pub(crate) fn new(body: Bytes) -> Self {
        Self(body)
    }

    /// The columns.
    pub fn fields(&self) -> ListIter<'_, FieldDescription<'_>> {
        RowDescription::decode(&self.0)
            .map(|d| d.fields)
            .unwrap_or_default()
            .iter()
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.fields().len()
    }

    /// Whether there are no columns.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The raw body.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }
}

/// A DataRow body, checked when received; values iterate without allocating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRowBody(Bytes);

impl DataRowBody {
    pub(crate) fn new(body: Bytes) -> Self {
        Self(body)
    }

    /// The column values (`None`: NULL).
    #[inline]
    pub fn values(&self) -> ListIter<'_, Option<&[u8]>> {
        DataRow::decode(&self.0)
            .map(|r| r.values)
            .unwrap_or_default()
            .iter()
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.values().len()
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The raw body.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }
}

/// A CommandComplete tag (`SELECT 3`, `INSERT 0 1`), checked when received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandTag(Bytes);

impl CommandTag {
    pub(crate) fn new(body: Bytes) -> Self {
        Self(body)
    }

    /// The tag.
    pub fn as_str(&self) -> &str {
        CommandComplete::decode(&self.0)
            .map(|c| c.tag)
            .unwrap_or_default()
    }

    /// The row count at the end of the tag, if any.
    pub fn rows(&self) -> Option<u64> {
        CommandComplete { tag: self.as_str() }.rows()
    }
}

/// The formats announced by a Copy*Response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyFormat {
    /// Overall format (text, also for CSV, or binary).
    pub format: Format,
    /// Per-column formats.
    pub column_formats: Vec<Format>,
}

impl CopyFormat {
    pub(crate) fn new(format: Format, column_formats: Vec<Format>) -> Self {
        Self {
            format,
            column_formats,
        }
    }
}

/// A NOTIFY delivered to this session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Process ID of the notifying backend.
    pub process_id: i32,
    /// Channel.
    pub channel: String,
    /// Payload.
    pub payload: String,
}
