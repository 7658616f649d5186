//! `uuid::Uuid` as `uuid`.

use ::uuid::Uuid;

use crate::types::{oid, PgUuid};

impl From<Uuid> for PgUuid {
    fn from(u: Uuid) -> Self {
        Self(u.into_bytes())
    }
}

impl From<PgUuid> for Uuid {
    fn from(u: PgUuid) -> Self {
        Self::from_bytes(u.0)
    }
}

via_pg_type!(Uuid, PgUuid, oid::UUID);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Format, FromSql, ToSql};
    use bytes::BytesMut;

    #[test]
    fn roundtrip() {
        let u = Uuid::from_bytes([7; 16]);
        for format in [Format::Binary, Format::Text] {
            let mut out = BytesMut::new();
            u.to_sql(oid::UUID, format, &mut out).unwrap();
            assert_eq!(Uuid::from_sql(oid::UUID, format, &out), Ok(u));
        }
        let mut out = BytesMut::new();
        u.to_sql(0, Format::Text, &mut out).unwrap();
        assert_eq!(&out[..], b"07070707-0707-0707-0707-070707070707");
        assert!(Uuid::from_sql(oid::TEXT, Format::Text, &out).is_err());
        assert_eq!(u.type_oid(), oid::UUID);
    }
}
