//! `CREATE INDEX` as PostgreSQL reads it: without a name (PostgreSQL chooses one,
//! [`as_sqlite_reads_it`]), `CONCURRENTLY`, `ON ONLY`, `USING btree`; and with
//! PostgreSQL's operator classes. `text_pattern_ops`,
//! `varchar_pattern_ops` and `bpchar_pattern_ops` make PostgreSQL's btree compare by
//! code point, so that `LIKE 'abc%'` can use it; SQLite's indexes always compare text
//! with `BINARY` (by code point), which is what they ask for: the operator class is
//! dropped (kept as a comment in the index's SQL, where the catalog finds it for
//! `pg_get_indexdef`). Any other operator class is refused with 0A000.

use crate::ddl::{err, name_at};
use crate::sql::{tokenize, Kind};

/// `CREATE [UNIQUE] INDEX [CONCURRENTLY] [[IF NOT EXISTS] name] ON [ONLY] table [USING
/// method] (...)` and `DROP INDEX [CONCURRENTLY] ...` in SQLite's words: the name
/// PostgreSQL would choose when there is none (`table_column_idx`, then `...idx1`...,
/// see [`chosen_name`]), `CONCURRENTLY` (25001 inside a transaction block, as in
/// PostgreSQL), `ONLY` and `USING btree` dropped; another access method is refused
/// with 0A000 (the catalog would describe the index as a btree). `None` when there is
/// nothing to change (or it is no such statement). `taken` says whether a relation
/// has a name.
pub(crate) fn as_sqlite_reads_it(
    sql: &str,
    in_block: bool,
    taken: impl Fn(&str) -> bool,
) -> Option<Result<String, (String, String)>> {
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let (index, drop) = if w(0, "CREATE") && w(1, "INDEX") {
        (1, false)
    } else if w(0, "CREATE") && w(1, "UNIQUE") && w(2, "INDEX") {
        (2, false)
    } else if w(0, "DROP") && w(1, "INDEX") {
        (1, true)
    } else {
        return None;
    };
    // Byte ranges of the text to leave out, and text to put in at a place.
    let mut cut: Vec<(usize, usize)> = Vec::new();
    let mut insert: Option<(usize, String)> = None;
    let mut i = index + 1;
    if w(i, "CONCURRENTLY") {
        if in_block {
            let verb = if drop { "DROP" } else { "CREATE" };
            return Some(Err(err(
                "25001",
                format!("{verb} INDEX CONCURRENTLY cannot run inside a transaction block"),
            )));
        }
        let t = toks.get(i)?;
        cut.push((t.start, t.end));
        i += 1;
    }
    if !drop {
        if w(i, "ON") {
            // No name: PostgreSQL chooses one from the table and the columns.
            let (table, _) = name_at(sql, &toks, if w(i + 1, "ONLY") { i + 2 } else { i + 1 })?;
            let open =
                (i..toks.len()).find(|&k| toks.get(k).is_some_and(|t| t.is_punct(sql, "(")))?;
            let close = crate::sql::matching_close(sql, &toks, open)?;
            let columns = element_names(sql, &toks, open, close);
            let name = chosen_name(&table, &columns, &taken);
            let at = toks.get(i)?.start;
            insert = Some((at, format!("\"{}\" ", name.replace('"', "\"\""))));
        } else {
            i = (i..toks.len()).find(|&k| w(k, "ON"))?;
        }
        if w(i + 1, "ONLY") {
            let t = toks.get(i + 1)?;
            cut.push((t.start, t.end));
        }
        if let Some(using) = (i..toks.len()).find(|&k| w(k, "USING")) {
            let method = toks.get(using + 1)?;
            let name = method.text(sql).to_ascii_lowercase();
            if toks.get(using + 2).is_some_and(|t| t.is_punct(sql, "(")) && name != "btree" {
                return Some(Err(err(
                    "0A000",
                    format!("index access method \"{name}\" is not supported: SQLite's indexes are btrees"),
                )));
            }
            if toks.get(using + 2).is_some_and(|t| t.is_punct(sql, "(")) {
                cut.push((toks.get(using)?.start, method.end));
            }
        }
    }
    let mut edits: Vec<(usize, usize, String)> = cut
        .into_iter()
        .map(|(a, b)| (a, b, String::new()))
        .collect();
    if let Some((at, text)) = insert {
        edits.push((at, at, text));
    }
    crate::sql::apply_edits(sql, edits).map(Ok)
}

/// The name PostgreSQL chooses for an index of `table` on `columns` (their names, or a
/// function's name or `expr` for an expression): `table_col1_col2_idx`, or with a
/// number after `idx` when that is taken; each part cut so that the name fits in
/// PostgreSQL's 63 bytes, as PostgreSQL cuts it.
pub(crate) fn chosen_name(table: &str, columns: &[String], taken: impl Fn(&str) -> bool) -> String {
    let mut addition = String::new();
    for c in columns {
        if !addition.is_empty() {
            addition.push('_');
        }
        addition.push_str(c);
        if addition.len() >= 63 {
            break;
        }
    }
    let mut pass = 0;
    loop {
        let label = if pass == 0 {
            "idx".to_string()
        } else {
            format!("idx{pass}")
        };
        let name = object_name(table, &addition, &label);
        if !taken(&name) {
            return name;
        }
        pass += 1;
    }
}

/// PostgreSQL's `makeObjectName`: `name1_name2_label`, the longer of the first two cut
/// until it fits in 63 bytes (at a character boundary).
fn object_name(name1: &str, name2: &str, label: &str) -> String {
    let overhead = label.len() + 1 + usize::from(!name2.is_empty());
    let (mut n1, mut n2) = (name1.len(), name2.len());
    while n1 + n2 + overhead > 63 {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let cut = |s: &str, mut n: usize| {
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s[..n].to_string()
    };
    let mut out = cut(name1, n1);
    if !name2.is_empty() {
        out.push('_');
        out.push_str(&cut(name2, n2));
    }
    out.push('_');
    out.push_str(label);
    out
}

/// The names PostgreSQL gives an index's elements between `open` and `close`: a
/// column's name, a function call's name, else `expr`.
fn element_names(sql: &str, toks: &[crate::sql::Tok], open: usize, close: usize) -> Vec<String> {
    let mut names = Vec::new();
    let mut k = open + 1;
    while k < close {
        let Some(t) = toks.get(k) else { break };
        let next_is_open = toks.get(k + 1).is_some_and(|n| n.is_punct(sql, "("));
        let name = match t.kind {
            Kind::Word | Kind::Quoted if next_is_open => t
                .ident(sql)
                .unwrap_or_else(|| "expr".into())
                .to_ascii_lowercase(),
            Kind::Word => t.text(sql).to_ascii_lowercase(),
            Kind::Quoted => t.ident(sql).unwrap_or_else(|| "expr".into()),
            _ => "expr".to_string(),
        };
        names.push(name);
        // On to the next element.
        let mut depth = 0usize;
        while k < close {
            let Some(t) = toks.get(k) else { break };
            if t.is_punct(sql, "(") {
                depth += 1;
            } else if t.is_punct(sql, ")") {
                depth = depth.saturating_sub(1);
            } else if depth == 0 && t.is_punct(sql, ",") {
                break;
            }
            k += 1;
        }
        k += 1;
    }
    names
}

/// The operator classes SQLite's indexes stand for.
const PATTERN_OPS: [&str; 3] = [
    "text_pattern_ops",
    "varchar_pattern_ops",
    "bpchar_pattern_ops",
];

/// Words that may follow an index column in SQLite's syntax.
const AFTER_COLUMN: [&str; 6] = ["ASC", "DESC", "NULLS", "FIRST", "LAST", "COLLATE"];

/// A `CREATE INDEX` statement with its operator classes made comments; `None` when it
/// names none (or is no `CREATE INDEX`), 0A000 for an operator class SQLite has no
/// counterpart of.
pub(crate) fn without_operator_classes(sql: &str) -> Option<Result<String, (String, String)>> {
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let index = if w(1, "UNIQUE") { 2 } else { 1 };
    if !(w(0, "CREATE") && w(index, "INDEX")) {
        return None;
    }
    let on = (index..toks.len()).find(|&i| w(i, "ON"))?;
    let open = (on..toks.len()).find(|&i| toks.get(i).is_some_and(|t| t.is_punct(sql, "(")))?;
    let close = crate::sql::matching_close(sql, &toks, open)?;
    let mut out = String::new();
    let mut last = 0;
    let mut depth = 0usize;
    let mut element_len = 0usize;
    let mut collate = false;
    for k in open + 1..close {
        let t = toks.get(k)?;
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.saturating_sub(1);
        }
        if depth > 0 || t.is_punct(sql, ")") {
            element_len += 1;
            continue;
        }
        if t.is_punct(sql, ",") {
            element_len = 0;
            collate = false;
            continue;
        }
        let after_collate = std::mem::take(&mut collate);
        collate = t.is(sql, "COLLATE");
        element_len += 1;
        // A word after the column (or expression) that SQLite would not take there.
        let opclass = element_len > 1
            && !after_collate
            && t.kind == Kind::Word
            && !AFTER_COLUMN.iter().any(|kw| t.is(sql, kw));
        if !opclass {
            continue;
        }
        let name = t.text(sql).to_ascii_lowercase();
        if !PATTERN_OPS.contains(&name.as_str()) {
            return Some(Err(err(
                "0A000",
                format!("operator class {name} is not supported"),
            )));
        }
        out.push_str(sql.get(last..t.start)?);
        out.push_str(&format!("/* {name} */"));
        last = t.end;
    }
    if last == 0 {
        return None;
    }
    out.push_str(sql.get(last..)?);
    Some(Ok(out))
}

/// The operator class of each column of an index created by `sql` (its text in
/// `sqlite_schema`, where [`without_operator_classes`] left them as comments).
pub(crate) fn operator_classes(sql: &str) -> Vec<Option<String>> {
    let toks = tokenize(sql);
    let Some(on) = toks.iter().position(|t| t.is(sql, "ON")) else {
        return Vec::new();
    };
    let Some(open) = (on..toks.len()).find(|&i| toks.get(i).is_some_and(|t| t.is_punct(sql, "(")))
    else {
        return Vec::new();
    };
    let Some(close) = crate::sql::matching_close(sql, &toks, open) else {
        return Vec::new();
    };
    // Each element's text from the `(` or `,` before it to the `,` or `)` after it, with
    // the comments (which are not tokens).
    crate::sql::list_items(sql, &toks, open, close)
        .into_iter()
        .map(|item| {
            let from = item.start.checked_sub(1).and_then(|k| toks.get(k));
            let (from, to) = (
                from.map_or(0, |t| t.end),
                toks.get(item.end).map_or(0, |t| t.start),
            );
            let element = sql.get(from..to).unwrap_or("");
            PATTERN_OPS
                .iter()
                .find(|op| element.contains(&format!("/* {op} */")))
                .map(|op| op.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgresql_s_index_forms_become_sqlite_s() {
        let taken = |n: &str| n == "t_a_idx" || n == "t_a_idx1";
        let f = |sql: &str, in_block: bool| {
            as_sqlite_reads_it(sql, in_block, taken).map(|r| r.map_err(|e| e.0))
        };
        assert_eq!(
            f("create index on t (b)", false),
            Some(Ok("create index \"t_b_idx\" on t (b)".into()))
        );
        assert_eq!(
            f("CREATE INDEX ON t (a)", false),
            Some(Ok("CREATE INDEX \"t_a_idx2\" ON t (a)".into()))
        );
        assert_eq!(
            f("create unique index concurrently on only public.t using btree (lower(b), \"C\", (a + 1))", false),
            Some(Ok("create unique index  \"t_lower_C_expr_idx\" on  public.t  (lower(b), \"C\", (a + 1))".into()))
        );
        assert_eq!(
            f("create index concurrently i on t (a)", true),
            Some(Err("25001".into()))
        );
        assert_eq!(
            f("drop index concurrently if exists i", false),
            Some(Ok("drop index  if exists i".into()))
        );
        assert_eq!(
            f("create index i on t using gin (a)", false),
            Some(Err("0A000".into()))
        );
        assert_eq!(f("create index i on t (a)", false), None);
        assert_eq!(f("create table t (a int)", false), None);
        let long = "a".repeat(40);
        assert_eq!(
            chosen_name(&long, &["b".repeat(40)], |_| false),
            format!("{}_{}_idx", "a".repeat(29), "b".repeat(29))
        );
    }

    #[test]
    fn pattern_ops_become_comments() {
        assert_eq!(
            without_operator_classes(
                r#"CREATE INDEX "t_label_like" ON "t" ("label" varchar_pattern_ops)"#
            ),
            Some(Ok(
                r#"CREATE INDEX "t_label_like" ON "t" ("label" /* varchar_pattern_ops */)"#.into()
            ))
        );
        assert_eq!(
            without_operator_classes(
                "create unique index i on t (a, lower(b) text_pattern_ops desc, c collate nocase)"
            ),
            Some(Ok(
                "create unique index i on t (a, lower(b) /* text_pattern_ops */ desc, c collate nocase)"
                    .into()
            ))
        );
        assert_eq!(
            without_operator_classes("create index i on t (a desc, b)"),
            None
        );
        assert_eq!(without_operator_classes("create table t (a text)"), None);
        assert_eq!(
            without_operator_classes("create index i on t (a int4_ops)")
                .map(|r| r.map_err(|e| e.0)),
            Some(Err("0A000".into()))
        );
        assert_eq!(
            operator_classes(r#"CREATE INDEX i ON "t" (a, "label" /* varchar_pattern_ops */)"#),
            vec![None, Some("varchar_pattern_ops".into())]
        );
    }
}
