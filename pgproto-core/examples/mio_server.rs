//! A PostgreSQL server on a `mio` event loop, using nothing of pgproto but the sans-IO
//! core: one thread, non-blocking sockets, any number of client connections. It answers
//! every query, simple or extended, with one int4 column `?column?` = 1 (`SELECT 1`),
//! like the adapters' `fixed_server` examples; psql, pgbench and other drivers connect
//! to it.
//!
//! ```sh
//! cargo run -p pgproto-core --example mio_server -- --listen 127.0.0.1:5433 \
//!     --auth scram-sha-256 --user postgres --password secret
//! psql "host=127.0.0.1 port=5433 user=postgres password=secret sslmode=disable" -c "select 1"
//! ```
//!
//! Per readiness event on a client socket, the loop
//!
//! 1. reads everything the socket has into the core ([`Server::handle_input`]), or
//!    reports EOF ([`Server::handle_eof`]);
//! 2. drains [`Server::poll_event`]: [`SessionSetup::step`] answers what needs no
//!    application (TLS and GSSAPI requests, authentication, the end of startup, cancel
//!    requests) and hands the rest to the application (here [`fixed_answer`]);
//! 3. writes what the core queued ([`Server::poll_transmit`]) as far as the socket takes
//!    it; the rest waits for the next writable event.
//!
//! Connections that do not finish startup within `STARTUP_TIMEOUT` are closed, as
//! PostgreSQL's `authentication_timeout` does: the deadline is the loop's, measured on
//! its clock (the core has none). TLS is not offered (SSLRequest is refused); see the
//! guide for where a TLS session would go.

mod nonblocking_io;

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use nonblocking_io::{read_available, write_available};
use pgproto_core::adapter::Error;
use pgproto_core::cancel::CancelRegistry;
use pgproto_core::server::{Server, ServerConfig, SessionSetup, Step};
use pgproto_core::testing::{fixed_answer, ServerArgs};

/// How long a client may take from connecting to the end of authentication.
pub(crate) const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

const LISTENER: Token = Token(0);

/// One client connection.
struct Session {
    socket: TcpStream,
    server: Server,
    /// Bytes the core produced that the socket did not take yet.
    outgoing: BytesMut,
    /// Close the connection when startup has not completed by then.
    startup_deadline: Option<Instant>,
    /// The process ID given to the client, once ready (for cancel requests).
    process_id: Option<i32>,
    /// Close once `outgoing` is written.
    closing: bool,
}

/// What every session shares.
struct Shared {
    setup: SessionSetup,
    cancels: CancelRegistry,
    next_process_id: i32,
}

/// Serves connections from `listener` until `stop` is set (checked at least every
/// 100 ms).
pub(crate) fn serve(
    mut listener: TcpListener,
    setup: SessionSetup,
    startup_timeout: Duration,
    stop: &AtomicBool,
) -> io::Result<()> {
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut shared = Shared {
        setup,
        cancels: CancelRegistry::default(),
        next_process_id: 1000,
    };
    let mut sessions: HashMap<Token, Session> = HashMap::new();
    let mut next_token = 1;
    let mut events = Events::with_capacity(1024);

    while !stop.load(Ordering::Acquire) {
        // Wake up for the earliest startup deadline, and to look at `stop`.
        let now = Instant::now();
        let timeout = sessions
            .values()
            .filter_map(|s| s.startup_deadline)
            .map(|d| d.saturating_duration_since(now))
            .chain([Duration::from_millis(100)])
            .min();
        match poll.poll(&mut events, timeout) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => other?,
        }

        for event in &events {
            if event.token() == LISTENER {
                // Accept every pending connection (edge-triggered: until WouldBlock).
                loop {
                    let (mut socket, _) = match listener.accept() {
                        Ok(accepted) => accepted,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            eprintln!("accept: {e}");
                            break;
                        }
                    };
                    let token = Token(next_token);
                    next_token += 1;
                    let _ = socket.set_nodelay(true);
                    poll.registry().register(
                        &mut socket,
                        token,
                        Interest::READABLE | Interest::WRITABLE,
                    )?;
                    sessions.insert(
                        token,
                        Session {
                            socket,
                            server: Server::new(ServerConfig::default()),
                            outgoing: BytesMut::new(),
                            startup_deadline: Some(Instant::now() + startup_timeout),
                            process_id: None,
                            closing: false,
                        },
                    );
                }
                continue;
            }
            let token = event.token();
            let Some(session) = sessions.get_mut(&token) else {
                continue;
            };
            let keep = match session.on_ready(event.is_readable(), &mut shared) {
                Ok(keep) => keep,
                Err(e) => {
                    // A fatal error: the core queued the ErrorResponse the client gets
                    // (if any); send what the socket takes, then close.
                    session.flush_output().ok();
                    if !matches!(e, Error::Protocol(pgproto_core::Error::Closed)) {
                        eprintln!("connection closed: {e}");
                    }
                    false
                }
            };
            if !keep {
                if let Some(mut session) = sessions.remove(&token) {
                    session.close(&mut shared, &poll);
                }
            }
        }

        // Startup deadlines (the loop's clock, not the core's).
        let now = Instant::now();
        let expired: Vec<Token> = sessions
            .iter()
            .filter(|(_, s)| s.startup_deadline.is_some_and(|d| d <= now))
            .map(|(t, _)| *t)
            .collect();
        for token in expired {
            if let Some(mut session) = sessions.remove(&token) {
                session.close(&mut shared, &poll);
            }
        }
    }
    Ok(())
}

impl Session {
    /// Handles a readiness event. `Ok(false)` when the connection is over.
    fn on_ready(&mut self, readable: bool, shared: &mut Shared) -> Result<bool, Error> {
        // 1. Feed everything the socket has.
        if readable
            && !self.closing
            && !read_available(&mut self.socket, |data| self.server.handle_input(data))?
        {
            self.server.handle_eof();
            return Ok(false);
        }
        // 2. Drain the events. Each answer is queued in the core's output.
        while !self.closing {
            let Some(event) = self.server.poll_event()? else {
                break;
            };
            let mut random = [0u8; 32];
            getrandom::getrandom(&mut random).map_err(|e| Error::Io(e.into()))?;
            let step = shared.setup.step(&mut self.server, event, &random, || {
                shared.next_process_id += 1;
                shared.next_process_id
            })?;
            match step {
                Step::Continue | Step::Startup(_) => {}
                // The application's part: a query-level message to answer.
                Step::Handle(event) => fixed_answer(&mut self.server, event)?,
                Step::Ready {
                    process_id,
                    secret_key,
                } => {
                    self.startup_deadline = None;
                    self.process_id = Some(process_id);
                    // A long-running answer would poll `Server::take_cancel_request`.
                    shared
                        .cancels
                        .register(process_id, secret_key, self.server.cancel_flag());
                }
                Step::Cancel(token) => {
                    shared.cancels.cancel(&token);
                    self.closing = true;
                }
                Step::Close => self.closing = true,
                // `setup.tls_available` is false: SSLRequest is refused by `step`.
                Step::StartTls { .. } => return Err(Error::Unsupported("TLS")),
            }
        }
        // 3. Write what was queued.
        self.flush_output()?;
        Ok(!(self.closing && self.outgoing.is_empty()))
    }

    /// Moves the core's output to `outgoing` and writes as much as the socket takes.
    fn flush_output(&mut self) -> io::Result<()> {
        while let Some(bytes) = self.server.poll_transmit() {
            self.outgoing.extend_from_slice(&bytes);
        }
        write_available(&mut self.socket, &mut self.outgoing)
    }

    fn close(&mut self, shared: &mut Shared, poll: &Poll) {
        if let Some(process_id) = self.process_id {
            shared.cancels.unregister(process_id);
        }
        let _ = poll.registry().deregister(&mut self.socket);
        let _ = self.socket.shutdown(std::net::Shutdown::Both);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ServerArgs::parse(std::env::args().skip(1))?;
    if args.tls_cert.is_some() {
        return Err("this example does not offer TLS".into());
    }
    let mut random = [0u8; 32];
    getrandom::getrandom(&mut random)?;
    let setup = SessionSetup::new(args.server_auth(&random)?);
    let listener = TcpListener::bind(args.listen.parse()?)?;
    eprintln!("mio_server listening on {}", listener.local_addr()?);
    serve(listener, setup, STARTUP_TIMEOUT, &AtomicBool::new(false))?;
    Ok(())
}
