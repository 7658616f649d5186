//! The driver's [`Runtime`] for tokio: tokio sockets bridged to the `futures-io` traits
//! the driver reads and writes through, tokio's timer, and a spawned connection task.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use pgproto_driver::runtime::{BoxStream, Plain, Runtime, Stream};
use pgproto_driver::Connection;
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

/// The tokio runtime, for the driver: [`Client`](crate::Client) is
/// `pgproto_driver::Client<Tokio>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokio;

impl Runtime for Tokio {
    /// The client: [`Client::connect`](crate::Client::connect) spawns its connection as
    /// a tokio task.
    type Connected = crate::Client;

    async fn connect_tcp(host: &str, port: u16) -> io::Result<BoxStream> {
        let stream = TcpStream::connect((host, port)).await?;
        stream.set_nodelay(true)?;
        Ok(Box::new(Tcp(stream.compat_write())))
    }

    async fn connect_unix(path: &str) -> io::Result<BoxStream> {
        let stream = tokio::net::UnixStream::connect(path).await?;
        Ok(Box::new(Plain(stream.compat_write())))
    }

    async fn sleep_until(deadline: Instant) {
        tokio::time::sleep_until(deadline.into()).await;
    }

    fn connected(client: crate::Client, connection: Connection) -> crate::Client {
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
    }
}

/// A tokio TCP stream that can wait for readability without a buffer (an idle server
/// connection then holds none).
pub(crate) struct Tcp(pub(crate) Compat<TcpStream>);

impl futures_io::AsyncRead for Tcp {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl futures_io::AsyncWrite for Tcp {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

impl Stream for Tcp {
    fn poll_readable(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.get_ref().poll_read_ready(cx)
    }
}
