//! Serving PostgreSQL clients: accept connections, run startup and authentication
//! through the core, and hand every query-level event to the application's
//! [`Handler`].
//!
//! No executor is assumed. [`serve`] and [`serve_until`] take a *spawner*, a closure that
//! receives each session as a boxed `Send` future and runs it:
//!
//! | executor | spawner |
//! | --- | --- |
//! | async-std | `\|session\| { async_std::task::spawn(session); }` |
//! | smol (global) | `\|session\| smol::spawn(session).detach()` |
//! | a `smol::Executor` | `move \|session\| executor.spawn(session).detach()` |
//!
//! The listener is an [`async_net::TcpListener`]; it runs on the async-io reactor, which
//! async-std and smol share, so it works under either (build one from a
//! `std::net::TcpListener` with `TryFrom`). The startup timeout uses
//! [`async_io::Timer`] for the same reason. The serve loop is the driver's
//! ([`pgproto_driver::server`]).
//!
//! TLS ([`ServerOptions::with_tls`]) is offered both ways PostgreSQL offers it: after an
//! SSLRequest, and as direct TLS (PostgreSQL 17+, `sslnegotiation=direct`), which must
//! negotiate ALPN `postgresql`. The handshake counts against the startup timeout.
//!
//! ```no_run
//! use pgproto_asyncstd::server::{serve, Handler, ServerOptions};
//! use pgproto_core::column::Column;
//! use pgproto_core::server::{AuthKind, Server, ServerAuth, ServerEvent};
//!
//! struct Hello;
//! impl Handler for Hello {
//!     async fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), pgproto_asyncstd::Error> {
//!         if let ServerEvent::Query { .. } = event {
//!             server.row_description(&[Column::new("greeting", 25, -1)])?;
//!             server.data_row(&[Some(b"hello")])?;
//!             server.command_complete("SELECT 1")?;
//!             server.ready_for_query()?;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # async fn demo() -> std::io::Result<()> {
//! let listener = async_net::TcpListener::bind("127.0.0.1:5433").await?;
//! let options = ServerOptions::new(ServerAuth::new(AuthKind::Trust, b"secret"));
//! // On smol; with async-std: `|session| { async_std::task::spawn(session); }`.
//! serve(listener, options, |_startup| Hello, |session| smol::spawn(session).detach()).await
//! # }
//! ```

use std::future::Future;

use pgproto_driver::server as driver;

use crate::AsyncIo;

pub use pgproto_driver::server::{Handler, MakeHandler, ServerOptions, ServerTls, Session};

/// Accepts connections until `shutdown` completes, serving each with a handler made by
/// `make_handler` (called with the client's startup request once authentication
/// started). `spawn` runs each [`Session`] (see the [module docs](self)).
///
/// After `shutdown`, no new connection is accepted and this returns once the live
/// sessions have ended (graceful shutdown). A session counts as ended when its future
/// completes or is dropped.
pub async fn serve_until<H: Handler>(
    listener: async_net::TcpListener,
    options: ServerOptions,
    make_handler: impl MakeHandler<H>,
    spawn: impl FnMut(Session),
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    driver::serve_until::<AsyncIo, _>(listener, options, make_handler, spawn, shutdown).await
}

/// Accepts connections forever; see [`serve_until`].
pub async fn serve<H: Handler>(
    listener: async_net::TcpListener,
    options: ServerOptions,
    make_handler: impl MakeHandler<H>,
    spawn: impl FnMut(Session),
) -> std::io::Result<()> {
    let forever = futures_lite::future::pending();
    serve_until(listener, options, make_handler, spawn, forever).await
}
