//! Date and time statements (typed literals, casts, arithmetic, `extract`, `date_part`,
//! `date_trunc`, `age`, `to_char`) run against PostgreSQL 15 and pgproto-sqlite: psql
//! 15's output (`VERBOSITY=verbose`, so errors show their SQLSTATE), or the error's
//! first line, must be the same, and so must the result columns' names and type OIDs
//! as the extended protocol describes them (tokio-postgres's `prepare`). Statements
//! that still differ are listed in [`KNOWN_DIFFERENT`] with the reason, and the test
//! checks that they still differ.

mod support;

use pgproto_tests::harness::{PgCluster, PgVersion};

/// The statements, each run on its own in this order.
const STATEMENTS: &[&str] = &[
    // Typed literals and casts.
    "select date '2024-03-01', timestamp '2024-03-01', timestamptz '2024-03-01 10:00', interval '90 minutes', time '10:00'",
    "select '2024-03-01 10:00:00'::date, cast('2024-01-01' as timestamptz), '2024-3-1'::date",
    "select cast('2024-02-30' as date)",
    "select '2024-02-30'::date",
    "select '2024-13-01'::date",
    "select 'abc'::date",
    "select 'abc'::timestamp",
    "select '2024-01-01 25:00'::timestamp",
    "select 'xyz'::interval",
    // Arithmetic.
    "select date '2024-03-01' - 1, date '2024-03-01' - date '2024-01-01'",
    "select date '2024-03-01' + 1, 1 + date '2024-03-01'",
    "select '2024-01-31'::date + interval '1 month'",
    "select '2024-01-01 10:00:00'::timestamp + interval '90 minutes'",
    "select timestamp '2024-01-31 10:00' + interval '1 month 1 day 01:00'",
    "select timestamptz '2024-03-31 10:00+00' - interval '1 month'",
    "select interval '1 day' + date '2024-01-01', date '2024-01-01' - interval '1 hour'",
    "select timestamp '2024-03-01' - timestamp '2024-01-01 10:00'",
    "select interval '1 day' + interval '2 hours', interval '1 day' - interval '2 hours'",
    "select date '2024-03-01' * 2",
    // extract and date_part.
    "select extract(year from date '2024-05-06'), date_part('month', date '2024-05-06')",
    "select extract(second from timestamp '2024-05-06 12:34:56.5'), date_part('second', timestamp '2024-05-06 12:34:56.5')",
    "select extract(epoch from timestamp '2024-05-06 12:34:56'), extract(epoch from date '2024-05-06'), date_part('epoch', date '2024-05-06')",
    "select extract(dow from date '2024-05-06'), extract(doy from date '2024-05-06'), extract(week from date '2024-05-06'), extract(quarter from date '2024-05-06'), extract(isodow from date '2024-05-06'), extract(century from date '2024-05-06')",
    "select extract(milliseconds from timestamp '2024-05-06 12:34:56.5'), extract(microseconds from timestamp '2024-05-06 12:34:56.5')",
    "select extract(day from interval '1 year 2 mons 3 days 04:05:06.5'), extract(epoch from interval '1 day'), date_part('hour', interval '1 day 05:00')",
    "select extract(hour from date '2024-05-06')",
    "select extract(foo from date '2024-05-06')",
    // date_trunc and age.
    "select date_trunc('month', timestamp '2024-05-06 12:34:56')",
    "select date_trunc('month', date '2024-05-06'), date_trunc('week', timestamp '2024-05-06 12:34:56')",
    "select date_trunc('quarter', timestamptz '2024-05-06 12:34:56+02'), date_trunc('hour', interval '1 day 05:33')",
    "select date_trunc('foo', timestamp '2024-05-06')",
    "select age(timestamp '2024-03-01', timestamp '2024-01-01')",
    "select age(timestamp '2024-03-01', timestamp '2024-01-31 10:00'), age(timestamp '2024-01-01', timestamp '2024-03-15 01:02:03'), age(date '2024-03-01', date '2023-02-28')",
    // to_char.
    "select to_char(date '2024-05-06', 'YYYY-MM-DD')",
    "select to_char(timestamp '2024-05-06 13:04:05.123456', 'YYYY-MM-DD HH24:MI:SS.MS US HH12 am Mon MON Month| Day| Dy D DDD Q YY')",
    "select to_char(date '2024-05-06', 'FMMonth FMDay FMDD FMMM \"YYYY\"')",
    "select to_char(date '2024-05-06', 'IYYY')",
    // In a table.
    "create table ev (id int primary key, d date, at timestamp)",
    "insert into ev values (1, date '2024-01-31' + 1, timestamp '2024-01-31 10:00' + interval '1 month')",
    "select id, d, at from ev",
    "select extract(month from at), to_char(d, 'DD Mon YYYY') from ev",
    "update ev set d = date '2024-12-31' + 1 where id = 1",
    "select d from ev",
    "select d::timestamp, cast(at as date), now()::date, '2024-01-01'::date, d::date + 1 from ev",
    "select d + 1 from ev",
    "select at + interval '1 day' from ev",
    "select interval '1 day' > interval '2 hours'",
];

/// Statements whose answer still differs, and why.
const KNOWN_DIFFERENT: &[(&str, &str)] = &[
    (
        "select d + 1 from ev",
        "arithmetic on a date or time column is refused with 0A000: the rewrite does not know a column's type (cast it: d::date + 1)",
    ),
    (
        "select at + interval '1 day' from ev",
        "arithmetic on a date or time column is refused with 0A000 (cast it: at::timestamp + interval '1 day')",
    ),
    (
        "select interval '1 day' > interval '2 hours'",
        "intervals are stored as text, which does not compare as PostgreSQL compares intervals: 0A000",
    ),
    (
        "select date '2024-03-01' * 2",
        "0A000 naming the operator instead of 42883 (operator does not exist): the rewrite refuses what it does not compute",
    ),
    (
        "select to_char(date '2024-05-06', 'IYYY')",
        "ISO week patterns of to_char are not implemented: 0A000",
    ),
];

/// The result columns (name and type OID) the extended protocol describes, or the
/// error's SQLSTATE.
async fn describe(client: &tokio_postgres::Client, sql: &str) -> String {
    match client.prepare(sql).await {
        Ok(st) => st
            .columns()
            .iter()
            .map(|c| format!("{} {}", c.name(), c.type_().oid()))
            .collect::<Vec<_>>()
            .join(", "),
        Err(e) => format!("error {:?}", e.code().map(|c| c.code().to_string())),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dates_and_times_answer_as_postgresql_does() {
    let pg = PgCluster::builder()
        .version(PgVersion::V15)
        .setting("timezone", "UTC")
        .start()
        .expect("PostgreSQL 15 (apt-get install postgresql-15)");
    let server = support::start_program(&["--memory"]);
    let conninfo = support::conninfo(server.addr.port(), pg.superuser());
    let pg_client = support::client(&pg.connection_string(pg.superuser(), None)).await;
    let our_client = support::client(&conninfo).await;
    let mut comparison = support::Comparison::default();
    for statement in STATEMENTS {
        let args = ["-v", "VERBOSITY=verbose", "-c", statement];
        let mut want = support::psql_answer(pg.psql(&args).map_err(|e| e.to_string()));
        let mut got =
            support::psql_answer(pg.psql_connect(&conninfo, &args).map_err(|e| e.to_string()));
        if !statement.starts_with("create")
            && !statement.starts_with("insert")
            && !statement.starts_with("update")
        {
            want.push_str(&format!(
                "\ncolumns: {}",
                describe(&pg_client, statement).await
            ));
            got.push_str(&format!(
                "\ncolumns: {}",
                describe(&our_client, statement).await
            ));
        }
        let known = KNOWN_DIFFERENT.iter().any(|(s, _)| s == statement);
        comparison.check(statement, &want, &got, known);
    }
    comparison.finish("date/time statements");
}
