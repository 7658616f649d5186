//! Serving PostgreSQL clients: accept connections, run startup and authentication
//! through the core, and hand every query-level event to the application's
//! [`Handler`].
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

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use pgproto_core::adapter::{ServerSessions, SessionAction};
use pgproto_core::server::{Server, ServerEvent, StartupRequest};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

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

pub use pgproto_tls::{ServerOptions, ServerTls};

/// A running server's shared state.
#[derive(Debug, Clone)]
struct Shared {
    options: ServerOptions,
    sessions: ServerSessions,
}

/// Accepts connections until `shutdown` turns true, serving each with a handler made by
/// `make_handler` (called with the client's startup request once it authenticated).
pub async fn serve_until<F, H>(
    listener: TcpListener,
    options: ServerOptions,
    make_handler: F,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()>
where
    F: Fn(&StartupRequest) -> H + Send + Sync + 'static,
    H: Handler,
{
    let shared = Shared {
        options,
        sessions: ServerSessions::default(),
    };
    let make_handler = Arc::new(make_handler);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(a) => a,
                    // Out of file descriptors and the like: keep serving the others.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let make_handler = make_handler.clone();
                tasks.spawn(async move {
                    let _ = serve_connection(Transport::Tcp(stream), shared, move |s| make_handler(s)).await;
                });
            }
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    // Graceful shutdown: let live sessions finish.
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// Accepts connections forever.
pub async fn serve<F, H>(
    listener: TcpListener,
    options: ServerOptions,
    make_handler: F,
) -> std::io::Result<()>
where
    F: Fn(&StartupRequest) -> H + Send + Sync + 'static,
    H: Handler,
{
    let (_keep, rx) = watch::channel(false);
    serve_until(listener, options, make_handler, rx).await
}

fn random<const N: usize>() -> Result<[u8; N], Error> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|e| Error::Io(e.into()))?;
    Ok(b)
}

/// Reads and writes; boxed so plain and TLS connections share one loop.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A stream whose first bytes were already read (a direct-TLS ClientHello).
struct Prefixed {
    prefix: bytes::Bytes,
    inner: Box<dyn Stream>,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            let chunk = self.prefix.split_to(n);
            buf.put_slice(&chunk);
            return std::task::Poll::Ready(Ok(()));
        }
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Performs the server side of a TLS handshake on `stream` (after
/// [`Step::StartTls`](pgproto_core::server::Step::StartTls): for direct TLS the bytes the core already read are replayed to
/// the TLS library, and ALPN `postgresql` is required) and tells the core, with the
/// channel-binding data. For servers built on the core without [`serve`], such as
/// proxies.
pub async fn accept_tls(
    stream: Box<dyn Stream>,
    server: &mut Server,
    tls: Option<&ServerTls>,
    direct: bool,
) -> Result<Box<dyn Stream>, Error> {
    let tls = tls.ok_or(Error::Unsupported("TLS is not configured"))?;
    let prefix = if direct {
        server.take_buffered_input()
    } else {
        bytes::Bytes::new()
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config());
    let stream = acceptor
        .accept(Prefixed {
            prefix,
            inner: stream,
        })
        .await
        .map_err(|e| Error::Tls(e.to_string()))?;
    let channel_binding = tls.established(direct, stream.get_ref().1.alpn_protocol())?;
    server.handle_tls_established(channel_binding)?;
    Ok(Box::new(stream))
}

/// A connection's transport: a plain TCP stream can be waited on for readability
/// without a buffer, so an idle plain connection holds no read buffer; anything else
/// (TLS) is read into the core's buffer directly.
enum Transport {
    Tcp(tokio::net::TcpStream),
    Boxed(Box<dyn Stream>),
}

impl Transport {
    /// Reads more input into the core's buffer; 0 at end of stream.
    async fn read_into(&mut self, server: &mut Server) -> std::io::Result<usize> {
        match self {
            Self::Tcp(tcp) => {
                // Idle: free the buffers while waiting; allocate once bytes arrive.
                server.release_idle_buffers();
                tcp.readable().await?;
                reserve_read_space(server);
                // `read_buf`, not `try_read_buf`: a short read clears the readiness, so
                // the next wait does not start with a recv that would block.
                tcp.read_buf(server.input_buffer()).await
            }
            Self::Boxed(stream) => {
                reserve_read_space(server);
                stream.read_buf(server.input_buffer()).await
            }
        }
    }

    fn as_stream(&mut self) -> &mut (dyn Stream + '_) {
        match self {
            Self::Tcp(tcp) => tcp,
            Self::Boxed(stream) => stream,
        }
    }
}

/// Makes room in the core's input buffer before a read (reads go straight into it: no
/// second buffer per connection, no copy).
fn reserve_read_space(server: &mut Server) {
    let input = server.input_buffer();
    if input.capacity() - input.len() < 1024 {
        input.reserve(pgproto_core::server::READ_BUFFER_SIZE);
    }
}

async fn write_out<S: AsyncWrite + Unpin + ?Sized>(
    stream: &mut S,
    server: &mut Server,
) -> Result<(), Error> {
    while let Some(bytes) = server.poll_transmit() {
        stream.write_all(&bytes).await?;
    }
    Ok(())
}

/// Serves one connection.
async fn serve_connection<F, H>(
    mut stream: Transport,
    shared: Shared,
    make_handler: F,
) -> Result<(), Error>
where
    F: FnOnce(&StartupRequest) -> H,
    H: Handler,
{
    let mut server = Server::new(shared.options.config.clone());
    let deadline = tokio::time::Instant::now() + shared.options.startup_timeout;
    let mut session = shared.sessions.connection(make_handler);
    let result = async {
        let stream = &mut stream;
        loop {
            while let Some(event) = server.poll_event()? {
                match session.step(&shared.options.setup, &mut server, event, random::<32>)? {
                    SessionAction::Continue => {}
                    SessionAction::Handle(handler, event) => {
                        handler.handle(&mut server, event).await?;
                    }
                    SessionAction::StartTls { direct } => {
                        write_out(stream.as_stream(), &mut server).await?;
                        stream.as_stream().flush().await?;
                        let plain: Box<dyn Stream> = match std::mem::replace(
                            stream,
                            Transport::Boxed(Box::new(tokio::io::empty())),
                        ) {
                            Transport::Tcp(tcp) => Box::new(tcp),
                            Transport::Boxed(b) => b,
                        };
                        // The handshake counts against the startup timeout. Boxed: a
                        // rare path whose state would otherwise enlarge every
                        // connection's task.
                        let handshake =
                            Box::pin(accept_tls(plain, &mut server, shared.options.tls(), direct));
                        *stream = Transport::Boxed(
                            tokio::time::timeout_at(deadline, handshake)
                                .await
                                .map_err(|_| Error::Io(std::io::ErrorKind::TimedOut.into()))??,
                        );
                        continue;
                    }
                    SessionAction::Close => {
                        write_out(stream.as_stream(), &mut server).await?;
                        return Ok(());
                    }
                }
                if server.should_flush() {
                    write_out(stream.as_stream(), &mut server).await?;
                }
            }
            write_out(stream.as_stream(), &mut server).await?;
            if server.error_state().is_some() {
                return Ok(());
            }
            let read = if server.phase() == pgproto_core::server::ServerPhase::Ready {
                stream.read_into(&mut server).await
            } else {
                match tokio::time::timeout_at(deadline, stream.read_into(&mut server)).await {
                    Ok(r) => r,
                    Err(_) => {
                        // PostgreSQL closes silently when authentication_timeout expires.
                        return Err(Error::Io(std::io::ErrorKind::TimedOut.into()));
                    }
                }
            };
            match read {
                Ok(0) => {
                    server.handle_eof();
                    return Ok(());
                }
                Ok(_) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    .await;
    // Whatever the core queued before failing (a FATAL error) still goes out.
    let _ = write_out(stream.as_stream(), &mut server).await;
    let _ = stream.as_stream().shutdown().await;
    drop(session);
    result
}
