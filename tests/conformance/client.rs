//! The client against real PostgreSQL 15 and 18 started by the harness: simple and
//! extended queries, errors, transaction status, the function-call sub-protocol,
//! protocol negotiation, authentication methods, explicit pipelines, prepared
//! statements, portal suspension, cancellation, COPY and transactions.

use std::time::{Duration, Instant};

use pgproto_core::message::{Format, TransactionStatus};
use pgproto_core::sqlstate::SqlState;
use pgproto_tests::harness::{HbaMethod, PgCluster, PgVersion};

use crate::adapter::{self, Error};

fn cluster(version: PgVersion, auth: HbaMethod) -> PgCluster {
    PgCluster::builder()
        .version(version)
        .auth(auth)
        .start()
        .unwrap()
}

fn conninfo(pg: &PgCluster, user: &str, password: Option<&str>) -> String {
    format!("{} sslmode=disable", pg.connection_string(user, password))
}

maybe_async! {
    fn simple_and_extended(version: PgVersion) {
        let pg = cluster(version, HbaMethod::Trust);
        let mut c = aw!(adapter::connect(&conninfo(&pg, pg.superuser(), None))).unwrap();
        assert!(c
            .parameter("server_version")
            .unwrap()
            .starts_with(&version.major().to_string()));
        assert!(c.cancel_token().is_some());

        // Several statements, several result sets, an empty query.
        let sets = aw!(c
            .simple_query("select 1 as a, 'x' as b; select g from generate_series(1,3) g"))
            .unwrap();
        assert_eq!(sets.len(), 2);
        assert_eq!(sets[0].rows[0].raw("a"), Some(Some(&b"1"[..])));
        assert_eq!(sets[0].rows[0].raw("b"), Some(Some(&b"x"[..])));
        assert_eq!(sets[1].rows.len(), 3);
        assert_eq!(sets[1].rows_affected(), 3);
        let empty = aw!(c.simple_query("")).unwrap();
        assert!(
            empty.len() == 1 && empty[0].tag.is_none(),
            "empty query: {empty:?}"
        );

        // An error is a typed database error and the connection stays usable.
        let err = aw!(c.simple_query("select 1/0")).unwrap_err();
        let db = err.as_db_error().expect("database error");
        assert_eq!(db.code, SqlState::DivisionByZero);
        assert_eq!(aw!(c.simple_query("select 2")).unwrap()[0].rows.len(), 1);

        // Extended protocol with text and binary parameters and results.
        let rows = aw!(c
            .query_text(
                "select $1::int + 1 as n, $2::text as t",
                &[Some("41"), None],
            ))
            .unwrap();
        assert_eq!(rows[0].raw("n"), Some(Some(&b"42"[..])));
        assert_eq!(rows[0].raw("t"), Some(None));
        let set = aw!(c
            .query_raw(
                "select $1::int4 * 2",
                &[23],
                &[Some(&21i32.to_be_bytes())],
                Format::Binary,
                Format::Binary,
            ))
            .unwrap();
        assert_eq!(
            set.rows[0].raw(0usize),
            Some(Some(&42i32.to_be_bytes()[..]))
        );

        // An extended error, then the connection recovers.
        let err = aw!(c
            .query_text("select * from no_such_table", &[]))
            .unwrap_err();
        assert_eq!(err.as_db_error().unwrap().code, SqlState::UndefinedTable);
        assert_eq!(aw!(c.query_text("select 1", &[])).unwrap().len(), 1);

        // Transaction status follows ReadyForQuery.
        aw!(c.simple_query("begin")).unwrap();
        assert_eq!(c.transaction_status(), TransactionStatus::InTransaction);
        let _ = aw!(c.simple_query("select 1/0"));
        assert_eq!(c.transaction_status(), TransactionStatus::Failed);
        aw!(c.simple_query("rollback")).unwrap();
        assert_eq!(c.transaction_status(), TransactionStatus::Idle);

        // The function-call sub-protocol: int4pl (OID 177) adds two int4s; a strict
        // function given NULL returns NULL; int4div (OID 154) by zero is an error.
        let binary = pgproto_core::message::Format::Binary;
        let sum = aw!(c
            .function_call(
                177,
                &[Some(&2i32.to_be_bytes()), Some(&40i32.to_be_bytes())],
                binary,
                binary,
            ))
            .unwrap();
        assert_eq!(sum.as_deref(), Some(&42i32.to_be_bytes()[..]));
        let null = aw!(c
            .function_call(177, &[None, Some(&1i32.to_be_bytes())], binary, binary))
            .unwrap();
        assert_eq!(null, None);
        let err = aw!(c
            .function_call(
                154,
                &[Some(&1i32.to_be_bytes()), Some(&0i32.to_be_bytes())],
                binary,
                binary,
            ))
            .unwrap_err();
        assert_eq!(
            err.as_db_error().map(|e| e.code),
            Some(SqlState::DivisionByZero)
        );

        // Notices and notifications arrive as events.
        aw!(c.simple_query("do $$ begin raise notice 'hello'; end $$"))
            .unwrap();
        assert_eq!(aw!(c.notice()).unwrap().message, "hello");
        aw!(c.simple_query("listen chan; notify chan, 'payload'"))
            .unwrap();
        let n = aw!(c.notification()).unwrap();
        assert_eq!(
            (n.channel.as_str(), n.payload.as_str()),
            ("chan", "payload")
        );
        aw!(c.close()).unwrap();
    }
}

conformance_test! {
    fn simple_and_extended_pg15() {
        aw!(simple_and_extended(PgVersion::V15));
    }
}

conformance_test! {
    fn simple_and_extended_pg18() {
        aw!(simple_and_extended(PgVersion::V18));
    }
}

conformance_test! {
    fn protocol_negotiation() {
        // PostgreSQL 15 speaks 3.0 only and negotiates down; 18 accepts 3.2 and sends a
        // 32-byte cancel key.
        for (version, minor, key_len) in [(PgVersion::V15, 0, 4), (PgVersion::V18, 2, 32)] {
            let pg = cluster(version, HbaMethod::Trust);
            let c = aw!(adapter::connect(&conninfo(&pg, pg.superuser(), None))).unwrap();
            assert_eq!(c.protocol_version().minor, minor, "{version:?}");
            assert_eq!(c.cancel_token().unwrap().secret_key.len(), key_len);
        }
    }
}

conformance_test! {
    fn connection_errors_are_reported() {
        let pg = cluster(PgVersion::V15, HbaMethod::Trust);
        let err = aw!(adapter::connect(&format!(
            "{} dbname=no_such_db",
            conninfo(&pg, pg.superuser(), None)
        )))
        .unwrap_err();
        assert_eq!(
            err.as_db_error().unwrap().code,
            SqlState::InvalidCatalogName
        );
        // Nothing listens on port 1.
        assert!(matches!(
            aw!(adapter::connect("host=127.0.0.1 port=1 user=x sslmode=disable")),
            Err(Error::Io(_))
        ));
    }
}

maybe_async! {
    fn auth_methods(version: PgVersion) {
        use pgproto_core::client::AuthMethod;
        use pgproto_tests::harness::PasswordEncryption;
        let pg = cluster(version, HbaMethod::Trust);
        pg.create_role("scram_user", "pa ss", PasswordEncryption::ScramSha256)
            .unwrap();
        pg.create_role("md5_user", "secret", PasswordEncryption::Md5)
            .unwrap();
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
        ] {
            pg.set_hba(method).unwrap();
            let c = aw!(adapter::connect(&conninfo(&pg, user, Some(password)))).unwrap();
            assert_eq!(c.auth_method(), Some(expected), "{method:?}");
            // A wrong password is the server's 28P01.
            let err = aw!(adapter::connect(&conninfo(&pg, user, Some("wrong")))).unwrap_err();
            assert_eq!(
                err.as_db_error().map(|e| e.code),
                Some(SqlState::InvalidPassword),
                "{method:?}: {err}"
            );
            // No password at all is refused locally.
            let err = aw!(adapter::connect(&conninfo(&pg, user, None))).unwrap_err();
            assert!(err.to_string().contains("password"), "{err}");
        }
        // require_auth refuses weaker methods: the server asks for cleartext.
        pg.set_hba(HbaMethod::Password).unwrap();
        let err = aw!(adapter::connect(&format!(
            "{} require_auth=scram-sha-256",
            conninfo(&pg, "md5_user", Some("secret"))
        )))
        .unwrap_err();
        assert!(err.to_string().contains("does not allow"), "{err}");
        // channel_binding=require without TLS never sends the password.
        pg.set_hba(HbaMethod::ScramSha256).unwrap();
        let err = aw!(adapter::connect(&format!(
            "{} channel_binding=require",
            conninfo(&pg, "scram_user", Some("pa ss"))
        )))
        .unwrap_err();
        assert!(err.to_string().contains("channel binding"), "{err}");
        // Trust, when require_auth excludes "none".
        pg.set_hba(HbaMethod::Trust).unwrap();
        let err = aw!(adapter::connect(&format!(
            "{} require_auth=md5",
            conninfo(&pg, "md5_user", None)
        )))
        .unwrap_err();
        assert!(err.to_string().contains("none"), "{err}");
    }
}

conformance_test! {
    fn auth_methods_pg15() {
        aw!(auth_methods(PgVersion::V15));
    }
}

conformance_test! {
    fn auth_methods_pg18() {
        aw!(auth_methods(PgVersion::V18));
    }
}

maybe_async! {
    fn driver_features(version: PgVersion) {
        let pg = cluster(version, HbaMethod::Trust);
        let info = conninfo(&pg, pg.superuser(), None);
        let mut c = aw!(adapter::connect(&info)).unwrap();

        // A pipeline with an error in the middle: only that query fails.
        let results = aw!(c
            .pipeline(&[
                ("select $1::int4 + 1", &[&1i32]),
                ("select 1/$1::int4", &[&0i32]),
                ("select $1::text", &[&"after"]),
            ]))
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
        let st = aw!(c
            .prepare("select $1::int8 * 2 as doubled, $2::text as t"))
            .unwrap();
        assert_eq!(&*st.param_types, [20, 25]);
        let rows = aw!(c.query_prepared(&st, &[&21i64, &None::<String>])).unwrap();
        assert_eq!(rows[0].get::<i64, _>("doubled").unwrap(), 42);
        assert_eq!(rows[0].get::<Option<String>, _>("t").unwrap(), None);
        assert!(rows[0].get::<i64, _>("missing").is_err());
        aw!(c.execute(
            "create temporary table t (id int8 primary key, name text)",
            &[],
        ))
        .unwrap();
        assert_eq!(
            aw!(c.execute(
                "insert into t values ($1, $2), ($3, $4)",
                &[&1i64, &"a", &2i64, &"b"]
            ))
            .unwrap(),
            2
        );
        assert_eq!(
            aw!(c.query_one("select count(*) from t", &[]))
                .unwrap()
                .get::<i64, _>(0usize)
                .unwrap(),
            2
        );

        // A large result read through portal suspension, a batch at a time.
        let big = aw!(c
            .prepare("select g, g::text, g::int8 * 2 from generate_series(1, 100000) g"))
            .unwrap();
        let mut batches = 0;
        let mut sum = 0i64;
        let total = aw!(c
            .query_batched(&big, &[], 10_000, |rows| {
                batches += 1;
                assert!(rows.len() <= 10_000);
                for r in rows {
                    sum += r.get::<i64, _>(2usize).unwrap();
                }
                Ok(())
            }))
            .unwrap();
        assert_eq!(total, 100_000);
        assert!(batches >= 10, "{batches} batches");
        assert_eq!(sum, 100_000 * 100_001);
        // A batch that fails on the server, and a reader that gives up: the read ends with
        // that error, and the connection is in sync for what follows.
        let failing = aw!(c
            .prepare("select 1 / (50000 - g) from generate_series(1, 100000) g"))
            .unwrap();
        let mut seen = 0;
        let err = aw!(c
            .query_batched(&failing, &[], 10_000, |rows| {
                seen += rows.len();
                Ok(())
            }))
            .unwrap_err();
        assert_eq!(err.as_db_error().unwrap().code, SqlState::DivisionByZero);
        assert_eq!(seen, 40_000);
        let err = aw!(c
            .query_batched(&big, &[], 1_000, |_| Err(Error::application("enough"))))
            .unwrap_err();
        assert!(
            matches!(&err, Error::Application(e) if e.to_string() == "enough"),
            "{err}"
        );
        assert_eq!(c.transaction_status(), TransactionStatus::Idle);
        assert_eq!(
            aw!(c.query_one("select $1::int4", &[&7i32]))
                .unwrap()
                .get::<i32, _>(0usize)
                .unwrap(),
            7
        );

        // Notifications between two connections.
        let mut listener = aw!(adapter::connect(&info)).unwrap();
        aw!(listener.simple_query("listen events")).unwrap();
        aw!(c.execute("select pg_notify('events', $1)", &[&"from another session"]))
            .unwrap();
        let n = aw!(listener.notification()).unwrap();
        assert_eq!(n.payload, "from another session");
        assert_ne!(n.process_id, listener.cancel_token().unwrap().process_id);

        // Cancelling pg_sleep from another task (thread, for blocking).
        let canceller = adapter::cancel_later(c.canceller().unwrap(), Duration::from_millis(300));
        let started = Instant::now();
        let err = aw!(c.simple_query("select pg_sleep(30)")).unwrap_err();
        aw!(adapter::joined(canceller));
        assert_eq!(err.as_db_error().unwrap().code, SqlState::QueryCanceled);
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(
            aw!(c.query_one("select 1", &[]))
                .unwrap()
                .get::<i32, _>(0usize)
                .unwrap(),
            1
        );
    }
}

conformance_test! {
    fn driver_features_pg15() {
        aw!(driver_features(PgVersion::V15));
    }
}

conformance_test! {
    fn driver_features_pg18() {
        aw!(driver_features(PgVersion::V18));
    }
}

maybe_async! {
    fn copy_and_transactions(version: PgVersion) {
        let pg = cluster(version, HbaMethod::Trust);
        let mut c = aw!(adapter::connect(&conninfo(&pg, pg.superuser(), None))).unwrap();
        aw!(c.simple_query("create table items (id int8, name text)"))
            .unwrap();

        // COPY in 50,000 rows in uneven chunks, then out again with a checksum.
        let mut copy = aw!(c.copy_in("copy items from stdin")).unwrap();
        let mut chunk = String::new();
        for i in 1..=50_000u64 {
            chunk.push_str(&format!("{i}\tname {i}\n"));
            if chunk.len() > 5_000 {
                aw!(copy.send(adapter::copy_data(chunk.as_bytes()))).unwrap();
                chunk.clear();
            }
        }
        aw!(copy.send(adapter::copy_data(chunk.as_bytes()))).unwrap();
        assert_eq!(aw!(copy.finish()).unwrap(), 50_000);
        let (mut rows, mut sum) = (0u64, 0u64);
        let mut out = aw!(c.copy_out("copy (select id from items) to stdout")).unwrap();
        while let Some(data) = aw!(out.next()) {
            for line in std::str::from_utf8(&data.unwrap()).unwrap().lines() {
                rows += 1;
                sum += line.parse::<u64>().unwrap();
            }
        }
        let copied = out.rows().unwrap();
        drop(out);
        assert_eq!((copied, rows, sum), (50_000, 50_000, 50_000 * 50_001 / 2));

        // An aborted COPY leaves no rows; so does an abandoned one.
        let mut copy = aw!(c.copy_in("copy items from stdin")).unwrap();
        aw!(copy.send(&b"900001\tx\n"[..])).unwrap();
        let err = aw!(copy.abort("stop")).unwrap();
        assert_eq!(err.code, SqlState::QueryCanceled);
        {
            let mut copy = aw!(c.copy_in("copy items from stdin")).unwrap();
            aw!(copy.send(&b"900002\ty\n"[..])).unwrap();
        }
        let n = aw!(c
            .query_one("select count(*) from items where id > 900000", &[]))
            .unwrap();
        assert_eq!(n.get::<i64, _>(0usize).unwrap(), 0);

        // Transactions: commit, rollback, rollback on drop, savepoints.
        aw!(c.execute("create table t (v int4)", &[])).unwrap();
        let mut tx = aw!(c.transaction()).unwrap();
        aw!(tx.execute("insert into t values (1)", &[])).unwrap();
        {
            let mut inner = aw!(tx.transaction()).unwrap();
            aw!(inner.execute("insert into t values (2)", &[])).unwrap();
            aw!(inner.rollback()).unwrap();
        }
        {
            let mut inner = aw!(tx.transaction()).unwrap();
            aw!(inner.execute("insert into t values (3)", &[])).unwrap();
            aw!(inner.commit()).unwrap();
        }
        aw!(tx.commit()).unwrap();
        {
            let mut tx = aw!(c.transaction()).unwrap();
            aw!(tx.execute("insert into t values (4)", &[])).unwrap();
        }
        let values: Vec<i32> = aw!(c
            .query("select v from t order by v", &[]))
            .unwrap()
            .iter()
            .map(|r| r.get(0usize).unwrap())
            .collect();
        assert_eq!(values, [1, 3]);
        assert_eq!(c.transaction_status(), TransactionStatus::Idle);
    }
}

conformance_test! {
    fn copy_and_transactions_pg15() {
        aw!(copy_and_transactions(PgVersion::V15));
    }
}

conformance_test! {
    fn copy_and_transactions_pg18() {
        aw!(copy_and_transactions(PgVersion::V18));
    }
}

maybe_async! {
    /// Asynchronous messages: a ParameterStatus after SET updates `parameter`; a notice
    /// arrives through `notice`; notifications nobody takes are bounded and counted.
    fn asynchronous_messages(version: PgVersion) {
        let (_pg, url) = PgCluster::start_scram_app(version);
        let mut client = aw!(adapter::connect(&url)).unwrap();
        assert_eq!(client.transaction_status(), TransactionStatus::Idle);
        aw!(client.simple_query("listen ch")).unwrap();
        aw!(client.simple_query("notify ch, 'hello'")).unwrap();
        let n = aw!(client.notification()).unwrap();
        assert_eq!((n.channel.as_str(), n.payload.as_str()), ("ch", "hello"));

        assert_ne!(client.parameter("TimeZone").as_deref(), Some("Asia/Tokyo"));
        aw!(client.simple_query("set timezone = 'Asia/Tokyo'")).unwrap();
        assert_eq!(client.parameter("TimeZone").as_deref(), Some("Asia/Tokyo"));
        aw!(client.simple_query("do $$ begin raise notice 'careful: %', 42; end $$")).unwrap();
        let notice = aw!(client.notice()).unwrap();
        assert_eq!(notice.message, "careful: 42");
        assert_eq!(notice.code, SqlState::SuccessfulCompletion);
        assert_eq!(client.dropped_notices(), 0);

        let capacity = pgproto_core::client::DEFAULT_ASYNC_MESSAGE_CAPACITY;
        let sent = capacity + 76;
        aw!(client.simple_query(&format!(
            "select pg_notify('ch', g::text) from generate_series(1, {sent}) g"
        )))
        .unwrap();
        for expected in 1..=capacity {
            let n = aw!(client.notification()).unwrap();
            assert_eq!(n.payload, expected.to_string());
        }
        assert_eq!(client.dropped_notifications(), 76);
        aw!(client.simple_query("notify ch, 'after'")).unwrap();
        assert_eq!(aw!(client.notification()).unwrap().payload, "after");

        // After a failed function call the connection goes on.
        let binary = Format::Binary;
        let err = aw!(client.function_call(
            154,
            &[Some(&1i32.to_be_bytes()), Some(&0i32.to_be_bytes())],
            binary,
            binary,
        ))
        .unwrap_err();
        assert_eq!(
            err.as_db_error().map(|e| e.code),
            Some(SqlState::DivisionByZero)
        );
        let row = aw!(client.query_one("select 7 as n", &[])).unwrap();
        assert_eq!(row.get::<i32, _>("n").unwrap(), 7);
        aw!(client.close()).unwrap();
    }
}

conformance_test! {
    fn asynchronous_messages_pg15() {
        aw!(asynchronous_messages(PgVersion::V15));
    }
}

conformance_test! {
    fn asynchronous_messages_pg18() {
        aw!(asynchronous_messages(PgVersion::V18));
    }
}
