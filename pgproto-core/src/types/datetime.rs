//! `date`, `time`, `timetz`, `timestamp` and `timestamptz`, with the calendar done by
//! hand (proleptic Gregorian, as PostgreSQL uses for all dates).
//!
//! Binary formats count from PostgreSQL's epoch, 2000-01-01 00:00:00: `date` is `i32`
//! days, `timestamp`/`timestamptz` are `i64` microseconds (UTC for `timestamptz`), `time`
//! is `i64` microseconds since midnight, `timetz` adds an `i32` offset in seconds
//! *west* of UTC. `i32::MAX`/`i64::MAX` are `infinity`, `MIN` is `-infinity`.
//!
//! Text follows `DateStyle = ISO`: `2024-02-29`, `12:34:56.789`,
//! `2021-03-04 05:06:07.123456+02`, `0044-03-15 BC`; fraction digits without trailing
//! zeros. `timestamptz` is written in UTC (`+00`); its decoder honours any offset
//! (`+05:30`, `-03:30:52`). Years are astronomical in the API (0 is 1 BC, -43 is 44 BC).
//! The decoders read this ISO output, also with a `T` separator; they do not read
//! PostgreSQL's other `DateStyle`s, time zone names or more than 6 fraction digits.

use core::fmt;
use core::str::FromStr;

use bytes::{BufMut, BytesMut};

use super::codec::{exact, invalid, natural_type, owned_from_sql, trimmed, wrong_type};
use super::{oid, Format, FromSql, IsNull, Oid, ToSql, TypeError};

pub(crate) const USECS_PER_SEC: i64 = 1_000_000;
pub(crate) const USECS_PER_MINUTE: i64 = 60 * USECS_PER_SEC;
pub(crate) const USECS_PER_HOUR: i64 = 60 * USECS_PER_MINUTE;
pub(crate) const USECS_PER_DAY: i64 = 24 * USECS_PER_HOUR;
/// Days from 1970-01-01 to 2000-01-01.
pub(crate) const UNIX_EPOCH_DAYS: i64 = 10_957;
/// The largest time zone offset PostgreSQL stores (just under 16 hours), in seconds.
const MAX_OFFSET_SECS: i32 = 16 * 3600 - 1;

// ---- The calendar ---------------------------------------------------------------------

/// Days since 2000-01-01 of a proleptic Gregorian date (astronomical year).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 - UNIX_EPOCH_DAYS
}

/// The proleptic Gregorian date (astronomical year, month, day) of a day number
/// counted from 2000-01-01. Exact for any `days` within ±2^50.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + UNIX_EPOCH_DAYS + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

fn is_leap(year: i64) -> bool {
    year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

// ---- Text output helpers --------------------------------------------------------------

/// `YYYY-MM-DD` with the year as PostgreSQL shows it (BC years counted from 1).
fn write_ymd(f: &mut impl fmt::Write, (year, month, day): (i64, u32, u32)) -> fmt::Result {
    let shown = if year > 0 { year } else { 1 - year };
    write!(f, "{shown:04}-{month:02}-{day:02}")
}

fn write_bc(f: &mut impl fmt::Write, year: i64) -> fmt::Result {
    if year <= 0 {
        f.write_str(" BC")?;
    }
    Ok(())
}

/// Fraction of a second as `.ffffff` without trailing zeros, nothing for zero.
pub(crate) fn write_fraction(f: &mut impl fmt::Write, usecs: i64) -> fmt::Result {
    if usecs == 0 {
        return Ok(());
    }
    let mut digits = usecs.unsigned_abs();
    let mut width: usize = 6;
    while digits % 10 == 0 {
        digits /= 10;
        width -= 1;
    }
    write!(f, ".{digits:0width$}")
}

/// `HH:MM:SS[.ffffff]` for a time of day in microseconds (0..=24h).
fn write_time(f: &mut impl fmt::Write, micros: i64) -> fmt::Result {
    let hours = micros / USECS_PER_HOUR;
    let minutes = micros % USECS_PER_HOUR / USECS_PER_MINUTE;
    let seconds = micros % USECS_PER_MINUTE / USECS_PER_SEC;
    write!(f, "{hours:02}:{minutes:02}:{seconds:02}")?;
    write_fraction(f, micros % USECS_PER_SEC)
}

/// `+HH`, `+HH:MM` or `+HH:MM:SS` for an offset in seconds east of UTC.
fn write_offset(f: &mut impl fmt::Write, east: i32) -> fmt::Result {
    let sign = if east >= 0 { '+' } else { '-' };
    let total = east.unsigned_abs();
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if s != 0 {
        write!(f, "{sign}{h:02}:{m:02}:{s:02}")
    } else if m != 0 {
        write!(f, "{sign}{h:02}:{m:02}")
    } else {
        write!(f, "{sign}{h:02}")
    }
}

// ---- Text input -----------------------------------------------------------------------

/// A tiny cursor over ASCII input.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Self { rest: s.as_bytes() }
    }

    fn eat(&mut self, c: u8) -> bool {
        match self.rest.split_first() {
            Some((&b, tail)) if b == c => {
                self.rest = tail;
                true
            }
            _ => false,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Between `min` and `max` decimal digits, and how many there were.
    fn digits(&mut self, min: usize, max: usize) -> Option<(i64, usize)> {
        let n = self
            .rest
            .iter()
            .take(max)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if n < min {
            return None;
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        let v = head
            .iter()
            .fold(0i64, |acc, &b| acc * 10 + i64::from(b - b'0'));
        Some((v, n))
    }

    fn number(&mut self, min: usize, max: usize) -> Option<i64> {
        self.digits(min, max).map(|(v, _)| v)
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}

fn bad(type_name: &'static str) -> TypeError {
    invalid(type_name, "not in PostgreSQL's ISO format")
}

/// `Y-MM-DD` → (year as written, month, day), validated except for the era.
fn parse_ymd(c: &mut Cursor<'_>, type_name: &'static str) -> Result<(i64, u32, u32), TypeError> {
    let year = c.number(1, 9).ok_or(bad(type_name))?;
    let month = c
        .eat(b'-')
        .then(|| c.number(1, 2))
        .flatten()
        .ok_or(bad(type_name))?;
    let day = c
        .eat(b'-')
        .then(|| c.number(1, 2))
        .flatten()
        .ok_or(bad(type_name))?;
    let month = u32::try_from(month).map_err(|_| bad(type_name))?;
    let day = u32::try_from(day).map_err(|_| bad(type_name))?;
    if year == 0 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(invalid(type_name, "date field out of range"));
    }
    Ok((year, month, day))
}

/// Days since 2000-01-01 of a parsed date, once its era is known.
fn checked_days(
    (year, month, day): (i64, u32, u32),
    bc: bool,
    type_name: &'static str,
) -> Result<i64, TypeError> {
    let year = if bc { 1 - year } else { year };
    if day > days_in_month(year, month) {
        return Err(invalid(type_name, "date field out of range"));
    }
    Ok(days_from_civil(year, month, day))
}

/// `HH:MM[:SS[.ffffff]]` → microseconds since midnight, up to 24:00:00.
fn parse_time(c: &mut Cursor<'_>, type_name: &'static str) -> Result<i64, TypeError> {
    let hours = c.number(1, 2).ok_or(bad(type_name))?;
    let minutes = c
        .eat(b':')
        .then(|| c.number(2, 2))
        .flatten()
        .ok_or(bad(type_name))?;
    let mut seconds = 0;
    let mut micros = 0;
    if c.eat(b':') {
        seconds = c.number(2, 2).ok_or(bad(type_name))?;
        if c.eat(b'.') {
            let (v, n) = c.digits(1, 6).ok_or(bad(type_name))?;
            if c.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err(invalid(type_name, "more than 6 fraction digits"));
            }
            micros = v * 10i64.pow(6 - u32::try_from(n).unwrap_or(6));
        }
    }
    let total =
        hours * USECS_PER_HOUR + minutes * USECS_PER_MINUTE + seconds * USECS_PER_SEC + micros;
    if minutes > 59 || seconds > 59 || total > USECS_PER_DAY {
        return Err(invalid(type_name, "time field out of range"));
    }
    Ok(total)
}

/// `+HH[:MM[:SS]]` → seconds east of UTC, if present.
fn parse_offset(c: &mut Cursor<'_>, type_name: &'static str) -> Result<Option<i32>, TypeError> {
    let negative = match c.peek() {
        Some(b'+') => false,
        Some(b'-') => true,
        _ => return Ok(None),
    };
    c.eat(if negative { b'-' } else { b'+' });
    let h = c.number(1, 2).ok_or(bad(type_name))?;
    let mut m = 0;
    let mut s = 0;
    if c.eat(b':') {
        m = c.number(2, 2).ok_or(bad(type_name))?;
        if c.eat(b':') {
            s = c.number(2, 2).ok_or(bad(type_name))?;
        }
    }
    if m > 59 || s > 59 {
        return Err(invalid(type_name, "time zone offset out of range"));
    }
    let total = i32::try_from(h * 3600 + m * 60 + s).map_err(|_| bad(type_name))?;
    if total > MAX_OFFSET_SECS {
        return Err(invalid(type_name, "time zone offset out of range"));
    }
    Ok(Some(if negative { -total } else { total }))
}

/// An optional ` BC` (or ` AD`) era, then the end of input; returns whether BC.
fn parse_era_end(c: &mut Cursor<'_>, type_name: &'static str) -> Result<bool, TypeError> {
    let bc = if c.eat(b' ') {
        match c.rest {
            b"BC" | b"bc" => true,
            b"AD" | b"ad" => false,
            _ => return Err(bad(type_name)),
        }
    } else {
        if !c.is_empty() {
            return Err(bad(type_name));
        }
        false
    };
    Ok(bc)
}

/// Date, time and optional offset of a timestamp: (microseconds of local time since
/// 2000-01-01, offset east in seconds).
fn parse_timestamp(s: &str, type_name: &'static str) -> Result<(i128, Option<i32>), TypeError> {
    let mut c = Cursor::new(s);
    let ymd = parse_ymd(&mut c, type_name)?;
    if !c.eat(b' ') && !c.eat(b'T') {
        return Err(bad(type_name));
    }
    let time = parse_time(&mut c, type_name)?;
    let offset = parse_offset(&mut c, type_name)?;
    let bc = parse_era_end(&mut c, type_name)?;
    let days = checked_days(ymd, bc, type_name)?;
    // Years have at most 9 digits: no overflow in i128.
    let micros = i128::from(days) * i128::from(USECS_PER_DAY) + i128::from(time);
    Ok((micros, offset))
}

// ---- date -----------------------------------------------------------------------------

/// A PostgreSQL `date`: days since 2000-01-01; [`PgDate::INFINITY`] and
/// [`PgDate::NEG_INFINITY`] are `i32::MAX` and `i32::MIN`.
///
/// ```
/// use pgproto_core::types::PgDate;
/// let d = PgDate::from_ymd(-43, 3, 15).unwrap();
/// assert_eq!(d.to_string(), "0044-03-15 BC");
/// assert_eq!("2024-02-29".parse::<PgDate>().unwrap().ymd(), Some((2024, 2, 29)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PgDate(pub i32);

impl PgDate {
    /// `infinity`.
    pub const INFINITY: Self = Self(i32::MAX);
    /// `-infinity`.
    pub const NEG_INFINITY: Self = Self(i32::MIN);
    /// 2000-01-01, PostgreSQL's epoch.
    pub const EPOCH: Self = Self(0);

    /// The date of an astronomical year (0 is 1 BC), month (1-12) and day, or `None`
    /// if it does not exist or is out of range.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Self> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year.into(), month) {
            return None;
        }
        let days = days_from_civil(year.into(), month, day);
        i32::try_from(days)
            .ok()
            .filter(|&d| d != i32::MAX && d != i32::MIN)
            .map(Self)
    }

    /// (astronomical year, month, day), `None` for the infinities.
    pub fn ymd(self) -> Option<(i32, u32, u32)> {
        if !self.is_finite() {
            return None;
        }
        let (y, m, d) = civil_from_days(self.0.into());
        Some((i32::try_from(y).ok()?, m, d))
    }

    /// Whether this is neither `infinity` nor `-infinity`.
    pub fn is_finite(self) -> bool {
        self != Self::INFINITY && self != Self::NEG_INFINITY
    }
}

impl fmt::Display for PgDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::INFINITY => f.write_str("infinity"),
            Self::NEG_INFINITY => f.write_str("-infinity"),
            Self(days) => {
                let ymd = civil_from_days(days.into());
                write_ymd(f, ymd)?;
                write_bc(f, ymd.0)
            }
        }
    }
}

impl FromStr for PgDate {
    type Err = TypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "infinity" | "+infinity" => return Ok(Self::INFINITY),
            "-infinity" => return Ok(Self::NEG_INFINITY),
            _ => {}
        }
        let mut c = Cursor::new(s);
        let ymd = parse_ymd(&mut c, "date")?;
        let bc = parse_era_end(&mut c, "date")?;
        let days = checked_days(ymd, bc, "date")?;
        i32::try_from(days)
            .ok()
            .filter(|&d| d != i32::MAX && d != i32::MIN)
            .map(Self)
            .ok_or(TypeError::OutOfRange { target: "date" })
    }
}

// ---- time -----------------------------------------------------------------------------

/// A PostgreSQL `time` (without time zone): microseconds since midnight, from 0 to
/// 86 400 000 000 (`24:00:00`) inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PgTime(pub i64);

impl PgTime {
    /// Midnight.
    pub const MIDNIGHT: Self = Self(0);

    /// The time `hour:minute:second.micro`, `None` if a field is out of range
    /// (`24:00:00` is allowed).
    pub fn from_hms_micro(hour: u32, minute: u32, second: u32, micro: u32) -> Option<Self> {
        if minute > 59 || second > 59 || micro > 999_999 {
            return None;
        }
        let micros = i64::from(hour) * USECS_PER_HOUR
            + i64::from(minute) * USECS_PER_MINUTE
            + i64::from(second) * USECS_PER_SEC
            + i64::from(micro);
        Self(micros).is_valid().then_some(Self(micros))
    }

    /// (hour, minute, second, microsecond); hour is 24 only for `24:00:00`.
    pub fn hms_micro(self) -> (u32, u32, u32, u32) {
        let m = self.0.clamp(0, USECS_PER_DAY);
        let part = |v: i64| u32::try_from(v).unwrap_or(0);
        (
            part(m / USECS_PER_HOUR),
            part(m % USECS_PER_HOUR / USECS_PER_MINUTE),
            part(m % USECS_PER_MINUTE / USECS_PER_SEC),
            part(m % USECS_PER_SEC),
        )
    }

    /// Whether the value is within `00:00:00..=24:00:00`.
    pub fn is_valid(self) -> bool {
        (0..=USECS_PER_DAY).contains(&self.0)
    }
}

impl fmt::Display for PgTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_time(f, self.0.clamp(0, USECS_PER_DAY))
    }
}

impl FromStr for PgTime {
    type Err = TypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut c = Cursor::new(s);
        let t = parse_time(&mut c, "time")?;
        if c.is_empty() {
            Ok(Self(t))
        } else {
            Err(bad("time"))
        }
    }
}

/// A PostgreSQL `timetz`: a time of day and a UTC offset in seconds *east* of UTC (the
/// wire format stores the negation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PgTimeTz {
    /// The local time of day.
    pub time: PgTime,
    /// Seconds east of UTC, within ±15:59:59.
    pub offset: i32,
}

impl fmt::Display for PgTimeTz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.time)?;
        write_offset(f, self.offset)
    }
}

impl FromStr for PgTimeTz {
    type Err = TypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut c = Cursor::new(s);
        let time = PgTime(parse_time(&mut c, "timetz")?);
        let offset =
            parse_offset(&mut c, "timetz")?.ok_or(invalid("timetz", "missing time zone offset"))?;
        if c.is_empty() {
            Ok(Self { time, offset })
        } else {
            Err(bad("timetz"))
        }
    }
}

// ---- timestamp ------------------------------------------------------------------------

/// A PostgreSQL `timestamp` (without time zone): microseconds since
/// 2000-01-01 00:00:00; `i64::MAX`/`i64::MIN` are `infinity`/`-infinity`.
///
/// ```
/// use pgproto_core::types::{PgDate, PgTime, PgTimestamp};
/// let ts: PgTimestamp = "2021-03-04 05:06:07.123456".parse().unwrap();
/// assert_eq!(ts.0, 668_149_567_123_456);
/// let (date, time) = ts.date_time().unwrap();
/// assert_eq!((date.ymd(), time.hms_micro()), (Some((2021, 3, 4)), (5, 6, 7, 123_456)));
/// assert_eq!(PgTimestamp::new(date, time), Some(ts));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PgTimestamp(pub i64);

/// A PostgreSQL `timestamptz`: microseconds since 2000-01-01 00:00:00 UTC;
/// `i64::MAX`/`i64::MIN` are `infinity`/`-infinity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PgTimestampTz(pub i64);

macro_rules! timestamp_common {
    ($t:ident) => {
        impl $t {
            /// `infinity`.
            pub const INFINITY: Self = Self(i64::MAX);
            /// `-infinity`.
            pub const NEG_INFINITY: Self = Self(i64::MIN);
            /// 2000-01-01 00:00:00, PostgreSQL's epoch.
            pub const EPOCH: Self = Self(0);

            /// Whether this is neither `infinity` nor `-infinity`.
            pub fn is_finite(self) -> bool {
                self != Self::INFINITY && self != Self::NEG_INFINITY
            }

            /// From microseconds since 1970-01-01 00:00:00, `None` if out of range.
            pub fn from_unix_micros(micros: i64) -> Option<Self> {
                micros
                    .checked_sub(UNIX_EPOCH_DAYS * USECS_PER_DAY)
                    .filter(|&m| m != i64::MIN)
                    .map(Self)
            }

            /// Microseconds since 1970-01-01 00:00:00, `None` for the infinities and for
            /// values beyond `i64`.
            pub fn unix_micros(self) -> Option<i64> {
                if !self.is_finite() {
                    return None;
                }
                self.0.checked_add(UNIX_EPOCH_DAYS * USECS_PER_DAY)
            }

            /// From a date and a time of day, `None` if out of range.
            pub fn new(date: PgDate, time: PgTime) -> Option<Self> {
                if !date.is_finite() || !time.is_valid() {
                    return None;
                }
                i64::from(date.0)
                    .checked_mul(USECS_PER_DAY)?
                    .checked_add(time.0)
                    .filter(|&m| m != i64::MAX && m != i64::MIN)
                    .map(Self)
            }

            /// The date and time of day, `None` for the infinities.
            pub fn date_time(self) -> Option<(PgDate, PgTime)> {
                if !self.is_finite() {
                    return None;
                }
                let days = i32::try_from(self.0.div_euclid(USECS_PER_DAY)).ok()?;
                Some((PgDate(days), PgTime(self.0.rem_euclid(USECS_PER_DAY))))
            }

            fn write_text(self, f: &mut impl fmt::Write, utc_suffix: bool) -> fmt::Result {
                match self {
                    Self::INFINITY => f.write_str("infinity"),
                    Self::NEG_INFINITY => f.write_str("-infinity"),
                    Self(micros) => {
                        let ymd = civil_from_days(micros.div_euclid(USECS_PER_DAY));
                        write_ymd(f, ymd)?;
                        f.write_char(' ')?;
                        write_time(f, micros.rem_euclid(USECS_PER_DAY))?;
                        if utc_suffix {
                            f.write_str("+00")?;
                        }
                        write_bc(f, ymd.0)
                    }
                }
            }
        }
    };
}

timestamp_common!(PgTimestamp);
timestamp_common!(PgTimestampTz);

impl fmt::Display for PgTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(f, false)
    }
}

impl FromStr for PgTimestamp {
    type Err = TypeError;

    /// Parses ISO output; like PostgreSQL's `timestamp` input, an offset is ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "infinity" | "+infinity" => return Ok(Self::INFINITY),
            "-infinity" => return Ok(Self::NEG_INFINITY),
            _ => {}
        }
        let (micros, _) = parse_timestamp(s, "timestamp")?;
        i64::try_from(micros)
            .ok()
            .filter(|&m| m != i64::MAX && m != i64::MIN)
            .map(Self)
            .ok_or(TypeError::OutOfRange {
                target: "timestamp",
            })
    }
}

impl fmt::Display for PgTimestampTz {
    /// In UTC: `2000-01-01 00:00:00+00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(f, true)
    }
}

impl FromStr for PgTimestampTz {
    type Err = TypeError;

    /// Parses ISO output with its offset (`+05:30`), which is required.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "infinity" | "+infinity" => return Ok(Self::INFINITY),
            "-infinity" => return Ok(Self::NEG_INFINITY),
            _ => {}
        }
        let (local, offset) = parse_timestamp(s, "timestamptz")?;
        let offset = offset.ok_or(invalid("timestamptz", "missing time zone offset"))?;
        let utc = local - i128::from(offset) * i128::from(USECS_PER_SEC);
        i64::try_from(utc)
            .ok()
            .filter(|&m| m != i64::MAX && m != i64::MIN)
            .map(Self)
            .ok_or(TypeError::OutOfRange {
                target: "timestamptz",
            })
    }
}

// ---- Codec impls ----------------------------------------------------------------------

/// Implements FromSql/ToSql for a type with one OID, a binary reader and writer, and
/// text via FromStr/Display.
macro_rules! codec {
    ($t:ty, $oid:path, $name:literal, |$raw:ident| $decode:expr, |$v:ident, $out:ident| $encode:expr) => {
        impl<'a> FromSql<'a> for $t {
            fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
                if !matches!(oid, $oid | oid::UNSPECIFIED) {
                    return Err(wrong_type::<Self>(oid));
                }
                match format {
                    Format::Binary => {
                        let $raw = raw;
                        $decode
                    }
                    Format::Text => trimmed($name, raw)?.parse(),
                }
            }

            fn accepts(oid: Oid) -> bool {
                matches!(oid, $oid | oid::UNSPECIFIED)
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
                if !matches!(oid, $oid | oid::UNSPECIFIED) {
                    return Err(wrong_type::<Self>(oid));
                }
                match format {
                    Format::Binary => {
                        let $v = self;
                        let $out = out;
                        $encode
                    }
                    Format::Text => {
                        let _ = fmt::Write::write_fmt(out, format_args!("{self}"));
                    }
                }
                Ok(IsNull::No)
            }

            fn accepts(oid: Oid) -> bool {
                matches!(oid, $oid | oid::UNSPECIFIED)
            }

            natural_type!($oid);
        }
    };
}

fn check_time(t: PgTime, type_name: &'static str) -> Result<PgTime, TypeError> {
    if t.is_valid() {
        Ok(t)
    } else {
        Err(invalid(type_name, "time out of range"))
    }
}

codec!(
    PgDate,
    oid::DATE,
    "date",
    |raw| exact("date", raw).map(|b| PgDate(i32::from_be_bytes(b))),
    |v, out| out.put_i32(v.0)
);
codec!(
    PgTime,
    oid::TIME,
    "time",
    |raw| check_time(PgTime(i64::from_be_bytes(exact("time", raw)?)), "time"),
    |v, out| out.put_i64(check_time(*v, "time")?.0)
);
codec!(
    PgTimeTz,
    oid::TIMETZ,
    "timetz",
    |raw| {
        let b: [u8; 12] = exact("timetz", raw)?;
        let (time, zone) = b.split_at(8);
        let time = PgTime(i64::from_be_bytes(exact("timetz", time)?));
        let west = i32::from_be_bytes(exact("timetz", zone)?);
        if !(-MAX_OFFSET_SECS..=MAX_OFFSET_SECS).contains(&west) {
            return Err(invalid("timetz", "time zone offset out of range"));
        }
        Ok(PgTimeTz {
            time: check_time(time, "timetz")?,
            offset: -west,
        })
    },
    |v, out| {
        if !(-MAX_OFFSET_SECS..=MAX_OFFSET_SECS).contains(&v.offset) {
            return Err(TypeError::OutOfRange { target: "timetz" });
        }
        out.put_i64(check_time(v.time, "timetz")?.0);
        out.put_i32(-v.offset);
    }
);
codec!(
    PgTimestamp,
    oid::TIMESTAMP,
    "timestamp",
    |raw| exact("timestamp", raw).map(|b| PgTimestamp(i64::from_be_bytes(b))),
    |v, out| out.put_i64(v.0)
);
codec!(
    PgTimestampTz,
    oid::TIMESTAMPTZ,
    "timestamptz",
    |raw| exact("timestamptz", raw).map(|b| PgTimestampTz(i64::from_be_bytes(b))),
    |v, out| out.put_i64(v.0)
);

// ---- std::time::SystemTime ------------------------------------------------------------

#[cfg(feature = "std")]
mod system_time {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use super::*;

    fn to_pg(t: &SystemTime) -> Result<PgTimestampTz, TypeError> {
        let range = TypeError::OutOfRange {
            target: "timestamptz",
        };
        let micros = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_micros()).map_err(|_| range.clone())?,
            // Before 1970: round toward negative infinity.
            Err(e) => {
                let d = e.duration();
                let whole = i64::try_from(d.as_micros()).map_err(|_| range.clone())?;
                let extra = i64::from(d.subsec_nanos() % 1000 != 0);
                whole.checked_add(extra).map(|m| -m).ok_or(range.clone())?
            }
        };
        PgTimestampTz::from_unix_micros(micros).ok_or(range)
    }

    impl<'a> FromSql<'a> for SystemTime {
        /// `timestamptz`; the infinities are out of range.
        fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
            let ts = PgTimestampTz::from_sql(oid, format, raw).map_err(|e| match e {
                TypeError::WrongType { oid, .. } => wrong_type::<Self>(oid),
                other => other,
            })?;
            let range = TypeError::OutOfRange {
                target: "std::time::SystemTime",
            };
            let micros = ts.unix_micros().ok_or(range.clone())?;
            let d = Duration::from_micros(micros.unsigned_abs());
            if micros >= 0 {
                UNIX_EPOCH.checked_add(d)
            } else {
                UNIX_EPOCH.checked_sub(d)
            }
            .ok_or(range)
        }

        fn accepts(oid: Oid) -> bool {
            matches!(oid, oid::TIMESTAMPTZ | oid::UNSPECIFIED)
        }

        owned_from_sql!();
    }

    impl ToSql for SystemTime {
        fn to_sql(
            &self,
            oid: Oid,
            format: Format,
            out: &mut BytesMut,
        ) -> Result<IsNull, TypeError> {
            if !<Self as ToSql>::accepts(oid) {
                return Err(wrong_type::<Self>(oid));
            }
            to_pg(self)?.to_sql(oid, format, out)
        }

        fn accepts(oid: Oid) -> bool {
            matches!(oid, oid::TIMESTAMPTZ | oid::UNSPECIFIED)
        }

        natural_type!(oid::TIMESTAMPTZ);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn check<T>(oid: Oid, text: &str, bin: &str)
    where
        T: ToSql + for<'a> FromSql<'a> + PartialEq + fmt::Debug + fmt::Display,
    {
        let bin = hex(bin);
        let from_bin = T::from_sql(oid, Format::Binary, &bin).unwrap();
        let from_text = T::from_sql(oid, Format::Text, text.as_bytes()).unwrap();
        assert_eq!(from_bin, from_text, "{text}");
        let mut out = BytesMut::new();
        from_bin.to_sql(oid, Format::Binary, &mut out).unwrap();
        assert_eq!(out.to_vec(), bin, "{text}");
        assert_eq!(from_bin.to_string(), text);
    }

    /// `select x::text, date_send(x)` in PostgreSQL 15.x.
    #[test]
    fn date_vectors() {
        for (t, b) in [
            ("2000-01-01", "00000000"),
            ("1970-01-01", "ffffd533"),
            ("0044-03-15 BC", "fff49d7b"),
            ("0001-01-01", "fff4dbf9"),
            ("0001-12-31 BC", "fff4dbf8"),
            ("4713-01-01 BC", "ffda97cd"),
            ("5874897-12-31", "7fda970c"),
            ("infinity", "7fffffff"),
            ("-infinity", "80000000"),
            ("2024-02-29", "00002279"),
            ("1999-12-31", "ffffffff"),
            ("10000-01-01", "002c95d4"),
        ] {
            check::<PgDate>(oid::DATE, t, b);
        }
        assert_eq!(PgDate::from_ymd(0, 12, 31), Some(PgDate(-730_120)));
        // 3005 BC is astronomical year -3004, a leap year; 3004 BC is not.
        assert!("3005-02-29 BC".parse::<PgDate>().is_ok());
        assert!("3004-02-29 BC".parse::<PgDate>().is_err());
        assert!("3005-02-29 08:08:56.350392+05:41:16 BC"
            .parse::<PgTimestampTz>()
            .is_ok());
        assert_eq!(PgDate::from_ymd(2023, 2, 29), None);
        for bad in [
            "2023-02-29",
            "2000-13-01",
            "0000-01-01",
            "2000-01-01 XX",
            "2000-1",
            "",
        ] {
            assert!(bad.parse::<PgDate>().is_err(), "{bad}");
        }
    }

    /// `select x::text, timestamp_send(x)` in PostgreSQL 15.x.
    #[test]
    fn timestamp_vectors() {
        for (t, b) in [
            ("2000-01-01 00:00:00", "0000000000000000"),
            ("1970-01-01 00:00:00.5", "fffca2fec4cfc120"),
            ("2021-03-04 05:06:07.123456", "00025fadb19af000"),
            ("0044-03-15 12:00:00 BC", "ff1af9e8fb46d000"),
            ("infinity", "7fffffffffffffff"),
            ("-infinity", "8000000000000000"),
            ("294276-12-31 23:59:59.999999", "7fffff5bb3b29fff"),
            ("4713-01-01 00:00:00 BC", "fd0f7fbdaf17e000"),
            ("1999-12-31 23:59:59.999999", "ffffffffffffffff"),
        ] {
            check::<PgTimestamp>(oid::TIMESTAMP, t, b);
        }
        assert_eq!(
            "2000-01-01T24:00:00".parse::<PgTimestamp>(),
            Ok(PgTimestamp(USECS_PER_DAY))
        );
        assert_eq!(
            "2000-01-01 00:00".parse::<PgTimestamp>(),
            Ok(PgTimestamp(0))
        );
        for bad in [
            "2000-01-01",
            "2000-01-01 25:00:00",
            "2000-01-01 24:00:01",
            "2000-01-01 00:60:00",
            "2000-01-01 00:00:00.1234567",
            "2000-01-01 00:00:00 XX",
            "2000-01-01 00:00:00.",
        ] {
            assert!(bad.parse::<PgTimestamp>().is_err(), "{bad}");
        }
    }

    /// `select x::text, timestamptz_send(x)` in PostgreSQL 15.x under several
    /// `TimeZone` settings (UTC, Asia/Kolkata, America/St_Johns).
    #[test]
    fn timestamptz_vectors() {
        for (t, b) in [
            ("2000-01-01 00:00:00+00", "0000000000000000"),
            ("2021-03-04 03:06:07.123456+00", "00025fac0473a800"),
            ("0044-03-15 12:00:00+00 BC", "ff1af9e8fb46d000"),
            ("infinity", "7fffffffffffffff"),
            ("-infinity", "8000000000000000"),
        ] {
            check::<PgTimestampTz>(oid::TIMESTAMPTZ, t, b);
        }
        for (t, b) in [
            ("2000-01-01 05:30:00+05:30", "0000000000000000"),
            ("1900-01-01 05:21:10+05:21:10", "fff4c9ee7c0b8000"),
            ("1999-12-31 20:30:00-03:30", "0000000000000000"),
            ("1799-12-31 20:29:08-03:30:52", "ffe993dcf8170000"),
        ] {
            let v = PgTimestampTz::from_sql(oid::TIMESTAMPTZ, Format::Text, t.as_bytes()).unwrap();
            assert_eq!(
                v,
                PgTimestampTz::from_sql(oid::TIMESTAMPTZ, Format::Binary, &hex(b)).unwrap()
            );
        }
        assert!("2000-01-01 00:00:00".parse::<PgTimestampTz>().is_err());
        assert!("2000-01-01 00:00:00+16".parse::<PgTimestampTz>().is_err());
    }

    /// `select x::text, time_send(x)` / `timetz_send(x)` in PostgreSQL 15.x.
    #[test]
    fn time_vectors() {
        for (t, b) in [
            ("00:00:00", "0000000000000000"),
            ("24:00:00", "000000141dd76000"),
            ("12:34:56.789", "0000000a8be62608"),
            ("23:59:59.999999", "000000141dd75fff"),
            ("00:00:00.000001", "0000000000000001"),
        ] {
            check::<PgTime>(oid::TIME, t, b);
        }
        for (t, b) in [
            ("00:00:00+00", "000000000000000000000000"),
            ("12:34:56.789+02", "0000000a8be62608ffffe3e0"),
            ("23:59:59.999999-07:30", "000000141dd75fff00006978"),
            ("01:02:03+05:30:15", "00000000dde878c0ffffb299"),
            ("24:00:00-15:59", "000000141dd760000000e0c4"),
            ("00:00:00+15:59", "0000000000000000ffff1f3c"),
        ] {
            check::<PgTimeTz>(oid::TIMETZ, t, b);
        }
        assert!(PgTime::from_sql(oid::TIME, Format::Binary, &hex("000000141dd76001")).is_err());
        assert!(PgTime::from_sql(oid::TIME, Format::Binary, &hex("ffffffffffffffff")).is_err());
        assert!(PgTimeTz::from_sql(
            oid::TIMETZ,
            Format::Binary,
            &hex("00000000000000000000e100")
        )
        .is_err());
        assert_eq!(
            PgTime::from_hms_micro(24, 0, 0, 0),
            Some(PgTime(USECS_PER_DAY))
        );
        assert_eq!(PgTime::from_hms_micro(24, 0, 0, 1), None);
        assert_eq!(PgTime(45_296_789_000).hms_micro(), (12, 34, 56, 789_000));
    }

    #[test]
    fn wrong_types() {
        let mut out = BytesMut::new();
        assert!(PgDate(0)
            .to_sql(oid::TIMESTAMP, Format::Binary, &mut out)
            .is_err());
        assert!(PgTimestamp::from_sql(oid::TIMESTAMPTZ, Format::Binary, &[0; 8]).is_err());
        assert!(PgTimestamp::from_sql(oid::TIMESTAMP, Format::Binary, &[0; 7]).is_err());
    }

    #[cfg(feature = "std")]
    #[test]
    fn system_time() {
        use std::time::{Duration, SystemTime, UNIX_EPOCH};
        let t = UNIX_EPOCH + Duration::from_micros(946_684_800_000_000);
        let mut out = BytesMut::new();
        t.to_sql(oid::TIMESTAMPTZ, Format::Binary, &mut out)
            .unwrap();
        assert_eq!(&out[..], &[0; 8]);
        assert_eq!(
            SystemTime::from_sql(oid::TIMESTAMPTZ, Format::Binary, &out),
            Ok(t)
        );
        let before = UNIX_EPOCH - Duration::from_nanos(1500);
        out.clear();
        before
            .to_sql(oid::TIMESTAMPTZ, Format::Binary, &mut out)
            .unwrap();
        let back = SystemTime::from_sql(oid::TIMESTAMPTZ, Format::Binary, &out).unwrap();
        assert_eq!(back, UNIX_EPOCH - Duration::from_micros(2));
        assert!(
            SystemTime::from_sql(oid::TIMESTAMPTZ, Format::Binary, &i64::MAX.to_be_bytes())
                .is_err()
        );
    }

    fn roundtrip<T>(v: T, oid: Oid) -> Result<(), TestCaseError>
    where
        T: ToSql + for<'a> FromSql<'a> + PartialEq + fmt::Debug + Copy,
    {
        for format in [Format::Binary, Format::Text] {
            let mut out = BytesMut::new();
            v.to_sql(oid, format, &mut out).unwrap();
            prop_assert_eq!(T::from_sql(oid, format, &out).unwrap(), v);
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn civil_roundtrip(days in -2_000_000_000i64..2_000_000_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }

        #[test]
        fn dates(d: i32) {
            roundtrip(PgDate(d), oid::DATE)?;
        }

        #[test]
        fn timestamps(t: i64) {
            roundtrip(PgTimestamp(t), oid::TIMESTAMP)?;
            roundtrip(PgTimestampTz(t), oid::TIMESTAMPTZ)?;
        }

        #[test]
        fn times(t in 0..=USECS_PER_DAY, offset in -MAX_OFFSET_SECS..=MAX_OFFSET_SECS) {
            roundtrip(PgTime(t), oid::TIME)?;
            roundtrip(PgTimeTz { time: PgTime(t), offset }, oid::TIMETZ)?;
        }

        #[test]
        fn offsets_in_text(t in -(1i64 << 60)..(1i64 << 60), offset in -MAX_OFFSET_SECS..=MAX_OFFSET_SECS) {
            // Render local time with an offset, as a server in another zone would.
            let local = PgTimestamp(t + i64::from(offset) * USECS_PER_SEC);
            let mut s = String::new();
            local.write_text(&mut s, false).unwrap();
            let (head, bc) = match s.strip_suffix(" BC") { Some(h) => (h, " BC"), None => (s.as_str(), "") };
            let mut text = String::from(head);
            write_offset(&mut text, offset).unwrap();
            text.push_str(bc);
            prop_assert_eq!(text.parse::<PgTimestampTz>(), Ok(PgTimestampTz(t)));
        }

        #[test]
        fn random_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..16)) {
            for format in [Format::Binary, Format::Text] {
                let _ = PgDate::from_sql(oid::DATE, format, &raw);
                let _ = PgTime::from_sql(oid::TIME, format, &raw);
                let _ = PgTimeTz::from_sql(oid::TIMETZ, format, &raw);
                let _ = PgTimestamp::from_sql(oid::TIMESTAMP, format, &raw);
                let _ = PgTimestampTz::from_sql(oid::TIMESTAMPTZ, format, &raw);
            }
        }

        #[test]
        fn random_text_never_panics(s in "[-+0-9: .TBCADinfty]{0,40}") {
            let _ = s.parse::<PgDate>();
            let _ = s.parse::<PgTime>();
            let _ = s.parse::<PgTimeTz>();
            let _ = s.parse::<PgTimestamp>();
            let _ = s.parse::<PgTimestampTz>();
        }
    }
}
