//! Assembling responses into results: columns, rows, result sets. The adapters share this
//! instead of each collecting events its own way.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::response::{CommandTag, DataRowBody, Response};
use crate::column::Column;
use crate::db_error::DbError;
use crate::message::{ListIter, Oid};
use crate::types::FromSql;

/// A column reference: an index or a name.
pub trait ColumnIndex {
    /// The column's position, if it exists.
    fn index(&self, columns: &[Column]) -> Option<usize>;
}

impl ColumnIndex for usize {
    fn index(&self, columns: &[Column]) -> Option<usize> {
        (*self < columns.len()).then_some(*self)
    }
}

impl ColumnIndex for &str {
    fn index(&self, columns: &[Column]) -> Option<usize> {
        columns.iter().position(|c| c.name == *self)
    }
}

/// The single row of a result: `Ok(None)` when there is none, an error when there are
/// several (`query_one` in every adapter).
pub fn exactly_one(mut rows: Vec<Row>) -> Result<Row, crate::Error> {
    match (rows.pop(), rows.is_empty()) {
        (Some(row), true) => Ok(row),
        (None, _) => Err(crate::error::UsageError::NoRows.into()),
        (Some(_), false) => Err(crate::error::UsageError::MoreThanOneRow.into()),
    }
}

/// One row: its columns (shared by the rows of a result set) and its values (a slice of
/// the input buffer).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: Arc<[Column]>,
    body: DataRowBody,
}

impl Row {
    /// A row.
    pub fn new(columns: Arc<[Column]>, body: DataRowBody) -> Self {
        Self { columns, body }
    }

    /// The columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.body.len()
    }

    /// Whether the row has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values in order (`None`: NULL).
    pub fn values(&self) -> ListIter<'_, Option<&[u8]>> {
        self.body.values()
    }

    /// The raw value of a column: `None` if the column does not exist, `Some(None)` for
    /// NULL.
    pub fn raw<I: ColumnIndex>(&self, column: I) -> Option<Option<&[u8]>> {
        let i = column.index(&self.columns)?;
        self.body.values().nth(i)
    }

    /// The value of a column as a Rust type (`row.get::<i64, _>("id")`). NULL decodes
    /// into `Option::None`; a missing column is [`UsageError::NoSuchColumn`].
    ///
    /// [`UsageError::NoSuchColumn`]: crate::error::UsageError::NoSuchColumn
    pub fn get<'a, T: FromSql<'a>, I: ColumnIndex>(&'a self, column: I) -> Result<T, crate::Error> {
        let i = column
            .index(&self.columns)
            .ok_or(crate::error::UsageError::NoSuchColumn)?;
        let (Some(c), Some(raw)) = (self.columns.get(i), self.body.values().nth(i)) else {
            return Err(crate::error::UsageError::NoSuchColumn.into());
        };
        Ok(T::from_sql_nullable(c.type_oid, c.format, raw)?)
    }

    /// The position of a column.
    pub fn column_index<I: ColumnIndex>(&self, column: I) -> Option<usize> {
        column.index(&self.columns)
    }
}

/// The rows and completion tag of one statement.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultSet {
    /// Columns (empty for statements that return no rows).
    pub columns: Arc<[Column]>,
    /// Rows.
    pub rows: Vec<Row>,
    /// The CommandComplete tag; `None` for an empty query or a suspended portal.
    pub tag: Option<CommandTag>,
}

impl ResultSet {
    /// The affected or returned row count from the tag.
    pub fn rows_affected(&self) -> u64 {
        self.tag.as_ref().and_then(CommandTag::rows).unwrap_or(0)
    }
}

/// Collects the responses of one operation (a simple query, or an extended-protocol
/// sequence ending in Sync) into result sets, keeping the first error.
///
/// ```
/// use pgproto_core::client::{ResultCollector};
/// let collector = ResultCollector::new(None);
/// assert!(collector.finish().unwrap().is_empty());
/// ```
#[derive(Debug, Default)]
pub struct ResultCollector {
    columns: Option<Arc<[Column]>>,
    rows: Vec<Row>,
    sets: Vec<ResultSet>,
    error: Option<alloc::boxed::Box<DbError>>,
    parameter_types: Option<Vec<Oid>>,
}

impl ResultCollector {
    /// A collector; `columns` are known in advance for a prepared statement (the portal's
    /// rows then need no RowDescription).
    pub fn new(columns: Option<Arc<[Column]>>) -> Self {
        Self {
            columns,
            ..Self::default()
        }
    }

    /// Takes one response.
    pub fn push(&mut self, response: Response) {
        match response {
            Response::RowDescription(d) => {
                self.columns = Some(Column::from_description(&d));
            }
            Response::NoData => self.columns = Some(Arc::from(Vec::new())),
            Response::DataRow(body) => {
                let columns = self
                    .columns
                    .clone()
                    .unwrap_or_else(|| Arc::from(Vec::new()));
                self.rows.push(Row::new(columns, body));
            }
            Response::CommandComplete(tag) => self.end_set(Some(tag)),
            Response::EmptyQuery | Response::PortalSuspended => self.end_set(None),
            Response::ParameterDescription(types) => self.parameter_types = Some(types),
            Response::Error(e) if self.error.is_none() => self.error = Some(e),
            _ => {}
        }
    }

    fn end_set(&mut self, tag: Option<CommandTag>) {
        let columns = self.columns.take().unwrap_or_else(|| Arc::from(Vec::new()));
        self.sets.push(ResultSet {
            columns,
            rows: core::mem::take(&mut self.rows),
            tag,
        });
    }

    /// The columns described so far (after a statement Describe).
    pub fn columns(&self) -> Option<&Arc<[Column]>> {
        self.columns.as_ref()
    }

    /// Parameter types from a statement Describe.
    pub fn parameter_types(&self) -> Option<&[Oid]> {
        self.parameter_types.as_deref()
    }

    /// The first error, if any.
    pub fn error(&self) -> Option<&DbError> {
        self.error.as_deref()
    }

    /// The prepared statement `name` this collector described (after
    /// [`Client::prepare_typed`](super::Client::prepare_typed)), or the server's error.
    pub fn into_statement(
        self,
        name: alloc::string::String,
    ) -> Result<super::Statement, alloc::boxed::Box<DbError>> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let types = self.parameter_types.unwrap_or_default();
        let columns = self.columns.unwrap_or_else(|| Arc::from(Vec::new()));
        Ok(super::Statement::new(name, types, &columns))
    }

    /// The result sets, or the first error.
    pub fn finish(self) -> Result<Vec<ResultSet>, alloc::boxed::Box<DbError>> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.sets),
        }
    }
}

/// Rows handed out one by one as a statement's responses arrive (a row stream), instead
/// of collected: the RowDescription gives the columns of the rows after it, each DataRow
/// becomes a [`Row`], and the first error is kept for the end of the stream.
///
/// ```
/// use pgproto_core::client::{Response, StreamedRows};
///
/// let mut rows = StreamedRows::default();
/// // A statement that returned no rows: nothing to hand out, no error.
/// assert!(rows.accept(Response::EmptyQuery).is_none());
/// assert!(rows.take_error().is_none());
/// ```
#[derive(Debug, Default)]
pub struct StreamedRows {
    columns: Option<Arc<[Column]>>,
    error: Option<alloc::boxed::Box<DbError>>,
}

impl StreamedRows {
    /// Takes one response; returns the row it carries, if it is a DataRow.
    pub fn accept(&mut self, response: Response) -> Option<Row> {
        match response {
            Response::RowDescription(description) => {
                self.columns = Some(Column::from_description(&description));
                None
            }
            Response::DataRow(body) => {
                let columns = self.columns.clone().unwrap_or_else(|| Vec::new().into());
                Some(Row::new(columns, body))
            }
            Response::Error(e) => {
                self.error.get_or_insert(e);
                None
            }
            _ => None,
        }
    }

    /// The first error the statement reported, once.
    pub fn take_error(&mut self) -> Option<alloc::boxed::Box<DbError>> {
        self.error.take()
    }
}

/// The answer of a FunctionCall, gathered from its responses (FunctionCallResponse or
/// ErrorResponse, then ReadyForQuery).
///
/// ```
/// use pgproto_core::client::{FunctionCallResult, Response};
///
/// let mut result = FunctionCallResult::default();
/// result.push(Response::FunctionResult(Some(bytes::Bytes::from_static(b"42"))));
/// assert_eq!(result.finish().unwrap().as_deref(), Some(&b"42"[..]));
/// ```
#[derive(Debug, Default)]
pub struct FunctionCallResult {
    value: Option<Option<bytes::Bytes>>,
    error: Option<alloc::boxed::Box<DbError>>,
}

impl FunctionCallResult {
    /// Takes one response of the call.
    pub fn push(&mut self, response: Response) {
        match response {
            Response::FunctionResult(value) => self.value = Some(value),
            Response::Error(e) => {
                self.error.get_or_insert(e);
            }
            _ => {}
        }
    }

    /// The function's result (`None` for NULL), or the server's error.
    pub fn finish(self) -> Result<Option<bytes::Bytes>, crate::Error> {
        if let Some(e) = self.error {
            return Err(crate::Error::Server(e));
        }
        self.value
            .ok_or(crate::Error::Usage(crate::UsageError::NoFunctionResult))
    }
}
