//! Sessions at the same time on a file database (each its own SQLite connection, WAL):
//! readers beside an open write transaction, writers in line, `lock_timeout` and
//! `statement_timeout`, snapshots, and many clients at once (tokio-postgres and
//! PostgreSQL 15's pgbench); and the in-memory database shared by several sessions.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use pgproto_sqlite::{Database, SqliteThreads};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

/// A fresh database file in a directory of its own, removed when dropped.
struct TempDb {
    dir: PathBuf,
}

impl TempDb {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("pgproto-sqlite-conc-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
    }

    fn path(&self) -> String {
        self.dir.join("test.db").to_str().unwrap().to_string()
    }

    fn open(&self) -> Database {
        // A long server bound: a wait that ends by it is a failure here.
        Database::open(Some(&self.path()))
            .unwrap()
            .with_lock_timeout(Duration::from_secs(60))
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn conninfo(port: u16) -> String {
    format!("host=127.0.0.1 port={port} user=u dbname=postgres sslmode=disable")
}

async fn connect(port: u16) -> Client {
    support::client(&conninfo(port)).await
}

fn code(e: &tokio_postgres::Error) -> &str {
    e.code().map_or("no SQLSTATE", SqlState::code)
}

async fn value(c: &Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).await.unwrap().get(0)
}

/// Fails the test instead of hanging when `f` waits for what it should not.
async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .unwrap_or_else(|_| panic!("{what}: still waiting after 30 s"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_proceed_beside_an_open_write_transaction() {
    let tmp = TempDb::new("readers");
    let server = support::serve(tmp.open()).await;
    let a = connect(server.port).await;
    let b = connect(server.port).await;
    a.batch_execute(
        "create table kv (k integer primary key, v bigint); insert into kv values (1, 1)",
    )
    .await
    .unwrap();
    a.batch_execute("begin; update kv set v = 2 where k = 1")
        .await
        .unwrap();
    // B reads the last committed value, in both protocols, without waiting for A.
    let got = within("a reader", value(&b, "select v from kv where k = 1")).await;
    assert_eq!(got, 1);
    let rows = within("a simple-query reader", b.simple_query("select v from kv")).await;
    assert!(rows.is_ok(), "{rows:?}");
    // A sees its own write.
    assert_eq!(value(&a, "select v from kv where k = 1").await, 2);
    a.batch_execute("commit").await.unwrap();
    assert_eq!(value(&b, "select v from kv where k = 1").await, 2);
    drop((a, b));
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_wait_in_line_and_all_succeed() {
    let tmp = TempDb::new("writers");
    let server = support::serve(tmp.open()).await;
    let a = connect(server.port).await;
    a.batch_execute("create table counter (id integer primary key, n bigint); insert into counter values (1, 0)")
        .await
        .unwrap();
    a.batch_execute("begin; update counter set n = n + 1 where id = 1")
        .await
        .unwrap();
    // B's write waits for A's transaction...
    let b = connect(server.port).await;
    let b_write = tokio::spawn(async move {
        let r = b
            .execute("update counter set n = n + 10 where id = 1", &[])
            .await;
        (b, r)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !b_write.is_finished(),
        "B wrote while A's transaction was open"
    );
    // ... and goes through once it commits.
    a.batch_execute("commit").await.unwrap();
    let (b, r) = within("the second writer", b_write).await.unwrap();
    assert_eq!(r.unwrap(), 1);
    assert_eq!(value(&b, "select n from counter").await, 11);

    // Many writers and readers at once: every transaction succeeds, none is lost.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let port = server.port;
        tasks.push(tokio::spawn(async move {
            let mut c = connect(port).await;
            for _ in 0..25 {
                if i % 2 == 0 {
                    let t = c.transaction().await?;
                    t.execute("update counter set n = n + 1 where id = 1", &[])
                        .await?;
                    t.query_one("select n from counter where id = 1", &[])
                        .await?;
                    t.commit().await?;
                } else {
                    c.query_one("select n from counter where id = 1", &[])
                        .await?;
                    c.simple_query("select count(*) from counter").await?;
                }
            }
            Ok::<_, tokio_postgres::Error>(())
        }));
    }
    for t in tasks {
        within("a client", t).await.unwrap().unwrap();
    }
    assert_eq!(value(&b, "select n from counter").await, 11 + 4 * 25);
    drop((a, b));
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_timeout_and_statement_timeout() {
    timeouts(SqliteThreads::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_with_sqlite_always_on_or_off_the_runtime() {
    timeouts(SqliteThreads::OnRuntime).await;
    timeouts(SqliteThreads::Off).await;
}

async fn timeouts(threads: SqliteThreads) {
    let tmp = TempDb::new(&format!("timeouts-{threads:?}"));
    let server = support::serve(tmp.open().with_sqlite_threads(threads)).await;
    let a = connect(server.port).await;
    let b = connect(server.port).await;
    a.batch_execute(
        "create table kv (k integer primary key, v bigint); insert into kv values (1, 1)",
    )
    .await
    .unwrap();
    a.batch_execute("begin; update kv set v = 2").await.unwrap();

    // A writer that waits longer than its lock_timeout: 55P03, as PostgreSQL says it.
    b.batch_execute("set lock_timeout = '100ms'").await.unwrap();
    let show = b.simple_query("show lock_timeout").await.unwrap();
    let shown = show.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
        _ => None,
    });
    assert_eq!(shown.as_deref(), Some("100ms"), "{show:?}");
    let e = within("lock_timeout", b.execute("update kv set v = 3", &[]))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "55P03", "{e:?}");
    assert_eq!(
        e.as_db_error().unwrap().message(),
        "canceling statement due to lock timeout"
    );
    // Reading is not waiting.
    assert_eq!(value(&b, "select v from kv").await, 1);

    // statement_timeout bounds the wait too, with 57014 when it is the shorter one.
    b.batch_execute("set lock_timeout = 0; set statement_timeout = 100")
        .await
        .unwrap();
    let e = within("statement_timeout", b.batch_execute("delete from kv"))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "57014", "{e:?}");
    a.batch_execute("commit").await.unwrap();

    // ... and a statement that runs too long.
    b.batch_execute("set statement_timeout = '200ms'")
        .await
        .unwrap();
    let e = within(
        "a long statement",
        b.query(
            "with recursive r(i) as (select 1 union all select i + 1 from r where i < 2000000000) \
             select count(*) from r",
            &[],
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(code(&e), "57014", "{e:?}");
    assert_eq!(
        e.as_db_error().unwrap().message(),
        "canceling statement due to statement timeout"
    );
    // The session goes on, and nothing was written by the failed statements.
    b.batch_execute("set statement_timeout = 0").await.unwrap();
    assert_eq!(value(&b, "select v from kv").await, 2);
    assert_eq!(value(&b, "select count(*) from kv").await, 1);
    for bad in [
        "set lock_timeout = 'soon'",
        "set statement_timeout = '1 fortnight'",
    ] {
        let e = b.batch_execute(bad).await.unwrap_err();
        assert_eq!(code(&e), "22023", "{bad}: {e:?}");
    }
    drop((a, b));
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_reads_one_snapshot() {
    let tmp = TempDb::new("snapshot");
    let server = support::serve(tmp.open()).await;
    let a = connect(server.port).await;
    let b = connect(server.port).await;
    a.batch_execute(
        "create table kv (k integer primary key, v bigint); insert into kv values (1, 1)",
    )
    .await
    .unwrap();
    b.batch_execute("begin").await.unwrap();
    assert_eq!(value(&b, "select v from kv").await, 1);
    a.batch_execute("update kv set v = 2").await.unwrap();
    // B's transaction keeps reading the snapshot it started with...
    assert_eq!(value(&b, "select v from kv").await, 1);
    // ... and cannot write over a change it did not see: 40001, as PostgreSQL's
    // REPEATABLE READ and SERIALIZABLE answer (never SQLite's "database is locked").
    let e = b
        .execute("update kv set v = v + 10", &[])
        .await
        .unwrap_err();
    assert_eq!(code(&e), "40001", "{e:?}");
    b.batch_execute("rollback").await.unwrap();
    assert_eq!(value(&b, "select v from kv").await, 2);
    drop((a, b));
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_connection_sees_schema_changes_in_its_catalog() {
    let tmp = TempDb::new("catalog");
    let server = support::serve(tmp.open()).await;
    let a = connect(server.port).await;
    let b = connect(server.port).await;
    // B fills its catalog before the table exists...
    let n = value(&b, "select count(*) from pg_class where relname = 'later'").await;
    assert_eq!(n, 0);
    a.batch_execute("create table later (id integer primary key, name text)")
        .await
        .unwrap();
    // ... and sees the table, then its comment, made by another connection.
    let n = value(&b, "select count(*) from pg_class where relname = 'later'").await;
    assert_eq!(n, 1);
    a.batch_execute("comment on table later is 'made by A'")
        .await
        .unwrap();
    let row = b
        .query_one(
            "select d.description from pg_description d join pg_class c on c.oid = d.objoid \
             where c.relname = 'later'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, Option<String>>(0).as_deref(),
        Some("made by A")
    );
    drop((a, b));
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_memory_database_is_shared_by_its_sessions() {
    let server = support::serve(
        Database::open(None)
            .unwrap()
            .with_lock_timeout(Duration::from_secs(60)),
    )
    .await;
    let a = connect(server.port).await;
    let b = connect(server.port).await;
    a.batch_execute(
        "create table shared (id integer primary key); insert into shared values (1), (2)",
    )
    .await
    .unwrap();
    assert_eq!(value(&b, "select count(*) from shared").await, 2);
    b.batch_execute("insert into shared values (3)")
        .await
        .unwrap();
    assert_eq!(value(&a, "select count(*) from shared").await, 3);
    // One connection: an open transaction holds the others off, up to their lock_timeout.
    a.batch_execute("begin; insert into shared values (4)")
        .await
        .unwrap();
    b.batch_execute("set lock_timeout = 100").await.unwrap();
    let e = b
        .query("select count(*) from shared", &[])
        .await
        .unwrap_err();
    assert_eq!(code(&e), "55P03", "{e:?}");
    a.batch_execute("commit").await.unwrap();
    assert_eq!(value(&b, "select count(*) from shared").await, 4);
    drop((a, b));
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbench_readers_and_writers_never_see_busy() {
    let tmp = TempDb::new("pgbench");
    let server = support::serve(tmp.open()).await;
    let a = connect(server.port).await;
    let values: Vec<String> = (1..=100).map(|i| format!("({i}, 0)")).collect();
    a.batch_execute(&format!(
        "create table accounts (id integer primary key, balance bigint not null);
         insert into accounts values {}",
        values.join(", ")
    ))
    .await
    .unwrap();
    let port = server.port;
    let out = tokio::task::spawn_blocking(move || {
        let dir = std::env::temp_dir();
        let write = dir.join(format!("pgproto-sqlite-conc-write-{port}.sql"));
        let read = dir.join(format!("pgproto-sqlite-conc-read-{port}.sql"));
        std::fs::write(
            &write,
            "\\set id random(1, 100)\nBEGIN;\n\
             UPDATE accounts SET balance = balance + 1 WHERE id = :id;\n\
             SELECT balance FROM accounts WHERE id = :id;\nEND;\n",
        )
        .unwrap();
        std::fs::write(
            &read,
            "\\set id random(1, 100)\nSELECT balance FROM accounts WHERE id = :id;\n",
        )
        .unwrap();
        let mut outs = Vec::new();
        for mode in ["simple", "prepared"] {
            let out = Command::new("/usr/lib/postgresql/15/bin/pgbench")
                .env_clear()
                .args(["-n", "-t", "100", "-c", "8", "-j", "2", "-M", mode])
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "u"])
                .arg("-f")
                .arg(format!("{}@1", write.display()))
                .arg("-f")
                .arg(format!("{}@1", read.display()))
                .arg("postgres")
                .output()
                .expect("PostgreSQL 15's pgbench");
            outs.push(out);
        }
        let _ = std::fs::remove_file(write);
        let _ = std::fs::remove_file(read);
        outs
    })
    .await
    .unwrap();
    let mut writes = 0;
    for out in &out {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stdout}{stderr}");
        assert!(
            stdout.contains("number of transactions actually processed: 800/800"),
            "{stdout}"
        );
        assert!(
            stdout.contains("number of failed transactions: 0"),
            "{stdout}"
        );
        for word in ["locked", "busy", "BUSY", "SQLITE"] {
            assert!(!stderr.contains(word), "{stderr}");
        }
        // The write script's count, from pgbench's per-script report.
        writes += stdout
            .split("SQL script 1:")
            .nth(1)
            .and_then(|s| s.lines().find(|l| l.contains("transactions")))
            .and_then(|l| l.split_whitespace().find_map(|w| w.parse::<i64>().ok()))
            .expect("per-script counts");
    }
    // Every write transaction that pgbench counted is in the table.
    assert_eq!(value(&a, "select sum(balance) from accounts").await, writes);
    drop(a);
    server.shut_down().await;
}

/// Types, enums and sequences made on one connection work on another connection that
/// was opened before them: its enum orders, its catalog, the shared sequence values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn types_and_sequences_made_elsewhere_work_on_every_connection() {
    let tmp = TempDb::new("types");
    let server = support::serve(tmp.open()).await;
    let a = connect(server.port).await;
    let b = connect(server.port).await;
    // B has its connection and catalog before anything exists.
    assert_eq!(
        value(&b, "select count(*) from pg_type where typname = 'mood'").await,
        0
    );
    a.batch_execute(
        "create type mood as enum ('sad', 'ok', 'happy');
         create table feelings (id serial primary key, m mood not null);
         insert into feelings (m) values ('happy'), ('sad'), ('ok');",
    )
    .await
    .unwrap();
    // The enum's order, not the labels' alphabetical one.
    let rows = b
        .query("select m::text from feelings order by m", &[])
        .await
        .unwrap();
    let order: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(order, ["sad", "ok", "happy"]);
    assert_eq!(value(&b, "select count(*) from pg_enum").await, 3);
    // One sequence for both: B's insert takes the next id.
    b.batch_execute("insert into feelings (m) values ('ok')")
        .await
        .unwrap();
    assert_eq!(
        value(&a, "select count(*) from feelings where id <= 4").await,
        4
    );
    assert_eq!(value(&b, "select nextval('feelings_id_seq')").await, 5);
    assert_eq!(value(&a, "select nextval('feelings_id_seq')").await, 6);
    let e = b
        .batch_execute("insert into feelings (m) values ('angry')")
        .await
        .unwrap_err();
    assert_eq!(code(&e), "22P02", "{e}");
    a.batch_execute("alter type mood add value 'calm' before 'ok'")
        .await
        .unwrap();
    b.batch_execute("insert into feelings (m) values ('calm')")
        .await
        .unwrap();
    let rows = b
        .query("select m::text from feelings order by m, id", &[])
        .await
        .unwrap();
    let order: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(order, ["sad", "calm", "ok", "ok", "happy"]);
    drop((a, b));
    server.shut_down().await;
}

/// The result types of a simple query, as its RowDescription gives them.
async fn simple_types(client: &pgproto_tokio::Client, sql: &str) -> Vec<u32> {
    let sets = client.simple_query(sql).await.unwrap();
    sets[0].columns.iter().map(|c| c.type_oid).collect()
}

/// A session keeps what it learned of a repeated query's result types only while the
/// schema stays as it was: a table that another session drops and creates again with
/// other types, at once or in a transaction block, is described anew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_queries_follow_another_sessions_schema_change() {
    let temp = TempDb::new("schema-change");
    let server = support::serve(temp.open()).await;
    let url = format!("postgres://u@127.0.0.1:{}/postgres", server.port);
    let reader = pgproto_tokio::Client::connect(&url).await.unwrap();
    let changer = connect(server.port).await;
    changer
        .batch_execute("create table g (a integer, b text); insert into g values (1, 'x')")
        .await
        .unwrap();
    let query = "select a, b from g";
    assert_eq!(simple_types(&reader, query).await, [23, 25]);
    assert_eq!(simple_types(&reader, query).await, [23, 25]);
    changer
        .batch_execute("drop table g; create table g (a bigint, b date)")
        .await
        .unwrap();
    assert_eq!(simple_types(&reader, query).await, [20, 1082]);
    // In a block, the change is seen once it is committed.
    changer
        .batch_execute("begin; drop table g; create table g (a smallint, b uuid)")
        .await
        .unwrap();
    assert_eq!(simple_types(&reader, query).await, [20, 1082]);
    changer.batch_execute("commit").await.unwrap();
    assert_eq!(simple_types(&reader, query).await, [21, 2950]);
    // Rolled back: the types before it.
    changer
        .batch_execute("begin; drop table g; create table g (a text, b text)")
        .await
        .unwrap();
    changer.batch_execute("rollback").await.unwrap();
    assert_eq!(simple_types(&reader, query).await, [21, 2950]);
    // The date arithmetic check follows the schema too.
    changer
        .batch_execute("drop table g; create table g (a integer, b integer)")
        .await
        .unwrap();
    assert_eq!(simple_types(&reader, "select b + 1 from g").await.len(), 1);
    changer
        .batch_execute(
            "drop table g; create table g (a integer, b timestamp); \
             insert into g values (1, '2024-01-01 00:00:00')",
        )
        .await
        .unwrap();
    let refused = reader
        .simple_query("select b + 1 from g")
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("0A000") || refused.to_string().contains("not supported"),
        "{refused}"
    );
    // Prepared statements (Parse) describe the schema of their time too.
    let preparer = connect(server.port).await;
    let types = |s: &tokio_postgres::Statement| -> Vec<u32> {
        s.columns().iter().map(|c| c.type_().oid()).collect()
    };
    let before = preparer.prepare(query).await.unwrap();
    assert_eq!(types(&before), [23, 1114]);
    changer
        .batch_execute("drop table g; create table g (a bigint, b text)")
        .await
        .unwrap();
    assert_eq!(types(&preparer.prepare(query).await.unwrap()), [20, 25]);
    drop(preparer);
    drop(reader);
    drop(changer);
    server.shut_down().await;
}

/// Commits do not checkpoint by themselves (so that a short write can run on the
/// runtime's worker), yet the WAL is checkpointed and starts over as SQLite's own
/// automatic checkpoint would have it: 3,000 commits of a 4 KB row leave the log about
/// 1,000 pages long, not the 3,000 pages and more they wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_is_checkpointed_after_commits_that_left_it_long() {
    let tmp = TempDb::new("checkpoint");
    let server = support::serve(tmp.open()).await;
    let c = connect(server.port).await;
    c.batch_execute("create table blobs (id integer primary key, v text)")
        .await
        .unwrap();
    let insert = c
        .prepare("insert into blobs values ($1, repeat('x', 4000))")
        .await
        .unwrap();
    for id in 0..3000i32 {
        c.execute(&insert, &[&id]).await.unwrap();
    }
    assert_eq!(value(&c, "select count(*) from blobs").await, 3000);
    let wal = std::fs::metadata(format!("{}-wal", tmp.path()))
        .unwrap()
        .len();
    let file = std::fs::metadata(tmp.path()).unwrap().len();
    // 1,000 pages of 4,096 bytes (and their frame headers) before it started over.
    assert!(wal < 6 << 20, "the WAL has {wal} bytes");
    assert!(
        file > 4 << 20,
        "the database file has {file} bytes: never checkpointed"
    );
    drop(c);
    server.shut_down().await;
}
