//! The client role: a connection state machine the caller drives with bytes.
//!
//! # Theory of operation
//!
//! A [`Client`] starts by queueing either an SSLRequest or a StartupMessage. The caller
//! loops:
//!
//! 1. send whatever [`Client::poll_transmit`] returns;
//! 2. feed received bytes to [`Client::handle_input`] (or EOF to [`Client::handle_eof`]);
//! 3. drain [`Client::poll_event`] until it returns `Ok(None)`.
//!
//! When an [`Event::StartTls`] comes out, the caller performs the TLS handshake on the
//! same socket and calls [`Client::handle_tls_established`] with the
//! `tls-server-end-point` channel-binding data. After [`Event::Ready`] the connection
//! accepts commands; each returns a [`RequestId`], and every response the server sends is
//! routed to its request as an [`Event::Response`]. Requests may be pipelined freely:
//! after an error in the extended protocol, the requests up to the next Sync are reported
//! as [`Response::Skipped`], because the server discards them.
//!
//! Pipelining never breaks a COPY: while a COPY FROM STDIN is open, or a request that
//! may open one (its SQL mentions `copy`) is unanswered, later requests wait inside the
//! client and go out, in order, once that request is complete and no COPY is open. So
//! callers that share one connection (tasks of an async adapter) need no lock around a
//! COPY. A Sync right behind an Execute goes out at once (the server would hold the
//! Execute's answer without it); if that Execute opens COPY FROM STDIN, PostgreSQL
//! ignores the Sync, and the client sends another after CopyDone, CopyFail or the error
//! that ends the COPY, as libpq does.
//!
//! | phase | input | next phase |
//! |---|---|---|
//! | `SslResponse` | `S` (and nothing after it) | `TlsHandshake` (event `StartTls`) |
//! | `SslResponse` | `N` | `Authenticating` (StartupMessage sent), or error if TLS is required |
//! | `TlsHandshake` | `handle_tls_established` | `Authenticating` (StartupMessage sent) |
//! | `Authenticating` | Authentication requests | `Authenticating` (responses sent) |
//! | `Authenticating` | AuthenticationOk | `AwaitingReady` |
//! | `AwaitingReady` | BackendKeyData, ParameterStatus | `AwaitingReady` |
//! | `AwaitingReady` | ReadyForQuery | `Ready` (event `Ready`) |
//! | `Ready` | responses | `Ready` (routed to requests) |
//! | any | ErrorResponse during startup, malformed input, EOF | failed (poisoned) |
//! | any | `terminate()` | `Closed` |
//!
//! # Example
//!
//! A client and a scripted server in memory:
//!
//! ```
//! use pgproto_core::client::{Client, Config, Event, Response, SslMode};
//! let mut config = Config::new("alice");
//! config.ssl_mode = SslMode::Disable;
//! let mut client = Client::new(config, &[7; 24]);
//! let startup = client.poll_transmit().unwrap();
//! assert_eq!(&startup[4..8], &[0, 3, 0, 2]); // protocol 3.2 requested
//!
//! // The server: AuthenticationOk, ReadyForQuery(idle).
//! client.handle_input(b"R\0\0\0\x08\0\0\0\0Z\0\0\0\x05I");
//! assert!(matches!(client.poll_event(), Ok(Some(Event::Authenticated))));
//! assert!(matches!(client.poll_event(), Ok(Some(Event::Ready))));
//!
//! let request = client.query("select 1").unwrap();
//! client.handle_input(b"C\0\0\0\x0dSELECT 1\0Z\0\0\0\x05I");
//! match client.poll_event().unwrap() {
//!     Some(Event::Response { request: r, response: Response::CommandComplete(tag), .. }) => {
//!         assert_eq!((r, tag.as_str()), (request, "SELECT 1"));
//!     }
//!     other => panic!("{other:?}"),
//! }
//! ```

mod async_messages;
mod config;
mod connect;
mod conninfo;
mod copy_hold;
mod copy_outcome;
mod response;
mod result;
mod router;
mod session;
mod statement;
mod transaction;

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};

pub use crate::auth::scram::ChannelBindingPolicy;
pub use crate::column::Column;
pub use async_messages::{AsyncMessages, DEFAULT_ASYNC_MESSAGE_CAPACITY};
pub use config::{AuthMethod, Config, RequireAuth, SslMode, SslNegotiation};
pub use connect::{unix_socket_path, ConnectTarget, StartupStep};
pub use conninfo::{ConnInfo, ConnInfoError, DEFAULT_PORT};
pub use copy_outcome::{CopyDirection, CopyEnd, CopyStart, CopyStartProgress};
pub use response::{
    CommandTag, CopyFormat, DataRowBody, Notification, Response, RowDescriptionBody,
};
pub use result::{
    exactly_one, ColumnIndex, FunctionCallResult, ResultCollector, ResultSet, Row, StreamedRows,
};
pub use router::Router;
pub use statement::{result_format, EncodedParams, PortalBatches, Statement};
pub use transaction::{
    transaction_statements, IsolationLevel, TransactionOptions, TransactionStatements,
};

use crate::auth::scram::{ChannelBinding, ScramClient};
use crate::auth::{md5, AuthError};
use crate::cancel::CancelToken;
pub(crate) use crate::cycle::RequestKind;
use crate::db_error::DbError;
use crate::error::{Error, ProtocolViolation, UsageError};
use crate::message::{
    Authentication, BackendMessage, Bind, Close, CopyData, CopyDone, CopyFail, Describe, Execute,
    Flush, FunctionCall, List, Oid, Parse, PasswordMessage, ProtocolVersion, Query,
    SaslInitialResponse, SaslResponse, SslRequest, StartupMessage, Sync, Target, Terminate,
    TransactionStatus,
};
use crate::wire::{Direction, Frame, Framer};
use copy_hold::Outgoing;
use session::{CopyState, Requests, Session};

/// Identifies one request (a Query, or one extended-protocol message that gets an answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// The connection's phase, as reported by [`Client::phase`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// SSLRequest sent; waiting for the server's one-byte answer.
    SslResponse,
    /// The caller must perform the TLS handshake.
    TlsHandshake,
    /// StartupMessage sent; authentication in progress.
    Authenticating,
    /// Authenticated; waiting for the first ReadyForQuery.
    AwaitingReady,
    /// Ready for commands.
    Ready,
    /// Terminated or failed.
    Closed,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Self::SslResponse => "SSL negotiation",
            Self::TlsHandshake => "TLS handshake",
            Self::Authenticating => "authentication",
            Self::AwaitingReady => "startup",
            Self::Ready => "query processing",
            Self::Closed => "closed connection",
        }
    }
}

/// What the connection reports, in order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The server agreed to TLS: perform the handshake now (send nothing else), then call
    /// [`Client::handle_tls_established`].
    StartTls,
    /// The server supports an older protocol minor version, or rejected `_pq_` options;
    /// the connection continues with `version`.
    ProtocolNegotiated {
        /// The protocol version in use from now on.
        version: ProtocolVersion,
        /// Protocol options the server did not recognise.
        unsupported_options: Vec<String>,
    },
    /// Authentication succeeded.
    Authenticated,
    /// Startup is complete: the connection accepts commands.
    Ready,
    /// A run-time parameter changed (also sent during startup).
    ParameterStatus {
        /// Parameter name.
        name: String,
        /// New value.
        value: String,
    },
    /// A notice (warning or information) from the server.
    Notice(Box<DbError>),
    /// A NOTIFY on a channel this session listens to.
    Notification(Notification),
    /// A response to a request.
    Response {
        /// The request it answers.
        request: RequestId,
        /// The response.
        response: Response,
        /// Whether this is the request's last response.
        complete: bool,
    },
}

/// The authentication exchange, the data of the authenticating phase.
enum AuthExchange {
    /// Nothing asked yet.
    Initial,
    /// A cleartext or MD5 password was sent.
    PasswordSent,
    /// SCRAM in progress.
    Scram(ScramClient),
    /// SCRAM's server signature verified.
    ScramDone,
}

/// The connection's state: each phase owns the data valid in it, and a closed connection
/// keeps the error that closed it. Only [`Client::enter`] and [`Client::fail`] write it.
enum State {
    SslResponse,
    TlsHandshake,
    Authenticating(AuthExchange),
    AwaitingReady,
    Ready(Session),
    Closed(Error),
}

impl State {
    fn phase(&self) -> Phase {
        match self {
            Self::SslResponse => Phase::SslResponse,
            Self::TlsHandshake => Phase::TlsHandshake,
            Self::Authenticating(_) => Phase::Authenticating,
            Self::AwaitingReady => Phase::AwaitingReady,
            Self::Ready(_) => Phase::Ready,
            Self::Closed(_) => Phase::Closed,
        }
    }
}

/// A client connection (sans-IO). See the [module documentation](self).
pub struct Client {
    config: Config,
    framer: Framer,
    pub(crate) out: BytesMut,
    state: State,
    auth_method: Option<AuthMethod>,
    scram_plus: bool,
    nonce: Vec<u8>,
    tls: bool,
    channel_binding: Option<Vec<u8>>,
    events: VecDeque<Event>,
    transaction_status: TransactionStatus,
    server_parameters: BTreeMap<String, String>,
    cancel_token: Option<CancelToken>,
    protocol_version: ProtocolVersion,
    /// When connecting must be over, in the caller's time; armed by the first
    /// [`Client::handle_timeout`].
    connect_deadline: Option<core::time::Duration>,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("phase", &self.phase())
            .field("pending", &self.pending_requests())
            .field("transaction_status", &self.transaction_status)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A new connection. `nonce` is fresh random bytes from the caller (at least 18; used
    /// for the SCRAM client nonce).
    ///
    /// The first bytes to send (SSLRequest or StartupMessage) are queued at once, except
    /// with [`SslNegotiation::Direct`], where the caller starts TLS first and then calls
    /// [`Client::handle_tls_established`].
    pub fn new(config: Config, nonce: &[u8]) -> Self {
        let framer = Framer::new(Direction::Backend, config.limits);
        let mut client = Self {
            framer,
            out: BytesMut::with_capacity(256),
            state: State::Authenticating(AuthExchange::Initial),
            auth_method: None,
            scram_plus: false,
            nonce: nonce.to_vec(),
            tls: false,
            channel_binding: None,
            events: VecDeque::new(),
            transaction_status: TransactionStatus::Idle,
            server_parameters: BTreeMap::new(),
            cancel_token: None,
            protocol_version: config.max_protocol_version,
            connect_deadline: None,
            config,
        };
        if client.config.ssl_mode.requests_tls() {
            match client.config.ssl_negotiation {
                crate::client::SslNegotiation::Direct => client.enter(State::TlsHandshake),
                crate::client::SslNegotiation::Postgres => {
                    client.enter(State::SslResponse);
                    // SSLRequest has no variable part: encoding cannot fail.
                    let _ = SslRequest.encode(&mut client.out);
                }
            }
        } else if let Err(e) = client.send_startup() {
            client.fail(e);
        }
        client
    }

    /// Moves to the next state: the one place that changes the phase (with [`Client::fail`]).
    fn enter(&mut self, next: State) {
        self.state = next;
    }

    /// Closes the connection for good with `error`, unless it is closed already (the
    /// first error is the one every later call returns). Returns the stored error.
    fn fail(&mut self, error: Error) -> Error {
        if let State::Closed(first) = &self.state {
            return first.clone();
        }
        self.events.clear();
        self.enter(State::Closed(error.clone()));
        error
    }

    /// Tells the connection the time: `now` is the caller's monotonic clock, as a
    /// [`Duration`](core::time::Duration) since any fixed epoch. Call it before opening
    /// the socket (that starts [`Config::connect_timeout`]'s clock) and again whenever
    /// [`Client::poll_timeout`]'s deadline has passed. When the connection is not ready
    /// by then, it fails with [`Error::TimedOut`]: close the socket and try the next
    /// host.
    ///
    /// ```
    /// use core::time::Duration;
    /// use pgproto_core::client::{Client, Config, SslMode};
    /// let mut config = Config::new("alice");
    /// config.ssl_mode = SslMode::Disable;
    /// config.connect_timeout = Some(Duration::from_secs(5));
    /// let mut client = Client::new(config, b"a fresh random nonce..");
    /// client.handle_timeout(Duration::from_secs(100));
    /// assert_eq!(client.poll_timeout(), Some(Duration::from_secs(105)));
    /// client.handle_timeout(Duration::from_secs(105));
    /// assert!(client.poll_event().is_err());
    /// assert_eq!(client.poll_timeout(), None);
    /// ```
    pub fn handle_timeout(&mut self, now: core::time::Duration) {
        if matches!(self.state, State::Ready(_) | State::Closed(_)) {
            return;
        }
        let Some(limit) = self.config.connect_timeout else {
            return;
        };
        match self.connect_deadline {
            None => self.connect_deadline = Some(now.saturating_add(limit)),
            Some(deadline) if now >= deadline => {
                self.fail(Error::TimedOut(crate::error::Timeout::Connect));
            }
            Some(_) => {}
        }
    }

    /// When [`Client::handle_timeout`] must be called next (in the caller's time), if a
    /// deadline is running: until the connection is ready.
    pub fn poll_timeout(&self) -> Option<core::time::Duration> {
        match self.state {
            State::Ready(_) | State::Closed(_) => None,
            _ => self.connect_deadline,
        }
    }

    fn send_startup(&mut self) -> Result<(), Error> {
        let params = self.config.startup_parameters();
        StartupMessage {
            protocol_version: self.config.max_protocol_version,
            parameters: List::new(&params),
        }
        .encode(&mut self.out)?;
        self.enter(State::Authenticating(AuthExchange::Initial));
        Ok(())
    }

    // ------------------------------------------------------------------ inputs

    /// Feeds bytes received from the server.
    pub fn handle_input(&mut self, data: &[u8]) {
        self.framer.push(data);
    }

    /// The input buffer, for reading from a socket straight into it (append only).
    pub fn input_buffer(&mut self) -> &mut BytesMut {
        self.framer.buffer_mut()
    }

    /// Reports that the server closed the connection.
    pub fn handle_eof(&mut self) {
        if !matches!(self.state, State::Closed(_)) {
            // Events already produced stay deliverable before the error.
            let events = core::mem::take(&mut self.events);
            self.fail(Error::Closed);
            self.events = events;
        }
    }

    /// Reports that the TLS handshake the core asked for ([`Event::StartTls`], or direct
    /// TLS) completed. `channel_binding` is the `tls-server-end-point` hash of the server
    /// certificate, when known; it enables SCRAM-SHA-256-PLUS.
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
        self.send_startup()
    }

    // ------------------------------------------------------------------ outputs

    /// Bytes to send to the server, if any.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        if self.out.is_empty() {
            None
        } else {
            Some(self.out.split().freeze())
        }
    }

    /// Appends the bytes to send to `buf` (for adapters that keep their own write
    /// buffer). Returns how many bytes were appended.
    pub fn transmit_into(&mut self, buf: &mut BytesMut) -> usize {
        let n = self.out.len();
        if buf.is_empty() {
            core::mem::swap(buf, &mut self.out);
        } else {
            buf.extend_from_slice(&self.out);
            self.out.clear();
        }
        n
    }

    /// The next event, or `Ok(None)` when more input is needed. A fatal error poisons the
    /// connection: it is returned again by every later call.
    pub fn poll_event(&mut self) -> Result<Option<Event>, Error> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Ok(Some(event));
            }
            self.check_poisoned()?;
            match self.step() {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                // What the failing message queued (a FATAL ErrorResponse routed to its
                // request, the requests skipped after it) is not reported: the error is,
                // once here and again by every later call.
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    fn check_poisoned(&self) -> Result<(), Error> {
        match &self.state {
            State::Closed(e) => Err(e.clone()),
            _ => Ok(()),
        }
    }

    /// Processes one unit of input. `Ok(false)` when none is buffered.
    fn step(&mut self) -> Result<bool, Error> {
        match self.state {
            State::SslResponse => {
                let Some(byte) = self.framer.next_byte() else {
                    return Ok(false);
                };
                match byte {
                    b'S' => {
                        if self.framer.buffered_len() > 0 {
                            return Err(ProtocolViolation::DataAfterSslResponse.into());
                        }
                        self.enter(State::TlsHandshake);
                        self.events.push_back(Event::StartTls);
                    }
                    b'N' => {
                        if self.config.ssl_mode.requires_tls() {
                            return Err(ProtocolViolation::TlsRequired.into());
                        }
                        self.send_startup()?;
                    }
                    b'E' => {
                        // A server too old for SSLRequest answers with an ErrorResponse;
                        // its error must not be shown (CVE-2024-10977).
                        return Err(ProtocolViolation::InvalidSslResponse(byte).into());
                    }
                    other => return Err(ProtocolViolation::InvalidSslResponse(other).into()),
                }
                Ok(true)
            }
            State::TlsHandshake | State::Closed(_) => Ok(false),
            _ => {
                let Some(frame) = self.framer.next_frame()? else {
                    return Ok(false);
                };
                self.process(frame)?;
                Ok(true)
            }
        }
    }

    fn process(&mut self, frame: Frame<Bytes>) -> Result<(), Error> {
        let Some(tag) = frame.tag else {
            return Err(ProtocolViolation::UnexpectedMessage {
                phase: self.phase().name(),
                message: "untagged packet",
            }
            .into());
        };
        let msg = BackendMessage::decode(tag, &frame.body)?;
        match msg {
            BackendMessage::NoticeResponse(n) => {
                self.events
                    .push_back(Event::Notice(Box::new(DbError::from_fields(&n.fields))));
                return Ok(());
            }
            BackendMessage::NotificationResponse(n) => {
                self.events.push_back(Event::Notification(Notification {
                    process_id: n.process_id,
                    channel: n.channel.to_string(),
                    payload: n.payload.to_string(),
                }));
                return Ok(());
            }
            BackendMessage::ParameterStatus(p) => {
                self.server_parameters
                    .insert(p.name.to_string(), p.value.to_string());
                self.events.push_back(Event::ParameterStatus {
                    name: p.name.to_string(),
                    value: p.value.to_string(),
                });
                return Ok(());
            }
            _ => {}
        }
        if let State::Ready(session) = &mut self.state {
            let mut requests = Requests {
                session,
                events: &mut self.events,
                out: &mut self.out,
                transaction_status: &mut self.transaction_status,
            };
            // The bulk of a result, DataRow and CopyData, is the frame's body handed
            // over as is (no second reference count to take and drop per row).
            let row = match msg {
                BackendMessage::DataRow(_) => Some(true),
                BackendMessage::CopyData(_) => Some(false),
                _ => None,
            };
            if let Some(id) = row.and_then(|is_row| requests.row_destination(is_row)) {
                let response = if row == Some(true) {
                    Response::DataRow(DataRowBody::new(frame.body))
                } else {
                    Response::CopyData(frame.body)
                };
                requests.respond(id, response, false);
                return Ok(());
            }
            let body = frame.body.clone();
            requests.process_response(msg, body)?;
            if requests.session.hold.has_held() {
                let copy_in = requests.session.is_copy_in();
                let Session { hold, pending, .. } = &mut *requests.session;
                hold.release(requests.out, copy_in, pending);
            }
            return Ok(());
        }
        // Startup: the state is taken, and the next one entered, here.
        let next = match core::mem::replace(&mut self.state, State::AwaitingReady) {
            State::Authenticating(exchange) => self.process_authentication(msg, exchange)?,
            State::AwaitingReady => self.process_startup_end(msg)?,
            other => {
                self.enter(other);
                return Err(self.unexpected(msg.name()));
            }
        };
        self.enter(next);
        Ok(())
    }

    fn unexpected(&self, message: &'static str) -> Error {
        unexpected_in(self.phase(), message)
    }

    fn allow_method(&mut self, method: AuthMethod) -> Result<(), Error> {
        if let Some(policy) = &self.config.require_auth {
            if !policy.allows(method) {
                return Err(AuthError::MethodNotAllowed(method.name()).into());
            }
        }
        if method != AuthMethod::ScramSha256
            && self.config.channel_binding == ChannelBindingPolicy::Require
        {
            return Err(AuthError::ChannelBindingRequired.into());
        }
        self.auth_method = Some(method);
        Ok(())
    }

    fn password(&self) -> Result<&[u8], Error> {
        self.config
            .password
            .as_deref()
            .ok_or(Error::Auth(AuthError::PasswordRequired))
    }

    fn process_authentication(
        &mut self,
        msg: BackendMessage<'_>,
        exchange: AuthExchange,
    ) -> Result<State, Error> {
        match msg {
            BackendMessage::Authentication(auth) => self.process_auth_request(auth, exchange),
            BackendMessage::NegotiateProtocolVersion(n) => {
                if !matches!(exchange, AuthExchange::Initial) {
                    return Err(unexpected_in(
                        Phase::Authenticating,
                        "NegotiateProtocolVersion",
                    ));
                }
                let requested = self.config.max_protocol_version;
                let version = n.protocol_version(requested.major);
                if version > requested || version < self.config.min_protocol_version {
                    return Err(ProtocolViolation::UnsupportedProtocolVersion {
                        major: version.major,
                        minor: version.minor,
                    }
                    .into());
                }
                self.protocol_version = version;
                self.events.push_back(Event::ProtocolNegotiated {
                    version,
                    unsupported_options: n
                        .unrecognized_options
                        .iter()
                        .map(ToString::to_string)
                        .collect(),
                });
                Ok(State::Authenticating(exchange))
            }
            BackendMessage::ErrorResponse(e) => {
                Err(Error::Server(Box::new(DbError::from_fields(&e.fields))))
            }
            other => Err(unexpected_in(Phase::Authenticating, other.name())),
        }
    }

    fn process_auth_request(
        &mut self,
        auth: Authentication<'_>,
        exchange: AuthExchange,
    ) -> Result<State, Error> {
        match (auth, exchange) {
            (Authentication::Ok, AuthExchange::Initial) => {
                // The server asked for nothing: that is method "none".
                self.allow_method(AuthMethod::None)?;
                self.authenticated(&AuthExchange::Initial)
            }
            // In the middle of SCRAM, `authenticated` refuses it: the server skipped
            // SASLFinal, the proof that it knows the password.
            (Authentication::Ok, exchange) => self.authenticated(&exchange),
            (Authentication::CleartextPassword, AuthExchange::Initial) => {
                self.allow_method(AuthMethod::Password)?;
                let password = self.password()?.to_vec();
                PasswordMessage {
                    password: &password,
                }
                .encode(&mut self.out)?;
                Ok(State::Authenticating(AuthExchange::PasswordSent))
            }
            (Authentication::Md5Password { salt }, AuthExchange::Initial) => {
                self.allow_method(AuthMethod::Md5)?;
                let response =
                    md5::client_response(self.config.user.as_bytes(), self.password()?, salt);
                PasswordMessage {
                    password: response.as_bytes(),
                }
                .encode(&mut self.out)?;
                Ok(State::Authenticating(AuthExchange::PasswordSent))
            }
            (Authentication::Sasl { mechanisms }, AuthExchange::Initial) => {
                let binding = ChannelBinding::negotiate(
                    mechanisms.iter(),
                    self.tls,
                    self.channel_binding.as_deref(),
                    self.config.channel_binding,
                )?;
                let plus = matches!(binding, ChannelBinding::TlsServerEndPoint(_));
                if let Some(policy) = &self.config.require_auth {
                    if !policy.allows(AuthMethod::ScramSha256) {
                        return Err(AuthError::MethodNotAllowed("scram-sha-256").into());
                    }
                }
                self.auth_method = Some(AuthMethod::ScramSha256);
                let scram = ScramClient::new(self.password()?, binding, &self.nonce)?;
                SaslInitialResponse {
                    mechanism: scram.mechanism(),
                    data: Some(scram.client_first_message()),
                }
                .encode(&mut self.out)?;
                self.scram_plus = plus;
                Ok(State::Authenticating(AuthExchange::Scram(scram)))
            }
            (Authentication::SaslContinue { data }, AuthExchange::Scram(mut scram)) => {
                let reply = scram.handle_server_first(data)?;
                SaslResponse { data: &reply }.encode(&mut self.out)?;
                Ok(State::Authenticating(AuthExchange::Scram(scram)))
            }
            (Authentication::SaslFinal { data }, AuthExchange::Scram(mut scram)) => {
                scram.handle_server_final(data)?;
                Ok(State::Authenticating(AuthExchange::ScramDone))
            }
            (Authentication::Gss | Authentication::GssContinue { .. }, _) => {
                Err(AuthError::UnsupportedMethod("GSSAPI").into())
            }
            (Authentication::Sspi, _) => Err(AuthError::UnsupportedMethod("SSPI").into()),
            (Authentication::KerberosV5, _) => {
                Err(AuthError::UnsupportedMethod("Kerberos V5").into())
            }
            (other, _) => Err(ProtocolViolation::UnexpectedMessage {
                phase: "authentication",
                message: auth_name(&other),
            }
            .into()),
        }
    }

    fn authenticated(&mut self, exchange: &AuthExchange) -> Result<State, Error> {
        if matches!(exchange, AuthExchange::Scram(_)) {
            // AuthenticationOk before SASLFinal: the server skipped proving it knows the
            // password.
            return Err(AuthError::ServerSkippedVerification.into());
        }
        if self.config.channel_binding == ChannelBindingPolicy::Require && !self.scram_plus {
            return Err(AuthError::ChannelBindingRequired.into());
        }
        self.events.push_back(Event::Authenticated);
        Ok(State::AwaitingReady)
    }

    fn process_startup_end(&mut self, msg: BackendMessage<'_>) -> Result<State, Error> {
        match msg {
            BackendMessage::BackendKeyData(k) => {
                self.cancel_token = Some(CancelToken::new(k.process_id, k.secret_key.to_vec()));
                Ok(State::AwaitingReady)
            }
            BackendMessage::ReadyForQuery(r) => {
                self.transaction_status = r.status;
                self.events.push_back(Event::Ready);
                Ok(State::Ready(Session::new(0)))
            }
            BackendMessage::ErrorResponse(e) => {
                Err(Error::Server(Box::new(DbError::from_fields(&e.fields))))
            }
            other => Err(unexpected_in(Phase::AwaitingReady, other.name())),
        }
    }

    // ------------------------------------------------------------------ commands

    /// The ready phase's bookkeeping with the event queue and output, for a command; an
    /// error when the connection is not ready (or closed: its stored error).
    fn requests(&mut self) -> Result<Requests<'_>, Error> {
        match &mut self.state {
            State::Ready(session) => Ok(Requests {
                session,
                events: &mut self.events,
                out: &mut self.out,
                transaction_status: &mut self.transaction_status,
            }),
            State::Closed(e) => Err(e.clone()),
            _ => Err(UsageError::NotReady.into()),
        }
    }

    /// Sends a simple Query (one or more statements separated by semicolons).
    pub fn query(&mut self, sql: &str) -> Result<RequestId, Error> {
        let mut r = self.requests()?;
        if r.session.unsynced {
            return Err(UsageError::UnsyncedPipeline.into());
        }
        let candidate = copy_hold::may_open_copy(sql);
        r.send_request(candidate, false, |out| Query { query: sql }.encode(out))?;
        Ok(r.push_request(RequestKind::Query))
    }

    /// Sends Parse: prepares `sql` as statement `name` (empty: the unnamed statement).
    pub fn parse(
        &mut self,
        name: &str,
        sql: &str,
        param_types: &[Oid],
    ) -> Result<RequestId, Error> {
        let mut r = self.requests()?;
        r.send_request(false, false, |out| {
            Parse {
                statement: name,
                query: sql,
                param_types: List::new(param_types),
            }
            .encode(out)
        })?;
        r.session
            .hold
            .statement_parsed(name, copy_hold::may_open_copy(sql));
        Ok(r.push_request(RequestKind::Parse))
    }

    /// Sends Bind: creates a portal from a statement and parameter values.
    pub fn bind(&mut self, bind: &Bind<'_>) -> Result<RequestId, Error> {
        let mut r = self.requests()?;
        r.send_request(false, false, |out| bind.encode(out))?;
        r.session.hold.portal_bound(bind.portal, bind.statement);
        Ok(r.push_request(RequestKind::Bind))
    }

    /// Sends Describe for a prepared statement: the answer is a ParameterDescription and
    /// a RowDescription or NoData.
    pub fn describe_statement(&mut self, name: &str) -> Result<RequestId, Error> {
        let mut r = self.requests()?;
        r.send_request(false, false, |out| {
            Describe {
                target: Target::Statement,
                name,
            }
            .encode(out)
        })?;
        Ok(r.push_request(RequestKind::DescribeStatement))
    }

    /// Sends Describe for a portal: the answer is a RowDescription or NoData.
    pub fn describe_portal(&mut self, name: &str) -> Result<RequestId, Error> {
        let mut r = self.requests()?;
        r.send_request(false, false, |out| {
            Describe {
                target: Target::Portal,
                name,
            }
            .encode(out)
        })?;
        Ok(r.push_request(RequestKind::DescribePortal))
    }

    /// Sends Execute: runs a portal, returning at most `max_rows` rows (0: all).
    pub fn execute(&mut self, portal: &str, max_rows: i32) -> Result<RequestId, Error> {
        let mut r = self.requests()?;
        // The server discards an Execute after an error until Sync: it opens nothing.
        let candidate = !r.session.discarding && r.session.hold.portal_may_copy(portal);
        r.send_request(candidate, true, |out| {
            Execute { portal, max_rows }.encode(out)
        })?;
        Ok(r.push_request(RequestKind::Execute))
    }

    /// Sends Close for a prepared statement.
    pub fn close_statement(&mut self, name: &str) -> Result<RequestId, Error> {
        let mut r = self.requests()?;
        r.send_request(false, false, |out| {
            Close {
                target: Target::Statement,
                name,
            }
            .encode(out)
        })?;
        r.session.hold.closed(name, false);
        Ok(r.push_request(RequestKind::Close))
    }

    /// Sends Close for a portal.
    pub fn close_portal(&mut self, name: &str) -> Result<RequestId, Error> {
        let mut r = self.requests()?;
        r.send_request(false, false, |out| {
            Close {
                target: Target::Portal,
                name,
            }
            .encode(out)
        })?;
        r.session.hold.closed(name, true);
        Ok(r.push_request(RequestKind::Close))
    }

    /// Sends Sync: ends an extended-protocol batch. Its answer is ReadyForQuery.
    pub fn sync(&mut self) -> Result<RequestId, Error> {
        let mut r = self.requests()?;
        r.send(Outgoing::Sync, |out| Sync.encode(out))?;
        r.session.unsynced = false;
        r.session.discarding = false;
        Ok(r.push_request(RequestKind::Sync))
    }

    /// Sends Flush: asks the server to send what it has buffered.
    pub fn flush(&mut self) -> Result<(), Error> {
        let mut r = self.requests()?;
        r.send(Outgoing::Flush, |out| Flush.encode(out))?;
        Ok(())
    }

    /// Sends a FunctionCall. Its answers are a FunctionResult (or Error), then
    /// ReadyForQuery.
    pub fn function_call(&mut self, call: &FunctionCall<'_>) -> Result<RequestId, Error> {
        let mut r = self.requests()?;
        if r.session.unsynced {
            return Err(UsageError::UnsyncedPipeline.into());
        }
        r.send_request(false, false, |out| call.encode(out))?;
        Ok(r.push_request(RequestKind::FunctionCall))
    }

    /// Sends COPY data during COPY FROM STDIN.
    pub fn copy_data(&mut self, data: &[u8]) -> Result<(), Error> {
        let r = self.requests()?;
        if !matches!(r.session.copy, CopyState::In | CopyState::Both) {
            return Err(UsageError::NotCopying.into());
        }
        CopyData { data }.encode(r.out)?;
        Ok(())
    }

    /// Ends COPY FROM STDIN successfully.
    pub fn copy_done(&mut self) -> Result<(), Error> {
        let mut r = self.requests()?;
        if !matches!(r.session.copy, CopyState::In | CopyState::Both) {
            return Err(UsageError::NotCopying.into());
        }
        CopyDone.encode(r.out)?;
        r.session.copy = if r.session.copy == CopyState::Both {
            CopyState::Out
        } else {
            CopyState::None
        };
        r.copy_ended();
        Ok(())
    }

    /// Aborts COPY FROM STDIN; the server answers with an error quoting `message`.
    pub fn copy_fail(&mut self, message: &str) -> Result<(), Error> {
        let mut r = self.requests()?;
        if r.session.copy != CopyState::In {
            return Err(UsageError::NotCopying.into());
        }
        CopyFail { message }.encode(r.out)?;
        r.session.copy = CopyState::None;
        r.copy_ended();
        Ok(())
    }

    /// Sends Terminate and closes the connection; the caller then closes the socket.
    pub fn terminate(&mut self) {
        if !matches!(self.state, State::Closed(_)) {
            // Held requests would only arrive after Terminate: they go with the session.
            let _ = Terminate.encode(&mut self.out);
            let events = core::mem::take(&mut self.events);
            self.fail(Error::Closed);
            self.events = events;
        }
    }

    // ------------------------------------------------------------------ getters

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.state.phase()
    }

    /// The transaction status from the last ReadyForQuery.
    pub fn transaction_status(&self) -> TransactionStatus {
        self.transaction_status
    }

    /// Run-time parameters the server reported.
    pub fn server_parameters(&self) -> &BTreeMap<String, String> {
        &self.server_parameters
    }

    /// One reported run-time parameter.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.server_parameters.get(name).map(String::as_str)
    }

    /// The key to cancel queries on this connection, once the server sent it.
    pub fn cancel_token(&self) -> Option<&CancelToken> {
        self.cancel_token.as_ref()
    }

    /// The protocol version in use.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.protocol_version
    }

    /// The authentication method the server used, once known.
    pub fn auth_method(&self) -> Option<AuthMethod> {
        self.auth_method
    }

    /// Whether SCRAM used channel binding (SCRAM-SHA-256-PLUS).
    pub fn used_channel_binding(&self) -> bool {
        self.scram_plus
    }

    /// Whether the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Whether the caller should read from the socket.
    pub fn wants_input(&self) -> bool {
        !matches!(self.state, State::Closed(_) | State::TlsHandshake)
    }

    /// Whether bytes are waiting in [`Client::poll_transmit`].
    pub fn has_pending_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// How many bytes wait in [`Client::poll_transmit`] (for backpressure).
    pub fn pending_output_len(&self) -> usize {
        self.out.len()
    }

    /// Number of requests waiting for responses.
    pub fn pending_requests(&self) -> usize {
        match &self.state {
            State::Ready(session) => session.pending.len(),
            _ => 0,
        }
    }

    /// Whether COPY FROM STDIN data may be sent now.
    pub fn is_copy_in(&self) -> bool {
        matches!(&self.state, State::Ready(session) if session.is_copy_in())
    }

    /// The error that ended the connection, if any.
    pub fn error(&self) -> Option<&Error> {
        match &self.state {
            State::Closed(e) => Some(e),
            _ => None,
        }
    }
}

fn unexpected_in(phase: Phase, message: &'static str) -> Error {
    ProtocolViolation::UnexpectedMessage {
        phase: phase.name(),
        message,
    }
    .into()
}

fn auth_name(a: &Authentication<'_>) -> &'static str {
    match a {
        Authentication::Ok => "AuthenticationOk",
        Authentication::KerberosV5 => "AuthenticationKerberosV5",
        Authentication::CleartextPassword => "AuthenticationCleartextPassword",
        Authentication::Md5Password { .. } => "AuthenticationMD5Password",
        Authentication::Gss => "AuthenticationGSS",
        Authentication::GssContinue { .. } => "AuthenticationGSSContinue",
        Authentication::Sspi => "AuthenticationSSPI",
        Authentication::Sasl { .. } => "AuthenticationSASL",
        Authentication::SaslContinue { .. } => "AuthenticationSASLContinue",
        Authentication::SaslFinal { .. } => "AuthenticationSASLFinal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FATAL (or PANIC) ErrorResponse during a pipeline is the connection's error,
    /// reported once by `poll_event` and again by every later call; the response it was
    /// routed to is not reported after it (fuzz findings `client_state-*-during-pipeline`).
    #[test]
    fn a_fatal_error_during_a_pipeline_is_sticky() {
        for severity in ["FATAL", "PANIC"] {
            let mut config = Config::new("alice");
            config.ssl_mode = SslMode::Disable;
            let mut client = Client::new(config, &[7; 24]);
            client.handle_input(b"R\0\0\0\x08\0\0\0\0Z\0\0\0\x05I");
            while client.poll_event().unwrap().is_some() {}
            client.query("select 1").unwrap();
            client.parse("s", "select $1", &[23]).unwrap();
            client.execute("", 0).unwrap();
            client.sync().unwrap();
            let fields = format!("S{severity}\0C57P01\0Mterminating\0\0");
            let mut message = alloc::vec![b'E'];
            message.extend_from_slice(&u32::try_from(fields.len() + 4).unwrap().to_be_bytes());
            message.extend_from_slice(fields.as_bytes());
            client.handle_input(&message);
            let first = client.poll_event().unwrap_err();
            assert!(matches!(&first, Error::Server(e) if e.code.code() == "57P01"));
            for _ in 0..3 {
                assert_eq!(client.poll_event(), Err(first.clone()));
            }
            assert_eq!(client.error(), Some(&first));
            assert_eq!(client.phase(), Phase::Closed);
            assert!(client.query("select 2").is_err());
        }
    }
}
