//! `client`: pgproto's clients against tokio-postgres and libpq on a real PostgreSQL 15
//! started for the run (trust authentication, TCP on 127.0.0.1, no TLS).
//!
//! - `seq`: sequential prepared `SELECT $1::int4`, one query in flight (pgproto-tokio
//!   `prepare` + `query_prepared`, tokio-postgres `prepare` + `query`); queries/s.
//! - `pipe64`: the same statement, 64 queries in flight (64 futures joined, repeated).
//! - `rows`: `SELECT g, g::text, g::int8 * 2 FROM generate_series(1, N) g` fetched whole,
//!   every value read with the typed getters (int4, `&str`, int8); rows/s.
//! - `blocking`: pgproto-blocking sequential prepared `SELECT $1::int4` for `--seconds`,
//!   against libpq as `pgbench -n -M prepared -c1 -T S` running the same statement
//!   (`\set id random(1, 1000)`); queries/s against pgbench's tps.
//!
//! Both async clients run on the same tokio runtime (`--runtime current|multi`), each on
//! its own connection. Every result is checked. With `--pin on` (the default) `seq` and
//! `blocking` are repeated with the bench process, PostgreSQL's postmaster (so the backends
//! it forks for new connections) and pgbench pinned to CPU 0.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use pgproto_tests::harness::{HbaMethod, PgCluster, PgVersion};
use tokio::runtime::Runtime;

use crate::measure::{alternate, calibrate, ratio, report, timed_cpu, Only, Sample, Series};
use crate::{pgbench, pin};

const SEQ_SQL: &str = "SELECT $1::int4";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Current,
    Multi,
}

struct Config {
    /// Queries per pass of `seq` and `pipe64`; `None`: as many as take `pass_secs`.
    queries: Option<usize>,
    pipelined: Option<usize>,
    pass_secs: f64,
    depth: usize,
    rows: usize,
    rounds: usize,
    rows_rounds: usize,
    warmup: usize,
    seconds: u32,
    pgbench_rounds: usize,
    runtime: Flavor,
    pin: bool,
    only: Only,
    /// Which of seq, pipe, rows, blocking to run.
    workloads: Vec<String>,
}

impl Config {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut c = Self {
            queries: None,
            pipelined: None,
            pass_secs: 0.3,
            depth: 64,
            rows: 1_000_000,
            rounds: 7,
            rows_rounds: 5,
            warmup: 1,
            seconds: 3,
            pgbench_rounds: 3,
            runtime: Flavor::Current,
            pin: true,
            only: Only::Both,
            workloads: ["seq", "pipe", "rows", "blocking"]
                .map(String::from)
                .to_vec(),
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
                "--queries" => c.queries = Some(num()?.max(1)),
                "--pipelined" => c.pipelined = Some(num()?.max(1)),
                "--pass-secs" => {
                    c.pass_secs = value
                        .parse::<f64>()
                        .map_err(|e| format!("{flag} {value}: {e}"))?
                        .max(0.001);
                }
                "--depth" => c.depth = num()?.max(1),
                "--rows" => c.rows = num()?.max(1),
                "--rounds" => c.rounds = num()?.max(1),
                "--rows-rounds" => c.rows_rounds = num()?.max(1),
                "--warmup" => c.warmup = num()?,
                "--seconds" => {
                    c.seconds = u32::try_from(num()?.max(1)).map_err(|e| e.to_string())?
                }
                "--pgbench-rounds" => c.pgbench_rounds = num()?.max(1),
                "--runtime" => {
                    c.runtime = match value.as_str() {
                        "current" | "current_thread" => Flavor::Current,
                        "multi" | "multi_thread" => Flavor::Multi,
                        other => {
                            return Err(format!("--runtime takes current or multi, not `{other}`"))
                        }
                    }
                }
                "--pin" => {
                    c.pin = match value.as_str() {
                        "on" => true,
                        "off" => false,
                        other => return Err(format!("--pin takes on or off, not `{other}`")),
                    }
                }
                "--only" => c.only = Only::parse(value)?,
                "--workloads" => {
                    c.workloads = value.split(',').map(|w| w.trim().to_string()).collect();
                    if let Some(w) = c
                        .workloads
                        .iter()
                        .find(|w| !["seq", "pipe", "rows", "blocking"].contains(&w.as_str()))
                    {
                        return Err(format!(
                            "unknown workload `{w}` (seq, pipe, rows, blocking)"
                        ));
                    }
                }
                other => return Err(format!("unknown option `{other}` for client")),
            }
        }
        Ok(c)
    }

    fn runtime(&self) -> Result<Runtime, String> {
        let mut b = match self.runtime {
            Flavor::Current => tokio::runtime::Builder::new_current_thread(),
            Flavor::Multi => tokio::runtime::Builder::new_multi_thread(),
        };
        b.enable_all().build().map_err(err)
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Unwraps a benchmark step; the measuring closures cannot return errors, and unwinding
/// still stops PostgreSQL.
fn check<T>(r: Result<T, String>, what: &str) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Runs the client benchmark.
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
    let rt = cfg.runtime()?;
    let flavor = match cfg.runtime {
        Flavor::Current => "current_thread".to_string(),
        Flavor::Multi => format!(
            "multi_thread ({} workers)",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        ),
    };
    println!(
        "client: PostgreSQL {} on 127.0.0.1:{}; tokio runtime {flavor} for both async \
         clients; {} rounds alternating pgproto / peer after {} warm-up passes; medians \
         (range = slowest-fastest pass); cpu = this process's CPU time (client, runtime, \
         connection task; not the server) per operation; allocs counted in this process",
        pg.server_version(),
        pg.port(),
        cfg.rounds,
        cfg.warmup
    );

    let none = Compared::default();
    let want = |w: &str| cfg.workloads.iter().any(|x| x == w);
    println!("-- unpinned");
    let seq = if want("seq") {
        bench_queries(&cfg, &rt, &conninfo, "seq", 1, cfg.queries)?
    } else {
        none
    };
    let pipe = if want("pipe") {
        let label = format!("pipe{}", cfg.depth);
        bench_queries(&cfg, &rt, &conninfo, &label, cfg.depth, cfg.pipelined)?
    } else {
        none
    };
    let rows = if want("rows") {
        bench_rows(&cfg, &rt, &conninfo)?
    } else {
        none
    };
    let blocking = if want("blocking") {
        bench_blocking(&cfg, &pg, &conninfo, "blocking")?
    } else {
        none
    };

    let (mut seq_pinned, mut blocking_pinned) = (none, none);
    if cfg.pin && (want("seq") || want("blocking")) {
        let postmaster = pg
            .postmaster_pid()
            .ok_or("PostgreSQL's postmaster pid is unknown")?;
        println!(
            "-- pinned: this process, the postmaster (hence backends of new connections) and \
             pgbench on CPU 0"
        );
        let _guard = pin::Pinned::new(&[std::process::id(), postmaster], "0")?;
        if want("seq") {
            seq_pinned = bench_queries(&cfg, &rt, &conninfo, "seq pin0", 1, cfg.queries)?;
        }
        if want("blocking") {
            blocking_pinned = bench_blocking(&cfg, &pg, &conninfo, "blocking pin0")?;
        }
    }

    // Throughput first (the goals), then operations per CPU-second of this process.
    let all = [
        (&seq, "seq_prepared_qps"),
        (&pipe, "pipelined64_qps"),
        (&rows, "rows_per_s"),
        (&blocking, "blocking_vs_libpq_qps"),
        (&seq_pinned, "seq_prepared_qps_pinned"),
        (&blocking_pinned, "blocking_vs_libpq_qps_pinned"),
    ];
    for (c, name) in all {
        ratio(name, c.pgproto, c.peer);
    }
    for (c, name) in all {
        ratio(&format!("{name}_per_cpu"), c.pgproto_cpu, c.peer_cpu);
    }
    Ok(())
}

/// Both sides' median throughput, and operations per CPU-second of this process.
#[derive(Debug, Default, Clone, Copy)]
struct Compared {
    pgproto: Option<f64>,
    peer: Option<f64>,
    pgproto_cpu: Option<f64>,
    peer_cpu: Option<f64>,
}

impl Compared {
    /// Prints both sides' lines.
    fn report(
        label: &str,
        names: [&str; 2],
        (a, b): (Series, Series),
        units: &[(f64, &str)],
    ) -> Self {
        let per_pass = units.first().map_or(1.0, |u| u.0);
        Self {
            pgproto: report(label, names[0], &a, units),
            peer: report(label, names[1], &b, units),
            pgproto_cpu: a.per_cpu_sec(per_pass),
            peer_cpu: b.per_cpu_sec(per_pass),
        }
    }
}

struct Clients {
    pgproto: pgproto_tokio::Client,
    peer: tokio_postgres::Client,
}

async fn connect(conninfo: &str) -> Result<Clients, String> {
    let pgproto = pgproto_tokio::Client::connect(conninfo)
        .await
        .map_err(|e| format!("pgproto-tokio connect: {e}"))?;
    let (peer, connection) = tokio_postgres::connect(conninfo, tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("tokio-postgres connect: {e}"))?;
    tokio::spawn(connection);
    Ok(Clients { pgproto, peer })
}

/// `n` prepared `SELECT $1::int4` on pgproto-tokio, `depth` in flight; the sum of results.
async fn pgproto_queries(
    c: &pgproto_tokio::Client,
    st: &pgproto_tokio::Statement,
    n: usize,
    depth: usize,
) -> Result<i64, String> {
    let mut sum = 0i64;
    if depth == 1 {
        for i in 0..n as i32 {
            let rows = c.query_prepared(st, &[&i]).await.map_err(err)?;
            let row = rows.first().ok_or("no row")?;
            sum += i64::from(row.get::<i32, _>(0).map_err(err)?);
        }
        return Ok(sum);
    }
    for start in (0..n).step_by(depth) {
        let batch = (start..(start + depth).min(n)).map(|i| async move {
            let i = i as i32;
            c.query_prepared(st, &[&i]).await
        });
        for rows in join_all(batch).await {
            let rows = rows.map_err(err)?;
            let row = rows.first().ok_or("no row")?;
            sum += i64::from(row.get::<i32, _>(0).map_err(err)?);
        }
    }
    Ok(sum)
}

/// The same with tokio-postgres.
async fn peer_queries(
    c: &tokio_postgres::Client,
    st: &tokio_postgres::Statement,
    n: usize,
    depth: usize,
) -> Result<i64, String> {
    let mut sum = 0i64;
    if depth == 1 {
        for i in 0..n as i32 {
            let rows = c.query(st, &[&i]).await.map_err(err)?;
            let row = rows.first().ok_or("no row")?;
            sum += i64::from(row.get::<_, i32>(0));
        }
        return Ok(sum);
    }
    for start in (0..n).step_by(depth) {
        let batch = (start..(start + depth).min(n)).map(|i| async move {
            let i = i as i32;
            c.query(st, &[&i]).await
        });
        for rows in join_all(batch).await {
            let rows = rows.map_err(err)?;
            let row = rows.first().ok_or("no row")?;
            sum += i64::from(row.get::<_, i32>(0));
        }
    }
    Ok(sum)
}

/// Prepared `SELECT $1::int4` with `depth` queries in flight (1: sequential), on fresh
/// connections; `queries` per pass, or as many as take `--pass-secs` on pgproto.
fn bench_queries(
    cfg: &Config,
    rt: &Runtime,
    conninfo: &str,
    label: &str,
    depth: usize,
    queries: Option<usize>,
) -> Result<Compared, String> {
    let clients = rt.block_on(connect(conninfo))?;
    let (st_pg, st_peer) = rt.block_on(async {
        Ok::<_, String>((
            clients.pgproto.prepare(SEQ_SQL).await.map_err(err)?,
            clients.peer.prepare(SEQ_SQL).await.map_err(err)?,
        ))
    })?;
    let expect = |n: usize| (0..n as i64).sum::<i64>();
    let pgproto = |n: usize| {
        let (sum, sample) =
            timed_cpu(|| rt.block_on(pgproto_queries(&clients.pgproto, &st_pg, n, depth)));
        assert_eq!(check(sum, "pgproto-tokio"), expect(n));
        sample
    };
    let peer = |n: usize| {
        let (sum, sample) =
            timed_cpu(|| rt.block_on(peer_queries(&clients.peer, &st_peer, n, depth)));
        assert_eq!(check(sum, "tokio-postgres"), expect(n));
        sample
    };
    let n = match queries {
        Some(n) => n,
        None => calibrate(2_000.max(depth), cfg.pass_secs, depth, |n| pgproto(n).secs),
    };
    let series = alternate(cfg.rounds, cfg.warmup, cfg.only, || pgproto(n), || peer(n));
    Ok(Compared::report(
        &format!("{label} ({n})"),
        ["pgproto-tokio", "tokio-postgres"],
        series,
        &[(n as f64, " q/s")],
    ))
}

/// What reading every value of the `rows` result must add up to.
#[derive(Debug, Default, PartialEq, Eq)]
struct RowSums {
    rows: u64,
    ints: i64,
    text_bytes: u64,
    bigints: i64,
}

fn bench_rows(cfg: &Config, rt: &Runtime, conninfo: &str) -> Result<Compared, String> {
    let clients = rt.block_on(connect(conninfo))?;
    let n = cfg.rows;
    let sql = format!("SELECT g, g::text, g::int8 * 2 FROM generate_series(1, {n}) g");
    let expect = RowSums {
        rows: n as u64,
        ints: (1..=n as i64).sum(),
        text_bytes: (1..=n).map(|g| g.to_string().len() as u64).sum(),
        bigints: (1..=n as i64).map(|g| g * 2).sum(),
    };
    let (a, b) = alternate(
        cfg.rows_rounds,
        cfg.warmup,
        cfg.only,
        || {
            let (sums, sample) = timed_cpu(|| {
                rt.block_on(async {
                    let rows = clients.pgproto.query(&sql, &[]).await.map_err(err)?;
                    let mut s = RowSums::default();
                    for row in &rows {
                        s.rows += 1;
                        s.ints += i64::from(row.get::<i32, _>(0).map_err(err)?);
                        s.text_bytes += row.get::<&str, _>(1).map_err(err)?.len() as u64;
                        s.bigints += row.get::<i64, _>(2).map_err(err)?;
                    }
                    Ok::<_, String>(s)
                })
            });
            assert_eq!(check(sums, "pgproto rows"), expect);
            sample
        },
        || {
            let (sums, sample) = timed_cpu(|| {
                rt.block_on(async {
                    let rows = clients.peer.query(&sql, &[]).await.map_err(err)?;
                    let mut s = RowSums::default();
                    for row in &rows {
                        s.rows += 1;
                        s.ints += i64::from(row.get::<_, i32>(0));
                        s.text_bytes += row.get::<_, &str>(1).len() as u64;
                        s.bigints += row.get::<_, i64>(2);
                    }
                    Ok::<_, String>(s)
                })
            });
            assert_eq!(check(sums, "tokio-postgres rows"), expect);
            sample
        },
    );
    Ok(Compared::report(
        &format!("rows ({n})"),
        ["pgproto-tokio", "tokio-postgres"],
        (a, b),
        &[(n as f64, " rows/s")],
    ))
}

/// Sequential prepared queries with the blocking client for `duration`: (queries, sum of
/// results, sum expected).
fn blocking_for(
    client: &mut pgproto_blocking::Client,
    st: &pgproto_blocking::Statement,
    duration: Duration,
) -> Result<(u64, i64, i64), String> {
    let start = Instant::now();
    let (mut done, mut sum, mut expect) = (0u64, 0i64, 0i64);
    loop {
        for _ in 0..64 {
            // pgbench's script draws 1..=1000 at random; any value costs the same.
            let id = 1 + (done % 1000) as i32;
            let rows = client.query_prepared(st, &[&id]).map_err(err)?;
            let row = rows.first().ok_or("no row")?;
            sum += i64::from(row.get::<i32, _>(0).map_err(err)?);
            expect += i64::from(id);
            done += 1;
        }
        if start.elapsed() >= duration {
            return Ok((done, sum, expect));
        }
    }
}

fn bench_blocking(
    cfg: &Config,
    pg: &PgCluster,
    conninfo: &str,
    label: &str,
) -> Result<Compared, String> {
    let mut client = pgproto_blocking::Client::connect(conninfo)
        .map_err(|e| format!("pgproto-blocking connect: {e}"))?;
    let st = client.prepare(SEQ_SQL).map_err(err)?;
    let duration = Duration::from_secs(u64::from(cfg.seconds));
    // Warm the connection and the backend; pgbench starts a fresh one every run.
    blocking_for(&mut client, &st, Duration::from_millis(300))?;
    let script = pgbench::Script::new(
        "client-select-int4.sql",
        "\\set id random(1, 1000)\nSELECT :id::int4;\n",
    )?;
    let program = pgbench::program();
    let run = pgbench::Run {
        program: &program,
        host: pg.host(),
        port: pg.port(),
        user: pg.superuser(),
        script: &script,
        mode: "prepared",
        clients: 1,
        threads: 1,
        seconds: cfg.seconds,
    };
    let (a, b) = alternate(
        cfg.pgbench_rounds,
        0,
        cfg.only,
        || {
            let (r, sample) = timed_cpu(|| blocking_for(&mut client, &st, duration));
            let (done, sum, expect) = check(r, "pgproto-blocking");
            assert_eq!(sum, expect);
            sample.per_op(done)
        },
        || Sample::from_rate(check(run.tps(), "pgbench")),
    );
    Ok(Compared::report(
        label,
        ["pgproto-blocking", "libpq (pgbench)"],
        (a, b),
        &[(1.0, " q/s")],
    ))
}
