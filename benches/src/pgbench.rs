//! Running pgbench (libpq's C client) and reading its throughput, shared by `client` (libpq
//! against pgproto-blocking) and `server` (pgbench against two servers).

use std::path::{Path, PathBuf};
use std::process::Command;

/// PostgreSQL 15's pgbench, else the one on `PATH`.
pub(crate) fn program() -> PathBuf {
    let own = Path::new("/usr/lib/postgresql/15/bin/pgbench");
    if own.is_file() {
        own.to_path_buf()
    } else {
        PathBuf::from("pgbench")
    }
}

/// A script file that is removed when dropped.
pub(crate) struct Script {
    path: PathBuf,
}

impl Script {
    /// Writes `text` to a fresh file in the temporary directory.
    pub(crate) fn new(name: &str, text: &str) -> Result<Self, String> {
        let path =
            std::env::temp_dir().join(format!("pgproto-bench-{}-{name}", std::process::id()));
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        Ok(Self { path })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// One pgbench run.
pub(crate) struct Run<'a> {
    /// The program, with whatever environment and prefix (e.g. `taskset`) the caller wants.
    pub(crate) program: &'a Path,
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    pub(crate) user: &'a str,
    pub(crate) script: &'a Script,
    /// `simple`, `extended` or `prepared`.
    pub(crate) mode: &'a str,
    pub(crate) clients: u32,
    pub(crate) threads: u32,
    pub(crate) seconds: u32,
}

impl Run<'_> {
    /// Runs pgbench (`-n`, no SSL, no `PG*` environment) and returns its transactions per
    /// second (excluding connection time); any failed transaction is an error.
    pub(crate) fn tps(&self) -> Result<f64, String> {
        let mut cmd = Command::new(self.program);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PG") {
                cmd.env_remove(key);
            }
        }
        cmd.env("PGSSLMODE", "disable")
            .args(["-n", "-M", self.mode])
            .args(["-c", &self.clients.to_string()])
            .args(["-j", &self.threads.to_string()])
            .args(["-T", &self.seconds.to_string()])
            .args([
                "-h",
                self.host,
                "-p",
                &self.port.to_string(),
                "-U",
                self.user,
            ])
            .arg("-f")
            .arg(self.script.path())
            .arg("postgres");
        let out = cmd
            .output()
            .map_err(|e| format!("running {}: {e}", self.program.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let describe = || {
            format!(
                "pgbench -M {} -c{} failed ({}):\n{stdout}{}",
                self.mode,
                self.clients,
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        };
        if !out.status.success() {
            return Err(describe());
        }
        let failed = stdout
            .lines()
            .find_map(|l| l.strip_prefix("number of failed transactions: "))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok());
        if failed.is_some_and(|n| n > 0) {
            return Err(describe());
        }
        stdout
            .lines()
            .find_map(|l| l.strip_prefix("tps = "))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|t| t.parse::<f64>().ok())
            .filter(|t| *t > 0.0)
            .ok_or_else(describe)
    }
}
