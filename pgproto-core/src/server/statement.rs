//! Prepared statements and portals, as the server keeps them for the extended protocol.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use bytes::Bytes;

use crate::column::Column;
use crate::message::{Bind, Format, ListIter, Oid};

/// A prepared statement: what Parse created and the application described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Its name (empty: the unnamed statement).
    pub name: String,
    /// The query text.
    pub query: String,
    /// Parameter types, as the application resolved them.
    pub param_types: Vec<Oid>,
    /// Result columns; `None` when the statement returns no rows.
    pub columns: Option<Arc<[Column]>>,
}

/// A portal: a statement bound to parameter values.
#[derive(Debug, Clone)]
pub struct Portal {
    /// Its name (empty: the unnamed portal).
    pub name: String,
    /// The statement it was bound from.
    pub statement: Arc<Statement>,
    /// The Bind message body (parameter values and formats, checked).
    bind: Bytes,
    /// Rows already returned by earlier Executes (for row limits and suspension).
    pub rows_sent: u64,
}

impl Portal {
    pub(crate) fn new(name: String, statement: Arc<Statement>, bind: Bytes) -> Self {
        Self {
            name,
            statement,
            bind,
            rows_sent: 0,
        }
    }

    fn bind(&self) -> Option<Bind<'_>> {
        Bind::decode(&self.bind).ok()
    }

    /// The parameter values (`None`: NULL).
    pub fn params(&self) -> ListIter<'_, Option<&[u8]>> {
        self.bind().map(|b| b.params).unwrap_or_default().iter()
    }

    /// The format of parameter `index`.
    pub fn param_format(&self, index: usize) -> Format {
        self.bind()
            .and_then(|b| b.param_format(index))
            .unwrap_or(Format::Text)
    }

    /// The format the client wants for result column `index`.
    pub fn result_format(&self, index: usize) -> Format {
        self.bind()
            .and_then(|b| b.result_format(index))
            .unwrap_or(Format::Text)
    }

    /// The result columns with the formats the client asked for.
    pub fn columns(&self) -> Option<&Arc<[Column]>> {
        self.statement.columns.as_ref()
    }
}
