//! CHECK constraints as PostgreSQL names and prints them: read from a table's
//! `CREATE TABLE` text (SQLite keeps it in `sqlite_schema`), named as PostgreSQL names
//! an unnamed one (`table_column_check` when the expression uses one column, else
//! `table_check`, then `table_check1`...), and printed as `pg_get_constraintdef` prints
//! them, in both its forms: `CHECK ((qty > 0))` and, pretty (psql's `\d`),
//! `CHECK (qty > 0)`. Comparisons, `AND`/`OR`, `IS [NOT] NULL` and integer arithmetic
//! over columns and literals get PostgreSQL's implicit casts (`0::numeric` against a
//! numeric column, `''::text` against a text one); other expressions are printed as
//! written.

use sqlparser::ast::{BinaryOperator, ColumnOption, Expr, Statement, TableConstraint, Value};
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
/// text (`CONSTRAINT uq_email UNIQUE (email)`): SQLite keeps no name for their indexes.
/// Each is the name, then the columns in order (as written, unquoted).
pub(crate) fn named_keys(sql: &str) -> Vec<(String, Vec<String>)> {
    let Ok(statements) = Parser::parse_sql(&SQLiteDialect {}, sql) else {
        return Vec::new();
    };
    let Some(Statement::CreateTable(create)) = statements.first() else {
        return Vec::new();
    };
    create
        .constraints
        .iter()
        .filter_map(|c| match c {
            TableConstraint::Unique {
                name: Some(name),
                columns,
                ..
            }
            | TableConstraint::PrimaryKey {
                name: Some(name),
                columns,
                ..
            } => Some((
                name.value.clone(),
                columns
                    .iter()
                    .map(|c| match &c.column.expr {
                        Expr::Identifier(i) => i.value.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

/// The names given to a table's foreign keys in its `CREATE TABLE` text (`CONSTRAINT
/// fk_author FOREIGN KEY (author_id) REFERENCES author (id)`, as `ALTER TABLE ... ADD
/// CONSTRAINT` writes them there, or `author_id int CONSTRAINT fk_author REFERENCES
/// author`): SQLite's `foreign_key_list` keeps no name. Each is the name, the
/// referenced table and the referencing columns in order (as written, unquoted).
pub(crate) fn named_foreign_keys(sql: &str) -> Vec<(String, String, Vec<String>)> {
    let Ok(statements) = Parser::parse_sql(&SQLiteDialect {}, sql) else {
        return Vec::new();
    };
    let Some(Statement::CreateTable(create)) = statements.first() else {
        return Vec::new();
    };
    let target = |t: &sqlparser::ast::ObjectName| match t.0.last() {
        Some(sqlparser::ast::ObjectNamePart::Identifier(i)) => i.value.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let mut keys: Vec<(String, String, Vec<String>)> = create
        .columns
        .iter()
        .flat_map(|c| {
            c.options.iter().filter_map(|o| match (&o.name, &o.option) {
                (Some(name), ColumnOption::ForeignKey { foreign_table, .. }) => Some((
                    name.value.clone(),
                    target(foreign_table),
                    vec![c.name.value.clone()],
                )),
                _ => None,
            })
        })
        .collect();
    keys.extend(create.constraints.iter().filter_map(|c| match c {
        TableConstraint::ForeignKey {
            name: Some(name),
            columns,
            foreign_table,
            ..
        } => Some((
            name.value.clone(),
            target(foreign_table),
            columns.iter().map(|c| c.value.clone()).collect(),
        )),
        _ => None,
    }));
    keys
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
    for (name, expr) in found {
        let p = Printer { columns };
        let mut used = Vec::new();
        p.columns_of(expr, &mut used);
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

/// A printed expression: its text, its type (PostgreSQL's name) and whether it is an
/// operator expression (which a parent operator may have to parenthesize).
struct Printed {
    text: String,
    ty: Option<&'static str>,
    /// The operator when the expression is a binary operator expression.
    op: Option<&'static str>,
    /// Whether it is an unadorned literal (which takes an implicit cast).
    literal: Option<Lit>,
}

#[derive(Clone, Copy, PartialEq)]
enum Lit {
    Int,
    Decimal,
    Str,
}

struct Printer<'a> {
    columns: &'a [(String, String)],
}

const INTS: [&str; 3] = ["int2", "int4", "int8"];

impl Printer<'_> {
    fn columns_of(&self, e: &Expr, out: &mut Vec<String>) {
        let _ = sqlparser::ast::visit_expressions(e, |x| {
            if let Expr::Identifier(i) = x {
                if !out.iter().any(|o| o.eq_ignore_ascii_case(&i.value)) {
                    out.push(i.value.clone());
                }
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
    }

    fn column_type(&self, name: &str) -> Option<&'static str> {
        let decl = &self
            .columns
            .iter()
            .find(|c| c.0.eq_ignore_ascii_case(name))?
            .1;
        Some(match pg_type_of(decl).0 {
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

    /// The expression as PostgreSQL prints it, or `None` for what this printer does
    /// not know.
    fn print(&self, e: &Expr, pretty: bool) -> Option<Printed> {
        let plain = |text: String, ty, literal| Printed {
            text,
            ty,
            op: None,
            literal,
        };
        match e {
            Expr::Nested(inner) => self.print(inner, pretty),
            Expr::Identifier(i) => {
                let ty = self.column_type(&i.value)?;
                Some(plain(
                    quote_ident(&i.value.to_ascii_lowercase()),
                    Some(ty),
                    None,
                ))
            }
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) if n.parse::<i32>().is_ok() => {
                    Some(plain(n.clone(), Some("int4"), Some(Lit::Int)))
                }
                Value::Number(n, _) if n.contains('.') && !n.contains(['e', 'E']) => {
                    Some(plain(n.clone(), Some("numeric"), Some(Lit::Decimal)))
                }
                Value::SingleQuotedString(s) => Some(plain(
                    format!("'{}'", s.replace('\'', "''")),
                    None,
                    Some(Lit::Str),
                )),
                _ => None,
            },
            Expr::IsNull(x) | Expr::IsNotNull(x) => {
                let inner = self.print(x, pretty)?;
                let what = if matches!(e, Expr::IsNull(_)) {
                    "IS NULL"
                } else {
                    "IS NOT NULL"
                };
                let inner = if inner.op.is_some() && pretty {
                    format!("({})", inner.text)
                } else {
                    inner.text
                };
                let text = if pretty {
                    format!("{inner} {what}")
                } else {
                    format!("({inner} {what})")
                };
                Some(plain(text, Some("bool"), None))
            }
            Expr::BinaryOp { left, op, right } => match op {
                BinaryOperator::And | BinaryOperator::Or => self.print_bool(e, op, pretty),
                _ => self.print_op(left, op, right, pretty),
            },
            _ => None,
        }
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
            parts.push(if pretty && child_or {
                format!("({})", p.text)
            } else {
                p.text
            });
        }
        let joined = parts.join(&format!(" {word} "));
        Some(Printed {
            text: if pretty {
                joined
            } else {
                format!("({joined})")
            },
            ty: Some("bool"),
            op: Some(if word == "AND" { "AND" } else { "OR" }),
            literal: None,
        })
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
        if !comparison && !INTS.contains(&ty) {
            return None;
        }
        let side = |p: Printed, target: &'static str, first: bool| -> String {
            let text = cast(p.text.clone(), p.literal, p.ty, target, pretty);
            match p.op {
                Some(child) if !arith_needs_no_parens(child, sym, first, pretty) => {
                    format!("({text})")
                }
                _ => text,
            }
        };
        let text = format!("{} {sym} {}", side(l, lt, true), side(r, rt, false));
        let text = if pretty { text } else { format!("({text})") };
        Some(Printed {
            text,
            ty: Some(if comparison { "bool" } else { ty }),
            op: Some(sym),
            literal: None,
        })
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

/// An operand read as type `target`: a literal takes a cast label, a column of another
/// type a cast.
fn cast(
    text: String,
    literal: Option<Lit>,
    ty: Option<&'static str>,
    target: &str,
    pretty: bool,
) -> String {
    let name = match target {
        "text" => "text",
        "numeric" => "numeric",
        "int8" => "bigint",
        "int2" => "smallint",
        "int4" => "integer",
        "bool" => "boolean",
        _ => target,
    };
    match literal {
        Some(Lit::Str) => format!("{text}::{name}"),
        Some(Lit::Int) if target == "numeric" => {
            if pretty {
                format!("{text}::numeric")
            } else {
                format!("({text})::numeric")
            }
        }
        _ if ty.is_some_and(|t| t != target && !(INTS.contains(&t) && INTS.contains(&target))) => {
            if pretty {
                format!("{text}::{name}")
            } else {
                format!("({text})::{name}")
            }
        }
        _ => text,
    }
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
    fn foreign_key_names() {
        assert_eq!(
            named_foreign_keys(
                r#"CREATE TABLE "b" ("id" int, "a_id" int CONSTRAINT "b_a" REFERENCES "a" ("id"), x int REFERENCES a, y int, z int, CONSTRAINT b_yz_fk_a FOREIGN KEY (y, "z") REFERENCES main.a (p, q) DEFERRABLE INITIALLY DEFERRED)"#
            ),
            [
                ("b_a".to_string(), "a".to_string(), vec!["a_id".to_string()]),
                (
                    "b_yz_fk_a".to_string(),
                    "a".to_string(),
                    vec!["y".to_string(), "z".to_string()]
                ),
            ]
        );
        assert!(named_foreign_keys("CREATE INDEX i ON t (a)").is_empty());
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
