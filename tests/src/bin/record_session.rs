//! Records real PostgreSQL sessions for the codec tests.
//!
//! ```text
//! record_session scenarios [--out-dir DIR] [NAME...]
//!     Start throwaway clusters, run the scripted clients through a
//!     recording relay and write NAME.frontend.bin / NAME.backend.bin
//!     (default DIR: pgproto-core/tests/data; default: all scenarios).
//! record_session relay --upstream HOST:PORT --out PREFIX [--listen ADDR] [--connections N]
//!     Relay N (default 1) connections from ADDR (default 127.0.0.1:0) to
//!     the server, writing PREFIX[.i].frontend.bin / .backend.bin.
//! record_session dump FILE...
//!     List the messages of recorded streams.
//! ```

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use pgproto_tests::framing::{
    count_by_tag, direction_from_file_name, split_messages, Direction, RawMessage,
};
use pgproto_tests::harness::{HbaMethod, PasswordEncryption, PgCluster, PgVersion};
use pgproto_tests::relay::{RecordedConnection, RecordingRelay};

type Result<T> = std::result::Result<T, String>;

const PSQL_SCRIPT: &str = include_str!("../../scripts/pg15_psql.sql");
const PGBENCH_SCRIPT: &str = include_str!("../../scripts/pgbench.sql");
const PG18_SCRIPT: &str = include_str!("../../scripts/pg18_psql.sql");

/// Scenario names, in recording order.
const SCENARIOS: [&str; 6] = [
    "pg15_psql",
    "pg15_pgbench_extended",
    "pg15_pgbench_prepared",
    "pg18_psql_proto32",
    "pg15_psql_cancel",
    "pg18_psql_proto32_cancel",
];

/// The recording of a scenario: the session, and for the cancel scenarios
/// the separate connection that carried the CancelRequest (the server
/// sends nothing on it).
struct Recording {
    session: RecordedConnection,
    cancel_request: Option<Vec<u8>>,
}

impl From<RecordedConnection> for Recording {
    fn from(session: RecordedConnection) -> Self {
        Self {
            session,
            cancel_request: None,
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("scenarios") => scenarios(&args[1..]),
        Some("relay") => relay(&args[1..]),
        Some("dump") => dump(&args[1..]),
        _ => Err(usage()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("record_session: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> String {
    "usage:\n  record_session scenarios [--out-dir DIR] [NAME...]\n  \
     record_session relay --upstream HOST:PORT --out PREFIX [--listen ADDR] [--connections N]\n  \
     record_session dump FILE..."
        .to_owned()
}

fn default_out_dir() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .unwrap_or(manifest_dir)
        .join("pgproto-core/tests/data")
}

fn scenarios(args: &[String]) -> Result<()> {
    let mut out_dir = default_out_dir();
    let mut names = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--out-dir" => out_dir = PathBuf::from(it.next().ok_or("--out-dir needs a value")?),
            name if SCENARIOS.contains(&name) => names.push(name.to_owned()),
            other => {
                return Err(format!(
                    "unknown scenario {other:?}; known: {}",
                    SCENARIOS.join(", ")
                ))
            }
        }
    }
    if names.is_empty() {
        names = SCENARIOS.iter().map(|s| (*s).to_owned()).collect();
    }
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    for name in names {
        let recording: Recording = match name.as_str() {
            "pg15_psql" => record_psql(PgVersion::V15, PSQL_SCRIPT, "3.0")?.into(),
            "pg15_pgbench_extended" => record_pgbench("extended", HbaMethod::Md5)?.into(),
            "pg15_pgbench_prepared" => record_pgbench("prepared", HbaMethod::Password)?.into(),
            "pg18_psql_proto32" => record_psql(PgVersion::V18, PG18_SCRIPT, "3.2")?.into(),
            "pg15_psql_cancel" => record_cancel(PgVersion::V15, "3.0")?,
            "pg18_psql_proto32_cancel" => record_cancel(PgVersion::V18, "3.2")?,
            _ => unreachable!("validated above"),
        };
        check_scenario(&name, &recording)?;
        let conn = &recording.session;
        let (f, b) = conn
            .write_files(&out_dir.join(&name))
            .map_err(|e| format!("writing {name}: {e}"))?;
        println!(
            "{name}: {} ({} bytes), {} ({} bytes)",
            f.display(),
            conn.frontend.len(),
            b.display(),
            conn.backend.len()
        );
        if let Some(cancel) = &recording.cancel_request {
            let path = out_dir.join(format!("{name}.cancel.frontend.bin"));
            std::fs::write(&path, cancel).map_err(|e| format!("{}: {e}", path.display()))?;
            println!("{name}: {} ({} bytes)", path.display(), cancel.len());
        }
    }
    Ok(())
}

fn start_relay(pg: &PgCluster, max: usize) -> Result<RecordingRelay> {
    RecordingRelay::start(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        SocketAddr::from((Ipv4Addr::LOCALHOST, pg.port())),
        Some(max),
    )
    .map_err(|e| format!("starting the relay: {e}"))
}

fn run(mut cmd: Command, what: &str) -> Result<String> {
    let out = cmd.output().map_err(|e| format!("running {what}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}):\n{stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(stdout)
}

/// A cluster with SCRAM authentication and a role `rec`.
fn scram_cluster(version: PgVersion) -> Result<PgCluster> {
    let pg = PgCluster::builder()
        .version(version)
        .auth(HbaMethod::ScramSha256)
        .start()
        .map_err(|e| e.to_string())?;
    pg.create_role("rec", "rec-secret", PasswordEncryption::ScramSha256)
        .map_err(|e| e.to_string())?;
    Ok(pg)
}

/// The connection string for role `rec` through `relay`; protocol `3.2`
/// adds `max_protocol_version` (needs libpq 18).
fn rec_conninfo(relay: &RecordingRelay, protocol: &str) -> String {
    let mut conninfo = format!(
        "host=127.0.0.1 port={} dbname=postgres user=rec password=rec-secret \
         sslmode=disable gssencmode=disable application_name=pgproto-recorder",
        relay.port()
    );
    if protocol != "3.0" {
        conninfo.push_str(&format!(" max_protocol_version={protocol}"));
    }
    conninfo
}

/// psql with SCRAM authentication running `script` through the relay.
fn record_psql(version: PgVersion, script: &str, protocol: &str) -> Result<RecordedConnection> {
    let pg = scram_cluster(version)?;
    let script_path = pg.base_dir().join("script.sql");
    std::fs::write(&script_path, script).map_err(|e| e.to_string())?;
    let relay = start_relay(&pg, 1)?;
    let conninfo = rec_conninfo(&relay, protocol);
    let mut cmd = pg.client_command("psql").map_err(|e| e.to_string())?;
    cmd.args(["-X", "-v", "ON_ERROR_STOP=0", "-d", &conninfo, "-f"])
        .arg(&script_path);
    let output = run(cmd, "psql");
    let mut recorded = relay.wait().map_err(|e| format!("relay: {e}"))?;
    output?;
    recorded
        .pop()
        .ok_or_else(|| "no connection recorded".to_owned())
}

/// psql running `select pg_sleep(60)`, interrupted with SIGINT once the
/// query runs, so that it sends a CancelRequest on a second connection.
fn record_cancel(version: PgVersion, protocol: &str) -> Result<Recording> {
    let pg = scram_cluster(version)?;
    let relay = start_relay(&pg, 2)?;
    let conninfo = rec_conninfo(&relay, protocol);
    let mut cmd = pg.client_command("psql").map_err(|e| e.to_string())?;
    cmd.args(["-X", "-d", &conninfo, "-c", "select pg_sleep(60)"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("starting psql: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let waiting = "select count(*) from pg_stat_activity \
                   where query = 'select pg_sleep(60)' and state = 'active'";
    while pg.query_value(waiting).map_err(|e| e.to_string())? != "1" {
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err("psql's pg_sleep query never became active".to_owned());
        }
        thread::sleep(Duration::from_millis(20));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .map_err(|e| format!("kill -INT: {e}"))?;
    if !sent.success() {
        return Err(format!("kill -INT psql failed: {sent}"));
    }
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !stderr.contains("canceling statement due to user request") {
        return Err(format!("psql was not cancelled as expected: {stderr}"));
    }
    let mut recorded = relay.wait().map_err(|e| format!("relay: {e}"))?.into_iter();
    let session = recorded.next().ok_or("no session recorded")?;
    let cancel = recorded.next().ok_or("no cancel connection recorded")?;
    if !cancel.backend.is_empty() {
        return Err("the server answered on the cancel connection".to_owned());
    }
    Ok(Recording {
        session,
        cancel_request: Some(cancel.frontend),
    })
}

/// pgbench (one client, 20 transactions of `scripts/pgbench.sql`) in the
/// given query mode; returns the benchmark connection (pgbench also opens a
/// setup connection first, which is not kept).
fn record_pgbench(mode: &str, auth: HbaMethod) -> Result<RecordedConnection> {
    let pg = PgCluster::builder()
        .version(PgVersion::V15)
        .auth(auth)
        .start()
        .map_err(|e| e.to_string())?;
    let encryption = if auth == HbaMethod::Md5 {
        PasswordEncryption::Md5
    } else {
        PasswordEncryption::ScramSha256
    };
    pg.create_role("bench", "bench-secret", encryption)
        .map_err(|e| e.to_string())?;
    pg.psql(&[
        "-q",
        "-c",
        "create table rec_counter (id int primary key, n bigint not null default 0)",
        "-c",
        "insert into rec_counter (id) select generate_series(1, 10)",
        "-c",
        "grant select, update on rec_counter to bench",
    ])
    .map_err(|e| e.to_string())?;
    let script_path = pg.base_dir().join("pgbench.sql");
    std::fs::write(&script_path, PGBENCH_SCRIPT).map_err(|e| e.to_string())?;
    let relay = start_relay(&pg, 2)?;
    let mut cmd = pg.client_command("pgbench").map_err(|e| e.to_string())?;
    cmd.args(["-n", "-c", "1", "-t", "20", "-M", mode, "-h", "127.0.0.1"])
        .args(["-p", &relay.port().to_string(), "-U", "bench", "-f"])
        .arg(&script_path)
        .arg("postgres")
        .env("PGPASSWORD", "bench-secret")
        .env("PGSSLMODE", "disable")
        .env("PGGSSENCMODE", "disable")
        .env("PGAPPNAME", "pgproto-recorder");
    let output = run(cmd, "pgbench");
    let recorded = relay.wait().map_err(|e| format!("relay: {e}"))?;
    output?;
    recorded
        .into_iter()
        .rev()
        .find(|c| c.frontend.contains(&b'P'))
        .ok_or_else(|| "no connection with extended-protocol messages recorded".to_owned())
}

/// Message tags each scenario's recording must contain.
fn expected_tags(name: &str) -> (&'static str, &'static str) {
    match name {
        // frontend, backend
        "pg15_psql" => ("pQdcPDSX", "RSKZTDCIENAHGdct1"),
        "pg15_pgbench_extended" => ("pPBDESX", "RSKZ12TnDC"),
        "pg15_pgbench_prepared" => ("pPSBDEX", "RSKZ12TnDC"),
        "pg18_psql_proto32" => ("pQX", "RSKZTDCE"),
        "pg15_psql_cancel" | "pg18_psql_proto32_cancel" => ("pQX", "RSKZTE"),
        _ => ("", ""),
    }
}

fn check_scenario(name: &str, recording: &Recording) -> Result<()> {
    let conn = &recording.session;
    let front = split_messages(&conn.frontend, Direction::Frontend)
        .map_err(|e| format!("{name} frontend: {e}"))?;
    let back = split_messages(&conn.backend, Direction::Backend)
        .map_err(|e| format!("{name} backend: {e}"))?;
    let (want_front, want_back) = expected_tags(name);
    for (side, messages, wanted) in [
        ("frontend", &front, want_front),
        ("backend", &back, want_back),
    ] {
        let counts = count_by_tag(messages);
        let missing: String = wanted.chars().filter(|c| !counts.contains_key(c)).collect();
        if !missing.is_empty() {
            return Err(format!(
                "{name} {side} lacks message types {missing:?}; has {}",
                describe_counts(&counts)
            ));
        }
    }
    let (version, key_len) = if name.contains("proto32") {
        (0x0003_0002, 32)
    } else {
        (0x0003_0000, 4)
    };
    let startup = front.first().and_then(RawMessage::startup_code);
    if startup != Some(version) {
        return Err(format!(
            "{name}: startup version {startup:?}, expected {version:#x}"
        ));
    }
    let key = back.iter().find(|m| m.tag == Some(b'K'));
    let Some(key) = key.filter(|k| k.body.len() == 4 + key_len) else {
        return Err(format!(
            "{name}: BackendKeyData without a {key_len}-byte key: {key:?}"
        ));
    };
    if let Some(cancel) = &recording.cancel_request {
        // CancelRequest: length, code 80877102, process id, secret key.
        let messages = split_messages(cancel, Direction::Frontend)
            .map_err(|e| format!("{name} cancel request: {e}"))?;
        let [request] = messages.as_slice() else {
            return Err(format!(
                "{name}: expected one CancelRequest, got {messages:?}"
            ));
        };
        if request.startup_code() != Some(80_877_102) || request.body[4..] != *key.body {
            return Err(format!(
                "{name}: CancelRequest {request:?} does not carry BackendKeyData {key:?}"
            ));
        }
        let canceled = back
            .iter()
            .any(|m| m.tag == Some(b'E') && m.body.windows(6).any(|w| w == b"C57014"));
        if !canceled {
            return Err(format!(
                "{name}: no query_canceled (57014) error in the session"
            ));
        }
    }
    Ok(())
}

fn describe_counts(counts: &BTreeMap<char, usize>) -> String {
    counts
        .iter()
        .map(|(tag, n)| {
            if *tag == '\0' {
                format!("untagged×{n}")
            } else {
                format!("{tag}×{n}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn relay(args: &[String]) -> Result<()> {
    let mut upstream = None;
    let mut prefix = None;
    let mut listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let mut connections = 1usize;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--upstream" => {
                upstream = value()?
                    .to_socket_addrs()
                    .map_err(|e| e.to_string())?
                    .next()
            }
            "--out" => prefix = Some(PathBuf::from(value()?)),
            "--listen" => listen = value()?.parse().map_err(|e| format!("--listen: {e}"))?,
            "--connections" => {
                connections = value()?
                    .parse()
                    .map_err(|e| format!("--connections: {e}"))?
            }
            other => return Err(format!("unknown option {other:?}\n{}", usage())),
        }
    }
    let upstream = upstream.ok_or("--upstream is required")?;
    let prefix = prefix.ok_or("--out is required")?;
    let relay = RecordingRelay::start(listen, upstream, Some(connections))
        .map_err(|e| format!("starting the relay: {e}"))?;
    println!(
        "listening on {} (relaying to {upstream})",
        relay.local_addr()
    );
    let recorded = relay.wait().map_err(|e| e.to_string())?;
    for (i, conn) in recorded.iter().enumerate() {
        let target = if connections == 1 {
            prefix.clone()
        } else {
            PathBuf::from(format!("{}.{}", prefix.display(), i + 1))
        };
        let (f, b) = conn.write_files(&target).map_err(|e| e.to_string())?;
        println!("wrote {} and {}", f.display(), b.display());
    }
    Ok(())
}

fn dump(files: &[String]) -> Result<()> {
    if files.is_empty() {
        return Err(usage());
    }
    let mut out = std::io::stdout().lock();
    // Stop quietly when the reader goes away (e.g. `| head`).
    let _ = dump_to(files, &mut out)?;
    Ok(())
}

fn dump_to(files: &[String], out: &mut impl Write) -> Result<std::io::Result<()>> {
    for file in files {
        let direction = direction_from_file_name(file)
            .ok_or_else(|| format!("{file}: name must end in .frontend.bin or .backend.bin"))?;
        let bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
        let messages = split_messages(&bytes, direction).map_err(|e| format!("{file}: {e}"))?;
        let written = writeln!(
            out,
            "{file}: {} bytes, {} messages: {}",
            bytes.len(),
            messages.len(),
            describe_counts(&count_by_tag(&messages))
        )
        .and_then(|()| messages.iter().try_for_each(|m| writeln!(out, "  {m}")));
        if written.is_err() {
            return Ok(written);
        }
    }
    Ok(Ok(()))
}
