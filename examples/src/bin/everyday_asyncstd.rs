//! Everyday use of the futures-io client (here on async-std; smol works the same):
//! connect, create a table, insert with parameters, read rows into structs, a
//! transaction, COPY in and out, and a connection pool.
//!
//! ```sh
//! cargo run -p pgproto-examples --bin everyday_asyncstd -- "host=localhost user=postgres"
//! ```
//!
//! The connection string comes from the first argument, else `DATABASE_URL`, else the
//! `PG*` environment variables (as libpq). The steps between connecting and the pool
//! are the same on every async runtime, so they are written once, in this crate's
//! `src/everyday.rs`; `Person`, the table's row as a struct, is in its `lib.rs`.

use pgproto_asyncstd::pool::{Manager, Pool};
use pgproto_asyncstd::Client;
use pgproto_examples::everyday::{finish, name, steps};
use pgproto_examples::{conninfo, BoxError, Person};

/// Runs every step against `conninfo`; returns the table's final contents.
pub(crate) async fn run(conninfo: &str) -> Result<Vec<Person>, BoxError> {
    // Connect, and run the connection's I/O on the executor (no executor is assumed:
    // with smol, `smol::spawn(connection)`).
    let (client, connection) = Client::connect(conninfo).await?;
    let connection = async_std::task::spawn(connection);
    println!(
        "connected to PostgreSQL {}",
        client.parameter("server_version").unwrap_or_default()
    );

    // A table, parameters, rows into structs, transactions, COPY in and out.
    steps(&client).await?;

    // A pool: concurrent tasks, each on its own connection. The manager spawns each
    // connection's I/O with the function it is given.
    let manager = Manager::new(conninfo, |connection| {
        async_std::task::spawn(connection);
    });
    let pool = Pool::builder(manager).max_size(4).build()?;
    let tasks: Vec<_> = (1..=5i64)
        .map(|id| {
            let pool = pool.clone();
            async_std::task::spawn(async move { name(&*pool.get().await?, id).await })
        })
        .collect();
    for task in tasks {
        println!("from the pool: {}", task.await?);
    }

    let result = finish(&client).await?;
    client.close().await?;
    connection.await?;
    Ok(result)
}

fn main() -> Result<(), BoxError> {
    let people = async_std::task::block_on(run(&conninfo()))?;
    println!("{} people", people.len());
    Ok(())
}
