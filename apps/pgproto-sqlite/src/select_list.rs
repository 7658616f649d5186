//! Select lists SQLite cannot run as PostgreSQL means them, rewritten one `SELECT` at a
//! time (after the expressions inside it, by [`crate::pgsql`]'s visitor):
//!
//! * **Set-returning functions**: `unnest(a)` and `generate_subscripts(a, 1)` in a select
//!   list make one row per element. They become a join with `json_each` over the
//!   subscripts (`pg_srf_series`, as long as the longest array: PostgreSQL runs several
//!   such functions in lockstep and pads the shorter with NULL), `unnest(a)` the element
//!   at that subscript and `generate_subscripts` the subscript itself. The catalog's
//!   `int2vector`/`oidvector` columns (`indkey`, `indclass`...) count from 0 as in
//!   PostgreSQL, and their elements are integers.
//! * **Aggregates**: `array_agg(x [ORDER BY ...])` (registered by
//!   [`crate::catalog::register_functions`]) is an array of `x`'s type; `bool_and`,
//!   `every` and `bool_or` are `min` and `max` of SQLite's 0/1.
//! * **Types of derived columns**: SQLite describes `sub.col` of a subquery in `FROM`
//!   only when `col` is a table column. Where this module knows the type of the
//!   subquery's expression (a cast, a comparison, an aggregate above, a catalog column),
//!   the reference becomes `pg_typed(sub.col, 'TYPE')`, an identity function whose
//!   second argument is what [`crate::sql::result_items`] describes the column as.

use std::collections::HashMap;
use std::sync::OnceLock;

use sqlparser::ast::{
    visit_expressions_mut, Expr, FunctionArguments, Ident, Join, JoinOperator, Query, Select,
    SelectItem, SetExpr, TableFactor, TableWithJoins, UnaryOperator,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::sql::Unsupported;

/// Rewrites the select lists of `query`'s body; whether anything changed.
pub(crate) fn rewrite_query(query: &mut Query) -> Result<bool, Unsupported> {
    rewrite_set_expr(&mut query.body)
}

fn rewrite_set_expr(body: &mut SetExpr) -> Result<bool, Unsupported> {
    match body {
        SetExpr::Select(select) => rewrite_select(select),
        SetExpr::SetOperation { left, right, .. } => {
            Ok(rewrite_set_expr(left)? | rewrite_set_expr(right)?)
        }
        _ => Ok(false),
    }
}

fn parse_expr(text: &str) -> Result<Expr, Unsupported> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(text)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| Unsupported(format!("internal rewrite failed: {e}")))
}

/// A call's function name as written, lower case (`pg_catalog.upper` stays qualified).
pub(crate) fn function_name(f: &sqlparser::ast::Function) -> String {
    f.name.to_string().to_ascii_lowercase()
}

fn args(f: &sqlparser::ast::Function) -> Vec<String> {
    match &f.args {
        FunctionArguments::List(list) => list.args.iter().map(ToString::to_string).collect(),
        _ => Vec::new(),
    }
}

/// The catalog's array columns whose elements are integers: name, whether it is a
/// vector (`int2vector`/`oidvector`, subscripts from 0), and the element type.
const INTEGER_ARRAYS: &[(&str, bool, &str)] = &[
    ("indkey", true, "INT2"),
    ("indoption", true, "INT2"),
    ("indclass", true, "OID"),
    ("indcollation", true, "OID"),
    ("conkey", false, "INT2"),
    ("confkey", false, "INT2"),
];

/// Whether `array` names a catalog array of integers: (whether it is a vector, element
/// type).
pub(crate) fn integer_array(array: &str) -> Option<(bool, &'static str)> {
    let last = array.rsplit('.').next().unwrap_or(array).trim_matches('"');
    INTEGER_ARRAYS
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(last))
        .map(|&(_, vector, ty)| (vector, ty))
}

fn rewrite_select(select: &mut Select) -> Result<bool, Unsupported> {
    let mut changed = rewrite_set_returning(select)?;
    changed |= rewrite_aggregates(select)?;
    changed |= type_derived_columns(select)?;
    Ok(changed)
}

/// `unnest(a)`/`generate_subscripts(a, 1)` in the select list: a join with the subscripts.
fn rewrite_set_returning(select: &mut Select) -> Result<bool, Unsupported> {
    let mut arrays: Vec<String> = Vec::new();
    let mut error = None;
    for item in &mut select.projection {
        let _ = visit_expressions_mut(item, |e| {
            if let Expr::Function(f) = e {
                let name = function_name(f);
                let a = args(f);
                match (name.as_str(), a.as_slice()) {
                    ("unnest", [array]) | ("generate_subscripts", [array, _])
                        if !arrays.contains(array) =>
                    {
                        arrays.push(array.clone());
                    }
                    ("unnest", [_]) | ("generate_subscripts", [_, _]) => {}
                    ("unnest" | "generate_subscripts", _) => {
                        error = Some(Unsupported(format!(
                            "{name}() with these arguments in a select list is not supported"
                        )));
                    }
                    _ => {}
                }
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
    }
    if let Some(e) = error {
        return Err(e);
    }
    if arrays.is_empty() {
        return Ok(false);
    }
    if crate::pgsql::is_grouped(select) || select.having.is_some() || select.distinct.is_some() {
        return Err(Unsupported(
            "set-returning functions in a select list with GROUP BY, HAVING or DISTINCT are not supported"
                .to_string(),
        ));
    }
    let several = arrays.len() > 1;
    for item in &mut select.projection {
        let _ = visit_expressions_mut(item, |e| {
            let Expr::Function(f) = e else {
                return std::ops::ControlFlow::<()>::Continue(());
            };
            let name = function_name(f);
            let a = args(f);
            let text = match (name.as_str(), a.as_slice()) {
                ("unnest", [array]) => match integer_array(array) {
                    Some((_, ty)) => {
                        format!("CAST(pg_array_nth({array}, pg_srf.value + 1) AS {ty})")
                    }
                    // An `ARRAY[...]` of literals: its elements' type.
                    None => match parse_expr(array)
                        .ok()
                        .and_then(|a| crate::builtins::array_literal_element(&a))
                    {
                        Some(ty) => {
                            format!("pg_typed(pg_array_nth({array}, pg_srf.value + 1), '{ty}')")
                        }
                        None => format!("pg_array_nth({array}, pg_srf.value + 1)"),
                    },
                },
                ("generate_subscripts", [array, dim]) => {
                    let vector = integer_array(array).is_some_and(|(v, _)| v);
                    // The dimension may be a parameter: `pg_first_dimension` fails on
                    // another than 1.
                    let base = if dim.trim() == "1" {
                        format!("{}", u8::from(!vector))
                    } else {
                        format!("{} + pg_first_dimension({dim})", u8::from(!vector))
                    };
                    if several {
                        format!(
                            "CAST(CASE WHEN pg_srf.value < json_array_length(pg_array_json({array})) THEN pg_srf.value + {base} END AS INT4)"
                        )
                    } else {
                        format!("CAST(pg_srf.value + {base} AS INT4)")
                    }
                }
                _ => return std::ops::ControlFlow::Continue(()),
            };
            match parse_expr(&text) {
                Ok(new) => *e = new,
                Err(u) => {
                    error = Some(u);
                    return std::ops::ControlFlow::Break(());
                }
            }
            std::ops::ControlFlow::Continue(())
        });
    }
    if let Some(e) = error {
        return Err(e);
    }
    let series = format!(
        "SELECT 1 FROM json_each(pg_srf_series({})) AS pg_srf",
        arrays.join(", ")
    );
    let q = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&series)
        .and_then(|mut p| p.parse_query())
        .map_err(|e| Unsupported(format!("internal rewrite failed: {e}")))?;
    let SetExpr::Select(s) = *q.body else {
        return Err(Unsupported("internal rewrite failed".to_string()));
    };
    let Some(from) = s.from.into_iter().next() else {
        return Err(Unsupported("internal rewrite failed".to_string()));
    };
    match select.from.last_mut() {
        Some(last) => last.joins.push(Join {
            relation: from.relation,
            global: false,
            join_operator: JoinOperator::CrossJoin,
        }),
        None => select.from.push(TableWithJoins {
            relation: from.relation,
            joins: Vec::new(),
        }),
    }
    Ok(true)
}

/// `array_agg(x)` typed as an array of `x`'s type; `bool_and`/`every`/`bool_or` as
/// `min`/`max`.
fn rewrite_aggregates(select: &mut Select) -> Result<bool, Unsupported> {
    let snapshot = select.clone();
    let mut changed = false;
    let mut error = None;
    for item in &mut select.projection {
        let _ = visit_expressions_mut(item, |e| {
            let Expr::Function(f) = e else {
                return std::ops::ControlFlow::<()>::Continue(());
            };
            let name = function_name(f);
            let text = match name.as_str() {
                "array_agg" => {
                    let element = match &f.args {
                        FunctionArguments::List(list) => list.args.first().and_then(|a| match a {
                            sqlparser::ast::FunctionArg::Unnamed(
                                sqlparser::ast::FunctionArgExpr::Expr(x),
                            ) => infer(&snapshot, x),
                            _ => None,
                        }),
                        _ => None,
                    };
                    let element = element.unwrap_or_else(|| "TEXT".to_string());
                    format!("pg_typed({e}, '{element}[]')")
                }
                "bool_and" | "every" | "bool_or" => {
                    f.name =
                        sqlparser::ast::ObjectName::from(vec![Ident::new(if name == "bool_or" {
                            "max"
                        } else {
                            "min"
                        })]);
                    format!("pg_typed({e}, 'BOOL')")
                }
                _ => return std::ops::ControlFlow::Continue(()),
            };
            match parse_expr(&text) {
                Ok(new) => {
                    *e = new;
                    changed = true;
                }
                Err(u) => error = Some(u),
            }
            std::ops::ControlFlow::Continue(())
        });
    }
    match error {
        Some(e) => Err(e),
        None => Ok(changed),
    }
}

/// Select-list references to a subquery's columns, and `min`/`max` of them, typed with
/// `pg_typed` where the subquery's expression has a known type.
fn type_derived_columns(select: &mut Select) -> Result<bool, Unsupported> {
    let snapshot = select.clone();
    let mut changed = false;
    for item in &mut select.projection {
        let (expr, alias) = match item {
            SelectItem::UnnamedExpr(e) => (e, None),
            SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias.clone())),
            _ => continue,
        };
        let derived = match &*expr {
            Expr::CompoundIdentifier(parts) => parts.len() == 2 && is_derived(&snapshot, parts),
            Expr::Function(f) if matches!(function_name(f).as_str(), "min" | "max") => {
                match &f.args {
                    FunctionArguments::List(list) => list.args.iter().any(|a| {
                        matches!(a, sqlparser::ast::FunctionArg::Unnamed(
                            sqlparser::ast::FunctionArgExpr::Expr(Expr::CompoundIdentifier(p)),
                        ) if p.len() == 2 && is_derived(&snapshot, p))
                    }),
                    _ => false,
                }
            }
            _ => false,
        };
        if !derived {
            continue;
        }
        let Some(ty) = infer(&snapshot, expr) else {
            continue;
        };
        let name = match (&alias, &*expr) {
            (Some(a), _) => a.clone(),
            (None, Expr::CompoundIdentifier(parts)) => match parts.last() {
                Some(p) => p.clone(),
                None => continue,
            },
            // PostgreSQL names `min(x)` `min`.
            (None, Expr::Function(f)) => Ident::new(function_name(f)),
            _ => continue,
        };
        let typed = parse_expr(&format!("pg_typed({expr}, '{ty}')"))?;
        *item = SelectItem::ExprWithAlias {
            expr: typed,
            alias: name,
        };
        changed = true;
    }
    Ok(changed)
}

/// The `FROM` item a qualifier names in `select`.
fn from_item<'a>(select: &'a Select, qualifier: &str) -> Option<&'a TableFactor> {
    select
        .from
        .iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)))
        .find(|f| match f {
            TableFactor::Table { name, alias, .. } => match alias {
                Some(a) => a.name.value == qualifier,
                None => name
                    .0
                    .last()
                    .is_some_and(|p| p.to_string().trim_matches('"') == qualifier),
            },
            TableFactor::Derived {
                alias: Some(alias), ..
            } => alias.name.value == qualifier,
            _ => false,
        })
}

fn is_derived(select: &Select, parts: &[Ident]) -> bool {
    parts.first().is_some_and(|q| {
        matches!(
            from_item(select, &q.value),
            Some(TableFactor::Derived { .. })
        )
    })
}

/// The type of the one column of a query (`ARRAY(SELECT x ...)`), when known.
pub(crate) fn query_column_type(query: &Query) -> Option<String> {
    let SetExpr::Select(select) = &*query.body else {
        return None;
    };
    match select.projection.as_slice() {
        [SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }] => {
            infer(select, e)
        }
        _ => None,
    }
}

/// The declared type name (as [`crate::types::oid_for_decl`] reads it) of `expr` in
/// `select`, when it is known without running it.
fn infer(select: &Select, expr: &Expr) -> Option<String> {
    match expr {
        Expr::Nested(e) => infer(select, e),
        Expr::Cast { data_type, .. } => Some(
            crate::types::decl_name(crate::types::oid_for_decl(&data_type.to_string())).to_string(),
        ),
        Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsFalse(_)
        | Expr::InList { .. }
        | Expr::InSubquery { .. }
        | Expr::Between { .. }
        | Expr::Like { .. }
        | Expr::ILike { .. }
        | Expr::Exists { .. } => Some("BOOL".to_string()),
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            ..
        } => Some("BOOL".to_string()),
        Expr::BinaryOp { op, .. } => {
            crate::pgsql::is_boolean_operator(op).then(|| "BOOL".to_string())
        }
        Expr::Function(f) => {
            let name = function_name(f);
            let first = match &f.args {
                FunctionArguments::List(list) => list.args.first().and_then(|a| match a {
                    sqlparser::ast::FunctionArg::Unnamed(
                        sqlparser::ast::FunctionArgExpr::Expr(x),
                    ) => Some(x),
                    _ => None,
                }),
                _ => None,
            };
            match name.as_str() {
                "pg_typed" => match &f.args {
                    FunctionArguments::List(list) => match list.args.get(1) {
                        Some(sqlparser::ast::FunctionArg::Unnamed(
                            sqlparser::ast::FunctionArgExpr::Expr(Expr::Value(v)),
                        )) => match &v.value {
                            sqlparser::ast::Value::SingleQuotedString(s) => Some(s.clone()),
                            _ => None,
                        },
                        _ => None,
                    },
                    _ => None,
                },
                "min" | "max" | "coalesce" => infer(select, first?),
                "count" => Some("INT8".to_string()),
                _ => None,
            }
        }
        // An unqualified column of a catalog table among the `FROM` items.
        Expr::Identifier(col) => select
            .from
            .iter()
            .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)))
            .find_map(|f| match f {
                TableFactor::Table { name, .. } => {
                    let table = name.0.last()?.to_string();
                    catalog_column_type(table.trim_matches('"'), &col.value)
                }
                _ => None,
            }),
        Expr::CompoundIdentifier(parts) => {
            let [q, col] = parts.as_slice() else {
                return None;
            };
            match from_item(select, &q.value)? {
                TableFactor::Derived { subquery, .. } => {
                    let SetExpr::Select(inner) = &*subquery.body else {
                        return None;
                    };
                    let item = inner.projection.iter().find_map(|i| match i {
                        SelectItem::ExprWithAlias { expr, alias } if alias.value == col.value => {
                            Some(expr)
                        }
                        SelectItem::UnnamedExpr(e @ Expr::CompoundIdentifier(p))
                            if p.last().is_some_and(|l| l.value == col.value) =>
                        {
                            Some(e)
                        }
                        SelectItem::UnnamedExpr(e @ Expr::Identifier(i))
                            if i.value == col.value =>
                        {
                            Some(e)
                        }
                        _ => None,
                    })?;
                    infer(inner, item)
                }
                TableFactor::Table { name, .. } => {
                    let table = name.0.last()?.to_string();
                    catalog_column_type(table.trim_matches('"'), &col.value)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The declared type of a `pg_catalog` table's column, from the catalog's DDL.
fn catalog_column_type(table: &str, column: &str) -> Option<String> {
    static TYPES: OnceLock<HashMap<(String, String), String>> = OnceLock::new();
    TYPES
        .get_or_init(|| {
            let mut map = HashMap::new();
            for create in crate::catalog::DDL.split("CREATE TEMP TABLE ").skip(1) {
                let Some((name, rest)) = create.split_once(" (") else {
                    continue;
                };
                let Some(end) = rest.find(");") else {
                    continue;
                };
                for column in rest.get(..end).unwrap_or("").split(',') {
                    let mut words = column.split_whitespace();
                    if let (Some(c), Some(t)) = (words.next(), words.next()) {
                        map.insert((name.to_string(), c.to_string()), t.to_ascii_uppercase());
                    }
                }
            }
            map
        })
        .get(&(table.to_string(), column.to_string()))
        .cloned()
}

#[cfg(test)]
mod tests {
    fn rw(sql: &str) -> String {
        crate::pgsql::rewrite(sql).unwrap().unwrap()
    }

    #[test]
    fn set_returning_functions_in_a_select_list_join_the_subscripts() {
        assert_eq!(
            rw("SELECT c.conname, unnest(i.indkey) AS attnum, generate_subscripts(i.indkey, 1) AS ord FROM pg_constraint c JOIN pg_index i ON c.conindid = i.indexrelid"),
            "SELECT c.conname, CAST(pg_array_nth(i.indkey, pg_srf.value + 1) AS INT2) AS attnum, \
             CAST(pg_srf.value + 0 AS INT4) AS ord FROM pg_constraint AS c JOIN pg_index AS i \
             ON c.conindid = i.indexrelid CROSS JOIN json_each(pg_srf_series(i.indkey)) AS pg_srf"
        );
        assert_eq!(
            rw("SELECT unnest(a), unnest(b) FROM t"),
            "SELECT pg_array_nth(a, pg_srf.value + 1) AS \"unnest\", \
             pg_array_nth(b, pg_srf.value + 1) AS \"unnest\" FROM t CROSS JOIN json_each(pg_srf_series(a, b)) AS pg_srf"
        );
        assert!(crate::pgsql::rewrite("SELECT unnest(a) FROM t GROUP BY a").is_err());
        assert_eq!(
            rw("SELECT generate_subscripts(a, $1) FROM t"),
            "SELECT CAST(pg_srf.value + 1 + pg_first_dimension($1) AS INT4) \
             AS \"generate_subscripts\" FROM t CROSS JOIN json_each(pg_srf_series(a)) AS pg_srf"
        );
        // The elements of an array of literals have its element type.
        assert_eq!(
            rw("SELECT unnest(ARRAY[1, 2])"),
            "SELECT pg_typed(pg_array_nth(pg_typed('{1,2}', 'INT4[]'), pg_srf.value + 1), 'INT4') \
             AS \"unnest\" FROM json_each(pg_srf_series(pg_typed('{1,2}', 'INT4[]'))) AS pg_srf"
        );
    }

    #[test]
    fn aggregates_and_derived_columns_are_typed() {
        assert_eq!(
            rw("SELECT array_agg(CAST(s.n AS TEXT) ORDER BY s.o) AS cols, bool_and(s.b), min(s.k) AS k FROM (SELECT x AS n, y AS o, x = 0 AS b, i.indnkeyatts AS k FROM pg_index AS i) AS s"),
            "SELECT pg_typed(array_agg(CAST(s.n AS TEXT) ORDER BY s.o), 'TEXT[]') AS cols, \
             pg_typed(min(s.b), 'BOOL') AS \"bool_and\", pg_typed(min(s.k), 'INT2') AS k FROM \
             (SELECT x AS n, y AS o, x = 0 AS b, i.indnkeyatts AS k FROM pg_index AS i) AS s"
        );
        assert_eq!(
            rw("SELECT s.e FROM (SELECT array_agg(x = 0) AS e FROM pg_index) AS s"),
            "SELECT pg_typed(s.e, 'BOOL[]') AS e FROM (SELECT pg_typed(array_agg(x = 0), 'BOOL[]') AS e FROM pg_index) AS s"
        );
    }
}
