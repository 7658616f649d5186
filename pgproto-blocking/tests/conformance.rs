//! The conformance suite (`tests/conformance/`, written once for the three adapters)
//! instantiated for `pgproto-blocking`: every scenario runs on the test's own thread.

#![allow(unreachable_pub)]

#[allow(dead_code)]
#[path = "../examples/everyday.rs"]
mod everyday_example;

macro_rules! maybe_async {
    ($(#[$m:meta])* fn $($rest:tt)*) => { $(#[$m])* fn $($rest)* };
}

macro_rules! aw {
    ($e:expr) => {
        $e
    };
}

macro_rules! conformance_test {
    ($(#[$m:meta])* fn $name:ident() $body:block) => {
        $(#[$m])*
        #[test]
        fn $name() $body
    };
}

#[allow(dead_code)]
mod adapter {
    use std::time::Duration;

    pub(crate) use crate::everyday_example as everyday;
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
}

#[path = "../../tests/conformance/mod.rs"]
mod conformance;
