//! Password checking for servers: a small user table and the method to ask with, shared
//! by every adapter and example.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};

use crate::auth::md5;
use crate::auth::scram::{ScramCredential, ScramVerifier};
use crate::error::Error;

use super::Server;

/// How a server asks clients to prove who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthKind {
    /// No password.
    Trust,
    /// Cleartext password (use only over TLS).
    Password,
    /// MD5 challenge.
    Md5,
    /// SCRAM-SHA-256 (and SCRAM-SHA-256-PLUS over TLS).
    ScramSha256,
}

impl core::str::FromStr for AuthKind {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "trust" => Self::Trust,
            "password" => Self::Password,
            "md5" => Self::Md5,
            "scram-sha-256" => Self::ScramSha256,
            _ => return Err("expected trust, password, md5 or scram-sha-256"),
        })
    }
}

#[derive(Debug, Clone)]
struct Secrets {
    password: String,
    md5: String,
    scram: ScramVerifier,
}

/// Users and their passwords, and the method to ask with.
///
/// Secrets are derived once when a user is added (the MD5 hash and the SCRAM verifier,
/// as PostgreSQL stores them). An unknown user fails exactly like a wrong password.
///
/// ```
/// use pgproto_core::server::{AuthKind, ServerAuth};
/// let mut auth = ServerAuth::new(AuthKind::ScramSha256, b"per-server random secret");
/// auth.add_user("alice", "secret", b"0123456789abcdef").unwrap();
/// assert!(auth.check_password("alice", b"secret"));
/// assert!(!auth.check_password("bob", b"secret"));
/// ```
#[derive(Debug, Clone)]
pub struct ServerAuth {
    kind: AuthKind,
    users: BTreeMap<String, Secrets>,
    mock_secret: alloc::vec::Vec<u8>,
}

impl ServerAuth {
    /// A policy for `kind`. `mock_secret` is random bytes kept for the server's lifetime
    /// (it makes unknown users' fake SCRAM salts stable).
    pub fn new(kind: AuthKind, mock_secret: &[u8]) -> Self {
        Self {
            kind,
            users: BTreeMap::new(),
            mock_secret: mock_secret.to_vec(),
        }
    }

    /// The method in use.
    pub fn kind(&self) -> AuthKind {
        self.kind
    }

    /// Adds a user; `salt` (random, 16 bytes is usual) is used for the SCRAM verifier.
    pub fn add_user(&mut self, user: &str, password: &str, salt: &[u8]) -> Result<(), Error> {
        let scram =
            ScramVerifier::generate(password.as_bytes(), salt, ScramVerifier::DEFAULT_ITERATIONS)?;
        self.users.insert(
            user.to_string(),
            Secrets {
                password: password.to_string(),
                md5: md5::encrypt_password(user.as_bytes(), password.as_bytes()),
                scram,
            },
        );
        Ok(())
    }

    /// Whether `password` is `user`'s.
    pub fn check_password(&self, user: &str, password: &[u8]) -> bool {
        self.users
            .get(user)
            .is_some_and(|s| crate::auth::ct_eq(s.password.as_bytes(), password))
    }

    /// Answers a [`ServerEvent::Startup`](super::ServerEvent::Startup): lets the client in
    /// (trust) or asks for the password. `random` must be at least 22 fresh random bytes
    /// (an MD5 salt and a SCRAM nonce).
    pub fn begin(&self, server: &mut Server, random: &[u8]) -> Result<(), Error> {
        let user = server.user().to_string();
        match self.kind {
            AuthKind::Trust => server.authenticate_trust(),
            AuthKind::Password => server.request_password(),
            AuthKind::Md5 => {
                let mut salt = [0; 4];
                for (s, r) in salt.iter_mut().zip(random) {
                    *s = *r;
                }
                let stored = self.users.get(&user).map(|s| s.md5.as_str());
                server.request_md5_password(stored, salt)
            }
            AuthKind::ScramSha256 => {
                let nonce = random.get(4..).unwrap_or(random);
                let credential = match self.users.get(&user) {
                    Some(s) => ScramCredential::Verifier(s.scram.clone()),
                    None => ScramCredential::Unknown {
                        username: user.as_bytes(),
                        mock_secret: &self.mock_secret,
                        iterations: ScramVerifier::DEFAULT_ITERATIONS,
                    },
                };
                server.request_scram(credential, nonce)
            }
        }
    }

    /// Answers a [`ServerEvent::Password`](super::ServerEvent::Password).
    pub fn finish_password(&self, server: &mut Server, password: &[u8]) -> Result<(), Error> {
        if self.check_password(server.user(), password) {
            server.authentication_ok()
        } else {
            server.authentication_failed()
        }
    }
}
