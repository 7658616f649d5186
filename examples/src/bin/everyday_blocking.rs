//! Everyday use of the blocking client: connect, create a table, insert with parameters,
//! read rows into structs, a transaction, COPY in and out, and a connection pool.
//!
//! ```sh
//! cargo run -p pgproto-examples --bin everyday_blocking -- "host=localhost user=postgres"
//! ```
//!
//! The connection string comes from the first argument, else `DATABASE_URL`, else the
//! `PG*` environment variables (as libpq). `Person`, the table's row as a struct, is in
//! this crate's `lib.rs`: every adapter returns the same `Row`.

use pgproto_blocking::pool::Manager;
use pgproto_blocking::Client;
use pgproto_examples::{conninfo, BoxError, Person};

fn people(client: &mut Client) -> Result<Vec<Person>, BoxError> {
    // Rows are read off the socket as the iterator goes.
    let mut people = Vec::new();
    for row in client.query_stream("select id, name, age from everyday_people order by id", &[])? {
        people.push(Person::try_from(&row?)?);
    }
    Ok(people)
}

/// Runs every step against `conninfo`; returns the table's final contents.
pub(crate) fn run(conninfo: &str) -> Result<Vec<Person>, BoxError> {
    // Connect.
    let mut client = Client::connect(conninfo)?;
    println!(
        "connected to PostgreSQL {}",
        client.parameter("server_version").unwrap_or_default()
    );

    // Create a table.
    client.simple_query(
        "drop table if exists everyday_people;
         create table everyday_people (id int8 primary key, name text not null, age int4)",
    )?;

    // Insert with parameters (a NULL is a `None`).
    let insert =
        client.prepare("insert into everyday_people (id, name, age) values ($1, $2, $3)")?;
    for (id, name, age) in [(1i64, "Ada", Some(36i32)), (2, "Brian", None)] {
        client.query_prepared(&insert, &[&id, &name, &age])?;
    }

    // Rows into structs.
    for p in people(&mut client)? {
        println!("{p:?}");
    }

    // A transaction: committed, and one rolled back (dropping it also rolls back).
    let mut tx = client.transaction()?;
    tx.execute(
        "insert into everyday_people values ($1, $2, $3)",
        &[&3i64, &"Carla", &Some(41i32)],
    )?;
    tx.execute("update everyday_people set age = age + 1 where id = 1", &[])?;
    tx.commit()?;
    let mut tx = client.transaction()?;
    tx.execute("delete from everyday_people", &[])?;
    tx.rollback()?;

    // COPY in (text format) and out (CSV).
    let mut copy = client.copy_in("copy everyday_people (id, name, age) from stdin")?;
    copy.send(b"4\tDmitri\t29\n5\tEve\t\\N\n")?;
    println!("copied in {} rows", copy.finish()?);
    for chunk in client.copy_out(
        "copy (select * from everyday_people order by id) to stdout (format csv, header)",
    )? {
        print!("{}", String::from_utf8_lossy(&chunk?));
    }

    // A pool: threads, each on its own connection.
    let pool = r2d2::Pool::builder()
        .max_size(4)
        .build(Manager::new(conninfo))?;
    let threads: Vec<_> = (1..=5i64)
        .map(|id| {
            let pool = pool.clone();
            std::thread::spawn(move || -> Result<String, BoxError> {
                let mut client = pool.get()?;
                let row =
                    client.query_one("select name from everyday_people where id = $1", &[&id])?;
                Ok(row.get(0usize)?)
            })
        })
        .collect();
    for t in threads {
        let name = t.join().map_err(|_| "a pool thread panicked")??;
        println!("from the pool: {name}");
    }

    let result = people(&mut client)?;
    client.simple_query("drop table everyday_people")?;
    client.close()?;
    Ok(result)
}

fn main() -> Result<(), BoxError> {
    let conninfo = conninfo();
    let people = run(&conninfo)?;
    println!("{} people", people.len());
    Ok(())
}
