//! The tokio server framework against real, independent clients: tokio-postgres (in
//! process), psql and pgbench (PostgreSQL 15's binaries).

use std::process::Command;

use pgproto_core::db_error::{DbError, Severity};
use pgproto_core::server::{AuthKind, Server, ServerAuth, ServerEvent};
use pgproto_core::sqlstate::SqlState;
use pgproto_core::testing::fixed_answer;
use pgproto_tests::clients::{self, psql};
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
        // Extended protocol, binary results, a parameter.
        let row = client.query_one("select $1::int4", &[&7i32]).await.unwrap();
        assert_eq!(row.get::<_, i32>(0), 1);
        // Prepared statement reused; pipelined concurrent queries.
        let st = client.prepare("select 1").await.unwrap();
        let (a, b, c) = tokio::join!(
            client.query(&st, &[]),
            client.query(&st, &[]),
            client.query_one("select 2", &[])
        );
        assert_eq!(a.unwrap().len() + b.unwrap().len(), 2);
        assert_eq!(c.unwrap().get::<_, i32>(0), 1);
        // Simple query protocol.
        let msgs = client.simple_query("select 1").await.unwrap();
        assert!(
            matches!(&msgs[1], tokio_postgres::SimpleQueryMessage::Row(r) if r.get(0) == Some("1"))
        );
        drop(client);
        conn.await.unwrap().unwrap();
        if kind != AuthKind::Trust {
            let err =
                tokio_postgres::connect(&conninfo(server.port, "wrong"), tokio_postgres::NoTls)
                    .await
                    .err()
                    .expect("wrong password fails");
            assert_eq!(
                err.code(),
                Some(&tokio_postgres::error::SqlState::INVALID_PASSWORD),
                "{kind:?}"
            );
        }
        server.stop.send(true).unwrap();
        server.task.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_and_pgbench() {
    let server = start(AuthKind::ScramSha256).await;
    let port = server.port;
    let out = tokio::task::spawn_blocking(move || {
        psql()
            .args([
                "-X",
                "-At",
                "-d",
                &conninfo(port, "s3cret"),
                "-c",
                "select 1",
                "-c",
                "",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(clients::succeeded(&out, "psql"), "1");

    let out = tokio::task::spawn_blocking(move || {
        let script = std::env::temp_dir().join(format!("pgproto-select1-{port}.sql"));
        std::fs::write(&script, "select 1;\n").unwrap();
        let out = Command::new("/usr/lib/postgresql/15/bin/pgbench")
            .env("PGPASSWORD", "s3cret")
            .args([
                "-n",
                "-t",
                "200",
                "-c",
                "4",
                "-j",
                "2",
                "-M",
                "prepared",
                "-h",
                "127.0.0.1",
            ])
            .args(["-p", &port.to_string(), "-U", "alice", "-f"])
            .arg(&script)
            .arg("db")
            .output()
            .unwrap();
        let _ = std::fs::remove_file(script);
        out
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("number of transactions actually processed: 800/800"),
        "{stdout}"
    );
    assert!(
        stdout.contains("number of failed transactions: 0"),
        "{stdout}"
    );

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
