//! `uuid`: [`PgUuid`], 16 bytes.
//!
//! Binary is the 16 bytes. Text output is lowercase `8-4-4-4-12` hex; input follows
//! `uuid_in`: hex digits in any case, an optional hyphen after any group of four, and
//! optional surrounding braces (`{A0EEBC99-9C0B4EF8-BB6D6BB9-BD380A11}`).

use core::fmt;
use core::str::FromStr;

use bytes::{BufMut, BytesMut};

use super::codec::{exact, natural_type, owned_from_sql, utf8, wrong_type};
use super::{oid, Format, FromSql, IsNull, Oid, ToSql, TypeError};

/// A PostgreSQL `uuid`: 16 bytes in network order.
///
/// ```
/// use pgproto_core::types::PgUuid;
/// let u: PgUuid = "{A0EEBC99-9C0B4EF8-BB6D6BB9-BD380A11}".parse().unwrap();
/// assert_eq!(u.to_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PgUuid(pub [u8; 16]);

impl PgUuid {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl From<[u8; 16]> for PgUuid {
    fn from(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }
}

impl From<PgUuid> for [u8; 16] {
    fn from(u: PgUuid) -> Self {
        u.0
    }
}

impl fmt::Display for PgUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for PgUuid {
    type Err = TypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const BAD: TypeError = TypeError::InvalidValue {
            type_name: "uuid",
            reason: "expected 32 hexadecimal digits",
        };
        let (braces, mut rest) = match s.strip_prefix('{') {
            Some(inner) => (true, inner.as_bytes()),
            None => (false, s.as_bytes()),
        };
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            let [hi, lo, tail @ ..] = rest else {
                return Err(BAD);
            };
            let digit = |c: u8| {
                char::from(c)
                    .to_digit(16)
                    .and_then(|d| u8::try_from(d).ok())
            };
            *byte = (digit(*hi).ok_or(BAD)? << 4) | digit(*lo).ok_or(BAD)?;
            rest = tail;
            if i % 2 == 1 && i < 15 {
                if let [b'-', tail @ ..] = rest {
                    rest = tail;
                }
            }
        }
        if braces {
            rest = rest.strip_prefix(b"}").ok_or(BAD)?;
        }
        if rest.is_empty() {
            Ok(Self(out))
        } else {
            Err(BAD)
        }
    }
}

impl<'a> FromSql<'a> for PgUuid {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        if !<Self as FromSql<'_>>::accepts(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        match format {
            Format::Binary => exact("uuid", raw).map(Self),
            Format::Text => utf8("uuid", raw)?.parse(),
        }
    }

    fn accepts(oid: Oid) -> bool {
        matches!(oid, oid::UUID | oid::UNSPECIFIED)
    }

    owned_from_sql!();
}

impl ToSql for PgUuid {
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        if !<Self as ToSql>::accepts(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        match format {
            Format::Binary => out.put_slice(&self.0),
            Format::Text => {
                let _ = fmt::Write::write_fmt(out, format_args!("{self}"));
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(oid: Oid) -> bool {
        matches!(oid, oid::UUID | oid::UNSPECIFIED)
    }

    natural_type!(oid::UUID);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use proptest::prelude::*;

    const BYTES: [u8; 16] = [
        0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a,
        0x11,
    ];

    /// Inputs PostgreSQL 15.x accepts for `a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11`, whose
    /// `uuid_send` is `\xa0eebc999c0b4ef8bb6d6bb9bd380a11`.
    #[test]
    fn postgres_vectors() {
        for s in [
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "{A0EEBC99-9C0B4EF8-BB6D6BB9-BD380A11}",
            "a0eebc999c0b4ef8bb6d6bb9bd380a11",
            "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
        ] {
            assert_eq!(s.parse::<PgUuid>(), Ok(PgUuid(BYTES)), "{s}");
        }
        assert_eq!(
            PgUuid(BYTES).to_string(),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
        );
        assert_eq!(
            PgUuid::from_sql(oid::UUID, Format::Binary, &BYTES),
            Ok(PgUuid(BYTES))
        );
        for bad in [
            "",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
            "a0eebc999-c0b-4ef8-bb6d-6bb9bd380a11",
            "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",
            " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        ] {
            assert!(bad.parse::<PgUuid>().is_err(), "{bad}");
        }
        assert!(PgUuid::from_sql(oid::UUID, Format::Binary, &BYTES[1..]).is_err());
        assert!(PgUuid::from_sql(oid::TEXT, Format::Binary, &BYTES).is_err());
    }

    proptest! {
        #[test]
        fn roundtrips(b: [u8; 16]) {
            for format in [Format::Binary, Format::Text] {
                let mut out = BytesMut::new();
                PgUuid(b).to_sql(oid::UUID, format, &mut out).unwrap();
                prop_assert_eq!(PgUuid::from_sql(oid::UUID, format, &out), Ok(PgUuid(b)));
            }
        }

        #[test]
        fn random_text_never_panics(s in "\\PC{0,40}") {
            let _ = s.parse::<PgUuid>();
        }
    }
}
