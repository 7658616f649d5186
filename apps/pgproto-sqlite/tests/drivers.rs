//! Real drivers (Python's from PyPI, Node's from npm) against pgproto-sqlite, with
//! PostgreSQL 15 as the oracle: each script in `tests/clients` prints what the driver
//! saw, and the output must be the same on both servers.

mod support;

use std::path::Path;

use pgproto_tests::harness::{PgCluster, PgVersion};
use pgproto_tests::node::NodeEnv;
use pgproto_tests::python::PythonEnv;

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
    same_on_both_but(env, script, &[]).await;
}

/// As [`same_on_both`], except for the lines starting with one of `known`'s prefixes: a
/// known difference (with its reason), which must still be one, so that the list stays
/// true.
async fn same_on_both_but(env: impl Driver, script: &str, known: &[(&str, &str)]) {
    let (pg, _) = PgCluster::start_trust(PgVersion::V15);
    let expected = run(&env, script, pg.connection_url(pg.superuser(), None)).await;
    let support::Served { port, stop, .. } = support::serve_memory().await;
    let got = run(
        &env,
        script,
        format!("postgresql://alice@127.0.0.1:{port}/postgres"),
    )
    .await;
    let mut seen = vec![false; known.len()];
    for (n, (want, have)) in expected.lines().zip(got.lines()).enumerate() {
        match known
            .iter()
            .position(|(prefix, _)| want.starts_with(prefix))
        {
            Some(k) => {
                assert_ne!(have, want, "{script}, line {}: no longer differs", n + 1);
                assert!(
                    have.starts_with(known[k].0),
                    "{script}, line {}: {have}",
                    n + 1
                );
                seen[k] = true;
            }
            None => assert_eq!(have, want, "{script}, line {}", n + 1),
        }
    }
    assert_eq!(got.lines().count(), expected.lines().count(), "{got}");
    assert!(expected.lines().count() >= 4, "{expected}");
    for (k, (prefix, why)) in known.iter().enumerate() {
        assert!(seen[k], "{script}: no line {prefix:?} ({why})");
    }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knex_migrates_up_and_down_as_on_postgresql() {
    let env = NodeEnv::with(&["knex@3.3.0", "pg@8.23.1"]).unwrap();
    same_on_both_but(
        env,
        "knex_migrations.js",
        &[
            (
                "counts ",
                "a numeric(8,2) column keeps 3.999 as stored (PostgreSQL rounds it to 4.00 \
                 on the way in; see the lib.rs limitations), so its sum, 3.999, has more \
                 digits than the column's scale and is refused with 0A000",
            ),
            (
                "columnInfo authors name ",
                "information_schema.columns.character_maximum_length is described as text \
                 in a prepared statement (PostgreSQL: cardinal_number, an int4), so the \
                 driver hands knex \"100\" instead of 100",
            ),
            ("columnInfo books name ", "the same"),
            ("columnInfo tags label ", "the same"),
            (
                "columnInfo authors status ",
                "a column default is SQLite's text: 'active', not 'active'::author_status",
            ),
            (
                "alter column ",
                "ALTER TABLE ... ALTER COLUMN (knex's .alter()) is refused with 0A000: SQLite \
                 cannot change a column's type or constraints in place",
            ),
        ],
    )
    .await;
}
