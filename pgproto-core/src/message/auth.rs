//! Authentication: the server's `R` requests and the client's `p` responses.

use bytes::BytesMut;

use super::List;
use crate::error::{DecodeError, EncodeError};
use crate::wire::{Reader, Writer};

/// An Authentication* message (B, `R`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authentication<'a> {
    /// AuthenticationOk (0): authentication succeeded.
    Ok,
    /// AuthenticationKerberosV5 (2).
    KerberosV5,
    /// AuthenticationCleartextPassword (3): send the password in a PasswordMessage.
    CleartextPassword,
    /// AuthenticationMD5Password (5): send `"md5" + md5(md5(password + user) + salt)`.
    Md5Password {
        /// The salt.
        salt: [u8; 4],
    },
    /// AuthenticationGSS (7).
    Gss,
    /// AuthenticationGSSContinue (8): GSSAPI or SSPI data.
    GssContinue {
        /// Mechanism data.
        data: &'a [u8],
    },
    /// AuthenticationSSPI (9).
    Sspi,
    /// AuthenticationSASL (10): the mechanisms the server offers, in its order of
    /// preference.
    Sasl {
        /// Mechanism names (`SCRAM-SHA-256`, `SCRAM-SHA-256-PLUS`, ...).
        mechanisms: List<'a, &'a str>,
    },
    /// AuthenticationSASLContinue (11): a SASL challenge.
    SaslContinue {
        /// Mechanism data (SCRAM server-first-message).
        data: &'a [u8],
    },
    /// AuthenticationSASLFinal (12): SASL outcome data.
    SaslFinal {
        /// Mechanism data (SCRAM server-final-message).
        data: &'a [u8],
    },
}

impl<'a> Authentication<'a> {
    const NAME: &'static str = "Authentication";
    /// Message type byte.
    pub const TAG: u8 = b'R';

    /// The request code that follows the length.
    pub fn code(&self) -> i32 {
        match self {
            Self::Ok => 0,
            Self::KerberosV5 => 2,
            Self::CleartextPassword => 3,
            Self::Md5Password { .. } => 5,
            Self::Gss => 7,
            Self::GssContinue { .. } => 8,
            Self::Sspi => 9,
            Self::Sasl { .. } => 10,
            Self::SaslContinue { .. } => 11,
            Self::SaslFinal { .. } => 12,
        }
    }

    /// Decodes a message body.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let code = r.i32("request code")?;
        let msg = match code {
            0 => Self::Ok,
            2 => Self::KerberosV5,
            3 => Self::CleartextPassword,
            5 => {
                let salt = r.bytes(4, "salt")?;
                let mut s = [0; 4];
                s.copy_from_slice(salt);
                Self::Md5Password { salt: s }
            }
            7 => Self::Gss,
            8 => Self::GssContinue { data: r.rest() },
            9 => Self::Sspi,
            10 => Self::Sasl {
                mechanisms: List::read_terminated(&mut r, "mechanisms")?,
            },
            11 => Self::SaslContinue { data: r.rest() },
            12 => Self::SaslFinal { data: r.rest() },
            other => return Err(r.invalid("request code", other.into())),
        };
        r.finish()?;
        Ok(msg)
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.i32(self.code());
        match self {
            Self::Md5Password { salt } => w.bytes(salt),
            Self::GssContinue { data } | Self::SaslContinue { data } | Self::SaslFinal { data } => {
                w.bytes(data)
            }
            Self::Sasl { mechanisms } => mechanisms.write_terminated(&mut w, "mechanisms")?,
            Self::Ok | Self::KerberosV5 | Self::CleartextPassword | Self::Gss | Self::Sspi => {}
        }
        w.finish()
    }
}

/// Which message a client's `p` is: the protocol leaves it to context (what the server
/// asked for), and whoever decodes must say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthResponseKind {
    /// PasswordMessage (cleartext or MD5).
    Password,
    /// SASLInitialResponse (the first message after AuthenticationSASL).
    SaslInitial,
    /// SASLResponse (after AuthenticationSASLContinue).
    Sasl,
    /// GSSResponse (GSSAPI or SSPI).
    Gss,
}

/// PasswordMessage (F, `p`): a cleartext or MD5-hashed password.
///
/// The password is bytes: PostgreSQL passes it through in the client's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordMessage<'a> {
    /// The password, without the terminating NUL.
    pub password: &'a [u8],
}

impl<'a> PasswordMessage<'a> {
    const NAME: &'static str = "PasswordMessage";
    /// Message type byte.
    pub const TAG: u8 = b'p';

    /// Decodes a message body.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let password = r.cstr_bytes("password")?;
        r.finish()?;
        Ok(Self { password })
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.cstr_bytes(self.password, "password")?;
        w.finish()
    }
}

/// SASLInitialResponse (F, `p`): the chosen mechanism and its initial response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaslInitialResponse<'a> {
    /// Selected mechanism name.
    pub mechanism: &'a str,
    /// Initial client response (SCRAM client-first-message); `None` is sent as length -1.
    pub data: Option<&'a [u8]>,
}

impl<'a> SaslInitialResponse<'a> {
    const NAME: &'static str = "SASLInitialResponse";
    /// Message type byte.
    pub const TAG: u8 = b'p';

    /// Decodes a message body.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let mechanism = r.cstr("mechanism")?;
        let data = r.nullable_bytes("initial response")?;
        r.finish()?;
        Ok(Self { mechanism, data })
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.cstr(self.mechanism, "mechanism")?;
        w.nullable_bytes(self.data)?;
        w.finish()
    }
}

macro_rules! opaque_response {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name<'a> {
            /// Mechanism-specific data (the whole body).
            pub data: &'a [u8],
        }

        impl<'a> $name<'a> {
            /// Message type byte.
            pub const TAG: u8 = b'p';

            /// Decodes a message body (all of it is data).
            pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
                Ok(Self { data: body })
            }

            /// Appends the message to `buf`.
            pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
                let mut w = Writer::tagged(buf, Self::TAG, $label);
                w.bytes(self.data);
                w.finish()
            }
        }
    };
}

opaque_response!(
    /// SASLResponse (F, `p`): SASL mechanism data (SCRAM client-final-message).
    SaslResponse,
    "SASLResponse"
);
opaque_response!(
    /// GSSResponse (F, `p`): GSSAPI or SSPI data.
    GssResponse,
    "GSSResponse"
);
