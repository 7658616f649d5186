//! The `pgproto-sqlite` server (its library's `Database`) served in process, against
//! real clients: tokio-postgres, pgproto's own client, psql and
//! pgbench (PostgreSQL 15's binaries).

mod support;

use std::process::Command;

use pgproto_core::message::TransactionStatus;
use pgproto_core::server::{AuthKind, ServerAuth};
use pgproto_sqlite::Database;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

async fn start(kind: AuthKind) -> support::Served {
    start_with(kind, Database::open(None).unwrap()).await
}

/// Serves `db` with `kind` authentication, and the user alice (password s3cret).
async fn start_with(kind: AuthKind, db: Database) -> support::Served {
    let mut auth = ServerAuth::new(kind, b"mock secret for tests");
    auth.add_user("alice", "s3cret", b"0123456789abcdef")
        .unwrap();
    support::serve_with(auth, db).await
}

fn conninfo(port: u16) -> String {
    format!("host=127.0.0.1 port={port} user=alice password=s3cret dbname=postgres sslmode=disable")
}

async fn connect(port: u16) -> (Client, tokio::task::JoinHandle<()>) {
    let (client, connection) = tokio_postgres::connect(&conninfo(port), NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(async move {
        connection.await.unwrap();
    });
    (client, task)
}

fn code(e: &tokio_postgres::Error) -> &str {
    e.code().map_or("no SQLSTATE", SqlState::code)
}

const ITEMS: &str = "create table items (
    id bigint primary key,
    name text not null,
    price double precision,
    qty integer check (qty >= 0),
    data bytea,
    flag boolean,
    amount numeric
)";

#[tokio::test]
async fn tokio_postgres_crud_types_and_prepared_statements() {
    let server = start(AuthKind::ScramSha256).await;
    let (mut client, conn) = connect(server.port).await;
    client.batch_execute(ITEMS).await.unwrap();

    // Parameters in binary, types inferred from the columns they go into.
    let insert = client
        .prepare(
            "insert into items (id, name, price, qty, data, flag) values ($1, $2, $3, $4, $5, $6)",
        )
        .await
        .unwrap();
    assert_eq!(
        insert.params(),
        [
            Type::INT8,
            Type::TEXT,
            Type::FLOAT8,
            Type::INT4,
            Type::BYTEA,
            Type::BOOL
        ]
    );
    let blob: Vec<u8> = (0..=255u8).collect();
    let n = client
        .execute(&insert, &[&1i64, &"apple", &0.1f64, &3i32, &blob, &true])
        .await
        .unwrap();
    assert_eq!(n, 1);
    let none_f: Option<f64> = None;
    let none_b: Option<Vec<u8>> = None;
    let none_flag: Option<bool> = None;
    client
        .execute(
            &insert,
            &[&2i64, &"pear", &none_f, &0i32, &none_b, &none_flag],
        )
        .await
        .unwrap();
    client
        .execute(
            &insert,
            &[&3i64, &"plum", &-1.5e300f64, &7i32, &vec![0u8], &false],
        )
        .await
        .unwrap();

    // Binary results, decoded by type.
    let row = client
        .query_one(
            "select id, name, price, qty, data, flag from items where id = $1",
            &[&1i64],
        )
        .await
        .unwrap();
    assert_eq!(row.columns()[0].type_(), &Type::INT8);
    assert_eq!(row.get::<_, i64>(0), 1);
    assert_eq!(row.get::<_, &str>(1), "apple");
    assert_eq!(row.get::<_, f64>(2), 0.1);
    assert_eq!(row.get::<_, i32>(3), 3);
    assert_eq!(row.get::<_, Vec<u8>>(4), blob);
    assert!(row.get::<_, bool>(5));
    let row = client
        .query_one(
            "select price, data, flag from items where name = $1",
            &[&"pear"],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<f64>>(0), None);
    assert_eq!(row.get::<_, Option<Vec<u8>>>(1), None);
    assert_eq!(row.get::<_, Option<bool>>(2), None);
    let row = client
        .query_one("select price from items where id = 3", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, f64>(0), -1.5e300);

    // Expressions: typed at Parse time and encoded as described.
    let row = client
        .query_one(
            "select count(*), sum(qty), max(price), $1::int4 + 1, 'x' || name, qty > 2, 2.5 \
             from items where id <> $2",
            &[&41i32, &2i64],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 2);
    assert_eq!(row.get::<_, i64>(1), 10);
    assert_eq!(row.get::<_, f64>(2), 0.1);
    assert_eq!(row.get::<_, i32>(3), 42);
    assert_eq!(row.columns()[4].type_(), &Type::TEXT);
    assert_eq!(row.columns()[5].type_(), &Type::BOOL);
    assert_eq!(row.get::<_, f64>(6), 2.5);
    assert_eq!(row.columns()[0].name(), "count");
    assert_eq!(row.columns()[3].name(), "?column?");
    // Casts of parameters of every supported type round-trip.
    let row = client
        .query_one(
            "select $1::int2, $2::int8, $3::float4, $4::float8, $5::text, $6::bytea, $7::bool",
            &[
                &-7i16,
                &i64::MIN,
                &1.25f32,
                &f64::MAX,
                &"é'\"",
                &vec![1u8, 0, 2],
                &true,
            ],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i16>(0), -7);
    assert_eq!(row.get::<_, i64>(1), i64::MIN);
    assert_eq!(row.get::<_, f32>(2), 1.25);
    assert_eq!(row.get::<_, f64>(3), f64::MAX);
    assert_eq!(row.get::<_, &str>(4), "é'\"");
    assert_eq!(row.get::<_, Vec<u8>>(5), vec![1u8, 0, 2]);
    assert!(row.get::<_, bool>(6));

    // Prepared statements reused; UPDATE and DELETE counts; NULL parameters.
    let update = client
        .prepare("update items set qty = qty + $1 where id in ($2, $3)")
        .await
        .unwrap();
    assert_eq!(update.params(), [Type::INT4, Type::INT8, Type::INT8]);
    for _ in 0..3 {
        let n = client
            .execute(&update, &[&1i32, &1i64, &3i64])
            .await
            .unwrap();
        assert_eq!(n, 2);
    }
    let row = client
        .query_one("select qty from items where id = $1", &[&3i64])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 10);
    let n = client
        .execute(
            "update items set price = $1 where id = $2",
            &[&none_f, &1i64],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    // Text-format parameters and results (pgproto's client), numeric.
    let pg = pgproto_tokio::Client::connect(&conninfo(server.port))
        .await
        .unwrap();
    let rows = pg
        .query_text(
            "update items set amount = $1 where id = $2 returning amount, id",
            &[Some("12.50"), Some("2")],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    // SQLite's NUMERIC affinity stores 12.50 as the REAL 12.5: the scale is lost.
    assert_eq!(rows[0].raw(0), Some(Some(&b"12.5"[..])));
    assert_eq!(rows[0].columns()[0].type_oid, 1700);
    assert_eq!(rows[0].raw(1), Some(Some(&b"2"[..])));

    // A portal read in pieces (Execute with a row limit, PortalSuspended).
    let st = client
        .prepare("select id from items order by id")
        .await
        .unwrap();
    let tx = client.transaction().await.unwrap();
    let portal = tx.bind(&st, &[]).await.unwrap();
    let first = tx.query_portal(&portal, 2).await.unwrap();
    let rest = tx.query_portal(&portal, 2).await.unwrap();
    assert_eq!(
        first.iter().map(|r| r.get::<_, i64>(0)).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        rest.iter().map(|r| r.get::<_, i64>(0)).collect::<Vec<_>>(),
        [3]
    );
    tx.commit().await.unwrap();

    let n = client
        .execute("delete from items where qty > $1", &[&5i32])
        .await
        .unwrap();
    assert_eq!(n, 2, "ids 1 and 3 have qty 6 and 10");
    let rows = client
        .query("select id from items order by id", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);

    // The simple protocol: several statements, text results, command tags.
    let msgs = client
        .simple_query("insert into items (id, name) values (10, 'a'), (11, 'b'); select name, qty from items where id >= 10 order by id; ;")
        .await
        .unwrap();
    let tags: Vec<u64> = msgs
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(*n),
            _ => None,
        })
        .collect();
    assert_eq!(tags, [2, 2]);
    let names: Vec<Option<&str>> = msgs
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(r.get(0)),
            _ => None,
        })
        .collect();
    assert_eq!(names, [Some("a"), Some("b")]);
    // Connection-time chatter drivers send.
    let msgs = client
        .simple_query("SET application_name = 'test'; SHOW application_name; select version(), current_user, current_database()")
        .await
        .unwrap();
    let rows: Vec<_> = msgs
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(rows[0].get(0), Some("test"));
    assert!(rows[1].get(0).unwrap().starts_with("PostgreSQL 16"));
    assert_eq!(rows[1].get(1), Some("alice"));
    assert_eq!(rows[1].get(2), Some("postgres"));
    // An undeclared column whose values have different SQLite types is text.
    let msgs = client
        .simple_query("select column1 from (values (1), ('a'), (null))")
        .await
        .unwrap();
    let values: Vec<Option<&str>> = msgs
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(r.get(0)),
            _ => None,
        })
        .collect();
    assert_eq!(values, [Some("1"), Some("a"), None]);
    // Empty query.
    let msgs = client.simple_query("").await.unwrap();
    assert!(!msgs.iter().any(|m| matches!(m, SimpleQueryMessage::Row(_))));

    drop(client);
    conn.await.unwrap();
    pg.close().await.unwrap();
    server.shut_down().await;
}

#[tokio::test]
async fn errors_carry_sqlstates() {
    let server = start(AuthKind::Trust).await;
    let (client, conn) = connect(server.port).await;
    client
        .batch_execute(
            "create table parent (id integer primary key);
             create table child (id integer primary key, parent integer references parent (id),
                                 name text not null, n integer check (n > 0));
             create table strict_t (a integer) strict;
             insert into parent values (1);",
        )
        .await
        .unwrap();
    let cases: &[(&str, &str)] = &[
        ("selec 1", "42601"),
        // PostgreSQL statements this server lacks: refused by name, not a syntax error.
        ("alter database postgres rename to other", "0A000"),
        ("listen jobs", "0A000"),
        ("select array[random()]", "0A000"),
        ("select * from nope", "42P01"),
        ("select nope from parent", "42703"),
        ("insert into parent values (1)", "23505"),
        ("insert into child (id, name) values (1, null)", "23502"),
        (
            "insert into child (id, name, n) values (1, 'x', 0)",
            "23514",
        ),
        (
            "insert into child (id, parent, name) values (1, 99, 'x')",
            "23503",
        ),
        ("insert into strict_t values ('abc')", "42804"),
        ("select nosuchfunction(1)", "42883"),
        ("create table parent (x integer)", "42P07"),
        ("show no_such_setting", "42704"),
        ("select 1; select 2", "42601"),
    ];
    for (sql, want) in cases {
        // Extended protocol (Parse or Execute fails) ...
        let err = client.query(*sql, &[]).await.unwrap_err();
        assert_eq!(code(&err), *want, "{sql}: {err:?}");
        // ... and simple protocol.
        if !sql.contains(';') {
            let err = client.simple_query(sql).await.unwrap_err();
            assert_eq!(code(&err), *want, "{sql}: {err:?}");
        }
    }
    let err = client
        .query("insert into parent values (1)", &[])
        .await
        .unwrap_err();
    assert!(
        err.as_db_error()
            .unwrap()
            .message()
            .contains("UNIQUE constraint failed"),
        "{err:?}"
    );
    // A malformed binary parameter: 22P03.
    let pg = pgproto_tokio::Client::connect(&conninfo(server.port))
        .await
        .unwrap();
    let err = pg
        .query_raw(
            "select $1",
            &[23],
            &[Some(&[0, 1][..])],
            pgproto_core::message::Format::Binary,
            pgproto_core::message::Format::Binary,
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.as_db_error().map(|e| e.code.code()),
        Some("22P03"),
        "{err:?}"
    );
    pg.close().await.unwrap();
    // A value that does not fit the column's type: 22003 on the way in, as PostgreSQL
    // (SQLite would keep it), and the table stays empty.
    client
        .batch_execute("create table small (a integer)")
        .await
        .unwrap();
    let err = client
        .batch_execute("insert into small values (5000000000)")
        .await
        .unwrap_err();
    assert_eq!(code(&err), "22003", "{err:?}");
    let rows = client.query("select a from small", &[]).await.unwrap();
    assert!(rows.is_empty());
    // The connection is still usable.
    assert_eq!(client.query("select 1", &[]).await.unwrap().len(), 1);
    drop(client);
    conn.await.unwrap();
    server.shut_down().await;
}

/// `now()` is the time of the statement, or of the transaction block it is in, as in
/// PostgreSQL: every row of one insert gets the same `DEFAULT now()`, and statements of
/// one block see one time.
#[tokio::test]
async fn now_is_the_statement_s_or_the_block_s_time() {
    let server = start(AuthKind::Trust).await;
    let (client, _conn) = connect(server.port).await;
    let distinct = |sql: &'static str| {
        let client = &client;
        async move {
            let rows = client.simple_query(sql).await.unwrap();
            rows.iter()
                .find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                    _ => None,
                })
                .unwrap()
        }
    };
    client
        .batch_execute(
            "create table stamps (id int, at timestamptz default now()); \
             insert into stamps (id) select g from generate_series(1, 500) g",
        )
        .await
        .unwrap();
    assert_eq!(distinct("select count(distinct at) from stamps").await, "1");
    client.batch_execute("begin").await.unwrap();
    let first = distinct("select now()").await;
    std::thread::sleep(std::time::Duration::from_millis(5));
    let second = distinct("select now()").await;
    client
        .batch_execute("insert into stamps (id) values (0)")
        .await
        .unwrap();
    let inserted = distinct("select at from stamps where id = 0").await;
    client.batch_execute("commit").await.unwrap();
    assert_eq!(first, second);
    assert_eq!(first, inserted);
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_ne!(distinct("select now()").await, first);
}

/// `EXPLAIN` answers with one `QUERY PLAN` text column (SQLite's plan, PostgreSQL's
/// shape), in both protocols and with parameters, and runs nothing; `EXPLAIN ANALYZE`
/// is refused.
#[tokio::test]
async fn explain_gives_a_query_plan_column() {
    let server = start(AuthKind::Trust).await;
    let (client, _conn) = connect(server.port).await;
    client
        .batch_execute(
            "create table plans (id int primary key, x int); create index on plans (x); \
             insert into plans values (1, 1), (2, 2)",
        )
        .await
        .unwrap();
    let statement = client
        .prepare("explain select * from plans where x = $1")
        .await
        .unwrap();
    assert_eq!(statement.columns().len(), 1);
    assert_eq!(statement.columns()[0].name(), "QUERY PLAN");
    assert_eq!(
        statement.columns()[0].type_(),
        &tokio_postgres::types::Type::TEXT
    );
    let rows = client.query(&statement, &[&2i32]).await.unwrap();
    let lines: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert!(lines.iter().any(|l| l.contains("plans_x_idx")), "{lines:?}");
    let messages = client
        .simple_query("explain delete from plans where id = 1")
        .await
        .unwrap();
    assert!(messages
        .iter()
        .any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::CommandComplete(_))));
    assert_eq!(
        client
            .query_one("select count(*) from plans", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        2,
        "EXPLAIN ran nothing"
    );
    let e = client
        .simple_query("explain analyze select 1")
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::FEATURE_NOT_SUPPORTED));
}

async fn count(c: &Client) -> i64 {
    c.query_one("select count(*) from t", &[])
        .await
        .unwrap()
        .get::<_, i64>(0)
}

#[tokio::test]
async fn transactions_and_failed_blocks() {
    let server = start(AuthKind::Trust).await;
    let (client, conn) = connect(server.port).await;
    client
        .batch_execute("create table t (id integer primary key, v text)")
        .await
        .unwrap();
    // Rollback and commit.
    let mut client = client;
    let tx = client.transaction().await.unwrap();
    tx.execute("insert into t values ($1, $2)", &[&1i32, &"a"])
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(count(&client).await, 0);
    let tx = client.transaction().await.unwrap();
    tx.execute("insert into t values ($1, $2)", &[&1i32, &"a"])
        .await
        .unwrap();
    // Savepoints (tokio-postgres nests transactions with them).
    let mut tx = tx;
    let sp = tx.transaction().await.unwrap();
    sp.execute("insert into t values (2, 'b')", &[])
        .await
        .unwrap();
    sp.rollback().await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count(&client).await, 1);

    // An error inside a block: 25P02 until ROLLBACK, in both protocols.
    client.batch_execute("begin").await.unwrap();
    client
        .execute("insert into t values (5, 'x')", &[])
        .await
        .unwrap();
    let err = client
        .execute("insert into t values (1, 'dup')", &[])
        .await
        .unwrap_err();
    assert_eq!(code(&err), "23505");
    let err = client.query("select 1", &[]).await.unwrap_err();
    assert_eq!(code(&err), "25P02", "{err:?}");
    assert_eq!(
        err.as_db_error().unwrap().message(),
        "current transaction is aborted, commands ignored until end of transaction block"
    );
    let err = client.simple_query("select 1").await.unwrap_err();
    assert_eq!(code(&err), "25P02");
    client.batch_execute("rollback").await.unwrap();
    assert_eq!(
        count(&client).await,
        1,
        "the block's insert was rolled back"
    );

    // pgproto's client shows the status bytes and tags: COMMIT of a failed block rolls back.
    let pg = pgproto_tokio::Client::connect(&conninfo(server.port))
        .await
        .unwrap();
    assert_eq!(pg.transaction_status(), TransactionStatus::Idle);
    pg.simple_query("begin; insert into t values (7, 'y')")
        .await
        .unwrap();
    assert_eq!(pg.transaction_status(), TransactionStatus::InTransaction);
    assert!(pg
        .simple_query("insert into t values (7, 'y')")
        .await
        .is_err());
    assert_eq!(pg.transaction_status(), TransactionStatus::Failed);
    // ROLLBACK TO SAVEPOINT is allowed in a failed block... after a savepoint exists.
    let sets = pg.simple_query("commit").await.unwrap();
    assert_eq!(sets[0].tag.as_ref().unwrap().as_str(), "ROLLBACK");
    assert_eq!(pg.transaction_status(), TransactionStatus::Idle);
    pg.simple_query("begin; savepoint s; insert into t values (1, 'dup')")
        .await
        .unwrap_err();
    assert_eq!(pg.transaction_status(), TransactionStatus::Failed);
    let sets = pg.simple_query("rollback to savepoint s").await.unwrap();
    assert_eq!(sets[0].tag.as_ref().unwrap().as_str(), "ROLLBACK");
    assert_eq!(pg.transaction_status(), TransactionStatus::InTransaction);
    pg.simple_query("insert into t values (8, 'z'); commit")
        .await
        .unwrap();
    assert_eq!(pg.transaction_status(), TransactionStatus::Idle);
    assert_eq!(count(&client).await, 2);

    // A multi-statement simple query is one implicit transaction.
    let err = client
        .simple_query("insert into t values (20, 'p'); insert into t values (1, 'dup')")
        .await
        .unwrap_err();
    assert_eq!(code(&err), "23505");
    assert_eq!(count(&client).await, 2, "the first insert was rolled back");

    // Sessions share the database; a second session waits for an open transaction.
    let (other, other_conn) = connect(server.port).await;
    client
        .batch_execute("begin; insert into t values (30, 'q')")
        .await
        .unwrap();
    let waiting = tokio::spawn(async move {
        let n = other
            .query_one("select count(*) from t", &[])
            .await
            .unwrap();
        (other, n.get::<_, i64>(0))
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "the other session waits for COMMIT");
    client.batch_execute("commit").await.unwrap();
    let (other, n) = waiting.await.unwrap();
    assert_eq!(n, 3);
    // A session that disconnects inside a transaction has it rolled back.
    let (third, third_conn) = connect(server.port).await;
    third.batch_execute("begin; delete from t").await.unwrap();
    drop(third);
    third_conn.await.unwrap();
    assert_eq!(
        other
            .query_one("select count(*) from t", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        3
    );

    drop(other);
    other_conn.await.unwrap();
    drop(client);
    conn.await.unwrap();
    pg.close().await.unwrap();
    server.shut_down().await;
}

fn psql(port: u16, args: &[&str]) -> std::process::Output {
    Command::new("/usr/lib/postgresql/15/bin/psql")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", &conninfo(port)])
        .args(args)
        .output()
        .expect("PostgreSQL 15's psql (apt-get install postgresql-client-15)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_and_pgbench() {
    let server = start(AuthKind::Md5).await;
    let port = server.port;
    let out = tokio::task::spawn_blocking(move || {
        psql(
            port,
            &[
                "-c",
                "create table bench (id integer primary key, v text, n double precision)",
                "-c",
                "insert into bench values (1, 'one', 1.5), (2, 'two', null)",
                "-c",
                "insert into bench values (3, 'it''s', 2); select id, v, n from bench order by id",
                "-c",
                "select count(*) from bench; select 'x'::text as y",
            ],
        )
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "CREATE TABLE",
            "INSERT 0 2",
            "INSERT 0 1",
            "1|one|1.5",
            "2|two|",
            "3|it's|2",
            "3",
            "x"
        ],
        "{stdout}"
    );
    // psql reports errors with their SQLSTATE.
    let out = tokio::task::spawn_blocking(move || {
        psql(
            port,
            &["-v", "VERBOSITY=verbose", "-c", "select * from missing"],
        )
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("42P01") && stderr.contains("relation \"missing\" does not exist"),
        "{stderr}"
    );

    // pgbench: a CRUD transaction in the extended protocol with prepared statements. Both
    // clients share one pgbench thread, which prepares synchronously: a Parse that waited
    // for the other client's transaction would deadlock.
    let out = tokio::task::spawn_blocking(move || {
        let script = std::env::temp_dir().join(format!("pgproto-sqlite-crud-{port}.sql"));
        std::fs::write(
            &script,
            "\\set id 1000 + :client_id * 100000 + random(1, 99999)\n\
             BEGIN;\n\
             INSERT INTO bench (id, v, n) VALUES (:id, 'new', :id * 0.5);\n\
             SELECT v, n FROM bench WHERE id = :id;\n\
             UPDATE bench SET v = 'updated', n = n + 1 WHERE id = :id;\n\
             DELETE FROM bench WHERE id = :id;\n\
             END;\n",
        )
        .unwrap();
        let out = Command::new("/usr/lib/postgresql/15/bin/pgbench")
            .env("PGPASSWORD", "s3cret")
            .args(["-n", "-t", "50", "-c", "2", "-M", "prepared"])
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "alice",
                "-f",
            ])
            .arg(&script)
            .arg("postgres")
            .output()
            .expect("PostgreSQL 15's pgbench");
        let _ = std::fs::remove_file(script);
        out
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("number of transactions actually processed: 100/100"),
        "{stdout}"
    );
    assert!(
        stdout.contains("number of failed transactions: 0"),
        "{stdout}"
    );
    // Every transaction deleted its row again.
    let out =
        tokio::task::spawn_blocking(move || psql(port, &["-c", "select count(*) from bench"]))
            .await
            .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "3");
    server.shut_down().await;
}

#[tokio::test]
async fn lock_timeout_and_file_database() {
    let dir = std::env::temp_dir().join(format!("pgproto-sqlite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("test.db");
    let _ = std::fs::remove_file(&path);
    let db = Database::open(Some(path.to_str().unwrap()))
        .unwrap()
        .with_lock_timeout(std::time::Duration::from_millis(200));
    let server = start_with(AuthKind::Password, db).await;
    let (a, a_conn) = connect(server.port).await;
    let (b, b_conn) = connect(server.port).await;
    a.batch_execute(
        "create table kv (k text primary key, v integer); insert into kv values ('x', 1)",
    )
    .await
    .unwrap();
    // While A's transaction is open, B reads the last committed value, and a write of
    // B's gives up after the server's lock timeout with 55P03...
    a.batch_execute("begin; update kv set v = 2").await.unwrap();
    let v: i32 = b.query_one("select v from kv", &[]).await.unwrap().get(0);
    assert_eq!(v, 1);
    let err = b.execute("update kv set v = 3", &[]).await.unwrap_err();
    assert_eq!(code(&err), "55P03", "{err:?}");
    // ... and gets through once it ends.
    a.batch_execute("commit").await.unwrap();
    let v: i32 = b.query_one("select v from kv", &[]).await.unwrap().get(0);
    assert_eq!(v, 2);
    b.execute("update kv set v = 3", &[]).await.unwrap();
    let v: i32 = a.query_one("select v from kv", &[]).await.unwrap().get(0);
    assert_eq!(v, 3);
    drop((a, b));
    a_conn.await.unwrap();
    b_conn.await.unwrap();
    server.shut_down().await;
    // The data is in the file.
    let db = Database::open(Some(path.to_str().unwrap())).unwrap();
    let server = start_with(AuthKind::Trust, db).await;
    let (c, c_conn) = connect(server.port).await;
    let v: i32 = c
        .query_one("select v from kv where k = $1", &[&"x"])
        .await
        .unwrap()
        .get(0);
    assert_eq!(v, 3);
    drop(c);
    c_conn.await.unwrap();
    server.shut_down().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Rows in PostgreSQL's text COPY format, with escapes, NULLs and non-ASCII text.
fn copy_text_rows(from: u32, to: u32) -> String {
    let mut s = String::new();
    for i in from..=to {
        let name = match i % 4 {
            0 => format!("tab\\there {i}"),
            1 => format!("back\\\\slash {i}"),
            2 => format!("new\\nline ü {i}"),
            _ => format!("plain {i}"),
        };
        let flag = if i % 2 == 0 { "t" } else { "f" };
        let note = if i % 5 == 0 {
            "\\N".to_string()
        } else {
            format!("n{i}")
        };
        s.push_str(&format!("{i}\t{name}\t{flag}\t{note}\n"));
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_copy_in_and_out() {
    let server = start(AuthKind::Md5).await;
    let port = server.port;
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let text_in = copy_text_rows(1, 10_000);
    std::fs::write(path("in.txt"), &text_in).unwrap();
    // CSV with a header, quoting, an embedded newline, an empty string and a NULL.
    let csv_in = "id,name,flag,note\n\
                  20001,\"a, b\",true,\"say \"\"hi\"\"\"\n\
                  20002,\"two\nlines\",false,\n\
                  20003,plain,t,\"\"\n";
    std::fs::write(path("in.csv"), csv_in).unwrap();
    // Bad data half-way: the whole COPY fails, no row of it stays.
    let mut bad = copy_text_rows(30_001, 30_500);
    bad.push_str("not-a-number\tx\tt\tn\n");
    bad.push_str(&copy_text_rows(30_502, 31_000));
    std::fs::write(path("bad.txt"), &bad).unwrap();

    let (p_in, p_csv, p_bad, p_out, p_out_csv, p_q) = (
        path("in.txt"),
        path("in.csv"),
        path("bad.txt"),
        path("out.txt"),
        path("out.csv"),
        path("q.csv"),
    );
    let out = tokio::task::spawn_blocking(move || {
        psql(
            port,
            &[
                "-c",
                "create table c (id integer primary key, name text, flag boolean, note text)",
                "-c",
                &format!("\\copy c from '{p_in}'"),
                "-c",
                &format!("\\copy c from '{p_csv}' with (format csv, header)"),
                "-c",
                "select count(*), sum(id) from c",
                "-c",
                &format!("\\copy c to '{p_out}'"),
                "-c",
                &format!("\\copy (select id, note from c where id > 20000 order by id) to '{p_q}' with csv header"),
                "-c",
                &format!("\\copy c (id, name) to '{p_out_csv}' (format csv, header true)"),
            ],
        )
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sum: u64 = (1..=10_000u64).sum::<u64>() + 20_001 + 20_002 + 20_003;
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "CREATE TABLE",
            "COPY 10000",
            "COPY 3",
            &format!("10003|{sum}"),
            "COPY 10003",
            "COPY 3",
            "COPY 10003",
        ],
        "{stdout}"
    );
    // Text out is text in, byte for byte, plus the CSV rows in text format.
    let text_out = std::fs::read_to_string(dir.path().join("out.txt")).unwrap();
    let expected = format!(
        "{text_in}20001\ta, b\tt\tsay \"hi\"\n20002\ttwo\\nlines\tf\t\\N\n20003\tplain\tt\t\n"
    );
    assert_eq!(text_out, expected);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("q.csv")).unwrap(),
        "id,note\n20001,\"say \"\"hi\"\"\"\n20002,\n20003,\"\"\n"
    );
    let csv_out = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    let mut lines = csv_out.lines();
    assert_eq!(lines.next(), Some("id,name"));
    assert_eq!(lines.next(), Some("1,back\\slash 1"));
    assert!(
        csv_out.ends_with("20001,\"a, b\"\n20002,\"two\nlines\"\n20003,plain\n"),
        "{csv_out}"
    );

    // The failed COPY: psql reports the error, the table is unchanged.
    let out = tokio::task::spawn_blocking(move || {
        psql(
            port,
            &[
                "-v",
                "VERBOSITY=verbose",
                "-c",
                &format!("\\copy c from '{p_bad}'"),
            ],
        )
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("22P02"), "{stderr}");

    // CopyFail from pgproto's client: no rows either; the session goes on.
    let client = pgproto_tokio::Client::connect(&conninfo(port))
        .await
        .unwrap();
    let mut copy = client
        .copy_in("copy c from stdin (format csv)")
        .await
        .unwrap();
    copy.send("40001,x,t,y\n40002,z,f,w\n").await.unwrap();
    let err = copy.abort("stop").await.unwrap();
    assert_eq!(err.code, pgproto_core::sqlstate::SqlState::QueryCanceled);
    let row = client
        .query_one("select count(*), sum(id) from c", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>(0usize).unwrap(), 10_003);
    assert_eq!(row.get::<i64, _>(1usize).unwrap(), sum as i64);
    // Inside a transaction, a COPY in is rolled back with it.
    let tx = client.transaction().await.unwrap();
    let mut copy = tx.copy_in("copy c (id, name) from stdin").await.unwrap();
    copy.send("50001\tin tx\n").await.unwrap();
    assert_eq!(copy.finish().await.unwrap(), 1);
    tx.rollback().await.unwrap();
    let mut out = client
        .copy_out("copy (select count(*) from c) to stdout")
        .await
        .unwrap();
    assert_eq!(out.next().await.unwrap().unwrap(), "10003\n");
    assert!(out.next().await.is_none());
    assert_eq!(out.rows(), Some(1));
    client.close().await.unwrap();
    server.shut_down().await;
}

/// A column's value as the server sent it (binary), whatever its type.
struct Raw(Vec<u8>);

impl<'a> tokio_postgres::types::FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

async fn first_text(client: &Client, sql: &str) -> Option<String> {
    client
        .simple_query(sql)
        .await
        .unwrap()
        .into_iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(r.get(0).map(str::to_string)),
            _ => None,
        })
        .flatten()
}

#[tokio::test]
async fn serial_ids_dates_and_refusals_never_answer_wrongly() {
    let server = start(AuthKind::Trust).await;
    let (client, conn) = connect(server.port).await;

    // serial primary keys get increasing ids, which RETURNING returns.
    client
        .batch_execute(
            "create table t (id serial primary key, name text); \
             create table b (id bigserial, n int, primary key (id))",
        )
        .await
        .unwrap();
    for want in 1..=2 {
        let row = client
            .query_one("insert into t (name) values ('a') returning id", &[])
            .await
            .unwrap();
        assert_eq!(row.get::<_, i32>(0), want);
    }
    client
        .execute("insert into b (n) values (5), (6)", &[])
        .await
        .unwrap();
    assert_eq!(
        first_text(&client, "select max(id) from b")
            .await
            .as_deref(),
        Some("2")
    );

    // bigserial and smallserial keys are described as PostgreSQL declares them.
    client
        .batch_execute("create table sm (id smallserial primary key, n int)")
        .await
        .unwrap();
    for (table, want) in [("b", Type::INT8), ("t", Type::INT4), ("sm", Type::INT2)] {
        let st = client
            .prepare(&format!("select id from {table}"))
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"))
            .columns()
            .first()
            .map(|c| c.type_().clone());
        assert_eq!(st, Some(want), "{table}");
    }
    let row = client
        .query_one("select id from b where n = 6", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 2);
    assert_eq!(
        first_text(
            &client,
            "select format_type(atttypid, atttypmod) from pg_attribute \
             where attrelid = 'b'::regclass and attname = 'id'"
        )
        .await
        .as_deref(),
        Some("bigint")
    );

    // What SQLite would answer wrongly is refused with 0A000.
    for sql in [
        "select '2024-01-01'::date * 2",
        "select cast('2024-01-01' as date) - '1 day'",
    ] {
        let e = client.simple_query(sql).await.unwrap_err();
        assert_eq!(code(&e), "0A000", "{sql}: {e}");
        let e = client.prepare(sql).await.unwrap_err();
        assert_eq!(code(&e), "0A000", "{sql}: {e}");
    }
    // `regclass` looks pg_catalog up: PostgreSQL's error for a missing relation.
    let e = client
        .simple_query("select 'x'::regclass::oid")
        .await
        .unwrap_err();
    assert_eq!(code(&e), "42P01", "{e}");
    // A date cast without arithmetic is the date, not SQLite's number 2024.
    assert_eq!(
        first_text(&client, "select cast('2024-01-01' as date)")
            .await
            .as_deref(),
        Some("2024-01-01")
    );

    // Date, timestamptz and uuid columns are described with PostgreSQL's types and
    // encoded by them.
    client
        .batch_execute(
            "create table e (day date, at timestamptz, u uuid); \
             insert into e values ('2024-01-01', '2024-01-01 12:00:00+02', \
             'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11')",
        )
        .await
        .unwrap();
    let st = client.prepare("select day, at, u from e").await.unwrap();
    let types: Vec<Type> = st.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(types, [Type::DATE, Type::TIMESTAMPTZ, Type::UUID]);
    let row = client.query_one(&st, &[]).await.unwrap();
    assert_eq!(row.get::<_, Raw>(0).0, 8766i32.to_be_bytes()); // days since 2000-01-01
    assert_eq!(row.get::<_, Raw>(2).0.len(), 16);
    let text = client
        .simple_query("select day, at, u from e")
        .await
        .unwrap();
    let SimpleQueryMessage::Row(r) = text
        .iter()
        .find(|m| matches!(m, SimpleQueryMessage::Row(_)))
        .unwrap()
    else {
        unreachable!()
    };
    assert_eq!(r.get(0), Some("2024-01-01"));
    assert_eq!(r.get(1), Some("2024-01-01 10:00:00+00"));
    assert_eq!(r.get(2), Some("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
    // Arithmetic on a timestamp column is refused (SQLite would answer 2025); on a date
    // it is computed (`tests/property.rs` compares it with PostgreSQL).
    for sql in ["select at + 1 from e", "select e.at - 1 from e"] {
        let e = client.simple_query(sql).await.unwrap_err();
        assert_eq!(code(&e), "0A000", "{sql}: {e}");
    }

    drop(client);
    conn.await.unwrap();
    server.shut_down().await;
}

#[tokio::test]
async fn now_uuids_ilike_and_escape_strings() {
    let server = start(AuthKind::Trust).await;
    let (client, conn) = connect(server.port).await;

    // now() and gen_random_uuid(), also as column defaults, with PostgreSQL's types.
    client
        .batch_execute(
            "create table ev (id serial primary key, at timestamptz default now(), \
             u uuid default gen_random_uuid()); \
             insert into ev default values; insert into ev default values",
        )
        .await
        .unwrap();
    let st = client
        .prepare("select now(), gen_random_uuid()")
        .await
        .unwrap();
    let types: Vec<Type> = st.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(types, [Type::TIMESTAMPTZ, Type::UUID]);
    let rows = client.simple_query("select at, u from ev").await.unwrap();
    let rows: Vec<_> = rows
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some((r.get(0).unwrap(), r.get(1).unwrap())),
            _ => None,
        })
        .collect();
    assert_eq!(rows.len(), 2);
    for (at, u) in &rows {
        assert!(at.ends_with("+00") && at.len() >= 22, "{at}");
        assert_eq!(u.len(), 36, "{u}");
        assert_eq!(u.as_bytes()[14], b'4', "{u}");
    }
    assert_ne!(rows[0].1, rows[1].1);
    let e = client
        .simple_query("select now() - now()")
        .await
        .unwrap_err();
    assert_eq!(code(&e), "0A000", "{e}");

    // LIKE is case-sensitive with `\` escapes; ILIKE is not case-sensitive.
    let row = client
        .query_one(
            r"select 'abc' like 'ABC', 'ABC' ilike 'a%', 'abc' not ilike 'A_C', 'a_c' like 'a\_c', 'abc' like 'a\_c'",
            &[],
        )
        .await
        .unwrap();
    let got: Vec<bool> = (0..5).map(|i| row.get(i)).collect();
    assert_eq!(got, [false, true, false, true, false]);

    // E'...' strings.
    assert_eq!(
        first_text(&client, r"select E'a\tb\'c\x41'")
            .await
            .as_deref(),
        Some("a\tb'cA")
    );

    drop(client);
    conn.await.unwrap();
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_checks_and_triggers_are_in_the_catalog() {
    let server = start(AuthKind::Trust).await;
    let (client, conn) = connect(server.port).await;
    client
        .batch_execute(
            "create table c (id int primary key, n int check (n > 0)); \
             create table log (what text); \
             create trigger c_log after insert on c begin insert into log values ('x'); end; \
             comment on table c is 'the c table'; \
             comment on column c.n is 'a positive n'",
        )
        .await
        .unwrap();
    let get = |sql: &'static str| {
        let client = &client;
        async move { first_text(client, sql).await }
    };
    assert_eq!(
        get("select obj_description('c'::regclass, 'pg_class')")
            .await
            .as_deref(),
        Some("the c table")
    );
    assert_eq!(
        get("select col_description('c'::regclass, 2)")
            .await
            .as_deref(),
        Some("a positive n")
    );
    assert_eq!(
        get("select pg_get_constraintdef(oid) from pg_constraint where contype = 'c'")
            .await
            .as_deref(),
        Some("CHECK ((n > 0))")
    );
    assert_eq!(
        get("select tgname from pg_trigger where tgrelid = 'c'::regclass")
            .await
            .as_deref(),
        Some("c_log")
    );
    // psql's \d shows the trigger, in SQLite's syntax.
    let out = psql(server.port, &["-P", "tuples_only=off", "-c", "\\d c"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Triggers:\n    c_log after insert on c begin insert into log"),
        "{text}"
    );
    // A comment goes with its table, and IS NULL removes one.
    client
        .batch_execute("comment on column c.n is null")
        .await
        .unwrap();
    assert_eq!(get("select col_description('c'::regclass, 2)").await, None);
    client
        .batch_execute("drop table c; create table c (id int)")
        .await
        .unwrap();
    assert_eq!(
        get("select obj_description('c'::regclass, 'pg_class')").await,
        None
    );
    // Errors as PostgreSQL's, and 0A000 for what is not kept.
    for (sql, want) in [
        ("comment on table nope is 'x'", "42P01"),
        ("comment on column c.nope is 'x'", "42703"),
        ("comment on schema public is 'x'", "0A000"),
    ] {
        let e = client.simple_query(sql).await.unwrap_err();
        assert_eq!(code(&e), want, "{sql}: {e}");
    }
    // The server's own table is not listed.
    assert_eq!(
        get("select count(*) from pg_class where relname like '%pgproto%'")
            .await
            .as_deref(),
        Some("0")
    );

    drop(client);
    conn.await.unwrap();
    server.shut_down().await;
}

#[tokio::test]
async fn primary_keys_are_not_null_as_in_postgresql() {
    let server = start(AuthKind::Trust).await;
    let (client, conn) = connect(server.port).await;
    client
        .batch_execute(
            "create table a (id int primary key, n text); \
             create table b (id bigint primary key, n text); \
             create table c (x int, y text, n text, primary key (x, y)); \
             create table d (id integer primary key, n text)",
        )
        .await
        .unwrap();
    for sql in [
        "insert into a (n) values ('x')",
        "insert into b (n) values ('x')",
        "insert into b values (null, 'x')",
        "insert into c (x, n) values (1, 'x')",
        // `integer primary key` would be SQLite's rowid, filled in silently.
        "insert into d (n) values ('x')",
        "insert into d values (null, 'x')",
    ] {
        let e = client.simple_query(sql).await.unwrap_err();
        assert_eq!(code(&e), "23502", "{sql}: {e}");
        let e = client.execute(sql, &[]).await.unwrap_err();
        assert_eq!(code(&e), "23502", "{sql}: {e}");
    }
    let e = client
        .simple_query("insert into a (n) values ('x')")
        .await
        .unwrap_err();
    let db = e.as_db_error().unwrap();
    assert_eq!(
        db.message(),
        "null value in column \"id\" of relation \"a\" violates not-null constraint"
    );
    // SQLite's constraint failures carry PostgreSQL's SQLSTATEs.
    client
        .batch_execute("insert into a values (1, 'x')")
        .await
        .unwrap();
    let e = client
        .simple_query("insert into a values (1, 'y')")
        .await
        .unwrap_err();
    assert_eq!(code(&e), "23505", "{e}");
    drop(client);
    conn.await.unwrap();
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_reported_or_refused() {
    let server = start(AuthKind::Trust).await;
    let (client, conn) = connect(server.port).await;
    let pg = pgproto_tokio::Client::connect(&conninfo(server.port))
        .await
        .unwrap();
    pg.simple_query("set application_name = 'reporter'; set TimeZone = 'UTC'")
        .await
        .unwrap();
    // ParameterStatus tells the client, as PostgreSQL does.
    assert_eq!(
        pg.parameter("application_name").as_deref(),
        Some("reporter")
    );
    assert_eq!(pg.parameter("TimeZone").as_deref(), Some("UTC"));
    pg.simple_query("reset application_name").await.unwrap();
    assert_eq!(pg.parameter("application_name").as_deref(), Some(""));

    for (sql, show, want) in [
        ("set datestyle = 'ISO, MDY'", "show datestyle", "ISO, MDY"),
        ("set extra_float_digits = 3", "show extra_float_digits", "3"),
        ("set statement_timeout = 0", "show statement_timeout", "0"),
        (
            "set statement_timeout = '5s'",
            "show statement_timeout",
            "5s",
        ),
        ("set lock_timeout = 1500", "show lock_timeout", "1500ms"),
        ("set lock_timeout = '2min'", "show lock_timeout", "2min"),
        (
            "set statement_timeout = default",
            "show statement_timeout",
            "0",
        ),
        ("set search_path = public", "show search_path", "public"),
        (
            "set client_encoding = 'UTF8'",
            "show client_encoding",
            "UTF8",
        ),
        (
            "set transaction isolation level serializable",
            "show transaction isolation level",
            "serializable",
        ),
    ] {
        client.simple_query(sql).await.unwrap();
        assert_eq!(
            first_text(&client, show).await.as_deref(),
            Some(want),
            "{sql}"
        );
    }
    // Values whose effect this server does not have are refused, never ignored.
    for sql in [
        "set timezone = 'Europe/Paris'",
        "set time zone 'America/New_York'",
        "set datestyle = 'German'",
        "set extra_float_digits = 0",
        "set idle_in_transaction_session_timeout = '5s'",
        "set search_path = other",
        "set client_encoding = 'LATIN1'",
        "set intervalstyle = 'iso_8601'",
        "set local application_name = 'x'",
    ] {
        let e = client.simple_query(sql).await.unwrap_err();
        assert_eq!(code(&e), "0A000", "{sql}: {e}");
    }
    drop(pg);
    drop(client);
    conn.await.unwrap();
    server.shut_down().await;
}

/// Everything in `table`, as text COPY writes it (PostgreSQL: tokio-postgres; ours:
/// psql, whose `\copy` runs COPY as a simple query).
async fn copy_text(client: &Client, table: &str) -> String {
    use futures_util::TryStreamExt;
    let sql = format!("copy (select * from {table} order by id) to stdout");
    let chunks: Vec<_> = client
        .copy_out(&sql)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    String::from_utf8(chunks.concat()).unwrap()
}

fn psql_ok(port: u16, command: &str) -> String {
    let out = psql(port, &["-c", command]);
    assert!(
        out.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Binary COPY both ways between PostgreSQL 15 and pgproto-sqlite: each reads the
/// other's binary file, and the text COPY of the result is the same on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_copy_round_trips_with_postgresql() {
    use futures_util::{SinkExt, TryStreamExt};
    use pgproto_tests::harness::{PgCluster, PgVersion};
    let (pg, info) = PgCluster::start_trust(PgVersion::V15);
    let (postgres, pg_conn) = tokio_postgres::connect(&info, NoTls).await.unwrap();
    let pg_task = tokio::spawn(pg_conn);
    let server = start(AuthKind::Trust).await;
    let port = server.port;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bc.bin");
    let file = file.to_str().unwrap();
    let table = "create table bc (id integer primary key, small smallint, big bigint,
        f4 real, f8 double precision, flag boolean, name text, data bytea,
        amount numeric, day date, at timestamp, u uuid)";
    let rows = "insert into bc values
        (1, -2, 9007199254740993, 1.5, -0.125, true, 'tab\there', '\\x00ff',
         12.5, '2024-02-29', '2024-01-01 12:34:56.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
        (2, null, null, null, null, false, '', '\\x', -3.25, '1999-12-31',
         '2000-01-01 00:00:00', null),
        (3, 32767, -1, 0, 1e300, null, 'ünïcode', null, 0, null, null, null)";
    postgres.batch_execute(table).await.unwrap();
    postgres.batch_execute(rows).await.unwrap();
    psql_ok(port, table);
    let expected = copy_text(&postgres, "bc").await;
    let ours_text = || psql_ok(port, "copy (select * from bc order by id) to stdout");

    // PostgreSQL's binary file into pgproto-sqlite.
    let data: Vec<_> = postgres
        .copy_out("copy bc to stdout (format binary)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    std::fs::write(file, data.concat()).unwrap();
    let copied = psql_ok(port, &format!("\\copy bc from '{file}' (format binary)"));
    assert_eq!(copied.trim(), "COPY 3");
    assert_eq!(ours_text(), expected);

    // pgproto-sqlite's binary file into PostgreSQL.
    psql_ok(port, &format!("\\copy bc to '{file}' (format binary)"));
    postgres.batch_execute("truncate bc").await.unwrap();
    let sink = postgres
        .copy_in("copy bc from stdin (format binary)")
        .await
        .unwrap();
    let mut sink = std::pin::pin!(sink);
    let ours_file = std::fs::read(file).unwrap();
    sink.send(bytes::Bytes::from(ours_file)).await.unwrap();
    assert_eq!(sink.finish().await.unwrap(), 3);
    assert_eq!(copy_text(&postgres, "bc").await, expected);

    // A file for other columns is refused as PostgreSQL refuses it, and nothing stays.
    let mut wrong = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
    wrong.extend_from_slice(&[0, 1, 0, 0, 0, 4, 0, 0, 0, 1, 0xff, 0xff]);
    std::fs::write(file, &wrong).unwrap();
    let out = psql(
        port,
        &["-c", &format!("\\copy bc from '{file}' (format binary)")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("row field count is 1, expected 12"),
        "{stderr}"
    );
    assert_eq!(ours_text(), expected);
    // COPY over the extended protocol (tokio-postgres's way), binary both ways.
    let (ours, ours_task) = connect(port).await;
    ours.batch_execute(&table.replace("table bc", "table bc2"))
        .await
        .unwrap();
    let sink = ours
        .copy_in("copy bc2 from stdin (format binary)")
        .await
        .unwrap();
    let mut sink = std::pin::pin!(sink);
    sink.send(bytes::Bytes::from(data.concat())).await.unwrap();
    assert_eq!(sink.finish().await.unwrap(), 3);
    let back: Vec<_> = ours
        .copy_out("copy (select * from bc2 order by id) to stdout (format binary)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    postgres.batch_execute("truncate bc").await.unwrap();
    let sink = postgres
        .copy_in("copy bc from stdin (format binary)")
        .await
        .unwrap();
    let mut sink = std::pin::pin!(sink);
    sink.send(bytes::Bytes::from(back.concat())).await.unwrap();
    assert_eq!(sink.finish().await.unwrap(), 3);
    assert_eq!(copy_text(&postgres, "bc").await, expected);
    // A bad statement is refused at Parse, as PostgreSQL refuses it.
    let e = ours
        .prepare("copy bc2 from stdin (format binary, header)")
        .await
        .unwrap_err();
    assert_eq!(code(&e), "42601", "{e}");
    drop(ours);
    ours_task.await.unwrap();
    drop(postgres);
    pg_task.await.unwrap().unwrap();
    server.shut_down().await;
    drop(pg);
}

/// `random()` is PostgreSQL's (a double in [0, 1)), not SQLite's 64-bit integer, and
/// the sequence functions are described as bigint.
#[tokio::test]
async fn random_and_sequence_functions_have_postgresql_types() {
    let server = start(AuthKind::Trust).await;
    let (client, conn) = connect(server.port).await;
    let st = client.prepare("select random()").await.unwrap();
    assert_eq!(st.columns()[0].type_(), &Type::FLOAT8);
    for _ in 0..100 {
        let r: f64 = client.query_one(&st, &[]).await.unwrap().get(0);
        assert!((0.0..1.0).contains(&r), "{r}");
    }
    client
        .batch_execute("create sequence s start 7")
        .await
        .unwrap();
    let st = client
        .prepare("select nextval('s'), currval('s')")
        .await
        .unwrap();
    assert_eq!(st.columns()[0].type_(), &Type::INT8);
    let row = client.query_one(&st, &[]).await.unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (7, 7));
    drop(client);
    conn.await.unwrap();
    server.shut_down().await;
}
