//! The steps of the async `everyday` examples, written once: the tokio client and the
//! async-std / smol client are both the driver's [`Client<R>`](pgproto_driver::Client),
//! `R` being the runtime, so the same code runs on either. Only connecting (who runs the
//! connection) and the pool differ: see `src/bin/everyday_tokio.rs` and
//! `src/bin/everyday_asyncstd.rs`.

use pgproto_driver::{Client, Runtime};

use crate::{BoxError, Person};

/// Creates the table, inserts with parameters, reads rows into structs, commits a
/// transaction and rolls one back, and copies rows in (text) and out (CSV).
pub async fn steps<R: Runtime>(client: &Client<R>) -> Result<(), BoxError> {
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
    for p in people(client).await? {
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
    Ok(())
}

/// The table's rows, as structs.
pub async fn people<R: Runtime>(client: &Client<R>) -> Result<Vec<Person>, BoxError> {
    let rows = client
        .query("select id, name, age from everyday_people order by id", &[])
        .await?;
    Ok(rows
        .iter()
        .map(Person::try_from)
        .collect::<Result<_, _>>()?)
}

/// The name of person `id`: what each pooled task asks.
pub async fn name<R: Runtime>(client: &Client<R>, id: i64) -> Result<String, BoxError> {
    let row = client
        .query_one("select name from everyday_people where id = $1", &[&id])
        .await?;
    Ok(row.get(0usize)?)
}

/// The table's final contents; then the table is dropped.
pub async fn finish<R: Runtime>(client: &Client<R>) -> Result<Vec<Person>, BoxError> {
    let result = people(client).await?;
    client.simple_query("drop table everyday_people").await?;
    Ok(result)
}
