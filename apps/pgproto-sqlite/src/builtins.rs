//! PostgreSQL expression syntax for everyday built-ins, rewritten by [`crate::pgsql`]'s
//! visitor into calls SQLite runs (the functions of [`crate::functions`]):
//!
//! * `a ^ b` is `power(a, b)` (float8, as
//!   PostgreSQL's operator on integers and floats); `a [NOT] SIMILAR TO p` a regular
//!   expression match of the whole text (`pg_similar_regex` translates the pattern as
//!   PostgreSQL's `similar_to_escape` does).
//! * `ARRAY[...]` of literals is the array's text (`{1,2,3}`), described as its array
//!   type through `pg_typed` (`int4[]`, `int8[]`, `numeric[]`, `text[]`, `bool[]`); an
//!   element taken from it (`(ARRAY[...])[i]`) is described as the element type.
//!   Arrays of other expressions are refused with 0A000.
//! * `json_build_object`/`jsonb_build_object`/`json_build_array`/`jsonb_build_array`
//!   build with SQLite's `json_object`/`json_array` and write the text as PostgreSQL
//!   does (`pg_json_build_out`, `pg_jsonb_out`, described as json/jsonb); a JSON
//!   argument goes in as JSON, a boolean literal as `true`/`false`.
//! * `x -> k` and `x ->> k` on a value cast to json or jsonb (`pg_json_get`): the
//!   member or element as PostgreSQL writes it; on an expression of unknown JSON type
//!   `->>` answers when the result is a scalar (written alike for both types) and `->`
//!   is refused with 0A000.
//! * `pg_typeof(x)` of a literal or a cast to a type this server has: the type's name.
//! * `SELECT DISTINCT ON (k)` numbers each `k`'s rows in the `ORDER BY` order with
//!   `row_number()` and keeps the first ([`rewrite_distinct_on`]).
//!
//! Unnamed select items whose text a rewrite changed keep PostgreSQL's column name
//! ([`keep_item_names`]).

use sqlparser::ast::{BinaryOperator, CastKind, DataType, Expr, SelectItem, Value};

use crate::pgsql::{function_args, ident_parts, parse_expr};
use crate::sql::Unsupported;

/// `a ^ b`, `SIMILAR TO`, the JSON build functions, `->`/`->>` and
/// `pg_typeof`, rewritten in place (see the module docs).
pub(crate) fn rewrite_builtin(expr: &mut Expr) -> Result<bool, Unsupported> {
    let text = match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::PGExp,
            right,
        } => format!("power({left}, {right})"),
        Expr::SimilarTo {
            negated,
            expr: value,
            pattern,
            escape_char,
        } => {
            let escape = match escape_char {
                None => "'\\'".to_string(),
                Some(Value::SingleQuotedString(s)) => format!("'{}'", s.replace('\'', "''")),
                Some(other) => {
                    return Err(Unsupported(format!(
                        "SIMILAR TO ... ESCAPE {other} is not supported"
                    )))
                }
            };
            format!(
                "{}pg_regex({value}, pg_similar_regex({pattern}, {escape}), 0)",
                if *negated { "NOT " } else { "" }
            )
        }
        Expr::BinaryOp {
            left,
            op: op @ (BinaryOperator::Arrow | BinaryOperator::LongArrow),
            right,
        } => {
            let as_text = matches!(op, BinaryOperator::LongArrow);
            let kind = json_kind(left);
            let call = format!(
                "pg_json_get({left}, {right}, {}, {})",
                i32::from(as_text),
                match kind {
                    Some(true) => "'jsonb'",
                    Some(false) => "'json'",
                    None => "NULL",
                }
            );
            match (as_text, kind) {
                (true, _) => call,
                (false, Some(true)) => format!("pg_typed({call}, 'JSONB')"),
                (false, Some(false)) => format!("pg_typed({call}, 'JSON')"),
                (false, None) => {
                    return Err(Unsupported(
                        "operator -> on a value not cast to json or jsonb is not supported"
                            .to_string(),
                    ))
                }
            }
        }
        Expr::Function(f) => {
            let parts = ident_parts(&f.name);
            let [name] = parts.as_slice() else {
                return Ok(false);
            };
            let args = function_args(f);
            match name.as_str() {
                "jsonb_build_object" | "jsonb_build_array" | "json_build_array" => {
                    let object = name.ends_with("object");
                    let jsonb = name.starts_with("jsonb");
                    let mut items: Vec<String> = args.iter().map(|a| json_argument(a)).collect();
                    if object && args.len() % 2 != 0 {
                        // PostgreSQL's error, when the statement runs (Describe answers).
                        items = vec![format!(
                            "pg_error('[22023] argument list must have even number of elements\nHINT: \
                             The arguments of {name}() must consist of alternating keys and values.')"
                        )];
                    }
                    format!(
                        "{}({}({}))",
                        if jsonb {
                            "pg_jsonb_out"
                        } else {
                            "pg_json_build_out"
                        },
                        match (object, items.first()) {
                            (true, Some(i)) if i.starts_with("pg_error(") => "",
                            (true, _) => "json_object",
                            _ => "json_array",
                        },
                        items.join(", "),
                    )
                }
                "pg_typeof" => {
                    let [arg] = args.as_slice() else {
                        return Ok(false);
                    };
                    let ty = parse_expr(arg)
                        .ok()
                        .and_then(|e| evident_type(&e))
                        .ok_or_else(|| {
                            Unsupported(
                                "pg_typeof() of an expression other than a literal or a cast is not supported"
                                    .to_string(),
                            )
                        })?;
                    format!("'{ty}'")
                }
                _ => return Ok(false),
            }
        }
        _ => return Ok(false),
    };
    *expr = parse_expr(&text)?;
    Ok(true)
}

/// A JSON build function's argument: JSON values (casts to json/jsonb, other build
/// calls) go in as JSON, booleans as `true`/`false`.
pub(crate) fn json_argument(arg: &str) -> String {
    match parse_expr(arg) {
        Ok(Expr::Value(v)) if matches!(v.value, Value::Boolean(_)) => {
            format!("json('{}')", v.value.to_string().to_ascii_lowercase())
        }
        Ok(e) if json_kind(&e).is_some() => format!("json({arg})"),
        _ => arg.to_string(),
    }
}

/// Whether an expression is evidently jsonb (`Some(true)`) or json (`Some(false)`): a
/// cast, or an earlier rewrite's `pg_typed(..., 'JSON'/'JSONB')` or built JSON.
pub(crate) fn json_kind(e: &Expr) -> Option<bool> {
    match e {
        Expr::Nested(e) => json_kind(e),
        Expr::Cast { data_type, .. } => match data_type {
            DataType::JSONB => Some(true),
            DataType::JSON => Some(false),
            DataType::Custom(name, _) => match ident_parts(name).last().map(String::as_str) {
                Some("jsonb") => Some(true),
                Some("json") => Some(false),
                _ => None,
            },
            _ => None,
        },
        Expr::Function(f) => match ident_parts(&f.name).as_slice() {
            [n] if n == "pg_typed" => match function_args(f).last().map(String::as_str) {
                Some("'JSONB'") => Some(true),
                Some("'JSON'") => Some(false),
                _ => None,
            },
            [n] if n == "pg_jsonb_out" => Some(true),
            [n] if n == "pg_json_build_out" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The type name `pg_typeof` prints for a literal or a cast to a type this server has.
fn evident_type(e: &Expr) -> Option<String> {
    match e {
        Expr::Nested(e) => evident_type(e),
        Expr::UnaryOp { expr, .. } if matches!(**expr, Expr::Value(_)) => evident_type(expr),
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => Some(number_type(n).to_string()),
            Value::SingleQuotedString(_) => Some("unknown".to_string()),
            Value::Boolean(_) => Some("boolean".to_string()),
            _ => None,
        },
        Expr::Cast {
            kind: CastKind::DoubleColon | CastKind::Cast,
            data_type,
            ..
        } => {
            let decl = data_type.to_string();
            let oid = crate::types::oid_for_decl(&decl);
            let base = crate::sql::type_base(&decl);
            let known = oid != crate::types::TEXT
                || [
                    "text",
                    "varchar",
                    "character varying",
                    "char",
                    "character",
                    "bpchar",
                ]
                .contains(&base.as_str());
            if !known || decl.ends_with("[]") {
                return None;
            }
            Some(match base.as_str() {
                "varchar" | "character varying" => "character varying".to_string(),
                "char" | "character" | "bpchar" => "character".to_string(),
                "interval" => "interval".to_string(),
                _ => crate::types::type_name(oid).to_string(),
            })
        }
        _ => None,
    }
}

/// PostgreSQL's type of a numeric literal.
fn number_type(n: &str) -> &'static str {
    if n.contains(['.', 'e', 'E']) {
        "numeric"
    } else if n.parse::<i32>().is_ok() {
        "integer"
    } else if n.parse::<i64>().is_ok() {
        "bigint"
    } else {
        "numeric"
    }
}

/// `ARRAY[...]` of literals as `pg_typed('{...}', 'TYPE[]')`, and an element taken from
/// such an array (`pg_array_get`) described as the element type; an array constructor
/// of other expressions is refused with 0A000. Run after the visitor, whose
/// `= ANY(ARRAY[...])` rewrite wants the constructor itself.
pub(crate) fn rewrite_array_literal(expr: &mut Expr) -> Result<bool, Unsupported> {
    let text = match expr {
        Expr::Array(array) => {
            let (text, ty) = array_text(&array.elem).ok_or_else(|| {
                Unsupported(
                    "arrays (ARRAY[...]) of other than literals are not supported".to_string(),
                )
            })?;
            format!("pg_typed('{}', '{ty}[]')", text.replace('\'', "''"))
        }
        Expr::Function(f) if ident_parts(&f.name) == ["pg_array_get"] => {
            let args = function_args(f);
            let Some(ty) = args
                .first()
                .and_then(|a| parse_expr(a).ok())
                .and_then(|a| array_element_decl(&a))
            else {
                return Ok(false);
            };
            format!("pg_typed({f}, '{ty}')")
        }
        _ => return Ok(false),
    };
    *expr = parse_expr(&text)?;
    Ok(true)
}

/// The element type of a `pg_typed('{...}', 'TYPE[]')` this module made.
fn array_element_decl(e: &Expr) -> Option<String> {
    match e {
        Expr::Nested(e) => array_element_decl(e),
        Expr::Function(f) if ident_parts(&f.name) == ["pg_typed"] => {
            let ty = function_args(f).last()?.clone();
            let inner = ty.strip_prefix('\'')?.strip_suffix("[]'")?;
            Some(inner.to_string())
        }
        _ => None,
    }
}

/// The element type (`INT4`, `TEXT`...) of an `ARRAY[...]` of literals, which
/// [`rewrite_array_literal`] will write as `pg_typed('{...}', 'TYPE[]')`.
pub(crate) fn array_literal_element(e: &Expr) -> Option<&'static str> {
    match e {
        Expr::Nested(e) => array_literal_element(e),
        Expr::Array(array) => array_text(&array.elem).map(|(_, ty)| ty),
        _ => None,
    }
}

/// The text and element type of an array of literals (`{1,2,3}`, `INT4`), as
/// PostgreSQL writes it; `None` for other elements or mixed kinds.
fn array_text(elements: &[Expr]) -> Option<(String, &'static str)> {
    let mut kind: Option<&'static str> = None;
    let mut items = Vec::with_capacity(elements.len());
    let mut unify = |k: &'static str| -> Option<()> {
        let numeric = ["INT4", "INT8", "NUMERIC"];
        kind = Some(match kind {
            None => k,
            Some(have) if have == k => k,
            Some(have) if numeric.contains(&have) && numeric.contains(&k) => {
                let rank = |t| numeric.iter().position(|n| *n == t).unwrap_or(0);
                if rank(have) > rank(k) {
                    have
                } else {
                    k
                }
            }
            _ => return None,
        });
        Some(())
    };
    for e in elements {
        let (text, k) = match e {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => (n.clone(), number_type(n)),
                Value::SingleQuotedString(s) => (quote_element(s), "text"),
                Value::Boolean(b) => ((if *b { "t" } else { "f" }).to_string(), "boolean"),
                Value::Null => {
                    items.push("NULL".to_string());
                    continue;
                }
                _ => return None,
            },
            Expr::UnaryOp {
                op: sqlparser::ast::UnaryOperator::Minus,
                expr,
            } => match expr.as_ref() {
                Expr::Value(v) => match &v.value {
                    Value::Number(n, _) => (format!("-{n}"), number_type(n)),
                    _ => return None,
                },
                _ => return None,
            },
            _ => return None,
        };
        unify(match k {
            "integer" => "INT4",
            "bigint" => "INT8",
            "numeric" => "NUMERIC",
            "text" => "TEXT",
            _ => "BOOL",
        })?;
        items.push(text);
    }
    Some((format!("{{{}}}", items.join(",")), kind.unwrap_or("TEXT")))
}

/// An array element's text, quoted as PostgreSQL's array output quotes it.
pub(crate) fn quote_element(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.eq_ignore_ascii_case("null")
        && !s
            .chars()
            .any(|c| c.is_ascii_whitespace() || "{},\"\\".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// `SELECT DISTINCT ON (k) items FROM ... ORDER BY o` keeps the first row of each `k`
/// in the order `o`: it becomes a query over the select numbering its rows with
/// `row_number() OVER (PARTITION BY k ORDER BY o)`, keeping the first of each, sorted
/// by `o`, its columns named as PostgreSQL names them. `ORDER BY` positions and output
/// names are read as PostgreSQL reads them. Refused with 0A000 in a set operation,
/// with `*` in the select list, or when the keys are not the first `ORDER BY` keys
/// (PostgreSQL's 42P10).
pub(crate) fn rewrite_distinct_on(query: &mut sqlparser::ast::Query) -> Result<bool, Unsupported> {
    use sqlparser::ast::{Distinct, OrderByKind, SetExpr};
    let unsupported = |what: &str| {
        Err(Unsupported(format!(
            "SELECT DISTINCT ON {what} is not supported"
        )))
    };
    let select = match query.body.as_mut() {
        SetExpr::Select(s) => s,
        other => {
            return if crate::pgsql::selects_of(other)
                .iter()
                .any(|s| matches!(s.distinct, Some(Distinct::On(_))))
            {
                unsupported("in a set operation")
            } else {
                Ok(false)
            }
        }
    };
    let Some(Distinct::On(keys)) = &select.distinct else {
        return Ok(false);
    };
    // Output items: (expression, PostgreSQL's name).
    let mut items = Vec::with_capacity(select.projection.len());
    for item in &select.projection {
        items.push(match item {
            SelectItem::UnnamedExpr(e) => {
                let name = match e {
                    Expr::Identifier(i) => ident_name(i),
                    Expr::CompoundIdentifier(parts) => {
                        parts.last().map_or_else(String::new, ident_name)
                    }
                    _ => item_name(e).unwrap_or_else(|| "?column?".to_string()),
                };
                (e.clone(), name)
            }
            SelectItem::ExprWithAlias { expr, alias } => (expr.clone(), ident_name(alias)),
            _ => return unsupported("with * in the select list"),
        });
    }
    // A key or sort expression as PostgreSQL reads it: an output position or name, else
    // an expression over the input.
    let resolve = |e: &Expr| -> Expr {
        match e {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => n
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i.checked_sub(1)?))
                    .map_or_else(|| e.clone(), |(x, _)| x.clone()),
                _ => e.clone(),
            },
            Expr::Identifier(i) => select
                .projection
                .iter()
                .find_map(|item| match item {
                    SelectItem::ExprWithAlias { expr, alias }
                        if ident_name(alias) == ident_name(i) =>
                    {
                        Some(expr.clone())
                    }
                    _ => None,
                })
                .unwrap_or_else(|| e.clone()),
            _ => e.clone(),
        }
    };
    let keys: Vec<Expr> = keys.iter().map(resolve).collect();
    let order = match &query.order_by {
        None => Vec::new(),
        Some(o) => match &o.kind {
            OrderByKind::Expressions(list) => list
                .iter()
                .map(|k| (resolve(&k.expr), k.options.to_string()))
                .collect(),
            OrderByKind::All(_) => return unsupported("with ORDER BY ALL"),
        },
    };
    if !order.is_empty() {
        let leading: Vec<String> = order
            .iter()
            .take(keys.len())
            .map(|(e, _)| e.to_string())
            .collect();
        let mut wanted: Vec<String> = keys.iter().map(ToString::to_string).collect();
        let mut have = leading.clone();
        wanted.sort();
        have.sort();
        if leading.len() < keys.len() || wanted != have {
            return Err(Unsupported(
                "[42P10] SELECT DISTINCT ON expressions must match initial ORDER BY expressions"
                    .to_string(),
            ));
        }
    }
    let mut inner = select.as_ref().clone();
    inner.distinct = None;
    let mut projection: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(i, (e, _))| format!("{e} AS pg_c{i}"))
        .collect();
    projection.extend(
        order
            .iter()
            .enumerate()
            .map(|(j, (e, _))| format!("{e} AS pg_o{j}")),
    );
    let partition: Vec<String> = keys.iter().map(ToString::to_string).collect();
    let window_order: Vec<String> = order.iter().map(|(e, o)| format!("{e}{o}")).collect();
    projection.push(format!(
        "row_number() OVER (PARTITION BY {}{}) AS pg_distinct_on",
        partition.join(", "),
        if window_order.is_empty() {
            String::new()
        } else {
            format!(" ORDER BY {}", window_order.join(", "))
        }
    ));
    inner.projection = Vec::new();
    let inner_text =
        inner
            .to_string()
            .replacen("SELECT ", &format!("SELECT {} ", projection.join(", ")), 1);
    let outer: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(i, (_, name))| format!("pg_distinct.pg_c{i} AS \"{}\"", name.replace('"', "\"\"")))
        .collect();
    let sort: Vec<String> = order
        .iter()
        .enumerate()
        .map(|(j, (_, o))| format!("pg_distinct.pg_o{j}{o}"))
        .collect();
    let text = format!(
        "SELECT {} FROM ({inner_text}) AS pg_distinct WHERE pg_distinct.pg_distinct_on = 1{}",
        outer.join(", "),
        if sort.is_empty() {
            String::new()
        } else {
            format!(" ORDER BY {}", sort.join(", "))
        }
    );
    let rewritten = crate::pgsql::parse_query(&text)?;
    query.body = rewritten.body;
    query.order_by = rewritten.order_by;
    Ok(true)
}

/// An identifier as PostgreSQL names a column after it (unquoted: lower case).
fn ident_name(i: &sqlparser::ast::Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_ascii_lowercase()
    }
}

/// The column name PostgreSQL gives an unaliased select item, when this module can
/// tell: a function's name, `position`, `array`, `case`, `exists`, `?column?` for
/// operators and literals; `None` for a column reference or a cast.
pub(crate) fn item_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Nested(e) => item_name(e),
        Expr::Function(f) => f.name.0.last().map(|p| match p {
            sqlparser::ast::ObjectNamePart::Identifier(i) if i.quote_style.is_some() => {
                i.value.clone()
            }
            other => other.to_string().to_ascii_lowercase(),
        }),
        Expr::Position { .. } => Some("position".to_string()),
        // `trim([both | leading | trailing] [x] from s)` is named after the function
        // PostgreSQL runs: `btrim`, `ltrim` or `rtrim`.
        Expr::Trim { trim_where, .. } => Some(
            match trim_where {
                Some(sqlparser::ast::TrimWhereField::Leading) => "ltrim",
                Some(sqlparser::ast::TrimWhereField::Trailing) => "rtrim",
                _ => "btrim",
            }
            .to_string(),
        ),
        Expr::Array(_) => Some("array".to_string()),
        Expr::Case { .. } => Some("case".to_string()),
        Expr::Exists { .. } => Some("exists".to_string()),
        // `(row).field` is named after the field, `a[i]` after the array.
        Expr::CompoundFieldAccess { root, access_chain } => match access_chain.last() {
            Some(sqlparser::ast::AccessExpr::Dot(Expr::Identifier(field))) => {
                Some(ident_name(field))
            }
            Some(sqlparser::ast::AccessExpr::Dot(_)) => None,
            _ => match root.as_ref() {
                Expr::Identifier(i) => Some(ident_name(i)),
                other => item_name(other),
            },
        },
        Expr::BinaryOp { .. }
        | Expr::UnaryOp { .. }
        | Expr::Value(_)
        | Expr::SimilarTo { .. }
        | Expr::Like { .. }
        | Expr::ILike { .. }
        | Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::InList { .. }
        | Expr::AnyOp { .. }
        | Expr::AllOp { .. } => Some("?column?".to_string()),
        _ => None,
    }
}

/// The names of a select list's unnamed items, before rewrites (see
/// [`keep_item_names`]).
pub(crate) fn item_names(items: &[SelectItem]) -> Vec<Option<(String, String)>> {
    items
        .iter()
        .map(|i| match i {
            SelectItem::UnnamedExpr(e) => item_name(e).map(|n| (e.to_string(), n)),
            _ => None,
        })
        .collect()
}

/// Unnamed items whose text changed get PostgreSQL's name as an alias (SQLite would
/// name them after the rewritten text: `group_concat`, `pg_typed`...).
pub(crate) fn keep_item_names(
    items: &mut [SelectItem],
    before: &[Option<(String, String)>],
) -> bool {
    if items.len() != before.len() {
        return false;
    }
    let mut changed = false;
    for (item, before) in items.iter_mut().zip(before) {
        let (SelectItem::UnnamedExpr(e), Some((text, name))) = (&*item, before) else {
            continue;
        };
        if e.to_string() != *text {
            *item = SelectItem::ExprWithAlias {
                expr: e.clone(),
                alias: sqlparser::ast::Ident::with_quote('"', name.clone()),
            };
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use crate::pgsql::rewritten_or_error as rw;

    #[test]
    fn builtins_become_sqlite_calls_named_as_in_postgresql() {
        assert_eq!(
            rw("select position('b' in 'abc')"),
            "SELECT position('b', 'abc') AS \"position\""
        );
        assert_eq!(rw("select 2 ^ 3"), "SELECT power(2, 3) AS \"?column?\"");
        assert_eq!(
            rw("select 'ABC' similar to 'A%'"),
            "SELECT pg_regex('ABC', pg_similar_regex('A%', '\\'), 0) AS \"?column?\""
        );
        assert_eq!(
            rw("select string_agg(name, ',' order by name) from users"),
            "SELECT group_concat(name, ',' ORDER BY name) AS \"string_agg\" FROM users"
        );
        assert_eq!(
            rw("select array[1,2,3], array_length(array[1,2,3], 1), (array[1,2,3])[2]"),
            "SELECT pg_typed('{1,2,3}', 'INT4[]') AS \"array\", \
             array_length(pg_typed('{1,2,3}', 'INT4[]'), 1) AS \"array_length\", \
             pg_typed(pg_array_get((pg_typed('{1,2,3}', 'INT4[]')), 2), 'INT4') AS \"array\""
        );
        assert_eq!(
            rw("select array['a b', null, 'c']"),
            "SELECT pg_typed('{\"a b\",NULL,c}', 'TEXT[]') AS \"array\""
        );
        assert_eq!(
            rw("select 1 = any(array[1, 2])"),
            "SELECT 1 IN (1, 2) AS \"?column?\""
        );
        assert_eq!(
            rw("select array[x] from t"),
            "ERROR arrays (ARRAY[...]) of other than literals are not supported"
        );
        // The token pass still refuses what the syntax-tree pass did not see.
        assert!(crate::sql::rewrite("select array[x] from t")
            .unwrap_err()
            .0
            .contains("arrays"));
        assert_eq!(
            rw("select pg_typeof(1), pg_typeof(1.5), pg_typeof('a'::text), pg_typeof(x::varchar(3))"),
            "SELECT 'integer' AS \"pg_typeof\", 'numeric' AS \"pg_typeof\", 'text' AS \"pg_typeof\", \
             'character varying' AS \"pg_typeof\""
        );
        assert!(rw("select pg_typeof(x) from t").starts_with("ERROR pg_typeof()"));
        assert_eq!(
            rw("select jsonb_build_object('a', 1, 'b', true)"),
            "SELECT pg_jsonb_out(json_object('a', 1, 'b', json('true'))) AS \"jsonb_build_object\""
        );
        assert_eq!(
            rw("select '{\"a\": 1}'::jsonb -> 'a', '[1]'::json ->> 0"),
            "SELECT pg_typed(pg_json_get('{\"a\": 1}'::JSONB, 'a', 0, 'jsonb'), 'JSONB') AS \"?column?\", \
             pg_json_get('[1]'::JSON, 0, 1, 'json') AS \"?column?\""
        );
        assert_eq!(
            rw("select data ->> 'a' from t"),
            "SELECT pg_json_get(data, 'a', 1, NULL) AS \"?column?\" FROM t"
        );
        assert!(rw("select data -> 'a' from t").starts_with("ERROR operator ->"));
        assert_eq!(
            rw("select distinct on (active) active, name as n from users order by 1, n desc"),
            "SELECT pg_distinct.pg_c0 AS \"active\", pg_distinct.pg_c1 AS \"n\" FROM \
             (SELECT active AS pg_c0, name AS pg_c1, active AS pg_o0, name AS pg_o1, \
             row_number() OVER (PARTITION BY active ORDER BY active NULLS LAST, name DESC NULLS FIRST) \
             AS pg_distinct_on FROM users) AS pg_distinct WHERE pg_distinct.pg_distinct_on = 1 \
             ORDER BY pg_distinct.pg_o0 NULLS LAST, pg_distinct.pg_o1 DESC NULLS FIRST"
        );
        assert!(rw("select distinct on (a) a, b from t order by b").starts_with("ERROR"));
        assert!(rw("select distinct on (a) * from t").starts_with("ERROR"));
        assert!(rw("select distinct on (a) a from t union select 1").starts_with("ERROR"));
        // A field of a row is named after the field.
        assert_eq!(
            crate::builtins::item_name(
                &crate::pgsql::parse_expr("(information_schema._pg_expandarray(i.indkey)).n")
                    .unwrap()
            )
            .as_deref(),
            Some("n")
        );
        // Aliased and untouched items keep their names.
        assert_eq!(
            rw("select position('b' in 'abc') as p, 1 from t"),
            "SELECT position('b', 'abc') AS p, 1 FROM t"
        );
    }
}
