//! `jsonb`'s text as PostgreSQL writes it: PostgreSQL keeps a `jsonb` value decomposed
//! and prints it again, so `'{"b":1,"a" : [1,2]}'::jsonb` reads back as `{"a": [1, 2],
//! "b": 1}`: `": "` and `", "` between items, an object's keys ordered by length and
//! then bytewise, a repeated key's last value kept, numbers as `numeric` prints them
//! (`1e2` is `100`, `1.50` stays `1.50`), strings with only the escapes PostgreSQL
//! writes. SQLite keeps the text as it came, so the server writes every stored `jsonb`
//! value and every `jsonb` result in this form ([`canonical`]).
//!
//! The crate's one JSON parser is here too ([`parse`]): it keeps each value's text as
//! written, which `json` values (`json_build_object`'s output, `->` on json, in the
//! `functions` module) are written from, and the jsonb form is written from the same
//! parsed values.

/// Nesting deeper than this is refused (PostgreSQL's own limit is its stack depth).
const MAX_DEPTH: usize = 1000;

/// A JSON value read by [`parse`], with its text as written (`raw`).
pub(crate) struct Json<'a> {
    pub(crate) raw: &'a str,
    pub(crate) value: JsonValue<'a>,
}

/// What a JSON value is; a scalar's text is its `raw`.
pub(crate) enum JsonValue<'a> {
    Null,
    Bool,
    Number,
    /// A string (`raw` with its quotes and escapes; see [`unquote`]).
    String,
    Array(Vec<Json<'a>>),
    /// The members in order, each key as written (with its quotes).
    Object(Vec<(&'a str, Json<'a>)>),
}

/// `text` read as JSON, as strictly as PostgreSQL's json input reads it (RFC 8259:
/// the escapes, surrogate pairs and number forms checked, only space, tab, newline and
/// carriage return between tokens); `None` when it is not JSON. The one parser of the
/// crate: `jsonb` values are written from it ([`canonical`]), and so are `json` values
/// as written and the `->`/`->>` operators (`functions`).
pub(crate) fn parse(text: &str) -> Option<Json<'_>> {
    let mut p = Parser {
        text,
        s: text.as_bytes(),
        at: 0,
    };
    let json = p.value(0)?;
    p.space();
    (p.at == p.s.len()).then_some(json)
}

/// `text` in PostgreSQL's `jsonb` output form; `None` when it is not JSON (or holds
/// what jsonb refuses: `\u0000`, an exponent beyond 1000).
pub(crate) fn canonical(text: &str) -> Option<String> {
    canonical_of(&parse(text)?)
}

/// A parsed value in PostgreSQL's `jsonb` output form (see [`canonical`]).
pub(crate) fn canonical_of(json: &Json<'_>) -> Option<String> {
    let mut out = String::with_capacity(json.raw.len() + 8);
    write(json, &mut out)?;
    Some(out)
}

struct Parser<'a> {
    text: &'a str,
    s: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn space(&mut self) {
        while self
            .s
            .get(self.at)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.space();
        if self.s.get(self.at) == Some(&c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn word(&mut self, w: &str) -> bool {
        if self.s.get(self.at..self.at + w.len()) == Some(w.as_bytes()) {
            self.at += w.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Option<Json<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.space();
        let from = self.at;
        let value = match *self.s.get(self.at)? {
            b'{' => {
                self.at += 1;
                let mut members = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        self.space();
                        let key = self.string()?;
                        if !self.eat(b':') {
                            return None;
                        }
                        members.push((key, self.value(depth + 1)?));
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                JsonValue::Object(members)
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value(depth + 1)?);
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                JsonValue::Array(items)
            }
            b'"' => {
                self.string()?;
                JsonValue::String
            }
            b't' => self.word("true").then_some(JsonValue::Bool)?,
            b'f' => self.word("false").then_some(JsonValue::Bool)?,
            b'n' => self.word("null").then_some(JsonValue::Null)?,
            b'-' | b'0'..=b'9' => {
                self.number()?;
                JsonValue::Number
            }
            _ => return None,
        };
        Some(Json {
            raw: self.text.get(from..self.at)?,
            value,
        })
    }

    /// A string's text with its quotes, its escapes checked; the parser is at its
    /// opening quote.
    fn string(&mut self) -> Option<&'a str> {
        let from = self.at;
        if self.s.get(self.at) != Some(&b'"') {
            return None;
        }
        self.at += 1;
        loop {
            match *self.s.get(self.at)? {
                b'"' => {
                    self.at += 1;
                    return self.text.get(from..self.at);
                }
                b'\\' => {
                    let e = *self.s.get(self.at + 1)?;
                    self.at += 2;
                    match e {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            let code = self.hex4()?;
                            if (0xd800..0xdc00).contains(&code) {
                                // A high surrogate: its low one must follow.
                                if !self.word("\\u") {
                                    return None;
                                }
                                if !(0xdc00..0xe000).contains(&self.hex4()?) {
                                    return None;
                                }
                            } else if (0xdc00..0xe000).contains(&code) {
                                return None;
                            }
                        }
                        _ => return None,
                    }
                }
                // A control character unescaped: not JSON.
                c if c < 0x20 => return None,
                _ => self.at += 1,
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.text.get(self.at..self.at + 4)?;
        self.at += 4;
        hex4(h)
    }

    /// A number: `-`, integer digits (no leading zero), a fraction, an exponent.
    fn number(&mut self) -> Option<()> {
        let digits = |p: &mut Self| {
            let from = p.at;
            while p.s.get(p.at).is_some_and(u8::is_ascii_digit) {
                p.at += 1;
            }
            p.at - from
        };
        if self.s.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        let int_start = self.at;
        let n = digits(self);
        if n == 0 || (n > 1 && self.s.get(int_start) == Some(&b'0')) {
            return None;
        }
        if self.s.get(self.at) == Some(&b'.') {
            self.at += 1;
            if digits(self) == 0 {
                return None;
            }
        }
        if matches!(self.s.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.s.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if digits(self) == 0 {
                return None;
            }
        }
        Some(())
    }
}

/// Four hex digits' value.
fn hex4(h: &str) -> Option<u32> {
    if h.len() != 4 || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(h, 16).ok()
}

/// A string's value (its escapes read) from its text as [`parse`] read it; `None` for
/// `\u0000`, which PostgreSQL cannot hold in text or jsonb.
pub(crate) fn unquote(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(at) = rest.find('\\') {
        out.push_str(rest.get(..at)?);
        let escape = rest.get(at + 1..)?;
        let mut chars = escape.chars();
        let c = match chars.next()? {
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let hi = hex4(escape.get(1..5)?)?;
                rest = escape.get(5..)?;
                let code = if (0xd800..0xdc00).contains(&hi) {
                    let lo = hex4(rest.strip_prefix("\\u")?.get(..4)?)?;
                    rest = rest.get(6..)?;
                    0x10000 + ((hi - 0xd800) << 10) + lo.checked_sub(0xdc00)?
                } else {
                    hi
                };
                out.push(char::from_u32(code).filter(|c| *c != '\0')?);
                continue;
            }
            other => other,
        };
        out.push(c);
        rest = chars.as_str();
    }
    out.push_str(rest);
    Some(out)
}

/// A number as `numeric` prints it: no exponent, the fraction's digits kept; `None`
/// for an exponent beyond 1000. `raw` is a number as [`parse`] read it.
fn numeric_text(raw: &str) -> Option<String> {
    let (negative, unsigned) = match raw.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, raw),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(e) => (unsigned.get(..e)?, Some(unsigned.get(e + 1..)?)),
        None => (unsigned, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let exp: i64 = match exponent {
        None => 0,
        Some(e) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => (-1, d),
                None => (1, e.strip_prefix('+').unwrap_or(e)),
            };
            sign * digits.parse::<i64>().ok().filter(|e| *e <= 1000)?
        }
    };
    if exponent.is_none() {
        // `-0` is 0 in numeric.
        let zero = int.bytes().all(|c| c == b'0') && frac.bytes().all(|c| c == b'0');
        return Some(if negative && zero {
            raw.trim_start_matches('-').to_string()
        } else {
            raw.to_string()
        });
    }
    // Move the point: numeric keeps max(0, fraction digits - exponent) of scale.
    let all: String = format!("{int}{frac}");
    let point = i64::try_from(int.len()).ok()? + exp;
    let scale = (i64::try_from(frac.len()).ok()? - exp).max(0);
    let (whole, fraction) = if point <= 0 {
        (
            "0".to_string(),
            format!("{}{all}", "0".repeat(usize::try_from(-point).ok()?)),
        )
    } else {
        let p = usize::try_from(point).ok()?;
        if p >= all.len() {
            (format!("{all}{}", "0".repeat(p - all.len())), String::new())
        } else {
            (all.get(..p)?.to_string(), all.get(p..)?.to_string())
        }
    };
    let mut fraction = fraction;
    let scale = usize::try_from(scale).ok()?;
    if fraction.len() < scale {
        fraction.push_str(&"0".repeat(scale - fraction.len()));
    }
    fraction.truncate(scale);
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let zero = whole == "0" && fraction.bytes().all(|c| c == b'0');
    let sign = if negative && !zero { "-" } else { "" };
    Some(match fraction.is_empty() {
        true => format!("{sign}{whole}"),
        false => format!("{sign}{whole}.{fraction}"),
    })
}

/// Writes `json` as jsonb prints it: `": "` and `", "` between items, an object's keys
/// ordered by length and then bytewise, a repeated key's last value kept.
fn write(json: &Json<'_>, out: &mut String) -> Option<()> {
    match &json.value {
        JsonValue::Null | JsonValue::Bool => out.push_str(json.raw),
        JsonValue::Number => out.push_str(&numeric_text(json.raw)?),
        JsonValue::String => write_string(&unquote(json.raw)?, out),
        JsonValue::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(v, out)?;
            }
            out.push(']');
        }
        JsonValue::Object(members) => {
            let mut kept: Vec<(String, &Json<'_>)> = Vec::with_capacity(members.len());
            for (key, v) in members {
                let key = unquote(key)?;
                // A repeated key: the last value stays.
                kept.retain(|(k, _)| *k != key);
                kept.push((key, v));
            }
            kept.sort_by(|(a, _), (b, _)| {
                a.len()
                    .cmp(&b.len())
                    .then_with(|| a.as_bytes().cmp(b.as_bytes()))
            });
            out.push('{');
            for (i, (k, v)) in kept.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(k, out);
                out.push_str(": ");
                write(v, out)?;
            }
            out.push('}');
        }
    }
    Some(())
}

/// A string as PostgreSQL's `escape_json` writes it.
pub(crate) fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::canonical;

    /// Expected texts are PostgreSQL 15's `SELECT 'input'::jsonb` output.
    #[test]
    fn jsonb_text_is_postgresql_s() {
        for (input, want) in [
            (r#"{"a":1}"#, r#"{"a": 1}"#),
            (
                r#"{"bb":1,"a" : [1,2,{"y":null,"x":true}]}"#,
                r#"{"a": [1, 2, {"x": true, "y": null}], "bb": 1}"#,
            ),
            (r#"{"a":1,"a":2}"#, r#"{"a": 2}"#),
            (r#"{"aa":1,"b":2,"ab":3}"#, r#"{"b": 2, "aa": 1, "ab": 3}"#),
            (
                "[1e0, 1.50e0, -0e0, 0e5, 1e2, 1.50, -0, 1.5e-3, 2E+1, 0.10e1, 12e-1]",
                "[1, 1.50, 0, 0, 100, 1.50, 0, 0.0015, 20, 1.0, 1.2]",
            ),
            (r#""a\/b\u00e9\n""#, r#""a/bé\n""#),
            ("  [ ]  ", "[]"),
            ("{}", "{}"),
            ("\"\\u0001\"", "\"\\u0001\""),
            ("\"\\ud83d\\ude00\"", "\"😀\""),
        ] {
            assert_eq!(canonical(input).as_deref(), Some(want), "{input}");
        }
        for bad in [
            "",
            "{",
            "[1,]",
            "{'a':1}",
            "01",
            "1.",
            "tru",
            "\"\\u0000\"",
            "[1] x",
            "\"a\u{1}\"",
            "\"\\u+123\"",
            "\"\\udc00\"",
            "\"\\ud800x\"",
            "1e1001",
            "[1\u{c}]",
        ] {
            assert_eq!(canonical(bad), None, "{bad}");
        }
        // Deep nesting is refused rather than overflowing the stack.
        assert_eq!(canonical(&"[".repeat(100_000)), None);
    }
}
