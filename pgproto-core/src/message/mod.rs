//! Typed messages of protocol 3.0 and 3.2, both directions, with zero-copy decoding and
//! encoding into a caller's buffer.
//!
//! Each message type has `decode(body)`, which borrows from the body it is given, and
//! `encode(&self, &mut BytesMut)`, which appends the framed message. [`FrontendMessage`]
//! and [`BackendMessage`] dispatch on the type byte. This module knows single messages,
//! never connection phases: the one piece of context decoding needs (which kind of `p`
//! message a client sent) is passed in as an [`AuthResponseKind`].
//!
//! ```
//! use bytes::BytesMut;
//! use pgproto_core::message::{BackendMessage, ReadyForQuery, TransactionStatus};
//! use pgproto_core::wire::{Direction, Framer, Limits};
//!
//! let mut out = BytesMut::new();
//! ReadyForQuery { status: TransactionStatus::Idle }.encode(&mut out).unwrap();
//!
//! let mut framer = Framer::new(Direction::Backend, Limits::default());
//! framer.push(&out);
//! let frame = framer.next_frame_ref().unwrap().unwrap();
//! let msg = BackendMessage::decode(frame.tag.unwrap(), frame.body).unwrap();
//! assert_eq!(msg, BackendMessage::ReadyForQuery(ReadyForQuery { status: TransactionStatus::Idle }));
//! ```

use bytes::BytesMut;

use crate::error::{DecodeError, EncodeError};

/// A message with an empty body.
macro_rules! empty_message {
    ($(#[$doc:meta])* $name:ident, $tag:expr, $label:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name;

        impl $name {
            /// Message type byte.
            pub const TAG: u8 = $tag;

            /// Decodes a message body, which must be empty.
            #[inline]
            pub fn decode(body: &[u8]) -> Result<Self, crate::error::DecodeError> {
                crate::wire::Reader::new($label, body).finish().map(|()| Self)
            }

            /// Appends the message to `buf`.
            #[inline]
            pub fn encode(&self, buf: &mut bytes::BytesMut) -> Result<(), crate::error::EncodeError> {
                crate::wire::Writer::tagged(buf, Self::TAG, $label).finish()
            }
        }
    };
}

mod auth;
mod copy;
mod extended_query;
mod function_call;
mod list;
mod query;
mod response;
mod startup;

pub use auth::{
    AuthResponseKind, Authentication, GssResponse, PasswordMessage, SaslInitialResponse,
    SaslResponse,
};
pub use copy::{CopyBothResponse, CopyData, CopyDone, CopyFail, CopyInResponse, CopyOutResponse};
pub use extended_query::{
    Bind, BindComplete, Close, CloseComplete, Describe, Execute, Flush, Format, NoData,
    ParameterDescription, Parse, ParseComplete, PortalSuspended, Sync, Target,
};
pub use function_call::{FunctionCall, FunctionCallResponse};
pub use list::{List, ListIter, WireElement};
pub use query::{
    CommandComplete, DataRow, EmptyQueryResponse, FieldDescription, Query, ReadyForQuery,
    RowDescription, TransactionStatus,
};
pub use response::{ErrorField, ErrorResponse, FieldCode, NoticeResponse, NotificationResponse};
pub use startup::{
    BackendKeyData, CancelRequest, GssEncRequest, NegotiateProtocolVersion, ParameterStatus,
    ProtocolVersion, SslRequest, StartupMessage, MAX_SECRET_KEY_LEN, MIN_SECRET_KEY_LEN,
};

use crate::wire::{CANCEL_REQUEST_CODE, GSSENC_REQUEST_CODE, SSL_REQUEST_CODE};

/// A PostgreSQL object identifier (type, table or function OID).
pub type Oid = u32;

/// Terminate (F, `X`): the client is closing the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Terminate;

impl Terminate {
    /// Message type byte.
    pub const TAG: u8 = b'X';

    /// Decodes a message body, which must be empty.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        crate::wire::Reader::new("Terminate", body)
            .finish()
            .map(|()| Self)
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        crate::wire::Writer::tagged(buf, Self::TAG, "Terminate").finish()
    }
}

/// Any message a client (frontend) sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrontendMessage<'a> {
    /// StartupMessage (untagged).
    Startup(StartupMessage<'a>),
    /// SSLRequest (untagged).
    SslRequest(SslRequest),
    /// GSSENCRequest (untagged).
    GssEncRequest(GssEncRequest),
    /// CancelRequest (untagged).
    CancelRequest(CancelRequest<'a>),
    /// PasswordMessage (`p`).
    Password(PasswordMessage<'a>),
    /// SASLInitialResponse (`p`).
    SaslInitialResponse(SaslInitialResponse<'a>),
    /// SASLResponse (`p`).
    SaslResponse(SaslResponse<'a>),
    /// GSSResponse (`p`).
    GssResponse(GssResponse<'a>),
    /// Query (`Q`).
    Query(Query<'a>),
    /// Parse (`P`).
    Parse(Parse<'a>),
    /// Bind (`B`).
    Bind(Bind<'a>),
    /// Describe (`D`).
    Describe(Describe<'a>),
    /// Execute (`E`).
    Execute(Execute<'a>),
    /// Sync (`S`).
    Sync(Sync),
    /// Flush (`H`).
    Flush(Flush),
    /// Close (`C`).
    Close(Close<'a>),
    /// CopyData (`d`).
    CopyData(CopyData<'a>),
    /// CopyDone (`c`).
    CopyDone(CopyDone),
    /// CopyFail (`f`).
    CopyFail(CopyFail<'a>),
    /// FunctionCall (`F`).
    FunctionCall(FunctionCall<'a>),
    /// Terminate (`X`).
    Terminate(Terminate),
}

impl<'a> FrontendMessage<'a> {
    /// Decodes one frame: `tag` is `None` for an untagged startup-phase packet (whose body
    /// starts with the protocol version or request code). `auth` says which message a `p`
    /// is; it is ignored for other types.
    pub fn decode(
        tag: Option<u8>,
        body: &'a [u8],
        auth: AuthResponseKind,
    ) -> Result<Self, DecodeError> {
        let Some(tag) = tag else {
            return Self::decode_startup(body);
        };
        Ok(match tag {
            b'p' => match auth {
                AuthResponseKind::Password => Self::Password(PasswordMessage::decode(body)?),
                AuthResponseKind::SaslInitial => {
                    Self::SaslInitialResponse(SaslInitialResponse::decode(body)?)
                }
                AuthResponseKind::Sasl => Self::SaslResponse(SaslResponse::decode(body)?),
                AuthResponseKind::Gss => Self::GssResponse(GssResponse::decode(body)?),
            },
            Query::TAG => Self::Query(Query::decode(body)?),
            Parse::TAG => Self::Parse(Parse::decode(body)?),
            Bind::TAG => Self::Bind(Bind::decode(body)?),
            Describe::TAG => Self::Describe(Describe::decode(body)?),
            Execute::TAG => Self::Execute(Execute::decode(body)?),
            Sync::TAG => Self::Sync(Sync::decode(body)?),
            Flush::TAG => Self::Flush(Flush::decode(body)?),
            Close::TAG => Self::Close(Close::decode(body)?),
            CopyData::TAG => Self::CopyData(CopyData::decode(body)?),
            CopyDone::TAG => Self::CopyDone(CopyDone::decode(body)?),
            CopyFail::TAG => Self::CopyFail(CopyFail::decode(body)?),
            FunctionCall::TAG => Self::FunctionCall(FunctionCall::decode(body)?),
            Terminate::TAG => Self::Terminate(Terminate::decode(body)?),
            other => {
                return Err(DecodeError::UnknownTag {
                    direction: "frontend",
                    tag: other,
                })
            }
        })
    }

    /// Decodes an untagged startup-phase packet body (after the length).
    pub fn decode_startup(body: &'a [u8]) -> Result<Self, DecodeError> {
        let code = body
            .first_chunk::<4>()
            .map(|b| u32::from_be_bytes(*b))
            .ok_or(DecodeError::Truncated {
                message: "startup packet",
                field: "request code",
                needed: 4,
                available: body.len(),
            })?;
        Ok(match code {
            SSL_REQUEST_CODE => Self::SslRequest(SslRequest::decode(body)?),
            GSSENC_REQUEST_CODE => Self::GssEncRequest(GssEncRequest::decode(body)?),
            CANCEL_REQUEST_CODE => Self::CancelRequest(CancelRequest::decode(body)?),
            code if code >> 16 == 3 => Self::Startup(StartupMessage::decode(body)?),
            code => return Err(DecodeError::UnknownStartupCode { code }),
        })
    }

    /// The type byte, or `None` for untagged startup-phase packets.
    pub fn tag(&self) -> Option<u8> {
        Some(match self {
            Self::Startup(_)
            | Self::SslRequest(_)
            | Self::GssEncRequest(_)
            | Self::CancelRequest(_) => return None,
            Self::Password(_)
            | Self::SaslInitialResponse(_)
            | Self::SaslResponse(_)
            | Self::GssResponse(_) => b'p',
            Self::Query(_) => Query::TAG,
            Self::Parse(_) => Parse::TAG,
            Self::Bind(_) => Bind::TAG,
            Self::Describe(_) => Describe::TAG,
            Self::Execute(_) => Execute::TAG,
            Self::Sync(_) => Sync::TAG,
            Self::Flush(_) => Flush::TAG,
            Self::Close(_) => Close::TAG,
            Self::CopyData(_) => CopyData::TAG,
            Self::CopyDone(_) => CopyDone::TAG,
            Self::CopyFail(_) => CopyFail::TAG,
            Self::FunctionCall(_) => FunctionCall::TAG,
            Self::Terminate(_) => Terminate::TAG,
        })
    }

    /// The message's name in the protocol documentation.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Startup(_) => "StartupMessage",
            Self::SslRequest(_) => "SSLRequest",
            Self::GssEncRequest(_) => "GSSENCRequest",
            Self::CancelRequest(_) => "CancelRequest",
            Self::Password(_) => "PasswordMessage",
            Self::SaslInitialResponse(_) => "SASLInitialResponse",
            Self::SaslResponse(_) => "SASLResponse",
            Self::GssResponse(_) => "GSSResponse",
            Self::Query(_) => "Query",
            Self::Parse(_) => "Parse",
            Self::Bind(_) => "Bind",
            Self::Describe(_) => "Describe",
            Self::Execute(_) => "Execute",
            Self::Sync(_) => "Sync",
            Self::Flush(_) => "Flush",
            Self::Close(_) => "Close",
            Self::CopyData(_) => "CopyData",
            Self::CopyDone(_) => "CopyDone",
            Self::CopyFail(_) => "CopyFail",
            Self::FunctionCall(_) => "FunctionCall",
            Self::Terminate(_) => "Terminate",
        }
    }

    /// Appends the framed message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Self::Startup(m) => m.encode(buf),
            Self::SslRequest(m) => m.encode(buf),
            Self::GssEncRequest(m) => m.encode(buf),
            Self::CancelRequest(m) => m.encode(buf),
            Self::Password(m) => m.encode(buf),
            Self::SaslInitialResponse(m) => m.encode(buf),
            Self::SaslResponse(m) => m.encode(buf),
            Self::GssResponse(m) => m.encode(buf),
            Self::Query(m) => m.encode(buf),
            Self::Parse(m) => m.encode(buf),
            Self::Bind(m) => m.encode(buf),
            Self::Describe(m) => m.encode(buf),
            Self::Execute(m) => m.encode(buf),
            Self::Sync(m) => m.encode(buf),
            Self::Flush(m) => m.encode(buf),
            Self::Close(m) => m.encode(buf),
            Self::CopyData(m) => m.encode(buf),
            Self::CopyDone(m) => m.encode(buf),
            Self::CopyFail(m) => m.encode(buf),
            Self::FunctionCall(m) => m.encode(buf),
            Self::Terminate(m) => m.encode(buf),
        }
    }
}

/// Any message a server (backend) sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendMessage<'a> {
    /// Authentication* (`R`).
    Authentication(Authentication<'a>),
    /// BackendKeyData (`K`).
    BackendKeyData(BackendKeyData<'a>),
    /// BindComplete (`2`).
    BindComplete(BindComplete),
    /// CloseComplete (`3`).
    CloseComplete(CloseComplete),
    /// CommandComplete (`C`).
    CommandComplete(CommandComplete<'a>),
    /// CopyInResponse (`G`).
    CopyInResponse(CopyInResponse<'a>),
    /// CopyOutResponse (`H`).
    CopyOutResponse(CopyOutResponse<'a>),
    /// CopyBothResponse (`W`).
    CopyBothResponse(CopyBothResponse<'a>),
    /// CopyData (`d`).
    CopyData(CopyData<'a>),
    /// CopyDone (`c`).
    CopyDone(CopyDone),
    /// DataRow (`D`).
    DataRow(DataRow<'a>),
    /// EmptyQueryResponse (`I`).
    EmptyQueryResponse(EmptyQueryResponse),
    /// ErrorResponse (`E`).
    ErrorResponse(ErrorResponse<'a>),
    /// FunctionCallResponse (`V`).
    FunctionCallResponse(FunctionCallResponse<'a>),
    /// NegotiateProtocolVersion (`v`).
    NegotiateProtocolVersion(NegotiateProtocolVersion<'a>),
    /// NoData (`n`).
    NoData(NoData),
    /// NoticeResponse (`N`).
    NoticeResponse(NoticeResponse<'a>),
    /// NotificationResponse (`A`).
    NotificationResponse(NotificationResponse<'a>),
    /// ParameterDescription (`t`).
    ParameterDescription(ParameterDescription<'a>),
    /// ParameterStatus (`S`).
    ParameterStatus(ParameterStatus<'a>),
    /// ParseComplete (`1`).
    ParseComplete(ParseComplete),
    /// PortalSuspended (`s`).
    PortalSuspended(PortalSuspended),
    /// ReadyForQuery (`Z`).
    ReadyForQuery(ReadyForQuery),
    /// RowDescription (`T`).
    RowDescription(RowDescription<'a>),
}

impl<'a> BackendMessage<'a> {
    /// Decodes one message from its type byte and body.
    #[inline]
    pub fn decode(tag: u8, body: &'a [u8]) -> Result<Self, DecodeError> {
        Ok(match tag {
            DataRow::TAG => Self::DataRow(DataRow::decode(body)?),
            Authentication::TAG => Self::Authentication(Authentication::decode(body)?),
            BackendKeyData::TAG => Self::BackendKeyData(BackendKeyData::decode(body)?),
            BindComplete::TAG => Self::BindComplete(BindComplete::decode(body)?),
            CloseComplete::TAG => Self::CloseComplete(CloseComplete::decode(body)?),
            CommandComplete::TAG => Self::CommandComplete(CommandComplete::decode(body)?),
            CopyInResponse::TAG => Self::CopyInResponse(CopyInResponse::decode(body)?),
            CopyOutResponse::TAG => Self::CopyOutResponse(CopyOutResponse::decode(body)?),
            CopyBothResponse::TAG => Self::CopyBothResponse(CopyBothResponse::decode(body)?),
            CopyData::TAG => Self::CopyData(CopyData::decode(body)?),
            CopyDone::TAG => Self::CopyDone(CopyDone::decode(body)?),
            EmptyQueryResponse::TAG => Self::EmptyQueryResponse(EmptyQueryResponse::decode(body)?),
            ErrorResponse::TAG => Self::ErrorResponse(ErrorResponse::decode(body)?),
            FunctionCallResponse::TAG => {
                Self::FunctionCallResponse(FunctionCallResponse::decode(body)?)
            }
            NegotiateProtocolVersion::TAG => {
                Self::NegotiateProtocolVersion(NegotiateProtocolVersion::decode(body)?)
            }
            NoData::TAG => Self::NoData(NoData::decode(body)?),
            NoticeResponse::TAG => Self::NoticeResponse(NoticeResponse::decode(body)?),
            NotificationResponse::TAG => {
                Self::NotificationResponse(NotificationResponse::decode(body)?)
            }
            ParameterDescription::TAG => {
                Self::ParameterDescription(ParameterDescription::decode(body)?)
            }
            ParameterStatus::TAG => Self::ParameterStatus(ParameterStatus::decode(body)?),
            ParseComplete::TAG => Self::ParseComplete(ParseComplete::decode(body)?),
            PortalSuspended::TAG => Self::PortalSuspended(PortalSuspended::decode(body)?),
            ReadyForQuery::TAG => Self::ReadyForQuery(ReadyForQuery::decode(body)?),
            RowDescription::TAG => Self::RowDescription(RowDescription::decode(body)?),
            other => {
                return Err(DecodeError::UnknownTag {
                    direction: "backend",
                    tag: other,
                })
            }
        })
    }

    /// The type byte.
    pub fn tag(&self) -> u8 {
        match self {
            Self::Authentication(_) => Authentication::TAG,
            Self::BackendKeyData(_) => BackendKeyData::TAG,
            Self::BindComplete(_) => BindComplete::TAG,
            Self::CloseComplete(_) => CloseComplete::TAG,
            Self::CommandComplete(_) => CommandComplete::TAG,
            Self::CopyInResponse(_) => CopyInResponse::TAG,
            Self::CopyOutResponse(_) => CopyOutResponse::TAG,
            Self::CopyBothResponse(_) => CopyBothResponse::TAG,
            Self::CopyData(_) => CopyData::TAG,
            Self::CopyDone(_) => CopyDone::TAG,
            Self::DataRow(_) => DataRow::TAG,
            Self::EmptyQueryResponse(_) => EmptyQueryResponse::TAG,
            Self::ErrorResponse(_) => ErrorResponse::TAG,
            Self::FunctionCallResponse(_) => FunctionCallResponse::TAG,
            Self::NegotiateProtocolVersion(_) => NegotiateProtocolVersion::TAG,
            Self::NoData(_) => NoData::TAG,
            Self::NoticeResponse(_) => NoticeResponse::TAG,
            Self::NotificationResponse(_) => NotificationResponse::TAG,
            Self::ParameterDescription(_) => ParameterDescription::TAG,
            Self::ParameterStatus(_) => ParameterStatus::TAG,
            Self::ParseComplete(_) => ParseComplete::TAG,
            Self::PortalSuspended(_) => PortalSuspended::TAG,
            Self::ReadyForQuery(_) => ReadyForQuery::TAG,
            Self::RowDescription(_) => RowDescription::TAG,
        }
    }

    /// The message's name in the protocol documentation.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Authentication(_) => "Authentication",
            Self::BackendKeyData(_) => "BackendKeyData",
            Self::BindComplete(_) => "BindComplete",
            Self::CloseComplete(_) => "CloseComplete",
            Self::CommandComplete(_) => "CommandComplete",
            Self::CopyInResponse(_) => "CopyInResponse",
            Self::CopyOutResponse(_) => "CopyOutResponse",
            Self::CopyBothResponse(_) => "CopyBothResponse",
            Self::CopyData(_) => "CopyData",
            Self::CopyDone(_) => "CopyDone",
            Self::DataRow(_) => "DataRow",
            Self::EmptyQueryResponse(_) => "EmptyQueryResponse",
            Self::ErrorResponse(_) => "ErrorResponse",
            Self::FunctionCallResponse(_) => "FunctionCallResponse",
            Self::NegotiateProtocolVersion(_) => "NegotiateProtocolVersion",
            Self::NoData(_) => "NoData",
            Self::NoticeResponse(_) => "NoticeResponse",
            Self::NotificationResponse(_) => "NotificationResponse",
            Self::ParameterDescription(_) => "ParameterDescription",
            Self::ParameterStatus(_) => "ParameterStatus",
            Self::ParseComplete(_) => "ParseComplete",
            Self::PortalSuspended(_) => "PortalSuspended",
            Self::ReadyForQuery(_) => "ReadyForQuery",
            Self::RowDescription(_) => "RowDescription",
        }
    }

    /// Appends the framed message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Self::Authentication(m) => m.encode(buf),
            Self::BackendKeyData(m) => m.encode(buf),
            Self::BindComplete(m) => m.encode(buf),
            Self::CloseComplete(m) => m.encode(buf),
            Self::CommandComplete(m) => m.encode(buf),
            Self::CopyInResponse(m) => m.encode(buf),
            Self::CopyOutResponse(m) => m.encode(buf),
            Self::CopyBothResponse(m) => m.encode(buf),
            Self::CopyData(m) => m.encode(buf),
            Self::CopyDone(m) => m.encode(buf),
            Self::DataRow(m) => m.encode(buf),
            Self::EmptyQueryResponse(m) => m.encode(buf),
            Self::ErrorResponse(m) => m.encode(buf),
            Self::FunctionCallResponse(m) => m.encode(buf),
            Self::NegotiateProtocolVersion(m) => m.encode(buf),
            Self::NoData(m) => m.encode(buf),
            Self::NoticeResponse(m) => m.encode(buf),
            Self::NotificationResponse(m) => m.encode(buf),
            Self::ParameterDescription(m) => m.encode(buf),
            Self::ParameterStatus(m) => m.encode(buf),
            Self::ParseComplete(m) => m.encode(buf),
            Self::PortalSuspended(m) => m.encode(buf),
            Self::ReadyForQuery(m) => m.encode(buf),
            Self::RowDescription(m) => m.encode(buf),
        }
    }
}
