//! The conformance suite: every scenario that the three adapters (`pgproto-tokio`,
//! `pgproto-asyncstd` under async-std and smol, `pgproto-blocking`) must pass against
//! real PostgreSQL and hostile servers, written once.
//!
//! Each adapter instantiates it from its own `tests/conformance.rs` (as rustls runs its
//! API tests once per crypto provider): before `#[path]`-including this module it
//! includes the macros of `bind/async_macros.rs` or `bind/blocking_macros.rs` and
//! defines a module `adapter`. The macros:
//!
//! * `maybe_async! { fn f(..) -> T { .. } }`: an `async fn` for the async adapters, a
//!   plain `fn` for blocking;
//! * `aw!(expr)`: `expr.await`, or just `expr` for blocking (also for streams: the
//!   async `next()` versus `Iterator::next`);
//! * `conformance_test! { fn name() { .. } }`: a `#[test]` that runs the body on the
//!   adapter's runtime(s) (`adapter::run_each`) under a watchdog;
//! * `async_only! { .. }`: items compiled for the async adapters only.
//!
//! The module `adapter` re-exports the adapter crate (`Client`, `Error`, ...) plus
//! `connect(conninfo)` (a `Client`; the async-std one spawns its connection and checks
//! its result on `close`), `unblock(f)` (a blocking closure off the async runtime),
//! `sleep(duration)`, `cancel_later`/`joined` (a cancel request from another task or
//! thread), `copy_data` (owned or borrowed COPY data) and, for the async adapters,
//! `connection_ended(&mut client)` (waits for the connection to end: its result where
//! the adapter hands out the connection future, `None` where it spawned it).
//!
//! The blocking client's methods take `&mut self`, so scenarios hold `let mut client`
//! and pass `&mut Client`; the async ones only borrow it. Rows and COPY data are read
//! with `while let Some(x) = aw!(s.next())`, which is a `Stream` for the async clients
//! and an `Iterator` for blocking (hence the lints allowed here).

#![allow(unused_mut, clippy::needless_borrow, clippy::while_let_on_iterator)]

mod client;
mod copy_stream;
async_only! {
    mod client_async;
    mod copy_concurrency;
    mod faults;
}
mod downgrade;
mod tls_client;
mod types;
