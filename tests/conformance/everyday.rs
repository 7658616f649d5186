//! Each adapter's `everyday` example, run against PostgreSQL 15 and 18.

use pgproto_tests::harness::{HbaMethod, PgCluster, PgVersion};

use crate::adapter::everyday;

maybe_async! {
    fn run(version: PgVersion) {
        let pg = PgCluster::start_with(version, HbaMethod::Trust);
        let people = aw!(everyday::run(&pg.superuser_conninfo(""))).unwrap();
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
}

conformance_test! {
    fn everyday_pg15() {
        aw!(run(PgVersion::V15));
    }
}

conformance_test! {
    fn everyday_pg18() {
        aw!(run(PgVersion::V18));
    }
}
