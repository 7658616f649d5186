//! Asynchronous and status responses: ErrorResponse, NoticeResponse (with every field
//! code) and NotificationResponse.

use bytes::BytesMut;

use super::{List, WireElement};
use crate::error::{DecodeError, EncodeError};
use crate::wire::{Reader, Writer};

/// The code identifying a field of an ErrorResponse or NoticeResponse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldCode {
    /// `S`: severity, possibly localized (`ERROR`, `FATAL`, `PANIC`, `WARNING`, `NOTICE`,
    /// `DEBUG`, `INFO`, `LOG`).
    Severity,
    /// `V`: severity, never localized (PostgreSQL 9.6 and later).
    SeverityNonLocalized,
    /// `C`: SQLSTATE code.
    Code,
    /// `M`: primary message.
    Message,
    /// `D`: detail.
    Detail,
    /// `H`: hint.
    Hint,
    /// `P`: cursor position in the query string (1-based, in characters).
    Position,
    /// `p`: cursor position in an internally generated command.
    InternalPosition,
    /// `q`: the internally generated command.
    InternalQuery,
    /// `W`: context (call stack).
    Where,
    /// `s`: schema name.
    SchemaName,
    /// `t`: table name.
    TableName,
    /// `c`: column name.
    ColumnName,
    /// `d`: data type name.
    DataTypeName,
    /// `n`: constraint name.
    ConstraintName,
    /// `F`: source file.
    File,
    /// `L`: source line.
    Line,
    /// `R`: source routine.
    Routine,
    /// A code this library does not know; frontends should ignore such fields.
    Other(u8),
}

impl FieldCode {
    /// The code for a field type byte.
    pub fn from_byte(b: u8) -> Self {
        match b {
            b'S' => Self::Severity,
            b'V' => Self::SeverityNonLocalized,
            b'C' => Self::Code,
            b'M' => Self::Message,
            b'D' => Self::Detail,
            b'H' => Self::Hint,
            b'P' => Self::Position,
            b'p' => Self::InternalPosition,
            b'q' => Self::InternalQuery,
            b'W' => Self::Where,
            b's' => Self::SchemaName,
            b't' => Self::TableName,
            b'c' => Self::ColumnName,
            b'd' => Self::DataTypeName,
            b'n' => Self::ConstraintName,
            b'F' => Self::File,
            b'L' => Self::Line,
            b'R' => Self::Routine,
            other => Self::Other(other),
        }
    }

    /// The field type byte.
    pub fn byte(self) -> u8 {
        match self {
            Self::Severity => b'S',
            Self::SeverityNonLocalized => b'V',
            Self::Code => b'C',
            Self::Message => b'M',
            Self::Detail => b'D',
            Self::Hint => b'H',
            Self::Position => b'P',
            Self::InternalPosition => b'p',
            Self::InternalQuery => b'q',
            Self::Where => b'W',
            Self::SchemaName => b's',
            Self::TableName => b't',
            Self::ColumnName => b'c',
            Self::DataTypeName => b'd',
            Self::ConstraintName => b'n',
            Self::File => b'F',
            Self::Line => b'L',
            Self::Routine => b'R',
            Self::Other(b) => b,
        }
    }
}

/// One field of an ErrorResponse or NoticeResponse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorField<'a> {
    /// Which field.
    pub code: FieldCode,
    /// Its value.
    pub value: &'a str,
}

impl<'a> ErrorField<'a> {
    /// A field.
    pub const fn new(code: FieldCode, value: &'a str) -> Self {
        Self { code, value }
    }
}

impl<'a> WireElement<'a> for ErrorField<'a> {
    #[inline]
    fn read(r: &mut Reader<'a>, _field: &'static str) -> Result<Self, DecodeError> {
        let code = FieldCode::from_byte(r.u8("field type")?);
        let value = r.cstr("field value")?;
        Ok(Self { code, value })
    }
    #[inline]
    fn write(&self, w: &mut Writer<'_>, _field: &'static str) -> Result<(), EncodeError> {
        w.u8(self.code.byte());
        w.cstr(self.value, "field value")
    }
    fn encodes_as_terminator(&self) -> bool {
        self.code.byte() == 0
    }
}

macro_rules! field_response {
    ($(#[$doc:meta])* $name:ident, $tag:expr, $label:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name<'a> {
            /// The fields, in the order sent.
            pub fields: List<'a, ErrorField<'a>>,
        }

        impl<'a> $name<'a> {
            /// Message type byte.
            pub const TAG: u8 = $tag;

            /// Decodes a message body.
            pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
                let mut r = Reader::new($label, body);
                let fields = List::read_terminated(&mut r, "fields")?;
                r.finish()?;
                Ok(Self { fields })
            }

            /// Appends the message to `buf`.
            pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
                let mut w = Writer::tagged(buf, Self::TAG, $label);
                self.fields.write_terminated(&mut w, "fields")?;
                w.finish()
            }

            /// The value of the first field with this code.
            pub fn field(&self, code: FieldCode) -> Option<&'a str> {
                self.fields.iter().find(|f| f.code == code).map(|f| f.value)
            }

            /// The non-localized severity (`V`), or the localized one (`S`) from servers
            /// older than 9.6.
            pub fn severity(&self) -> Option<&'a str> {
                self.field(FieldCode::SeverityNonLocalized)
                    .or_else(|| self.field(FieldCode::Severity))
            }

            /// The SQLSTATE code (`C`).
            pub fn code(&self) -> Option<&'a str> {
                self.field(FieldCode::Code)
            }

            /// The primary message (`M`).
            pub fn message(&self) -> Option<&'a str> {
                self.field(FieldCode::Message)
            }
        }
    };
}

field_response!(
    /// ErrorResponse (B, `E`): an error. A database error is data, not a failure of the
    /// protocol: the connection stays usable unless the severity is `FATAL` or `PANIC`.
    ErrorResponse,
    b'E',
    "ErrorResponse"
);
field_response!(
    /// NoticeResponse (B, `N`): a warning or informational message.
    NoticeResponse,
    b'N',
    "NoticeResponse"
);

/// NotificationResponse (B, `A`): a NOTIFY on a channel this session LISTENs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationResponse<'a> {
    /// Process ID of the notifying backend.
    pub process_id: i32,
    /// Channel name.
    pub channel: &'a str,
    /// Payload.
    pub payload: &'a str,
}

impl<'a> NotificationResponse<'a> {
    const NAME: &'static str = "NotificationResponse";
    /// Message type byte.
    pub const TAG: u8 = b'A';

    /// Decodes a message body.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let process_id = r.i32("process ID")?;
        let channel = r.cstr("channel")?;
        let payload = r.cstr("payload")?;
        r.finish()?;
        Ok(Self {
            process_id,
            channel,
            payload,
        })
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.i32(self.process_id);
        w.cstr(self.channel, "channel")?;
        w.cstr(self.payload, "payload")?;
        w.finish()
    }
}
