//! One async client shared by two tasks: one runs COPY FROM STDIN while the other
//! queries. The query waits in the core until the COPY ends (its bytes inside the COPY
//! stream would make PostgreSQL end the connection with 08P01), against PostgreSQL 15
//! and 18. Both orders: the query submitted while the COPY is open, and before the
//! server's CopyInResponse has arrived.

use std::cell::Cell;

use pgproto_tests::harness::{PgCluster, PgVersion};

use super::client_async::{yield_now, zip};
use crate::adapter::{self, Client};

const ROWS: u64 = 2_000;

/// Task 1 copies `ROWS` rows into `table`; task 2 runs `select 42` either once the COPY
/// is open and a row is sent (`wait_for_copy`), or at once (before the CopyInResponse).
async fn copy_and_query(client: &Client, table: &str, wait_for_copy: bool) {
    client
        .simple_query(&format!("create table {table} (v int8)"))
        .await
        .unwrap();
    let opened = Cell::new(false);
    let copy = async {
        let mut copy = client
            .copy_in(&format!("copy {table} from stdin"))
            .await
            .unwrap();
        for i in 0..ROWS {
            copy.send(format!("{i}\n")).await.unwrap();
            if i == 0 {
                opened.set(true);
                // Let the other task submit its query while the COPY is open.
                yield_now().await;
            }
        }
        copy.finish().await.unwrap()
    };
    let query = async {
        while wait_for_copy && !opened.get() {
            yield_now().await;
        }
        client.query_one("select 42::int4", &[]).await.unwrap()
    };
    let (copied, row) = zip(copy, query).await;
    assert_eq!(copied, ROWS);
    assert_eq!(row.get::<i32, _>(0usize).unwrap(), 42);
    let count = client
        .query_one(&format!("select count(*), sum(v)::int8 from {table}"), &[])
        .await
        .unwrap();
    assert_eq!(count.get::<i64, _>(0usize).unwrap() as u64, ROWS);
    assert_eq!(
        count.get::<i64, _>(1usize).unwrap() as u64,
        ROWS * (ROWS - 1) / 2
    );
}

async fn run(version: PgVersion) {
    let (_pg, info) = PgCluster::start_trust(version);
    let client = adapter::connect(&info).await.unwrap();
    copy_and_query(&client, "during_copy", true).await;
    copy_and_query(&client, "before_copy_response", false).await;
    // The connection is still in sync.
    let rows = client.simple_query("select 1; select 2").await.unwrap();
    assert_eq!(rows.len(), 2);
    client.close().await.unwrap();
}

conformance_test! {
    fn copy_while_querying_pg15() {
        run(PgVersion::V15).await;
    }
}

conformance_test! {
    fn copy_while_querying_pg18() {
        run(PgVersion::V18).await;
    }
}
