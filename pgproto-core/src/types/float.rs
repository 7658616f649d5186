//! `float4` and `float8` (`f32`, `f64`).
//!
//! Binary is the IEEE 754 bit pattern, big-endian. Text is PostgreSQL 12+'s output with
//! the default `extra_float_digits = 1`: Ryu's shortest decimal that reads back as the
//! same number (digit for digit what PostgreSQL prints, see `shortest.rs`), in fixed notation for decimal exponents from -4 up to (excluding) 15 for
//! `float8` and 6 for `float4`, and as `d.ddde+XX` otherwise; `NaN`, `Infinity`,
//! `-Infinity` and `-0` are spelled out.
//!
//! `f64` decodes `float4` too (exactly); `f32` encodes to `float8` too.

use alloc::string::String;
use core::fmt::Write as _;

use bytes::{BufMut, BytesMut};

use super::codec::{exact, invalid, natural_type, owned_from_sql, trimmed, wrong_type};
use super::shortest;
use super::{oid, Format, FromSql, IsNull, Oid, ToSql, TypeError};

/// Writes a finite float the way PostgreSQL's `float8out`/`float4out` do, given its
/// sign and shortest digits (`digits × 10^exp`, from [`shortest`](super::shortest));
/// `fixed_below` is the first decimal exponent printed in scientific notation (15 for
/// float8, 6 for float4).
fn write_pg_float(negative: bool, digits: u64, exp: i32, fixed_below: i32, out: &mut BytesMut) {
    let mut text = String::new();
    let _ = write!(text, "{digits}");
    let digits = text.as_str();
    // The exponent of the first digit, as in d.ddd × 10^sci.
    let sci = exp + i32::try_from(digits.len()).unwrap_or(0) - 1;
    if negative {
        out.put_u8(b'-');
    }
    if digits == "0" {
        out.put_u8(b'0');
    } else if (-4..fixed_below).contains(&sci) {
        if sci < 0 {
            out.put_slice(b"0.");
            for _ in 0..(-sci - 1) {
                out.put_u8(b'0');
            }
            out.put_slice(digits.as_bytes());
        } else {
            let int_len = usize::try_from(sci).unwrap_or(0) + 1;
            let (int, frac) = digits.split_at(int_len.min(digits.len()));
            out.put_slice(int.as_bytes());
            for _ in int.len()..int_len {
                out.put_u8(b'0');
            }
            if !frac.is_empty() {
                out.put_u8(b'.');
                out.put_slice(frac.as_bytes());
            }
        }
    } else {
        // float8out moves the trailing zeros of an integer-valued mantissa (exponent 0)
        // into the exponent; `sci` was computed before and stays.
        let digits = if exp == 0 {
            digits.trim_end_matches('0')
        } else {
            digits
        };
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.put_slice(first.as_bytes());
        if !rest.is_empty() {
            out.put_u8(b'.');
            out.put_slice(rest.as_bytes());
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if sci < 0 { '-' } else { '+' },
            sci.unsigned_abs()
        );
    }
}

fn write_special(v: f64, out: &mut BytesMut) -> bool {
    if v.is_nan() {
        out.put_slice(b"NaN");
    } else if v == f64::INFINITY {
        out.put_slice(b"Infinity");
    } else if v == f64::NEG_INFINITY {
        out.put_slice(b"-Infinity");
    } else {
        return false;
    }
    true
}

/// Parses float input the way `float8in` does: trimmed, `NaN`/`Infinity`/`inf` in any
/// case with an optional sign, otherwise a decimal number that must not overflow.
fn parse_float<T>(type_name: &'static str, raw: &[u8]) -> Result<T, TypeError>
where
    T: core::str::FromStr + Copy + Into<f64>,
{
    let s = trimmed(type_name, raw)?;
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let is_word = body.eq_ignore_ascii_case("nan")
        || body.eq_ignore_ascii_case("inf")
        || body.eq_ignore_ascii_case("infinity");
    if !is_word
        && !body
            .bytes()
            .all(|b| b.is_ascii_digit() || b".eE+-".contains(&b))
    {
        return Err(invalid(type_name, "expected a floating-point number"));
    }
    let v: T = s
        .parse()
        .map_err(|_| invalid(type_name, "expected a floating-point number"))?;
    let f: f64 = v.into();
    if !is_word && f.is_infinite() {
        return Err(TypeError::OutOfRange { target: type_name });
    }
    if !is_word && f == 0.0 {
        // Underflow to zero: a non-zero digit in the mantissa.
        let mantissa = body.split(['e', 'E']).next().unwrap_or("");
        if mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
            return Err(TypeError::OutOfRange { target: type_name });
        }
    }
    Ok(v)
}

impl<'a> FromSql<'a> for f64 {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        match (oid, format) {
            (oid::FLOAT4, _) => f32::from_sql(oid, format, raw).map(Self::from),
            (oid::FLOAT8 | oid::UNSPECIFIED, Format::Binary) => {
                exact("float8", raw).map(Self::from_be_bytes)
            }
            (oid::FLOAT8 | oid::UNSPECIFIED, Format::Text) => parse_float("float8", raw),
            _ => Err(wrong_type::<Self>(oid)),
        }
    }

    fn accepts(oid: Oid) -> bool {
        matches!(oid, oid::FLOAT4 | oid::FLOAT8 | oid::UNSPECIFIED)
    }

    owned_from_sql!();
}

impl<'a> FromSql<'a> for f32 {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        match (oid, format) {
            (oid::FLOAT4 | oid::UNSPECIFIED, Format::Binary) => {
                exact("float4", raw).map(Self::from_be_bytes)
            }
            (oid::FLOAT4 | oid::UNSPECIFIED, Format::Text) => parse_float("float4", raw),
            _ => Err(wrong_type::<Self>(oid)),
        }
    }

    fn accepts(oid: Oid) -> bool {
        matches!(oid, oid::FLOAT4 | oid::UNSPECIFIED)
    }

    owned_from_sql!();
}

impl ToSql for f64 {
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        if !<Self as ToSql>::accepts(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        match format {
            Format::Binary => out.put_f64(*self),
            Format::Text => {
                if !write_special(*self, out) {
                    let (digits, exp) = if *self == 0.0 {
                        (0, 0)
                    } else {
                        shortest::f64_digits(*self)
                    };
                    write_pg_float(self.is_sign_negative(), digits, exp, 15, out);
                }
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(oid: Oid) -> bool {
        matches!(oid, oid::FLOAT8 | oid::UNSPECIFIED)
    }

    natural_type!(oid::FLOAT8);
}

impl ToSql for f32 {
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        match oid {
            oid::FLOAT8 => return f64::from(*self).to_sql(oid, format, out),
            oid::FLOAT4 | oid::UNSPECIFIED => {}
            _ => return Err(wrong_type::<Self>(oid)),
        }
        match format {
            Format::Binary => out.put_f32(*self),
            Format::Text => {
                if !write_special(f64::from(*self), out) {
                    let (digits, exp) = if *self == 0.0 {
                        (0, 0)
                    } else {
                        shortest::f32_digits(*self)
                    };
                    write_pg_float(self.is_sign_negative(), digits, exp, 6, out);
                }
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(oid: Oid) -> bool {
        matches!(oid, oid::FLOAT4 | oid::FLOAT8 | oid::UNSPECIFIED)
    }

    natural_type!(oid::FLOAT4);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn text<T: ToSql>(v: T, oid: Oid) -> String {
        let mut out = BytesMut::new();
        v.to_sql(oid, Format::Text, &mut out).unwrap();
        String::from_utf8(out.to_vec()).unwrap()
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// `select x::text, float8send(x)` in PostgreSQL 15.x.
    const FLOAT8: &[(&str, &str)] = &[
        ("0", "0000000000000000"),
        ("-0", "8000000000000000"),
        ("1", "3ff0000000000000"),
        ("0.1", "3fb999999999999a"),
        ("100000000000000", "42d6bcc41e900000"),
        ("1e+15", "430c6bf526340000"),
        ("1.5e+15", "431550f7dca70000"),
        ("1.2345678901234568e+17", "437b69b4ba630f35"),
        ("0.0001", "3f1a36e2eb1c432d"),
        ("0.00015", "3f23a92a30553261"),
        ("1e-05", "3ee4f8b588e368f1"),
        ("1.25e-05", "3eea36e2eb1c432d"),
        ("1.5e+300", "7e41eb2d66005835"),
        ("5e-324", "0000000000000001"),
        ("1.7976931348623157e+308", "7fefffffffffffff"),
        ("NaN", "7ff8000000000000"),
        ("Infinity", "7ff0000000000000"),
        ("-Infinity", "fff0000000000000"),
        ("100", "4059000000000000"),
        ("123.456", "405edd2f1a9fbe77"),
        ("1e+16", "4341c37937e08000"),
        ("1.2345678901234567e+19", "43e56a95319d63e1"),
        ("0.000123", "3f201f31f46ed246"),
    ];

    /// `select x::text, float4send(x)` in PostgreSQL 15.x.
    const FLOAT4: &[(&str, &str)] = &[
        ("0", "00000000"),
        ("-0", "80000000"),
        ("1", "3f800000"),
        ("0.1", "3dcccccd"),
        ("0.3", "3e99999a"),
        ("100000", "47c35000"),
        ("1e+06", "49742400"),
        ("1.5e+06", "49b71b00"),
        ("123456", "47f12000"),
        ("1.234567e+06", "4996b438"),
        ("0.0001", "38d1b717"),
        ("1e-05", "3727c5ac"),
        ("3.4028235e+38", "7f7fffff"),
        ("1e-45", "00000001"),
        ("NaN", "7fc00000"),
        ("Infinity", "7f800000"),
        ("-Infinity", "ff800000"),
        ("100", "42c80000"),
        ("123.456", "42f6e979"),
        ("1.6777216e+07", "4b800000"),
    ];

    #[test]
    fn float8_vectors() {
        for &(t, b) in FLOAT8 {
            let bin = hex(b);
            let v = f64::from_sql(oid::FLOAT8, Format::Binary, &bin).unwrap();
            assert_eq!(text(v, oid::FLOAT8), t);
            let parsed = f64::from_sql(oid::FLOAT8, Format::Text, t.as_bytes()).unwrap();
            assert_eq!(parsed.to_bits(), v.to_bits(), "{t}");
            let mut out = BytesMut::new();
            v.to_sql(oid::FLOAT8, Format::Binary, &mut out).unwrap();
            assert_eq!(out.to_vec(), bin);
        }
    }

    #[test]
    fn float4_vectors() {
        for &(t, b) in FLOAT4 {
            let bin = hex(b);
            let v = f32::from_sql(oid::FLOAT4, Format::Binary, &bin).unwrap();
            assert_eq!(text(v, oid::FLOAT4), t);
            let parsed = f32::from_sql(oid::FLOAT4, Format::Text, t.as_bytes()).unwrap();
            assert_eq!(parsed.to_bits(), v.to_bits(), "{t}");
            let wide = f64::from_sql(oid::FLOAT4, Format::Binary, &bin).unwrap();
            assert!(wide.is_nan() || wide == f64::from(v));
        }
    }

    #[test]
    fn text_input() {
        for (s, v) in [
            (" infinity ", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("+Infinity", f64::INFINITY),
            ("1E3", 1000.0),
            (".5", 0.5),
            ("-0", -0.0),
        ] {
            assert_eq!(
                f64::from_sql(oid::FLOAT8, Format::Text, s.as_bytes()),
                Ok(v),
                "{s}"
            );
        }
        assert!(f64::from_sql(oid::FLOAT8, Format::Text, b"nan")
            .unwrap()
            .is_nan());
        for s in ["", "abc", "1e400", "1e-400", "0x10", "1,5"] {
            assert!(
                f64::from_sql(oid::FLOAT8, Format::Text, s.as_bytes()).is_err(),
                "{s}"
            );
        }
        assert!(f32::from_sql(oid::FLOAT4, Format::Text, b"1e39").is_err());
        assert!(f32::from_sql(oid::FLOAT8, Format::Binary, &[0; 8]).is_err());
        assert!(f64::from_sql(oid::FLOAT8, Format::Binary, &[0; 4]).is_err());
    }

    proptest! {
        #[test]
        fn f64_roundtrips(bits: u64) {
            let v = f64::from_bits(bits);
            for format in [Format::Binary, Format::Text] {
                let mut out = BytesMut::new();
                v.to_sql(oid::FLOAT8, format, &mut out).unwrap();
                let back = f64::from_sql(oid::FLOAT8, format, &out).unwrap();
                prop_assert!(back.to_bits() == v.to_bits() || (v.is_nan() && back.is_nan()));
            }
        }

        #[test]
        fn f32_roundtrips(bits: u32) {
            let v = f32::from_bits(bits);
            for format in [Format::Binary, Format::Text] {
                let mut out = BytesMut::new();
                v.to_sql(oid::FLOAT4, format, &mut out).unwrap();
                let back = f32::from_sql(oid::FLOAT4, format, &out).unwrap();
                prop_assert!(back.to_bits() == v.to_bits() || (v.is_nan() && back.is_nan()));
            }
        }

        #[test]
        fn random_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..12)) {
            for format in [Format::Binary, Format::Text] {
                let _ = f64::from_sql(oid::FLOAT8, format, &raw);
                let _ = f64::from_sql(oid::FLOAT4, format, &raw);
                let _ = f32::from_sql(oid::FLOAT4, format, &raw);
            }
        }
    }
}
