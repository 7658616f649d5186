//! Serving PostgreSQL clients with blocking I/O: one thread per connection, an
//! application [`Handler`] per connection.
//!
//! ```no_run
//! use pgproto_core::server::{AuthKind, Server, ServerAuth, ServerEvent};
//! use pgproto_blocking::server::{serve, Handler, ServerOptions};
//!
//! struct Fixed;
//! impl Handler for Fixed {
//!     fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), pgproto_blocking::Error> {
//!         Ok(pgproto_core::testing::fixed_answer(server, event)?)
//!     }
//! }
//! let listener = std::net::TcpListener::bind("127.0.0.1:5433")?;
//! serve(listener, ServerOptions::new(ServerAuth::new(AuthKind::Trust, b"secret")), |_| Fixed)?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! TLS ([`ServerOptions::with_tls`]) is offered both ways PostgreSQL offers it: after an
//! SSLRequest, and as direct TLS (PostgreSQL 17+, `sslnegotiation=direct`), which must
//! negotiate ALPN `postgresql`. The handshake counts against the startup timeout.

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pgproto_core::adapter::{ServerSessions, SessionAction};
use pgproto_core::server::{Server, ServerEvent, ServerPhase, StartupRequest};

use crate::io::Stream;
use crate::Error;

/// The application's side of one connection: receives every query-level event and
/// answers through the [`Server`] commands.
pub trait Handler: Send + 'static {
    /// Handles one event. Returning an error closes the connection.
    fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error>;
}

pub use pgproto_tls::{ServerOptions, ServerTls};

/// Accepts connections until `shutdown` is set (checked between connections; the
/// listener should be non-blocking or woken by a connection), one thread each.
pub fn serve_until<F, H>(
    listener: TcpListener,
    options: ServerOptions,
    make_handler: F,
    shutdown: Arc<AtomicBool>,
) -> std::io::Result<()>
where
    F: Fn(&StartupRequest) -> H + Send + Sync + 'static,
    H: Handler,
{
    let make_handler = Arc::new(make_handler);
    let sessions = ServerSessions::default();
    let mut threads = Vec::new();
    for stream in listener.incoming() {
        if shutdown.load(Ordering::Acquire) {
            break;
        }
        let Ok(stream) = stream else {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (options, make_handler, sessions) =
            (options.clone(), make_handler.clone(), sessions.clone());
        threads.push(std::thread::spawn(move || {
            let _ = serve_connection(stream, &options, &sessions, |s| make_handler(s));
        }));
        threads.retain(|t| !t.is_finished());
    }
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

/// Accepts connections forever.
pub fn serve<F, H>(
    listener: TcpListener,
    options: ServerOptions,
    make_handler: F,
) -> std::io::Result<()>
where
    F: Fn(&StartupRequest) -> H + Send + Sync + 'static,
    H: Handler,
{
    serve_until(
        listener,
        options,
        make_handler,
        Arc::new(AtomicBool::new(false)),
    )
}

fn random() -> Result<[u8; 32], Error> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).map_err(|e| Error::Io(e.into()))?;
    Ok(b)
}

fn write_out(stream: &mut Stream, server: &mut Server) -> Result<(), Error> {
    let mut wrote = false;
    while let Some(bytes) = server.poll_transmit() {
        stream.write_all(&bytes)?;
        wrote = true;
    }
    if wrote {
        stream.flush()?;
    }
    Ok(())
}

/// Bounds the next reads by the startup deadline, or lifts the bound once ready.
fn set_deadline(stream: &Stream, deadline: Option<Instant>) -> Result<(), Error> {
    let timeout = match deadline {
        None => None,
        Some(deadline) => {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Io(std::io::ErrorKind::TimedOut.into()));
            }
            Some(left)
        }
    };
    stream.socket()?.set_read_timeout(timeout)?;
    Ok(())
}

fn serve_connection<F, H>(
    stream: TcpStream,
    options: &ServerOptions,
    sessions: &ServerSessions,
    make_handler: F,
) -> Result<(), Error>
where
    F: FnOnce(&StartupRequest) -> H,
    H: Handler,
{
    let mut stream = Stream::Tcp(stream);
    let mut server = Server::new(options.config.clone());
    let mut buf = vec![0u8; pgproto_core::server::READ_BUFFER_SIZE];
    let deadline = Instant::now() + options.startup_timeout;
    let mut session = sessions.connection(make_handler);
    let result = (|| -> Result<(), Error> {
        loop {
            while let Some(event) = server.poll_event()? {
                match session.step(&options.setup, &mut server, event, random)? {
                    SessionAction::Continue => {}
                    SessionAction::Handle(handler, event) => handler.handle(&mut server, event)?,
                    SessionAction::StartTls { direct } => {
                        let tls = options
                            .tls()
                            .ok_or(Error::Unsupported("TLS is not configured"))?;
                        // The 'S' (none for direct TLS) goes out before the handshake.
                        write_out(&mut stream, &mut server)?;
                        let prefix = if direct {
                            server.take_buffered_input()
                        } else {
                            bytes::Bytes::new()
                        };
                        set_deadline(&stream, Some(deadline))?;
                        let alpn = stream.accept_tls(tls.config(), &prefix)?;
                        server.handle_tls_established(tls.established(direct, alpn.as_deref())?)?;
                        continue;
                    }
                    SessionAction::Close => return write_out(&mut stream, &mut server),
                }
                if server.should_flush() {
                    write_out(&mut stream, &mut server)?;
                }
            }
            write_out(&mut stream, &mut server)?;
            if server.error_state().is_some() {
                return Ok(());
            }
            // PostgreSQL closes silently when authentication_timeout expires.
            set_deadline(
                &stream,
                (server.phase() != ServerPhase::Ready).then_some(deadline),
            )?;
            let n = stream.read(&mut buf)?;
            match buf.get(..n) {
                Some(data) if n > 0 => server.handle_input(data),
                _ => {
                    server.handle_eof();
                    return Ok(());
                }
            }
        }
    })();
    let _ = write_out(&mut stream, &mut server);
    stream.shutdown();
    drop(session);
    result
}
