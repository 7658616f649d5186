//! Errors raised by the codec.
//!
//! Decoding bytes that came off the wire can fail in many ways, and each failure says which
//! message and which field was wrong ([`DecodeError`]). Encoding fails only when the caller
//! hands in a value the wire format cannot carry ([`EncodeError`]), e.g. a string with an
//! interior NUL byte or more than 65,535 parameters.
//!
//! Database errors (a server's `ErrorResponse`) are *not* errors here: they are ordinary
//! messages ([`crate::message::ErrorResponse`]).

use core::fmt;

/// Why a byte sequence could not be decoded as a protocol message.
///
/// `message` is the protocol name of the message being decoded (`"RowDescription"`), and
/// `field` the name of the field, as the protocol documentation spells them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The body ended before a field was complete.
    Truncated {
        /// Message being decoded.
        message: &'static str,
        /// Field that was cut short.
        field: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left in the body.
        available: usize,
    },
    /// A string field has no terminating NUL byte inside the body.
    MissingNul {
        /// Message being decoded.
        message: &'static str,
        /// Field that is not terminated.
        field: &'static str,
    },
    /// A string field is not valid UTF-8.
    InvalidUtf8 {
        /// Message being decoded.
        message: &'static str,
        /// Field that holds the invalid bytes.
        field: &'static str,
    },
    /// Bytes were left over after the last field of a message.
    TrailingBytes {
        /// Message being decoded.
        message: &'static str,
        /// How many bytes were left.
        count: usize,
    },
    /// A length prefix is below its minimum (4 for a message, 8 for a startup packet) or
    /// otherwise impossible.
    BadLength {
        /// Message (or `"message header"` when the type is not known yet).
        message: &'static str,
        /// The declared length, as read.
        declared: i64,
    },
    /// A length prefix is above the configured limit: nothing was buffered.
    TooLarge {
        /// Message (or the message type byte's description).
        message: &'static str,
        /// The declared length.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// A field holds a value the protocol does not allow (a negative count, a format code
    /// other than 0 or 1, an unknown transaction status, a key of the wrong length, ...).
    InvalidValue {
        /// Message being decoded.
        message: &'static str,
        /// Field that holds the value.
        field: &'static str,
        /// The value, widened to `i64` (bytes are given as their numeric value).
        value: i64,
    },
    /// The message type byte is not one the protocol defines for this direction.
    UnknownTag {
        /// Which side sent the message: `"frontend"` or `"backend"`.
        direction: &'static str,
        /// The type byte.
        tag: u8,
    },
    /// A startup-phase packet carries a request code or protocol version this library does
    /// not know.
    UnknownStartupCode {
        /// The 32-bit code (protocol version or special request code).
        code: u32,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated {
                message,
                field,
                needed,
                available,
            } => write!(
                f,
                "{message}: field {field} is truncated ({needed} bytes needed, {available} available)"
            ),
            Self::MissingNul { message, field } => {
                write!(f, "{message}: string field {field} has no terminating NUL")
            }
            Self::InvalidUtf8 { message, field } => {
                write!(f, "{message}: field {field} is not valid UTF-8")
            }
            Self::TrailingBytes { message, count } => {
                write!(f, "{message}: {count} unexpected bytes after the last field")
            }
            Self::BadLength { message, declared } => {
                write!(f, "{message}: invalid length {declared}")
            }
            Self::TooLarge { message, len, max } => {
                write!(f, "{message}: length {len} exceeds the limit of {max} bytes")
            }
            Self::InvalidValue {
                message,
                field,
                value,
            } => write!(f, "{message}: invalid value {value} in field {field}"),
            Self::UnknownTag { direction, tag } => {
                if tag.is_ascii_graphic() {
                    write!(f, "unknown {direction} message type '{}'", char::from(*tag))
                } else {
                    write!(f, "unknown {direction} message type 0x{tag:02x}")
                }
            }
            Self::UnknownStartupCode { code } => write!(
                f,
                "unknown startup request code {code} (protocol {}.{})",
                code >> 16,
                code & 0xffff
            ),
        }
    }
}

/// Why a message could not be encoded.
///
/// Nothing is appended to the output buffer when encoding fails.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// A string field contains a NUL byte, which would end it early on the wire.
    InteriorNul {
        /// Message being encoded.
        message: &'static str,
        /// Field holding the NUL.
        field: &'static str,
    },
    /// A list has more elements than its 16-bit count can express.
    TooManyItems {
        /// Message being encoded.
        message: &'static str,
        /// List field.
        field: &'static str,
        /// Number of items given.
        count: usize,
    },
    /// The message (or one value inside it) would be longer than the protocol's 32-bit
    /// length can express.
    TooLong {
        /// Message being encoded.
        message: &'static str,
        /// Length in bytes.
        len: usize,
    },
    /// A field holds a value the protocol does not allow (e.g. a cancel key shorter than 4
    /// or longer than 256 bytes).
    InvalidValue {
        /// Message being encoded.
        message: &'static str,
        /// Field holding the value.
        field: &'static str,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InteriorNul { message, field } => {
                write!(f, "{message}: field {field} contains a NUL byte")
            }
            Self::TooManyItems {
                message,
                field,
                count,
            } => write!(
                f,
                "{message}: {count} items in {field} exceed the protocol's limit of 65535"
            ),
            Self::TooLong { message, len } => {
                write!(
                    f,
                    "{message}: {len} bytes exceed the protocol's length limit"
                )
            }
            Self::InvalidValue { message, field } => {
                write!(f, "{message}: invalid value in field {field}")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DecodeError {}
#[cfg(feature = "std")]
impl std::error::Error for EncodeError {}

/// Bytes that parsed, but are not allowed at this point of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolViolation {
    /// A message arrived that the current phase does not allow.
    UnexpectedMessage {
        /// The phase the connection was in.
        phase: &'static str,
        /// The message's name.
        message: &'static str,
    },
    /// Bytes followed the server's single-byte answer to an SSLRequest before the TLS
    /// handshake (a buffer-stuffing attack, CVE-2021-23222), or followed a client's
    /// SSLRequest (CVE-2021-23214).
    DataAfterSslResponse,
    /// The answer to an SSLRequest was neither `S` nor `N`.
    InvalidSslResponse(u8),
    /// The server declined TLS, but the configuration requires it.
    TlsRequired,
    /// The server proposed a protocol version this side cannot use.
    UnsupportedProtocolVersion {
        /// The major version.
        major: u16,
        /// The minor version.
        minor: u16,
    },
    /// A response arrived while no request was waiting for one.
    UnsolicitedResponse {
        /// The message's name.
        message: &'static str,
    },
}

impl fmt::Display for ProtocolViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedMessage { phase, message } => {
                write!(f, "unexpected {message} during {phase}")
            }
            Self::DataAfterSslResponse => f.write_str(
                "unencrypted data after the SSL negotiation byte (possible buffer-stuffing attack)",
            ),
            Self::InvalidSslResponse(b) => {
                write!(f, "invalid answer 0x{b:02x} to SSLRequest")
            }
            Self::TlsRequired => f.write_str("the server does not support TLS, which is required"),
            Self::UnsupportedProtocolVersion { major, minor } => {
                write!(f, "unsupported protocol version {major}.{minor}")
            }
            Self::UnsolicitedResponse { message } => {
                write!(f, "{message} arrived while no request was pending")
            }
        }
    }
}

/// The local caller broke the rules of the API (a command in the wrong phase).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UsageError {
    /// The connection is not ready for this command yet (still starting up).
    NotReady,
    /// The command needs an active COPY in the right direction.
    NotCopying,
    /// A simple Query cannot follow extended-query messages that no Sync has ended.
    UnsyncedPipeline,
    /// The TLS handshake was reported when none was requested.
    UnexpectedTls,
    /// A message could not be encoded.
    Encode(EncodeError),
    /// A value could not be converted to or from its PostgreSQL type.
    Type(crate::types::TypeError),
    /// The row has no such column.
    NoSuchColumn,
    /// The command is not allowed in the connection's current phase.
    WrongPhase {
        /// The phase the command needs.
        needed: &'static str,
    },
    /// Authentication was already requested from the client.
    AuthenticationAlreadyRequested,
    /// The cancel secret key's length does not fit the protocol version (4 bytes for
    /// 3.0, 4 to 256 for 3.2).
    SecretKeyLength(usize),
    /// A server answer that does not answer the request being handled now (for example
    /// `bind_complete` while an Execute is handled); `answer` is the command, `answers`
    /// what it may answer.
    AnswerOutOfTurn {
        /// The command called.
        answer: &'static str,
        /// The request it may answer.
        answers: &'static str,
    },
    /// A result set was started while one is open.
    ResultSetOpen,
    /// A DataRow beyond the Execute's `max_rows`: send `portal_suspended` instead.
    RowLimitReached,
    /// A COPY is open: finish it first (`copy_done`, or wait for the client's CopyDone).
    CopyOpen,
    /// `portal_suspended` after fewer rows than the Execute's `max_rows` (or with no
    /// limit).
    PortalNotLimited,
    /// The client started TLS directly, but the server has no TLS configured.
    TlsNotConfigured,
    /// The number of parameter values differs from the statement's parameters.
    ParameterCount {
        /// Parameters the statement takes.
        expected: usize,
        /// Values given.
        given: usize,
    },
    /// `query_one`: the query returned no rows.
    NoRows,
    /// `query_one`: the query returned more than one row.
    MoreThanOneRow,
    /// A function call completed without a FunctionCallResponse.
    NoFunctionResult,
    /// A COPY row's value count differs from its columns.
    RowWidth {
        /// Columns of the COPY.
        expected: usize,
        /// Values given.
        given: usize,
    },
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotReady => f.write_str("the connection is not ready for queries"),
            Self::NotCopying => f.write_str("no COPY in progress in that direction"),
            Self::UnsyncedPipeline => {
                f.write_str("a simple query cannot follow extended-query messages before a Sync")
            }
            Self::UnexpectedTls => f.write_str("no TLS handshake was requested"),
            Self::Encode(e) => write!(f, "cannot encode: {e}"),
            Self::Type(e) => write!(f, "type conversion: {e}"),
            Self::NoSuchColumn => f.write_str("no such column"),
            Self::WrongPhase { needed } => {
                write!(f, "command not allowed now: it needs the {needed} phase")
            }
            Self::AuthenticationAlreadyRequested => f.write_str("authentication already requested"),
            Self::SecretKeyLength(len) => write!(
                f,
                "a {len}-byte secret key does not fit the protocol version"
            ),
            Self::AnswerOutOfTurn { answer, answers } => {
                write!(f, "{answer} answers {answers}, which is not being handled")
            }
            Self::ResultSetOpen => f.write_str("a result set is already open"),
            Self::RowLimitReached => {
                f.write_str("the Execute row limit is reached: send portal_suspended")
            }
            Self::CopyOpen => {
                f.write_str("finish COPY (copy_done, or wait for the client's CopyDone) first")
            }
            Self::PortalNotLimited => {
                f.write_str("portal_suspended only after the Execute's max_rows rows")
            }
            Self::TlsNotConfigured => {
                f.write_str("the client started TLS directly, but no TLS is configured")
            }
            Self::ParameterCount { expected, given } => write!(
                f,
                "the statement takes {expected} parameters, {given} given"
            ),
            Self::NoRows => f.write_str("query_one: the query returned no rows"),
            Self::MoreThanOneRow => f.write_str("query_one: the query returned more than one row"),
            Self::NoFunctionResult => f.write_str("the server sent no function result"),
            Self::RowWidth { expected, given } => {
                write!(f, "a row of {given} values for {expected} columns")
            }
        }
    }
}

impl From<EncodeError> for UsageError {
    fn from(e: EncodeError) -> Self {
        Self::Encode(e)
    }
}

/// Any error of a connection state machine. Fatal errors poison the connection: every
/// later call returns the same error.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The peer sent bytes that do not parse.
    Decode(DecodeError),
    /// The peer sent a valid message that is not allowed now.
    Protocol(ProtocolViolation),
    /// The local caller broke the API's rules (not fatal).
    Usage(UsageError),
    /// Authentication failed or was refused by policy.
    Auth(crate::auth::AuthError),
    /// The server reported an error that ended the connection (during startup, or a
    /// FATAL error).
    Server(alloc::boxed::Box<crate::db_error::DbError>),
    /// The connection is closed (terminated, or the peer went away).
    Closed,
    /// A deadline the state machine keeps passed (see `handle_timeout`).
    TimedOut(Timeout),
}

/// Which deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Timeout {
    /// The client did not finish startup and authentication in time (PostgreSQL's
    /// `authentication_timeout`).
    Authentication,
    /// The server did not accept the connection and finish startup within the client's
    /// `connect_timeout`.
    Connect,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode(e) => write!(f, "malformed message: {e}"),
            Self::Protocol(e) => write!(f, "protocol violation: {e}"),
            Self::Usage(e) => write!(f, "usage error: {e}"),
            Self::Auth(e) => write!(f, "authentication failed: {e}"),
            Self::Server(e) => write!(f, "server error: {e}"),
            Self::Closed => f.write_str("connection closed"),
            Self::TimedOut(Timeout::Authentication) => {
                f.write_str("startup and authentication did not finish in time")
            }
            Self::TimedOut(Timeout::Connect) => {
                f.write_str("connecting took longer than connect_timeout")
            }
        }
    }
}

impl From<crate::types::TypeError> for Error {
    fn from(e: crate::types::TypeError) -> Self {
        Self::Usage(UsageError::Type(e))
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

impl From<ProtocolViolation> for Error {
    fn from(e: ProtocolViolation) -> Self {
        Self::Protocol(e)
    }
}

impl From<UsageError> for Error {
    fn from(e: UsageError) -> Self {
        Self::Usage(e)
    }
}

impl From<EncodeError> for Error {
    fn from(e: EncodeError) -> Self {
        Self::Usage(UsageError::Encode(e))
    }
}

impl From<crate::auth::AuthError> for Error {
    fn from(e: crate::auth::AuthError) -> Self {
        Self::Auth(e)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ProtocolViolation {}
#[cfg(feature = "std")]
impl std::error::Error for UsageError {}
#[cfg(feature = "std")]
impl std::error::Error for Error {}
