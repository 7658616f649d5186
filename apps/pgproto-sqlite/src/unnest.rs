//! `UNNEST(array, ...)` in `FROM`, in two forms:
//!
//! * **Bulk inserts**, as Django 5.2 writes them: `INSERT INTO t (a, b) SELECT * FROM
//!   UNNEST(('{x,y}')::varchar[], ('{1,2}'::int2[])::integer[])` ([`rewrite`], on the
//!   statement's tokens). Each argument (an array literal or parameter in PostgreSQL's
//!   text form, cast to an array type) becomes a JSON array (`_pgproto_array_json(value,
//!   element type)`) that SQLite's `json_each` reads; the arrays are zipped by position
//!   as PostgreSQL zips them (the shorter padded with NULLs), in order.
//! * **Beside the items it reads** (PostgreSQL's implicit `LATERAL`), or of several
//!   arrays, as Django's `get_constraints` reads indexes: `FROM pg_index i,
//!   unnest(i.indkey, i.indoption) WITH ORDINALITY koi(key, option, arridx)`
//!   ([`rewrite_lateral`], on the syntax tree). SQLite's derived tables cannot see an
//!   earlier `FROM` item, but its table-valued functions can: the item becomes
//!   `json_each(pg_srf_series(arrays...)) AS koi`, one row per subscript of the longest
//!   array, and each reference to one of its columns (`koi.key`, `key`, `*`, `koi.*`)
//!   the element at that subscript (`pg_array_nth`, NULL past an array's end, as
//!   PostgreSQL pads the shorter arrays) or the position (`WITH ORDINALITY`). An
//!   unqualified name that `json_each`'s own columns (`key`, `value`, `id`, `type`...)
//!   could capture where PostgreSQL would look elsewhere, and a name of one of the
//!   unnest's columns inside a subquery (whose own tables may have it), are refused
//!   with 0A000; beside one other item, such a name is qualified with that item's name,
//!   where PostgreSQL finds it. The set-returning JSON functions in `FROM`
//!   (`jsonb_each`..., see the `jsonfuncs` module) take the same form.

use std::ops::ControlFlow;

use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;
use sqlparser::ast::{
    Expr, Ident, JoinConstraint, JoinOperator, ObjectName, OrderBy, OrderByKind, Query, Select,
    SelectItem, SelectItemQualifiedWildcardKind, SetExpr, TableAlias, TableFactor, VisitMut,
    VisitorMut, WildcardAdditionalOptions,
};

use crate::sql::{list_items, matching_close, tokenize, Kind, Unsupported};

/// The statement with its `FROM UNNEST(...)` rewritten; `None` when it has none.
pub(crate) fn rewrite(sql: &str) -> Option<String> {
    let toks = tokenize(sql);
    let at = toks.iter().enumerate().position(|(i, t)| {
        t.is(sql, "UNNEST")
            && i > 0
            && toks.get(i - 1).is_some_and(|p| p.is(sql, "FROM"))
            && toks.get(i + 1).is_some_and(|p| p.is_punct(sql, "("))
    })?;
    let open = at + 1;
    let close = matching_close(sql, &toks, open)?;
    let mut arrays = Vec::new();
    for arg in list_items(sql, &toks, open, close) {
        let text = sql.get(toks.get(arg.start)?.start..toks.get(arg.end.checked_sub(1)?)?.end)?;
        arrays.push(array_argument(text)?);
    }
    let n = arrays.len();
    let mut from = String::new();
    let mut keys = Vec::new();
    for (i, (value, element)) in arrays.iter().enumerate() {
        let j = i + 1;
        let each = format!(
            "json_each(_pgproto_array_json({value}, '{}')) AS _pgproto_unnest{j}",
            element.replace('\'', "''")
        );
        if i == 0 {
            from.push_str(&each);
        } else {
            from.push_str(&format!(
                " FULL JOIN {each} ON _pgproto_unnest{j}.key = {}",
                first_of(&keys)
            ));
        }
        keys.push(format!("_pgproto_unnest{j}.key"));
    }
    let key = first_of(&keys);
    let columns = (1..=n)
        .map(|j| format!("_pgproto_unnest{j}.value AS unnest"))
        .collect::<Vec<_>>()
        .join(", ");
    let after = toks.get(close + 1);
    let alias_follows = after.is_some_and(|t| t.kind == Kind::Word || t.kind == Kind::Quoted)
        && !after.is_some_and(|t| {
            [
                "RETURNING",
                "WHERE",
                "ON",
                "ORDER",
                "GROUP",
                "LIMIT",
                "UNION",
            ]
            .iter()
            .any(|kw| t.is(sql, kw))
        });
    if alias_follows {
        // `UNNEST(...) AS u(a, b)`: not rewritten.
        return None;
    }
    // `INSERT ... SELECT ... ON CONFLICT`: SQLite reads `ON` after a `FROM` as a join's,
    // unless a `WHERE` comes between.
    let upsert = after.is_some_and(|t| t.is(sql, "ON"));
    Some(format!(
        "{}(SELECT {columns} FROM {from} ORDER BY {key}){}{}",
        sql.get(..toks.get(at)?.start)?,
        if upsert { " WHERE true" } else { "" },
        sql.get(toks.get(close)?.end..)?
    ))
}

/// The columns of SQLite's `json_each` (the hidden ones too), which an unqualified name
/// beside the lateral form could reach.
const JSON_EACH_COLUMNS: &[&str] = &[
    "key", "value", "type", "atom", "id", "parent", "fullkey", "path", "json", "root",
];

/// Rewrites each `unnest(...)` in the `FROM` of `query`'s selects that refers to an
/// earlier item of its `FROM` (or unnests several arrays) into `json_each` over the
/// subscripts, and the references to its columns in that select (and in `query`'s
/// `ORDER BY`) into the elements; whether anything changed. Run before the query's
/// parts are visited, so that they are rewritten as any other.
pub(crate) fn rewrite_lateral(query: &mut Query) -> Result<bool, Unsupported> {
    let Query { body, order_by, .. } = query;
    // `ORDER BY` sees a lone select's FROM items; after a set operation, only its
    // output columns.
    let lone = matches!(**body, SetExpr::Select(_));
    let mut changed = false;
    for select in crate::pgsql::selects_mut(body) {
        changed |= crate::jsonfuncs::lift_from_select_list(select);
        while let Some(lateral) = take_lateral(select)? {
            changed = true;
            lateral.replace_references(select, if lone { order_by.as_mut() } else { None })?;
        }
    }
    Ok(changed)
}

/// An `unnest` item made `json_each(...) AS qualifier`: its columns' names and values.
struct Lateral {
    qualifier: Ident,
    columns: Vec<(Ident, Expr)>,
    /// The one other item of the `FROM`, whose columns an unqualified name the lateral
    /// item lacks must be (PostgreSQL's reading, made explicit for SQLite).
    sole_other: Option<Ident>,
}

/// An identifier as PostgreSQL compares it: folded to lower case unless quoted.
fn folded(name: &Ident) -> String {
    match name.quote_style {
        Some(_) => name.value.clone(),
        None => name.value.to_ascii_lowercase(),
    }
}

fn same_name(a: &Ident, b: &Ident) -> bool {
    folded(a) == folded(b)
}

/// Whether `expr` names a column (of an earlier item or of an outer query).
fn refers_to_columns(expr: &Expr) -> bool {
    let mut found = false;
    let _ = sqlparser::ast::visit_expressions(expr, |e| {
        found |= matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_));
        ControlFlow::<()>::Continue(())
    });
    found
}

/// Replaces the first lateral `unnest` item of `select` with `json_each` over its
/// subscripts; what its columns became.
fn take_lateral(select: &mut Select) -> Result<Option<Lateral>, Unsupported> {
    let mut earlier = false;
    // The names of the FROM items: one beside the lateral item is where PostgreSQL
    // finds an unqualified name that item lacks.
    let names: Vec<Option<Ident>> = select
        .from
        .iter()
        .flat_map(|f| std::iter::once(&f.relation).chain(f.joins.iter().map(|j| &j.relation)))
        .map(factor_name)
        .collect();
    let sole_other = |me: &Ident| match names.as_slice() {
        [Some(a), Some(b)] if same_name(a, me) => Some(b.clone()),
        [Some(a), Some(b)] if same_name(b, me) => Some(a.clone()),
        _ => None,
    };
    for from in &mut select.from {
        let factors = std::iter::once(&mut from.relation)
            .chain(from.joins.iter_mut().map(|j| &mut j.relation));
        for factor in factors {
            if let TableFactor::Table {
                name,
                args: Some(fargs),
                alias,
                with_ordinality,
                ..
            } = factor
            {
                let args: Vec<String> = fargs.args.iter().map(ToString::to_string).collect();
                if let Some((call, qualifier, columns)) =
                    crate::jsonfuncs::from_item(name, &args, alias.as_ref(), *with_ordinality)?
                {
                    let mut lateral = Lateral {
                        sole_other: sole_other(&qualifier),
                        qualifier,
                        columns: Vec::new(),
                    };
                    for (n, e) in columns {
                        lateral.columns.push((n, crate::pgsql::parse_expr(&e)?));
                    }
                    *factor = json_each_factor(&call, &lateral.qualifier)?;
                    return Ok(Some(lateral));
                }
            }
            if let TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset: false,
                with_offset_alias: None,
                with_ordinality,
            } = factor
            {
                if array_exprs.len() > 1 || (earlier && array_exprs.iter().any(refers_to_columns)) {
                    let mut lateral =
                        lateral_columns(alias.as_ref(), array_exprs, *with_ordinality)?;
                    lateral.sole_other = sole_other(&lateral.qualifier);
                    let arrays: Vec<String> = array_exprs.iter().map(ToString::to_string).collect();
                    *factor = json_each_factor(
                        &format!("json_each(pg_srf_series({}))", arrays.join(", ")),
                        &lateral.qualifier,
                    )?;
                    return Ok(Some(lateral));
                }
            }
            earlier = true;
        }
    }
    Ok(None)
}

/// `call AS qualifier` as a `FROM` item.
fn json_each_factor(call: &str, qualifier: &Ident) -> Result<TableFactor, Unsupported> {
    let query = crate::pgsql::parse_query(&format!("SELECT 1 FROM {call} AS {qualifier}"))?;
    let SetExpr::Select(select) = *query.body else {
        return Err(Unsupported("internal rewrite failed".to_string()));
    };
    let Some(item) = select.from.into_iter().next() else {
        return Err(Unsupported("internal rewrite failed".to_string()));
    };
    Ok(item.relation)
}

/// The columns of `unnest(arrays) [WITH ORDINALITY] [AS alias]` read from `json_each`'s
/// row `alias.value` (the subscript from 0), named as PostgreSQL names them.
fn lateral_columns(
    alias: Option<&TableAlias>,
    arrays: &[Expr],
    ordinality: bool,
) -> Result<Lateral, Unsupported> {
    let qualifier = alias.map_or_else(|| Ident::new("unnest"), |a| a.name.clone());
    let count = arrays.len() + usize::from(ordinality);
    if let Some(a) = alias.filter(|a| a.columns.len() > count) {
        return Err(Unsupported(format!(
            "table \"{}\" has {count} columns available but {} columns specified",
            a.name.value,
            a.columns.len()
        )));
    }
    let named = |i: usize, default: Ident| {
        alias
            .and_then(|a| a.columns.get(i))
            .map_or(default, |c| c.name.clone())
    };
    let mut columns = Vec::new();
    for (i, array) in arrays.iter().enumerate() {
        // A lone array's column is named by the alias, as a scalar function's.
        let default = match (arrays.len(), alias) {
            (1, Some(a)) => a.name.clone(),
            _ => Ident::new("unnest"),
        };
        let element = format!("pg_array_nth({array}, {qualifier}.value + 1)");
        let value = match crate::select_list::integer_array(&array.to_string()) {
            Some((_, ty)) => format!("CAST({element} AS {ty})"),
            None => element,
        };
        columns.push((named(i, default), crate::pgsql::parse_expr(&value)?));
    }
    if ordinality {
        columns.push((
            named(arrays.len(), Ident::new("ordinality")),
            crate::pgsql::parse_expr(&format!("CAST({qualifier}.value + 1 AS INT8)"))?,
        ));
    }
    Ok(Lateral {
        qualifier,
        columns,
        sole_other: None,
    })
}

impl Lateral {
    fn column(&self, name: &Ident) -> Option<&Expr> {
        self.columns
            .iter()
            .find(|(c, _)| same_name(c, name))
            .map(|(_, e)| e)
    }

    /// Its columns as select-list items, named.
    fn items(&self) -> impl Iterator<Item = SelectItem> + '_ {
        self.columns
            .iter()
            .map(|(name, expr)| SelectItem::ExprWithAlias {
                expr: expr.clone(),
                alias: name.clone(),
            })
    }

    /// The references to its columns in `select` (and `order_by`) made its values.
    fn replace_references(
        &self,
        select: &mut Select,
        order_by: Option<&mut OrderBy>,
    ) -> Result<(), Unsupported> {
        // A bare reference in the select list keeps its column's name.
        for item in &mut select.projection {
            let SelectItem::UnnamedExpr(expr) = item else {
                continue;
            };
            let name = match expr {
                Expr::Identifier(c) if self.column(c).is_some() => c.clone(),
                Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                    [q, c] if same_name(q, &self.qualifier) => c.clone(),
                    _ => continue,
                },
                _ => continue,
            };
            *item = SelectItem::ExprWithAlias {
                expr: expr.clone(),
                alias: name,
            };
        }
        // `ORDER BY name` of an output column is that column (SQLite reads it so too).
        let mut outputs: Vec<Ident> = Vec::new();
        for item in &select.projection {
            match item {
                SelectItem::ExprWithAlias { alias, .. } => outputs.push(alias.clone()),
                SelectItem::UnnamedExpr(Expr::Identifier(c)) => outputs.push(c.clone()),
                SelectItem::Wildcard(_) => outputs.extend(self.columns.iter().map(|c| c.0.clone())),
                _ => {}
            }
        }
        let mut references = References {
            lateral: self,
            depth: 0,
            error: None,
        };
        let _ = select.visit(&mut references);
        if let Some(OrderByKind::Expressions(keys)) = order_by.map(|o| &mut o.kind) {
            for key in keys {
                if matches!(&key.expr, Expr::Identifier(c) if outputs.iter().any(|o| same_name(o, c)))
                {
                    continue;
                }
                let _ = key.expr.visit(&mut references);
            }
        }
        if let Some(e) = references.error {
            return Err(e);
        }
        // `*` and `alias.*`, after the visit (their values are already rewritten).
        let mut projection = Vec::new();
        for item in std::mem::take(&mut select.projection) {
            match item {
                SelectItem::Wildcard(options) => {
                    if !plain(&options) {
                        return Err(Unsupported(
                            "* with options beside unnest() is not supported".to_string(),
                        ));
                    }
                    for from in &select.from {
                        self.expand(&from.relation, &mut projection)?;
                        for join in &from.joins {
                            if merges_columns(&join.join_operator) {
                                return Err(Unsupported(
                                    "* of a join USING or NATURAL beside unnest() is not supported"
                                        .to_string(),
                                ));
                            }
                            self.expand(&join.relation, &mut projection)?;
                        }
                    }
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(n),
                    _,
                ) if matches!(n.0.as_slice(), [sqlparser::ast::ObjectNamePart::Identifier(q)] if same_name(q, &self.qualifier)) =>
                {
                    projection.extend(self.items());
                }
                other => projection.push(other),
            }
        }
        select.projection = projection;
        Ok(())
    }

    /// `*` of one `FROM` item: `item.*`, or this item's columns.
    fn expand(&self, factor: &TableFactor, out: &mut Vec<SelectItem>) -> Result<(), Unsupported> {
        if let TableFactor::NestedJoin {
            table_with_joins,
            alias: None,
        } = factor
        {
            self.expand(&table_with_joins.relation, out)?;
            for join in &table_with_joins.joins {
                if merges_columns(&join.join_operator) {
                    return Err(Unsupported(
                        "* of a join USING or NATURAL beside unnest() is not supported".to_string(),
                    ));
                }
                self.expand(&join.relation, out)?;
            }
            return Ok(());
        }
        let Some(name) = factor_name(factor) else {
            return Err(Unsupported(format!(
                "* of {factor} beside unnest() is not supported"
            )));
        };
        if same_name(&name, &self.qualifier) {
            out.extend(self.items());
        } else {
            out.push(SelectItem::QualifiedWildcard(
                SelectItemQualifiedWildcardKind::ObjectName(ObjectName::from(vec![name])),
                WildcardAdditionalOptions::default(),
            ));
        }
        Ok(())
    }
}

/// Whether `*` has none of the options some dialects give it (`EXCEPT`...).
fn plain(options: &WildcardAdditionalOptions) -> bool {
    options.opt_ilike.is_none()
        && options.opt_exclude.is_none()
        && options.opt_except.is_none()
        && options.opt_replace.is_none()
        && options.opt_rename.is_none()
}

/// Whether a join shows its joined columns once in `*` (`USING`, `NATURAL`).
fn merges_columns(op: &JoinOperator) -> bool {
    use JoinOperator as J;
    let constraint = match op {
        J::Join(c)
        | J::Inner(c)
        | J::Left(c)
        | J::LeftOuter(c)
        | J::Right(c)
        | J::RightOuter(c)
        | J::FullOuter(c)
        | J::Semi(c)
        | J::LeftSemi(c)
        | J::RightSemi(c)
        | J::Anti(c)
        | J::LeftAnti(c)
        | J::RightAnti(c)
        | J::StraightJoin(c)
        | J::AsOf { constraint: c, .. } => c,
        J::CrossJoin | J::CrossApply | J::OuterApply => return false,
    };
    matches!(
        constraint,
        JoinConstraint::Using(_) | JoinConstraint::Natural
    )
}

/// The name a `FROM` item's columns are qualified with.
fn factor_name(factor: &TableFactor) -> Option<Ident> {
    match factor {
        TableFactor::Table { alias: Some(a), .. } => Some(a.name.clone()),
        TableFactor::Table { name, .. } => match name.0.last()? {
            sqlparser::ast::ObjectNamePart::Identifier(i) => Some(i.clone()),
            _ => None,
        },
        TableFactor::Derived { alias, .. }
        | TableFactor::UNNEST { alias, .. }
        | TableFactor::Function { alias, .. }
        | TableFactor::TableFunction { alias, .. }
        | TableFactor::NestedJoin { alias, .. } => alias.as_ref().map(|a| a.name.clone()),
        _ => None,
    }
}

/// Rewrites the references to a lateral item's columns (see [`Lateral`]).
struct References<'a> {
    lateral: &'a Lateral,
    /// How many subqueries deep the visit is.
    depth: usize,
    error: Option<Unsupported>,
}

impl References<'_> {
    fn refuse(&mut self, what: String) -> ControlFlow<()> {
        self.error = Some(Unsupported(what));
        ControlFlow::Break(())
    }
}

impl VisitorMut for References<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth = self.depth.saturating_sub(1);
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        if self.depth > 0
            && factor_name(factor).is_some_and(|n| same_name(&n, &self.lateral.qualifier))
        {
            return self.refuse(format!(
                "a subquery's FROM item named {} beside unnest() of that name is not supported",
                self.lateral.qualifier
            ));
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::Identifier(name) => {
                let captured = JSON_EACH_COLUMNS.contains(&folded(name).as_str());
                match self.lateral.column(name) {
                    Some(value) if self.depth == 0 => *expr = value.clone(),
                    Some(_) => {
                        return self.refuse(format!(
                            "column {name} of unnest() in a subquery is not supported (qualify it)"
                        ))
                    }
                    None if captured && self.depth == 0 && self.lateral.sole_other.is_some() => {
                        if let Some(other) = &self.lateral.sole_other {
                            *expr = Expr::CompoundIdentifier(vec![other.clone(), name.clone()]);
                        }
                    }
                    None if captured => {
                        return self.refuse(format!(
                            "an unqualified column named {name} beside unnest() of another item is not supported (qualify it)"
                        ))
                    }
                    None => {}
                }
            }
            Expr::CompoundIdentifier(parts) => {
                let [qualifier, name] = parts.as_slice() else {
                    return ControlFlow::Continue(());
                };
                if !same_name(qualifier, &self.lateral.qualifier) {
                    return ControlFlow::Continue(());
                }
                match self.lateral.column(name) {
                    Some(value) => *expr = value.clone(),
                    None => {
                        let what = format!("column {qualifier}.{name} does not exist");
                        return self.refuse(what);
                    }
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// The first of `keys` that is not NULL (SQLite's `coalesce` wants two or more).
fn first_of(keys: &[String]) -> String {
    match keys {
        [one] => one.clone(),
        _ => format!("coalesce({})", keys.join(", ")),
    }
}

/// An argument `((value)::t1[])::t2[]`: the value and the last cast's element type.
fn array_argument(text: &str) -> Option<(String, String)> {
    let mut text = text.trim();
    let mut element = None;
    loop {
        if let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
            let toks = tokenize(text);
            if matching_close(text, &toks, 0).is_some_and(|c| c + 1 == toks.len()) {
                text = inner.trim();
                continue;
            }
        }
        let toks = tokenize(text);
        // The last top-level `::type[]`.
        let mut depth = 0usize;
        let mut cast = None;
        for (k, t) in toks.iter().enumerate() {
            if t.is_punct(text, "(") {
                depth += 1;
            } else if t.is_punct(text, ")") {
                depth = depth.saturating_sub(1);
            } else if depth == 0 && t.is_punct(text, "::") {
                cast = Some(k);
            }
        }
        let Some(k) = cast else { break };
        let ty = text.get(toks.get(k + 1)?.start..)?.trim();
        let ty = ty.strip_suffix("[]")?.trim();
        if element.is_none() {
            element = Some(ty.to_ascii_lowercase());
        }
        text = text.get(..toks.get(k)?.start)?.trim();
    }
    Some((text.to_string(), element?))
}

/// PostgreSQL's text form of a one-dimensional array as a JSON array: elements of an
/// integer or boolean type as JSON numbers and booleans, others as strings, `NULL` as
/// null. Errors as PostgreSQL's (22P02), 0A000 for several dimensions.
pub(crate) fn array_json(text: &str, element: &str) -> Result<String, (String, String)> {
    let bad = || crate::ddl::err("22P02", format!("malformed array literal: \"{text}\""));
    let inner = text
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(bad)?;
    let mut items: Vec<Option<String>> = Vec::new();
    let mut chars = inner.chars().peekable();
    if !inner.trim().is_empty() {
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let mut item = String::new();
            let quoted = chars.peek() == Some(&'"');
            if quoted {
                chars.next();
                loop {
                    match chars.next().ok_or_else(bad)? {
                        '"' => break,
                        '\\' => item.push(chars.next().ok_or_else(bad)?),
                        c => item.push(c),
                    }
                }
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    if c == '{' {
                        return Err(crate::ddl::err(
                            "0A000",
                            "UNNEST of a multidimensional array is not supported",
                        ));
                    }
                    if c == '"' {
                        return Err(bad());
                    }
                    item.push(c);
                    chars.next();
                }
                item = item.trim().to_string();
            }
            if !quoted && item.eq_ignore_ascii_case("NULL") {
                items.push(None);
            } else if !quoted && item.is_empty() {
                return Err(bad());
            } else {
                items.push(Some(item));
            }
            match chars.next() {
                None => break,
                Some(',') => continue,
                Some(_) => return Err(bad()),
            }
        }
    }
    let (oid, _) = crate::types::declared(element);
    let mut out = Vec::new();
    for item in items {
        let Some(item) = item else {
            out.push("null".to_string());
            continue;
        };
        out.push(match oid {
            crate::types::INT2 | crate::types::INT4 | crate::types::INT8 => {
                let n: i64 = item.trim().parse().map_err(|_| {
                    crate::ddl::err(
                        "22P02",
                        format!("invalid input syntax for type {element}: \"{item}\""),
                    )
                })?;
                n.to_string()
            }
            crate::types::BOOL => match item.trim().to_ascii_lowercase().as_str() {
                "t" | "true" | "yes" | "on" | "1" | "y" => "true".to_string(),
                "f" | "false" | "no" | "off" | "0" | "n" => "false".to_string(),
                _ => {
                    return Err(crate::ddl::err(
                        "22P02",
                        format!("invalid input syntax for type boolean: \"{item}\""),
                    ))
                }
            },
            _ => json_string(&item),
        });
    }
    Ok(format!("[{}]", out.join(",")))
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Registers `_pgproto_array_json(array text, element type)`.
pub(crate) fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("_pgproto_array_json", 2, flags, |ctx| {
        let Some(text) = ctx.get::<Option<String>>(0)? else {
            return Ok(None);
        };
        let element: String = ctx.get(1)?;
        array_json(&text, &element)
            .map(Some)
            .map_err(|(code, m)| rusqlite::Error::UserFunctionError(format!("[{code}] {m}").into()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(sql: &str) -> String {
        crate::pgsql::rewrite(sql).unwrap().unwrap()
    }

    #[test]
    fn lateral_unnest_becomes_json_each_over_the_subscripts() {
        // Django's get_constraints (indexes): `*` is the earlier item's columns, then
        // the unnest's.
        assert_eq!(
            rw("SELECT * FROM pg_index i, unnest(i.indkey, i.indoption) WITH ORDINALITY koi(key, option, arridx)"),
            "SELECT i.*, CAST(pg_array_nth(i.indkey, pg_add(koi.value, 1)) AS INT2) AS key, \
             CAST(pg_array_nth(i.indoption, pg_add(koi.value, 1)) AS INT2) AS option, \
             CAST(pg_add(koi.value, 1) AS INT8) AS arridx \
             FROM pg_index AS i, json_each(pg_srf_series(i.indkey, i.indoption)) AS koi"
        );
        // Qualified and unqualified references, in WHERE, ORDER BY and the select
        // list (keeping the column's name); an output name in ORDER BY stays.
        assert_eq!(
            rw("SELECT t.id, u.x, x AS z FROM t CROSS JOIN unnest(t.a) AS u(x) WHERE x > 1 ORDER BY u.x, z"),
            "SELECT t.id, pg_array_nth(t.a, pg_add(u.value, 1)) AS x, pg_array_nth(t.a, pg_add(u.value, 1)) AS z \
             FROM t CROSS JOIN json_each(pg_srf_series(t.a)) AS u \
             WHERE pg_array_nth(t.a, pg_add(u.value, 1)) > 1 \
             ORDER BY pg_array_nth(t.a, pg_add(u.value, 1)) NULLS LAST, z NULLS LAST"
        );
        // Several arrays alone: the same form; without an alias, PostgreSQL's names.
        assert_eq!(
            rw("SELECT * FROM unnest(current_schemas(true), current_schemas(false))"),
            "SELECT pg_array_nth(current_schemas(true), pg_add(unnest.value, 1)) AS unnest, \
             pg_array_nth(current_schemas(false), pg_add(unnest.value, 1)) AS unnest \
             FROM json_each(pg_srf_series(current_schemas(true), current_schemas(false))) AS unnest"
        );
        // `alias.*`, and a lone array named by its alias.
        assert_eq!(
            rw("SELECT t.id, u.* FROM t, unnest(t.a) WITH ORDINALITY u"),
            "SELECT t.id, pg_array_nth(t.a, pg_add(u.value, 1)) AS u, CAST(pg_add(u.value, 1) AS INT8) AS ordinality \
             FROM t, json_each(pg_srf_series(t.a)) AS u"
        );
        // Beside nothing it reads: still a derived table.
        assert_eq!(
            rw("SELECT x FROM t, unnest(current_schemas(true)) AS u(x)"),
            "SELECT x FROM t, (SELECT value AS x FROM json_each(pg_array_json(current_schemas(true)))) AS u"
        );
        // What json_each's own columns could capture, or a subquery's tables could
        // hold, is refused (0A000); so is a column the unnest does not have.
        assert_eq!(
            rw("SELECT id FROM t, unnest(t.a) u(x)"),
            "SELECT t.id FROM t, json_each(pg_srf_series(t.a)) AS u"
        );
        for sql in [
            "SELECT id FROM t, r, unnest(t.a) u(x)",
            "SELECT (SELECT x FROM s) FROM t, unnest(t.a) u(x)",
            "SELECT (SELECT u.x FROM s AS u) FROM t, unnest(t.a) u(x)",
            "SELECT u.type FROM t, unnest(t.a) u(x)",
            "SELECT * FROM t JOIN r USING (id), unnest(t.a) u(x)",
            "SELECT * FROM t, unnest(t.a) u(x, y, z)",
        ] {
            assert!(crate::pgsql::rewrite(sql).is_err(), "{sql}");
        }
    }

    #[test]
    fn lateral_unnest_runs_on_sqlite() {
        let conn = Connection::open_in_memory().unwrap();
        crate::catalog::register_functions(&conn).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id int, a text, b text); \
             INSERT INTO t VALUES (1, '{10,20,30}', '{x,y}'), (2, '{}', '{z}'), (3, NULL, NULL)",
        )
        .unwrap();
        let sql = rw(
            "SELECT t.id, u.* FROM t, unnest(t.a, t.b) WITH ORDINALITY u(n, s, i) ORDER BY t.id, i",
        );
        let rows: Vec<(i64, Option<String>, Option<String>, i64)> = conn
            .prepare(&sql)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        // The shorter array padded with NULL, as PostgreSQL pads it; no rows for an
        // empty or NULL pair.
        let row = |id, n: Option<&str>, s: Option<&str>, i| {
            (id, n.map(String::from), s.map(String::from), i)
        };
        assert_eq!(
            rows,
            vec![
                row(1, Some("10"), Some("x"), 1),
                row(1, Some("20"), Some("y"), 2),
                row(1, Some("30"), None, 3),
                row(2, None, Some("z"), 1),
            ]
        );
    }

    #[test]
    fn unnest_becomes_json_each() {
        let sql = r#"INSERT INTO "t" ("name", "n") SELECT * FROM UNNEST(('{"a b",c}')::varchar[], ('{1,2}'::int2[])::integer[]) RETURNING "t"."id""#;
        assert_eq!(
            rewrite(sql).unwrap(),
            r#"INSERT INTO "t" ("name", "n") SELECT * FROM (SELECT _pgproto_unnest1.value AS unnest, _pgproto_unnest2.value AS unnest FROM json_each(_pgproto_array_json('{"a b",c}', 'varchar')) AS _pgproto_unnest1 FULL JOIN json_each(_pgproto_array_json('{1,2}', 'integer')) AS _pgproto_unnest2 ON _pgproto_unnest2.key = _pgproto_unnest1.key ORDER BY coalesce(_pgproto_unnest1.key, _pgproto_unnest2.key)) RETURNING "t"."id""#
        );
        assert_eq!(rewrite("SELECT * FROM t"), None);
        assert_eq!(
            array_json(r#"{"a \"b\"",NULL,"NULL", x }"#, "text").unwrap(),
            r#"["a \"b\"",null,"NULL","x"]"#
        );
        assert_eq!(array_json("{1, -2}", "bigint").unwrap(), "[1,-2]");
        assert_eq!(array_json("{t,f}", "boolean").unwrap(), "[true,false]");
        assert_eq!(array_json("{}", "integer").unwrap(), "[]");
        assert_eq!(array_json("{x}", "integer").unwrap_err().0, "22P02");
        assert_eq!(array_json("{{1}}", "integer").unwrap_err().0, "0A000");
        assert_eq!(array_json("1,2", "integer").unwrap_err().0, "22P02");
    }

    #[test]
    fn unnest_runs_on_sqlite() {
        let conn = Connection::open_in_memory().unwrap();
        register_functions(&conn).unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name text, n int)")
            .unwrap();
        let sql = rewrite(
            "INSERT INTO t (name, n) SELECT * FROM UNNEST(('{a,b,c}')::varchar[], ('{1,2}')::integer[]) RETURNING id",
        )
        .unwrap();
        conn.execute_batch(&sql).unwrap();
        let sql = rewrite(
            "INSERT INTO t (id, name) SELECT * FROM UNNEST(('{1,9}')::integer[], ('{x,y}')::text[]) ON CONFLICT DO NOTHING",
        )
        .unwrap();
        conn.execute_batch(&sql).unwrap();
        let rows: Vec<(String, Option<i64>)> = conn
            .prepare("SELECT name, n FROM t ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            rows,
            vec![
                ("a".into(), Some(1)),
                ("b".into(), Some(2)),
                ("c".into(), None),
                ("y".into(), None)
            ]
        );
    }
}
