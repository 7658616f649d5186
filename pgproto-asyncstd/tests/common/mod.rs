//! What the asyncstd integration tests share: running on either executor.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use pgproto_asyncstd::{Client, Connection, Error};

/// The executors every test runs under.
#[derive(Debug, Clone, Copy)]
pub enum Exec {
    AsyncStd,
    Smol,
}

pub const BOTH: [Exec; 2] = [Exec::AsyncStd, Exec::Smol];

pub type Spawned = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

impl Exec {
    /// Runs `future` to completion; a test that takes longer than `limit` fails instead
    /// of hanging (a deadlocked connection, a lost wakeup).
    pub fn block_on<T>(self, limit: Duration, future: impl Future<Output = T>) -> T {
        let watchdog = async move {
            async_io::Timer::after(limit).await;
            panic!("{self:?}: timed out after {limit:?}");
        };
        let future = futures_lite::future::or(future, watchdog);
        match self {
            Self::AsyncStd => async_std::task::block_on(future),
            Self::Smol => smol::block_on(future),
        }
    }

    /// Spawns the connection on the executor's pool; the handle resolves to its result.
    pub fn spawn(self, connection: Connection) -> Spawned {
        match self {
            Self::AsyncStd => Box::pin(async_std::task::spawn(connection)),
            Self::Smol => Box::pin(smol::spawn(connection)),
        }
    }

    /// Spawns the connection and lets it run on its own (a dropped smol task is
    /// cancelled; a detached one is not).
    pub fn spawn_detached(self, connection: Connection) {
        match self {
            Self::AsyncStd => drop(async_std::task::spawn(connection)),
            Self::Smol => smol::spawn(connection).detach(),
        }
    }

    /// Spawns any future on the executor's pool.
    pub fn spawn_any<T: Send + 'static>(
        self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Pin<Box<dyn Future<Output = T> + Send>> {
        match self {
            Self::AsyncStd => Box::pin(async_std::task::spawn(future)),
            Self::Smol => Box::pin(smol::spawn(future)),
        }
    }

    /// Connects and spawns the connection.
    pub async fn connect(self, conninfo: &str) -> Result<(Client, Spawned), Error> {
        let (client, connection) = Client::connect(conninfo).await?;
        Ok((client, self.spawn(connection)))
    }
}
