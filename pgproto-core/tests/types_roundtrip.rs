//! Property tests over the whole `types` API: every value type round-trips through
//! both formats, alone, in one-dimensional arrays with NULLs and in multi-dimensional
//! arrays; and arbitrary bytes, under every OID this crate knows and in both formats,
//! never make any decoder panic.

use std::borrow::Cow;
use std::fmt::Debug;
use std::net::IpAddr;
use std::time::SystemTime;

use bytes::BytesMut;
use pgproto_core::message::Format;
use pgproto_core::types::{
    oid, ArrayDimension, FromSql, IsNull, Json, Oid, PgArray, PgDate, PgInet, PgInterval,
    PgNumeric, PgTime, PgTimeTz, PgTimestamp, PgTimestampTz, PgUuid, ToSql,
};
use proptest::prelude::*;

const FORMATS: [Format; 2] = [Format::Binary, Format::Text];

fn encode(v: &dyn ToSql, oid: Oid, format: Format) -> Vec<u8> {
    let mut out = BytesMut::new();
    match v.to_sql(oid, format, &mut out) {
        Ok(IsNull::No) => out.to_vec(),
        other => panic!("{v:?} as {oid} {format:?}: {other:?}"),
    }
}

/// decode(encode(v)) == v in both formats, for the value, for `[v, NULL, v]` as a
/// one-dimensional array and for a 2x2 array with a lower bound of 0.
fn roundtrip<T>(v: T, oid: Oid) -> Result<(), TestCaseError>
where
    T: for<'a> FromSql<'a> + ToSql + Clone + Debug,
{
    let same = |a: &dyn Debug, b: &dyn Debug| format!("{a:?}") == format!("{b:?}");
    let array = oid::array_of(oid).expect("every type here has an array type");
    for format in FORMATS {
        let bytes = encode(&v, oid, format);
        let back = T::from_sql(oid, format, &bytes).unwrap();
        prop_assert!(same(&back, &v), "{:?} {:?} -> {:?}", format, v, back);

        let list = vec![Some(v.clone()), None, Some(v.clone())];
        let bytes = encode(&list, array, format);
        let back = Vec::<Option<T>>::from_sql(array, format, &bytes).unwrap();
        prop_assert!(same(&back, &list), "{:?} {:?} -> {:?}", format, list, back);

        let dims = vec![
            ArrayDimension {
                len: 2,
                lower_bound: 0,
            },
            ArrayDimension {
                len: 2,
                lower_bound: 1,
            },
        ];
        let grid = PgArray::new(dims, vec![Some(v.clone()), None, None, Some(v.clone())]).unwrap();
        let bytes = encode(&grid, array, format);
        let back = PgArray::<Option<T>>::from_sql(array, format, &bytes).unwrap();
        prop_assert!(same(&back, &grid), "{:?} {:?} -> {:?}", format, grid, back);
    }
    Ok(())
}

fn numeric() -> impl Strategy<Value = PgNumeric> {
    prop_oneof![
        Just(PgNumeric::NAN),
        Just(PgNumeric::INFINITY),
        Just(PgNumeric::NEG_INFINITY),
        (any::<bool>(), "[0-9]{0,50}", 0u16..60)
            .prop_map(|(n, d, s)| PgNumeric::new(n, &d, s).unwrap()),
    ]
}

fn inet() -> impl Strategy<Value = PgInet> {
    prop_oneof![
        (any::<[u8; 4]>(), 0u8..=32).prop_map(|(a, p)| PgInet::new(IpAddr::from(a), p).unwrap()),
        (any::<[u16; 8]>(), 0u8..=128, 0usize..8, 0usize..8).prop_map(|(mut w, p, from, n)| {
            w.iter_mut().skip(from).take(n).for_each(|x| *x = 0);
            PgInet::new(IpAddr::from(w), p).unwrap()
        }),
    ]
}

proptest! {
    #[test]
    fn scalars(b: bool, c: i8, s: i16, i: i32, l: i64, o: u32) {
        roundtrip(b, oid::BOOL)?;
        roundtrip(c, oid::CHAR)?;
        roundtrip(s, oid::INT2)?;
        roundtrip(i, oid::INT4)?;
        roundtrip(l, oid::INT8)?;
        roundtrip(o, oid::OID)?;
    }

    #[test]
    fn floats(f in any::<f32>().prop_filter("NaN != NaN", |f| !f.is_nan()), d in any::<f64>().prop_filter("NaN", |d| !d.is_nan())) {
        roundtrip(f, oid::FLOAT4)?;
        roundtrip(d, oid::FLOAT8)?;
    }

    #[test]
    fn strings_and_bytes(s in "\\PC*", b in proptest::collection::vec(any::<u8>(), 0..40)) {
        roundtrip(s.clone(), oid::TEXT)?;
        roundtrip(s.clone(), oid::VARCHAR)?;
        roundtrip(s.clone(), oid::NAME)?;
        roundtrip(Json(s.clone()), oid::JSONB)?;
        roundtrip(Json(s.clone()), oid::JSON)?;
        roundtrip(s.clone().into_boxed_str(), oid::TEXT)?;
        // Borrowing types, which decode from the encoded bytes they borrow.
        for format in FORMATS {
            let text = encode(&s.as_str(), oid::BPCHAR, format);
            prop_assert_eq!(Cow::<str>::from_sql(oid::BPCHAR, format, &text).unwrap(), s.as_str());
            let bytes = encode(&b.as_slice(), oid::BYTEA, format);
            prop_assert_eq!(Cow::<[u8]>::from_sql(oid::BYTEA, format, &bytes).unwrap(), b.as_slice());
        }
        roundtrip(b, oid::BYTEA)?;
    }

    #[test]
    fn other_types(n in numeric(), u: [u8; 16], a in inet()) {
        roundtrip(n, oid::NUMERIC)?;
        roundtrip(PgUuid(u), oid::UUID)?;
        roundtrip(a, oid::INET)?;
        roundtrip(a.addr(), oid::INET)?;
        // A cidr has no bits right of the prefix.
        if a.is_network() {
            roundtrip(a, oid::CIDR)?;
        }
    }

    #[test]
    fn date_and_time(d: i32, t in 0i64..=86_400_000_000, offset in -57_599i32..=57_599, ts: i64, months: i32, days: i32, micros: i64) {
        roundtrip(PgDate(d), oid::DATE)?;
        roundtrip(PgTime(t), oid::TIME)?;
        roundtrip(PgTimeTz { time: PgTime(t), offset }, oid::TIMETZ)?;
        roundtrip(PgTimestamp(ts), oid::TIMESTAMP)?;
        roundtrip(PgTimestampTz(ts), oid::TIMESTAMPTZ)?;
        roundtrip(PgInterval { months, days, microseconds: micros }, oid::INTERVAL)?;
    }

    #[test]
    fn system_time(micros in -(1i64 << 52)..(1i64 << 52)) {
        let t = if micros >= 0 {
            SystemTime::UNIX_EPOCH + std::time::Duration::from_micros(micros.unsigned_abs())
        } else {
            SystemTime::UNIX_EPOCH - std::time::Duration::from_micros(micros.unsigned_abs())
        };
        roundtrip(t, oid::TIMESTAMPTZ)?;
    }
}

/// Every OID this crate names, the unspecified OID and a few unknown ones.
fn all_oids() -> Vec<Oid> {
    let mut oids: Vec<Oid> = (0..6000).filter(|&o| oid::type_name(o).is_some()).collect();
    oids.extend([0, 6001, 99_999, u32::MAX]);
    oids
}

/// Runs every decoder on `raw` under every OID in both formats.
fn decode_everything(raw: &[u8], oids: &[Oid]) {
    macro_rules! all {
        ($($t:ty),* $(,)?) => {
            for &o in oids {
                for format in FORMATS {
                    $(
                        let _ = <$t>::from_sql(o, format, raw);
                        let _ = <Option<$t>>::from_sql_nullable(o, format, Some(raw));
                        let _ = <Vec<Option<$t>>>::from_sql(o, format, raw);
                        let _ = <PgArray<$t>>::from_sql(o, format, raw);
                        let _ = <$t>::from_sql_temporary(o, format, raw);
                    )*
                }
            }
        };
    }
    all!(
        bool,
        i8,
        i16,
        i32,
        i64,
        u32,
        f32,
        f64,
        String,
        &str,
        Cow<'_, str>,
        Box<str>,
        Vec<u8>,
        &[u8],
        Cow<'_, [u8]>,
        PgNumeric,
        PgDate,
        PgTime,
        PgTimeTz,
        PgTimestamp,
        PgTimestampTz,
        PgInterval,
        PgUuid,
        PgInet,
        IpAddr,
        Json<String>,
        SystemTime,
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..48)) {
        decode_everything(&raw, &all_oids());
    }

    /// Bytes shaped like a binary array header, so decoding gets past the first checks.
    #[test]
    fn random_arrays_never_panic(
        ndim in 0i32..4,
        flags in 0i32..2,
        element in prop::sample::select(vec![16u32, 17, 20, 21, 23, 25, 700, 701, 869, 1082, 1083, 1114, 1184, 1186, 1266, 1700, 2950, 3802]),
        dims in proptest::collection::vec((0i32..3, -2i32..3), 0..4),
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut raw = Vec::new();
        raw.extend(ndim.to_be_bytes());
        raw.extend(flags.to_be_bytes());
        raw.extend(element.to_be_bytes());
        for (len, lower) in dims {
            raw.extend(len.to_be_bytes());
            raw.extend(lower.to_be_bytes());
        }
        raw.extend(body);
        let array = oid::array_of(element).unwrap();
        decode_everything(&raw, &[array, 0]);
    }

    /// Text shaped like an array literal.
    #[test]
    fn random_array_text_never_panics(s in "(\\[[0-9:-]{0,5}\\]){0,2}=?[{}\",\\\\ aN0-9.:-]{0,40}") {
        decode_everything(s.as_bytes(), &[oid::TEXT_ARRAY, oid::INT4_ARRAY, oid::NUMERIC_ARRAY, oid::TIMESTAMP_ARRAY, 0]);
    }
}
