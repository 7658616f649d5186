//! The `ALTER TABLE` forms Django's migrations use (and their errors), the
//! `varchar_pattern_ops` index and `SET CONSTRAINTS`, run step by step on PostgreSQL 15
//! and on pgproto-sqlite: each step must succeed on both or fail on both with the same
//! SQLSTATE (except [`REFUSED`], refused with 0A000), and psql's `\d` of the tables
//! afterwards must print the same (except [`KNOWN_DIFFERENT`]).

mod support;

use pgproto_tests::harness::PgCluster;

/// The steps, in order; each runs as its own psql command.
const STEPS: &[&str] = &[
    "CREATE TABLE t (id integer PRIMARY KEY, name varchar(5) NOT NULL, n smallint DEFAULT 1, note text, big bigint)",
    "INSERT INTO t VALUES (1, 'abcd', 7, NULL, 70000), (2, 'xyz', NULL, 'x', NULL)",
    "CREATE INDEX t_name_like ON t (name varchar_pattern_ops)",
    "CREATE INDEX t_note ON t (note)",
    "CREATE INDEX t_big ON t (big int8_ops)",
    "CREATE TABLE u (id integer PRIMARY KEY, t_id integer)",
    "ALTER TABLE u ADD CONSTRAINT u_t_fk FOREIGN KEY (t_id) REFERENCES t (id) DEFERRABLE INITIALLY DEFERRED",
    "ALTER TABLE t ALTER COLUMN name TYPE varchar(3)",
    "ALTER TABLE t ALTER COLUMN big TYPE smallint",
    "ALTER TABLE t ALTER COLUMN n SET NOT NULL",
    "ALTER TABLE t ALTER COLUMN id DROP NOT NULL",
    "ALTER TABLE t ALTER COLUMN nope DROP NOT NULL",
    "ALTER TABLE nope ALTER COLUMN n DROP NOT NULL",
    "ALTER TABLE t ALTER COLUMN name TYPE varchar(150)",
    "ALTER TABLE t ALTER COLUMN name DROP NOT NULL",
    "ALTER TABLE t ALTER COLUMN n DROP DEFAULT",
    "ALTER TABLE t ALTER COLUMN n TYPE integer",
    "ALTER TABLE t ALTER COLUMN big TYPE integer",
    "ALTER TABLE t ALTER COLUMN note SET NOT NULL",
    "UPDATE t SET n = 0 WHERE n IS NULL",
    "ALTER TABLE t ALTER COLUMN n SET NOT NULL",
    "ALTER TABLE t DROP COLUMN id",
    "ALTER TABLE t DROP COLUMN note CASCADE",
    "INSERT INTO t (id, n) VALUES (3, 1)",
    "INSERT INTO t (id, name, n) VALUES (4, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 1)",
    "INSERT INTO t (id, n) VALUES (5, NULL)",
    "BEGIN; INSERT INTO u VALUES (1, 99); SET CONSTRAINTS ALL DEFERRED; SET CONSTRAINTS ALL IMMEDIATE; COMMIT",
    "BEGIN; INSERT INTO u VALUES (1, 99); INSERT INTO t (id, n) VALUES (99, 1); SET CONSTRAINTS ALL IMMEDIATE; COMMIT",
    "BEGIN; SET CONSTRAINTS ALL IMMEDIATE; INSERT INTO u VALUES (2, 98); ROLLBACK",
    "SELECT name, n, big FROM t ORDER BY id",
    "DROP INDEX IF EXISTS t_big",
];

/// Steps that pgproto-sqlite refuses with 0A000 (whatever PostgreSQL answers), and why.
const REFUSED: &[(&str, &str)] = &[(
    "CREATE INDEX t_big ON t (big int8_ops)",
    "only the pattern_ops operator classes have a counterpart in SQLite's indexes",
)];

/// psql commands compared after the steps.
const COMMANDS: &[&str] = &["\\d t", "\\d u"];

/// Commands whose output still differs from a section on (the text before it must be
/// the same, the rest must still differ), and why.
const KNOWN_DIFFERENT: &[(&str, &str, &str)] = &[
    (
        "\\d t",
        "Referenced by:",
        "the catalog does not show a foreign key's DEFERRABLE INITIALLY DEFERRED",
    ),
    (
        "\\d u",
        "Foreign-key constraints:",
        "the same foreign key, seen from its table",
    ),
];

/// The outcome of `command` through psql at `conninfo`: its output, or `ERROR <SQLSTATE>`.
fn run(pg: &PgCluster, conninfo: &str, command: &str) -> String {
    match support::psql_verbose(pg, conninfo, command) {
        Ok(out) => out,
        Err(text) => match text.split_once("ERROR:  ") {
            Some((_, rest)) => format!("ERROR {}", rest.get(..5).unwrap_or(rest)),
            None => format!("error: {text}"),
        },
    }
}

#[test]
fn alter_table_steps_answer_as_on_postgresql() {
    let pg = support::postgresql_15();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("alter.db");
    let server = support::start_program(&["--db", db.to_str().unwrap()]);
    let theirs = pg.superuser_conninfo("dbname=postgres");
    let ours = support::conninfo(server.addr.port(), pg.superuser());
    let mut differ = Vec::new();
    for step in STEPS {
        let expected = run(&pg, &theirs, step);
        let got = run(&pg, &ours, step);
        if REFUSED.iter().any(|(r, _)| r == step) {
            assert_eq!(got, "ERROR 0A000", "{step}");
            continue;
        }
        if expected != got {
            differ.push(format!(
                "{step}\n--- PostgreSQL 15:\n{expected}\n--- pgproto-sqlite:\n{got}"
            ));
        }
    }
    assert!(differ.is_empty(), "steps differ:\n{}", differ.join("\n\n"));
    for command in COMMANDS {
        let expected = run(&pg, &theirs, command);
        let got = run(&pg, &ours, command);
        match KNOWN_DIFFERENT.iter().find(|(c, ..)| c == command) {
            Some((_, section, _)) => {
                let cut = |out: &str| -> (String, String) {
                    match out.split_once(section) {
                        Some((a, b)) => (a.to_string(), b.to_string()),
                        None => (out.to_string(), String::new()),
                    }
                };
                let (expected_head, expected_rest) = cut(&expected);
                let (got_head, got_rest) = cut(&got);
                assert_eq!(
                    expected_head, got_head,
                    "{command}\n--- PostgreSQL 15:\n{expected}\n--- pgproto-sqlite:\n{got}"
                );
                assert_ne!(
                    expected_rest, got_rest,
                    "{command}: {section} now matches: remove it from KNOWN_DIFFERENT"
                );
            }
            None => assert_eq!(
                expected, got,
                "{command}\n--- PostgreSQL 15:\n{expected}\n--- pgproto-sqlite:\n{got}"
            ),
        }
    }
}
