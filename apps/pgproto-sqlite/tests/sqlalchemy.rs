//! SQLAlchemy 2's inspector against PostgreSQL 15 and pgproto-sqlite for the same models
//! (`tests/scripts/sqlalchemy_inspect.py`): `create_all` twice (the second creates
//! nothing), then `get_table_names`, `get_columns`, `get_pk_constraint`,
//! `get_foreign_keys`, `get_indexes`, `get_unique_constraints`, with `sqlalchemy` and
//! `psycopg[binary]` from PyPI (a cached `PythonEnv`). Answers that do not match yet are listed in
//! [`KNOWN_DIFFERENT`]; the test checks that they still differ, and prints the score.

use std::path::Path;
use std::process::Command;

use pgproto_tests::harness::{PgCluster, PgVersion};
use pgproto_tests::program::Program;
use pgproto_tests::python::PythonEnv;

const BIN: &str = env!("CARGO_BIN_EXE_pgproto-sqlite");

/// Inspector answers that still differ from PostgreSQL's, and why.
const KNOWN_DIFFERENT: &[(&str, &str)] = &[];

fn inspect(python: &PythonEnv, url: &str) -> serde_like::Map {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/sqlalchemy_inspect.py");
    let out = python.run(&script, &[url]);
    assert!(
        out.status.success(),
        "{url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_like::parse(&String::from_utf8_lossy(&out.stdout))
}

/// The script prints one JSON object, one `"key": value` per top-level line group: this
/// splits it by its top-level keys (values compared as text).
mod serde_like {
    pub(super) type Map = Vec<(String, String)>;

    pub(super) fn parse(json: &str) -> Map {
        let mut out: Map = Vec::new();
        for line in json.lines() {
            if let Some(rest) = line.strip_prefix(" \"") {
                if let Some((key, value)) = rest.split_once("\": ") {
                    out.push((key.to_string(), value.to_string()));
                    continue;
                }
            }
            if let Some(last) = out.last_mut() {
                last.1.push('\n');
                last.1.push_str(line);
            }
        }
        out
    }
}

#[test]
fn sqlalchemy_inspector_answers_as_postgresql_does() {
    let python = PythonEnv::with(&["sqlalchemy==2.1.9", "psycopg[binary]==3.2.10"]).unwrap();
    let pg = PgCluster::builder()
        .version(PgVersion::V15)
        .start()
        .expect("PostgreSQL 15 (apt-get install postgresql-15)");
    let server = Program::start(Command::new(BIN).args(["--memory", "--listen", "127.0.0.1:0"]))
        .expect("pgproto-sqlite starts");
    let user = pg.superuser().to_string();
    let expected = inspect(
        &python,
        &pg.connection_url(&user, None)
            .replace("postgresql://", "postgresql+psycopg://"),
    );
    let got = inspect(
        &python,
        &format!(
            "postgresql+psycopg://{user}@127.0.0.1:{}/postgres",
            server.addr.port()
        ),
    );
    let mut identical = Vec::new();
    let mut failures = Vec::new();
    for (key, want) in &expected {
        let have = got
            .iter()
            .find(|(k, _)| k == key)
            .map_or("(missing)", |(_, v)| v.as_str());
        let known = KNOWN_DIFFERENT.iter().any(|(k, _)| key.starts_with(k));
        match (want == have, known) {
            (true, false) => identical.push(key.clone()),
            (false, true) => {}
            (true, true) => failures.push(format!(
                "{key} now answers as PostgreSQL does: remove it from KNOWN_DIFFERENT"
            )),
            (false, false) => failures.push(format!(
                "{key} differs.\n--- PostgreSQL 15:\n{want}\n--- pgproto-sqlite:\n{have}"
            )),
        }
    }
    eprintln!(
        "sqlalchemy inspector: {} identical out of {}: {}; known different: {:?}",
        identical.len(),
        expected.len(),
        identical.join(", "),
        KNOWN_DIFFERENT
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
