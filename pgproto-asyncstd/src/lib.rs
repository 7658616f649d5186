//! # pgproto-asyncstd
//!
//! The `futures-io` adapter of pgproto, for async-std, smol, and any other
//! executor. It moves bytes between sockets and the sans-IO [`pgproto_core`] state
//! machines and wakes waiters; every protocol decision is the core's.
//!
//! Nothing here is tied to one executor. Sockets and timers come from
//! [`async-net`](async_net) and [`async-io`](async_io) (smol's reactor, which async-std
//! uses as well, and which runs its own driver thread under any other executor). Where a
//! task must run in the background, this crate hands you the future and you spawn it:
//!
//! - [`Client`]: an async PostgreSQL client. [`Client::connect`] returns the client and
//!   its [`Connection`], a future that owns the socket and must be polled (spawned, or
//!   awaited next to the client) for requests to make progress. Concurrent calls on one
//!   client are pipelined automatically: the connection writes requests as they come
//!   and routes each response to its caller. Typed queries ([`Client::query`],
//!   [`Client::prepare`], [`Client::query_prepared`]), large results as a row stream
//!   ([`Client::query_stream`]) or in batches through portal suspension
//!   ([`Client::query_batched`]), COPY ([`Client::copy_in`],
//!   [`Client::copy_out`]), transactions ([`Client::transaction`]), explicit pipelines
//!   and [`Client::cancel`]. TLS follows libpq's `sslmode`, `sslrootcert`,
//!   `channel_binding` and `sslnegotiation=direct` (rustls, through `futures-rustls`).
//! - `pool` (feature `deadpool`): a `deadpool` manager for any executor.
//! - [`server`]: accept PostgreSQL clients and answer them with a [`server::Handler`];
//!   [`server::serve`] takes a spawner closure that runs each session. TLS with
//!   [`server::ServerOptions::with_tls`], after an SSLRequest or direct.
//!
//! Choose it when your application runs on async-std, smol or another non-tokio
//! executor (tokio: `pgproto-tokio`; plain threads: `pgproto-blocking`; your own event
//! loop: `pgproto-core` alone). Cargo feature `deadpool`: the `pool` module.
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
//! | pools | `deadpool` (feature) | — |
//!
//! ```no_run
//! # async fn demo() -> Result<(), pgproto_asyncstd::Error> {
//! let url = "postgresql://postgres@localhost/postgres?sslmode=disable";
//! let (client, connection) = pgproto_asyncstd::Client::connect(url).await?;
//! // async-std: `async_std::task::spawn(connection);`
//! // smol:      `smol::spawn(connection).detach();`
//! # let _ = connection;
//! let sets = client.simple_query("select 1 as one").await?;
//! assert_eq!(sets[0].rows[0].raw("one"), Some(Some(&b"1"[..])));
//! client.close().await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "deadpool")]
pub mod pool;
mod runtime;
pub mod server;

pub use runtime::AsyncIo;

pgproto_driver::reexport!(
    runtime = AsyncIo,
    client = "[`Client::connect`] returns it with its [`Connection`], which you spawn."
);
/// The connection future [`Client::connect`] returns, for you to spawn.
pub use pgproto_driver::Connection;

/// The README's examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
