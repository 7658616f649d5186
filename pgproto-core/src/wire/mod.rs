//! Framing: bytes and lengths, nothing about phases or message meaning.
//!
//! - [`Reader`] is a bounded cursor over one message body. Every read checks the bytes that
//!   are left, so a malformed body gives a [`DecodeError`](crate::DecodeError) naming the message and field.
//! - [`Writer`] appends one framed message to a caller's [`BytesMut`](bytes::BytesMut), back-patching the
//!   length, and removes what it wrote if encoding fails.
//! - [`Framer`] splits an incoming byte stream, delivered in chunks of any size, into
//!   frames. It enforces [`Limits`] on the declared length *before* buffering a body.
//!
//! PostgreSQL frames every message as `tag: u8, length: i32 (including itself), body`,
//! except the startup-phase packets a client sends first (StartupMessage, SSLRequest,
//! GSSENCRequest, CancelRequest), which have no tag.

mod framer;
mod reader;
mod writer;

pub use framer::{Direction, Frame, Framer, Limits};
pub use reader::Reader;
pub use writer::Writer;

/// Request code of a CancelRequest packet (`1234 << 16 | 5678`).
pub const CANCEL_REQUEST_CODE: u32 = 80_877_102;
/// Request code of an SSLRequest packet (`1234 << 16 | 5679`).
pub const SSL_REQUEST_CODE: u32 = 80_877_103;
/// Request code of a GSSENCRequest packet (`1234 << 16 | 5680`).
pub const GSSENC_REQUEST_CODE: u32 = 80_877_104;
