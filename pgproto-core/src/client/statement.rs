//! Typed operations: prepared statements, parameters from Rust values ([`ToSql`]), and
//! the message sequences the adapters send for `query`, `prepare` and executing a
//! prepared statement.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use bytes::BytesMut;

use super::{Client, RequestId};
use crate::column::Column;
use crate::error::Error;
use crate::message::{Format, Oid};
use crate::types::{encode_with_length, oid, ToSql};
use crate::wire::Writer;

/// A prepared statement: its name on the server, parameter types and result columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Name on the server.
    pub name: String,
    /// Parameter types, as the server resolved them.
    pub param_types: Vec<Oid>,
    /// Result columns (empty when the statement returns no rows), with the formats this
    /// library requests when executing it.
    pub columns: Arc<[Column]>,
}

impl Statement {
    /// A statement from its Describe answer; results are requested in binary for every
    /// column whose type this library decodes in binary, text for the others.
    pub fn new(name: String, param_types: Vec<Oid>, columns: &[Column]) -> Self {
        let columns = columns
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.format = result_format(c.type_oid);
                c
            })
            .collect();
        Self {
            name,
            param_types,
            columns,
        }
    }
}

/// The format results of type `type_oid` are requested in.
pub fn result_format(type_oid: Oid) -> Format {
    if oid::type_name(type_oid).is_some() {
        Format::Binary
    } else {
        Format::Text
    }
}

/// Appends a Bind of `params` (each encoded for its type in `types`, `0` meaning the
/// value's own type) to `out`.
fn encode_bind(
    out: &mut BytesMut,
    portal: &str,
    statement: &str,
    params: &[&dyn ToSql],
    types: &[Oid],
    result_formats: &[Format],
) -> Result<(), Error> {
    let type_of = |i: usize, p: &dyn ToSql| match types.get(i) {
        Some(&t) if t != oid::UNSPECIFIED => t,
        _ => p.type_oid(),
    };
    let mut w = Writer::tagged(out, b'B', "Bind");
    w.cstr(portal, "portal name")?;
    w.cstr(statement, "statement name")?;
    w.count(params.len(), "parameter format count")?;
    for (i, p) in params.iter().enumerate() {
        w.i16(p.preferred_format(type_of(i, *p)).code());
    }
    w.count(params.len(), "parameter count")?;
    for (i, p) in params.iter().enumerate() {
        let t = type_of(i, *p);
        encode_with_length(*p, t, p.preferred_format(t), w.buffer())?;
    }
    w.count(result_formats.len(), "result format count")?;
    for f in result_formats {
        w.i16(f.code());
    }
    w.finish()?;
    Ok(())
}

impl Client {
    /// Runs `sql` once with typed parameters, in one round trip: Parse (unnamed, with the
    /// parameters' own types), Bind (results in binary), Describe (portal), Execute and
    /// Sync. Returns the request range to collect.
    pub fn query_typed(
        &mut self,
        sql: &str,
        params: &[&dyn ToSql],
    ) -> Result<(RequestId, RequestId), Error> {
        let types: Vec<Oid> = params.iter().map(|p| p.type_oid()).collect();
        let first = self.parse("", sql, &types)?;
        self.ready()?;
        encode_bind(&mut self.out, "", "", params, &types, &[Format::Binary])?;
        self.push_request(super::RequestKind::Bind);
        self.describe_portal("")?;
        self.execute("", 0)?;
        let last = self.sync()?;
        Ok((first, last))
    }

    /// Prepares `sql` as statement `name`: Parse, Describe (statement), Sync. Collect
    /// the range, then build a [`Statement`] from the ParameterDescription and the
    /// columns.
    pub fn prepare_typed(
        &mut self,
        name: &str,
        sql: &str,
        param_types: &[Oid],
    ) -> Result<(RequestId, RequestId), Error> {
        let first = self.parse(name, sql, param_types)?;
        self.describe_statement(name)?;
        let last = self.sync()?;
        Ok((first, last))
    }

    /// Executes a prepared statement with typed parameters: Bind (results in the
    /// statement's formats), Execute (at most `max_rows`, 0 for all), and Sync (unless
    /// `sync` is false, to read a large result in batches from the same portal with
    /// [`Client::execute`]).
    pub fn execute_typed(
        &mut self,
        statement: &Statement,
        portal: &str,
        params: &[&dyn ToSql],
        max_rows: i32,
        sync: bool,
    ) -> Result<(RequestId, RequestId), Error> {
        self.ready()?;
        if params.len() != statement.param_types.len() {
            return Err(crate::error::UsageError::Other(
                "the number of parameters does not match the statement",
            )
            .into());
        }
        let formats: Vec<Format> = statement.columns.iter().map(|c| c.format).collect();
        encode_bind(
            &mut self.out,
            portal,
            &statement.name,
            params,
            &statement.param_types,
            &formats,
        )?;
        let first = self.push_request(super::RequestKind::Bind);
        let mut last = self.execute(portal, max_rows)?;
        if sync {
            last = self.sync()?;
        } else {
            self.flush()?;
        }
        Ok((first, last))
    }
}
