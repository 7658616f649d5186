//! What the adapters' TLS server tests share (`pgproto-*/tests/tls.rs`): a throwaway
//! CA and the options of a server that offers TLS with a certificate it signed, and the
//! checks that need no adapter: psql (libpq 15) with SCRAM-SHA-256-PLUS, direct TLS
//! without ALPN refused, a stalled handshake dropped at the startup timeout.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pgproto_core::server::{AuthKind, ServerAuth};
use pgproto_tls::{ServerOptions, ServerTls};

use crate::clients;
use crate::harness::tls::{generate, TlsMaterial};

/// The server's startup timeout, which [`assert_stalled_handshake_dropped`] waits out.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(2);

/// A fresh CA and server certificate; the CA certificate is in a file (for
/// `sslrootcert`) removed on drop.
#[derive(Debug)]
pub struct TlsServer {
    /// The certificates and key.
    pub material: TlsMaterial,
    ca: PathBuf,
}

impl TlsServer {
    /// Generates the certificates; `name` tells this test's CA file from others'.
    pub fn new(name: &str) -> Self {
        let material = generate().unwrap();
        let ca = std::env::temp_dir().join(format!("{name}-ca-{}.pem", std::process::id()));
        std::fs::write(&ca, &material.ca_cert_pem).unwrap();
        Self { material, ca }
    }

    /// The server's options: SCRAM-SHA-256 for user `carol`, password `pw`; TLS with
    /// the certificate (optional for clients); a startup timeout of
    /// [`STARTUP_TIMEOUT`].
    pub fn options(&self) -> ServerOptions {
        let tls = ServerTls::from_pem(
            self.material.server_cert_pem.as_bytes(),
            self.material.server_key_pem.as_bytes(),
        )
        .unwrap();
        let mut auth = ServerAuth::new(AuthKind::ScramSha256, b"mock");
        auth.add_user("carol", "pw", b"0123456789abcdef").unwrap();
        let mut options = ServerOptions::new(auth).with_tls(tls);
        options.startup_timeout = STARTUP_TIMEOUT;
        options
    }

    /// A conninfo for `carol` with `password` that verifies the server's certificate.
    pub fn conninfo(&self, port: u16, password: &str) -> String {
        format!(
            "host=localhost port={port} user=carol password={password} dbname=x sslmode=verify-full sslrootcert={}",
            self.ca.display()
        )
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca);
    }
}

/// psql (libpq 15) runs `select 1` over TLS with SCRAM-SHA-256-PLUS required.
pub fn assert_psql_channel_bound(server: &TlsServer, port: u16) {
    clients::psql_select_1(&format!(
        "{} channel_binding=require",
        server.conninfo(port, "pw")
    ));
}

/// Direct TLS without ALPN: the handshake may complete, but the server hangs up instead
/// of answering a startup packet.
pub fn assert_direct_tls_needs_alpn(port: u16) {
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
}

/// A client that sends an SSLRequest, gets `S` and then stalls is dropped at the
/// startup timeout.
pub fn assert_stalled_handshake_dropped(port: u16) {
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
        waited >= STARTUP_TIMEOUT * 3 / 4 && waited < Duration::from_secs(15),
        "{waited:?}"
    );
}
