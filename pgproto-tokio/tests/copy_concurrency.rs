//! One client shared by two tasks: one runs COPY FROM STDIN while the other queries.
//! The query waits in the core until the COPY ends (its bytes inside the COPY stream
//! would make PostgreSQL end the connection with 08P01), against PostgreSQL 15 and 18.
//! Both orders: the query submitted while the COPY is open, and before the server's
//! CopyInResponse has arrived.

use pgproto_tests::harness::{HbaMethod, PgCluster, PgVersion};
use pgproto_tokio::Client;

const ROWS: u64 = 2_000;

/// Task 1 copies `ROWS` rows into `table`; task 2 runs `select 42` either once the COPY
/// is open and a row is sent (`wait_for_copy`), or at once (before the CopyInResponse).
async fn copy_and_query(client: &Client, table: &str, wait_for_copy: bool) {
    client
        .simple_query(&format!("create table {table} (v int8)"))
        .await
        .unwrap();
    let (opened, open) = tokio::sync::oneshot::channel::<()>();
    let copy = async {
        let mut copy = client
            .copy_in(&format!("copy {table} from stdin"))
            .await
            .unwrap();
        let mut opened = Some(opened);
        for i in 0..ROWS {
            copy.send(format!("{i}\n")).await.unwrap();
            if let Some(tx) = opened.take() {
                let _ = tx.send(());
                // Let the other task submit its query while the COPY is open.
                tokio::task::yield_now().await;
            }
        }
        copy.finish().await.unwrap()
    };
    let query = async {
        if wait_for_copy {
            open.await.unwrap();
        }
        client.query_one("select 42::int4", &[]).await.unwrap()
    };
    let (copied, row) = tokio::join!(copy, query);
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
    let pg = PgCluster::builder()
        .version(version)
        .auth(HbaMethod::Trust)
        .start()
        .unwrap();
    let info = format!(
        "{} sslmode=disable",
        pg.connection_string(pg.superuser(), None)
    );
    let client = Client::connect(&info).await.unwrap();
    copy_and_query(&client, "during_copy", true).await;
    copy_and_query(&client, "before_copy_response", false).await;
    // The connection is still in sync.
    let rows = client.simple_query("select 1; select 2").await.unwrap();
    assert_eq!(rows.len(), 2);
    client.close().await.unwrap();
}

#[tokio::test]
async fn pg15() {
    run(PgVersion::V15).await;
}

#[tokio::test]
async fn pg18() {
    run(PgVersion::V18).await;
}
