//! What only the async clients do: concurrent calls on one connection pipelined
//! automatically, and a cancel request sent while the same task awaits the query.

use std::future::Future;
use std::time::{Duration, Instant};

use pgproto_core::sqlstate::SqlState;
use pgproto_tests::harness::{PgCluster, PgVersion};

use crate::adapter;

/// Joins futures concurrently on the current task (no extra dependency).
pub(crate) async fn join_all<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set: Vec<_> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.unwrap()).collect()
}

/// Polls both futures on the current task until both are ready.
pub(crate) async fn zip<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    use std::task::Poll;
    let (mut a, mut b) = (Box::pin(a), Box::pin(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (ra.unwrap(), rb.unwrap())
}

/// Lets the other futures of the task (and of the executor) run once.
pub(crate) async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
}

async fn pipelined(version: PgVersion) {
    let (_pg, url) = PgCluster::start_scram_app(version);
    let client = adapter::connect(&url).await.unwrap();

    // 200 concurrent queries on one connection: pipelined, each answered correctly, one
    // failure in the middle affects only its caller.
    let futures = (0..200).map(|i| {
        let client = &client;
        async move {
            if i == 100 {
                return client
                    .query_text("select 1/0", &[])
                    .await
                    .err()
                    .map(|e| e.to_string());
            }
            let n = i.to_string();
            let rows = client
                .query_text("select $1::int * 2", &[Some(&n)])
                .await
                .unwrap();
            let got = rows[0].raw(0usize).unwrap().unwrap().to_vec();
            assert_eq!(String::from_utf8(got).unwrap(), (i * 2).to_string());
            None
        }
    });
    let results = join_all(futures).await;
    let errors: Vec<_> = results.into_iter().flatten().collect();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("22012"), "{errors:?}");

    // A large pipeline of large requests and results (20 MB each way, more than the
    // socket buffers hold): the connection must read while it writes, else both peers
    // block on a full socket.
    let big = "x".repeat(500_000);
    let params = [Some(big.as_str())];
    let futures = (0..40).map(|_| client.query_text("select $1::text", &params));
    for rows in join_all(futures).await {
        assert_eq!(
            rows.unwrap()[0].raw(0usize).unwrap().unwrap().len(),
            500_000
        );
    }

    // A prepared statement shared by concurrent callers.
    let st = client.prepare("select $1::int4 * 3").await.unwrap();
    let calls = (0..64).map(|i| {
        let (client, st) = (&client, &st);
        async move {
            let rows = client.query_prepared(st, &[&i]).await.unwrap();
            assert_eq!(rows[0].get::<i32, _>(0usize).unwrap(), i * 3);
            None::<String>
        }
    });
    assert!(join_all(calls).await.iter().all(Option::is_none));

    // Cancelling pg_sleep from the task that awaits it.
    let started = Instant::now();
    let slept_and_cancelled = join_all(
        [
            Box::pin(async { client.simple_query("select pg_sleep(30)").await.err() })
                as std::pin::Pin<Box<dyn Future<Output = Option<adapter::Error>>>>,
            Box::pin(async {
                adapter::sleep(Duration::from_millis(300)).await;
                client.cancel().await.unwrap();
                None
            }),
        ]
        .into_iter(),
    )
    .await;
    let err = slept_and_cancelled[0].as_ref().expect("pg_sleep was cancelled");
    assert_eq!(err.as_db_error().unwrap().code, SqlState::QueryCanceled);
    assert!(started.elapsed() < Duration::from_secs(10));
    client.close().await.unwrap();
}

conformance_test! {
    fn pipelined_pg15() {
        pipelined(PgVersion::V15).await;
    }
}

conformance_test! {
    fn pipelined_pg18() {
        pipelined(PgVersion::V18).await;
    }
}
