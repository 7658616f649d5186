//! What the pgproto-sqlite tests share: a server in the test's own process.

// Each test crate compiles this module and uses part of it.
#![allow(dead_code)]

use pgproto_core::server::{AuthKind, ServerAuth};
use pgproto_sqlite::Database;
use pgproto_tokio::server::{serve_until, ServerOptions};
use tokio::sync::watch;

/// pgproto-sqlite serving a database on a free loopback port, with trust authentication.
pub(crate) struct Served {
    pub(crate) port: u16,
    /// Setting it, or dropping it, stops accepting; the task then ends with the sessions.
    pub(crate) stop: watch::Sender<bool>,
    pub(crate) task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Serves `db` until the returned [`Served::stop`] is set or dropped.
pub(crate) async fn serve(db: Database) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(serve_until(
        listener,
        ServerOptions::new(ServerAuth::new(AuthKind::Trust, b"mock secret for tests")),
        move |startup| db.session(startup),
        rx,
    ));
    Served { port, stop, task }
}

/// Serves a new in-memory database (see [`serve`]).
pub(crate) async fn serve_memory() -> Served {
    serve(Database::open(None).unwrap()).await
}
