//! The type-aware pass over a query: what PostgreSQL decides from the types of the
//! expressions, which the syntax-tree rewrites of [`crate::pgsql`] (they see the text
//! only) and SQLite (its values are 64-bit integers, float8s and text) cannot know.
//! A query's expressions are typed from its literals, casts and operators and from the
//! declared types of the columns it names (given by the session, per schema
//! generation), and rewritten where the type changes the answer:
//!
//! * integer arithmetic whose operands are `int2`/`int4` (`e.age * 10`) is checked
//!   against that type's range (`pg_int4(...)`: 22003 `integer out of range`, where
//!   SQLite goes on in 64 bits); with an operand of a type this pass does not know,
//!   a result outside `int4` is refused with 0A000 (`pg_int4_unsure`);
//! * a boolean written as text (`active::text`, `x || active`, `concat`) is
//!   `true`/`false` (`pg_bool_text`), not SQLite's 1/0;
//! * a numeric written as text (`salary::text`, `||`, `concat`) keeps its display scale
//!   (`pg_numeric_text(x, 2)`: `950.50`), or is refused with 0A000 when the scale
//!   depends on the values (a quotient, `avg`, branches of different scales);
//! * unary minus on text (`-3::text`, which is `-(3::text)`) fails with 42883 as in
//!   PostgreSQL.
//!
//! It also tells the display scale of each numeric result column ([`Scale`]): the
//! session writes the values with it, or refuses them (see [`Typed::scales`]).
//! PostgreSQL's rules: a `numeric(p,s)` column has scale `s`, a literal the digits
//! written after its point, `a + b` and `a - b` the larger scale, `a * b` the sum,
//! `sum` and `min`/`max` their argument's, `round(x, n)` `n`; a quotient and `avg` one
//! that depends on the values.

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, DataType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList,
    FunctionArguments, Ident, ObjectName, Query, SelectItem, SetExpr, Statement, UnaryOperator,
    Value, VisitMut, VisitorMut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::sql::Unsupported;
use crate::types;

/// A numeric value's display scale, as far as the query and the schema tell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scale {
    /// Every value is written with this many fraction digits.
    Known(u32),
    /// The scale depends on the values (a quotient, `avg`) or differs between rows
    /// (branches of different scales).
    Unknown,
    /// The value is always NULL (`NULL::numeric`).
    Null,
    /// A `numeric` column without a declared scale, and what keeps its values' scale:
    /// written as SQLite holds the values (the scale they were written with is lost,
    /// a limitation listed in the crate docs).
    Natural,
}

impl Scale {
    /// The scale of a value that is one of `a` and `b`.
    fn either(a: Self, b: Self) -> Self {
        match (a, b) {
            (Self::Null, x) | (x, Self::Null) => x,
            (Self::Known(x), Self::Known(y)) if x == y => a,
            (Self::Natural, Self::Natural) => a,
            _ => Self::Unknown,
        }
    }

    /// Combines two scales with `f` when both are known.
    fn with(a: Self, b: Self, f: impl Fn(u32, u32) -> u32) -> Self {
        match (a, b) {
            (Self::Known(x), Self::Known(y)) => Self::Known(f(x, y)),
            (Self::Null, _) | (_, Self::Null) => Self::Null,
            (Self::Unknown, _) | (_, Self::Unknown) => Self::Unknown,
            _ => Self::Natural,
        }
    }
}

/// An expression's type, as far as this pass reasons about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    /// `int2`, `int4` or `int8` (the width in bytes).
    Int(u8),
    Numeric(Scale),
    Float,
    Bool,
    Text,
    Date,
    /// An untyped NULL.
    Null,
    /// A type this pass does not reason about (timestamps, uuids...).
    Other,
}

/// What the pass made of a query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Typed {
    /// The query's PostgreSQL text after the rewrites (`None`: unchanged).
    pub(crate) text: Option<String>,
    /// Each result column's display scale when it is a numeric (`None` for other types
    /// and unknown ones); empty when the columns are not known one by one (`*`).
    pub(crate) scales: Vec<Option<Scale>>,
}

/// Whether `sql` may be a query (the pass applies to queries only).
pub(crate) fn may_apply(sql: &str) -> bool {
    let start = sql.trim_start().trim_start_matches('(');
    let query = ["select", "with", "values"].iter().any(|k| {
        start
            .get(..k.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(k))
    });
    // Without an operator, a cast, a literal other than an integer, a call, a
    // qualified name or a condition joined to another, there is nothing for the pass
    // to type (a point query by a parameter or an integer goes straight to SQLite).
    query
        && (sql.bytes().any(|b| b"+-/%|:'(.^<>!~".contains(&b)) || multiplies(sql) || {
            let lower = sql.to_ascii_lowercase();
            [
                " and ", " or ", " not ", " in ", "case", "true", "false", "null", "exists",
                "between", "like",
            ]
            .iter()
            .any(|w| lower.contains(w))
        })
}

/// Whether `sql` has a `*` that multiplies (not `SELECT *` or `t.*`, `, *`, `(*)`).
fn multiplies(sql: &str) -> bool {
    sql.match_indices('*').any(|(i, _)| {
        let before = sql.get(..i).unwrap_or("").trim_end();
        !(before.ends_with([',', '.', '('])
            || before
                .get(before.len().saturating_sub(6)..)
                .is_some_and(|w| w.eq_ignore_ascii_case("select")))
    })
}

/// The type-aware pass over `sql`, one query (else nothing to do). `columns` gives the
/// declared types of the columns it names (`column` and `table.column`, see
/// [`crate::sql::referenced_columns`]).
pub(crate) fn rewrite(sql: &str, columns: &[(String, String)]) -> Result<Typed, Unsupported> {
    let Ok(mut statements) = Parser::parse_sql(&PostgreSqlDialect {}, sql) else {
        return Ok(Typed::default());
    };
    let [Statement::Query(query)] = statements.as_mut_slice() else {
        return Ok(Typed::default());
    };
    // PostgreSQL's names of the unnamed expressions, before they are rewritten.
    let names: Vec<Option<String>> = crate::pgsql::selects_of(&query.body)
        .first()
        .map(|s| {
            s.projection
                .iter()
                .map(|item| match item {
                    SelectItem::UnnamedExpr(Expr::Identifier(_) | Expr::CompoundIdentifier(_)) => {
                        None
                    }
                    SelectItem::UnnamedExpr(e) => {
                        Some(figure_colname(e).map_or_else(|| "?column?".to_string(), |n| n.0))
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let before = query.to_string();
    check_literal_casts(query)?;
    fold_query(&Cx { columns }, query)?;
    struct Order<'a> {
        cx: Cx<'a>,
    }
    impl VisitorMut for Order<'_> {
        type Break = ();
        fn post_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
            for select in crate::pgsql::selects_mut(&mut q.body) {
                if let Some(w) = &mut select.selection {
                    order_conditions(&self.cx, w);
                }
            }
            ControlFlow::Continue(())
        }
    }
    let _ = query.visit(&mut Order { cx: Cx { columns } });
    let folded = query.to_string() != before;
    let mut pass = Pass {
        columns,
        changed: folded,
        error: None,
    };
    let _ = query.visit(&mut pass);
    if let Some(e) = pass.error {
        return Err(e);
    }
    let cx = Cx { columns };
    let scales = result_scales(&cx, query);
    // Unnamed expressions are named as PostgreSQL names them (SQLite would name them
    // after their text).
    if let Some(select) = crate::pgsql::selects_mut(&mut query.body)
        .into_iter()
        .next()
    {
        for (item, name) in select.projection.iter_mut().zip(names) {
            let (SelectItem::UnnamedExpr(e), Some(name)) = (&*item, name) else {
                continue;
            };
            *item = SelectItem::ExprWithAlias {
                expr: e.clone(),
                alias: Ident::with_quote('"', name),
            };
            pass.changed = true;
        }
    }
    Ok(Typed {
        text: pass.changed.then(|| query.to_string()),
        scales,
    })
}

/// The top-level select's items, or none for a set operation.
fn top_items(query: &Query) -> Vec<&SelectItem> {
    match query.body.as_ref() {
        SetExpr::Select(s) => s.projection.iter().collect(),
        _ => Vec::new(),
    }
}

/// An identifier as PostgreSQL names a column after it (unquoted: lower case).
fn ident_name(i: &Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_ascii_lowercase()
    }
}

/// The name a cast to `data_type` gives its column: PostgreSQL's internal type name
/// (`int4`, `timestamptz`).
fn type_colname(data_type: &DataType) -> String {
    let written = data_type.to_string().to_ascii_lowercase();
    let oid = types::oid_for_decl(&written);
    let base = written.split('(').next().unwrap_or("").trim().to_string();
    if oid == types::TEXT && base != "text" {
        return base.rsplit('.').next().unwrap_or(&base).to_string();
    }
    types::internal_name(oid).to_string()
}

/// PostgreSQL's `FigureColname`: the name of an unnamed select item and its strength
/// (2: a column or function name, 1: a type name or `case`); `None` where PostgreSQL
/// writes `?column?` (operators, literals).
fn figure_colname(e: &Expr) -> Option<(String, u8)> {
    Some(match e {
        Expr::Identifier(i) => (ident_name(i), 2),
        Expr::CompoundIdentifier(parts) => (ident_name(parts.last()?), 2),
        Expr::Nested(e) => return figure_colname(e),
        Expr::Function(f) => (
            match f.name.0.last()? {
                sqlparser::ast::ObjectNamePart::Identifier(i) => ident_name(i),
                other => other.to_string().to_ascii_lowercase(),
            },
            2,
        ),
        Expr::Cast {
            expr, data_type, ..
        } => match figure_colname(expr) {
            Some((n, 2)) => (n, 2),
            _ => (type_colname(data_type), 1),
        },
        Expr::TypedString { data_type, .. } => (type_colname(data_type), 1),
        Expr::Case { else_result, .. } => match else_result.as_deref().and_then(figure_colname) {
            Some((n, 2)) => (n, 2),
            _ => ("case".to_string(), 1),
        },
        // `NOT EXISTS` is a NOT over it: `?column?`.
        Expr::Exists { negated: false, .. } => ("exists".to_string(), 2),
        Expr::Exists { negated: true, .. } => return None,
        Expr::Subquery(q) => {
            let select = crate::pgsql::selects_of(&q.body).into_iter().next()?;
            let name = match select.projection.first()? {
                SelectItem::ExprWithAlias { alias, .. } => ident_name(alias),
                SelectItem::UnnamedExpr(e) => {
                    figure_colname(e).map_or_else(|| "?column?".to_string(), |n| n.0)
                }
                _ => return None,
            };
            (name, 2)
        }
        Expr::Position { .. } => ("position".to_string(), 2),
        Expr::Substring { shorthand, .. } => (
            if *shorthand { "substr" } else { "substring" }.to_string(),
            2,
        ),
        Expr::Trim { trim_where, .. } => (
            match trim_where {
                Some(sqlparser::ast::TrimWhereField::Leading) => "ltrim",
                Some(sqlparser::ast::TrimWhereField::Trailing) => "rtrim",
                _ => "btrim",
            }
            .to_string(),
            2,
        ),
        Expr::Extract { .. } => ("extract".to_string(), 2),
        Expr::Interval(_) => ("interval".to_string(), 1),
        Expr::Ceil { .. } => ("ceil".to_string(), 2),
        Expr::Floor { .. } => ("floor".to_string(), 2),
        Expr::Array(_) => ("array".to_string(), 2),
        // `a[i]`, `(row).field`...: as the syntax-tree rewrites name them.
        _ => match crate::builtins::item_name(e) {
            Some(n) if n != "?column?" => (n, 2),
            _ => return None,
        },
    })
}

/// The display scale of each result column (see [`Typed::scales`]).
fn result_scales(cx: &Cx<'_>, query: &Query) -> Vec<Option<Scale>> {
    let selects = crate::pgsql::selects_of(&query.body);
    let mut out: Option<Vec<Option<Scale>>> = None;
    for select in selects {
        let mut scales = Vec::new();
        for item in &select.projection {
            let e = match item {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
                _ => return Vec::new(),
            };
            scales.push(match cx.ty(e) {
                Some(Ty::Numeric(s)) if s != Scale::Natural => Some(s),
                _ => None,
            });
        }
        out = Some(match out {
            None => scales,
            // A set operation: a column's rows come from each side.
            Some(prev) if prev.len() == scales.len() => prev
                .into_iter()
                .zip(scales)
                .map(|(a, b)| match (a, b) {
                    (Some(a), Some(b)) => Some(Scale::either(a, b)),
                    (None, None) => None,
                    _ => Some(Scale::Unknown),
                })
                .collect(),
            Some(_) => return Vec::new(),
        });
    }
    out.unwrap_or_default()
}

/// Types expressions.
struct Cx<'a> {
    columns: &'a [(String, String)],
}

/// The type a declared or cast-to type name gives.
fn decl_ty(decl: &str) -> Ty {
    let (oid, typmod) = types::declared(decl);
    match oid {
        types::INT2 => Ty::Int(2),
        types::INT4 => Ty::Int(4),
        types::INT8 => Ty::Int(8),
        types::NUMERIC => Ty::Numeric(
            types::numeric_scale(typmod)
                .and_then(|s| u32::try_from(s).ok())
                .map_or(Scale::Natural, Scale::Known),
        ),
        types::FLOAT4 | types::FLOAT8 => Ty::Float,
        types::BOOL => Ty::Bool,
        types::TEXT | types::VARCHAR | types::BPCHAR => Ty::Text,
        types::DATE => Ty::Date,
        _ => Ty::Other,
    }
}

/// A call's plain arguments (`None` when one is not an expression: `count(*)`).
fn call_args(f: &Function) -> Option<Vec<&Expr>> {
    let FunctionArguments::List(list) = &f.args else {
        return Some(Vec::new());
    };
    list.args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect()
}

/// The type of a value that is one of `a` and `b` (CASE branches, `coalesce`...), as
/// PostgreSQL resolves them: integers widen, integers and numerics are numeric.
fn common(a: Option<Ty>, b: Option<Ty>) -> Option<Ty> {
    Some(match (a?, b?) {
        (Ty::Null, x) | (x, Ty::Null) => x,
        (Ty::Int(x), Ty::Int(y)) => Ty::Int(x.max(y)),
        (Ty::Int(_), Ty::Numeric(s)) | (Ty::Numeric(s), Ty::Int(_)) => {
            Ty::Numeric(Scale::either(s, Scale::Known(0)))
        }
        (Ty::Numeric(x), Ty::Numeric(y)) => Ty::Numeric(Scale::either(x, y)),
        (Ty::Float, Ty::Int(_) | Ty::Numeric(_) | Ty::Float)
        | (Ty::Int(_) | Ty::Numeric(_), Ty::Float) => Ty::Float,
        (x, y) if x == y => x,
        _ => return None,
    })
}

impl Cx<'_> {
    /// The declared type of a column reference (`name` or `table.name`); a bare name
    /// that columns of different types have is not known.
    fn column(&self, parts: &[Ident]) -> Option<Ty> {
        let name = parts
            .iter()
            .map(|p| p.value.to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join(".");
        let decls: Vec<&str> = if parts.len() > 1 {
            self.columns
                .iter()
                .filter(|(c, _)| c.eq_ignore_ascii_case(&name))
                .map(|(_, t)| t.as_str())
                .take(1)
                .collect()
        } else {
            let dotted = format!(".{name}");
            self.columns
                .iter()
                .filter(|(c, _)| {
                    c.eq_ignore_ascii_case(&name) || c.to_ascii_lowercase().ends_with(&dotted)
                })
                .map(|(_, t)| t.as_str())
                .collect()
        };
        let first = decl_ty(decls.first()?);
        decls.iter().all(|d| decl_ty(d) == first).then_some(first)
    }

    /// The type of `e`, when this pass can tell it.
    fn ty(&self, e: &Expr) -> Option<Ty> {
        match e {
            Expr::Identifier(i) => self.column(std::slice::from_ref(i)),
            Expr::CompoundIdentifier(parts) => self.column(parts),
            Expr::Nested(e) => self.ty(e),
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => Some(number_ty(n)),
                Value::Boolean(_) => Some(Ty::Bool),
                Value::Null => Some(Ty::Null),
                Value::SingleQuotedString(_) => None,
                _ => None,
            },
            Expr::TypedString { data_type, .. } => Some(decl_ty(&data_type.to_string())),
            Expr::Interval(_) => Some(Ty::Other),
            Expr::Cast {
                expr, data_type, ..
            } => Some(self.cast_ty(expr, data_type)),
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr,
            } => match expr.as_ref() {
                // `-2147483648` is an int4 literal.
                Expr::Value(v) => match &v.value {
                    Value::Number(n, _) => Some(number_ty(&format!("-{n}"))),
                    _ => self.ty(expr),
                },
                _ => self.ty(expr),
            },
            Expr::UnaryOp {
                op: UnaryOperator::Plus,
                expr,
            } => self.ty(expr),
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                ..
            }
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsTrue(_)
            | Expr::IsFalse(_)
            | Expr::IsNotTrue(_)
            | Expr::IsNotFalse(_)
            | Expr::IsUnknown(_)
            | Expr::IsNotUnknown(_)
            | Expr::IsDistinctFrom(..)
            | Expr::IsNotDistinctFrom(..)
            | Expr::InList { .. }
            | Expr::InSubquery { .. }
            | Expr::Between { .. }
            | Expr::Like { .. }
            | Expr::ILike { .. }
            | Expr::SimilarTo { .. }
            | Expr::Exists { .. } => Some(Ty::Bool),
            Expr::BinaryOp { left, op, right } => self.binary_ty(left, op, right),
            Expr::Case {
                conditions,
                else_result,
                ..
            } => {
                let mut ty = Some(Ty::Null);
                for c in conditions {
                    ty = common(ty, self.ty(&c.result));
                }
                if let Some(e) = else_result {
                    ty = common(ty, self.ty(e));
                }
                ty
            }
            Expr::Subquery(q) => match top_items(q).as_slice() {
                [SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }] => {
                    self.ty(e)
                }
                _ => None,
            },
            Expr::Position { .. } => Some(Ty::Int(4)),
            Expr::Substring { .. } | Expr::Trim { .. } => Some(Ty::Text),
            Expr::Extract { field, expr, .. } => {
                // PostgreSQL 15's extract is numeric: whole fields have scale 0, seconds 6,
                // milliseconds 3; an epoch 0 from a date, else 6.
                let f = field.to_string().to_ascii_lowercase();
                let source = self.ty(expr);
                let scale = match f.as_str() {
                    "second" | "seconds" => Some(Scale::Known(6)),
                    "milliseconds" => Some(Scale::Known(3)),
                    "microseconds" => Some(Scale::Known(0)),
                    "epoch" => Some(match source {
                        Some(Ty::Date) => Scale::Known(0),
                        Some(Ty::Other) => Scale::Known(6),
                        _ => Scale::Unknown,
                    }),
                    "julian" => Some(match source {
                        Some(Ty::Date) => Scale::Known(0),
                        _ => Scale::Unknown,
                    }),
                    _ => None,
                };
                if let Some(scale) = scale {
                    return Some(Ty::Numeric(scale));
                }
                let whole = [
                    "year",
                    "month",
                    "day",
                    "dow",
                    "isodow",
                    "doy",
                    "quarter",
                    "week",
                    "decade",
                    "century",
                    "millennium",
                    "isoyear",
                    "hour",
                    "minute",
                ];
                Some(Ty::Numeric(if whole.contains(&f.as_str()) {
                    Scale::Known(0)
                } else {
                    Scale::Unknown
                }))
            }
            Expr::Function(f) => self.function_ty(f),
            _ => None,
        }
    }

    fn cast_ty(&self, operand: &Expr, data_type: &DataType) -> Ty {
        let ty = decl_ty(&data_type.to_string());
        match ty {
            // `numeric` without a scale keeps the operand's.
            Ty::Numeric(Scale::Natural) => Ty::Numeric(match self.ty(operand) {
                Some(Ty::Int(_)) => Scale::Known(0),
                Some(Ty::Numeric(s)) => s,
                Some(Ty::Null) => Scale::Null,
                _ => match operand {
                    Expr::Value(v) => match &v.value {
                        Value::SingleQuotedString(s) => literal_scale(s.trim()),
                        Value::Null => Scale::Null,
                        _ => Scale::Unknown,
                    },
                    _ => Scale::Unknown,
                },
            }),
            _ => ty,
        }
    }

    fn binary_ty(&self, left: &Expr, op: &BinaryOperator, right: &Expr) -> Option<Ty> {
        if crate::pgsql::is_boolean_operator(op) {
            return Some(Ty::Bool);
        }
        if *op == BinaryOperator::StringConcat {
            return Some(Ty::Text);
        }
        if !crate::pgsql::is_arithmetic_operator(op) {
            return None;
        }
        let (a, b) = (self.ty(left)?, self.ty(right)?);
        let (a, b) = match (a, b) {
            (Ty::Null, x) | (x, Ty::Null) => (x, x),
            x => x,
        };
        Some(match (a, b) {
            (Ty::Int(x), Ty::Int(y)) => Ty::Int(x.max(y)),
            (Ty::Date, Ty::Int(_)) | (Ty::Int(_), Ty::Date)
                if matches!(op, BinaryOperator::Plus | BinaryOperator::Minus) =>
            {
                Ty::Date
            }
            (Ty::Date, Ty::Date) if *op == BinaryOperator::Minus => Ty::Int(4),
            (Ty::Float, Ty::Int(_) | Ty::Numeric(_) | Ty::Float)
            | (Ty::Int(_) | Ty::Numeric(_), Ty::Float) => Ty::Float,
            (Ty::Int(_) | Ty::Numeric(_), Ty::Int(_) | Ty::Numeric(_)) => {
                let scale = |t: Ty| match t {
                    Ty::Numeric(s) => s,
                    _ => Scale::Known(0),
                };
                let (x, y) = (scale(a), scale(b));
                Ty::Numeric(match op {
                    BinaryOperator::Multiply => Scale::with(x, y, |x, y| x + y),
                    BinaryOperator::Divide => {
                        if x == Scale::Null || y == Scale::Null {
                            Scale::Null
                        } else {
                            Scale::Unknown
                        }
                    }
                    _ => Scale::with(x, y, u32::max),
                })
            }
            _ => return None,
        })
    }

    fn function_ty(&self, f: &Function) -> Option<Ty> {
        let name = crate::select_list::function_name(f);
        if name == "count" {
            return Some(Ty::Int(8));
        }
        let args = call_args(f)?;
        let first = || args.first().and_then(|a| self.ty(a));
        match name.as_str() {
            "pg_int4" => Some(Ty::Int(4)),
            "pg_int2" => Some(Ty::Int(2)),
            "pg_bool_text" | "pg_numeric_text" => Some(Ty::Text),
            "pg_round" => match args.get(1) {
                Some(Expr::Value(v)) => match &v.value {
                    Value::Number(n, _) => {
                        Some(Ty::Numeric(n.parse::<i64>().map_or(Scale::Unknown, |n| {
                            Scale::Known(u32::try_from(n.clamp(0, 1000)).unwrap_or(0))
                        })))
                    }
                    _ => Some(Ty::Numeric(Scale::Unknown)),
                },
                _ => Some(Ty::Numeric(Scale::Unknown)),
            },
            "count" => Some(Ty::Int(8)),
            "length" | "char_length" | "octet_length" | "strpos" | "ascii" => Some(Ty::Int(4)),
            "upper" | "lower" | "substr" | "substring" | "replace" | "trim" | "btrim" | "ltrim"
            | "rtrim" | "concat" | "concat_ws" | "left" | "right" | "md5" | "initcap" | "lpad"
            | "rpad" | "repeat" | "reverse" | "split_part" => Some(Ty::Text),
            "min" | "max" | "abs" => first(),
            "sum" => match first()? {
                Ty::Int(2 | 4) => Some(Ty::Int(8)),
                Ty::Int(_) => Some(Ty::Numeric(Scale::Known(0))),
                t @ (Ty::Numeric(_) | Ty::Float) => Some(t),
                _ => None,
            },
            // Of an argument of unknown type, numeric (float8's avg is refused too).
            "avg" => match first() {
                Some(Ty::Float) => Some(Ty::Float),
                _ => Some(Ty::Numeric(Scale::Unknown)),
            },
            "round" | "trunc" => match (first()?, args.get(1)) {
                (Ty::Int(_) | Ty::Float, None) => Some(Ty::Float),
                (Ty::Int(_) | Ty::Numeric(_), Some(Expr::Value(v))) => match &v.value {
                    Value::Number(n, _) => Some(Ty::Numeric(
                        n.parse::<i64>().ok().map_or(Scale::Unknown, |n| {
                            Scale::Known(u32::try_from(n.clamp(0, 1000)).unwrap_or(0))
                        }),
                    )),
                    _ => Some(Ty::Numeric(Scale::Unknown)),
                },
                (Ty::Numeric(_), None) => Some(Ty::Numeric(Scale::Known(0))),
                (Ty::Int(_) | Ty::Numeric(_), Some(_)) => Some(Ty::Numeric(Scale::Unknown)),
                _ => None,
            },
            "ceil" | "ceiling" | "floor" => match first()? {
                Ty::Numeric(_) => Some(Ty::Numeric(Scale::Known(0))),
                Ty::Int(_) | Ty::Float => Some(Ty::Float),
                _ => None,
            },
            "coalesce" | "greatest" | "least" => args
                .iter()
                .try_fold(Ty::Null, |t, a| common(Some(t), self.ty(a))),
            "nullif" => first(),
            _ => None,
        }
    }
}

/// A number literal's type: `int4` when it fits, else `int8`, else numeric with the
/// digits written after its point.
fn number_ty(n: &str) -> Ty {
    if n.parse::<i32>().is_ok() {
        Ty::Int(4)
    } else if n.parse::<i64>().is_ok() {
        Ty::Int(8)
    } else {
        Ty::Numeric(literal_scale(n))
    }
}

/// The scale of a numeric written `n` (`1.50`: 2); exponents are not read.
fn literal_scale(n: &str) -> Scale {
    let digits = n.strip_prefix(['-', '+']).unwrap_or(n);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
        return Scale::Unknown;
    }
    u32::try_from(frac.len()).map_or(Scale::Unknown, Scale::Known)
}

/// A call of one of this server's functions.
fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a)))
                .collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

fn number(n: u32) -> Expr {
    Expr::value(Value::Number(n.to_string(), false))
}

/// A constant's value, as far as [`fold`] follows it.
#[derive(Clone, Debug, PartialEq)]
enum Konst {
    Null,
    /// An integer and its type's width in bytes.
    Int(i64, u8),
    Bool(bool),
    Str(String),
    /// A number that is not an integer, as written.
    Num(String),
}

fn int_range_error(width: u8) -> Unsupported {
    let name = match width {
        2 => "smallint",
        4 => "integer",
        _ => "bigint",
    };
    Unsupported(format!("[22003] {name} out of range"))
}

fn fits(v: i64, width: u8) -> bool {
    match width {
        2 => i16::try_from(v).is_ok(),
        4 => i32::try_from(v).is_ok(),
        _ => true,
    }
}

/// NULL of `e`'s type where it is one this pass knows (`NULL::bool`), so that the
/// column stays described as that type.
fn typed_null(cx: &Cx<'_>, e: &Expr) -> Expr {
    let name = match cx.ty(e) {
        Some(Ty::Int(2)) => "int2",
        Some(Ty::Int(4)) => "int4",
        Some(Ty::Int(_)) => "int8",
        Some(Ty::Numeric(_)) => "numeric",
        Some(Ty::Float) => "float8",
        Some(Ty::Bool) => "bool",
        Some(Ty::Text) => "text",
        Some(Ty::Date) => "date",
        _ => return Expr::value(Value::Null),
    };
    Expr::Cast {
        kind: sqlparser::ast::CastKind::DoubleColon,
        expr: Box::new(Expr::value(Value::Null)),
        data_type: DataType::Custom(ObjectName::from(vec![Ident::new(name)]), Vec::new()),
        format: None,
    }
}

/// A string literal cast to `ty`, which PostgreSQL reads when it parses the query
/// (wherever the cast is: errors even in a branch never taken).
fn literal_cast(s: &str, ty: Ty) -> Result<Option<Konst>, Unsupported> {
    Ok(match ty {
        Ty::Int(w) => {
            let t = s.trim();
            let name = match w {
                2 => "smallint",
                4 => "integer",
                _ => "bigint",
            };
            match t.parse::<i64>() {
                Ok(v) if fits(v, w) => Some(Konst::Int(v, w)),
                Ok(_) => {
                    return Err(Unsupported(format!(
                        "[22003] value \"{s}\" is out of range for type {name}"
                    )))
                }
                Err(_) => {
                    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
                    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(Unsupported(format!(
                            "[22003] value \"{s}\" is out of range for type {name}"
                        )));
                    }
                    return Err(Unsupported(format!(
                        "[22P02] invalid input syntax for type {name}: \"{s}\""
                    )));
                }
            }
        }
        Ty::Bool => match types::parse_bool(s) {
            Some(b) => Some(Konst::Bool(b)),
            None => {
                return Err(Unsupported(format!(
                    "[22P02] invalid input syntax for type boolean: \"{s}\""
                )))
            }
        },
        Ty::Numeric(_) => {
            let t = s.trim();
            let special = [
                "nan",
                "infinity",
                "+infinity",
                "-infinity",
                "inf",
                "+inf",
                "-inf",
            ];
            if crate::arith::Decimal::parse(t).is_none()
                && !special.contains(&t.to_ascii_lowercase().as_str())
                && t.parse::<f64>().is_err()
            {
                return Err(Unsupported(format!(
                    "[22P02] invalid input syntax for type numeric: \"{s}\""
                )));
            }
            None
        }
        Ty::Text => Some(Konst::Str(s.to_string())),
        _ => None,
    })
}

/// Reads every string literal cast of `query` as PostgreSQL's parser does
/// ([`literal_cast`]).
fn check_literal_casts(query: &Query) -> Result<(), Unsupported> {
    let mut error = None;
    let _ = sqlparser::ast::visit_expressions(query, |e| {
        if let Expr::Cast {
            expr, data_type, ..
        } = e
        {
            let mut operand = expr.as_ref();
            while let Expr::Nested(inner) = operand {
                operand = inner;
            }
            if let Expr::Value(v) = operand {
                if let Value::SingleQuotedString(s) = &v.value {
                    if let Err(u) = literal_cast(s, decl_ty(&data_type.to_string())) {
                        error = Some(u);
                        return ControlFlow::Break(());
                    }
                }
            }
        }
        ControlFlow::Continue(())
    });
    error.map_or(Ok(()), Err)
}

/// PostgreSQL's constant folding (`eval_const_expressions`), as far as its errors and
/// NULLs go: before a query runs, a constant cast or integer arithmetic that fails
/// fails the query, rows or none (`10000000000::int`, `2147483647 + 1`),
/// except in a CASE arm after a constant true condition or with a constant false one,
/// after a constant false (true) `AND` (`OR`) operand or a constant non-NULL
/// `coalesce` argument; and an operator or strict function with a NULL constant operand
/// is NULL without its other operands being computed (`e.bonus::int + NULL`).
/// Returns the expression's constant value when it is one this follows.
fn fold(cx: &Cx<'_>, e: &mut Expr) -> Result<Option<Konst>, Unsupported> {
    let k = match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => Some(match n.parse::<i64>() {
                Ok(i) => Konst::Int(i, if i32::try_from(i).is_ok() { 4 } else { 8 }),
                Err(_) => Konst::Num(n.clone()),
            }),
            Value::Boolean(b) => Some(Konst::Bool(*b)),
            Value::Null => Some(Konst::Null),
            Value::SingleQuotedString(s) => Some(Konst::Str(s.clone())),
            _ => None,
        },
        Expr::Nested(x) => fold(cx, x)?,
        Expr::Cast {
            expr, data_type, ..
        } => {
            let k = fold(cx, expr)?;
            let ty = decl_ty(&data_type.to_string());
            match (k, ty) {
                (Some(Konst::Null), _) => Some(Konst::Null),
                (Some(Konst::Str(s)), ty) => literal_cast(&s, ty)?,
                (Some(Konst::Int(v, _)), Ty::Int(w)) => {
                    if !fits(v, w) {
                        return Err(int_range_error(w));
                    }
                    Some(Konst::Int(v, w))
                }
                (Some(Konst::Bool(b)), Ty::Bool) => Some(Konst::Bool(b)),
                // A number written as text, as PostgreSQL folds the cast.
                (Some(Konst::Int(v, _)), Ty::Text) => Some(Konst::Str(v.to_string())),
                (Some(Konst::Num(n)), Ty::Text) => Some(Konst::Str(n)),
                _ => None,
            }
        }
        Expr::UnaryOp { op, expr } => {
            let k = fold(cx, expr)?;
            match (op, k) {
                (_, Some(Konst::Null)) => {
                    *e = typed_null(cx, e);
                    Some(Konst::Null)
                }
                (UnaryOperator::Minus, Some(Konst::Int(v, w))) => {
                    let n = v.checked_neg().filter(|n| fits(*n, w));
                    Some(Konst::Int(n.ok_or_else(|| int_range_error(w))?, w))
                }
                (UnaryOperator::Not, Some(Konst::Bool(b))) => Some(Konst::Bool(!b)),
                _ => None,
            }
        }
        Expr::BinaryOp { left, op, right } => match op {
            BinaryOperator::And | BinaryOperator::Or => {
                let stop = *op == BinaryOperator::Or;
                match fold(cx, left)? {
                    Some(Konst::Bool(b)) if b == stop => Some(Konst::Bool(b)),
                    l => match (l, fold(cx, right)?) {
                        (_, Some(Konst::Bool(b))) if b == stop => Some(Konst::Bool(b)),
                        (Some(Konst::Bool(_)), r) => r,
                        (Some(Konst::Null), Some(Konst::Bool(_) | Konst::Null)) => {
                            Some(Konst::Null)
                        }
                        _ => None,
                    },
                }
            }
            _ => {
                let (l, r) = (fold(cx, left)?, fold(cx, right)?);
                let strict = crate::pgsql::is_boolean_operator(op)
                    || crate::pgsql::is_arithmetic_operator(op)
                    || *op == BinaryOperator::StringConcat;
                match (l, r) {
                    (Some(Konst::Null), _) | (_, Some(Konst::Null)) if strict => {
                        *e = typed_null(cx, e);
                        Some(Konst::Null)
                    }
                    (Some(Konst::Int(a, wa)), Some(Konst::Int(b, wb))) => {
                        let w = wa.max(wb);
                        let zero = || Unsupported("[22012] division by zero".to_string());
                        let v = match op {
                            BinaryOperator::Plus => a.checked_add(b),
                            BinaryOperator::Minus => a.checked_sub(b),
                            BinaryOperator::Multiply => a.checked_mul(b),
                            BinaryOperator::Divide if b == 0 => return Err(zero()),
                            BinaryOperator::Divide => a.checked_div(b),
                            BinaryOperator::Modulo if b == 0 => return Err(zero()),
                            BinaryOperator::Modulo => Some(a.checked_rem(b).unwrap_or(0)),
                            _ => return Ok(None),
                        };
                        let v = v
                            .filter(|v| fits(*v, w))
                            .ok_or_else(|| int_range_error(w))?;
                        Some(Konst::Int(v, w))
                    }
                    _ => None,
                }
            }
        },
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            if let Some(o) = operand {
                fold(cx, o)?;
            }
            let simple = operand.is_some();
            let mut decided = false;
            for c in conditions.iter_mut() {
                match fold(cx, &mut c.condition)? {
                    Some(Konst::Bool(false) | Konst::Null) if !simple => continue,
                    Some(Konst::Bool(true)) if !simple => {
                        fold(cx, &mut c.result)?;
                        decided = true;
                        break;
                    }
                    _ => {
                        fold(cx, &mut c.result)?;
                    }
                }
            }
            if !decided {
                if let Some(x) = else_result {
                    fold(cx, x)?;
                }
            }
            None
        }
        Expr::Function(f) => {
            let name = crate::select_list::function_name(f);
            let FunctionArguments::List(list) = &mut f.args else {
                return Ok(None);
            };
            let mut any_null = false;
            let mut values = Vec::new();
            for a in &mut list.args {
                let (FunctionArg::Unnamed(FunctionArgExpr::Expr(x))
                | FunctionArg::Named {
                    arg: FunctionArgExpr::Expr(x),
                    ..
                }) = a
                else {
                    continue;
                };
                let k = fold(cx, x)?;
                values.push(k.clone());
                match k {
                    // coalesce stops at its first non-NULL constant: its value when all
                    // before it are NULL constants.
                    Some(k) if name == "coalesce" && k != Konst::Null => {
                        let all_null = values.iter().rev().skip(1).all(|v| *v == Some(Konst::Null));
                        return Ok(all_null.then_some(k));
                    }
                    Some(Konst::Null) => any_null = true,
                    _ => {}
                }
            }
            if name == "nullif" {
                return Ok(match values.as_slice() {
                    [Some(a), Some(b)] if a == b => Some(Konst::Null),
                    [Some(a), Some(b)]
                        if std::mem::discriminant(a) == std::mem::discriminant(b) =>
                    {
                        Some(a.clone())
                    }
                    _ => None,
                });
            }
            let strict = [
                "length",
                "upper",
                "lower",
                "abs",
                "round",
                "replace",
                "substr",
                "strpos",
                "left",
                "right",
                "date_trunc",
                "btrim",
                "ltrim",
                "rtrim",
                "md5",
                "initcap",
            ];
            if any_null && f.over.is_none() && strict.contains(&name.as_str()) {
                *e = typed_null(cx, e);
                return Ok(Some(Konst::Null));
            }
            None
        }
        Expr::Position { expr, r#in } => {
            let (a, b) = (fold(cx, expr)?, fold(cx, r#in)?);
            if a == Some(Konst::Null) || b == Some(Konst::Null) {
                *e = typed_null(cx, e);
                return Ok(Some(Konst::Null));
            }
            None
        }
        Expr::Subquery(q) => {
            fold_query(cx, q)?;
            None
        }
        Expr::Exists { subquery, .. } => {
            fold_query(cx, subquery)?;
            None
        }
        Expr::InSubquery { expr, subquery, .. } => {
            fold(cx, expr)?;
            fold_query(cx, subquery)?;
            None
        }
        _ => {
            // The operands of other expressions are folded in turn.
            let mut error = None;
            let _ = visit_children(e, |child| match fold(cx, child) {
                Ok(_) => ControlFlow::Continue(()),
                Err(u) => {
                    error = Some(u);
                    ControlFlow::Break(())
                }
            });
            if let Some(u) = error {
                return Err(u);
            }
            None
        }
    };
    Ok(k)
}

/// Calls `f` on each outermost expression inside `e` (not `e` itself).
fn visit_children(
    e: &mut Expr,
    mut f: impl FnMut(&mut Expr) -> ControlFlow<()>,
) -> ControlFlow<()> {
    struct Children<F> {
        depth: usize,
        f: F,
    }
    impl<F: FnMut(&mut Expr) -> ControlFlow<()>> VisitorMut for Children<F> {
        type Break = ();
        fn pre_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
            self.depth += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
            self.depth += 1;
            if self.depth == 2 {
                (self.f)(e)?;
            }
            ControlFlow::Continue(())
        }
        fn post_visit_expr(&mut self, _: &mut Expr) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
    }
    e.visit(&mut Children {
        depth: 0,
        f: &mut f,
    })
}

/// [`fold`] over each outermost expression of `query` (its subqueries' by `fold`).
fn fold_query(cx: &Cx<'_>, query: &mut Query) -> Result<(), Unsupported> {
    struct Roots<'a> {
        cx: &'a Cx<'a>,
        depth: usize,
        error: Option<Unsupported>,
    }
    impl VisitorMut for Roots<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
            self.depth += 1;
            if self.depth == 1 {
                if let Err(u) = fold(self.cx, e) {
                    self.error = Some(u);
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        }
        fn post_visit_expr(&mut self, _: &mut Expr) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
    }
    let mut roots = Roots {
        cx,
        depth: 0,
        error: None,
    };
    let _ = query.visit(&mut roots);
    roots.error.map_or(Ok(()), Err)
}

/// PostgreSQL's estimate of what evaluating `e` costs, in calls of functions and
/// operators (`cost_qual_eval`): a cast through text counts 2, a subquery more than
/// anything else, constants nothing (folded).
fn cost(cx: &Cx<'_>, e: &Expr) -> f64 {
    struct Cost<'a> {
        cx: &'a Cx<'a>,
        total: f64,
    }
    impl sqlparser::ast::Visitor for Cost<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            self.total += match e {
                Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => 1000.0,
                Expr::BinaryOp { op, .. }
                    if !matches!(op, BinaryOperator::And | BinaryOperator::Or) =>
                {
                    1.0
                }
                Expr::Like { .. } | Expr::ILike { .. } | Expr::SimilarTo { .. } => 1.0,
                Expr::Between { .. } => 2.0,
                Expr::InList { list, .. } => 0.5 * list.len() as f64,
                Expr::Function(f) if f.over.is_none() => 1.0,
                Expr::Position { .. } | Expr::Substring { .. } | Expr::Trim { .. } => 1.0,
                Expr::IsDistinctFrom(..) | Expr::IsNotDistinctFrom(..) => 1.0,
                Expr::Cast {
                    expr, data_type, ..
                } => {
                    let through_text = decl_ty(&data_type.to_string()) == Ty::Text
                        || matches!(self.cx.ty(expr), Some(Ty::Text) | None);
                    if through_text {
                        2.0
                    } else {
                        1.0
                    }
                }
                _ => 0.0,
            };
            ControlFlow::Continue(())
        }
    }
    if constant(e) {
        return 0.0;
    }
    let mut c = Cost { cx, total: 0.0 };
    let _ = sqlparser::ast::Visit::visit(e, &mut c);
    c.total
}

/// Whether `e` names no column, parameter or subquery (PostgreSQL folds it).
fn constant(e: &Expr) -> bool {
    let mut found = false;
    let _ = sqlparser::ast::visit_expressions(e, |x| {
        if matches!(
            x,
            Expr::Identifier(_)
                | Expr::CompoundIdentifier(_)
                | Expr::Subquery(_)
                | Expr::Exists { .. }
                | Expr::InSubquery { .. }
                | Expr::Function(_)
        ) || matches!(x, Expr::Value(v) if matches!(v.value, Value::Placeholder(_)))
        {
            found = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    !found
}

/// The `AND`ed conditions of a `WHERE` in the order PostgreSQL evaluates them: by
/// their estimated cost, cheapest first (`order_qual_clauses`), so that a condition
/// that fails (`name::bool`) is not reached where PostgreSQL's cheaper one already
/// rejected the row. Returns whether the order changed.
fn order_conditions(cx: &Cx<'_>, selection: &mut Expr) -> bool {
    fn conjuncts(e: Expr, out: &mut Vec<Expr>) {
        match e {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                conjuncts(*left, out);
                conjuncts(*right, out);
            }
            Expr::Nested(inner)
                if matches!(
                    inner.as_ref(),
                    Expr::BinaryOp {
                        op: BinaryOperator::And,
                        ..
                    }
                ) =>
            {
                conjuncts(*inner, out)
            }
            other => out.push(other),
        }
    }
    let mut list = Vec::new();
    conjuncts(selection.clone(), &mut list);
    if list.len() < 2 {
        return false;
    }
    let mut keyed: Vec<(f64, usize, Expr)> = list
        .into_iter()
        .enumerate()
        .map(|(i, e)| (cost(cx, &e), i, e))
        .collect();
    if keyed.windows(2).all(|w| w[0].0 <= w[1].0) {
        return false;
    }
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut it = keyed.into_iter().map(|k| k.2);
    let Some(first) = it.next() else {
        return false;
    };
    *selection = it.fold(first, |acc, e| Expr::BinaryOp {
        left: Box::new(acc),
        op: BinaryOperator::And,
        right: Box::new(e),
    });
    true
}

/// Whether computing `e` may fail (not a column, literal or parameter).
fn may_fail(e: &Expr) -> bool {
    match e {
        Expr::Nested(x) => may_fail(x),
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) | Expr::Value(_) => false,
        _ => true,
    }
}

/// The rewrites (see the module docs), bottom up.
struct Pass<'a> {
    columns: &'a [(String, String)],
    changed: bool,
    error: Option<Unsupported>,
}

impl Pass<'_> {
    /// `e` as text where PostgreSQL writes it as text: a boolean `true`/`false`, a
    /// numeric with its display scale; `Ok(None)` when SQLite's text is PostgreSQL's.
    fn as_text(&self, e: &Expr) -> Result<Option<Expr>, Unsupported> {
        let cx = Cx {
            columns: self.columns,
        };
        Ok(match cx.ty(e) {
            Some(Ty::Bool) => Some(call("pg_bool_text", vec![e.clone()])),
            Some(Ty::Numeric(Scale::Known(s))) => {
                Some(call("pg_numeric_text", vec![e.clone(), number(s)]))
            }
            Some(Ty::Numeric(Scale::Unknown)) => {
                return Err(Unsupported(format!(
                    "a numeric whose display scale depends on the values ({e}) written as \
                     text is not supported"
                )))
            }
            _ => None,
        })
    }

    fn rewrite(&mut self, e: &mut Expr) -> Result<bool, Unsupported> {
        let cx = Cx {
            columns: self.columns,
        };
        match e {
            Expr::Cast {
                expr,
                data_type,
                format: None,
                ..
            } => {
                if decl_ty(&data_type.to_string()) != Ty::Text {
                    return Ok(false);
                }
                let Some(text) = self.as_text(expr)? else {
                    return Ok(false);
                };
                // Still a cast to the type named (`varchar(3)` cuts), of the text.
                **expr = text;
                Ok(true)
            }
            Expr::BinaryOp {
                left,
                op: BinaryOperator::StringConcat,
                right,
            } => {
                let mut changed = false;
                for side in [left, right] {
                    if let Some(text) = self.as_text(side)? {
                        **side = text;
                        changed = true;
                    }
                }
                Ok(changed)
            }
            Expr::InSubquery {
                expr,
                subquery,
                negated,
            } if may_fail(expr) => {
                // PostgreSQL computes `x` only for a row of the subquery: with none, `x IN
                // (...)` is false (`NOT IN` true) and `x`'s errors are not raised.
                let test = Expr::InSubquery {
                    expr: expr.clone(),
                    subquery: subquery.clone(),
                    negated: *negated,
                };
                *e = Expr::Case {
                    case_token: sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
                    end_token: sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
                    operand: None,
                    conditions: vec![sqlparser::ast::CaseWhen {
                        condition: Expr::Exists {
                            subquery: subquery.clone(),
                            negated: false,
                        },
                        result: test,
                    }],
                    else_result: Some(Box::new(Expr::value(Value::Boolean(*negated)))),
                };
                Ok(true)
            }
            Expr::Function(f) if crate::select_list::function_name(f) == "round" => {
                // round(numeric[, n]): PostgreSQL's decimal rounding (`pg_round`).
                let Some(args) = call_args(f) else {
                    return Ok(false);
                };
                let (Some(x), digits) = (args.first(), args.get(1)) else {
                    return Ok(false);
                };
                if !matches!(cx.ty(x), Some(Ty::Numeric(_))) || args.len() > 2 {
                    return Ok(false);
                }
                let digits = digits.map_or_else(|| number(0), |d| (*d).clone());
                *e = call("pg_round", vec![(*x).clone(), digits]);
                Ok(true)
            }
            Expr::Function(f)
                if matches!(
                    crate::select_list::function_name(f).as_str(),
                    "concat" | "concat_ws"
                ) =>
            {
                let FunctionArguments::List(list) = &mut f.args else {
                    return Ok(false);
                };
                let mut changed = false;
                for a in &mut list.args {
                    if let FunctionArg::Unnamed(FunctionArgExpr::Expr(a)) = a {
                        if let Some(text) = self.as_text(a)? {
                            *a = text;
                            changed = true;
                        }
                    }
                }
                Ok(changed)
            }
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr,
            } => {
                // PostgreSQL has no `-` for text (`-3::text` is `-(3::text)`) or boolean.
                if let Expr::Cast { data_type, .. } = expr.as_ref() {
                    if decl_ty(&data_type.to_string()) == Ty::Text {
                        return Err(Unsupported(
                            "[42883] operator does not exist: - text".to_string(),
                        ));
                    }
                }
                if cx.ty(expr) == Some(Ty::Bool) {
                    return Err(Unsupported(
                        "[42883] operator does not exist: - boolean".to_string(),
                    ));
                }
                if matches!(expr.as_ref(), Expr::Value(_)) {
                    return Ok(false);
                }
                self.range_check(e, &cx)
            }
            Expr::BinaryOp {
                op:
                    BinaryOperator::Plus
                    | BinaryOperator::Minus
                    | BinaryOperator::Multiply
                    | BinaryOperator::Divide
                    | BinaryOperator::Modulo,
                ..
            } => self.range_check(e, &cx),
            _ => Ok(false),
        }
    }

    /// Integer arithmetic on `int2`/`int4` operands: checked against its type's range;
    /// on operands of unknown types: refused past `int4`'s.
    fn range_check(&self, e: &mut Expr, cx: &Cx<'_>) -> Result<bool, Unsupported> {
        let operands: Vec<&Expr> = match &*e {
            Expr::BinaryOp { left, right, .. } => vec![left, right],
            Expr::UnaryOp { expr, .. } => vec![expr],
            _ => return Ok(false),
        };
        let types: Vec<Option<Ty>> = operands.iter().map(|o| cx.ty(o)).collect();
        let narrow = |t: &Option<Ty>| matches!(t, Some(Ty::Int(2 | 4) | Ty::Null));
        let wrapper = if types.iter().all(narrow) {
            let width = types
                .iter()
                .map(|t| match t {
                    Some(Ty::Int(w)) => *w,
                    _ => 0,
                })
                .max()
                .unwrap_or(0);
            match width {
                2 => "pg_int2",
                4 => "pg_int4",
                // NULL op NULL.
                _ => return Ok(false),
            }
        } else if types.iter().all(|t| narrow(t) || t.is_none()) {
            "pg_int4_unsure"
        } else {
            return Ok(false);
        };
        let inner = std::mem::replace(e, Expr::value(Value::Null));
        *e = call(wrapper, vec![Expr::Nested(Box::new(inner))]);
        Ok(true)
    }
}

impl VisitorMut for Pass<'_> {
    type Break = ();

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        match self.rewrite(e) {
            Ok(c) => {
                self.changed |= c;
                ControlFlow::Continue(())
            }
            Err(u) => {
                self.error = Some(u);
                ControlFlow::Break(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<(String, String)> {
        [
            ("e.age", "INT"),
            ("e.bonus", "int8"),
            ("e.salary", "numeric(10,2)"),
            ("e.active", "bool"),
            ("e.name", "text"),
            ("e.hired", "date"),
            ("e.small", "int2"),
        ]
        .iter()
        .map(|(c, t)| (c.to_string(), t.to_string()))
        .collect()
    }

    fn typed(sql: &str) -> Typed {
        rewrite(sql, &columns()).unwrap()
    }

    fn text(sql: &str) -> String {
        typed(sql).text.unwrap_or_else(|| sql.to_string())
    }

    #[test]
    fn a_plain_point_query_skips_the_pass() {
        assert!(!may_apply("SELECT v FROM bench_kv WHERE id = 5"));
        assert!(!may_apply("select * from t where id = $1"));
        assert!(!may_apply("INSERT INTO t VALUES (1)"));
        assert!(!may_apply("SELECT *, v FROM t WHERE id = 1"));
        assert!(may_apply("SELECT a * 2 FROM t"));
        assert!(may_apply("SELECT a + 1 FROM t"));
        assert!(may_apply("SELECT b::text FROM t"));
        assert!(may_apply("SELECT sum(n) FROM t"));
        assert!(may_apply("SELECT x FROM t WHERE a = 1 AND b = 2"));
        assert!(may_apply("SELECT 1.50"));
        assert!(may_apply("select true"));
    }

    #[test]
    fn int4_arithmetic_is_checked_against_int4() {
        assert_eq!(
            text("SELECT e.age * 10 AS x FROM emp e"),
            "SELECT pg_int4((e.age * 10)) AS x FROM emp AS e"
        );
        assert_eq!(
            text("SELECT (e.hired - e.hired) + 1 AS x FROM emp e"),
            "SELECT pg_int4(((e.hired - e.hired) + 1)) AS x FROM emp AS e"
        );
        assert_eq!(
            text("SELECT e.small + e.small AS x FROM emp e"),
            "SELECT pg_int2((e.small + e.small)) AS x FROM emp AS e"
        );
        // int8 operands: SQLite's 64-bit arithmetic (the arith module) is PostgreSQL's.
        for sql in [
            "SELECT e.bonus * 10 AS x FROM emp e",
            "SELECT e.age * 3000000000 AS x FROM emp e",
            "SELECT e.age::int8 * 10 AS x FROM emp e",
            "SELECT e.salary * 10 AS x FROM emp e",
        ] {
            assert_eq!(typed(sql).text, None, "{sql}");
        }
        // An operand of unknown type: refused past int4 (see pg_int4_unsure).
        assert_eq!(
            text("SELECT $1 + e.age AS x FROM emp e"),
            "SELECT pg_int4_unsure(($1 + e.age)) AS x FROM emp AS e"
        );
        // The unnamed item keeps PostgreSQL's name.
        assert_eq!(
            text("SELECT e.age + 1 FROM emp e"),
            "SELECT pg_int4((e.age + 1)) AS \"?column?\" FROM emp AS e"
        );
    }

    #[test]
    fn booleans_and_numerics_are_written_as_postgresql_writes_them() {
        assert_eq!(
            text("SELECT e.active::text FROM emp e"),
            "SELECT pg_bool_text(e.active)::TEXT AS \"active\" FROM emp AS e"
        );
        assert_eq!(
            text("SELECT (e.age > 1)::text || e.salary AS x FROM emp e"),
            "SELECT pg_bool_text((e.age > 1))::TEXT || pg_numeric_text(e.salary, 2) AS x \
             FROM emp AS e"
        );
        assert_eq!(
            text("SELECT concat(e.active, sum(e.salary)) AS x FROM emp e"),
            "SELECT concat(pg_bool_text(e.active), pg_numeric_text(sum(e.salary), 2)) AS x \
             FROM emp AS e"
        );
        assert_eq!(
            text("SELECT (e.salary * 1.5)::text AS x FROM emp e"),
            "SELECT pg_numeric_text((e.salary * 1.5), 3)::TEXT AS x FROM emp AS e"
        );
        let refused = rewrite("SELECT (e.salary / 3)::text FROM emp e", &columns());
        assert!(refused.is_err_and(|e| e.0.contains("display scale")));
        assert_eq!(
            text("SELECT e.name::text, 1::text"),
            "SELECT e.name::TEXT AS \"name\", 1::TEXT AS \"text\""
        );
    }

    #[test]
    fn unnamed_items_are_named_as_postgresql_names_them() {
        assert_eq!(
            text(
                "SELECT e.age, true, e.hired::text, (e.hired + 1)::timestamptz::date, \
                 CASE WHEN e.active THEN 1 ELSE e.age END, CASE WHEN e.active THEN 1 END, \
                 (SELECT max(x.n) AS m FROM t x), (SELECT count(*) FROM t), \
                 trim(e.name), position('a' in e.name), DATE '2020-01-01', -e.age, \
                 NOT EXISTS (SELECT 1) FROM emp e"
            ),
            "SELECT e.age, true AS \"?column?\", e.hired::TEXT AS \"hired\", \
             (e.hired + 1)::TIMESTAMPTZ::DATE AS \"date\", \
             CASE WHEN e.active THEN 1 ELSE e.age END AS \"age\", \
             CASE WHEN e.active THEN 1 END AS \"case\", \
             (SELECT max(x.n) AS m FROM t AS x) AS \"m\", \
             (SELECT count(*) FROM t) AS \"count\", TRIM(e.name) AS \"btrim\", \
             POSITION('a' IN e.name) AS \"position\", DATE '2020-01-01' AS \"date\", \
             pg_int4((-e.age)) AS \"?column?\", NOT EXISTS (SELECT 1) AS \"?column?\" \
             FROM emp AS e"
        );
    }

    #[test]
    fn unary_minus_on_text_or_boolean_is_42883() {
        let e = rewrite("SELECT -3::int8::text", &columns()).unwrap_err();
        assert_eq!(e.0, "[42883] operator does not exist: - text");
        let e = rewrite("SELECT -1::bool", &columns()).unwrap_err();
        assert_eq!(e.0, "[42883] operator does not exist: - boolean");
    }

    #[test]
    fn constants_fail_before_the_query_runs_as_in_postgresql() {
        let code = |sql: &str| rewrite(sql, &columns()).map_err(|e| e.0[1..6].to_string());
        for (sql, want) in [
            (
                "SELECT 1 FROM emp e WHERE false AND e.age = 'b%'::int",
                Some("22P02"),
            ),
            ("SELECT 'b%'::int FROM emp e WHERE false", Some("22P02")),
            (
                "SELECT 1 FROM emp e WHERE false AND e.age = 10000000000::int",
                None,
            ),
            (
                "SELECT e.age FROM emp e WHERE e.active AND ' x '::bool",
                Some("22P02"),
            ),
            ("SELECT 10000000000::int", Some("22003")),
            ("SELECT '10000000000'::int", Some("22003")),
            ("SELECT (9223372036854775807 - -3::int8) * 2", Some("22003")),
            ("SELECT 2147483647 + 1", Some("22003")),
            ("SELECT 1 / 0", Some("22012")),
            ("SELECT 'b%'::numeric", Some("22P02")),
            (
                "SELECT (SELECT 1 FROM emp e WHERE 2 IN (SELECT 'x'::int))",
                Some("22P02"),
            ),
            // Arms PostgreSQL drops before folding them.
            (
                "SELECT CASE WHEN false THEN 10000000000::int ELSE 1 END",
                None,
            ),
            ("SELECT CASE WHEN true THEN 1 ELSE 1 / 0 END", None),
            (
                "SELECT CASE WHEN e.active THEN 'x'::int END FROM emp e",
                Some("22P02"),
            ),
            ("SELECT coalesce(1, 10000000000::int)", None),
            // A string literal is read when the query is parsed: everywhere.
            ("SELECT coalesce(1, 'x'::int)", Some("22P02")),
            ("SELECT CASE WHEN false THEN '_o%'::bool END", Some("22P02")),
            // nullif of constants is folded: the coalesce stops at 0.
            (
                "SELECT coalesce(-3::int8 * nullif(0::int8, 5::int8), 1 % 0)",
                None,
            ),
            ("SELECT nullif('Bob', 'Sales')::int", Some("22P02")),
            (
                "SELECT 2.5::text::int FROM emp e WHERE false",
                Some("22P02"),
            ),
            // Not a constant: coalesce of a column.
            ("SELECT coalesce(e.name, 'Sales')::bool FROM emp e", None),
            ("SELECT true OR 1 / 0 = 1", None),
        ] {
            assert_eq!(code(sql).err().as_deref(), want, "{sql}");
        }
        // An operator or strict function with a NULL operand is NULL, uncomputed.
        assert_eq!(
            text("SELECT e.bonus::int + NULL::int AS x, position(NULL::text in e.name) AS y FROM emp e"),
            "SELECT NULL::int4 AS x, NULL::int4 AS y FROM emp AS e"
        );
    }

    #[test]
    fn in_subquery_computes_its_operand_only_for_rows() {
        assert_eq!(
            text(
                "SELECT e.id FROM emp e WHERE e.age % e.age IN (SELECT 1 FROM emp s WHERE s.active)"
            ),
            "SELECT e.id FROM emp AS e WHERE CASE WHEN EXISTS (SELECT 1 FROM emp AS s WHERE \
             s.active) THEN pg_int4((e.age % e.age)) IN (SELECT 1 FROM emp AS s WHERE s.active) \
             ELSE false END"
        );
        assert_eq!(
            typed("SELECT e.id FROM emp e WHERE e.id NOT IN (SELECT 1 FROM emp s)").text,
            None
        );
    }

    #[test]
    fn conditions_are_ordered_by_postgresql_cost() {
        assert_eq!(
            text("SELECT e.age FROM emp e WHERE e.name::bool AND e.name LIKE 'a%' AND e.age > 1"),
            "SELECT e.age FROM emp AS e WHERE e.name LIKE 'a%' AND e.age > 1 AND e.name::BOOL"
        );
        // Already cheapest first: as written.
        assert_eq!(
            typed("SELECT e.age FROM emp e WHERE e.age > 1 AND e.name::bool").text,
            None
        );
    }

    #[test]
    fn display_scales_of_numeric_results() {
        let scales = |sql: &str| typed(sql).scales;
        let k = |s| Some(Scale::Known(s));
        assert_eq!(
            scales(
                "SELECT e.salary, sum(e.salary), e.salary + 1.5, e.salary * 0.25, 0.0, \
                 round(e.salary, 1), round(e.salary), max(e.bonus), e.age FROM emp e"
            ),
            vec![k(2), k(2), k(2), k(4), k(1), k(1), k(0), None, None]
        );
        assert_eq!(
            scales(
                "SELECT avg(e.age), e.salary / 2, coalesce(e.salary, 0), \
                 coalesce(e.salary, 0.00), sum(e.bonus), NULL::numeric, \
                 extract(year from e.hired) FROM emp e"
            ),
            vec![
                Some(Scale::Unknown),
                Some(Scale::Unknown),
                Some(Scale::Unknown),
                k(2),
                k(0),
                Some(Scale::Null),
                k(0)
            ]
        );
        assert_eq!(
            scales("SELECT 1.5 UNION SELECT 2.25"),
            vec![Some(Scale::Unknown)]
        );
        assert!(scales("SELECT * FROM emp").is_empty());
    }
}
