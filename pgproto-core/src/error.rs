//! Errors raised by the codec.
//!
//! Decoding bytes that came off the wire can fail in many ways, and each failure says which
//! message and which field was wrong ([`DecodeError`]). Encoding fails only when the caller
//! hands in a value the wire format cannot carry ([`EncodeError`]), e.g. a string with an
//! interior NUL byte or more than 65,535 parameters.
//!
//! Database errors (a server's `ErrorResponse`) are *not* errors here: they are ordinary
//! messages ([`crate::message::ErrorResponse`]).

use core::fmt;

/// Why a byte sequence could not be decoded as a protocol message.
///
/// `message` is the protocol name of the message being decoded (`"RowDescription"`), and
/// `field` the name of the field, as the protocol documentation spells them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The body ended before a field was complete.
    Truncated {
        /// Message being decoded.
        message: &'static str,
        /// Field that was cut short.
        field: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left in the body.
        available: usize,
    },
    /// A string field has no terminating NUL byte inside the body.
    MissingNul {
        /// Message being decoded.
        message: &'static str,
        /// Field that is not terminated.
        field: &'static str,
    },
    /// A string field is not valid UTF-8.
    InvalidUtf8 {
        /// Message being decoded.
        message: &'static str,
        /// Field that holds the invalid bytes.
        field: &'static str,
    },
    /// Bytes were left over after the last field of a message.
    TrailingBytes {
        /// Message being decoded.
        message: &'static str,
        /// How many bytes were left.
        count: usize,
    },
    /// A length prefix is below its minimum (4 for a message, 8 for a startup packet) or
    /// otherwise impossible.
    BadLength {
        /// Message (or `"message header"` when the type is not known yet).
        message: &'static str,
        /// The declared length, as read.
        declared: i64,
    },
    /// A length prefix is above the configured limit: nothing was buffered.
    TooLarge {
        /// Message (or the message type byte's description).
        message: &'static str,
        /// The declared length.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// A field holds a value the protocol does not allow (a negative count, a format code
    /// other than 0 or 1, an unknown transaction status, a key of the wrong length, ...).
    InvalidValue {
        /// Message being decoded.
        message: &'static str,
        /// Field that holds the value.
        field: &'static str,
        /// The value, widened to `i64` (bytes are given as their numeric value).
        value: i64,
    },
    /// The message type byte is not one the protocol defines for this direction.
    UnknownTag {
        /// Which side sent the message: `"frontend"` or `"backend"`.
        direction: &'static str,
        /// The type byte.
        tag: u8,
    },
    /// A startup-phase packet carries a request code or protocol version this library does
    /// not know.
    UnknownStartupCode {
        /// The 32-bit code (protocol version or special request code).
        code: u32,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated {
                message,
                field,
                needed,
                available,
            } => write!(
                f,
                "{message}: field {field} is truncated ({needed} bytes needed, {available} available)"
            ),
            Self::MissingNul { message, field } => {
                write!(f, "{message}: string field {field} has no terminating NUL")
            }
            Self::InvalidUtf8 { message, field } => {
                write!(f, "{message}: field {field} is not valid UTF-8")
            }
            Self::TrailingBytes { message, count } => {
                write!(f, "{message}: {count} unexpected bytes after the last field")
            }
            Self::BadLength { message, declared } => {
                write!(f, "{message}: invalid length {declared}")
            }
            Self::TooLarge { message, len, max } => {
                write!(f, "{message}: length {len} exceeds the limit of {max} bytes")
            }
            Self::InvalidValue {
                message,
                field,
                value,
            } => write!(f, "{message}: invalid value {value} in field {field}"),
            Self::UnknownTag { direction, tag } => {
                if tag.is_ascii_graphic() {
                    write!(f, "unknown {direction} message type '{}'", char::from(*tag))
                } else {
                    write!(f, "unknown {direction} message type 0x{tag:02x}")
                }
            }
            Self::UnknownStartupCode { code } => write!(
                f,
                "unknown startup request code {code} (protocol {}.{})",
                code >> 16,
                code & 0xffff
            ),
        }
    }
}

/// Why a message could not be encoded.
///
/// Nothing is appended to the output buffer when encoding fails.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// A string field contains a NUL byte, which would end it early on the wire.
    InteriorNul {
        /// Message being encoded.
        message: &'static str,
        /// Field holding the NUL.
        field: &'static str,
    },
    /// A list has more elements than its 16-bit count can express.
    TooManyItems {
        /// Message being encoded.
        message: &'static str,
        /// List field.
        field: &'static str,
        /// Number of items given.
        count: usize,
    },
    /// The message (or one value inside it) would be longer than the protocol's 32-bit
    /// length can express.
    TooLong {
        /// Message being encoded.
        message: &'static str,
        /// Length in bytes.
        len: usize,
    },
    /// A field holds a value the protocol does not allow (e.g. a cancel key shorter than 4
    /// or longer than 256 bytes).
    InvalidValue {
        /// Message being encoded.
        message: &'static str,
        /// Field holding the value.
        field: &'static str,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InteriorNul { message, field } => {
                write!(f, "{message}: field {field} contains a NUL byte")
            }
            Self::TooManyItems {
                message,
                field,
                count,
            } => write!(
                f,
                "{message}: {count} items in {field} exceed the protocol's limit of 65535"
            ),
            Self::TooLong { message, len } => {
                write!(
                    f,
                    "{message}: {len} bytes exceed the protocol's length limit"
                )
            }
            Self::InvalidValue { message, field } => {
                write!(f, "{message}: invalid value in field {field}")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DecodeError {}
#[cfg(feature = "std")]
impl std::error::Error for EncodeError {}
