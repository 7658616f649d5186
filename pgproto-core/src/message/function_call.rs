//! The function-call sub-protocol: FunctionCall and FunctionCallResponse.

use bytes::BytesMut;

use super::extended_query::{read_list, resolve_format, write_list};
use super::{Format, List, Oid, WireElement};
use crate::error::{DecodeError, EncodeError};
use crate::wire::{Reader, Writer};

/// FunctionCall (F, `F`): call a function by OID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionCall<'a> {
    /// OID of the function.
    pub function_oid: Oid,
    /// Argument formats: none (all text), one (for all), or one per argument.
    pub arg_formats: List<'a, Format>,
    /// Argument values; `None` is NULL.
    pub args: List<'a, Option<&'a [u8]>>,
    /// Format of the result.
    pub result_format: Format,
}

impl<'a> FunctionCall<'a> {
    const NAME: &'static str = "FunctionCall";
    /// Message type byte.
    pub const TAG: u8 = b'F';

    /// Decodes a message body.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let function_oid = r.u32("function OID")?;
        let arg_formats = read_list(&mut r, "argument format count", "argument format")?;
        let args = read_list(&mut r, "argument count", "argument value")?;
        let result_format = Format::read(&mut r, "result format")?;
        r.finish()?;
        Ok(Self {
            function_oid,
            arg_formats,
            args,
            result_format,
        })
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.u32(self.function_oid);
        write_list(
            &mut w,
            &self.arg_formats,
            "argument format count",
            "argument format",
        )?;
        write_list(&mut w, &self.args, "argument count", "argument value")?;
        w.i16(self.result_format.code());
        w.finish()
    }

    /// The format of argument `index`, applying the protocol's rule for zero or one format
    /// code.
    pub fn arg_format(&self, index: usize) -> Option<Format> {
        resolve_format(&self.arg_formats, index)
    }
}

/// FunctionCallResponse (B, `V`): the function's result; `None` is NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionCallResponse<'a> {
    /// The result value.
    pub value: Option<&'a [u8]>,
}

impl<'a> FunctionCallResponse<'a> {
    const NAME: &'static str = "FunctionCallResponse";
    /// Message type byte.
    pub const TAG: u8 = b'V';

    /// Decodes a message body.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let value = r.nullable_bytes("result value")?;
        r.finish()?;
        Ok(Self { value })
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.nullable_bytes(self.value)?;
        w.finish()
    }
}
