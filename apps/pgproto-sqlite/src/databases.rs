//! The server's databases, as PostgreSQL's cluster has them: `postgres` is the main
//! database (the `--db` file, or the in-memory one), and `CREATE DATABASE name` makes
//! another SQLite file beside it, `<dir>/<stem>.databases/<name>.db` (the main file
//! `data/app.db` keeps `test_x` in `data/app.databases/test_x.db`; a name's bytes other
//! than `a-z`, `0-9`, `_` and `-` are written `%XX`, so names differing only in case get
//! different files on any file system). In memory, a created database is another
//! in-memory database, gone when the server stops. `DROP DATABASE` deletes the file.
//! A client names its database at startup (`dbname`): a created one, or `postgres` (or
//! the user's own name, the database PostgreSQL clients connect to by default, when no
//! database has that name: the main database then goes by that name in the session);
//! `template0` and `template1` are listed (so that `\l` reads as on PostgreSQL) but
//! cannot be connected to; any other name is refused with FATAL 3D000.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::ddl::{err, syntax};
use crate::session::Store;
use crate::sql::{tokenize, Kind, Tok};

/// The main database's name.
pub(crate) const MAIN: &str = "postgres";

/// The template databases `pg_database` lists, with their OIDs.
pub(crate) const TEMPLATES: [(&str, i64); 2] = [("template0", 4), ("template1", 1)];

/// The main database's OID (PostgreSQL's for `postgres` in a fresh cluster).
pub(crate) const MAIN_OID: i64 = 5;

/// An error as PostgreSQL's (SQLSTATE, message).
type Failure = (String, String);

/// Every database of the server: the main one and those made by `CREATE DATABASE`.
pub(crate) struct Cluster {
    /// The main database.
    main: Store,
    /// Where created databases' files go (`None` in memory).
    dir: Option<PathBuf>,
    /// The created databases by name, with their OIDs.
    created: Mutex<BTreeMap<String, (Store, i64)>>,
    /// The next OID to give a created database.
    next_oid: AtomicU64,
    /// Moves on at every CREATE/DROP DATABASE, so that each connection fills its
    /// `pg_database` again.
    version: AtomicU64,
}

/// The directory of the databases created beside `main` (a file path).
fn dir_for(main: &Path) -> PathBuf {
    let stem = main
        .file_stem()
        .map_or_else(|| "pgproto-sqlite".into(), |s| s.to_string_lossy());
    main.with_file_name(format!("{stem}.databases"))
}

/// A database name as a file name: bytes other than `a-z0-9_-` as `%XX`.
pub(crate) fn file_name(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out + ".db"
}

/// The database name a file name of [`file_name`] stands for.
pub(crate) fn name_of_file(file: &str) -> Option<String> {
    let stem = file.strip_suffix(".db")?;
    let mut bytes = Vec::new();
    let mut rest = stem.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = tail.get(2..)?;
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    let name = String::from_utf8(bytes).ok()?;
    (file_name(&name) == file).then_some(name)
}

impl Cluster {
    /// The cluster of `main`, opened from `path` (`None` in memory), with the databases
    /// created beside it earlier.
    pub(crate) fn open(main: Store, path: Option<&Path>) -> rusqlite::Result<Self> {
        let dir = path.map(dir_for);
        let cluster = Self {
            main,
            dir,
            created: Mutex::new(BTreeMap::new()),
            next_oid: AtomicU64::new(16384),
            version: AtomicU64::new(0),
        };
        if let Some(dir) = &cluster.dir {
            let mut names = Vec::new();
            if let Ok(entries) = std::fs::read_dir(dir) {
                for entry in entries.flatten() {
                    let file = entry.file_name().to_string_lossy().into_owned();
                    if let Some(name) = name_of_file(&file) {
                        names.push((name, entry.path()));
                    }
                }
            }
            names.sort();
            if let Ok(mut created) = cluster.created.lock() {
                for (name, path) in names {
                    let store = Store::open(Some(&path))?;
                    created.insert(name, (store, cluster.new_oid()));
                }
            }
        }
        Ok(cluster)
    }

    fn new_oid(&self) -> i64 {
        i64::try_from(self.next_oid.fetch_add(1, Ordering::Relaxed)).unwrap_or(i64::MAX)
    }

    /// The version of the list of databases (see [`Cluster::list`]).
    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// The created databases' names and OIDs.
    pub(crate) fn list(&self) -> Vec<(String, i64)> {
        self.created
            .lock()
            .map(|c| c.iter().map(|(n, (_, oid))| (n.clone(), *oid)).collect())
            .unwrap_or_default()
    }

    /// The database a client `user` connecting to `name` is served from, counted as one
    /// more session on it (see [`Store::attach`]), and whether it is the main one; else
    /// PostgreSQL's FATAL error for the name.
    pub(crate) fn attach(
        &self,
        name: &str,
        user: &str,
    ) -> Result<(Store, crate::session::Attached, bool), Failure> {
        let created = self
            .created
            .lock()
            .map_err(|_| err("XX000", "the list of databases is poisoned"))?;
        if let Some((store, _)) = created.get(name) {
            return Ok((store.clone(), store.attach(), false));
        }
        match name {
            _ if name == MAIN || name == user => Ok((self.main.clone(), self.main.attach(), true)),
            "template0" => Err(err(
                "55000",
                "database \"template0\" is not currently accepting connections",
            )),
            "template1" => Err(err(
                "0A000",
                "connecting to template1 is not supported: it is listed, but no database \
                 stands behind it (connect to postgres)",
            )),
            _ => Err(err("3D000", format!("database \"{name}\" does not exist"))),
        }
    }

    fn exists(&self, created: &BTreeMap<String, (Store, i64)>, name: &str) -> bool {
        name == MAIN || TEMPLATES.iter().any(|(t, _)| *t == name) || created.contains_key(name)
    }

    /// `CREATE DATABASE`: a new, empty database.
    pub(crate) fn create(&self, c: &CreateDatabase) -> Result<(), Failure> {
        let mut created = self
            .created
            .lock()
            .map_err(|_| err("XX000", "the list of databases is poisoned"))?;
        if let Some(template) = &c.template {
            let empty = TEMPLATES.iter().any(|(t, _)| t == template);
            if !empty {
                return Err(if self.exists(&created, template) {
                    err(
                        "0A000",
                        format!(
                            "CREATE DATABASE ... TEMPLATE {template} is not supported: \
                             new databases start empty (TEMPLATE template0 or template1)"
                        ),
                    )
                } else {
                    err(
                        "3D000",
                        format!("template database \"{template}\" does not exist"),
                    )
                });
            }
        }
        if self.exists(&created, &c.name) {
            return Err(err(
                "42P04",
                format!("database \"{}\" already exists", c.name),
            ));
        }
        let store = match &self.dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    err(
                        "58030",
                        format!("could not create directory \"{}\": {e}", dir.display()),
                    )
                })?;
                let path = dir.join(file_name(&c.name));
                // A file left by a server that crashed in DROP DATABASE: start afresh.
                remove_files(&path);
                Store::open(Some(&path)).map_err(|e| {
                    err(
                        "58030",
                        format!("could not create database file \"{}\": {e}", path.display()),
                    )
                })?
            }
            None => Store::open(None).map_err(crate::ddl::sqlite)?,
        };
        created.insert(c.name.clone(), (store, self.new_oid()));
        self.version.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// `DROP DATABASE`, from a session connected to `current`; the NOTICE to send for
    /// `IF EXISTS` on a database that does not exist. Waits up to 5 s for the sessions
    /// connected to it to end, as PostgreSQL does.
    pub(crate) fn drop_database(
        &self,
        d: &DropDatabase,
        current: &str,
    ) -> Result<Option<String>, Failure> {
        let mut waited = 0;
        loop {
            let mut created = self
                .created
                .lock()
                .map_err(|_| err("XX000", "the list of databases is poisoned"))?;
            if !self.exists(&created, &d.name) {
                if d.if_exists {
                    return Ok(Some(format!(
                        "database \"{}\" does not exist, skipping",
                        d.name
                    )));
                }
                return Err(err(
                    "3D000",
                    format!("database \"{}\" does not exist", d.name),
                ));
            }
            if TEMPLATES.iter().any(|(t, _)| *t == d.name) {
                return Err(err("42809", "cannot drop a template database"));
            }
            if d.name == current {
                return Err(err("55006", "cannot drop the currently open database"));
            }
            let Some((store, _)) = created.get(&d.name) else {
                return Err(err(
                    "0A000",
                    "DROP DATABASE postgres is not supported: it is the server's main database",
                ));
            };
            let others = store.sessions();
            if others == 0 {
                if let Some((store, _)) = created.remove(&d.name) {
                    if let Some(path) = store.path() {
                        remove_files(path);
                    }
                }
                self.version.fetch_add(1, Ordering::AcqRel);
                return Ok(None);
            }
            if d.force {
                return Err(err(
                    "0A000",
                    "DROP DATABASE ... WITH (FORCE) is not supported while sessions are \
                     connected: the server cannot end them",
                ));
            }
            drop(created);
            // PostgreSQL waits up to 5 s for the other sessions to go.
            if waited >= 50 {
                let detail = if others == 1 {
                    "There is 1 other session using the database.".to_string()
                } else {
                    format!("There are {others} other sessions using the database.")
                };
                return Err(err(
                    "55006",
                    format!(
                        "database \"{}\" is being accessed by other users\nDETAIL: {detail}",
                        d.name
                    ),
                ));
            }
            waited += 1;
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

/// Deletes a database file with its WAL and shared-memory files.
fn remove_files(path: &Path) {
    let _ = std::fs::remove_file(path);
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// `CREATE DATABASE name [WITH] [option [=] value ...]`, its options checked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CreateDatabase {
    pub(crate) name: String,
    /// `TEMPLATE name`, if given (not `DEFAULT`).
    pub(crate) template: Option<String>,
    /// `OWNER name`, if given (not `DEFAULT`).
    pub(crate) owner: Option<String>,
}

/// `DROP DATABASE [IF EXISTS] name [[WITH] (FORCE)]`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct DropDatabase {
    pub(crate) name: String,
    pub(crate) if_exists: bool,
    pub(crate) force: bool,
}

/// A statement on databases.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Statement {
    Create(CreateDatabase),
    Drop(DropDatabase),
}

impl Statement {
    /// The statement's name in PostgreSQL's "cannot run inside a transaction block".
    pub(crate) fn verb(&self) -> &'static str {
        match self {
            Self::Create(_) => "CREATE DATABASE",
            Self::Drop(_) => "DROP DATABASE",
        }
    }
}

/// A database name at token `i` (unquoted words fold to lower case).
fn name_at(sql: &str, toks: &[Tok], i: usize) -> Result<String, Failure> {
    match toks.get(i) {
        Some(t) if t.kind == Kind::Word => Ok(t.text(sql).to_ascii_lowercase()),
        Some(t) if t.kind == Kind::Quoted => {
            let name = t.ident(sql).unwrap_or_default();
            if name.is_empty() {
                return Err(err("42601", "zero-length delimited identifier"));
            }
            Ok(name)
        }
        _ => Err(syntax(sql, toks, i)),
    }
}

/// An option's value: a word, a quoted name, a string or a number (lower case unless
/// quoted or a string).
fn value_at(sql: &str, toks: &[Tok], i: usize) -> Result<(String, Kind), Failure> {
    let t = toks.get(i).ok_or_else(|| syntax(sql, toks, i))?;
    let v = match t.kind {
        Kind::Word => t.text(sql).to_ascii_lowercase(),
        Kind::Quoted => t.ident(sql).unwrap_or_default(),
        Kind::Str => crate::sql::unquote(t.text(sql)),
        Kind::Num { .. } => t.text(sql).to_string(),
        _ => return Err(syntax(sql, toks, i)),
    };
    Ok((v, t.kind))
}

/// Whether an option's (lower-cased) value is PostgreSQL's true or false.
fn boolean(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" | "t" | "y" => Some(true),
        "false" | "off" | "no" | "0" | "f" | "n" => Some(false),
        _ => None,
    }
}

/// Whether a locale sorts and classifies as SQLite does: by code point.
fn code_point_locale(v: &str) -> bool {
    matches!(
        v.to_ascii_lowercase().as_str(),
        "c" | "posix" | "c.utf-8" | "c.utf8"
    )
}

/// Reads `CREATE DATABASE` or `DROP DATABASE`; `None` for other statements.
pub(crate) fn parse(sql: &str, user: &str) -> Option<Result<Statement, Failure>> {
    let toks = tokenize(sql);
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    if !w(1, "DATABASE") {
        return None;
    }
    if w(0, "CREATE") {
        Some(parse_create(sql, &toks, user).map(Statement::Create))
    } else if w(0, "DROP") {
        Some(parse_drop(sql, &toks).map(Statement::Drop))
    } else {
        None
    }
}

fn parse_create(sql: &str, toks: &[Tok], user: &str) -> Result<CreateDatabase, Failure> {
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let name = name_at(sql, toks, 2)?;
    let mut c = CreateDatabase {
        name,
        template: None,
        owner: None,
    };
    let mut i = 3;
    if w(i, "WITH") {
        i += 1;
    }
    let mut seen: Vec<String> = Vec::new();
    while let Some(t) = toks.get(i) {
        if t.is_punct(sql, ";") {
            break;
        }
        let option = if w(i, "CONNECTION") && w(i + 1, "LIMIT") {
            i += 2;
            "connection_limit".to_string()
        } else if t.kind == Kind::Word {
            i += 1;
            t.text(sql).to_ascii_lowercase()
        } else {
            return Err(syntax(sql, toks, i));
        };
        if toks.get(i).is_some_and(|t| t.is_punct(sql, "=")) {
            i += 1;
        }
        // A sign before a number (`CONNECTION LIMIT -1`).
        let negative = toks.get(i).is_some_and(|t| t.is_punct(sql, "-"));
        if negative {
            i += 1;
        }
        let (mut value, kind) = value_at(sql, toks, i)?;
        if negative {
            value = format!("-{value}");
        }
        i += 1;
        if seen.contains(&option) {
            return Err(err("42601", "conflicting or redundant options"));
        }
        seen.push(option.clone());
        let default = kind == Kind::Word && value == "default";
        if default {
            continue;
        }
        let refuse = |what: &str| {
            Err(err(
                "0A000",
                format!(
                    "CREATE DATABASE ... {what} is not supported: {}",
                    why(&option)
                ),
            ))
        };
        match option.as_str() {
            "owner" => {
                let owner = if kind == Kind::Word
                    && matches!(
                        value.as_str(),
                        "current_user" | "session_user" | "current_role"
                    ) {
                    user.to_string()
                } else {
                    value
                };
                if owner != user {
                    return Err(err("42704", format!("role \"{owner}\" does not exist")));
                }
                c.owner = Some(owner);
            }
            "template" => c.template = Some(value),
            "encoding" => {
                let utf8 = matches!(
                    value.to_ascii_lowercase().replace(['-', '_'], "").as_str(),
                    "utf8" | "unicode" | "6"
                );
                if !utf8 {
                    return refuse(&format!("ENCODING {value}"));
                }
            }
            "locale" | "lc_collate" | "lc_ctype" => {
                if !code_point_locale(&value) {
                    return refuse(&format!("{} '{value}'", option.to_ascii_uppercase()));
                }
            }
            "locale_provider" => {
                if !value.eq_ignore_ascii_case("libc") {
                    return refuse(&format!("LOCALE_PROVIDER {value}"));
                }
            }
            "strategy" => {
                if !matches!(value.to_ascii_lowercase().as_str(), "wal_log" | "file_copy") {
                    return Err(err(
                        "22023",
                        format!("invalid create database strategy \"{value}\""),
                    ));
                }
            }
            "tablespace" => {
                if value != "pg_default" {
                    return Err(err(
                        "42704",
                        format!("tablespace \"{value}\" does not exist"),
                    ));
                }
            }
            "allow_connections" => {
                if boolean(&value) != Some(true) {
                    return refuse(&format!("ALLOW_CONNECTIONS {value}"));
                }
            }
            "is_template" => {
                if boolean(&value) != Some(false) {
                    return refuse(&format!("IS_TEMPLATE {value}"));
                }
            }
            "connection_limit" => {
                if value != "-1" {
                    return refuse(&format!("CONNECTION LIMIT {value}"));
                }
            }
            "icu_locale" | "icu_rules" | "collation_version" | "oid" | "location" => {
                return refuse(&option.to_ascii_uppercase());
            }
            _ => return Err(err("42601", format!("option \"{option}\" not recognized"))),
        }
    }
    Ok(c)
}

/// Why a CREATE DATABASE option with an effect is refused.
fn why(option: &str) -> &'static str {
    match option {
        "encoding" => "databases are UTF8",
        "locale" | "lc_collate" | "lc_ctype" | "locale_provider" | "icu_locale" | "icu_rules"
        | "collation_version" => "text sorts by code point (locale C or C.UTF-8, provider libc)",
        "allow_connections" | "is_template" | "connection_limit" => {
            "databases take any number of connections and are not templates"
        }
        _ => "the server has no such setting",
    }
}

fn parse_drop(sql: &str, toks: &[Tok]) -> Result<DropDatabase, Failure> {
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let punct = |i: usize, p: &str| toks.get(i).is_some_and(|t| t.is_punct(sql, p));
    let mut i = 2;
    let if_exists = w(i, "IF") && w(i + 1, "EXISTS");
    if if_exists {
        i += 2;
    }
    let name = name_at(sql, toks, i)?;
    i += 1;
    let mut force = false;
    if w(i, "WITH") {
        i += 1;
    }
    if punct(i, "(") {
        i += 1;
        loop {
            let t = toks.get(i).ok_or_else(|| syntax(sql, toks, i))?;
            if t.kind != Kind::Word {
                return Err(syntax(sql, toks, i));
            }
            // FORCE is the only option PostgreSQL's grammar has.
            if !t.is(sql, "FORCE") {
                return Err(syntax(sql, toks, i));
            }
            force = true;
            i += 1;
            if punct(i, ",") {
                i += 1;
            } else if punct(i, ")") {
                i += 1;
                break;
            } else {
                return Err(syntax(sql, toks, i));
            }
        }
    }
    if toks.get(i).is_some_and(|t| !t.is_punct(sql, ";")) {
        return Err(syntax(sql, toks, i));
    }
    Ok(DropDatabase {
        name,
        if_exists,
        force,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(sql: &str) -> Result<CreateDatabase, Failure> {
        match parse(sql, "alice") {
            Some(Ok(Statement::Create(c))) => Ok(c),
            Some(Err(e)) => Err(e),
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn file_names_round_trip() {
        for name in ["test_x", "Mixed Case", "a/b", "été", "x.db", "%"] {
            let file = file_name(name);
            assert!(!file.contains('/') && file.ends_with(".db"), "{file}");
            assert_eq!(name_of_file(&file).as_deref(), Some(name), "{file}");
        }
        assert_eq!(file_name("Test_1"), "%54est_1.db");
        // Files the server did not write are not databases.
        for file in ["x.db-wal", "Upper.db", "a%2.db", "notes.txt", "%2f.db"] {
            assert_eq!(name_of_file(file), None, "{file}");
        }
        assert_eq!(
            dir_for(Path::new("data/app.db")),
            Path::new("data/app.databases")
        );
    }

    #[test]
    fn create_database_options() {
        let c = create("CREATE DATABASE \"Test\" WITH OWNER = alice ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE = 'C' TEMPLATE template0 CONNECTION LIMIT = -1 STRATEGY wal_log").unwrap();
        assert_eq!(c.name, "Test");
        assert_eq!(c.template.as_deref(), Some("template0"));
        assert_eq!(c.owner.as_deref(), Some("alice"));
        assert_eq!(create("create database Foo").unwrap().name, "foo");
        assert_eq!(
            create("create database x owner current_user")
                .unwrap()
                .owner
                .as_deref(),
            Some("alice")
        );
        for (sql, code) in [
            ("create database x encoding 'LATIN1'", "0A000"),
            ("create database x lc_collate 'en_US.UTF-8'", "0A000"),
            ("create database x locale_provider icu", "0A000"),
            ("create database x owner bob", "42704"),
            ("create database x tablespace t", "42704"),
            ("create database x bogus 1", "42601"),
            ("create database x owner alice owner alice", "42601"),
            ("create database x connection limit 5", "0A000"),
            ("create database x is_template true", "0A000"),
            ("create database", "42601"),
            ("create database \"\"", "42601"),
        ] {
            assert_eq!(create(sql).unwrap_err().0, code, "{sql}");
        }
    }

    #[test]
    fn drop_database_forms() {
        let d = |sql: &str| match parse(sql, "alice") {
            Some(Ok(Statement::Drop(d))) => Ok(d),
            Some(Err(e)) => Err(e.0),
            other => panic!("{sql}: {other:?}"),
        };
        assert_eq!(
            d("DROP DATABASE IF EXISTS \"T\" WITH (FORCE)").unwrap(),
            DropDatabase {
                name: "T".into(),
                if_exists: true,
                force: true
            }
        );
        assert!(!d("drop database x").unwrap().force);
        assert_eq!(d("drop database x (bogus)").unwrap_err(), "42601");
        assert_eq!(d("drop database x y").unwrap_err(), "42601");
        assert!(parse("drop table x", "alice").is_none());
        assert!(parse("alter database x rename to y", "alice").is_none());
    }
}
