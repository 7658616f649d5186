//! The simple query cycle and the result messages both query protocols share: Query,
//! RowDescription, DataRow, CommandComplete, EmptyQueryResponse, ReadyForQuery.

use bytes::BytesMut;

use super::{Format, List, Oid, WireElement};
use crate::error::{DecodeError, EncodeError};
use crate::wire::{Reader, Writer};

/// Query (F, `Q`): a simple query, possibly several statements separated by semicolons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query<'a> {
    /// The query string.
    pub query: &'a str,
}

impl<'a> Query<'a> {
    const NAME: &'static str = "Query";
    /// Message type byte.
    pub const TAG: u8 = b'Q';

    /// Decodes a message body.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let query = r.cstr("query")?;
        r.finish()?;
        Ok(Self { query })
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.cstr(self.query, "query")?;
        w.finish()
    }
}

/// One column of a [`RowDescription`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDescription<'a> {
    /// Column name.
    pub name: &'a str,
    /// OID of the table the column comes from, or 0.
    pub table_oid: Oid,
    /// Attribute number of the column in that table, or 0.
    pub column_id: i16,
    /// OID of the column's data type.
    pub type_oid: Oid,
    /// `pg_type.typlen`: negative for variable-width types.
    pub type_size: i16,
    /// `pg_attribute.atttypmod`: type-specific modifier.
    pub type_modifier: i32,
    /// Format of the column's values in DataRow messages.
    pub format: Format,
}

impl<'a> WireElement<'a> for FieldDescription<'a> {
    #[inline]
    fn read(r: &mut Reader<'a>, _field: &'static str) -> Result<Self, DecodeError> {
        Ok(Self {
            name: r.cstr("field name")?,
            table_oid: r.u32("table OID")?,
            column_id: r.i16("column attribute number")?,
            type_oid: r.u32("type OID")?,
            type_size: r.i16("type size")?,
            type_modifier: r.i32("type modifier")?,
            format: Format::read(r, "format code")?,
        })
    }

    #[inline]
    fn write(&self, w: &mut Writer<'_>, _field: &'static str) -> Result<(), EncodeError> {
        w.cstr(self.name, "field name")?;
        w.u32(self.table_oid);
        w.i16(self.column_id);
        w.u32(self.type_oid);
        w.i16(self.type_size);
        w.i32(self.type_modifier);
        w.i16(self.format.code());
        Ok(())
    }
}

/// RowDescription (B, `T`): the columns of the rows that follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowDescription<'a> {
    /// The columns, in order.
    pub fields: List<'a, FieldDescription<'a>>,
}

impl<'a> RowDescription<'a> {
    const NAME: &'static str = "RowDescription";
    /// Message type byte.
    pub const TAG: u8 = b'T';

    /// Decodes a message body.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let count = r.count("field count")?;
        let fields = List::read_counted(&mut r, count, "fields")?;
        r.finish()?;
        Ok(Self { fields })
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.count(self.fields.len(), "field count")?;
        self.fields.write(&mut w, "fields")?;
        w.finish()
    }
}

/// DataRow (B, `D`): one row; each value is `None` for SQL NULL.
///
/// Decoding checks every length once; iterating the values then allocates nothing.
///
/// ```
/// use bytes::BytesMut;
/// use pgproto_core::message::{DataRow, List};
/// let mut buf = BytesMut::new();
/// DataRow { values: List::new(&[Some(&b"42"[..]), None]) }.encode(&mut buf).unwrap();
/// let row = DataRow::decode(&buf[5..]).unwrap();
/// let values: Vec<_> = row.values.iter().collect();
/// assert_eq!(values, [Some(&b"42"[..]), None]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataRow<'a> {
    /// Column values.
    pub values: List<'a, Option<&'a [u8]>>,
}

impl<'a> DataRow<'a> {
    const NAME: &'static str = "DataRow";
    /// Message type byte.
    pub const TAG: u8 = b'D';

    /// Decodes a message body.
    #[inline]
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let count = r.count("column count")?;
        let values = List::read_counted(&mut r, count, "column value")?;
        r.finish()?;
        Ok(Self { values })
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.count(self.values.len(), "column count")?;
        self.values.write(&mut w, "column value")?;
        w.finish()
    }
}

/// CommandComplete (B, `C`): a statement finished; the tag says which and how many rows
/// (`SELECT 3`, `INSERT 0 1`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandComplete<'a> {
    /// The command tag.
    pub tag: &'a str,
}

impl<'a> CommandComplete<'a> {
    const NAME: &'static str = "CommandComplete";
    /// Message type byte.
    pub const TAG: u8 = b'C';

    /// Decodes a message body.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let tag = r.cstr("command tag")?;
        r.finish()?;
        Ok(Self { tag })
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.cstr(self.tag, "command tag")?;
        w.finish()
    }

    /// The row count at the end of the tag (`SELECT 3` gives 3), if the command reports
    /// one.
    pub fn rows(&self) -> Option<u64> {
        let (verb, count) = self.tag.rsplit_once(' ')?;
        if verb.is_empty() {
            return None;
        }
        count.parse().ok()
    }
}

empty_message!(
    /// EmptyQueryResponse (B, `I`): the query string was empty (instead of
    /// CommandComplete).
    EmptyQueryResponse,
    b'I',
    "EmptyQueryResponse"
);

/// The backend's transaction state, as reported by ReadyForQuery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionStatus {
    /// `I`: not in a transaction block.
    Idle,
    /// `T`: in a transaction block.
    InTransaction,
    /// `E`: in a failed transaction block; queries are rejected until it ends.
    Failed,
}

impl TransactionStatus {
    /// The status byte.
    pub fn byte(self) -> u8 {
        match self {
            Self::Idle => b'I',
            Self::InTransaction => b'T',
            Self::Failed => b'E',
        }
    }

    /// The status for a status byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            b'I' => Some(Self::Idle),
            b'T' => Some(Self::InTransaction),
            b'E' => Some(Self::Failed),
            _ => None,
        }
    }
}

/// ReadyForQuery (B, `Z`): the backend is ready for a new query cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadyForQuery {
    /// Current transaction status.
    pub status: TransactionStatus,
}

impl ReadyForQuery {
    const NAME: &'static str = "ReadyForQuery";
    /// Message type byte.
    pub const TAG: u8 = b'Z';

    /// Decodes a message body.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let b = r.u8("transaction status")?;
        let status = TransactionStatus::from_byte(b)
            .ok_or_else(|| r.invalid("transaction status", b.into()))?;
        r.finish()?;
        Ok(Self { status })
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.u8(self.status.byte());
        w.finish()
    }
}
