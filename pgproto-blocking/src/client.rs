//! The blocking client: a socket, a core [`pgproto_core::client::Client`], and a loop that
//! moves bytes until the request at hand completes.

use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use bytes::Bytes;
use pgproto_core::cancel::CancelToken;
use pgproto_core::client::{
    exactly_one, transaction_statements, AsyncMessages, AuthMethod, Client as Core, Event,
    FunctionCallResult, Notification, Phase, RequestId, Response, ResultCollector, ResultSet, Row,
    Statement, StreamedRows, TransactionOptions, TransactionStatements,
};
use pgproto_core::db_error::DbError;
use pgproto_core::message::{Format, Oid, ProtocolVersion, TransactionStatus};
use pgproto_core::types::ToSql;
use pgproto_driver::connect::{self, Canceller, StartupStep, Target};

use crate::io::Stream;
use crate::Error;

/// Connects to the first address of `host` that answers, within `timeout` each.
fn connect_tcp(host: &str, port: u16, timeout: Option<Duration>) -> Result<TcpStream, Error> {
    let mut last = None;
    for addr in std::net::ToSocketAddrs::to_socket_addrs(&(host, port))? {
        let attempt = match timeout {
            Some(t) => TcpStream::connect_timeout(&addr, t),
            None => TcpStream::connect(addr),
        };
        match attempt {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.map_or(Error::Unsupported("host resolved to no address"), Error::Io))
}

/// A blocking connection to PostgreSQL.
pub struct Client {
    stream: Stream,
    core: Core,
    read_buf: Box<[u8]>,
    /// Notices and notifications until the application takes them (bounded).
    messages: AsyncMessages,
    statements: u64,
    /// Where the connection went (for cancel requests).
    host: String,
    port: u16,
    /// Whether [`Client::drive`] returns after recording a notice or notification.
    stop_on_async: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("core", &self.core)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects with a libpq-style URL (`postgresql://user:pw@host:port/db?sslmode=disable`)
    /// or `key=value` string, completed by the `PG*` environment variables and the
    /// password file as libpq does. Hosts are tried in order.
    pub fn connect(conninfo: &str) -> Result<Self, Error> {
        let mut last_error = None;
        for target in connect::targets(conninfo)? {
            match Self::connect_target(&target) {
                Ok(client) => return Ok(client),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(connect::no_host))
    }

    fn connect_target(target: &Target) -> Result<Self, Error> {
        let stream = match target.unix_path() {
            Some(path) => Stream::Unix(UnixStream::connect(path)?),
            None => Stream::Tcp(connect_tcp(&target.host, target.port, target.timeout)?),
        };
        let mut client = Self {
            stream,
            core: target.core()?,
            read_buf: vec![0; 64 * 1024].into_boxed_slice(),
            messages: AsyncMessages::default(),
            statements: 0,
            host: target.host.clone(),
            port: target.port,
            stop_on_async: false,
        };
        if client.core.phase() == Phase::TlsHandshake {
            // sslnegotiation=direct: TLS before anything else.
            let cb = client.stream.connect_tls(target.tls.as_ref())?;
            client.core.handle_tls_established(cb)?;
        }
        loop {
            match connect::startup_step(&mut client.core)? {
                StartupStep::Ready => return Ok(client),
                StartupStep::StartTls => {
                    let cb = client.stream.connect_tls(target.tls.as_ref())?;
                    client.core.handle_tls_established(cb)?;
                }
                StartupStep::Io => client.read_more()?,
            }
        }
    }

    /// Runs the I/O loop, handing every non-asynchronous event to `on_event` until it
    /// returns `Ok(true)`.
    fn drive(
        &mut self,
        mut on_event: impl FnMut(Event) -> Result<bool, Error>,
    ) -> Result<(), Error> {
        loop {
            self.flush()?;
            match self.core.poll_event()? {
                // Notices and notifications are kept; parameters are tracked by the core.
                Some(event @ (Event::Notice(_) | Event::Notification(_))) => {
                    self.messages.record(event);
                    if self.stop_on_async {
                        return Ok(());
                    }
                }
                Some(Event::ParameterStatus { .. }) => {}
                Some(event) => {
                    if on_event(event)? {
                        return Ok(());
                    }
                }
                None => self.read_more()?,
            }
        }
    }

    /// Writes what the core queued (an authentication answer, a request), then reads.
    fn read_more(&mut self) -> Result<(), Error> {
        self.flush()?;
        let n = match self.stream.read(&mut self.read_buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(self.io_failed(e)),
        };
        match self.read_buf.get(..n) {
            Some(data) if n > 0 => self.core.handle_input(data),
            _ => self.core.handle_eof(),
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Error> {
        let mut wrote = false;
        while let Some(bytes) = self.core.poll_transmit() {
            if let Err(e) = self.stream.write_all(&bytes) {
                return Err(self.io_failed(e));
            }
            wrote = true;
        }
        if wrote {
            if let Err(e) = self.stream.flush() {
                return Err(self.io_failed(e));
            }
        }
        Ok(())
    }

    /// A socket error ends the connection: the core is told, so that
    /// [`Client::is_closed`] says so and every later call fails.
    fn io_failed(&mut self, e: std::io::Error) -> Error {
        self.core.handle_eof();
        e.into()
    }

    /// Hands each response of request `id` to `on_response` until the request is
    /// complete or `on_response` returns `true`.
    fn drive_request(
        &mut self,
        id: RequestId,
        mut on_response: impl FnMut(Response) -> bool,
    ) -> Result<(), Error> {
        self.drive(|event| match event {
            Event::Response {
                request,
                response,
                complete,
            } if request == id => Ok(on_response(response) || complete),
            _ => Ok(false),
        })
    }

    /// Collects the responses of requests `first..=last` (the last one ends the
    /// operation).
    fn collect(
        &mut self,
        first: RequestId,
        last: RequestId,
        mut collector: ResultCollector,
    ) -> Result<ResultCollector, Error> {
        self.drive(|event| {
            if let Event::Response {
                request,
                response,
                complete,
            } = event
            {
                if request < first || request > last {
                    return Ok(false);
                }
                collector.push(response);
                return Ok(complete && request == last);
            }
            Ok(false)
        })?;
        Ok(collector)
    }

    /// Calls a function by OID with the function-call sub-protocol; returns its result
    /// (`None` for NULL) in `result_format`.
    pub fn function_call(
        &mut self,
        function_oid: Oid,
        args: &[Option<&[u8]>],
        arg_format: Format,
        result_format: Format,
    ) -> Result<Option<bytes::Bytes>, Error> {
        let id = self
            .core
            .function_call(&pgproto_core::message::FunctionCall {
                function_oid,
                arg_formats: pgproto_core::message::List::new(&[arg_format]),
                args: pgproto_core::message::List::new(args),
                result_format,
            })?;
        let mut result = FunctionCallResult::default();
        self.drive_request(id, |response| {
            result.push(response);
            false
        })?;
        Ok(result.finish()?)
    }

    /// Runs one or more statements with the simple query protocol; returns every
    /// statement's result (values in text format).
    pub fn simple_query(&mut self, sql: &str) -> Result<Vec<ResultSet>, Error> {
        let id = self.core.query(sql)?;
        let collector = self.collect(id, id, ResultCollector::new(None))?;
        Ok(collector.finish()?)
    }

    /// Runs one statement with the extended protocol (unnamed statement and portal, one
    /// round trip) with already-encoded parameters, returning its rows.
    ///
    /// `param_types` may be empty (the server infers them); `params` are in
    /// `param_format`, results in `result_format`.
    pub fn query_raw(
        &mut self,
        sql: &str,
        param_types: &[Oid],
        params: &[Option<&[u8]>],
        param_format: Format,
        result_format: Format,
    ) -> Result<ResultSet, Error> {
        let (first, last) =
            self.core
                .query_raw(sql, param_types, params, param_format, result_format)?;
        let sets = self
            .collect(first, last, ResultCollector::new(None))?
            .finish()?;
        sets.into_iter()
            .next()
            .ok_or(Error::Unsupported("no result from Execute"))
    }

    /// Rows of [`Client::query_raw`] with text parameters and results.
    pub fn query_text(&mut self, sql: &str, params: &[Option<&str>]) -> Result<Vec<Row>, Error> {
        let raw: Vec<Option<&[u8]>> = params.iter().map(|p| p.map(str::as_bytes)).collect();
        Ok(self
            .query_raw(sql, &[], &raw, Format::Text, Format::Text)?
            .rows)
    }

    /// Runs `sql` with typed parameters in one round trip; results come back in binary
    /// and are read with [`Row::get`].
    ///
    /// ```no_run
    /// # let mut client = pgproto_blocking::Client::connect("")?;
    /// let rows = client.query("select $1::int8 + 1 as n", &[&41i64])?;
    /// assert_eq!(rows[0].get::<i64, _>("n")?, 42);
    /// # Ok::<(), pgproto_blocking::Error>(())
    /// ```
    pub fn query(&mut self, sql: &str, params: &[&dyn ToSql]) -> Result<Vec<Row>, Error> {
        let (first, last) = self.core.query_typed(sql, params)?;
        let sets = self
            .collect(first, last, ResultCollector::new(None))?
            .finish()?;
        Ok(sets.into_iter().next().map(|s| s.rows).unwrap_or_default())
    }

    /// Runs `sql` with typed parameters and returns its rows as an iterator that reads
    /// them off the socket as it goes: a result of any size runs in bounded memory (the
    /// server waits while the socket buffers are full). Dropping the iterator early
    /// reads and discards the rest of the result.
    ///
    /// ```no_run
    /// # let mut client = pgproto_blocking::Client::connect("")?;
    /// let mut sum = 0i64;
    /// for row in client.query_stream("select g::int8 from generate_series(1, 1000000) g", &[])? {
    ///     sum += row?.get::<i64, _>(0usize)?;
    /// }
    /// # Ok::<(), pgproto_blocking::Error>(())
    /// ```
    pub fn query_stream(
        &mut self,
        sql: &str,
        params: &[&dyn ToSql],
    ) -> Result<RowStream<'_>, Error> {
        let (first, last) = self.core.query_typed(sql, params)?;
        Ok(RowStream {
            reader: Reader::new(self, first, last),
            rows: StreamedRows::default(),
        })
    }

    /// The single row `sql` returns; an error if it returns none or several.
    pub fn query_one(&mut self, sql: &str, params: &[&dyn ToSql]) -> Result<Row, Error> {
        Ok(exactly_one(self.query(sql, params)?)?)
    }

    /// Runs a statement with typed parameters; returns the number of rows it affected.
    pub fn execute(&mut self, sql: &str, params: &[&dyn ToSql]) -> Result<u64, Error> {
        let (first, last) = self.core.query_typed(sql, params)?;
        let sets = self
            .collect(first, last, ResultCollector::new(None))?
            .finish()?;
        Ok(sets.first().map_or(0, ResultSet::rows_affected))
    }

    /// Prepares a statement on the server (named, reusable).
    pub fn prepare(&mut self, sql: &str) -> Result<Statement, Error> {
        self.prepare_typed(sql, &[])
    }

    /// Prepares a statement with some parameter types given (0 leaves one to the server).
    pub fn prepare_typed(&mut self, sql: &str, types: &[Oid]) -> Result<Statement, Error> {
        self.statements += 1;
        let name = format!("pgproto_s{}", self.statements);
        let (first, last) = self.core.prepare_typed(&name, sql, types)?;
        let collector = self.collect(first, last, ResultCollector::new(None))?;
        Ok(collector.into_statement(name)?)
    }

    /// Executes a prepared statement with typed parameters.
    pub fn query_prepared(
        &mut self,
        statement: &Statement,
        params: &[&dyn ToSql],
    ) -> Result<Vec<Row>, Error> {
        let (first, last) = self.core.execute_typed(statement, "", params, 0, true)?;
        let sets = self
            .collect(
                first,
                last,
                ResultCollector::new(Some(statement.columns.clone())),
            )?
            .finish()?;
        Ok(sets.into_iter().next().map(|s| s.rows).unwrap_or_default())
    }

    /// Reads a prepared statement's result in batches of `batch` rows through portal
    /// suspension, calling `each` with every batch; memory holds one batch at a time.
    /// Returns the number of rows.
    pub fn query_batched(
        &mut self,
        statement: &Statement,
        params: &[&dyn ToSql],
        batch: i32,
        mut each: impl FnMut(Vec<Row>) -> Result<(), Error>,
    ) -> Result<u64, Error> {
        let mut total = 0u64;
        let (mut first, mut last) = self
            .core
            .execute_typed(statement, "", params, batch, false)?;
        let read = loop {
            let mut collector = ResultCollector::new(Some(statement.columns.clone()));
            let mut suspended = false;
            // A failed connection ends the read at once: no Sync can help.
            self.drive(|event| {
                if let Event::Response {
                    request,
                    response,
                    complete,
                } = event
                {
                    if request >= first && request <= last {
                        suspended |=
                            matches!(response, pgproto_core::client::Response::PortalSuspended);
                        collector.push(response);
                        return Ok(complete && request == last);
                    }
                }
                Ok(false)
            })?;
            let rows: Vec<Row> = match collector.finish() {
                Ok(sets) => sets.into_iter().flat_map(|s| s.rows).collect(),
                Err(e) => break Err(Error::Db(e)),
            };
            total += rows.len() as u64;
            if let Err(e) = each(rows) {
                break Err(e);
            }
            if !suspended {
                break Ok(total);
            }
            let next = self.core.execute("", batch)?;
            self.core.flush()?;
            first = next;
            last = next;
        };
        // Sync ends the portal, the implicit transaction, and the skipping after an
        // error, whatever happened above.
        let sync = self.core.sync()?;
        let synced = self.collect(sync, sync, ResultCollector::new(None));
        let total = read?;
        synced?.finish()?;
        Ok(total)
    }

    /// Sends several queries at once (one round trip) and returns each one's rows or
    /// error. Each query has its own Sync, so a failure affects only that query.
    pub fn pipeline(
        &mut self,
        queries: &[(&str, &[&dyn ToSql])],
    ) -> Result<Vec<Result<Vec<Row>, Error>>, Error> {
        let mut ranges = Vec::with_capacity(queries.len());
        for (sql, params) in queries {
            ranges.push(self.core.query_typed(sql, params)?);
        }
        let mut out = Vec::with_capacity(ranges.len());
        for (first, last) in ranges {
            let result = self
                .collect(first, last, ResultCollector::new(None))?
                .finish();
            out.push(match result {
                Ok(sets) => Ok(sets.into_iter().next().map(|s| s.rows).unwrap_or_default()),
                Err(e) => Err(Error::Db(e)),
            });
        }
        Ok(out)
    }

    /// Asks the server to cancel the query running on this connection (a CancelRequest on
    /// a new connection to the same host). A blocking client is busy while its query
    /// runs: from another thread, use [`Client::canceller`] and [`Client::cancel_with`].
    pub fn cancel(&self) -> Result<(), Error> {
        Self::cancel_with(&self.canceller()?)
    }

    /// Sends the CancelRequest `canceller` describes (a new connection to its host, or
    /// the Unix socket in its directory): the running query of the connection its key
    /// belongs to is cancelled (SQLSTATE 57014).
    pub fn cancel_with(canceller: &Canceller) -> Result<(), Error> {
        let packet = connect::cancel_packet(&canceller.token)?;
        let mut stream = match connect::unix_path(&canceller.host, canceller.port) {
            Some(path) => Stream::Unix(UnixStream::connect(path)?),
            None => Stream::Tcp(TcpStream::connect((
                canceller.host.as_str(),
                canceller.port,
            ))?),
        };
        stream.write_all(&packet)?;
        // The server closes the connection without answering.
        while stream.read(&mut [0u8; 64]).is_ok_and(|n| n > 0) {}
        Ok(())
    }

    /// The cancel key with this connection's address: send it to another thread and
    /// call [`Client::cancel_with`] there.
    pub fn canceller(&self) -> Result<Canceller, Error> {
        Canceller::for_connection(self.core.cancel_token(), &self.host, self.port)
    }

    /// The next notification (LISTEN/NOTIFY), oldest first, reading from the server
    /// (blocking) until one arrives. Up to
    /// [`DEFAULT_ASYNC_MESSAGE_CAPACITY`](pgproto_core::client::DEFAULT_ASYNC_MESSAGE_CAPACITY)
    /// wait to be taken; newer ones are dropped and counted
    /// ([`Client::dropped_notifications`]).
    pub fn notification(&mut self) -> Result<Notification, Error> {
        self.wait_async(AsyncMessages::pop_notification)
    }

    /// The next notice (a warning or information from the server, such as `RAISE
    /// NOTICE`), oldest first, reading from the server until one arrives. Kept in a
    /// bounded queue like notifications.
    pub fn notice(&mut self) -> Result<DbError, Error> {
        self.wait_async(AsyncMessages::pop_notice)
    }

    fn wait_async<T>(&mut self, pop: fn(&mut AsyncMessages) -> Option<T>) -> Result<T, Error> {
        loop {
            if let Some(message) = pop(&mut self.messages) {
                return Ok(message);
            }
            self.stop_on_async = true;
            let read = self.drive(|_| Ok(false));
            self.stop_on_async = false;
            read?;
        }
    }

    /// Notifications dropped because nobody took them and their queue was full.
    pub fn dropped_notifications(&self) -> u64 {
        self.messages.dropped_notifications()
    }

    /// Notices dropped because nobody took them and their queue was full.
    pub fn dropped_notices(&self) -> u64 {
        self.messages.dropped_notices()
    }

    /// The key for cancelling this connection's running query.
    pub fn cancel_token(&self) -> Option<&CancelToken> {
        self.core.cancel_token()
    }

    /// The protocol version in use (3.2, or what the server negotiated down to).
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.core.protocol_version()
    }

    /// How the server authenticated this connection (`None`: trust).
    pub fn auth_method(&self) -> Option<AuthMethod> {
        self.core.auth_method()
    }

    /// Whether SCRAM-SHA-256-PLUS bound the authentication to the TLS channel.
    pub fn used_channel_binding(&self) -> bool {
        self.core.used_channel_binding()
    }

    /// The transaction status after the last completed request.
    pub fn transaction_status(&self) -> TransactionStatus {
        self.core.transaction_status()
    }

    /// The latest value the server reported for a run-time parameter (at startup, and
    /// ParameterStatus after `SET` and the like): `server_version`, `TimeZone`, ...
    pub fn parameter(&self, name: &str) -> Option<String> {
        self.core.parameter(name).map(String::from)
    }

    /// Whether the connection is unusable: closed, or failed (I/O error, the server
    /// ended the session, a protocol error).
    pub fn is_closed(&self) -> bool {
        self.core.phase() == Phase::Closed || self.core.error().is_some()
    }

    /// The core state machine (for inspection).
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    /// Starts `COPY ... FROM STDIN`: write data with [`CopyIn::send`], then
    /// [`CopyIn::finish`] (or [`CopyIn::abort`]). Data goes out as it is sent, so any
    /// amount streams in bounded memory. Dropping the [`CopyIn`] unfinished aborts it.
    pub fn copy_in(&mut self, sql: &str) -> Result<CopyIn<'_>, Error> {
        let reader = self.start_copy(
            sql,
            |r| matches!(r, Response::CopyIn(_)),
            "the statement did not start COPY FROM STDIN",
        )?;
        Ok(CopyIn {
            reader,
            done: false,
        })
    }

    /// Runs `COPY ... TO STDOUT` and returns its data as an iterator of chunks (one row
    /// each, as PostgreSQL sends them), read off the socket as consumed: memory holds
    /// one chunk at a time. Dropping it early reads and discards the rest.
    pub fn copy_out(&mut self, sql: &str) -> Result<CopyOut<'_>, Error> {
        let reader = self.start_copy(
            sql,
            |r| matches!(r, Response::CopyOut(_)),
            "the statement did not start COPY TO STDOUT",
        )?;
        Ok(CopyOut {
            reader,
            rows: None,
            error: None,
        })
    }

    /// Sends a COPY statement and reads up to the server's CopyInResponse or
    /// CopyOutResponse (`started` tells which); the statement's error, or `refusal` when
    /// it ended without starting one.
    fn start_copy(
        &mut self,
        sql: &str,
        started: fn(&Response) -> bool,
        refusal: &'static str,
    ) -> Result<Reader<'_>, Error> {
        let id = self.core.query(sql)?;
        let mut reader = Reader::new(self, id, id);
        let mut error = None;
        loop {
            match reader.next()? {
                Some(r) if started(&r) => return Ok(reader),
                Some(Response::Error(e)) => error = Some(e),
                Some(_) => {}
                None => return Err(error.map_or(Error::Unsupported(refusal), Error::Db)),
            }
        }
    }

    /// Starts a transaction.
    pub fn transaction(&mut self) -> Result<Transaction<'_>, Error> {
        self.build_transaction(TransactionOptions::default())
    }

    /// Starts a transaction with an isolation level, read-only or deferrable mode.
    pub fn build_transaction(
        &mut self,
        options: TransactionOptions,
    ) -> Result<Transaction<'_>, Error> {
        Transaction::begin(self, 0, &options)
    }

    /// Sends Terminate and closes the connection.
    pub fn close(mut self) -> Result<(), Error> {
        self.terminate()
    }

    fn terminate(&mut self) -> Result<(), Error> {
        if self.core.phase() == Phase::Closed {
            return Ok(());
        }
        self.core.terminate();
        self.flush()?;
        if self.stream.is_tls() {
            self.stream.shutdown();
        }
        Ok(())
    }
}

/// Reads the responses of one operation (requests `first..=last`) off the socket as
/// they are asked for. Dropping it reads and discards the rest, so that the connection
/// is ready for the next request.
#[derive(Debug)]
struct Reader<'a> {
    client: &'a mut Client,
    first: RequestId,
    last: RequestId,
    done: bool,
}

impl<'a> Reader<'a> {
    fn new(client: &'a mut Client, first: RequestId, last: RequestId) -> Self {
        Self {
            client,
            first,
            last,
            done: false,
        }
    }

    /// The next response; `None` once the operation completed. An error ends it.
    fn next(&mut self) -> Result<Option<Response>, Error> {
        if self.done {
            return Ok(None);
        }
        let (first, last) = (self.first, self.last);
        let (mut next, done) = (None, &mut self.done);
        let read = self.client.drive(|event| match event {
            Event::Response {
                request,
                response,
                complete,
            } if first <= request && request <= last => {
                *done = complete && request == last;
                next = Some(response);
                Ok(true)
            }
            _ => Ok(false),
        });
        if read.is_err() {
            self.done = true;
        }
        read.map(|()| next)
    }

    /// Reads the rest: the row count, or the first error.
    fn finish(&mut self) -> Result<u64, Error> {
        let (mut rows, mut error) = (0, None);
        while let Some(response) = self.next()? {
            match response {
                Response::CommandComplete(tag) => rows = tag.rows().unwrap_or(0),
                Response::Error(e) if error.is_none() => error = Some(e),
                _ => {}
            }
        }
        error.map_or(Ok(rows), |e| Err(Error::Db(e)))
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        while let Ok(Some(_)) = self.next() {}
    }
}

/// Rows of [`Client::query_stream`], read as they are consumed. The first error ends the
/// iteration; dropping it early reads and discards the rest of the result.
#[derive(Debug)]
pub struct RowStream<'a> {
    reader: Reader<'a>,
    rows: StreamedRows,
}

impl Iterator for RowStream<'_> {
    type Item = Result<Row, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.reader.next() {
                Ok(Some(response)) => {
                    if let Some(row) = self.rows.accept(response) {
                        return Some(Ok(row));
                    }
                }
                Ok(None) => return self.rows.take_error().map(|e| Err(Error::Db(e))),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// The data of a `COPY TO STDOUT` ([`Client::copy_out`]), an iterator of chunks read as
/// they are consumed. An error (after the rest of the statement's responses) ends it.
#[derive(Debug)]
pub struct CopyOut<'a> {
    reader: Reader<'a>,
    rows: Option<u64>,
    error: Option<Box<DbError>>,
}

impl CopyOut<'_> {
    /// The number of rows copied, once the iteration ended.
    pub fn rows(&self) -> Option<u64> {
        self.rows
    }
}

impl Iterator for CopyOut<'_> {
    type Item = Result<Bytes, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.reader.next() {
                Ok(Some(Response::CopyData(data))) => return Some(Ok(data)),
                Ok(Some(Response::CommandComplete(tag))) => self.rows = tag.rows(),
                Ok(Some(Response::Error(e))) => {
                    self.error.get_or_insert(e);
                }
                Ok(Some(_)) => {}
                Ok(None) => return self.error.take().map(|e| Err(Error::Db(e))),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// An open `COPY FROM STDIN` ([`Client::copy_in`]). Dropping it unfinished aborts the
/// COPY.
#[derive(Debug)]
pub struct CopyIn<'a> {
    reader: Reader<'a>,
    done: bool,
}

impl CopyIn<'_> {
    /// Sends a chunk of COPY data (any split; rows may span chunks).
    pub fn send(&mut self, data: &[u8]) -> Result<(), Error> {
        let client = &mut *self.reader.client;
        client.core.copy_data(data)?;
        if client.core.pending_output_len() >= 64 * 1024 {
            client.flush()?;
        }
        Ok(())
    }

    /// Ends the COPY; returns the number of rows copied.
    pub fn finish(mut self) -> Result<u64, Error> {
        self.done = true;
        self.reader.client.core.copy_done()?;
        self.reader.finish()
    }

    /// Aborts the COPY (CopyFail): the server rolls the statement back and reports
    /// `message` in its error, which is returned here (SQLSTATE 57014).
    pub fn abort(mut self, message: &str) -> Result<Box<DbError>, Error> {
        self.done = true;
        self.reader.client.core.copy_fail(message)?;
        match self.reader.finish() {
            Err(Error::Db(e)) => Ok(e),
            Err(e) => Err(e),
            Ok(_) => Err(Error::Unsupported("the server accepted an aborted COPY")),
        }
    }
}

impl Drop for CopyIn<'_> {
    fn drop(&mut self) {
        if !self.done {
            // The reader then reads the statement's end.
            let _ = self.reader.client.core.copy_fail("COPY abandoned");
        }
    }
}

/// A transaction (or, nested, a savepoint). Queries go through it (it dereferences to
/// the client). Dropping it without [`Transaction::commit`] rolls it back.
#[derive(Debug)]
pub struct Transaction<'a> {
    client: &'a mut Client,
    depth: u32,
    statements: TransactionStatements,
    done: bool,
}

impl<'a> Transaction<'a> {
    fn begin(
        client: &'a mut Client,
        depth: u32,
        options: &TransactionOptions,
    ) -> Result<Self, Error> {
        let statements = transaction_statements(depth, options);
        client.simple_query(&statements.begin)?;
        Ok(Self {
            client,
            depth,
            statements,
            done: false,
        })
    }

    /// A nested transaction: a savepoint inside this one.
    pub fn transaction(&mut self) -> Result<Transaction<'_>, Error> {
        Transaction::begin(self.client, self.depth + 1, &TransactionOptions::default())
    }

    /// Commits (releases the savepoint).
    pub fn commit(mut self) -> Result<(), Error> {
        self.done = true;
        self.client.simple_query(&self.statements.commit).map(drop)
    }

    /// Rolls back (to the savepoint).
    pub fn rollback(mut self) -> Result<(), Error> {
        self.done = true;
        self.client
            .simple_query(&self.statements.rollback)
            .map(drop)
    }
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client
    }
}

impl std::ops::DerefMut for Transaction<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.client.simple_query(&self.statements.rollback);
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.terminate();
    }
}
