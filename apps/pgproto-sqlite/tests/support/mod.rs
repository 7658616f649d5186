//! What the pgproto-sqlite tests share: a server in the test's own process or as its own
//! program, PostgreSQL 15 to compare with, and the comparison of their answers.

// Each test crate compiles this module and uses part of it.
#![allow(dead_code)]

use pgproto_core::server::{AuthKind, ServerAuth};
use pgproto_sqlite::Database;
use pgproto_tests::harness::{PgCluster, PgVersion};
use pgproto_tokio::server::{serve_until, ServerOptions};
use tokio::sync::watch;

/// pgproto-sqlite serving a database on a free loopback port.
pub(crate) struct Served {
    pub(crate) port: u16,
    /// Setting it, or dropping it, stops accepting; the task then ends with the sessions.
    pub(crate) stop: watch::Sender<bool>,
    pub(crate) task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    /// Stops accepting and waits for the sessions to end; an error of the server's
    /// fails the test.
    pub(crate) async fn shut_down(self) {
        self.stop.send(true).unwrap();
        self.task.await.unwrap().unwrap();
    }
}

/// Serves `db` with trust authentication until the returned [`Served::stop`] is set or
/// dropped.
pub(crate) async fn serve(db: Database) -> Served {
    serve_with(
        ServerAuth::new(AuthKind::Trust, b"mock secret for tests"),
        db,
    )
    .await
}

/// Serves `db` with `auth` (see [`serve`]).
pub(crate) async fn serve_with(auth: ServerAuth, db: Database) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(serve_until(
        listener,
        ServerOptions::new(auth),
        move |startup| db.session(startup),
        rx,
    ));
    Served { port, stop, task }
}

/// Serves a new in-memory database (see [`serve`]).
pub(crate) async fn serve_memory() -> Served {
    serve(Database::open(None).unwrap()).await
}

/// A fresh PostgreSQL 15, the oracle the tests compare with.
pub(crate) fn postgresql_15() -> PgCluster {
    PgCluster::builder()
        .version(PgVersion::V15)
        .start()
        .expect("PostgreSQL 15 (apt-get install postgresql-15)")
}

/// The pgproto-sqlite binary run with `args` (`--memory`, or `--db FILE`, ...),
/// listening on a free loopback port. Only integration tests (built with `cfg(test)`)
/// have the binary.
#[cfg(test)]
pub(crate) fn start_program(args: &[&str]) -> pgproto_tests::program::Program {
    pgproto_tests::program::Program::start(
        std::process::Command::new(env!("CARGO_BIN_EXE_pgproto-sqlite"))
            .args(args)
            .args(["--listen", "127.0.0.1:0"]),
    )
    .expect("pgproto-sqlite starts")
}

/// A tokio-postgres client connected to `conninfo` (its connection driven by a task).
pub(crate) async fn client(conninfo: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(conninfo, tokio_postgres::NoTls)
        .await
        .expect("connects");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// The conninfo (libpq keywords) of pgproto-sqlite at `port`, as `user`, database
/// `postgres`, without TLS.
pub(crate) fn conninfo(port: u16, user: &str) -> String {
    format!("host=127.0.0.1 port={port} user={user} dbname=postgres sslmode=disable")
}

/// psql's output for `command` at `conninfo` (no pager, `VERBOSITY=verbose`: an error
/// with its SQLSTATE), or its error's text.
pub(crate) fn psql_verbose(
    pg: &PgCluster,
    conninfo: &str,
    command: &str,
) -> Result<String, String> {
    pg.psql_connect(
        conninfo,
        &["-P", "pager=off", "-v", "VERBOSITY=verbose", "-c", command],
    )
    .map_err(|e| e.to_string())
}

/// psql's output for one statement, or its error's first line from `ERROR:` on.
pub(crate) fn psql_answer(result: Result<String, String>) -> String {
    match result {
        Ok(out) => out,
        Err(e) => e
            .lines()
            .find(|l| l.contains("ERROR:"))
            .map_or(e.clone(), |l| {
                l[l.find("ERROR:").unwrap_or(0)..].to_string()
            }),
    }
}

/// The answer named `item` among named `answers`, `(missing)` when there is none.
pub(crate) fn answer_named<'a>(answers: &'a [(String, String)], item: &str) -> &'a str {
    answers
        .iter()
        .find(|(name, _)| name == item)
        .map_or("(missing)", |(_, answer)| answer.as_str())
}

/// Answers compared with PostgreSQL's, one item at a time, against a list of known
/// differences: an item not known to differ must answer the same, and one known to
/// differ must still differ (else it is to be removed from the list).
#[derive(Debug, Default)]
pub(crate) struct Comparison {
    checked: usize,
    /// The items that answered as PostgreSQL does, and those known to differ that did.
    identical: Vec<String>,
    known: Vec<String>,
    failures: Vec<String>,
}

impl Comparison {
    /// Compares `item`'s answer `got` with PostgreSQL's `want`; `known`: the item is
    /// listed as known to differ (and differs in the way listed).
    pub(crate) fn check(&mut self, item: &str, want: &str, got: &str, known: bool) {
        self.checked += 1;
        match (want == got, known) {
            (true, false) => self.identical.push(item.to_string()),
            (false, true) => self.known.push(item.to_string()),
            (true, true) => self.failures.push(format!(
                "{item} now answers as PostgreSQL does: remove it from the known differences"
            )),
            (false, false) => self.failures.push(format!(
                "{item} differs.\n--- PostgreSQL 15:\n{want}\n--- pgproto-sqlite:\n{got}"
            )),
        }
    }

    /// Prints how many items of `what` answered as PostgreSQL does, and which were
    /// known to differ; then fails the test with every failure found.
    pub(crate) fn finish(&self, what: &str) {
        eprintln!(
            "{what}: {} identical out of {}: {}; known different: {}",
            self.identical.len(),
            self.checked,
            self.identical.join(" | "),
            self.known.join(" | ")
        );
        assert!(
            self.failures.is_empty(),
            "{what}:\n{}",
            self.failures.join("\n\n")
        );
    }
}
