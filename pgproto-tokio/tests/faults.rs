//! Faults against real PostgreSQL 15: the backend killed with `pg_terminate_backend` in
//! the middle of a query and of COPY in both directions, the server stopped and
//! restarted, the connection cut in the middle of a message (a relay that drops both
//! sockets after N bytes). The client must return an error promptly (every wait is
//! bounded, so a hang fails the test), report the connection closed, and lose nothing
//! that was committed.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use pgproto_core::sqlstate::SqlState;
use pgproto_tests::harness::{HbaMethod, PgCluster, PgVersion};
use pgproto_tests::relay::RecordingRelay;
use pgproto_tokio::{Client, Error};

const PROMPTLY: Duration = Duration::from_secs(10);

/// PostgreSQL 15; commits are durable across a crash of the server (the harness
/// turns synchronous_commit off for speed; a commit acknowledged then may be lost).
fn pg15() -> PgCluster {
    PgCluster::builder()
        .version(PgVersion::V15)
        .auth(HbaMethod::Trust)
        .setting("synchronous_commit", "on")
        .start()
        .expect("PostgreSQL 15 (apt-get install postgresql-15)")
}

fn conninfo(port: u16) -> String {
    format!("host=127.0.0.1 port={port} dbname=postgres user=postgres sslmode=disable")
}

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
    assert!(
        matches!(
            err,
            Error::ConnectionClosed | Error::Protocol(_) | Error::Io(_)
        ),
        "{what}: {err}"
    );
}

/// Killed by pg_terminate_backend: FATAL 57P01, or the connection simply gone.
fn assert_terminated(what: &str, err: &Error) {
    println!("{what}: {err}");
    let code = err.as_db_error().map(|e| e.code);
    assert!(
        code == Some(SqlState::AdminShutdown)
            || matches!(
                err,
                Error::ConnectionClosed | Error::Io(_) | Error::Protocol(_)
            ),
        "{what}: {err}"
    );
}

async fn backend_pid(client: &Client) -> String {
    let sets = client
        .simple_query("select pg_backend_pid()")
        .await
        .unwrap();
    let pid = sets[0].rows[0].raw(0).flatten().unwrap();
    String::from_utf8(pid.to_vec()).unwrap()
}

async fn count(port: u16) -> i64 {
    let client = within("reconnect", Client::connect(&conninfo(port)))
        .await
        .unwrap();
    let row = client
        .query_one("select count(*) from t", &[])
        .await
        .unwrap();
    row.get::<i64, _>(0).unwrap()
}

/// Kills `victim`'s backend from another connection after a moment.
async fn terminate_soon(admin: &Client, pid: &str) {
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sets = admin
        .simple_query(&format!("select pg_terminate_backend({pid})"))
        .await
        .unwrap();
    assert_eq!(sets[0].rows[0].raw(0), Some(Some(&b"t"[..])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_terminated_mid_query_and_mid_copy() {
    let pg = pg15();
    let port = pg.port();
    let admin = Client::connect(&conninfo(port)).await.unwrap();
    admin
        .simple_query("create table t (n int); insert into t select generate_series(1, 100)")
        .await
        .unwrap();

    // Mid-query.
    let victim = Client::connect(&conninfo(port)).await.unwrap();
    let pid = backend_pid(&victim).await;
    let (result, ()) = within("pg_sleep terminated", async {
        tokio::join!(
            victim.simple_query("select pg_sleep(60)"),
            terminate_soon(&admin, &pid)
        )
    })
    .await;
    assert_terminated("mid-query", &result.expect_err("the query was killed"));
    assert_closed("mid-query", &victim).await;

    // Mid-COPY FROM STDIN: rows sent before the kill are not committed.
    let victim = Client::connect(&conninfo(port)).await.unwrap();
    let pid = backend_pid(&victim).await;
    let mut copy = victim.copy_in("copy t from stdin").await.unwrap();
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
    assert_terminated("mid-COPY IN", &err);
    assert_closed("mid-COPY IN", &victim).await;

    // Mid-COPY TO STDOUT.
    let victim = Client::connect(&conninfo(port)).await.unwrap();
    let pid = backend_pid(&victim).await;
    let mut out = victim
        .copy_out("copy (select n, pg_sleep(0.01) from generate_series(1, 100000) n) to stdout")
        .await
        .unwrap();
    let first = within("first COPY row", out.next()).await;
    assert!(matches!(first, Some(Ok(_))), "{first:?}");
    terminate_soon(&admin, &pid).await;
    let err = within("COPY OUT after the kill", async {
        loop {
            match out.next().await {
                Some(Ok(_)) => {}
                Some(Err(e)) => return e,
                None => panic!("COPY OUT ended normally"),
            }
        }
    })
    .await;
    assert_terminated("mid-COPY OUT", &err);
    assert_closed("mid-COPY OUT", &victim).await;

    // Nothing committed was lost, nothing uncommitted appeared.
    assert_eq!(count(port).await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_stopped_and_restarted() {
    let mut pg = pg15();
    let port = pg.port();
    let client = Client::connect(&conninfo(port)).await.unwrap();
    client
        .simple_query("create table t (n int); insert into t select generate_series(1, 50)")
        .await
        .unwrap();
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
    println!("server stopped: {err}");
    assert!(
        err.as_db_error()
            .is_some_and(|e| e.code == SqlState::AdminShutdown || e.code == SqlState::CrashShutdown)
            || matches!(
                err,
                Error::ConnectionClosed | Error::Io(_) | Error::Protocol(_)
            ),
        "{err}"
    );
    drop(tx);
    assert_closed("server stopped", &client).await;
    // While it is down, connecting fails promptly.
    let err = within(
        "connect to a stopped server",
        Client::connect(&conninfo(port)),
    )
    .await
    .expect_err("nobody listens");
    assert!(matches!(err, Error::Io(_)), "{err}");

    tokio::task::block_in_place(|| pg.restart()).unwrap();
    // Committed rows survived the crash; the open transaction did not.
    assert_eq!(count(port).await, 50);
}

async fn cut_relay(pg: &PgCluster, cut_after: usize) -> RecordingRelay {
    let upstream: SocketAddr = format!("127.0.0.1:{}", pg.port()).parse().unwrap();
    RecordingRelay::start_cutting(
        "127.0.0.1:0".parse().unwrap(),
        upstream,
        Some(1),
        Some(cut_after),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_cut_in_the_middle_of_a_message() {
    let pg = pg15();
    // In the middle of a 100 kB DataRow (startup takes well under 2 kB).
    let relay = cut_relay(&pg, 20_000).await;
    let client = Client::connect(&conninfo(relay.port())).await.unwrap();
    let err = within(
        "query through a cut connection",
        client.simple_query("select repeat('x', 100000) from generate_series(1, 5)"),
    )
    .await
    .expect_err("the connection was cut");
    println!("cut mid-DataRow: {err}");
    assert!(
        matches!(
            err,
            Error::Protocol(_) | Error::Io(_) | Error::ConnectionClosed
        ),
        "{err}"
    );
    assert_closed("cut mid-DataRow", &client).await;
    let recorded = tokio::task::spawn_blocking(move || relay.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recorded[0].backend.len(), 20_000);

    // In the middle of startup (inside the ParameterStatus messages).
    let relay = cut_relay(&pg, 40).await;
    let err = within(
        "connect through a cut connection",
        Client::connect(&conninfo(relay.port())),
    )
    .await
    .expect_err("the connection was cut");
    println!("cut mid-startup: {err}");
    assert!(matches!(err, Error::Protocol(_) | Error::Io(_)), "{err}");
    let _ = tokio::task::spawn_blocking(move || relay.wait()).await;
}
