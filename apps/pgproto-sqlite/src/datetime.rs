//! Dates, times and intervals as PostgreSQL computes them. SQLite stores these values as
//! text; this module gives them PostgreSQL's meaning:
//!
//! * **Input**: typed literals (`date '2024-03-01'`, `timestamp '...'`, `timestamptz
//!   '...'`, `interval '1 day'`, `time '10:00'`) and casts to these types (`x::date`,
//!   `CAST(x AS date)`) become calls of `pg_date(x)`, `pg_timestamp(x)`...: each reads
//!   its text with the core's codecs (ISO 8601, as PostgreSQL writes it) and answers
//!   PostgreSQL's text, or PostgreSQL's error: 22008 `date/time field value out of
//!   range` for `'2024-02-30'`, 22007 for text without a date; other input PostgreSQL
//!   reads (`'May 6 2024'`, `'now'`, `'1.5 hours'`) is refused with 0A000.
//! * **Operators** whose operands are known to be dates, timestamps or intervals from
//!   the syntax (literals, casts, `now()`, `current_date`, these functions) become
//!   function calls: `date ± integer` (`pg_date_pli`, `pg_date_mii`), `date - date`
//!   (`pg_date_mi`, an integer), `timestamp ± interval` and `date ± interval`
//!   (`pg_timestamp_pl_interval`..., with PostgreSQL's month arithmetic: a day past the
//!   new month's end is its last day), `timestamp - timestamp` (`pg_timestamp_mi`, an
//!   interval of days and time) and `interval ± interval`. Other arithmetic on them is
//!   refused with 0A000, as is arithmetic on a column of such a type (see
//!   [`crate::sql::check_datetime_arithmetic`]), whose type this pass does not know.
//! * **Functions**: `extract(field FROM x)` (numeric, as PostgreSQL 15), `date_part`
//!   (float8), `date_trunc`, `age(a, b)` and `to_char(x, format)` for the common
//!   patterns (others: 0A000), registered by [`register_functions`].
//!
//! The session's time zone is always UTC, so a `timestamptz` is computed as a
//! `timestamp` and written with `+00`.

use pgproto_core::types::{PgDate, PgInterval, PgTime, PgTimestamp, PgTimestampTz, TypeError};
use rusqlite::types::Value;
use rusqlite::Connection;
use sqlparser::ast::{
    BinaryOperator, DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, UnaryOperator,
};

use crate::sql::Unsupported;

const USECS_PER_SEC: i64 = 1_000_000;
const USECS_PER_MINUTE: i64 = 60 * USECS_PER_SEC;
const USECS_PER_HOUR: i64 = 60 * USECS_PER_MINUTE;
const USECS_PER_DAY: i64 = 24 * USECS_PER_HOUR;
/// Seconds from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch).
const UNIX_EPOCH_SECS: i64 = 946_684_800;

/// A date or time type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Interval,
}

impl Kind {
    /// Every date or time type.
    const ALL: [Self; 5] = [
        Self::Date,
        Self::Time,
        Self::Timestamp,
        Self::TimestampTz,
        Self::Interval,
    ];

    /// PostgreSQL's name of the type, as in its error messages.
    fn type_name(self) -> &'static str {
        match self {
            Self::Date => "date",
            Self::Time => "time without time zone",
            Self::Timestamp => "timestamp without time zone",
            Self::TimestampTz => "timestamp with time zone",
            Self::Interval => "interval",
        }
    }

    /// The SQL function that reads a value of this type (see [`input`]).
    fn input_function(self) -> &'static str {
        match self {
            Self::Date => "pg_date",
            Self::Time => "pg_time",
            Self::Timestamp => "pg_timestamp",
            Self::TimestampTz => "pg_timestamptz",
            Self::Interval => "pg_interval",
        }
    }
}

/// The SQL functions of this module that stand for PostgreSQL syntax: (name, the name
/// PostgreSQL gives the column, the result type). `date_trunc`'s type is its operand's.
const FUNCTIONS: &[(&str, &str, &str)] = &[
    ("pg_date", "date", "DATE"),
    ("pg_time", "time", "TIME"),
    ("pg_timestamp", "timestamp", "TIMESTAMP"),
    ("pg_timestamptz", "timestamptz", "TIMESTAMPTZ"),
    ("pg_interval", "interval", "INTERVAL"),
    ("pg_date_pli", "?column?", "DATE"),
    ("pg_date_mii", "?column?", "DATE"),
    ("pg_date_mi", "?column?", "INT4"),
    ("pg_timestamp_pl_interval", "?column?", "TIMESTAMP"),
    ("pg_timestamp_mi_interval", "?column?", "TIMESTAMP"),
    ("pg_timestamptz_pl_interval", "?column?", "TIMESTAMPTZ"),
    ("pg_timestamptz_mi_interval", "?column?", "TIMESTAMPTZ"),
    ("pg_timestamp_mi", "?column?", "INTERVAL"),
    ("pg_interval_pl", "?column?", "INTERVAL"),
    ("pg_interval_mi", "?column?", "INTERVAL"),
    ("extract", "extract", "NUMERIC"),
    ("date_part", "date_part", "FLOAT8"),
    ("age", "age", "INTERVAL"),
    ("to_char", "to_char", "TEXT"),
];

/// The result type of one of this module's SQL functions (`pg_date`: `DATE`).
pub(crate) fn function_type(name: &str) -> Option<&'static str> {
    FUNCTIONS.iter().find(|f| f.0 == name).map(|f| f.2)
}

/// Whether `name` is the SQL function of a cast to a date or time type (`pg_date`...).
pub(crate) fn is_input_function(name: &str) -> bool {
    Kind::ALL
        .iter()
        .any(|k| k.input_function().eq_ignore_ascii_case(name))
}

/// For a call of one of this module's SQL functions: the name PostgreSQL gives its
/// column and its result type (a declared-type name), `None` for other functions.
pub(crate) fn function_result(name: &str) -> Option<(&'static str, &'static str)> {
    FUNCTIONS
        .iter()
        .find(|f| f.0.eq_ignore_ascii_case(name))
        .map(|f| (f.1, f.2))
}

// ---- Errors ---------------------------------------------------------------------------

/// An error with PostgreSQL's SQLSTATE, written `[code] message` for a SQL function
/// (the session reads the code back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DtError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

fn fail<T>(code: &'static str, message: impl Into<String>) -> Result<T, DtError> {
    Err(DtError {
        code,
        message: message.into(),
    })
}

fn unsupported<T>(what: impl std::fmt::Display) -> Result<T, DtError> {
    fail("0A000", format!("{what} is not supported"))
}

fn out_of_range<T>(kind: Kind) -> Result<T, DtError> {
    let what = match kind {
        Kind::Timestamp | Kind::TimestampTz => "timestamp",
        k => k.type_name(),
    };
    fail("22008", format!("{what} out of range"))
}

// ---- Input ----------------------------------------------------------------------------

/// Why the core's codec refused a text: a field out of range (22008) or something else.
fn is_range_error(e: &TypeError) -> bool {
    match e {
        TypeError::InvalidValue { reason, .. } => reason.contains("out of range"),
        TypeError::OutOfRange { .. } => true,
        _ => false,
    }
}

/// The error for a text the codecs do not read as `kind`: PostgreSQL's 22008 for a field
/// out of range, 22007 for text that holds no date or time at all, else 0A000 (input
/// PostgreSQL may read, in a format other than ISO 8601).
fn input_error<T>(kind: Kind, text: &str, range: bool) -> Result<T, DtError> {
    let name = match kind {
        Kind::Time => "time",
        Kind::Timestamp => "timestamp",
        Kind::TimestampTz => "timestamp with time zone",
        k => k.type_name(),
    };
    if range {
        return fail(
            "22008",
            format!("date/time field value out of range: \"{text}\""),
        );
    }
    let lower = text.trim().to_ascii_lowercase();
    let special = ["now", "today", "tomorrow", "yesterday", "epoch", "allballs"];
    if !text.bytes().any(|b| b.is_ascii_digit()) && !special.contains(&lower.as_str()) {
        return fail(
            "22007",
            format!("invalid input syntax for type {name}: \"{text}\""),
        );
    }
    unsupported(format!(
        "{name} input \"{text}\" (only ISO 8601 text, as PostgreSQL writes it,)"
    ))
}

/// A value of `kind` read from text as PostgreSQL reads it, written as PostgreSQL
/// writes it (`date '2024-3-1'` is `2024-03-01`; a timestamp read as a date keeps its
/// date, a date read as a timestamp is at midnight).
pub(crate) fn input(kind: Kind, text: &str) -> Result<String, DtError> {
    let t = text.trim();
    let got = match kind {
        Kind::Date => {
            t.parse::<PgDate>()
                .map(|d| d.to_string())
                .or_else(|e| match t.parse::<PgTimestamp>() {
                    Ok(ts) => Ok(ts
                        .date_time()
                        .map_or_else(|| ts.to_string(), |(d, _)| d.to_string())),
                    Err(_) => Err(e),
                })
        }
        Kind::Time => t.parse::<PgTime>().map(|v| v.to_string()),
        Kind::Timestamp => t
            .parse::<PgTimestamp>()
            .map(|v| v.to_string())
            .or_else(|e| match t.parse::<PgDate>() {
                Ok(d) => timestamp_of_date(d).map(|m| PgTimestamp(m).to_string()),
                Err(_) => Err(e),
            }),
        Kind::TimestampTz => t
            .parse::<PgTimestampTz>()
            .map(|v| v.to_string())
            .or_else(|e| match t.parse::<PgTimestamp>() {
                Ok(ts) => Ok(PgTimestampTz(ts.0).to_string()),
                Err(_) => match t.parse::<PgDate>() {
                    Ok(d) => timestamp_of_date(d).map(|m| PgTimestampTz(m).to_string()),
                    Err(_) => Err(e),
                },
            }),
        Kind::Interval => t.parse::<PgInterval>().map(|v| v.to_string()),
    };
    got.or_else(|e| input_error(kind, text, is_range_error(&e)))
}

fn timestamp_of_date(d: PgDate) -> Result<i64, TypeError> {
    if d == PgDate::INFINITY {
        return Ok(i64::MAX);
    }
    if d == PgDate::NEG_INFINITY {
        return Ok(i64::MIN);
    }
    PgTimestamp::new(d, PgTime::MIDNIGHT)
        .map(|t| t.0)
        .ok_or(TypeError::OutOfRange {
            target: "timestamp",
        })
}

/// A date or time value held by SQLite.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Point {
    Date(PgDate),
    /// Microseconds since 2000-01-01 (UTC for a timestamptz).
    Timestamp(i64, Kind),
    Interval(PgInterval),
}

/// What a text holds, by its shape: a date, a timestamp (with an offset: timestamptz),
/// or an interval. Infinite values are refused.
fn read_point(text: &str) -> Result<Point, DtError> {
    let t = text.trim();
    if let Ok(d) = t.parse::<PgDate>() {
        if !d.is_finite() {
            return unsupported("arithmetic on an infinite date");
        }
        return Ok(Point::Date(d));
    }
    if let Ok(ts) = t.parse::<PgTimestampTz>() {
        if !ts.is_finite() {
            return unsupported("arithmetic on an infinite timestamp");
        }
        return Ok(Point::Timestamp(ts.0, Kind::TimestampTz));
    }
    if let Ok(ts) = t.parse::<PgTimestamp>() {
        if !ts.is_finite() {
            return unsupported("arithmetic on an infinite timestamp");
        }
        return Ok(Point::Timestamp(ts.0, Kind::Timestamp));
    }
    if let Ok(i) = t.parse::<PgInterval>() {
        return Ok(Point::Interval(i));
    }
    fail(
        "22007",
        format!("invalid input syntax for a date, time or interval: \"{text}\""),
    )
}

/// The microseconds since 2000-01-01 of a date or timestamp text (a date at midnight).
fn read_timestamp(text: &str) -> Result<i64, DtError> {
    match read_point(text)? {
        Point::Date(d) => timestamp_of_date(d).or_else(|_| out_of_range(Kind::Timestamp)),
        Point::Timestamp(m, _) => Ok(m),
        Point::Interval(_) => fail(
            "42883",
            format!("a timestamp is expected here, not the interval \"{text}\""),
        ),
    }
}

fn read_date(text: &str) -> Result<PgDate, DtError> {
    match read_point(text)? {
        Point::Date(d) => Ok(d),
        _ => fail(
            "22007",
            format!("invalid input syntax for type date: \"{text}\""),
        ),
    }
}

fn read_interval(text: &str) -> Result<PgInterval, DtError> {
    text.trim().parse::<PgInterval>().or_else(|e| {
        if is_range_error(&e) {
            fail("22008", "interval out of range")
        } else {
            input_error(Kind::Interval, text, false)
        }
    })
}

fn write_timestamp(micros: i64, kind: Kind) -> Result<String, DtError> {
    if micros == i64::MAX || micros == i64::MIN || PgTimestamp(micros).date_time().is_none() {
        return out_of_range(kind);
    }
    Ok(if kind == Kind::TimestampTz {
        PgTimestampTz(micros).to_string()
    } else {
        PgTimestamp(micros).to_string()
    })
}

// ---- Arithmetic -----------------------------------------------------------------------

/// `date + days` (`days` negative for `-`).
pub(crate) fn date_add_days(date: &str, days: i64) -> Result<String, DtError> {
    let d = read_date(date)?;
    i64::from(d.0)
        .checked_add(days)
        .and_then(|n| i32::try_from(n).ok())
        .map(PgDate)
        .filter(|d| d.is_finite() && d.ymd().is_some() && DATE_RANGE.contains(&d.0))
        .map_or_else(
            || fail("22008", "date out of range"),
            |d| match d.ymd() {
                Some((y, _, _)) if (1..=9999).contains(&y) => Ok(d.to_string()),
                _ => unsupported(
                    "a date outside the years 1 to 9999 (stored as text, it would not sort)",
                ),
            },
        )
}

/// PostgreSQL's dates, in days from 2000-01-01: 4713-11-24 BC to 5874897-12-31
/// (`IS_VALID_DATE`); arithmetic past them fails with 22008.
pub(crate) const DATE_RANGE: std::ops::Range<i32> = -2_451_545..2_145_031_949;

/// `date - date`: the days between.
pub(crate) fn date_diff(a: &str, b: &str) -> Result<i64, DtError> {
    Ok(i64::from(read_date(a)?.0) - i64::from(read_date(b)?.0))
}

/// `timestamp + interval` as PostgreSQL's `timestamp_pl_interval`: months first (a day
/// past the new month's end becomes its last day), then days, then the time.
fn add_interval(micros: i64, iv: PgInterval, kind: Kind) -> Result<i64, DtError> {
    let mut m = micros;
    if iv.months != 0 {
        let (date, time) = PgTimestamp(m).date_time().ok_or(DtError {
            code: "22008",
            message: "timestamp out of range".into(),
        })?;
        let (y, mo, d) = date.ymd().ok_or(DtError {
            code: "22008",
            message: "timestamp out of range".into(),
        })?;
        let total = i64::from(y) * 12 + i64::from(mo) - 1 + i64::from(iv.months);
        let year = i32::try_from(total.div_euclid(12)).or_else(|_| out_of_range(kind))?;
        let month = u32::try_from(total.rem_euclid(12) + 1).unwrap_or(1);
        let last = (28..=31)
            .rev()
            .find(|&day| PgDate::from_ymd(year, month, day).is_some())
            .map_or_else(|| out_of_range(kind), Ok)?;
        let date =
            PgDate::from_ymd(year, month, d.min(last)).map_or_else(|| out_of_range(kind), Ok)?;
        m = PgTimestamp::new(date, time).map_or_else(|| out_of_range(kind), |t| Ok(t.0))?;
    }
    let m = i64::from(iv.days)
        .checked_mul(USECS_PER_DAY)
        .and_then(|d| m.checked_add(d))
        .and_then(|v| v.checked_add(iv.microseconds));
    match m {
        Some(v) if PgTimestamp(v).date_time().is_some() && v != i64::MAX && v != i64::MIN => Ok(v),
        _ => out_of_range(kind),
    }
}

fn negate(iv: PgInterval) -> Result<PgInterval, DtError> {
    match (
        iv.months.checked_neg(),
        iv.days.checked_neg(),
        iv.microseconds.checked_neg(),
    ) {
        (Some(months), Some(days), Some(microseconds)) => Ok(PgInterval {
            months,
            days,
            microseconds,
        }),
        _ => fail("22008", "interval out of range"),
    }
}

/// `timestamp ± interval` (a date operand is a timestamp at midnight), written as
/// `kind`.
pub(crate) fn timestamp_add_interval(
    ts: &str,
    iv: &str,
    minus: bool,
    kind: Kind,
) -> Result<String, DtError> {
    let m = read_timestamp(ts)?;
    let mut i = read_interval(iv)?;
    if minus {
        i = negate(i)?;
    }
    write_timestamp(add_interval(m, i, kind)?, kind)
}

/// `timestamp - timestamp`: days and time (PostgreSQL's `interval_justify_hours`).
pub(crate) fn timestamp_diff(a: &str, b: &str) -> Result<String, DtError> {
    let t = read_timestamp(a)?
        .checked_sub(read_timestamp(b)?)
        .map_or_else(|| fail("22008", "interval out of range"), Ok)?;
    let mut days = t / USECS_PER_DAY;
    let mut time = t - days * USECS_PER_DAY;
    if days > 0 && time < 0 {
        time += USECS_PER_DAY;
        days -= 1;
    } else if days < 0 && time > 0 {
        time -= USECS_PER_DAY;
        days += 1;
    }
    let days = i32::try_from(days).or_else(|_| fail("22008", "interval out of range"))?;
    Ok(PgInterval::new(0, days, time).to_string())
}

/// `interval ± interval`, field by field.
pub(crate) fn interval_add(a: &str, b: &str, minus: bool) -> Result<String, DtError> {
    let x = read_interval(a)?;
    let mut y = read_interval(b)?;
    if minus {
        y = negate(y)?;
    }
    match (
        x.months.checked_add(y.months),
        x.days.checked_add(y.days),
        x.microseconds.checked_add(y.microseconds),
    ) {
        (Some(mo), Some(d), Some(us)) => Ok(PgInterval::new(mo, d, us).to_string()),
        _ => fail("22008", "interval out of range"),
    }
}

// ---- extract, date_part, date_trunc, age ------------------------------------------------

/// Calendar fields of a timestamp: (year, month, day, hour, minute, second, microsecond,
/// day of week 0 = Sunday, day of year).
struct Fields {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    micro: i64,
    dow: i64,
    doy: i64,
    days: i64,
}

fn fields(micros: i64) -> Option<Fields> {
    let (date, time) = PgTimestamp(micros).date_time()?;
    let (y, m, d) = date.ymd()?;
    let (h, mi, s, us) = time.hms_micro();
    let jan1 = PgDate::from_ymd(y, 1, 1)?;
    let days = i64::from(date.0);
    Some(Fields {
        year: y.into(),
        month: m.into(),
        day: d.into(),
        hour: h.into(),
        minute: mi.into(),
        second: s.into(),
        micro: us.into(),
        // 2000-01-01 was a Saturday.
        dow: (days + 6).rem_euclid(7),
        doy: days - i64::from(jan1.0) + 1,
        days,
    })
}

/// The ISO 8601 week number and week-numbering year of a date.
fn iso_week(f: &Fields) -> (i64, i64) {
    let isodow = if f.dow == 0 { 7 } else { f.dow };
    // The Thursday of this week decides the year.
    let thursday = f.days - isodow + 4;
    let Some((ty, _, _)) = i32::try_from(thursday).ok().and_then(|d| PgDate(d).ymd()) else {
        return (0, f.year);
    };
    let jan1 = PgDate::from_ymd(ty, 1, 1).map_or(thursday, |d| i64::from(d.0));
    ((thursday - jan1) / 7 + 1, ty.into())
}

/// A field's value as a decimal: (digits, scale), so that 56.5 with scale 6 is
/// (56_500_000, 6).
type Decimal = (i128, u32);

fn field_of_timestamp(field: &str, micros: i64, kind: Kind) -> Result<Decimal, DtError> {
    let f = fields(micros).map_or_else(|| out_of_range(kind), Ok)?;
    let int = |v: i64| Ok((i128::from(v), 0));
    let positive_year = |f: &Fields| if f.year > 0 { f.year } else { f.year - 1 };
    match field {
        "microsecond" | "microseconds" | "us" | "usec" | "usecs" => {
            int(f.second * USECS_PER_SEC + f.micro)
        }
        "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" => {
            Ok((i128::from(f.second * USECS_PER_SEC + f.micro), 3))
        }
        "second" | "seconds" | "s" | "sec" | "secs" => {
            Ok((i128::from(f.second * USECS_PER_SEC + f.micro), 6))
        }
        "minute" | "minutes" | "m" | "min" | "mins" => int(f.minute),
        "hour" | "hours" | "h" | "hr" | "hrs" => int(f.hour),
        "day" | "days" | "d" => int(f.day),
        "month" | "months" | "mon" | "mons" => int(f.month),
        "quarter" | "qtr" => int((f.month - 1) / 3 + 1),
        "week" | "weeks" | "w" => int(iso_week(&f).0),
        "year" | "years" | "y" | "yr" | "yrs" => int(positive_year(&f)),
        "decade" | "decades" => int(if f.year >= 0 {
            f.year / 10
        } else {
            -((8 - (f.year - 1)) / 10)
        }),
        "century" | "centuries" | "c" | "cent" => int(if f.year > 0 {
            (f.year + 99) / 100
        } else {
            -((99 - (f.year - 1)) / 100)
        }),
        "millennium" | "millennia" | "mil" | "mils" => int(if f.year > 0 {
            (f.year + 999) / 1000
        } else {
            -((999 - (f.year - 1)) / 1000)
        }),
        "dow" => int(f.dow),
        "isodow" => int(if f.dow == 0 { 7 } else { f.dow }),
        "doy" => int(f.doy),
        "isoyear" => int(iso_week(&f).1),
        "epoch" => Ok((
            i128::from(micros) + i128::from(UNIX_EPOCH_SECS) * i128::from(USECS_PER_SEC),
            6,
        )),
        "timezone" | "timezone_hour" | "timezone_minute" if kind == Kind::TimestampTz => int(0),
        "julian" | "timezone" | "timezone_hour" | "timezone_minute" => {
            unsupported(format!("unit \"{field}\" for type {}", kind.type_name()))
        }
        _ => fail(
            "22023",
            format!(
                "unit \"{field}\" not recognized for type {}",
                kind.type_name()
            ),
        ),
    }
}

fn field_of_date(field: &str, d: PgDate) -> Result<Decimal, DtError> {
    let micros = timestamp_of_date(d).or_else(|_| out_of_range(Kind::Date))?;
    match field {
        "epoch" => Ok((i128::from(i64::from(d.0) * 86_400 + UNIX_EPOCH_SECS), 0)),
        "julian" => Ok((i128::from(i64::from(d.0) + 2_451_545), 0)),
        "microsecond" | "microseconds" | "us" | "usec" | "usecs" | "millisecond"
        | "milliseconds" | "ms" | "msec" | "msecs" | "second" | "seconds" | "s" | "sec"
        | "secs" | "minute" | "minutes" | "m" | "min" | "mins" | "hour" | "hours" | "h" | "hr"
        | "hrs" | "timezone" | "timezone_hour" | "timezone_minute" => fail(
            "0A000",
            format!("unit \"{field}\" not supported for type date"),
        ),
        _ => field_of_timestamp(field, micros, Kind::Date).map_err(|e| DtError {
            message: e
                .message
                .replace("type timestamp without time zone", "type date"),
            ..e
        }),
    }
}

fn field_of_interval(field: &str, iv: PgInterval) -> Result<Decimal, DtError> {
    let int = |v: i64| Ok((i128::from(v), 0));
    let t = iv.microseconds;
    match field {
        "microsecond" | "microseconds" | "us" | "usec" | "usecs" => int(t % USECS_PER_MINUTE),
        "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" => {
            Ok((i128::from(t % USECS_PER_MINUTE), 3))
        }
        "second" | "seconds" | "s" | "sec" | "secs" => Ok((i128::from(t % USECS_PER_MINUTE), 6)),
        "minute" | "minutes" | "m" | "min" | "mins" => int(t % USECS_PER_HOUR / USECS_PER_MINUTE),
        "hour" | "hours" | "h" | "hr" | "hrs" => int(t / USECS_PER_HOUR),
        "day" | "days" | "d" => int(iv.days.into()),
        "month" | "months" | "mon" | "mons" => int((iv.months % 12).into()),
        "quarter" | "qtr" => int(((iv.months % 12) / 3 + 1).into()),
        "year" | "years" | "y" | "yr" | "yrs" => int((iv.months / 12).into()),
        "decade" | "decades" => int((iv.months / 120).into()),
        "century" | "centuries" | "c" | "cent" => int((iv.months / 1200).into()),
        "millennium" | "millennia" | "mil" | "mils" => int((iv.months / 12000).into()),
        "epoch" => {
            // PostgreSQL 15: a year is 365.25 days, a month 30 days.
            let years = i128::from(iv.months / 12);
            let months = i128::from(iv.months % 12);
            let secs_x100 = years * 3_155_760_000 + months * 259_200_000;
            let micros = secs_x100 * 10_000
                + i128::from(iv.days) * i128::from(USECS_PER_DAY)
                + i128::from(t);
            Ok((micros, 6))
        }
        "dow" | "isodow" | "doy" | "week" | "weeks" | "w" | "isoyear" | "julian" | "timezone"
        | "timezone_hour" | "timezone_minute" => fail(
            "0A000",
            format!("unit \"{field}\" not supported for type interval"),
        ),
        _ => fail(
            "22023",
            format!("unit \"{field}\" not recognized for type interval"),
        ),
    }
}

fn field_of(field: &str, value: &str) -> Result<Decimal, DtError> {
    let field = field.trim().to_ascii_lowercase();
    match read_point(value)? {
        Point::Date(d) => field_of_date(&field, d),
        Point::Timestamp(m, kind) => field_of_timestamp(&field, m, kind),
        Point::Interval(iv) => field_of_interval(&field, iv),
    }
}

/// `extract(field FROM value)`: PostgreSQL 15's numeric, as text (`56.500000`).
pub(crate) fn extract(field: &str, value: &str) -> Result<String, DtError> {
    let (digits, scale) = field_of(field, value)?;
    if scale == 0 {
        return Ok(digits.to_string());
    }
    let unit = 10i128.pow(scale);
    let sign = if digits < 0 { "-" } else { "" };
    let abs = digits.unsigned_abs();
    let unit = unit.unsigned_abs();
    Ok(format!(
        "{sign}{}.{:0width$}",
        abs / unit,
        abs % unit,
        width = scale as usize
    ))
}

/// `date_part(field, value)`: a float8. A date is read as a timestamp at midnight, as
/// PostgreSQL casts it (so `date_part('hour', date)` is 0).
pub(crate) fn date_part(field: &str, value: &str) -> Result<f64, DtError> {
    let lower = field.trim().to_ascii_lowercase();
    let (digits, scale) = match read_point(value)? {
        Point::Date(d) if lower != "julian" => field_of_timestamp(
            &lower,
            timestamp_of_date(d).or_else(|_| out_of_range(Kind::Date))?,
            Kind::TimestampTz,
        )?,
        _ => field_of(field, value)?,
    };
    Ok(digits as f64 / 10f64.powi(scale as i32))
}

/// `date_trunc(unit, value)`: a date is a timestamptz at midnight (PostgreSQL's cast),
/// written with `+00`.
pub(crate) fn date_trunc(unit: &str, value: &str) -> Result<String, DtError> {
    let unit = unit.trim().to_ascii_lowercase();
    let (micros, kind) = match read_point(value)? {
        Point::Date(d) => (
            timestamp_of_date(d).or_else(|_| out_of_range(Kind::Date))?,
            Kind::TimestampTz,
        ),
        Point::Timestamp(m, k) => (m, k),
        Point::Interval(iv) => return trunc_interval(&unit, iv),
    };
    let f = fields(micros).map_or_else(|| out_of_range(kind), Ok)?;
    if f.year <= 0 && matches!(unit.as_str(), "decade" | "century" | "millennium") {
        return unsupported(format!("date_trunc('{unit}') of a date BC"));
    }
    let (mut y, mut mo, mut d, mut h, mut mi, mut s, mut us) =
        (f.year, f.month, f.day, f.hour, f.minute, f.second, f.micro);
    let mut week_start = None;
    match unit.as_str() {
        "microseconds" | "microsecond" => {}
        "milliseconds" | "millisecond" => us = us / 1000 * 1000,
        "second" | "seconds" => us = 0,
        "minute" | "minutes" => (s, us) = (0, 0),
        "hour" | "hours" => (mi, s, us) = (0, 0, 0),
        "day" | "days" => (h, mi, s, us) = (0, 0, 0, 0),
        "week" | "weeks" => {
            let isodow = if f.dow == 0 { 7 } else { f.dow };
            week_start = Some(f.days - isodow + 1);
            (h, mi, s, us) = (0, 0, 0, 0);
        }
        "month" | "months" => (d, h, mi, s, us) = (1, 0, 0, 0, 0),
        "quarter" => {
            mo = (mo - 1) / 3 * 3 + 1;
            (d, h, mi, s, us) = (1, 0, 0, 0, 0);
        }
        "year" | "years" => (mo, d, h, mi, s, us) = (1, 1, 0, 0, 0, 0),
        "decade" | "decades" => {
            y = y / 10 * 10;
            (mo, d, h, mi, s, us) = (1, 1, 0, 0, 0, 0);
        }
        "century" | "centuries" => {
            y = (y + 99) / 100 * 100 - 99;
            (mo, d, h, mi, s, us) = (1, 1, 0, 0, 0, 0);
        }
        "millennium" | "millennia" => {
            y = (y + 999) / 1000 * 1000 - 999;
            (mo, d, h, mi, s, us) = (1, 1, 0, 0, 0, 0);
        }
        _ => {
            return fail(
                "22023",
                format!(
                    "unit \"{unit}\" not recognized for type {}",
                    kind.type_name()
                ),
            )
        }
    }
    let days = match week_start {
        Some(days) => days,
        None => {
            let date = i32::try_from(y)
                .ok()
                .zip(u32::try_from(mo).ok())
                .zip(u32::try_from(d).ok())
                .and_then(|((y, m), d)| PgDate::from_ymd(y, m, d))
                .map_or_else(|| out_of_range(kind), Ok)?;
            i64::from(date.0)
        }
    };
    let m =
        days * USECS_PER_DAY + h * USECS_PER_HOUR + mi * USECS_PER_MINUTE + s * USECS_PER_SEC + us;
    write_timestamp(m, kind)
}

fn trunc_interval(unit: &str, iv: PgInterval) -> Result<String, DtError> {
    let t = iv.microseconds;
    let (mut months, mut days, mut time) = (iv.months, iv.days, t);
    match unit {
        "microseconds" | "microsecond" => {}
        "milliseconds" | "millisecond" => time = t / 1000 * 1000,
        "second" | "seconds" => time = t / USECS_PER_SEC * USECS_PER_SEC,
        "minute" | "minutes" => time = t / USECS_PER_MINUTE * USECS_PER_MINUTE,
        "hour" | "hours" => time = t / USECS_PER_HOUR * USECS_PER_HOUR,
        "day" | "days" => time = 0,
        "month" | "months" => (days, time) = (0, 0),
        "quarter" => (months, days, time) = (months / 12 * 12 + months % 12 / 3 * 3, 0, 0),
        "year" | "years" => (months, days, time) = (months / 12 * 12, 0, 0),
        "decade" | "decades" => (months, days, time) = (months / 120 * 120, 0, 0),
        "century" | "centuries" => (months, days, time) = (months / 1200 * 1200, 0, 0),
        "millennium" | "millennia" => (months, days, time) = (months / 12000 * 12000, 0, 0),
        "week" | "weeks" => {
            return fail(
                "0A000",
                format!("unit \"{unit}\" not supported for type interval"),
            )
        }
        _ => {
            return fail(
                "22023",
                format!("unit \"{unit}\" not recognized for type interval"),
            )
        }
    }
    Ok(PgInterval::new(months, days, time).to_string())
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let (Ok(y), Ok(m)) = (i32::try_from(year), u32::try_from(month)) else {
        return 31;
    };
    (28..=31)
        .rev()
        .find(|&d| PgDate::from_ymd(y, m, d).is_some())
        .map_or(31, i64::from)
}

/// `age(a, b)`: `a - b` in years, months, days and time, as PostgreSQL's
/// `timestamp_age` (fields subtracted, then borrowed from the next larger one).
pub(crate) fn age(a: &str, b: &str) -> Result<String, DtError> {
    let (m1, m2) = (read_timestamp(a)?, read_timestamp(b)?);
    let range = || DtError {
        code: "22008",
        message: "timestamp out of range".into(),
    };
    let (f1, f2) = (fields(m1).ok_or_else(range)?, fields(m2).ok_or_else(range)?);
    let flip = m1 < m2;
    let sign = if flip { -1 } else { 1 };
    let mut us = sign * (f1.micro - f2.micro);
    let mut sec = sign * (f1.second - f2.second);
    let mut min = sign * (f1.minute - f2.minute);
    let mut hour = sign * (f1.hour - f2.hour);
    let mut day = sign * (f1.day - f2.day);
    let mut mon = sign * (f1.month - f2.month);
    let mut year = sign * (f1.year - f2.year);
    while us < 0 {
        us += USECS_PER_SEC;
        sec -= 1;
    }
    while sec < 0 {
        sec += 60;
        min -= 1;
    }
    while min < 0 {
        min += 60;
        hour -= 1;
    }
    while hour < 0 {
        hour += 24;
        day -= 1;
    }
    while day < 0 {
        day += if flip {
            days_in_month(f1.year, f1.month)
        } else {
            days_in_month(f2.year, f2.month)
        };
        mon -= 1;
    }
    while mon < 0 {
        mon += 12;
        year -= 1;
    }
    let months = i32::try_from(sign * (year * 12 + mon)).map_err(|_| range())?;
    let days = i32::try_from(sign * day).map_err(|_| range())?;
    let time = sign * (((hour * 60 + min) * 60 + sec) * USECS_PER_SEC + us);
    Ok(PgInterval::new(months, days, time).to_string())
}

// ---- to_char --------------------------------------------------------------------------

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// The patterns `to_char` knows, longest first where one is a prefix of another, as
/// PostgreSQL's `DCH_keywords` (case matters for the names: `MON`, `Mon`, `mon`).
const PATTERNS: &[&str] = &[
    "A.D.", "A.M.", "AD", "AM", "B.C.", "BC", "CC", "DAY", "DDD", "DD", "DY", "Day", "Dy", "D",
    "FF1", "FF2", "FF3", "FF4", "FF5", "FF6", "FX", "HH24", "HH12", "HH", "IDDD", "ID", "IW",
    "IYYY", "IYY", "IY", "I", "J", "MI", "MM", "MONTH", "MON", "MS", "Month", "Mon", "OF", "P.M.",
    "PM", "Q", "RM", "SSSSS", "SSSS", "SS", "TZH", "TZM", "TZ", "US", "WW", "W", "Y,YYY", "YYYY",
    "YYY", "YY", "Y", "a.d.", "a.m.", "ad", "am", "b.c.", "bc", "cc", "day", "ddd", "dd", "dy",
    "d", "ff1", "ff2", "ff3", "ff4", "ff5", "ff6", "fx", "hh24", "hh12", "hh", "iddd", "id", "iw",
    "iyyy", "iyy", "iy", "i", "j", "mi", "mm", "month", "mon", "ms", "of", "p.m.", "pm", "q", "rm",
    "sssss", "ssss", "ss", "tz", "us", "ww", "w", "y,yyy", "yyyy", "yyy", "yy", "y",
];

/// A name in the case of its pattern: `MONTH` upper, `month` lower, `Month` as is;
/// padded to 9 characters unless `fill` (`FM`).
fn name_in_case(name: &str, pattern: &str, pad: bool) -> String {
    let mut s = if pattern.chars().all(|c| c.is_ascii_uppercase()) {
        name.to_ascii_uppercase()
    } else if pattern.chars().all(|c| c.is_ascii_lowercase()) {
        name.to_ascii_lowercase()
    } else {
        name.to_string()
    };
    if pad {
        while s.len() < 9 {
            s.push(' ');
        }
    }
    s
}

/// `to_char(timestamp, format)` for the common patterns (years, months, days, hours,
/// minutes, seconds, fractions, AM/PM, month and day names, `FM`, quoted text); the
/// others (ISO weeks, `TZ`, `J`, `RM`, `TH` suffixes...) are refused with 0A000.
pub(crate) fn to_char(value: &str, format: &str) -> Result<String, DtError> {
    let (micros, kind) = match read_point(value)? {
        Point::Date(d) => (
            timestamp_of_date(d).or_else(|_| out_of_range(Kind::Date))?,
            Kind::TimestampTz,
        ),
        Point::Timestamp(m, k) => (m, k),
        Point::Interval(_) => return unsupported("to_char() of an interval"),
    };
    let f = fields(micros).map_or_else(|| out_of_range(kind), Ok)?;
    if f.year <= 0 {
        return unsupported("to_char() of a date BC");
    }
    let mut out = String::new();
    let mut rest = format;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('"') {
            // Quoted text, `\"` a quote inside it.
            let mut chars = after.char_indices();
            let mut end = after.len();
            while let Some((i, c)) = chars.next() {
                if c == '\\' {
                    if let Some((_, n)) = chars.next() {
                        out.push(n);
                    }
                    continue;
                }
                if c == '"' {
                    end = i + 1;
                    break;
                }
                out.push(c);
            }
            rest = after.get(end..).unwrap_or("");
            continue;
        }
        if let Some(after) = rest.strip_prefix("\\\"") {
            out.push('"');
            rest = after;
            continue;
        }
        let mut fill = false;
        let mut body = rest;
        if let Some(after) = rest.strip_prefix("FM").or_else(|| rest.strip_prefix("fm")) {
            fill = true;
            body = after;
        } else if rest.starts_with("TM") || rest.starts_with("tm") {
            return unsupported("to_char() pattern modifier \"TM\"");
        }
        let Some(pattern) = PATTERNS.iter().find(|p| body.starts_with(**p)) else {
            if fill {
                // `FM` before no pattern: dropped, as PostgreSQL does.
                rest = body;
                continue;
            }
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
            continue;
        };
        rest = body.get(pattern.len()..).unwrap_or("");
        if ["TH", "th", "SP", "sp"].iter().any(|s| rest.starts_with(s)) {
            return unsupported(format!(
                "to_char() pattern suffix \"{}\"",
                rest.get(..2).unwrap_or("")
            ));
        }
        let num = |v: i64, width: usize| {
            if fill {
                v.to_string()
            } else {
                format!("{v:0width$}")
            }
        };
        let hour12 = if f.hour % 12 == 0 { 12 } else { f.hour % 12 };
        let pm = f.hour >= 12;
        let upper = pattern.to_ascii_uppercase();
        let text = match upper.as_str() {
            "YYYY" => num(f.year, 4),
            "YYY" => num(f.year % 1000, 3),
            "YY" => num(f.year % 100, 2),
            "Y" => num(f.year % 10, 1),
            "MM" => num(f.month, 2),
            "DD" => num(f.day, 2),
            "DDD" => num(f.doy, 3),
            "D" => num(f.dow + 1, 1),
            "Q" => num((f.month - 1) / 3 + 1, 1),
            "HH" | "HH12" => num(hour12, 2),
            "HH24" => num(f.hour, 2),
            "MI" => num(f.minute, 2),
            "SS" => num(f.second, 2),
            "MS" => num(f.micro / 1000, 3),
            "US" => num(f.micro, 6),
            "AM" | "PM" => {
                let m = if pm { "PM" } else { "AM" };
                name_in_case(m, pattern, false)
            }
            "A.M." | "P.M." => {
                let m = if pm { "P.M." } else { "A.M." };
                if pattern.chars().any(|c| c.is_ascii_lowercase()) {
                    m.to_ascii_lowercase()
                } else {
                    m.to_string()
                }
            }
            "MONTH" | "MON" => {
                let name = MONTHS
                    .get(usize::try_from(f.month - 1).unwrap_or(0))
                    .copied()
                    .unwrap_or("");
                if upper == "MON" {
                    name_in_case(name.get(..3).unwrap_or(name), pattern, false)
                } else {
                    name_in_case(name, pattern, !fill)
                }
            }
            "DAY" | "DY" => {
                let name = DAYS
                    .get(usize::try_from(f.dow).unwrap_or(0))
                    .copied()
                    .unwrap_or("");
                if upper == "DY" {
                    name_in_case(name.get(..3).unwrap_or(name), pattern, false)
                } else {
                    name_in_case(name, pattern, !fill)
                }
            }
            _ => return unsupported(format!("to_char() pattern \"{pattern}\"")),
        };
        out.push_str(&text);
    }
    Ok(out)
}

// ---- SQL functions --------------------------------------------------------------------

/// Registers the SQL functions of this module: `pg_date`, `pg_time`, `pg_timestamp`,
/// `pg_timestamptz`, `pg_interval` (input), the operators (`pg_date_pli`...),
/// `extract`, `date_part`, `date_trunc`, `age` and `to_char`. Each answers NULL for a
/// NULL argument and reports errors as `[SQLSTATE] message`.
pub(crate) fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::{Context, FunctionFlags};
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    fn sql_error(e: DtError) -> rusqlite::Error {
        rusqlite::Error::UserFunctionError(format!("[{}] {}", e.code, e.message).into())
    }
    /// The arguments as text, `None` when one is NULL; numbers are refused where a
    /// date or time is expected.
    fn texts(ctx: &Context<'_>, what: &str) -> rusqlite::Result<Option<Vec<String>>> {
        let mut out = Vec::with_capacity(ctx.len());
        for i in 0..ctx.len() {
            match ctx.get::<Value>(i)? {
                Value::Null => return Ok(None),
                Value::Text(t) => out.push(t),
                Value::Integer(n) => out.push(n.to_string()),
                Value::Real(r) => out.push(r.to_string()),
                Value::Blob(_) => {
                    return Err(sql_error(DtError {
                        code: "42846",
                        message: format!("cannot cast type bytea to {what}"),
                    }))
                }
            }
        }
        Ok(Some(out))
    }
    /// Registers `name(a, b)` computing `f`, NULL for a NULL argument.
    fn two(
        conn: &Connection,
        name: &str,
        f: impl Fn(&str, &str) -> Result<Value, DtError> + Send + 'static,
    ) -> rusqlite::Result<()> {
        let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
        conn.create_scalar_function(name, 2, flags, move |ctx| {
            let Some(args) = texts(ctx, "a date or time")? else {
                return Ok(Value::Null);
            };
            match args.as_slice() {
                [a, b] => f(a, b).map_err(sql_error),
                _ => Ok(Value::Null),
            }
        })
    }
    for kind in Kind::ALL {
        conn.create_scalar_function(kind.input_function(), 1, flags, move |ctx| {
            if let Value::Integer(_) | Value::Real(_) = ctx.get::<Value>(0)? {
                return Err(sql_error(DtError {
                    code: "42846",
                    message: format!("cannot cast a number to type {}", kind.type_name()),
                }));
            }
            let Some(args) = texts(ctx, kind.type_name())? else {
                return Ok(None);
            };
            input(kind, args.first().map_or("", String::as_str))
                .map(Some)
                .map_err(sql_error)
        })?;
    }
    // The operators' functions, each with its minus form (which negates the second
    // operand): date ± integer (`pg_date_pli`, `pg_date_mii`), timestamp[tz] ± interval,
    // interval ± interval.
    for (op, minus) in [("pl", false), ("mi", true)] {
        two(conn, &format!("pg_date_{op}i"), move |d, n| {
            let n = n.trim().parse::<i64>().or_else(|_| {
                unsupported(format!(
                    "date {} \"{n}\" (an operand not known to be an integer; cast it)",
                    if minus { '-' } else { '+' }
                ))
            })?;
            let n = if minus {
                n.checked_neg().unwrap_or(i64::MAX)
            } else {
                n
            };
            date_add_days(d, n).map(Value::Text)
        })?;
        for kind in [Kind::Timestamp, Kind::TimestampTz] {
            two(
                conn,
                &format!("{}_{op}_interval", kind.input_function()),
                move |a, b| timestamp_add_interval(a, b, minus, kind).map(Value::Text),
            )?;
        }
        two(conn, &format!("pg_interval_{op}"), move |a, b| {
            interval_add(a, b, minus).map(Value::Text)
        })?;
    }
    two(conn, "pg_date_mi", |a, b| {
        date_diff(a, b).map(Value::Integer)
    })?;
    two(conn, "date_part", |f, v| date_part(f, v).map(Value::Real))?;
    // A number, so that SQLite compares and computes with it (its text compares as
    // greater than any number); the display scale is the `typed` module's.
    two(conn, "extract", |f, v| {
        extract(f, v).map(|t| {
            if let Ok(i) = t.parse::<i64>() {
                return Value::Integer(i);
            }
            match (t.parse::<f64>(), crate::arith::Decimal::parse(&t)) {
                (Ok(x), Some(d))
                    if crate::arith::Decimal::from_float(x).map(|f| f.trimmed())
                        == Some(d.trimmed()) =>
                {
                    Value::Real(x)
                }
                _ => Value::Text(t),
            }
        })
    })?;
    type TextFunction = fn(&str, &str) -> Result<String, DtError>;
    let text_functions: [(&str, TextFunction); 3] = [
        ("pg_timestamp_mi", timestamp_diff),
        ("date_trunc", date_trunc),
        ("age", age),
    ];
    for (name, f) in text_functions {
        two(conn, name, move |a, b| f(a, b).map(Value::Text))?;
    }
    conn.create_scalar_function("age", 1, flags, |_| {
        Err::<Value, _>(sql_error(DtError {
            code: "0A000",
            message: "age() of one timestamp is not supported (write age(current_date, x))".into(),
        }))
    })?;
    conn.create_scalar_function("to_char", 2, flags, |ctx| {
        if let Value::Integer(_) | Value::Real(_) = ctx.get::<Value>(0)? {
            return Err(sql_error(DtError {
                code: "0A000",
                message: "to_char() of a number is not supported".into(),
            }));
        }
        let Some(args) = texts(ctx, "a date or time")? else {
            return Ok(None);
        };
        match args.as_slice() {
            [v, f] => to_char(v, f).map(Some).map_err(sql_error),
            _ => Ok(None),
        }
    })?;
    Ok(())
}

// ---- The syntax-tree rewrite ----------------------------------------------------------

/// The date or time type a PostgreSQL type name stands for; `Err` for one this module
/// does not compute (`timetz`, a precision), `Ok(None)` for other types.
fn kind_of_type(ty: &DataType) -> Result<Option<Kind>, Unsupported> {
    let text = ty.to_string().to_ascii_lowercase();
    let base: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let kind = match base.as_str() {
        "date" => Kind::Date,
        "time" | "time without time zone" => Kind::Time,
        "timestamp" | "timestamp without time zone" => Kind::Timestamp,
        "timestamptz" | "timestamp with time zone" => Kind::TimestampTz,
        "interval" => Kind::Interval,
        _ if base.starts_with("timetz") || base.starts_with("time with time zone") => {
            return Err(Unsupported(
                "type time with time zone is not supported".into(),
            ))
        }
        _ if base.starts_with("timestamp")
            || base.starts_with("time(")
            || base.starts_with("interval") =>
        {
            return Err(Unsupported(format!(
                "a {base} cast (a precision or fields) is not supported"
            )))
        }
        _ => return Ok(None),
    };
    Ok(Some(kind))
}

/// A constant of a date or time type is read when the statement is rewritten, as
/// PostgreSQL reads constants before it runs a statement: its error, with its SQLSTATE
/// (`[22008] ...`, which the session reports), fails the statement's Parse.
fn check_constant(kind: Kind, text: &str) -> Result<(), Unsupported> {
    input(kind, text)
        .map(|_| ())
        .map_err(|e| Unsupported(format!("[{}] {}", e.code, e.message)))
}

/// What the syntax says about an operand of an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operand {
    /// A date or time of this type.
    Time(Kind),
    /// An integer literal.
    Integer,
    /// A string literal (its type is not known until PostgreSQL resolves the operator).
    Untyped,
    /// Anything else: a column, a parameter, an expression.
    Other,
}

fn function_name(f: &sqlparser::ast::Function) -> Option<String> {
    match f.name.0.as_slice() {
        [part] => part.as_ident().map(|i| i.value.to_ascii_lowercase()),
        _ => None,
    }
}

fn call_args(f: &sqlparser::ast::Function) -> Vec<&Expr> {
    match &f.args {
        FunctionArguments::List(list) => list
            .args
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn operand(e: &Expr) -> Operand {
    match e {
        Expr::Nested(inner) => operand(inner),
        Expr::Value(v) => match &v.value {
            sqlparser::ast::Value::Number(n, _) if !n.contains(['.', 'e', 'E']) => Operand::Integer,
            sqlparser::ast::Value::SingleQuotedString(_) => Operand::Untyped,
            _ => Operand::Other,
        },
        Expr::Function(f) => {
            let Some(name) = function_name(f) else {
                return Operand::Other;
            };
            let kind = match name.as_str() {
                "current_date" => Kind::Date,
                "localtimestamp" => Kind::Timestamp,
                "now"
                | "current_timestamp"
                | "transaction_timestamp"
                | "statement_timestamp"
                | "clock_timestamp" => Kind::TimestampTz,
                "date_trunc" => match call_args(f).get(1).map(|a| operand(a)) {
                    Some(Operand::Time(Kind::Date)) => Kind::TimestampTz,
                    Some(Operand::Time(k)) => k,
                    _ => return Operand::Other,
                },
                _ => match function_result(&name) {
                    Some((_, "DATE")) => Kind::Date,
                    Some((_, "TIME")) => Kind::Time,
                    Some((_, "TIMESTAMP")) => Kind::Timestamp,
                    Some((_, "TIMESTAMPTZ")) => Kind::TimestampTz,
                    Some((_, "INTERVAL")) => Kind::Interval,
                    _ => return Operand::Other,
                },
            };
            Operand::Time(kind)
        }
        _ => Operand::Other,
    }
}

/// Whether an expression reads the clock (`now()`, `current_timestamp`...): this
/// server's clock functions answer the time of the call, not of the transaction's start.
fn is_clock(e: &Expr) -> bool {
    match e {
        Expr::Nested(inner) => is_clock(inner),
        Expr::Function(f) => function_name(f).is_some_and(|n| {
            matches!(
                n.as_str(),
                "now"
                    | "current_timestamp"
                    | "current_date"
                    | "current_time"
                    | "localtimestamp"
                    | "localtime"
                    | "transaction_timestamp"
                    | "statement_timestamp"
                    | "clock_timestamp"
            ) || (is_input_function(&n) && call_args(f).first().is_some_and(|a| is_clock(a)))
        }),
        _ => false,
    }
}

fn call(name: &str, args: &[&Expr]) -> Result<Expr, Unsupported> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let text = format!("{name}({})", args.join(", "));
    sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
        .try_with_sql(&text)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| Unsupported(format!("internal rewrite failed: {e}")))
}

fn operand_name(o: Operand) -> &'static str {
    match o {
        Operand::Time(k) => match k {
            Kind::Timestamp => "timestamp",
            Kind::TimestampTz => "timestamptz",
            k => k.type_name(),
        },
        Operand::Integer => "integer",
        Operand::Untyped => "an untyped literal",
        Operand::Other => "an expression of unknown type",
    }
}

/// The function computing `left op right` for date and time operands, and whether its
/// arguments are swapped; `Err` for a combination this module does not compute.
fn operator_function(
    left: Operand,
    op: &BinaryOperator,
    right: Operand,
) -> Result<Option<(&'static str, bool)>, Unsupported> {
    use Kind::*;
    use Operand::{Integer, Other, Time};
    let plus = matches!(op, BinaryOperator::Plus);
    let minus = matches!(op, BinaryOperator::Minus);
    let ts_fn = |k: Kind, plus: bool| match (k, plus) {
        (TimestampTz, true) => "pg_timestamptz_pl_interval",
        (TimestampTz, false) => "pg_timestamptz_mi_interval",
        (_, true) => "pg_timestamp_pl_interval",
        (_, false) => "pg_timestamp_mi_interval",
    };
    let is_point = |k: Kind| matches!(k, Date | Timestamp | TimestampTz);
    let found = match (left, right) {
        (Time(Date), Integer | Other) if plus => ("pg_date_pli", false),
        (Time(Date), Integer | Other) if minus => ("pg_date_mii", false),
        (Integer | Other, Time(Date)) if plus => ("pg_date_pli", true),
        (Time(Date), Time(Date)) if minus => ("pg_date_mi", false),
        (Time(k), Time(Interval)) if is_point(k) && (plus || minus) => (ts_fn(k, plus), false),
        (Time(Interval), Time(k)) if is_point(k) && plus => (ts_fn(k, true), true),
        (Time(k), Other) if matches!(k, Timestamp | TimestampTz) && (plus || minus) => {
            (ts_fn(k, plus), false)
        }
        (Other, Time(k)) if matches!(k, Timestamp | TimestampTz) && plus => (ts_fn(k, true), true),
        (Time(a), Time(b)) if is_point(a) && is_point(b) && minus => ("pg_timestamp_mi", false),
        (Time(Interval), Time(Interval)) if plus => ("pg_interval_pl", false),
        (Time(Interval), Time(Interval)) if minus => ("pg_interval_mi", false),
        (Time(_), _) | (_, Time(_)) => {
            return Err(Unsupported(format!(
                "the operator {} {op} {} is not supported",
                operand_name(left),
                operand_name(right)
            )))
        }
        _ => return Ok(None),
    };
    Ok(Some(found))
}

/// Rewrites one expression (its operands already rewritten): typed literals and casts
/// to date and time types, `extract(field FROM x)`, and the operators of dates, times
/// and intervals (see the module docs).
pub(crate) fn rewrite_expr(expr: &mut Expr) -> Result<bool, Unsupported> {
    let replacement = match expr {
        Expr::TypedString { data_type, value } => {
            let Some(kind) = kind_of_type(data_type)? else {
                return Ok(false);
            };
            let Some(text) = value.value.clone().into_string() else {
                return Ok(false);
            };
            check_constant(kind, &text)?;
            call(
                kind.input_function(),
                &[&Expr::value(sqlparser::ast::Value::SingleQuotedString(
                    text,
                ))],
            )?
        }
        Expr::Interval(iv) => {
            if iv.leading_field.is_some()
                || iv.last_field.is_some()
                || iv.leading_precision.is_some()
                || iv.fractional_seconds_precision.is_some()
            {
                return Err(Unsupported(
                    "an interval literal with fields (interval '1' day) is not supported".into(),
                ));
            }
            if let Expr::Value(v) = iv.value.as_ref() {
                if let sqlparser::ast::Value::SingleQuotedString(text) = &v.value {
                    check_constant(Kind::Interval, text)?;
                }
            }
            call(Kind::Interval.input_function(), &[&iv.value])?
        }
        Expr::Cast {
            expr: inner,
            data_type,
            format: None,
            ..
        } => {
            let Some(kind) = kind_of_type(data_type)? else {
                return Ok(false);
            };
            if let Expr::Value(v) = inner.as_ref() {
                if let sqlparser::ast::Value::SingleQuotedString(text) = &v.value {
                    check_constant(kind, text)?;
                }
            }
            if operand(inner) == Operand::Time(kind) {
                // A cast to the operand's own type.
                *expr = (**inner).clone();
                return Ok(true);
            }
            call(kind.input_function(), &[inner])?
        }
        Expr::Extract {
            field, expr: inner, ..
        } => {
            let name = field.to_string().to_ascii_lowercase();
            let name = name.trim_matches(['"', '\'']).to_string();
            call(
                "extract",
                &[
                    &Expr::value(sqlparser::ast::Value::SingleQuotedString(name)),
                    inner,
                ],
            )?
        }
        Expr::BinaryOp { left, op, right } => {
            let (l, r) = (operand(left), operand(right));
            if !crate::pgsql::is_arithmetic_operator(op) {
                let compared = matches!(
                    op,
                    BinaryOperator::Eq
                        | BinaryOperator::NotEq
                        | BinaryOperator::Lt
                        | BinaryOperator::LtEq
                        | BinaryOperator::Gt
                        | BinaryOperator::GtEq
                );
                if compared {
                    if let (Operand::Time(a), Operand::Time(b)) = (l, r) {
                        if a != b || a == Kind::Interval {
                            return Err(Unsupported(format!(
                                "comparing {} with {} is not supported",
                                operand_name(l),
                                operand_name(r)
                            )));
                        }
                    }
                    if l == Operand::Time(Kind::Interval) || r == Operand::Time(Kind::Interval) {
                        return Err(Unsupported("comparing intervals is not supported".into()));
                    }
                }
                return Ok(false);
            }
            if let (Operand::Untyped, Operand::Time(_)) | (Operand::Time(_), Operand::Untyped) =
                (l, r)
            {
                return Err(Unsupported(format!(
                    "the operator {} {op} {} is not supported (write the literal's type: interval '1 day', date '...')",
                    operand_name(l),
                    operand_name(r)
                )));
            }
            if is_clock(left) && is_clock(right) {
                return Err(Unsupported(
                    "arithmetic between two readings of the clock is not supported (now() is the time of the call here, not of the transaction's start)"
                        .into(),
                ));
            }
            let Some((name, swapped)) = operator_function(l, op, r)? else {
                return Ok(false);
            };
            if swapped {
                call(name, &[right, left])?
            } else {
                call(name, &[left, right])?
            }
        }
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr: inner,
        } if matches!(operand(inner), Operand::Time(_)) => {
            return Err(Unsupported(format!(
                "the operator - {} is not supported",
                operand_name(operand(inner))
            )))
        }
        _ => return Ok(false),
    };
    *expr = replacement;
    Ok(true)
}

/// Whether a statement's text may hold what [`rewrite_expr`] rewrites.
pub(crate) fn may_need_rewrite(lower: &str) -> bool {
    [
        "date", "time", "interval", "extract", "age", "to_char", "now", "current_",
    ]
    .iter()
    .any(|k| lower.contains(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code<T: std::fmt::Debug>(r: Result<T, DtError>) -> &'static str {
        r.unwrap_err().code
    }

    #[test]
    fn input_as_postgresql() {
        assert_eq!(input(Kind::Date, "2024-3-1").unwrap(), "2024-03-01");
        assert_eq!(
            input(Kind::Date, "2024-03-01 10:00:00").unwrap(),
            "2024-03-01"
        );
        assert_eq!(
            input(Kind::Timestamp, "2024-03-01").unwrap(),
            "2024-03-01 00:00:00"
        );
        assert_eq!(
            input(Kind::TimestampTz, "2024-03-01 10:00").unwrap(),
            "2024-03-01 10:00:00+00"
        );
        assert_eq!(
            input(Kind::TimestampTz, "2024-03-01 10:00+02").unwrap(),
            "2024-03-01 08:00:00+00"
        );
        assert_eq!(input(Kind::Interval, "90 minutes").unwrap(), "01:30:00");
        assert_eq!(input(Kind::Time, "10:00").unwrap(), "10:00:00");
        let e = input(Kind::Date, "2024-02-30").unwrap_err();
        assert_eq!(e.code, "22008");
        assert_eq!(
            e.message,
            "date/time field value out of range: \"2024-02-30\""
        );
        assert_eq!(code(input(Kind::Date, "2024-13-01")), "22008");
        assert_eq!(code(input(Kind::Timestamp, "2024-01-01 25:00")), "22008");
        let e = input(Kind::Date, "abc").unwrap_err();
        assert_eq!(e.code, "22007");
        assert_eq!(e.message, "invalid input syntax for type date: \"abc\"");
        assert_eq!(code(input(Kind::Interval, "xyz")), "22007");
        assert_eq!(code(input(Kind::Date, "May 6 2024")), "0A000");
        assert_eq!(code(input(Kind::Date, "today")), "0A000");
        assert_eq!(code(input(Kind::Interval, "1.5 hours")), "0A000");
    }

    #[test]
    fn arithmetic_as_postgresql() {
        assert_eq!(date_add_days("2024-03-01", -1).unwrap(), "2024-02-29");
        assert_eq!(date_add_days("2024-03-01", 1).unwrap(), "2024-03-02");
        assert_eq!(date_diff("2024-03-01", "2024-01-01").unwrap(), 60);
        let ts = |a, b, minus, k| timestamp_add_interval(a, b, minus, k).unwrap();
        assert_eq!(
            ts("2024-01-31", "1 mon", false, Kind::Timestamp),
            "2024-02-29 00:00:00"
        );
        assert_eq!(
            ts(
                "2024-01-31 10:00:00",
                "1 mon 1 day 01:00:00",
                false,
                Kind::Timestamp
            ),
            "2024-03-01 11:00:00"
        );
        assert_eq!(
            ts("2024-03-31 10:00:00+00", "1 mon", true, Kind::TimestampTz),
            "2024-02-29 10:00:00+00"
        );
        assert_eq!(
            ts("2024-01-01", "01:00:00", true, Kind::Timestamp),
            "2023-12-31 23:00:00"
        );
        assert_eq!(
            ts("2024-01-01 10:00:00", "90 minutes", false, Kind::Timestamp),
            "2024-01-01 11:30:00"
        );
        assert_eq!(
            timestamp_diff("2024-03-01", "2024-01-01 10:00").unwrap(),
            "59 days 14:00:00"
        );
        assert_eq!(
            interval_add("1 day", "2 hours", false).unwrap(),
            "1 day 02:00:00"
        );
        assert_eq!(
            interval_add("1 day", "2 hours", true).unwrap(),
            "1 day -02:00:00"
        );
        assert_eq!(code(date_add_days("2024-03-01", i64::MAX)), "22008");
        assert_eq!(code(date_add_days("1 day", 1)), "22007");
    }

    #[test]
    fn extract_date_part_trunc_age() {
        assert_eq!(extract("year", "2024-05-06").unwrap(), "2024");
        assert_eq!(
            extract("second", "2024-05-06 12:34:56.5").unwrap(),
            "56.500000"
        );
        assert_eq!(
            extract("epoch", "2024-05-06 12:34:56").unwrap(),
            "1714998896.000000"
        );
        assert_eq!(extract("epoch", "2024-05-06").unwrap(), "1714953600");
        assert_eq!(
            extract("milliseconds", "2024-05-06 12:34:56.5").unwrap(),
            "56500.000"
        );
        assert_eq!(extract("week", "2024-05-06").unwrap(), "19");
        assert_eq!(extract("julian", "2024-05-06").unwrap(), "2460437");
        assert_eq!(extract("epoch", "1 day").unwrap(), "86400.000000");
        assert_eq!(extract("second", "1 day 00:00:06.5").unwrap(), "6.500000");
        let e = extract("hour", "2024-05-06").unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            ("0A000", "unit \"hour\" not supported for type date")
        );
        let e = extract("foo", "2024-05-06").unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            ("22023", "unit \"foo\" not recognized for type date")
        );
        assert_eq!(date_part("month", "2024-05-06").unwrap(), 5.0);
        assert_eq!(date_part("second", "2024-05-06 12:34:56.5").unwrap(), 56.5);
        assert_eq!(date_part("hour", "1 day 05:00:00").unwrap(), 5.0);
        assert_eq!(
            date_trunc("month", "2024-05-06").unwrap(),
            "2024-05-01 00:00:00+00"
        );
        assert_eq!(
            date_trunc("week", "2024-05-06 12:34:56").unwrap(),
            "2024-05-06 00:00:00"
        );
        assert_eq!(
            date_trunc("quarter", "2024-05-06 10:34:56+00").unwrap(),
            "2024-04-01 00:00:00+00"
        );
        assert_eq!(
            date_trunc("hour", "1 day 05:33:00").unwrap(),
            "1 day 05:00:00"
        );
        assert_eq!(code(date_trunc("foo", "2024-05-06 00:00:00")), "22023");
        assert_eq!(age("2024-03-01", "2024-01-01").unwrap(), "2 mons");
        assert_eq!(
            age("2024-03-01", "2024-01-31 10:00").unwrap(),
            "1 mon 14:00:00"
        );
        assert_eq!(
            age("2024-01-01", "2024-03-15 01:02:03").unwrap(),
            "-2 mons -14 days -01:02:03"
        );
        assert_eq!(age("2024-03-01", "2023-02-28").unwrap(), "1 year 1 day");
    }

    #[test]
    fn to_char_patterns() {
        assert_eq!(to_char("2024-05-06", "YYYY-MM-DD").unwrap(), "2024-05-06");
        assert_eq!(
            to_char(
                "2024-05-06 13:04:05.123456",
                "YYYY-MM-DD HH24:MI:SS.MS US HH12 HH am PM Mon MON mon Month| Day| Dy DY dy D DDD Q YY Y YYY"
            )
            .unwrap(),
            "2024-05-06 13:04:05.123 123456 01 01 pm PM May MAY may May      | Monday   | Mon MON mon 2 127 2 24 4 024"
        );
        assert_eq!(
            to_char("2024-05-06", "FMMonth FMDay FMDD FMMM \"YYYY\" \\YYYY").unwrap(),
            "May Monday 6 5 YYYY \\2024"
        );
        assert_eq!(
            to_char("2024-05-06 00:04:05", "HH12 HH AM a.m. P.M.").unwrap(),
            "12 12 AM a.m. A.M."
        );
        assert_eq!(code(to_char("2024-05-06", "IYYY")), "0A000");
        assert_eq!(code(to_char("2024-05-06", "DDth")), "0A000");
        assert_eq!(code(to_char("1 day", "HH")), "0A000");
    }

    fn rewritten(sql: &str) -> String {
        crate::pgsql::rewrite(sql)
            .unwrap()
            .unwrap_or_else(|| sql.to_string())
    }

    #[test]
    fn rewrites_literals_casts_and_operators() {
        assert_eq!(
            rewritten("select date '2024-03-01' - 1, date '2024-03-01' - date '2024-01-01'"),
            "SELECT pg_date_mii(pg_date('2024-03-01'), 1) AS \"?column?\", pg_date_mi(pg_date('2024-03-01'), pg_date('2024-01-01')) AS \"?column?\""
        );
        assert_eq!(
            rewritten("select '2024-01-31'::date + interval '1 month'"),
            "SELECT pg_timestamp_pl_interval(pg_date('2024-01-31'), pg_interval('1 month')) AS \"?column?\""
        );
        assert_eq!(
            rewritten("select extract(year from date '2024-05-06'), cast(x as timestamptz) from t"),
            "SELECT extract('year', pg_date('2024-05-06')), pg_timestamptz(x) FROM t"
        );
        assert_eq!(
            rewritten("select now() - interval '1 day', 1 + date '2024-01-01'"),
            "SELECT pg_timestamptz_mi_interval(now(), pg_interval('1 day')) AS \"?column?\", pg_date_pli(pg_date('2024-01-01'), 1) AS \"?column?\""
        );
        assert_eq!(
            rewritten("select date_trunc('month', timestamp '2024-05-06') + interval '1 day'"),
            "SELECT pg_timestamp_pl_interval(date_trunc('month', pg_timestamp('2024-05-06')), pg_interval('1 day')) AS \"?column?\""
        );
        assert_eq!(
            rewritten("update t set d = date '2024-01-01' + 1 where id = 1"),
            "UPDATE t SET d = pg_date_pli(pg_date('2024-01-01'), 1) WHERE id = 1"
        );
        for refused in [
            "select date '2024-03-01' * 2",
            "select date '2024-03-01' + '1 day'",
            "select - interval '1 day'",
            "select interval '1 day' > interval '2 hours'",
            "select date '2024-01-01' = timestamp '2024-01-01'",
            "select '10:00'::timetz",
            "select '2024-01-01'::timestamp(3)",
            "select interval '1' day",
            "select '2024-02-30'::date",
            "select now() - now()",
            "select now()::date - current_date",
        ] {
            let e = crate::pgsql::rewrite(refused);
            assert!(e.is_err(), "{refused}: {e:?}");
        }
    }

    #[test]
    fn sql_functions_answer_and_fail_with_sqlstates() {
        let conn = Connection::open_in_memory().unwrap();
        register_functions(&conn).unwrap();
        let one = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, Value>(0));
        assert_eq!(
            one("select pg_date_pli(pg_date('2024-02-28'), 1)").unwrap(),
            Value::Text("2024-02-29".into())
        );
        assert_eq!(one("select pg_date(NULL)").unwrap(), Value::Null);
        assert_eq!(
            one("select date_part('year', '2024-05-06')").unwrap(),
            Value::Real(2024.0)
        );
        let e = one("select pg_date('2024-02-30')").unwrap_err().to_string();
        assert!(
            e.contains("[22008] date/time field value out of range"),
            "{e}"
        );
        let e = one("select to_char(5, '999')").unwrap_err().to_string();
        assert!(e.contains("[0A000]"), "{e}");
    }
}
