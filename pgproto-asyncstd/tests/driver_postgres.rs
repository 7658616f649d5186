//! The futures-io client's typed API and driver features against PostgreSQL 15 and 18,
//! under async-std and under smol (one cluster per version): protocol 3.2 and the
//! fallback, every authentication method, wrong passwords, require_auth and
//! channel_binding refusals, a pipeline with an error in the middle, prepared
//! statements, a large result read through portal suspension, notifications between two
//! connections, cancelling pg_sleep.

mod common;

use std::time::{Duration, Instant};

use common::{Exec, BOTH};
use pgproto_asyncstd::{Client, Error};
use pgproto_core::client::AuthMethod;
use pgproto_core::message::{ProtocolVersion, TransactionStatus};
use pgproto_core::sqlstate::SqlState;
use pgproto_tests::harness::{HbaMethod, PasswordEncryption, PgCluster, PgVersion};

const LIMIT: Duration = Duration::from_secs(120);

fn conninfo(pg: &PgCluster, user: &str, password: Option<&str>) -> String {
    format!("{} sslmode=disable", pg.connection_string(user, password))
}

async fn protocol_and_errors(pg: &PgCluster, exec: Exec) {
    // 18 accepts 3.2 and sends a 32-byte cancel key; 15 negotiates down to 3.0.
    let (c, conn) = exec
        .connect(&conninfo(pg, pg.superuser(), None))
        .await
        .unwrap();
    let (version, key_len) = match pg.version() {
        PgVersion::V15 => (ProtocolVersion::V3_0, 4),
        PgVersion::V18 => (ProtocolVersion::V3_2, 32),
    };
    assert_eq!(c.protocol_version(), version);
    assert_eq!(c.cancel_token().unwrap().secret_key.len(), key_len);
    assert!(c
        .parameter("server_version")
        .unwrap()
        .starts_with(&pg.version().major().to_string()));
    c.close().await.unwrap();
    conn.await.unwrap();

    let err = Client::connect(&format!(
        "{} dbname=no_such_db",
        conninfo(pg, pg.superuser(), None)
    ))
    .await
    .unwrap_err();
    assert_eq!(
        err.as_db_error().unwrap().code,
        SqlState::InvalidCatalogName
    );
    assert!(matches!(
        Client::connect("host=127.0.0.1 port=1 user=x sslmode=disable").await,
        Err(Error::Io(_))
    ));
}

async fn auth_methods(pg: &PgCluster, exec: Exec) {
    for (method, user, password, expected) in [
        (
            HbaMethod::ScramSha256,
            "scram_user",
            "pa ss",
            AuthMethod::ScramSha256,
        ),
        (HbaMethod::Md5, "md5_user", "secret", AuthMethod::Md5),
        (
            HbaMethod::Password,
            "md5_user",
            "secret",
            AuthMethod::Password,
        ),
        (HbaMethod::Trust, "md5_user", "", AuthMethod::None),
    ] {
        pg.set_hba(method).unwrap();
        let password = Some(password).filter(|p| !p.is_empty());
        let (c, conn) = exec.connect(&conninfo(pg, user, password)).await.unwrap();
        assert_eq!(
            c.auth_method().unwrap_or(AuthMethod::None),
            expected,
            "{method:?}"
        );
        let rows = c.query("select current_user::text", &[]).await.unwrap();
        assert_eq!(rows[0].get::<String, _>(0usize).unwrap(), user);
        c.close().await.unwrap();
        conn.await.unwrap();
        if method == HbaMethod::Trust {
            continue;
        }
        // A wrong password is the server's 28P01.
        let err = Client::connect(&conninfo(pg, user, Some("wrong")))
            .await
            .unwrap_err();
        assert_eq!(
            err.as_db_error().map(|e| e.code),
            Some(SqlState::InvalidPassword),
            "{method:?}: {err}"
        );
        // No password at all is refused locally.
        let err = Client::connect(&conninfo(pg, user, None))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("password"), "{err}");
    }
    // require_auth refuses cleartext when the server asks for it.
    pg.set_hba(HbaMethod::Password).unwrap();
    let err = Client::connect(&format!(
        "{} require_auth=scram-sha-256",
        conninfo(pg, "md5_user", Some("secret"))
    ))
    .await
    .unwrap_err();
    assert!(err.to_string().contains("does not allow"), "{err}");
    // channel_binding=require without TLS never sends the password.
    pg.set_hba(HbaMethod::ScramSha256).unwrap();
    let err = Client::connect(&format!(
        "{} channel_binding=require",
        conninfo(pg, "scram_user", Some("pa ss"))
    ))
    .await
    .unwrap_err();
    assert!(err.to_string().contains("channel binding"), "{err}");
    // Trust, when require_auth excludes "none".
    pg.set_hba(HbaMethod::Trust).unwrap();
    let err = Client::connect(&format!(
        "{} require_auth=md5",
        conninfo(pg, "md5_user", None)
    ))
    .await
    .unwrap_err();
    assert!(err.to_string().contains("none"), "{err}");
}

async fn driver_features(pg: &PgCluster, exec: Exec) {
    let info = conninfo(pg, pg.superuser(), None);
    let (c, conn) = exec.connect(&info).await.unwrap();

    // A pipeline with an error in the middle: only that query fails.
    let results = c
        .pipeline(&[
            ("select $1::int4 + 1", &[&1i32]),
            ("select 1/$1::int4", &[&0i32]),
            ("select $1::text", &[&"after"]),
        ])
        .await
        .unwrap();
    assert_eq!(
        results[0].as_ref().unwrap()[0]
            .get::<i32, _>(0usize)
            .unwrap(),
        2
    );
    assert_eq!(
        results[1].as_ref().unwrap_err().as_db_error().unwrap().code,
        SqlState::DivisionByZero
    );
    assert_eq!(
        results[2].as_ref().unwrap()[0]
            .get::<String, _>(0usize)
            .unwrap(),
        "after"
    );

    // Prepared statements, typed parameters, NULL.
    let st = c
        .prepare("select $1::int8 * 2 as doubled, $2::text as t")
        .await
        .unwrap();
    assert_eq!(&*st.param_types, [20, 25]);
    let rows = c
        .query_prepared(&st, &[&21i64, &None::<String>])
        .await
        .unwrap();
    assert_eq!(rows[0].get::<i64, _>("doubled").unwrap(), 42);
    assert_eq!(rows[0].get::<Option<String>, _>("t").unwrap(), None);
    assert!(rows[0].get::<i64, _>("missing").is_err());
    let typed = c.prepare_typed("select $1 as v", &[20]).await.unwrap();
    let row = c.query_prepared(&typed, &[&5i64]).await.unwrap();
    assert_eq!(row[0].get::<i64, _>("v").unwrap(), 5);
    assert!(c.query_prepared(&typed, &[]).await.is_err());
    let err = c.prepare("select * from no_such_table").await.unwrap_err();
    assert_eq!(err.as_db_error().unwrap().code, SqlState::UndefinedTable);
    c.execute(
        "create temporary table t (id int8 primary key, name text)",
        &[],
    )
    .await
    .unwrap();
    assert_eq!(
        c.execute(
            "insert into t values ($1, $2), ($3, $4)",
            &[&1i64, &"a", &2i64, &"b"]
        )
        .await
        .unwrap(),
        2
    );
    assert_eq!(
        c.query_one("select count(*) from t", &[])
            .await
            .unwrap()
            .get::<i64, _>(0usize)
            .unwrap(),
        2
    );
    assert!(c.query_one("select * from t", &[]).await.is_err());

    // A large result read through portal suspension, a batch at a time, while other
    // tasks submit queries: they wait for the portal's Sync, and all succeed.
    let big = c
        .prepare("select g, g::text, g::int8 * 2 from generate_series(1, 100000) g")
        .await
        .unwrap();
    let mut batches = 0;
    let mut sum = 0i64;
    let (total, others) = futures_lite::future::zip(
        c.query_batched(&big, &[], 10_000, |rows| {
            batches += 1;
            assert!(rows.len() <= 10_000);
            for r in rows {
                sum += r.get::<i64, _>(2usize).unwrap();
            }
            Ok(())
        }),
        async {
            let mut n = 0;
            for i in 0..5i32 {
                let row = c.query_one("select $1::int4", &[&i]).await.unwrap();
                n += row.get::<i32, _>(0usize).unwrap();
            }
            n
        },
    )
    .await;
    assert_eq!(total.unwrap(), 100_000);
    assert_eq!(others, 10);
    assert!(batches >= 10, "{batches} batches");
    assert_eq!(sum, 100_000 * 100_001);
    // A batch that fails on the server, and a reader that gives up: each read ends with
    // its error, and the connection stays in sync.
    let failing = c
        .prepare("select 1 / (50000 - g) from generate_series(1, 100000) g")
        .await
        .unwrap();
    let mut seen = 0;
    let err = c
        .query_batched(&failing, &[], 10_000, |rows| {
            seen += rows.len();
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(err.as_db_error().unwrap().code, SqlState::DivisionByZero);
    assert_eq!(seen, 40_000);
    let err = c
        .query_batched(&big, &[], 1_000, |_| Err(Error::application("enough")))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Application(e) if e.to_string() == "enough"),
        "{err}"
    );
    // A read abandoned midway (its future dropped) still closes the portal.
    let abandoned = futures_lite::future::or(
        async {
            c.query_batched(&big, &[], 100, |_| Ok(())).await.unwrap();
            false
        },
        async {
            async_io::Timer::after(Duration::from_millis(30)).await;
            true
        },
    )
    .await;
    assert!(abandoned, "100000 rows in 30 ms: abandon nothing");
    assert_eq!(c.transaction_status(), TransactionStatus::Idle);
    assert_eq!(
        c.query_one("select $1::int4", &[&7i32])
            .await
            .unwrap()
            .get::<i32, _>(0usize)
            .unwrap(),
        7
    );

    // Notifications between two connections.
    let (listener, listener_conn) = exec.connect(&info).await.unwrap();
    listener.simple_query("listen events").await.unwrap();
    c.execute("select pg_notify('events', $1)", &[&"from another session"])
        .await
        .unwrap();
    let n = listener.notification().await.unwrap();
    assert_eq!(n.payload, "from another session");
    assert_eq!(n.process_id, c.cancel_token().unwrap().process_id);
    listener.close().await.unwrap();
    listener_conn.await.unwrap();

    // Cancelling pg_sleep with Client::cancel_with, over TCP and over the Unix socket.
    let token = c.cancel_token().unwrap().clone();
    for host in [
        "127.0.0.1".to_string(),
        pg.socket_dir().display().to_string(),
    ] {
        let started = Instant::now();
        let (slow, ()) = futures_lite::future::zip(c.simple_query("select pg_sleep(30)"), async {
            async_io::Timer::after(Duration::from_millis(300)).await;
            let canceller = pgproto_asyncstd::Canceller {
                token: token.clone(),
                host: host.clone(),
                port: pg.port(),
            };
            Client::cancel_with(&canceller).await.unwrap();
        })
        .await;
        let err = slow.unwrap_err();
        assert_eq!(
            err.as_db_error().unwrap().code,
            SqlState::QueryCanceled,
            "{host}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    assert_eq!(
        c.query_one("select 1", &[])
            .await
            .unwrap()
            .get::<i32, _>(0usize)
            .unwrap(),
        1
    );
    c.close().await.unwrap();
    conn.await.unwrap();
}

fn run(version: PgVersion) {
    let pg = PgCluster::builder()
        .version(version)
        .auth(HbaMethod::Trust)
        .start()
        .unwrap();
    pg.create_role("scram_user", "pa ss", PasswordEncryption::ScramSha256)
        .unwrap();
    pg.create_role("md5_user", "secret", PasswordEncryption::Md5)
        .unwrap();
    for exec in BOTH {
        exec.block_on(LIMIT, async {
            protocol_and_errors(&pg, exec).await;
            driver_features(&pg, exec).await;
            auth_methods(&pg, exec).await;
        });
    }
}

#[test]
fn driver_pg15() {
    run(PgVersion::V15);
}

#[test]
fn driver_pg18() {
    run(PgVersion::V18);
}
