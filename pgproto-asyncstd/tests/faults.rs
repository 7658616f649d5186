//! Faults against real PostgreSQL 15, for the futures-io client, each under async-std
//! and under smol: the backend killed with `pg_terminate_backend` in the middle of a
//! query and of COPY in both directions, the server stopped (immediate shutdown) and
//! restarted, the connection cut in the middle of a message (a relay that drops both
//! sockets after N bytes). Every wait is bounded, so a hang fails the test; the call
//! must fail, the [`Connection`](pgproto_asyncstd::Connection) future must end with an
//! error, the client must report the connection closed, and nothing committed may be
//! lost. The cluster, statements and expected outcomes are shared with the other
//! clients' fault tests (`pgproto_tests::faults`).

mod common;

use std::future::Future;
use std::time::Duration;

use async_io::Timer;
use common::{Exec, Spawned};
use pgproto_asyncstd::Client;
use pgproto_tests::faults::{self, conninfo, PROMPTLY};

/// A whole test; each step is also bounded by [`PROMPTLY`].
const LIMIT: Duration = Duration::from_secs(120);

async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    let deadline = async {
        Timer::after(PROMPTLY).await;
        panic!("{what}: no answer within {PROMPTLY:?}");
    };
    futures_lite::future::or(fut, deadline).await
}

async fn connect(exec: Exec, port: u16) -> (Client, Spawned) {
    within("connect", exec.connect(&conninfo(port)))
        .await
        .unwrap()
}

/// After a fatal error the connection future ends with an error, the client reports
/// the connection closed, and a further request fails at once.
async fn assert_closed(what: &str, client: &Client, connection: Spawned) {
    let err = within(what, connection)
        .await
        .expect_err("the connection ended cleanly after a fault");
    println!("{what}: the connection ended with: {err}");
    assert!(
        err.is_connection_lost(),
        "{what}: connection ended with {err}"
    );
    assert!(client.is_closed(), "{what}: is_closed() is false");
    let err = within(what, client.simple_query("select 1"))
        .await
        .expect_err("a closed connection answers");
    faults::assert_closed_answer(what, &err);
}

async fn backend_pid(client: &Client) -> String {
    faults::single_value(&client.simple_query(faults::BACKEND_PID).await.unwrap())
}

async fn count(exec: Exec, port: u16) -> i64 {
    let (client, connection) = connect(exec, port).await;
    let row = within("count", client.query_one(faults::COUNT, &[]))
        .await
        .unwrap();
    within("close", client.close()).await.unwrap();
    connection.await.unwrap();
    row.get::<i64, _>(0usize).unwrap()
}

/// Kills a backend from another connection after a moment.
async fn terminate_soon(admin: &Client, pid: &str) {
    Timer::after(faults::BEFORE_KILL).await;
    let sets = admin
        .simple_query(&faults::terminate_sql(pid))
        .await
        .unwrap();
    assert_eq!(faults::single_value(&sets), "t");
}

fn backend_terminated(exec: Exec) {
    let pg = faults::cluster();
    let port = pg.port();
    exec.block_on(LIMIT, async {
        let (admin, admin_connection) = connect(exec, port).await;
        admin.simple_query(faults::SEED).await.unwrap();

        // Mid-query.
        let (victim, connection) = connect(exec, port).await;
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
        assert_closed("mid-query", &victim, connection).await;

        // Mid-COPY FROM STDIN: rows sent before the kill are not committed.
        let (victim, connection) = connect(exec, port).await;
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
                Timer::after(Duration::from_millis(10)).await;
            }
            copy.finish().await.expect_err("COPY into a dead backend")
        })
        .await;
        faults::assert_terminated("mid-COPY IN", &err);
        assert_closed("mid-COPY IN", &victim, connection).await;

        // Mid-COPY TO STDOUT.
        let (victim, connection) = connect(exec, port).await;
        let pid = backend_pid(&victim).await;
        let mut out = victim.copy_out(faults::SLOW_COPY_OUT).await.unwrap();
        let first = within("first COPY row", out.next()).await;
        assert!(matches!(first, Some(Ok(_))), "{first:?}");
        terminate_soon(&admin, &pid).await;
        let err = within("COPY OUT after the kill", faults::first_error(&mut out)).await;
        faults::assert_terminated("mid-COPY OUT", &err);
        assert_closed("mid-COPY OUT", &victim, connection).await;

        // The admin connection was not touched; nothing committed was lost, nothing
        // uncommitted appeared.
        within("close admin", admin.close()).await.unwrap();
        admin_connection.await.unwrap();
        assert_eq!(count(exec, port).await, faults::SEEDED);
    });
}

fn server_stopped_and_restarted(exec: Exec) {
    let mut pg = faults::cluster();
    let port = pg.port();
    let (client, connection) = exec.block_on(LIMIT, async {
        let (client, connection) = connect(exec, port).await;
        client.simple_query(faults::SEED).await.unwrap();
        (client, connection)
    });
    // The connection future runs on the executor's pool meanwhile; the transaction is
    // opened with a plain BEGIN so that it lives across the blocking stop below.
    exec.block_on(LIMIT, async {
        client
            .simple_query("begin; insert into t values (999)")
            .await
            .unwrap();
    });
    // A crash (immediate shutdown) with a transaction open.
    pg.stop();
    exec.block_on(LIMIT, async {
        let err = within(
            "query after the server stopped",
            client.simple_query("select 1"),
        )
        .await
        .expect_err("the server is gone");
        faults::assert_server_stopped("server stopped", &err);
        assert_closed("server stopped", &client, connection).await;
        // While it is down, connecting fails promptly.
        let err = within(
            "connect to a stopped server",
            Client::connect(&conninfo(port)),
        )
        .await
        .expect_err("nobody listens");
        faults::assert_refused("connect to a stopped server", &err);
    });
    pg.restart().unwrap();
    // Committed rows survived the crash; the open transaction did not.
    assert_eq!(exec.block_on(LIMIT, count(exec, port)), faults::SEEDED);
}

fn connection_cut(exec: Exec) {
    let pg = faults::cluster();
    let relay = faults::cut_relay(&pg, faults::CUT_MID_DATAROW);
    let port = relay.port();
    exec.block_on(LIMIT, async {
        let (client, connection) = connect(exec, port).await;
        let err = within(
            "query through a cut connection",
            client.simple_query(faults::BIG_ROWS),
        )
        .await
        .expect_err("the connection was cut");
        faults::assert_cut("cut mid-DataRow", &err);
        assert_closed("cut mid-DataRow", &client, connection).await;
    });
    assert_eq!(
        relay.wait().unwrap()[0].backend.len(),
        faults::CUT_MID_DATAROW
    );

    let relay = faults::cut_relay(&pg, faults::CUT_MID_STARTUP);
    let port = relay.port();
    let err = exec
        .block_on(LIMIT, async {
            within(
                "connect through a cut connection",
                Client::connect(&conninfo(port)),
            )
            .await
            .map(drop)
        })
        .expect_err("the connection was cut");
    faults::assert_cut("cut mid-startup", &err);
    let _ = relay.wait();
}

#[test]
fn backend_terminated_mid_query_and_mid_copy_async_std() {
    backend_terminated(Exec::AsyncStd);
}

#[test]
fn backend_terminated_mid_query_and_mid_copy_smol() {
    backend_terminated(Exec::Smol);
}

#[test]
fn server_stopped_and_restarted_async_std() {
    server_stopped_and_restarted(Exec::AsyncStd);
}

#[test]
fn server_stopped_and_restarted_smol() {
    server_stopped_and_restarted(Exec::Smol);
}

#[test]
fn connection_cut_in_the_middle_of_a_message_async_std() {
    connection_cut(Exec::AsyncStd);
}

#[test]
fn connection_cut_in_the_middle_of_a_message_smol() {
    connection_cut(Exec::Smol);
}
