//! Values as PostgreSQL 15.x prints and sends them (`x::text` and the type's `*send`
//! function, e.g. `select x::text, encode(array_send(x), 'hex')`), decoded and re-encoded
//! through the public API in both formats.
//!
//! The unit tests next to each codec hold the per-type vectors; these cover the
//! combinations (arrays of each element type, time zones, Ryu's corner cases) and the
//! behaviour a driver relies on.

use std::fmt::Debug;

use bytes::BytesMut;
use pgproto_core::message::Format;
use pgproto_core::types::{
    encode_with_length, oid, FromSql, IsNull, Json, Oid, PgArray, PgDate, PgInet, PgInterval,
    PgNumeric, PgTimeTz, PgTimestampTz, PgUuid, ToSql, TypeError,
};

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn encode(v: &dyn ToSql, oid: Oid, format: Format) -> Vec<u8> {
    let mut out = BytesMut::new();
    assert_eq!(v.to_sql(oid, format, &mut out).unwrap(), IsNull::No);
    out.to_vec()
}

/// Decodes `text` and `bin`, checks they agree, and re-encodes both byte for byte
/// (text only when `exact_text`: `timestamptz` is re-encoded in UTC).
fn check<T>(oid: Oid, text: &str, bin: &str, exact_text: bool)
where
    T: for<'a> FromSql<'a> + ToSql + Debug,
{
    let bin = unhex(bin);
    let from_text =
        T::from_sql(oid, Format::Text, text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"));
    let from_bin = T::from_sql(oid, Format::Binary, &bin).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(format!("{from_text:?}"), format!("{from_bin:?}"), "{text}");
    assert_eq!(encode(&from_bin, oid, Format::Binary), bin, "{text}");
    if exact_text {
        assert_eq!(
            String::from_utf8(encode(&from_bin, oid, Format::Text)).unwrap(),
            text
        );
    }
}

#[test]
fn arrays_of_each_element_type() {
    check::<PgArray<Option<i64>>>(
        oid::INT8_ARRAY,
        "{{687275691136722432,NULL},{-1,-884977908046464384}}",
        "00000002000000010000001400000002000000010000000200000001000000080989b19988f72600ffffffff00000008ffffffffffffffff00000008f3b7ed480cd27a80",
        true,
    );
    check::<Vec<Vec<u8>>>(
        oid::BYTEA_ARRAY,
        r#"{"\\x8edfda34720a21ed49a200efb1d90286","\\x5c22","\\x"}"#,
        "0000000100000000000000110000000300000001000000108edfda34720a21ed49a200efb1d90286000000025c2200000000",
        true,
    );
    check::<Vec<PgInet>>(
        oid::INET_ARRAY,
        "{10.66.0.1/15,2001:db8::f589}",
        "000000010000000000000365000000020000000100000008020f00040a420001000000140380001020010db800000000000000000000f589",
        true,
    );
    check::<Vec<PgUuid>>(
        oid::UUID_ARRAY,
        "{eb38128e-9294-4766-a57b-cd7191d6f9d7,b856385b-43f9-4aaf-b0fc-5ce254557e55}",
        "000000010000000000000b86000000020000000100000010eb38128e92944766a57bcd7191d6f9d700000010b856385b43f94aafb0fc5ce254557e55",
        true,
    );
    check::<Vec<PgDate>>(
        oid::DATE_ARRAY,
        r#"{"0649-09-29 BC",4108-06-01,infinity}"#,
        "00000001000000000000043a000000030000000100000004fff13f1600000004000bc023000000047fffffff",
        true,
    );
    check::<Vec<PgInterval>>(
        oid::INTERVAL_ARRAY,
        r#"{"10 days","-1 days +00:00:01"}"#,
        "0000000100000000000004a200000002000000010000001000000000000000000000000a000000000000001000000000000f4240ffffffff00000000",
        true,
    );
    check::<Vec<Option<PgNumeric>>>(
        oid::NUMERIC_ARRAY,
        "{1.5,NaN,NULL}",
        "0000000100000001000006a400000003000000010000000c0002000000000001000113880000000800000000c0000000ffffffff",
        true,
    );
    check::<Vec<Option<String>>>(
        oid::TEXT_ARRAY,
        r#"{a,"","NULL","null","with space","q\"uote","back\\slash","{x}","a,b",NULL,é,"tab	",nul}"#,
        "0000000100000001000000190000000d00000001000000016100000000000000044e554c4c000000046e756c6c0000000a77697468207370616365000000067122756f74650000000a6261636b5c736c617368000000037b787d00000003612c62ffffffff00000002c3a90000000474616209000000036e756c",
        true,
    );
}

/// `timestamptz` and `timetz` printed under `TimeZone` settings with odd offsets
/// (America/St_Johns, Asia/Kathmandu's local mean time, Europe/Amsterdam).
#[test]
fn time_zones() {
    for (text, bin) in [
        ("2080-10-05 10:46:45.338326-02:30", "00090e01a45752d6"),
        ("1889-02-08 08:47:36.449445-03:30:52", "fff3914cfa77a8a5"),
        ("3657-05-30 15:42:43.879635+05:41:16 BC", "fd85ef9b1dd017d3"),
        ("2053-10-26 05:23:22.649362+01", "000608ab0c83ab12"),
    ] {
        check::<PgTimestampTz>(oid::TIMESTAMPTZ, text, bin, false);
    }
    check::<PgTimeTz>(
        oid::TIMETZ,
        "13:38:22.47447+01",
        "0000000b6ebc4ce6fffff1f0",
        true,
    );
}

/// Floats where PostgreSQL's Ryu (which never prints the midpoint between two floats,
/// and rounds ties to even) differs from the shortest round-trip decimal.
#[test]
fn float_output_matches_postgres_ryu() {
    for (text, bin) in [
        ("5.7462099999999997e+20", "443f2677e30707bc"),
        ("8.094739999999999e+20", "4445f0daad1c8946"),
        ("1.1471699999999999e+21", "444f18174684346e"),
        ("2.4989199999999997e+21", "4460eeef6884f0e4"),
        ("5.952099999999999e+20", "444022195ab89c20"),
    ] {
        check::<f64>(oid::FLOAT8, text, bin, true);
    }
    for (text, bin) in [
        ("312985.12", "4898d324"),
        ("4.1520888e+07", "4c1e63be"),
        ("4.0075322e+06", "4a7499b1"),
        ("-1.8054492e+06", "c9dc644a"),
        ("7.028582e+09", "4fd177d3"),
    ] {
        check::<f32>(oid::FLOAT4, text, bin, true);
    }
}

#[test]
fn json_and_strings() {
    // jsonb_send('{"a": 1, "b": [true, null]}').
    let jsonb = unhex("017b2261223a20312c202262223a205b747275652c206e756c6c5d7d");
    let Json(doc) = Json::<String>::from_sql(oid::JSONB, Format::Binary, &jsonb).unwrap();
    assert_eq!(doc, r#"{"a": 1, "b": [true, null]}"#);
    assert_eq!(
        encode(&Json(doc.as_str()), oid::JSONB, Format::Binary),
        jsonb
    );
    // Any type's text form reads as a string; binary needs a textual type.
    assert_eq!(
        String::from_sql(oid::INTERVAL, Format::Text, b"1 day"),
        Ok("1 day".to_owned())
    );
    assert!(matches!(
        String::from_sql(oid::INTERVAL, Format::Binary, &[0; 16]),
        Err(TypeError::UnsupportedFormat { .. })
    ));
}

/// What a client does with a parameter list: Parse types from `type_oid`, formats from
/// `preferred_format`, then Bind values with their lengths.
#[test]
fn bind_parameters() {
    let when = PgTimestampTz(0);
    let tags = vec![Some("a"), None];
    let params: &[&dyn ToSql] = &[&1i32, &"x", &None::<i64>, &when, &tags, &"2024-02-29"];
    let types: Vec<Oid> = params.iter().map(|p| p.type_oid()).collect();
    assert_eq!(
        types,
        [
            oid::INT4,
            oid::TEXT,
            oid::INT8,
            oid::TIMESTAMPTZ,
            oid::TEXT_ARRAY,
            oid::TEXT
        ]
    );
    // The server declared the last parameter a date: a string goes as text.
    let declared = [
        oid::INT8,
        oid::VARCHAR,
        oid::INT8,
        oid::TIMESTAMPTZ,
        oid::TEXT_ARRAY,
        oid::DATE,
    ];
    let mut out = BytesMut::new();
    let mut formats = Vec::new();
    for (p, &ty) in params.iter().zip(&declared) {
        let format = p.preferred_format(ty);
        formats.push(format);
        encode_with_length(*p, ty, format, &mut out).unwrap();
    }
    assert_eq!(formats.last(), Some(&Format::Text));
    let expected = unhex(concat!(
        "00000008",
        "0000000000000001",
        "00000001",
        "78",
        "ffffffff",
        "00000008",
        "0000000000000000",
        "0000001d",
        "000000010000000100000019000000020000000100000001",
        "61ffffffff",
        "0000000a",
        "323032342d30322d3239",
    ));
    assert_eq!(out.to_vec(), expected);
}

/// Errors are typed, and the wrong type never decodes by accident.
#[test]
fn type_errors() {
    assert_eq!(
        i32::from_sql(oid::TEXT, Format::Binary, b"1234"),
        Err(TypeError::WrongType {
            rust_type: "i32",
            oid: oid::TEXT
        })
    );
    assert_eq!(
        i64::from_sql_nullable(oid::INT8, Format::Binary, None),
        Err(TypeError::UnexpectedNull {
            rust_type: "i64",
            oid: oid::INT8
        })
    );
    assert!(matches!(
        Vec::<i32>::from_sql(
            oid::INT4_ARRAY,
            Format::Binary,
            &unhex("000000000000000000000014")
        ),
        Err(TypeError::ElementTypeMismatch {
            expected: 23,
            actual: 20
        })
    ));
    let mut out = BytesMut::new();
    assert_eq!(
        40_000i32.to_sql(oid::INT2, Format::Binary, &mut out),
        Err(TypeError::OutOfRange { target: "int2" })
    );
    assert!(matches!(
        PgNumeric::from_sql(oid::NUMERIC, Format::Text, b"12abc"),
        Err(TypeError::InvalidValue { .. })
    ));
    let e = TypeError::WrongType {
        rust_type: "i32",
        oid: oid::TEXT,
    };
    let _: &dyn std::error::Error = &e;
}
