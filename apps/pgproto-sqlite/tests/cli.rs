//! The `pgproto-sqlite` program itself (`CARGO_BIN_EXE_pgproto-sqlite`): its options, and
//! a database file that outlives the server, over SCRAM and TLS.

mod support;

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

/// Runs the program with `args` in `dir` (its working directory) on a free port.
fn start_in(dir: &std::path::Path, args: &[&str]) -> Program {
    Program::start(
        Command::new(BIN)
            .current_dir(dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(args),
    )
    .unwrap()
}

async fn connect(server: &Program) -> tokio_postgres::Client {
    support::client(&support::conninfo(server.addr.port(), "postgres")).await
}

#[tokio::test]
async fn data_survives_a_restart_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &[]);
    let client = connect(&server).await;
    client
        .batch_execute(
            "create table t (id integer primary key, name text); insert into t values (1, 'one')",
        )
        .await
        .unwrap();
    drop(client);
    drop(server);
    assert!(dir.path().join("pgproto-sqlite.db").exists());

    let server = start_in(dir.path(), &[]);
    let client = connect(&server).await;
    let row = client
        .query_one("select name from t where id = 1", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "one");
}

#[tokio::test]
async fn memory_is_a_throwaway_database_shared_by_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), &["--memory"]);
    let (a, b) = (connect(&server).await, connect(&server).await);
    a.batch_execute("create table t (id integer primary key); insert into t values (7)")
        .await
        .unwrap();
    let row = b.query_one("select id from t", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 7);
    drop((a, b));
    drop(server);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let server = start_in(dir.path(), &["--memory"]);
    let client = connect(&server).await;
    assert!(client.query_one("select id from t", &[]).await.is_err());
}
