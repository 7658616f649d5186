//! Python clients from PyPI, for tests against real drivers (asyncpg, psycopg,
//! SQLAlchemy...): one virtual environment per package set, created on first use under
//! `<workspace>/target/py-cache` (or `$PGPROTO_PY_CACHE`) and reused by later runs.
//! Needs `python3` with the `venv` module and access to PyPI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::install_cache::{cached, run};

/// Overrides where the environments are kept.
pub const CACHE_ENV: &str = "PGPROTO_PY_CACHE";

/// A virtual environment with some packages installed.
#[derive(Debug, Clone)]
pub struct PythonEnv {
    dir: PathBuf,
}

impl PythonEnv {
    /// The environment with `packages` (pinned pip requirements such as
    /// `asyncpg==0.32.0`), created and installed if it does not exist yet.
    pub fn with(packages: &[&str]) -> Result<Self, String> {
        let dir = cached("py-cache", CACHE_ENV, packages, |building| {
            let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
            run(
                Command::new(&python).args(["-m", "venv"]).arg(building),
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
            )
        })?;
        Ok(Self { dir })
    }

    /// This environment's interpreter, as a command to add arguments, environment
    /// variables or a working directory to.
    pub fn python(&self) -> Command {
        Command::new(self.dir.join("bin/python"))
    }

    /// Runs `script` with `args` on this environment's interpreter.
    pub fn run(&self, script: &Path, args: &[&str]) -> Output {
        self.python()
            .arg(script)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", script.display()))
    }
}
