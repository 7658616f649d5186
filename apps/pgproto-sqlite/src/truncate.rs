//! `TRUNCATE [TABLE] [ONLY] name [*] [, ...] [RESTART IDENTITY | CONTINUE IDENTITY]
//! [CASCADE | RESTRICT]`, which SQLite does not have: each table's rows are deleted, in
//! an order that lets its foreign keys hold (a table that references another is emptied
//! first). As in PostgreSQL, a table referenced by a foreign key of a table not being
//! truncated is refused (0A000) unless `CASCADE` adds that table (with a NOTICE), and
//! `RESTART IDENTITY` restarts the sequences the tables' columns own.

use rusqlite::Connection;

use crate::ddl::{err, name_at, sqlite, syntax};
use crate::sql::tokenize;

/// A `TRUNCATE` statement, read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Truncate {
    pub(crate) tables: Vec<String>,
    pub(crate) restart_identity: bool,
    pub(crate) cascade: bool,
}

/// Reads `sql` when it is a `TRUNCATE`; PostgreSQL's syntax error when it is one that
/// does not read.
pub(crate) fn parse(sql: &str) -> Option<Result<Truncate, (String, String)>> {
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let punct = |i: usize, p: &str| toks.get(i).is_some_and(|t| t.is_punct(sql, p));
    if !w(0, "TRUNCATE") {
        return None;
    }
    let mut i = if w(1, "TABLE") { 2 } else { 1 };
    let mut tables = Vec::new();
    loop {
        if w(i, "ONLY") {
            i += 1;
        }
        let Some((name, j)) = name_at(sql, &toks, i) else {
            return Some(Err(syntax(sql, &toks, i)));
        };
        tables.push(name);
        i = if punct(j, "*") { j + 1 } else { j };
        if !punct(i, ",") {
            break;
        }
        i += 1;
    }
    let mut restart_identity = false;
    if (w(i, "RESTART") || w(i, "CONTINUE")) && w(i + 1, "IDENTITY") {
        restart_identity = w(i, "RESTART");
        i += 2;
    }
    let cascade = w(i, "CASCADE");
    if cascade || w(i, "RESTRICT") {
        i += 1;
    }
    if punct(i, ";") {
        i += 1;
    }
    if i < toks.len() {
        return Some(Err(syntax(sql, &toks, i)));
    }
    Some(Ok(Truncate {
        tables,
        restart_identity,
        cascade,
    }))
}

/// The user tables (not SQLite's or the server's own) and the tables each references.
fn references(conn: &Connection) -> rusqlite::Result<Vec<(String, Vec<String>)>> {
    let mut stmt = conn.prepare(
        "SELECT s.name, group_concat(DISTINCT f.\"table\") FROM main.sqlite_schema s
         LEFT JOIN pragma_foreign_key_list(s.name) f
         WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
           AND s.name NOT LIKE '\\_pgproto\\_%' ESCAPE '\\'
         GROUP BY s.name ORDER BY s.name",
    )?;
    let rows = stmt.query_map([], |r| {
        let name: String = r.get(0)?;
        let refs: Option<String> = r.get(1)?;
        Ok((name, refs))
    })?;
    rows.map(|r| {
        r.map(|(name, refs)| {
            let refs = refs
                .map(|r| r.split(',').map(str::to_string).collect())
                .unwrap_or_default();
            (name, refs)
        })
    })
    .collect()
}

/// Empties the tables; the NOTICEs to send (`truncate cascades to table ...`).
pub(crate) fn run(
    conn: &Connection,
    registry: &crate::sequences::Registry,
    t: &Truncate,
) -> Result<Vec<String>, (String, String)> {
    let all = references(conn).map_err(sqlite)?;
    let find = |name: &str| {
        all.iter()
            .find(|(n, _)| n == name)
            .or_else(|| all.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)))
            .map(|(n, _)| n.clone())
    };
    let mut tables = Vec::new();
    for name in &t.tables {
        let table = find(name)
            .ok_or_else(|| err("42P01", format!("relation \"{name}\" does not exist")))?;
        if !tables.contains(&table) {
            tables.push(table);
        }
    }
    let refers = |from: &str, to: &str| {
        all.iter()
            .any(|(n, refs)| n == from && refs.iter().any(|r| r.eq_ignore_ascii_case(to)))
    };
    // The tables referencing one being truncated: added with CASCADE, else refused.
    let mut notices = Vec::new();
    let mut k = 0;
    while let Some(target) = tables.get(k).cloned() {
        k += 1;
        for (referencing, _) in all.iter().filter(|(n, _)| refers(n, &target)) {
            if tables.contains(referencing) {
                continue;
            }
            if !t.cascade {
                return Err(err(
                    "0A000",
                    format!(
                        "cannot truncate a table referenced in a foreign key constraint\n\
                         DETAIL: Table \"{referencing}\" references \"{target}\".\n\
                         HINT: Truncate table \"{referencing}\" at the same time, or use \
                         TRUNCATE ... CASCADE."
                    ),
                ));
            }
            notices.push(format!("truncate cascades to table \"{referencing}\""));
            tables.push(referencing.clone());
        }
    }
    // A table that another one still to be emptied references waits for it.
    let mut left = tables.clone();
    while !left.is_empty() {
        let next = left
            .iter()
            .position(|t| !left.iter().any(|o| o != t && refers(o, t)))
            .unwrap_or(0);
        let table = left.remove(next);
        conn.execute(
            &format!("DELETE FROM main.\"{}\"", table.replace('"', "\"\"")),
            [],
        )
        .map_err(sqlite)?;
    }
    if t.restart_identity {
        for seq in registry.owned_by(&tables) {
            let sql = format!("ALTER SEQUENCE \"{}\" RESTART", seq.replace('"', "\"\""));
            if let Some(outcome) = crate::sequences::statement(conn, registry, &sql) {
                outcome?;
            }
        }
    }
    Ok(notices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_postgresql_s_forms() {
        let t = |sql: &str| parse(sql).map(|r| r.map_err(|e| e.0));
        assert_eq!(
            t("TRUNCATE a"),
            Some(Ok(Truncate {
                tables: vec!["a".into()],
                restart_identity: false,
                cascade: false
            }))
        );
        assert_eq!(
            t("truncate table only public.A, \"B\" * restart identity cascade;"),
            Some(Ok(Truncate {
                tables: vec!["a".into(), "B".into()],
                restart_identity: true,
                cascade: true
            }))
        );
        assert_eq!(
            t("TRUNCATE a CONTINUE IDENTITY RESTRICT"),
            Some(Ok(Truncate {
                tables: vec!["a".into()],
                restart_identity: false,
                cascade: false
            }))
        );
        assert_eq!(t("TRUNCATE a b"), Some(Err("42601".into())));
        assert_eq!(t("TRUNCATE"), Some(Err("42601".into())));
        assert_eq!(t("DELETE FROM a"), None);
    }
}
