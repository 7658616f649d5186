//! Smoke tests of the cluster harness against real PostgreSQL 15 and 18:
//! every authentication method, TLS with certificate verification, and
//! teardown after a panicking test.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread;

use pgproto_tests::framing::{split_messages, Direction};
use pgproto_tests::harness::{HbaMethod, PasswordEncryption, PgCluster, PgVersion};
use pgproto_tests::relay::RecordingRelay;

/// Authentication request codes of AuthenticationXXX messages.
const AUTH_OK: u32 = 0;
const AUTH_CLEARTEXT: u32 = 3;
const AUTH_MD5: u32 = 5;
const AUTH_SASL: u32 = 10;

/// Connects with psql through a recording relay and returns psql's output
/// and the first authentication request code the server sent.
fn query_via_relay(
    pg: &PgCluster,
    user: &str,
    password: Option<&str>,
    sql: &str,
) -> Result<(String, u32), String> {
    let upstream = SocketAddr::from((Ipv4Addr::LOCALHOST, pg.port()));
    let relay = RecordingRelay::start(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        upstream,
        Some(1),
    )
    .map_err(|e| e.to_string())?;
    // A later keyword overrides an earlier one in a libpq conninfo string.
    let conninfo = format!(
        "{} port={} sslmode=disable gssencmode=disable",
        pg.connection_string(user, password),
        relay.port()
    );
    let result = pg.psql_connect(&conninfo, &["-Atc", sql]);
    let recorded = relay.wait().map_err(|e| e.to_string())?;
    let output = result.map_err(|e| e.to_string())?;
    let backend = &recorded[0].backend;
    let messages = split_messages(backend, Direction::Backend)?;
    let auth = messages
        .iter()
        .find(|m| m.tag == Some(b'R'))
        .ok_or("no authentication message")?;
    let code = u32::from_be_bytes(auth.body[..4].try_into().map_err(|_| "short R message")?);
    Ok((output.trim().to_owned(), code))
}

fn check_auth_methods(version: PgVersion) {
    let pg = PgCluster::builder()
        .version(version)
        .auth(HbaMethod::Trust)
        .start()
        .unwrap();
    assert_eq!(pg.version(), version);
    assert!(pg
        .server_version()
        .starts_with(&format!("{}.", version.major())));
    pg.create_role("alice", "alice secret", PasswordEncryption::ScramSha256)
        .unwrap();
    pg.create_role("bob", "bob's-md5", PasswordEncryption::Md5)
        .unwrap();
    let stored = pg
        .query_value("select rolname || ':' || left(rolpassword, 3) from pg_authid where rolname in ('alice', 'bob') order by 1")
        .unwrap();
    assert_eq!(stored, "alice:SCR\nbob:md5");

    let expected_version = format!("PostgreSQL {}.", version.major());
    for method in HbaMethod::ALL {
        pg.set_hba(method).unwrap();
        assert_eq!(pg.hba_method(), method);
        // (user, password, expected auth request code)
        let cases: &[(&str, &str, u32)] = match method {
            HbaMethod::Trust => &[
                ("alice", "alice secret", AUTH_OK),
                ("bob", "bob's-md5", AUTH_OK),
            ],
            HbaMethod::Password => &[
                ("alice", "alice secret", AUTH_CLEARTEXT),
                ("bob", "bob's-md5", AUTH_CLEARTEXT),
            ],
            // md5 upgrades to SCRAM for roles with a SCRAM verifier.
            HbaMethod::Md5 => &[
                ("alice", "alice secret", AUTH_SASL),
                ("bob", "bob's-md5", AUTH_MD5),
            ],
            HbaMethod::ScramSha256 => &[("alice", "alice secret", AUTH_SASL)],
        };
        for &(user, password, code) in cases {
            let (output, auth) = query_via_relay(&pg, user, Some(password), "select version()")
                .unwrap_or_else(|e| panic!("{method} as {user}: {e}"));
            assert!(
                output.starts_with(&expected_version),
                "{method} as {user}: unexpected version {output:?}"
            );
            assert_eq!(auth, code, "{method} as {user}: authentication request");
        }
        // Direct TCP connection without the relay works too.
        let out = pg
            .psql_connect(
                &pg.connection_string("alice", Some("alice secret")),
                &["-Atc", "select current_user"],
            )
            .unwrap();
        assert_eq!(out.trim(), "alice");

        let wrong = pg.psql_connect(
            &pg.connection_string("alice", Some("wrong")),
            &["-Atc", "select 1"],
        );
        if method == HbaMethod::Trust {
            assert_eq!(wrong.unwrap().trim(), "1");
        } else {
            let err = wrong.unwrap_err().to_string();
            assert!(
                err.contains("password authentication failed"),
                "{method}: wrong password gave {err}"
            );
        }
    }
    // The superuser keeps working over the Unix socket whatever the method.
    assert_eq!(pg.query_value("select current_user").unwrap(), "postgres");
}

#[test]
fn auth_methods_pg15() {
    check_auth_methods(PgVersion::V15);
}

#[test]
fn auth_methods_pg18() {
    check_auth_methods(PgVersion::V18);
}

fn check_tls_verify_full(version: PgVersion) {
    let pg = PgCluster::builder()
        .version(version)
        .auth(HbaMethod::ScramSha256)
        .tls(true)
        .start()
        .unwrap();
    assert!(pg.tls_enabled());
    let ca_path = pg.ca_cert_path().unwrap().to_owned();
    let pem = pg.ca_cert_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(std::fs::read_to_string(&ca_path).unwrap(), pem);
    pg.create_role("alice", "tls-secret", PasswordEncryption::ScramSha256)
        .unwrap();
    let base = pg.connection_string("alice", Some("tls-secret"));
    let tls_opts = format!("sslmode=verify-full sslrootcert={}", ca_path.display());
    for host in ["127.0.0.1", "localhost"] {
        let conninfo = format!("{base} host={host} {tls_opts}");
        let out = pg
            .psql_connect(
                &conninfo,
                &[
                    "-Atc",
                    "select ssl, version from pg_stat_ssl where pid = pg_backend_pid()",
                ],
            )
            .unwrap_or_else(|e| panic!("verify-full via {host}: {e}"));
        assert!(out.trim().starts_with("t|TLSv1."), "via {host}: {out:?}");
    }
    // A name the certificate does not cover must be rejected.
    let mismatch = pg.psql_connect(
        &format!("{base} host=pgproto.invalid hostaddr=127.0.0.1 {tls_opts}"),
        &["-Atc", "select 1"],
    );
    let err = mismatch.unwrap_err().to_string();
    assert!(err.contains("does not match host name"), "{err}");
    // Without TLS the connection is not encrypted.
    let plain = pg
        .psql_connect(
            &format!("{base} sslmode=disable"),
            &[
                "-Atc",
                "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
            ],
        )
        .unwrap();
    assert_eq!(plain.trim(), "f");
}

#[test]
fn tls_verify_full_pg15() {
    check_tls_verify_full(PgVersion::V15);
}

#[test]
fn tls_verify_full_pg18() {
    check_tls_verify_full(PgVersion::V18);
}

#[test]
fn cluster_is_torn_down_after_a_panicking_test() {
    let (tx, rx) = mpsc::channel::<(PathBuf, PathBuf, u16, u32)>();
    let outcome = thread::spawn(move || {
        let pg = PgCluster::builder().start().unwrap();
        assert_eq!(pg.query_value("select 1").unwrap(), "1");
        tx.send((
            pg.base_dir().to_owned(),
            pg.data_dir().to_owned(),
            pg.port(),
            pg.postmaster_pid().unwrap(),
        ))
        .unwrap();
        panic!("deliberate panic while a cluster is running");
    })
    .join();
    assert!(outcome.is_err(), "the thread should have panicked");
    let (base, data, port, pid) = rx.recv().unwrap();
    assert!(!data.exists(), "{} still exists", data.display());
    assert!(!base.exists(), "{} still exists", base.display());
    assert!(
        !PathBuf::from(format!("/proc/{pid}")).exists(),
        "postmaster {pid} still runs"
    );
    assert!(
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
        "port {port} still accepts connections"
    );
}

#[test]
fn parallel_clusters_do_not_collide() {
    let handles: Vec<_> = (0..3)
        .map(|i| {
            thread::spawn(move || {
                let pg = PgCluster::builder().start().unwrap();
                pg.psql(&["-qc", &format!("create table marker as select {i} as id")])
                    .unwrap();
                let id = pg.query_value("select id from marker").unwrap();
                (pg.port(), pg.data_dir().to_owned(), id, i)
            })
        })
        .map(|h| h.join().unwrap())
        .collect();
    for (_, _, id, i) in &handles {
        assert_eq!(id, &i.to_string());
    }
    let mut ports: Vec<u16> = handles.iter().map(|h| h.0).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 3);
}

#[test]
fn startup_failure_reports_the_server_log() {
    let err = PgCluster::builder()
        .setting("shared_buffers", "'not a size'")
        .start()
        .unwrap_err()
        .to_string();
    assert!(err.contains("exited during startup"), "{err}");
    assert!(err.contains("shared_buffers"), "log tail missing: {err}");
}
