//! Replays the authentication exchanges of sessions recorded between real clients (psql,
//! pgbench with libpq 15 and 18) and real PostgreSQL 15 and 18 servers (`tests/data/`,
//! see its README):
//!
//! - SCRAM-SHA-256 (role `rec`, password `rec-secret`): a [`ScramClient`] given the
//!   recorded client nonce produces the recorded client-first and client-final messages
//!   byte for byte and accepts the server's signature; a [`ScramServer`] given the
//!   recorded server nonce and salt produces the recorded server-first and server-final
//!   messages byte for byte and accepts libpq's proof.
//! - MD5 (role `bench`, password `bench-secret`): [`md5::client_response`] gives what
//!   pgbench sent for the recorded salt, and [`md5::verify`] accepts it.

use std::path::PathBuf;

use pgproto_core::auth::scram::{
    ChannelBinding, ChannelBindingPolicy, ScramClient, ScramCredential, ScramServer, ScramVerifier,
};
use pgproto_core::auth::{md5, AuthError};
use pgproto_core::message::{AuthResponseKind, Authentication, BackendMessage, FrontendMessage};
use pgproto_core::wire::{Direction, Framer, Limits};

fn read(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the server sent during authentication.
#[derive(Debug, Default)]
struct ServerSide {
    mechanisms: Vec<String>,
    sasl_continue: Vec<Vec<u8>>,
    sasl_final: Vec<Vec<u8>>,
    md5_salt: Option<[u8; 4]>,
    ok: bool,
}

fn server_side(name: &str) -> ServerSide {
    let bytes = read(&format!("{name}.backend.bin"));
    let mut framer = Framer::new(Direction::Backend, Limits::default());
    framer.push(&bytes);
    let mut side = ServerSide::default();
    while let Some(frame) = framer.next_frame_ref().unwrap() {
        let msg = BackendMessage::decode(frame.tag.unwrap(), frame.body).unwrap();
        let BackendMessage::Authentication(auth) = msg else {
            continue;
        };
        match auth {
            Authentication::Sasl { mechanisms } => {
                side.mechanisms = mechanisms.iter().map(str::to_owned).collect()
            }
            Authentication::SaslContinue { data } => side.sasl_continue.push(data.to_vec()),
            Authentication::SaslFinal { data } => side.sasl_final.push(data.to_vec()),
            Authentication::Md5Password { salt } => side.md5_salt = Some(salt),
            Authentication::Ok => {
                side.ok = true;
                break;
            }
            other => panic!("{name}: unexpected {other:?}"),
        }
    }
    side
}

/// The client's `p` messages, decoded as the server's requests say: the first is
/// `first_kind` (SASLInitialResponse or PasswordMessage), later ones SASLResponse.
fn client_side(name: &str, first_kind: AuthResponseKind) -> Vec<(Option<String>, Vec<u8>)> {
    let bytes = read(&format!("{name}.frontend.bin"));
    let mut framer = Framer::new(Direction::Frontend, Limits::default());
    framer.push(&bytes);
    let mut out = Vec::new();
    while let Some(frame) = framer.next_frame_ref().unwrap() {
        if frame.tag.is_none() {
            continue; // StartupMessage
        }
        if frame.tag != Some(b'p') {
            break;
        }
        let kind = if out.is_empty() {
            first_kind
        } else {
            AuthResponseKind::Sasl
        };
        match FrontendMessage::decode(frame.tag, frame.body, kind).unwrap() {
            FrontendMessage::SaslInitialResponse(m) => out.push((
                Some(m.mechanism.to_owned()),
                m.data.expect("initial response").to_vec(),
            )),
            FrontendMessage::SaslResponse(m) => out.push((None, m.data.to_vec())),
            FrontendMessage::Password(m) => out.push((None, m.password.to_vec())),
            other => panic!("{name}: unexpected {other:?}"),
        }
    }
    out
}

/// The value of attribute `name` in a SCRAM message.
fn attribute<'a>(msg: &'a [u8], name: &str) -> &'a str {
    let text = std::str::from_utf8(msg).unwrap();
    text.split(',')
        .find_map(|field| field.strip_prefix(name))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

const SCRAM_RECORDINGS: &[&str] = &[
    "pg15_psql",
    "pg15_psql_cancel",
    "pg18_psql_proto32",
    "pg18_psql_proto32_cancel",
];

fn replay_scram(name: &str) {
    let server = server_side(name);
    assert_eq!(
        server.mechanisms,
        ["SCRAM-SHA-256"],
        "{name}: no TLS, no PLUS"
    );
    assert!(server.ok, "{name}: AuthenticationOk");
    let [server_first] = &server.sasl_continue[..] else {
        panic!("{name}: one AuthenticationSASLContinue expected")
    };
    let [server_final] = &server.sasl_final[..] else {
        panic!("{name}: one AuthenticationSASLFinal expected")
    };
    let client = client_side(name, AuthResponseKind::SaslInitial);
    let [(Some(mechanism), client_first), (None, client_final)] = &client[..] else {
        panic!("{name}: SASLInitialResponse and SASLResponse expected, got {client:?}")
    };

    // libpq chose as we would.
    let cb = ChannelBinding::negotiate(
        server.mechanisms.iter().map(String::as_str),
        false,
        None,
        ChannelBindingPolicy::Prefer,
    )
    .unwrap();
    assert_eq!(cb.mechanism(), mechanism);

    // --- The client side, against the recorded server.
    let client_nonce = attribute(client_first, "r=");
    let mut scram = ScramClient::with_nonce_str(b"rec-secret", cb.clone(), client_nonce).unwrap();
    assert_eq!(scram.client_first_message(), &client_first[..], "{name}");
    let ours = scram.handle_server_first(server_first).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(client_final),
        "{name}: client-final-message"
    );
    scram.handle_server_final(server_final).unwrap();
    assert!(scram.is_complete());

    // A wrong password gives another proof, and the real server's signature fails.
    let mut wrong = ScramClient::with_nonce_str(b"rec-secreT", cb, client_nonce).unwrap();
    assert_ne!(
        &wrong.handle_server_first(server_first).unwrap(),
        client_final
    );
    assert_eq!(
        wrong.handle_server_final(server_final),
        Err(AuthError::ServerSignatureMismatch)
    );

    // --- The server side, against the recorded client.
    let full_nonce = attribute(server_first, "r=");
    let server_nonce = full_nonce.strip_prefix(client_nonce).unwrap();
    let salt = base64_decode(attribute(server_first, "s="));
    let iterations: u32 = attribute(server_first, "i=").parse().unwrap();
    let verifier = ScramVerifier::generate(b"rec-secret", &salt, iterations).unwrap();
    let mut scram_server =
        ScramServer::with_nonce_str(ScramCredential::Verifier(verifier), server_nonce, None)
            .unwrap();
    assert_eq!(scram_server.mechanisms(), server.mechanisms);
    assert_eq!(
        &scram_server
            .handle_client_first(mechanism, client_first)
            .unwrap(),
        server_first,
        "{name}: server-first-message"
    );
    assert_eq!(
        &scram_server.handle_client_final(client_final).unwrap(),
        server_final,
        "{name}: server-final-message"
    );
    assert!(scram_server.is_complete());

    // The recorded proof does not log in with another password.
    let other = ScramVerifier::generate(b"other", &salt, iterations).unwrap();
    let mut scram_server = ScramServer::with_nonce_str(other.into(), server_nonce, None).unwrap();
    scram_server
        .handle_client_first(mechanism, client_first)
        .unwrap();
    assert_eq!(
        scram_server.handle_client_final(client_final),
        Err(AuthError::InvalidClientProof)
    );
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[test]
fn pg15_psql_scram() {
    replay_scram("pg15_psql");
}

#[test]
fn other_scram_recordings() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for name in SCRAM_RECORDINGS {
        if data.join(format!("{name}.backend.bin")).exists() {
            replay_scram(name);
        }
    }
}

#[test]
fn pg15_pgbench_md5() {
    let name = "pg15_pgbench_extended";
    let server = server_side(name);
    let salt = server.md5_salt.expect("AuthenticationMD5Password");
    assert!(server.ok);
    let client = client_side(name, AuthResponseKind::Password);
    let [(None, response)] = &client[..] else {
        panic!("{name}: one PasswordMessage expected, got {client:?}")
    };
    assert_eq!(
        md5::client_response(b"bench", b"bench-secret", salt).as_bytes(),
        &response[..]
    );
    let stored = md5::encrypt_password(b"bench", b"bench-secret");
    assert!(md5::verify(&stored, b"bench", salt, response));
    assert!(md5::verify("bench-secret", b"bench", salt, response));
    assert!(!md5::verify(&stored, b"bench", [0; 4], response));
    assert_eq!(
        md5::response_from_encrypted(&stored, salt)
            .unwrap()
            .as_bytes(),
        &response[..]
    );
}
