//! PostgreSQL's everyday array functions, on arrays kept as their text (`{a,"b c"}`,
//! see the `builtins` module): `string_to_array`, `cardinality`, `array_position`,
//! `array_append`, `array_prepend`, `array_cat`, `array_remove`, rewritten by
//! [`crate::pgsql`]'s visitor ([`rewrite_expr`]) into the functions registered here
//! ([`register_functions`]) and typed as PostgreSQL types them (an array function's
//! result as its array argument: by `pg_typed` where the syntax shows the array's type,
//! else by the column's declared type). Elements are compared as numbers when the
//! array's element type is numeric (or, when the array's type is not evident, when the
//! value sought is a number), else as text. Multidimensional arrays are refused with
//! 0A000.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use sqlparser::ast::{Expr, Value};

use crate::functions::{text_value, user_error};
use crate::jsonfuncs::{array_element, numeric_element};
use crate::pgsql::{function_args, ident_parts, parse_expr};
use crate::sql::Unsupported;

/// An element argument as the array's text writes it: a number literal as written
/// (SQLite would read `2.50` as a float), a boolean as `t`/`f`.
fn element_argument(arg: &str) -> String {
    match parse_expr(arg) {
        Ok(Expr::Value(v)) => match v.value {
            Value::Number(n, _) => format!("'{n}'"),
            Value::Boolean(b) => format!("'{}'", if b { "t" } else { "f" }),
            _ => arg.to_string(),
        },
        Ok(Expr::UnaryOp {
            op: sqlparser::ast::UnaryOperator::Minus,
            expr,
        }) if matches!(&*expr, Expr::Value(v) if matches!(v.value, Value::Number(..))) => {
            format!("'-{expr}'")
        }
        _ => arg.to_string(),
    }
}

/// How elements compare: 1 as numbers, 0 as text, -1 by the sought value's type.
fn comparison(array: &str) -> i32 {
    match parse_expr(array).ok().as_ref().and_then(array_element) {
        Some(e) => i32::from(numeric_element(e)),
        None => -1,
    }
}

/// The array functions, rewritten in place (see the module docs); whether `expr`
/// changed.
pub(crate) fn rewrite_expr(expr: &mut Expr) -> Result<bool, Unsupported> {
    let Expr::Function(f) = expr else {
        return Ok(false);
    };
    let parts = ident_parts(&f.name);
    let [name] = parts.as_slice() else {
        return Ok(false);
    };
    let args = function_args(f);
    // The type of the array in argument `i`, when the syntax shows it.
    let typed = |call: String, i: usize| -> String {
        match args
            .get(i)
            .and_then(|a| parse_expr(a).ok())
            .as_ref()
            .and_then(array_element)
        {
            Some(e) => format!("pg_typed({call}, '{}[]')", crate::types::type_name(e)),
            None => call,
        }
    };
    let text = match (name.as_str(), args.as_slice()) {
        ("string_to_array", [s, d]) => {
            format!("pg_typed(pg_string_to_array({s}, {d}, NULL), 'TEXT[]')")
        }
        ("string_to_array", [s, d, n]) => {
            format!("pg_typed(pg_string_to_array({s}, {d}, {n}), 'TEXT[]')")
        }
        ("cardinality", [a]) => format!("pg_typed(pg_cardinality({a}), 'INT4')"),
        ("array_position", [a, x]) => format!(
            "pg_typed(pg_array_position({a}, {}, {}), 'INT4')",
            element_argument(x),
            comparison(a)
        ),
        ("array_append", [a, x]) => typed(format!("array_append({a}, {})", element_argument(x)), 0),
        ("array_prepend", [x, a]) => {
            typed(format!("pg_array_prepend({a}, {})", element_argument(x)), 1)
        }
        ("array_remove", [a, x]) => typed(
            format!(
                "array_remove({a}, {}, {})",
                element_argument(x),
                comparison(a)
            ),
            0,
        ),
        ("array_cat", [a, b]) => {
            let call = format!("array_cat({a}, {b})");
            match typed(call.clone(), 0) {
                t if t != call => t,
                _ => typed(call, 1),
            }
        }
        _ => return Ok(false),
    };
    *expr = parse_expr(&text)?;
    Ok(true)
}

/// An array's elements; 0A000 for a multidimensional array or one with bounds.
fn elements(text: &str) -> Result<Vec<Option<String>>, String> {
    let t = text.trim();
    if t.starts_with("{{") || t.starts_with('[') {
        return Err(
            "[0A000] multidimensional arrays and arrays with bounds are not supported".to_string(),
        );
    }
    if !t.starts_with('{') || !t.ends_with('}') {
        return Err(format!("[22P02] malformed array literal: \"{text}\""));
    }
    Ok(crate::catalog::array_elements(t))
}

/// An array's text from its elements, quoted as PostgreSQL's output quotes them.
fn array_text(items: &[Option<String>]) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|i| match i {
            Some(s) => crate::builtins::quote_element(s),
            None => "NULL".to_string(),
        })
        .collect();
    format!("{{{}}}", items.join(","))
}

/// Whether element `e` is `x` (both NULL too, as `IS NOT DISTINCT FROM`).
fn same(e: &Option<String>, x: &Option<String>, numeric: bool) -> bool {
    match (e, x) {
        (None, None) => true,
        (Some(a), Some(b)) if numeric => match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
            (Ok(p), Ok(q)) => p == q && number_text_equal(a.trim(), b.trim()),
            _ => a == b,
        },
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Whether two decimal texts are the same number (`1.0` and `1`), exactly.
fn number_text_equal(a: &str, b: &str) -> bool {
    let key = |s: &str| {
        let (neg, d) = match s.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        if d.contains(['e', 'E']) {
            return s.to_string();
        }
        let (i, f) = d.split_once('.').unwrap_or((d, ""));
        let (i, f) = (i.trim_start_matches('0'), f.trim_end_matches('0'));
        let zero = i.is_empty() && f.is_empty();
        format!("{}{i}.{f}", if neg && !zero { "-" } else { "" })
    };
    key(a) == key(b)
}

/// `string_to_array(s, delimiter, null_string)`.
fn string_to_array(s: &str, delimiter: Option<&str>, null: Option<&str>) -> String {
    let parts: Vec<String> = if s.is_empty() {
        Vec::new()
    } else {
        match delimiter {
            None => s.chars().map(String::from).collect(),
            Some("") => vec![s.to_string()],
            Some(d) => s.split(d).map(String::from).collect(),
        }
    };
    let items: Vec<Option<String>> = parts
        .into_iter()
        .map(|p| (Some(p.as_str()) != null).then_some(p))
        .collect();
    array_text(&items)
}

/// Registers this module's functions on a connection.
pub(crate) fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("pg_string_to_array", 3, flags, |ctx| {
        let Some(s) = text_value(ctx.get_raw(0)) else {
            return Ok(None);
        };
        let (d, n) = (text_value(ctx.get_raw(1)), text_value(ctx.get_raw(2)));
        Ok(Some(string_to_array(&s, d.as_deref(), n.as_deref())))
    })?;
    conn.create_scalar_function("pg_cardinality", 1, flags, |ctx| {
        let Some(a) = text_value(ctx.get_raw(0)) else {
            return Ok(None);
        };
        Ok(Some(elements(&a).map_err(user_error)?.len() as i64))
    })?;
    // The comparison: 1 numbers, 0 text, -1 numbers when the value sought is one.
    let numeric = |ctx: &rusqlite::functions::Context<'_>| -> rusqlite::Result<bool> {
        Ok(match ctx.get::<i64>(2)? {
            -1 => matches!(ctx.get_raw(1), ValueRef::Integer(_) | ValueRef::Real(_)),
            n => n != 0,
        })
    };
    conn.create_scalar_function("pg_array_position", 3, flags, move |ctx| {
        let Some(a) = text_value(ctx.get_raw(0)) else {
            return Ok(None);
        };
        let x = text_value(ctx.get_raw(1));
        let numeric = numeric(ctx)?;
        Ok(elements(&a)
            .map_err(user_error)?
            .iter()
            .position(|e| same(e, &x, numeric))
            .map(|i| i as i64 + 1))
    })?;
    conn.create_scalar_function("array_remove", 3, flags, move |ctx| {
        let Some(a) = text_value(ctx.get_raw(0)) else {
            return Ok(None);
        };
        let x = text_value(ctx.get_raw(1));
        let numeric = numeric(ctx)?;
        let mut items = elements(&a).map_err(user_error)?;
        items.retain(|e| !same(e, &x, numeric));
        Ok(Some(array_text(&items)))
    })?;
    for (name, prepend) in [("array_append", false), ("pg_array_prepend", true)] {
        conn.create_scalar_function(name, 2, flags, move |ctx| {
            let mut items = match text_value(ctx.get_raw(0)) {
                Some(a) => elements(&a).map_err(user_error)?,
                None => Vec::new(),
            };
            let x = text_value(ctx.get_raw(1));
            if prepend {
                items.insert(0, x);
            } else {
                items.push(x);
            }
            Ok(Some(array_text(&items)))
        })?;
    }
    conn.create_scalar_function("array_cat", 2, flags, |ctx| {
        let (a, b) = (text_value(ctx.get_raw(0)), text_value(ctx.get_raw(1)));
        if a.is_none() && b.is_none() {
            return Ok(None);
        }
        let mut items = match a {
            Some(a) => elements(&a).map_err(user_error)?,
            None => Vec::new(),
        };
        if let Some(b) = b {
            items.extend(elements(&b).map_err(user_error)?);
        }
        Ok(Some(array_text(&items)))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::pgsql::rewritten_or_error as rw;

    fn one(sql: &str) -> Result<String, String> {
        let conn = Connection::open_in_memory().unwrap();
        crate::catalog::register_functions(&conn).unwrap();
        register_functions(&conn).unwrap();
        let sql = crate::sql::rewrite(sql).map_err(|e| e.0)?;
        conn.query_row(&sql, [], |r| {
            Ok((0..r.as_ref().column_count())
                .map(|i| text_value(r.get_ref(i).unwrap()).unwrap_or_else(|| "NULL".into()))
                .collect::<Vec<_>>()
                .join(" | "))
        })
        .map_err(|e| e.to_string())
    }

    #[test]
    fn array_functions_become_typed_calls() {
        assert_eq!(
            rw("select string_to_array('a,b', ','), cardinality(tags), array_position(tags, 'x') from t"),
            "SELECT pg_typed(pg_string_to_array('a,b', ',', NULL), 'TEXT[]') AS \"string_to_array\", \
             pg_typed(pg_cardinality(tags), 'INT4') AS \"cardinality\", \
             pg_typed(pg_array_position(tags, 'x', -1), 'INT4') AS \"array_position\" FROM t"
        );
        assert_eq!(
            rw("select array_append(array[1.5], 2.50), array_prepend(true, tags) from t"),
            "SELECT pg_typed(array_append(pg_typed('{1.5}', 'NUMERIC[]'), '2.50'), 'numeric[]') AS \"array_append\", \
             pg_array_prepend(tags, 't') AS \"array_prepend\" FROM t"
        );
    }

    #[test]
    fn array_functions_answer_as_postgresql() {
        // Expected answers are PostgreSQL 15's (see also tests/functions_oracle.rs).
        assert_eq!(
            one("select string_to_array('a,b,,c', ','), string_to_array('a b', NULL), \
                 string_to_array('a,x,b', ',', 'x'), string_to_array('', ','), string_to_array('abc', '')")
            .unwrap(),
            "{a,b,\"\",c} | {a,\" \",b} | {a,NULL,b} | {} | {abc}"
        );
        assert_eq!(
            one("select cardinality(array[1,2,3]), cardinality('{}'), array_position(array['a','b'], 'b'), \
                 array_position(array[1.0, 2], 1), array_position(array[1], 5)")
            .unwrap(),
            "3 | 0 | 2 | 1 | NULL"
        );
        assert_eq!(
            one(
                "select array_append(array[1, 2], 3), array_remove(array[1, 2, 1], 1), \
                 array_cat(array[1.5], array[2.50]), array_prepend(0, array[1]), \
                 array_append(array['a'], 'b c'), array_cat(NULL, array['x'])"
            )
            .unwrap(),
            "{1,2,3} | {2} | {1.5,2.50} | {0,1} | {a,\"b c\"} | {x}"
        );
        assert!(one("select cardinality('{{1,2},{3,4}}')").is_err());
    }
}
