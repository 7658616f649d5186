//! `bytea`, for `&[u8]`, `Vec<u8>` and `Cow<[u8]>`.
//!
//! Binary is the bytes themselves. Text output is the hex format (`\x0aff`, PostgreSQL's
//! default `bytea_output`); text input also accepts the legacy escape format
//! (`a\\b\001`), in which `\\` is a backslash, `\ooo` an octal byte and every other byte
//! itself.
//!
//! `&[u8]` borrows and so decodes the binary format only; decode text into `Vec<u8>` or
//! `Cow<[u8]>`.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use bytes::{BufMut, BytesMut};

use super::codec::{invalid, natural_type, owned_from_sql, unsupported_format, wrong_type};
use super::{oid, Format, FromSql, IsNull, Oid, ToSql, TypeError};

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `bytea`'s text format (hex or escape).
pub(crate) fn decode_text(raw: &[u8]) -> Result<Vec<u8>, TypeError> {
    if let Some(hex) = raw.strip_prefix(b"\\x") {
        let mut out = Vec::with_capacity(hex.len() / 2);
        let mut it = hex.iter().copied();
        while let Some(hi) = it.next() {
            // Whitespace may separate the pairs of digits.
            if matches!(hi, b' ' | b'\n' | b'\t' | b'\r') {
                continue;
            }
            let hi = hex_value(hi).ok_or(invalid("bytea", "invalid hexadecimal digit"))?;
            let lo = it
                .next()
                .ok_or(invalid("bytea", "odd number of hexadecimal digits"))?;
            let lo = hex_value(lo).ok_or(invalid("bytea", "invalid hexadecimal digit"))?;
            out.push((hi << 4) | lo);
        }
        return Ok(out);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some((&b, tail)) = rest.split_first() {
        if b != b'\\' {
            out.push(b);
            rest = tail;
            continue;
        }
        match tail {
            [b'\\', more @ ..] => {
                out.push(b'\\');
                rest = more;
            }
            [a @ b'0'..=b'3', b @ b'0'..=b'7', c @ b'0'..=b'7', more @ ..] => {
                out.push(((a - b'0') << 6) | ((b - b'0') << 3) | (c - b'0'));
                rest = more;
            }
            _ => return Err(invalid("bytea", "invalid escape sequence")),
        }
    }
    Ok(out)
}

/// Writes `bytes` in `bytea`'s hex text format.
pub(crate) fn encode_hex(bytes: &[u8], out: &mut BytesMut) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(2 + bytes.len() * 2);
    out.put_slice(b"\\x");
    for &b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            out.put_u8(DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'));
        }
    }
}

fn check_oid<T: ?Sized>(oid: Oid) -> Result<(), TypeError> {
    if matches!(oid, oid::BYTEA | oid::UNSPECIFIED) {
        Ok(())
    } else {
        Err(wrong_type::<T>(oid))
    }
}

fn encode(bytes: &[u8], format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
    match format {
        Format::Binary => out.put_slice(bytes),
        Format::Text => encode_hex(bytes, out),
    }
    Ok(IsNull::No)
}

impl<'a> FromSql<'a> for &'a [u8] {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        check_oid::<Self>(oid)?;
        match format {
            Format::Binary => Ok(raw),
            Format::Text => Err(unsupported_format::<Self>(oid, format)),
        }
    }

    fn accepts(oid: Oid) -> bool {
        matches!(oid, oid::BYTEA | oid::UNSPECIFIED)
    }
}

impl<'a> FromSql<'a> for Vec<u8> {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        check_oid::<Self>(oid)?;
        match format {
            Format::Binary => Ok(raw.to_vec()),
            Format::Text => decode_text(raw),
        }
    }

    fn accepts(oid: Oid) -> bool {
        matches!(oid, oid::BYTEA | oid::UNSPECIFIED)
    }

    owned_from_sql!();
}

impl<'a> FromSql<'a> for Cow<'a, [u8]> {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        check_oid::<Self>(oid)?;
        match format {
            Format::Binary => Ok(Cow::Borrowed(raw)),
            Format::Text => decode_text(raw).map(Cow::Owned),
        }
    }

    fn accepts(oid: Oid) -> bool {
        matches!(oid, oid::BYTEA | oid::UNSPECIFIED)
    }

    fn from_sql_temporary(oid: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
        Vec::<u8>::from_sql(oid, format, raw).map(Cow::Owned)
    }
}

macro_rules! bytes_to_sql {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_sql(
                &self,
                oid: Oid,
                format: Format,
                out: &mut BytesMut,
            ) -> Result<IsNull, TypeError> {
                check_oid::<Self>(oid)?;
                encode(self, format, out)
            }

            fn accepts(oid: Oid) -> bool {
                matches!(oid, oid::BYTEA | oid::UNSPECIFIED)
            }

            natural_type!(oid::BYTEA);
        }
    )*};
}

bytes_to_sql!(&[u8], Vec<u8>, Cow<'_, [u8]>);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(v: &[u8]) -> Vec<u8> {
        let mut out = BytesMut::new();
        v.to_sql(oid::BYTEA, Format::Text, &mut out).unwrap();
        out.to_vec()
    }

    /// `select x::text, encode(x, 'escape')` in PostgreSQL 15.x.
    #[test]
    fn postgres_vectors() {
        let cases: &[(&[u8], &[u8], &[u8])] = &[
            (b"", b"\\x", b""),
            (b"\x00\xff\x10", b"\\x00ff10", b"\\000\\377\\020"),
            (b"\xde\xad\xbe\xef", b"\\xdeadbeef", b"\\336\\255\\276\\357"),
            (b"abc\\def", b"\\x6162635c646566", b"abc\\\\def"),
            (b"\\'", b"\\x5c27", b"\\\\'"),
            (b"\n\x7f\x80", b"\\x0a7f80", b"\n\x7f\\200"),
        ];
        for &(bytes, hex, escape) in cases {
            assert_eq!(text(bytes), hex);
            assert_eq!(
                Vec::<u8>::from_sql(oid::BYTEA, Format::Text, hex).unwrap(),
                bytes
            );
            assert_eq!(
                Vec::<u8>::from_sql(oid::BYTEA, Format::Text, escape).unwrap(),
                bytes
            );
            assert_eq!(
                <&[u8]>::from_sql(oid::BYTEA, Format::Binary, bytes).unwrap(),
                bytes
            );
        }
        // byteain: E'a\\\\b\\001\\377c' and '\x 01 02'.
        assert_eq!(
            Vec::<u8>::from_sql(oid::BYTEA, Format::Text, b"a\\\\b\\001\\377c").unwrap(),
            b"a\\b\x01\xffc"
        );
        assert_eq!(
            Vec::<u8>::from_sql(oid::BYTEA, Format::Text, b"\\x 01 02").unwrap(),
            [1, 2]
        );
        assert_eq!(
            Vec::<u8>::from_sql(oid::BYTEA, Format::Text, b"\\xAbCd").unwrap(),
            [0xab, 0xcd]
        );
    }

    #[test]
    fn bad_text() {
        for bad in [
            &b"\\x0"[..],
            b"\\x0g",
            b"\\x0 1",
            b"a\\",
            b"\\400",
            b"\\9",
            b"\\01",
        ] {
            assert!(
                Vec::<u8>::from_sql(oid::BYTEA, Format::Text, bad).is_err(),
                "{bad:?}"
            );
        }
        assert!(<&[u8]>::from_sql(oid::BYTEA, Format::Text, b"\\x").is_err());
        assert!(Vec::<u8>::from_sql(oid::TEXT, Format::Binary, b"").is_err());
    }

    proptest! {
        #[test]
        fn roundtrips(v in proptest::collection::vec(any::<u8>(), 0..64)) {
            for format in [Format::Binary, Format::Text] {
                let mut out = BytesMut::new();
                v.to_sql(oid::BYTEA, format, &mut out).unwrap();
                prop_assert_eq!(Vec::<u8>::from_sql(oid::BYTEA, format, &out).unwrap(), v.clone());
                prop_assert_eq!(Cow::<[u8]>::from_sql(oid::BYTEA, format, &out).unwrap(), &v[..]);
            }
        }

        #[test]
        fn random_text_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..24)) {
            let _ = Vec::<u8>::from_sql(oid::BYTEA, Format::Text, &raw);
            let mut hex = b"\\x".to_vec();
            hex.extend(&raw);
            let _ = Vec::<u8>::from_sql(oid::BYTEA, Format::Text, &hex);
        }
    }
}
