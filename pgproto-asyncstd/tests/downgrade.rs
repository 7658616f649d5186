//! Downgrade protection of the async-std client against a hostile in-process server
//! (`pgproto_tests::hostile`, the same attacks the tokio and blocking clients face): the
//! client refuses a weaker server without sending the password or any authentication
//! message, rejects plaintext injected after 'S' (CVE-2021-23222) and a SCRAM server
//! that cannot prove it knows the password.

use std::time::Duration;

use pgproto_asyncstd::Client;
use pgproto_tests::harness::tls::generate;
use pgproto_tests::hostile::{
    check_nothing_leaked, downgrade_cases, has_password_message, scram_forgery_cases,
    tls_without_plus, DowngradeCase, HostileServer, PASSWORD,
};

/// Connects with `options` to a hostile server running `script`; returns the client's
/// error and every byte the server received.
async fn attack(case: &DowngradeCase) -> (String, Vec<u8>) {
    let server = HostileServer::start(case.script).unwrap();
    let conninfo = format!(
        "host=127.0.0.1 port={} user=alice password={PASSWORD} {}",
        server.port(),
        case.options
    );
    let result = async_std::future::timeout(Duration::from_secs(10), Client::connect(&conninfo))
        .await
        .unwrap_or_else(|_| panic!("{}: the client hung", case.name));
    let err = match result {
        Ok(_) => panic!("{}: connected", case.name),
        Err(e) => e.to_string(),
    };
    let received = async_std::task::spawn_blocking(move || server.finish())
        .await
        .unwrap();
    (err, received)
}

#[test]
fn downgrades_are_refused_without_leaking_credentials() {
    async_std::task::block_on(async {
        for case in downgrade_cases() {
            let (err, received) = attack(&case).await;
            assert!(
                err.to_lowercase().contains(case.error_contains),
                "{}: {err}",
                case.name
            );
            check_nothing_leaked(case.name, &received);
        }
    });
}

#[test]
fn scram_server_that_cannot_prove_the_password_is_refused() {
    async_std::task::block_on(async {
        for case in scram_forgery_cases() {
            let (err, received) = attack(&case).await;
            assert!(
                err.to_lowercase().contains(case.error_contains),
                "{}: {err}",
                case.name
            );
            assert!(
                !String::from_utf8_lossy(&received).contains(PASSWORD),
                "{}",
                case.name
            );
        }
    });
}

#[test]
fn channel_binding_require_refuses_scram_without_plus_over_tls() {
    async_std::task::block_on(async {
        let material = generate().unwrap();
        let config = pgproto_tls::server_config(
            material.server_cert_pem.as_bytes(),
            material.server_key_pem.as_bytes(),
        )
        .unwrap();
        let server = tls_without_plus(config).unwrap();
        let conninfo = format!(
            "host=127.0.0.1 port={} user=alice password={PASSWORD} sslmode=require channel_binding=require",
            server.port()
        );
        let err = match Client::connect(&conninfo).await {
            Ok(_) => panic!("connected"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("channel binding"), "{err}");
        let received = async_std::task::spawn_blocking(move || server.finish())
            .await
            .unwrap();
        assert!(!has_password_message(&received), "{received:?}");
        assert!(!String::from_utf8_lossy(&received).contains(PASSWORD));
    });
}

/// Control: with sslmode=prefer the same 'N' answer is legitimate, the password goes
/// out, and the recorder sees it (the checks above can fail).
#[test]
fn control_sslmode_prefer_sends_the_password_and_the_recorder_sees_it() {
    async_std::task::block_on(async {
        let case = &downgrade_cases()[0];
        let control = DowngradeCase {
            name: "control",
            options: "sslmode=prefer",
            script: case.script,
            error_contains: "",
        };
        let (_, received) = attack(&control).await;
        assert!(has_password_message(&received));
        assert!(String::from_utf8_lossy(&received).contains(PASSWORD));
    });
}
