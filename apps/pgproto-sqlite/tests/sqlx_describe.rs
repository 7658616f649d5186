//! What sqlx's `query!` macro learns from the server, on PostgreSQL 15 and on
//! pgproto-sqlite: a statement's parameter types, column names and types (Parse and
//! Describe), the columns' origin (RowDescription's table OID and attribute number), and
//! their nullability. sqlx reads nullability in two steps (sqlx-postgres
//! `connection/describe.rs`): `NOT attnotnull` from `pg_attribute` for each column's
//! origin, then `EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE ...` to mark the inner side of
//! outer joins. pgproto-sqlite answers the first as PostgreSQL does and refuses the
//! second with 0A000 (SQLite has no such plan), so `Executor::describe` fails there: the
//! known difference this test pins.

mod support;

use pgproto_tests::harness::{PgCluster, PgVersion};
use sqlx::postgres::PgConnection;
use sqlx::{Column, Connection, Either, Executor, Statement, TypeInfo};

const SCHEMA: &str = "
create table accounts (id integer primary key, big bigint not null, name text not null,
  nick varchar(20), amount numeric(10, 2), active boolean not null default true,
  created timestamptz, uid uuid, data jsonb);
create table posts (id bigint primary key, account_id integer not null references accounts (id),
  title varchar(100) not null, body text)";

const STATEMENTS: &[&str] = &[
    "select * from accounts where id = $1",
    "select name, nick, amount from accounts where uid = $1 and active = $2",
    "insert into accounts (id, big, name, nick, amount, created, data) values ($1, $2, $3, $4, $5, $6, $7) returning id, name, created",
    "select a.name, p.title, p.body from accounts a join posts p on p.account_id = a.id where a.big > $1",
    "select count(*) as n, max(amount) as top, min(name) as first from accounts where name like $1",
    "update accounts set nick = $1, amount = $2 where id = $3",
    "delete from posts where account_id = $1 returning id, title",
];

/// What sqlx reports for each statement, one line each; and what `describe` said.
async fn report(url: &str) -> (Vec<String>, Vec<Result<Vec<Option<bool>>, String>>) {
    let mut conn = PgConnection::connect(url).await.unwrap();
    for ddl in SCHEMA.split(';') {
        conn.execute(ddl).await.unwrap();
    }
    let mut lines = Vec::new();
    let mut described = Vec::new();
    for sql in STATEMENTS {
        let st = conn.prepare(sql).await.unwrap();
        let params = match st.parameters() {
            Some(Either::Left(types)) => types.iter().map(|t| t.name().to_string()).collect(),
            Some(Either::Right(n)) => vec![format!("{n} untyped")],
            None => vec![],
        };
        let columns: Vec<String> = st
            .columns()
            .iter()
            .map(|c| {
                let origin = match (c.relation_id(), c.relation_attribute_no()) {
                    (Some(_), Some(n)) => format!("column {n}"),
                    _ => "expression".to_string(),
                };
                format!("{} {} ({origin})", c.name(), c.type_info().name())
            })
            .collect();
        lines.push(format!("{sql}\n  params {params:?}\n  columns {columns:?}"));
        // sqlx's first nullability step, as it builds it.
        if !st.columns().is_empty() {
            let mut q = String::from("SELECT NOT attnotnull FROM ( ");
            for (i, _) in st.columns().iter().enumerate() {
                let n = i * 3;
                if i > 0 {
                    q.push_str("UNION ALL ");
                }
                q.push_str(&format!(
                    "( SELECT ${}::int4 AS idx, ${}::int4 AS table_id, ${}::int2 AS col_idx ) ",
                    n + 1,
                    n + 2,
                    n + 3
                ));
            }
            q.push_str(
                ") AS col LEFT JOIN pg_catalog.pg_attribute ON table_id IS NOT NULL \
                 AND attrelid = table_id AND attnum = col_idx ORDER BY idx",
            );
            let mut query = sqlx::query_scalar::<_, Option<bool>>(&q);
            for (i, c) in st.columns().iter().enumerate() {
                query = query
                    .bind(i32::try_from(i).unwrap())
                    .bind(c.relation_id().map(|o| o.0 as i32))
                    .bind(c.relation_attribute_no());
            }
            let nullable = query.fetch_all(&mut conn).await.unwrap();
            lines.push(format!("  not-null step {nullable:?}"));
        }
        described.push(
            conn.describe(sql)
                .await
                .map(|d| (0..d.columns().len()).map(|i| d.nullable(i)).collect())
                .map_err(|e| match e.as_database_error() {
                    Some(d) => format!("{} {}", d.code().unwrap_or_default(), d.message()),
                    None => e.to_string(),
                }),
        );
    }
    conn.close().await.unwrap();
    (lines, described)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlx_describes_statements_as_postgresql_does() {
    let (pg, _) = PgCluster::start_trust(PgVersion::V15);
    let (want, want_described) = report(&pg.connection_url(pg.superuser(), None)).await;
    let support::Served { port, stop, .. } = support::serve_memory().await;
    let (have, have_described) =
        report(&format!("postgresql://alice@127.0.0.1:{port}/postgres")).await;
    for (w, h) in want.iter().zip(&have) {
        assert_eq!(h, w);
    }
    assert_eq!(have.len(), want.len());
    for (sql, (w, h)) in STATEMENTS
        .iter()
        .zip(want_described.iter().zip(&have_described))
    {
        let w = w.as_ref().unwrap();
        if w.is_empty() {
            // No columns: sqlx does not ask for nullability.
            assert_eq!(h.as_ref(), Ok(w), "{sql}");
            continue;
        }
        // Known difference: sqlx's EXPLAIN step is refused, so describe fails.
        let e = h.as_ref().unwrap_err();
        assert!(e.contains("0A000") && e.contains("EXPLAIN"), "{sql}: {e}");
    }
    drop(stop);
    drop(pg);
}
