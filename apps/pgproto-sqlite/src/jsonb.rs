//! `jsonb`'s text as PostgreSQL writes it: PostgreSQL keeps a `jsonb` value decomposed
//! and prints it again, so `'{"b":1,"a" : [1,2]}'::jsonb` reads back as `{"a": [1, 2],
//! "b": 1}`: `": "` and `", "` between items, an object's keys ordered by length and
//! then bytewise, a repeated key's last value kept, numbers as `numeric` prints them
//! (`1e2` is `100`, `1.50` stays `1.50`), strings with only the escapes PostgreSQL
//! writes. SQLite keeps the text as it came, so the server writes every stored `jsonb`
//! value and every `jsonb` result in this form ([`canonical`]).

/// Nesting deeper than this is refused (PostgreSQL's own limit is its stack depth).
const MAX_DEPTH: usize = 1000;

/// One parsed JSON value.
enum Node {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Self>),
    Object(Vec<(String, Self)>),
}

/// `text` in PostgreSQL's `jsonb` output form; `None` when it is not JSON.
pub(crate) fn canonical(text: &str) -> Option<String> {
    let mut p = Parser {
        s: text.as_bytes(),
        at: 0,
    };
    let node = p.value(0)?;
    p.space();
    if p.at != p.s.len() {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 8);
    write(&node, &mut out);
    Some(out)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
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

    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.space();
        match *self.s.get(self.at)? {
            b'{' => {
                self.at += 1;
                let mut items: Vec<(String, Node)> = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        self.space();
                        if self.s.get(self.at) != Some(&b'"') {
                            return None;
                        }
                        let key = self.string()?;
                        if !self.eat(b':') {
                            return None;
                        }
                        let v = self.value(depth + 1)?;
                        // A repeated key: the last value stays.
                        items.retain(|(k, _)| *k != key);
                        items.push((key, v));
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                items.sort_by(|(a, _), (b, _)| {
                    a.len()
                        .cmp(&b.len())
                        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
                });
                Some(Node::Object(items))
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
                Some(Node::Array(items))
            }
            b'"' => self.string().map(Node::String),
            b't' => self.word("true").then_some(Node::Bool(true)),
            b'f' => self.word("false").then_some(Node::Bool(false)),
            b'n' => self.word("null").then_some(Node::Null),
            b'-' | b'0'..=b'9' => self.number().map(Node::Number),
            _ => None,
        }
    }

    /// A string's value (escapes read); the parser is at its opening quote.
    fn string(&mut self) -> Option<String> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let rest = self.s.get(self.at..)?;
            let stop = rest
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
            out.push_str(std::str::from_utf8(rest.get(..stop)?).ok()?);
            self.at += stop;
            match *self.s.get(self.at)? {
                b'"' => {
                    self.at += 1;
                    return Some(out);
                }
                b'\\' => {
                    let e = *self.s.get(self.at + 1)?;
                    self.at += 2;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = if (0xd800..0xdc00).contains(&hi) {
                                if !(self.word("\\u")) {
                                    return None;
                                }
                                let lo = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return None;
                                }
                                char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))?
                            } else {
                                // PostgreSQL's jsonb refuses \u0000 (22P05).
                                char::from_u32(hi).filter(|c| *c != '\0')?
                            };
                            out.push(c);
                        }
                        _ => return None,
                    }
                }
                // A control character unescaped: not JSON.
                _ => return None,
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = std::str::from_utf8(self.s.get(self.at..self.at + 4)?).ok()?;
        self.at += 4;
        u32::from_str_radix(h, 16).ok()
    }

    /// A number as `numeric` prints it: no exponent, the fraction's digits kept.
    fn number(&mut self) -> Option<String> {
        let start = self.at;
        let digits = |p: &mut Self| {
            let from = p.at;
            while p.s.get(p.at).is_some_and(u8::is_ascii_digit) {
                p.at += 1;
            }
            p.at - from
        };
        let negative = self.s.get(self.at) == Some(&b'-');
        if negative {
            self.at += 1;
        }
        let int_start = self.at;
        let n = digits(self);
        if n == 0 || (n > 1 && self.s.get(int_start) == Some(&b'0')) {
            return None;
        }
        let int = std::str::from_utf8(self.s.get(int_start..self.at)?).ok()?;
        let mut frac = "";
        if self.s.get(self.at) == Some(&b'.') {
            self.at += 1;
            let f = self.at;
            if digits(self) == 0 {
                return None;
            }
            frac = std::str::from_utf8(self.s.get(f..self.at)?).ok()?;
        }
        let mut exp: i64 = 0;
        if matches!(self.s.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            let sign = match self.s.get(self.at) {
                Some(b'-') => {
                    self.at += 1;
                    -1
                }
                Some(b'+') => {
                    self.at += 1;
                    1
                }
                _ => 1,
            };
            let e = self.at;
            if digits(self) == 0 {
                return None;
            }
            let text = std::str::from_utf8(self.s.get(e..self.at)?).ok()?;
            exp = sign * text.parse::<i64>().ok().filter(|e| *e <= 1000)?;
        }
        if exp == 0 {
            let text = std::str::from_utf8(self.s.get(start..self.at)?).ok()?;
            // `-0` is 0 in numeric.
            let zero = int.bytes().all(|c| c == b'0') && frac.bytes().all(|c| c == b'0');
            return Some(if negative && zero {
                text.trim_start_matches('-').to_string()
            } else {
                text.to_string()
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
}

fn write(node: &Node, out: &mut String) {
    match node {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Number(n) => out.push_str(n),
        Node::String(s) => write_string(s, out),
        Node::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(v, out);
            }
            out.push(']');
        }
        Node::Object(items) => {
            out.push('{');
            for (i, (k, v)) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(k, out);
                out.push_str(": ");
                write(v, out);
            }
            out.push('}');
        }
    }
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
                "[1e2, 1.50, -0, 1.5e-3, 2E+1, 0.10e1, 12e-1]",
                "[100, 1.50, 0, 0.0015, 20, 1.0, 1.2]",
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
        ] {
            assert_eq!(canonical(bad), None, "{bad}");
        }
        // Deep nesting is refused rather than overflowing the stack.
        assert_eq!(canonical(&"[".repeat(100_000)), None);
    }
}
