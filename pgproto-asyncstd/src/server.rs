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
//! [`async_io::Timer`] for the same reason.
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
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use pgproto_core::adapter::{ServerSessions, SessionAction};
use pgproto_core::server::{Server, ServerEvent, ServerPhase, StartupRequest};

use crate::Error;

/// The application's side of one connection: it receives every query-level event and
/// answers through the [`Server`] commands. The adapter writes the answers out.
pub trait Handler: Send + 'static {
    /// Handles one event (Query, Parse, Bind, Execute, FunctionCall, COPY data,
    /// Terminate). Returning an error closes the connection.
    fn handle(
        &mut self,
        server: &mut Server,
        event: ServerEvent,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

/// One client session, handed to the spawner of [`serve`]: run it to completion on
/// any executor.
pub type Session = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

pub use pgproto_tls::{ServerOptions, ServerTls};

/// A running server's shared state.
#[derive(Debug, Clone)]
struct Shared {
    options: ServerOptions,
    sessions: ServerSessions,
}

/// Accepts connections until `shutdown` completes, serving each with a handler made by
/// `make_handler` (called with the client's startup request once authentication
/// started). `spawn` runs each [`Session`] (see the [module docs](self)).
///
/// After `shutdown`, no new connection is accepted and this returns once the live
/// sessions have ended (graceful shutdown). A session counts as ended when its future
/// completes or is dropped.
pub async fn serve_until<F, H, S>(
    listener: async_net::TcpListener,
    options: ServerOptions,
    make_handler: F,
    mut spawn: S,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    F: Fn(&StartupRequest) -> H + Send + Sync + 'static,
    H: Handler,
    S: FnMut(Session),
{
    let shared = Shared {
        options,
        sessions: ServerSessions::default(),
    };
    let make_handler = Arc::new(make_handler);
    // Every session holds a sender; `recv` fails once all of them are gone.
    let (live, all_ended) = async_channel::bounded::<()>(1);
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = futures_lite::future::or(async { Some(listener.accept().await) }, async {
            shutdown.as_mut().await;
            None
        })
        .await;
        let stream = match accepted {
            None => break,
            Some(Ok((stream, _))) => stream,
            // Out of file descriptors and the like: keep serving the others.
            Some(Err(_)) => {
                async_io::Timer::after(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let make_handler = make_handler.clone();
        let live = live.clone();
        spawn(Box::pin(async move {
            let _ = serve_connection(Box::new(stream), shared, move |s| make_handler(s)).await;
            drop(live);
        }));
    }
    drop(listener);
    drop(live);
    let _ = all_ended.recv().await;
    Ok(())
}

/// Accepts connections forever; see [`serve_until`].
pub async fn serve<F, H, S>(
    listener: async_net::TcpListener,
    options: ServerOptions,
    make_handler: F,
    spawn: S,
) -> std::io::Result<()>
where
    F: Fn(&StartupRequest) -> H + Send + Sync + 'static,
    H: Handler,
    S: FnMut(Session),
{
    serve_until(
        listener,
        options,
        make_handler,
        spawn,
        futures_lite::future::pending(),
    )
    .await
}

fn random<const N: usize>() -> Result<[u8; N], Error> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|e| Error::Io(e.into()))?;
    Ok(b)
}

/// Reads and writes; boxed so plain and TLS connections share one loop.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A stream whose first bytes were already read (the start of a direct-TLS
/// ClientHello, which the core buffered while looking for a startup packet).
struct Prefixed {
    prefix: bytes::Bytes,
    inner: Box<dyn Stream>,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.len());
            let chunk = self.prefix.split_to(n);
            if let Some(dst) = buf.get_mut(..n) {
                dst.copy_from_slice(&chunk);
            }
            return std::task::Poll::Ready(Ok(n));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// Performs the server side of a TLS handshake (by `deadline`) and tells the core.
async fn accept_tls(
    stream: Box<dyn Stream>,
    server: &mut Server,
    tls: Option<&ServerTls>,
    direct: bool,
    deadline: Option<Instant>,
) -> Result<Box<dyn Stream>, Error> {
    let tls = tls.ok_or(Error::Unsupported("TLS is not configured"))?;
    let prefix = if direct {
        server.take_buffered_input()
    } else {
        bytes::Bytes::new()
    };
    let handshake = futures_rustls::TlsAcceptor::from(tls.config()).accept(Prefixed {
        prefix,
        inner: stream,
    });
    let stream = match deadline {
        None => handshake.await,
        Some(deadline) => {
            futures_lite::future::or(handshake, async {
                async_io::Timer::at(deadline).await;
                Err(std::io::ErrorKind::TimedOut.into())
            })
            .await
        }
    }
    .map_err(|e| Error::Tls(e.to_string()))?;
    let channel_binding = tls.established(direct, stream.get_ref().1.alpn_protocol())?;
    server.handle_tls_established(channel_binding)?;
    Ok(Box::new(stream))
}

async fn write_out<S: AsyncWrite + Unpin + ?Sized>(
    stream: &mut S,
    server: &mut Server,
) -> Result<(), Error> {
    let mut wrote = false;
    while let Some(bytes) = server.poll_transmit() {
        stream.write_all(&bytes).await?;
        wrote = true;
    }
    if wrote {
        stream.flush().await?;
    }
    Ok(())
}

/// Reads into `buf`, failing with `TimedOut` at `deadline` if there is one.
async fn read_by<S: AsyncRead + Unpin + ?Sized>(
    stream: &mut S,
    buf: &mut [u8],
    deadline: Option<Instant>,
) -> std::io::Result<usize> {
    match deadline {
        None => stream.read(buf).await,
        Some(deadline) => {
            futures_lite::future::or(stream.read(buf), async {
                async_io::Timer::at(deadline).await;
                Err(std::io::ErrorKind::TimedOut.into())
            })
            .await
        }
    }
}

/// Serves one connection.
async fn serve_connection<F, H>(
    mut stream: Box<dyn Stream>,
    shared: Shared,
    make_handler: F,
) -> Result<(), Error>
where
    F: FnOnce(&StartupRequest) -> H,
    H: Handler,
{
    let mut server = Server::new(shared.options.config.clone());
    let mut buf = vec![0u8; pgproto_core::server::READ_BUFFER_SIZE];
    let deadline = Instant::now().checked_add(shared.options.startup_timeout);
    let mut session = shared.sessions.connection(make_handler);
    let result = async {
        loop {
            while let Some(event) = server.poll_event()? {
                match session.step(&shared.options.setup, &mut server, event, random::<32>)? {
                    SessionAction::Continue => {}
                    SessionAction::Handle(handler, event) => {
                        handler.handle(&mut server, event).await?;
                    }
                    SessionAction::StartTls { direct } => {
                        // The 'S' (none for direct TLS) goes out before the handshake.
                        write_out(&mut stream, &mut server).await?;
                        let plain = std::mem::replace(
                            &mut stream,
                            Box::new(futures_lite::io::Cursor::new(Vec::new())),
                        );
                        stream =
                            accept_tls(plain, &mut server, shared.options.tls(), direct, deadline)
                                .await?;
                        continue;
                    }
                    SessionAction::Close => {
                        write_out(&mut stream, &mut server).await?;
                        return Ok(());
                    }
                }
                if server.should_flush() {
                    write_out(&mut stream, &mut server).await?;
                }
            }
            write_out(&mut stream, &mut server).await?;
            if server.error_state().is_some() {
                return Ok(());
            }
            // PostgreSQL closes silently when authentication_timeout expires.
            let startup_deadline = match server.phase() {
                ServerPhase::Ready => None,
                _ => deadline,
            };
            match read_by(&mut stream, &mut buf, startup_deadline).await? {
                0 => {
                    server.handle_eof();
                    return Ok(());
                }
                n => {
                    if let Some(data) = buf.get(..n) {
                        server.handle_input(data);
                    }
                }
            }
        }
    }
    .await;
    // Whatever the core queued before failing (a FATAL error) still goes out.
    let _ = write_out(&mut stream, &mut server).await;
    let _ = stream.close().await;
    drop(session);
    result
}
