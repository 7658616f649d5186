//! Independent clients run against the adapters' servers, as the server tests of every
//! adapter do: PostgreSQL 15's own programs (psql, pgbench) and tokio-postgres.

use std::process::{Command, Output};

/// PostgreSQL 15's programs (the Debian package's directory).
pub const PG15_BIN: &str = "/usr/lib/postgresql/15/bin";

/// PostgreSQL 15's `program` (`psql`, `pgbench`) with an environment of `PATH` only
/// (no `PGHOST`, `PGSSLMODE`, ... from the caller).
pub fn command(program: &str) -> Command {
    let mut c = Command::new(format!("{PG15_BIN}/{program}"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    c
}

/// `psql` as [`command`] builds it.
pub fn psql() -> Command {
    command("psql")
}

/// Asserts that a client program succeeded (its stderr and `what` in the message);
/// returns its standard output, trimmed.
pub fn succeeded(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// psql runs `select 1` and an empty query against `conninfo`, where every query
/// answers 1.
pub fn psql_select_1(conninfo: &str) {
    let out = psql()
        .args(["-X", "-At", "-d", conninfo, "-c", "select 1", "-c", ""])
        .output()
        .unwrap();
    assert_eq!(succeeded(&out, "psql"), "1");
}

/// pgbench runs `select 1;` `transactions` times on each of `clients` connections with
/// query mode `mode` (`simple`, `extended`, `prepared`), as `user` with `password`, on
/// database `dbname` at 127.0.0.1:`port`: every transaction is processed, none fails.
pub fn pgbench_select_1(
    target: (u16, &str, &str, &str),
    mode: &str,
    clients: u32,
    transactions: u32,
) {
    let (port, user, password, dbname) = target;
    let script = std::env::temp_dir().join(format!("pgproto-select1-{port}-{mode}.sql"));
    std::fs::write(&script, "select 1;\n").unwrap();
    let out = command("pgbench")
        .env("PGPASSWORD", password)
        .args(["-n", "-M", mode, "-j", "2", "-h", "127.0.0.1", "-U", user])
        .args(["-p", &port.to_string()])
        .args(["-c", &clients.to_string(), "-t", &transactions.to_string()])
        .arg("-f")
        .arg(&script)
        .arg(dbname)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&script);
    let stdout = succeeded(&out, &format!("pgbench -M {mode}"));
    let total = clients * transactions;
    let processed = format!("number of transactions actually processed: {total}/{total}");
    assert!(stdout.contains(&processed), "{mode}: {stdout}");
    assert!(
        stdout.contains("number of failed transactions: 0"),
        "{mode}: {stdout}"
    );
}

/// tokio-postgres, an independent client, against a server where every query answers
/// 1: the extended protocol (binary results, a parameter), a prepared statement reused
/// by pipelined concurrent queries, the simple protocol.
pub async fn tokio_postgres_select_1(client: &tokio_postgres::Client) {
    let row = client.query_one("select $1::int4", &[&7i32]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
    let st = client.prepare("select 1").await.unwrap();
    let (a, b, c) = tokio::join!(
        client.query(&st, &[]),
        client.query(&st, &[]),
        client.query_one("select 2", &[])
    );
    assert_eq!(a.unwrap().len() + b.unwrap().len(), 2);
    assert_eq!(c.unwrap().get::<_, i32>(0), 1);
    let msgs = client.simple_query("select 1").await.unwrap();
    assert!(
        matches!(&msgs[1], tokio_postgres::SimpleQueryMessage::Row(r) if r.get(0) == Some("1"))
    );
}

/// tokio-postgres with a wrong password in `conninfo` is refused with 28P01.
pub async fn tokio_postgres_wrong_password(conninfo: &str) {
    let err = tokio_postgres::connect(conninfo, tokio_postgres::NoTls)
        .await
        .err()
        .expect("wrong password fails");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::INVALID_PASSWORD),
        "{conninfo}"
    );
}
