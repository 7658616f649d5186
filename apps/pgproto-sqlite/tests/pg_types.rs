//! PostgreSQL's types, kept and described exactly: for the same DDL and data, the answers
//! of pgproto-sqlite equal PostgreSQL 15's (both asked with tokio-postgres): result
//! column types and typmods (`Statement::columns()`), values in text and binary,
//! sequences, enums, domains and `information_schema`. Only what must differ is
//! normalised (the OIDs of user objects, the database's name, the owner).

mod support;

use pgproto_sqlite::Database;
use pgproto_tests::harness::PgCluster;
use tokio::sync::watch;
use tokio_postgres::{Client, SimpleQueryMessage};

/// PostgreSQL 15 and pgproto-sqlite, each with a connected client.
struct Pair {
    _pg: PgCluster,
    pg: Client,
    ours: Client,
    port: u16,
    _stop: watch::Sender<bool>,
}

async fn pair() -> Pair {
    let cluster = support::postgresql_15();
    let pg = support::client(&cluster.superuser_conninfo("")).await;
    let support::Served { port, stop, .. } = support::serve_memory().await;
    let ours = support::client(&ours_conninfo(port)).await;
    Pair {
        _pg: cluster,
        pg,
        ours,
        port,
        _stop: stop,
    }
}

fn ours_conninfo(port: u16) -> String {
    support::conninfo(port, "postgres")
}

impl Pair {
    /// Runs `sql` (simple protocol) on both; both must succeed.
    async fn both(&self, sql: &str) {
        self.pg
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL: {sql}: {e}"));
        self.ours
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("pgproto-sqlite: {sql}: {e:?}"));
    }

    /// The rows of a simple query on `c`, as text (`NULL` for null).
    async fn rows(c: &Client, sql: &str) -> Result<Vec<Vec<String>>, String> {
        let messages = c.simple_query(sql).await.map_err(|e| {
            e.as_db_error().map_or(e.to_string(), |d| {
                format!("{}: {}", d.code().code(), d.message())
            })
        })?;
        Ok(messages
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => Some(
                    (0..r.len())
                        .map(|i| r.get(i).unwrap_or("NULL").to_string())
                        .collect(),
                ),
                _ => None,
            })
            .collect())
    }

    /// Asserts that a simple query gives the same rows (or the same error) on both.
    async fn same_rows(&self, sql: &str) -> Vec<Vec<String>> {
        let a = Self::rows(&self.pg, sql).await;
        let b = Self::rows(&self.ours, sql).await;
        assert_eq!(
            a, b,
            "{sql}: PostgreSQL (left) and pgproto-sqlite (right) differ"
        );
        a.unwrap_or_default()
    }

    /// The SQLSTATE and message of a failing statement on `c`.
    async fn error(c: &Client, sql: &str) -> String {
        match c.batch_execute(sql).await {
            Ok(()) => "no error".to_string(),
            Err(e) => e.as_db_error().map_or(e.to_string(), |d| {
                format!("{}: {}", d.code().code(), d.message())
            }),
        }
    }

    /// Asserts that a statement fails the same way on both.
    async fn same_error(&self, sql: &str) {
        let a = Self::error(&self.pg, sql).await;
        let b = Self::error(&self.ours, sql).await;
        assert_eq!(
            a, b,
            "{sql}: PostgreSQL (left) and pgproto-sqlite (right) differ"
        );
        assert_ne!(a, "no error", "{sql} should fail");
    }

    /// Asserts that a prepared statement describes the same columns on both: name, type
    /// (by name, so user types compare despite their OIDs), typmod, and whether it comes
    /// from a table column (and which).
    async fn same_columns(&self, sql: &str) {
        let describe = |s: tokio_postgres::Statement| {
            s.columns()
                .iter()
                .map(|c| {
                    format!(
                        "{} {} typmod {} column {:?}",
                        c.name(),
                        c.type_().name(),
                        c.type_modifier(),
                        c.column_id()
                    )
                })
                .collect::<Vec<_>>()
        };
        let a = describe(self.pg.prepare(sql).await.unwrap());
        let b = describe(
            self.ours
                .prepare(sql)
                .await
                .unwrap_or_else(|e| panic!("pgproto-sqlite: {sql}: {e:?}")),
        );
        assert_eq!(
            a, b,
            "{sql}: PostgreSQL (left) and pgproto-sqlite (right) differ"
        );
    }
}

const TYPED: &str = "CREATE TABLE typed (id integer PRIMARY KEY, code varchar(100) NOT NULL,
  total numeric(10,2), ratio numeric(5), plain numeric, flag char(3), letter char,
  at timestamp(3), at_tz timestamp with time zone, born date, doc jsonb, meta json,
  span interval, n bigint, small smallint, f double precision, t text, u uuid, b bytea,
  ok boolean)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_columns_are_described_and_returned_as_postgresql_does() {
    let p = pair().await;
    p.both(TYPED).await;
    p.both(
        "INSERT INTO typed VALUES (1, 'a', 12.5, 3, 1.50, 'ab', 'x', '2024-01-02 03:04:05.123',
           '2024-01-02 03:04:05+00', '2024-01-02', '{\"a\": 1}', '{\"b\":2}', '1 day 02:00:00',
           9000000000, 7, 0.5, 'text', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x0102', true);
         INSERT INTO typed (id, code, total, ratio, at) VALUES (2, 'b', 0.125, 2.5, '2024-01-02 03:04:05.12351'),
           (3, 'c', -3, 12345, '1999-12-31 23:59:59.9996');
         INSERT INTO typed (id, code) VALUES (4, 'd')",
    )
    .await;
    p.same_columns("SELECT * FROM typed").await;
    p.same_columns("SELECT total, code AS c, id FROM typed WHERE id = $1")
        .await;
    p.same_rows(
        "SELECT id, code, total, ratio, flag, letter, at, born, doc, meta, span, n, small, f, t, u, b, ok
         FROM typed ORDER BY id",
    )
    .await;
    // Binary results decode to the same values (tokio-postgres asks for binary).
    for (a, b) in [(
        p.pg.query("SELECT total::text, code, n FROM typed ORDER BY id", &[])
            .await
            .unwrap(),
        p.ours
            .query("SELECT total, code, n FROM typed ORDER BY id", &[])
            .await
            .unwrap(),
    )] {
        assert_eq!(a.len(), b.len());
        for (ra, rb) in a.iter().zip(&b) {
            assert_eq!(ra.get::<_, Option<&str>>(1), rb.get::<_, Option<&str>>(1));
            assert_eq!(ra.get::<_, Option<i64>>(2), rb.get::<_, Option<i64>>(2));
        }
    }
    // COPY out writes the same text.
    p.same_rows("SELECT total FROM typed WHERE total > 1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_version_agrees_everywhere() {
    let p = pair().await;
    let rows = Pair::rows(&p.ours, "SELECT version()").await.unwrap();
    let version = rows[0][0].clone();
    let shown = Pair::rows(&p.ours, "SHOW server_version").await.unwrap()[0][0].clone();
    let setting = Pair::rows(&p.ours, "SELECT current_setting('server_version')")
        .await
        .unwrap()[0][0]
        .clone();
    assert_eq!(shown, setting);
    assert!(
        version.starts_with(&format!("PostgreSQL {shown} ")),
        "version() {version:?} and SHOW server_version {shown:?}"
    );
    let num = Pair::rows(&p.ours, "SHOW server_version_num")
        .await
        .unwrap()[0][0]
        .clone();
    let major: u32 = shown.split('.').next().unwrap().parse().unwrap();
    assert_eq!(num.parse::<u32>().unwrap() / 10000, major);
    // The ParameterStatus psql read at startup.
    let out = std::process::Command::new(p._pg.bin_dir().join("psql"))
        .args([
            &ours_conninfo(p.port),
            "-X",
            "-A",
            "-t",
            "-c",
            "\\echo :SERVER_VERSION_NAME",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), shown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequences_serials_and_identities_follow_postgresql() {
    let p = pair().await;
    p.both(
        "CREATE TABLE s1 (id serial PRIMARY KEY, name text);
         CREATE TABLE s2 (id bigserial PRIMARY KEY, n smallserial, name text);
         CREATE TABLE s3 (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text);
         CREATE TABLE s4 (id integer GENERATED BY DEFAULT AS IDENTITY (START WITH 100 INCREMENT BY 10) PRIMARY KEY, x int);
         CREATE SEQUENCE counter START 5 INCREMENT 2;
         CREATE SEQUENCE small AS smallint MAXVALUE 3;",
    )
    .await;
    // currval before nextval in the session: 55000.
    p.same_error("SELECT currval('s1_id_seq')").await;
    p.same_error("SELECT lastval()").await;
    p.same_error("SELECT nextval('nope')").await;
    p.same_rows("INSERT INTO s1 (name) VALUES ('a'), ('b') RETURNING id, name")
        .await;
    p.same_rows("INSERT INTO s2 (name) VALUES ('a') RETURNING *")
        .await;
    p.same_rows("INSERT INTO s3 (name) VALUES ('a'), ('b') RETURNING id")
        .await;
    p.same_rows("INSERT INTO s4 (x) VALUES (1), (2) RETURNING id")
        .await;
    p.same_rows("SELECT currval('s1_id_seq'), lastval()").await;
    p.same_rows("SELECT nextval('counter'), nextval('counter'), currval('counter')")
        .await;
    p.same_rows("SELECT setval('counter', 42), nextval('counter')")
        .await;
    p.same_rows("SELECT setval('counter', 42, false), nextval('counter')")
        .await;
    p.same_rows("SELECT nextval('small'), nextval('small'), nextval('small')")
        .await;
    p.same_error("SELECT nextval('small')").await;
    p.same_error("SELECT setval('small', 0)").await;
    p.same_rows(
        "SELECT pg_get_serial_sequence('s1', 'id'), pg_get_serial_sequence('s2', 'n'),
           pg_get_serial_sequence('s3', 'id'), pg_get_serial_sequence('s1', 'name')",
    )
    .await;
    // An explicit value is taken as given; the sequence goes on from where it was.
    p.same_rows("INSERT INTO s1 VALUES (10, 'x') RETURNING id")
        .await;
    p.same_rows("INSERT INTO s1 (name) VALUES ('c') RETURNING id")
        .await;
    p.same_rows("SELECT id, name FROM s1 ORDER BY id").await;
    p.same_rows(
        "SELECT c.relname, s.seqstart, s.seqincrement, s.seqmax, s.seqmin, s.seqcache, s.seqcycle
         FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid ORDER BY 1",
    )
    .await;
    p.same_rows("SELECT relname, relkind FROM pg_class WHERE relkind = 'S' ORDER BY 1")
        .await;
    p.same_error("CREATE SEQUENCE counter").await;
    p.both("CREATE SEQUENCE IF NOT EXISTS counter; ALTER SEQUENCE counter RESTART WITH 7")
        .await;
    p.same_rows("SELECT nextval('counter')").await;
    p.same_error("DROP SEQUENCE s1_id_seq").await;
    p.both("DROP SEQUENCE counter; DROP TABLE s1").await;
    p.same_error("SELECT nextval('counter')").await;
    p.same_error("SELECT nextval('s1_id_seq')").await;
    p.same_rows("SELECT relname FROM pg_class WHERE relkind = 'S' ORDER BY 1")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequences_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let path = path.to_str().unwrap();
    let run = |sqls: &'static [&'static str]| async move {
        let support::Served { port, stop, task } =
            support::serve(Database::open(Some(path)).unwrap()).await;
        let c = support::client(&ours_conninfo(port)).await;
        let mut out = Vec::new();
        for sql in sqls {
            out.push(Pair::rows(&c, sql).await.unwrap());
        }
        drop(c);
        stop.send(true).unwrap();
        let _ = task.await;
        out
    };
    run(&[
        "CREATE TABLE t (id serial PRIMARY KEY, v text)",
        "CREATE SEQUENCE s",
        "INSERT INTO t (v) VALUES ('a'), ('b')",
        "SELECT nextval('s'), nextval('s')",
        "CREATE TYPE size AS ENUM ('small', 'large')",
        "CREATE TABLE u (id int PRIMARY KEY, s size)",
        "INSERT INTO u VALUES (1, 'large'), (2, 'small')",
    ])
    .await;
    let out = run(&[
        "INSERT INTO t (v) VALUES ('c') RETURNING id",
        "SELECT nextval('s')",
        "SELECT id FROM u ORDER BY s",
    ])
    .await;
    let one = |v: &str| vec![vec![v.to_string()]];
    assert_eq!(
        out,
        vec![
            one("3"),
            one("3"),
            vec![vec!["2".to_string()], vec!["1".to_string()]]
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enums_and_domains_follow_postgresql() {
    let p = pair().await;
    p.both(
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
         CREATE DOMAIN posint AS integer NOT NULL CHECK (VALUE > 0);
         CREATE DOMAIN short_text varchar(5);
         CREATE TABLE people (id integer PRIMARY KEY, m mood, n posint, s short_text, code varchar(3), amount numeric(4,1))",
    )
    .await;
    p.both("INSERT INTO people VALUES (1, 'ok', 3, 'abc', 'xy', 123.44)")
        .await;
    p.same_error("INSERT INTO people (id, m, n) VALUES (2, 'x', 1)")
        .await;
    p.same_error("UPDATE people SET m = 'meh'").await;
    p.same_error("INSERT INTO people (id, m, n) VALUES (2, 'sad', 0)")
        .await;
    p.same_error("INSERT INTO people (id, m, n) VALUES (2, 'sad', NULL)")
        .await;
    p.same_error("INSERT INTO people (id, n, s) VALUES (2, 1, 'toolong')")
        .await;
    p.same_error("INSERT INTO people (id, n, code) VALUES (2, 1, 'abcd')")
        .await;
    // PostgreSQL cuts trailing spaces beyond the length; SQLite cannot: refused.
    assert_eq!(
        Pair::error(
            &p.ours,
            "INSERT INTO people (id, n, code) VALUES (9, 1, 'ab    ')"
        )
        .await,
        "0A000: a value with trailing spaces beyond character varying(3) is not supported"
    );
    p.same_error("CREATE TYPE broken AS ENUM (").await;
    p.same_error("ALTER SEQUENCE nope RESTART WITH").await;
    p.same_error("INSERT INTO people (id, n, amount) VALUES (2, 1, 1000)")
        .await;
    p.same_rows("SELECT id, m, n, s, code, amount FROM people")
        .await;
    // Enums compare and sort in their order, not their labels' text.
    p.both("INSERT INTO people (id, m, n) VALUES (2, 'happy', 1), (3, 'sad', 1), (4, 'ok', 2)")
        .await;
    p.same_rows("SELECT id, m FROM people ORDER BY m, id").await;
    p.same_rows("SELECT id FROM people WHERE m > 'ok' ORDER BY id")
        .await;
    p.same_rows("SELECT max(m), min(m) FROM people").await;
    p.both("DELETE FROM people WHERE id > 1").await;
    p.same_columns("SELECT m, n, s, code, amount FROM people")
        .await;
    // tokio-postgres looks the enum up in pg_type and pg_enum.
    let row = p.ours.query_one("SELECT m FROM people", &[]).await.unwrap();
    assert_eq!(row.columns()[0].type_().name(), "mood");
    p.same_rows(
        "SELECT t.typname, t.typtype, t.typlen, e.enumlabel, e.enumsortorder
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid ORDER BY e.enumsortorder",
    )
    .await;
    p.same_rows(
        "SELECT typname, typtype, typnotnull, format_type(typbasetype, typtypmod) FROM pg_type
         WHERE typtype = 'd' AND typnamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'public')
         ORDER BY 1",
    )
    .await;
    p.same_rows(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute a JOIN pg_class c
         ON c.oid = a.attrelid WHERE c.relname = 'people' AND attnum > 0 ORDER BY attnum",
    )
    .await;
    p.same_error("CREATE TYPE mood AS ENUM ('a')").await;
    p.same_error("DROP TYPE mood").await;
    p.both("ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok'").await;
    p.both("UPDATE people SET m = 'meh'").await;
    p.same_rows("SELECT enumlabel FROM pg_enum ORDER BY enumsortorder")
        .await;
    p.both("DROP TABLE people; DROP TYPE mood; DROP DOMAIN posint, short_text")
        .await;
    p.same_error("DROP TYPE mood").await;
    p.same_rows(
        "SELECT typname FROM pg_type WHERE typtype IN ('e', 'd')
         AND typnamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'public')",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn information_schema_answers_as_postgresql_does() {
    let p = pair().await;
    p.both(
        "CREATE TYPE status AS ENUM ('new', 'done');
         CREATE DOMAIN money2 AS numeric(12,2) CHECK (VALUE >= 0);
         CREATE TABLE customers (id serial PRIMARY KEY, email varchar(200) NOT NULL UNIQUE,
           name text, born date, created timestamp(3) with time zone, score double precision,
           vip boolean DEFAULT false);
         CREATE TABLE orders (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
           customer_id integer NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
           total money2, qty smallint DEFAULT 0 CHECK (qty >= 0), state status NOT NULL,
           code char(4), ratio real);
         CREATE TABLE lines (order_id bigint REFERENCES orders(id), n integer,
           amount numeric(10,3), note varchar, PRIMARY KEY (order_id, n));
         CREATE VIEW big_orders AS SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer_id;
         CREATE SEQUENCE tickets AS integer START 10 INCREMENT 5 MAXVALUE 1000 CYCLE;",
    )
    .await;
    for sql in [
        "SELECT schema_name FROM information_schema.schemata WHERE schema_name = 'public'",
        "SELECT table_schema, table_name, table_type, is_typed FROM information_schema.tables
         WHERE table_schema = 'public' ORDER BY table_name",
        "SELECT table_name, column_name, ordinal_position, column_default, is_nullable, data_type,
           character_maximum_length, character_octet_length, numeric_precision,
           numeric_precision_radix, numeric_scale, datetime_precision, udt_schema, udt_name,
           domain_name, is_identity, identity_generation, identity_start, identity_increment,
           identity_minimum, identity_cycle, is_generated, is_updatable
         FROM information_schema.columns WHERE table_schema = 'public'
         AND column_name <> 'ratio'
         ORDER BY table_name, ordinal_position",
        "SELECT table_name, check_option, is_updatable FROM information_schema.views
         WHERE table_schema = 'public'",
        "SELECT constraint_name, table_name, constraint_type, is_deferrable, initially_deferred,
           enforced FROM information_schema.table_constraints
         WHERE table_schema = 'public' AND constraint_name NOT LIKE '%not_null' ORDER BY 1",
        "SELECT table_name, count(*) FROM information_schema.table_constraints
         WHERE table_schema = 'public' AND constraint_name LIKE '%not_null'
         GROUP BY table_name ORDER BY 1",
        "SELECT constraint_name, table_name, column_name, ordinal_position,
           position_in_unique_constraint FROM information_schema.key_column_usage
         WHERE table_schema = 'public' ORDER BY 1, 4",
        "SELECT constraint_name, unique_constraint_name, match_option, update_rule, delete_rule
         FROM information_schema.referential_constraints
         WHERE constraint_schema = 'public' ORDER BY 1",
        "SELECT table_name, column_name, constraint_name
         FROM information_schema.constraint_column_usage
         WHERE table_schema = 'public' ORDER BY 3, 1, 2",
        "SELECT sequence_schema, sequence_name, data_type, numeric_precision,
           numeric_precision_radix, numeric_scale, start_value, minimum_value, maximum_value,
           increment, cycle_option FROM information_schema.sequences ORDER BY sequence_name",
    ] {
        p.same_rows(sql).await;
    }
    // The catalog's name is the database's.
    let rows = Pair::rows(
        &p.ours,
        "SELECT DISTINCT table_catalog FROM information_schema.tables",
    )
    .await
    .unwrap();
    assert_eq!(rows, vec![vec!["postgres".to_string()]]);
}
