//! The tokio server framework against real, independent clients: tokio-postgres (in
//! process), psql and pgbench (PostgreSQL 15's binaries).

use pgproto_core::db_error::{DbError, Severity};
use pgproto_core::server::{AuthKind, Server, ServerAuth, ServerEvent};
use pgproto_core::sqlstate::SqlState;
use pgproto_core::testing::fixed_answer;
use pgproto_tests::clients;
use pgproto_tokio::server::{serve_until, Handler, ServerOptions};
use pgproto_tokio::Error;
use tokio::sync::watch;

/// The fixed answers, plus a syntax error for `fail please` and a query `sleep` that runs
/// until cancelled.
struct Fixed;

impl Handler for Fixed {
    async fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error> {
        match &event {
            ServerEvent::Query { sql } if sql == "fail please" => {
                let e = DbError::new(
                    Severity::Error,
                    SqlState::SyntaxError,
                    "syntax error at or near \"fail\"",
                );
                server.error(&e)?;
                return Ok(());
            }
            ServerEvent::Query { sql } if sql == "sleep" => {
                let started = std::time::Instant::now();
                while !server.take_cancel_request() {
                    if started.elapsed() > std::time::Duration::from_secs(20) {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                let e = DbError::new(
                    Severity::Error,
                    SqlState::QueryCanceled,
                    "canceling statement due to user request",
                );
                server.error(&e)?;
                return Ok(());
            }
            _ => {}
        }
        Ok(fixed_answer(server, event)?)
    }
}

struct Running {
    port: u16,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(kind: AuthKind) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut auth = ServerAuth::new(kind, b"mock secret for tests");
    auth.add_user("alice", "s3cret", b"0123456789abcdef")
        .unwrap();
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(serve_until(
        listener,
        ServerOptions::new(auth),
        |_| Fixed,
        rx,
    ));
    Running { port, stop, task }
}

fn conninfo(port: u16, password: &str) -> String {
    format!("host=127.0.0.1 port={port} user=alice password={password} dbname=db sslmode=disable")
}

#[tokio::test]
async fn tokio_postgres_simple_and_extended_with_each_auth_method() {
    for kind in [
        AuthKind::Trust,
        AuthKind::Password,
        AuthKind::Md5,
        AuthKind::ScramSha256,
    ] {
        let server = start(kind).await;
        let (client, connection) =
            tokio_postgres::connect(&conninfo(server.port, "s3cret"), tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        let conn = tokio::spawn(connection);
        clients::tokio_postgres_select_1(&client).await;
        drop(client);
        conn.await.unwrap().unwrap();
        if kind != AuthKind::Trust {
            clients::tokio_postgres_wrong_password(&conninfo(server.port, "wrong")).await;
        }
        server.stop.send(true).unwrap();
        server.task.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_and_pgbench() {
    let server = start(AuthKind::ScramSha256).await;
    let port = server.port;
    tokio::task::spawn_blocking(move || {
        clients::psql_select_1(&conninfo(port, "s3cret"));
        clients::pgbench_select_1((port, "alice", "s3cret", "db"), "prepared", 4, 200);
    })
    .await
    .unwrap();

    server.stop.send(true).unwrap();
    server.task.await.unwrap().unwrap();
}

#[tokio::test]
async fn protocol_errors_get_postgres_answers() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start(AuthKind::Trust).await;
    // An oversized startup packet: FATAL, then the connection closes.
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    s.write_all(&20_000i32.to_be_bytes()).await.unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).await.unwrap();
    assert_eq!(reply.first(), Some(&b'E'));
    assert!(String::from_utf8_lossy(&reply).contains("08P01"));
    // Protocol 4.0: unsupported frontend protocol.
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    s.write_all(b"\0\0\0\x14\0\x04\0\0user\0alice\0\0")
        .await
        .unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).await.unwrap();
    assert!(String::from_utf8_lossy(&reply).contains("unsupported frontend protocol 4.0"));
    // Bytes stuffed after SSLRequest (CVE-2021-23214) are refused.
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    s.write_all(b"\0\0\0\x08\x04\xd2\x16\x2f\0\0\0\x14\0\x03\0\0user\0alice\0\0")
        .await
        .unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).await.unwrap();
    assert!(String::from_utf8_lossy(&reply).contains("unencrypted data after SSL request"));
    server.stop.send(true).unwrap();
    server.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_requests_reach_the_session() {
    let server = start(AuthKind::Trust).await;
    let (client, connection) =
        tokio_postgres::connect(&conninfo(server.port, "x"), tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(connection);
    let token = client.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        token.cancel_query(tokio_postgres::NoTls).await.unwrap();
    });
    let started = std::time::Instant::now();
    let err = client.simple_query("sleep").await.unwrap_err();
    canceller.await.unwrap();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::QUERY_CANCELED)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // The session goes on.
    assert_eq!(
        client
            .query_one("select 1", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        1
    );
    server.stop.send(true).unwrap();
    drop(client);
    server.task.await.unwrap().unwrap();
}
