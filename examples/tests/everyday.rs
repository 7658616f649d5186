//! Each `everyday` example (tokio; async-std and smol; blocking) run against PostgreSQL
//! 15 and 18: the table it leaves behind is the one its steps make.

use pgproto_examples::Person;
use pgproto_tests::harness::{HbaMethod, PgCluster, PgVersion};

#[allow(dead_code)]
#[path = "../src/bin/everyday_tokio.rs"]
mod everyday_tokio;

#[allow(dead_code)]
#[path = "../src/bin/everyday_asyncstd.rs"]
mod everyday_asyncstd;

#[allow(dead_code)]
#[path = "../src/bin/everyday_blocking.rs"]
mod everyday_blocking;

/// A cluster of `version`, and its superuser's connection string.
fn cluster(version: PgVersion) -> (PgCluster, String) {
    let pg = PgCluster::start_with(version, HbaMethod::Trust);
    let conninfo = pg.superuser_conninfo("");
    (pg, conninfo)
}

/// What every step together leaves in the table.
fn check(people: &[Person]) {
    let summary: Vec<(i64, &str, Option<i32>)> = people
        .iter()
        .map(|p| (p.id, p.name.as_str(), p.age))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "Ada", Some(37)),
            (2, "Brian", None),
            (3, "Carla", Some(41)),
            (4, "Dmitri", Some(29)),
            (5, "Eve", None),
        ]
    );
}

fn tokio(version: PgVersion) {
    let (_pg, conninfo) = cluster(version);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    check(&runtime.block_on(everyday_tokio::run(&conninfo)).unwrap());
}

/// Run by async-std's `block_on` and by smol's: the example spawns on async-std's
/// executor, which runs under either.
fn asyncstd(version: PgVersion) {
    let (_pg, conninfo) = cluster(version);
    check(&async_std::task::block_on(everyday_asyncstd::run(&conninfo)).unwrap());
    check(&smol::block_on(everyday_asyncstd::run(&conninfo)).unwrap());
}

fn blocking(version: PgVersion) {
    let (_pg, conninfo) = cluster(version);
    check(&everyday_blocking::run(&conninfo).unwrap());
}

#[test]
fn everyday_tokio_pg15() {
    tokio(PgVersion::V15);
}

#[test]
fn everyday_tokio_pg18() {
    tokio(PgVersion::V18);
}

#[test]
fn everyday_asyncstd_pg15() {
    asyncstd(PgVersion::V15);
}

#[test]
fn everyday_asyncstd_pg18() {
    asyncstd(PgVersion::V18);
}

#[test]
fn everyday_blocking_pg15() {
    blocking(PgVersion::V15);
}

#[test]
fn everyday_blocking_pg18() {
    blocking(PgVersion::V18);
}
