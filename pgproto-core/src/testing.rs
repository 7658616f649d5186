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
