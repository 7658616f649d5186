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

/// A live session's key and cancel flag.
#[cfg(feature = "std")]
type Session = (Vec<u8>, std::sync::Arc<std::sync::atomic::AtomicBool>);

/// Routes CancelRequests to sessions (feature `std`): each live session registers its
/// key and gets a flag that a matching request raises. Shared by the adapters' servers.
#[cfg(feature = "std")]
#[derive(Debug, Default, Clone)]
pub struct CancelRegistry {
    sessions: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<i32, Session>>>,
}

#[cfg(feature = "std")]
impl CancelRegistry {
    /// Registers a session's key and the flag a matching cancel request raises (the
    /// session's [`Server::cancel_flag`](crate::server::Server::cancel_flag)).
    pub fn register(
        &self,
        process_id: i32,
        key: Vec<u8>,
        flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) {
        if let Ok(mut s) = self.sessions.lock() {
            s.insert(process_id, (key, flag));
        }
    }

    /// Forgets a session (it ended).
    pub fn unregister(&self, process_id: i32) {
        if let Ok(mut s) = self.sessions.lock() {
            s.remove(&process_id);
        }
    }

    /// Raises the cancel flag of the session the token names, if the key matches.
    pub fn cancel(&self, token: &CancelToken) -> bool {
        let Ok(s) = self.sessions.lock() else {
            return false;
        };
        match s.get(&token.process_id) {
            Some((key, flag)) if crate::auth::ct_eq(key, &token.secret_key) => {
                flag.store(true, std::sync::atomic::Ordering::Release);
                true
            }
            _ => false,
        }
    }
}
