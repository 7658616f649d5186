//! Serving PostgreSQL clients with blocking I/O: one thread per connection, an
//! application [`Handler`] per connection. Each thread runs the driver's serve loop
//! ([`pgproto_driver::server`]) to completion on the blocking runtime (plain
//! `std::net` reads and writes).
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

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pgproto_core::adapter::ServerSessions;
use pgproto_core::server::{Server, ServerEvent};

use crate::runtime::{accepted, run};
use crate::Error;

pub use pgproto_driver::server::{MakeHandler, ServerOptions, ServerTls};

/// The application's side of one connection: receives every query-level event and
/// answers through the [`Server`] commands.
pub trait Handler: Send + 'static {
    /// Handles one event. Returning an error closes the connection.
    fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error>;
}

/// A blocking [`Handler`] as the driver's.
struct Blocking<H>(H);

impl<H: Handler> pgproto_driver::server::Handler for Blocking<H> {
    async fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error> {
        self.0.handle(server, event)
    }
}

/// Accepts connections until `shutdown` is set (checked between connections; the
/// listener should be non-blocking or woken by a connection), one thread each.
pub fn serve_until<H: Handler>(
    listener: TcpListener,
    options: ServerOptions,
    make_handler: impl MakeHandler<H>,
    shutdown: Arc<AtomicBool>,
) -> std::io::Result<()> {
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
            let serve = pgproto_driver::server::serve_connection::<crate::runtime::Blocking, _, _>(
                accepted(stream),
                &options,
                &sessions,
                |s| Blocking(make_handler(s)),
            );
            let _ = run(serve, |_| {});
        }));
        threads.retain(|t| !t.is_finished());
    }
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

/// Accepts connections forever.
pub fn serve<H: Handler>(
    listener: TcpListener,
    options: ServerOptions,
    make_handler: impl MakeHandler<H>,
) -> std::io::Result<()> {
    let never = Arc::new(AtomicBool::new(false));
    serve_until(listener, options, make_handler, never)
}
