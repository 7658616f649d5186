//! psql is the oracle: for one schema (tables with keys, an index, a view), psql 15's
//! describe commands print the same against pgproto-sqlite as against PostgreSQL 15.
//! Commands that do not match yet are listed in [`KNOWN_DIFFERENT`], and the test
//! checks that they still differ (fixing one forces updating the list). It prints the
//! score, identical out of tried.

use std::process::Command;

use pgproto_tests::harness::{PgCluster, PgVersion};
use pgproto_tests::program::Program;

const BIN: &str = env!("CARGO_BIN_EXE_pgproto-sqlite");

/// The schema, run on both servers.
const SCHEMA: &str = "
CREATE TABLE authors (id integer PRIMARY KEY, name text NOT NULL, email text UNIQUE);
CREATE TABLE books (id integer PRIMARY KEY, author_id integer NOT NULL REFERENCES authors(id),
  title text NOT NULL, price numeric, published boolean DEFAULT false);
CREATE INDEX books_title_idx ON books (title);
CREATE VIEW book_titles AS SELECT b.title, a.name FROM books b JOIN authors a ON a.id = b.author_id;
CREATE TABLE orders (id integer PRIMARY KEY, code varchar(100) NOT NULL, qty integer CHECK (qty > 0),
  total numeric(10,2), note text, CHECK (note <> ''),
  CONSTRAINT total_ok CHECK (total >= 0 AND (qty < 1000 OR note IS NOT NULL)));
CREATE TABLE events (id bigserial PRIMARY KEY, kind smallint NOT NULL, label varchar(20));
CREATE TABLE tags (id smallserial PRIMARY KEY, name text);
COMMENT ON TABLE orders IS 'customer orders';
COMMENT ON COLUMN orders.code IS 'order code';
";

/// The psql commands compared.
const COMMANDS: &[&str] = &[
    "\\dt",
    "\\d",
    "\\d books",
    "\\d authors",
    "\\d orders",
    "\\d+ orders",
    "\\d events",
    "\\d tags",
    "\\di",
    "\\dv",
    "\\dn",
    "\\du",
    "\\l",
];

/// Commands whose output still differs, and why.
const KNOWN_DIFFERENT: &[(&str, &str)] = &[(
    "\\l",
    "one database, no template0/template1, and SQLite's collation C instead of the cluster's locale",
)];

fn psql_on_postgres(pg: &PgCluster, command: &str) -> String {
    match pg.psql(&["-P", "pager=off", "-c", command]) {
        Ok(out) => out,
        Err(e) => format!("error: {e}"),
    }
}

fn psql_on_sqlite(pg: &PgCluster, server: &Program, command: &str) -> String {
    let conninfo = format!(
        "host=127.0.0.1 port={} user={} dbname=postgres sslmode=disable",
        server.addr.port(),
        pg.superuser()
    );
    match pg.psql_connect(&conninfo, &["-P", "pager=off", "-c", command]) {
        Ok(out) => out,
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn psql_describe_commands_print_what_postgresql_prints() {
    let pg = PgCluster::builder()
        .version(PgVersion::V15)
        .start()
        .expect("PostgreSQL 15 (apt-get install postgresql-15)");
    let server = Program::start(Command::new(BIN).args(["--memory", "--listen", "127.0.0.1:0"]))
        .expect("pgproto-sqlite starts");
    pg.psql(&["-q", "-c", SCHEMA])
        .expect("schema on PostgreSQL");
    let out = psql_on_sqlite(&pg, &server, SCHEMA);
    assert!(!out.starts_with("error"), "schema on pgproto-sqlite: {out}");

    let mut identical = Vec::new();
    let mut failures = Vec::new();
    for command in COMMANDS {
        let expected = psql_on_postgres(&pg, command);
        let got = psql_on_sqlite(&pg, &server, command);
        let same = expected == got;
        let known = KNOWN_DIFFERENT.iter().any(|(c, _)| c == command);
        match (same, known) {
            (true, false) => identical.push(*command),
            (false, true) => {}
            (true, true) => failures.push(format!(
                "{command} now prints what PostgreSQL prints: remove it from KNOWN_DIFFERENT"
            )),
            (false, false) => failures.push(format!(
                "{command} differs.\n--- PostgreSQL 15:\n{expected}\n--- pgproto-sqlite:\n{got}"
            )),
        }
    }
    eprintln!(
        "psql oracle: {} identical out of {} tried: {}; known different: {:?}",
        identical.len(),
        COMMANDS.len(),
        identical.join(" "),
        KNOWN_DIFFERENT
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
