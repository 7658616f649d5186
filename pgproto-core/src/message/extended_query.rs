//! The extended query protocol: Parse, Bind, Describe, Execute, Close, Sync, Flush and
//! their replies.

use bytes::BytesMut;

use super::{List, Oid, WireElement};
use crate::error::{DecodeError, EncodeError};
use crate::wire::{Reader, Writer};

/// A value format code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// 0: text.
    #[default]
    Text,
    /// 1: binary.
    Binary,
}

impl Format {
    /// The wire code.
    #[inline]
    pub fn code(self) -> i16 {
        match self {
            Self::Text => 0,
            Self::Binary => 1,
        }
    }

    /// The format for a wire code (only 0 and 1 are defined).
    #[inline]
    pub fn from_code(code: i16) -> Option<Self> {
        match code {
            0 => Some(Self::Text),
            1 => Some(Self::Binary),
            _ => None,
        }
    }
}

impl<'a> WireElement<'a> for Format {
    #[inline]
    fn read(r: &mut Reader<'a>, field: &'static str) -> Result<Self, DecodeError> {
        let code = r.i16(field)?;
        Self::from_code(code).ok_or_else(|| r.invalid(field, code.into()))
    }
    #[inline]
    fn write(&self, w: &mut Writer<'_>, _field: &'static str) -> Result<(), EncodeError> {
        w.i16(self.code());
        Ok(())
    }
}

/// Reads an `Int16` count and that many elements.
pub(crate) fn read_list<'a, T: WireElement<'a>>(
    r: &mut Reader<'a>,
    count_field: &'static str,
    field: &'static str,
) -> Result<List<'a, T>, DecodeError> {
    let count = r.count(count_field)?;
    List::read_counted(r, count, field)
}

/// Writes an `Int16` count and the elements.
pub(crate) fn write_list<'a, T: WireElement<'a>>(
    w: &mut Writer<'_>,
    list: &List<'a, T>,
    count_field: &'static str,
    field: &'static str,
) -> Result<(), EncodeError> {
    w.count(list.len(), count_field)?;
    list.write(w, field)
}

/// Parse (F, `P`): prepare a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parse<'a> {
    /// Statement name; empty for the unnamed statement.
    pub statement: &'a str,
    /// The query string.
    pub query: &'a str,
    /// Types the client specifies for the first parameters (0 leaves one unspecified).
    pub param_types: List<'a, Oid>,
}

impl<'a> Parse<'a> {
    const NAME: &'static str = "Parse";
    /// Message type byte.
    pub const TAG: u8 = b'P';

    /// Decodes a message body.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let statement = r.cstr("statement name")?;
        let query = r.cstr("query")?;
        let param_types = read_list(&mut r, "parameter type count", "parameter type")?;
        r.finish()?;
        Ok(Self {
            statement,
            query,
            param_types,
        })
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.cstr(self.statement, "statement name")?;
        w.cstr(self.query, "query")?;
        write_list(
            &mut w,
            &self.param_types,
            "parameter type count",
            "parameter type",
        )?;
        w.finish()
    }
}

/// Bind (F, `B`): create a portal from a prepared statement and parameter values.
///
/// ```
/// use bytes::BytesMut;
/// use pgproto_core::message::{Bind, Format, List};
/// let mut buf = BytesMut::new();
/// Bind {
///     portal: "",
///     statement: "s1",
///     param_formats: List::new(&[Format::Binary]),
///     params: List::new(&[Some(&7i32.to_be_bytes()[..]), None]),
///     result_formats: List::new(&[Format::Binary]),
/// }
/// .encode(&mut buf)
/// .unwrap();
/// let bind = Bind::decode(&buf[5..]).unwrap();
/// assert_eq!(bind.statement, "s1");
/// assert_eq!(bind.params.get(1), Some(None));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bind<'a> {
    /// Destination portal; empty for the unnamed portal.
    pub portal: &'a str,
    /// Source statement; empty for the unnamed statement.
    pub statement: &'a str,
    /// Parameter formats: none (all text), one (for all), or one per parameter.
    pub param_formats: List<'a, Format>,
    /// Parameter values; `None` is NULL.
    pub params: List<'a, Option<&'a [u8]>>,
    /// Result column formats: none (all text), one (for all), or one per column.
    pub result_formats: List<'a, Format>,
}

impl<'a> Bind<'a> {
    const NAME: &'static str = "Bind";
    /// Message type byte.
    pub const TAG: u8 = b'B';

    /// Decodes a message body.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let portal = r.cstr("portal name")?;
        let statement = r.cstr("statement name")?;
        let param_formats = read_list(&mut r, "parameter format count", "parameter format")?;
        let params = read_list(&mut r, "parameter count", "parameter value")?;
        let result_formats = read_list(&mut r, "result format count", "result format")?;
        r.finish()?;
        Ok(Self {
            portal,
            statement,
            param_formats,
            params,
            result_formats,
        })
    }

    /// Appends the message to `buf`.
    #[inline]
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.cstr(self.portal, "portal name")?;
        w.cstr(self.statement, "statement name")?;
        write_list(
            &mut w,
            &self.param_formats,
            "parameter format count",
            "parameter format",
        )?;
        write_list(&mut w, &self.params, "parameter count", "parameter value")?;
        write_list(
            &mut w,
            &self.result_formats,
            "result format count",
            "result format",
        )?;
        w.finish()
    }

    /// The format of parameter `index`, applying the protocol's rule for zero or one
    /// format code.
    pub fn param_format(&self, index: usize) -> Option<Format> {
        resolve_format(&self.param_formats, index)
    }

    /// The format of result column `index`, applying the protocol's rule for zero or one
    /// format code.
    pub fn result_format(&self, index: usize) -> Option<Format> {
        resolve_format(&self.result_formats, index)
    }
}

/// Format of item `index` under the rule: no codes means text, one code applies to all,
/// otherwise one code per item (`None` when `index` is out of range).
pub(crate) fn resolve_format(formats: &List<'_, Format>, index: usize) -> Option<Format> {
    match formats.len() {
        0 => Some(Format::Text),
        1 => formats.get(0),
        _ => formats.get(index),
    }
}

/// What a Describe or Close refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// `S`: a prepared statement.
    Statement,
    /// `P`: a portal.
    Portal,
}

impl Target {
    fn byte(self) -> u8 {
        match self {
            Self::Statement => b'S',
            Self::Portal => b'P',
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8("target")? {
            b'S' => Ok(Self::Statement),
            b'P' => Ok(Self::Portal),
            other => Err(r.invalid("target", other.into())),
        }
    }
}

macro_rules! target_message {
    ($(#[$doc:meta])* $name:ident, $tag:expr, $label:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name<'a> {
            /// Statement or portal.
            pub target: Target,
            /// Its name; empty for the unnamed one.
            pub name: &'a str,
        }

        impl<'a> $name<'a> {
            /// Message type byte.
            pub const TAG: u8 = $tag;

            /// Decodes a message body.
            pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
                let mut r = Reader::new($label, body);
                let target = Target::read(&mut r)?;
                let name = r.cstr("name")?;
                r.finish()?;
                Ok(Self { target, name })
            }

            /// Appends the message to `buf`.
            pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
                let mut w = Writer::tagged(buf, Self::TAG, $label);
                w.u8(self.target.byte());
                w.cstr(self.name, "name")?;
                w.finish()
            }
        }
    };
}

target_message!(
    /// Describe (F, `D`): ask for a statement's ParameterDescription and RowDescription
    /// (or NoData), or a portal's RowDescription (or NoData).
    Describe,
    b'D',
    "Describe"
);
target_message!(
    /// Close (F, `C`): close a prepared statement or portal.
    Close,
    b'C',
    "Close"
);

/// Execute (F, `E`): run a portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Execute<'a> {
    /// Portal name; empty for the unnamed portal.
    pub portal: &'a str,
    /// Maximum rows to return; 0 means no limit. When the limit is reached the server
    /// sends PortalSuspended.
    pub max_rows: i32,
}

impl<'a> Execute<'a> {
    const NAME: &'static str = "Execute";
    /// Message type byte.
    pub const TAG: u8 = b'E';

    /// Decodes a message body.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let portal = r.cstr("portal name")?;
        let max_rows = r.i32("maximum rows")?;
        r.finish()?;
        Ok(Self { portal, max_rows })
    }

    /// Appends the message to `buf`.
    #[inline]
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.cstr(self.portal, "portal name")?;
        w.i32(self.max_rows);
        w.finish()
    }
}

empty_message!(
    /// Sync (F, `S`): end of an extended-query batch; the server answers ReadyForQuery.
    Sync,
    b'S',
    "Sync"
);
empty_message!(
    /// Flush (F, `H`): ask the server to send what it has buffered.
    Flush,
    b'H',
    "Flush"
);
empty_message!(
    /// ParseComplete (B, `1`).
    ParseComplete,
    b'1',
    "ParseComplete"
);
empty_message!(
    /// BindComplete (B, `2`).
    BindComplete,
    b'2',
    "BindComplete"
);
empty_message!(
    /// CloseComplete (B, `3`).
    CloseComplete,
    b'3',
    "CloseComplete"
);
empty_message!(
    /// NoData (B, `n`): the statement or portal returns no rows.
    NoData,
    b'n',
    "NoData"
);
empty_message!(
    /// PortalSuspended (B, `s`): Execute's row limit was reached.
    PortalSuspended,
    b's',
    "PortalSuspended"
);

/// ParameterDescription (B, `t`): the parameter types of a prepared statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParameterDescription<'a> {
    /// Parameter type OIDs.
    pub types: List<'a, Oid>,
}

impl<'a> ParameterDescription<'a> {
    const NAME: &'static str = "ParameterDescription";
    /// Message type byte.
    pub const TAG: u8 = b't';

    /// Decodes a message body.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let types = read_list(&mut r, "parameter count", "parameter type")?;
        r.finish()?;
        Ok(Self { types })
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        write_list(&mut w, &self.types, "parameter count", "parameter type")?;
        w.finish()
    }
}
