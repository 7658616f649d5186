//! # pgproto-blocking
//!
//! A blocking PostgreSQL client and server framework: the async driver of
//! `pgproto-driver` (the same client and serve loop as `pgproto-tokio` and
//! `pgproto-asyncstd`) run to completion on the calling thread by a small executor over
//! plain `std::net` sockets, so that every call blocks (in the socket read, as a
//! hand-written blocking client would) and nothing runs in the background.
//! Every protocol decision is the sans-IO [`pgproto_core`]'s.
//!
//! Choose it for plain blocking calls: tools, scripts, thread-per-request services
//! (tokio: `pgproto-tokio`; async-std or smol: `pgproto-asyncstd`; your own event loop:
//! `pgproto-core` alone). Cargo feature `r2d2`: the `pool` module, an `r2d2` manager.
//!
//! | | client | server |
//! |---|---|---|
//! | TLS (SSLRequest and direct, SCRAM-SHA-256-PLUS) | yes | yes, thread per connection |
//! | pipelining | explicit: [`Client::pipeline`] | in-order answers |
//! | streaming rows | [`Client::query_stream`] (an iterator read off the socket), [`Client::query_batched`] | portal suspension |
//! | COPY | [`Client::copy_in`], [`Client::copy_out`] (an iterator), streamed | through the core |
//! | transactions | [`Client::transaction`], savepoints | status |
//! | cancel | [`Client::cancel`], [`Client::cancel_with`] from any thread | routed to the session |
//! | notifications, notices | [`Client::notification`], [`Client::notice`] (bounded) | through the core |
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
mod runtime;
pub mod server;

pub use client::{Client, CopyIn, CopyOut, RowStream, Transaction};
pgproto_driver::reexport!();

/// The README's examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
