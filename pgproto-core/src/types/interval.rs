//! `interval`: [`PgInterval`], months, days and microseconds kept apart (a month is not a
//! fixed number of days, nor a day a fixed number of hours across DST changes).
//!
//! Binary (`interval_send`): `i64` microseconds, `i32` days, `i32` months. Text follows
//! `IntervalStyle = postgres`: `1 year 2 mons 3 days 04:05:06.5`, `-00:00:01`,
//! `-1 years -2 mons +3 days -04:05:06`. The decoder reads that style (plus the units
//! `week`, `hour`, `minute`/`min` and `second`/`sec` with integer values), not
//! `postgres_verbose`, `sql_standard` or `iso_8601`.

use core::fmt;
use core::str::FromStr;

use bytes::{BufMut, BytesMut};

use super::codec::{
    exact, invalid, is_pg_space, natural_type, owned_from_sql, parse_digits, trimmed, wrong_type,
};
use super::datetime::{write_fraction, USECS_PER_HOUR, USECS_PER_MINUTE, USECS_PER_SEC};
use super::{oid, Format, FromSql, IsNull, Oid, ToSql, TypeError};

/// A PostgreSQL `interval`.
///
/// ```
/// use pgproto_core::types::PgInterval;
/// let i: PgInterval = "1 year 2 mons 3 days 04:05:06.5".parse().unwrap();
/// assert_eq!(i, PgInterval { months: 14, days: 3, microseconds: 14_706_500_000 });
/// assert_eq!(PgInterval { months: 0, days: 0, microseconds: -1_000_000 }.to_string(), "-00:00:01");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PgInterval {
    /// Months (12 to a year).
    pub months: i32,
    /// Days.
    pub days: i32,
    /// Microseconds.
    pub microseconds: i64,
}

impl PgInterval {
    /// An interval of `months`, `days` and `microseconds`.
    pub const fn new(months: i32, days: i32, microseconds: i64) -> Self {
        Self {
            months,
            days,
            microseconds,
        }
    }
}

/// State of PostgreSQL's `AddPostgresIntPart`.
struct Parts {
    is_zero: bool,
    is_before: bool,
}

impl Parts {
    fn add(&mut self, f: &mut fmt::Formatter<'_>, value: i32, unit: &str) -> fmt::Result {
        if value == 0 {
            return Ok(());
        }
        write!(
            f,
            "{}{}{value} {unit}{}",
            if self.is_zero { "" } else { " " },
            if self.is_before && value > 0 { "+" } else { "" },
            if value != 1 { "s" } else { "" },
        )?;
        // Each non-zero field sets is_before for the next one only.
        self.is_before = value < 0;
        self.is_zero = false;
        Ok(())
    }
}

impl fmt::Display for PgInterval {
    /// `IntervalStyle = postgres`, exactly as PostgreSQL's `EncodeInterval`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Parts {
            is_zero: true,
            is_before: false,
        };
        parts.add(f, self.months / 12, "year")?;
        parts.add(f, self.months % 12, "mon")?;
        parts.add(f, self.days, "day")?;
        let t = self.microseconds;
        let hour = t / USECS_PER_HOUR;
        let min = t % USECS_PER_HOUR / USECS_PER_MINUTE;
        let sec = t % USECS_PER_MINUTE / USECS_PER_SEC;
        let fsec = t % USECS_PER_SEC;
        if parts.is_zero || t != 0 {
            let minus = t < 0;
            write!(
                f,
                "{}{}{:02}:{:02}:{:02}",
                if parts.is_zero { "" } else { " " },
                if minus {
                    "-"
                } else if parts.is_before {
                    "+"
                } else {
                    ""
                },
                hour.unsigned_abs(),
                min.unsigned_abs(),
                sec.unsigned_abs(),
            )?;
            write_fraction(f, fsec.abs())?;
        }
        Ok(())
    }
}

fn range() -> TypeError {
    TypeError::OutOfRange { target: "interval" }
}

fn bad() -> TypeError {
    invalid("interval", "not in the postgres IntervalStyle")
}

/// `[+-]H:MM[:SS[.ffffff]]` → microseconds.
fn parse_clock(token: &str) -> Result<i64, TypeError> {
    let (negative, body) = match token.as_bytes().first() {
        Some(b'-') => (true, token.get(1..).unwrap_or("")),
        Some(b'+') => (false, token.get(1..).unwrap_or("")),
        _ => (false, token),
    };
    let mut fields = body.splitn(3, ':');
    let hours = fields
        .next()
        .and_then(|h| parse_digits(h, 12))
        .ok_or(bad())?;
    let minutes = fields
        .next()
        .filter(|m| m.len() == 2)
        .and_then(|m| parse_digits(m, 2))
        .ok_or(bad())?;
    let mut micros = 0u64;
    if let Some(sec) = fields.next() {
        let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
        let seconds = Some(whole)
            .filter(|s| s.len() == 2)
            .and_then(|s| parse_digits(s, 2))
            .ok_or(bad())?;
        micros = seconds * 1_000_000;
        if sec.contains('.') {
            let digits = parse_digits(frac, 6).ok_or(bad())?;
            let scale = 10u64.pow(6 - u32::try_from(frac.len()).unwrap_or(6));
            micros += digits * scale;
        }
        if seconds > 59 {
            return Err(bad());
        }
    }
    if minutes > 59 {
        return Err(bad());
    }
    let total = hours
        .checked_mul(3_600_000_000)
        .and_then(|h| h.checked_add(minutes * 60_000_000 + micros))
        .ok_or(range())?;
    if negative {
        0i64.checked_sub_unsigned(total).ok_or(range())
    } else {
        i64::try_from(total).map_err(|_| range())
    }
}

impl FromStr for PgInterval {
    type Err = TypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut months: i32 = 0;
        let mut days: i32 = 0;
        let mut micros: i64 = 0;
        let mut tokens = s.split(is_pg_space).filter(|t| !t.is_empty()).peekable();
        if tokens.peek().is_none() {
            return Err(bad());
        }
        while let Some(token) = tokens.next() {
            if token.contains(':') {
                micros = micros.checked_add(parse_clock(token)?).ok_or(range())?;
                continue;
            }
            let value: i64 = {
                let digits = token.strip_prefix(['+', '-']).unwrap_or(token);
                if parse_digits(digits, 18).is_none() {
                    return Err(bad());
                }
                token.parse().map_err(|_| bad())?
            };
            let unit = tokens.next().ok_or(bad())?;
            let unit = unit.strip_suffix('s').unwrap_or(unit);
            let add32 = |acc: i32, factor: i64| -> Result<i32, TypeError> {
                value
                    .checked_mul(factor)
                    .and_then(|v| i32::try_from(v).ok())
                    .and_then(|v| acc.checked_add(v))
                    .ok_or(range())
            };
            let add64 = |acc: i64, factor: i64| -> Result<i64, TypeError> {
                value
                    .checked_mul(factor)
                    .and_then(|v| acc.checked_add(v))
                    .ok_or(range())
            };
            match unit {
                "year" | "yr" => months = add32(months, 12)?,
                "mon" | "month" => months = add32(months, 1)?,
                "week" => days = add32(days, 7)?,
                "day" => days = add32(days, 1)?,
                "hour" => micros = add64(micros, USECS_PER_HOUR)?,
                "min" | "minute" => micros = add64(micros, USECS_PER_MINUTE)?,
                "sec" | "second" => micros = add64(micros, USECS_PER_SEC)?,
                _ => return Err(bad()),
            }
        }
        Ok(Self {
            months,
            days,
            microseconds: micros,
        })
    }
}

impl<'a> FromSql<'a> for PgInterval {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        if !<Self as FromSql<'_>>::accepts(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        match format {
            Format::Binary => {
                let b: [u8; 16] = exact("interval", raw)?;
                let (time, rest) = b.split_at(8);
                let (days, months) = rest.split_at(4);
                Ok(Self {
                    microseconds: i64::from_be_bytes(exact("interval", time)?),
                    days: i32::from_be_bytes(exact("interval", days)?),
                    months: i32::from_be_bytes(exact("interval", months)?),
                })
            }
            Format::Text => trimmed("interval", raw)?.parse(),
        }
    }

    fn accepts(oid: Oid) -> bool {
        matches!(oid, oid::INTERVAL | oid::UNSPECIFIED)
    }

    owned_from_sql!();
}

impl ToSql for PgInterval {
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        if !<Self as ToSql>::accepts(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        match format {
            Format::Binary => {
                out.put_i64(self.microseconds);
                out.put_i32(self.days);
                out.put_i32(self.months);
            }
            Format::Text => {
                let _ = fmt::Write::write_fmt(out, format_args!("{self}"));
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(oid: Oid) -> bool {
        matches!(oid, oid::INTERVAL | oid::UNSPECIFIED)
    }

    natural_type!(oid::INTERVAL);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// `select x::text, interval_send(x)` in PostgreSQL 15.x.
    const VECTORS: &[(&str, &str)] = &[
        (
            "1 year 2 mons 3 days 04:05:06.5",
            "000000036c9361a0000000030000000e",
        ),
        ("-00:00:01", "fffffffffff0bdc00000000000000000"),
        ("00:00:00", "00000000000000000000000000000000"),
        ("1 mon", "00000000000000000000000000000001"),
        (
            "-1 years -2 mons +3 days -04:05:06",
            "fffffffc93743f8000000003fffffff2",
        ),
        ("1 day -00:00:01", "fffffffffff0bdc00000000100000000"),
        ("-1 days +00:00:01", "00000000000f4240ffffffff00000000"),
        ("2 years", "00000000000000000000000000000018"),
        ("11 mons", "0000000000000000000000000000000b"),
        ("00:00:00.000001", "00000000000000010000000000000000"),
        ("1 mon 1 day", "00000000000000000000000100000001"),
        ("25:00:00", "00000014f46b04000000000000000000"),
        ("-1 mons +1 day", "000000000000000000000001ffffffff"),
        ("-1 mons -1 days", "0000000000000000ffffffffffffffff"),
        (
            "1 year 1 day -00:00:00.5",
            "fffffffffff85ee0000000010000000c",
        ),
        ("-11 mons", "000000000000000000000000fffffff5"),
        ("1 year 1 mon", "0000000000000000000000000000000d"),
        (
            "-2562047788:00:54.775808",
            "80000000000000000000000000000000",
        ),
        (
            "-178956970 years -8 mons -2147483648 days",
            "00000000000000008000000080000000",
        ),
        (
            "178956970 years 7 mons 2147483647 days",
            "00000000000000007fffffff7fffffff",
        ),
    ];

    #[test]
    fn postgres_vectors() {
        for &(text, bin) in VECTORS {
            let bin = hex(bin);
            let v = PgInterval::from_sql(oid::INTERVAL, Format::Binary, &bin).unwrap();
            assert_eq!(v.to_string(), text);
            assert_eq!(
                PgInterval::from_sql(oid::INTERVAL, Format::Text, text.as_bytes()),
                Ok(v),
                "{text}"
            );
            let mut out = BytesMut::new();
            v.to_sql(oid::INTERVAL, Format::Binary, &mut out).unwrap();
            assert_eq!(out.to_vec(), bin);
        }
    }

    #[test]
    fn other_input() {
        for (s, v) in [
            ("1 week 2 hours", PgInterval::new(0, 7, 2 * USECS_PER_HOUR)),
            ("3 mins 4 secs", PgInterval::new(0, 0, 184 * USECS_PER_SEC)),
            ("1 month -1 day", PgInterval::new(1, -1, 0)),
            ("12:34", PgInterval::new(0, 0, 754 * USECS_PER_MINUTE)),
        ] {
            assert_eq!(s.parse::<PgInterval>(), Ok(v), "{s}");
        }
        for bad in [
            "",
            "1",
            "1 fortnight",
            "1.5 days",
            "1:60:00",
            "1:00:00.1234567",
            "99999999999999 years",
            "3000000000 days",
            "x days",
            "-",
        ] {
            assert!(bad.parse::<PgInterval>().is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn roundtrips(months: i32, days: i32, microseconds: i64) {
            let v = PgInterval { months, days, microseconds };
            for format in [Format::Binary, Format::Text] {
                let mut out = BytesMut::new();
                v.to_sql(oid::INTERVAL, format, &mut out).unwrap();
                prop_assert_eq!(PgInterval::from_sql(oid::INTERVAL, format, &out), Ok(v));
            }
        }

        #[test]
        fn random_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..20)) {
            for format in [Format::Binary, Format::Text] {
                let _ = PgInterval::from_sql(oid::INTERVAL, format, &raw);
            }
        }

        #[test]
        fn random_text_never_panics(s in "[-+0-9: .a-z]{0,40}") {
            let _ = s.parse::<PgInterval>();
        }
    }
}
