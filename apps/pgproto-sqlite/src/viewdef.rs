//! A view's definition as PostgreSQL 15 deparses it (`pg_get_viewdef`, `pg_views`,
//! psql's `\d+ VIEW`), from the view's `CREATE VIEW` text as SQLite keeps it: every
//! column qualified by its table's name or alias, `*` expanded, one select item a line,
//! `FROM`/`JOIN`/`WHERE`/`GROUP BY`/`HAVING`/`ORDER BY`/`OFFSET`/`LIMIT` on lines of
//! their own with PostgreSQL's indentation, implicit casts shown (`'x'::text`,
//! `2::numeric`), `LIKE` as `~~`. Pretty (`pg_get_viewdef(v, true)`) drops the
//! parentheses PostgreSQL's pretty printer drops; plain (`pg_get_viewdef(v)`,
//! `pg_views.definition`) parenthesizes every operator expression and join. The
//! expressions are printed by [`crate::constraints::Printer`]. A query of a shape this
//! module does not know (set operations, subqueries, `WITH`, `USING` joins, functions
//! whose types it does not know...) gets `None`: the catalog then shows the query as
//! written.

use sqlparser::ast::{
    Distinct, Expr, GroupByExpr, Ident, JoinConstraint, JoinOperator, LimitClause, OrderByKind,
    Query, Select, SelectItem, SetExpr, Statement, TableFactor, TableWithJoins,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::catalog::quote_ident;
use crate::constraints::Printer;

/// A relation's columns: name and type (this printer's name for it, if it knows it).
pub(crate) type Columns = Vec<(String, Option<&'static str>)>;

/// One relation of the view's `FROM`: the name its columns are qualified with and its
/// columns.
struct Entry {
    refname: String,
    columns: Columns,
}

/// The view's definition, plain and pretty, from its `CREATE VIEW` text; `relation`
/// gives a table's or view's stored name and columns. `None` for what this module does
/// not deparse.
pub(crate) fn deparse(
    create_view: &str,
    relation: &dyn Fn(&str) -> Option<(String, Columns)>,
) -> Option<(String, String)> {
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, create_view).ok()?;
    let [Statement::CreateView {
        query,
        columns,
        materialized: false,
        ..
    }] = statements.as_slice()
    else {
        return None;
    };
    let names: Vec<String> = columns.iter().map(|c| c.name.value.clone()).collect();
    let plain = query_def(query, relation, &names, false)?;
    let pretty = query_def(query, relation, &names, true)?;
    Some((plain, pretty))
}

/// An identifier's name as PostgreSQL folds it.
fn folded(i: &Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_ascii_lowercase()
    }
}

fn query_def(
    query: &Query,
    relation: &dyn Fn(&str) -> Option<(String, Columns)>,
    names: &[String],
    pretty: bool,
) -> Option<String> {
    if query.with.is_some()
        || query.fetch.is_some()
        || !query.locks.is_empty()
        || query.for_clause.is_some()
        || query.settings.is_some()
        || query.format_clause.is_some()
        || !query.pipe_operators.is_empty()
    {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let select: &Select = select;
    if select.top.is_some()
        || select.into.is_some()
        || select.exclude.is_some()
        || !select.lateral_views.is_empty()
        || select.prewhere.is_some()
        || !select.cluster_by.is_empty()
        || !select.distribute_by.is_empty()
        || !select.sort_by.is_empty()
        || !select.named_window.is_empty()
        || select.qualify.is_some()
        || select.value_table_mode.is_some()
        || select.connect_by.is_some()
    {
        return None;
    }
    // The FROM list: each item, and the entries (relations) it brings in.
    let mut entries: Vec<Entry> = Vec::new();
    for item in &select.from {
        add_entries(item, relation, &mut entries)?;
    }
    let resolve = |parts: &[Ident]| -> Option<(String, Option<&'static str>)> {
        let (entry, column) = match parts {
            [column] => {
                let name = folded(column);
                let mut found = entries
                    .iter()
                    .filter(|e| e.columns.iter().any(|c| c.0 == name));
                let entry = found.next()?;
                if found.next().is_some() {
                    return None;
                }
                (entry, name)
            }
            [table, column] => {
                let t = folded(table);
                let entry = entries.iter().find(|e| e.refname == t)?;
                (entry, folded(column))
            }
            _ => return None,
        };
        let (name, ty) = entry.columns.iter().find(|c| c.0 == column)?;
        Some((
            format!("{}.{}", quote_ident(&entry.refname), quote_ident(name)),
            *ty,
        ))
    };
    let p = Printer {
        resolve: &resolve,
        indent: 8,
    };
    let mut out = String::from(" SELECT");
    match &select.distinct {
        None => {}
        Some(Distinct::Distinct) => out.push_str(" DISTINCT"),
        Some(Distinct::On(_)) => return None,
    }
    // The select list: (expression text, output name, the name PostgreSQL gives it
    // when it is a column reference).
    let mut items: Vec<(String, String, Option<String>)> = Vec::new();
    for item in &select.projection {
        match item {
            SelectItem::Wildcard(opts) if is_plain_wildcard(opts) => {
                for e in &entries {
                    for (name, _) in &e.columns {
                        let text = format!("{}.{}", quote_ident(&e.refname), quote_ident(name));
                        items.push((text, name.clone(), Some(name.clone())));
                    }
                }
            }
            SelectItem::UnnamedExpr(e) => {
                let printed = p.print(e, pretty)?;
                let name = column_name(e)?;
                let own = printed.column.then(|| name.clone());
                items.push((target_text(printed, pretty), name, own));
            }
            SelectItem::ExprWithAlias { expr, alias } => {
                let printed = p.print(expr, pretty)?;
                let own = if printed.column {
                    Some(column_name(expr)?)
                } else {
                    None
                };
                items.push((target_text(printed, pretty), folded(alias), own));
            }
            _ => return None,
        }
    }
    if items.is_empty() || (!names.is_empty() && names.len() > items.len()) {
        return None;
    }
    for (i, (text, name, own)) in items.iter().enumerate() {
        let name = names.get(i).unwrap_or(name);
        let mut item = text.clone();
        // PostgreSQL shows `AS` unless a column reference keeps its own name; any other
        // expression's own name is `?column?`.
        if own.as_deref().unwrap_or("?column?") != name.as_str() {
            item.push_str(&format!(" AS {}", quote_ident(name)));
        }
        if item.starts_with('\n') {
            if i > 0 {
                out.push(',');
            }
        } else if i > 0 {
            out.push_str(",\n    ");
        } else {
            out.push(' ');
        }
        out.push_str(&item);
    }
    // FROM, each item after the first on a line of its own.
    for (i, item) in select.from.iter().enumerate() {
        out.push_str(if i == 0 { "\n   FROM " } else { ",\n    " });
        out.push_str(&from_item(item, &p, pretty)?);
    }
    if let Some(w) = &select.selection {
        out.push_str("\n  WHERE ");
        out.push_str(&condition(&p, w, pretty)?);
    }
    match &select.group_by {
        GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => {
            if !exprs.is_empty() {
                let mut keys = Vec::new();
                for e in exprs {
                    keys.push(p.print(e, pretty)?.text);
                }
                out.push_str("\n  GROUP BY ");
                out.push_str(&keys.join(", "));
            }
        }
        _ => return None,
    }
    if let Some(h) = &select.having {
        out.push_str("\n HAVING ");
        out.push_str(&condition(&p, h, pretty)?);
    }
    if let Some(order) = &query.order_by {
        let OrderByKind::Expressions(exprs) = &order.kind else {
            return None;
        };
        if order.interpolate.is_some() {
            return None;
        }
        let mut keys = Vec::new();
        for o in exprs {
            if o.with_fill.is_some() {
                return None;
            }
            // An output name: the select item it names.
            let target = match &o.expr {
                Expr::Identifier(i) if resolve(std::slice::from_ref(i)).is_none() => {
                    let name = folded(i);
                    let at = select.projection.iter().position(
                        |s| matches!(s, SelectItem::ExprWithAlias { alias, .. } if folded(alias) == name),
                    )?;
                    items.get(at).map(|t| t.0.clone())
                }
                Expr::Value(_) => return None,
                _ => None,
            };
            let mut key = match target {
                Some(t) => t,
                None => p.print(&o.expr, pretty)?.text,
            };
            let desc = o.options.asc == Some(false);
            if desc {
                key.push_str(" DESC");
            }
            match (o.options.nulls_first, desc) {
                (Some(true), false) => key.push_str(" NULLS FIRST"),
                (Some(false), true) => key.push_str(" NULLS LAST"),
                _ => {}
            }
            keys.push(key);
        }
        out.push_str("\n  ORDER BY ");
        out.push_str(&keys.join(", "));
    }
    match &query.limit_clause {
        None => {}
        Some(LimitClause::LimitOffset {
            limit,
            offset,
            limit_by,
        }) if limit_by.is_empty() => {
            if let Some(o) = offset {
                out.push_str("\n OFFSET ");
                out.push_str(&count(&o.value)?);
            }
            if let Some(l) = limit {
                out.push_str("\n LIMIT ");
                out.push_str(&count(l)?);
            }
        }
        _ => return None,
    }
    out.push(';');
    Some(out)
}

/// A `LIMIT`/`OFFSET` count: a plain integer.
fn count(e: &Expr) -> Option<String> {
    match e {
        Expr::Value(v) => match &v.value {
            sqlparser::ast::Value::Number(n, _) if n.parse::<i32>().is_ok_and(|n| n >= 0) => {
                Some(n.clone())
            }
            _ => None,
        },
        _ => None,
    }
}

fn is_plain_wildcard(opts: &sqlparser::ast::WildcardAdditionalOptions) -> bool {
    opts.opt_ilike.is_none()
        && opts.opt_exclude.is_none()
        && opts.opt_except.is_none()
        && opts.opt_replace.is_none()
        && opts.opt_rename.is_none()
}

/// A select item's text: a string literal takes its type, text.
fn target_text(printed: crate::constraints::Printed, _pretty: bool) -> String {
    if printed.ty.is_none() && printed.text.starts_with('\'') {
        format!("{}::text", printed.text)
    } else {
        printed.text
    }
}

/// The name PostgreSQL gives an unnamed select item (`FigureColname`): a column's
/// name, a function's, `case`, else `?column?`.
fn column_name(e: &Expr) -> Option<String> {
    Some(match e {
        Expr::Identifier(i) => folded(i),
        Expr::CompoundIdentifier(parts) => folded(parts.last()?),
        Expr::Nested(inner) => column_name(inner)?,
        Expr::Function(f) => match f.name.0.last()?.as_ident() {
            Some(i) => folded(i),
            None => return None,
        },
        Expr::Case { .. } => "case".to_string(),
        Expr::Cast { expr, .. } => match column_name(expr)? {
            n if n == "?column?" => return None,
            n => n,
        },
        _ => "?column?".to_string(),
    })
}

/// A `WHERE`/`HAVING`/`ON` condition: a boolean expression.
fn condition(p: &Printer<'_>, e: &Expr, pretty: bool) -> Option<String> {
    let printed = p.print(e, pretty)?;
    (printed.ty == Some("bool")).then_some(printed.text)
}

/// The relations a `FROM` item brings in.
fn add_entries(
    item: &TableWithJoins,
    relation: &dyn Fn(&str) -> Option<(String, Columns)>,
    entries: &mut Vec<Entry>,
) -> Option<()> {
    let mut factors = vec![&item.relation];
    factors.extend(item.joins.iter().map(|j| &j.relation));
    for f in factors {
        let (name, alias) = table(f)?;
        let (stored, columns) = relation(&name)?;
        let refname = alias.unwrap_or(stored);
        if entries.iter().any(|e| e.refname == refname) {
            return None;
        }
        entries.push(Entry { refname, columns });
    }
    Some(())
}

/// A plain table reference: its name and its alias, folded.
fn table(f: &TableFactor) -> Option<(String, Option<String>)> {
    let TableFactor::Table {
        name,
        alias,
        args: None,
        with_hints,
        version: None,
        with_ordinality: false,
        partitions,
        json_path: None,
        sample: None,
        index_hints,
    } = f
    else {
        return None;
    };
    if !with_hints.is_empty() || !partitions.is_empty() || !index_hints.is_empty() {
        return None;
    }
    let parts: Vec<&Ident> = name.0.iter().filter_map(|p| p.as_ident()).collect();
    let table = match parts.as_slice() {
        [t] => folded(t),
        [schema, t] if folded(schema) == "public" => folded(t),
        _ => return None,
    };
    let alias = match alias {
        Some(a) if a.columns.is_empty() => Some(folded(&a.name)),
        Some(_) => return None,
        None => None,
    };
    Some((table, alias))
}

/// A `FROM` item as PostgreSQL prints it: joins on lines of their own, and, not
/// pretty, in parentheses with their conditions.
fn from_item(item: &TableWithJoins, p: &Printer<'_>, pretty: bool) -> Option<String> {
    let reference = |f: &TableFactor| -> Option<String> {
        let (name, alias) = table(f)?;
        Some(match alias {
            Some(a) if a != name => format!("{} {}", quote_ident(&name), quote_ident(&a)),
            _ => quote_ident(&name),
        })
    };
    let mut text = reference(&item.relation)?;
    for j in &item.joins {
        if j.global {
            return None;
        }
        let (word, constraint) = match &j.join_operator {
            JoinOperator::Join(c) | JoinOperator::Inner(c) => ("JOIN", Some(c)),
            JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => ("LEFT JOIN", Some(c)),
            JoinOperator::Right(c) | JoinOperator::RightOuter(c) => ("RIGHT JOIN", Some(c)),
            JoinOperator::FullOuter(c) => ("FULL JOIN", Some(c)),
            JoinOperator::CrossJoin => ("CROSS JOIN", None),
            _ => return None,
        };
        let on = match constraint {
            None | Some(JoinConstraint::None) if word == "CROSS JOIN" => String::new(),
            Some(JoinConstraint::On(e)) => {
                let c = condition(p, e, pretty)?;
                if pretty {
                    format!(" ON {c}")
                } else {
                    format!(" ON ({c})")
                }
            }
            _ => return None,
        };
        let right = reference(&j.relation)?;
        let joined = format!("{text}\n     {word} {right}{on}");
        text = if pretty {
            joined
        } else {
            format!("({joined})")
        };
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relation(name: &str) -> Option<(String, Columns)> {
        let columns: Columns = match name {
            "authors" => vec![
                ("id".into(), Some("int4")),
                ("name".into(), Some("text")),
                ("email".into(), Some("text")),
            ],
            "books" => vec![
                ("id".into(), Some("int4")),
                ("author_id".into(), Some("int4")),
                ("title".into(), Some("text")),
                ("price".into(), Some("numeric")),
                ("published".into(), Some("bool")),
            ],
            "orders" => vec![
                ("id".into(), Some("int4")),
                ("code".into(), Some("varchar")),
                ("qty".into(), Some("int4")),
                ("note".into(), Some("text")),
            ],
            _ => return None,
        };
        Some((name.to_string(), columns))
    }

    fn both(query: &str) -> (String, String) {
        deparse(&format!("CREATE VIEW v AS {query}"), &relation).expect("deparsed")
    }

    /// PostgreSQL 15's `pg_get_viewdef(v)` and `pg_get_viewdef(v, true)` for the same
    /// views (tests/viewdef.rs compares them with a running PostgreSQL).
    #[test]
    fn views_deparse_as_postgresql_does() {
        assert_eq!(
            both("SELECT b.title, a.name FROM books b JOIN authors a ON a.id = b.author_id"),
            (
                " SELECT b.title,\n    a.name\n   FROM (books b\n     JOIN authors a ON ((a.id = b.author_id)));".into(),
                " SELECT b.title,\n    a.name\n   FROM books b\n     JOIN authors a ON a.id = b.author_id;".into()
            )
        );
        assert_eq!(
            both("SELECT * FROM authors").1,
            " SELECT authors.id,\n    authors.name,\n    authors.email\n   FROM authors;"
        );
        assert_eq!(
            both(
                "SELECT title AS t, price * 2 AS double_price FROM books \
                 WHERE published AND price > 10 ORDER BY price DESC, title LIMIT 5 OFFSET 2"
            ),
            (
                " SELECT books.title AS t,\n    (books.price * (2)::numeric) AS double_price\n   FROM books\n  WHERE (books.published AND (books.price > (10)::numeric))\n  ORDER BY books.price DESC, books.title\n OFFSET 2\n LIMIT 5;".into(),
                " SELECT books.title AS t,\n    books.price * 2::numeric AS double_price\n   FROM books\n  WHERE books.published AND books.price > 10::numeric\n  ORDER BY books.price DESC, books.title\n OFFSET 2\n LIMIT 5;".into()
            )
        );
        assert_eq!(
            both(
                "SELECT author_id, count(*) AS n, sum(price) AS total FROM books \
                 GROUP BY author_id HAVING count(*) > 1"
            )
            .1,
            " SELECT books.author_id,\n    count(*) AS n,\n    sum(books.price) AS total\n   FROM books\n  GROUP BY books.author_id\n HAVING count(*) > 1;"
        );
        assert_eq!(
            both("SELECT id, CASE WHEN qty > 100 THEN 'big' ELSE 'small' END AS size FROM orders").1,
            " SELECT orders.id,\n        CASE\n            WHEN orders.qty > 100 THEN 'big'::text\n            ELSE 'small'::text\n        END AS size\n   FROM orders;"
        );
        assert_eq!(
            both("SELECT code, CAST(qty AS BIGINT) AS q FROM orders WHERE code = 'A1'"),
            (
                " SELECT orders.code,\n    (orders.qty)::bigint AS q\n   FROM orders\n  WHERE ((orders.code)::text = 'A1'::text);".into(),
                " SELECT orders.code,\n    orders.qty::bigint AS q\n   FROM orders\n  WHERE orders.code::text = 'A1'::text;".into()
            )
        );
        assert_eq!(
            both(
                "SELECT upper(name) AS uname, coalesce(email, 'none') AS email, \
                 length(name) + 1 AS len FROM authors"
            )
            .0,
            " SELECT upper(authors.name) AS uname,\n    COALESCE(authors.email, 'none'::text) AS email,\n    (length(authors.name) + 1) AS len\n   FROM authors;"
        );
        assert_eq!(
            both("SELECT 1 AS one, 'x' AS letter").1,
            " SELECT 1 AS one,\n    'x'::text AS letter;"
        );
        // Not deparsed: the catalog keeps the text as written.
        assert_eq!(
            deparse(
                "CREATE VIEW v AS SELECT name FROM authors UNION SELECT title FROM books",
                &relation
            ),
            None
        );
    }
}
