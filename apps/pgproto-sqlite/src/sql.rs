//! SQL text handling without a real parser: a tokenizer that knows SQLite's quoting and
//! comments, statement splitting, the PostgreSQL-to-SQLite rewrites (`x::type` casts,
//! `current_user`), statement classification and the heuristics that type parameters and
//! expression columns.

/// One token, with its byte range in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tok {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An unquoted word (keyword or identifier).
    Word,
    /// A quoted identifier (`"x"`, `[x]`, `` `x` ``).
    Quoted,
    /// A string literal.
    Str,
    /// A number literal (`is_int`: no fraction or exponent).
    Num { is_int: bool },
    /// `$n` or `?n` (n >= 1); plain `?` is `Param(0)`.
    Param(usize),
    /// Punctuation or an operator (`;`, `(`, `::`, `<=`...).
    Punct,
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Tokenizes `sql`, skipping whitespace and comments. Never fails: an unterminated string
/// or comment runs to the end (SQLite reports the error when it prepares the text).
pub(crate) fn tokenize(sql: &str) -> Vec<Tok> {
    let b = sql.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = at(i);
        let start = i;
        let kind = match c {
            _ if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'-' if at(i + 1) == b'-' => {
                while i < b.len() && at(i) != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if at(i + 1) == b'*' => {
                i += 2;
                while i < b.len() && !(at(i) == b'*' && at(i + 1) == b'/') {
                    i += 1;
                }
                i = (i + 2).min(b.len());
                continue;
            }
            b'\'' | b'"' | b'`' | b'[' => {
                let close = if c == b'[' { b']' } else { c };
                i += 1;
                loop {
                    if i >= b.len() {
                        break;
                    }
                    if at(i) == close {
                        // A doubled quote is an escaped quote.
                        if close != b']' && at(i + 1) == close {
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                if c == b'\'' {
                    Kind::Str
                } else {
                    Kind::Quoted
                }
            }
            b'$' if dollar_quote_end(sql, i).is_some() => {
                i = dollar_quote_end(sql, i).unwrap_or(b.len());
                Kind::Str
            }
            b'$' | b'?' if at(i + 1).is_ascii_digit() || c == b'?' => {
                i += 1;
                let digits = i;
                while at(i).is_ascii_digit() {
                    i += 1;
                }
                let n = sql
                    .get(digits..i)
                    .and_then(|d| d.parse::<usize>().ok())
                    .unwrap_or(0);
                Kind::Param(n)
            }
            b'0'..=b'9' | b'.' if c != b'.' || at(i + 1).is_ascii_digit() => {
                let mut is_int = true;
                if c == b'0' && matches!(at(i + 1), b'x' | b'X') {
                    i += 2;
                    while at(i).is_ascii_hexdigit() {
                        i += 1;
                    }
                } else {
                    while at(i).is_ascii_digit() {
                        i += 1;
                    }
                    if at(i) == b'.' {
                        is_int = false;
                        i += 1;
                        while at(i).is_ascii_digit() {
                            i += 1;
                        }
                    }
                    if matches!(at(i), b'e' | b'E')
                        && (at(i + 1).is_ascii_digit()
                            || (matches!(at(i + 1), b'+' | b'-') && at(i + 2).is_ascii_digit()))
                    {
                        is_int = false;
                        i += 2;
                        while at(i).is_ascii_digit() {
                            i += 1;
                        }
                    }
                }
                Kind::Num { is_int }
            }
            b'e' | b'E' if at(i + 1) == b'\'' => {
                // An escape string, E'...': backslash escapes, and doubled quotes.
                i += 2;
                while i < b.len() {
                    match at(i) {
                        b'\\' => i += 2,
                        b'\'' if at(i + 1) == b'\'' => i += 2,
                        b'\'' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
                i = i.min(b.len());
                while !sql.is_char_boundary(i) {
                    i += 1;
                }
                Kind::Str
            }
            _ if is_ident_byte(c) => {
                while i < b.len() && is_ident_byte(at(i)) {
                    i += 1;
                }
                Kind::Word
            }
            _ => {
                let two = [c, at(i + 1)];
                i += match &two {
                    b"::" | b"<=" | b">=" | b"<>" | b"!=" | b"==" | b"||" | b"<<" | b">>" => 2,
                    _ => 1,
                };
                // Stay on a character boundary for non-ASCII punctuation.
                while !sql.is_char_boundary(i) {
                    i += 1;
                }
                Kind::Punct
            }
        };
        out.push(Tok {
            kind,
            start,
            end: i.min(b.len()),
        });
    }
    out
}

/// Where the PostgreSQL dollar-quoted string (`$$...$$`, `$tag$...$tag$`) starting at
/// `start` ends (the end of the text if unterminated); `None` if none starts there.
fn dollar_quote_end(sql: &str, start: usize) -> Option<usize> {
    let b = sql.as_bytes();
    let mut j = start + 1;
    if b.get(j).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    while b
        .get(j)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        j += 1;
    }
    if b.get(j) != Some(&b'$') {
        return None;
    }
    let tag = sql.get(start..=j)?;
    let body = j + 1;
    Some(match sql.get(body..).and_then(|rest| rest.find(tag)) {
        Some(p) => body + p + tag.len(),
        None => b.len(),
    })
}

impl Tok {
    pub(crate) fn text<'a>(&self, sql: &'a str) -> &'a str {
        sql.get(self.start..self.end).unwrap_or("")
    }

    /// Whether this is the (case-insensitive) keyword `kw`.
    pub(crate) fn is(&self, sql: &str, kw: &str) -> bool {
        self.kind == Kind::Word && self.text(sql).eq_ignore_ascii_case(kw)
    }

    pub(crate) fn is_punct(&self, sql: &str, p: &str) -> bool {
        self.kind == Kind::Punct && self.text(sql) == p
    }

    /// An identifier's name, unquoted.
    pub(crate) fn ident(&self, sql: &str) -> Option<String> {
        let t = self.text(sql);
        match self.kind {
            Kind::Word => Some(t.to_string()),
            Kind::Quoted => Some(
                t.get(1..t.len().saturating_sub(1))
                    .unwrap_or("")
                    .replace("\"\"", "\""),
            ),
            _ => None,
        }
    }
}

/// Splits a query string into statements (without their `;`), dropping empty ones. A
/// `CREATE TRIGGER` body's semicolons do not split: there, only `END;` ends the statement
/// (the rule of SQLite's `sqlite3_complete`).
pub(crate) fn split(sql: &str) -> Vec<&str> {
    let toks = tokenize(sql);
    let mut out = Vec::new();
    let mut first: Option<usize> = None;
    for (i, t) in toks.iter().enumerate() {
        if t.is_punct(sql, ";") {
            let Some(f) = first else { continue };
            let in_trigger = is_trigger(sql, toks.get(f..i).unwrap_or(&[]));
            let after_end = i > 0 && toks.get(i - 1).is_some_and(|p| p.is(sql, "END"));
            if in_trigger && !after_end {
                continue;
            }
            if let (Some(s), Some(e)) = (toks.get(f), toks.get(i - 1)) {
                out.push(sql.get(s.start..e.end).unwrap_or(""));
            }
            first = None;
        } else if first.is_none() {
            first = Some(i);
        }
    }
    if let (Some(f), Some(last)) = (first, toks.last()) {
        if let Some(s) = toks.get(f) {
            out.push(sql.get(s.start..last.end).unwrap_or(""));
        }
    }
    out
}

fn is_trigger(sql: &str, toks: &[Tok]) -> bool {
    let mut it = toks.iter();
    if !it.next().is_some_and(|t| t.is(sql, "CREATE")) {
        return false;
    }
    for t in it.take(2) {
        if t.is(sql, "TRIGGER") {
            return true;
        }
        if !(t.is(sql, "TEMP") || t.is(sql, "TEMPORARY")) {
            return false;
        }
    }
    false
}

/// A statement this server refuses rather than answer wrongly: the message of a
/// `0A000 feature_not_supported` error, naming what is unsupported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unsupported(pub(crate) String);

/// The base name of a PostgreSQL type name, lower case, without modifiers or `[]`, with
/// single spaces (`timestamp with time zone`).
pub(crate) fn type_base(pg: &str) -> String {
    let lower = pg.to_ascii_lowercase();
    let base = lower.split(['(', '[']).next().unwrap_or("");
    base.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Date and time types, whose values SQLite stores as text: arithmetic on them would
/// be done on the text's leading number (`'2024-01-01' + 1` is 2025).
fn is_datetime_type(base: &str) -> bool {
    matches!(
        base,
        "date"
            | "time"
            | "timetz"
            | "timestamp"
            | "timestamptz"
            | "interval"
            | "time with time zone"
            | "time without time zone"
            | "timestamp with time zone"
            | "timestamp without time zone"
    )
}

/// Object identifier alias types: they need `pg_catalog`, which this server lacks.
fn is_reg_type(base: &str) -> bool {
    base.starts_with("reg")
        && matches!(
            base,
            "regclass"
                | "regtype"
                | "regproc"
                | "regprocedure"
                | "regoper"
                | "regoperator"
                | "regnamespace"
                | "regrole"
                | "regconfig"
                | "regdictionary"
                | "regcollation"
        )
}

/// The SQLite type to cast to for a PostgreSQL type name, keeping the PostgreSQL name
/// where SQLite's affinity rules already read it right (so that the column it produces
/// is described with the type the client asked for). Date, time, uuid and jsonb types
/// keep their name here: [`fix_casts`] checks and replaces them.
fn sqlite_cast_type(pg: &str) -> String {
    let base = type_base(pg);
    match base.as_str() {
        "bytea" => "BLOB".to_string(),
        _ if is_datetime_type(&base) || is_reg_type(&base) || base == "uuid" || base == "jsonb" => {
            pg.to_string()
        }
        // Text affinity, described as json (see `types::oid_for_decl`).
        "json" => "JSON_TEXT".to_string(),
        "name" | "inet" | "cidr" | "macaddr" | "xml" => "TEXT".to_string(),
        "int" | "int2" | "int4" | "int8" | "integer" | "bigint" | "smallint" | "oid" => {
            if base == "oid" {
                "INT8".to_string()
            } else {
                base.to_ascii_uppercase()
            }
        }
        _ => pg.to_string(),
    }
}

const ARITHMETIC_OPS: &[&str] = &["+", "-", "*", "/", "%"];

/// Checks every `CAST(x AS type)`: casts to `regclass` and its kin are refused, and so is
/// arithmetic on a cast to a date or time type; date and time casts become casts to
/// TEXT (SQLite's `CAST('2024-01-01' AS DATE)` would be the number 2024). A cast to
/// `bool` reads its operand with `pg_bool_in` (PostgreSQL's `boolin`: `'yes'` is true,
/// `'abc'` fails with 22P02, where SQLite's cast would make any text a number), and a
/// cast to an integer type or `numeric` with `pg_number_in` (see
/// [`crate::arith::number_in`]: 22P02 for text that is no such number, 22003 out of
/// range).
fn fix_casts(sql: &str) -> Result<String, Unsupported> {
    let toks = tokenize(sql);
    let mut replace: Vec<(usize, usize, &str)> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if !t.is(sql, "CAST") || !toks.get(i + 1).is_some_and(|n| n.is_punct(sql, "(")) {
            continue;
        }
        let Some(close) = matching_close(sql, &toks, i + 1) else {
            continue;
        };
        let mut depth = 0i32;
        let Some(as_at) = (i + 1..close).find(|&j| {
            let Some(tj) = toks.get(j) else { return false };
            if tj.is_punct(sql, "(") {
                depth += 1;
            } else if tj.is_punct(sql, ")") {
                depth -= 1;
            }
            depth == 1 && tj.is(sql, "AS")
        }) else {
            continue;
        };
        let (Some(ty_first), Some(ty_last)) = (toks.get(as_at + 1), toks.get(close - 1)) else {
            continue;
        };
        if as_at + 1 >= close {
            continue;
        }
        let ty = sql.get(ty_first.start..ty_last.end).unwrap_or("");
        let base = type_base(ty);
        if is_reg_type(&base) {
            return Err(Unsupported(format!(
                "type {base} is not supported (there is no pg_catalog)"
            )));
        }
        if base == "bool" || base == "boolean" {
            if let (Some(open), Some(operand_end)) = (toks.get(i + 1), toks.get(as_at - 1)) {
                replace.push((open.end, open.end, "pg_bool_in("));
                replace.push((operand_end.end, operand_end.end, ")"));
            }
            continue;
        }
        let integer = match base.as_str() {
            "int2" | "smallint" => Some(", 'smallint')"),
            "int" | "int4" | "integer" => Some(", 'integer')"),
            "int8" | "bigint" => Some(", 'bigint')"),
            "numeric" | "decimal" => Some(", 'numeric')"),
            _ => None,
        };
        if let Some(close_call) = integer {
            if let (Some(open), Some(operand_end)) = (toks.get(i + 1), toks.get(as_at - 1)) {
                replace.push((open.end, open.end, "pg_number_in("));
                replace.push((operand_end.end, operand_end.end, close_call));
            }
            continue;
        }
        if base == "uuid" || base == "jsonb" {
            if let (Some(open), Some(operand_end)) = (toks.get(i + 1), toks.get(as_at - 1)) {
                replace.push((open.end, open.end, "pg_cast_in("));
                let call = if base == "uuid" {
                    ", 'uuid')"
                } else {
                    ", 'jsonb')"
                };
                replace.push((operand_end.end, operand_end.end, call));
                // Text affinity; JSONB_TEXT is described (and named) jsonb.
                let ty = if base == "uuid" { "TEXT" } else { "JSONB_TEXT" };
                replace.push((ty_first.start, ty_last.end, ty));
            }
            continue;
        }
        if !is_datetime_type(&base) {
            continue;
        }
        let is_op = |j: Option<usize>| {
            j.and_then(|j| toks.get(j))
                .is_some_and(|o| o.kind == Kind::Punct && ARITHMETIC_OPS.contains(&o.text(sql)))
        };
        if is_op(i.checked_sub(1)) || is_op(Some(close + 1)) {
            return Err(Unsupported(format!(
                "arithmetic on {base} values is not supported"
            )));
        }
        // The value as PostgreSQL's input function reads it (an error for one it
        // refuses), in the form values of that type are stored in.
        let call = match base.as_str() {
            "date" => Some(", 'date')"),
            "time" | "time without time zone" => Some(", 'time')"),
            "timestamp" | "timestamp without time zone" => Some(", 'timestamp')"),
            "timestamptz" | "timestamp with time zone" => Some(", 'timestamptz')"),
            "interval" => Some(", 'interval')"),
            _ => None,
        };
        if let (Some(call), Some(open), Some(operand_end)) =
            (call, toks.get(i + 1), toks.get(as_at - 1))
        {
            replace.push((open.end, open.end, "pg_cast_in("));
            replace.push((operand_end.end, operand_end.end, call));
        }
        replace.push((ty_first.start, ty_last.end, "TEXT"));
    }
    replace.sort_unstable();
    let mut out = String::with_capacity(sql.len());
    let mut last = 0;
    for (start, end, with) in replace {
        out.push_str(sql.get(last..start).unwrap_or(""));
        out.push_str(with);
        last = end;
    }
    out.push_str(sql.get(last..).unwrap_or(""));
    Ok(out)
}

/// Refuses arithmetic next to a column declared with a date or time type (SQLite would
/// compute on the stored text's leading number: a `date` column's `'2024-01-01' + 1` is
/// 2025). `columns_of` is only asked when an operator touches a column reference.
pub(crate) fn check_datetime_arithmetic(
    sql: &str,
    columns_of: impl FnMut(&str) -> Vec<(String, String)>,
) -> Result<(), Unsupported> {
    let toks = tokenize(sql);
    let mut refs = Vec::new();
    // `now()`, `current_timestamp`...: SQLite's values for them are text too.
    let clock = [
        "current_timestamp",
        "current_date",
        "current_time",
        "localtimestamp",
        "localtime",
    ];
    let is_clock = |j: usize| {
        toks.get(j).is_some_and(|t| {
            clock.iter().any(|c| t.is(sql, c))
                || (t.is(sql, "now") && toks.get(j + 1).is_some_and(|n| n.is_punct(sql, "(")))
        })
    };
    for (i, t) in toks.iter().enumerate() {
        if t.kind != Kind::Punct || !ARITHMETIC_OPS.contains(&t.text(sql)) {
            continue;
        }
        let before = i.checked_sub(1).and_then(|p| {
            if toks.get(p)?.is_punct(sql, ")") {
                matching_open(sql, &toks, p)?.checked_sub(1)
            } else {
                Some(p)
            }
        });
        if before.is_some_and(is_clock) || is_clock(i + 1) {
            return Err(Unsupported(
                "arithmetic on the current date or time is not supported".to_string(),
            ));
        }
        if let Some(r) = i
            .checked_sub(1)
            .and_then(|p| column_ref_before(sql, &toks, p))
        {
            refs.push(r);
        }
        if let Some(r) = column_ref_after(sql, &toks, i + 1) {
            refs.push(r);
        }
    }
    if refs.is_empty() {
        return Ok(());
    }
    let columns = referenced_columns(sql, columns_of);
    for r in refs {
        let Some(ty) = lookup(&columns, &r) else {
            continue;
        };
        let base = type_base(ty);
        if is_datetime_type(&base) {
            return Err(Unsupported(format!(
                "arithmetic on {base} values is not supported"
            )));
        }
    }
    Ok(())
}

/// One item of a row of `INSERT ... VALUES`: where it stands in its row, and its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValuesItem {
    /// Its position in its row (0 for the first), i.e. its target column's.
    pub(crate) column: usize,
    /// Its token indices (empty for the lone item of an empty row `()`).
    pub(crate) tokens: std::ops::Range<usize>,
}

impl ValuesItem {
    /// Whether the item is the keyword `DEFAULT` alone.
    pub(crate) fn is_default(&self, sql: &str, toks: &[Tok]) -> bool {
        self.tokens.len() == 1
            && toks
                .get(self.tokens.start)
                .is_some_and(|t| t.is(sql, "DEFAULT"))
    }
}

/// The items of the rows `(...), (...)` after `VALUES`, row by row, split at the commas
/// outside parentheses. The rows end at the first token that does not continue them; a
/// row without its `)` ends them too, with [`ValuesItems::unclosed`] set.
pub(crate) struct ValuesItems<'a> {
    sql: &'a str,
    toks: &'a [Tok],
    /// Where the next row's `(` should be; `None` after the last row.
    next_row: Option<usize>,
    /// The rest of the current row.
    row: std::vec::IntoIter<ValuesItem>,
    /// A row had no matching `)`.
    pub(crate) unclosed: bool,
}

impl<'a> ValuesItems<'a> {
    /// The items of the rows starting at token `first` (the first row's `(`).
    pub(crate) fn new(sql: &'a str, toks: &'a [Tok], first: usize) -> Self {
        ValuesItems {
            sql,
            toks,
            next_row: Some(first),
            row: Vec::new().into_iter(),
            unclosed: false,
        }
    }
}

impl Iterator for ValuesItems<'_> {
    type Item = ValuesItem;

    fn next(&mut self) -> Option<ValuesItem> {
        let (sql, toks) = (self.sql, self.toks);
        loop {
            if let Some(item) = self.row.next() {
                return Some(item);
            }
            let open = self.next_row.take()?;
            if !toks.get(open)?.is_punct(sql, "(") {
                return None;
            }
            let Some(close) = matching_close(sql, toks, open) else {
                self.unclosed = true;
                return None;
            };
            let row: Vec<ValuesItem> = list_items(sql, toks, open, close)
                .into_iter()
                .enumerate()
                .map(|(column, tokens)| ValuesItem { column, tokens })
                .collect();
            self.row = row.into_iter();
            self.next_row = toks
                .get(close + 1)
                .is_some_and(|t| t.is_punct(sql, ","))
                .then_some(close + 2);
        }
    }
}

/// `INSERT ... VALUES (..., DEFAULT, ...)` with each `DEFAULT` item (which SQLite lacks)
/// replaced by its column's default expression, or `NULL` for a column without one, as
/// PostgreSQL computes it. `defaults_of` gives a table's columns in order, with their
/// default expression (SQLite's text). `None` when there is nothing to replace.
pub(crate) fn insert_defaults(
    sql: &str,
    defaults_of: impl FnOnce(&str) -> Vec<(String, Option<String>)>,
) -> Option<String> {
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    if !(w(0, "INSERT") && w(1, "INTO") && toks.iter().any(|t| t.is(sql, "DEFAULT"))) {
        return None;
    }
    let (table, mut i) = crate::ddl::name_at(sql, &toks, 2)?;
    if w(i, "AS") {
        i += 2;
    }
    let mut listed = None;
    if toks.get(i)?.is_punct(sql, "(") {
        let close = matching_close(sql, &toks, i)?;
        let names: Option<Vec<String>> = toks
            .get(i + 1..close)?
            .iter()
            .filter(|t| !t.is_punct(sql, ","))
            .map(|t| t.ident(sql).or_else(|| Some(t.text(sql).to_string())))
            .collect();
        listed = Some(names?);
        i = close + 1;
    }
    if !w(i, "VALUES") {
        return None;
    }
    let mut items = ValuesItems::new(sql, &toks, i + 1);
    let replace: Vec<ValuesItem> = items
        .by_ref()
        .filter(|item| item.is_default(sql, &toks))
        .collect();
    if items.unclosed {
        return None;
    }
    if replace.is_empty() {
        return None;
    }
    let columns = defaults_of(&table);
    let names: Vec<String> =
        listed.unwrap_or_else(|| columns.iter().map(|c| c.0.clone()).collect());
    let mut out = String::with_capacity(sql.len() + 32);
    let mut at = 0;
    for item in replace {
        let t = toks.get(item.tokens.start)?;
        let name = names.get(item.column)?;
        let default = columns
            .iter()
            .find(|c| c.0.eq_ignore_ascii_case(name))?
            .1
            .as_deref()
            .map_or_else(|| "NULL".to_string(), |d| format!("({d})"));
        out.push_str(sql.get(at..t.start)?);
        out.push_str(&default);
        at = t.end;
    }
    out.push_str(sql.get(at..)?);
    Some(out)
}

/// The body of an `E'...'` string (without its quotes) with its escapes resolved:
/// `\b \f \n \r \t`, octal `\o`..`\ooo`, hex `\xh`/`\xhh`, `\uXXXX`, `\UXXXXXXXX`,
/// any other character after a backslash as itself, `''` as `'`.
fn unescape(body: &str) -> Result<String, Unsupported> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    let bad = || Unsupported("this escape in an E'...' string is not supported".to_string());
    while let Some(c) = chars.next() {
        if c == '\'' {
            chars.next_if_eq(&'\'');
            out.push('\'');
            continue;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else { break };
        let number = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
                      radix: u32,
                      first: Option<char>,
                      max: usize| {
            let mut digits: String = first.into_iter().collect();
            while digits.len() < max {
                match chars.next_if(|d| d.is_digit(radix)) {
                    Some(d) => digits.push(d),
                    None => break,
                }
            }
            u32::from_str_radix(&digits, radix)
                .ok()
                .filter(|&n| n != 0)
                .and_then(char::from_u32)
        };
        match e {
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            '0'..='7' => out.push(number(&mut chars, 8, Some(e), 3).ok_or_else(bad)?),
            'x' if chars.peek().is_some_and(char::is_ascii_hexdigit) => {
                out.push(number(&mut chars, 16, None, 2).ok_or_else(bad)?);
            }
            'u' => out.push(number(&mut chars, 16, None, 4).ok_or_else(bad)?),
            'U' => out.push(number(&mut chars, 16, None, 8).ok_or_else(bad)?),
            other => out.push(other),
        }
    }
    Ok(out)
}

/// `DEFAULT f(...)` becomes `DEFAULT (f(...))`: SQLite takes an expression default only
/// in parentheses (`DEFAULT now()`, `DEFAULT gen_random_uuid()`).
fn wrap_defaults(sql: &str) -> String {
    let toks = tokenize(sql);
    let mut out = String::with_capacity(sql.len() + 8);
    let mut last = 0;
    for (i, t) in toks.iter().enumerate() {
        if !t.is(sql, "DEFAULT") {
            continue;
        }
        let (Some(f), Some(open)) = (toks.get(i + 1), toks.get(i + 2)) else {
            continue;
        };
        if f.kind != Kind::Word || !open.is_punct(sql, "(") || f.start < last {
            continue;
        }
        let Some(close) = matching_close(sql, &toks, i + 2).and_then(|c| toks.get(c)) else {
            continue;
        };
        out.push_str(sql.get(last..f.start).unwrap_or(""));
        out.push('(');
        out.push_str(sql.get(f.start..close.end).unwrap_or(""));
        out.push(')');
        last = close.end;
    }
    out.push_str(sql.get(last..).unwrap_or(""));
    out
}

/// PostgreSQL's `LIKE` (`ci`: `ILIKE`): `%` any run of characters, `_` one character,
/// `escape` (by default `\`) makes the next character literal; case-sensitive unless
/// `ci`. An error if the pattern ends with the escape character.
pub(crate) fn like(
    pattern: &str,
    value: &str,
    escape: Option<char>,
    ci: bool,
) -> Result<bool, String> {
    #[derive(Clone, Copy, PartialEq)]
    enum P {
        Any,
        One,
        Lit(char),
    }
    let fold = |s: &str| if ci { s.to_lowercase() } else { s.to_string() };
    let (pattern, value) = (fold(pattern), fold(value));
    let mut pat = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        pat.push(if Some(c) == escape {
            P::Lit(
                it.next()
                    .ok_or_else(|| "LIKE pattern must not end with escape character".to_string())?,
            )
        } else if c == '%' {
            P::Any
        } else if c == '_' {
            P::One
        } else {
            P::Lit(c)
        });
    }
    let v: Vec<char> = value.chars().collect();
    // Iterative matching, backtracking to the last `%`.
    let (mut p, mut s) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while s < v.len() {
        match pat.get(p) {
            Some(P::Any) => {
                star = Some((p, s));
                p += 1;
            }
            Some(P::One) => {
                p += 1;
                s += 1;
            }
            Some(P::Lit(c)) if v.get(s) == Some(c) => {
                p += 1;
                s += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    p = sp + 1;
                    s = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return Ok(false),
            },
        }
    }
    Ok(pat.get(p..).unwrap_or(&[]).iter().all(|x| *x == P::Any))
}

/// PostgreSQL's serial types.
fn is_serial(word: &str) -> bool {
    [
        "serial",
        "serial4",
        "bigserial",
        "serial8",
        "smallserial",
        "serial2",
    ]
    .iter()
    .any(|s| word.eq_ignore_ascii_case(s))
}

/// `CREATE TABLE` as PostgreSQL means it: a serial primary key becomes SQLite's
/// `INTEGER PRIMARY KEY` (the rowid, so inserts without it get increasing ids);
/// a serial column that is not the table's primary key, or `ALTER TABLE ... ADD` of
/// one, is refused. Other primary key columns get `NOT NULL` (and an `integer` key is
/// declared `INT`, so it is not the rowid): SQLite lets such a key hold NULLs or fills
/// it in, PostgreSQL fails with 23502.
fn rewrite_serial(sql: &str) -> Result<Option<String>, Unsupported> {
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    if w(0, "ALTER") {
        if toks
            .iter()
            .any(|t| t.kind == Kind::Word && is_serial(t.text(sql)))
        {
            return Err(Unsupported(
                "adding a serial column with ALTER TABLE is not supported".to_string(),
            ));
        }
        return Ok(None);
    }
    if !w(0, "CREATE") {
        return Ok(None);
    }
    let mut i = 1;
    while w(i, "TEMP") || w(i, "TEMPORARY") || w(i, "UNLOGGED") {
        i += 1;
    }
    if !w(i, "TABLE") {
        return Ok(None);
    }
    let Some(open) = (i..toks.len()).find(|&j| toks.get(j).is_some_and(|t| t.is_punct(sql, "(")))
    else {
        return Ok(None);
    };
    let Some(close) = matching_close(sql, &toks, open) else {
        return Ok(None);
    };
    // The table's name as PostgreSQL reads it (for its sequences' names).
    let table = open
        .checked_sub(1)
        .and_then(|j| toks.get(j))
        .map(|t| match t.kind {
            Kind::Word => t.text(sql).to_ascii_lowercase(),
            _ => t.ident(sql).unwrap_or_default(),
        })
        .unwrap_or_default();
    // The items between the parentheses, split on commas at depth 1.
    let mut items: Vec<&[Tok]> = Vec::new();
    let mut depth = 0i32;
    let mut start = open + 1;
    for j in open + 1..close {
        let Some(t) = toks.get(j) else { break };
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth -= 1;
        } else if depth == 0 && t.is_punct(sql, ",") {
            items.push(toks.get(start..j).unwrap_or(&[]));
            start = j + 1;
        }
    }
    items.push(toks.get(start..close).unwrap_or(&[]));
    let is_pk = |item: &[Tok], k: usize| {
        item.get(k).is_some_and(|t| t.is(sql, "PRIMARY"))
            && item.get(k + 1).is_some_and(|t| t.is(sql, "KEY"))
    };
    let mut table_pk: Vec<String> = Vec::new();
    let mut serials: Vec<(String, Tok, bool)> = Vec::new();
    // `GENERATED {BY DEFAULT | ALWAYS} AS IDENTITY [(options)]`: the column and the
    // tokens' range (both are a sequence's default; `crate::identity` keeps `ALWAYS`).
    let mut identities: Vec<(String, usize, usize)> = Vec::new();
    // Columns: name, type token, inline primary key, whether NOT NULL is declared, end.
    let mut columns: Vec<(String, Tok, bool, bool, usize)> = Vec::new();
    for item in &items {
        let Some(first) = item.first() else { continue };
        let constraint = [
            "CONSTRAINT",
            "PRIMARY",
            "UNIQUE",
            "CHECK",
            "FOREIGN",
            "EXCLUDE",
        ]
        .iter()
        .any(|k| first.is(sql, k));
        if constraint {
            if let Some(k) = (0..item.len()).find(|&k| is_pk(item, k)) {
                table_pk = item
                    .get(k + 2..)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|t| t.ident(sql))
                    .collect();
            }
            continue;
        }
        let Some(ty) = item.get(1).filter(|t| t.kind == Kind::Word) else {
            continue;
        };
        let name = first.ident(sql).unwrap_or_default();
        let inline_pk = (2..item.len()).any(|k| is_pk(item, k));
        let not_null = (2..item.len()).any(|k| {
            item.get(k).is_some_and(|t| t.is(sql, "NOT"))
                && item.get(k + 1).is_some_and(|t| t.is(sql, "NULL"))
        });
        let end = item.last().map_or(ty.end, |t| t.end);
        if let Some(g) =
            (2..item.len()).find(|&k| item.get(k).is_some_and(|t| t.is(sql, "GENERATED")))
        {
            let at = |k: usize, kw: &str| item.get(k).is_some_and(|t| t.is(sql, kw));
            let next = if at(g + 1, "BY") && at(g + 2, "DEFAULT") {
                g + 3
            } else if at(g + 1, "ALWAYS") {
                g + 2
            } else {
                g
            };
            if at(next, "AS") && at(next + 1, "IDENTITY") {
                let mut last = next + 1;
                if item.get(last + 1).is_some_and(|t| t.is_punct(sql, "(")) {
                    let mut depth = 0i32;
                    for k in last + 1..item.len() {
                        let Some(t) = item.get(k) else { break };
                        if t.is_punct(sql, "(") {
                            depth += 1;
                        } else if t.is_punct(sql, ")") {
                            depth -= 1;
                            if depth == 0 {
                                last = k;
                                break;
                            }
                        }
                    }
                }
                if let (Some(a), Some(b)) = (item.get(g), item.get(last)) {
                    identities.push((name.clone(), a.start, b.end));
                }
            }
        }
        if is_serial(ty.text(sql)) {
            serials.push((name.clone(), *ty, inline_pk));
        }
        columns.push((name, *ty, inline_pk, not_null, end));
    }
    // Primary key columns are NOT NULL, as in PostgreSQL, except a serial key (the
    // rowid, filled in when an insert omits it). A key SQLite would make the rowid
    // because it is declared exactly `INTEGER` becomes `INT` (the same affinity): in
    // PostgreSQL an insert without it fails with 23502 instead of getting an id.
    let single_key = |name: &str| {
        table_pk.len() == 1
            && table_pk
                .first()
                .is_some_and(|c| c.eq_ignore_ascii_case(name))
    };
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let seq_default = |column: &str| {
        let seq = crate::sequences::serial_name(&table, &column.to_ascii_lowercase());
        format!(" DEFAULT (nextval('{}')) NOT NULL", seq.replace('\'', "''"))
    };
    for (name, ty, inline_pk, not_null, end) in &columns {
        let in_key = *inline_pk || table_pk.iter().any(|c| c.eq_ignore_ascii_case(name));
        if in_key && (*inline_pk || single_key(name)) && ty.is(sql, "INTEGER") {
            edits.push((ty.start, ty.end, "INT".to_string()));
        }
        let identity = identities.iter().any(|(c, ..)| c == name);
        if in_key && !not_null && !is_serial(ty.text(sql)) && !identity {
            edits.push((*end, *end, " NOT NULL".to_string()));
        }
    }
    for (name, ty, inline_pk) in &serials {
        // Declared with its type (not SQLite's rowid, which ignores a default).
        let _ = inline_pk;
        let declared = match ty.text(sql).to_ascii_lowercase().as_str() {
            "bigserial" | "serial8" => "INT8",
            "smallserial" | "serial2" => "INT2",
            _ => "INT4",
        };
        edits.push((ty.start, ty.end, format!("{declared}{}", seq_default(name))));
    }
    for (name, start, end) in &identities {
        edits.push((*start, *end, seq_default(name).trim_start().to_string()));
    }
    Ok(apply_edits(sql, edits))
}

/// The text with `edits` made: byte ranges (not overlapping) and their replacements;
/// `None` for none.
pub(crate) fn apply_edits(sql: &str, mut edits: Vec<(usize, usize, String)>) -> Option<String> {
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|e| (e.0, e.1));
    let mut out = String::with_capacity(sql.len() + 16);
    let mut last = 0;
    for (start, end, text) in edits {
        out.push_str(sql.get(last..start).unwrap_or(""));
        out.push_str(&text);
        last = end;
    }
    out.push_str(sql.get(last..).unwrap_or(""));
    Some(out)
}

/// Rewrites PostgreSQL syntax SQLite lacks: `operand::type` becomes
/// `CAST(operand AS type)`, `current_user`/`session_user`/`current_role` become
/// function calls, a `serial` primary key becomes `INTEGER PRIMARY KEY`. What SQLite
/// would answer wrongly (arithmetic on dates, `regclass`, a serial column that is not
/// the primary key) is [`Unsupported`]. The syntax-tree rewrites of [`crate::pgsql`]
/// (the catalog's syntax) come first; results are cached by statement text.
pub(crate) fn rewrite(sql: &str) -> Result<String, Unsupported> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Cache = Mutex<HashMap<String, Result<String, Unsupported>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(sql).cloned()) {
        return hit;
    }
    // `OVERRIDING ... VALUE`, which the session reads before it runs the statement (see
    // `crate::identity`): SQLite prepares the statement without it.
    let plain = crate::identity::without_overriding(sql);
    let sql = plain.as_deref().unwrap_or(sql);
    let unlocked = without_locking(sql);
    let sql = unlocked.as_deref().unwrap_or(sql);
    let limited = fetch_as_limit(sql).transpose()?;
    let sql = limited.as_deref().unwrap_or(sql);
    let named = create_table_as_with_columns(sql);
    let sql = named.as_deref().unwrap_or(sql);
    let unnested = crate::unnest::rewrite(sql);
    let result = match crate::pgsql::rewrite(unnested.as_deref().unwrap_or(sql)) {
        Ok(Some(tree)) => rewrite_tokens(&tree),
        Ok(None) => rewrite_tokens(unnested.as_deref().unwrap_or(sql)),
        Err(e) => Err(e),
    };
    if let Ok(mut c) = cache.lock() {
        if c.len() >= 1024 {
            c.clear();
        }
        c.insert(sql.to_string(), result.clone());
    }
    result
}

/// `[OFFSET m {ROW | ROWS}] FETCH {FIRST | NEXT} [n] {ROW | ROWS} ONLY` (the SQL
/// standard's spelling, in either order) as SQLite's `LIMIT n [OFFSET m]`, at the top
/// level of the statement; `WITH TIES` is refused with 0A000. `None` when there is no
/// `FETCH` outside parentheses.
fn fetch_as_limit(sql: &str) -> Option<Result<String, Unsupported>> {
    if !sql.to_ascii_lowercase().contains("fetch") {
        return None;
    }
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let mut depth = 0usize;
    let mut fetch = None;
    let mut offset = None;
    for (i, t) in toks.iter().enumerate() {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && w(i, "FETCH") && (w(i + 1, "FIRST") || w(i + 1, "NEXT")) {
            fetch = Some(i);
        } else if depth == 0 && w(i, "OFFSET") {
            offset = Some(i);
        }
    }
    let at = fetch?;
    // FETCH FIRST [n] ROW[S] ONLY
    let mut j = at + 2;
    let count = match toks.get(j) {
        Some(t) if !(t.is(sql, "ROW") || t.is(sql, "ROWS")) => {
            j += 1;
            t.text(sql).to_string()
        }
        _ => "1".to_string(),
    };
    if !(w(j, "ROW") || w(j, "ROWS")) {
        return None;
    }
    if w(j + 1, "WITH") && w(j + 2, "TIES") {
        return Some(Err(Unsupported(
            "FETCH ... WITH TIES is not supported".to_string(),
        )));
    }
    if !w(j + 1, "ONLY") {
        return None;
    }
    let fetch_end = toks.get(j + 1)?.end;
    let mut edits = vec![(toks.get(at)?.start, fetch_end, String::new())];
    let mut limit = format!("LIMIT {count}");
    if let Some(o) = offset {
        // OFFSET m [ROW | ROWS]
        let value = toks.get(o + 1)?;
        let end = if w(o + 2, "ROW") || w(o + 2, "ROWS") {
            toks.get(o + 2)?.end
        } else {
            value.end
        };
        limit = format!("{limit} OFFSET {}", value.text(sql));
        edits.push((toks.get(o)?.start, end, String::new()));
    }
    let first = edits.iter().map(|e| e.0).min()?;
    if let Some(e) = edits.iter_mut().find(|e| e.0 == first) {
        e.2 = limit;
    }
    apply_edits(sql, edits).map(Ok)
}

/// `SELECT ... INTO [TEMP | TEMPORARY | UNLOGGED] [TABLE] name FROM ...` (PostgreSQL's
/// other spelling of `CREATE TABLE AS`, which SQLite lacks) as `CREATE [TEMP] TABLE
/// name AS SELECT ... FROM ...`; `None` for any other statement.
pub(crate) fn select_into_as_create(sql: &str) -> Option<String> {
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    if !w(0, "SELECT") {
        return None;
    }
    let mut depth = 0usize;
    let mut into = None;
    for (i, t) in toks.iter().enumerate() {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && (w(i, "FROM") || w(i, "UNION")) {
            break;
        } else if depth == 0 && w(i, "INTO") {
            into = Some(i);
            break;
        }
    }
    let at = into?;
    let mut j = at + 1;
    let temp = w(j, "TEMP") || w(j, "TEMPORARY");
    if temp || w(j, "UNLOGGED") {
        j += 1;
    }
    if w(j, "TABLE") {
        j += 1;
    }
    let (_, after) = crate::ddl::name_at(sql, &toks, j)?;
    let name = sql.get(toks.get(j)?.start..toks.get(after - 1)?.end)?;
    let rest = apply_edits(
        sql,
        vec![(toks.get(at)?.start, toks.get(after - 1)?.end, String::new())],
    )?;
    Some(format!(
        "CREATE {}TABLE {name} AS {rest}",
        if temp { "TEMP " } else { "" }
    ))
}

/// `CREATE TABLE name (a, b) AS query`, whose column list SQLite does not take there,
/// as `CREATE TABLE name AS WITH _pgproto_as(a, b) AS (query) SELECT * FROM
/// _pgproto_as` (a common table expression takes one); `None` for any other statement.
fn create_table_as_with_columns(sql: &str) -> Option<String> {
    let toks = tokenize(sql);
    let (_, at, close) = created_as(sql, &toks)?;
    let close = close?;
    let columns = sql.get(toks.get(at)?.start..toks.get(close)?.end)?;
    let query = sql.get(toks.get(close + 2)?.start..)?.trim_end();
    let query = query.strip_suffix(';').unwrap_or(query);
    Some(format!(
        "{}AS WITH _pgproto_as{columns} AS ({query}) SELECT * FROM _pgproto_as",
        sql.get(..toks.get(at)?.start)?
    ))
}

/// In `CREATE [TEMP] TABLE name [(columns)] AS query` (not `IF NOT EXISTS`, which may
/// make nothing): the index of the name's first token, of the token after it, and of
/// the column list's closing parenthesis.
fn created_as(sql: &str, toks: &[Tok]) -> Option<(usize, usize, Option<usize>)> {
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    if !w(0, "CREATE") {
        return None;
    }
    let mut i = 1;
    while w(i, "TEMP") || w(i, "TEMPORARY") || w(i, "UNLOGGED") {
        i += 1;
    }
    if !w(i, "TABLE") || w(i + 1, "IF") {
        return None;
    }
    let (_, after) = crate::ddl::name_at(sql, toks, i + 1)?;
    let close = if toks.get(after).is_some_and(|t| t.is_punct(sql, "(")) {
        Some(matching_close(sql, toks, after)?)
    } else {
        None
    };
    w(close.map_or(after, |c| c + 1), "AS").then_some((i + 1, after, close))
}

/// The table a `CREATE TABLE name [(columns)] AS query` makes (as written, to be
/// named in SQL), whose command tag is `SELECT n` in PostgreSQL; `None` for any other
/// statement (and for `IF NOT EXISTS`, which may make nothing).
pub(crate) fn table_created_as(sql: &str) -> Option<&str> {
    let toks = tokenize(sql);
    let (first, after, _) = created_as(sql, &toks)?;
    sql.get(toks.get(first)?.start..toks.get(after - 1)?.end)
}

/// `INSERT INTO t ... ON CONFLICT ON CONSTRAINT name` with the constraint's columns as
/// the conflict target (`ON CONFLICT (a, b)`), which is what SQLite takes;
/// `columns_of(table, constraint)` gives them for a primary key or unique constraint.
/// `None` when the statement names no constraint so; PostgreSQL's 42704 for one the
/// table does not have.
pub(crate) fn conflict_on_constraint(
    sql: &str,
    columns_of: impl Fn(&str, &str) -> Option<Vec<String>>,
) -> Option<Result<String, (String, String)>> {
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let into = (0..toks.len()).find(|&i| w(i, "INSERT") && w(i + 1, "INTO"))?;
    let (table, _) = crate::ddl::name_at(sql, &toks, into + 2)?;
    let at =
        (0..toks.len()).find(|&i| w(i, "CONFLICT") && w(i + 1, "ON") && w(i + 2, "CONSTRAINT"))?;
    let (name, after) = crate::ddl::name_at(sql, &toks, at + 3)?;
    let Some(columns) = columns_of(&table, &name) else {
        return Some(Err((
            "42704".to_string(),
            format!("constraint \"{name}\" for table \"{table}\" does not exist"),
        )));
    };
    let target = columns
        .iter()
        .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(", ");
    let (start, end) = (toks.get(at + 1)?.start, toks.get(after - 1)?.end);
    apply_edits(sql, vec![(start, end, format!("({target})"))]).map(Ok)
}

/// `CREATE OR REPLACE [TEMP] VIEW name ...`: the view's name (as PostgreSQL reads it)
/// and the statement without `OR REPLACE`; `None` for any other statement.
pub(crate) fn create_or_replace_view(sql: &str) -> Option<(String, String)> {
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    if !(w(0, "CREATE") && w(1, "OR") && w(2, "REPLACE")) {
        return None;
    }
    let mut i = 3;
    while w(i, "TEMP") || w(i, "TEMPORARY") {
        i += 1;
    }
    if !w(i, "VIEW") {
        return None;
    }
    let (name, _) = crate::ddl::name_at(sql, &toks, i + 1)?;
    let create = apply_edits(
        sql,
        vec![(toks.get(1)?.start, toks.get(3)?.start, String::new())],
    )?;
    Some((name, create))
}

/// `EXPLAIN [VERBOSE] statement`: the statement explained (SQLite's query plan stands
/// for PostgreSQL's); `EXPLAIN ANALYZE`, which runs the statement and times it, is
/// refused with 0A000. `None` for any other statement (and for `EXPLAIN (options)`,
/// refused elsewhere).
pub(crate) fn explained(sql: &str) -> Option<Result<&str, Unsupported>> {
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    if !w(0, "EXPLAIN") || toks.get(1).is_some_and(|t| t.is_punct(sql, "(")) {
        return None;
    }
    if w(1, "ANALYZE") || w(1, "ANALYSE") {
        return Some(Err(Unsupported(
            "EXPLAIN ANALYZE is not supported: SQLite's plans are not PostgreSQL's".to_string(),
        )));
    }
    let first = if w(1, "VERBOSE") { 2 } else { 1 };
    Some(Ok(sql.get(toks.get(first)?.start..)?))
}

/// SQLite's query plan (`EXPLAIN QUERY PLAN` rows: id, parent id, detail) as the lines
/// of PostgreSQL's `QUERY PLAN` column: a node under another is indented and marked
/// `->`, as PostgreSQL marks its plan's child nodes.
pub(crate) fn plan_lines(rows: &[(i64, i64, String)]) -> Vec<String> {
    let mut depth: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    rows.iter()
        .map(|(id, parent, detail)| {
            let d = depth.get(parent).map_or(0, |p| p + 1);
            depth.insert(*id, d);
            if d == 0 {
                detail.clone()
            } else {
                format!("{}->  {detail}", " ".repeat(6 * d - 4))
            }
        })
        .collect()
}

/// A query's locking clauses (`FOR UPDATE`, `FOR NO KEY UPDATE`, `FOR SHARE`, `FOR KEY
/// SHARE`, each with `OF tables` and `NOWAIT` or `SKIP LOCKED`) left out: such a
/// statement takes the right to write (see `crate::plan`), which stands for a lock on
/// every row until the transaction ends, and SQLite has no such clause. `NOWAIT` and
/// `SKIP LOCKED` then wait for another session's transaction, as if it had ended
/// before the statement. `None` when there is none.
fn without_locking(sql: &str) -> Option<String> {
    let lower = sql.to_ascii_lowercase();
    if !(lower.contains("update") || lower.contains("share")) {
        return None;
    }
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let mut edits = Vec::new();
    let mut i = 0;
    while let Some(t) = toks.get(i) {
        let strength = if !w(i, "FOR") {
            0
        } else if w(i + 1, "UPDATE") || w(i + 1, "SHARE") {
            2
        } else if (w(i + 1, "NO") && w(i + 2, "KEY") && w(i + 3, "UPDATE"))
            || (w(i + 1, "KEY") && w(i + 2, "SHARE"))
        {
            if w(i + 1, "NO") {
                4
            } else {
                3
            }
        } else {
            0
        };
        if strength == 0 {
            i += 1;
            continue;
        }
        let start = t.start;
        let mut j = i + strength;
        if w(j, "OF") {
            j += 1;
            while let Some((_, next)) = crate::ddl::name_at(sql, &toks, j) {
                j = next;
                if toks.get(j).is_some_and(|t| t.is_punct(sql, ",")) {
                    j += 1;
                } else {
                    break;
                }
            }
        }
        if w(j, "NOWAIT") {
            j += 1;
        } else if w(j, "SKIP") && w(j + 1, "LOCKED") {
            j += 2;
        }
        let end = toks.get(j - 1).map_or(sql.len(), |t| t.end);
        edits.push((start, end, String::new()));
        i = j;
    }
    apply_edits(sql, edits)
}

/// In a `CREATE` or `ALTER` statement, `timestamp(3) with time zone` becomes
/// `timestamptz(3)` and `timestamp(3) without time zone` `timestamp(3)` (and `time` the
/// same): SQLite takes a type's modifiers only at its end.
fn fix_type_modifiers(sql: &str) -> String {
    let toks = tokenize(sql);
    let ddl = toks
        .first()
        .is_some_and(|t| t.is(sql, "CREATE") || t.is(sql, "ALTER"));
    if !ddl {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len());
    let mut last = 0;
    for (i, t) in toks.iter().enumerate() {
        if !(t.is(sql, "timestamp") || t.is(sql, "time")) {
            continue;
        }
        let is = |k: usize, kw: &str| toks.get(k).is_some_and(|x| x.is(sql, kw));
        let punct = |k: usize, p: &str| toks.get(k).is_some_and(|x| x.is_punct(sql, p));
        let number = toks
            .get(i + 2)
            .filter(|x| matches!(x.kind, Kind::Num { is_int: true }));
        let (Some(n), true, true) = (number, punct(i + 1, "("), punct(i + 3, ")")) else {
            continue;
        };
        let with = is(i + 4, "with");
        if !((with || is(i + 4, "without")) && is(i + 5, "time") && is(i + 6, "zone")) {
            continue;
        }
        let Some(end) = toks.get(i + 6) else { continue };
        let base = match (t.is(sql, "timestamp"), with) {
            (true, true) => "timestamptz",
            (true, false) => "timestamp",
            (false, true) => "timetz",
            (false, false) => "time",
        };
        out.push_str(sql.get(last..t.start).unwrap_or(""));
        out.push_str(&format!("{base}({})", n.text(sql)));
        last = end.end;
    }
    out.push_str(sql.get(last..).unwrap_or(""));
    out
}

/// PostgreSQL statements this server does not have, refused by name (0A000) instead of
/// reaching SQLite, which would answer with a syntax error about something else.
/// `toks` are the statement's tokens.
fn refused_statement(sql: &str, toks: &[Tok]) -> Option<Unsupported> {
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let (verb, or_replace) = match (w(0, "CREATE"), w(1, "OR") && w(2, "REPLACE")) {
        (true, true) => ("CREATE", 3),
        (true, false) => ("CREATE", 1),
        _ => ("", 1),
    };
    let what = if w(0, "CREATE") || w(0, "DROP") || w(0, "ALTER") {
        let at = if verb.is_empty() { 1 } else { or_replace };
        [
            (
                "DATABASE",
                "ALTER DATABASE is not supported: databases have no settings to change",
            ),
            ("FUNCTION", "functions defined in SQL are not supported"),
            ("PROCEDURE", "procedures are not supported"),
            ("EXTENSION", "extensions are not supported"),
            ("ROLE", "roles are not supported"),
            ("USER", "roles are not supported"),
            ("POLICY", "row security policies are not supported"),
            ("PUBLICATION", "logical replication is not supported"),
            ("SUBSCRIPTION", "logical replication is not supported"),
        ]
        .into_iter()
        .find(|(kw, _)| w(at, kw))
        .map(|(_, why)| why)
    } else {
        [
            ("LISTEN", "LISTEN/NOTIFY is not supported"),
            ("UNLISTEN", "LISTEN/NOTIFY is not supported"),
            ("NOTIFY", "LISTEN/NOTIFY is not supported"),
            ("DO", "anonymous code blocks (DO) are not supported"),
            ("CALL", "procedures are not supported"),
            ("GRANT", "privileges are not supported"),
            ("REVOKE", "privileges are not supported"),
            (
                "PREPARE",
                "PREPARE/EXECUTE statements are not supported (use the extended query protocol)",
            ),
            (
                "EXECUTE",
                "PREPARE/EXECUTE statements are not supported (use the extended query protocol)",
            ),
        ]
        .into_iter()
        .find(|(kw, _)| w(0, kw))
        .map(|(_, why)| why)
    };
    // sqlx's `query!` asks `EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE ...` for the
    // nullability of outer joins' columns: SQLite has no such plan to give.
    let what = what.or_else(|| {
        (w(0, "EXPLAIN") && toks.get(1).is_some_and(|t| t.is_punct(sql, "(")))
            .then_some("EXPLAIN with options (VERBOSE, FORMAT JSON...) is not supported: SQLite's plans are not PostgreSQL's")
    });
    if let Some(why) = what {
        return Some(Unsupported(why.to_string()));
    }
    if w(0, "CREATE") && w(1, "SCHEMA") {
        let name = toks
            .iter()
            .skip(2)
            .find(|t| !["IF", "NOT", "EXISTS"].iter().any(|k| t.is(sql, k)))
            .and_then(|t| t.ident(sql))
            .unwrap_or_default();
        return Some(Unsupported(if name == "public" {
            "CREATE SCHEMA public: the schema exists (use IF NOT EXISTS)".to_string()
        } else {
            format!("CREATE SCHEMA \"{name}\" is not supported: the only schema is public")
        }));
    }
    // An array constructor the syntax-tree pass left (it turns `= ANY (ARRAY[...])`
    // into a list): SQLite would call `array` an unknown column.
    toks.windows(2)
        .any(|p| p[0].is(sql, "ARRAY") && p[1].text(sql).starts_with('['))
        .then(|| Unsupported("arrays (ARRAY[...]) are not supported".to_string()))
}

/// The token rewrites of [`rewrite`], after the syntax-tree pass of [`crate::pgsql`].
/// Each pass runs only when the statement has what it rewrites (a DDL verb, a cast, a
/// `DEFAULT`): most statements are tokenized twice, not once per pass.
fn rewrite_tokens(sql: &str) -> Result<String, Unsupported> {
    let toks = tokenize(sql);
    if let Some(refused) = refused_statement(sql, &toks) {
        return Err(refused);
    }
    let ddl = toks
        .first()
        .is_some_and(|t| t.is(sql, "CREATE") || t.is(sql, "ALTER"));
    let casts = toks
        .iter()
        .any(|t| t.is_punct(sql, "::") || t.is(sql, "CAST"));
    let defaults = toks.iter().any(|t| t.is(sql, "DEFAULT"));
    drop(toks);
    let mut text = if ddl {
        let sql = &fix_type_modifiers(sql);
        rewrite_serial(sql)?.unwrap_or_else(|| sql.to_string())
    } else {
        sql.to_string()
    };
    // One cast per pass (casts chain: `$1::text::int`); bounded.
    for _ in 0..256 {
        if !casts {
            break;
        }
        match rewrite_one_cast(&text) {
            Some(next) => text = next,
            None => break,
        }
    }
    if defaults {
        text = wrap_defaults(&text);
    }
    let text = if casts { fix_casts(&text)? } else { text };
    let toks = tokenize(&text);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (i, t) in toks.iter().enumerate() {
        if t.kind == Kind::Str && text.get(t.start..=t.start) == Some("$") {
            // A dollar-quoted string becomes a standard one.
            let s = t.text(&text);
            let tag_len = s.get(1..).and_then(|r| r.find('$')).map_or(1, |p| p + 2);
            let body = s
                .get(tag_len..s.len().saturating_sub(tag_len).max(tag_len))
                .unwrap_or("");
            out.push_str(text.get(last..t.start).unwrap_or(""));
            out.push('\'');
            out.push_str(&body.replace('\'', "''"));
            out.push('\'');
            last = t.end;
            continue;
        }
        if t.kind == Kind::Str && matches!(text.get(t.start..=t.start), Some("e" | "E")) {
            let body = t.text(&text);
            let body = body
                .get(2..body.len().saturating_sub(1).max(2))
                .unwrap_or("");
            out.push_str(text.get(last..t.start).unwrap_or(""));
            out.push('\'');
            out.push_str(&unescape(body)?.replace('\'', "''"));
            out.push('\'');
            last = t.end;
            continue;
        }
        if t.is(&text, "ILIKE") {
            // `x ILIKE y` calls the `match(y, x)` function, a case-insensitive LIKE.
            out.push_str(text.get(last..t.start).unwrap_or(""));
            out.push_str("MATCH");
            last = t.end;
            continue;
        }
        let next_is_paren = toks.get(i + 1).is_some_and(|n| n.is_punct(&text, "("));
        let prev_is_dot = i > 0 && toks.get(i - 1).is_some_and(|p| p.is_punct(&text, "."));
        if !next_is_paren
            && !prev_is_dot
            && ["current_user", "session_user", "current_role"]
                .iter()
                .any(|k| t.is(&text, k))
        {
            out.push_str(text.get(last..t.start).unwrap_or(""));
            out.push_str("current_user()");
            last = t.end;
        }
    }
    out.push_str(text.get(last..).unwrap_or(""));
    Ok(out)
}

fn rewrite_one_cast(sql: &str) -> Option<String> {
    let toks = tokenize(sql);
    let k = toks.iter().position(|t| t.is_punct(sql, "::"))?;
    // The type: a word (two for `double precision`, `character varying`), an optional
    // `(n, m)` modifier and `[]`.
    let mut e = k + 1;
    let first = toks.get(e).filter(|t| t.kind == Kind::Word)?;
    e += 1;
    let two_word = ["double", "character", "timestamp", "time", "bit"];
    if two_word.iter().any(|w| first.is(sql, w)) {
        let joins = ["precision", "varying", "with", "without"];
        if toks
            .get(e)
            .is_some_and(|t| joins.iter().any(|w| t.is(sql, w)))
        {
            e += 1;
            // `with time zone`, `without time zone`
            if toks.get(e).is_some_and(|t| t.is(sql, "time")) {
                e += 1;
                if toks.get(e).is_some_and(|t| t.is(sql, "zone")) {
                    e += 1;
                }
            }
        }
    }
    if toks.get(e).is_some_and(|t| t.is_punct(sql, "(")) {
        let close = matching_close(sql, &toks, e)?;
        e = close + 1;
    }
    while toks.get(e).is_some_and(|t| t.is_punct(sql, "["))
        && toks.get(e + 1).is_some_and(|t| t.is_punct(sql, "]"))
    {
        e += 2;
    }
    let type_start = first.start;
    let type_end = toks.get(e - 1)?.end;
    let ty = sql.get(type_start..type_end)?;
    // The operand: the primary expression ending just before `::`.
    let prev = k.checked_sub(1)?;
    let mut s = prev;
    let p = toks.get(prev)?;
    if p.is_punct(sql, ")") {
        s = matching_open(sql, &toks, prev)?;
        // A function call: include its name (a keyword before a parenthesis, `SELECT
        // (a - b)::int`, is no function), and its schema.
        let name =
            |t: &Tok| (t.kind == Kind::Word && !is_keyword(t.text(sql))) || t.kind == Kind::Quoted;
        if s > 0 && toks.get(s - 1).is_some_and(name) {
            s -= 1;
            while s >= 2
                && toks.get(s - 1).is_some_and(|t| t.is_punct(sql, "."))
                && toks.get(s - 2).is_some_and(name)
            {
                s -= 2;
            }
        }
    } else if p.is(sql, "END") {
        // `CASE ... END::type`: from the CASE that this END closes.
        let mut depth = 0usize;
        s = (0..=prev).rev().find(|&j| {
            let Some(t) = toks.get(j) else { return false };
            if t.is(sql, "END") {
                depth += 1;
            } else if t.is(sql, "CASE") {
                depth = depth.saturating_sub(1);
            }
            depth == 0
        })?;
    } else {
        // `schema.table.column`
        while s >= 2
            && toks.get(s - 1).is_some_and(|t| t.is_punct(sql, "."))
            && toks
                .get(s - 2)
                .is_some_and(|t| matches!(t.kind, Kind::Word | Kind::Quoted))
        {
            s -= 2;
        }
    }
    let operand = sql.get(toks.get(s)?.start..p.end)?;
    let mut out = String::with_capacity(sql.len() + 16);
    out.push_str(sql.get(..toks.get(s)?.start)?);
    out.push_str("CAST(");
    out.push_str(operand);
    out.push_str(" AS ");
    out.push_str(&sqlite_cast_type(ty));
    out.push(')');
    out.push_str(sql.get(type_end..)?);
    Some(out)
}

/// The first of `toks` outside parentheses for which `is` holds (an `AS` in a `CAST`,
/// the comma between two arguments).
fn top_level(sql: &str, toks: &[Tok], is: impl Fn(&Tok) -> bool) -> Option<usize> {
    let mut depth = 0i32;
    toks.iter().position(|t| {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth -= 1;
        }
        depth == 0 && is(t)
    })
}

pub(crate) fn matching_close(sql: &str, toks: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// The items of a parenthesized list, from token `open` to its matching `close`, split
/// at the commas outside inner parentheses: each item's token range (empty for an
/// empty item, as in `()`).
pub(crate) fn list_items(
    sql: &str,
    toks: &[Tok],
    open: usize,
    close: usize,
) -> Vec<std::ops::Range<usize>> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, open + 1);
    for (k, t) in toks.iter().enumerate().take(close + 1).skip(open + 1) {
        if (depth == 0 && t.is_punct(sql, ",")) || k == close {
            items.push(start..k);
            start = k + 1;
        } else if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.saturating_sub(1);
        }
    }
    items
}

fn matching_open(sql: &str, toks: &[Tok], close: usize) -> Option<usize> {
    let mut depth = 0usize;
    for i in (0..=close).rev() {
        let t = toks.get(i)?;
        if t.is_punct(sql, ")") {
            depth += 1;
        } else if t.is_punct(sql, "(") {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// What a statement is, as far as the session needs to know before SQLite sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Statement {
    Begin,
    Commit,
    Rollback,
    /// `ROLLBACK TO [SAVEPOINT] x` (passed to SQLite).
    RollbackTo,
    /// `SAVEPOINT x` (passed to SQLite).
    Savepoint,
    /// `RELEASE [SAVEPOINT] x` (passed to SQLite).
    Release,
    /// `SET [SESSION|LOCAL] name {TO|=} value`; `None` for forms that set nothing we keep
    /// (`SET TRANSACTION ...`).
    Set(Option<(String, String)>),
    Show(String),
    Reset,
    /// `DISCARD ...`, `DEALLOCATE ...`: accepted and ignored.
    Ignored(String),
    /// Anything else: for SQLite.
    Sql,
}

/// What the statement `sql`, whose tokens are `toks`, is.
pub(crate) fn classify(sql: &str, toks: &[Tok]) -> Statement {
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let Some(first) = toks.first() else {
        return Statement::Sql;
    };
    let skip_work = |i: usize| {
        if w(i, "WORK") || w(i, "TRANSACTION") {
            i + 1
        } else {
            i
        }
    };
    if first.is(sql, "BEGIN") || (first.is(sql, "START") && w(1, "TRANSACTION")) {
        // Not `BEGIN ... END` blocks: SQLite has none outside triggers.
        return Statement::Begin;
    }
    if first.is(sql, "COMMIT") || first.is(sql, "END") {
        return Statement::Commit;
    }
    if first.is(sql, "ROLLBACK") || first.is(sql, "ABORT") {
        return if w(skip_work(1), "TO") {
            Statement::RollbackTo
        } else {
            Statement::Rollback
        };
    }
    if first.is(sql, "SAVEPOINT") {
        return Statement::Savepoint;
    }
    if first.is(sql, "RELEASE") {
        return Statement::Release;
    }
    if first.is(sql, "SET") {
        let mut i = 1;
        if w(i, "SESSION") || w(i, "LOCAL") {
            i += 1;
        }
        if w(i, "TRANSACTION") || w(i, "CHARACTERISTICS") || w(i, "AUTHORIZATION") {
            return Statement::Set(None);
        }
        let Some(name) = toks.get(i).and_then(|t| t.ident(sql)) else {
            return Statement::Set(None);
        };
        // `SET TIME ZONE x`
        let (name, mut i) = if name.eq_ignore_ascii_case("time") && w(i + 1, "ZONE") {
            ("timezone".to_string(), i + 2)
        } else {
            (name, i + 1)
        };
        if toks
            .get(i)
            .is_some_and(|t| t.is(sql, "TO") || t.is_punct(sql, "="))
        {
            i += 1;
        }
        let value = toks
            .get(i..)
            .unwrap_or(&[])
            .iter()
            .map(|t| match t.kind {
                Kind::Str => unquote(t.text(sql)),
                Kind::Quoted => t.ident(sql).unwrap_or_default(),
                _ => t.text(sql).to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ")
            .replace(" , ", ", ");
        return Statement::Set(Some((name.to_ascii_lowercase(), value)));
    }
    if first.is(sql, "SHOW") {
        let name = toks
            .get(1..)
            .unwrap_or(&[])
            .iter()
            .map(|t| t.ident(sql).unwrap_or_else(|| t.text(sql).to_string()))
            .collect::<Vec<_>>()
            .join(" ");
        let name = if name.eq_ignore_ascii_case("time zone") {
            "timezone".to_string()
        } else if name.eq_ignore_ascii_case("transaction isolation level") {
            "transaction_isolation".to_string()
        } else {
            name.to_ascii_lowercase()
        };
        return Statement::Show(name);
    }
    if first.is(sql, "RESET") {
        return Statement::Reset;
    }
    // `CREATE SCHEMA IF NOT EXISTS public`: PostgreSQL's notice, and nothing to do (other
    // schemas are refused, see `refused_statement`).
    if first.is(sql, "CREATE")
        && w(1, "SCHEMA")
        && w(2, "IF")
        && w(3, "NOT")
        && w(4, "EXISTS")
        && toks.len() == 6
        && toks
            .get(5)
            .and_then(|t| t.ident(sql))
            .is_some_and(|n| n == "public")
    {
        return Statement::Ignored("CREATE SCHEMA".to_string());
    }
    if first.is(sql, "DISCARD") || first.is(sql, "DEALLOCATE") {
        let tag = if first.is(sql, "DISCARD") {
            let what = toks
                .get(1)
                .map(|t| t.text(sql).to_ascii_uppercase())
                .unwrap_or_default();
            format!("DISCARD {what}")
        } else if w(1, "ALL") || w(2, "ALL") {
            "DEALLOCATE ALL".to_string()
        } else {
            "DEALLOCATE".to_string()
        };
        return Statement::Ignored(tag);
    }
    Statement::Sql
}

pub(crate) fn unquote(s: &str) -> String {
    s.strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or(s)
        .replace("''", "'")
}

/// The main verb of a SQLite statement (`WITH ... INSERT` gives `INSERT`), upper case.
pub(crate) fn verb(sql: &str) -> String {
    let toks = tokenize(sql);
    let Some(first) = toks.first() else {
        return String::new();
    };
    if first.is(sql, "WITH") {
        let mut depth = 0i32;
        for t in &toks {
            if t.is_punct(sql, "(") {
                depth += 1;
            } else if t.is_punct(sql, ")") {
                depth -= 1;
            } else if depth == 0 {
                for v in ["SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "VALUES"] {
                    if t.is(sql, v) {
                        return v.to_string();
                    }
                }
            }
        }
    }
    first.text(sql).to_ascii_uppercase()
}

/// The command tag PostgreSQL would write for a statement of `verb` that changed
/// `changes` rows, returned `rows` rows (`Some` when it returns rows).
/// `verb` is the statement's [`verb`].
pub(crate) fn command_tag(verb: &str, sql: &str, changes: u64, rows: Option<usize>) -> String {
    let count = rows.map_or(changes, |r| r as u64);
    match verb {
        "INSERT" | "REPLACE" => format!("INSERT 0 {count}"),
        "UPDATE" => format!("UPDATE {count}"),
        "DELETE" => format!("DELETE {count}"),
        "CREATE" | "DROP" => {
            let toks = tokenize(sql);
            let skip = [
                "TEMP",
                "TEMPORARY",
                "UNIQUE",
                "VIRTUAL",
                "OR",
                "REPLACE",
                "IF",
                "NOT",
                "EXISTS",
            ];
            let object = toks
                .iter()
                .skip(1)
                .find(|t| !skip.iter().any(|s| t.is(sql, s)))
                .map(|t| t.text(sql).to_ascii_uppercase())
                .unwrap_or_default();
            format!("{verb} {object}")
        }
        "ALTER" => "ALTER TABLE".to_string(),
        _ if rows.is_some() => format!("SELECT {count}"),
        _ => verb.to_string(),
    }
}

/// Declared column types of every table the statement names, looked up by a callback.
/// `columns_of(table)` answers `(column, declared type)` pairs; the result maps each
/// column name to its type (first table wins), and `table.column` too.
pub(crate) fn referenced_columns(
    sql: &str,
    mut columns_of: impl FnMut(&str) -> Vec<(String, String)>,
) -> Vec<(String, String)> {
    let toks = tokenize(sql);
    let mut seen: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let Some(name) = t.ident(sql) else { continue };
        // `table [AS] alias`: the alias names the table's columns too.
        let alias_at = if toks.get(i + 1).is_some_and(|a| a.is(sql, "AS")) {
            i + 2
        } else {
            i + 1
        };
        let alias = toks
            .get(alias_at)
            .filter(|a| {
                a.kind == Kind::Quoted || (a.kind == Kind::Word && !is_keyword(a.text(sql)))
            })
            .and_then(|a| a.ident(sql));
        if let Some((_, columns)) = seen.iter().find(|s| s.0.eq_ignore_ascii_case(&name)) {
            // Seen before: only a new alias adds names.
            if let Some(a) = &alias {
                for (col, ty) in columns {
                    out.push((format!("{}.{}", a.to_ascii_lowercase(), col), ty.clone()));
                }
            }
            continue;
        }
        let columns = columns_of(&name);
        for (col, ty) in &columns {
            out.push((format!("{}.{}", name.to_ascii_lowercase(), col), ty.clone()));
            if let Some(a) = &alias {
                out.push((format!("{}.{}", a.to_ascii_lowercase(), col), ty.clone()));
            }
            out.push((col.clone(), ty.clone()));
        }
        seen.push((name.clone(), columns));
    }
    out
}

fn lookup<'a>(columns: &'a [(String, String)], name: &str) -> Option<&'a str> {
    columns
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(name))
        .map(|(_, t)| t.as_str())
}

/// The name of the column reference ending at token `end` (`x`, `t.x`), if it is one.
fn column_ref_before(sql: &str, toks: &[Tok], end: usize) -> Option<String> {
    let t = toks.get(end)?;
    let name = t.ident(sql)?;
    if t.kind == Kind::Word && is_keyword(t.text(sql)) {
        return None;
    }
    if end >= 2
        && toks.get(end - 1).is_some_and(|p| p.is_punct(sql, "."))
        && toks.get(end - 2).is_some_and(|p| p.ident(sql).is_some())
    {
        let table = toks.get(end - 2)?.ident(sql)?;
        return Some(format!("{}.{}", table.to_ascii_lowercase(), name));
    }
    Some(name)
}

fn column_ref_after(sql: &str, toks: &[Tok], start: usize) -> Option<String> {
    let t = toks.get(start)?;
    let name = t.ident(sql)?;
    if t.kind == Kind::Word && is_keyword(t.text(sql)) {
        return None;
    }
    if toks.get(start + 1).is_some_and(|p| p.is_punct(sql, ".")) {
        let col = toks.get(start + 2)?.ident(sql)?;
        return Some(format!("{}.{}", name.to_ascii_lowercase(), col));
    }
    Some(name)
}

fn is_keyword(word: &str) -> bool {
    const KW: &[&str] = &[
        "select",
        "from",
        "where",
        "and",
        "or",
        "not",
        "null",
        "true",
        "false",
        "in",
        "is",
        "like",
        "glob",
        "between",
        "set",
        "values",
        "limit",
        "offset",
        "as",
        "on",
        "case",
        "when",
        "then",
        "else",
        "end",
        "exists",
        "order",
        "group",
        "by",
        "having",
        "returning",
        "distinct",
        "all",
        "join",
        "insert",
        "update",
        "delete",
        "into",
    ];
    KW.iter().any(|k| k.eq_ignore_ascii_case(word))
}

const COMPARISON: &[&str] = &["=", "==", "<>", "!=", "<", ">", "<=", ">="];
const ARITHMETIC: &[&str] = &["+", "-", "*", "/", "%"];

/// Declared type names for untyped placeholders, from the context they appear in:
/// `column <op> $n`, `$n <op> column` (comparisons and arithmetic), `column IN ($n, ...)`, `column BETWEEN $n AND $m`,
/// `INSERT INTO t (columns) VALUES ($n, ...)`, `LIMIT`/`OFFSET $n`. `table_columns`
/// answers a table's columns in order. Index `k - 1` holds `$k`'s type name.
pub(crate) fn placeholder_context_types(
    sql: &str,
    columns: &[(String, String)],
    mut table_columns: impl FnMut(&str) -> Vec<(String, String)>,
) -> Vec<Option<String>> {
    let toks = tokenize(sql);
    let mut out: Vec<Option<String>> = Vec::new();
    let mut set = |n: usize, ty: Option<&str>| {
        let Some(ty) = ty else { return };
        if n == 0 || n > 65_535 {
            return;
        }
        if out.len() < n {
            out.resize(n, None);
        }
        if let Some(slot) = out.get_mut(n - 1) {
            if slot.is_none() {
                *slot = Some(ty.to_string());
            }
        }
    };
    // INSERT INTO t [(c1, ...)] VALUES (...), (...)
    if let Some(into) = toks.iter().position(|t| t.is(sql, "INTO")) {
        if let Some(table) = toks.get(into + 1).and_then(|t| t.ident(sql)) {
            let mut i = into + 2;
            let mut names: Vec<String> = Vec::new();
            if toks.get(i).is_some_and(|t| t.is_punct(sql, "(")) {
                if let Some(close) = matching_close(sql, &toks, i) {
                    names = toks
                        .get(i + 1..close)
                        .unwrap_or(&[])
                        .iter()
                        .filter_map(|t| t.ident(sql))
                        .collect();
                    i = close + 1;
                }
            }
            let all = table_columns(&table);
            if names.is_empty() {
                names = all.iter().map(|(n, _)| n.clone()).collect();
            }
            if toks.get(i).is_some_and(|t| t.is(sql, "VALUES")) {
                i += 1;
                while toks.get(i).is_some_and(|t| t.is_punct(sql, "(")) {
                    let Some(close) = matching_close(sql, &toks, i) else {
                        break;
                    };
                    // Items at depth 1: a lone placeholder gets its column's type.
                    let mut item = 0;
                    let mut depth = 0;
                    let mut item_toks: Vec<Tok> = Vec::new();
                    for t in toks.get(i + 1..close).unwrap_or(&[]) {
                        if t.is_punct(sql, "(") {
                            depth += 1;
                        } else if t.is_punct(sql, ")") {
                            depth -= 1;
                        }
                        if depth == 0 && t.is_punct(sql, ",") {
                            assign_item(&item_toks, item, &names, &all, &mut set);
                            item += 1;
                            item_toks.clear();
                        } else {
                            item_toks.push(*t);
                        }
                    }
                    assign_item(&item_toks, item, &names, &all, &mut set);
                    i = close + 1;
                    if toks.get(i).is_some_and(|t| t.is_punct(sql, ",")) {
                        i += 1;
                    }
                }
            }
        }
    }
    // PostgreSQL compares and computes with a varchar as text: `varchar_column = $1`
    // gives `$1` the type text.
    fn compared(ty: Option<&str>) -> Option<&str> {
        ty.map(|t| {
            if crate::types::declared(t).0 == crate::types::VARCHAR {
                "TEXT"
            } else {
                t
            }
        })
    }
    for (i, t) in toks.iter().enumerate() {
        let Kind::Param(n) = t.kind else { continue };
        let prev = i.checked_sub(1).and_then(|p| toks.get(p));
        let next = toks.get(i + 1);
        if prev.is_some_and(|p| p.is(sql, "LIMIT") || p.is(sql, "OFFSET")) {
            set(n, Some("INT8"));
            continue;
        }
        // column <op> $n
        let operator = |p: &Tok| {
            p.kind == Kind::Punct
                && (COMPARISON.contains(&p.text(sql)) || ARITHMETIC.contains(&p.text(sql)))
        };
        if prev.is_some_and(|p| operator(p) || p.is(sql, "LIKE") || p.is(sql, "GLOB")) && i >= 2 {
            if let Some(c) = column_ref_before(sql, &toks, i - 2) {
                // `UPDATE ... SET c = $n, d = $m` assigns: the column's own type.
                let assigned = prev.is_some_and(|p| p.is_punct(sql, "="))
                    && toks.first().is_some_and(|t| t.is(sql, "UPDATE"))
                    && i >= 3
                    && toks
                        .get(i - 3)
                        .is_some_and(|t| t.is(sql, "SET") || t.is_punct(sql, ","));
                let ty = lookup(columns, &c);
                set(n, if assigned { ty } else { compared(ty) });
            }
        }
        // $n <op> column
        if next.is_some_and(operator) {
            if let Some(c) = column_ref_after(sql, &toks, i + 2) {
                set(n, compared(lookup(columns, &c)));
            }
        }
        // column BETWEEN $n AND $m
        if prev.is_some_and(|p| p.is(sql, "BETWEEN")) && i >= 2 {
            if let Some(c) = column_ref_before(sql, &toks, i - 2) {
                set(n, compared(lookup(columns, &c)));
            }
        }
        if prev.is_some_and(|p| p.is(sql, "AND"))
            && i >= 4
            && toks.get(i - 3).is_some_and(|p| p.is(sql, "BETWEEN"))
        {
            if let Some(c) = column_ref_before(sql, &toks, i - 4) {
                set(n, compared(lookup(columns, &c)));
            }
        }
        // column IN (..., $n, ...)
        let mut j = i;
        while j > 0
            && toks
                .get(j - 1)
                .is_some_and(|p| p.is_punct(sql, ",") || matches!(p.kind, Kind::Param(_)))
        {
            j -= 1;
        }
        if j >= 3
            && toks.get(j - 1).is_some_and(|p| p.is_punct(sql, "("))
            && toks.get(j - 2).is_some_and(|p| p.is(sql, "IN"))
        {
            if let Some(c) = column_ref_before(sql, &toks, j - 3) {
                set(n, compared(lookup(columns, &c)));
            }
        }
    }
    out
}

fn assign_item(
    item: &[Tok],
    index: usize,
    names: &[String],
    all: &[(String, String)],
    set: &mut impl FnMut(usize, Option<&str>),
) {
    if let [Tok {
        kind: Kind::Param(n),
        ..
    }] = item
    {
        if let Some(name) = names.get(index) {
            set(*n, lookup(all, name));
        }
    }
}

/// Guesses about each item of the statement's result list (RETURNING, else the first
/// SELECT), for the columns SQLite declares no type for: a type name in the vocabulary
/// of [`crate::types::oid_for_decl`] and PostgreSQL's column name. `param_type(n)` names
/// the type chosen for `$n`. Empty when the list has a `*`.
pub(crate) fn result_items(
    sql: &str,
    columns: &[(String, String)],
    param_type: &dyn Fn(usize) -> Option<String>,
) -> Vec<ResultItem> {
    let toks = tokenize(sql);
    // The items follow RETURNING, else the first depth-0 SELECT, and end at FROM, WHERE...
    let mut depth = 0i32;
    let mut start = None;
    for (i, t) in toks.iter().enumerate() {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth -= 1;
        } else if depth == 0 && t.is(sql, "RETURNING") {
            start = Some(i + 1);
            break;
        } else if depth == 0 && t.is(sql, "SELECT") && start.is_none() {
            start = Some(i + 1);
        }
    }
    let Some(mut i) = start else {
        return Vec::new();
    };
    if toks
        .get(i)
        .is_some_and(|t| t.is(sql, "DISTINCT") || t.is(sql, "ALL"))
    {
        i += 1;
    }
    let enders = [
        "FROM",
        "WHERE",
        "GROUP",
        "HAVING",
        "ORDER",
        "LIMIT",
        "UNION",
        "EXCEPT",
        "INTERSECT",
        "WINDOW",
    ];
    let mut items: Vec<Vec<Tok>> = vec![Vec::new()];
    let mut depth = 0i32;
    for t in toks.get(i..).unwrap_or(&[]) {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth -= 1;
        }
        if depth == 0 && enders.iter().any(|e| t.is(sql, e)) {
            break;
        }
        if depth == 0 && t.is_punct(sql, ",") {
            items.push(Vec::new());
        } else if let Some(last) = items.last_mut() {
            last.push(*t);
        }
    }
    let cx = Cx {
        sql,
        columns,
        param_type,
    };
    let star = items
        .iter()
        .any(|item| item.last().is_some_and(|t| t.is_punct(sql, "*")));
    if star {
        return Vec::new();
    }
    items
        .iter()
        .map(|item| {
            let expr = strip_alias(sql, item);
            let name = if expr.len() == item.len() {
                cx.pg_name(expr)
            } else {
                None
            };
            ResultItem {
                type_name: cx.expr_type(expr),
                pg_name: name,
            }
        })
        .collect()
}

/// What [`result_items`] guesses about one result column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResultItem {
    /// A declared-type name for it, if there is a good guess.
    pub(crate) type_name: Option<String>,
    /// The name PostgreSQL gives an unaliased expression (`count`, `int4`, `?column?`);
    /// `None` for column references and aliased items (SQLite names those right).
    pub(crate) pg_name: Option<String>,
}

fn strip_alias<'a>(sql: &str, item: &'a [Tok]) -> &'a [Tok] {
    let n = item.len();
    if n >= 3 && item.get(n - 2).is_some_and(|t| t.is(sql, "AS")) {
        return item.get(..n - 2).unwrap_or(item);
    }
    if n >= 2 {
        let last = item.get(n - 1);
        let prev = item.get(n - 2);
        let last_is_name = last.is_some_and(|t| {
            t.kind == Kind::Quoted || (t.kind == Kind::Word && !is_keyword(t.text(sql)))
        });
        let prev_ends_operand = prev.is_some_and(|p| {
            matches!(
                p.kind,
                Kind::Word | Kind::Quoted | Kind::Str | Kind::Num { .. } | Kind::Param(_)
            ) || p.is_punct(sql, ")")
        }) && !prev
            .is_some_and(|p| p.kind == Kind::Word && is_keyword(p.text(sql)))
            || prev.is_some_and(|p| p.is(sql, "NULL") || p.is(sql, "END"));
        if last_is_name && prev_ends_operand {
            return item.get(..n - 1).unwrap_or(item);
        }
    }
    item
}

struct Cx<'a> {
    sql: &'a str,
    columns: &'a [(String, String)],
    param_type: &'a dyn Fn(usize) -> Option<String>,
}

/// A call without its `OVER (...)`/`OVER w`, `FILTER (...)` or `WITHIN GROUP (...)`
/// clause (`row_number() OVER (ORDER BY id)` is named and typed as `row_number()`).
fn without_window<'a>(sql: &str, e: &'a [Tok]) -> &'a [Tok] {
    let call = e.first().is_some_and(|t| t.kind == Kind::Word)
        && e.get(1).is_some_and(|t| t.is_punct(sql, "("));
    match matching_close(sql, e, 1) {
        Some(close)
            if call
                && close + 1 < e.len()
                && e.get(close + 1)
                    .is_some_and(|t| ["OVER", "FILTER", "WITHIN"].iter().any(|k| t.is(sql, k))) =>
        {
            e.get(..=close).unwrap_or(e)
        }
        _ => e,
    }
}

impl Cx<'_> {
    fn pg_name(&self, e: &[Tok]) -> Option<String> {
        let sql = self.sql;
        let e = without_window(sql, e);
        let first = e.first()?;
        let n = e.len();
        let is_ref = (n == 1 && matches!(first.kind, Kind::Word | Kind::Quoted))
            && !first.is(sql, "TRUE")
            && !first.is(sql, "FALSE")
            && !first.is(sql, "NULL");
        if is_ref || (n == 3 && e.get(1).is_some_and(|t| t.is_punct(sql, "."))) {
            return None;
        }
        if n == 1 && (first.is(sql, "TRUE") || first.is(sql, "FALSE")) {
            return Some("bool".to_string());
        }
        if first.is_punct(sql, "(") && matching_close(sql, e, 0) == Some(n - 1) {
            return self.pg_name(e.get(1..n - 1)?);
        }
        if first.kind == Kind::Word
            && e.get(1).is_some_and(|t| t.is_punct(sql, "("))
            && matching_close(sql, e, 1) == Some(n - 1)
        {
            if first.is(sql, "CAST") {
                // PostgreSQL's FigureColname: after its operand when that names a column
                // or a function, else after its type.
                if let Some(name) = self.cast_operand(e).and_then(|o| self.strong_name(o)) {
                    return Some(name);
                }
                let oid = crate::types::oid_for_decl(&self.expr_type(e)?);
                return Some(crate::types::internal_name(oid).to_string());
            }
            if first.is(sql, "pg_bool_in") {
                let arg = e.get(2..n - 1)?;
                return Some(self.strong_name(arg).unwrap_or_else(|| "bool".to_string()));
            }
            // The functions that stand for PostgreSQL's operators and aggregates.
            match first.text(sql).to_ascii_lowercase().as_str() {
                "pg_add" | "pg_sub" | "pg_mul" | "pg_div" | "pg_mod" => {
                    return Some("?column?".to_string())
                }
                "pg_sum" => return Some("sum".to_string()),
                "pg_avg" => return Some("avg".to_string()),
                _ => {}
            }
            if let Some((name, _)) = crate::datetime::function_result(first.text(sql)) {
                if crate::datetime::is_input_function(first.text(sql)) {
                    // A cast is named after its operand when that is a column or a
                    // function call, else after its type (PostgreSQL's FigureColname).
                    let arg = e.get(2..n - 1)?;
                    let operand = match arg {
                        [t] if t.kind == Kind::Word && !is_keyword(t.text(sql)) => {
                            Some(t.text(sql).to_ascii_lowercase())
                        }
                        [t] if t.kind == Kind::Quoted => t.ident(sql),
                        [_, dot, t] if dot.is_punct(sql, ".") => t.ident(sql),
                        _ => self.pg_name(arg).filter(|n| n != "?column?"),
                    };
                    return Some(operand.unwrap_or_else(|| name.to_string()));
                }
                return Some(name.to_string());
            }
            return Some(first.text(sql).to_ascii_lowercase());
        }
        if first.is(sql, "CASE") {
            // After its ELSE result when that names a column or a function.
            return Some(
                self.case_else(e)
                    .and_then(|x| self.strong_name(x))
                    .unwrap_or_else(|| "case".to_string()),
            );
        }
        if first.is(sql, "EXISTS") {
            return Some(first.text(sql).to_ascii_lowercase());
        }
        Some("?column?".to_string())
    }

    /// The operand of `CAST(x AS type)`, without the functions that read it for the
    /// cast (`pg_cast_in(x, 'uuid')`, `pg_number_in(x, 'integer')`, `pg_bool_in(x)`).
    fn cast_operand<'t>(&self, e: &'t [Tok]) -> Option<&'t [Tok]> {
        let sql = self.sql;
        let args = e.get(2..e.len().checked_sub(1)?)?;
        let as_at = top_level(sql, args, |t| t.is(sql, "AS"))?;
        let operand = args.get(..as_at)?;
        Some(self.read_for_cast(operand).map_or(operand, |(x, _)| x))
    }

    /// `pg_cast_in(x, 'T')`, `pg_number_in(x, 'T')` or `pg_bool_in(x)`: `x` and `T`.
    fn read_for_cast<'t>(&self, e: &'t [Tok]) -> Option<(&'t [Tok], String)> {
        let sql = self.sql;
        let (name, open) = (e.first()?, e.get(1)?);
        let reader = ["pg_cast_in", "pg_number_in", "pg_bool_in"]
            .iter()
            .any(|f| name.is(sql, f));
        if !reader || !open.is_punct(sql, "(") || matching_close(sql, e, 1) != Some(e.len() - 1) {
            return None;
        }
        let args = e.get(2..e.len() - 1)?;
        if name.is(sql, "pg_bool_in") {
            return Some((args, "bool".to_string()));
        }
        // The type is the last argument, one string literal.
        let [operand @ .., comma, t] = args else {
            return None;
        };
        if !comma.is_punct(sql, ",") {
            return None;
        }
        let ty = t
            .text(sql)
            .strip_prefix('\'')?
            .strip_suffix('\'')?
            .to_string();
        Some((operand, ty))
    }

    /// A `CASE ... END`'s ELSE result, if it has one.
    fn case_else<'t>(&self, e: &'t [Tok]) -> Option<&'t [Tok]> {
        let sql = self.sql;
        let last = e.len().checked_sub(1)?;
        if !e.get(last)?.is(sql, "END") {
            return None;
        }
        // The ELSE of this CASE: at nesting depth 1 (nested CASEs and parentheses skipped).
        let (mut depth, mut parens) = (0i32, 0i32);
        let mut at = None;
        for (i, t) in e.iter().enumerate() {
            if t.is_punct(sql, "(") {
                parens += 1;
            } else if t.is_punct(sql, ")") {
                parens -= 1;
            } else if parens == 0 && t.is(sql, "CASE") {
                depth += 1;
            } else if parens == 0 && t.is(sql, "END") {
                depth -= 1;
            } else if parens == 0 && depth == 1 && t.is(sql, "ELSE") {
                at = Some(i);
            }
        }
        e.get(at? + 1..last)
    }

    /// The name PostgreSQL gives an expression when it is a "strong" one (a column, a
    /// function call, or a cast or CASE of one); `None` for a literal or an operator.
    fn strong_name(&self, e: &[Tok]) -> Option<String> {
        let sql = self.sql;
        let n = e.len();
        match e {
            [t] if t.kind == Kind::Word && !is_keyword(t.text(sql)) => {
                return Some(t.text(sql).to_ascii_lowercase())
            }
            [t] if t.kind == Kind::Quoted => return t.ident(sql),
            [.., dot, t]
                if dot.is_punct(sql, ".")
                    && matches!(t.kind, Kind::Word | Kind::Quoted)
                    && e.iter()
                        .step_by(2)
                        .all(|p| matches!(p.kind, Kind::Word | Kind::Quoted)) =>
            {
                return t.ident(sql)
            }
            _ => {}
        }
        let first = e.first()?;
        if first.is_punct(sql, "(") && matching_close(sql, e, 0) == Some(n - 1) {
            return self.strong_name(e.get(1..n - 1)?);
        }
        if first.is(sql, "CASE") {
            return self.case_else(e).and_then(|x| self.strong_name(x));
        }
        if first.kind == Kind::Word
            && e.get(1).is_some_and(|t| t.is_punct(sql, "("))
            && matching_close(sql, e, 1) == Some(n - 1)
        {
            if first.is(sql, "CAST") {
                return self.cast_operand(e).and_then(|o| self.strong_name(o));
            }
            if let Some((x, _)) = self.read_for_cast(e) {
                return self.strong_name(x);
            }
            return self.pg_name(e).filter(|n| n != "?column?" && n != "case");
        }
        None
    }

    /// The type of arithmetic over `parts`: numeric promotion over the operands.
    fn promoted(&self, parts: &[&[Tok]]) -> Option<String> {
        let mut rank = 0;
        for p in parts {
            let ty = self.expr_type(p)?;
            let r = match crate::types::oid_for_decl(&ty) {
                crate::types::INT2 | crate::types::INT4 => 1,
                crate::types::INT8 => 2,
                crate::types::NUMERIC => 3,
                crate::types::FLOAT4 | crate::types::FLOAT8 => 4,
                _ => return None,
            };
            rank = rank.max(r);
        }
        Some(
            ["INT4", "INT4", "INT8", "NUMERIC", "FLOAT8"]
                .get(rank)?
                .to_string(),
        )
    }

    fn expr_type(&self, e: &[Tok]) -> Option<String> {
        let sql = self.sql;
        let e = without_window(sql, e);
        let first = e.first()?;
        let n = e.len();
        if first.is(sql, "CASE") && e.last().is_some_and(|t| t.is(sql, "END")) {
            // The type of the first THEN branch (the WHEN's comparisons are not the result,
            // nor the THEN of a CASE inside the WHEN).
            let mut nested = 0i32;
            let then = e.iter().enumerate().skip(1).position(|(_, t)| {
                if t.is(sql, "CASE") {
                    nested += 1;
                } else if t.is(sql, "END") {
                    nested -= 1;
                }
                nested == 0 && t.is(sql, "THEN")
            })? + 1;
            let mut depth = 0i32;
            let mut end = then + 1;
            for (i, t) in e.iter().enumerate().skip(then + 1) {
                if t.is_punct(sql, "(") || t.is(sql, "CASE") {
                    depth += 1;
                } else if t.is_punct(sql, ")") || (t.is(sql, "END") && depth > 0) {
                    depth -= 1;
                } else if depth == 0 && ["WHEN", "ELSE", "END"].iter().any(|k| t.is(sql, k)) {
                    end = i;
                    break;
                }
            }
            return self.expr_type(e.get(then + 1..end)?);
        }
        // Boolean operators at depth 0.
        let mut depth = 0i32;
        let mut arith: Vec<usize> = Vec::new();
        for (i, t) in e.iter().enumerate() {
            if t.is_punct(sql, "(") {
                depth += 1;
            } else if t.is_punct(sql, ")") {
                depth -= 1;
            } else if depth == 0 {
                let boolean = (t.kind == Kind::Punct && COMPARISON.contains(&t.text(sql)))
                    || [
                        "AND", "OR", "NOT", "IS", "IN", "LIKE", "ILIKE", "MATCH", "GLOB",
                        "BETWEEN", "EXISTS",
                    ]
                    .iter()
                    .any(|k| t.is(sql, k));
                if boolean && !(i == 0 && t.is(sql, "NOT") && n == 1) {
                    return Some("BOOL".to_string());
                }
                if i > 0
                    && t.kind == Kind::Punct
                    && ["+", "-", "*", "/", "%"].contains(&t.text(sql))
                {
                    arith.push(i);
                }
                if t.is_punct(sql, "||") {
                    return Some("TEXT".to_string());
                }
            }
        }
        if !arith.is_empty() {
            let mut parts = Vec::new();
            let mut s = 0;
            for &a in &arith {
                parts.push(e.get(s..a)?);
                s = a + 1;
            }
            parts.push(e.get(s..)?);
            return self.promoted(&parts);
        }
        if first.is_punct(sql, "-") || first.is_punct(sql, "+") {
            return self.expr_type(e.get(1..)?);
        }
        if n == 1 {
            return match first.kind {
                Kind::Num { is_int: true } => {
                    let text = first.text(sql);
                    Some(if text.parse::<i32>().is_ok() {
                        "INT4".to_string()
                    } else {
                        "INT8".to_string()
                    })
                }
                Kind::Num { is_int: false } => Some("FLOAT8".to_string()),
                Kind::Str => Some("TEXT".to_string()),
                Kind::Param(k) => (self.param_type)(k),
                Kind::Word if first.is(sql, "TRUE") || first.is(sql, "FALSE") => {
                    Some("BOOL".to_string())
                }
                Kind::Word | Kind::Quoted => {
                    lookup(self.columns, &first.ident(sql)?).map(ToString::to_string)
                }
                _ => None,
            };
        }
        // table.column
        if n == 3 && e.get(1).is_some_and(|t| t.is_punct(sql, ".")) {
            let name = format!(
                "{}.{}",
                first.ident(sql)?.to_ascii_lowercase(),
                e.get(2)?.ident(sql)?
            );
            return lookup(self.columns, &name).map(ToString::to_string);
        }
        // ( expr )
        if first.is_punct(sql, "(") && matching_close(sql, e, 0) == Some(n - 1) {
            if e.get(1).is_some_and(|t| t.is(sql, "SELECT")) {
                // A scalar subquery building JSON: `(SELECT json_object(...) FROM ...)`.
                let call = e.get(2..n - 1)?;
                let (name, open) = (call.first()?, call.get(1)?);
                let close = matching_close(sql, call, 1)?;
                let json = ["json_object", "json_array", "pg_json_build_out"]
                    .iter()
                    .any(|k| name.is(sql, k));
                let after = if call.get(close + 1).is_some_and(|t| t.is(sql, "AS")) {
                    close + 3
                } else {
                    close + 1
                };
                let ends = call.get(after).map_or(true, |t| t.is(sql, "FROM"));
                return (json && open.is_punct(sql, "(") && ends).then(|| "JSON".to_string());
            }
            return self.expr_type(e.get(1..n - 1)?);
        }
        // CAST(x AS type), name(args)
        if first.kind == Kind::Word
            && e.get(1).is_some_and(|t| t.is_punct(sql, "("))
            && matching_close(sql, e, 1) == Some(n - 1)
        {
            let args = e.get(2..n - 1)?;
            if first.is(sql, "CAST") {
                let as_at = top_level(sql, args, |t| t.is(sql, "AS"))?;
                // A value read for a cast whose SQLite type is text (`uuid`, dates).
                if let Some((_, ty)) = args.get(..as_at).and_then(|o| self.read_for_cast(o)) {
                    return Some(ty.to_ascii_uppercase());
                }
                let ty = args.get(as_at + 1..)?;
                let (s, t) = (ty.first()?, ty.last()?);
                return Some(sql.get(s.start..t.end)?.to_string());
            }
            let name = first.text(sql).to_ascii_lowercase();
            // The comma between a call's first and second arguments.
            let comma = || top_level(sql, args, |t| t.is_punct(sql, ","));
            let first_arg = || {
                let end = comma().unwrap_or(args.len());
                let a = args.get(..end).unwrap_or(&[]);
                let a = match a.first() {
                    Some(t) if t.is(sql, "DISTINCT") => a.get(1..).unwrap_or(&[]),
                    _ => a,
                };
                self.expr_type(a)
            };
            if ["pg_add", "pg_sub", "pg_mul", "pg_div", "pg_mod"].contains(&name.as_str()) {
                // `pg_add(a, b)` is `a + b` (see `pgsql::rewrite_arithmetic`).
                let comma = comma()?;
                return self.promoted(&[args.get(..comma)?, args.get(comma + 1..)?]);
            }
            if name == "date_trunc" {
                // The operand's type; a date is truncated as a timestamptz.
                let comma = comma()?;
                let ty = self.expr_type(args.get(comma + 1..)?)?;
                return Some(match crate::types::oid_for_decl(&ty) {
                    crate::types::DATE => "TIMESTAMPTZ".to_string(),
                    crate::types::TIMESTAMP
                    | crate::types::TIMESTAMPTZ
                    | crate::types::INTERVAL => ty,
                    _ => return None,
                });
            }
            if let Some((_, ty)) = crate::datetime::function_result(&name) {
                return Some(ty.to_string());
            }
            return match name.as_str() {
                "count" | "changes" | "total_changes" | "last_insert_rowid" | "nextval"
                | "currval" | "setval" | "lastval" | "row_number" | "rank" | "dense_rank" => {
                    Some("INT8".to_string())
                }
                "length" | "char_length" | "octet_length" | "instr" | "unicode" | "sign"
                | "strpos" | "position" | "ascii" | "ntile" | "array_length" | "array_upper" => {
                    Some("INT4".to_string())
                }
                "percent_rank" | "cume_dist" => Some("FLOAT8".to_string()),
                "starts_with" | "pg_regex" | "pg_array_contains" => Some("BOOL".to_string()),
                // The type-aware pass's (see the `typed` module).
                "pg_int4" => Some("INT4".to_string()),
                "pg_int2" => Some("INT2".to_string()),
                "pg_bool_text" | "pg_numeric_text" => Some("TEXT".to_string()),
                "pg_int4_unsure" => first_arg(),
                "trunc" | "ceil" | "ceiling" | "floor" => {
                    match first_arg().map(|t| crate::types::oid_for_decl(&t)) {
                        Some(crate::types::NUMERIC) => Some("NUMERIC".to_string()),
                        _ => Some("FLOAT8".to_string()),
                    }
                }
                "lag" | "lead" | "first_value" | "last_value" | "nth_value" => first_arg(),
                // avg of integers or numerics is numeric (its display scale is the
                // `typed` module's: refused, it depends on the values).
                "avg" | "pg_avg"
                    if matches!(
                        first_arg().map(|t| crate::types::oid_for_decl(&t)),
                        Some(
                            crate::types::INT2
                                | crate::types::INT4
                                | crate::types::INT8
                                | crate::types::NUMERIC
                        )
                    ) =>
                {
                    Some("NUMERIC".to_string())
                }
                // The `arrays` module's functions: the array argument's type.
                "array_append" | "array_remove" | "array_cat" | "pg_array_prepend" => first_arg(),
                "total" | "avg" | "pg_avg" | "round" | "sqrt" | "pow" | "power" | "exp" | "ln"
                | "log" | "random" => Some("FLOAT8".to_string()),
                "sum" | "pg_sum" => match first_arg().map(|t| crate::types::oid_for_decl(&t)) {
                    Some(crate::types::INT2 | crate::types::INT4 | crate::types::INT8) => {
                        Some("INT8".to_string())
                    }
                    Some(crate::types::FLOAT4 | crate::types::FLOAT8) => Some("FLOAT8".to_string()),
                    _ => None,
                },
                "min" | "max" | "abs" | "coalesce" | "ifnull" | "nullif" | "pg_bool_in" | "mod"
                | "greatest" | "least" | "pg_number_in" | "bit_and" | "bit_or" => first_arg(),
                // `pg_typed(x, 'TYPE')` (see the `select_list` module).
                "pg_typed" => {
                    let ty = args.last().filter(|t| t.kind == Kind::Str)?;
                    let text = ty.text(sql);
                    Some(text.get(1..text.len().checked_sub(1)?)?.to_string())
                }
                "array_agg" => Some(format!(
                    "{}[]",
                    first_arg().unwrap_or_else(|| "TEXT".to_string())
                )),
                "upper" | "lower" | "trim" | "ltrim" | "rtrim" | "substr" | "substring"
                | "replace" | "printf" | "format" | "quote" | "hex" | "typeof" | "concat"
                | "left" | "right" | "initcap" | "md5" | "concat_ws" | "split_part" | "lpad"
                | "rpad" | "repeat" | "reverse" | "btrim" | "regexp_replace" | "to_hex" | "chr"
                | "char" | "array_to_string" | "group_concat" | "string_agg" | "version"
                | "current_database" | "current_schema" | "current_user" | "current_setting"
                | "sqlite_version" | "date" | "time" | "datetime" | "strftime" => {
                    Some("TEXT".to_string())
                }
                "randomblob" | "zeroblob" | "unhex" => Some("BLOB".to_string()),
                "now" | "clock_timestamp" | "statement_timestamp" | "transaction_timestamp" => {
                    Some("TIMESTAMPTZ".to_string())
                }
                "gen_random_uuid" => Some("UUID".to_string()),
                "pg_sleep" => Some("VOID".to_string()),
                "json_object" | "json_array" | "json" | "pg_json_build_out" | "pg_to_json"
                | "pg_json_agg" | "pg_json_agg_rows" | "pg_json_object_agg" => {
                    Some("JSON".to_string())
                }
                "pg_jsonb_out" => Some("JSONB".to_string()),
                _ => None,
            };
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_shows_sqlite_s_plan_as_postgresql_s_lines() {
        assert_eq!(
            explained("EXPLAIN VERBOSE SELECT 1").map(|r| r.map_err(|e| e.0)),
            Some(Ok("SELECT 1"))
        );
        assert_eq!(explained("explain select 1"), Some(Ok("select 1")));
        assert!(matches!(
            explained("EXPLAIN ANALYZE SELECT 1"),
            Some(Err(_))
        ));
        assert_eq!(explained("EXPLAIN (COSTS OFF) SELECT 1"), None);
        assert_eq!(explained("SELECT 1"), None);
        let rows = [
            (2, 0, "SCAN a".to_string()),
            (5, 2, "SEARCH b USING INDEX i (x=?)".to_string()),
            (9, 5, "SCAN c".to_string()),
            (12, 0, "USE TEMP B-TREE FOR ORDER BY".to_string()),
        ];
        assert_eq!(
            plan_lines(&rows),
            [
                "SCAN a",
                "  ->  SEARCH b USING INDEX i (x=?)",
                "        ->  SCAN c",
                "USE TEMP B-TREE FOR ORDER BY"
            ]
        );
    }

    #[test]
    fn create_or_replace_view_is_read() {
        assert_eq!(
            create_or_replace_view("CREATE OR REPLACE VIEW public.Cheap AS SELECT 1"),
            Some((
                "cheap".into(),
                "CREATE VIEW public.Cheap AS SELECT 1".into()
            ))
        );
        assert_eq!(
            create_or_replace_view("create or replace temp view v (a) as select 1"),
            Some(("v".into(), "create temp view v (a) as select 1".into()))
        );
        assert_eq!(create_or_replace_view("CREATE VIEW v AS SELECT 1"), None);
        assert_eq!(
            create_or_replace_view("CREATE OR REPLACE FUNCTION f()"),
            None
        );
    }

    #[test]
    fn on_conflict_on_constraint_names_its_columns() {
        let columns_of = |t: &str, c: &str| {
            (t == "items" && c == "items_pkey").then(|| vec!["id".to_string(), "K".to_string()])
        };
        let f = |sql: &str| conflict_on_constraint(sql, columns_of).map(|r| r.map_err(|e| e.0));
        assert_eq!(
            f("INSERT INTO items (id) VALUES (1) ON CONFLICT ON CONSTRAINT items_pkey DO NOTHING"),
            Some(Ok(
                "INSERT INTO items (id) VALUES (1) ON CONFLICT (\"id\", \"K\") DO NOTHING".into()
            ))
        );
        assert_eq!(
            f("insert into items values (1) on conflict on constraint nope do nothing"),
            Some(Err("42704".into()))
        );
        assert_eq!(
            f("INSERT INTO items VALUES (1) ON CONFLICT (id) DO NOTHING"),
            None
        );
    }

    #[test]
    fn fetch_first_select_into_and_create_table_as() {
        let f = |sql: &str| fetch_as_limit(sql).map(|r| r.map_err(|e| e.0));
        assert_eq!(
            f("SELECT id FROM t ORDER BY id DESC FETCH FIRST 2 ROWS ONLY"),
            Some(Ok("SELECT id FROM t ORDER BY id DESC LIMIT 2".into()))
        );
        assert_eq!(
            f("select 1 offset 1 rows fetch next row only"),
            Some(Ok("select 1 LIMIT 1 OFFSET 1 ".into()))
        );
        assert_eq!(
            f("select 1 fetch first 3 rows only offset 2"),
            Some(Ok("select 1 LIMIT 3 OFFSET 2 ".into()))
        );
        assert!(matches!(
            f("select 1 fetch first 1 rows with ties"),
            Some(Err(_))
        ));
        assert_eq!(f("select (select 1 fetch first 1 row only)"), None);
        assert_eq!(
            select_into_as_create("SELECT name, id INTO TEMP tmp_names FROM items WHERE id > 1")
                .as_deref(),
            Some("CREATE TEMP TABLE tmp_names AS SELECT name, id  FROM items WHERE id > 1")
        );
        assert_eq!(
            select_into_as_create("select * into table public.\"T\" from t").as_deref(),
            Some("CREATE TABLE public.\"T\" AS select *  from t")
        );
        assert_eq!(select_into_as_create("SELECT 1 FROM t"), None);
        assert_eq!(select_into_as_create("INSERT INTO t SELECT 1"), None);
        assert_eq!(
            table_created_as("CREATE TABLE c (a, b) AS SELECT 1, 2"),
            Some("c")
        );
        assert_eq!(
            table_created_as("create temp table \"C\" as select 1"),
            Some("\"C\"")
        );
        assert_eq!(
            table_created_as("CREATE TABLE IF NOT EXISTS c AS SELECT 1"),
            None
        );
        assert_eq!(table_created_as("CREATE TABLE c (a int)"), None);
        assert_eq!(
            create_table_as_with_columns("CREATE TABLE c (a, b) AS SELECT 1, 2;").as_deref(),
            Some("CREATE TABLE c AS WITH _pgproto_as(a, b) AS (SELECT 1, 2) SELECT * FROM _pgproto_as")
        );
        assert_eq!(
            create_table_as_with_columns("CREATE TABLE c AS SELECT 1"),
            None
        );
    }

    #[test]
    fn locking_clauses_are_left_out() {
        assert_eq!(
            without_locking("SELECT * FROM t WHERE id = 1 FOR UPDATE").as_deref(),
            Some("SELECT * FROM t WHERE id = 1 ")
        );
        assert_eq!(
            without_locking(
                "select * from a join b on true for no key update of a, public.b skip locked \
                 for key share nowait;"
            )
            .as_deref(),
            Some("select * from a join b on true  ;")
        );
        assert_eq!(
            without_locking("select (select 1 from t for share) x").as_deref(),
            Some("select (select 1 from t ) x")
        );
        assert_eq!(without_locking("update t set a = 1"), None);
        assert_eq!(
            without_locking("select substring('abc' from 1 for 2)"),
            None
        );
    }

    #[test]
    fn list_items_split_at_outer_commas() {
        let items = |sql: &str| {
            let toks = tokenize(sql);
            let open = toks.iter().position(|t| t.is_punct(sql, "(")).unwrap();
            let close = matching_close(sql, &toks, open).unwrap();
            list_items(sql, &toks, open, close)
                .into_iter()
                .map(|r| r.map(|k| toks[k].text(sql)).collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            items("f(a, g(b, c), (d), 'e,f') + 1"),
            ["a", "g ( b , c )", "( d )", "'e,f'"]
        );
        assert_eq!(items("f()"), [""]);
        assert_eq!(items("f(a,)"), ["a", ""]);
    }

    #[test]
    fn values_items_split_rows_at_outer_commas() {
        let items = |sql: &str| {
            let toks = tokenize(sql);
            let first = toks.iter().position(|t| t.is(sql, "VALUES")).unwrap() + 1;
            let mut it = ValuesItems::new(sql, &toks, first);
            let texts: Vec<(usize, String)> = it
                .by_ref()
                .map(|item| {
                    let text = item
                        .tokens
                        .clone()
                        .map(|k| toks[k].text(sql))
                        .collect::<Vec<_>>()
                        .join(" ");
                    (item.column, text)
                })
                .collect();
            (texts, it.unclosed)
        };
        let own = |v: &[(usize, &str)]| -> Vec<(usize, String)> {
            v.iter().map(|(c, t)| (*c, t.to_string())).collect()
        };
        assert_eq!(
            items("INSERT INTO t VALUES (1, f(2, 3)), (DEFAULT, 'a,b') RETURNING id"),
            (
                own(&[(0, "1"), (1, "f ( 2 , 3 )"), (0, "DEFAULT"), (1, "'a,b'")]),
                false
            )
        );
        // Rows end where no comma continues them; an unclosed row is said.
        assert_eq!(
            items("INSERT INTO t VALUES (1) (2)"),
            (own(&[(0, "1")]), false)
        );
        assert_eq!(
            items("INSERT INTO t VALUES (1), (2"),
            (own(&[(0, "1")]), true)
        );
        assert_eq!(items("INSERT INTO t VALUES"), (own(&[]), false));
    }

    #[test]
    fn default_items_become_the_columns_defaults() {
        let defaults = |t: &str| {
            assert_eq!(t, "books");
            vec![
                (
                    "id".to_string(),
                    Some("nextval('books_id_seq')".to_string()),
                ),
                ("name".to_string(), None),
                ("in_print".to_string(), Some("'1'".to_string())),
            ]
        };
        assert_eq!(
            insert_defaults(
                r#"insert into "books" ("name", "in_print", "id") values ($1, DEFAULT, DEFAULT), (default, $2, f(1, 2)) returning "id""#,
                defaults
            )
            .as_deref(),
            Some(
                r#"insert into "books" ("name", "in_print", "id") values ($1, ('1'), (nextval('books_id_seq'))), (NULL, $2, f(1, 2)) returning "id""#
            )
        );
        assert_eq!(
            insert_defaults(
                "INSERT INTO public.books VALUES (DEFAULT, 'x', true)",
                defaults
            )
            .as_deref(),
            Some("INSERT INTO public.books VALUES ((nextval('books_id_seq')), 'x', true)")
        );
        // Nothing to replace: DEFAULT VALUES, a default inside an expression.
        assert_eq!(
            insert_defaults("insert into books default values", defaults),
            None
        );
        assert_eq!(
            insert_defaults("insert into books (name) values ('default')", defaults),
            None
        );
        assert_eq!(insert_defaults("select 1", defaults), None);
        // An unknown column: left for SQLite to refuse.
        assert_eq!(
            insert_defaults("insert into books (nope) values (default)", defaults),
            None
        );
    }

    #[test]
    fn statements_the_server_lacks_are_refused_by_name() {
        for (sql, why) in [
            ("alter database foo rename to bar", "ALTER DATABASE"),
            (
                "create or replace function f() returns int as $$ select 1 $$ language sql",
                "functions",
            ),
            ("listen jobs", "LISTEN/NOTIFY"),
            ("create schema app", "CREATE SCHEMA \"app\""),
            (
                "CREATE SCHEMA IF NOT EXISTS \"App\"",
                "CREATE SCHEMA \"App\"",
            ),
            ("create schema public", "CREATE SCHEMA public"),
            ("NOTIFY jobs, 'x'", "LISTEN/NOTIFY"),
            ("do $$ begin end $$", "DO"),
            ("grant select on t to bob", "privileges"),
            ("create extension pgcrypto", "extensions"),
            (
                "EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE sqlx_s_1(NULL)",
                "EXPLAIN with options",
            ),
            ("prepare p as select 1", "PREPARE/EXECUTE"),
            ("execute p", "PREPARE/EXECUTE"),
        ] {
            let e = rewrite(sql).unwrap_err();
            assert!(e.0.contains(why), "{sql}: {}", e.0);
        }
        // Statements that only look alike go on.
        for sql in [
            "create table database (x int)",
            "select * from listen",
            "create trigger t after insert on x begin select 1; end",
            "select 1 where 2 = any (array[1, 2])",
            "select 'array[1]'",
        ] {
            assert!(rewrite(sql).is_ok(), "{sql}");
        }
    }

    #[test]
    fn splits_statements_respecting_quotes_comments_and_triggers() {
        let sql = "select 'a;b'; select \"x;\" -- c;\n; /* ; */ ;\
            create trigger t after insert on x begin update y set a = 1; end; select 1";
        assert_eq!(
            split(sql),
            vec![
                "select 'a;b'",
                "select \"x;\"",
                "create trigger t after insert on x begin update y set a = 1; end",
                "select 1"
            ]
        );
        assert!(split(" ; -- nothing\n ;").is_empty());
    }

    #[test]
    fn rewrites_casts() {
        let rewrite = |sql: &str| super::rewrite(sql).unwrap();
        // json: text affinity, described (and named) as json; jsonb likewise.
        assert_eq!(sqlite_cast_type("json"), "JSON_TEXT");
        let items = result_items("select CAST('{}' AS JSONB_TEXT)", &[], &|_| None);
        assert_eq!(items[0].pg_name.as_deref(), Some("jsonb"));
        assert_eq!(items[0].type_name.as_deref(), Some("JSONB_TEXT"));
        assert_eq!(crate::types::oid_for_decl("JSON_TEXT"), crate::types::JSON);
        let items = result_items("select CAST('{}' AS JSON_TEXT)", &[], &|_| None);
        assert_eq!(items[0].pg_name.as_deref(), Some("json"));
        // Casts to integers and numeric read their operand as PostgreSQL does.
        assert_eq!(
            rewrite("select $1::int4, x::numeric(10,2), y::bigint"),
            "select CAST(pg_number_in($1, 'integer') AS INT4), \
             CAST(pg_number_in(x, 'numeric') AS numeric(10,2)), \
             CAST(pg_number_in(y, 'bigint') AS BIGINT)"
        );
        assert_eq!(
            rewrite("select count(*)::text, (a||'x')::bytea, t.b::double precision"),
            "select CAST(count(*) AS text), CAST((a||'x') AS BLOB), CAST(t.b AS double precision)"
        );
        assert_eq!(
            rewrite("select '1'::int::text"),
            "select CAST(CAST(pg_number_in('1', 'integer') AS INT) AS text)"
        );
        assert_eq!(rewrite("select ':: x'"), "select ':: x'");
        assert_eq!(
            rewrite("select 'yes'::bool, CAST(a AS boolean)"),
            "select CAST(pg_bool_in('yes') AS bool), CAST(pg_bool_in(a) AS boolean)"
        );
        assert_eq!(rewrite("select current_user"), "select current_user()");
        assert_eq!(
            rewrite("select $$it's$$, $a$x$$y$a$, $1"),
            "select 'it''s', 'x$$y', $1"
        );
        assert_eq!(split("select $$a;b$$; select 2").len(), 2);
    }

    #[test]
    fn serial_primary_keys_become_the_rowid() {
        let ok = |sql: &str| rewrite(sql).unwrap();
        let refused = |sql: &str| rewrite(sql).unwrap_err().0;
        assert_eq!(
            ok("create table t (id serial primary key, name text)"),
            "create table t (id INT4 DEFAULT (nextval('t_id_seq')) NOT NULL primary key, name text)"
        );
        assert_eq!(
            ok("CREATE TEMP TABLE t (id BIGSERIAL, n int, PRIMARY KEY (id))"),
            "CREATE TEMP TABLE t (id INT8 DEFAULT (nextval('t_id_seq')) NOT NULL, n int, PRIMARY KEY (id))"
        );
        assert_eq!(
            ok("create table T (serial text, id smallserial constraint p primary key)"),
            "create table T (serial text, id INT2 DEFAULT (nextval('t_id_seq')) NOT NULL constraint p primary key)"
        );
        // Other serial columns are declared with their type and take their sequence.
        assert_eq!(
            ok("create table t (id int primary key, n serial, b bigserial)"),
            "create table t (id int primary key NOT NULL, n INT4 DEFAULT (nextval('t_n_seq')) NOT NULL, b INT8 DEFAULT (nextval('t_b_seq')) NOT NULL)"
        );
        assert_eq!(
            ok("create table t (a serial, b int, primary key (a, b))"),
            "create table t (a INT4 DEFAULT (nextval('t_a_seq')) NOT NULL, b int NOT NULL, primary key (a, b))"
        );
        // Identity columns too.
        assert_eq!(
            ok("create table \"Q\" (id bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 10) PRIMARY KEY, x text)"),
            "create table \"Q\" (id bigint DEFAULT (nextval('Q_id_seq')) NOT NULL PRIMARY KEY, x text)"
        );
        assert_eq!(
            ok("create table t (id int generated always as identity (increment by 5), n int)"),
            "create table t (id int DEFAULT (nextval('t_id_seq')) NOT NULL, n int)"
        );
        // Primary keys that are not the rowid are NOT NULL, as in PostgreSQL.
        assert_eq!(
            ok("create table t (id int primary key, n bigint)"),
            "create table t (id int primary key NOT NULL, n bigint)"
        );
        assert_eq!(
            ok("create table t (a int, b text not null, c int, primary key (a, b))"),
            "create table t (a int NOT NULL, b text not null, c int, primary key (a, b))"
        );
        // An integer key is not filled in: not the rowid, and NOT NULL.
        assert_eq!(
            ok("create table t (id integer primary key, n int)"),
            "create table t (id INT primary key NOT NULL, n int)"
        );
        assert_eq!(
            ok("create table t (id integer, n int, primary key (id))"),
            "create table t (id INT NOT NULL, n int, primary key (id))"
        );
        assert!(refused("alter table t add column n bigserial").contains("serial"));
    }

    #[test]
    fn type_modifiers_end_the_type() {
        assert_eq!(
            rewrite("create table t (a timestamp(3) with time zone, b TIME(0) WITHOUT TIME ZONE)")
                .unwrap(),
            "create table t (a timestamptz(3), b time(0))"
        );
        assert_eq!(
            rewrite("select 1 from t where a = 'timestamp(3) with time zone'").unwrap(),
            "select 1 from t where a = 'timestamp(3) with time zone'"
        );
    }

    #[test]
    fn like_is_postgresql_s() {
        let yes = |p: &str, v: &str| like(p, v, Some('\\'), false).unwrap();
        assert!(!yes("ABC", "abc"));
        assert!(yes("a%c", "abbbc"));
        assert!(yes("a_c", "abc"));
        assert!(!yes(r"a\_c", "abc"));
        assert!(yes(r"a\_c", "a_c"));
        assert!(yes("%b%", "abc") && yes("%", "") && !yes("_", ""));
        assert!(yes("%a%b", "xaab") && !yes("%a%b", "xaa"));
        assert!(like("ABC%", "abcd", Some('\\'), true).unwrap());
        assert!(like("a!%", "a%", Some('!'), false).unwrap());
        assert!(like(r"a\", "a", Some('\\'), false).is_err());
    }

    #[test]
    fn rewrites_ilike_escape_strings_and_function_defaults() {
        let ok = |sql: &str| rewrite(sql).unwrap();
        assert_eq!(
            ok("select 'A' ilike 'a', 'b' not ILIKE 'x'"),
            "select 'A' MATCH 'a', 'b' not MATCH 'x'"
        );
        assert_eq!(
            ok(r"select E'a\nb', e'it\'s', E'\x41\101\u00e9''', 'x\n'"),
            "select 'a\nb', 'it''s', 'AAé''', 'x\\n'"
        );
        assert_eq!(split(r"select E'a\';b'; select 2").len(), 2);
        assert_eq!(
            ok(
                "create table t (at timestamptz default now(), u uuid default gen_random_uuid(), \
                n int default 1, m int default (2))"
            ),
            "create table t (at timestamptz default (now()), u uuid default (gen_random_uuid()), \
                n int default 1, m int default (2))"
        );
    }

    #[test]
    fn refuses_arithmetic_on_date_columns() {
        let cols = |t: &str| {
            if t == "e" {
                vec![
                    ("day".to_string(), "DATE".to_string()),
                    ("n".to_string(), "INTEGER".to_string()),
                ]
            } else {
                Vec::new()
            }
        };
        for sql in [
            "select day + 1 from e",
            "select 1 - e.day from e",
            "select now() - now()",
            "select current_date + 1",
            "select 1 + now()",
        ] {
            let err = check_datetime_arithmetic(sql, cols).unwrap_err().0;
            assert!(err.starts_with("arithmetic on"), "{sql}: {err}");
        }
        for sql in [
            "select day, n + 1, count(*), e.* from e",
            "select * from e where day > '2024-01-01'",
            "select now(), (1) + 2, count(*) - 1 from e",
        ] {
            assert_eq!(check_datetime_arithmetic(sql, cols), Ok(()), "{sql}");
        }
    }

    #[test]
    fn double_colon_takes_the_whole_operand() {
        // A parenthesized operand after a keyword, a CASE, a quoted or qualified function.
        for (pg, sqlite) in [
            (
                "select (position(name in name) - age)::bool from ee",
                "SELECT CAST(pg_bool_in((pg_sub(position(name, name), age))) AS BOOL) FROM ee",
            ),
            (
                "select min(case when active then active else active end::text) from ee",
                "select min(CAST(case when active then active else active end AS text)) from ee",
            ),
            (
                "select (select min(id) from ee)::bool",
                "SELECT CAST(pg_bool_in(((SELECT min(id) FROM ee))) AS BOOL)",
            ),
            (
                "select trim(trailing ' ' from bonus::text)::int8 from ee",
                "SELECT CAST(pg_number_in(\"rtrim\"(CAST(bonus AS TEXT), ' '), 'bigint') AS INT8) FROM ee",
            ),
            (
                "select pg_catalog.upper(x)::text, case when a then case when b then 1 end end::int from t",
                "SELECT CAST(upper(x) AS TEXT), CAST(pg_number_in((CASE WHEN a THEN CASE WHEN b THEN 1 END END), 'integer') AS INT) FROM t",
            ),
        ] {
            assert_eq!(rewrite(pg).unwrap(), sqlite, "{pg}");
        }
    }

    #[test]
    fn refuses_date_arithmetic_and_regclass() {
        // Queries: the `datetime` module reads casts and computes their arithmetic.
        assert_eq!(
            rewrite("select '2024-01-01'::date, cast(x as timestamptz) from t").unwrap(),
            "SELECT pg_date('2024-01-01'), pg_timestamptz(x) FROM t"
        );
        assert_eq!(
            rewrite("select cast(cast(x as date) as date) || 'x'").unwrap(),
            "SELECT pg_date(x) || 'x' AS \"?column?\""
        );
        assert_eq!(
            rewrite("select now()::timestamp - '1 day'::interval").unwrap(),
            "SELECT pg_timestamp_mi_interval(pg_timestamp(now()), pg_interval('1 day')) AS \"?column?\""
        );
        // Elsewhere (DDL), casts to date types stay text and their arithmetic is refused.
        assert_eq!(
            rewrite("create table t (a text default cast('2024-01-01' as date))").unwrap(),
            "create table t (a text default (cast(pg_cast_in('2024-01-01', 'date') as TEXT)))"
        );
        for sql in [
            "create table t (a int check (a > cast('2024-01-01' as date) + 1))",
            "create table t (a int check (a > 1 + '2024-01-01'::date))",
        ] {
            let e = rewrite(sql).unwrap_err().0;
            assert!(e.starts_with("arithmetic on"), "{sql}: {e}");
        }
        // `regclass` and its kin look the catalog up (see the `pgsql` module).
        let ok = rewrite("select 'x'::regclass::oid").unwrap();
        assert!(ok.contains("pg_lookup_class"), "{ok}");
    }

    #[test]
    fn classifies() {
        let classify = |sql: &str| classify(sql, &tokenize(sql));
        assert_eq!(classify("BEGIN"), Statement::Begin);
        assert_eq!(
            classify("start transaction isolation level serializable"),
            Statement::Begin
        );
        assert_eq!(classify("end"), Statement::Commit);
        assert_eq!(classify("rollback to savepoint a"), Statement::RollbackTo);
        assert_eq!(
            classify("SET client_min_messages TO 'warning'"),
            Statement::Set(Some(("client_min_messages".into(), "warning".into())))
        );
        assert_eq!(
            classify("show TimeZone"),
            Statement::Show("timezone".into())
        );
        assert_eq!(
            command_tag(
                &verb("insert into t values (1)"),
                "insert into t values (1)",
                1,
                None
            ),
            "INSERT 0 1"
        );
        assert_eq!(
            command_tag(
                &verb("create unique index i on t(a)"),
                "create unique index i on t(a)",
                0,
                None
            ),
            "CREATE INDEX"
        );
        assert_eq!(
            command_tag(
                &verb("with x as (select 1) select * from x"),
                "with x as (select 1) select * from x",
                0,
                Some(1)
            ),
            "SELECT 1"
        );
        assert_eq!(
            command_tag(
                &verb("delete from t returning a"),
                "delete from t returning a",
                5,
                Some(2)
            ),
            "DELETE 2"
        );
    }

    #[test]
    fn infers_placeholder_and_result_types() {
        let cols = vec![
            ("id".to_string(), "INTEGER".to_string()),
            ("t.id".to_string(), "INTEGER".to_string()),
            ("name".to_string(), "TEXT".to_string()),
            ("price".to_string(), "DOUBLE PRECISION".to_string()),
        ];
        let table = |_: &str| cols[..1].iter().chain(&cols[2..]).cloned().collect();
        let types =
            placeholder_context_types("insert into t (name, id) values ($2, $1)", &cols, table);
        assert_eq!(types, vec![Some("INTEGER".into()), Some("TEXT".into())]);
        let types = placeholder_context_types(
            "update t set price = $1 where t.id in ($2, $3) and name like $4 limit $5",
            &cols,
            table,
        );
        assert_eq!(
            types,
            vec![
                Some("DOUBLE PRECISION".into()),
                Some("INTEGER".into()),
                Some("INTEGER".into()),
                Some("TEXT".into()),
                Some("INT8".into())
            ]
        );
        let p = |_: usize| Some("INT8".to_string());
        let items = result_items(
            "select count(*) as n, max(price), id + 1, $1, 'x' y, 1.5, id = 2, upper(name), \
             CAST(id AS INT8), name from t",
            &cols,
            &p,
        );
        let types: Vec<_> = items.iter().map(|i| i.type_name.as_deref()).collect();
        let names: Vec<_> = items.iter().map(|i| i.pg_name.as_deref()).collect();
        let want = [
            "INT8",
            "DOUBLE PRECISION",
            "INT4",
            "INT8",
            "TEXT",
            "FLOAT8",
            "BOOL",
            "TEXT",
            "INT8",
            "TEXT",
        ];
        assert_eq!(types, want.map(Some));
        let q = Some("?column?");
        assert_eq!(
            names,
            [
                None,
                Some("max"),
                q,
                q,
                None,
                q,
                q,
                Some("upper"),
                // A cast is named after the column it casts, as PostgreSQL names it.
                Some("id"),
                None
            ]
        );
        // A cast of a literal after its type (uuid read for the cast is described as
        // uuid), a CASE after its ELSE column, a cast of a CASE likewise.
        let items = result_items(
            "select CAST(pg_cast_in('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'uuid') AS TEXT), \
             CASE WHEN id > 1 THEN name ELSE name END, CASE WHEN id > 1 THEN 1 ELSE 2 END, \
             CAST(pg_bool_in(CASE WHEN id > 1 THEN id ELSE id END) AS BOOL), \
             CAST(pg_number_in('5', 'integer') AS INT) from t",
            &cols,
            &p,
        );
        let names: Vec<_> = items.iter().map(|i| i.pg_name.as_deref()).collect();
        assert_eq!(
            names,
            [
                Some("uuid"),
                Some("name"),
                Some("case"),
                Some("id"),
                Some("int4")
            ]
        );
        assert_eq!(items[0].type_name.as_deref(), Some("UUID"));
        // A CASE's type is its first THEN's, not that of a CASE inside its WHEN.
        let items = result_items(
            "select CASE WHEN CASE WHEN id > 1 THEN id = 2 ELSE true END THEN id ELSE 1 END from t",
            &cols,
            &p,
        );
        assert_eq!(items[0].type_name.as_deref(), Some("INTEGER"));
        // avg of an integer is numeric, of a float8 float8.
        let items = result_items("select avg(id), avg(price) from t", &cols, &p);
        let types: Vec<_> = items.iter().map(|i| i.type_name.as_deref()).collect();
        assert_eq!(types, [Some("NUMERIC"), Some("FLOAT8")]);
        assert!(result_items("select *, 1 from t", &cols, &p).is_empty());
        // Window and filtered aggregates are named and typed after their function.
        let items = result_items(
            "select row_number() over (order by id desc), sum(id) over (), \
             count(*) filter (where id > 1), lag(name) over (order by id), strpos(name, 'a') from t",
            &cols,
            &p,
        );
        let names: Vec<_> = items.iter().map(|i| i.pg_name.as_deref()).collect();
        let types: Vec<_> = items.iter().map(|i| i.type_name.as_deref()).collect();
        assert_eq!(
            names,
            [
                Some("row_number"),
                Some("sum"),
                Some("count"),
                Some("lag"),
                Some("strpos")
            ]
        );
        assert_eq!(
            types,
            [
                Some("INT8"),
                Some("INT8"),
                Some("INT8"),
                Some("TEXT"),
                Some("INT4")
            ]
        );
    }
}
