//! The connection-level events every server adapter handles the same way: TLS requests,
//! cancel requests, authentication, and the end of startup.

use alloc::string::String;
use alloc::vec::Vec;

use crate::cancel::CancelToken;
use crate::error::Error;
use crate::message::ProtocolVersion;

use super::{Server, ServerAuth, ServerEvent, StartupRequest};

/// What an adapter does after [`SessionSetup::step`].
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Nothing more: keep reading and polling.
    Continue,
    /// Hand this event to the application's handler.
    Handle(ServerEvent),
    /// Perform the TLS handshake now, then call [`Server::handle_tls_established`]. With
    /// `direct`, the client started TLS without SSLRequest: feed
    /// [`Server::take_buffered_input`] to the TLS library first.
    StartTls {
        /// Direct TLS (PostgreSQL 17 style, ALPN `postgresql`).
        direct: bool,
    },
    /// A CancelRequest: deliver it to the session it names, then close this connection.
    Cancel(CancelToken),
    /// The client's StartupMessage: create the application's handler for it.
    /// Authentication has already been started.
    Startup(StartupRequest),
    /// Startup completed: register the session's cancel key.
    Ready {
        /// Process ID given to the client.
        process_id: i32,
        /// Secret key given to the client.
        secret_key: Vec<u8>,
    },
    /// The client terminated: flush and close.
    Close,
}

/// Startup and authentication settings shared by a server's connections.
#[derive(Debug, Clone)]
pub struct SessionSetup {
    /// Users and authentication method.
    pub auth: ServerAuth,
    /// ParameterStatus values sent at startup, over the core's defaults.
    pub parameters: Vec<(String, String)>,
    /// Whether the adapter can do TLS (SSLRequest is accepted, direct TLS allowed).
    pub tls_available: bool,
}

impl SessionSetup {
    /// Settings with `auth`, a `server_version` of 16.0, and no TLS.
    pub fn new(auth: ServerAuth) -> Self {
        Self {
            auth,
            parameters: alloc::vec![("server_version".into(), "16.0 (pgproto)".into())],
            tls_available: false,
        }
    }

    /// Handles `event` if it is connection-level, else returns it for the application.
    /// `random` gives 32 fresh random bytes (salts, nonces, the cancel key); it is called
    /// only for the events that need them (the startup packet and the end of
    /// authentication), never per query. `process_id` gives the session's process ID
    /// when startup completes.
    pub fn step<E: From<Error>>(
        &self,
        server: &mut Server,
        event: ServerEvent,
        random: impl FnOnce() -> Result<[u8; 32], E>,
        process_id: impl FnOnce() -> i32,
    ) -> Result<Step, E> {
        Ok(match event {
            ServerEvent::TlsRequested => {
                if self.tls_available {
                    server.accept_tls()?;
                    Step::StartTls { direct: false }
                } else {
                    server.refuse_tls()?;
                    Step::Continue
                }
            }
            ServerEvent::DirectTls => {
                if !self.tls_available {
                    return Err(Error::from(crate::error::UsageError::TlsNotConfigured).into());
                }
                Step::StartTls { direct: true }
            }
            ServerEvent::CancelRequested(token) => Step::Cancel(token),
            ServerEvent::Startup(request) => {
                self.auth.begin(server, &random()?)?;
                Step::Startup(request)
            }
            ServerEvent::Password(password) => {
                self.auth.finish_password(server, &password)?;
                Step::Continue
            }
            ServerEvent::Authenticated => {
                let random = random()?;
                let process_id = process_id();
                let key_len = if server.protocol_version() >= ProtocolVersion::V3_2 {
                    32
                } else {
                    4
                };
                let secret_key = random.get(..key_len).unwrap_or(&random).to_vec();
                let params: Vec<(&str, &str)> = self
                    .parameters
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                server.complete_startup(&params, process_id, &secret_key)?;
                Step::Ready {
                    process_id,
                    secret_key,
                }
            }
            ServerEvent::Terminate => Step::Close,
            other => Step::Handle(other),
        })
    }
}
