//! `rust_decimal::Decimal` as `numeric` (up to 28 fraction digits and 96-bit
//! mantissas; NaN, the infinities and larger values are out of range).

use alloc::string::ToString;

use ::rust_decimal::Decimal;

use crate::types::{oid, PgNumeric, TypeError};

impl TryFrom<PgNumeric> for Decimal {
    type Error = TypeError;

    /// Exact: fails rather than rounding.
    fn try_from(n: PgNumeric) -> Result<Self, Self::Error> {
        if n.is_nan() || n.is_infinite() {
            return Err(TypeError::OutOfRange {
                target: "rust_decimal::Decimal",
            });
        }
        Self::from_str_exact(&n.to_string()).map_err(|_| TypeError::OutOfRange {
            target: "rust_decimal::Decimal",
        })
    }
}

impl TryFrom<Decimal> for PgNumeric {
    type Error = TypeError;

    fn try_from(d: Decimal) -> Result<Self, Self::Error> {
        d.to_string().parse()
    }
}

via_pg_type!(Decimal, PgNumeric, oid::NUMERIC);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Format, FromSql, ToSql};
    use bytes::BytesMut;
    use core::str::FromStr;

    #[test]
    fn roundtrip() {
        for s in [
            "0",
            "1.50",
            "-12345.6789",
            "0.0000000000000000000000000001",
            "79228162514264337593543950335",
        ] {
            let d = Decimal::from_str(s).unwrap();
            for format in [Format::Binary, Format::Text] {
                let mut out = BytesMut::new();
                d.to_sql(oid::NUMERIC, format, &mut out).unwrap();
                let back = Decimal::from_sql(oid::NUMERIC, format, &out).unwrap();
                assert_eq!((back, back.scale()), (d, d.scale()), "{s}");
            }
        }
        // numeric_send('1.50') in PostgreSQL 15.x.
        let raw = b"\x00\x02\x00\x00\x00\x00\x00\x02\x00\x01\x13\x88";
        assert_eq!(
            Decimal::from_sql(oid::NUMERIC, Format::Binary, raw)
                .unwrap()
                .to_string(),
            "1.50"
        );
        assert!(Decimal::from_sql(oid::NUMERIC, Format::Text, b"NaN").is_err());
        assert!(Decimal::from_sql(oid::NUMERIC, Format::Text, b"1e40").is_err());
        assert!(Decimal::from_sql(
            oid::NUMERIC,
            Format::Text,
            b"0.00000000000000000000000000001"
        )
        .is_err());
    }
}
