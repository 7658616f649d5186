//! # pgproto-blocking
//!
//! A blocking PostgreSQL client and server framework on `std::net`, driving the sans-IO
//! [`pgproto_core`] state machines. It moves bytes between the socket and the core and waits; every protocol
//! decision is the core's.
//!
//! ```no_run
//! let mut client = pgproto_blocking::Client::connect("host=localhost user=postgres")?;
//! let sets = client.simple_query("select 1 as one")?;
//! assert_eq!(sets[0].rows[0].raw("one"), Some(Some(&b"1"[..])));
//! # Ok::<(), pgproto_blocking::Error>(())
//! ```
#![forbid(unsafe_code)]

mod client;
#[cfg(feature = "r2d2")]
pub mod pool;
pub mod server;

pub use client::{Client, CopyInWriter, RowIter, Transaction};
pub use pgproto_core as core;
pub use pgproto_core::adapter::Error;
pub use pgproto_core::client::{Column, Notification, ResultSet, Row, Statement};
pub use pgproto_core::client::{IsolationLevel, TransactionOptions};
pub use pgproto_core::db_error::DbError;
pub use pgproto_core::types::{FromSql, ToSql};
