//! `proxy`: pgbench through pgproto's session-mode proxy (`pgproto-proxy`), through PgBouncer
//! (session mode) and directly against PostgreSQL, alternating, in one run.
//!
//! ```text
//! cargo run --release -p pgproto-benches -- proxy [--seconds N] [--rounds N]
//!     [--clients 1,8,32] [--scale N] [--threads N] [--workloads select1,tpcb]
//!     [--proxy-bin PATH] [--pg-bin DIR]
//! ```
//!
//! Each run is `pgbench -n -T <seconds> -M prepared -c <clients> -j min(clients, 2)`
//! over TCP on 127.0.0.1 (no TLS), with a `SELECT 1` script and with pgbench's built-in
//! TPC-B-like script (`pgbench -i -s <scale>` first). All three targets authenticate
//! clients with SCRAM-SHA-256 and reach PostgreSQL with SCRAM-SHA-256. Nothing is
//! pinned. The order of the three targets rotates from one configuration to the next.
//!
//! Needs PostgreSQL 15's server programs and pgbench (`/usr/lib/postgresql/15/bin`, or
//! `--pg-bin`) and `pgbouncer` (Debian package `pgbouncer`). As root, PostgreSQL and
//! PgBouncer run as the `postgres` account. The proxy is the `pgproto-proxy` program next
//! to this benchmark's executable or on `PATH` (so `cargo build --release -p
//! pgproto-proxy -p pgproto-benches` first), unless `--proxy-bin` is given.
//!
//! Prints tps per configuration, then `ratio proxy/pgbouncer:<workload>:c<N>` and
//! `ratio proxy/direct:<workload>:c<N>` (medians over rounds; above 1 means the proxy is
//! faster).

use std::fmt::Write as _;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const USER: &str = "bench";
const PASSWORD: &str = "bench-pw";

struct Options {
    seconds: u64,
    rounds: usize,
    clients: Vec<u32>,
    scale: u32,
    threads: Option<usize>,
    workloads: Vec<String>,
    proxy_bin: Option<PathBuf>,
    pg_bin: PathBuf,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        seconds: 10,
        rounds: 1,
        clients: vec![1, 8, 32],
        scale: 10,
        threads: None,
        workloads: vec!["select1".into(), "tpcb".into()],
        proxy_bin: None,
        pg_bin: PathBuf::from(
            std::env::var("PGPROTO_PG15_BIN").unwrap_or("/usr/lib/postgresql/15/bin".into()),
        ),
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |v: &String| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--seconds" => o.seconds = num(value()?)?.max(1),
            "--rounds" => o.rounds = usize::try_from(num(value()?)?.max(1)).unwrap_or(1),
            "--scale" => o.scale = u32::try_from(num(value()?)?.max(1)).unwrap_or(1),
            "--threads" => o.threads = Some(usize::try_from(num(value()?)?).unwrap_or(1)),
            "--clients" => {
                o.clients = value()?
                    .split(',')
                    .map(|c| c.trim().parse().map_err(|e| format!("--clients: {e}")))
                    .collect::<Result<_, _>>()?
            }
            "--workloads" => {
                o.workloads = value()?.split(',').map(|w| w.trim().to_string()).collect();
                if let Some(w) = o
                    .workloads
                    .iter()
                    .find(|w| !["select1", "tpcb"].contains(&w.as_str()))
                {
                    return Err(format!("unknown workload {w} (select1, tpcb)"));
                }
            }
            "--proxy-bin" => o.proxy_bin = Some(PathBuf::from(value()?)),
            "--pg-bin" => o.pg_bin = PathBuf::from(value()?),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

/// The account servers run as (`postgres` when we are root), as (uid, gid).
pub(crate) fn server_account() -> Option<(u32, u32)> {
    let me = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&me.stdout).trim() != "0" {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.starts_with("postgres:"))?;
    let mut fields = line.split(':').skip(2);
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

pub(crate) fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

pub(crate) fn wait_port(port: u16, what: &str, child: &mut Child) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{what} exited: {status}"));
        }
        if Instant::now() > deadline {
            return Err(format!("{what} did not listen on port {port}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

pub(crate) fn run_cmd(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Processes and the directory this benchmark created; stopped and removed on drop.
pub(crate) struct Env {
    pub(crate) dir: PathBuf,
    pub(crate) account: Option<(u32, u32)>,
    /// Each child and the signal that stops it quickly.
    pub(crate) children: Vec<(&'static str, Child)>,
}

impl Env {
    pub(crate) fn as_server(&self, cmd: &mut Command) {
        if let Some((uid, gid)) = self.account {
            cmd.uid(uid).gid(gid);
        }
        for var in ["PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD"] {
            cmd.env_remove(var);
        }
    }

    pub(crate) fn give(&self, path: &Path) -> Result<(), String> {
        if let Some((uid, gid)) = self.account {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))
                .map_err(|e| format!("chown {}: {e}", path.display()))?;
        }
        Ok(())
    }

    pub(crate) fn spawn(
        &mut self,
        name: &str,
        signal: &'static str,
        cmd: &mut Command,
        log: &Path,
    ) -> Result<usize, String> {
        let file = std::fs::File::create(log).map_err(|e| e.to_string())?;
        let err = file.try_clone().map_err(|e| e.to_string())?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("starting {name}: {e}"))?;
        self.children.push((signal, child));
        Ok(self.children.len() - 1)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        // Newest first: proxy and PgBouncer before PostgreSQL (SIGINT: fast shutdown).
        for (signal, child) in self.children.iter_mut().rev() {
            let _ = Command::new("kill")
                .args([*signal, &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The `pgproto-proxy` program: next to this benchmark's executable (after
/// `cargo build --release -p pgproto-proxy`), else on `PATH` (after
/// `cargo install --path apps/pgproto-proxy`). It runs as a process of its own, as
/// PgBouncer does, and without this benchmark's counting allocator.
fn find_proxy() -> Result<PathBuf, String> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("pgproto-proxy")))
        .filter(|p| p.is_file());
    beside
        .or_else(|| find_program("pgproto-proxy"))
        .ok_or_else(|| {
            "pgproto-proxy not found next to this program nor on PATH: \
         cargo build --release -p pgproto-proxy, or pass --proxy-bin"
                .into()
        })
}

/// `name` in a directory of `PATH` or a system program directory.
pub(crate) fn find_program(name: &str) -> Option<PathBuf> {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .chain(["/usr/sbin", "/usr/bin", "/usr/local/bin"])
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

fn find_pgbouncer() -> Result<PathBuf, String> {
    find_program("pgbouncer")
        .ok_or_else(|| "pgbouncer not found: apt-get update && apt-get install -y pgbouncer".into())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Proxy,
    PgBouncer,
    Direct,
}

impl Target {
    const ALL: [Self; 3] = [Self::Proxy, Self::PgBouncer, Self::Direct];

    fn name(self) -> &'static str {
        match self {
            Self::Proxy => "proxy",
            Self::PgBouncer => "pgbouncer",
            Self::Direct => "direct",
        }
    }
}

struct Ports {
    pg: u16,
    bouncer: u16,
    proxy: u16,
}

impl Ports {
    fn of(&self, t: Target) -> u16 {
        match t {
            Target::Proxy => self.proxy,
            Target::PgBouncer => self.bouncer,
            Target::Direct => self.pg,
        }
    }
}

fn pgbench(
    opts: &Options,
    port: u16,
    script: Option<&Path>,
    clients: u32,
    seconds: u64,
) -> Result<f64, String> {
    let mut cmd = Command::new(opts.pg_bin.join("pgbench"));
    cmd.env("PGPASSWORD", PASSWORD)
        .env("PGSSLMODE", "disable")
        .args(["-n", "-M", "prepared", "-h", "127.0.0.1", "-U", USER])
        .args(["-p", &port.to_string()])
        .args(["-T", &seconds.to_string()])
        .args([
            "-c",
            &clients.to_string(),
            "-j",
            &clients.min(2).to_string(),
        ]);
    if let Some(s) = script {
        cmd.arg("-f").arg(s);
    }
    cmd.arg(USER);
    let out = run_cmd(&mut cmd, "pgbench")?;
    if !out.contains("number of failed transactions: 0") {
        return Err(format!("pgbench reported failures:\n{out}"));
    }
    out.lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no tps in pgbench output:\n{out}"))
}

/// CPU seconds (user + system, all threads) a process has used, from `/proc`.
pub(crate) fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on Linux.
    Some((utime + stime) / 100.0)
}

pub(crate) fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let opts = parse(args)?;
    let proxy_bin = match &opts.proxy_bin {
        Some(p) => p.clone(),
        None => find_proxy()?,
    };
    eprintln!("proxy: {}", proxy_bin.display());
    let pgbouncer = find_pgbouncer()?;
    let account = server_account();
    let dir = std::env::temp_dir().join(format!("pgproto-proxy-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut env = Env {
        dir: dir.clone(),
        account,
        children: Vec::new(),
    };
    env.give(&dir)?;
    let ports = Ports {
        pg: free_port()?,
        bouncer: free_port()?,
        proxy: free_port()?,
    };

    // PostgreSQL: local trust for setup, SCRAM over TCP.
    let data = dir.join("data");
    let mut initdb = Command::new(opts.pg_bin.join("initdb"));
    initdb
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        ])
        .args(["--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"])
        .current_dir(&dir);
    env.as_server(&mut initdb);
    run_cmd(&mut initdb, "initdb")?;
    let conf = format!(
        "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nfsync = off\n\
         synchronous_commit = off\nfull_page_writes = off\nmax_connections = 120\n\
         shared_buffers = '128MB'\n",
        dir.display()
    );
    let conf_path = data.join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf_path).map_err(|e| e.to_string())?;
    text.push_str(&conf);
    std::fs::write(&conf_path, text).map_err(|e| e.to_string())?;
    let mut postgres = Command::new(opts.pg_bin.join("postgres"));
    postgres
        .arg("-D")
        .arg(&data)
        .args(["-p", &ports.pg.to_string()])
        .current_dir(&dir);
    env.as_server(&mut postgres);
    let log = dir.join("postgres.log");
    let i = env.spawn("postgres", "-INT", &mut postgres, &log)?;
    wait_port(ports.pg, "postgres", &mut env.children[i].1)?;
    let psql = |sql: &str| -> Result<String, String> {
        let mut cmd = Command::new(opts.pg_bin.join("psql"));
        cmd.args(["-X", "-Atq", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&dir)
            .args([
                "-p",
                &ports.pg.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                sql,
            ]);
        run_cmd(&mut cmd, "psql")
    };
    // Wait until the server accepts sessions (the port opens a little earlier).
    let deadline = Instant::now() + Duration::from_secs(30);
    while psql("select 1").is_err() {
        if Instant::now() > deadline {
            return Err("postgres did not accept connections".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let version = psql("show server_version")?.trim().to_string();
    psql(&format!(
        "set password_encryption = 'scram-sha-256'; create role {USER} login password '{PASSWORD}'"
    ))?;
    psql(&format!("create database {USER} owner {USER}"))?;
    let started = Instant::now();
    let mut init = Command::new(opts.pg_bin.join("pgbench"));
    init.env("PGPASSWORD", PASSWORD)
        .args([
            "-i",
            "-q",
            "-s",
            &opts.scale.to_string(),
            "-h",
            "127.0.0.1",
            "-U",
            USER,
        ])
        .args(["-p", &ports.pg.to_string(), USER]);
    run_cmd(&mut init, "pgbench -i")?;
    let init_secs = started.elapsed().as_secs_f64();
    psql("vacuum analyze")?;
    psql("checkpoint")?;
    let select1 = dir.join("select1.sql");
    std::fs::write(&select1, "SELECT 1;\n").map_err(|e| e.to_string())?;

    // PgBouncer, session mode.
    let userlist = dir.join("userlist.txt");
    std::fs::write(&userlist, format!("\"{USER}\" \"{PASSWORD}\"\n")).map_err(|e| e.to_string())?;
    let ini = dir.join("pgbouncer.ini");
    std::fs::write(
        &ini,
        format!(
            "[databases]\n{USER} = host=127.0.0.1 port={} dbname={USER}\n\n\
             [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {}\nunix_socket_dir =\n\
             auth_type = scram-sha-256\nauth_file = {}\npool_mode = session\n\
             max_client_conn = 200\ndefault_pool_size = 100\nlogfile = {}\npidfile = {}\n",
            ports.pg,
            ports.bouncer,
            userlist.display(),
            dir.join("pgbouncer.log").display(),
            dir.join("pgbouncer.pid").display()
        ),
    )
    .map_err(|e| e.to_string())?;
    for f in [&userlist, &ini] {
        env.give(f)?;
    }
    let mut bouncer = Command::new(&pgbouncer);
    bouncer.arg(&ini).current_dir(&dir);
    env.as_server(&mut bouncer);
    let i = env.spawn(
        "pgbouncer",
        "-TERM",
        &mut bouncer,
        &dir.join("pgbouncer.out"),
    )?;
    wait_port(ports.bouncer, "pgbouncer", &mut env.children[i].1)?;
    let bouncer_pid = env.children[i].1.id();
    let bouncer_version = run_cmd(
        Command::new(&pgbouncer).arg("--version"),
        "pgbouncer --version",
    )?
    .lines()
    .next()
    .unwrap_or_default()
    .to_string();

    // The proxy.
    let mut proxy = Command::new(&proxy_bin);
    proxy
        .args(["--listen", &format!("127.0.0.1:{}", ports.proxy)])
        .args([
            "--upstream",
            &format!(
                "postgresql://{USER}:{PASSWORD}@127.0.0.1:{}/{USER}?sslmode=disable",
                ports.pg
            ),
        ])
        .args([
            "--auth",
            "scram-sha-256",
            "--user",
            USER,
            "--password",
            PASSWORD,
        ]);
    if let Some(t) = opts.threads {
        proxy.args(["--threads", &t.to_string()]);
    }
    let i = env.spawn("proxy", "-TERM", &mut proxy, &dir.join("proxy.log"))?;
    wait_port(ports.proxy, "proxy", &mut env.children[i].1)?;
    let pids = [Some(env.children[i].1.id()), Some(bouncer_pid), None];

    println!(
        "proxy: PostgreSQL {version}, {bouncer_version}, pgbench -M prepared -T {} x {} round(s), \
         unpinned, {} CPUs; pgbench -i -s {} took {init_secs:.1} s",
        opts.seconds,
        opts.rounds,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        opts.scale
    );
    // Warm-up: every target serves a short run.
    for t in Target::ALL {
        pgbench(&opts, ports.of(t), Some(&select1), 2, 1)?;
    }

    let mut ratios = String::new();
    let mut rotation = 0usize;
    for workload in &opts.workloads {
        let script = (workload == "select1").then_some(select1.as_path());
        for &clients in &opts.clients {
            let mut tps: [Vec<f64>; 3] = Default::default();
            // CPU time the proxy and PgBouncer used per transaction, in µs.
            let mut cpu: [Vec<f64>; 3] = Default::default();
            for _ in 0..opts.rounds {
                for k in 0..3 {
                    let idx = (rotation + k) % 3;
                    let t = Target::ALL[idx];
                    let pid = pids.get(idx).copied().flatten();
                    let before = pid.and_then(cpu_secs);
                    let rate = pgbench(&opts, ports.of(t), script, clients, opts.seconds)?;
                    if let (Some(b), Some(a)) = (before, pid.and_then(cpu_secs)) {
                        cpu[idx].push((a - b) * 1e6 / (rate * opts.seconds as f64));
                    }
                    tps[idx].push(rate);
                }
                rotation += 1;
            }
            let m: Vec<f64> = tps.iter_mut().map(|v| median(v)).collect();
            let mut line = format!("{workload:<8} c{clients:<3}");
            for ((t, v), c) in Target::ALL.iter().zip(&m).zip(cpu.iter_mut()) {
                line += &format!("  {:>9} {:>8.0} tps", t.name(), v);
                if !c.is_empty() {
                    line += &format!(" ({:>4.1} µs CPU/tx)", median(c));
                }
            }
            println!("{line}");
            let _ = writeln!(
                ratios,
                "ratio proxy/pgbouncer:{workload}:c{clients} {:.3}",
                m[0] / m[1]
            );
            let _ = writeln!(
                ratios,
                "ratio proxy/direct:{workload}:c{clients} {:.3}",
                m[0] / m[2]
            );
        }
    }
    print!("{ratios}");
    drop(env);
    Ok(())
}
