//! The `pgproto-sqlite` program itself (`CARGO_BIN_EXE_pgproto-sqlite`): its options, and
//! a database file that outlives the server, over SCRAM and TLS.

use std::process::Command;

use pgproto_tests::program::Program;

const BIN: &str = env!("CARGO_BIN_EXE_pgproto-sqlite");

#[test]
fn bad_options_are_refused_with_the_usage() {
    for args in [
        &["--help"][..],
        &["--bogus"],
        &["--db"],
        &["--tls-cert", "x.pem"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.is_empty(), "{args:?}: no message");
    }
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: pgproto-sqlite"));
}

#[tokio::test]
async fn serves_a_database_file_over_scram_and_tls() {
    let dir = tempfile::tempdir().unwrap();
    let material = pgproto_tests::harness::tls::generate().unwrap();
    let (cert, key) = (dir.path().join("server.crt"), dir.path().join("server.key"));
    std::fs::write(&cert, &material.server_cert_pem).unwrap();
    std::fs::write(&key, &material.server_key_pem).unwrap();
    let db = dir.path().join("app.db");
    let start = || {
        Program::start(
            Command::new(BIN)
                .args(["--listen", "127.0.0.1:0", "--auth", "scram-sha-256"])
                .args(["--user", "alice", "--password", "s3cret"])
                .arg("--db")
                .arg(&db)
                .arg("--tls-cert")
                .arg(&cert)
                .arg("--tls-key")
                .arg(&key),
        )
        .unwrap()
    };
    let conninfo = |server: &Program| {
        format!(
            "host=127.0.0.1 port={} user=alice password=s3cret sslmode=require",
            server.addr.port()
        )
    };

    let server = start();
    let client = pgproto_tokio::Client::connect(&conninfo(&server))
        .await
        .unwrap();
    client
        .simple_query(
            "create table t (id integer primary key, name text); insert into t values (1, 'one')",
        )
        .await
        .unwrap();
    client.close().await.unwrap();
    drop(server);

    // A new server process on the same file.
    let server = start();
    let client = pgproto_tokio::Client::connect(&conninfo(&server))
        .await
        .unwrap();
    let row = client
        .query_one("select name from t where id = $1", &[&1i32])
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>(0).unwrap(), "one");
    let wrong = format!(
        "host=127.0.0.1 port={} user=alice password=wrong sslmode=require",
        server.addr.port()
    );
    assert!(pgproto_tokio::Client::connect(&wrong).await.is_err());
}
