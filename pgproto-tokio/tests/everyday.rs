//! The `everyday` example, run against PostgreSQL 15 and 18.

#[allow(dead_code)]
#[path = "../examples/everyday.rs"]
mod everyday;

use pgproto_tests::harness::{HbaMethod, PgCluster, PgVersion};

async fn run(version: PgVersion) {
    let pg = PgCluster::builder()
        .version(version)
        .auth(HbaMethod::Trust)
        .start()
        .unwrap();
    let info = format!(
        "{} sslmode=disable",
        pg.connection_string(pg.superuser(), None)
    );
    let people = everyday::run(&info).await.unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyday_pg15() {
    run(PgVersion::V15).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyday_pg18() {
    run(PgVersion::V18).await;
}
