//! # pgproto-tokio
//!
//! Tokio adapter for pgproto: the driver's ([`pgproto_driver`]) client and server on
//! tokio sockets, timers and tasks. It moves bytes between sockets and the sans-IO
//! [`pgproto_core`] state machines and wakes waiters; every protocol decision is the
//! core's.
//!
//! - [`Client`]: an async PostgreSQL client. [`Client::connect`] spawns the connection
//!   task. Concurrent calls on one client are pipelined automatically: the task writes
//!   requests as they come and routes each response to its caller.
//! - `pool` (features `deadpool`, `bb8`): connection managers for those pools.
//! - [`server`]: accept PostgreSQL clients and answer them with a [`server::Handler`].
//!
//! Choose it when your application runs on tokio (async-std or smol:
//! `pgproto-asyncstd`; plain threads: `pgproto-blocking`; your own event loop:
//! `pgproto-core` alone). Cargo features `deadpool` and `bb8`: the `pool` module.
//!
//! | | client | server |
//! |---|---|---|
//! | TLS (SSLRequest and direct, SCRAM-SHA-256-PLUS) | yes | yes |
//! | pipelining | automatic for concurrent calls, [`Client::pipeline`] | in-order answers |
//! | streaming rows | [`Client::query_stream`], [`Client::query_batched`] | portal suspension |
//! | COPY | [`Client::copy_in`], [`Client::copy_out`] (a `Stream`) | through the core |
//! | transactions | [`Client::transaction`], savepoints | status |
//! | cancel | [`Client::cancel`] | routed to the session |
//! | notifications, notices | [`Client::notification`], [`Client::notice`] (bounded) | through the core |
//! | function call | [`Client::function_call`] | events |
//! | pools | `deadpool`, `bb8` (features) | — |
//!
//! ```no_run
//! # async fn demo() -> Result<(), pgproto_tokio::Error> {
//! let client = pgproto_tokio::Client::connect("postgresql://postgres@localhost/postgres?sslmode=disable").await?;
//! let sets = client.simple_query("select 1 as one").await?;
//! assert_eq!(sets[0].rows[0].raw("one"), Some(Some(&b"1"[..])));
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(any(feature = "deadpool", feature = "bb8"))]
pub mod pool;
mod runtime;
pub mod server;

pub use runtime::Tokio;

/// The README's examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The workspace README's examples (tokio client and server, the codec), compiled here
/// because this crate has every dependency they use.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct WorkspaceReadmeDoctests;

pgproto_driver::reexport!(
    runtime = Tokio,
    client = "[`Client::connect`] spawns the connection's task."
);
