//! The blocking row iterator against PostgreSQL 15 and 18: a result far larger than
//! buffering would allow streams in bounded memory (peak RSS checked), an error in the
//! middle of a result ends the iteration with it, and an iterator dropped early leaves
//! the connection ready.

use pgproto_blocking::Client;
use pgproto_core::sqlstate::SqlState;
use pgproto_tests::harness::{PgCluster, PgVersion};
use pgproto_tests::pool_check::peak_rss_kib;

fn run(version: PgVersion) {
    let (_pg, info) = PgCluster::start_trust(version);
    let mut client = Client::connect(&info).unwrap();

    // 2,000,000 rows of ~40 bytes: collected as a Vec<Row> they take well over 100 MB.
    let before = peak_rss_kib();
    let mut count = 0i64;
    let mut sum = 0i64;
    for row in client
        .query_stream(
            "select g::int8, repeat('x', 32) from generate_series(1, $1) g",
            &[&2_000_000i32],
        )
        .unwrap()
    {
        let row = row.unwrap();
        count += 1;
        sum += row.get::<i64, _>(0usize).unwrap();
        assert_eq!(row.get::<String, _>(1usize).unwrap().len(), 32);
    }
    assert_eq!(count, 2_000_000);
    assert_eq!(sum, 2_000_000 * 2_000_001 / 2);
    let grown = peak_rss_kib().saturating_sub(before);
    assert!(
        grown < 40 * 1024,
        "peak memory grew by {grown} KiB while streaming"
    );

    // An error after some rows: the rows, then the error, then the end.
    let mut rows = 0;
    let mut errors = Vec::new();
    for row in client
        .query_stream("select 1 / (1000 - g) from generate_series(1, 2000) g", &[])
        .unwrap()
    {
        match row {
            Ok(_) => rows += 1,
            Err(e) => errors.push(e),
        }
    }
    assert!(rows < 1000, "{rows} rows before the error");
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].as_db_error().unwrap().code,
        SqlState::DivisionByZero
    );

    // Dropped after three rows: the rest is skipped, the connection goes on.
    let first: Vec<i32> = client
        .query_stream("select g from generate_series(1, 100000) g", &[])
        .unwrap()
        .take(3)
        .map(|r| r.unwrap().get(0usize).unwrap())
        .collect();
    assert_eq!(first, [1, 2, 3]);
    let row = client.query_one("select 42::int4", &[]).unwrap();
    assert_eq!(row.get::<i32, _>(0usize).unwrap(), 42);
    client.close().unwrap();
}

#[test]
fn stream_pg15() {
    run(PgVersion::V15);
}

#[test]
fn stream_pg18() {
    run(PgVersion::V18);
}
