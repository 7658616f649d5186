//! Decodes byte streams recorded from real PostgreSQL 15 and 18 sessions
//! (`tests/data/`, see its README): every message of both directions decodes, re-encodes
//! to the exact bytes PostgreSQL or its client sent, and framing is the same whether the
//! stream arrives whole, byte by byte or in odd-sized chunks.

mod support;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;

use bytes::{Bytes, BytesMut};
use pgproto_core::message::*;
use pgproto_core::wire::{Direction, Frame};
use support::{frames, frames_every_way};

fn read(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Frames a stream every way and checks odd chunk sizes agree.
fn frame_all(direction: Direction, bytes: &[u8]) -> Vec<Frame<Bytes>> {
    let whole = frames_every_way(direction, bytes);
    for sizes in [&[3usize, 7, 1, 64][..], &[4096], &[5, 2]] {
        assert_eq!(frames(direction, bytes, sizes).unwrap(), whole);
    }
    whole
}

fn reencode_backend(msg: &BackendMessage<'_>, frame: &Frame<Bytes>) {
    let mut out = BytesMut::new();
    msg.encode(&mut out).unwrap();
    assert_eq!(
        &out[5..],
        &frame.body[..],
        "{} re-encodes differently",
        msg.name()
    );
}

struct Session {
    backend: Vec<String>,
    frontend: Vec<String>,
    protocol: ProtocolVersion,
    secret_key_len: usize,
    error_codes: Vec<String>,
    parameters: BTreeMap<String, String>,
}

/// Decodes both directions of recording `name`. The kind of each client `p` message is
/// taken from the server's authentication requests, as a server would know it.
fn decode_session(name: &str) -> Session {
    let backend_bytes = read(&format!("{name}.backend.bin"));
    let frontend_bytes = read(&format!("{name}.frontend.bin"));
    let backend_frames = frame_all(Direction::Backend, &backend_bytes);
    let frontend_frames = frame_all(Direction::Frontend, &frontend_bytes);

    let mut session = Session {
        backend: vec![],
        frontend: vec![],
        protocol: ProtocolVersion::V3_0,
        secret_key_len: 0,
        error_codes: vec![],
        parameters: BTreeMap::new(),
    };
    let mut expected_responses = VecDeque::new();
    for frame in &backend_frames {
        let msg = BackendMessage::decode(frame.tag.unwrap(), &frame.body)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        reencode_backend(&msg, frame);
        match msg {
            BackendMessage::Authentication(a) => match a {
                Authentication::CleartextPassword | Authentication::Md5Password { .. } => {
                    expected_responses.push_back(AuthResponseKind::Password)
                }
                Authentication::Sasl { .. } => {
                    expected_responses.push_back(AuthResponseKind::SaslInitial)
                }
                Authentication::SaslContinue { .. } => {
                    expected_responses.push_back(AuthResponseKind::Sasl)
                }
                _ => {}
            },
            BackendMessage::BackendKeyData(k) => session.secret_key_len = k.secret_key.len(),
            BackendMessage::ErrorResponse(e) => {
                assert!(e.message().is_some() && e.severity().is_some());
                session.error_codes.push(e.code().unwrap().to_owned());
            }
            BackendMessage::ParameterStatus(p) => {
                session
                    .parameters
                    .insert(p.name.to_owned(), p.value.to_owned());
            }
            BackendMessage::DataRow(row) => {
                // Values iterate without error and cover the body exactly.
                let total: usize = row
                    .values
                    .iter()
                    .map(|v| 4 + v.map_or(0, <[u8]>::len))
                    .sum();
                assert_eq!(total + 2, frame.body.len());
            }
            _ => {}
        }
        session.backend.push(msg.name().to_owned());
    }
    for frame in &frontend_frames {
        let kind = if frame.tag == Some(b'p') {
            expected_responses
                .pop_front()
                .expect("a 'p' message answers an authentication request")
        } else {
            AuthResponseKind::Password
        };
        let msg = FrontendMessage::decode(frame.tag, &frame.body, kind)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut out = BytesMut::new();
        msg.encode(&mut out).unwrap();
        let header = if frame.tag.is_some() { 5 } else { 4 };
        assert_eq!(
            &out[header..],
            &frame.body[..],
            "{} re-encodes differently",
            msg.name()
        );
        if let FrontendMessage::Startup(s) = msg {
            session.protocol = s.protocol_version;
            assert!(s.parameter("user").is_some());
        }
        session.frontend.push(msg.name().to_owned());
    }
    assert!(
        expected_responses.is_empty(),
        "{name}: unanswered auth request"
    );
    session
}

fn has_all(seen: &[String], wanted: &[&str]) {
    for w in wanted {
        assert!(seen.iter().any(|s| s == w), "missing {w} in {seen:?}");
    }
}

#[test]
fn pg15_psql_session() {
    let s = decode_session("pg15_psql");
    assert_eq!(s.protocol, ProtocolVersion::V3_0);
    assert_eq!(s.secret_key_len, 4);
    has_all(
        &s.frontend,
        &[
            "StartupMessage",
            "SASLInitialResponse",
            "SASLResponse",
            "Query",
            "CopyData",
            "CopyDone",
            "Parse",
            "Describe",
            "Sync",
            "Terminate",
        ],
    );
    has_all(
        &s.backend,
        &[
            "Authentication",
            "ParameterStatus",
            "BackendKeyData",
            "ReadyForQuery",
            "RowDescription",
            "DataRow",
            "CommandComplete",
            "EmptyQueryResponse",
            "ErrorResponse",
            "NoticeResponse",
            "NotificationResponse",
            "CopyOutResponse",
            "CopyInResponse",
            "CopyData",
            "CopyDone",
            "ParseComplete",
            "ParameterDescription",
        ],
    );
    assert!(
        s.error_codes.contains(&"22012".to_owned()),
        "{:?}",
        s.error_codes
    );
    assert!(
        s.error_codes.contains(&"25P02".to_owned()),
        "{:?}",
        s.error_codes
    );
    assert_eq!(
        s.parameters.get("application_name").map(String::as_str),
        Some("rec")
    );
    assert!(s.parameters["server_version"].starts_with("15."));
}

#[test]
fn pg15_pgbench_sessions() {
    for name in ["pg15_pgbench_extended", "pg15_pgbench_prepared"] {
        let s = decode_session(name);
        has_all(
            &s.frontend,
            &[
                "PasswordMessage",
                "Parse",
                "Bind",
                "Describe",
                "Execute",
                "Sync",
            ],
        );
        has_all(
            &s.backend,
            &[
                "ParseComplete",
                "BindComplete",
                "NoData",
                "RowDescription",
                "DataRow",
            ],
        );
    }
}

#[test]
fn pg18_protocol_32_session() {
    let s = decode_session("pg18_psql_proto32");
    assert_eq!(s.protocol, ProtocolVersion::V3_2);
    assert_eq!(s.secret_key_len, 32);
    assert!(s.parameters["server_version"].starts_with("18."));
}

#[test]
fn cancel_requests_carry_the_backend_key() {
    for (name, key_len) in [("pg15_psql_cancel", 4), ("pg18_psql_proto32_cancel", 32)] {
        let s = decode_session(name);
        assert_eq!(s.secret_key_len, key_len);
        assert!(
            s.error_codes.contains(&"57014".to_owned()),
            "{name}: {:?}",
            s.error_codes
        );
        let cancel = read(&format!("{name}.cancel.frontend.bin"));
        let frames = frame_all(Direction::Frontend, &cancel);
        assert_eq!(frames.len(), 1);
        let FrontendMessage::CancelRequest(req) =
            FrontendMessage::decode(None, &frames[0].body, AuthResponseKind::Password).unwrap()
        else {
            panic!("{name}: not a CancelRequest");
        };
        assert_eq!(req.secret_key.len(), key_len);
        // The key is the one BackendKeyData carried.
        let backend = read(&format!("{name}.backend.bin"));
        let key_frame = frame_all(Direction::Backend, &backend)
            .into_iter()
            .find(|f| f.tag == Some(b'K'))
            .unwrap();
        let key = BackendKeyData::decode(&key_frame.body).unwrap();
        assert_eq!(
            (req.process_id, req.secret_key),
            (key.process_id, key.secret_key)
        );
    }
}
