//! What pgproto's examples share. The examples are the programs in `src/bin/`:
//!
//! | program | what it shows |
//! |---|---|
//! | `everyday_tokio`, `everyday_asyncstd`, `everyday_blocking` | a day's work with each adapter's client: a table, parameters, rows into structs, a transaction, COPY in and out, a pool (the async ones share their steps: [`everyday`]) |
//! | `fixed_server` | a server on each adapter (`tokio`, `asyncstd`, `blocking`) that answers every query with 1 |
//!
//! ```sh
//! cargo run -p pgproto-examples --bin everyday_tokio -- "host=localhost user=postgres"
//! cargo run --release -p pgproto-examples --bin fixed_server -- tokio --listen 127.0.0.1:5433
//! ```
//!
//! This crate's tests run each of them.

use pgproto_core::client::Row;

pub mod everyday;

/// An error of any kind, for `?` in the examples.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A row of the `everyday` examples' table: every adapter returns the same [`Row`] type,
/// so one conversion serves them all.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    /// `id int8 primary key`.
    pub id: i64,
    /// `name text not null`.
    pub name: String,
    /// `age int4`, nullable: a NULL is `None`.
    pub age: Option<i32>,
}

impl TryFrom<&Row> for Person {
    type Error = pgproto_core::Error;

    fn try_from(row: &Row) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.get("id")?,
            name: row.get("name")?,
            age: row.get("age")?,
        })
    }
}

/// The connection string: the first argument, else `DATABASE_URL`, else empty (then the
/// `PG*` environment variables apply, as in libpq).
pub fn conninfo() -> String {
    std::env::args()
        .nth(1)
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .unwrap_or_default()
}
