//! The core embedded with none of pgproto's adapters: `pgproto-core`'s examples
//! `mio_client`, `nonblocking_client` and `mio_server`, compiled into this test as
//! modules, against real PostgreSQL 15 and 18 and real clients (psql, pgbench,
//! tokio-postgres).

// Both client examples declare `mod common;` (their shared helpers): included here,
// each gets its own copy, as each example binary does.
#![allow(clippy::duplicate_mod)]

use std::io::Read;
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pgproto_core::server::{AuthKind, ServerAuth, SessionSetup};
use pgproto_tests::harness::{HbaMethod, PasswordEncryption, PgCluster, PgVersion};

#[allow(dead_code)]
#[path = "../../pgproto-core/examples/mio_client.rs"]
mod mio_client;
#[allow(dead_code)]
#[path = "../../pgproto-core/examples/mio_server.rs"]
mod mio_server;
#[allow(dead_code)]
#[path = "../../pgproto-core/examples/nonblocking_client.rs"]
mod nonblocking_client;

use mio_client::Protocol;
// The same type, compiled a second time in the other example's module.
use nonblocking_client::Protocol as NbProtocol;

const PG15_BIN: &str = "/usr/lib/postgresql/15/bin";

/// Runs the mio client and returns its success and output.
fn run_mio_client(
    conninfo: &str,
    protocol: Protocol,
    queries: &[&str],
    connections: usize,
    timeout: Option<Duration>,
) -> (bool, String) {
    let options = mio_client::Options {
        conninfo: conninfo.to_string(),
        queries: queries.iter().map(|q| q.to_string()).collect(),
        connections,
        timeout,
        protocol,
    };
    let mut out = Vec::new();
    let ok = mio_client::run(&options, &mut out).unwrap();
    (ok, String::from_utf8(out).unwrap())
}

/// Runs the non-blocking client to completion (bounded) and returns its output.
fn run_nonblocking_client(conninfo: &str, protocol: NbProtocol, queries: &[&str]) -> String {
    let queries: Vec<String> = queries.iter().map(|q| q.to_string()).collect();
    let mut connection =
        nonblocking_client::Connection::connect(conninfo, protocol, &queries).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !connection.is_done() {
        assert!(Instant::now() < deadline, "the client did not finish");
        connection.tick(&mut out).unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
    String::from_utf8(out).unwrap()
}

/// The lines a client printed under `label`, without the label.
fn lines_of<'a>(output: &'a str, label: &str) -> Vec<&'a str> {
    let prefix = format!("{label}: ");
    output
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .collect()
}

/// What the examples print for `query` when it succeeds: psql's own rows (`-At`),
/// then the command tag `SELECT n` with psql's row count.
fn expected_from_psql(pg: &PgCluster, conninfo: &str, query: &str) -> Vec<String> {
    let out = pg.psql_connect(conninfo, &["-At", "-c", query]).unwrap();
    let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
    lines.push(format!("SELECT {}", lines.len()));
    lines
}

const QUERIES: [&str; 4] = [
    "select 1 as a, 'x' as b",
    "select g, g * 2, null::text from generate_series(1, 3) g",
    "select current_user, version()",
    "select 1/0",
];

fn cluster(version: PgVersion, auth: HbaMethod) -> (PgCluster, String) {
    let pg = PgCluster::builder()
        .version(version)
        .auth(auth)
        .start()
        .unwrap();
    let encryption = match auth {
        HbaMethod::Md5 => PasswordEncryption::Md5,
        _ => PasswordEncryption::ScramSha256,
    };
    pg.create_role("alice", "s3cret", encryption).unwrap();
    let conninfo = format!(
        "{} sslmode=disable",
        pg.connection_string("alice", Some("s3cret"))
    );
    (pg, conninfo)
}

/// Every connection prints what psql prints for the same queries, and the division by
/// zero as an error that leaves the connection usable.
fn mio_client_matches_psql(version: PgVersion) {
    let (pg, conninfo) = cluster(version, HbaMethod::ScramSha256);
    let mut queries: Vec<&str> = QUERIES.to_vec();
    queries.push("select 'after the error'");
    let mut expected = Vec::new();
    for q in &queries {
        if *q == "select 1/0" {
            expected.push("ERROR 22012: division by zero".to_string());
        } else {
            expected.extend(expected_from_psql(&pg, &conninfo, q));
        }
    }
    for protocol in [Protocol::Simple, Protocol::Extended] {
        let (ok, output) = run_mio_client(&conninfo, protocol, &queries, 4, None);
        assert!(ok, "{protocol:?}: {output}");
        for i in 0..4 {
            assert_eq!(
                lines_of(&output, &format!("conn{i}")),
                expected,
                "{protocol:?}: {output}"
            );
        }
    }
}

#[test]
fn mio_client_against_postgres_15() {
    mio_client_matches_psql(PgVersion::V15);
}

#[test]
fn mio_client_against_postgres_18() {
    mio_client_matches_psql(PgVersion::V18);
}

/// A query past its deadline is cancelled over a separate connection (the loop's
/// clock, the core's CancelToken); the connection then runs the next query.
#[test]
fn mio_client_timeout_cancels_the_query() {
    let (_pg, conninfo) = cluster(PgVersion::V15, HbaMethod::Md5);
    let started = Instant::now();
    let (ok, output) = run_mio_client(
        &conninfo,
        Protocol::Simple,
        &["select pg_sleep(30)", "select 42"],
        2,
        Some(Duration::from_millis(300)),
    );
    assert!(ok, "{output}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "cancel took {:?}",
        started.elapsed()
    );
    for i in 0..2 {
        assert_eq!(
            lines_of(&output, &format!("conn{i}")),
            [
                "ERROR 57014: canceling statement due to user request",
                "42",
                "SELECT 1"
            ],
            "{output}"
        );
    }
}

#[test]
fn nonblocking_client_matches_psql() {
    for version in [PgVersion::V15, PgVersion::V18] {
        let (pg, conninfo) = cluster(version, HbaMethod::Md5);
        let mut expected = Vec::new();
        for q in QUERIES {
            if q == "select 1/0" {
                expected.push("ERROR 22012: division by zero".to_string());
            } else {
                expected.extend(expected_from_psql(&pg, &conninfo, q));
            }
        }
        for protocol in [NbProtocol::Extended, NbProtocol::Simple] {
            let output = run_nonblocking_client(&conninfo, protocol, &QUERIES);
            assert_eq!(
                lines_of(&output, "nb"),
                expected,
                "{version:?} {protocol:?}: {output}"
            );
        }
    }
}

/// TLS in the example clients' loop (rustls between the socket and the core):
/// verify-full with SCRAM-SHA-256-PLUS required, after SSLRequest against PostgreSQL 15
/// and as direct TLS against PostgreSQL 18; results larger than a TLS record.
#[test]
fn example_clients_over_tls() {
    for (version, negotiation) in [(PgVersion::V15, "postgres"), (PgVersion::V18, "direct")] {
        let pg = PgCluster::builder()
            .version(version)
            .auth(HbaMethod::ScramSha256)
            .tls(true)
            .start()
            .unwrap();
        pg.create_role("alice", "s3cret", PasswordEncryption::ScramSha256)
            .unwrap();
        let ca = pg.ca_cert_path().unwrap().display().to_string();
        let verified = format!(
            "{} sslmode=verify-full sslrootcert={ca}",
            pg.connection_string("alice", Some("s3cret"))
        );
        let conninfo = format!("{verified} channel_binding=require sslnegotiation={negotiation}");
        let queries = [
            "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
            "select repeat('x', 100000), current_user",
            "select g, md5(g::text) from generate_series(1, 3000) g",
            "select 1/0",
        ];
        let mut expected = Vec::new();
        for q in queries {
            if q == "select 1/0" {
                expected.push("ERROR 22012: division by zero".to_string());
            } else {
                expected.extend(expected_from_psql(&pg, &verified, q));
            }
        }
        // PostgreSQL's own account of the connection.
        assert_eq!(expected[0], "t", "psql over TLS");
        let (ok, output) = run_mio_client(&conninfo, Protocol::Simple, &queries, 3, None);
        assert!(ok, "{version:?}: {output}");
        for i in 0..3 {
            assert!(
                lines_of(&output, &format!("conn{i}")) == expected,
                "{version:?} conn{i}: {} lines, expected {}",
                lines_of(&output, &format!("conn{i}")).len(),
                expected.len()
            );
        }
        let output = run_nonblocking_client(&conninfo, NbProtocol::Extended, &queries);
        assert!(
            lines_of(&output, "nb") == expected,
            "{version:?}: {}",
            output.lines().take(5).collect::<Vec<_>>().join("\n")
        );
    }
}

/// The mio server on its own thread; stopped and joined on drop.
struct MioServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl MioServer {
    fn start(kind: AuthKind, startup_timeout: Duration) -> Self {
        let listener = mio::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut auth = ServerAuth::new(kind, b"mock secret for tests");
        auth.add_user("alice", "s3cret", b"0123456789abcdef")
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            mio_server::serve(listener, SessionSetup::new(auth), startup_timeout, &flag)
        });
        Self {
            port,
            stop,
            thread: Some(thread),
        }
    }

    fn conninfo(&self, password: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user=alice password={password} dbname=db sslmode=disable",
            self.port
        )
    }
}

impl Drop for MioServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let result = t.join().expect("server thread panicked");
            if !std::thread::panicking() {
                result.expect("server loop failed");
            }
        }
    }
}

fn psql(conninfo: &str, sql: &str) -> std::process::Output {
    Command::new(format!("{PG15_BIN}/psql"))
        .args(["-X", "-At", "-d", conninfo, "-c", sql])
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .unwrap()
}

fn pgbench(server: &MioServer, mode: &str, clients: usize) -> String {
    let script = std::env::temp_dir().join(format!("pgproto-mio-{}-{mode}.sql", server.port));
    std::fs::write(&script, "select 1;\n").unwrap();
    let out = Command::new(format!("{PG15_BIN}/pgbench"))
        .env("PGPASSWORD", "s3cret")
        .args(["-n", "-t", "100", "-c", &clients.to_string(), "-M", mode])
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &server.port.to_string(),
            "-U",
            "alice",
            "-f",
        ])
        .arg(&script)
        .arg("db")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&script);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// psql and pgbench (simple, extended and prepared, 16 connections on the server's
/// one thread), with SCRAM, and a wrong password refused.
#[test]
fn mio_server_with_psql_and_pgbench() {
    let server = MioServer::start(AuthKind::ScramSha256, Duration::from_secs(10));
    let out = psql(&server.conninfo("s3cret"), "select 1");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1");

    for mode in ["simple", "extended", "prepared"] {
        let stdout = pgbench(&server, mode, 16);
        assert!(
            stdout.contains("actually processed: 1600/1600"),
            "{mode}: {stdout}"
        );
    }

    let out = psql(&server.conninfo("wrong"), "select 1");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("password authentication failed"),
        "{stderr}"
    );
}

/// tokio-postgres: extended protocol with binary results and a parameter, a prepared
/// statement used by pipelined queries, the simple protocol; with each auth method.
#[test]
fn mio_server_with_tokio_postgres() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for kind in [
        AuthKind::Trust,
        AuthKind::Password,
        AuthKind::Md5,
        AuthKind::ScramSha256,
    ] {
        let server = MioServer::start(kind, Duration::from_secs(10));
        runtime.block_on(async {
            let (client, connection) =
                tokio_postgres::connect(&server.conninfo("s3cret"), tokio_postgres::NoTls)
                    .await
                    .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            let conn = tokio::spawn(connection);
            let row = client.query_one("select $1::int4", &[&7i32]).await.unwrap();
            assert_eq!(row.get::<_, i32>(0), 1);
            let st = client.prepare("select 1").await.unwrap();
            let (a, b) = tokio::join!(client.query(&st, &[]), client.query(&st, &[]));
            assert_eq!(a.unwrap().len() + b.unwrap().len(), 2);
            let msgs = client.simple_query("select 1").await.unwrap();
            assert!(
                matches!(&msgs[1], tokio_postgres::SimpleQueryMessage::Row(r) if r.get(0) == Some("1")),
                "{kind:?}"
            );
            // A sleep cancelled through tokio-postgres' CancelRequest.
            let token = client.cancel_token();
            let canceller = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                token.cancel_query(tokio_postgres::NoTls).await
            });
            let started = Instant::now();
            let err = client
                .simple_query("select pg_sleep(30)")
                .await
                .expect_err("cancelled");
            assert_eq!(err.code(), Some(&tokio_postgres::error::SqlState::QUERY_CANCELED));
            assert!(started.elapsed() < Duration::from_secs(10));
            canceller.await.unwrap().unwrap();
            let row = client.query_one("select 1", &[]).await.unwrap();
            assert_eq!(row.get::<_, i32>(0), 1, "usable after the cancel");
            drop(client);
            conn.await.unwrap().unwrap();
        });
    }
}

/// The two example clients against the example server: what psql gets, they get.
#[test]
fn example_clients_against_mio_server() {
    let server = MioServer::start(AuthKind::Md5, Duration::from_secs(10));
    let conninfo = server.conninfo("s3cret");
    let out = psql(&conninfo, "select anything");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut expected: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    expected.push(format!("SELECT {}", expected.len()));

    // sslmode=prefer: the server refuses the SSLRequest, the clients go on in plain text.
    let conninfo = conninfo.replace("sslmode=disable", "sslmode=prefer");
    for protocol in [Protocol::Simple, Protocol::Extended] {
        let (ok, output) = run_mio_client(&conninfo, protocol, &["select anything"], 8, None);
        assert!(ok, "{output}");
        for i in 0..8 {
            assert_eq!(lines_of(&output, &format!("conn{i}")), expected, "{output}");
        }
    }
    for protocol in [NbProtocol::Simple, NbProtocol::Extended] {
        let output = run_nonblocking_client(&conninfo, protocol, &["select anything"]);
        assert_eq!(lines_of(&output, "nb"), expected, "{output}");
    }
}

/// A connection that never completes startup is closed at the loop's deadline, while
/// a ready one stays usable.
#[test]
fn mio_server_closes_connections_stuck_in_startup() {
    let server = MioServer::start(AuthKind::Trust, Duration::from_millis(300));
    let mut idle = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let n = idle.read(&mut buf).expect("closed, not timed out");
    assert_eq!(n, 0, "the server sent {:?}", &buf[..n]);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
        "closed after {waited:?}"
    );
    let out = psql(&server.conninfo("s3cret"), "select 1");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The server's sleep answers like PostgreSQL's: the mio client prints the same for
/// PostgreSQL and for the mio server, for a sleep that ends and one cancelled at the
/// client's deadline; and eight connections sleep at once on the server's one thread.
#[test]
fn mio_server_sleeps_and_cancels_like_postgres() {
    let (_pg, pg_conninfo) = cluster(PgVersion::V15, HbaMethod::ScramSha256);
    let server = MioServer::start(AuthKind::ScramSha256, Duration::from_secs(10));
    let queries = [
        "select pg_sleep(0.2)",
        "select pg_sleep(30)",
        "select pg_sleep(0)",
    ];
    let timeout = Some(Duration::from_millis(1000));
    let (ok, from_postgres) = run_mio_client(&pg_conninfo, Protocol::Simple, &queries, 1, timeout);
    assert!(ok, "{from_postgres}");
    let (ok, from_mio) = run_mio_client(
        &server.conninfo("s3cret"),
        Protocol::Simple,
        &queries,
        1,
        timeout,
    );
    assert!(ok, "{from_mio}");
    assert_eq!(from_mio, from_postgres);
    assert!(from_mio.contains("57014"), "{from_mio}");

    let started = Instant::now();
    let (ok, output) = run_mio_client(
        &server.conninfo("s3cret"),
        Protocol::Simple,
        &["select pg_sleep(0.5)"],
        8,
        None,
    );
    assert!(ok, "{output}");
    assert_eq!(
        output.lines().filter(|l| l.ends_with(": SELECT 1")).count(),
        8
    );
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "8 sleeps of 0.5 s took {took:?}"
    );
}

/// A client that pipelines many queries before reading any answer: the server stops
/// reading while its output waits (back-pressure) and resumes when the client reads;
/// every query is answered.
#[test]
fn mio_server_pauses_and_resumes_reading() {
    use pgproto_core::client::{Client, Config, Event, SslMode};
    use pgproto_core::message::Query;
    use pgproto_core::wire::{Direction, Framer, Limits};
    use std::io::Write;

    let server = MioServer::start(AuthKind::Trust, Duration::from_secs(10));
    let mut socket = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // Startup with the core client, blocking.
    let mut config = Config::new("alice");
    config.ssl_mode = SslMode::Disable;
    let mut core = Client::new(config, &[9; 24]);
    let mut buf = vec![0u8; 64 * 1024];
    'startup: loop {
        while let Some(bytes) = core.poll_transmit() {
            socket.write_all(&bytes).unwrap();
        }
        let n = socket.read(&mut buf).unwrap();
        assert!(n > 0, "closed during startup");
        core.handle_input(&buf[..n]);
        while let Some(event) = core.poll_event().unwrap() {
            if event == Event::Ready {
                break 'startup;
            }
        }
    }
    // 200,000 queries (2.8 MB) written without reading: about 12 MB of answers.
    const QUERIES: usize = 200_000;
    let mut writer = socket.try_clone().unwrap();
    let write = std::thread::spawn(move || {
        let mut chunk = bytes::BytesMut::new();
        for _ in 0..1000 {
            Query { query: "select 1" }.encode(&mut chunk).unwrap();
        }
        for _ in 0..QUERIES / 1000 {
            writer.write_all(&chunk).unwrap();
        }
    });
    // Let the server's output pile up first.
    std::thread::sleep(Duration::from_millis(300));
    let mut framer = Framer::new(Direction::Backend, Limits::default());
    let mut ready = 0;
    while ready < QUERIES {
        let n = socket.read(&mut buf).unwrap();
        assert!(n > 0, "closed after {ready} answers");
        framer.push(&buf[..n]);
        while let Some(frame) = framer.next_frame_ref().unwrap() {
            if frame.tag == Some(b'Z') {
                ready += 1;
            }
        }
    }
    write.join().unwrap();
    assert_eq!(framer.buffered_len(), 0);
}
