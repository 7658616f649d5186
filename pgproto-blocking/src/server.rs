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

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pgproto_core::adapter::{ServerSessions, SessionAction};
use pgproto_core::server::{Server, ServerEvent, ServerPhase, StartupRequest};

use pgproto_tls::rustls;

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

/// A client connection, plain or TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
    /// Between a plain socket and its TLS session (never seen by I/O).
    Upgrading,
}

impl Stream {
    fn socket(&self) -> std::io::Result<&TcpStream> {
        match self {
            Self::Plain(s) => Ok(s),
            Self::Tls(s) => Ok(&s.sock),
            Self::Upgrading => Err(std::io::ErrorKind::NotConnected.into()),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(s) => s.read(buf),
            Self::Tls(s) => s.read(buf),
            Self::Upgrading => Err(std::io::ErrorKind::NotConnected.into()),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Self::Plain(s) => s.write_all(buf),
            Self::Tls(s) => s.write_all(buf),
            Self::Upgrading => Err(std::io::ErrorKind::NotConnected.into()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Tls(s) => s.flush(),
            _ => Ok(()),
        }
    }

    /// Closes gracefully: close_notify over TLS, then the socket.
    fn shutdown(&mut self) {
        if let Self::Tls(s) = self {
            s.conn.send_close_notify();
            let _ = s.flush();
        }
        if let Ok(s) = self.socket() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Performs the server side of a TLS handshake (the socket's read timeout bounds
    /// it). `prefix` holds the bytes of a direct-TLS ClientHello the core already read.
    fn accept_tls(
        &mut self,
        tls: &ServerTls,
        prefix: &[u8],
        direct: bool,
    ) -> Result<Option<Vec<u8>>, Error> {
        let Self::Plain(mut sock) = std::mem::replace(self, Self::Upgrading) else {
            return Err(Error::Tls("TLS started twice".into()));
        };
        let tls_error = |e: &dyn std::fmt::Display| Error::Tls(e.to_string());
        let mut conn = rustls::ServerConnection::new(tls.config()).map_err(|e| tls_error(&e))?;
        let mut prefix = prefix;
        while !prefix.is_empty() {
            conn.read_tls(&mut prefix).map_err(|e| tls_error(&e))?;
            conn.process_new_packets().map_err(|e| tls_error(&e))?;
        }
        while conn.is_handshaking() {
            conn.complete_io(&mut sock).map_err(|e| tls_error(&e))?;
        }
        let channel_binding = tls.established(direct, conn.alpn_protocol())?;
        *self = Self::Tls(Box::new(rustls::StreamOwned::new(conn, sock)));
        Ok(channel_binding)
    }
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
    let mut stream = Stream::Plain(stream);
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
                        let cb = stream.accept_tls(tls, &prefix, direct)?;
                        server.handle_tls_established(cb)?;
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
