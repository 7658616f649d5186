//! # pgproto-tokio
//!
//! Tokio adapter for pgproto. It moves bytes between tokio sockets and the sans-IO
//! [`pgproto_core`] state machines and wakes waiters; every protocol decision is the
//! core's.
//!
//! - [`Client`]: an async PostgreSQL client. Concurrent calls on one client are
//!   pipelined automatically: a background task writes requests as they come and routes
//!   each response to its caller.
//! - `pool` (features `deadpool`, `bb8`): connection managers for those pools.
//! - [`server`]: accept PostgreSQL clients and answer them with a [`server::Handler`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), pgproto_tokio::Error> {
//! let client = pgproto_tokio::Client::connect("postgresql://postgres@localhost/postgres?sslmode=disable").await?;
//! let sets = client.simple_query("select 1 as one").await?;
//! assert_eq!(sets[0].rows[0].raw("one"), Some(Some(&b"1"[..])));
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod client;
#[cfg(any(feature = "deadpool", feature = "bb8"))]
pub mod pool;
pub mod server;

pub use client::{Client, CopyIn, CopyOut, RowStream, Transaction};
pub use pgproto_core as core;
pub use pgproto_core::adapter::Error;
pub use pgproto_core::client::{Column, Notification, ResultSet, Row, Statement};
pub use pgproto_core::client::{IsolationLevel, TransactionOptions};
pub use pgproto_core::db_error::DbError;
pub use pgproto_core::types::{FromSql, ToSql};
