//! Node.js drivers from npm, for tests against real clients (node-postgres, Knex...):
//! one directory per package set, installed on first use under
//! `<workspace>/target/node-cache` (or `$PGPROTO_NODE_CACHE`) and reused by later runs.
//! Needs `node` and `npm` with access to the npm registry.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::install_cache::{cached, run};

/// Overrides where the packages are kept.
pub const CACHE_ENV: &str = "PGPROTO_NODE_CACHE";

/// A directory whose `node_modules` holds some packages.
#[derive(Debug, Clone)]
pub struct NodeEnv {
    dir: PathBuf,
}

impl NodeEnv {
    /// The packages (pinned npm specifiers such as `pg@8.23.1`), installed if they are
    /// not yet.
    pub fn with(packages: &[&str]) -> Result<Self, String> {
        let dir = cached("node-cache", CACHE_ENV, packages, |building| {
            run(
                Command::new("npm")
                    .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
                    .arg(building)
                    .args(packages),
                &format!(
                    "npm install {} (apt-get install nodejs npm)",
                    packages.join(" ")
                ),
            )
        })?;
        Ok(Self { dir })
    }

    /// Runs `script` with `args` under `node`, with these packages on `NODE_PATH` and
    /// the time zone UTC.
    pub fn run(&self, script: &Path, args: &[&str]) -> Output {
        Command::new("node")
            .env("NODE_PATH", self.dir.join("node_modules"))
            .env("TZ", "UTC")
            .arg(script)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", script.display()))
    }
}
