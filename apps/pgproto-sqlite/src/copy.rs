//! `COPY table [(columns)] FROM STDIN` and `COPY {table [(columns)] | (query)} TO STDOUT`
//! in PostgreSQL's text and CSV formats: parsing the statement and its options, and
//! encoding and decoding rows.
//!
//! Options, in either syntax (`WITH (FORMAT csv, HEADER)` or the old `WITH CSV HEADER`):
//! `FORMAT text|csv`, `HEADER [boolean]`, `DELIMITER 'c'`, `NULL 'string'`, `QUOTE 'c'`,
//! `ESCAPE 'c'` (CSV only), and PostgreSQL's binary format (`FORMAT binary`): a file
//! header, then per row a field count and each field's length and binary value, then
//! a trailer (read by the core's [`BinaryCopyDecoder`], written by [`binary_tuple`]).

use pgproto_core::copy::{BinaryCopyDecoder, CopyRow, SIGNATURE};
use pgproto_core::db_error::DbError;
use pgproto_core::message::Format;
use pgproto_core::sqlstate::SqlState;
use pgproto_core::DecodeError;

use super::sql::{tokenize, Kind, Tok};
use crate::session::error;

/// What a COPY statement reads from or writes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A table and, optionally, some of its columns.
    Table {
        name: String,
        columns: Option<Vec<String>>,
    },
    /// `COPY (query) TO STDOUT`.
    Query(String),
}

/// A parsed COPY statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CopyStatement {
    pub(crate) source: Source,
    /// `FROM STDIN` (else `TO STDOUT`).
    pub(crate) from_stdin: bool,
    pub(crate) options: Options,
}

/// Format options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) csv: bool,
    /// `FORMAT binary`.
    pub(crate) binary: bool,
    pub(crate) header: bool,
    pub(crate) delimiter: u8,
    pub(crate) null: String,
    pub(crate) quote: u8,
    pub(crate) escape: u8,
}

impl Options {
    /// The format of the CopyOutResponse/CopyInResponse (its overall and column
    /// formats): binary for `FORMAT binary`, else text.
    pub(crate) fn format(&self) -> Format {
        if self.binary {
            Format::Binary
        } else {
            Format::Text
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            csv: false,
            binary: false,
            header: false,
            delimiter: b'\t',
            null: "\\N".to_string(),
            quote: b'"',
            escape: b'"',
        }
    }
}

fn syntax(message: impl Into<String>) -> Box<DbError> {
    error(SqlState::SyntaxError, message)
}

/// A string literal's value (`'a''b'` is `a'b`).
fn literal(sql: &str, tok: &Tok) -> Option<String> {
    if tok.kind != Kind::Str {
        return None;
    }
    let t = tok.text(sql);
    let inner = t.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

/// One byte given as a one-character string option.
fn single_byte(name: &str, value: &str) -> Result<u8, Box<DbError>> {
    match value.as_bytes() {
        [b] if b.is_ascii() => Ok(*b),
        _ => Err(error(
            SqlState::FeatureNotSupported,
            format!("COPY {name} must be a single one-byte character"),
        )),
    }
}

/// Parses `sql` if it is a COPY statement (`None` otherwise).
pub(crate) fn parse(sql: &str) -> Option<Result<CopyStatement, Box<DbError>>> {
    let toks = tokenize(sql);
    if !toks.first()?.is(sql, "COPY") {
        return None;
    }
    Some(parse_tokens(sql, &toks))
}

fn parse_tokens(sql: &str, toks: &[Tok]) -> Result<CopyStatement, Box<DbError>> {
    let mut i = 1;
    let at = |i: usize| toks.get(i);
    let source = if at(i).is_some_and(|t| t.is_punct(sql, "(")) {
        // `(query)`: up to the matching parenthesis.
        let mut depth = 0usize;
        let start = at(i).map_or(0, |t| t.end);
        let mut end = None;
        while let Some(t) = at(i) {
            if t.is_punct(sql, "(") {
                depth += 1;
            } else if t.is_punct(sql, ")") {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    end = Some(t.start);
                    break;
                }
            }
            i += 1;
        }
        let end = end.ok_or_else(|| syntax("unterminated query in COPY"))?;
        i += 1;
        Source::Query(sql.get(start..end).unwrap_or("").to_string())
    } else {
        let mut name = at(i)
            .and_then(|t| t.ident(sql))
            .ok_or_else(|| syntax("syntax error in COPY: table name expected"))?;
        i += 1;
        // `schema.table`: the schema is ignored (SQLite has `main` only).
        if at(i).is_some_and(|t| t.is_punct(sql, ".")) {
            name = at(i + 1)
                .and_then(|t| t.ident(sql))
                .ok_or_else(|| syntax("syntax error in COPY: table name expected"))?;
            i += 2;
        }
        let mut columns = None;
        if at(i).is_some_and(|t| t.is_punct(sql, "(")) {
            let mut list = Vec::new();
            i += 1;
            loop {
                let c = at(i)
                    .and_then(|t| t.ident(sql))
                    .ok_or_else(|| syntax("syntax error in COPY column list"))?;
                list.push(c);
                i += 1;
                match at(i) {
                    Some(t) if t.is_punct(sql, ",") => i += 1,
                    Some(t) if t.is_punct(sql, ")") => {
                        i += 1;
                        break;
                    }
                    _ => return Err(syntax("syntax error in COPY column list")),
                }
            }
            columns = Some(list);
        }
        Source::Table { name, columns }
    };
    let from_stdin = match at(i) {
        Some(t) if t.is(sql, "FROM") => true,
        Some(t) if t.is(sql, "TO") => false,
        _ => return Err(syntax("syntax error in COPY: FROM or TO expected")),
    };
    i += 1;
    let endpoint = if from_stdin { "STDIN" } else { "STDOUT" };
    if !at(i).is_some_and(|t| t.is(sql, endpoint)) {
        return Err(error(
            SqlState::FeatureNotSupported,
            format!(
                "only COPY {} {endpoint} is supported",
                if from_stdin { "FROM" } else { "TO" }
            ),
        ));
    }
    i += 1;
    if matches!(source, Source::Query(_)) && from_stdin {
        return Err(syntax("COPY (query) FROM is not allowed"));
    }
    let mut options = Options::default();
    let mut given = Given::default();
    if at(i).is_some_and(|t| t.is(sql, "WITH")) {
        i += 1;
    }
    if at(i).is_some_and(|t| t.is_punct(sql, "(")) {
        // New syntax: `(name [value], ...)`.
        i += 1;
        loop {
            let name = at(i)
                .and_then(|t| t.ident(sql))
                .ok_or_else(|| syntax("syntax error in COPY options"))?
                .to_ascii_lowercase();
            i += 1;
            let value = match at(i) {
                Some(t) if t.is_punct(sql, ",") || t.is_punct(sql, ")") => None,
                Some(t) => {
                    i += 1;
                    Some(literal(sql, t).unwrap_or_else(|| t.text(sql).to_string()))
                }
                None => return Err(syntax("syntax error in COPY options")),
            };
            apply(&mut options, &name, value.as_deref(), &mut given)?;
            match at(i) {
                Some(t) if t.is_punct(sql, ",") => i += 1,
                Some(t) if t.is_punct(sql, ")") => {
                    i += 1;
                    break;
                }
                _ => return Err(syntax("syntax error in COPY options")),
            }
        }
    } else {
        // Old syntax: `CSV`, `HEADER`, `DELIMITER [AS] 'c'`, `NULL [AS] 's'`, ...
        while let Some(t) = at(i) {
            let name = t.text(sql).to_ascii_lowercase();
            i += 1;
            let value = match name.as_str() {
                "csv" => {
                    apply(&mut options, "format", Some("csv"), &mut given)?;
                    continue;
                }
                "binary" => {
                    apply(&mut options, "format", Some("binary"), &mut given)?;
                    continue;
                }
                "header" => None,
                "delimiter" | "null" | "quote" | "escape" => {
                    if at(i).is_some_and(|t| t.is(sql, "AS")) {
                        i += 1;
                    }
                    let v = at(i)
                        .and_then(|t| literal(sql, t))
                        .ok_or_else(|| syntax(format!("COPY {name} needs a string")))?;
                    i += 1;
                    Some(v)
                }
                _ => return Err(syntax(format!("syntax error in COPY at \"{name}\""))),
            };
            apply(&mut options, &name, value.as_deref(), &mut given)?;
        }
    }
    if i < toks.len() {
        return Err(syntax("syntax error at end of COPY"));
    }
    // CSV defaults: comma, empty NULL (text: tab, `\N`).
    if options.csv && !given.null {
        options.null = String::new();
    }
    if options.csv && !given.delimiter {
        options.delimiter = b',';
    }
    // PostgreSQL's checks, in its order.
    if options.binary {
        for (given, name) in [
            (given.delimiter, "DELIMITER"),
            (given.null, "NULL"),
            (options.header, "HEADER"),
        ] {
            if given {
                return Err(syntax(format!("cannot specify {name} in BINARY mode")));
            }
        }
    }
    if options.header && !options.csv {
        return Err(error(
            SqlState::FeatureNotSupported,
            "COPY HEADER available only in CSV mode",
        ));
    }
    Ok(CopyStatement {
        source,
        from_stdin,
        options,
    })
}

/// Which options with format-dependent defaults were given.
#[derive(Default)]
struct Given {
    null: bool,
    delimiter: bool,
}

fn apply(
    options: &mut Options,
    name: &str,
    value: Option<&str>,
    given: &mut Given,
) -> Result<(), Box<DbError>> {
    let need = || syntax(format!("COPY option \"{name}\" needs a value"));
    match name {
        "format" => match value.map(str::to_ascii_lowercase).as_deref() {
            Some("text") => (options.csv, options.binary) = (false, false),
            Some("csv") => (options.csv, options.binary) = (true, false),
            Some("binary") => (options.csv, options.binary) = (false, true),
            Some(other) => return Err(syntax(format!("COPY format \"{other}\" not recognized"))),
            None => return Err(need()),
        },
        "header" => {
            options.header = match value.map(str::to_ascii_lowercase).as_deref() {
                None | Some("true" | "on" | "1") => true,
                Some("false" | "off" | "0") => false,
                Some(other) => return Err(syntax(format!("invalid HEADER value \"{other}\""))),
            }
        }
        "delimiter" => {
            options.delimiter = single_byte(name, value.ok_or_else(need)?)?;
            given.delimiter = true;
        }
        "quote" => {
            options.quote = single_byte(name, value.ok_or_else(need)?)?;
            // ESCAPE defaults to QUOTE.
            options.escape = options.quote;
        }
        "escape" => options.escape = single_byte(name, value.ok_or_else(need)?)?,
        "null" => {
            options.null = value.ok_or_else(need)?.to_string();
            given.null = true;
        }
        other => {
            return Err(error(
                SqlState::FeatureNotSupported,
                format!("COPY option \"{other}\" is not supported"),
            ))
        }
    }
    Ok(())
}

/// Splits the complete records off the front of `buf` (rows may arrive split across
/// CopyData messages; a CSV record may contain newlines inside quotes). Returns the
/// records (without their line ends) and leaves an incomplete one in `buf`. With
/// `finished`, the rest is a last record.
pub(crate) fn take_records(buf: &mut Vec<u8>, options: &Options, finished: bool) -> Vec<Vec<u8>> {
    let mut records = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut i = 0;
    while let Some(&b) = buf.get(i) {
        if options.csv && b == options.quote {
            in_quotes = !in_quotes;
        } else if b == b'\n' && !in_quotes {
            let mut line = buf.get(start..i).unwrap_or_default();
            if let Some(stripped) = line.strip_suffix(b"\r") {
                line = stripped;
            }
            records.push(line.to_vec());
            start = i + 1;
        }
        i += 1;
    }
    if finished && start < buf.len() {
        records.push(buf.get(start..).unwrap_or_default().to_vec());
        start = buf.len();
    }
    buf.drain(..start);
    // The end-of-data marker some clients still send.
    if records.last().is_some_and(|r| r == b"\\.") {
        records.pop();
    }
    records
}

fn bad_copy(message: impl Into<String>) -> Box<DbError> {
    error(SqlState::BadCopyFileFormat, message)
}

/// The start of every binary COPY file: the signature, no flags, no header extension.
pub(crate) fn binary_header() -> Vec<u8> {
    let mut header = SIGNATURE.to_vec();
    header.extend_from_slice(&[0; 8]);
    header
}

/// The end of a binary COPY file: a field count of -1.
pub(crate) const BINARY_TRAILER: &[u8] = &[0xff, 0xff];

/// One row in binary COPY format: the field count, then each field's length (-1:
/// NULL) and bytes.
pub(crate) fn binary_tuple(out: &mut Vec<u8>, values: &[Option<Vec<u8>>]) {
    let count = i16::try_from(values.len()).unwrap_or(i16::MAX);
    out.extend_from_slice(&count.to_be_bytes());
    for value in values {
        match value {
            Some(v) => {
                let len = i32::try_from(v.len()).unwrap_or(i32::MAX);
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(v);
            }
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
}

/// The complete rows of `columns` fields that binary COPY `data` (fed to the core's
/// decoder, split anywhere) completes; with `finished`, nothing may be left over
/// (PostgreSQL accepts data that ends without the trailer). Errors are PostgreSQL's.
pub(crate) fn binary_rows(
    decoder: &mut BinaryCopyDecoder,
    data: &[u8],
    columns: usize,
    finished: bool,
) -> Result<Vec<CopyRow>, Box<DbError>> {
    if decoder.is_finished() && !data.is_empty() {
        return Err(bad_copy("received copy data after EOF marker"));
    }
    decoder.push(data);
    let mut rows = Vec::new();
    loop {
        match decoder.next_row() {
            Ok(Some(row)) if row.fields().len() == columns => rows.push(row),
            Ok(Some(row)) => {
                return Err(bad_copy(format!(
                    "row field count is {}, expected {columns}",
                    row.fields().len()
                )))
            }
            Ok(None) => break,
            Err(pgproto_core::Error::Decode(DecodeError::InvalidValue {
                field, value, ..
            })) => {
                return Err(bad_copy(match field {
                    "flags" if value & (1 << 16) != 0 => {
                        "invalid COPY file header (WITH OIDS)".to_string()
                    }
                    "flags" => "unrecognized critical flags in COPY file header".to_string(),
                    "field count" => format!("row field count is {value}, expected {columns}"),
                    "field length" => "invalid field size".to_string(),
                    _ => "COPY file signature not recognized".to_string(),
                }))
            }
            Err(e) => return Err(bad_copy(e.to_string())),
        }
    }
    if decoder.is_finished() && decoder.buffered_len() > 0 {
        return Err(bad_copy("received copy data after EOF marker"));
    }
    if finished && !decoder.is_finished() && decoder.buffered_len() > 0 {
        // A header that never completed is no binary COPY file at all.
        return Err(bad_copy(if !decoder.is_header_read() {
            "COPY file signature not recognized"
        } else {
            "unexpected EOF in COPY data"
        }));
    }
    Ok(rows)
}

/// Splits one record into fields (`None`: NULL).
pub(crate) fn decode_record(
    record: &[u8],
    options: &Options,
) -> Result<Vec<Option<Vec<u8>>>, Box<DbError>> {
    if options.csv {
        decode_csv(record, options)
    } else {
        decode_text(record, options)
    }
}

fn decode_text(record: &[u8], options: &Options) -> Result<Vec<Option<Vec<u8>>>, Box<DbError>> {
    let mut fields = Vec::new();
    for raw in record.split(|b| *b == options.delimiter) {
        if raw == options.null.as_bytes() {
            fields.push(None);
            continue;
        }
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while let Some(&b) = raw.get(i) {
            i += 1;
            if b != b'\\' {
                out.push(b);
                continue;
            }
            let Some(&e) = raw.get(i) else {
                // A trailing backslash stands for itself.
                out.push(b'\\');
                break;
            };
            i += 1;
            match e {
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'v' => out.push(11),
                b'0'..=b'7' => {
                    let mut v = u32::from(e - b'0');
                    for _ in 0..2 {
                        match raw.get(i) {
                            Some(&d @ b'0'..=b'7') => {
                                v = v * 8 + u32::from(d - b'0');
                                i += 1;
                            }
                            _ => break,
                        }
                    }
                    out.push((v & 0xff) as u8);
                }
                b'x' => {
                    let mut v = 0u32;
                    let mut digits = 0;
                    while digits < 2 {
                        match raw.get(i).and_then(|d| (*d as char).to_digit(16)) {
                            Some(d) => {
                                v = v * 16 + d;
                                i += 1;
                                digits += 1;
                            }
                            None => break,
                        }
                    }
                    if digits == 0 {
                        out.push(b'x');
                    } else {
                        out.push((v & 0xff) as u8);
                    }
                }
                other => out.push(other),
            }
        }
        fields.push(Some(out));
    }
    Ok(fields)
}

fn decode_csv(record: &[u8], options: &Options) -> Result<Vec<Option<Vec<u8>>>, Box<DbError>> {
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        let mut out = Vec::new();
        let mut quoted = false;
        let raw_start = i;
        // A field: unquoted bytes and quoted sections.
        loop {
            match record.get(i) {
                None => break,
                Some(&b) if b == options.delimiter => break,
                Some(&b) if b == options.quote => {
                    quoted = true;
                    i += 1;
                    loop {
                        match record.get(i) {
                            None => return Err(bad_copy("unterminated CSV quoted field")),
                            Some(&c)
                                if c == options.escape
                                    && record.get(i + 1) == Some(&options.quote) =>
                            {
                                out.push(options.quote);
                                i += 2;
                            }
                            Some(&c) if c == options.quote => {
                                i += 1;
                                break;
                            }
                            Some(&c) => {
                                out.push(c);
                                i += 1;
                            }
                        }
                    }
                }
                Some(&b) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        let raw = record.get(raw_start..i).unwrap_or_default();
        // Only an unquoted field matching the NULL string is NULL.
        if !quoted && raw == options.null.as_bytes() {
            fields.push(None);
        } else {
            fields.push(Some(out));
        }
        match record.get(i) {
            // The delimiter: another field follows.
            Some(_) => i += 1,
            None => break,
        }
    }
    Ok(fields)
}

/// Appends one row (`None`: NULL) in the format, with its line end.
pub(crate) fn encode_row(out: &mut Vec<u8>, values: &[Option<Vec<u8>>], options: &Options) {
    for (n, v) in values.iter().enumerate() {
        if n > 0 {
            out.push(options.delimiter);
        }
        match v {
            None => out.extend_from_slice(options.null.as_bytes()),
            Some(v) if options.csv => encode_csv_field(out, v, options),
            Some(v) => {
                for &b in v {
                    match b {
                        b'\\' => out.extend_from_slice(b"\\\\"),
                        b'\n' => out.extend_from_slice(b"\\n"),
                        b'\r' => out.extend_from_slice(b"\\r"),
                        b'\t' => out.extend_from_slice(b"\\t"),
                        8 => out.extend_from_slice(b"\\b"),
                        12 => out.extend_from_slice(b"\\f"),
                        11 => out.extend_from_slice(b"\\v"),
                        b if b == options.delimiter => {
                            out.push(b'\\');
                            out.push(b);
                        }
                        b => out.push(b),
                    }
                }
            }
        }
    }
    out.push(b'\n');
}

fn encode_csv_field(out: &mut Vec<u8>, v: &[u8], options: &Options) {
    let needs_quotes = v.is_empty() && options.null.is_empty()
        || v == options.null.as_bytes()
        || v.iter()
            .any(|&b| b == options.delimiter || b == options.quote || b == b'\n' || b == b'\r')
        || v == b"\\.";
    if !needs_quotes {
        out.extend_from_slice(v);
        return;
    }
    out.push(options.quote);
    for &b in v {
        if b == options.quote || b == options.escape {
            out.push(options.escape);
        }
        out.push(b);
    }
    out.push(options.quote);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(sql: &str) -> CopyStatement {
        parse(sql).unwrap().unwrap()
    }

    #[test]
    fn parses_both_syntaxes() {
        let s = stmt("COPY t FROM STDIN");
        assert!(s.from_stdin && !s.options.csv);
        let s = stmt("copy public.t (a, \"B\") to stdout with (format csv, header, delimiter ';')");
        assert_eq!(
            s.source,
            Source::Table {
                name: "t".into(),
                columns: Some(vec!["a".into(), "B".into()])
            }
        );
        assert!(s.options.csv && s.options.header && s.options.delimiter == b';');
        assert_eq!(s.options.null, "");
        let s = stmt("COPY t TO STDOUT WITH CSV HEADER NULL AS 'nil'");
        assert!(s.options.csv && s.options.header && s.options.null == "nil");
        let s = stmt("copy (select 1, '(x)') to stdout");
        assert_eq!(s.source, Source::Query("select 1, '(x)'".into()));
        assert!(parse("select 1").is_none());
        assert!(parse("copy t from '/etc/passwd'").unwrap().is_err());
        assert!(stmt("copy t from stdin (format binary)").options.binary);
        assert!(stmt("COPY t TO STDOUT BINARY").options.binary);
        assert!(parse("copy t from stdin with header").unwrap().is_err());
        // PostgreSQL's refusals for options binary data has no use for.
        for (sql, message) in [
            (
                "copy t from stdin (format binary, header)",
                "cannot specify HEADER in BINARY mode",
            ),
            (
                "copy t to stdout (format binary, null 'x')",
                "cannot specify NULL in BINARY mode",
            ),
            (
                "copy t to stdout (format binary, delimiter ',')",
                "cannot specify DELIMITER in BINARY mode",
            ),
            (
                "copy t to stdout (format xml)",
                "COPY format \"xml\" not recognized",
            ),
        ] {
            let e = parse(sql).unwrap().unwrap_err();
            assert_eq!(
                (e.code.code(), e.message.as_str()),
                ("42601", message),
                "{sql}"
            );
        }
    }

    fn binary_file(tuples: &[Vec<Option<Vec<u8>>>], trailer: bool) -> Vec<u8> {
        let mut file = binary_header();
        for t in tuples {
            binary_tuple(&mut file, t);
        }
        if trailer {
            file.extend_from_slice(BINARY_TRAILER);
        }
        file
    }

    fn fields(rows: Vec<CopyRow>) -> Vec<Vec<Option<Vec<u8>>>> {
        rows.iter()
            .map(|r| {
                r.fields()
                    .iter()
                    .map(|f| f.as_ref().map(|b| b.to_vec()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn binary_rows_arrive_in_any_split() {
        let tuples = vec![
            vec![Some(7i32.to_be_bytes().to_vec()), Some(b"seven".to_vec())],
            vec![None, Some(Vec::new())],
            vec![Some(8i32.to_be_bytes().to_vec()), None],
        ];
        let file = binary_file(&tuples, true);
        for chunk in 1..=file.len() {
            let (mut decoder, mut got) = (BinaryCopyDecoder::new(), Vec::new());
            let pieces: Vec<&[u8]> = file.chunks(chunk).collect();
            for (i, piece) in pieces.iter().enumerate() {
                let last = i + 1 == pieces.len();
                got.extend(fields(binary_rows(&mut decoder, piece, 2, last).unwrap()));
            }
            assert_eq!(got, tuples, "chunks of {chunk}");
        }
        // Without the trailer, as PostgreSQL accepts.
        let file = binary_file(&tuples, false);
        let rows = binary_rows(&mut BinaryCopyDecoder::new(), &file, 2, true).unwrap();
        assert_eq!(fields(rows), tuples);
    }

    #[test]
    fn bad_binary_data_gets_postgresql_errors() {
        let one = vec![vec![Some(b"x".to_vec())]];
        let header = binary_header();
        let cases: Vec<(Vec<u8>, usize, &str)> = vec![
            (
                b"PGCOPY\nXXXXXXXXXXXX".to_vec(),
                1,
                "COPY file signature not recognized",
            ),
            (b"PGCO".to_vec(), 1, "COPY file signature not recognized"),
            (
                binary_file(&one, true),
                2,
                "row field count is 1, expected 2",
            ),
            (
                [binary_file(&one, true), b"more".to_vec()].concat(),
                1,
                "received copy data after EOF marker",
            ),
            (
                [&header[..], &[0, 1, 0xff, 0xff, 0xff, 0xfe]].concat(),
                1,
                "invalid field size",
            ),
            (
                [&header[..], &[0, 1, 0, 0, 0, 9, b'x']].concat(),
                1,
                "unexpected EOF in COPY data",
            ),
            (
                [&SIGNATURE[..], &[0, 1, 0, 0], &[0; 4]].concat(),
                1,
                "invalid COPY file header (WITH OIDS)",
            ),
            (
                [&SIGNATURE[..], &[0, 2, 0, 0], &[0; 4]].concat(),
                1,
                "unrecognized critical flags in COPY file header",
            ),
        ];
        for (file, columns, message) in cases {
            let e = binary_rows(&mut BinaryCopyDecoder::new(), &file, columns, true).unwrap_err();
            assert_eq!((e.code.code(), e.message.as_str()), ("22P04", message));
        }
        // Data after the trailer, in a later CopyData.
        let mut decoder = BinaryCopyDecoder::new();
        binary_rows(&mut decoder, &binary_file(&one, true), 1, false).unwrap();
        let e = binary_rows(&mut decoder, b"x", 1, true).unwrap_err();
        assert_eq!(e.message, "received copy data after EOF marker");
        // A huge declared length waits for its bytes; nothing is allocated for it.
        let mut decoder = BinaryCopyDecoder::new();
        let file = [&header[..], &[0, 1, 0x7f, 0xff, 0xff, 0xff, b'x']].concat();
        assert!(binary_rows(&mut decoder, &file, 1, false)
            .unwrap()
            .is_empty());
        assert_eq!(decoder.buffered_len(), 7);
    }

    #[test]
    fn text_round_trip() {
        let o = Options::default();
        let values = vec![Some(b"a\tb\\c\nd".to_vec()), None, Some(Vec::new())];
        let mut out = Vec::new();
        encode_row(&mut out, &values, &o);
        assert_eq!(out, b"a\\tb\\\\c\\nd\t\\N\t\n");
        let mut buf = out.clone();
        let records = take_records(&mut buf, &o, false);
        assert_eq!(records.len(), 1);
        assert_eq!(decode_record(&records[0], &o).unwrap(), values);
        assert_eq!(
            decode_record(b"\\101\\x42\\q", &o).unwrap(),
            vec![Some(b"ABq".to_vec())]
        );
    }

    #[test]
    fn csv_round_trip_and_split_records() {
        let o = stmt("copy t from stdin csv").options;
        let values = vec![
            Some(b"a,b".to_vec()),
            None,
            Some(Vec::new()),
            Some(b"line\nbreak \"q\"".to_vec()),
        ];
        let mut out = Vec::new();
        encode_row(&mut out, &values, &o);
        assert_eq!(out, b"\"a,b\",,\"\",\"line\nbreak \"\"q\"\"\"\n");
        // Delivered in two pieces, split inside the quoted newline.
        let (a, b) = out.split_at(20);
        let mut buf = a.to_vec();
        assert!(take_records(&mut buf, &o, false).is_empty());
        buf.extend_from_slice(b);
        let records = take_records(&mut buf, &o, false);
        assert_eq!(records.len(), 1);
        assert_eq!(decode_record(&records[0], &o).unwrap(), values);
        assert!(decode_record(b"\"open", &o).is_err());
        // A last line without newline counts at the end.
        let mut buf = b"1,2\n3,4".to_vec();
        assert_eq!(take_records(&mut buf, &o, false).len(), 1);
        assert_eq!(take_records(&mut buf, &o, true), vec![b"3,4".to_vec()]);
    }
}
