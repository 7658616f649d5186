//! Splitting a byte stream into frames.

use bytes::{Buf, Bytes, BytesMut};

use super::{CANCEL_REQUEST_CODE, GSSENC_REQUEST_CODE, SSL_REQUEST_CODE};
use crate::error::DecodeError;

/// Which side sent the bytes a [`Framer`] splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Messages sent by a client (what a server reads). The stream starts with untagged
    /// startup-phase packets.
    Frontend,
    /// Messages sent by a server (what a client reads). Every message is tagged.
    Backend,
}

impl Direction {
    /// `"frontend"` or `"backend"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Frontend => "frontend",
            Self::Backend => "backend",
        }
    }
}

/// Length limits, checked against a frame's declared length before its body is buffered.
///
/// Lengths count the 4-byte length field itself but not the type byte, as on the wire.
///
/// ```
/// use pgproto_core::wire::Limits;
/// let limits = Limits { max_message_len: 16 << 20, ..Limits::default() };
/// assert_eq!(limits.max_startup_packet_len, 10_004);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message whose type may carry bulk data: Query, Parse, Bind, FunctionCall and
    /// CopyData from a client; DataRow, CopyData, RowDescription, ParameterDescription,
    /// FunctionCallResponse, ErrorResponse, NoticeResponse and NotificationResponse from a
    /// server. Default: `0x3fff_ffff` (1 GiB - 1, PostgreSQL's own `MaxAllocSize - 1`).
    pub max_message_len: usize,
    /// Largest message of any other type (Sync, Execute, authentication exchanges,
    /// ParameterStatus, ...). Default: 65,536, which holds the longest authentication token
    /// PostgreSQL accepts (65,535 bytes).
    pub max_small_message_len: usize,
    /// Largest untagged startup-phase packet. Default: 10,004, as PostgreSQL, whose
    /// `MAX_STARTUP_PACKET_LENGTH` (10,000) counts the body without the length field.
    pub max_startup_packet_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_len: 0x3fff_ffff,
            max_small_message_len: 65_536,
            max_startup_packet_len: 10_004,
        }
    }
}

impl Limits {
    /// The limit that applies to a tagged message of type `tag` sent in `direction`.
    pub fn max_len_for(&self, direction: Direction, tag: u8) -> usize {
        let bulk = match direction {
            Direction::Frontend => matches!(tag, b'Q' | b'P' | b'B' | b'F' | b'd'),
            Direction::Backend => {
                matches!(tag, b'D' | b'd' | b'T' | b't' | b'V' | b'E' | b'N' | b'A')
            }
        };
        if bulk {
            self.max_message_len
        } else {
            self.max_small_message_len.min(self.max_message_len)
        }
    }
}

/// One framed message: its type byte (`None` for an untagged startup-phase packet) and
/// its body, without the type byte and the length.
///
/// `B` is `&[u8]` for frames borrowed from the [`Framer`]'s buffer
/// ([`Framer::next_frame_ref`]) and [`Bytes`] for owned frames ([`Framer::next_frame`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<B> {
    /// The message type byte; `None` for StartupMessage, SSLRequest, GSSENCRequest and
    /// CancelRequest, whose body starts with the protocol version or request code.
    pub tag: Option<u8>,
    /// The message body.
    pub body: B,
}

/// Where a frame sits in the buffer.
#[derive(Clone, Copy)]
struct FrameSpan {
    tag: Option<u8>,
    header_len: usize,
    body_len: usize,
}

/// Splits a stream of bytes, delivered in chunks of any size, into [`Frame`]s.
///
/// Feed bytes with [`Framer::push`] (or read straight into [`Framer::buffer_mut`]), then
/// take frames until `Ok(None)` says more input is needed. A frame is returned only once its
/// whole body is buffered, and a declared length above the [`Limits`] is an error before
/// any of the body is buffered. After an error the framer is poisoned: every later call
/// returns the same error.
///
/// A framer for [`Direction::Frontend`] starts in the startup phase and reads untagged
/// packets; it switches to tagged messages by itself once it has read a StartupMessage
/// (a packet whose code is not SSLRequest, GSSENCRequest or CancelRequest).
///
/// ```
/// use pgproto_core::wire::{Direction, Framer, Limits};
/// let mut framer = Framer::new(Direction::Backend, Limits::default());
/// framer.push(b"Z\x00\x00\x00");
/// assert!(framer.next_frame_ref().unwrap().is_none()); // incomplete
/// framer.push(b"\x05I");
/// let frame = framer.next_frame_ref().unwrap().unwrap();
/// assert_eq!((frame.tag, frame.body), (Some(b'Z'), &b"I"[..]));
/// ```
#[derive(Debug)]
pub struct Framer {
    buf: BytesMut,
    /// Bytes at the front of `buf` already handed out by `next_frame_ref`.
    consumed: usize,
    direction: Direction,
    limits: Limits,
    startup_phase: bool,
    poisoned: Option<DecodeError>,
}

impl Framer {
    /// A framer for messages sent by `direction`.
    pub fn new(direction: Direction, limits: Limits) -> Self {
        Self {
            buf: BytesMut::new(),
            consumed: 0,
            direction,
            limits,
            startup_phase: direction == Direction::Frontend,
            poisoned: None,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Which side's messages this framer splits.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Whether the next frame is read as an untagged startup-phase packet.
    pub fn is_startup_phase(&self) -> bool {
        self.startup_phase
    }

    /// Forces reading untagged startup-phase packets (`true`) or tagged messages (`false`).
    ///
    /// Needed only when a connection is taken over mid-stream; the framer otherwise tracks
    /// the startup phase itself.
    pub fn set_startup_phase(&mut self, startup_phase: bool) {
        self.startup_phase = startup_phase;
    }

    /// Number of buffered bytes not yet returned in a frame.
    pub fn buffered_len(&self) -> usize {
        self.buf.len() - self.consumed
    }

    fn compact(&mut self) {
        if self.consumed > 0 {
            self.buf.advance(self.consumed);
            self.consumed = 0;
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.compact();
        self.buf.extend_from_slice(data);
    }

    /// Frees the input buffer's memory when it holds no unread byte, so that a connection
    /// waiting for input holds no buffer. The next read allocates again. Returns whether
    /// the buffer was released.
    pub fn release_if_empty(&mut self) -> bool {
        if self.buffered_len() == 0 && self.buf.capacity() > 0 {
            self.buf = BytesMut::new();
            self.consumed = 0;
            true
        } else {
            false
        }
    }

    /// The input buffer, for reading from a socket straight into it (append only).
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        self.compact();
        &mut self.buf
    }

    /// Takes one byte outside the framing: the single-byte answer (`S`, `N` or `G`) to an
    /// SSLRequest or GSSENCRequest. Returns `None` when no byte is buffered.
    pub fn next_byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.consumed)?;
        self.consumed += 1;
        Some(b)
    }

    fn span(&self) -> Result<Option<FrameSpan>, DecodeError> {
        let data = self.buf.get(self.consumed..).unwrap_or_default();
        if self.startup_phase {
            let Some(len) = data.first_chunk::<4>().map(|b| i32::from_be_bytes(*b)) else {
                return Ok(None);
            };
            let max = self.limits.max_startup_packet_len;
            let len = match usize::try_from(len) {
                Ok(len) if len >= 8 => len,
                _ => {
                    return Err(DecodeError::BadLength {
                        message: "startup packet",
                        declared: len.into(),
                    })
                }
            };
            if len > max {
                return Err(DecodeError::TooLarge {
                    message: "startup packet",
                    len,
                    max,
                });
            }
            Ok((data.len() >= len).then_some(FrameSpan {
                tag: None,
                header_len: 4,
                body_len: len - 4,
            }))
        } else {
            let Some((&tag, rest)) = data.split_first() else {
                return Ok(None);
            };
            let Some(len) = rest.first_chunk::<4>().map(|b| i32::from_be_bytes(*b)) else {
                return Ok(None);
            };
            let len = match usize::try_from(len) {
                Ok(len) if len >= 4 => len,
                _ => {
                    return Err(DecodeError::BadLength {
                        message: "message header",
                        declared: len.into(),
                    })
                }
            };
            let max = self.limits.max_len_for(self.direction, tag);
            if len > max {
                return Err(DecodeError::TooLarge {
                    message: "message",
                    len,
                    max,
                });
            }
            Ok((rest.len() >= len).then_some(FrameSpan {
                tag: Some(tag),
                header_len: 5,
                body_len: len - 4,
            }))
        }
    }

    /// Finds the next complete frame, applying poisoning and the startup-phase switch.
    fn next_span(&mut self) -> Result<Option<FrameSpan>, DecodeError> {
        if let Some(err) = &self.poisoned {
            return Err(err.clone());
        }
        let span = match self.span() {
            Ok(span) => span,
            Err(err) => {
                self.poisoned = Some(err.clone());
                return Err(err);
            }
        };
        if let Some(span) = span {
            if span.tag.is_none() {
                let at = self.consumed + 4;
                let code = self
                    .buf
                    .get(at..at + 4)
                    .and_then(|b| b.first_chunk::<4>())
                    .map(|b| u32::from_be_bytes(*b));
                if !matches!(
                    code,
                    Some(CANCEL_REQUEST_CODE | SSL_REQUEST_CODE | GSSENC_REQUEST_CODE)
                ) {
                    self.startup_phase = false;
                }
            }
        }
        Ok(span)
    }

    /// The next complete frame, borrowed from the buffer (no allocation, no reference
    /// counting). `Ok(None)` means more input is needed.
    pub fn next_frame_ref(&mut self) -> Result<Option<Frame<&[u8]>>, DecodeError> {
        let Some(span) = self.next_span()? else {
            return Ok(None);
        };
        let start = self.consumed + span.header_len;
        let end = start + span.body_len;
        self.consumed = end;
        let body = self.buf.get(start..end).unwrap_or_default();
        Ok(Some(Frame {
            tag: span.tag,
            body,
        }))
    }

    /// The next complete frame as an owned [`Bytes`] slice of the buffer (no copy).
    /// `Ok(None)` means more input is needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame<Bytes>>, DecodeError> {
        let Some(span) = self.next_span()? else {
            return Ok(None);
        };
        self.compact();
        self.buf.advance(span.header_len);
        let body = self.buf.split_to(span.body_len).freeze();
        Ok(Some(Frame {
            tag: span.tag,
            body,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_short_and_oversized_lengths_before_buffering() {
        let mut f = Framer::new(Direction::Backend, Limits::default());
        f.push(b"Z\x00\x00\x00\x03");
        assert!(matches!(
            f.next_frame_ref(),
            Err(DecodeError::BadLength { declared: 3, .. })
        ));
        // Poisoned: same error again.
        assert!(matches!(
            f.next_frame_ref(),
            Err(DecodeError::BadLength { declared: 3, .. })
        ));

        let mut f = Framer::new(Direction::Backend, Limits::default());
        f.push(b"D\x7f\xff\xff\xff");
        assert!(matches!(
            f.next_frame_ref(),
            Err(DecodeError::TooLarge { .. })
        ));

        let mut f = Framer::new(Direction::Backend, Limits::default());
        f.push(b"D\xff\xff\xff\xff");
        assert!(matches!(
            f.next_frame_ref(),
            Err(DecodeError::BadLength { declared: -1, .. })
        ));

        // Small message types have the small limit.
        let mut f = Framer::new(Direction::Frontend, Limits::default());
        f.set_startup_phase(false);
        f.push(b"S\x00\x10\x00\x00");
        assert!(matches!(
            f.next_frame_ref(),
            Err(DecodeError::TooLarge { max: 65_536, .. })
        ));
    }

    #[test]
    fn startup_packet_limit_is_postgresqls_by_default() {
        // PostgreSQL accepts a body of 10,000 bytes: 10,004 with the length field.
        let mut f = Framer::new(Direction::Frontend, Limits::default());
        f.push(&10_004i32.to_be_bytes());
        assert!(matches!(f.next_frame_ref(), Ok(None)));
        let mut f = Framer::new(Direction::Frontend, Limits::default());
        f.push(&10_005i32.to_be_bytes());
        assert!(matches!(
            f.next_frame_ref(),
            Err(DecodeError::TooLarge {
                len: 10_005,
                max: 10_004,
                ..
            })
        ));
        let mut f = Framer::new(Direction::Frontend, Limits::default());
        f.push(&7i32.to_be_bytes());
        assert!(matches!(
            f.next_frame_ref(),
            Err(DecodeError::BadLength { declared: 7, .. })
        ));
    }

    #[test]
    fn switches_to_tagged_after_startup_message() {
        let mut f = Framer::new(Direction::Frontend, Limits::default());
        // SSLRequest, then StartupMessage, then Sync.
        f.push(b"\x00\x00\x00\x08\x04\xd2\x16\x2f");
        f.push(b"\x00\x00\x00\x09\x00\x03\x00\x00\x00");
        f.push(b"S\x00\x00\x00\x04");
        let a = f.next_frame().unwrap().unwrap();
        assert_eq!(a.tag, None);
        assert!(f.is_startup_phase());
        let b = f.next_frame().unwrap().unwrap();
        assert_eq!(b.tag, None);
        assert_eq!(&b.body[..], b"\x00\x03\x00\x00\x00");
        assert!(!f.is_startup_phase());
        let c = f.next_frame().unwrap().unwrap();
        assert_eq!((c.tag, c.body.len()), (Some(b'S'), 0));
        assert_eq!(f.next_frame().unwrap(), None);
    }

    #[test]
    fn single_byte_ssl_answer() {
        let mut f = Framer::new(Direction::Backend, Limits::default());
        f.push(b"S");
        assert_eq!(f.next_byte(), Some(b'S'));
        assert_eq!(f.buffered_len(), 0);
        assert_eq!(f.next_byte(), None);
    }
}
