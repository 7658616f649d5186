//! Result columns as owned values, shared by the client (what a RowDescription said) and
//! the server (what a statement returns).

use alloc::string::{String, ToString};
use alloc::sync::Arc;

use crate::client::RowDescriptionBody;
use crate::message::{FieldDescription, Format, Oid};

/// One column of a result, owned (built once per result set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// OID of the source table, or 0.
    pub table_oid: Oid,
    /// Attribute number in the source table, or 0.
    pub column_id: i16,
    /// Type OID.
    pub type_oid: Oid,
    /// `typlen`.
    pub type_size: i16,
    /// `atttypmod`.
    pub type_modifier: i32,
    /// Value format.
    pub format: Format,
}

impl Column {
    /// The column a RowDescription field describes.
    pub fn from_field(f: &FieldDescription<'_>) -> Self {
        Self {
            name: f.name.to_string(),
            table_oid: f.table_oid,
            column_id: f.column_id,
            type_oid: f.type_oid,
            type_size: f.type_size,
            type_modifier: f.type_modifier,
            format: f.format,
        }
    }

    /// The columns a RowDescription describes.
    pub fn from_description(d: &RowDescriptionBody) -> Arc<[Self]> {
        d.fields().map(|f| Self::from_field(&f)).collect()
    }
}

impl Column {
    /// A computed column (no source table) of type `type_oid`, in text format.
    pub fn new(name: impl Into<String>, type_oid: Oid, type_size: i16) -> Self {
        Self {
            name: name.into(),
            table_oid: 0,
            column_id: 0,
            type_oid,
            type_size,
            type_modifier: -1,
            format: Format::Text,
        }
    }

    /// This column as a RowDescription field, in `format`.
    pub fn as_field(&self, format: Format) -> FieldDescription<'_> {
        FieldDescription {
            name: &self.name,
            table_oid: self.table_oid,
            column_id: self.column_id,
            type_oid: self.type_oid,
            type_size: self.type_size,
            type_modifier: self.type_modifier,
            format,
        }
    }
}
