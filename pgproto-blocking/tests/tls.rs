//! The blocking server over TLS: psql and this crate's client, channel binding, direct
//! TLS. (The client over TLS against PostgreSQL is `tests/conformance/tls_client.rs`.)

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use pgproto_blocking::server::{serve_until, Handler};
use pgproto_blocking::{Client, Error};
use pgproto_core::server::{Server, ServerEvent};
use pgproto_core::sqlstate::SqlState;
use pgproto_core::testing::fixed_answer;
use pgproto_tests::server_tls::{self, TlsServer};

struct Fixed;

impl Handler for Fixed {
    fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error> {
        Ok(fixed_answer(server, event)?)
    }
}

#[test]
fn server_tls_with_psql_and_own_client() {
    let certs = TlsServer::new("pgproto-blocking");
    let options = certs.options();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    std::thread::spawn(move || serve_until(listener, options, |_| Fixed, stop));
    server_tls::assert_psql_channel_bound(&certs, port);

    // This crate's client after an SSLRequest and with direct TLS, channel-bound.
    for extra in ["", "sslnegotiation=direct"] {
        let conninfo = certs.conninfo(port, "pw");
        let mut c = Client::connect(&format!("{conninfo} channel_binding=require {extra}"))
            .unwrap_or_else(|e| panic!("{extra}: {e}"));
        assert!(c.is_tls() && c.used_channel_binding(), "{extra}");
        let sets = c.simple_query("select 1").unwrap();
        assert_eq!(sets[0].rows[0].raw(0usize), Some(Some(&b"1"[..])));
        let wrong = format!("{} {extra}", certs.conninfo(port, "wrong"));
        let err = Client::connect(&wrong).unwrap_err();
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
    server_tls::assert_direct_tls_needs_alpn(port);
    server_tls::assert_stalled_handshake_dropped(port);
}
