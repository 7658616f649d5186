//! The driver's [`Runtime`] on async-io: `async-net` sockets and `async-io` timers,
//! which run under async-std, smol, or any executor (async-io drives its reactor on its
//! own thread when no runtime does). The connection future goes back to the caller.

use std::io;
use std::time::Instant;

use pgproto_driver::runtime::{BoxStream, Listen, Plain, Runtime};
use pgproto_driver::Connection;

/// The async-io runtime, for the driver: [`Client`](crate::Client) is
/// `pgproto_driver::Client<AsyncIo>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncIo;

impl Runtime for AsyncIo {
    /// The client and its connection, for the caller to spawn on its executor.
    type Connected = (crate::Client, Connection);

    async fn connect_tcp(host: &str, port: u16) -> io::Result<BoxStream> {
        let stream = async_net::TcpStream::connect((host, port)).await?;
        stream.set_nodelay(true)?;
        Ok(Box::new(Plain::new(stream)))
    }

    async fn connect_unix(path: &str) -> io::Result<BoxStream> {
        Ok(Box::new(Plain::new(
            async_net::unix::UnixStream::connect(path).await?,
        )))
    }

    async fn sleep_until(deadline: Instant) {
        async_io::Timer::at(deadline).await;
    }

    fn connected(client: crate::Client, connection: Connection) -> Self::Connected {
        (client, connection)
    }
}

impl Listen for AsyncIo {
    type Listener = async_net::TcpListener;

    async fn accept(listener: &Self::Listener) -> io::Result<BoxStream> {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        Ok(Box::new(Plain::new(stream)))
    }
}
