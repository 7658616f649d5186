//! Faults against real PostgreSQL 15, for the async clients (the blocking client's are
//! staged with threads: `pgproto-blocking/tests/faults.rs`): the backend killed with
//! `pg_terminate_backend` in the middle of a query and of COPY in both directions, the
//! server stopped (immediate shutdown) and restarted, the connection cut in the middle
//! of a message (a relay that drops both sockets after N bytes). Every wait is bounded,
//! so a hang fails the test; the call must fail, the connection must end (where the
//! adapter hands out its future: with an error), the client must report the connection
//! closed, and nothing committed may be lost. The cluster, statements and expected
//! outcomes are shared with the blocking client's fault tests (`pgproto_tests::faults`).

use std::future::Future;
use std::time::Duration;

use pgproto_tests::faults::{self, conninfo, PROMPTLY};

use crate::adapter::{self, Client};

/// `fut`, or a panic after [`PROMPTLY`].
async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    let deadline = async {
        adapter::sleep(PROMPTLY).await;
        panic!("{what}: no answer within {PROMPTLY:?}");
    };
    futures_lite::future::or(fut, deadline).await
}

async fn connect(port: u16) -> Client {
    within("connect", adapter::connect(&conninfo(port)))
        .await
        .unwrap()
}

/// After a fatal error the connection ends (with an error, where its result is seen),
/// the client reports it closed, and a further request fails at once.
async fn assert_closed(what: &str, client: &mut Client) {
    if let Some(result) = within(what, adapter::connection_ended(client)).await {
        let err = result.expect_err("the connection ended cleanly after a fault");
        println!("{what}: the connection ended with: {err}");
        assert!(
            err.is_connection_lost(),
            "{what}: connection ended with {err}"
        );
    }
    assert!(client.is_closed(), "{what}: is_closed() is false");
    let err = within(what, client.simple_query("select 1"))
        .await
        .expect_err("a closed connection answers");
    faults::assert_closed_answer(what, &err);
}

async fn backend_pid(client: &Client) -> String {
    faults::single_value(&client.simple_query(faults::BACKEND_PID).await.unwrap())
}

async fn count(port: u16) -> i64 {
    let client = connect(port).await;
    let row = within("count", client.query_one(faults::COUNT, &[]))
        .await
        .unwrap();
    within("close", client.close()).await.unwrap();
    row.get::<i64, _>(0usize).unwrap()
}

/// Kills a backend from another connection after a moment.
async fn terminate_soon(admin: &Client, pid: &str) {
    adapter::sleep(faults::BEFORE_KILL).await;
    let sets = admin
        .simple_query(&faults::terminate_sql(pid))
        .await
        .unwrap();
    assert_eq!(faults::single_value(&sets), "t");
}

conformance_test! {
    fn backend_terminated_mid_query_and_mid_copy() {
        let pg = faults::cluster();
        let port = pg.port();
        let admin = connect(port).await;
        admin.simple_query(faults::SEED).await.unwrap();

        // Mid-query.
        let mut victim = connect(port).await;
        let pid = backend_pid(&victim).await;
        let (result, ()) = within(
            "pg_sleep terminated",
            futures_lite::future::zip(
                victim.simple_query(faults::LONG_QUERY),
                terminate_soon(&admin, &pid),
            ),
        )
        .await;
        faults::assert_terminated("mid-query", &result.expect_err("the query was killed"));
        assert_closed("mid-query", &mut victim).await;

        // Mid-COPY FROM STDIN: rows sent before the kill are not committed.
        let mut victim = connect(port).await;
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
                adapter::sleep(Duration::from_millis(10)).await;
            }
            copy.finish().await.expect_err("COPY into a dead backend")
        })
        .await;
        faults::assert_terminated("mid-COPY IN", &err);
        assert_closed("mid-COPY IN", &mut victim).await;

        // Mid-COPY TO STDOUT.
        let mut victim = connect(port).await;
        let pid = backend_pid(&victim).await;
        let mut out = victim.copy_out(faults::SLOW_COPY_OUT).await.unwrap();
        let first = within("first COPY row", out.next()).await;
        assert!(matches!(first, Some(Ok(_))), "{first:?}");
        terminate_soon(&admin, &pid).await;
        let err = within("COPY OUT after the kill", faults::first_error(&mut out)).await;
        faults::assert_terminated("mid-COPY OUT", &err);
        drop(out);
        assert_closed("mid-COPY OUT", &mut victim).await;

        // The admin connection was not touched; nothing committed was lost, nothing
        // uncommitted appeared.
        within("close admin", admin.close()).await.unwrap();
        assert_eq!(count(port).await, faults::SEEDED);
    }
}

conformance_test! {
    fn server_stopped_and_restarted() {
        let mut pg = faults::cluster();
        let port = pg.port();
        let mut client = connect(port).await;
        client.simple_query(faults::SEED).await.unwrap();
        let tx = client.transaction().await.unwrap();
        tx.execute("insert into t values (999)", &[]).await.unwrap();
        // A crash (immediate shutdown) with a transaction open.
        pg = adapter::unblock(move || {
            pg.stop();
            pg
        })
        .await;
        let err = within(
            "query after the server stopped",
            tx.execute("select 1", &[]),
        )
        .await
        .expect_err("the server is gone");
        faults::assert_server_stopped("server stopped", &err);
        drop(tx);
        assert_closed("server stopped", &mut client).await;
        // While it is down, connecting fails promptly.
        let err = within(
            "connect to a stopped server",
            adapter::connect(&conninfo(port)),
        )
        .await
        .expect_err("nobody listens");
        faults::assert_refused("connect to a stopped server", &err);

        let pg = adapter::unblock(move || {
            pg.restart().unwrap();
            pg
        })
        .await;
        // Committed rows survived the crash; the open transaction did not.
        assert_eq!(count(port).await, faults::SEEDED);
        drop(pg);
    }
}

conformance_test! {
    fn connection_cut_in_the_middle_of_a_message() {
        let pg = faults::cluster();
        let relay = faults::cut_relay(&pg, faults::CUT_MID_DATAROW);
        let mut client = connect(relay.port()).await;
        let err = within(
            "query through a cut connection",
            client.simple_query(faults::BIG_ROWS),
        )
        .await
        .expect_err("the connection was cut");
        faults::assert_cut("cut mid-DataRow", &err);
        assert_closed("cut mid-DataRow", &mut client).await;
        let recorded = adapter::unblock(move || relay.wait()).await.unwrap();
        assert_eq!(recorded[0].backend.len(), faults::CUT_MID_DATAROW);

        let relay = faults::cut_relay(&pg, faults::CUT_MID_STARTUP);
        let err = within(
            "connect through a cut connection",
            adapter::connect(&conninfo(relay.port())),
        )
        .await
        .expect_err("the connection was cut");
        faults::assert_cut("cut mid-startup", &err);
        let _ = adapter::unblock(move || relay.wait()).await;
    }
}
