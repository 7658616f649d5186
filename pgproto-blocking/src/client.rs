//! The blocking client: a socket, a core [`pgproto_core::client::Client`], and a loop that
//! moves bytes until the request at hand completes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use pgproto_core::cancel::CancelToken;
use pgproto_core::client::{
    exactly_one, transaction_statements, AsyncMessages, Client as Core, ConnInfo, Event,
    FunctionCallResult, Notification, Phase, RequestId, Response, ResultCollector, ResultSet, Row,
    Statement, TransactionOptions, TransactionStatements,
};
use pgproto_core::db_error::DbError;
use pgproto_core::message::{Format, Oid, TransactionStatus};
use pgproto_core::types::ToSql;

use pgproto_core::adapter::{conninfo_from_env, with_passfile_password};

use pgproto_tls::rustls;

use crate::Error;

type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<TlsStream>),
    /// Between a plain socket and its TLS session (never seen by I/O).
    Upgrading,
}

fn upgrading() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::NotConnected, "TLS handshake failed")
}

impl Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Tcp(s) => s.read(buf),
            Self::Unix(s) => s.read(buf),
            Self::Tls(s) => s.read(buf),
            Self::Upgrading => Err(upgrading()),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Self::Tcp(s) => s.write_all(buf),
            Self::Unix(s) => s.write_all(buf),
            Self::Tls(s) => s.write_all(buf),
            Self::Upgrading => Err(upgrading()),
        }
    }

    /// Sends what TLS buffered (plain sockets write through).
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Tls(s) => s.flush(),
            _ => Ok(()),
        }
    }

    /// Wraps a TCP socket in TLS (handshake completed) and returns the channel-binding
    /// data of the server's certificate.
    fn upgrade(&mut self, tls: Option<&Tls>) -> Result<Option<Vec<u8>>, Error> {
        let (config, name) = tls.ok_or(Error::Tls("TLS was not configured".into()))?;
        let Self::Tcp(mut sock) = std::mem::replace(self, Self::Upgrading) else {
            return Err(Error::Tls("TLS needs a TCP connection".into()));
        };
        let mut conn = rustls::ClientConnection::new(config.clone(), name.clone())
            .map_err(|e| Error::Tls(e.to_string()))?;
        while conn.is_handshaking() {
            conn.complete_io(&mut sock)
                .map_err(|e| Error::Tls(e.to_string()))?;
        }
        let cb = pgproto_tls::channel_binding(conn.peer_certificates().and_then(|c| c.first()));
        *self = Self::Tls(Box::new(rustls::StreamOwned::new(conn, sock)));
        Ok(cb)
    }
}

/// The TLS configuration and the name to verify, when TLS is requested.
type Tls = (
    std::sync::Arc<rustls::ClientConfig>,
    rustls::pki_types::ServerName<'static>,
);

/// A blocking connection to PostgreSQL.
pub struct Client {
    stream: Stream,
    core: Core,
    read_buf: Box<[u8]>,
    /// Notices and notifications until the application takes them (bounded).
    messages: AsyncMessages,
    statements: u64,
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
        let info = conninfo_from_env(conninfo)?;
        let mut last_error = None;
        for (host, port) in &info.hosts {
            let (host, port) = (host.as_str(), *port);
            let info = with_passfile_password(&info, host, port);
            match Self::connect_host(&info, host, port) {
                Ok(client) => return Ok(client),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or(Error::Unsupported("no host to connect to")))
    }

    fn connect_host(info: &ConnInfo, host: &str, port: u16) -> Result<Self, Error> {
        let timeout = info
            .connect_timeout_secs
            .filter(|s| *s > 0)
            .map(Duration::from_secs);
        let stream = if host.starts_with('/') {
            let path = format!("{host}/.s.PGSQL.{port}");
            Stream::Unix(UnixStream::connect(path)?)
        } else {
            let addrs = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))?;
            let mut last = None;
            let mut connected = None;
            for addr in addrs {
                let attempt = match timeout {
                    Some(t) => TcpStream::connect_timeout(&addr, t),
                    None => TcpStream::connect(addr),
                };
                match attempt {
                    Ok(s) => {
                        connected = Some(s);
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            let s = match (connected, last) {
                (Some(s), _) => s,
                (None, Some(e)) => return Err(e.into()),
                (None, None) => return Err(Error::Unsupported("host resolved to no address")),
            };
            s.set_nodelay(true)?;
            Stream::Tcp(s)
        };
        let mut config = info.config.clone();
        let tls = if host.starts_with('/') {
            // No TLS over Unix sockets, as libpq.
            config.ssl_mode = pgproto_core::client::SslMode::Disable;
            None
        } else {
            pgproto_tls::client_config_for(info)?
                .map(|c| Ok::<_, Error>((c, pgproto_tls::server_name(host)?)))
                .transpose()?
        };
        let mut nonce = [0u8; 24];
        getrandom::getrandom(&mut nonce).map_err(|e| Error::Io(e.into()))?;
        let mut client = Self {
            stream,
            core: Core::new(config, &nonce),
            read_buf: vec![0; 64 * 1024].into_boxed_slice(),
            messages: AsyncMessages::default(),
            statements: 0,
        };
        if client.core.phase() == Phase::TlsHandshake {
            // sslnegotiation=direct: TLS before anything else.
            let cb = client.stream.upgrade(tls.as_ref())?;
            client.core.handle_tls_established(cb)?;
        }
        loop {
            let mut start_tls = false;
            client.drive(|event| match event {
                Event::Ready => Ok(true),
                Event::StartTls => {
                    start_tls = true;
                    Ok(true)
                }
                _ => Ok(false),
            })?;
            if !start_tls {
                return Ok(client);
            }
            // The server said 'S' to the SSLRequest (and the core checked that nothing
            // followed it).
            let cb = client.stream.upgrade(tls.as_ref())?;
            client.core.handle_tls_established(cb)?;
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
                Some(Event::Notification(n)) => {
                    // Let a caller waiting for notifications see it.
                    let waited = on_event(Event::Notification(n.clone()))?;
                    self.messages.record(Event::Notification(n));
                    if waited {
                        return Ok(());
                    }
                }
                // Notices are kept; parameters are tracked by the core itself.
                Some(event @ Event::Notice(_)) => {
                    self.messages.record(event);
                }
                Some(Event::ParameterStatus { .. }) => {}
                Some(event) => {
                    if on_event(event)? {
                        return Ok(());
                    }
                }
                None => {
                    // Whatever the input produced (an authentication answer) goes out
                    // before waiting for more.
                    self.flush()?;
                    let n = match self.stream.read(&mut self.read_buf) {
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(self.io_failed(e)),
                    };
                    match self.read_buf.get(..n) {
                        Some(data) if n > 0 => self.core.handle_input(data),
                        _ => self.core.handle_eof(),
                    }
                }
            }
        }
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
    /// for row in client.query_iter("select g::int8 from generate_series(1, 1000000) g", &[])? {
    ///     sum += row?.get::<i64, _>(0usize)?;
    /// }
    /// # Ok::<(), pgproto_blocking::Error>(())
    /// ```
    pub fn query_iter(&mut self, sql: &str, params: &[&dyn ToSql]) -> Result<RowIter<'_>, Error> {
        let (first, last) = self.core.query_typed(sql, params)?;
        Ok(RowIter {
            client: self,
            first,
            last,
            columns: None,
            error: None,
            done: false,
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

    /// Asks the server to cancel the query running on the connection `token` belongs to
    /// (a new connection to `host:port`, or the Unix socket in directory `host`, carrying
    /// a CancelRequest).
    pub fn cancel(token: &CancelToken, host: &str, port: u16) -> Result<(), Error> {
        let mut buf = bytes::BytesMut::new();
        token.encode(&mut buf).map_err(pgproto_core::Error::from)?;
        let mut stream = if host.starts_with('/') {
            Stream::Unix(UnixStream::connect(format!("{host}/.s.PGSQL.{port}"))?)
        } else {
            Stream::Tcp(TcpStream::connect((host, port))?)
        };
        stream.write_all(&buf)?;
        // The server closes the connection without answering.
        while stream.read(&mut [0u8; 64]).is_ok_and(|n| n > 0) {}
        Ok(())
    }

    /// Notifications received so far (LISTEN/NOTIFY), oldest first. Up to
    /// [`DEFAULT_ASYNC_MESSAGE_CAPACITY`](pgproto_core::client::DEFAULT_ASYNC_MESSAGE_CAPACITY)
    /// are kept; newer ones are dropped and counted ([`Client::dropped_notifications`]).
    pub fn take_notifications(&mut self) -> Vec<Notification> {
        self.messages.take_notifications()
    }

    /// Notifications dropped because nobody took them and their queue was full.
    pub fn dropped_notifications(&self) -> u64 {
        self.messages.dropped_notifications()
    }

    /// Notices dropped because nobody took them and their queue was full.
    pub fn dropped_notices(&self) -> u64 {
        self.messages.dropped_notices()
    }

    /// Waits for a notification, reading from the server if none is queued.
    pub fn wait_notification(&mut self) -> Result<Notification, Error> {
        loop {
            if let Some(n) = self.messages.pop_notification() {
                return Ok(n);
            }
            let mut got = false;
            self.drive(|event| {
                got = matches!(event, Event::Notification(_));
                Ok(got)
            })?;
        }
    }

    /// Notices received so far, oldest first (bounded like notifications).
    pub fn take_notices(&mut self) -> Vec<DbError> {
        self.messages.take_notices()
    }

    /// The key for cancelling this connection's running query from elsewhere.
    pub fn cancel_token(&self) -> Option<CancelToken> {
        self.core.cancel_token().cloned()
    }

    /// The transaction status after the last completed request.
    pub fn transaction_status(&self) -> TransactionStatus {
        self.core.transaction_status()
    }

    /// A run-time parameter the server reported (`server_version`, `TimeZone`, ...).
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.core.parameter(name)
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
        matches!(self.stream, Stream::Tls(_))
    }

    /// Starts `COPY ... FROM STDIN`: write data with [`CopyInWriter::send`], then
    /// [`CopyInWriter::finish`] (or [`CopyInWriter::abort`]). Data goes out as it is
    /// sent, so any amount streams in bounded memory.
    pub fn copy_in(&mut self, sql: &str) -> Result<CopyInWriter<'_>, Error> {
        let id = self.core.query(sql)?;
        let mut started = false;
        let mut error = None;
        self.drive_request(id, |response| {
            match response {
                Response::CopyIn(_) => {
                    started = true;
                    return true;
                }
                Response::Error(e) => error = Some(e),
                _ => {}
            }
            false
        })?;
        match (error, started) {
            (Some(e), _) => Err(Error::Db(e)),
            (None, true) => Ok(CopyInWriter {
                client: self,
                request: id,
                done: false,
            }),
            (None, false) => Err(Error::Unsupported(
                "the statement did not start COPY FROM STDIN",
            )),
        }
    }

    /// Runs `COPY ... TO STDOUT`, handing each chunk (one row each, as PostgreSQL sends
    /// them) to `each`; returns the number of rows. Memory holds one chunk at a time.
    pub fn copy_out(
        &mut self,
        sql: &str,
        mut each: impl FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<u64, Error> {
        let id = self.core.query(sql)?;
        let mut rows = 0;
        let mut error: Option<Error> = None;
        self.drive_request(id, |response| {
            match response {
                Response::CopyData(data) if error.is_none() => {
                    if let Err(e) = each(&data) {
                        error = Some(e);
                    }
                }
                Response::CommandComplete(tag) => rows = tag.rows().unwrap_or(0),
                Response::Error(e) if error.is_none() => error = Some(Error::Db(e)),
                _ => {}
            }
            false
        })?;
        match error {
            Some(e) => Err(e),
            None => Ok(rows),
        }
    }

    /// Waits for the end of request `id`, returning its row count or error.
    fn finish_request(&mut self, id: RequestId) -> Result<u64, Error> {
        let mut rows = 0;
        let mut error = None;
        self.drive_request(id, |response| {
            match response {
                Response::CommandComplete(tag) => rows = tag.rows().unwrap_or(0),
                Response::Error(e) if error.is_none() => error = Some(e),
                _ => {}
            }
            false
        })?;
        match error {
            Some(e) => Err(Error::Db(e)),
            None => Ok(rows),
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
        if let Stream::Tls(s) = &mut self.stream {
            s.conn.send_close_notify();
            s.flush()?;
        }
        Ok(())
    }
}

/// Rows of [`Client::query_iter`], read as they are consumed. The first error ends the
/// iteration.
#[derive(Debug)]
pub struct RowIter<'a> {
    client: &'a mut Client,
    first: RequestId,
    last: RequestId,
    columns: Option<std::sync::Arc<[pgproto_core::column::Column]>>,
    error: Option<Box<DbError>>,
    done: bool,
}

impl RowIter<'_> {
    /// Reads up to the next row (`None`: the result ended).
    fn advance(&mut self) -> Result<Option<Row>, Error> {
        let (first, last) = (self.first, self.last);
        let mut row = None;
        let (columns, error, done) = (&mut self.columns, &mut self.error, &mut self.done);
        self.client.drive(|event| {
            let Event::Response {
                request,
                response,
                complete,
            } = event
            else {
                return Ok(false);
            };
            if request < first || request > last {
                return Ok(false);
            }
            if complete && request == last {
                *done = true;
            }
            match response {
                Response::RowDescription(d) => {
                    *columns = Some(pgproto_core::column::Column::from_description(&d));
                }
                Response::DataRow(body) => {
                    let columns = columns.clone().unwrap_or_else(|| Vec::new().into());
                    row = Some(Row::new(columns, body));
                    return Ok(true);
                }
                Response::Error(e) if error.is_none() => *error = Some(e),
                _ => {}
            }
            Ok(*done)
        })?;
        Ok(row)
    }
}

impl Iterator for RowIter<'_> {
    type Item = Result<Row, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.done {
            match self.advance() {
                Ok(Some(row)) => return Some(Ok(row)),
                Ok(None) => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        self.error.take().map(|e| Err(Error::Db(e)))
    }
}

impl Drop for RowIter<'_> {
    fn drop(&mut self) {
        // The rest of the result is read, so the connection is ready for the next request.
        while !self.done {
            if !matches!(self.advance(), Ok(Some(_))) {
                break;
            }
        }
    }
}

/// An open `COPY FROM STDIN` ([`Client::copy_in`]). Dropping it unfinished aborts the
/// COPY.
#[derive(Debug)]
pub struct CopyInWriter<'a> {
    client: &'a mut Client,
    request: RequestId,
    done: bool,
}

impl CopyInWriter<'_> {
    /// Sends a chunk of COPY data (any split; rows may span chunks).
    pub fn send(&mut self, data: &[u8]) -> Result<(), Error> {
        self.client.core.copy_data(data)?;
        if self.client.core.pending_output_len() >= 64 * 1024 {
            self.client.flush()?;
        }
        Ok(())
    }

    /// Ends the COPY; returns the number of rows copied.
    pub fn finish(mut self) -> Result<u64, Error> {
        self.done = true;
        self.client.core.copy_done()?;
        self.client.finish_request(self.request)
    }

    /// Aborts the COPY (CopyFail); returns the server's error quoting `message`
    /// (SQLSTATE 57014).
    pub fn abort(mut self, message: &str) -> Result<DbError, Error> {
        self.done = true;
        self.client.core.copy_fail(message)?;
        match self.client.finish_request(self.request) {
            Err(Error::Db(e)) => Ok(*e),
            Err(e) => Err(e),
            Ok(_) => Err(Error::Unsupported("the server accepted an aborted COPY")),
        }
    }
}

impl Drop for CopyInWriter<'_> {
    fn drop(&mut self) {
        if !self.done && self.client.core.copy_fail("COPY abandoned").is_ok() {
            let _ = self.client.finish_request(self.request);
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
