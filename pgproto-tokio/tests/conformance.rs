//! The conformance suite (`tests/conformance/`, written once for the three adapters)
//! instantiated for `pgproto-tokio`: every scenario runs on a multi-threaded tokio
//! runtime under a watchdog.

#![allow(unreachable_pub)]

#[macro_use]
#[path = "../../tests/conformance/bind/async_macros.rs"]
mod macros;

#[allow(dead_code)]
mod adapter {
    use std::future::Future;
    use std::time::Duration;

    pub use pgproto_tokio::*;

    /// How long one scenario may take before it fails as hung.
    const LIMIT: Duration = Duration::from_secs(300);

    /// Runs a scenario to completion on a fresh two-worker runtime.
    pub fn run_each<F: Future<Output = ()>>(scenario: impl FnOnce() -> F) {
        let scenario = scenario();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(async { tokio::time::timeout(LIMIT, scenario).await })
            .expect("the scenario timed out");
    }

    /// Connects (the connection task is spawned by the adapter).
    pub async fn connect(conninfo: &str) -> Result<Client, Error> {
        Client::connect(conninfo).await
    }

    /// Runs blocking work off the runtime's workers.
    pub async fn unblock<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
        tokio::task::spawn_blocking(work).await.unwrap()
    }

    /// Sleeps without blocking the runtime.
    pub async fn sleep(duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    /// A cancel request sent from a task of its own after `after`.
    pub fn cancel_later(canceller: Canceller, after: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            Client::cancel_with(&canceller).await.unwrap();
        })
    }

    /// Waits for a task of `cancel_later`.
    pub async fn joined(task: tokio::task::JoinHandle<()>) {
        task.await.unwrap();
    }

    /// Waits for the connection task to end (tokio spawned it: its result is not seen).
    pub async fn connection_ended(client: &mut Client) -> Option<Result<(), Error>> {
        while !client.is_closed() {
            sleep(Duration::from_millis(10)).await;
        }
        None
    }

    /// COPY data to send, copied out of a buffer the scenario reuses.
    pub fn copy_data(data: &[u8]) -> bytes::Bytes {
        bytes::Bytes::copy_from_slice(data)
    }
}

#[path = "../../tests/conformance/mod.rs"]
mod conformance;
