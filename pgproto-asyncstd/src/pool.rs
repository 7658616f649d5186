//! A `deadpool` connection manager (feature `deadpool`), for any executor.
//!
//! deadpool's managed pool needs no runtime of its own (timeouts aside), and the
//! [`Connection`] half of each client is handed to a spawn function you give, so the
//! same manager serves async-std, smol or any other executor.
//!
//! A connection is checked when it is handed out again: a closed one is discarded at
//! once, an open one must answer an empty simple query.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use pgproto_asyncstd::pool::{Manager, Pool};
//! let manager = Manager::new("host=localhost user=postgres", |connection| {
//!     async_std::task::spawn(connection);
//! });
//! let pool = Pool::builder(manager).max_size(16).build()?;
//! let client = pool.get().await?;
//! client.simple_query("select 1").await?;
//! # Ok(()) }
//! ```

use std::sync::Arc;

use deadpool::managed::{Metrics, RecycleError, RecycleResult};

use crate::{Client, Connection, Error};

/// A pool of [`Client`]s.
pub type Pool = deadpool::managed::Pool<Manager>;
/// A [`Client`] checked out of a [`Pool`] (dereferences to it).
pub type Object = deadpool::managed::Object<Manager>;

/// Runs a new client's [`Connection`] on the caller's executor.
type Spawn = Arc<dyn Fn(Connection) + Send + Sync>;

/// Creates connections from a conninfo string, spawns their I/O with the given
/// function, and checks them on recycle.
#[derive(Clone)]
pub struct Manager {
    conninfo: String,
    spawn: Spawn,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("conninfo", &self.conninfo)
            .finish_non_exhaustive()
    }
}

impl Manager {
    /// A manager connecting with `conninfo` (URL or `key=value`, completed by the `PG*`
    /// environment as [`Client::connect`]); `spawn` runs each new [`Connection`]
    /// (`|c| { async_std::task::spawn(c); }`, `|c| smol::spawn(c).detach()`).
    pub fn new(
        conninfo: impl Into<String>,
        spawn: impl Fn(Connection) + Send + Sync + 'static,
    ) -> Self {
        Self {
            conninfo: conninfo.into(),
            spawn: Arc::new(spawn),
        }
    }
}

impl deadpool::managed::Manager for Manager {
    type Type = Client;
    type Error = Error;

    async fn create(&self) -> Result<Client, Error> {
        let (client, connection) = Client::connect(&self.conninfo).await?;
        (self.spawn)(connection);
        Ok(client)
    }

    async fn recycle(&self, client: &mut Client, _: &Metrics) -> RecycleResult<Error> {
        if client.is_closed() {
            return Err(RecycleError::Backend(Error::ConnectionClosed));
        }
        client
            .simple_query("")
            .await
            .map(drop)
            .map_err(RecycleError::Backend)
    }
}
