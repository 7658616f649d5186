//! Integration-test support for pgproto.
//!
//! * [`harness`]: throwaway PostgreSQL 15 and 18 clusters (auth methods,
//!   TLS, roles, psql).
//! * [`relay`]: a recording TCP relay used to capture real sessions.
//! * [`clients`]: PostgreSQL 15's psql and pgbench, run against a server under test.
//! * [`diesel`]: the Diesel CLI from crates.io, built once into a cache directory.
//! * [`faults`]: what the clients' fault tests share (cluster, statements, cut
//!   relay, expected outcomes).
//! * [`framing`]: splits captured byte streams into protocol messages.
//! * [`hostile`]: a scripted hostile server for downgrade tests of clients.
//! * [`pool_check`]: the workload of the pool tests, and a peak-RSS reading.
//! * [`node`]: Node.js drivers from npm in cached directories.
//! * [`program`]: a server program under test, run as a child process.
//! * [`python`]: Python drivers from PyPI in cached virtual environments.
//! * [`server_tls`]: what the adapters' TLS server tests share (certificates, options,
//!   checks with psql and raw sockets).

#![deny(missing_docs)]

pub mod clients;
pub mod diesel;
pub mod faults;
pub mod framing;
pub mod harness;
pub mod hostile;
mod install_cache;
pub mod node;
pub mod pool_check;
pub mod program;
pub mod python;
pub mod relay;
pub mod server_tls;
