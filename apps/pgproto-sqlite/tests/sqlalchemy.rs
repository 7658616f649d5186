//! SQLAlchemy 2's inspector against PostgreSQL 15 and pgproto-sqlite for the same models
//! (`tests/scripts/sqlalchemy_inspect.py`): `create_all` twice (the second creates
//! nothing), then `get_table_names`, `get_columns`, `get_pk_constraint`,
//! `get_foreign_keys`, `get_indexes`, `get_unique_constraints`, with `sqlalchemy` and
//! `psycopg[binary]` from PyPI (a cached `PythonEnv`). Answers that do not match yet are listed in
//! [`KNOWN_DIFFERENT`]; the test checks that they still differ, and prints the score.

mod support;

use std::path::Path;

use pgproto_tests::python::PythonEnv;

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
    let pg = support::postgresql_15();
    let server = support::start_program(&["--memory"]);
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
    let mut comparison = support::Comparison::default();
    for (key, want) in &expected {
        let have = support::answer_named(&got, key);
        let known = KNOWN_DIFFERENT.iter().any(|(k, _)| key.starts_with(k));
        comparison.check(key, want, have, known);
    }
    comparison.finish("sqlalchemy inspector");
}
