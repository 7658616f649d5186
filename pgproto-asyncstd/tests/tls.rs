//! TLS in both roles with the futures-io adapter, under async-std and under smol: the
//! client against PostgreSQL 15 and 18 (verify-full, SCRAM-SHA-256-PLUS with
//! channel_binding=require, direct TLS against 18 and its clean failure against 15), and
//! psql and this crate's client against the futures-io server over TLS.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Exec, BOTH};
use pgproto_asyncstd::server::{serve_until, Handler, ServerOptions, ServerTls};
use pgproto_asyncstd::{Client, Error};
use pgproto_core::client::AuthMethod;
use pgproto_core::server::{AuthKind, Server, ServerAuth, ServerEvent};
use pgproto_core::sqlstate::SqlState;
use pgproto_core::testing::fixed_answer;
use pgproto_tests::harness::tls::generate;
use pgproto_tests::harness::{HbaMethod, PasswordEncryption, PgCluster, PgVersion};

const LIMIT: Duration = Duration::from_secs(120);

/// Whether the backend serving `c` runs over TLS, by PostgreSQL's own account.
async fn server_sees_tls(c: &Client) -> bool {
    let sets = c
        .simple_query("select ssl from pg_stat_ssl where pid = pg_backend_pid()")
        .await
        .unwrap();
    sets[0].rows[0].raw(0usize) == Some(Some(&b"t"[..]))
}

async fn client_against_postgres(pg: &PgCluster, exec: Exec) {
    let version = pg.version();
    let ca = pg.ca_cert_path().unwrap().display().to_string();
    let base = pg.connection_string("tls_user", Some("pw"));
    let verified = format!("{base} sslmode=verify-full sslrootcert={ca}");

    // verify-full and SCRAM-SHA-256-PLUS, required.
    let (c, conn) = exec
        .connect(&format!("{verified} channel_binding=require"))
        .await
        .unwrap_or_else(|e| panic!("{version:?} {exec:?}: {e}"));
    assert!(c.is_tls());
    assert!(c.used_channel_binding(), "{version:?}: no -PLUS");
    assert_eq!(c.auth_method(), Some(AuthMethod::ScramSha256));
    assert!(server_sees_tls(&c).await);
    // Pipelined requests and results larger than TLS records and socket buffers.
    let big = "y".repeat(2_000_000);
    let (a, b) = futures_lite::future::zip(
        c.query_one("select $1::text as v", &[&big]),
        c.query_one("select length($1::text)", &[&big]),
    )
    .await;
    assert_eq!(a.unwrap().get::<String, _>("v").unwrap(), big);
    assert_eq!(b.unwrap().get::<i32, _>(0usize).unwrap(), 2_000_000);
    let st = c
        .prepare("select g, repeat('z', 100) from generate_series(1, 20000) g")
        .await
        .unwrap();
    let mut rows = 0;
    c.query_batched(&st, &[], 5000, |batch| {
        rows += batch.len();
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(rows, 20000);
    // Cancelling over TLS connections works with the plain CancelRequest.
    let (slow, ()) = futures_lite::future::zip(c.simple_query("select pg_sleep(30)"), async {
        async_io::Timer::after(Duration::from_millis(300)).await;
        c.cancel().await.unwrap();
    })
    .await;
    assert_eq!(
        slow.unwrap_err().as_db_error().unwrap().code,
        SqlState::QueryCanceled
    );
    c.close().await.unwrap();
    conn.await.unwrap();

    // channel_binding=disable over TLS: plain SCRAM.
    let (c, conn) = exec
        .connect(&format!("{verified} channel_binding=disable"))
        .await
        .unwrap();
    assert!(c.is_tls() && !c.used_channel_binding());
    c.close().await.unwrap();
    conn.await.unwrap();

    // A wrong password over TLS is still the server's 28P01.
    let err = Client::connect(&format!(
        "{} sslmode=verify-full sslrootcert={ca}",
        pg.connection_string("tls_user", Some("wrong"))
    ))
    .await
    .unwrap_err();
    assert_eq!(
        err.as_db_error().map(|e| e.code),
        Some(SqlState::InvalidPassword),
        "{err}"
    );

    // A CA that did not sign the server's certificate fails verification.
    let other_ca = std::env::temp_dir().join(format!(
        "pgproto-asyncstd-other-ca-{}-{exec:?}.pem",
        pg.port()
    ));
    std::fs::write(&other_ca, generate().unwrap().ca_cert_pem).unwrap();
    let err = Client::connect(&format!(
        "{base} sslmode=verify-ca sslrootcert={}",
        other_ca.display()
    ))
    .await
    .unwrap_err();
    let _ = std::fs::remove_file(other_ca);
    assert!(matches!(err, Error::Tls(_)), "{err}");

    // channel_binding=require without TLS: refused before any password is sent.
    let err = Client::connect(&format!("{base} sslmode=disable channel_binding=require"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("channel binding"), "{err}");

    // Direct TLS: PostgreSQL 17+ accepts it; 15 hangs up on the ClientHello, which
    // must be a prompt TLS error, not a hang.
    let direct = format!("{verified} sslnegotiation=direct channel_binding=require");
    let started = Instant::now();
    match version {
        PgVersion::V15 => {
            let err = Client::connect(&format!("{direct} connect_timeout=10"))
                .await
                .unwrap_err();
            assert!(matches!(err, Error::Tls(_) | Error::Io(_)), "{err:?}");
            assert!(started.elapsed() < Duration::from_secs(5));
        }
        PgVersion::V18 => {
            let (c, conn) = exec.connect(&direct).await.unwrap();
            assert!(c.used_channel_binding());
            assert!(server_sees_tls(&c).await);
            c.close().await.unwrap();
            conn.await.unwrap();
        }
    }
}

fn client_tls(version: PgVersion) {
    let pg = PgCluster::builder()
        .version(version)
        .auth(HbaMethod::ScramSha256)
        .tls(true)
        .start()
        .unwrap();
    pg.create_role("tls_user", "pw", PasswordEncryption::ScramSha256)
        .unwrap();
    for exec in BOTH {
        exec.block_on(LIMIT, client_against_postgres(&pg, exec));
    }
}

#[test]
fn client_tls_pg15() {
    client_tls(PgVersion::V15);
}

#[test]
fn client_tls_pg18() {
    client_tls(PgVersion::V18);
}

struct Fixed;

impl Handler for Fixed {
    async fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error> {
        Ok(fixed_answer(server, event)?)
    }
}

fn server_tls(exec: Exec) {
    let material = generate().unwrap();
    let ca = std::env::temp_dir().join(format!(
        "pgproto-asyncstd-ca-{}-{exec:?}.pem",
        std::process::id()
    ));
    std::fs::write(&ca, &material.ca_cert_pem).unwrap();
    let tls = ServerTls::from_pem(
        material.server_cert_pem.as_bytes(),
        material.server_key_pem.as_bytes(),
    )
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut auth = ServerAuth::new(AuthKind::ScramSha256, b"mock");
    auth.add_user("carol", "pw", b"0123456789abcdef").unwrap();
    let mut options = ServerOptions::new(auth).with_tls(tls);
    options.startup_timeout = Duration::from_secs(2);
    let (stop, stopped) = async_channel::bounded::<()>(1);
    let shutdown = async move {
        let _ = stopped.recv().await;
    };
    let server = std::thread::spawn(move || {
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
    let conninfo = format!(
        "host=localhost port={port} user=carol password=pw dbname=x sslmode=verify-full sslrootcert={}",
        ca.display()
    );

    // psql (libpq 15) over TLS with SCRAM-SHA-256-PLUS required.
    let out = Command::new("/usr/lib/postgresql/15/bin/psql")
        .env_clear()
        .args([
            "-X",
            "-At",
            "-d",
            &format!("{conninfo} channel_binding=require"),
            "-c",
            "select 1",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{exec:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1");

    exec.block_on(LIMIT, async {
        // This crate's client after an SSLRequest and with direct TLS, channel-bound.
        for extra in ["", "sslnegotiation=direct"] {
            let (c, conn) = exec
                .connect(&format!("{conninfo} channel_binding=require {extra}"))
                .await
                .unwrap_or_else(|e| panic!("{extra}: {e}"));
            assert!(c.is_tls() && c.used_channel_binding(), "{extra}");
            let sets = c.simple_query("select 1").await.unwrap();
            assert_eq!(sets[0].rows[0].raw(0usize), Some(Some(&b"1"[..])));
            c.close().await.unwrap();
            conn.await.unwrap();
            let err = Client::connect(&format!(
                "host=localhost port={port} user=carol password=wrong sslmode=verify-full sslrootcert={} {extra}",
                ca.display()
            ))
            .await
            .unwrap_err();
            assert_eq!(
                err.as_db_error().map(|e| e.code),
                Some(SqlState::InvalidPassword),
                "{extra}: {err}"
            );
        }
        // TLS is optional: a plain client still gets in.
        let (c, conn) = exec
            .connect(&format!(
                "host=127.0.0.1 port={port} user=carol password=pw sslmode=disable"
            ))
            .await
            .unwrap();
        assert!(!c.is_tls());
        c.close().await.unwrap();
        conn.await.unwrap();
    });

    // Direct TLS without ALPN: the server hangs up instead of answering a startup
    // packet.
    let mut config =
        (*pgproto_tls::client_config(pgproto_core::client::SslMode::Require, None, None).unwrap())
            .clone();
    config.alpn_protocols.clear();
    let conn = pgproto_tls::rustls::ClientConnection::new(
        Arc::new(config),
        pgproto_tls::server_name("localhost").unwrap(),
    )
    .unwrap();
    let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut tls = pgproto_tls::rustls::StreamOwned::new(conn, sock);
    let mut reply = Vec::new();
    let answered = tls
        .write_all(b"\0\0\0\x14\0\x03\0\0user\0carol\0\0")
        .and_then(|()| tls.flush())
        .and_then(|()| tls.read_to_end(&mut reply));
    assert!(
        answered.is_err() || reply.is_empty(),
        "answered without ALPN: {reply:?}"
    );

    // A client that starts a handshake and stalls is dropped at the startup timeout.
    let mut stalled = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let started = Instant::now();
    stalled.write_all(b"\0\0\0\x08\x04\xd2\x16\x2f").unwrap();
    let mut answer = [0u8; 1];
    stalled.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"S");
    let mut rest = Vec::new();
    let _ = stalled.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(15),
        "{waited:?}"
    );

    drop(stop);
    server.join().unwrap().unwrap();
    let _ = std::fs::remove_file(ca);
}

#[test]
fn server_tls_async_std() {
    server_tls(Exec::AsyncStd);
}

#[test]
fn server_tls_smol() {
    server_tls(Exec::Smol);
}
