//! PostgreSQL's everyday string functions that SQLite lacks or names otherwise, as SQL
//! functions on each connection: `left`, `right`, `initcap`, `md5`, `concat`,
//! `concat_ws`, `split_part`, `lpad`, `rpad`, `repeat`, `reverse`, `strpos`, `btrim`,
//! `starts_with`, `regexp_replace`, `to_hex`, `chr`, `ascii`, `trunc`, `ceil`/`floor`,
//! `sqrt`, `mod`, `power`, `greatest`/`least`, and
//! `pg_jsonb_out`/`pg_json_build_out` (SQLite's minified JSON text written as
//! PostgreSQL writes a `jsonb` value or a `json_build_object`/`json_build_array`
//! result). Each answers as PostgreSQL 15 does for the same text arguments, or fails
//! with PostgreSQL's SQLSTATE (in brackets, read by the session); what it cannot
//! answer alike (`to_hex` of a negative number, whose width depends on the argument's
//! type) fails with 0A000.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

fn user_error(m: String) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(m.into())
}

/// An argument as PostgreSQL's text of it, `None` for NULL (SQLite's own text of a
/// number is PostgreSQL's for integers; reals are written as SQLite writes them).
fn text_arg(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(r) => Some(crate::types::format_float(r)),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    })
}

/// The first `n` characters (all but the last `-n` when negative), as `left`.
pub(crate) fn left(s: &str, n: i64) -> String {
    let len = s.chars().count() as i64;
    let take = if n >= 0 { n.min(len) } else { (len + n).max(0) };
    s.chars().take(take as usize).collect()
}

/// The last `n` characters (all but the first `-n` when negative), as `right`.
pub(crate) fn right(s: &str, n: i64) -> String {
    let len = s.chars().count() as i64;
    let skip = if n >= 0 {
        (len - n).max(0)
    } else {
        (-n).min(len)
    };
    s.chars().skip(skip as usize).collect()
}

/// `upper`/`lower` as PostgreSQL's under the `C.UTF-8` locale (glibc's `towupper`/
/// `towlower`, one character for one): every letter's case changes, not only ASCII's
/// as in SQLite's; a letter whose mapping is several characters (`ß`) stays.
pub(crate) fn change_case(s: &str, upper: bool) -> String {
    s.chars()
        .map(|c| {
            let mut mapped: Vec<char> = if upper {
                c.to_uppercase().collect()
            } else {
                c.to_lowercase().collect()
            };
            match (mapped.pop(), mapped.is_empty()) {
                (Some(m), true) => m,
                _ => c,
            }
        })
        .collect()
}

/// Each word's first letter upper case and the rest lower case, words being runs of
/// letters and digits, as `initcap`.
pub(crate) fn initcap(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_word = false;
    for c in s.chars() {
        if in_word {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        in_word = c.is_alphanumeric();
    }
    out
}

/// `lpad`/`rpad`: `s` filled to `len` characters with `fill` (cut to `len` when longer).
pub(crate) fn pad(s: &str, len: i64, fill: &str, left: bool) -> String {
    let len = len.max(0) as usize;
    let chars: Vec<char> = s.chars().collect();
    if chars.len() >= len || fill.is_empty() {
        return chars.iter().take(len).collect();
    }
    let filler: String = fill.chars().cycle().take(len - chars.len()).collect();
    if left {
        format!("{filler}{s}")
    } else {
        format!("{s}{filler}")
    }
}

/// `split_part`: the `n`th field (from the end when negative); 22023 for 0.
pub(crate) fn split_part(s: &str, delimiter: &str, n: i64) -> Result<String, String> {
    if n == 0 {
        return Err("[22023] field position must not be zero".to_string());
    }
    let fields: Vec<&str> = if delimiter.is_empty() {
        if s.is_empty() {
            Vec::new()
        } else {
            vec![s]
        }
    } else {
        s.split(delimiter).collect()
    };
    let index = if n > 0 {
        usize::try_from(n - 1).ok()
    } else {
        usize::try_from(fields.len() as i64 + n).ok()
    };
    Ok(index
        .and_then(|i| fields.get(i))
        .map_or(String::new(), |f| f.to_string()))
}

/// `strpos`: the character position of `sub` in `s` from 1, 0 when absent.
pub(crate) fn strpos(s: &str, sub: &str) -> i64 {
    s.find(sub).map_or(0, |b| s[..b].chars().count() as i64 + 1)
}

/// A PostgreSQL `regexp_replace` replacement (`\1`..`\9`, `\&`, `\\`) in the `regex`
/// crate's syntax.
fn replacement(repl: &str) -> String {
    let mut out = String::with_capacity(repl.len());
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek().copied() {
                Some(d @ '1'..='9') => {
                    chars.next();
                    out.push_str(&format!("${{{d}}}"));
                }
                Some('&') => {
                    chars.next();
                    out.push_str("${0}");
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            '$' => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out
}

/// `regexp_replace(s, pattern, replacement [, flags])` with flags `g` and `i` (others:
/// 0A000).
pub(crate) fn regexp_replace(
    s: &str,
    pattern: &str,
    repl: &str,
    flags: &str,
) -> Result<String, String> {
    let (mut global, mut ci) = (false, false);
    for f in flags.chars() {
        match f {
            'g' => global = true,
            'i' => ci = true,
            'c' => ci = false,
            other => {
                return Err(format!(
                    "[0A000] regexp_replace() flag \"{other}\" is not supported"
                ))
            }
        }
    }
    let re = regex::RegexBuilder::new(pattern)
        .case_insensitive(ci)
        .build()
        .map_err(|e| format!("[2201B] invalid regular expression: {e}"))?;
    let repl = replacement(repl);
    Ok(if global {
        re.replace_all(s, repl.as_str()).into_owned()
    } else {
        re.replace(s, repl.as_str()).into_owned()
    })
}

/// A JSON text written as `json_build_object`/`json_build_array` write it (`{"a" : 1}`,
/// `[1, 2]`, keys and scalars as given); `jsonb` values are the `jsonb` module's.
/// `None` when it is not JSON.
pub(crate) fn pg_json_text(json: &str) -> Option<String> {
    let mut p = JsonParser {
        s: json.as_bytes(),
        i: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return None;
    }
    let mut out = String::with_capacity(json.len() + 8);
    write_json(&v.json, &mut out);
    Some(out)
}

/// The member `key` (text) or element `key` (integer, from 0, from the end when
/// negative) of a JSON text, as `->` (`as_text` false) or `->>` write it: for jsonb
/// normalized, for json as written, a string's contents for `->>`; `Ok(None)` when
/// absent or a JSON null under `->>`. `jsonb` is `None` when the value's type is not
/// known: a container is then refused (json and jsonb write it differently).
pub(crate) fn json_get(
    json: &str,
    key: &Value,
    as_text: bool,
    jsonb: Option<bool>,
) -> Result<Option<String>, String> {
    let invalid = || format!("[22P02] invalid input syntax for type json: \"{json}\"");
    let mut p = JsonParser {
        s: json.as_bytes(),
        i: 0,
    };
    let root = p.value().ok_or_else(invalid)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(invalid());
    }
    let found = match (&root.json, key) {
        (Json::Object(members), Value::Text(k)) => members
            .iter()
            .rev()
            .find(|(name, _)| unescape(name).as_deref() == Some(k.as_str()))
            .map(|(_, v)| v),
        (Json::Array(items), Value::Integer(i)) => {
            let n = items.len() as i64;
            let i = if *i < 0 { n + i } else { *i };
            usize::try_from(i).ok().and_then(|i| items.get(i))
        }
        _ => None,
    };
    let Some(node) = found else {
        return Ok(None);
    };
    match &node.json {
        Json::Scalar(s) if as_text && s.starts_with('"') => {
            return unescape(s).map(Some).ok_or_else(invalid)
        }
        Json::Scalar("null") if as_text => return Ok(None),
        Json::Scalar(s) => return Ok(Some(s.to_string())),
        _ => {}
    }
    match jsonb {
        Some(true) => Ok(crate::jsonb::canonical(node.raw)),
        Some(false) => Ok(Some(node.raw.to_string())),
        None => Err(
            "[0A000] ->> of an object or array from a value not cast to json or jsonb is not supported"
                .to_string(),
        ),
    }
}

/// A JSON string literal's contents (`"a\\nb"` is `a`, newline, `b`).
fn unescape(quoted: &str) -> Option<String> {
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                let mut code = u32::from_str_radix(&hex, 16).ok()?;
                if (0xD800..0xDC00).contains(&code) {
                    let rest: String = chars.by_ref().take(6).collect();
                    let low = u32::from_str_radix(rest.strip_prefix("\\u")?, 16).ok()?;
                    code = 0x10000 + ((code - 0xD800) << 10) + (low.checked_sub(0xDC00)?);
                }
                out.push(char::from_u32(code)?);
            }
            other => out.push(other),
        }
    }
    Some(out)
}

/// A `SIMILAR TO` pattern as a regular expression matching the whole text, as
/// PostgreSQL's `similar_to_escape` translates it (`%` any text, `_` any character,
/// `.`, `^` and `$` literal, `escape` quoting the next character).
pub(crate) fn similar_regex(pattern: &str, escape: Option<char>) -> String {
    let mut out = String::from("^(?:");
    let (mut escaped, mut in_brackets) = (false, false);
    for c in pattern.chars() {
        if escaped {
            out.push_str(&regex::escape(&c.to_string()));
            escaped = false;
        } else if Some(c) == escape {
            escaped = true;
        } else if in_brackets {
            if c == ']' {
                in_brackets = false;
            }
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        } else {
            match c {
                '[' => {
                    in_brackets = true;
                    out.push('[');
                }
                '%' => out.push_str(".*"),
                '_' => out.push('.'),
                '(' => out.push_str("(?:"),
                '.' | '^' | '$' | '\\' => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
    }
    out.push_str(")$");
    out
}

/// A parsed JSON value with its text as written.
struct Node<'a> {
    raw: &'a str,
    json: Json<'a>,
}

enum Json<'a> {
    /// A scalar's text as written (string with its quotes, number, true/false/null).
    Scalar(&'a str),
    Array(Vec<Node<'a>>),
    Object(Vec<(&'a str, Node<'a>)>),
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> JsonParser<'a> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn text(&self, from: usize) -> Option<&'a str> {
        std::str::from_utf8(self.s.get(from..self.i)?).ok()
    }

    fn string(&mut self) -> Option<&'a str> {
        let from = self.i;
        if self.s.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        loop {
            match self.s.get(self.i)? {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return self.text(from);
                }
                _ => self.i += 1,
            }
        }
    }

    fn value(&mut self) -> Option<Node<'a>> {
        self.ws();
        let from = self.i;
        let json = self.json()?;
        Some(Node {
            raw: self.text(from)?,
            json,
        })
    }

    fn json(&mut self) -> Option<Json<'a>> {
        match self.s.get(self.i)? {
            b'"' => self.string().map(Json::Scalar),
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Some(Json::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    self.ws();
                    match self.s.get(self.i)? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(Json::Array(items));
                        }
                        _ => return None,
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Some(Json::Object(members));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return None;
                    }
                    self.i += 1;
                    members.push((key, self.value()?));
                    self.ws();
                    match self.s.get(self.i)? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Some(Json::Object(members));
                        }
                        _ => return None,
                    }
                }
            }
            _ => {
                let from = self.i;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b))
                {
                    self.i += 1;
                }
                (self.i > from)
                    .then(|| self.text(from))
                    .flatten()
                    .map(Json::Scalar)
            }
        }
    }
}

fn write_json(v: &Json<'_>, out: &mut String) {
    match v {
        Json::Scalar(s) => out.push_str(s),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(&item.json, out);
            }
            out.push(']');
        }
        Json::Object(members) => {
            out.push('{');
            for (i, (k, value)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push_str(" : ");
                write_json(&value.json, out);
            }
            out.push('}');
        }
    }
}

/// Registers this module's functions on a connection.
pub(crate) fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    for (name, f) in [("left", left as fn(&str, i64) -> String), ("right", right)] {
        conn.create_scalar_function(name, 2, flags, move |ctx| {
            let (Some(s), Some(n)) = (text_arg(ctx, 0)?, ctx.get::<Option<i64>>(1)?) else {
                return Ok(None);
            };
            Ok(Some(f(&s, n)))
        })?;
    }
    for (name, upper) in [("upper", true), ("lower", false)] {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            Ok(text_arg(ctx, 0)?.map(|s| change_case(&s, upper)))
        })?;
    }
    conn.create_scalar_function("initcap", 1, flags, |ctx| {
        Ok(text_arg(ctx, 0)?.map(|s| initcap(&s)))
    })?;
    conn.create_scalar_function("md5", 1, flags, |ctx| {
        use md5::{Digest, Md5};
        Ok(text_arg(ctx, 0)?.map(|s| {
            Md5::digest(s.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        }))
    })?;
    conn.create_scalar_function("concat", -1, flags, |ctx| {
        let mut out = String::new();
        for i in 0..ctx.len() {
            out.push_str(&text_arg(ctx, i)?.unwrap_or_default());
        }
        Ok(out)
    })?;
    conn.create_scalar_function("concat_ws", -1, flags, |ctx| {
        if ctx.is_empty() {
            return Err(user_error(
                "[42883] function concat_ws() does not exist".to_string(),
            ));
        }
        let Some(sep) = text_arg(ctx, 0)? else {
            return Ok(None);
        };
        let mut items = Vec::new();
        for i in 1..ctx.len() {
            items.extend(text_arg(ctx, i)?);
        }
        Ok(Some(items.join(&sep)))
    })?;
    conn.create_scalar_function("split_part", 3, flags, |ctx| {
        let (Some(s), Some(d), Some(n)) = (
            text_arg(ctx, 0)?,
            text_arg(ctx, 1)?,
            ctx.get::<Option<i64>>(2)?,
        ) else {
            return Ok(None);
        };
        split_part(&s, &d, n).map(Some).map_err(user_error)
    })?;
    for (name, is_left) in [("lpad", true), ("rpad", false)] {
        for args in [2, 3] {
            conn.create_scalar_function(name, args, flags, move |ctx| {
                let (Some(s), Some(len)) = (text_arg(ctx, 0)?, ctx.get::<Option<i64>>(1)?) else {
                    return Ok(None);
                };
                let fill = if args == 3 {
                    match text_arg(ctx, 2)? {
                        Some(f) => f,
                        None => return Ok(None),
                    }
                } else {
                    " ".to_string()
                };
                if len > 10_000_000 {
                    return Err(user_error("[54000] requested length too large".into()));
                }
                Ok(Some(pad(&s, len, &fill, is_left)))
            })?;
        }
    }
    conn.create_scalar_function("repeat", 2, flags, |ctx| {
        let (Some(s), Some(n)) = (text_arg(ctx, 0)?, ctx.get::<Option<i64>>(1)?) else {
            return Ok(None);
        };
        let n = usize::try_from(n).unwrap_or(0);
        if s.len().saturating_mul(n) > 100_000_000 {
            return Err(user_error("[54000] requested length too large".into()));
        }
        Ok(Some(s.repeat(n)))
    })?;
    conn.create_scalar_function("reverse", 1, flags, |ctx| {
        Ok(text_arg(ctx, 0)?.map(|s| s.chars().rev().collect::<String>()))
    })?;
    conn.create_scalar_function("strpos", 2, flags, |ctx| {
        let (Some(s), Some(sub)) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(Some(strpos(&s, &sub)))
    })?;
    for args in [1, 2] {
        conn.create_scalar_function("btrim", args, flags, move |ctx| {
            let Some(s) = text_arg(ctx, 0)? else {
                return Ok(None);
            };
            let chars: Vec<char> = if args == 2 {
                match text_arg(ctx, 1)? {
                    Some(c) => c.chars().collect(),
                    None => return Ok(None),
                }
            } else {
                vec![' ']
            };
            Ok(Some(s.trim_matches(chars.as_slice()).to_string()))
        })?;
    }
    conn.create_scalar_function("starts_with", 2, flags, |ctx| {
        let (Some(s), Some(p)) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(Some(s.starts_with(&p)))
    })?;
    for args in [3, 4] {
        conn.create_scalar_function("regexp_replace", args, flags, move |ctx| {
            let mut a = Vec::with_capacity(4);
            for i in 0..usize::try_from(args).unwrap_or(0) {
                match text_arg(ctx, i)? {
                    Some(t) => a.push(t),
                    None => return Ok(None),
                }
            }
            let flags = a.get(3).map_or("", String::as_str);
            match a.as_slice() {
                [s, p, r, ..] => regexp_replace(s, p, r, flags).map(Some).map_err(user_error),
                _ => Ok(None),
            }
        })?;
    }
    conn.create_scalar_function("to_hex", 1, flags, |ctx| {
        let Some(n) = ctx.get::<Option<i64>>(0)? else {
            return Ok(None);
        };
        if n < 0 {
            return Err(user_error(
                "[0A000] to_hex() of a negative number is not supported".into(),
            ));
        }
        Ok(Some(format!("{n:x}")))
    })?;
    conn.create_scalar_function("chr", 1, flags, |ctx| {
        let Some(n) = ctx.get::<Option<i64>>(0)? else {
            return Ok(None);
        };
        if n == 0 {
            return Err(user_error("[54000] null character not permitted".into()));
        }
        let c = u32::try_from(n)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| {
                user_error(format!(
                    "[54000] requested character too large for encoding: {n}"
                ))
            })?;
        Ok(Some(c.to_string()))
    })?;
    conn.create_scalar_function("ascii", 1, flags, |ctx| {
        Ok(text_arg(ctx, 0)?.map(|s| s.chars().next().map_or(0, |c| i64::from(u32::from(c)))))
    })?;
    // `trunc(x)` and `trunc(x, digits)`: toward zero, an integer staying an integer.
    for args in [1, 2] {
        conn.create_scalar_function("trunc", args, flags, move |ctx| {
            let digits = if args == 2 {
                match ctx.get::<Option<i64>>(1)? {
                    Some(d) => d,
                    None => return Ok(Value::Null),
                }
            } else {
                0
            };
            let value = ctx.get::<Value>(0)?;
            // `trunc(numeric, digits)` (there is no float8 form): numeric's text, with
            // exactly `digits` decimals.
            if args == 2 && digits > 0 {
                let text = match &value {
                    Value::Null => return Ok(Value::Null),
                    Value::Integer(i) => i.to_string(),
                    Value::Real(r) => crate::types::format_float(*r),
                    Value::Text(t) => t.trim().to_string(),
                    Value::Blob(_) => String::new(),
                };
                if let Some(t) = truncate_decimal(&text, digits) {
                    return Ok(Value::Text(t));
                }
            }
            Ok(match value {
                Value::Integer(i) if digits >= 0 => Value::Integer(i),
                Value::Integer(i) => {
                    let p = 10i64.checked_pow(u32::try_from(-digits).unwrap_or(u32::MAX));
                    Value::Integer(p.map_or(0, |p| i / p * p))
                }
                Value::Real(r) => Value::Real(trunc(r, digits)),
                Value::Text(t) => match t.trim().parse::<f64>() {
                    Ok(r) => Value::Real(trunc(r, digits)),
                    Err(_) => {
                        return Err(user_error(format!(
                            "[22P02] invalid input syntax for type numeric: \"{t}\""
                        )))
                    }
                },
                Value::Null => Value::Null,
                Value::Blob(_) => {
                    return Err(user_error(
                        "[0A000] trunc() of a bytea value is not supported".into(),
                    ))
                }
            })
        })?;
    }
    conn.create_scalar_function("pg_json_get", 4, flags, |ctx| {
        let Some(json) = text_arg(ctx, 0)? else {
            return Ok(None);
        };
        let key = ctx.get::<Value>(1)?;
        if key == Value::Null {
            return Ok(None);
        }
        let as_text = ctx.get::<i64>(2)? != 0;
        let jsonb = ctx.get::<Option<String>>(3)?.map(|k| k == "jsonb");
        json_get(&json, &key, as_text, jsonb).map_err(user_error)
    })?;
    conn.create_scalar_function("pg_similar_regex", 2, flags, |ctx| {
        let (Some(pattern), Some(escape)) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
            return Ok(None);
        };
        let mut chars = escape.chars();
        let escape = chars.next();
        if chars.next().is_some() {
            return Err(user_error(
                "[22025] invalid escape string\nHINT: Escape string must be empty or one character."
                    .to_string(),
            ));
        }
        Ok(Some(similar_regex(&pattern, escape)))
    })?;
    // `a ^ b` and `power(a, b)` (float8, with PostgreSQL's errors).
    for name in ["power", "pow"] {
        conn.create_scalar_function(name, 2, flags, |ctx| {
            let (Some(a), Some(b)) = (ctx.get::<Option<f64>>(0)?, ctx.get::<Option<f64>>(1)?)
            else {
                return Ok(None);
            };
            if a == 0.0 && b < 0.0 {
                return Err(user_error(
                    "[2201F] zero raised to a negative power is undefined".into(),
                ));
            }
            if a < 0.0 && b.fract() != 0.0 {
                return Err(user_error(
                    "[2201F] a negative number raised to a non-integer power yields a complex result"
                        .into(),
                ));
            }
            let r = a.powf(b);
            if r.is_infinite() && a.is_finite() && b.is_finite() {
                return Err(user_error("[22003] value out of range: overflow".into()));
            }
            Ok(Some(r))
        })?;
    }
    // `ceil`/`ceiling`/`floor`: an integer stays an integer.
    for (name, up) in [("ceil", true), ("ceiling", true), ("floor", false)] {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            Ok(match ctx.get::<Value>(0)? {
                Value::Integer(i) => Value::Integer(i),
                Value::Null => Value::Null,
                v => {
                    let r = number(&v)?;
                    Value::Real(if up { r.ceil() } else { r.floor() })
                }
            })
        })?;
    }
    conn.create_scalar_function("sqrt", 1, flags, |ctx| {
        let Some(r) = ctx.get::<Option<f64>>(0)? else {
            return Ok(None);
        };
        if r < 0.0 {
            return Err(user_error(
                "[2201F] cannot take square root of a negative number".into(),
            ));
        }
        Ok(Some(r.sqrt()))
    })?;
    // `mod(a, b)`: the remainder with the dividend's sign; 22012 for a zero divisor.
    conn.create_scalar_function("mod", 2, flags, |ctx| {
        let (a, b) = (ctx.get::<Value>(0)?, ctx.get::<Value>(1)?);
        if a == Value::Null || b == Value::Null {
            return Ok(Value::Null);
        }
        let zero = || user_error("[22012] division by zero".into());
        Ok(match (&a, &b) {
            (Value::Integer(x), Value::Integer(y)) => {
                if *y == 0 {
                    return Err(zero());
                }
                Value::Integer(x.checked_rem(*y).unwrap_or(0))
            }
            _ => {
                let (x, y) = (number(&a)?, number(&b)?);
                if y == 0.0 {
                    return Err(zero());
                }
                Value::Real(x % y)
            }
        })
    })?;
    // `greatest`/`least` ignore NULLs (NULL only when all are), unlike SQLite's
    // many-argument `max`/`min`.
    for (name, greatest) in [("greatest", true), ("least", false)] {
        conn.create_scalar_function(name, -1, flags, move |ctx| {
            let mut best: Option<Value> = None;
            for i in 0..ctx.len() {
                let v = ctx.get::<Value>(i)?;
                if v == Value::Null {
                    continue;
                }
                let better = match &best {
                    None => true,
                    Some(b) => {
                        let o = compare(&v, b);
                        if greatest {
                            o == std::cmp::Ordering::Greater
                        } else {
                            o == std::cmp::Ordering::Less
                        }
                    }
                };
                if better {
                    best = Some(v);
                }
            }
            Ok(best.unwrap_or(Value::Null))
        })?;
    }
    // An error raised when the statement runs (`[SQLSTATE] message`, see `builtins`).
    conn.create_scalar_function("pg_error", 1, flags, |ctx| {
        let message: String = ctx.get(0)?;
        Err::<i64, _>(user_error(message))
    })?;
    conn.create_scalar_function("pg_jsonb_out", 1, flags, |ctx| json_out(ctx, true))?;
    conn.create_scalar_function("pg_json_build_out", 1, flags, |ctx| json_out(ctx, false))?;
    Ok(())
}

/// A number argument (a numeric's text too); 22P02 for other text.
fn number(v: &Value) -> rusqlite::Result<f64> {
    match v {
        Value::Integer(i) => Ok(*i as f64),
        Value::Real(r) => Ok(*r),
        Value::Text(t) => t.trim().parse::<f64>().map_err(|_| {
            user_error(format!(
                "[22P02] invalid input syntax for type numeric: \"{t}\""
            ))
        }),
        _ => Err(user_error(
            "[0A000] this function of a bytea or NULL value is not supported".into(),
        )),
    }
}

/// SQLite's order of two non-NULL values: numbers by value, before text (by bytes),
/// before blobs.
fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let num = |v: &Value| match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Real(r) => Some(*r),
        _ => None,
    };
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => x.cmp(y),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => match (a, b) {
                (Value::Text(x), Value::Text(y)) => x.as_bytes().cmp(y.as_bytes()),
                (Value::Text(_), _) => Ordering::Less,
                (_, Value::Text(_)) => Ordering::Greater,
                _ => Ordering::Equal,
            },
        },
    }
}

fn json_out(ctx: &Context<'_>, jsonb: bool) -> rusqlite::Result<Option<String>> {
    let Some(t) = text_arg(ctx, 0)? else {
        return Ok(None);
    };
    let text = if jsonb {
        crate::jsonb::canonical(&t)
    } else {
        pg_json_text(&t)
    };
    text.map(Some)
        .ok_or_else(|| user_error(format!("[22P02] invalid input syntax for type json: {t}")))
}

/// A plain decimal's text truncated to exactly `digits` (> 0) decimals (`7` is `7.0`
/// for one); `None` when it is not a plain decimal.
fn truncate_decimal(text: &str, digits: i64) -> Option<String> {
    let digits = usize::try_from(digits).ok()?.min(1000);
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let plain = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = int.strip_prefix('-').unwrap_or(int);
    if unsigned.is_empty() || !plain(unsigned) || !plain(frac) {
        return None;
    }
    let kept: String = frac.chars().take(digits).collect();
    let text = format!("{int}.{kept:0<digits$}");
    // `-0.0` stays negative zero's text in PostgreSQL only for floats: numeric is `0.0`.
    Some(match text.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_string(),
        _ => text,
    })
}

fn trunc(r: f64, digits: i64) -> f64 {
    let digits = i32::try_from(digits.clamp(-300, 300)).unwrap_or(0);
    let p = 10f64.powi(digits);
    (r * p).trunc() / p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_changes_every_letter_one_for_one() {
        assert_eq!(change_case("Ünïcode ß", true), "ÜNÏCODE ß");
        assert_eq!(change_case("ÜNÏCODE Abc", false), "ünïcode abc");
    }

    fn q(sql: &str) -> Option<String> {
        let conn = Connection::open_in_memory().unwrap();
        register_functions(&conn).unwrap();
        conn.query_row(sql, [], |r| r.get::<_, Option<String>>(0))
            .unwrap()
    }

    #[test]
    fn string_functions_answer_as_postgresql() {
        // Expected answers are PostgreSQL 15's (see also tests/functions_oracle.rs).
        assert_eq!(left("abc", 2), "ab");
        assert_eq!(left("abc", -1), "ab");
        assert_eq!(left("abc", -5), "");
        assert_eq!(right("abc", 2), "bc");
        assert_eq!(right("abc", -1), "bc");
        assert_eq!(right("héé", 1), "é");
        assert_eq!(
            initcap("hello wORLD foo-bar x1y"),
            "Hello World Foo-Bar X1y"
        );
        assert_eq!(pad("7", 3, "0", true), "007");
        assert_eq!(pad("a", 3, "-", false), "a--");
        assert_eq!(pad("abcd", 2, "x", true), "ab");
        assert_eq!(pad("a", 5, "xy", true), "xyxya");
        assert_eq!(split_part("a,b,c", ",", 2).unwrap(), "b");
        assert_eq!(split_part("a,b,c", ",", -1).unwrap(), "c");
        assert_eq!(split_part("a,b,c", ",", 4).unwrap(), "");
        assert!(split_part("a", ",", 0).unwrap_err().starts_with("[22023]"));
        assert_eq!(strpos("abc", "c"), 3);
        assert_eq!(strpos("héllo", "l"), 3);
        assert_eq!(strpos("abc", "x"), 0);
        assert_eq!(
            regexp_replace("foobarbaz", "b(..)", "X\\1Y", "").unwrap(),
            "fooXarYbaz"
        );
        assert_eq!(
            regexp_replace("foobarbaz", "b(..)", "X\\1Y", "g").unwrap(),
            "fooXarYXazY"
        );
        assert_eq!(regexp_replace("ABC", "b", "$", "i").unwrap(), "A$C");
        assert!(regexp_replace("a", "a", "b", "x").is_err());
    }

    #[test]
    fn functions_run_in_sqlite() {
        assert_eq!(
            q("SELECT md5('abc')").as_deref(),
            Some("900150983cd24fb0d6963f7d28e17f72")
        );
        assert_eq!(
            q("SELECT concat('a', NULL, 'b', 1)").as_deref(),
            Some("ab1")
        );
        assert_eq!(
            q("SELECT concat_ws('-', 'a', NULL, 'b')").as_deref(),
            Some("a-b")
        );
        assert_eq!(q("SELECT concat_ws(NULL, 'a')"), None);
        assert_eq!(q("SELECT btrim('  x  ')").as_deref(), Some("x"));
        assert_eq!(q("SELECT btrim('xxaxx', 'x')").as_deref(), Some("a"));
        assert_eq!(q("SELECT repeat('ab', 2)").as_deref(), Some("abab"));
        assert_eq!(q("SELECT repeat('ab', -1)").as_deref(), Some(""));
        assert_eq!(q("SELECT reverse('abc')").as_deref(), Some("cba"));
        assert_eq!(
            q("SELECT starts_with('abc', 'ab') || ''").as_deref(),
            Some("1")
        );
        assert_eq!(q("SELECT to_hex(255)").as_deref(), Some("ff"));
        assert_eq!(q("SELECT chr(65) || ascii('a')").as_deref(), Some("A97"));
        assert_eq!(q("SELECT trunc(2.7) || ''").as_deref(), Some("2.0"));
        assert_eq!(q("SELECT trunc(-2.77, 1)").as_deref(), Some("-2.7"));
        assert_eq!(q("SELECT trunc(7, 2)").as_deref(), Some("7.00"));
        assert_eq!(q("SELECT trunc('-0.05', 1)").as_deref(), Some("0.0"));
        assert_eq!(q("SELECT trunc(1234, -2) || ''").as_deref(), Some("1200"));
        assert_eq!(q("SELECT lpad('7', 3, '0')").as_deref(), Some("007"));
        assert_eq!(
            q("SELECT ceil(1.2) || ',' || floor(-1.2) || ',' || ceil(3) || ',' || mod(7, 3) || ',' || mod(-7, 3) || ',' || sqrt(16)")
                .as_deref(),
            Some("2.0,-2.0,3,1,-1,4.0")
        );
        assert_eq!(
            q("SELECT greatest(1, NULL, 5, 3) || ',' || least(NULL, 'b', 'a')").as_deref(),
            Some("5,a")
        );
        assert_eq!(q("SELECT greatest(NULL, NULL)"), None);
        let conn = Connection::open_in_memory().unwrap();
        register_functions(&conn).unwrap();
        for bad in [
            "SELECT to_hex(-1)",
            "SELECT chr(0)",
            "SELECT split_part('a', ',', 0)",
        ] {
            assert!(
                conn.query_row(bad, [], |r| r.get::<_, Value>(0)).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn similar_to_patterns_become_regular_expressions() {
        assert_eq!(similar_regex("A%", Some('\\')), "^(?:A.*)$");
        assert_eq!(
            similar_regex("a_.b|(c)*", Some('\\')),
            "^(?:a.\\.b|(?:c)*)$"
        );
        assert_eq!(similar_regex("100\\%", Some('\\')), "^(?:100%)$");
        assert_eq!(similar_regex("[%_]x", Some('\\')), "^(?:[%_]x)$");
    }

    #[test]
    fn json_is_written_as_postgresql_writes_it() {
        assert_eq!(
            pg_json_text(r#"{"b":"x","a":1}"#).as_deref(),
            Some(r#"{"b" : "x", "a" : 1}"#)
        );
        assert_eq!(
            pg_json_text(r#"[1,"a\"b"]"#).as_deref(),
            Some(r#"[1, "a\"b"]"#)
        );
        assert_eq!(pg_json_text("[1,"), None);
        let get = |j: &str, k: Value, t: bool, b: Option<bool>| json_get(j, &k, t, b);
        let doc = r#"{"a": 1, "b": [1,2], "s": "x\"y"}"#;
        assert_eq!(
            get(doc, Value::Text("b".into()), false, Some(true))
                .unwrap()
                .as_deref(),
            Some("[1, 2]")
        );
        assert_eq!(
            get(doc, Value::Text("b".into()), false, Some(false))
                .unwrap()
                .as_deref(),
            Some("[1,2]")
        );
        assert_eq!(
            get(doc, Value::Text("s".into()), true, None)
                .unwrap()
                .as_deref(),
            Some("x\"y")
        );
        assert_eq!(
            get(doc, Value::Text("s".into()), false, Some(true))
                .unwrap()
                .as_deref(),
            Some("\"x\\\"y\"")
        );
        assert_eq!(
            get(doc, Value::Text("z".into()), false, Some(true)).unwrap(),
            None
        );
        assert_eq!(
            get("[1,2,3]", Value::Integer(-1), true, None)
                .unwrap()
                .as_deref(),
            Some("3")
        );
        assert!(get(doc, Value::Text("b".into()), true, None).is_err());
        assert!(get("{", Value::Text("b".into()), true, None).is_err());
        assert_eq!(pg_json_text("{}").as_deref(), Some("{}"));
    }
}
