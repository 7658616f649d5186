//! Typed operations: prepared statements, parameters from Rust values ([`ToSql`]), and
//! the message sequences the adapters send for `query`, `prepare` and executing a
//! prepared statement.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use bytes::BytesMut;

use super::{Client, RequestId, Response};
use crate::column::Column;
use crate::error::Error;
use crate::message::{Bind, Format, List, Oid};
use crate::types::{oid, IsNull, ToSql};

/// A prepared statement: its name on the server, parameter types and result columns.
/// Cloning is cheap (shared data), so executing it from many tasks costs no copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Name on the server.
    pub name: Arc<str>,
    /// Parameter types, as the server resolved them.
    pub param_types: Arc<[Oid]>,
    /// Result columns (empty when the statement returns no rows), with the formats this
    /// library requests when executing it.
    pub columns: Arc<[Column]>,
    /// The result formats to request, one per column.
    result_formats: Arc<[Format]>,
}

impl Statement {
    /// A statement from its Describe answer; results are requested in binary for every
    /// column whose type this library decodes in binary, text for the others.
    pub fn new(name: String, param_types: Vec<Oid>, columns: &[Column]) -> Self {
        let columns: Arc<[Column]> = columns
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.format = result_format(c.type_oid);
                c
            })
            .collect();
        let result_formats = columns.iter().map(|c| c.format).collect();
        Self {
            name: name.into(),
            param_types: param_types.into(),
            columns,
            result_formats,
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

/// Parameter values encoded for a Bind, owned so they can travel to a connection task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedParams {
    types: Vec<Oid>,
    formats: Vec<Format>,
    data: BytesMut,
    /// Where each value sits in `data`; `None` is NULL.
    slots: Vec<Option<(usize, usize)>>,
}

impl EncodedParams {
    /// Encodes `params`, each for its type in `types` (missing or `0`: the value's own
    /// type), in the value's preferred format for that type.
    pub fn encode(params: &[&dyn ToSql], types: &[Oid]) -> Result<Self, Error> {
        let mut out = Self {
            types: Vec::with_capacity(params.len()),
            formats: Vec::with_capacity(params.len()),
            data: BytesMut::new(),
            slots: Vec::with_capacity(params.len()),
        };
        for (i, p) in params.iter().enumerate() {
            let t = match types.get(i) {
                Some(&t) if t != oid::UNSPECIFIED => t,
                _ => p.type_oid(),
            };
            let format = p.preferred_format(t);
            let start = out.data.len();
            let slot = match p.to_sql(t, format, &mut out.data) {
                Ok(IsNull::No) => Some((start, out.data.len())),
                Ok(IsNull::Yes) => {
                    out.data.truncate(start);
                    None
                }
                Err(e) => return Err(e.into()),
            };
            out.types.push(t);
            out.formats.push(format);
            out.slots.push(slot);
        }
        Ok(out)
    }

    /// [`EncodedParams::encode`] for parameter lists that must be `Sync` (async
    /// adapters, whose futures cross threads).
    pub fn encode_sync(params: &[&(dyn ToSql + Sync)], types: &[Oid]) -> Result<Self, Error> {
        let params: Vec<&dyn ToSql> = params.iter().map(|p| *p as &dyn ToSql).collect();
        Self::encode(&params, types)
    }

    /// The parameter types (for Parse).
    pub fn types(&self) -> &[Oid] {
        &self.types
    }

    /// The parameter formats (for Bind).
    pub fn formats(&self) -> &[Format] {
        &self.formats
    }

    /// The values (for Bind; `None` is NULL).
    pub fn values(&self) -> Vec<Option<&[u8]>> {
        self.slots
            .iter()
            .map(|s| s.and_then(|(a, b)| self.data.get(a..b)))
            .collect()
    }

    /// The number of parameters.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

impl Client {
    fn bind_encoded(
        &mut self,
        portal: &str,
        statement: &str,
        params: &EncodedParams,
        result_formats: &[Format],
    ) -> Result<RequestId, Error> {
        let values = params.values();
        self.bind(&Bind {
            portal,
            statement,
            param_formats: List::new(params.formats()),
            params: List::new(&values),
            result_formats: List::new(result_formats),
        })
    }

    /// Runs `sql` once with typed parameters, in one round trip: Parse (unnamed, with the
    /// parameters' types), Bind (results in binary), Describe (portal), Execute and Sync.
    /// Returns the request range to collect.
    pub fn query_typed(
        &mut self,
        sql: &str,
        params: &[&dyn ToSql],
    ) -> Result<(RequestId, RequestId), Error> {
        let params = EncodedParams::encode(params, &[])?;
        self.query_encoded(sql, &params)
    }

    /// [`Client::query_typed`] with parameters encoded beforehand.
    pub fn query_encoded(
        &mut self,
        sql: &str,
        params: &EncodedParams,
    ) -> Result<(RequestId, RequestId), Error> {
        let first = self.parse("", sql, params.types())?;
        self.bind_encoded("", "", params, &[Format::Binary])?;
        self.describe_portal("")?;
        self.execute("", 0)?;
        let last = self.sync()?;
        Ok((first, last))
    }

    /// Runs `sql` once with already-encoded parameters, all in `param_format`, results in
    /// `result_format`: Parse (unnamed, `param_types` may be empty), Bind, Describe
    /// (portal), Execute, Sync. Returns the request range to collect.
    pub fn query_raw(
        &mut self,
        sql: &str,
        param_types: &[Oid],
        params: &[Option<&[u8]>],
        param_format: Format,
        result_format: Format,
    ) -> Result<(RequestId, RequestId), Error> {
        let first = self.parse("", sql, param_types)?;
        self.bind(&Bind {
            portal: "",
            statement: "",
            param_formats: List::new(&[param_format]),
            params: List::new(params),
            result_formats: List::new(&[result_format]),
        })?;
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
        let params = EncodedParams::encode(params, &statement.param_types)?;
        self.execute_encoded(statement, portal, &params, max_rows, sync)
    }

    /// [`Client::execute_typed`] with parameters encoded beforehand (for the statement's
    /// parameter types).
    pub fn execute_encoded(
        &mut self,
        statement: &Statement,
        portal: &str,
        params: &EncodedParams,
        max_rows: i32,
        sync: bool,
    ) -> Result<(RequestId, RequestId), Error> {
        if params.len() != statement.param_types.len() {
            return Err(crate::error::UsageError::ParameterCount {
                expected: statement.param_types.len(),
                given: params.len(),
            }
            .into());
        }
        let first =
            self.bind_encoded(portal, &statement.name, params, &statement.result_formats)?;
        let mut last = self.execute(portal, max_rows)?;
        if sync {
            last = self.sync()?;
        } else {
            self.flush()?;
        }
        Ok((first, last))
    }
}

/// Reading a prepared statement's rows a batch at a time through portal suspension:
/// Bind the unnamed portal and Execute it for `batch` rows, Execute it again while the
/// server answers PortalSuspended, then Sync (which ends the portal and its implicit
/// transaction, also after an error). A driver issues the requests these functions
/// make and feeds each batch's responses to [`PortalBatches::push`].
///
/// ```
/// use pgproto_core::client::{PortalBatches, Response};
///
/// let mut batches = PortalBatches::new(100);
/// batches.push(&Response::PortalSuspended);
/// assert!(batches.has_more()); // issue PortalBatches::next_batch
/// assert!(!batches.has_more()); // the last batch ended with CommandComplete: Sync
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortalBatches {
    batch: i32,
    suspended: bool,
}

impl PortalBatches {
    /// Batches of `batch` rows (at least 1).
    pub fn new(batch: i32) -> Self {
        Self {
            batch: batch.max(1),
            suspended: false,
        }
    }

    /// The rows per batch.
    pub fn batch(&self) -> i32 {
        self.batch
    }

    /// The first batch's requests: Bind `statement` with `params` to the unnamed portal,
    /// Execute it for `batch` rows, Flush (no Sync: the portal must outlive the batch).
    pub fn first_batch(
        client: &mut Client,
        statement: &Statement,
        params: &EncodedParams,
        batch: i32,
    ) -> Result<(RequestId, RequestId), Error> {
        client.execute_encoded(statement, "", params, batch.max(1), false)
    }

    /// The next batch's request: Execute the suspended portal again, Flush.
    pub fn next_batch(client: &mut Client, batch: i32) -> Result<(RequestId, RequestId), Error> {
        let id = client.execute("", batch.max(1))?;
        client.flush()?;
        Ok((id, id))
    }

    /// The end: Sync.
    pub fn end(client: &mut Client) -> Result<(RequestId, RequestId), Error> {
        let id = client.sync()?;
        Ok((id, id))
    }

    /// Feeds one response of the current batch.
    pub fn push(&mut self, response: &Response) {
        if matches!(response, Response::PortalSuspended) {
            self.suspended = true;
        }
    }

    /// After a batch's last response: whether the portal has more rows (then issue
    /// [`PortalBatches::next_batch`], else [`PortalBatches::end`]).
    pub fn has_more(&mut self) -> bool {
        core::mem::take(&mut self.suspended)
    }
}
