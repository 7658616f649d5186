//! SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (RFC 5802, RFC 7677) as PostgreSQL uses them.
//!
//! The exchange, carried in PostgreSQL's SASL messages:
//!
//! | step | sender | SCRAM message            | PostgreSQL message           | here                                   |
//! |------|--------|--------------------------|------------------------------|----------------------------------------|
//! | 1    | server | (mechanism list)         | AuthenticationSASL           | [`ScramServer::mechanisms`]            |
//! | 2    | client | client-first-message     | SASLInitialResponse          | [`ScramClient::client_first_message`]  |
//! | 3    | server | server-first-message     | AuthenticationSASLContinue   | [`ScramServer::handle_client_first`]   |
//! | 4    | client | client-final-message     | SASLResponse                 | [`ScramClient::handle_server_first`]   |
//! | 5    | server | server-final-message     | AuthenticationSASLFinal      | [`ScramServer::handle_client_final`]   |
//! | 6    | client | (verifies the server)    | (then AuthenticationOk)      | [`ScramClient::handle_server_final`]   |
//!
//! Differences from plain RFC 5802, all as PostgreSQL does:
//! - the client sends an empty user name (`n=`): the server uses the one from the
//!   StartupMessage;
//! - passwords that are not UTF-8, or that SASLprep rejects, are used as raw bytes
//!   ([`super::saslprep_password`]);
//! - the only channel-binding type is `tls-server-end-point` (RFC 5929), see
//!   [`tls_server_end_point`];
//! - authorization identities (`a=`) are refused.
//!
//! Both sides parse strictly: attributes in RFC order, no missing or duplicate
//! attribute, canonical base64, printable nonces, a positive iteration count without
//! leading zeros; mandatory extensions (`m=`) are refused and optional trailing
//! extensions are ignored. Nothing panics on peer data.
//!
//! # Caller obligations
//! - Nonces MUST come from a cryptographically secure random generator, fresh for every
//!   exchange, at least [`MIN_RAW_NONCE_LEN`] bytes (PostgreSQL uses 18).
//! - A client MUST NOT accept AuthenticationOk (or anything after it) unless
//!   [`ScramClient::handle_server_final`] returned `Ok`: otherwise a fake server could
//!   skip the proof that it knows the password. With a `require` channel-binding policy
//!   it MUST also refuse any other authentication method.
//! - A server SHOULD run the exchange for unknown users too
//!   ([`ScramCredential::Unknown`]) and answer every [`crate::auth::AuthError`] with the
//!   same ErrorResponse, so that failures do not reveal which users exist.
//!
//! # Example: a client and a server in memory
//! ```
//! use pgproto_core::auth::scram::{ChannelBinding, ScramClient, ScramCredential, ScramServer, ScramVerifier};
//!
//! // Stored by the server when the password was set (`pg_authid.rolpassword`).
//! let verifier = ScramVerifier::generate(b"secret", b"sixteen byte salt", 4096).unwrap();
//!
//! let mut server = ScramServer::new(
//!     ScramCredential::Verifier(verifier),
//!     b"random server nonce bytes",
//!     None, // no TLS: no channel binding
//! ).unwrap();
//! let mut client = ScramClient::new(
//!     b"secret",
//!     ChannelBinding::Unsupported,
//!     b"random client nonce bytes",
//! ).unwrap();
//!
//! assert_eq!(server.mechanisms(), ["SCRAM-SHA-256"]);
//! let server_first = server
//!     .handle_client_first(client.mechanism(), client.client_first_message())
//!     .unwrap();
//! let client_final = client.handle_server_first(&server_first).unwrap();
//! let server_final = server.handle_client_final(&client_final).unwrap();
//! client.handle_server_final(&server_final).unwrap();
//! assert!(client.is_complete() && server.is_complete());
//! ```

use alloc::string::String;
use alloc::vec::Vec;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::AuthError;

extern crate alloc;

mod client;
mod parse;
mod server;
mod tls;
mod verifier;

pub use client::ScramClient;
pub use server::{ScramCredential, ScramServer};
pub use tls::{tls_server_end_point, tls_server_end_point_sha256};
pub use verifier::ScramVerifier;

/// The SASL mechanism name without channel binding.
pub const SCRAM_SHA_256: &str = "SCRAM-SHA-256";
/// The SASL mechanism name with channel binding (`tls-server-end-point`).
pub const SCRAM_SHA_256_PLUS: &str = "SCRAM-SHA-256-PLUS";
/// The channel-binding type PostgreSQL uses (RFC 5929).
pub const TLS_SERVER_END_POINT: &str = "tls-server-end-point";
/// The minimum number of random bytes a caller must hand in for a nonce.
pub const MIN_RAW_NONCE_LEN: usize = 18;
/// The default cap on the iteration count a client accepts from a server (a CPU
/// denial-of-service guard). PostgreSQL's default is 4096.
pub const DEFAULT_MAX_ITERATIONS: u32 = 10_000_000;
/// Length of SCRAM-SHA-256 keys, signatures and proofs.
pub const KEY_LEN: usize = 32;

/// What a client does about channel binding: the GS2 header of its client-first-message
/// (RFC 5802 section 7) and the mechanism it selects.
///
/// Use [`ChannelBinding::negotiate`] to choose as libpq does.
#[derive(Clone, PartialEq, Eq)]
pub enum ChannelBinding {
    /// `n,,`: the client does not support channel binding (no TLS, or disabled).
    /// Mechanism SCRAM-SHA-256.
    Unsupported,
    /// `y,,`: the client supports channel binding but the server did not offer
    /// SCRAM-SHA-256-PLUS. Mechanism SCRAM-SHA-256. A server that does offer PLUS takes
    /// this as a downgrade attack and fails the exchange.
    NotUsed,
    /// `p=tls-server-end-point,,`: bind to the TLS channel. Mechanism
    /// SCRAM-SHA-256-PLUS. Holds the tls-server-end-point hash of the server's
    /// certificate ([`tls_server_end_point`]).
    TlsServerEndPoint(Vec<u8>),
}

impl core::fmt::Debug for ChannelBinding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Unsupported => f.write_str("Unsupported"),
            Self::NotUsed => f.write_str("NotUsed"),
            Self::TlsServerEndPoint(data) => f
                .debug_tuple("TlsServerEndPoint")
                .field(&format_args!("<{} bytes>", data.len()))
                .finish(),
        }
    }
}

/// A client's channel-binding policy, as libpq's `channel_binding` connection parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChannelBindingPolicy {
    /// Never use channel binding (GS2 flag `n`).
    Disable,
    /// Use channel binding when the connection is TLS and the server offers
    /// SCRAM-SHA-256-PLUS.
    #[default]
    Prefer,
    /// Fail unless channel binding is used.
    Require,
}

impl ChannelBinding {
    /// The SASL mechanism this choice implies.
    pub fn mechanism(&self) -> &'static str {
        match self {
            Self::TlsServerEndPoint(_) => SCRAM_SHA_256_PLUS,
            Self::Unsupported | Self::NotUsed => SCRAM_SHA_256,
        }
    }

    /// The GS2 header the client-first-message starts with.
    fn gs2_header(&self) -> &'static [u8] {
        match self {
            Self::Unsupported => b"n,,",
            Self::NotUsed => b"y,,",
            Self::TlsServerEndPoint(_) => b"p=tls-server-end-point,,",
        }
    }

    /// The channel-binding data appended to the GS2 header in `c=`.
    fn data(&self) -> &[u8] {
        match self {
            Self::TlsServerEndPoint(data) => data,
            Self::Unsupported | Self::NotUsed => &[],
        }
    }

    /// Chooses a mechanism from the server's AuthenticationSASL list, as libpq does.
    ///
    /// - `tls_in_use`: the connection is TLS-encrypted;
    /// - `tls_server_end_point`: the hash of the server certificate
    ///   ([`tls_server_end_point`]), if it could be computed.
    ///
    /// SCRAM-SHA-256-PLUS is chosen when offered, over TLS, with a hash, unless the policy
    /// is [`ChannelBindingPolicy::Disable`]. Otherwise SCRAM-SHA-256, with `y` over TLS
    /// when the server does not offer PLUS (unless disabled), else `n` (PLUS offered but
    /// no certificate hash: libpq fails there, this falls back to `n`, which servers
    /// accept).
    ///
    /// Errors: [`AuthError::ChannelBindingNegotiation`] if the server offers PLUS on a
    /// connection without TLS (a sign that TLS was stripped);
    /// [`AuthError::ChannelBindingRequired`] if the policy is `Require` and PLUS cannot
    /// be used; [`AuthError::UnsupportedMechanism`] if no SCRAM mechanism is usable.
    ///
    /// ```
    /// use pgproto_core::auth::scram::{ChannelBinding, ChannelBindingPolicy};
    /// let offered = ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"];
    /// let cb = ChannelBinding::negotiate(offered, true, Some(&[7; 32]), ChannelBindingPolicy::Prefer).unwrap();
    /// assert_eq!(cb.mechanism(), "SCRAM-SHA-256-PLUS");
    /// let cb = ChannelBinding::negotiate(["SCRAM-SHA-256"], true, Some(&[7; 32]), ChannelBindingPolicy::Prefer).unwrap();
    /// assert_eq!(cb, ChannelBinding::NotUsed);
    /// let cb = ChannelBinding::negotiate(["SCRAM-SHA-256"], false, None, ChannelBindingPolicy::Prefer).unwrap();
    /// assert_eq!(cb, ChannelBinding::Unsupported);
    /// assert!(ChannelBinding::negotiate(["SCRAM-SHA-256"], false, None, ChannelBindingPolicy::Require).is_err());
    /// ```
    pub fn negotiate<'m, I>(
        offered: I,
        tls_in_use: bool,
        tls_server_end_point: Option<&[u8]>,
        policy: ChannelBindingPolicy,
    ) -> Result<Self, AuthError>
    where
        I: IntoIterator<Item = &'m str>,
    {
        let mut plus_offered = false;
        let mut plain_offered = false;
        let mut names = String::new();
        for name in offered {
            if !names.is_empty() {
                names.push_str(", ");
            }
            names.push_str(name);
            plus_offered |= name == SCRAM_SHA_256_PLUS;
            plain_offered |= name == SCRAM_SHA_256;
        }
        if plus_offered && !tls_in_use {
            return Err(AuthError::ChannelBindingNegotiation {
                reason: "server offered SCRAM-SHA-256-PLUS over a connection without TLS",
            });
        }
        let can_bind = tls_in_use && policy != ChannelBindingPolicy::Disable;
        if plus_offered && can_bind {
            if let Some(data) = tls_server_end_point {
                return Ok(Self::TlsServerEndPoint(data.into()));
            }
        }
        if policy == ChannelBindingPolicy::Require {
            return Err(AuthError::ChannelBindingRequired);
        }
        if !plain_offered {
            return Err(AuthError::UnsupportedMechanism { mechanism: names });
        }
        Ok(if can_bind && !plus_offered {
            Self::NotUsed
        } else {
            Self::Unsupported
        })
    }
}

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA-256 over the concatenation of `parts`.
fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; KEY_LEN] {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(key) else {
        return [0; KEY_LEN];
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn sha256(data: &[u8]) -> [u8; KEY_LEN] {
    Sha256::digest(data).into()
}

/// `SaltedPassword := Hi(Normalize(password), salt, i)`; `password` is already prepared.
fn salted_password(password: &[u8], salt: &[u8], iterations: u32) -> [u8; KEY_LEN] {
    let mut out = [0; KEY_LEN];
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
    out
}

fn client_key(salted_password: &[u8]) -> [u8; KEY_LEN] {
    hmac(salted_password, &[b"Client Key"])
}

fn server_key(salted_password: &[u8]) -> [u8; KEY_LEN] {
    hmac(salted_password, &[b"Server Key"])
}

fn xor(a: &[u8; KEY_LEN], b: &[u8; KEY_LEN]) -> [u8; KEY_LEN] {
    let mut out = *a;
    for (o, x) in out.iter_mut().zip(b) {
        *o ^= x;
    }
    out
}

fn b64(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// Encodes caller-provided random bytes as a printable nonce.
fn encode_nonce(raw: &[u8]) -> Result<String, AuthError> {
    if raw.len() < MIN_RAW_NONCE_LEN {
        return Err(AuthError::InvalidNonce {
            reason: "fewer than 18 random bytes",
        });
    }
    Ok(b64(raw))
}

/// Checks a caller-provided, already encoded nonce.
fn check_nonce_str(nonce: &str) -> Result<(), AuthError> {
    if nonce.is_empty() {
        return Err(AuthError::InvalidNonce { reason: "empty" });
    }
    if !nonce.bytes().all(parse::is_printable) {
        return Err(AuthError::InvalidNonce {
            reason: "not printable ASCII without ','",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiate_like_libpq() {
        use ChannelBindingPolicy::*;
        let both = [SCRAM_SHA_256_PLUS, SCRAM_SHA_256];
        let hash = [1u8; 32];
        let h = Some(&hash[..]);
        assert_eq!(
            ChannelBinding::negotiate(both, true, h, Prefer),
            Ok(ChannelBinding::TlsServerEndPoint(hash.to_vec()))
        );
        assert_eq!(
            ChannelBinding::negotiate(both, true, h, Require),
            Ok(ChannelBinding::TlsServerEndPoint(hash.to_vec()))
        );
        assert_eq!(
            ChannelBinding::negotiate(both, true, h, Disable),
            Ok(ChannelBinding::Unsupported)
        );
        // TLS but no hash (e.g. an Ed25519 certificate): cannot bind.
        assert_eq!(
            ChannelBinding::negotiate(both, true, None, Prefer),
            Ok(ChannelBinding::Unsupported)
        );
        assert_eq!(
            ChannelBinding::negotiate(both, true, None, Require),
            Err(AuthError::ChannelBindingRequired)
        );
        // PLUS over plaintext: stripped TLS.
        assert!(matches!(
            ChannelBinding::negotiate(both, false, None, Prefer),
            Err(AuthError::ChannelBindingNegotiation { .. })
        ));
        assert_eq!(
            ChannelBinding::negotiate([SCRAM_SHA_256], true, h, Prefer),
            Ok(ChannelBinding::NotUsed)
        );
        assert_eq!(
            ChannelBinding::negotiate([SCRAM_SHA_256], true, None, Prefer),
            Ok(ChannelBinding::NotUsed)
        );
        assert_eq!(
            ChannelBinding::negotiate([SCRAM_SHA_256], true, h, Require),
            Err(AuthError::ChannelBindingRequired)
        );
        assert_eq!(
            ChannelBinding::negotiate([SCRAM_SHA_256], false, None, Disable),
            Ok(ChannelBinding::Unsupported)
        );
        assert_eq!(
            ChannelBinding::negotiate(["OAUTHBEARER", "X"], false, None, Prefer),
            Err(AuthError::UnsupportedMechanism {
                mechanism: "OAUTHBEARER, X".into()
            })
        );
        assert!(matches!(
            ChannelBinding::negotiate([SCRAM_SHA_256_PLUS], true, h, Disable),
            Err(AuthError::UnsupportedMechanism { .. })
        ));
    }

    #[test]
    fn nonce_checks() {
        assert!(encode_nonce(&[0; 17]).is_err());
        assert_eq!(encode_nonce(&[0; 18]).unwrap(), "AAAAAAAAAAAAAAAAAAAAAAAA");
        assert!(check_nonce_str("").is_err());
        assert!(check_nonce_str("a,b").is_err());
        assert!(check_nonce_str("a b").is_err());
        assert!(check_nonce_str("é").is_err());
        assert!(check_nonce_str("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0").is_ok());
    }

    #[test]
    fn debug_hides_channel_binding_data() {
        let s = format!("{:?}", ChannelBinding::TlsServerEndPoint(vec![0xab; 32]));
        assert_eq!(s, "TlsServerEndPoint(<32 bytes>)");
    }
}
