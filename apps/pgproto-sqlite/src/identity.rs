//! Identity columns on the way in, as PostgreSQL treats them. An identity column is
//! declared in SQLite with `DEFAULT (nextval('t_col_seq'))` (see the `sequences`
//! module), so SQLite alone would take any value given for it. Before an `INSERT` or
//! `UPDATE` runs, its text is read here against its table's identity columns:
//!
//! * a value other than `DEFAULT` for a `GENERATED ALWAYS` column fails with 428C9
//!   (`cannot insert a non-DEFAULT value into column ...`, with PostgreSQL's detail and
//!   hint), unless the statement says `OVERRIDING SYSTEM VALUE`;
//! * `OVERRIDING USER VALUE` replaces the values given for identity columns with
//!   `DEFAULT` (the next value of the sequence), as PostgreSQL ignores them;
//! * `UPDATE ... SET c = DEFAULT` of an identity column takes the sequence's next value;
//!   any other value for a `GENERATED ALWAYS` one fails with 428C9 (`column ... can only
//!   be updated to DEFAULT`), and so does `ON CONFLICT ... DO UPDATE SET`.
//!
//! `OVERRIDING` itself is removed (SQLite lacks it). What cannot be read this way
//! (`OVERRIDING USER VALUE` with a query, a data-modifying `WITH` on such a table, a
//! multi-column assignment of one) is refused with 0A000.

use crate::ddl::err;
use crate::sql::{apply_edits, matching_close, tokenize, Tok, ValuesItems};

/// One identity column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) column: String,
    /// `GENERATED ALWAYS` (else `BY DEFAULT`).
    pub(crate) always: bool,
    /// Its sequence.
    pub(crate) sequence: String,
}

/// A byte range of a statement and its replacement.
type Edit = (usize, usize, String);

fn always_detail(column: &str) -> String {
    format!("\nDETAIL: Column \"{column}\" is an identity column defined as GENERATED ALWAYS.")
}

fn insert_error(column: &str) -> (String, String) {
    err(
        "428C9",
        format!(
            "cannot insert a non-DEFAULT value into column \"{column}\"{}\nHINT: Use OVERRIDING SYSTEM VALUE to override.",
            always_detail(column)
        ),
    )
}

fn update_error(column: &str) -> (String, String) {
    err(
        "428C9",
        format!(
            "column \"{column}\" can only be updated to DEFAULT{}",
            always_detail(column)
        ),
    )
}

/// Whether a statement must be read by [`rewrite`]: an `INSERT`, `UPDATE` or `WITH` when
/// some table has identity columns, or one that says `OVERRIDING`.
pub(crate) fn concerns(sql: &str, any_identity: bool) -> bool {
    let head = sql.trim_start();
    let first = head
        .get(..6)
        .map(str::to_ascii_uppercase)
        .unwrap_or_default();
    let dml = first == "INSERT" || first == "UPDATE" || first.starts_with("WITH");
    dml && (any_identity || says_overriding(head))
}

/// Whether the text has the word `OVERRIDING` (in any case) anywhere.
fn says_overriding(sql: &str) -> bool {
    sql.as_bytes()
        .windows(10)
        .any(|w| w.eq_ignore_ascii_case(b"OVERRIDING"))
}

/// An `INSERT` without its `OVERRIDING SYSTEM VALUE` or `OVERRIDING USER VALUE`, for
/// SQLite to prepare (describe) it; the session runs it through [`rewrite`], which
/// reads the clause.
pub(crate) fn without_overriding(sql: &str) -> Option<String> {
    let head = sql.trim_start().get(..6)?;
    if !head.eq_ignore_ascii_case("INSERT") || !says_overriding(sql) {
        return None;
    }
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let at = (0..toks.len()).find(|&i| {
        w(i, "OVERRIDING") && (w(i + 1, "SYSTEM") || w(i + 1, "USER")) && w(i + 2, "VALUE")
    })?;
    let (a, b) = (toks.get(at)?, toks.get(at + 3)?);
    apply_edits(sql, vec![(a.start, b.start, String::new())])
}

/// The statement as it must run given its table's identity columns
/// (`identities_of(table)`) and columns in order (`columns_of(table)`); `None` when it
/// runs as written.
pub(crate) fn rewrite(
    sql: &str,
    identities_of: impl Fn(&str) -> Vec<Identity>,
    columns_of: impl Fn(&str) -> Vec<String>,
) -> Result<Option<String>, (String, String)> {
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    if w(0, "WITH") {
        // A data-modifying WITH: refused when it writes to a table with an identity
        // column that this reading would have to check.
        for (k, _) in toks.iter().enumerate() {
            let target = if w(k, "INSERT") && w(k + 1, "INTO") {
                crate::ddl::name_at(sql, &toks, k + 2)
            } else if w(k, "UPDATE") && k > 0 {
                crate::ddl::name_at(sql, &toks, k + 1)
            } else {
                None
            };
            if let Some((table, _)) = target {
                if identities_of(&table).iter().any(|i| i.always) {
                    return Err(err(
                        "0A000",
                        format!("a data-modifying WITH writing to table \"{table}\" with a GENERATED ALWAYS identity column is not supported"),
                    ));
                }
            }
        }
        return Ok(None);
    }
    if w(0, "UPDATE") {
        return update(sql, &toks, identities_of);
    }
    if !(w(0, "INSERT") && w(1, "INTO")) {
        return Ok(None);
    }
    let Some((table, mut i)) = crate::ddl::name_at(sql, &toks, 2) else {
        return Ok(None);
    };
    if w(i, "AS") {
        i += 2;
    }
    let identities = identities_of(&table);
    let mut listed: Option<Vec<String>> = None;
    if toks.get(i).is_some_and(|t| t.is_punct(sql, "(")) {
        let Some(close) = matching_close(sql, &toks, i) else {
            return Ok(None);
        };
        let mut names = Vec::new();
        let mut k = i + 1;
        while k < close {
            let Some((name, next)) = crate::ddl::name_at(sql, &toks, k) else {
                return Ok(None);
            };
            names.push(name);
            k = next + 1;
        }
        listed = Some(names);
        i = close + 1;
    }
    let mut edits: Vec<Edit> = Vec::new();
    let mut overriding = None;
    if w(i, "OVERRIDING") && (w(i + 1, "SYSTEM") || w(i + 1, "USER")) && w(i + 2, "VALUE") {
        overriding = Some(w(i + 1, "SYSTEM"));
        let (Some(a), Some(b)) = (toks.get(i), toks.get(i + 3)) else {
            return Err(crate::ddl::syntax(sql, &toks, i + 3));
        };
        edits.push((a.start, b.start, String::new()));
        i += 3;
    }
    // On conflict, the assignments of `DO UPDATE SET` are an update's.
    if let Some(set) =
        (i..toks.len()).find(|&k| w(k, "DO") && w(k + 1, "UPDATE") && w(k + 2, "SET"))
    {
        edits.extend(assignments(sql, &toks, set + 3, &identities)?);
    }
    if identities.is_empty() {
        return Ok(apply_edits(sql, edits));
    }
    let columns = match listed {
        Some(l) => l,
        None => columns_of(&table),
    };
    let position = |name: &str| columns.iter().position(|c| c.eq_ignore_ascii_case(name));
    let targeted: Vec<(usize, &Identity)> = identities
        .iter()
        .filter_map(|id| Some((position(&id.column)?, id)))
        .collect();
    if w(i, "DEFAULT") && w(i + 1, "VALUES") {
        return Ok(apply_edits(sql, edits));
    }
    if !w(i, "VALUES") {
        // A query: its values for identity columns are never DEFAULT.
        match overriding {
            _ if targeted.is_empty() => {}
            Some(true) => {}
            Some(false) => {
                return Err(err(
                    "0A000",
                    "INSERT ... OVERRIDING USER VALUE with a query is not supported",
                ))
            }
            None => {
                if let Some((_, id)) = targeted.iter().find(|(_, id)| id.always) {
                    return Err(insert_error(&id.column));
                }
            }
        }
        return Ok(apply_edits(sql, edits));
    }
    // The rows' items, each against its column.
    for item in ValuesItems::new(sql, &toks, i + 1) {
        let Some((_, id)) = targeted.iter().find(|(p, _)| *p == item.column) else {
            continue;
        };
        match overriding {
            _ if item.is_default(sql, &toks) => {}
            Some(false) => {
                let last = item.tokens.end.checked_sub(1).and_then(|k| toks.get(k));
                if let (Some(a), Some(b)) = (toks.get(item.tokens.start), last) {
                    edits.push((a.start, b.end, "DEFAULT".to_string()));
                }
            }
            None if id.always => return Err(insert_error(&id.column)),
            _ => {}
        }
    }
    Ok(apply_edits(sql, edits))
}

/// `UPDATE t SET ...` against the table's identity columns.
fn update(
    sql: &str,
    toks: &[Tok],
    identities_of: impl Fn(&str) -> Vec<Identity>,
) -> Result<Option<String>, (String, String)> {
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let mut i = 1;
    if w(i, "ONLY") {
        i += 1;
    }
    let Some((table, _)) = crate::ddl::name_at(sql, toks, i) else {
        return Ok(None);
    };
    let identities = identities_of(&table);
    if identities.is_empty() {
        return Ok(None);
    }
    let Some(set) = (i..toks.len()).find(|&k| w(k, "SET")) else {
        return Ok(None);
    };
    let edits = assignments(sql, toks, set + 1, &identities)?;
    Ok(apply_edits(sql, edits))
}

/// The edits an assignment list from token `i` needs: `c = DEFAULT` of an identity
/// column becomes its sequence's next value; another value of a `GENERATED ALWAYS` one
/// fails.
fn assignments(
    sql: &str,
    toks: &[Tok],
    mut i: usize,
    identities: &[Identity],
) -> Result<Vec<Edit>, (String, String)> {
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let mut edits = Vec::new();
    loop {
        if toks.get(i).is_some_and(|t| t.is_punct(sql, "(")) {
            // `(a, b) = (...)`: refused when it names a GENERATED ALWAYS column.
            let Some(close) = matching_close(sql, toks, i) else {
                break;
            };
            let named = (i + 1..close).filter_map(|k| toks.get(k)?.ident(sql));
            for name in named {
                if identities
                    .iter()
                    .any(|id| id.always && id.column.eq_ignore_ascii_case(&name))
                {
                    return Err(err(
                        "0A000",
                        format!("a multiple-column assignment of identity column \"{name}\" is not supported"),
                    ));
                }
            }
            i = close + 1;
        } else {
            let Some((column, next)) = crate::ddl::name_at(sql, toks, i) else {
                break;
            };
            i = next;
            let id = identities
                .iter()
                .find(|id| id.column.eq_ignore_ascii_case(&column));
            if !toks.get(i).is_some_and(|t| t.is_punct(sql, "=")) {
                break;
            }
            i += 1;
            // The value: to a comma or an ending keyword at depth 0.
            let start = i;
            let mut depth = 0usize;
            while let Some(t) = toks.get(i) {
                if t.is_punct(sql, "(") {
                    depth += 1;
                } else if t.is_punct(sql, ")") {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                } else if depth == 0
                    && (t.is_punct(sql, ",")
                        || t.is_punct(sql, ";")
                        || ["FROM", "WHERE", "RETURNING"]
                            .iter()
                            .any(|kw| t.is(sql, kw)))
                {
                    break;
                }
                i += 1;
            }
            if let Some(id) = id {
                if i == start + 1 && w(start, "DEFAULT") {
                    if let Some(t) = toks.get(start) {
                        edits.push((
                            t.start,
                            t.end,
                            format!("nextval('{}')", id.sequence.replace('\'', "''")),
                        ));
                    }
                } else if id.always {
                    return Err(update_error(&id.column));
                }
            }
        }
        if toks.get(i).is_some_and(|t| t.is_punct(sql, ",")) {
            i += 1;
        } else {
            break;
        }
    }
    Ok(edits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(table: &str) -> Vec<Identity> {
        match table {
            "t" => vec![Identity {
                column: "id".into(),
                always: true,
                sequence: "t_id_seq".into(),
            }],
            "d" => vec![Identity {
                column: "id".into(),
                always: false,
                sequence: "d_id_seq".into(),
            }],
            _ => Vec::new(),
        }
    }

    fn cols(_: &str) -> Vec<String> {
        vec!["id".into(), "name".into()]
    }

    fn run(sql: &str) -> Result<Option<String>, (String, String)> {
        rewrite(sql, ids, cols)
    }

    #[test]
    fn always_refuses_given_values() {
        let code = |sql: &str| run(sql).unwrap_err().0;
        assert_eq!(code("insert into t values (1, 'a')"), "428C9");
        assert_eq!(
            code("INSERT INTO t (name, id) VALUES ('a', DEFAULT), ('b', $1)"),
            "428C9"
        );
        assert_eq!(code("insert into t (id, name) select 1, 'x'"), "428C9");
        assert_eq!(
            code("update t set name = 'x', id = 5 where id = 1"),
            "428C9"
        );
        assert_eq!(
            code("insert into t (name) values ('a') on conflict (name) do update set id = 3"),
            "428C9"
        );
        let (_, message) = run("insert into t values (1, 'a')").unwrap_err();
        assert_eq!(
            message,
            "cannot insert a non-DEFAULT value into column \"id\"\nDETAIL: Column \"id\" is an identity column defined as GENERATED ALWAYS.\nHINT: Use OVERRIDING SYSTEM VALUE to override."
        );
        assert_eq!(
            code("insert into t (id) overriding user value select 1"),
            "0A000"
        );
        assert_eq!(
            code("with x as (insert into t (name) values ('a') returning id) select * from x"),
            "0A000"
        );
    }

    #[test]
    fn defaults_and_overriding() {
        assert_eq!(run("insert into t (name) values ('a')"), Ok(None));
        assert_eq!(run("insert into t values (DEFAULT, 'a')"), Ok(None));
        assert_eq!(run("insert into t default values"), Ok(None));
        assert_eq!(run("insert into d values (7, 'a')"), Ok(None));
        assert_eq!(run("insert into other values (7, 'a')"), Ok(None));
        assert_eq!(
            run("insert into t (id, name) OVERRIDING SYSTEM VALUE values (7, 'a')"),
            Ok(Some("insert into t (id, name) values (7, 'a')".into()))
        );
        assert_eq!(
            run("insert into d overriding user value values (7, 'a'), (default, 'b')"),
            Ok(Some(
                "insert into d values (DEFAULT, 'a'), (default, 'b')".into()
            ))
        );
        assert_eq!(
            run("insert into other overriding system value values (1)"),
            Ok(Some("insert into other values (1)".into()))
        );
        assert_eq!(
            run("update t set id = default, name = 'n' where id = 2"),
            Ok(Some(
                "update t set id = nextval('t_id_seq'), name = 'n' where id = 2".into()
            ))
        );
        assert_eq!(run("update d set id = 4"), Ok(None));
        assert_eq!(
            without_overriding("INSERT INTO t (id) OVERRIDING USER VALUE VALUES ($1)").as_deref(),
            Some("INSERT INTO t (id) VALUES ($1)")
        );
        assert_eq!(
            without_overriding("insert into t values ('overriding')"),
            None
        );
        assert!(concerns("  insert into t values (1)", true));
        assert!(!concerns("insert into t values (1)", false));
        assert!(concerns(
            "insert into t overriding system value values (1)",
            false
        ));
        assert!(!concerns("select 1", true));
    }
}
