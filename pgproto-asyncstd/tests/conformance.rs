//! The conformance suite (`tests/conformance/`, written once for the three adapters)
//! instantiated for `pgproto-asyncstd`: every scenario runs once under async-std and
//! once under smol, each under a watchdog.

#![allow(unreachable_pub)]

mod common;

#[macro_use]
#[path = "../../tests/conformance/bind/async_macros.rs"]
mod macros;

#[allow(dead_code)]
mod adapter {
    use std::cell::Cell;
    use std::future::Future;
    use std::ops::{Deref, DerefMut};
    use std::time::Duration;

    pub use pgproto_asyncstd::*;

    use crate::common::{Exec, Spawned};

    /// How long one scenario may take before it fails as hung.
    const LIMIT: Duration = Duration::from_secs(300);

    thread_local! {
        static EXEC: Cell<Exec> = const { Cell::new(Exec::AsyncStd) };
    }

    /// The executor the running scenario is on.
    pub fn exec() -> Exec {
        EXEC.with(Cell::get)
    }

    /// Runs a scenario to completion under async-std, then again under smol.
    pub fn run_each<F: Future<Output = ()>>(scenario: impl Fn() -> F) {
        for exec in crate::common::BOTH {
            EXEC.with(|e| e.set(exec));
            exec.block_on(LIMIT, scenario());
        }
    }

    /// The adapter's client with its spawned connection: `close` also waits for the
    /// connection to finish and returns its result.
    pub struct Client {
        inner: pgproto_asyncstd::Client,
        connection: Option<Spawned>,
    }

    impl Client {
        /// Closes the client, then waits for its connection's result.
        pub async fn close(self) -> Result<(), Error> {
            self.inner.close().await?;
            match self.connection {
                Some(connection) => connection.await,
                None => Ok(()),
            }
        }
    }

    /// Waits for the connection to end; its result (`None` if it was seen before).
    pub async fn connection_ended(client: &mut Client) -> Option<Result<(), Error>> {
        Some(client.connection.take()?.await)
    }

    impl std::fmt::Debug for Client {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.inner.fmt(f)
        }
    }

    impl Deref for Client {
        type Target = pgproto_asyncstd::Client;
        fn deref(&self) -> &Self::Target {
            &self.inner
        }
    }

    impl DerefMut for Client {
        fn deref_mut(&mut self) -> &mut Self::Target {
            &mut self.inner
        }
    }

    /// Connects and spawns the connection on the scenario's executor.
    pub async fn connect(conninfo: &str) -> Result<Client, Error> {
        let (inner, connection) = exec().connect(conninfo).await?;
        Ok(Client {
            inner,
            connection: Some(connection),
        })
    }

    /// Runs blocking work off the executor.
    pub async fn unblock<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
        blocking_thread(work).await
    }

    async fn blocking_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = async_channel::bounded(1);
        std::thread::spawn(move || {
            let _ = tx.send_blocking(work());
        });
        rx.recv().await.expect("the blocking work panicked")
    }

    /// Sleeps without blocking the executor.
    pub async fn sleep(duration: Duration) {
        async_io::Timer::after(duration).await;
    }

    /// A cancel request sent from a task of its own after `after`.
    pub fn cancel_later(
        canceller: Canceller,
        after: Duration,
    ) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
        exec().spawn_any(async move {
            async_io::Timer::after(after).await;
            pgproto_asyncstd::Client::cancel_with(&canceller)
                .await
                .unwrap();
        })
    }

    /// Waits for a task of `cancel_later`.
    pub async fn joined(task: std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) {
        task.await;
    }

    /// COPY data to send, copied out of a buffer the scenario reuses.
    pub fn copy_data(data: &[u8]) -> bytes::Bytes {
        bytes::Bytes::copy_from_slice(data)
    }
}

#[path = "../../tests/conformance/mod.rs"]
mod conformance;
