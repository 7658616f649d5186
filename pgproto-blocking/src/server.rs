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

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pgproto_core::cancel::CancelRegistry;
use pgproto_core::server::{
    Server, ServerAuth, ServerConfig, ServerEvent, ServerPhase, SessionSetup, StartupRequest, Step,
};

use crate::Error;

/// The application's side of one connection: receives every query-level event and
/// answers through the [`Server`] commands.
pub trait Handler: Send + 'static {
    /// Handles one event. Returning an error closes the connection.
    fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error>;
}

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Authentication, startup parameters, TLS availability.
    pub setup: Arc<SessionSetup>,
    /// Framing limits and other core settings.
    pub config: ServerConfig,
    /// Time allowed for startup and authentication (default 60 s).
    pub startup_timeout: Duration,
}

impl ServerOptions {
    /// Options with `auth` and the defaults.
    pub fn new(auth: ServerAuth) -> Self {
        Self {
            setup: Arc::new(SessionSetup::new(auth)),
            config: ServerConfig::default(),
            startup_timeout: Duration::from_secs(60),
        }
    }
}

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
    let cancels = CancelRegistry::default();
    let next_pid = Arc::new(AtomicI32::new(1000));
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
        let (options, make_handler, cancels, next_pid) = (
            options.clone(),
            make_handler.clone(),
            cancels.clone(),
            next_pid.clone(),
        );
        threads.push(std::thread::spawn(move || {
            let _ = serve_connection(stream, &options, &cancels, &next_pid, |s| make_handler(s));
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

fn write_out(stream: &mut TcpStream, server: &mut Server) -> Result<(), Error> {
    while let Some(bytes) = server.poll_transmit() {
        stream.write_all(&bytes)?;
    }
    Ok(())
}

fn serve_connection<F, H>(
    mut stream: TcpStream,
    options: &ServerOptions,
    cancels: &CancelRegistry,
    next_pid: &AtomicI32,
    make_handler: F,
) -> Result<(), Error>
where
    F: FnOnce(&StartupRequest) -> H,
    H: Handler,
{
    let mut server = Server::new(options.config.clone());
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + options.startup_timeout;
    let mut make_handler = Some(make_handler);
    let mut handler: Option<H> = None;
    let mut session = None;
    let result = (|| -> Result<(), Error> {
        loop {
            while let Some(event) = server.poll_event()? {
                let step = options.setup.step(&mut server, event, &random()?, || {
                    next_pid.fetch_add(1, Ordering::Relaxed)
                })?;
                match step {
                    Step::Continue => {}
                    Step::Handle(event) => match handler.as_mut() {
                        Some(h) => h.handle(&mut server, event)?,
                        None => return Err(Error::Unsupported("query before startup")),
                    },
                    Step::StartTls { .. } => {
                        return Err(Error::Unsupported("TLS is not configured"))
                    }
                    Step::Cancel(token) => {
                        cancels.cancel(&token);
                        return Ok(());
                    }
                    Step::Startup(request) => {
                        if let Some(make) = make_handler.take() {
                            handler = Some(make(&request));
                        }
                    }
                    Step::Ready {
                        process_id,
                        secret_key,
                    } => {
                        cancels.register(process_id, secret_key, server.cancel_flag());
                        session = Some(process_id);
                    }
                    Step::Close => return write_out(&mut stream, &mut server),
                }
                if server.should_flush() {
                    write_out(&mut stream, &mut server)?;
                }
            }
            write_out(&mut stream, &mut server)?;
            if server.error_state().is_some() {
                return Ok(());
            }
            if server.phase() != ServerPhase::Ready {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Error::Io(std::io::ErrorKind::TimedOut.into()));
                }
                stream.set_read_timeout(Some(left))?;
            } else {
                stream.set_read_timeout(None)?;
            }
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
    let _ = stream.shutdown(std::net::Shutdown::Both);
    if let Some(pid) = session {
        cancels.unregister(pid);
    }
    result
}
