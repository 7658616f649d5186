//! Alembic against PostgreSQL 15 and pgproto-sqlite, for the models of
//! `tests/alembic/models.py` (serial and identity keys, varchar(n), numeric(p,s),
//! timestamptz with `server_default=now()`, uuid, json, jsonb, an enum, a foreign key, a
//! unique constraint, an index, a CHECK): on an empty database `alembic revision
//! --autogenerate -m init`, `alembic upgrade head`, then `alembic revision --autogenerate
//! -m again`, whose `upgrade()` must be empty (the reflected schema is the models'),
//! then `alembic downgrade base`. The first migration's text must be PostgreSQL's
//! (revision ids and dates aside), and after the downgrade psql's `\dt` and `\dT` the
//! same on both. Alembic, SQLAlchemy and psycopg from PyPI (a cached `PythonEnv`).

mod support;

use std::path::{Path, PathBuf};

use pgproto_tests::python::PythonEnv;

/// A copy of `tests/alembic` with an empty `versions/`, for one server.
fn environment(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(name);
    std::fs::create_dir_all(env.join("versions")).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/alembic");
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, env.join(path.file_name().unwrap())).unwrap();
        }
    }
    (dir, env)
}

/// Runs one Alembic command in `env` against `url`.
fn alembic(python: &PythonEnv, env: &Path, url: &str, args: &[&str]) {
    let mut all = vec![env.to_str().unwrap(), url];
    all.extend_from_slice(args);
    let out = python.run(&env.join("run.py"), &all);
    assert!(
        out.status.success(),
        "{url}: alembic {}: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The text of the migration whose file name ends with `_{message}.py`, without its
/// revision id and date.
fn migration(env: &Path, message: &str) -> String {
    let suffix = format!("_{message}.py");
    let path = std::fs::read_dir(env.join("versions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(&suffix))
        .unwrap_or_else(|| panic!("no migration {message} in {}", env.display()));
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| {
            if l.starts_with("Revision ID:")
                || l.starts_with("Revises:")
                || l.starts_with("Create Date:")
                || l.starts_with("revision = ")
                || l.starts_with("down_revision = ")
            {
                l.split_once([':', '=']).map_or(l, |(k, _)| k).to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The body of a migration's `upgrade()`, its comment lines left out.
fn upgrade_body(migration: &str) -> Vec<String> {
    migration
        .lines()
        .skip_while(|l| !l.starts_with("def upgrade"))
        .skip(1)
        .take_while(|l| !l.starts_with("def "))
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// init, upgrade head, again, downgrade base on one server: the two migrations' texts.
fn run_all(python: &PythonEnv, name: &str, url: &str) -> (String, String) {
    let (_dir, env) = environment(name);
    alembic(
        python,
        &env,
        url,
        &["revision", "--autogenerate", "-m", "init"],
    );
    alembic(python, &env, url, &["upgrade", "head"]);
    alembic(
        python,
        &env,
        url,
        &["revision", "--autogenerate", "-m", "again"],
    );
    alembic(python, &env, url, &["downgrade", "base"]);
    (migration(&env, "init"), migration(&env, "again"))
}

#[test]
fn alembic_autogenerate_finds_nothing_to_do_after_upgrade_as_on_postgresql() {
    let python = PythonEnv::with(&[
        "alembic==1.18.4",
        "sqlalchemy==2.1.9",
        "psycopg[binary]==3.2.10",
    ])
    .unwrap();
    let pg = support::postgresql_15();
    let server = support::start_program(&["--memory"]);
    let user = pg.superuser().to_string();
    let pg_url = pg
        .connection_url(&user, None)
        .replace("postgresql://", "postgresql+psycopg://");
    let sqlite_url = format!(
        "postgresql+psycopg://{user}@127.0.0.1:{}/postgres",
        server.addr.port()
    );

    let (pg_init, pg_again) = run_all(&python, "postgres", &pg_url);
    let (init, again) = run_all(&python, "sqlite", &sqlite_url);

    assert_eq!(
        upgrade_body(&pg_again),
        ["pass"],
        "PostgreSQL's second migration:\n{pg_again}"
    );
    assert_eq!(
        upgrade_body(&again),
        ["pass"],
        "pgproto-sqlite's second migration:\n{again}"
    );
    assert!(
        upgrade_body(&init).len() > 10,
        "the first migration creates the tables:\n{init}"
    );
    assert_eq!(
        init, pg_init,
        "the first migration differs from PostgreSQL's"
    );
    assert_eq!(again, pg_again);

    // After `downgrade base`: the same relations and types left (alembic_version, and the
    // enum, which `op.drop_table` does not drop).
    let conninfo = support::conninfo(server.addr.port(), &user);
    for command in ["\\dt", "\\dT"] {
        let want = pg.psql(&["-P", "pager=off", "-c", command]).unwrap();
        let got = pg
            .psql_connect(&conninfo, &["-P", "pager=off", "-c", command])
            .unwrap();
        assert_eq!(got, want, "{command} after downgrade base");
    }
}
