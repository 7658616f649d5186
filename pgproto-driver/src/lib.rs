//! # pgproto-driver
//!
//! The one async PostgreSQL driver behind pgproto's runtime adapters: a client
//! ([`Client`] and its [`Connection`] future) and a server loop ([`server`]), written once
//! over the `futures-io` traits and generic over a small [`Runtime`] trait (connect a
//! TCP or Unix socket, sleep until a deadline). `pgproto-tokio` and `pgproto-asyncstd`
//! implement the trait and re-export this API under their names; `pgproto-blocking`
//! shares the parts without I/O ([`connect`]).
//!
//! Use an adapter rather than this crate, unless you bring your own runtime: implement
//! [`Runtime`] on a unit type and call `Client::<YourRuntime>::connect`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
pub mod connect;
pub mod runtime;
pub mod server;

pub use client::{Client, Connection, CopyIn, CopyOut, RowStream, Transaction};
pub use connect::Canceller;
pub use pgproto_core as core;
pub use pgproto_core::adapter::{CopyDirection, Error};
pub use pgproto_core::client::{Column, Notification, ResultSet, Row, Statement};
pub use pgproto_core::client::{IsolationLevel, TransactionOptions};
pub use pgproto_core::db_error::DbError;
pub use pgproto_core::types::{FromSql, ToSql};
pub use runtime::{BoxStream, Runtime, Stream};

/// The API an adapter crate re-exports from the driver, written once: the driver's
/// types, and for an async adapter (`runtime = Type`) `Client`, `Transaction` and
/// `CopyIn` on its runtime, `Client`'s documentation saying how its connection runs.
/// `pgproto-blocking`, which wraps the client, takes only the types (no argument).
#[macro_export]
macro_rules! reexport {
    () => {
        pub use $crate::core;
        pub use $crate::{Canceller, Error};
        pub use $crate::{Column, Notification, ResultSet, Row, Statement};
        pub use $crate::{DbError, FromSql, IsolationLevel, ToSql, TransactionOptions};
    };
    (runtime = $runtime:ty, client = $doc:literal) => {
        $crate::reexport!();
        pub use $crate::{CopyOut, RowStream};

        #[doc = "An async connection to PostgreSQL (the driver's client on this runtime): share"]
        #[doc = "it by reference across tasks; concurrent calls are pipelined on the one"]
        #[doc = concat!("connection. ", $doc)]
        pub type Client = $crate::Client<$runtime>;
        /// A transaction (or, nested, a savepoint) on a [`Client`]; see
        /// [`pgproto_driver::Transaction`].
        pub type Transaction<'a> = $crate::Transaction<'a, $runtime>;
        /// An open `COPY FROM STDIN`; see [`pgproto_driver::CopyIn`].
        pub type CopyIn<'a> = $crate::CopyIn<'a, $runtime>;

        #[cfg(test)]
        mod reexport_tests {
            /// The handle is shared across tasks and threads; the connection (spawned by
            /// the adapter or by the caller) moves to another task.
            #[test]
            fn client_is_send_and_sync_connection_is_send() {
                fn send_sync<T: Send + Sync>() {}
                fn send<T: Send + 'static>() {}
                send_sync::<super::Client>();
                send::<$crate::Connection>();
            }
        }
    };
}
