//! What only the futures-io client has, against real PostgreSQL 15 and 18 under
//! async-std and under smol: a connection future driven on the caller's task (here over
//! the Unix socket, its backend killed under it), one never spawned, and a cancel
//! request written by hand from the cancel token. The scenarios every adapter shares
//! are in `tests/conformance/`.

mod common;

use std::time::Duration;

use common::Exec;
use futures_lite::io::AsyncWriteExt;
use pgproto_asyncstd::{Client, Error};
use pgproto_core::sqlstate::SqlState;
use pgproto_tests::harness::{PgCluster, PgVersion};

async fn run(pg: &PgCluster, url: &str, exec: Exec) {
    let (client, connection) = exec.connect(url).await.unwrap();
    // Cancellation with the token, on a new connection, while a query runs.
    let token = client.cancel_token().unwrap().clone();
    let (slow, ()) = futures_lite::future::zip(client.simple_query("select pg_sleep(30)"), async {
        async_io::Timer::after(Duration::from_millis(300)).await;
        let mut packet = bytes::BytesMut::new();
        token.encode(&mut packet).unwrap();
        let mut s = async_net::TcpStream::connect(("127.0.0.1", pg.port()))
            .await
            .unwrap();
        s.write_all(&packet).await.unwrap();
        s.close().await.unwrap();
    })
    .await;
    let err = slow.unwrap_err();
    assert_eq!(
        err.as_db_error().unwrap().code,
        SqlState::QueryCanceled,
        "{err}"
    );
    client.simple_query("select 1").await.unwrap();

    // A second client over the Unix socket, driven on this task without spawning; its
    // backend is killed under it: calls fail, the connection ends with an error.
    let unix = format!(
        "host={} port={} user=app password=pw dbname=postgres",
        pg.socket_dir().display(),
        pg.port()
    );
    let (other, other_connection) = Client::connect(&unix).await.unwrap();
    let pid = other.cancel_token().unwrap().process_id.to_string();
    let (ended, ()) = futures_lite::future::zip(other_connection, async {
        let rows = other
            .query_text("select current_user::text", &[])
            .await
            .unwrap();
        assert_eq!(rows[0].raw(0usize), Some(Some(&b"app"[..])));
        client
            .query_text("select pg_terminate_backend($1::int)", &[Some(&pid)])
            .await
            .unwrap();
        // Until the connection sees the FATAL and EOF, calls may still be queued; then
        // every call fails.
        let mut failed = false;
        for _ in 0..100 {
            if other.simple_query("select 1").await.is_err() {
                failed = true;
                break;
            }
            async_io::Timer::after(Duration::from_millis(20)).await;
        }
        assert!(failed, "queries keep working on a terminated backend");
    })
    .await;
    // The FATAL, the EOF, or a write into the closed socket: whichever comes first.
    let err = ended.unwrap_err();
    assert!(
        err.as_db_error().map(|e| e.code) == Some(SqlState::AdminShutdown)
            || matches!(err, Error::Protocol(pgproto_core::Error::Closed))
            || matches!(&err, Error::Io(e) if matches!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            )),
        "{err:?}"
    );
    assert!(other.is_closed());
    assert!(other.notification().await.is_none());
    assert!(other.simple_query("select 1").await.is_err());
    assert!(matches!(other.close().await, Err(Error::ConnectionClosed)));

    // Graceful close: Terminate, and the connection ends cleanly.
    client.close().await.unwrap();
    connection.await.unwrap();
}

/// A client whose connection is dropped (never spawned) fails instead of hanging.
async fn dropped_connection(url: &str) {
    let (client, connection) = Client::connect(url).await.unwrap();
    drop(connection);
    assert!(matches!(
        client.simple_query("select 1").await,
        Err(Error::ConnectionClosed)
    ));
    assert!(client.is_closed());
}

fn test(version: PgVersion, exec: Exec) {
    let (pg, url) = PgCluster::start_scram_app(version);
    exec.block_on(Duration::from_secs(120), async {
        run(&pg, &url, exec).await;
        dropped_connection(&url).await;
    });
}

#[test]
fn pg15_async_std() {
    test(PgVersion::V15, Exec::AsyncStd);
}

#[test]
fn pg15_smol() {
    test(PgVersion::V15, Exec::Smol);
}

#[test]
fn pg18_async_std() {
    test(PgVersion::V18, Exec::AsyncStd);
}

#[test]
fn pg18_smol() {
    test(PgVersion::V18, Exec::Smol);
}
