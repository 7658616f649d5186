//! The connect plan, without I/O: which hosts a connection string names, in the order
//! libpq tries them, each with the settings for that host; and the startup loop's next
//! step. Every client built on the core (the adapters, a proxy's upstream side, your own
//! event loop) follows the same plan.
//!
//! ```
//! use pgproto_core::client::{ConnInfo, SslMode};
//! let info = ConnInfo::parse("host=/run/postgresql,db.example port=5432 sslmode=require").unwrap();
//! let passfile = "db.example:5432:*:*:secret\n";
//! let targets = info.targets(Some(passfile));
//! // A Unix socket first (no TLS over it, as libpq), then TCP with the password file's entry.
//! assert_eq!(targets[0].unix_path().as_deref(), Some("/run/postgresql/.s.PGSQL.5432"));
//! assert_eq!(targets[0].config.ssl_mode, SslMode::Disable);
//! assert_eq!(targets[1].unix_path(), None);
//! assert_eq!(targets[1].config.password.as_deref(), Some(&b"secret"[..]));
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use super::{Client, Config, ConnInfo, Event, SslMode};
use crate::error::Error;

/// One host to try: where, and the core's settings for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectTarget {
    /// Host name, address, or (starting with `/`) the directory of a Unix socket.
    pub host: String,
    /// Port (for a Unix socket: the number in its file name).
    pub port: u16,
    /// The settings for this host: the password from the password file when the
    /// connection string has none, TLS off over a Unix socket (as libpq), and
    /// `connect_timeout` when set and positive ([`Config::connect_timeout`], kept by
    /// [`Client::handle_timeout`](crate::client::Client::handle_timeout)).
    pub config: Config,
}

impl ConnectTarget {
    /// The Unix socket's path when [`ConnectTarget::host`] is a directory.
    pub fn unix_path(&self) -> Option<String> {
        unix_socket_path(&self.host, self.port)
    }
}

/// The Unix socket of `port` in directory `host` (`/dir/.s.PGSQL.5432`), when `host` is
/// a directory (starts with `/`).
pub fn unix_socket_path(host: &str, port: u16) -> Option<String> {
    host.starts_with('/')
        .then(|| format!("{host}/.s.PGSQL.{port}"))
}

impl ConnInfo {
    /// The hosts to try, in order, each with its settings. `passfile` is the password
    /// file's contents (the caller reads it; see `adapter::passfile_path`), consulted
    /// per host when the connection string has no password.
    pub fn targets(&self, passfile: Option<&str>) -> Vec<ConnectTarget> {
        let connect_timeout = self
            .connect_timeout_secs
            .filter(|s| *s > 0)
            .map(Duration::from_secs);
        self.hosts
            .iter()
            .map(|(host, port)| {
                let mut one = self.clone();
                if let Some(contents) = passfile {
                    one.password_from_passfile(contents, host, *port);
                }
                let mut config = one.config;
                if host.starts_with('/') {
                    config.ssl_mode = SslMode::Disable;
                }
                config.connect_timeout = connect_timeout;
                ConnectTarget {
                    host: host.clone(),
                    port: *port,
                    config,
                }
            })
            .collect()
    }
}

/// What the startup loop does next (see [`Client::poll_startup`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartupStep {
    /// Startup completed: the connection is ready for requests.
    Ready,
    /// The server accepted the SSLRequest: do the TLS handshake now, then call
    /// [`Client::handle_tls_established`].
    StartTls,
    /// Send what [`Client::poll_transmit`] has, then read and feed the answer.
    Io,
}

impl Client {
    /// Drains the events of startup up to the next thing the I/O loop must do. Other
    /// events of startup (ParameterStatus, notices, the negotiated protocol version) are
    /// recorded by the core and need no action.
    pub fn poll_startup(&mut self) -> Result<StartupStep, Error> {
        loop {
            match self.poll_event()? {
                Some(Event::Ready) => return Ok(StartupStep::Ready),
                // The SSLRequest went out and the 'S' came back: nothing else may be in
                // flight (the core refuses bytes buffered after the 'S').
                Some(Event::StartTls) => return Ok(StartupStep::StartTls),
                Some(_) => {}
                None => return Ok(StartupStep::Io),
            }
        }
    }
}
