//! Serving PostgreSQL clients, once for every runtime: accept connections, run startup
//! and authentication through the core, and hand every query-level event to the
//! application's [`Handler`].
//!
//! TLS ([`ServerOptions::with_tls`]) is offered both ways PostgreSQL offers it: after an
//! SSLRequest, and as direct TLS (PostgreSQL 17+, `sslnegotiation=direct`), which must
//! negotiate ALPN `postgresql`. The handshake counts against the startup timeout.

use std::future::Future;
use std::io::{self, ErrorKind::TimedOut};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use pgproto_core::adapter::ServerSessions;
use pgproto_core::server::{
    Action, Server, ServerConnection, ServerEvent, StartupRequest, READ_BUFFER_SIZE,
};

use crate::runtime::{timeout_at, BoxStream, Listen, Prefixed, Runtime};
use crate::Error;

pub use pgproto_tls::{ServerOptions, ServerTls};

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

    /// Asked once the client is authenticated, before startup completes: an error
    /// refuses the connection with it as FATAL (as PostgreSQL refuses a database that
    /// does not exist with 3D000 after authentication). The default lets everyone in.
    fn refusal(&self) -> Option<pgproto_core::db_error::DbError> {
        None
    }
}

/// What makes each session's handler, called with the client's startup request once
/// authentication started: any such closure that the sessions can share.
pub trait MakeHandler<H>: Fn(&StartupRequest) -> H + Send + Sync + 'static {}

impl<F: Fn(&StartupRequest) -> H + Send + Sync + 'static, H> MakeHandler<H> for F {}

/// One client session, handed to the spawner of [`serve_until`]: run it to completion.
pub type Session = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Accepts connections on `listener` until `shutdown` completes, serving each with a
/// handler made by `make_handler`; `spawn` runs each [`Session`]. The listener closes
/// when accepting stops.
///
/// After `shutdown`, no new connection is accepted and this returns once the live
/// sessions have ended (graceful shutdown). A session counts as ended when its future
/// completes or is dropped.
pub async fn serve_until<R: Listen, H: Handler>(
    listener: R::Listener,
    options: ServerOptions,
    make_handler: impl MakeHandler<H>,
    mut spawn: impl FnMut(Session),
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut options = options;
    // Startup completes in `serve_connection`, once the handler had its say
    // (`Handler::refusal`): set once here rather than per connection.
    Arc::make_mut(&mut options.setup).complete_startup = false;
    let options = Arc::new(options);
    let sessions = ServerSessions::default();
    let make_handler = Arc::new(make_handler);
    // Every session holds a sender; `recv` fails once all of them are gone.
    let (live, all_ended) = async_channel::bounded::<()>(1);
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted =
            futures_lite::future::or(async { Some(R::accept(&listener).await) }, async {
                shutdown.as_mut().await;
                None
            })
            .await;
        let stream = match accepted {
            None => break,
            Some(Ok(stream)) => stream,
            // Out of file descriptors and the like: keep serving the others.
            Some(Err(_)) => {
                R::sleep_until(Instant::now() + Duration::from_millis(50)).await;
                continue;
            }
        };
        let (options, sessions) = (options.clone(), sessions.clone());
        let make_handler = make_handler.clone();
        let live = live.clone();
        spawn(Box::pin(async move {
            let _ =
                serve_connection::<R, _, _>(stream, &options, &sessions, move |s| make_handler(s))
                    .await;
            drop(live);
        }));
    }
    drop(listener);
    drop(live);
    let _ = all_ended.recv().await;
    Ok(())
}

/// Performs the server side of a TLS handshake on `stream` (after
/// [`Action::StartTls`]: for direct TLS the bytes the core already read are
/// replayed to the TLS library, and ALPN `postgresql` is required) and tells the core,
/// with the channel-binding data. For servers built on the core without
/// [`serve_until`], such as proxies.
pub async fn accept_tls(
    stream: BoxStream,
    server: &mut Server,
    tls: Option<&ServerTls>,
    direct: bool,
) -> Result<BoxStream, Error> {
    let tls = tls.ok_or(Error::TlsNotConfigured)?;
    let prefix = if direct {
        server.take_buffered_input()
    } else {
        bytes::Bytes::new()
    };
    let stream = futures_rustls::TlsAcceptor::from(tls.config())
        .accept(Prefixed {
            prefix,
            inner: stream,
        })
        .await
        .map_err(Error::tls_handshake)?;
    let channel_binding = tls.established(direct, stream.get_ref().1.alpn_protocol())?;
    server.handle_tls_established(channel_binding)?;
    Ok(Box::new(stream))
}

/// The most one read asks for (bulk input: COPY data, large parameters).
const MAX_READ: usize = 64 * 1024;

/// Reads more input straight into the core's buffer; 0 at end of stream. An idle
/// connection whose socket can wait for readability without a buffer frees its buffers
/// while it waits. `size` is how much the read asks for: it doubles (to [`MAX_READ`])
/// while reads fill it and is [`READ_BUFFER_SIZE`] again after one that does not, so
/// that a small message's read zeroes little of the buffer.
async fn read_into(
    stream: &mut BoxStream,
    server: &mut Server,
    size: &mut usize,
) -> Result<usize, Error> {
    std::future::poll_fn(|cx| match stream.poll_readable(cx) {
        Poll::Pending => {
            server.release_idle_buffers();
            Poll::Pending
        }
        ready => ready,
    })
    .await?;
    let input = server.input_buffer();
    if input.capacity() - input.len() < 1024 {
        input.reserve(READ_BUFFER_SIZE);
    }
    let start = input.len();
    // Safe code reads into initialized bytes: zero the space a read may fill.
    let space = (input.capacity() - start).min(*size);
    input.resize(start + space, 0);
    let read = match input.get_mut(start..) {
        Some(space) => stream.read(space).await,
        None => Ok(0),
    };
    let n = *read.as_ref().unwrap_or(&0);
    input.truncate(start + n);
    *size = if n == space {
        (*size * 2).min(MAX_READ)
    } else {
        READ_BUFFER_SIZE
    };
    Ok(read?)
}

/// Serves one connection until the client leaves, an error, or a CancelRequest
/// delivered.
pub async fn serve_connection<R, F, H>(
    mut stream: BoxStream,
    options: &ServerOptions,
    sessions: &ServerSessions,
    make_handler: F,
) -> Result<(), Error>
where
    R: Runtime,
    F: FnOnce(&StartupRequest) -> H,
    H: Handler,
{
    let mut config = options.config.clone();
    config.authentication_timeout = Some(options.startup_timeout);
    // The core derives the connection's salts, nonces and cancel key from this seed.
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| Error::Io(e.into()))?;
    let (mut setup, process_id) = (options.setup.clone(), sessions.next_process_id());
    // Startup completes here, once the handler had its say (`Handler::refusal`).
    if setup.complete_startup {
        Arc::make_mut(&mut setup).complete_startup = false;
    }
    let mut conn = ServerConnection::new(config, setup, process_id, seed);
    let mut make_handler = Some(make_handler);
    let mut handler = None;
    let mut registration = None;
    // The core decides every step and keeps the authentication timeout; this loop
    // moves bytes and tells it the time.
    let epoch = Instant::now();
    let mut read_size = READ_BUFFER_SIZE;
    let result = async {
        loop {
            match conn.poll_action(epoch.elapsed()) {
                Action::Transmit(bytes) => {
                    stream.write_all(&bytes).await?;
                    stream.flush().await?;
                }
                Action::Read { deadline } => {
                    let until = deadline.and_then(|d| epoch.checked_add(d));
                    match timeout_at::<R, _>(
                        until,
                        read_into(&mut stream, conn.server(), &mut read_size),
                    )
                    .await
                    {
                        Ok(0) => conn.handle_eof(),
                        Ok(_) => {}
                        // The next `poll_action` closes the connection silently, as
                        // PostgreSQL does when authentication_timeout expires.
                        Err(Error::Io(e)) if e.kind() == TimedOut => {}
                        Err(e) => return Err(e),
                    }
                }
                Action::StartTls { direct } => {
                    let empty =
                        crate::runtime::Plain::new(futures_lite::io::Cursor::new(Vec::new()));
                    let plain = std::mem::replace(&mut stream, Box::new(empty));
                    let until = conn
                        .server()
                        .poll_timeout()
                        .and_then(|d| epoch.checked_add(d));
                    // Boxed: a rare path whose state would otherwise enlarge every
                    // connection's future.
                    let handshake =
                        Box::pin(accept_tls(plain, conn.server(), options.tls(), direct));
                    stream = timeout_at::<R, _>(until, handshake).await?;
                }
                Action::Startup(request) => {
                    handler = make_handler.take().map(|make| make(&request))
                }
                Action::Authenticated => match handler.as_ref().and_then(H::refusal) {
                    Some(refusal) => conn.server().reject(refusal)?,
                    None => {
                        let parameters: Vec<(&str, &str)> = options
                            .setup
                            .parameters
                            .iter()
                            .map(|(k, v)| (k.as_str(), v.as_str()))
                            .collect();
                        let (process_id, secret_key) = conn.complete_startup(&parameters)?;
                        let registered = Action::Registered {
                            process_id,
                            secret_key,
                        };
                        registration = sessions.track(&mut conn, &registered);
                    }
                },
                Action::Handle(event) => match handler.as_mut() {
                    Some(handler) => handler.handle(conn.server(), event).await?,
                    None => return Err(Error::Protocol(pgproto_core::Error::Closed)),
                },
                Action::Close => return Ok(()),
                // Registered (keep the cancel key while the connection lives), Cancel.
                other => registration = registration.take().or(sessions.track(&mut conn, &other)),
            }
        }
    }
    .await;
    // After a handler's error, what the core queued before it (a FATAL error) goes out.
    if let Some(bytes) = conn.server().poll_transmit() {
        let _ = stream.write_all(&bytes).await;
    }
    let _ = stream.flush().await;
    drop(registration);
    let _ = stream.close().await;
    result
}
