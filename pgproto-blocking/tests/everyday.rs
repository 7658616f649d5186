//! The `everyday` example, run against PostgreSQL 15 and 18.

#[allow(dead_code)]
#[path = "../examples/everyday.rs"]
mod everyday;

use pgproto_tests::harness::{HbaMethod, PgCluster, PgVersion};

fn run(version: PgVersion) {
    let pg = PgCluster::builder()
        .version(version)
        .auth(HbaMethod::Trust)
        .start()
        .unwrap();
    let info = format!(
        "{} sslmode=disable",
        pg.connection_string(pg.superuser(), None)
    );
    let people = everyday::run(&info).unwrap();
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

#[test]
fn everyday_pg15() {
    run(PgVersion::V15);
}

#[test]
fn everyday_pg18() {
    run(PgVersion::V18);
}
