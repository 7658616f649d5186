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
