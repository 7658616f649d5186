//! Helpers shared by the codecs: a bounded big-endian reader, text checks, and the
//! boilerplate macros for owned [`FromSql`](super::FromSql) and natural-type
//! [`ToSql`](super::ToSql) impls.

use super::{Oid, TypeError};

/// Reads big-endian integers off untrusted bytes; every read is bounds-checked.
#[derive(Debug, Clone)]
pub(crate) struct BinReader<'a> {
    rest: &'a [u8],
    type_name: &'static str,
}

impl<'a> BinReader<'a> {
    pub(crate) fn new(type_name: &'static str, raw: &'a [u8]) -> Self {
        Self {
            rest: raw,
            type_name,
        }
    }

    fn truncated(&self) -> TypeError {
        TypeError::InvalidValue {
            type_name: self.type_name,
            reason: "truncated binary value",
        }
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], TypeError> {
        match self.rest.split_first_chunk::<N>() {
            Some((head, tail)) => {
                self.rest = tail;
                Ok(*head)
            }
            None => Err(self.truncated()),
        }
    }

    pub(crate) fn u8(&mut self) -> Result<u8, TypeError> {
        self.array::<1>().map(|[b]| b)
    }

    pub(crate) fn i16(&mut self) -> Result<i16, TypeError> {
        self.array().map(i16::from_be_bytes)
    }

    pub(crate) fn u16(&mut self) -> Result<u16, TypeError> {
        self.array().map(u16::from_be_bytes)
    }

    pub(crate) fn i32(&mut self) -> Result<i32, TypeError> {
        self.array().map(i32::from_be_bytes)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, TypeError> {
        self.array().map(u32::from_be_bytes)
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], TypeError> {
        if n > self.rest.len() {
            return Err(self.truncated());
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Fails unless every byte was consumed.
    pub(crate) fn finish(self) -> Result<(), TypeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(TypeError::InvalidValue {
                type_name: self.type_name,
                reason: "trailing bytes after binary value",
            })
        }
    }
}

/// Exactly `N` bytes, as a fixed-size binary value must be.
pub(crate) fn exact<const N: usize>(
    type_name: &'static str,
    raw: &[u8],
) -> Result<[u8; N], TypeError> {
    <[u8; N]>::try_from(raw).map_err(|_| TypeError::InvalidValue {
        type_name,
        reason: "binary value has the wrong length",
    })
}

/// `raw` as UTF-8 (every text-format value is).
pub(crate) fn utf8<'a>(type_name: &'static str, raw: &'a [u8]) -> Result<&'a str, TypeError> {
    core::str::from_utf8(raw).map_err(|_| TypeError::InvalidValue {
        type_name,
        reason: "invalid UTF-8",
    })
}

/// `raw` as UTF-8 with PostgreSQL's whitespace (space, `\t`, `\n`, `\r`, `\v`, `\f`)
/// trimmed from both ends, as most input functions do.
pub(crate) fn trimmed<'a>(type_name: &'static str, raw: &'a [u8]) -> Result<&'a str, TypeError> {
    utf8(type_name, raw).map(|s| s.trim_matches(is_pg_space))
}

/// PostgreSQL's `isspace` in the C locale.
pub(crate) fn is_pg_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}')
}

pub(crate) fn invalid(type_name: &'static str, reason: &'static str) -> TypeError {
    TypeError::InvalidValue { type_name, reason }
}

pub(crate) fn wrong_type<T: ?Sized>(oid: Oid) -> TypeError {
    TypeError::WrongType {
        rust_type: core::any::type_name::<T>(),
        oid,
    }
}

pub(crate) fn unsupported_format<T: ?Sized>(oid: Oid, format: super::Format) -> TypeError {
    TypeError::UnsupportedFormat {
        rust_type: core::any::type_name::<T>(),
        oid,
        format,
    }
}

/// Parses an unsigned decimal of at most `max_digits` digits (all ASCII digits).
pub(crate) fn parse_digits(s: &str, max_digits: usize) -> Option<u64> {
    if s.is_empty() || s.len() > max_digits || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// Implements `from_sql_temporary` for a type that owns its data.
macro_rules! owned_from_sql {
    () => {
        fn from_sql_temporary(
            oid: $crate::message::Oid,
            format: $crate::message::Format,
            raw: &[u8],
        ) -> Result<Self, $crate::types::TypeError> {
            <Self as $crate::types::FromSql<'_>>::from_sql(oid, format, raw)
        }
    };
}

/// Implements `type_oid` and `natural_type_oid` for a type with one natural OID.
macro_rules! natural_type {
    ($oid:expr) => {
        fn type_oid(&self) -> $crate::message::Oid {
            $oid
        }

        fn natural_type_oid() -> $crate::message::Oid {
            $oid
        }
    };
}

pub(crate) use natural_type;
pub(crate) use owned_from_sql;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_is_bounded() {
        let mut r = BinReader::new("x", &[0, 1, 0, 0, 0, 2, 9]);
        assert_eq!(r.i16().unwrap(), 1);
        assert_eq!(r.i32().unwrap(), 2);
        assert!(r.i16().is_err());
        assert_eq!(r.remaining(), 1);
        assert!(r.clone().finish().is_err());
        assert_eq!(r.take(1).unwrap(), &[9]);
        assert!(r.take(1).is_err());
        r.finish().unwrap();
    }

    #[test]
    fn digits() {
        assert_eq!(parse_digits("0042", 4), Some(42));
        assert_eq!(parse_digits("00042", 4), None);
        assert_eq!(parse_digits("", 4), None);
        assert_eq!(parse_digits("4a", 4), None);
        assert_eq!(parse_digits("99999999999999999999", 20), None);
    }
}
