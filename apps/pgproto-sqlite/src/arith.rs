//! Arithmetic as PostgreSQL answers it, or a refusal: the `pg_add`, `pg_sub`, `pg_mul`,
//! `pg_div` and `pg_mod` functions that [`crate::pgsql`] puts in place of a query's
//! `+ - * / %`, and the `pg_sum`/`pg_avg` aggregates in place of `sum`/`avg`.
//!
//! SQLite's values do not say whether a number was PostgreSQL's `numeric` or `float8`
//! (a `numeric(10,2)` column stores 950.50 as the real 950.5), and SQLite computes
//! with them in float8, so `1.1 * 3` would be `3.3000000000000003` where PostgreSQL's
//! numeric answer is `3.3`. These functions compute both answers: the exact decimal one,
//! by PostgreSQL's numeric rules (a quotient keeps at least 16 significant digits,
//! rounded half away from zero), and the float8 one. When the float8 answer, written as
//! PostgreSQL writes a float8, is the exact answer, both types agree and it is returned;
//! otherwise the statement fails with 0A000 rather than answer with the wrong one.
//! Integers compute in 64 bits and overflow with 22003 (`bigint out of range`) where
//! SQLite would go on in float8; a zero divisor fails with 22012. Dates (text
//! `YYYY-MM-DD`) take `date ± integer` (a date) and `date - date` (days), as in
//! PostgreSQL; other text operands are refused (PostgreSQL has no such operators).
//! Also here: PostgreSQL's `substring`/`substr` and `position`, whose SQLite
//! counterparts count positions differently.

use rusqlite::types::Value;

use crate::typed::Scale;

/// An exact decimal: `digits × 10^-scale`, with PostgreSQL's display scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decimal {
    digits: i128,
    scale: u32,
}

/// Why an operation has no answer here: the error the statement fails with.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    /// PostgreSQL's SQLSTATE.
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

fn fail(code: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

fn unsupported(what: impl std::fmt::Display) -> Failure {
    fail("0A000", format!("{what} is not supported"))
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

impl Decimal {
    /// `[+-]digits[.digits]`, as SQLite and Rust write finite numbers.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let (negative, int, frac) = crate::types::decimal_parts(text.trim())?;
        let mut digits: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            digits = digits.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
        }
        Some(Self {
            digits: if negative { -digits } else { digits },
            scale: u32::try_from(frac.len()).ok()?,
        })
    }

    fn from_int(i: i64) -> Self {
        Self {
            digits: i128::from(i),
            scale: 0,
        }
    }

    /// A float8's shortest round-trip digits as a decimal (`None` if not finite).
    pub(crate) fn from_float(f: f64) -> Option<Self> {
        if !f.is_finite() {
            return None;
        }
        Self::parse(&format!("{f}"))
    }

    fn rescaled(self, scale: u32) -> Option<Self> {
        let up = scale.checked_sub(self.scale)?;
        Some(Self {
            digits: self.digits.checked_mul(pow10(up)?)?,
            scale,
        })
    }

    fn add(self, other: Self) -> Option<Self> {
        let scale = self.scale.max(other.scale);
        let (a, b) = (self.rescaled(scale)?, other.rescaled(scale)?);
        Some(Self {
            digits: a.digits.checked_add(b.digits)?,
            scale,
        })
    }

    fn neg(self) -> Self {
        Self {
            digits: -self.digits,
            scale: self.scale,
        }
    }

    fn mul(self, other: Self) -> Option<Self> {
        Some(Self {
            digits: self.digits.checked_mul(other.digits)?,
            scale: self.scale.checked_add(other.scale)?,
        })
    }

    /// The weight and first digit of the value in PostgreSQL's base 10000 (`0, 0` for
    /// zero), which its division reads to choose the quotient's scale.
    fn base10000(self) -> (i64, u128) {
        let mut m = self.digits.unsigned_abs();
        if m == 0 {
            return (0, 0);
        }
        // Decimal exponent of the leading digit.
        let mut exp = -i64::from(self.scale);
        let mut lead = m;
        while lead >= 10 {
            lead /= 10;
            exp += 1;
        }
        let weight = exp.div_euclid(4);
        // The base-10000 digit at `weight`: the value divided by 10000^weight, truncated.
        let shift = weight * 4 + i64::from(self.scale);
        if shift >= 0 {
            for _ in 0..shift {
                m /= 10;
            }
        } else {
            for _ in 0..-shift {
                m = m.saturating_mul(10);
            }
        }
        (weight, m)
    }

    /// PostgreSQL's `select_div_scale`: at least 16 significant digits, and no fewer
    /// fraction digits than either operand shows.
    fn division_scale(self, other: Self) -> u32 {
        let (w1, f1) = self.base10000();
        let (w2, f2) = other.base10000();
        let mut qweight = w1 - w2;
        if f1 <= f2 {
            qweight -= 1;
        }
        let rscale = (16 - qweight * 4)
            .max(i64::from(self.scale))
            .max(i64::from(other.scale))
            .clamp(0, 1000);
        u32::try_from(rscale).unwrap_or(1000)
    }

    /// The quotient rounded half away from zero to `scale` fraction digits.
    fn div_at(self, other: Self, scale: u32) -> Option<Self> {
        if other.digits == 0 {
            return None;
        }
        // self / other = (a / 10^sa) / (b / 10^sb); scaled by 10^scale.
        let exp = i64::from(scale) + i64::from(other.scale) - i64::from(self.scale);
        let (mut num, mut den) = (self.digits, other.digits);
        if exp >= 0 {
            num = num.checked_mul(pow10(u32::try_from(exp).ok()?)?)?;
        } else {
            den = den.checked_mul(pow10(u32::try_from(-exp).ok()?)?)?;
        }
        let (q, r) = (num / den, num % den);
        let away = r.unsigned_abs().checked_mul(2)? >= den.unsigned_abs();
        let negative = (num < 0) != (den < 0);
        let digits = match (away, negative) {
            (true, true) => q - 1,
            (true, false) => q + 1,
            _ => q,
        };
        Some(Self { digits, scale })
    }

    fn div(self, other: Self) -> Option<Self> {
        self.div_at(other, self.division_scale(other))
    }

    /// PostgreSQL's numeric `%`: the remainder of the quotient truncated toward zero,
    /// with the larger scale.
    fn rem(self, other: Self) -> Option<Self> {
        let scale = self.scale.max(other.scale);
        let (a, b) = (self.rescaled(scale)?, other.rescaled(scale)?);
        Some(Self {
            digits: a.digits.checked_rem(b.digits)?,
            scale,
        })
    }

    /// The value without trailing fraction zeros (`1.50` is `1.5`).
    pub(crate) fn trimmed(mut self) -> Self {
        while self.scale > 0 && self.digits % 10 == 0 {
            self.digits /= 10;
            self.scale -= 1;
        }
        self
    }

    /// As PostgreSQL writes a numeric: `-12.50`.
    pub(crate) fn text(self) -> String {
        let m = self.digits.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let m = format!("{m:0>width$}", width = scale + 1);
        let (int, frac) = m.split_at(m.len() - scale);
        let sign = if self.digits < 0 { "-" } else { "" };
        if scale == 0 {
            format!("{sign}{int}")
        } else {
            format!("{sign}{int}.{frac}")
        }
    }
}

/// An operand as SQLite holds it.
enum Operand {
    Int(i64),
    Float(f64),
    Date(i64),
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A date as stored (`YYYY-MM-DD`, years 1 to 9999), in days since 1970-01-01.
fn parse_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if y < 1 || !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // Reject days past the month's end (2023-02-29).
    (civil_from_days(days) == (y, m, d)).then_some(days)
}

/// A date (days since 1970-01-01) as PostgreSQL writes it; 22008 outside its dates
/// ([`crate::datetime::DATE_RANGE`]).
fn date_text(days: i64) -> Result<Value, Failure> {
    // PostgreSQL counts from 2000-01-01, 10957 days later.
    days.checked_sub(10_957)
        .and_then(|d| i32::try_from(d).ok())
        .filter(|d| crate::datetime::DATE_RANGE.contains(d))
        .ok_or_else(|| fail("22008", "date out of range"))?;
    let (y, m, d) = civil_from_days(days);
    if !(1..=9999).contains(&y) {
        return Err(unsupported(
            "a date outside the years 1 to 9999 (stored as text, it would not sort)",
        ));
    }
    Ok(Value::Text(format!("{y:04}-{m:02}-{d:02}")))
}

fn operand(v: &Value) -> Result<Operand, Failure> {
    match v {
        Value::Integer(i) => Ok(Operand::Int(*i)),
        Value::Real(f) => Ok(Operand::Float(*f)),
        Value::Text(t) => {
            if let Ok(i) = t.trim().parse::<i64>() {
                return Ok(Operand::Int(i));
            }
            if let Some(d) = Decimal::parse(t) {
                return t
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| Decimal::from_float(*f).map(Decimal::trimmed) == Some(d.trimmed()))
                    .map(Operand::Float)
                    .ok_or_else(|| unsupported(format!("arithmetic on the numeric {t}")));
            }
            if let Some(days) = parse_date(t) {
                return Ok(Operand::Date(days));
            }
            Err(unsupported(format!(
                "arithmetic on the text value '{t}' (a timestamp, interval or text)"
            )))
        }
        Value::Blob(_) => Err(unsupported("arithmetic on bytea")),
        Value::Null => Err(fail("XX000", "NULL operand")),
    }
}

/// The float8 answer when it is also the exact (numeric) one, else 0A000.
fn agreed(exact: Option<Decimal>, float: f64, what: &str) -> Result<Value, Failure> {
    let float_digits = Decimal::from_float(float).map(Decimal::trimmed);
    match exact {
        Some(e) if float_digits == Some(e.trimmed()) => Ok(Value::Real(float)),
        _ => Err(unsupported(format!(
            "{what} whose exact numeric answer float8 cannot hold"
        ))),
    }
}

/// An arithmetic operator of PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Self::Add => "+",
            Self::Sub => "-",
            Self::Mul => "*",
            Self::Div => "/",
            Self::Mod => "%",
        }
    }

    /// The SQL function that computes it (see the module docs).
    pub(crate) fn function(self) -> &'static str {
        match self {
            Self::Add => "pg_add",
            Self::Sub => "pg_sub",
            Self::Mul => "pg_mul",
            Self::Div => "pg_div",
            Self::Mod => "pg_mod",
        }
    }
}

/// `a op b` as PostgreSQL answers it, or why not.
pub(crate) fn apply(op: Op, a: &Value, b: &Value) -> Result<Value, Failure> {
    if matches!(a, Value::Null) || matches!(b, Value::Null) {
        return Ok(Value::Null);
    }
    let (x, y) = (operand(a)?, operand(b)?);
    let zero_divisor = matches!(op, Op::Div | Op::Mod)
        && match y {
            Operand::Int(i) => i == 0,
            Operand::Float(f) => f == 0.0,
            Operand::Date(_) => false,
        };
    if zero_divisor {
        return Err(fail("22012", "division by zero"));
    }
    let overflow = || fail("22003", "bigint out of range");
    match (x, y) {
        (Operand::Int(a), Operand::Int(b)) => {
            let r = match op {
                Op::Add => a.checked_add(b),
                Op::Sub => a.checked_sub(b),
                Op::Mul => a.checked_mul(b),
                Op::Div => a.checked_div(b),
                // PostgreSQL answers 0 for i64::MIN % -1.
                Op::Mod => Some(a.checked_rem(b).unwrap_or(0)),
            };
            r.map(Value::Integer).ok_or_else(overflow)
        }
        (Operand::Date(d), Operand::Int(n)) if matches!(op, Op::Add | Op::Sub) => {
            let n = if op == Op::Add {
                Some(n)
            } else {
                n.checked_neg()
            };
            date_text(n.and_then(|n| d.checked_add(n)).ok_or_else(overflow)?)
        }
        (Operand::Int(n), Operand::Date(d)) if op == Op::Add => {
            date_text(d.checked_add(n).ok_or_else(overflow)?)
        }
        (Operand::Date(a), Operand::Date(b)) if op == Op::Sub => Ok(Value::Integer(a - b)),
        (Operand::Date(_), _) | (_, Operand::Date(_)) => Err(fail(
            "42883",
            format!("operator does not exist: date {} value", op.symbol()),
        )),
        (x, y) => {
            let exact = |v: &Operand| match v {
                Operand::Int(i) => Some(Decimal::from_int(*i)),
                Operand::Float(f) => Decimal::from_float(*f),
                Operand::Date(_) => None,
            };
            let float = |v: &Operand| match v {
                Operand::Int(i) => *i as f64,
                Operand::Float(f) => *f,
                Operand::Date(_) => f64::NAN,
            };
            let (ea, eb) = (exact(&x), exact(&y));
            let (fa, fb) = (float(&x), float(&y));
            let (e, f) = match op {
                Op::Add => (ea.zip(eb).and_then(|(a, b)| a.add(b)), fa + fb),
                Op::Sub => (ea.zip(eb).and_then(|(a, b)| a.add(b.neg())), fa - fb),
                Op::Mul => (ea.zip(eb).and_then(|(a, b)| a.mul(b)), fa * fb),
                Op::Div => (ea.zip(eb).and_then(|(a, b)| a.div(b)), fa / fb),
                // float8 has no % in PostgreSQL: only numeric's answer counts.
                Op::Mod => {
                    let e = ea.zip(eb).and_then(|(a, b)| a.rem(b));
                    let f = e.and_then(|e| e.text().parse::<f64>().ok());
                    (e, f.unwrap_or(f64::NAN))
                }
            };
            agreed(
                e,
                f,
                &format!(
                    "numeric arithmetic ({} {} {})",
                    a_text(a),
                    op.symbol(),
                    a_text(b)
                ),
            )
        }
    }
}

fn a_text(v: &Value) -> String {
    match v {
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => format!("{f}"),
        Value::Text(t) => format!("'{t}'"),
        _ => "?".to_string(),
    }
}

/// The state of `pg_sum`/`pg_avg`: the exact decimal sum and the float8 one (summed in
/// order, as PostgreSQL's `float8pl`), or the integer one while all values are integers.
#[derive(Debug, Default)]
pub(crate) struct Sum {
    count: i64,
    exact: Option<Decimal>,
    float: f64,
    all_integers: bool,
    int: Option<i128>,
    refused: Option<String>,
}

impl Sum {
    /// A fresh sum.
    pub(crate) fn new() -> Self {
        Self {
            exact: Some(Decimal::from_int(0)),
            all_integers: true,
            int: Some(0),
            ..Self::default()
        }
    }

    /// Adds a value (NULLs are skipped, as aggregates do).
    pub(crate) fn step(&mut self, v: &Value) -> Result<(), Failure> {
        if matches!(v, Value::Null) {
            return Ok(());
        }
        self.count += 1;
        match operand(v)? {
            Operand::Int(i) => {
                self.int = self.int.and_then(|s| s.checked_add(i128::from(i)));
                self.exact = self.exact.and_then(|s| s.add(Decimal::from_int(i)));
                self.float += i as f64;
            }
            Operand::Float(f) => {
                self.all_integers = false;
                self.exact = self
                    .exact
                    .zip(Decimal::from_float(f))
                    .and_then(|(s, d)| s.add(d));
                self.float += f;
            }
            Operand::Date(_) => {
                self.refused = Some("sum or avg of dates".to_string());
            }
        }
        Ok(())
    }

    /// `sum`: NULL without rows; an integer sum is exact (PostgreSQL's sum of int8 is a
    /// numeric, so one past 64 bits is refused rather than wrapped).
    pub(crate) fn sum(&self) -> Result<Value, Failure> {
        if let Some(what) = &self.refused {
            return Err(unsupported(what));
        }
        if self.count == 0 {
            return Ok(Value::Null);
        }
        if self.all_integers {
            return self
                .int
                .and_then(|s| i64::try_from(s).ok())
                .map(Value::Integer)
                .ok_or_else(|| unsupported("a sum past 64 bits"));
        }
        agreed(self.exact, self.float, "sum (of numeric)")
    }

    /// `avg`: PostgreSQL's numeric quotient of the sum by the count (or the float8 one).
    pub(crate) fn avg(&self) -> Result<Value, Failure> {
        if let Some(what) = &self.refused {
            return Err(unsupported(what));
        }
        if self.count == 0 {
            return Ok(Value::Null);
        }
        let count = Decimal::from_int(self.count);
        let exact = if self.all_integers {
            self.int
                .and_then(|s| i64::try_from(s).ok())
                .and_then(|s| Decimal::from_int(s).div(count))
        } else {
            self.exact.and_then(|s| s.div(count))
        };
        agreed(exact, self.float / self.count as f64, "avg (of numeric)")
    }
}

/// The operand of a cast to `smallint`, `integer`, `bigint` or `numeric` (`ty`), as
/// PostgreSQL reads it: text must be such a number (else 22P02, where SQLite's cast
/// makes `'abc'` 0), integers must fit (22003), a fraction is rounded (refused when it
/// is exactly .5: numeric rounds it away from zero, float8 to even).
pub(crate) fn number_in(v: &Value, ty: &str) -> Result<Value, Failure> {
    let range = |i: i64| -> Result<Value, Failure> {
        let fits = match ty {
            "smallint" => i16::try_from(i).is_ok(),
            "integer" => i32::try_from(i).is_ok(),
            _ => true,
        };
        if fits {
            Ok(Value::Integer(i))
        } else {
            Err(fail("22003", format!("{ty} out of range")))
        }
    };
    let numeric = ty == "numeric";
    match v {
        Value::Null => Ok(Value::Null),
        Value::Integer(i) => range(*i),
        Value::Real(f) if numeric => Ok(Value::Real(*f)),
        Value::Real(f) => {
            if (f.fract().abs() - 0.5).abs() < f64::EPSILON {
                return Err(unsupported(format!(
                    "a cast to {ty} of a value ending in .5 ({f}: numeric rounds it away from \
                     zero, float8 to even)"
                )));
            }
            let r = f.round();
            if !r.is_finite() || r < i64::MIN as f64 || r >= i64::MAX as f64 {
                return Err(fail("22003", format!("{ty} out of range")));
            }
            range(r as i64)
        }
        Value::Text(t) => {
            let invalid = || {
                fail(
                    "22P02",
                    format!("invalid input syntax for type {ty}: \"{t}\""),
                )
            };
            let trimmed = t.trim();
            if let Ok(i) = trimmed.parse::<i64>() {
                return range(i);
            }
            if !numeric {
                let digits = trimmed.strip_prefix(['-', '+']).unwrap_or(trimmed);
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(fail(
                        "22003",
                        format!("value \"{t}\" is out of range for type {ty}"),
                    ));
                }
                return Err(invalid());
            }
            let d = Decimal::parse(trimmed).ok_or_else(invalid)?;
            let f: f64 = trimmed.parse().map_err(|_| invalid())?;
            if Decimal::from_float(f).map(Decimal::trimmed) == Some(d.trimmed()) {
                Ok(Value::Real(f))
            } else {
                Err(unsupported(format!(
                    "the numeric {t} (more digits than float8 holds)"
                )))
            }
        }
        Value::Blob(_) => Err(unsupported(format!("a cast of bytea to {ty}"))),
    }
}

/// A numeric value written with `scale` fraction digits, as PostgreSQL writes a
/// numeric of that display scale (`950.5` with 2: `950.50`); a value with more digits
/// than the scale (the scale was not the value's) and one whose scale depends on the
/// values ([`Scale::Unknown`]) are refused with 0A000.
pub(crate) fn numeric_display(v: &Value, scale: Scale) -> Result<Value, Failure> {
    let exact = match v {
        Value::Null => return Ok(Value::Null),
        Value::Integer(i) => Some(Decimal::from_int(*i)),
        Value::Real(f) => Decimal::from_float(*f),
        Value::Text(t) => Decimal::parse(t),
        Value::Blob(_) => None,
    };
    if scale == Scale::Natural {
        return Ok(v.clone());
    }
    let Scale::Known(scale) = scale else {
        return Err(unsupported(
            "a numeric result whose display scale depends on the values (a quotient, avg, \
             or branches of different scales)",
        ));
    };
    exact
        .map(Decimal::trimmed)
        .filter(|d| d.scale <= scale)
        .and_then(|d| d.rescaled(scale))
        .map(|d| Value::Text(d.text()))
        .ok_or_else(|| {
            unsupported(format!(
                "the numeric {} written with {scale} fraction digits",
                a_text(v)
            ))
        })
}

/// `pg_round(x, n)`: a numeric rounded to `n` fraction digits half away from zero, as
/// PostgreSQL's `round(numeric, int)` (SQLite's rounds the float8: `round(12.35, 1)` is
/// 12.3 there, 12.4 in PostgreSQL).
pub(crate) fn round(v: &Value, digits: i64) -> Result<Value, Failure> {
    let d = match v {
        Value::Null => return Ok(Value::Null),
        Value::Integer(i) => Decimal::from_int(*i),
        Value::Real(f) => {
            Decimal::from_float(*f).ok_or_else(|| unsupported("round of this value"))?
        }
        Value::Text(t) => Decimal::parse(t).ok_or_else(|| {
            fail(
                "22P02",
                format!("invalid input syntax for type numeric: \"{t}\""),
            )
        })?,
        Value::Blob(_) => return Err(unsupported("round of bytea")),
    };
    let overflow = || unsupported("round of a numeric this large");
    let digits = digits.clamp(-1000, 1000);
    // Round to 10^-digits: divide by 10^(scale - digits) with rounding, then scale back.
    let drop = i64::from(d.scale) - digits;
    let rounded = if drop <= 0 {
        d
    } else {
        let unit = pow10(u32::try_from(drop).map_err(|_| overflow())?).ok_or_else(overflow)?;
        let (q, r) = (d.digits / unit, d.digits % unit);
        let away = r.unsigned_abs().checked_mul(2).ok_or_else(overflow)? >= unit.unsigned_abs();
        let q = match (away, d.digits < 0) {
            (true, true) => q - 1,
            (true, false) => q + 1,
            _ => q,
        };
        let scale = u32::try_from(digits.max(0)).unwrap_or(0);
        let back = u32::try_from(-digits.min(0)).unwrap_or(0);
        Decimal {
            digits: q
                .checked_mul(pow10(back).ok_or_else(overflow)?)
                .ok_or_else(overflow)?,
            scale,
        }
    };
    let text = rounded.text();
    match text.parse::<f64>() {
        Ok(f) if Decimal::from_float(f).map(Decimal::trimmed) == Some(rounded.trimmed()) => {
            Ok(Value::Real(f))
        }
        _ => Err(unsupported(format!(
            "round to the numeric {text}, which float8 cannot hold"
        ))),
    }
}

/// `pg_numeric_text(x, scale)`: a numeric as text, as PostgreSQL writes it.
pub(crate) fn numeric_text(v: &Value, scale: i64) -> Result<Value, Failure> {
    let scale = u32::try_from(scale).map_or(Scale::Unknown, Scale::Known);
    numeric_display(v, scale)
}

/// `pg_bool_text(x)`: a boolean as text, `true`/`false` (SQLite's are 1/0).
pub(crate) fn bool_text(v: &Value) -> Result<Value, Failure> {
    let b = match v {
        Value::Null => return Ok(Value::Null),
        Value::Integer(i) => *i != 0,
        Value::Text(t) => crate::types::parse_bool(t).ok_or_else(|| {
            fail(
                "22P02",
                format!("invalid input syntax for type boolean: \"{t}\""),
            )
        })?,
        _ => return Err(unsupported("this value written as a boolean")),
    };
    Ok(Value::Text(if b { "true" } else { "false" }.to_string()))
}

/// `pg_int4(x)` and `pg_int2(x)`: the result of `int4` (`int2`) arithmetic, which
/// PostgreSQL computes in that type: 22003 outside its range (SQLite computed it in 64
/// bits).
pub(crate) fn int_result(v: &Value, bytes: u8) -> Result<Value, Failure> {
    let fits = |i: i64| match bytes {
        2 => i16::try_from(i).is_ok(),
        _ => i32::try_from(i).is_ok(),
    };
    match v {
        Value::Integer(i) if !fits(*i) => Err(fail(
            "22003",
            if bytes == 2 {
                "smallint out of range"
            } else {
                "integer out of range"
            },
        )),
        other => Ok(other.clone()),
    }
}

/// `pg_int4_unsure(x)`: integer arithmetic with an operand of a type the query does
/// not tell (a parameter, a derived table's column): past `int4`'s range, PostgreSQL
/// fails if the operands are `int4` and answers if one is `int8`, so refused with 0A000.
pub(crate) fn int4_unsure(v: &Value) -> Result<Value, Failure> {
    match v {
        Value::Integer(i) if i32::try_from(*i).is_err() => Err(unsupported(format!(
            "integer arithmetic past int4 ({i}) on operands whose type is not known \
             (cast them)"
        ))),
        other => Ok(other.clone()),
    }
}

/// PostgreSQL's `substring(s FROM start FOR count)` and `substr`: the characters at
/// positions `start` to `start + count - 1` that exist (SQLite's `substr` counts a
/// negative start from the end); 22011 for a negative count.
pub(crate) fn substring(s: &str, start: i64, count: Option<i64>) -> Result<String, Failure> {
    let end = match count {
        Some(n) if n < 0 => {
            return Err(fail("22011", "negative substring length not allowed"));
        }
        Some(n) => start.saturating_add(n),
        None => i64::MAX,
    };
    let from = start.max(1);
    Ok(s.chars()
        .zip(1i64..)
        .filter(|(_, i)| *i >= from && *i < end)
        .map(|(c, _)| c)
        .collect())
}

/// PostgreSQL's `position(needle IN s)`: the character position of the first match,
/// 1 for an empty needle, 0 for none.
pub(crate) fn position(needle: &str, s: &str) -> i64 {
    s.find(needle).map_or(0, |at| {
        s.get(..at).map_or(0, |p| p.chars().count() as i64 + 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_pass_functions() {
        let text = |v: Result<Value, Failure>| match v {
            Ok(Value::Text(t)) => t,
            other => panic!("{other:?}"),
        };
        // Display scale: padded, never cut.
        assert_eq!(
            text(numeric_display(&Value::Real(950.5), Scale::Known(2))),
            "950.50"
        );
        assert_eq!(
            text(numeric_display(&Value::Integer(-3), Scale::Known(1))),
            "-3.0"
        );
        assert_eq!(
            text(numeric_display(&Value::Real(0.005), Scale::Known(3))),
            "0.005"
        );
        assert_eq!(
            numeric_display(&Value::Null, Scale::Unknown),
            Ok(Value::Null)
        );
        assert_eq!(
            numeric_display(&Value::Real(0.125), Scale::Known(2))
                .unwrap_err()
                .code,
            "0A000"
        );
        assert_eq!(
            numeric_display(&Value::Real(2.5), Scale::Unknown)
                .unwrap_err()
                .code,
            "0A000"
        );
        assert_eq!(text(numeric_text(&Value::Real(12.5), 2)), "12.50");
        assert_eq!(text(bool_text(&Value::Integer(1))), "true");
        assert_eq!(text(bool_text(&Value::Integer(0))), "false");
        // int4 and int2 results.
        assert_eq!(
            int_result(&Value::Integer(2147483647), 4),
            Ok(Value::Integer(2147483647))
        );
        assert_eq!(
            int_result(&Value::Integer(2147483648), 4).unwrap_err().code,
            "22003"
        );
        assert_eq!(
            int_result(&Value::Integer(40000), 2).unwrap_err().code,
            "22003"
        );
        assert_eq!(
            int4_unsure(&Value::Integer(-2147483649)).unwrap_err().code,
            "0A000"
        );
        assert_eq!(int4_unsure(&Value::Integer(5)), Ok(Value::Integer(5)));
        // round(numeric, n): half away from zero on the decimal value.
        assert_eq!(round(&Value::Real(12.35), 1), Ok(Value::Real(12.4)));
        assert_eq!(round(&Value::Real(-2.5), 0), Ok(Value::Real(-3.0)));
        assert_eq!(round(&Value::Real(1234.5), -2), Ok(Value::Real(1200.0)));
        assert_eq!(round(&Value::Integer(7), 2), Ok(Value::Real(7.0)));
    }

    fn ok(op: Op, a: Value, b: Value) -> Value {
        apply(op, &a, &b).unwrap()
    }

    fn code(op: Op, a: Value, b: Value) -> &'static str {
        apply(op, &a, &b).unwrap_err().code
    }

    #[test]
    fn casts_to_numbers() {
        let t = |s: &str| Value::Text(s.to_string());
        assert_eq!(
            number_in(&t(" 42 "), "integer").unwrap(),
            Value::Integer(42)
        );
        assert_eq!(number_in(&t("abc"), "integer").unwrap_err().code, "22P02");
        assert_eq!(number_in(&t("1.5"), "bigint").unwrap_err().code, "22P02");
        assert_eq!(number_in(&t("abc"), "numeric").unwrap_err().code, "22P02");
        assert_eq!(
            number_in(&t("12.50"), "numeric").unwrap(),
            Value::Real(12.5)
        );
        assert_eq!(
            number_in(&Value::Integer(9_000_000_000_000_000_000), "integer")
                .unwrap_err()
                .code,
            "22003"
        );
        assert_eq!(
            number_in(&Value::Integer(40_000), "smallint")
                .unwrap_err()
                .code,
            "22003"
        );
        assert_eq!(
            number_in(&Value::Real(12.35), "integer").unwrap(),
            Value::Integer(12)
        );
        assert_eq!(
            number_in(&Value::Real(-3.75), "integer").unwrap(),
            Value::Integer(-4)
        );
        assert_eq!(
            number_in(&Value::Real(2.5), "integer").unwrap_err().code,
            "0A000"
        );
    }

    #[test]
    fn substrings_and_positions() {
        assert_eq!(substring("hello", 2, Some(3)).unwrap(), "ell");
        assert_eq!(substring("hello", 0, Some(2)).unwrap(), "h");
        assert_eq!(substring("hello", -1, Some(2)).unwrap(), "");
        assert_eq!(substring("Ünïcode", 2, None).unwrap(), "nïcode");
        assert_eq!(substring("hello", 1, Some(-1)).unwrap_err().code, "22011");
        assert_eq!(position("", "abc"), 1);
        assert_eq!(position("ï", "Ünïcode"), 3);
        assert_eq!(position("z", "abc"), 0);
    }

    #[test]
    fn integers_overflow_as_bigint_does() {
        use Value::Integer as I;
        assert_eq!(ok(Op::Add, I(2), I(3)), I(5));
        assert_eq!(ok(Op::Div, I(-7), I(2)), I(-3));
        assert_eq!(ok(Op::Mod, I(-7), I(2)), I(-1));
        assert_eq!(ok(Op::Mod, I(i64::MIN), I(-1)), I(0));
        assert_eq!(code(Op::Add, I(i64::MAX), I(1)), "22003");
        assert_eq!(code(Op::Mul, I(9_000_000_000_000_000_000), I(2)), "22003");
        assert_eq!(code(Op::Div, I(i64::MIN), I(-1)), "22003");
        assert_eq!(code(Op::Div, I(1), I(0)), "22012");
        assert_eq!(code(Op::Mod, I(1), I(0)), "22012");
        assert_eq!(ok(Op::Div, Value::Null, I(0)), Value::Null);
    }

    #[test]
    fn numeric_answers_are_exact_or_refused() {
        use Value::{Integer as I, Real as R};
        // 1.1 * 3 is 3.3000000000000003 in float8, 3.3 in numeric: they disagree.
        assert_eq!(code(Op::Mul, R(1.1), I(3)), "0A000");
        assert_eq!(ok(Op::Mul, R(1.5), I(3)), R(4.5));
        assert_eq!(ok(Op::Add, R(1200.0), R(-3.75)), R(1196.25));
        // 0.1 + 0.2: float8 0.30000000000000004, numeric 0.3.
        assert_eq!(code(Op::Add, R(0.1), R(0.2)), "0A000");
        // Division keeps 16 significant digits: 10 / 3.0 is 3.3333333333333333.
        assert_eq!(code(Op::Div, I(10), R(3.0)), "0A000");
        assert_eq!(ok(Op::Div, R(1.5), I(2)), R(0.75));
        // Numeric %: 5.5 % 2 is 1.5 (SQLite's % would make it 1).
        assert_eq!(ok(Op::Mod, R(5.5), I(2)), R(1.5));
        assert_eq!(code(Op::Div, R(1.5), R(0.0)), "22012");
    }

    #[test]
    fn division_scale_is_postgresql_s() {
        let d = |s: &str| Decimal::parse(s).unwrap();
        assert_eq!(d("1").div(d("3")).unwrap().text(), "0.33333333333333333333");
        assert_eq!(d("10").div(d("3.0")).unwrap().text(), "3.3333333333333333");
        assert_eq!(d("5").div(d("3")).unwrap().text(), "1.6666666666666667");
        assert_eq!(
            d("1.5").div(d("2")).unwrap().text(),
            "0.75000000000000000000"
        );
        assert_eq!(
            d("2264.14").div(d("7")).unwrap().text(),
            "323.4485714285714286"
        );
        assert_eq!(
            d("-1").div(d("8")).unwrap().text(),
            "-0.12500000000000000000"
        );
        assert_eq!(d("0").div(d("7")).unwrap().text(), "0.00000000000000000000");
        assert_eq!(
            d("1").div(d("0.005")).unwrap().text(),
            "200.0000000000000000"
        );
    }

    #[test]
    fn dates_take_days() {
        let t = |s: &str| Value::Text(s.to_string());
        assert_eq!(
            ok(Op::Add, t("2024-02-28"), Value::Integer(2)),
            t("2024-03-01")
        );
        assert_eq!(
            ok(Op::Sub, t("2000-01-01"), Value::Integer(1)),
            t("1999-12-31")
        );
        assert_eq!(
            ok(Op::Add, Value::Integer(1), t("2023-12-31")),
            t("2024-01-01")
        );
        assert_eq!(
            ok(Op::Sub, t("2024-02-29"), t("2020-01-15")),
            Value::Integer(1506)
        );
        assert_eq!(code(Op::Add, t("2024-02-29"), t("2024-02-29")), "42883");
        assert_eq!(
            code(Op::Add, t("2024-03-01 10:00:00+00"), Value::Integer(1)),
            "0A000"
        );
        assert_eq!(code(Op::Add, t("abc"), Value::Integer(1)), "0A000");
    }

    #[test]
    fn sums_and_averages() {
        use Value::{Integer as I, Real as R};
        let mut s = Sum::new();
        for v in [R(1200.0), R(950.5), Value::Null, R(-3.75), R(12.35)] {
            s.step(&v).unwrap();
        }
        assert_eq!(s.sum().unwrap(), R(2159.1));
        let mut s = Sum::new();
        for v in [I(1), I(2), I(2)] {
            s.step(&v).unwrap();
        }
        assert_eq!(s.sum().unwrap(), I(5));
        assert_eq!(s.avg().unwrap(), R(5.0 / 3.0));
        assert_eq!(Sum::new().sum().unwrap(), Value::Null);
        let mut s = Sum::new();
        for v in [I(i64::MAX), I(1)] {
            s.step(&v).unwrap();
        }
        assert_eq!(s.sum().unwrap_err().code, "0A000");
    }
}
