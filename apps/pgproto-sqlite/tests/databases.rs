//! CREATE DATABASE and DROP DATABASE: pgproto-sqlite (a file database, the databases it
//! creates beside it) answers as PostgreSQL 15 for the same statements, asked the same
//! way: with tokio-postgres (SQLSTATE, message, detail) and with psql (its whole output,
//! NOTICEs and FATAL connection errors included, with only the server's port
//! normalised). Connecting to a created database reaches its own file; `\l` lists the
//! databases as PostgreSQL's does.

mod support;

use std::process::Command;

use pgproto_sqlite::Database;
use pgproto_tests::harness::PgCluster;
use tokio::sync::watch;
use tokio_postgres::{Client, NoTls};

/// The server in this process, on `path` (in memory when `None`).
async fn serve(path: Option<&str>) -> (u16, watch::Sender<bool>) {
    let served = support::serve(Database::open(path).unwrap()).await;
    (served.port, served.stop)
}

fn conninfo(port: u16, dbname: &str) -> String {
    format!("host=127.0.0.1 port={port} user=postgres dbname={dbname} sslmode=disable")
}

async fn connect(port: u16, dbname: &str) -> Result<Client, String> {
    let (client, connection) = tokio_postgres::connect(&conninfo(port, dbname), NoTls)
        .await
        .map_err(describe)?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// An error as `SQLSTATE: message (detail)`.
fn describe(e: tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!(
            "{} {}: {}{}",
            d.severity(),
            d.code().code(),
            d.message(),
            d.detail().map(|x| format!(" ({x})")).unwrap_or_default()
        ),
        None => e.to_string(),
    }
}

async fn run(c: &Client, sql: &str) -> String {
    match c.simple_query(sql).await {
        Ok(_) => "ok".to_string(),
        Err(e) => describe(e),
    }
}

/// psql's whole output (stdout, then stderr) for `commands` on `dbname`, the port
/// written `PORT`.
fn psql(pg: &PgCluster, port: u16, dbname: &str, commands: &[&str]) -> String {
    let mut cmd = pg.client_command("psql").unwrap();
    cmd.args(["-X", "-P", "pager=off", "-d", &conninfo(port, dbname)]);
    for c in commands {
        cmd.args(["-c", c]);
    }
    let out = cmd.output().unwrap();
    format!(
        "{}--- stderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .replace(&port.to_string(), "PORT")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_and_drop_database_answer_as_postgresql() {
    let pg = support::postgresql_15();
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main.db");
    let (port, _stop) = serve(Some(main.to_str().unwrap())).await;
    let servers = [("PostgreSQL", pg.port()), ("pgproto-sqlite", port)];

    let mut failures = Vec::new();
    let mut same = |what: &str, answers: [String; 2]| {
        if answers[0] != answers[1] {
            failures.push(format!(
                "{what}\n--- PostgreSQL 15:\n{}\n--- pgproto-sqlite:\n{}",
                answers[0], answers[1]
            ));
        }
    };

    let mut admin = Vec::new();
    for (_, p) in servers {
        admin.push(connect(p, "postgres").await.unwrap());
    }
    // Statements on the main database, one client each, the same answers.
    let statements = [
        "CREATE DATABASE test_x",
        "CREATE DATABASE test_x",
        "CREATE DATABASE \"Test_Y\" WITH OWNER = postgres ENCODING 'UTF8' TEMPLATE template0 \
         LC_COLLATE 'C.UTF-8' LC_CTYPE = 'C.UTF-8' CONNECTION LIMIT = -1 IS_TEMPLATE false",
        "CREATE DATABASE t_owner OWNER nobody",
        "CREATE DATABASE t_tpl TEMPLATE nope",
        "CREATE DATABASE t_opt BOGUS 1",
        "CREATE DATABASE t_opt OWNER postgres OWNER postgres",
        "CREATE DATABASE t_tbs TABLESPACE nope",
        "CREATE DATABASE t_in_block; SELECT 1",
        "BEGIN; CREATE DATABASE t_in_block",
        "ROLLBACK",
        "BEGIN",
        "DROP DATABASE test_x",
        "ROLLBACK",
        "DROP DATABASE nope",
        "DROP DATABASE IF EXISTS nope",
        "DROP DATABASE template1",
        "DROP DATABASE postgres",
        "DROP DATABASE test_x (BOGUS)",
        "DROP DATABASE \"Test_Y\" WITH (FORCE)",
        "DROP DATABASE \"Test_Y\"",
    ];
    for sql in statements {
        let mut answers = [String::new(), String::new()];
        for (i, c) in admin.iter().enumerate() {
            answers[i] = run(c, sql).await;
        }
        same(sql, answers);
    }

    // A session on test_x: its data is its own, and it holds the database.
    let mut on_x = Vec::new();
    for (_, p) in servers {
        let c = connect(p, "test_x").await.unwrap();
        c.batch_execute("CREATE TABLE only_in_x (a int); INSERT INTO only_in_x VALUES (7)")
            .await
            .unwrap();
        on_x.push(c);
    }
    for sql in [
        "SELECT current_database()",
        "SELECT a FROM only_in_x",
        "DROP DATABASE test_x",
    ] {
        let mut answers = [String::new(), String::new()];
        for (i, c) in on_x.iter().enumerate() {
            answers[i] = match c.simple_query(sql).await {
                Ok(m) => format!("{:?}", rows(&m)),
                Err(e) => describe(e),
            };
        }
        same(sql, answers);
    }
    // PostgreSQL drops its `postgres` from another database; here it is the main file,
    // which stays: refused.
    let ours = run(&on_x[1], "DROP DATABASE postgres").await;
    assert!(ours.starts_with("ERROR 0A000"), "{ours}");
    let mut answers = [String::new(), String::new()];
    for (i, c) in admin.iter().enumerate() {
        // SQLite's message differs ("no such table"): the SQLSTATE is compared.
        answers[i] = run(c, "SELECT a FROM only_in_x").await;
        answers[i].truncate("ERROR 42P01".len());
    }
    same("only_in_x from postgres", answers);
    // PostgreSQL waits 5 s for the other session to leave, then fails.
    let mut answers = [String::new(), String::new()];
    for (i, c) in admin.iter().enumerate() {
        answers[i] = run(c, "DROP DATABASE test_x").await;
    }
    same("DROP DATABASE test_x while a session is on it", answers);
    let ours_force = run(&admin[1], "DROP DATABASE test_x WITH (FORCE)").await;
    assert!(ours_force.starts_with("ERROR 0A000"), "{ours_force}");

    // psql: `\l`, a NOTICE, and connections to databases that are not there.
    let mut answers = [String::new(), String::new()];
    for (i, (_, p)) in servers.iter().enumerate() {
        answers[i] = psql(&pg, *p, "postgres", &["\\l"]);
    }
    same("\\l", answers);
    for (dbname, commands) in [
        (
            "postgres",
            &["DROP DATABASE IF EXISTS nope", "SELECT 1"][..],
        ),
        ("nope", &["SELECT 1"]),
        ("template0", &["SELECT 1"]),
        ("test_x", &["SELECT * FROM only_in_x"]),
    ] {
        let mut answers = [String::new(), String::new()];
        for (i, (_, p)) in servers.iter().enumerate() {
            answers[i] = psql(&pg, *p, dbname, commands);
        }
        same(&format!("psql -d {dbname} {commands:?}"), answers);
    }

    // Once the session left, the database goes, with its file.
    drop(on_x);
    let mut answers = [String::new(), String::new()];
    for (i, c) in admin.iter().enumerate() {
        answers[i] = run(c, "DROP DATABASE test_x").await;
    }
    same("DROP DATABASE test_x once alone", answers);
    let mut answers = [String::new(), String::new()];
    for (i, (_, p)) in servers.iter().enumerate() {
        answers[i] = match connect(*p, "test_x").await {
            Ok(_) => "connected".to_string(),
            Err(e) => e,
        };
    }
    same("connect to the dropped test_x", answers);

    // Refused here, accepted by PostgreSQL.
    run(&admin[0], "CREATE DATABASE test_x").await;
    run(&admin[1], "CREATE DATABASE test_x").await;
    // Copying another database (TEMPLATE test_x): new databases start empty here.
    let sql = "CREATE DATABASE t_tpl TEMPLATE test_x";
    assert_eq!(run(&admin[0], sql).await, "ok");
    let ours = run(&admin[1], sql).await;
    assert!(ours.starts_with("ERROR 0A000"), "{sql}: {ours}");
    let files: Vec<String> = std::fs::read_dir(dir.path().join("main.databases"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".db"))
        .collect();
    assert_eq!(files, ["test_x.db"], "one file per database");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn rows(messages: &[tokio_postgres::SimpleQueryMessage]) -> Vec<Vec<Option<String>>> {
    messages
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
            }
            _ => None,
        })
        .collect()
}

/// Created databases are files: a server started again on the same main file serves
/// them, with their data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_databases_outlive_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("app.db");
    let main = main.to_str().unwrap();
    {
        let (port, stop) = serve(Some(main)).await;
        let c = connect(port, "postgres").await.unwrap();
        c.batch_execute("CREATE DATABASE \"Kept\"").await.unwrap();
        let k = connect(port, "Kept").await.unwrap();
        k.batch_execute("CREATE TABLE t (a text); INSERT INTO t VALUES ('kept')")
            .await
            .unwrap();
        drop(stop);
    }
    assert!(dir.path().join("app.databases/%4Bept.db").is_file());
    let (port, _stop) = serve(Some(main)).await;
    let k = connect(port, "Kept").await.unwrap();
    let got = k.query_one("SELECT a FROM t", &[]).await.unwrap();
    assert_eq!(got.get::<_, String>(0), "kept");
    let c = connect(port, "postgres").await.unwrap();
    let names: Vec<String> = c
        .query("SELECT datname::text FROM pg_database ORDER BY 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(names, ["Kept", "postgres", "template0", "template1"]);
}

/// In memory (`--memory`), a created database is another in-memory database, until
/// the server stops; the program refuses an unknown database as PostgreSQL does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_databases() {
    let (port, _stop) = serve(None).await;
    let c = connect(port, "postgres").await.unwrap();
    // Not in the implicit transaction of several statements, as in PostgreSQL.
    let e = c
        .batch_execute("CREATE TABLE main_t (a int); CREATE DATABASE mem")
        .await
        .unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("25001"));
    c.batch_execute("CREATE TABLE main_t (a int)")
        .await
        .unwrap();
    c.batch_execute("CREATE DATABASE mem").await.unwrap();
    let m = connect(port, "mem").await.unwrap();
    let e = m.batch_execute("SELECT * FROM main_t").await.unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("42P01"));
    m.batch_execute("CREATE TABLE mem_t (a int)").await.unwrap();
    drop(m);
    c.batch_execute("DROP DATABASE mem").await.unwrap();
    let err = connect(port, "mem").await.err().unwrap();
    assert_eq!(err, "FATAL 3D000: database \"mem\" does not exist");
    // A user without a database of their name reaches the main one under that name,
    // as clients connect to their user's name by default.
    let (alice, connection) = tokio_postgres::connect(
        &format!("host=127.0.0.1 port={port} user=alice sslmode=disable"),
        NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let row = alice
        .query_one(
            "SELECT current_database()::text, datname::text FROM pg_database WHERE oid = 5",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "alice");
    assert_eq!(row.get::<_, String>(1), "alice");
    let row = alice.query_one("SELECT count(*) FROM main_t", &[]).await;
    assert_eq!(row.unwrap().get::<_, i64>(0), 0);
    // The program, with psql's view of a refused connection.
    let bin = env!("CARGO_BIN_EXE_pgproto-sqlite");
    let server = pgproto_tests::program::Program::start(Command::new(bin).args([
        "--memory",
        "--listen",
        "127.0.0.1:0",
    ]))
    .unwrap();
    let err = connect(server.addr.port(), "postgres_typo")
        .await
        .err()
        .unwrap();
    assert_eq!(
        err,
        "FATAL 3D000: database \"postgres_typo\" does not exist"
    );
}
