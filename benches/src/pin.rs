//! CPU pinning of whole processes (every thread) with `taskset`, for round-trip figures:
//! with client and server on different CPUs a round trip costs far more than on one (see
//! BENCHMARKING.md). Processes forked or spawned afterwards inherit the pinning.

use std::process::Command;

/// The CPUs a process may run on (`Cpus_allowed_list`, e.g. `0-1`).
pub(crate) fn allowed(pid: u32) -> Result<String, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("reading /proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .map(|v| v.trim().to_string())
        .ok_or_else(|| format!("no Cpus_allowed_list for {pid}"))
}

/// Restricts every thread of `pid` to `cpus` (a `taskset` list such as `0`).
pub(crate) fn set(pid: u32, cpus: &str) -> Result<(), String> {
    let out = Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &pid.to_string()])
        .output()
        .map_err(|e| format!("running taskset (util-linux): {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "taskset -a -p -c {cpus} {pid}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Pins processes for as long as it lives; restores their CPUs when dropped.
pub(crate) struct Pinned {
    restore: Vec<(u32, String)>,
}

impl Pinned {
    /// Pins every process of `pids` to `cpus`.
    pub(crate) fn new(pids: &[u32], cpus: &str) -> Result<Self, String> {
        let mut pinned = Self {
            restore: Vec::new(),
        };
        for &pid in pids {
            let before = allowed(pid)?;
            set(pid, cpus)?;
            pinned.restore.push((pid, before));
        }
        Ok(pinned)
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        for (pid, cpus) in self.restore.drain(..) {
            let _ = set(pid, &cpus);
        }
    }
}
