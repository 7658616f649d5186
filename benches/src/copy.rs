//! `copy`: COPY FROM STDIN and COPY TO STDOUT of 1,000,000 rows (`int4, text, int8`) on a
//! PostgreSQL 15 started for the run (trust, TCP on 127.0.0.1, no TLS), with
//! pgproto-tokio (`copy_in` / `copy_out`), tokio-postgres (`copy_in` sink / `copy_out`
//! stream) and psql's `\copy` (the whole psql process timed: start, connect, read or
//! write the file; `\copy ... to '/dev/null'` out).
//!
//! The data is built once, in 64 KiB chunks, and the same chunks go to both libraries
//! (psql reads the same bytes from a file). Before each COPY in the table is truncated
//! (not timed); the server checks the row count of every pass. COPY out reads the table
//! the last COPY in filled, counting rows and bytes. Passes alternate between the three
//! (the first of each round rotates), after a warm-up pass of each; medians and
//! `ratio` lines: pgproto vs tokio-postgres and pgproto vs psql (above 1: pgproto
//! faster). `cpu` is the client's CPU time per row: this process's threads for the
//! libraries, the psql child's user+system time (clock ticks, so coarse) for psql; the
//! `_per_cpu` ratios compare rows per CPU-second of the client, which is what a client
//! library controls when the server is the bottleneck.
//!
//! ```text
//! cargo run --release -p pgproto-benches -- copy [--rows N] [--rounds N] [--warmup N]
//! ```

use std::process::Command;
use std::time::Instant;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use pgproto_tests::harness::{HbaMethod, PgCluster, PgVersion};

use crate::measure::{process_cpu_secs, ratio, report, Sample, Series};

struct Config {
    rows: usize,
    rounds: usize,
    warmup: usize,
}

impl Config {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut c = Self {
            rows: 1_000_000,
            rounds: 5,
            warmup: 1,
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let n = value
                .parse::<usize>()
                .map_err(|e| format!("{flag} {value}: {e}"))?;
            match flag.as_str() {
                "--rows" => c.rows = n.max(1),
                "--rounds" => c.rounds = n.max(1),
                "--warmup" => c.warmup = n,
                other => return Err(format!("unknown option `{other}` for copy")),
            }
        }
        Ok(c)
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The three contestants, in the order of the first round.
#[derive(Debug, Clone, Copy)]
enum Who {
    Pgproto,
    TokioPostgres,
    Psql,
}

const ALL: [Who; 3] = [Who::Pgproto, Who::TokioPostgres, Who::Psql];

/// The COPY data: `rows` rows in text format, cut into chunks of about 64 KiB (at row
/// boundaries, as a program copying a file or generating rows would send them).
fn build_chunks(rows: usize) -> (Vec<Bytes>, usize) {
    use std::fmt::Write;
    let mut chunks = Vec::new();
    let mut chunk = String::with_capacity(70 * 1024);
    let mut total = 0;
    for i in 0..rows {
        let _ = writeln!(chunk, "{i}\tsome text for row {i}\t{}", i as i64 * 3);
        if chunk.len() >= 64 * 1024 {
            total += chunk.len();
            chunks.push(Bytes::from(std::mem::replace(
                &mut chunk,
                String::with_capacity(70 * 1024),
            )));
        }
    }
    total += chunk.len();
    chunks.push(Bytes::from(chunk));
    (chunks, total)
}

struct Bench {
    rt: tokio::runtime::Runtime,
    pgproto: pgproto_tokio::Client,
    peer: tokio_postgres::Client,
    admin: pgproto_tokio::Client,
    conninfo: String,
    psql: Command,
    chunks: Vec<Bytes>,
    file: std::path::PathBuf,
    rows: u64,
}

impl Bench {
    fn psql(&self, command: &str) -> Result<(), String> {
        let mut cmd = Command::new(self.psql.get_program());
        for (k, v) in self.psql.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let out = cmd
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                &self.conninfo,
                "-c",
                command,
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if !out.status.success() {
            return Err(format!("psql: {}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(())
    }

    fn count(&self) -> Result<u64, String> {
        self.rt.block_on(async {
            let row = self
                .admin
                .query_one("select count(*) from copy_bench", &[])
                .await
                .map_err(err)?;
            Ok(row.get::<i64, _>(0usize).map_err(err)? as u64)
        })
    }

    fn copy_in(&self, who: Who) -> Result<Sample, String> {
        self.rt
            .block_on(self.admin.simple_query("truncate copy_bench"))
            .map_err(err)?;
        let cpu = Cpu::start(who);
        let start = Instant::now();
        match who {
            Who::Pgproto => self.rt.block_on(async {
                let mut copy = self
                    .pgproto
                    .copy_in("copy copy_bench from stdin")
                    .await
                    .map_err(err)?;
                for chunk in &self.chunks {
                    copy.send(chunk.clone()).await.map_err(err)?;
                }
                let n = copy.finish().await.map_err(err)?;
                check_rows(n, self.rows)
            })?,
            Who::TokioPostgres => self.rt.block_on(async {
                let sink = self
                    .peer
                    .copy_in::<_, Bytes>("copy copy_bench from stdin")
                    .await
                    .map_err(err)?;
                futures_util::pin_mut!(sink);
                for chunk in &self.chunks {
                    sink.send(chunk.clone()).await.map_err(err)?;
                }
                let n = sink.finish().await.map_err(err)?;
                check_rows(n, self.rows)
            })?,
            Who::Psql => self.psql(&format!("\\copy copy_bench from '{}'", self.file.display()))?,
        }
        let secs = start.elapsed().as_secs_f64();
        let cpu = cpu.end();
        check_rows(self.count()?, self.rows)?;
        Ok(sample(secs, cpu))
    }

    fn copy_out(&self, who: Who) -> Result<Sample, String> {
        let sql = "copy copy_bench to stdout";
        let cpu = Cpu::start(who);
        let start = Instant::now();
        match who {
            Who::Pgproto => self.rt.block_on(async {
                let mut out = self.pgproto.copy_out(sql).await.map_err(err)?;
                let mut lines = 0u64;
                while let Some(chunk) = out.next().await {
                    lines += newlines(&chunk.map_err(err)?);
                }
                check_rows(lines, self.rows)
            })?,
            Who::TokioPostgres => self.rt.block_on(async {
                let stream = self.peer.copy_out(sql).await.map_err(err)?;
                futures_util::pin_mut!(stream);
                let mut lines = 0u64;
                while let Some(chunk) = stream.next().await {
                    lines += newlines(&chunk.map_err(err)?);
                }
                check_rows(lines, self.rows)
            })?,
            Who::Psql => self.psql("\\copy copy_bench to '/dev/null'")?,
        }
        let secs = start.elapsed().as_secs_f64();
        Ok(sample(secs, cpu.end()))
    }
}

fn newlines(chunk: &[u8]) -> u64 {
    chunk.iter().filter(|b| **b == b'\n').count() as u64
}

fn check_rows(got: u64, want: u64) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("COPY moved {got} rows, expected {want}"))
    }
}

fn sample(secs: f64, cpu_secs: Option<f64>) -> Sample {
    Sample {
        secs,
        counts: None,
        cpu_secs,
    }
}

/// A CPU-time reading around a pass: this process's threads, or psql's (a child).
struct Cpu {
    child: bool,
    before: Option<f64>,
}

impl Cpu {
    fn start(who: Who) -> Self {
        let child = matches!(who, Who::Psql);
        Self {
            child,
            before: Self::read(child),
        }
    }

    fn read(child: bool) -> Option<f64> {
        if child {
            children_cpu_secs()
        } else {
            process_cpu_secs()
        }
    }

    fn end(self) -> Option<f64> {
        Some(Self::read(self.child)? - self.before?)
    }
}

/// User + system time of the waited-for children (`cutime` + `cstime` of
/// `/proc/self/stat`, in clock ticks of 1/100 s).
fn children_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// Warm-up, then `rounds` rounds of all three, the first of each round rotating.
fn measure(
    rounds: usize,
    warmup: usize,
    mut pass: impl FnMut(Who) -> Result<Sample, String>,
) -> Result<[Series; 3], String> {
    for _ in 0..warmup {
        for who in ALL {
            pass(who)?;
        }
    }
    let mut series: [Series; 3] = Default::default();
    for round in 0..rounds {
        for k in 0..ALL.len() {
            let i = (round + k) % ALL.len();
            if let (Some(who), Some(s)) = (ALL.get(i), series.get_mut(i)) {
                s.push(pass(*who)?);
            }
        }
    }
    Ok(series)
}

/// Runs the COPY benchmark.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let cfg = Config::parse(args)?;
    let pg = PgCluster::builder()
        .version(PgVersion::V15)
        .auth(HbaMethod::Trust)
        .start()
        .map_err(|e| format!("starting PostgreSQL 15: {e}"))?;
    let conninfo = format!(
        "{} sslmode=disable",
        pg.connection_string(pg.superuser(), None)
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(err)?;
    let (pgproto, admin, peer) = rt.block_on(async {
        let pgproto = pgproto_tokio::Client::connect(&conninfo)
            .await
            .map_err(err)?;
        let admin = pgproto_tokio::Client::connect(&conninfo)
            .await
            .map_err(err)?;
        let (peer, connection) = tokio_postgres::connect(&conninfo, tokio_postgres::NoTls)
            .await
            .map_err(err)?;
        tokio::spawn(connection);
        admin
            .simple_query("create table copy_bench (a int4, b text, c int8)")
            .await
            .map_err(err)?;
        Ok::<_, String>((pgproto, admin, peer))
    })?;
    let (chunks, bytes) = build_chunks(cfg.rows);
    let dir = tempfile::tempdir().map_err(err)?;
    let file = dir.path().join("copy_bench.txt");
    let mut data = Vec::with_capacity(bytes);
    for c in &chunks {
        data.extend_from_slice(c);
    }
    std::fs::write(&file, &data).map_err(err)?;
    drop(data);
    let bench = Bench {
        rt,
        pgproto,
        peer,
        admin,
        conninfo: conninfo.clone(),
        psql: pg.client_command("psql").map_err(err)?,
        chunks,
        file,
        rows: cfg.rows as u64,
    };
    println!(
        "copy: PostgreSQL {} on 127.0.0.1:{}; {} rows (int4, text, int8), {:.1} MB of text \
         in {} chunks; tokio current_thread runtime; {} rounds rotating pgproto / \
         tokio-postgres / psql after {} warm-up passes each; medians (range = \
         slowest-fastest pass); psql = the whole `psql -c '\\copy ...'` process",
        pg.server_version(),
        pg.port(),
        cfg.rows,
        bytes as f64 / 1e6,
        bench.chunks.len(),
        cfg.rounds,
        cfg.warmup
    );
    let units = [(cfg.rows as f64, " rows/s"), (bytes as f64, "B/s")];
    let names = ["pgproto-tokio", "tokio-postgres", "psql \\copy"];

    let rows = cfg.rows as f64;
    let copy_in = measure(cfg.rounds, cfg.warmup, |who| bench.copy_in(who))?;
    let in_rate: Vec<Option<f64>> = copy_in
        .iter()
        .zip(names)
        .map(|(s, name)| report("copy_in", name, s, &units))
        .collect();
    let in_cpu: Vec<Option<f64>> = copy_in.iter().map(|s| s.per_cpu_sec(rows)).collect();
    let copy_out = measure(cfg.rounds, cfg.warmup, |who| bench.copy_out(who))?;
    let out_rate: Vec<Option<f64>> = copy_out
        .iter()
        .zip(names)
        .map(|(s, name)| report("copy_out", name, s, &units))
        .collect();
    let out_cpu: Vec<Option<f64>> = copy_out.iter().map(|s| s.per_cpu_sec(rows)).collect();

    let at = |v: &[Option<f64>], i: usize| v.get(i).copied().flatten();
    for (direction, rate, cpu) in [
        ("copy_in", &in_rate, &in_cpu),
        ("copy_out", &out_rate, &out_cpu),
    ] {
        ratio(
            &format!("{direction}_vs_tokio_postgres"),
            at(rate, 0),
            at(rate, 1),
        );
        ratio(&format!("{direction}_vs_psql"), at(rate, 0), at(rate, 2));
        ratio(
            &format!("{direction}_per_cpu_vs_tokio_postgres"),
            at(cpu, 0),
            at(cpu, 1),
        );
        ratio(
            &format!("{direction}_per_cpu_vs_psql"),
            at(cpu, 0),
            at(cpu, 2),
        );
    }
    Ok(())
}
