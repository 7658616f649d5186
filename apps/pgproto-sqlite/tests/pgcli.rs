//! pgcli's completion metadata: `tests/scripts/pgcli_completion.py` calls what pgcli's
//! completion refresher calls on its `PGExecute` (`search_path`, `schemata`, `tables`,
//! `views`, `table_columns`, `view_columns`, `functions`, `datatypes`, `foreignkeys`,
//! `databases`, `casing`) against PostgreSQL 15 and pgproto-sqlite for the same schema,
//! with `pgcli` from PyPI (a cached `PythonEnv`). Each must load on pgproto-sqlite (the
//! refresher's thread stops at the first failure) and answer as PostgreSQL does; the
//! script leaves out the rows of the system schemas, where PostgreSQL lists its own
//! tables, views and built-in functions (see the script). Answers that still differ are
//! listed in [`KNOWN_DIFFERENT`], and the test checks that they still do.

mod support;

use std::path::Path;

use pgproto_tests::harness::{PgCluster, PgVersion};
use pgproto_tests::python::PythonEnv;

/// The schema, run on both servers.
const SCHEMA: &str = "
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE authors (id serial PRIMARY KEY, name varchar(100) NOT NULL, email text UNIQUE);
CREATE TABLE books (id bigserial PRIMARY KEY, author_id integer NOT NULL REFERENCES authors(id),
  title text NOT NULL, price numeric(10,2) DEFAULT 0, m mood, published boolean DEFAULT false);
CREATE TABLE pairs (a integer, b integer, note text, PRIMARY KEY (a, b));
CREATE TABLE pair_notes (id integer PRIMARY KEY, pa integer, pb integer,
  FOREIGN KEY (pa, pb) REFERENCES pairs (a, b));
CREATE VIEW book_titles AS SELECT b.title, a.name FROM books b JOIN authors a ON a.id = b.author_id;
";

/// Methods whose answer still differs from PostgreSQL's, and why.
const KNOWN_DIFFERENT: &[(&str, &str)] = &[];

fn completion(python: &PythonEnv, dsn: &str) -> Vec<(String, String)> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/pgcli_completion.py");
    let out = python.run(&script, &[dsn]);
    assert!(
        out.status.success(),
        "{dsn}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn pgcli_completion_loads_as_on_postgresql() {
    let python = PythonEnv::with(&["pgcli==4.7.1", "psycopg[binary]==3.2.10"]).unwrap();
    let (pg, _) = PgCluster::start_trust(PgVersion::V15);
    let server = support::start_program(&["--memory"]);
    let user = pg.superuser().to_string();
    pg.psql(&["-q", "-c", SCHEMA])
        .expect("schema on PostgreSQL");
    let sqlite_dsn = support::conninfo(server.addr.port(), &user);
    pg.psql_connect(&sqlite_dsn, &["-q", "-c", SCHEMA])
        .expect("schema on pgproto-sqlite");
    let expected = completion(&python, &pg.superuser_conninfo(""));
    let got = completion(&python, &sqlite_dsn);
    assert_eq!(expected.len(), 11, "{expected:?}");
    let mut comparison = support::Comparison::default();
    for (name, want) in &expected {
        assert!(!want.starts_with("error"), "{name} on PostgreSQL: {want}");
        let have = support::answer_named(&got, name);
        // A known difference must still answer, not fail.
        let known = KNOWN_DIFFERENT.iter().any(|(k, _)| k == name)
            && (want == have || !have.starts_with("error"));
        comparison.check(name, want, have, known);
    }
    comparison.finish("pgcli completion");
}
