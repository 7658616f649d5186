//! PostgreSQL 15's own client programs (psql, pgbench) run against the adapters'
//! servers, as the server tests of every adapter do.

use std::process::{Command, Output};

/// PostgreSQL 15's programs (the Debian package's directory).
pub const PG15_BIN: &str = "/usr/lib/postgresql/15/bin";

/// PostgreSQL 15's `program` (`psql`, `pgbench`) with an environment of `PATH` only
/// (no `PGHOST`, `PGSSLMODE`, ... from the caller).
pub fn command(program: &str) -> Command {
    let mut c = Command::new(format!("{PG15_BIN}/{program}"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    c
}

/// `psql` as [`command`] builds it.
pub fn psql() -> Command {
    command("psql")
}

/// Asserts that a client program succeeded (its stderr and `what` in the message);
/// returns its standard output, trimmed.
pub fn succeeded(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
