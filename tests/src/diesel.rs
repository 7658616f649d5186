//! The Diesel CLI (`diesel_cli` from crates.io, built for PostgreSQL only), for tests
//! of `diesel print-schema` and `diesel migration`: built once with `cargo install`
//! under `<workspace>/target/diesel-cache` (or `$PGPROTO_DIESEL_CACHE`) and reused by
//! later runs. Building it needs libpq (`apt-get install libpq-dev`), access to
//! crates.io and a few minutes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::install_cache::{cached, run};

/// Overrides where the build is kept.
pub const CACHE_ENV: &str = "PGPROTO_DIESEL_CACHE";

/// The `diesel_cli` release the tests run.
pub const VERSION: &str = "2.3.14";

/// An installed `diesel` program.
#[derive(Debug, Clone)]
pub struct DieselCli {
    dir: PathBuf,
}

impl DieselCli {
    /// The `diesel` program of [`VERSION`], built and installed if it is not yet.
    pub fn installed() -> Result<Self, String> {
        let package = format!("diesel_cli@{VERSION}");
        let dir = cached("diesel-cache", CACHE_ENV, &[&package], |building| {
            let build = building.join("build");
            // `--target-dir` inside the private directory (removed once installed) keeps
            // the build out of the caller's `CARGO_TARGET_DIR`; the working directory
            // keeps the workspace's configuration out of it.
            std::fs::create_dir_all(building)
                .map_err(|e| format!("{}: {e}", building.display()))?;
            run(
                Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                    .current_dir(building)
                    .args(["install", "--quiet", "--locked", "--no-default-features"])
                    .args(["--features", "postgres", "--root"])
                    .arg(building)
                    .arg("--target-dir")
                    .arg(&build)
                    .arg(&package),
                &format!("cargo install {package} (apt-get install libpq-dev)"),
            )?;
            std::fs::remove_dir_all(&build).map_err(|e| format!("{}: {e}", build.display()))
        })?;
        Ok(Self { dir })
    }

    /// Runs `diesel` with `args` in `dir` (where `diesel.toml` and `migrations/` are
    /// looked for).
    pub fn run(&self, dir: &Path, args: &[&str]) -> Output {
        Command::new(self.dir.join("bin/diesel"))
            .current_dir(dir)
            .env_remove("DATABASE_URL")
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running diesel {}: {e}", args.join(" ")))
    }
}
