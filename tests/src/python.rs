//! Python clients from PyPI, for tests against real drivers (asyncpg, psycopg,
//! SQLAlchemy...): one virtual environment per package set, created on first use under
//! `<workspace>/target/py-cache` (or `$PGPROTO_PY_CACHE`) and reused by later runs.
//! Needs `python3` with the `venv` module and access to PyPI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Overrides where the environments are kept.
pub const CACHE_ENV: &str = "PGPROTO_PY_CACHE";

/// A virtual environment with some packages installed.
#[derive(Debug, Clone)]
pub struct PythonEnv {
    dir: PathBuf,
}

fn cache_root() -> PathBuf {
    match std::env::var_os(CACHE_ENV).filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")))
            .join("target")
            .join("py-cache"),
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl PythonEnv {
    /// The environment with `packages` (pinned pip requirements such as
    /// `asyncpg==0.32.0`), created and installed if it does not exist yet. Concurrent
    /// test processes each build in a private directory and the first rename wins.
    pub fn with(packages: &[&str]) -> Result<Self, String> {
        let name: String = packages
            .join("+")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || ".=+-_".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let root = cache_root();
        let dir = root.join(&name);
        if dir.join("ready").exists() {
            return Ok(Self { dir });
        }
        std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        let building = root.join(format!(".{name}.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&building);
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        run(
            Command::new(&python).args(["-m", "venv"]).arg(&building),
            "python3 -m venv (apt-get install python3-venv)",
        )?;
        run(
            Command::new(building.join("bin/python"))
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(packages),
            &format!("pip install {}", packages.join(" ")),
        )?;
        std::fs::write(building.join("ready"), b"")
            .map_err(|e| format!("{}: {e}", building.display()))?;
        if std::fs::rename(&building, &dir).is_err() {
            // Another process finished first: use its environment.
            let _ = std::fs::remove_dir_all(&building);
        }
        if !dir.join("ready").exists() {
            return Err(format!("{} was not created", dir.display()));
        }
        Ok(Self { dir })
    }

    /// Runs `script` with `args` on this environment's interpreter.
    pub fn run(&self, script: &Path, args: &[&str]) -> Output {
        Command::new(self.dir.join("bin/python"))
            .arg(script)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", script.display()))
    }
}
