//! Test clients installed from a registry (PyPI, npm) once, into a cache directory that
//! later runs reuse.

use std::path::{Path, PathBuf};

/// The directory for `packages` under `<workspace>/target/<cache>` (or `$env_var`),
/// filled by `install` (given an empty private directory) unless a previous run did.
/// Concurrent test processes each install in their own directory; the first rename
/// wins.
pub(crate) fn cached(
    cache: &str,
    env_var: &str,
    packages: &[&str],
    install: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<PathBuf, String> {
    let name: String = packages
        .join("+")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".=@+-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let root = match std::env::var_os(env_var).filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")))
            .join("target")
            .join(cache),
    };
    let dir = root.join(&name);
    if dir.join("ready").exists() {
        return Ok(dir);
    }
    let building = root.join(format!(".{name}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    install(&building)?;
    std::fs::write(building.join("ready"), b"")
        .map_err(|e| format!("{}: {e}", building.display()))?;
    if std::fs::rename(&building, &dir).is_err() {
        // Another process finished first: use its installation.
        let _ = std::fs::remove_dir_all(&building);
    }
    if dir.join("ready").exists() {
        Ok(dir)
    } else {
        Err(format!("{} was not created", dir.display()))
    }
}

/// Runs an installer; its output in the error when it fails.
pub(crate) fn run(cmd: &mut std::process::Command, what: &str) -> Result<(), String> {
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
