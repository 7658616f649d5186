//! The futures-io server over TLS, under async-std and under smol: psql and this crate's
//! client, channel binding, direct TLS. (The client over TLS against PostgreSQL is
//! `tests/conformance/tls_client.rs`.)

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Exec;
use pgproto_asyncstd::server::{serve_until, Handler};
use pgproto_asyncstd::{Client, Error};
use pgproto_core::server::{Server, ServerEvent};
use pgproto_core::sqlstate::SqlState;
use pgproto_core::testing::fixed_answer;
use pgproto_tests::server_tls::{self, TlsServer};

const LIMIT: Duration = Duration::from_secs(120);

struct Fixed;

impl Handler for Fixed {
    async fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error> {
        Ok(fixed_answer(server, event)?)
    }
}

fn server_tls(exec: Exec) {
    let certs = TlsServer::new(&format!("pgproto-asyncstd-{exec:?}"));
    let options = certs.options();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
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
    server_tls::assert_psql_channel_bound(&certs, port);

    exec.block_on(LIMIT, async {
        // This crate's client after an SSLRequest and with direct TLS, channel-bound.
        for extra in ["", "sslnegotiation=direct"] {
            let conninfo = certs.conninfo(port, "pw");
            let (c, conn) = exec
                .connect(&format!("{conninfo} channel_binding=require {extra}"))
                .await
                .unwrap_or_else(|e| panic!("{extra}: {e}"));
            assert!(c.is_tls() && c.used_channel_binding(), "{extra}");
            let sets = c.simple_query("select 1").await.unwrap();
            assert_eq!(sets[0].rows[0].raw(0usize), Some(Some(&b"1"[..])));
            c.close().await.unwrap();
            conn.await.unwrap();
            let wrong = format!("{} {extra}", certs.conninfo(port, "wrong"));
            let err = Client::connect(&wrong).await.unwrap_err();
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
    server_tls::assert_direct_tls_needs_alpn(port);
    server_tls::assert_stalled_handshake_dropped(port);

    drop(stop);
    server.join().unwrap().unwrap();
}

#[test]
fn server_tls_async_std() {
    server_tls(Exec::AsyncStd);
}

#[test]
fn server_tls_smol() {
    server_tls(Exec::Smol);
}
