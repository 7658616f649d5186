//! One server connection's whole loop, sans-IO: [`ServerConnection`].

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::cancel::CancelToken;
use crate::error::{Error, UsageError};
use crate::message::ProtocolVersion;

use super::{Server, ServerAuth, ServerConfig, ServerEvent, StartupRequest};

/// Startup and authentication settings shared by a server's connections.
#[derive(Debug, Clone)]
pub struct SessionSetup {
    /// Users and authentication method.
    pub auth: ServerAuth,
    /// ParameterStatus values sent at startup, over the core's defaults.
    pub parameters: Vec<(String, String)>,
    /// Whether the adapter can do TLS (SSLRequest is accepted, direct TLS allowed).
    pub tls_available: bool,
    /// Whether the connection completes startup by itself once the client is
    /// authenticated (the default). A proxy that first connects upstream, to send the
    /// upstream's parameters, sets it to `false`: it gets [`Action::Authenticated`] and
    /// calls [`ServerConnection::complete_startup`].
    pub complete_startup: bool,
}

impl SessionSetup {
    /// Settings with `auth`, PostgreSQL's `server_version`, and no TLS.
    pub fn new(auth: ServerAuth) -> Self {
        Self {
            auth,
            parameters: alloc::vec![("server_version".into(), SERVER_VERSION.into())],
            tls_available: false,
            complete_startup: true,
        }
    }
}

/// The `server_version` a server built on the core reports unless told otherwise: the
/// PostgreSQL release whose protocol and behaviour it follows.
pub const SERVER_VERSION: &str = "16.0 (pgproto)";

/// What the caller of [`ServerConnection::poll_action`] does next.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Action {
    /// Write these bytes to the client and flush.
    Transmit(Bytes),
    /// Read from the client ([`ServerConnection::handle_input`] or
    /// [`ServerConnection::handle_eof`]); call `poll_action` again by `deadline` (in the
    /// caller's time) even if nothing arrives.
    Read {
        /// When a timeout falls due, if one is running.
        deadline: Option<Duration>,
    },
    /// Perform the TLS handshake now (everything to write before it was transmitted),
    /// then call [`Server::handle_tls_established`]. With `direct`, the client started
    /// TLS without SSLRequest: feed [`Server::take_buffered_input`] to the TLS library
    /// first, and require ALPN `postgresql`.
    StartTls {
        /// Direct TLS (PostgreSQL 17 style).
        direct: bool,
    },
    /// The client's StartupMessage: create the application's handler for it.
    /// Authentication has already started.
    Startup(StartupRequest),
    /// With [`SessionSetup::complete_startup`] off: the client is authenticated; call
    /// [`ServerConnection::complete_startup`].
    Authenticated,
    /// Startup is complete: register the session's cancel key, so that a
    /// CancelRequest on another connection reaches [`Server::cancel_flag`].
    Registered {
        /// The process ID given to the client.
        process_id: i32,
        /// The secret key given to the client.
        secret_key: Vec<u8>,
    },
    /// Hand this event to the application, which answers with the
    /// [`Server`] commands ([`ServerConnection::server`]).
    Handle(ServerEvent),
    /// A CancelRequest: deliver it to the session it names. This connection then
    /// closes (the next action).
    Cancel(CancelToken),
    /// The connection is over (the client left, a fatal error was sent, the timeout
    /// expired): close the socket. [`Server::error_state`] says why, if it failed.
    Close,
}

/// One server connection's whole loop, sans-IO: [`ServerConnection::poll_action`] says
/// what to do next (write, read until a deadline, start TLS, hand an event to the
/// application, deliver a cancel request, register the session, close), and answers by
/// itself everything that needs no application knowledge: the TLS decision,
/// authentication with the [`SessionSetup`]'s users, the end of startup with a fresh
/// cancel key, Terminate, the authentication timeout.
///
/// An adapter's loop over it is all an adapter writes:
///
/// ```
/// use core::time::Duration;
/// use pgproto_core::server::{
///     Action, AuthKind, ServerAuth, ServerConfig, ServerConnection, SessionSetup,
/// };
///
/// let setup = SessionSetup::new(ServerAuth::new(AuthKind::Trust, b"mock secret"));
/// // 32 bytes from the OS's random source, once per connection.
/// let seed = [7u8; 32];
/// let mut conn = ServerConnection::new(ServerConfig::default(), setup.into(), 1000, seed);
/// // The client's bytes, as a socket would deliver them: StartupMessage, then a query.
/// let mut input = vec![b"\0\0\0\x14\0\x03\0\0user\0alice\0\0".to_vec()];
/// input.push(b"Q\0\0\0\x0dselect 1\0".to_vec());
/// input.reverse();
/// let mut sent = Vec::new();
/// loop {
///     match conn.poll_action(Duration::ZERO) {
///         Action::Transmit(bytes) => sent.extend_from_slice(&bytes),
///         Action::Read { .. } => match input.pop() {
///             Some(bytes) => conn.handle_input(&bytes),
///             None => conn.handle_eof(),
///         },
///         Action::Startup(request) => assert_eq!(request.user, "alice"),
///         Action::Registered { process_id, .. } => assert_eq!(process_id, 1000),
///         Action::Handle(event) => {
///             pgproto_core::testing::fixed_answer(conn.server(), event).unwrap()
///         }
///         Action::Close => break,
///         other => panic!("{other:?}"),
///     }
/// }
/// assert!(sent.ends_with(b"Z\0\0\0\x05I"));
/// ```
#[derive(Debug)]
pub struct ServerConnection {
    server: Server,
    setup: Arc<SessionSetup>,
    seed: [u8; 32],
    draws: u64,
    process_id: i32,
    /// An action that waits for the output before it to be transmitted.
    pending: Option<Action>,
    /// Transmit what is queued, then close.
    closing: bool,
}

impl ServerConnection {
    /// A new connection. `process_id` is what the client will see as the session's
    /// process ID (unique among the server's live sessions); `seed` is 32 bytes from a
    /// cryptographically secure random source, from which the connection derives its
    /// salts, nonces and cancel key.
    pub fn new(
        config: ServerConfig,
        setup: Arc<SessionSetup>,
        process_id: i32,
        seed: [u8; 32],
    ) -> Self {
        Self {
            server: Server::new(config),
            setup,
            seed,
            draws: 0,
            process_id,
            pending: None,
            closing: false,
        }
    }

    /// The protocol state machine, for the application's answers.
    pub fn server(&mut self) -> &mut Server {
        &mut self.server
    }

    /// Feeds bytes received from the client.
    pub fn handle_input(&mut self, data: &[u8]) {
        self.server.handle_input(data);
    }

    /// Reports that the client closed its side.
    pub fn handle_eof(&mut self) {
        self.server.handle_eof();
    }

    /// Completes startup with `parameters` (ParameterStatus values over the core's
    /// defaults), after [`Action::Authenticated`]. Returns the process ID and secret key
    /// given to the client, for the caller's cancel registry.
    pub fn complete_startup(
        &mut self,
        parameters: &[(&str, &str)],
    ) -> Result<(i32, Vec<u8>), Error> {
        let random = self.draw();
        let key_len = if self.server.protocol_version() >= ProtocolVersion::V3_2 {
            32
        } else {
            4
        };
        let secret_key = random.get(..key_len).unwrap_or(&random).to_vec();
        self.server
            .complete_startup(parameters, self.process_id, &secret_key)?;
        Ok((self.process_id, secret_key))
    }

    /// What to do next. `now` is the caller's monotonic clock as a [`Duration`] since
    /// any fixed epoch; the first call starts the authentication clock.
    pub fn poll_action(&mut self, now: Duration) -> Action {
        self.server.handle_timeout(now);
        loop {
            if let Some(action) = self.pending.take() {
                return action;
            }
            if self.closing || self.server.error_state().is_some() {
                self.closing = true;
                return match self.server.poll_transmit() {
                    Some(bytes) => Action::Transmit(bytes),
                    None => Action::Close,
                };
            }
            if self.server.should_flush() {
                if let Some(bytes) = self.server.poll_transmit() {
                    return Action::Transmit(bytes);
                }
            }
            match self.server.poll_event() {
                Ok(Some(event)) => match self.answer(event) {
                    Ok(Some(action)) => return self.after_output(action),
                    Ok(None) => {}
                    Err(e) => self.fail(e),
                },
                Ok(None) => {
                    return match self.server.poll_transmit() {
                        Some(bytes) => Action::Transmit(bytes),
                        None => Action::Read {
                            deadline: self.server.poll_timeout(),
                        },
                    };
                }
                // The core keeps the reason (`error_state`) and queued any FATAL
                // message for the client.
                Err(_) => self.closing = true,
            }
        }
    }

    /// `action`, after the output queued before it when the client must see that
    /// output first (the `S` before a TLS handshake).
    fn after_output(&mut self, action: Action) -> Action {
        if matches!(action, Action::StartTls { .. }) {
            if let Some(bytes) = self.server.poll_transmit() {
                self.pending = Some(action);
                return Action::Transmit(bytes);
            }
        }
        action
    }

    /// Answers a connection-level event; returns the action for the caller, if any.
    fn answer(&mut self, event: ServerEvent) -> Result<Option<Action>, Error> {
        Ok(Some(match event {
            ServerEvent::TlsRequested => {
                if self.setup.tls_available {
                    self.server.accept_tls()?;
                    Action::StartTls { direct: false }
                } else {
                    self.server.refuse_tls()?;
                    return Ok(None);
                }
            }
            ServerEvent::DirectTls => {
                if !self.setup.tls_available {
                    return Err(UsageError::TlsNotConfigured.into());
                }
                Action::StartTls { direct: true }
            }
            ServerEvent::CancelRequested(token) => {
                self.closing = true;
                Action::Cancel(token)
            }
            ServerEvent::Startup(request) => {
                let random = self.draw();
                self.setup.clone().auth.begin(&mut self.server, &random)?;
                Action::Startup(request)
            }
            ServerEvent::Password(password) => {
                let setup = self.setup.clone();
                setup.auth.finish_password(&mut self.server, &password)?;
                return Ok(None);
            }
            ServerEvent::Authenticated if !self.setup.complete_startup => Action::Authenticated,
            ServerEvent::Authenticated => {
                let setup = self.setup.clone();
                let parameters: Vec<(&str, &str)> = setup
                    .parameters
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let (process_id, secret_key) = self.complete_startup(&parameters)?;
                Action::Registered {
                    process_id,
                    secret_key,
                }
            }
            ServerEvent::Terminate => {
                self.closing = true;
                return Ok(None);
            }
            other => Action::Handle(other),
        }))
    }

    /// Closes the connection for `error` (kept as [`Server::error_state`]).
    fn fail(&mut self, error: Error) {
        self.server.close(error);
        self.closing = true;
    }

    /// 32 bytes derived from the seed, different at every call (HMAC-SHA-256 of a
    /// counter under the seed).
    fn draw(&mut self) -> [u8; 32] {
        self.draws += 1;
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.seed) {
            Ok(mac) => mac,
            // HMAC takes keys of any length.
            Err(_) => return self.seed,
        };
        mac.update(&self.draws.to_be_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::AuthKind;
    use alloc::vec;

    const STARTUP_ALICE: &[u8] = b"\0\0\0\x14\0\x03\0\0user\0alice\0\0";

    fn connection(setup: SessionSetup, seed: u8) -> ServerConnection {
        let config = ServerConfig {
            authentication_timeout: Some(Duration::from_secs(10)),
            ..ServerConfig::default()
        };
        ServerConnection::new(config, setup.into(), 77, [seed; 32])
    }

    fn trust() -> SessionSetup {
        SessionSetup::new(ServerAuth::new(AuthKind::Trust, b"mock"))
    }

    /// Polls until the connection wants input, collecting what it transmits and the
    /// other actions.
    fn run(conn: &mut ServerConnection, now: u64) -> (Vec<u8>, Vec<Action>) {
        let (mut sent, mut actions) = (Vec::new(), Vec::new());
        for _ in 0..100 {
            match conn.poll_action(Duration::from_secs(now)) {
                Action::Transmit(bytes) => sent.extend_from_slice(&bytes),
                read @ Action::Read { .. } => {
                    actions.push(read);
                    break;
                }
                Action::Close => {
                    actions.push(Action::Close);
                    break;
                }
                other => actions.push(other),
            }
        }
        (sent, actions)
    }

    #[test]
    fn trust_startup_registers_the_session_with_its_key() {
        let mut conn = connection(trust(), 1);
        conn.handle_input(STARTUP_ALICE);
        let (sent, actions) = run(&mut conn, 0);
        let [Action::Startup(request), Action::Registered {
            process_id,
            secret_key,
        }, Action::Read { deadline: None }] = &actions[..]
        else {
            panic!("{actions:?}");
        };
        assert_eq!(request.user, "alice");
        assert_eq!(*process_id, 77);
        assert_eq!(secret_key.len(), 4);
        // BackendKeyData carries the same process ID and key.
        let mut key_data = vec![b'K', 0, 0, 0, 12];
        key_data.extend_from_slice(&77i32.to_be_bytes());
        key_data.extend_from_slice(secret_key);
        assert!(sent.windows(13).any(|w| w == &key_data[..]), "{sent:?}");
        assert!(sent.ends_with(b"Z\0\0\0\x05I"));
    }

    #[test]
    fn each_seed_gives_its_own_cancel_key() {
        let key = |seed| {
            let mut conn = connection(trust(), seed);
            conn.handle_input(STARTUP_ALICE);
            let (_, actions) = run(&mut conn, 0);
            actions.into_iter().find_map(|a| match a {
                Action::Registered { secret_key, .. } => Some(secret_key),
                _ => None,
            })
        };
        assert_ne!(key(1), key(2));
        assert_eq!(key(3), key(3));
    }

    #[test]
    fn the_ssl_answer_goes_out_before_the_handshake() {
        let mut setup = trust();
        setup.tls_available = true;
        let mut conn = connection(setup, 1);
        conn.handle_input(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
        assert_eq!(
            conn.poll_action(Duration::ZERO),
            Action::Transmit(Bytes::from("S"))
        );
        assert_eq!(
            conn.poll_action(Duration::ZERO),
            Action::StartTls { direct: false }
        );
        // Refused without TLS.
        let mut conn = connection(trust(), 1);
        conn.handle_input(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
        let (sent, actions) = run(&mut conn, 0);
        assert_eq!(sent, b"N");
        assert!(matches!(actions[..], [Action::Read { .. }]));
    }

    #[test]
    fn direct_tls_without_tls_closes() {
        let mut conn = connection(trust(), 1);
        conn.handle_input(&[0x16, 3, 1, 0, 5]);
        let (_, actions) = run(&mut conn, 0);
        assert_eq!(actions, [Action::Close]);
        assert!(conn.server().error_state().is_some());
    }

    #[test]
    fn a_cancel_request_is_delivered_then_the_connection_closes() {
        let mut conn = connection(trust(), 1);
        let mut cancel = vec![0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e];
        cancel.extend_from_slice(&42i32.to_be_bytes());
        cancel.extend_from_slice(&7i32.to_be_bytes());
        conn.handle_input(&cancel);
        let (sent, actions) = run(&mut conn, 0);
        assert!(sent.is_empty());
        let [Action::Cancel(token), Action::Close] = &actions[..] else {
            panic!("{actions:?}");
        };
        assert_eq!(token.process_id, 42);
    }

    #[test]
    fn startup_that_takes_too_long_closes_silently() {
        let mut conn = connection(trust(), 1);
        let (_, actions) = run(&mut conn, 100);
        assert_eq!(
            actions,
            [Action::Read {
                deadline: Some(Duration::from_secs(110))
            }]
        );
        conn.handle_input(b"\0\0\0\x14\0\x03");
        assert!(matches!(run(&mut conn, 105).1[..], [Action::Read { .. }]));
        let (sent, actions) = run(&mut conn, 110);
        assert!(sent.is_empty());
        assert_eq!(actions, [Action::Close]);
        assert!(matches!(
            conn.server().error_state(),
            Some(Error::TimedOut(_))
        ));
    }

    #[test]
    fn a_wrong_password_sends_fatal_then_closes() {
        let mut auth = ServerAuth::new(AuthKind::Password, b"mock");
        auth.add_user("alice", "right", b"salt").unwrap();
        let mut conn = connection(SessionSetup::new(auth), 1);
        conn.handle_input(STARTUP_ALICE);
        let (sent, _) = run(&mut conn, 0);
        assert_eq!(sent, b"R\0\0\0\x08\0\0\0\x03");
        conn.handle_input(b"p\0\0\0\x0awrong\0");
        let (sent, actions) = run(&mut conn, 0);
        assert_eq!(sent.first(), Some(&b'E'));
        assert!(sent.windows(5).any(|w| w == b"28P01"));
        assert_eq!(actions, [Action::Close]);
    }

    #[test]
    fn a_proxy_completes_startup_itself() {
        let mut setup = trust();
        setup.complete_startup = false;
        let mut conn = connection(setup, 1);
        conn.handle_input(STARTUP_ALICE);
        let (sent, actions) = run(&mut conn, 0);
        assert!(matches!(
            actions[..],
            [
                Action::Startup(_),
                Action::Authenticated,
                Action::Read { .. }
            ]
        ));
        // AuthenticationOk only: no ReadyForQuery yet.
        assert_eq!(sent, b"R\0\0\0\x08\0\0\0\0");
        let (process_id, key) = conn
            .complete_startup(&[("server_version", "15.4")])
            .unwrap();
        assert_eq!((process_id, key.len()), (77, 4));
        let (sent, _) = run(&mut conn, 0);
        assert!(sent.windows(4).any(|w| w == b"15.4"));
        assert!(sent.ends_with(b"Z\0\0\0\x05I"));
    }

    #[test]
    fn terminate_closes_after_the_output() {
        let mut conn = connection(trust(), 1);
        conn.handle_input(STARTUP_ALICE);
        run(&mut conn, 0);
        conn.handle_input(b"Q\0\0\0\x0dselect 1\0X\0\0\0\x04");
        let (_, actions) = run(&mut conn, 0);
        let [Action::Handle(ServerEvent::Query { sql }), Action::Read { .. }] = &actions[..] else {
            panic!("{actions:?}");
        };
        assert_eq!(sql, "select 1");
        crate::testing::fixed_answer(conn.server(), ServerEvent::Query { sql: sql.clone() })
            .unwrap();
        let (sent, actions) = run(&mut conn, 0);
        assert!(sent.ends_with(b"Z\0\0\0\x05I"));
        assert_eq!(actions, [Action::Close]);
        // Closed by the client, not failed.
        assert!(matches!(
            conn.server().error_state(),
            None | Some(Error::Closed)
        ));
    }
}
