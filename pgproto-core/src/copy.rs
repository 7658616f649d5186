//! The binary COPY format: a header, tuples of length-prefixed fields, and a trailer.
//!
//! [`BinaryCopyEncoder`] writes rows of [`ToSql`] values for `COPY ... FROM STDIN (FORMAT
//! binary)`; [`BinaryCopyDecoder`] takes the chunks of `COPY ... TO STDOUT (FORMAT
//! binary)` in any split and yields rows whose fields decode with [`FromSql`]
//! ([`crate::types`]).
//!
//! ```
//! use pgproto_core::copy::{BinaryCopyDecoder, BinaryCopyEncoder};
//! use pgproto_core::types::oid;
//! let mut enc = BinaryCopyEncoder::new(&[oid::INT4, oid::TEXT]);
//! enc.write_row(&[&7i32, &"seven"]).unwrap();
//! let bytes = enc.finish();
//! let mut dec = BinaryCopyDecoder::new();
//! dec.push(&bytes);
//! let row = dec.next_row().unwrap().unwrap();
//! assert_eq!(row.get::<i32>(0, oid::INT4).unwrap(), 7);
//! assert!(dec.next_row().unwrap().is_none());
//! assert!(dec.is_finished());
//! ```

use alloc::vec::Vec;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::{DecodeError, Error};
use crate::message::{Format, Oid};
use crate::types::{encode_with_length, FromSql, ToSql};

/// The 11-byte signature every binary COPY stream starts with.
pub const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// Writes the binary COPY format.
#[derive(Debug)]
pub struct BinaryCopyEncoder {
    types: Vec<Oid>,
    buf: BytesMut,
}

impl BinaryCopyEncoder {
    /// An encoder for rows of these column types; the header is written at once.
    pub fn new(types: &[Oid]) -> Self {
        let mut buf = BytesMut::with_capacity(64 * 1024);
        buf.extend_from_slice(SIGNATURE);
        buf.put_i32(0); // flags
        buf.put_i32(0); // header extension length
        Self {
            types: types.to_vec(),
            buf,
        }
    }

    /// Appends one row.
    pub fn write_row(&mut self, values: &[&dyn ToSql]) -> Result<(), Error> {
        if values.len() != self.types.len() {
            return Err(crate::error::UsageError::RowWidth {
                expected: self.types.len(),
                given: values.len(),
            }
            .into());
        }
        let start = self.buf.len();
        let count =
            i16::try_from(values.len()).map_err(|_| crate::error::UsageError::RowWidth {
                expected: self.types.len(),
                given: values.len(),
            })?;
        self.buf.put_i16(count);
        for (v, t) in values.iter().zip(&self.types) {
            if let Err(e) = encode_with_length(*v, *t, Format::Binary, &mut self.buf) {
                self.buf.truncate(start);
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// Bytes written so far, to send as COPY data (keeps the encoder usable).
    pub fn take(&mut self) -> Bytes {
        self.buf.split().freeze()
    }

    /// Bytes buffered, not yet taken.
    pub fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// Appends the trailer and returns the rest of the stream.
    pub fn finish(mut self) -> Bytes {
        self.buf.put_i16(-1);
        self.buf.freeze()
    }
}

/// One row of a binary COPY stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyRow {
    fields: Vec<Option<Bytes>>,
}

impl CopyRow {
    /// The raw fields (`None`: NULL).
    pub fn fields(&self) -> &[Option<Bytes>] {
        &self.fields
    }

    /// Field `index` decoded as type `oid`.
    pub fn get<'a, T: FromSql<'a>>(&'a self, index: usize, oid: Oid) -> Result<T, Error> {
        let field = self
            .fields
            .get(index)
            .ok_or(crate::error::UsageError::NoSuchColumn)?;
        Ok(T::from_sql_nullable(oid, Format::Binary, field.as_deref())?)
    }
}

/// Reads the binary COPY format from chunks split anywhere.
#[derive(Debug, Default)]
pub struct BinaryCopyDecoder {
    buf: BytesMut,
    header_done: bool,
    finished: bool,
}

fn malformed(field: &'static str, value: i64) -> Error {
    DecodeError::InvalidValue {
        message: "binary COPY data",
        field,
        value,
    }
    .into()
}

impl BinaryCopyDecoder {
    /// A decoder expecting the header.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends received COPY data.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Whether the trailer was read.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Whether the header (signature, flags, extension area) was read.
    pub fn is_header_read(&self) -> bool {
        self.header_done
    }

    /// Bytes received but not yet returned as rows: part of a row still to come, or,
    /// after the trailer, data that should not be there.
    pub fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// The next complete row; `Ok(None)` when more data is needed or the trailer was
    /// read.
    pub fn next_row(&mut self) -> Result<Option<CopyRow>, Error> {
        if self.finished {
            return Ok(None);
        }
        if !self.header_done {
            if self.buf.len() < 19 {
                return Ok(None);
            }
            if self.buf.get(..11) != Some(&SIGNATURE[..]) {
                return Err(malformed("signature", 0));
            }
            // The high 16 bits are critical: a reader must refuse what it does not know
            // (bit 16: OIDs, which PostgreSQL 12+ never writes).
            let flags = self
                .buf
                .get(11..15)
                .and_then(|b| b.first_chunk::<4>())
                .map(|b| u32::from_be_bytes(*b))
                .unwrap_or(0);
            if flags >> 16 != 0 {
                return Err(malformed("flags", flags.into()));
            }
            let ext = self
                .buf
                .get(15..19)
                .and_then(|b| b.first_chunk::<4>())
                .map(|b| u32::from_be_bytes(*b))
                .unwrap_or(0) as usize;
            if self.buf.len() < 19 + ext {
                return Ok(None);
            }
            self.buf.advance(19 + ext);
            self.header_done = true;
        }
        // Walk the tuple without consuming it until it is complete.
        let data = &self.buf[..];
        let Some(count) = data.first_chunk::<2>().map(|b| i16::from_be_bytes(*b)) else {
            return Ok(None);
        };
        if count == -1 {
            self.buf.advance(2);
            self.finished = true;
            return Ok(None);
        }
        let count = usize::try_from(count).map_err(|_| malformed("field count", count.into()))?;
        let mut pos = 2;
        let mut spans = Vec::with_capacity(count);
        for _ in 0..count {
            let Some(len) = data
                .get(pos..pos + 4)
                .and_then(|b| b.first_chunk::<4>())
                .map(|b| i32::from_be_bytes(*b))
            else {
                return Ok(None);
            };
            pos += 4;
            if len == -1 {
                spans.push(None);
                continue;
            }
            let len = usize::try_from(len).map_err(|_| malformed("field length", len.into()))?;
            if data.len() < pos + len {
                return Ok(None);
            }
            spans.push(Some((pos, len)));
            pos += len;
        }
        let tuple = self.buf.split_to(pos).freeze();
        let fields = spans
            .into_iter()
            .map(|s| s.map(|(p, l)| tuple.slice(p..p + l)))
            .collect();
        Ok(Some(CopyRow { fields }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(flags: u32) -> alloc::vec::Vec<u8> {
        let mut h = SIGNATURE.to_vec();
        h.extend_from_slice(&flags.to_be_bytes());
        h.extend_from_slice(&0u32.to_be_bytes());
        h
    }

    #[test]
    fn critical_flags_are_refused_and_others_ignored() {
        for flags in [1 << 16, 1 << 31] {
            let mut dec = BinaryCopyDecoder::new();
            dec.push(&header(flags));
            assert!(dec.next_row().is_err(), "{flags:#x}");
        }
        let mut dec = BinaryCopyDecoder::new();
        dec.push(&header(1));
        dec.push(&[0xff, 0xff]);
        assert!(dec.next_row().unwrap().is_none());
        assert!(dec.is_finished());
    }

    #[test]
    fn what_is_left_is_counted() {
        let mut dec = BinaryCopyDecoder::new();
        dec.push(&header(0));
        dec.push(&[0, 1, 0, 0, 0, 2, b'x']);
        assert!(dec.next_row().unwrap().is_none());
        assert_eq!(dec.buffered_len(), 7);
        dec.push(&[b'y', 0xff, 0xff, b'!']);
        let row = dec.next_row().unwrap().unwrap();
        assert_eq!(row.fields(), &[Some(Bytes::from_static(b"xy"))]);
        assert!(dec.next_row().unwrap().is_none());
        // Data after the trailer stays, for the caller to refuse.
        assert!(dec.is_finished());
        assert_eq!(dec.buffered_len(), 1);
    }
}
