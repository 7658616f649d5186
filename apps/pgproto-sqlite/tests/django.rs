//! Django 5.2 (with psycopg 3.2, from PyPI) on PostgreSQL 15 and on pgproto-sqlite: the
//! project in `tests/django` (contrib admin, auth, contenttypes, sessions, and the `shop`
//! app with foreign keys, a many-to-many, JSON, UUID, decimal and aware datetime fields)
//! is migrated, `inspectdb` prints the same models for both servers, and the app's
//! tests pass on both (Django's test runner creates the database `test_postgres` and
//! drops it at the end).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pgproto_tests::harness::{PgCluster, PgVersion};
use pgproto_tests::program::Program;
use pgproto_tests::python::PythonEnv;

const BIN: &str = env!("CARGO_BIN_EXE_pgproto-sqlite");

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

/// What stops `manage.py migrate` on pgproto-sqlite today: the error of the first
/// statement that fails, and why. While it is not empty, the test checks that migrate
/// still fails with one of these (and that Django's test runner still creates its test
/// database, point of `CREATE DATABASE`); once migrate passes, the list must be emptied
/// and the whole comparison runs.
const MIGRATE_BLOCKED_BY: &[(&str, &str)] = &[(
    "near \"CONSTRAINT\": syntax error",
    "ALTER TABLE ... ADD CONSTRAINT is not supported yet (contenttypes' first migration adds \
     a UNIQUE (app_label, model); every foreign key comes as ADD CONSTRAINT ... FOREIGN KEY \
     ... DEFERRABLE INITIALLY DEFERRED); contrib.auth's later migrations also need \
     ALTER COLUMN ... TYPE varchar(n) and ALTER COLUMN ... DROP NOT NULL",
)];

#[test]
fn django_migrates_inspects_and_tests_as_on_postgresql() {
    let python = PythonEnv::with(&["Django==5.2.*", "psycopg[binary]==3.2.*"]).unwrap();
    let pg = PgCluster::builder()
        .version(PgVersion::V15)
        .start()
        .expect("PostgreSQL 15 (apt-get install postgresql-15)");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("django.db");
    let server = Program::start(Command::new(BIN).args([
        "--db",
        db.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]))
    .expect("pgproto-sqlite starts");
    let ours = server.addr.port();

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

    let migrate = manage(&python, ours, &["migrate", "--noinput", "-v", "0"]);
    let stderr = String::from_utf8_lossy(&migrate.stderr).into_owned();
    if !migrate.status.success() {
        let known = MIGRATE_BLOCKED_BY.iter().find(|(e, _)| stderr.contains(e));
        assert!(
            known.is_some(),
            "pgproto-sqlite: manage.py migrate\n{stderr}"
        );
        // The test runner creates test_postgres (and, found there from the previous
        // run, drops and creates it again) before it stops at the same statement.
        for again in [false, true] {
            let out = manage(&python, ours, &["test", "shop", "--noinput", "-v", "2"]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("Creating test database"), "{stderr}");
            assert_eq!(
                stderr.contains("Destroying old test database"),
                again,
                "{stderr}"
            );
            assert!(known.is_some_and(|(e, _)| stderr.contains(e)), "{stderr}");
        }
        eprintln!("django: migrate on pgproto-sqlite still fails: {known:?}");
        return;
    }
    assert!(
        MIGRATE_BLOCKED_BY.is_empty(),
        "manage.py migrate now succeeds on pgproto-sqlite: empty MIGRATE_BLOCKED_BY"
    );
    let got = ok(&python, "pgproto-sqlite", ours, &["inspectdb"]);
    assert!(
        expected == got,
        "inspectdb differs.\n--- PostgreSQL 15:\n{expected}\n--- pgproto-sqlite:\n{got}"
    );
    run_tests(&python, "pgproto-sqlite", ours);
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
