//! What a client connection asks for: user, database, parameters, password, TLS and
//! authentication policy.

use alloc::string::String;
use alloc::vec::Vec;
use core::str::FromStr;

use crate::auth::scram::ChannelBindingPolicy;
use crate::message::ProtocolVersion;
use crate::wire::Limits;

/// When to use TLS, as libpq's `sslmode`. Certificate verification (`VerifyCa`,
/// `VerifyFull`) is the adapter's job; the core only decides whether TLS is negotiated
/// and whether a refusal is fatal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SslMode {
    /// Never use TLS.
    Disable,
    /// Like `Disable` in the core (libpq tries plain first, then TLS; an adapter may
    /// retry with `Prefer`).
    Allow,
    /// Ask for TLS; continue in plain text if the server declines.
    #[default]
    Prefer,
    /// Require TLS, without verifying the certificate.
    Require,
    /// Require TLS and a certificate signed by a trusted CA.
    VerifyCa,
    /// Require TLS, a trusted certificate, and a matching host name.
    VerifyFull,
}

impl SslMode {
    /// Whether a server's refusal of TLS ends the connection.
    pub fn requires_tls(self) -> bool {
        matches!(self, Self::Require | Self::VerifyCa | Self::VerifyFull)
    }

    /// Whether the client asks for TLS at all.
    pub fn requests_tls(self) -> bool {
        !matches!(self, Self::Disable | Self::Allow)
    }
}

impl FromStr for SslMode {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "disable" => Self::Disable,
            "allow" => Self::Allow,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            _ => return Err("invalid sslmode"),
        })
    }
}

/// How TLS starts, as libpq's `sslnegotiation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SslNegotiation {
    /// Send SSLRequest and wait for the server's `S` (the classic way).
    #[default]
    Postgres,
    /// Start the TLS handshake at once (PostgreSQL 17+, ALPN `postgresql`). The adapter
    /// performs the handshake before the core sends anything.
    Direct,
}

impl FromStr for SslNegotiation {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "postgres" => Ok(Self::Postgres),
            "direct" => Ok(Self::Direct),
            _ => Err("invalid sslnegotiation"),
        }
    }
}

/// An authentication method a server may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// No authentication (trust).
    None,
    /// Cleartext password.
    Password,
    /// MD5-hashed password.
    Md5,
    /// GSSAPI.
    Gss,
    /// SSPI.
    Sspi,
    /// SCRAM-SHA-256 (with or without channel binding).
    ScramSha256,
}

impl AuthMethod {
    /// The name `require_auth` uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Password => "password",
            Self::Md5 => "md5",
            Self::Gss => "gss",
            Self::Sspi => "sspi",
            Self::ScramSha256 => "scram-sha-256",
        }
    }
}

impl FromStr for AuthMethod {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "none" => Self::None,
            "password" => Self::Password,
            "md5" => Self::Md5,
            "gss" => Self::Gss,
            "sspi" => Self::Sspi,
            "scram-sha-256" => Self::ScramSha256,
            _ => return Err("invalid require_auth method"),
        })
    }
}

/// libpq's `require_auth`: the methods the client accepts (`scram-sha-256,md5`), or the
/// ones it refuses (`!password,!md5`).
///
/// ```
/// use pgproto_core::client::{AuthMethod, RequireAuth};
/// let only_scram: RequireAuth = "scram-sha-256".parse().unwrap();
/// assert!(only_scram.allows(AuthMethod::ScramSha256));
/// assert!(!only_scram.allows(AuthMethod::Password));
/// let no_cleartext: RequireAuth = "!password".parse().unwrap();
/// assert!(no_cleartext.allows(AuthMethod::Md5));
/// assert!(!no_cleartext.allows(AuthMethod::Password));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequireAuth {
    methods: Vec<AuthMethod>,
    negated: bool,
}

impl RequireAuth {
    /// Accept only these methods.
    pub fn only(methods: &[AuthMethod]) -> Self {
        Self {
            methods: methods.to_vec(),
            negated: false,
        }
    }

    /// Accept every method but these.
    pub fn except(methods: &[AuthMethod]) -> Self {
        Self {
            methods: methods.to_vec(),
            negated: true,
        }
    }

    /// Whether `method` is acceptable.
    pub fn allows(&self, method: AuthMethod) -> bool {
        self.methods.contains(&method) != self.negated
    }
}

impl FromStr for RequireAuth {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut methods = Vec::new();
        let mut negated = None;
        for item in s.split(',').map(str::trim) {
            let (neg, name) = match item.strip_prefix('!') {
                Some(name) => (true, name),
                None => (false, item),
            };
            if *negated.get_or_insert(neg) != neg {
                return Err("require_auth cannot mix negated and non-negated methods");
            }
            let method: AuthMethod = name.parse()?;
            if methods.contains(&method) {
                return Err("require_auth lists a method twice");
            }
            methods.push(method);
        }
        Ok(Self {
            methods,
            negated: negated.unwrap_or(false),
        })
    }
}

/// A client connection's configuration.
///
/// ```
/// use pgproto_core::client::{Config, SslMode};
/// let mut config = Config::new("alice");
/// config.database = Some("shop".into());
/// config.password = Some(b"secret".to_vec());
/// config.ssl_mode = SslMode::Disable;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The user to connect as (required).
    pub user: String,
    /// Database; the server defaults to the user name.
    pub database: Option<String>,
    /// `application_name`.
    pub application_name: Option<String>,
    /// Command-line options for the backend (`-c search_path=x`).
    pub options: Option<String>,
    /// `replication` (`true`, `false`, `database`).
    pub replication: Option<String>,
    /// Other run-time parameters to send in the StartupMessage.
    pub parameters: Vec<(String, String)>,
    /// Password for cleartext, MD5 or SCRAM authentication.
    pub password: Option<Vec<u8>>,
    /// TLS policy.
    pub ssl_mode: SslMode,
    /// How TLS starts.
    pub ssl_negotiation: SslNegotiation,
    /// Channel binding policy.
    pub channel_binding: ChannelBindingPolicy,
    /// Accepted authentication methods (`None`: any).
    pub require_auth: Option<RequireAuth>,
    /// Protocol version to request (default 3.2; the server may negotiate it down).
    pub max_protocol_version: ProtocolVersion,
    /// Oldest version to accept when the server negotiates (default 3.0).
    pub min_protocol_version: ProtocolVersion,
    /// Framing limits for what the server sends.
    pub limits: Limits,
    /// How long connecting may take, from the first
    /// [`Client::handle_timeout`](crate::client::Client::handle_timeout) (call it before
    /// opening the socket) until the connection is ready: libpq's `connect_timeout`.
    /// `None`: no limit.
    pub connect_timeout: Option<core::time::Duration>,
}

impl Config {
    /// A configuration for `user` with the defaults above.
    pub fn new(user: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            database: None,
            application_name: None,
            options: None,
            replication: None,
            parameters: Vec::new(),
            password: None,
            ssl_mode: SslMode::default(),
            ssl_negotiation: SslNegotiation::default(),
            channel_binding: ChannelBindingPolicy::default(),
            require_auth: None,
            max_protocol_version: ProtocolVersion::V3_2,
            min_protocol_version: ProtocolVersion::V3_0,
            limits: Limits::default(),
            connect_timeout: None,
        }
    }

    /// The StartupMessage parameters, in the order they are sent.
    pub fn startup_parameters(&self) -> Vec<(&str, &str)> {
        let mut p: Vec<(&str, &str)> = Vec::with_capacity(4 + self.parameters.len());
        p.push(("user", &self.user));
        let named = [
            ("database", &self.database),
            ("application_name", &self.application_name),
            ("options", &self.options),
            ("replication", &self.replication),
        ];
        for (name, value) in named {
            if let Some(v) = value {
                p.push((name, v));
            }
        }
        p.extend(
            self.parameters
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str())),
        );
        p
    }
}
