//! The tokio server over TLS: psql and tokio's own client, with channel binding and
//! direct TLS. (The client over TLS against PostgreSQL is `tests/conformance/tls_client.rs`.)

use std::process::Command;

use pgproto_core::server::{AuthKind, Server, ServerAuth, ServerEvent};
use pgproto_core::testing::fixed_answer;
use pgproto_tests::clients;
use pgproto_tests::harness::tls::generate;
use pgproto_tokio::server::{serve_until, Handler, ServerOptions, ServerTls};
use pgproto_tokio::{Client, Error};

struct Fixed;

impl Handler for Fixed {
    async fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error> {
        Ok(fixed_answer(server, event)?)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_tls_with_psql_and_own_client() {
    let material = generate().unwrap();
    let dir = std::env::temp_dir().join(format!("pgproto-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &material.ca_cert_pem).unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut auth = ServerAuth::new(AuthKind::ScramSha256, b"mock");
    auth.add_user("carol", "pw", b"0123456789abcdef").unwrap();
    let tls = ServerTls::from_pem(
        material.server_cert_pem.as_bytes(),
        material.server_key_pem.as_bytes(),
    )
    .unwrap();
    let options = ServerOptions::new(auth).with_tls(tls);
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(serve_until(listener, options, |_| Fixed, rx));

    let ca_s = ca.display().to_string();
    let conninfo = format!(
        "host=localhost port={port} user=carol password=pw dbname=x sslmode=verify-full sslrootcert={ca_s}"
    );
    // psql (libpq 15) over TLS with SCRAM-SHA-256-PLUS required.
    let c = conninfo.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("/usr/lib/postgresql/15/bin/psql")
            .args([
                "-X",
                "-At",
                "-d",
                &format!("{c} channel_binding=require"),
                "-c",
                "select 1",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(clients::succeeded(&out, "psql"), "1");

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
    for cert in pgproto_tls::certificates_from_pem(material.ca_cert_pem.as_bytes()).unwrap() {
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

    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
