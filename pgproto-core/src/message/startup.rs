//! Startup-phase packets and the server's startup replies: StartupMessage, SSLRequest,
//! GSSENCRequest, CancelRequest, NegotiateProtocolVersion, BackendKeyData, ParameterStatus.

use bytes::BytesMut;

use super::List;
use crate::error::{DecodeError, EncodeError};
use crate::wire::{Reader, Writer, CANCEL_REQUEST_CODE, GSSENC_REQUEST_CODE, SSL_REQUEST_CODE};

/// Shortest cancel key the protocol allows.
pub const MIN_SECRET_KEY_LEN: usize = 4;
/// Longest cancel key the protocol allows (protocol 3.2).
pub const MAX_SECRET_KEY_LEN: usize = 256;

/// A protocol version: major in the high 16 bits of the wire code, minor in the low.
///
/// ```
/// use pgproto_core::message::ProtocolVersion;
/// assert_eq!(ProtocolVersion::V3_2.code(), 196_610);
/// assert_eq!(ProtocolVersion::from_code(196_608), ProtocolVersion::V3_0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProtocolVersion {
    /// Major version (3).
    pub major: u16,
    /// Minor version (0 or 2).
    pub minor: u16,
}

impl ProtocolVersion {
    /// Protocol 3.0 (PostgreSQL 7.4 and later).
    pub const V3_0: Self = Self { major: 3, minor: 0 };
    /// Protocol 3.2 (PostgreSQL 18 and later): variable-length cancel keys.
    pub const V3_2: Self = Self { major: 3, minor: 2 };

    /// The version from its 32-bit wire code.
    pub const fn from_code(code: u32) -> Self {
        Self {
            major: (code >> 16) as u16,
            minor: (code & 0xffff) as u16,
        }
    }

    /// The 32-bit wire code.
    pub const fn code(self) -> u32 {
        ((self.major as u32) << 16) | self.minor as u32
    }
}

impl core::fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// StartupMessage (F, untagged): the protocol version and the connection parameters
/// (`user`, `database`, `options`, `replication`, run-time settings, `_pq_.` extensions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartupMessage<'a> {
    /// Requested protocol version.
    pub protocol_version: ProtocolVersion,
    /// Name/value pairs, in the order sent.
    pub parameters: List<'a, (&'a str, &'a str)>,
}

impl<'a> StartupMessage<'a> {
    const NAME: &'static str = "StartupMessage";

    /// Decodes the body after the length: protocol version, then parameters.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let protocol_version = ProtocolVersion::from_code(r.u32("protocol version")?);
        let parameters = List::read_terminated(&mut r, "parameters")?;
        r.finish()?;
        Ok(Self {
            protocol_version,
            parameters,
        })
    }

    /// Appends the packet to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::untagged(buf, Self::NAME);
        w.u32(self.protocol_version.code());
        self.parameters.write_terminated(&mut w, "parameters")?;
        w.finish()
    }

    /// The value of parameter `name`, if sent.
    pub fn parameter(&self, name: &str) -> Option<&'a str> {
        self.parameters
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }
}

macro_rules! request_packet {
    ($(#[$doc:meta])* $name:ident, $code:expr, $label:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name;

        impl $name {
            /// The request code that follows the length.
            pub const CODE: u32 = $code;

            /// Decodes the body after the length (the request code).
            pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
                let mut r = Reader::new($label, body);
                let code = r.u32("request code")?;
                if code != Self::CODE {
                    return Err(r.invalid("request code", code.into()));
                }
                r.finish().map(|()| Self)
            }

            /// Appends the packet to `buf`.
            pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
                let mut w = Writer::untagged(buf, $label);
                w.u32(Self::CODE);
                w.finish()
            }
        }
    };
}

request_packet!(
    /// SSLRequest (F, untagged): asks the server to switch to TLS. The server answers with
    /// the single byte `S` or `N`.
    SslRequest,
    SSL_REQUEST_CODE,
    "SSLRequest"
);
request_packet!(
    /// GSSENCRequest (F, untagged): asks for GSSAPI encryption. The server answers with the
    /// single byte `G` or `N`.
    GssEncRequest,
    GSSENC_REQUEST_CODE,
    "GSSENCRequest"
);

fn read_secret_key<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], DecodeError> {
    let n = r.remaining();
    if !(MIN_SECRET_KEY_LEN..=MAX_SECRET_KEY_LEN).contains(&n) {
        return Err(r.invalid("secret key length", i64::try_from(n).unwrap_or(i64::MAX)));
    }
    Ok(r.rest())
}

fn write_secret_key(w: &mut Writer<'_>, key: &[u8]) -> Result<(), EncodeError> {
    if !(MIN_SECRET_KEY_LEN..=MAX_SECRET_KEY_LEN).contains(&key.len()) {
        return Err(EncodeError::InvalidValue {
            message: w.message(),
            field: "secret key",
        });
    }
    w.bytes(key);
    Ok(())
}

/// CancelRequest (F, untagged): sent on a new connection to cancel the query running in
/// another. The key is 4 bytes in protocol 3.0 and 4 to 256 bytes in 3.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelRequest<'a> {
    /// Process ID of the target backend, from its BackendKeyData.
    pub process_id: i32,
    /// Secret key of the target backend, from its BackendKeyData.
    pub secret_key: &'a [u8],
}

impl<'a> CancelRequest<'a> {
    const NAME: &'static str = "CancelRequest";
    /// The request code that follows the length.
    pub const CODE: u32 = CANCEL_REQUEST_CODE;

    /// Decodes the body after the length.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let code = r.u32("request code")?;
        if code != Self::CODE {
            return Err(r.invalid("request code", code.into()));
        }
        let process_id = r.i32("process ID")?;
        let secret_key = read_secret_key(&mut r)?;
        Ok(Self {
            process_id,
            secret_key,
        })
    }

    /// Appends the packet to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::untagged(buf, Self::NAME);
        w.u32(Self::CODE);
        w.i32(self.process_id);
        write_secret_key(&mut w, self.secret_key)?;
        w.finish()
    }
}

/// BackendKeyData (B, `K`): the key a client needs to cancel queries on this connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendKeyData<'a> {
    /// Process ID of the backend.
    pub process_id: i32,
    /// Secret key: 4 bytes in protocol 3.0, 4 to 256 bytes in 3.2.
    pub secret_key: &'a [u8],
}

impl<'a> BackendKeyData<'a> {
    const NAME: &'static str = "BackendKeyData";
    /// Message type byte.
    pub const TAG: u8 = b'K';

    /// Decodes a message body.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let process_id = r.i32("process ID")?;
        let secret_key = read_secret_key(&mut r)?;
        Ok(Self {
            process_id,
            secret_key,
        })
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.i32(self.process_id);
        write_secret_key(&mut w, self.secret_key)?;
        w.finish()
    }
}

/// NegotiateProtocolVersion (B, `v`): the newest protocol version the server supports and
/// the `_pq_.` options it does not recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiateProtocolVersion<'a> {
    /// Newest version supported for the requested major version. The manual calls it the
    /// "minor version", but PostgreSQL (15 and 18 alike) sends the whole version code
    /// (`3 << 16 | minor`), which libpq also expects; [`Self::protocol_version`] reads
    /// either form.
    pub newest_minor_version: u32,
    /// Protocol options the server did not recognise.
    pub unrecognized_options: List<'a, &'a str>,
}

impl<'a> NegotiateProtocolVersion<'a> {
    const NAME: &'static str = "NegotiateProtocolVersion";
    /// Message type byte.
    pub const TAG: u8 = b'v';

    /// Decodes a message body.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let newest_minor_version = r.u32("newest minor version")?;
        let n = r.i32("option count")?;
        let count = usize::try_from(n).map_err(|_| r.invalid("option count", n.into()))?;
        // Each option takes at least its NUL: reject impossible counts before looping.
        if count > r.remaining() {
            return Err(r.invalid("option count", n.into()));
        }
        let unrecognized_options = List::read_counted(&mut r, count, "option name")?;
        r.finish()?;
        Ok(Self {
            newest_minor_version,
            unrecognized_options,
        })
    }

    /// The offered version: a full version code (what PostgreSQL sends) or, below
    /// `1 << 16`, a bare minor version of `requested_major`.
    pub fn protocol_version(&self, requested_major: u16) -> ProtocolVersion {
        match u16::try_from(self.newest_minor_version) {
            Ok(minor) => ProtocolVersion {
                major: requested_major,
                minor,
            },
            Err(_) => ProtocolVersion::from_code(self.newest_minor_version),
        }
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.u32(self.newest_minor_version);
        let count = i32::try_from(self.unrecognized_options.len()).map_err(|_| {
            EncodeError::TooManyItems {
                message: Self::NAME,
                field: "option count",
                count: self.unrecognized_options.len(),
            }
        })?;
        w.i32(count);
        self.unrecognized_options.write(&mut w, "option name")?;
        w.finish()
    }
}

/// ParameterStatus (B, `S`): the current value of a run-time parameter the server reports
/// (`server_version`, `client_encoding`, `TimeZone`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParameterStatus<'a> {
    /// Parameter name.
    pub name: &'a str,
    /// Current value.
    pub value: &'a str,
}

impl<'a> ParameterStatus<'a> {
    const NAME: &'static str = "ParameterStatus";
    /// Message type byte.
    pub const TAG: u8 = b'S';

    /// Decodes a message body.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(Self::NAME, body);
        let name = r.cstr("name")?;
        let value = r.cstr("value")?;
        r.finish()?;
        Ok(Self { name, value })
    }

    /// Appends the message to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mut w = Writer::tagged(buf, Self::TAG, Self::NAME);
        w.cstr(self.name, "name")?;
        w.cstr(self.value, "value")?;
        w.finish()
    }
}
