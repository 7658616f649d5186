//! Downgrade protection of the client against a hostile in-process server
//! (`pgproto_tests::hostile`): with sslmode=require/verify-*, channel_binding=require or
//! require_auth, the client refuses a weaker server without sending the password or any
//! authentication message; it rejects plaintext injected after 'S' (CVE-2021-23222) and
//! a SCRAM server that cannot prove it knows the password.

use std::time::{Duration, Instant};

use pgproto_tests::harness::tls::generate;
use pgproto_tests::hostile::{
    check_nothing_leaked, downgrade_cases, has_password_message, scram_forgery_cases,
    tls_without_plus, DowngradeCase, HostileServer, PASSWORD,
};

use crate::adapter;

maybe_async! {
    /// Connects to a hostile server running `case`; returns the client's error and
    /// every byte the server received.
    fn attack(case: &DowngradeCase) -> (String, Vec<u8>) {
        let server = HostileServer::start(case.script).unwrap();
        let conninfo = format!(
            "host=127.0.0.1 port={} user=alice password={PASSWORD} connect_timeout=5 {}",
            server.port(),
            case.options
        );
        let started = Instant::now();
        let err = match aw!(adapter::connect(&conninfo)) {
            Ok(_) => panic!("{}: connected", case.name),
            Err(e) => e.to_string(),
        };
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{}: the client hung for {:?}",
            case.name,
            started.elapsed()
        );
        let received = aw!(adapter::unblock(move || server.finish())).unwrap();
        (err, received)
    }
}

conformance_test! {
    fn downgrades_are_refused_without_leaking_credentials() {
        for case in downgrade_cases() {
            let (err, received) = aw!(attack(&case));
            assert!(
                err.to_lowercase().contains(case.error_contains),
                "{}: {err}",
                case.name
            );
            check_nothing_leaked(case.name, &received);
        }
    }
}

conformance_test! {
    fn scram_server_that_cannot_prove_the_password_is_refused() {
        for case in scram_forgery_cases() {
            let (err, received) = aw!(attack(&case));
            assert!(
                err.to_lowercase().contains(case.error_contains),
                "{}: {err}",
                case.name
            );
            // The proof went out (that is SCRAM), but never the password itself.
            assert!(
                !String::from_utf8_lossy(&received).contains(PASSWORD),
                "{}",
                case.name
            );
        }
    }
}

conformance_test! {
    fn channel_binding_require_refuses_scram_without_plus_over_tls() {
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
        let err = match aw!(adapter::connect(&conninfo)) {
            Ok(_) => panic!("connected"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("channel binding"), "{err}");
        let received = aw!(adapter::unblock(move || server.finish())).unwrap();
        // `received` is decrypted: the startup packet went out, no SASL message.
        assert!(!has_password_message(&received), "{received:?}");
        assert!(!String::from_utf8_lossy(&received).contains(PASSWORD));
    }
}

conformance_test! {
    /// Control: with sslmode=prefer the same 'N' answer is legitimate, the password
    /// goes out, and the recorder sees it (the checks above can fail).
    fn control_sslmode_prefer_sends_the_password_and_the_recorder_sees_it() {
        let case = &downgrade_cases()[0];
        let control = DowngradeCase {
            name: "control",
            options: "sslmode=prefer",
            script: case.script,
            error_contains: "",
        };
        let (_, received) = aw!(attack(&control));
        assert!(has_password_message(&received));
        assert!(String::from_utf8_lossy(&received).contains(PASSWORD));
    }
}

conformance_test! {
    fn a_server_that_never_answers_fails_at_connect_timeout() {
        // The kernel completes the TCP handshake from the listen backlog; nobody reads.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let conninfo = format!(
            "host=127.0.0.1 port={port} user=alice password={PASSWORD} sslmode=disable connect_timeout=1"
        );
        let started = Instant::now();
        let err = match aw!(adapter::connect(&conninfo)) {
            Ok(_) => panic!("connected to a server that never answered"),
            Err(e) => e.to_string(),
        };
        let took = started.elapsed();
        assert!(err.contains("connect_timeout"), "{err}");
        assert!(took >= Duration::from_millis(900), "gave up early: {took:?}");
        assert!(took < Duration::from_secs(8), "hung: {took:?}");
        drop(silent);
    }
}
