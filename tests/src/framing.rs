//! Splitting a recorded byte stream into PostgreSQL protocol messages, with
//! pgproto-core's [`Framer`] (framing only: bodies are not decoded here).

use std::collections::BTreeMap;
use std::fmt;

use bytes::Bytes;
pub use pgproto_core::wire::Direction;
use pgproto_core::wire::{Framer, Limits};

/// The direction of a recording from its file name (`*.frontend.bin` or
/// `*.backend.bin`).
pub fn direction_from_file_name(name: &str) -> Option<Direction> {
    if name.ends_with(".frontend.bin") {
        Some(Direction::Frontend)
    } else if name.ends_with(".backend.bin") {
        Some(Direction::Backend)
    } else {
        None
    }
}

/// One framed message: `tag` is `None` for the untagged startup-phase
/// messages (StartupMessage, CancelRequest, SSLRequest, GSSENCRequest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The message type byte, if the message has one.
    pub tag: Option<u8>,
    /// The body after the length word.
    pub body: Bytes,
}

impl RawMessage {
    /// For an untagged message, its leading 32-bit code (protocol version or
    /// request code).
    pub fn startup_code(&self) -> Option<u32> {
        match (self.tag, self.body.first_chunk::<4>()) {
            (None, Some(code)) => Some(u32::from_be_bytes(*code)),
            _ => None,
        }
    }
}

impl fmt::Display for RawMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.tag {
            Some(tag) => write!(f, "'{}' len={}", char::from(tag), self.body.len() + 4),
            None => write!(
                f,
                "untagged code={} len={}",
                self.startup_code().unwrap_or(0),
                self.body.len() + 4
            ),
        }
    }
}

/// Splits a whole recorded `stream` into messages; an incomplete final
/// message or a framing error is an error.
pub fn split_messages(stream: &[u8], direction: Direction) -> Result<Vec<RawMessage>, String> {
    let mut framer = Framer::new(direction, Limits::default());
    framer.push(stream);
    let mut messages = Vec::new();
    while let Some(frame) = framer
        .next_frame()
        .map_err(|e| format!("after {} messages: {e}", messages.len()))?
    {
        messages.push(RawMessage {
            tag: frame.tag,
            body: frame.body,
        });
    }
    match framer.buffered_len() {
        0 => Ok(messages),
        n => Err(format!("truncated final message ({n} bytes left over)")),
    }
}

/// Counts messages by tag (`'\0'` stands for untagged messages).
pub fn count_by_tag(messages: &[RawMessage]) -> BTreeMap<char, usize> {
    let mut counts = BTreeMap::new();
    for m in messages {
        *counts.entry(m.tag.map_or('\0', char::from)).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_startup_and_tagged_messages() {
        let mut stream = vec![0, 0, 0, 8, 0, 3, 0, 0];
        stream.extend_from_slice(b"Q\0\0\0\x0eselect 1;\0");
        stream.extend_from_slice(b"X\0\0\0\x04");
        let messages = split_messages(&stream, Direction::Frontend).unwrap();
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[0].startup_code(), Some(196_608));
        assert_eq!(messages[1].tag, Some(b'Q'));
        assert_eq!(&messages[1].body[..], b"select 1;\0");
        assert_eq!(messages[2].tag, Some(b'X'));
        assert!(split_messages(&stream[..10], Direction::Frontend).is_err());
    }
}
