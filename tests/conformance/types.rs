//! Every type round-tripped in both formats against real PostgreSQL 15 and 18, and
//! compared with what PostgreSQL itself prints for the value; notifications between
//! two connections.
//!
//! For each literal: PostgreSQL sends the value in binary (decoded here) and its own text
//! form; this library's text encoding must equal PostgreSQL's text; the value sent back
//! as a binary parameter must print the same; the text form sent as a text parameter must
//! come back as the same value; and the text-format result must decode to it too.

use std::fmt::Debug;

use bytes::BytesMut;
use pgproto_core::message::Format;
use pgproto_core::types::{
    oid, FromSql, Json, PgDate, PgInet, PgInterval, PgNumeric, PgTime, PgTimeTz, PgTimestamp,
    PgTimestampTz, PgUuid, ToSql,
};
use pgproto_tests::harness::{HbaMethod, PgCluster, PgVersion};

use crate::adapter::{self, Client};

fn text_of(v: &dyn ToSql, type_oid: u32) -> String {
    let mut buf = BytesMut::new();
    v.to_sql(type_oid, Format::Text, &mut buf).unwrap();
    String::from_utf8(buf.to_vec()).unwrap()
}

maybe_async! {
    fn check<T>(c: &mut Client, pgtype: &str, literal: &str)
    where
        T: ToSql + Sync + for<'a> FromSql<'a> + Debug,
    {
        let ctx = format!("{literal}::{pgtype}");
        let type_oid = oid::oid_of(pgtype.trim_end_matches("[]"))
            .map(|o| {
                if pgtype.ends_with("[]") {
                    oid::array_of(o).unwrap()
                } else {
                    o
                }
            })
            .unwrap_or_else(|| panic!("no OID for {pgtype}"));
        let quoted = literal.replace('\'', "''");
        // 1. Binary from the server, and the server's own text output (text-format result).
        let row = aw!(c
            .query(&format!("select '{quoted}'::{pgtype} as v"), &[]))
            .unwrap_or_else(|e| panic!("{ctx}: {e}"));
        let v: T = row[0].get("v").unwrap_or_else(|e| panic!("{ctx}: {e}"));
        let text_rows = aw!(c
            .query_text(&format!("select '{quoted}'::{pgtype}"), &[]))
            .unwrap();
        let pg_text = String::from_utf8(text_rows[0].raw(0usize).unwrap().unwrap().to_vec()).unwrap();
        // 2. Our text encoding equals PostgreSQL's.
        assert_eq!(text_of(&v, type_oid), pg_text, "{ctx}: text encoding");
        // 3. Our binary encoding, read by the server, prints the same.
        let mut binary = BytesMut::new();
        v.to_sql(type_oid, Format::Binary, &mut binary).unwrap();
        let back = aw!(c
            .query_raw(
                &format!("select $1::{pgtype}"),
                &[type_oid],
                &[Some(&binary)],
                Format::Binary,
                Format::Text,
            ))
            .unwrap_or_else(|e| panic!("{ctx}: binary parameter: {e}"));
        assert_eq!(
            back.rows[0].raw(0usize).unwrap().unwrap(),
            pg_text.as_bytes(),
            "{ctx}: binary parameter"
        );
        // 4. Our text form as a text parameter comes back as the same value.
        let set = aw!(c
            .query_raw(
                &format!("select $1::{pgtype}"),
                &[type_oid],
                &[Some(pg_text.as_bytes())],
                Format::Text,
                Format::Binary,
            ))
            .unwrap_or_else(|e| panic!("{ctx}: text parameter: {e}"));
        let again: T = set.rows[0].get(0usize).unwrap();
        assert_eq!(
            format!("{again:?}"),
            format!("{v:?}"),
            "{ctx}: text parameter"
        );
        // 5. The text-format result decodes to the same value.
        let from_text: T = text_rows[0]
            .get(0usize)
            .unwrap_or_else(|e| panic!("{ctx}: text result: {e}"));
        assert_eq!(
            format!("{from_text:?}"),
            format!("{v:?}"),
            "{ctx}: text result"
        );
        // 6. A typed parameter (the value's own type) round-trips through the server.
        let typed = aw!(c
            .query(&format!("select $1::{pgtype} as v"), &[&v]))
            .unwrap_or_else(|e| panic!("{ctx}: typed parameter: {e}"));
        let typed_v: T = typed[0].get("v").unwrap();
        assert_eq!(
            format!("{typed_v:?}"),
            format!("{v:?}"),
            "{ctx}: typed parameter"
        );
        // 7. Sent back as a typed (binary) parameter next to PostgreSQL's own text,
        // PostgreSQL prints both the same.
        let back = aw!(c.query_one(
            &format!("select $1::{pgtype}::text = $2::{pgtype}::text as same"),
            &[&v, &pg_text.as_str()],
        ))
        .unwrap_or_else(|e| panic!("{ctx}: parameter: {e}"));
        assert!(
            back.get::<bool, _>("same").unwrap(),
            "{ctx}: parameter round trip"
        );
    }
}

maybe_async! {
    fn all_types(c: &mut Client) {
        for l in ["true", "false"] {
            aw!(check::<bool>(c, "bool", l));
        }
        for l in ["-32768", "0", "32767"] {
            aw!(check::<i16>(c, "int2", l));
        }
        for l in ["-2147483648", "42", "2147483647"] {
            aw!(check::<i32>(c, "int4", l));
        }
        for l in ["-9223372036854775808", "9223372036854775807"] {
            aw!(check::<i64>(c, "int8", l));
        }
        for l in [
            "1.5",
            "-0",
            "NaN",
            "Infinity",
            "-Infinity",
            "3.4028235e+38",
            "1e-45",
            "0.1",
        ] {
            aw!(check::<f32>(c, "float4", l));
        }
        for l in [
            "0.1",
            "1e+308",
            "-2.2250738585072014e-308",
            "NaN",
            "-Infinity",
            "312985.125",
        ] {
            aw!(check::<f64>(c, "float8", l));
        }
        for l in [
            "0",
            "-1.500",
            "12345678901234567890.123456789",
            "0.0000001",
            "NaN",
            "Infinity",
            "-Infinity",
            "1e-20",
        ] {
            aw!(check::<PgNumeric>(c, "numeric", l));
        }
        for l in ["hello", "ünïcödé ☃", "", "quote ' and \\ backslash"] {
            aw!(check::<String>(c, "text", l));
            aw!(check::<String>(c, "varchar", l));
        }
        aw!(check::<String>(c, "name", "pg_class"));
        aw!(check::<Vec<u8>>(c, "bytea", "\\x00ff10"));
        aw!(check::<Vec<u8>>(c, "bytea", ""));
        aw!(check::<PgUuid>(c, "uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
        aw!(check::<Json<String>>(c, "json", "{\"a\": [1, 2.5, null]}"));
        aw!(check::<Json<String>>(c, "jsonb", "{\"b\": {\"c\": true}, \"a\": \"x\"}"));
        for l in [
            "2024-02-29",
            "infinity",
            "-infinity",
            "4713-01-01 BC",
            "1999-12-31",
        ] {
            aw!(check::<PgDate>(c, "date", l));
        }
        for l in ["00:00:00", "23:59:59.999999", "12:34:56.5"] {
            aw!(check::<PgTime>(c, "time", l));
        }
        for l in ["12:00:00+05:30", "00:00:01-08", "23:59:59.25+00"] {
            aw!(check::<PgTimeTz>(c, "timetz", l));
        }
        for l in [
            "2000-01-01 00:00:00",
            "1999-12-31 23:59:59.5",
            "infinity",
            "0044-03-15 12:00:00 BC",
        ] {
            aw!(check::<PgTimestamp>(c, "timestamp", l));
        }
        for l in [
            "2024-06-01 12:30:00+02",
            "-infinity",
            "1970-01-01 00:00:00+00",
        ] {
            aw!(check::<PgTimestampTz>(c, "timestamptz", l));
        }
        for l in [
            "1 year 2 mons 3 days 04:05:06.5",
            "-00:00:01",
            "0",
            "-1 years -2 mons +3 days",
        ] {
            aw!(check::<PgInterval>(c, "interval", l));
        }
        for l in ["0", "4294967295"] {
            aw!(check::<u32>(c, "oid", l));
        }
        for l in ["192.168.0.1/24", "::1", "2001:db8::1/64", "10.1.2.3"] {
            aw!(check::<PgInet>(c, "inet", l));
        }
        for l in ["10.0.0.0/8", "2001:db8::/32"] {
            aw!(check::<PgInet>(c, "cidr", l));
        }
        aw!(check::<Vec<Option<i32>>>(c, "int4[]", "{1,2,NULL}"));
        aw!(check::<Vec<i32>>(c, "int4[]", "{}"));
        aw!(check::<Vec<Option<String>>>(c, "text[]", "{\"a b\",\"c\\\"d\",NULL,\"\"}"));
        aw!(check::<Vec<f64>>(c, "float8[]", "{1.5,NaN,-Infinity}"));
        aw!(check::<Vec<PgNumeric>>(c, "numeric[]", "{1.10,-2}"));
        aw!(check::<Vec<bool>>(c, "bool[]", "{t,f}"));
        aw!(check::<Vec<PgDate>>(c, "date[]", "{2020-01-01,infinity}"));
        aw!(check::<Vec<PgTimestampTz>>(c, "timestamptz[]", "{\"2020-01-01 00:00:00+00\"}"));
        aw!(check::<Vec<PgUuid>>(c, "uuid[]", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"));
        aw!(check::<Vec<Vec<u8>>>(c, "bytea[]", "{\"\\\\x01\"}"));
        aw!(check::<pgproto_core::types::PgArray<i32>>(c, "int4[]", "{{1,2},{3,4}}"));
        aw!(check::<Option<i32>>(c, "int4", "7"));
        // The literals only the tokio client's test had.
        aw!(check::<PgTimestampTz>(c, "timestamptz", "2024-06-01 12:30:00.123456+02"));
        aw!(check::<Vec<Option<i32>>>(c, "int4[]", "{1,NULL,3}"));
        aw!(check::<Vec<Option<String>>>(c, "text[]", "{\"a b\",\"c\\\"d\",NULL}"));
    }
}

maybe_async! {
    fn run(version: PgVersion) {
        let pg = PgCluster::start_with(version, HbaMethod::Trust);
        let info = pg.superuser_conninfo("options='-c TimeZone=UTC'");
        let mut c = aw!(adapter::connect(&info)).unwrap();
        aw!(all_types(&mut c));

        // Notifications between two connections.
        let mut listener = aw!(adapter::connect(&info)).unwrap();
        aw!(listener.simple_query("listen events")).unwrap();
        aw!(c.execute("select pg_notify('events', $1)", &[&"hello from c"])).unwrap();
        let n = aw!(listener.notification()).unwrap();
        assert_eq!(n.payload, "hello from c");
        assert_ne!(n.process_id, listener.cancel_token().unwrap().process_id);
        aw!(listener.close()).unwrap();
        aw!(c.close()).unwrap();
    }
}

conformance_test! {
    fn every_type_both_formats_pg15() {
        aw!(run(PgVersion::V15));
    }
}

conformance_test! {
    fn every_type_both_formats_pg18() {
        aw!(run(PgVersion::V18));
    }
}
