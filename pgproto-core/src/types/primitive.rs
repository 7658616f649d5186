//! `bool`, the integers (`int2`, `int4`, `int8`), `oid` and the one-byte `"char"`.
//!
//! | Rust  | decodes                        | encodes to                                   |
//! |-------|--------------------------------|----------------------------------------------|
//! | `bool`| `bool`                         | `bool`                                       |
//! | `i8`  | `"char"`                       | `"char"`                                     |
//! | `i16` | `int2`                         | `int2`, `int4`, `int8`, `numeric`            |
//! | `i32` | `int2`, `int4`                 | `int2`*, `int4`, `int8`, `numeric`           |
//! | `i64` | `int2`, `int4`, `int8`         | `int2`*, `int4`*, `int8`, `numeric`          |
//! | `u32` | `oid`, `xid`, `cid`, `reg*`    | the same, and `int8`                         |
//!
//! `*`: checked, [`TypeError::OutOfRange`] if the value does not fit. The `reg*` types
//! (`regclass`, `regtype`, ...) are OIDs in binary but names in text; their text form
//! only decodes when it is numeric.

use core::fmt::Write as _;

use bytes::{BufMut, BytesMut};

use super::codec::{exact, invalid, natural_type, owned_from_sql, trimmed, wrong_type};
use super::{oid, Format, FromSql, IsNull, Oid, PgNumeric, ToSql, TypeError};

// ---- bool -----------------------------------------------------------------------------

/// Parses PostgreSQL's boolean input: `t`/`f`, `true`/`false`, `yes`/`no`, `on`/`off`,
/// `1`/`0`, any unambiguous prefix of those words, case-insensitive, trimmed.
fn parse_bool(s: &str) -> Option<bool> {
    let lower = s.as_bytes();
    if lower.is_empty() || lower.len() > 5 {
        return None;
    }
    let mut buf = [0u8; 5];
    for (dst, src) in buf.iter_mut().zip(lower) {
        *dst = src.to_ascii_lowercase();
    }
    let w = buf.get(..lower.len())?;
    let prefix_of = |word: &[u8], min: usize| w.len() >= min && word.starts_with(w);
    if prefix_of(b"true", 1) || prefix_of(b"yes", 1) || prefix_of(b"on", 2) || w == b"1" {
        Some(true)
    } else if prefix_of(b"false", 1) || prefix_of(b"no", 1) || prefix_of(b"off", 2) || w == b"0" {
        Some(false)
    } else {
        None
    }
}

impl<'a> FromSql<'a> for bool {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        if !<Self as FromSql<'_>>::accepts(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        match format {
            // boolrecv accepts any non-zero byte as true.
            Format::Binary => exact::<1>("bool", raw).map(|[b]| b != 0),
            Format::Text => {
                parse_bool(trimmed("bool", raw)?).ok_or_else(|| invalid("bool", "expected t or f"))
            }
        }
    }

    fn accepts(oid: Oid) -> bool {
        matches!(oid, oid::BOOL | oid::UNSPECIFIED)
    }

    owned_from_sql!();
}

impl ToSql for bool {
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        if !<Self as ToSql>::accepts(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        match format {
            Format::Binary => out.put_u8(u8::from(*self)),
            Format::Text => out.put_u8(if *self { b't' } else { b'f' }),
        }
        Ok(IsNull::No)
    }

    fn accepts(oid: Oid) -> bool {
        matches!(oid, oid::BOOL | oid::UNSPECIFIED)
    }

    natural_type!(oid::BOOL);
}

// ---- "char" ---------------------------------------------------------------------------

impl<'a> FromSql<'a> for i8 {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        if !<Self as FromSql<'_>>::accepts(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        let byte = match (format, raw) {
            (Format::Binary, [b]) => *b,
            (Format::Binary, _) => return Err(invalid("char", "expected 1 byte")),
            // charin: `\ooo` is an octal escape, otherwise the first byte (0 if empty).
            (Format::Text, [b'\\', a @ b'0'..=b'3', b @ b'0'..=b'7', c @ b'0'..=b'7']) => {
                ((a - b'0') << 6) | ((b - b'0') << 3) | (c - b'0')
            }
            (Format::Text, [first, ..]) => *first,
            (Format::Text, []) => 0,
        };
        Ok(Self::from_be_bytes([byte]))
    }

    fn accepts(oid: Oid) -> bool {
        matches!(oid, oid::CHAR | oid::UNSPECIFIED)
    }

    owned_from_sql!();
}

impl ToSql for i8 {
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        if !<Self as ToSql>::accepts(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        let [byte] = self.to_be_bytes();
        match format {
            Format::Binary => out.put_u8(byte),
            // charout: NUL is the empty string, bytes with the high bit set are `\ooo`.
            Format::Text if byte == 0 => {}
            Format::Text if byte >= 0x80 => {
                out.put_slice(&[
                    b'\\',
                    b'0' + (byte >> 6),
                    b'0' + ((byte >> 3) & 7),
                    b'0' + (byte & 7),
                ]);
            }
            Format::Text => out.put_u8(byte),
        }
        Ok(IsNull::No)
    }

    fn accepts(oid: Oid) -> bool {
        matches!(oid, oid::CHAR | oid::UNSPECIFIED)
    }

    natural_type!(oid::CHAR);
}

// ---- integers -------------------------------------------------------------------------

/// Reads an integer of the column's type `oid` (one of int2/int4/int8).
fn decode_int(oid: Oid, format: Format, raw: &[u8]) -> Result<i64, TypeError> {
    match (oid, format) {
        (oid::INT2, Format::Binary) => exact("int2", raw).map(|b| i16::from_be_bytes(b).into()),
        (oid::INT4, Format::Binary) => exact("int4", raw).map(|b| i32::from_be_bytes(b).into()),
        (oid::INT8, Format::Binary) => exact("int8", raw).map(i64::from_be_bytes),
        (oid::INT2, Format::Text) => parse_int::<i16>("int2", raw).map(i64::from),
        (oid::INT4, Format::Text) => parse_int::<i32>("int4", raw).map(i64::from),
        (_, Format::Text) => parse_int::<i64>("int8", raw),
        (_, Format::Binary) => Err(invalid("int8", "not an integer type")),
    }
}

fn parse_int<T: core::str::FromStr>(type_name: &'static str, raw: &[u8]) -> Result<T, TypeError> {
    let s = trimmed(type_name, raw)?;
    s.parse::<T>().map_err(|_| {
        let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            TypeError::OutOfRange { target: type_name }
        } else {
            invalid(type_name, "expected an integer")
        }
    })
}

/// Writes `v` as an integer type (or numeric), checking the range.
fn encode_int(v: i64, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
    let range = |target| move |_| TypeError::OutOfRange { target };
    match (oid, format) {
        (oid::INT2, Format::Binary) => out.put_i16(i16::try_from(v).map_err(range("int2"))?),
        (oid::INT4, Format::Binary) => out.put_i32(i32::try_from(v).map_err(range("int4"))?),
        (oid::INT8, Format::Binary) => out.put_i64(v),
        (oid::NUMERIC, _) => return PgNumeric::from(v).to_sql(oid, format, out),
        (oid::INT2, Format::Text) => {
            let v = i16::try_from(v).map_err(range("int2"))?;
            let _ = write!(out, "{v}");
        }
        (oid::INT4, Format::Text) => {
            let v = i32::try_from(v).map_err(range("int4"))?;
            let _ = write!(out, "{v}");
        }
        (_, Format::Text) => {
            let _ = write!(out, "{v}");
        }
        (_, Format::Binary) => out.put_i64(v),
    }
    Ok(IsNull::No)
}

macro_rules! signed_int {
    ($t:ty, $natural:expr, [$($decodes:path),*]) => {
        impl<'a> FromSql<'a> for $t {
            fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
                if !<Self as FromSql<'_>>::accepts(oid) {
                    return Err(wrong_type::<Self>(oid));
                }
                let oid = if oid == oid::UNSPECIFIED { $natural } else { oid };
                let v = decode_int(oid, format, raw)?;
                <$t>::try_from(v).map_err(|_| TypeError::OutOfRange {
                    target: stringify!($t),
                })
            }

            fn accepts(oid: Oid) -> bool {
                matches!(oid, $($decodes)|* | oid::UNSPECIFIED)
            }

            owned_from_sql!();
        }

        impl ToSql for $t {
            fn to_sql(
                &self,
                oid: Oid,
                format: Format,
                out: &mut BytesMut,
            ) -> Result<IsNull, TypeError> {
                if !<Self as ToSql>::accepts(oid) {
                    return Err(wrong_type::<Self>(oid));
                }
                let oid = if oid == oid::UNSPECIFIED { $natural } else { oid };
                encode_int(i64::from(*self), oid, format, out)
            }

            fn accepts(oid: Oid) -> bool {
                matches!(
                    oid,
                    oid::INT2 | oid::INT4 | oid::INT8 | oid::NUMERIC | oid::UNSPECIFIED
                )
            }

            natural_type!($natural);
        }
    };
}

signed_int!(i16, oid::INT2, [oid::INT2]);
signed_int!(i32, oid::INT4, [oid::INT2, oid::INT4]);
signed_int!(i64, oid::INT8, [oid::INT2, oid::INT4, oid::INT8]);

// ---- oid ------------------------------------------------------------------------------

/// The 4-byte unsigned types: `oid`, `xid`, `cid` and the `reg*` aliases of `oid`.
fn is_oid_like(oid: Oid) -> bool {
    matches!(
        oid,
        oid::OID
            | oid::XID
            | oid::CID
            | oid::REGPROC
            | oid::REGPROCEDURE
            | oid::REGOPER
            | oid::REGOPERATOR
            | oid::REGCLASS
            | oid::REGTYPE
            | oid::REGCONFIG
            | oid::REGDICTIONARY
            | oid::REGNAMESPACE
            | oid::REGROLE
            | oid::REGCOLLATION
            | oid::UNSPECIFIED
    )
}

impl<'a> FromSql<'a> for u32 {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        if !is_oid_like(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        match format {
            Format::Binary => exact("oid", raw).map(Self::from_be_bytes),
            Format::Text => {
                // oidin also accepts negative numbers down to -2^31, wrapping them.
                let v = parse_int::<i64>("oid", raw)?;
                Self::try_from(v)
                    .or_else(|_| i32::try_from(v).map(|v| Self::from_be_bytes(v.to_be_bytes())))
                    .map_err(|_| TypeError::OutOfRange { target: "oid" })
            }
        }
    }

    fn accepts(oid: Oid) -> bool {
        is_oid_like(oid)
    }

    owned_from_sql!();
}

impl ToSql for u32 {
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        match (oid, format) {
            (oid::INT8 | oid::NUMERIC, _) => encode_int(i64::from(*self), oid, format, out),
            (o, Format::Binary) if is_oid_like(o) => {
                out.put_u32(*self);
                Ok(IsNull::No)
            }
            (o, Format::Text) if is_oid_like(o) => {
                let _ = write!(out, "{self}");
                Ok(IsNull::No)
            }
            _ => Err(wrong_type::<Self>(oid)),
        }
    }

    fn accepts(oid: Oid) -> bool {
        is_oid_like(oid) || matches!(oid, oid::INT8 | oid::NUMERIC)
    }

    natural_type!(oid::OID);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn enc<T: ToSql>(v: T, oid: Oid, format: Format) -> Vec<u8> {
        let mut out = BytesMut::new();
        assert_eq!(v.to_sql(oid, format, &mut out).unwrap(), IsNull::No);
        out.to_vec()
    }

    // Binary vectors from PostgreSQL 15.x: boolsend, int2send, int4send, int8send,
    // oidsend, charsend.
    #[test]
    fn binary_vectors() {
        assert_eq!(enc(true, oid::BOOL, Format::Binary), b"\x01");
        assert_eq!(enc(false, oid::BOOL, Format::Binary), b"\x00");
        assert_eq!(enc(-2i16, oid::INT2, Format::Binary), b"\xff\xfe");
        assert_eq!(enc(32767i16, oid::INT2, Format::Binary), b"\x7f\xff");
        assert_eq!(enc(5i32, oid::INT4, Format::Binary), b"\x00\x00\x00\x05");
        assert_eq!(
            enc(-1234567890123i64, oid::INT8, Format::Binary),
            b"\xff\xff\xfe\xe0\x8e\x04\xfb\x35"
        );
        assert_eq!(
            enc(4294967295u32, oid::OID, Format::Binary),
            b"\xff\xff\xff\xff"
        );
        assert_eq!(enc(b'x' as i8, oid::CHAR, Format::Binary), b"x");
        assert_eq!(
            i16::from_sql(oid::INT2, Format::Binary, b"\xff\xfe"),
            Ok(-2)
        );
        assert_eq!(
            i64::from_sql(
                oid::INT8,
                Format::Binary,
                b"\xff\xff\xfe\xe0\x8e\x04\xfb\x35"
            ),
            Ok(-1234567890123)
        );
        assert_eq!(bool::from_sql(oid::BOOL, Format::Binary, b"\x01"), Ok(true));
        assert_eq!(bool::from_sql(oid::BOOL, Format::Binary, b"\x02"), Ok(true));
        assert_eq!(
            u32::from_sql(oid::OID, Format::Binary, b"\xff\xff\xff\xff"),
            Ok(u32::MAX)
        );
    }

    #[test]
    fn text_vectors() {
        assert_eq!(enc(true, oid::BOOL, Format::Text), b"t");
        assert_eq!(enc(false, 0, Format::Text), b"f");
        assert_eq!(enc(-32768i16, oid::INT2, Format::Text), b"-32768");
        assert_eq!(enc(4294967295u32, oid::OID, Format::Text), b"4294967295");
        // "char": charout of 'a', NUL and 0xff (PostgreSQL 15).
        assert_eq!(enc(b'a' as i8, oid::CHAR, Format::Text), b"a");
        assert_eq!(enc(0i8, oid::CHAR, Format::Text), b"");
        assert_eq!(enc(-1i8, oid::CHAR, Format::Text), b"\\377");
        assert_eq!(i8::from_sql(oid::CHAR, Format::Text, b"\\377"), Ok(-1));
        assert_eq!(i8::from_sql(oid::CHAR, Format::Text, b""), Ok(0));
        for (s, v) in [
            ("t", true),
            ("TRUE", true),
            (" yes ", true),
            ("on", true),
            ("1", true),
            ("f", false),
            ("fal", false),
            ("no", false),
            ("OFF", false),
            ("0", false),
        ] {
            assert_eq!(
                bool::from_sql(oid::BOOL, Format::Text, s.as_bytes()),
                Ok(v),
                "{s}"
            );
        }
        for s in ["", "o", "tru e", "2", "truee", "yess"] {
            assert!(
                bool::from_sql(oid::BOOL, Format::Text, s.as_bytes()).is_err(),
                "{s}"
            );
        }
        assert_eq!(i32::from_sql(oid::INT4, Format::Text, b" -17 "), Ok(-17));
        assert_eq!(i32::from_sql(oid::INT4, Format::Text, b"+17"), Ok(17));
        assert_eq!(
            i16::from_sql(oid::INT2, Format::Text, b"40000"),
            Err(TypeError::OutOfRange { target: "int2" })
        );
        assert!(i32::from_sql(oid::INT4, Format::Text, b"1.5").is_err());
        assert_eq!(u32::from_sql(oid::OID, Format::Text, b"-1"), Ok(u32::MAX));
    }

    #[test]
    fn widening_and_narrowing() {
        assert_eq!(
            i64::from_sql(oid::INT2, Format::Binary, b"\xff\xfe"),
            Ok(-2)
        );
        assert_eq!(i32::from_sql(oid::INT2, Format::Binary, b"\x00\x07"), Ok(7));
        assert!(i32::from_sql(oid::INT8, Format::Binary, &[0; 8]).is_err());
        assert!(i16::from_sql(oid::INT4, Format::Binary, &[0; 4]).is_err());
        assert_eq!(
            enc(7i16, oid::INT8, Format::Binary),
            [0, 0, 0, 0, 0, 0, 0, 7]
        );
        assert_eq!(enc(7i64, oid::INT2, Format::Binary), [0, 7]);
        let mut out = BytesMut::new();
        assert_eq!(
            70000i64.to_sql(oid::INT2, Format::Binary, &mut out),
            Err(TypeError::OutOfRange { target: "int2" })
        );
        assert_eq!(
            70000i32.to_sql(oid::INT2, Format::Text, &mut out),
            Err(TypeError::OutOfRange { target: "int2" })
        );
        assert!(1i32.to_sql(oid::TEXT, Format::Text, &mut out).is_err());
        assert!(out.is_empty());
        // Integers into numeric (numeric_send(5) in PostgreSQL 15).
        assert_eq!(
            enc(1i32, oid::NUMERIC, Format::Binary),
            b"\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01"
        );
        assert_eq!(enc(-1i64, oid::NUMERIC, Format::Text), b"-1");
    }

    #[test]
    fn wrong_lengths() {
        assert!(i32::from_sql(oid::INT4, Format::Binary, &[0; 3]).is_err());
        assert!(i32::from_sql(oid::INT4, Format::Binary, &[0; 5]).is_err());
        assert!(bool::from_sql(oid::BOOL, Format::Binary, &[]).is_err());
        assert!(i8::from_sql(oid::CHAR, Format::Binary, &[1, 2]).is_err());
        assert!(i64::from_sql(oid::TEXT, Format::Binary, &[0; 8]).is_err());
    }

    fn roundtrip<T>(v: T, oid: Oid)
    where
        T: ToSql + for<'a> FromSql<'a> + PartialEq + core::fmt::Debug,
    {
        for format in [Format::Binary, Format::Text] {
            let bytes = enc(&v, oid, format);
            assert_eq!(T::from_sql(oid, format, &bytes).unwrap(), v);
        }
    }

    proptest! {
        #[test]
        fn roundtrips(b: bool, c: i8, s: i16, i: i32, l: i64, o: u32) {
            roundtrip(b, oid::BOOL);
            roundtrip(c, oid::CHAR);
            roundtrip(s, oid::INT2);
            roundtrip(i, oid::INT4);
            roundtrip(l, oid::INT8);
            roundtrip(o, oid::OID);
        }

        #[test]
        fn random_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..12)) {
            for format in [Format::Binary, Format::Text] {
                for oid in [oid::BOOL, oid::CHAR, oid::INT2, oid::INT4, oid::INT8, oid::OID, 0] {
                    let _ = bool::from_sql(oid, format, &raw);
                    let _ = i8::from_sql(oid, format, &raw);
                    let _ = i16::from_sql(oid, format, &raw);
                    let _ = i32::from_sql(oid, format, &raw);
                    let _ = i64::from_sql(oid, format, &raw);
                    let _ = u32::from_sql(oid, format, &raw);
                }
            }
        }
    }
}
