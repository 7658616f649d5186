//! Values written into typed columns, on PostgreSQL 15 and on pgproto-sqlite: a value
//! PostgreSQL's input function refuses fails on both (same SQLSTATE, or one listed in
//! [`KNOWN_DIFFERENT_CODES`] with its reason) and leaves the table as it was; a value
//! written in another form than PostgreSQL's own (`'t'` for a boolean, `'2024-1-2'` for
//! a date, a bytea in its text input form, an upper-case uuid, a timestamptz with an
//! offset, a jsonb object with its keys in another order) is stored as PostgreSQL stores it, so that selecting, comparing, sorting and
//! functions give PostgreSQL's answers.

mod support;

use tokio_postgres::{Client, SimpleQueryMessage};

const SCHEMA: &str = "CREATE TABLE v (id int PRIMARY KEY, n int, big bigint, b bool, \
     f float8, d date, ts timestamp, tz timestamptz, u uuid, j jsonb, by bytea, iv interval)";

/// Inserts PostgreSQL refuses.
const REFUSED: &[&str] = &[
    "INSERT INTO v (id, n) VALUES (1, 'abc')",
    "INSERT INTO v (id, n) VALUES (1, 5000000000)",
    "INSERT INTO v (id, big) VALUES (1, 'x1')",
    "INSERT INTO v (id, b) VALUES (1, 'maybe')",
    "INSERT INTO v (id, f) VALUES (1, 'fast')",
    "INSERT INTO v (id, d) VALUES (1, '2024-13-03')",
    "INSERT INTO v (id, d) VALUES (1, 'yesterday-ish')",
    "INSERT INTO v (id, ts) VALUES (1, '2024-01-01 25:00:00')",
    "INSERT INTO v (id, u) VALUES (1, 'nope')",
    "INSERT INTO v (id, j) VALUES (1, 'not json')",
    "INSERT INTO v (id, j) VALUES (1, '{\"a\": }')",
    "INSERT INTO v (id, iv) VALUES (1, 'soon')",
];

/// Refusals whose SQLSTATE differs from PostgreSQL's, and why.
const KNOWN_DIFFERENT_CODES: &[(&str, &str)] = &[
    (
        "INSERT INTO v (id, d) VALUES (1, '2024-13-03')",
        FIELD_OUT_OF_RANGE,
    ),
    (
        "INSERT INTO v (id, ts) VALUES (1, '2024-01-01 25:00:00')",
        FIELD_OUT_OF_RANGE,
    ),
];

/// Why a date/time field out of range has another SQLSTATE.
const FIELD_OUT_OF_RANGE: &str = "22007 (invalid_datetime_format) where PostgreSQL says \
     22008 (datetime_field_overflow): the core's date/time reader does not tell a field \
     out of range from bad syntax";

/// Rows PostgreSQL accepts in a form other than its own output.
const ACCEPTED: &str = "INSERT INTO v (id, n, b, d, ts, tz, u, by, iv, j) VALUES \
     (1, '12', 't', '2024-1-2', '2024-01-02T03:04:05', '2024-01-02 03:04:05+02', \
      'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '\\xdead', '1 day 02:00', \
      '{\"b\":1,\"a\" : [1e2, 1.50]}'), \
     (2, 7, 'no', '2024-01-10', '2024-01-02 03:04:05', '2024-01-02 02:04:05+00', \
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', 'ab', '26 hours', '{\"a\": 1, \"a\": 2}'), \
     (3, -1, 'yes', '2023-12-31', NULL, '2024-01-01 23:00:00-05', NULL, NULL, NULL, '[]')";

/// Queries over those rows.
const QUERIES: &[&str] = &[
    "SELECT id, n, b, d, ts, tz, u, by, iv FROM v ORDER BY id",
    "SELECT id, NOT b, b AND true FROM v ORDER BY id",
    "SELECT id FROM v WHERE b ORDER BY id",
    "SELECT id FROM v ORDER BY d, id",
    "SELECT id FROM v ORDER BY tz, id",
    "SELECT id, length(by) FROM v ORDER BY id",
    "SELECT count(*) FROM v WHERE u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
    "SELECT count(*) FROM v WHERE d = '2024-01-02'",
    "SELECT count(DISTINCT tz) FROM v",
    "SELECT id, j FROM v ORDER BY id",
    "SELECT count(*) FROM v WHERE j = '{\"a\":2}'::jsonb",
    "SELECT '{\"z\":null, \"y\" :[true]}'::jsonb",
    "UPDATE v SET b = 'off' WHERE id = 1",
    "SELECT id, b FROM v WHERE NOT b ORDER BY id",
];

/// A statement's rows as text, or its error's SQLSTATE.
async fn answer(c: &Client, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
    match c.simple_query(sql).await {
        Ok(messages) => Ok(messages
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => {
                    Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
                }
                _ => None,
            })
            .collect()),
        Err(e) => Err(e
            .as_db_error()
            .map_or_else(|| e.to_string(), |d| d.code().code().to_string())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_columns_take_what_postgresql_takes() {
    let cluster = support::postgresql_15();
    let pg = support::client(&cluster.superuser_conninfo("")).await;
    let served = support::serve_memory().await;
    let ours = support::client(&support::conninfo(served.port, "postgres")).await;
    for c in [&pg, &ours] {
        c.batch_execute(SCHEMA).await.unwrap();
    }
    let mut failures = Vec::new();
    for sql in REFUSED {
        let (want, got) = (answer(&pg, sql).await, answer(&ours, sql).await);
        let known = KNOWN_DIFFERENT_CODES.iter().any(|(k, _)| k == sql);
        match (&want, &got) {
            (Err(w), Err(g)) if w == g && !known => {}
            (Err(w), Err(g)) if w != g && known => {}
            (Err(_), Err(_)) if known => failures.push(format!(
                "{sql}: now fails as PostgreSQL: remove it from KNOWN_DIFFERENT_CODES"
            )),
            _ => failures.push(format!(
                "{sql}: PostgreSQL {want:?}, pgproto-sqlite {got:?}"
            )),
        }
    }
    // Nothing was stored by the refused inserts.
    for c in [&pg, &ours] {
        assert_eq!(
            answer(c, "SELECT count(*) FROM v").await,
            Ok(vec![vec![Some("0".to_string())]])
        );
    }
    for c in [&pg, &ours] {
        c.batch_execute(ACCEPTED).await.unwrap();
    }
    for sql in QUERIES {
        let (want, got) = (answer(&pg, sql).await, answer(&ours, sql).await);
        if want != got {
            failures.push(format!(
                "{sql}:\n  PostgreSQL     {want:?}\n  pgproto-sqlite {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
