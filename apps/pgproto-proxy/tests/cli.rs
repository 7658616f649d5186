//! The `pgproto-proxy` program itself (`CARGO_BIN_EXE_pgproto-proxy`): its options, and a
//! query relayed to an upstream server (a `testing::fixed_answer` server in this process;
//! `tests/proxy.rs` runs the library against real PostgreSQL).

use std::process::Command;

use pgproto_core::server::{AuthKind, Server, ServerAuth, ServerEvent};
use pgproto_tests::program::Program;
use pgproto_tokio::server::{serve, Handler, ServerOptions};

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

struct Fixed;

impl Handler for Fixed {
    async fn handle(
        &mut self,
        server: &mut Server,
        event: ServerEvent,
    ) -> Result<(), pgproto_tokio::Error> {
        Ok(pgproto_core::testing::fixed_answer(server, event)?)
    }
}

#[tokio::test]
async fn relays_to_its_upstream() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap();
    let auth = ServerAuth::new(AuthKind::Trust, b"mock secret for tests");
    tokio::spawn(serve(listener, ServerOptions::new(auth), |_| Fixed));

    let proxy = Program::start(
        Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--threads", "1"])
            .args(["--user", "alice", "--password", "s3cret"])
            .arg("--upstream")
            .arg(format!(
                "host=127.0.0.1 port={} user=app sslmode=disable",
                upstream.port()
            )),
    )
    .unwrap();
    let conninfo = format!(
        "host=127.0.0.1 port={} user=alice password=s3cret sslmode=disable",
        proxy.addr.port()
    );
    let client = pgproto_tokio::Client::connect(&conninfo).await.unwrap();
    let rows = client.simple_query("select 1").await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    client.close().await.unwrap();
}
