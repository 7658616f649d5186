//! PostgreSQL types for SQLite values: which OID a declared column type maps to, and the
//! text and binary encodings of the few types this server speaks (bool, bytea, int2/4/8,
//! float4/8, text, numeric, and with the core's codecs date, time, timestamp,
//! timestamptz and uuid, which SQLite stores as text). Whatever SQLite holds is converted
//! to the type the column was described with, so a client decoding by type never sees a
//! mismatch.

use pgproto_core::db_error::{DbError, Severity};
use pgproto_core::message::Format;
use pgproto_core::sqlstate::SqlState;
use pgproto_core::types::{
    oid, FromSql, PgDate, PgInterval, PgTime, PgTimestamp, PgTimestampTz, PgUuid, ToSql, TypeError,
};
use rusqlite::types::Value;

pub(crate) const BOOL: u32 = 16;
pub(crate) const BYTEA: u32 = 17;
pub(crate) const INT8: u32 = 20;
pub(crate) const INT2: u32 = 21;
pub(crate) const INT4: u32 = 23;
pub(crate) const TEXT: u32 = 25;
pub(crate) const FLOAT4: u32 = 700;
pub(crate) const FLOAT8: u32 = 701;
pub(crate) const UNKNOWN: u32 = 705;
pub(crate) const NAME: u32 = 19;
pub(crate) const OID: u32 = 26;
/// PostgreSQL's one-byte `"char"`, which the catalog's tables declare `pgchar`.
pub(crate) const CHAR: u32 = 18;
pub(crate) const JSON: u32 = 114;
pub(crate) const BPCHAR: u32 = 1042;
pub(crate) const VARCHAR: u32 = 1043;
pub(crate) const NUMERIC: u32 = 1700;
pub(crate) const DATE: u32 = oid::DATE;
pub(crate) const TIME: u32 = oid::TIME;
pub(crate) const TIMESTAMP: u32 = oid::TIMESTAMP;
pub(crate) const TIMESTAMPTZ: u32 = oid::TIMESTAMPTZ;
pub(crate) const UUID: u32 = oid::UUID;
pub(crate) const JSONB: u32 = 3802;
pub(crate) const INTERVAL: u32 = 1186;
/// `void`, what `pg_sleep` returns (an empty value in either format).
pub(crate) const VOID: u32 = 2278;

/// The array types a result column can be described as: the array's OID, its element's
/// OID and the array's name in PostgreSQL (`format_type`'s). Their values are the
/// array's text (`{a,b}`, as `array_agg` writes it).
pub(crate) const ARRAYS: &[(u32, u32, &str)] = &[
    (oid::BOOL_ARRAY, BOOL, "boolean[]"),
    (oid::INT2_ARRAY, INT2, "smallint[]"),
    (oid::INT4_ARRAY, INT4, "integer[]"),
    (oid::INT8_ARRAY, INT8, "bigint[]"),
    (oid::TEXT_ARRAY, TEXT, "text[]"),
    (oid::OID_ARRAY, OID, "oid[]"),
    (1021, FLOAT4, "real[]"),
    (1022, FLOAT8, "double precision[]"),
    (1231, NUMERIC, "numeric[]"),
];

/// The element type of an array type this server describes.
pub(crate) fn array_element(oid: u32) -> Option<u32> {
    ARRAYS.iter().find(|a| a.0 == oid).map(|a| a.1)
}

/// A table column's PostgreSQL type as PostgreSQL describes it in RowDescription: the
/// type OID, its typmod (-1 without one), and the table's OID and the column's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ColumnType {
    pub oid: u32,
    pub typmod: i32,
    pub table_oid: u32,
    pub column_id: i16,
}

impl ColumnType {
    /// A column of this type named `name`, as RowDescription gives it.
    pub(crate) fn column(&self, name: impl Into<String>) -> pgproto_core::column::Column {
        let mut c = pgproto_core::column::Column::new(name, self.oid, type_size(self.oid));
        c.type_modifier = self.typmod;
        c.table_oid = self.table_oid;
        c.column_id = self.column_id;
        c
    }
}

/// A declared type's name without its `(n)` modifiers, single-spaced
/// (`TIMESTAMP(3)  WITH TIME ZONE` is `TIMESTAMP WITH TIME ZONE`), and the text of
/// the modifiers (`3`; `10,2` of `numeric(10,2)`).
fn type_words(decl: &str) -> (String, String) {
    let mut words = String::new();
    let mut mods = String::new();
    let mut depth = 0u32;
    for c in decl.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => words.push(c),
            _ => mods.push(c),
        }
    }
    let base = words.split_whitespace().collect::<Vec<_>>().join(" ");
    (base, mods)
}

/// The PostgreSQL type (OID, typmod) of a column declared `decl`, as PostgreSQL describes
/// it: `varchar(100)` is (1043, 104), `numeric(10,2)` (1700, (10 << 16 | 2) + 4),
/// `char(3)` (1042, 7) and `char` (1042, 5), `timestamp(3)` (1114, 3), `json`, `jsonb`,
/// `interval` their types; other names as [`oid_for_decl`] reads them, without typmod.
pub(crate) fn declared(decl: &str) -> (u32, i32) {
    let lower = decl.trim().to_ascii_lowercase();
    let (base, mods) = type_words(&lower);
    let mods: Vec<i32> = if mods.trim().is_empty() {
        Vec::new()
    } else {
        match mods
            .split(',')
            .map(|m| m.trim().parse::<i32>().ok())
            .collect::<Option<Vec<_>>>()
        {
            Some(m) => m,
            None => return (oid_for_decl(decl), -1),
        }
    };
    let oid = match base.as_str() {
        "varchar" | "character varying" => VARCHAR,
        "char" | "character" | "bpchar" => BPCHAR,
        "json" => JSON,
        "jsonb" => JSONB,
        "interval" => INTERVAL,
        _ => oid_for_decl(decl),
    };
    let typmod = match (oid, mods.as_slice()) {
        (VARCHAR | BPCHAR, [n]) if *n >= 1 => n.saturating_add(4),
        (BPCHAR, []) => 5,
        (NUMERIC, [p]) if (1..=1000).contains(p) => (p << 16) + 4,
        (NUMERIC, [p, s]) if (1..=1000).contains(p) && (0..=*p).contains(s) => (p << 16) + s + 4,
        (TIME | TIMESTAMP | TIMESTAMPTZ, [p]) if (0..=6).contains(p) => *p,
        _ => -1,
    };
    (oid, typmod)
}

/// A time or timestamp's text rounded to `precision` fraction digits, as PostgreSQL
/// rounds a value for a `timestamp(p)` column (half away from zero).
fn round_time(oid: u32, text: &str, precision: i32) -> Option<String> {
    let scale = 10i64.checked_pow(u32::try_from(6 - precision).ok()?)?;
    let round = |m: i64| -> Option<i64> {
        if m == i64::MAX || m == i64::MIN {
            return Some(m);
        }
        let half = scale / 2;
        Some(if m >= 0 {
            m.checked_add(half)? / scale * scale
        } else {
            -((m.checked_neg()?.checked_add(half)?) / scale * scale)
        })
    };
    let raw = text.as_bytes();
    let mut out = bytes::BytesMut::new();
    match oid {
        TIME => {
            let t = PgTime::from_sql(oid, Format::Text, raw).ok()?;
            PgTime(round(t.0)?)
                .to_sql(oid, Format::Text, &mut out)
                .ok()?;
        }
        TIMESTAMP => {
            let t = PgTimestamp::from_sql(oid, Format::Text, raw).ok()?;
            PgTimestamp(round(t.0)?)
                .to_sql(oid, Format::Text, &mut out)
                .ok()?;
        }
        _ => {
            let t = PgTimestampTz::from_sql(oid, Format::Text, raw).ok()?;
            PgTimestampTz(round(t.0)?)
                .to_sql(oid, Format::Text, &mut out)
                .ok()?;
        }
    }
    String::from_utf8(out.to_vec()).ok()
}

/// The scale a numeric typmod sets, if any.
pub(crate) fn numeric_scale(typmod: i32) -> Option<usize> {
    (typmod >= 4).then(|| usize::try_from((typmod - 4) & 0xffff).unwrap_or(0))
}

/// A plain decimal's sign, integer digits and fraction digits (`-12.50` is `(true,
/// "12", "50")`); `None` unless it is `[+-]digits[.digits]` with some digit.
pub(crate) fn decimal_parts(t: &str) -> Option<(bool, &str, &str)> {
    let (negative, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some((negative, int, frac))
}

/// A decimal number's text rounded (half away from zero, as PostgreSQL rounds) to
/// `scale` fraction digits, and padded with zeros to them: `12.5` at scale 2 is
/// `12.50`, `0.125` `0.13`. `None` if the text is not a plain decimal.
pub(crate) fn round_decimal(text: &str, scale: usize) -> Option<String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("nan") {
        return Some("NaN".to_string());
    }
    let (negative, int, frac) = decimal_parts(t)?;
    // All digits, the last `scale` of them the fraction.
    let mut digits: Vec<u8> = int.bytes().map(|b| b - b'0').collect();
    let kept: Vec<u8> = frac.bytes().map(|b| b - b'0').collect();
    digits.extend(kept.iter().take(scale));
    digits.extend(std::iter::repeat(0).take(scale.saturating_sub(kept.len())));
    if kept.get(scale).is_some_and(|&d| d >= 5) {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, 1);
                break;
            }
            i -= 1;
            match digits.get_mut(i) {
                Some(d) if *d == 9 => *d = 0,
                Some(d) => {
                    *d += 1;
                    break;
                }
                None => break,
            }
        }
    }
    let split = digits.len() - scale;
    let int: String = digits
        .get(..split)
        .unwrap_or(&[])
        .iter()
        .map(|d| char::from(b'0' + d))
        .collect();
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let frac: String = digits
        .get(split..)
        .unwrap_or(&[])
        .iter()
        .map(|d| char::from(b'0' + d))
        .collect();
    let zero = digits.iter().all(|&d| d == 0);
    let sign = if negative && !zero { "-" } else { "" };
    Some(if scale > 0 {
        format!("{sign}{int}.{frac}")
    } else {
        format!("{sign}{int}")
    })
}

/// The type OID for a declared column type. Integer names follow PostgreSQL
/// (`INTEGER`/`INT`/`INT4` are int4, `BIGINT`/`INT8` int8, `SMALLINT`/`INT2` int2; other
/// names containing `INT` int8); `REAL`, `FLOAT`, `DOUBLE` are float8 (SQLite stores
/// 8-byte floats), only `FLOAT4` is float4; `BOOL`/`BOOLEAN` bool; `BLOB`/`BYTEA` bytea;
/// `NUMERIC`/`DECIMAL` numeric; `DATE`, `TIME`, `TIMESTAMP`, `TIMESTAMPTZ` (and their
/// long names) and `UUID` those types; everything else (TEXT, VARCHAR, JSON,
/// DATETIME...) text.
pub(crate) fn oid_for_decl(decl: &str) -> u32 {
    let d = decl.trim().to_ascii_uppercase();
    // `TYPE[]`: an array of a type with an array type here, else text[].
    if let Some(element) = d.strip_suffix("[]") {
        let element = oid_for_decl(element);
        return ARRAYS
            .iter()
            .find(|a| a.1 == element)
            .map_or(oid::TEXT_ARRAY, |a| a.0);
    }
    let (base, _) = type_words(&d);
    let base = base.as_str();
    match base {
        "DATE" => DATE,
        "TIME" | "TIME WITHOUT TIME ZONE" => TIME,
        "TIMESTAMP" | "TIMESTAMP WITHOUT TIME ZONE" => TIMESTAMP,
        "TIMESTAMPTZ" | "TIMESTAMP WITH TIME ZONE" => TIMESTAMPTZ,
        "UUID" => UUID,
        "INTEGER" | "INT" | "INT4" | "MEDIUMINT" => INT4,
        "SMALLINT" | "INT2" | "TINYINT" => INT2,
        "BIGINT" | "INT8" => INT8,
        "BOOL" | "BOOLEAN" => BOOL,
        "FLOAT4" | "REAL" => FLOAT4,
        "NUMERIC" | "DECIMAL" => NUMERIC,
        "BYTEA" | "BLOB" => BYTEA,
        "OID" => OID,
        "JSON" | "JSON_TEXT" => JSON,
        "JSONB" | "JSONB_TEXT" => JSONB,
        "INTERVAL" => INTERVAL,
        "PGCHAR" => CHAR,
        "VOID" => VOID,
        _ if base.contains("INT") => INT8,
        _ if base.contains("CHAR") || base.contains("CLOB") || base.contains("TEXT") => TEXT,
        _ if base.contains("REAL") || base.contains("FLOA") || base.contains("DOUB") => FLOAT8,
        _ => TEXT,
    }
}

/// A type OID folded onto the types this server encodes (others are sent as text).
pub(crate) fn supported(oid: u32) -> u32 {
    match oid {
        BOOL | BYTEA | INT8 | INT2 | INT4 | OID | TEXT | FLOAT4 | FLOAT8 | NUMERIC | DATE
        | TIME | TIMESTAMP | TIMESTAMPTZ | UUID => oid,
        VARCHAR | BPCHAR | UNKNOWN => TEXT,
        _ => TEXT,
    }
}

/// `typlen` for a RowDescription.
pub(crate) fn type_size(oid: u32) -> i16 {
    match oid {
        BOOL => 1,
        INT2 => 2,
        INT4 | FLOAT4 | OID => 4,
        INT8 | FLOAT8 => 8,
        _ => oid::typlen(oid).unwrap_or(-1),
    }
}

pub(crate) fn type_name(oid: u32) -> &'static str {
    match oid {
        BOOL => "boolean",
        BYTEA => "bytea",
        INT8 => "bigint",
        INT2 => "smallint",
        INT4 => "integer",
        OID => "oid",
        FLOAT4 => "real",
        FLOAT8 => "double precision",
        NUMERIC => "numeric",
        DATE => "date",
        TIME => "time without time zone",
        TIMESTAMP => "timestamp without time zone",
        TIMESTAMPTZ => "timestamp with time zone",
        UUID => "uuid",
        JSON => "json",
        JSONB => "jsonb",
        INTERVAL => "interval",
        VOID => "void",
        VARCHAR => "character varying",
        CHAR => "\"char\"",
        BPCHAR => "character",
        _ => ARRAYS.iter().find(|a| a.0 == oid).map_or("text", |a| a.2),
    }
}

/// PostgreSQL's internal name of a type (a cast's column name).
pub(crate) fn internal_name(oid: u32) -> &'static str {
    match oid {
        BOOL => "bool",
        BYTEA => "bytea",
        INT8 => "int8",
        INT2 => "int2",
        INT4 => "int4",
        OID => "oid",
        FLOAT4 => "float4",
        FLOAT8 => "float8",
        NUMERIC => "numeric",
        DATE => "date",
        TIME => "time",
        TIMESTAMP => "timestamp",
        TIMESTAMPTZ => "timestamptz",
        UUID => "uuid",
        JSON => "json",
        JSONB => "jsonb",
        _ => "text",
    }
}

/// A declared type name that [`oid_for_decl`] maps back to `oid`.
pub(crate) fn decl_name(oid: u32) -> &'static str {
    match oid {
        BOOL => "BOOL",
        BYTEA => "BYTEA",
        INT8 => "INT8",
        INT2 => "INT2",
        INT4 => "INT4",
        OID => "OID",
        FLOAT4 => "FLOAT4",
        FLOAT8 => "FLOAT8",
        NUMERIC => "NUMERIC",
        DATE => "DATE",
        TIME => "TIME",
        TIMESTAMP => "TIMESTAMP",
        TIMESTAMPTZ => "TIMESTAMPTZ",
        UUID => "UUID",
        _ => match ARRAYS.iter().find(|a| a.0 == oid) {
            Some((_, BOOL, _)) => "BOOL[]",
            Some((_, INT2, _)) => "INT2[]",
            Some((_, INT4, _)) => "INT4[]",
            Some((_, INT8, _)) => "INT8[]",
            Some((_, OID, _)) => "OID[]",
            Some((_, FLOAT4, _)) => "FLOAT4[]",
            Some((_, FLOAT8, _)) => "FLOAT8[]",
            Some((_, NUMERIC, _)) => "NUMERIC[]",
            Some(_) => "TEXT[]",
            None => "TEXT",
        },
    }
}

/// The OID for a value SQLite returned, when nothing declared the column's type.
pub(crate) fn oid_for_value(v: &Value) -> Option<u32> {
    match v {
        Value::Null => None,
        Value::Integer(_) => Some(INT8),
        Value::Real(_) => Some(FLOAT8),
        Value::Text(_) => Some(TEXT),
        Value::Blob(_) => Some(BYTEA),
    }
}

fn err(code: SqlState, message: String) -> Box<DbError> {
    Box::new(DbError::new(Severity::Error, code, message))
}

fn invalid(oid: u32, text: &str) -> Box<DbError> {
    err(
        SqlState::InvalidTextRepresentation,
        format!(
            "invalid input syntax for type {}: \"{text}\"",
            type_name(oid)
        ),
    )
}

fn out_of_range(oid: u32) -> Box<DbError> {
    err(
        SqlState::NumericValueOutOfRange,
        format!("value out of range for type {}", type_name(oid)),
    )
}

/// PostgreSQL's float8 output (shortest round-trip digits, `Infinity`, `NaN`, exponent
/// form for very large and very small magnitudes).
pub(crate) fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e15).contains(&a) {
        let s = format!("{f:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        return format!("{mantissa}e{sign}{digits:0>2}");
    }
    format!("{f}")
}

/// Whether `oid` is one of the types stored as text and converted with the core's
/// codecs ([`recode`]).
fn is_coded(oid: u32) -> bool {
    matches!(oid, DATE | TIME | TIMESTAMP | TIMESTAMPTZ | UUID | INTERVAL)
}

fn recode_as<T: for<'a> FromSql<'a> + ToSql>(
    oid: u32,
    from: Format,
    raw: &[u8],
    to: Format,
) -> Result<Vec<u8>, TypeError> {
    let value = T::from_sql(oid, from, raw)?;
    let mut out = bytes::BytesMut::new();
    value.to_sql(oid, to, &mut out)?;
    Ok(out.to_vec())
}

/// A date, time, timestamp, timestamptz or uuid value in `from` format re-encoded in
/// `to` format by the core's codecs (text to text normalizes it as PostgreSQL writes it);
/// bad input is PostgreSQL's error for it.
fn recode(oid: u32, from: Format, raw: &[u8], to: Format) -> Result<Vec<u8>, Box<DbError>> {
    let got = match oid {
        DATE => recode_as::<PgDate>(oid, from, raw, to),
        TIME => recode_as::<PgTime>(oid, from, raw, to),
        TIMESTAMP => recode_as::<PgTimestamp>(oid, from, raw, to),
        TIMESTAMPTZ => recode_as::<PgTimestampTz>(oid, from, raw, to).or_else(|e| {
            // PostgreSQL reads a timestamptz without an offset in the session's TimeZone,
            // always UTC here (SQLite's `DEFAULT CURRENT_TIMESTAMP` writes such values).
            if from == Format::Text && recode_as::<PgTimestamp>(TIMESTAMP, from, raw, to).is_ok() {
                recode_as::<PgTimestampTz>(oid, from, &[raw, b"+00"].concat(), to)
            } else {
                Err(e)
            }
        }),
        INTERVAL => recode_as::<PgInterval>(oid, from, raw, to),
        _ => recode_as::<PgUuid>(oid, from, raw, to),
    };
    got.map_err(|_| {
        if from == Format::Binary {
            return err(
                SqlState::InvalidBinaryRepresentation,
                format!("incorrect binary data format for type {}", type_name(oid)),
            );
        }
        let text = String::from_utf8_lossy(raw);
        let code = if oid == UUID {
            SqlState::InvalidTextRepresentation
        } else {
            SqlState::InvalidDatetimeFormat
        };
        err(
            code,
            format!(
                "invalid input syntax for type {}: \"{text}\"",
                type_name(oid)
            ),
        )
    })
}

/// Text read as PostgreSQL's `boolin` reads it: surrounding whitespace ignored, case
/// ignored, any prefix of `true`/`false`/`yes`/`no`, `on`, `of[f]`, `1`, `0`.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    let t = s.trim().to_ascii_lowercase();
    let prefix_of = |word: &str, min: usize| t.len() >= min && word.starts_with(t.as_str());
    if prefix_of("true", 1) || prefix_of("yes", 1) || prefix_of("on", 2) || t == "1" {
        Some(true)
    } else if prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || t == "0" {
        Some(false)
    } else {
        None
    }
}

fn parse_float(s: &str) -> Option<f64> {
    match s.trim().to_ascii_lowercase().as_str() {
        "nan" => Some(f64::NAN),
        "infinity" | "inf" | "+infinity" => Some(f64::INFINITY),
        "-infinity" | "-inf" => Some(f64::NEG_INFINITY),
        t => t.parse().ok(),
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + bytes.len() * 2);
    s.push_str("\\x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let h = s.strip_prefix("\\x")?;
    let b = h.as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    b.chunks(2)
        .map(|p| {
            let p = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(p, 16).ok()
        })
        .collect()
}

fn as_int(v: &Value, oid: u32) -> Result<i64, Box<DbError>> {
    let i = match v {
        Value::Integer(i) => *i,
        Value::Real(f) => {
            let r = f.round();
            if !r.is_finite() || r < i64::MIN as f64 || r >= i64::MAX as f64 {
                return Err(out_of_range(oid));
            }
            r as i64
        }
        Value::Text(t) => t.trim().parse().map_err(|_| invalid(oid, t))?,
        Value::Blob(_) => return Err(invalid(oid, "<blob>")),
        Value::Null => 0,
    };
    let ok = match oid {
        INT2 => i16::try_from(i).is_ok(),
        INT4 => i32::try_from(i).is_ok(),
        OID => u32::try_from(i).is_ok(),
        _ => true,
    };
    if ok {
        Ok(i)
    } else {
        Err(out_of_range(oid))
    }
}

fn as_float(v: &Value, oid: u32) -> Result<f64, Box<DbError>> {
    match v {
        Value::Integer(i) => Ok(*i as f64),
        Value::Real(f) => Ok(*f),
        Value::Text(t) => parse_float(t).ok_or_else(|| invalid(oid, t)),
        Value::Blob(_) => Err(invalid(oid, "<blob>")),
        Value::Null => Ok(0.0),
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => format_float(*f),
        Value::Text(t) => t.clone(),
        Value::Blob(b) => match std::str::from_utf8(b) {
            Ok(s) => s.to_string(),
            Err(_) => hex(b),
        },
    }
}

/// Whether a value SQLite is about to store in a column of type `oid` (typmod
/// `typmod`) is one PostgreSQL would store: SQLite keeps `'abc'` in an `integer`
/// column, `'maybe'` in a `boolean` one, `'2024-13-03'` in a `date` one, where
/// PostgreSQL fails with its input function's error (22P02, 22007/22008, 22003). A
/// fractional number in an integer column, which PostgreSQL rounds on the way in, is
/// refused with 0A000 (SQLite would keep the fraction). JSON is checked by the caller
/// (SQLite's `json_valid`).
pub(crate) fn check_stored(v: &Value, oid: u32, typmod: i32) -> Result<(), Box<DbError>> {
    match (oid, v) {
        (_, Value::Null) => Ok(()),
        (INT2 | INT4 | INT8, Value::Real(f)) if f.fract() != 0.0 => Err(err(
            SqlState::FeatureNotSupported,
            format!(
                "storing the fractional number {} in a column of type {} (PostgreSQL rounds it) is not supported",
                format_float(*f),
                type_name(oid)
            ),
        )),
        (JSON | JSONB, Value::Text(t)) if crate::jsonb::canonical(t).is_none() => Err(err(
            SqlState::InvalidTextRepresentation,
            format!("invalid input syntax for type {}", type_name(oid)),
        )),
        (BOOL, Value::Integer(0 | 1)) => Ok(()),
        (BOOL, Value::Integer(_) | Value::Real(_)) => Err(err(
            SqlState::DatatypeMismatch,
            format!(
                "column of type boolean cannot take the number {}",
                as_text(v)
            ),
        )),
        _ => encode_typed(v, oid, typmod, Format::Binary).map(|_| ()),
    }
}

/// Whether values of type `oid` may come in another form than PostgreSQL stores
/// (see [`normalize_stored`]).
pub(crate) fn has_stored_form(oid: u32) -> bool {
    matches!(
        oid,
        BOOL | BYTEA | DATE | TIME | TIMESTAMP | TIMESTAMPTZ | INTERVAL | UUID | JSONB
    )
}

/// The form PostgreSQL would have stored a (checked) value of type `oid` in, when
/// SQLite's differs, so that comparisons, sorting and functions see PostgreSQL's value:
/// a boolean written as text (`'t'`, `'yes'`) as 0/1 (SQLite reads `'t'` as 0), a
/// `bytea` written in its text input form (`'\\xdead'`) as its bytes, and a date, time,
/// timestamp, interval or uuid as PostgreSQL writes it (`'2024-1-2'` as `2024-01-02`,
/// a timestamptz in UTC), a `jsonb` value in its output form (see [`crate::jsonb`]).
/// `None` when the value is already so.
pub(crate) fn normalize_stored(v: &Value, oid: u32) -> Option<Value> {
    if !has_stored_form(oid) {
        return None;
    }
    let Value::Text(t) = v else { return None };
    match oid {
        BOOL => parse_bool(t).map(|b| Value::Integer(i64::from(b))),
        BYTEA => Some(Value::Blob(match t.starts_with("\\x") {
            true => unhex(t)?,
            false => t.as_bytes().to_vec(),
        })),
        JSONB => crate::jsonb::canonical(t)
            .filter(|c| c != t)
            .map(Value::Text),
        DATE | TIME | TIMESTAMP | TIMESTAMPTZ | INTERVAL | UUID => {
            let text = recode(oid, Format::Text, t.as_bytes(), Format::Text).ok()?;
            let text = String::from_utf8(text).ok()?;
            (text != *t).then_some(Value::Text(text))
        }
        _ => None,
    }
}

/// A cast's operand read as type `oid`: checked as [`check_stored`] checks a value
/// (PostgreSQL's error for bad input) and in the form [`normalize_stored`] gives it.
/// The text of a date, time, timestamp, interval or uuid is read once for both.
pub(crate) fn cast_in(v: Value, oid: u32) -> Result<Value, Box<DbError>> {
    if let (true, Value::Text(t)) = (is_coded(oid), &v) {
        let text = recode(oid, Format::Text, t.as_bytes(), Format::Text)?;
        return Ok(match String::from_utf8(text) {
            Ok(text) if text != *t => Value::Text(text),
            _ => v,
        });
    }
    check_stored(&v, oid, -1)?;
    Ok(normalize_stored(&v, oid).unwrap_or(v))
}

/// Encodes a SQLite value as type `oid` in `format`; `None` for NULL.
pub(crate) fn encode(v: &Value, oid: u32, format: Format) -> Result<Option<Vec<u8>>, Box<DbError>> {
    encode_typed(v, oid, -1, format)
}

/// Encodes a SQLite value as type `oid` with typmod `typmod` in `format`, as PostgreSQL
/// writes a value of a column of that type: a `numeric(p,s)` value with `s` fraction
/// digits (`12.5` is `12.50`), a `char(n)` value padded with spaces to `n` characters,
/// a `jsonb` value as PostgreSQL writes jsonb (in binary with its version byte);
/// `None` for NULL.
pub(crate) fn encode_typed(
    v: &Value,
    oid: u32,
    typmod: i32,
    format: Format,
) -> Result<Option<Vec<u8>>, Box<DbError>> {
    if matches!(v, Value::Null) {
        return Ok(None);
    }
    if let (NUMERIC, Some(scale)) = (oid, numeric_scale(typmod)) {
        let text = match v {
            Value::Integer(i) => i.to_string(),
            Value::Real(f) if f.is_finite() => format!("{f}"),
            Value::Real(f) if f.is_nan() => "NaN".to_string(),
            Value::Real(_) => return Err(out_of_range(oid)),
            Value::Text(t) => match t.trim().parse::<f64>() {
                Ok(f) if t.contains(['e', 'E']) && f.is_finite() => format!("{f}"),
                _ => t.clone(),
            },
            Value::Blob(_) => return Err(invalid(oid, "<blob>")),
            Value::Null => String::new(),
        };
        let rounded = round_decimal(&text, scale).ok_or_else(|| invalid(oid, &text))?;
        return encode(&Value::Text(rounded), oid, format);
    }
    if matches!(oid, TIME | TIMESTAMP | TIMESTAMPTZ) && (0..6).contains(&typmod) {
        let text = as_text(v);
        let rounded = round_time(oid, &text, typmod).ok_or_else(|| {
            err(
                SqlState::InvalidDatetimeFormat,
                format!(
                    "invalid input syntax for type {}: \"{text}\"",
                    type_name(oid)
                ),
            )
        })?;
        return encode(&Value::Text(rounded), oid, format);
    }
    if matches!(oid, BPCHAR | VARCHAR) && typmod > 4 {
        // PostgreSQL cuts the trailing spaces that do not fit (longer values are refused
        // on the way in) and pads a char(n) value.
        let n = usize::try_from(typmod - 4).unwrap_or(0);
        let mut text = as_text(v);
        if text.chars().count() > n {
            text = text.chars().take(n).collect();
        }
        if oid == BPCHAR {
            let len = text.chars().count();
            text.extend(std::iter::repeat(' ').take(n.saturating_sub(len)));
        }
        return Ok(Some(text.into_bytes()));
    }
    if let Some(element) = array_element(oid) {
        return encode_array(v, oid, element, format).map(Some);
    }
    if oid == JSONB {
        // PostgreSQL's jsonb text (a value SQLite computed may be written otherwise).
        let text = as_text(v);
        let text = crate::jsonb::canonical(&text).unwrap_or(text);
        return Ok(Some(match format {
            Format::Binary => [&[1u8][..], text.as_bytes()].concat(),
            Format::Text => text.into_bytes(),
        }));
    }
    let binary = format == Format::Binary;
    let out = match oid {
        INT2 | INT4 | INT8 | OID => {
            let i = as_int(v, oid)?;
            if !binary {
                i.to_string().into_bytes()
            } else {
                match oid {
                    OID => u32::try_from(i)
                        .map_err(|_| out_of_range(oid))?
                        .to_be_bytes()
                        .to_vec(),
                    INT2 => i16::try_from(i)
                        .map_err(|_| out_of_range(oid))?
                        .to_be_bytes()
                        .to_vec(),
                    INT4 => i32::try_from(i)
                        .map_err(|_| out_of_range(oid))?
                        .to_be_bytes()
                        .to_vec(),
                    _ => i.to_be_bytes().to_vec(),
                }
            }
        }
        FLOAT4 | FLOAT8 => {
            let f = as_float(v, oid)?;
            match (binary, oid) {
                (true, FLOAT4) => (f as f32).to_be_bytes().to_vec(),
                (true, _) => f.to_be_bytes().to_vec(),
                (false, FLOAT4) => format_float(f64::from(f as f32)).into_bytes(),
                (false, _) => format_float(f).into_bytes(),
            }
        }
        BOOL => {
            let b = match v {
                Value::Integer(i) => *i != 0,
                Value::Real(f) => *f != 0.0,
                Value::Text(t) => parse_bool(t).ok_or_else(|| invalid(oid, t))?,
                Value::Blob(_) => return Err(invalid(oid, "<blob>")),
                Value::Null => false,
            };
            match (binary, b) {
                (true, b) => vec![u8::from(b)],
                (false, true) => b"t".to_vec(),
                (false, false) => b"f".to_vec(),
            }
        }
        BYTEA => {
            let bytes = match v {
                Value::Blob(b) => b.clone(),
                // A literal written in bytea's input form (`'\x0102'`) is stored as text.
                Value::Text(t) if t.starts_with("\\x") => {
                    unhex(t).ok_or_else(|| invalid(oid, t))?
                }
                other => as_text(other).into_bytes(),
            };
            if binary {
                bytes
            } else {
                hex(&bytes).into_bytes()
            }
        }
        NUMERIC => {
            let text = match v {
                Value::Integer(i) => i.to_string(),
                Value::Real(f) if f.is_finite() => {
                    let s = format!("{f}");
                    s
                }
                Value::Real(f) if f.is_nan() => "NaN".to_string(),
                Value::Real(_) => return Err(out_of_range(oid)),
                Value::Text(t) => {
                    let t = t.trim().to_string();
                    if numeric_binary(&t).is_none() {
                        return Err(invalid(oid, &t));
                    }
                    t
                }
                Value::Blob(_) => return Err(invalid(oid, "<blob>")),
                Value::Null => String::new(),
            };
            if binary {
                numeric_binary(&text).ok_or_else(|| invalid(oid, &text))?
            } else {
                text.into_bytes()
            }
        }
        _ if is_coded(oid) => recode(oid, Format::Text, as_text(v).as_bytes(), format)?,
        _ => match v {
            Value::Blob(b) if binary => b.clone(),
            other => as_text(other).into_bytes(),
        },
    };
    Ok(Some(out))
}

/// An array's text (`{a,b}`, or an `int2vector`'s `1 2`) as an array of `element` in
/// `format`: each element converted as a value of its type (`1`/`0` of a boolean are
/// `t`/`f`), then `array_out`'s text or `array_send`'s binary (one dimension from 1).
fn encode_array(
    v: &Value,
    oid: u32,
    element: u32,
    format: Format,
) -> Result<Vec<u8>, Box<DbError>> {
    let text = as_text(v);
    let trimmed = text.trim();
    if trimmed.starts_with('{') && !trimmed.ends_with('}') {
        return Err(invalid(oid, &text));
    }
    let items = crate::catalog::array_elements(&text);
    if format == Format::Text {
        let converted = items
            .iter()
            .map(|item| match item {
                None => Ok(None),
                Some(t) => encode(&Value::Text(t.clone()), element, Format::Text)
                    .map(|b| b.map(|b| String::from_utf8_lossy(&b).into_owned())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(crate::catalog::array_text(&converted).into_bytes());
    }
    let mut out = Vec::new();
    let count = i32::try_from(items.len()).map_err(|_| out_of_range(oid))?;
    out.extend_from_slice(&i32::from(count > 0).to_be_bytes());
    out.extend_from_slice(&i32::from(items.iter().any(Option::is_none)).to_be_bytes());
    out.extend_from_slice(&element.to_be_bytes());
    if count > 0 {
        out.extend_from_slice(&count.to_be_bytes());
        out.extend_from_slice(&1i32.to_be_bytes());
    }
    for item in &items {
        match item {
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(t) => {
                let bytes =
                    encode(&Value::Text(t.clone()), element, Format::Binary)?.unwrap_or_default();
                let len = i32::try_from(bytes.len()).map_err(|_| out_of_range(oid))?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(&bytes);
            }
        }
    }
    Ok(out)
}

/// A decimal string in numeric's binary form: ndigits, weight, sign, dscale, then
/// base-10000 digits.
fn numeric_binary(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    let mut out = Vec::new();
    if t.eq_ignore_ascii_case("nan") {
        for v in [0i16, 0, 0xC000u16 as i16, 0] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        return Some(out);
    }
    let (negative, int, frac) = decimal_parts(t)?;
    let dscale = i16::try_from(frac.len()).ok()?;
    let int = int.trim_start_matches('0');
    // Pad the integer part on the left and the fraction on the right to groups of 4.
    let ipad = (4 - int.len() % 4) % 4;
    let fpad = (4 - frac.len() % 4) % 4;
    let digits: String = "0".repeat(ipad) + int + frac + &"0".repeat(fpad);
    let mut groups: Vec<i16> = digits
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).ok()?.parse().ok())
        .collect::<Option<_>>()?;
    let mut weight = i16::try_from((ipad + int.len()) / 4).ok()? - 1;
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    let sign: i16 = if negative && !groups.is_empty() {
        0x4000
    } else {
        0
    };
    for v in [i16::try_from(groups.len()).ok()?, weight, sign, dscale] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    for g in groups {
        out.extend_from_slice(&g.to_be_bytes());
    }
    Some(out)
}

/// numeric's binary form back to a decimal string.
fn numeric_text(b: &[u8]) -> Option<String> {
    let word = |i: usize| -> Option<i16> {
        Some(i16::from_be_bytes([*b.get(i * 2)?, *b.get(i * 2 + 1)?]))
    };
    let (n, weight, sign, dscale) = (word(0)?, word(1)?, word(2)? as u16, word(3)?);
    if sign == 0xC000 {
        return Some("NaN".to_string());
    }
    let n = usize::try_from(n).ok()?;
    if b.len() != 8 + 2 * n {
        return None;
    }
    let digits: Vec<i16> = (0..n).map(|i| word(4 + i)).collect::<Option<_>>()?;
    let mut int = String::new();
    let mut frac = String::new();
    for (i, d) in digits.iter().enumerate() {
        let pos = i16::try_from(i).ok()?;
        if pos <= weight {
            int.push_str(&format!("{d:04}"));
        } else {
            frac.push_str(&format!("{d:04}"));
        }
    }
    // Integer groups beyond the digits present are zeros; so are leading fraction groups.
    let present = i16::try_from(n).ok()?;
    for _ in present..=weight {
        int.push_str("0000");
    }
    if weight < -1 {
        let lead = usize::try_from(-1 - weight).ok()?;
        frac = "0000".repeat(lead) + &frac;
    }
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let dscale = usize::try_from(dscale).ok()?;
    let mut frac: String = frac.chars().take(dscale).collect();
    while frac.len() < dscale {
        frac.push('0');
    }
    let sign = if sign == 0x4000 { "-" } else { "" };
    Some(if dscale > 0 {
        format!("{sign}{int}.{frac}")
    } else {
        format!("{sign}{int}")
    })
}

/// Decodes a parameter sent as type `oid` in `format` to the SQLite value bound for it.
pub(crate) fn decode_param(
    bytes: Option<&[u8]>,
    oid: u32,
    format: Format,
) -> Result<Value, Box<DbError>> {
    let Some(b) = bytes else {
        return Ok(Value::Null);
    };
    let bad_binary = || {
        err(
            SqlState::InvalidBinaryRepresentation,
            format!(
                "incorrect binary data format in bind parameter of type {}",
                type_name(oid)
            ),
        )
    };
    if format == Format::Binary {
        return Ok(match oid {
            BOOL => match b {
                [v] => Value::Integer(i64::from(*v != 0)),
                _ => return Err(bad_binary()),
            },
            BYTEA => Value::Blob(b.to_vec()),
            INT2 => Value::Integer(i64::from(i16::from_be_bytes(
                b.try_into().map_err(|_| bad_binary())?,
            ))),
            INT4 => Value::Integer(i64::from(i32::from_be_bytes(
                b.try_into().map_err(|_| bad_binary())?,
            ))),
            INT8 => Value::Integer(i64::from_be_bytes(b.try_into().map_err(|_| bad_binary())?)),
            OID => Value::Integer(i64::from(u32::from_be_bytes(
                b.try_into().map_err(|_| bad_binary())?,
            ))),
            FLOAT4 => Value::Real(f64::from(f32::from_be_bytes(
                b.try_into().map_err(|_| bad_binary())?,
            ))),
            FLOAT8 => Value::Real(f64::from_be_bytes(b.try_into().map_err(|_| bad_binary())?)),
            NUMERIC => Value::Text(numeric_text(b).ok_or_else(bad_binary)?),
            _ if is_coded(oid) => Value::Text(
                String::from_utf8(recode(oid, format, b, Format::Text)?)
                    .map_err(|_| bad_binary())?,
            ),
            // Text-like types (text, varchar, bpchar, name, unknown, json, unspecified).
            JSONB => match b.split_first() {
                Some((1, rest)) => Value::Text(
                    std::str::from_utf8(rest)
                        .map_err(|_| bad_binary())?
                        .to_string(),
                ),
                _ => return Err(bad_binary()),
            },
            TEXT | VARCHAR | BPCHAR | UNKNOWN | NAME | JSON | CHAR | 0 => Value::Text(
                std::str::from_utf8(b)
                    .map_err(|_| bad_binary())?
                    .to_string(),
            ),
            _ => {
                return Err(err(
                    SqlState::FeatureNotSupported,
                    format!("binary format for parameters of type OID {oid} is not supported"),
                ))
            }
        });
    }
    let text = std::str::from_utf8(b).map_err(|_| {
        err(
            SqlState::CharacterNotInRepertoire,
            "invalid byte sequence for encoding \"UTF8\"".to_string(),
        )
    })?;
    Ok(match oid {
        BOOL => Value::Integer(i64::from(
            parse_bool(text).ok_or_else(|| invalid(oid, text))?,
        )),
        BYTEA => Value::Blob(unhex(text).unwrap_or_else(|| text.as_bytes().to_vec())),
        INT2 | INT4 | INT8 | OID => {
            let i: i64 = text.trim().parse().map_err(|_| invalid(oid, text))?;
            as_int(&Value::Integer(i), oid)?;
            Value::Integer(i)
        }
        FLOAT4 | FLOAT8 => Value::Real(parse_float(text).ok_or_else(|| invalid(oid, text))?),
        NUMERIC => {
            if numeric_binary(text).is_none() {
                return Err(invalid(oid, text));
            }
            Value::Text(text.trim().to_string())
        }
        _ if is_coded(oid) => Value::Text(
            String::from_utf8_lossy(&recode(oid, format, b, Format::Text)?).into_owned(),
        ),
        _ => Value::Text(text.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_are_checked_and_kept_as_postgresql_keeps_them() {
        let t = |s: &str| Value::Text(s.to_string());
        let code =
            |v: &Value, oid: u32| check_stored(v, oid, -1).map_err(|e| e.code.code().to_string());
        assert_eq!(code(&t("abc"), INT4), Err("22P02".to_string()));
        assert_eq!(
            code(&Value::Integer(5_000_000_000), INT4),
            Err("22003".to_string())
        );
        assert_eq!(code(&Value::Integer(5_000_000_000), INT8), Ok(()));
        assert_eq!(code(&Value::Real(5.5), INT4), Err("0A000".to_string()));
        assert_eq!(code(&Value::Real(5.0), INT4), Ok(()));
        assert_eq!(code(&t("maybe"), BOOL), Err("22P02".to_string()));
        assert_eq!(code(&t("yes"), BOOL), Ok(()));
        assert_eq!(code(&Value::Integer(2), BOOL), Err("42804".to_string()));
        assert_eq!(code(&t("2024-13-03"), DATE), Err("22007".to_string()));
        assert_eq!(code(&t("nope"), UUID), Err("22P02".to_string()));
        assert_eq!(code(&t("{1,x}"), 1007), Err("22P02".to_string()));
        assert_eq!(code(&Value::Null, DATE), Ok(()));

        assert_eq!(normalize_stored(&t("t"), BOOL), Some(Value::Integer(1)));
        assert_eq!(normalize_stored(&t("off"), BOOL), Some(Value::Integer(0)));
        assert_eq!(normalize_stored(&Value::Integer(1), BOOL), None);
        assert_eq!(
            normalize_stored(&t("\\xdead"), BYTEA),
            Some(Value::Blob(vec![0xde, 0xad]))
        );
        assert_eq!(
            normalize_stored(&t("ab"), BYTEA),
            Some(Value::Blob(b"ab".to_vec()))
        );
        assert_eq!(
            normalize_stored(&t("2024-1-2"), DATE),
            Some(t("2024-01-02"))
        );
        assert_eq!(normalize_stored(&t("2024-01-02"), DATE), None);
        assert_eq!(
            normalize_stored(&t("2024-01-02 03:04:05+02"), TIMESTAMPTZ),
            Some(t("2024-01-02 01:04:05+00"))
        );
        assert_eq!(
            normalize_stored(&t("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), UUID),
            Some(t("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
        );
        assert_eq!(normalize_stored(&t("x"), TEXT), None);
    }

    #[test]
    fn cast_operands_are_checked_and_normalized_as_stored_values() {
        let t = |s: &str| Value::Text(s.to_string());
        let cast = |v: Value, oid: u32| cast_in(v, oid).map_err(|e| e.code.code().to_string());
        // The same answers as check_stored then normalize_stored.
        for (v, oid) in [
            (t("2024-1-2"), DATE),
            (t("2024-01-02"), DATE),
            (t("2024-13-03"), DATE),
            (t("2024-01-02 03:04:05+02"), TIMESTAMPTZ),
            (t("2024-01-02 03:04:05"), TIMESTAMPTZ),
            (t("1 day 2 hours"), INTERVAL),
            (t("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), UUID),
            (t("nope"), UUID),
            (Value::Integer(20240102), DATE),
            (Value::Null, DATE),
            (t("yes"), BOOL),
            (t("abc"), INT4),
        ] {
            let two_reads = check_stored(&v, oid, -1)
                .map(|()| normalize_stored(&v, oid).unwrap_or(v.clone()))
                .map_err(|e| (e.code.code().to_string(), e.message));
            let one_read =
                cast_in(v.clone(), oid).map_err(|e| (e.code.code().to_string(), e.message));
            assert_eq!(one_read, two_reads, "{v:?} as {oid}");
        }
        assert_eq!(cast(t("2024-1-2"), DATE), Ok(t("2024-01-02")));
        assert_eq!(cast(t("2024-13-03"), DATE), Err("22007".to_string()));
    }

    #[test]
    fn declared_types() {
        assert_eq!(oid_for_decl("INTEGER"), INT4);
        assert_eq!(oid_for_decl("bigint"), INT8);
        assert_eq!(oid_for_decl("UNSIGNED BIG INT"), INT8);
        assert_eq!(oid_for_decl("varchar(20)"), TEXT);
        assert_eq!(oid_for_decl("double precision"), FLOAT8);
        // In PostgreSQL `real` is float4 (SQLite's REAL affinity is wider).
        assert_eq!(oid_for_decl("REAL"), FLOAT4);
        assert_eq!(oid_for_decl("numeric(10,2)"), NUMERIC);
        assert_eq!(oid_for_decl("blob"), BYTEA);
        assert_eq!(oid_for_decl("boolean"), BOOL);
        assert_eq!(oid_for_decl("date"), DATE);
        assert_eq!(oid_for_decl("timestamp(3)  with time zone"), TIMESTAMPTZ);
        assert_eq!(oid_for_decl("TIMESTAMPTZ"), TIMESTAMPTZ);
        assert_eq!(oid_for_decl("uuid"), UUID);
        assert_eq!(oid_for_decl("datetime"), TEXT);
        assert_eq!(oid_for_decl("json"), JSON);
    }

    #[test]
    fn encodes_by_declared_type() {
        let e = |v: Value, oid, f| encode(&v, oid, f).unwrap().unwrap();
        assert_eq!(
            e(Value::Integer(7), INT4, Format::Binary),
            7i32.to_be_bytes()
        );
        assert_eq!(
            e(Value::Text("7".into()), INT8, Format::Binary),
            7i64.to_be_bytes()
        );
        assert_eq!(
            e(Value::Integer(2), FLOAT8, Format::Binary),
            2f64.to_be_bytes()
        );
        assert_eq!(e(Value::Integer(1), BOOL, Format::Text), b"t");
        assert_eq!(
            e(Value::Blob(vec![1, 0xab]), BYTEA, Format::Text),
            b"\\x01ab"
        );
        assert_eq!(e(Value::Real(0.1), TEXT, Format::Text), b"0.1");
        assert_eq!(e(Value::Real(1e20), FLOAT8, Format::Text), b"1e+20");
        assert!(encode(&Value::Integer(1 << 40), INT4, Format::Binary).is_err());
        assert!(encode(&Value::Text("x".into()), INT4, Format::Text).is_err());
        assert_eq!(encode(&Value::Null, INT4, Format::Binary).unwrap(), None);
    }

    #[test]
    fn declared_types_with_typmods() {
        assert_eq!(declared("varchar(100)"), (VARCHAR, 104));
        assert_eq!(declared("character varying"), (VARCHAR, -1));
        assert_eq!(declared("numeric(10,2)"), (NUMERIC, (10 << 16 | 2) + 4));
        assert_eq!(declared("NUMERIC(10)"), (NUMERIC, (10 << 16) + 4));
        assert_eq!(declared("numeric"), (NUMERIC, -1));
        assert_eq!(declared("char(3)"), (BPCHAR, 7));
        assert_eq!(declared("character"), (BPCHAR, 5));
        assert_eq!(declared("timestamp(3)"), (TIMESTAMP, 3));
        assert_eq!(declared("timestamp(3) with time zone"), (TIMESTAMPTZ, 3));
        assert_eq!(declared("jsonb"), (JSONB, -1));
        assert_eq!(declared("integer"), (INT4, -1));
        assert_eq!(declared("text"), (TEXT, -1));
    }

    #[test]
    fn values_keep_their_declared_form() {
        let e = |v: Value, oid, typmod| {
            encode_typed(&v, oid, typmod, Format::Text)
                .unwrap()
                .map(|b| String::from_utf8(b).unwrap())
        };
        let n102 = (10 << 16 | 2) + 4;
        assert_eq!(e(Value::Real(12.5), NUMERIC, n102).unwrap(), "12.50");
        assert_eq!(e(Value::Integer(3), NUMERIC, n102).unwrap(), "3.00");
        assert_eq!(e(Value::Real(0.125), NUMERIC, n102).unwrap(), "0.13");
        assert_eq!(e(Value::Real(-0.125), NUMERIC, n102).unwrap(), "-0.13");
        assert_eq!(
            e(Value::Text("9.995".into()), NUMERIC, n102).unwrap(),
            "10.00"
        );
        assert_eq!(e(Value::Real(2.5), NUMERIC, (10 << 16) + 4).unwrap(), "3");
        assert_eq!(e(Value::Real(-0.001), NUMERIC, n102).unwrap(), "0.00");
        assert!(encode_typed(&Value::Text("x".into()), NUMERIC, n102, Format::Text).is_err());
        assert_eq!(e(Value::Text("ab".into()), BPCHAR, 8).unwrap(), "ab  ");
        assert_eq!(e(Value::Text("abc  ".into()), VARCHAR, 7).unwrap(), "abc");
        assert_eq!(e(Value::Text("ab   ".into()), BPCHAR, 7).unwrap(), "ab ");
        assert_eq!(e(Value::Null, BPCHAR, 8), None);
        assert_eq!(
            encode_typed(&Value::Text("{}".into()), JSONB, -1, Format::Binary)
                .unwrap()
                .unwrap(),
            b"\x01{}"
        );
        // jsonb is written as PostgreSQL writes it, whatever text was stored.
        assert_eq!(
            e(Value::Text("{\"b\":1, \"a\":[1,2]}".into()), JSONB, -1).unwrap(),
            "{\"a\": [1, 2], \"b\": 1}"
        );
        assert_eq!(
            e(Value::Text("1 day 02:00:00".into()), INTERVAL, -1).unwrap(),
            "1 day 02:00:00"
        );
        assert_eq!(round_decimal("99.5", 0).unwrap(), "100");
        assert_eq!(
            e(
                Value::Text("2024-01-02 03:04:05.12351".into()),
                TIMESTAMP,
                3
            )
            .unwrap(),
            "2024-01-02 03:04:05.124"
        );
        assert_eq!(
            e(
                Value::Text("2024-01-02 03:04:05.5+00".into()),
                TIMESTAMPTZ,
                0
            )
            .unwrap(),
            "2024-01-02 03:04:06+00"
        );
        assert_eq!(
            e(Value::Text("\\x0102".into()), BYTEA, -1).unwrap(),
            "\\x0102"
        );
        assert_eq!(
            encode(&Value::Text("\\x0102".into()), BYTEA, Format::Binary).unwrap(),
            Some(vec![1, 2])
        );
    }

    #[test]
    fn numeric_round_trips() {
        for s in [
            "0",
            "1",
            "-12.5",
            "10000",
            "123456789.000123",
            "0.0001",
            "NaN",
            "-0.5",
        ] {
            let b = numeric_binary(s).unwrap();
            assert_eq!(numeric_text(&b).unwrap(), s, "{s}");
        }
        // 1.5 = one group 1, one group 5000, weight 0, dscale 1.
        assert_eq!(
            numeric_binary("1.5").unwrap(),
            [0, 2, 0, 0, 0, 0, 0, 1, 0, 1, 0x13, 0x88]
        );
    }

    #[test]
    fn decodes_parameters() {
        let d = |b: &[u8], oid, f| decode_param(Some(b), oid, f).unwrap();
        assert_eq!(
            d(&5i32.to_be_bytes(), INT4, Format::Binary),
            Value::Integer(5)
        );
        assert_eq!(d(b"t", BOOL, Format::Text), Value::Integer(1));
        assert_eq!(d(b"\\x0102", BYTEA, Format::Text), Value::Blob(vec![1, 2]));
        assert_eq!(d(b"2.5", FLOAT8, Format::Text), Value::Real(2.5));
        assert!(decode_param(Some(b"x"), INT4, Format::Text).is_err());
        assert!(decode_param(Some(&[1, 2]), INT4, Format::Binary).is_err());
        // Dates, timestamps and UUIDs with the core's codecs, normalized as PostgreSQL
        // writes them.
        assert_eq!(
            d(b"2024-1-2", DATE, Format::Text),
            Value::Text("2024-01-02".into())
        );
        assert_eq!(
            d(&8766i32.to_be_bytes(), DATE, Format::Binary),
            Value::Text("2024-01-01".into())
        );
        let e = decode_param(Some(b"2024-13-01"), DATE, Format::Text).unwrap_err();
        assert_eq!(e.code, SqlState::InvalidDatetimeFormat);
        assert_eq!(
            d(b"2024-01-01 12:00:00+02", TIMESTAMPTZ, Format::Text),
            Value::Text("2024-01-01 10:00:00+00".into())
        );
        // Without an offset: in TimeZone UTC, as SQLite's CURRENT_TIMESTAMP writes it.
        assert_eq!(
            d(b"2024-01-01 12:00:00", TIMESTAMPTZ, Format::Text),
            Value::Text("2024-01-01 12:00:00+00".into())
        );
        assert!(decode_param(Some(b"2024-01-01 nope"), TIMESTAMPTZ, Format::Text).is_err());
        assert!(decode_param(Some(b"nope"), UUID, Format::Text).is_err());
    }

    #[test]
    fn encodes_dates_and_uuids_with_the_core_codecs() {
        let e = |v: &str, oid, f| encode(&Value::Text(v.into()), oid, f).unwrap().unwrap();
        assert_eq!(e("2024-01-01", DATE, Format::Text), b"2024-01-01");
        // 2024-01-01 is day 8766 after 2000-01-01.
        assert_eq!(e("2024-01-01", DATE, Format::Binary), 8766i32.to_be_bytes());
        let u = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
        assert_eq!(e(u, UUID, Format::Binary).len(), 16);
        assert_eq!(e(&u.to_uppercase(), UUID, Format::Text), u.as_bytes());
        assert!(encode(&Value::Text("x".into()), DATE, Format::Text).is_err());
        assert_eq!(type_size(DATE), 4);
        assert_eq!(type_size(UUID), 16);
    }
}
