//! Downgrade protection of the tokio client against a hostile in-process server
//! (`pgproto_tests::hostile`, the same attacks as the blocking client's test): the
//! client refuses a weaker server without sending the password or any authentication
//! message, rejects plaintext injected after 'S' (CVE-2021-23222) and a SCRAM server
//! that cannot prove it knows the password.

use std::time::Duration;

use pgproto_tests::harness::tls::generate;
use pgproto_tests::hostile::{
    check_nothing_leaked, downgrade_cases, has_password_message, scram_forgery_cases,
    tls_without_plus, DowngradeCase, HostileServer, PASSWORD,
};
use pgproto_tokio::Client;

async fn attack(case: &DowngradeCase) -> (String, Vec<u8>) {
    let server = HostileServer::start(case.script).unwrap();
    let conninfo = format!(
        "host=127.0.0.1 port={} user=alice password={PASSWORD} {}",
        server.port(),
        case.options
    );
    let result = tokio::time::timeout(Duration::from_secs(10), Client::connect(&conninfo))
        .await
        .unwrap_or_else(|_| panic!("{}: the client hung", case.name));
    let err = match result {
        Ok(_) => panic!("{}: connected", case.name),
        Err(e) => e.to_string(),
    };
    let received = tokio::task::spawn_blocking(move || server.finish())
        .await
        .unwrap()
        .unwrap();
    (err, received)
}

#[tokio::test]
async fn downgrades_are_refused_without_leaking_credentials() {
    for case in downgrade_cases() {
        let (err, received) = attack(&case).await;
        assert!(
            err.to_lowercase().contains(case.error_contains),
            "{}: {err}",
            case.name
        );
        check_nothing_leaked(case.name, &received);
    }
}

#[tokio::test]
async fn scram_server_that_cannot_prove_the_password_is_refused() {
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
}

#[tokio::test]
async fn channel_binding_require_refuses_scram_without_plus_over_tls() {
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
    let received = tokio::task::spawn_blocking(move || server.finish())
        .await
        .unwrap()
        .unwrap();
    assert!(!has_password_message(&received), "{received:?}");
    assert!(!String::from_utf8_lossy(&received).contains(PASSWORD));
}

/// Control: with sslmode=prefer the same 'N' answer is legitimate, the password goes
/// out, and the recorder sees it (the checks above can fail).
#[tokio::test]
async fn control_sslmode_prefer_sends_the_password_and_the_recorder_sees_it() {
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
}
