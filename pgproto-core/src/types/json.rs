//! `json` and `jsonb`: [`Json`], a marker around a value stored as JSON.
//!
//! `json`'s binary format is its text; `jsonb`'s is a version byte (1) followed by the
//! text. Strings (`&str`, `String`, ...) handle both directly; `Json<T>` restricts the
//! PostgreSQL type to `json`/`jsonb` and delegates to `T` for the text. With the
//! `serde_json` feature, `serde_json::Value` (and so `Json<serde_json::Value>`) parses
//! and serializes the document.

use bytes::BytesMut;

use super::codec::wrong_type;
use super::{oid, Format, FromSql, IsNull, Oid, ToSql, TypeError};

/// A JSON document as `json` or `jsonb`: `Json(r#"{"a": 1}"#)`, `Json(String)`, or
/// with the `serde_json` feature `Json(serde_json::Value)`.
///
/// ```
/// use bytes::BytesMut;
/// use pgproto_core::message::Format;
/// use pgproto_core::types::{oid, FromSql, Json, ToSql};
///
/// let mut out = BytesMut::new();
/// Json(r#"{"a": 1}"#).to_sql(oid::JSONB, Format::Binary, &mut out).unwrap();
/// assert_eq!(&out[..], b"\x01{\"a\": 1}");
/// let Json(text) = Json::<&str>::from_sql(oid::JSONB, Format::Binary, &out).unwrap();
/// assert_eq!(text, r#"{"a": 1}"#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Json<T>(pub T);

fn is_json(oid: Oid) -> bool {
    matches!(oid, oid::JSON | oid::JSONB | oid::UNSPECIFIED)
}

impl<'a, T: FromSql<'a>> FromSql<'a> for Json<T> {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        if !is_json(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        let oid = if oid == oid::UNSPECIFIED {
            oid::JSONB
        } else {
            oid
        };
        T::from_sql(oid, format, raw).map(Json)
    }

    fn accepts(oid: Oid) -> bool {
        is_json(oid)
    }

    fn from_sql_temporary(oid: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
        if !is_json(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        let oid = if oid == oid::UNSPECIFIED {
            oid::JSONB
        } else {
            oid
        };
        T::from_sql_temporary(oid, format, raw).map(Json)
    }
}

impl<T: ToSql> ToSql for Json<T> {
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        if !is_json(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        let oid = if oid == oid::UNSPECIFIED {
            oid::JSONB
        } else {
            oid
        };
        self.0.to_sql(oid, format, out)
    }

    fn type_oid(&self) -> Oid {
        oid::JSONB
    }

    fn accepts(oid: Oid) -> bool {
        is_json(oid)
    }

    fn natural_type_oid() -> Oid {
        oid::JSONB
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn enc(v: &dyn ToSql, oid: Oid, format: Format) -> Vec<u8> {
        let mut out = BytesMut::new();
        v.to_sql(oid, format, &mut out).unwrap();
        out.to_vec()
    }

    /// jsonb_send / json_send in PostgreSQL 15.x.
    #[test]
    fn postgres_vectors() {
        let jsonb = b"\x01{\"a\": 1, \"b\": [true, null]}";
        assert_eq!(
            Json::<String>::from_sql(oid::JSONB, Format::Binary, jsonb)
                .unwrap()
                .0,
            "{\"a\": 1, \"b\": [true, null]}"
        );
        assert_eq!(enc(&Json("1.50"), oid::JSONB, Format::Binary), b"\x011.50");
        assert_eq!(enc(&Json("1.50"), 0, Format::Binary), b"\x011.50");
        assert_eq!(
            enc(&Json("{\"a\":1}"), oid::JSON, Format::Binary),
            b"{\"a\":1}"
        );
        assert_eq!(enc(&Json("{}"), oid::JSONB, Format::Text), b"{}");
        assert_eq!(Json("x").type_oid(), oid::JSONB);
        let mut out = BytesMut::new();
        assert!(Json("{}")
            .to_sql(oid::TEXT, Format::Text, &mut out)
            .is_err());
        assert!(Json::<&str>::from_sql(oid::TEXT, Format::Text, b"{}").is_err());
        assert!(Json::<&str>::from_sql(oid::JSONB, Format::Binary, b"{}").is_err());
    }

    proptest! {
        #[test]
        fn roundtrips(s in ".*") {
            for o in [oid::JSON, oid::JSONB] {
                for format in [Format::Binary, Format::Text] {
                    let bytes = enc(&Json(s.as_str()), o, format);
                    prop_assert_eq!(Json::<String>::from_sql(o, format, &bytes).unwrap().0, s.clone());
                }
            }
        }

        #[test]
        fn random_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..16)) {
            for format in [Format::Binary, Format::Text] {
                let _ = Json::<&str>::from_sql(oid::JSONB, format, &raw);
                let _ = Json::<String>::from_sql(oid::JSON, format, &raw);
            }
        }
    }
}
