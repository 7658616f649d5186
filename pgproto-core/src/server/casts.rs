//! Parameter types from the casts written after `$n` placeholders.

use alloc::vec::Vec;

/// For each placeholder `$1..$n` of `query` (n = the highest used), the type OID of a
/// `$k::type` cast following it, if any: what a server that is not told a parameter's
/// type can answer a Parse with.
///
/// Only the cast right after a placeholder counts, and only the type names listed
/// below (PostgreSQL's, for the common built-in types); the text is not otherwise
/// parsed, so a `$1` inside a string literal counts too.
///
/// ```
/// use pgproto_core::server::placeholder_casts;
/// assert_eq!(placeholder_casts("select $2::int8, $1"), [None, Some(20)]);
/// ```
pub fn placeholder_casts(query: &str) -> Vec<Option<u32>> {
    let bytes = query.as_bytes();
    let mut out: Vec<Option<u32>> = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        if b != b'$' {
            continue;
        }
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let Some(n) = bytes
            .get(start..i)
            .and_then(|d| core::str::from_utf8(d).ok())
            .and_then(|d| d.parse::<usize>().ok())
            .filter(|n| *n > 0 && *n <= 65_535)
        else {
            continue;
        };
        if out.len() < n {
            out.resize(n, None);
        }
        if bytes.get(i..i + 2) == Some(b"::") {
            let t = i + 2;
            let mut e = t;
            while bytes
                .get(e)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                e += 1;
            }
            let name = bytes.get(t..e).and_then(|n| core::str::from_utf8(n).ok());
            let oid = name.and_then(|n| match n.to_ascii_lowercase().as_str() {
                "bool" | "boolean" => Some(16),
                "bytea" => Some(17),
                "int8" | "bigint" => Some(20),
                "int2" | "smallint" => Some(21),
                "int4" | "int" | "integer" => Some(23),
                "text" | "varchar" => Some(25),
                "oid" => Some(26),
                "float4" | "real" => Some(700),
                "float8" => Some(701),
                "numeric" | "decimal" => Some(1700),
                "date" => Some(1082),
                "timestamp" => Some(1114),
                "timestamptz" => Some(1184),
                "uuid" => Some(2950),
                "json" => Some(114),
                "jsonb" => Some(3802),
                _ => None,
            });
            if let Some(slot) = out.get_mut(n - 1) {
                if slot.is_none() {
                    *slot = oid;
                }
            }
        }
    }
    out
}
