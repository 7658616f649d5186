//! The operating-system account that runs `initdb` and `postgres`.
//!
//! PostgreSQL refuses to run as root. When the tests run as root (as in CI
//! containers) the server programs are run as an unprivileged account
//! (`postgres`, or `$PGPROTO_PG_OS_USER`), and the files they need are
//! handed over to it. Otherwise they run as the current user.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use super::error::{HarnessError, HarnessResult};

/// Environment variable naming the account to use when running as root.
const OS_USER_ENV: &str = "PGPROTO_PG_OS_USER";

/// Who runs the server processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ServerAccount {
    /// The current (non-root) user.
    Current,
    /// Another account, switched to because we run as root.
    Other {
        name: String,
        uid: u32,
        gid: u32,
        home: String,
    },
}

impl ServerAccount {
    /// Picks the account for this process.
    pub(crate) fn detect() -> HarnessResult<Self> {
        // The owner of /proc/self is the effective uid of this process.
        let euid = fs::metadata("/proc/self")
            .map_err(|e| HarnessError::io("cannot determine the effective user (/proc/self)", e))?
            .uid();
        if euid != 0 {
            return Ok(Self::Current);
        }
        let name = std::env::var(OS_USER_ENV)
            .ok()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "postgres".to_owned());
        let passwd = fs::read_to_string("/etc/passwd")
            .map_err(|e| HarnessError::io("cannot read /etc/passwd", e))?;
        for line in passwd.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() >= 6 && fields[0] == name {
                let parse = |s: &str| {
                    s.parse::<u32>().map_err(|_| {
                        HarnessError::new(format!("malformed /etc/passwd entry for {name}"))
                    })
                };
                let uid = parse(fields[2])?;
                if uid == 0 {
                    return Err(HarnessError::new(format!(
                        "account {name} has uid 0; PostgreSQL cannot run as root"
                    )));
                }
                return Ok(Self::Other {
                    uid,
                    gid: parse(fields[3])?,
                    home: fields[5].to_owned(),
                    name,
                });
            }
        }
        Err(HarnessError::new(format!(
            "running as root, but there is no `{name}` account to run PostgreSQL as \
             (PostgreSQL refuses to run as root). Create one (`useradd --system --user-group \
             postgres`; installing postgresql-15 does this) or set ${OS_USER_ENV} to an \
             unprivileged account"
        )))
    }

    /// Makes `cmd` run as this account.
    pub(crate) fn apply(&self, cmd: &mut Command) {
        if let Self::Other {
            name,
            uid,
            gid,
            home,
        } = self
        {
            cmd.uid(*uid).gid(*gid);
            cmd.env("USER", name).env("LOGNAME", name).env("HOME", home);
        }
    }

    /// Gives `path` to this account (no-op for the current user).
    pub(crate) fn give(&self, path: &Path) -> HarnessResult<()> {
        if let Self::Other { uid, gid, .. } = self {
            std::os::unix::fs::chown(path, Some(*uid), Some(*gid))
                .map_err(|e| HarnessError::io(format!("chown {}", path.display()), e))?;
        }
        Ok(())
    }

    /// Checks that this account can reach `path` (every ancestor directory
    /// searchable), so that errors name the culprit instead of a cryptic
    /// "permission denied" from initdb.
    pub(crate) fn check_reachable(&self, path: &Path) -> HarnessResult<()> {
        let Self::Other { name, uid, gid, .. } = self else {
            return Ok(());
        };
        for dir in path.ancestors().skip(1) {
            if dir.as_os_str().is_empty() {
                continue;
            }
            let meta = fs::metadata(dir)
                .map_err(|e| HarnessError::io(format!("stat {}", dir.display()), e))?;
            let mode = meta.permissions().mode();
            let searchable = if meta.uid() == *uid {
                mode & 0o100 != 0
            } else if meta.gid() == *gid {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            };
            if !searchable {
                return Err(HarnessError::new(format!(
                    "{} is not reachable by the `{name}` account that runs PostgreSQL: \
                     directory {} is not searchable by it (chmod o+x it, or choose another \
                     location)",
                    path.display(),
                    dir.display()
                )));
            }
        }
        Ok(())
    }
}
