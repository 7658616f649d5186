//! Conversions to and from other crates' types, each behind the cargo feature of the
//! same name: `chrono`, `time`, `uuid`, `serde_json` and `rust_decimal`. They convert
//! through this crate's own types (`From`/`TryFrom` impls between the two are public),
//! so the PostgreSQL formats live in one place.

/// Implements `FromSql` and `ToSql` for a foreign type `$t` through the crate type `$pg`,
/// given fallible conversions both ways.
#[allow(unused_macros)]
macro_rules! via_pg_type {
    ($t:ty, $pg:ty, $oid:path) => {
        impl<'a> $crate::types::FromSql<'a> for $t {
            fn from_sql(
                oid: $crate::types::Oid,
                format: $crate::types::Format,
                raw: &'a [u8],
            ) -> Result<Self, $crate::types::TypeError> {
                if !<Self as $crate::types::FromSql<'_>>::accepts(oid) {
                    return Err($crate::types::codec::wrong_type::<Self>(oid));
                }
                let pg = <$pg as $crate::types::FromSql<'_>>::from_sql(oid, format, raw)?;
                <$t>::try_from(pg).map_err(Into::into)
            }

            fn accepts(oid: $crate::types::Oid) -> bool {
                <$pg as $crate::types::FromSql<'_>>::accepts(oid)
            }

            $crate::types::codec::owned_from_sql!();
        }

        impl $crate::types::ToSql for $t {
            fn to_sql(
                &self,
                oid: $crate::types::Oid,
                format: $crate::types::Format,
                out: &mut bytes::BytesMut,
            ) -> Result<$crate::types::IsNull, $crate::types::TypeError> {
                if !<Self as $crate::types::ToSql>::accepts(oid) {
                    return Err($crate::types::codec::wrong_type::<Self>(oid));
                }
                <$pg>::try_from(self.clone())
                    .map_err(Into::<$crate::types::TypeError>::into)?
                    .to_sql(oid, format, out)
            }

            fn accepts(oid: $crate::types::Oid) -> bool {
                <$pg as $crate::types::ToSql>::accepts(oid)
            }

            $crate::types::codec::natural_type!($oid);
        }
    };
}

#[cfg(feature = "chrono")]
mod chrono;
#[cfg(feature = "rust_decimal")]
mod rust_decimal;
#[cfg(feature = "serde_json")]
mod serde_json;
#[cfg(feature = "time")]
mod time;
#[cfg(feature = "uuid")]
mod uuid;
