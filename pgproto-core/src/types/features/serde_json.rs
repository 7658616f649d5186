//! `serde_json::Value` as `json` or `jsonb`.

use alloc::string::String;

use ::serde_json::Value;
use bytes::BytesMut;

use crate::types::codec::{invalid, wrong_type};
use crate::types::text::{decode_str, encode_str};
use crate::types::{oid, Format, FromSql, IsNull, Oid, ToSql, TypeError};

fn is_json(oid: Oid) -> bool {
    matches!(oid, oid::JSON | oid::JSONB | oid::UNSPECIFIED)
}

impl<'a> FromSql<'a> for Value {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        if !is_json(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        let oid = if oid == oid::UNSPECIFIED {
            oid::JSONB
        } else {
            oid
        };
        let text = decode_str::<Self>(oid, format, raw)?;
        ::serde_json::from_str(text).map_err(|_| invalid("json", "invalid JSON document"))
    }

    fn accepts(oid: Oid) -> bool {
        is_json(oid)
    }

    crate::types::codec::owned_from_sql!();
}

impl ToSql for Value {
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        if !is_json(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        let oid = if oid == oid::UNSPECIFIED {
            oid::JSONB
        } else {
            oid
        };
        let text: String = ::serde_json::to_string(self)
            .map_err(|_| invalid("json", "value cannot be serialized"))?;
        encode_str::<Self>(&text, oid, format, out)
    }

    fn accepts(oid: Oid) -> bool {
        is_json(oid)
    }

    crate::types::codec::natural_type!(oid::JSONB);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Json;

    #[test]
    fn roundtrip() {
        let v: Value = ::serde_json::from_str(r#"{"a": [1, true, null, "x"]}"#).unwrap();
        for o in [oid::JSON, oid::JSONB] {
            for format in [Format::Binary, Format::Text] {
                let mut out = BytesMut::new();
                v.to_sql(o, format, &mut out).unwrap();
                assert_eq!(Value::from_sql(o, format, &out).as_ref(), Ok(&v));
                assert_eq!(
                    Json::<Value>::from_sql(o, format, &out),
                    Ok(Json(v.clone()))
                );
            }
        }
        // jsonb_send of '{"a": 1, "b": [true, null]}' in PostgreSQL 15.x.
        let raw = b"\x01{\"a\": 1, \"b\": [true, null]}";
        let v = Value::from_sql(oid::JSONB, Format::Binary, raw).unwrap();
        assert_eq!(v["b"][0], Value::Bool(true));
        assert!(Value::from_sql(oid::JSONB, Format::Binary, b"\x01{").is_err());
        assert!(Value::from_sql(oid::TEXT, Format::Text, b"{}").is_err());
    }
}
