//! DDL statements run by psql 15 (`VERBOSITY=verbose`, so errors show their SQLSTATE)
//! against PostgreSQL 15 and pgproto-sqlite: the output, or the error's first line, must
//! be the same. Statements that still differ are listed in [`KNOWN_DIFFERENT`] with the
//! reason, and the test checks that they still differ.

mod support;

/// The statements, each run on its own in this order.
const STATEMENTS: &[&str] = &[
    "CREATE SCHEMA IF NOT EXISTS public",
    "CREATE SCHEMA public",
    "CREATE SCHEMA app",
];

/// Statements whose answer still differs, and why.
const KNOWN_DIFFERENT: &[(&str, &str)] = &[
    (
        "CREATE SCHEMA public",
        "0A000 instead of 42P06: the refusal of schemas happens before the statement reaches the catalog",
    ),
    (
        "CREATE SCHEMA app",
        "only the public schema exists: 0A000 naming the schema",
    ),
];

#[test]
fn ddl_answers_as_postgresql_does() {
    let pg = support::postgresql_15();
    let server = support::start_program(&["--memory"]);
    let conninfo = support::conninfo(server.addr.port(), pg.superuser());
    let mut comparison = support::Comparison::default();
    for statement in STATEMENTS {
        let args = ["-v", "VERBOSITY=verbose", "-c", statement];
        let want = support::psql_answer(pg.psql(&args).map_err(|e| e.to_string()));
        let got =
            support::psql_answer(pg.psql_connect(&conninfo, &args).map_err(|e| e.to_string()));
        let known = KNOWN_DIFFERENT.iter().any(|(s, _)| s == statement);
        comparison.check(statement, &want, &got, known);
    }
    comparison.finish("DDL statements");
}
