//! The parser front end: a statement is parsed with `sqlparser`'s PostgreSQL dialect and
//! its syntax tree rewritten into SQL that SQLite runs over the `pg_catalog` tables of
//! the [`catalog`](crate::catalog) module: `pg_catalog.` qualifiers go, `::regclass`
//! and its kin become catalog lookups, `OPERATOR(pg_catalog.~)` and the regular
//! expression operators call `pg_regex`, `= ANY(ARRAY[...])` becomes `IN (...)`,
//! `ARRAY(subquery)` an array text built by `array_agg`, and so on: one function per
//! rewrite, each with a unit test. A statement that does not parse, or that needs none
//! of these rewrites, is left as written (the token rewrites of [`crate::sql`] still
//! apply after this pass). Results are cached by statement text in [`crate::sql::rewrite`].

use std::ops::ControlFlow;

use sqlparser::ast::{
    visit_expressions_mut, visit_relations_mut, BinaryOperator, DataType, Expr, FunctionArguments,
    GroupByExpr, ObjectName, ObjectNamePart, Query, Select, SelectItem, SetExpr, Statement,
    TableFactor, Value, VisitMut, VisitorMut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::sql::Unsupported;

/// The statement rewritten by the syntax-tree pass, or `None` when it needs no rewrite
/// (or does not parse as PostgreSQL: the token rewrites and SQLite then judge it).
pub(crate) fn rewrite(sql: &str) -> Result<Option<String>, Unsupported> {
    if !needs_parse(sql) {
        return Ok(None);
    }
    let unlateral = drop_lateral_before_unnest(sql);
    let Ok(mut statements) =
        Parser::parse_sql(&PostgreSqlDialect {}, unlateral.as_deref().unwrap_or(sql))
    else {
        return Ok(None);
    };
    let [statement] = statements.as_mut_slice() else {
        return Ok(None);
    };
    // Queries, and INSERT ... SELECT (SQLAlchemy's many-rows INSERT selects from
    // `(VALUES ...) AS t(a, b)`).
    let insert_select = matches!(
        statement,
        Statement::Insert(i) if i.source.as_ref().is_some_and(|q| !matches!(*q.body, sqlparser::ast::SetExpr::Values(_)))
    );
    if !matches!(statement, Statement::Query(_)) && !insert_select {
        // Other data-modifying statements get the date and time rewrites only.
        if !matches!(
            statement,
            Statement::Insert(_) | Statement::Update { .. } | Statement::Delete(_)
        ) {
            return Ok(None);
        }
        let mut changed = match statement {
            // SQLite takes an UPDATE's alias only after AS, which the tree prints.
            Statement::Update { table, .. } => {
                matches!(&table.relation, TableFactor::Table { alias: Some(_), .. })
            }
            Statement::Delete(d) => delete_using_as_exists(d),
            _ => false,
        };
        changed |= unqualified_returning(statement);
        let returning_names = returning_mut(statement).map(|r| crate::builtins::item_names(r));
        let mut error = None;
        let _ = visit_expressions_mut(statement, |e| {
            let result = [
                crate::datetime::rewrite_expr,
                crate::jsonfuncs::rewrite_expr,
                crate::arrays::rewrite_expr,
                crate::extras::rewrite_expr,
            ]
            .iter()
            .try_fold(false, |acc, f| f(e).map(|c| acc | c));
            match result {
                Ok(c) => {
                    changed |= c;
                    ControlFlow::Continue(())
                }
                Err(e) => {
                    error = Some(e);
                    ControlFlow::Break(())
                }
            }
        });
        if let Some(e) = error {
            return Err(e);
        }
        // The arrays those rewrites take (`tags @> ARRAY['x']`).
        if changed {
            let _ =
                visit_expressions_mut(
                    statement,
                    |e| match crate::builtins::rewrite_array_literal(e) {
                        Ok(_) => ControlFlow::Continue(()),
                        Err(u) => {
                            error = Some(u);
                            ControlFlow::Break(())
                        }
                    },
                );
            if let Some(e) = error {
                return Err(e);
            }
        }
        if let (Some(items), Some(before)) = (returning_mut(statement), &returning_names) {
            changed |= crate::builtins::keep_item_names(items, before);
        }
        return Ok(changed.then(|| statement.to_string()));
    }
    let mut changed = false;
    let _ = visit_relations_mut(statement, |name| {
        changed |= strip_catalog_schema(name);
        ControlFlow::<()>::Continue(())
    });
    // PostgreSQL's names of the top-level select items, kept over the rewrites.
    let names: Vec<_> = match statement {
        Statement::Query(q) => selects_mut(&mut q.body)
            .iter()
            .map(|s| crate::builtins::item_names(&s.projection))
            .collect(),
        _ => Vec::new(),
    };
    let mut v = Rewriter {
        changed: false,
        error: None,
        depth: 0,
    };
    let _ = statement.visit(&mut v);
    if let Some(e) = v.error {
        return Err(e);
    }
    changed |= v.changed;
    // Expressions inside replaced subtrees are visited too.
    let mut error = None;
    let _ = visit_expressions_mut(statement, |e| {
        changed |= strip_type_schema(e);
        match crate::builtins::rewrite_array_literal(e) {
            Ok(c) => {
                changed |= c;
                ControlFlow::Continue(())
            }
            Err(u) => {
                error = Some(u);
                ControlFlow::Break(())
            }
        }
    });
    if let Some(e) = error {
        return Err(e);
    }
    if let Statement::Insert(i) = statement {
        changed |= where_before_upsert(i);
    }
    changed |= unqualified_returning(statement);
    if let Statement::Query(q) = statement {
        let selects = selects_mut(&mut q.body);
        if selects.len() == names.len() {
            for (select, before) in selects.into_iter().zip(&names) {
                changed |= crate::builtins::keep_item_names(&mut select.projection, before);
            }
        }
    }
    Ok(changed.then(|| statement.to_string()))
}

/// `DELETE FROM t USING a, b WHERE cond`, which SQLite lacks, as `DELETE FROM t WHERE
/// EXISTS (SELECT 1 FROM a, b WHERE cond)`: the same rows go (each once, as in
/// PostgreSQL); a `RETURNING` that names the `USING` tables' columns then fails with
/// 42703.
fn delete_using_as_exists(delete: &mut sqlparser::ast::Delete) -> bool {
    let Some(using) = &delete.using else {
        return false;
    };
    let from = using
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let text = match &delete.selection {
        Some(cond) => format!("EXISTS (SELECT 1 FROM {from} WHERE {cond})"),
        None => format!("EXISTS (SELECT 1 FROM {from})"),
    };
    let Ok(exists) = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&text)
        .and_then(|mut p| p.parse_expr())
    else {
        return false;
    };
    delete.using = None;
    delete.selection = Some(exists);
    true
}

/// The `RETURNING` list of an INSERT, UPDATE or DELETE.
fn returning_mut(statement: &mut Statement) -> Option<&mut Vec<sqlparser::ast::SelectItem>> {
    match statement {
        Statement::Update { returning, .. } => returning.as_mut(),
        Statement::Delete(d) => d.returning.as_mut(),
        Statement::Insert(i) => i.returning.as_mut(),
        _ => None,
    }
}

/// `RETURNING t.col` (or the alias's `a.col`) as `RETURNING col`: SQLite's RETURNING
/// takes the modified table's columns unqualified only.
fn unqualified_returning(statement: &mut Statement) -> bool {
    let (names, returning): (Vec<String>, _) = match statement {
        Statement::Update {
            table, returning, ..
        } => (relation_names(&table.relation), returning),
        Statement::Delete(d) => {
            let tables = match &d.from {
                sqlparser::ast::FromTable::WithFromKeyword(t)
                | sqlparser::ast::FromTable::WithoutKeyword(t) => t,
            };
            let names = tables
                .first()
                .map(|t| relation_names(&t.relation))
                .unwrap_or_default();
            (names, &mut d.returning)
        }
        Statement::Insert(i) => {
            let mut names = match &i.table {
                sqlparser::ast::TableObject::TableName(n) => {
                    n.0.last()
                        .map(|p| vec![p.to_string().trim_matches('"').to_string()])
                        .unwrap_or_default()
                }
                _ => Vec::new(),
            };
            // An alias hides the table's name, as in PostgreSQL.
            if let Some(a) = &i.table_alias {
                names = vec![a.value.clone()];
            }
            (names, &mut i.returning)
        }
        _ => return false,
    };
    let Some(items) = returning else {
        return false;
    };
    let mut changed = false;
    for item in items.iter_mut() {
        let _ = visit_expressions_mut(item, |e| {
            if let Expr::CompoundIdentifier(parts) = e {
                if let [qualifier, column] = parts.as_slice() {
                    if names
                        .iter()
                        .any(|n| n.eq_ignore_ascii_case(&qualifier.value))
                    {
                        *e = Expr::Identifier(column.clone());
                        changed = true;
                    }
                }
            }
            ControlFlow::<()>::Continue(())
        });
    }
    changed
}

/// The names a FROM item is known by: its alias, else its table's name.
fn relation_names(factor: &TableFactor) -> Vec<String> {
    match factor {
        TableFactor::Table { name, alias, .. } => match alias {
            Some(a) => vec![a.name.value.clone()],
            None => name
                .0
                .last()
                .map(|p| vec![p.to_string().trim_matches('"').to_string()])
                .unwrap_or_default(),
        },
        _ => Vec::new(),
    }
}

/// Whether an UPDATE or DELETE without a query needs the syntax tree: an UPDATE whose
/// table has an alias (anything between its name and SET), a DELETE with an alias or
/// `USING` (anything but WHERE or RETURNING after its table), and any of them (or an
/// INSERT) with a qualified name after RETURNING.
fn update_or_delete_needs_tree(sql: &str) -> bool {
    let toks = crate::sql::tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    if let Some(r) = toks.iter().position(|t| t.is(sql, "RETURNING")) {
        if toks.iter().skip(r).any(|t| t.is_punct(sql, ".")) {
            return true;
        }
    }
    let table = if w(0, "UPDATE") {
        1
    } else if w(0, "DELETE") && w(1, "FROM") {
        2
    } else {
        return false;
    };
    let Some((_, after)) = crate::ddl::name_at(sql, &toks, table) else {
        return false;
    };
    match toks.get(after) {
        None => false,
        Some(t) if t.is_punct(sql, ";") => false,
        Some(t) if table == 1 => !t.is(sql, "SET"),
        Some(t) => !(t.is(sql, "WHERE") || t.is(sql, "RETURNING")),
    }
}

/// `INSERT ... SELECT ... FROM t ON CONFLICT ...`: SQLite reads the `ON` as a join's
/// unless the query has a `WHERE` (its documented way out is `WHERE true`), so each
/// SELECT without one gets `WHERE true`.
fn where_before_upsert(insert: &mut sqlparser::ast::Insert) -> bool {
    let (Some(_), Some(source)) = (&insert.on, insert.source.as_mut()) else {
        return false;
    };
    let mut changed = false;
    for select in selects_mut(&mut source.body) {
        if select.selection.is_none() {
            select.selection = Some(Expr::Value(sqlparser::ast::Value::Boolean(true).into()));
            changed = true;
        }
    }
    changed
}

/// Whether the text may hold syntax this pass rewrites (a cheap test that spares the
/// parser most statements).
fn needs_parse(sql: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    // An INSERT, UPDATE or DELETE without a query in it gets the date and time
    // rewrites only (see [`rewrite`]): a one-row INSERT's literals need no parse.
    let start = lower.trim_start();
    let dml = ["insert", "update", "delete"]
        .iter()
        .any(|k| start.starts_with(k));
    if dml && !lower.contains("select") {
        return crate::datetime::may_need_rewrite(&lower)
            || update_or_delete_needs_tree(sql)
            || crate::jsonfuncs::may_need_rewrite(&lower);
    }
    [
        "pg_",
        "information_schema",
        "::reg",
        "::oid",
        "operator(",
        "any",
        "all",
        "array",
        "collate",
        "~",
        "[",
        "string_agg",
        "values",
        "unnest",
        "generate_series",
        "generate_subscripts",
        "array_agg",
        "bool_and",
        "bool_or",
        "_pg_expandarray",
        "trim",
        "order",
        "tableoid",
        "/",
        "%",
        "+",
        "-",
        "*",
        "sum",
        "avg",
        "date",
        "time",
        "interval",
        "substr",
        "position",
        "extract",
        "^",
        "similar",
        "distinct",
        "->",
        "json",
        "pg_typeof",
        "conflict",
        "lateral",
        "?",
        "@>",
        "<@",
        "&&",
        "#>",
        "cardinality",
        "encode",
        "decode",
        "sha256",
        "sha512",
        "quote_",
        "bytea",
    ]
    .iter()
    .any(|k| lower.contains(k))
        || crate::datetime::may_need_rewrite(&lower)
        // A subquery, whose aggregates may be the outer query's.
        || lower.matches("select").nth(1).is_some()
}

struct Rewriter {
    changed: bool,
    error: Option<Unsupported>,
    /// Queries entered and not yet left: above 1 inside a subquery.
    depth: usize,
}

impl Rewriter {
    /// Notes a rewrite's outcome: whether it changed the tree, or why it stops.
    fn settle(&mut self, result: Result<bool, Unsupported>) -> ControlFlow<()> {
        match result {
            Ok(c) => {
                self.changed |= c;
                ControlFlow::Continue(())
            }
            Err(e) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
        }
    }
}

impl VisitorMut for Rewriter {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let result = [
            strip_column_schema,
            strip_function_schema,
            rewrite_catalog_function,
            rewrite_reg_cast,
            rewrite_custom_operator,
            rewrite_regex_operator,
            rewrite_any_all,
            rewrite_collate_default,
            rewrite_array_subquery,
            rewrite_subscript,
            rewrite_trim,
            rewrite_lacking_syntax,
            crate::datetime::rewrite_expr,
            rewrite_arithmetic,
            crate::builtins::rewrite_builtin,
            crate::jsonfuncs::rewrite_expr,
            crate::arrays::rewrite_expr,
            crate::extras::rewrite_expr,
        ]
        .iter()
        .try_fold(false, |acc, f| f(expr).map(|c| acc | c));
        self.settle(result)
    }

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        self.depth += 1;
        if self.depth > 1 {
            if let Err(e) = refuse_outer_aggregates(query) {
                return self.settle(Err(e));
            }
        }
        // Before its parts are visited, so that what it makes is rewritten too (and
        // before the table factors' own rewrite turns a joined `unnest` into a subquery,
        // which could not read the tables beside it).
        let result = crate::unnest::rewrite_lateral(query);
        self.settle(result)
    }

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        self.depth = self.depth.saturating_sub(1);
        self.changed |= unwrap_set_operands(&mut query.body);
        self.changed |= postgresql_null_order(query);
        let distinct_on = crate::builtins::rewrite_distinct_on(query);
        if distinct_on.is_err() {
            return self.settle(distinct_on);
        }
        self.changed |= distinct_on.unwrap_or(false);
        if let Some(with) = &mut query.with {
            for cte in &mut with.cte_tables {
                self.changed |= name_function_columns(&mut cte.query);
            }
        }
        // Before the select lists' own rewrites, which type a subquery's columns.
        let mut result = Ok(false);
        for select in selects_mut(&mut query.body) {
            result = result.and_then(|c| Ok(c | crate::tojson::rewrite_select(select)?));
        }
        let mut result = result.and_then(|c| Ok(c | crate::select_list::rewrite_query(query)?));
        for select in selects_mut(&mut query.body) {
            self.changed |= quote_keyword_aliases(select);
            self.changed |= rewrite_tableoid(select);
            result = result.and_then(|c| {
                Ok(c | rewrite_select_list_srf(select)? | generate_series_as_from(select)?)
            });
        }
        self.settle(result)
    }

    fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        // SQLite's subqueries in FROM cannot see the FROM items before them.
        if let TableFactor::Derived { lateral: true, .. } = factor {
            self.error = Some(Unsupported(
                "LATERAL subqueries are not supported".to_string(),
            ));
            return ControlFlow::Break(());
        }
        if let TableFactor::Derived { subquery, .. } = factor {
            self.changed |= name_function_columns(subquery);
        }
        match rewrite_table_function(factor).and_then(|c| Ok(c | rewrite_values_alias(factor)?)) {
            Ok(c) => self.changed |= c,
            Err(e) => {
                self.error = Some(e);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }
}

/// Refuses an aggregate in the subquery `query` whose arguments name columns, all of
/// the outer query's (qualified by a name that none of the subquery's `FROM` items
/// has): PostgreSQL makes it an aggregate of the outer query (42803 where that query
/// is not grouped), where SQLite aggregates over the subquery's rows. Unqualified
/// names are taken as the subquery's own; a `FROM` item without a name to tell them
/// apart (a function without alias) leaves the query unchecked.
fn refuse_outer_aggregates(query: &Query) -> Result<(), Unsupported> {
    use sqlparser::ast::{Visit, Visitor};

    /// The names the `FROM` items of `query`'s selects are referred to by, or `None`
    /// when one has none that is known.
    fn own_names(query: &Query) -> Option<Vec<String>> {
        fn factor_names(factor: &TableFactor, names: &mut Vec<String>) -> Option<()> {
            match factor {
                TableFactor::Table { name, alias, .. } => names.push(match alias {
                    Some(a) => a.name.value.to_ascii_lowercase(),
                    None => ident_parts(name).pop()?,
                }),
                TableFactor::NestedJoin {
                    table_with_joins, ..
                } => {
                    factor_names(&table_with_joins.relation, names)?;
                    for j in &table_with_joins.joins {
                        factor_names(&j.relation, names)?;
                    }
                }
                TableFactor::Derived { alias, .. }
                | TableFactor::TableFunction { alias, .. }
                | TableFactor::Function { alias, .. }
                | TableFactor::UNNEST { alias, .. } => {
                    names.push(alias.as_ref()?.name.value.to_ascii_lowercase())
                }
                _ => return None,
            }
            Some(())
        }
        let mut names = Vec::new();
        for select in selects_of(&query.body) {
            for item in &select.from {
                factor_names(&item.relation, &mut names)?;
                for j in &item.joins {
                    factor_names(&j.relation, &mut names)?;
                }
            }
        }
        Some(names)
    }

    /// The qualifiers of the column references in an expression (`None` for an
    /// unqualified name), and the names the `FROM` items of the subqueries inside it
    /// define: a reference inside such a subquery counts when it names none of those
    /// (an unqualified one there is taken as the subquery's own).
    #[derive(Default)]
    struct Qualifiers {
        depth: usize,
        found: Vec<(usize, Option<String>)>,
        nested: Vec<String>,
    }
    impl Visitor for Qualifiers {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            self.depth += 1;
            self.nested.extend(own_names(q).unwrap_or_default());
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            match e {
                Expr::Identifier(_) => self.found.push((self.depth, None)),
                Expr::CompoundIdentifier(parts) if parts.len() >= 2 => self.found.push((
                    self.depth,
                    Some(parts[parts.len() - 2].value.to_ascii_lowercase()),
                )),
                _ => {}
            }
            ControlFlow::Continue(())
        }
    }

    /// The first aggregate of the query itself (not of its subqueries) that names only
    /// columns qualified by other names than `own`.
    struct Outer<'a> {
        own: &'a [String],
        depth: usize,
        found: Option<String>,
    }
    impl Visitor for Outer<'_> {
        type Break = ();
        fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            self.depth += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            let Expr::Function(f) = e else {
                return ControlFlow::Continue(());
            };
            let name = f.name.to_string().to_ascii_lowercase();
            if self.depth != 1 || f.over.is_some() || !AGGREGATES.contains(&name.as_str()) {
                return ControlFlow::Continue(());
            }
            let mut q = Qualifiers::default();
            let _ = f.args.visit(&mut q);
            let counted: Vec<&Option<String>> = q
                .found
                .iter()
                .filter(|(depth, n)| {
                    *depth == 0 || n.as_ref().is_some_and(|n| !q.nested.contains(n))
                })
                .map(|(_, n)| n)
                .collect();
            let outer = !counted.is_empty()
                && counted
                    .iter()
                    .all(|n| n.as_ref().is_some_and(|n| !self.own.contains(n)));
            if outer {
                self.found = Some(e.to_string());
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }

    let Some(own) = own_names(query) else {
        return Ok(());
    };
    let mut v = Outer {
        own: &own,
        depth: 0,
        found: None,
    };
    let _ = query.visit(&mut v);
    match v.found {
        Some(call) => Err(Unsupported(format!(
            "an aggregate in a subquery whose arguments name only the outer query's \
             columns ({call}: PostgreSQL aggregates it in the outer query) is not supported"
        ))),
        None => Ok(()),
    }
}

/// `(SELECT ...) UNION ALL (SELECT ...)`: SQLite takes no parentheses around the
/// operands of UNION/INTERSECT/EXCEPT, so a parenthesized operand that is a plain
/// SELECT (no WITH, ORDER BY, LIMIT, FETCH or locking, whose meaning the parentheses
/// scope) loses them; sqlx's nullability query is written so.
fn unwrap_set_operands(body: &mut sqlparser::ast::SetExpr) -> bool {
    use sqlparser::ast::SetExpr;
    let SetExpr::SetOperation { left, right, .. } = body else {
        return false;
    };
    let mut changed = false;
    for side in [left, right] {
        if let SetExpr::Query(q) = side.as_mut() {
            let plain = q.with.is_none()
                && q.order_by.is_none()
                && q.limit_clause.is_none()
                && q.fetch.is_none()
                && q.locks.is_empty()
                && matches!(*q.body, SetExpr::Select(_));
            if plain {
                let inner = (*q.body).clone();
                **side = inner;
                changed = true;
            }
        }
        changed |= unwrap_set_operands(side);
    }
    changed
}

/// `text` parsed as one PostgreSQL expression.
pub(crate) fn parse_expr(text: &str) -> Result<Expr, Unsupported> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(text)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| Unsupported(format!("internal rewrite failed: {e}")))
}

/// `text` parsed as one PostgreSQL query.
pub(crate) fn parse_query(text: &str) -> Result<Query, Unsupported> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(text)
        .and_then(|mut p| p.parse_query())
        .map(|q| *q)
        .map_err(|e| Unsupported(format!("internal rewrite failed: {e}")))
}

pub(crate) fn ident_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => i.value.to_ascii_lowercase(),
            other => other.to_string(),
        })
        .collect()
}

/// Drops a leading `pg_catalog.` qualifier (the catalog's tables and functions live in
/// SQLite's own namespace).
fn strip_qualifier(name: &mut ObjectName) -> bool {
    let parts = ident_parts(name);
    if parts.len() == 2 && parts.first().map(String::as_str) == Some("pg_catalog") {
        name.0.remove(0);
        return true;
    }
    false
}

/// `FROM pg_catalog.pg_class` becomes `FROM pg_class`, `FROM information_schema.tables`
/// `FROM pg_is_tables` (the [`crate::infoschema`] view).
fn strip_catalog_schema(name: &mut ObjectName) -> bool {
    let parts = ident_parts(name);
    if let [schema, view] = parts.as_slice() {
        if schema == "information_schema" && crate::infoschema::VIEWS.contains(&view.as_str()) {
            *name = ObjectName::from(vec![sqlparser::ast::Ident::new(format!("pg_is_{view}"))]);
            return true;
        }
    }
    strip_qualifier(name)
}

/// `pg_catalog.pg_class.relname` becomes `pg_class.relname` (the table lost its schema),
/// `information_schema.columns.column_name` `pg_is_columns.column_name` (Diesel's
/// qualified columns; the view's name as [`strip_catalog_schema`] gives it).
fn strip_column_schema(expr: &mut Expr) -> Result<bool, Unsupported> {
    if let Expr::CompoundIdentifier(parts) = expr {
        let first = parts.first().map(|p| p.value.to_ascii_lowercase());
        if parts.len() == 3 && first.as_deref() == Some("pg_catalog") {
            parts.remove(0);
            return Ok(true);
        }
        if parts.len() == 3 && first.as_deref() == Some("information_schema") {
            let view = parts[1].value.to_ascii_lowercase();
            if crate::infoschema::VIEWS.contains(&view.as_str()) {
                parts.remove(0);
                parts[0] = sqlparser::ast::Ident::new(format!("pg_is_{view}"));
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// `pg_catalog.f(...)` becomes `f(...)`.
fn strip_function_schema(expr: &mut Expr) -> Result<bool, Unsupported> {
    if let Expr::Function(f) = expr {
        return Ok(strip_qualifier(&mut f.name));
    }
    Ok(false)
}

/// `x::pg_catalog.text` becomes `x::text`.
fn strip_type_schema(expr: &mut Expr) -> bool {
    if let Expr::Cast {
        data_type: DataType::Custom(name, _),
        ..
    } = expr
    {
        return strip_qualifier(name);
    }
    false
}

pub(crate) fn function_args(f: &sqlparser::ast::Function) -> Vec<String> {
    match &f.args {
        FunctionArguments::List(list) => list.args.iter().map(|a| a.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// Catalog functions that read catalog data become subqueries over the catalog tables:
/// `pg_get_userbyid(x)`, `pg_get_indexdef(x, ...)`, `pg_get_constraintdef(x, ...)`,
/// `pg_table_is_visible(x)`, `obj_description(x, ...)`, `col_description(x, n)`,
/// `pg_table_size(x)` and `pg_relation_size(x)` (SQLite's bytes, see `pg_lookup_size`);
/// `pg_get_expr(e, rel, ...)` is `e` (defaults are stored as text), `string_agg` is
/// `group_concat`.
fn rewrite_catalog_function(expr: &mut Expr) -> Result<bool, Unsupported> {
    let Expr::Function(f) = expr else {
        return Ok(false);
    };
    let parts = ident_parts(&f.name);
    let [name] = parts.as_slice() else {
        return Ok(false);
    };
    let args = function_args(f);
    let arg = |i: usize| args.get(i).cloned().unwrap_or_else(|| "NULL".to_string());
    let text = match name.as_str() {
        "pg_get_userbyid" => format!(
            "(SELECT lookup_name FROM pg_lookup_authid WHERE lookup_oid = {})",
            arg(0)
        ),
        // One column of an index: its name, quoted as needed (expressions are refused).
        "pg_get_indexdef" if args.len() > 1 && arg(1).trim() != "0" => format!(
            "(SELECT coalesce(CASE WHEN a.attname IS NOT NULL THEN quote_ident(a.attname) END, pg_unsupported('pg_get_indexdef() of an expression column')) \
             FROM pg_index i LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid \
             AND a.attnum = pg_array_get(i.indkey, ({}) - 1) WHERE i.indexrelid = {})",
            arg(1),
            arg(0)
        ),
        // A view's definition: pretty when asked (`pg_get_viewdef(v, true)`).
        "pg_get_viewdef" if arg(1).eq_ignore_ascii_case("true") => format!(
            "(SELECT lookup_pretty FROM pg_lookup_defs WHERE lookup_oid = {})",
            arg(0)
        ),
        "pg_get_indexdef" | "pg_get_viewdef" | "pg_get_triggerdef" => format!(
            "(SELECT lookup_name FROM pg_lookup_defs WHERE lookup_oid = {})",
            arg(0)
        ),
        "pg_get_constraintdef" => format!(
            "(SELECT {} FROM pg_lookup_defs WHERE lookup_oid = {})",
            if arg(1).eq_ignore_ascii_case("true") {
                "lookup_pretty"
            } else {
                "lookup_name"
            },
            arg(0)
        ),
        // Operator classes and families are all in `pg_catalog`, always visible.
        "pg_opclass_is_visible" | "pg_opfamily_is_visible" => format!(
            "EXISTS (SELECT 1 FROM pg_lookup_{} WHERE lookup_oid = {})",
            if name == "pg_opclass_is_visible" {
                "opclass"
            } else {
                "opfamily"
            },
            arg(0)
        ),
        "pg_table_is_visible" => format!(
            "EXISTS (SELECT 1 FROM pg_lookup_class WHERE lookup_oid = {})",
            arg(0)
        ),
        "obj_description" | "shobj_description" => format!(
            "(SELECT lookup_name FROM pg_lookup_description WHERE lookup_oid = {} AND lookup_sub = 0)",
            arg(0)
        ),
        "col_description" => format!(
            "(SELECT lookup_name FROM pg_lookup_description WHERE lookup_oid = {} AND lookup_sub = {})",
            arg(0),
            arg(1)
        ),
        "pg_get_expr" => format!("({})", arg(0)),
        // The bytes of the relation's own SQLite b-tree (`dbstat`); 0 for a view, a
        // sequence or a rowid key, which have none.
        "pg_table_size" | "pg_relation_size" => format!(
            "(SELECT lookup_size FROM pg_lookup_size WHERE lookup_oid = {})",
            arg(0)
        ),
        // The OID, or NULL for no such type or relation.
        "to_regtype" | "to_regclass" => format!(
            "(SELECT lookup_oid FROM {} WHERE lookup_name = {})",
            if name == "to_regtype" {
                "pg_lookup_type"
            } else {
                "pg_lookup_class"
            },
            arg(0)
        ),
        "string_agg" => {
            f.name = ObjectName::from(vec![sqlparser::ast::Ident::new("group_concat")]);
            return Ok(true);
        }
        "json_build_object" => {
            // Booleans as JSON's `true`/`false` (SQLite's are 1 and 0): comparisons and
            // the catalog's boolean columns.
            let items: Vec<String> = args
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let value = i % 2 == 1;
                    let e = parse_expr(a).ok();
                    let boolean = value
                        && e.as_ref().is_some_and(|e| match e {
                            Expr::BinaryOp { op, .. } => is_boolean_operator(op),
                            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                                let last = a.rsplit('.').next().unwrap_or("");
                                BOOLEAN_COLUMNS.contains(&last)
                            }
                            _ => false,
                        });
                    if boolean {
                        format!("json(CASE WHEN {a} THEN 'true' ELSE 'false' END)")
                    } else {
                        a.clone()
                    }
                })
                .collect();
            let items: Vec<String> = items
                .iter()
                .map(|a| crate::builtins::json_argument(a))
                .collect();
            format!("pg_json_build_out(json_object({}))", items.join(", "))
        }
        _ => return Ok(false),
    };
    *expr = parse_expr(&text)?;
    Ok(true)
}

/// The catalog's boolean columns (for `json_build_object`).
const BOOLEAN_COLUMNS: &[&str] = &[
    "seqcycle",
    "attnotnull",
    "atthasdef",
    "attisdropped",
    "indisunique",
    "indisprimary",
    "indnullsnotdistinct",
    "relhasindex",
    "typnotnull",
    "condeferrable",
    "condeferred",
    "convalidated",
    "rolsuper",
    "rolcanlogin",
];

/// The catalog table, key column and name column of an object identifier alias type.
fn reg_type_lookup(ty: &str) -> Option<(&'static str, &'static str)> {
    Some(match ty {
        "regclass" => ("pg_lookup_class", "class"),
        "regtype" => ("pg_lookup_type", "type"),
        "regnamespace" => ("pg_lookup_namespace", "namespace"),
        "regrole" => ("pg_lookup_authid", "role"),
        "regproc" | "regprocedure" => ("pg_lookup_proc", "function"),
        _ => return None,
    })
}

/// Casts to catalog types: `'16393'::regclass` is the number, `'books'::regclass` the
/// table's OID, `c.oid::regclass` the name; `x::oid`, `x::int2[]` (arrays are their
/// text) are `x`.
fn rewrite_reg_cast(expr: &mut Expr) -> Result<bool, Unsupported> {
    let Expr::Cast {
        expr: inner,
        data_type,
        ..
    } = expr
    else {
        return Ok(false);
    };
    let ty = match data_type {
        DataType::Regclass => "regclass".to_string(),
        DataType::Custom(name, _) => ident_parts(name).last().cloned().unwrap_or_default(),
        DataType::Array(_) => {
            *expr = Expr::Nested(inner.clone());
            return Ok(true);
        }
        _ => return Ok(false),
    };
    if ty == "oid" {
        *expr = Expr::Nested(inner.clone());
        return Ok(true);
    }
    let Some((table, what)) = reg_type_lookup(&ty) else {
        return Ok(false);
    };
    let text = match inner.as_ref() {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s)
                if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() =>
            {
                s.clone()
            }
            Value::SingleQuotedString(s) if catalog_table_oid(s).is_some() && what == "class" => {
                catalog_table_oid(s).unwrap_or_default().to_string()
            }
            Value::SingleQuotedString(s)
                if what == "function" && crate::catalog::builtin_proc_oid(s).is_some() =>
            {
                crate::catalog::builtin_proc_oid(s)
                    .unwrap_or_default()
                    .to_string()
            }
            Value::SingleQuotedString(s)
                if what == "type" && crate::catalog::pseudo_type_oid(s).is_some() =>
            {
                crate::catalog::pseudo_type_oid(s)
                    .unwrap_or_default()
                    .to_string()
            }
            Value::SingleQuotedString(s) => {
                let name = s.rsplit('.').next().unwrap_or(s).trim_matches('"');
                format!(
                    "coalesce((SELECT lookup_oid FROM {table} WHERE lookup_name = '{}'), pg_undefined('{what}', '{}'))",
                    name.replace('\'', "''"),
                    s.replace('\'', "''")
                )
            }
            Value::Number(n, _) => n.clone(),
            // A parameter: a name (maybe qualified, maybe quoted) or an OID's digits.
            Value::Placeholder(p) if what == "class" => format!(
                "coalesce(pg_catalog_table_oid({p}), (SELECT lookup_oid FROM {table} WHERE lookup_name = pg_unqualify({p}) OR CAST(lookup_oid AS TEXT) = {p}), pg_undefined('{what}', {p}))"
            ),
            Value::Placeholder(p) => format!(
                "coalesce((SELECT lookup_oid FROM {table} WHERE lookup_name = pg_unqualify({p}) OR CAST(lookup_oid AS TEXT) = {p}), pg_undefined('{what}', {p}))"
            ),
            _ => return Ok(false),
        },
        // A name computed by a function or cast to text: its OID (NULL if none).
        other @ (Expr::Function(_) | Expr::Cast { .. }) if what == "class" => format!(
            "coalesce(pg_catalog_table_oid({other}), (SELECT lookup_oid FROM {table} WHERE lookup_name = pg_unqualify({other})))"
        ),
        // A type's name as `format_type` writes it (`integer`, not `int4`).
        other if what == "type" => format!(
            "coalesce((SELECT format_type(lookup_oid, NULL) FROM {table} WHERE lookup_oid = {other}), CAST({other} AS TEXT))"
        ),
        other if what == "function" => format!(
            "coalesce((SELECT lookup_name FROM {table} WHERE lookup_oid = {other}), pg_builtin_proc_name({other}), CAST({other} AS TEXT))"
        ),
        other => format!(
            "coalesce((SELECT lookup_name FROM {table} WHERE lookup_oid = {other}), CAST({other} AS TEXT))"
        ),
    };
    *expr = parse_expr(&text)?;
    Ok(true)
}

/// PostgreSQL's OIDs of its catalog tables (`'pg_catalog.pg_class'::regclass` is 1259).
pub(crate) fn catalog_table_oid(name: &str) -> Option<i64> {
    let name = name.strip_prefix("pg_catalog.").unwrap_or(name);
    Some(match name {
        "pg_type" => 1247,
        "pg_attribute" => 1249,
        "pg_proc" => 1255,
        "pg_class" => 1259,
        "pg_namespace" => 2615,
        "pg_constraint" => 2606,
        "pg_index" => 2610,
        "pg_trigger" => 2620,
        "pg_description" => 2609,
        "pg_database" => 1262,
        "pg_authid" => 1260,
        "pg_depend" => 2608,
        _ => return None,
    })
}

/// `a OPERATOR(pg_catalog.~) b` becomes `a ~ b` (then [`rewrite_regex_operator`]).
fn rewrite_custom_operator(expr: &mut Expr) -> Result<bool, Unsupported> {
    let Expr::BinaryOp { left, op, right } = expr else {
        return Ok(false);
    };
    let BinaryOperator::PGCustomBinaryOperator(parts) = op else {
        return Ok(false);
    };
    let symbol = parts.last().cloned().unwrap_or_default();
    let new_op = match symbol.as_str() {
        "~" => BinaryOperator::PGRegexMatch,
        "~*" => BinaryOperator::PGRegexIMatch,
        "!~" => BinaryOperator::PGRegexNotMatch,
        "!~*" => BinaryOperator::PGRegexNotIMatch,
        "=" => BinaryOperator::Eq,
        "<>" => BinaryOperator::NotEq,
        "<" => BinaryOperator::Lt,
        ">" => BinaryOperator::Gt,
        "<=" => BinaryOperator::LtEq,
        ">=" => BinaryOperator::GtEq,
        "||" => BinaryOperator::StringConcat,
        other => return Err(Unsupported(format!("operator {other} is not supported"))),
    };
    let mut e = Expr::BinaryOp {
        left: left.clone(),
        op: new_op,
        right: right.clone(),
    };
    rewrite_regex_operator(&mut e)?;
    *expr = e;
    Ok(true)
}

/// `a ~ b`, `a ~* b`, `a !~ b`, `a !~* b` call `pg_regex(a, b, case_insensitive)`
/// (PostgreSQL's regular expressions, by the `regex` crate).
fn rewrite_regex_operator(expr: &mut Expr) -> Result<bool, Unsupported> {
    let Expr::BinaryOp { left, op, right } = expr else {
        return Ok(false);
    };
    let (ci, not) = match op {
        BinaryOperator::PGRegexMatch => (0, false),
        BinaryOperator::PGRegexIMatch => (1, false),
        BinaryOperator::PGRegexNotMatch => (0, true),
        BinaryOperator::PGRegexNotIMatch => (1, true),
        _ => return Ok(false),
    };
    let right = match right.as_ref() {
        Expr::Collate { expr, .. } => expr.to_string(),
        r => r.to_string(),
    };
    let call = format!("pg_regex({left}, {right}, {ci})");
    *expr = parse_expr(&if not { format!("NOT {call}") } else { call })?;
    Ok(true)
}

/// `x = ANY(ARRAY[a, b])` becomes `x IN (a, b)`, `x <> ALL(ARRAY[a, b])` `x NOT IN (a, b)`,
/// `x = ANY(SELECT ...)` `x IN (SELECT ...)` (Diesel's `eq_any` of a subquery: the same
/// test, NULLs included); `x = ANY(array_column)` calls `pg_array_contains(array_column, x)`.
fn rewrite_any_all(expr: &mut Expr) -> Result<bool, Unsupported> {
    let (left, op, right, any) = match expr {
        Expr::AnyOp {
            left,
            compare_op,
            right,
            ..
        } => (left, compare_op, right, true),
        Expr::AllOp {
            left,
            compare_op,
            right,
        } => (left, compare_op, right, false),
        _ => return Ok(false),
    };
    let negated = match (&*op, any) {
        (BinaryOperator::Eq, true) => false,
        (BinaryOperator::NotEq, false) => true,
        _ => {
            return Err(Unsupported(format!(
                "{} {op} {}(...) is not supported",
                left,
                if any { "ANY" } else { "ALL" }
            )))
        }
    };
    let inner = match right.as_ref() {
        Expr::Nested(e) => e.as_ref(),
        e => e,
    };
    let text = match inner {
        Expr::Array(a) => {
            let items: Vec<String> = a.elem.iter().map(ToString::to_string).collect();
            format!(
                "{left} {}IN ({})",
                if negated { "NOT " } else { "" },
                items.join(", ")
            )
        }
        Expr::Subquery(q) => format!("{left} {}IN ({q})", if negated { "NOT " } else { "" }),
        other => format!(
            "{}pg_array_contains({other}, {left})",
            if negated { "NOT " } else { "" }
        ),
    };
    *expr = parse_expr(&text)?;
    Ok(true)
}

/// `x COLLATE pg_catalog.default` (or `"default"`) is `x`.
fn rewrite_collate_default(expr: &mut Expr) -> Result<bool, Unsupported> {
    let Expr::Collate {
        expr: inner,
        collation,
    } = expr
    else {
        return Ok(false);
    };
    if ident_parts(collation).last().map(String::as_str) == Some("default") {
        // COLLATE binds tightest: its operand is already a primary expression.
        *expr = inner.as_ref().clone();
        return Ok(true);
    }
    Ok(false)
}

/// `ARRAY(SELECT ...)` becomes the array's text, `{a,b}` (`'{}'` for no rows), built by
/// `array_agg` over the rows in the subquery's order and typed as an array of its
/// column's type where that is known (see [`crate::select_list::query_column_type`]),
/// else `text[]`.
fn rewrite_array_subquery(expr: &mut Expr) -> Result<bool, Unsupported> {
    let Expr::Function(f) = expr else {
        return Ok(false);
    };
    if ident_parts(&f.name).as_slice() != ["array"] {
        return Ok(false);
    }
    let FunctionArguments::Subquery(q) = &f.args else {
        return Ok(false);
    };
    let element = crate::select_list::query_column_type(q).unwrap_or_else(|| "TEXT".to_string());
    let text = format!(
        "pg_typed((WITH pg_array_rows(v) AS ({q}) SELECT coalesce(array_agg(v), '{{}}') FROM pg_array_rows), '{element}[]')"
    );
    *expr = parse_expr(&text)?;
    Ok(true)
}

/// `a[i]` calls `pg_array_get(a, i)` (arrays are their text, `{1,2}`); `t.a[i]` is
/// `t.a`'s; `(row).x` and `(row).n` read the fields of `_pg_expandarray`'s rows (the
/// only rows this server makes) with `pg_record_field`.
fn rewrite_subscript(expr: &mut Expr) -> Result<bool, Unsupported> {
    use sqlparser::ast::AccessExpr;
    let Expr::CompoundFieldAccess { root, access_chain } = expr else {
        return Ok(false);
    };
    let mut text = root.to_string();
    let mut column = matches!(
        root.as_ref(),
        Expr::Identifier(_) | Expr::CompoundIdentifier(_)
    );
    for a in access_chain.iter() {
        match a {
            AccessExpr::Dot(Expr::Identifier(field)) if column => {
                text = format!("{text}.{field}");
            }
            AccessExpr::Dot(Expr::Identifier(field)) => {
                let position = match field.value.to_ascii_lowercase().as_str() {
                    "x" => 1,
                    "n" => 2,
                    _ => {
                        return Err(Unsupported(format!(
                            "field selection .{field} is not supported"
                        )))
                    }
                };
                text = format!("pg_record_field({text}, {position})");
            }
            AccessExpr::Subscript(sqlparser::ast::Subscript::Index { index }) => {
                text = format!("pg_array_get({text}, {index})");
                column = false;
            }
            other => {
                return Err(Unsupported(format!(
                    "array access {other} is not supported"
                )))
            }
        }
    }
    *expr = parse_expr(&text)?;
    Ok(true)
}

/// `trim(both 'x' from s)` is SQLite's `trim(s, 'x')` (`leading` `ltrim`, `trailing`
/// `rtrim`).
fn rewrite_trim(expr: &mut Expr) -> Result<bool, Unsupported> {
    use sqlparser::ast::TrimWhereField;
    let Expr::Trim {
        expr: inner,
        trim_where,
        trim_what,
        trim_characters,
    } = expr
    else {
        return Ok(false);
    };
    if trim_characters.is_some() {
        return Ok(false);
    }
    let f = match trim_where {
        Some(TrimWhereField::Leading) => "ltrim",
        Some(TrimWhereField::Trailing) => "rtrim",
        _ => "trim",
    };
    // Quoted, so that the parser reads a function call rather than its TRIM syntax.
    let text = match trim_what {
        Some(what) => format!("\"{f}\"({inner}, {what})"),
        None => format!("\"{f}\"({inner})"),
    };
    *expr = parse_expr(&text)?;
    Ok(true)
}

/// SQLite's keywords that it does not take as a bare column alias (PostgreSQL takes any
/// word after `AS`).
const SQLITE_RESERVED: &[&str] = &[
    "add",
    "all",
    "alter",
    "and",
    "as",
    "autoincrement",
    "between",
    "case",
    "check",
    "collate",
    "commit",
    "constraint",
    "create",
    "default",
    "deferrable",
    "delete",
    "distinct",
    "drop",
    "else",
    "escape",
    "except",
    "exists",
    "foreign",
    "from",
    "group",
    "having",
    "in",
    "index",
    "insert",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "limit",
    "not",
    "nothing",
    "notnull",
    "null",
    "on",
    "or",
    "order",
    "primary",
    "references",
    "returning",
    "select",
    "set",
    "table",
    "then",
    "to",
    "transaction",
    "union",
    "unique",
    "update",
    "using",
    "values",
    "when",
    "where",
    "window",
];

/// The OIDs of the catalog's tables, as PostgreSQL's `pg_class` has them: what their
/// rows' `tableoid` system column holds.
const CATALOG_OIDS: &[(&str, i64)] = &[
    ("pg_type", 1247),
    ("pg_attribute", 1249),
    ("pg_proc", 1255),
    ("pg_class", 1259),
    ("pg_authid", 1260),
    ("pg_auth_members", 1261),
    ("pg_database", 1262),
    ("pg_tablespace", 1213),
    ("pg_sequence", 2224),
    ("pg_am", 2601),
    ("pg_attrdef", 2604),
    ("pg_constraint", 2606),
    ("pg_depend", 2608),
    ("pg_description", 2609),
    ("pg_index", 2610),
    ("pg_inherits", 2611),
    ("pg_language", 2612),
    ("pg_namespace", 2615),
    ("pg_opclass", 2616),
    ("pg_rewrite", 2618),
    ("pg_trigger", 2620),
    ("pg_opfamily", 2753),
    ("pg_extension", 3079),
    ("pg_policy", 3256),
    ("pg_statistic_ext", 3381),
    ("pg_collation", 3456),
    ("pg_enum", 3501),
    ("pg_range", 3541),
    ("pg_publication", 6104),
];

/// `c.tableoid`, the system column, of a catalog table `c` of the select's `FROM` is
/// that catalog's OID (psql's `\dd` joins `pg_description` on it); SQLite's tables have
/// no such column.
fn rewrite_tableoid(select: &mut Select) -> bool {
    let mut tables: Vec<(String, i64)> = Vec::new();
    for item in &select.from {
        let factors = std::iter::once(&item.relation).chain(item.joins.iter().map(|j| &j.relation));
        for factor in factors {
            let TableFactor::Table { name, alias, .. } = factor else {
                continue;
            };
            let parts = ident_parts(name);
            let [table] = parts.as_slice() else { continue };
            let Some(&(_, oid)) = CATALOG_OIDS.iter().find(|c| c.0 == table) else {
                continue;
            };
            let refname = alias
                .as_ref()
                .map_or_else(|| table.clone(), |a| a.name.value.to_ascii_lowercase());
            tables.push((refname, oid));
        }
    }
    if tables.is_empty() {
        return false;
    }
    let mut changed = false;
    let _ = visit_expressions_mut(select, |e| {
        if let Expr::CompoundIdentifier(parts) = e {
            if let [q, column] = parts.as_slice() {
                let q = q.value.to_ascii_lowercase();
                let found = tables.iter().find(|t| t.0 == q);
                if let (Some((_, oid)), true) =
                    (found, column.value.eq_ignore_ascii_case("tableoid"))
                {
                    *e = Expr::value(Value::Number(oid.to_string(), false));
                    changed = true;
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
    changed
}

/// `expr AS default`: the alias is quoted for SQLite (`AS "default"`), as PostgreSQL
/// names the column.
fn quote_keyword_aliases(select: &mut Select) -> bool {
    let mut changed = false;
    for item in &mut select.projection {
        if let SelectItem::ExprWithAlias { alias, .. } = item {
            if alias.quote_style.is_none()
                && SQLITE_RESERVED.contains(&alias.value.to_ascii_lowercase().as_str())
            {
                alias.value = alias.value.to_ascii_lowercase();
                alias.quote_style = Some('"');
                changed = true;
            }
        }
    }
    changed
}

/// The plain selects of a query body (each side of a UNION...).
/// The `SELECT`s of a query body (of a set operation, each operand's).
pub(crate) fn selects_of(body: &SetExpr) -> Vec<&Select> {
    match body {
        SetExpr::Select(s) => vec![s.as_ref()],
        SetExpr::SetOperation { left, right, .. } => {
            let mut all = selects_of(left);
            all.extend(selects_of(right));
            all
        }
        _ => Vec::new(),
    }
}

pub(crate) fn selects_mut(body: &mut SetExpr) -> Vec<&mut Select> {
    match body {
        SetExpr::Select(s) => vec![s.as_mut()],
        SetExpr::SetOperation { left, right, .. } => {
            let mut all = selects_mut(left);
            all.extend(selects_mut(right));
            all
        }
        _ => Vec::new(),
    }
}

/// In a subquery or `WITH` query, an unnamed function call column gets the function's
/// name, as PostgreSQL names it (`count(1)` is `count`, `row_number() OVER (...)`
/// `row_number`), so that the outer query can name it; SQLite would name it by its text.
fn name_function_columns(query: &mut Query) -> bool {
    let mut changed = false;
    for select in selects_mut(&mut query.body) {
        for item in &mut select.projection {
            let SelectItem::UnnamedExpr(Expr::Function(f)) = item else {
                continue;
            };
            let Some(name) = ident_parts(&f.name).last().cloned() else {
                continue;
            };
            *item = SelectItem::ExprWithAlias {
                expr: Expr::Function(f.clone()),
                alias: sqlparser::ast::Ident::new(name),
            };
            changed = true;
        }
    }
    changed
}

/// PostgreSQL syntax SQLite lacks: a typed literal (`DATE '2024-01-01'`) becomes a
/// cast (which the token pass turns into SQLite's form, text for dates), `substring(s
/// FROM a FOR n)` and `substr(s, a, n)` call the server's `substring`/`substr` (with
/// PostgreSQL's positions before 1, see [`crate::arith::substring`]), `position(a IN
/// b)` its `position(a, b)` (`extract` and `date_trunc` are the `datetime` module's).
fn rewrite_lacking_syntax(expr: &mut Expr) -> Result<bool, Unsupported> {
    use sqlparser::ast::{CastKind, FunctionArg, FunctionArgExpr};
    let call = |name: &str, args: Vec<Expr>| {
        let mut f = parse_expr(&format!("{name}()"))?;
        if let Expr::Function(func) = &mut f {
            if let FunctionArguments::List(list) = &mut func.args {
                list.args = args
                    .into_iter()
                    .map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a)))
                    .collect();
                return Ok(f);
            }
        }
        Err(Unsupported(name.to_string()))
    };
    let taken = |e: &mut Box<Expr>| std::mem::replace(e.as_mut(), Expr::value(Value::Null));
    match expr {
        Expr::TypedString { data_type, value } => {
            *expr = Expr::Cast {
                kind: CastKind::DoubleColon,
                expr: Box::new(Expr::Value(value.clone())),
                data_type: data_type.clone(),
                format: None,
            };
            Ok(true)
        }
        // `CASE ... END::date`: the token pass takes a primary expression before `::`.
        Expr::Cast {
            kind: CastKind::DoubleColon,
            expr: operand,
            ..
        } if !matches!(
            operand.as_ref(),
            Expr::Identifier(_)
                | Expr::CompoundIdentifier(_)
                | Expr::Value(_)
                | Expr::Function(_)
                | Expr::Nested(_)
                | Expr::Cast { .. }
        ) =>
        {
            **operand = Expr::Nested(Box::new(taken(operand)));
            Ok(true)
        }
        Expr::Substring {
            expr: s,
            substring_from,
            substring_for,
            shorthand,
            ..
        } => {
            let name = if *shorthand { "substr" } else { "substring" };
            let mut args = vec![taken(s)];
            args.push(
                substring_from
                    .as_mut()
                    .map_or(Expr::value(Value::Number("1".into(), false)), taken),
            );
            if let Some(n) = substring_for.as_mut() {
                args.push(taken(n));
            }
            *expr = call(name, args)?;
            Ok(true)
        }
        Expr::Position { expr: needle, r#in } => {
            *expr = call("position", vec![taken(needle), taken(r#in)])?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// `a + b`, `-`, `*`, `/` and `%` call `pg_add(a, b)`... and `sum(x)`/`avg(x)` (not
/// windows) the `pg_sum`/`pg_avg` aggregates: PostgreSQL's answers or a refusal (see the
/// [`arith`](crate::arith) module), where SQLite would go on in float8 past an integer
/// overflow, compute numeric in float8, answer NULL for a zero divisor, or do arithmetic
/// on a date's text.
fn rewrite_arithmetic(expr: &mut Expr) -> Result<bool, Unsupported> {
    use crate::arith::Op;
    use sqlparser::ast::{
        Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident,
    };
    if let Expr::Function(f) = expr {
        let name = ident_parts(&f.name);
        let renamed = match name.as_slice() {
            [n] if n.eq_ignore_ascii_case("sum") => "pg_sum",
            [n] if n.eq_ignore_ascii_case("avg") => "pg_avg",
            _ => return Ok(false),
        };
        if f.over.is_some() || !matches!(&f.args, FunctionArguments::List(l) if l.args.len() == 1) {
            return Ok(false);
        }
        f.name = ObjectName::from(vec![Ident::new(renamed)]);
        return Ok(true);
    }
    let Expr::BinaryOp { op, left, right } = expr else {
        return Ok(false);
    };
    let op = match op {
        BinaryOperator::Plus => Op::Add,
        BinaryOperator::Minus => Op::Sub,
        BinaryOperator::Multiply => Op::Mul,
        BinaryOperator::Divide => Op::Div,
        BinaryOperator::Modulo => Op::Mod,
        _ => return Ok(false),
    };
    let arg = |e: &mut Box<Expr>| {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(std::mem::replace(
            e.as_mut(),
            Expr::value(Value::Null),
        )))
    };
    let args = vec![arg(left), arg(right)];
    *expr = Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(op.function())]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args,
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    });
    Ok(true)
}

/// `ORDER BY` keys without `NULLS FIRST/LAST` get PostgreSQL's default, which SQLite's
/// is the opposite of: NULL sorts as the largest value, so last when ascending and
/// first when descending.
fn postgresql_null_order(query: &mut Query) -> bool {
    let Some(sqlparser::ast::OrderBy {
        kind: sqlparser::ast::OrderByKind::Expressions(keys),
        ..
    }) = &mut query.order_by
    else {
        return false;
    };
    let mut changed = false;
    for key in keys {
        if key.options.nulls_first.is_none() {
            key.options.nulls_first = Some(key.options.asc == Some(false));
            changed = true;
        }
    }
    changed
}

/// Aggregate functions (PostgreSQL's, and SQLite's names the rewrites give some): a
/// call of one (not a window) aggregates its query's rows, and its presence in a select
/// list means PostgreSQL runs a set-returning function there after grouping (see
/// [`generate_series_as_from`]).
const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "total",
    "array_agg",
    "string_agg",
    "group_concat",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
    "json_group_array",
    "json_group_object",
    "bool_and",
    "bool_or",
    "every",
];

/// `SELECT generate_series(a, b [, step]) [AS x], ...` without `FROM` (nor a grouping or
/// an aggregate): the call becomes the query's `FROM` item, as [`rewrite_table_function`]
/// writes it, and the item a reference to its column, named as PostgreSQL names it
/// (`generate_series`, or the alias). `generate_series` elsewhere in a select list (with
/// a `FROM`, several calls, inside an expression) is refused with 0A000: PostgreSQL's
/// lockstep expansion is not done.
fn generate_series_as_from(select: &mut Select) -> Result<bool, Unsupported> {
    let is_series = |e: &Expr| matches!(e, Expr::Function(f) if ident_parts(&f.name).last().map(String::as_str) == Some("generate_series"));
    let mut calls = 0;
    let mut aggregates = false;
    for item in &mut select.projection {
        let _ = visit_expressions_mut(item, |e| {
            calls += usize::from(is_series(e));
            if let Expr::Function(f) = e {
                let name = ident_parts(&f.name).last().cloned().unwrap_or_default();
                aggregates |= f.over.is_some() || AGGREGATES.contains(&name.as_str());
            }
            ControlFlow::<()>::Continue(())
        });
    }
    if calls == 0 {
        return Ok(false);
    }
    let top = select.projection.iter().position(|item| match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => is_series(e),
        _ => false,
    });
    let plain = calls == 1
        && select.from.is_empty()
        && !aggregates
        && !is_grouped(select)
        && select.having.is_none();
    let Some(at) = top.filter(|_| plain) else {
        return Err(Unsupported(
            "generate_series() in a select list with a FROM clause, an aggregate, or inside an \
             expression is not supported (write it as a FROM item)"
                .into(),
        ));
    };
    let (call, alias, ty) = match &select.projection[at] {
        SelectItem::UnnamedExpr(e) => (e.to_string(), None, series_type(e)),
        SelectItem::ExprWithAlias { expr, alias } => {
            (expr.to_string(), Some(alias.clone()), series_type(expr))
        }
        _ => return Ok(false),
    };
    let q = parse_query(&format!("SELECT 1 FROM {call} AS pg_srf_item(value)"))?;
    let SetExpr::Select(mut s) = *q.body else {
        return Ok(false);
    };
    let Some(mut from) = s.from.pop() else {
        return Ok(false);
    };
    rewrite_table_function(&mut from.relation)?;
    select.from.push(from);
    let column = parse_expr(&match ty {
        Some(ty) => format!("pg_typed(pg_srf_item.value, '{ty}')"),
        None => "pg_srf_item.value".to_string(),
    })?;
    select.projection[at] = SelectItem::ExprWithAlias {
        expr: column,
        alias: alias.unwrap_or_else(|| sqlparser::ast::Ident::with_quote('"', "generate_series")),
    };
    Ok(true)
}

/// The type of `generate_series` of integer literals: `INT4`, or `INT8` when one does not
/// fit (PostgreSQL's overloads); `None` for other arguments.
fn series_type(call: &Expr) -> Option<&'static str> {
    let Expr::Function(f) = call else {
        return None;
    };
    let mut ty = "INT4";
    for a in function_args(f) {
        let n = a.trim().parse::<i64>().ok()?;
        if i32::try_from(n).is_err() {
            ty = "INT8";
        }
    }
    Some(ty)
}

/// Set-returning functions in a select list: `unnest(a)`, `generate_subscripts(a, 1)`
/// and `information_schema._pg_expandarray(a)` (pgjdbc's, pgcli's and SQLAlchemy's
/// catalog queries). As in PostgreSQL they run in lockstep, one row per position up to
/// the longest array (NULL past a shorter one's end, no row for empty arrays): the
/// select is joined with `json_each(pg_srf_range(n)) AS pg_srf` and each call reads its
/// array at `pg_srf.key`. Refused with GROUP BY (PostgreSQL expands after grouping).
fn rewrite_select_list_srf(select: &mut Select) -> Result<bool, Unsupported> {
    let mut arrays: Vec<String> = Vec::new();
    let mut error = None;
    for item in &mut select.projection {
        let (expr, unnamed) = match item {
            SelectItem::UnnamedExpr(e) => (e, true),
            SelectItem::ExprWithAlias { expr, .. } => (expr, false),
            _ => continue,
        };
        // A bare call is named after its function, as PostgreSQL names it.
        let bare_name = match &*expr {
            Expr::Function(f) if unnamed => ident_parts(&f.name).last().cloned(),
            _ => None,
        };
        let _ = visit_expressions_mut(expr, |e| match srf_call(e, &mut arrays) {
            Ok(_) => ControlFlow::Continue(()),
            Err(u) => {
                error = Some(u);
                ControlFlow::Break(())
            }
        });
        if let (Some(name), SelectItem::UnnamedExpr(e)) = (bare_name, &*item) {
            if is_srf_replacement(e) {
                *item = SelectItem::ExprWithAlias {
                    expr: e.clone(),
                    alias: sqlparser::ast::Ident::new(name),
                };
            }
        }
    }
    if let Some(e) = error {
        return Err(e);
    }
    if arrays.is_empty() {
        return Ok(false);
    }
    if is_grouped(select) || select.having.is_some() {
        return Err(Unsupported(
            "a set-returning function in a select list with GROUP BY is not supported".into(),
        ));
    }
    let counts: Vec<String> = arrays
        .iter()
        .map(|a| format!("pg_array_count({a})"))
        .collect();
    let rows = match counts.as_slice() {
        [one] => one.clone(),
        many => format!("max({})", many.join(", ")),
    };
    let q = parse_query(&format!(
        "SELECT 1 FROM json_each(pg_srf_range({rows})) AS pg_srf"
    ))?;
    let SetExpr::Select(s) = *q.body else {
        return Ok(false);
    };
    select.from.extend(s.from);
    Ok(true)
}

/// Whether `e` is what [`srf_call`] made of a set-returning call.
fn is_srf_replacement(e: &Expr) -> bool {
    matches!(e, Expr::Function(f) if ident_parts(&f.name).last().is_some_and(|n| n.starts_with("pg_srf_")))
}

/// Replaces one set-returning call (see [`rewrite_select_list_srf`]), noting its array.
fn srf_call(e: &mut Expr, arrays: &mut Vec<String>) -> Result<bool, Unsupported> {
    let Expr::Function(f) = e else {
        return Ok(false);
    };
    let name = ident_parts(&f.name).last().cloned().unwrap_or_default();
    // `unnest` and `generate_subscripts` are the `select_list` module's.
    let reader = match name.as_str() {
        "_pg_expandarray" => "pg_srf_expand",
        _ => return Ok(false),
    };
    let args = function_args(f);
    let array = match args.as_slice() {
        [a] => a.clone(),
        _ => return Err(Unsupported(format!("{f} is not supported"))),
    };
    if !arrays.contains(&array) {
        arrays.push(array.clone());
    }
    *e = parse_expr(&format!("{reader}({array}, pg_srf.key)"))?;
    Ok(true)
}

/// Whether `op` is one of the arithmetic operators `+ - * / %`.
pub(crate) fn is_arithmetic_operator(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Plus
            | BinaryOperator::Minus
            | BinaryOperator::Multiply
            | BinaryOperator::Divide
            | BinaryOperator::Modulo
    )
}

/// Whether a binary operator gives a boolean (comparisons, `AND`, `OR`).
pub(crate) fn is_boolean_operator(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::Gt
            | BinaryOperator::LtEq
            | BinaryOperator::GtEq
            | BinaryOperator::And
            | BinaryOperator::Or
    )
}

/// Whether a `SELECT` groups its rows (`GROUP BY` something, or `GROUP BY ALL`).
pub(crate) fn is_grouped(select: &Select) -> bool {
    match &select.group_by {
        GroupByExpr::All(_) => true,
        GroupByExpr::Expressions(e, _) => !e.is_empty(),
    }
}

/// Set-returning functions in `FROM`: `generate_series(a, b) s` becomes a recursive
/// `WITH` counting from a to b, `pg_partition_ancestors(r) [WITH ORDINALITY] a(relid,
/// depth)` the relation itself (SQLite has no partitions), `unnest(array) x` the
/// array's elements, `pg_available_extensions() ae(name, default_version, comment)` no
/// row (there is no extension to install); others are SQLite's own.
fn rewrite_table_function(factor: &mut TableFactor) -> Result<bool, Unsupported> {
    let (fname, items, alias, ordinality) = match factor {
        TableFactor::Table {
            name,
            args: Some(fargs),
            alias,
            ..
        } => {
            let parts = ident_parts(name);
            let items: Vec<String> = fargs.args.iter().map(ToString::to_string).collect();
            (
                parts.last().cloned().unwrap_or_default(),
                items,
                alias,
                false,
            )
        }
        // The parser's own node for `unnest(array) [WITH ORDINALITY]`.
        TableFactor::UNNEST {
            alias,
            array_exprs,
            with_offset: false,
            with_offset_alias: None,
            with_ordinality,
        } if array_exprs.len() == 1 => {
            let items = array_exprs.iter().map(ToString::to_string).collect();
            ("unnest".to_string(), items, alias, *with_ordinality)
        }
        TableFactor::UNNEST { .. } => {
            return Err(Unsupported(format!("{factor} is not supported")));
        }
        _ => return Ok(false),
    };
    let alias_name = alias
        .as_ref()
        .map_or_else(|| fname.clone(), |a| a.name.to_string());
    let col = |i: usize, default: &str| {
        alias
            .as_ref()
            .and_then(|a| a.columns.get(i))
            .map_or_else(|| default.to_string(), |c| c.name.to_string())
    };
    let arg = |i: usize| items.get(i).cloned().unwrap_or_else(|| "NULL".to_string());
    let text = match fname.as_str() {
        "generate_series" => {
            let c = col(0, &alias_name);
            let (start, stop) = (arg(0), arg(1));
            // The step: 1, or a nonzero integer literal (a step read from elsewhere
            // could be 0 or an interval, and a fractional one would add up in float8
            // where PostgreSQL's numeric is exact).
            let step = match items.get(2).map(|s| s.trim()) {
                None => 1,
                Some(s) => s.parse::<i64>().ok().filter(|s| *s != 0).ok_or_else(|| {
                    Unsupported(format!(
                        "generate_series with step {s} (only a nonzero integer literal) is not supported"
                    ))
                })?,
            };
            let (step, cmp) = match step > 0 {
                true => (format!("+ {step}"), "<="),
                false => (format!("- {}", step.unsigned_abs()), ">="),
            };
            format!(
                "SELECT 1 FROM (WITH RECURSIVE pg_series({c}) AS (SELECT {start} WHERE {start} {cmp} {stop} UNION ALL SELECT {c} {step} FROM pg_series WHERE {c} {step} {cmp} {stop}) SELECT {c} FROM pg_series) AS {alias_name}"
            )
        }
        "pg_partition_ancestors" => format!(
            "SELECT 1 FROM (SELECT {} AS {}, 1 AS {}) AS {alias_name}",
            arg(0),
            col(0, "relid"),
            col(1, "depth")
        ),
        // `WITH ORDINALITY`: the element's position (from 1) as a second column.
        "unnest" if ordinality => format!(
            "SELECT 1 FROM (SELECT value AS {}, key + 1 AS {} FROM json_each(pg_array_json({}))) AS {alias_name}",
            col(0, &alias_name),
            col(1, "ordinality"),
            arg(0)
        ),
        "unnest" => format!(
            "SELECT 1 FROM (SELECT value AS {} FROM json_each(pg_array_json({}))) AS {alias_name}",
            col(0, &alias_name),
            arg(0)
        ),
        // The extensions available to install: none (this server has no extensions).
        "pg_available_extensions" => format!(
            "SELECT 1 FROM (SELECT NULL AS {}, NULL AS {}, NULL AS {} WHERE 0) AS {alias_name}",
            col(0, "name"),
            col(1, "default_version"),
            col(2, "comment")
        ),
        // SQLite's own table-valued functions (`json_each`, `pragma_table_info`...).
        _ => return Ok(false),
    };
    let q = parse_query(&text)?;
    let sqlparser::ast::SetExpr::Select(select) = *q.body else {
        return Ok(false);
    };
    let Some(from) = select.from.into_iter().next() else {
        return Ok(false);
    };
    *factor = from.relation;
    Ok(true)
}

/// `LATERAL unnest(...)`: the parser takes no `WITH ORDINALITY` after a `LATERAL`
/// function, and a function in `FROM` is lateral in PostgreSQL with or without the word,
/// so the text loses it (`None`: there is none).
fn drop_lateral_before_unnest(sql: &str) -> Option<String> {
    let toks = crate::sql::tokenize(sql);
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    for (i, t) in toks.iter().enumerate() {
        if t.is(sql, "LATERAL")
            && toks.get(i + 1).is_some_and(|n| n.is(sql, "UNNEST"))
            && toks.get(i + 2).is_some_and(|n| n.is_punct(sql, "("))
        {
            out.push_str(sql.get(copied..t.start)?);
            copied = toks.get(i + 1)?.start;
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(sql.get(copied..)?);
    Some(out)
}

/// `(VALUES (...), ...) AS t(a, b)`: SQLite names a VALUES list's columns `column1`,
/// `column2`... and takes no column list after an alias, so the list becomes a
/// subquery that renames them: `(SELECT column1 AS a, column2 AS b FROM (VALUES ...))
/// AS t`.
fn rewrite_values_alias(factor: &mut TableFactor) -> Result<bool, Unsupported> {
    let TableFactor::Derived {
        subquery,
        alias: Some(alias),
        ..
    } = factor
    else {
        return Ok(false);
    };
    if alias.columns.is_empty() || !matches!(*subquery.body, sqlparser::ast::SetExpr::Values(_)) {
        return Ok(false);
    }
    let renamed: Vec<String> = alias
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("column{} AS {}", i + 1, c.name))
        .collect();
    let text = format!("SELECT {} FROM ({subquery})", renamed.join(", "));
    **subquery = parse_query(&text)?;
    alias.columns.clear();
    Ok(true)
}

/// The name an object name gives in SQLite: its last part (`public.t` is `t`).
fn last_name(name: &ObjectName) -> String {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(i)) => i.value.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// The statement without the `(options)` after each `AS IDENTITY`, and those options'
/// texts in order.
fn split_identity_options(sql: &str) -> (String, Vec<String>) {
    let toks = crate::sql::tokenize(sql);
    let mut out = String::with_capacity(sql.len());
    let mut options = Vec::new();
    let mut last = 0;
    let mut i = 0;
    while let Some(t) = toks.get(i) {
        i += 1;
        if !t.is(sql, "IDENTITY") || !toks.get(i).is_some_and(|n| n.is_punct(sql, "(")) {
            continue;
        }
        let mut depth = 0i32;
        let mut close = None;
        for (k, n) in toks.iter().enumerate().skip(i) {
            if n.is_punct(sql, "(") {
                depth += 1;
            } else if n.is_punct(sql, ")") {
                depth -= 1;
                if depth == 0 {
                    close = Some(k);
                    break;
                }
            }
        }
        let Some(close_at) = close else { break };
        let (Some(open), Some(close)) = (toks.get(i), toks.get(close_at)) else {
            break;
        };
        out.push_str(sql.get(last..open.start).unwrap_or(""));
        options.push(sql.get(open.end..close.start).unwrap_or("").to_string());
        last = close.end;
        i = close_at + 1;
    }
    out.push_str(sql.get(last..).unwrap_or(""));
    (out, options)
}

/// An identifier as PostgreSQL reads it: unquoted names folded to lower case.
fn pg_name(part: Option<&ObjectNamePart>) -> String {
    match part {
        Some(ObjectNamePart::Identifier(i)) if i.quote_style.is_some() => i.value.clone(),
        Some(ObjectNamePart::Identifier(i)) => i.value.to_ascii_lowercase(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// `COMMENT ON TABLE t IS '...'` or `COMMENT ON COLUMN t.c IS '...'` (`IS NULL` removes
/// the comment).
#[derive(Debug, PartialEq)]
pub(crate) struct CommentOn {
    /// The table (or view).
    pub table: String,
    /// The column, for `COMMENT ON COLUMN`.
    pub column: Option<String>,
    /// The comment; `None` removes it.
    pub text: Option<String>,
}

/// The statement as a `COMMENT ON`, if it is one; comments on other objects than tables
/// and columns are [`Unsupported`].
pub(crate) fn comment_on(sql: &str) -> Option<Result<CommentOn, Unsupported>> {
    let first = sql.trim_start().get(..7)?;
    if !first.eq_ignore_ascii_case("comment") {
        return None;
    }
    let Ok(statements) = Parser::parse_sql(&PostgreSqlDialect {}, sql) else {
        return None;
    };
    let [Statement::Comment {
        object_type,
        object_name,
        comment,
        ..
    }] = statements.as_slice()
    else {
        return None;
    };
    use sqlparser::ast::CommentObject;
    Some(match object_type {
        CommentObject::Table => Ok(CommentOn {
            table: last_name(object_name),
            column: None,
            text: comment.clone(),
        }),
        CommentObject::Column => {
            let n = object_name.0.len();
            let part = |i: usize| match object_name.0.get(i) {
                Some(ObjectNamePart::Identifier(id)) => id.value.clone(),
                _ => String::new(),
            };
            if n < 2 {
                return Some(Err(Unsupported(
                    "COMMENT ON COLUMN needs a table and a column name".to_string(),
                )));
            }
            Ok(CommentOn {
                table: part(n - 2),
                column: Some(part(n - 1)),
                text: comment.clone(),
            })
        }
        other => Err(Unsupported(format!(
            "COMMENT ON {other} is not supported (only TABLE and COLUMN)"
        ))),
    })
}

/// A schema change whose names the server's own tables (`_pgproto_comments`,
/// `_pgproto_columns`) follow once it succeeded.
#[derive(Debug, PartialEq)]
pub(crate) enum SchemaChange {
    /// `CREATE TABLE`: the table, its serial columns with their PostgreSQL type
    /// (SQLite declares a serial key `INTEGER`, the rowid), and the columns that take
    /// their values from a sequence (serial and identity columns).
    Create(
        String,
        Vec<(String, String)>,
        Vec<crate::sequences::SeqColumn>,
    ),
    /// `ALTER TABLE t ADD COLUMN ...`.
    AddColumn(String),
    /// `DROP TABLE`/`DROP VIEW` of these.
    Drop(Vec<String>),
    /// `ALTER TABLE a RENAME TO b`.
    RenameTable(String, String),
    /// `ALTER TABLE t RENAME COLUMN a TO b`.
    RenameColumn(String, String, String),
    /// `ALTER TABLE t DROP COLUMN c`.
    DropColumn(String, Vec<String>),
}

/// The schema change the statement makes, if the server's own tables must follow it.
pub(crate) fn schema_change(sql: &str) -> Option<SchemaChange> {
    let head = sql.trim_start().get(..6)?.to_ascii_lowercase();
    if !["create", "drop  ", "alter "]
        .iter()
        .any(|k| head.starts_with(k.trim_end()))
    {
        return None;
    }
    // `AS IDENTITY (options)`: the options apart (in order), as sqlparser takes none.
    let (sql, identity_options) = split_identity_options(sql);
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, &sql).ok()?;
    let [statement] = statements.as_slice() else {
        return None;
    };
    let mut identity_options = identity_options.into_iter();
    use sqlparser::ast::{AlterTableOperation, ObjectType};
    match statement {
        Statement::CreateTable(c) => {
            let serials = c
                .columns
                .iter()
                .filter_map(|col| {
                    let ty = col.data_type.to_string().to_ascii_lowercase();
                    let pg = match ty.as_str() {
                        "bigserial" | "serial8" => "int8",
                        "smallserial" | "serial2" => "int2",
                        "serial" | "serial4" => "int4",
                        _ => return None,
                    };
                    Some((col.name.value.clone(), pg.to_string()))
                })
                .collect();
            let table = pg_name(c.name.0.last());
            let sequenced = c
                .columns
                .iter()
                .filter_map(|col| {
                    let ty = col.data_type.to_string().to_ascii_lowercase();
                    let column = if col.name.quote_style.is_some() {
                        col.name.value.clone()
                    } else {
                        col.name.value.to_ascii_lowercase()
                    };
                    let serial = match ty.as_str() {
                        "bigserial" | "serial8" => Some("bigint"),
                        "smallserial" | "serial2" => Some("smallint"),
                        "serial" | "serial4" => Some("integer"),
                        _ => None,
                    };
                    if let Some(t) = serial {
                        return Some(crate::sequences::SeqColumn {
                            column,
                            type_name: t.to_string(),
                            identity: None,
                            start: None,
                            increment: None,
                        });
                    }
                    let (options, always) = col.options.iter().find_map(|o| match &o.option {
                        sqlparser::ast::ColumnOption::Generated {
                            generation_expr: None,
                            sequence_options,
                            generated_as,
                            ..
                        } => Some((
                            sequence_options.clone().unwrap_or_default(),
                            matches!(generated_as, sqlparser::ast::GeneratedAs::Always),
                        )),
                        _ => None,
                    })?;
                    let mut text: String = options.iter().map(ToString::to_string).collect();
                    if let Some(t) = identity_options.next() {
                        text.push(' ');
                        text.push_str(&t);
                    }
                    let toks = crate::sql::tokenize(&text);
                    let parsed =
                        crate::sequences::parse_options(&text, &toks, 0).unwrap_or_default();
                    let type_name = match ty.as_str() {
                        "bigint" | "int8" => "bigint",
                        "smallint" | "int2" => "smallint",
                        _ => "integer",
                    };
                    Some(crate::sequences::SeqColumn {
                        column,
                        type_name: type_name.to_string(),
                        identity: Some(if always { "a" } else { "d" }.to_string()),
                        start: parsed.start,
                        increment: parsed.increment,
                    })
                })
                .collect();
            Some(SchemaChange::Create(table, serials, sequenced))
        }
        Statement::Drop {
            object_type: ObjectType::Table | ObjectType::View,
            names,
            ..
        } => Some(SchemaChange::Drop(names.iter().map(last_name).collect())),
        Statement::AlterTable {
            name, operations, ..
        } => {
            let table = last_name(name);
            match operations.as_slice() {
                [AlterTableOperation::RenameTable { table_name }] => {
                    Some(SchemaChange::RenameTable(table, last_name(table_name)))
                }
                [AlterTableOperation::RenameColumn {
                    old_column_name,
                    new_column_name,
                }] => Some(SchemaChange::RenameColumn(
                    table,
                    old_column_name.value.clone(),
                    new_column_name.value.clone(),
                )),
                [AlterTableOperation::AddColumn { .. }] => Some(SchemaChange::AddColumn(table)),
                [AlterTableOperation::DropColumn { column_names, .. }] => {
                    Some(SchemaChange::DropColumn(
                        table,
                        column_names.iter().map(|c| c.value.clone()).collect(),
                    ))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The syntax-tree pass's text for `sql` (as written when it needs no rewrite), or
/// `ERROR <message>`: what the rewrite modules' unit tests compare.
#[cfg(test)]
pub(crate) fn rewritten_or_error(sql: &str) -> String {
    rewrite(sql)
        .map(|r| r.unwrap_or_else(|| sql.to_string()))
        .unwrap_or_else(|e| format!("ERROR {}", e.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_schema_changes() {
        assert_eq!(
            comment_on("COMMENT ON COLUMN public.t.c IS 'x'"),
            Some(Ok(CommentOn {
                table: "t".into(),
                column: Some("c".into()),
                text: Some("x".into())
            }))
        );
        assert!(matches!(
            comment_on("comment on schema public is 'x'"),
            Some(Err(_))
        ));
        assert_eq!(comment_on("select 1"), None);
        assert_eq!(
            schema_change("create table t (id bigserial primary key, n smallserial, s serial)"),
            Some(SchemaChange::Create(
                "t".into(),
                vec![
                    ("id".into(), "int8".into()),
                    ("n".into(), "int2".into()),
                    ("s".into(), "int4".into())
                ],
                ["bigint", "smallint", "integer"]
                    .iter()
                    .zip(["id", "n", "s"])
                    .map(|(t, c)| crate::sequences::SeqColumn {
                        column: c.into(),
                        type_name: (*t).into(),
                        identity: None,
                        start: None,
                        increment: None
                    })
                    .collect()
            ))
        );
        assert_eq!(
            schema_change(
                "create table T (id bigint generated by default as identity (start with 5 increment by 2))"
            ),
            Some(SchemaChange::Create(
                "t".into(),
                vec![],
                vec![crate::sequences::SeqColumn {
                    column: "id".into(),
                    type_name: "bigint".into(),
                    identity: Some("d".into()),
                    start: Some(5),
                    increment: Some(2)
                }]
            ))
        );
        assert_eq!(
            schema_change("create table t (n int, id int generated always as identity)"),
            Some(SchemaChange::Create(
                "t".into(),
                vec![],
                vec![crate::sequences::SeqColumn {
                    column: "id".into(),
                    type_name: "integer".into(),
                    identity: Some("a".into()),
                    start: None,
                    increment: None
                }]
            ))
        );
        assert_eq!(
            schema_change("DROP TABLE a, b"),
            Some(SchemaChange::Drop(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            schema_change("alter table a rename to b"),
            Some(SchemaChange::RenameTable("a".into(), "b".into()))
        );
    }

    fn rw(sql: &str) -> String {
        rewrite(sql).unwrap().unwrap_or_else(|| sql.to_string())
    }

    #[test]
    fn a_lateral_subquery_is_refused() {
        assert_eq!(
            rewrite("SELECT * FROM a LEFT JOIN LATERAL (SELECT count(*) FROM b WHERE b.x < a.x) s ON true"),
            Err(Unsupported("LATERAL subqueries are not supported".into()))
        );
    }

    #[test]
    fn update_and_delete_forms_sqlite_spells_otherwise() {
        assert_eq!(
            rw("UPDATE acc a SET balance = a.balance + 1 WHERE a.id = 2 RETURNING a.id, balance"),
            "UPDATE acc AS a SET balance = a.balance + 1 WHERE a.id = 2 RETURNING id, balance"
        );
        assert_eq!(
            rw("DELETE FROM tx t USING acc a, b WHERE a.id = t.src RETURNING t.id"),
            "DELETE FROM tx AS t WHERE EXISTS (SELECT 1 FROM acc AS a, b WHERE a.id = t.src) \
             RETURNING id"
        );
        assert_eq!(
            rw("DELETE FROM tx USING acc"),
            "DELETE FROM tx WHERE EXISTS (SELECT 1 FROM acc)"
        );
        assert_eq!(
            rw("INSERT INTO acc AS x VALUES (1) RETURNING x.id, acc.id"),
            "INSERT INTO acc AS x VALUES (1) RETURNING id, acc.id"
        );
        // Nothing to change: not parsed.
        assert_eq!(rewrite("UPDATE acc SET b = 1 WHERE id = 2"), Ok(None));
        assert_eq!(
            rewrite("DELETE FROM acc WHERE id = 2 RETURNING id"),
            Ok(None)
        );
    }

    #[test]
    fn an_upsert_from_a_query_gets_where_true() {
        assert_eq!(
            rw("INSERT INTO kv SELECT g, 'v' FROM other g ON CONFLICT DO NOTHING"),
            "INSERT INTO kv SELECT g, 'v' FROM other AS g WHERE true ON CONFLICT DO NOTHING"
        );
        assert_eq!(
            rw("INSERT INTO kv SELECT a, b FROM x WHERE a > 1 \
                ON CONFLICT (a) DO UPDATE SET b = excluded.b"),
            "INSERT INTO kv SELECT a, b FROM x WHERE a > 1 \
             ON CONFLICT (a) DO UPDATE SET b = excluded.b"
        );
        assert_eq!(
            rw("INSERT INTO kv SELECT a FROM x"),
            "INSERT INTO kv SELECT a FROM x"
        );
    }

    #[test]
    fn available_extensions_are_none() {
        assert_eq!(
            rw("SELECT e.extname, ae.default_version FROM pg_catalog.pg_extension e \
                LEFT JOIN pg_catalog.pg_available_extensions() ae(name, default_version, comment) \
                ON ae.name = e.extname"),
            "SELECT e.extname, ae.default_version FROM pg_extension AS e \
             LEFT JOIN (SELECT NULL AS name, NULL AS default_version, NULL AS comment WHERE 0) AS ae \
             ON ae.name = e.extname"
        );
    }

    #[test]
    fn tableoid_is_the_catalog_oid() {
        assert_eq!(
            rw(
                "SELECT pgc.oid, pgc.tableoid FROM pg_catalog.pg_constraint pgc \
                JOIN pg_catalog.pg_class c ON c.oid = pgc.conrelid WHERE c.tableoid > 0"
            ),
            "SELECT pgc.oid, 2606 FROM pg_constraint AS pgc \
             JOIN pg_class AS c ON c.oid = pgc.conrelid WHERE 1259 > 0"
        );
        assert_eq!(
            rw("SELECT opf.tableoid FROM pg_opfamily opf WHERE pg_catalog.pg_opfamily_is_visible(opf.oid)"),
            "SELECT 2753 FROM pg_opfamily AS opf WHERE EXISTS (SELECT 1 FROM pg_lookup_opfamily WHERE lookup_oid = opf.oid)"
        );
        // A table of one's own keeps its column of that name.
        assert_eq!(
            rw("SELECT t.tableoid FROM things t ORDER BY 1"),
            "SELECT t.tableoid FROM things AS t ORDER BY 1 NULLS LAST"
        );
    }

    #[test]
    fn catalog_schema_is_stripped() {
        assert_eq!(
            rw("SELECT relname FROM pg_catalog.pg_class c"),
            "SELECT relname FROM pg_class AS c"
        );
    }

    #[test]
    fn information_schema_names_its_views() {
        assert_eq!(
            rw("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"),
            "SELECT table_name FROM pg_is_tables WHERE table_schema = 'public'"
        );
        assert_eq!(
            rw("SELECT * FROM information_schema.columns c JOIN tables t ON true"),
            "SELECT * FROM pg_is_columns AS c JOIN tables AS t ON true"
        );
        // Diesel qualifies each column with the view's schema and name, quoted.
        assert_eq!(
            rw(r#"SELECT "information_schema"."columns"."column_name" FROM "information_schema"."columns" WHERE ("information_schema"."columns"."table_name" = $1) ORDER BY "information_schema"."columns"."ordinal_position""#),
            "SELECT pg_is_columns.\"column_name\" FROM pg_is_columns WHERE (pg_is_columns.\"table_name\" = $1) ORDER BY pg_is_columns.\"ordinal_position\" NULLS LAST"
        );
    }

    #[test]
    fn function_schema_is_stripped() {
        assert_eq!(
            rw("SELECT pg_catalog.format_type(23, -1)"),
            "SELECT format_type(23, -1) AS \"format_type\""
        );
    }

    #[test]
    fn catalog_functions_become_subqueries() {
        assert_eq!(
            rw("SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_class c"),
            "SELECT (SELECT lookup_name FROM pg_lookup_authid WHERE lookup_oid = c.relowner) AS \"pg_get_userbyid\" FROM pg_class AS c"
        );
        assert_eq!(
            rw("SELECT pg_get_expr(d.adbin, d.adrelid, true) FROM pg_attrdef d"),
            "SELECT (d.adbin) AS \"pg_get_expr\" FROM pg_attrdef AS d"
        );
        assert_eq!(
            rw("SELECT pg_catalog.pg_size_pretty(pg_catalog.pg_table_size(c.oid)) FROM pg_class c"),
            "SELECT pg_size_pretty((SELECT lookup_size FROM pg_lookup_size WHERE lookup_oid = c.oid)) AS \"pg_size_pretty\" FROM pg_class AS c"
        );
        assert_eq!(
            rw("SELECT oid FROM pg_type AS t WHERE t.oid = to_regtype($1)"),
            "SELECT oid FROM pg_type AS t WHERE t.oid = (SELECT lookup_oid FROM pg_lookup_type WHERE lookup_name = $1)"
        );
        assert_eq!(
            rw("SELECT string_agg(x, ', ') FROM pg_class"),
            "SELECT group_concat(x, ', ') AS \"string_agg\" FROM pg_class"
        );
    }

    #[test]
    fn reg_casts() {
        assert_eq!(
            rw("SELECT 1 FROM pg_class WHERE oid = '16393'::pg_catalog.regclass"),
            "SELECT 1 FROM pg_class WHERE oid = 16393"
        );
        assert_eq!(
            rw("SELECT c.oid::pg_catalog.regclass FROM pg_class c"),
            "SELECT coalesce((SELECT lookup_name FROM pg_lookup_class WHERE lookup_oid = c.oid), CAST(c.oid AS TEXT)) FROM pg_class AS c"
        );
        assert_eq!(
            rw("SELECT 'books'::regclass::oid"),
            "SELECT (coalesce((SELECT lookup_oid FROM pg_lookup_class WHERE lookup_name = 'books'), pg_undefined('class', 'books')))"
        );
        assert_eq!(
            rw("SELECT pg_class.oid::text FROM pg_class"),
            "SELECT pg_class.oid::text FROM pg_class"
        );
        assert_eq!(
            rw("SELECT x::pg_catalog.text FROM pg_class"),
            "SELECT x::text FROM pg_class"
        );
    }

    #[test]
    fn reg_casts_of_built_ins_and_type_names() {
        assert_eq!(
            rw("SELECT typinput = 'pg_catalog.array_in'::regproc FROM pg_type"),
            "SELECT typinput = 750 AS \"?column?\" FROM pg_type"
        );
        assert_eq!(
            rw("SELECT 1 FROM pg_proc WHERE prorettype <> 'trigger'::regtype"),
            "SELECT 1 FROM pg_proc WHERE prorettype <> 2279"
        );
        assert_eq!(
            rw("SELECT atttypid::regtype FROM pg_attribute"),
            "SELECT coalesce((SELECT format_type(lookup_oid, NULL) FROM pg_lookup_type WHERE lookup_oid = atttypid), CAST(atttypid AS TEXT)) FROM pg_attribute"
        );
        assert_eq!(
            rw("SELECT typinput::regproc FROM pg_type"),
            "SELECT coalesce((SELECT lookup_name FROM pg_lookup_proc WHERE lookup_oid = typinput), pg_builtin_proc_name(typinput), CAST(typinput AS TEXT)) FROM pg_type"
        );
    }

    #[test]
    fn select_list_set_returning_functions() {
        // pgjdbc's getPrimaryKeys: `_pg_expandarray` rows and their fields.
        assert_eq!(
            rw("SELECT (information_schema._pg_expandarray(i.indkey)).n AS k, information_schema._pg_expandarray(i.indkey) AS keys FROM pg_index i"),
            "SELECT pg_record_field((pg_srf_expand(i.indkey, pg_srf.key)), 2) AS k, pg_srf_expand(i.indkey, pg_srf.key) AS keys FROM pg_index AS i, json_each(pg_srf_range(pg_array_count(i.indkey))) AS pg_srf"
        );
        assert_eq!(
            rw("SELECT r.a FROM (SELECT 1 AS a, keys FROM pg_index) r WHERE r.a = (r.keys).x"),
            "SELECT r.a FROM (SELECT 1 AS a, keys FROM pg_index) AS r WHERE r.a = pg_record_field((r.keys), 1)"
        );
        assert!(rewrite("SELECT unnest(conkey), count(*) FROM pg_constraint GROUP BY 2").is_err());
        assert!(rewrite("SELECT (r.keys).y FROM pg_constraint r").is_err());
        // One `generate_series` without FROM becomes the FROM item.
        assert_eq!(
            rw("SELECT generate_series(1, 3)"),
            "SELECT pg_typed(pg_srf_item.value, 'INT4') AS \"generate_series\" FROM (WITH RECURSIVE pg_series (value) AS \
             (SELECT 1 WHERE 1 <= 3 UNION ALL SELECT value + 1 FROM pg_series WHERE value + 1 <= 3) \
             SELECT value FROM pg_series) AS pg_srf_item"
        );
        assert_eq!(
            rw("INSERT INTO t SELECT 'x', generate_series(1, 5, 2) AS n"),
            "INSERT INTO t SELECT 'x', pg_typed(pg_srf_item.value, 'INT4') AS n FROM (WITH RECURSIVE pg_series (value) AS \
             (SELECT 1 WHERE 1 <= 5 UNION ALL SELECT value + 2 FROM pg_series WHERE value + 2 <= 5) \
             SELECT value FROM pg_series) AS pg_srf_item"
        );
        for refused in [
            "SELECT generate_series(1, 3) FROM t",
            "SELECT generate_series(1, 3), generate_series(1, 2)",
            "SELECT generate_series(1, 3) + 1",
            "SELECT count(*), generate_series(1, 3)",
        ] {
            assert!(
                rewrite(refused).is_err_and(|e| e.0.starts_with("generate_series()")),
                "{refused}"
            );
        }
    }

    #[test]
    fn trim_and_index_columns() {
        assert_eq!(
            rw("SELECT trim(both '\"' from relname) FROM pg_class"),
            "SELECT \"trim\"(relname, '\"') AS \"btrim\" FROM pg_class"
        );
        // Named after the function PostgreSQL runs.
        assert_eq!(
            rw("SELECT trim(leading 'x' from 'xax'), trim(trailing 'x' from 'xax'), trim(' a ')"),
            "SELECT \"ltrim\"('xax', 'x') AS \"ltrim\", \"rtrim\"('xax', 'x') AS \"rtrim\", \"trim\"(' a ') AS \"btrim\""
        );
        assert_eq!(
            rw("SELECT tmp.opt[tmp.pos - 1] & 1 FROM (SELECT indoption AS opt, 1 AS pos FROM pg_index) tmp"),
            "SELECT pg_array_get(tmp.opt, pg_sub(tmp.pos, 1)) & 1 AS \"?column?\" FROM (SELECT indoption AS opt, 1 AS pos FROM pg_index) AS tmp"
        );
        let one_column = rw("SELECT pg_catalog.pg_get_indexdef(ci.oid, 1, false) FROM pg_class ci");
        assert!(
            one_column.contains("quote_ident(a.attname)")
                && one_column.contains("pg_array_get(i.indkey, (1) - 1)"),
            "{one_column}"
        );
    }

    #[test]
    fn unnest_in_from_and_keyword_aliases() {
        assert_eq!(
            rw("SELECT * FROM unnest(current_schemas(true))"),
            "SELECT * FROM (SELECT value AS unnest FROM json_each(pg_array_json(current_schemas(true)))) AS unnest"
        );
        // Django's get_constraints: positions with WITH ORDINALITY, named by the alias.
        assert_eq!(
            rw("SELECT colid, arridx FROM unnest(c.conkey) WITH ORDINALITY AS cols(colid, arridx)"),
            "SELECT colid, arridx FROM (SELECT value AS colid, key + 1 AS arridx FROM json_each(pg_array_json(c.conkey))) AS cols"
        );
        // Several arrays, beside the item they read: the `unnest` module's lateral form.
        assert!(rw("SELECT key FROM pg_index i, unnest(i.indkey, i.indoption) WITH ORDINALITY koi(key, option, arridx)").contains("json_each(pg_srf_series(i.indkey, i.indoption)) AS koi"));
        assert_eq!(
            rw("SELECT pg_get_expr(adbin, adrelid, true) AS default FROM pg_attrdef"),
            "SELECT (adbin) AS \"default\" FROM pg_attrdef"
        );
    }

    #[test]
    fn joined_unnest_reads_the_tables_before_it() {
        // `unnest::rewrite_lateral` serves joins as it serves comma-separated items.
        // Diesel's foreign keys: two LATERAL unnests WITH ORDINALITY, zipped by position.
        assert_eq!(
            rw("SELECT array_agg(col.attname ORDER BY u.attposition) FROM pg_constraint c \
                LEFT JOIN LATERAL UNNEST(c.conkey) WITH ORDINALITY AS u(attnum, attposition) ON TRUE \
                LEFT JOIN LATERAL UNNEST(c.confkey) WITH ORDINALITY AS f_u(attnum, attposition) ON f_u.attposition = u.attposition \
                LEFT JOIN pg_attribute col ON (col.attrelid = c.conrelid AND col.attnum = u.attnum)"),
            "SELECT pg_typed(array_agg(col.attname ORDER BY CAST(pg_add(u.value, 1) AS INT8)), 'NAME[]') AS \"array_agg\" FROM pg_constraint AS c \
             LEFT JOIN json_each(pg_srf_series(c.conkey)) AS u ON true \
             LEFT JOIN json_each(pg_srf_series(c.confkey)) AS f_u ON CAST(pg_add(f_u.value, 1) AS INT8) = CAST(pg_add(u.value, 1) AS INT8) \
             LEFT JOIN pg_attribute AS col ON (col.attrelid = c.conrelid AND col.attnum = CAST(pg_array_nth(c.conkey, pg_add(u.value, 1)) AS INT2))"
        );
        // Without LATERAL or ORDINALITY, the element column named by the alias.
        assert_eq!(
            rw("SELECT x.n FROM pg_index i JOIN unnest(i.indkey) AS x(n) ON x.n > 0"),
            "SELECT CAST(pg_array_nth(i.indkey, pg_add(x.value, 1)) AS INT2) AS n FROM pg_index AS i JOIN json_each(pg_srf_series(i.indkey)) AS x ON CAST(pg_array_nth(i.indkey, pg_add(x.value, 1)) AS INT2) > 0"
        );
        // `*` is the earlier item's columns, then the unnest's; a bare name that is
        // json_each's own column and no alias's is refused.
        assert_eq!(
            rw("SELECT * FROM pg_index i JOIN unnest(i.indkey) AS x(n) ON true"),
            "SELECT i.*, CAST(pg_array_nth(i.indkey, pg_add(x.value, 1)) AS INT2) AS n FROM pg_index AS i JOIN json_each(pg_srf_series(i.indkey)) AS x ON true"
        );
        assert_eq!(
            rw("SELECT n FROM pg_index i JOIN unnest(i.indkey) AS x(n) ON true"),
            "SELECT CAST(pg_array_nth(i.indkey, pg_add(x.value, 1)) AS INT2) AS n FROM pg_index AS i JOIN json_each(pg_srf_series(i.indkey)) AS x ON true"
        );
        assert_eq!(
            rw("SELECT key FROM pg_index i JOIN unnest(i.indkey) AS x(key) ON true"),
            "SELECT CAST(pg_array_nth(i.indkey, pg_add(x.value, 1)) AS INT2) AS key FROM pg_index AS i JOIN json_each(pg_srf_series(i.indkey)) AS x ON true"
        );
        // A name json_each also has, beside one other item, is that item's.
        assert_eq!(
            rw("SELECT value FROM pg_index i JOIN unnest(i.indkey) AS x(n) ON true"),
            "SELECT i.value FROM pg_index AS i JOIN json_each(pg_srf_series(i.indkey)) AS x ON true"
        );
        assert!(rewrite(
            "SELECT value FROM pg_index i JOIN unnest(i.indkey) AS x(n) ON true, pg_class c"
        )
        .is_err());
    }

    #[test]
    fn function_columns_of_subqueries_are_named() {
        assert_eq!(
            rw("WITH w AS (SELECT relname, count(1), row_number() OVER (ORDER BY relname) FROM pg_class GROUP BY relname) SELECT * FROM w WHERE row_number = 1"),
            "WITH w AS (SELECT relname, count(1) AS count, row_number() OVER (ORDER BY relname) AS row_number FROM pg_class GROUP BY relname) SELECT * FROM w WHERE row_number = 1"
        );
    }

    #[test]
    fn outer_aggregates_in_subqueries_are_refused() {
        let refused =
            |sql: &str| rewrite(sql).is_err_and(|e| e.0.contains("aggregate in a subquery"));
        // max(e.age) names only the outer query's emp e: PostgreSQL's outer aggregate.
        assert!(refused(
            "SELECT (SELECT max(e.age) FROM dept t1 WHERE t1.id = 1) FROM emp e"
        ));
        assert!(refused(
            "SELECT e.id FROM emp e WHERE e.id IN (SELECT count(e.id + 1) FROM dept d)"
        ));
        // The outer query's column inside a subquery of the argument counts too.
        assert!(refused(
            "SELECT (SELECT max((SELECT min(t2.r) FROM dept t2 WHERE e.active)) FROM dept t1) \
             FROM emp e"
        ));
        // The subquery's own columns, none, or both: the subquery's aggregate.
        assert_eq!(
            rw("SELECT (SELECT max(t1.id) FROM dept t1 WHERE t1.id = e.id) FROM emp e"),
            "SELECT (SELECT max(t1.id) FROM dept t1 WHERE t1.id = e.id) FROM emp e"
        );
        for sql in [
            "SELECT (SELECT count(*) FROM dept) FROM emp e",
            "SELECT (SELECT max(dept.id + e.id) FROM dept) FROM emp e",
            "SELECT (SELECT max(id) FROM dept) FROM emp e",
            "SELECT (SELECT max(x.n) FROM (SELECT 1 AS n) x) FROM emp e",
            "SELECT (SELECT max((SELECT min(t2.r) FROM dept t2)) FROM dept t1) FROM emp e",
        ] {
            assert!(!refused(sql), "{sql}");
        }
        // An aggregate of the top-level query is its own.
        assert!(!refused("SELECT max(e.age) FROM emp e"));
    }

    #[test]
    fn qualified_columns_and_parameter_reg_casts() {
        assert_eq!(
            rw("SELECT pg_catalog.pg_class.relname FROM pg_catalog.pg_class"),
            "SELECT pg_class.relname FROM pg_class"
        );
        assert_eq!(
            rw("SELECT 1 FROM pg_class WHERE oid = $1::regclass"),
            "SELECT 1 FROM pg_class WHERE oid = coalesce(pg_catalog_table_oid($1), (SELECT lookup_oid FROM pg_lookup_class WHERE lookup_name = pg_unqualify($1) OR CAST(lookup_oid AS TEXT) = $1), pg_undefined('class', $1))"
        );
    }

    #[test]
    fn catalog_tables_have_postgresql_s_oids() {
        assert_eq!(
            rw("SELECT 1 FROM pg_description WHERE classoid = 'pg_catalog.pg_class'::regclass"),
            "SELECT 1 FROM pg_description WHERE classoid = 1259"
        );
        assert_eq!(
            rw("SELECT json_build_object('a', 1, 'b', x = 'a', 'c', s.seqcycle) FROM pg_class"),
            "SELECT pg_json_build_out(json_object('a', 1, 'b', json(CASE WHEN x = 'a' THEN 'true' ELSE 'false' END), 'c', json(CASE WHEN s.seqcycle THEN 'true' ELSE 'false' END))) AS \"json_build_object\" FROM pg_class"
        );
        assert_eq!(
            rw("SELECT CAST(pg_get_serial_sequence('t', 'id') AS REGCLASS) FROM pg_class"),
            "SELECT coalesce(pg_catalog_table_oid(pg_get_serial_sequence('t', 'id')), (SELECT lookup_oid FROM pg_lookup_class WHERE lookup_name = pg_unqualify(pg_get_serial_sequence('t', 'id')))) FROM pg_class"
        );
    }

    #[test]
    fn arithmetic_is_postgresql_s() {
        assert_eq!(
            rw("SELECT a / b, 7 % (c - 1), a + b * 2 FROM t"),
            "SELECT pg_div(a, b) AS \"?column?\", pg_mod(7, (pg_sub(c, 1))) AS \"?column?\", pg_add(a, pg_mul(b, 2)) AS \"?column?\" FROM t"
        );
        assert_eq!(
            rw("SELECT sum(a), avg(DISTINCT b), sum(a) OVER () FROM t"),
            "SELECT pg_sum(a) AS \"sum\", pg_avg(DISTINCT b) AS \"avg\", sum(a) OVER () FROM t"
        );
    }

    #[test]
    fn order_by_sorts_nulls_as_postgresql_does() {
        assert_eq!(
            rw("SELECT a, b FROM t ORDER BY a, b DESC"),
            "SELECT a, b FROM t ORDER BY a NULLS LAST, b DESC NULLS FIRST"
        );
        assert_eq!(
            rw("SELECT a FROM t ORDER BY 1 ASC NULLS FIRST, a DESC NULLS LAST"),
            "SELECT a FROM t ORDER BY 1 ASC NULLS FIRST, a DESC NULLS LAST"
        );
        assert_eq!(
            rw("SELECT x FROM (SELECT a AS x FROM t ORDER BY a DESC LIMIT 2) AS s ORDER BY x"),
            "SELECT x FROM (SELECT a AS x FROM t ORDER BY a DESC NULLS FIRST LIMIT 2) AS s ORDER BY x NULLS LAST"
        );
    }

    #[test]
    fn operators() {
        assert_eq!(
            rw("SELECT 1 FROM pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default"),
            "SELECT 1 FROM pg_class AS c WHERE pg_regex(c.relname, '^(t)$', 0)"
        );
        assert_eq!(
            rw("SELECT 1 FROM t WHERE n !~ '^pg_'"),
            "SELECT 1 FROM t WHERE NOT pg_regex(n, '^pg_', 0)"
        );
        assert_eq!(
            rw("SELECT a ~* 'x' FROM t"),
            "SELECT pg_regex(a, 'x', 1) AS \"?column?\" FROM t"
        );
        assert!(rewrite("SELECT a OPERATOR(pg_catalog.@@) b FROM t").is_err());
    }

    #[test]
    fn any_and_all() {
        assert_eq!(
            rw("SELECT 1 FROM t WHERE x = ANY(ARRAY['a', 'b'])"),
            "SELECT 1 FROM t WHERE x IN ('a', 'b')"
        );
        assert_eq!(
            rw("SELECT 1 FROM t WHERE x <> ALL(ARRAY[1, 2])"),
            "SELECT 1 FROM t WHERE x NOT IN (1, 2)"
        );
        assert_eq!(
            rw("SELECT 'd' = any(stxkind) FROM t"),
            "SELECT pg_array_contains(stxkind, 'd') AS \"?column?\" FROM t"
        );
        assert!(rewrite("SELECT 1 FROM t WHERE x > ANY(ARRAY[1])").is_err());
        // A subquery's rows, not its first value.
        assert_eq!(
            rw("SELECT 1 FROM t WHERE x = ANY(SELECT y FROM u WHERE z = $1)"),
            "SELECT 1 FROM t WHERE x IN (SELECT y FROM u WHERE z = $1)"
        );
        assert_eq!(
            rw("SELECT 1 FROM t WHERE x <> ALL(SELECT y FROM u)"),
            "SELECT 1 FROM t WHERE x NOT IN (SELECT y FROM u)"
        );
        assert!(rewrite("SELECT 1 FROM t WHERE x < ALL(SELECT y FROM u)").is_err());
    }

    #[test]
    fn collate_default_is_dropped() {
        assert_eq!(
            rw("SELECT 1 FROM t WHERE a = 'x' COLLATE pg_catalog.default"),
            "SELECT 1 FROM t WHERE a = 'x'"
        );
        assert_eq!(
            rw("SELECT a COLLATE \"C\" FROM t"),
            "SELECT a COLLATE \"C\" FROM t"
        );
    }

    #[test]
    fn array_subquery() {
        assert_eq!(
            rw("SELECT ARRAY(SELECT rolname FROM pg_roles) AS m"),
            "SELECT pg_typed((WITH pg_array_rows (v) AS (SELECT rolname FROM pg_roles) SELECT coalesce(pg_typed(array_agg(v), 'TEXT[]'), '{}') FROM pg_array_rows), 'TEXT[]') AS m"
        );
        // Django's get_constraints: the element type from the catalog's column, the
        // order the subquery's.
        assert_eq!(
            rw("SELECT array(SELECT attnum FROM unnest(c.conkey) WITH ORDINALITY cols(colid, arridx) JOIN pg_attribute AS ca ON cols.colid = ca.attnum ORDER BY cols.arridx) FROM pg_constraint AS c"),
            "SELECT pg_typed((WITH pg_array_rows (v) AS (SELECT attnum FROM (SELECT value AS colid, key + 1 AS arridx FROM json_each(pg_array_json(c.conkey))) AS cols JOIN pg_attribute AS ca ON cols.colid = ca.attnum ORDER BY cols.arridx NULLS LAST) SELECT coalesce(pg_typed(array_agg(v), 'TEXT[]'), '{}') FROM pg_array_rows), 'INT2[]') AS \"array\" FROM pg_constraint AS c"
        );
    }

    #[test]
    fn parenthesized_union_operands() {
        assert_eq!(
            rw("SELECT NOT attnotnull FROM ( ( SELECT $1::int4 AS idx ) UNION ALL ( SELECT $2::int4 ) UNION ALL ( SELECT 3 ) ) AS col LEFT JOIN pg_catalog.pg_attribute ON attnum = idx"),
            "SELECT NOT attnotnull FROM (SELECT $1::INT4 AS idx UNION ALL SELECT $2::INT4 UNION ALL SELECT 3) AS col LEFT JOIN pg_attribute ON attnum = idx"
        );
        // Parentheses that scope an ORDER BY/LIMIT stay.
        assert_eq!(
            rw("select 1 from pg_class union (select 2 order by 1 limit 1)"),
            "SELECT 1 FROM pg_class UNION (SELECT 2 ORDER BY 1 NULLS LAST LIMIT 1)"
        );
    }

    #[test]
    fn subscripts() {
        assert_eq!(
            rw("SELECT prattrs[s] FROM t"),
            "SELECT pg_array_get(prattrs, s) AS \"prattrs\" FROM t"
        );
    }

    #[test]
    fn table_functions() {
        // Unqualified and without an alias: the column is named after the function.
        assert_eq!(
            crate::sql::rewrite("select count(*), max(generate_series) from generate_series(1,3)").unwrap(),
            "SELECT count(*), max(generate_series) FROM (WITH RECURSIVE pg_series (generate_series) AS (SELECT 1 WHERE 1 <= 3 UNION ALL SELECT generate_series + 1 FROM pg_series WHERE generate_series + 1 <= 3) SELECT generate_series FROM pg_series) AS generate_series"
        );
        // A step, downwards; an empty series when start is past stop.
        assert_eq!(
            rw("SELECT x FROM generate_series(10, 1, -3) x"),
            "SELECT x FROM (WITH RECURSIVE pg_series (x) AS (SELECT 10 WHERE 10 >= 1 UNION ALL SELECT x - 3 FROM pg_series WHERE x - 3 >= 1) SELECT x FROM pg_series) AS x"
        );
        assert!(crate::sql::rewrite("SELECT x FROM generate_series(1, 3, 0) x").is_err());
        assert!(crate::sql::rewrite("SELECT x FROM generate_series(1, 3, 0.5) x").is_err());
        assert!(crate::sql::rewrite("SELECT x FROM generate_series(1, 3, $1) x").is_err());
        assert_eq!(
            rw("SELECT s FROM pg_catalog.generate_series(0, 3) s"),
            "SELECT s FROM (WITH RECURSIVE pg_series (s) AS (SELECT 0 WHERE 0 <= 3 UNION ALL SELECT s + 1 FROM pg_series WHERE s + 1 <= 3) SELECT s FROM pg_series) AS s"
        );
        assert_eq!(
            rw("SELECT a.relid FROM pg_catalog.pg_partition_ancestors(t.x) WITH ORDINALITY AS a(relid, depth)"),
            "SELECT a.relid FROM (SELECT t.x AS relid, 1 AS depth) AS a"
        );
        assert_eq!(
            rw("SELECT * FROM pragma_table_info('t') WHERE name ~ 'x'"),
            "SELECT * FROM pragma_table_info('t') WHERE pg_regex(name, 'x', 0)"
        );
    }

    #[test]
    fn values_with_column_aliases() {
        assert_eq!(
            rw("SELECT a, b FROM (VALUES (1, 'x'), (2, 'y')) AS t(a, b)"),
            "SELECT a, b FROM (SELECT column1 AS a, column2 AS b FROM (VALUES (1, 'x'), (2, 'y'))) AS t"
        );
        // SQLAlchemy's many-rows INSERT.
        assert_eq!(
            rw("INSERT INTO book (title, author_id) SELECT p0::VARCHAR, p1::INTEGER FROM (VALUES ($1::VARCHAR, $2::INTEGER, 0), ($3::VARCHAR, $4::INTEGER, 1)) AS imp_sen(p0, p1, sen_counter) ORDER BY sen_counter RETURNING book.id"),
            "INSERT INTO book (title, author_id) SELECT p0::VARCHAR, p1::INTEGER FROM (SELECT column1 AS p0, column2 AS p1, column3 AS sen_counter FROM (VALUES ($1::VARCHAR, $2::INTEGER, 0), ($3::VARCHAR, $4::INTEGER, 1))) AS imp_sen ORDER BY sen_counter NULLS LAST RETURNING id"
        );
    }

    #[test]
    fn untouched_statements_stay_as_written() {
        assert_eq!(rewrite("SELECT 1").unwrap(), None);
        assert_eq!(rewrite("SELECT * FROM t WHERE a = 'pg_x'").unwrap(), None);
        assert_eq!(rewrite("INSERT INTO pg_x VALUES (1)").unwrap(), None);
        assert_eq!(rewrite("SELECT ((").unwrap(), None);
    }
}

#[cfg(test)]
mod bench {
    /// The cost of a repeated statement (a cache hit in `sql::rewrite`), printed; run with
    /// `cargo test --release -p pgproto-sqlite cache_hit -- --nocapture` for the real figure.
    #[test]
    fn cache_hit_cost() {
        let sql =
            "SELECT n.nspname AS \"Name\", pg_catalog.pg_get_userbyid(n.nspowner) AS \"Owner\"
                   FROM pg_catalog.pg_namespace n WHERE n.nspname !~ '^pg_' ORDER BY 1";
        let first = crate::sql::rewrite(sql).unwrap();
        let n = 20_000u32;
        let start = std::time::Instant::now();
        for _ in 0..n {
            assert_eq!(crate::sql::rewrite(sql).as_ref(), Ok(&first));
        }
        let per = start.elapsed() / n;
        eprintln!("parse+rewrite on a cache hit: {per:?} per statement");
        assert!(per < std::time::Duration::from_millis(1));
    }
}
