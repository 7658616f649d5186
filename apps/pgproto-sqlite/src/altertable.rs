//! `ALTER TABLE` forms PostgreSQL has and SQLite lacks: several actions in one statement
//! (run one by one, all or none), `RENAME a TO b` without `COLUMN`, `ADD [CONSTRAINT
//! name] PRIMARY KEY | UNIQUE | FOREIGN KEY | CHECK`, `DROP CONSTRAINT`, `RENAME
//! CONSTRAINT`, `ALTER INDEX ... RENAME TO` and `ALTER COLUMN` changes. A constraint is
//! added to (or taken out of, or renamed in) the table's `CREATE TABLE` text in
//! `sqlite_schema` (SQLite's documented way to change a table's constraints without
//! rebuilding it), after which the existing rows are checked as PostgreSQL checks them
//! (23505, 23502, 23503, 23514). A primary key or unique constraint has an index SQLite
//! makes for it (`sqlite_autoindex_t_N`, numbered in the constraints' order in the
//! text): it is built as an ordinary unique index first (the duplicates check), then
//! renamed as the constraint's in the same schema edit; one dropped becomes an ordinary
//! index again and is dropped, the later ones renumbered. Other constraints (`EXCLUDE`,
//! `NOT VALID`, `MATCH`, `USING INDEX`, `DEFERRABLE` keys) are refused with 0A000.

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
    /// `ALTER [COLUMN] c ...`, run by [`alter_column`].
    Column(ColumnChange),
    /// `DROP CONSTRAINT [IF EXISTS] name [CASCADE | RESTRICT]`, run by
    /// [`drop_constraint`].
    DropConstraint {
        table: String,
        name: String,
        if_exists: bool,
        cascade: bool,
    },
    /// `ALTER INDEX [IF EXISTS] a RENAME TO b`, run by [`rename_index`].
    RenameIndex {
        from: String,
        to: String,
        if_exists: bool,
    },
    /// `RENAME CONSTRAINT a TO b`, run by [`rename_constraint`].
    RenameConstraint {
        table: String,
        from: String,
        to: String,
    },
    /// `DROP [COLUMN] c [CASCADE | RESTRICT]`: [`before_drop_column`], then this
    /// statement (SQLite's `DROP COLUMN c`), in one savepoint.
    DropColumn {
        table: String,
        column: String,
        cascade: bool,
        sql: String,
    },
}

/// A change of one column: `ALTER TABLE t ALTER [COLUMN] c action`.
#[derive(Debug, PartialEq)]
pub(crate) struct ColumnChange {
    /// The table and the column, as PostgreSQL reads their names.
    pub(crate) table: String,
    pub(crate) column: String,
    pub(crate) action: ColumnAction,
}

/// What `ALTER COLUMN` does.
#[derive(Debug, PartialEq)]
pub(crate) enum ColumnAction {
    DropNotNull,
    SetNotNull,
    DropDefault,
    /// `SET DEFAULT expr`, the expression as written.
    SetDefault(String),
    /// `[SET DATA] TYPE t`, the type as written.
    Type(String),
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
    /// With its column list, as written.
    PrimaryKey(String),
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
    if w(0, "ALTER") && w(1, "INDEX") {
        let mut i = 2;
        let if_exists = w(i, "IF") && w(i + 1, "EXISTS");
        if if_exists {
            i += 2;
        }
        let (from, next) = name_at(sql, &toks, i)?;
        if !(w(next, "RENAME") && w(next + 1, "TO")) {
            return Some(Err(err(
                "0A000",
                format!(
                    "ALTER INDEX ... {} is not supported",
                    toks.get(next)
                        .map_or("", |t| t.text(sql))
                        .to_ascii_uppercase()
                ),
            )));
        }
        let Some((to, _)) = name_at(sql, &toks, next + 2) else {
            return Some(Err(syntax(sql, &toks, next + 2)));
        };
        return Some(Ok(Alter::RenameIndex {
            from,
            to,
            if_exists,
        }));
    }
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
        let mut k = after + 2;
        let if_exists = w(k, "IF") && w(k + 1, "EXISTS");
        if if_exists {
            k += 2;
        }
        let Some((name, next)) = name_at(sql, &toks, k) else {
            return Some(Err(syntax(sql, &toks, k)));
        };
        let cascade = w(next, "CASCADE");
        let last = if cascade || w(next, "RESTRICT") {
            next + 1
        } else {
            next
        };
        if last != end {
            return Some(Err(syntax(sql, &toks, last)));
        }
        return Some(Ok(Alter::DropConstraint {
            table,
            name,
            if_exists,
            cascade,
        }));
    }
    if wa(0, "RENAME") && wa(1, "CONSTRAINT") {
        let Some((from, next)) = name_at(sql, &toks, after + 2) else {
            return Some(Err(syntax(sql, &toks, after + 2)));
        };
        if !w(next, "TO") {
            return Some(Err(syntax(sql, &toks, next)));
        }
        let Some((to, last)) = name_at(sql, &toks, next + 1) else {
            return Some(Err(syntax(sql, &toks, next + 1)));
        };
        if last != end {
            return Some(Err(syntax(sql, &toks, last)));
        }
        return Some(Ok(Alter::RenameConstraint { table, from, to }));
    }
    if wa(0, "ALTER") {
        return Some(alter_column_plan(sql, &toks, table, after + 1, end));
    }
    if wa(0, "DROP") {
        return drop_column_plan(sql, &toks, table, head, after + 1, end);
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
    } else if w(k, "PRIMARY") && w(k + 1, "KEY") {
        let Some((columns, next)) = paren(k + 2) else {
            return Some(Err(syntax(sql, &toks, k + 2)));
        };
        if next < end {
            return unsupported(&format!(
                "PRIMARY KEY ({columns}) {}",
                rest(sql, &toks, next)
            ));
        }
        let name = name.or_else(|| Some(format!("{table}_pkey")));
        return Some(Ok(Alter::AddConstraint(Constraint {
            table,
            name,
            kind: ConstraintKind::PrimaryKey(columns),
            body,
        })));
    } else if name.is_some() || w(k, "EXCLUDE") {
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

/// Reads `ALTER [COLUMN] c action` from token `i` (after `ALTER`) to `end`.
fn alter_column_plan(
    sql: &str,
    toks: &[Tok],
    table: String,
    mut i: usize,
    end: usize,
) -> Result<Alter, (String, String)> {
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    if w(i, "COLUMN") {
        i += 1;
    }
    let (column, i) = name_at(sql, toks, i).ok_or_else(|| syntax(sql, toks, i))?;
    let words = |n: usize| -> String {
        (i..end.min(i + n))
            .filter_map(|k| toks.get(k).map(|t| t.text(sql).to_ascii_uppercase()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let action = if w(i, "DROP") && w(i + 1, "NOT") && w(i + 2, "NULL") && i + 3 == end {
        ColumnAction::DropNotNull
    } else if w(i, "SET") && w(i + 1, "NOT") && w(i + 2, "NULL") && i + 3 == end {
        ColumnAction::SetNotNull
    } else if w(i, "DROP") && w(i + 1, "DEFAULT") && i + 2 == end {
        ColumnAction::DropDefault
    } else if w(i, "SET") && w(i + 1, "DEFAULT") && i + 2 < end {
        ColumnAction::SetDefault(rest(sql, toks, i + 2))
    } else if w(i, "TYPE") || (w(i, "SET") && w(i + 1, "DATA") && w(i + 2, "TYPE")) {
        let from = if w(i, "TYPE") { i + 1 } else { i + 3 };
        if from >= end {
            return Err(syntax(sql, toks, from));
        }
        if let Some(k) = (from..end).find(|&k| w(k, "USING") || w(k, "COLLATE")) {
            let what = toks.get(k).map_or("", |t| t.text(sql)).to_ascii_uppercase();
            return Err(err(
                "0A000",
                format!("ALTER TABLE ... ALTER COLUMN ... TYPE ... {what} is not supported"),
            ));
        }
        ColumnAction::Type(rest(sql, toks, from))
    } else {
        return Err(err(
            "0A000",
            format!(
                "ALTER TABLE ... ALTER COLUMN ... {} is not supported",
                words(2)
            ),
        ));
    };
    Ok(Alter::Column(ColumnChange {
        table,
        column,
        action,
    }))
}

/// Reads `DROP [COLUMN] [IF EXISTS] c [CASCADE | RESTRICT]` from token `i` (after
/// `DROP`); `None` leaves the statement to SQLite as it is.
fn drop_column_plan(
    sql: &str,
    toks: &[Tok],
    table: String,
    head: &str,
    mut i: usize,
    end: usize,
) -> Option<Result<Alter, (String, String)>> {
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    if w(i, "COLUMN") {
        i += 1;
    }
    if w(i, "IF") && w(i + 1, "EXISTS") {
        return Some(Err(err(
            "0A000",
            "ALTER TABLE ... DROP COLUMN IF EXISTS is not supported",
        )));
    }
    let (column, next) = name_at(sql, toks, i)?;
    let cascade = w(next, "CASCADE");
    let after = if cascade || w(next, "RESTRICT") {
        next + 1
    } else {
        next
    };
    if after != end {
        return Some(Err(syntax(sql, toks, after)));
    }
    let name = sql.get(toks.get(i)?.start..toks.get(next - 1)?.end)?;
    Some(Ok(Alter::DropColumn {
        table,
        column,
        cascade,
        sql: format!("{head}DROP COLUMN {name}"),
    }))
}

/// The comment in the SQL of a unique index that `ADD CONSTRAINT ... UNIQUE` made: the
/// catalog shows it as a constraint (`pg_constraint`, contype `u`) with its index, as
/// PostgreSQL does.
pub(crate) const UNIQUE_CONSTRAINT: &str = "/* pgproto: unique constraint */";

/// Runs `ALTER TABLE ... ADD CONSTRAINT`: a unique index, or the constraint added to the
/// table's `CREATE TABLE` text and the existing rows checked against it. The caller runs
/// it inside a savepoint, released or rolled back as it succeeds.
pub(crate) fn add_constraint(conn: &Connection, c: &Constraint) -> crate::ddl::Outcome {
    let quote = crate::catalog::quote_ident;
    let table_sql = table_sql(conn, &c.table)?;
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
    match &c.kind {
        ConstraintKind::PrimaryKey(columns) => {
            return add_key(conn, c, columns, true).map(|_| "ALTER TABLE".to_string())
        }
        ConstraintKind::Unique(columns) if add_key(conn, c, columns, false)? => {
            return Ok("ALTER TABLE".to_string())
        }
        _ => {}
    }
    if let (ConstraintKind::Unique(columns), Some(name)) = (&c.kind, &c.name) {
        // The mark tells the catalog that it stands for a constraint (SQLite keeps the
        // text from the index's name on).
        let sql = format!(
            "CREATE UNIQUE INDEX {} {UNIQUE_CONSTRAINT} ON {} ({columns})",
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
    replace_table_sql(conn, &c.table, &new_sql)?;
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

/// The names of a column list (`a, "B"`) as PostgreSQL reads them.
fn column_names(list: &str) -> Vec<String> {
    let toks = tokenize(list);
    let mut out = Vec::new();
    let mut i = 0;
    while let Some((name, next)) = name_at(list, &toks, i) {
        out.push(name);
        i = next + 1;
    }
    out
}

/// A table's constraint indexes (SQLite's `sqlite_autoindex_t_N`, made for the
/// `PRIMARY KEY` and `UNIQUE` constraints of its `CREATE TABLE` text, numbered in their
/// order there): name, `pk` or `u`, columns.
fn key_indexes(conn: &Connection, table: &str) -> Result<Vec<KeyIndex>, (String, String)> {
    let mut st = conn
        .prepare(
            "SELECT l.name, l.origin, (SELECT group_concat(i.name, char(31)) FROM
               (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno) i)
             FROM pragma_index_list(?1) l WHERE l.origin IN ('pk', 'u')",
        )
        .map_err(sqlite)?;
    let rows = st
        .query_map([table], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            ))
        })
        .map_err(sqlite)?;
    let mut out: Vec<KeyIndex> = rows
        .map(|r| r.map(|(n, o, cols)| (n, o, cols.split('\u{1f}').map(str::to_string).collect())))
        .collect::<rusqlite::Result<_>>()
        .map_err(sqlite)?;
    out.sort_by_key(|k| autoindex_number(&k.0));
    Ok(out)
}

/// A constraint's index: its name, `pk` or `u`, its columns.
type KeyIndex = (String, String, Vec<String>);

/// A foreign key of a table: the table, SQLite's id of it, its columns, the referenced
/// ones (NULL: the primary key).
type ForeignKey = (String, i64, Vec<String>, Vec<Option<String>>);

/// N of `sqlite_autoindex_t_N`.
fn autoindex_number(name: &str) -> usize {
    name.rsplit('_')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn same_columns(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// `ADD [CONSTRAINT name] PRIMARY KEY | UNIQUE (columns)`: the constraint written into
/// the table's `CREATE TABLE` text, as if the table had been created with it, after
/// checking the rows as PostgreSQL does (23502 for a NULL key, 23505 for duplicates; a
/// primary key's columns become NOT NULL). The index SQLite keeps for such a constraint
/// is first built as an ordinary unique index, then made the constraint's
/// (`sqlite_autoindex_t_N`) in the same schema edit: the rows are not copied.
/// `false` (nothing done) for a unique constraint on the columns of an existing one,
/// which SQLite would not give an index of its own.
fn add_key(
    conn: &Connection,
    c: &Constraint,
    columns: &str,
    primary: bool,
) -> Result<bool, (String, String)> {
    let quote = crate::catalog::quote_ident;
    let (stored, create) = table_row(conn, &c.table)?;
    let name = c.name.clone().unwrap_or_default();
    let info: Vec<(String, String, bool, i64)> = crate::ddl::query_rows(
        conn,
        "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1)",
        [&stored],
    )
    .map_err(sqlite)?;
    let mut keys = Vec::new();
    for k in column_names(columns) {
        let Some(col) = info.iter().find(|i| i.0.eq_ignore_ascii_case(&k)) else {
            return Err(err(
                "42703",
                format!("column \"{k}\" of relation \"{}\" does not exist", c.table),
            ));
        };
        keys.push(col.clone());
    }
    if primary && info.iter().any(|i| i.3 > 0) {
        return Err(err(
            "42P16",
            format!(
                "multiple primary keys for table \"{}\" are not allowed",
                c.table
            ),
        ));
    }
    let key_names: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
    let existing = key_indexes(conn, &stored)?;
    if existing.iter().any(|e| same_columns(&e.2, &key_names)) {
        if primary {
            return Err(err(
                "0A000",
                "ALTER TABLE ... ADD PRIMARY KEY on the columns of a unique constraint is not supported",
            ));
        }
        return Ok(false);
    }
    let table = quote(&stored);
    let list = key_names
        .iter()
        .map(|k| quote(k))
        .collect::<Vec<_>>()
        .join(", ");
    const NEW: &str = "_pgproto_new_key";
    if let Err(e) = conn.execute_batch(&format!(
        "CREATE UNIQUE INDEX main.{NEW} ON {table} ({list})"
    )) {
        if e.sqlite_error_code() != Some(rusqlite::ErrorCode::ConstraintViolation) {
            return Err(sqlite(e));
        }
        let shown = key_names
            .iter()
            .map(|k| format!("CAST({} AS TEXT)", quote(k)))
            .collect::<Vec<_>>()
            .join(" || ', ' || ");
        let key: String = conn
            .query_row(
                &format!(
                    "SELECT {shown} FROM {table} WHERE ({}) IS NOT NULL GROUP BY {list} HAVING count(*) > 1 LIMIT 1",
                    key_names.iter().map(|k| quote(k)).collect::<Vec<_>>().join(") IS NOT NULL AND (")
                ),
                [],
                |r| r.get(0),
            )
            .unwrap_or_default();
        return Err(err(
            "23505",
            format!(
                "could not create unique index \"{name}\"\nDETAIL: Key ({})=({key}) is duplicated.",
                key_names.join(", ")
            ),
        ));
    }
    // PostgreSQL finds duplicates first, then NULLs.
    if primary {
        for k in keys.iter().filter(|k| !k.2) {
            let null: Option<i64> = conn
                .query_row(
                    &format!(
                        "SELECT 1 FROM {table} WHERE {} IS NULL LIMIT 1",
                        quote(&k.0)
                    ),
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sqlite)?;
            if null.is_some() {
                return Err(err(
                    "23502",
                    format!(
                        "column \"{}\" of relation \"{}\" contains null values",
                        k.0, c.table
                    ),
                ));
            }
        }
    }
    // The key columns NOT NULL (and `INTEGER` not made the rowid).
    let mut new_sql = create.clone();
    if primary {
        for k in &keys {
            let Some((start, end)) = column_span(&new_sql, &k.0) else {
                continue;
            };
            let def = new_sql.get(start..end).unwrap_or("").to_string();
            let toks = tokenize(&def);
            let parts = column_parts(&def, &toks);
            let mut edited = if k.2 {
                def.clone()
            } else {
                edit_column(&def, &toks, &[], "NOT NULL")
            };
            if keys.len() == 1 && k.1.eq_ignore_ascii_case("INTEGER") {
                if let Some(t) = toks.get(parts.type_start) {
                    edited = format!(
                        "{}INT{}",
                        edited.get(..t.start).unwrap_or(""),
                        edited.get(t.end..).unwrap_or("")
                    );
                }
            }
            new_sql = format!(
                "{}{edited}{}",
                new_sql.get(..start).unwrap_or(""),
                new_sql.get(end..).unwrap_or("")
            );
        }
    }
    let clause = format!(
        "CONSTRAINT {} {} ({list})",
        quote(&name),
        if primary { "PRIMARY KEY" } else { "UNIQUE" }
    );
    let new_sql = with_constraint(&new_sql, &clause).ok_or_else(|| {
        err(
            "0A000",
            format!("cannot add a constraint to \"{}\"", c.table),
        )
    })?;
    let number = existing.len() + 1;
    edit_schema(
        conn,
        &stored,
        &new_sql,
        &[(
            NEW.to_string(),
            format!("sqlite_autoindex_{stored}_{number}"),
            None,
        )],
    )?;
    Ok(true)
}

/// `ALTER TABLE t DROP CONSTRAINT [IF EXISTS] name [CASCADE]`: the constraint taken out
/// of the table's `CREATE TABLE` text (a primary key's or unique constraint's index
/// dropped with it; its columns stay NOT NULL, as in PostgreSQL), or a unique index
/// added by `ADD UNIQUE` dropped. A foreign key that needs a dropped key fails with
/// 2BP01, or, with `CASCADE`, goes too. Returns PostgreSQL's notices. The caller runs it
/// inside a savepoint.
pub(crate) fn drop_constraint(
    conn: &Connection,
    table: &str,
    name: &str,
    if_exists: bool,
    cascade: bool,
) -> Result<Vec<String>, (String, String)> {
    let (stored, create) = table_row(conn, table)?;
    let columns = crate::session::table_columns(conn, &stored);
    let named = crate::constraints::named_clauses(table, &create, &columns);
    let Some((_, clause)) = named.iter().find(|(n, _)| n == name) else {
        // A unique index standing for a constraint (`ADD UNIQUE` of the same columns
        // as another, or made by an older server).
        let index: Option<String> = conn
            .query_row(
                "SELECT l.name FROM pragma_index_list(?1) l WHERE l.\"unique\" AND l.origin = 'c'
                 AND l.name = ?2",
                [&stored, name],
                |r| r.get(0),
            )
            .optional()
            .map_err(sqlite)?;
        if let Some(index) = index {
            let cols: Vec<String> = crate::ddl::query_column(
                conn,
                "SELECT name FROM pragma_index_info(?1) ORDER BY seqno",
                [&index],
            )
            .map_err(sqlite)?;
            let notices = drop_dependent_keys(conn, table, &stored, name, &cols, false, cascade)?;
            conn.execute_batch(&format!(
                "DROP INDEX main.{}",
                crate::catalog::quote_ident(&index)
            ))
            .map_err(sqlite)?;
            return Ok(notices);
        }
        if if_exists {
            return Ok(vec![format!(
                "constraint \"{name}\" of relation \"{table}\" does not exist, skipping"
            )]);
        }
        return Err(err(
            "42704",
            format!("constraint \"{name}\" of relation \"{table}\" does not exist"),
        ));
    };
    let new_sql = format!(
        "{}{}",
        create.get(..clause.span.0).unwrap_or(""),
        create.get(clause.span.1..).unwrap_or("")
    );
    use crate::constraints::ClauseKind;
    if !matches!(clause.kind, ClauseKind::PrimaryKey | ClauseKind::Unique) {
        edit_schema(conn, &stored, &new_sql, &[])?;
        return Ok(Vec::new());
    }
    let primary = clause.kind == ClauseKind::PrimaryKey;
    let indexes = key_indexes(conn, &stored)?;
    let sharing = named
        .iter()
        .filter(|(_, c)| {
            matches!(c.kind, ClauseKind::PrimaryKey | ClauseKind::Unique)
                && same_columns(&c.columns, &clause.columns)
        })
        .count();
    let index = indexes
        .iter()
        .find(|i| same_columns(&i.2, &clause.columns))
        .filter(|_| sharing == 1);
    let Some((index, _, _)) = index else {
        return Err(err(
            "0A000",
            format!(
                "ALTER TABLE ... DROP CONSTRAINT of \"{name}\" is not supported{}",
                if primary {
                    " (an INTEGER PRIMARY KEY is SQLite's rowid)"
                } else {
                    " (another constraint shares its index)"
                }
            ),
        ));
    };
    let notices = drop_dependent_keys(
        conn,
        table,
        &stored,
        name,
        &clause.columns,
        primary,
        cascade,
    )?;
    // The dropped index becomes an ordinary one (then dropped); those after it take
    // the numbers SQLite gives them when it reads the new text.
    const DROPPED: &str = "_pgproto_dropped_key";
    let list = clause
        .columns
        .iter()
        .map(|c| crate::catalog::quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let mut renames = vec![(
        index.clone(),
        DROPPED.to_string(),
        Some(format!(
            "CREATE INDEX {DROPPED} ON {} ({list})",
            crate::catalog::quote_ident(&stored)
        )),
    )];
    let dropped_number = autoindex_number(index);
    for (other, _, _) in &indexes {
        let n = autoindex_number(other);
        if n > dropped_number {
            renames.push((
                other.clone(),
                format!("sqlite_autoindex_{stored}_{}", n - 1),
                None,
            ));
        }
    }
    edit_schema(conn, &stored, &new_sql, &renames)?;
    conn.execute_batch(&format!("DROP INDEX main.{DROPPED}"))
        .map_err(sqlite)?;
    Ok(notices)
}

/// Before a key of `table` (`columns`) goes: the foreign keys that reference it fail
/// with 2BP01, or with `cascade` are dropped (PostgreSQL's notices returned). A foreign
/// key naming no columns references the primary key (`primary`).
fn drop_dependent_keys(
    conn: &Connection,
    table: &str,
    stored: &str,
    name: &str,
    columns: &[String],
    primary: bool,
    cascade: bool,
) -> Result<Vec<String>, (String, String)> {
    let referencing: Vec<ForeignKey> = {
        let mut st = conn
            .prepare(
                "SELECT s.name, f.id, f.\"from\", f.\"to\" FROM main.sqlite_schema s,
                 pragma_foreign_key_list(s.name) f
                 WHERE s.type = 'table' AND f.\"table\" = ?1 COLLATE NOCASE ORDER BY s.name, f.id, f.seq",
            )
            .map_err(sqlite)?;
        let rows = st
            .query_map([stored], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(sqlite)?;
        let mut out: Vec<ForeignKey> = Vec::new();
        for row in rows {
            let (t, id, from, to) = row.map_err(sqlite)?;
            match out.last_mut() {
                Some(last) if last.0 == t && last.1 == id => {
                    last.2.push(from);
                    last.3.push(to);
                }
                _ => out.push((t, id, vec![from], vec![to])),
            }
        }
        out
    };
    let mut dependents: Vec<(String, String)> = Vec::new();
    for (other, _, from, to) in referencing {
        let to: Option<Vec<String>> = to.into_iter().collect();
        let depends = match to {
            Some(to) => same_columns(&to, columns),
            None => primary,
        };
        if !depends {
            continue;
        }
        let (_, other_sql) = table_row(conn, &other)?;
        let other_columns = crate::session::table_columns(conn, &other);
        let fk = crate::constraints::named_clauses(&other, &other_sql, &other_columns)
            .into_iter()
            .find(|(_, c)| {
                c.kind == crate::constraints::ClauseKind::ForeignKey
                    && same_columns(&c.columns, &from)
                    && c.references
                        .as_deref()
                        .is_some_and(|r| r.eq_ignore_ascii_case(stored))
            })
            .map_or_else(|| format!("{other}_{}_fkey", from.join("_")), |f| f.0);
        dependents.push((other, fk));
    }
    let Some((other, fk)) = dependents.first() else {
        return Ok(Vec::new());
    };
    if !cascade {
        return Err(err(
            "2BP01",
            format!(
                "cannot drop constraint {name} on table {table} because other objects depend on it\nDETAIL: constraint {fk} on table {other} depends on index {name}\nHINT: Use DROP ... CASCADE to drop the dependent objects too."
            ),
        ));
    }
    let mut notices = Vec::new();
    for (other, fk) in &dependents {
        drop_constraint(conn, other, fk, false, false)?;
        notices.push(format!("drop cascades to constraint {fk} on table {other}"));
    }
    Ok(notices)
}

/// `ALTER TABLE t RENAME CONSTRAINT a TO b` (and `ALTER INDEX a RENAME TO b` of a
/// constraint's index): the name written into the table's `CREATE TABLE` text (a unique
/// index standing for a constraint is made again under the new name).
pub(crate) fn rename_constraint(
    conn: &Connection,
    table: &str,
    from: &str,
    to: &str,
) -> Result<(), (String, String)> {
    let quote = crate::catalog::quote_ident;
    let (stored, create) = table_row(conn, table)?;
    let columns = crate::session::table_columns(conn, &stored);
    let named = crate::constraints::named_clauses(table, &create, &columns);
    if named.iter().any(|(n, _)| n == to) {
        return Err(err(
            "42710",
            format!("constraint \"{to}\" for relation \"{table}\" already exists"),
        ));
    }
    let Some((_, clause)) = named.iter().find(|(n, _)| n == from) else {
        let index: Option<String> = conn
            .query_row(
                "SELECT sql FROM main.sqlite_schema s WHERE type = 'index' AND name = ?2
                 AND tbl_name = ?1 COLLATE NOCASE AND EXISTS (SELECT 1 FROM pragma_index_list(?1) l
                 WHERE l.name = s.name AND l.\"unique\")",
                [&stored, from],
                |r| r.get(0),
            )
            .optional()
            .map_err(sqlite)?;
        return match index {
            Some(sql) => rename_index_sql(conn, from, to, &sql),
            None => Err(err(
                "42704",
                format!("constraint \"{from}\" for table \"{table}\" does not exist"),
            )),
        };
    };
    use crate::constraints::ClauseKind;
    if matches!(clause.kind, ClauseKind::PrimaryKey | ClauseKind::Unique) {
        let taken: i64 = conn
            .query_row(
                "SELECT count(*) FROM main.sqlite_schema WHERE name = ?1",
                [to],
                |r| r.get(0),
            )
            .map_err(sqlite)?;
        if taken > 0 {
            return Err(err("42P07", format!("relation \"{to}\" already exists")));
        }
    }
    let new_sql = match clause.name_span {
        Some((a, b)) => format!(
            "{}{}{}",
            create.get(..a).unwrap_or(""),
            quote(to),
            create.get(b..).unwrap_or("")
        ),
        None => format!(
            "{}CONSTRAINT {} {}",
            create.get(..clause.keyword_at).unwrap_or(""),
            quote(to),
            create.get(clause.keyword_at..).unwrap_or("")
        ),
    };
    edit_schema(conn, &stored, &new_sql, &[])
}

/// An index made again under another name (SQLite cannot rename one), from its
/// `CREATE INDEX` text.
fn rename_index_sql(
    conn: &Connection,
    from: &str,
    to: &str,
    sql: &str,
) -> Result<(), (String, String)> {
    let quote = crate::catalog::quote_ident;
    let taken: i64 = conn
        .query_row(
            "SELECT count(*) FROM main.sqlite_schema WHERE name = ?1",
            [to],
            |r| r.get(0),
        )
        .map_err(sqlite)?;
    if taken > 0 {
        return Err(err("42P07", format!("relation \"{to}\" already exists")));
    }
    let toks = tokenize(sql);
    let at = toks
        .iter()
        .position(|t| t.is(sql, "INDEX"))
        .map(|i| {
            let w = |k: usize, kw: &str| toks.get(k).is_some_and(|t| t.is(sql, kw));
            if w(i + 1, "IF") && w(i + 2, "NOT") && w(i + 3, "EXISTS") {
                i + 4
            } else {
                i + 1
            }
        })
        .and_then(|i| Some((i, name_at(sql, &toks, i)?.1)))
        .and_then(|(a, b)| Some((toks.get(a)?.start, toks.get(b - 1)?.end)))
        .ok_or_else(|| err("0A000", format!("cannot rename index \"{from}\"")))?;
    let new_sql = format!(
        "{}{}{}",
        sql.get(..at.0).unwrap_or(""),
        quote(to),
        sql.get(at.1..).unwrap_or("")
    );
    conn.execute_batch(&format!("DROP INDEX main.{}; {new_sql}", quote(from)))
        .map_err(sqlite)
}

/// `ALTER INDEX [IF EXISTS] a RENAME TO b`: a constraint's index by renaming its
/// constraint, another index made again under the new name.
pub(crate) fn rename_index(
    conn: &Connection,
    from: &str,
    to: &str,
    if_exists: bool,
) -> Result<Vec<String>, (String, String)> {
    // A constraint's index: PostgreSQL renames the constraint with it.
    let tables: Vec<String> = crate::ddl::query_column(
        conn,
        "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        [],
    )
    .map_err(sqlite)?;
    for t in tables {
        let (_, create) = table_row(conn, &t)?;
        let columns = crate::session::table_columns(conn, &t);
        let is_key = crate::constraints::named_clauses(&t, &create, &columns)
            .iter()
            .any(|(n, c)| {
                n == from
                    && matches!(
                        c.kind,
                        crate::constraints::ClauseKind::PrimaryKey
                            | crate::constraints::ClauseKind::Unique
                    )
            });
        if is_key {
            rename_constraint(conn, &t, from, to)?;
            return Ok(Vec::new());
        }
    }
    let sql: Option<Option<String>> = conn
        .query_row(
            "SELECT sql FROM main.sqlite_schema WHERE type = 'index' AND name = ?1",
            [from],
            |r| r.get(0),
        )
        .optional()
        .map_err(sqlite)?;
    match sql {
        Some(Some(sql)) => rename_index_sql(conn, from, to, &sql).map(|_| Vec::new()),
        _ if if_exists => Ok(vec![format!(
            "relation \"{from}\" does not exist, skipping"
        )]),
        _ => Err(err("42P01", format!("relation \"{from}\" does not exist"))),
    }
}

/// Table `table`'s name as SQLite keeps it and its `CREATE TABLE` text, or PostgreSQL's
/// 42P01.
fn table_row(conn: &Connection, table: &str) -> Result<(String, String), (String, String)> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT name, sql FROM main.sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
            [table],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sqlite)?;
    row.ok_or_else(|| err("42P01", format!("relation \"{table}\" does not exist")))
}

/// Table `table`'s `CREATE TABLE` text, or PostgreSQL's 42P01.
fn table_sql(conn: &Connection, table: &str) -> Result<String, (String, String)> {
    let sql: Option<String> = conn
        .query_row(
            "SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
            [table],
            |r| r.get(0),
        )
        .optional()
        .map_err(sqlite)?;
    sql.ok_or_else(|| err("42P01", format!("relation \"{table}\" does not exist")))
}

/// Makes `new_sql` table `table`'s `CREATE TABLE` text without rebuilding the table:
/// SQLite's documented way for changes that leave the stored rows as they are
/// (constraints, defaults, a declared type of the same affinity). SQLite first
/// checks the new text on a table in `temp` of the same definition; the schema is then
/// read anew. The caller runs it inside a savepoint (a rollback restores the text).
fn replace_table_sql(
    conn: &Connection,
    table: &str,
    new_sql: &str,
) -> Result<(), (String, String)> {
    edit_schema(conn, table, new_sql, &[])
}

/// [`replace_table_sql`], and in the same edit index rows of `sqlite_schema` renamed
/// (old name, new name, new `CREATE INDEX` text or NULL for a constraint's index).
fn edit_schema(
    conn: &Connection,
    table: &str,
    new_sql: &str,
    indexes: &[(String, String, Option<String>)],
) -> Result<(), (String, String)> {
    let toks = tokenize(new_sql);
    let definition = toks
        .iter()
        .find(|t| t.is_punct(new_sql, "("))
        .and_then(|t| new_sql.get(t.start..))
        .ok_or_else(|| err("0A000", format!("cannot change table \"{table}\"")))?;
    conn.execute_batch(&format!(
        "CREATE TABLE temp._pgproto_probe {definition}; DROP TABLE temp._pgproto_probe"
    ))
    .map_err(sqlite)?;
    let version: i64 = conn
        .query_row("PRAGMA main.schema_version", [], |r| r.get(0))
        .map_err(sqlite)?;
    conn.execute_batch("PRAGMA writable_schema = ON")
        .map_err(sqlite)?;
    let edited = conn
        .execute(
            "UPDATE main.sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = ?2 COLLATE NOCASE",
            [new_sql, table],
        )
        .and_then(|_| {
            for (from, to, sql) in indexes {
                conn.execute(
                    "UPDATE main.sqlite_schema SET name = ?2, sql = ?3 WHERE type = 'index' AND name = ?1",
                    rusqlite::params![from, to, sql],
                )?;
            }
            conn.execute_batch(&format!("PRAGMA main.schema_version = {}", version + 1))
        });
    conn.execute_batch("PRAGMA writable_schema = RESET")
        .map_err(sqlite)?;
    edited.map_err(sqlite)?;
    Ok(())
}

/// Where column `column`'s definition is in a `CREATE TABLE` text (byte range).
fn column_span(create: &str, column: &str) -> Option<(usize, usize)> {
    let toks = tokenize(create);
    let open = toks.iter().position(|t| t.is_punct(create, "("))?;
    let close = crate::sql::matching_close(create, &toks, open)?;
    for item in crate::sql::list_items(create, &toks, open, close) {
        let start = item.start;
        let named = name_at(create, &toks, start)
            .is_some_and(|(n, next)| next == start + 1 && n.eq_ignore_ascii_case(column));
        let first = toks.get(start)?;
        let constraint = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
            .iter()
            .any(|kw| first.is(create, kw));
        if named && !constraint {
            return Some((first.start, toks.get(item.end.checked_sub(1)?)?.end));
        }
    }
    None
}

/// Words that end a column's type and start a column constraint.
const COLUMN_CONSTRAINTS: [&str; 11] = [
    "CONSTRAINT",
    "PRIMARY",
    "NOT",
    "NULL",
    "UNIQUE",
    "CHECK",
    "DEFAULT",
    "COLLATE",
    "REFERENCES",
    "GENERATED",
    "AS",
];

/// A column definition's parts: the index of the first token of its type, of the first
/// after its type, and the token ranges of its `NOT NULL`s and its `DEFAULT expr`.
struct ColumnParts {
    type_start: usize,
    type_end: usize,
    not_nulls: Vec<(usize, usize)>,
    default: Option<(usize, usize)>,
    primary_key: bool,
}

fn column_parts(def: &str, toks: &[Tok]) -> ColumnParts {
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(def, kw));
    let mut k = 1;
    let mut depth = 0usize;
    while let Some(t) = toks.get(k) {
        if t.is_punct(def, "(") {
            depth += 1;
        } else if t.is_punct(def, ")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && COLUMN_CONSTRAINTS.iter().any(|kw| t.is(def, kw)) {
            break;
        }
        k += 1;
    }
    let mut parts = ColumnParts {
        type_start: 1,
        type_end: k,
        not_nulls: Vec::new(),
        default: None,
        primary_key: false,
    };
    while k < toks.len() {
        if w(k, "NOT") && w(k + 1, "NULL") {
            parts.not_nulls.push((k, k + 2));
            k += 2;
        } else if w(k, "PRIMARY") {
            parts.primary_key = true;
            k += 1;
        } else if w(k, "DEFAULT") {
            let value = k + 1;
            let last = if toks.get(value).is_some_and(|t| t.is_punct(def, "(")) {
                crate::sql::matching_close(def, toks, value).unwrap_or(value)
            } else if toks
                .get(value)
                .is_some_and(|t| t.is_punct(def, "-") || t.is_punct(def, "+"))
            {
                value + 1
            } else {
                value
            };
            parts.default = Some((k, last + 1));
            k = last + 1;
        } else if toks.get(k).is_some_and(|t| t.is_punct(def, "(")) {
            k = crate::sql::matching_close(def, toks, k).unwrap_or(k) + 1;
        } else {
            k += 1;
        }
    }
    parts
}

/// A column definition with token ranges `cut` removed and `insert` put after its type.
fn edit_column(def: &str, toks: &[Tok], cut: &[(usize, usize)], insert: &str) -> String {
    let parts = column_parts(def, toks);
    let mut out = String::new();
    let mut last = 0;
    let at = |k: usize, out: &mut String, last: &mut usize| {
        let pos = toks.get(k).map_or(def.len(), |t| t.start);
        out.push_str(def.get(*last..pos).unwrap_or(""));
        *last = pos;
    };
    let mut cuts: Vec<(usize, usize)> = cut.to_vec();
    cuts.sort_unstable();
    let mut inserted = insert.is_empty();
    for (a, b) in cuts {
        if !inserted && parts.type_end <= a {
            at(parts.type_end, &mut out, &mut last);
            out.push_str(insert);
            out.push(' ');
            inserted = true;
        }
        at(a, &mut out, &mut last);
        last = toks.get(b).map_or(def.len(), |t| t.start);
    }
    if !inserted {
        at(parts.type_end, &mut out, &mut last);
        if parts.type_end >= toks.len() {
            out = out.trim_end().to_string();
            out.push(' ');
            out.push_str(insert);
        } else {
            out.push_str(insert);
            out.push(' ');
        }
    }
    out.push_str(def.get(last..).unwrap_or(""));
    out.trim_end().to_string()
}

/// The storage class a declared type's values have in SQLite, for the type changes the
/// server makes by rewriting the declaration: text (`text`, `varchar`) or integer
/// (`smallint`, `integer`, `bigint`); `None` for other types.
fn storage_family(decl: &str) -> Option<(&'static str, u32, i32)> {
    let (oid, typmod) = crate::types::declared(decl);
    match oid {
        crate::types::TEXT | crate::types::VARCHAR => Some(("text", oid, typmod)),
        crate::types::INT2 | crate::types::INT4 | crate::types::INT8 => {
            Some(("integer", oid, typmod))
        }
        _ => None,
    }
}

/// Runs `ALTER TABLE t ALTER COLUMN c ...` by rewriting the column's definition in the
/// table's `CREATE TABLE` text and checking the stored rows against it as PostgreSQL
/// does (23502 for NULLs under `SET NOT NULL`, 22001/22003 for values a narrower type
/// cannot hold). The caller runs it inside a savepoint.
pub(crate) fn alter_column(conn: &Connection, c: &ColumnChange) -> crate::ddl::Outcome {
    let quote = crate::catalog::quote_ident;
    let create = table_sql(conn, &c.table)?;
    let (start, end) = column_span(&create, &c.column).ok_or_else(|| {
        err(
            "42703",
            format!(
                "column \"{}\" of relation \"{}\" does not exist",
                c.column, c.table
            ),
        )
    })?;
    let def = create.get(start..end).unwrap_or("");
    let toks = tokenize(def);
    let parts = column_parts(def, &toks);
    let in_primary_key = || -> Result<bool, (String, String)> {
        conn.query_row(
            "SELECT pk > 0 FROM pragma_table_info(?1) WHERE name = ?2 COLLATE NOCASE",
            [&c.table, &c.column],
            |r| r.get(0),
        )
        .map_err(sqlite)
    };
    let identity = || -> Result<bool, (String, String)> {
        if !crate::catalog::has_table(conn, "_pgproto_sequences").map_err(sqlite)? {
            return Ok(false);
        }
        conn.query_row(
            "SELECT count(*) > 0 FROM main._pgproto_sequences WHERE owner_tbl = ?1 COLLATE NOCASE
             AND owner_col = ?2 COLLATE NOCASE AND identity IS NOT NULL",
            [&c.table, &c.column],
            |r| r.get(0),
        )
        .map_err(sqlite)
    };
    let column = quote(&c.column);
    let table = quote(&c.table);
    let new_def = match &c.action {
        ColumnAction::DropNotNull => {
            if in_primary_key()? {
                return Err(err(
                    "42P16",
                    format!("column \"{}\" is in a primary key", c.column),
                ));
            }
            if identity()? {
                return Err(err(
                    "42P16",
                    format!(
                        "column \"{}\" of relation \"{}\" is an identity column",
                        c.column, c.table
                    ),
                ));
            }
            edit_column(def, &toks, &parts.not_nulls, "")
        }
        ColumnAction::SetNotNull => {
            let null: Option<i64> = conn
                .query_row(
                    &format!("SELECT 1 FROM {table} WHERE {column} IS NULL LIMIT 1"),
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sqlite)?;
            if null.is_some() {
                return Err(err(
                    "23502",
                    format!(
                        "column \"{}\" of relation \"{}\" contains null values",
                        c.column, c.table
                    ),
                ));
            }
            if parts.not_nulls.is_empty() {
                edit_column(def, &toks, &[], "NOT NULL")
            } else {
                def.to_string()
            }
        }
        ColumnAction::DropDefault | ColumnAction::SetDefault(_) => {
            if identity()? {
                return Err(err(
                    "42601",
                    format!(
                        "column \"{}\" of relation \"{}\" is an identity column",
                        c.column, c.table
                    ),
                ));
            }
            let cut: Vec<(usize, usize)> = parts.default.into_iter().collect();
            let insert = match &c.action {
                ColumnAction::SetDefault(expr) => {
                    let select = crate::sql::rewrite(&format!("SELECT {expr}"))
                        .map_err(|u| err("0A000", u.0))?;
                    let value = select.strip_prefix("SELECT ").unwrap_or(&select);
                    format!("DEFAULT ({value})")
                }
                _ => String::new(),
            };
            edit_column(def, &toks, &cut, &insert)
        }
        ColumnAction::Type(ty) => {
            let old = toks
                .get(parts.type_start..parts.type_end)
                .and_then(|ts| Some(def.get(ts.first()?.start..ts.last()?.end)?.to_string()))
                .unwrap_or_default();
            let unsupported = || {
                err(
                    "0A000",
                    format!(
                        "ALTER TABLE ... ALTER COLUMN ... TYPE from {old} to {ty} is not supported"
                    ),
                )
            };
            let user = |d: &str| crate::usertypes::lookup(conn, d).is_some();
            if user(&old) || user(ty) || identity()? {
                return Err(unsupported());
            }
            let (Some((from, _, _)), Some((to, oid, typmod))) =
                (storage_family(&old), storage_family(ty))
            else {
                return Err(unsupported());
            };
            if from != to {
                return Err(unsupported());
            }
            if to == "integer" && old.eq_ignore_ascii_case("INTEGER") && in_primary_key()? {
                // SQLite's rowid: its declaration must stay.
                return Err(unsupported());
            }
            // The stored values must fit the new type.
            let range = match oid {
                crate::types::INT2 => Some((i64::from(i16::MIN), i64::from(i16::MAX), "smallint")),
                crate::types::INT4 => Some((i64::from(i32::MIN), i64::from(i32::MAX), "integer")),
                _ => None,
            };
            if let Some((lo, hi, name)) = range {
                let outside: Option<i64> = conn
                    .query_row(
                        &format!(
                            "SELECT 1 FROM {table} WHERE {column} NOT BETWEEN {lo} AND {hi} LIMIT 1"
                        ),
                        [],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(sqlite)?;
                if outside.is_some() {
                    return Err(err("22003", format!("{name} out of range")));
                }
            }
            if oid == crate::types::VARCHAR && typmod > 4 {
                // Fails with PostgreSQL's 22001 on the first value too long.
                conn.query_row(
                    &format!(
                        "SELECT count(*) FROM {table} WHERE NOT pg_check_length({column}, {}, 'character varying')",
                        typmod - 4
                    ),
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(sqlite)?;
            }
            // `INTEGER` would make a key column SQLite's rowid.
            let decl = if ty.trim().eq_ignore_ascii_case("integer") {
                "INT"
            } else {
                ty.as_str()
            };
            let (a, b) = (parts.type_start, parts.type_end);
            let mut out = String::new();
            let type_start = toks.get(a).map_or(def.len(), |t| t.start);
            out.push_str(def.get(..type_start).unwrap_or(def).trim_end());
            out.push(' ');
            out.push_str(decl);
            if let Some(t) = toks.get(b) {
                out.push(' ');
                out.push_str(def.get(t.start..).unwrap_or(""));
            }
            out
        }
    };
    let new_sql = format!(
        "{}{new_def}{}",
        create.get(..start).unwrap_or(""),
        create.get(end..).unwrap_or("")
    );
    if new_sql != create {
        replace_table_sql(conn, &c.table, &new_sql)?;
    }
    if matches!(c.action, ColumnAction::Type(_)) {
        crate::usertypes::install_checks(conn, &c.table).map_err(sqlite)?;
    }
    Ok("ALTER TABLE".to_string())
}

/// Before `ALTER TABLE t DROP COLUMN c`: what PostgreSQL does with the objects that
/// depend on the column. Its table's indexes on it go with it (SQLite would refuse to
/// drop an indexed column); another table's foreign key to it fails with 2BP01, and is
/// refused with 0A000 under `CASCADE` (which would drop that constraint). The caller
/// runs it and the `DROP COLUMN` inside one savepoint.
pub(crate) fn before_drop_column(
    conn: &Connection,
    table: &str,
    column: &str,
    cascade: bool,
) -> Result<(), (String, String)> {
    table_sql(conn, table)?;
    let referencing: Option<String> = conn
        .query_row(
            "SELECT s.name FROM main.sqlite_schema s, pragma_foreign_key_list(s.name) f
             WHERE s.type = 'table' AND f.\"table\" = ?1 COLLATE NOCASE
             AND (f.\"to\" = ?2 COLLATE NOCASE OR (f.\"to\" IS NULL AND EXISTS
               (SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2 COLLATE NOCASE AND pk > 0)))
             AND s.name <> ?1 COLLATE NOCASE LIMIT 1",
            [table, column],
            |r| r.get(0),
        )
        .optional()
        .map_err(sqlite)?;
    if let Some(other) = referencing {
        return Err(if cascade {
            err(
                "0A000",
                format!(
                    "DROP COLUMN ... CASCADE dropping the foreign key of table \"{other}\" is not supported"
                ),
            )
        } else {
            err(
                "2BP01",
                format!(
                    "cannot drop column {column} of table {table} because other objects depend on it"
                ),
            )
        });
    }
    let indexes: Vec<String> = crate::ddl::query_column(
        conn,
        "SELECT DISTINCT l.name FROM pragma_index_list(?1) l, pragma_index_info(l.name) i
                 WHERE l.origin = 'c' AND i.name = ?2 COLLATE NOCASE",
        [table, column],
    )
    .map_err(sqlite)?;
    for index in indexes {
        conn.execute_batch(&format!(
            "DROP INDEX main.{}",
            crate::catalog::quote_ident(&index)
        ))
        .map_err(sqlite)?;
    }
    Ok(())
}

/// `SET CONSTRAINTS ALL IMMEDIATE | DEFERRED` in a transaction block (`value` is what
/// follows `CONSTRAINTS`); whether constraints are now immediate. SQLite has no
/// per-transaction mode: its foreign keys declared `DEFERRABLE INITIALLY DEFERRED` are
/// checked at commit. `IMMEDIATE` checks the rows now (23503, as PostgreSQL checks the
/// pending ones) and the session checks them after each later statement of the block;
/// `DEFERRED` goes back to SQLite's mode, which is PostgreSQL's while no foreign key is
/// `DEFERRABLE INITIALLY IMMEDIATE` (SQLite cannot defer one of those alone: 0A000).
/// `started` says whether the block has given SQLite its `BEGIN` yet (if not, nothing
/// is pending). Naming constraints is refused with 0A000.
pub(crate) fn set_constraints(
    conn: &Connection,
    value: &str,
    started: bool,
) -> Result<bool, (String, String)> {
    let words: Vec<String> = value
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .collect();
    let immediate = match words.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["ALL", "IMMEDIATE"] => true,
        ["ALL", "DEFERRED"] => false,
        [.., "IMMEDIATE" | "DEFERRED"] => {
            return Err(err(
                "0A000",
                "SET CONSTRAINTS naming constraints is not supported",
            ))
        }
        _ => return Err(err("42601", format!("syntax error at or near \"{value}\""))),
    };
    if immediate {
        if started {
            check_foreign_keys(conn)?;
        }
        return Ok(true);
    }
    let tables: Vec<String> = crate::ddl::query_column(
        conn,
        "SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND sql IS NOT NULL",
        [],
    )
    .map_err(sqlite)?;
    for sql in tables {
        let toks = tokenize(&sql);
        for (k, t) in toks.iter().enumerate() {
            let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(&sql, kw));
            if t.is(&sql, "DEFERRABLE")
                && !w(k.wrapping_sub(1), "NOT")
                && !(w(k + 1, "INITIALLY") && w(k + 2, "DEFERRED"))
            {
                return Err(err(
                    "0A000",
                    "SET CONSTRAINTS ALL DEFERRED with a foreign key DEFERRABLE INITIALLY IMMEDIATE is not supported",
                ));
            }
        }
    }
    Ok(false)
}

/// Fails with 23503 when a row's foreign key has no referenced row (the check
/// PostgreSQL makes of immediate constraints).
pub(crate) fn check_foreign_keys(conn: &Connection) -> Result<(), (String, String)> {
    let violated: Option<(String, String)> = conn
        .query_row(
            "SELECT c.\"table\", c.parent FROM pragma_foreign_key_check c LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sqlite)?;
    match violated {
        Some((table, parent)) => Err(err(
            "23503",
            format!(
                "insert or update on table \"{table}\" violates foreign key constraint\nDETAIL: Key is not present in table \"{parent}\"."
            ),
        )),
        None => Ok(()),
    }
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
            "alter table t alter column a type text using a::text",
            "alter table t alter a set statistics 5",
            "alter table t drop column if exists a",
            "alter table t owner to bob",
            "alter table t add primary key (a) deferrable",
            "alter index i set tablespace x",
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
    fn reads_key_statements() {
        assert_eq!(
            plan("ALTER TABLE t DROP CONSTRAINT IF EXISTS \"T_pkey\" CASCADE"),
            Some(Ok(Alter::DropConstraint {
                table: "t".into(),
                name: "T_pkey".into(),
                if_exists: true,
                cascade: true,
            }))
        );
        assert_eq!(
            plan("alter table t rename constraint A to b"),
            Some(Ok(Alter::RenameConstraint {
                table: "t".into(),
                from: "a".into(),
                to: "b".into(),
            }))
        );
        assert_eq!(
            plan("alter index if exists i rename to j"),
            Some(Ok(Alter::RenameIndex {
                from: "i".into(),
                to: "j".into(),
                if_exists: true,
            }))
        );
        let c = constraint("alter table t add primary key (a, \"B\")");
        assert_eq!(
            (c.name.as_deref(), c.kind),
            (
                Some("t_pkey"),
                ConstraintKind::PrimaryKey("a, \"B\"".into())
            )
        );
        assert_eq!(
            plan("alter table t drop constraint c x")
                .unwrap()
                .unwrap_err()
                .0,
            "42601"
        );
    }

    /// Runs an `ALTER TABLE` as the session does, inside a savepoint.
    fn run_alter(conn: &Connection, sql: &str) -> Result<Vec<String>, (String, String)> {
        conn.execute_batch("SAVEPOINT s").unwrap();
        let r = match plan(sql) {
            Some(Ok(Alter::AddConstraint(c))) => add_constraint(conn, &c).map(|_| Vec::new()),
            Some(Ok(Alter::DropConstraint {
                table,
                name,
                if_exists,
                cascade,
            })) => drop_constraint(conn, &table, &name, if_exists, cascade),
            Some(Ok(Alter::RenameConstraint { table, from, to })) => {
                rename_constraint(conn, &table, &from, &to).map(|_| Vec::new())
            }
            Some(Ok(Alter::RenameIndex {
                from,
                to,
                if_exists,
            })) => rename_index(conn, &from, &to, if_exists),
            other => panic!("{sql}: {other:?}"),
        };
        if r.is_err() {
            conn.execute_batch("ROLLBACK TO s").unwrap();
        }
        conn.execute_batch("RELEASE s").unwrap();
        r
    }

    fn schema_sql(conn: &Connection, name: &str) -> String {
        conn.query_row(
            "SELECT sql FROM sqlite_schema WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .unwrap()
    }

    fn intact(conn: &Connection) {
        let ok: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }

    #[test]
    fn adds_and_drops_keys() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE a (id integer, code text UNIQUE, n int);
             INSERT INTO a VALUES (1, 'x', NULL), (1, 'y', 2), (NULL, 'z', 3);",
        )
        .unwrap();
        let code = |sql: &str| run_alter(&conn, sql).unwrap_err();
        // As PostgreSQL: duplicates first, then NULLs.
        let (c, m) = code("alter table a add primary key (id)");
        assert_eq!(
            (c.as_str(), m.as_str()),
            (
                "23505",
                "could not create unique index \"a_pkey\"\nDETAIL: Key (id)=(1) is duplicated."
            )
        );
        conn.execute_batch("UPDATE a SET id = 2 WHERE code = 'y'")
            .unwrap();
        let (c, m) = code("alter table a add primary key (id)");
        assert_eq!(
            (c.as_str(), m.as_str()),
            (
                "23502",
                "column \"id\" of relation \"a\" contains null values"
            )
        );
        conn.execute_batch("DELETE FROM a WHERE id IS NULL")
            .unwrap();
        assert_eq!(code("alter table a add primary key (nope)").0, "42703");
        run_alter(&conn, "alter table a add primary key (id)").unwrap();
        assert_eq!(
            code("alter table a add constraint p2 primary key (n)").0,
            "42P16"
        );
        assert_eq!(
            schema_sql(&conn, "a"),
            "CREATE TABLE a (id INT NOT NULL, code text UNIQUE, n int, CONSTRAINT a_pkey PRIMARY KEY (id))"
        );
        intact(&conn);
        // In force: the key is unique and not null, and not the rowid.
        assert!(conn
            .execute_batch("INSERT INTO a VALUES (2, 'w', 0)")
            .is_err());
        assert!(conn
            .execute_batch("INSERT INTO a (code) VALUES ('v')")
            .is_err());
        let origin: String = conn
            .query_row(
                "SELECT origin FROM pragma_index_list('a') WHERE name = 'sqlite_autoindex_a_2'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(origin, "pk");
        run_alter(&conn, "alter table a add constraint a_n_key unique (n)").unwrap();
        intact(&conn);
        conn.execute_batch(
            "CREATE TABLE b (a_id INT REFERENCES a (id), CONSTRAINT b_n FOREIGN KEY (a_id) REFERENCES a (n));
             INSERT INTO b VALUES (2);",
        )
        .unwrap();
        let (c, m) = code("alter table a drop constraint a_pkey");
        assert_eq!(c, "2BP01");
        assert!(
            m.contains("constraint b_a_id_fkey on table b depends on index a_pkey"),
            "{m}"
        );
        assert_eq!(code("alter table a drop constraint nope").0, "42704");
        assert_eq!(
            run_alter(&conn, "alter table a drop constraint if exists nope").unwrap(),
            ["constraint \"nope\" of relation \"a\" does not exist, skipping"]
        );
        assert_eq!(
            run_alter(&conn, "alter table a drop constraint a_pkey cascade").unwrap(),
            ["drop cascades to constraint b_a_id_fkey on table b"]
        );
        assert_eq!(
            schema_sql(&conn, "b"),
            "CREATE TABLE b (a_id INT, CONSTRAINT b_n FOREIGN KEY (a_id) REFERENCES a (n))"
        );
        assert_eq!(
            schema_sql(&conn, "a"),
            "CREATE TABLE a (id INT NOT NULL, code text UNIQUE, n int, CONSTRAINT a_n_key UNIQUE (n))"
        );
        intact(&conn);
        // The unique constraint after the dropped key took its number.
        let names: Vec<String> = {
            let mut st = conn
                .prepare("SELECT name FROM pragma_index_list('a') ORDER BY name")
                .unwrap();
            st.query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(names, ["sqlite_autoindex_a_1", "sqlite_autoindex_a_2"]);
        assert!(conn
            .execute_batch("INSERT INTO a VALUES (2, 'q', 9)")
            .is_ok());
        assert!(conn
            .execute_batch("INSERT INTO a VALUES (5, 'x', 10)")
            .is_err());
        run_alter(&conn, "alter table b drop constraint b_n").unwrap();
        run_alter(&conn, "alter table a drop constraint a_code_key").unwrap();
        run_alter(&conn, "alter table a rename constraint a_n_key to a_n_uq").unwrap();
        assert_eq!(
            schema_sql(&conn, "a"),
            "CREATE TABLE a (id INT NOT NULL, code text, n int, CONSTRAINT a_n_uq UNIQUE (n))"
        );
        intact(&conn);
        assert!(conn
            .execute_batch("INSERT INTO a VALUES (6, 'x', 10)")
            .is_ok());
        assert!(conn
            .execute_batch("INSERT INTO a VALUES (7, 'x', 10)")
            .is_err());
        conn.execute_batch("CREATE INDEX a_code ON a (code)")
            .unwrap();
        run_alter(&conn, "alter index a_code rename to a_code_ix").unwrap();
        assert_eq!(
            schema_sql(&conn, "a_code_ix"),
            "CREATE INDEX a_code_ix ON a (code)"
        );
        assert_eq!(code("alter index nope rename to x").0, "42P01");
        run_alter(&conn, "alter index a_n_uq rename to a_n_key").unwrap();
        assert!(schema_sql(&conn, "a").contains("CONSTRAINT a_n_key UNIQUE"));
        intact(&conn);
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
        // The unique index is marked as a constraint's, for the catalog (which
        // tests/django.rs compares with PostgreSQL's).
        let index: String = conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE name = 'a_id_key'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(index.contains(UNIQUE_CONSTRAINT), "{index}");
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

    #[test]
    fn reads_column_changes() {
        let change = |sql: &str| match plan(sql) {
            Some(Ok(Alter::Column(c))) => (c.table, c.column, c.action),
            other => panic!("{sql}: {other:?}"),
        };
        assert_eq!(
            change(r#"ALTER TABLE "auth_user" ALTER COLUMN "username" TYPE varchar(150)"#),
            (
                "auth_user".into(),
                "username".into(),
                ColumnAction::Type("varchar(150)".into())
            )
        );
        assert_eq!(
            change("alter table T alter C drop not null").2,
            ColumnAction::DropNotNull
        );
        assert_eq!(
            change("alter table t alter c set not null").2,
            ColumnAction::SetNotNull
        );
        assert_eq!(
            change("alter table t alter c drop default").2,
            ColumnAction::DropDefault
        );
        assert_eq!(
            change("alter table t alter c set default 'x' || 'y'").2,
            ColumnAction::SetDefault("'x' || 'y'".into())
        );
        assert_eq!(
            change("alter table t alter c set data type bigint").2,
            ColumnAction::Type("bigint".into())
        );
        assert_eq!(
            plan(r#"ALTER TABLE "django_content_type" DROP COLUMN "name" CASCADE"#),
            Some(Ok(Alter::DropColumn {
                table: "django_content_type".into(),
                column: "name".into(),
                cascade: true,
                sql: r#"ALTER TABLE "django_content_type" DROP COLUMN "name""#.into(),
            }))
        );
        assert!(matches!(
            plan("alter table t drop c restrict"),
            Some(Ok(Alter::DropColumn { cascade: false, .. }))
        ));
    }

    #[test]
    fn edits_column_definitions() {
        let edit = |def: &str, cut_not_null: bool, cut_default: bool, insert: &str| {
            let toks = tokenize(def);
            let parts = column_parts(def, &toks);
            let mut cut = Vec::new();
            if cut_not_null {
                cut.extend(parts.not_nulls.iter().copied());
            }
            if cut_default {
                cut.extend(parts.default);
            }
            edit_column(def, &toks, &cut, insert)
        };
        let id = r#""id" bigint NOT NULL PRIMARY KEY DEFAULT (nextval('t_id_seq')) NOT NULL"#;
        assert_eq!(
            edit(id, true, false, ""),
            r#""id" bigint PRIMARY KEY DEFAULT (nextval('t_id_seq'))"#
        );
        assert_eq!(
            edit(id, false, true, ""),
            r#""id" bigint NOT NULL PRIMARY KEY NOT NULL"#
        );
        assert_eq!(
            edit(r#""n" varchar(100)"#, false, false, "NOT NULL"),
            r#""n" varchar(100) NOT NULL"#
        );
        assert_eq!(
            edit("n int DEFAULT -1 NOT NULL", false, true, "DEFAULT (2)"),
            "n int DEFAULT (2) NOT NULL"
        );
        assert_eq!(
            column_span("CREATE TABLE t (a int, \"B\" text, CHECK (a > 0))", "b"),
            Some((23, 31))
        );
        assert_eq!(
            column_span("CREATE TABLE t (a int, UNIQUE (b))", "unique"),
            None
        );
    }

    #[test]
    fn alters_columns_as_postgresql_does() {
        let conn = Connection::open_in_memory().unwrap();
        crate::usertypes::register_functions(&conn).unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE a (id INT NOT NULL PRIMARY KEY, name varchar(5) NOT NULL, n smallint DEFAULT 1);
             INSERT INTO a VALUES (1, 'abcd', 7), (2, 'xyz', NULL);
             CREATE INDEX a_name ON a (name);
             CREATE TABLE b (id INT, a_id INT REFERENCES a (id) DEFERRABLE INITIALLY DEFERRED);",
        )
        .unwrap();
        crate::usertypes::install_checks(&conn, "a").unwrap();
        let run = |sql: &str| -> Result<String, (String, String)> {
            conn.execute_batch("SAVEPOINT s").unwrap();
            let outcome = match plan(sql) {
                Some(Ok(Alter::Column(c))) => alter_column(&conn, &c),
                Some(Ok(Alter::DropColumn {
                    table,
                    column,
                    cascade,
                    sql,
                })) => before_drop_column(&conn, &table, &column, cascade).and_then(|_| {
                    // What the session does around SQLite's DROP COLUMN.
                    let change = crate::pgsql::schema_change(&sql).unwrap();
                    crate::usertypes::before_change(&conn, &change).map_err(sqlite)?;
                    conn.execute_batch(&sql).map_err(sqlite)?;
                    crate::usertypes::after_change(&conn, &change).map_err(sqlite)?;
                    Ok("ALTER TABLE".into())
                }),
                other => panic!("{sql}: {other:?}"),
            };
            let end = if outcome.is_ok() {
                "RELEASE s"
            } else {
                "ROLLBACK TO s; RELEASE s"
            };
            conn.execute_batch(end).unwrap();
            outcome
        };
        let code = |sql: &str| run(sql).unwrap_err().0;
        assert_eq!(code("alter table a alter name type varchar(3)"), "22001");
        assert_eq!(code("alter table a alter n set not null"), "23502");
        assert_eq!(code("alter table a alter id drop not null"), "42P16");
        assert_eq!(code("alter table a alter nope drop not null"), "42703");
        assert_eq!(code("alter table nope alter a drop not null"), "42P01");
        assert_eq!(code("alter table a alter name type integer"), "0A000");
        assert_eq!(code("alter table a drop column id"), "2BP01");
        assert_eq!(code("alter table a drop column id cascade"), "0A000");
        run("alter table a alter name type varchar(150)").unwrap();
        run("alter table a alter name drop not null").unwrap();
        run("alter table a alter n drop default").unwrap();
        run("alter table a alter n type integer").unwrap();
        run("alter table a alter n set default 5").unwrap();
        let sql: String = conn
            .query_row("SELECT sql FROM sqlite_schema WHERE name = 'a'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(
            sql,
            "CREATE TABLE a (id INT NOT NULL PRIMARY KEY, name varchar(150), n INT DEFAULT (5))"
        );
        // In force on the same connection: NULL names, longer names, the default; the
        // length check follows the new type.
        conn.execute_batch("INSERT INTO a (id, name) VALUES (3, NULL)")
            .unwrap();
        conn.execute_batch("INSERT INTO a (id, name) VALUES (4, 'abcdefgh')")
            .unwrap();
        let n: i64 = conn
            .query_row("SELECT n FROM a WHERE id = 4", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 5);
        let long = format!("INSERT INTO a (id, name) VALUES (5, '{}')", "x".repeat(151));
        assert!(conn.execute_batch(&long).is_err());
        // An indexed column goes with its index.
        run("alter table a drop column name cascade").unwrap();
        let left: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'a_name'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
    }

    #[test]
    fn sets_constraints() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE a (id INT PRIMARY KEY);
             CREATE TABLE b (a_id INT REFERENCES a (id) DEFERRABLE INITIALLY DEFERRED);
             BEGIN; INSERT INTO b VALUES (1);",
        )
        .unwrap();
        assert_eq!(set_constraints(&conn, "ALL DEFERRED", true), Ok(false));
        assert_eq!(
            set_constraints(&conn, "ALL IMMEDIATE", true).unwrap_err().0,
            "23503"
        );
        conn.execute_batch("INSERT INTO a VALUES (1)").unwrap();
        assert_eq!(set_constraints(&conn, "all immediate", true), Ok(true));
        assert_eq!(
            set_constraints(&conn, "b_fk IMMEDIATE", true)
                .unwrap_err()
                .0,
            "0A000"
        );
        conn.execute_batch(
            "ROLLBACK; CREATE TABLE c (a_id INT REFERENCES a (id) DEFERRABLE INITIALLY IMMEDIATE)",
        )
        .unwrap();
        assert_eq!(
            set_constraints(&conn, "ALL DEFERRED", false).unwrap_err().0,
            "0A000"
        );
    }
}
