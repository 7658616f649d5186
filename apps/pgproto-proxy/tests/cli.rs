//! The `pgproto-proxy` program itself (`CARGO_BIN_EXE_pgproto-proxy`): its options, and a
//! query relayed to PostgreSQL 15 (`tests/proxy.rs` runs the library through every
//! client and failure).

use std::process::Command;

use pgproto_tests::harness::{HbaMethod, PasswordEncryption, PgCluster, PgVersion};
use pgproto_tests::program::Program;

const BIN: &str = env!("CARGO_BIN_EXE_pgproto-proxy");

#[test]
fn bad_options_are_refused_with_the_usage() {
    for args in [
        &["--help"][..],
        &["--listen", "127.0.0.1:0"],
        &["--upstream", "host=x", "--auth", "md5"],
        &["--upstream", "host=x", "--threads", "many"],
        &["--upstream", "host=x", "--bogus"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}: no message");
    }
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: pgproto-proxy"));
}

#[tokio::test]
async fn relays_to_postgresql() {
    let pg = PgCluster::builder()
        .version(PgVersion::V15)
        .auth(HbaMethod::ScramSha256)
        .start()
        .expect("PostgreSQL 15 (apt-get install postgresql-15)");
    pg.create_role("app", "app-pw", PasswordEncryption::ScramSha256)
        .unwrap();
    let proxy = Program::start(
        Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--threads", "1"])
            .args(["--user", "alice", "--password", "s3cret"])
            .arg("--upstream")
            .arg(format!(
                "host=127.0.0.1 port={} user=app password=app-pw dbname=postgres sslmode=disable",
                pg.port()
            )),
    )
    .unwrap();
    let conninfo = format!(
        "host=127.0.0.1 port={} user=alice password=s3cret sslmode=disable",
        proxy.addr.port()
    );
    let client = pgproto_tokio::Client::connect(&conninfo).await.unwrap();
    let row = client.query_one("select current_user", &[]).await.unwrap();
    assert_eq!(row.get::<String, _>(0).unwrap(), "app");
    client.close().await.unwrap();
}
