//! The tokio client's typed API against PostgreSQL 15 and 18: values of every family
//! sent as parameters and read back in binary, compared with PostgreSQL's own text
//! output; notifications between two connections.

use std::fmt::Debug;

use bytes::BytesMut;
use pgproto_core::message::Format;
use pgproto_core::types::{
    oid, Json, PgDate, PgInet, PgInterval, PgNumeric, PgTimestampTz, PgUuid,
};
use pgproto_tests::harness::{HbaMethod, PgCluster, PgVersion};
use pgproto_tokio::{Client, FromSql, ToSql};

async fn check<T>(c: &Client, pgtype: &str, literal: &str)
where
    T: ToSql + Sync + for<'a> FromSql<'a> + Debug,
{
    let ctx = format!("{literal}::{pgtype}");
    let quoted = literal.replace('\'', "''");
    let type_oid = oid::oid_of(pgtype.trim_end_matches("[]"))
        .map(|o| {
            if pgtype.ends_with("[]") {
                oid::array_of(o).unwrap()
            } else {
                o
            }
        })
        .unwrap();
    let row = c
        .query_one(&format!("select '{quoted}'::{pgtype} as v"), &[])
        .await
        .unwrap_or_else(|e| panic!("{ctx}: {e}"));
    let v: T = row.get("v").unwrap_or_else(|e| panic!("{ctx}: {e}"));
    let text = c
        .query_text(&format!("select '{quoted}'::{pgtype}"), &[])
        .await
        .unwrap();
    let pg_text = String::from_utf8(text[0].raw(0usize).unwrap().unwrap().to_vec()).unwrap();
    let mut ours = BytesMut::new();
    v.to_sql(type_oid, Format::Text, &mut ours).unwrap();
    assert_eq!(
        std::str::from_utf8(&ours).unwrap(),
        pg_text,
        "{ctx}: text encoding"
    );
    // Sent back as a typed (binary) parameter, PostgreSQL prints the same text.
    let back = c
        .query_one(
            &format!("select $1::{pgtype}::text = $2::{pgtype}::text as same"),
            &[&v, &pg_text.as_str()],
        )
        .await
        .unwrap_or_else(|e| panic!("{ctx}: parameter: {e}"));
    assert!(
        back.get::<bool, _>("same").unwrap(),
        "{ctx}: parameter round trip"
    );
    let from_text: T = text[0].get(0usize).unwrap();
    assert_eq!(
        format!("{from_text:?}"),
        format!("{v:?}"),
        "{ctx}: text result"
    );
}

async fn run(version: PgVersion) {
    let pg = PgCluster::builder()
        .version(version)
        .auth(HbaMethod::Trust)
        .start()
        .unwrap();
    let info = format!(
        "{} sslmode=disable options='-c TimeZone=UTC'",
        pg.connection_string(pg.superuser(), None)
    );
    let c = Client::connect(&info).await.unwrap();
    check::<bool>(&c, "bool", "true").await;
    check::<i16>(&c, "int2", "-32768").await;
    check::<i32>(&c, "int4", "2147483647").await;
    check::<i64>(&c, "int8", "-9223372036854775808").await;
    check::<f32>(&c, "float4", "3.4028235e+38").await;
    check::<f64>(&c, "float8", "-Infinity").await;
    check::<PgNumeric>(&c, "numeric", "12345678901234567890.123456789").await;
    check::<String>(&c, "text", "ünïcödé ☃").await;
    check::<Vec<u8>>(&c, "bytea", "\\x00ff10").await;
    check::<PgUuid>(&c, "uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").await;
    check::<Json<String>>(&c, "jsonb", "{\"a\": [1, 2.5, null]}").await;
    check::<PgDate>(&c, "date", "4713-01-01 BC").await;
    check::<PgTimestampTz>(&c, "timestamptz", "2024-06-01 12:30:00.123456+02").await;
    check::<PgInterval>(&c, "interval", "1 year 2 mons 3 days 04:05:06.5").await;
    check::<PgInet>(&c, "inet", "2001:db8::1/64").await;
    check::<Vec<Option<i32>>>(&c, "int4[]", "{1,NULL,3}").await;
    check::<Vec<Option<String>>>(&c, "text[]", "{\"a b\",\"c\\\"d\",NULL}").await;

    // Notifications between two connections.
    let listener = Client::connect(&info).await.unwrap();
    listener.simple_query("listen events").await.unwrap();
    c.execute("select pg_notify('events', $1)", &[&"hello from c"])
        .await
        .unwrap();
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), listener.notification())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n.payload, "hello from c");
    assert_ne!(n.process_id, listener.cancel_token().unwrap().process_id);
}

#[tokio::test]
async fn pg15() {
    run(PgVersion::V15).await;
}

#[tokio::test]
async fn pg18() {
    run(PgVersion::V18).await;
}
