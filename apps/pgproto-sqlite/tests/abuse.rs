//! Limits and abuse against the tokio server framework running two handlers (the
//! `fixed_server` examples' `testing::fixed_answer`, and this crate's SQLite sessions),
//! compared with real PostgreSQL 15 given the same bytes: oversized and undersized length
//! prefixes, truncated messages, startup packets over the limit, unknown message types,
//! messages out of order, invalid UTF-8, SSL buffer-stuffing (CVE-2021-23214), invalid
//! SCRAM (bad nonce, bad proof, replayed proof, malformed messages), a slowloris client,
//! a client silent during authentication, a configured message limit, and two thousand
//! connections at once. It lives here rather than in pgproto-tokio so that pgproto-tokio
//! does not depend on SQLite.
//!
//! Each case must get the SQLSTATE PostgreSQL sends, with the same severity (FATAL: the
//! connection closes; ERROR: the session goes on); where PostgreSQL closes the connection
//! without a word, ours must close it too (a FATAL 08P01 first is allowed). After every
//! case a normal client must still get an answer.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use pgproto_core::auth::scram::{ChannelBinding, ScramClient};
use pgproto_core::server::{AuthKind, Server, ServerAuth, ServerEvent};
use pgproto_core::testing::fixed_answer;
use pgproto_core::wire::Limits;
use pgproto_sqlite::Database;
use pgproto_tests::harness::{HbaMethod, PasswordEncryption, PgCluster, PgVersion};
use pgproto_tokio::server::{serve_until, Handler, ServerOptions, ServerTls};
use pgproto_tokio::{Client, Error};
use tokio::sync::watch;

struct Fixed;

/// Which handler answers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Example {
    /// `fixed_server`: one row for every query.
    Fixed,
    /// `pgproto-sqlite`: SQL run by SQLite.
    Sqlite,
}

impl Handler for Fixed {
    async fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error> {
        Ok(fixed_answer(server, event)?)
    }
}

const USER: &str = "alice";
const PASSWORD: &str = "s3cret";

/// Our server, on a runtime of its own.
struct Ours {
    rt: tokio::runtime::Runtime,
    port: u16,
    stop: watch::Sender<bool>,
}

impl Ours {
    fn start(kind: AuthKind, startup_timeout: Duration) -> Self {
        Self::start_with(kind, startup_timeout, Limits::default(), Example::Fixed)
    }

    fn start_with(
        kind: AuthKind,
        startup_timeout: Duration,
        limits: Limits,
        example: Example,
    ) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let material = pgproto_tests::harness::tls::generate().unwrap();
        let tls = ServerTls::from_pem(
            material.server_cert_pem.as_bytes(),
            material.server_key_pem.as_bytes(),
        )
        .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut auth = ServerAuth::new(kind, b"mock secret for tests");
        auth.add_user(USER, PASSWORD, b"0123456789abcdef").unwrap();
        let mut options = ServerOptions::new(auth).with_tls(tls);
        options.startup_timeout = startup_timeout;
        options.config.limits = limits;
        let (stop, rx) = watch::channel(false);
        match example {
            Example::Fixed => {
                rt.spawn(serve_until(listener, options, |_| Fixed, rx));
            }
            Example::Sqlite => {
                let db = Database::open(None).unwrap();
                rt.spawn(serve_until(
                    listener,
                    options,
                    move |startup| db.session(startup),
                    rx,
                ));
            }
        }
        Self { rt, port, stop }
    }

    /// A normal client still gets its answer.
    fn check_serving(&self, after: &str) {
        let conninfo = format!(
            "host=127.0.0.1 port={} user={USER} password={PASSWORD} dbname=postgres sslmode=disable",
            self.port
        );
        self.rt.block_on(async {
            let run = async {
                let client = Client::connect(&conninfo).await?;
                let rows = client.simple_query("select 1").await?;
                client.close().await?;
                Ok::<_, Error>(rows)
            };
            let rows = tokio::time::timeout(Duration::from_secs(10), run)
                .await
                .unwrap_or_else(|_| panic!("after {after}: a normal client hung"))
                .unwrap_or_else(|e| panic!("after {after}: a normal client failed: {e}"));
            assert_eq!(rows[0].rows.len(), 1, "after {after}");
        });
    }
}

impl Drop for Ours {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

// ------------------------------------------------------------------------------ probing

enum Act {
    Send(Vec<u8>),
    /// Half-close: the server reads EOF.
    Shutdown,
}

/// What came back: the answer to SSLRequest (if one was sent first), every
/// ErrorResponse as (severity, SQLSTATE), whether ReadyForQuery followed the first
/// error, and whether the server closed the connection.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    errors: Vec<(String, String)>,
    ready_after_error: bool,
    /// ReadyForQuery messages received.
    readies: usize,
    closed: bool,
}

impl Outcome {
    fn first_error(&self) -> Option<(&str, &str)> {
        self.errors.first().map(|(s, c)| (s.as_str(), c.as_str()))
    }
}

fn parse_backend(mut data: &[u8], ssl_first: bool) -> (Vec<(String, String)>, bool, usize) {
    if ssl_first && matches!(data.first(), Some(b'S' | b'N')) {
        data = &data[1..];
    }
    let mut errors = Vec::new();
    let mut ready_after_error = false;
    let mut readies = 0;
    while data.len() >= 5 {
        let tag = data[0];
        let len = u32::from_be_bytes([data[1], data[2], data[3], data[4]]) as usize;
        let Some(body) = data.get(5..1 + len) else {
            break;
        };
        if tag == b'E' {
            let mut severity = String::new();
            let mut code = String::new();
            for field in body.split(|b| *b == 0) {
                match field.first() {
                    Some(b'V') => severity = String::from_utf8_lossy(&field[1..]).into(),
                    Some(b'C') => code = String::from_utf8_lossy(&field[1..]).into(),
                    _ => {}
                }
            }
            errors.push((severity, code));
        }
        if tag == b'Z' {
            readies += 1;
            ready_after_error |= !errors.is_empty();
        }
        data = &data[1 + len..];
    }
    (errors, ready_after_error, readies)
}

/// Runs `acts` on a new connection and reads until the server closes (or 5 s pass).
fn probe(port: u16, acts: &[Act]) -> Outcome {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 8192];
    let mut closed = false;
    let mut drain = |s: &mut TcpStream, received: &mut Vec<u8>, until: Instant| -> bool {
        while Instant::now() < until {
            match s.read(&mut buf) {
                Ok(0) => return true,
                Ok(n) => received.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return true,
            }
        }
        false
    };
    for act in acts {
        match act {
            Act::Send(bytes) => {
                if s.write_all(bytes).is_err() {
                    closed = true;
                    break;
                }
                // Let the server answer each step (as a client waiting would).
                if drain(
                    &mut s,
                    &mut received,
                    Instant::now() + Duration::from_millis(100),
                ) {
                    closed = true;
                    break;
                }
            }
            Act::Shutdown => {
                let _ = s.shutdown(Shutdown::Write);
            }
        }
    }
    if !closed {
        closed = drain(
            &mut s,
            &mut received,
            Instant::now() + Duration::from_secs(5),
        );
    }
    let ssl_first = matches!(acts.first(), Some(Act::Send(b)) if b.starts_with(&SSL_REQUEST));
    let (errors, ready_after_error, readies) = parse_backend(&received, ssl_first);
    Outcome {
        errors,
        ready_after_error,
        readies,
        closed,
    }
}

// ------------------------------------------------------------------------------ messages

const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

fn startup_with(version: u32, params: &[(&str, &str)]) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    for (k, v) in params {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut p = u32::try_from(body.len() + 4)
        .unwrap()
        .to_be_bytes()
        .to_vec();
    p.extend(body);
    p
}

fn startup() -> Vec<u8> {
    startup_with(0x0003_0000, &[("user", USER), ("database", "postgres")])
}

fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![tag];
    m.extend_from_slice(&u32::try_from(body.len() + 4).unwrap().to_be_bytes());
    m.extend_from_slice(body);
    m
}

fn header(tag: u8, len: u32) -> Vec<u8> {
    let mut m = vec![tag];
    m.extend_from_slice(&len.to_be_bytes());
    m
}

fn cstr(s: &[u8]) -> Vec<u8> {
    let mut v = s.to_vec();
    v.push(0);
    v
}

fn parse(name: &[u8], query: &[u8]) -> Vec<u8> {
    let mut b = cstr(name);
    b.extend(cstr(query));
    b.extend_from_slice(&0u16.to_be_bytes());
    msg(b'P', &b)
}

fn bind(portal: &[u8], statement: &[u8]) -> Vec<u8> {
    let mut b = cstr(portal);
    b.extend(cstr(statement));
    b.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    msg(b'B', &b)
}

fn execute(portal: &[u8]) -> Vec<u8> {
    let mut b = cstr(portal);
    b.extend_from_slice(&0u32.to_be_bytes());
    msg(b'E', &b)
}

fn sync() -> Vec<u8> {
    msg(b'S', &[])
}

fn terminate() -> Vec<u8> {
    msg(b'X', &[])
}

fn query(sql: &[u8]) -> Vec<u8> {
    msg(b'Q', &cstr(sql))
}

/// A session: startup, the given messages, then Terminate.
fn session(messages: Vec<Vec<u8>>) -> Vec<Act> {
    let mut acts = vec![Act::Send(startup())];
    acts.extend(messages.into_iter().map(Act::Send));
    acts.push(Act::Send(terminate()));
    acts
}

struct Case {
    name: &'static str,
    acts: Vec<Act>,
}

fn cases() -> Vec<Case> {
    // PostgreSQL's MAX_STARTUP_PACKET_LENGTH (10,000) counts the body only: 10,004
    // bytes in all is the largest startup packet accepted.
    let mut largest = startup_with(
        0x0003_0000,
        &[
            ("user", USER),
            ("database", "postgres"),
            ("application_name", ""),
        ],
    );
    let pad = 10_004 - largest.len();
    largest = startup_with(
        0x0003_0000,
        &[
            ("user", USER),
            ("database", "postgres"),
            ("application_name", &"a".repeat(pad)),
        ],
    );
    assert_eq!(largest.len(), 10_004);
    let mut big_startup = u32::try_from(10_005).unwrap().to_be_bytes().to_vec();
    big_startup.extend_from_slice(&[0, 3, 0, 0]);
    big_startup.extend(vec![b'a'; 2000]);
    let mut stuffed = SSL_REQUEST.to_vec();
    stuffed.extend(startup());
    vec![
        Case {
            name: "startup packet of 10,004 bytes (the largest accepted)",
            acts: vec![Act::Send(largest), Act::Send(terminate())],
        },
        Case {
            name: "startup packet over the limit (10,005 bytes)",
            acts: vec![Act::Send(big_startup)],
        },
        Case {
            name: "startup length prefix 0x7fffffff",
            acts: vec![Act::Send(vec![0x7f, 0xff, 0xff, 0xff, 0, 3, 0, 0])],
        },
        Case {
            name: "startup length prefix below the minimum",
            acts: vec![Act::Send(vec![0, 0, 0, 3, 0, 3, 0, 0])],
        },
        Case {
            name: "HTTP request instead of a startup packet",
            acts: vec![Act::Send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec())],
        },
        Case {
            name: "truncated startup packet, then EOF",
            acts: vec![
                Act::Send(vec![0, 0, 0, 100, 0, 3, 0, 0, b'u', b's']),
                Act::Shutdown,
            ],
        },
        Case {
            name: "unsupported protocol version 9.9",
            acts: vec![Act::Send(startup_with(0x0009_0009, &[("user", USER)]))],
        },
        Case {
            name: "startup packet without a user",
            acts: vec![Act::Send(startup_with(
                0x0003_0000,
                &[("database", "postgres")],
            ))],
        },
        Case {
            name: "SSL buffer-stuffing: StartupMessage behind SSLRequest (CVE-2021-23214)",
            acts: vec![Act::Send(stuffed)],
        },
        Case {
            name: "Query length prefix 0x7fffffff",
            acts: vec![Act::Send(startup()), Act::Send(header(b'Q', 0x7fff_ffff))],
        },
        Case {
            name: "Sync length prefix 2 (below 4)",
            acts: vec![Act::Send(startup()), Act::Send(header(b'S', 2))],
        },
        Case {
            name: "Sync length prefix 0x10000000 (over the small-message limit)",
            acts: vec![Act::Send(startup()), Act::Send(header(b'S', 0x1000_0000))],
        },
        Case {
            name: "truncated Query, then EOF",
            acts: vec![
                Act::Send(startup()),
                Act::Send({
                    let mut q = header(b'Q', 100);
                    q.extend_from_slice(b"sel");
                    q
                }),
                Act::Shutdown,
            ],
        },
        Case {
            name: "unknown message type 'z'",
            acts: session(vec![msg(b'z', b"")]),
        },
        Case {
            name: "Bind before Parse",
            acts: session(vec![bind(b"", b""), sync(), query(b"select 1")]),
        },
        Case {
            name: "Bind to an unknown statement",
            acts: session(vec![bind(b"", b"nope"), sync()]),
        },
        Case {
            name: "Execute an unknown portal",
            acts: session(vec![execute(b"nope"), sync()]),
        },
        Case {
            name: "Describe an unknown statement",
            acts: session(vec![msg(b'D', b"Snope\0"), sync()]),
        },
        Case {
            name: "CopyData, CopyDone, CopyFail outside COPY",
            acts: session(vec![
                msg(b'd', b"1\t2\n"),
                msg(b'c', b""),
                msg(b'f', b"no\0"),
                sync(),
                query(b"select 1"),
            ]),
        },
        Case {
            name: "invalid UTF-8 in a statement name",
            acts: session(vec![parse(b"\xff\xfe", b"select 1"), sync()]),
        },
        Case {
            name: "invalid UTF-8 in a query",
            acts: session(vec![query(b"select '\xc3\x28'")]),
        },
        Case {
            name: "invalid UTF-8 in a portal name",
            acts: session(vec![execute(b"\x80"), sync()]),
        },
        Case {
            name: "Bind whose parameter count runs past the body",
            acts: session(vec![
                parse(b"", b"select 1"),
                msg(b'B', b"\0\0\0\0\0\x05\0\0\0\x10ab"),
                sync(),
            ]),
        },
        Case {
            name: "Query without its terminating NUL",
            acts: session(vec![msg(b'Q', b"select 1")]),
        },
        Case {
            name: "Sync with trailing bytes",
            acts: session(vec![msg(b'S', b"junk")]),
        },
    ]
}

/// Our outcome is acceptable for PostgreSQL's: the same first SQLSTATE and severity
/// and the same fate of the session. Where PostgreSQL sends nothing, we may send a
/// FATAL 08P01 before closing; the same number of ReadyForQuery always; where it closes, we close too. (Where PostgreSQL sends
/// nothing and keeps waiting, as with bytes stuffed behind SSLRequest, which it takes
/// for the start of a TLS handshake, closing at once is fine.)
fn compatible(pg: &Outcome, ours: &Outcome) -> bool {
    if pg.readies != ours.readies {
        return false;
    }
    match pg.first_error() {
        Some(_) => {
            pg.first_error() == ours.first_error()
                && pg.ready_after_error == ours.ready_after_error
                && pg.closed == ours.closed
        }
        None => {
            (ours.closed || !pg.closed)
                && match ours.first_error() {
                    None => true,
                    Some((severity, code)) => ours.closed && severity == "FATAL" && code == "08P01",
                }
        }
    }
}

fn pg15(method: HbaMethod) -> PgCluster {
    let pg = PgCluster::builder()
        .version(PgVersion::V15)
        .auth(method)
        .tls(true)
        .start()
        .expect("PostgreSQL 15 (apt-get install postgresql-15)");
    pg.create_role(USER, PASSWORD, PasswordEncryption::ScramSha256)
        .unwrap();
    pg
}

#[test]
fn abuse_gets_what_postgresql_sends_and_the_server_keeps_serving() {
    let pg = pg15(HbaMethod::Trust);
    let examples = [Example::Fixed, Example::Sqlite].map(|example| {
        let limits = Limits::default();
        let ours = Ours::start_with(AuthKind::Trust, Duration::from_secs(60), limits, example);
        (example, ours)
    });
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for case in cases() {
        let expected = probe(pg.port(), &case.acts);
        for (example, ours) in &examples {
            let got = probe(ours.port, &case.acts);
            report.push(format!(
                "{} ({example:?}): postgres {:?} closed={} | ours {:?} closed={}",
                case.name, expected.errors, expected.closed, got.errors, got.closed
            ));
            if !compatible(&expected, &got) {
                failures.push(format!(
                    "{} ({example:?}):\n  postgres {expected:?}\n  ours     {got:?}",
                    case.name
                ));
            }
            ours.check_serving(&format!("{} ({example:?})", case.name));
        }
    }
    println!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------- SCRAM

/// How to spoil the client's side of a SCRAM exchange.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Spoil {
    /// The honest exchange (control: it must succeed).
    None,
    /// client-final with a nonce other than the server's.
    Nonce,
    /// client-final with a wrong proof.
    Proof,
    /// The whole client-final of an earlier successful session, replayed.
    ReplayFinal,
    /// An earlier session's proof under this session's nonce.
    ReplayProof,
    /// A client-first message that is not SCRAM.
    MalformedFirst,
    /// A mechanism the server did not offer.
    Mechanism,
}

fn read_message(s: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut head = [0u8; 5];
    s.read_exact(&mut head).ok()?;
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    let mut body = vec![0; len.checked_sub(4)?];
    s.read_exact(&mut body).ok()?;
    Some((head[0], body))
}

/// Reads until an Authentication message with `code`; its data. Every message read is
/// appended to `log` (re-encoded).
fn read_auth(s: &mut TcpStream, code: u32, log: &mut Vec<u8>) -> Option<Vec<u8>> {
    loop {
        let (tag, body) = read_message(s)?;
        log.extend(msg(tag, &body));
        if tag == b'R' && body.get(..4) == Some(&code.to_be_bytes()[..]) {
            return Some(body[4..].to_vec());
        }
        if tag == b'E' {
            return None;
        }
    }
}

fn sasl_initial(mechanism: &str, data: &[u8]) -> Vec<u8> {
    let mut b = cstr(mechanism.as_bytes());
    b.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
    b.extend_from_slice(data);
    msg(b'p', &b)
}

fn field<'a>(message: &'a str, key: &str) -> &'a str {
    message
        .split(',')
        .find_map(|f| f.strip_prefix(key))
        .unwrap_or_default()
}

/// One SCRAM attempt; returns the outcome and the client-final message sent.
fn scram_attempt(port: u16, spoil: Spoil, earlier_final: Option<&str>) -> (Outcome, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(&startup()).unwrap();
    let mut log = Vec::new();
    read_auth(&mut s, 10, &mut log).expect("AuthenticationSASL");
    let mut client = ScramClient::new(
        PASSWORD.as_bytes(),
        ChannelBinding::Unsupported,
        b"0123456789abcdefghijklmn",
    )
    .unwrap();
    let first: Vec<u8> = match spoil {
        Spoil::MalformedFirst => b"this is not scram".to_vec(),
        _ => client.client_first_message().to_vec(),
    };
    let mechanism = if spoil == Spoil::Mechanism {
        "SCRAM-SHA-1"
    } else {
        "SCRAM-SHA-256"
    };
    s.write_all(&sasl_initial(mechanism, &first)).unwrap();
    let mut sent_final = String::new();
    if let Some(server_first) = read_auth(&mut s, 11, &mut log) {
        let honest = String::from_utf8(client.handle_server_first(&server_first).unwrap()).unwrap();
        let nonce = field(&honest, "r=");
        let proof = field(&honest, "p=");
        sent_final = match spoil {
            Spoil::Nonce => honest.replace(nonce, &format!("{nonce}x")),
            Spoil::Proof => {
                let mut p = proof.to_string();
                let flipped = if p.starts_with('A') { "B" } else { "A" };
                p.replace_range(0..1, flipped);
                honest.replace(proof, &p)
            }
            Spoil::ReplayFinal => earlier_final.unwrap().to_string(),
            Spoil::ReplayProof => honest.replace(proof, field(earlier_final.unwrap(), "p=")),
            _ => honest,
        };
        s.write_all(&msg(b'p', sent_final.as_bytes())).unwrap();
    }
    s.write_all(&terminate()).unwrap_or(());
    let _ = s.read_to_end(&mut log);
    let (errors, ready_after_error, readies) = parse_backend(&log, false);
    let authenticated = log.windows(2).any(|w| w == b"Z\0");
    assert_eq!(authenticated, spoil == Spoil::None, "{spoil:?}: {errors:?}");
    (
        Outcome {
            errors,
            ready_after_error,
            readies,
            closed: true,
        },
        sent_final,
    )
}

#[test]
fn invalid_scram_gets_what_postgresql_sends() {
    let pg = pg15(HbaMethod::ScramSha256);
    let ours = Ours::start(AuthKind::ScramSha256, Duration::from_secs(60));
    let mut failures = Vec::new();
    let (_, pg_final) = scram_attempt(pg.port(), Spoil::None, None);
    let (_, our_final) = scram_attempt(ours.port, Spoil::None, None);
    for spoil in [
        Spoil::Nonce,
        Spoil::Proof,
        Spoil::ReplayFinal,
        Spoil::ReplayProof,
        Spoil::MalformedFirst,
        Spoil::Mechanism,
    ] {
        let (expected, _) = scram_attempt(pg.port(), spoil, Some(&pg_final));
        let (got, _) = scram_attempt(ours.port, spoil, Some(&our_final));
        println!(
            "{spoil:?}: postgres {:?} | ours {:?}",
            expected.errors, got.errors
        );
        if expected.first_error().is_none() || expected.first_error() != got.first_error() {
            failures.push(format!("{spoil:?}: postgres {expected:?}, ours {got:?}"));
        }
        ours.check_serving(&format!("{spoil:?}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// --------------------------------------------------------------------- slowloris, floods

#[test]
fn slowloris_is_cut_off_by_the_startup_timeout() {
    let ours = Ours::start(AuthKind::Trust, Duration::from_secs(2));
    let port = ours.port;
    let slow = std::thread::spawn(move || {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let started = Instant::now();
        for byte in startup() {
            if s.write_all(&[byte]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
            // The server closes: a read returns EOF (or the write fails).
            s.set_nonblocking(true).unwrap();
            let mut b = [0u8; 64];
            let gone = matches!(s.read(&mut b), Ok(0))
                || matches!(s.read(&mut b), Err(ref e) if e.kind() != std::io::ErrorKind::WouldBlock);
            s.set_nonblocking(false).unwrap();
            if gone {
                break;
            }
            if started.elapsed() > Duration::from_secs(15) {
                break;
            }
        }
        started.elapsed()
    });
    // Meanwhile, everyone else is served.
    std::thread::sleep(Duration::from_millis(700));
    ours.check_serving("a slowloris connection opened");
    let elapsed = slow.join().unwrap();
    assert!(
        elapsed >= Duration::from_millis(1500) && elapsed < Duration::from_secs(5),
        "the slow client was cut off after {elapsed:?} (timeout 2 s)"
    );
    ours.check_serving("a slowloris connection was cut off");
}

/// A client that sends its startup packet and then never answers the authentication
/// request is cut off by the same timeout.
#[test]
fn silent_client_is_cut_off_during_authentication() {
    let ours = Ours::start(AuthKind::ScramSha256, Duration::from_secs(2));
    let mut s = TcpStream::connect(("127.0.0.1", ours.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = Instant::now();
    s.write_all(&startup()).unwrap();
    let mut log = Vec::new();
    read_auth(&mut s, 10, &mut log).expect("AuthenticationSASL");
    ours.check_serving("a client went silent during authentication");
    // PostgreSQL closes silently when authentication_timeout expires.
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1500) && elapsed < Duration::from_secs(5),
        "cut off after {elapsed:?} (timeout 2 s)"
    );
    ours.check_serving("a silent client was cut off");
}

/// The adapter applies the configured framing limits: a message declared larger is
/// refused before its body is read (FATAL 08P01), others are not disturbed.
#[test]
fn configured_message_limit_is_enforced() {
    let limits = Limits {
        max_message_len: 1 << 20,
        ..Limits::default()
    };
    let ours = Ours::start_with(
        AuthKind::Trust,
        Duration::from_secs(60),
        limits,
        Example::Fixed,
    );
    let big = 2u32 << 20;
    let got = probe(
        ours.port,
        &[Act::Send(startup()), Act::Send(header(b'Q', big))],
    );
    assert_eq!(got.first_error(), Some(("FATAL", "08P01")), "{got:?}");
    assert!(got.closed);
    // Just under the limit is fine (a 1 MiB - 100 query).
    let mut sql = b"select 1 -- ".to_vec();
    sql.resize((1 << 20) - 100, b'x');
    let got = probe(ours.port, &session(vec![query(&sql)]));
    assert_eq!(got.errors, [], "{got:?}");
    assert_eq!(got.readies, 2);
    ours.check_serving("an oversized message");
}

#[test]
fn two_thousand_connections_at_once() {
    let ours = Ours::start(AuthKind::Trust, Duration::from_secs(60));
    const N: usize = 2000;
    let mut conns = Vec::with_capacity(N);
    for _ in 0..N {
        let mut s = TcpStream::connect(("127.0.0.1", ours.port)).unwrap();
        s.write_all(&startup()).unwrap();
        conns.push(s);
    }
    // Every one of them completes startup and answers a query.
    for s in &mut conns {
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        loop {
            let (tag, _) = read_message(s).expect("startup answer");
            if tag == b'Z' {
                break;
            }
        }
        s.write_all(&query(b"select 1")).unwrap();
    }
    ours.check_serving("2000 connections opened");
    for s in &mut conns {
        let mut rows = 0;
        loop {
            let (tag, _) = read_message(s).expect("query answer");
            match tag {
                b'D' => rows += 1,
                b'Z' => break,
                _ => {}
            }
        }
        assert_eq!(rows, 1);
    }
    // Half of them vanish without Terminate, the rest say goodbye.
    for (i, mut s) in conns.into_iter().enumerate() {
        if i % 2 == 0 {
            s.write_all(&terminate()).unwrap();
        }
    }
    ours.check_serving("2000 connections closed");
}
