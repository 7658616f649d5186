//! COPY and streamed rows against PostgreSQL 15 and 18, in bounded memory: COPY in
//! (text in uneven chunks, CSV with quoting), an aborted and an abandoned COPY leave no
//! rows, bad data fails with the server's error (also when it arrives while rows are
//! still being sent), COPY out with a checksum and far larger than its buffering allows
//! (read slowly at first), rows streamed likewise, an error in the middle of a row
//! stream, a stream dropped early. And, for the async clients, transactions with
//! savepoints and options.

use std::time::Duration;

use pgproto_core::sqlstate::SqlState;
use pgproto_tests::harness::{PgCluster, PgVersion};
use pgproto_tests::pool_check::peak_rss_kib;

use crate::adapter::{self, Client};

/// Growth of the peak RSS allowed while reading a result that, buffered whole, would
/// take over 100 MB.
const BOUNDED_KIB: u64 = 40 * 1024;

maybe_async! {
    fn copy_in(client: &mut Client) {
        aw!(client.simple_query(
            "create table items (id int8 primary key, name text, price numeric)"
        ))
        .unwrap();

        // Text format, 100,000 rows in uneven chunks.
        let mut copy = aw!(client.copy_in("copy items from stdin")).unwrap();
        let mut chunk = String::new();
        for i in 1..=100_000u64 {
            chunk.push_str(&format!("{i}\titem {i}\t{}.{:02}\n", i % 1000, i % 100));
            if chunk.len() > 7_000 {
                aw!(copy.send(adapter::copy_data(chunk.as_bytes()))).unwrap();
                chunk.clear();
            }
        }
        aw!(copy.send(adapter::copy_data(chunk.as_bytes()))).unwrap();
        assert_eq!(aw!(copy.finish()).unwrap(), 100_000);
        let sum = aw!(client.query_one("select sum(id)::int8 from items", &[])).unwrap();
        assert_eq!(sum.get::<i64, _>(0usize).unwrap(), 100_000 * 100_001 / 2);

        // CSV with quoting.
        let mut copy = aw!(client.copy_in("copy items from stdin (format csv)")).unwrap();
        aw!(copy.send(adapter::copy_data(
            b"200001,\"a, b\",1.5\n200002,\"quote \"\" here\",2\n"
        )))
        .unwrap();
        assert_eq!(aw!(copy.finish()).unwrap(), 2);
        let row = aw!(client.query_one("select name from items where id = 200002", &[])).unwrap();
        assert_eq!(row.get::<String, _>(0usize).unwrap(), "quote \" here");

        // Aborted (CopyFail) and abandoned (dropped) COPYs leave no rows; the connection
        // goes on.
        let mut copy = aw!(client.copy_in("copy items from stdin")).unwrap();
        aw!(copy.send(adapter::copy_data(b"300001\tx\t1\n300002\ty\t2\n"))).unwrap();
        let err = aw!(copy.abort("changed my mind")).unwrap();
        assert_eq!(err.code, SqlState::QueryCanceled);
        assert!(err.message.contains("changed my mind"), "{}", err.message);
        {
            let mut copy = aw!(client.copy_in("copy items from stdin")).unwrap();
            aw!(copy.send(adapter::copy_data(b"300003\tz\t3\n"))).unwrap();
        }
        let n = aw!(client.query_one("select count(*) from items where id > 300000", &[]))
            .unwrap();
        assert_eq!(n.get::<i64, _>(0usize).unwrap(), 0);

        // Bad data: the server's error.
        let mut copy = aw!(client.copy_in("copy items from stdin")).unwrap();
        aw!(copy.send(adapter::copy_data(b"not-a-number\tx\t1\n"))).unwrap();
        let err = aw!(copy.finish()).unwrap_err();
        assert_eq!(
            err.as_db_error().unwrap().code,
            SqlState::InvalidTextRepresentation
        );
        // The same, with the next step taken after the server's error arrived: that step
        // reports the server's error. (The async clients read while the caller sends; the
        // blocking client's `send` only writes.)
        async_only! {
            let mut copy = aw!(client.copy_in("copy items from stdin")).unwrap();
            aw!(copy.send(adapter::copy_data(b"not-a-number\tx\t1\n"))).unwrap();
            let mut tries = 0;
            let err = loop {
                tries += 1;
                assert!(tries < 500, "the server never ended the COPY");
                aw!(adapter::sleep(Duration::from_millis(20)));
                if let Err(e) = aw!(copy.send(adapter::copy_data(b"1\tx\t1\n"))) {
                    break e;
                }
            };
            assert_eq!(
                err.as_db_error().unwrap().code,
                SqlState::InvalidTextRepresentation
            );
            drop(copy);
        }

        // Not a COPY, and a COPY that fails to start.
        assert!(aw!(client.copy_in("select 1")).is_err());
        let err = aw!(client.copy_out("copy no_such_table to stdout")).unwrap_err();
        assert_eq!(err.as_db_error().unwrap().code, SqlState::UndefinedTable);
    }
}

maybe_async! {
    fn copy_out(client: &mut Client) {
        // Every row back, checksum matches.
        let mut out =
            aw!(client.copy_out("copy (select id from items order by id) to stdout")).unwrap();
        let (mut rows, mut sum) = (0u64, 0u64);
        while let Some(chunk) = aw!(out.next()) {
            for line in std::str::from_utf8(&chunk.unwrap()).unwrap().lines() {
                rows += 1;
                sum += line.parse::<u64>().unwrap();
            }
        }
        assert_eq!(rows, 100_002);
        assert_eq!(out.rows(), Some(100_002));
        assert_eq!(sum, 100_000 * 100_001 / 2 + 200_001 + 200_002);
        drop(out);

        // Far larger than its buffering allows, read slowly at first: the connection
        // stops reading, memory stays bounded.
        let before = peak_rss_kib();
        let mut out = aw!(client.copy_out(
            "copy (select g, repeat('x', 100) from generate_series(1, 1000000) g) to stdout"
        ))
        .unwrap();
        aw!(adapter::sleep(Duration::from_millis(300)));
        let mut rows = 0u64;
        while let Some(chunk) = aw!(out.next()) {
            rows += chunk.unwrap().iter().filter(|b| **b == b'\n').count() as u64;
        }
        assert_eq!(rows, 1_000_000);
        drop(out);
        let grown = peak_rss_kib().saturating_sub(before);
        assert!(grown < BOUNDED_KIB, "peak memory grew by {grown} KiB during COPY out");
    }
}

maybe_async! {
    fn copy(version: PgVersion) {
        let (_pg, info) = PgCluster::start_trust(version);
        let mut client = aw!(adapter::connect(&info)).unwrap();
        aw!(copy_in(&mut client));
        aw!(copy_out(&mut client));
        aw!(client.close()).unwrap();
    }
}

conformance_test! {
    fn copy_pg15() {
        aw!(copy(PgVersion::V15));
    }
}

conformance_test! {
    fn copy_pg18() {
        aw!(copy(PgVersion::V18));
    }
}

maybe_async! {
    /// Rows as they arrive, typed: a result far larger than buffering allows, read slowly
    /// at first, in bounded memory; an error ends the stream after the rows before it; a
    /// stream dropped early; the client goes on after each.
    fn row_stream(version: PgVersion) {
        let (_pg, info) = PgCluster::start_trust(version);
        let mut client = aw!(adapter::connect(&info)).unwrap();
        let before = peak_rss_kib();
        let mut rows = aw!(client.query_stream(
            "select g, repeat('x', 100) as pad from generate_series(1, $1::int4) g",
            &[&1_000_000i32],
        ))
        .unwrap();
        aw!(adapter::sleep(Duration::from_millis(300)));
        let (mut count, mut sum) = (0u64, 0i64);
        while let Some(row) = aw!(rows.next()) {
            let row = row.unwrap();
            sum += i64::from(row.get::<i32, _>("g").unwrap());
            assert_eq!(row.get::<&str, _>("pad").unwrap().len(), 100);
            count += 1;
        }
        assert_eq!(count, 1_000_000);
        assert_eq!(sum, 1_000_000 * 1_000_001 / 2);
        drop(rows);
        let grown = peak_rss_kib().saturating_sub(before);
        assert!(grown < BOUNDED_KIB, "peak memory grew by {grown} KiB during the row stream");

        // Division by zero at the fifth row: four rows, then the error, then the end.
        let mut rows = aw!(client.query_stream(
            "select 10 / (5 - g) from generate_series(1, 10) g",
            &[]
        ))
        .unwrap();
        let mut got = Vec::new();
        let err = loop {
            match aw!(rows.next()) {
                Some(Ok(row)) => got.push(row.get::<i32, _>(0usize).unwrap()),
                Some(Err(e)) => break e,
                None => panic!("the stream ended without the error"),
            }
        };
        assert_eq!(got, [2, 3, 5, 10]);
        assert_eq!(err.as_db_error().map(|e| e.code), Some(SqlState::DivisionByZero));
        assert!(aw!(rows.next()).is_none());
        drop(rows);
        let row = aw!(client.query_one("select 1 + 1 as n", &[])).unwrap();
        assert_eq!(row.get::<i32, _>("n").unwrap(), 2);

        // Dropped after three rows: the rest is skipped, the connection goes on.
        let mut rows =
            aw!(client.query_stream("select g from generate_series(1, 100000) g", &[])).unwrap();
        let mut first = Vec::new();
        for _ in 0..3 {
            first.push(aw!(rows.next()).unwrap().unwrap().get::<i32, _>(0usize).unwrap());
        }
        drop(rows);
        assert_eq!(first, [1, 2, 3]);
        let row = aw!(client.query_one("select 42::int4", &[])).unwrap();
        assert_eq!(row.get::<i32, _>(0usize).unwrap(), 42);
        aw!(client.close()).unwrap();
    }
}

conformance_test! {
    fn row_stream_pg15() {
        aw!(row_stream(PgVersion::V15));
    }
}

conformance_test! {
    fn row_stream_pg18() {
        aw!(row_stream(PgVersion::V18));
    }
}

async_only! {
    use pgproto_core::message::TransactionStatus;

    use crate::adapter::{IsolationLevel, TransactionOptions};

    /// Commit, rollback, rollback on drop, savepoints (one failed and rolled back while
    /// the outer transaction goes on), and options; the status follows.
    async fn transactions(version: PgVersion) {
        let (_pg, info) = PgCluster::start_trust(version);
        let client = adapter::connect(&info).await.unwrap();
        client.simple_query("create table t (v int4)").await.unwrap();
        let tx = client.transaction().await.unwrap();
        tx.execute("insert into t values (1)", &[]).await.unwrap();
        assert_eq!(client.transaction_status(), TransactionStatus::InTransaction);
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
        inner.execute("insert into t values (5)", &[]).await.unwrap();
        inner.rollback().await.unwrap();
        let inner = tx.transaction().await.unwrap();
        inner.execute("insert into t values (6)", &[]).await.unwrap();
        inner.commit().await.unwrap();
        // A failed statement inside a savepoint, rolled back: the outer one goes on.
        let inner = tx.transaction().await.unwrap();
        assert!(inner.execute("select 1/0", &[]).await.is_err());
        assert_eq!(client.transaction_status(), TransactionStatus::Failed);
        inner.rollback().await.unwrap();
        tx.commit().await.unwrap();
        let rows = client.query("select v from t order by v", &[]).await.unwrap();
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
        let level = ro.query_one("show transaction_isolation", &[]).await.unwrap();
        assert_eq!(level.get::<String, _>(0usize).unwrap(), "serializable");
        let err = ro.execute("insert into t values (7)", &[]).await.unwrap_err();
        assert_eq!(err.as_db_error().unwrap().code, SqlState::ReadOnlySqlTransaction);
        ro.rollback().await.unwrap();
        client.close().await.unwrap();
    }

    conformance_test! {
        fn transactions_pg15() {
            transactions(PgVersion::V15).await;
        }
    }

    conformance_test! {
        fn transactions_pg18() {
            transactions(PgVersion::V18).await;
        }
    }
}
