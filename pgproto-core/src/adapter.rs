//! What every I/O adapter shares (feature `std`): its error type and the libpq defaults
//! that come from the environment. Nothing here performs I/O on its own.

use std::fmt;
use std::io;

use crate::client::{ConnInfo, ConnInfoError};
use crate::db_error::DbError;

/// Anything that can go wrong in an adapter: I/O, TLS, the core's errors, database
/// errors.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Socket I/O failed.
    Io(io::Error),
    /// The connection string is invalid.
    ConnInfo(ConnInfoError),
    /// The protocol core reported an error (malformed input, protocol violation,
    /// authentication failure, closed connection, misuse).
    Protocol(crate::Error),
    /// The server reported an error for this request; the connection stays usable.
    Db(Box<DbError>),
    /// TLS setup or handshake failed; the source is the TLS library's error (a
    /// `rustls::Error` for a failed handshake).
    Tls(Box<dyn std::error::Error + Send + Sync>),
    /// No host of the connection string could be tried (none given, or none resolved).
    NoHost,
    /// TLS was asked for (by the client, or by `sslmode`) but is not configured.
    TlsNotConfigured,
    /// The server sent no BackendKeyData, so its queries cannot be cancelled.
    NoCancelKey,
    /// The server answered a query without a result set.
    NoResult,
    /// The statement given to `copy_in` / `copy_out` did not start that COPY.
    CopyNotStarted(CopyDirection),
    /// The server reported success for a COPY the client aborted with CopyFail.
    ServerAcceptedAbortedCopy,
    /// An error of the application: a server handler's, or a callback's that stopped an
    /// operation (e.g. the row callback of `query_batched`).
    Application(Box<dyn std::error::Error + Send + Sync>),
    /// The connection task is gone (async adapters).
    ConnectionClosed,
}

pub use crate::client::CopyDirection;

impl Error {
    /// An application error with this message (see [`Error::Application`]).
    pub fn application(message: impl Into<String>) -> Self {
        Self::Application(message.into().into())
    }

    /// A failed TLS handshake: keeps the TLS library's error (which I/O layers such as
    /// tokio-rustls wrap in an `io::Error`) as the source.
    pub fn tls_handshake(e: io::Error) -> Self {
        if e.get_ref().is_none() {
            return Self::Tls(Box::new(e));
        }
        match e.into_inner() {
            Some(inner) => Self::Tls(inner),
            None => Self::Tls(Box::new(io::Error::other("TLS handshake failed"))),
        }
    }

    /// The database error, if the server reported one (for a request or while
    /// connecting).
    pub fn as_db_error(&self) -> Option<&DbError> {
        match self {
            Self::Db(e) | Self::Protocol(crate::Error::Server(e)) => Some(e),
            _ => None,
        }
    }

    /// Whether the connection is gone: I/O failed, the peer closed it, the core was
    /// poisoned by a closed connection, or the server ended the session (a `FATAL`
    /// error, e.g. `pg_terminate_backend`). A request that failed this way may be retried
    /// on another connection; pools discard such connections.
    pub fn is_connection_lost(&self) -> bool {
        match self {
            Self::Io(_) | Self::ConnectionClosed | Self::Protocol(crate::Error::Closed) => true,
            Self::Db(e) | Self::Protocol(crate::Error::Server(e)) => e.is_fatal(),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::ConnInfo(e) => e.fmt(f),
            Self::Protocol(e) => e.fmt(f),
            Self::Db(e) => e.fmt(f),
            Self::Tls(e) => write!(f, "TLS error: {e}"),
            Self::NoHost => f.write_str("no host to connect to"),
            Self::TlsNotConfigured => f.write_str("TLS is not configured"),
            Self::NoCancelKey => f.write_str("the server sent no cancel key"),
            Self::NoResult => f.write_str("the server sent no result"),
            Self::CopyNotStarted(CopyDirection::In) => {
                f.write_str("the statement did not start COPY FROM STDIN")
            }
            Self::CopyNotStarted(CopyDirection::Out) => {
                f.write_str("the statement did not start COPY TO STDOUT")
            }
            Self::ServerAcceptedAbortedCopy => f.write_str("the server accepted an aborted COPY"),
            Self::Application(e) => e.fmt(f),
            Self::ConnectionClosed => f.write_str("the connection is closed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::ConnInfo(e) => Some(e),
            Self::Protocol(e) => Some(e),
            Self::Db(e) => Some(e),
            Self::Tls(e) | Self::Application(e) => Some(&**e),
            Self::NoHost
            | Self::TlsNotConfigured
            | Self::NoCancelKey
            | Self::NoResult
            | Self::CopyNotStarted(_)
            | Self::ServerAcceptedAbortedCopy
            | Self::ConnectionClosed => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<crate::Error> for Error {
    fn from(e: crate::Error) -> Self {
        Self::Protocol(e)
    }
}

impl From<ConnInfoError> for Error {
    fn from(e: ConnInfoError) -> Self {
        Self::ConnInfo(e)
    }
}

impl From<Box<DbError>> for Error {
    fn from(e: Box<DbError>) -> Self {
        Self::Db(e)
    }
}

/// The operating-system user name, libpq's default for `user`.
pub fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "postgres".to_string())
}

/// Parses a connection string and completes it from the `PG*` environment variables.
pub fn conninfo_from_env(conninfo: &str) -> Result<ConnInfo, Error> {
    let mut info = ConnInfo::parse(conninfo)?;
    info.apply_env(|k| std::env::var(k).ok(), &os_user())?;
    Ok(info)
}

/// The password file's path: `passfile`, `PGPASSFILE` (applied by
/// [`ConnInfo::apply_env`]), or `~/.pgpass`.
pub fn passfile_path(info: &ConnInfo) -> Option<std::path::PathBuf> {
    match &info.passfile {
        Some(p) => Some(p.into()),
        None => std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".pgpass")),
    }
}

/// `info` for one host: the password from the password file filled in when none was
/// given.
pub fn with_passfile_password(info: &ConnInfo, host: &str, port: u16) -> ConnInfo {
    let mut info = info.clone();
    if let Some(path) = passfile_path(&info) {
        if let Ok(contents) = std::fs::read_to_string(path) {
            info.password_from_passfile(&contents, host, port);
        }
    }
    info
}

/// A client's [`AsyncMessages`] shared between an async adapter's connection task (which
/// records them as they arrive) and the application's handle (which waits for them),
/// with the transaction status of the last ReadyForQuery. Executor-agnostic: waiting
/// goes through [`Waker`]s.
///
/// [`AsyncMessages`]: crate::client::AsyncMessages
/// [`Waker`]: std::task::Waker
#[derive(Debug)]
pub struct SharedAsyncMessages {
    inner: std::sync::Mutex<SharedInner>,
    status: std::sync::atomic::AtomicU8,
}

#[derive(Debug)]
struct SharedInner {
    messages: crate::client::AsyncMessages,
    closed: bool,
    notice_waker: Option<std::task::Waker>,
    notification_waker: Option<std::task::Waker>,
}

impl SharedAsyncMessages {
    /// Starts from `core`'s parameters and transaction status (after startup).
    pub fn new(core: &crate::client::Client) -> Self {
        let mut messages = crate::client::AsyncMessages::default();
        for (name, value) in core.server_parameters() {
            messages.set_parameter(name.clone(), value.clone());
        }
        Self {
            inner: std::sync::Mutex::new(SharedInner {
                messages,
                closed: false,
                notice_waker: None,
                notification_waker: None,
            }),
            status: std::sync::atomic::AtomicU8::new(core.transaction_status().byte()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SharedInner> {
        // A panic while holding the lock leaves plain data behind: keep using it.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Connection task: keeps an asynchronous message (waking whoever waits for it) and
    /// returns `None`; returns any other event. A ReadyForQuery response updates the
    /// transaction status.
    pub fn record(&self, event: crate::client::Event) -> Option<crate::client::Event> {
        use crate::client::{Event, Response};
        let wake = match &event {
            Event::Response {
                response: Response::ReadyForQuery(status),
                ..
            } => {
                self.status
                    .store(status.byte(), std::sync::atomic::Ordering::Release);
                return Some(event);
            }
            Event::Notice(_) => Some(true),
            Event::Notification(_) => Some(false),
            Event::ParameterStatus { .. } => None,
            _ => return Some(event),
        };
        let mut inner = self.lock();
        let rest = inner.messages.record(event);
        let waker = match wake {
            Some(true) => inner.notice_waker.take(),
            Some(false) => inner.notification_waker.take(),
            None => None,
        };
        drop(inner);
        if let Some(waker) = waker {
            waker.wake();
        }
        rest
    }

    /// Connection task: the connection ended; waiters get `None` once the queues are
    /// empty.
    pub fn close(&self) {
        let mut inner = self.lock();
        inner.closed = true;
        let wakers = [inner.notice_waker.take(), inner.notification_waker.take()];
        drop(inner);
        for waker in wakers.into_iter().flatten() {
            waker.wake();
        }
    }

    /// The transaction status of the last ReadyForQuery.
    pub fn transaction_status(&self) -> crate::message::TransactionStatus {
        crate::message::TransactionStatus::from_byte(
            self.status.load(std::sync::atomic::Ordering::Acquire),
        )
        .unwrap_or(crate::message::TransactionStatus::Idle)
    }

    /// The latest value of a run-time parameter.
    pub fn parameter(&self, name: &str) -> Option<String> {
        self.lock().messages.parameter(name).map(String::from)
    }

    /// The next notice: `Ready(None)` once the connection ended and none is left.
    pub fn poll_notice(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<DbError>> {
        let mut inner = self.lock();
        if let Some(notice) = inner.messages.pop_notice() {
            return std::task::Poll::Ready(Some(notice));
        }
        if inner.closed {
            return std::task::Poll::Ready(None);
        }
        inner.notice_waker = Some(cx.waker().clone());
        std::task::Poll::Pending
    }

    /// The next notification: `Ready(None)` once the connection ended and none is left.
    pub fn poll_notification(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<crate::client::Notification>> {
        let mut inner = self.lock();
        if let Some(notification) = inner.messages.pop_notification() {
            return std::task::Poll::Ready(Some(notification));
        }
        if inner.closed {
            return std::task::Poll::Ready(None);
        }
        inner.notification_waker = Some(cx.waker().clone());
        std::task::Poll::Pending
    }

    /// Notices and notifications dropped because their queue was full, in that order.
    pub fn dropped(&self) -> (u64, u64) {
        let inner = self.lock();
        (
            inner.messages.dropped_notices(),
            inner.messages.dropped_notifications(),
        )
    }
}

/// What a server shares between its connections (feature `std`): the cancel keys of the
/// live sessions, so that a CancelRequest arriving on another connection reaches its
/// session, and the process IDs handed out. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ServerSessions {
    cancels: crate::cancel::CancelRegistry,
    next_process_id: std::sync::Arc<std::sync::atomic::AtomicI32>,
}

impl Default for ServerSessions {
    fn default() -> Self {
        Self {
            cancels: crate::cancel::CancelRegistry::default(),
            next_process_id: std::sync::Arc::new(std::sync::atomic::AtomicI32::new(1000)),
        }
    }
}

impl ServerSessions {
    /// A process ID for a new connection, unique among this server's sessions.
    pub fn next_process_id(&self) -> i32 {
        self.next_process_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// Does the bookkeeping of [`Action::Registered`](crate::server::Action::Registered)
    /// and [`Action::Cancel`](crate::server::Action::Cancel) for `connection`: a
    /// registered session's cancel key is kept until the returned guard is dropped
    /// (keep it as long as the connection lives), a cancel request is delivered to the
    /// session it names.
    pub fn track(
        &self,
        connection: &mut crate::server::ServerConnection,
        action: &crate::server::Action,
    ) -> Option<Registration> {
        use crate::server::Action;
        match action {
            Action::Registered {
                process_id,
                secret_key,
            } => {
                let flag = connection.server().cancel_flag();
                self.cancels.register(*process_id, secret_key.clone(), flag);
                Some(Registration {
                    cancels: self.cancels.clone(),
                    process_id: *process_id,
                })
            }
            Action::Cancel(token) => {
                self.cancels.cancel(token);
                None
            }
            _ => None,
        }
    }
}

/// A session's cancel key, registered with [`ServerSessions::track`] until this is
/// dropped.
#[derive(Debug)]
pub struct Registration {
    cancels: crate::cancel::CancelRegistry,
    process_id: i32,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.cancels.unregister(self.process_id);
    }
}
