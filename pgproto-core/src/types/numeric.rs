//! `numeric`: exact decimals of arbitrary precision, [`PgNumeric`].
//!
//! Binary format (`numeric_send`): `ndigits: u16`, `weight: i16`, `sign: u16`,
//! `dscale: u16`, then `ndigits` base-10000 digits as `i16`. The value is
//! `sum(digit[i] * 10000^(weight - i))`, shown with `dscale` digits after the point.
//! `sign` is `0x0000` (positive), `0x4000` (negative), `0xC000` (NaN), `0xD000`
//! (Infinity) or `0xF000` (-Infinity). Text is the plain decimal with exactly `dscale`
//! fraction digits, `NaN`, `Infinity` or `-Infinity`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write as _};
use core::str::FromStr;

use bytes::{BufMut, BytesMut};

use super::codec::{invalid, natural_type, owned_from_sql, trimmed, wrong_type, BinReader};
use super::{oid, Format, FromSql, IsNull, Oid, ToSql, TypeError};

/// The largest display scale PostgreSQL stores (`NUMERIC_DSCALE_MAX`).
pub(crate) const MAX_SCALE: u16 = 0x3FFF;
/// The most digits before the decimal point a `numeric` can have (weight 32767).
pub(crate) const MAX_INTEGER_DIGITS: usize = 131_072;
/// The largest exponent `numeric_in` accepts in `1.5e<exp>` (`NUMERIC_MAX_PRECISION`).
const MAX_EXPONENT: i64 = 1000;

const SIGN_POS: u16 = 0x0000;
const SIGN_NEG: u16 = 0x4000;
const SIGN_NAN: u16 = 0xC000;
const SIGN_PINF: u16 = 0xD000;
const SIGN_NINF: u16 = 0xF000;

/// A PostgreSQL `numeric` value, exact: NaN, ±Infinity, or a sign, the decimal digits
/// of the unscaled value and a scale (the number of digits after the decimal point,
/// PostgreSQL's *display scale*).
///
/// `1.50` and `1.5` are different values here (scales 2 and 1), as PostgreSQL shows
/// them differently; equality compares the representation. Zero is never negative.
///
/// ```
/// use pgproto_core::types::PgNumeric;
/// let n: PgNumeric = "-12.340".parse().unwrap();
/// assert_eq!(n.to_string(), "-12.340");
/// assert_eq!((n.digits(), n.scale()), ("12340", 3));
/// assert_eq!(n.to_f64(), -12.34);
/// assert!(i64::try_from(&n).is_err());
/// assert_eq!(i64::try_from(&"7.00".parse::<PgNumeric>().unwrap()), Ok(7));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PgNumeric {
    repr: Repr,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Repr {
    NaN,
    Infinity,
    NegInfinity,
    Finite {
        negative: bool,
        /// ASCII digits of the unscaled value, no leading zeros; empty for zero.
        digits: Vec<u8>,
        scale: u16,
    },
}

impl PgNumeric {
    /// `NaN`.
    pub const NAN: Self = Self { repr: Repr::NaN };
    /// `Infinity`.
    pub const INFINITY: Self = Self {
        repr: Repr::Infinity,
    };
    /// `-Infinity`.
    pub const NEG_INFINITY: Self = Self {
        repr: Repr::NegInfinity,
    };
    /// `0`.
    pub const ZERO: Self = Self {
        repr: Repr::Finite {
            negative: false,
            digits: Vec::new(),
            scale: 0,
        },
    };

    /// Builds `±digits × 10^-scale` from ASCII decimal digits (leading zeros allowed).
    ///
    /// Fails if `digits` has a non-digit, `scale` exceeds 16383 or the integer part
    /// exceeds 131072 digits (PostgreSQL's limits).
    pub fn new(negative: bool, digits: &str, scale: u16) -> Result<Self, TypeError> {
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("numeric", "digits must be ASCII decimal digits"));
        }
        Self::from_digits(negative, digits.as_bytes().to_vec(), scale)
    }

    /// Normalizes and checks limits.
    fn from_digits(negative: bool, mut digits: Vec<u8>, scale: u16) -> Result<Self, TypeError> {
        let leading = digits.iter().take_while(|&&d| d == b'0').count();
        digits.drain(..leading);
        if scale > MAX_SCALE || digits.len().saturating_sub(usize::from(scale)) > MAX_INTEGER_DIGITS
        {
            return Err(TypeError::OutOfRange { target: "numeric" });
        }
        Ok(Self {
            repr: Repr::Finite {
                negative: negative && !digits.is_empty(),
                digits,
                scale,
            },
        })
    }

    /// Whether this is `NaN`.
    pub fn is_nan(&self) -> bool {
        matches!(self.repr, Repr::NaN)
    }

    /// Whether this is `Infinity` or `-Infinity`.
    pub fn is_infinite(&self) -> bool {
        matches!(self.repr, Repr::Infinity | Repr::NegInfinity)
    }

    /// Whether this is below zero (including `-Infinity`).
    pub fn is_negative(&self) -> bool {
        matches!(
            self.repr,
            Repr::NegInfinity | Repr::Finite { negative: true, .. }
        )
    }

    /// The decimal digits of the unscaled value without leading zeros (`""` for zero and
    /// for the special values).
    pub fn digits(&self) -> &str {
        match &self.repr {
            // Only ASCII digits are ever stored.
            Repr::Finite { digits, .. } => core::str::from_utf8(digits).unwrap_or(""),
            _ => "",
        }
    }

    /// The number of digits after the decimal point (0 for the special values).
    pub fn scale(&self) -> u16 {
        match &self.repr {
            Repr::Finite { scale, .. } => *scale,
            _ => 0,
        }
    }

    /// The nearest `f64` (lossy beyond 17 significant digits; may be infinite).
    pub fn to_f64(&self) -> f64 {
        match &self.repr {
            Repr::NaN => f64::NAN,
            Repr::Infinity => f64::INFINITY,
            Repr::NegInfinity => f64::NEG_INFINITY,
            Repr::Finite { .. } => {
                let mut s = String::new();
                let _ = write!(s, "{self}");
                s.parse().unwrap_or(f64::NAN)
            }
        }
    }

    /// Splits a finite value into its integer and fraction digits (fraction padded to
    /// `scale` digits with leading zeros).
    fn split(digits: &[u8], scale: u16) -> (&[u8], Vec<u8>) {
        let scale = usize::from(scale);
        if digits.len() > scale {
            let (int, frac) = digits.split_at(digits.len() - scale);
            (int, frac.to_vec())
        } else {
            let mut frac = alloc::vec![b'0'; scale - digits.len()];
            frac.extend_from_slice(digits);
            (&[], frac)
        }
    }

    fn encode_binary(&self, out: &mut BytesMut) -> Result<(), TypeError> {
        let (negative, digits, scale) = match &self.repr {
            Repr::NaN => {
                out.put_slice(&[0, 0, 0, 0, 0xC0, 0, 0, 0]);
                return Ok(());
            }
            // PostgreSQL's numeric_send reports dscale 32 for the infinities (an artifact
            // of their short header); we match it byte for byte.
            Repr::Infinity => {
                out.put_slice(&[0, 0, 0, 0, 0xD0, 0, 0, 0x20]);
                return Ok(());
            }
            Repr::NegInfinity => {
                out.put_slice(&[0, 0, 0, 0, 0xF0, 0, 0, 0x20]);
                return Ok(());
            }
            Repr::Finite {
                negative,
                digits,
                scale,
            } => (*negative, digits, *scale),
        };
        let (int, mut frac) = Self::split(digits, scale);
        // Align both parts on base-10000 digit boundaries.
        let mut padded = alloc::vec![b'0'; (4 - int.len() % 4) % 4];
        padded.extend_from_slice(int);
        let int_groups = padded.len() / 4;
        frac.resize(frac.len().div_ceil(4) * 4, b'0');
        padded.extend_from_slice(&frac);
        let mut groups: Vec<i16> = padded
            .chunks(4)
            .map(|c| {
                c.iter()
                    .fold(0i16, |acc, &d| acc * 10 + i16::from(d.wrapping_sub(b'0')))
            })
            .collect();
        let mut weight = i64::try_from(int_groups).unwrap_or(i64::MAX) - 1;
        let leading = groups.iter().take_while(|&&g| g == 0).count();
        groups.drain(..leading);
        weight -= i64::try_from(leading).unwrap_or(0);
        while groups.last() == Some(&0) {
            groups.pop();
        }
        if groups.is_empty() {
            weight = 0;
        }
        let ndigits =
            u16::try_from(groups.len()).map_err(|_| TypeError::OutOfRange { target: "numeric" })?;
        let weight =
            i16::try_from(weight).map_err(|_| TypeError::OutOfRange { target: "numeric" })?;
        out.put_u16(ndigits);
        out.put_i16(weight);
        out.put_u16(if negative { SIGN_NEG } else { SIGN_POS });
        out.put_u16(scale);
        for g in groups {
            out.put_i16(g);
        }
        Ok(())
    }

    fn decode_binary(raw: &[u8]) -> Result<Self, TypeError> {
        let mut r = BinReader::new("numeric", raw);
        let ndigits = r.u16()?;
        let weight = i64::from(r.i16()?);
        let sign = r.u16()?;
        let dscale = r.u16()?;
        if dscale > MAX_SCALE {
            return Err(invalid("numeric", "invalid scale"));
        }
        let body = r.take(usize::from(ndigits) * 2)?;
        r.finish()?;
        let mut groups = Vec::with_capacity(usize::from(ndigits));
        for pair in body.chunks_exact(2) {
            let g = pair
                .first_chunk::<2>()
                .map_or(-1, |b| i16::from_be_bytes(*b));
            if !(0..10000).contains(&g) {
                return Err(invalid("numeric", "invalid digit"));
            }
            groups.push(g);
        }
        let negative = match sign {
            SIGN_POS => false,
            SIGN_NEG => true,
            SIGN_NAN => return Ok(Self::NAN),
            SIGN_PINF => return Ok(Self::INFINITY),
            SIGN_NINF => return Ok(Self::NEG_INFINITY),
            _ => return Err(invalid("numeric", "invalid sign")),
        };
        // The digit group with base-10000 exponent `e` is groups[weight - e].
        let group = |e: i64| -> i16 {
            usize::try_from(weight - e)
                .ok()
                .and_then(|i| groups.get(i).copied())
                .unwrap_or(0)
        };
        let mut digits = Vec::new();
        let push_group = |digits: &mut Vec<u8>, g: i16| {
            let g = g.unsigned_abs();
            for div in [1000, 100, 10, 1] {
                // Digits are 0..=9 by the check above.
                digits.push(b'0' + u8::try_from(g / div % 10).unwrap_or(0));
            }
        };
        // Integer part (leading zeros are stripped by from_digits).
        for e in (0..=weight).rev() {
            push_group(&mut digits, group(e));
        }
        // Fraction: exactly dscale digits; digits beyond it are truncated, as
        // numeric_recv does.
        let frac_groups = (i64::from(dscale) + 3) / 4;
        let int_len = digits.len();
        for e in 1..=frac_groups {
            push_group(&mut digits, group(-e));
        }
        digits.truncate(int_len + usize::from(dscale));
        let leading = digits.iter().take_while(|&&d| d == b'0').count();
        digits.drain(..leading);
        Self::from_digits(negative, digits, dscale)
    }

    fn write_text(&self, out: &mut impl fmt::Write) -> fmt::Result {
        match &self.repr {
            Repr::NaN => out.write_str("NaN"),
            Repr::Infinity => out.write_str("Infinity"),
            Repr::NegInfinity => out.write_str("-Infinity"),
            Repr::Finite {
                negative,
                digits,
                scale,
            } => {
                let (int, frac) = Self::split(digits, *scale);
                if *negative {
                    out.write_char('-')?;
                }
                if int.is_empty() {
                    out.write_char('0')?;
                }
                out.write_str(core::str::from_utf8(int).unwrap_or(""))?;
                if !frac.is_empty() {
                    out.write_char('.')?;
                    out.write_str(core::str::from_utf8(&frac).unwrap_or(""))?;
                }
                Ok(())
            }
        }
    }
}

impl Default for PgNumeric {
    fn default() -> Self {
        Self::ZERO
    }
}

impl fmt::Display for PgNumeric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(f)
    }
}

impl FromStr for PgNumeric {
    type Err = TypeError;

    /// Parses `numeric` input: `[+-]digits[.digits][e[+-]digits]`, `NaN`, `Infinity`
    /// or `inf` (any case, optional sign), surrounded by optional whitespace. The scale
    /// is the number of fraction digits after applying the exponent.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const BAD: TypeError = TypeError::InvalidValue {
            type_name: "numeric",
            reason: "expected a decimal number",
        };
        let s = s.trim_matches(super::codec::is_pg_space);
        let (negative, body) = match s.as_bytes().first() {
            Some(b'-') => (true, s.get(1..).unwrap_or("")),
            Some(b'+') => (false, s.get(1..).unwrap_or("")),
            _ => (false, s),
        };
        if body.eq_ignore_ascii_case("infinity") || body.eq_ignore_ascii_case("inf") {
            return Ok(if negative {
                Self::NEG_INFINITY
            } else {
                Self::INFINITY
            });
        }
        if s.eq_ignore_ascii_case("nan") {
            return Ok(Self::NAN);
        }
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(i) => (body.get(..i).unwrap_or(""), body.get(i + 1..)),
            None => (body, None),
        };
        let exponent = match exponent {
            None => 0,
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty()
                    || digits.len() > 6
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(BAD);
                }
                let v: i64 = e.parse().map_err(|_| BAD)?;
                if !(-MAX_EXPONENT..=MAX_EXPONENT).contains(&v) {
                    return Err(BAD);
                }
                v
            }
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return Err(BAD);
        }
        let int = int.trim_start_matches('0');
        if int.len() > MAX_INTEGER_DIGITS + MAX_EXPONENT as usize
            || frac.len() > usize::from(MAX_SCALE) + MAX_EXPONENT as usize
        {
            return Err(TypeError::OutOfRange { target: "numeric" });
        }
        let mut digits = Vec::with_capacity(int.len() + frac.len());
        digits.extend_from_slice(int.as_bytes());
        digits.extend_from_slice(frac.as_bytes());
        // Both lengths are bounded above, so this arithmetic cannot overflow.
        let scale = i64::try_from(frac.len()).map_err(|_| BAD)? - exponent;
        let scale = if scale < 0 {
            let zeros = usize::try_from(-scale).map_err(|_| BAD)?;
            digits.resize(digits.len() + zeros, b'0');
            0
        } else {
            u16::try_from(scale).map_err(|_| TypeError::OutOfRange { target: "numeric" })?
        };
        Self::from_digits(negative, digits, scale)
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for PgNumeric {
            fn from(v: $t) -> Self {
                let mut digits = Vec::new();
                let _ = write!(Buf(&mut digits), "{}", v.unsigned_abs());
                // An integer has at most 39 digits: within every limit.
                Self::from_digits(v < 0, digits, 0).unwrap_or(Self::ZERO)
            }
        }
    )*};
}

macro_rules! from_uint {
    ($($t:ty),*) => {$(
        impl From<$t> for PgNumeric {
            fn from(v: $t) -> Self {
                let mut digits = Vec::new();
                let _ = write!(Buf(&mut digits), "{v}");
                Self::from_digits(false, digits, 0).unwrap_or(Self::ZERO)
            }
        }
    )*};
}

/// `fmt::Write` into a byte vector.
struct Buf<'a>(&'a mut Vec<u8>);

impl fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

from_int!(i8, i16, i32, i64, i128);
from_uint!(u8, u16, u32, u64, u128);

impl From<f64> for PgNumeric {
    /// The shortest decimal that reads back as `v` (`0.1` for `0.1f64`), or NaN/±Infinity.
    /// PostgreSQL's own `float8::numeric` cast rounds to 15 significant digits instead.
    fn from(v: f64) -> Self {
        if v.is_nan() {
            return Self::NAN;
        }
        if v.is_infinite() {
            return if v > 0.0 {
                Self::INFINITY
            } else {
                Self::NEG_INFINITY
            };
        }
        let mut s = String::new();
        let _ = write!(s, "{v:e}");
        // Finite doubles have exponents within -324..=308: always parses.
        s.parse().unwrap_or(Self::NAN)
    }
}

macro_rules! try_into_int {
    ($($t:ty),*) => {$(
        impl TryFrom<&PgNumeric> for $t {
            type Error = TypeError;

            /// Exact conversion: fails for NaN, infinities, a non-zero fraction or a value
            /// out of range. Trailing zero fraction digits (`7.00`) are fine.
            fn try_from(n: &PgNumeric) -> Result<Self, Self::Error> {
                let range = TypeError::OutOfRange { target: stringify!($t) };
                let Repr::Finite { negative, digits, scale } = &n.repr else {
                    return Err(range);
                };
                let (int, frac) = PgNumeric::split(digits, *scale);
                if frac.iter().any(|&d| d != b'0') {
                    return Err(range);
                }
                let mut v: $t = 0;
                for &d in int {
                    let d = <$t>::from(d - b'0');
                    v = v.checked_mul(10).ok_or(range.clone())?;
                    v = if *negative { v.checked_sub(d) } else { v.checked_add(d) }
                        .ok_or(range.clone())?;
                }
                Ok(v)
            }
        }

        impl TryFrom<PgNumeric> for $t {
            type Error = TypeError;

            /// See the conversion from `&PgNumeric`.
            fn try_from(n: PgNumeric) -> Result<Self, Self::Error> {
                Self::try_from(&n)
            }
        }
    )*};
}

try_into_int!(i64, i128);

impl<'a> FromSql<'a> for PgNumeric {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        match (oid, format) {
            (oid::NUMERIC | oid::UNSPECIFIED, Format::Binary) => Self::decode_binary(raw),
            (oid::NUMERIC | oid::UNSPECIFIED, Format::Text) => trimmed("numeric", raw)?.parse(),
            (oid::INT2 | oid::INT4 | oid::INT8, _) => {
                i64::from_sql(oid, format, raw).map(Self::from)
            }
            _ => Err(wrong_type::<Self>(oid)),
        }
    }

    fn accepts(oid: Oid) -> bool {
        matches!(
            oid,
            oid::NUMERIC | oid::INT2 | oid::INT4 | oid::INT8 | oid::UNSPECIFIED
        )
    }

    owned_from_sql!();
}

impl ToSql for PgNumeric {
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        if !<Self as ToSql>::accepts(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        match format {
            Format::Binary => self.encode_binary(out)?,
            Format::Text => {
                let _ = self.write_text(out);
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(oid: Oid) -> bool {
        matches!(oid, oid::NUMERIC | oid::UNSPECIFIED)
    }

    natural_type!(oid::NUMERIC);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// `select x::text, numeric_send(x)` in PostgreSQL 15.x.
    const VECTORS: &[(&str, &str)] = &[
        ("0", "0000000000000000"),
        ("0.00", "0000000000000002"),
        ("1", "00010000000000000001"),
        ("-1", "00010000400000000001"),
        ("1.50", "000200000000000200011388"),
        ("12345.6789", "0003000100000004000109291a85"),
        ("0.0001", "0001ffff000000040001"),
        ("-0.000012", "0001fffe4000000604b0"),
        ("100000000000000000000", "00010005000000000001"),
        (
            "123456789012345678901234567890.123456789",
            "000b000700000009000c0d801ed204d2162e23340d801ed204d2162e2328",
        ),
        ("NaN", "00000000c0000000"),
        ("Infinity", "00000000d0000020"),
        ("-Infinity", "00000000f0000020"),
        ("10000", "00010001000000000001"),
        ("9999.9999", "0002000000000004270f270f"),
        ("0.1", "0001ffff0000000103e8"),
        ("100.01", "000200000000000200640064"),
        ("-1234567.000", "0002000140000003007b11d7"),
        ("0.00000000000000000001", "0001fffb000000140001"),
    ];

    fn encode(n: &PgNumeric, format: Format) -> Vec<u8> {
        let mut out = BytesMut::new();
        n.to_sql(oid::NUMERIC, format, &mut out).unwrap();
        out.to_vec()
    }

    #[test]
    fn postgres_vectors() {
        for &(text, bin) in VECTORS {
            let bin = hex(bin);
            let from_text: PgNumeric = text.parse().unwrap();
            let from_bin = PgNumeric::from_sql(oid::NUMERIC, Format::Binary, &bin).unwrap();
            assert_eq!(from_text, from_bin, "{text}");
            assert_eq!(from_bin.to_string(), text);
            assert_eq!(encode(&from_text, Format::Binary), bin, "{text}");
            assert_eq!(encode(&from_text, Format::Text), text.as_bytes());
        }
    }

    #[test]
    fn text_input() {
        for (input, shown) in [
            ("-0.00", "0.00"),
            ("  +1.5  ", "1.5"),
            ("1e20", "100000000000000000000"),
            ("1.5e3", "1500"),
            ("1.5E-3", "0.0015"),
            ("-.5", "-0.5"),
            ("5.", "5"),
            ("007", "7"),
            ("inf", "Infinity"),
            ("-INFINITY", "-Infinity"),
            ("nan", "NaN"),
        ] {
            assert_eq!(
                input.parse::<PgNumeric>().unwrap().to_string(),
                shown,
                "{input}"
            );
        }
        for bad in [
            "", ".", "-", "1.2.3", "1e", "1e1001", "abc", "1 2", "--1", "+nan",
        ] {
            assert!(bad.parse::<PgNumeric>().is_err(), "{bad}");
        }
    }

    #[test]
    fn binary_decoding_is_strict_but_truncates_like_postgres() {
        // Invalid sign, digit, scale, truncated and trailing bytes.
        for bad in [
            "0000000000010000",
            "00010000000000002710",
            "0000000000004000",
            "00010000000000",
            "000000000000000000",
        ] {
            assert!(PgNumeric::from_sql(oid::NUMERIC, Format::Binary, &hex(bad)).is_err());
        }
        // Digits beyond dscale are dropped: 1.2345 with dscale 2 reads as 1.23.
        let n = PgNumeric::from_sql(
            oid::NUMERIC,
            Format::Binary,
            &hex("000200000000000200010929"),
        )
        .unwrap();
        assert_eq!(n.to_string(), "1.23");
        // Non-normalized input (a leading zero digit) is accepted.
        let n = PgNumeric::from_sql(
            oid::NUMERIC,
            Format::Binary,
            &hex("000200010000000000000002"),
        )
        .unwrap();
        assert_eq!(n.to_string(), "2");
    }

    #[test]
    fn conversions() {
        assert_eq!(PgNumeric::from(-42i32).to_string(), "-42");
        assert_eq!(
            PgNumeric::from(i64::MIN).to_string(),
            "-9223372036854775808"
        );
        assert_eq!(
            PgNumeric::from(u64::MAX).to_string(),
            "18446744073709551615"
        );
        assert_eq!(PgNumeric::from(0.1f64).to_string(), "0.1");
        assert_eq!(
            PgNumeric::from(-1.5e20f64).to_string(),
            "-150000000000000000000"
        );
        assert_eq!(PgNumeric::from(f64::NEG_INFINITY), PgNumeric::NEG_INFINITY);
        let min: PgNumeric = "-9223372036854775808".parse().unwrap();
        assert_eq!(i64::try_from(&min), Ok(i64::MIN));
        let over: PgNumeric = "9223372036854775808".parse().unwrap();
        assert!(i64::try_from(&over).is_err());
        assert_eq!(i128::try_from(over), Ok(9223372036854775808));
        assert!(i64::try_from(&"1.5".parse::<PgNumeric>().unwrap()).is_err());
        assert!(i64::try_from(&PgNumeric::NAN).is_err());
        assert_eq!(i64::try_from(&"0.00".parse::<PgNumeric>().unwrap()), Ok(0));
        assert!(PgNumeric::NAN.to_f64().is_nan());
        assert_eq!(
            PgNumeric::new(true, "0150", 2).unwrap().to_string(),
            "-1.50"
        );
        assert!(PgNumeric::new(false, "1x", 0).is_err());
        assert!(PgNumeric::new(false, "1", MAX_SCALE + 1).is_err());
        assert_eq!(
            PgNumeric::from_sql(oid::INT4, Format::Binary, &[0, 0, 0, 9]),
            Ok(PgNumeric::from(9))
        );
    }

    #[test]
    fn extremes() {
        // The largest weight and the largest scale PostgreSQL can represent.
        let mut big = alloc::vec![b'9'; MAX_INTEGER_DIGITS];
        big.extend(alloc::vec![b'9'; usize::from(MAX_SCALE)]);
        let n = PgNumeric::new(false, core::str::from_utf8(&big).unwrap(), MAX_SCALE).unwrap();
        for format in [Format::Binary, Format::Text] {
            let bytes = encode(&n, format);
            assert_eq!(
                PgNumeric::from_sql(oid::NUMERIC, format, &bytes).unwrap(),
                n
            );
        }
        let one_more = alloc::format!("1{}", "0".repeat(MAX_INTEGER_DIGITS));
        assert!(PgNumeric::new(false, &one_more, 0).is_err());
        // Weight -32768 with a digit: far below any scale, reads as zero.
        let n = PgNumeric::from_sql(oid::NUMERIC, Format::Binary, &hex("000180000000000a0001"))
            .unwrap();
        assert_eq!(n.to_string(), "0.0000000000");
    }

    fn arb_numeric() -> impl Strategy<Value = PgNumeric> {
        prop_oneof![
            1 => Just(PgNumeric::NAN),
            1 => Just(PgNumeric::INFINITY),
            1 => Just(PgNumeric::NEG_INFINITY),
            20 => (any::<bool>(), "[0-9]{0,60}", 0u16..80)
                .prop_map(|(neg, d, s)| PgNumeric::new(neg, &d, s).unwrap()),
        ]
    }

    proptest! {
        #[test]
        fn roundtrips(n in arb_numeric()) {
            for format in [Format::Binary, Format::Text] {
                let bytes = encode(&n, format);
                prop_assert_eq!(PgNumeric::from_sql(oid::NUMERIC, format, &bytes).unwrap(), n.clone());
            }
            prop_assert_eq!(n.to_string().parse::<PgNumeric>().unwrap(), n);
        }

        #[test]
        fn i64_roundtrips(v: i64) {
            prop_assert_eq!(i64::try_from(&PgNumeric::from(v)), Ok(v));
        }

        #[test]
        fn f64_roundtrips(v: f64) {
            let back = PgNumeric::from(v).to_f64();
            prop_assert!(back == v || (v.is_nan() && back.is_nan()));
        }

        #[test]
        fn random_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..40)) {
            for format in [Format::Binary, Format::Text] {
                let _ = PgNumeric::from_sql(oid::NUMERIC, format, &raw);
            }
        }

        #[test]
        fn random_headers_never_panic(nd in 0u16..6, w: i16, sign in prop_oneof![Just(0u16), Just(0x4000), any::<u16>()], ds in 0u16..0x4000, d in proptest::collection::vec(0i16..10000, 0..6)) {
            let mut raw = Vec::new();
            raw.extend(nd.to_be_bytes());
            raw.extend(w.to_be_bytes());
            raw.extend(sign.to_be_bytes());
            raw.extend(ds.to_be_bytes());
            for g in d { raw.extend(g.to_be_bytes()); }
            if let Ok(n) = PgNumeric::from_sql(oid::NUMERIC, Format::Binary, &raw) {
                let bytes = encode(&n, Format::Binary);
                prop_assert_eq!(PgNumeric::from_sql(oid::NUMERIC, Format::Binary, &bytes).unwrap(), n);
            }
        }
    }
}
