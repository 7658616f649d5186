//! The conformance suite (`tests/conformance/`, written once for the three adapters)
//! instantiated for `pgproto-blocking`: every scenario runs on the test's own thread.

#![allow(unreachable_pub)]

#[macro_use]
#[path = "../../tests/conformance/bind/blocking_macros.rs"]
mod macros;

#[allow(dead_code)]
mod adapter {
    use std::time::Duration;

    pub use pgproto_blocking::*;

    /// Connects.
    pub fn connect(conninfo: &str) -> Result<Client, Error> {
        Client::connect(conninfo)
    }

    /// Runs blocking work (here, right away).
    pub fn unblock<T>(work: impl FnOnce() -> T) -> T {
        work()
    }

    /// Sleeps.
    pub fn sleep(duration: Duration) {
        std::thread::sleep(duration);
    }

    /// A cancel request sent from a thread of its own after `after`.
    pub fn cancel_later(canceller: Canceller, after: Duration) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            std::thread::sleep(after);
            Client::cancel_with(&canceller).unwrap();
        })
    }

    /// Waits for a thread of `cancel_later`.
    pub fn joined(thread: std::thread::JoinHandle<()>) {
        thread.join().unwrap();
    }

    /// COPY data to send (the blocking client borrows it).
    pub fn copy_data(data: &[u8]) -> &[u8] {
        data
    }
}

#[path = "../../tests/conformance/mod.rs"]
mod conformance;
