//! One client shared by two tasks under async-std and smol: one runs COPY FROM STDIN
//! while the other queries. The query waits in the core until the COPY ends, both when
//! it is submitted while the COPY is open and before the CopyInResponse has arrived,
//! against PostgreSQL 15 and 18.

mod common;

use std::time::Duration;

use common::BOTH;
use pgproto_asyncstd::Client;
use pgproto_tests::harness::{HbaMethod, PgCluster, PgVersion};

const ROWS: u64 = 2_000;
const LIMIT: Duration = Duration::from_secs(120);

async fn copy_and_query(client: &Client, table: &str, wait_for_copy: bool) {
    client
        .simple_query(&format!("create table {table} (v int8)"))
        .await
        .unwrap();
    let (opened, open) = async_channel::bounded::<()>(1);
    let copy = async {
        let mut copy = client
            .copy_in(&format!("copy {table} from stdin"))
            .await
            .unwrap();
        for i in 0..ROWS {
            copy.send(format!("{i}\n")).await.unwrap();
            if i == 0 {
                let _ = opened.send(()).await;
                // Let the other task submit its query while the COPY is open.
                futures_lite::future::yield_now().await;
            }
        }
        copy.finish().await.unwrap()
    };
    let query = async {
        if wait_for_copy {
            open.recv().await.unwrap();
        }
        client.query_one("select 42::int4", &[]).await.unwrap()
    };
    let (copied, row) = futures_lite::future::zip(copy, query).await;
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
    for exec in BOTH {
        exec.block_on(LIMIT, async {
            let (client, connection) = exec.connect(&info).await.unwrap();
            let prefix = format!("{exec:?}").to_lowercase();
            copy_and_query(&client, &format!("{prefix}_during_copy"), true).await;
            copy_and_query(&client, &format!("{prefix}_before_response"), false).await;
            let sets = client.simple_query("select 1; select 2").await.unwrap();
            assert_eq!(sets.len(), 2);
            client.close().await.unwrap();
            connection.await.unwrap();
        });
    }
}

#[test]
fn pg15() {
    run(PgVersion::V15);
}

#[test]
fn pg18() {
    run(PgVersion::V18);
}
