//! The driver's [`Runtime`] for tokio: tokio sockets bridged to the `futures-io` traits
//! the driver reads and writes through, tokio's timer, and a spawned connection task.

use std::io;
use std::time::Instant;

use pgproto_driver::runtime::{BoxStream, Listen, Plain, Runtime};
use pgproto_driver::Connection;
use tokio::net::TcpStream;
use tokio_util::compat::TokioAsyncWriteCompatExt;

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
        Ok(tcp(stream))
    }

    async fn connect_unix(path: &str) -> io::Result<BoxStream> {
        let stream = tokio::net::UnixStream::connect(path).await?;
        Ok(Box::new(Plain::new(stream.compat_write())))
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

impl Listen for Tokio {
    type Listener = tokio::net::TcpListener;

    async fn accept(listener: &Self::Listener) -> io::Result<BoxStream> {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        Ok(tcp(stream))
    }
}

/// A tokio TCP stream as the driver's [`Stream`](pgproto_driver::runtime::Stream): it
/// can wait for readability without a buffer (an idle server connection then holds
/// none).
pub(crate) fn tcp(stream: TcpStream) -> BoxStream {
    Box::new(Plain::with_readiness(stream.compat_write(), |s, cx| {
        s.get_ref().poll_read_ready(cx)
    }))
}
