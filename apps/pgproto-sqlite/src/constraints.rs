//! CHECK constraints as PostgreSQL names and prints them: read from a table's
//! `CREATE TABLE` text (SQLite keeps it in `sqlite_schema`), named as PostgreSQL names
//! an unnamed one (`table_column_check` when the expression uses one column, else
//! `table_check`, then `table_check1`...), and printed as `pg_get_constraintdef` prints
//! them, in both its forms: `CHECK ((qty > 0))` and, pretty (psql's `\d`),
//! `CHECK (qty > 0)`. Comparisons, `AND`/`OR`, `IS [NOT] NULL` and integer arithmetic
//! over columns and literals get PostgreSQL's implicit casts (`0::numeric` against a
//! numeric column, `''::text` against a text one); other expressions are printed as
//! written.

use sqlparser::ast::{
    BinaryOperator, ColumnOption, DataType, Expr, FunctionArguments, Ident, Statement,
    TableConstraint, UnaryOperator, Value,
};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;

use crate::catalog::{pg_type_of, quote_ident};

/// One CHECK constraint of a table.
pub(crate) struct Check {
    /// Its name, given or as PostgreSQL chooses it.
    pub name: String,
    /// The numbers (from 1) of the columns it uses.
    pub columns: Vec<i64>,
    /// `pg_get_constraintdef(oid)`.
    pub def: String,
    /// `pg_get_constraintdef(oid, true)`.
    pub pretty: String,
}

/// The names given to a table's PRIMARY KEY and UNIQUE constraints in its `CREATE TABLE`
/// text (`CONSTRAINT uq_email UNIQUE (email)`, `id int CONSTRAINT pk PRIMARY KEY`):
/// SQLite keeps no name for their indexes. Each is the name, then the columns in order
/// (as written, unquoted).
pub(crate) fn named_keys(sql: &str) -> Vec<(String, Vec<String>)> {
    clauses(sql)
        .into_iter()
        .filter(|c| matches!(c.kind, ClauseKind::PrimaryKey | ClauseKind::Unique))
        .filter_map(|c| Some((c.given?, c.columns)))
        .collect()
}

/// The CHECK constraints of table `table` created by `sql`, whose columns are `columns`
/// (name, declared type, in order).
pub(crate) fn checks(table: &str, sql: &str, columns: &[(String, String)]) -> Vec<Check> {
    let Ok(statements) = Parser::parse_sql(&SQLiteDialect {}, sql) else {
        return Vec::new();
    };
    let Some(Statement::CreateTable(create)) = statements.first() else {
        return Vec::new();
    };
    let mut found: Vec<(Option<String>, &Expr)> = Vec::new();
    for c in &create.columns {
        for o in &c.options {
            if let ColumnOption::Check(e) = &o.option {
                found.push((o.name.as_ref().map(|n| n.value.clone()), e));
            }
        }
    }
    for c in &create.constraints {
        if let TableConstraint::Check { name, expr, .. } = c {
            found.push((name.as_ref().map(|n| n.value.clone()), expr));
        }
    }
    let mut taken: Vec<String> = found.iter().filter_map(|f| f.0.clone()).collect();
    let mut out = Vec::new();
    let resolve = |parts: &[Ident]| -> Option<(String, Option<&'static str>)> {
        let [column] = parts else { return None };
        let decl = &columns
            .iter()
            .find(|c| c.0.eq_ignore_ascii_case(&column.value))?
            .1;
        let ty = type_name(pg_type_of(decl).0)?;
        Some((quote_ident(&column.value.to_ascii_lowercase()), Some(ty)))
    };
    for (name, expr) in found {
        let p = Printer {
            resolve: &resolve,
            indent: 0,
        };
        let mut used = Vec::new();
        columns_of(expr, &mut used);
        let name = name.unwrap_or_else(|| {
            let base = match used.as_slice() {
                [one] => format!("{table}_{}_check", one.to_ascii_lowercase()),
                _ => format!("{table}_check"),
            };
            let mut name = base.clone();
            let mut n = 0;
            while taken.contains(&name) {
                n += 1;
                name = format!("{base}{n}");
            }
            taken.push(name.clone());
            name
        });
        let (def, pretty) = match (p.print(expr, false), p.print(expr, true)) {
            (Some(d), Some(pr)) => (d.text, pr.text),
            _ => (format!("({expr})"), expr.to_string()),
        };
        let numbers = used
            .iter()
            .filter_map(|u| {
                columns
                    .iter()
                    .position(|c| c.0.eq_ignore_ascii_case(u))
                    .and_then(|i| i64::try_from(i + 1).ok())
            })
            .collect();
        out.push(Check {
            name,
            columns: numbers,
            def: format!("CHECK ({def})"),
            pretty: format!("CHECK ({pretty})"),
        });
    }
    out
}

/// What kind of constraint a [`Clause`] is, as `pg_constraint.contype` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClauseKind {
    PrimaryKey,
    Unique,
    Check,
    ForeignKey,
}

/// One constraint written in a `CREATE TABLE` text, table or column constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clause {
    pub(crate) kind: ClauseKind,
    /// The name given with `CONSTRAINT name`.
    pub(crate) given: Option<String>,
    /// The byte range of the given name.
    pub(crate) name_span: Option<(usize, usize)>,
    /// Where the constraint's keyword starts (a name is put before it).
    pub(crate) keyword_at: usize,
    /// The column of a column constraint.
    pub(crate) column: Option<String>,
    /// Its columns (a primary key's, a unique or foreign key's own ones), as written.
    pub(crate) columns: Vec<String>,
    /// A foreign key's referenced table.
    pub(crate) references: Option<String>,
    /// The byte range that removing it removes (with the comma before a table
    /// constraint, with the space before a column constraint).
    pub(crate) span: (usize, usize),
}

/// The constraints written in a `CREATE TABLE` text, in order (SQLite keeps the text
/// as written; `NOT NULL`, `DEFAULT` and `COLLATE` are not listed).
pub(crate) fn clauses(create: &str) -> Vec<Clause> {
    use crate::sql::{matching_close, tokenize};
    let toks = tokenize(create);
    let Some(open) = toks.iter().position(|t| t.is_punct(create, "(")) else {
        return Vec::new();
    };
    let Some(close) = matching_close(create, &toks, open) else {
        return Vec::new();
    };
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(create, kw));
    let name = |i: usize| {
        toks.get(i).and_then(|t| match t.kind {
            crate::sql::Kind::Word | crate::sql::Kind::Quoted => t.ident(create),
            _ => None,
        })
    };
    // A parenthesized name list at `i`, and the index after it.
    let list = |i: usize| -> (Vec<String>, usize) {
        if !toks.get(i).is_some_and(|t| t.is_punct(create, "(")) {
            return (Vec::new(), i);
        }
        let end = matching_close(create, &toks, i).unwrap_or(i);
        let names = (i + 1..end)
            .filter(|&k| {
                !toks
                    .get(k)
                    .is_some_and(|t| t.kind == crate::sql::Kind::Punct)
            })
            .filter(|&k| {
                // A column, not its `COLLATE x`/`ASC`/`DESC`.
                !(w(k, "ASC") || w(k, "DESC") || w(k, "COLLATE") || w(k.wrapping_sub(1), "COLLATE"))
            })
            .filter_map(name)
            .collect();
        (names, end + 1)
    };
    // Where a column constraint starting at `k` may start the next one.
    let starts_clause = |k: usize| {
        [
            "CONSTRAINT",
            "PRIMARY",
            "UNIQUE",
            "CHECK",
            "REFERENCES",
            "COLLATE",
            "GENERATED",
        ]
        .iter()
        .any(|kw| w(k, kw))
            || (w(k, "NOT") && w(k + 1, "NULL"))
            || (w(k, "NULL") && !w(k.wrapping_sub(1), "NOT") && !w(k.wrapping_sub(1), "SET"))
            || (w(k, "DEFAULT") && !w(k.wrapping_sub(1), "SET"))
            || (w(k, "AS") && !w(k.wrapping_sub(1), "ALWAYS"))
    };
    let mut out = Vec::new();
    for item in crate::sql::list_items(create, &toks, open, close) {
        let (a, b) = (item.start, item.end);
        let (Some(first), Some(last)) = (toks.get(a), toks.get(b.wrapping_sub(1))) else {
            continue;
        };
        // A table constraint.
        let (mut kw, mut given, mut name_span) = (a, None, None);
        if w(a, "CONSTRAINT") {
            given = name(a + 1);
            name_span = toks.get(a + 1).map(|t| (t.start, t.end));
            kw = a + 2;
        }
        let table_kind = if w(kw, "PRIMARY") && w(kw + 1, "KEY") {
            Some((ClauseKind::PrimaryKey, kw + 2))
        } else if w(kw, "UNIQUE") {
            Some((ClauseKind::Unique, kw + 1))
        } else if w(kw, "CHECK") {
            Some((ClauseKind::Check, kw + 1))
        } else if w(kw, "FOREIGN") && w(kw + 1, "KEY") {
            Some((ClauseKind::ForeignKey, kw + 2))
        } else {
            None
        };
        if let Some((kind, at)) = table_kind {
            let (columns, after) = if kind == ClauseKind::Check {
                (Vec::new(), at)
            } else {
                list(at)
            };
            let references = (kind == ClauseKind::ForeignKey && w(after, "REFERENCES"))
                .then(|| crate::ddl::name_at(create, &toks, after + 1).map(|n| n.0))
                .flatten();
            let comma = toks.get(a.wrapping_sub(1)).map_or(first.start, |c| c.start);
            out.push(Clause {
                kind,
                given,
                name_span,
                keyword_at: toks.get(kw).map_or(first.start, |t| t.start),
                column: None,
                columns,
                references,
                span: (comma, last.end),
            });
            continue;
        }
        if w(a, "CONSTRAINT") {
            continue;
        }
        // A column definition: its constraints after its name and type.
        let Some(column) = name(a) else { continue };
        let mut c = a + 1;
        let mut d = 0usize;
        while c < b {
            if toks.get(c).is_some_and(|t| t.is_punct(create, "(")) {
                d += 1;
            } else if toks.get(c).is_some_and(|t| t.is_punct(create, ")")) {
                d = d.saturating_sub(1);
            } else if d == 0 && starts_clause(c) {
                break;
            }
            c += 1;
        }
        while c < b {
            let start = c;
            let (mut given, mut name_span, mut kw) = (None, None, c);
            if w(c, "CONSTRAINT") {
                given = name(c + 1);
                name_span = toks.get(c + 1).map(|t| (t.start, t.end));
                kw = c + 2;
            }
            // The clause's end: the next clause's start at depth 0.
            let mut e = kw + 1;
            while e < b {
                if toks.get(e).is_some_and(|t| t.is_punct(create, "(")) {
                    e = matching_close(create, &toks, e).unwrap_or(e) + 1;
                    continue;
                }
                if starts_clause(e) {
                    break;
                }
                e += 1;
            }
            let kind = if w(kw, "PRIMARY") {
                Some(ClauseKind::PrimaryKey)
            } else if w(kw, "UNIQUE") {
                Some(ClauseKind::Unique)
            } else if w(kw, "CHECK") {
                Some(ClauseKind::Check)
            } else if w(kw, "REFERENCES") {
                Some(ClauseKind::ForeignKey)
            } else {
                None
            };
            if let Some(kind) = kind {
                let before = toks.get(start.wrapping_sub(1)).map_or(0, |t| t.end);
                let end = toks.get(e - 1).map_or(before, |t| t.end);
                out.push(Clause {
                    kind,
                    given,
                    name_span,
                    keyword_at: toks.get(kw).map_or(before, |t| t.start),
                    column: Some(column.clone()),
                    columns: vec![column.clone()],
                    references: (kind == ClauseKind::ForeignKey)
                        .then(|| crate::ddl::name_at(create, &toks, kw + 1).map(|n| n.0))
                        .flatten(),
                    span: (before, end),
                });
            }
            c = e;
        }
    }
    out
}

/// The constraints of table `table` (created by `create`, with `columns`: name and
/// declared type), each with the name PostgreSQL (and the catalog) gives it.
pub(crate) fn named_clauses(
    table: &str,
    create: &str,
    columns: &[(String, String)],
) -> Vec<(String, Clause)> {
    let all = clauses(create);
    // Checks are named by `checks`, column constraints first.
    let mut check_names = checks(table, create, columns).into_iter().map(|c| c.name);
    let mut ordered: Vec<&Clause> = all
        .iter()
        .filter(|c| c.kind == ClauseKind::Check && c.column.is_some())
        .collect();
    ordered.extend(
        all.iter()
            .filter(|c| c.kind == ClauseKind::Check && c.column.is_none()),
    );
    let mut out: Vec<(String, Clause)> = ordered
        .into_iter()
        .map(|c| (check_names.next().unwrap_or_default(), c.clone()))
        .collect();
    for c in all.iter().filter(|c| c.kind != ClauseKind::Check) {
        let name = c.given.clone().unwrap_or_else(|| match c.kind {
            ClauseKind::PrimaryKey => format!("{table}_pkey"),
            ClauseKind::Unique => format!("{table}_{}_key", c.columns.join("_")),
            _ => format!("{table}_{}_fkey", c.columns.join("_")),
        });
        out.push((name, c.clone()));
    }
    out
}

/// The columns an expression names, in order of first use.
fn columns_of(e: &Expr, out: &mut Vec<String>) {
    let _ = sqlparser::ast::visit_expressions(e, |x| {
        if let Expr::Identifier(i) = x {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(&i.value)) {
                out.push(i.value.clone());
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
}

/// The name this printer gives the type with OID `oid`, for the types it knows.
pub(crate) fn type_name(oid: i64) -> Option<&'static str> {
    Some(match oid {
        20 => "int8",
        21 => "int2",
        23 => "int4",
        25 => "text",
        1043 => "varchar",
        1700 => "numeric",
        16 => "bool",
        _ => return None,
    })
}

/// A printed expression: its text, its type (PostgreSQL's name) and whether it is an
/// operator expression (which a parent operator may have to parenthesize).
pub(crate) struct Printed {
    pub(crate) text: String,
    pub(crate) ty: Option<&'static str>,
    /// The operator when the expression is a binary operator expression.
    op: Option<&'static str>,
    /// Whether it is an unadorned literal (which takes an implicit cast).
    literal: Option<Lit>,
    /// Whether it is a column reference (PostgreSQL's `Var`).
    pub(crate) column: bool,
}

impl Printed {
    /// An expression that is neither an operation nor a column reference.
    fn plain(text: String, ty: Option<&'static str>, literal: Option<Lit>) -> Self {
        Self {
            text,
            ty,
            op: None,
            literal,
            column: false,
        }
    }

    /// An operator expression of operator `op`.
    fn operation(text: String, ty: &'static str, op: &'static str) -> Self {
        Self {
            text,
            ty: Some(ty),
            op: Some(op),
            literal: None,
            column: false,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Lit {
    Int,
    Decimal,
    Str,
}

/// What a [`Printer`] asks of a column reference: its printed form and type.
pub(crate) type Resolve<'a> = dyn Fn(&[Ident]) -> Option<(String, Option<&'static str>)> + 'a;

/// Prints expressions as PostgreSQL's `ruleutils.c` deparses them (for
/// `pg_get_constraintdef` and `pg_get_viewdef`), from their syntax tree and the types of
/// the columns they name.
pub(crate) struct Printer<'a> {
    /// A column reference (its name parts as written): its printed form and its type,
    /// `None` for a column this printer cannot place.
    pub(crate) resolve: &'a Resolve<'a>,
    /// The indentation of the clause being printed (`CASE` lines are indented from it).
    pub(crate) indent: usize,
}

const INTS: [&str; 3] = ["int2", "int4", "int8"];

/// The name `format_type` gives a type of this printer.
fn sql_type_name(ty: &str) -> &str {
    match ty {
        "int8" => "bigint",
        "int2" => "smallint",
        "int4" => "integer",
        "bool" => "boolean",
        "varchar" => "character varying",
        other => other,
    }
}

impl Printer<'_> {
    /// The expression as PostgreSQL prints it, or `None` for what this printer does
    /// not know.
    pub(crate) fn print(&self, e: &Expr, pretty: bool) -> Option<Printed> {
        let plain = Printed::plain;
        match e {
            Expr::Nested(inner) => self.print(inner, pretty),
            Expr::Identifier(i) => self.column(std::slice::from_ref(i)),
            Expr::CompoundIdentifier(parts) => self.column(parts),
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) if n.parse::<i32>().is_ok() && !n.starts_with('-') => {
                    Some(plain(n.clone(), Some("int4"), Some(Lit::Int)))
                }
                Value::Number(n, _)
                    if n.contains('.')
                        && !n.contains(['e', 'E'])
                        && n.starts_with(|c: char| c.is_ascii_digit()) =>
                {
                    Some(plain(n.clone(), Some("numeric"), Some(Lit::Decimal)))
                }
                Value::SingleQuotedString(s) => Some(plain(
                    format!("'{}'", s.replace('\'', "''")),
                    None,
                    Some(Lit::Str),
                )),
                Value::Boolean(b) => Some(plain(b.to_string(), Some("bool"), None)),
                _ => None,
            },
            Expr::IsNull(x) | Expr::IsNotNull(x) => {
                let inner = self.print(x, pretty)?;
                let what = if matches!(e, Expr::IsNull(_)) {
                    "IS NULL"
                } else {
                    "IS NOT NULL"
                };
                let inner = parenthesized(inner.text, inner.op.is_some() && pretty);
                let text = parenthesized(format!("{inner} {what}"), !pretty);
                Some(plain(text, Some("bool"), None))
            }
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr,
            } => {
                let inner = self.print(expr, pretty)?;
                if inner.ty != Some("bool") {
                    return None;
                }
                let arg = parenthesized(inner.text, pretty && inner.op.is_some());
                let text = parenthesized(format!("NOT {arg}"), !pretty);
                Some(Printed::operation(text, "bool", "NOT"))
            }
            Expr::BinaryOp { left, op, right } => match op {
                BinaryOperator::And | BinaryOperator::Or => self.print_bool(e, op, pretty),
                _ => self.print_op(left, op, right, pretty),
            },
            Expr::Like {
                negated,
                any: false,
                expr,
                pattern,
                escape_char: None,
            } => self.print_like(expr, pattern, *negated, pretty),
            Expr::Function(f) => self.print_function(f, pretty),
            Expr::Case {
                operand: None,
                conditions,
                else_result,
                ..
            } => self.print_case(conditions, else_result.as_deref(), pretty),
            Expr::Cast {
                expr,
                data_type,
                format: None,
                ..
            } => {
                let target = cast_target(data_type)?;
                let inner = self.print(expr, pretty)?;
                if inner.literal.is_some() || inner.ty.is_none() {
                    return None;
                }
                if inner.ty == Some(target) {
                    return Some(inner);
                }
                let operand =
                    parenthesized(inner.text, pretty && !(inner.column || inner.op.is_none()));
                let name = sql_type_name(target);
                let text = format!("{}::{name}", parenthesized(operand, !pretty));
                Some(plain(text, Some(target), None))
            }
            _ => None,
        }
    }

    /// A column reference, as the resolver prints it.
    fn column(&self, parts: &[Ident]) -> Option<Printed> {
        let (text, ty) = (self.resolve)(parts)?;
        Some(Printed {
            text,
            ty,
            op: None,
            literal: None,
            column: true,
        })
    }

    /// An argument read as type `target`: a literal or a column of another type takes
    /// PostgreSQL's implicit cast.
    fn argument(&self, e: &Expr, target: &'static str, pretty: bool) -> Option<String> {
        let p = self.print(e, pretty)?;
        if p.literal.is_none() && p.ty.is_none() {
            return None;
        }
        if p.literal == Some(Lit::Decimal) && target != "numeric" {
            return None;
        }
        let compatible = match p.ty {
            Some(t) => t == target || (t == "varchar" && target == "text") || p.literal.is_some(),
            None => p.literal == Some(Lit::Str),
        };
        let widened = p.ty.is_some_and(|t| INTS.contains(&t)) && target == "numeric";
        if !(compatible || widened) {
            return None;
        }
        Some(cast(p.text, p.literal, p.ty, target, pretty))
    }

    /// A function call PostgreSQL prints as written (its arguments with their implicit
    /// casts), for the functions whose argument and result types this printer knows.
    fn print_function(&self, f: &sqlparser::ast::Function, pretty: bool) -> Option<Printed> {
        use sqlparser::ast::{DuplicateTreatment, FunctionArg, FunctionArgExpr};
        if f.filter.is_some() || f.over.is_some() || f.null_treatment.is_some() {
            return None;
        }
        let [name] = f.name.0.as_slice() else {
            return None;
        };
        let name = name.as_ident()?;
        if name.quote_style.is_some() {
            return None;
        }
        let name = name.value.to_ascii_lowercase();
        let FunctionArguments::List(list) = &f.args else {
            return None;
        };
        if !list.clauses.is_empty() || !matches!(f.parameters, FunctionArguments::None) {
            return None;
        }
        // `pg_number_in(x, 'type')`: how a cast to a number reads its operand (see
        // `sql::rewrite`); PostgreSQL shows the operand.
        if name == "pg_number_in" {
            if let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e))) = list.args.first() {
                return self.print(e, pretty);
            }
        }
        let distinct = match list.duplicate_treatment {
            None | Some(DuplicateTreatment::All) => "",
            Some(DuplicateTreatment::Distinct) => "DISTINCT ",
        };
        let mut args = Vec::new();
        for a in &list.args {
            match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => args.push(e),
                FunctionArg::Unnamed(FunctionArgExpr::Wildcard)
                    if name == "count" && list.args.len() == 1 && distinct.is_empty() =>
                {
                    return Some(Printed::plain("count(*)".to_string(), Some("int8"), None));
                }
                _ => return None,
            }
        }
        let aggregate = matches!(name.as_str(), "count" | "sum" | "avg" | "min" | "max");
        if !distinct.is_empty() && !aggregate {
            return None;
        }
        let done = |text: String, ty: &'static str| Some(Printed::plain(text, Some(ty), None));
        match (name.as_str(), args.as_slice()) {
            ("count" | "sum" | "avg" | "min" | "max", [arg]) => {
                let p = self.print(arg, pretty)?;
                let ty = p.ty.filter(|_| p.literal.is_none())?;
                let result = match (name.as_str(), ty) {
                    ("count", _) => "int8",
                    ("sum", "int2" | "int4") => "int8",
                    ("sum", "int8" | "numeric") | ("avg", _) => "numeric",
                    ("min" | "max", t) => t,
                    _ => return None,
                };
                if name == "avg" && !(INTS.contains(&ty) || ty == "numeric") {
                    return None;
                }
                done(format!("{name}({distinct}{})", p.text), result)
            }
            ("upper" | "lower" | "length", [arg]) => {
                let text = self.argument(arg, "text", pretty)?;
                let ty = if name == "length" { "int4" } else { "text" };
                done(format!("{name}({text})"), ty)
            }
            ("coalesce", [first, ..]) => {
                // The arguments' common type: the first typed one's (varchar stays).
                let ty = args
                    .iter()
                    .filter_map(|a| self.print(a, pretty))
                    .find(|p| p.literal.is_none())
                    .and_then(|p| p.ty)
                    .or_else(|| self.print(first, pretty).and_then(|p| p.ty))
                    .unwrap_or("text");
                let mut texts = Vec::new();
                for a in &args {
                    let p = self.print(a, pretty)?;
                    if p.ty.is_some_and(|t| t != ty) && p.literal.is_none() {
                        return None;
                    }
                    texts.push(cast(p.text, p.literal, p.ty, ty, pretty));
                }
                done(format!("COALESCE({})", texts.join(", ")), ty)
            }
            _ => None,
        }
    }

    /// `x LIKE y` is the operator `~~` on text.
    fn print_like(&self, x: &Expr, pattern: &Expr, negated: bool, pretty: bool) -> Option<Printed> {
        let sym = if negated { "!~~" } else { "~~" };
        let l = self.argument(x, "text", pretty)?;
        let r = self.argument(pattern, "text", pretty)?;
        let text = format!("{l} {sym} {r}");
        Some(Printed::operation(
            parenthesized(text, !pretty),
            "bool",
            sym,
        ))
    }

    /// `CASE WHEN ... THEN ... ELSE ... END`, on lines of its own indented from the
    /// clause, as PostgreSQL prints it.
    fn print_case(
        &self,
        conditions: &[sqlparser::ast::CaseWhen],
        else_result: Option<&Expr>,
        pretty: bool,
    ) -> Option<Printed> {
        let inner = Printer {
            resolve: self.resolve,
            indent: self.indent + 4,
        };
        let mut results = Vec::new();
        for c in conditions {
            results.push(inner.print(&c.result, pretty)?);
        }
        if let Some(e) = else_result {
            results.push(inner.print(e, pretty)?);
        }
        let ty = results
            .iter()
            .find(|r| r.literal != Some(Lit::Str))
            .map_or(Some("text"), |r| r.ty)?;
        let mut results = results
            .into_iter()
            .map(|r| cast(r.text, r.literal, r.ty, ty, pretty));
        let pad = " ".repeat(self.indent);
        let pad_in = " ".repeat(self.indent + 4);
        let mut text = format!("\n{pad}CASE");
        for c in conditions {
            let cond = inner.print(&c.condition, pretty)?;
            if cond.ty != Some("bool") {
                return None;
            }
            text.push_str(&format!(
                "\n{pad_in}WHEN {} THEN {}",
                cond.text,
                results.next()?
            ));
        }
        if else_result.is_some() {
            text.push_str(&format!("\n{pad_in}ELSE {}", results.next()?));
        }
        text.push_str(&format!("\n{pad}END"));
        Some(Printed::plain(text, Some(ty), None))
    }

    /// `AND`/`OR`, flattened as PostgreSQL's parser flattens them.
    fn print_bool(&self, e: &Expr, op: &BinaryOperator, pretty: bool) -> Option<Printed> {
        fn flatten<'e>(e: &'e Expr, op: &BinaryOperator, out: &mut Vec<&'e Expr>) {
            match e {
                Expr::BinaryOp { left, op: o, right } if o == op => {
                    flatten(left, op, out);
                    flatten(right, op, out);
                }
                Expr::Nested(inner) if matches!(**inner, Expr::BinaryOp { op: ref o, .. } if o == op) => {
                    flatten(inner, op, out)
                }
                _ => out.push(e),
            }
        }
        let mut args = Vec::new();
        flatten(e, op, &mut args);
        let word = if *op == BinaryOperator::And {
            "AND"
        } else {
            "OR"
        };
        let mut parts = Vec::new();
        for a in args {
            let mut inner = a;
            while let Expr::Nested(x) = inner {
                inner = x;
            }
            let p = self.print(inner, pretty)?;
            if p.ty != Some("bool") {
                return None;
            }
            // Pretty: an OR inside an AND keeps its parentheses.
            let child_or = matches!(
                inner,
                Expr::BinaryOp {
                    op: BinaryOperator::Or,
                    ..
                }
            ) && word == "AND";
            parts.push(parenthesized(p.text, pretty && child_or));
        }
        let joined = parts.join(&format!(" {word} "));
        Some(Printed::operation(
            parenthesized(joined, !pretty),
            "bool",
            if word == "AND" { "AND" } else { "OR" },
        ))
    }

    fn print_op(
        &self,
        left: &Expr,
        op: &BinaryOperator,
        right: &Expr,
        pretty: bool,
    ) -> Option<Printed> {
        let (sym, comparison): (&'static str, bool) = match op {
            BinaryOperator::Eq => ("=", true),
            BinaryOperator::NotEq => ("<>", true),
            BinaryOperator::Lt => ("<", true),
            BinaryOperator::LtEq => ("<=", true),
            BinaryOperator::Gt => (">", true),
            BinaryOperator::GtEq => (">=", true),
            BinaryOperator::Plus => ("+", false),
            BinaryOperator::Minus => ("-", false),
            BinaryOperator::Multiply => ("*", false),
            BinaryOperator::Divide => ("/", false),
            BinaryOperator::Modulo => ("%", false),
            _ => return None,
        };
        let l = self.print(left, pretty)?;
        let r = self.print(right, pretty)?;
        let (lt, rt, ty) = unify(&l, &r)?;
        if !comparison && !INTS.contains(&ty) && ty != "numeric" {
            return None;
        }
        let side = |p: Printed, target: &'static str, first: bool| -> String {
            let text = cast(p.text.clone(), p.literal, p.ty, target, pretty);
            let needs =
                p.op.is_some_and(|child| !arith_needs_no_parens(child, sym, first, pretty));
            parenthesized(text, needs)
        };
        let text = format!("{} {sym} {}", side(l, lt, true), side(r, rt, false));
        let text = parenthesized(text, !pretty);
        Some(Printed::operation(
            text,
            if comparison { "bool" } else { ty },
            sym,
        ))
    }
}

/// Whether a child operator expression needs no parentheses under a parent operator,
/// by PostgreSQL's pretty-printing rules (non-pretty output is fully parenthesized by
/// the child itself).
fn arith_needs_no_parens(child: &str, parent: &str, first: bool, pretty: bool) -> bool {
    if !pretty {
        return true;
    }
    let lo = |o: &str| o == "+" || o == "-";
    let hi = |o: &str| o == "*" || o == "/" || o == "%";
    if !(lo(child) || hi(child)) || !(lo(parent) || hi(parent)) {
        return false;
    }
    if hi(child) && lo(parent) {
        return true;
    }
    if lo(child) && hi(parent) {
        return false;
    }
    first
}

/// The types both operands are read as, and the operation's type.
fn unify(l: &Printed, r: &Printed) -> Option<(&'static str, &'static str, &'static str)> {
    let target = |p: &Printed, other: &Printed| -> Option<&'static str> {
        match (p.literal, other.ty) {
            (Some(Lit::Str), Some(t)) => Some(if t == "varchar" { "text" } else { t }),
            (Some(Lit::Int), Some("numeric")) => Some("numeric"),
            (Some(Lit::Decimal), Some(t)) if t == "numeric" || INTS.contains(&t) => Some("numeric"),
            _ => p.ty.map(|t| if t == "varchar" { "text" } else { t }),
        }
    };
    let lt = target(l, r)?;
    let rt = target(r, l)?;
    let both_int = INTS.contains(&lt) && INTS.contains(&rt);
    if lt != rt && !both_int {
        return None;
    }
    let ty = if both_int {
        if lt == "int8" || rt == "int8" {
            "int8"
        } else if lt == "int4" || rt == "int4" {
            "int4"
        } else {
            "int2"
        }
    } else {
        lt
    };
    // An integer column compared with a decimal literal is cast to numeric.
    Some((lt, rt, ty))
}

/// `text` in parentheses when `wrap` (the plain form parenthesizes every operation; the
/// pretty form only where precedence needs it).
fn parenthesized(text: String, wrap: bool) -> String {
    if wrap {
        format!("({text})")
    } else {
        text
    }
}

/// An operand read as type `target`: a literal takes a cast label, a column of another
/// type a cast.
fn cast(
    text: String,
    literal: Option<Lit>,
    ty: Option<&'static str>,
    target: &str,
    pretty: bool,
) -> String {
    let name = sql_type_name(target);
    match literal {
        Some(Lit::Str) => format!("{text}::{name}"),
        Some(Lit::Int) if target == "numeric" => {
            format!("{}::numeric", parenthesized(text, !pretty))
        }
        _ if ty.is_some_and(|t| t != target && !(INTS.contains(&t) && INTS.contains(&target))) => {
            format!("{}::{name}", parenthesized(text, !pretty))
        }
        _ => text,
    }
}

/// The type of `CAST(x AS t)` among this printer's types (as SQLite keeps the view's
/// text: `x::bigint` is `CAST(x AS BIGINT)`).
fn cast_target(t: &DataType) -> Option<&'static str> {
    Some(match t {
        DataType::BigInt(None) | DataType::Int8(None) => "int8",
        DataType::Integer(None) | DataType::Int(None) | DataType::Int4(None) => "int4",
        DataType::SmallInt(None) | DataType::Int2(None) => "int2",
        DataType::Text => "text",
        DataType::Numeric(sqlparser::ast::ExactNumberInfo::None) => "numeric",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(sql: &str) -> (String, String, String) {
        let cols = [
            ("qty".to_string(), "integer".to_string()),
            ("total".to_string(), "numeric(10,2)".to_string()),
            ("note".to_string(), "text".to_string()),
            ("code".to_string(), "varchar(10)".to_string()),
        ];
        let c = checks("t", sql, &cols);
        let c = c.into_iter().next().unwrap();
        (c.name, c.def, c.pretty)
    }

    #[test]
    fn reads_constraint_clauses() {
        let sql = r#"CREATE TABLE b (id INT NOT NULL PRIMARY KEY, a_id INT CONSTRAINT fk REFERENCES a (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED, n int CHECK (n > 0) UNIQUE, "M" text, CONSTRAINT u2 UNIQUE (n, "M"), CHECK (n < 9), FOREIGN KEY (n) REFERENCES c)"#;
        let cols: Vec<(String, String)> = ["id", "a_id", "n", "M"]
            .iter()
            .map(|c| (c.to_string(), "int".to_string()))
            .collect();
        let found = named_clauses("b", sql, &cols);
        let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "b_n_check",
                "b_n_check1",
                "b_pkey",
                "fk",
                "b_n_key",
                "u2",
                "b_n_fkey"
            ]
        );
        let cut = |name: &str| {
            let (_, c) = found.iter().find(|(n, _)| n == name).unwrap();
            format!("{}{}", &sql[..c.span.0], &sql[c.span.1..])
        };
        assert_eq!(
            cut("fk"),
            r#"CREATE TABLE b (id INT NOT NULL PRIMARY KEY, a_id INT, n int CHECK (n > 0) UNIQUE, "M" text, CONSTRAINT u2 UNIQUE (n, "M"), CHECK (n < 9), FOREIGN KEY (n) REFERENCES c)"#
        );
        assert_eq!(
            cut("b_pkey"),
            r#"CREATE TABLE b (id INT NOT NULL, a_id INT CONSTRAINT fk REFERENCES a (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED, n int CHECK (n > 0) UNIQUE, "M" text, CONSTRAINT u2 UNIQUE (n, "M"), CHECK (n < 9), FOREIGN KEY (n) REFERENCES c)"#
        );
        assert_eq!(
            cut("u2"),
            r#"CREATE TABLE b (id INT NOT NULL PRIMARY KEY, a_id INT CONSTRAINT fk REFERENCES a (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED, n int CHECK (n > 0) UNIQUE, "M" text, CHECK (n < 9), FOREIGN KEY (n) REFERENCES c)"#
        );
        let (_, u2) = found.iter().find(|(n, _)| n == "u2").unwrap();
        assert_eq!(u2.columns, ["n", "M"]);
        let (_, fk) = found.iter().find(|(n, _)| n == "b_n_fkey").unwrap();
        assert_eq!(fk.references.as_deref(), Some("c"));
        assert_eq!(&sql[fk.keyword_at..fk.keyword_at + 7], "FOREIGN");
    }

    #[test]
    fn checks_print_as_postgresql_prints_them() {
        let sql = |c: &str| {
            format!("CREATE TABLE t (qty integer, total numeric(10,2), note text, code varchar(10), CHECK ({c}))")
        };
        assert_eq!(
            one(&sql("qty > 0")),
            (
                "t_qty_check".into(),
                "CHECK ((qty > 0))".into(),
                "CHECK (qty > 0)".into()
            )
        );
        let (name, def, pretty) = one(&sql("total >= 0 AND qty < 1000"));
        assert_eq!(name, "t_check");
        assert_eq!(def, "CHECK (((total >= (0)::numeric) AND (qty < 1000)))");
        assert_eq!(pretty, "CHECK (total >= 0::numeric AND qty < 1000)");
        assert_eq!(one(&sql("note <> ''")).2, "CHECK (note <> ''::text)");
        assert_eq!(
            one(&sql("code <> 'x'")).1,
            "CHECK (((code)::text <> 'x'::text))"
        );
        assert_eq!(
            one(&sql("(qty > 0 OR qty IS NULL) AND note IS NOT NULL")).2,
            "CHECK ((qty > 0 OR qty IS NULL) AND note IS NOT NULL)"
        );
        assert_eq!(one(&sql("qty + 1 > 2")).2, "CHECK ((qty + 1) > 2)");
    }
}
