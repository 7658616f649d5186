//! pgjdbc's `DatabaseMetaData`, what database tools (DBeaver, DataGrip, Metabase) read,
//! against PostgreSQL 15 and pgproto-sqlite for the same schema: `tests/jdbc/MetaData.java`,
//! compiled here with `javac`, prints `getSchemas`, `getTables`, `getColumns`,
//! `getPrimaryKeys`, `getImportedKeys`/`getExportedKeys`, `getIndexInfo`, `getTypeInfo`,
//! a prepared statement's parameter and result metadata and a `CopyManager` round trip;
//! each section must print the same on both servers. Sections that still differ are
//! listed in [`KNOWN_DIFFERENT`] (the test checks that they still do). Needs a JDK and
//! Debian's pgjdbc (`default-jdk-headless`, `libpostgresql-jdbc-java`; `.ci/run` installs
//! them).

mod support;

use std::path::Path;
use std::process::Command;

use pgproto_tests::harness::{PgCluster, PgVersion};

/// Debian's pgjdbc jar.
const JAR: &str = "/usr/share/java/postgresql.jar";

/// The schema, run on both servers: serial keys, varchar(n), numeric(p,s), timestamptz,
/// uuid, json, an enum, a foreign key, a unique index and a view, with a few rows.
const SCHEMA: &str = r#"
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE authors (id serial PRIMARY KEY, name varchar(100) NOT NULL, email text, born timestamptz);
CREATE UNIQUE INDEX authors_email_idx ON authors (email);
CREATE TABLE books (id bigserial PRIMARY KEY, author_id integer NOT NULL REFERENCES authors(id) ON DELETE CASCADE,
  title varchar(200) NOT NULL, price numeric(10,2) DEFAULT 0, uid uuid, extra json, m mood, published boolean DEFAULT false);
CREATE INDEX books_title_idx ON books (title);
CREATE TABLE books_copy (id bigint, author_id integer, title varchar(200), price numeric(10,2), uid uuid,
  extra json, m mood, published boolean);
CREATE VIEW book_titles AS SELECT b.title, a.name FROM books b JOIN authors a ON a.id = b.author_id;
INSERT INTO authors (name, email, born) VALUES ('Ann', 'ann@example.com', '1970-01-02 03:04:05+00'), ('Bob', NULL, NULL);
INSERT INTO books (author_id, title, price, uid, extra, m, published) VALUES
  (1, 'First', 12.5, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}', 'happy', true),
  (1, E'Tab\there', 3, NULL, NULL, NULL, false), (2, 'Third', NULL, NULL, 'null', 'sad', NULL);
"#;

/// Sections whose output still differs from PostgreSQL's: the fields that differ (the
/// rest of the section must match), and why.
const KNOWN_DIFFERENT: &[(&str, &[&str], &str)] = &[
    (
        "getIndexInfo authors",
        &["non_unique", "cardinality", "pages"],
        "NON_UNIQUE is 0/1, not f/t: pgjdbc computes it as `NOT i.indisunique` inside a \
         derived table, whose expression columns SQLite gives no declared type; and \
         CARDINALITY/PAGES are PostgreSQL's planner statistics of its own storage \
         (index reltuples/relpages), which SQLite has no counterpart for",
    ),
    (
        "getIndexInfo books",
        &["non_unique", "cardinality", "pages"],
        "as getIndexInfo authors",
    ),
];

/// A section with the values of `fields` (`name=value` between ` | `) replaced by `?`.
fn mask(section: &str, fields: &[&str]) -> String {
    section
        .lines()
        .map(|line| {
            line.split(" | ")
                .map(|part| match part.split_once('=') {
                    Some((k, _)) if fields.contains(&k) => format!("{k}=?"),
                    _ => part.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" | ")
                + "\n"
        })
        .collect()
}

/// The program's output, split into its `== section` parts.
fn sections(out: &str) -> Vec<(String, String)> {
    let mut parts: Vec<(String, String)> = Vec::new();
    for line in out.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            parts.push((name.to_string(), String::new()));
        } else if let Some(last) = parts.last_mut() {
            last.1.push_str(line);
            last.1.push('\n');
        }
    }
    parts
}

/// `MetaData.java` compiled into `dir`; a failure names the packages to install.
fn compile(dir: &Path) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jdbc/MetaData.java");
    assert!(
        Path::new(JAR).is_file(),
        "{JAR} is missing: apt-get install libpostgresql-jdbc-java (see .ci/run)"
    );
    let out = Command::new("javac")
        .arg("-d")
        .arg(dir)
        .args(["-cp", JAR])
        .arg(&source)
        .output()
        .unwrap_or_else(|e| {
            panic!("javac: {e}: apt-get install default-jdk-headless (see .ci/run)")
        });
    assert!(
        out.status.success(),
        "javac {}: {}",
        source.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run(dir: &Path, url: &str) -> String {
    let out = Command::new("java")
        // The servers write timestamptz in UTC; pgjdbc sends the JVM's time zone.
        .arg("-Duser.timezone=UTC")
        .arg("-cp")
        .arg(format!("{}:{JAR}", dir.display()))
        .args(["MetaData", url])
        .output()
        .unwrap_or_else(|e| panic!("java: {e}: apt-get install default-jdk-headless"));
    assert!(
        out.status.success(),
        "{url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn pgjdbc_metadata_matches_postgresql() {
    let classes = tempfile::tempdir().expect("temporary directory");
    compile(classes.path());
    let (pg, _) = PgCluster::start_trust(PgVersion::V15);
    let server = support::start_program(&["--memory"]);
    let user = pg.superuser().to_string();
    pg.psql(&["-q", "-c", SCHEMA])
        .expect("schema on PostgreSQL");
    let conninfo = support::conninfo(server.addr.port(), &user);
    pg.psql_connect(&conninfo, &["-q", "-c", SCHEMA])
        .expect("schema on pgproto-sqlite");

    let expected = sections(&run(
        classes.path(),
        &format!(
            "jdbc:postgresql://{}:{}/postgres?user={user}&sslmode=disable",
            pg.host(),
            pg.port()
        ),
    ));
    let got = sections(&run(
        classes.path(),
        &format!(
            "jdbc:postgresql://127.0.0.1:{}/postgres?user={user}&sslmode=disable",
            server.addr.port()
        ),
    ));
    assert!(expected.len() >= 12, "too few sections: {expected:?}");
    let mut comparison = support::Comparison::default();
    for (name, want) in &expected {
        let have = support::answer_named(&got, name);
        assert!(
            !want.starts_with("error:"),
            "{name} fails on PostgreSQL: {want}"
        );
        // A known difference must differ only in the fields listed.
        let known = KNOWN_DIFFERENT
            .iter()
            .find(|(k, _, _)| k == name)
            .is_some_and(|(_, fields, _)| want == have || mask(want, fields) == mask(have, fields));
        comparison.check(name, want, have, known);
    }
    comparison.finish("pgjdbc metadata sections");
}
