//! The async client: a handle that sends work to a connection task, which owns the socket
//! and the core state machine and routes responses back.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use pgproto_core::adapter::{conninfo_from_env, with_passfile_password, SharedAsyncMessages};
use pgproto_core::cancel::CancelToken;
use pgproto_core::client::{
    exactly_one, transaction_statements, Client as Core, ConnInfo, EncodedParams, Event,
    FunctionCallResult, Notification, RequestId, Response, ResultCollector, ResultSet, Router, Row,
    SslMode, Statement, StreamedRows, TransactionOptions, TransactionStatements,
};
use pgproto_core::message::{Format, List, Oid, TransactionStatus};
use pgproto_core::types::ToSql;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::{mpsc, oneshot};

use crate::Error;

/// Work for the connection task: issue commands on the core, returning the range of
/// request ids they created; responses for that range go to `responses`.
type Submit =
    Box<dyn FnOnce(&mut Core) -> Result<(RequestId, RequestId), pgproto_core::Error> + Send>;

/// What a waiter reads: one response at a time.
#[derive(Debug)]
enum Delivery {
    /// A response; `true` when it is the operation's last.
    Response(Response, bool),
    /// The operation could not be issued, or the connection failed before it completed.
    Failed(Error),
}

/// What the connection task sends a waiter: the responses one read produced, in one
/// channel message (one wake-up per batch, not per row).
#[derive(Debug)]
enum Batch {
    /// Responses; `true` when the last one ends the operation.
    Responses(Vec<Response>, bool),
    /// See [`Delivery::Failed`].
    Failed(Error),
}

/// Who waits for an operation's responses.
enum Waiter {
    /// A caller reading responses as they come (streams, COPY).
    Stream(mpsc::Sender<Batch>),
    /// A caller that wants the whole result: the connection task collects it and hands
    /// it over once, without a channel message per row.
    Collect(
        ResultCollector,
        oneshot::Sender<Result<ResultCollector, Error>>,
    ),
}

impl Waiter {
    fn fail(self, error: Error) {
        match self {
            Self::Stream(tx) => {
                let _ = tx.try_send(Batch::Failed(error));
            }
            Self::Collect(_, tx) => {
                let _ = tx.send(Err(error));
            }
        }
    }
}

/// The receiving side of an operation: unpacks batches into single responses.
#[derive(Debug)]
struct Responses {
    rx: mpsc::Receiver<Batch>,
    buffered: std::collections::VecDeque<Response>,
    ends_operation: bool,
}

impl Responses {
    fn new(rx: mpsc::Receiver<Batch>) -> Self {
        Self {
            rx,
            buffered: std::collections::VecDeque::new(),
            ends_operation: false,
        }
    }

    fn poll_recv(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Delivery>> {
        use std::task::Poll;
        loop {
            if let Some(r) = self.buffered.pop_front() {
                let last = self.buffered.is_empty() && self.ends_operation;
                return Poll::Ready(Some(Delivery::Response(r, last)));
            }
            match self.rx.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Batch::Responses(batch, ends))) => {
                    self.buffered.extend(batch);
                    self.ends_operation = ends;
                }
                Poll::Ready(Some(Batch::Failed(e))) => {
                    return Poll::Ready(Some(Delivery::Failed(e)))
                }
                Poll::Ready(None) => return Poll::Ready(None),
            }
        }
    }

    async fn recv(&mut self) -> Option<Delivery> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }
}

/// How many responses may wait for a slow reader before the connection stops reading
/// the socket (backpressure: a huge result or COPY runs in bounded memory).
const WAITER_CAPACITY: usize = 256;

/// How many bytes of COPY data may wait to be written before `CopyIn::send` waits.
const COPY_BUFFER: usize = 1 << 20;

enum Command {
    Submit {
        build: Submit,
        responses: Waiter,
    },
    /// COPY FROM STDIN data (or its end); acknowledged once buffered output is small.
    Copy {
        action: CopyAction,
        ack: oneshot::Sender<Result<(), Error>>,
    },
}

enum CopyAction {
    Data(bytes::Bytes),
    Done,
    Fail(String),
}

/// Connection state visible to the handle.
#[derive(Debug, Clone)]
struct Info {
    cancel_token: Option<CancelToken>,
    /// Parameters, notices, notifications and the transaction status, kept up to date
    /// by the connection task.
    shared: Arc<SharedAsyncMessages>,
    /// Where the connection went (for cancel requests).
    address: (String, u16),
}

/// An async connection to PostgreSQL. Cheap to share by reference across tasks: every
/// method takes `&self`, and concurrent calls are pipelined on the one connection.
#[derive(Debug)]
pub struct Client {
    commands: mpsc::UnboundedSender<Command>,
    info: Info,
    task: tokio::task::JoinHandle<()>,
    statements: std::sync::atomic::AtomicU64,
}

impl Client {
    /// Connects with a libpq-style URL or `key=value` string, completed by the `PG*`
    /// environment variables and the password file; hosts are tried in order.
    pub async fn connect(conninfo: &str) -> Result<Self, Error> {
        let info = conninfo_from_env(conninfo)?;
        let mut last_error = None;
        for (host, port) in &info.hosts {
            let one = with_passfile_password(&info, host, *port);
            match Self::connect_host(&one, host, *port).await {
                Ok(c) => return Ok(c),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or(Error::Unsupported("no host to connect to")))
    }

    async fn connect_host(info: &ConnInfo, host: &str, port: u16) -> Result<Self, Error> {
        let mut config = info.config.clone();
        let mut nonce = [0u8; 24];
        getrandom::getrandom(&mut nonce).map_err(|e| Error::Io(e.into()))?;
        let tls = if host.starts_with('/') {
            // No TLS over Unix sockets, as libpq.
            config.ssl_mode = SslMode::Disable;
            None
        } else {
            pgproto_tls::client_config_for(info)?
                .map(|c| Ok::<_, Error>((c, pgproto_tls::server_name(host)?)))
                .transpose()?
        };
        let connect = async {
            let stream: Box<dyn Stream> = if host.starts_with('/') {
                Box::new(UnixStream::connect(format!("{host}/.s.PGSQL.{port}")).await?)
            } else {
                let stream = TcpStream::connect((host, port)).await?;
                stream.set_nodelay(true)?;
                Box::new(stream)
            };
            Self::start(
                stream,
                Core::new(config, &nonce),
                tls,
                (host.to_string(), port),
            )
            .await
        };
        match info.connect_timeout_secs.filter(|s| *s > 0) {
            Some(secs) => tokio::time::timeout(std::time::Duration::from_secs(secs), connect)
                .await
                .map_err(|_| Error::Io(std::io::ErrorKind::TimedOut.into()))?,
            None => connect.await,
        }
    }

    /// Wraps `stream` in TLS and tells the core, with the channel-binding data.
    async fn upgrade(
        stream: Box<dyn Stream>,
        core: &mut Core,
        tls: &Tls,
    ) -> Result<Box<dyn Stream>, Error> {
        let (config, name) = tls
            .as_ref()
            .ok_or(Error::Tls("TLS was not configured".into()))?;
        let connector = tokio_rustls::TlsConnector::from(config.clone());
        let stream = connector
            .connect(name.clone(), stream)
            .await
            .map_err(|e| Error::Tls(e.to_string()))?;
        let cb = pgproto_tls::channel_binding(
            stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first()),
        );
        core.handle_tls_established(cb)?;
        Ok(Box::new(stream))
    }

    async fn start(
        mut stream: Box<dyn Stream>,
        mut core: Core,
        tls: Tls,
        address: (String, u16),
    ) -> Result<Self, Error> {
        let mut buf = vec![0u8; 64 * 1024];
        if core.phase() == pgproto_core::client::Phase::TlsHandshake {
            // sslnegotiation=direct: TLS before anything else.
            stream = Self::upgrade(stream, &mut core, &tls).await?;
        }
        // Startup: drive until Ready.
        loop {
            while let Some(bytes) = core.poll_transmit() {
                stream.write_all(&bytes).await?;
            }
            match core.poll_event()? {
                Some(Event::Ready) => break,
                Some(Event::StartTls) => stream = Self::upgrade(stream, &mut core, &tls).await?,
                Some(_) => {}
                None => {
                    while let Some(bytes) = core.poll_transmit() {
                        stream.write_all(&bytes).await?;
                    }
                    stream.flush().await?;
                    let n = stream.read(&mut buf).await?;
                    if n == 0 {
                        core.handle_eof();
                    } else if let Some(data) = buf.get(..n) {
                        core.handle_input(data);
                    }
                }
            }
        }
        let info = Info {
            cancel_token: core.cancel_token().cloned(),
            shared: Arc::new(SharedAsyncMessages::new(&core)),
            address,
        };
        let (commands, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(stream, core, rx, buf, info.shared.clone()));
        Ok(Self {
            commands,
            info,
            task,
            statements: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Submits commands and returns the receiver of their responses, in order. A command
    /// the core refuses arrives there as [`Delivery::Failed`].
    async fn submit(&self, build: Submit) -> Result<Responses, Error> {
        let (responses, rx) = mpsc::channel(WAITER_CAPACITY);
        self.commands
            .send(Command::Submit {
                build,
                responses: Waiter::Stream(responses),
            })
            .map_err(|_| Error::ConnectionClosed)?;
        Ok(Responses::new(rx))
    }

    /// Runs an operation whose responses the connection task collects into `collector`.
    async fn collect_into(
        &self,
        build: Submit,
        collector: ResultCollector,
    ) -> Result<ResultCollector, Error> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Submit {
                build,
                responses: Waiter::Collect(collector, tx),
            })
            .map_err(|_| Error::ConnectionClosed)?;
        rx.await.map_err(|_| Error::ConnectionClosed)?
    }

    async fn collect(&self, build: Submit) -> Result<Vec<ResultSet>, Error> {
        Ok(self
            .collect_into(build, ResultCollector::new(None))
            .await?
            .finish()?)
    }

    /// Runs one or more statements with the simple query protocol; returns every
    /// statement's result (text format).
    pub async fn simple_query(&self, sql: &str) -> Result<Vec<ResultSet>, Error> {
        let sql = sql.to_string();
        self.collect(Box::new(move |core| {
            let id = core.query(&sql)?;
            Ok((id, id))
        }))
        .await
    }

    /// Runs one statement with the extended protocol (unnamed statement and portal, one
    /// round trip) with encoded parameters.
    pub async fn query_raw(
        &self,
        sql: &str,
        param_types: &[Oid],
        params: &[Option<&[u8]>],
        param_format: Format,
        result_format: Format,
    ) -> Result<ResultSet, Error> {
        let sql = sql.to_string();
        let types = param_types.to_vec();
        let params: Vec<Option<Vec<u8>>> = params.iter().map(|p| p.map(<[u8]>::to_vec)).collect();
        let sets = self
            .collect(Box::new(move |core| {
                let values: Vec<Option<&[u8]>> = params.iter().map(|p| p.as_deref()).collect();
                core.query_raw(&sql, &types, &values, param_format, result_format)
            }))
            .await?;
        sets.into_iter()
            .next()
            .ok_or(Error::Unsupported("no result from Execute"))
    }

    /// Rows of [`Client::query_raw`] with text parameters and results.
    pub async fn query_text(&self, sql: &str, params: &[Option<&str>]) -> Result<Vec<Row>, Error> {
        let raw: Vec<Option<&[u8]>> = params.iter().map(|p| p.map(str::as_bytes)).collect();
        Ok(self
            .query_raw(sql, &[], &raw, Format::Text, Format::Text)
            .await?
            .rows)
    }

    /// Runs `sql` with typed parameters in one round trip (Parse, Bind, Describe,
    /// Execute, Sync); results come back in binary and are read with [`Row::get`].
    pub async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let params = encode(params, &[])?;
        let sql = sql.to_string();
        let sets = self
            .collect(Box::new(move |core| core.query_encoded(&sql, &params)))
            .await?;
        Ok(sets.into_iter().next().map(|s| s.rows).unwrap_or_default())
    }

    /// The single row `sql` returns; an error if it returns none or several.
    pub async fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, Error> {
        Ok(exactly_one(self.query(sql, params).await?)?)
    }

    /// Runs a statement with typed parameters; returns the number of rows it affected.
    pub async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, Error> {
        let params = encode(params, &[])?;
        let sql = sql.to_string();
        let sets = self
            .collect(Box::new(move |core| core.query_encoded(&sql, &params)))
            .await?;
        Ok(sets.first().map_or(0, ResultSet::rows_affected))
    }

    /// Prepares a statement on the server (named, reusable from any task).
    pub async fn prepare(&self, sql: &str) -> Result<Statement, Error> {
        self.prepare_typed(sql, &[]).await
    }

    /// Prepares a statement with some parameter types given (0 leaves one to the server).
    pub async fn prepare_typed(&self, sql: &str, types: &[Oid]) -> Result<Statement, Error> {
        let n = self.statements.fetch_add(1, Ordering::Relaxed);
        let name = format!("pgproto_s{n}");
        let (sql, types, n2) = (sql.to_string(), types.to_vec(), name.clone());
        let collector = self
            .collect_into(
                Box::new(move |core| core.prepare_typed(&n2, &sql, &types)),
                ResultCollector::new(None),
            )
            .await?;
        Ok(collector.into_statement(name)?)
    }

    /// Executes a prepared statement with typed parameters (Bind, Execute, Sync).
    pub async fn query_prepared(
        &self,
        statement: &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let params = encode(params, &statement.param_types)?;
        let st = statement.clone();
        let sets = self
            .collect_into(
                Box::new(move |core| core.execute_encoded(&st, "", &params, 0, true)),
                ResultCollector::new(Some(statement.columns.clone())),
            )
            .await?
            .finish()?;
        Ok(sets.into_iter().next().map(|s| s.rows).unwrap_or_default())
    }

    /// Runs `sql` with typed parameters and returns its rows as a stream: rows are
    /// handed over as they arrive, and a slow reader makes the connection stop reading
    /// the socket, so a result of any size runs in bounded memory.
    pub async fn query_stream(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<RowStream, Error> {
        let params = encode(params, &[])?;
        let sql = sql.to_string();
        let rx = self
            .submit(Box::new(move |core| core.query_encoded(&sql, &params)))
            .await?;
        Ok(RowStream {
            rx,
            rows: StreamedRows::default(),
            done: false,
        })
    }

    /// Starts `COPY ... FROM STDIN`: send data with [`CopyIn::send`], then
    /// [`CopyIn::finish`] (or [`CopyIn::abort`]). Sending waits while more than 1 MiB is
    /// waiting to be written, so any amount streams in bounded memory.
    pub async fn copy_in(&self, sql: &str) -> Result<CopyIn<'_>, Error> {
        let rx = self
            .start_copy(
                sql,
                |r| matches!(r, Response::CopyIn(_)),
                "the statement did not start COPY FROM STDIN",
            )
            .await?;
        Ok(CopyIn {
            client: self,
            rx,
            done: false,
        })
    }

    /// Sends a COPY statement and waits until the server starts the COPY (`started`
    /// matches its CopyInResponse or CopyOutResponse); the statement's error, or
    /// `refusal` when it ended without starting one.
    async fn start_copy(
        &self,
        sql: &str,
        started: fn(&Response) -> bool,
        refusal: &'static str,
    ) -> Result<Responses, Error> {
        let sql = sql.to_string();
        let mut rx = self
            .submit(Box::new(move |core| {
                let id = core.query(&sql)?;
                Ok((id, id))
            }))
            .await?;
        loop {
            match rx.recv().await {
                Some(Delivery::Response(r, _)) if started(&r) => return Ok(rx),
                Some(Delivery::Response(Response::Error(e), _)) => {
                    drain(&mut rx).await;
                    return Err(Error::Db(e));
                }
                Some(Delivery::Failed(e)) => return Err(e),
                Some(Delivery::Response(_, true)) | None => {
                    return Err(Error::Unsupported(refusal))
                }
                Some(Delivery::Response(..)) => {}
            }
        }
    }

    async fn copy_command(&self, action: CopyAction) -> Result<(), Error> {
        let (ack, done) = oneshot::channel();
        self.commands
            .send(Command::Copy { action, ack })
            .map_err(|_| Error::ConnectionClosed)?;
        done.await.map_err(|_| Error::ConnectionClosed)?
    }

    /// Runs `COPY ... TO STDOUT` and returns its data as a stream of chunks (one row per
    /// chunk, as PostgreSQL sends them), in bounded memory.
    pub async fn copy_out(&self, sql: &str) -> Result<CopyOut, Error> {
        let rx = self
            .start_copy(
                sql,
                |r| matches!(r, Response::CopyOut(_)),
                "the statement did not start COPY TO STDOUT",
            )
            .await?;
        Ok(CopyOut {
            rx,
            rows: None,
            error: None,
            done: false,
        })
    }

    /// The next notification (LISTEN/NOTIFY), oldest first; `None` once the connection
    /// is closed and none is left. Up to
    /// [`DEFAULT_ASYNC_MESSAGE_CAPACITY`](pgproto_core::client::DEFAULT_ASYNC_MESSAGE_CAPACITY)
    /// wait to be taken; newer ones are dropped and counted
    /// ([`Client::dropped_notifications`]).
    pub async fn notification(&self) -> Option<Notification> {
        std::future::poll_fn(|cx| self.info.shared.poll_notification(cx)).await
    }

    /// The next notice (NoticeResponse: a warning or information from the server,
    /// such as `RAISE NOTICE`), oldest first; `None` once the connection is closed and
    /// none is left. Kept in a bounded queue like notifications.
    pub async fn notice(&self) -> Option<pgproto_core::db_error::DbError> {
        std::future::poll_fn(|cx| self.info.shared.poll_notice(cx)).await
    }

    /// Notifications dropped because nobody took them and their queue was full.
    pub fn dropped_notifications(&self) -> u64 {
        self.info.shared.dropped().1
    }

    /// Notices dropped because nobody took them and their queue was full.
    pub fn dropped_notices(&self) -> u64 {
        self.info.shared.dropped().0
    }

    /// Asks the server to cancel the query running on this connection (a CancelRequest
    /// on a new connection to the same host). The cancelled query fails with SQLSTATE
    /// 57014.
    pub async fn cancel_query(&self) -> Result<(), Error> {
        let token = self
            .info
            .cancel_token
            .clone()
            .ok_or(Error::Unsupported("the server sent no cancel key"))?;
        let (host, port) = &self.info.address;
        let mut buf = bytes::BytesMut::new();
        token.encode(&mut buf).map_err(pgproto_core::Error::from)?;
        let mut stream: Box<dyn Stream> = if host.starts_with('/') {
            Box::new(UnixStream::connect(format!("{host}/.s.PGSQL.{port}")).await?)
        } else {
            Box::new(TcpStream::connect((host.as_str(), *port)).await?)
        };
        stream.write_all(&buf).await?;
        // The server closes the connection without answering.
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
        Ok(())
    }

    /// Calls a function by OID with the function-call sub-protocol; returns its result
    /// (`None` for NULL) in `result_format`.
    pub async fn function_call(
        &self,
        function_oid: Oid,
        args: &[Option<&[u8]>],
        arg_format: Format,
        result_format: Format,
    ) -> Result<Option<bytes::Bytes>, Error> {
        let args: Vec<Option<Vec<u8>>> = args.iter().map(|a| a.map(<[u8]>::to_vec)).collect();
        let mut rx = self
            .submit(Box::new(move |core| {
                let values: Vec<Option<&[u8]>> = args.iter().map(|a| a.as_deref()).collect();
                let id = core.function_call(&pgproto_core::message::FunctionCall {
                    function_oid,
                    arg_formats: List::new(&[arg_format]),
                    args: List::new(&values),
                    result_format,
                })?;
                Ok((id, id))
            }))
            .await?;
        let mut result = FunctionCallResult::default();
        loop {
            match rx.recv().await {
                Some(Delivery::Response(response, last)) => {
                    result.push(response);
                    if last {
                        return Ok(result.finish()?);
                    }
                }
                Some(Delivery::Failed(e)) => return Err(e),
                None => return Err(Error::ConnectionClosed),
            }
        }
    }

    /// The key for cancelling this connection's running query.
    pub fn cancel_token(&self) -> Option<&CancelToken> {
        self.info.cancel_token.as_ref()
    }

    /// The latest value the server reported for a run-time parameter (at startup, and
    /// ParameterStatus after `SET` and the like): `server_version`, `TimeZone`, ...
    pub fn parameter(&self, name: &str) -> Option<String> {
        self.info.shared.parameter(name)
    }

    /// The transaction status after the last completed request.
    pub fn transaction_status(&self) -> TransactionStatus {
        self.info.shared.transaction_status()
    }

    /// Whether the connection task has ended.
    pub fn is_closed(&self) -> bool {
        self.commands.is_closed()
    }

    /// Closes the connection gracefully (Terminate) and waits for the task to end.
    pub async fn close(self) -> Result<(), Error> {
        drop(self.commands);
        self.task.await.map_err(|_| Error::ConnectionClosed)
    }
}

/// A transaction (or, nested, a savepoint) on a [`Client`]. Queries go through it (it
/// dereferences to the client). Dropping it without [`Transaction::commit`] rolls it
/// back before the connection's next use.
#[derive(Debug)]
pub struct Transaction<'a> {
    client: &'a Client,
    depth: u32,
    statements: TransactionStatements,
    done: bool,
}

impl Client {
    /// Starts a transaction.
    pub async fn transaction(&self) -> Result<Transaction<'_>, Error> {
        self.build_transaction(TransactionOptions::default()).await
    }

    /// Starts a transaction with an isolation level, read-only or deferrable mode.
    pub async fn build_transaction(
        &self,
        options: TransactionOptions,
    ) -> Result<Transaction<'_>, Error> {
        Transaction::begin(self, 0, &options).await
    }
}

impl<'a> Transaction<'a> {
    async fn begin(
        client: &'a Client,
        depth: u32,
        options: &TransactionOptions,
    ) -> Result<Self, Error> {
        let statements = transaction_statements(depth, options);
        client.simple_query(&statements.begin).await?;
        Ok(Self {
            client,
            depth,
            statements,
            done: false,
        })
    }

    /// A nested transaction: a savepoint inside this one.
    pub async fn transaction(&self) -> Result<Transaction<'a>, Error> {
        Transaction::begin(self.client, self.depth + 1, &TransactionOptions::default()).await
    }

    /// Commits (releases the savepoint).
    pub async fn commit(mut self) -> Result<(), Error> {
        self.done = true;
        self.client
            .simple_query(&self.statements.commit)
            .await
            .map(drop)
    }

    /// Rolls back (to the savepoint).
    pub async fn rollback(mut self) -> Result<(), Error> {
        self.done = true;
        self.client
            .simple_query(&self.statements.rollback)
            .await
            .map(drop)
    }
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            // Queued now, so it runs before whatever the connection does next.
            let sql = self.statements.rollback.clone();
            let (responses, _rx) = mpsc::channel(WAITER_CAPACITY);
            let _ = self.client.commands.send(Command::Submit {
                build: Box::new(move |core| {
                    let id = core.query(&sql)?;
                    Ok((id, id))
                }),
                responses: Waiter::Stream(responses),
            });
        }
    }
}

/// Reads an operation's remaining responses (after an early error).
async fn drain(rx: &mut Responses) {
    while let Some(d) = rx.recv().await {
        if matches!(d, Delivery::Response(_, true) | Delivery::Failed(_)) {
            return;
        }
    }
}

/// Rows of [`Client::query_stream`], as they arrive.
#[derive(Debug)]
pub struct RowStream {
    rx: Responses,
    rows: StreamedRows,
    done: bool,
}

impl RowStream {
    /// The next row; `None` at the end. An error ends the stream.
    pub async fn next(&mut self) -> Option<Result<Row, Error>> {
        std::future::poll_fn(|cx| self.poll_row(cx)).await
    }

    fn poll_row(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Row, Error>>> {
        use std::task::Poll;
        loop {
            if self.done {
                return Poll::Ready(self.rows.take_error().map(|e| Err(Error::Db(e))));
            }
            let delivery = match self.rx.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(d) => d,
            };
            match delivery {
                None => {
                    self.done = true;
                    return Poll::Ready(Some(Err(Error::ConnectionClosed)));
                }
                Some(Delivery::Failed(e)) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Some(Delivery::Response(response, last)) => {
                    self.done = last;
                    if let Some(row) = self.rows.accept(response) {
                        return Poll::Ready(Some(Ok(row)));
                    }
                }
            }
        }
    }
}

impl futures_core::Stream for RowStream {
    type Item = Result<Row, Error>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.get_mut().poll_row(cx)
    }
}

/// An open `COPY FROM STDIN` ([`Client::copy_in`]). Dropping it unfinished aborts the
/// COPY (CopyFail), so the connection goes on.
#[derive(Debug)]
pub struct CopyIn<'a> {
    client: &'a Client,
    rx: Responses,
    done: bool,
}

impl Drop for CopyIn<'_> {
    fn drop(&mut self) {
        if !self.done {
            // Queued now, so it comes before the connection's next request.
            let (ack, _) = oneshot::channel();
            let _ = self.client.commands.send(Command::Copy {
                action: CopyAction::Fail("COPY abandoned".to_string()),
                ack,
            });
        }
    }
}

impl CopyIn<'_> {
    /// Sends a chunk of COPY data (any split; rows may span chunks). Fails with the
    /// server's error if it already ended the COPY (bad data).
    pub async fn send(&mut self, data: impl Into<bytes::Bytes>) -> Result<(), Error> {
        match self
            .client
            .copy_command(CopyAction::Data(data.into()))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) => Err(self.refused(e).await),
        }
    }

    /// Ends the COPY; returns the number of rows copied.
    pub async fn finish(mut self) -> Result<u64, Error> {
        self.done = true;
        if let Err(e) = self.client.copy_command(CopyAction::Done).await {
            return Err(self.refused(e).await);
        }
        copy_finished(&mut self.rx).await
    }

    /// Aborts the COPY (CopyFail): the server rolls the statement back and reports
    /// `message` in its error, which is returned here (SQLSTATE 57014). If the server
    /// had already ended the COPY with an error, that error is returned.
    pub async fn abort(
        mut self,
        message: &str,
    ) -> Result<Box<pgproto_core::db_error::DbError>, Error> {
        self.done = true;
        let result = match self
            .client
            .copy_command(CopyAction::Fail(message.to_string()))
            .await
        {
            Ok(()) => copy_finished(&mut self.rx).await,
            Err(e) => Err(self.refused(e).await),
        };
        match result {
            Err(Error::Db(e)) => Ok(e),
            Err(e) => Err(e),
            Ok(_) => Err(Error::Unsupported("the server accepted an aborted COPY")),
        }
    }

    /// The error to report for a COPY step the core refused: when the server already
    /// ended the COPY (an ErrorResponse for bad data arrived first), the server's error;
    /// when the connection is gone, the server's reason if it gave one (a FATAL such as
    /// 57P01 from `pg_terminate_backend`) rather than "closed".
    async fn refused(&mut self, step: Error) -> Error {
        let server_ended_copy = matches!(
            step,
            Error::Protocol(pgproto_core::Error::Usage(
                pgproto_core::UsageError::NotCopying
            ))
        );
        if server_ended_copy || step.is_connection_lost() {
            if let Err(e) = copy_finished(&mut self.rx).await {
                if e.as_db_error().is_some() {
                    return e;
                }
            }
        }
        step
    }
}

/// Reads the rest of a COPY statement's responses: its row count, or its error.
async fn copy_finished(rx: &mut Responses) -> Result<u64, Error> {
    let mut rows = 0;
    let mut error = None;
    loop {
        match rx.recv().await {
            Some(Delivery::Response(Response::CommandComplete(tag), last)) => {
                rows = tag.rows().unwrap_or(0);
                if last {
                    break;
                }
            }
            Some(Delivery::Response(Response::Error(e), last)) => {
                error.get_or_insert(e);
                if last {
                    break;
                }
            }
            Some(Delivery::Response(_, true)) => break,
            Some(Delivery::Response(_, false)) => {}
            Some(Delivery::Failed(e)) => return Err(e),
            None => return Err(Error::ConnectionClosed),
        }
    }
    match error {
        Some(e) => Err(Error::Db(e)),
        None => Ok(rows),
    }
}

/// The data of a `COPY TO STDOUT` ([`Client::copy_out`]): a [`Stream`](futures_core::Stream)
/// of chunks, also read with [`CopyOut::next`].
#[derive(Debug)]
pub struct CopyOut {
    rx: Responses,
    rows: Option<u64>,
    error: Option<Box<pgproto_core::db_error::DbError>>,
    done: bool,
}

impl CopyOut {
    /// The next chunk; `None` at the end (then [`CopyOut::rows`] is known). An error
    /// (after the rest of the statement's responses) ends the stream.
    pub async fn next(&mut self) -> Option<Result<bytes::Bytes, Error>> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    fn poll_chunk(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<bytes::Bytes, Error>>> {
        use std::task::Poll;
        loop {
            if self.done {
                return Poll::Ready(self.error.take().map(|e| Err(Error::Db(e))));
            }
            let delivery = match self.rx.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(d) => d,
            };
            match delivery {
                Some(Delivery::Response(Response::CopyData(d), last)) => {
                    self.done = last;
                    return Poll::Ready(Some(Ok(d)));
                }
                Some(Delivery::Response(Response::CommandComplete(tag), last)) => {
                    self.rows = tag.rows();
                    self.done = last;
                }
                Some(Delivery::Response(Response::Error(e), last)) => {
                    self.error.get_or_insert(e);
                    self.done = last;
                }
                Some(Delivery::Response(_, last)) => self.done = last,
                Some(Delivery::Failed(e)) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                None => {
                    self.done = true;
                    return Poll::Ready(Some(Err(Error::ConnectionClosed)));
                }
            }
        }
    }

    /// The number of rows copied, once the stream ended.
    pub fn rows(&self) -> Option<u64> {
        self.rows
    }
}

impl futures_core::Stream for CopyOut {
    type Item = Result<bytes::Bytes, Error>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.get_mut().poll_chunk(cx)
    }
}

fn encode(params: &[&(dyn ToSql + Sync)], types: &[Oid]) -> Result<EncodedParams, Error> {
    Ok(EncodedParams::encode_sync(params, types)?)
}

/// The TLS configuration and the name to verify, when TLS is requested.
type Tls = Option<(
    std::sync::Arc<pgproto_tls::rustls::ClientConfig>,
    pgproto_tls::rustls::pki_types::ServerName<'static>,
)>;

/// Reads and writes; boxed so TCP, Unix sockets and TLS share one task.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// The connection task: runs the session, then wakes whoever waits for notices or
/// notifications.
async fn run(
    stream: Box<dyn Stream>,
    core: Core,
    commands: mpsc::UnboundedReceiver<Command>,
    buf: Vec<u8>,
    shared: Arc<SharedAsyncMessages>,
) {
    run_session(stream, core, commands, buf, &shared).await;
    shared.close();
}

/// Owns the socket and the core; writes whatever commands produce and routes responses.
async fn run_session(
    stream: Box<dyn Stream>,
    mut core: Core,
    mut commands: mpsc::UnboundedReceiver<Command>,
    mut buf: Vec<u8>,
    shared: &SharedAsyncMessages,
) {
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut routes: Router<Waiter> = Router::new();
    let mut commands_open = true;
    // Bytes being written; reading goes on meanwhile, so a pipeline larger than the
    // socket buffers cannot deadlock with the server.
    let mut pending = bytes::Bytes::new();
    let mut copy_acks: Vec<oneshot::Sender<Result<(), Error>>> = Vec::new();
    let mut routed: Vec<(RequestId, Response, bool)> = Vec::with_capacity(BATCH);
    loop {
        // Route every event the buffered input produces, a batch per waiter.
        loop {
            match core.poll_event() {
                Ok(Some(event)) => {
                    // Notices, notifications, parameters and the transaction status go
                    // to the shared state; responses to their waiters.
                    if let Some(Event::Response {
                        request,
                        response,
                        complete,
                    }) = shared.record(event)
                    {
                        routed.push((request, response, complete));
                        if routed.len() >= BATCH {
                            deliver(&mut routes, &mut routed).await;
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    deliver(&mut routes, &mut routed).await;
                    fail_all(&mut routes, &e);
                    return;
                }
            }
        }
        deliver(&mut routes, &mut routed).await;
        if pending.is_empty() {
            if let Some(bytes) = core.poll_transmit() {
                pending = bytes;
            }
        }
        // Release COPY writers once the data waiting to be written is small again.
        if pending.len() + core.pending_output_len() < COPY_BUFFER {
            for ack in copy_acks.drain(..) {
                let _ = ack.send(Ok(()));
            }
        }
        if !commands_open && routes.is_empty() && pending.is_empty() {
            core.terminate();
            if let Some(bytes) = core.poll_transmit() {
                let _ = writer.write_all(&bytes).await;
            }
            let _ = writer.shutdown().await;
            return;
        }
        tokio::select! {
            written = writer.write(&pending), if !pending.is_empty() => match written {
                Ok(n) if n > 0 => {
                    let _ = pending.split_to(n.min(pending.len()));
                }
                _ => {
                    core.handle_eof();
                    fail_all(&mut routes, &pgproto_core::Error::Closed);
                    return;
                }
            },
            command = commands.recv(), if commands_open => match command {
                Some(Command::Submit { build, responses }) => {
                    // Take every queued command before writing: one write per batch.
                    let mut next = Some((build, responses));
                    while let Some((build, responses)) = next.take() {
                        match build(&mut core) {
                            Ok((first, last)) => routes.add(first, last, responses),
                            Err(e) => responses.fail(e.into()),
                        }
                        if let Ok(Command::Submit { build, responses }) = commands.try_recv() {
                            next = Some((build, responses));
                        }
                    }
                }
                Some(Command::Copy { action, ack }) => {
                    let result = match action {
                        CopyAction::Data(data) => core.copy_data(&data),
                        CopyAction::Done => core.copy_done(),
                        CopyAction::Fail(message) => core.copy_fail(&message),
                    };
                    match result {
                        Ok(()) => copy_acks.push(ack),
                        Err(e) => {
                            let _ = ack.send(Err(e.into()));
                        }
                    }
                }
                None => commands_open = false,
            },
            read = reader.read(&mut buf) => match read {
                Ok(0) | Err(_) => {
                    core.handle_eof();
                    let e = core.error().cloned().unwrap_or(pgproto_core::Error::Closed);
                    fail_all(&mut routes, &e);
                    return;
                }
                Ok(n) => {
                    if let Some(data) = buf.get(..n) {
                        core.handle_input(data);
                    }
                }
            },
        }
    }
}

fn fail_all(routes: &mut Router<Waiter>, error: &pgproto_core::Error) {
    for waiter in routes.drain() {
        waiter.fail(Error::Protocol(error.clone()));
    }
}

/// Most responses handed to waiters in one channel message.
const BATCH: usize = 256;

/// Hands routed responses to their waiters: consecutive responses for one waiter go in
/// one message. A full channel makes the task wait (no socket reads until the caller
/// catches up).
async fn deliver(routes: &mut Router<Waiter>, routed: &mut Vec<(RequestId, Response, bool)>) {
    let mut batch: Vec<Response> = Vec::new();
    let mut batch_request: Option<RequestId> = None;
    for (request, response, complete) in routed.drain(..) {
        let Some((waiter, done)) = routes.lookup_mut(request, complete) else {
            continue;
        };
        if let Waiter::Collect(collector, _) = waiter {
            collector.push(response);
            if done {
                if let Some(Waiter::Collect(collector, tx)) = routes.finish(request) {
                    let _ = tx.send(Ok(collector));
                }
            }
            continue;
        }
        if let Some(previous) = batch_request {
            // Rows of one request (the common case) need no lookup.
            let same = previous == request
                || match (
                    routes.lookup(previous, false),
                    routes.lookup(request, false),
                ) {
                    (Some((a, _)), Some((b, _))) => std::ptr::eq(a, b),
                    _ => false,
                };
            if !same {
                send_batch(routes, previous, std::mem::take(&mut batch), false).await;
            }
        }
        batch.push(response);
        batch_request = Some(request);
        if done {
            send_batch(routes, request, std::mem::take(&mut batch), true).await;
            routes.finish(request);
            batch_request = None;
        }
    }
    if let Some(previous) = batch_request {
        send_batch(routes, previous, batch, false).await;
    }
}

async fn send_batch(routes: &Router<Waiter>, request: RequestId, batch: Vec<Response>, ends: bool) {
    if let Some((Waiter::Stream(tx), _)) = routes.lookup(request, false) {
        let _ = tx.send(Batch::Responses(batch, ends)).await;
    }
}
