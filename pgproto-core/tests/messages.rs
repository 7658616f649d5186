//! Per-message tests: encoding against bytes written out from the protocol documentation,
//! decoding those bytes (whole, byte by byte and with trailing bytes), and the malformed
//! cases each message must reject with a typed error.

mod support;

use bytes::BytesMut;
use pgproto_core::message::*;
use pgproto_core::wire::Direction;
use pgproto_core::{DecodeError, EncodeError};
use support::frames_every_way;

/// Encodes `msg`, checks the bytes, frames them every way and decodes them back.
fn backend_case(msg: BackendMessage<'_>, expected: &[u8]) {
    let mut buf = BytesMut::new();
    msg.encode(&mut buf).unwrap();
    assert_eq!(&buf[..], expected, "{} encoding", msg.name());
    let frames = frames_every_way(Direction::Backend, expected);
    assert_eq!(frames.len(), 1);
    let decoded = BackendMessage::decode(frames[0].tag.unwrap(), &frames[0].body).unwrap();
    assert_eq!(decoded, msg);
}

fn frontend_case(msg: FrontendMessage<'_>, kind: AuthResponseKind, expected: &[u8]) {
    let mut buf = BytesMut::new();
    msg.encode(&mut buf).unwrap();
    assert_eq!(&buf[..], expected, "{} encoding", msg.name());
    // Tagged messages follow a minimal StartupMessage in the stream.
    let mut stream = BytesMut::new();
    let startup = msg.tag().is_some();
    if startup {
        stream.extend_from_slice(b"\x00\x00\x00\x09\x00\x03\x00\x00\x00");
    }
    stream.extend_from_slice(expected);
    let frames = frames_every_way(Direction::Frontend, &stream);
    let frame = frames.last().unwrap();
    assert_eq!(frames.len(), if startup { 2 } else { 1 });
    let decoded = FrontendMessage::decode(frame.tag, &frame.body, kind).unwrap();
    assert_eq!(decoded, msg);
}

fn backend_err(tag: u8, body: &[u8]) -> DecodeError {
    BackendMessage::decode(tag, body).unwrap_err()
}

fn frontend_err(tag: u8, body: &[u8]) -> DecodeError {
    FrontendMessage::decode(Some(tag), body, AuthResponseKind::Password).unwrap_err()
}

// ---------------------------------------------------------------- startup phase

#[test]
fn startup_message() {
    let params = [("user", "alice"), ("database", "db")];
    frontend_case(
        FrontendMessage::Startup(StartupMessage {
            protocol_version: ProtocolVersion::V3_2,
            parameters: List::new(&params),
        }),
        AuthResponseKind::Password,
        b"\x00\x00\x00\x20\x00\x03\x00\x02user\x00alice\x00database\x00db\x00\x00",
    );
    let m = StartupMessage::decode(b"\x00\x03\x00\x00user\x00bob\x00\x00").unwrap();
    assert_eq!(m.parameter("user"), Some("bob"));
    assert_eq!(m.protocol_version, ProtocolVersion::V3_0);
    // Missing final terminator.
    assert!(matches!(
        StartupMessage::decode(b"\x00\x03\x00\x00user\x00bob\x00"),
        Err(DecodeError::MissingNul { .. })
    ));
    // Value without NUL.
    assert!(matches!(
        StartupMessage::decode(b"\x00\x03\x00\x00user\x00bob"),
        Err(DecodeError::MissingNul {
            field: "parameters",
            ..
        })
    ));
    // Trailing bytes after the terminator.
    assert!(matches!(
        StartupMessage::decode(b"\x00\x03\x00\x00\x00x"),
        Err(DecodeError::TrailingBytes { count: 1, .. })
    ));
    // Unknown protocol major / request code.
    assert_eq!(
        FrontendMessage::decode_startup(b"\x00\x04\x00\x00\x00").unwrap_err(),
        DecodeError::UnknownStartupCode { code: 0x0004_0000 }
    );
    // Empty parameter names cannot be encoded (they would end the list).
    let bad = [("", "x")];
    let mut buf = BytesMut::new();
    assert!(matches!(
        StartupMessage {
            protocol_version: ProtocolVersion::V3_0,
            parameters: List::new(&bad)
        }
        .encode(&mut buf),
        Err(EncodeError::InvalidValue { .. })
    ));
    assert!(buf.is_empty(), "failed encode leaves the buffer as it was");
}

#[test]
fn ssl_and_gssenc_requests() {
    frontend_case(
        FrontendMessage::SslRequest(SslRequest),
        AuthResponseKind::Password,
        b"\x00\x00\x00\x08\x04\xd2\x16\x2f",
    );
    frontend_case(
        FrontendMessage::GssEncRequest(GssEncRequest),
        AuthResponseKind::Password,
        b"\x00\x00\x00\x08\x04\xd2\x16\x30",
    );
    assert!(matches!(
        SslRequest::decode(b"\x04\xd2\x16\x2fX"),
        Err(DecodeError::TrailingBytes { .. })
    ));
}

#[test]
fn cancel_request_both_key_lengths() {
    frontend_case(
        FrontendMessage::CancelRequest(CancelRequest {
            process_id: 1234,
            secret_key: &[1, 2, 3, 4],
        }),
        AuthResponseKind::Password,
        b"\x00\x00\x00\x10\x04\xd2\x16\x2e\x00\x00\x04\xd2\x01\x02\x03\x04",
    );
    let key = [7u8; 32];
    let mut buf = BytesMut::new();
    CancelRequest {
        process_id: 9,
        secret_key: &key,
    }
    .encode(&mut buf)
    .unwrap();
    assert_eq!(buf.len(), 12 + 32);
    let m = CancelRequest::decode(&buf[4..]).unwrap();
    assert_eq!(m.secret_key, &key);
    // 3-byte and 257-byte keys are invalid both ways.
    assert!(matches!(
        CancelRequest::decode(b"\x04\xd2\x16\x2e\x00\x00\x00\x01\x01\x02\x03"),
        Err(DecodeError::InvalidValue {
            field: "secret key length",
            value: 3,
            ..
        })
    ));
    let long = [0u8; 257];
    assert!(CancelRequest {
        process_id: 1,
        secret_key: &long
    }
    .encode(&mut BytesMut::new())
    .is_err());
}

#[test]
fn backend_key_data_both_key_lengths() {
    backend_case(
        BackendMessage::BackendKeyData(BackendKeyData {
            process_id: 42,
            secret_key: &[0xde, 0xad, 0xbe, 0xef],
        }),
        b"K\x00\x00\x00\x0c\x00\x00\x00\x2a\xde\xad\xbe\xef",
    );
    let key: Vec<u8> = (0..32).collect();
    let mut expected = b"K\x00\x00\x00\x28\x00\x00\x00\x07".to_vec();
    expected.extend_from_slice(&key);
    backend_case(
        BackendMessage::BackendKeyData(BackendKeyData {
            process_id: 7,
            secret_key: &key,
        }),
        &expected,
    );
    assert!(matches!(
        backend_err(b'K', b"\x00\x00\x00\x01"),
        DecodeError::InvalidValue { value: 0, .. }
    ));
    assert!(matches!(
        backend_err(b'K', b"\x00\x00"),
        DecodeError::Truncated {
            field: "process ID",
            ..
        }
    ));
}

#[test]
fn negotiate_protocol_version() {
    let opts = ["_pq_.foo"];
    backend_case(
        BackendMessage::NegotiateProtocolVersion(NegotiateProtocolVersion {
            newest_minor_version: 0,
            unrecognized_options: List::new(&opts),
        }),
        b"v\x00\x00\x00\x15\x00\x00\x00\x00\x00\x00\x00\x01_pq_.foo\x00",
    );
    // A count larger than the body could hold, and a negative count.
    assert!(matches!(
        backend_err(b'v', b"\x00\x00\x00\x00\x7f\xff\xff\xff"),
        DecodeError::InvalidValue {
            field: "option count",
            ..
        }
    ));
    assert!(matches!(
        backend_err(b'v', b"\x00\x00\x00\x00\xff\xff\xff\xff"),
        DecodeError::InvalidValue { value: -1, .. }
    ));
}

#[test]
fn parameter_status() {
    backend_case(
        BackendMessage::ParameterStatus(ParameterStatus {
            name: "TimeZone",
            value: "UTC",
        }),
        b"S\x00\x00\x00\x11TimeZone\x00UTC\x00",
    );
    assert!(matches!(
        backend_err(b'S', b"TimeZone\x00UTC"),
        DecodeError::MissingNul { field: "value", .. }
    ));
    assert!(matches!(
        backend_err(b'S', b"Time\xffZone\x00UTC\x00"),
        DecodeError::InvalidUtf8 { field: "name", .. }
    ));
}

// ---------------------------------------------------------------- authentication

#[test]
fn authentication_variants() {
    let cases: [(Authentication<'_>, &[u8]); 9] = [
        (Authentication::Ok, b"R\x00\x00\x00\x08\x00\x00\x00\x00"),
        (
            Authentication::KerberosV5,
            b"R\x00\x00\x00\x08\x00\x00\x00\x02",
        ),
        (
            Authentication::CleartextPassword,
            b"R\x00\x00\x00\x08\x00\x00\x00\x03",
        ),
        (
            Authentication::Md5Password { salt: *b"abcd" },
            b"R\x00\x00\x00\x0c\x00\x00\x00\x05abcd",
        ),
        (Authentication::Gss, b"R\x00\x00\x00\x08\x00\x00\x00\x07"),
        (
            Authentication::GssContinue { data: b"tok" },
            b"R\x00\x00\x00\x0b\x00\x00\x00\x08tok",
        ),
        (Authentication::Sspi, b"R\x00\x00\x00\x08\x00\x00\x00\x09"),
        (
            Authentication::SaslContinue { data: b"r=abc" },
            b"R\x00\x00\x00\x0d\x00\x00\x00\x0br=abc",
        ),
        (
            Authentication::SaslFinal { data: b"v=xyz" },
            b"R\x00\x00\x00\x0d\x00\x00\x00\x0cv=xyz",
        ),
    ];
    for (auth, bytes) in cases {
        backend_case(BackendMessage::Authentication(auth), bytes);
    }
    let mechs = ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"];
    backend_case(
        BackendMessage::Authentication(Authentication::Sasl {
            mechanisms: List::new(&mechs),
        }),
        b"R\x00\x00\x00\x2a\x00\x00\x00\x0aSCRAM-SHA-256-PLUS\x00SCRAM-SHA-256\x00\x00",
    );
    assert!(matches!(
        backend_err(b'R', b"\x00\x00\x00\x63"),
        DecodeError::InvalidValue { value: 99, .. }
    ));
    assert!(matches!(
        backend_err(b'R', b"\x00\x00\x00\x05ab"),
        DecodeError::Truncated {
            field: "salt",
            needed: 4,
            available: 2,
            ..
        }
    ));
    assert!(matches!(
        backend_err(b'R', b"\x00\x00\x00\x00\x00"),
        DecodeError::TrailingBytes { count: 1, .. }
    ));
    assert!(matches!(
        backend_err(b'R', b"\x00\x00\x00\x0aSCRAM-SHA-256\x00"),
        DecodeError::MissingNul {
            field: "mechanisms",
            ..
        }
    ));
}

#[test]
fn password_and_sasl_responses() {
    frontend_case(
        FrontendMessage::Password(PasswordMessage {
            password: b"md5abc",
        }),
        AuthResponseKind::Password,
        b"p\x00\x00\x00\x0bmd5abc\x00",
    );
    frontend_case(
        FrontendMessage::SaslInitialResponse(SaslInitialResponse {
            mechanism: "SCRAM-SHA-256",
            data: Some(b"n,,n=,r=abc"),
        }),
        AuthResponseKind::SaslInitial,
        b"p\x00\x00\x00\x21SCRAM-SHA-256\x00\x00\x00\x00\x0bn,,n=,r=abc",
    );
    frontend_case(
        FrontendMessage::SaslInitialResponse(SaslInitialResponse {
            mechanism: "X",
            data: None,
        }),
        AuthResponseKind::SaslInitial,
        b"p\x00\x00\x00\x0aX\x00\xff\xff\xff\xff",
    );
    frontend_case(
        FrontendMessage::SaslResponse(SaslResponse { data: b"c=biws" }),
        AuthResponseKind::Sasl,
        b"p\x00\x00\x00\x0ac=biws",
    );
    frontend_case(
        FrontendMessage::GssResponse(GssResponse { data: b"\x01\x02" }),
        AuthResponseKind::Gss,
        b"p\x00\x00\x00\x06\x01\x02",
    );
    // Initial response longer than the body; negative length other than -1.
    assert!(matches!(
        FrontendMessage::decode(
            Some(b'p'),
            b"X\x00\x00\x00\x00\x10ab",
            AuthResponseKind::SaslInitial
        ),
        Err(DecodeError::Truncated {
            field: "initial response",
            ..
        })
    ));
    assert!(matches!(
        FrontendMessage::decode(
            Some(b'p'),
            b"X\x00\xff\xff\xff\xfe",
            AuthResponseKind::SaslInitial
        ),
        Err(DecodeError::InvalidValue { value: -2, .. })
    ));
    assert!(matches!(
        frontend_err(b'p', b"secret"),
        DecodeError::MissingNul {
            field: "password",
            ..
        }
    ));
    let mut buf = BytesMut::new();
    assert_eq!(
        PasswordMessage { password: b"a\0b" }.encode(&mut buf),
        Err(EncodeError::InteriorNul {
            message: "PasswordMessage",
            field: "password"
        })
    );
    assert!(buf.is_empty());
}

// ---------------------------------------------------------------- simple query

#[test]
fn query_and_results() {
    frontend_case(
        FrontendMessage::Query(Query { query: "select 1" }),
        AuthResponseKind::Password,
        b"Q\x00\x00\x00\x0dselect 1\x00",
    );
    let fields = [FieldDescription {
        name: "a",
        table_oid: 0,
        column_id: 0,
        type_oid: 23,
        type_size: 4,
        type_modifier: -1,
        format: Format::Text,
    }];
    backend_case(
        BackendMessage::RowDescription(RowDescription {
            fields: List::new(&fields),
        }),
        b"T\x00\x00\x00\x1a\x00\x01a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x00",
    );
    let values = [Some(&b"1"[..]), None, Some(&b""[..])];
    backend_case(
        BackendMessage::DataRow(DataRow {
            values: List::new(&values),
        }),
        b"D\x00\x00\x00\x13\x00\x03\x00\x00\x00\x011\xff\xff\xff\xff\x00\x00\x00\x00",
    );
    backend_case(
        BackendMessage::CommandComplete(CommandComplete { tag: "SELECT 1" }),
        b"C\x00\x00\x00\x0dSELECT 1\x00",
    );
    backend_case(
        BackendMessage::EmptyQueryResponse(EmptyQueryResponse),
        b"I\x00\x00\x00\x04",
    );
    for (status, b) in [
        (TransactionStatus::Idle, b'I'),
        (TransactionStatus::InTransaction, b'T'),
        (TransactionStatus::Failed, b'E'),
    ] {
        backend_case(
            BackendMessage::ReadyForQuery(ReadyForQuery { status }),
            &[b'Z', 0, 0, 0, 5, b],
        );
    }
    assert_eq!(CommandComplete { tag: "INSERT 0 5" }.rows(), Some(5));
    assert_eq!(CommandComplete { tag: "BEGIN" }.rows(), None);

    // DataRow: -2 length, length beyond the body, count beyond the body, trailing bytes.
    assert!(matches!(
        backend_err(b'D', b"\x00\x01\xff\xff\xff\xfe"),
        DecodeError::InvalidValue {
            field: "column value",
            value: -2,
            ..
        }
    ));
    assert!(matches!(
        backend_err(b'D', b"\x00\x01\x00\x00\x00\x05abc"),
        DecodeError::Truncated {
            field: "column value",
            needed: 5,
            available: 3,
            ..
        }
    ));
    assert!(matches!(
        backend_err(b'D', b"\x00\x02\xff\xff\xff\xff"),
        DecodeError::Truncated { .. }
    ));
    assert!(matches!(
        backend_err(b'D', b"\x00\x00\x00"),
        DecodeError::TrailingBytes {
            message: "DataRow",
            count: 1
        }
    ));
    assert!(matches!(
        backend_err(b'Z', b"X"),
        DecodeError::InvalidValue {
            field: "transaction status",
            ..
        }
    ));
    assert!(matches!(
        backend_err(b'I', b"x"),
        DecodeError::TrailingBytes {
            message: "EmptyQueryResponse",
            ..
        }
    ));
    // RowDescription with a bad format code in a field.
    assert!(matches!(
        backend_err(
            b'T',
            b"\x00\x01a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x07"
        ),
        DecodeError::InvalidValue { field: "format code", value: 7, .. }
    ));
}

// ---------------------------------------------------------------- extended query

#[test]
fn extended_query_messages() {
    frontend_case(
        FrontendMessage::Parse(Parse {
            statement: "s1",
            query: "select $1",
            param_types: List::new(&[23]),
        }),
        AuthResponseKind::Password,
        b"P\x00\x00\x00\x17s1\x00select $1\x00\x00\x01\x00\x00\x00\x17",
    );
    let params = [Some(&b"\x00\x00\x00\x07"[..]), None];
    frontend_case(
        FrontendMessage::Bind(Bind {
            portal: "",
            statement: "s1",
            param_formats: List::new(&[Format::Binary]),
            params: List::new(&params),
            result_formats: List::new(&[Format::Text, Format::Binary]),
        }),
        AuthResponseKind::Password,
        b"B\x00\x00\x00\x20\x00s1\x00\x00\x01\x00\x01\x00\x02\x00\x00\x00\x04\x00\x00\x00\x07\xff\xff\xff\xff\x00\x02\x00\x00\x00\x01",
    );
    frontend_case(
        FrontendMessage::Describe(Describe {
            target: Target::Statement,
            name: "s1",
        }),
        AuthResponseKind::Password,
        b"D\x00\x00\x00\x08Ss1\x00",
    );
    frontend_case(
        FrontendMessage::Execute(Execute {
            portal: "",
            max_rows: 100,
        }),
        AuthResponseKind::Password,
        b"E\x00\x00\x00\x09\x00\x00\x00\x00\x64",
    );
    frontend_case(
        FrontendMessage::Close(Close {
            target: Target::Portal,
            name: "p",
        }),
        AuthResponseKind::Password,
        b"C\x00\x00\x00\x07Pp\x00",
    );
    frontend_case(
        FrontendMessage::Sync(Sync),
        AuthResponseKind::Password,
        b"S\x00\x00\x00\x04",
    );
    frontend_case(
        FrontendMessage::Flush(Flush),
        AuthResponseKind::Password,
        b"H\x00\x00\x00\x04",
    );
    frontend_case(
        FrontendMessage::Terminate(Terminate),
        AuthResponseKind::Password,
        b"X\x00\x00\x00\x04",
    );
    backend_case(
        BackendMessage::ParseComplete(ParseComplete),
        b"1\x00\x00\x00\x04",
    );
    backend_case(
        BackendMessage::BindComplete(BindComplete),
        b"2\x00\x00\x00\x04",
    );
    backend_case(
        BackendMessage::CloseComplete(CloseComplete),
        b"3\x00\x00\x00\x04",
    );
    backend_case(BackendMessage::NoData(NoData), b"n\x00\x00\x00\x04");
    backend_case(
        BackendMessage::PortalSuspended(PortalSuspended),
        b"s\x00\x00\x00\x04",
    );
    backend_case(
        BackendMessage::ParameterDescription(ParameterDescription {
            types: List::new(&[23, 25]),
        }),
        b"t\x00\x00\x00\x0e\x00\x02\x00\x00\x00\x17\x00\x00\x00\x19",
    );

    let bind =
        Bind::decode(b"\x00s\x00\x00\x00\x00\x02\x00\x00\x00\x01a\xff\xff\xff\xff\x00\x01\x00\x01")
            .unwrap();
    assert_eq!(bind.param_format(1), Some(Format::Text));
    assert_eq!(bind.result_format(5), Some(Format::Binary));

    assert!(matches!(
        frontend_err(b'D', b"Xs1\x00"),
        DecodeError::InvalidValue {
            field: "target",
            ..
        }
    ));
    assert!(matches!(
        frontend_err(b'B', b"\x00s\x00\x00\x01\x00\x02\x00\x00"),
        DecodeError::InvalidValue {
            field: "parameter format",
            value: 2,
            ..
        }
    ));
    assert!(matches!(
        frontend_err(b'B', b"\x00s\x00\x00\x00\x00\x01\x80\x00\x00\x00"),
        DecodeError::InvalidValue {
            field: "parameter value",
            ..
        }
    ));
    assert!(matches!(
        frontend_err(b'E', b"\x00\x00\x00"),
        DecodeError::Truncated {
            field: "maximum rows",
            ..
        }
    ));
    assert!(matches!(
        frontend_err(b'S', b"\x00"),
        DecodeError::TrailingBytes {
            message: "Sync",
            ..
        }
    ));
    // ParameterDescription counts are unsigned: 65,535 parameters is legal, but the body
    // must hold them.
    assert!(matches!(
        backend_err(b't', b"\xff\xff\x00\x00\x00\x17"),
        DecodeError::Truncated { .. }
    ));
    // More than 65,535 parameters cannot be encoded.
    let many = vec![None; 65_536];
    assert!(matches!(
        Bind {
            portal: "",
            statement: "",
            param_formats: List::empty(),
            params: List::new(&many),
            result_formats: List::empty(),
        }
        .encode(&mut BytesMut::new()),
        Err(EncodeError::TooManyItems { count: 65_536, .. })
    ));
}

// ---------------------------------------------------------------- COPY

#[test]
fn copy_messages() {
    backend_case(
        BackendMessage::CopyInResponse(CopyInResponse {
            format: Format::Text,
            column_formats: List::new(&[Format::Text, Format::Text]),
        }),
        b"G\x00\x00\x00\x0b\x00\x00\x02\x00\x00\x00\x00",
    );
    backend_case(
        BackendMessage::CopyOutResponse(CopyOutResponse {
            format: Format::Binary,
            column_formats: List::new(&[Format::Binary]),
        }),
        b"H\x00\x00\x00\x09\x01\x00\x01\x00\x01",
    );
    backend_case(
        BackendMessage::CopyBothResponse(CopyBothResponse {
            format: Format::Binary,
            column_formats: List::empty(),
        }),
        b"W\x00\x00\x00\x07\x01\x00\x00",
    );
    backend_case(
        BackendMessage::CopyData(CopyData { data: b"1\tx\n" }),
        b"d\x00\x00\x00\x081\tx\n",
    );
    backend_case(BackendMessage::CopyDone(CopyDone), b"c\x00\x00\x00\x04");
    frontend_case(
        FrontendMessage::CopyData(CopyData { data: b"abc" }),
        AuthResponseKind::Password,
        b"d\x00\x00\x00\x07abc",
    );
    frontend_case(
        FrontendMessage::CopyDone(CopyDone),
        AuthResponseKind::Password,
        b"c\x00\x00\x00\x04",
    );
    frontend_case(
        FrontendMessage::CopyFail(CopyFail { message: "nope" }),
        AuthResponseKind::Password,
        b"f\x00\x00\x00\x09nope\x00",
    );
    assert!(matches!(
        backend_err(b'G', b"\x02\x00\x00"),
        DecodeError::InvalidValue {
            field: "overall format",
            value: 2,
            ..
        }
    ));
}

// ---------------------------------------------------------------- errors, notices, notifications

#[test]
fn error_notice_and_notification() {
    let fields = [
        ErrorField::new(FieldCode::Severity, "ERROR"),
        ErrorField::new(FieldCode::SeverityNonLocalized, "ERROR"),
        ErrorField::new(FieldCode::Code, "22012"),
        ErrorField::new(FieldCode::Message, "division by zero"),
    ];
    let mut expected = b"E\x00\x00\x00\x2c".to_vec();
    expected.extend_from_slice(b"SERROR\x00VERROR\x00C22012\x00Mdivision by zero\x00\x00");
    backend_case(
        BackendMessage::ErrorResponse(ErrorResponse {
            fields: List::new(&fields),
        }),
        &expected,
    );
    let e = ErrorResponse::decode(&expected[5..]).unwrap();
    assert_eq!(e.code(), Some("22012"));
    assert_eq!(e.severity(), Some("ERROR"));
    assert_eq!(e.message(), Some("division by zero"));
    assert_eq!(e.field(FieldCode::Hint), None);

    // Every documented field code maps to a variant and back; unknown codes survive.
    for b in b"SVCMDHPpqWstcdnFLR".iter().copied() {
        let code = FieldCode::from_byte(b);
        assert!(!matches!(code, FieldCode::Other(_)), "{}", char::from(b));
        assert_eq!(code.byte(), b);
    }
    let n = NoticeResponse::decode(b"SNOTICE\x00Zfuture\x00\x00").unwrap();
    assert_eq!(n.fields.get(1).unwrap().code, FieldCode::Other(b'Z'));
    assert_eq!(n.severity(), Some("NOTICE"));

    backend_case(
        BackendMessage::NotificationResponse(NotificationResponse {
            process_id: 5,
            channel: "c",
            payload: "hi",
        }),
        b"A\x00\x00\x00\x0d\x00\x00\x00\x05c\x00hi\x00",
    );
    assert!(matches!(
        backend_err(b'E', b"SERROR\x00"),
        DecodeError::MissingNul {
            field: "fields",
            ..
        }
    ));
    assert!(matches!(
        backend_err(b'N', b"SNOTICE"),
        DecodeError::MissingNul { .. }
    ));
}

// ---------------------------------------------------------------- function call

#[test]
fn function_call() {
    let args = [Some(&b"\x00\x00\x00\x01"[..]), None];
    frontend_case(
        FrontendMessage::FunctionCall(FunctionCall {
            function_oid: 1598,
            arg_formats: List::new(&[Format::Binary]),
            args: List::new(&args),
            result_format: Format::Binary,
        }),
        AuthResponseKind::Password,
        b"F\x00\x00\x00\x1c\x00\x00\x06\x3e\x00\x01\x00\x01\x00\x02\x00\x00\x00\x04\x00\x00\x00\x01\xff\xff\xff\xff\x00\x01",
    );
    backend_case(
        BackendMessage::FunctionCallResponse(FunctionCallResponse { value: Some(b"42") }),
        b"V\x00\x00\x00\x0a\x00\x00\x00\x0242",
    );
    backend_case(
        BackendMessage::FunctionCallResponse(FunctionCallResponse { value: None }),
        b"V\x00\x00\x00\x08\xff\xff\xff\xff",
    );
    assert!(matches!(
        frontend_err(b'F', b"\x00\x00\x06\x3e\x00\x00\x00\x00"),
        DecodeError::Truncated {
            field: "result format",
            ..
        }
    ));
}

#[test]
fn unknown_tags_are_typed_errors() {
    assert_eq!(
        backend_err(b'?', b""),
        DecodeError::UnknownTag {
            direction: "backend",
            tag: b'?'
        }
    );
    assert_eq!(
        frontend_err(0x01, b""),
        DecodeError::UnknownTag {
            direction: "frontend",
            tag: 1
        }
    );
    assert_eq!(
        frontend_err(0x01, b"").to_string(),
        "unknown frontend message type 0x01"
    );
    assert_eq!(
        backend_err(b'D', b"\x00\x01\x00\x00\x00\x05abc").to_string(),
        "DataRow: field column value is truncated (5 bytes needed, 3 available)"
    );
}
