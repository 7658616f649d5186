//! More of PostgreSQL's everyday functions SQLite lacks: `encode(bytea, format)` and
//! `decode(text, format)` (`hex`, `base64`, `escape`), `sha256`/`sha512` of bytea,
//! `quote_literal`/`quote_nullable`, `make_date`, and the `bit_and`/`bit_or`
//! aggregates of integers. [`rewrite_expr`] types the calls as PostgreSQL types them
//! (`pg_typed`); [`register_functions`] registers them. A text argument where bytea is
//! expected, and a literal cast to bytea (`'\x00ff'::bytea`, made a blob literal), is
//! read as PostgreSQL reads bytea input (`\x` hex, or the escape format).

use base64::Engine;
use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use sqlparser::ast::Expr;

use crate::functions::{text_value, user_error};
use crate::pgsql::{function_args, ident_parts, parse_expr};
use crate::sql::Unsupported;

/// The functions of this module, typed (see the module docs); whether `expr` changed.
pub(crate) fn rewrite_expr(expr: &mut Expr) -> Result<bool, Unsupported> {
    // `'...'::bytea` reads the text as bytea input (`\x00ff` is two bytes), not its
    // bytes: a blob literal.
    if let Expr::Cast {
        kind,
        expr: inner,
        data_type: data_type @ sqlparser::ast::DataType::Bytea,
        ..
    } = expr
    {
        if let Expr::Value(v) = &**inner {
            if let sqlparser::ast::Value::SingleQuotedString(s) = &v.value {
                let bytes = bytea_arg(ValueRef::Text(s.as_bytes()))
                    .map_err(Unsupported)?
                    .unwrap_or_default();
                let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
                **inner = Expr::value(sqlparser::ast::Value::HexStringLiteral(hex));
                // `CAST(X'..' AS BLOB)`: the token pass reads no `::` after a blob.
                *kind = sqlparser::ast::CastKind::Cast;
                *data_type = sqlparser::ast::DataType::Blob(None);
                return Ok(true);
            }
        }
        return Ok(false);
    }
    let Expr::Function(f) = expr else {
        return Ok(false);
    };
    let parts = ident_parts(&f.name);
    let [name] = parts.as_slice() else {
        return Ok(false);
    };
    let args = function_args(f);
    let text = match (name.as_str(), args.as_slice()) {
        ("encode", [b, fmt]) => format!("pg_typed(pg_encode({b}, {fmt}), 'TEXT')"),
        ("decode", [t, fmt]) => format!("pg_typed(pg_decode({t}, {fmt}), 'BYTEA')"),
        ("sha256" | "sha512", [b]) => format!("pg_typed(pg_{name}({b}), 'BYTEA')"),
        ("quote_literal" | "quote_nullable", [x]) => {
            format!("pg_typed(pg_{name}({x}), 'TEXT')")
        }
        ("make_date", [y, m, d]) => format!("pg_typed(pg_make_date({y}, {m}, {d}), 'DATE')"),
        _ => return Ok(false),
    };
    *expr = parse_expr(&text)?;
    Ok(true)
}

/// Hex digits to bytes, whitespace between pairs skipped, as PostgreSQL's `hex_decode`.
fn hex_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len() / 2);
    let mut chars = s.chars().filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'));
    let digit = |c: char| {
        c.to_digit(16)
            .ok_or_else(|| format!("[22023] invalid hexadecimal digit: \"{c}\""))
    };
    while let Some(hi) = chars.next() {
        let hi = digit(hi)?;
        let lo = chars
            .next()
            .ok_or_else(|| "[22023] invalid hexadecimal data: odd number of digits".to_string())?;
        let lo = digit(lo)?;
        out.push(u8::try_from(hi * 16 + lo).unwrap_or(0));
    }
    Ok(out)
}

/// bytea's escape format read (`\\` and `\ooo`), as `decode(t, 'escape')` and bytea
/// input read it.
fn escape_decode(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        if b.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
            continue;
        }
        let octal = b.get(i + 1..i + 4).filter(|d| {
            matches!(d[0], b'0'..=b'3') && d[1..].iter().all(|c| (b'0'..=b'7').contains(c))
        });
        let Some(d) = octal else {
            return Err("[22P02] invalid input syntax for type bytea".to_string());
        };
        out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
        i += 4;
    }
    Ok(out)
}

/// A bytea argument's bytes: a blob as it is, text read as bytea input.
fn bytea_arg(v: ValueRef<'_>) -> Result<Option<Vec<u8>>, String> {
    Ok(match v {
        ValueRef::Null => None,
        ValueRef::Blob(b) => Some(b.to_vec()),
        ValueRef::Text(t) => {
            let t = String::from_utf8_lossy(t);
            Some(match t.strip_prefix("\\x") {
                Some(hex) => hex_decode(hex)?,
                None => escape_decode(&t)?,
            })
        }
        ValueRef::Integer(n) => Some(n.to_string().into_bytes()),
        ValueRef::Real(r) => Some(crate::types::format_float(r).into_bytes()),
    })
}

/// `encode(bytes, format)`.
pub(crate) fn encode(bytes: &[u8], format: &str) -> Result<String, String> {
    Ok(match format.to_ascii_lowercase().as_str() {
        "hex" => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        "base64" => {
            // Lines of 76 characters, as PostgreSQL writes them.
            let all = base64::engine::general_purpose::STANDARD.encode(bytes);
            let lines: Vec<&str> = all
                .as_bytes()
                .chunks(76)
                .map(|c| std::str::from_utf8(c).unwrap_or(""))
                .collect();
            lines.join("\n")
        }
        "escape" => {
            let mut out = String::with_capacity(bytes.len());
            for &b in bytes {
                match b {
                    0 | 0x80..=0xff => out.push_str(&format!("\\{b:03o}")),
                    b'\\' => out.push_str("\\\\"),
                    b => out.push(char::from(b)),
                }
            }
            out
        }
        other => return Err(format!("[22023] unrecognized encoding: \"{other}\"")),
    })
}

/// `decode(text, format)`.
pub(crate) fn decode(text: &str, format: &str) -> Result<Vec<u8>, String> {
    match format.to_ascii_lowercase().as_str() {
        "hex" => hex_decode(text),
        "base64" => {
            let compact: String = text
                .chars()
                .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'))
                .collect();
            if let Some(bad) = compact
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
            {
                return Err(format!(
                    "[22023] invalid symbol \"{bad}\" found while decoding base64 sequence"
                ));
            }
            base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .map_err(|_| "[22023] invalid base64 end sequence".to_string())
        }
        "escape" => escape_decode(text),
        other => Err(format!("[22023] unrecognized encoding: \"{other}\"")),
    }
}

/// `quote_literal(s)`: quoted, quotes doubled; with a backslash, an `E'...'` string
/// with it doubled.
pub(crate) fn quote_literal(s: &str) -> String {
    let body = s.replace('\'', "''");
    if s.contains('\\') {
        format!("E'{}'", body.replace('\\', "\\\\"))
    } else {
        format!("'{body}'")
    }
}

/// `make_date(year, month, day)` as PostgreSQL writes the date; 22008 for a date that
/// does not exist, 0A000 for years outside 1..=9999.
pub(crate) fn make_date(y: i64, m: i64, d: i64) -> Result<String, String> {
    let out_of_range = || format!("[22008] date field value out of range: {y}-{m:02}-{d:02}");
    if y == 0 {
        return Err(out_of_range());
    }
    if !(1..=9999).contains(&y) {
        return Err(format!(
            "[0A000] make_date() of year {y} (outside 1 to 9999) is not supported"
        ));
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(out_of_range()),
    };
    if !(1..=days).contains(&d) {
        return Err(out_of_range());
    }
    Ok(format!("{y:04}-{m:02}-{d:02}"))
}

/// `bit_and`/`bit_or` of integers (NULLs skipped; NULL for none).
struct BitAggregate {
    or: bool,
}

impl Aggregate<Option<i64>, Option<i64>> for BitAggregate {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Option<i64>> {
        Ok(None)
    }

    fn step(&self, ctx: &mut Context<'_>, acc: &mut Option<i64>) -> rusqlite::Result<()> {
        let v = match ctx.get_raw(0) {
            ValueRef::Null => return Ok(()),
            ValueRef::Integer(i) => i,
            _ => {
                return Err(user_error(format!(
                    "[42883] function {}() of a value other than an integer does not exist",
                    if self.or { "bit_or" } else { "bit_and" }
                )))
            }
        };
        *acc = Some(match *acc {
            None => v,
            Some(a) if self.or => a | v,
            Some(a) => a & v,
        });
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<Option<i64>>,
    ) -> rusqlite::Result<Option<i64>> {
        Ok(acc.flatten())
    }
}

/// Registers this module's functions on a connection.
pub(crate) fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("pg_encode", 2, flags, |ctx| {
        let (Some(b), Some(f)) = (
            bytea_arg(ctx.get_raw(0)).map_err(user_error)?,
            text_value(ctx.get_raw(1)),
        ) else {
            return Ok(None);
        };
        encode(&b, &f).map(Some).map_err(user_error)
    })?;
    conn.create_scalar_function("pg_decode", 2, flags, |ctx| {
        let (Some(t), Some(f)) = (text_value(ctx.get_raw(0)), text_value(ctx.get_raw(1))) else {
            return Ok(None);
        };
        decode(&t, &f).map(Some).map_err(user_error)
    })?;
    conn.create_scalar_function("pg_sha256", 1, flags, |ctx| {
        use sha2::Digest;
        Ok(bytea_arg(ctx.get_raw(0))
            .map_err(user_error)?
            .map(|b| sha2::Sha256::digest(&b).to_vec()))
    })?;
    conn.create_scalar_function("pg_sha512", 1, flags, |ctx| {
        use sha2::Digest;
        Ok(bytea_arg(ctx.get_raw(0))
            .map_err(user_error)?
            .map(|b| sha2::Sha512::digest(&b).to_vec()))
    })?;
    conn.create_scalar_function("pg_quote_literal", 1, flags, |ctx| {
        Ok(text_value(ctx.get_raw(0)).map(|s| quote_literal(&s)))
    })?;
    conn.create_scalar_function("pg_quote_nullable", 1, flags, |ctx| {
        Ok(text_value(ctx.get_raw(0)).map_or_else(|| "NULL".to_string(), |s| quote_literal(&s)))
    })?;
    conn.create_scalar_function("pg_make_date", 3, flags, |ctx| {
        let (Some(y), Some(m), Some(d)) = (
            ctx.get::<Option<i64>>(0)?,
            ctx.get::<Option<i64>>(1)?,
            ctx.get::<Option<i64>>(2)?,
        ) else {
            return Ok(None);
        };
        make_date(y, m, d).map(Some).map_err(user_error)
    })?;
    for (name, or) in [("bit_and", false), ("bit_or", true)] {
        conn.create_aggregate_function(name, 1, flags, BitAggregate { or })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(sql: &str) -> Result<String, String> {
        let conn = Connection::open_in_memory().unwrap();
        crate::catalog::register_functions(&conn).unwrap();
        crate::usertypes::register_functions(&conn).unwrap();
        register_functions(&conn).unwrap();
        conn.execute_batch("CREATE TABLE t (x INT); INSERT INTO t VALUES (12), (10), (NULL);")
            .unwrap();
        let sql = crate::sql::rewrite(sql).map_err(|e| e.0)?;
        conn.query_row(&sql, [], |r| {
            Ok((0..r.as_ref().column_count())
                .map(|i| match r.get_ref(i).unwrap() {
                    ValueRef::Blob(b) => b.iter().map(|c| format!("{c:02x}")).collect(),
                    v => text_value(v).unwrap_or_else(|| "NULL".into()),
                })
                .collect::<Vec<_>>()
                .join(" | "))
        })
        .map_err(|e| e.to_string())
    }

    #[test]
    fn calls_are_typed() {
        let rw = |sql: &str| crate::pgsql::rewrite(sql).unwrap().unwrap();
        assert_eq!(
            rw("select '\\x00ff'::bytea, encode('a\\\\'::bytea, 'hex') from t"),
            "SELECT CAST(X'00FF' AS BLOB), pg_typed(pg_encode(CAST(X'615C' AS BLOB), 'hex'), 'TEXT') AS \"encode\" FROM t"
        );
        assert_eq!(
            rw("select encode(sha256('abc'), 'hex'), make_date(2024, 2, 29)"),
            "SELECT pg_typed(pg_encode(pg_typed(pg_sha256('abc'), 'BYTEA'), 'hex'), 'TEXT') AS \"encode\", \
             pg_typed(pg_make_date(2024, 2, 29), 'DATE') AS \"make_date\""
        );
    }

    #[test]
    fn answers_are_postgresql_s() {
        // Expected answers are PostgreSQL 15's (see also tests/functions_oracle.rs).
        assert_eq!(
            one("select encode(sha256('abc'), 'hex')").unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            one("select encode('\\x00ff5c41', 'escape'), encode('hello', 'base64'), decode('aGVsbG8=', 'base64'), decode('00 ff', 'hex')")
                .unwrap(),
            "\\000\\377\\\\A | aGVsbG8= | 68656c6c6f | 00ff"
        );
        assert_eq!(encode(&[b'a'; 60], "base64").unwrap().lines().count(), 2);
        assert_eq!(
            one("select quote_literal('it''s'), quote_literal('a\\b'), quote_nullable(NULL), quote_literal(NULL)")
                .unwrap(),
            "'it''s' | E'a\\\\b' | NULL | NULL"
        );
        assert_eq!(
            one("select make_date(2024, 2, 29), bit_and(x), bit_or(x) from t").unwrap(),
            "2024-02-29 | 8 | 14"
        );
        for bad in [
            "select make_date(2023, 2, 29)",
            "select make_date(0, 1, 1)",
            "select decode('abc', 'hex')",
            "select decode('zz', 'hex')",
            "select decode('a', 'rot13')",
            "select decode('@@@@', 'base64')",
        ] {
            assert!(one(bad).unwrap_err().contains("[22"), "{bad}");
        }
    }
}
