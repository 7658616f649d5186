//! Real drivers (Python's from PyPI, Node's from npm) against pgproto-sqlite, with
//! PostgreSQL 15 as the oracle: each script in `tests/clients` prints what the driver
//! saw, and the output must be the same on both servers.

use std::path::Path;

use pgproto_core::server::{AuthKind, ServerAuth};
use pgproto_sqlite::Database;
use pgproto_tests::harness::{PgCluster, PgVersion};
use pgproto_tests::node::NodeEnv;
use pgproto_tests::python::PythonEnv;
use pgproto_tokio::server::{serve_until, ServerOptions};
use tokio::sync::watch;

/// pgproto-sqlite on an in-memory database, until the returned sender is dropped or
/// set.
async fn start_sqlite() -> (u16, watch::Sender<bool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let db = Database::open(None).unwrap();
    let (stop, rx) = watch::channel(false);
    tokio::spawn(serve_until(
        listener,
        ServerOptions::new(ServerAuth::new(AuthKind::Trust, b"mock secret for tests")),
        move |startup| db.session(startup),
        rx,
    ));
    (port, stop)
}

/// A driver's environment: runs a script with a connection URL.
trait Driver: Clone + Send + 'static {
    fn run(&self, script: &Path, dsn: &str) -> std::process::Output;
}

impl Driver for PythonEnv {
    fn run(&self, script: &Path, dsn: &str) -> std::process::Output {
        Self::run(self, script, &[dsn])
    }
}

impl Driver for NodeEnv {
    fn run(&self, script: &Path, dsn: &str) -> std::process::Output {
        Self::run(self, script, &[dsn])
    }
}

/// Runs `script` (in `tests/clients`) on `env` against `dsn`; its standard output.
async fn run(env: &impl Driver, script: &str, dsn: String) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(script);
    let env = env.clone();
    let out = tokio::task::spawn_blocking(move || env.run(&path, &dsn))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The script's output on PostgreSQL 15 and on pgproto-sqlite, compared line by line.
async fn same_on_both(env: impl Driver, script: &str) {
    let (pg, _) = PgCluster::start_trust(PgVersion::V15);
    let expected = run(&env, script, pg.connection_url(pg.superuser(), None)).await;
    let (port, stop) = start_sqlite().await;
    let got = run(
        &env,
        script,
        format!("postgresql://alice@127.0.0.1:{port}/db"),
    )
    .await;
    for (n, (want, have)) in expected.lines().zip(got.lines()).enumerate() {
        assert_eq!(have, want, "{script}, line {}", n + 1);
    }
    assert_eq!(got.lines().count(), expected.lines().count(), "{got}");
    assert!(expected.lines().count() >= 4, "{expected}");
    drop(stop);
    drop(pg);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asyncpg_sees_what_it_sees_on_postgresql() {
    let env = PythonEnv::with(&["asyncpg==0.32.0"]).unwrap();
    same_on_both(env, "asyncpg_tour.py").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg_sees_what_it_sees_on_postgresql() {
    let env = PythonEnv::with(&["psycopg[binary]==3.2.10"]).unwrap();
    same_on_both(env, "psycopg_tour.py").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_postgres_sees_what_it_sees_on_postgresql() {
    let env = NodeEnv::with(&["pg@8.23.1"]).unwrap();
    same_on_both(env, "node_pg_tour.js").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlalchemy_orm_sees_what_it_sees_on_postgresql() {
    let env = PythonEnv::with(&["sqlalchemy==2.1.9", "psycopg[binary]==3.2.10"]).unwrap();
    same_on_both(env, "sqlalchemy_orm_tour.py").await;
}
