//! Character types: `text`, `varchar`, `bpchar`, `name`, `unknown`, and the types whose
//! binary format is their text (`json`, `xml`; `jsonb` after its version byte), for
//! `&str`, `String`, `Box<str>` and `Cow<str>`.
//!
//! Strings are lenient in text format: they decode the text form of *any* type (a
//! `date` column as `"2024-02-29"`) and encode as text for any target type, leaving the
//! parsing to the server. `bpchar` values keep their blank padding; `name` values longer
//! than 63 bytes are truncated by the server, not here.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;

use bytes::{BufMut, BytesMut};

use super::codec::{invalid, owned_from_sql, unsupported_format, utf8};
use super::{oid, Format, FromSql, IsNull, Oid, ToSql, TypeError};

/// The version byte that starts a binary `jsonb` value.
pub(crate) const JSONB_VERSION: u8 = 1;

/// Types whose binary format is UTF-8 text (`jsonb` with a version byte in front).
pub(crate) fn is_textual(oid: Oid) -> bool {
    matches!(
        oid,
        oid::TEXT
            | oid::VARCHAR
            | oid::BPCHAR
            | oid::NAME
            | oid::UNKNOWN
            | oid::JSON
            | oid::JSONB
            | oid::XML
            | oid::UNSPECIFIED
    )
}

/// The text of a value of type `oid` in `format`, borrowed from `raw`.
pub(crate) fn decode_str<T: ?Sized>(
    oid: Oid,
    format: Format,
    raw: &[u8],
) -> Result<&str, TypeError> {
    match format {
        Format::Text => utf8("text", raw),
        Format::Binary if oid == oid::JSONB => match raw.split_first() {
            Some((&JSONB_VERSION, rest)) => utf8("jsonb", rest),
            Some(_) => Err(invalid("jsonb", "unsupported jsonb version")),
            None => Err(invalid("jsonb", "missing version byte")),
        },
        Format::Binary if is_textual(oid) => utf8("text", raw),
        Format::Binary => Err(unsupported_format::<T>(oid, format)),
    }
}

/// Writes `s` as type `oid` in `format`.
pub(crate) fn encode_str<T: ?Sized>(
    s: &str,
    oid: Oid,
    format: Format,
    out: &mut BytesMut,
) -> Result<IsNull, TypeError> {
    match format {
        Format::Binary if oid == oid::JSONB => out.put_u8(JSONB_VERSION),
        Format::Binary if !is_textual(oid) => return Err(unsupported_format::<T>(oid, format)),
        _ => {}
    }
    out.put_slice(s.as_bytes());
    Ok(IsNull::No)
}

/// Binary for the types whose binary format is text; text (the server parses it) for
/// every other type, and when the type is not known yet.
fn str_format(oid: Oid) -> Format {
    if is_textual(oid) && oid != oid::UNSPECIFIED {
        Format::Binary
    } else {
        Format::Text
    }
}

impl<'a> FromSql<'a> for &'a str {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        decode_str::<Self>(oid, format, raw)
    }

    fn accepts(oid: Oid) -> bool {
        is_textual(oid)
    }
}

impl<'a> FromSql<'a> for Cow<'a, str> {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        decode_str::<Self>(oid, format, raw).map(Cow::Borrowed)
    }

    fn accepts(oid: Oid) -> bool {
        is_textual(oid)
    }

    fn from_sql_temporary(oid: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
        decode_str::<Self>(oid, format, raw).map(|s| Cow::Owned(s.into()))
    }
}

impl<'a> FromSql<'a> for String {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        decode_str::<Self>(oid, format, raw).map(Self::from)
    }

    fn accepts(oid: Oid) -> bool {
        is_textual(oid)
    }

    owned_from_sql!();
}

impl<'a> FromSql<'a> for Box<str> {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        decode_str::<Self>(oid, format, raw).map(Self::from)
    }

    fn accepts(oid: Oid) -> bool {
        is_textual(oid)
    }

    owned_from_sql!();
}

macro_rules! str_to_sql {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_sql(
                &self,
                oid: Oid,
                format: Format,
                out: &mut BytesMut,
            ) -> Result<IsNull, TypeError> {
                encode_str::<Self>(self, oid, format, out)
            }

            fn type_oid(&self) -> Oid {
                oid::TEXT
            }

            fn preferred_format(&self, oid: Oid) -> Format {
                str_format(oid)
            }

            /// Every type: in text format the server parses the string.
            fn accepts(_oid: Oid) -> bool {
                true
            }

            fn natural_type_oid() -> Oid {
                oid::TEXT
            }
        }
    )*};
}

str_to_sql!(&str, String, Box<str>, Cow<'_, str>);

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn enc(v: &dyn ToSql, oid: Oid, format: Format) -> Result<Vec<u8>, TypeError> {
        let mut out = BytesMut::new();
        v.to_sql(oid, format, &mut out).map(|_| out.to_vec())
    }

    // textsend('héllo'), varcharsend('a b'), bpcharsend('ab'::char(4)), namesend('nm'),
    // jsonb_send('"x"') in PostgreSQL 15.x.
    #[test]
    fn binary_vectors() {
        assert_eq!(
            enc(&"héllo", oid::TEXT, Format::Binary).unwrap(),
            b"h\xc3\xa9llo"
        );
        assert_eq!(enc(&"a b", oid::VARCHAR, Format::Binary).unwrap(), b"a b");
        assert_eq!(
            <&str>::from_sql(oid::BPCHAR, Format::Binary, b"ab  "),
            Ok("ab  ")
        );
        assert_eq!(enc(&"nm", oid::NAME, Format::Binary).unwrap(), b"nm");
        assert_eq!(
            enc(&"\"x\"", oid::JSONB, Format::Binary).unwrap(),
            b"\x01\"x\""
        );
        assert_eq!(
            <&str>::from_sql(oid::JSONB, Format::Binary, b"\x01\"x\""),
            Ok("\"x\"")
        );
        assert!(<&str>::from_sql(oid::JSONB, Format::Binary, b"\x02{}").is_err());
        assert!(<&str>::from_sql(oid::JSONB, Format::Binary, b"").is_err());
        assert_eq!(enc(&"\"x\"", oid::JSONB, Format::Text).unwrap(), b"\"x\"");
    }

    #[test]
    fn lenient_text() {
        assert_eq!(
            String::from_sql(oid::DATE, Format::Text, b"2024-02-29").unwrap(),
            "2024-02-29"
        );
        assert_eq!(
            String::from_sql(oid::DATE, Format::Binary, &[0; 4]),
            Err(TypeError::UnsupportedFormat {
                rust_type: "alloc::string::String",
                oid: oid::DATE,
                format: Format::Binary
            })
        );
        assert_eq!(enc(&"5", oid::INT4, Format::Text).unwrap(), b"5");
        assert!(enc(&"5", oid::INT4, Format::Binary).is_err());
        assert_eq!("5".preferred_format(oid::INT4), Format::Text);
        assert_eq!("5".preferred_format(oid::VARCHAR), Format::Binary);
        assert_eq!("5".preferred_format(0), Format::Text);
        assert!(String::from_sql(oid::TEXT, Format::Text, b"\xff").is_err());
        assert!(<String as FromSql>::accepts(oid::NAME));
        assert!(!<String as FromSql>::accepts(oid::INT4));
    }

    #[test]
    fn cow_borrows_or_owns() {
        let raw = b"abc";
        assert!(matches!(
            Cow::<str>::from_sql(oid::TEXT, Format::Text, raw),
            Ok(Cow::Borrowed("abc"))
        ));
        assert!(matches!(
            Cow::<str>::from_sql_temporary(oid::TEXT, Format::Text, raw),
            Ok(Cow::Owned(_))
        ));
        assert!(matches!(
            <&str>::from_sql_temporary(oid::TEXT, Format::Text, raw),
            Err(TypeError::CannotBorrow { .. })
        ));
    }

    proptest! {
        #[test]
        fn roundtrips(s in ".*", o in prop_oneof![Just(oid::TEXT), Just(oid::VARCHAR), Just(oid::JSONB), Just(oid::UNKNOWN)]) {
            for format in [Format::Binary, Format::Text] {
                let bytes = enc(&s, o, format).unwrap();
                prop_assert_eq!(String::from_sql(o, format, &bytes).unwrap(), s.clone());
                prop_assert_eq!(<&str>::from_sql(o, format, &bytes).unwrap(), s.as_str());
            }
        }

        #[test]
        fn random_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..16)) {
            for format in [Format::Binary, Format::Text] {
                for o in [oid::TEXT, oid::JSONB, oid::INT4, 0] {
                    let _ = String::from_sql(o, format, &raw);
                    let _ = Cow::<str>::from_sql(o, format, &raw);
                }
            }
        }
    }
}
