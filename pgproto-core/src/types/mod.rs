//! PostgreSQL data types: OIDs, text and binary value codecs, and conversion traits.
//!
//! A value travels as bytes whose meaning depends on two things the protocol carries
//! next to it: the type's [`Oid`] (in RowDescription, ParameterDescription and Parse)
//! and the [`Format`] (text or binary, in Bind). This module turns those bytes into Rust
//! values and back, exactly as PostgreSQL formats them:
//!
//! - [`FromSql`] decodes one value (a DataRow column, a Bind parameter): `i64` from
//!   `int8`, `String` from `text`, [`PgNumeric`] from `numeric`, `Vec<T>` from an array,
//!   `Option<T>` from a value that may be NULL.
//! - [`ToSql`] encodes one value (a Bind parameter, a DataRow column). It is object safe,
//!   so a parameter list can be a `&[&dyn ToSql]`.
//! - [`oid`] names the built-in types.
//!
//! The crate's own value types keep PostgreSQL's semantics where Rust's standard library
//! has no equivalent: [`PgNumeric`] (exact decimal, NaN and infinities), [`PgDate`],
//! [`PgTime`], [`PgTimeTz`], [`PgTimestamp`], [`PgTimestampTz`] and [`PgInterval`] (with
//! PostgreSQL's infinities and BC years), [`PgUuid`], [`PgInet`], [`Json`] and
//! [`PgArray`] (multi-dimensional arrays with lower bounds). Optional cargo features
//! convert those to the `chrono`, `time`, `uuid`, `serde_json` and `rust_decimal` types.
//!
//! ## Contract
//!
//! - `raw` never includes the 4-byte length that precedes a value on the wire, and
//!   `to_sql` writes none (except inside arrays, whose format has its own lengths); NULL
//!   is the absence of a value: decode it with [`FromSql::from_sql_null`] (or
//!   [`FromSql::from_sql_nullable`]), and a [`ToSql`] that returns [`IsNull::Yes`] has
//!   written nothing. [`encode_with_length`] writes the length prefix for you.
//! - Decoders accept any bytes and never panic; bad input is a [`TypeError`].
//! - OID `0` ([`oid::UNSPECIFIED`]) means "the natural type": an encoder writes the
//!   value's own type (which [`ToSql::type_oid`] reports, so the caller can declare it in
//!   Parse), a decoder assumes the bytes are of its natural type.
//! - Text-format output matches PostgreSQL 15 with its default settings (`DateStyle`
//!   `ISO`, `IntervalStyle` `postgres`, `extra_float_digits` 1, `bytea_output` `hex`).
//!   `timestamptz` is written in UTC; its decoder honours any offset.
//!
//! ```
//! use bytes::BytesMut;
//! use pgproto_core::message::Format;
//! use pgproto_core::types::{oid, FromSql, IsNull, ToSql};
//!
//! // Encode a parameter for an int8 column, in binary.
//! let mut out = BytesMut::new();
//! assert_eq!(42i32.to_sql(oid::INT8, Format::Binary, &mut out).unwrap(), IsNull::No);
//! assert_eq!(&out[..], &[0, 0, 0, 0, 0, 0, 0, 42]);
//!
//! // Decode a text-format array column that may contain NULLs.
//! let v = Vec::<Option<i64>>::from_sql(oid::INT8_ARRAY, Format::Text, b"{1,NULL,3}").unwrap();
//! assert_eq!(v, [Some(1), None, Some(3)]);
//!
//! // A heterogeneous parameter list.
//! let params: &[&dyn ToSql] = &[&1i32, &"x", &None::<i64>];
//! assert_eq!(params[1].type_oid(), oid::TEXT);
//! ```

extern crate alloc;

use alloc::string::String;
use core::fmt;

use bytes::{BufMut, BytesMut};

pub use crate::message::{Format, Oid};

mod array;
mod bytea;
mod codec;
mod datetime;
mod float;
mod interval;
mod json;
mod network;
mod numeric;
pub mod oid;
mod primitive;
mod shortest;
mod text;
mod uuid;

mod features;

pub use array::{ArrayDimension, PgArray};
pub use datetime::{PgDate, PgTime, PgTimeTz, PgTimestamp, PgTimestampTz};
pub use interval::PgInterval;
pub use json::Json;
pub use network::PgInet;
pub use numeric::PgNumeric;
pub use uuid::PgUuid;

/// Whether [`ToSql::to_sql`] produced a value or SQL NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IsNull {
    /// The value is NULL; nothing was written.
    Yes,
    /// A value was written.
    No,
}

/// Decoding one PostgreSQL value into a Rust value.
///
/// `'a` is the lifetime of the bytes, so borrowing types (`&'a str`, `&'a [u8]`) decode
/// without copying. Implementations MUST check `oid` (returning
/// [`TypeError::WrongType`] for types they do not handle), MUST treat `raw` as untrusted
/// and MUST NOT panic on any input.
pub trait FromSql<'a>: Sized {
    /// Decodes a non-NULL value of type `oid` in `format`. `raw` is the value without
    /// its length prefix.
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError>;

    /// Decodes SQL NULL. The default returns [`TypeError::UnexpectedNull`]; `Option<T>`
    /// returns `None`.
    fn from_sql_null(oid: Oid) -> Result<Self, TypeError> {
        Err(TypeError::UnexpectedNull {
            rust_type: core::any::type_name::<Self>(),
            oid,
        })
    }

    /// Decodes a value that may be NULL, as DataRow and Bind carry it (`None` = NULL).
    fn from_sql_nullable(
        oid: Oid,
        format: Format,
        raw: Option<&'a [u8]>,
    ) -> Result<Self, TypeError> {
        match raw {
            Some(raw) => Self::from_sql(oid, format, raw),
            None => Self::from_sql_null(oid),
        }
    }

    /// Whether this type decodes values of type `oid` (in both formats).
    ///
    /// `String`, `&str` and `Cow<str>` additionally decode the text format of *any*
    /// type; `accepts` does not count that.
    fn accepts(oid: Oid) -> bool;

    /// Decodes from bytes that live only for this call (an element of a text-format
    /// array that had to be unescaped first).
    ///
    /// Types that own their data SHOULD implement this by forwarding to
    /// `<Self as FromSql<'_>>::from_sql`; the default returns
    /// [`TypeError::CannotBorrow`], which is right for types that borrow from `raw`.
    fn from_sql_temporary(oid: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
        let _ = (oid, format, raw);
        Err(TypeError::CannotBorrow {
            rust_type: core::any::type_name::<Self>(),
        })
    }
}

/// A [`FromSql`] type that borrows nothing from the bytes it decodes.
pub trait FromSqlOwned: for<'a> FromSql<'a> {}

impl<T> FromSqlOwned for T where T: for<'a> FromSql<'a> {}

/// Encoding one Rust value as a PostgreSQL value.
///
/// Object safe: the methods without `self` are bounded by `Self: Sized`, so a parameter
/// list can be a `&[&dyn ToSql]`. Implementations MUST check `oid` (returning
/// [`TypeError::WrongType`] for a type they cannot produce, [`TypeError::OutOfRange`]
/// when the value does not fit) and treat `0` as their natural type.
pub trait ToSql: fmt::Debug {
    /// Appends the value as type `oid` in `format` to `out`, without a length prefix,
    /// or returns [`IsNull::Yes`] having written nothing.
    ///
    /// On error, `out` may hold part of the value: truncate it to its previous length.
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError>;

    /// The PostgreSQL type this value naturally is (`int4` for an `i32`), for a Parse
    /// message's parameter types. `0` lets the server infer the type.
    fn type_oid(&self) -> Oid;

    /// The format to encode this value in when the target type is `oid`: binary where
    /// this crate has a binary codec, text otherwise (a `&str` for a `date` parameter).
    fn preferred_format(&self, oid: Oid) -> Format {
        let _ = oid;
        Format::Binary
    }

    /// Whether values of this Rust type can be encoded as type `oid` (in some format).
    fn accepts(oid: Oid) -> bool
    where
        Self: Sized;

    /// The natural type of this Rust type without a value at hand (for an empty array
    /// or a NULL). The default, `0`, lets the server infer the type.
    fn natural_type_oid() -> Oid
    where
        Self: Sized,
    {
        oid::UNSPECIFIED
    }
}

/// Appends `value` as type `oid` in `format` preceded by its 4-byte length, or the
/// length `-1` for NULL: the layout of a Bind parameter, a DataRow column and an array
/// element. On error, `out` is restored to its previous length.
pub fn encode_with_length(
    value: &dyn ToSql,
    oid: Oid,
    format: Format,
    out: &mut BytesMut,
) -> Result<IsNull, TypeError> {
    let start = out.len();
    out.put_i32(0);
    match value.to_sql(oid, format, out) {
        Ok(IsNull::No) => {
            let len = out.len() - start - 4;
            let Ok(len) = i32::try_from(len) else {
                out.truncate(start);
                return Err(TypeError::OutOfRange {
                    target: "value length (i32)",
                });
            };
            if let Some(slot) = out.get_mut(start..start + 4) {
                slot.copy_from_slice(&len.to_be_bytes());
            }
            Ok(IsNull::No)
        }
        Ok(IsNull::Yes) => {
            out.truncate(start);
            out.put_i32(-1);
            Ok(IsNull::Yes)
        }
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
}

/// Why a value could not be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypeError {
    /// The Rust type does not convert to or from this PostgreSQL type.
    WrongType {
        /// The Rust type (as `core::any::type_name` spells it).
        rust_type: &'static str,
        /// The PostgreSQL type asked for.
        oid: Oid,
    },
    /// The Rust type converts to or from this PostgreSQL type, but not in this format.
    UnsupportedFormat {
        /// The Rust type.
        rust_type: &'static str,
        /// The PostgreSQL type asked for.
        oid: Oid,
        /// The format asked for.
        format: Format,
    },
    /// A binary array declares an element type other than the one expected.
    ElementTypeMismatch {
        /// The element type the array's type (or the Rust element type) implies.
        expected: Oid,
        /// The element type in the array's header.
        actual: Oid,
    },
    /// The bytes are not a valid value of the type.
    InvalidValue {
        /// The PostgreSQL type being decoded (or encoded).
        type_name: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The value is valid but does not fit the target type.
    OutOfRange {
        /// The type it does not fit (a PostgreSQL or a Rust type).
        target: &'static str,
    },
    /// SQL NULL where the Rust type has no NULL (decode into `Option<T>`).
    UnexpectedNull {
        /// The Rust type.
        rust_type: &'static str,
        /// The PostgreSQL type of the NULL.
        oid: Oid,
    },
    /// A type that borrows from the input was asked to decode bytes that do not outlive
    /// the call (an escaped element of a text-format array): use an owned type such as
    /// `String` or `Cow<str>`.
    CannotBorrow {
        /// The Rust type.
        rust_type: &'static str,
    },
}

/// Writes `name (oid)` or just the number for an unknown OID.
struct OidName(Oid);

impl fmt::Display for OidName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match oid::type_name(self.0) {
            Some(name) => write!(f, "{name} (oid {})", self.0),
            None => write!(f, "oid {}", self.0),
        }
    }
}

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongType { rust_type, oid } => write!(
                f,
                "cannot convert between Rust type `{rust_type}` and PostgreSQL type {}",
                OidName(*oid)
            ),
            Self::UnsupportedFormat {
                rust_type,
                oid,
                format,
            } => write!(
                f,
                "Rust type `{rust_type}` does not support the {} format of PostgreSQL type {}",
                match format {
                    Format::Text => "text",
                    Format::Binary => "binary",
                },
                OidName(*oid)
            ),
            Self::ElementTypeMismatch { expected, actual } => write!(
                f,
                "array has element type {} instead of {}",
                OidName(*actual),
                OidName(*expected)
            ),
            Self::InvalidValue { type_name, reason } => {
                write!(f, "invalid {type_name} value: {reason}")
            }
            Self::OutOfRange { target } => write!(f, "value out of range for {target}"),
            Self::UnexpectedNull { rust_type, oid } => write!(
                f,
                "unexpected NULL of PostgreSQL type {} for Rust type `{rust_type}` (use Option)",
                OidName(*oid)
            ),
            Self::CannotBorrow { rust_type } => write!(
                f,
                "`{rust_type}` cannot borrow an unescaped array element; use an owned type"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TypeError {}

impl From<core::convert::Infallible> for TypeError {
    /// Lets infallible conversions be used where a `TypeError` is expected.
    fn from(never: core::convert::Infallible) -> Self {
        match never {}
    }
}

/// Decodes `raw` with [`FromSql`]; a convenience for `T::from_sql_nullable`.
pub fn decode<'a, T: FromSql<'a>>(
    oid: Oid,
    format: Format,
    raw: Option<&'a [u8]>,
) -> Result<T, TypeError> {
    T::from_sql_nullable(oid, format, raw)
}

/// Encodes `value` in PostgreSQL's text format for type `oid` into a new `String`.
pub fn to_text(value: &dyn ToSql, oid: Oid) -> Result<Option<String>, TypeError> {
    let mut out = BytesMut::new();
    match value.to_sql(oid, Format::Text, &mut out)? {
        IsNull::Yes => Ok(None),
        IsNull::No => {
            String::from_utf8(out.to_vec())
                .map(Some)
                .map_err(|_| TypeError::InvalidValue {
                    type_name: "text",
                    reason: "encoder produced invalid UTF-8",
                })
        }
    }
}

// ---- Blanket implementations over wrappers -------------------------------------------

impl<'a, T: FromSql<'a>> FromSql<'a> for Option<T> {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        T::from_sql(oid, format, raw).map(Some)
    }

    fn from_sql_null(_oid: Oid) -> Result<Self, TypeError> {
        Ok(None)
    }

    fn accepts(oid: Oid) -> bool {
        T::accepts(oid)
    }

    fn from_sql_temporary(oid: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
        T::from_sql_temporary(oid, format, raw).map(Some)
    }
}

impl<T: ToSql> ToSql for Option<T> {
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        match self {
            Some(v) => v.to_sql(oid, format, out),
            None if oid == oid::UNSPECIFIED || T::accepts(oid) => Ok(IsNull::Yes),
            None => Err(TypeError::WrongType {
                rust_type: core::any::type_name::<Self>(),
                oid,
            }),
        }
    }

    fn type_oid(&self) -> Oid {
        match self {
            Some(v) => v.type_oid(),
            None => T::natural_type_oid(),
        }
    }

    fn preferred_format(&self, oid: Oid) -> Format {
        match self {
            Some(v) => v.preferred_format(oid),
            None => Format::Binary,
        }
    }

    fn accepts(oid: Oid) -> bool {
        T::accepts(oid)
    }

    fn natural_type_oid() -> Oid {
        T::natural_type_oid()
    }
}

impl<T: ToSql> ToSql for &T {
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        (**self).to_sql(oid, format, out)
    }

    fn type_oid(&self) -> Oid {
        (**self).type_oid()
    }

    fn preferred_format(&self, oid: Oid) -> Format {
        (**self).preferred_format(oid)
    }

    fn accepts(oid: Oid) -> bool {
        T::accepts(oid)
    }

    fn natural_type_oid() -> Oid {
        T::natural_type_oid()
    }
}

impl<T: ToSql> ToSql for alloc::boxed::Box<T> {
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        (**self).to_sql(oid, format, out)
    }

    fn type_oid(&self) -> Oid {
        (**self).type_oid()
    }

    fn preferred_format(&self, oid: Oid) -> Format {
        (**self).preferred_format(oid)
    }

    fn accepts(oid: Oid) -> bool {
        T::accepts(oid)
    }

    fn natural_type_oid() -> Oid {
        T::natural_type_oid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_handles_null() {
        assert_eq!(
            Option::<i32>::from_sql_nullable(oid::INT4, Format::Binary, None),
            Ok(None)
        );
        assert_eq!(
            i32::from_sql_nullable(oid::INT4, Format::Binary, None),
            Err(TypeError::UnexpectedNull {
                rust_type: "i32",
                oid: oid::INT4
            })
        );
        let mut out = BytesMut::new();
        assert_eq!(
            None::<i32>.to_sql(oid::INT4, Format::Binary, &mut out),
            Ok(IsNull::Yes)
        );
        assert!(out.is_empty());
        assert!(None::<i32>
            .to_sql(oid::TEXT, Format::Binary, &mut out)
            .is_err());
        assert_eq!(None::<i64>.type_oid(), oid::INT8);
    }

    #[test]
    fn encode_with_length_prefixes_and_restores() {
        let mut out = BytesMut::from(&b"ab"[..]);
        encode_with_length(&7i16, oid::INT2, Format::Binary, &mut out).unwrap();
        assert_eq!(&out[..], b"ab\x00\x00\x00\x02\x00\x07");
        encode_with_length(&None::<i16>, oid::INT2, Format::Binary, &mut out).unwrap();
        assert_eq!(&out[6..], b"\x00\x07\xff\xff\xff\xff");
        let before = out.clone();
        assert!(encode_with_length(&70000i32, oid::INT2, Format::Binary, &mut out).is_err());
        assert_eq!(out, before);
    }

    #[test]
    fn dyn_parameter_list() {
        let params: &[&dyn ToSql] = &[&1i32, &"x", &None::<i64>, &PgNumeric::from(5i64)];
        let oids: alloc::vec::Vec<Oid> = params.iter().map(|p| p.type_oid()).collect();
        assert_eq!(oids, [oid::INT4, oid::TEXT, oid::INT8, oid::NUMERIC]);
        let mut out = BytesMut::new();
        for p in params {
            encode_with_length(*p, 0, p.preferred_format(0), &mut out).unwrap();
        }
    }

    #[test]
    fn errors_display() {
        let e = TypeError::WrongType {
            rust_type: "i32",
            oid: oid::TEXT,
        };
        assert_eq!(
            e.to_string(),
            "cannot convert between Rust type `i32` and PostgreSQL type text (oid 25)"
        );
        let e = TypeError::UnexpectedNull {
            rust_type: "i32",
            oid: 99999,
        };
        assert!(e.to_string().contains("oid 99999"));
    }

    #[test]
    fn to_text_helper() {
        assert_eq!(to_text(&1.5f64, oid::FLOAT8), Ok(Some("1.5".into())));
        assert_eq!(to_text(&None::<i32>, oid::INT4), Ok(None));
    }
}
