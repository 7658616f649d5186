//! # pgproto-core
//!
//! A sans-IO implementation of the PostgreSQL frontend/backend protocol (versions 3.0 and
//! 3.2) for both roles: a client talking to PostgreSQL and a server that PostgreSQL
//! clients connect to.
//!
//! *Sans-IO* means this crate never touches a socket, a clock or the operating system's
//! randomness. The caller hands in the bytes it received and takes out the bytes to send;
//! the adapters `pgproto-tokio`, `pgproto-asyncstd` and `pgproto-blocking` do exactly that
//! for their runtimes, and any other event loop can do the same.
//!
//! ## When to choose it
//!
//! Choose the core alone when you run your own event loop (mio, io_uring, a game loop,
//! an embedded runtime), or build a proxy, pooler, driver or Postgres-compatible
//! database and want the protocol without anyone else's I/O. On tokio, async-std/smol or
//! plain threads, an adapter already drives it. How to drive it yourself: the
//! [`guide`], whose walkthrough is the `mio_client`, `mio_server` and
//! `nonblocking_client` examples.
//!
//! ## Features
//!
//! Cargo features: `std` (default; `std::error::Error` impls and the adapters' shared
//! helpers; without it the crate is `#![no_std]` + `alloc`), `testing` (fuzz entry
//! points, an in-memory client/server pair), and value conversions for `chrono`, `time`,
//! `uuid`, `serde_json`, `rust_decimal`.
//!
//! Protocol, in both roles: versions 3.0 and 3.2, TLS negotiation (SSLRequest and direct
//! TLS; the caller runs the handshake), trust, cleartext, MD5 and SCRAM-SHA-256(-PLUS)
//! authentication, simple and extended query, pipelining with skip-until-Sync, portal
//! suspension, COPY, notifications and notices, cancellation, function calls, typed
//! values in text and binary.
//!
//! ## Layers
//!
//! Bottom up:
//! - [`wire`]: framing. [`wire::Framer`] splits a byte stream delivered in chunks of any
//!   size into frames, enforcing [`wire::Limits`] before buffering anything;
//!   [`wire::Reader`] and [`wire::Writer`] read and write one message body.
//! - [`message`]: every message of protocol 3.0 and 3.2 in both directions, typed, decoded
//!   without copying and encoded straight into a caller's buffer.
//! - [`auth`]: SCRAM-SHA-256(-PLUS) and MD5 for both sides, nonces passed in.
//! - [`client`] and [`server`]: the connection state machines, driven with bytes (see
//!   the [`guide`]); [`cancel`], [`copy`], [`types`], [`db_error`] and [`sqlstate`]
//!   around them.
//!
//! ## Decoding a server's byte stream
//!
//! ```
//! use pgproto_core::message::BackendMessage;
//! use pgproto_core::wire::{Direction, Framer, Limits};
//!
//! // Bytes as they might arrive from a socket, split anywhere.
//! let chunks: [&[u8]; 2] = [b"C\x00\x00\x00\x0dSELECT 1\x00Z\x00", b"\x00\x00\x05I"];
//! let mut framer = Framer::new(Direction::Backend, Limits::default());
//! let mut seen = Vec::new();
//! for chunk in chunks {
//!     framer.push(chunk);
//!     while let Some(frame) = framer.next_frame_ref().unwrap() {
//!         let tag = frame.tag.expect("backend messages are tagged");
//!         let msg = BackendMessage::decode(tag, frame.body).unwrap();
//!         seen.push(msg.name());
//!     }
//! }
//! assert_eq!(seen, ["CommandComplete", "ReadyForQuery"]);
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

extern crate alloc;

#[cfg(feature = "std")]
pub mod adapter;
pub mod auth;
pub mod cancel;
pub mod client;
pub mod column;
pub mod copy;
mod cycle;
pub mod db_error;
pub mod error;
pub mod guide;
pub mod message;
pub mod server;
pub mod sqlstate;
pub mod types;
pub mod wire;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{DecodeError, EncodeError, Error, ProtocolViolation, UsageError};

/// The README's examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
