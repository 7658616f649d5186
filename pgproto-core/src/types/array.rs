//! Arrays of any element type: `Vec<T>` and `&[T]` (one dimension, NULLs through
//! `Option<T>`), and [`PgArray`] (up to 6 dimensions with lower bounds).
//!
//! Binary (`array_send`): `ndim: i32`, `has_null: i32` (0 or 1), `element_oid: u32`,
//! then `(len: i32, lower_bound: i32)` per dimension, then every element as a length
//! (`-1` for NULL) and its binary value, last dimension varying fastest. An empty array
//! has no dimensions.
//!
//! Text (`array_out`): `{1,2,NULL}`, `{{1,2},{3,4}}`, `[0:1]={5,6}` when a lower bound is
//! not 1. An element is double-quoted when it is empty, is `NULL` in any case, or
//! contains `"`, `\`, `{`, `}`, `,` or whitespace; inside quotes `"` and `\` are escaped
//! with `\`. The decoder also accepts `array_in`'s input: whitespace around elements,
//! backslash escapes outside quotes, and `[lb:ub]`/`[ub]` dimension decorations.
//!
//! Elements of a text-format array that contained escapes are decoded with
//! [`FromSql::from_sql_temporary`], so borrowing element types (`&str`) fail on them:
//! use `String` or `Cow<str>`.

use alloc::vec::Vec;

use bytes::{BufMut, BytesMut};

use super::codec::{invalid, wrong_type, BinReader};
use super::{oid, Format, FromSql, IsNull, Oid, ToSql, TypeError};

/// PostgreSQL's `MAXDIM`.
pub(crate) const MAX_DIMENSIONS: usize = 6;
/// PostgreSQL's `MaxArraySize`: the most elements an array can hold.
const MAX_ELEMENTS: usize = 134_217_727;

/// One dimension of an array: its length and the index of its first element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArrayDimension {
    /// Number of elements along this dimension.
    pub len: i32,
    /// Index of the first element (PostgreSQL's default is 1).
    pub lower_bound: i32,
}

/// A PostgreSQL array of any shape: dimensions with lower bounds, and the elements in
/// row-major order (last dimension fastest). An empty array has no dimensions.
///
/// ```
/// use pgproto_core::message::Format;
/// use pgproto_core::types::{oid, ArrayDimension, FromSql, PgArray};
///
/// let a = PgArray::<i32>::from_sql(oid::INT4_ARRAY, Format::Text, b"[0:1][1:2]={{1,2},{3,4}}")
///     .unwrap();
/// assert_eq!(a.dimensions(), [
///     ArrayDimension { len: 2, lower_bound: 0 },
///     ArrayDimension { len: 2, lower_bound: 1 },
/// ]);
/// assert_eq!(a.elements(), [1, 2, 3, 4]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PgArray<T> {
    dims: Vec<ArrayDimension>,
    elements: Vec<T>,
}

impl<T> PgArray<T> {
    /// An array of the given shape. Fails if there are more than 6 dimensions, a
    /// negative length, an upper bound beyond `i32`, or if the number of elements is not
    /// the product of the lengths. Without elements the array is the empty array.
    pub fn new(dims: Vec<ArrayDimension>, elements: Vec<T>) -> Result<Self, TypeError> {
        let count = check_dims(&dims)?;
        if count != elements.len() {
            return Err(invalid(
                "array",
                "element count does not match the dimensions",
            ));
        }
        Ok(Self::new_unchecked(dims, elements))
    }

    fn new_unchecked(mut dims: Vec<ArrayDimension>, elements: Vec<T>) -> Self {
        if elements.is_empty() {
            dims.clear();
        }
        Self { dims, elements }
    }

    /// A one-dimensional array with lower bound 1.
    pub fn from_vec(elements: Vec<T>) -> Self {
        let len = i32::try_from(elements.len()).unwrap_or(i32::MAX);
        Self::new_unchecked(
            alloc::vec![ArrayDimension {
                len,
                lower_bound: 1
            }],
            elements,
        )
    }

    /// The dimensions, outermost first (none for an empty array).
    pub fn dimensions(&self) -> &[ArrayDimension] {
        &self.dims
    }

    /// The elements in row-major order.
    pub fn elements(&self) -> &[T] {
        &self.elements
    }

    /// The elements in row-major order.
    pub fn into_elements(self) -> Vec<T> {
        self.elements
    }
}

impl<T> Default for PgArray<T> {
    fn default() -> Self {
        Self {
            dims: Vec::new(),
            elements: Vec::new(),
        }
    }
}

impl<T> From<Vec<T>> for PgArray<T> {
    fn from(elements: Vec<T>) -> Self {
        Self::from_vec(elements)
    }
}

/// Validates dimensions and returns the element count they imply.
fn check_dims(dims: &[ArrayDimension]) -> Result<usize, TypeError> {
    if dims.len() > MAX_DIMENSIONS {
        return Err(invalid("array", "more than 6 dimensions"));
    }
    let mut count: usize = 1;
    for d in dims {
        let len = usize::try_from(d.len).map_err(|_| invalid("array", "negative dimension"))?;
        if len > 0 && i32::try_from(i64::from(d.lower_bound) + i64::from(d.len) - 1).is_err() {
            return Err(invalid("array", "upper bound out of range"));
        }
        count = count
            .checked_mul(len)
            .filter(|&c| c <= MAX_ELEMENTS)
            .ok_or(invalid("array", "too many elements"))?;
    }
    Ok(if dims.is_empty() { 0 } else { count })
}

// ---- Decoding -------------------------------------------------------------------------

/// The element type expected for a value of type `oid`, or `None` when the array's own
/// header (binary) or the natural element type (text, `0`) decides.
fn element_type<C: ?Sized>(oid: Oid, format: Format) -> Result<Option<Oid>, TypeError> {
    match oid::element_of(oid) {
        Some(e) => Ok(Some(e)),
        None if oid == oid::UNSPECIFIED => Ok(None),
        // A type this crate does not know (an extension's array type): in text the
        // structure is self-describing, so decode the elements as their natural type.
        None if format == Format::Text && oid::type_name(oid).is_none() => Ok(None),
        None => Err(wrong_type::<C>(oid)),
    }
}

fn decode<'a, C: ?Sized, T: FromSql<'a>>(
    oid: Oid,
    format: Format,
    raw: &'a [u8],
) -> Result<(Vec<ArrayDimension>, Vec<T>), TypeError> {
    let expected = element_type::<C>(oid, format)?;
    let accepted = expected.map_or(true, T::accepts);
    match format {
        Format::Binary if !accepted => Err(wrong_type::<C>(oid)),
        Format::Binary => decode_binary::<C, T>(expected, raw),
        Format::Text => {
            // In text, each element's decoder judges its type (a `String` reads any
            // type's text form); an empty array is judged by the element type.
            let decoded = decode_text(expected.unwrap_or(oid::UNSPECIFIED), raw)?;
            if decoded.1.is_empty() && !accepted {
                return Err(wrong_type::<C>(oid));
            }
            Ok(decoded)
        }
    }
}

fn decode_binary<'a, C: ?Sized, T: FromSql<'a>>(
    expected: Option<Oid>,
    raw: &'a [u8],
) -> Result<(Vec<ArrayDimension>, Vec<T>), TypeError> {
    let mut r = BinReader::new("array", raw);
    let ndim = usize::try_from(r.i32()?).map_err(|_| invalid("array", "negative ndim"))?;
    if ndim > MAX_DIMENSIONS {
        return Err(invalid("array", "more than 6 dimensions"));
    }
    let flags = r.i32()?;
    if flags != 0 && flags != 1 {
        return Err(invalid("array", "invalid flags"));
    }
    let element_oid = r.u32()?;
    match expected {
        Some(e) if e != element_oid => {
            return Err(TypeError::ElementTypeMismatch {
                expected: e,
                actual: element_oid,
            })
        }
        None if !T::accepts(element_oid) => return Err(wrong_type::<C>(element_oid)),
        _ => {}
    }
    let mut dims = Vec::with_capacity(ndim);
    for _ in 0..ndim {
        let len = r.i32()?;
        let lower_bound = r.i32()?;
        dims.push(ArrayDimension { len, lower_bound });
    }
    let count = check_dims(&dims)?;
    // Each element takes at least its 4-byte length: bound the allocation by the input.
    if count > r.remaining() / 4 {
        return Err(invalid("array", "truncated binary value"));
    }
    let mut elements = Vec::with_capacity(count);
    for _ in 0..count {
        let len = r.i32()?;
        let value = match len {
            -1 => None,
            len => {
                let len = usize::try_from(len)
                    .map_err(|_| invalid("array", "negative element length"))?;
                Some(r.take(len)?)
            }
        };
        elements.push(T::from_sql_nullable(element_oid, Format::Binary, value)?);
    }
    r.finish()?;
    if elements.is_empty() {
        dims.clear();
    }
    Ok((dims, elements))
}

/// One element of a text-format array.
enum TextElement<'a> {
    Null,
    /// Bytes of the input, unchanged.
    Borrowed(&'a [u8]),
    /// Bytes with their escapes removed.
    Unescaped(Vec<u8>),
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// `array_in`'s grammar, on bytes (UTF-8 continuation bytes never equal ASCII
/// delimiters).
struct TextParser<'a> {
    input: &'a [u8],
    pos: usize,
    /// Length of each dimension, once known.
    lens: [Option<usize>; MAX_DIMENSIONS],
    /// Depth at which elements sit (number of dimensions), once known.
    ndim: Option<usize>,
    elements: Vec<TextElement<'a>>,
}

fn malformed() -> TypeError {
    invalid("array", "malformed array literal")
}

impl<'a> TextParser<'a> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn expect(&mut self, b: u8) -> Result<(), TypeError> {
        if self.bump() == Some(b) {
            Ok(())
        } else {
            Err(malformed())
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
    }

    fn int(&mut self) -> Result<i32, TypeError> {
        self.skip_spaces();
        let start = self.pos;
        if matches!(self.peek(), Some(b'+' | b'-')) {
            self.pos += 1;
        }
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        let text = self.input.get(start..self.pos).unwrap_or_default();
        let v = core::str::from_utf8(text)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(malformed())?;
        self.skip_spaces();
        Ok(v)
    }

    /// `[lb:ub][ub]...=`: the dimensions the literal declares.
    fn decoration(&mut self) -> Result<Vec<ArrayDimension>, TypeError> {
        let mut dims = Vec::new();
        while self.peek() == Some(b'[') {
            self.pos += 1;
            if dims.len() == MAX_DIMENSIONS {
                return Err(invalid("array", "more than 6 dimensions"));
            }
            let first = self.int()?;
            let (lower, upper) = if self.peek() == Some(b':') {
                self.pos += 1;
                (first, self.int()?)
            } else {
                (1, first)
            };
            self.expect(b']')?;
            if upper < lower {
                return Err(invalid("array", "upper bound below lower bound"));
            }
            let len = i32::try_from(i64::from(upper) - i64::from(lower) + 1)
                .map_err(|_| invalid("array", "dimension too large"))?;
            dims.push(ArrayDimension {
                len,
                lower_bound: lower,
            });
            self.skip_spaces();
        }
        if !dims.is_empty() {
            self.expect(b'=')?;
            self.skip_spaces();
        }
        Ok(dims)
    }

    /// The contents of a `{...}` at `depth` (its `{` already consumed).
    fn level(&mut self, depth: usize) -> Result<(), TypeError> {
        self.skip_spaces();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            // Only the whole array may be empty.
            return if depth == 0 { Ok(()) } else { Err(malformed()) };
        }
        let mut count = 0usize;
        loop {
            self.skip_spaces();
            if self.peek() == Some(b'{') {
                self.pos += 1;
                if depth + 1 >= MAX_DIMENSIONS {
                    return Err(invalid("array", "more than 6 dimensions"));
                }
                if self.ndim.is_some_and(|n| depth + 1 >= n) {
                    return Err(malformed());
                }
                self.level(depth + 1)?;
            } else {
                match self.ndim {
                    None => self.ndim = Some(depth + 1),
                    Some(n) if n != depth + 1 => return Err(malformed()),
                    Some(_) => {}
                }
                let element = self.element()?;
                self.elements.push(element);
            }
            count += 1;
            self.skip_spaces();
            match self.bump() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => return Err(malformed()),
            }
        }
        let slot = self.lens.get_mut(depth).ok_or(malformed())?;
        match *slot {
            None => *slot = Some(count),
            Some(n) if n == count => {}
            // "multidimensional arrays must have sub-arrays with matching dimensions"
            Some(_) => return Err(malformed()),
        }
        Ok(())
    }

    fn element(&mut self) -> Result<TextElement<'a>, TypeError> {
        let quoted = self.peek() == Some(b'"');
        if quoted {
            self.pos += 1;
        }
        let start = self.pos;
        let mut end = start;
        let mut escaped = false;
        loop {
            match self.peek() {
                None => return Err(malformed()),
                Some(b'\\') => {
                    escaped = true;
                    self.pos += 1;
                    self.bump().ok_or(malformed())?;
                    end = self.pos;
                }
                Some(b'"') if quoted => {
                    end = self.pos;
                    self.pos += 1;
                    break;
                }
                Some(b'"' | b'{') if !quoted => return Err(malformed()),
                Some(b',' | b'}') if !quoted => break,
                Some(b) => {
                    self.pos += 1;
                    if quoted || !is_space(b) {
                        end = self.pos;
                    }
                }
            }
        }
        let text = self.input.get(start..end).ok_or(malformed())?;
        if !quoted {
            if text.is_empty() {
                return Err(malformed());
            }
            if !escaped && text.eq_ignore_ascii_case(b"NULL") {
                return Ok(TextElement::Null);
            }
        }
        if !escaped {
            return Ok(TextElement::Borrowed(text));
        }
        let mut out = Vec::with_capacity(text.len());
        let mut bytes = text.iter();
        while let Some(&b) = bytes.next() {
            if b == b'\\' {
                if let Some(&next) = bytes.next() {
                    out.push(next);
                }
            } else {
                out.push(b);
            }
        }
        Ok(TextElement::Unescaped(out))
    }
}

fn decode_text<'a, T: FromSql<'a>>(
    element_oid: Oid,
    raw: &'a [u8],
) -> Result<(Vec<ArrayDimension>, Vec<T>), TypeError> {
    let mut p = TextParser {
        input: raw,
        pos: 0,
        lens: [None; MAX_DIMENSIONS],
        ndim: None,
        elements: Vec::new(),
    };
    p.skip_spaces();
    let declared = p.decoration()?;
    p.expect(b'{')?;
    p.level(0)?;
    p.skip_spaces();
    if p.pos != raw.len() {
        return Err(malformed());
    }
    let ndim = p.ndim.unwrap_or(0);
    let mut dims = Vec::with_capacity(ndim);
    for len in p.lens.iter().take(ndim) {
        let len = len.ok_or(malformed())?;
        let len = i32::try_from(len).map_err(|_| invalid("array", "too many elements"))?;
        dims.push(ArrayDimension {
            len,
            lower_bound: 1,
        });
    }
    if !declared.is_empty() {
        if declared.len() != dims.len() || declared.iter().zip(&dims).any(|(d, p)| d.len != p.len) {
            return Err(invalid(
                "array",
                "dimensions do not match the array's contents",
            ));
        }
        dims = declared;
    }
    check_dims(&dims)?;
    let mut elements = Vec::with_capacity(p.elements.len());
    for e in p.elements {
        elements.push(match e {
            TextElement::Null => T::from_sql_null(element_oid)?,
            TextElement::Borrowed(b) => T::from_sql(element_oid, Format::Text, b)?,
            TextElement::Unescaped(b) => T::from_sql_temporary(element_oid, Format::Text, &b)?,
        });
    }
    if elements.is_empty() {
        dims.clear();
    }
    Ok((dims, elements))
}

// ---- Encoding -------------------------------------------------------------------------

/// The element type to encode as for target type `oid`.
fn target_element<C: ?Sized, T: ToSql>(oid: Oid, elements: &[T]) -> Result<Oid, TypeError> {
    if oid == oid::UNSPECIFIED {
        return Ok(elements
            .first()
            .map_or_else(T::natural_type_oid, ToSql::type_oid));
    }
    oid::element_of(oid).ok_or_else(|| wrong_type::<C>(oid))
}

fn natural_array_oid<T: ToSql>(elements: &[T]) -> Oid {
    let element = elements
        .first()
        .map_or_else(T::natural_type_oid, ToSql::type_oid);
    oid::array_of(element).unwrap_or(oid::UNSPECIFIED)
}

fn encode<C: ?Sized, T: ToSql>(
    dims: &[ArrayDimension],
    elements: &[T],
    oid: Oid,
    format: Format,
    out: &mut BytesMut,
) -> Result<IsNull, TypeError> {
    let element_oid = target_element::<C, T>(oid, elements)?;
    match format {
        Format::Binary => encode_binary(dims, elements, element_oid, out)?,
        Format::Text => encode_text(dims, elements, element_oid, out)?,
    }
    Ok(IsNull::No)
}

fn encode_binary<T: ToSql>(
    dims: &[ArrayDimension],
    elements: &[T],
    element_oid: Oid,
    out: &mut BytesMut,
) -> Result<(), TypeError> {
    let dims = if elements.is_empty() { &[][..] } else { dims };
    out.put_i32(i32::try_from(dims.len()).unwrap_or(0));
    let flags_at = out.len();
    out.put_i32(0);
    out.put_u32(element_oid);
    for d in dims {
        out.put_i32(d.len);
        out.put_i32(d.lower_bound);
    }
    let mut has_null = false;
    for e in elements {
        if super::encode_with_length(e, element_oid, Format::Binary, out)? == IsNull::Yes {
            has_null = true;
        }
    }
    if has_null {
        if let Some(flags) = out.get_mut(flags_at..flags_at + 4) {
            flags.copy_from_slice(&1i32.to_be_bytes());
        }
    }
    Ok(())
}

fn encode_text<T: ToSql>(
    dims: &[ArrayDimension],
    elements: &[T],
    element_oid: Oid,
    out: &mut BytesMut,
) -> Result<(), TypeError> {
    if elements.is_empty() {
        out.put_slice(b"{}");
        return Ok(());
    }
    if dims.iter().any(|d| d.lower_bound != 1) {
        for d in dims {
            let upper = i64::from(d.lower_bound) + i64::from(d.len) - 1;
            let _ = core::fmt::Write::write_fmt(out, format_args!("[{}:{upper}]", d.lower_bound));
        }
        out.put_u8(b'=');
    }
    let lens: Vec<usize> = dims
        .iter()
        .map(|d| usize::try_from(d.len).unwrap_or(0))
        .collect();
    let mut scratch = BytesMut::new();
    write_level(&lens, elements, element_oid, out, &mut scratch)
}

/// Writes `{...}` for the elements of one sub-array whose remaining dimensions are
/// `lens`.
fn write_level<T: ToSql>(
    lens: &[usize],
    elements: &[T],
    element_oid: Oid,
    out: &mut BytesMut,
    scratch: &mut BytesMut,
) -> Result<(), TypeError> {
    let Some((_, inner)) = lens.split_first() else {
        return Err(invalid("array", "no dimensions"));
    };
    out.put_u8(b'{');
    if inner.is_empty() {
        for (i, e) in elements.iter().enumerate() {
            if i > 0 {
                out.put_u8(b',');
            }
            write_element(e, element_oid, out, scratch)?;
        }
    } else {
        let stride: usize = inner.iter().product();
        for (i, chunk) in elements.chunks(stride.max(1)).enumerate() {
            if i > 0 {
                out.put_u8(b',');
            }
            write_level(inner, chunk, element_oid, out, scratch)?;
        }
    }
    out.put_u8(b'}');
    Ok(())
}

fn write_element<T: ToSql>(
    e: &T,
    element_oid: Oid,
    out: &mut BytesMut,
    scratch: &mut BytesMut,
) -> Result<(), TypeError> {
    scratch.clear();
    if e.to_sql(element_oid, Format::Text, scratch)? == IsNull::Yes {
        out.put_slice(b"NULL");
        return Ok(());
    }
    let text = &scratch[..];
    let needs_quotes = text.is_empty()
        || text.eq_ignore_ascii_case(b"NULL")
        || text
            .iter()
            .any(|&b| matches!(b, b'"' | b'\\' | b'{' | b'}' | b',') || is_space(b));
    if !needs_quotes {
        out.put_slice(text);
        return Ok(());
    }
    out.put_u8(b'"');
    for &b in text {
        if b == b'"' || b == b'\\' {
            out.put_u8(b'\\');
        }
        out.put_u8(b);
    }
    out.put_u8(b'"');
    Ok(())
}

// ---- Trait impls ----------------------------------------------------------------------

fn array_accepts(oid: Oid, element_accepts: impl Fn(Oid) -> bool) -> bool {
    oid == oid::UNSPECIFIED || oid::element_of(oid).is_some_and(element_accepts)
}

fn preferred<T: ToSql>(elements: &[T], oid: Oid) -> Format {
    let element = oid::element_of(oid).unwrap_or(oid::UNSPECIFIED);
    elements
        .first()
        .map_or(Format::Binary, |e| e.preferred_format(element))
}

impl<'a, T: FromSql<'a>> FromSql<'a> for Vec<T> {
    /// A one-dimensional (or empty) array; the lower bound is ignored. Decode a
    /// multi-dimensional array into [`PgArray`].
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        let (dims, elements) = decode::<Self, T>(oid, format, raw)?;
        if dims.len() > 1 {
            return Err(invalid(
                "array",
                "multi-dimensional array: decode into PgArray",
            ));
        }
        Ok(elements)
    }

    fn accepts(oid: Oid) -> bool {
        array_accepts(oid, T::accepts)
    }
}

impl<'a, T: FromSql<'a>> FromSql<'a> for PgArray<T> {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        let (dims, elements) = decode::<Self, T>(oid, format, raw)?;
        Ok(Self { dims, elements })
    }

    fn accepts(oid: Oid) -> bool {
        array_accepts(oid, T::accepts)
    }
}

fn one_dimension<T>(elements: &[T]) -> Result<[ArrayDimension; 1], TypeError> {
    let len = i32::try_from(elements.len())
        .ok()
        .filter(|&l| usize::try_from(l).is_ok_and(|l| l <= MAX_ELEMENTS))
        .ok_or(TypeError::OutOfRange { target: "array" })?;
    Ok([ArrayDimension {
        len,
        lower_bound: 1,
    }])
}

macro_rules! slice_to_sql {
    ($($t:ty),*) => {$(
        impl<T: ToSql> ToSql for $t {
            fn to_sql(
                &self,
                oid: Oid,
                format: Format,
                out: &mut BytesMut,
            ) -> Result<IsNull, TypeError> {
                let dims = one_dimension(self)?;
                encode::<Self, T>(&dims, self, oid, format, out)
            }

            fn type_oid(&self) -> Oid {
                natural_array_oid::<T>(self)
            }

            fn preferred_format(&self, oid: Oid) -> Format {
                preferred::<T>(self, oid)
            }

            fn accepts(oid: Oid) -> bool {
                array_accepts(oid, T::accepts)
            }

            fn natural_type_oid() -> Oid {
                oid::array_of(T::natural_type_oid()).unwrap_or(oid::UNSPECIFIED)
            }
        }
    )*};
}

slice_to_sql!(&[T], Vec<T>);

impl<T: ToSql> ToSql for PgArray<T> {
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        encode::<Self, T>(&self.dims, &self.elements, oid, format, out)
    }

    fn type_oid(&self) -> Oid {
        natural_array_oid::<T>(&self.elements)
    }

    fn preferred_format(&self, oid: Oid) -> Format {
        preferred::<T>(&self.elements, oid)
    }

    fn accepts(oid: Oid) -> bool {
        array_accepts(oid, T::accepts)
    }

    fn natural_type_oid() -> Oid {
        oid::array_of(T::natural_type_oid()).unwrap_or(oid::UNSPECIFIED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{PgDate, PgInterval, PgNumeric, PgTimestamp};
    use alloc::borrow::Cow;
    use alloc::string::String;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn enc(v: &dyn ToSql, oid: Oid, format: Format) -> Vec<u8> {
        let mut out = BytesMut::new();
        v.to_sql(oid, format, &mut out).unwrap();
        out.to_vec()
    }

    /// `select x::text, array_send(x)` in PostgreSQL 15.x.
    #[test]
    fn int4_vectors() {
        let one =
            hex("000000010000000100000017000000030000000100000004000000010000000400000002ffffffff");
        let v = vec![Some(1), Some(2), None::<i32>];
        assert_eq!(enc(&v, oid::INT4_ARRAY, Format::Binary), one);
        assert_eq!(enc(&v, oid::INT4_ARRAY, Format::Text), b"{1,2,NULL}");
        assert_eq!(
            Vec::<Option<i32>>::from_sql(oid::INT4_ARRAY, Format::Binary, &one),
            Ok(v.clone())
        );
        assert_eq!(
            Vec::<Option<i32>>::from_sql(oid::INT4_ARRAY, Format::Text, b"{1,2,NULL}"),
            Ok(v)
        );

        let empty = hex("000000000000000000000017");
        assert_eq!(
            enc(&Vec::<i32>::new(), oid::INT4_ARRAY, Format::Binary),
            empty
        );
        assert_eq!(
            enc(&Vec::<i32>::new(), oid::INT4_ARRAY, Format::Text),
            b"{}"
        );
        assert_eq!(
            Vec::<i32>::from_sql(oid::INT4_ARRAY, Format::Binary, &empty),
            Ok(vec![])
        );
        assert_eq!(
            Vec::<i32>::from_sql(oid::INT4_ARRAY, Format::Text, b"{}"),
            Ok(vec![])
        );

        let square = hex("000000020000000000000017000000020000000100000002000000010000000400000001000000040000000200000004000000030000000400000004");
        let a = PgArray::<i32>::from_sql(oid::INT4_ARRAY, Format::Binary, &square).unwrap();
        assert_eq!(
            a,
            PgArray::<i32>::from_sql(oid::INT4_ARRAY, Format::Text, b"{{1,2},{3,4}}").unwrap()
        );
        assert_eq!(a.dimensions().len(), 2);
        assert_eq!(enc(&a, oid::INT4_ARRAY, Format::Binary), square);
        assert_eq!(enc(&a, oid::INT4_ARRAY, Format::Text), b"{{1,2},{3,4}}");
        assert!(Vec::<i32>::from_sql(oid::INT4_ARRAY, Format::Binary, &square).is_err());

        let shifted =
            hex("000000010000000000000017000000020000000200000004000000050000000400000006");
        let a = PgArray::<i32>::from_sql(oid::INT4_ARRAY, Format::Binary, &shifted).unwrap();
        assert_eq!(
            a.dimensions(),
            [ArrayDimension {
                len: 2,
                lower_bound: 2
            }]
        );
        assert_eq!(enc(&a, oid::INT4_ARRAY, Format::Text), b"[2:3]={5,6}");
        assert_eq!(
            PgArray::<i32>::from_sql(oid::INT4_ARRAY, Format::Text, b"[2:3]={5,6}"),
            Ok(a)
        );
        assert_eq!(
            Vec::<i32>::from_sql(oid::INT4_ARRAY, Format::Binary, &shifted),
            Ok(vec![5, 6])
        );

        let column = hex("0000000200000000000000170000000200000000000000010000000100000004000000010000000400000002");
        let a = PgArray::<i32>::from_sql(oid::INT4_ARRAY, Format::Binary, &column).unwrap();
        assert_eq!(
            enc(&a, oid::INT4_ARRAY, Format::Text),
            b"[0:1][1:1]={{1},{2}}"
        );
        assert_eq!(enc(&a, oid::INT4_ARRAY, Format::Binary), column);
    }

    /// Quoting: `select array['a','','NULL',...]::text[]` in PostgreSQL 15.x.
    #[test]
    fn text_quoting_vectors() {
        let text: &[u8] = b"{a,\"\",\"NULL\",\"null\",\"with space\",\"q\\\"uote\",\"back\\\\slash\",\"{x}\",\"a,b\",NULL,\xc3\xa9,\"tab\t\",nul}";
        let bin = hex("0000000100000001000000190000000d00000001000000016100000000000000044e554c4c000000046e756c6c0000000a77697468207370616365000000067122756f74650000000a6261636b5c736c617368000000037b787d00000003612c62ffffffff00000002c3a90000000474616209000000036e756c");
        let v: Vec<Option<&str>> = vec![
            Some("a"),
            Some(""),
            Some("NULL"),
            Some("null"),
            Some("with space"),
            Some("q\"uote"),
            Some("back\\slash"),
            Some("{x}"),
            Some("a,b"),
            None,
            Some("é"),
            Some("tab\t"),
            Some("nul"),
        ];
        assert_eq!(enc(&v, oid::TEXT_ARRAY, Format::Text), text);
        assert_eq!(enc(&v, oid::TEXT_ARRAY, Format::Binary), bin);
        let owned: Vec<Option<String>> = v.iter().map(|s| s.map(String::from)).collect();
        assert_eq!(
            Vec::<Option<String>>::from_sql(oid::TEXT_ARRAY, Format::Text, text),
            Ok(owned.clone())
        );
        assert_eq!(
            Vec::<Option<String>>::from_sql(oid::TEXT_ARRAY, Format::Binary, &bin),
            Ok(owned)
        );
        // Borrowing works in binary and for elements without escapes, Cow always.
        assert_eq!(
            Vec::<Option<&str>>::from_sql(oid::TEXT_ARRAY, Format::Binary, &bin),
            Ok(v)
        );
        assert!(matches!(
            Vec::<Option<&str>>::from_sql(oid::TEXT_ARRAY, Format::Text, text),
            Err(TypeError::CannotBorrow { .. })
        ));
        let cows =
            Vec::<Option<Cow<'_, str>>>::from_sql(oid::TEXT_ARRAY, Format::Text, text).unwrap();
        assert!(matches!(cows[0], Some(Cow::Borrowed("a"))));
        assert_eq!(cows[5].as_deref(), Some("q\"uote"));
    }

    /// Text forms of other element types, from PostgreSQL 15.x.
    #[test]
    fn element_type_vectors() {
        let bytea = hex("00000001000000010000001100000002000000010000000201abffffffff");
        let v = vec![Some(vec![0x01u8, 0xab]), None];
        assert_eq!(enc(&v, oid::BYTEA_ARRAY, Format::Binary), bytea);
        assert_eq!(
            enc(&v, oid::BYTEA_ARRAY, Format::Text),
            b"{\"\\\\x01ab\",NULL}"
        );
        assert_eq!(
            Vec::<Option<Vec<u8>>>::from_sql(
                oid::BYTEA_ARRAY,
                Format::Text,
                b"{\"\\\\x01ab\",NULL}"
            ),
            Ok(v)
        );

        let ts = vec![PgTimestamp(0), PgTimestamp::INFINITY];
        assert_eq!(
            enc(&ts, oid::TIMESTAMP_ARRAY, Format::Text),
            b"{\"2000-01-01 00:00:00\",infinity}"
        );
        assert_eq!(
            Vec::<PgTimestamp>::from_sql(
                oid::TIMESTAMP_ARRAY,
                Format::Text,
                b"{\"2000-01-01 00:00:00\",infinity}"
            ),
            Ok(ts)
        );

        let numeric = hex("0000000100000001000006a400000003000000010000000c0002000000000001000113880000000800000000c0000000ffffffff");
        let v = vec![
            Some("1.5".parse::<PgNumeric>().unwrap()),
            Some(PgNumeric::NAN),
            None,
        ];
        assert_eq!(enc(&v, oid::NUMERIC_ARRAY, Format::Binary), numeric);
        assert_eq!(enc(&v, oid::NUMERIC_ARRAY, Format::Text), b"{1.5,NaN,NULL}");

        let json = b"{\"{\\\"a\\\": \\\"b\\\\\\\\c\\\"}\"}";
        assert_eq!(
            enc(&vec!["{\"a\": \"b\\\\c\"}"], oid::JSONB_ARRAY, Format::Text),
            json
        );
        assert_eq!(
            Vec::<String>::from_sql(oid::JSONB_ARRAY, Format::Text, json),
            Ok(vec!["{\"a\": \"b\\\\c\"}".into()])
        );

        let iv = vec![PgInterval::new(0, 1, 0), PgInterval::new(0, 0, -1_000_000)];
        assert_eq!(
            enc(&iv, oid::INTERVAL_ARRAY, Format::Text),
            b"{\"1 day\",-00:00:01}"
        );
        assert_eq!(
            enc(&vec![true, false], oid::BOOL_ARRAY, Format::Text),
            b"{t,f}"
        );
        assert_eq!(
            enc(
                &vec![f64::NAN, f64::INFINITY, 1.5e300],
                oid::FLOAT8_ARRAY,
                Format::Text
            ),
            b"{NaN,Infinity,1.5e+300}"
        );
        assert_eq!(
            Vec::<PgDate>::from_sql(oid::DATE_ARRAY, Format::Text, b"{2000-01-01}"),
            Ok(vec![PgDate(0)])
        );
    }

    #[test]
    fn text_input_forms() {
        let ok: &[(&[u8], &[i32])] = &[
            (b"{ 1 , 2 }", &[1, 2]),
            (b"  {1}  ", &[1]),
            (b"{\"1\", 2}", &[1, 2]),
            (b"[1:2]={1,2}", &[1, 2]),
            (b"[2]={1,2}", &[1, 2]),
            (b"[ -1 : 0 ] = {1,2}", &[1, 2]),
            (b"{1\\2}", &[12]),
        ];
        for &(text, v) in ok {
            assert_eq!(
                Vec::<i32>::from_sql(oid::INT4_ARRAY, Format::Text, text).as_deref(),
                Ok(v),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
        assert_eq!(
            Vec::<String>::from_sql(
                oid::TEXT_ARRAY,
                Format::Text,
                b"{ a b , \"c\" , d\\\"e , f\\  }"
            ),
            Ok(vec!["a b".into(), "c".into(), "d\"e".into(), "f ".into()])
        );
        assert_eq!(
            Vec::<Option<String>>::from_sql(oid::TEXT_ARRAY, Format::Text, b"{\\NULL,nUlL}"),
            Ok(vec![Some("NULL".into()), None])
        );
        for bad in [
            &b""[..],
            b"{",
            b"}",
            b"{1,}",
            b"{,1}",
            b"{1,,2}",
            b"{{},{}}",
            b"{{1},2}",
            b"{1,{2}}",
            b"{{1,2},{3}}",
            b"{1}x",
            b"[1:3]={1,2}",
            b"[2:1]={1}",
            b"[1:2={1,2}",
            b"{\"1}",
            b"{1\"2}",
            b"{1\\}",
            b"{{{{{{{1}}}}}}}",
            b"[1][1][1][1][1][1][1]={{{{{{{1}}}}}}}",
            b"{a{}",
        ] {
            assert!(
                Vec::<Option<String>>::from_sql(oid::TEXT_ARRAY, Format::Text, bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
            assert!(
                PgArray::<Option<String>>::from_sql(oid::TEXT_ARRAY, Format::Text, bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // Six dimensions are fine.
        assert!(PgArray::<i32>::from_sql(oid::INT4_ARRAY, Format::Text, b"{{{{{{1}}}}}}").is_ok());
        // NULL without Option is an error.
        assert!(Vec::<i32>::from_sql(oid::INT4_ARRAY, Format::Text, b"{NULL}").is_err());
    }

    #[test]
    fn binary_validation() {
        let bad = [
            "ffffffff0000000000000017", // negative ndim
            "000000070000000000000017", // 7 dims
            "000000010000000200000017000000010000000100000004ffffffff", // flags 2
            "000000010000000000000019000000010000000100000004000000ff", // element text, not int4
            "0000000100000000000000170000000100000001", // missing element
            "00000001000000000000001700000001000000010000000400000001ff", // trailing byte
            "000000010000000000000017ffffffff00000001", // negative length
            "0000000100000000000000177fffffff00000001", // count beyond input
            "000000010000000000000017000000027fffffff0000000400000001000000040000000200", // ub overflow
            "000000010000000000000017000000010000000100000003000001", // short element
            "000000010000000000000017000000010000000100000004000001", // truncated
            "000000010000000000000017000000010000000180000000",       // -2^31 element length
        ];
        for b in bad {
            assert!(
                Vec::<Option<i32>>::from_sql(oid::INT4_ARRAY, Format::Binary, &hex(b)).is_err(),
                "{b}"
            );
        }
        assert!(matches!(
            Vec::<i32>::from_sql(
                oid::INT4_ARRAY,
                Format::Binary,
                &hex("000000000000000000000019")
            ),
            Err(TypeError::ElementTypeMismatch {
                expected: 23,
                actual: 25
            })
        ));
        // Unspecified type: the header decides.
        assert_eq!(
            Vec::<i64>::from_sql(
                0,
                Format::Binary,
                &hex("000000010000000000000015000000010000000100000002ffff")
            ),
            Ok(vec![-1])
        );
        assert!(
            Vec::<i32>::from_sql(oid::INT4, Format::Binary, &hex("000000000000000000000017"))
                .is_err()
        );
        assert!(Vec::<i32>::from_sql(oid::TEXT_ARRAY, Format::Text, b"{}").is_err());
        assert!(Vec::<i32>::from_sql(oid::TEXT_ARRAY, Format::Text, b"{a}").is_err());
        assert!(Vec::<i32>::from_sql(
            oid::TEXT_ARRAY,
            Format::Binary,
            &hex("000000000000000000000019")
        )
        .is_err());
        // Strings read any element type's text form.
        assert_eq!(
            Vec::<String>::from_sql(oid::INT4_ARRAY, Format::Text, b"{1,2}"),
            Ok(vec!["1".into(), "2".into()])
        );
        // An unknown (extension) array type in text: elements decode as their natural type.
        assert_eq!(
            Vec::<String>::from_sql(99_999, Format::Text, b"{a,b}"),
            Ok(vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn encoding_targets() {
        let v = vec![1i32, 2];
        assert_eq!(v.type_oid(), oid::INT4_ARRAY);
        assert_eq!(Vec::<i64>::new().type_oid(), oid::INT8_ARRAY);
        assert_eq!(vec!["a"].type_oid(), oid::TEXT_ARRAY);
        assert_eq!(
            enc(&v, 0, Format::Binary),
            enc(&v, oid::INT4_ARRAY, Format::Binary)
        );
        assert_eq!(
            enc(&v, oid::INT8_ARRAY, Format::Binary)[8..12],
            oid::INT8.to_be_bytes()
        );
        assert_eq!(enc(&&v[..], oid::INT4_ARRAY, Format::Text), b"{1,2}");
        let mut out = BytesMut::new();
        assert!(v.to_sql(oid::INT4, Format::Binary, &mut out).is_err());
        assert!(v.to_sql(oid::TEXT_ARRAY, Format::Binary, &mut out).is_err());
        assert!(<Vec<i32> as ToSql>::accepts(oid::INT8_ARRAY));
        assert!(!<Vec<i32> as ToSql>::accepts(oid::TEXT_ARRAY));
        // Strings go as text to an int4[] parameter.
        let s = vec!["1", "2"];
        assert_eq!(s.preferred_format(oid::INT4_ARRAY), Format::Text);
        assert_eq!(enc(&s, oid::INT4_ARRAY, Format::Text), b"{1,2}");
        assert!(PgArray::new(
            vec![ArrayDimension {
                len: 2,
                lower_bound: 1
            }],
            vec![1]
        )
        .is_err());
        assert!(PgArray::new(
            vec![
                ArrayDimension {
                    len: 1,
                    lower_bound: i32::MAX
                };
                1
            ],
            vec![1]
        )
        .is_ok());
        assert!(PgArray::new(
            vec![ArrayDimension {
                len: 2,
                lower_bound: i32::MAX
            }],
            vec![1, 2]
        )
        .is_err());
        assert!(PgArray::new(
            vec![
                ArrayDimension {
                    len: 1,
                    lower_bound: 1
                };
                7
            ],
            vec![1]
        )
        .is_err());
    }

    fn arb_array() -> impl Strategy<Value = PgArray<Option<String>>> {
        (
            proptest::collection::vec((1i32..4, -3i32..3), 1..4),
            any::<u64>(),
        )
            .prop_flat_map(|(dims, _)| {
                let dims: Vec<ArrayDimension> = dims
                    .into_iter()
                    .map(|(len, lower_bound)| ArrayDimension { len, lower_bound })
                    .collect();
                let count = dims.iter().map(|d| d.len as usize).product::<usize>();
                proptest::collection::vec(proptest::option::of("[ -~\t\né]{0,6}"), count)
                    .prop_map(move |e| PgArray::new(dims.clone(), e).unwrap())
            })
    }

    proptest! {
        #[test]
        fn string_arrays_roundtrip(a in arb_array()) {
            for format in [Format::Binary, Format::Text] {
                let bytes = enc(&a, oid::TEXT_ARRAY, format);
                prop_assert_eq!(PgArray::<Option<String>>::from_sql(oid::TEXT_ARRAY, format, &bytes), Ok(a.clone()));
            }
        }

        #[test]
        fn int_vecs_roundtrip(v in proptest::collection::vec(proptest::option::of(any::<i64>()), 0..20)) {
            for format in [Format::Binary, Format::Text] {
                let bytes = enc(&v, oid::INT8_ARRAY, format);
                prop_assert_eq!(Vec::<Option<i64>>::from_sql(oid::INT8_ARRAY, format, &bytes), Ok(v.clone()));
            }
        }

        #[test]
        fn random_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..64)) {
            for format in [Format::Binary, Format::Text] {
                let _ = Vec::<Option<i32>>::from_sql(oid::INT4_ARRAY, format, &raw);
                let _ = PgArray::<Option<String>>::from_sql(oid::TEXT_ARRAY, format, &raw);
                let _ = PgArray::<Option<&str>>::from_sql(0, format, &raw);
            }
        }

        #[test]
        fn random_text_never_panics(s in "[{}\\[\\]:=,\"\\\\ a1N-]{0,40}") {
            let _ = PgArray::<Option<String>>::from_sql(oid::TEXT_ARRAY, Format::Text, s.as_bytes());
            let _ = PgArray::<Option<i32>>::from_sql(oid::INT4_ARRAY, Format::Text, s.as_bytes());
        }

        #[test]
        fn random_headers_never_panic(ndim in -1i32..8, flags in 0i32..3, dims in proptest::collection::vec((-2i32..4, any::<i32>()), 0..8), tail in proptest::collection::vec(any::<u8>(), 0..32)) {
            let mut raw = Vec::new();
            raw.extend(ndim.to_be_bytes());
            raw.extend(flags.to_be_bytes());
            raw.extend(oid::INT4.to_be_bytes());
            for (l, b) in dims { raw.extend(l.to_be_bytes()); raw.extend(b.to_be_bytes()); }
            raw.extend(tail);
            let _ = PgArray::<Option<i32>>::from_sql(oid::INT4_ARRAY, Format::Binary, &raw);
        }
    }
}
