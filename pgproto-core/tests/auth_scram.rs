//! SCRAM-SHA-256(-PLUS) and MD5 through the public API: the RFC 7677 test vector, client
//! and server exchanges in memory (with and without channel binding, wrong passwords,
//! unknown users), secrets created by a real PostgreSQL 15, tls-server-end-point hashes
//! checked against OpenSSL, and property tests that no input makes any `handle_*` method
//! panic.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use pgproto_core::auth::scram::{
    tls_server_end_point, tls_server_end_point_sha256, ChannelBinding, ChannelBindingPolicy,
    ScramClient, ScramCredential, ScramServer, ScramVerifier, SCRAM_SHA_256, SCRAM_SHA_256_PLUS,
};
use pgproto_core::auth::{md5, verify_cleartext, AuthError, PasswordType, ScramMessage};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------
// RFC 7677 section 3
// ---------------------------------------------------------------------------------------

const RFC_CLIENT_FIRST: &[u8] = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
const RFC_SERVER_FIRST: &[u8] =
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
const RFC_CLIENT_FINAL: &[u8] = b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
const RFC_SERVER_FINAL: &[u8] = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

#[test]
fn rfc7677_client_and_server() {
    let mut client = ScramClient::with_nonce_str(
        b"pencil",
        ChannelBinding::Unsupported,
        "rOprNGfwEbeRWgbNEkqO",
    )
    .unwrap();
    client.set_username("user").unwrap();
    let salt = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
    let verifier = ScramVerifier::generate(b"pencil", &salt, 4096).unwrap();
    let mut server = ScramServer::with_nonce_str(
        ScramCredential::Verifier(verifier),
        "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
        None,
    )
    .unwrap();

    assert_eq!(client.mechanism(), SCRAM_SHA_256);
    assert_eq!(client.client_first_message(), RFC_CLIENT_FIRST);
    let server_first = server
        .handle_client_first(client.mechanism(), client.client_first_message())
        .unwrap();
    assert_eq!(server_first, RFC_SERVER_FIRST);
    let client_final = client.handle_server_first(&server_first).unwrap();
    assert_eq!(client_final, RFC_CLIENT_FINAL);
    let server_final = server.handle_client_final(&client_final).unwrap();
    assert_eq!(server_final, RFC_SERVER_FINAL);
    client.handle_server_final(&server_final).unwrap();
    assert!(client.is_complete() && server.is_complete());
}

// ---------------------------------------------------------------------------------------
// Client and server in memory
// ---------------------------------------------------------------------------------------

#[derive(Debug, PartialEq)]
enum Failure {
    Client(AuthError),
    Server(AuthError),
}

/// Runs a whole exchange; says which side failed.
fn exchange(client: &mut ScramClient, server: &mut ScramServer) -> Result<(), Failure> {
    let server_first = server
        .handle_client_first(client.mechanism(), client.client_first_message())
        .map_err(Failure::Server)?;
    let client_final = client
        .handle_server_first(&server_first)
        .map_err(Failure::Client)?;
    let server_final = server
        .handle_client_final(&client_final)
        .map_err(Failure::Server)?;
    client
        .handle_server_final(&server_final)
        .map_err(Failure::Client)?;
    assert!(client.is_complete() && server.is_complete());
    Ok(())
}

const SALT: &[u8] = b"0123456789abcdef";

fn verifier(password: &[u8]) -> ScramVerifier {
    ScramVerifier::generate(password, SALT, 64).unwrap()
}

fn server(credential: ScramCredential<'_>, tls: Option<&[u8]>) -> ScramServer {
    ScramServer::new(credential, &[0x5a; 18], tls.map(<[u8]>::to_vec)).unwrap()
}

fn client(password: &[u8], cb: ChannelBinding) -> ScramClient {
    ScramClient::new(password, cb, &[0xc1; 24]).unwrap()
}

const CERT_HASH: [u8; 32] = [0x11; 32];

#[test]
fn exchange_without_tls() {
    let mut s = server(verifier(b"secret").into(), None);
    assert_eq!(s.mechanisms(), [SCRAM_SHA_256]);
    let mut c = client(b"secret", ChannelBinding::Unsupported);
    assert_eq!(exchange(&mut c, &mut s), Ok(()));
}

#[test]
fn exchange_with_channel_binding() {
    let mut s = server(verifier(b"secret").into(), Some(&CERT_HASH));
    assert_eq!(s.mechanisms(), [SCRAM_SHA_256_PLUS, SCRAM_SHA_256]);
    // The client chooses as libpq does.
    let cb = ChannelBinding::negotiate(
        s.mechanisms().iter().copied(),
        true,
        Some(&CERT_HASH),
        ChannelBindingPolicy::Require,
    )
    .unwrap();
    assert_eq!(cb, ChannelBinding::TlsServerEndPoint(CERT_HASH.to_vec()));
    let mut c = client(b"secret", cb);
    assert_eq!(c.mechanism(), SCRAM_SHA_256_PLUS);
    assert!(c
        .client_first_message()
        .starts_with(b"p=tls-server-end-point,,n=,r="));
    assert_eq!(exchange(&mut c, &mut s), Ok(()));
}

#[test]
fn channel_binding_mismatch_is_detected() {
    // A man in the middle terminates TLS with its own certificate: the client binds to
    // that certificate's hash, the real server to its own.
    let mut s = server(verifier(b"secret").into(), Some(&CERT_HASH));
    let mut c = client(b"secret", ChannelBinding::TlsServerEndPoint(vec![0x22; 32]));
    assert_eq!(
        exchange(&mut c, &mut s),
        Err(Failure::Server(AuthError::ChannelBindingMismatch))
    );
}

#[test]
fn downgrade_is_refused() {
    // The client supports channel binding but was told (by a man in the middle
    // rewriting AuthenticationSASL) that the server does not.
    let mut s = server(verifier(b"secret").into(), Some(&CERT_HASH));
    let mut c = client(b"secret", ChannelBinding::NotUsed);
    assert!(matches!(
        exchange(&mut c, &mut s),
        Err(Failure::Server(AuthError::ChannelBindingNegotiation { .. }))
    ));
    // A client without channel-binding support may still use SCRAM-SHA-256 over TLS.
    let mut s = server(verifier(b"secret").into(), Some(&CERT_HASH));
    let mut c = client(b"secret", ChannelBinding::Unsupported);
    assert_eq!(exchange(&mut c, &mut s), Ok(()));
    // "y" towards a server without TLS is fine.
    let mut s = server(verifier(b"secret").into(), None);
    let mut c = client(b"secret", ChannelBinding::NotUsed);
    assert_eq!(exchange(&mut c, &mut s), Ok(()));
    // PLUS towards a server without TLS: not offered.
    let mut s = server(verifier(b"secret").into(), None);
    let mut c = client(
        b"secret",
        ChannelBinding::TlsServerEndPoint(CERT_HASH.to_vec()),
    );
    assert!(matches!(
        exchange(&mut c, &mut s),
        Err(Failure::Server(AuthError::UnsupportedMechanism { .. }))
    ));
}

#[test]
fn wrong_password_and_unknown_user_look_the_same() {
    let mut s = server(verifier(b"secret").into(), None);
    let mut c = client(b"Secret", ChannelBinding::Unsupported);
    let wrong_password = exchange(&mut c, &mut s);
    assert_eq!(
        wrong_password,
        Err(Failure::Server(AuthError::InvalidClientProof))
    );

    let unknown = |user: &'static [u8]| ScramCredential::Unknown {
        username: user,
        mock_secret: b"server-wide mock secret",
        iterations: 64,
    };
    let mut s = server(unknown(b"nobody"), None);
    let mut c = client(b"secret", ChannelBinding::Unsupported);
    assert_eq!(exchange(&mut c, &mut s), wrong_password);

    // The server-first-messages have the same shape: 16-byte salt, same iterations,
    // and an unknown user's salt is stable across attempts.
    let first = |s: &mut ScramServer| {
        let c = client(b"x", ChannelBinding::Unsupported);
        let msg = s
            .handle_client_first(c.mechanism(), c.client_first_message())
            .unwrap();
        String::from_utf8(msg).unwrap()
    };
    let salt_and_iterations = |msg: &str| msg.split_once(",s=").unwrap().1.to_owned();
    let real = first(&mut server(verifier(b"secret").into(), None));
    let fake1 = first(&mut server(unknown(b"nobody"), None));
    let fake2 = first(&mut server(unknown(b"nobody"), None));
    let fake3 = first(&mut server(unknown(b"somebody"), None));
    assert_eq!(salt_and_iterations(&fake1), salt_and_iterations(&fake2));
    assert_ne!(salt_and_iterations(&fake1), salt_and_iterations(&fake3));
    assert_eq!(
        salt_and_iterations(&real).len(),
        salt_and_iterations(&fake1).len()
    );
    assert!(fake1.ends_with(",i=64"));
}

#[test]
fn client_detects_a_server_without_the_password() {
    // A fake server that knows the salt and StoredKey (a stolen pg_authid row minus the
    // ServerKey) can accept the proof, but cannot sign: the client must notice.
    let real = verifier(b"secret");
    let stolen = ScramVerifier {
        server_key: [0; 32],
        ..real
    };
    let mut s = server(stolen.into(), None);
    let mut c = client(b"secret", ChannelBinding::Unsupported);
    assert_eq!(
        exchange(&mut c, &mut s),
        Err(Failure::Client(AuthError::ServerSignatureMismatch))
    );
}

#[test]
fn server_error_attribute() {
    let mut c = client(b"secret", ChannelBinding::Unsupported);
    let mut s = server(verifier(b"secret").into(), None);
    let first = s
        .handle_client_first(c.mechanism(), c.client_first_message())
        .unwrap();
    c.handle_server_first(&first).unwrap();
    assert_eq!(
        c.handle_server_final(b"e=invalid-proof"),
        Err(AuthError::ServerError {
            value: "invalid-proof".into()
        })
    );
    assert!(!c.is_complete());
}

#[test]
fn iteration_cap_protects_the_client() {
    let c = client(b"secret", ChannelBinding::Unsupported);
    let nonce = c.nonce().to_owned();
    let mut c = c;
    let first = format!("r={nonce}xyz,s=QUJD,i=2000000000");
    assert_eq!(
        c.handle_server_first(first.as_bytes()),
        Err(AuthError::IterationCountTooHigh { max: 10_000_000 })
    );
    let mut c = client(b"secret", ChannelBinding::Unsupported);
    c.set_max_iterations(100);
    let nonce = c.nonce().to_owned();
    let first = format!("r={nonce}xyz,s=QUJD,i=101");
    assert_eq!(
        c.handle_server_first(first.as_bytes()),
        Err(AuthError::IterationCountTooHigh { max: 100 })
    );
    // i=1 is accepted, as libpq does.
    let mut c = client(b"secret", ChannelBinding::Unsupported);
    let first = format!("r={}xyz,s=QUJD,i=1", c.nonce());
    assert!(c.handle_server_first(first.as_bytes()).is_ok());
}

#[test]
fn saslprep_on_both_sides() {
    // U+00AA normalises to "a", U+00AD (soft hyphen) maps to nothing, U+2168 is "IX".
    let mut s = server(verifier(b"ab-IX").into(), None);
    let mut c = client(
        "\u{aa}b\u{ad}-\u{2168}".as_bytes(),
        ChannelBinding::Unsupported,
    );
    assert_eq!(exchange(&mut c, &mut s), Ok(()));
    // Non-UTF-8 passwords are used raw on both sides.
    let mut s = server(verifier(b"caf\xe9").into(), None);
    let mut c = client(b"caf\xe9", ChannelBinding::Unsupported);
    assert_eq!(exchange(&mut c, &mut s), Ok(()));
}

#[test]
fn errors_poison_both_sides() {
    let mut s = server(verifier(b"secret").into(), None);
    assert!(matches!(
        s.handle_client_final(b"c=biws"),
        Err(AuthError::OutOfOrder { .. })
    ));
    let err = s
        .handle_client_first(SCRAM_SHA_256, b"garbage")
        .unwrap_err();
    assert!(matches!(
        err,
        AuthError::MalformedMessage {
            message: ScramMessage::ClientFirst,
            ..
        }
    ));
    let c = client(b"secret", ChannelBinding::Unsupported);
    assert_eq!(
        s.handle_client_first(c.mechanism(), c.client_first_message()),
        Err(err.clone())
    );
    assert_eq!(s.handle_client_final(b"c=biws"), Err(err));
}

// ---------------------------------------------------------------------------------------
// Secrets created by PostgreSQL 15.18
// ---------------------------------------------------------------------------------------

/// `SELECT rolname, rolpassword FROM pg_authid` after
/// `SET password_encryption = 'scram-sha-256'; CREATE ROLE x PASSWORD 'pw'` etc. in a fresh
/// PostgreSQL 15.18 cluster (`initdb -E UTF8`), with the passwords used.
const PG15_SECRETS: &[(&str, &str)] = &[
    (
        "pw",
        "SCRAM-SHA-256$4096:GSmhpZDKyyhriq/GXIL94g==$5Jiy38jcB5yPb//tEFnXJAtiZfJfDQGyMHPq9xrBRPY=:NwjZ2SzndHtezUYP5BU4oDaN/OIwE2j1acIdn7BKnO0=",
    ),
    (
        "pencil",
        "SCRAM-SHA-256$4096:8WuDmUVi5Tv0U13+kn00vA==$CTbMAPPAE5+rRAXSXhUV8UWzDis1qKMD4s2I3woUsKQ=:mNfqqqj9lIZdqX/cDgKgGTKfgFGZfDuAhpr7JmHyucQ=",
    ),
    // U&'\00AAb\00AD': SASLprep gives "ab".
    (
        "\u{aa}b\u{ad}",
        "SCRAM-SHA-256$4096:vbLqg04SUqgXmHt6GHgYkg==$3VafBeuB3yckYaJ3cxdZOIEKyCaiFyFRuiWVsFyn/8g=:R9/CE6f2l/M0t3dUT/uGHsMpVT9MpSe7K0dVlkKaSVM=",
    ),
    // U&'\06271': prohibited bidirectional text, so the raw bytes are used.
    (
        "\u{627}1",
        "SCRAM-SHA-256$4096:zvWQS9yxGoNE2kIQBAoP6w==$u4HpCA0fhRv7rw9Rf7qNEHbJTD4sRPEYOnNQaz3OPDw=:4Vrz1ss/M13WmMAueWqCHvEEBOVKs018V+PxVhIq0RQ=",
    ),
    // U&'a\200Bb\2168': zero-width space mapped to nothing, U+2168 normalised to "IX".
    (
        "a\u{200b}b\u{2168}",
        "SCRAM-SHA-256$4096:17JmkQ+QEL+faRR/mhNhmA==$tTcs237PGGPze/MzvATgd2UQydsg5wwv1XYtzAHYu9A=:9KgTwEgbEBwoUC3LOshBoE/pAIeKuVxJ2nUgbyS21Yg=",
    ),
];

#[test]
fn postgres_secrets() {
    for &(password, stored) in PG15_SECRETS {
        let v: ScramVerifier = stored.parse().unwrap();
        assert_eq!(v.to_string(), stored, "round trip");
        assert_eq!(PasswordType::of(stored), PasswordType::ScramSha256);
        assert!(v.verify_password(password.as_bytes()), "{password:?}");
        assert!(!v.verify_password(b"wrong"));
        assert!(verify_cleartext(stored, b"any user", password.as_bytes()));
        // Same salt and count: the same secret.
        let again = ScramVerifier::generate(password.as_bytes(), &v.salt, v.iterations).unwrap();
        assert_eq!(again, v, "{password:?}");
        // And a whole exchange against it.
        let mut s = server(v.into(), None);
        let mut c = client(password.as_bytes(), ChannelBinding::Unsupported);
        assert_eq!(exchange(&mut c, &mut s), Ok(()), "{password:?}");
    }
    // "ab" logs in as the role whose password was U&'\00AAb\00AD'.
    let v: ScramVerifier = PG15_SECRETS[2].1.parse().unwrap();
    assert!(v.verify_password(b"ab"));
}

/// Cross-checked with Python:
/// ```text
/// sp = hashlib.pbkdf2_hmac('sha256', b'pencil', b'0123456789abcdef', 4096)
/// ck = hmac.new(sp, b'Client Key', 'sha256').digest(); sk = hashlib.sha256(ck).digest()
/// svk = hmac.new(sp, b'Server Key', 'sha256').digest()
/// ```
#[test]
fn secret_matches_python() {
    let v = ScramVerifier::generate(b"pencil", b"0123456789abcdef", 4096).unwrap();
    assert_eq!(
        v.to_string(),
        "SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$nQpbZ77WudtqufPwikHXGRt6g2QJ4zns8bZLw273DRM=:jn2amWP1q1h+jgjy0YTO14S6/F02SV7taipOeB7ef20="
    );
}

/// `SET password_encryption = 'md5'; CREATE ROLE z PASSWORD 'rec-secret'` in
/// PostgreSQL 15.18; cross-checked with Python
/// (`"md5" + hashlib.md5(b"rec-secretz").hexdigest()`).
#[test]
fn md5_postgres_secret() {
    let stored = "md5fd1541b83313c20080c2c59dfdcd9827";
    assert_eq!(md5::encrypt_password(b"z", b"rec-secret"), stored);
    assert_eq!(PasswordType::of(stored), PasswordType::Md5);
    // "md5" + md5(md5(password || user) || salt), Python:
    // hashlib.md5(b"fd1541b83313c20080c2c59dfdcd9827" + b"\x01\x02\x03\x04").hexdigest()
    let response = md5::client_response(b"z", b"rec-secret", [1, 2, 3, 4]);
    assert_eq!(response, "md563c0a053c0827e8ff46b6d1923152bbd");
    assert!(md5::verify(stored, b"z", [1, 2, 3, 4], response.as_bytes()));
    // The stored hash already includes the user name; a plaintext one does not.
    assert!(!md5::verify(
        stored,
        b"z",
        [1, 2, 3, 5],
        response.as_bytes()
    ));
    assert!(md5::verify(
        "rec-secret",
        b"z",
        [1, 2, 3, 4],
        response.as_bytes()
    ));
    assert!(!md5::verify(
        "rec-secret",
        b"y",
        [1, 2, 3, 4],
        response.as_bytes()
    ));
    assert!(verify_cleartext(stored, b"z", b"rec-secret"));
}

// ---------------------------------------------------------------------------------------
// tls-server-end-point
// ---------------------------------------------------------------------------------------

/// (name, DER certificate in base64, expected tls-server-end-point in hex), generated with
/// `openssl req -x509` (OpenSSL 3.0) and hashed with `openssl dgst -sha256/-sha384/-sha512`.
const CERTS: &[(&str, &str, &str)] = &[
    (
        "ec-sha1",
        "MIIBdzCCAR6gAwIBAgIUKG+zwkUdxruwyCW8EwOBAj5YvxYwCQYHKoZIzj0EATASMRAwDgYDVQQDDAdlYy1zaGExMB4XDTI2MTEyMjAwMTEzMloXDTM2MTExOTAwMTEzMlowEjEQMA4GA1UEAwwHZWMtc2hhMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABL4ZtxvZz54h3RQGWV8aaMQaG3yYvaOCIH8qTjGLTHYkFBnvyRILhtF7m6xQKHpyfTYwxXpEOCeNwdozAFwPlGajUzBRMB0GA1UdDgQWBBQa3afTWxulXRYSFjQbCTh/EGmWwzAfBgNVHSMEGDAWgBQa3afTWxulXRYSFjQbCTh/EGmWwzAPBgNVHRMBAf8EBTADAQH/MAkGByqGSM49BAEDSAAwRQIgBJk5vW0o2APg+bOk6XBs1u2MDqAyn5LHsfdUPKpJu6gCIQCuwsLA8qt4qCNL2zlAT6twu3swZDM8TEahLcT5ZF2F3A==",
        "2b36d282e46f758cf9e5f5d1cdb9e0e9cd6d6c5a6891dd0f819c5d872e9ef886",
    ),
    (
        "ec-sha256",
        "MIIBfDCCASOgAwIBAgIUcpoUp9WvgGf/NssVZZjYENIL66IwCgYIKoZIzj0EAwIwFDESMBAGA1UEAwwJZWMtc2hhMjU2MB4XDTI2MTEyMjAwMTEzMloXDTM2MTExOTAwMTEzMlowFDESMBAGA1UEAwwJZWMtc2hhMjU2MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEvhm3G9nPniHdFAZZXxpoxBobfJi9o4IgfypOMYtMdiQUGe/JEguG0XubrFAoenJ9NjDFekQ4J43B2jMAXA+UZqNTMFEwHQYDVR0OBBYEFBrdp9NbG6VdFhIWNBsJOH8QaZbDMB8GA1UdIwQYMBaAFBrdp9NbG6VdFhIWNBsJOH8QaZbDMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgPpZ0kYsglDikWv0yO0qV7/XAC3if712e8BKj6LqiGMgCIHP79zKuGVAmT75AtsIvnh7BZLlL/0A50QTZ6+stLewE",
        "6e42cb32a77693a1912af9117766baed7a7f223f28b55a80cfffe5c7de85a043",
    ),
    (
        "ec-sha384",
        "MIIBfjCCASOgAwIBAgIUevF3kRQMW/Qs0VsZI7AeJHmc42AwCgYIKoZIzj0EAwMwFDESMBAGA1UEAwwJZWMtc2hhMzg0MB4XDTI2MTEyMjAwMTEzMloXDTM2MTExOTAwMTEzMlowFDESMBAGA1UEAwwJZWMtc2hhMzg0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEvhm3G9nPniHdFAZZXxpoxBobfJi9o4IgfypOMYtMdiQUGe/JEguG0XubrFAoenJ9NjDFekQ4J43B2jMAXA+UZqNTMFEwHQYDVR0OBBYEFBrdp9NbG6VdFhIWNBsJOH8QaZbDMB8GA1UdIwQYMBaAFBrdp9NbG6VdFhIWNBsJOH8QaZbDMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwMDSQAwRgIhAKteF4MHjYlXjhXZRjGAbExjmQw3dmxYglYzDTVKecvVAiEAixEj1tftEERHhIDyJ1zX4h1X9HVSbOPc4Mhb5BCpjJI=",
        "9bf022ee7ab5eeeff1f746246879d88df8845894421c17a91a1849e87237d5dea735f5484e6d967718d33cddd289bf3b",
    ),
    (
        "ec-sha512",
        "MIIBfjCCASOgAwIBAgIUZaSJAv9cCIPb4R3JDKw19sYNCWkwCgYIKoZIzj0EAwQwFDESMBAGA1UEAwwJZWMtc2hhNTEyMB4XDTI2MTEyMjAwMTEzMloXDTM2MTExOTAwMTEzMlowFDESMBAGA1UEAwwJZWMtc2hhNTEyMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEvhm3G9nPniHdFAZZXxpoxBobfJi9o4IgfypOMYtMdiQUGe/JEguG0XubrFAoenJ9NjDFekQ4J43B2jMAXA+UZqNTMFEwHQYDVR0OBBYEFBrdp9NbG6VdFhIWNBsJOH8QaZbDMB8GA1UdIwQYMBaAFBrdp9NbG6VdFhIWNBsJOH8QaZbDMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwQDSQAwRgIhALGgNyWWQ9hr6M8U8jacrP5RIfTdIPLKE/nEpqMVCak3AiEAuhADt+phiXrqZnVHE1g2bf0aawxfhhcDdplB6PILG40=",
        "0d9c7f551898f25db2eab19423e44090257f0274d3a057fa053c51d254236b8b64fd1ccd6be0dc0cb4b9891e1d1c445276060edd30f9264edd40783ed302f1e0",
    ),
    (
        "pss-sha384",
        "MIICYDCCAZWgAwIBAgIUR4K/bbZDw0iuQTH00A4+jnVWL0QwQQYJKoZIhvcNAQEKMDSgDzANBglghkgBZQMEAgIFAKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgIFAKIDAgFOMA4xDDAKBgNVBAMMA3BzczAeFw0yNjExMjIwMDExMzJaFw0zNjExMTkwMDExMzJaMA4xDDAKBgNVBAMMA3BzczCBnzANBgkqhkiG9w0BAQEFAAOBjQAwgYkCgYEAviC1F4Sr4KkiL/jOVMT5mYEvmGCU5kvkqF/9l7Edf277zcIwSFN55PJ1MDCzIW9B9RFrNWQyqQgFezE7mZkX4PtJ4eAXzFVoATRw3TAcSvSeb0AX4rAPsfU4eoR2PFXh/3CPtHukgGKiqNJ5eXxamDhR9qSsWCBLG4Dc1Lp9LK8CAwEAAaNTMFEwHQYDVR0OBBYEFMV/NTiGnGD8EXen7rAhIRdvjIzbMB8GA1UdIwQYMBaAFMV/NTiGnGD8EXen7rAhIRdvjIzbMA8GA1UdEwEB/wQFMAMBAf8wQQYJKoZIhvcNAQEKMDSgDzANBglghkgBZQMEAgIFAKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgIFAKIDAgFOA4GBABeG3NUMs/pq7FeD1vijE2jP4iGtfvmHwmU2B6YwGY3MUeeI0eijJZIiv+kC07NRFDbUxT3JPf6c7aq6Nrt1CLRhx8g+uZIXn9WtE7Zvcwc2/F/HNgXba6m/Twy45DVbn++MuuVvJ95qr3iPkdkeoAJD/uYeXa749gXLQ51bxmY4",
        "9500230075a1b8a2abda646e57f2f831cceca4427135add5407338e8d2de33294f6964a4f13bf3b7d23ce4bfa742f738",
    ),
    (
        "rsa-sha256",
        "MIIB+DCCAWGgAwIBAgIUBbl4gm/qNjnRHYmh8+C7P0YvIDUwDQYJKoZIhvcNAQELBQAwDjEMMAoGA1UEAwwDcnNhMB4XDTI2MTEyMjAwMTEzMloXDTM2MTExOTAwMTEzMlowDjEMMAoGA1UEAwwDcnNhMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC+ILUXhKvgqSIv+M5UxPmZgS+YYJTmS+SoX/2XsR1/bvvNwjBIU3nk8nUwMLMhb0H1EWs1ZDKpCAV7MTuZmRfg+0nh4BfMVWgBNHDdMBxK9J5vQBfisA+x9Th6hHY8VeH/cI+0e6SAYqKo0nl5fFqYOFH2pKxYIEsbgNzUun0srwIDAQABo1MwUTAdBgNVHQ4EFgQUxX81OIacYPwRd6fusCEhF2+MjNswHwYDVR0jBBgwFoAUxX81OIacYPwRd6fusCEhF2+MjNswDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOBgQCUVpedxPP2HYu/8z4psF+k/cYHTloKv7N6+ilF5lBI/4v0dgOhdKbed2ev+x7PHTF+mYrC/FENCGUyC8vOqt97YRwHTmrL3DiwB/n9vNeVipaTf/jQGgBMaq5qjeINAi55Fe5EPdyW7thzBoJGDiI5dgsVuSpvHMPgWiyPmARrdQ==",
        "b8a63eea771145de2179f0649db82d66964b6a1f9745cd718635cdb01a213c37",
    ),
];
const ED25519_CERT: &str = "MIIBLjCB4aADAgECAhQy7695Ax8I0YPF0Fyq7n04RzQu/zAFBgMrZXAwDTELMAkGA1UEAwwCZWQwHhcNMjYxMTIyMDAxMTMyWhcNMzYxMTE5MDAxMTMyWjANMQswCQYDVQQDDAJlZDAqMAUGAytlcAMhAMzQlfrthDMTac0jTqiGcpQ3raibxV0B3/n4tBtgXjb0o1MwUTAdBgNVHQ4EFgQU0bvDnO25Rn0ZUpQ/GNhhBp19V0YwHwYDVR0jBBgwFoAU0bvDnO25Rn0ZUpQ/GNhhBp19V0YwDwYDVR0TAQH/BAUwAwEB/zAFBgMrZXADQQCajygEGPCASAuJvHdIFA/jsZ07NnSp+jewvr8CfSh8gxjuB0Cky/zPRZADs0I/z8i/bnawS94Ln8575XFU4iEC";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn tls_server_end_point_matches_openssl() {
    for &(name, cert, expected) in CERTS {
        let der = STANDARD.decode(cert).unwrap();
        assert_eq!(
            hex(&tls_server_end_point(&der).unwrap()),
            expected,
            "{name}"
        );
        if expected.len() == 64 {
            assert_eq!(hex(&tls_server_end_point_sha256(&der)), expected, "{name}");
        }
    }
    let ed = STANDARD.decode(ED25519_CERT).unwrap();
    assert!(matches!(
        tls_server_end_point(&ed),
        Err(AuthError::UnsupportedCertificate { .. })
    ));
    // A truncated certificate is not read past its end.
    let der = STANDARD.decode(CERTS[0].1).unwrap();
    for len in 0..der.len() {
        assert!(tls_server_end_point(&der[..len]).is_err());
    }
}

// ---------------------------------------------------------------------------------------
// No input panics
// ---------------------------------------------------------------------------------------

/// Bytes that look somewhat like SCRAM messages, to get past the first checks.
fn scramish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"r=".to_vec()),
        Just(b"s=".to_vec()),
        Just(b"i=".to_vec()),
        Just(b"c=".to_vec()),
        Just(b"p=".to_vec()),
        Just(b"v=".to_vec()),
        Just(b"e=".to_vec()),
        Just(b"n=".to_vec()),
        Just(b"m=".to_vec()),
        Just(b"a=".to_vec()),
        Just(b"n,,".to_vec()),
        Just(b"y,,".to_vec()),
        Just(b"p=tls-server-end-point,,".to_vec()),
        Just(b",".to_vec()),
        Just(b"=".to_vec()),
        Just(b"biws".to_vec()),
        Just(b"QUJD".to_vec()),
        Just(b"4096".to_vec()),
        Just(b"0".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..8),
        "[A-Za-z0-9+/=]{0,12}".prop_map(String::into_bytes),
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

/// Random bytes, SCRAM-looking bytes, or `valid` with random edits.
fn input(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let edits =
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 0..4);
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..128),
        scramish(),
        (Just(valid), edits).prop_map(|(mut v, edits)| {
            for (at, byte, op) in edits {
                let i = at.index(v.len() + 1);
                match op {
                    0 if i < v.len() => v[i] = byte,
                    1 => v.insert(i, byte),
                    2 if i < v.len() => {
                        v.remove(i);
                    }
                    _ => v.truncate(i),
                }
            }
            v
        }),
    ]
}

/// A valid low-iteration exchange to mutate, with the TLS variant.
struct Fixture {
    client_first: Vec<u8>,
    server_first: Vec<u8>,
    client_final: Vec<u8>,
    server_final: Vec<u8>,
}

fn fixture(plus: bool) -> Fixture {
    let cb = plus.then(|| CERT_HASH.to_vec());
    let mut s = fresh_server(plus);
    let mut c = ScramClient::with_nonce_str(
        b"secret",
        cb.map_or(
            ChannelBinding::Unsupported,
            ChannelBinding::TlsServerEndPoint,
        ),
        "clientnonce",
    )
    .unwrap();
    let client_first = c.client_first_message().to_vec();
    let server_first = s.handle_client_first(c.mechanism(), &client_first).unwrap();
    let client_final = c.handle_server_first(&server_first).unwrap();
    let server_final = s.handle_client_final(&client_final).unwrap();
    c.handle_server_final(&server_final).unwrap();
    Fixture {
        client_first,
        server_first,
        client_final,
        server_final,
    }
}

fn fresh_server(plus: bool) -> ScramServer {
    let v = ScramVerifier::generate(b"secret", SALT, 2).unwrap();
    ScramServer::with_nonce_str(v.into(), "servernonce", plus.then(|| CERT_HASH.to_vec())).unwrap()
}

fn fresh_client(plus: bool) -> ScramClient {
    let cb = if plus {
        ChannelBinding::TlsServerEndPoint(CERT_HASH.to_vec())
    } else {
        ChannelBinding::Unsupported
    };
    let mut c = ScramClient::with_nonce_str(b"secret", cb, "clientnonce").unwrap();
    c.set_max_iterations(64);
    c
}

/// An error repeats: the state machine is poisoned, not confused.
fn assert_poisoned<T: std::fmt::Debug>(first: &Result<T, AuthError>, again: Result<T, AuthError>) {
    if let Err(e) = first {
        assert_eq!(again.unwrap_err(), *e);
        assert!(!e.to_string().is_empty());
    }
}

fn cases() -> impl Strategy<Value = (bool, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>)> {
    any::<bool>().prop_flat_map(|plus| {
        let f = fixture(plus);
        (
            Just(plus),
            input(f.client_first),
            input(f.server_first),
            input(f.client_final),
            input(f.server_final),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn no_input_panics((plus, client_first, server_first, client_final, server_final) in cases()) {
        let f = fixture(plus);

        // Server: client-first, then (after a valid client-first) client-final.
        for mechanism in [SCRAM_SHA_256, SCRAM_SHA_256_PLUS, "SCRAM-SHA-1", ""] {
            let mut s = fresh_server(plus);
            let r = s.handle_client_first(mechanism, &client_first);
            assert_poisoned(&r, s.handle_client_first(mechanism, &client_first));
            let _ = s.handle_client_final(&client_final);
        }
        let mut s = fresh_server(plus);
        s.handle_client_first(if plus { SCRAM_SHA_256_PLUS } else { SCRAM_SHA_256 }, &f.client_first).unwrap();
        let r = s.handle_client_final(&client_final);
        if r.is_ok() {
            // The proof covers every byte of the message: only the genuine one passes.
            prop_assert_eq!(&client_final, &f.client_final);
        }
        assert_poisoned(&r, s.handle_client_final(&client_final));

        // Client: server-first, then (after a valid server-first) server-final.
        let mut c = fresh_client(plus);
        let _ = c.handle_server_final(&server_final);
        let r = c.handle_server_first(&server_first);
        assert_poisoned(&r, c.handle_server_first(&server_first));
        let mut c = fresh_client(plus);
        c.handle_server_first(&f.server_first).unwrap();
        let r = c.handle_server_final(&server_final);
        if r.is_ok() {
            prop_assert!(server_final.starts_with(&f.server_final));
        }
        assert_poisoned(&r, c.handle_server_final(&server_final));
        prop_assert!(c.handle_server_first(&server_first).is_err());
    }

    #[test]
    fn parsers_do_not_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), salt in any::<[u8; 4]>()) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = text.parse::<ScramVerifier>();
        let _ = PasswordType::of(&text);
        let _ = verify_cleartext(&text, b"u", &bytes);
        let _ = md5::verify(&text, b"u", salt, &bytes);
        let _ = md5::response_from_encrypted(&text, salt);
        let _ = tls_server_end_point(&bytes);
        let mut der = vec![0x30, 0x82, (bytes.len() >> 8) as u8, bytes.len() as u8];
        der.extend_from_slice(&bytes);
        let _ = tls_server_end_point(&der);
    }

    #[test]
    fn verifier_round_trips(salt in proptest::collection::vec(any::<u8>(), 1..40),
                            iterations in 1u32..4, password in proptest::collection::vec(any::<u8>(), 0..20)) {
        let v = ScramVerifier::generate(&password, &salt, iterations).unwrap();
        let parsed: ScramVerifier = v.to_string().parse().unwrap();
        prop_assert_eq!(&parsed, &v);
        prop_assert!(parsed.verify_password(&password));
    }
}
