//! Django 5.2 (with psycopg 3.2, from PyPI) on PostgreSQL 15 and on pgproto-sqlite: the
//! project in `tests/django` (contrib admin, auth, contenttypes, sessions, and the `shop`
//! app with foreign keys, a many-to-many, JSON, UUID, decimal and aware datetime fields)
//! is migrated (its ALTER TABLE forms, `varchar_pattern_ops` indexes, bulk inserts
//! through `UNNEST`), `inspectdb` prints the same models for both servers, Django's
//! `get_constraints` reads the same constraints and indexes from both, and the app's
//! tests pass on both (Django's test runner creates the database `test_postgres`, runs
//! `SET CONSTRAINTS ALL IMMEDIATE` at each test's end, and drops the database at the
//! end).

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use pgproto_tests::python::PythonEnv;

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/django")
}

/// `manage.py args` against the server at `port`.
fn manage(python: &PythonEnv, port: u16, args: &[&str]) -> Output {
    python
        .python()
        .current_dir(project())
        .env("PGHOST", "127.0.0.1")
        .env("PGPORT", port.to_string())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg("manage.py")
        .args(args)
        .output()
        .expect("python runs")
}

/// Runs `manage.py args`, which must succeed; its stdout.
fn ok(python: &PythonEnv, server: &str, port: u16, args: &[&str]) -> String {
    let out = manage(python, port, args);
    assert!(
        out.status.success(),
        "{server}: manage.py {}\n{}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every table's constraints and indexes as Django's introspection reads them
/// (`get_constraints`: its constraint query, `ARRAY(subquery)` over `unnest(conkey) WITH
/// ORDINALITY`, and its index query, `unnest(i.indkey, i.indoption) WITH ORDINALITY`
/// beside `pg_index`), one line each, sorted.
const CONSTRAINTS: &str = "\
from django.db import connection
with connection.cursor() as c:
    for t in sorted(connection.introspection.table_names(c)):
        for name, info in sorted(connection.introspection.get_constraints(c, t).items()):
            print(t, name, sorted(info.items()))
";

#[test]
fn django_migrates_inspects_and_tests_as_on_postgresql() {
    let python = PythonEnv::with(&["Django==5.2.*", "psycopg[binary]==3.2.*"]).unwrap();
    let pg = support::postgresql_15();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("django.db");
    let server = support::start_program(&["--db", db.to_str().unwrap()]);
    let ours = server.addr.port();
    let ours_name = "pgproto-sqlite";

    // PostgreSQL 15: the oracle.
    let pg_name = "PostgreSQL 15";
    ok(
        &python,
        pg_name,
        pg.port(),
        &["migrate", "--noinput", "-v", "0"],
    );
    let expected = ok(&python, pg_name, pg.port(), &["inspectdb"]);
    run_tests(&python, pg_name, pg.port());

    ok(
        &python,
        ours_name,
        ours,
        &["migrate", "--noinput", "-v", "0"],
    );
    let got = ok(&python, ours_name, ours, &["inspectdb"]);
    assert!(
        expected == got,
        "inspectdb differs.\n--- PostgreSQL 15:\n{expected}\n--- pgproto-sqlite:\n{got}"
    );
    let expected = ok(&python, pg_name, pg.port(), &["shell", "-c", CONSTRAINTS]);
    let got = ok(&python, ours_name, ours, &["shell", "-c", CONSTRAINTS]);
    assert!(
        expected == got,
        "get_constraints differs.\n--- PostgreSQL 15:\n{expected}\n--- pgproto-sqlite:\n{got}"
    );
    run_tests(&python, ours_name, ours);
    // The test database went, file and all.
    let left: Vec<_> = std::fs::read_dir(dir.path().join("django.databases"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

/// `manage.py test shop`, which must pass all of the app's tests.
fn run_tests(python: &PythonEnv, name: &str, port: u16) {
    let out = manage(python, port, &["test", "shop", "--noinput", "-v", "2"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{name}: manage.py test\n{stderr}");
    assert!(stderr.contains("Ran 5 tests"), "{name}: {stderr}");
    assert!(
        stderr.contains("Destroying test database"),
        "{name}: {stderr}"
    );
}
