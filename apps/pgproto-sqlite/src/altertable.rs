//! `ALTER TABLE` forms PostgreSQL has and SQLite lacks: several actions in one statement
//! (run one by one, all or none), `RENAME a TO b` without `COLUMN`, and `ADD
//! [CONSTRAINT name] UNIQUE | FOREIGN KEY | CHECK`. A unique constraint becomes a unique
//! index of the constraint's name; a foreign key or check constraint is appended to the
//! table's `CREATE TABLE` text in `sqlite_schema` (SQLite's documented way to change a
//! table's constraints without rebuilding it), after which the existing rows are
//! checked as PostgreSQL checks them (23503, 23514). Other constraints (`PRIMARY KEY`,
//! `EXCLUDE`, `NOT VALID`, `MATCH`, `USING INDEX`) are refused with 0A000.

use rusqlite::{Connection, OptionalExtension};

use crate::ddl::{err, name_at, sqlite, syntax};
use crate::sql::{tokenize, Tok};

/// What the session does with an `ALTER TABLE` before SQLite sees it.
#[derive(Debug, PartialEq)]
pub(crate) enum Alter {
    /// Several actions: these statements, one action each, to run in order as one.
    Split(Vec<String>),
    /// One action, said in SQLite's words.
    Rewritten(String),
    /// `ADD CONSTRAINT`, run by [`add_constraint`].
    AddConstraint(Constraint),
}

/// A constraint added with `ALTER TABLE t ADD [CONSTRAINT name] ...`.
#[derive(Debug, PartialEq)]
pub(crate) struct Constraint {
    /// The table, as PostgreSQL reads its name.
    pub(crate) table: String,
    /// The constraint's name, given or (for a unique constraint) as PostgreSQL
    /// chooses it; SQLite's text leaves others unnamed, and the catalog names them as
    /// PostgreSQL does.
    pub(crate) name: Option<String>,
    pub(crate) kind: ConstraintKind,
    /// Its text from `UNIQUE`/`FOREIGN`/`CHECK` on.
    pub(crate) body: String,
}

#[derive(Debug, PartialEq)]
pub(crate) enum ConstraintKind {
    /// With its column list, as written.
    Unique(String),
    ForeignKey,
    /// With its expression, as written.
    Check(String),
}

/// The tokens' text from token `from` to the end (a trailing `;` left out).
fn rest(sql: &str, toks: &[Tok], from: usize) -> String {
    let end = toks
        .iter()
        .rev()
        .find(|t| !t.is_punct(sql, ";"))
        .map_or(sql.len(), |t| t.end);
    toks.get(from)
        .and_then(|t| sql.get(t.start..end))
        .unwrap_or("")
        .to_string()
}

/// Reads an `ALTER TABLE` that needs the server's help; `None` for any other statement.
pub(crate) fn plan(sql: &str) -> Option<Result<Alter, (String, String)>> {
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    if !(w(0, "ALTER") && w(1, "TABLE")) {
        return None;
    }
    let mut i = 2;
    if w(i, "IF") && w(i + 1, "EXISTS") {
        i += 2;
    }
    if w(i, "ONLY") {
        i += 1;
    }
    let (table, after) = name_at(sql, &toks, i)?;
    let head = sql.get(..toks.get(after)?.start)?;
    // The actions: split on commas outside parentheses.
    let mut actions: Vec<(usize, usize)> = Vec::new();
    let (mut depth, mut start) = (0usize, after);
    let end = toks
        .iter()
        .rposition(|t| !t.is_punct(sql, ";"))
        .map_or(toks.len(), |e| e + 1);
    for (j, t) in toks.iter().enumerate().take(end).skip(after) {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && t.is_punct(sql, ",") {
            actions.push((start, j));
            start = j + 1;
        }
    }
    actions.push((start, end));
    let text = |(a, b): (usize, usize)| -> Option<String> {
        let first = toks.get(a)?;
        let last = toks.get(b.checked_sub(1)?)?;
        sql.get(first.start..last.end).map(str::to_string)
    };
    if actions.len() > 1 {
        let mut statements = Vec::new();
        for a in actions {
            let Some(action) = text(a) else {
                return Some(Err(syntax(sql, &toks, a.0)));
            };
            statements.push(format!("{head}{action}"));
        }
        return Some(Ok(Alter::Split(statements)));
    }
    let wa = |k: usize, kw: &str| w(after + k, kw);
    // `RENAME a TO b`: PostgreSQL's short form of `RENAME COLUMN a TO b`.
    if wa(0, "RENAME") && !wa(1, "COLUMN") && !wa(1, "TO") && !wa(1, "CONSTRAINT") {
        let rest = rest(sql, &toks, after + 1);
        return Some(Ok(Alter::Rewritten(format!("{head}RENAME COLUMN {rest}"))));
    }
    // What SQLite's ALTER TABLE lacks: ALTER COLUMN, DROP CONSTRAINT, SET, OWNER TO...
    let first = toks.get(after).map_or("", |t| t.text(sql));
    if wa(0, "DROP") && wa(1, "CONSTRAINT") {
        return Some(Err(err(
            "0A000",
            "ALTER TABLE ... DROP CONSTRAINT is not supported",
        )));
    }
    if !["ADD", "DROP", "RENAME"]
        .iter()
        .any(|k| first.eq_ignore_ascii_case(k))
    {
        let what = if wa(0, "ALTER") {
            "ALTER COLUMN".to_string()
        } else {
            first.to_ascii_uppercase()
        };
        return Some(Err(err(
            "0A000",
            format!("ALTER TABLE ... {what} is not supported"),
        )));
    }
    if !wa(0, "ADD") {
        return None;
    }
    let mut k = after + 1;
    let mut name = None;
    if w(k, "CONSTRAINT") {
        let Some((n, next)) = name_at(sql, &toks, k + 1) else {
            return Some(Err(syntax(sql, &toks, k + 1)));
        };
        name = Some(n);
        k = next;
    }
    let unsupported = |what: &str| {
        Some(Err(err(
            "0A000",
            format!("ALTER TABLE ... ADD {what} is not supported"),
        )))
    };
    let body = rest(sql, &toks, k);
    let upper = body.to_ascii_uppercase();
    let words: Vec<String> = tokenize(&upper)
        .iter()
        .map(|t| t.text(&upper).to_string())
        .collect();
    let has = |word: &str| words.iter().any(|x| x == word);
    if has("NOT") && has("VALID") {
        return unsupported("CONSTRAINT ... NOT VALID");
    }
    let paren = |from: usize| -> Option<(String, usize)> {
        let open = toks.get(from).filter(|t| t.is_punct(sql, "("))?;
        let close = crate::sql::matching_close(sql, &toks, from)?;
        let inner = sql.get(open.end..toks.get(close)?.start)?;
        Some((inner.trim().to_string(), close + 1))
    };
    let columns_key = |inner: &str| -> String {
        let toks = tokenize(inner);
        toks.iter()
            .filter_map(|t| name_at(inner, std::slice::from_ref(t), 0).map(|n| n.0))
            .collect::<Vec<_>>()
            .join("_")
    };
    let kind = if w(k, "UNIQUE") {
        let Some((columns, next)) = paren(k + 1) else {
            return unsupported("UNIQUE without a column list");
        };
        if next < end {
            return unsupported(&format!("UNIQUE ({columns}) {}", rest(sql, &toks, next)));
        }
        let name = name.or_else(|| Some(format!("{table}_{}_key", columns_key(&columns))));
        return Some(Ok(Alter::AddConstraint(Constraint {
            table,
            name,
            kind: ConstraintKind::Unique(columns),
            body,
        })));
    } else if w(k, "FOREIGN") && w(k + 1, "KEY") {
        if has("MATCH") {
            return unsupported("FOREIGN KEY ... MATCH");
        }
        if paren(k + 2).is_none() {
            return Some(Err(syntax(sql, &toks, k + 2)));
        }
        ConstraintKind::ForeignKey
    } else if w(k, "CHECK") {
        let Some((expr, next)) = paren(k + 1) else {
            return Some(Err(syntax(sql, &toks, k + 1)));
        };
        if next < end {
            return unsupported(&format!("CHECK ... {}", rest(sql, &toks, next)));
        }
        ConstraintKind::Check(expr)
    } else if name.is_some() || w(k, "PRIMARY") || w(k, "EXCLUDE") {
        let what = words.iter().take(2).cloned().collect::<Vec<_>>().join(" ");
        return unsupported(&format!("CONSTRAINT {what}"));
    } else {
        return None;
    };
    Some(Ok(Alter::AddConstraint(Constraint {
        table,
        name,
        kind,
        body,
    })))
}

/// Runs `ALTER TABLE ... ADD CONSTRAINT`: a unique index, or the constraint added to the
/// table's `CREATE TABLE` text and the existing rows checked against it. The caller runs
/// it inside a savepoint, released or rolled back as it succeeds.
pub(crate) fn add_constraint(conn: &Connection, c: &Constraint) -> crate::ddl::Outcome {
    let quote = crate::catalog::quote_ident;
    let table_sql: Option<String> = conn
        .query_row(
            "SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
            [&c.table],
            |r| r.get(0),
        )
        .optional()
        .map_err(sqlite)?;
    let Some(table_sql) = table_sql else {
        return Err(err(
            "42P01",
            format!("relation \"{}\" does not exist", c.table),
        ));
    };
    if let Some(name) = &c.name {
        let taken: i64 = conn
            .query_row(
                "SELECT count(*) FROM main.sqlite_schema WHERE name = ?1 COLLATE NOCASE",
                [name],
                |r| r.get(0),
            )
            .map_err(sqlite)?;
        if taken > 0 {
            return Err(err("42P07", format!("relation \"{name}\" already exists")));
        }
    }
    let rewrite = |sql: &str| crate::sql::rewrite(sql).map_err(|u| err("0A000", u.0));
    if let (ConstraintKind::Unique(columns), Some(name)) = (&c.kind, &c.name) {
        let sql = format!(
            "CREATE UNIQUE INDEX {} ON {} ({columns})",
            quote(name),
            quote(&c.table)
        );
        conn.execute_batch(&rewrite(&sql)?)
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ConstraintViolation) => {
                    err("23505", format!("could not create unique index \"{name}\""))
                }
                _ => sqlite(e),
            })?;
        return Ok("ALTER TABLE".to_string());
    }
    let clause = match &c.name {
        Some(name) => format!("CONSTRAINT {} {}", quote(name), c.body),
        None => c.body.clone(),
    };
    let new_sql = with_constraint(&table_sql, &clause).ok_or_else(|| {
        err(
            "0A000",
            format!("cannot add a constraint to \"{}\"", c.table),
        )
    })?;
    let new_sql = rewrite(&new_sql)?;
    let version: i64 = conn
        .query_row("PRAGMA main.schema_version", [], |r| r.get(0))
        .map_err(sqlite)?;
    conn.execute_batch("PRAGMA writable_schema = ON")
        .map_err(sqlite)?;
    let edited = conn
        .execute(
            "UPDATE main.sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = ?2 COLLATE NOCASE",
            [&new_sql, &c.table],
        )
        .and_then(|_| conn.execute_batch(&format!("PRAGMA main.schema_version = {}", version + 1)));
    conn.execute_batch("PRAGMA writable_schema = OFF")
        .map_err(sqlite)?;
    edited.map_err(sqlite)?;
    match &c.kind {
        ConstraintKind::Check(expr) => {
            let check = format!(
                "SELECT 1 FROM {} WHERE NOT ({expr}) LIMIT 1",
                quote(&c.table)
            );
            let violated = conn
                .query_row(&rewrite(&check)?, [], |_| Ok(()))
                .optional()
                .map_err(sqlite)?;
            if violated.is_some() {
                // The name PostgreSQL (and the catalog) gives it.
                let columns = crate::session::table_columns(conn, &c.table);
                let name = c.name.clone().or_else(|| {
                    crate::constraints::checks(&c.table, &new_sql, &columns)
                        .pop()
                        .map(|k| k.name)
                });
                return Err(err(
                    "23514",
                    format!(
                        "check constraint \"{}\" of relation \"{}\" is violated by some row",
                        name.unwrap_or_default(),
                        c.table
                    ),
                ));
            }
        }
        _ => {
            let missing: Option<String> = conn
                .query_row(
                    "SELECT \"table\" FROM pragma_foreign_key_list(?1) WHERE \"table\" NOT IN
                     (SELECT name COLLATE NOCASE FROM main.sqlite_schema WHERE type = 'table')",
                    [&c.table],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sqlite)?;
            if let Some(missing) = missing {
                return Err(err(
                    "42P01",
                    format!("relation \"{missing}\" does not exist"),
                ));
            }
            // Also checks that the referenced columns exist and are unique.
            let violated = conn
                .query_row("SELECT \"from\" FROM pragma_foreign_key_check(?1)", [&c.table], |_| {
                    Ok(())
                })
                .optional()
                .map_err(|e| {
                    let text = e.to_string();
                    if text.contains("no such table") {
                        err("42P01", text)
                    } else if text.contains("mismatch") {
                        err(
                            "42830",
                            format!(
                                "there is no unique constraint matching given keys for referenced table ({text})"
                            ),
                        )
                    } else {
                        sqlite(e)
                    }
                })?;
            if violated.is_some() {
                return Err(err(
                    "23503",
                    format!(
                        "insert or update on table \"{}\" violates foreign key constraint",
                        c.table
                    ),
                ));
            }
        }
    }
    Ok("ALTER TABLE".to_string())
}

/// `CREATE TABLE` text with `constraint` added at the end of its column list.
fn with_constraint(create: &str, constraint: &str) -> Option<String> {
    let toks = tokenize(create);
    let open = toks.iter().position(|t| t.is_punct(create, "("))?;
    let close = toks.get(crate::sql::matching_close(create, &toks, open)?)?;
    let before = create.get(..close.start)?.trim_end();
    Some(format!(
        "{before}, {constraint}{}",
        create.get(close.start..)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constraint(sql: &str) -> Constraint {
        match plan(sql) {
            Some(Ok(Alter::AddConstraint(c))) => c,
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn splits_actions_and_reads_constraints() {
        assert_eq!(
            plan(
                r#"alter table "books" add column "in_print" boolean not null default '1', add column "blurb" text"#
            ),
            Some(Ok(Alter::Split(vec![
                r#"alter table "books" add column "in_print" boolean not null default '1'"#.into(),
                r#"alter table "books" add column "blurb" text"#.into(),
            ])))
        );
        assert_eq!(
            plan("ALTER TABLE t ADD c numeric(8, 2), DROP COLUMN d;"),
            Some(Ok(Alter::Split(vec![
                "ALTER TABLE t ADD c numeric(8, 2)".into(),
                "ALTER TABLE t DROP COLUMN d".into(),
            ])))
        );
        assert_eq!(
            plan(r#"alter table "books" rename "title" to "name""#),
            Some(Ok(Alter::Rewritten(
                r#"alter table "books" RENAME COLUMN "title" to "name""#.into()
            )))
        );
        assert_eq!(plan("alter table t rename to u"), None);
        assert_eq!(plan("alter table t add column x int"), None);
        assert_eq!(plan("select 1"), None);
        let c = constraint(
            r#"alter table "authors" add constraint "authors_name_unique" unique ("name")"#,
        );
        assert_eq!(c.name.as_deref(), Some("authors_name_unique"));
        assert_eq!(c.kind, ConstraintKind::Unique(r#""name""#.into()));
        assert_eq!(
            constraint("ALTER TABLE T ADD UNIQUE (a, B)")
                .name
                .as_deref(),
            Some("t_a_b_key")
        );
        let c = constraint(
            r#"alter table "books" add constraint "fk" foreign key ("author_id") references "authors" ("id") on delete CASCADE"#,
        );
        assert_eq!(
            (c.name.as_deref(), c.kind),
            (Some("fk"), ConstraintKind::ForeignKey)
        );
        assert_eq!(
            c.body,
            r#"foreign key ("author_id") references "authors" ("id") on delete CASCADE"#
        );
        assert_eq!(constraint("alter table t add check (a > b)").name, None);
        for refused in [
            "alter table t alter column a type text",
            "alter table t alter a drop not null",
            "alter table t drop constraint c",
            "alter table t owner to bob",
            "alter table t add primary key (a)",
            "alter table t add constraint p primary key (a)",
            "alter table t add constraint c check (a > 0) not valid",
            "alter table t add foreign key (a) references u match full",
            "alter table t add unique (a) deferrable",
        ] {
            match plan(refused) {
                Some(Err((code, _))) => assert_eq!(code, "0A000", "{refused}"),
                other => panic!("{refused}: {other:?}"),
            }
        }
    }

    #[test]
    fn adds_constraints_and_checks_rows() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE a (id INT PRIMARY KEY, n INT);
             CREATE TABLE b (id INT, a_id INT) STRICT;
             INSERT INTO a VALUES (1, 5), (2, 5);
             INSERT INTO b VALUES (1, 1), (2, 3);",
        )
        .unwrap();
        // As the session runs it: in a savepoint, rolled back when it fails.
        let run = |sql: &str| match plan(sql) {
            Some(Ok(Alter::AddConstraint(c))) => {
                conn.execute_batch("SAVEPOINT s").unwrap();
                let r = add_constraint(&conn, &c);
                if r.is_err() {
                    conn.execute_batch("ROLLBACK TO s").unwrap();
                }
                conn.execute_batch("RELEASE s").unwrap();
                r
            }
            other => panic!("{sql}: {other:?}"),
        };
        let code = |sql: &str| run(sql).unwrap_err().0;
        assert_eq!(code("alter table a add unique (n)"), "23505");
        assert_eq!(
            code("alter table b add foreign key (a_id) references a (id)"),
            "23503"
        );
        assert_eq!(
            code("alter table b add foreign key (a_id) references nope (id)"),
            "42P01"
        );
        assert_eq!(code("alter table b add check (a_id < 3)"), "23514");
        assert_eq!(code("alter table nope add check (x < 3)"), "42P01");
        conn.execute_batch("DELETE FROM b WHERE a_id = 3").unwrap();
        run("alter table b add constraint b_fk foreign key (a_id) references a (id) on delete cascade").unwrap();
        run("alter table b add check (a_id < 3)").unwrap();
        run("alter table a add constraint a_id_key unique (id)").unwrap();
        assert_eq!(
            code("alter table a add constraint a_id_key unique (n)"),
            "42P07"
        );
        let sql: String = conn
            .query_row("SELECT sql FROM sqlite_schema WHERE name = 'b'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(
            sql,
            "CREATE TABLE b (id INT, a_id INT, CONSTRAINT b_fk foreign key (a_id) references a (id) on delete cascade, check (a_id < 3)) STRICT"
        );
        // The constraints are in force.
        assert!(conn.execute_batch("INSERT INTO b VALUES (3, 7)").is_err());
        conn.execute_batch("DELETE FROM a WHERE id = 1").unwrap();
        let left: i64 = conn
            .query_row("SELECT count(*) FROM b", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
        assert!(conn.execute_batch("INSERT INTO a VALUES (3, 5)").is_ok());
        assert!(conn.execute_batch("INSERT INTO a VALUES (3, 6)").is_err());
    }
}
