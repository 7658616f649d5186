//! The tokio server over TLS: psql, tokio-postgres and tokio's own client, with channel
//! binding and direct TLS; direct TLS without ALPN and a stalled handshake refused. (The
//! client over TLS against PostgreSQL is `tests/conformance/tls_client.rs`.)

use pgproto_core::server::{Server, ServerEvent};
use pgproto_core::testing::fixed_answer;
use pgproto_tests::server_tls::{self, TlsServer};
use pgproto_tokio::server::{serve_until, Handler};
use pgproto_tokio::{Client, Error};

struct Fixed;

impl Handler for Fixed {
    async fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error> {
        Ok(fixed_answer(server, event)?)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_tls_with_psql_and_own_client() {
    let certs = TlsServer::new("pgproto-tokio");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(serve_until(listener, certs.options(), |_| Fixed, rx));
    let conninfo = certs.conninfo(port, "pw");
    tokio::task::block_in_place(|| server_tls::assert_psql_channel_bound(&certs, port));

    // Our own client, with channel binding, and with direct TLS (sslnegotiation=direct).
    for extra in [
        "channel_binding=require",
        "sslnegotiation=direct channel_binding=require",
    ] {
        let client = Client::connect(&format!("{conninfo} {extra}"))
            .await
            .unwrap_or_else(|e| panic!("{extra}: {e}"));
        let sets = client.simple_query("select 1").await.unwrap();
        assert_eq!(sets[0].rows.len(), 1);
        client.close().await.unwrap();
    }
    // tokio-postgres over TLS (rustls) with SCRAM-SHA-256-PLUS required.
    let mut roots = pgproto_tls::rustls::RootCertStore::empty();
    for cert in pgproto_tls::certificates_from_pem(certs.material.ca_cert_pem.as_bytes()).unwrap() {
        roots.add(cert).unwrap();
    }
    let tls_config =
        pgproto_tls::rustls::ClientConfig::builder_with_provider(pgproto_tls::crypto_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let connector = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config);
    let (client, connection) = tokio_postgres::connect(
        &format!("host=localhost port={port} user=carol password=pw sslmode=require channel_binding=require"),
        connector,
    )
    .await
    .unwrap();
    let conn = tokio::spawn(connection);
    let row = client.query_one("select $1::int4", &[&5i32]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
    drop(client);
    conn.await.unwrap().unwrap();

    // A plain-text client with sslmode=disable still works when TLS is optional.
    let client = Client::connect(&format!(
        "host=127.0.0.1 port={port} user=carol password=pw sslmode=disable"
    ))
    .await
    .unwrap();
    client.close().await.unwrap();
    tokio::task::block_in_place(|| {
        server_tls::assert_direct_tls_needs_alpn(port);
        server_tls::assert_stalled_handshake_dropped(port);
    });

    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
}
