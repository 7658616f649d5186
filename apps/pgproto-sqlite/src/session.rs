//! The session engine: a PostgreSQL session over the shared SQLite database (see the
//! crate documentation for the design).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use pgproto_core::column::Column;
use pgproto_core::copy::BinaryCopyDecoder;
use pgproto_core::db_error::{DbError, Severity};
use pgproto_core::message::{Format, TransactionStatus};
use pgproto_core::server::{Server, ServerEvent, StartupRequest};
use pgproto_core::sqlstate::SqlState;
use pgproto_tokio::server::Handler;
use pgproto_tokio::Error;
use rusqlite::types::Value;
use rusqlite::Connection;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::altertable::Alter;
use crate::plan::{
    Op, Plans, QueryPlan, SchemaFacts, SchemaGeneration, StatementPlan, TableShapes,
};
use crate::sql::{self, Statement};
use crate::{catalog, copy, types};

/// How long a session waits for another session's write transaction to end when its
/// `lock_timeout` is 0 (the server's bound on any wait; PostgreSQL's is none).
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// The server version reported by `version()` and `SHOW server_version`: the same as
/// the `server_version` ParameterStatus the core sends at startup (its `SessionSetup`
/// default), as PostgreSQL's three agree.
const SERVER_VERSION: &str = "16.0 (pgproto)";

/// Session values the SQL functions read (the session holding the lock sets them).
#[derive(Debug, Default, Clone)]
struct SessionInfo {
    user: String,
    database: String,
    /// The main database's name in this session: the name connected with when that is
    /// the main database (`postgres` or the user's name), else `postgres`.
    main_database: String,
    settings: BTreeMap<String, String>,
    /// The session's `currval`/`lastval` values.
    sequences: crate::sequences::SessionState,
}

/// One SQLite connection with the server's functions and its own `pg_catalog`.
pub(crate) struct Db {
    conn: Connection,
    /// What the SQL functions (`current_user()`, `current_setting()`...) read.
    info: Arc<std::sync::Mutex<SessionInfo>>,
    /// When the running statement must stop (`statement_timeout`), in microseconds
    /// since [`epoch`]; 0 for never. Read by the connection's progress handler.
    deadline: Arc<AtomicU64>,
    /// What `now()` answers, in microseconds since 1970 (the start of the running
    /// statement, or of the transaction block it is in, as PostgreSQL's `now()`); 0
    /// for the time of the call. Set by [`Session::begin_op`].
    now: Arc<AtomicU64>,
    /// What `statement_timestamp()` answers: the start of the running statement.
    statement_now: Arc<AtomicU64>,
    /// The [`Store::types_version`] this connection's enum collations are from.
    types_seen: u64,
    /// The schema generation this connection's prepared statements are from.
    schema_seen: u64,
    /// The version of the server's list of databases this connection's `pg_database`
    /// is from.
    databases_seen: u64,
}

/// The instant statement deadlines count from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn micros_since_epoch(t: Instant) -> u64 {
    u64::try_from(t.saturating_duration_since(epoch()).as_micros())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// A handle on the server's databases; cheap to clone.
///
/// A file database gives each session a SQLite connection of its own, in WAL mode:
/// readers run in parallel with each other and with the one writer. An in-memory
/// database has one connection, shared by all sessions, one statement (or transaction
/// block) at a time. The main database is `postgres`; `CREATE DATABASE` makes others
/// beside it (see the `databases` module).
#[derive(Clone)]
pub struct Database {
    /// The database sessions made by [`Database::session`] start on (the main one).
    store: Store,
    /// All of the server's databases.
    cluster: Arc<crate::databases::Cluster>,
    /// How long a session waits for the right when its `lock_timeout` is 0.
    lock_timeout: Duration,
    /// Where SQLite's work runs.
    threads: SqliteThreads,
}

/// One database's shared state: its file (or in-memory connection), its writers' queue,
/// its sequences, its types' version and its sessions.
#[derive(Clone)]
pub(crate) struct Store {
    /// The database file; `None` in memory.
    path: Option<Arc<PathBuf>>,
    /// The in-memory database's one connection.
    memory: Option<Arc<Mutex<Db>>>,
    /// The right to write (in memory: to execute anything), held for a statement or a
    /// whole transaction block: one writer at a time, served first come first served
    /// (tokio's mutex is fair).
    right: Arc<Mutex<()>>,
    /// The sequences' values.
    sequences: crate::sequences::Registry,
    /// Moves on at every CREATE/ALTER/DROP TYPE or DOMAIN, so that each connection
    /// registers the enums' collations again before its next statement.
    types_version: Arc<AtomicU64>,
    /// How many sessions are connected to it.
    sessions: Arc<AtomicUsize>,
    /// Moves on with every statement that may change the schema (see [`crate::plan`]).
    schema_generation: SchemaGeneration,
}

/// A session's place on a database ([`Store::sessions`]), given back when dropped.
pub(crate) struct Attached(Arc<AtomicUsize>);

impl Drop for Attached {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Store {
    /// Opens `path` (created if missing, switched to WAL), or a private in-memory
    /// database when `None`.
    pub(crate) fn open(path: Option<&std::path::Path>) -> rusqlite::Result<Self> {
        // The sequences' values, kept for every connection (loaded from the file once).
        let sequences = crate::sequences::Registry::default();
        let (path, memory) = match path {
            Some(path) => {
                // Check that it opens, and make it WAL (a property of the file).
                let db = Db::open(Some(path), LOCK_TIMEOUT, &sequences)?;
                sequences.load(&db.conn)?;
                let mode: String = db
                    .conn
                    .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
                if !mode.eq_ignore_ascii_case("wal") {
                    return Err(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                        Some(format!(
                            "{}: could not switch to WAL mode (journal_mode is {mode})",
                            path.display()
                        )),
                    ));
                }
                (Some(Arc::new(path.to_path_buf())), None)
            }
            None => (None, {
                let db = Db::open(None, LOCK_TIMEOUT, &sequences)?;
                sequences.load(&db.conn)?;
                Some(Arc::new(Mutex::new(db)))
            }),
        };
        Ok(Self {
            path,
            memory,
            right: Arc::new(Mutex::new(())),
            sequences,
            types_version: Arc::new(AtomicU64::new(0)),
            sessions: Arc::new(AtomicUsize::new(0)),
            schema_generation: SchemaGeneration::default(),
        })
    }

    /// The database file (`None` in memory).
    pub(crate) fn path(&self) -> Option<&std::path::Path> {
        self.path.as_deref().map(|p| p.as_path())
    }

    /// Counts one more session on this database, until the result is dropped.
    pub(crate) fn attach(&self) -> Attached {
        self.sessions.fetch_add(1, Ordering::AcqRel);
        Attached(self.sessions.clone())
    }

    /// How many sessions are connected to this database.
    pub(crate) fn sessions(&self) -> usize {
        self.sessions.load(Ordering::Acquire)
    }
}

/// Where a session's SQLite work runs: on the async runtime's worker threads, or off
/// them (tokio's `block_in_place`, which hands the worker's other tasks to another
/// thread: about three thread switches and 9 µs of CPU per statement on a small VM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteThreads {
    /// Always off the workers.
    Off,
    /// Off the workers, except the statements of a session whose last statement took
    /// less than [`FAST_STATEMENT`]: those run on the worker (a point query or a
    /// one-row write costs no thread switch, while a long statement moves its session's
    /// next ones off). A commit never waits for the disk: the WAL is checkpointed after
    /// the commit that left it long, off the workers, so writes and commits qualify as
    /// reads do. A query naming `pg_sleep` runs off the workers all the same (see
    /// `QueryPlan::sleeps`). Preparing, COPY
    /// and opening a connection always run off the workers.
    #[default]
    FastOnRuntime,
    /// Always on the workers: a long statement holds its worker until it ends.
    OnRuntime,
}

impl SqliteThreads {
    /// `off`, `fast` or `on`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "off" => Some(Self::Off),
            "fast" => Some(Self::FastOnRuntime),
            "on" => Some(Self::OnRuntime),
            _ => None,
        }
    }
}

/// A statement that took less than this keeps its session's next ones on the runtime's
/// worker (with [`SqliteThreads::FastOnRuntime`]).
pub const FAST_STATEMENT: Duration = Duration::from_micros(200);

fn sqlite_error(e: rusqlite::Error) -> Box<DbError> {
    let (failure, msg) = match &e {
        rusqlite::Error::SqliteFailure(f, msg) => (Some(f), msg.clone()),
        rusqlite::Error::SqlInputError { error, msg, .. } => (Some(error), Some(msg.clone())),
        _ => (None, None),
    };
    let message = msg.unwrap_or_else(|| e.to_string());
    // The server's own SQL functions name PostgreSQL's SQLSTATE: `[55000] message`.
    if let Some((code, rest)) = message
        .strip_prefix('[')
        .and_then(|m| m.split_once("] "))
        .filter(|(c, _)| c.len() == 5 && c.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return coded_error(code, rest);
    }
    let Some(f) = failure else {
        return error(SqlState::InternalError, message);
    };
    let m = message.as_str();
    match f.extended_code {
        // SQLITE_BUSY_SNAPSHOT: a transaction that read an older snapshot tried to write
        // after another session committed.
        517 => {
            return error(
                SqlState::TRSerializationFailure,
                "could not serialize access due to concurrent update",
            )
        }
        _ if f.code == rusqlite::ErrorCode::DatabaseBusy
            || f.code == rusqlite::ErrorCode::DatabaseLocked =>
        {
            return error(
                SqlState::LockNotAvailable,
                "canceling statement due to lock timeout",
            )
        }
        _ if f.code == rusqlite::ErrorCode::OperationInterrupted => {
            return error(
                SqlState::QueryCanceled,
                "canceling statement due to statement timeout",
            )
        }
        _ => {}
    }
    let code = match f.extended_code {
        // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY, _NOTNULL, _CHECK, _FOREIGNKEY, _DATATYPE
        2067 | 1555 => SqlState::UniqueViolation,
        1299 => SqlState::NotNullViolation,
        275 => SqlState::CheckViolation,
        787 => SqlState::ForeignKeyViolation,
        3091 => SqlState::DatatypeMismatch,
        _ => match f.code {
            rusqlite::ErrorCode::TypeMismatch => SqlState::DatatypeMismatch,
            rusqlite::ErrorCode::ConstraintViolation => SqlState::IntegrityConstraintViolation,
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                SqlState::LockNotAvailable
            }
            rusqlite::ErrorCode::ReadOnly => SqlState::ReadOnlySqlTransaction,
            _ if m.contains("syntax error")
                || m.contains("incomplete input")
                || m.contains("unrecognized token") =>
            {
                SqlState::SyntaxError
            }
            _ if m.starts_with("no such table") => SqlState::UndefinedTable,
            // From `'name'::regclass` and its kin (the catalog's `pg_undefined`).
            _ if m.starts_with("relation \"") && m.ends_with("does not exist") => {
                SqlState::UndefinedTable
            }
            _ if m.ends_with("does not exist") => SqlState::UndefinedObject,
            _ if m.starts_with("no such column") => SqlState::UndefinedColumn,
            _ if m.starts_with("no such function")
                || m.starts_with("wrong number of arguments") =>
            {
                SqlState::UndefinedFunction
            }
            _ if m.contains("already exists") => {
                if m.starts_with("table") || m.starts_with("view") {
                    SqlState::DuplicateTable
                } else {
                    SqlState::DuplicateObject
                }
            }
            _ if m.contains("datatype mismatch") => SqlState::DatatypeMismatch,
            _ if m.starts_with("unrecognized configuration parameter") => SqlState::UndefinedObject,
            _ if m.contains("division by zero") => SqlState::DivisionByZero,
            _ => SqlState::InternalError,
        },
    };
    // PostgreSQL's wording for a NULL in a NOT NULL column.
    if let Some((table, column)) = m
        .strip_prefix("NOT NULL constraint failed: ")
        .and_then(|c| c.split_once('.'))
    {
        return error(
            code,
            format!("null value in column \"{column}\" of relation \"{table}\" violates not-null constraint"),
        );
    }
    // PostgreSQL's wording for an unknown relation or column, and for a unique index.
    if let Some(table) = m.strip_prefix("no such table: ") {
        let table = table.strip_prefix("main.").unwrap_or(table);
        return error(code, format!("relation \"{table}\" does not exist"));
    }
    if let Some(column) = m.strip_prefix("no such column: ") {
        return error(
            code,
            if column.contains('.') {
                format!("column {column} does not exist")
            } else {
                format!("column \"{column}\" does not exist")
            },
        );
    }
    if let Some(index) = m
        .strip_prefix("UNIQUE constraint failed: index '")
        .and_then(|i| i.strip_suffix('\''))
    {
        return error(
            code,
            format!("duplicate key value violates unique constraint \"{index}\""),
        );
    }
    error(code, message)
}

/// `outcome` with PostgreSQL's notices (SQLSTATE 00000) of these messages.
fn with_notices(mut outcome: Outcome, notices: Vec<String>) -> Outcome {
    outcome.notices.extend(
        notices
            .into_iter()
            .map(|m| DbError::new(Severity::Notice, SqlState::from_code("00000"), m)),
    );
    outcome
}

/// An error with SQLSTATE `code` and a message that may end with `\nDETAIL: ...` and
/// then `\nHINT: ...`.
fn coded_error(code: &str, message: &str) -> Box<DbError> {
    let (message, hint) = match message.split_once("\nHINT: ") {
        Some((m, h)) => (m, Some(h)),
        None => (message, None),
    };
    let (message, detail) = match message.split_once("\nDETAIL: ") {
        Some((m, d)) => (m, Some(d)),
        None => (message, None),
    };
    let mut e = DbError::new(Severity::Error, SqlState::from_code(code), message);
    e.detail = detail.map(str::to_string);
    e.hint = hint.map(str::to_string);
    Box::new(e)
}

pub(crate) fn error(code: SqlState, message: impl Into<String>) -> Box<DbError> {
    Box::new(DbError::new(Severity::Error, code, message))
}

/// A statement refused rather than answered wrongly: 0A000.
/// A statement refused by the rewrites: 0A000, or the SQLSTATE its message starts with
/// (`[22008] ...`: a constant the rewrite already read, as PostgreSQL reads constants
/// before it runs a statement).
fn unsupported(u: sql::Unsupported) -> Box<DbError> {
    // A rewrite that knows PostgreSQL's own error names it: `[42P10] message`.
    if let Some((code, rest)) =
        u.0.strip_prefix('[')
            .and_then(|m| m.split_once("] "))
            .filter(|(c, _)| c.len() == 5 && c.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return coded_error(code, rest);
    }
    error(SqlState::FeatureNotSupported, u.0)
}

fn aborted() -> Box<DbError> {
    error(
        SqlState::InFailedSqlTransaction,
        "current transaction is aborted, commands ignored until end of transaction block",
    )
}

impl Db {
    /// A connection to `path` (in memory when `None`), with the server's functions and
    /// catalog.
    fn open(
        path: Option<&std::path::Path>,
        busy: Duration,
        sequences: &crate::sequences::Registry,
    ) -> rusqlite::Result<Self> {
        let conn = match path {
            Some(p) => Connection::open(p)?,
            None => Connection::open_in_memory()?,
        };
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
        if path.is_some() {
            // WAL (set when the database was opened) without an fsync per commit: a
            // commit survives the server process's crash, not necessarily the machine's.
            conn.execute_batch("PRAGMA synchronous = NORMAL")?;
            // Its commits never checkpoint; `end_op` does after one that left the WAL long.
            crate::checkpoint::hand_over(&conn)?;
            // The server queues writers itself; SQLite's own wait is the backstop for
            // what that queue does not cover (a checkpoint, a writer's last moment).
            conn.busy_timeout(busy)?;
        }
        conn.set_prepared_statement_cache_capacity(128);
        let info = Arc::new(std::sync::Mutex::new(SessionInfo::default()));
        let now = Arc::new(AtomicU64::new(0));
        let deadline = Arc::new(AtomicU64::new(0));
        register_functions(&conn, &info, &now, &deadline)?;
        let statement_now = Arc::new(AtomicU64::new(0));
        {
            use rusqlite::functions::FunctionFlags;
            let (s, t) = (statement_now.clone(), now.clone());
            conn.create_scalar_function(
                "statement_timestamp",
                0,
                FunctionFlags::SQLITE_UTF8,
                move |_| Ok(self::now(s.load(Ordering::Relaxed))),
            )?;
            conn.create_scalar_function(
                "transaction_timestamp",
                0,
                FunctionFlags::SQLITE_UTF8,
                move |_| Ok(self::now(t.load(Ordering::Relaxed))),
            )?;
        }
        catalog::register_functions(&conn)?;
        crate::functions::register_functions(&conn)?;
        crate::tojson::register_functions(&conn)?;
        crate::jsonfuncs::register_functions(&conn)?;
        crate::arrays::register_functions(&conn)?;
        crate::extras::register_functions(&conn)?;
        crate::datetime::register_functions(&conn)?;
        crate::usertypes::register_functions(&conn)?;
        crate::unnest::register_functions(&conn)?;
        crate::infoschema::register_functions(&conn)?;
        catalog::install(&conn)?;
        crate::usertypes::register_collations(&conn)?;
        let i = info.clone();
        crate::sequences::register_functions(&conn, sequences, move || {
            i.lock().ok().map(|s| s.sequences.clone())
        })?;
        let d = deadline.clone();
        conn.progress_handler(
            1000,
            Some(move || {
                let at = d.load(Ordering::Relaxed);
                at != 0 && micros_since_epoch(Instant::now()) >= at
            }),
        );
        Ok(Self {
            conn,
            info,
            deadline,
            now,
            statement_now,
            // Checked against the database's version at the first operation.
            types_seen: u64::MAX,
            schema_seen: 0,
            databases_seen: u64::MAX,
        })
    }
}

impl Database {
    /// Opens `path` (created if missing, switched to WAL), or a private in-memory
    /// database when `None`, as the main database `postgres`, with the databases
    /// created beside it before (see the `databases` module).
    pub fn open(path: Option<&str>) -> rusqlite::Result<Self> {
        let path = path.map(std::path::Path::new);
        let store = Store::open(path)?;
        let cluster = crate::databases::Cluster::open(store.clone(), path)?;
        Ok(Self {
            store,
            cluster: Arc::new(cluster),
            lock_timeout: LOCK_TIMEOUT,
            threads: SqliteThreads::default(),
        })
    }

    /// Sets how long a session waits for another session's write transaction to end
    /// when its `lock_timeout` is 0.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Sets where SQLite's work runs (default [`SqliteThreads::FastOnRuntime`]).
    pub fn with_sqlite_threads(mut self, threads: SqliteThreads) -> Self {
        self.threads = threads;
        self
    }

    /// A new session for a client that logged in with `startup`.
    pub fn session(&self, startup: &StartupRequest) -> Session {
        let mut settings = BTreeMap::new();
        if let Some(app) = startup.parameter("application_name") {
            settings.insert("application_name".to_string(), app.to_string());
        }
        let mut db = self.clone();
        let mut main_database = crate::databases::MAIN.to_string();
        let (attached, refusal) = match self.cluster.attach(&startup.database, &startup.user) {
            Ok((store, attached, main)) => {
                db.store = store;
                if main {
                    main_database = startup.database.clone();
                }
                (Some(attached), None)
            }
            Err((code, message)) => (None, Some(*coded_error(&code, &message))),
        };
        Session {
            conn: db.store.memory.clone(),
            db,
            _attached: attached,
            refusal,
            published: None,
            guard: None,
            info: SessionInfo {
                user: startup.user.clone(),
                database: startup.database.clone(),
                main_database,
                settings,
                sequences: Default::default(),
            },
            txn: TransactionStatus::Idle,
            pending_begin: false,
            fast: false,
            portals: HashMap::new(),
            copy_in: None,
            plans: Plans::default(),
            shapes: Default::default(),
            schema_touched: false,
            constraints_immediate: false,
            block_started: 0,
        }
    }
}

/// Sleeps `seconds` (nothing for 0, a negative number or NaN), as `pg_sleep`; fails with
/// 57014 at the statement's `deadline` (microseconds since [`epoch`], 0 for none).
fn sleep_until_deadline(seconds: f64, deadline: &AtomicU64) -> rusqlite::Result<()> {
    let Ok(wanted) = Duration::try_from_secs_f64(seconds.max(0.0)) else {
        // Too long to count: until the deadline, if there is one.
        return sleep_until_deadline(f64::from(u32::MAX), deadline);
    };
    let started = Instant::now();
    let end = started.checked_add(wanted);
    loop {
        let now = Instant::now();
        let left = end.map_or(Duration::from_secs(3600), |e| {
            e.saturating_duration_since(now)
        });
        if left.is_zero() {
            return Ok(());
        }
        let at = deadline.load(Ordering::Relaxed);
        let step = if at == 0 {
            left
        } else {
            let until = Duration::from_micros(at.saturating_sub(micros_since_epoch(now)));
            if until.is_zero() {
                return Err(rusqlite::Error::UserFunctionError(
                    "[57014] canceling statement due to statement timeout".into(),
                ));
            }
            left.min(until)
        };
        std::thread::sleep(step.min(Duration::from_secs(1)));
    }
}

fn register_functions(
    conn: &Connection,
    info: &Arc<std::sync::Mutex<SessionInfo>>,
    now_at: &Arc<AtomicU64>,
    deadline: &Arc<AtomicU64>,
) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8;
    let version = format!(
        "PostgreSQL {SERVER_VERSION} on SQLite {}, pgproto-sqlite",
        rusqlite::version()
    );
    conn.create_scalar_function("version", 0, flags, move |_| Ok(version.clone()))?;
    let i = info.clone();
    conn.create_scalar_function("current_database", 0, flags, move |_| {
        Ok(i.lock().map(|s| s.database.clone()).unwrap_or_default())
    })?;
    let i = info.clone();
    conn.create_scalar_function("pgproto_main_database", 0, flags, move |_| {
        Ok(i.lock()
            .map(|s| s.main_database.clone())
            .unwrap_or_default())
    })?;
    let i = info.clone();
    conn.create_scalar_function("current_user", 0, flags, move |_| {
        Ok(i.lock().map(|s| s.user.clone()).unwrap_or_default())
    })?;
    conn.create_scalar_function("current_schema", 0, flags, |_| Ok("public".to_string()))?;
    // PostgreSQL's random(): a double in [0, 1) (SQLite's is a 64-bit integer).
    conn.create_scalar_function("random", 0, flags, |_| {
        let mut bytes = [0u8; 8];
        getrandom::getrandom(&mut bytes)
            .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
        Ok((u64::from_be_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64)
    })?;
    // PostgreSQL's LIKE (case-sensitive, `\` escapes by default) replaces SQLite's, and
    // `x ILIKE y`, rewritten to `x MATCH y`, calls `match(y, x)`.
    for (name, ci) in [("like", false), ("match", true)] {
        for args in [2, 3] {
            conn.create_scalar_function(name, args, flags, move |ctx| {
                let (Some(pattern), Some(value)) =
                    (ctx.get::<Option<String>>(0)?, ctx.get::<Option<String>>(1)?)
                else {
                    return Ok(None);
                };
                let escape = if args == 3 {
                    let Some(e) = ctx.get::<Option<String>>(2)? else {
                        return Ok(None);
                    };
                    e.chars().next()
                } else {
                    Some('\\')
                };
                sql::like(&pattern, &value, escape, ci)
                    .map(Some)
                    .map_err(|e| rusqlite::Error::UserFunctionError(e.into()))
            })?;
        }
    }
    let at = now_at.clone();
    conn.create_scalar_function("now", 0, flags, move |_| {
        Ok(now(at.load(Ordering::Relaxed)))
    })?;
    // The time of the call (`now()` is the statement's or the block's start).
    conn.create_scalar_function("clock_timestamp", 0, flags, |_| Ok(now(0)))?;
    conn.create_scalar_function("gen_random_uuid", 0, flags, |_| {
        let mut b = [0u8; 16];
        getrandom::getrandom(&mut b)
            .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
        // Version 4, variant 10.
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        Ok(pgproto_core::types::PgUuid::from(b).to_string())
    })?;
    // `pg_sleep(seconds)`: void (an empty value), stopped by the statement's deadline
    // (`statement_timeout`, 57014) as the progress handler stops SQLite's own work. A
    // statement naming it runs off the runtime's workers (`QueryPlan::sleeps`).
    let d = deadline.clone();
    conn.create_scalar_function("pg_sleep", 1, flags, move |ctx| {
        use rusqlite::types::ValueRef;
        let seconds = match ctx.get_raw(0) {
            // Strict, as PostgreSQL's: NULL for NULL.
            ValueRef::Null => return Ok(None),
            ValueRef::Integer(i) => i as f64,
            ValueRef::Real(r) => r,
            ValueRef::Text(t) | ValueRef::Blob(t) => {
                let t = String::from_utf8_lossy(t);
                t.trim().parse::<f64>().map_err(|_| {
                    rusqlite::Error::UserFunctionError(
                        format!("[22P02] invalid input syntax for type double precision: \"{t}\"")
                            .into(),
                    )
                })?
            }
        };
        sleep_until_deadline(seconds, &d)?;
        Ok(Some(String::new()))
    })?;
    let i = info.clone();
    conn.create_scalar_function("current_setting", 1, flags, move |ctx| {
        let name: String = ctx.get(0)?;
        let settings = i.lock().map(|s| s.settings.clone()).unwrap_or_default();
        setting(&settings, &name.to_ascii_lowercase()).ok_or_else(|| {
            rusqlite::Error::UserFunctionError(
                format!("unrecognized configuration parameter \"{name}\"").into(),
            )
        })
    })?;
    Ok(())
}

/// Microseconds since 1970 by the system clock.
fn unix_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// `at` (microseconds since 1970; the clock's time when 0) as PostgreSQL writes a
/// timestamptz in UTC.
fn now(at: u64) -> String {
    let at = if at == 0 { unix_micros() } else { at };
    let micros = i64::try_from(at).unwrap_or(i64::MAX);
    pgproto_core::types::PgTimestampTz::from_unix_micros(micros)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// The server's settings and their values when a session has not SET them, under
/// PostgreSQL's names (`SHOW`, `current_setting` and `pg_settings` read them).
pub(crate) const SETTINGS: &[(&str, &str)] = &[
    ("server_version", SERVER_VERSION),
    ("server_version_num", "160000"),
    ("server_encoding", "UTF8"),
    ("client_encoding", "UTF8"),
    ("standard_conforming_strings", "on"),
    ("integer_datetimes", "on"),
    ("DateStyle", "ISO, MDY"),
    ("IntervalStyle", "postgres"),
    ("TimeZone", "UTC"),
    ("transaction_isolation", "serializable"),
    ("default_transaction_isolation", "serializable"),
    ("transaction_read_only", "off"),
    ("default_transaction_read_only", "off"),
    ("is_superuser", "off"),
    ("max_identifier_length", "63"),
    ("max_index_keys", "32"),
    ("search_path", "\"$user\", public"),
    ("extra_float_digits", "1"),
    ("statement_timeout", "0"),
    ("lock_timeout", "0"),
    ("idle_in_transaction_session_timeout", "0"),
    ("application_name", ""),
    ("client_min_messages", "notice"),
    ("default_table_access_method", "heap"),
    ("lc_messages", "C"),
    // SQLite compares text by code point, as glibc's C.UTF-8 does.
    ("lc_collate", "C.UTF-8"),
    ("lc_ctype", "C.UTF-8"),
];

/// A setting's value (`name` in lower case): what the session SET, else the server's
/// fixed answer.
fn setting(settings: &BTreeMap<String, String>, name: &str) -> Option<String> {
    if let Some(v) = settings.get(name) {
        return Some(v.clone());
    }
    SETTINGS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.to_string())
}

/// The name PostgreSQL reports a setting under with ParameterStatus, if it does.
fn reported_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "application_name" => "application_name",
        "client_encoding" => "client_encoding",
        "datestyle" => "DateStyle",
        "timezone" => "TimeZone",
        "intervalstyle" => "IntervalStyle",
        _ => return None,
    })
}

/// A SET's value as SHOW gives it back, or 0A000 for a value whose effect this server
/// does not have (results in another time zone or date style, timeouts...).
fn check_setting(name: &str, value: String) -> Result<String, Box<DbError>> {
    let refuse = |what: String| Err(error(SqlState::FeatureNotSupported, what));
    let v = value.trim();
    let upper = v.to_ascii_uppercase();
    match name {
        "timezone" => match upper.as_str() {
            "UTC" | "ETC/UTC" | "GMT" | "ETC/GMT" | "UCT" | "Z" | "ZULU" | "0" | "+0" | "+00"
            | "+00:00" => Ok(if upper == "ETC/UTC" {
                "Etc/UTC".to_string()
            } else if upper.starts_with(['0', '+']) {
                "<+00>-00".to_string()
            } else {
                upper
            }),
            _ => refuse(format!(
                "time zone \"{v}\" is not supported: timestamptz values are always written in UTC"
            )),
        },
        "datestyle" => {
            let parts: Vec<String> = upper
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect();
            let ok = parts
                .iter()
                .all(|p| ["ISO", "MDY", "US", "NONEUROPEAN"].contains(&p.as_str()));
            if ok && !parts.is_empty() {
                Ok("ISO, MDY".to_string())
            } else {
                refuse(format!(
                    "DateStyle \"{v}\" is not supported (only ISO, MDY)"
                ))
            }
        }
        "intervalstyle" if !upper.eq_ignore_ascii_case("postgres") => refuse(format!(
            "IntervalStyle \"{v}\" is not supported (only postgres)"
        )),
        "client_encoding" => match upper.as_str() {
            "UTF8" | "UTF-8" | "UNICODE" => Ok("UTF8".to_string()),
            _ => refuse("only client_encoding UTF8 is supported".to_string()),
        },
        "extra_float_digits" => match v.parse::<i32>() {
            Ok(n) if (1..=3).contains(&n) => Ok(n.to_string()),
            Ok(n) if (-15..=0).contains(&n) => refuse(format!(
                "extra_float_digits {n} is not supported: floats are written exactly (1 to 3)"
            )),
            _ => Err(error(
                SqlState::InvalidParameterValue,
                format!("invalid value for parameter \"extra_float_digits\": \"{v}\""),
            )),
        },
        "statement_timeout" | "lock_timeout" => match timeout_ms(v) {
            Some(ms) => Ok(show_ms(ms)),
            None => Err(error(
                SqlState::InvalidParameterValue,
                format!("invalid value for parameter \"{name}\": \"{v}\""),
            )),
        },
        "idle_in_transaction_session_timeout" => {
            if v.trim_end_matches("ms").trim() == "0" {
                Ok("0".to_string())
            } else {
                refuse(format!("{name} is not supported (only 0, no timeout)"))
            }
        }
        "search_path" => {
            let has_public = v
                .split(',')
                .any(|p| p.trim().trim_matches('"').eq_ignore_ascii_case("public"));
            if has_public {
                Ok(value)
            } else {
                refuse(format!(
                    "search_path \"{v}\" is not supported: tables live in schema public"
                ))
            }
        }
        _ => Ok(value),
    }
}

/// A time setting in milliseconds, as PostgreSQL reads it: a number of milliseconds, or
/// a number with a unit (`us`, `ms`, `s`, `min`, `h`, `d`), quoted or not.
fn timeout_ms(value: &str) -> Option<u64> {
    let v = value.trim().trim_matches('\'').trim();
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (number, unit) = v.split_at(split);
    let n: f64 = number.parse().ok()?;
    let per = match unit.trim() {
        "" | "ms" => 1.0,
        "us" => 0.001,
        "s" => 1000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    let ms = (n * per).round();
    (ms.is_finite() && (0.0..=f64::from(i32::MAX)).contains(&ms)).then_some(ms as u64)
}

/// Milliseconds as `SHOW` prints a time setting: in the largest unit that divides them.
fn show_ms(ms: u64) -> String {
    if ms == 0 {
        return "0".to_string();
    }
    for (unit, per) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("min", 60_000),
        ("s", 1000),
    ] {
        if ms % per == 0 {
            return format!("{}{unit}", ms / per);
        }
    }
    format!("{ms}ms")
}

/// What Parse answers: parameter types and result columns.
type Prepared = (Vec<u32>, Option<Vec<Column>>);

/// One row's values, encoded (`None`: NULL).
type EncodedRow = Vec<Option<Vec<u8>>>;

/// A statement's result, ready to send.
struct Outcome {
    /// Result columns (for a simple query; the extended protocol described them at Parse).
    columns: Option<Vec<Column>>,
    rows: Vec<EncodedRow>,
    tag: String,
    notices: Vec<DbError>,
    /// Reported parameters the statement changed (ParameterStatus): name, value.
    statuses: Vec<(&'static str, String)>,
}

impl Outcome {
    /// Sends the statement's notices and the parameters it changed (NoticeResponse,
    /// ParameterStatus).
    fn send_notices(&self, server: &mut Server) -> Result<(), Box<DbError>> {
        for n in &self.notices {
            server.notice(n).map_err(internal)?;
        }
        for (name, value) in &self.statuses {
            server.parameter_status(name, value).map_err(internal)?;
        }
        Ok(())
    }

    fn tag(tag: impl Into<String>) -> Self {
        Self {
            columns: None,
            rows: Vec::new(),
            tag: tag.into(),
            notices: Vec::new(),
            statuses: Vec::new(),
        }
    }
}

/// A bound portal: its parameter values, then its remaining rows once executed.
#[derive(Default)]
struct BoundPortal {
    params: Vec<Value>,
    pending: Option<(std::collections::VecDeque<EncodedRow>, String)>,
}

/// One client's session: the [`Handler`] the tokio server drives.
pub struct Session {
    /// The server's databases, `db.store` the one this session is connected to.
    db: Database,
    /// This session's place among the database's sessions (`None` when refused).
    _attached: Option<Attached>,
    /// Why the connection is refused (an unknown database), if it is.
    refusal: Option<DbError>,
    /// This session's connection (opened on first use for a file database; the shared
    /// one in memory).
    conn: Option<Arc<Mutex<Db>>>,
    /// What the SQL functions of `conn` read (set with `conn`).
    published: Option<Arc<std::sync::Mutex<SessionInfo>>>,
    /// The right to write (in memory: to execute): taken for each statement that needs
    /// it, and kept for the rest of a transaction block.
    guard: Option<OwnedMutexGuard<()>>,
    info: SessionInfo,
    txn: TransactionStatus,
    /// A file database's `BEGIN` not yet given to SQLite: it is, before the block's
    /// first statement that reads or writes, so that the block's snapshot is taken then
    /// (as PostgreSQL's REPEATABLE READ takes it at the first statement) and a block that
    /// starts by writing starts it after waiting for the right to write.
    pending_begin: bool,
    /// Whether this session's last statement was fast (see [`SqliteThreads`]).
    fast: bool,
    portals: HashMap<String, BoundPortal>,
    /// A COPY FROM STDIN in progress.
    copy_in: Option<CopyIn>,
    /// What this session worked out from the query texts it ran.
    plans: Plans,
    /// The tables' columns it looked up (see [`TableShapes`]).
    shapes: std::cell::RefCell<TableShapes>,
    /// A statement that may have changed the schema ran in the transaction not yet
    /// ended: the schema generation moves on again when it ends.
    schema_touched: bool,
    /// `SET CONSTRAINTS ALL IMMEDIATE` ran in this transaction block: foreign keys are
    /// checked after each statement (see [`crate::altertable::set_constraints`]).
    constraints_immediate: bool,
    /// When the open transaction block began (microseconds since 1970), for `now()`.
    block_started: u64,
}

/// The state of a COPY FROM STDIN between CopyData messages.
struct CopyIn {
    /// Started by an Execute (the extended protocol: no ReadyForQuery at its end).
    extended: bool,
    /// `INSERT INTO table (columns) VALUES (?1, ...)`.
    insert: String,
    /// The columns' types, for converting the text values.
    oids: Vec<u32>,
    options: copy::Options,
    /// Bytes of an incomplete record.
    pending: Vec<u8>,
    rows: u64,
    /// A CSV header line still to skip.
    skip_header: bool,
    /// Where binary COPY data is.
    binary: BinaryCopyDecoder,
}

/// The savepoint a COPY FROM STDIN runs in.
const COPY_SAVEPOINT: &str = "pgproto_copy";

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Drop for Session {
    fn drop(&mut self) {
        // A transaction left open: roll it back before anyone else may write (the right
        // moves into the cleanup). A file database's own connection closes afterwards,
        // which would roll back too.
        let Some(conn) = self.conn.clone() else {
            return;
        };
        let right = self.guard.take();
        if right.is_none() && self.db.store.memory.is_some() {
            return;
        }
        let on_runtime = self.db.threads == SqliteThreads::OnRuntime;
        let cleanup = async move {
            let db = conn.lock_owned().await;
            if !db.conn.is_autocommit() {
                let _ = blocking(on_runtime, || db.conn.execute_batch("ROLLBACK"));
            }
            drop(db);
            drop(right);
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(cleanup);
        } else if let Some(conn) = self.conn.as_ref() {
            if let Ok(db) = conn.try_lock() {
                if !db.conn.is_autocommit() {
                    let _ = db.conn.execute_batch("ROLLBACK");
                }
            }
        }
    }
}

/// Runs SQLite work off the async runtime's worker (the runtime moves its other tasks
/// to another thread meanwhile); inline on a current-thread runtime, which cannot.
/// With `on_runtime` (see [`SqliteThreads`]), inline.
fn blocking<R>(on_runtime: bool, f: impl FnOnce() -> R) -> R {
    if on_runtime {
        return f();
    }
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// How a statement's result types are chosen.
enum Described<'a> {
    /// Simple query: from declarations, guesses and the first row; text format.
    Simple,
    /// Extended: as Parse described them, in the portal's formats.
    Portal {
        columns: Option<&'a [Column]>,
        formats: &'a [Format],
    },
}

impl Handler for Session {
    fn refusal(&self) -> Option<DbError> {
        self.refusal.clone()
    }

    async fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error> {
        match event {
            ServerEvent::Query { sql } => {
                let plan = self.plans.get(&sql);
                if let (true, [only]) = (plan.copy, plan.statements.as_slice()) {
                    if let Some(parsed) = copy::parse(&only.text) {
                        return self.copy_start(server, parsed, false).await;
                    }
                }
                let op = plan.op;
                let result = match self.begin_op(op).await {
                    Ok(db) => {
                        let started = Instant::now();
                        let r = blocking(self.on_runtime(op) && !plan.sleeps, || {
                            self.simple_query(&db.conn, server, &plan)
                        });
                        self.timed(op, started);
                        self.end_op(db);
                        r
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    server.set_transaction_status(self.txn);
                    server.error(&e)?;
                    // `error` marked a block failed; keep our view in step.
                    self.txn = server.transaction_status();
                } else {
                    server.ready_for_query()?;
                }
            }
            ServerEvent::Parse {
                query, param_types, ..
            } => {
                // Preparing executes nothing: no need to wait for another session's
                // transaction (clients such as pgbench prepare synchronously).
                let result = match self.begin_op(Op::Prepare).await {
                    Ok(db) => {
                        let r = blocking(self.db.threads == SqliteThreads::OnRuntime, || {
                            self.parse(&db.conn, &query, &param_types)
                        });
                        self.end_op(db);
                        r
                    }
                    Err(e) => Err(e),
                };
                match result {
                    Ok((types, columns)) => server.parse_complete(&types, columns)?,
                    Err(e) => self.fail(server, &e)?,
                }
            }
            ServerEvent::Bind { portal } => match self.bind(server, &portal) {
                Ok(()) => server.bind_complete()?,
                Err(e) => self.fail(server, &e)?,
            },
            ServerEvent::Execute { portal, max_rows } => {
                let plan = server
                    .portal(&portal)
                    .map(|p| self.plans.get(&p.statement.query));
                // COPY prepared through the extended protocol (tokio-postgres, sqlx).
                if let Some(parsed) = plan
                    .as_ref()
                    .filter(|p| p.copy)
                    .and_then(|p| copy::parse(&p.statements.first()?.text))
                {
                    return self.copy_start(server, parsed, true).await;
                }
                let op = plan.as_ref().map_or(Op::Read, |p| p.op);
                let result = match self.begin_op(op).await {
                    Ok(db) => {
                        let started = Instant::now();
                        let statement = plan.as_ref().and_then(|p| p.statements.first());
                        let sleeps = plan.as_ref().is_some_and(|p| p.sleeps);
                        let r = blocking(self.on_runtime(op) && !sleeps, || {
                            self.execute(&db.conn, server, &portal, statement, max_rows)
                        });
                        self.timed(op, started);
                        self.end_op(db);
                        r
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    self.fail(server, &e)?;
                }
            }
            ServerEvent::FunctionCall { .. } => {
                server.set_transaction_status(self.txn);
                server.error(&error(
                    SqlState::FeatureNotSupported,
                    "the function call protocol is not supported",
                ))?;
                self.txn = server.transaction_status();
            }
            // Without a COPY in progress (it failed), PostgreSQL ignores these too.
            ServerEvent::CopyData(data) if self.copy_in.is_some() => {
                if let Err(e) = self.copy_rows(&data, false).await {
                    self.copy_abort(server, &e).await?;
                }
            }
            ServerEvent::CopyDone if self.copy_in.is_some() => {
                // Read before the rows are in: the last step forgets the COPY.
                let extended = self.copy_in.as_ref().is_some_and(|c| c.extended);
                match self.copy_rows(&[], true).await {
                    Ok(rows) => {
                        server.command_complete(&format!("COPY {rows}"))?;
                        if !extended {
                            server.ready_for_query()?;
                        }
                    }
                    Err(e) => self.copy_abort(server, &e).await?,
                }
            }
            ServerEvent::CopyFail(message) if self.copy_in.is_some() => {
                let e = error(
                    SqlState::QueryCanceled,
                    format!("COPY from stdin failed: {message}"),
                );
                self.copy_abort(server, &e).await?;
            }
            ServerEvent::CopyData(_) | ServerEvent::CopyDone | ServerEvent::CopyFail(_) => {}
            ServerEvent::Terminate => {
                if let Some(conn) = self.conn.clone() {
                    let right = self.guard.take();
                    if right.is_some() || self.db.store.memory.is_none() {
                        let db = conn.lock_owned().await;
                        if !db.conn.is_autocommit() {
                            let _ = blocking(self.db.threads == SqliteThreads::OnRuntime, || {
                                db.conn.execute_batch("ROLLBACK")
                            });
                        }
                    }
                    drop(right);
                }
                self.txn = TransactionStatus::Idle;
            }
            _ => {}
        }
        Ok(())
    }
}

impl Session {
    /// Starts a COPY statement (a simple query of its own): COPY out runs to the end,
    /// COPY in waits for the client's data.
    async fn copy_start(
        &mut self,
        server: &mut Server,
        parsed: Result<copy::CopyStatement, Box<DbError>>,
        extended: bool,
    ) -> Result<(), Error> {
        let result = match parsed {
            Err(e) => Err(e),
            Ok(_) if self.txn == TransactionStatus::Failed => Err(aborted()),
            Ok(statement) => match self
                .begin_op(if statement.from_stdin {
                    Op::Write
                } else {
                    Op::Read
                })
                .await
            {
                Ok(db) => {
                    let r = blocking(self.db.threads == SqliteThreads::OnRuntime, || {
                        self.begin_pending(&db.conn)?;
                        if statement.from_stdin {
                            self.copy_in_start(&db.conn, server, statement)
                        } else {
                            self.copy_out(&db.conn, server, &statement)
                        }
                    });
                    self.end_op(db);
                    r
                }
                Err(e) => Err(e),
            },
        };
        match result {
            // COPY in goes on with the client's CopyData.
            Ok(()) if self.copy_in.is_some() => {
                if let Some(c) = self.copy_in.as_mut() {
                    c.extended = extended;
                }
            }
            // An Execute ends there; the client's Sync brings ReadyForQuery.
            Ok(()) if extended => {}
            Ok(()) => server.ready_for_query()?,
            Err(e) => {
                server.set_transaction_status(self.txn);
                server.error(&e)?;
                self.txn = server.transaction_status();
            }
        }
        Ok(())
    }

    /// The columns a COPY names (all of the table's by default), with their declared
    /// types.
    fn copy_columns(
        conn: &Connection,
        table: &str,
        columns: Option<&[String]>,
    ) -> Result<Vec<(String, String)>, Box<DbError>> {
        let all = table_columns(conn, table);
        if all.is_empty() {
            return Err(error(
                SqlState::UndefinedTable,
                format!("relation \"{table}\" does not exist"),
            ));
        }
        let Some(names) = columns else {
            return Ok(all);
        };
        names
            .iter()
            .map(|n| {
                all.iter()
                    .find(|(c, _)| c.eq_ignore_ascii_case(n))
                    .cloned()
                    .ok_or_else(|| {
                        error(
                            SqlState::UndefinedColumn,
                            format!("column \"{n}\" of relation \"{table}\" does not exist"),
                        )
                    })
            })
            .collect()
    }

    /// `COPY ... TO STDOUT`: every row, then CopyDone and `COPY n`.
    fn copy_out(
        &mut self,
        conn: &Connection,
        server: &mut Server,
        statement: &copy::CopyStatement,
    ) -> Result<(), Box<DbError>> {
        let (query, oids) = match &statement.source {
            copy::Source::Table { name, columns } => {
                let columns = Self::copy_columns(conn, name, columns.as_deref())?;
                let list: Vec<String> = columns.iter().map(|(c, _)| quote_ident(c)).collect();
                let oids: Vec<(u32, i32)> = columns
                    .iter()
                    .map(|(_, decl)| types::declared(decl))
                    .collect();
                (
                    format!("SELECT {} FROM {}", list.join(", "), quote_ident(name)),
                    oids,
                )
            }
            copy::Source::Query(q) => (sql::rewrite(q).map_err(unsupported)?, Vec::new()),
        };
        let options = &statement.options;
        let mut st = conn.prepare(&query).map_err(sqlite_error)?;
        let names: Vec<String> = st.column_names().iter().map(|n| n.to_string()).collect();
        // `COPY (query)`: the types of the query's table columns, as a SELECT has them.
        let declared = catalog::declared_columns(conn, &st, &mut |t| table_columns(conn, t));
        let format = options.format();
        server
            .copy_out_response(format, &vec![format; names.len()])
            .map_err(internal)?;
        let mut line = Vec::new();
        // As PostgreSQL: the binary header goes out with the first row (clients such as
        // psycopg parse each CopyData as whole rows after the header).
        let mut header = if options.binary {
            copy::binary_header()
        } else {
            Vec::new()
        };
        if options.header {
            let header: Vec<Option<Vec<u8>>> =
                names.iter().map(|n| Some(n.as_bytes().to_vec())).collect();
            copy::encode_row(&mut line, &header, options);
            server.copy_data(&line).map_err(internal)?;
        }
        let mut rows = st.query([]).map_err(sqlite_error)?;
        let mut count = 0u64;
        let mut values = Vec::with_capacity(names.len());
        while let Some(row) = rows.next().map_err(sqlite_error)? {
            values.clear();
            for i in 0..names.len() {
                let v: Value = row.get(i).map_err(sqlite_error)?;
                let (oid, typmod) = oids
                    .get(i)
                    .copied()
                    .or_else(|| {
                        declared
                            .get(i)
                            .copied()
                            .flatten()
                            .map(|d| (d.oid, d.typmod))
                    })
                    .or_else(|| types::oid_for_value(&v).map(|o| (o, -1)))
                    .unwrap_or((types::TEXT, -1));
                values.push(types::encode_typed(&v, oid, typmod, format)?);
            }
            line.clear();
            line.append(&mut header);
            if options.binary {
                copy::binary_tuple(&mut line, &values);
            } else {
                copy::encode_row(&mut line, &values, options);
            }
            server.copy_data(&line).map_err(internal)?;
            count += 1;
        }
        if options.binary {
            line.clear();
            line.append(&mut header);
            line.extend_from_slice(copy::BINARY_TRAILER);
            server.copy_data(&line).map_err(internal)?;
        }
        server.copy_done().map_err(internal)?;
        server
            .command_complete(&format!("COPY {count}"))
            .map_err(internal)?;
        Ok(())
    }

    /// `COPY ... FROM STDIN`: checks the table, opens the savepoint, asks for data.
    fn copy_in_start(
        &mut self,
        conn: &Connection,
        server: &mut Server,
        statement: copy::CopyStatement,
    ) -> Result<(), Box<DbError>> {
        let copy::Source::Table { name, columns } = &statement.source else {
            return Err(error(
                SqlState::SyntaxError,
                "COPY (query) FROM is not allowed",
            ));
        };
        let columns = Self::copy_columns(conn, name, columns.as_deref())?;
        let list: Vec<String> = columns.iter().map(|(c, _)| quote_ident(c)).collect();
        let params: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        let insert = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quote_ident(name),
            list.join(", "),
            params.join(", ")
        );
        conn.prepare_cached(&insert).map_err(sqlite_error)?;
        conn.execute_batch(&format!("SAVEPOINT {COPY_SAVEPOINT}"))
            .map_err(sqlite_error)?;
        let format = statement.options.format();
        server
            .copy_in_response(format, &vec![format; columns.len()])
            .map_err(internal)?;
        self.copy_in = Some(CopyIn {
            insert,
            oids: columns
                .iter()
                .map(|(_, decl)| types::oid_for_decl(decl))
                .collect(),
            skip_header: statement.options.header,
            options: statement.options,
            pending: Vec::new(),
            rows: 0,
            binary: BinaryCopyDecoder::new(),
            extended: false,
        });
        Ok(())
    }

    /// Inserts the complete records of `data` (with `finished`, all that is left, then
    /// releases the savepoint); returns the rows copied so far.
    async fn copy_rows(&mut self, data: &[u8], finished: bool) -> Result<u64, Box<DbError>> {
        let db = self.begin_op(Op::Write).await?;
        let result = blocking(self.db.threads == SqliteThreads::OnRuntime, || {
            let Some(state) = self.copy_in.as_mut() else {
                return Ok(0);
            };
            let mut insert = db
                .conn
                .prepare_cached(&state.insert)
                .map_err(sqlite_error)?;
            // One row's fields, in the COPY's format, into the table.
            let mut insert_row = |fields: &[Option<&[u8]>], format| {
                let values = fields
                    .iter()
                    .zip(&state.oids)
                    .map(|(f, oid)| types::decode_param(*f, *oid, format))
                    .collect::<Result<Vec<Value>, _>>()?;
                insert
                    .execute(rusqlite::params_from_iter(values))
                    .map_err(sqlite_error)?;
                Ok::<_, Box<DbError>>(())
            };
            if state.options.binary {
                let columns = state.oids.len();
                for row in copy::binary_rows(&mut state.binary, data, columns, finished)? {
                    let fields: Vec<Option<&[u8]>> =
                        row.fields().iter().map(|f| f.as_deref()).collect();
                    insert_row(&fields, Format::Binary)?;
                    state.rows += 1;
                }
            } else {
                state.pending.extend_from_slice(data);
                for record in copy::take_records(&mut state.pending, &state.options, finished) {
                    if std::mem::take(&mut state.skip_header) {
                        continue;
                    }
                    let fields = copy::decode_record(&record, &state.options)?;
                    let line = state.rows + 1 + u64::from(state.options.header);
                    if fields.len() < state.oids.len() {
                        return Err(error(
                            SqlState::BadCopyFileFormat,
                            format!("missing data for column {} (line {line})", fields.len() + 1),
                        ));
                    }
                    if fields.len() > state.oids.len() {
                        return Err(error(
                            SqlState::BadCopyFileFormat,
                            format!("extra data after last expected column (line {line})"),
                        ));
                    }
                    let fields: Vec<Option<&[u8]>> = fields.iter().map(|f| f.as_deref()).collect();
                    insert_row(&fields, Format::Text)?;
                    state.rows += 1;
                }
            }
            if finished {
                db.conn
                    .execute_batch(&format!("RELEASE {COPY_SAVEPOINT}"))
                    .map_err(sqlite_error)?;
            }
            Ok(state.rows)
        });
        if finished && result.is_ok() {
            self.copy_in = None;
        }
        self.end_op(db);
        result
    }

    /// Ends a failed COPY in: rolls back to its savepoint and answers with `e`.
    async fn copy_abort(&mut self, server: &mut Server, e: &DbError) -> Result<(), Error> {
        self.copy_in = None;
        if let Ok(db) = self.begin_op(Op::Write).await {
            let _ = blocking(self.db.threads == SqliteThreads::OnRuntime, || {
                db.conn.execute_batch(&format!(
                    "ROLLBACK TO {COPY_SAVEPOINT}; RELEASE {COPY_SAVEPOINT}"
                ))
            });
            self.end_op(db);
        }
        self.fail(server, e)
    }

    /// Starts one operation on the database: first takes the right to write if `op`
    /// needs it (already held inside a transaction block that wrote; otherwise waits in
    /// line, up to `lock_timeout` (55P03) or `statement_timeout` (57014), whichever is
    /// shorter, or the server's bound when both are 0), then the connection itself (a
    /// file database's is the session's own; the shared in-memory one is only ever held
    /// for one operation, never across a client round trip). Sets the statement's
    /// deadline.
    async fn begin_op(&mut self, op: Op) -> Result<OwnedMutexGuard<Db>, Box<DbError>> {
        let started = Instant::now();
        let statement_timeout = self.timeout_setting("statement_timeout");
        let needs_right = match op {
            Op::Prepare => false,
            Op::Read => self.db.store.memory.is_some(),
            Op::Write => true,
        };
        if needs_right && self.guard.is_none() {
            let lock_timeout = self.timeout_setting("lock_timeout");
            let (limit, by_statement) = match (lock_timeout, statement_timeout) {
                (Some(l), Some(s)) if s <= l => (s, true),
                (Some(l), _) => (l, false),
                (None, Some(s)) if s <= self.db.lock_timeout => (s, true),
                (None, _) => (self.db.lock_timeout, false),
            };
            let right = tokio::time::timeout(limit, self.db.store.right.clone().lock_owned())
                .await
                .map_err(|_| {
                    if by_statement {
                        error(
                            SqlState::QueryCanceled,
                            "canceling statement due to statement timeout",
                        )
                    } else {
                        error(
                            SqlState::LockNotAvailable,
                            "canceling statement due to lock timeout",
                        )
                    }
                })?;
            self.guard = Some(right);
        }
        let conn = match &self.conn {
            Some(c) => c.clone(),
            None => {
                let path = self.db.store.path.clone();
                let busy = self.db.lock_timeout;
                let sequences = self.db.store.sequences.clone();
                let db = blocking(self.db.threads == SqliteThreads::OnRuntime, || {
                    Db::open(path.as_deref().map(|p| p.as_path()), busy, &sequences)
                })
                .map_err(|e| {
                    error(
                        SqlState::ConnectionFailure,
                        format!("could not open the database: {e}"),
                    )
                })?;
                if let Ok(mut info) = db.info.lock() {
                    *info = self.info.clone();
                }
                let c = Arc::new(Mutex::new(db));
                self.conn = Some(c.clone());
                c
            }
        };
        let mut db = conn.lock_owned().await;
        let types = self.db.store.types_version.load(Ordering::Acquire);
        if db.types_seen != types {
            // Another connection created or changed a type: its enum orders.
            crate::usertypes::register_collations(&db.conn).map_err(sqlite_error)?;
            db.types_seen = types;
        }
        let schema = self.db.store.schema_generation.current();
        if db.schema_seen != schema {
            // Another session may have changed the schema: a statement SQLite prepared
            // before describes the old one until its next step, so prepare them anew,
            // after a read that makes SQLite load the schema again if it changed.
            db.conn.flush_prepared_statement_cache();
            db.conn
                .execute_batch("SELECT 1 FROM main.sqlite_schema LIMIT 0")
                .map_err(sqlite_error)?;
            db.schema_seen = schema;
        }
        let databases = self.db.cluster.version();
        if db.databases_seen != databases {
            catalog::fill_databases(&db.conn, &self.db.cluster.list()).map_err(sqlite_error)?;
            db.databases_seen = databases;
        }
        if self.published.is_none() {
            self.published = Some(db.info.clone());
        }
        if self.db.store.memory.is_some() {
            if let Ok(mut info) = db.info.lock() {
                *info = self.info.clone();
            }
        }
        let deadline = statement_timeout.map_or(0, |t| micros_since_epoch(started + t));
        db.deadline.store(deadline, Ordering::Relaxed);
        // `now()`: the block's start inside one, else the statement's.
        let statement_started = unix_micros();
        db.statement_now.store(statement_started, Ordering::Relaxed);
        let now = match self.txn {
            TransactionStatus::Idle => statement_started,
            _ => self.block_started,
        };
        db.now.store(now, Ordering::Relaxed);
        Ok(db)
    }

    /// Whether an operation's SQLite work runs on the runtime's worker.
    fn on_runtime(&self, op: Op) -> bool {
        match self.db.threads {
            SqliteThreads::Off => false,
            SqliteThreads::OnRuntime => true,
            SqliteThreads::FastOnRuntime => op == Op::Prepare || self.fast,
        }
    }

    /// Notes how long a statement took (for [`SqliteThreads::FastOnRuntime`]).
    fn timed(&mut self, op: Op, started: Instant) {
        if op != Op::Prepare {
            self.fast = started.elapsed() < FAST_STATEMENT;
        }
    }

    /// A timeout setting (`statement_timeout`, `lock_timeout`) as a duration; `None`
    /// for 0 (no timeout).
    fn timeout_setting(&self, name: &str) -> Option<Duration> {
        let ms = timeout_ms(self.info.settings.get(name)?)?;
        (ms > 0).then(|| Duration::from_millis(ms))
    }

    /// Ends an operation; gives the right to execute back unless a transaction is open.
    fn end_op(&mut self, db: OwnedMutexGuard<Db>) {
        // The WAL hook ran on this thread if the operation committed: a long WAL is
        // checkpointed before the right to write is given back (see `crate::checkpoint`).
        if crate::checkpoint::take_wal_pages() >= crate::checkpoint::CHECKPOINT_PAGES {
            let on_runtime = self.db.threads == SqliteThreads::OnRuntime;
            if let Err(e) = blocking(on_runtime, || crate::checkpoint::checkpoint(&db.conn)) {
                eprintln!("pgproto-sqlite: checkpoint failed: {e}");
            }
        }
        let open = !db.conn.is_autocommit();
        db.deadline.store(0, Ordering::Relaxed);
        drop(db);
        if self.guard.is_some() && self.txn == TransactionStatus::Idle && !open {
            self.guard = None;
        }
    }

    /// Answers an extended-protocol message with an error.
    fn fail(&mut self, server: &mut Server, e: &DbError) -> Result<(), Error> {
        server.set_transaction_status(self.txn);
        server.error(e)?;
        self.txn = server.transaction_status();
        Ok(())
    }

    fn simple_query(
        &mut self,
        conn: &Connection,
        server: &mut Server,
        plan: &QueryPlan,
    ) -> Result<(), Box<DbError>> {
        let statements = plan.statements.as_slice();
        if statements.is_empty() {
            server.empty_query().map_err(internal)?;
            return Ok(());
        }
        // Several statements without transaction control run as one implicit transaction.
        let implicit = statements.len() > 1
            && self.txn == TransactionStatus::Idle
            && conn.is_autocommit()
            && !plan.transaction_control;
        if implicit {
            conn.execute_batch("BEGIN").map_err(sqlite_error)?;
        }
        for statement in statements {
            let outcome = match self.run(conn, statement, &[], Described::Simple) {
                Ok(o) => o,
                Err(e) => {
                    if implicit && !conn.is_autocommit() {
                        let _ = conn.execute_batch("ROLLBACK");
                    }
                    self.transaction_ended();
                    return Err(e);
                }
            };
            outcome.send_notices(server)?;
            if let Some(columns) = &outcome.columns {
                server.row_description(columns).map_err(internal)?;
                for row in &outcome.rows {
                    let values: Vec<Option<&[u8]>> = row.iter().map(|v| v.as_deref()).collect();
                    server.data_row(&values).map_err(internal)?;
                }
            }
            server.command_complete(&outcome.tag).map_err(internal)?;
            server.set_transaction_status(self.txn);
        }
        if implicit {
            let committed = conn.execute_batch("COMMIT");
            if committed.is_err() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            self.transaction_ended();
            committed.map_err(sqlite_error)?;
        }
        Ok(())
    }

    /// After a transaction (a block, an implicit one, a statement) ended: moves the
    /// schema generation on if a statement in it may have changed the schema.
    fn transaction_ended(&mut self) {
        self.constraints_immediate = false;
        if self.txn == TransactionStatus::Idle && std::mem::take(&mut self.schema_touched) {
            self.db.store.schema_generation.advance();
        }
    }

    /// Prepares a statement: its parameter types and result columns.
    fn parse(
        &mut self,
        conn: &Connection,
        query: &str,
        client_types: &[u32],
    ) -> Result<Prepared, Box<DbError>> {
        let plan = self.plans.get(query);
        if plan.statements.len() > 1 {
            return Err(error(
                SqlState::SyntaxError,
                "cannot insert multiple commands into a prepared statement",
            ));
        }
        let Some(statement) = plan.statements.first() else {
            return Ok((client_types.to_vec(), None));
        };
        let text = statement.text.as_str();
        // COPY: checked now, run by Execute; it returns no rows (NoData).
        if let Some(parsed) = copy::parse(text).filter(|_| plan.copy) {
            parsed?;
            return Ok((client_types.to_vec(), None));
        }
        if let Some(statement) = (!statement.plain)
            .then(|| crate::databases::parse(text, &self.info.user))
            .flatten()
        {
            statement.map_err(|(code, message)| coded_error(&code, &message))?;
            return Ok((client_types.to_vec(), None));
        }
        let kind = statement.kind.clone();
        let control = matches!(
            kind,
            Statement::Commit | Statement::Rollback | Statement::RollbackTo
        );
        if self.txn == TransactionStatus::Failed && !control {
            return Err(aborted());
        }
        match kind {
            Statement::Show(name) => {
                return Ok((
                    client_types.to_vec(),
                    Some(vec![Column::new(name, types::TEXT, -1)]),
                ))
            }
            Statement::Sql if statement.plain && statement.verb == "EXPLAIN" => {
                if let Some(inner) = sql::explained(text) {
                    let inner = inner.map_err(unsupported)?;
                    let (types, _) = self.parse(conn, inner, client_types)?;
                    return Ok((
                        types,
                        Some(vec![Column::new("QUERY PLAN", types::TEXT, -1)]),
                    ));
                }
            }
            Statement::Sql if !statement.plain && crate::pgsql::comment_on(text).is_some() => {
                return Ok((client_types.to_vec(), None))
            }
            Statement::Sql => {}
            _ => return Ok((client_types.to_vec(), None)),
        }
        let constrained = if statement.verb == "INSERT" {
            conflict_columns(conn, text)?
        } else {
            None
        };
        let text = constrained.as_deref().unwrap_or(text);
        let defaulted = statement
            .defaults
            .then(|| insert_defaults(conn, text))
            .flatten();
        let rewritten = match (&defaulted, &statement.rewritten) {
            (Some(d), _) => sql::rewrite(d).map_err(unsupported)?,
            (None, Some(r)) if constrained.is_none() => r.clone().map_err(unsupported)?,
            (None, _) => sql::rewrite(text).map_err(unsupported)?,
        };
        let text = defaulted.as_deref().unwrap_or(text);
        let st = conn.prepare_cached(&rewritten).map_err(sqlite_error)?;
        sql::check_datetime_arithmetic(&rewritten, |t| table_columns(conn, t))
            .map_err(unsupported)?;
        // $n placeholders: as many as the highest n, or as the client typed.
        let mut count = client_types.len();
        for i in 1..=st.parameter_count() {
            count = count.max(placeholder_number(st.parameter_name(i), i));
        }
        let casts = pgproto_core::server::placeholder_casts(text);
        let table_columns = |t: &str| table_columns(conn, t);
        let referenced = sql::referenced_columns(&rewritten, table_columns);
        let context = sql::placeholder_context_types(&rewritten, &referenced, table_columns);
        let param_types: Vec<u32> = (0..count)
            .map(|i| match client_types.get(i) {
                Some(&t) if t != 0 => t,
                _ => match casts.get(i).copied().flatten() {
                    Some(t) => types::supported(t),
                    None => context
                        .get(i)
                        .and_then(|t| t.as_deref())
                        .map_or(types::TEXT, |d| types::declared(d).0),
                },
            })
            .collect();
        if st.column_count() == 0 {
            return Ok((param_types, None));
        }
        let param_type = |n: usize| {
            param_types
                .get(n.checked_sub(1)?)
                .map(|&t| types::decl_name(types::supported(t)).to_string())
        };
        let guesses = sql::result_items(&rewritten, &referenced, &param_type);
        let aligned = guesses.len() == st.column_count();
        let decls = catalog::declared_columns(conn, &st, &mut |t| table_columns(t));
        let columns = st
            .columns()
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let guess = guesses.get(i).filter(|_| aligned);
                let name = guess.and_then(|g| g.pg_name.as_deref()).unwrap_or(c.name());
                if let Some(d) = decls.get(i).copied().flatten() {
                    return d.column(name);
                }
                let oid = guess
                    .and_then(|g| g.type_name.as_deref())
                    .map_or(types::TEXT, types::oid_for_decl);
                Column::new(name, oid, types::type_size(oid))
            })
            .collect();
        Ok((param_types, Some(columns)))
    }

    fn bind(&mut self, server: &Server, portal: &str) -> Result<(), Box<DbError>> {
        let p = server
            .portal(portal)
            .ok_or_else(|| error(SqlState::InvalidCursorName, "portal vanished"))?;
        // Forget portals the core closed (Close, Sync, a simple query).
        self.portals.retain(|name, _| server.portal(name).is_some());
        let types = &p.statement.param_types;
        let params = p
            .params()
            .enumerate()
            .map(|(i, v)| {
                let oid = types.get(i).copied().unwrap_or(types::TEXT);
                types::decode_param(v, oid, p.param_format(i))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.portals.insert(
            portal.to_string(),
            BoundPortal {
                params,
                pending: None,
            },
        );
        Ok(())
    }

    fn execute(
        &mut self,
        conn: &Connection,
        server: &mut Server,
        portal: &str,
        plan: Option<&StatementPlan>,
        max_rows: i32,
    ) -> Result<(), Box<DbError>> {
        let p = server
            .portal(portal)
            .ok_or_else(|| error(SqlState::InvalidCursorName, "portal vanished"))?;
        let statement = p.statement.clone();
        let ncols = statement.columns.as_ref().map_or(0, |c| c.len());
        let formats: Vec<Format> = (0..ncols).map(|i| p.result_format(i)).collect();
        let bound = self.portals.entry(portal.to_string()).or_default();
        if bound.pending.is_none() {
            let params = std::mem::take(&mut bound.params);
            let Some(plan) = plan else {
                server.empty_query().map_err(internal)?;
                return Ok(());
            };
            let outcome = self.run(
                conn,
                plan,
                &params,
                Described::Portal {
                    columns: statement.columns.as_deref(),
                    formats: &formats,
                },
            )?;
            server.set_transaction_status(self.txn);
            outcome.send_notices(server)?;
            let bound = self.portals.entry(portal.to_string()).or_default();
            bound.pending = Some((outcome.rows.into(), outcome.tag));
        }
        let Some(bound) = self.portals.get_mut(portal) else {
            return Ok(());
        };
        let Some((rows, tag)) = bound.pending.as_mut() else {
            return Ok(());
        };
        let limit = usize::try_from(max_rows).unwrap_or(0);
        let mut sent = 0;
        while let Some(row) = rows.front() {
            if limit > 0 && sent == limit {
                server.portal_suspended().map_err(internal)?;
                return Ok(());
            }
            let values: Vec<Option<&[u8]>> = row.iter().map(|v| v.as_deref()).collect();
            server.data_row(&values).map_err(internal)?;
            rows.pop_front();
            sent += 1;
        }
        server.command_complete(tag).map_err(internal)?;
        Ok(())
    }

    /// Runs one statement.
    fn run(
        &mut self,
        conn: &Connection,
        statement: &StatementPlan,
        params: &[Value],
        described: Described<'_>,
    ) -> Result<Outcome, Box<DbError>> {
        let (text, kind) = (statement.text.as_str(), statement.kind.clone());
        let in_block = self.txn != TransactionStatus::Idle;
        if self.txn == TransactionStatus::Failed
            && !matches!(
                kind,
                Statement::Commit | Statement::Rollback | Statement::RollbackTo
            )
        {
            return Err(aborted());
        }
        let warning = |code, message: &str| DbError::new(Severity::Warning, code, message);
        if let Some(statement) = (kind == Statement::Sql && !statement.plain)
            .then(|| crate::databases::parse(text, &self.info.user))
            .flatten()
        {
            let statement = statement.map_err(|(code, message)| coded_error(&code, &message))?;
            return self.database_statement(conn, &statement);
        }
        let exec = |sql: &str| conn.execute_batch(sql).map_err(sqlite_error);
        match kind {
            Statement::Begin => {
                let mut o = Outcome::tag("BEGIN");
                if in_block {
                    o.notices.push(warning(
                        SqlState::ActiveSqlTransaction,
                        "there is already a transaction in progress",
                    ));
                } else {
                    if self.db.store.memory.is_some() {
                        exec("BEGIN")?;
                    } else {
                        self.pending_begin = true;
                    }
                    self.txn = TransactionStatus::InTransaction;
                    self.block_started = unix_micros();
                }
                Ok(o)
            }
            Statement::Commit | Statement::Rollback => {
                let commit = kind == Statement::Commit;
                if !in_block {
                    let mut o = Outcome::tag(if commit { "COMMIT" } else { "ROLLBACK" });
                    o.notices.push(warning(
                        SqlState::NoActiveSqlTransaction,
                        "there is no transaction in progress",
                    ));
                    return Ok(o);
                }
                let failed = self.txn == TransactionStatus::Failed;
                self.txn = TransactionStatus::Idle;
                self.transaction_ended();
                if std::mem::take(&mut self.pending_begin) {
                    // Nothing reached SQLite.
                    return Ok(Outcome::tag(if commit && !failed {
                        "COMMIT"
                    } else {
                        "ROLLBACK"
                    }));
                }
                if commit && !failed {
                    if let Err(e) = exec("COMMIT") {
                        let _ = exec("ROLLBACK");
                        return Err(e);
                    }
                    Ok(Outcome::tag("COMMIT"))
                } else {
                    if !conn.is_autocommit() {
                        exec("ROLLBACK")?;
                    }
                    Ok(Outcome::tag("ROLLBACK"))
                }
            }
            Statement::RollbackTo | Statement::Savepoint | Statement::Release => {
                let (tag, what) = match kind {
                    Statement::RollbackTo => ("ROLLBACK", "ROLLBACK TO SAVEPOINT"),
                    Statement::Savepoint => ("SAVEPOINT", "SAVEPOINT"),
                    _ => ("RELEASE", "RELEASE SAVEPOINT"),
                };
                if !in_block {
                    return Err(error(
                        SqlState::NoActiveSqlTransaction,
                        format!("{what} can only be used in transaction blocks"),
                    ));
                }
                self.begin_pending(conn)?;
                exec(text)?;
                if kind == Statement::RollbackTo {
                    self.txn = TransactionStatus::InTransaction;
                    if self.schema_touched {
                        // What was rolled back may have changed the schema.
                        self.db.store.schema_generation.advance();
                    }
                }
                Ok(Outcome::tag(tag))
            }
            Statement::Set(Some((name, value))) if name == "constraints" => {
                let mut o = Outcome::tag("SET CONSTRAINTS");
                if !in_block {
                    o.notices.push(warning(
                        SqlState::NoActiveSqlTransaction,
                        "SET CONSTRAINTS can only be used in transaction blocks",
                    ));
                    return Ok(o);
                }
                let immediate =
                    crate::altertable::set_constraints(conn, &value, !self.pending_begin)
                        .map_err(|(code, message)| coded_error(&code, &message))?;
                self.constraints_immediate = immediate;
                Ok(o)
            }
            Statement::Set(assignment) => {
                let mut o = Outcome::tag("SET");
                if let Some((name, value)) = assignment {
                    let toks = sql::tokenize(text);
                    if toks.get(1).is_some_and(|t| t.is(text, "LOCAL")) {
                        return Err(error(
                            SqlState::FeatureNotSupported,
                            "SET LOCAL is not supported (the setting would outlive the transaction)",
                        ));
                    }
                    let value = if value.eq_ignore_ascii_case("default") {
                        setting(&BTreeMap::new(), &name).unwrap_or(value)
                    } else {
                        value
                    };
                    let value = check_setting(&name, value)?;
                    if let Some(reported) = reported_name(&name) {
                        o.statuses.push((reported, value.clone()));
                    }
                    self.info.settings.insert(name, value);
                    self.sync_info();
                }
                Ok(o)
            }
            Statement::Reset => {
                let mut o = Outcome::tag("RESET");
                let toks = sql::tokenize(text);
                let names: Vec<String> = match toks.get(1).and_then(|t| t.ident(text)) {
                    Some(n) if n.eq_ignore_ascii_case("all") => {
                        std::mem::take(&mut self.info.settings)
                            .into_keys()
                            .collect()
                    }
                    Some(n) => {
                        let n = n.to_ascii_lowercase();
                        self.info.settings.remove(&n);
                        vec![n]
                    }
                    None => Vec::new(),
                };
                for n in names {
                    if let (Some(reported), Some(v)) =
                        (reported_name(&n), setting(&BTreeMap::new(), &n))
                    {
                        o.statuses.push((reported, v));
                    }
                }
                self.sync_info();
                Ok(o)
            }
            Statement::Ignored(tag) => {
                let notice = (tag == "CREATE SCHEMA").then(|| {
                    DbError::new(
                        Severity::Notice,
                        SqlState::DuplicateSchema,
                        "schema \"public\" already exists, skipping",
                    )
                });
                let mut o = Outcome::tag(tag);
                o.notices.extend(notice);
                Ok(o)
            }
            Statement::Show(name) => {
                let value = setting(&self.info.settings, &name).ok_or_else(|| {
                    error(
                        SqlState::UndefinedObject,
                        format!("unrecognized configuration parameter \"{name}\""),
                    )
                })?;
                let format = match described {
                    Described::Portal { formats, .. } => {
                        formats.first().copied().unwrap_or(Format::Text)
                    }
                    Described::Simple => Format::Text,
                };
                let v = types::encode(&Value::Text(value), types::TEXT, format)?;
                Ok(Outcome {
                    columns: Some(vec![Column::new(name, types::TEXT, -1)]),
                    rows: vec![vec![v]],
                    tag: "SHOW".to_string(),
                    notices: Vec::new(),
                    statuses: Vec::new(),
                })
            }
            Statement::Sql if statement.plain && statement.verb == "EXPLAIN" => {
                self.begin_pending(conn)?;
                self.explain(conn, text, params, described)
            }
            Statement::Sql if statement.plain => {
                self.begin_pending(conn)?;
                let registry = &self.db.store.sequences.clone();
                // `ON CONFLICT ON CONSTRAINT name`: the constraint's columns.
                let constrained = if statement.verb == "INSERT" {
                    conflict_columns(conn, text)?
                } else {
                    None
                };
                let (text, planned) = match &constrained {
                    Some(t) => (t.as_str(), None),
                    None => (text, Some(statement)),
                };
                // Identity columns: the values given for them checked, `OVERRIDING`
                // read (see `crate::identity`).
                let identified = if crate::identity::concerns(text, registry.any_identity()) {
                    crate::identity::rewrite(
                        text,
                        |t| registry.identities(t),
                        |t| table_columns(conn, t).into_iter().map(|c| c.0).collect(),
                    )
                    .map_err(|(code, message)| coded_error(&code, &message))?
                } else {
                    None
                };
                // `INSERT ... VALUES (DEFAULT, ...)`: the defaults are the schema's.
                let defaulted = match identified {
                    Some(text) => Some(insert_defaults(conn, &text).unwrap_or(text)),
                    None => statement
                        .defaults
                        .then(|| insert_defaults(conn, text))
                        .flatten(),
                };
                let outcome = match &defaulted {
                    Some(text) => self.run_sqlite(conn, text, None, params, described),
                    None => self.run_sqlite(conn, text, planned, params, described),
                };
                crate::sequences::persist(conn, registry).map_err(sqlite_error)?;
                if self.constraints_immediate && outcome.is_ok() {
                    crate::altertable::check_foreign_keys(conn)
                        .map_err(|(code, message)| coded_error(&code, &message))?;
                }
                outcome
            }
            Statement::Sql => {
                self.begin_pending(conn)?;
                // The schema may change: others look at it again now and when this
                // statement's transaction ends.
                self.schema_touched = true;
                self.db.store.schema_generation.advance();
                let mut outcome = self.run_schema_statement(conn, text, params, described);
                if self.constraints_immediate && outcome.is_ok() {
                    if let Err((code, message)) = crate::altertable::check_foreign_keys(conn) {
                        outcome = Err(coded_error(&code, &message));
                    }
                }
                self.db.store.schema_generation.advance();
                if self.txn == TransactionStatus::Idle && conn.is_autocommit() {
                    self.schema_touched = false;
                }
                outcome
            }
        }
    }

    /// Runs an SQL statement that may change the schema (or is a sequence, type or
    /// comment statement).
    fn run_schema_statement(
        &mut self,
        conn: &Connection,
        text: &str,
        params: &[Value],
        described: Described<'_>,
    ) -> Result<Outcome, Box<DbError>> {
        if let Some(c) = crate::pgsql::comment_on(text) {
            return comment(conn, &c.map_err(unsupported)?);
        }
        let registry = &self.db.store.sequences.clone();
        if let Some((view, create)) = sql::create_or_replace_view(text) {
            return all_or_none(conn, || {
                self.replace_view(conn, &view, &create, params, described)
            });
        }
        if let Some(t) = crate::truncate::parse(text) {
            let t = t.map_err(|(code, message)| coded_error(&code, &message))?;
            return all_or_none(conn, || {
                let notices = crate::truncate::run(conn, registry, &t)
                    .map_err(|(code, message)| coded_error(&code, &message))?;
                crate::sequences::persist(conn, registry).map_err(sqlite_error)?;
                Ok(with_notices(Outcome::tag("TRUNCATE TABLE"), notices))
            });
        }
        let objects = crate::sequences::statement(conn, registry, text).or_else(|| {
            let outcome = crate::usertypes::statement(conn, text)?;
            self.db.store.types_version.fetch_add(1, Ordering::AcqRel);
            Some(outcome)
        });
        if let Some(outcome) = objects {
            return outcome
                .map(Outcome::tag)
                .map_err(|(code, message)| coded_error(&code, &message));
        }
        if let Some(alter) = crate::altertable::plan(text) {
            let alter = alter.map_err(|(code, message)| coded_error(&code, &message))?;
            return match alter {
                Alter::Rewritten(sql) => {
                    self.run(conn, &StatementPlan::new(&sql), params, described)
                }
                Alter::Split(statements) => all_or_none(conn, || {
                    for sql in &statements {
                        self.run(conn, &StatementPlan::new(sql), params, Described::Simple)?;
                    }
                    Ok(Outcome::tag("ALTER TABLE"))
                }),
                Alter::AddConstraint(c) => all_or_none(conn, || {
                    crate::altertable::add_constraint(conn, &c)
                        .map(Outcome::tag)
                        .map_err(|(code, message)| coded_error(&code, &message))
                }),
                Alter::Column(c) => all_or_none(conn, || {
                    crate::altertable::alter_column(conn, &c)
                        .map(Outcome::tag)
                        .map_err(|(code, message)| coded_error(&code, &message))
                }),
                Alter::DropConstraint {
                    table,
                    name,
                    if_exists,
                    cascade,
                } => all_or_none(conn, || {
                    crate::altertable::drop_constraint(conn, &table, &name, if_exists, cascade)
                        .map(|notices| with_notices(Outcome::tag("ALTER TABLE"), notices))
                        .map_err(|(code, message)| coded_error(&code, &message))
                }),
                Alter::RenameConstraint { table, from, to } => all_or_none(conn, || {
                    crate::altertable::rename_constraint(conn, &table, &from, &to)
                        .map(|_| Outcome::tag("ALTER TABLE"))
                        .map_err(|(code, message)| coded_error(&code, &message))
                }),
                Alter::RenameIndex {
                    from,
                    to,
                    if_exists,
                } => all_or_none(conn, || {
                    crate::altertable::rename_index(conn, &from, &to, if_exists)
                        .map(|notices| with_notices(Outcome::tag("ALTER INDEX"), notices))
                        .map_err(|(code, message)| coded_error(&code, &message))
                }),
                Alter::DropColumn {
                    table,
                    column,
                    cascade,
                    sql,
                } => all_or_none(conn, || {
                    crate::altertable::before_drop_column(conn, &table, &column, cascade)
                        .map_err(|(code, message)| coded_error(&code, &message))?;
                    self.run_schema_change(conn, &sql, params, described)
                }),
            };
        }
        self.run_schema_change(conn, text, params, described)
    }

    /// `EXPLAIN [VERBOSE] statement`: SQLite's query plan for the statement (not run), as
    /// the lines of a `QUERY PLAN` text column (see [`sql::plan_lines`]).
    fn explain(
        &mut self,
        conn: &Connection,
        text: &str,
        params: &[Value],
        described: Described<'_>,
    ) -> Result<Outcome, Box<DbError>> {
        let inner = match sql::explained(text) {
            Some(inner) => inner.map_err(unsupported)?,
            None => return self.run_sqlite(conn, text, None, params, described),
        };
        let rewritten = sql::rewrite(inner).map_err(unsupported)?;
        if rewritten.contains("pg_") {
            catalog::refresh(conn).map_err(sqlite_error)?;
        }
        let mut st = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {rewritten}"))
            .map_err(sqlite_error)?;
        bind_params(&mut st, params)?;
        let mut rows: Vec<(i64, i64, String)> = Vec::new();
        let mut query = st.raw_query();
        while let Some(r) = query.next().map_err(sqlite_error)? {
            let id: i64 = r.get(0).map_err(sqlite_error)?;
            let parent: i64 = r.get(1).map_err(sqlite_error)?;
            let detail: String = r.get(3).map_err(sqlite_error)?;
            rows.push((id, parent, detail));
        }
        let format = match described {
            Described::Portal { formats, .. } => formats.first().copied().unwrap_or(Format::Text),
            Described::Simple => Format::Text,
        };
        let rows = sql::plan_lines(&rows)
            .into_iter()
            .map(|line| {
                Ok(vec![types::encode(
                    &Value::Text(line),
                    types::TEXT,
                    format,
                )?])
            })
            .collect::<Result<Vec<_>, Box<DbError>>>()?;
        Ok(Outcome {
            columns: Some(vec![Column::new("QUERY PLAN", types::TEXT, -1)]),
            rows,
            tag: "EXPLAIN".to_string(),
            notices: Vec::new(),
            statuses: Vec::new(),
        })
    }

    /// `CREATE OR REPLACE VIEW`: the view dropped (if there is one) and created again.
    /// As in PostgreSQL, the new query must give the old columns first, with the same
    /// names (42P16 otherwise), and a table of that name is no view (42809).
    fn replace_view(
        &mut self,
        conn: &Connection,
        view: &str,
        create: &str,
        params: &[Value],
        described: Described<'_>,
    ) -> Result<Outcome, Box<DbError>> {
        use rusqlite::OptionalExtension as _;
        let kind: Option<String> = conn
            .query_row(
                "SELECT type FROM main.sqlite_schema WHERE name = ?1 COLLATE NOCASE \
                 AND type IN ('table', 'view')",
                [view],
                |r| r.get(0),
            )
            .optional()
            .map_err(sqlite_error)?;
        let columns = |conn: &Connection| -> Vec<String> {
            table_columns(conn, view).into_iter().map(|c| c.0).collect()
        };
        let before = match kind.as_deref() {
            Some("view") => columns(conn),
            Some(_) => {
                return Err(coded_error("42809", &format!("\"{view}\" is not a view")));
            }
            None => Vec::new(),
        };
        if kind.is_some() {
            let drop = format!("DROP VIEW \"{}\"", view.replace('"', "\"\""));
            self.run_schema_change(conn, &drop, &[], Described::Simple)?;
        }
        let outcome = self.run_schema_change(conn, create, params, described)?;
        let after = columns(conn);
        if after.len() < before.len() {
            return Err(coded_error("42P16", "cannot drop columns from view"));
        }
        if let Some((old, new)) = before.iter().zip(&after).find(|(old, new)| old != new) {
            return Err(coded_error(
                "42P16",
                &format!("cannot change name of view column \"{old}\" to \"{new}\""),
            ));
        }
        Ok(outcome)
    }

    /// Runs an SQL statement that may change the schema on SQLite, and makes the
    /// server's own records follow the change.
    fn run_schema_change(
        &mut self,
        conn: &Connection,
        text: &str,
        params: &[Value],
        described: Described<'_>,
    ) -> Result<Outcome, Box<DbError>> {
        let registry = &self.db.store.sequences.clone();
        let in_block = self.txn != TransactionStatus::Idle;
        let index = crate::indexes::as_sqlite_reads_it(text, in_block, |name| {
            crate::sequences::relation_exists(conn, name).unwrap_or(false)
                || registry.get(name).is_some()
        })
        .transpose()
        .map_err(|(code, message)| coded_error(&code, &message))?;
        let text = index.as_deref().unwrap_or(text);
        let classless = crate::indexes::without_operator_classes(text)
            .transpose()
            .map_err(|(code, message)| coded_error(&code, &message))?;
        let text = classless.as_deref().unwrap_or(text);
        // Enum columns sort in their enum's order.
        let collated = crate::usertypes::with_collations(conn, text);
        let text = collated.as_deref().unwrap_or(text);
        let change = crate::pgsql::schema_change(text);
        if let Some(change) = &change {
            crate::usertypes::before_change(conn, change).map_err(sqlite_error)?;
        }
        let outcome = self.run_sqlite(conn, text, None, params, described);
        crate::sequences::persist(conn, registry).map_err(sqlite_error)?;
        if let Some(change) = &change {
            crate::usertypes::after_change(conn, change).map_err(sqlite_error)?;
        }
        let outcome = outcome?;
        if let Some(change) = change {
            catalog::follow_change(conn, &change).map_err(sqlite_error)?;
            crate::sequences::follow_change(conn, registry, &change).map_err(sqlite_error)?;
        }
        Ok(outcome)
    }

    /// `CREATE DATABASE` or `DROP DATABASE`: outside a transaction block, as in
    /// PostgreSQL (an implicit one of several statements counts).
    fn database_statement(
        &mut self,
        conn: &Connection,
        statement: &crate::databases::Statement,
    ) -> Result<Outcome, Box<DbError>> {
        use crate::databases::Statement as S;
        if self.txn != TransactionStatus::Idle || !conn.is_autocommit() {
            return Err(error(
                SqlState::ActiveSqlTransaction,
                format!("{} cannot run inside a transaction block", statement.verb()),
            ));
        }
        let failed = |(code, message): (String, String)| coded_error(&code, &message);
        match statement {
            S::Create(c) => {
                self.db.cluster.create(c).map_err(failed)?;
                Ok(Outcome::tag("CREATE DATABASE"))
            }
            S::Drop(d) => {
                let skipped = self
                    .db
                    .cluster
                    .drop_database(d, &self.info.database)
                    .map_err(failed)?;
                let mut o = Outcome::tag("DROP DATABASE");
                if let Some(message) = skipped {
                    o.notices.push(DbError::new(
                        Severity::Notice,
                        SqlState::SuccessfulCompletion,
                        message,
                    ));
                }
                Ok(o)
            }
        }
    }

    /// Gives SQLite the block's `BEGIN` if it has not had it yet.
    fn begin_pending(&mut self, conn: &Connection) -> Result<(), Box<DbError>> {
        if self.pending_begin {
            conn.execute_batch("BEGIN").map_err(sqlite_error)?;
            self.pending_begin = false;
        }
        Ok(())
    }

    /// Publishes this session's settings to the SQL functions (of its own connection;
    /// the shared in-memory one gets them at each operation).
    fn sync_info(&self) {
        if let Some(Ok(mut info)) = self.published.as_ref().map(|i| i.lock()) {
            *info = self.info.clone();
        }
    }

    /// Runs `text` on SQLite; `plan` is its plan when it is a plain statement, whose
    /// facts about the schema are then kept.
    fn run_sqlite(
        &mut self,
        conn: &Connection,
        text: &str,
        plan: Option<&StatementPlan>,
        params: &[Value],
        described: Described<'_>,
    ) -> Result<Outcome, Box<DbError>> {
        let fresh;
        let rewritten = match plan.and_then(|p| p.rewritten.as_ref()) {
            Some(r) => r.as_deref().map_err(|e| unsupported(e.clone()))?,
            None => {
                fresh = sql::rewrite(text).map_err(unsupported)?;
                fresh.as_str()
            }
        };
        // Facts about the schema are kept for statements outside transaction blocks
        // (a block may see an older schema).
        let generation = self.db.store.schema_generation.current();
        let cacheable = self.txn == TransactionStatus::Idle && conn.is_autocommit();
        let keep = plan.filter(|_| cacheable);
        let kept = keep.and_then(|p| p.schema_facts(generation));
        let shapes = &self.shapes;
        let mut columns_of = |t: &str| -> Vec<(String, String)> {
            match shapes.try_borrow_mut() {
                Ok(mut shapes) if cacheable => shapes
                    .columns(generation, t, |t| table_columns(conn, t))
                    .to_vec(),
                _ => table_columns(conn, t),
            }
        };
        // A query's type-aware pass: the SQLite text to run and the display scales.
        let fresh_typed = match kept.as_ref().and_then(|f| f.typed.as_ref()) {
            Some(_) => None,
            None if crate::typed::may_apply(text) => {
                let columns = sql::referenced_columns(text, &mut columns_of);
                let typed = crate::typed::rewrite(text, &columns).map_err(unsupported)?;
                let sqlite = match typed.text {
                    Some(t) => Some(sql::rewrite(&t).map_err(unsupported)?),
                    None => None,
                };
                Some((sqlite, typed.scales))
            }
            None => Some((None, Vec::new())),
        };
        let typed = fresh_typed
            .as_ref()
            .or_else(|| kept.as_ref().and_then(|f| f.typed.as_ref()));
        let rewritten = typed.and_then(|t| t.0.as_deref()).unwrap_or(rewritten);
        let scales: &[Option<crate::typed::Scale>] = typed.map_or(&[], |t| &t.1);
        if rewritten.contains("pg_") {
            catalog::refresh(conn).map_err(sqlite_error)?;
        }
        let mut st = conn.prepare_cached(rewritten).map_err(sqlite_error)?;
        if !kept.as_ref().is_some_and(|f| f.datetime_checked) {
            sql::check_datetime_arithmetic(rewritten, &mut columns_of).map_err(unsupported)?;
        }
        bind_params(&mut st, params)?;
        let mut values: Vec<Vec<Value>> = Vec::new();
        {
            let mut rows = st.raw_query();
            while let Some(row) = rows.next().map_err(sqlite_error)? {
                let ncols = row.as_ref().column_count();
                let mut r = Vec::with_capacity(ncols);
                for i in 0..ncols {
                    r.push(row.get::<_, Value>(i).map_err(sqlite_error)?);
                }
                values.push(r);
            }
        }
        // Known once it ran: SQLite prepares a statement again at its first step after
        // the schema changed.
        let ncols = st.column_count();
        let names: Vec<String> = st.columns().iter().map(|c| c.name().to_string()).collect();
        let simple = matches!(described, Described::Simple);
        let kept_description = kept.as_ref().and_then(|f| f.described.as_ref());
        let fresh_description = match kept_description {
            None if simple => {
                let decls = catalog::declared_columns(conn, &st, &mut columns_of);
                // Expressions (no declared type): guessed from the text.
                let guesses = if decls.iter().any(Option::is_none) {
                    let referenced = sql::referenced_columns(rewritten, &mut columns_of);
                    sql::result_items(rewritten, &referenced, &|_| None)
                } else {
                    Vec::new()
                };
                Some((decls, guesses))
            }
            _ => None,
        };
        let (decls, guesses): (&[Option<types::ColumnType>], &[sql::ResultItem]) =
            match (kept_description, &fresh_description) {
                (Some((d, g)), _) if simple => (d, g),
                (_, Some((d, g))) => (d, g),
                _ => (&[], &[]),
            };
        // Kept once per generation: on first sight, or when a simple query first needs
        // the description an Execute of the same text did not.
        if let Some(plan) = keep.filter(|_| kept.is_none() || fresh_description.is_some()) {
            let facts = SchemaFacts {
                datetime_checked: true,
                described: fresh_description
                    .clone()
                    .or_else(|| kept_description.cloned()),
                typed: typed.cloned(),
            };
            plan.keep_schema_facts(generation, facts);
        }
        drop(st);
        let changes = conn.changes();
        let returns_rows = ncols > 0;
        let fresh_verb;
        let verb = match plan {
            Some(p) => p.verb.as_str(),
            None => {
                fresh_verb = sql::verb(rewritten);
                fresh_verb.as_str()
            }
        };
        let mut tag = sql::command_tag(
            verb,
            rewritten,
            changes,
            returns_rows.then_some(values.len()),
        );
        // PostgreSQL tags `CREATE TABLE ... AS` (and `SELECT ... INTO`) with its rows.
        if let Some(table) = (verb == "CREATE")
            .then(|| sql::table_created_as(rewritten))
            .flatten()
        {
            let rows: i64 = conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .map_err(sqlite_error)?;
            tag = format!("SELECT {rows}");
        }
        if !returns_rows {
            return Ok(Outcome::tag(tag));
        }
        let (columns, formats): (Vec<Column>, Vec<Format>) = match described {
            Described::Portal { columns, formats } => {
                let columns = columns.ok_or_else(|| {
                    error(
                        SqlState::FeatureNotSupported,
                        "cached plan must not change result type",
                    )
                })?;
                if columns.len() != ncols {
                    return Err(error(
                        SqlState::FeatureNotSupported,
                        "cached plan must not change result type",
                    ));
                }
                (columns.to_vec(), formats.to_vec())
            }
            Described::Simple => {
                let aligned = guesses.len() == ncols;
                let columns = (0..ncols)
                    .map(|i| {
                        let guess = guesses.get(i).filter(|_| aligned);
                        let name = guess
                            .and_then(|g| g.pg_name.clone())
                            .or_else(|| names.get(i).cloned())
                            .unwrap_or_default();
                        if let Some(d) = decls.get(i).copied().flatten() {
                            return d.column(name);
                        }
                        // A numeric by the type-aware pass (`avg` is numeric, not float8).
                        let numeric =
                            scales.len() == ncols && scales.get(i).is_some_and(Option::is_some);
                        let oid = numeric
                            .then_some(types::NUMERIC)
                            .or_else(|| {
                                guess
                                    .and_then(|g| g.type_name.as_deref())
                                    .map(types::oid_for_decl)
                            })
                            .or_else(|| {
                                // Else the values' own type, if they all have the same.
                                let mut kinds = values
                                    .iter()
                                    .filter_map(|r| r.get(i).and_then(types::oid_for_value));
                                let first = kinds.next()?;
                                kinds.all(|k| k == first).then_some(first)
                            })
                            .unwrap_or(types::TEXT);
                        Column::new(name, oid, types::type_size(oid))
                    })
                    .collect();
                (columns, vec![Format::Text; ncols])
            }
        };
        let rows = values
            .iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let (oid, typmod) = columns
                            .get(i)
                            .map_or((types::TEXT, -1), |c| (c.type_oid, c.type_modifier));
                        let format = formats.get(i).copied().unwrap_or(Format::Text);
                        let scale = scales
                            .get(i)
                            .copied()
                            .flatten()
                            // A declared scale (a column's typmod) is applied as it is.
                            .filter(|_| {
                                scales.len() == ncols && oid == types::NUMERIC && typmod < 0
                            });
                        match scale {
                            Some(scale) => {
                                let v = crate::arith::numeric_display(v, scale)
                                    .map_err(|f| coded_error(f.code, &f.message))?;
                                types::encode_typed(&v, oid, typmod, format)
                            }
                            None => types::encode_typed(v, oid, typmod, format),
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Outcome {
            columns: Some(columns),
            rows,
            tag,
            notices: Vec::new(),
            statuses: Vec::new(),
        })
    }
}

/// Runs `f` inside a savepoint: all of its changes or, when it fails, none.
fn all_or_none(
    conn: &Connection,
    f: impl FnOnce() -> Result<Outcome, Box<DbError>>,
) -> Result<Outcome, Box<DbError>> {
    conn.execute_batch("SAVEPOINT _pgproto_statement")
        .map_err(sqlite_error)?;
    let outcome = f();
    let end = if outcome.is_ok() {
        "RELEASE _pgproto_statement"
    } else {
        "ROLLBACK TO _pgproto_statement; RELEASE _pgproto_statement"
    };
    conn.execute_batch(end).map_err(sqlite_error)?;
    outcome
}

/// `COMMENT ON TABLE/COLUMN`: kept in `_pgproto_comments`, shown by `pg_description`.
fn comment(conn: &Connection, c: &crate::pgsql::CommentOn) -> Result<Outcome, Box<DbError>> {
    let columns = table_columns(conn, &c.table);
    let is_view: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM main.sqlite_schema WHERE type = 'view' AND name = ?1 COLLATE NOCASE",
            [&c.table],
            |r| r.get(0),
        )
        .map_err(sqlite_error)?;
    if columns.is_empty() && !is_view {
        return Err(error(
            SqlState::UndefinedTable,
            format!("relation \"{}\" does not exist", c.table),
        ));
    }
    let col = c.column.clone().unwrap_or_default();
    if c.column.is_some() && !columns.iter().any(|(n, _)| n.eq_ignore_ascii_case(&col)) {
        return Err(error(
            SqlState::UndefinedColumn,
            format!(
                "column \"{col}\" of relation \"{}\" does not exist",
                c.table
            ),
        ));
    }
    conn.execute_batch(catalog::COMMENTS_DDL)
        .map_err(sqlite_error)?;
    conn.execute(
        "DELETE FROM main._pgproto_comments WHERE tbl = ?1 COLLATE NOCASE AND col = ?2 COLLATE NOCASE",
        [&c.table, &col],
    )
    .map_err(sqlite_error)?;
    if let Some(text) = c.text.as_deref().filter(|t| !t.is_empty()) {
        conn.execute(
            "INSERT INTO main._pgproto_comments VALUES (?1, ?2, ?3)",
            [&c.table, &col, text],
        )
        .map_err(sqlite_error)?;
    }
    catalog::changed_everywhere(conn).map_err(sqlite_error)?;
    Ok(Outcome::tag("COMMENT"))
}

/// `$n` or `?n` names parameter n; an unnamed `?` is its position.
fn placeholder_number(name: Option<&str>, index: usize) -> usize {
    name.and_then(|n| n.get(1..))
        .and_then(|d| d.parse().ok())
        .unwrap_or(index)
}

/// Binds the statement's placeholders (`?n`, from `$n`) to the Bind message's values;
/// 42P02 for a placeholder without one.
fn bind_params(st: &mut rusqlite::Statement<'_>, params: &[Value]) -> Result<(), Box<DbError>> {
    for i in 1..=st.parameter_count() {
        let n = placeholder_number(st.parameter_name(i), i);
        let value = params.get(n.wrapping_sub(1)).ok_or_else(|| {
            error(
                SqlState::UndefinedParameter,
                format!("there is no parameter ${n}"),
            )
        })?;
        st.raw_bind_parameter(i, value).map_err(sqlite_error)?;
    }
    Ok(())
}

/// `INSERT ... ON CONFLICT ON CONSTRAINT name` in SQLite's words: the primary key's or
/// unique constraint's columns as the conflict target (see
/// [`sql::conflict_on_constraint`]); 42704 for a constraint the table does not have.
fn conflict_columns(conn: &Connection, text: &str) -> Result<Option<String>, Box<DbError>> {
    let says = text
        .as_bytes()
        .windows(10)
        .any(|w| w.eq_ignore_ascii_case(b"constraint"));
    if !says {
        return Ok(None);
    }
    let columns_of = |table: &str, name: &str| -> Option<Vec<String>> {
        catalog::refresh(conn).ok()?;
        let (relid, key): (i64, String) = conn
            .query_row(
                "SELECT c.conrelid, c.conkey FROM pg_constraint c JOIN pg_class r \
                 ON r.oid = c.conrelid WHERE c.conname = ?1 AND r.relname = ?2 \
                 AND c.contype IN ('p', 'u')",
                [name, table],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok()?;
        catalog::array_elements(&key)
            .into_iter()
            .map(|n| {
                conn.query_row(
                    "SELECT attname FROM pg_attribute WHERE attrelid = ?1 AND attnum = ?2",
                    rusqlite::params![relid, n?],
                    |r| r.get(0),
                )
                .ok()
            })
            .collect()
    };
    sql::conflict_on_constraint(text, columns_of)
        .transpose()
        .map_err(|(code, message)| coded_error(&code, &message))
}

/// `INSERT ... VALUES (DEFAULT, ...)` in SQLite's words (see [`sql::insert_defaults`]).
fn insert_defaults(conn: &Connection, text: &str) -> Option<String> {
    sql::insert_defaults(text, |table| {
        let Ok(mut st) = conn.prepare_cached("SELECT name, dflt_value FROM pragma_table_info(?1)")
        else {
            return Vec::new();
        };
        let Ok(rows) = st.query_map([table], |r| Ok((r.get(0)?, r.get(1)?))) else {
            return Vec::new();
        };
        rows.filter_map(Result::ok).collect()
    })
}

/// A table's columns and declared types (empty if there is no such table).
pub(crate) fn table_columns(conn: &Connection, table: &str) -> Vec<(String, String)> {
    let Ok(mut st) = conn.prepare_cached("SELECT name, type FROM pragma_table_info(?1)") else {
        return Vec::new();
    };
    let Ok(rows) = st.query_map([table], |r| Ok((r.get(0)?, r.get(1)?))) else {
        return Vec::new();
    };
    rows.filter_map(Result::ok).collect()
}

fn internal(e: pgproto_core::Error) -> Box<DbError> {
    error(SqlState::InternalError, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_sleep_sleeps_until_the_statement_deadline() {
        let deadline = AtomicU64::new(0);
        let started = Instant::now();
        assert!(sleep_until_deadline(0.05, &deadline).is_ok());
        assert!(started.elapsed() >= Duration::from_millis(50));
        // Nothing for a negative time or NaN.
        assert!(sleep_until_deadline(-1.0, &deadline).is_ok());
        assert!(sleep_until_deadline(f64::NAN, &deadline).is_ok());
        // A deadline 30 ms away stops a 10 s sleep with 57014.
        let started = Instant::now();
        deadline.store(
            micros_since_epoch(started + Duration::from_millis(30)),
            Ordering::Relaxed,
        );
        let e = sleep_until_deadline(10.0, &deadline).unwrap_err();
        assert!(e.to_string().starts_with("[57014]"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(2));
        // And so does one already past.
        assert!(sleep_until_deadline(f64::INFINITY, &deadline).is_err());
    }
}
