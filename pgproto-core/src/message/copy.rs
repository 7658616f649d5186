//! COPY sub-protocol: CopyInResponse, CopyOutResponse, CopyBothResponse, CopyData,
//! CopyDone, CopyFail.

use bytes::BytesMut;

use super::extended_query::{read_list, write_list};
use super::{Format, List};
use crate::error::{DecodeError, EncodeError};
use crate::wire::{Reader, Writer};

macro_rules! copy_response {
    ($(#[$doc:meta])* $name:ident, $tag:expr, $label:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name<'a> {
            /// Overall format: text (also used for CSV) or binary.
            pub format: Format,
            /// Per-column formats; all text when the overall format is text.
            pub column_formats: List<'a, Format>,
        }

        impl<'a> $name<'a> {
            /// Message type byte.
            pub const TAG: u8 = $tag;

            /// Decodes a message body.
            pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
                let mut r = Reader::new($label, body);
                let code = r.u8("overall format")?;
                let format = Format::from_code(code.into())
                    .ok_or_else(|| r.invalid("overall format", code.into()))?;
                let column_formats = read_list(&mut r, "column count", "column format")?;
                r.finish()?;
                Ok(Self {
                    format,
                    column_formats,
                })
            }

            /// Appends the message to `buf`.
            pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
                let mut w = Writer::tagged(buf, Self::TAG, $label);
                w.u8(if self.format == Format::Binary { 1 } else { 0 });
                write_list(&mut w, &self.column_formats, "column count", "column format")?;
                w.finish()
            }
        }
    };
}

copy_response!(
    /// CopyInResponse (B, `G`): the server is ready for COPY FROM STDIN data.
    CopyInResponse,
    b'G',
    "CopyInResponse"
);
copy_response!(
    /// CopyOutResponse (B, `H`): COPY TO STDOUT data follows.
    CopyOutResponse,
    b'H',
    "CopyOutResponse"
);
copy_response!(
    /// CopyBothResponse (B, `W`): bidirectional copy (streaming replication).
    CopyBothResponse,
    b'W',
    "CopyBothResponse"
);

/// CopyData (F & B, `d`): a chunk of the COPY stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyData<'a> {
    /// The data.
    pub data: &'a [u8],
}

impl<'a> CopyData<'a> {
    /// Message type byte.
    pub const TAG: u8 = b'd';

    /// Decodes a message body (all of it is data).
    #[inline]
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        Ok(Self { data: body })
    }

    /// Appends the message to `buf`.
    #[inline]
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, "CopyData");
        w.bytes(self.data);
        w.finish()
    }
}

empty_message!(
    /// CopyDone (F & B, `c`): the COPY stream is complete.
    CopyDone,
    b'c',
    "CopyDone"
);

/// CopyFail (F, `f`): the client aborts COPY FROM STDIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyFail<'a> {
    /// The reason, reported in the server's error.
    pub message: &'a str,
}

impl<'a> CopyFail<'a> {
    const NAME: &'static str = "CopyFail";
    /// Message type byte.
    pub const TAG: u8 = b'f';

    /// Decodes a message body.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let message = r.cstr("message")?;
        r.finish()?;
        Ok(Self { message })
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.cstr(self.message, "message")?;
        w.finish()
    }
}
