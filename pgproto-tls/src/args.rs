//! The command line of a server program: where to listen, whom to let in, TLS files.

use pgproto_core::server::{AuthKind, ServerAuth};

/// The options every server program built on this crate takes (the example servers,
/// `pgproto-sqlite`, `pgproto-proxy`): `--listen ADDR`,
/// `--auth trust|password|md5|scram-sha-256`, `--user U`, `--password P`,
/// `--tls-cert PEM`, `--tls-key PEM`. A program with options of its own parses them with
/// [`parse_with`](Self::parse_with).
///
/// ```
/// use pgproto_core::server::AuthKind;
/// use pgproto_tls::ServerArgs;
/// let args = ServerArgs::parse(["--auth", "md5"].map(String::from)).unwrap();
/// assert_eq!(args.listen, "127.0.0.1:5433");
/// assert_eq!(args.auth, AuthKind::Md5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerArgs {
    /// Address to listen on (default `127.0.0.1:5433`).
    pub listen: String,
    /// Authentication method (default `trust`).
    pub auth: AuthKind,
    /// The user clients log in as (default `postgres`).
    pub user: String,
    /// That user's password (default `postgres`).
    pub password: String,
    /// TLS certificate chain (PEM file).
    pub tls_cert: Option<String>,
    /// TLS private key (PEM file).
    pub tls_key: Option<String>,
}

impl Default for ServerArgs {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:5433".to_string(),
            auth: AuthKind::Trust,
            user: "postgres".to_string(),
            password: "postgres".to_string(),
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl ServerArgs {
    /// The options [`parse`](Self::parse) knows, for a usage message.
    pub const USAGE: &'static str = "--listen ADDR --auth trust|password|md5|scram-sha-256 \
--user U --password P --tls-cert PEM --tls-key PEM";

    /// Parses `args` (without the program name) over the defaults; `--help` returns the
    /// usage as the error.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        Self::default().parse_with(args, |flag, _| {
            Err(unknown_option(flag, &format!("options: {}", Self::USAGE)))
        })
    }

    /// Parses `args` (without the program name) over `self`, the defaults. A flag this
    /// type does not know goes to `other` with a function that takes its value; `other`
    /// returns an error for a flag it does not know either (see [`unknown_option`]).
    pub fn parse_with(
        mut self,
        args: impl IntoIterator<Item = String>,
        mut other: impl FnMut(&str, &mut dyn FnMut() -> Result<String, String>) -> Result<(), String>,
    ) -> Result<Self, String> {
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or(format!("{flag} needs a value"));
            match flag.as_str() {
                "--listen" => self.listen = value()?,
                "--auth" => self.auth = value()?.parse().map_err(ToString::to_string)?,
                "--user" => self.user = value()?,
                "--password" => self.password = value()?,
                "--tls-cert" => self.tls_cert = Some(value()?),
                "--tls-key" => self.tls_key = Some(value()?),
                _ => other(&flag, &mut value)?,
            }
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err("--tls-cert and --tls-key go together".to_string());
        }
        Ok(self)
    }

    /// The certificate chain and key of `--tls-cert` and `--tls-key`, read from their
    /// files; `None` without TLS.
    pub fn tls_pem(&self) -> std::io::Result<Option<(Vec<u8>, Vec<u8>)>> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some((std::fs::read(cert)?, std::fs::read(key)?))),
            _ => Ok(None),
        }
    }

    /// The server settings these options describe: [`ServerArgs::server_auth`], and TLS
    /// from the `--tls-cert` / `--tls-key` files when given.
    pub fn server_options(
        &self,
        random: &[u8; 32],
    ) -> Result<crate::ServerOptions, pgproto_core::adapter::Error> {
        let options = crate::ServerOptions::new(self.server_auth(random)?);
        Ok(match self.tls_pem()? {
            Some((cert, key)) => options.with_tls(crate::ServerTls::from_pem(&cert, &key)?),
            None => options,
        })
    }

    /// The authentication policy these options describe; `random` seeds the SCRAM salt
    /// and the unknown-user secret.
    pub fn server_auth(&self, random: &[u8; 32]) -> Result<ServerAuth, pgproto_core::Error> {
        let (mock, salt) = random.split_at(16);
        let mut auth = ServerAuth::new(self.auth, mock);
        auth.add_user(&self.user, &self.password, salt)?;
        Ok(auth)
    }
}

/// The error for a flag no parser knows: `usage` for `-h` and `--help`, else
/// `unknown option FLAG` followed by `usage`.
pub fn unknown_option(flag: &str, usage: &str) -> String {
    match flag {
        "-h" | "--help" => usage.to_string(),
        _ => format!("unknown option {flag}\n{usage}"),
    }
}
