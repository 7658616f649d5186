//! Serving PostgreSQL clients: accept connections, run startup and authentication
//! through the core, and hand every query-level event to the application's
//! [`Handler`]. The serve loop is the driver's ([`pgproto_driver::server`]), run on
//! tokio tasks.
//!
//! ```no_run
//! use pgproto_core::column::Column;
//! use pgproto_core::server::{AuthKind, Server, ServerAuth, ServerEvent};
//! use pgproto_tokio::server::{serve, Handler, ServerOptions};
//!
//! struct Hello;
//! impl Handler for Hello {
//!     async fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), pgproto_tokio::Error> {
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
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:5433").await?;
//! let options = ServerOptions::new(ServerAuth::new(AuthKind::Trust, b"secret"));
//! serve(listener, options, |_startup| Hello).await
//! # }
//! ```

use pgproto_core::server::Server;
use pgproto_driver::runtime::{BoxStream, Plain};
use pgproto_driver::server as driver;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::compat::{FuturesAsyncWriteCompatExt, TokioAsyncWriteCompatExt};

use crate::runtime::Tokio;
use crate::Error;

pub use pgproto_driver::server::{Handler, MakeHandler, ServerOptions, ServerTls};

/// Accepts connections until `shutdown` turns true (or its sender is dropped), serving
/// each on its own task with a handler made by `make_handler` (called with the client's
/// startup request once authentication started). Then waits for the live sessions to
/// end (graceful shutdown).
pub async fn serve_until<H: Handler>(
    listener: TcpListener,
    options: ServerOptions,
    make_handler: impl MakeHandler<H>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let shutdown = async move {
        while !*shutdown.borrow_and_update() {
            if shutdown.changed().await.is_err() {
                break;
            }
        }
    };
    let spawn = |session| drop(tokio::spawn(session));
    driver::serve_until::<Tokio, _>(listener, options, make_handler, spawn, shutdown).await
}

/// Accepts connections forever; see [`serve_until`].
pub async fn serve<H: Handler>(
    listener: TcpListener,
    options: ServerOptions,
    make_handler: impl MakeHandler<H>,
) -> std::io::Result<()> {
    let (_keep, rx) = watch::channel(false);
    serve_until(listener, options, make_handler, rx).await
}

/// A tokio stream, boxed so plain and TLS connections share one type.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Performs the server side of a TLS handshake on `stream` (after the core asked for
/// it: for direct TLS the bytes the core already read are replayed to the TLS library,
/// and ALPN `postgresql` is required) and tells the core, with the channel-binding data.
/// For servers built on the core without [`serve`], such as proxies.
pub async fn accept_tls(
    stream: Box<dyn Stream>,
    server: &mut Server,
    tls: Option<&ServerTls>,
    direct: bool,
) -> Result<Box<dyn Stream>, Error> {
    let plain: BoxStream = Box::new(Plain::new(stream.compat_write()));
    let tls = driver::accept_tls(plain, server, tls, direct).await?;
    Ok(Box::new(tls.compat_write()))
}
