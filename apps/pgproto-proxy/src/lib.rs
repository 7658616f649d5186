//! A session-mode PostgreSQL proxy: one upstream connection per client connection. The
//! `pgproto-proxy` program runs [`serve_threads`] with the [`Options`] its [`Args`]
//! describe; [`serve`] runs the proxy on a runtime of one's own.
//!
//! # Design
//!
//! Each accepted connection runs one task:
//!
//! 1. **Client startup** through the core's server role ([`ServerConnection`], whose
//!    [`poll_action`](ServerConnection::poll_action) says each next step; the proxy
//!    completes startup itself): TLS (SSLRequest or direct TLS), GSSENCRequest refusal,
//!    protocol negotiation, and authentication of the client against the proxy's own
//!    user (`trust`, `password`, `md5` or `scram-sha-256`, SCRAM-SHA-256-PLUS over TLS).
//!    A CancelRequest is looked up in the proxy's registry instead (see below).
//! 2. **Upstream startup** through the core's client role (module `upstream`): the proxy
//!    authenticates with the credentials of its `--upstream` URL, forwarding the client's
//!    run-time parameters (application_name, client_encoding, DateStyle, options...).
//!    The client then receives the upstream server's ParameterStatus values (so it sees
//!    the real server_version, is_superuser...), a BackendKeyData made up by the proxy,
//!    and ReadyForQuery. If the upstream connection fails, the client gets the reason as
//!    a FATAL ErrorResponse.
//! 3. **Relay** (module `relay`): bytes flow both ways unchanged (queries, COPY in both
//!    directions, notifications, notices, ParameterStatus, errors). Upstream → client
//!    keeps message boundaries from the headers only, so that a failing upstream
//!    connection is reported with an ErrorResponse at a boundary.
//!
//! Cancellation: every session gets its own process ID and random secret key (4 bytes,
//! or 32 for protocol 3.2 clients), registered with the upstream connection's
//! [`CancelToken`]. A client CancelRequest with a matching key (compared in constant
//! time) is sent to that upstream server on a new connection.
//!
//! Limits: session mode only (no pooling); one upstream URL for every client (the URL's
//! database, or each client's when the URL names none); upstream cancel requests go over
//! plain TCP (PostgreSQL accepts them so).

mod args;
mod relay;
mod upstream;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pgproto_core::cancel::CancelToken;
use pgproto_core::server::{
    Action, ServerAuth, ServerConfig, ServerConnection, SessionSetup, StartupRequest,
};
use pgproto_tokio::server::{accept_tls, ServerTls, Stream};
use pgproto_tokio::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub use args::Args;
pub(crate) use relay::End;

/// Reads and writes; boxed so plain and TLS connections share one code path.
pub(crate) type BoxStream = Box<dyn Stream>;

/// How the proxy runs.
#[derive(Clone)]
pub struct Options {
    setup: Arc<SessionSetup>,
    tls: Option<ServerTls>,
    upstream: Arc<upstream::Target>,
    /// Time allowed for client startup and authentication.
    pub startup_timeout: Duration,
}

impl Options {
    /// Clients authenticate with `auth`; the proxy connects to `upstream` (a libpq URL or
    /// `key=value` string with the proxy's own user, password and `sslmode`).
    pub fn new(upstream: &str, auth: ServerAuth) -> Result<Self, Error> {
        Ok(Self {
            setup: Arc::new(SessionSetup {
                // Startup completes with the upstream's parameters, once connected.
                complete_startup: false,
                ..SessionSetup::new(auth)
            }),
            tls: None,
            upstream: Arc::new(upstream::Target::new(upstream)?),
            startup_timeout: Duration::from_secs(60),
        })
    }

    /// Terminates TLS from clients with this PEM certificate chain and key.
    pub fn with_tls(mut self, cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, Error> {
        self.tls = Some(ServerTls::from_pem(cert_pem, key_pem)?);
        let mut setup = (*self.setup).clone();
        setup.tls_available = true;
        self.setup = Arc::new(setup);
        Ok(self)
    }
}

/// A session's entry in the cancel registry.
struct Registered {
    secret_key: Vec<u8>,
    upstream: CancelToken,
    address: upstream::Address,
}

#[derive(Clone)]
struct Shared {
    options: Options,
    sessions: Arc<Mutex<HashMap<i32, Registered>>>,
    next_pid: Arc<AtomicI32>,
}

impl Shared {
    fn new(options: Options) -> Self {
        Self {
            options,
            sessions: Arc::default(),
            next_pid: Arc::new(AtomicI32::new(1)),
        }
    }
}

/// Runs one client connection to its end.
async fn run_session(stream: tokio::net::TcpStream, shared: Shared) {
    let _ = stream.set_nodelay(true);
    if let Err(e) = session(Box::new(stream), &shared).await {
        log(format_args!("session failed: {e}"));
    }
}

/// Accepts clients forever on the current runtime (abort the task to stop; live
/// sessions end with it). For embedding; the binary uses [`serve_threads`].
pub async fn serve(listener: TcpListener, options: Options) -> std::io::Result<()> {
    let shared = Shared::new(options);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors and the like: keep serving the others.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                tasks.spawn(run_session(stream, shared.clone()));
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
}

/// Accepts clients forever on this thread and serves them on `threads` single-threaded
/// runtimes, each connection on one of them (round robin): a session's two sockets are
/// always handled by the same thread, and threads never hand work to each other, as
/// with one PgBouncer process per core.
pub fn serve_threads(
    listener: std::net::TcpListener,
    options: Options,
    threads: usize,
) -> std::io::Result<()> {
    let shared = Shared::new(options);
    let mut workers = Vec::new();
    for i in 0..threads.max(1) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<std::net::TcpStream>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let shared = shared.clone();
        std::thread::Builder::new()
            .name(format!("proxy-{i}"))
            .spawn(move || {
                runtime.block_on(async move {
                    while let Some(stream) = rx.recv().await {
                        match tokio::net::TcpStream::from_std(stream) {
                            Ok(stream) => {
                                tokio::spawn(run_session(stream, shared.clone()));
                            }
                            Err(e) => log(format_args!("registering a connection: {e}")),
                        }
                    }
                });
            })?;
        workers.push(tx);
    }
    let mut next = 0usize;
    loop {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        stream.set_nonblocking(true)?;
        if let Some(worker) = workers.get(next % workers.len()) {
            if worker.send(stream).is_err() {
                return Err(std::io::Error::other("a worker thread ended"));
            }
        }
        next = next.wrapping_add(1);
    }
}

fn log(args: std::fmt::Arguments<'_>) {
    if std::env::var_os("PROXY_LOG").is_some() {
        eprintln!("proxy: {args}");
    }
}

fn random<const N: usize>() -> Result<[u8; N], Error> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|e| Error::Io(e.into()))?;
    Ok(b)
}

/// What client startup ended with.
enum Started {
    /// Authenticated: connect upstream for this request.
    Authenticated(StartupRequest),
    /// Nothing more to do (cancel request, Terminate, failed authentication).
    Done,
}

async fn session(mut stream: BoxStream, shared: &Shared) -> Result<(), Error> {
    let mut config = ServerConfig::default();
    config.authentication_timeout = Some(shared.options.startup_timeout);
    let process_id = shared.next_pid.fetch_add(1, Ordering::Relaxed);
    let setup = shared.options.setup.clone();
    let mut conn = ServerConnection::new(config, setup, process_id, random()?);
    let started = client_startup(&mut stream, &mut conn, shared).await;
    let request = match started {
        Ok(Started::Authenticated(request)) => request,
        Ok(Started::Done) => return Ok(()),
        Err(e) => {
            // A FATAL error the core queued (failed authentication...) still goes out.
            while let Some(bytes) = conn.server().poll_transmit() {
                let _ = stream.write_all(&bytes).await;
            }
            return Err(e);
        }
    };
    let target = &shared.options.upstream;
    let mut up = match target.connect(&request).await {
        Ok(up) => up,
        Err(e) => {
            log(format_args!("upstream connection failed: {e}"));
            let server = conn.server();
            server.reject(upstream::connect_error(&e, target))?;
            while let Some(bytes) = server.poll_transmit() {
                stream.write_all(&bytes).await?;
            }
            let _ = stream.shutdown().await;
            return Ok(());
        }
    };
    let parameters: Vec<(&str, &str)> = up
        .parameters
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (process_id, secret_key) = conn.complete_startup(&parameters)?;
    let server = conn.server();
    // Whatever the client pipelined behind its startup belongs to the session.
    let to_upstream = server.take_buffered_input();
    while let Some(bytes) = server.poll_transmit() {
        stream.write_all(&bytes).await?;
    }
    stream.flush().await?;
    drop(conn);
    if let Some(token) = up.cancel_token.take() {
        if let Ok(mut sessions) = shared.sessions.lock() {
            sessions.insert(
                process_id,
                Registered {
                    secret_key,
                    upstream: token,
                    address: up.address.clone(),
                },
            );
        }
    }
    let end = relay::run(
        &mut stream,
        &mut up.stream,
        to_upstream,
        up.buffered.clone(),
    )
    .await;
    if let Ok(mut sessions) = shared.sessions.lock() {
        sessions.remove(&process_id);
    }
    match end {
        End::Closed => {}
        End::ClientGone(e) => log(format_args!("client connection failed: {e}")),
        End::UpstreamFailed(why) => log(format_args!("upstream connection failed: {why}")),
    }
    Ok(())
}

/// Runs TLS negotiation, a cancel request, or authentication, until the client is
/// authenticated. The core decides each step and keeps the startup timeout; the proxy
/// moves bytes and tells it the time.
async fn client_startup(
    stream: &mut BoxStream,
    conn: &mut ServerConnection,
    shared: &Shared,
) -> Result<Started, Error> {
    let epoch = tokio::time::Instant::now();
    let mut request = None;
    let mut buf = vec![0u8; 8192];
    loop {
        match conn.poll_action(epoch.elapsed()) {
            Action::Transmit(bytes) => {
                stream.write_all(&bytes).await?;
                stream.flush().await?;
            }
            Action::Read { deadline } => {
                let read = stream.read(&mut buf);
                let n = match deadline {
                    Some(d) => match tokio::time::timeout_at(epoch + d, read).await {
                        Ok(n) => n?,
                        // The next `poll_action` closes the connection.
                        Err(_) => continue,
                    },
                    None => read.await?,
                };
                match buf.get(..n) {
                    Some(data) if n > 0 => conn.handle_input(data),
                    _ => conn.handle_eof(),
                }
            }
            Action::StartTls { direct } => {
                let plain = std::mem::replace(stream, Box::new(tokio::io::duplex(1).0));
                let deadline = conn.server().poll_timeout();
                let tls = shared.options.tls.as_ref();
                let handshake = accept_tls(plain, conn.server(), tls, direct);
                *stream = match deadline {
                    Some(d) => tokio::time::timeout_at(epoch + d, handshake)
                        .await
                        .map_err(|_| Error::Io(std::io::ErrorKind::TimedOut.into()))??,
                    None => handshake.await?,
                };
            }
            Action::Startup(r) => request = Some(r),
            Action::Authenticated => {
                return request
                    .map(Started::Authenticated)
                    .ok_or(Error::application("authenticated without a startup packet"))
            }
            Action::Cancel(token) => forward_cancel(shared, &token).await,
            Action::Close => {
                return match conn.server().error_state() {
                    Some(pgproto_core::Error::TimedOut(_)) => {
                        Err(Error::Io(std::io::ErrorKind::TimedOut.into()))
                    }
                    _ => Ok(Started::Done),
                }
            }
            _ => return Err(Error::application("unexpected event during startup")),
        }
    }
}

/// Sends the upstream key of the session `token` names, if the key matches.
async fn forward_cancel(shared: &Shared, token: &CancelToken) {
    let target = shared.sessions.lock().ok().and_then(|sessions| {
        sessions
            .get(&token.process_id)
            .filter(|s| pgproto_core::auth::ct_eq(&s.secret_key, &token.secret_key))
            .map(|s| (s.address.clone(), s.upstream.clone()))
    });
    match target {
        Some((address, upstream)) => {
            if let Err(e) = upstream::send_cancel(&address, &upstream).await {
                log(format_args!("cancel request upstream failed: {e}"));
            }
        }
        None => log(format_args!(
            "cancel request for unknown session {}",
            token.process_id
        )),
    }
}
