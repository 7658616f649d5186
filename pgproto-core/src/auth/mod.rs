//! Authentication mechanisms: cleartext, MD5 and SCRAM-SHA-256(-PLUS), for both roles.
//!
//! Everything here is pure computation over bytes the caller hands in: the module never
//! reads a clock or the operating system's randomness. Nonces and salts are parameters.
//!
//! - [`scram`]: SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (RFC 5802, RFC 7677) as PostgreSQL
//!   speaks them: a client ([`scram::ScramClient`]), a server ([`scram::ScramServer`]) and
//!   the `pg_authid` secret format ([`scram::ScramVerifier`]).
//! - [`md5`]: PostgreSQL's MD5 challenge-response and its stored `md5...` form.
//! - [`verify_cleartext`]: checks a password sent in clear text (AuthenticationCleartextPassword)
//!   against any stored form, as PostgreSQL does.
//!
//! Callers MUST hand in fresh, unpredictable random bytes for every nonce and salt
//! (at least [`scram::MIN_RAW_NONCE_LEN`] bytes for a SCRAM nonce), and MUST treat every
//! [`AuthError`] as the end of the authentication exchange.
//!
//! Secrets (passwords, salted passwords, keys) are kept in ordinary memory and are not
//! wiped when dropped.

extern crate alloc;

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt;

pub mod md5;
pub mod scram;

/// Which SCRAM message an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScramMessage {
    /// `client-first-message` (in SASLInitialResponse).
    ClientFirst,
    /// `server-first-message` (in AuthenticationSASLContinue).
    ServerFirst,
    /// `client-final-message` (in SASLResponse).
    ClientFinal,
    /// `server-final-message` (in AuthenticationSASLFinal).
    ServerFinal,
}

impl ScramMessage {
    /// The RFC 5802 name, e.g. `"server-first-message"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::ClientFirst => "client-first-message",
            Self::ServerFirst => "server-first-message",
            Self::ClientFinal => "client-final-message",
            Self::ServerFinal => "server-final-message",
        }
    }
}

impl fmt::Display for ScramMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an authentication exchange failed.
///
/// Every variant ends the exchange: a [`scram::ScramClient`] or [`scram::ScramServer`]
/// that returned an error returns the same error from every later call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// A SCRAM message does not follow the RFC 5802 grammar (missing, duplicate or
    /// misplaced attribute, empty value, forbidden character, trailing data, ...).
    MalformedMessage {
        /// The message that did not parse.
        message: ScramMessage,
        /// What was wrong.
        reason: &'static str,
    },
    /// A SCRAM attribute that must be base64 (`s=`, `c=`, `p=`, `v=`) is not valid
    /// (canonical, padded) base64 or decodes to the wrong length.
    InvalidBase64 {
        /// The message that holds the attribute.
        message: ScramMessage,
        /// The attribute name (`'s'`, `'c'`, `'p'` or `'v'`).
        attribute: char,
    },
    /// The message starts with a mandatory extension (`m=`), which is not supported.
    UnsupportedExtension {
        /// The message that asked for the extension.
        message: ScramMessage,
    },
    /// The client sent an authorization identity (`a=`); PostgreSQL does not support it.
    UnsupportedAuthzid,
    /// The server's nonce does not extend the client's nonce (or adds nothing to it), or
    /// the nonce in the client-final-message is not the one the server sent.
    NonceMismatch,
    /// A nonce handed in by the local caller is unusable (too short, or not printable).
    InvalidNonce {
        /// What was wrong.
        reason: &'static str,
    },
    /// The iteration count is zero.
    InvalidIterationCount,
    /// The iteration count is above the configured maximum (a CPU denial-of-service
    /// guard; see [`scram::ScramClient::set_max_iterations`]).
    IterationCountTooHigh {
        /// The maximum in force.
        max: u32,
    },
    /// The server's signature (`v=`) does not match: the server does not know the
    /// password, or a man in the middle changed the exchange.
    ServerSignatureMismatch,
    /// The server reported an error (`e=` in the server-final-message).
    ServerError {
        /// The error value, e.g. `"invalid-proof"`.
        value: String,
    },
    /// The client's proof is wrong: wrong password, or a user that does not exist or has
    /// no SCRAM secret. The two are deliberately indistinguishable.
    InvalidClientProof,
    /// The channel-binding data in the client-final-message (`c=`) does not match the
    /// GS2 header of the client-first-message and the server's TLS channel.
    ChannelBindingMismatch,
    /// Channel binding is required by the client's policy but not possible: no TLS, or
    /// the server does not offer SCRAM-SHA-256-PLUS.
    ChannelBindingRequired,
    /// The client's channel-binding choice contradicts the mechanism or the server's
    /// offer: `p=` with SCRAM-SHA-256, no `p=` with SCRAM-SHA-256-PLUS, `y` while the
    /// server offers PLUS (a downgrade attack), PLUS without TLS, or a binding type other
    /// than `tls-server-end-point`.
    ChannelBindingNegotiation {
        /// What was wrong.
        reason: &'static str,
    },
    /// The certificate's signature algorithm does not determine a tls-server-end-point
    /// hash (e.g. Ed25519), or the certificate is not DER this module can read.
    UnsupportedCertificate {
        /// What was wrong.
        reason: &'static str,
    },
    /// The SASL mechanism is not one this side offers or supports.
    UnsupportedMechanism {
        /// The mechanism name as received (or a list of the server's offers, on the
        /// client).
        mechanism: String,
    },
    /// A stored SCRAM secret is not in PostgreSQL's
    /// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` format.
    InvalidVerifier {
        /// What was wrong.
        reason: &'static str,
    },
    /// The client's policy (`require_auth`, or `channel_binding=require`) refuses the
    /// method the server asked for.
    MethodNotAllowed(&'static str),
    /// The server asked for a password, but none was configured.
    PasswordRequired,
    /// The server asked for a method this library does not implement (GSSAPI, SSPI,
    /// Kerberos).
    UnsupportedMethod(&'static str),
    /// The server reported success before proving it knows the password (AuthenticationOk
    /// before SASLFinal).
    ServerSkippedVerification,
    /// A method was called out of order (e.g. `handle_server_final` before
    /// `handle_server_first`, or any call after the exchange finished).
    OutOfOrder {
        /// The method that was called.
        called: &'static str,
        /// The step the exchange is at.
        state: &'static str,
    },
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedMessage { message, reason } => {
                write!(f, "malformed SCRAM {message}: {reason}")
            }
            Self::InvalidBase64 { message, attribute } => write!(
                f,
                "malformed SCRAM {message}: attribute {attribute}= is not valid base64 of the expected length"
            ),
            Self::UnsupportedExtension { message } => {
                write!(f, "SCRAM {message} requires an unsupported extension")
            }
            Self::UnsupportedAuthzid => {
                f.write_str("SCRAM authorization identity (a=) is not supported")
            }
            Self::NonceMismatch => f.write_str("SCRAM nonce mismatch"),
            Self::InvalidNonce { reason } => write!(f, "invalid local SCRAM nonce: {reason}"),
            Self::InvalidIterationCount => f.write_str("SCRAM iteration count must be positive"),
            Self::IterationCountTooHigh { max } => {
                write!(f, "SCRAM iteration count is above the maximum of {max}")
            }
            Self::ServerSignatureMismatch => f.write_str("SCRAM server signature mismatch"),
            Self::ServerError { value } => {
                write!(f, "error received from server in SCRAM exchange: {value}")
            }
            Self::InvalidClientProof => f.write_str("password authentication failed"),
            Self::ChannelBindingMismatch => f.write_str("SCRAM channel binding check failed"),
            Self::ChannelBindingRequired => f.write_str(
                "channel binding required, but the server did not offer it or TLS is not in use",
            ),
            Self::ChannelBindingNegotiation { reason } => {
                write!(f, "SCRAM channel binding negotiation error: {reason}")
            }
            Self::UnsupportedCertificate { reason } => {
                write!(f, "cannot compute tls-server-end-point: {reason}")
            }
            Self::UnsupportedMechanism { mechanism } => {
                write!(f, "unsupported SASL mechanism: {mechanism}")
            }
            Self::InvalidVerifier { reason } => write!(f, "invalid SCRAM secret: {reason}"),
            Self::MethodNotAllowed(method) => write!(
                f,
                "the server asked for authentication method {method}, which the client's policy does not allow"
            ),
            Self::PasswordRequired => {
                f.write_str("the server asked for a password, but none was given")
            }
            Self::UnsupportedMethod(method) => {
                write!(f, "authentication method {method} is not supported")
            }
            Self::ServerSkippedVerification => f.write_str(
                "the server completed authentication without proving it knows the password",
            ),
            Self::OutOfOrder { called, state } => {
                write!(f, "SCRAM {called} called out of order ({state})")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for AuthError {}

/// Compares two byte strings in time that depends only on their lengths, not on where
/// they differ.
///
/// Lengths are not secret: strings of different lengths compare unequal at once.
///
/// ```
/// use pgproto_core::auth::ct_eq;
/// assert!(ct_eq(b"secret", b"secret"));
/// assert!(!ct_eq(b"secret", b"secreT"));
/// assert!(!ct_eq(b"secret", b"secrets"));
/// ```
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    core::hint::black_box(diff) == 0
}

/// Applies SASLprep (RFC 4013) to a password the way PostgreSQL does: if the password is
/// not valid UTF-8, or SASLprep rejects it (prohibited or unassigned characters, bad
/// bidirectional text), the raw bytes are used unchanged instead of failing.
///
/// ```
/// use pgproto_core::auth::saslprep_password;
/// // U+00A0 NO-BREAK SPACE maps to an ordinary space; U+00AD SOFT HYPHEN maps to nothing.
/// assert_eq!(&*saslprep_password("a\u{a0}b\u{ad}c".as_bytes()), b"a bc");
/// // Not UTF-8: used as is.
/// assert_eq!(&*saslprep_password(b"\xff\xfe"), b"\xff\xfe");
/// // A prohibited control character: used as is.
/// assert_eq!(&*saslprep_password(b"a\x07b"), b"a\x07b");
/// ```
pub fn saslprep_password(password: &[u8]) -> Cow<'_, [u8]> {
    let Ok(text) = core::str::from_utf8(password) else {
        return Cow::Borrowed(password);
    };
    match stringprep::saslprep(text) {
        Ok(Cow::Borrowed(_)) | Err(_) => Cow::Borrowed(password),
        Ok(Cow::Owned(prepped)) => Cow::Owned(prepped.into_bytes()),
    }
}

/// How a password is stored, as PostgreSQL classifies `pg_authid.rolpassword`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PasswordType {
    /// `"md5"` followed by 32 lowercase hexadecimal digits.
    Md5,
    /// A valid `SCRAM-SHA-256$...` secret.
    ScramSha256,
    /// Anything else is taken as a plaintext password.
    Plaintext,
}

impl PasswordType {
    /// Classifies a stored password.
    ///
    /// ```
    /// use pgproto_core::auth::PasswordType;
    /// assert_eq!(PasswordType::of("md5a8c4d4dbd1a8e9a4b4b5a4f6f4c7d1e2"), PasswordType::Md5);
    /// assert_eq!(PasswordType::of("hunter2"), PasswordType::Plaintext);
    /// ```
    pub fn of(stored: &str) -> Self {
        if md5::is_encrypted(stored) {
            Self::Md5
        } else if stored.parse::<scram::ScramVerifier>().is_ok() {
            Self::ScramSha256
        } else {
            Self::Plaintext
        }
    }
}

/// Checks a password received in clear text (PasswordMessage after
/// AuthenticationCleartextPassword) against a stored password of any
/// [`PasswordType`], as PostgreSQL does. The comparison of secret values is constant-time.
///
/// ```
/// use pgproto_core::auth::{md5, verify_cleartext};
/// let stored = md5::encrypt_password(b"alice", b"secret");
/// assert!(verify_cleartext(&stored, b"alice", b"secret"));
/// assert!(!verify_cleartext(&stored, b"alice", b"Secret"));
/// assert!(verify_cleartext("plain", b"alice", b"plain"));
/// ```
pub fn verify_cleartext(stored: &str, user: &[u8], password: &[u8]) -> bool {
    match PasswordType::of(stored) {
        PasswordType::Md5 => ct_eq(
            md5::encrypt_password(user, password).as_bytes(),
            stored.as_bytes(),
        ),
        PasswordType::ScramSha256 => stored
            .parse::<scram::ScramVerifier>()
            .is_ok_and(|v| v.verify_password(password)),
        PasswordType::Plaintext => ct_eq(stored.as_bytes(), password),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ct_eq_basics() {
        assert!(ct_eq(b"", b""));
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert!(!ct_eq(b"", b"a"));
    }

    #[test]
    fn saslprep_like_postgres() {
        // ASCII passes unchanged (prepped or not, the bytes are the same).
        assert_eq!(&*saslprep_password(b"pencil"), b"pencil");
        assert!(matches!(saslprep_password(b"pencil"), Cow::Borrowed(_)));
        // RFC 4013 examples: "I<U+00AD>X" -> "IX", U+2168 ROMAN NUMERAL NINE -> "IX".
        assert_eq!(&*saslprep_password("I\u{ad}X".as_bytes()), b"IX");
        assert_eq!(&*saslprep_password("\u{2168}".as_bytes()), b"IX");
        // Prohibited: U+0007 -> raw. Bidi violation -> raw.
        assert_eq!(&*saslprep_password(b"\x07"), b"\x07");
        let bidi = "\u{627}1".as_bytes();
        assert_eq!(&*saslprep_password(bidi), bidi);
        // Invalid UTF-8 -> raw.
        assert_eq!(&*saslprep_password(b"caf\xe9"), b"caf\xe9");
        assert_eq!(&*saslprep_password(b""), b"");
    }

    #[test]
    fn password_types() {
        let md5 = md5::encrypt_password(b"u", b"p");
        assert_eq!(PasswordType::of(&md5), PasswordType::Md5);
        assert_eq!(PasswordType::of("md5"), PasswordType::Plaintext);
        assert_eq!(
            PasswordType::of(&md5.to_uppercase().replacen("MD5", "md5", 1)),
            PasswordType::Plaintext
        );
        let v = scram::ScramVerifier::generate(b"pw", b"0123456789abcdef", 16).unwrap();
        assert_eq!(PasswordType::of(&v.to_string()), PasswordType::ScramSha256);
        assert_eq!(
            PasswordType::of("SCRAM-SHA-256$4096:xx"),
            PasswordType::Plaintext
        );
    }

    #[test]
    fn cleartext_against_all_forms() {
        let v = scram::ScramVerifier::generate(b"pw", b"0123456789abcdef", 16).unwrap();
        assert!(verify_cleartext(&v.to_string(), b"u", b"pw"));
        assert!(!verify_cleartext(&v.to_string(), b"u", b"pW"));
        let m = md5::encrypt_password(b"u", b"pw");
        assert!(verify_cleartext(&m, b"u", b"pw"));
        assert!(!verify_cleartext(&m, b"v", b"pw"));
        assert!(verify_cleartext("pw", b"u", b"pw"));
        assert!(!verify_cleartext("pw", b"u", b"pw "));
    }

    #[test]
    fn errors_display() {
        let e = AuthError::MalformedMessage {
            message: ScramMessage::ServerFirst,
            reason: "missing attribute s",
        };
        assert_eq!(
            e.to_string(),
            "malformed SCRAM server-first-message: missing attribute s"
        );
        assert_eq!(
            AuthError::InvalidClientProof.to_string(),
            "password authentication failed"
        );
    }
}
