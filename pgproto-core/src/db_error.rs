//! Database errors and notices: the fields of an ErrorResponse or NoticeResponse as an
//! owned value, with the SQLSTATE as a [`SqlState`].
//!
//! A client receives them from the server; a server builds them and encodes them with
//! [`DbError::encode_error`] or [`DbError::encode_notice`].

use alloc::string::{String, ToString};
use core::fmt;

use bytes::BytesMut;

use crate::error::EncodeError;
use crate::message::{ErrorField, ErrorResponse, FieldCode, List, NoticeResponse};
use crate::sqlstate::SqlState;

/// The severity of an error or notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// `ERROR`: the current command failed.
    Error,
    /// `FATAL`: the session is over.
    Fatal,
    /// `PANIC`: the server is restarting.
    Panic,
    /// `WARNING`.
    Warning,
    /// `NOTICE`.
    Notice,
    /// `DEBUG`.
    Debug,
    /// `INFO`.
    Info,
    /// `LOG`.
    Log,
}

impl Severity {
    /// The severity for its non-localized name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "ERROR" => Self::Error,
            "FATAL" => Self::Fatal,
            "PANIC" => Self::Panic,
            "WARNING" => Self::Warning,
            "NOTICE" => Self::Notice,
            "DEBUG" => Self::Debug,
            "INFO" => Self::Info,
            "LOG" => Self::Log,
            _ => return None,
        })
    }

    /// The non-localized name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Error => "ERROR",
            Self::Fatal => "FATAL",
            Self::Panic => "PANIC",
            Self::Warning => "WARNING",
            Self::Notice => "NOTICE",
            Self::Debug => "DEBUG",
            Self::Info => "INFO",
            Self::Log => "LOG",
        }
    }
}

/// Where in a query an error occurred.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorPosition {
    /// A 1-based character position in the query the client sent (`P`).
    Original(u32),
    /// A position in an internally generated query (`p` and `q`).
    Internal {
        /// 1-based character position.
        position: u32,
        /// The internal query.
        query: String,
    },
}

/// An ErrorResponse or NoticeResponse as owned data.
///
/// ```
/// use pgproto_core::db_error::{DbError, Severity};
/// use pgproto_core::sqlstate::SqlState;
/// let e = DbError::new(Severity::Error, SqlState::UndefinedTable, "relation \"t\" does not exist");
/// assert_eq!(e.to_string(), "ERROR: relation \"t\" does not exist (SQLSTATE 42P01)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbError {
    /// Severity, possibly localized (`S`).
    pub severity: String,
    /// Severity, parsed from the non-localized field (`V`) or, failing that, `S`.
    pub parsed_severity: Option<Severity>,
    /// SQLSTATE (`C`).
    pub code: SqlState,
    /// Primary message (`M`).
    pub message: String,
    /// Detail (`D`).
    pub detail: Option<String>,
    /// Hint (`H`).
    pub hint: Option<String>,
    /// Cursor position (`P`, or `p` with `q`).
    pub position: Option<ErrorPosition>,
    /// Context (`W`).
    pub where_: Option<String>,
    /// Schema name (`s`).
    pub schema: Option<String>,
    /// Table name (`t`).
    pub table: Option<String>,
    /// Column name (`c`).
    pub column: Option<String>,
    /// Data type name (`d`).
    pub datatype: Option<String>,
    /// Constraint name (`n`).
    pub constraint: Option<String>,
    /// Source file (`F`).
    pub file: Option<String>,
    /// Source line (`L`).
    pub line: Option<u32>,
    /// Source routine (`R`).
    pub routine: Option<String>,
}

impl DbError {
    /// An error or notice with the three fields every ErrorResponse carries.
    pub fn new(severity: Severity, code: SqlState, message: impl Into<String>) -> Self {
        Self {
            severity: severity.name().to_string(),
            parsed_severity: Some(severity),
            code,
            message: message.into(),
            detail: None,
            hint: None,
            position: None,
            where_: None,
            schema: None,
            table: None,
            column: None,
            datatype: None,
            constraint: None,
            file: None,
            line: None,
            routine: None,
        }
    }

    /// Collects the fields of a decoded ErrorResponse or NoticeResponse. Unknown field
    /// codes are ignored, as the protocol asks.
    pub fn from_fields(fields: &List<'_, ErrorField<'_>>) -> Self {
        let mut e = Self::new(Severity::Error, SqlState::Other(*b"?????"), "");
        e.parsed_severity = None;
        e.severity.clear();
        let mut localized = None;
        let mut internal_position = None;
        let mut internal_query = None;
        for f in fields.iter() {
            let v = f.value;
            match f.code {
                FieldCode::Severity => e.severity = v.to_string(),
                FieldCode::SeverityNonLocalized => localized = Severity::from_name(v),
                FieldCode::Code => e.code = SqlState::from_code(v),
                FieldCode::Message => e.message = v.to_string(),
                FieldCode::Detail => e.detail = Some(v.to_string()),
                FieldCode::Hint => e.hint = Some(v.to_string()),
                FieldCode::Position => {
                    e.position = v.parse().ok().map(ErrorPosition::Original);
                }
                FieldCode::InternalPosition => internal_position = v.parse().ok(),
                FieldCode::InternalQuery => internal_query = Some(v.to_string()),
                FieldCode::Where => e.where_ = Some(v.to_string()),
                FieldCode::SchemaName => e.schema = Some(v.to_string()),
                FieldCode::TableName => e.table = Some(v.to_string()),
                FieldCode::ColumnName => e.column = Some(v.to_string()),
                FieldCode::DataTypeName => e.datatype = Some(v.to_string()),
                FieldCode::ConstraintName => e.constraint = Some(v.to_string()),
                FieldCode::File => e.file = Some(v.to_string()),
                FieldCode::Line => e.line = v.parse().ok(),
                FieldCode::Routine => e.routine = Some(v.to_string()),
                FieldCode::Other(_) => {}
            }
        }
        e.parsed_severity = localized.or_else(|| Severity::from_name(&e.severity));
        if e.position.is_none() {
            if let (Some(position), Some(query)) = (internal_position, internal_query) {
                e.position = Some(ErrorPosition::Internal { position, query });
            }
        }
        e
    }

    /// Whether the session ends with this error (`FATAL` or `PANIC`).
    pub fn is_fatal(&self) -> bool {
        matches!(
            self.parsed_severity,
            Some(Severity::Fatal | Severity::Panic)
        )
    }

    /// Sets the detail.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Sets the hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the cursor position in the client's query (1-based, in characters).
    pub fn with_position(mut self, position: u32) -> Self {
        self.position = Some(ErrorPosition::Original(position));
        self
    }

    fn write_fields<R>(&self, f: impl FnOnce(List<'_, ErrorField<'_>>) -> R) -> R {
        let mut numbers = [String::new(), String::new(), String::new()];
        let severity_name = self.parsed_severity.map(Severity::name);
        let mut fields: alloc::vec::Vec<ErrorField<'_>> = alloc::vec::Vec::with_capacity(8);
        fields.push(ErrorField::new(FieldCode::Severity, &self.severity));
        if let Some(name) = severity_name {
            fields.push(ErrorField::new(FieldCode::SeverityNonLocalized, name));
        }
        fields.push(ErrorField::new(FieldCode::Code, self.code.code()));
        fields.push(ErrorField::new(FieldCode::Message, &self.message));
        let optional = [
            (FieldCode::Detail, &self.detail),
            (FieldCode::Hint, &self.hint),
        ];
        for (code, value) in optional {
            if let Some(v) = value {
                fields.push(ErrorField::new(code, v));
            }
        }
        match &self.position {
            Some(ErrorPosition::Original(p)) => numbers[0] = p.to_string(),
            Some(ErrorPosition::Internal { position, .. }) => numbers[1] = position.to_string(),
            None => {}
        }
        if let Some(line) = self.line {
            numbers[2] = line.to_string();
        }
        let [pos, internal_pos, line] = &numbers;
        match &self.position {
            Some(ErrorPosition::Original(_)) => {
                fields.push(ErrorField::new(FieldCode::Position, pos));
            }
            Some(ErrorPosition::Internal { query, .. }) => {
                fields.push(ErrorField::new(FieldCode::InternalPosition, internal_pos));
                fields.push(ErrorField::new(FieldCode::InternalQuery, query));
            }
            None => {}
        }
        let optional = [
            (FieldCode::Where, &self.where_),
            (FieldCode::SchemaName, &self.schema),
            (FieldCode::TableName, &self.table),
            (FieldCode::ColumnName, &self.column),
            (FieldCode::DataTypeName, &self.datatype),
            (FieldCode::ConstraintName, &self.constraint),
            (FieldCode::File, &self.file),
        ];
        for (code, value) in optional {
            if let Some(v) = value {
                fields.push(ErrorField::new(code, v));
            }
        }
        if self.line.is_some() {
            fields.push(ErrorField::new(FieldCode::Line, line));
        }
        if let Some(v) = &self.routine {
            fields.push(ErrorField::new(FieldCode::Routine, v));
        }
        f(List::new(&fields))
    }

    /// Appends this as an ErrorResponse.
    pub fn encode_error(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.write_fields(|fields| ErrorResponse { fields }.encode(buf))
    }

    /// Appends this as a NoticeResponse.
    pub fn encode_notice(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.write_fields(|fields| NoticeResponse { fields }.encode(buf))
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (SQLSTATE {})",
            self.severity, self.message, self.code
        )?;
        if let Some(detail) = &self.detail {
            write!(f, "\nDETAIL: {detail}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\nHINT: {hint}")?;
        }
        Ok(())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DbError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_round_trips_through_the_wire() {
        let mut e = DbError::new(Severity::Error, SqlState::UniqueViolation, "duplicate key")
            .with_detail("Key (id)=(1) already exists.")
            .with_position(8);
        e.schema = Some("public".into());
        e.table = Some("t".into());
        e.constraint = Some("t_pkey".into());
        e.file = Some("nbtinsert.c".into());
        e.line = Some(666);
        e.routine = Some("_bt_check_unique".into());
        let mut buf = BytesMut::new();
        e.encode_error(&mut buf).unwrap();
        let decoded = ErrorResponse::decode(&buf[5..]).unwrap();
        assert_eq!(DbError::from_fields(&decoded.fields), e);
        let mut buf = BytesMut::new();
        e.encode_notice(&mut buf).unwrap();
        assert_eq!(buf[0], b'N');
    }

    #[test]
    fn internal_position_and_fatal() {
        let mut e = DbError::new(Severity::Fatal, SqlState::AdminShutdown, "bye");
        e.position = Some(ErrorPosition::Internal {
            position: 3,
            query: "select x".into(),
        });
        let mut buf = BytesMut::new();
        e.encode_error(&mut buf).unwrap();
        let back = DbError::from_fields(&ErrorResponse::decode(&buf[5..]).unwrap().fields);
        assert!(back.is_fatal());
        assert_eq!(back, e);
    }
}
