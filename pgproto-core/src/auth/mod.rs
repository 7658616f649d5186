//! TEMPORARY STUB in the client worktree; replaced by the real auth module on merge.
#![allow(missing_docs, dead_code, unused_variables)]
use alloc::string::String;
use alloc::vec::Vec;
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError { Stub, MethodNotAllowed(&'static str), ChannelBindingRequired, PasswordRequired, UnsupportedMethod(&'static str), ServerSkippedVerification }
impl core::fmt::Display for AuthError { fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result { f.write_str("stub") } }
pub mod md5 {
    use alloc::string::String;
    pub fn client_response(user: &[u8], password: &[u8], salt: [u8; 4]) -> String { String::new() }
}
pub mod scram {
    use super::AuthError;
    use alloc::vec::Vec;
    pub const SCRAM_SHA_256: &str = "SCRAM-SHA-256";
    pub const SCRAM_SHA_256_PLUS: &str = "SCRAM-SHA-256-PLUS";
    pub enum ChannelBinding { Unsupported, NotUsed, TlsServerEndPoint(Vec<u8>) }
    pub struct ScramClient;
    impl ScramClient {
        pub fn new(password: &[u8], cb: ChannelBinding, nonce: &[u8]) -> Self { Self }
        pub fn mechanism(&self) -> &'static str { SCRAM_SHA_256 }
        pub fn client_first_message(&self) -> &[u8] { b"" }
        pub fn handle_server_first(&mut self, m: &[u8]) -> Result<Vec<u8>, AuthError> { Err(AuthError::Stub) }
        pub fn handle_server_final(&mut self, m: &[u8]) -> Result<(), AuthError> { Err(AuthError::Stub) }
    }
}
