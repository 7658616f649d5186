//! The upstream side: connect to PostgreSQL with the proxy's own credentials, through
//! the core's client state machine (TLS, authentication, parameters), then hand over the
//! raw socket.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use pgproto_core::cancel::CancelToken;
use pgproto_core::client::{Client, ConnInfo, ConnectTarget, Phase, StartupStep};
use pgproto_core::db_error::{DbError, Severity};
use pgproto_core::server::StartupRequest;
use pgproto_core::sqlstate::SqlState;
use pgproto_tokio::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use super::BoxStream;

/// Where and how to connect upstream, resolved once when the proxy starts.
#[derive(Clone)]
pub(crate) struct Target {
    info: ConnInfo,
    /// Whether the URL named a database (else each client's database is used).
    database_given: bool,
    tls: Option<Arc<pgproto_tls::rustls::ClientConfig>>,
    /// The password file's contents, read once.
    passfile: Option<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("hosts", &self.info.hosts)
            .field("user", &self.info.config.user)
            .finish_non_exhaustive()
    }
}

/// Where a session's upstream connection went (for its cancel requests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Address {
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// An upstream connection past startup.
pub(crate) struct Upstream {
    pub(crate) stream: BoxStream,
    pub(crate) address: Address,
    /// The server's ParameterStatus values from startup.
    pub(crate) parameters: Vec<(String, String)>,
    pub(crate) cancel_token: Option<CancelToken>,
    /// Bytes received after ReadyForQuery (none in practice): they go to the client.
    pub(crate) buffered: Bytes,
}

impl Target {
    /// Parses the upstream connection string (libpq URL or `key=value`, completed from
    /// the `PG*` environment and the password file as libpq would) and loads its TLS
    /// configuration.
    pub(crate) fn new(conninfo: &str) -> Result<Self, Error> {
        let database_given = ConnInfo::parse(conninfo)?.config.database.is_some();
        let info = pgproto_core::adapter::conninfo_from_env(conninfo)?;
        let tls = pgproto_tls::client_config_for(&info)?;
        let passfile = pgproto_core::adapter::passfile_path(&info)
            .and_then(|path| std::fs::read_to_string(path).ok());
        Ok(Self {
            info,
            database_given,
            tls,
            passfile,
        })
    }

    /// Connects for a client that sent `startup`: the client's run-time parameters
    /// (application_name, client_encoding, DateStyle, options...) go upstream; the user
    /// and password are the proxy's; the database is the URL's, or else the client's.
    pub(crate) async fn connect(&self, startup: &StartupRequest) -> Result<Upstream, Error> {
        let mut last = None;
        // The core's plan: hosts in order, each with its password and TLS settings.
        for target in self.info.targets(self.passfile.as_deref()) {
            let timeout = target
                .config
                .connect_timeout
                .unwrap_or(Duration::from_secs(30));
            let attempt = tokio::time::timeout(timeout, self.connect_host(target, startup))
                .await
                .unwrap_or_else(|_| Err(Error::Io(std::io::ErrorKind::TimedOut.into())));
            match attempt {
                Ok(up) => return Ok(up),
                // The server answered: another host would not help.
                Err(e @ Error::Protocol(pgproto_core::Error::Server(_))) => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(Error::NoHost))
    }

    async fn connect_host(
        &self,
        target: ConnectTarget,
        startup: &StartupRequest,
    ) -> Result<Upstream, Error> {
        let (host, port) = (target.host.as_str(), target.port);
        let unix_path = target.unix_path();
        let mut config = target.config;
        if !self.database_given {
            config.database = Some(startup.database.clone());
        }
        for (name, value) in &startup.parameters {
            match name.as_str() {
                "user" | "database" => {}
                "application_name" => config.application_name = Some(value.clone()),
                "options" => config.options = Some(value.clone()),
                "replication" => config.replication = Some(value.clone()),
                _ => {
                    config.parameters.retain(|(n, _)| n != name);
                    config.parameters.push((name.clone(), value.clone()));
                }
            }
        }
        let tls = match (&self.tls, &unix_path) {
            (Some(c), None) => Some((c.clone(), pgproto_tls::server_name(host)?)),
            _ => None,
        };
        let mut stream: BoxStream = if let Some(path) = &unix_path {
            Box::new(UnixStream::connect(path).await?)
        } else {
            let s = TcpStream::connect((host, port)).await?;
            s.set_nodelay(true)?;
            Box::new(s)
        };
        let mut nonce = [0u8; 24];
        getrandom::getrandom(&mut nonce).map_err(|e| Error::Io(e.into()))?;
        let mut core = Client::new(config, &nonce);
        if core.phase() == Phase::TlsHandshake {
            // sslnegotiation=direct
            stream = upgrade(stream, &mut core, tls.as_ref()).await?;
        }
        let mut buf = BytesMut::with_capacity(8192);
        loop {
            while let Some(bytes) = core.poll_transmit() {
                stream.write_all(&bytes).await?;
            }
            match core.poll_startup()? {
                StartupStep::Ready => break,
                StartupStep::StartTls => stream = upgrade(stream, &mut core, tls.as_ref()).await?,
                StartupStep::Io => {
                    // Answers the core produced while looking for an event.
                    while let Some(bytes) = core.poll_transmit() {
                        stream.write_all(&bytes).await?;
                    }
                    stream.flush().await?;
                    buf.clear();
                    if stream.read_buf(&mut buf).await? == 0 {
                        core.handle_eof();
                    } else {
                        core.handle_input(&buf);
                    }
                }
            }
        }
        let buffered = core.input_buffer().split().freeze();
        Ok(Upstream {
            stream,
            address: Address {
                host: host.to_string(),
                port,
            },
            parameters: core
                .server_parameters()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            cancel_token: core.cancel_token().cloned(),
            buffered,
        })
    }
}

type Tls = (
    Arc<pgproto_tls::rustls::ClientConfig>,
    pgproto_tls::rustls::pki_types::ServerName<'static>,
);

async fn upgrade(
    stream: BoxStream,
    core: &mut Client,
    tls: Option<&Tls>,
) -> Result<BoxStream, Error> {
    let (config, name) = tls.ok_or(Error::TlsNotConfigured)?;
    let stream = tokio_rustls::TlsConnector::from(config.clone())
        .connect(name.clone(), stream)
        .await
        .map_err(Error::tls_handshake)?;
    let cb = pgproto_tls::channel_binding(
        stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first()),
    );
    core.handle_tls_established(cb)?;
    Ok(Box::new(stream))
}

/// Sends a CancelRequest to `address` on a new connection and waits until the server
/// closes it (PostgreSQL answers nothing). Plain TCP, as libpq's `PQcancel`: PostgreSQL
/// accepts cancel requests without TLS whatever its `pg_hba.conf` says.
pub(crate) async fn send_cancel(address: &Address, token: &CancelToken) -> Result<(), Error> {
    let mut packet = BytesMut::new();
    token
        .encode(&mut packet)
        .map_err(pgproto_core::Error::from)?;
    let mut stream: BoxStream = if address.host.starts_with('/') {
        Box::new(UnixStream::connect(format!("{}/.s.PGSQL.{}", address.host, address.port)).await?)
    } else {
        Box::new(TcpStream::connect((address.host.as_str(), address.port)).await?)
    };
    stream.write_all(&packet).await?;
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
    Ok(())
}

/// What the client is told when the upstream connection could not be made: the upstream
/// server's own error as it sent it (wrong database, too many connections, its
/// authentication of the proxy failing...), or 08001 with the local reason.
pub(crate) fn connect_error(e: &Error, target: &Target) -> DbError {
    match e.as_db_error() {
        Some(db) => {
            let mut db = db.clone();
            db.severity = "FATAL".into();
            db.parsed_severity = Some(Severity::Fatal);
            db
        }
        None => {
            let hosts: Vec<String> = target
                .info
                .hosts
                .iter()
                .map(|(h, p)| format!("{h}:{p}"))
                .collect();
            DbError::new(
                Severity::Fatal,
                SqlState::SqlclientUnableToEstablishSqlconnection,
                format!("could not connect to the upstream server: {e}"),
            )
            .with_detail(format!("upstream: {}", hosts.join(", ")))
        }
    }
}
