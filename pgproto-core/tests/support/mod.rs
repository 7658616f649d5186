//! Shared test helpers: owned mirrors of every message (for proptest strategies), and
//! decoding helpers that check whole, byte-at-a-time and chunked delivery agree.
#![allow(dead_code, unreachable_pub)]

use bytes::{Bytes, BytesMut};
use pgproto_core::message::*;
use pgproto_core::wire::{Direction, Frame, Framer, Limits};
use pgproto_core::DecodeError;
use proptest::prelude::*;

/// Splits `bytes` into frames, feeding it in pieces of the given sizes (cycled).
pub fn frames(
    direction: Direction,
    bytes: &[u8],
    piece_sizes: &[usize],
) -> Result<Vec<Frame<Bytes>>, DecodeError> {
    let mut framer = Framer::new(direction, Limits::default());
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut sizes = piece_sizes.iter().copied().cycle();
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(rest.len()).clamp(1, rest.len());
        let (piece, tail) = rest.split_at(n);
        rest = tail;
        framer.push(piece);
        while let Some(frame) = framer.next_frame()? {
            out.push(frame);
        }
    }
    assert_eq!(framer.buffered_len(), 0, "incomplete frame left over");
    Ok(out)
}

/// Frames `bytes` whole, one byte at a time, and with trailing garbage (which must stay
/// buffered as an incomplete frame or fail), asserting identical frames each way.
pub fn frames_every_way(direction: Direction, bytes: &[u8]) -> Vec<Frame<Bytes>> {
    let whole = frames(direction, bytes, &[bytes.len().max(1)]).expect("decodes whole");
    let bytewise = frames(direction, bytes, &[1]).expect("decodes byte by byte");
    assert_eq!(whole, bytewise, "byte-at-a-time framing differs");
    // Trailing bytes: a partial header must not produce a frame.
    let mut framer = Framer::new(direction, Limits::default());
    framer.push(bytes);
    framer.push(b"Z\x00\x00");
    let mut n = 0;
    while let Some(_f) = framer.next_frame_ref().expect("valid prefix decodes") {
        n += 1;
    }
    assert_eq!(n, whole.len(), "trailing partial frame changed the frames");
    assert_eq!(framer.buffered_len(), 3);
    whole
}

/// Decodes backend frames to their Debug forms.
pub fn decode_backend(frames: &[Frame<Bytes>]) -> Result<Vec<String>, DecodeError> {
    frames
        .iter()
        .map(|f| {
            let tag = f.tag.expect("backend frames are tagged");
            BackendMessage::decode(tag, &f.body).map(|m| format!("{m:?}"))
        })
        .collect()
}

pub fn text() -> impl Strategy<Value = String> {
    "[^\x00]{0,12}"
}

pub fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z_.][a-zA-Z0-9_.]{0,10}"
}

pub fn blob(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

pub fn value() -> impl Strategy<Value = Option<Vec<u8>>> {
    proptest::option::weighted(0.85, blob(24))
}

pub fn format() -> impl Strategy<Value = Format> {
    prop_oneof![Just(Format::Text), Just(Format::Binary)]
}

pub fn formats() -> impl Strategy<Value = Vec<Format>> {
    proptest::collection::vec(format(), 0..4)
}

pub fn target() -> impl Strategy<Value = Target> {
    prop_oneof![Just(Target::Statement), Just(Target::Portal)]
}

pub fn secret_key() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), MIN_SECRET_KEY_LEN..=MAX_SECRET_KEY_LEN)
}

fn refs(values: &[Option<Vec<u8>>]) -> Vec<Option<&[u8]>> {
    values.iter().map(|v| v.as_deref()).collect()
}

/// An owned frontend message, from which a borrowed [`FrontendMessage`] is built.
#[derive(Debug, Clone)]
pub enum OwnedFrontend {
    Startup(u16, Vec<(String, String)>),
    SslRequest,
    GssEncRequest,
    CancelRequest(i32, Vec<u8>),
    Password(Vec<u8>),
    SaslInitialResponse(String, Option<Vec<u8>>),
    SaslResponse(Vec<u8>),
    GssResponse(Vec<u8>),
    Query(String),
    Parse(String, String, Vec<u32>),
    Bind(
        String,
        String,
        Vec<Format>,
        Vec<Option<Vec<u8>>>,
        Vec<Format>,
    ),
    Describe(Target, String),
    Execute(String, i32),
    Sync,
    Flush,
    Close(Target, String),
    CopyData(Vec<u8>),
    CopyDone,
    CopyFail(String),
    FunctionCall(u32, Vec<Format>, Vec<Option<Vec<u8>>>, Format),
    Terminate,
}

impl OwnedFrontend {
    /// Which `p` message this is, for decoding.
    pub fn auth_kind(&self) -> AuthResponseKind {
        match self {
            Self::SaslInitialResponse(..) => AuthResponseKind::SaslInitial,
            Self::SaslResponse(_) => AuthResponseKind::Sasl,
            Self::GssResponse(_) => AuthResponseKind::Gss,
            _ => AuthResponseKind::Password,
        }
    }

    pub fn is_startup_packet(&self) -> bool {
        matches!(
            self,
            Self::Startup(..) | Self::SslRequest | Self::GssEncRequest | Self::CancelRequest(..)
        )
    }

    /// Builds the borrowed message and hands it to `f`.
    pub fn with<R>(&self, f: impl FnOnce(FrontendMessage<'_>) -> R) -> R {
        match self {
            Self::Startup(minor, params) => {
                let p: Vec<(&str, &str)> = params
                    .iter()
                    .map(|(a, b)| (a.as_str(), b.as_str()))
                    .collect();
                f(FrontendMessage::Startup(StartupMessage {
                    protocol_version: ProtocolVersion {
                        major: 3,
                        minor: *minor,
                    },
                    parameters: List::new(&p),
                }))
            }
            Self::SslRequest => f(FrontendMessage::SslRequest(SslRequest)),
            Self::GssEncRequest => f(FrontendMessage::GssEncRequest(GssEncRequest)),
            Self::CancelRequest(pid, key) => f(FrontendMessage::CancelRequest(CancelRequest {
                process_id: *pid,
                secret_key: key,
            })),
            Self::Password(p) => f(FrontendMessage::Password(PasswordMessage { password: p })),
            Self::SaslInitialResponse(m, d) => {
                f(FrontendMessage::SaslInitialResponse(SaslInitialResponse {
                    mechanism: m,
                    data: d.as_deref(),
                }))
            }
            Self::SaslResponse(d) => f(FrontendMessage::SaslResponse(SaslResponse { data: d })),
            Self::GssResponse(d) => f(FrontendMessage::GssResponse(GssResponse { data: d })),
            Self::Query(q) => f(FrontendMessage::Query(Query { query: q })),
            Self::Parse(s, q, t) => f(FrontendMessage::Parse(Parse {
                statement: s,
                query: q,
                param_types: List::new(t),
            })),
            Self::Bind(p, s, pf, v, rf) => {
                let v = refs(v);
                f(FrontendMessage::Bind(Bind {
                    portal: p,
                    statement: s,
                    param_formats: List::new(pf),
                    params: List::new(&v),
                    result_formats: List::new(rf),
                }))
            }
            Self::Describe(t, n) => f(FrontendMessage::Describe(Describe {
                target: *t,
                name: n,
            })),
            Self::Execute(p, m) => f(FrontendMessage::Execute(Execute {
                portal: p,
                max_rows: *m,
            })),
            Self::Sync => f(FrontendMessage::Sync(Sync)),
            Self::Flush => f(FrontendMessage::Flush(Flush)),
            Self::Close(t, n) => f(FrontendMessage::Close(Close {
                target: *t,
                name: n,
            })),
            Self::CopyData(d) => f(FrontendMessage::CopyData(CopyData { data: d })),
            Self::CopyDone => f(FrontendMessage::CopyDone(CopyDone)),
            Self::CopyFail(m) => f(FrontendMessage::CopyFail(CopyFail { message: m })),
            Self::FunctionCall(oid, af, a, rf) => {
                let a = refs(a);
                f(FrontendMessage::FunctionCall(FunctionCall {
                    function_oid: *oid,
                    arg_formats: List::new(af),
                    args: List::new(&a),
                    result_format: *rf,
                }))
            }
            Self::Terminate => f(FrontendMessage::Terminate(Terminate)),
        }
    }
}

pub fn startup_packet() -> impl Strategy<Value = OwnedFrontend> {
    prop_oneof![
        (
            prop_oneof![Just(0u16), Just(2u16), any::<u16>()],
            proptest::collection::vec((name(), text()), 0..5)
        )
            .prop_map(|(m, p)| OwnedFrontend::Startup(m, p)),
        Just(OwnedFrontend::SslRequest),
        Just(OwnedFrontend::GssEncRequest),
        (any::<i32>(), secret_key()).prop_map(|(p, k)| OwnedFrontend::CancelRequest(p, k)),
    ]
}

pub fn tagged_frontend() -> impl Strategy<Value = OwnedFrontend> {
    prop_oneof![
        proptest::collection::vec(1u8..=255, 0..20).prop_map(OwnedFrontend::Password),
        (name(), proptest::option::of(blob(40)))
            .prop_map(|(m, d)| OwnedFrontend::SaslInitialResponse(m, d)),
        blob(40).prop_map(OwnedFrontend::SaslResponse),
        blob(40).prop_map(OwnedFrontend::GssResponse),
        text().prop_map(OwnedFrontend::Query),
        (
            text(),
            text(),
            proptest::collection::vec(any::<u32>(), 0..5)
        )
            .prop_map(|(s, q, t)| OwnedFrontend::Parse(s, q, t)),
        (
            text(),
            text(),
            formats(),
            proptest::collection::vec(value(), 0..6),
            formats()
        )
            .prop_map(|(p, s, pf, v, rf)| OwnedFrontend::Bind(p, s, pf, v, rf)),
        (target(), text()).prop_map(|(t, n)| OwnedFrontend::Describe(t, n)),
        (text(), any::<i32>()).prop_map(|(p, m)| OwnedFrontend::Execute(p, m)),
        Just(OwnedFrontend::Sync),
        Just(OwnedFrontend::Flush),
        (target(), text()).prop_map(|(t, n)| OwnedFrontend::Close(t, n)),
        blob(64).prop_map(OwnedFrontend::CopyData),
        Just(OwnedFrontend::CopyDone),
        text().prop_map(OwnedFrontend::CopyFail),
        (
            any::<u32>(),
            formats(),
            proptest::collection::vec(value(), 0..5),
            format()
        )
            .prop_map(|(o, af, a, rf)| OwnedFrontend::FunctionCall(o, af, a, rf)),
        Just(OwnedFrontend::Terminate),
    ]
}

pub fn any_frontend() -> impl Strategy<Value = OwnedFrontend> {
    prop_oneof![startup_packet(), tagged_frontend()]
}

/// An owned backend message, from which a borrowed [`BackendMessage`] is built.
#[derive(Debug, Clone)]
pub enum OwnedBackend {
    Auth(u8, Vec<u8>, Vec<String>),
    BackendKeyData(i32, Vec<u8>),
    BindComplete,
    CloseComplete,
    CommandComplete(String),
    CopyIn(Format, Vec<Format>),
    CopyOut(Format, Vec<Format>),
    CopyBoth(Format, Vec<Format>),
    CopyData(Vec<u8>),
    CopyDone,
    DataRow(Vec<Option<Vec<u8>>>),
    EmptyQueryResponse,
    Error(Vec<(u8, String)>),
    Notice(Vec<(u8, String)>),
    FunctionCallResponse(Option<Vec<u8>>),
    NegotiateProtocolVersion(u32, Vec<String>),
    NoData,
    Notification(i32, String, String),
    ParameterDescription(Vec<u32>),
    ParameterStatus(String, String),
    ParseComplete,
    PortalSuspended,
    ReadyForQuery(TransactionStatus),
    RowDescription(Vec<(String, u32, i16, u32, i16, i32, Format)>),
}

impl OwnedBackend {
    pub fn with<R>(&self, f: impl FnOnce(BackendMessage<'_>) -> R) -> R {
        use BackendMessage as B;
        match self {
            Self::Auth(kind, data, mechs) => {
                let m: Vec<&str> = mechs.iter().map(String::as_str).collect();
                let auth = match kind % 10 {
                    0 => Authentication::Ok,
                    1 => Authentication::KerberosV5,
                    2 => Authentication::CleartextPassword,
                    3 => Authentication::Md5Password {
                        salt: [data.first().copied().unwrap_or(1), 2, 3, 4],
                    },
                    4 => Authentication::Gss,
                    5 => Authentication::GssContinue { data },
                    6 => Authentication::Sspi,
                    7 => Authentication::Sasl {
                        mechanisms: List::new(&m),
                    },
                    8 => Authentication::SaslContinue { data },
                    _ => Authentication::SaslFinal { data },
                };
                f(B::Authentication(auth))
            }
            Self::BackendKeyData(p, k) => f(B::BackendKeyData(BackendKeyData {
                process_id: *p,
                secret_key: k,
            })),
            Self::BindComplete => f(B::BindComplete(BindComplete)),
            Self::CloseComplete => f(B::CloseComplete(CloseComplete)),
            Self::CommandComplete(t) => f(B::CommandComplete(CommandComplete { tag: t })),
            Self::CopyIn(fm, c) => f(B::CopyInResponse(CopyInResponse {
                format: *fm,
                column_formats: List::new(c),
            })),
            Self::CopyOut(fm, c) => f(B::CopyOutResponse(CopyOutResponse {
                format: *fm,
                column_formats: List::new(c),
            })),
            Self::CopyBoth(fm, c) => f(B::CopyBothResponse(CopyBothResponse {
                format: *fm,
                column_formats: List::new(c),
            })),
            Self::CopyData(d) => f(B::CopyData(CopyData { data: d })),
            Self::CopyDone => f(B::CopyDone(CopyDone)),
            Self::DataRow(v) => {
                let v = refs(v);
                f(B::DataRow(DataRow {
                    values: List::new(&v),
                }))
            }
            Self::EmptyQueryResponse => f(B::EmptyQueryResponse(EmptyQueryResponse)),
            Self::Error(fields) | Self::Notice(fields) => {
                let fs: Vec<ErrorField<'_>> = fields
                    .iter()
                    .map(|(c, v)| ErrorField::new(FieldCode::from_byte(*c), v))
                    .collect();
                let fields = List::new(&fs);
                if matches!(self, Self::Error(_)) {
                    f(B::ErrorResponse(ErrorResponse { fields }))
                } else {
                    f(B::NoticeResponse(NoticeResponse { fields }))
                }
            }
            Self::FunctionCallResponse(v) => f(B::FunctionCallResponse(FunctionCallResponse {
                value: v.as_deref(),
            })),
            Self::NegotiateProtocolVersion(v, o) => {
                let o: Vec<&str> = o.iter().map(String::as_str).collect();
                f(B::NegotiateProtocolVersion(NegotiateProtocolVersion {
                    newest_minor_version: *v,
                    unrecognized_options: List::new(&o),
                }))
            }
            Self::NoData => f(B::NoData(NoData)),
            Self::Notification(p, c, pl) => f(B::NotificationResponse(NotificationResponse {
                process_id: *p,
                channel: c,
                payload: pl,
            })),
            Self::ParameterDescription(t) => f(B::ParameterDescription(ParameterDescription {
                types: List::new(t),
            })),
            Self::ParameterStatus(n, v) => {
                f(B::ParameterStatus(ParameterStatus { name: n, value: v }))
            }
            Self::ParseComplete => f(B::ParseComplete(ParseComplete)),
            Self::PortalSuspended => f(B::PortalSuspended(PortalSuspended)),
            Self::ReadyForQuery(s) => f(B::ReadyForQuery(ReadyForQuery { status: *s })),
            Self::RowDescription(fields) => {
                let fs: Vec<FieldDescription<'_>> = fields
                    .iter()
                    .map(|(n, t, c, ty, sz, m, fm)| FieldDescription {
                        name: n,
                        table_oid: *t,
                        column_id: *c,
                        type_oid: *ty,
                        type_size: *sz,
                        type_modifier: *m,
                        format: *fm,
                    })
                    .collect();
                f(B::RowDescription(RowDescription {
                    fields: List::new(&fs),
                }))
            }
        }
    }
}

fn error_fields() -> impl Strategy<Value = Vec<(u8, String)>> {
    proptest::collection::vec((1u8..=255, text()), 0..6)
}

pub fn any_backend() -> impl Strategy<Value = OwnedBackend> {
    prop_oneof![
        (
            any::<u8>(),
            blob(40),
            proptest::collection::vec(name(), 0..3)
        )
            .prop_map(|(k, d, m)| OwnedBackend::Auth(k, d, m)),
        (any::<i32>(), secret_key()).prop_map(|(p, k)| OwnedBackend::BackendKeyData(p, k)),
        Just(OwnedBackend::BindComplete),
        Just(OwnedBackend::CloseComplete),
        text().prop_map(OwnedBackend::CommandComplete),
        (format(), formats()).prop_map(|(f, c)| OwnedBackend::CopyIn(f, c)),
        (format(), formats()).prop_map(|(f, c)| OwnedBackend::CopyOut(f, c)),
        (format(), formats()).prop_map(|(f, c)| OwnedBackend::CopyBoth(f, c)),
        blob(64).prop_map(OwnedBackend::CopyData),
        Just(OwnedBackend::CopyDone),
        proptest::collection::vec(value(), 0..8).prop_map(OwnedBackend::DataRow),
        Just(OwnedBackend::EmptyQueryResponse),
        error_fields().prop_map(OwnedBackend::Error),
        error_fields().prop_map(OwnedBackend::Notice),
        value().prop_map(OwnedBackend::FunctionCallResponse),
        (any::<u32>(), proptest::collection::vec(text(), 0..3))
            .prop_map(|(v, o)| OwnedBackend::NegotiateProtocolVersion(v, o)),
        Just(OwnedBackend::NoData),
        (any::<i32>(), text(), text()).prop_map(|(p, c, pl)| OwnedBackend::Notification(p, c, pl)),
        proptest::collection::vec(any::<u32>(), 0..6).prop_map(OwnedBackend::ParameterDescription),
        (text(), text()).prop_map(|(n, v)| OwnedBackend::ParameterStatus(n, v)),
        Just(OwnedBackend::ParseComplete),
        Just(OwnedBackend::PortalSuspended),
        prop_oneof![
            Just(TransactionStatus::Idle),
            Just(TransactionStatus::InTransaction),
            Just(TransactionStatus::Failed)
        ]
        .prop_map(OwnedBackend::ReadyForQuery),
        proptest::collection::vec(
            (
                text(),
                any::<u32>(),
                any::<i16>(),
                any::<u32>(),
                any::<i16>(),
                any::<i32>(),
                format()
            ),
            0..5
        )
        .prop_map(OwnedBackend::RowDescription),
    ]
}

/// Encodes a frontend message.
pub fn encode_frontend(m: &OwnedFrontend) -> BytesMut {
    let mut buf = BytesMut::new();
    m.with(|msg| msg.encode(&mut buf)).expect("encodes");
    buf
}

/// Encodes a backend message.
pub fn encode_backend(m: &OwnedBackend) -> BytesMut {
    let mut buf = BytesMut::new();
    m.with(|msg| msg.encode(&mut buf)).expect("encodes");
    buf
}
