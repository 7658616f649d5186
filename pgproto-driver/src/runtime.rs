//! What the driver needs from an async runtime, and nothing more: open a TCP or Unix
//! socket, sleep until a deadline. Reading and writing go through the `futures-io`
//! traits ([`Stream`]), so TLS (`futures-rustls`) and the drivers are written once; a
//! runtime with its own I/O traits (tokio) bridges its sockets to them.
//!
//! A runtime adapter implements [`Runtime`] on a unit type (`pgproto-tokio`'s `Tokio`,
//! `pgproto-asyncstd`'s `AsyncIo`); [`Client`] and the server loop are
//! generic over it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_io::{AsyncRead, AsyncWrite};

use crate::client::Connection;
use crate::Client;
use pgproto_core::client::Client as Core;

/// A socket (TCP, Unix, or TLS over either) the driver reads and writes.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// Waits until the socket has bytes to read (or an error), without a buffer, so that
    /// an idle server connection holds no read buffer. The default says "ready" at once:
    /// the caller then reads into a buffer as usual.
    fn poll_readable(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A boxed [`Stream`]: TCP, Unix sockets and TLS share one connection type.
pub type BoxStream = Box<dyn Stream>;

impl<T: Stream + ?Sized> Stream for Box<T> {
    fn poll_readable(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        (**self).poll_readable(cx)
    }
}

/// An async runtime: the few operations the driver cannot do on its own.
pub trait Runtime: Send + Sync + Sized + 'static {
    /// What [`Client::connect`] returns: the client alone when the runtime spawns the
    /// [`Connection`] itself (tokio), or the client and the connection for the caller to
    /// spawn (executor-agnostic runtimes).
    type Connected: Send;

    /// Connects to `host:port` over TCP, with `TCP_NODELAY` set.
    fn connect_tcp(host: &str, port: u16) -> impl Future<Output = io::Result<BoxStream>> + Send;

    /// Connects to the Unix socket at `path`.
    fn connect_unix(path: &str) -> impl Future<Output = io::Result<BoxStream>> + Send;

    /// Completes at `deadline`.
    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send;

    /// Turns a connected client and its connection into [`Runtime::Connected`]
    /// (spawning the connection, or handing it over).
    fn connected(client: Client<Self>, connection: Connection) -> Self::Connected;
}

/// A runtime that can listen for TCP connections, for the server loop
/// ([`serve_until`](crate::server::serve_until)).
pub trait Listen: Runtime {
    /// The runtime's listening socket.
    type Listener: Send + Sync + 'static;

    /// Accepts the next connection, with `TCP_NODELAY` set where it can be.
    fn accept(listener: &Self::Listener) -> impl Future<Output = io::Result<BoxStream>> + Send;
}

/// `future`, or a `TimedOut` error at `deadline` (none: no limit).
pub(crate) async fn timeout_at<R: Runtime, T>(
    deadline: Option<Instant>,
    future: impl Future<Output = Result<T, crate::Error>>,
) -> Result<T, crate::Error> {
    match deadline {
        None => future.await,
        Some(deadline) => {
            // The timer is polled first, so that a runtime whose operations block (the
            // blocking adapter's) sees the deadline before it starts them.
            futures_lite::future::or(
                async {
                    R::sleep_until(deadline).await;
                    Err(crate::Error::Io(io::ErrorKind::TimedOut.into()))
                },
                future,
            )
            .await
        }
    }
}

/// A stream whose first bytes were already read (the start of a direct-TLS
/// ClientHello, which the server core buffered while looking for a startup packet).
pub(crate) struct Prefixed {
    pub(crate) prefix: bytes::Bytes,
    pub(crate) inner: BoxStream,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.len());
            let chunk = self.prefix.split_to(n);
            if let Some(dst) = buf.get_mut(..n) {
                dst.copy_from_slice(&chunk);
            }
            return Poll::Ready(Ok(n));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

impl Stream for Prefixed {}
impl Stream for futures_rustls::client::TlsStream<BoxStream> {}
impl Stream for futures_rustls::server::TlsStream<Prefixed> {}

/// Any `futures-io` socket as a [`Stream`]: by default without a buffer-free readiness
/// wait (the default [`Stream::poll_readable`]); [`Plain::with_readiness`] brings one.
pub struct Plain<T> {
    inner: T,
    readable: Option<Readiness<T>>,
}

/// A buffer-free readiness wait on a socket (tokio's `poll_read_ready`).
pub type Readiness<T> = fn(&T, &mut Context<'_>) -> Poll<io::Result<()>>;

impl<T> Plain<T> {
    /// `inner`, with no readiness wait of its own.
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            readable: None,
        }
    }

    /// `inner`, waiting for readability with `readable` (so that an idle server
    /// connection holds no read buffer).
    pub fn with_readiness(inner: T, readable: Readiness<T>) -> Self {
        Self {
            inner,
            readable: Some(readable),
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Plain<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Plain").field(&self.inner).finish()
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Plain<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Plain<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for Plain<T> {
    fn poll_readable(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.readable {
            Some(readable) => readable(&self.inner, cx),
            None => Poll::Ready(Ok(())),
        }
    }
}

/// The clock of one connection attempt: the core keeps `connect_timeout`
/// ([`Core::handle_timeout`]); this tells it the time and ends each wait at its
/// deadline, so that a late connection fails with the core's own error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectClock {
    epoch: Instant,
}

impl ConnectClock {
    /// Starts the core's connect clock (before the socket opens).
    pub(crate) fn start(core: &mut Core) -> Self {
        core.handle_timeout(std::time::Duration::ZERO);
        Self {
            epoch: Instant::now(),
        }
    }

    /// When the current wait must end.
    pub(crate) fn deadline(&self, core: &Core) -> Option<Instant> {
        core.poll_timeout().and_then(|d| self.epoch.checked_add(d))
    }

    /// `result`, or the core's timeout error when the deadline passed.
    pub(crate) fn check<T>(
        &self,
        core: &mut Core,
        result: Result<T, crate::Error>,
    ) -> Result<T, crate::Error> {
        if let Err(crate::Error::Io(e)) = &result {
            if e.kind() == io::ErrorKind::TimedOut {
                core.handle_timeout(self.epoch.elapsed());
                core.poll_event()?;
            }
        }
        result
    }
}
