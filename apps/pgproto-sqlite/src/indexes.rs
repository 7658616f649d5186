//! `CREATE INDEX` with PostgreSQL's operator classes. `text_pattern_ops`,
//! `varchar_pattern_ops` and `bpchar_pattern_ops` make PostgreSQL's btree compare by
//! code point, so that `LIKE 'abc%'` can use it; SQLite's indexes always compare text
//! with `BINARY` (by code point), which is what they ask for: the operator class is
//! dropped (kept as a comment in the index's SQL, where the catalog finds it for
//! `pg_get_indexdef`). Any other operator class is refused with 0A000.

use crate::ddl::err;
use crate::sql::{tokenize, Kind};

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
