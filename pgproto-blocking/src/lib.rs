//! # pgproto-blocking
//!
//! A blocking PostgreSQL client and server framework on `std::net`, driving the sans-IO
//! [`pgproto_core`] state machines. It moves bytes between the socket and the core and waits; every protocol
//! decision is the core's.
//!
//! Choose it for plain blocking calls: tools, scripts, thread-per-request services
//! (tokio: `pgproto-tokio`; async-std or smol: `pgproto-asyncstd`; your own event loop:
//! `pgproto-core` alone). Cargo feature `r2d2`: the `pool` module, an `r2d2` manager.
//!
//! | | client | server |
//! |---|---|---|
//! | TLS (SSLRequest and direct, SCRAM-SHA-256-PLUS) | yes | yes, thread per connection |
//! | pipelining | explicit: [`Client::pipeline`] | in-order answers |
//! | streaming rows | [`Client::query_iter`] (read off the socket), [`Client::query_batched`] | portal suspension |
//! | COPY | [`Client::copy_in`], [`Client::copy_out`], streamed | through the core |
//! | transactions | [`Client::transaction`], savepoints | status |
//! | cancel | [`Client::cancel`] | routed to the session |
//! | notifications | [`Client::wait_notification`] | through the core |
//! | function call | [`Client::function_call`] | events |
//! | pools | `r2d2` (feature) | — |
//!
//! ```no_run
//! let mut client = pgproto_blocking::Client::connect("host=localhost user=postgres")?;
//! let sets = client.simple_query("select 1 as one")?;
//! assert_eq!(sets[0].rows[0].raw("one"), Some(Some(&b"1"[..])));
//! # Ok::<(), pgproto_blocking::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

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

/// The README's examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
