//! Lists inside messages that are either borrowed from the wire or from the caller.

use core::fmt;

use crate::error::{DecodeError, EncodeError};
use crate::wire::{Reader, Writer};

/// One element of a [`List`]: it can be read from and written to a message body.
///
/// Implemented for the element types messages contain; not meant to be implemented
/// outside this crate.
pub trait WireElement<'a>: Copy + Sized {
    /// Reads one element; `field` names the list in errors.
    fn read(r: &mut Reader<'a>, field: &'static str) -> Result<Self, DecodeError>;
    /// Appends one element; `field` names the list in errors.
    fn write(&self, w: &mut Writer<'_>, field: &'static str) -> Result<(), EncodeError>;
    /// Whether the element's encoding starts with a zero byte, which would end a
    /// zero-terminated list early (an empty name, a zero field code).
    fn encodes_as_terminator(&self) -> bool {
        false
    }
}

/// A list of message elements: DataRow values, RowDescription fields, format codes,
/// parameter type OIDs, startup parameters, error fields...
///
/// A decoded list is a view of the message body, checked once when the message was decoded
/// and iterated without allocating. A list to encode borrows the caller's slice
/// ([`List::new`] or `From<&[T]>`). Two lists are equal when their elements are.
///
/// ```
/// use pgproto_core::message::{Format, List};
/// let formats = List::new(&[Format::Binary, Format::Text]);
/// assert_eq!(formats.len(), 2);
/// assert_eq!(formats.iter().next(), Some(Format::Binary));
/// ```
#[derive(Clone, Copy)]
pub struct List<'a, T> {
    repr: Repr<'a, T>,
}

#[derive(Clone, Copy)]
enum Repr<'a, T> {
    Items(&'a [T]),
    Wire { len: usize, bytes: &'a [u8] },
}

impl<'a, T: WireElement<'a>> List<'a, T> {
    /// A list over the caller's elements.
    #[inline]
    pub const fn new(items: &'a [T]) -> Self {
        Self {
            repr: Repr::Items(items),
        }
    }

    /// The empty list.
    #[inline]
    pub const fn empty() -> Self {
        Self::new(&[])
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        match self.repr {
            Repr::Items(items) => items.len(),
            Repr::Wire { len, .. } => len,
        }
    }

    /// Whether the list has no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Iterates over the elements (no allocation).
    #[inline]
    pub fn iter(&self) -> ListIter<'a, T> {
        match self.repr {
            Repr::Items(items) => ListIter {
                repr: IterRepr::Items(items.iter()),
            },
            Repr::Wire { len, bytes } => ListIter {
                repr: IterRepr::Wire {
                    remaining: len,
                    reader: Reader::new("list", bytes),
                },
            },
        }
    }

    /// The element at `index` (linear time for decoded lists).
    #[inline]
    pub fn get(&self, index: usize) -> Option<T> {
        match self.repr {
            Repr::Items(items) => items.get(index).copied(),
            Repr::Wire { .. } => self.iter().nth(index),
        }
    }

    /// The encoded elements as they appear on the wire, for a decoded list.
    pub fn wire_bytes(&self) -> Option<&'a [u8]> {
        match self.repr {
            Repr::Items(_) => None,
            Repr::Wire { bytes, .. } => Some(bytes),
        }
    }

    /// Reads `count` elements, validating each, and keeps a view of their bytes.
    #[inline]
    pub(crate) fn read_counted(
        r: &mut Reader<'a>,
        count: usize,
        field: &'static str,
    ) -> Result<Self, DecodeError> {
        let start = r.clone();
        for _ in 0..count {
            T::read(r, field)?;
        }
        let mut view = start;
        let bytes = view.bytes(view.remaining() - r.remaining(), field)?;
        Ok(Self {
            repr: Repr::Wire { len: count, bytes },
        })
    }

    /// Reads elements until a zero byte where the next element would start; the zero byte
    /// is consumed but not part of the list.
    pub(crate) fn read_terminated(
        r: &mut Reader<'a>,
        field: &'static str,
    ) -> Result<Self, DecodeError> {
        let start = r.clone();
        let mut len = 0;
        loop {
            match r.peek_u8() {
                Some(0) => break,
                Some(_) => {
                    T::read(r, field)?;
                    len += 1;
                }
                None => {
                    return Err(DecodeError::MissingNul {
                        message: r.message(),
                        field,
                    })
                }
            }
        }
        let mut view = start;
        let bytes = view.bytes(view.remaining() - r.remaining(), field)?;
        r.u8(field)?;
        Ok(Self {
            repr: Repr::Wire { len, bytes },
        })
    }

    /// Appends the elements and the zero byte that ends a terminated list.
    pub(crate) fn write_terminated(
        &self,
        w: &mut Writer<'_>,
        field: &'static str,
    ) -> Result<(), EncodeError> {
        if let Repr::Items(items) = self.repr {
            if items.iter().any(WireElement::encodes_as_terminator) {
                return Err(EncodeError::InvalidValue {
                    message: w.message(),
                    field,
                });
            }
        }
        self.write(w, field)?;
        w.u8(0);
        Ok(())
    }

    /// Appends the elements (without a count or terminator).
    #[inline]
    pub(crate) fn write(&self, w: &mut Writer<'_>, field: &'static str) -> Result<(), EncodeError> {
        match self.repr {
            Repr::Items(items) => {
                for item in items {
                    item.write(w, field)?;
                }
            }
            Repr::Wire { bytes, .. } => w.bytes(bytes),
        }
        Ok(())
    }
}

impl<'a, T: WireElement<'a>> Default for List<'a, T> {
    fn default() -> Self {
        Self::empty()
    }
}

impl<'a, T: WireElement<'a>> From<&'a [T]> for List<'a, T> {
    fn from(items: &'a [T]) -> Self {
        Self::new(items)
    }
}

impl<'a, T: WireElement<'a>, const N: usize> From<&'a [T; N]> for List<'a, T> {
    fn from(items: &'a [T; N]) -> Self {
        Self::new(items)
    }
}

impl<'a, T: WireElement<'a> + PartialEq> PartialEq for List<'a, T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<'a, T: WireElement<'a> + Eq> Eq for List<'a, T> {}

impl<'a, T: WireElement<'a> + fmt::Debug> fmt::Debug for List<'a, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, T: WireElement<'a>> IntoIterator for List<'a, T> {
    type Item = T;
    type IntoIter = ListIter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, T: WireElement<'a>> IntoIterator for &List<'a, T> {
    type Item = T;
    type IntoIter = ListIter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over a [`List`].
#[derive(Clone, Debug)]
pub struct ListIter<'a, T> {
    repr: IterRepr<'a, T>,
}

#[derive(Clone, Debug)]
enum IterRepr<'a, T> {
    Items(core::slice::Iter<'a, T>),
    Wire {
        remaining: usize,
        reader: Reader<'a>,
    },
}

impl<'a, T: WireElement<'a>> Iterator for ListIter<'a, T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        match &mut self.repr {
            IterRepr::Items(iter) => iter.next().copied(),
            IterRepr::Wire { remaining, reader } => {
                if *remaining == 0 {
                    return None;
                }
                *remaining -= 1;
                // The bytes were validated when the message was decoded.
                T::read(reader, "list").ok()
            }
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match &self.repr {
            IterRepr::Items(iter) => iter.len(),
            IterRepr::Wire { remaining, .. } => *remaining,
        };
        (n, Some(n))
    }
}

impl<'a, T: WireElement<'a>> ExactSizeIterator for ListIter<'a, T> {}

impl<'a> WireElement<'a> for Option<&'a [u8]> {
    #[inline]
    fn read(r: &mut Reader<'a>, field: &'static str) -> Result<Self, DecodeError> {
        r.nullable_bytes(field)
    }
    #[inline]
    fn write(&self, w: &mut Writer<'_>, _field: &'static str) -> Result<(), EncodeError> {
        w.nullable_bytes(*self)
    }
}

impl<'a> WireElement<'a> for u32 {
    #[inline]
    fn read(r: &mut Reader<'a>, field: &'static str) -> Result<Self, DecodeError> {
        r.u32(field)
    }
    #[inline]
    fn write(&self, w: &mut Writer<'_>, _field: &'static str) -> Result<(), EncodeError> {
        w.u32(*self);
        Ok(())
    }
}

impl<'a> WireElement<'a> for &'a str {
    #[inline]
    fn read(r: &mut Reader<'a>, field: &'static str) -> Result<Self, DecodeError> {
        r.cstr(field)
    }
    #[inline]
    fn write(&self, w: &mut Writer<'_>, field: &'static str) -> Result<(), EncodeError> {
        w.cstr(self, field)
    }
    fn encodes_as_terminator(&self) -> bool {
        self.is_empty()
    }
}

impl<'a> WireElement<'a> for (&'a str, &'a str) {
    #[inline]
    fn read(r: &mut Reader<'a>, field: &'static str) -> Result<Self, DecodeError> {
        Ok((r.cstr(field)?, r.cstr(field)?))
    }
    #[inline]
    fn write(&self, w: &mut Writer<'_>, field: &'static str) -> Result<(), EncodeError> {
        w.cstr(self.0, field)?;
        w.cstr(self.1, field)
    }
    fn encodes_as_terminator(&self) -> bool {
        self.0.is_empty()
    }
}
