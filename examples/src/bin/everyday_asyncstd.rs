//! Everyday use of the futures-io client (here on async-std; smol works the same):
//! connect, create a table, insert with parameters, read rows into structs, a
//! transaction, COPY in and out, and a connection pool.
//!
//! ```sh
//! cargo run -p pgproto-examples --bin everyday_asyncstd -- "host=localhost user=postgres"
//! ```
//!
//! The connection string comes from the first argument, else `DATABASE_URL`, else the
//! `PG*` environment variables (as libpq). `Person`, the table's row as a struct, is in
//! this crate's `lib.rs`: every adapter returns the same `Row`.

use pgproto_asyncstd::pool::{Manager, Pool};
use pgproto_asyncstd::Client;
use pgproto_examples::{conninfo, BoxError, Person};

async fn people(client: &Client) -> Result<Vec<Person>, BoxError> {
    let rows = client
        .query("select id, name, age from everyday_people order by id", &[])
        .await?;
    Ok(rows
        .iter()
        .map(Person::try_from)
        .collect::<Result<_, _>>()?)
}

/// Runs every step against `conninfo`; returns the table's final contents.
pub(crate) async fn run(conninfo: &str) -> Result<Vec<Person>, BoxError> {
    // Connect, and run the connection's I/O on the executor.
    let (client, connection) = Client::connect(conninfo).await?;
    let connection = async_std::task::spawn(connection);
    println!(
        "connected to PostgreSQL {}",
        client.parameter("server_version").unwrap_or_default()
    );

    // Create a table.
    client
        .simple_query(
            "drop table if exists everyday_people;
             create table everyday_people (id int8 primary key, name text not null, age int4)",
        )
        .await?;

    // Insert with parameters (a NULL is a `None`).
    let insert = client
        .prepare("insert into everyday_people (id, name, age) values ($1, $2, $3)")
        .await?;
    for (id, name, age) in [(1i64, "Ada", Some(36i32)), (2, "Brian", None)] {
        client.query_prepared(&insert, &[&id, &name, &age]).await?;
    }

    // Rows into structs.
    for p in people(&client).await? {
        println!("{p:?}");
    }

    // A transaction: committed, and one rolled back (dropping it also rolls back).
    let tx = client.transaction().await?;
    tx.execute(
        "insert into everyday_people values ($1, $2, $3)",
        &[&3i64, &"Carla", &Some(41i32)],
    )
    .await?;
    tx.execute("update everyday_people set age = age + 1 where id = 1", &[])
        .await?;
    tx.commit().await?;
    let tx = client.transaction().await?;
    tx.execute("delete from everyday_people", &[]).await?;
    tx.rollback().await?;

    // COPY in (text format) and out (CSV).
    let mut copy = client
        .copy_in("copy everyday_people (id, name, age) from stdin")
        .await?;
    copy.send("4\tDmitri\t29\n5\tEve\t\\N\n").await?;
    println!("copied in {} rows", copy.finish().await?);
    let mut out = client
        .copy_out("copy (select * from everyday_people order by id) to stdout (format csv, header)")
        .await?;
    while let Some(chunk) = out.next().await {
        print!("{}", String::from_utf8_lossy(&chunk?));
    }

    // A pool: concurrent tasks, each on its own connection. The manager spawns each
    // connection's I/O with the function it is given.
    let manager = Manager::new(conninfo, |connection| {
        async_std::task::spawn(connection);
    });
    let pool = Pool::builder(manager).max_size(4).build()?;
    let mut tasks = Vec::new();
    for id in 1..=5i64 {
        let pool = pool.clone();
        tasks.push(async_std::task::spawn(async move {
            let client = pool.get().await?;
            let row = client
                .query_one("select name from everyday_people where id = $1", &[&id])
                .await?;
            Ok::<String, BoxError>(row.get(0usize)?)
        }));
    }
    for task in tasks {
        println!("from the pool: {}", task.await?);
    }

    let result = people(&client).await?;
    client.simple_query("drop table everyday_people").await?;
    client.close().await?;
    connection.await?;
    Ok(result)
}

fn main() -> Result<(), BoxError> {
    let conninfo = conninfo();
    let people = async_std::task::block_on(run(&conninfo))?;
    println!("{} people", people.len());
    Ok(())
}
