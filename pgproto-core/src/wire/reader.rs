//! Bounded reads from one message body.

use crate::error::DecodeError;

/// A cursor over one message body that never reads past its end.
///
/// Each read names the field being read so that a failure says exactly what was wrong.
/// Values borrow from the body: no read allocates.
///
/// ```
/// use pgproto_core::wire::Reader;
/// let body = b"\x00\x02name\x00";
/// let mut r = Reader::new("Example", body);
/// assert_eq!(r.i16("count").unwrap(), 2);
/// assert_eq!(r.cstr("name").unwrap(), "name");
/// r.finish().unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    message: &'static str,
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `body`, reporting errors against `message`.
    #[inline]
    pub fn new(message: &'static str, body: &'a [u8]) -> Self {
        Self { message, buf: body }
    }

    /// The message name errors are reported against.
    #[inline]
    pub fn message(&self) -> &'static str {
        self.message
    }

    /// Bytes not read yet.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Whether every byte has been read.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    #[inline]
    fn truncated(&self, field: &'static str, needed: usize) -> DecodeError {
        DecodeError::Truncated {
            message: self.message,
            field,
            needed,
            available: self.buf.len(),
        }
    }

    /// The error for a field holding a value the protocol does not allow.
    #[inline]
    pub fn invalid(&self, field: &'static str, value: i64) -> DecodeError {
        DecodeError::InvalidValue {
            message: self.message,
            field,
            value,
        }
    }

    #[inline]
    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        match self.buf.split_first_chunk::<N>() {
            Some((head, rest)) => {
                self.buf = rest;
                Ok(*head)
            }
            None => Err(self.truncated(field, N)),
        }
    }

    /// The next byte, without consuming it.
    #[inline]
    pub fn peek_u8(&self) -> Option<u8> {
        self.buf.first().copied()
    }

    /// Reads one byte.
    #[inline]
    pub fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        self.array::<1>(field).map(|[b]| b)
    }

    /// Reads a big-endian `Int16`.
    #[inline]
    pub fn i16(&mut self, field: &'static str) -> Result<i16, DecodeError> {
        self.array(field).map(i16::from_be_bytes)
    }

    /// Reads a big-endian `Int32`.
    #[inline]
    pub fn i32(&mut self, field: &'static str) -> Result<i32, DecodeError> {
        self.array(field).map(i32::from_be_bytes)
    }

    /// Reads a big-endian `Int32` as unsigned (object IDs, codes).
    #[inline]
    pub fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        self.array(field).map(u32::from_be_bytes)
    }

    /// Reads an `Int16` count. PostgreSQL reads counts as unsigned 16-bit numbers (up to
    /// 65,535 parameters), and so does this.
    #[inline]
    pub fn count(&mut self, field: &'static str) -> Result<usize, DecodeError> {
        self.array(field)
            .map(|b| usize::from(u16::from_be_bytes(b)))
    }

    /// Reads exactly `n` bytes.
    #[inline]
    pub fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(self.truncated(field, n));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// Reads an `Int32` length followed by that many bytes; `-1` is NULL (`None`).
    #[inline]
    pub fn nullable_bytes(&mut self, field: &'static str) -> Result<Option<&'a [u8]>, DecodeError> {
        let len = self.i32(field)?;
        if len == -1 {
            return Ok(None);
        }
        let n = usize::try_from(len).map_err(|_| self.invalid(field, len.into()))?;
        self.bytes(n, field).map(Some)
    }

    /// Reads a NUL-terminated string as bytes (without the NUL).
    #[inline]
    pub fn cstr_bytes(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        match memchr::memchr(0, self.buf) {
            Some(end) => {
                let (s, rest) = self.buf.split_at(end);
                self.buf = rest.get(1..).unwrap_or_default();
                Ok(s)
            }
            None => Err(DecodeError::MissingNul {
                message: self.message,
                field,
            }),
        }
    }

    /// Reads a NUL-terminated UTF-8 string.
    #[inline]
    pub fn cstr(&mut self, field: &'static str) -> Result<&'a str, DecodeError> {
        let bytes = self.cstr_bytes(field)?;
        core::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 {
            message: self.message,
            field,
        })
    }

    /// Reads everything that is left.
    #[inline]
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.buf)
    }

    /// Checks that the whole body was read.
    #[inline]
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                message: self.message,
                count: self.buf.len(),
            })
        }
    }
}
