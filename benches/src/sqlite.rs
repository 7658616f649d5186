//! `sqlite`: pgbench against `pgproto-sqlite` (a file database) and a PostgreSQL 15
//! started for the run, on the same data, alternating, in one run.
//!
//! ```text
//! cargo build --release -p pgproto-sqlite -p pgproto-benches
//! cargo run --release -p pgproto-benches -- sqlite [--seconds N] [--rounds N]
//!     [--clients 1,8] [--modes simple,prepared] [--workloads select,insert,writer]
//!     [--rows N] [--sqlite-bin PATH] [--pg-bin DIR]
//! ```
//!
//! Both servers get the same tables: `bench_kv (id integer primary key, v text)` with
//! `--rows` rows (10,000) and an empty `bench_log (id integer, v text)`. The workloads,
//! each a pgbench custom script run with `-n -T <seconds> -c <clients> -j min(clients, 2)`
//! over TCP on 127.0.0.1, unpinned:
//!
//! - `select`: `SELECT v FROM bench_kv WHERE id = :id` with a random id (one statement
//!   per transaction);
//! - `insert`: `BEGIN; INSERT INTO bench_log (id, v) VALUES (:id, 'x'); END;` (three
//!   statements per transaction);
//! - `writer`: 8 clients of `select` (`-M prepared`) alone, then while another session
//!   holds a transaction open that has inserted a row into `bench_log` (readers' TPS with
//!   the writer against readers alone, for each server).
//!
//! For every run it prints the TPS and the server's CPU time (user + system, from
//! `/proc`) per transaction: for pgproto-sqlite its process; for PostgreSQL the
//! postmaster's own time, its exited children's (`cutime`/`cstime`, which covers the
//! backends once they exit) and its live children's. Then medians over the rounds and
//! `ratio sqlite/pg:...` lines (TPS: above 1 means pgproto-sqlite is faster; CPU: below 1
//! means it uses less). The load average is printed beside each round.
//!
//! Neither server waits for an fsync at commit: PostgreSQL runs with
//! `synchronous_commit = off` (a commit returns before its WAL is flushed to disk);
//! pgproto-sqlite's WAL runs with `synchronous = NORMAL` (a commit is written to the WAL
//! file but not fsynced). Both may lose the last commits when the machine crashes.
//!
//! The server is the `pgproto-sqlite` program next to this benchmark's executable (so
//! `cargo build --release -p pgproto-sqlite` first), else on `PATH`, or `--sqlite-bin`
//! (e.g. a build of another commit, to compare before and after). PostgreSQL's programs
//! come from `/usr/lib/postgresql/15/bin` (or `--pg-bin`); as root it runs as `postgres`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::pgbench;
use crate::proxy::{
    cpu_secs, find_program, free_port, median, run_cmd, server_account, wait_port, Env,
};

struct Options {
    seconds: u32,
    rounds: usize,
    clients: Vec<u32>,
    modes: Vec<String>,
    workloads: Vec<String>,
    rows: u32,
    sqlite_bin: Option<PathBuf>,
    pg_bin: PathBuf,
}

fn list(v: &str) -> Vec<String> {
    v.split(',').map(|w| w.trim().to_string()).collect()
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        seconds: 6,
        rounds: 4,
        clients: vec![1, 8],
        modes: vec!["simple".into(), "prepared".into()],
        workloads: vec!["select".into(), "insert".into(), "writer".into()],
        rows: 10_000,
        sqlite_bin: None,
        pg_bin: PathBuf::from(
            std::env::var("PGPROTO_PG15_BIN").unwrap_or("/usr/lib/postgresql/15/bin".into()),
        ),
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |v: &String| v.parse::<u32>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--seconds" => o.seconds = num(value()?)?.max(1),
            "--rounds" => o.rounds = num(value()?)?.max(1) as usize,
            "--rows" => o.rows = num(value()?)?.max(1),
            "--clients" => {
                o.clients = list(value()?)
                    .iter()
                    .map(|c| c.parse().map_err(|e| format!("--clients: {e}")))
                    .collect::<Result<_, _>>()?
            }
            "--modes" => {
                o.modes = list(value()?);
                if let Some(m) = o
                    .modes
                    .iter()
                    .find(|m| !["simple", "extended", "prepared"].contains(&m.as_str()))
                {
                    return Err(format!("unknown mode {m} (simple, extended, prepared)"));
                }
            }
            "--workloads" => {
                o.workloads = list(value()?);
                if let Some(w) = o
                    .workloads
                    .iter()
                    .find(|w| !["select", "insert", "writer"].contains(&w.as_str()))
                {
                    return Err(format!("unknown workload {w} (select, insert, writer)"));
                }
            }
            "--sqlite-bin" => o.sqlite_bin = Some(PathBuf::from(value()?)),
            "--pg-bin" => o.pg_bin = PathBuf::from(value()?),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

/// The `pgproto-sqlite` program: next to this executable, else on `PATH`.
fn find_sqlite() -> Result<PathBuf, String> {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("pgproto-sqlite")))
        .filter(|p| p.is_file())
        .or_else(|| find_program("pgproto-sqlite"))
        .ok_or_else(|| {
            "pgproto-sqlite not found next to this program nor on PATH: \
             cargo build --release -p pgproto-sqlite, or pass --sqlite-bin"
                .into()
        })
}

/// The fields of `/proc/<pid>/stat` after the command name.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    Some(rest.split_whitespace().map(str::to_string).collect())
}

fn ticks(fields: &[String], i: usize) -> f64 {
    fields.get(i).and_then(|f| f.parse().ok()).unwrap_or(0.0)
}

/// The live children of `parent`: (count, CPU seconds of user + system time).
fn children(parent: u32) -> (usize, f64) {
    let (mut n, mut secs) = (0, 0.0);
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return (0, 0.0);
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Some(f) = stat_fields(pid) else { continue };
        if f.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(parent) {
            n += 1;
            // USER_HZ is 100 on Linux.
            secs += (ticks(&f, 11) + ticks(&f, 12)) / 100.0;
        }
    }
    (n, secs)
}

/// PostgreSQL's CPU time so far: the postmaster's own, its reaped children's, and its
/// live children's.
fn pg_cpu_secs(postmaster: u32) -> Option<f64> {
    let f = stat_fields(postmaster)?;
    let own = (ticks(&f, 11) + ticks(&f, 12) + ticks(&f, 13) + ticks(&f, 14)) / 100.0;
    Some(own + children(postmaster).1)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Sqlite,
    Pg,
}

impl Target {
    const ALL: [Self; 2] = [Self::Sqlite, Self::Pg];

    fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "pgproto-sqlite",
            Self::Pg => "postgresql",
        }
    }
}

struct Servers {
    sqlite_port: u16,
    sqlite_pid: u32,
    pg_port: u16,
    postmaster: u32,
    /// The postmaster's children while no client is connected.
    pg_idle_children: usize,
}

impl Servers {
    fn port(&self, t: Target) -> u16 {
        match t {
            Target::Sqlite => self.sqlite_port,
            Target::Pg => self.pg_port,
        }
    }

    fn cpu(&self, t: Target) -> Option<f64> {
        match t {
            Target::Sqlite => cpu_secs(self.sqlite_pid),
            Target::Pg => {
                // Let the backends of the last run exit and be reaped (their time then
                // moves into the postmaster's cutime/cstime).
                let deadline = Instant::now() + Duration::from_secs(3);
                while children(self.postmaster).0 > self.pg_idle_children
                    && Instant::now() < deadline
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                pg_cpu_secs(self.postmaster)
            }
        }
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// One pgbench run: TPS and server CPU µs per transaction, or why it failed.
fn measure(
    servers: &Servers,
    t: Target,
    script: &pgbench::Script,
    mode: &str,
    clients: u32,
    seconds: u32,
) -> Result<(f64, Option<f64>), String> {
    let program = pgbench::program();
    let before = servers.cpu(t);
    let run = pgbench::Run {
        program: &program,
        host: "127.0.0.1",
        port: servers.port(t),
        user: "postgres",
        script,
        mode,
        clients,
        threads: clients.clamp(1, 2),
        seconds,
    };
    let tps = run.tps()?;
    let cpu = match (before, servers.cpu(t)) {
        (Some(b), Some(a)) => Some((a - b) * 1e6 / (tps * f64::from(seconds))),
        _ => None,
    };
    Ok((tps, cpu))
}

/// A session holding a transaction open (it inserted a row) until dropped.
struct Holder {
    release: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl Holder {
    fn start(port: u16) -> Result<Self, String> {
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        let (release, release_rx) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || -> Result<(), String> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let conninfo = format!(
                    "host=127.0.0.1 port={port} user=postgres dbname=postgres sslmode=disable"
                );
                let held = async {
                    let (client, conn) = tokio_postgres::connect(&conninfo, tokio_postgres::NoTls)
                        .await
                        .map_err(|e| e.to_string())?;
                    tokio::spawn(conn);
                    client
                        .batch_execute("BEGIN; INSERT INTO bench_log (id, v) VALUES (0, 'held')")
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok::<_, String>(client)
                }
                .await;
                let client = match held {
                    Ok(c) => {
                        let _ = ready_tx.send(Ok(()));
                        c
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.clone()));
                        return Err(e);
                    }
                };
                let _ = tokio::task::spawn_blocking(move || release_rx.recv()).await;
                client
                    .batch_execute("COMMIT")
                    .await
                    .map_err(|e| e.to_string())
            })
        });
        ready_rx
            .recv()
            .map_err(|_| "the holding session ended".to_string())??;
        Ok(Self {
            release: Some(release),
            thread: Some(thread),
        })
    }

    fn finish(mut self) -> Result<(), String> {
        drop(self.release.take());
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err("the holding session panicked".into()),
            None => Ok(()),
        }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The samples of one configuration on one server.
#[derive(Default)]
struct Samples {
    tps: Vec<f64>,
    cpu: Vec<f64>,
    failed: usize,
}

impl Samples {
    fn add(&mut self, r: &Result<(f64, Option<f64>), String>) {
        match r {
            Ok((tps, cpu)) => {
                self.tps.push(*tps);
                self.cpu.extend(cpu);
            }
            Err(_) => {
                self.failed += 1;
                self.tps.push(0.0);
            }
        }
    }

    fn tps(&mut self) -> f64 {
        median(&mut self.tps)
    }

    fn cpu(&mut self) -> f64 {
        median(&mut self.cpu)
    }
}

fn show(r: &Result<(f64, Option<f64>), String>) -> String {
    match r {
        Ok((tps, Some(cpu))) => format!("{tps:>8.0} tps {cpu:>6.1} µs CPU/tx"),
        Ok((tps, None)) => format!("{tps:>8.0} tps"),
        Err(e) => format!(
            "FAILED ({})",
            e.lines()
                .rev()
                .find(|l| l.contains("ERROR") || l.contains("error") || l.contains("abort"))
                .or_else(|| e.lines().next())
                .unwrap_or("")
                .trim()
        ),
    }
}

fn psql(opts: &Options, port: u16, sqls: &[String]) -> Result<String, String> {
    let mut cmd = Command::new(opts.pg_bin.join("psql"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
    cmd.env("PGSSLMODE", "disable")
        .args(["-X", "-Atq", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"])
        .args(["-p", &port.to_string(), "-U", "postgres", "-d", "postgres"]);
    for s in sqls {
        cmd.args(["-c", s]);
    }
    run_cmd(&mut cmd, "psql")
}

/// Creates and fills the benchmark's tables.
fn load_data(opts: &Options, port: u16) -> Result<(), String> {
    let mut sqls = vec![
        "create table bench_kv (id integer primary key, v text not null)".to_string(),
        "create table bench_log (id integer, v text)".to_string(),
    ];
    let mut id = 1;
    while id <= opts.rows {
        let end = (id + 999).min(opts.rows);
        let values: Vec<String> = (id..=end).map(|i| format!("({i}, 'v{i}')")).collect();
        sqls.push(format!("insert into bench_kv values {}", values.join(", ")));
        id = end + 1;
    }
    psql(opts, port, &sqls)?;
    let count = psql(opts, port, &["select count(*) from bench_kv".into()])?;
    if count.trim() != opts.rows.to_string() {
        return Err(format!("bench_kv has {} rows", count.trim()));
    }
    Ok(())
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let opts = parse(args)?;
    let sqlite_bin = match &opts.sqlite_bin {
        Some(p) => p.clone(),
        None => find_sqlite()?,
    };
    let account = server_account();
    let dir = std::env::temp_dir().join(format!("pgproto-sqlite-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut env = Env {
        dir: dir.clone(),
        account,
        children: Vec::new(),
    };
    env.give(&dir)?;

    // PostgreSQL 15, trust authentication.
    let data = dir.join("data");
    let mut initdb = Command::new(opts.pg_bin.join("initdb"));
    initdb
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "--auth=trust"])
        .args(["--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"])
        .current_dir(&dir);
    env.as_server(&mut initdb);
    run_cmd(&mut initdb, "initdb")?;
    let conf_path = data.join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf_path).map_err(|e| e.to_string())?;
    let _ = write!(
        text,
        "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
         synchronous_commit = off\nmax_connections = 50\nshared_buffers = '128MB'\n",
        dir.display()
    );
    std::fs::write(&conf_path, text).map_err(|e| e.to_string())?;
    let pg_port = free_port()?;
    let mut postgres = Command::new(opts.pg_bin.join("postgres"));
    postgres
        .arg("-D")
        .arg(&data)
        .args(["-p", &pg_port.to_string()])
        .current_dir(&dir);
    env.as_server(&mut postgres);
    let i = env.spawn("postgres", "-INT", &mut postgres, &dir.join("postgres.log"))?;
    wait_port(pg_port, "postgres", &mut env.children[i].1)?;
    let postmaster = env.children[i].1.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    while psql(&opts, pg_port, &["select 1".into()]).is_err() {
        if Instant::now() > deadline {
            return Err("postgres did not accept connections".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let version = psql(&opts, pg_port, &["show server_version".into()])?
        .trim()
        .to_string();

    // pgproto-sqlite on a database file of its own (as this user).
    let sqlite_dir = dir.join("sqlite");
    std::fs::create_dir_all(&sqlite_dir).map_err(|e| e.to_string())?;
    let sqlite_port = free_port()?;
    let mut sqlite = Command::new(&sqlite_bin);
    sqlite
        .args(["--listen", &format!("127.0.0.1:{sqlite_port}")])
        .arg("--db")
        .arg(sqlite_dir.join("bench.db"));
    let i = env.spawn(
        "pgproto-sqlite",
        "-TERM",
        &mut sqlite,
        &dir.join("sqlite.log"),
    )?;
    wait_port(sqlite_port, "pgproto-sqlite", &mut env.children[i].1)?;
    let sqlite_pid = env.children[i].1.id();

    let started = Instant::now();
    load_data(&opts, pg_port)?;
    psql(
        &opts,
        pg_port,
        &["vacuum analyze".into(), "checkpoint".into()],
    )?;
    load_data(&opts, sqlite_port)?;
    let servers = Servers {
        sqlite_port,
        sqlite_pid,
        pg_port,
        postmaster,
        pg_idle_children: children(postmaster).0,
    };
    println!(
        "sqlite: {} vs PostgreSQL {version} (synchronous_commit off), pgbench -T {} x {} \
         round(s), unpinned, {} CPUs, {} rows loaded in {:.1} s; load {}",
        sqlite_bin.display(),
        opts.seconds,
        opts.rounds,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        opts.rows,
        started.elapsed().as_secs_f64(),
        load()
    );

    let select = pgbench::Script::new(
        "select.sql",
        &format!(
            "\\set id random(1, {})\nSELECT v FROM bench_kv WHERE id = :id;\n",
            opts.rows
        ),
    )?;
    let insert = pgbench::Script::new(
        "insert.sql",
        "\\set id random(1, 1000000000)\nBEGIN;\n\
         INSERT INTO bench_log (id, v) VALUES (:id, 'x');\nEND;\n",
    )?;
    // Warm-up: each server serves each script shortly.
    for t in Target::ALL {
        for s in [&select, &insert] {
            measure(&servers, t, s, "prepared", 2, 1)?;
        }
    }

    let mut summary = String::new();
    let mut ratios = String::new();
    let mut rotation = 0usize;
    for workload in opts.workloads.iter().filter(|w| *w != "writer") {
        let (script, per_tx) = if workload == "select" {
            (&select, 1)
        } else {
            (&insert, 3)
        };
        for &clients in &opts.clients {
            for mode in &opts.modes {
                let label = format!("{workload} {mode} c{clients}");
                let mut samples: [Samples; 2] = Default::default();
                for round in 0..opts.rounds {
                    let mut line = format!("run {label:<20} round {}", round + 1);
                    for k in 0..2 {
                        let idx = (rotation + k) % 2;
                        let t = Target::ALL[idx];
                        let r = measure(&servers, t, script, mode, clients, opts.seconds);
                        line += &format!("  {}: {}", t.name(), show(&r));
                        samples[idx].add(&r);
                    }
                    rotation += 1;
                    println!("{line}  (load {})", load());
                }
                let [s, p] = &mut samples;
                let (st, pt, sc, pc) = (s.tps(), p.tps(), s.cpu(), p.cpu());
                let _ = writeln!(
                    summary,
                    "{label:<20} {st:>9.0} {sc:>9.1} {pt:>9.0} {pc:>9.1} {:>7.2} {:>7.2}{}",
                    st / pt,
                    sc / pc,
                    if per_tx > 1 {
                        format!("   ({per_tx} statements/tx)")
                    } else {
                        String::new()
                    }
                );
                let key = format!("{workload}:{mode}:c{clients}");
                let _ = writeln!(ratios, "ratio sqlite/pg:tps:{key} {:.3}", st / pt);
                let _ = writeln!(ratios, "ratio sqlite/pg:cpu:{key} {:.3}", sc / pc);
            }
        }
    }

    let mut writer_summary = String::new();
    if opts.workloads.iter().any(|w| w == "writer") {
        let clients = 8;
        for (idx, t) in Target::ALL.into_iter().enumerate() {
            let mut alone = Samples::default();
            let mut held = Samples::default();
            for round in 0..opts.rounds {
                let mut line = format!("run {:<20} round {}", "writer prepared c8", round + 1);
                for k in 0..2 {
                    let with_writer = (round + k + idx) % 2 == 1;
                    let r = if with_writer {
                        Holder::start(servers.port(t)).and_then(|h| {
                            let r =
                                measure(&servers, t, &select, "prepared", clients, opts.seconds);
                            h.finish()?;
                            Ok(r)
                        })
                    } else {
                        Ok(measure(
                            &servers,
                            t,
                            &select,
                            "prepared",
                            clients,
                            opts.seconds,
                        ))
                    };
                    let r = r.and_then(|r| r);
                    line += &format!(
                        "  {} {}: {}",
                        t.name(),
                        if with_writer { "with writer" } else { "alone" },
                        show(&r)
                    );
                    if with_writer {
                        held.add(&r);
                    } else {
                        alone.add(&r);
                    }
                }
                println!("{line}  (load {})", load());
            }
            let (a, h) = (alone.tps(), held.tps());
            let _ = writeln!(
                writer_summary,
                "{:<16} readers alone {a:>8.0} tps ({:.1} µs CPU/tx), with a writer's open \
                 transaction {h:>8.0} tps ({:.1} µs CPU/tx){}: ratio {:.2}",
                t.name(),
                alone.cpu(),
                held.cpu(),
                if held.failed > 0 {
                    format!(", {} run(s) failed", held.failed)
                } else {
                    String::new()
                },
                h / a
            );
            let _ = writeln!(
                ratios,
                "ratio {}:readers-with-writer/alone {:.3}",
                t.name(),
                h / a
            );
        }
    }

    println!(
        "\nmedians over {} round(s) (CPU: server µs per transaction)",
        opts.rounds
    );
    println!(
        "{:<20} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7}",
        "workload", "sqlite", "cpu", "pg", "cpu", "tps x", "cpu x"
    );
    print!("{summary}");
    if !writer_summary.is_empty() {
        println!("\n8 readers (select, -M prepared) alone and while a session holds a write transaction open");
        print!("{writer_summary}");
    }
    print!("{ratios}");
    println!("load at the end: {}", load());
    drop(env);
    Ok(())
}
