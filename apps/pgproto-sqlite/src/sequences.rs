//! Sequences, as PostgreSQL has them: `CREATE SEQUENCE`, `ALTER SEQUENCE ... RESTART`,
//! `DROP SEQUENCE`, `nextval`, `currval`, `setval` (2 and 3 arguments), `lastval` and
//! `pg_get_serial_sequence`; `serial`/`bigserial`/`smallserial` columns and
//! `GENERATED {BY DEFAULT | ALWAYS} AS IDENTITY` get a sequence named as PostgreSQL names it
//! (`t_id_seq`, owned by the column) and a `DEFAULT (nextval('t_id_seq'))`.
//!
//! A sequence's definition and state are kept in the database's `_pgproto_sequences`
//! table; the values handed out live in a [`Registry`] shared by the sessions (as in
//! PostgreSQL, `nextval` is not undone by a rollback), written back to the table after
//! each statement that advanced one ([`persist`]). `currval` and `lastval` are per
//! session ([`SessionState`]). Errors carry PostgreSQL's SQLSTATE as a `[XXXXX] ` prefix
//! that the session turns into the error's code.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection};

pub(crate) use crate::ddl::Outcome;
use crate::ddl::{drop_list, err, name_at, sqlite, syntax, DropList};
use crate::sql::{tokenize, Kind, Tok};

/// The table that keeps the sequences.
pub(crate) const SEQUENCES_DDL: &str = "CREATE TABLE IF NOT EXISTS main._pgproto_sequences
  (name text PRIMARY KEY, type text NOT NULL, start int8 NOT NULL, increment int8 NOT NULL,
   min int8 NOT NULL, max int8 NOT NULL, cache int8 NOT NULL, cycle int NOT NULL,
   last_value int8 NOT NULL, is_called int NOT NULL, owner_tbl text, owner_col text,
   identity text)";

/// One sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seq {
    pub name: String,
    /// `bigint`, `integer` or `smallint`.
    pub type_name: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
    pub last_value: i64,
    pub is_called: bool,
    /// The column owning it (`OWNED BY`, a serial or identity column).
    pub owner: Option<(String, String)>,
    /// `d` (by default) or `a` (always) for an identity column's sequence.
    pub identity: Option<String>,
}

impl Seq {
    /// A new sequence of `type_name` with PostgreSQL's defaults.
    fn new(name: &str, type_name: &str) -> Self {
        let max = type_max(type_name);
        Self {
            name: name.to_string(),
            type_name: type_name.to_string(),
            start: 1,
            increment: 1,
            min: 1,
            max,
            cache: 1,
            cycle: false,
            last_value: 1,
            is_called: false,
            owner: None,
            identity: None,
        }
    }

    /// The OID `pg_class` gives it.
    pub(crate) fn oid(&self) -> i64 {
        crate::catalog::stable_oid("sequence", &self.name)
    }
}

fn type_max(type_name: &str) -> i64 {
    match type_name {
        "smallint" => i64::from(i16::MAX),
        "integer" => i64::from(i32::MAX),
        _ => i64::MAX,
    }
}

fn type_min(type_name: &str) -> i64 {
    match type_name {
        "smallint" => i64::from(i16::MIN),
        "integer" => i64::from(i32::MIN),
        _ => i64::MIN,
    }
}

/// The sequences' values, shared by every session of a database.
#[derive(Clone, Default)]
pub(crate) struct Registry(Arc<Mutex<Inner>>);

#[derive(Default)]
struct Inner {
    seqs: HashMap<String, Seq>,
    /// Sequences advanced since they were last written to the table.
    dirty: BTreeSet<String>,
}

/// A session's `currval` values and `lastval`.
#[derive(Clone, Default, Debug)]
pub(crate) struct SessionState(Arc<Mutex<Session>>);

#[derive(Default, Debug)]
struct Session {
    current: HashMap<String, i64>,
    last: Option<i64>,
}

fn fail(code: &str, message: String) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(format!("[{code}] {message}").into())
}

fn poisoned() -> rusqlite::Error {
    fail("XX000", "sequence state poisoned".to_string())
}

/// A sequence named in a function's argument: `'t_id_seq'`, `'public.t_id_seq'`,
/// `'"T"'` (a quoted name keeps its case), or an OID (`'t_id_seq'::regclass`).
fn seq_name(arg: &rusqlite::types::Value, inner: &Inner) -> rusqlite::Result<String> {
    use rusqlite::types::Value;
    match arg {
        Value::Integer(oid) => inner
            .seqs
            .values()
            .find(|s| s.oid() == *oid)
            .map(|s| s.name.clone())
            .ok_or_else(|| fail("42P01", format!("could not open relation with OID {oid}"))),
        Value::Text(t) => Ok(normalize(t)),
        _ => Err(fail("22023", "invalid sequence name".to_string())),
    }
}

/// A relation name as PostgreSQL reads it: `public.` dropped, unquoted names folded to
/// lower case, quoted ones as written.
pub(crate) fn normalize(text: &str) -> String {
    let t = text.trim();
    let t = t
        .strip_prefix("public.")
        .or_else(|| t.strip_prefix("\"public\"."))
        .unwrap_or(t);
    match t.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(q) => q.replace("\"\"", "\""),
        None => t.to_ascii_lowercase(),
    }
}

fn undefined(name: &str) -> rusqlite::Error {
    fail("42P01", format!("relation \"{name}\" does not exist"))
}

impl Registry {
    /// Loads the sequences of the database (none if it has no `_pgproto_sequences`). The
    /// value of a sequence owned by a column is raised to the column's largest value, in
    /// case the last values handed out were not written back (a crash, a rollback).
    pub(crate) fn load(&self, conn: &Connection) -> rusqlite::Result<()> {
        let seqs = read_all(conn)?;
        let mut inner = self.0.lock().map_err(|_| poisoned())?;
        inner.seqs.clear();
        inner.dirty.clear();
        for mut s in seqs {
            if let Some((t, c)) = &s.owner {
                let max: Option<i64> = conn
                    .query_row(
                        &format!("SELECT max({}) FROM main.{}", quote(c), quote(t)),
                        [],
                        |r| r.get(0),
                    )
                    .ok()
                    .flatten();
                if let Some(m) = max {
                    if s.increment > 0 && (m > s.last_value || !s.is_called && m >= s.last_value) {
                        s.last_value = m;
                        s.is_called = true;
                    }
                }
            }
            inner.seqs.insert(s.name.clone(), s);
        }
        Ok(())
    }

    fn next(&self, name: &str) -> rusqlite::Result<i64> {
        let mut inner = self.0.lock().map_err(|_| poisoned())?;
        let s = inner.seqs.get_mut(name).ok_or_else(|| undefined(name))?;
        let value = if !s.is_called {
            s.last_value
        } else {
            match s.last_value.checked_add(s.increment) {
                Some(v) if v >= s.min && v <= s.max => v,
                _ if s.cycle => {
                    if s.increment > 0 {
                        s.min
                    } else {
                        s.max
                    }
                }
                _ => {
                    let (what, bound) = if s.increment > 0 {
                        ("maximum", s.max)
                    } else {
                        ("minimum", s.min)
                    };
                    return Err(fail(
                        "2200H",
                        format!("nextval: reached {what} value of sequence \"{name}\" ({bound})"),
                    ));
                }
            }
        };
        s.last_value = value;
        s.is_called = true;
        inner.dirty.insert(name.to_string());
        Ok(value)
    }

    fn set(&self, name: &str, value: i64, is_called: bool) -> rusqlite::Result<i64> {
        let mut inner = self.0.lock().map_err(|_| poisoned())?;
        let s = inner.seqs.get_mut(name).ok_or_else(|| undefined(name))?;
        if value < s.min || value > s.max {
            return Err(fail(
                "22003",
                format!(
                    "setval: value {value} is out of bounds for sequence \"{name}\" ({}..{})",
                    s.min, s.max
                ),
            ));
        }
        s.last_value = value;
        s.is_called = is_called;
        inner.dirty.insert(name.to_string());
        Ok(value)
    }

    /// The sequence `name`, if it exists.
    pub(crate) fn get(&self, name: &str) -> Option<Seq> {
        self.0.lock().ok()?.seqs.get(name).cloned()
    }

    /// The identity columns of table `table` (see [`crate::identity`]).
    pub(crate) fn identities(&self, table: &str) -> Vec<crate::identity::Identity> {
        let Ok(inner) = self.0.lock() else {
            return Vec::new();
        };
        let mut out: Vec<crate::identity::Identity> = inner
            .seqs
            .values()
            .filter_map(|s| {
                let (t, c) = s.owner.as_ref()?;
                let kind = s.identity.as_deref()?;
                t.eq_ignore_ascii_case(table)
                    .then(|| crate::identity::Identity {
                        column: c.clone(),
                        always: kind == "a",
                        sequence: s.name.clone(),
                    })
            })
            .collect();
        out.sort_by(|a, b| a.column.cmp(&b.column));
        out
    }

    /// The sequences owned by a column of one of `tables` (serial and identity columns',
    /// and `OWNED BY`), by name.
    pub(crate) fn owned_by(&self, tables: &[String]) -> Vec<String> {
        let Ok(inner) = self.0.lock() else {
            return Vec::new();
        };
        let mut out: Vec<String> = inner
            .seqs
            .values()
            .filter(|s| {
                s.owner
                    .as_ref()
                    .is_some_and(|(t, _)| tables.iter().any(|x| x.eq_ignore_ascii_case(t)))
            })
            .map(|s| s.name.clone())
            .collect();
        out.sort();
        out
    }

    /// Whether some table has an identity column.
    pub(crate) fn any_identity(&self) -> bool {
        self.0
            .lock()
            .is_ok_and(|inner| inner.seqs.values().any(|s| s.identity.is_some()))
    }

    fn put(&self, s: Seq) {
        if let Ok(mut inner) = self.0.lock() {
            inner.dirty.remove(&s.name);
            inner.seqs.insert(s.name.clone(), s);
        }
    }

    fn remove(&self, name: &str) {
        if let Ok(mut inner) = self.0.lock() {
            inner.seqs.remove(name);
            inner.dirty.remove(name);
        }
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The sequences kept in the database.
pub(crate) fn read_all(conn: &Connection) -> rusqlite::Result<Vec<Seq>> {
    if !crate::catalog::has_table(conn, "_pgproto_sequences")? {
        return Ok(Vec::new());
    }
    let mut st = conn.prepare(
        "SELECT name, type, start, increment, min, max, cache, cycle, last_value, is_called,
         owner_tbl, owner_col, identity FROM main._pgproto_sequences ORDER BY name",
    )?;
    let rows = st.query_map([], |r| {
        let owner_tbl: Option<String> = r.get(10)?;
        let owner_col: Option<String> = r.get(11)?;
        Ok(Seq {
            name: r.get(0)?,
            type_name: r.get(1)?,
            start: r.get(2)?,
            increment: r.get(3)?,
            min: r.get(4)?,
            max: r.get(5)?,
            cache: r.get(6)?,
            cycle: r.get(7)?,
            last_value: r.get(8)?,
            is_called: r.get(9)?,
            owner: owner_tbl.zip(owner_col),
            identity: r.get(12)?,
        })
    })?;
    rows.collect()
}

fn exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    if !crate::catalog::has_table(conn, "_pgproto_sequences")? {
        return Ok(false);
    }
    conn.query_row(
        "SELECT count(*) > 0 FROM main._pgproto_sequences WHERE name = ?1",
        [name],
        |r| r.get(0),
    )
}

fn write(conn: &Connection, s: &Seq) -> rusqlite::Result<()> {
    conn.execute_batch(SEQUENCES_DDL)?;
    conn.execute(
        "INSERT OR REPLACE INTO main._pgproto_sequences VALUES
         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            s.name,
            s.type_name,
            s.start,
            s.increment,
            s.min,
            s.max,
            s.cache,
            s.cycle,
            s.last_value,
            s.is_called,
            s.owner.as_ref().map(|o| o.0.clone()),
            s.owner.as_ref().map(|o| o.1.clone()),
            s.identity
        ],
    )?;
    // The catalog is filled again on its next use.
    crate::catalog::changed_everywhere(conn)?;
    Ok(())
}

/// Writes the values handed out since the last call back to `_pgproto_sequences`.
pub(crate) fn persist(conn: &Connection, registry: &Registry) -> rusqlite::Result<()> {
    let dirty: Vec<Seq> = {
        let Ok(mut inner) = registry.0.lock() else {
            return Ok(());
        };
        if inner.dirty.is_empty() {
            return Ok(());
        }
        let names = std::mem::take(&mut inner.dirty);
        names
            .iter()
            .filter_map(|n| inner.seqs.get(n).cloned())
            .collect()
    };
    let mut st = conn.prepare_cached(
        "UPDATE main._pgproto_sequences SET last_value = ?2, is_called = ?3 WHERE name = ?1",
    )?;
    for s in dirty {
        st.execute(params![s.name, s.last_value, s.is_called])?;
    }
    Ok(())
}

/// Registers `nextval`, `currval`, `setval`, `lastval` and `pg_get_serial_sequence`;
/// `session` gives the calling session's state.
pub(crate) fn register_functions(
    conn: &Connection,
    registry: &Registry,
    session: impl Fn() -> Option<SessionState> + Send + Sync + Clone + 'static,
) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    use rusqlite::types::Value;
    let flags = FunctionFlags::SQLITE_UTF8;
    let name_of = |r: &Registry, v: &Value| -> rusqlite::Result<String> {
        let inner = r.0.lock().map_err(|_| poisoned())?;
        seq_name(v, &inner)
    };
    let (r, s) = (registry.clone(), session.clone());
    conn.create_scalar_function("nextval", 1, flags, move |ctx| {
        let arg: Value = ctx.get(0)?;
        if arg == Value::Null {
            return Ok(None);
        }
        let name = name_of(&r, &arg)?;
        let v = r.next(&name)?;
        if let Some(state) = s() {
            let mut st = state.0.lock().map_err(|_| poisoned())?;
            st.current.insert(name, v);
            st.last = Some(v);
        }
        Ok(Some(v))
    })?;
    let (r, s) = (registry.clone(), session.clone());
    conn.create_scalar_function("currval", 1, flags, move |ctx| {
        let arg: Value = ctx.get(0)?;
        if arg == Value::Null {
            return Ok(None);
        }
        let name = name_of(&r, &arg)?;
        if r.get(&name).is_none() {
            return Err(undefined(&name));
        }
        let current = s().and_then(|state| state.0.lock().ok()?.current.get(&name).copied());
        current.map(Some).ok_or_else(|| {
            fail(
                "55000",
                format!("currval of sequence \"{name}\" is not yet defined in this session"),
            )
        })
    })?;
    let s = session.clone();
    conn.create_scalar_function("lastval", 0, flags, move |_| {
        s().and_then(|state| state.0.lock().ok()?.last)
            .ok_or_else(|| fail("55000", "lastval is not yet defined in this session".into()))
    })?;
    for args in [2, 3] {
        let r = registry.clone();
        conn.create_scalar_function("setval", args, flags, move |ctx| {
            let arg: Value = ctx.get(0)?;
            let value = match ctx.get::<Value>(1)? {
                Value::Null => return Ok(None),
                Value::Integer(v) => v,
                Value::Text(t) => t.trim().parse::<i64>().map_err(|_| {
                    fail(
                        "22P02",
                        format!("invalid input syntax for type bigint: \"{t}\""),
                    )
                })?,
                _ => {
                    return Err(fail(
                        "42883",
                        "function setval(regclass, numeric) does not exist".to_string(),
                    ))
                }
            };
            if arg == Value::Null {
                return Ok(None);
            }
            let called = if args == 3 {
                match ctx.get::<Option<bool>>(2)? {
                    Some(c) => c,
                    None => return Ok(None),
                }
            } else {
                true
            };
            let name = name_of(&r, &arg)?;
            r.set(&name, value, called).map(Some)
        })?;
    }
    let r = registry.clone();
    conn.create_scalar_function("pg_get_serial_sequence", 2, flags, move |ctx| {
        let (Some(table), Some(column)) =
            (ctx.get::<Option<String>>(0)?, ctx.get::<Option<String>>(1)?)
        else {
            return Ok(None);
        };
        let table = normalize(&table);
        let inner = r.0.lock().map_err(|_| poisoned())?;
        Ok(inner
            .seqs
            .values()
            .find(|s| {
                s.owner.as_ref().is_some_and(|(t, c)| {
                    t.eq_ignore_ascii_case(&table) && c.eq_ignore_ascii_case(&column)
                })
            })
            .map(|s| format!("public.{}", crate::catalog::quote_ident(&s.name))))
    })?;
    Ok(())
}

/// `CREATE SEQUENCE`, `ALTER SEQUENCE`, `DROP SEQUENCE`: run, if the statement is one.
pub(crate) fn statement(conn: &Connection, registry: &Registry, sql: &str) -> Option<Outcome> {
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let verb = if w(0, "CREATE") {
        let mut i = 1;
        while w(i, "TEMP") || w(i, "TEMPORARY") || w(i, "UNLOGGED") {
            i += 1;
        }
        if !w(i, "SEQUENCE") {
            return None;
        }
        return Some(create(conn, registry, sql, &toks, i + 1));
    } else if w(0, "ALTER") && w(1, "SEQUENCE") {
        "ALTER"
    } else if w(0, "DROP") && w(1, "SEQUENCE") {
        "DROP"
    } else {
        return None;
    };
    Some(if verb == "ALTER" {
        alter(conn, registry, sql, &toks)
    } else {
        drop_sequences(conn, registry, sql, &toks)
    })
}

fn number_at(sql: &str, toks: &[Tok], i: usize) -> Option<(i64, usize)> {
    let neg = toks.get(i).is_some_and(|t| t.is_punct(sql, "-"));
    let j = if neg || toks.get(i).is_some_and(|t| t.is_punct(sql, "+")) {
        i + 1
    } else {
        i
    };
    let t = toks.get(j)?;
    if !matches!(t.kind, Kind::Num { is_int: true }) {
        return None;
    }
    let n: i64 = t.text(sql).parse().ok()?;
    Some((if neg { -n } else { n }, j + 1))
}

/// Options given to a sequence (`AS`, `INCREMENT [BY]`, `[NO] MINVALUE`, `[NO]
/// MAXVALUE`, `START [WITH]`, `RESTART [WITH]`, `CACHE`, `[NO] CYCLE`, `OWNED BY`).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Options {
    pub type_name: Option<String>,
    pub increment: Option<i64>,
    pub min: Option<Option<i64>>,
    pub max: Option<Option<i64>>,
    pub start: Option<i64>,
    /// `RESTART` (`Some(None)`: to the start value).
    pub restart: Option<Option<i64>>,
    pub cache: Option<i64>,
    pub cycle: Option<bool>,
    /// `OWNED BY t.c` (`Some(None)`: `OWNED BY NONE`).
    pub owned_by: Option<Option<(String, String)>>,
}

/// Parses sequence options from token `i` to the end.
pub(crate) fn parse_options(
    sql: &str,
    toks: &[Tok],
    mut i: usize,
) -> Result<Options, (String, String)> {
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let mut o = Options::default();
    let num = |i: usize| number_at(sql, toks, i).ok_or_else(|| syntax(sql, toks, i));
    while i < toks.len() {
        if toks.get(i).is_some_and(|t| t.is_punct(sql, ";")) {
            i += 1;
        } else if w(i, "AS") {
            let t = toks
                .get(i + 1)
                .map(|t| t.text(sql).to_ascii_lowercase())
                .unwrap_or_default();
            let ty = match t.as_str() {
                "smallint" | "int2" => "smallint",
                "integer" | "int" | "int4" => "integer",
                "bigint" | "int8" => "bigint",
                _ => {
                    return Err(err(
                        "22023",
                        "sequence type must be smallint, integer, or bigint",
                    ))
                }
            };
            o.type_name = Some(ty.to_string());
            i += 2;
        } else if w(i, "INCREMENT") {
            i += 1 + usize::from(w(i + 1, "BY"));
            let (n, j) = num(i)?;
            o.increment = Some(n);
            i = j;
        } else if w(i, "NO") && (w(i + 1, "MINVALUE") || w(i + 1, "MAXVALUE")) {
            if w(i + 1, "MINVALUE") {
                o.min = Some(None);
            } else {
                o.max = Some(None);
            }
            i += 2;
        } else if w(i, "MINVALUE") || w(i, "MAXVALUE") {
            let (n, j) = num(i + 1)?;
            if w(i, "MINVALUE") {
                o.min = Some(Some(n));
            } else {
                o.max = Some(Some(n));
            }
            i = j;
        } else if w(i, "START") {
            i += 1 + usize::from(w(i + 1, "WITH"));
            let (n, j) = num(i)?;
            o.start = Some(n);
            i = j;
        } else if w(i, "RESTART") {
            let with = w(i + 1, "WITH");
            i += 1 + usize::from(with);
            match number_at(sql, toks, i) {
                Some((n, j)) => {
                    o.restart = Some(Some(n));
                    i = j;
                }
                None if with => return Err(syntax(sql, toks, i)),
                None => o.restart = Some(None),
            }
        } else if w(i, "CACHE") {
            let (n, j) = num(i + 1)?;
            o.cache = Some(n);
            i = j;
        } else if w(i, "NO") && w(i + 1, "CYCLE") {
            o.cycle = Some(false);
            i += 2;
        } else if w(i, "CYCLE") {
            o.cycle = Some(true);
            i += 1;
        } else if w(i, "OWNED") && w(i + 1, "BY") {
            if w(i + 2, "NONE") {
                o.owned_by = Some(None);
                i += 3;
            } else {
                // `[schema.]table.column`: the last two parts.
                let mut parts = Vec::new();
                let mut j = i + 2;
                loop {
                    let t = toks.get(j).ok_or_else(|| syntax(sql, toks, j))?;
                    parts.push(match t.kind {
                        Kind::Word => t.text(sql).to_ascii_lowercase(),
                        Kind::Quoted => t.ident(sql).unwrap_or_default(),
                        _ => return Err(syntax(sql, toks, j)),
                    });
                    j += 1;
                    if toks.get(j).is_some_and(|t| t.is_punct(sql, ".")) {
                        j += 1;
                    } else {
                        break;
                    }
                }
                let n = parts.len();
                if n < 2 {
                    return Err(err(
                        "42601",
                        "invalid OWNED BY option: Specify OWNED BY table.column or OWNED BY NONE.",
                    ));
                }
                o.owned_by = Some(Some((
                    parts.get(n - 2).cloned().unwrap_or_default(),
                    parts.get(n - 1).cloned().unwrap_or_default(),
                )));
                i = j;
            }
        } else {
            return Err(syntax(sql, toks, i));
        }
    }
    Ok(o)
}

/// Applies options to a sequence, with PostgreSQL's checks.
fn apply(s: &mut Seq, o: &Options, creating: bool) -> Result<(), (String, String)> {
    if let Some(t) = &o.type_name {
        s.type_name = t.clone();
    }
    if let Some(i) = o.increment {
        if i == 0 {
            return Err(err("22023", "INCREMENT must not be zero"));
        }
        s.increment = i;
    }
    let ascending = s.increment > 0;
    match o.min {
        Some(Some(m)) => s.min = m,
        Some(None) => s.min = if ascending { 1 } else { type_min(&s.type_name) },
        None if creating => s.min = if ascending { 1 } else { type_min(&s.type_name) },
        None => {}
    }
    match o.max {
        Some(Some(m)) => s.max = m,
        Some(None) => {
            s.max = if ascending {
                type_max(&s.type_name)
            } else {
                -1
            }
        }
        None if creating => {
            s.max = if ascending {
                type_max(&s.type_name)
            } else {
                -1
            }
        }
        None => {}
    }
    if s.max > type_max(&s.type_name) || s.min < type_min(&s.type_name) {
        return Err(err(
            "22023",
            format!(
                "MAXVALUE ({}) is out of range for sequence data type {}",
                s.max, s.type_name
            ),
        ));
    }
    if s.min >= s.max {
        return Err(err(
            "22023",
            format!(
                "MINVALUE ({}) must be less than MAXVALUE ({})",
                s.min, s.max
            ),
        ));
    }
    if let Some(st) = o.start {
        s.start = st;
    } else if creating {
        s.start = if ascending { s.min } else { s.max };
    }
    if s.start < s.min {
        return Err(err(
            "22023",
            format!(
                "START value ({}) cannot be less than MINVALUE ({})",
                s.start, s.min
            ),
        ));
    }
    if s.start > s.max {
        return Err(err(
            "22023",
            format!(
                "START value ({}) cannot be greater than MAXVALUE ({})",
                s.start, s.max
            ),
        ));
    }
    if let Some(c) = o.cache {
        if c < 1 {
            return Err(err(
                "22023",
                format!("CACHE ({c}) must be greater than zero"),
            ));
        }
        s.cache = c;
    }
    if let Some(c) = o.cycle {
        s.cycle = c;
    }
    if creating {
        s.last_value = s.start;
        s.is_called = false;
    }
    if let Some(r) = o.restart {
        s.last_value = r.unwrap_or(s.start);
        s.is_called = false;
    }
    if let Some(owner) = &o.owned_by {
        s.owner = owner.clone();
    }
    Ok(())
}

/// Whether a table, view or index has this name.
pub(crate) fn relation_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) > 0 FROM main.sqlite_schema WHERE type IN ('table', 'view', 'index')
         AND name = ?1 COLLATE NOCASE",
        [name],
        |r| r.get(0),
    )
}

fn create(
    conn: &Connection,
    registry: &Registry,
    sql: &str,
    toks: &[Tok],
    mut i: usize,
) -> Outcome {
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let if_not_exists = w(i, "IF") && w(i + 1, "NOT") && w(i + 2, "EXISTS");
    if if_not_exists {
        i += 3;
    }
    let (name, i) = name_at(sql, toks, i).ok_or_else(|| syntax(sql, toks, i))?;
    let options = parse_options(sql, toks, i)?;
    if exists(conn, &name).map_err(sqlite)? || relation_exists(conn, &name).map_err(sqlite)? {
        if if_not_exists {
            return Ok("CREATE SEQUENCE".to_string());
        }
        return Err(err("42P07", format!("relation \"{name}\" already exists")));
    }
    let mut s = Seq::new(&name, options.type_name.as_deref().unwrap_or("bigint"));
    apply(&mut s, &options, true)?;
    write(conn, &s).map_err(sqlite)?;
    registry.put(s);
    Ok("CREATE SEQUENCE".to_string())
}

fn alter(conn: &Connection, registry: &Registry, sql: &str, toks: &[Tok]) -> Outcome {
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let mut i = 2;
    let if_exists = w(i, "IF") && w(i + 1, "EXISTS");
    if if_exists {
        i += 2;
    }
    let (name, i) = name_at(sql, toks, i).ok_or_else(|| syntax(sql, toks, i))?;
    if w(i, "RENAME") || w(i, "OWNER") || w(i, "SET") {
        return Err(err(
            "0A000",
            "ALTER SEQUENCE ... RENAME/OWNER/SET is not supported",
        ));
    }
    let options = parse_options(sql, toks, i)?;
    let Some(mut s) = registry
        .get(&name)
        .filter(|_| exists(conn, &name).unwrap_or(false))
    else {
        if if_exists {
            return Ok("ALTER SEQUENCE".to_string());
        }
        return Err(err("42P01", format!("relation \"{name}\" does not exist")));
    };
    apply(&mut s, &options, false)?;
    write(conn, &s).map_err(sqlite)?;
    registry.put(s);
    Ok("ALTER SEQUENCE".to_string())
}

fn drop_sequences(conn: &Connection, registry: &Registry, sql: &str, toks: &[Tok]) -> Outcome {
    let DropList {
        if_exists,
        names,
        cascade,
    } = drop_list(sql, toks)?;
    for name in &names {
        if !exists(conn, name).map_err(sqlite)? {
            if if_exists {
                continue;
            }
            return Err(err("42P01", format!("sequence \"{name}\" does not exist")));
        }
        if let Some(s) = registry.get(name) {
            if let Some((t, c)) = s.owner.as_ref().filter(|_| !cascade) {
                let used = crate::catalog::has_table(conn, t).map_err(sqlite)?;
                if used {
                    return Err(err(
                        "2BP01",
                        format!(
                            "cannot drop sequence {name} because other objects depend on it\n\
                             DETAIL: default value for column {c} of table {t} depends on sequence {name}"
                        ),
                    ));
                }
            }
            if cascade && s.owner.is_some() {
                return Err(err(
                    "0A000",
                    "DROP SEQUENCE ... CASCADE of a sequence a column uses is not supported",
                ));
            }
        }
    }
    for name in &names {
        if exists(conn, name).map_err(sqlite)? {
            conn.execute(
                "DELETE FROM main._pgproto_sequences WHERE name = ?1",
                [name],
            )
            .map_err(sqlite)?;
            crate::catalog::changed_everywhere(conn).map_err(sqlite)?;
        }
        registry.remove(name);
    }
    Ok("DROP SEQUENCE".to_string())
}

/// A column that takes its values from a sequence, as a `CREATE TABLE` declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeqColumn {
    pub column: String,
    /// `bigint`, `integer` or `smallint`.
    pub type_name: String,
    /// `d` for `GENERATED BY DEFAULT AS IDENTITY`, `a` for `GENERATED ALWAYS`.
    pub identity: Option<String>,
    /// `START WITH` and `INCREMENT BY` of an identity column.
    pub start: Option<i64>,
    pub increment: Option<i64>,
}

/// The name PostgreSQL gives the sequence of `table.column`.
pub(crate) fn serial_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_seq")
}

/// After a `CREATE TABLE` succeeded: its serial and identity columns' sequences (kept
/// if they exist: `CREATE TABLE IF NOT EXISTS` of an existing table).
pub(crate) fn follow_create(
    conn: &Connection,
    registry: &Registry,
    table: &str,
    columns: &[SeqColumn],
) -> rusqlite::Result<()> {
    for c in columns {
        let name = serial_name(table, &c.column);
        if exists(conn, &name)? {
            continue;
        }
        let mut s = Seq::new(&name, &c.type_name);
        s.owner = Some((table.to_string(), c.column.clone()));
        s.identity = c.identity.clone();
        if let Some(i) = c.increment.filter(|i| *i != 0) {
            s.increment = i;
            if i < 0 {
                s.min = type_min(&s.type_name);
                s.max = -1;
            }
        }
        s.start = c
            .start
            .unwrap_or(if s.increment > 0 { s.min } else { s.max });
        s.last_value = s.start;
        write(conn, &s)?;
        registry.put(s);
    }
    Ok(())
}

/// After a `DROP TABLE`: the sequences its columns owned go with it.
pub(crate) fn follow_drop(
    conn: &Connection,
    registry: &Registry,
    table: &str,
) -> rusqlite::Result<()> {
    for s in read_all(conn)? {
        if s.owner
            .as_ref()
            .is_some_and(|(t, _)| t.eq_ignore_ascii_case(table))
        {
            conn.execute(
                "DELETE FROM main._pgproto_sequences WHERE name = ?1",
                [&s.name],
            )?;
            registry.remove(&s.name);
        }
    }
    Ok(())
}

/// After `ALTER TABLE a RENAME TO b` or `ALTER TABLE t RENAME COLUMN a TO b`: the owner
/// follows (the sequence keeps its name, as in PostgreSQL).
pub(crate) fn follow_rename(
    conn: &Connection,
    registry: &Registry,
    table: &str,
    column: Option<(&str, &str)>,
    new_table: Option<&str>,
) -> rusqlite::Result<()> {
    for mut s in read_all(conn)? {
        let Some((t, c)) = s.owner.clone() else {
            continue;
        };
        if !t.eq_ignore_ascii_case(table) {
            continue;
        }
        match (column, new_table) {
            (Some((a, b)), _) if c.eq_ignore_ascii_case(a) => {
                s.owner = Some((t, b.to_string()));
            }
            (None, Some(n)) => s.owner = Some((n.to_string(), c)),
            _ => continue,
        }
        if let Some(live) = registry.get(&s.name) {
            s.last_value = live.last_value;
            s.is_called = live.is_called;
        }
        write(conn, &s)?;
        registry.put(s);
    }
    Ok(())
}

/// The sequence a column's SQLite default names (`nextval('t_id_seq')`), if it names
/// one.
pub(crate) fn default_sequence(default: &str) -> Option<String> {
    let mut d = default.trim();
    while let Some(inner) = d.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        d = inner.trim();
    }
    let rest = d.strip_prefix("nextval('")?;
    let name = rest.strip_suffix("')")?;
    Some(name.replace("''", "'"))
}

/// Makes the sequences follow a schema change that succeeded.
pub(crate) fn follow_change(
    conn: &Connection,
    registry: &Registry,
    change: &crate::pgsql::SchemaChange,
) -> rusqlite::Result<()> {
    use crate::pgsql::SchemaChange;
    match change {
        SchemaChange::Create(table, _, columns) => follow_create(conn, registry, table, columns),
        SchemaChange::Drop(names) => {
            for n in names {
                follow_drop(conn, registry, n)?;
            }
            Ok(())
        }
        SchemaChange::RenameTable(a, b) => follow_rename(conn, registry, a, None, Some(b)),
        SchemaChange::RenameColumn(t, a, b) => follow_rename(conn, registry, t, Some((a, b)), None),
        SchemaChange::DropColumn(..) | SchemaChange::AddColumn(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(sql: &str) -> Result<Options, (String, String)> {
        let toks = tokenize(sql);
        parse_options(sql, &toks, 0)
    }

    #[test]
    fn parses_options() {
        let o = opts("AS integer INCREMENT BY 5 MINVALUE 10 NO MAXVALUE START WITH 20 CACHE 1 CYCLE OWNED BY public.t.id").unwrap();
        assert_eq!(o.type_name.as_deref(), Some("integer"));
        assert_eq!(o.increment, Some(5));
        assert_eq!(o.min, Some(Some(10)));
        assert_eq!(o.max, Some(None));
        assert_eq!(o.start, Some(20));
        assert_eq!(o.cycle, Some(true));
        assert_eq!(o.owned_by, Some(Some(("t".into(), "id".into()))));
        assert_eq!(opts("RESTART").unwrap().restart, Some(None));
        assert_eq!(opts("RESTART WITH -3").unwrap().restart, Some(Some(-3)));
        assert_eq!(
            opts("RESTART WITH").unwrap_err().1,
            "syntax error at end of input"
        );
        assert_eq!(opts("START 'x'").unwrap_err().0, "42601");
        assert_eq!(opts("AS text").unwrap_err().0, "22023");
    }

    #[test]
    fn values_follow_postgresql() {
        let r = Registry::default();
        let mut s = Seq::new("s", "integer");
        apply(
            &mut s,
            &opts("INCREMENT 2 START 5 MAXVALUE 8").unwrap(),
            true,
        )
        .unwrap();
        r.put(s);
        assert_eq!(r.next("s").unwrap(), 5);
        assert_eq!(r.next("s").unwrap(), 7);
        assert!(r.next("s").unwrap_err().to_string().contains("[2200H]"));
        r.set("s", 6, false).unwrap();
        assert_eq!(r.next("s").unwrap(), 6);
        assert!(r.set("s", 100, true).is_err());
        assert!(r.next("nope").unwrap_err().to_string().contains("[42P01]"));
        let mut bad = Seq::new("b", "smallint");
        assert!(apply(&mut bad, &opts("MAXVALUE 40000").unwrap(), true).is_err());
        assert!(apply(&mut bad, &opts("INCREMENT 0").unwrap(), true).is_err());
    }

    #[test]
    fn names() {
        assert_eq!(normalize("public.T_id_seq"), "t_id_seq");
        assert_eq!(normalize("\"Mixed\""), "Mixed");
        assert_eq!(
            default_sequence("nextval('t_id_seq')").as_deref(),
            Some("t_id_seq")
        );
        assert_eq!(default_sequence("0"), None);
    }
}
