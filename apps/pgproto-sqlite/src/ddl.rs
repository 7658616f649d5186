//! What the statements for the server's own objects (sequences, types, domains) share:
//! reading a name as PostgreSQL does, the list of a `DROP`, and errors as PostgreSQL's
//! (SQLSTATE, message).

use crate::sql::{Kind, Tok};

/// A statement's outcome: its command tag, or PostgreSQL's error (SQLSTATE, message).
pub(crate) type Outcome = Result<String, (String, String)>;

pub(crate) fn err(code: &str, message: impl Into<String>) -> (String, String) {
    (code.to_string(), message.into())
}

/// SQLite's error as XX000, or, raised by one of the server's SQL functions, with the
/// SQLSTATE it names (`[22001] message`).
pub(crate) fn sqlite(e: rusqlite::Error) -> (String, String) {
    let text = e.to_string();
    match text
        .strip_prefix('[')
        .and_then(|m| m.split_once("] "))
        .filter(|(c, _)| c.len() == 5 && c.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        Some((code, message)) => err(code, message),
        None => err("XX000", text),
    }
}

/// The rows `sql` answers with `params`, each read as the tuple `T` of its columns
/// (`(String, i64)`...).
pub(crate) fn query_rows<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<T>>
where
    T: for<'a> TryFrom<&'a rusqlite::Row<'a>, Error = rusqlite::Error>,
{
    let mut st = conn.prepare(sql)?;
    let rows = st.query_map(params, |r| T::try_from(r))?;
    rows.collect()
}

/// The first column of the rows `sql` answers with `params`.
pub(crate) fn query_column<T: rusqlite::types::FromSql>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<T>> {
    let mut st = conn.prepare(sql)?;
    let rows = st.query_map(params, |r| r.get(0))?;
    rows.collect()
}

/// PostgreSQL's syntax error at token `i` (or at the end of the input).
pub(crate) fn syntax(sql: &str, toks: &[Tok], i: usize) -> (String, String) {
    match toks.get(i) {
        Some(t) => err(
            "42601",
            format!("syntax error at or near \"{}\"", t.text(sql)),
        ),
        None => err("42601", "syntax error at end of input"),
    }
}

/// A possibly qualified, possibly quoted name at `i` as PostgreSQL reads it (the schema
/// dropped, unquoted folded to lower case), and the index after it.
pub(crate) fn name_at(sql: &str, toks: &[Tok], mut i: usize) -> Option<(String, usize)> {
    loop {
        let t = toks.get(i)?;
        let name = match t.kind {
            Kind::Word => t.text(sql).to_ascii_lowercase(),
            Kind::Quoted => t.ident(sql)?,
            _ => return None,
        };
        i += 1;
        if toks.get(i).is_some_and(|t| t.is_punct(sql, ".")) {
            i += 1;
            continue;
        }
        return Some((name, i));
    }
}

/// What `DROP kind [IF EXISTS] name [, ...] [CASCADE | RESTRICT]` names.
pub(crate) struct DropList {
    pub(crate) if_exists: bool,
    pub(crate) names: Vec<String>,
    pub(crate) cascade: bool,
}

/// Reads a `DROP` statement's list from token 2 (after `DROP kind`).
pub(crate) fn drop_list(sql: &str, toks: &[Tok]) -> Result<DropList, (String, String)> {
    let w = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is(sql, kw));
    let mut i = 2;
    let if_exists = w(i, "IF") && w(i + 1, "EXISTS");
    if if_exists {
        i += 2;
    }
    let mut names = Vec::new();
    loop {
        let (name, j) = name_at(sql, toks, i).ok_or_else(|| syntax(sql, toks, i))?;
        names.push(name);
        i = j;
        if toks.get(i).is_some_and(|t| t.is_punct(sql, ",")) {
            i += 1;
        } else {
            break;
        }
    }
    let cascade = w(i, "CASCADE");
    if !(cascade || w(i, "RESTRICT") || toks.get(i).map_or(true, |t| t.is_punct(sql, ";"))) {
        return Err(syntax(sql, toks, i));
    }
    Ok(DropList {
        if_exists,
        names,
        cascade,
    })
}
