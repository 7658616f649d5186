//! COPY, transactions and the deadpool manager of the futures-io client against
//! PostgreSQL 15 and 18, under async-std and under smol: COPY in (text, CSV), an
//! aborted and an abandoned COPY leave no rows, COPY out with a checksum in bounded
//! memory, rows streamed in bounded memory, transactions with savepoints and options,
//! and a pool whose connections are killed while 32 tasks use it.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Exec, BOTH};
use pgproto_asyncstd::pool::{Manager, Pool};
use pgproto_asyncstd::{IsolationLevel, TransactionOptions};
use pgproto_core::message::TransactionStatus;
use pgproto_core::sqlstate::SqlState;
use pgproto_tests::harness::{PgCluster, PgVersion};
use pgproto_tests::pool_check::{self, peak_rss_kib, MIN_KILLS, REQUEST, REQUESTS};

const LIMIT: Duration = Duration::from_secs(180);

async fn copy(info: &str, exec: Exec) {
    let (client, conn) = exec.connect(info).await.unwrap();
    client
        .simple_query("drop table if exists items; create table items (id int8 primary key, name text, price numeric)")
        .await
        .unwrap();

    // Text format, 100,000 rows in uneven chunks.
    let mut copy = client.copy_in("copy items from stdin").await.unwrap();
    let mut chunk = String::new();
    for i in 1..=100_000u64 {
        chunk.push_str(&format!("{i}\titem {i}\t{}.{:02}\n", i % 1000, i % 100));
        if chunk.len() > 7_000 {
            copy.send(std::mem::take(&mut chunk)).await.unwrap();
        }
    }
    copy.send(chunk).await.unwrap();
    assert_eq!(copy.finish().await.unwrap(), 100_000);
    let sum = client
        .query_one("select sum(id)::int8 from items", &[])
        .await
        .unwrap();
    assert_eq!(sum.get::<i64, _>(0usize).unwrap(), 100_000 * 100_001 / 2);

    // CSV with quoting.
    let mut copy = client
        .copy_in("copy items from stdin (format csv)")
        .await
        .unwrap();
    copy.send("200001,\"a, b\",1.5\n200002,\"quote \"\" here\",2\n")
        .await
        .unwrap();
    assert_eq!(copy.finish().await.unwrap(), 2);
    let row = client
        .query_one("select name from items where id = 200002", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>(0usize).unwrap(), "quote \" here");

    // Aborted (CopyFail) and abandoned (dropped) COPYs leave no rows; the connection
    // goes on.
    let mut copy = client.copy_in("copy items from stdin").await.unwrap();
    copy.send("300001\tx\t1\n300002\ty\t2\n").await.unwrap();
    let err = copy.abort("changed my mind").await.unwrap();
    assert_eq!(err.code, SqlState::QueryCanceled);
    assert!(err.message.contains("changed my mind"), "{}", err.message);
    {
        let mut copy = client.copy_in("copy items from stdin").await.unwrap();
        copy.send("300003\tz\t3\n").await.unwrap();
    }
    let n = client
        .query_one("select count(*) from items where id > 300000", &[])
        .await
        .unwrap();
    assert_eq!(n.get::<i64, _>(0usize).unwrap(), 0);
    // Bad data: the server's error.
    let mut copy = client.copy_in("copy items from stdin").await.unwrap();
    copy.send("not-a-number\tx\t1\n").await.unwrap();
    let err = copy.finish().await.unwrap_err();
    assert_eq!(
        err.as_db_error().unwrap().code,
        SqlState::InvalidTextRepresentation
    );
    // The same, with the next step taken after the server's error arrived: that step
    // reports the server's error.
    let mut copy = client.copy_in("copy items from stdin").await.unwrap();
    copy.send("not-a-number\tx\t1\n").await.unwrap();
    let mut tries = 0;
    let err = loop {
        tries += 1;
        assert!(tries < 500, "the server never ended the COPY");
        async_io::Timer::after(Duration::from_millis(20)).await;
        if let Err(e) = copy.send("1\tx\t1\n").await {
            break e;
        }
    };
    assert_eq!(
        err.as_db_error().unwrap().code,
        SqlState::InvalidTextRepresentation
    );
    drop(copy);
    // Not a COPY, and a COPY that fails to start.
    assert!(client.copy_in("select 1").await.is_err());
    let err = client
        .copy_out("copy no_such_table to stdout")
        .await
        .unwrap_err();
    assert_eq!(err.as_db_error().unwrap().code, SqlState::UndefinedTable);

    // COPY TO STDOUT: every row back, checksum matches.
    let mut out = client
        .copy_out("copy (select id from items order by id) to stdout")
        .await
        .unwrap();
    let (mut rows, mut sum) = (0u64, 0u64);
    while let Some(chunk) = out.next().await {
        for line in std::str::from_utf8(&chunk.unwrap()).unwrap().lines() {
            rows += 1;
            sum += line.parse::<u64>().unwrap();
        }
    }
    assert_eq!(rows, 100_002);
    assert_eq!(out.rows(), Some(100_002));
    assert_eq!(sum, 100_000 * 100_001 / 2 + 200_001 + 200_002);

    // A COPY out far larger than its buffering allows, read slowly at first: the
    // connection stops reading, memory stays bounded.
    let before = peak_rss_kib();
    let mut out = client
        .copy_out("copy (select g, repeat('x', 100) from generate_series(1, 1000000) g) to stdout")
        .await
        .unwrap();
    async_io::Timer::after(Duration::from_millis(300)).await;
    let mut rows = 0u64;
    // Read through the `Stream` implementation.
    while let Some(chunk) = futures_lite::StreamExt::next(&mut out).await {
        rows += chunk.unwrap().iter().filter(|b| **b == b'\n').count() as u64;
    }
    assert_eq!(rows, 1_000_000);
    let grown = peak_rss_kib().saturating_sub(before);
    // Buffered whole it would take over 100 MB.
    assert!(
        grown < 40 * 1024,
        "peak memory grew by {grown} KiB during COPY out"
    );
    client.close().await.unwrap();
    conn.await.unwrap();
}

/// `query_stream`: rows as they arrive, typed; a result far larger than buffering
/// allows, read slowly at first, in bounded memory; an error ends the stream after the
/// rows before it; the client goes on afterwards.
async fn row_stream(info: &str, exec: Exec) {
    let (client, conn) = exec.connect(info).await.unwrap();
    let before = peak_rss_kib();
    let mut rows = client
        .query_stream(
            "select g, repeat('x', 100) as pad from generate_series(1, $1::int4) g",
            &[&1_000_000i32],
        )
        .await
        .unwrap();
    async_io::Timer::after(Duration::from_millis(300)).await;
    let (mut count, mut sum) = (0u64, 0i64);
    while let Some(row) = futures_lite::StreamExt::next(&mut rows).await {
        let row = row.unwrap();
        sum += i64::from(row.get::<i32, _>("g").unwrap());
        assert_eq!(row.get::<&str, _>("pad").unwrap().len(), 100);
        count += 1;
    }
    assert_eq!(count, 1_000_000);
    assert_eq!(sum, 1_000_000 * 1_000_001 / 2);
    let grown = peak_rss_kib().saturating_sub(before);
    // Buffered whole it would take over 100 MB.
    assert!(
        grown < 40 * 1024,
        "peak memory grew by {grown} KiB during the row stream"
    );

    // Division by zero at the fifth row: four rows, then the error.
    let mut rows = client
        .query_stream("select 10 / (5 - g) from generate_series(1, 10) g", &[])
        .await
        .unwrap();
    let mut got = Vec::new();
    let err = loop {
        match rows.next().await {
            Some(Ok(row)) => got.push(row.get::<i32, _>(0).unwrap()),
            Some(Err(e)) => break e,
            None => panic!("the stream ended without the error"),
        }
    };
    assert_eq!(got, [2, 3, 5, 10]);
    assert_eq!(
        err.as_db_error().map(|e| e.code),
        Some(SqlState::DivisionByZero)
    );
    assert!(rows.next().await.is_none());
    let row = client.query_one("select 1 + 1 as n", &[]).await.unwrap();
    assert_eq!(row.get::<i32, _>("n").unwrap(), 2);
    client.close().await.unwrap();
    conn.await.unwrap();
}

async fn transactions(info: &str, exec: Exec) {
    let (client, conn) = exec.connect(info).await.unwrap();
    client
        .simple_query("drop table if exists t; create table t (v int4)")
        .await
        .unwrap();
    let tx = client.transaction().await.unwrap();
    tx.execute("insert into t values (1)", &[]).await.unwrap();
    assert_eq!(
        client.transaction_status(),
        TransactionStatus::InTransaction
    );
    tx.commit().await.unwrap();
    let tx = client.transaction().await.unwrap();
    tx.execute("insert into t values (2)", &[]).await.unwrap();
    tx.rollback().await.unwrap();
    {
        let tx = client.transaction().await.unwrap();
        tx.execute("insert into t values (3)", &[]).await.unwrap();
        // Dropped without commit: rolled back before the next request.
    }
    let tx = client.transaction().await.unwrap();
    tx.execute("insert into t values (4)", &[]).await.unwrap();
    let inner = tx.transaction().await.unwrap();
    inner
        .execute("insert into t values (5)", &[])
        .await
        .unwrap();
    inner.rollback().await.unwrap();
    let inner = tx.transaction().await.unwrap();
    inner
        .execute("insert into t values (6)", &[])
        .await
        .unwrap();
    inner.commit().await.unwrap();
    // A failed statement inside a savepoint, rolled back: the outer one goes on.
    let inner = tx.transaction().await.unwrap();
    assert!(inner.execute("select 1/0", &[]).await.is_err());
    assert_eq!(client.transaction_status(), TransactionStatus::Failed);
    inner.rollback().await.unwrap();
    tx.commit().await.unwrap();
    let rows = client
        .query("select v from t order by v", &[])
        .await
        .unwrap();
    let values: Vec<i32> = rows.iter().map(|r| r.get(0usize).unwrap()).collect();
    assert_eq!(values, [1, 4, 6]);
    assert_eq!(client.transaction_status(), TransactionStatus::Idle);

    let ro = client
        .build_transaction(TransactionOptions {
            isolation: Some(IsolationLevel::Serializable),
            read_only: Some(true),
            deferrable: None,
        })
        .await
        .unwrap();
    let level = ro
        .query_one("show transaction_isolation", &[])
        .await
        .unwrap();
    assert_eq!(level.get::<String, _>(0usize).unwrap(), "serializable");
    let err = ro
        .execute("insert into t values (7)", &[])
        .await
        .unwrap_err();
    assert_eq!(
        err.as_db_error().unwrap().code,
        SqlState::ReadOnlySqlTransaction
    );
    ro.rollback().await.unwrap();
    client.close().await.unwrap();
    conn.await.unwrap();
}

/// 32 tasks on a pool of 8 while another connection kills pool connections: every
/// request is done once, with the right answer; failed ones (their connection died)
/// are retried on another connection.
async fn pool(info: &str, exec: Exec) {
    const TASKS: i64 = 32;
    const POOL_SIZE: usize = 8;
    let info = format!("{info} application_name=pooltest");
    let (admin, admin_conn) = exec
        .connect(&info.replace("pooltest", "admin"))
        .await
        .unwrap();
    admin
        .simple_query("drop table if exists hits")
        .await
        .unwrap();
    admin.simple_query(pool_check::CREATE).await.unwrap();
    let manager = Manager::new(info.clone(), move |connection| {
        exec.spawn_detached(connection)
    });
    let pool = Pool::builder(manager).max_size(POOL_SIZE).build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let killed = Arc::new(AtomicU64::new(0));
    let killer = {
        let (stop, killed) = (stop.clone(), killed.clone());
        let (killer, killer_conn) = exec
            .connect(&info.replace("pooltest", "killer"))
            .await
            .unwrap();
        async move {
            while !stop.load(Ordering::Relaxed) {
                let rows = killer.query(pool_check::KILL, &[]).await.unwrap();
                let n = rows
                    .iter()
                    .filter(|r| r.get::<bool, _>(0usize).unwrap())
                    .count() as u64;
                killed.fetch_add(n, Ordering::Relaxed);
                async_io::Timer::after(Duration::from_millis(25)).await;
            }
            killer.close().await.unwrap();
            killer_conn.await.unwrap();
        }
    };
    let killer = exec.spawn_any(killer);
    let retries = Arc::new(AtomicU64::new(0));
    let pids = Arc::new(Mutex::new(HashSet::new()));
    let mut workers = Vec::new();
    for task in 0..TASKS {
        let (pool, retries, pids) = (pool.clone(), retries.clone(), pids.clone());
        let killed = killed.clone();
        workers.push(exec.spawn_any(async move {
            let mut seq = 0;
            while seq < REQUESTS || killed.load(Ordering::Relaxed) < MIN_KILLS {
                assert!(seq < 100_000, "the killer never struck");
                let mut attempts = 0;
                loop {
                    attempts += 1;
                    assert!(attempts <= 100, "request {task}/{seq} never succeeded");
                    let client = match pool.get().await {
                        Ok(c) => c,
                        Err(deadpool::managed::PoolError::Backend(e)) if e.is_connection_lost() => {
                            continue
                        }
                        Err(e) => panic!("checkout failed: {e}"),
                    };
                    let result = client.query_one(REQUEST, &[&task, &seq]).await;
                    match result {
                        Ok(row) => {
                            assert_eq!(row.get::<i64, _>(0usize).unwrap(), task * 1000 + seq);
                            pids.lock()
                                .unwrap()
                                .insert(row.get::<i32, _>(1usize).unwrap());
                            break;
                        }
                        Err(e) if e.is_connection_lost() => {
                            retries.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => panic!("request {task}/{seq} failed: {e}"),
                    }
                }
                seq += 1;
            }
            seq
        }));
    }
    let mut done = Vec::new();
    for w in workers {
        done.push(w.await);
    }
    stop.store(true, Ordering::Relaxed);
    killer.await;
    let killed = killed.load(Ordering::Relaxed);
    let row = admin.query_one(pool_check::VERIFY, &[]).await.unwrap();
    let got: (i64, i64, i64) = (
        row.get(0usize).unwrap(),
        row.get(1usize).unwrap(),
        row.get(2usize).unwrap(),
    );
    assert_eq!(got, pool_check::expected(&done));
    let pids = pids.lock().unwrap().len();
    eprintln!(
        "{exec:?}: killed {killed} connections, {} retried requests, {pids} backends served",
        retries.load(Ordering::Relaxed)
    );
    assert!(killed >= MIN_KILLS, "the killer struck {killed} times");
    assert!(pids > POOL_SIZE, "only {pids} backends served the requests");
    pool.close();
    admin.close().await.unwrap();
    admin_conn.await.unwrap();
}

fn run(version: PgVersion) {
    let (_pg, info) = PgCluster::start_trust(version);
    for exec in BOTH {
        exec.block_on(LIMIT, async {
            copy(&info, exec).await;
            row_stream(&info, exec).await;
            transactions(&info, exec).await;
            pool(&info, exec).await;
        });
    }
}

#[test]
fn copy_pg15() {
    run(PgVersion::V15);
}

#[test]
fn copy_pg18() {
    run(PgVersion::V18);
}
