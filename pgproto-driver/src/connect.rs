//! Connecting, the parts without I/O that every client shares (async and blocking): the
//! conninfo completed by the environment and the password file, one [`Target`] per
//! host with its TLS configuration, the startup loop's next step, the CancelRequest.

use std::sync::Arc;

use bytes::BytesMut;
use pgproto_core::cancel::CancelToken;
use pgproto_core::client::{Client as Core, Config};
use pgproto_tls::rustls;

use crate::Error;
use pgproto_core::adapter::{conninfo_from_env, passfile_path};

/// The TLS configuration and the name to verify, when TLS is requested.
pub type Tls = (
    Arc<rustls::ClientConfig>,
    rustls::pki_types::ServerName<'static>,
);

/// Where a client connects, and how: one host of the connection string.
#[derive(Debug, Clone)]
pub struct Target {
    /// Host name, address, or (starting with `/`) the directory of a Unix socket.
    pub host: String,
    /// Port (for a Unix socket: the number in its file name).
    pub port: u16,
    /// The core's settings for this host (TLS off over Unix sockets, as libpq).
    pub config: Config,
    /// The TLS configuration, when `sslmode` asks for TLS.
    pub tls: Option<Tls>,
}

impl Target {
    /// The Unix socket's path when [`Target::host`] is a directory.
    pub fn unix_path(&self) -> Option<String> {
        unix_path(&self.host, self.port)
    }

    /// A fresh core for this host (a new SCRAM nonce).
    pub fn core(&self) -> Result<Core, Error> {
        let mut nonce = [0u8; 24];
        getrandom::getrandom(&mut nonce).map_err(|e| Error::Io(e.into()))?;
        Ok(Core::new(self.config.clone(), &nonce))
    }
}

pub use pgproto_core::client::unix_socket_path as unix_path;

/// Parses a libpq-style URL or `key=value` string, completes it from the `PG*`
/// environment variables and the password file, and returns the hosts to try, in order
/// (the core's plan, [`ConnInfo::targets`], with each TCP host's TLS configuration).
///
/// [`ConnInfo::targets`]: pgproto_core::client::ConnInfo::targets
pub fn targets(conninfo: &str) -> Result<Vec<Target>, Error> {
    let info = conninfo_from_env(conninfo)?;
    let passfile = passfile_path(&info).and_then(|path| std::fs::read_to_string(path).ok());
    let tls = pgproto_tls::client_config_for(&info)?;
    let mut targets = Vec::with_capacity(info.hosts.len());
    for plan in info.targets(passfile.as_deref()) {
        let tls = match (&tls, plan.unix_path()) {
            (Some(config), None) => Some((config.clone(), pgproto_tls::server_name(&plan.host)?)),
            _ => None,
        };
        targets.push(Target {
            host: plan.host,
            port: plan.port,
            config: plan.config,
            tls,
        });
    }
    Ok(targets)
}

/// The error when no host could be tried.
pub fn no_host() -> Error {
    Error::NoHost
}

/// The channel-binding data of a TLS connection whose peer sent `certificates`.
pub fn channel_binding(
    certificates: Option<&[rustls::pki_types::CertificateDer<'static>]>,
) -> Option<Vec<u8>> {
    pgproto_tls::channel_binding(certificates.and_then(|c| c.first()))
}

/// The TLS configuration of `tls`, or the error for a server that offers TLS nobody
/// configured.
pub fn tls_config(tls: Option<&Tls>) -> Result<&Tls, Error> {
    tls.ok_or(Error::TlsNotConfigured)
}

/// The CancelRequest packet for `token`.
pub fn cancel_packet(token: &CancelToken) -> Result<BytesMut, Error> {
    let mut packet = BytesMut::new();
    token
        .encode(&mut packet)
        .map_err(pgproto_core::Error::from)?;
    Ok(packet)
}

/// Where a connection went and the key that cancels its running query: enough to send a
/// CancelRequest from anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canceller {
    /// The connection's cancel key.
    pub token: CancelToken,
    /// The host it connected to (a directory: a Unix socket).
    pub host: String,
    /// Its port.
    pub port: u16,
}

impl Canceller {
    /// The canceller of a connection to `host:port`, when the server sent a cancel key.
    pub fn for_connection(
        token: Option<&CancelToken>,
        host: &str,
        port: u16,
    ) -> Result<Self, Error> {
        Ok(Self {
            token: token.cloned().ok_or(Error::NoCancelKey)?,
            host: host.to_string(),
            port,
        })
    }
}
