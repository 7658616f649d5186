//! User-defined types: `CREATE TYPE name AS ENUM (...)` and `CREATE DOMAIN name AS base
//! [NOT NULL] [CHECK (...)]`, kept in the database's `_pgproto_types` table (so they
//! survive restarts). A column declared with one keeps the type's name as its SQLite
//! declaration; RowDescription gives an enum's OID and a domain's base type (as
//! PostgreSQL does), `pg_type`/`pg_enum` list them, and values are checked on the way in
//! by the table's `_pgproto_check_*` triggers (an enum's labels, a domain's NOT NULL and
//! CHECK), with PostgreSQL's errors.

use std::collections::HashMap;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

pub(crate) use crate::ddl::Outcome;
use crate::ddl::{drop_list, err, name_at, sqlite, syntax, DropList};
use crate::sql::{tokenize, Kind as TokKind, Tok};

/// The table that keeps the user-defined types: `kind` is `e` (enum: `labels` one per
/// line, in order) or `d` (domain: `base` its declared base type, `notnull`, `check_expr`
/// written with `VALUE`, `check_name`).
pub(crate) const TYPES_DDL: &str = "CREATE TABLE IF NOT EXISTS main._pgproto_types
  (name text PRIMARY KEY, kind text NOT NULL, labels text, base text, not_null int NOT NULL DEFAULT 0,
   check_expr text, check_name text)";

/// What a user-defined type is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An enum and its labels, in order.
    Enum(Vec<String>),
    /// A domain: its base type's declaration, NOT NULL, and its CHECK (name, expression
    /// with `VALUE`).
    Domain {
        base: String,
        not_null: bool,
        check: Option<(String, String)>,
    },
}

/// A user-defined type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserType {
    pub name: String,
    pub oid: u32,
    /// For a domain, its base type's typmod; -1 for an enum.
    pub typmod: i32,
    pub kind: Kind,
}

impl UserType {
    /// The OID RowDescription gives a column of this type: an enum's own, a domain's
    /// base type.
    pub(crate) fn described_oid(&self) -> u32 {
        match &self.kind {
            Kind::Enum(_) => self.oid,
            Kind::Domain { base, .. } => crate::types::declared(base).0,
        }
    }
}

/// The OID of user type `name`.
pub(crate) fn type_oid(name: &str) -> u32 {
    u32::try_from(crate::catalog::stable_oid(
        "type",
        &name.to_ascii_lowercase(),
    ))
    .unwrap_or(0)
}

/// Whether a declared type is one of PostgreSQL's (or SQLite's) own names, which never
/// name a user type.
fn is_builtin(decl: &str) -> bool {
    let lower = decl.trim().to_ascii_lowercase();
    let base = lower.split(['(', '[']).next().unwrap_or("").trim();
    let first = base.split_whitespace().next().unwrap_or("");
    matches!(
        first,
        "int"
            | "integer"
            | "int2"
            | "int4"
            | "int8"
            | "smallint"
            | "bigint"
            | "text"
            | "varchar"
            | "character"
            | "char"
            | "bpchar"
            | "numeric"
            | "decimal"
            | "real"
            | "double"
            | "float"
            | "float4"
            | "float8"
            | "boolean"
            | "bool"
            | "bytea"
            | "blob"
            | "date"
            | "time"
            | "timestamp"
            | "timestamptz"
            | "timetz"
            | "interval"
            | "uuid"
            | "json"
            | "jsonb"
            | "serial"
            | "bigserial"
            | "smallserial"
            | "name"
            | "oid"
            | "char2"
            | ""
    )
}

/// The user-defined type a column declaration names, if it names one.
pub(crate) fn lookup(conn: &Connection, decl: &str) -> Option<UserType> {
    if is_builtin(decl) {
        return None;
    }
    let name = decl.trim().trim_matches('"');
    let mut st = conn
        .prepare_cached(
            "SELECT name, kind, labels, base, not_null, check_expr, check_name
             FROM main._pgproto_types WHERE name = ?1 COLLATE NOCASE",
        )
        .ok()?;
    st.query_row([name], row_type).optional().ok().flatten()
}

fn row_type(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserType> {
    let name: String = r.get(0)?;
    let kind: String = r.get(1)?;
    let labels: Option<String> = r.get(2)?;
    let base: Option<String> = r.get(3)?;
    let not_null: bool = r.get(4)?;
    let check_expr: Option<String> = r.get(5)?;
    let check_name: Option<String> = r.get(6)?;
    let oid = type_oid(&name);
    Ok(if kind == "e" {
        UserType {
            name,
            oid,
            typmod: -1,
            kind: Kind::Enum(
                labels
                    .unwrap_or_default()
                    .split('\n')
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
        }
    } else {
        let base = base.unwrap_or_else(|| "text".to_string());
        UserType {
            name,
            oid,
            typmod: crate::types::declared(&base).1,
            kind: Kind::Domain {
                base,
                not_null,
                check: check_name.zip(check_expr),
            },
        }
    })
}

/// All user-defined types, by name.
pub(crate) fn all(conn: &Connection) -> rusqlite::Result<Vec<UserType>> {
    if !crate::catalog::has_table(conn, "_pgproto_types")? {
        return Ok(Vec::new());
    }
    let mut st = conn.prepare(
        "SELECT name, kind, labels, base, not_null, check_expr, check_name
         FROM main._pgproto_types ORDER BY name",
    )?;
    let rows = st.query_map([], row_type)?;
    rows.collect()
}

/// The collation that orders an enum's values as PostgreSQL does, by their position
/// (a column of the enum is declared with it).
fn collation_name(name: &str) -> String {
    format!("pg_enum_{name}")
}

/// Registers the collation of enum `t` on `conn`.
fn register_collation(conn: &Connection, t: &UserType) -> rusqlite::Result<()> {
    if let Kind::Enum(labels) = &t.kind {
        let labels = labels.clone();
        conn.create_collation(collation_name(&t.name).as_str(), move |a, b| {
            let pos = |x: &str| labels.iter().position(|l| l == x);
            pos(a).cmp(&pos(b)).then_with(|| a.cmp(b))
        })?;
    }
    Ok(())
}

/// Registers the collations of the database's enums (at open).
pub(crate) fn register_collations(conn: &Connection) -> rusqlite::Result<()> {
    for t in all(conn)? {
        register_collation(conn, &t)?;
    }
    Ok(())
}

/// A `CREATE TABLE` or `ALTER TABLE` with its enum columns declared with their enum's
/// collation (`m mood` becomes `m mood COLLATE "pg_enum_mood"`), so that they compare
/// and sort in the enum's order; `None` if the statement needs none.
pub(crate) fn with_collations(conn: &Connection, sql: &str) -> Option<String> {
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let ddl = (w(0, "CREATE") && (1..4).any(|i| w(i, "TABLE"))) || (w(0, "ALTER") && w(1, "TABLE"));
    if !ddl {
        return None;
    }
    let enums: Vec<String> = all(conn)
        .ok()?
        .into_iter()
        .filter(|t| matches!(t.kind, Kind::Enum(_)))
        .map(|t| t.name)
        .collect();
    if enums.is_empty() {
        return None;
    }
    let name_of = |t: &Tok| match t.kind {
        TokKind::Word => Some(t.text(sql).to_ascii_lowercase()),
        TokKind::Quoted => t.ident(sql),
        _ => None,
    };
    let mut out = String::with_capacity(sql.len() + 32);
    let mut last = 0;
    for (i, t) in toks.iter().enumerate() {
        let Some(name) = name_of(t).filter(|n| enums.contains(n)) else {
            continue;
        };
        let column_before = i
            .checked_sub(1)
            .and_then(|p| toks.get(p))
            .is_some_and(|p| name_of(p).is_some());
        let list_before = i.checked_sub(2).and_then(|p| toks.get(p)).is_some_and(|p| {
            p.is_punct(sql, "(") || p.is_punct(sql, ",") || p.is(sql, "ADD") || p.is(sql, "COLUMN")
        });
        if !(column_before && list_before) || w(i + 1, "COLLATE") {
            continue;
        }
        out.push_str(sql.get(last..t.end).unwrap_or(""));
        out.push_str(&format!(" COLLATE {}", quote(&collation_name(&name))));
        last = t.end;
    }
    if last == 0 {
        return None;
    }
    out.push_str(sql.get(last..).unwrap_or(""));
    Some(out)
}

/// User types' names by OID, for `format_type` (OIDs are hashes of the names, so one
/// map serves every database).
static NAMES: Mutex<Option<HashMap<i64, String>>> = Mutex::new(None);

/// The name of user type `oid`, if one was seen.
pub(crate) fn name_of(oid: i64) -> Option<String> {
    NAMES.lock().ok()?.as_ref()?.get(&oid).cloned()
}

fn remember(t: &UserType) {
    if let Ok(mut names) = NAMES.lock() {
        names
            .get_or_insert_with(HashMap::new)
            .insert(i64::from(t.oid), crate::catalog::quote_ident(&t.name));
    }
}

/// `CREATE TYPE`, `CREATE DOMAIN`, `DROP TYPE`, `DROP DOMAIN`, `ALTER TYPE ... ADD
/// VALUE`: run, if the statement is one.
pub(crate) fn statement(conn: &Connection, sql: &str) -> Option<Outcome> {
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let result = if w(0, "CREATE") && w(1, "TYPE") {
        create_type(conn, sql, &toks)
    } else if w(0, "CREATE") && w(1, "DOMAIN") {
        create_domain(conn, sql, &toks)
    } else if w(0, "DROP") && (w(1, "TYPE") || w(1, "DOMAIN")) {
        drop_types(conn, sql, &toks)
    } else if w(0, "ALTER") && w(1, "TYPE") {
        alter_type(conn, sql, &toks)
    } else if w(0, "ALTER") && w(1, "DOMAIN") {
        Err(err("0A000", "ALTER DOMAIN is not supported"))
    } else {
        return None;
    };
    Some(result)
}

fn type_exists(conn: &Connection, name: &str) -> Result<bool, (String, String)> {
    if !crate::catalog::has_table(conn, "_pgproto_types").map_err(sqlite)? {
        return Ok(false);
    }
    conn.query_row(
        "SELECT count(*) > 0 FROM main._pgproto_types WHERE name = ?1",
        [name],
        |r| r.get(0),
    )
    .map_err(sqlite)
}

fn builtin_name(name: &str) -> bool {
    is_builtin(name) && !name.is_empty()
}

fn store(conn: &Connection, t: &UserType) -> Result<(), (String, String)> {
    conn.execute_batch(TYPES_DDL).map_err(sqlite)?;
    let (kind, labels, base, not_null, check_name, check_expr) = match &t.kind {
        Kind::Enum(labels) => ("e", Some(labels.join("\n")), None, false, None, None),
        Kind::Domain {
            base,
            not_null,
            check,
        } => (
            "d",
            None,
            Some(base.clone()),
            *not_null,
            check.as_ref().map(|c| c.0.clone()),
            check.as_ref().map(|c| c.1.clone()),
        ),
    };
    conn.execute(
        "INSERT OR REPLACE INTO main._pgproto_types VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![t.name, kind, labels, base, not_null, check_expr, check_name],
    )
    .map_err(sqlite)?;
    crate::catalog::changed_everywhere(conn).map_err(sqlite)?;
    remember(t);
    register_collation(conn, t).map_err(sqlite)?;
    Ok(())
}

fn create_type(conn: &Connection, sql: &str, toks: &[Tok]) -> Outcome {
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let (name, i) = name_at(sql, toks, 2).ok_or_else(|| syntax(sql, toks, 2))?;
    if !(w(i, "AS") && w(i + 1, "ENUM")) {
        return Err(err(
            "0A000",
            "CREATE TYPE is only supported AS ENUM (no composite, range or base types)",
        ));
    }
    if !toks.get(i + 2).is_some_and(|t| t.is_punct(sql, "(")) {
        return Err(syntax(sql, toks, i + 2));
    }
    let mut labels: Vec<String> = Vec::new();
    let mut j = i + 3;
    loop {
        let t = toks.get(j).ok_or_else(|| syntax(sql, toks, j))?;
        if t.is_punct(sql, ")") && labels.is_empty() {
            j += 1;
            break;
        }
        if t.kind != TokKind::Str {
            return Err(syntax(sql, toks, j));
        }
        let label = crate::sql::unquote(t.text(sql));
        if label.len() > 63 {
            return Err(err(
                "22023",
                format!("invalid enum label \"{label}\"\nDETAIL: Labels must be 63 bytes or less."),
            ));
        }
        if labels.contains(&label) {
            return Err(err(
                "23505",
                format!("enum label \"{label}\" used more than once"),
            ));
        }
        if label.contains('\n') {
            return Err(err("0A000", "enum labels with a newline are not supported"));
        }
        labels.push(label);
        j += 1;
        match toks.get(j) {
            Some(t) if t.is_punct(sql, ",") => j += 1,
            Some(t) if t.is_punct(sql, ")") => {
                j += 1;
                break;
            }
            _ => return Err(syntax(sql, toks, j)),
        }
    }
    if toks.get(j).is_some_and(|t| !t.is_punct(sql, ";")) {
        return Err(syntax(sql, toks, j));
    }
    if type_exists(conn, &name)? || builtin_name(&name) {
        return Err(err("42710", format!("type \"{name}\" already exists")));
    }
    store(
        conn,
        &UserType {
            oid: type_oid(&name),
            name,
            typmod: -1,
            kind: Kind::Enum(labels),
        },
    )?;
    Ok("CREATE TYPE".to_string())
}

fn create_domain(conn: &Connection, sql: &str, toks: &[Tok]) -> Outcome {
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let (name, mut i) = name_at(sql, toks, 2).ok_or_else(|| syntax(sql, toks, 2))?;
    if w(i, "AS") {
        i += 1;
    }
    // The base type: the words and modifiers up to the first constraint keyword.
    let stop = ["CONSTRAINT", "NOT", "NULL", "CHECK", "DEFAULT", "COLLATE"];
    let start = i;
    while i < toks.len()
        && !stop.iter().any(|k| w(i, k))
        && !toks.get(i).is_some_and(|t| t.is_punct(sql, ";"))
    {
        i += 1;
    }
    let (Some(first), Some(last)) = (toks.get(start), i.checked_sub(1).and_then(|l| toks.get(l)))
    else {
        return Err(syntax(sql, toks, start));
    };
    if i == start {
        return Err(syntax(sql, toks, start));
    }
    let base = sql.get(first.start..last.end).unwrap_or("").to_string();
    if lookup(conn, &base).is_some() || !is_builtin(&base) {
        return Err(err(
            "0A000",
            format!("a domain over type {base} is not supported (only over built-in types)"),
        ));
    }
    let mut not_null = false;
    let mut check: Option<(String, String)> = None;
    let mut constraint_name: Option<String> = None;
    while i < toks.len() {
        if toks.get(i).is_some_and(|t| t.is_punct(sql, ";")) {
            i += 1;
        } else if w(i, "CONSTRAINT") {
            let (n, j) = name_at(sql, toks, i + 1).ok_or_else(|| syntax(sql, toks, i + 1))?;
            constraint_name = Some(n);
            i = j;
        } else if w(i, "NOT") && w(i + 1, "NULL") {
            not_null = true;
            i += 2;
        } else if w(i, "NULL") {
            i += 1;
        } else if w(i, "CHECK") {
            if check.is_some() {
                return Err(err(
                    "0A000",
                    "a domain with more than one CHECK constraint is not supported",
                ));
            }
            let open = i + 1;
            if !toks.get(open).is_some_and(|t| t.is_punct(sql, "(")) {
                return Err(syntax(sql, toks, open));
            }
            let mut depth = 0i32;
            let mut close = None;
            for k in open..toks.len() {
                let Some(t) = toks.get(k) else { break };
                if t.is_punct(sql, "(") {
                    depth += 1;
                } else if t.is_punct(sql, ")") {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(k);
                        break;
                    }
                }
            }
            let close = close.ok_or_else(|| syntax(sql, toks, toks.len()))?;
            let (Some(a), Some(b)) = (toks.get(open + 1), toks.get(close - 1)) else {
                return Err(syntax(sql, toks, open + 1));
            };
            let expr = sql.get(a.start..b.end).unwrap_or("").to_string();
            let cname = constraint_name
                .take()
                .unwrap_or_else(|| format!("{name}_check"));
            check = Some((cname, expr));
            i = close + 1;
        } else if w(i, "DEFAULT") || w(i, "COLLATE") {
            return Err(err(
                "0A000",
                "CREATE DOMAIN with DEFAULT or COLLATE is not supported",
            ));
        } else {
            return Err(syntax(sql, toks, i));
        }
    }
    if type_exists(conn, &name)? || builtin_name(&name) {
        return Err(err("42710", format!("type \"{name}\" already exists")));
    }
    let typmod = crate::types::declared(&base).1;
    store(
        conn,
        &UserType {
            oid: type_oid(&name),
            name,
            typmod,
            kind: Kind::Domain {
                base,
                not_null,
                check,
            },
        },
    )?;
    Ok("CREATE DOMAIN".to_string())
}

/// The tables with a column declared with user type `name`: (table, column).
fn users_of(conn: &Connection, name: &str) -> Result<Vec<(String, String)>, (String, String)> {
    crate::ddl::query_rows(
        conn,
        "SELECT m.name, p.name FROM main.sqlite_schema m, pragma_table_info(m.name) p
             WHERE m.type = 'table' AND lower(trim(p.type, '\"')) = lower(?1)",
        [name],
    )
    .map_err(sqlite)
}

fn drop_types(conn: &Connection, sql: &str, toks: &[Tok]) -> Outcome {
    let domain = toks.get(1).is_some_and(|t| t.is(sql, "DOMAIN"));
    let DropList {
        if_exists,
        names,
        cascade,
    } = drop_list(sql, toks)?;
    let mut found = Vec::new();
    for name in &names {
        let Some(t) = lookup(conn, name) else {
            if if_exists {
                continue;
            }
            return Err(err("42704", format!("type \"{name}\" does not exist")));
        };
        if domain && !matches!(t.kind, Kind::Domain { .. }) {
            return Err(err("42809", format!("\"{name}\" is not a domain")));
        }
        let users = users_of(conn, &t.name)?;
        if let Some((table, column)) = users.first() {
            let what = if cascade { "0A000" } else { "2BP01" };
            return Err(err(
                what,
                if cascade {
                    format!("DROP ... CASCADE of type {name}, which column {table}.{column} uses, is not supported")
                } else {
                    format!(
                        "cannot drop type {name} because other objects depend on it\nDETAIL: column {column} of table {table} depends on type {name}"
                    )
                },
            ));
        }
        found.push(t);
    }
    for t in &found {
        conn.execute("DELETE FROM main._pgproto_types WHERE name = ?1", [&t.name])
            .map_err(sqlite)?;
    }
    crate::catalog::changed_everywhere(conn).map_err(sqlite)?;
    Ok(if domain { "DROP DOMAIN" } else { "DROP TYPE" }.to_string())
}

fn alter_type(conn: &Connection, sql: &str, toks: &[Tok]) -> Outcome {
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let (name, mut i) = name_at(sql, toks, 2).ok_or_else(|| syntax(sql, toks, 2))?;
    if !(w(i, "ADD") && w(i + 1, "VALUE")) {
        return Err(err("0A000", "ALTER TYPE is only supported as ADD VALUE"));
    }
    i += 2;
    let if_not_exists = w(i, "IF") && w(i + 1, "NOT") && w(i + 2, "EXISTS");
    if if_not_exists {
        i += 3;
    }
    let label = match toks.get(i) {
        Some(t) if t.kind == TokKind::Str => crate::sql::unquote(t.text(sql)),
        _ => return Err(syntax(sql, toks, i)),
    };
    i += 1;
    let Some(mut t) = lookup(conn, &name) else {
        return Err(err("42704", format!("type \"{name}\" does not exist")));
    };
    let Kind::Enum(labels) = &mut t.kind else {
        return Err(err("42809", format!("\"{name}\" is not an enum")));
    };
    if labels.contains(&label) {
        if if_not_exists {
            return Ok("ALTER TYPE".to_string());
        }
        return Err(err(
            "42710",
            format!("enum label \"{label}\" already exists"),
        ));
    }
    let at = if w(i, "BEFORE") || w(i, "AFTER") {
        let after = w(i, "AFTER");
        let other = match toks.get(i + 1) {
            Some(t) if t.kind == TokKind::Str => crate::sql::unquote(t.text(sql)),
            _ => return Err(syntax(sql, toks, i + 1)),
        };
        let p = labels.iter().position(|l| *l == other).ok_or_else(|| {
            err(
                "22023",
                format!("\"{other}\" is not an existing enum label"),
            )
        })?;
        p + usize::from(after)
    } else {
        labels.len()
    };
    labels.insert(at, label);
    store(conn, &t)?;
    // The tables' checks name the labels: write them again.
    let tables: Vec<String> = users_of(conn, &t.name)?
        .into_iter()
        .map(|(table, _)| table)
        .collect();
    for table in tables {
        install_checks(conn, &table).map_err(sqlite)?;
    }
    Ok("ALTER TYPE".to_string())
}

fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The check one column's values need, as an SQL expression over `NEW.column`, if any.
fn column_check(conn: &Connection, column: &str, decl: &str) -> Option<String> {
    let value = format!("NEW.{}", quote(column));
    if let Some(t) = lookup(conn, decl) {
        return Some(match &t.kind {
            Kind::Enum(labels) => {
                let mut args = vec![sql_str(&t.name), value];
                args.extend(labels.iter().map(|l| sql_str(l)));
                format!("pg_check_enum({})", args.join(", "))
            }
            Kind::Domain {
                base,
                not_null,
                check,
            } => {
                let (cname, test) = match check {
                    Some((n, e)) => (sql_str(n), replace_value(e, &value)),
                    None => ("NULL".to_string(), "1".to_string()),
                };
                let mut parts = vec![format!(
                    "pg_check_domain({}, {value}, {}, ({test}), {cname})",
                    sql_str(&t.name),
                    i32::from(*not_null)
                )];
                if let Some(c) = base_check(base, &value) {
                    parts.push(c);
                }
                parts.join(", ")
            }
        });
    }
    base_check(decl, &value)
}

/// The check a built-in type with a typmod needs: `varchar(n)`/`char(n)` lengths,
/// `numeric(p,s)` magnitudes.
fn base_check(decl: &str, value: &str) -> Option<String> {
    let (oid, typmod) = crate::types::declared(decl);
    match oid {
        crate::types::VARCHAR | crate::types::BPCHAR if typmod > 4 => Some(format!(
            "pg_check_length({value}, {}, {})",
            typmod - 4,
            sql_str(if oid == crate::types::VARCHAR {
                "character varying"
            } else {
                "character"
            })
        )),
        crate::types::NUMERIC if typmod >= 4 => {
            let t = typmod - 4;
            Some(format!(
                "pg_check_numeric({value}, {}, {})",
                t >> 16,
                t & 0xffff
            ))
        }
        crate::types::JSON | crate::types::JSONB => Some(format!(
            "pg_check_json({value}, json_valid({value}), {oid})"
        )),
        crate::types::INT2
        | crate::types::INT4
        | crate::types::INT8
        | crate::types::FLOAT4
        | crate::types::FLOAT8
        | crate::types::NUMERIC
        | crate::types::BOOL
        | crate::types::BYTEA
        | crate::types::DATE
        | crate::types::TIME
        | crate::types::TIMESTAMP
        | crate::types::TIMESTAMPTZ
        | crate::types::INTERVAL
        | crate::types::UUID => Some(format!("pg_check_type({value}, {oid}, {typmod})")),
        _ if crate::types::array_element(oid).is_some() => {
            Some(format!("pg_check_type({value}, {oid}, {typmod})"))
        }
        _ => None,
    }
}

/// A domain's CHECK expression with `VALUE` replaced by the column's new value.
fn replace_value(expr: &str, value: &str) -> String {
    let toks = tokenize(expr);
    let mut out = String::new();
    let mut last = 0;
    for t in &toks {
        if t.is(expr, "VALUE") {
            out.push_str(expr.get(last..t.start).unwrap_or(""));
            out.push_str(value);
            last = t.end;
        }
    }
    out.push_str(expr.get(last..).unwrap_or(""));
    crate::sql::rewrite(&format!("SELECT {out}"))
        .ok()
        .and_then(|s| s.strip_prefix("SELECT ").map(str::to_string))
        .unwrap_or(out)
}

/// (Re)creates the triggers that check a table's values on the way in (enum labels,
/// domain constraints, `varchar(n)` lengths, `numeric(p,s)` magnitudes), named
/// `_pgproto_check_*` (the catalog does not list them).
pub(crate) fn install_checks(conn: &Connection, table: &str) -> rusqlite::Result<()> {
    drop_checks(conn, table)?;
    let columns: Vec<(String, String)> = crate::ddl::query_rows(
        conn,
        "SELECT name, type FROM main.pragma_table_info(?1)",
        [table],
    )?;
    let checks: Vec<String> = columns
        .iter()
        .filter_map(|(c, decl)| column_check(conn, c, decl))
        .collect();
    if checks.is_empty() {
        return Ok(());
    }
    for (suffix, event) in [("ins", "INSERT"), ("upd", "UPDATE")] {
        conn.execute_batch(&format!(
            "CREATE TRIGGER main.{} BEFORE {event} ON {} BEGIN SELECT {}; END",
            quote(&format!("_pgproto_check_{suffix}_{table}")),
            quote(table),
            checks.join(", ")
        ))?;
    }
    // Values SQLite keeps in another form than PostgreSQL (see
    // `types::normalize_stored`) are rewritten in PostgreSQL's right after the change.
    let normalized: Vec<(String, u32)> = columns
        .iter()
        .filter_map(|(c, decl)| {
            let (oid, _) = crate::types::declared(decl);
            (crate::types::has_stored_form(oid) && lookup(conn, decl).is_none())
                .then(|| (quote(c), oid))
        })
        .collect();
    if normalized.is_empty() {
        return Ok(());
    }
    let set: Vec<String> = normalized
        .iter()
        .map(|(c, oid)| format!("{c} = coalesce(pg_normalize({c}, {oid}), {c})"))
        .collect();
    let changed: Vec<String> = normalized
        .iter()
        .map(|(c, oid)| format!("pg_normalize(NEW.{c}, {oid}) IS NOT NULL"))
        .collect();
    for (suffix, event) in [("ins", "INSERT"), ("upd", "UPDATE")] {
        conn.execute_batch(&format!(
            "CREATE TRIGGER main.{} AFTER {event} ON {} WHEN {} BEGIN UPDATE {} SET {} WHERE rowid = NEW.rowid; END",
            quote(&format!("_pgproto_check_norm_{suffix}_{table}")),
            quote(table),
            changed.join(" OR "),
            quote(table),
            set.join(", ")
        ))?;
    }
    Ok(())
}

/// Before a schema change: a column SQLite drops must not be named by the checks.
pub(crate) fn before_change(
    conn: &Connection,
    change: &crate::pgsql::SchemaChange,
) -> rusqlite::Result<()> {
    if let crate::pgsql::SchemaChange::DropColumn(table, _) = change {
        drop_checks(conn, table)?;
    }
    Ok(())
}

/// Drops a table's `_pgproto_check_*` triggers.
fn drop_checks(conn: &Connection, table: &str) -> rusqlite::Result<()> {
    let old: Vec<String> = crate::ddl::query_column(
        conn,
        "SELECT name FROM main.sqlite_schema WHERE type = 'trigger' AND tbl_name = ?1 COLLATE NOCASE
             AND name LIKE '\\_pgproto\\_check\\_%' ESCAPE '\\'",
        [table],
    )?;
    for t in old {
        conn.execute_batch(&format!("DROP TRIGGER main.{}", quote(&t)))?;
    }
    Ok(())
}

/// After a schema change (that succeeded or not): the table's checks as its columns are.
pub(crate) fn after_change(
    conn: &Connection,
    change: &crate::pgsql::SchemaChange,
) -> rusqlite::Result<()> {
    use crate::pgsql::SchemaChange;
    let table = match change {
        SchemaChange::Create(t, ..)
        | SchemaChange::AddColumn(t)
        | SchemaChange::DropColumn(t, _)
        | SchemaChange::RenameColumn(t, ..) => t,
        SchemaChange::RenameTable(_, b) => b,
        SchemaChange::Drop(_) => return Ok(()),
    };
    let exists: bool = conn.query_row(
        "SELECT count(*) > 0 FROM main.sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
        [table],
        |r| r.get(0),
    )?;
    if exists {
        install_checks(conn, table)?;
    }
    Ok(())
}

/// Registers the checks' functions: `pg_check_enum(type, value, labels...)`,
/// `pg_check_domain(type, value, not_null, check_passed, check_name)`,
/// `pg_check_length(value, n, type)`, `pg_check_numeric(value, precision, scale)`; each
/// fails with PostgreSQL's error.
pub(crate) fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    use rusqlite::types::ValueRef;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let fail =
        |code: &str, m: String| rusqlite::Error::UserFunctionError(format!("[{code}] {m}").into());
    conn.create_scalar_function("pg_check_enum", -1, flags, move |ctx| {
        let name: String = ctx.get(0)?;
        let value = match ctx.get_raw(1) {
            ValueRef::Null => return Ok(true),
            ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
            ValueRef::Integer(i) => i.to_string(),
            ValueRef::Real(f) => crate::types::format_float(f),
            ValueRef::Blob(_) => String::from("<blob>"),
        };
        for k in 2..ctx.len() {
            if ctx.get::<String>(k)? == value {
                return Ok(true);
            }
        }
        Err(fail(
            "22P02",
            format!("invalid input value for enum {name}: \"{value}\""),
        ))
    })?;
    conn.create_scalar_function("pg_check_domain", 5, flags, move |ctx| {
        let name: String = ctx.get(0)?;
        let null = matches!(ctx.get_raw(1), ValueRef::Null);
        let not_null: bool = ctx.get(2)?;
        if null && not_null {
            return Err(fail(
                "23502",
                format!("domain {name} does not allow null values"),
            ));
        }
        let passed: Option<bool> = ctx.get(3).unwrap_or(Some(true));
        if passed == Some(false) {
            let cname: String = ctx.get::<Option<String>>(4)?.unwrap_or_default();
            return Err(fail(
                "23514",
                format!("value for domain {name} violates check constraint \"{cname}\""),
            ));
        }
        Ok(true)
    })?;
    conn.create_scalar_function("pg_check_type", 3, flags, move |ctx| {
        let value: rusqlite::types::Value = ctx.get(0)?;
        let oid = u32::try_from(ctx.get::<i64>(1)?).unwrap_or(0);
        let typmod = i32::try_from(ctx.get::<i64>(2)?).unwrap_or(-1);
        crate::types::check_stored(&value, oid, typmod)
            .map(|()| true)
            .map_err(|e| fail(e.code.code(), e.message))
    })?;
    conn.create_scalar_function("pg_cast_in", 2, flags, move |ctx| {
        let value: rusqlite::types::Value = ctx.get(0)?;
        let (oid, _) = crate::types::declared(&ctx.get::<String>(1)?);
        crate::types::cast_in(value, oid).map_err(|e| fail(e.code.code(), e.message))
    })?;
    conn.create_scalar_function("pg_normalize", 2, flags, move |ctx| {
        let value: rusqlite::types::Value = ctx.get(0)?;
        let oid = u32::try_from(ctx.get::<i64>(1)?).unwrap_or(0);
        Ok(crate::types::normalize_stored(&value, oid))
    })?;
    conn.create_scalar_function("pg_check_json", 3, flags, move |ctx| {
        let valid: Option<bool> = ctx.get(1)?;
        if valid != Some(false) {
            return Ok(true);
        }
        let oid = u32::try_from(ctx.get::<i64>(2)?).unwrap_or(0);
        Err(fail(
            "22P02",
            format!(
                "invalid input syntax for type {}",
                crate::types::type_name(oid)
            ),
        ))
    })?;
    conn.create_scalar_function("pg_check_length", 3, flags, move |ctx| {
        let text = match ctx.get_raw(0) {
            ValueRef::Null => return Ok(true),
            ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
            ValueRef::Integer(i) => i.to_string(),
            ValueRef::Real(f) => crate::types::format_float(f),
            ValueRef::Blob(b) => String::from_utf8_lossy(b).into_owned(),
        };
        let n: i64 = ctx.get(1)?;
        let ty: String = ctx.get(2)?;
        let len = i64::try_from(text.chars().count()).unwrap_or(i64::MAX);
        // PostgreSQL cuts trailing spaces beyond the length without an error.
        let trimmed = i64::try_from(text.trim_end_matches(' ').chars().count()).unwrap_or(i64::MAX);
        if len > n && trimmed > n {
            return Err(fail("22001", format!("value too long for type {ty}({n})")));
        }
        if len > n {
            // PostgreSQL would store the value without the spaces that do not fit;
            // SQLite cannot change it on the way in.
            return Err(fail(
                "0A000",
                format!("a value with trailing spaces beyond {ty}({n}) is not supported"),
            ));
        }
        Ok(true)
    })?;
    conn.create_scalar_function("pg_check_numeric", 3, flags, move |ctx| {
        let text = match ctx.get_raw(0) {
            ValueRef::Null => return Ok(true),
            ValueRef::Integer(i) => i.to_string(),
            ValueRef::Real(f) => format!("{f}"),
            ValueRef::Text(t) => String::from_utf8_lossy(t).trim().to_string(),
            ValueRef::Blob(_) => return Ok(true),
        };
        let p: usize = ctx.get::<i64>(1)?.try_into().unwrap_or(0);
        let s: usize = ctx.get::<i64>(2)?.try_into().unwrap_or(0);
        let text = match text.parse::<f64>() {
            Ok(f) if text.contains(['e', 'E']) && f.is_finite() => format!("{f}"),
            _ => text,
        };
        let Some(rounded) = crate::types::round_decimal(&text, s) else {
            return Err(fail(
                "22P02",
                format!("invalid input syntax for type numeric: \"{text}\""),
            ));
        };
        if rounded == "NaN" {
            return Ok(true);
        }
        let int = rounded.trim_start_matches('-').split('.').next().unwrap_or("");
        let int_digits = int.trim_start_matches('0').len();
        if int_digits > p.saturating_sub(s) {
            let detail = if p == s {
                format!("A field with precision {p}, scale {s} must round to an absolute value less than 1.")
            } else {
                format!(
                    "A field with precision {p}, scale {s} must round to an absolute value less than 10^{}.",
                    p - s
                )
            };
            return Err(fail("22003", format!("numeric field overflow\nDETAIL: {detail}")));
        }
        Ok(true)
    })?;
    Ok(())
}

/// The user types in `pg_type` and `pg_enum` (called when the catalog is filled again).
pub(crate) fn fill_catalog(conn: &Connection) -> rusqlite::Result<()> {
    for t in all(conn)? {
        remember(&t);
        let array = crate::catalog::stable_oid("type", &format!("_{}", t.name));
        match &t.kind {
            Kind::Enum(labels) => {
                conn.execute(
                    "INSERT INTO pg_type (oid, typname, typnamespace, typowner, typlen, typbyval,
                     typtype, typcategory, typisdefined, typdelim, typrelid, typelem, typarray,
                     typnotnull, typbasetype, typtypmod, typndims, typcollation)
                     VALUES (?1, ?2, 2200, 10, 4, 1, 'e', 'E', 1, ',', 0, 0, ?3, 0, 0, -1, 0, 0)",
                    params![t.oid, t.name, array],
                )?;
                for (k, l) in labels.iter().enumerate() {
                    conn.execute(
                        "INSERT INTO pg_enum VALUES (?1, ?2, ?3, ?4)",
                        params![
                            crate::catalog::stable_oid("enum", &format!("{}.{l}", t.name)),
                            t.oid,
                            i64::try_from(k + 1).unwrap_or(0),
                            l
                        ],
                    )?;
                }
            }
            Kind::Domain {
                base,
                not_null,
                check,
            } => {
                if let Some((cname, expr)) = check {
                    let coid =
                        crate::catalog::stable_oid("constraint", &format!("{}.{cname}", t.oid));
                    conn.execute(
                        "INSERT INTO pg_constraint VALUES (?1, ?2, 2200, 'c', 0, 0, 1, 0, ?3, 0, 0, 0,
                         ' ', ' ', ' ', 1, 0, 0, NULL, NULL, NULL)",
                        params![coid, cname, t.oid],
                    )?;
                    conn.execute(
                        "INSERT INTO pg_catalog_defs VALUES (?1, ?2, NULL)",
                        params![coid, format!("CHECK ({expr})")],
                    )?;
                }
                let (boid, typmod) = crate::types::declared(base);
                let (len, collation): (i64, i64) = conn
                    .query_row(
                        "SELECT typlen, typcollation FROM pg_type WHERE oid = ?1",
                        [boid],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?
                    .unwrap_or((-1, 0));
                conn.execute(
                    "INSERT INTO pg_type (oid, typname, typnamespace, typowner, typlen, typbyval,
                     typtype, typcategory, typisdefined, typdelim, typrelid, typelem, typarray,
                     typnotnull, typbasetype, typtypmod, typndims, typcollation)
                     VALUES (?1, ?2, 2200, 10, ?3, ?3 > 0 AND ?3 <= 8, 'd', 'U', 1, ',', 0, 0, 0,
                     ?4, ?5, ?6, 0, ?7)",
                    params![t.oid, t.name, len, not_null, boid, typmod, collation],
                )?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_columns_get_their_collation() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TEMP TABLE pg_catalog_state (version int8);
             CREATE TABLE _pgproto_types (name text PRIMARY KEY, kind text NOT NULL, labels text,
               base text, not_null int NOT NULL DEFAULT 0, check_expr text, check_name text);
             INSERT INTO _pgproto_types (name, kind, labels) VALUES ('mood', 'e', 'sad\nok');",
        )
        .unwrap();
        assert_eq!(
            with_collations(&conn, "CREATE TABLE t (id int, m mood NOT NULL, n text)").as_deref(),
            Some("CREATE TABLE t (id int, m mood COLLATE \"pg_enum_mood\" NOT NULL, n text)")
        );
        assert_eq!(
            with_collations(&conn, "ALTER TABLE t ADD COLUMN x Mood").as_deref(),
            Some("ALTER TABLE t ADD COLUMN x Mood COLLATE \"pg_enum_mood\"")
        );
        assert_eq!(with_collations(&conn, "CREATE TABLE mood (a int)"), None);
        assert_eq!(with_collations(&conn, "SELECT mood FROM t"), None);
    }
}
