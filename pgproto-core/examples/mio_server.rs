//! A PostgreSQL server on a `mio` event loop, using nothing of pgproto but the sans-IO
//! core: one thread, non-blocking sockets, any number of client connections. It answers
//! every query, simple or extended, with one int4 column `?column?` = 1 (`SELECT 1`),
//! like the `fixed_server` example (on any adapter); psql, pgbench and other drivers connect
//! to it. One query is answered later: `select pg_sleep(SECONDS)` (simple protocol)
//! sleeps on the loop's clock without blocking the other connections, and a
//! CancelRequest ends it early with SQLSTATE 57014, as PostgreSQL does.
//!
//! ```sh
//! cargo run -p pgproto-core --example mio_server -- --listen 127.0.0.1:5433 \
//!     --auth scram-sha-256 --user postgres --password secret
//! psql "host=127.0.0.1 port=5433 user=postgres password=secret sslmode=disable" -c "select 1"
//! ```
//!
//! Per readiness event on a client socket, `Session::on_ready` repeats until the socket
//! is empty:
//!
//! 1. read one chunk into the core ([`ServerConnection::handle_input`]), unless more
//!    than `MAX_OUTGOING` bytes wait for a client that does not read, or the application
//!    is still answering (back-pressure: the input waits in the socket; reading resumes
//!    on the writable event that drains the output, or when the answer is done);
//! 2. drain [`ServerConnection::poll_action`] until it asks for input: the core answers
//!    what needs no application (TLS and GSSAPI requests, authentication, the end of
//!    startup, cancel requests, the authentication timeout) and hands the rest to the
//!    application (here [`fixed_answer`], or a sleep answered later by
//!    `Session::wake`); its `Transmit` bytes go to `outgoing`;
//! 3. write `outgoing` as far as the socket takes it; the rest waits for the next
//!    writable event.
//!
//! The end of the stream is reported ([`ServerConnection::handle_eof`]) after the
//! bytes before it were handled: a cancelling client sends its CancelRequest and closes
//! at once.
//!
//! Connections that do not finish startup within `STARTUP_TIMEOUT` are closed, as
//! PostgreSQL's `authentication_timeout` does: the core keeps the deadline (the
//! `deadline` of [`Action::Read`]), the loop only tells it the time.
//! TLS is not offered (SSLRequest is refused); the guide
//! says where a TLS session goes.

mod nonblocking_io;

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use nonblocking_io::{read_once, write_available, ReadOutcome};
use pgproto_core::adapter::Error;
use pgproto_core::cancel::CancelRegistry;
use pgproto_core::column::Column;
use pgproto_core::db_error::{DbError, Severity};
use pgproto_core::server::{Action, ServerConfig, ServerConnection, ServerEvent, SessionSetup};
use pgproto_core::sqlstate::SqlState;
use pgproto_core::testing::fixed_answer;
use pgproto_tls::ServerArgs;

/// How long a client may take from connecting to the end of authentication.
pub(crate) const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Stop reading from a client while this much output waits for it.
const MAX_OUTGOING: usize = 1 << 20;

const LISTENER: Token = Token(0);

/// One client connection.
struct Session {
    socket: TcpStream,
    conn: ServerConnection,
    /// Bytes the core produced that the socket did not take yet.
    outgoing: BytesMut,
    /// The process ID given to the client, once ready (for cancel requests).
    process_id: Option<i32>,
    /// Close once `outgoing` is written.
    closing: bool,
    /// A `pg_sleep` being answered: when it is due.
    sleeping_until: Option<Instant>,
    /// When the core next needs to be told the time (the authentication timeout).
    deadline: Option<Duration>,
}

/// What every session shares.
struct Shared {
    setup: std::sync::Arc<SessionSetup>,
    cancels: CancelRegistry,
    next_process_id: i32,
    /// The clock's zero: the core is told the time as a Duration since it.
    epoch: Instant,
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
    // The core keeps each connection's authentication timeout; the loop tells it the
    // time, as a Duration since this epoch, and asks when it next needs to.
    let epoch = Instant::now();
    let mut shared = Shared {
        setup: setup.into(),
        cancels: CancelRegistry::default(),
        next_process_id: 1000,
        epoch,
    };
    let mut sessions: HashMap<Token, Session> = HashMap::new();
    let mut next_token = 1;
    let mut events = Events::with_capacity(1024);

    while !stop.load(Ordering::Acquire) {
        // Wake up for the earliest startup deadline or sleep, and to look at `stop`.
        let now = Instant::now();
        let timeout = sessions
            .values()
            .flat_map(|s| [s.deadline.map(|d| epoch + d), s.sleeping_until])
            .flatten()
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
                    let mut config = ServerConfig::default();
                    config.authentication_timeout = Some(startup_timeout);
                    // The connection derives its salts, nonces and cancel key from this.
                    let mut seed = [0u8; 32];
                    getrandom::getrandom(&mut seed).map_err(io::Error::from)?;
                    shared.next_process_id += 1;
                    let conn = ServerConnection::new(
                        config,
                        shared.setup.clone(),
                        shared.next_process_id,
                        seed,
                    );
                    let mut session = Session {
                        socket,
                        conn,
                        outgoing: BytesMut::new(),
                        process_id: None,
                        closing: false,
                        sleeping_until: None,
                        deadline: None,
                    };
                    // Starts the authentication clock.
                    let started = session.handle_actions(&mut shared);
                    if session.keep(started.map(|()| true)) {
                        sessions.insert(token, session);
                    } else {
                        session.close(&mut shared, &poll);
                    }
                }
                continue;
            }
            let token = event.token();
            let Some(session) = sessions.get_mut(&token) else {
                continue;
            };
            let result = session.on_ready(&mut shared);
            if !session.keep(result) {
                if let Some(mut session) = sessions.remove(&token) {
                    session.close(&mut shared, &poll);
                }
            }
        }

        // Sleeps that are due or were cancelled (a CancelRequest above may have raised a
        // session's flag), and the core's startup deadlines.
        let now = Instant::now();
        let mut over = Vec::new();
        for (token, session) in &mut sessions {
            let mut result = session.wake(now, &mut shared);
            if session.deadline.is_some_and(|d| epoch + d <= now) {
                result = result.and_then(|keep| Ok(keep && session.on_ready(&mut shared)?));
            }
            if !session.keep(result) {
                over.push(*token);
            }
        }
        for token in over {
            if let Some(mut session) = sessions.remove(&token) {
                session.close(&mut shared, &poll);
            }
        }
    }
    Ok(())
}

impl Session {
    /// Handles a readiness event (either direction: a read on a writable event finds
    /// nothing, or resumes after back-pressure). `Ok(false)` when the connection is over.
    ///
    /// Reads one chunk at a time and answers it before reading the next, so that the
    /// output waiting for a client that does not read stays near `MAX_OUTGOING`.
    fn on_ready(&mut self, shared: &mut Shared) -> Result<bool, Error> {
        loop {
            // 1. Feed one read's worth, unless the client has not taken our output or
            // the application is still answering (pipelined input then waits in the
            // socket rather than in memory). Reading resumes from `wake`, or from the
            // writable event that drains `outgoing`.
            let paused = self.closing
                || self.sleeping_until.is_some()
                || self.outgoing.len() >= MAX_OUTGOING;
            let read = if paused {
                ReadOutcome::Empty
            } else {
                read_once(&mut self.socket, |data| self.conn.handle_input(data))?
            };
            // 2. Drain the core's actions. Each answer is queued in `outgoing`.
            self.handle_actions(shared)?;
            // 3. Write what was queued.
            self.flush_output()?;
            match read {
                // Edge-triggered: keep reading until the socket is empty.
                ReadOutcome::Data => {}
                ReadOutcome::Empty
                    if paused
                        && !self.closing
                        && self.sleeping_until.is_none()
                        && self.outgoing.len() < MAX_OUTGOING => {}
                ReadOutcome::Empty => break,
                ReadOutcome::End => {
                    // Reported only now: the same reads may have brought complete
                    // messages before the end (a CancelRequest, then the client
                    // closes), and they were handled above.
                    self.conn.handle_eof();
                    self.handle_actions(shared)?;
                    return Ok(false);
                }
            }
        }
        Ok(!(self.closing && self.outgoing.is_empty()))
    }

    /// Step 2: drains the core's actions, answering each, until it waits for input.
    fn handle_actions(&mut self, shared: &mut Shared) -> Result<(), Error> {
        while !self.closing {
            match self.conn.poll_action(shared.epoch.elapsed()) {
                Action::Transmit(bytes) => self.outgoing.extend_from_slice(&bytes),
                Action::Read { deadline } => {
                    self.deadline = deadline;
                    break;
                }
                // The application's part: a query-level message to answer.
                Action::Handle(event) => match sleep_seconds(&event) {
                    // Answered later by `wake`; meanwhile the core holds pipelined
                    // input back.
                    Some(seconds) => {
                        // A CancelRequest that came while nothing ran is void.
                        self.conn.server().take_cancel_request();
                        self.sleeping_until =
                            Some(Instant::now() + Duration::from_secs_f64(seconds));
                    }
                    None => fixed_answer(self.conn.server(), event)?,
                },
                Action::Registered {
                    process_id,
                    secret_key,
                } => {
                    self.process_id = Some(process_id);
                    // A CancelRequest with this key raises the session's cancel flag.
                    let flag = self.conn.server().cancel_flag();
                    shared.cancels.register(process_id, secret_key, flag);
                }
                Action::Cancel(token) => {
                    shared.cancels.cancel(&token);
                }
                Action::Close => {
                    self.closing = true;
                    if let Some(e) = self.conn.server().error_state() {
                        return Err(e.clone().into());
                    }
                }
                // `setup.tls_available` is false: SSLRequest is refused by the core.
                Action::StartTls { .. } => return Err(Error::TlsNotConfigured),
                // This server makes no handler per user.
                _ => {}
            }
        }
        Ok(())
    }

    /// Answers a sleep that is due, or cancelled, then handles the input that waited.
    fn wake(&mut self, now: Instant, shared: &mut Shared) -> Result<bool, Error> {
        let Some(until) = self.sleeping_until else {
            return Ok(true);
        };
        let server = self.conn.server();
        if server.take_cancel_request() {
            // The error ends the simple query (ReadyForQuery follows).
            server.error(&DbError::new(
                Severity::Error,
                SqlState::QueryCanceled,
                "canceling statement due to user request",
            ))?;
        } else if until <= now {
            // What PostgreSQL answers: one row, one void column.
            const VOID: u32 = 2278;
            server.row_description(&[Column::new("pg_sleep", VOID, 4)])?;
            server.data_row(&[Some(b"")])?;
            server.command_complete("SELECT 1")?;
            server.ready_for_query()?;
        } else {
            return Ok(true);
        }
        self.sleeping_until = None;
        self.on_ready(shared)
    }

    /// Whether the connection goes on after `result`. After a fatal error the core may
    /// have queued the ErrorResponse the client gets: send what the socket takes.
    fn keep(&mut self, result: Result<bool, Error>) -> bool {
        match result {
            Ok(keep) => keep,
            Err(e) => {
                self.flush_output().ok();
                if !matches!(e, Error::Protocol(pgproto_core::Error::Closed)) {
                    eprintln!("connection closed: {e}");
                }
                false
            }
        }
    }

    /// Writes as much of `outgoing` as the socket takes.
    fn flush_output(&mut self) -> io::Result<()> {
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

/// The seconds of a `select pg_sleep(SECONDS)` simple query.
fn sleep_seconds(event: &ServerEvent) -> Option<f64> {
    let ServerEvent::Query { sql } = event else {
        return None;
    };
    let seconds = sql
        .trim()
        .trim_end_matches(';')
        .trim_end()
        .strip_prefix("select pg_sleep(")?
        .strip_suffix(')')?;
    seconds
        .trim()
        .parse()
        .ok()
        .filter(|s: &f64| (0.0..=3600.0).contains(s))
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
