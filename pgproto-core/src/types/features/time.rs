//! `time` types: `Date` as `date`, `Time` as `time`, `PrimitiveDateTime` as `timestamp`,
//! `OffsetDateTime` as `timestamptz` (decoded in UTC).
//!
//! PostgreSQL's infinities, `24:00:00` and dates beyond the `time` crate's range are
//! [`TypeError::OutOfRange`]; nanoseconds are truncated to microseconds.

use ::time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::types::datetime::USECS_PER_DAY;
use crate::types::{oid, PgDate, PgTime, PgTimestamp, PgTimestampTz, TypeError};

fn range(target: &'static str) -> TypeError {
    TypeError::OutOfRange { target }
}

impl TryFrom<PgDate> for Date {
    type Error = TypeError;

    fn try_from(d: PgDate) -> Result<Self, Self::Error> {
        let (y, m, day) = d.ymd().ok_or(range("time::Date"))?;
        let month = u8::try_from(m)
            .ok()
            .and_then(|m| Month::try_from(m).ok())
            .ok_or(range("time::Date"))?;
        let day = u8::try_from(day).map_err(|_| range("time::Date"))?;
        Self::from_calendar_date(y, month, day).map_err(|_| range("time::Date"))
    }
}

impl TryFrom<Date> for PgDate {
    type Error = TypeError;

    fn try_from(d: Date) -> Result<Self, Self::Error> {
        Self::from_ymd(d.year(), u8::from(d.month()).into(), d.day().into()).ok_or(range("date"))
    }
}

impl TryFrom<PgTime> for Time {
    type Error = TypeError;

    fn try_from(t: PgTime) -> Result<Self, Self::Error> {
        if !(0..USECS_PER_DAY).contains(&t.0) {
            return Err(range("time::Time"));
        }
        let (h, m, s, us) = t.hms_micro();
        let narrow = |v: u32| u8::try_from(v).map_err(|_| range("time::Time"));
        Self::from_hms_micro(narrow(h)?, narrow(m)?, narrow(s)?, us)
            .map_err(|_| range("time::Time"))
    }
}

impl TryFrom<Time> for PgTime {
    type Error = TypeError;

    fn try_from(t: Time) -> Result<Self, Self::Error> {
        Self::from_hms_micro(
            t.hour().into(),
            t.minute().into(),
            t.second().into(),
            t.microsecond(),
        )
        .ok_or(range("time"))
    }
}

impl TryFrom<PgTimestamp> for PrimitiveDateTime {
    type Error = TypeError;

    fn try_from(ts: PgTimestamp) -> Result<Self, Self::Error> {
        let (d, t) = ts.date_time().ok_or(range("time::PrimitiveDateTime"))?;
        Ok(Self::new(Date::try_from(d)?, Time::try_from(t)?))
    }
}

impl TryFrom<PrimitiveDateTime> for PgTimestamp {
    type Error = TypeError;

    fn try_from(dt: PrimitiveDateTime) -> Result<Self, Self::Error> {
        Self::new(PgDate::try_from(dt.date())?, PgTime::try_from(dt.time())?)
            .ok_or(range("timestamp"))
    }
}

impl TryFrom<PgTimestampTz> for OffsetDateTime {
    type Error = TypeError;

    fn try_from(ts: PgTimestampTz) -> Result<Self, Self::Error> {
        let micros = ts.unix_micros().ok_or(range("time::OffsetDateTime"))?;
        Self::from_unix_timestamp_nanos(i128::from(micros) * 1000)
            .map_err(|_| range("time::OffsetDateTime"))
    }
}

impl TryFrom<OffsetDateTime> for PgTimestampTz {
    type Error = TypeError;

    fn try_from(dt: OffsetDateTime) -> Result<Self, Self::Error> {
        let micros = dt.unix_timestamp_nanos().div_euclid(1000);
        i64::try_from(micros)
            .ok()
            .and_then(Self::from_unix_micros)
            .ok_or(range("timestamptz"))
    }
}

via_pg_type!(Date, PgDate, oid::DATE);
via_pg_type!(Time, PgTime, oid::TIME);
via_pg_type!(PrimitiveDateTime, PgTimestamp, oid::TIMESTAMP);
via_pg_type!(OffsetDateTime, PgTimestampTz, oid::TIMESTAMPTZ);

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
        let d = Date::from_calendar_date(-43, Month::March, 15).unwrap();
        both(d, oid::DATE);
        let t = Time::from_hms_micro(12, 34, 56, 789).unwrap();
        both(t, oid::TIME);
        let dt = PrimitiveDateTime::new(d, t);
        both(dt, oid::TIMESTAMP);
        both(dt.assume_utc(), oid::TIMESTAMPTZ);
    }

    /// Vectors from PostgreSQL 15.x.
    #[test]
    fn postgres_vectors() {
        let date = Date::from_sql(oid::DATE, Format::Binary, b"\x00\x00\x22\x79").unwrap();
        assert_eq!(
            date,
            Date::from_calendar_date(2024, Month::February, 29).unwrap()
        );
        let tz =
            OffsetDateTime::from_sql(oid::TIMESTAMPTZ, Format::Text, b"1999-12-31 20:30:00-03:30")
                .unwrap();
        assert_eq!(tz.unix_timestamp(), 946_684_800);
        assert!(Date::from_sql(oid::DATE, Format::Text, b"-infinity").is_err());
        assert!(Date::from_sql(oid::DATE, Format::Text, b"10000-01-01").is_err());
        assert!(Time::from_sql(oid::TIME, Format::Text, b"24:00:00").is_err());
    }
}
