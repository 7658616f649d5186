//! Test and fuzzing entry points (feature `testing`).
//!
//! The cargo-fuzz targets in `fuzz/` and the stable corpus-replay test call these same
//! functions, so a crash found by the fuzzer reproduces under `cargo test`.

use bytes::BytesMut;

use crate::message::{AuthResponseKind, BackendMessage, FrontendMessage};
use crate::wire::{Direction, Framer, Limits};

/// Small limits, so that fuzzing explores the limit checks too.
fn fuzz_limits() -> Limits {
    Limits {
        max_message_len: 1 << 16,
        max_small_message_len: 1 << 10,
        max_startup_packet_len: 10_000,
    }
}

/// Feeds `data` to a framer in chunks whose size the first byte chooses, handing every
/// complete frame to `on_frame`; stops at the first framing error.
fn feed(direction: Direction, data: &[u8], mut on_frame: impl FnMut(Option<u8>, &[u8])) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(first % 32) + 1;
    let mut framer = Framer::new(direction, fuzz_limits());
    for piece in rest.chunks(chunk) {
        framer.push(piece);
        loop {
            match framer.next_frame_ref() {
                Ok(Some(frame)) => on_frame(frame.tag, frame.body),
                Ok(None) => break,
                Err(_) => {
                    // Poisoned: every later call must fail the same way.
                    assert!(framer.next_frame_ref().is_err(), "framer error not sticky");
                    return;
                }
            }
        }
    }
}

/// Frames and decodes `data` as a server's byte stream. Every message that decodes must
/// re-encode to exactly the bytes it came from. Panics only on a bug.
pub fn fuzz_backend_stream(data: &[u8]) {
    feed(Direction::Backend, data, |tag, body| {
        let Some(tag) = tag else {
            unreachable!("backend frames are always tagged")
        };
        if let Ok(msg) = BackendMessage::decode(tag, body) {
            let mut out = BytesMut::new();
            assert!(msg.encode(&mut out).is_ok(), "decoded message must encode");
            assert_eq!(out.first(), Some(&tag));
            assert_eq!(
                out.get(5..),
                Some(body),
                "re-encoding changed {}",
                msg.name()
            );
        }
    });
}

/// Frames and decodes `data` as a client's byte stream (startup packets first), trying
/// every interpretation of a `p` message. Every message that decodes must re-encode to
/// exactly the bytes it came from. Panics only on a bug.
pub fn fuzz_frontend_stream(data: &[u8]) {
    feed(Direction::Frontend, data, |tag, body| {
        for kind in [
            AuthResponseKind::Password,
            AuthResponseKind::SaslInitial,
            AuthResponseKind::Sasl,
            AuthResponseKind::Gss,
        ] {
            if let Ok(msg) = FrontendMessage::decode(tag, body, kind) {
                let mut out = BytesMut::new();
                assert!(msg.encode(&mut out).is_ok(), "decoded message must encode");
                let header = if tag.is_some() { 5 } else { 4 };
                assert_eq!(
                    out.get(header..),
                    Some(body),
                    "re-encoding changed {}",
                    msg.name()
                );
            }
            if tag != Some(b'p') {
                break;
            }
        }
    });
}

/// A client and a server connected in memory, for tests driven through the core alone.
///
/// ```
/// use pgproto_core::testing::Pair;
/// use pgproto_core::client::{Config, SslMode};
/// use pgproto_core::server::ServerConfig;
/// let mut config = Config::new("alice");
/// config.ssl_mode = SslMode::Disable;
/// let mut pair = Pair::new(config, ServerConfig::default());
/// pair.transfer();
/// ```
#[derive(Debug)]
pub struct Pair {
    /// The client side.
    pub client: crate::client::Client,
    /// The server side.
    pub server: crate::server::Server,
}

impl Pair {
    /// A new pair; the client's first packet is queued.
    pub fn new(client: crate::client::Config, server: crate::server::ServerConfig) -> Self {
        Self {
            client: crate::client::Client::new(client, &[42; 24]),
            server: crate::server::Server::new(server),
        }
    }

    /// Moves every pending byte in both directions once; returns whether anything moved.
    pub fn transfer(&mut self) -> bool {
        let mut moved = false;
        while let Some(bytes) = self.client.poll_transmit() {
            self.server.handle_input(&bytes);
            moved = true;
        }
        while let Some(bytes) = self.server.poll_transmit() {
            self.client.handle_input(&bytes);
            moved = true;
        }
        moved
    }
}

/// The answers of the `fixed_server` example (on each adapter): every query, simple or
/// extended, returns one `int4` column `?column?` holding 1, tagged `SELECT 1`. It is the
/// benchmark target: all the work is protocol work.
pub fn fixed_answer(
    server: &mut crate::server::Server,
    event: crate::server::ServerEvent,
) -> Result<(), crate::Error> {
    use crate::column::Column;
    use crate::message::Format;
    use crate::server::ServerEvent;
    const INT4: u32 = 23;
    let column = || alloc::vec![Column::new("?column?", INT4, 4)];
    match event {
        ServerEvent::Query { sql } => {
            if sql.trim().trim_matches(';').trim().is_empty() {
                server.empty_query()?;
            } else {
                server.row_description(&column())?;
                server.data_row(&[Some(b"1")])?;
                server.command_complete("SELECT 1")?;
            }
            server.ready_for_query()
        }
        ServerEvent::Parse {
            query, param_types, ..
        } => {
            // As many parameters as the highest $n; a type the client left unspecified is
            // taken from a `$n::type` cast, else text.
            let casts = crate::server::placeholder_casts(&query);
            let count = casts.len().max(param_types.len());
            let types: alloc::vec::Vec<u32> = (0..count)
                .map(|i| match param_types.get(i) {
                    Some(&t) if t != 0 => t,
                    _ => casts.get(i).copied().flatten().unwrap_or(25),
                })
                .collect();
            server.parse_complete(&types, Some(column()))
        }
        ServerEvent::Bind { .. } => server.bind_complete(),
        ServerEvent::Execute { portal, .. } => {
            let binary = server
                .portal(&portal)
                .is_some_and(|p| p.result_format(0) == Format::Binary);
            if binary {
                server.data_row(&[Some(&1i32.to_be_bytes())])?;
            } else {
                server.data_row(&[Some(b"1")])?;
            }
            server.command_complete("SELECT 1")
        }
        ServerEvent::FunctionCall { .. } => server.function_call_response(Some(b"1")),
        _ => Ok(()),
    }
}

/// Drives a client state machine with arbitrary server bytes. The first byte picks the
/// chunk size; the second whether the client starts fresh (startup and authentication
/// phases) or is already ready with requests in flight. Panics only on a bug.
pub fn fuzz_client(data: &[u8]) {
    use crate::client::{Client, Config, SslMode};
    let [chunk, mode, rest @ ..] = data else {
        return;
    };
    let mut config = Config::new("fuzz");
    config.password = Some(b"secret".to_vec());
    config.ssl_mode = if mode & 1 == 0 {
        SslMode::Disable
    } else {
        SslMode::Prefer
    };
    let mut client = Client::new(config, &[7; 24]);
    if mode & 2 != 0 {
        // Authenticated and ready, with a pipeline in flight.
        client.handle_input(b"R\0\0\0\x08\0\0\0\0Z\0\0\0\x05I");
        while let Ok(Some(_)) = client.poll_event() {}
        let _ = client.query("select 1");
        let _ = client.parse("s", "select $1", &[23]);
        let _ = client.describe_statement("s");
        let _ = client.execute("", 0);
        let _ = client.sync();
    }
    if mode & 6 == 6 {
        // COPY candidates, simple and extended, with requests behind them that must wait.
        let _ = client.query("copy t from stdin");
        let _ = client.query("select 2");
        let _ = client.parse("c", "COPY t FROM STDIN", &[]);
        let _ = client.bind(&crate::message::Bind {
            portal: "p",
            statement: "c",
            param_formats: crate::message::List::new(&[]),
            params: crate::message::List::new(&[]),
            result_formats: crate::message::List::new(&[]),
        });
        let _ = client.execute("p", 0);
        let _ = client.sync();
        let _ = client.query("select 3");
    }
    let step = usize::from(chunk % 64) + 1;
    for piece in rest.chunks(step) {
        client.handle_input(piece);
        // Every call either makes progress or stops: bound the loop anyway.
        for _ in 0..10_000 {
            match client.poll_event() {
                Ok(Some(crate::client::Event::StartTls)) => {
                    let _ = client.handle_tls_established(Some(alloc::vec![1; 32]));
                }
                Ok(Some(crate::client::Event::Response {
                    response: crate::client::Response::CopyIn(_),
                    ..
                })) => {
                    // Bytes already owed go first; during the COPY only COPY messages
                    // (and the Flush/Sync PostgreSQL ignores there) may follow.
                    let _ = client.poll_transmit();
                    let _ = client.copy_data(b"1\n");
                    let _ = client.query("select 4");
                    if let Some(out) = client.poll_transmit() {
                        assert!(
                            frontend_tags(&out).all(|t| matches!(t, b'd' | b'H' | b'S')),
                            "a request went out inside a COPY"
                        );
                    }
                    let _ = match mode & 24 {
                        0 => client.copy_done(),
                        8 => client.copy_fail("stop"),
                        _ => Ok(()),
                    };
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    assert!(client.poll_event().is_err(), "errors are sticky");
                    return;
                }
            }
        }
        if let Some(out) = client.poll_transmit() {
            if client.is_copy_in() {
                assert!(
                    frontend_tags(&out).all(|t| matches!(t, b'd' | b'c' | b'f' | b'H' | b'S')),
                    "a request went out inside a COPY"
                );
            }
        }
    }
    client.handle_eof();
    assert!(client.poll_event().is_err());
}

/// The tags of well-formed frontend messages (as a client encodes them).
fn frontend_tags(bytes: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let mut rest = bytes;
    core::iter::from_fn(move || {
        let [tag, a, b, c, d, ..] = *rest else {
            return None;
        };
        let len = usize::try_from(u32::from_be_bytes([a, b, c, d])).ok()?;
        rest = rest.get(1 + len..)?;
        Some(tag)
    })
}

/// Drives a server state machine with arbitrary client bytes, answering like the
/// `fixed_server` example (trust, or SCRAM when the second byte is odd). Panics only on a
/// bug.
pub fn fuzz_server(data: &[u8]) {
    use crate::server::{
        Action, AuthKind, ServerAuth, ServerConfig, ServerConnection, ServerEvent, SessionSetup,
    };
    use core::time::Duration;
    let [chunk, mode, rest @ ..] = data else {
        return;
    };
    let kind = if mode & 1 == 0 {
        AuthKind::Trust
    } else {
        AuthKind::ScramSha256
    };
    // Deriving the SCRAM verifier costs 4096 PBKDF2 rounds: do it once per kind.
    let make = |kind| {
        let mut auth = ServerAuth::new(kind, b"mock");
        auth.add_user("fuzz", "secret", b"0123456789abcdef").ok()?;
        Some(auth)
    };
    #[cfg(feature = "std")]
    let auth = {
        static TRUST: std::sync::OnceLock<Option<ServerAuth>> = std::sync::OnceLock::new();
        static SCRAM: std::sync::OnceLock<Option<ServerAuth>> = std::sync::OnceLock::new();
        let cell = if kind == AuthKind::Trust {
            &TRUST
        } else {
            &SCRAM
        };
        cell.get_or_init(|| make(kind)).clone()
    };
    #[cfg(not(feature = "std"))]
    let auth = make(kind);
    let Some(auth) = auth else {
        return;
    };
    let mut setup = SessionSetup::new(auth);
    setup.tls_available = mode & 2 != 0;
    let mut conn = ServerConnection::new(ServerConfig::default(), setup.into(), 1, [5; 32]);
    let step = usize::from(chunk % 64) + 1;
    for piece in rest.chunks(step) {
        conn.handle_input(piece);
        for _ in 0..10_000 {
            match conn.poll_action(Duration::ZERO) {
                Action::Handle(event) => {
                    let is_copy = matches!(
                        event,
                        ServerEvent::CopyData(_) | ServerEvent::CopyDone | ServerEvent::CopyFail(_)
                    );
                    if !is_copy && fixed_answer(conn.server(), event).is_err() {
                        return;
                    }
                }
                Action::StartTls { .. } => {
                    let _ = conn.server().take_buffered_input();
                    let _ = conn.server().handle_tls_established(None);
                }
                Action::Read { .. } => break,
                Action::Close => {
                    if conn.server().error_state().is_some() {
                        assert!(conn.server().poll_event().is_err(), "errors are sticky");
                    }
                    return;
                }
                Action::Cancel(_) => {}
                _ => {}
            }
        }
    }
}

/// Feeds arbitrary bytes to both sides of SCRAM at every step. Panics only on a bug.
pub fn fuzz_scram(data: &[u8]) {
    use crate::auth::scram::{
        ChannelBinding, ScramClient, ScramCredential, ScramServer, ScramVerifier,
    };
    let (first, second) = data.split_at(data.len() / 2);
    if let Ok(mut client) = ScramClient::new(b"pencil", ChannelBinding::Unsupported, &[3; 18]) {
        let _ = client.handle_server_first(first);
        let _ = client.handle_server_final(second);
    }
    let Ok(verifier) = ScramVerifier::generate(b"pencil", b"salt", 1) else {
        return;
    };
    if let Ok(mut server) = ScramServer::new(ScramCredential::Verifier(verifier), &[4; 18], None) {
        let _ = server.handle_client_first("SCRAM-SHA-256", first);
        let _ = server.handle_client_final(second);
    }
    if let Ok(text) = core::str::from_utf8(data) {
        let _ = text.parse::<ScramVerifier>();
    }
}

/// Decodes arbitrary bytes as every supported type in both formats; whatever decodes
/// must encode again, and decode to the same value. Panics only on a bug.
pub fn fuzz_types(data: &[u8]) {
    use crate::message::Format;
    use crate::types::{
        oid, FromSql, Json, PgArray, PgDate, PgInet, PgInterval, PgNumeric, PgTime, PgTimeTz,
        PgTimestamp, PgTimestampTz, PgUuid, ToSql,
    };
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use bytes::BytesMut;

    fn check<T: for<'a> FromSql<'a> + ToSql + core::fmt::Debug>(oid: u32, raw: &[u8]) {
        for format in [Format::Text, Format::Binary] {
            if let Ok(v) = T::from_sql(oid, format, raw) {
                let mut out = BytesMut::new();
                if v.to_sql(oid, format, &mut out).is_ok() {
                    let again = T::from_sql(oid, format, &out);
                    assert!(again.is_ok(), "re-encoded {v:?} does not decode: {out:?}");
                    if let Ok(again) = again {
                        assert_eq!(
                            format!("{again:?}"),
                            format!("{v:?}"),
                            "round trip changed the value"
                        );
                    }
                }
            }
        }
    }
    let Some((&selector, raw)) = data.split_first() else {
        return;
    };
    match selector % 20 {
        0 => check::<bool>(oid::BOOL, raw),
        1 => check::<i16>(oid::INT2, raw),
        2 => check::<i32>(oid::INT4, raw),
        3 => check::<i64>(oid::INT8, raw),
        4 => check::<f32>(oid::FLOAT4, raw),
        5 => check::<f64>(oid::FLOAT8, raw),
        6 => check::<PgNumeric>(oid::NUMERIC, raw),
        7 => check::<String>(oid::TEXT, raw),
        8 => check::<Vec<u8>>(oid::BYTEA, raw),
        9 => check::<PgUuid>(oid::UUID, raw),
        10 => check::<Json<String>>(oid::JSONB, raw),
        11 => check::<PgDate>(oid::DATE, raw),
        12 => check::<PgTime>(oid::TIME, raw),
        13 => check::<PgTimeTz>(oid::TIMETZ, raw),
        14 => check::<PgTimestamp>(oid::TIMESTAMP, raw),
        15 => check::<PgTimestampTz>(oid::TIMESTAMPTZ, raw),
        16 => check::<PgInterval>(oid::INTERVAL, raw),
        17 => check::<PgInet>(oid::INET, raw),
        18 => check::<Vec<Option<i32>>>(oid::INT4_ARRAY, raw),
        _ => check::<PgArray<Option<String>>>(oid::TEXT_ARRAY, raw),
    }
}
