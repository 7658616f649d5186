//! `server`: pgbench against pgproto-tokio's fixed-answer server and an equivalent pgwire
//! server (see `servers.rs`), each in its own process started from this binary.
//!
//! - Throughput: `pgbench -n -T S -f select1.sql` (`SELECT 1;`) with `-c1` and `-c8 -j2`,
//!   `-M simple|extended|prepared`; the two servers alternate within each configuration,
//!   unpinned. With `--pin on` (default) `-c1 prepared` is repeated with pgbench and both
//!   servers pinned to CPU 0.
//! - Memory: a fresh process per server, one warm-up connection, then `--conns` idle
//!   tokio-postgres connections (each ran one simple `SELECT 1`); the growth of the
//!   server's `VmRSS`, `VmHWM` and live heap (its counting allocator), divided by the
//!   number of connections.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use crate::measure::{alternate, proc_status_kib, ratio, report, Only, Sample};
use crate::servers::Kind;
use crate::{pgbench, pin};

struct Config {
    seconds: u32,
    rounds: usize,
    conns: usize,
    pin: bool,
    throughput: bool,
    only: Only,
}

impl Config {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut c = Self {
            seconds: 3,
            rounds: 3,
            conns: 100,
            pin: true,
            throughput: true,
            only: Only::Both,
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let num = || {
                value
                    .parse::<usize>()
                    .map_err(|e| format!("{flag} {value}: {e}"))
            };
            match flag.as_str() {
                "--seconds" => {
                    c.seconds = u32::try_from(num()?.max(1)).map_err(|e| e.to_string())?;
                }
                "--rounds" => c.rounds = num()?.max(1),
                "--conns" => c.conns = num()?.max(1),
                "--pin" => {
                    c.pin = match value.as_str() {
                        "on" => true,
                        "off" => false,
                        other => return Err(format!("--pin takes on or off, not `{other}`")),
                    }
                }
                "--throughput" => {
                    c.throughput = match value.as_str() {
                        "on" => true,
                        "off" => false,
                        other => {
                            return Err(format!("--throughput takes on or off, not `{other}`"))
                        }
                    }
                }
                "--only" => c.only = Only::parse(value)?,
                other => return Err(format!("unknown option `{other}` for server")),
            }
        }
        Ok(c)
    }
}

/// A server running in a child process of this binary.
struct ServerProcess {
    child: Child,
    port: u16,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl ServerProcess {
    fn start(kind: Kind) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .args(["server-process", kind.name()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting the {} server process: {e}", kind.name()))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err("no pipes to the server process".into());
        };
        let mut server = Self {
            child,
            port: 0,
            stdin,
            stdout: BufReader::new(stdout),
        };
        let line = server.line()?;
        server.port = line
            .strip_prefix("listening ")
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(|| format!("{} server process said `{line}`", kind.name()))?;
        Ok(server)
    }

    fn line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err("the server process exited".into()),
            Ok(_) => Ok(line.trim_end().to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's live heap, in bytes.
    fn heap(&mut self) -> Result<u64, String> {
        writeln!(self.stdin, "heap").map_err(|e| e.to_string())?;
        self.stdin.flush().map_err(|e| e.to_string())?;
        let line = self.line()?;
        line.split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("server process said `{line}` to `heap`"))
    }

    fn kib(&self, field: &str) -> Result<u64, String> {
        proc_status_kib(&self.pid().to_string(), field)
            .ok_or_else(|| format!("no {field} for pid {}", self.pid()))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the server benchmark.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let cfg = Config::parse(args)?;
    let script = pgbench::Script::new("select1.sql", "SELECT 1;\n")?;
    let program = pgbench::program();
    let pgproto = ServerProcess::start(Kind::Pgproto)?;
    let pgwire = ServerProcess::start(Kind::Pgwire)?;
    println!(
        "server: pgbench ({}) -n -T {} `SELECT 1;` against pgproto-tokio (port {}) and \
         pgwire 0.42 (port {}), each in its own process (multi-thread tokio, 2 workers, \
         trust, no TLS); {} rounds alternating per configuration; medians of tps \
         (range = slowest-fastest run); unpinned unless marked",
        program.display(),
        cfg.seconds,
        pgproto.port,
        pgwire.port,
        cfg.rounds
    );
    let tps = |server: &ServerProcess, mode: &str, clients: u32, threads: u32, secs: u32| {
        pgbench::Run {
            program: &program,
            host: "127.0.0.1",
            port: server.port,
            user: "postgres",
            script: &script,
            mode,
            clients,
            threads,
            seconds: secs,
        }
        .tps()
        .unwrap_or_else(|e| panic!("{e}"))
    };
    // Warm both servers (and the page cache for pgbench) once.
    for server in [&pgproto, &pgwire] {
        tps(server, "prepared", 8, 2, 1);
    }

    let mut configs: Vec<(u32, u32, &str, bool)> = Vec::new();
    // `--throughput off`: memory only.
    let throughput_clients: &[(u32, u32)] = if cfg.throughput {
        &[(1, 1), (8, 2)]
    } else {
        &[]
    };
    for &(clients, threads) in throughput_clients {
        for mode in ["simple", "extended", "prepared"] {
            configs.push((clients, threads, mode, false));
        }
    }
    if cfg.pin && cfg.throughput {
        configs.push((1, 1, "prepared", true));
    }
    let mut ratios = Vec::new();
    for (clients, threads, mode, pinned) in configs {
        let guard = if pinned {
            Some(pin::Pinned::new(
                &[std::process::id(), pgproto.pid(), pgwire.pid()],
                "0",
            )?)
        } else {
            None
        };
        let (a, b) = alternate(
            cfg.rounds,
            0,
            cfg.only,
            || Sample::from_rate(tps(&pgproto, mode, clients, threads, cfg.seconds)),
            || Sample::from_rate(tps(&pgwire, mode, clients, threads, cfg.seconds)),
        );
        drop(guard);
        let suffix = if pinned { "_pinned" } else { "" };
        let label = format!("c{clients} {mode}{}", if pinned { " pin0" } else { "" });
        let units = [(1.0, " tps")];
        let pg = report(&label, "pgproto-tokio", &a, &units);
        let peer = report(&label, "pgwire", &b, &units);
        ratios.push((format!("tps_c{clients}_{mode}{suffix}"), pg, peer));
    }
    drop((pgproto, pgwire));

    println!(
        "memory: fresh server process each, 1 warm-up connection, then {} idle tokio-postgres \
         connections (each ran `SELECT 1` once); growth / connections",
        cfg.conns
    );
    let mut mem = Vec::new();
    for kind in [Kind::Pgproto, Kind::Pgwire] {
        let m = memory(kind, cfg.conns)?;
        println!(
            "memory {:<8} idle RSS {:>6} KiB -> {:>6} KiB; per connection: RSS {:>6.1} KiB, \
             HWM {:>6.1} KiB, heap {:>6.1} KiB",
            kind.name(),
            m.idle_rss_kib,
            m.loaded_rss_kib,
            m.rss_kib,
            m.hwm_kib,
            m.heap_kib
        );
        mem.push(m);
    }

    for (name, pg, peer) in ratios {
        ratio(&name, pg, peer);
    }
    if let [pg, peer] = mem.as_slice() {
        // Memory: the peer's divided by pgproto's (above 1 = pgproto smaller).
        ratio("mem_per_conn_rss", Some(peer.rss_kib), Some(pg.rss_kib));
        ratio("mem_per_conn_hwm", Some(peer.hwm_kib), Some(pg.hwm_kib));
        ratio("mem_per_conn_heap", Some(peer.heap_kib), Some(pg.heap_kib));
    }
    Ok(())
}

/// Per-connection memory of one server.
struct Memory {
    idle_rss_kib: u64,
    loaded_rss_kib: u64,
    rss_kib: f64,
    hwm_kib: f64,
    heap_kib: f64,
}

fn memory(kind: Kind, conns: usize) -> Result<Memory, String> {
    let mut server = ServerProcess::start(kind)?;
    let conninfo = format!(
        "host=127.0.0.1 port={} user=postgres dbname=postgres sslmode=disable",
        server.port
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let open = |n: usize| {
        rt.block_on(async {
            let mut clients = Vec::with_capacity(n);
            for _ in 0..n {
                let (client, connection) =
                    tokio_postgres::connect(&conninfo, tokio_postgres::NoTls)
                        .await
                        .map_err(|e| format!("connecting to {}: {e}", kind.name()))?;
                tokio::spawn(connection);
                client
                    .simple_query("SELECT 1")
                    .await
                    .map_err(|e| format!("SELECT 1 on {}: {e}", kind.name()))?;
                clients.push(client);
            }
            // Let the server finish whatever follows the answer.
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok::<_, String>(clients)
        })
    };
    let warm = open(1)?;
    let (rss0, hwm0, heap0) = (server.kib("VmRSS")?, server.kib("VmHWM")?, server.heap()?);
    let idle = open(conns)?;
    let (rss1, hwm1, heap1) = (server.kib("VmRSS")?, server.kib("VmHWM")?, server.heap()?);
    drop((warm, idle));
    let n = conns as f64;
    Ok(Memory {
        idle_rss_kib: rss0,
        loaded_rss_kib: rss1,
        rss_kib: rss1.saturating_sub(rss0) as f64 / n,
        hwm_kib: hwm1.saturating_sub(hwm0) as f64 / n,
        heap_kib: heap1.saturating_sub(heap0) as f64 / 1024.0 / n,
    })
}
