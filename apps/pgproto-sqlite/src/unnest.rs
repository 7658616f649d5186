//! `UNNEST(array, ...)` in `FROM`, as Django 5.2's bulk inserts write it: `INSERT INTO t
//! (a, b) SELECT * FROM UNNEST(('{x,y}')::varchar[], ('{1,2}'::int2[])::integer[])`.
//! Each argument (an array literal or parameter in PostgreSQL's text form, cast to an
//! array type) becomes a JSON array (`_pgproto_array_json(value, element type)`) that SQLite's
//! `json_each` reads; the arrays are zipped by position as PostgreSQL zips them (the
//! shorter padded with NULLs), in order.

use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;

use crate::sql::{matching_close, tokenize, Kind};

/// The statement with its `FROM UNNEST(...)` rewritten; `None` when it has none.
pub(crate) fn rewrite(sql: &str) -> Option<String> {
    let toks = tokenize(sql);
    let at = toks.iter().enumerate().position(|(i, t)| {
        t.is(sql, "UNNEST")
            && i > 0
            && toks.get(i - 1).is_some_and(|p| p.is(sql, "FROM"))
            && toks.get(i + 1).is_some_and(|p| p.is_punct(sql, "("))
    })?;
    let open = at + 1;
    let close = matching_close(sql, &toks, open)?;
    // The arguments, split on commas at depth 0.
    let mut args = Vec::new();
    let mut depth = 0usize;
    let mut start = open + 1;
    for k in open + 1..=close {
        let t = toks.get(k)?;
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") && k != close {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && (t.is_punct(sql, ",") || k == close) {
            args.push((start, k));
            start = k + 1;
        }
    }
    let mut arrays = Vec::new();
    for (a, b) in args {
        let text = sql.get(toks.get(a)?.start..toks.get(b.checked_sub(1)?)?.end)?;
        arrays.push(array_argument(text)?);
    }
    let n = arrays.len();
    let mut from = String::new();
    let mut keys = Vec::new();
    for (i, (value, element)) in arrays.iter().enumerate() {
        let j = i + 1;
        let each = format!(
            "json_each(_pgproto_array_json({value}, '{}')) AS _pgproto_unnest{j}",
            element.replace('\'', "''")
        );
        if i == 0 {
            from.push_str(&each);
        } else {
            from.push_str(&format!(
                " FULL JOIN {each} ON _pgproto_unnest{j}.key = {}",
                first_of(&keys)
            ));
        }
        keys.push(format!("_pgproto_unnest{j}.key"));
    }
    let key = first_of(&keys);
    let columns = (1..=n)
        .map(|j| format!("_pgproto_unnest{j}.value AS unnest"))
        .collect::<Vec<_>>()
        .join(", ");
    let after = toks.get(close + 1);
    let alias_follows = after.is_some_and(|t| t.kind == Kind::Word || t.kind == Kind::Quoted)
        && !after.is_some_and(|t| {
            [
                "RETURNING",
                "WHERE",
                "ON",
                "ORDER",
                "GROUP",
                "LIMIT",
                "UNION",
            ]
            .iter()
            .any(|kw| t.is(sql, kw))
        });
    if alias_follows {
        // `UNNEST(...) AS u(a, b)`: not rewritten.
        return None;
    }
    // `INSERT ... SELECT ... ON CONFLICT`: SQLite reads `ON` after a `FROM` as a join's,
    // unless a `WHERE` comes between.
    let upsert = after.is_some_and(|t| t.is(sql, "ON"));
    Some(format!(
        "{}(SELECT {columns} FROM {from} ORDER BY {key}){}{}",
        sql.get(..toks.get(at)?.start)?,
        if upsert { " WHERE true" } else { "" },
        sql.get(toks.get(close)?.end..)?
    ))
}

/// The first of `keys` that is not NULL (SQLite's `coalesce` wants two or more).
fn first_of(keys: &[String]) -> String {
    match keys {
        [one] => one.clone(),
        _ => format!("coalesce({})", keys.join(", ")),
    }
}

/// An argument `((value)::t1[])::t2[]`: the value and the last cast's element type.
fn array_argument(text: &str) -> Option<(String, String)> {
    let mut text = text.trim();
    let mut element = None;
    loop {
        if let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
            let toks = tokenize(text);
            if matching_close(text, &toks, 0).is_some_and(|c| c + 1 == toks.len()) {
                text = inner.trim();
                continue;
            }
        }
        let toks = tokenize(text);
        // The last top-level `::type[]`.
        let mut depth = 0usize;
        let mut cast = None;
        for (k, t) in toks.iter().enumerate() {
            if t.is_punct(text, "(") {
                depth += 1;
            } else if t.is_punct(text, ")") {
                depth = depth.saturating_sub(1);
            } else if depth == 0 && t.is_punct(text, "::") {
                cast = Some(k);
            }
        }
        let Some(k) = cast else { break };
        let ty = text.get(toks.get(k + 1)?.start..)?.trim();
        let ty = ty.strip_suffix("[]")?.trim();
        if element.is_none() {
            element = Some(ty.to_ascii_lowercase());
        }
        text = text.get(..toks.get(k)?.start)?.trim();
    }
    Some((text.to_string(), element?))
}

/// PostgreSQL's text form of a one-dimensional array as a JSON array: elements of an
/// integer or boolean type as JSON numbers and booleans, others as strings, `NULL` as
/// null. Errors as PostgreSQL's (22P02), 0A000 for several dimensions.
pub(crate) fn array_json(text: &str, element: &str) -> Result<String, (String, String)> {
    let bad = || crate::ddl::err("22P02", format!("malformed array literal: \"{text}\""));
    let inner = text
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(bad)?;
    let mut items: Vec<Option<String>> = Vec::new();
    let mut chars = inner.chars().peekable();
    if !inner.trim().is_empty() {
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let mut item = String::new();
            let quoted = chars.peek() == Some(&'"');
            if quoted {
                chars.next();
                loop {
                    match chars.next().ok_or_else(bad)? {
                        '"' => break,
                        '\\' => item.push(chars.next().ok_or_else(bad)?),
                        c => item.push(c),
                    }
                }
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    if c == '{' {
                        return Err(crate::ddl::err(
                            "0A000",
                            "UNNEST of a multidimensional array is not supported",
                        ));
                    }
                    if c == '"' {
                        return Err(bad());
                    }
                    item.push(c);
                    chars.next();
                }
                item = item.trim().to_string();
            }
            if !quoted && item.eq_ignore_ascii_case("NULL") {
                items.push(None);
            } else if !quoted && item.is_empty() {
                return Err(bad());
            } else {
                items.push(Some(item));
            }
            match chars.next() {
                None => break,
                Some(',') => continue,
                Some(_) => return Err(bad()),
            }
        }
    }
    let (oid, _) = crate::types::declared(element);
    let mut out = Vec::new();
    for item in items {
        let Some(item) = item else {
            out.push("null".to_string());
            continue;
        };
        out.push(match oid {
            crate::types::INT2 | crate::types::INT4 | crate::types::INT8 => {
                let n: i64 = item.trim().parse().map_err(|_| {
                    crate::ddl::err(
                        "22P02",
                        format!("invalid input syntax for type {element}: \"{item}\""),
                    )
                })?;
                n.to_string()
            }
            crate::types::BOOL => match item.trim().to_ascii_lowercase().as_str() {
                "t" | "true" | "yes" | "on" | "1" | "y" => "true".to_string(),
                "f" | "false" | "no" | "off" | "0" | "n" => "false".to_string(),
                _ => {
                    return Err(crate::ddl::err(
                        "22P02",
                        format!("invalid input syntax for type boolean: \"{item}\""),
                    ))
                }
            },
            _ => json_string(&item),
        });
    }
    Ok(format!("[{}]", out.join(",")))
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Registers `_pgproto_array_json(array text, element type)`.
pub(crate) fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("_pgproto_array_json", 2, flags, |ctx| {
        let Some(text) = ctx.get::<Option<String>>(0)? else {
            return Ok(None);
        };
        let element: String = ctx.get(1)?;
        array_json(&text, &element)
            .map(Some)
            .map_err(|(code, m)| rusqlite::Error::UserFunctionError(format!("[{code}] {m}").into()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unnest_becomes_json_each() {
        let sql = r#"INSERT INTO "t" ("name", "n") SELECT * FROM UNNEST(('{"a b",c}')::varchar[], ('{1,2}'::int2[])::integer[]) RETURNING "t"."id""#;
        assert_eq!(
            rewrite(sql).unwrap(),
            r#"INSERT INTO "t" ("name", "n") SELECT * FROM (SELECT _pgproto_unnest1.value AS unnest, _pgproto_unnest2.value AS unnest FROM json_each(_pgproto_array_json('{"a b",c}', 'varchar')) AS _pgproto_unnest1 FULL JOIN json_each(_pgproto_array_json('{1,2}', 'integer')) AS _pgproto_unnest2 ON _pgproto_unnest2.key = _pgproto_unnest1.key ORDER BY coalesce(_pgproto_unnest1.key, _pgproto_unnest2.key)) RETURNING "t"."id""#
        );
        assert_eq!(rewrite("SELECT * FROM t"), None);
        assert_eq!(
            array_json(r#"{"a \"b\"",NULL,"NULL", x }"#, "text").unwrap(),
            r#"["a \"b\"",null,"NULL","x"]"#
        );
        assert_eq!(array_json("{1, -2}", "bigint").unwrap(), "[1,-2]");
        assert_eq!(array_json("{t,f}", "boolean").unwrap(), "[true,false]");
        assert_eq!(array_json("{}", "integer").unwrap(), "[]");
        assert_eq!(array_json("{x}", "integer").unwrap_err().0, "22P02");
        assert_eq!(array_json("{{1}}", "integer").unwrap_err().0, "0A000");
        assert_eq!(array_json("1,2", "integer").unwrap_err().0, "22P02");
    }

    #[test]
    fn unnest_runs_on_sqlite() {
        let conn = Connection::open_in_memory().unwrap();
        register_functions(&conn).unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name text, n int)")
            .unwrap();
        let sql = rewrite(
            "INSERT INTO t (name, n) SELECT * FROM UNNEST(('{a,b,c}')::varchar[], ('{1,2}')::integer[]) RETURNING id",
        )
        .unwrap();
        conn.execute_batch(&sql).unwrap();
        let sql = rewrite(
            "INSERT INTO t (id, name) SELECT * FROM UNNEST(('{1,9}')::integer[], ('{x,y}')::text[]) ON CONFLICT DO NOTHING",
        )
        .unwrap();
        conn.execute_batch(&sql).unwrap();
        let rows: Vec<(String, Option<i64>)> = conn
            .prepare("SELECT name, n FROM t ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            rows,
            vec![
                ("a".into(), Some(1)),
                ("b".into(), Some(2)),
                ("c".into(), None),
                ("y".into(), None)
            ]
        );
    }
}
