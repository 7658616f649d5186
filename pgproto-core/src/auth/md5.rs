//! PostgreSQL's MD5 password authentication (AuthenticationMD5Password).
//!
//! The stored form (`pg_authid.rolpassword`) is `"md5" + hex(md5(password || user))`; the
//! client answers a 4-byte salt with `"md5" + hex(md5(hex(md5(password || user)) || salt))`.
//! Knowing the stored form is enough to log in, and MD5 is broken: PostgreSQL deprecates
//! the method. Prefer [`super::scram`].
//!
//! ```
//! use pgproto_core::auth::md5;
//! let salt = [0x01, 0x02, 0x03, 0x04];
//! // Client side: answer the server's AuthenticationMD5Password.
//! let response = md5::client_response(b"alice", b"secret", salt);
//! // Server side: check it against the stored hash.
//! let stored = md5::encrypt_password(b"alice", b"secret");
//! assert!(md5::verify(&stored, b"alice", salt, response.as_bytes()));
//! ```

use ::md5::{Digest, Md5};
use alloc::string::String;

use super::{ct_eq, PasswordType};

extern crate alloc;

/// Length of an encrypted password: `"md5"` and 32 hexadecimal digits.
pub const ENCRYPTED_LEN: usize = 35;

fn md5_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Md5::new();
    for part in parts {
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut out = String::with_capacity(ENCRYPTED_LEN);
    out.push_str("md5");
    for byte in digest {
        out.push(hex_digit(byte >> 4));
        out.push(hex_digit(byte & 0x0f));
    }
    out
}

fn hex_digit(nibble: u8) -> char {
    char::from(
        b"0123456789abcdef"
            .get(usize::from(nibble))
            .copied()
            .unwrap_or(b'0'),
    )
}

/// Whether `stored` is an MD5-encrypted password: `"md5"` followed by exactly 32
/// lowercase hexadecimal digits (PostgreSQL's test).
pub fn is_encrypted(stored: &str) -> bool {
    stored.len() == ENCRYPTED_LEN
        && stored.strip_prefix("md5").is_some_and(|hex| {
            hex.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// The stored form of a password: `"md5" + hex(md5(password || user))`.
///
/// ```
/// use pgproto_core::auth::md5;
/// assert_eq!(
///     md5::encrypt_password(b"postgres", b"password"),
///     "md532e12f215ba27cb750c9e093ce4b5127"
/// );
/// ```
pub fn encrypt_password(user: &[u8], password: &[u8]) -> String {
    md5_hex(&[password, user])
}

/// The client's answer to AuthenticationMD5Password:
/// `"md5" + hex(md5(hex(md5(password || user)) || salt))`. Send it in a PasswordMessage.
pub fn client_response(user: &[u8], password: &[u8], salt: [u8; 4]) -> String {
    let encrypted = encrypt_password(user, password);
    salted_response(&encrypted, salt)
}

/// The answer to AuthenticationMD5Password computed from the stored form instead of the
/// password (what a connection pooler that only knows `pg_authid` does). `None` if
/// `encrypted` is not an MD5-encrypted password.
///
/// ```
/// use pgproto_core::auth::md5;
/// let stored = md5::encrypt_password(b"alice", b"secret");
/// assert_eq!(
///     md5::response_from_encrypted(&stored, *b"salt"),
///     Some(md5::client_response(b"alice", b"secret", *b"salt"))
/// );
/// ```
pub fn response_from_encrypted(encrypted: &str, salt: [u8; 4]) -> Option<String> {
    is_encrypted(encrypted).then(|| salted_response(encrypted, salt))
}

fn salted_response(encrypted: &str, salt: [u8; 4]) -> String {
    let hex = encrypted.get(3..).unwrap_or_default();
    md5_hex(&[hex.as_bytes(), &salt])
}

/// Server side: checks a client's MD5 `response` (the PasswordMessage's password, without
/// the NUL) for `user` and `salt` against the stored password, in constant time.
///
/// `stored` may be an MD5-encrypted password or a plaintext one (as PostgreSQL accepts);
/// a SCRAM secret cannot verify an MD5 response and always gives `false`, as in
/// PostgreSQL (which switches such users to SCRAM instead).
pub fn verify(stored: &str, user: &[u8], salt: [u8; 4], response: &[u8]) -> bool {
    let expected = match PasswordType::of(stored) {
        PasswordType::Md5 => salted_response(stored, salt),
        PasswordType::Plaintext => client_response(user, stored.as_bytes(), salt),
        PasswordType::ScramSha256 => return false,
    };
    ct_eq(expected.as_bytes(), response)
}

#[cfg(test)]
mod tests {
    use super::super::scram;
    use super::*;

    // Cross-checked with Python:
    // "md5" + hashlib.md5(b"passwordpostgres").hexdigest()
    // "md5" + hashlib.md5(hashlib.md5(b"passwordpostgres").hexdigest().encode()
    //                     + bytes([1, 2, 3, 4])).hexdigest()
    const STORED: &str = "md532e12f215ba27cb750c9e093ce4b5127";

    #[test]
    fn known_values() {
        assert_eq!(encrypt_password(b"postgres", b"password"), STORED);
        assert_eq!(
            client_response(b"postgres", b"password", [1, 2, 3, 4]),
            RESPONSE_1234
        );
    }

    const RESPONSE_1234: &str = "md598511ceaec347a656f032c7f2a16ef17";

    #[test]
    fn verify_md5_and_plaintext() {
        let salt = [1, 2, 3, 4];
        assert!(verify(STORED, b"postgres", salt, RESPONSE_1234.as_bytes()));
        assert!(verify(
            "password",
            b"postgres",
            salt,
            RESPONSE_1234.as_bytes()
        ));
        assert!(!verify(
            STORED,
            b"postgres",
            [1, 2, 3, 5],
            RESPONSE_1234.as_bytes()
        ));
        assert!(!verify(STORED, b"postgres", salt, b"md5"));
        assert!(!verify(STORED, b"postgres", salt, b""));
        let scram = scram::ScramVerifier::generate(b"password", b"salt", 1).unwrap();
        assert!(!verify(
            &scram.to_string(),
            b"postgres",
            salt,
            RESPONSE_1234.as_bytes()
        ));
    }

    #[test]
    fn from_encrypted() {
        assert_eq!(
            response_from_encrypted(STORED, [1, 2, 3, 4]).as_deref(),
            Some(RESPONSE_1234)
        );
        assert_eq!(response_from_encrypted("password", [1, 2, 3, 4]), None);
    }

    #[test]
    fn is_encrypted_is_strict() {
        assert!(is_encrypted(STORED));
        assert!(!is_encrypted(&STORED.to_uppercase()));
        assert!(!is_encrypted(&STORED[..34]));
        assert!(!is_encrypted("md5zz2e12f215ba27cb750c9e093ce4b5127"));
        assert!(!is_encrypted("md5é2e12f215ba27cb750c9e093ce4b512"));
    }
}
