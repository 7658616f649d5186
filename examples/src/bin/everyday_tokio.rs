//! Everyday use of the tokio client: connect, create a table, insert with parameters,
//! read rows into structs, a transaction, COPY in and out, and a connection pool.
//!
//! ```sh
//! cargo run -p pgproto-examples --bin everyday_tokio -- "host=localhost user=postgres"
//! ```
//!
//! The connection string comes from the first argument, else `DATABASE_URL`, else the
//! `PG*` environment variables (as libpq). The steps between connecting and the pool
//! are the same on every async runtime, so they are written once, in this crate's
//! `src/everyday.rs`; `Person`, the table's row as a struct, is in its `lib.rs`.

use pgproto_examples::everyday::{finish, name, steps};
use pgproto_examples::{conninfo, BoxError, Person};
use pgproto_tokio::pool::deadpool::{Manager, Pool};
use pgproto_tokio::Client;

/// Runs every step against `conninfo`; returns the table's final contents.
pub(crate) async fn run(conninfo: &str) -> Result<Vec<Person>, BoxError> {
    // Connect: the connection runs on a tokio task of its own.
    let client = Client::connect(conninfo).await?;
    println!(
        "connected to PostgreSQL {}",
        client.parameter("server_version").unwrap_or_default()
    );

    // A table, parameters, rows into structs, transactions, COPY in and out.
    steps(&client).await?;

    // A pool: concurrent tasks, each on its own connection.
    let pool = Pool::builder(Manager::new(conninfo)).max_size(4).build()?;
    let mut tasks = Vec::new();
    for id in 1..=5i64 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(
            async move { name(&*pool.get().await?, id).await },
        ));
    }
    for task in tasks {
        println!("from the pool: {}", task.await??);
    }

    let result = finish(&client).await?;
    client.close().await?;
    Ok(result)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let people = run(&conninfo()).await?;
    println!("{} people", people.len());
    Ok(())
}
