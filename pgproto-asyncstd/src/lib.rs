//! # pgproto-asyncstd
//!
//! The async-std and smol (through the futures-io traits) adapter of pgproto: it will move bytes between sockets and the sans-IO
//! [`pgproto_core`] state machines, and make no protocol decision of its own.
//!
//! This crate is a skeleton for now: the client and server APIs arrive with the client-role
//! and server-role work. Until then it re-exports the core, whose codec is complete.
#![forbid(unsafe_code)]

pub use pgproto_core as core;
