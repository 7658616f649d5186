//! The tokio client against real PostgreSQL 15 and 18: queries, pipelining, errors,
//! notifications.

use pgproto_core::sqlstate::SqlState;
use pgproto_tests::harness::{HbaMethod, PasswordEncryption, PgCluster, PgVersion};
use pgproto_tokio::Client;

async fn run(version: PgVersion) {
    let pg = PgCluster::builder()
        .version(version)
        .auth(HbaMethod::ScramSha256)
        .start()
        .unwrap();
    pg.create_role("app", "pw", PasswordEncryption::ScramSha256)
        .unwrap();
    let url = format!("{}?sslmode=disable", pg.connection_url("app", Some("pw")));
    let client = Client::connect(&url).await.unwrap();
    assert!(client.parameter("server_version").is_some());

    let sets = client
        .simple_query("select 1 as a; select 'x' as b")
        .await
        .unwrap();
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[1].rows[0].raw("b"), Some(Some(&b"x"[..])));

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
    let results = futures_join_all(futures).await;
    let errors: Vec<_> = results.into_iter().flatten().collect();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("22012"), "{errors:?}");

    let err = client
        .simple_query("select * from missing")
        .await
        .unwrap_err();
    assert_eq!(err.as_db_error().unwrap().code, SqlState::UndefinedTable);

    client.simple_query("begin").await.unwrap();
    assert_eq!(
        client.transaction_status(),
        pgproto_core::message::TransactionStatus::InTransaction
    );
    client.simple_query("rollback").await.unwrap();

    // Typed API: parameters from Rust values, rows read by name, prepared statements
    // shared by concurrent callers.
    let row = client
        .query_one("select $1::int8 + 1 as n, $2::text as t", &[&41i64, &"x"])
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>("n").unwrap(), 42);
    assert_eq!(row.get::<String, _>("t").unwrap(), "x");
    let st = client.prepare("select $1::int4 * 3").await.unwrap();
    let calls = (0..64).map(|i| {
        let (client, st) = (&client, &st);
        async move {
            let rows = client.query_prepared(st, &[&i]).await.unwrap();
            assert_eq!(rows[0].get::<i32, _>(0usize).unwrap(), i * 3);
            None::<String>
        }
    });
    assert!(futures_join_all(calls).await.iter().all(Option::is_none));
    client
        .execute("create temporary table t (id int8, name text)", &[])
        .await
        .unwrap();
    let n = client
        .execute(
            "insert into t values ($1, $2), ($3, $4)",
            &[&1i64, &"a", &2i64, &None::<String>],
        )
        .await
        .unwrap();
    assert_eq!(n, 2);

    // Cancelling pg_sleep.
    let started = std::time::Instant::now();
    let (slept, cancelled) = tokio::join!(client.simple_query("select pg_sleep(30)"), async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        client.cancel().await
    });
    cancelled.unwrap();
    assert_eq!(
        slept.unwrap_err().as_db_error().unwrap().code,
        SqlState::QueryCanceled
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    // The function-call sub-protocol: int4pl (OID 177) adds two int4s.
    let sum = client
        .function_call(
            177,
            &[Some(&2i32.to_be_bytes()), Some(&40i32.to_be_bytes())],
            pgproto_core::message::Format::Binary,
            pgproto_core::message::Format::Binary,
        )
        .await
        .unwrap();
    assert_eq!(sum.as_deref(), Some(&42i32.to_be_bytes()[..]));
    // A strict function given NULL returns NULL; int4div (OID 154) by zero is an error
    // and the connection goes on.
    let binary = pgproto_core::message::Format::Binary;
    let null = client
        .function_call(177, &[None, Some(&1i32.to_be_bytes())], binary, binary)
        .await
        .unwrap();
    assert_eq!(null, None);
    let err = client
        .function_call(
            154,
            &[Some(&1i32.to_be_bytes()), Some(&0i32.to_be_bytes())],
            binary,
            binary,
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.as_db_error().map(|e| e.code),
        Some(SqlState::DivisionByZero)
    );
    assert_eq!(
        client
            .query_one("select 7 as n", &[])
            .await
            .unwrap()
            .get::<i32, _>("n")
            .unwrap(),
        7
    );

    client.simple_query("listen ch").await.unwrap();
    client.simple_query("notify ch, 'hello'").await.unwrap();
    let n = client.notification().await.unwrap();
    assert_eq!(n.payload, "hello");

    // Asynchronous messages: a ParameterStatus after SET updates `parameter`; a notice
    // arrives through `notice`; notifications nobody takes are bounded and counted.
    assert_ne!(client.parameter("TimeZone").as_deref(), Some("Asia/Tokyo"));
    client
        .simple_query("set timezone = 'Asia/Tokyo'")
        .await
        .unwrap();
    assert_eq!(client.parameter("TimeZone").as_deref(), Some("Asia/Tokyo"));
    client
        .simple_query("do $$ begin raise notice 'careful: %', 42; end $$")
        .await
        .unwrap();
    let notice = client.notice().await.unwrap();
    assert_eq!(notice.message, "careful: 42");
    assert_eq!(notice.code, SqlState::SuccessfulCompletion);
    let capacity = pgproto_core::client::DEFAULT_ASYNC_MESSAGE_CAPACITY;
    let sent = capacity + 76;
    client
        .simple_query(&format!(
            "select pg_notify('ch', g::text) from generate_series(1, {sent}) g"
        ))
        .await
        .unwrap();
    for expected in 1..=capacity {
        let n = client.notification().await.unwrap();
        assert_eq!(n.payload, expected.to_string());
    }
    assert_eq!(client.dropped_notifications(), 76);
    client.simple_query("notify ch, 'after'").await.unwrap();
    assert_eq!(client.notification().await.unwrap().payload, "after");
    client.close().await.unwrap();
}

/// Joins futures concurrently on the current task (no extra dependency).
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
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

#[tokio::test]
async fn pg15() {
    run(PgVersion::V15).await;
}

#[tokio::test]
async fn pg18() {
    run(PgVersion::V18).await;
}
