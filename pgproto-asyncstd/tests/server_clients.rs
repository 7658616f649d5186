//! The futures-io server framework against real, independent clients: tokio-postgres (in
//! a tokio runtime on the test thread), psql and pgbench (PostgreSQL 15's binaries).
//! Every test runs twice: with the server on async-std's pool, and on a `smol::Executor`
//! of its own thread.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pgproto_asyncstd::server::{serve_until, Handler, ServerOptions};
use pgproto_asyncstd::Error;
use pgproto_core::server::{AuthKind, Server, ServerAuth, ServerEvent};
use pgproto_core::testing::fixed_answer;
use pgproto_tests::clients;

#[derive(Debug, Clone, Copy)]
enum Exec {
    AsyncStd,
    Smol,
}

struct Fixed;

impl Handler for Fixed {
    async fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error> {
        Ok(fixed_answer(server, event)?)
    }
}

struct Running {
    port: u16,
    stop: async_channel::Sender<()>,
    thread: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Signals shutdown and waits (bounded) for the server to return.
    fn stop(self) {
        drop(self.stop);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.thread.is_finished() {
            assert!(Instant::now() < deadline, "the server did not shut down");
            std::thread::sleep(Duration::from_millis(10));
        }
        self.thread.join().unwrap().unwrap();
    }
}

fn start(exec: Exec, kind: AuthKind, startup_timeout: Option<Duration>) -> Running {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut auth = ServerAuth::new(kind, b"mock secret for tests");
    auth.add_user("alice", "s3cret", b"0123456789abcdef")
        .unwrap();
    let mut options = ServerOptions::new(auth);
    if let Some(t) = startup_timeout {
        options.startup_timeout = t;
    }
    let (stop, stopped) = async_channel::bounded::<()>(1);
    let shutdown = async move {
        let _ = stopped.recv().await;
    };
    let thread = std::thread::spawn(move || {
        let listener = async_net::TcpListener::try_from(listener)?;
        match exec {
            Exec::AsyncStd => async_std::task::block_on(serve_until(
                listener,
                options,
                |_| Fixed,
                |session| {
                    async_std::task::spawn(session);
                },
                shutdown,
            )),
            Exec::Smol => {
                let executor = Arc::new(smol::Executor::new());
                let spawner = executor.clone();
                smol::block_on(executor.run(serve_until(
                    listener,
                    options,
                    |_| Fixed,
                    move |session| spawner.spawn(session).detach(),
                    shutdown,
                )))
            }
        }
    });
    Running { port, stop, thread }
}

fn conninfo(port: u16, password: &str) -> String {
    format!("host=127.0.0.1 port={port} user=alice password={password} dbname=db sslmode=disable")
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn tokio_postgres_each_auth_method(exec: Exec) {
    let rt = tokio_runtime();
    for kind in [
        AuthKind::Trust,
        AuthKind::Password,
        AuthKind::Md5,
        AuthKind::ScramSha256,
    ] {
        let server = start(exec, kind, None);
        let port = server.port;
        rt.block_on(async {
            let (client, connection) =
                tokio_postgres::connect(&conninfo(port, "s3cret"), tokio_postgres::NoTls)
                    .await
                    .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            let conn = tokio::spawn(connection);
            clients::tokio_postgres_select_1(&client).await;
            // A cancel request is accepted and answered by closing; the session lives on.
            client
                .cancel_token()
                .cancel_query(tokio_postgres::NoTls)
                .await
                .unwrap();
            client.simple_query("select 1").await.unwrap();
            drop(client);
            conn.await.unwrap().unwrap();
            if kind != AuthKind::Trust {
                clients::tokio_postgres_wrong_password(&conninfo(port, "wrong")).await;
            }
        });
        server.stop();
    }
}

fn psql_and_pgbench(exec: Exec) {
    let server = start(exec, AuthKind::ScramSha256, None);
    let port = server.port;
    clients::psql_select_1(&conninfo(port, "s3cret"));
    for mode in ["simple", "extended", "prepared"] {
        clients::pgbench_select_1((port, "alice", "s3cret", "db"), mode, 4, 200);
    }
    server.stop();
}

fn exchange(port: u16, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(bytes).unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).unwrap();
    reply
}

fn protocol_errors_get_postgres_answers(exec: Exec) {
    let server = start(exec, AuthKind::Trust, None);
    // An oversized startup packet: FATAL, then the connection closes.
    let reply = exchange(server.port, &20_000i32.to_be_bytes());
    assert_eq!(reply.first(), Some(&b'E'));
    assert!(String::from_utf8_lossy(&reply).contains("08P01"));
    // Protocol 4.0: unsupported frontend protocol.
    let reply = exchange(server.port, b"\0\0\0\x13\0\x04\0\0user\0alice\0\0");
    assert!(String::from_utf8_lossy(&reply).contains("unsupported frontend protocol 4.0"));
    // Bytes stuffed after SSLRequest (CVE-2021-23214) are refused.
    let reply = exchange(
        server.port,
        b"\0\0\0\x08\x04\xd2\x16\x2f\0\0\0\x13\0\x03\0\0user\0alice\0\0",
    );
    assert!(String::from_utf8_lossy(&reply).contains("unencrypted data after SSL request"));
    server.stop();
}

fn startup_timeout_closes_silent_clients(exec: Exec) {
    // Long enough that a debug-build SCRAM login fits in it on a loaded 2-core machine.
    let server = start(
        exec,
        AuthKind::ScramSha256,
        Some(Duration::from_millis(3000)),
    );
    let begun = Instant::now();
    // Says nothing at all.
    let reply = exchange(server.port, b"");
    assert!(reply.is_empty(), "{reply:?}");
    // Starts up, then never answers the password request.
    let reply = exchange(server.port, b"\0\0\0\x14\0\x03\0\0user\0alice\0\0");
    assert_eq!(reply.first(), Some(&b'R'), "{reply:?}");
    let elapsed = begun.elapsed();
    assert!(elapsed >= Duration::from_millis(6000), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(25), "{elapsed:?}");
    // A client that keeps up is not affected, and stays past the timeout.
    tokio_runtime().block_on(async {
        let (client, connection) =
            tokio_postgres::connect(&conninfo(server.port, "s3cret"), tokio_postgres::NoTls)
                .await
                .unwrap();
        let conn = tokio::spawn(connection);
        tokio::time::sleep(Duration::from_millis(3200)).await;
        client.simple_query("select 1").await.unwrap();
        drop(client);
        conn.await.unwrap().unwrap();
    });
    server.stop();
}

fn graceful_shutdown_waits_for_sessions(exec: Exec) {
    let server = start(exec, AuthKind::Trust, None);
    let port = server.port;
    let rt = tokio_runtime();
    let (client, conn) = rt.block_on(async {
        let (client, connection) =
            tokio_postgres::connect(&conninfo(port, "x"), tokio_postgres::NoTls)
                .await
                .unwrap();
        (client, tokio::spawn(connection))
    });
    let Running { stop, thread, .. } = server;
    drop(stop);
    // The listener closes: new connections are refused.
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "still accepting after shutdown");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The live session goes on, and the server waits for it.
    rt.block_on(async {
        for _ in 0..3 {
            client.simple_query("select 1").await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    assert!(!thread.is_finished(), "returned with a session still live");
    drop(client);
    rt.block_on(conn).unwrap().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !thread.is_finished() {
        assert!(
            Instant::now() < deadline,
            "did not return after the last session"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    thread.join().unwrap().unwrap();
}

macro_rules! on_both_executors {
    ($($name:ident),* $(,)?) => {
        mod async_std_executor {
            $(#[test] fn $name() { super::$name(super::Exec::AsyncStd) })*
        }
        mod smol_executor {
            $(#[test] fn $name() { super::$name(super::Exec::Smol) })*
        }
    };
}

on_both_executors!(
    tokio_postgres_each_auth_method,
    psql_and_pgbench,
    protocol_errors_get_postgres_answers,
    startup_timeout_closes_silent_clients,
    graceful_shutdown_waits_for_sessions,
);
