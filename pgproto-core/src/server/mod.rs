//! The server role: a connection state machine that speaks to PostgreSQL clients.
//!
//! # Theory of operation
//!
//! A [`Server`] reads what a client sends and turns it into [`ServerEvent`]s; the
//! application answers with commands. The core answers by itself whatever needs no
//! application knowledge (GSSENCRequest, protocol negotiation, SCRAM and MD5 exchanges,
//! Describe, Close, Sync, Flush, unknown statement or portal names, discarding messages
//! after an error until Sync) and refuses any answer that would break the protocol (a
//! DataRow before its RowDescription, a second answer to one message, a reply to a
//! message the protocol says to discard).
//!
//! While the application is answering a message (a Query, Parse, Bind, Execute,
//! FunctionCall, or COPY), no further input is processed: responses always come out in
//! request order, and pipelined input waits in the buffer.
//!
//! | phase | input / command | next phase |
//! |---|---|---|
//! | `Startup` | SSLRequest | event `TlsRequested`; `accept_tls` -> `TlsHandshake`, `refuse_tls` -> `Startup` |
//! | `Startup` | GSSENCRequest | `N` sent, `Startup` |
//! | `Startup` | first byte 0x16 | event `DirectTls` -> `TlsHandshake` |
//! | `Startup` | CancelRequest | event `CancelRequested` -> `Closed` |
//! | `Startup` | StartupMessage | event `Startup` -> `Authenticating` |
//! | `Authenticating` | `authenticate_*` / `request_*` commands, client responses | `Authenticated` (event) or `Closed` (28P01) |
//! | `Authenticated` | `complete_startup` | `Ready` |
//! | `Ready` | messages | events; answers; ReadyForQuery after Query, Sync, FunctionCall |
//! | any | Terminate, EOF, fatal error | `Closed` |
//!
//! # Example
//!
//! ```
//! use pgproto_core::column::Column;
//! use pgproto_core::server::{Server, ServerConfig, ServerEvent};
//!
//! let mut server = Server::new(ServerConfig::default());
//! // StartupMessage for user "alice", protocol 3.0.
//! server.handle_input(b"\0\0\0\x14\0\x03\0\0user\0alice\0\0");
//! let Some(ServerEvent::Startup(startup)) = server.poll_event().unwrap() else { panic!() };
//! assert_eq!(startup.user, "alice");
//! server.authenticate_trust().unwrap();
//! assert!(matches!(server.poll_event().unwrap(), Some(ServerEvent::Authenticated)));
//! server.complete_startup(&[("server_version", "16.0")], 1, &[1, 2, 3, 4]).unwrap();
//!
//! server.handle_input(b"Q\0\0\0\x0dselect 1\0");
//! let Some(ServerEvent::Query { sql }) = server.poll_event().unwrap() else { panic!() };
//! assert_eq!(sql, "select 1");
//! server.row_description(&[Column::new("?column?", 23, 4)]).unwrap();
//! server.data_row(&[Some(b"1")]).unwrap();
//! server.command_complete("SELECT 1").unwrap();
//! server.ready_for_query().unwrap();
//! let out = server.poll_transmit().unwrap();
//! assert!(out.ends_with(b"Z\0\0\0\x05I"));
//! ```

mod auth;
mod casts;
mod driver;
mod statement;

use crate::cycle::{ErrorRecovery, RequestKind};
use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;

use bytes::{Bytes, BytesMut};

pub use auth::{AuthKind, ServerAuth};
pub use casts::placeholder_casts;
pub use driver::{Action, ServerConnection, SessionSetup, SERVER_VERSION};
pub use statement::{Portal, Statement};

use crate::auth::scram::{ScramCredential, ScramServer};
use crate::auth::{md5, AuthError};
use crate::cancel::CancelToken;
use crate::column::Column;
use crate::db_error::{DbError, Severity};
use crate::error::{Error, ProtocolViolation, UsageError};
use crate::message::{
    AuthResponseKind, Authentication, BackendKeyData, BindComplete, CloseComplete, CommandComplete,
    CopyData, CopyDone, CopyInResponse, CopyOutResponse, DataRow, EmptyQueryResponse, Format,
    FrontendMessage, FunctionCallResponse, List, NegotiateProtocolVersion, NoData,
    NotificationResponse, ParameterDescription, ParameterStatus, ParseComplete, PortalSuspended,
    ProtocolVersion, ReadyForQuery, RowDescription, Target, TransactionStatus, MAX_SECRET_KEY_LEN,
    MIN_SECRET_KEY_LEN,
};
use crate::sqlstate::SqlState;
use crate::wire::{Direction, Frame, Framer, Limits};

/// How many bytes a server adapter reads from a client at once: PostgreSQL's own receive
/// buffer size. Idle connections then cost little memory; larger messages arrive over
/// several reads.
pub const READ_BUFFER_SIZE: usize = 8192;

/// The newest protocol version this server speaks.
pub const LATEST_PROTOCOL: ProtocolVersion = ProtocolVersion::V3_2;

/// Server connection settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Framing limits for what clients send.
    pub limits: Limits,
    /// How long a client may take from connecting to the end of authentication
    /// (PostgreSQL's `authentication_timeout`); `None`: no limit. Kept by
    /// [`Server::handle_timeout`] and [`Server::poll_timeout`].
    pub authentication_timeout: Option<Duration>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            authentication_timeout: Some(DEFAULT_AUTHENTICATION_TIMEOUT),
        }
    }
}

/// PostgreSQL's default `authentication_timeout`: one minute.
pub const DEFAULT_AUTHENTICATION_TIMEOUT: Duration = Duration::from_secs(60);

/// What the client asked for in its StartupMessage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupRequest {
    /// The user name.
    pub user: String,
    /// The database (defaults to the user name, as PostgreSQL).
    pub database: String,
    /// The protocol version the connection uses (after negotiation).
    pub protocol_version: ProtocolVersion,
    /// `options` (command-line style settings), if sent.
    pub options: Option<String>,
    /// `replication`, if sent.
    pub replication: Option<String>,
    /// Every parameter as sent, including the above (except `_pq_.` options).
    pub parameters: Vec<(String, String)>,
}

impl StartupRequest {
    /// A parameter's value.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the client did; the application answers with commands.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// SSLRequest: call [`Server::accept_tls`] or [`Server::refuse_tls`].
    TlsRequested,
    /// The client started a TLS handshake directly (PostgreSQL 17 style): take the
    /// buffered handshake bytes with [`Server::take_buffered_input`], hand them to the TLS
    /// library, and call [`Server::handle_tls_established`] when it completes.
    DirectTls,
    /// A CancelRequest; the connection is over. Route the key to the session it names.
    CancelRequested(CancelToken),
    /// StartupMessage: choose an authentication method (`authenticate_trust`,
    /// `request_password`, `request_md5_password`, `request_scram`) or `reject`.
    Startup(StartupRequest),
    /// The client's password in response to [`Server::request_password`]: verify it and
    /// call [`Server::authentication_ok`] or [`Server::authentication_failed`].
    Password(Vec<u8>),
    /// Authentication succeeded: call [`Server::complete_startup`].
    Authenticated,
    /// A simple query: answer each statement (`row_description`, `data_row`...,
    /// `command_complete`, or `empty_query`, `copy_*`, `error`), then `ready_for_query`.
    Query {
        /// The query string (one or more statements).
        sql: String,
    },
    /// Parse: prepare `query`; answer `parse_complete` with its description, or `error`.
    Parse {
        /// Statement name (empty: unnamed).
        statement: String,
        /// Query text.
        query: String,
        /// Parameter types the client specified (0: unspecified).
        param_types: Vec<u32>,
    },
    /// Bind (checked against the statement): inspect [`Server::portal`], answer
    /// `bind_complete` or `error`.
    Bind {
        /// The portal created.
        portal: String,
    },
    /// Execute: answer `data_row`s, then `command_complete`, `empty_query` or
    /// `portal_suspended` (or `copy_*`, `error`). Rows use the portal's result formats.
    Execute {
        /// The portal to run.
        portal: String,
        /// Row limit (0: none).
        max_rows: i32,
    },
    /// FunctionCall: answer `function_call_response` or `error`.
    FunctionCall {
        /// Function OID.
        function_oid: u32,
        /// Arguments (`None`: NULL).
        args: Vec<Option<Bytes>>,
        /// Argument formats, one per argument.
        arg_formats: Vec<Format>,
        /// Requested result format.
        result_format: Format,
    },
    /// COPY FROM STDIN data.
    CopyData(Bytes),
    /// COPY FROM STDIN ended: answer `command_complete` (or `error`).
    CopyDone,
    /// The client aborted COPY FROM STDIN: answer `error` (PostgreSQL: 57014).
    CopyFail(String),
    /// The client is closing the connection.
    Terminate,
}

/// The server connection's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerPhase {
    /// Waiting for the startup packet (or SSLRequest, GSSENCRequest, CancelRequest).
    Startup,
    /// An SSLRequest arrived; the application must accept or refuse it.
    TlsDecision,
    /// The adapter is performing the TLS handshake.
    TlsHandshake,
    /// StartupMessage received; authentication in progress.
    Authenticating,
    /// Authenticated; waiting for [`Server::complete_startup`].
    Authenticated,
    /// Ready: processing messages.
    Ready,
    /// The connection is over.
    Closed,
}

impl ServerPhase {
    /// The phase's name, for errors.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Startup => "startup",
            Self::TlsDecision => "TLS decision",
            Self::TlsHandshake => "TLS handshake",
            Self::Authenticating => "authentication",
            Self::Authenticated => "authenticated",
            Self::Ready => "ready",
            Self::Closed => "closed",
        }
    }
}

/// The connection's state: its phase, with the data valid only in that phase. The
/// one place that closes it is [`Server::close`]; a closed connection keeps its reason.
enum State {
    Startup,
    TlsDecision,
    TlsHandshake,
    Authenticating(AuthState),
    Authenticated,
    Ready(Session),
    Closed(Error),
}

impl State {
    fn phase(&self) -> ServerPhase {
        match self {
            Self::Startup => ServerPhase::Startup,
            Self::TlsDecision => ServerPhase::TlsDecision,
            Self::TlsHandshake => ServerPhase::TlsHandshake,
            Self::Authenticating(_) => ServerPhase::Authenticating,
            Self::Authenticated => ServerPhase::Authenticated,
            Self::Ready(_) => ServerPhase::Ready,
            Self::Closed(_) => ServerPhase::Closed,
        }
    }
}

/// The authentication exchange under way.
enum AuthState {
    /// No method requested yet.
    None,
    Password,
    Md5 {
        stored: Option<String>,
        salt: [u8; 4],
    },
    Scram {
        server: ScramServer,
        /// Whether the client's first message was handled.
        first_done: bool,
    },
}

/// What the application is currently answering.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Current {
    Query {
        columns: Option<usize>,
    },
    Parse {
        statement: String,
        query: String,
    },
    Bind {
        portal: String,
    },
    Execute {
        portal: String,
        max_rows: i32,
        rows: u64,
        columns: usize,
    },
    FunctionCall,
}

impl Current {
    /// The request kind, for the rules of [`crate::cycle`].
    fn kind(&self) -> RequestKind {
        match self {
            Self::Query { .. } => RequestKind::Query,
            Self::Parse { .. } => RequestKind::Parse,
            Self::Bind { .. } => RequestKind::Bind,
            Self::Execute { .. } => RequestKind::Execute,
            Self::FunctionCall => RequestKind::FunctionCall,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Copy {
    #[default]
    None,
    In,
    Out,
}

/// What the Ready phase keeps: the message being answered, COPY and error-recovery
/// state, and the prepared statements and portals.
#[derive(Default)]
struct Session {
    current: Option<Current>,
    copy: Copy,
    discarding: bool,
    statements: BTreeMap<String, Arc<Statement>>,
    portals: BTreeMap<String, Portal>,
}

/// The session of a ready connection; the stored error of a closed one.
fn ready(state: &mut State) -> Result<&mut Session, Error> {
    match state {
        State::Ready(session) => Ok(session),
        State::Closed(e) => Err(e.clone()),
        _ => Err(UsageError::WrongPhase {
            needed: ServerPhase::Ready.name(),
        }
        .into()),
    }
}

/// A server connection (sans-IO). See the [module documentation](self).
pub struct Server {
    framer: Framer,
    out: BytesMut,
    state: State,
    user: String,
    protocol_version: ProtocolVersion,
    tls: bool,
    channel_binding: Option<Vec<u8>>,
    events: VecDeque<ServerEvent>,
    transaction_status: TransactionStatus,
    authentication_timeout: Option<Duration>,
    /// When startup must be over, in the caller's time; armed by the first
    /// [`Server::handle_timeout`].
    startup_deadline: Option<Duration>,
    /// Whether the output holds something the client is waiting for (flush point).
    flush_pending: bool,
    cancel: Arc<AtomicBool>,
    /// The client closed its side; complete messages already buffered are still handled.
    eof: bool,
}

impl core::fmt::Debug for Server {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("phase", &self.phase())
            .field("current", &self.session().and_then(|s| s.current.as_ref()))
            .finish_non_exhaustive()
    }
}

fn violation(message: &'static str) -> DbError {
    DbError::new(Severity::Fatal, SqlState::ProtocolViolation, message)
}

impl Server {
    /// A new connection, waiting for the client's first packet.
    pub fn new(config: ServerConfig) -> Self {
        Self {
            framer: Framer::new(Direction::Frontend, config.limits),
            out: BytesMut::new(),
            state: State::Startup,
            user: String::new(),
            protocol_version: ProtocolVersion::V3_0,
            tls: false,
            channel_binding: None,
            events: VecDeque::new(),
            transaction_status: TransactionStatus::Idle,
            authentication_timeout: config.authentication_timeout,
            startup_deadline: None,
            flush_pending: false,
            cancel: Arc::new(AtomicBool::new(false)),
            eof: false,
        }
    }

    // ------------------------------------------------------------------ inputs

    /// Feeds bytes received from the client.
    pub fn handle_input(&mut self, data: &[u8]) {
        self.framer.push(data);
    }

    /// The input buffer, for reading from a socket straight into it (append only; no
    /// intermediate copy). Reserve [`READ_BUFFER_SIZE`] before reading when it is full.
    pub fn input_buffer(&mut self) -> &mut BytesMut {
        self.framer.buffer_mut()
    }

    /// Frees the input and output buffers when both are empty, so that an idle connection
    /// holds no buffer memory (about [`READ_BUFFER_SIZE`] bytes each): call it before
    /// waiting for the client's next message when the transport can wait for readability
    /// without a buffer (for example tokio's `TcpStream::readable`). The next read and the
    /// next answer allocate again. Returns whether anything was freed.
    ///
    /// ```
    /// use pgproto_core::server::{Server, ServerConfig};
    ///
    /// let mut server = Server::new(ServerConfig::default());
    /// server.input_buffer().reserve(pgproto_core::server::READ_BUFFER_SIZE);
    /// assert!(server.release_idle_buffers());
    /// assert_eq!(server.input_buffer().capacity(), 0);
    ///
    /// // Half a message is kept.
    /// server.input_buffer().extend_from_slice(&[0, 0]);
    /// assert!(!server.release_idle_buffers());
    /// assert_eq!(&server.input_buffer()[..], &[0, 0]);
    /// ```
    pub fn release_idle_buffers(&mut self) -> bool {
        if self.framer.buffered_len() > 0 || !self.out.is_empty() || !self.events.is_empty() {
            return false;
        }
        let had_output = self.out.capacity() > 0;
        if had_output {
            self.out = BytesMut::new();
        }
        self.framer.release_if_empty() || had_output
    }

    /// Reports that the client closed the connection. Complete messages already fed
    /// are still handed out by [`Server::poll_event`] (as PostgreSQL handles what it
    /// read before the end of the stream: a CancelRequest or a Terminate written just
    /// before closing counts); after them it reports [`Error::Closed`].
    ///
    /// ```
    /// use pgproto_core::server::{Server, ServerConfig, ServerEvent};
    ///
    /// let mut server = Server::new(ServerConfig::default());
    /// // A CancelRequest and the end of the stream, read in one go.
    /// let mut cancel = vec![0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e];
    /// cancel.extend_from_slice(&42i32.to_be_bytes());
    /// cancel.extend_from_slice(&7i32.to_be_bytes());
    /// server.handle_input(&cancel);
    /// server.handle_eof();
    /// assert!(matches!(server.poll_event(), Ok(Some(ServerEvent::CancelRequested(_)))));
    /// assert!(server.poll_event().is_err());
    /// ```
    pub fn handle_eof(&mut self) {
        self.eof = true;
        if self.framer.buffered_len() == 0 && self.events.is_empty() {
            self.close_at_eof();
        }
    }

    /// Tells the connection the time: `now` is the caller's monotonic clock, as a
    /// [`Duration`] since any fixed epoch (e.g. `Instant::now() - start`). Call it once
    /// when the connection is accepted (that starts the authentication clock), and again
    /// whenever [`Server::poll_timeout`]'s deadline has passed. When startup is not over
    /// by then, the connection closes without a message, as PostgreSQL does: every later
    /// call returns [`Error::TimedOut`].
    ///
    /// ```
    /// use core::time::Duration;
    /// use pgproto_core::server::{Server, ServerConfig};
    /// let mut config = ServerConfig::default();
    /// config.authentication_timeout = Some(Duration::from_secs(2));
    /// let mut server = Server::new(config);
    /// server.handle_timeout(Duration::from_secs(100)); // accepted at t = 100 s
    /// assert_eq!(server.poll_timeout(), Some(Duration::from_secs(102)));
    /// server.handle_timeout(Duration::from_secs(102));
    /// assert!(server.poll_event().is_err()); // closed: startup took too long
    /// assert_eq!(server.poll_timeout(), None);
    /// ```
    pub fn handle_timeout(&mut self, now: Duration) {
        if matches!(self.state, State::Ready(_) | State::Closed(_)) {
            return;
        }
        let Some(limit) = self.authentication_timeout else {
            return;
        };
        match self.startup_deadline {
            None => self.startup_deadline = Some(now.saturating_add(limit)),
            Some(deadline) if now >= deadline => {
                self.close(Error::TimedOut(crate::error::Timeout::Authentication));
            }
            Some(_) => {}
        }
    }

    /// When [`Server::handle_timeout`] must be called next (in the caller's time), if a
    /// deadline is running: until startup is over.
    pub fn poll_timeout(&self) -> Option<Duration> {
        match self.state {
            State::Ready(_) | State::Closed(_) => None,
            _ => self.startup_deadline,
        }
    }

    fn close_at_eof(&mut self) {
        self.close(Error::Closed);
    }

    /// Ends the connection for good: the one place that closes it. The first reason is
    /// kept; every later call returns it.
    fn close(&mut self, reason: Error) {
        if !matches!(self.state, State::Closed(_)) {
            self.state = State::Closed(reason);
        }
    }

    /// Reports a completed TLS handshake (after `accept_tls` or `DirectTls`).
    /// `channel_binding` is the tls-server-end-point hash of the server certificate,
    /// which enables SCRAM-SHA-256-PLUS.
    pub fn handle_tls_established(
        &mut self,
        channel_binding: Option<Vec<u8>>,
    ) -> Result<(), Error> {
        self.check_poisoned()?;
        if !matches!(self.state, State::TlsHandshake) {
            return Err(UsageError::UnexpectedTls.into());
        }
        self.tls = true;
        self.channel_binding = channel_binding;
        self.state = State::Startup;
        Ok(())
    }

    /// Takes the bytes buffered but not processed (the TLS ClientHello after
    /// [`ServerEvent::DirectTls`]).
    pub fn take_buffered_input(&mut self) -> Bytes {
        let buf = self.framer.buffer_mut();
        buf.split().freeze()
    }

    // ------------------------------------------------------------------ outputs

    /// Bytes to send to the client, if any.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.flush_pending = false;
        if self.out.is_empty() {
            None
        } else {
            Some(self.out.split().freeze())
        }
    }

    /// Whether the client waits for buffered output (after ReadyForQuery, Flush, a TLS or
    /// authentication answer, or COPY data). Adapters may hold output until this or until
    /// the input is drained, to write once per batch.
    pub fn should_flush(&self) -> bool {
        self.flush_pending && !self.out.is_empty()
    }

    /// Whether bytes are waiting in [`Server::poll_transmit`].
    pub fn has_pending_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// The next event; `Ok(None)` when more input is needed or the application has not
    /// finished answering the current message.
    pub fn poll_event(&mut self) -> Result<Option<ServerEvent>, Error> {
        loop {
            if let Some(e) = self.events.pop_front() {
                return Ok(Some(e));
            }
            self.check_poisoned()?;
            if self
                .session()
                .is_some_and(|s| s.current.is_some() && s.copy != Copy::In)
                || matches!(
                    self.state,
                    State::TlsDecision | State::TlsHandshake | State::Authenticated
                )
            {
                return Ok(None);
            }
            match self.step() {
                Ok(true) => {}
                Ok(false) if self.eof => {
                    // Everything complete that arrived before the end was handled.
                    self.close_at_eof();
                    self.check_poisoned()?;
                }
                Ok(false) => return Ok(None),
                Err(e) => {
                    self.close(e.clone());
                    return Err(e);
                }
            }
        }
    }

    fn check_poisoned(&self) -> Result<(), Error> {
        match &self.state {
            State::Closed(e) => Err(e.clone()),
            _ => Ok(()),
        }
    }

    /// Sends a FATAL error; the error is returned, and the caller's error return
    /// closes the connection (`poll_event`, or [`Server::close`]).
    fn fatal(&mut self, error: DbError) -> Error {
        let _ = error.encode_error(&mut self.out);
        self.flush_pending = true;
        Error::Server(Box::new(error))
    }

    fn step(&mut self) -> Result<bool, Error> {
        if matches!(self.state, State::Startup) && self.framer.is_startup_phase() {
            // Direct TLS: a TLS record (handshake, 0x16) instead of a length.
            if self.framer.buffer_mut().first() == Some(&0x16) && !self.tls {
                self.state = State::TlsHandshake;
                self.events.push_back(ServerEvent::DirectTls);
                return Ok(true);
            }
        }
        let frame = match self.framer.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => return Ok(false),
            Err(e) => {
                let msg = if matches!(self.state, State::Startup) {
                    "invalid startup packet"
                } else {
                    "invalid message format"
                };
                let _ = self.fatal(violation(msg));
                return Err(e.into());
            }
        };
        match self.state {
            State::Startup => self.process_startup_packet(frame)?,
            State::Authenticating(_) => self.process_auth_response(frame)?,
            State::Ready(_) => self.process_message(frame)?,
            _ => {
                return Err(ProtocolViolation::UnexpectedMessage {
                    phase: "startup",
                    message: "message",
                }
                .into())
            }
        }
        Ok(true)
    }

    fn process_startup_packet(&mut self, frame: Frame<Bytes>) -> Result<(), Error> {
        let msg = match FrontendMessage::decode(frame.tag, &frame.body, AuthResponseKind::Password)
        {
            Ok(m) => m,
            Err(crate::DecodeError::UnknownStartupCode { code }) => {
                let e = DbError::new(
                    Severity::Fatal,
                    SqlState::FeatureNotSupported,
                    format!(
                        "unsupported frontend protocol {}.{}: server supports 3.0 to {}",
                        code >> 16,
                        code & 0xffff,
                        LATEST_PROTOCOL
                    ),
                );
                return Err(self.fatal(e));
            }
            Err(e) => {
                let _ = self.fatal(violation("invalid startup packet layout"));
                return Err(e.into());
            }
        };
        match msg {
            FrontendMessage::SslRequest(_) => {
                if self.tls {
                    return Err(self.fatal(violation("SSL negotiation after TLS was established")));
                }
                if self.framer.buffered_len() > 0 {
                    // CVE-2021-23214: unencrypted bytes queued behind SSLRequest.
                    let _ = self.fatal(violation("received unencrypted data after SSL request"));
                    return Err(ProtocolViolation::DataAfterSslResponse.into());
                }
                self.state = State::TlsDecision;
                self.events.push_back(ServerEvent::TlsRequested);
            }
            FrontendMessage::GssEncRequest(_) => {
                self.out.extend_from_slice(b"N");
                self.flush_pending = true;
            }
            FrontendMessage::CancelRequest(c) => {
                self.close(Error::Closed);
                self.events
                    .push_back(ServerEvent::CancelRequested(CancelToken::new(
                        c.process_id,
                        c.secret_key.to_vec(),
                    )));
            }
            FrontendMessage::Startup(s) => {
                let requested = s.protocol_version;
                let mut unsupported = Vec::new();
                let mut parameters = Vec::new();
                for (name, value) in s.parameters.iter() {
                    if name.starts_with("_pq_.") {
                        unsupported.push(name);
                    } else {
                        parameters.push((name.to_string(), value.to_string()));
                    }
                }
                let version = if requested > LATEST_PROTOCOL {
                    LATEST_PROTOCOL
                } else {
                    requested
                };
                if requested > LATEST_PROTOCOL || !unsupported.is_empty() {
                    NegotiateProtocolVersion {
                        newest_minor_version: version.code(),
                        unrecognized_options: List::new(&unsupported),
                    }
                    .encode(&mut self.out)?;
                }
                self.protocol_version = version;
                let Some(user) = s.parameter("user").filter(|u| !u.is_empty()) else {
                    return Err(self.fatal(DbError::new(
                        Severity::Fatal,
                        SqlState::InvalidAuthorizationSpecification,
                        "no PostgreSQL user name specified in startup packet",
                    )));
                };
                self.user = user.to_string();
                let database = s
                    .parameter("database")
                    .filter(|d| !d.is_empty())
                    .unwrap_or(user)
                    .to_string();
                let request = StartupRequest {
                    user: user.to_string(),
                    database,
                    protocol_version: version,
                    options: s.parameter("options").map(ToString::to_string),
                    replication: s.parameter("replication").map(ToString::to_string),
                    parameters,
                };
                self.state = State::Authenticating(AuthState::None);
                self.events.push_back(ServerEvent::Startup(request));
            }
            other => {
                return Err(ProtocolViolation::UnexpectedMessage {
                    phase: "startup",
                    message: other.name(),
                }
                .into())
            }
        }
        Ok(())
    }

    fn auth_failed(&mut self) -> Error {
        let user = self.user.clone();
        let e = DbError::new(
            Severity::Fatal,
            SqlState::InvalidPassword,
            format!("password authentication failed for user \"{user}\""),
        );
        self.fatal(e)
    }

    fn process_auth_response(&mut self, frame: Frame<Bytes>) -> Result<(), Error> {
        let kind = match &self.state {
            State::Authenticating(AuthState::Scram {
                first_done: false, ..
            }) => AuthResponseKind::SaslInitial,
            State::Authenticating(AuthState::Scram { .. }) => AuthResponseKind::Sasl,
            _ => AuthResponseKind::Password,
        };
        if frame.tag != Some(b'p') {
            if frame.tag == Some(b'X') {
                self.close(Error::Closed);
                self.events.push_back(ServerEvent::Terminate);
                return Ok(());
            }
            let tag = frame.tag.unwrap_or(0);
            let e = violation("expected password response");
            let _ = self.fatal(e);
            return Err(ProtocolViolation::UnexpectedMessage {
                phase: "authentication",
                message: if tag == 0 {
                    "untagged packet"
                } else {
                    "message"
                },
            }
            .into());
        }
        let msg = match FrontendMessage::decode(frame.tag, &frame.body, kind) {
            Ok(m) => m,
            Err(e) => {
                let _ = self.fatal(violation("malformed password packet"));
                return Err(e.into());
            }
        };
        // `step` calls this in the authenticating phase only.
        let State::Authenticating(auth) = &mut self.state else {
            return Err(UsageError::WrongPhase {
                needed: ServerPhase::Authenticating.name(),
            }
            .into());
        };
        match (msg, auth) {
            (FrontendMessage::Password(p), AuthState::Password) => {
                self.events
                    .push_back(ServerEvent::Password(p.password.to_vec()));
                Ok(())
            }
            (FrontendMessage::Password(p), AuthState::Md5 { stored, salt }) => {
                let ok = stored
                    .as_deref()
                    .is_some_and(|s| md5::verify(s, self.user.as_bytes(), *salt, p.password));
                if ok {
                    self.authentication_ok()
                } else {
                    Err(self.auth_failed())
                }
            }
            (FrontendMessage::SaslInitialResponse(r), AuthState::Scram { server, first_done }) => {
                let data = r.data.unwrap_or_default();
                match server.handle_client_first(r.mechanism, data) {
                    Ok(reply) => {
                        *first_done = true;
                        Authentication::SaslContinue { data: &reply }.encode(&mut self.out)?;
                        self.flush_pending = true;
                        Ok(())
                    }
                    Err(e) => Err(self.scram_failed(e)),
                }
            }
            (FrontendMessage::SaslResponse(r), AuthState::Scram { server, .. }) => {
                match server.handle_client_final(r.data) {
                    Ok(reply) => {
                        Authentication::SaslFinal { data: &reply }.encode(&mut self.out)?;
                        self.authentication_ok()
                    }
                    Err(e) => Err(self.scram_failed(e)),
                }
            }
            (other, _) => {
                let _ = self.fatal(violation("unexpected password packet"));
                Err(ProtocolViolation::UnexpectedMessage {
                    phase: "authentication",
                    message: other.name(),
                }
                .into())
            }
        }
    }

    fn scram_failed(&mut self, e: AuthError) -> Error {
        match e {
            AuthError::InvalidClientProof => self.auth_failed(),
            // PostgreSQL reports every other SCRAM failure (malformed message, nonce
            // mismatch, channel binding check, mechanism) as a protocol violation.
            other => {
                let db = DbError::new(
                    Severity::Fatal,
                    SqlState::ProtocolViolation,
                    format!("SCRAM authentication failed: {other}"),
                );
                let _ = self.fatal(db);
                Error::Auth(other)
            }
        }
    }
}

/// Commands: startup and authentication.
impl Server {
    fn expect_phase(&self, phase: ServerPhase) -> Result<(), Error> {
        self.check_poisoned()?;
        if self.phase() != phase {
            return Err(UsageError::WrongPhase {
                needed: phase.name(),
            }
            .into());
        }
        Ok(())
    }

    /// Accepts an SSLRequest: sends `S`; the adapter then performs the TLS handshake and
    /// calls [`Server::handle_tls_established`].
    pub fn accept_tls(&mut self) -> Result<(), Error> {
        self.expect_phase(ServerPhase::TlsDecision)?;
        self.out.extend_from_slice(b"S");
        self.flush_pending = true;
        self.state = State::TlsHandshake;
        Ok(())
    }

    /// Declines an SSLRequest: sends `N`; the client may continue in plain text.
    pub fn refuse_tls(&mut self) -> Result<(), Error> {
        self.expect_phase(ServerPhase::TlsDecision)?;
        self.out.extend_from_slice(b"N");
        self.flush_pending = true;
        self.state = State::Startup;
        Ok(())
    }

    /// Lets the client in without a password.
    pub fn authenticate_trust(&mut self) -> Result<(), Error> {
        self.expect_phase(ServerPhase::Authenticating)?;
        if !matches!(self.state, State::Authenticating(AuthState::None)) {
            return Err(UsageError::AuthenticationAlreadyRequested.into());
        }
        self.authentication_ok()
    }

    /// Asks for a cleartext password; it arrives as [`ServerEvent::Password`].
    pub fn request_password(&mut self) -> Result<(), Error> {
        self.expect_phase(ServerPhase::Authenticating)?;
        Authentication::CleartextPassword.encode(&mut self.out)?;
        self.flush_pending = true;
        self.state = State::Authenticating(AuthState::Password);
        Ok(())
    }

    /// Asks for an MD5 password and checks it against `stored` (`md5` + hex, as in
    /// `pg_authid`; `None` for an unknown user, which fails the same way as a wrong
    /// password). `salt` must be random.
    pub fn request_md5_password(
        &mut self,
        stored: Option<&str>,
        salt: [u8; 4],
    ) -> Result<(), Error> {
        self.expect_phase(ServerPhase::Authenticating)?;
        Authentication::Md5Password { salt }.encode(&mut self.out)?;
        self.flush_pending = true;
        self.state = State::Authenticating(AuthState::Md5 {
            stored: stored.map(ToString::to_string),
            salt,
        });
        Ok(())
    }

    /// Runs a SCRAM-SHA-256 exchange (with -PLUS offered on TLS connections whose
    /// channel-binding data is known) against `credential`. `nonce` must be at least 18
    /// fresh random bytes.
    pub fn request_scram(
        &mut self,
        credential: ScramCredential<'_>,
        nonce: &[u8],
    ) -> Result<(), Error> {
        self.expect_phase(ServerPhase::Authenticating)?;
        let cb = if self.tls {
            self.channel_binding.clone()
        } else {
            None
        };
        let scram = ScramServer::new(credential, nonce, cb)?;
        let mechanisms = scram.mechanisms();
        Authentication::Sasl {
            mechanisms: List::new(mechanisms),
        }
        .encode(&mut self.out)?;
        self.flush_pending = true;
        self.state = State::Authenticating(AuthState::Scram {
            server: scram,
            first_done: false,
        });
        Ok(())
    }

    /// Accepts the password the application checked (after [`ServerEvent::Password`]),
    /// or ends authentication for methods the core checked.
    pub fn authentication_ok(&mut self) -> Result<(), Error> {
        self.expect_phase(ServerPhase::Authenticating)?;
        Authentication::Ok.encode(&mut self.out)?;
        self.flush_pending = true;
        self.state = State::Authenticated;
        self.events.push_back(ServerEvent::Authenticated);
        Ok(())
    }

    /// Rejects the password: sends PostgreSQL's FATAL 28P01 error and closes.
    pub fn authentication_failed(&mut self) -> Result<(), Error> {
        self.expect_phase(ServerPhase::Authenticating)?;
        let e = self.auth_failed();
        self.close(e);
        Ok(())
    }

    /// Refuses the connection with a FATAL error (for example 3D000 for an unknown
    /// database, 28000 for a user not allowed in) and closes.
    pub fn reject(&mut self, error: DbError) -> Result<(), Error> {
        self.check_poisoned()?;
        let mut error = error;
        error.severity = "FATAL".to_string();
        error.parsed_severity = Some(Severity::Fatal);
        let e = self.fatal(error);
        self.close(e);
        Ok(())
    }

    /// Ends startup: sends the ParameterStatus set clients rely on (PostgreSQL's defaults,
    /// replaced or extended by `parameters`), BackendKeyData and ReadyForQuery.
    ///
    /// The secret key must be 4 bytes for protocol 3.0, and 4 to 256 bytes for 3.2.
    pub fn complete_startup(
        &mut self,
        parameters: &[(&str, &str)],
        process_id: i32,
        secret_key: &[u8],
    ) -> Result<(), Error> {
        self.expect_phase(ServerPhase::Authenticated)?;
        let key_ok = if self.protocol_version >= ProtocolVersion::V3_2 {
            (MIN_SECRET_KEY_LEN..=MAX_SECRET_KEY_LEN).contains(&secret_key.len())
        } else {
            secret_key.len() == 4
        };
        if !key_ok {
            return Err(UsageError::SecretKeyLength(secret_key.len()).into());
        }
        let user = self.user.clone();
        let defaults: [(&str, &str); 12] = [
            ("application_name", ""),
            ("client_encoding", "UTF8"),
            ("DateStyle", "ISO, MDY"),
            ("default_transaction_read_only", "off"),
            ("in_hot_standby", "off"),
            ("integer_datetimes", "on"),
            ("IntervalStyle", "postgres"),
            ("is_superuser", "off"),
            ("server_encoding", "UTF8"),
            ("server_version", "16.0"),
            ("session_authorization", &user),
            ("standard_conforming_strings", "on"),
        ];
        let mut set: Vec<(&str, &str)> = defaults.to_vec();
        set.push(("TimeZone", "UTC"));
        for (name, value) in parameters {
            match set.iter_mut().find(|(n, _)| n == name) {
                Some(slot) => slot.1 = value,
                None => set.push((name, value)),
            }
        }
        for (name, value) in set {
            ParameterStatus { name, value }.encode(&mut self.out)?;
        }
        BackendKeyData {
            process_id,
            secret_key,
        }
        .encode(&mut self.out)?;
        self.state = State::Ready(Session::default());
        ReadyForQuery {
            status: self.transaction_status,
        }
        .encode(&mut self.out)?;
        self.flush_pending = true;
        Ok(())
    }
}

/// Processing messages in the Ready phase.
impl Server {
    fn discard_until_sync(&mut self) {
        if let State::Ready(s) = &mut self.state {
            s.discarding = true;
        }
    }

    /// Answers an extended-protocol message with an error and starts discarding until
    /// Sync.
    fn extended_error(&mut self, error: DbError) -> Result<(), Error> {
        error.encode_error(&mut self.out)?;
        self.discard_until_sync();
        Ok(())
    }

    fn process_message(&mut self, frame: Frame<Bytes>) -> Result<(), Error> {
        let tag = frame.tag.unwrap_or(0);
        let known = matches!(
            tag,
            b'Q' | b'P'
                | b'B'
                | b'E'
                | b'D'
                | b'C'
                | b'H'
                | b'S'
                | b'X'
                | b'F'
                | b'd'
                | b'c'
                | b'f'
        );
        if !known {
            let e = DbError::new(
                Severity::Fatal,
                SqlState::ProtocolViolation,
                format!("invalid frontend message type {tag}"),
            );
            return Err(self.fatal(e));
        }
        let s = ready(&mut self.state)?;
        if s.copy != Copy::In {
            // As PostgreSQL: after an extended-protocol error, messages up to Sync are
            // skipped unread; COPY messages outside COPY are ignored unread (a late
            // message after an error ended the COPY).
            if s.discarding && crate::cycle::discarded_until_sync(tag) {
                return Ok(());
            }
            if matches!(tag, b'd' | b'c' | b'f') {
                return Ok(());
            }
        }
        let msg = match FrontendMessage::decode(frame.tag, &frame.body, AuthResponseKind::Password)
        {
            Ok(m) => m,
            Err(e) if s.copy == Copy::In => {
                let _ = self.fatal(violation("invalid frontend message"));
                return Err(e.into());
            }
            // The frame was intact, so the stream is still in step: as PostgreSQL, a
            // malformed message is an ERROR and the session goes on.
            Err(e) => return self.malformed_message(tag, &e),
        };
        if s.copy == Copy::In {
            return self.process_copy_in(msg);
        }
        match msg {
            FrontendMessage::Query(q) => {
                // A simple query destroys the unnamed statement and portal.
                s.statements.remove("");
                s.portals.remove("");
                s.current = Some(Current::Query { columns: None });
                self.events.push_back(ServerEvent::Query {
                    sql: q.query.to_string(),
                });
            }
            FrontendMessage::Parse(p) => {
                if !p.statement.is_empty() && s.statements.contains_key(p.statement) {
                    let e = DbError::new(
                        Severity::Error,
                        SqlState::DuplicatePstatement,
                        format!("prepared statement \"{}\" already exists", p.statement),
                    );
                    return self.extended_error(e);
                }
                s.current = Some(Current::Parse {
                    statement: p.statement.to_string(),
                    query: p.query.to_string(),
                });
                self.events.push_back(ServerEvent::Parse {
                    statement: p.statement.to_string(),
                    query: p.query.to_string(),
                    param_types: p.param_types.iter().collect(),
                });
            }
            FrontendMessage::Bind(b) => {
                let Some(statement) = s.statements.get(b.statement).cloned() else {
                    return self.extended_error(unknown_statement(b.statement));
                };
                if !b.portal.is_empty() && s.portals.contains_key(b.portal) {
                    let e = DbError::new(
                        Severity::Error,
                        SqlState::DuplicateCursor,
                        format!("portal \"{}\" already exists", b.portal),
                    );
                    return self.extended_error(e);
                }
                let nparams = b.params.len();
                if nparams != statement.param_types.len() {
                    let e = DbError::new(
                        Severity::Error,
                        SqlState::ProtocolViolation,
                        format!(
                            "bind message supplies {} parameters, but prepared statement \"{}\" requires {}",
                            nparams,
                            statement.name,
                            statement.param_types.len()
                        ),
                    );
                    return self.extended_error(e);
                }
                let pf = b.param_formats.len();
                if pf > 1 && pf != nparams {
                    let e = DbError::new(
                        Severity::Error,
                        SqlState::ProtocolViolation,
                        format!("bind message has {pf} parameter formats but {nparams} parameters"),
                    );
                    return self.extended_error(e);
                }
                let ncols = statement.columns.as_ref().map_or(0, |c| c.len());
                let rf = b.result_formats.len();
                if rf > 1 && rf != ncols {
                    let e = DbError::new(
                        Severity::Error,
                        SqlState::ProtocolViolation,
                        format!(
                            "bind message has {rf} result formats but query has {ncols} columns"
                        ),
                    );
                    return self.extended_error(e);
                }
                let portal = b.portal.to_string();
                s.portals.insert(
                    portal.clone(),
                    Portal::new(portal.clone(), statement, frame.body.clone()),
                );
                s.current = Some(Current::Bind {
                    portal: portal.clone(),
                });
                self.events.push_back(ServerEvent::Bind { portal });
            }
            FrontendMessage::Describe(d) => match d.target {
                Target::Statement => {
                    let Some(st) = s.statements.get(d.name).cloned() else {
                        return self.extended_error(unknown_statement(d.name));
                    };
                    ParameterDescription {
                        types: List::new(&st.param_types),
                    }
                    .encode(&mut self.out)?;
                    self.describe_columns(st.columns.as_deref(), |_| Format::Text)?;
                }
                Target::Portal => {
                    let Some(p) = s.portals.get(d.name) else {
                        return self.extended_error(unknown_portal(d.name));
                    };
                    let columns = p.statement.columns.clone();
                    let formats: Vec<Format> = (0..columns.as_ref().map_or(0, |c| c.len()))
                        .map(|i| p.result_format(i))
                        .collect();
                    self.describe_columns(columns.as_deref(), |i| {
                        formats.get(i).copied().unwrap_or(Format::Text)
                    })?;
                }
            },
            FrontendMessage::Execute(e) => {
                let Some(portal) = s.portals.get(e.portal) else {
                    return self.extended_error(unknown_portal(e.portal));
                };
                let columns = portal.columns().map_or(0, |c| c.len());
                s.current = Some(Current::Execute {
                    portal: e.portal.to_string(),
                    max_rows: e.max_rows,
                    rows: 0,
                    columns,
                });
                self.events.push_back(ServerEvent::Execute {
                    portal: e.portal.to_string(),
                    max_rows: e.max_rows,
                });
            }
            FrontendMessage::Close(c) => {
                match c.target {
                    Target::Statement => {
                        s.statements.remove(c.name);
                    }
                    Target::Portal => {
                        s.portals.remove(c.name);
                    }
                }
                CloseComplete.encode(&mut self.out)?;
            }
            FrontendMessage::Sync(_) => {
                s.discarding = false;
                if self.transaction_status == TransactionStatus::Idle {
                    // The implicit transaction ended: its portals are gone.
                    s.portals.clear();
                }
                self.send_ready_for_query()?;
            }
            FrontendMessage::Flush(_) => {
                self.flush_pending = true;
            }
            FrontendMessage::FunctionCall(f) => {
                let n = f.args.len();
                let args = f
                    .args
                    .iter()
                    .map(|a| a.map(|v| frame.body.slice_ref(v)))
                    .collect();
                let arg_formats = (0..n)
                    .map(|i| f.arg_format(i).unwrap_or(Format::Text))
                    .collect();
                s.current = Some(Current::FunctionCall);
                self.events.push_back(ServerEvent::FunctionCall {
                    function_oid: f.function_oid,
                    args,
                    arg_formats,
                    result_format: f.result_format,
                });
            }
            FrontendMessage::Terminate(_) => {
                self.close(Error::Closed);
                self.events.push_back(ServerEvent::Terminate);
            }
            other => {
                let e = violation("unexpected message type");
                let _ = self.fatal(e);
                return Err(ProtocolViolation::UnexpectedMessage {
                    phase: "query processing",
                    message: other.name(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// Answers a well-framed message whose body does not decode, as PostgreSQL does: an
    /// ERROR (22021 for invalid UTF-8, else 08P01), then ReadyForQuery for Query,
    /// FunctionCall and Sync, or skipping until Sync for the extended-protocol messages.
    fn malformed_message(&mut self, tag: u8, e: &crate::DecodeError) -> Result<(), Error> {
        if tag == b'X' {
            self.close(Error::Closed);
            self.events.push_back(ServerEvent::Terminate);
            return Ok(());
        }
        let error = match e {
            crate::DecodeError::InvalidUtf8 { .. } => DbError::new(
                Severity::Error,
                SqlState::CharacterNotInRepertoire,
                "invalid byte sequence for encoding \"UTF8\"",
            ),
            _ => DbError::new(
                Severity::Error,
                SqlState::ProtocolViolation,
                format!("invalid message format: {e}"),
            ),
        };
        error.encode_error(&mut self.out)?;
        if self.transaction_status == TransactionStatus::InTransaction {
            self.transaction_status = TransactionStatus::Failed;
        }
        let recovery = RequestKind::from_tag(tag).map(RequestKind::error_recovery);
        let s = ready(&mut self.state)?;
        match recovery {
            Some(ErrorRecovery::ReadyForQuery) => {
                s.discarding = false;
                self.send_ready_for_query()
            }
            Some(ErrorRecovery::DiscardUntilSync) | None => {
                self.discard_until_sync();
                self.flush_pending = true;
                Ok(())
            }
        }
    }

    fn describe_columns(
        &mut self,
        columns: Option<&[Column]>,
        format: impl Fn(usize) -> Format,
    ) -> Result<(), Error> {
        match columns {
            Some(cols) if !cols.is_empty() => {
                let fields: Vec<_> = cols
                    .iter()
                    .enumerate()
                    .map(|(i, c)| c.as_field(format(i)))
                    .collect();
                RowDescription {
                    fields: List::new(&fields),
                }
                .encode(&mut self.out)?;
            }
            _ => NoData.encode(&mut self.out)?,
        }
        Ok(())
    }

    fn process_copy_in(&mut self, msg: FrontendMessage<'_>) -> Result<(), Error> {
        let s = ready(&mut self.state)?;
        match msg {
            FrontendMessage::CopyData(d) => {
                self.events
                    .push_back(ServerEvent::CopyData(Bytes::copy_from_slice(d.data)));
            }
            FrontendMessage::CopyDone(_) => {
                s.copy = Copy::None;
                self.events.push_back(ServerEvent::CopyDone);
            }
            FrontendMessage::CopyFail(f) => {
                s.copy = Copy::None;
                self.events
                    .push_back(ServerEvent::CopyFail(f.message.to_string()));
            }
            // Tolerated in COPY-in mode, as PostgreSQL does.
            FrontendMessage::Flush(_) | FrontendMessage::Sync(_) => {}
            FrontendMessage::Terminate(_) => {
                self.close(Error::Closed);
                self.events.push_back(ServerEvent::Terminate);
            }
            other => {
                let e = DbError::new(
                    Severity::Fatal,
                    SqlState::ProtocolViolation,
                    format!(
                        "unexpected message type 0x{:02X} during COPY from stdin",
                        other.tag().unwrap_or(0)
                    ),
                );
                return Err(self.fatal(e));
            }
        }
        Ok(())
    }

    fn send_ready_for_query(&mut self) -> Result<(), Error> {
        ReadyForQuery {
            status: self.transaction_status,
        }
        .encode(&mut self.out)?;
        self.flush_pending = true;
        Ok(())
    }
}

fn unknown_statement(name: &str) -> DbError {
    let message = if name.is_empty() {
        "unnamed prepared statement does not exist".to_string()
    } else {
        format!("prepared statement \"{name}\" does not exist")
    };
    DbError::new(Severity::Error, SqlState::InvalidSqlStatementName, message)
}

fn unknown_portal(name: &str) -> DbError {
    DbError::new(
        Severity::Error,
        SqlState::InvalidCursorName,
        format!("portal \"{name}\" does not exist"),
    )
}

/// Commands: answering messages.
impl Server {
    fn ready_phase(&self) -> Result<(), Error> {
        self.expect_phase(ServerPhase::Ready)
    }

    /// The Ready phase's session, if the connection is ready.
    fn session(&self) -> Option<&Session> {
        match &self.state {
            State::Ready(session) => Some(session),
            _ => None,
        }
    }

    fn out_of_turn(answer: &'static str, answers: &'static str) -> Error {
        UsageError::AnswerOutOfTurn { answer, answers }.into()
    }

    /// Answers Parse: the statement's resolved parameter types and its result columns
    /// (`None`: it returns no rows).
    pub fn parse_complete(
        &mut self,
        param_types: &[u32],
        columns: Option<Vec<Column>>,
    ) -> Result<(), Error> {
        let s = ready(&mut self.state)?;
        let Some(Current::Parse { statement, query }) = s.current.clone() else {
            return Err(Self::out_of_turn("parse_complete", "a Parse"));
        };
        ParseComplete.encode(&mut self.out)?;
        let st = Statement {
            name: statement.clone(),
            query,
            param_types: param_types.to_vec(),
            columns: columns.map(Arc::from),
        };
        s.statements.insert(statement, Arc::new(st));
        s.current = None;
        Ok(())
    }

    /// Answers Bind.
    pub fn bind_complete(&mut self) -> Result<(), Error> {
        let s = ready(&mut self.state)?;
        if !matches!(s.current, Some(Current::Bind { .. })) {
            return Err(Self::out_of_turn("bind_complete", "a Bind"));
        }
        BindComplete.encode(&mut self.out)?;
        s.current = None;
        Ok(())
    }

    /// Starts a result set in a simple query (the extended protocol describes results
    /// through the statement instead). Values of a simple query are in text format.
    pub fn row_description(&mut self, columns: &[Column]) -> Result<(), Error> {
        let s = ready(&mut self.state)?;
        let Some(Current::Query { columns: described }) = &mut s.current else {
            return Err(Self::out_of_turn("row_description", "a simple Query"));
        };
        if described.is_some() || s.copy != Copy::None {
            return Err(UsageError::ResultSetOpen.into());
        }
        *described = Some(columns.len());
        let fields: Vec<_> = columns.iter().map(|c| c.as_field(Format::Text)).collect();
        RowDescription {
            fields: List::new(&fields),
        }
        .encode(&mut self.out)?;
        Ok(())
    }

    /// Sends one row: after `row_description` in a simple query, or while executing a
    /// portal that returns rows (values in the portal's result formats). The number of
    /// values must match the columns, and an Execute row limit must not be exceeded.
    #[inline]
    pub fn data_row(&mut self, values: &[Option<&[u8]>]) -> Result<(), Error> {
        let State::Ready(s) = &mut self.state else {
            return Err(Self::out_of_turn("data_row", "an open result set"));
        };
        let expected = match &mut s.current {
            Some(Current::Query {
                columns: Some(n), ..
            }) if s.copy == Copy::None => *n,
            Some(Current::Execute {
                max_rows,
                rows,
                columns,
                ..
            }) if s.copy == Copy::None && *columns > 0 => {
                if *max_rows > 0 && *rows >= u64::from(max_rows.unsigned_abs()) {
                    return Err(UsageError::RowLimitReached.into());
                }
                *rows += 1;
                *columns
            }
            _ => return Err(Self::out_of_turn("data_row", "an open result set")),
        };
        if values.len() != expected {
            return Err(UsageError::RowWidth {
                expected,
                given: values.len(),
            }
            .into());
        }
        DataRow {
            values: List::new(values),
        }
        .encode(&mut self.out)?;
        Ok(())
    }

    /// Ends one statement of a simple query, or an Execute, with its command tag
    /// (`SELECT 3`, `INSERT 0 1`, ...).
    pub fn command_complete(&mut self, tag: &str) -> Result<(), Error> {
        let s = ready(&mut self.state)?;
        if s.copy != Copy::None {
            return Err(UsageError::CopyOpen.into());
        }
        match &mut s.current {
            Some(Current::Query { columns }) => {
                *columns = None;
                CommandComplete { tag }.encode(&mut self.out)?;
            }
            Some(Current::Execute { portal, rows, .. }) => {
                let (portal, rows) = (portal.clone(), *rows);
                if let Some(p) = s.portals.get_mut(&portal) {
                    p.rows_sent += rows;
                }
                CommandComplete { tag }.encode(&mut self.out)?;
                s.current = None;
            }
            _ => return Err(Self::out_of_turn("command_complete", "a Query or Execute")),
        }
        Ok(())
    }

    /// Answers an empty query string (instead of `command_complete`).
    pub fn empty_query(&mut self) -> Result<(), Error> {
        let s = ready(&mut self.state)?;
        match &s.current {
            Some(Current::Query { columns: None }) => {
                EmptyQueryResponse.encode(&mut self.out)?;
            }
            Some(Current::Execute { rows: 0, .. }) => {
                EmptyQueryResponse.encode(&mut self.out)?;
                s.current = None;
            }
            _ => return Err(Self::out_of_turn("empty_query", "a Query or Execute")),
        }
        Ok(())
    }

    /// Ends an Execute whose row limit was reached; the portal stays open for the next
    /// Execute.
    pub fn portal_suspended(&mut self) -> Result<(), Error> {
        let s = ready(&mut self.state)?;
        let Some(Current::Execute {
            portal,
            max_rows,
            rows,
            ..
        }) = &s.current
        else {
            return Err(Self::out_of_turn("portal_suspended", "an Execute"));
        };
        if *max_rows <= 0 || *rows < u64::from(max_rows.unsigned_abs()) {
            return Err(UsageError::PortalNotLimited.into());
        }
        let (portal, rows) = (portal.clone(), *rows);
        if let Some(p) = s.portals.get_mut(&portal) {
            p.rows_sent += rows;
        }
        PortalSuspended.encode(&mut self.out)?;
        s.current = None;
        Ok(())
    }

    /// Answers the current message with an error. A simple query or FunctionCall then
    /// ends (ReadyForQuery is sent); in the extended protocol the core discards what
    /// follows until Sync. Inside a transaction block the status becomes failed.
    pub fn error(&mut self, error: &DbError) -> Result<(), Error> {
        let s = ready(&mut self.state)?;
        let Some(current) = s.current.take() else {
            return Err(Self::out_of_turn("error", "a message"));
        };
        error.encode_error(&mut self.out)?;
        s.copy = Copy::None;
        if self.transaction_status == TransactionStatus::InTransaction {
            self.transaction_status = TransactionStatus::Failed;
        }
        match current.kind().error_recovery() {
            ErrorRecovery::ReadyForQuery => self.send_ready_for_query()?,
            ErrorRecovery::DiscardUntilSync => self.discard_until_sync(),
        }
        if error.is_fatal() {
            self.close(Error::Server(Box::new(error.clone())));
        }
        Ok(())
    }

    /// Ends a simple query: sends ReadyForQuery with the current transaction status.
    pub fn ready_for_query(&mut self) -> Result<(), Error> {
        let s = ready(&mut self.state)?;
        match &s.current {
            Some(Current::Query { columns: None }) if s.copy == Copy::None => {}
            _ => {
                return Err(Self::out_of_turn(
                    "ready_for_query",
                    "a simple Query whose statements are complete",
                ))
            }
        }
        s.current = None;
        self.send_ready_for_query()
    }

    /// Starts COPY FROM STDIN for the current statement: CopyData, CopyDone or CopyFail
    /// events follow; answer with `command_complete` (or `error`).
    pub fn copy_in_response(
        &mut self,
        format: Format,
        column_formats: &[Format],
    ) -> Result<(), Error> {
        self.start_copy(Copy::In)?;
        CopyInResponse {
            format,
            column_formats: List::new(column_formats),
        }
        .encode(&mut self.out)?;
        self.flush_pending = true;
        Ok(())
    }

    /// Starts COPY TO STDOUT for the current statement: send `copy_data`, then
    /// `copy_done`, then `command_complete`.
    pub fn copy_out_response(
        &mut self,
        format: Format,
        column_formats: &[Format],
    ) -> Result<(), Error> {
        self.start_copy(Copy::Out)?;
        CopyOutResponse {
            format,
            column_formats: List::new(column_formats),
        }
        .encode(&mut self.out)?;
        Ok(())
    }

    fn start_copy(&mut self, copy: Copy) -> Result<(), Error> {
        let s = ready(&mut self.state)?;
        match &s.current {
            Some(Current::Query { columns: None }) | Some(Current::Execute { rows: 0, .. })
                if s.copy == Copy::None =>
            {
                s.copy = copy;
                Ok(())
            }
            _ => Err(Self::out_of_turn("a COPY response", "a Query or Execute")),
        }
    }

    /// Sends COPY TO STDOUT data.
    pub fn copy_data(&mut self, data: &[u8]) -> Result<(), Error> {
        let s = ready(&mut self.state)?;
        if s.copy != Copy::Out {
            return Err(UsageError::NotCopying.into());
        }
        CopyData { data }.encode(&mut self.out)?;
        Ok(())
    }

    /// Ends COPY TO STDOUT data.
    pub fn copy_done(&mut self) -> Result<(), Error> {
        let s = ready(&mut self.state)?;
        if s.copy != Copy::Out {
            return Err(UsageError::NotCopying.into());
        }
        CopyDone.encode(&mut self.out)?;
        s.copy = Copy::None;
        Ok(())
    }

    /// Answers a FunctionCall (then ReadyForQuery is sent).
    pub fn function_call_response(&mut self, value: Option<&[u8]>) -> Result<(), Error> {
        let s = ready(&mut self.state)?;
        if s.current != Some(Current::FunctionCall) {
            return Err(Self::out_of_turn(
                "function_call_response",
                "a FunctionCall",
            ));
        }
        FunctionCallResponse { value }.encode(&mut self.out)?;
        s.current = None;
        self.send_ready_for_query()
    }

    /// Sets the transaction status the next ReadyForQuery reports (the application runs
    /// BEGIN/COMMIT, so it knows).
    pub fn set_transaction_status(&mut self, status: TransactionStatus) {
        self.transaction_status = status;
    }

    /// Sends a NoticeResponse (allowed whenever the connection is ready).
    pub fn notice(&mut self, notice: &DbError) -> Result<(), Error> {
        self.ready_phase()?;
        notice.encode_notice(&mut self.out)?;
        Ok(())
    }

    /// Sends a NotificationResponse.
    pub fn notification(
        &mut self,
        process_id: i32,
        channel: &str,
        payload: &str,
    ) -> Result<(), Error> {
        self.ready_phase()?;
        NotificationResponse {
            process_id,
            channel,
            payload,
        }
        .encode(&mut self.out)?;
        if self.session().is_some_and(|s| s.current.is_none()) {
            self.flush_pending = true;
        }
        Ok(())
    }

    /// Sends a ParameterStatus (a run-time parameter changed).
    pub fn parameter_status(&mut self, name: &str, value: &str) -> Result<(), Error> {
        self.ready_phase()?;
        ParameterStatus { name, value }.encode(&mut self.out)?;
        Ok(())
    }

    // ------------------------------------------------------------------ getters

    /// The current phase.
    pub fn phase(&self) -> ServerPhase {
        self.state.phase()
    }

    /// The authenticated (or authenticating) user.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The protocol version in use.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.protocol_version
    }

    /// Whether the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The transaction status the next ReadyForQuery reports.
    pub fn transaction_status(&self) -> TransactionStatus {
        self.transaction_status
    }

    /// A prepared statement.
    pub fn statement(&self, name: &str) -> Option<&Arc<Statement>> {
        self.session()?.statements.get(name)
    }

    /// A portal.
    pub fn portal(&self, name: &str) -> Option<&Portal> {
        self.session()?.portals.get(name)
    }

    /// The flag a CancelRequest for this session raises. Adapters register it (with the
    /// session's key) where cancel requests are routed; the application checks
    /// [`Server::take_cancel_request`] while answering a long query.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }

    /// Whether a cancel request arrived since the last call (and clears it). An
    /// application that honours it answers the current query with SQLSTATE 57014
    /// `canceling statement due to user request`, as PostgreSQL does.
    pub fn take_cancel_request(&self) -> bool {
        self.cancel.swap(false, Ordering::AcqRel)
    }

    /// Whether the application owes an answer to a message.
    pub fn is_busy(&self) -> bool {
        self.session().is_some_and(|s| s.current.is_some())
    }

    /// Whether a COPY FROM STDIN is receiving data.
    pub fn is_copy_in(&self) -> bool {
        self.session().is_some_and(|s| s.copy == Copy::In)
    }

    /// The error that ended the connection, if any.
    pub fn error_state(&self) -> Option<&Error> {
        match &self.state {
            State::Closed(e) => Some(e),
            _ => None,
        }
    }
}
