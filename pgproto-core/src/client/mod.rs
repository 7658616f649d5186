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
mod conninfo;
mod copy_hold;
mod response;
mod result;
mod router;
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
pub use conninfo::{ConnInfo, ConnInfoError, DEFAULT_PORT};
pub use response::{
    CommandTag, CopyFormat, DataRowBody, Notification, Response, RowDescriptionBody,
};
pub use result::{
    exactly_one, ColumnIndex, FunctionCallResult, ResultCollector, ResultSet, Row, StreamedRows,
};
pub use router::Router;
pub use statement::{result_format, EncodedParams, Statement};
pub use transaction::{
    transaction_statements, IsolationLevel, TransactionOptions, TransactionStatements,
};

use crate::auth::scram::{ChannelBinding, ScramClient};
use crate::auth::{md5, AuthError};
use crate::cancel::CancelToken;
use crate::db_error::DbError;
use crate::error::{Error, ProtocolViolation, UsageError};
use crate::message::{
    Authentication, BackendMessage, Bind, Close, CopyData, CopyDone, CopyFail, Describe, Execute,
    Flush, FunctionCall, List, Oid, Parse, PasswordMessage, ProtocolVersion, Query,
    SaslInitialResponse, SaslResponse, SslRequest, StartupMessage, Sync, Target, Terminate,
    TransactionStatus,
};
use crate::wire::{Direction, Frame, Framer};
use copy_hold::{CopyHold, Outgoing};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    Query,
    Parse,
    Bind,
    DescribeStatement,
    DescribePortal,
    Execute,
    Close,
    Sync,
    FunctionCall,
}

impl RequestKind {
    /// Extended-protocol messages the server discards after an error until Sync.
    fn is_extended(self) -> bool {
        !matches!(self, Self::Query | Self::Sync | Self::FunctionCall)
    }
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    id: RequestId,
    kind: RequestKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CopyState {
    None,
    In,
    Out,
    Both,
}

enum AuthState {
    Initial,
    PasswordSent,
    Scram(ScramClient),
    ScramDone,
}

/// A client connection (sans-IO). See the [module documentation](self).
pub struct Client {
    config: Config,
    framer: Framer,
    pub(crate) out: BytesMut,
    phase: Phase,
    auth: AuthState,
    auth_method: Option<AuthMethod>,
    scram_plus: bool,
    nonce: Vec<u8>,
    tls: bool,
    channel_binding: Option<Vec<u8>>,
    events: VecDeque<Event>,
    pending: VecDeque<Pending>,
    next_id: u64,
    discarding: bool,
    unsynced: bool,
    copy: CopyState,
    /// Requests that wait until no COPY is open or may open (see [`copy_hold`]).
    hold: CopyHold,
    transaction_status: TransactionStatus,
    server_parameters: BTreeMap<String, String>,
    cancel_token: Option<CancelToken>,
    protocol_version: ProtocolVersion,
    poisoned: Option<Error>,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("phase", &self.phase)
            .field("pending", &self.pending.len())
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
            phase: Phase::Authenticating,
            auth: AuthState::Initial,
            auth_method: None,
            scram_plus: false,
            nonce: nonce.to_vec(),
            tls: false,
            channel_binding: None,
            events: VecDeque::new(),
            pending: VecDeque::new(),
            next_id: 0,
            discarding: false,
            unsynced: false,
            copy: CopyState::None,
            hold: CopyHold::default(),
            transaction_status: TransactionStatus::Idle,
            server_parameters: BTreeMap::new(),
            cancel_token: None,
            protocol_version: config.max_protocol_version,
            poisoned: None,
            config,
        };
        if client.config.ssl_mode.requests_tls() {
            match client.config.ssl_negotiation {
                crate::client::SslNegotiation::Direct => client.phase = Phase::TlsHandshake,
                crate::client::SslNegotiation::Postgres => {
                    client.phase = Phase::SslResponse;
                    // SSLRequest has no variable part: encoding cannot fail.
                    let _ = SslRequest.encode(&mut client.out);
                }
            }
        } else if let Err(e) = client.send_startup() {
            client.poisoned = Some(e);
        }
        client
    }

    fn send_startup(&mut self) -> Result<(), Error> {
        let params = self.config.startup_parameters();
        StartupMessage {
            protocol_version: self.config.max_protocol_version,
            parameters: List::new(&params),
        }
        .encode(&mut self.out)?;
        self.phase = Phase::Authenticating;
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
        if self.poisoned.is_none() {
            self.poisoned = Some(Error::Closed);
        }
        self.phase = Phase::Closed;
    }

    /// Reports that the TLS handshake the core asked for ([`Event::StartTls`], or direct
    /// TLS) completed. `channel_binding` is the `tls-server-end-point` hash of the server
    /// certificate, when known; it enables SCRAM-SHA-256-PLUS.
    pub fn handle_tls_established(
        &mut self,
        channel_binding: Option<Vec<u8>>,
    ) -> Result<(), Error> {
        self.check_poisoned()?;
        if self.phase != Phase::TlsHandshake {
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
                Err(e) => {
                    // What the failing message queued (a FATAL ErrorResponse routed to
                    // its request, the requests skipped after it) is not reported: the
                    // error is, once here and again by every later call.
                    self.events.clear();
                    self.hold.clear();
                    self.phase = Phase::Closed;
                    self.poisoned = Some(e.clone());
                    return Err(e);
                }
            }
        }
    }

    fn check_poisoned(&self) -> Result<(), Error> {
        match &self.poisoned {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Processes one unit of input. `Ok(false)` when none is buffered.
    fn step(&mut self) -> Result<bool, Error> {
        match self.phase {
            Phase::SslResponse => {
                let Some(byte) = self.framer.next_byte() else {
                    return Ok(false);
                };
                match byte {
                    b'S' => {
                        if self.framer.buffered_len() > 0 {
                            return Err(ProtocolViolation::DataAfterSslResponse.into());
                        }
                        self.phase = Phase::TlsHandshake;
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
            Phase::TlsHandshake => Ok(false),
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
                phase: self.phase.name(),
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
        match self.phase {
            Phase::Authenticating => self.process_authentication(msg),
            Phase::AwaitingReady => self.process_startup_end(msg),
            Phase::Ready => {
                // The bulk of a result, DataRow and CopyData, is the frame's body handed
                // over as is (no second reference count to take and drop per row).
                let row = match msg {
                    BackendMessage::DataRow(_) => Some(true),
                    BackendMessage::CopyData(_) => Some(false),
                    _ => None,
                };
                if let Some(id) = row.and_then(|is_row| self.row_destination(is_row)) {
                    let response = if row == Some(true) {
                        Response::DataRow(DataRowBody::new(frame.body))
                    } else {
                        Response::CopyData(frame.body)
                    };
                    self.respond(id, response, false);
                    return Ok(());
                }
                let body = frame.body.clone();
                self.process_response(msg, body)?;
                if self.hold.has_held() {
                    let copy_in = self.is_copy_in();
                    self.hold.release(&mut self.out, copy_in, &self.pending);
                }
                Ok(())
            }
            Phase::SslResponse | Phase::TlsHandshake | Phase::Closed => {
                Err(self.unexpected(msg.name()))
            }
        }
    }

    fn unexpected(&self, message: &'static str) -> Error {
        ProtocolViolation::UnexpectedMessage {
            phase: self.phase.name(),
            message,
        }
        .into()
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

    fn process_authentication(&mut self, msg: BackendMessage<'_>) -> Result<(), Error> {
        match msg {
            BackendMessage::Authentication(auth) => self.process_auth_request(auth),
            BackendMessage::NegotiateProtocolVersion(n) => {
                if !matches!(self.auth, AuthState::Initial) {
                    return Err(self.unexpected("NegotiateProtocolVersion"));
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
                Ok(())
            }
            BackendMessage::ErrorResponse(e) => {
                Err(Error::Server(Box::new(DbError::from_fields(&e.fields))))
            }
            other => Err(self.unexpected(other.name())),
        }
    }

    fn process_auth_request(&mut self, auth: Authentication<'_>) -> Result<(), Error> {
        match (auth, &mut self.auth) {
            (Authentication::Ok, AuthState::Initial) => {
                // The server asked for nothing: that is method "none".
                self.allow_method(AuthMethod::None)?;
                self.authenticated()
            }
            // In the middle of SCRAM, `authenticated` refuses it: the server skipped
            // SASLFinal, the proof that it knows the password.
            (
                Authentication::Ok,
                AuthState::PasswordSent | AuthState::ScramDone | AuthState::Scram(_),
            ) => self.authenticated(),
            (Authentication::CleartextPassword, AuthState::Initial) => {
                self.allow_method(AuthMethod::Password)?;
                let password = self.password()?.to_vec();
                PasswordMessage {
                    password: &password,
                }
                .encode(&mut self.out)?;
                self.auth = AuthState::PasswordSent;
                Ok(())
            }
            (Authentication::Md5Password { salt }, AuthState::Initial) => {
                self.allow_method(AuthMethod::Md5)?;
                let response =
                    md5::client_response(self.config.user.as_bytes(), self.password()?, salt);
                PasswordMessage {
                    password: response.as_bytes(),
                }
                .encode(&mut self.out)?;
                self.auth = AuthState::PasswordSent;
                Ok(())
            }
            (Authentication::Sasl { mechanisms }, AuthState::Initial) => {
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
                self.auth = AuthState::Scram(scram);
                Ok(())
            }
            (Authentication::SaslContinue { data }, AuthState::Scram(scram)) => {
                let reply = scram.handle_server_first(data)?;
                SaslResponse { data: &reply }.encode(&mut self.out)?;
                Ok(())
            }
            (Authentication::SaslFinal { data }, AuthState::Scram(scram)) => {
                scram.handle_server_final(data)?;
                self.auth = AuthState::ScramDone;
                Ok(())
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

    fn authenticated(&mut self) -> Result<(), Error> {
        if matches!(self.auth, AuthState::Scram(_)) {
            // AuthenticationOk before SASLFinal: the server skipped proving it knows the
            // password.
            return Err(AuthError::ServerSkippedVerification.into());
        }
        if self.config.channel_binding == ChannelBindingPolicy::Require && !self.scram_plus {
            return Err(AuthError::ChannelBindingRequired.into());
        }
        self.phase = Phase::AwaitingReady;
        self.events.push_back(Event::Authenticated);
        Ok(())
    }

    fn process_startup_end(&mut self, msg: BackendMessage<'_>) -> Result<(), Error> {
        match msg {
            BackendMessage::BackendKeyData(k) => {
                self.cancel_token = Some(CancelToken::new(k.process_id, k.secret_key.to_vec()));
                Ok(())
            }
            BackendMessage::ReadyForQuery(r) => {
                self.transaction_status = r.status;
                self.phase = Phase::Ready;
                self.events.push_back(Event::Ready);
                Ok(())
            }
            BackendMessage::ErrorResponse(e) => {
                Err(Error::Server(Box::new(DbError::from_fields(&e.fields))))
            }
            other => Err(self.unexpected(other.name())),
        }
    }

    fn respond(&mut self, id: RequestId, response: Response, complete: bool) {
        if complete {
            self.pending.pop_front();
            self.hold.completed(id);
        }
        self.events.push_back(Event::Response {
            request: id,
            response,
            complete,
        });
    }

    /// The request a DataRow (`is_row`) or CopyData belongs to, when one may come now:
    /// rows answer a Query or Execute, COPY data a Query or Execute in COPY-out mode.
    /// Otherwise [`Client::process_response`] refuses the message.
    fn row_destination(&self, is_row: bool) -> Option<RequestId> {
        let front = self.pending.front()?;
        let expected = matches!(front.kind, RequestKind::Query | RequestKind::Execute)
            && (is_row || matches!(self.copy, CopyState::Out | CopyState::Both));
        expected.then_some(front.id)
    }

    /// Routes a response to the request it answers. (DataRow and CopyData, when
    /// expected, go straight from [`Client::process`] to [`Client::respond`].)
    fn process_response(&mut self, msg: BackendMessage<'_>, body: Bytes) -> Result<(), Error> {
        use RequestKind as K;
        let Some(front) = self.pending.front().copied() else {
            if let BackendMessage::ErrorResponse(e) = msg {
                // An error outside any request: the server is ending the session.
                return Err(Error::Server(Box::new(DbError::from_fields(&e.fields))));
            }
            return Err(ProtocolViolation::UnsolicitedResponse {
                message: msg.name(),
            }
            .into());
        };
        let id = front.id;
        match (front.kind, msg) {
            (kind, BackendMessage::ErrorResponse(e)) => {
                let error = DbError::from_fields(&e.fields);
                let fatal = error.is_fatal();
                if self.is_copy_in() {
                    self.hold.copy_ended(&mut self.out);
                }
                self.copy = CopyState::None;
                let ends_request = kind.is_extended();
                self.respond(id, Response::Error(Box::new(error.clone())), ends_request);
                if ends_request {
                    self.skip_until_sync();
                }
                if fatal {
                    return Err(Error::Server(Box::new(error)));
                }
            }
            (K::Query, BackendMessage::RowDescription(_)) => {
                self.respond(
                    id,
                    Response::RowDescription(RowDescriptionBody::new(body)),
                    false,
                );
            }
            (K::DescribeStatement | K::DescribePortal, BackendMessage::RowDescription(_)) => {
                self.respond(
                    id,
                    Response::RowDescription(RowDescriptionBody::new(body)),
                    true,
                );
            }
            (K::Query | K::Execute, BackendMessage::CommandComplete(_)) => {
                self.copy = CopyState::None;
                self.respond(
                    id,
                    Response::CommandComplete(CommandTag::new(body)),
                    front.kind == K::Execute,
                );
            }
            (K::Query | K::Execute, BackendMessage::EmptyQueryResponse(_)) => {
                self.respond(id, Response::EmptyQuery, front.kind == K::Execute);
            }
            (K::Execute, BackendMessage::PortalSuspended(_)) => {
                self.respond(id, Response::PortalSuspended, true);
            }
            (K::Query | K::Execute, BackendMessage::CopyInResponse(c)) => {
                self.copy = CopyState::In;
                self.hold.copy_opened(id);
                let format = CopyFormat::new(c.format, c.column_formats.iter().collect());
                self.respond(id, Response::CopyIn(format), false);
            }
            (K::Query | K::Execute, BackendMessage::CopyOutResponse(c)) => {
                self.copy = CopyState::Out;
                let format = CopyFormat::new(c.format, c.column_formats.iter().collect());
                self.respond(id, Response::CopyOut(format), false);
            }
            (K::Query | K::Execute, BackendMessage::CopyBothResponse(c)) => {
                self.copy = CopyState::Both;
                self.hold.copy_opened(id);
                let format = CopyFormat::new(c.format, c.column_formats.iter().collect());
                self.respond(id, Response::CopyBoth(format), false);
            }
            (K::Query | K::Execute, BackendMessage::CopyDone(_))
                if matches!(self.copy, CopyState::Out | CopyState::Both) =>
            {
                self.copy = if self.copy == CopyState::Both {
                    CopyState::In
                } else {
                    CopyState::None
                };
                self.respond(id, Response::CopyDone, false);
            }
            (K::Parse, BackendMessage::ParseComplete(_)) => {
                self.respond(id, Response::ParseComplete, true);
            }
            (K::Bind, BackendMessage::BindComplete(_)) => {
                self.respond(id, Response::BindComplete, true);
            }
            (K::DescribeStatement, BackendMessage::ParameterDescription(p)) => {
                let types: Vec<Oid> = p.types.iter().collect();
                self.respond(id, Response::ParameterDescription(types), false);
            }
            (K::DescribeStatement | K::DescribePortal, BackendMessage::NoData(_)) => {
                self.respond(id, Response::NoData, true);
            }
            (K::Close, BackendMessage::CloseComplete(_)) => {
                self.respond(id, Response::CloseComplete, true);
            }
            (K::FunctionCall, BackendMessage::FunctionCallResponse(f)) => {
                let value = f.value.map(Bytes::copy_from_slice);
                self.respond(id, Response::FunctionResult(value), false);
            }
            (K::Query | K::Sync | K::FunctionCall, BackendMessage::ReadyForQuery(r)) => {
                self.transaction_status = r.status;
                self.copy = CopyState::None;
                self.respond(id, Response::ReadyForQuery(r.status), true);
            }
            (_, other) => return Err(self.unexpected(other.name())),
        }
        Ok(())
    }

    /// After an extended-protocol error, the server discards messages until Sync.
    fn skip_until_sync(&mut self) {
        while let Some(p) = self.pending.front().copied() {
            if p.kind == RequestKind::Sync {
                return;
            }
            self.respond(p.id, Response::Skipped, true);
        }
        // No Sync sent yet: requests sent from now on until one are discarded too.
        self.discarding = true;
    }

    // ------------------------------------------------------------------ commands

    pub(crate) fn ready(&self) -> Result<(), Error> {
        self.check_poisoned()?;
        if self.phase != Phase::Ready {
            return Err(UsageError::NotReady.into());
        }
        Ok(())
    }

    pub(crate) fn push_request(&mut self, kind: RequestKind) -> RequestId {
        let id = RequestId(self.next_id);
        self.next_id += 1;
        if kind.is_extended() {
            self.unsynced = true;
            if self.discarding {
                // The server will discard it without an answer.
                self.events.push_back(Event::Response {
                    request: id,
                    response: Response::Skipped,
                    complete: true,
                });
                return id;
            }
        }
        self.pending.push_back(Pending { id, kind });
        id
    }

    /// Encodes a request's message, now or (while a COPY is open or may open) into the
    /// hold; see [`copy_hold`].
    fn send_request(
        &mut self,
        candidate: bool,
        execute: bool,
        encode: impl FnOnce(&mut BytesMut) -> Result<(), crate::error::EncodeError>,
    ) -> Result<(), Error> {
        self.send(Outgoing::Request { candidate, execute }, encode)
    }

    fn send(
        &mut self,
        what: Outgoing,
        encode: impl FnOnce(&mut BytesMut) -> Result<(), crate::error::EncodeError>,
    ) -> Result<(), Error> {
        let copy_in = self.is_copy_in();
        let next = RequestId(self.next_id);
        self.hold.send(&mut self.out, copy_in, what, next, encode)?;
        Ok(())
    }

    /// The client ended COPY FROM STDIN: owed Syncs go out, then what was held may.
    fn copy_ended(&mut self) {
        self.hold.copy_ended(&mut self.out);
        let copy_in = self.is_copy_in();
        self.hold.release(&mut self.out, copy_in, &self.pending);
    }

    /// Sends a simple Query (one or more statements separated by semicolons).
    pub fn query(&mut self, sql: &str) -> Result<RequestId, Error> {
        self.ready()?;
        if self.unsynced {
            return Err(UsageError::UnsyncedPipeline.into());
        }
        let candidate = copy_hold::may_open_copy(sql);
        self.send_request(candidate, false, |out| Query { query: sql }.encode(out))?;
        Ok(self.push_request(RequestKind::Query))
    }

    /// Sends Parse: prepares `sql` as statement `name` (empty: the unnamed statement).
    pub fn parse(
        &mut self,
        name: &str,
        sql: &str,
        param_types: &[Oid],
    ) -> Result<RequestId, Error> {
        self.ready()?;
        self.send_request(false, false, |out| {
            Parse {
                statement: name,
                query: sql,
                param_types: List::new(param_types),
            }
            .encode(out)
        })?;
        self.hold
            .statement_parsed(name, copy_hold::may_open_copy(sql));
        Ok(self.push_request(RequestKind::Parse))
    }

    /// Sends Bind: creates a portal from a statement and parameter values.
    pub fn bind(&mut self, bind: &Bind<'_>) -> Result<RequestId, Error> {
        self.ready()?;
        self.send_request(false, false, |out| bind.encode(out))?;
        self.hold.portal_bound(bind.portal, bind.statement);
        Ok(self.push_request(RequestKind::Bind))
    }

    /// Sends Describe for a prepared statement: the answer is a ParameterDescription and
    /// a RowDescription or NoData.
    pub fn describe_statement(&mut self, name: &str) -> Result<RequestId, Error> {
        self.ready()?;
        self.send_request(false, false, |out| {
            Describe {
                target: Target::Statement,
                name,
            }
            .encode(out)
        })?;
        Ok(self.push_request(RequestKind::DescribeStatement))
    }

    /// Sends Describe for a portal: the answer is a RowDescription or NoData.
    pub fn describe_portal(&mut self, name: &str) -> Result<RequestId, Error> {
        self.ready()?;
        self.send_request(false, false, |out| {
            Describe {
                target: Target::Portal,
                name,
            }
            .encode(out)
        })?;
        Ok(self.push_request(RequestKind::DescribePortal))
    }

    /// Sends Execute: runs a portal, returning at most `max_rows` rows (0: all).
    pub fn execute(&mut self, portal: &str, max_rows: i32) -> Result<RequestId, Error> {
        self.ready()?;
        // The server discards an Execute after an error until Sync: it opens nothing.
        let candidate = !self.discarding && self.hold.portal_may_copy(portal);
        self.send_request(candidate, true, |out| {
            Execute { portal, max_rows }.encode(out)
        })?;
        Ok(self.push_request(RequestKind::Execute))
    }

    /// Sends Close for a prepared statement.
    pub fn close_statement(&mut self, name: &str) -> Result<RequestId, Error> {
        self.ready()?;
        self.send_request(false, false, |out| {
            Close {
                target: Target::Statement,
                name,
            }
            .encode(out)
        })?;
        self.hold.closed(name, false);
        Ok(self.push_request(RequestKind::Close))
    }

    /// Sends Close for a portal.
    pub fn close_portal(&mut self, name: &str) -> Result<RequestId, Error> {
        self.ready()?;
        self.send_request(false, false, |out| {
            Close {
                target: Target::Portal,
                name,
            }
            .encode(out)
        })?;
        self.hold.closed(name, true);
        Ok(self.push_request(RequestKind::Close))
    }

    /// Sends Sync: ends an extended-protocol batch. Its answer is ReadyForQuery.
    pub fn sync(&mut self) -> Result<RequestId, Error> {
        self.ready()?;
        self.send(Outgoing::Sync, |out| Sync.encode(out))?;
        self.unsynced = false;
        self.discarding = false;
        Ok(self.push_request(RequestKind::Sync))
    }

    /// Sends Flush: asks the server to send what it has buffered.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.ready()?;
        self.send(Outgoing::Flush, |out| Flush.encode(out))?;
        Ok(())
    }

    /// Sends a FunctionCall. Its answers are a FunctionResult (or Error), then
    /// ReadyForQuery.
    pub fn function_call(&mut self, call: &FunctionCall<'_>) -> Result<RequestId, Error> {
        self.ready()?;
        if self.unsynced {
            return Err(UsageError::UnsyncedPipeline.into());
        }
        self.send_request(false, false, |out| call.encode(out))?;
        Ok(self.push_request(RequestKind::FunctionCall))
    }

    /// Sends COPY data during COPY FROM STDIN.
    pub fn copy_data(&mut self, data: &[u8]) -> Result<(), Error> {
        self.ready()?;
        if !matches!(self.copy, CopyState::In | CopyState::Both) {
            return Err(UsageError::NotCopying.into());
        }
        CopyData { data }.encode(&mut self.out)?;
        Ok(())
    }

    /// Ends COPY FROM STDIN successfully.
    pub fn copy_done(&mut self) -> Result<(), Error> {
        self.ready()?;
        if !matches!(self.copy, CopyState::In | CopyState::Both) {
            return Err(UsageError::NotCopying.into());
        }
        CopyDone.encode(&mut self.out)?;
        self.copy = if self.copy == CopyState::Both {
            CopyState::Out
        } else {
            CopyState::None
        };
        self.copy_ended();
        Ok(())
    }

    /// Aborts COPY FROM STDIN; the server answers with an error quoting `message`.
    pub fn copy_fail(&mut self, message: &str) -> Result<(), Error> {
        self.ready()?;
        if self.copy != CopyState::In {
            return Err(UsageError::NotCopying.into());
        }
        CopyFail { message }.encode(&mut self.out)?;
        self.copy = CopyState::None;
        self.copy_ended();
        Ok(())
    }

    /// Sends Terminate and closes the connection; the caller then closes the socket.
    pub fn terminate(&mut self) {
        if self.phase != Phase::Closed {
            // Held requests would only arrive after Terminate: they are dropped.
            self.hold.clear();
            let _ = Terminate.encode(&mut self.out);
        }
        self.phase = Phase::Closed;
        if self.poisoned.is_none() {
            self.poisoned = Some(Error::Closed);
        }
    }

    // ------------------------------------------------------------------ getters

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
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
        self.poisoned.is_none() && self.phase != Phase::TlsHandshake
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
        self.pending.len()
    }

    /// Whether COPY FROM STDIN data may be sent now.
    pub fn is_copy_in(&self) -> bool {
        matches!(self.copy, CopyState::In | CopyState::Both)
    }

    /// The error that ended the connection, if any.
    pub fn error(&self) -> Option<&Error> {
        self.poisoned.as_ref()
    }
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
