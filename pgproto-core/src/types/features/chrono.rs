//! `chrono` types: `NaiveDate` as `date`, `NaiveTime` as `time`, `NaiveDateTime` as
//! `timestamp`, `DateTime<Utc>` and `DateTime<FixedOffset>` as `timestamptz`.
//!
//! PostgreSQL's infinities, `24:00:00` and dates beyond chrono's range are
//! [`TypeError::OutOfRange`]; chrono's nanoseconds are truncated to microseconds and a
//! leap second (`23:59:60`) is read as `23:59:59.999999`. `DateTime<FixedOffset>` decodes
//! with offset `+00:00`.

use ::chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc,
};

use crate::types::datetime::{USECS_PER_DAY, USECS_PER_SEC};
use crate::types::{oid, PgDate, PgTime, PgTimestamp, PgTimestampTz, TypeError};

fn range(target: &'static str) -> TypeError {
    TypeError::OutOfRange { target }
}

impl TryFrom<PgDate> for NaiveDate {
    type Error = TypeError;

    fn try_from(d: PgDate) -> Result<Self, Self::Error> {
        let (y, m, day) = d.ymd().ok_or(range("chrono::NaiveDate"))?;
        Self::from_ymd_opt(y, m, day).ok_or(range("chrono::NaiveDate"))
    }
}

impl TryFrom<NaiveDate> for PgDate {
    type Error = TypeError;

    fn try_from(d: NaiveDate) -> Result<Self, Self::Error> {
        Self::from_ymd(d.year(), d.month(), d.day()).ok_or(range("date"))
    }
}

impl TryFrom<PgTime> for NaiveTime {
    type Error = TypeError;

    fn try_from(t: PgTime) -> Result<Self, Self::Error> {
        if !(0..USECS_PER_DAY).contains(&t.0) {
            return Err(range("chrono::NaiveTime"));
        }
        let secs = u32::try_from(t.0 / USECS_PER_SEC).map_err(|_| range("chrono::NaiveTime"))?;
        let nanos =
            u32::try_from(t.0 % USECS_PER_SEC * 1000).map_err(|_| range("chrono::NaiveTime"))?;
        Self::from_num_seconds_from_midnight_opt(secs, nanos).ok_or(range("chrono::NaiveTime"))
    }
}

impl TryFrom<NaiveTime> for PgTime {
    type Error = TypeError;

    fn try_from(t: NaiveTime) -> Result<Self, Self::Error> {
        let micros = (t.nanosecond() / 1000).min(999_999);
        Ok(Self(
            i64::from(t.num_seconds_from_midnight()) * USECS_PER_SEC + i64::from(micros),
        ))
    }
}

impl TryFrom<PgTimestamp> for NaiveDateTime {
    type Error = TypeError;

    fn try_from(ts: PgTimestamp) -> Result<Self, Self::Error> {
        let (d, t) = ts.date_time().ok_or(range("chrono::NaiveDateTime"))?;
        Ok(Self::new(NaiveDate::try_from(d)?, NaiveTime::try_from(t)?))
    }
}

impl TryFrom<NaiveDateTime> for PgTimestamp {
    type Error = TypeError;

    fn try_from(dt: NaiveDateTime) -> Result<Self, Self::Error> {
        Self::new(PgDate::try_from(dt.date())?, PgTime::try_from(dt.time())?)
            .ok_or(range("timestamp"))
    }
}

impl TryFrom<PgTimestampTz> for DateTime<Utc> {
    type Error = TypeError;

    fn try_from(ts: PgTimestampTz) -> Result<Self, Self::Error> {
        let micros = ts.unix_micros().ok_or(range("chrono::DateTime"))?;
        Self::from_timestamp_micros(micros).ok_or(range("chrono::DateTime"))
    }
}

impl TryFrom<DateTime<Utc>> for PgTimestampTz {
    type Error = TypeError;

    fn try_from(dt: DateTime<Utc>) -> Result<Self, Self::Error> {
        Self::from_unix_micros(dt.timestamp_micros()).ok_or(range("timestamptz"))
    }
}

impl TryFrom<PgTimestampTz> for DateTime<FixedOffset> {
    type Error = TypeError;

    fn try_from(ts: PgTimestampTz) -> Result<Self, Self::Error> {
        DateTime::<Utc>::try_from(ts).map(|dt| dt.fixed_offset())
    }
}

impl TryFrom<DateTime<FixedOffset>> for PgTimestampTz {
    type Error = TypeError;

    fn try_from(dt: DateTime<FixedOffset>) -> Result<Self, Self::Error> {
        Self::try_from(dt.to_utc())
    }
}

via_pg_type!(NaiveDate, PgDate, oid::DATE);
via_pg_type!(NaiveTime, PgTime, oid::TIME);
via_pg_type!(NaiveDateTime, PgTimestamp, oid::TIMESTAMP);
via_pg_type!(DateTime<Utc>, PgTimestampTz, oid::TIMESTAMPTZ);
via_pg_type!(DateTime<FixedOffset>, PgTimestampTz, oid::TIMESTAMPTZ);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Format, FromSql, ToSql};
    use bytes::BytesMut;

    fn both<T>(v: T, oid: crate::types::Oid)
    where
        T: ToSql + for<'a> FromSql<'a> + PartialEq + core::fmt::Debug,
    {
        for format in [Format::Binary, Format::Text] {
            let mut out = BytesMut::new();
            v.to_sql(oid, format, &mut out).unwrap();
            assert_eq!(T::from_sql(oid, format, &out).unwrap(), v);
        }
    }

    #[test]
    fn roundtrips() {
        let d = NaiveDate::from_ymd_opt(-43, 3, 15).unwrap();
        both(d, oid::DATE);
        let t = NaiveTime::from_hms_micro_opt(12, 34, 56, 789).unwrap();
        both(t, oid::TIME);
        let dt = NaiveDateTime::new(d, t);
        both(dt, oid::TIMESTAMP);
        both(dt.and_utc(), oid::TIMESTAMPTZ);
        both(dt.and_utc().fixed_offset(), oid::TIMESTAMPTZ);
    }

    /// Binary vectors from PostgreSQL 15.x (date_send, timestamp_send, timestamptz_send).
    #[test]
    fn postgres_vectors() {
        let date = NaiveDate::from_sql(oid::DATE, Format::Binary, b"\xff\xf4\x9d\x7b").unwrap();
        assert_eq!(date, NaiveDate::from_ymd_opt(-43, 3, 15).unwrap());
        let ts = NaiveDateTime::from_sql(
            oid::TIMESTAMP,
            Format::Binary,
            b"\x00\x02\x5f\xad\xb1\x9a\xf0\x00",
        )
        .unwrap();
        assert_eq!(ts.to_string(), "2021-03-04 05:06:07.123456");
        let tz =
            DateTime::<Utc>::from_sql(oid::TIMESTAMPTZ, Format::Text, b"2000-01-01 05:30:00+05:30")
                .unwrap();
        assert_eq!(tz.timestamp(), 946_684_800);
        let east = FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
        let mut out = BytesMut::new();
        tz.with_timezone(&east)
            .to_sql(oid::TIMESTAMPTZ, Format::Binary, &mut out)
            .unwrap();
        assert_eq!(&out[..], &[0; 8]);
        assert!(NaiveDate::from_sql(oid::DATE, Format::Text, b"infinity").is_err());
        assert!(NaiveTime::from_sql(oid::TIME, Format::Text, b"24:00:00").is_err());
        assert!(NaiveDate::from_sql(oid::DATE, Format::Text, b"5874897-12-31").is_err());
        assert!(NaiveDate::from_sql(oid::TIMESTAMP, Format::Binary, &[0; 8]).is_err());
    }
}
