//! Faults against real PostgreSQL 15: the backend killed with `pg_terminate_backend` in
//! the middle of a query and of COPY in both directions, the server stopped and
//! restarted, the connection cut in the middle of a message (a relay that drops both
//! sockets after N bytes). The client must return an error promptly (every wait is
//! bounded, so a hang fails the test), report the connection closed, and lose nothing
//! that was committed. The cluster, statements and expected outcomes are shared with
//! the other clients' fault tests (`pgproto_tests::faults`).

use std::future::Future;
use std::time::Duration;

use pgproto_tests::faults::{self, conninfo, PROMPTLY};
use pgproto_tests::harness::PgCluster;
use pgproto_tokio::Client;

async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(PROMPTLY, fut)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {PROMPTLY:?}"))
}

/// The connection task ends soon after a fatal error.
async fn assert_closed(what: &str, client: &Client) {
    within(what, async {
        while !client.is_closed() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let err = within(what, client.simple_query("select 1"))
        .await
        .expect_err("a closed connection answers");
    faults::assert_closed_answer(what, &err);
}

async fn backend_pid(client: &Client) -> String {
    faults::single_value(&client.simple_query(faults::BACKEND_PID).await.unwrap())
}

async fn count(port: u16) -> i64 {
    let client = within("reconnect", Client::connect(&conninfo(port)))
        .await
        .unwrap();
    let row = client.query_one(faults::COUNT, &[]).await.unwrap();
    row.get::<i64, _>(0).unwrap()
}

/// Kills `victim`'s backend from another connection after a moment.
async fn terminate_soon(admin: &Client, pid: &str) {
    tokio::time::sleep(faults::BEFORE_KILL).await;
    let sets = admin
        .simple_query(&faults::terminate_sql(pid))
        .await
        .unwrap();
    assert_eq!(faults::single_value(&sets), "t");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_terminated_mid_query_and_mid_copy() {
    let pg = faults::cluster();
    let port = pg.port();
    let admin = Client::connect(&conninfo(port)).await.unwrap();
    admin.simple_query(faults::SEED).await.unwrap();

    // Mid-query.
    let victim = Client::connect(&conninfo(port)).await.unwrap();
    let pid = backend_pid(&victim).await;
    let (result, ()) = within("pg_sleep terminated", async {
        tokio::join!(
            victim.simple_query(faults::LONG_QUERY),
            terminate_soon(&admin, &pid)
        )
    })
    .await;
    faults::assert_terminated("mid-query", &result.expect_err("the query was killed"));
    assert_closed("mid-query", &victim).await;

    // Mid-COPY FROM STDIN: rows sent before the kill are not committed.
    let victim = Client::connect(&conninfo(port)).await.unwrap();
    let pid = backend_pid(&victim).await;
    let mut copy = victim.copy_in(faults::COPY_IN).await.unwrap();
    copy.send(&b"1001\n1002\n"[..]).await.unwrap();
    terminate_soon(&admin, &pid).await;
    let err = within("COPY IN after the kill", async {
        // Sending may still succeed into the socket buffer; finishing cannot.
        for _ in 0..100 {
            if let Err(e) = copy.send(&b"1003\n"[..]).await {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        copy.finish().await.expect_err("COPY into a dead backend")
    })
    .await;
    faults::assert_terminated("mid-COPY IN", &err);
    assert_closed("mid-COPY IN", &victim).await;

    // Mid-COPY TO STDOUT.
    let victim = Client::connect(&conninfo(port)).await.unwrap();
    let pid = backend_pid(&victim).await;
    let mut out = victim.copy_out(faults::SLOW_COPY_OUT).await.unwrap();
    let first = within("first COPY row", out.next()).await;
    assert!(matches!(first, Some(Ok(_))), "{first:?}");
    terminate_soon(&admin, &pid).await;
    let err = within("COPY OUT after the kill", faults::first_error(&mut out)).await;
    faults::assert_terminated("mid-COPY OUT", &err);
    assert_closed("mid-COPY OUT", &victim).await;

    // Nothing committed was lost, nothing uncommitted appeared.
    assert_eq!(count(port).await, faults::SEEDED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_stopped_and_restarted() {
    let mut pg = faults::cluster();
    let port = pg.port();
    let client = Client::connect(&conninfo(port)).await.unwrap();
    client.simple_query(faults::SEED).await.unwrap();
    let tx = client.transaction().await.unwrap();
    tx.execute("insert into t values (999)", &[]).await.unwrap();
    // A crash (immediate shutdown) with a transaction open.
    tokio::task::block_in_place(|| pg.stop());
    let err = within(
        "query after the server stopped",
        tx.execute("select 1", &[]),
    )
    .await
    .expect_err("the server is gone");
    faults::assert_server_stopped("server stopped", &err);
    drop(tx);
    assert_closed("server stopped", &client).await;
    // While it is down, connecting fails promptly.
    let err = within(
        "connect to a stopped server",
        Client::connect(&conninfo(port)),
    )
    .await
    .expect_err("nobody listens");
    faults::assert_refused("connect to a stopped server", &err);

    tokio::task::block_in_place(|| pg.restart()).unwrap();
    // Committed rows survived the crash; the open transaction did not.
    assert_eq!(count(port).await, faults::SEEDED);
}

async fn wait_relay(relay: pgproto_tests::relay::RecordingRelay) -> Vec<usize> {
    let recorded = tokio::task::spawn_blocking(move || relay.wait())
        .await
        .unwrap();
    recorded
        .map(|conns| conns.iter().map(|c| c.backend.len()).collect())
        .unwrap_or_default()
}

async fn cut_mid_startup(pg: &PgCluster) {
    let relay = faults::cut_relay(pg, faults::CUT_MID_STARTUP);
    let err = within(
        "connect through a cut connection",
        Client::connect(&conninfo(relay.port())),
    )
    .await
    .expect_err("the connection was cut");
    faults::assert_cut("cut mid-startup", &err);
    wait_relay(relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_cut_in_the_middle_of_a_message() {
    let pg = faults::cluster();
    let relay = faults::cut_relay(&pg, faults::CUT_MID_DATAROW);
    let client = Client::connect(&conninfo(relay.port())).await.unwrap();
    let err = within(
        "query through a cut connection",
        client.simple_query(faults::BIG_ROWS),
    )
    .await
    .expect_err("the connection was cut");
    faults::assert_cut("cut mid-DataRow", &err);
    assert_closed("cut mid-DataRow", &client).await;
    assert_eq!(wait_relay(relay).await, [faults::CUT_MID_DATAROW]);

    cut_mid_startup(&pg).await;
}
