//! Query cancellation: the key a server hands out and the CancelRequest packet that uses
//! it.

use alloc::vec::Vec;

use bytes::BytesMut;

use crate::error::EncodeError;
use crate::message::CancelRequest;

/// What a client needs to cancel the query running on a connection: the backend's process
/// ID and secret key (4 bytes in protocol 3.0, 4 to 256 bytes in 3.2), from BackendKeyData.
///
/// Send [`CancelToken::encode`]'s bytes on a *new* connection (optionally after TLS
/// negotiation), then close it: the server answers nothing.
///
/// ```
/// use pgproto_core::cancel::CancelToken;
/// let token = CancelToken::new(4242, vec![1, 2, 3, 4]);
/// let mut buf = bytes::BytesMut::new();
/// token.encode(&mut buf).unwrap();
/// assert_eq!(buf.len(), 16);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CancelToken {
    /// Process ID of the backend.
    pub process_id: i32,
    /// Its secret key.
    pub secret_key: Vec<u8>,
}

impl CancelToken {
    /// A token.
    pub fn new(process_id: i32, secret_key: Vec<u8>) -> Self {
        Self {
            process_id,
            secret_key,
        }
    }

    /// Appends the CancelRequest packet.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        CancelRequest {
            process_id: self.process_id,
            secret_key: &self.secret_key,
        }
        .encode(buf)
    }
}
