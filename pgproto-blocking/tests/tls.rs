//! The blocking server over TLS: psql and this crate's client, channel binding, direct
//! TLS. (The client over TLS against PostgreSQL is `tests/conformance/tls_client.rs`.)

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pgproto_blocking::server::{serve_until, Handler, ServerOptions, ServerTls};
use pgproto_blocking::{Client, Error};
use pgproto_core::server::{AuthKind, Server, ServerAuth, ServerEvent};
use pgproto_core::sqlstate::SqlState;
use pgproto_core::testing::fixed_answer;
use pgproto_tests::clients;
use pgproto_tests::harness::tls::generate;

struct Fixed;

impl Handler for Fixed {
    fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error> {
        Ok(fixed_answer(server, event)?)
    }
}

#[test]
fn server_tls_with_psql_and_own_client() {
    let material = generate().unwrap();
    let ca = std::env::temp_dir().join(format!("pgproto-blocking-ca-{}.pem", std::process::id()));
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
    std::thread::spawn(move || {
        serve_until(
            listener,
            options,
            |_| Fixed,
            Arc::new(AtomicBool::new(false)),
        )
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
    assert_eq!(clients::succeeded(&out, "psql"), "1");

    // This crate's client after an SSLRequest and with direct TLS, channel-bound.
    for extra in ["", "sslnegotiation=direct"] {
        let mut c = Client::connect(&format!("{conninfo} channel_binding=require {extra}"))
            .unwrap_or_else(|e| panic!("{extra}: {e}"));
        assert!(c.is_tls() && c.used_channel_binding(), "{extra}");
        let sets = c.simple_query("select 1").unwrap();
        assert_eq!(sets[0].rows[0].raw(0usize), Some(Some(&b"1"[..])));
        let err = Client::connect(&format!(
            "host=localhost port={port} user=carol password=wrong sslmode=verify-full sslrootcert={} {extra}",
            ca.display()
        ))
        .unwrap_err();
        assert_eq!(
            err.as_db_error().map(|e| e.code),
            Some(SqlState::InvalidPassword),
            "{extra}: {err}"
        );
    }
    // TLS is optional: a plain client still gets in.
    let c = Client::connect(&format!(
        "host=127.0.0.1 port={port} user=carol password=pw sslmode=disable"
    ))
    .unwrap();
    assert!(!c.is_tls());
    drop(c);

    // Direct TLS without ALPN: the handshake may complete, but the server hangs up
    // instead of answering a startup packet.
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
    let startup = b"\0\0\0\x14\0\x03\0\0user\0carol\0\0";
    let mut reply = Vec::new();
    let answered = tls
        .write_all(startup)
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
    let _ = std::fs::remove_file(ca);
}
