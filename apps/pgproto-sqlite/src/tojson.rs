//! SQL values as PostgreSQL writes them in JSON: `json_agg`/`jsonb_agg(x [ORDER BY
//! ...])`, `json_object_agg`/`jsonb_object_agg(k, v)`, `row_to_json(a)` of a `FROM`
//! item's row, and `to_json`/`to_jsonb(x)`.
//!
//! PostgreSQL writes a value in JSON after its type (a boolean as `true`, a number bare,
//! a `json` value as it is, a `jsonb` value in its text form, a timestamp in ISO 8601
//! with a `T`, other values as their text in a string), while SQLite's values say little
//! of it (a boolean is 0 or 1, JSON is text). So each value goes into JSON through
//! `pg_json_value(x, type)`, with the type the rewrite finds for the expression
//! (`'BOOL'`, `'numeric(10,2)'`, `''` for what SQLite's storage class tells alike, such
//! as text and integers): a cast's, a literal's, a comparison's, a string function's;
//! for a column of a table in `FROM`, the column's declared type read when the statement
//! runs (`pragma_table_info`); for a column of a subquery in `FROM`, the type of its
//! select item. What the rewrite cannot type (another function, a `CASE`, a column of
//! unknown origin) is refused with 0A000, naming the function: cast it to say its type.
//!
//! A `FROM` item's name where a value is expected (`row_to_json(a)`, `json_agg(a)`) is
//! its row: for a subquery whose select list names its columns, an object of them in
//! order (`pg_json_row`); a table's row (whose columns the rewrite does not know) is
//! refused with 0A000.
//!
//! The aggregates (`pg_json_agg`, `pg_json_agg_rows`, `pg_json_object_agg`) write
//! PostgreSQL's text (`[1, 2]`, rows separated by `, \n `, `{ "k" : v }`); the jsonb
//! forms are the json text read back as jsonb (`pg_jsonb_out`). `ORDER BY`, `DISTINCT`
//! and `FILTER` inside the call are SQLite's; as window functions they are refused.

use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;
use sqlparser::ast::{
    visit_expressions_mut, CastKind, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident,
    Select, SelectItem, SetExpr, TableFactor, Value as SqlValue,
};

use crate::functions::user_error;
use crate::pgsql::{ident_parts, parse_expr};
use crate::sql::Unsupported;

/// The functions this module rewrites.
const FUNCTIONS: &[&str] = &[
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
    "row_to_json",
    "to_json",
    "to_jsonb",
];

/// How a value goes into JSON.
#[derive(Debug, Clone)]
enum Kind {
    /// `pg_json_value(x, 'decl')`: a declared type (`''`: SQLite's storage class).
    Decl(String),
    /// `pg_json_value(x, (lookup))`: a table column's declared type, read when the
    /// statement runs (a view's column computed by an expression has none: refused).
    Lookup(String),
    /// A literal's JSON text, known now.
    Verbatim(String),
    /// A `FROM` subquery's row: its columns' PostgreSQL names, SQL references and kinds.
    Row(Vec<(String, String, Self)>),
}

/// Rewrites the calls of [`FUNCTIONS`] in `select`'s select list and `HAVING`.
pub(crate) fn rewrite_select(select: &mut Select) -> Result<bool, Unsupported> {
    let mut found = false;
    let mut find = |e: &Expr| {
        if let Expr::Function(f) = e {
            found |= ident_parts(&f.name)
                .last()
                .is_some_and(|n| FUNCTIONS.contains(&n.as_str()));
        }
        std::ops::ControlFlow::<()>::Continue(())
    };
    for item in &select.projection {
        let _ = sqlparser::ast::visit_expressions(item, &mut find);
    }
    if let Some(having) = &select.having {
        let _ = sqlparser::ast::visit_expressions(having, &mut find);
    }
    if !found {
        return Ok(false);
    }
    let snapshot = select.clone();
    let mut changed = false;
    let mut error = None;
    let mut visit = |e: &mut Expr| match rewrite_call(&snapshot, e) {
        Ok(c) => {
            changed |= c;
            std::ops::ControlFlow::Continue(())
        }
        Err(u) => {
            error = Some(u);
            std::ops::ControlFlow::Break(())
        }
    };
    for item in &mut select.projection {
        let _ = visit_expressions_mut(item, &mut visit);
    }
    if let Some(having) = &mut select.having {
        let _ = visit_expressions_mut(having, &mut visit);
    }
    match error {
        Some(e) => Err(e),
        None => Ok(changed),
    }
}

fn rewrite_call(select: &Select, e: &mut Expr) -> Result<bool, Unsupported> {
    let Expr::Function(f) = e else {
        return Ok(false);
    };
    let parts = ident_parts(&f.name);
    let [name] = parts.as_slice() else {
        return Ok(false);
    };
    if !FUNCTIONS.contains(&name.as_str()) {
        return Ok(false);
    }
    let name = name.clone();
    let FunctionArguments::List(list) = &mut f.args else {
        return Err(Unsupported(format!(
            "{name}() without arguments is not supported"
        )));
    };
    let mut args = Vec::with_capacity(list.args.len());
    for a in &list.args {
        match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => args.push(x.clone()),
            _ => return Err(Unsupported(format!("{name}({a}) is not supported"))),
        }
    }
    let aggregate = name.ends_with("_agg");
    if f.over.is_some() {
        return Err(Unsupported(format!(
            "{name}() as a window function is not supported"
        )));
    }
    if !aggregate && (!list.clauses.is_empty() || list.duplicate_treatment.is_some()) {
        return Err(Unsupported(format!(
            "{name}() with these clauses is not supported"
        )));
    }
    let jsonb = name.starts_with("jsonb") || name == "to_jsonb";
    let (call, new_args) = match (name.as_str(), args.as_slice()) {
        ("json_agg" | "jsonb_agg", [x]) => {
            let kind = kind_of(select, x, &name)?;
            let agg = if matches!(kind, Kind::Row(_)) {
                "pg_json_agg_rows"
            } else {
                "pg_json_agg"
            };
            (agg, vec![value_sql(x, &kind)])
        }
        ("json_object_agg" | "jsonb_object_agg", [k, v]) => {
            if list.duplicate_treatment.is_some() {
                return Err(Unsupported(format!(
                    "{name}(DISTINCT ...) is not supported"
                )));
            }
            let key = kind_of(select, k, &name)?;
            if matches!(key, Kind::Row(_)) {
                return Err(Unsupported(format!(
                    "{name}() with a row as key is not supported"
                )));
            }
            let value = kind_of(select, v, &name)?;
            // The key's JSON text, made a string by the aggregate (`"true"`, `"1.50"`,
            // a timestamp with its `T`, as PostgreSQL's).
            let key = value_sql(k, &key);
            (
                "pg_json_object_agg",
                vec![format!("{k}"), key, value_sql(v, &value)],
            )
        }
        ("row_to_json", [x]) => match kind_of(select, x, &name)? {
            kind @ Kind::Row(_) => ("pg_to_json", vec![value_sql(x, &kind)]),
            _ => {
                return Err(Unsupported(
                    "row_to_json() of other than a FROM item's row is not supported".into(),
                ))
            }
        },
        ("to_json" | "to_jsonb", [x]) => {
            let kind = kind_of(select, x, &name)?;
            // NULL stays NULL (the aggregates and rows write `null`).
            let value = match &kind {
                Kind::Row(_) => value_sql(x, &kind),
                _ => format!(
                    "CASE WHEN {x} IS NULL THEN NULL ELSE {} END",
                    value_sql(x, &kind)
                ),
            };
            ("pg_to_json", vec![value])
        }
        _ => {
            return Err(Unsupported(format!(
                "{name}() with {} arguments is not supported",
                args.len()
            )))
        }
    };
    let mut new_list = Vec::with_capacity(new_args.len());
    for a in &new_args {
        new_list.push(FunctionArg::Unnamed(FunctionArgExpr::Expr(parse_expr(a)?)));
    }
    list.args = new_list;
    // PostgreSQL's NULL order in the aggregate's ORDER BY (SQLite's puts NULL first).
    for clause in &mut list.clauses {
        if let sqlparser::ast::FunctionArgumentClause::OrderBy(keys) = clause {
            for key in keys {
                if key.options.nulls_first.is_none() {
                    key.options.nulls_first = Some(key.options.asc == Some(false));
                }
            }
        }
    }
    f.name = sqlparser::ast::ObjectName::from(vec![Ident::new(call)]);
    if jsonb {
        let inner = e.clone();
        *e = parse_expr(&format!("pg_jsonb_out({inner})"))?;
    }
    Ok(true)
}

/// The SQL giving `x`'s JSON text (`null` for NULL) for its kind.
fn value_sql(x: &Expr, kind: &Kind) -> String {
    match kind {
        Kind::Decl(d) => format!("pg_json_value({x}, '{}')", d.replace('\'', "''")),
        // No type (an expression column of a view): NULL, refused when it runs.
        Kind::Lookup(l) => format!("pg_json_value({x}, nullif({l}, ''))"),
        Kind::Verbatim(text) => format!("'{}'", text.replace('\'', "''")),
        Kind::Row(members) => {
            let items: Vec<String> = members
                .iter()
                .map(|(name, reference, kind)| {
                    let value = parse_expr(reference)
                        .map(|r| value_sql(&r, kind))
                        .unwrap_or_else(|_| "NULL".to_string());
                    format!("'{}', {value}", name.replace('\'', "''"))
                })
                .collect();
            format!("pg_json_row({})", items.join(", "))
        }
    }
}

/// A name as PostgreSQL folds it (unquoted: lower case).
fn folded(i: &Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_lowercase()
    }
}

/// Text functions: their SQLite value (text, or NULL) is written as a JSON string.
const TEXT_FUNCTIONS: &[&str] = &[
    "upper",
    "lower",
    "initcap",
    "concat",
    "concat_ws",
    "substr",
    "substring",
    "replace",
    "trim",
    "ltrim",
    "rtrim",
    "btrim",
    "left",
    "right",
    "md5",
    "lpad",
    "rpad",
    "repeat",
    "reverse",
    "split_part",
    "regexp_replace",
    "to_hex",
    "chr",
    "group_concat",
    "string_agg",
    "quote_ident",
    "format",
    "version",
    "current_database",
    "current_schema",
    "current_user",
];

/// Number functions whose SQLite value is PostgreSQL's number (integers).
const INTEGER_FUNCTIONS: &[&str] = &[
    "count",
    "length",
    "char_length",
    "strpos",
    "position",
    "ascii",
];

/// How `e`, an argument of `function` in `select`, goes into JSON; 0A000 when the rewrite
/// cannot tell.
fn kind_of(select: &Select, e: &Expr, function: &str) -> Result<Kind, Unsupported> {
    let unknown = || {
        Unsupported(format!(
            "{function}() of {e} is not supported (its type is not known here: cast it, as ({e})::text)"
        ))
    };
    Ok(match e {
        Expr::Nested(inner) => kind_of(select, inner, function)?,
        Expr::Cast {
            kind: CastKind::DoubleColon | CastKind::Cast,
            data_type,
            ..
        } => {
            let decl = data_type.to_string();
            if decl.ends_with("[]") {
                return Err(unknown());
            }
            Kind::Decl(decl)
        }
        Expr::Value(v) => match &v.value {
            SqlValue::Number(n, _) if is_plain_number(n) => Kind::Verbatim(n.clone()),
            SqlValue::Number(..) | SqlValue::Null => Kind::Decl(String::new()),
            SqlValue::Boolean(_) => Kind::Decl("BOOL".into()),
            SqlValue::SingleQuotedString(_)
            | SqlValue::EscapedStringLiteral(_)
            | SqlValue::DollarQuotedString(_) => Kind::Decl("TEXT".into()),
            _ => return Err(unknown()),
        },
        Expr::UnaryOp { op, expr } => match op {
            sqlparser::ast::UnaryOperator::Not => Kind::Decl("BOOL".into()),
            sqlparser::ast::UnaryOperator::Minus => match kind_of(select, expr, function)? {
                // `-1.50`: numeric's text.
                Kind::Verbatim(n) => Kind::Verbatim(format!("-{n}")),
                _ => Kind::Decl(String::new()),
            },
            sqlparser::ast::UnaryOperator::Plus => kind_of(select, expr, function)?,
            _ => return Err(unknown()),
        },
        Expr::BinaryOp { op, .. } if crate::pgsql::is_boolean_operator(op) => {
            Kind::Decl("BOOL".into())
        }
        Expr::BinaryOp {
            op: sqlparser::ast::BinaryOperator::StringConcat,
            ..
        } => Kind::Decl("TEXT".into()),
        Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsFalse(_)
        | Expr::IsNotTrue(_)
        | Expr::IsNotFalse(_)
        | Expr::InList { .. }
        | Expr::InSubquery { .. }
        | Expr::Between { .. }
        | Expr::Like { .. }
        | Expr::ILike { .. }
        | Expr::SimilarTo { .. }
        | Expr::Exists { .. } => Kind::Decl("BOOL".into()),
        Expr::Identifier(i) => column_kind(select, None, &folded(i), function)?,
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [q, c] => column_kind(select, Some(&folded(q)), &folded(c), function)?,
            _ => return Err(unknown()),
        },
        Expr::Function(f) if f.over.is_none() => {
            let parts = ident_parts(&f.name);
            let name = parts.last().map(String::as_str).unwrap_or("");
            let args = crate::pgsql::function_args(f);
            match name {
                n if TEXT_FUNCTIONS.contains(&n) => Kind::Decl("TEXT".into()),
                n if INTEGER_FUNCTIONS.contains(&n) => Kind::Decl("INT8".into()),
                // The date and time module's casts and operators.
                n if crate::datetime::function_type(n).is_some() => {
                    Kind::Decl(crate::datetime::function_type(n).unwrap_or("").into())
                }
                "pg_jsonb_out" => Kind::Decl("JSONB".into()),
                "pg_json_build_out" | "pg_json_agg" | "pg_json_agg_rows" | "pg_json_object_agg"
                | "pg_to_json" => Kind::Decl("JSON".into()),
                // An earlier rewrite's typed value (not an array: JSON writes arrays as
                // arrays).
                "pg_typed" => match args.last() {
                    Some(t) if t.starts_with('\'') && !t.ends_with("[]'") => {
                        Kind::Decl(t.trim_matches('\'').to_string())
                    }
                    _ => return Err(unknown()),
                },
                "coalesce" => match f.args {
                    FunctionArguments::List(ref l) => match l.args.first() {
                        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(first))) => {
                            match kind_of(select, first, function)? {
                                Kind::Verbatim(_) | Kind::Row(_) => return Err(unknown()),
                                k => k,
                            }
                        }
                        _ => return Err(unknown()),
                    },
                    _ => return Err(unknown()),
                },
                _ => return Err(unknown()),
            }
        }
        _ => return Err(unknown()),
    })
}

/// A numeric literal PostgreSQL writes as it is (no exponent, digits on both sides).
fn is_plain_number(n: &str) -> bool {
    let (whole, fraction) = n.split_once('.').unwrap_or((n, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// A `FROM` item of a select: its name, and where its columns come from.
enum Source<'a> {
    /// A table (or view) of this name.
    Table(String),
    /// A subquery, with the alias's column names if it gives them.
    Derived(&'a sqlparser::ast::Query, Vec<String>),
    /// Something else (a function, a join in parentheses...).
    Other,
}

fn sources(select: &Select) -> Vec<(String, Source<'_>)> {
    let mut out = Vec::new();
    for twj in &select.from {
        for factor in std::iter::once(&twj.relation).chain(twj.joins.iter().map(|j| &j.relation)) {
            match factor {
                TableFactor::Table {
                    name,
                    alias,
                    args: None,
                    ..
                } => {
                    let table = ident_parts(name).last().cloned().unwrap_or_default();
                    let binding = alias
                        .as_ref()
                        .map_or_else(|| table.clone(), |a| folded(&a.name));
                    let renamed = alias.as_ref().is_some_and(|a| !a.columns.is_empty());
                    out.push((
                        binding,
                        if renamed {
                            Source::Other
                        } else {
                            Source::Table(table)
                        },
                    ));
                }
                TableFactor::Derived {
                    subquery,
                    alias: Some(alias),
                    ..
                } => out.push((
                    folded(&alias.name),
                    Source::Derived(
                        subquery,
                        alias.columns.iter().map(|c| folded(&c.name)).collect(),
                    ),
                )),
                TableFactor::Derived { alias: None, .. } => {}
                other => {
                    let binding = match other {
                        TableFactor::Table { alias: Some(a), .. }
                        | TableFactor::Function { alias: Some(a), .. }
                        | TableFactor::UNNEST { alias: Some(a), .. } => folded(&a.name),
                        _ => String::new(),
                    };
                    out.push((binding, Source::Other));
                }
            }
        }
    }
    out
}

/// The output columns of a subquery (PostgreSQL's names, their expressions, and the
/// select they are of); `None` when not all are named (`*`, an unnamed expression) or
/// the subquery is not a plain select.
fn derived_columns<'a>(
    query: &'a sqlparser::ast::Query,
    renamed: &[String],
) -> Option<Vec<(String, &'a Expr, &'a Select)>> {
    let SetExpr::Select(inner) = query.body.as_ref() else {
        return None;
    };
    let mut out = Vec::with_capacity(inner.projection.len());
    for (i, item) in inner.projection.iter().enumerate() {
        let (name, expr) = match item {
            SelectItem::ExprWithAlias { expr, alias } => (folded(alias), expr),
            SelectItem::UnnamedExpr(e @ Expr::Identifier(i)) => (folded(i), e),
            SelectItem::UnnamedExpr(e @ Expr::CompoundIdentifier(parts)) => {
                (folded(parts.last()?), e)
            }
            _ => return None,
        };
        let name = renamed.get(i).cloned().unwrap_or(name);
        out.push((name, expr, inner.as_ref()));
    }
    Some(out)
}

/// The kind of column `column` (of the item `qualifier`, or of any) of `select`'s
/// `FROM`, or of the row `column` names.
fn column_kind(
    select: &Select,
    qualifier: Option<&str>,
    column: &str,
    function: &str,
) -> Result<Kind, Unsupported> {
    let refused = |what: &str| {
        Unsupported(format!(
            "{function}() of {} is not supported ({what})",
            qualifier.map_or_else(|| column.to_string(), |q| format!("{q}.{column}"))
        ))
    };
    let all = sources(select);
    let candidates: Vec<&(String, Source<'_>)> = match qualifier {
        Some(q) => all.iter().filter(|(b, _)| b == q).collect(),
        None => all.iter().collect(),
    };
    if candidates.is_empty() {
        return Err(refused("its FROM item is not known here"));
    }
    let mut lookups = Vec::new();
    for (_, source) in &candidates {
        match source {
            Source::Table(table) => lookups.push(format!(
                "(SELECT type FROM pragma_table_info('{}') WHERE name = '{}' COLLATE NOCASE)",
                table.replace('\'', "''"),
                column.replace('\'', "''")
            )),
            Source::Derived(query, renamed) => {
                let Some(columns) = derived_columns(query, renamed) else {
                    return Err(refused("a subquery in FROM has columns without names"));
                };
                if let Some((_, expr, inner)) = columns.iter().find(|(n, _, _)| n == column) {
                    return kind_of(inner, expr, function);
                }
            }
            Source::Other => return Err(refused("a FROM item's columns are not known here")),
        }
    }
    if lookups.is_empty() {
        // No column of that name: the row of the FROM item of that name.
        if qualifier.is_some() {
            return Err(refused("no such column"));
        }
        return row_kind(&all, column, function);
    }
    Ok(Kind::Lookup(match lookups.as_slice() {
        [one] => one.clone(),
        many => format!("coalesce({})", many.join(", ")),
    }))
}

/// The row of the `FROM` subquery `binding` (a table's row: 0A000).
fn row_kind(
    all: &[(String, Source<'_>)],
    binding: &str,
    function: &str,
) -> Result<Kind, Unsupported> {
    match all.iter().find(|(b, _)| b == binding) {
        Some((_, Source::Derived(query, renamed))) => {
            let columns = derived_columns(query, renamed).ok_or_else(|| {
                Unsupported(format!(
                    "{function}() of the row of a subquery whose columns are not all named is not supported"
                ))
            })?;
            let mut members = Vec::with_capacity(columns.len());
            for (name, expr, inner) in columns {
                let kind = kind_of(inner, expr, function)?;
                let reference = format!("\"{}\".\"{}\"", binding.replace('"', "\"\""), name.replace('"', "\"\""));
                members.push((name, reference, kind));
            }
            Ok(Kind::Row(members))
        }
        Some(_) => Err(Unsupported(format!(
            "{function}() of a table's row is not supported (select its columns in a subquery: FROM (SELECT ...) {binding})"
        ))),
        None => Err(Unsupported(format!(
            "{function}() of {binding} is not supported (no FROM item names it here)"
        ))),
    }
}

/// A string's JSON text, as PostgreSQL's `escape_json` writes it.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    crate::jsonb::write_string(s, &mut out);
    out
}

/// A number's text bare, or quoted when JSON has no such number (`NaN`, `Infinity`).
fn number(text: String) -> String {
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => text,
        _ => quoted(&text),
    }
}

/// The JSON text of `v`, a value of the declared type `decl` (`""`: as SQLite's storage
/// class tells), as PostgreSQL writes it (see the module docs); `null` for NULL.
pub(crate) fn json_value(v: &Value, decl: &str) -> Result<String, String> {
    use crate::types::{
        array_element, declared, encode_typed, BOOL, FLOAT4, FLOAT8, INT2, INT4, INT8, JSON, JSONB,
        NUMERIC, OID, TIMESTAMP, TIMESTAMPTZ,
    };
    if matches!(v, Value::Null) {
        return Ok("null".to_string());
    }
    let text_of = |v: &Value| match v {
        Value::Text(t) => t.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => crate::types::format_float(*r),
        Value::Blob(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Null => String::new(),
    };
    if decl.trim().is_empty() {
        return Ok(match v {
            Value::Integer(i) => i.to_string(),
            Value::Real(r) => number(crate::types::format_float(*r)),
            Value::Blob(_) => {
                let bytes = encode_typed(
                    v,
                    crate::types::BYTEA,
                    -1,
                    pgproto_core::message::Format::Text,
                )
                .map_err(|e| format!("[{}] {}", e.code.code(), e.message))?
                .unwrap_or_default();
                quoted(&String::from_utf8_lossy(&bytes))
            }
            other => quoted(&text_of(other)),
        });
    }
    let (oid, typmod) = declared(decl);
    if array_element(oid).is_some() {
        return Err(format!("[0A000] JSON of a {decl} value is not supported"));
    }
    if oid == JSON {
        return Ok(text_of(v));
    }
    // A type this server does not know by name (an enum or a domain): its text values
    // are strings (an enum's labels), but a number may be a domain's boolean or number.
    let text_like = [
        "text",
        "varchar",
        "character varying",
        "char",
        "character",
        "bpchar",
        "name",
    ];
    let base = crate::sql::type_base(decl);
    if oid == crate::types::TEXT
        && !text_like.contains(&base.as_str())
        && matches!(v, Value::Integer(_) | Value::Real(_))
    {
        return Err(format!(
            "[0A000] JSON of a value of type {decl} is not supported"
        ));
    }
    if oid == JSONB {
        let text = text_of(v);
        return crate::jsonb::canonical(&text)
            .ok_or_else(|| format!("[22P02] invalid input syntax for type json: {text}"));
    }
    let text = encode_typed(v, oid, typmod, pgproto_core::message::Format::Text)
        .map_err(|e| format!("[{}] {}", e.code.code(), e.message))?
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    Ok(match oid {
        BOOL => (if text == "t" { "true" } else { "false" }).to_string(),
        INT2 | INT4 | INT8 | OID | FLOAT4 | FLOAT8 | NUMERIC => number(text),
        TIMESTAMP | TIMESTAMPTZ => {
            if text.ends_with(" BC") {
                return Err("[0A000] JSON of a timestamp BC is not supported".to_string());
            }
            // ISO 8601 (XSD): `T` between date and time, the offset with minutes.
            let mut iso = text.replacen(' ', "T", 1);
            if oid == TIMESTAMPTZ {
                let offset = iso.rfind(['+', '-']).filter(|i| *i > 10);
                if offset.is_some_and(|i| iso.len() - i == 3) {
                    iso.push_str(":00");
                }
            }
            quoted(&iso)
        }
        _ => quoted(&text),
    })
}

/// `json_agg`'s state: the elements' JSON texts.
#[derive(Default)]
struct JsonAgg {
    /// Rows (composite values): PostgreSQL writes `, \n ` between them.
    rows: bool,
}

impl Aggregate<Vec<Option<String>>, Option<String>> for JsonAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Vec<Option<String>>> {
        Ok(Vec::new())
    }

    fn step(&self, ctx: &mut Context<'_>, items: &mut Vec<Option<String>>) -> rusqlite::Result<()> {
        items.push(ctx.get::<Option<String>>(0)?);
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut Context<'_>,
        items: Option<Vec<Option<String>>>,
    ) -> rusqlite::Result<Option<String>> {
        let Some(items) = items else {
            return Ok(None);
        };
        let mut out = String::from("[");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
                if self.rows && item.is_some() {
                    out.push_str("\n ");
                }
            }
            out.push_str(item.as_deref().unwrap_or("null"));
        }
        out.push(']');
        Ok(Some(out))
    }
}

/// `json_object_agg`'s state: members as `"key" : value`.
struct JsonObjectAgg;

impl Aggregate<Vec<String>, Option<String>> for JsonObjectAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Vec<String>> {
        Ok(Vec::new())
    }

    fn step(&self, ctx: &mut Context<'_>, members: &mut Vec<String>) -> rusqlite::Result<()> {
        if matches!(ctx.get_raw(0), ValueRef::Null) {
            return Err(user_error("[22023] field name must not be null".into()));
        }
        let key: String = ctx.get(1)?;
        // The key's JSON text as a JSON string: a string already is one.
        let key = if key.starts_with('"') {
            key
        } else {
            quoted(&key)
        };
        let value = ctx
            .get::<Option<String>>(2)?
            .unwrap_or_else(|| "null".into());
        members.push(format!("{key} : {value}"));
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut Context<'_>,
        members: Option<Vec<String>>,
    ) -> rusqlite::Result<Option<String>> {
        Ok(members.map(|m| format!("{{ {} }}", m.join(", "))))
    }
}

/// Registers `pg_json_value`, `pg_to_json`, `pg_json_row` and the aggregates on a
/// connection.
pub(crate) fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("pg_json_value", 2, flags, |ctx| {
        let Some(decl) = ctx.get::<Option<String>>(1)? else {
            return Err(user_error(
                "[0A000] JSON of a value whose column type is not known is not supported".into(),
            ));
        };
        json_value(&ctx.get::<Value>(0)?, &decl).map_err(user_error)
    })?;
    // `to_json`/`row_to_json`: the JSON text made, typed json.
    conn.create_scalar_function("pg_to_json", 1, flags, |ctx| ctx.get::<Option<String>>(0))?;
    // `{"name":value,...}` of name and JSON text pairs, as `row_to_json` writes a row.
    conn.create_scalar_function("pg_json_row", -1, flags, |ctx| {
        let mut out = String::from("{");
        for i in (0..ctx.len()).step_by(2) {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&quoted(&ctx.get::<String>(i)?));
            out.push(':');
            out.push_str(
                &ctx.get::<Option<String>>(i + 1)?
                    .unwrap_or_else(|| "null".into()),
            );
        }
        out.push('}');
        Ok(out)
    })?;
    conn.create_aggregate_function("pg_json_agg", 1, flags, JsonAgg { rows: false })?;
    conn.create_aggregate_function("pg_json_agg_rows", 1, flags, JsonAgg { rows: true })?;
    conn.create_aggregate_function("pg_json_object_agg", 3, flags, JsonObjectAgg)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::pgsql::rewritten_or_error as rw;

    #[test]
    fn json_aggregates_type_their_values() {
        assert_eq!(
            rw("select json_agg(owner order by id) from accounts"),
            "SELECT pg_json_agg(pg_json_value(owner, nullif((SELECT type FROM pragma_table_info('accounts') \
             WHERE name = 'owner' COLLATE NOCASE), '')) ORDER BY id NULLS LAST) AS \"json_agg\" FROM accounts"
        );
        assert_eq!(
            rw("select jsonb_agg(x::bool), json_agg(1.50), json_agg(a > 1) from t"),
            "SELECT pg_jsonb_out(pg_json_agg(pg_json_value(x::BOOL, 'BOOL'))) AS \"jsonb_agg\", \
             pg_json_agg('1.50') AS \"json_agg\", pg_json_agg(pg_json_value(a > 1, 'BOOL')) AS \"json_agg\" FROM t"
        );
        assert_eq!(
            rw("select json_object_agg(k, upper(v)) from (select 'a' as k, v from t) s"),
            "SELECT pg_json_object_agg(k, pg_json_value(k, 'TEXT'), pg_json_value(upper(v), 'TEXT')) \
             AS \"json_object_agg\" FROM (SELECT 'a' AS k, v FROM t) AS s"
        );
        // A subquery's row, its columns typed from the table inside.
        assert_eq!(
            rw("select row_to_json(a) from (select id, owner from accounts order by id limit 1) a"),
            "SELECT pg_to_json(pg_json_row('id', pg_json_value(\"a\".\"id\", nullif((SELECT type FROM \
             pragma_table_info('accounts') WHERE name = 'id' COLLATE NOCASE), '')), 'owner', \
             pg_json_value(\"a\".\"owner\", nullif((SELECT type FROM pragma_table_info('accounts') \
             WHERE name = 'owner' COLLATE NOCASE), '')))) AS \"row_to_json\" FROM (SELECT id, owner \
             FROM accounts ORDER BY id NULLS LAST LIMIT 1) AS a"
        );
        assert!(
            rw("select json_agg(a) from (select id, owner from accounts) a")
                .contains("pg_json_agg_rows(pg_json_row('id'")
        );
        assert_eq!(
            rw("select to_json('2024-01-02'::date)"),
            "SELECT pg_to_json(CASE WHEN pg_date('2024-01-02') IS NULL THEN NULL \
             ELSE pg_json_value(pg_date('2024-01-02'), 'DATE') END) AS \"to_json\""
        );
        assert_eq!(
            rw("select to_json('x'::text), to_jsonb(1)"),
            "SELECT pg_to_json(CASE WHEN 'x'::TEXT IS NULL THEN NULL ELSE pg_json_value('x'::TEXT, 'TEXT') END) \
             AS \"to_json\", pg_jsonb_out(pg_to_json(CASE WHEN 1 IS NULL THEN NULL ELSE '1' END)) AS \"to_jsonb\""
        );
        // An unqualified column of one of several tables: the one that has it.
        assert!(rw("select json_agg(x) from t, u").contains(
            "pg_json_value(x, nullif(coalesce((SELECT type FROM pragma_table_info('t') WHERE name = 'x' \
             COLLATE NOCASE), (SELECT type FROM pragma_table_info('u')"
        ));
        for refused in [
            "select row_to_json(t) from accounts t",
            "select json_agg(f(x)) from t",
            "select json_agg(y.x) from t",
            "select json_agg(a) from (select * from t) a",
            "select json_agg(x) over () from t",
        ] {
            assert!(
                rw(refused).starts_with("ERROR "),
                "{refused}: {}",
                rw(refused)
            );
        }
    }

    #[test]
    fn values_are_written_as_postgresql_writes_them() {
        let j = |v: Value, decl: &str| json_value(&v, decl).unwrap_or_else(|e| e);
        assert_eq!(j(Value::Text("a\"b".into()), ""), "\"a\\\"b\"");
        assert_eq!(j(Value::Integer(1), "boolean"), "true");
        assert_eq!(j(Value::Real(12.5), "numeric(10,2)"), "12.50");
        assert_eq!(j(Value::Real(f64::NAN), ""), "\"NaN\"");
        assert_eq!(j(Value::Null, "jsonb"), "null");
        assert_eq!(
            j(Value::Text("{\"b\":1, \"a\":2}".into()), "json"),
            "{\"b\":1, \"a\":2}"
        );
        assert_eq!(
            j(Value::Text("{\"b\":1, \"a\":2}".into()), "jsonb"),
            "{\"a\": 2, \"b\": 1}"
        );
        assert_eq!(
            j(Value::Text("2024-01-02 03:04:05.5".into()), "timestamp"),
            "\"2024-01-02T03:04:05.5\""
        );
        assert_eq!(
            j(Value::Text("2024-01-02 03:04:05+00".into()), "timestamptz"),
            "\"2024-01-02T03:04:05+00:00\""
        );
        assert!(j(Value::Text("{1}".into()), "int4[]").starts_with("[0A000]"));
        // An enum's label is a string; a number of a type not known by name (a domain
        // over boolean?) is refused.
        assert_eq!(j(Value::Text("happy".into()), "mood"), "\"happy\"");
        assert!(j(Value::Integer(1), "flag").starts_with("[0A000]"));
    }

    #[test]
    fn aggregates_write_postgresql_s_text() {
        let conn = Connection::open_in_memory().unwrap();
        register_functions(&conn).unwrap();
        crate::functions::register_functions(&conn).unwrap();
        let q = |sql: &str| {
            conn.query_row(sql, [], |r| r.get::<_, Option<String>>(0))
                .unwrap_or_else(|e| Some(e.to_string()))
        };
        assert_eq!(
            q("SELECT pg_json_agg(pg_json_value(x, '') ORDER BY x DESC) FROM (SELECT 'a' AS x UNION ALL SELECT 'b' UNION ALL SELECT NULL)"),
            Some("[\"b\", \"a\", null]".into())
        );
        assert_eq!(
            q("SELECT pg_json_agg_rows(pg_json_row('x', pg_json_value(x, ''))) FROM (SELECT 1 AS x UNION ALL SELECT 2)"),
            Some("[{\"x\":1}, \n {\"x\":2}]".into())
        );
        assert_eq!(
            q("SELECT pg_json_agg(x) FROM (SELECT 1 AS x) WHERE 0"),
            None
        );
        assert_eq!(
            q("SELECT pg_json_object_agg(k, pg_json_value(k, ''), pg_json_value(v, '')) FROM (SELECT 1 AS k, 'x' AS v UNION ALL SELECT 'b', NULL)"),
            Some("{ \"1\" : \"x\", \"b\" : null }".into())
        );
        assert!(q("SELECT pg_json_object_agg(NULL, 'null', '1')")
            .is_some_and(|e| e.contains("[22023]")));
    }
}
