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

/// The answers of the `fixed_server` examples (one per adapter): every query, simple or
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
            let casts = placeholder_casts(&query);
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

/// For each placeholder `$1..$n` (n = the highest used), the type OID of a `$k::type`
/// cast following it, if any.
pub fn placeholder_casts(query: &str) -> alloc::vec::Vec<Option<u32>> {
    let bytes = query.as_bytes();
    let mut out: alloc::vec::Vec<Option<u32>> = alloc::vec::Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        if b != b'$' {
            continue;
        }
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let Some(n) = bytes
            .get(start..i)
            .and_then(|d| core::str::from_utf8(d).ok())
            .and_then(|d| d.parse::<usize>().ok())
            .filter(|n| *n > 0 && *n <= 65_535)
        else {
            continue;
        };
        if out.len() < n {
            out.resize(n, None);
        }
        if bytes.get(i..i + 2) == Some(b"::") {
            let t = i + 2;
            let mut e = t;
            while bytes
                .get(e)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                e += 1;
            }
            let name = bytes.get(t..e).and_then(|n| core::str::from_utf8(n).ok());
            let oid = name.and_then(|n| match n.to_ascii_lowercase().as_str() {
                "bool" | "boolean" => Some(16),
                "bytea" => Some(17),
                "int8" | "bigint" => Some(20),
                "int2" | "smallint" => Some(21),
                "int4" | "int" | "integer" => Some(23),
                "text" | "varchar" => Some(25),
                "oid" => Some(26),
                "float4" | "real" => Some(700),
                "float8" => Some(701),
                "numeric" | "decimal" => Some(1700),
                "date" => Some(1082),
                "timestamp" => Some(1114),
                "timestamptz" => Some(1184),
                "uuid" => Some(2950),
                "json" => Some(114),
                "jsonb" => Some(3802),
                _ => None,
            });
            if let Some(slot) = out.get_mut(n - 1) {
                if slot.is_none() {
                    *slot = oid;
                }
            }
        }
    }
    out
}

/// Command-line options shared by the example servers: `--listen ADDR`
/// (default `127.0.0.1:5433`), `--auth trust|password|md5|scram-sha-256`, `--user`,
/// `--password`, `--tls-cert`, `--tls-key`, `--db PATH`.
#[cfg(feature = "std")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerArgs {
    /// Address to listen on.
    pub listen: alloc::string::String,
    /// Authentication method.
    pub auth: crate::server::AuthKind,
    /// The user clients log in as.
    pub user: alloc::string::String,
    /// That user's password.
    pub password: alloc::string::String,
    /// TLS certificate chain (PEM).
    pub tls_cert: Option<alloc::string::String>,
    /// TLS private key (PEM).
    pub tls_key: Option<alloc::string::String>,
    /// Database file (examples with storage).
    pub db: Option<alloc::string::String>,
}

#[cfg(feature = "std")]
impl ServerArgs {
    /// Parses `args` (without the program name).
    pub fn parse(
        args: impl IntoIterator<Item = alloc::string::String>,
    ) -> Result<Self, alloc::string::String> {
        use alloc::string::ToString;
        let mut out = Self {
            listen: "127.0.0.1:5433".to_string(),
            auth: crate::server::AuthKind::Trust,
            user: "postgres".to_string(),
            password: "postgres".to_string(),
            tls_cert: None,
            tls_key: None,
            db: None,
        };
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or(alloc::format!("{flag} needs a value"));
            match flag.as_str() {
                "--listen" => out.listen = value()?,
                "--auth" => out.auth = value()?.parse().map_err(ToString::to_string)?,
                "--user" => out.user = value()?,
                "--password" => out.password = value()?,
                "--tls-cert" => out.tls_cert = Some(value()?),
                "--tls-key" => out.tls_key = Some(value()?),
                "--db" => out.db = Some(value()?),
                "--help" | "-h" => {
                    return Err("options: --listen ADDR --auth trust|password|md5|scram-sha-256 --user U --password P --tls-cert PEM --tls-key PEM --db PATH".to_string())
                }
                other => return Err(alloc::format!("unknown option {other}")),
            }
        }
        if out.tls_cert.is_some() != out.tls_key.is_some() {
            return Err("--tls-cert and --tls-key go together".to_string());
        }
        Ok(out)
    }

    /// The authentication policy these options describe; `random` seeds the SCRAM salt
    /// and the unknown-user secret.
    pub fn server_auth(
        &self,
        random: &[u8; 32],
    ) -> Result<crate::server::ServerAuth, crate::Error> {
        let (mock, salt) = random.split_at(16);
        let mut auth = crate::server::ServerAuth::new(self.auth, mock);
        auth.add_user(&self.user, &self.password, salt)?;
        Ok(auth)
    }
}
