//! Strict, panic-free parsing of SCRAM attribute lists (RFC 5802 section 7).

use alloc::vec::Vec;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::auth::{AuthError, ScramMessage};

extern crate alloc;

/// RFC 5802 `printable`: `%x21-2B / %x2D-7E` (visible ASCII except `,`).
pub(super) fn is_printable(b: u8) -> bool {
    matches!(b, 0x21..=0x2b | 0x2d..=0x7e)
}

/// Attribute names RFC 5802 defines; they may not reappear as extensions.
fn is_standard_attribute(name: u8) -> bool {
    matches!(
        name,
        b'a' | b'n' | b'm' | b'r' | b'c' | b's' | b'i' | b'p' | b'v' | b'e'
    )
}

/// The comma-separated `attr=value` fields of a SCRAM message, read in order.
pub(super) struct Fields<'a> {
    message: ScramMessage,
    data: &'a [u8],
    /// Offset in `data` of the next field; `None` once the last field was read.
    pos: Option<usize>,
}

impl<'a> Fields<'a> {
    pub(super) fn new(message: ScramMessage, data: &'a [u8]) -> Self {
        Self {
            message,
            data,
            pos: Some(0),
        }
    }

    pub(super) fn malformed(&self, reason: &'static str) -> AuthError {
        AuthError::MalformedMessage {
            message: self.message,
            reason,
        }
    }

    /// Offset of the next field in the message, or its length if none is left.
    pub(super) fn position(&self) -> usize {
        self.pos.unwrap_or(self.data.len())
    }

    /// The next raw field (up to the next comma), without consuming it.
    fn peek_raw(&self) -> Option<(&'a [u8], Option<usize>)> {
        let pos = self.pos?;
        let rest = self.data.get(pos..)?;
        Some(match rest.iter().position(|&b| b == b',') {
            Some(i) => (rest.get(..i)?, Some(pos + i + 1)),
            None => (rest, None),
        })
    }

    /// Name of the next attribute, if any field is left and it looks like `x=`.
    pub(super) fn peek_name(&self) -> Option<u8> {
        let (field, _) = self.peek_raw()?;
        match field {
            [name, b'=', ..] => Some(*name),
            _ => None,
        }
    }

    /// Whether any field is left.
    pub(super) fn is_empty(&self) -> bool {
        self.pos.is_none()
    }

    /// Reads the next field, which must be `name=value`; `value` may be empty only if
    /// `allow_empty`.
    pub(super) fn expect(
        &mut self,
        name: u8,
        missing: &'static str,
        allow_empty: bool,
    ) -> Result<&'a [u8], AuthError> {
        let Some((field, next)) = self.peek_raw() else {
            return Err(self.malformed(missing));
        };
        let value = match field {
            [n, b'=', value @ ..] if *n == name => value,
            _ => return Err(self.malformed(missing)),
        };
        if value.is_empty() && !allow_empty {
            return Err(self.malformed("empty attribute value"));
        }
        self.pos = next;
        Ok(value)
    }

    /// Reads a nonce attribute `r=` (non-empty, printable).
    pub(super) fn nonce(&mut self) -> Result<&'a [u8], AuthError> {
        let value = self.expect(b'r', "missing or misplaced nonce (r=)", false)?;
        if !value.iter().all(|&b| is_printable(b)) {
            return Err(self.malformed("nonce contains non-printable characters"));
        }
        Ok(value)
    }

    /// Reads a base64 attribute and decodes it.
    pub(super) fn base64(&mut self, name: u8, missing: &'static str) -> Result<Vec<u8>, AuthError> {
        let value = self.expect(name, missing, false)?;
        STANDARD
            .decode(value)
            .map_err(|_| AuthError::InvalidBase64 {
                message: self.message,
                attribute: char::from(name),
            })
    }

    /// Reads a base64 attribute that must decode to exactly `N` bytes.
    pub(super) fn base64_array<const N: usize>(
        &mut self,
        name: u8,
        missing: &'static str,
    ) -> Result<[u8; N], AuthError> {
        let bytes = self.base64(name, missing)?;
        <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| AuthError::InvalidBase64 {
            message: self.message,
            attribute: char::from(name),
        })
    }

    /// Fails with [`AuthError::UnsupportedExtension`] if the next field is `m=`.
    pub(super) fn refuse_mandatory_extension(&self) -> Result<(), AuthError> {
        if self.peek_name() == Some(b'm') {
            return Err(AuthError::UnsupportedExtension {
                message: self.message,
            });
        }
        Ok(())
    }

    /// Skips optional extensions (`x=value`, `x` a letter that is not a standard
    /// attribute, `value` non-empty UTF-8 without NUL) until the next field is `stop`
    /// (or, with `stop == None`, until the end).
    pub(super) fn skip_extensions(&mut self, stop: Option<u8>) -> Result<(), AuthError> {
        while let Some((field, next)) = self.peek_raw() {
            let (name, value) = match field {
                [name, b'=', value @ ..] => (*name, value),
                _ => return Err(self.malformed("attribute is not of the form x=value")),
            };
            if Some(name) == stop {
                return Ok(());
            }
            if !name.is_ascii_alphabetic() {
                return Err(self.malformed("attribute name is not a letter"));
            }
            if is_standard_attribute(name) {
                return Err(self.malformed("duplicate or misplaced attribute"));
            }
            if value.is_empty() || value.contains(&0) || core::str::from_utf8(value).is_err() {
                return Err(self.malformed("invalid extension value"));
            }
            self.pos = next;
        }
        Ok(())
    }

    /// Succeeds if no field is left.
    pub(super) fn finish(&self) -> Result<(), AuthError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.malformed("unexpected attribute at end of message"))
        }
    }
}

/// Parses a `posit-number` (`%x31-39 *DIGIT`) as a `u32`; `Ok(None)` if it overflows.
pub(super) fn positive_number(value: &[u8]) -> Result<Option<u32>, ()> {
    match value {
        [b'1'..=b'9', rest @ ..] if rest.iter().all(u8::is_ascii_digit) => {}
        _ => return Err(()),
    }
    let mut n: u32 = 0;
    for &digit in value {
        let Some(next) = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u32::from(digit - b'0')))
        else {
            return Ok(None);
        };
        n = next;
    }
    Ok(Some(n))
}

/// Checks an RFC 5802 `saslname`: UTF-8 without NUL, `,` absent, `=` only as `=2C` or
/// `=3D`. Empty is accepted (PostgreSQL clients send `n=`).
pub(super) fn is_saslname(value: &[u8]) -> bool {
    if value.contains(&0) || core::str::from_utf8(value).is_err() {
        return false;
    }
    let mut rest = value;
    while let Some(i) = rest.iter().position(|&b| b == b'=') {
        match rest.get(i + 1..i + 3) {
            Some(b"2C" | b"3D") => {}
            _ => return false,
        }
        rest = rest.get(i + 3..).unwrap_or_default();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_in_order() {
        let mut f = Fields::new(ScramMessage::ServerFirst, b"r=abc,s=QUJD,i=4096");
        assert_eq!(f.nonce().unwrap(), b"abc");
        assert_eq!(f.position(), 6);
        assert_eq!(f.base64(b's', "s").unwrap(), b"ABC");
        assert_eq!(f.expect(b'i', "i", false).unwrap(), b"4096");
        assert!(f.is_empty());
        f.finish().unwrap();
        assert_eq!(f.position(), 19);
    }

    #[test]
    fn empty_and_trailing_comma() {
        let mut f = Fields::new(ScramMessage::ServerFirst, b"");
        assert!(f.nonce().is_err());
        let mut f = Fields::new(ScramMessage::ServerFirst, b"r=abc,");
        f.nonce().unwrap();
        assert!(!f.is_empty());
        assert!(f.skip_extensions(None).is_err());
        let mut f = Fields::new(ScramMessage::ServerFirst, b"r=");
        assert!(f.nonce().is_err());
        let mut f = Fields::new(ScramMessage::ServerFirst, b"r=a b");
        assert!(f.nonce().is_err());
    }

    #[test]
    fn extensions() {
        let mut f = Fields::new(ScramMessage::ServerFirst, b"x=1,y=\xc3\xa9,p=abc");
        f.skip_extensions(Some(b'p')).unwrap();
        assert_eq!(f.peek_name(), Some(b'p'));
        for bad in [&b"r=1"[..], b"x=", b"x=\xff", b"1=2", b"x", b"=x", b"x=a\0"] {
            let mut f = Fields::new(ScramMessage::ServerFirst, bad);
            assert!(f.skip_extensions(None).is_err(), "{bad:?}");
        }
        let f = Fields::new(ScramMessage::ServerFirst, b"m=x,r=1");
        assert_eq!(
            f.refuse_mandatory_extension(),
            Err(AuthError::UnsupportedExtension {
                message: ScramMessage::ServerFirst
            })
        );
    }

    #[test]
    fn base64_strict() {
        for bad in [&b"s=QUJ"[..], b"s=QUJD=", b"s=QUI=x", b"s=QUJ=", b"s=Q!JD"] {
            let mut f = Fields::new(ScramMessage::ServerFirst, bad);
            assert!(
                matches!(f.base64(b's', "s"), Err(AuthError::InvalidBase64 { .. })),
                "{bad:?}"
            );
        }
        let mut f = Fields::new(ScramMessage::ServerFinal, b"v=QUJD");
        assert!(f.base64_array::<4>(b'v', "v").is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(positive_number(b"1"), Ok(Some(1)));
        assert_eq!(positive_number(b"4096"), Ok(Some(4096)));
        assert_eq!(positive_number(b"4294967295"), Ok(Some(u32::MAX)));
        assert_eq!(positive_number(b"4294967296"), Ok(None));
        assert_eq!(positive_number(b"99999999999999999999999"), Ok(None));
        for bad in [&b""[..], b"0", b"01", b"-1", b"+1", b"1a", b" 1"] {
            assert_eq!(positive_number(bad), Err(()), "{bad:?}");
        }
    }

    #[test]
    fn saslnames() {
        assert!(is_saslname(b""));
        assert!(is_saslname(b"user"));
        assert!(is_saslname(b"a=2Cb=3D"));
        assert!(is_saslname("jos\u{e9}".as_bytes()));
        assert!(!is_saslname(b"a=b"));
        assert!(!is_saslname(b"a="));
        assert!(!is_saslname(b"a=2"));
        assert!(!is_saslname(b"\xff"));
        assert!(!is_saslname(b"a\0"));
    }
}
