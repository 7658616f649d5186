//! PostgreSQL's everyday string functions that SQLite lacks or names otherwise, as SQL
//! functions on each connection: `left`, `right`, `initcap`, `md5`, `concat`,
//! `concat_ws`, `split_part`, `lpad`, `rpad`, `repeat`, `reverse`, `strpos`, `btrim`,
//! `starts_with`, `regexp_replace`, `to_hex`, `chr`, `ascii`, `upper`/`lower` (every
//! letter, not only ASCII's), `trunc`, `ceil`/`floor`,
//! `sqrt`, `mod`, `power`, `greatest`/`least`, and
//! `pg_jsonb_out`/`pg_json_build_out` (SQLite's minified JSON text written as
//! PostgreSQL writes a `jsonb` value or a `json_build_object`/`json_build_array`
//! result). Each answers as PostgreSQL 15 does for the same text arguments, or fails
//! with PostgreSQL's SQLSTATE (in brackets, read by the session); what it cannot
//! answer alike (`to_hex` of a negative number, whose width depends on the argument's
//! type) fails with 0A000.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use crate::jsonb::{Json, JsonValue};

/// An error raised by one of the server's SQL functions (its message may name the
/// SQLSTATE: `[22023] message`).
pub(crate) fn user_error(m: String) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(m.into())
}

/// An argument as PostgreSQL's text of it, `None` for NULL (SQLite's own text of a
/// number is PostgreSQL's for integers; reals are written as SQLite writes them).
pub(crate) fn text_arg(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(text_value(ctx.get_raw(i)))
}

/// A value as PostgreSQL's text of it, `None` for NULL (see [`text_arg`]).
pub(crate) fn text_value(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(r) => Some(crate::types::format_float(r)),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

/// The first `n` characters (all but the last `-n` when negative), as `left`.
pub(crate) fn left(s: &str, n: i64) -> String {
    let len = s.chars().count() as i64;
    let take = if n >= 0 { n.min(len) } else { (len + n).max(0) };
    s.chars().take(take as usize).collect()
}

/// The last `n` characters (all but the first `-n` when negative), as `right`.
pub(crate) fn right(s: &str, n: i64) -> String {
    let len = s.chars().count() as i64;
    let skip = if n >= 0 {
        (len - n).max(0)
    } else {
        (-n).min(len)
    };
    s.chars().skip(skip as usize).collect()
}

/// Each word's first letter upper case and the rest lower case, words being runs of
/// letters and digits as glibc's `C.UTF-8` has them ([`GLIBC_ALNUM`]), as `initcap`
/// (one character for one, see [`upper_char`]).
pub(crate) fn initcap(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_word = false;
    for c in s.chars() {
        out.push(if in_word {
            lower_char(c)
        } else {
            upper_char(c)
        });
        in_word = is_alnum(c);
    }
    out
}

/// Whether glibc's `iswalnum` holds for `c` (see [`GLIBC_ALNUM`]).
fn is_alnum(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    let u = u32::from(c);
    // The runs starting at or before `u`: `u` is in the last of them, or in none.
    let (mut lo, mut hi) = (0, GLIBC_ALNUM.len() / 2);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if GLIBC_ALNUM.get(2 * mid).is_some_and(|start| *start <= u) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo > 0 && GLIBC_ALNUM.get(2 * lo - 1).is_some_and(|end| u <= *end)
}

/// Upper case as PostgreSQL's `upper` in the server's locale (`C.UTF-8`): glibc's
/// `towupper`, one character for one (see [`upper_char`]).
pub(crate) fn upper(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_uppercase();
    }
    s.chars().map(upper_char).collect()
}

/// Lower case as PostgreSQL's `lower` in the server's locale (see [`lower_char`]).
pub(crate) fn lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.chars().map(lower_char).collect()
}

/// Case pairs newer than the Unicode of glibc 2.36's `C.UTF-8` (Unicode 14, Debian 12's
/// PostgreSQL 15), which maps these characters to themselves.
fn newer_case_pair(c: char) -> bool {
    matches!(
        u32::from(c),
        0x19B
            | 0x264
            | 0x1C89..=0x1C8A
            | 0xA7CB..=0xA7CF
            | 0xA7D2..=0xA7D5
            | 0xA7DA..=0xA7DC
            | 0x10D50..=0x10D65
            | 0x10D70..=0x10D85
            | 0x16EA0..=0x16EB8
            | 0x16EBB..=0x16ED3
    )
}

/// One character's upper case, as glibc's `towupper`: Unicode's simple mapping (where
/// Rust's full mapping gives several characters, `ß` -> `SS`, the simple one keeps the
/// character, but for the Greek letters with ypogegrammeni, which become their title
/// case forms).
pub(crate) fn upper_char(c: char) -> char {
    if newer_case_pair(c) {
        return c;
    }
    let mut mapped = c.to_uppercase();
    match (mapped.next(), mapped.next()) {
        (Some(u), None) => u,
        _ => match u32::from(c) {
            0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7 => {
                char::from_u32(u32::from(c) + 8).unwrap_or(c)
            }
            0x1FB3 => '\u{1FBC}',
            0x1FC3 => '\u{1FCC}',
            0x1FF3 => '\u{1FFC}',
            _ => c,
        },
    }
}

/// One character's lower case, as glibc's `towlower` (Unicode's simple mapping: `İ` is
/// `i`; a final sigma is `σ`, since each character is mapped alone).
pub(crate) fn lower_char(c: char) -> char {
    if newer_case_pair(c) {
        return c;
    }
    let mut mapped = c.to_lowercase();
    match (mapped.next(), mapped.next()) {
        (Some(l), None) => l,
        _ if c == '\u{130}' => 'i',
        _ => c,
    }
}

/// The characters glibc 2.36's `C.UTF-8` counts as letters or digits (`iswalnum`:
/// Unicode 14's Alphabetic property and decimal digits), which separate `initcap`'s
/// words: first and last code point of each run, in order.
const GLIBC_ALNUM: &[u32] = &[
    0x30, 0x39, 0x41, 0x5A, 0x61, 0x7A, 0xAA, 0xAA, 0xB5, 0xB5, 0xBA, 0xBA, 0xC0, 0xD6, 0xD8, 0xF6,
    0xF8, 0x2C1, 0x2C6, 0x2D1, 0x2E0, 0x2E4, 0x2EC, 0x2EC, 0x2EE, 0x2EE, 0x345, 0x345, 0x370,
    0x374, 0x376, 0x377, 0x37A, 0x37D, 0x37F, 0x37F, 0x386, 0x386, 0x388, 0x38A, 0x38C, 0x38C,
    0x38E, 0x3A1, 0x3A3, 0x3F5, 0x3F7, 0x481, 0x48A, 0x52F, 0x531, 0x556, 0x559, 0x559, 0x560,
    0x588, 0x5B0, 0x5BD, 0x5BF, 0x5BF, 0x5C1, 0x5C2, 0x5C4, 0x5C5, 0x5C7, 0x5C7, 0x5D0, 0x5EA,
    0x5EF, 0x5F2, 0x610, 0x61A, 0x620, 0x657, 0x659, 0x669, 0x66E, 0x6D3, 0x6D5, 0x6DC, 0x6E1,
    0x6E8, 0x6ED, 0x6FC, 0x6FF, 0x6FF, 0x710, 0x73F, 0x74D, 0x7B1, 0x7C0, 0x7EA, 0x7F4, 0x7F5,
    0x7FA, 0x7FA, 0x800, 0x817, 0x81A, 0x82C, 0x840, 0x858, 0x860, 0x86A, 0x870, 0x887, 0x889,
    0x88E, 0x8A0, 0x8C9, 0x8D4, 0x8DF, 0x8E3, 0x8E9, 0x8F0, 0x93B, 0x93D, 0x94C, 0x94E, 0x950,
    0x955, 0x963, 0x966, 0x96F, 0x971, 0x983, 0x985, 0x98C, 0x98F, 0x990, 0x993, 0x9A8, 0x9AA,
    0x9B0, 0x9B2, 0x9B2, 0x9B6, 0x9B9, 0x9BD, 0x9C4, 0x9C7, 0x9C8, 0x9CB, 0x9CC, 0x9CE, 0x9CE,
    0x9D7, 0x9D7, 0x9DC, 0x9DD, 0x9DF, 0x9E3, 0x9E6, 0x9F1, 0x9FC, 0x9FC, 0xA01, 0xA03, 0xA05,
    0xA0A, 0xA0F, 0xA10, 0xA13, 0xA28, 0xA2A, 0xA30, 0xA32, 0xA33, 0xA35, 0xA36, 0xA38, 0xA39,
    0xA3E, 0xA42, 0xA47, 0xA48, 0xA4B, 0xA4C, 0xA51, 0xA51, 0xA59, 0xA5C, 0xA5E, 0xA5E, 0xA66,
    0xA75, 0xA81, 0xA83, 0xA85, 0xA8D, 0xA8F, 0xA91, 0xA93, 0xAA8, 0xAAA, 0xAB0, 0xAB2, 0xAB3,
    0xAB5, 0xAB9, 0xABD, 0xAC5, 0xAC7, 0xAC9, 0xACB, 0xACC, 0xAD0, 0xAD0, 0xAE0, 0xAE3, 0xAE6,
    0xAEF, 0xAF9, 0xAFC, 0xB01, 0xB03, 0xB05, 0xB0C, 0xB0F, 0xB10, 0xB13, 0xB28, 0xB2A, 0xB30,
    0xB32, 0xB33, 0xB35, 0xB39, 0xB3D, 0xB44, 0xB47, 0xB48, 0xB4B, 0xB4C, 0xB56, 0xB57, 0xB5C,
    0xB5D, 0xB5F, 0xB63, 0xB66, 0xB6F, 0xB71, 0xB71, 0xB82, 0xB83, 0xB85, 0xB8A, 0xB8E, 0xB90,
    0xB92, 0xB95, 0xB99, 0xB9A, 0xB9C, 0xB9C, 0xB9E, 0xB9F, 0xBA3, 0xBA4, 0xBA8, 0xBAA, 0xBAE,
    0xBB9, 0xBBE, 0xBC2, 0xBC6, 0xBC8, 0xBCA, 0xBCC, 0xBD0, 0xBD0, 0xBD7, 0xBD7, 0xBE6, 0xBEF,
    0xC00, 0xC03, 0xC05, 0xC0C, 0xC0E, 0xC10, 0xC12, 0xC28, 0xC2A, 0xC39, 0xC3D, 0xC44, 0xC46,
    0xC48, 0xC4A, 0xC4C, 0xC55, 0xC56, 0xC58, 0xC5A, 0xC5D, 0xC5D, 0xC60, 0xC63, 0xC66, 0xC6F,
    0xC80, 0xC83, 0xC85, 0xC8C, 0xC8E, 0xC90, 0xC92, 0xCA8, 0xCAA, 0xCB3, 0xCB5, 0xCB9, 0xCBD,
    0xCC4, 0xCC6, 0xCC8, 0xCCA, 0xCCC, 0xCD5, 0xCD6, 0xCDD, 0xCDE, 0xCE0, 0xCE3, 0xCE6, 0xCEF,
    0xCF1, 0xCF2, 0xD00, 0xD0C, 0xD0E, 0xD10, 0xD12, 0xD3A, 0xD3D, 0xD44, 0xD46, 0xD48, 0xD4A,
    0xD4C, 0xD4E, 0xD4E, 0xD54, 0xD57, 0xD5F, 0xD63, 0xD66, 0xD6F, 0xD7A, 0xD7F, 0xD81, 0xD83,
    0xD85, 0xD96, 0xD9A, 0xDB1, 0xDB3, 0xDBB, 0xDBD, 0xDBD, 0xDC0, 0xDC6, 0xDCF, 0xDD4, 0xDD6,
    0xDD6, 0xDD8, 0xDDF, 0xDE6, 0xDEF, 0xDF2, 0xDF3, 0xE01, 0xE3A, 0xE40, 0xE46, 0xE4D, 0xE4D,
    0xE50, 0xE59, 0xE81, 0xE82, 0xE84, 0xE84, 0xE86, 0xE8A, 0xE8C, 0xEA3, 0xEA5, 0xEA5, 0xEA7,
    0xEB9, 0xEBB, 0xEBD, 0xEC0, 0xEC4, 0xEC6, 0xEC6, 0xECD, 0xECD, 0xED0, 0xED9, 0xEDC, 0xEDF,
    0xF00, 0xF00, 0xF20, 0xF29, 0xF40, 0xF47, 0xF49, 0xF6C, 0xF71, 0xF81, 0xF88, 0xF97, 0xF99,
    0xFBC, 0x1000, 0x1036, 0x1038, 0x1038, 0x103B, 0x1049, 0x1050, 0x109D, 0x10A0, 0x10C5, 0x10C7,
    0x10C7, 0x10CD, 0x10CD, 0x10D0, 0x10FA, 0x10FC, 0x1248, 0x124A, 0x124D, 0x1250, 0x1256, 0x1258,
    0x1258, 0x125A, 0x125D, 0x1260, 0x1288, 0x128A, 0x128D, 0x1290, 0x12B0, 0x12B2, 0x12B5, 0x12B8,
    0x12BE, 0x12C0, 0x12C0, 0x12C2, 0x12C5, 0x12C8, 0x12D6, 0x12D8, 0x1310, 0x1312, 0x1315, 0x1318,
    0x135A, 0x1380, 0x138F, 0x13A0, 0x13F5, 0x13F8, 0x13FD, 0x1401, 0x166C, 0x166F, 0x167F, 0x1681,
    0x169A, 0x16A0, 0x16EA, 0x16EE, 0x16F8, 0x1700, 0x1713, 0x171F, 0x1733, 0x1740, 0x1753, 0x1760,
    0x176C, 0x176E, 0x1770, 0x1772, 0x1773, 0x1780, 0x17B3, 0x17B6, 0x17C8, 0x17D7, 0x17D7, 0x17DC,
    0x17DC, 0x17E0, 0x17E9, 0x1810, 0x1819, 0x1820, 0x1878, 0x1880, 0x18AA, 0x18B0, 0x18F5, 0x1900,
    0x191E, 0x1920, 0x192B, 0x1930, 0x1938, 0x1946, 0x196D, 0x1970, 0x1974, 0x1980, 0x19AB, 0x19B0,
    0x19C9, 0x19D0, 0x19D9, 0x1A00, 0x1A1B, 0x1A20, 0x1A5E, 0x1A61, 0x1A74, 0x1A80, 0x1A89, 0x1A90,
    0x1A99, 0x1AA7, 0x1AA7, 0x1ABF, 0x1AC0, 0x1ACC, 0x1ACE, 0x1B00, 0x1B33, 0x1B35, 0x1B43, 0x1B45,
    0x1B4C, 0x1B50, 0x1B59, 0x1B80, 0x1BA9, 0x1BAC, 0x1BE5, 0x1BE7, 0x1BF1, 0x1C00, 0x1C36, 0x1C40,
    0x1C49, 0x1C4D, 0x1C7D, 0x1C80, 0x1C88, 0x1C90, 0x1CBA, 0x1CBD, 0x1CBF, 0x1CE9, 0x1CEC, 0x1CEE,
    0x1CF3, 0x1CF5, 0x1CF6, 0x1CFA, 0x1CFA, 0x1D00, 0x1DBF, 0x1DE7, 0x1DF4, 0x1E00, 0x1F15, 0x1F18,
    0x1F1D, 0x1F20, 0x1F45, 0x1F48, 0x1F4D, 0x1F50, 0x1F57, 0x1F59, 0x1F59, 0x1F5B, 0x1F5B, 0x1F5D,
    0x1F5D, 0x1F5F, 0x1F7D, 0x1F80, 0x1FB4, 0x1FB6, 0x1FBC, 0x1FBE, 0x1FBE, 0x1FC2, 0x1FC4, 0x1FC6,
    0x1FCC, 0x1FD0, 0x1FD3, 0x1FD6, 0x1FDB, 0x1FE0, 0x1FEC, 0x1FF2, 0x1FF4, 0x1FF6, 0x1FFC, 0x2071,
    0x2071, 0x207F, 0x207F, 0x2090, 0x209C, 0x2102, 0x2102, 0x2107, 0x2107, 0x210A, 0x2113, 0x2115,
    0x2115, 0x2119, 0x211D, 0x2124, 0x2124, 0x2126, 0x2126, 0x2128, 0x2128, 0x212A, 0x212D, 0x212F,
    0x2139, 0x213C, 0x213F, 0x2145, 0x2149, 0x214E, 0x214E, 0x2160, 0x2188, 0x24B6, 0x24E9, 0x2C00,
    0x2CE4, 0x2CEB, 0x2CEE, 0x2CF2, 0x2CF3, 0x2D00, 0x2D25, 0x2D27, 0x2D27, 0x2D2D, 0x2D2D, 0x2D30,
    0x2D67, 0x2D6F, 0x2D6F, 0x2D80, 0x2D96, 0x2DA0, 0x2DA6, 0x2DA8, 0x2DAE, 0x2DB0, 0x2DB6, 0x2DB8,
    0x2DBE, 0x2DC0, 0x2DC6, 0x2DC8, 0x2DCE, 0x2DD0, 0x2DD6, 0x2DD8, 0x2DDE, 0x2DE0, 0x2DFF, 0x2E2F,
    0x2E2F, 0x3005, 0x3007, 0x3021, 0x3029, 0x3031, 0x3035, 0x3038, 0x303C, 0x3041, 0x3096, 0x309D,
    0x309F, 0x30A1, 0x30FA, 0x30FC, 0x30FF, 0x3105, 0x312F, 0x3131, 0x318E, 0x31A0, 0x31BF, 0x31F0,
    0x31FF, 0x3400, 0x4DBF, 0x4E00, 0xA48C, 0xA4D0, 0xA4FD, 0xA500, 0xA60C, 0xA610, 0xA62B, 0xA640,
    0xA66E, 0xA674, 0xA67B, 0xA67F, 0xA6EF, 0xA717, 0xA71F, 0xA722, 0xA788, 0xA78B, 0xA7CA, 0xA7D0,
    0xA7D1, 0xA7D3, 0xA7D3, 0xA7D5, 0xA7D9, 0xA7F2, 0xA805, 0xA807, 0xA827, 0xA840, 0xA873, 0xA880,
    0xA8C3, 0xA8C5, 0xA8C5, 0xA8D0, 0xA8D9, 0xA8F2, 0xA8F7, 0xA8FB, 0xA8FB, 0xA8FD, 0xA92A, 0xA930,
    0xA952, 0xA960, 0xA97C, 0xA980, 0xA9B2, 0xA9B4, 0xA9BF, 0xA9CF, 0xA9D9, 0xA9E0, 0xA9FE, 0xAA00,
    0xAA36, 0xAA40, 0xAA4D, 0xAA50, 0xAA59, 0xAA60, 0xAA76, 0xAA7A, 0xAABE, 0xAAC0, 0xAAC0, 0xAAC2,
    0xAAC2, 0xAADB, 0xAADD, 0xAAE0, 0xAAEF, 0xAAF2, 0xAAF5, 0xAB01, 0xAB06, 0xAB09, 0xAB0E, 0xAB11,
    0xAB16, 0xAB20, 0xAB26, 0xAB28, 0xAB2E, 0xAB30, 0xAB5A, 0xAB5C, 0xAB69, 0xAB70, 0xABEA, 0xABF0,
    0xABF9, 0xAC00, 0xD7A3, 0xD7B0, 0xD7C6, 0xD7CB, 0xD7FB, 0xF900, 0xFA6D, 0xFA70, 0xFAD9, 0xFB00,
    0xFB06, 0xFB13, 0xFB17, 0xFB1D, 0xFB28, 0xFB2A, 0xFB36, 0xFB38, 0xFB3C, 0xFB3E, 0xFB3E, 0xFB40,
    0xFB41, 0xFB43, 0xFB44, 0xFB46, 0xFBB1, 0xFBD3, 0xFD3D, 0xFD50, 0xFD8F, 0xFD92, 0xFDC7, 0xFDF0,
    0xFDFB, 0xFE70, 0xFE74, 0xFE76, 0xFEFC, 0xFF10, 0xFF19, 0xFF21, 0xFF3A, 0xFF41, 0xFF5A, 0xFF66,
    0xFFBE, 0xFFC2, 0xFFC7, 0xFFCA, 0xFFCF, 0xFFD2, 0xFFD7, 0xFFDA, 0xFFDC, 0x10000, 0x1000B,
    0x1000D, 0x10026, 0x10028, 0x1003A, 0x1003C, 0x1003D, 0x1003F, 0x1004D, 0x10050, 0x1005D,
    0x10080, 0x100FA, 0x10140, 0x10174, 0x10280, 0x1029C, 0x102A0, 0x102D0, 0x10300, 0x1031F,
    0x1032D, 0x1034A, 0x10350, 0x1037A, 0x10380, 0x1039D, 0x103A0, 0x103C3, 0x103C8, 0x103CF,
    0x103D1, 0x103D5, 0x10400, 0x1049D, 0x104A0, 0x104A9, 0x104B0, 0x104D3, 0x104D8, 0x104FB,
    0x10500, 0x10527, 0x10530, 0x10563, 0x10570, 0x1057A, 0x1057C, 0x1058A, 0x1058C, 0x10592,
    0x10594, 0x10595, 0x10597, 0x105A1, 0x105A3, 0x105B1, 0x105B3, 0x105B9, 0x105BB, 0x105BC,
    0x10600, 0x10736, 0x10740, 0x10755, 0x10760, 0x10767, 0x10780, 0x10785, 0x10787, 0x107B0,
    0x107B2, 0x107BA, 0x10800, 0x10805, 0x10808, 0x10808, 0x1080A, 0x10835, 0x10837, 0x10838,
    0x1083C, 0x1083C, 0x1083F, 0x10855, 0x10860, 0x10876, 0x10880, 0x1089E, 0x108E0, 0x108F2,
    0x108F4, 0x108F5, 0x10900, 0x10915, 0x10920, 0x10939, 0x10980, 0x109B7, 0x109BE, 0x109BF,
    0x10A00, 0x10A03, 0x10A05, 0x10A06, 0x10A0C, 0x10A13, 0x10A15, 0x10A17, 0x10A19, 0x10A35,
    0x10A60, 0x10A7C, 0x10A80, 0x10A9C, 0x10AC0, 0x10AC7, 0x10AC9, 0x10AE4, 0x10B00, 0x10B35,
    0x10B40, 0x10B55, 0x10B60, 0x10B72, 0x10B80, 0x10B91, 0x10C00, 0x10C48, 0x10C80, 0x10CB2,
    0x10CC0, 0x10CF2, 0x10D00, 0x10D27, 0x10D30, 0x10D39, 0x10E80, 0x10EA9, 0x10EAB, 0x10EAC,
    0x10EB0, 0x10EB1, 0x10F00, 0x10F1C, 0x10F27, 0x10F27, 0x10F30, 0x10F45, 0x10F70, 0x10F81,
    0x10FB0, 0x10FC4, 0x10FE0, 0x10FF6, 0x11000, 0x11045, 0x11066, 0x1106F, 0x11071, 0x11075,
    0x11082, 0x110B8, 0x110C2, 0x110C2, 0x110D0, 0x110E8, 0x110F0, 0x110F9, 0x11100, 0x11132,
    0x11136, 0x1113F, 0x11144, 0x11147, 0x11150, 0x11172, 0x11176, 0x11176, 0x11180, 0x111BF,
    0x111C1, 0x111C4, 0x111CE, 0x111DA, 0x111DC, 0x111DC, 0x11200, 0x11211, 0x11213, 0x11234,
    0x11237, 0x11237, 0x1123E, 0x1123E, 0x11280, 0x11286, 0x11288, 0x11288, 0x1128A, 0x1128D,
    0x1128F, 0x1129D, 0x1129F, 0x112A8, 0x112B0, 0x112E8, 0x112F0, 0x112F9, 0x11300, 0x11303,
    0x11305, 0x1130C, 0x1130F, 0x11310, 0x11313, 0x11328, 0x1132A, 0x11330, 0x11332, 0x11333,
    0x11335, 0x11339, 0x1133D, 0x11344, 0x11347, 0x11348, 0x1134B, 0x1134C, 0x11350, 0x11350,
    0x11357, 0x11357, 0x1135D, 0x11363, 0x11400, 0x11441, 0x11443, 0x11445, 0x11447, 0x1144A,
    0x11450, 0x11459, 0x1145F, 0x11461, 0x11480, 0x114C1, 0x114C4, 0x114C5, 0x114C7, 0x114C7,
    0x114D0, 0x114D9, 0x11580, 0x115B5, 0x115B8, 0x115BE, 0x115D8, 0x115DD, 0x11600, 0x1163E,
    0x11640, 0x11640, 0x11644, 0x11644, 0x11650, 0x11659, 0x11680, 0x116B5, 0x116B8, 0x116B8,
    0x116C0, 0x116C9, 0x11700, 0x1171A, 0x1171D, 0x1172A, 0x11730, 0x11739, 0x11740, 0x11746,
    0x11800, 0x11838, 0x118A0, 0x118E9, 0x118FF, 0x11906, 0x11909, 0x11909, 0x1190C, 0x11913,
    0x11915, 0x11916, 0x11918, 0x11935, 0x11937, 0x11938, 0x1193B, 0x1193C, 0x1193F, 0x11942,
    0x11950, 0x11959, 0x119A0, 0x119A7, 0x119AA, 0x119D7, 0x119DA, 0x119DF, 0x119E1, 0x119E1,
    0x119E3, 0x119E4, 0x11A00, 0x11A32, 0x11A35, 0x11A3E, 0x11A50, 0x11A97, 0x11A9D, 0x11A9D,
    0x11AB0, 0x11AF8, 0x11C00, 0x11C08, 0x11C0A, 0x11C36, 0x11C38, 0x11C3E, 0x11C40, 0x11C40,
    0x11C50, 0x11C59, 0x11C72, 0x11C8F, 0x11C92, 0x11CA7, 0x11CA9, 0x11CB6, 0x11D00, 0x11D06,
    0x11D08, 0x11D09, 0x11D0B, 0x11D36, 0x11D3A, 0x11D3A, 0x11D3C, 0x11D3D, 0x11D3F, 0x11D41,
    0x11D43, 0x11D43, 0x11D46, 0x11D47, 0x11D50, 0x11D59, 0x11D60, 0x11D65, 0x11D67, 0x11D68,
    0x11D6A, 0x11D8E, 0x11D90, 0x11D91, 0x11D93, 0x11D96, 0x11D98, 0x11D98, 0x11DA0, 0x11DA9,
    0x11EE0, 0x11EF6, 0x11FB0, 0x11FB0, 0x12000, 0x12399, 0x12400, 0x1246E, 0x12480, 0x12543,
    0x12F90, 0x12FF0, 0x13000, 0x1342E, 0x14400, 0x14646, 0x16800, 0x16A38, 0x16A40, 0x16A5E,
    0x16A60, 0x16A69, 0x16A70, 0x16ABE, 0x16AC0, 0x16AC9, 0x16AD0, 0x16AED, 0x16B00, 0x16B2F,
    0x16B40, 0x16B43, 0x16B50, 0x16B59, 0x16B63, 0x16B77, 0x16B7D, 0x16B8F, 0x16E40, 0x16E7F,
    0x16F00, 0x16F4A, 0x16F4F, 0x16F87, 0x16F8F, 0x16F9F, 0x16FE0, 0x16FE1, 0x16FE3, 0x16FE3,
    0x16FF0, 0x16FF1, 0x17000, 0x187F7, 0x18800, 0x18CD5, 0x18D00, 0x18D08, 0x1AFF0, 0x1AFF3,
    0x1AFF5, 0x1AFFB, 0x1AFFD, 0x1AFFE, 0x1B000, 0x1B122, 0x1B150, 0x1B152, 0x1B164, 0x1B167,
    0x1B170, 0x1B2FB, 0x1BC00, 0x1BC6A, 0x1BC70, 0x1BC7C, 0x1BC80, 0x1BC88, 0x1BC90, 0x1BC99,
    0x1BC9E, 0x1BC9E, 0x1D400, 0x1D454, 0x1D456, 0x1D49C, 0x1D49E, 0x1D49F, 0x1D4A2, 0x1D4A2,
    0x1D4A5, 0x1D4A6, 0x1D4A9, 0x1D4AC, 0x1D4AE, 0x1D4B9, 0x1D4BB, 0x1D4BB, 0x1D4BD, 0x1D4C3,
    0x1D4C5, 0x1D505, 0x1D507, 0x1D50A, 0x1D50D, 0x1D514, 0x1D516, 0x1D51C, 0x1D51E, 0x1D539,
    0x1D53B, 0x1D53E, 0x1D540, 0x1D544, 0x1D546, 0x1D546, 0x1D54A, 0x1D550, 0x1D552, 0x1D6A5,
    0x1D6A8, 0x1D6C0, 0x1D6C2, 0x1D6DA, 0x1D6DC, 0x1D6FA, 0x1D6FC, 0x1D714, 0x1D716, 0x1D734,
    0x1D736, 0x1D74E, 0x1D750, 0x1D76E, 0x1D770, 0x1D788, 0x1D78A, 0x1D7A8, 0x1D7AA, 0x1D7C2,
    0x1D7C4, 0x1D7CB, 0x1D7CE, 0x1D7FF, 0x1DF00, 0x1DF1E, 0x1E000, 0x1E006, 0x1E008, 0x1E018,
    0x1E01B, 0x1E021, 0x1E023, 0x1E024, 0x1E026, 0x1E02A, 0x1E100, 0x1E12C, 0x1E137, 0x1E13D,
    0x1E140, 0x1E149, 0x1E14E, 0x1E14E, 0x1E290, 0x1E2AD, 0x1E2C0, 0x1E2EB, 0x1E2F0, 0x1E2F9,
    0x1E7E0, 0x1E7E6, 0x1E7E8, 0x1E7EB, 0x1E7ED, 0x1E7EE, 0x1E7F0, 0x1E7FE, 0x1E800, 0x1E8C4,
    0x1E900, 0x1E943, 0x1E947, 0x1E947, 0x1E94B, 0x1E94B, 0x1E950, 0x1E959, 0x1EE00, 0x1EE03,
    0x1EE05, 0x1EE1F, 0x1EE21, 0x1EE22, 0x1EE24, 0x1EE24, 0x1EE27, 0x1EE27, 0x1EE29, 0x1EE32,
    0x1EE34, 0x1EE37, 0x1EE39, 0x1EE39, 0x1EE3B, 0x1EE3B, 0x1EE42, 0x1EE42, 0x1EE47, 0x1EE47,
    0x1EE49, 0x1EE49, 0x1EE4B, 0x1EE4B, 0x1EE4D, 0x1EE4F, 0x1EE51, 0x1EE52, 0x1EE54, 0x1EE54,
    0x1EE57, 0x1EE57, 0x1EE59, 0x1EE59, 0x1EE5B, 0x1EE5B, 0x1EE5D, 0x1EE5D, 0x1EE5F, 0x1EE5F,
    0x1EE61, 0x1EE62, 0x1EE64, 0x1EE64, 0x1EE67, 0x1EE6A, 0x1EE6C, 0x1EE72, 0x1EE74, 0x1EE77,
    0x1EE79, 0x1EE7C, 0x1EE7E, 0x1EE7E, 0x1EE80, 0x1EE89, 0x1EE8B, 0x1EE9B, 0x1EEA1, 0x1EEA3,
    0x1EEA5, 0x1EEA9, 0x1EEAB, 0x1EEBB, 0x1F130, 0x1F149, 0x1F150, 0x1F169, 0x1F170, 0x1F189,
    0x1FBF0, 0x1FBF9, 0x20000, 0x2A6DF, 0x2A700, 0x2B738, 0x2B740, 0x2B81D, 0x2B820, 0x2CEA1,
    0x2CEB0, 0x2EBE0, 0x2F800, 0x2FA1D, 0x30000, 0x3134A,
];

/// `lpad`/`rpad`: `s` filled to `len` characters with `fill` (cut to `len` when longer).
pub(crate) fn pad(s: &str, len: i64, fill: &str, left: bool) -> String {
    let len = len.max(0) as usize;
    let chars: Vec<char> = s.chars().collect();
    if chars.len() >= len || fill.is_empty() {
        return chars.iter().take(len).collect();
    }
    let filler: String = fill.chars().cycle().take(len - chars.len()).collect();
    if left {
        format!("{filler}{s}")
    } else {
        format!("{s}{filler}")
    }
}

/// `split_part`: the `n`th field (from the end when negative); 22023 for 0.
pub(crate) fn split_part(s: &str, delimiter: &str, n: i64) -> Result<String, String> {
    if n == 0 {
        return Err("[22023] field position must not be zero".to_string());
    }
    let fields: Vec<&str> = if delimiter.is_empty() {
        if s.is_empty() {
            Vec::new()
        } else {
            vec![s]
        }
    } else {
        s.split(delimiter).collect()
    };
    let index = if n > 0 {
        usize::try_from(n - 1).ok()
    } else {
        usize::try_from(fields.len() as i64 + n).ok()
    };
    Ok(index
        .and_then(|i| fields.get(i))
        .map_or(String::new(), |f| f.to_string()))
}

/// `strpos`: the character position of `sub` in `s` from 1, 0 when absent.
pub(crate) fn strpos(s: &str, sub: &str) -> i64 {
    s.find(sub).map_or(0, |b| s[..b].chars().count() as i64 + 1)
}

/// A PostgreSQL `regexp_replace` replacement (`\1`..`\9`, `\&`, `\\`) in the `regex`
/// crate's syntax.
fn replacement(repl: &str) -> String {
    let mut out = String::with_capacity(repl.len());
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek().copied() {
                Some(d @ '1'..='9') => {
                    chars.next();
                    out.push_str(&format!("${{{d}}}"));
                }
                Some('&') => {
                    chars.next();
                    out.push_str("${0}");
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            '$' => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out
}

/// `regexp_replace(s, pattern, replacement [, flags])` with flags `g` and `i` (others:
/// 0A000).
pub(crate) fn regexp_replace(
    s: &str,
    pattern: &str,
    repl: &str,
    flags: &str,
) -> Result<String, String> {
    let (mut global, mut ci) = (false, false);
    for f in flags.chars() {
        match f {
            'g' => global = true,
            'i' => ci = true,
            'c' => ci = false,
            other => {
                return Err(format!(
                    "[0A000] regexp_replace() flag \"{other}\" is not supported"
                ))
            }
        }
    }
    let re = regex::RegexBuilder::new(pattern)
        .case_insensitive(ci)
        .build()
        .map_err(|e| format!("[2201B] invalid regular expression: {e}"))?;
    let repl = replacement(repl);
    Ok(if global {
        re.replace_all(s, repl.as_str()).into_owned()
    } else {
        re.replace(s, repl.as_str()).into_owned()
    })
}

/// A JSON text written as `json_build_object`/`json_build_array` write it (`{"a" : 1}`,
/// `[1, 2]`, keys and scalars as given); `jsonb` values are the `jsonb` module's.
/// `None` when it is not JSON.
pub(crate) fn pg_json_text(json: &str) -> Option<String> {
    let json = crate::jsonb::parse(json)?;
    let mut out = String::with_capacity(json.raw.len() + 8);
    write_json(&json, &mut out);
    Some(out)
}

/// The member `key` (text) or element `key` (integer, from 0, from the end when
/// negative) of a JSON text, as `->` (`as_text` false) or `->>` write it: for jsonb
/// normalized, for json as written, a string's contents for `->>`; `Ok(None)` when
/// absent or a JSON null under `->>`. `jsonb` is `None` when the value's type is not
/// known: a container is then refused (json and jsonb write it differently).
pub(crate) fn json_get(
    json: &str,
    key: &Value,
    as_text: bool,
    jsonb: Option<bool>,
) -> Result<Option<String>, String> {
    let invalid = || format!("[22P02] invalid input syntax for type json: \"{json}\"");
    let root = crate::jsonb::parse(json).ok_or_else(invalid)?;
    let found = match (&root.value, key) {
        (JsonValue::Object(members), Value::Text(k)) => members
            .iter()
            .rev()
            .find(|(name, _)| crate::jsonb::unquote(name).as_deref() == Some(k.as_str()))
            .map(|(_, v)| v),
        (JsonValue::Array(items), Value::Integer(i)) => {
            let n = items.len() as i64;
            let i = if *i < 0 { n + i } else { *i };
            usize::try_from(i).ok().and_then(|i| items.get(i))
        }
        _ => None,
    };
    let Some(node) = found else {
        return Ok(None);
    };
    match node.value {
        // Read, a string's escapes are checked: what is left is `\u0000`.
        JsonValue::String if as_text => {
            return crate::jsonb::unquote(node.raw)
                .map(Some)
                .ok_or_else(|| "[22P05] unsupported Unicode escape sequence".to_string())
        }
        JsonValue::Null if as_text => return Ok(None),
        JsonValue::Array(_) | JsonValue::Object(_) => {}
        _ => return Ok(Some(node.raw.to_string())),
    }
    match jsonb {
        Some(true) => Ok(crate::jsonb::canonical_of(node)),
        Some(false) => Ok(Some(node.raw.to_string())),
        None => Err(
            "[0A000] ->> of an object or array from a value not cast to json or jsonb is not supported"
                .to_string(),
        ),
    }
}

/// A `SIMILAR TO` pattern as a regular expression matching the whole text, as
/// PostgreSQL's `similar_to_escape` translates it (`%` any text, `_` any character,
/// `.`, `^` and `$` literal, `escape` quoting the next character).
pub(crate) fn similar_regex(pattern: &str, escape: Option<char>) -> String {
    let mut out = String::from("^(?:");
    let (mut escaped, mut in_brackets) = (false, false);
    for c in pattern.chars() {
        if escaped {
            out.push_str(&regex::escape(&c.to_string()));
            escaped = false;
        } else if Some(c) == escape {
            escaped = true;
        } else if in_brackets {
            if c == ']' {
                in_brackets = false;
            }
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        } else {
            match c {
                '[' => {
                    in_brackets = true;
                    out.push('[');
                }
                '%' => out.push_str(".*"),
                '_' => out.push('.'),
                '(' => out.push_str("(?:"),
                '.' | '^' | '$' | '\\' => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
    }
    out.push_str(")$");
    out
}

/// Writes `json` as `json_build_object`/`json_build_array` write it: `" : "` and `", "`
/// between items, keys and scalars as written.
fn write_json(json: &Json<'_>, out: &mut String) {
    match &json.value {
        JsonValue::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(item, out);
            }
            out.push(']');
        }
        JsonValue::Object(members) => {
            out.push('{');
            for (i, (k, value)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push_str(" : ");
                write_json(value, out);
            }
            out.push('}');
        }
        _ => out.push_str(json.raw),
    }
}

/// Registers this module's functions on a connection.
pub(crate) fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    for (name, f) in [("left", left as fn(&str, i64) -> String), ("right", right)] {
        conn.create_scalar_function(name, 2, flags, move |ctx| {
            let (Some(s), Some(n)) = (text_arg(ctx, 0)?, ctx.get::<Option<i64>>(1)?) else {
                return Ok(None);
            };
            Ok(Some(f(&s, n)))
        })?;
    }
    conn.create_scalar_function("initcap", 1, flags, |ctx| {
        Ok(text_arg(ctx, 0)?.map(|s| initcap(&s)))
    })?;
    // SQLite's own `upper`/`lower` change ASCII letters only.
    for (name, f) in [("upper", upper as fn(&str) -> String), ("lower", lower)] {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            Ok(text_arg(ctx, 0)?.map(|s| f(&s)))
        })?;
    }
    conn.create_scalar_function("md5", 1, flags, |ctx| {
        use md5::{Digest, Md5};
        Ok(text_arg(ctx, 0)?.map(|s| {
            Md5::digest(s.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        }))
    })?;
    conn.create_scalar_function("concat", -1, flags, |ctx| {
        let mut out = String::new();
        for i in 0..ctx.len() {
            out.push_str(&text_arg(ctx, i)?.unwrap_or_default());
        }
        Ok(out)
    })?;
    conn.create_scalar_function("concat_ws", -1, flags, |ctx| {
        if ctx.is_empty() {
            return Err(user_error(
                "[42883] function concat_ws() does not exist".to_string(),
            ));
        }
        let Some(sep) = text_arg(ctx, 0)? else {
            return Ok(None);
        };
        let mut items = Vec::new();
        for i in 1..ctx.len() {
            items.extend(text_arg(ctx, i)?);
        }
        Ok(Some(items.join(&sep)))
    })?;
    conn.create_scalar_function("split_part", 3, flags, |ctx| {
        let (Some(s), Some(d), Some(n)) = (
            text_arg(ctx, 0)?,
            text_arg(ctx, 1)?,
            ctx.get::<Option<i64>>(2)?,
        ) else {
            return Ok(None);
        };
        split_part(&s, &d, n).map(Some).map_err(user_error)
    })?;
    for (name, is_left) in [("lpad", true), ("rpad", false)] {
        for args in [2, 3] {
            conn.create_scalar_function(name, args, flags, move |ctx| {
                let (Some(s), Some(len)) = (text_arg(ctx, 0)?, ctx.get::<Option<i64>>(1)?) else {
                    return Ok(None);
                };
                let fill = if args == 3 {
                    match text_arg(ctx, 2)? {
                        Some(f) => f,
                        None => return Ok(None),
                    }
                } else {
                    " ".to_string()
                };
                if len > 10_000_000 {
                    return Err(user_error("[54000] requested length too large".into()));
                }
                Ok(Some(pad(&s, len, &fill, is_left)))
            })?;
        }
    }
    conn.create_scalar_function("repeat", 2, flags, |ctx| {
        let (Some(s), Some(n)) = (text_arg(ctx, 0)?, ctx.get::<Option<i64>>(1)?) else {
            return Ok(None);
        };
        let n = usize::try_from(n).unwrap_or(0);
        if s.len().saturating_mul(n) > 100_000_000 {
            return Err(user_error("[54000] requested length too large".into()));
        }
        Ok(Some(s.repeat(n)))
    })?;
    conn.create_scalar_function("reverse", 1, flags, |ctx| {
        Ok(text_arg(ctx, 0)?.map(|s| s.chars().rev().collect::<String>()))
    })?;
    conn.create_scalar_function("strpos", 2, flags, |ctx| {
        let (Some(s), Some(sub)) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(Some(strpos(&s, &sub)))
    })?;
    for args in [1, 2] {
        conn.create_scalar_function("btrim", args, flags, move |ctx| {
            let Some(s) = text_arg(ctx, 0)? else {
                return Ok(None);
            };
            let chars: Vec<char> = if args == 2 {
                match text_arg(ctx, 1)? {
                    Some(c) => c.chars().collect(),
                    None => return Ok(None),
                }
            } else {
                vec![' ']
            };
            Ok(Some(s.trim_matches(chars.as_slice()).to_string()))
        })?;
    }
    conn.create_scalar_function("starts_with", 2, flags, |ctx| {
        let (Some(s), Some(p)) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(Some(s.starts_with(&p)))
    })?;
    for args in [3, 4] {
        conn.create_scalar_function("regexp_replace", args, flags, move |ctx| {
            let mut a = Vec::with_capacity(4);
            for i in 0..usize::try_from(args).unwrap_or(0) {
                match text_arg(ctx, i)? {
                    Some(t) => a.push(t),
                    None => return Ok(None),
                }
            }
            let flags = a.get(3).map_or("", String::as_str);
            match a.as_slice() {
                [s, p, r, ..] => regexp_replace(s, p, r, flags).map(Some).map_err(user_error),
                _ => Ok(None),
            }
        })?;
    }
    conn.create_scalar_function("to_hex", 1, flags, |ctx| {
        let Some(n) = ctx.get::<Option<i64>>(0)? else {
            return Ok(None);
        };
        if n < 0 {
            return Err(user_error(
                "[0A000] to_hex() of a negative number is not supported".into(),
            ));
        }
        Ok(Some(format!("{n:x}")))
    })?;
    conn.create_scalar_function("chr", 1, flags, |ctx| {
        let Some(n) = ctx.get::<Option<i64>>(0)? else {
            return Ok(None);
        };
        if n == 0 {
            return Err(user_error("[54000] null character not permitted".into()));
        }
        let c = u32::try_from(n)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| {
                user_error(format!(
                    "[54000] requested character too large for encoding: {n}"
                ))
            })?;
        Ok(Some(c.to_string()))
    })?;
    conn.create_scalar_function("ascii", 1, flags, |ctx| {
        Ok(text_arg(ctx, 0)?.map(|s| s.chars().next().map_or(0, |c| i64::from(u32::from(c)))))
    })?;
    // `trunc(x)` and `trunc(x, digits)`: toward zero, an integer staying an integer.
    for args in [1, 2] {
        conn.create_scalar_function("trunc", args, flags, move |ctx| {
            let digits = if args == 2 {
                match ctx.get::<Option<i64>>(1)? {
                    Some(d) => d,
                    None => return Ok(Value::Null),
                }
            } else {
                0
            };
            let value = ctx.get::<Value>(0)?;
            // `trunc(numeric, digits)` (there is no float8 form): numeric's text, with
            // exactly `digits` decimals.
            if args == 2 && digits > 0 {
                let text = match &value {
                    Value::Null => return Ok(Value::Null),
                    Value::Integer(i) => i.to_string(),
                    Value::Real(r) => crate::types::format_float(*r),
                    Value::Text(t) => t.trim().to_string(),
                    Value::Blob(_) => String::new(),
                };
                if let Some(t) = truncate_decimal(&text, digits) {
                    return Ok(Value::Text(t));
                }
            }
            Ok(match value {
                Value::Integer(i) if digits >= 0 => Value::Integer(i),
                Value::Integer(i) => {
                    let p = 10i64.checked_pow(u32::try_from(-digits).unwrap_or(u32::MAX));
                    Value::Integer(p.map_or(0, |p| i / p * p))
                }
                Value::Real(r) => Value::Real(trunc(r, digits)),
                Value::Text(t) => match t.trim().parse::<f64>() {
                    Ok(r) => Value::Real(trunc(r, digits)),
                    Err(_) => {
                        return Err(user_error(format!(
                            "[22P02] invalid input syntax for type numeric: \"{t}\""
                        )))
                    }
                },
                Value::Null => Value::Null,
                Value::Blob(_) => {
                    return Err(user_error(
                        "[0A000] trunc() of a bytea value is not supported".into(),
                    ))
                }
            })
        })?;
    }
    conn.create_scalar_function("pg_json_get", 4, flags, |ctx| {
        let Some(json) = text_arg(ctx, 0)? else {
            return Ok(None);
        };
        let key = ctx.get::<Value>(1)?;
        if key == Value::Null {
            return Ok(None);
        }
        let as_text = ctx.get::<i64>(2)? != 0;
        let jsonb = ctx.get::<Option<String>>(3)?.map(|k| k == "jsonb");
        json_get(&json, &key, as_text, jsonb).map_err(user_error)
    })?;
    conn.create_scalar_function("pg_similar_regex", 2, flags, |ctx| {
        let (Some(pattern), Some(escape)) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
            return Ok(None);
        };
        let mut chars = escape.chars();
        let escape = chars.next();
        if chars.next().is_some() {
            return Err(user_error(
                "[22025] invalid escape string\nHINT: Escape string must be empty or one character."
                    .to_string(),
            ));
        }
        Ok(Some(similar_regex(&pattern, escape)))
    })?;
    // `a ^ b` and `power(a, b)` (float8, with PostgreSQL's errors).
    for name in ["power", "pow"] {
        conn.create_scalar_function(name, 2, flags, |ctx| {
            let (Some(a), Some(b)) = (ctx.get::<Option<f64>>(0)?, ctx.get::<Option<f64>>(1)?)
            else {
                return Ok(None);
            };
            if a == 0.0 && b < 0.0 {
                return Err(user_error(
                    "[2201F] zero raised to a negative power is undefined".into(),
                ));
            }
            if a < 0.0 && b.fract() != 0.0 {
                return Err(user_error(
                    "[2201F] a negative number raised to a non-integer power yields a complex result"
                        .into(),
                ));
            }
            let r = a.powf(b);
            if r.is_infinite() && a.is_finite() && b.is_finite() {
                return Err(user_error("[22003] value out of range: overflow".into()));
            }
            Ok(Some(r))
        })?;
    }
    // `ceil`/`ceiling`/`floor`: an integer stays an integer.
    for (name, up) in [("ceil", true), ("ceiling", true), ("floor", false)] {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            Ok(match ctx.get::<Value>(0)? {
                Value::Integer(i) => Value::Integer(i),
                Value::Null => Value::Null,
                v => {
                    let r = number(&v)?;
                    Value::Real(if up { r.ceil() } else { r.floor() })
                }
            })
        })?;
    }
    conn.create_scalar_function("sqrt", 1, flags, |ctx| {
        let Some(r) = ctx.get::<Option<f64>>(0)? else {
            return Ok(None);
        };
        if r < 0.0 {
            return Err(user_error(
                "[2201F] cannot take square root of a negative number".into(),
            ));
        }
        Ok(Some(r.sqrt()))
    })?;
    // `mod(a, b)`: the remainder with the dividend's sign; 22012 for a zero divisor.
    conn.create_scalar_function("mod", 2, flags, |ctx| {
        let (a, b) = (ctx.get::<Value>(0)?, ctx.get::<Value>(1)?);
        if a == Value::Null || b == Value::Null {
            return Ok(Value::Null);
        }
        let zero = || user_error("[22012] division by zero".into());
        Ok(match (&a, &b) {
            (Value::Integer(x), Value::Integer(y)) => {
                if *y == 0 {
                    return Err(zero());
                }
                Value::Integer(x.checked_rem(*y).unwrap_or(0))
            }
            _ => {
                let (x, y) = (number(&a)?, number(&b)?);
                if y == 0.0 {
                    return Err(zero());
                }
                Value::Real(x % y)
            }
        })
    })?;
    // `greatest`/`least` ignore NULLs (NULL only when all are), unlike SQLite's
    // many-argument `max`/`min`.
    for (name, greatest) in [("greatest", true), ("least", false)] {
        conn.create_scalar_function(name, -1, flags, move |ctx| {
            let mut best: Option<Value> = None;
            for i in 0..ctx.len() {
                let v = ctx.get::<Value>(i)?;
                if v == Value::Null {
                    continue;
                }
                let better = match &best {
                    None => true,
                    Some(b) => {
                        let o = compare(&v, b);
                        if greatest {
                            o == std::cmp::Ordering::Greater
                        } else {
                            o == std::cmp::Ordering::Less
                        }
                    }
                };
                if better {
                    best = Some(v);
                }
            }
            Ok(best.unwrap_or(Value::Null))
        })?;
    }
    // An error raised when the statement runs (`[SQLSTATE] message`, see `builtins`).
    conn.create_scalar_function("pg_error", 1, flags, |ctx| {
        let message: String = ctx.get(0)?;
        Err::<i64, _>(user_error(message))
    })?;
    conn.create_scalar_function("pg_jsonb_out", 1, flags, |ctx| json_out(ctx, true))?;
    conn.create_scalar_function("pg_json_build_out", 1, flags, |ctx| json_out(ctx, false))?;
    Ok(())
}

/// A number argument (a numeric's text too); 22P02 for other text.
fn number(v: &Value) -> rusqlite::Result<f64> {
    match v {
        Value::Integer(i) => Ok(*i as f64),
        Value::Real(r) => Ok(*r),
        Value::Text(t) => t.trim().parse::<f64>().map_err(|_| {
            user_error(format!(
                "[22P02] invalid input syntax for type numeric: \"{t}\""
            ))
        }),
        _ => Err(user_error(
            "[0A000] this function of a bytea or NULL value is not supported".into(),
        )),
    }
}

/// SQLite's order of two non-NULL values: numbers by value, before text (by bytes),
/// before blobs.
fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let num = |v: &Value| match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Real(r) => Some(*r),
        _ => None,
    };
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => x.cmp(y),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => match (a, b) {
                (Value::Text(x), Value::Text(y)) => x.as_bytes().cmp(y.as_bytes()),
                (Value::Text(_), _) => Ordering::Less,
                (_, Value::Text(_)) => Ordering::Greater,
                _ => Ordering::Equal,
            },
        },
    }
}

fn json_out(ctx: &Context<'_>, jsonb: bool) -> rusqlite::Result<Option<String>> {
    let Some(t) = text_arg(ctx, 0)? else {
        return Ok(None);
    };
    let text = if jsonb {
        crate::jsonb::canonical(&t)
    } else {
        pg_json_text(&t)
    };
    text.map(Some)
        .ok_or_else(|| user_error(format!("[22P02] invalid input syntax for type json: {t}")))
}

/// A plain decimal's text truncated to exactly `digits` (> 0) decimals (`7` is `7.0`
/// for one); `None` when it is not a plain decimal.
fn truncate_decimal(text: &str, digits: i64) -> Option<String> {
    let digits = usize::try_from(digits).ok()?.min(1000);
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let plain = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = int.strip_prefix('-').unwrap_or(int);
    if unsigned.is_empty() || !plain(unsigned) || !plain(frac) {
        return None;
    }
    let kept: String = frac.chars().take(digits).collect();
    let text = format!("{int}.{kept:0<digits$}");
    // `-0.0` stays negative zero's text in PostgreSQL only for floats: numeric is `0.0`.
    Some(match text.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_string(),
        _ => text,
    })
}

fn trunc(r: f64, digits: i64) -> f64 {
    let digits = i32::try_from(digits.clamp(-300, 300)).unwrap_or(0);
    let p = 10f64.powi(digits);
    (r * p).trunc() / p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_changes_every_letter_one_for_one() {
        assert_eq!(upper("Ünïcode ß"), "ÜNÏCODE ß");
        assert_eq!(lower("ÜNÏCODE Abc"), "ünïcode abc");
    }

    fn q(sql: &str) -> Option<String> {
        let conn = Connection::open_in_memory().unwrap();
        register_functions(&conn).unwrap();
        conn.query_row(sql, [], |r| r.get::<_, Option<String>>(0))
            .unwrap()
    }

    #[test]
    fn string_functions_answer_as_postgresql() {
        // Expected answers are PostgreSQL 15's (see also tests/functions_oracle.rs).
        assert_eq!(left("abc", 2), "ab");
        assert_eq!(left("abc", -1), "ab");
        assert_eq!(left("abc", -5), "");
        assert_eq!(right("abc", 2), "bc");
        assert_eq!(right("abc", -1), "bc");
        assert_eq!(right("héé", 1), "é");
        assert_eq!(
            initcap("hello wORLD foo-bar x1y"),
            "Hello World Foo-Bar X1y"
        );
        // Unicode letters, one character for one as glibc's C.UTF-8 maps them.
        assert_eq!(upper("héllo straße ﬁ ᾳ"), "HÉLLO STRAßE ﬁ ᾼ");
        assert_eq!(lower("ÀÉÎ İ ΑΣ ᾈ"), "àéî i ασ ᾀ");
        assert_eq!(initcap("élan ÉCOLE ǆx ßa"), "Élan École Ǆx ßa");
        // Superscript digits and combining letters do not join words in glibc's locale.
        assert_eq!(initcap("x²y a\u{363}b ٣x"), "X²Y A\u{363}B ٣x");
        // A case pair newer than glibc 2.36's Unicode stays as it is.
        assert_eq!(upper("\u{264}"), "\u{264}");
        assert_eq!(pad("7", 3, "0", true), "007");
        assert_eq!(pad("a", 3, "-", false), "a--");
        assert_eq!(pad("abcd", 2, "x", true), "ab");
        assert_eq!(pad("a", 5, "xy", true), "xyxya");
        assert_eq!(split_part("a,b,c", ",", 2).unwrap(), "b");
        assert_eq!(split_part("a,b,c", ",", -1).unwrap(), "c");
        assert_eq!(split_part("a,b,c", ",", 4).unwrap(), "");
        assert!(split_part("a", ",", 0).unwrap_err().starts_with("[22023]"));
        assert_eq!(strpos("abc", "c"), 3);
        assert_eq!(strpos("héllo", "l"), 3);
        assert_eq!(strpos("abc", "x"), 0);
        assert_eq!(
            regexp_replace("foobarbaz", "b(..)", "X\\1Y", "").unwrap(),
            "fooXarYbaz"
        );
        assert_eq!(
            regexp_replace("foobarbaz", "b(..)", "X\\1Y", "g").unwrap(),
            "fooXarYXazY"
        );
        assert_eq!(regexp_replace("ABC", "b", "$", "i").unwrap(), "A$C");
        assert!(regexp_replace("a", "a", "b", "x").is_err());
    }

    #[test]
    fn functions_run_in_sqlite() {
        assert_eq!(
            q("SELECT md5('abc')").as_deref(),
            Some("900150983cd24fb0d6963f7d28e17f72")
        );
        assert_eq!(
            q("SELECT concat('a', NULL, 'b', 1)").as_deref(),
            Some("ab1")
        );
        assert_eq!(
            q("SELECT concat_ws('-', 'a', NULL, 'b')").as_deref(),
            Some("a-b")
        );
        assert_eq!(q("SELECT concat_ws(NULL, 'a')"), None);
        assert_eq!(q("SELECT btrim('  x  ')").as_deref(), Some("x"));
        assert_eq!(q("SELECT btrim('xxaxx', 'x')").as_deref(), Some("a"));
        assert_eq!(q("SELECT repeat('ab', 2)").as_deref(), Some("abab"));
        assert_eq!(q("SELECT repeat('ab', -1)").as_deref(), Some(""));
        assert_eq!(q("SELECT reverse('abc')").as_deref(), Some("cba"));
        assert_eq!(
            q("SELECT starts_with('abc', 'ab') || ''").as_deref(),
            Some("1")
        );
        assert_eq!(q("SELECT to_hex(255)").as_deref(), Some("ff"));
        assert_eq!(q("SELECT chr(65) || ascii('a')").as_deref(), Some("A97"));
        assert_eq!(q("SELECT trunc(2.7) || ''").as_deref(), Some("2.0"));
        assert_eq!(q("SELECT trunc(-2.77, 1)").as_deref(), Some("-2.7"));
        assert_eq!(q("SELECT trunc(7, 2)").as_deref(), Some("7.00"));
        assert_eq!(q("SELECT trunc('-0.05', 1)").as_deref(), Some("0.0"));
        assert_eq!(q("SELECT trunc(1234, -2) || ''").as_deref(), Some("1200"));
        assert_eq!(q("SELECT lpad('7', 3, '0')").as_deref(), Some("007"));
        assert_eq!(
            q("SELECT ceil(1.2) || ',' || floor(-1.2) || ',' || ceil(3) || ',' || mod(7, 3) || ',' || mod(-7, 3) || ',' || sqrt(16)")
                .as_deref(),
            Some("2.0,-2.0,3,1,-1,4.0")
        );
        assert_eq!(
            q("SELECT greatest(1, NULL, 5, 3) || ',' || least(NULL, 'b', 'a')").as_deref(),
            Some("5,a")
        );
        assert_eq!(q("SELECT greatest(NULL, NULL)"), None);
        let conn = Connection::open_in_memory().unwrap();
        register_functions(&conn).unwrap();
        for bad in [
            "SELECT to_hex(-1)",
            "SELECT chr(0)",
            "SELECT split_part('a', ',', 0)",
        ] {
            assert!(
                conn.query_row(bad, [], |r| r.get::<_, Value>(0)).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn similar_to_patterns_become_regular_expressions() {
        assert_eq!(similar_regex("A%", Some('\\')), "^(?:A.*)$");
        assert_eq!(
            similar_regex("a_.b|(c)*", Some('\\')),
            "^(?:a.\\.b|(?:c)*)$"
        );
        assert_eq!(similar_regex("100\\%", Some('\\')), "^(?:100%)$");
        assert_eq!(similar_regex("[%_]x", Some('\\')), "^(?:[%_]x)$");
    }

    #[test]
    fn json_is_written_as_postgresql_writes_it() {
        assert_eq!(
            pg_json_text(r#"{"b":"x","a":1}"#).as_deref(),
            Some(r#"{"b" : "x", "a" : 1}"#)
        );
        assert_eq!(
            pg_json_text(r#"[1,"a\"b"]"#).as_deref(),
            Some(r#"[1, "a\"b"]"#)
        );
        assert_eq!(pg_json_text("[1,"), None);
        let get = |j: &str, k: Value, t: bool, b: Option<bool>| json_get(j, &k, t, b);
        let doc = r#"{"a": 1, "b": [1,2], "s": "x\"y"}"#;
        assert_eq!(
            get(doc, Value::Text("b".into()), false, Some(true))
                .unwrap()
                .as_deref(),
            Some("[1, 2]")
        );
        assert_eq!(
            get(doc, Value::Text("b".into()), false, Some(false))
                .unwrap()
                .as_deref(),
            Some("[1,2]")
        );
        assert_eq!(
            get(doc, Value::Text("s".into()), true, None)
                .unwrap()
                .as_deref(),
            Some("x\"y")
        );
        assert_eq!(
            get(doc, Value::Text("s".into()), false, Some(true))
                .unwrap()
                .as_deref(),
            Some("\"x\\\"y\"")
        );
        assert_eq!(
            get(doc, Value::Text("z".into()), false, Some(true)).unwrap(),
            None
        );
        assert_eq!(
            get("[1,2,3]", Value::Integer(-1), true, None)
                .unwrap()
                .as_deref(),
            Some("3")
        );
        assert!(get(doc, Value::Text("b".into()), true, None).is_err());
        assert!(get("{", Value::Text("b".into()), true, None).is_err());
        assert_eq!(pg_json_text("{}").as_deref(), Some("{}"));
        // The one parser is strict as PostgreSQL's json input: bare words, a control
        // character or a bad escape are not JSON; json keeps a number as written.
        for bad in [
            "[abc]",
            "[1,]",
            "[\"a\u{1}\"]",
            "[\"\\u+123\"]",
            "[\"\\x\"]",
        ] {
            assert_eq!(pg_json_text(bad), None, "{bad}");
            assert!(get(bad, Value::Integer(0), true, None).is_err(), "{bad}");
        }
        assert_eq!(pg_json_text("[1e1001]").as_deref(), Some("[1e1001]"));
        assert_eq!(
            get(r#"{"a": "x\u0000"}"#, Value::Text("a".into()), false, None)
                .unwrap()
                .as_deref(),
            Some(r#""x\u0000""#)
        );
        assert_eq!(
            get(r#"{"a": "x\u0000"}"#, Value::Text("a".into()), true, None),
            Err("[22P05] unsupported Unicode escape sequence".to_string())
        );
        assert_eq!(
            get(
                r#"{"\u00e9": "\u00e9"}"#,
                Value::Text("é".into()),
                true,
                None
            )
            .unwrap()
            .as_deref(),
            Some("é")
        );
    }
}
