//! The stored SCRAM secret, in PostgreSQL's `pg_authid.rolpassword` format.

use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::parse::positive_number;
use super::{b64, client_key, hmac, salted_password, server_key, sha256, KEY_LEN};
use crate::auth::{ct_eq, saslprep_password, AuthError};

extern crate alloc;

/// A SCRAM-SHA-256 secret as a server stores it: what PostgreSQL keeps in
/// `pg_authid.rolpassword` as
/// `SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>`.
///
/// It does not contain the password, but whoever has it can impersonate the server to
/// clients and brute-force the password offline: keep it secret. `Debug` leaves the keys
/// out.
///
/// ```
/// use pgproto_core::auth::scram::ScramVerifier;
/// let v = ScramVerifier::generate(b"pencil", b"sixteen byte salt", 4096).unwrap();
/// let stored = v.to_string();
/// assert!(stored.starts_with("SCRAM-SHA-256$4096:c2l4dGVlbiBieXRlIHNhbHQ=$"));
/// let parsed: ScramVerifier = stored.parse().unwrap();
/// assert_eq!(parsed, v);
/// assert!(parsed.verify_password(b"pencil"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ScramVerifier {
    /// PBKDF2 iteration count (positive).
    pub iterations: u32,
    /// The salt (non-empty; PostgreSQL uses 16 random bytes).
    pub salt: Vec<u8>,
    /// `H(HMAC(SaltedPassword, "Client Key"))`.
    pub stored_key: [u8; KEY_LEN],
    /// `HMAC(SaltedPassword, "Server Key")`.
    pub server_key: [u8; KEY_LEN],
}

impl fmt::Debug for ScramVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramVerifier")
            .field("iterations", &self.iterations)
            .field("salt", &format_args!("<{} bytes>", self.salt.len()))
            .finish_non_exhaustive()
    }
}

const PREFIX: &str = "SCRAM-SHA-256$";

impl ScramVerifier {
    /// PostgreSQL's default iteration count (`scram_iterations`).
    pub const DEFAULT_ITERATIONS: u32 = 4096;
    /// The salt length PostgreSQL uses.
    pub const DEFAULT_SALT_LEN: usize = 16;

    /// Derives the secret for a password, as `CREATE ROLE ... PASSWORD` does with
    /// `password_encryption = 'scram-sha-256'`: the password is SASLprep'd (raw bytes if
    /// that fails, [`saslprep_password`]). `salt` MUST be fresh random bytes
    /// ([`DEFAULT_SALT_LEN`](Self::DEFAULT_SALT_LEN) of them, as PostgreSQL).
    ///
    /// Fails with [`AuthError::InvalidIterationCount`] for zero iterations and
    /// [`AuthError::InvalidVerifier`] for an empty salt.
    pub fn generate(password: &[u8], salt: &[u8], iterations: u32) -> Result<Self, AuthError> {
        if iterations == 0 {
            return Err(AuthError::InvalidIterationCount);
        }
        if salt.is_empty() {
            return Err(AuthError::InvalidVerifier {
                reason: "empty salt",
            });
        }
        let salted = salted_password(&saslprep_password(password), salt, iterations);
        Ok(Self {
            iterations,
            salt: salt.into(),
            stored_key: sha256(&client_key(&salted)),
            server_key: server_key(&salted),
        })
    }

    /// Checks a cleartext password against the secret (PostgreSQL's
    /// `scram_verify_plain_password`), comparing keys in constant time.
    pub fn verify_password(&self, password: &[u8]) -> bool {
        let salted = salted_password(&saslprep_password(password), &self.salt, self.iterations);
        let stored_ok = ct_eq(&sha256(&client_key(&salted)), &self.stored_key);
        let server_ok = ct_eq(&server_key(&salted), &self.server_key);
        stored_ok & server_ok
    }

    /// A made-up secret for a user that does not exist (or has no SCRAM secret): the
    /// salt is derived from the user name and a server-wide secret, so that it is stable
    /// across attempts like a real one; the keys are zero, which no proof can match.
    pub(super) fn mock(username: &[u8], mock_secret: &[u8], iterations: u32) -> Self {
        let digest = hmac(mock_secret, &[b"pgproto SCRAM mock salt\0", username]);
        let salt = digest.get(..Self::DEFAULT_SALT_LEN).unwrap_or(&digest);
        Self {
            iterations,
            salt: salt.into(),
            stored_key: [0; KEY_LEN],
            server_key: [0; KEY_LEN],
        }
    }
}

impl FromStr for ScramVerifier {
    type Err = AuthError;

    /// Parses `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
    fn from_str(s: &str) -> Result<Self, AuthError> {
        let invalid = |reason| AuthError::InvalidVerifier { reason };
        let rest = s
            .strip_prefix(PREFIX)
            .ok_or(invalid("does not start with SCRAM-SHA-256$"))?;
        let (params, keys) = rest
            .split_once('$')
            .ok_or(invalid("missing '$' before the keys"))?;
        let (iterations, salt) = params
            .split_once(':')
            .ok_or(invalid("missing ':' after the iteration count"))?;
        let (stored_key, server_key) = keys
            .split_once(':')
            .ok_or(invalid("missing ':' between the keys"))?;
        let iterations = match positive_number(iterations.as_bytes()) {
            Ok(Some(n)) => n,
            _ => return Err(invalid("iteration count is not a positive 32-bit integer")),
        };
        let salt = STANDARD
            .decode(salt)
            .map_err(|_| invalid("salt is not valid base64"))?;
        if salt.is_empty() {
            return Err(invalid("empty salt"));
        }
        let key = |b64: &str, what| {
            STANDARD
                .decode(b64)
                .ok()
                .and_then(|k| <[u8; KEY_LEN]>::try_from(k.as_slice()).ok())
                .ok_or(invalid(what))
        };
        Ok(Self {
            iterations,
            salt,
            stored_key: key(stored_key, "StoredKey is not 32 bytes of base64")?,
            server_key: key(server_key, "ServerKey is not 32 bytes of base64")?,
        })
    }
}

impl fmt::Display for ScramVerifier {
    /// Formats as PostgreSQL stores it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PREFIX}{}:{}${}:{}",
            self.iterations,
            b64(&self.salt),
            b64(&self.stored_key),
            b64(&self.server_key)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    /// Computed with Python's hashlib/hmac for password "pencil", salt
    /// b"0123456789abcdef", 4096 iterations (see tests/auth_scram.rs for the script).
    const PENCIL: &str = "SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$nQpbZ77WudtqufPwikHXGRt6g2QJ4zns8bZLw273DRM=:jn2amWP1q1h+jgjy0YTO14S6/F02SV7taipOeB7ef20=";

    #[test]
    fn generate_matches_python() {
        let v = ScramVerifier::generate(b"pencil", b"0123456789abcdef", 4096).unwrap();
        assert_eq!(v.to_string(), PENCIL);
        assert_eq!(PENCIL.parse::<ScramVerifier>().unwrap(), v);
        assert!(v.verify_password(b"pencil"));
        assert!(!v.verify_password(b"pencil "));
    }

    #[test]
    fn generate_rejects() {
        assert_eq!(
            ScramVerifier::generate(b"p", b"s", 0),
            Err(AuthError::InvalidIterationCount)
        );
        assert!(ScramVerifier::generate(b"p", b"", 1).is_err());
    }

    #[test]
    fn saslprep_applies() {
        // U+00AA FEMININE ORDINAL INDICATOR normalises (NFKC) to "a".
        let a = ScramVerifier::generate("\u{aa}".as_bytes(), b"salt", 2).unwrap();
        let b = ScramVerifier::generate(b"a", b"salt", 2).unwrap();
        assert_eq!(a, b);
        assert!(a.verify_password("\u{aa}".as_bytes()));
        // Not UTF-8: raw bytes.
        let c = ScramVerifier::generate(b"\xaa", b"salt", 2).unwrap();
        assert_ne!(c, b);
    }

    #[test]
    fn parse_rejects() {
        let bad = [
            "",
            "SCRAM-SHA-256",
            "SCRAM-SHA-1$4096:MDEy$a:b",
            "SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==",
            "SCRAM-SHA-256$4096MDEyMzQ1Njc4OWFiY2RlZg==$a:b",
            "SCRAM-SHA-256$0:MDEyMzQ1Njc4OWFiY2RlZg==$nQpbZ77WudtqufPwikHXGRt6g2QJ4zns8bZLw273DRM=:jn2amWP1q1h+jgjy0YTO14S6/F02SV7taipOeB7ef20=",
            "SCRAM-SHA-256$-1:MDEyMzQ1Njc4OWFiY2RlZg==$nQpbZ77WudtqufPwikHXGRt6g2QJ4zns8bZLw273DRM=:jn2amWP1q1h+jgjy0YTO14S6/F02SV7taipOeB7ef20=",
            "SCRAM-SHA-256$4294967296:MDEyMzQ1Njc4OWFiY2RlZg==$nQpbZ77WudtqufPwikHXGRt6g2QJ4zns8bZLw273DRM=:jn2amWP1q1h+jgjy0YTO14S6/F02SV7taipOeB7ef20=",
            "SCRAM-SHA-256$4096:$nQpbZ77WudtqufPwikHXGRt6g2QJ4zns8bZLw273DRM=:jn2amWP1q1h+jgjy0YTO14S6/F02SV7taipOeB7ef20=",
            "SCRAM-SHA-256$4096:MDEy!$nQpbZ77WudtqufPwikHXGRt6g2QJ4zns8bZLw273DRM=:jn2amWP1q1h+jgjy0YTO14S6/F02SV7taipOeB7ef20=",
            "SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$nQpbZ77WudtqufPwikHXGRt6g2QJ4zns8bZLw273DR==:jn2amWP1q1h+jgjy0YTO14S6/F02SV7taipOeB7ef20=",
            "SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$nQpbZ77WudtqufPwikHXGRt6g2QJ4zns8bZLw273DRM=:jn2amWP1q1h+jgjy0YTO14S6/F02SV7taipOeB7ef20",
            "SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$nQpbZ77WudtqufPwikHXGRt6g2QJ4zns8bZLw273DRM=:jn2amWP1q1h+jgjy0YTO14S6/F02SV7taipOeB7ef20=:",
            "SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$nQpbZ77WudtqufPwikHXGRt6g2QJ4zns8bZLw273DRM=:jn2amWP1q1h+jgjy0YTO14S6/F02SV7taipOeB7ef20=$",
            "md532e12f215ba27cb750c9e093ce4b5127",
        ];
        for s in bad {
            assert!(
                matches!(
                    s.parse::<ScramVerifier>(),
                    Err(AuthError::InvalidVerifier { .. })
                ),
                "{s}"
            );
        }
    }

    #[test]
    fn mock_is_deterministic_and_unusable() {
        let a = ScramVerifier::mock(b"alice", b"server secret", 4096);
        assert_eq!(a, ScramVerifier::mock(b"alice", b"server secret", 4096));
        assert_ne!(
            a.salt,
            ScramVerifier::mock(b"bob", b"server secret", 4096).salt
        );
        assert_ne!(
            a.salt,
            ScramVerifier::mock(b"alice", b"other secret", 4096).salt
        );
        assert_eq!(a.salt.len(), 16);
        assert_eq!(a.stored_key, [0; 32]);
    }

    #[test]
    fn debug_hides_keys() {
        let v: ScramVerifier = PENCIL.parse().unwrap();
        let s = alloc::format!("{v:?}");
        assert_eq!(
            s,
            "ScramVerifier { iterations: 4096, salt: <16 bytes>, .. }"
        );
        let _ = v.to_string();
    }
}
