//! PostgreSQL's jsonb and json operators and functions beyond `->`/`->>` (those are the
//! `builtins` module's), and the array operators, rewritten by [`crate::pgsql`]'s
//! visitor ([`rewrite_expr`]) into SQL functions registered here
//! ([`register_functions`]), all reading JSON with the one parser of the `jsonb` module:
//!
//! * `j ? k`, `j ?| keys`, `j ?& keys` (jsonb only, so any operand is read as jsonb;
//!   one cast to json is 42883 as in PostgreSQL), `a @> b` and `a <@ b` on jsonb
//!   (PostgreSQL's containment: objects by key, arrays by element, numbers by value, a
//!   top-level array containing a scalar), and on arrays with `&&` (elements compared as
//!   numbers when the array's type is numeric, else as text). An operand's type is
//!   told from the syntax (a cast, `ARRAY[...]`, a function's result, or beside a
//!   column an untyped literal that is JSON no array's text can be: `'{"a": 1}'`, not
//!   `'{}'`); when neither side tells it (a column and `'{red}'`), 0A000.
//! * `j #> path`, `j #>> path` on a value whose json/jsonb type is evident (else `#>`
//!   is refused with 0A000, as `->` is); `jsonb_set`, `jsonb_array_length`/
//!   `json_array_length`, `jsonb_typeof`/`json_typeof`, `jsonb_strip_nulls`, typed as
//!   PostgreSQL types them.
//! * The set-returning `jsonb_each`, `json_each`, `..._text`, `jsonb_array_elements`,
//!   `json_array_elements`, `..._text`, `jsonb_object_keys`/`json_object_keys` in
//!   `FROM` ([`from_item`]): the `unnest` module makes them SQLite's `json_each` over
//!   the JSON that `pg_json_entries` writes (each value's PostgreSQL text as a JSON
//!   string), beside the items they read, their columns named and typed as
//!   PostgreSQL's (`key` text, `value` jsonb/json/text). One of a single column called
//!   once in the select list of a select that neither groups nor aggregates is moved
//!   to its `FROM` so ([`lift_from_select_list`]); other select-list uses are refused
//!   with 0A000.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;
use sqlparser::ast::{BinaryOperator, DataType, Expr, Ident, TableAlias, Value};

use crate::functions::{text_arg, user_error};
use crate::jsonb::{Json, JsonValue};
use crate::pgsql::{function_args, ident_parts, parse_expr};
use crate::sql::Unsupported;

/// The set-returning JSON functions this module reads in `FROM`.
const SET_RETURNING: &[&str] = &[
    "jsonb_each",
    "jsonb_each_text",
    "json_each",
    "json_each_text",
    "jsonb_array_elements",
    "jsonb_array_elements_text",
    "json_array_elements",
    "json_array_elements_text",
    "jsonb_object_keys",
    "json_object_keys",
];

/// What the syntax tells of an operand's type.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Operand {
    Jsonb,
    Json,
    /// An array: its element type's OID (see [`element_oid`]).
    Array {
        element: u32,
    },
    Unknown,
}

/// An array element type's OID, text-like types as text (their arrays compare alike).
fn element_oid(decl: &str) -> u32 {
    use crate::types::{oid_for_decl, BPCHAR, TEXT, VARCHAR};
    match oid_for_decl(decl) {
        BPCHAR | VARCHAR => TEXT,
        oid => oid,
    }
}

/// Whether an array's elements are numbers (compared by value).
pub(crate) fn numeric_element(oid: u32) -> bool {
    use crate::types::{FLOAT4, FLOAT8, INT2, INT4, INT8, NUMERIC};
    matches!(oid, INT2 | INT4 | INT8 | FLOAT4 | FLOAT8 | NUMERIC)
}

/// The element type of `ARRAY[...]` of literals, as PostgreSQL resolves it.
fn literal_array_element(items: &[Expr]) -> u32 {
    use crate::types::{BOOL, INT4, INT8, NUMERIC, TEXT};
    let mut best: Option<u32> = None;
    for item in items {
        let v = match item {
            Expr::Value(v) => &v.value,
            Expr::UnaryOp { expr, .. } => match &**expr {
                Expr::Value(v) => &v.value,
                _ => continue,
            },
            _ => continue,
        };
        let oid = match v {
            Value::Number(n, _) if n.contains(['.', 'e', 'E']) => NUMERIC,
            Value::Number(n, _) if n.parse::<i32>().is_ok() => INT4,
            Value::Number(n, _) if n.parse::<i64>().is_ok() => INT8,
            Value::Number(..) => NUMERIC,
            Value::Boolean(_) => BOOL,
            Value::Null => continue,
            _ => TEXT,
        };
        let rank = |o: u32| [INT4, INT8, NUMERIC].iter().position(|x| *x == o);
        best = Some(match (best, rank(oid)) {
            (Some(b), Some(r)) if rank(b).is_some_and(|rb| rb > r) => b,
            _ => oid,
        });
    }
    best.unwrap_or(TEXT)
}

/// What the syntax tells of `e`'s type (see [`Operand`]).
fn operand(e: &Expr) -> Operand {
    match crate::builtins::json_kind(e) {
        Some(true) => return Operand::Jsonb,
        Some(false) => return Operand::Json,
        None => {}
    }
    match e {
        Expr::Nested(e) => operand(e),
        Expr::Array(a) => Operand::Array {
            element: literal_array_element(&a.elem),
        },
        Expr::Cast { data_type, .. } => match data_type {
            DataType::Array(_) => {
                let decl = data_type.to_string();
                let element = decl.strip_suffix("[]").unwrap_or(&decl);
                Operand::Array {
                    element: element_oid(element),
                }
            }
            _ => {
                let decl = data_type.to_string();
                match decl.strip_suffix("[]") {
                    Some(element) => Operand::Array {
                        element: element_oid(element),
                    },
                    None => Operand::Unknown,
                }
            }
        },
        Expr::Function(f) => {
            let parts = ident_parts(&f.name);
            let args = function_args(f);
            match parts.last().map(String::as_str) {
                Some("pg_typed") => match args
                    .last()
                    .and_then(|t| t.strip_prefix('\''))
                    .and_then(|t| t.strip_suffix("[]'"))
                {
                    Some(element) => Operand::Array {
                        element: element_oid(element),
                    },
                    None => Operand::Unknown,
                },
                Some("pg_string_to_array") => Operand::Array {
                    element: crate::types::TEXT,
                },
                Some("array_append" | "array_cat" | "array_remove" | "pg_array_prepend") => {
                    first_arg_operand(f)
                }
                _ => Operand::Unknown,
            }
        }
        _ => Operand::Unknown,
    }
}

/// The element type (OID) of an expression the syntax shows to be an array.
pub(crate) fn array_element(e: &Expr) -> Option<u32> {
    match operand(e) {
        Operand::Array { element } => Some(element),
        _ => None,
    }
}

fn overlap_op(op: &BinaryOperator) -> bool {
    matches!(op, BinaryOperator::PGOverlap)
}

fn is_literal(e: &Expr) -> bool {
    match e {
        Expr::Nested(e) => is_literal(e),
        Expr::Value(_) => true,
        _ => false,
    }
}

/// Whether `e` is a string literal that is JSON and cannot be an array's text: any
/// JSON but an empty object (`{}` is also the empty array); an object with members
/// has a `:` no array's text has.
fn json_only_literal(e: &Expr) -> bool {
    match e {
        Expr::Nested(e) => json_only_literal(e),
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => crate::jsonb::parse(s)
                .is_some_and(|j| !matches!(&j.value, JsonValue::Object(m) if m.is_empty())),
            _ => false,
        },
        _ => false,
    }
}

/// An operand's type name, for PostgreSQL's 42883 message.
fn type_name(o: Operand) -> String {
    match o {
        Operand::Jsonb => "jsonb".to_string(),
        Operand::Json => "json".to_string(),
        Operand::Array { element } => format!("{}[]", crate::types::type_name(element)),
        Operand::Unknown => "unknown".to_string(),
    }
}

/// The operand kind of a function's first argument.
fn first_arg_operand(f: &sqlparser::ast::Function) -> Operand {
    function_args(f)
        .first()
        .and_then(|a| parse_expr(a).ok())
        .map_or(Operand::Unknown, |a| operand(&a))
}

/// Whether lower-case statement text may hold what this module, the `arrays` module or
/// the `extras` module rewrite (a cheap test before parsing an INSERT, UPDATE or DELETE).
pub(crate) fn may_need_rewrite(lower: &str) -> bool {
    [
        "?",
        "@>",
        "<@",
        "&&",
        "#>",
        "json",
        "array",
        "cardinality",
        "encode",
        "decode",
        "sha2",
        "sha5",
        "quote_",
        "make_date",
        "bytea",
    ]
    .iter()
    .any(|k| lower.contains(k))
}

/// The JSON operators and functions and the array operators, rewritten in place (see
/// the module docs); whether `expr` changed.
pub(crate) fn rewrite_expr(expr: &mut Expr) -> Result<bool, Unsupported> {
    let text = match expr {
        Expr::BinaryOp { left, op, right } => {
            let (l, r) = (operand(left), operand(right));
            match op {
                BinaryOperator::Question
                | BinaryOperator::QuestionPipe
                | BinaryOperator::QuestionAnd => {
                    if l == Operand::Json || matches!(l, Operand::Array { .. }) {
                        return Err(Unsupported(format!(
                            "[42883] operator does not exist: {} {op} text",
                            if l == Operand::Json { "json" } else { "array" }
                        )));
                    }
                    let mode = match op {
                        BinaryOperator::Question => "one",
                        BinaryOperator::QuestionPipe => "any",
                        _ => "all",
                    };
                    format!("pg_typed(pg_jsonb_exists({left}, {right}, '{mode}'), 'BOOL')")
                }
                BinaryOperator::AtArrow | BinaryOperator::ArrowAt | BinaryOperator::PGOverlap => {
                    let (a, b) = match op {
                        BinaryOperator::ArrowAt => (&*right, &*left),
                        _ => (&*left, &*right),
                    };
                    // An untyped literal beside an operand of unknown type (a column):
                    // JSON that no array's text can be is jsonb.
                    let (l, r) = match (l, r) {
                        (Operand::Unknown, Operand::Unknown) if !overlap_op(op) => {
                            match (json_only_literal(left), json_only_literal(right)) {
                                (false, true) if !is_literal(left) => (l, Operand::Jsonb),
                                (true, false) if !is_literal(right) => (Operand::Jsonb, r),
                                _ => (l, r),
                            }
                        }
                        _ => (l, r),
                    };
                    let kind = match (l, r) {
                        (Operand::Unknown, k) | (k, Operand::Unknown) => k,
                        (k, other) if k == other => k,
                        (k, other) => {
                            return Err(Unsupported(format!(
                                "[42883] operator does not exist: {} {op} {}",
                                type_name(k),
                                type_name(other)
                            )))
                        }
                    };
                    let overlap = matches!(op, BinaryOperator::PGOverlap);
                    match kind {
                        Operand::Jsonb if !overlap => {
                            format!("pg_typed(pg_jsonb_contains({a}, {b}), 'BOOL')")
                        }
                        Operand::Array { element } => format!(
                            "pg_typed(pg_array_{}({a}, {b}, {}), 'BOOL')",
                            if overlap { "overlap" } else { "contains_all" },
                            i32::from(numeric_element(element))
                        ),
                        Operand::Json => {
                            return Err(Unsupported(format!(
                                "[42883] operator does not exist: json {op} json"
                            )))
                        }
                        Operand::Jsonb => {
                            return Err(Unsupported(
                                "[42883] operator does not exist: jsonb && jsonb".to_string(),
                            ))
                        }
                        Operand::Unknown => {
                            return Err(Unsupported(format!(
                                "operator {op} on operands whose type is not evident (jsonb or an array: cast one of them) is not supported"
                            )))
                        }
                    }
                }
                BinaryOperator::HashArrow | BinaryOperator::HashLongArrow => {
                    let as_text = matches!(op, BinaryOperator::HashLongArrow);
                    let kind = match l {
                        Operand::Jsonb => "'jsonb'",
                        Operand::Json => "'json'",
                        _ => "NULL",
                    };
                    let call = format!(
                        "pg_json_path({left}, {right}, {}, {kind})",
                        i32::from(as_text)
                    );
                    match (as_text, l) {
                        (true, _) => call,
                        (false, Operand::Jsonb) => format!("pg_typed({call}, 'JSONB')"),
                        (false, Operand::Json) => format!("pg_typed({call}, 'JSON')"),
                        (false, _) => {
                            return Err(Unsupported(
                                "operator #> on a value not cast to json or jsonb is not supported"
                                    .to_string(),
                            ))
                        }
                    }
                }
                _ => return Ok(false),
            }
        }
        Expr::Function(f) => {
            let parts = ident_parts(&f.name);
            let [name] = parts.as_slice() else {
                return Ok(false);
            };
            let args = function_args(f);
            let typed = |call: &str, ty: &str| format!("pg_typed({call}, '{ty}')");
            match (name.as_str(), args.as_slice()) {
                ("jsonb_set", [t, p, n]) => {
                    typed(&format!("pg_jsonb_set({t}, {p}, {n}, 1)"), "JSONB")
                }
                ("jsonb_set", [t, p, n, c]) => {
                    typed(&format!("pg_jsonb_set({t}, {p}, {n}, {c})"), "JSONB")
                }
                ("jsonb_array_length" | "json_array_length", [j]) => typed(
                    &format!("pg_json_array_length({j}, '{}')", &name[..name.len() - 13]),
                    "INT4",
                ),
                ("jsonb_typeof" | "json_typeof", [j]) => typed(
                    &format!("pg_json_typeof({j}, '{}')", &name[..name.len() - 7]),
                    "TEXT",
                ),
                ("jsonb_strip_nulls", [j]) => typed(&format!("pg_jsonb_strip_nulls({j})"), "JSONB"),
                (n, _) if SET_RETURNING.contains(&n) => {
                    return Err(Unsupported(format!(
                    "set-returning function {n}() outside FROM is not supported (call it in FROM)"
                )))
                }
                _ => return Ok(false),
            }
        }
        _ => return Ok(false),
    };
    *expr = parse_expr(&text)?;
    Ok(true)
}

/// A set-returning function's `FROM` item: the call that stands for it, its qualifier
/// and its columns (name, value read from the `json_each` row).
pub(crate) type FromItem = (String, Ident, Vec<(Ident, String)>);

/// A set-returning JSON function in `FROM` (`jsonb_each(meta) AS e(k, v)`): the
/// `json_each(pg_json_entries(...))` call that stands for it, the name its columns are
/// qualified with, and its columns (name, value read from that `json_each` row); `None`
/// for another item.
pub(crate) fn from_item(
    name: &sqlparser::ast::ObjectName,
    args: &[String],
    alias: Option<&TableAlias>,
    ordinality: bool,
) -> Result<Option<FromItem>, Unsupported> {
    let parts = ident_parts(name);
    let schema_ok = match parts.as_slice() {
        [_] => true,
        [s, _] => s == "pg_catalog",
        _ => false,
    };
    let Some(function) = parts.last().filter(|n| SET_RETURNING.contains(&n.as_str())) else {
        return Ok(None);
    };
    if !schema_ok {
        return Ok(None);
    }
    // SQLite's own `json_each` over what a rewrite made.
    if function == "json_each"
        && args
            .first()
            .is_some_and(|a| a.starts_with("pg_") || a.starts_with("_pgproto"))
    {
        return Ok(None);
    }
    let [arg] = args else {
        return Err(Unsupported(format!(
            "[42883] function {function} with {} arguments does not exist",
            args.len()
        )));
    };
    let qualifier = alias.map_or_else(|| Ident::new(function.clone()), |a| a.name.clone());
    let value_type = if function.ends_with("_text") || function.ends_with("_keys") {
        "TEXT"
    } else if function.starts_with("jsonb") {
        "JSONB"
    } else {
        "JSON"
    };
    let each = function.ends_with("_each") || function.ends_with("_each_text");
    let mut names: Vec<Ident> = if each {
        vec![Ident::new("key"), Ident::new("value")]
    } else if function.ends_with("_keys") {
        // A scalar result: the column is named by the alias, as a scalar function's.
        vec![qualifier.clone()]
    } else {
        vec![Ident::new("value")]
    };
    if ordinality {
        // The position is `json_each`'s key over the array `pg_json_entries` writes; an
        // object's entries have none.
        if each {
            return Err(Unsupported(format!(
                "{function}() WITH ORDINALITY is not supported"
            )));
        }
        names.push(Ident::new("ordinality"));
    }
    if let Some(a) = alias {
        if a.columns.len() > names.len() {
            return Err(Unsupported(format!(
                "table \"{}\" has {} columns available but {} columns specified",
                a.name.value,
                names.len(),
                a.columns.len()
            )));
        }
        for (n, c) in names.iter_mut().zip(&a.columns) {
            *n = c.name.clone();
        }
    }
    let mut columns = Vec::new();
    let mut named = names.into_iter();
    if each {
        if let Some(n) = named.next() {
            columns.push((n, format!("pg_typed({qualifier}.key, 'TEXT')")));
        }
    }
    if let Some(n) = named.next() {
        columns.push((n, format!("pg_typed({qualifier}.value, '{value_type}')")));
    }
    if let Some(n) = named.next() {
        columns.push((n, format!("CAST({qualifier}.key + 1 AS INT8)")));
    }
    Ok(Some((
        format!("json_each(pg_json_entries({arg}, '{function}'))"),
        qualifier,
        columns,
    )))
}

/// Aggregates, beside which a set-returning function is not a join.
const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "array_agg",
    "string_agg",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
    "bool_and",
    "bool_or",
    "every",
    "bit_and",
    "bit_or",
    "group_concat",
    "total",
];

/// A set-returning JSON function of one column (`jsonb_object_keys`,
/// `json[b]_array_elements[_text]`) called once in the select list of a select that
/// neither groups nor aggregates: PostgreSQL makes a row of each value, as a join to
/// it in `FROM` would, so it becomes that `FROM` item (`AS pg_srf`, read by the
/// `unnest` module's lateral form) and the call its column; whether it moved. Other
/// uses stay, and [`rewrite_expr`] refuses them.
pub(crate) fn lift_from_select_list(select: &mut sqlparser::ast::Select) -> bool {
    use std::ops::ControlFlow;
    let lifts =
        |n: &str| SET_RETURNING.contains(&n) && !n.ends_with("_each") && !n.ends_with("_each_text");
    let mut calls = 0;
    let mut aggregate = select.having.is_some() || crate::pgsql::is_grouped(select);
    let _ = sqlparser::ast::visit_expressions(&select.projection, |e| {
        if let Expr::Function(f) = e {
            match ident_parts(&f.name).last().map(String::as_str) {
                Some(n) if SET_RETURNING.contains(&n) => calls += 1,
                Some(n) if f.over.is_none() && AGGREGATES.contains(&n) => aggregate = true,
                _ => {}
            }
        }
        ControlFlow::<()>::Continue(())
    });
    if calls != 1 || aggregate {
        return false;
    }
    let mut lifted = None;
    let _ = sqlparser::ast::visit_expressions_mut(&mut select.projection, |e| {
        if let Expr::Function(f) = e {
            let parts = ident_parts(&f.name);
            if let [name] = parts.as_slice() {
                if lifts(name) && lifted.is_none() {
                    let column = if name.ends_with("_keys") {
                        "pg_srf"
                    } else {
                        "value"
                    };
                    lifted = Some((
                        name.clone(),
                        format!("{name}({}) AS pg_srf", function_args(f).join(", ")),
                    ));
                    *e = Expr::CompoundIdentifier(vec![Ident::new("pg_srf"), Ident::new(column)]);
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
    let Some((name, item)) = lifted else {
        return false;
    };
    // The call alone is named after the function, as PostgreSQL names it.
    for i in &mut select.projection {
        if let sqlparser::ast::SelectItem::UnnamedExpr(e @ Expr::CompoundIdentifier(_)) = i {
            if matches!(e, Expr::CompoundIdentifier(p) if p.first().is_some_and(|q| q.value == "pg_srf"))
            {
                *i = sqlparser::ast::SelectItem::ExprWithAlias {
                    expr: e.clone(),
                    alias: Ident::with_quote('"', name.clone()),
                };
            }
        }
    }
    let Ok(query) = crate::pgsql::parse_query(&format!("SELECT 1 FROM {item}")) else {
        return false;
    };
    let sqlparser::ast::SetExpr::Select(from) = *query.body else {
        return false;
    };
    select.from.extend(from.from);
    true
}

/// A JSON value, owned, for the functions that make a new one.
#[derive(Clone, Debug, PartialEq)]
enum Node {
    /// A scalar's text as jsonb writes it (a string with its quotes).
    Scalar(String),
    Array(Vec<Self>),
    /// The members in order, each key read.
    Object(Vec<(String, Self)>),
}

fn node(json: &Json<'_>) -> Option<Node> {
    Some(match &json.value {
        JsonValue::Array(items) => Node::Array(items.iter().map(node).collect::<Option<_>>()?),
        JsonValue::Object(members) => Node::Object(
            members
                .iter()
                .map(|(k, v)| Some((crate::jsonb::unquote(k)?, node(v)?)))
                .collect::<Option<_>>()?,
        ),
        _ => Node::Scalar(crate::jsonb::canonical_of(json)?),
    })
}

/// The JSON text of a node (jsonb's form after [`crate::jsonb::canonical`]).
fn write_node(n: &Node, out: &mut String) {
    match n {
        Node::Scalar(s) => out.push_str(s),
        Node::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_node(item, out);
            }
            out.push(']');
        }
        Node::Object(members) => {
            out.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                crate::jsonb::write_string(k, out);
                out.push_str(": ");
                write_node(v, out);
            }
            out.push('}');
        }
    }
}

fn jsonb_text(n: &Node) -> Result<String, String> {
    let mut out = String::new();
    write_node(n, &mut out);
    crate::jsonb::canonical(&out).ok_or_else(|| invalid(&out))
}

fn invalid(text: &str) -> String {
    format!("[22P02] invalid input syntax for type json: \"{text}\"")
}

/// A jsonb value read from its text (in jsonb's form: keys ordered, repeated keys once).
fn jsonb_node(text: &str) -> Result<Node, String> {
    let canon = crate::jsonb::canonical(text).ok_or_else(|| invalid(text))?;
    crate::jsonb::parse(&canon)
        .and_then(|j| node(&j))
        .ok_or_else(|| invalid(text))
}

/// A number's text (as jsonb writes it) in one form per value: `1.50` and `1.5` alike.
fn number_key(s: &str) -> String {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let zero = int.is_empty() && frac.is_empty();
    format!(
        "{}{}.{frac}",
        if neg && !zero { "-" } else { "" },
        if int.is_empty() { "0" } else { int }
    )
}

fn is_number(s: &str) -> bool {
    s.starts_with(|c: char| c == '-' || c.is_ascii_digit())
}

fn scalar_eq(a: &str, b: &str) -> bool {
    if is_number(a) && is_number(b) {
        number_key(a) == number_key(b)
    } else {
        a == b
    }
}

/// jsonb's `a @> b` below the top level.
fn contains(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Object(am), Node::Object(bm)) => bm
            .iter()
            .all(|(k, bv)| am.iter().any(|(ak, av)| ak == k && contains(av, bv))),
        (Node::Array(ai), Node::Array(bi)) => {
            bi.iter().all(|bv| ai.iter().any(|av| contains(av, bv)))
        }
        (Node::Scalar(x), Node::Scalar(y)) => scalar_eq(x, y),
        _ => false,
    }
}

/// jsonb's `a @> b`: [`contains`], and a top-level array contains its scalars.
pub(crate) fn jsonb_contains(a: &str, b: &str) -> Result<bool, String> {
    let (a, b) = (jsonb_node(a)?, jsonb_node(b)?);
    Ok(match (&a, &b) {
        (Node::Array(items), Node::Scalar(_)) => items.iter().any(|i| contains(i, &b)),
        _ => contains(&a, &b),
    })
}

/// jsonb's `?`: `key` is a top-level key, a string element of a top-level array, or the
/// string itself.
fn has_key(n: &Node, key: &str) -> bool {
    let is = |s: &str| crate::jsonb::unquote(s).as_deref() == Some(key);
    match n {
        Node::Object(m) => m.iter().any(|(k, _)| k == key),
        Node::Array(items) => items
            .iter()
            .any(|i| matches!(i, Node::Scalar(s) if s.starts_with('"') && is(s))),
        Node::Scalar(s) => s.starts_with('"') && is(s),
    }
}

/// `j ? key` (`mode` "one"), `j ?| keys` ("any"), `j ?& keys` ("all"; keys an array's
/// text, NULL elements skipped).
pub(crate) fn jsonb_exists(json: &str, keys: &str, mode: &str) -> Result<bool, String> {
    let n = jsonb_node(json)?;
    if mode == "one" {
        return Ok(has_key(&n, keys));
    }
    let keys: Vec<String> = crate::catalog::array_elements(keys)
        .into_iter()
        .flatten()
        .collect();
    Ok(match mode {
        "any" => keys.iter().any(|k| has_key(&n, k)),
        _ => keys.iter().all(|k| has_key(&n, k)),
    })
}

/// `j #> path` / `j #>> path` (`as_text`): the value at the path (keys, or array
/// subscripts from 0, from the end when negative), as `->`/`->>` write it; `jsonb` is
/// `None` when the value's type is not known (a container is then refused).
pub(crate) fn json_path(
    json: &str,
    path: &str,
    as_text: bool,
    jsonb: Option<bool>,
) -> Result<Option<String>, String> {
    let canon;
    let text = if jsonb == Some(true) {
        canon = crate::jsonb::canonical(json).ok_or_else(|| invalid(json))?;
        canon.as_str()
    } else {
        json
    };
    let root = crate::jsonb::parse(text).ok_or_else(|| invalid(json))?;
    let mut at = &root;
    for step in crate::catalog::array_elements(path) {
        let Some(step) = step else {
            return Ok(None);
        };
        let next = match &at.value {
            JsonValue::Object(members) => members
                .iter()
                .rev()
                .find(|(k, _)| crate::jsonb::unquote(k).as_deref() == Some(step.as_str()))
                .map(|(_, v)| v),
            JsonValue::Array(items) => step.trim().parse::<i64>().ok().and_then(|i| {
                let i = if i < 0 { items.len() as i64 + i } else { i };
                usize::try_from(i).ok().and_then(|i| items.get(i))
            }),
            _ => None,
        };
        match next {
            Some(n) => at = n,
            None => return Ok(None),
        }
    }
    match at.value {
        JsonValue::String if as_text => crate::jsonb::unquote(at.raw)
            .map(Some)
            .ok_or_else(|| "[22P05] unsupported Unicode escape sequence".to_string()),
        JsonValue::Null if as_text => Ok(None),
        JsonValue::Array(_) | JsonValue::Object(_) => match jsonb {
            Some(true) => Ok(crate::jsonb::canonical_of(at)),
            Some(false) => Ok(Some(at.raw.to_string())),
            None => Err(
                "[0A000] #>> of an object or array from a value not cast to json or jsonb is not supported"
                    .to_string(),
            ),
        },
        _ => Ok(Some(match jsonb {
            Some(true) => crate::jsonb::canonical_of(at).unwrap_or_default(),
            _ => at.raw.to_string(),
        })),
    }
}

/// `jsonb_set(target, path, new, create_missing)`.
pub(crate) fn jsonb_set(
    target: &str,
    path: &str,
    new: &str,
    create: bool,
) -> Result<String, String> {
    let mut root = jsonb_node(target)?;
    let new = jsonb_node(new)?;
    let mut steps = Vec::new();
    for (i, s) in crate::catalog::array_elements(path).into_iter().enumerate() {
        steps.push(s.ok_or_else(|| format!("[22004] path element at position {} is null", i + 1))?);
    }
    if steps.is_empty() {
        return jsonb_text(&root);
    }
    if matches!(root, Node::Scalar(_)) {
        return Err("[22023] cannot set path in scalar".to_string());
    }
    set_path(&mut root, &steps, 0, new, create)?;
    jsonb_text(&root)
}

fn set_path(
    at: &mut Node,
    steps: &[String],
    level: usize,
    new: Node,
    create: bool,
) -> Result<(), String> {
    let Some(step) = steps.get(level) else {
        return Ok(());
    };
    let last = level + 1 == steps.len();
    match at {
        Node::Object(members) => {
            match members.iter_mut().find(|(k, _)| k == step) {
                Some((_, v)) if last => *v = new,
                Some((_, v)) => set_path(v, steps, level + 1, new, create)?,
                None if last && create => members.push((step.clone(), new)),
                None => {}
            }
            Ok(())
        }
        Node::Array(items) => {
            let i: i64 = step.trim().parse().map_err(|_| {
                format!(
                    "[22P02] path element at position {} is not an integer: \"{step}\"",
                    level + 1
                )
            })?;
            let n = items.len() as i64;
            let i = if i < 0 { n + i } else { i };
            if (0..n).contains(&i) {
                let Some(item) = usize::try_from(i).ok().and_then(|i| items.get_mut(i)) else {
                    return Ok(());
                };
                if last {
                    *item = new;
                } else {
                    set_path(item, steps, level + 1, new, create)?;
                }
            } else if last && create {
                if i < 0 {
                    items.insert(0, new);
                } else {
                    items.push(new);
                }
            }
            Ok(())
        }
        Node::Scalar(_) => Ok(()),
    }
}

fn strip_nulls(n: &mut Node) {
    match n {
        Node::Object(members) => {
            members.retain(|(_, v)| !matches!(v, Node::Scalar(s) if s == "null"));
            for (_, v) in members {
                strip_nulls(v);
            }
        }
        Node::Array(items) => items.iter_mut().for_each(strip_nulls),
        Node::Scalar(_) => {}
    }
}

/// `json[b]_typeof`.
fn type_of(json: &Json<'_>) -> &'static str {
    match json.value {
        JsonValue::Null => "null",
        JsonValue::Bool => "boolean",
        JsonValue::Number => "number",
        JsonValue::String => "string",
        JsonValue::Array(_) => "array",
        JsonValue::Object(_) => "object",
    }
}

/// What a set-returning function in `FROM` yields, as JSON that SQLite's `json_each`
/// walks: an object of each member's value text (`..._each`), or an array of each
/// element's value text or of the keys; each text a JSON string (JSON null for the
/// `_text` forms' NULL). The values are written as `function` writes them: jsonb's
/// form, json's text as written, a string's contents for `_text`.
pub(crate) fn entries(json: &str, function: &str) -> Result<String, String> {
    let jsonb = function.starts_with("jsonb");
    let as_text = function.ends_with("_text");
    let canon;
    let text = if jsonb {
        canon = crate::jsonb::canonical(json).ok_or_else(|| invalid(json))?;
        canon.as_str()
    } else {
        json
    };
    let root = crate::jsonb::parse(text).ok_or_else(|| invalid(json))?;
    let value = |j: &Json<'_>, out: &mut String| -> Result<(), String> {
        let text = match j.value {
            JsonValue::String if as_text => crate::jsonb::unquote(j.raw)
                .ok_or_else(|| "[22P05] unsupported Unicode escape sequence".to_string())?,
            JsonValue::Null if as_text => {
                out.push_str("null");
                return Ok(());
            }
            _ if jsonb => crate::jsonb::canonical_of(j).ok_or_else(|| invalid(json))?,
            _ => j.raw.to_string(),
        };
        crate::jsonb::write_string(&text, out);
        Ok(())
    };
    let key = |k: &str, out: &mut String| -> Result<(), String> {
        let k = crate::jsonb::unquote(k)
            .ok_or_else(|| "[22P05] unsupported Unicode escape sequence".to_string())?;
        crate::jsonb::write_string(&k, out);
        Ok(())
    };
    let what = match root.value {
        JsonValue::Object(_) => "an object",
        JsonValue::Array(_) => "an array",
        _ => "a scalar",
    };
    let mut out = String::new();
    if function.ends_with("_each") || function.ends_with("_each_text") {
        let JsonValue::Object(members) = &root.value else {
            return Err(format!("[22023] cannot call {function} on a non-object"));
        };
        out.push('{');
        for (i, (k, v)) in members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            key(k, &mut out)?;
            out.push(':');
            value(v, &mut out)?;
        }
        out.push('}');
    } else if function.ends_with("_keys") {
        let JsonValue::Object(members) = &root.value else {
            return Err(format!("[22023] cannot call {function} on {what}"));
        };
        out.push('[');
        for (i, (k, _)) in members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            key(k, &mut out)?;
        }
        out.push(']');
    } else {
        let JsonValue::Array(items) = &root.value else {
            return Err(match jsonb {
                true => format!("[22023] cannot extract elements from {what}"),
                false => format!("[22023] cannot call {function} on a non-array"),
            });
        };
        out.push('[');
        for (i, v) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            value(v, &mut out)?;
        }
        out.push(']');
    }
    Ok(out)
}

/// The elements of an array's text, for comparing: numbers in one form when `numeric`.
fn array_keys(text: &str, numeric: bool) -> Vec<Option<String>> {
    crate::catalog::array_elements(text)
        .into_iter()
        .map(|e| {
            e.map(|s| match numeric {
                true => s
                    .parse::<f64>()
                    .ok()
                    .filter(|_| is_number(s.trim()))
                    .map_or(s.clone(), |_| number_key(s.trim())),
                false => s,
            })
        })
        .collect()
}

/// Registers this module's functions on a connection.
pub(crate) fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("pg_jsonb_exists", 3, flags, |ctx| {
        let (Some(j), Some(k), Some(mode)) =
            (text_arg(ctx, 0)?, text_arg(ctx, 1)?, text_arg(ctx, 2)?)
        else {
            return Ok(None);
        };
        jsonb_exists(&j, &k, &mode).map(Some).map_err(user_error)
    })?;
    conn.create_scalar_function("pg_jsonb_contains", 2, flags, |ctx| {
        let (Some(a), Some(b)) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
            return Ok(None);
        };
        jsonb_contains(&a, &b).map(Some).map_err(user_error)
    })?;
    for (name, overlap) in [("pg_array_contains_all", false), ("pg_array_overlap", true)] {
        conn.create_scalar_function(name, 3, flags, move |ctx| {
            let (Some(a), Some(b)) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
                return Ok(None);
            };
            let numeric = ctx.get::<i64>(2)? != 0;
            let (a, b) = (array_keys(&a, numeric), array_keys(&b, numeric));
            // A NULL element equals nothing.
            let found = |x: &Option<String>| x.is_some() && a.contains(x);
            Ok(Some(match overlap {
                true => b.iter().any(found),
                false => b.iter().all(found),
            }))
        })?;
    }
    conn.create_scalar_function("pg_json_path", 4, flags, |ctx| {
        let (Some(j), Some(p)) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
            return Ok(None);
        };
        let as_text = ctx.get::<i64>(2)? != 0;
        let jsonb = text_arg(ctx, 3)?.map(|k| k == "jsonb");
        json_path(&j, &p, as_text, jsonb).map_err(user_error)
    })?;
    conn.create_scalar_function("pg_jsonb_set", 4, flags, |ctx| {
        let (Some(t), Some(p), Some(n)) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?, text_arg(ctx, 2)?)
        else {
            return Ok(None);
        };
        let Some(create) = ctx.get::<Option<SqlValue>>(3)? else {
            return Ok(None);
        };
        let create = !matches!(create, SqlValue::Integer(0))
            && !matches!(&create, SqlValue::Text(t) if ["f", "false", "0", "no", "n", "off"].contains(&t.to_ascii_lowercase().as_str()));
        jsonb_set(&t, &p, &n, create).map(Some).map_err(user_error)
    })?;
    conn.create_scalar_function("pg_json_array_length", 2, flags, |ctx| {
        let Some(j) = text_arg(ctx, 0)? else {
            return Ok(None);
        };
        let jsonb = text_arg(ctx, 1)?.as_deref() == Some("jsonb");
        let root = crate::jsonb::parse(&j).ok_or_else(|| user_error(invalid(&j)))?;
        match &root.value {
            JsonValue::Array(items) => Ok(Some(items.len() as i64)),
            JsonValue::Object(_) if jsonb => Err(user_error(
                "[22023] cannot get array length of a non-array".to_string(),
            )),
            JsonValue::Object(_) => Err(user_error(
                "[22023] cannot get array length of a non-array".to_string(),
            )),
            _ => Err(user_error(
                "[22023] cannot get array length of a scalar".to_string(),
            )),
        }
    })?;
    conn.create_scalar_function("pg_json_typeof", 2, flags, |ctx| {
        let Some(j) = text_arg(ctx, 0)? else {
            return Ok(None);
        };
        let root = crate::jsonb::parse(&j).ok_or_else(|| user_error(invalid(&j)))?;
        Ok(Some(type_of(&root)))
    })?;
    conn.create_scalar_function("pg_jsonb_strip_nulls", 1, flags, |ctx| {
        let Some(j) = text_arg(ctx, 0)? else {
            return Ok(None);
        };
        let mut n = jsonb_node(&j).map_err(user_error)?;
        strip_nulls(&mut n);
        jsonb_text(&n).map(Some).map_err(user_error)
    })?;
    conn.create_scalar_function("pg_json_entries", 2, flags, |ctx| {
        let (Some(j), Some(f)) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
            // NULL yields no rows, as in PostgreSQL.
            return Ok("[]".to_string());
        };
        entries(&j, &f).map_err(user_error)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::pgsql::rewritten_or_error as rw;

    /// Runs `sql` rewritten on a connection with the crate's functions; the rows as
    /// text (`NULL`), or the error.
    fn run(sql: &str) -> Result<Vec<String>, String> {
        let conn = Connection::open_in_memory().unwrap();
        crate::catalog::register_functions(&conn).unwrap();
        crate::functions::register_functions(&conn).unwrap();
        crate::usertypes::register_functions(&conn).unwrap();
        register_functions(&conn).unwrap();
        conn.execute_batch(
            "CREATE TABLE items (id INT, meta TEXT, tags TEXT);
             INSERT INTO items VALUES (1, '{\"b\": 2, \"a\": {\"x\": null}}', '{fruit,red}'),
             (2, '[1, \"a\"]', '{tool}');",
        )
        .unwrap();
        let sql = crate::sql::rewrite(sql).map_err(|e| e.0)?;
        let mut st = conn.prepare(&sql).map_err(|e| e.to_string())?;
        let n = st.column_count();
        let rows = st
            .query_map([], |r| {
                Ok((0..n)
                    .map(|i| match r.get::<_, SqlValue>(i).unwrap() {
                        SqlValue::Null => "NULL".to_string(),
                        SqlValue::Integer(i) => i.to_string(),
                        SqlValue::Real(f) => f.to_string(),
                        SqlValue::Text(t) => t,
                        SqlValue::Blob(_) => "blob".to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(" | "))
            })
            .map_err(|e| e.to_string())?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())
    }

    #[test]
    fn operators_become_calls_by_the_operand_s_type() {
        assert_eq!(
            rw("select meta ? 'a', meta ?| array['a', 'z'] from items"),
            "SELECT pg_typed(pg_jsonb_exists(meta, 'a', 'one'), 'BOOL') AS \"?column?\", \
             pg_typed(pg_jsonb_exists(meta, pg_typed('{a,z}', 'TEXT[]'), 'any'), 'BOOL') AS \"?column?\" FROM items"
        );
        assert_eq!(
            rw("select * from items where meta @> '{\"b\": 2}'::jsonb"),
            "SELECT * FROM items WHERE pg_typed(pg_jsonb_contains(meta, '{\"b\": 2}'::JSONB), 'BOOL')"
        );
        assert_eq!(
            rw("select * from items where array['fruit'] <@ tags and tags && array[1]"),
            "SELECT * FROM items WHERE pg_typed(pg_array_contains_all(tags, pg_typed('{fruit}', 'TEXT[]'), 0), 'BOOL') \
             AND pg_typed(pg_array_overlap(tags, pg_typed('{1}', 'INT4[]'), 1), 'BOOL')"
        );
        assert_eq!(
            rw("select '{\"a\": [1]}'::jsonb #> '{a,0}', meta #>> '{a}' from items"),
            "SELECT pg_typed(pg_json_path('{\"a\": [1]}'::JSONB, '{a,0}', 0, 'jsonb'), 'JSONB') AS \"?column?\", \
             pg_json_path(meta, '{a}', 1, NULL) AS \"?column?\" FROM items"
        );
        assert_eq!(
            rw("select jsonb_set(meta, '{a}', '1'), jsonb_typeof(meta), jsonb_array_length(meta) from items"),
            "SELECT pg_typed(pg_jsonb_set(meta, '{a}', '1', 1), 'JSONB') AS \"jsonb_set\", \
             pg_typed(pg_json_typeof(meta, 'jsonb'), 'TEXT') AS \"jsonb_typeof\", \
             pg_typed(pg_json_array_length(meta, 'jsonb'), 'INT4') AS \"jsonb_array_length\" FROM items"
        );
        // JSON no array's text can be, beside a column, is jsonb.
        assert_eq!(
            rw("select id from items where meta @> '{\"a\": 1}' and '[1]' <@ meta"),
            "SELECT id FROM items WHERE pg_typed(pg_jsonb_contains(meta, '{\"a\": 1}'), 'BOOL') \
             AND pg_typed(pg_jsonb_contains(meta, '[1]'), 'BOOL')"
        );
        // What the syntax does not tell is refused (0A000); json has no such operators.
        for (sql, want) in [
            (
                "select meta @> '{a,b}' from items",
                "ERROR operator @> on operands",
            ),
            (
                "select '{\"a\": 1}' @> '{\"a\": 1}'",
                "ERROR operator @> on operands",
            ),
            (
                "select meta @> '{}' from items",
                "ERROR operator @> on operands",
            ),
            (
                "select meta #> '{a}' from items",
                "ERROR operator #> on a value",
            ),
            ("select '{}'::json ? 'a'", "ERROR [42883]"),
            (
                "select jsonb_object_keys(meta), jsonb_object_keys(meta) from items",
                "ERROR set-returning",
            ),
        ] {
            assert!(rw(sql).starts_with(want), "{sql}: {}", rw(sql));
        }
    }

    #[test]
    fn set_returning_functions_in_from_read_json_each() {
        assert_eq!(
            rw("select key, value from items, jsonb_each(meta) where id = 1"),
            "SELECT pg_typed(jsonb_each.key, 'TEXT') AS key, pg_typed(jsonb_each.value, 'JSONB') AS value \
             FROM items, json_each(pg_json_entries(meta, 'jsonb_each')) AS jsonb_each WHERE items.id = 1"
        );
        assert_eq!(
            rw("select * from json_array_elements_text('[1,\"a\"]') as e(v)"),
            "SELECT pg_typed(e.value, 'TEXT') AS v FROM json_each(pg_json_entries('[1,\"a\"]', 'json_array_elements_text')) AS e"
        );
        // In an UPDATE or DELETE too.
        assert_eq!(
            rw("update items set meta = jsonb_set(meta, '{a}', '1') where tags && array['x']"),
            "UPDATE items SET meta = pg_typed(pg_jsonb_set(meta, '{a}', '1', 1), 'JSONB') \
             WHERE pg_typed(pg_array_overlap(tags, pg_typed('{x}', 'TEXT[]'), 0), 'BOOL')"
        );
        // In a select list, a join to it.
        assert_eq!(
            rw("select id, jsonb_object_keys(meta) from items order by 1, 2"),
            "SELECT items.id, pg_typed(pg_srf.value, 'TEXT') AS \"jsonb_object_keys\" \
             FROM items, json_each(pg_json_entries(meta, 'jsonb_object_keys')) AS pg_srf \
             ORDER BY 1 NULLS LAST, 2 NULLS LAST"
        );
        assert!(rw("select count(*), jsonb_object_keys(meta) from items").starts_with("ERROR"));
        assert!(rw("select jsonb_each(meta) from items").starts_with("ERROR"));
        assert_eq!(
            rw("select * from jsonb_array_elements('[5]') with ordinality as e(v, n)"),
            "SELECT pg_typed(e.value, 'JSONB') AS v, CAST(pg_add(e.key, 1) AS INT8) AS n \
             FROM json_each(pg_json_entries('[5]', 'jsonb_array_elements')) AS e"
        );
        assert!(rw("select * from jsonb_each('{}') with ordinality").starts_with("ERROR"));
        // With two other items, a name json_each also has is ambiguous: refused.
        assert!(rw("select id from items, t, jsonb_each(meta)").starts_with("ERROR"));
    }

    #[test]
    fn json_functions_answer_as_postgresql() {
        // Expected answers are PostgreSQL 15's (see also tests/functions_oracle.rs).
        let one = |sql: &str| run(sql).map(|r| r.join("\n"));
        assert_eq!(
            one("select key, value from items, jsonb_each(meta) where id = 1").unwrap(),
            "a | {\"x\": null}\nb | 2"
        );
        assert_eq!(
            one("select * from json_array_elements('[1, \"a\", [2,3]]')").unwrap(),
            "1\n\"a\"\n[2,3]"
        );
        assert_eq!(
            one("select value from jsonb_array_elements_text('[1, \"a\", null]')").unwrap(),
            "1\na\nNULL"
        );
        assert_eq!(
            one("select k from jsonb_object_keys('{\"bb\": 1, \"a\": 2}') as k").unwrap(),
            "a\nbb"
        );
        assert_eq!(
            one("select jsonb_array_elements_text('[1, \"x\"]') || '!'").unwrap(),
            "1!\nx!"
        );
        assert_eq!(
            one("select k, v from json_each_text('{\"a\": \"x\", \"a\": null}') as e(k, v)")
                .unwrap(),
            "a | x\na | NULL"
        );
        assert_eq!(
            one("select id from items where meta ? 'a' or meta ? 'a'").unwrap(),
            "1\n2"
        );
        assert_eq!(
            one(
                "select '{\"a\": 1, \"b\": [1, 2.0]}'::jsonb @> '{\"b\": [2]}'::jsonb, \
                 '[1, 2]'::jsonb @> '1', '{\"a\": [1]}'::jsonb @> '{\"a\": 1}'::jsonb, \
                 '{\"a\": 1}'::jsonb <@ '{\"a\": 1, \"b\": 2}'::jsonb"
            )
            .unwrap(),
            "1 | 1 | 0 | 1"
        );
        assert_eq!(
            one("select '[\"a\", 1]'::jsonb ?& array['a', 'b'], '[\"a\", 1]'::jsonb ?| array['a', 'b'], '\"a\"'::jsonb ? 'a'").unwrap(),
            "0 | 1 | 1"
        );
        assert_eq!(
            one(
                "select '{\"a\": {\"b\": [1, {\"c\": \"x\"}]}}'::jsonb #> '{a,b,-1}', \
                 '{\"a\": {\"b\": [1, {\"c\": \"x\"}]}}'::json #>> '{a,b,1,c}', \
                 '{\"a\": 1}'::jsonb #> '{a,b}'"
            )
            .unwrap(),
            "{\"c\": \"x\"} | x | NULL"
        );
        assert_eq!(
            one("select jsonb_set('{\"a\": [1, 2]}', '{a,0}', '\"x\"'), \
                 jsonb_set('{\"a\": [1, 2]}', '{a,9}', '3'), \
                 jsonb_set('{\"a\": 1}', '{b}', '2', false), \
                 jsonb_set('{\"a\": 1}', '{c}', '{\"d\":1}')")
            .unwrap(),
            "{\"a\": [\"x\", 2]} | {\"a\": [1, 2, 3]} | {\"a\": 1} | {\"a\": 1, \"c\": {\"d\": 1}}"
        );
        assert_eq!(
            one(
                "select jsonb_array_length('[1,2]'), json_typeof('{}'), jsonb_typeof('1.5'), \
                 jsonb_strip_nulls('{\"a\": null, \"b\": [null, {\"c\": null}]}')"
            )
            .unwrap(),
            "2 | object | number | {\"b\": [null, {}]}"
        );
        for bad in [
            "select jsonb_set('1', '{a}', '2')",
            "select jsonb_set('[1]', '{x}', '2')",
            "select jsonb_array_length('{}')",
            "select * from jsonb_each('[1]')",
            "select * from jsonb_array_elements('{}')",
            "select * from jsonb_object_keys('1')",
            "select '{' ? 'a'",
        ] {
            assert!(run(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn array_operators_compare_elements() {
        let one = |sql: &str| run(sql).map(|r| r.join("\n"));
        assert_eq!(
            one("select id from items where tags @> array['fruit']").unwrap(),
            "1"
        );
        assert_eq!(
            one("select id from items where tags && array['tool', 'red'] order by id").unwrap(),
            "1\n2"
        );
        assert_eq!(
            one("select array[1.0, 2] @> array[1.00], array[1, NULL] @> array[1, NULL], array['a'] <@ array['a', 'b']")
                .unwrap(),
            "1 | 0 | 1"
        );
        // Arrays of two element types: PostgreSQL's 42883.
        assert!(run("select array[1.0] @> array[1]")
            .unwrap_err()
            .starts_with("[42883]"));
    }
}
