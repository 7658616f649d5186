//! The async client: a [`Client`] handle that sends work to a [`Connection`] future,
//! which owns the socket and the core state machine and routes responses back.
//!
//! The connection is a hand-written future rather than a spawned task, so that no
//! executor is assumed: the caller spawns it (`async_std::task::spawn`, `smol::spawn`)
//! or polls it next to its own work. It reads and writes at the same time, so a long
//! pipeline never deadlocks against a server that is busy sending results.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use futures_channel::{mpsc, oneshot};
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use futures_lite::StreamExt;
use pgproto_core::adapter::{conninfo_from_env, with_passfile_password, SharedAsyncMessages};
use pgproto_core::cancel::CancelToken;
use pgproto_core::client::{
    exactly_one, transaction_statements, AuthMethod, Client as Core, ConnInfo, EncodedParams,
    Event, FunctionCallResult, Notification, Phase, RequestId, Response, ResultCollector,
    ResultSet, Router, Row, SslMode, Statement, StreamedRows, TransactionOptions,
    TransactionStatements,
};
use pgproto_core::db_error::DbError;
use pgproto_core::message::{Format, Oid, ProtocolVersion, TransactionStatus};
use pgproto_core::types::ToSql;
use pgproto_core::UsageError;
use pgproto_tls::rustls;

use crate::Error;

/// Size of the read buffer and of one read from the socket.
const READ_SIZE: usize = 64 * 1024;

/// Rounds of reading and writing one poll of [`Connection`] may do before it yields to
/// the executor, so that a busy connection does not starve other tasks.
const POLL_BUDGET: usize = 32;

/// Work for the connection: issue commands on the core, returning the range of request
/// ids they created.
type Submit =
    Box<dyn FnOnce(&mut Core) -> Result<(RequestId, RequestId), pgproto_core::Error> + Send>;

/// A submitted operation and where its replies go.
struct Command {
    build: Submit,
    replies: async_channel::Sender<Reply>,
}

/// What a [`Client`] asks of its [`Connection`].
enum Op {
    /// Issue commands and route their responses.
    Submit(Command),
    /// COPY FROM STDIN data (or its end); acknowledged once the output waiting to be
    /// written is small again (so a fast sender cannot fill memory).
    Copy {
        action: CopyAction,
        ack: oneshot::Sender<Result<(), pgproto_core::Error>>,
    },
}

/// A step of COPY FROM STDIN.
enum CopyAction {
    Data(bytes::Bytes),
    Done,
    Fail(String),
}

/// How many bytes of COPY data may wait to be written before [`CopyIn::send`] waits.
const COPY_BUFFER: usize = 1 << 20;

/// How many responses a COPY TO STDOUT reader may have waiting before the connection
/// stops reading the socket.
const COPY_OUT_CAPACITY: usize = 256;

/// What the connection tells one caller.
#[derive(Debug)]
enum Reply {
    /// One response of the caller's requests.
    Response(Response),
    /// The last request of the range completed.
    Done,
    /// The commands were refused, or the connection failed before the range completed.
    Failed(pgproto_core::Error),
}

/// A caller waiting for responses to an operation's requests.
#[derive(Debug)]
struct Waiter {
    replies: async_channel::Sender<Reply>,
}

/// Connection state visible to the handle.
#[derive(Debug, Clone)]
struct Info {
    cancel_token: Option<CancelToken>,
    protocol_version: ProtocolVersion,
    auth_method: Option<AuthMethod>,
    channel_binding: bool,
    tls: bool,
    /// Parameters, notices, notifications and the transaction status, kept up to date
    /// by the connection.
    shared: Arc<SharedAsyncMessages>,
}

/// An async connection to PostgreSQL. Every method takes `&self`: share it by reference
/// across tasks, and concurrent calls are pipelined on the one connection.
///
/// Requests make progress only while its [`Connection`] is being polled.
#[derive(Debug)]
pub struct Client {
    commands: mpsc::UnboundedSender<Op>,
    info: Info,
    /// Resolves when the connection ends: `true` after a graceful Terminate.
    ended: oneshot::Receiver<bool>,
    /// Held shared while submitting, exclusively while a portal is read in batches (no
    /// other request may come between its Executes and its Sync).
    gate: async_lock::RwLock<()>,
    /// Numbers the prepared statements' names.
    statements: std::sync::atomic::AtomicU64,
}

impl Client {
    /// Connects with a libpq-style URL or `key=value` string, completed by the `PG*`
    /// environment variables and the password file; hosts are tried in order.
    /// `connect_timeout` bounds each host's attempt.
    ///
    /// Returns the client and its [`Connection`]: spawn the connection on your executor
    /// (or poll it yourself, e.g. with `futures_lite::future::zip`), else requests never
    /// complete.
    pub async fn connect(conninfo: &str) -> Result<(Self, Connection), Error> {
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

    async fn connect_host(
        info: &ConnInfo,
        host: &str,
        port: u16,
    ) -> Result<(Self, Connection), Error> {
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
                let path = format!("{host}/.s.PGSQL.{port}");
                Box::new(async_net::unix::UnixStream::connect(path).await?)
            } else {
                let stream = async_net::TcpStream::connect((host, port)).await?;
                stream.set_nodelay(true)?;
                Box::new(stream)
            };
            Self::start(stream, Core::new(config, &nonce), tls.as_ref()).await
        };
        match info.connect_timeout_secs.filter(|s| *s > 0) {
            Some(secs) => {
                let timeout = async {
                    async_io::Timer::after(Duration::from_secs(secs)).await;
                    Err(Error::Io(std::io::ErrorKind::TimedOut.into()))
                };
                futures_lite::future::or(connect, timeout).await
            }
            None => connect.await,
        }
    }

    /// Wraps `stream` in TLS and tells the core, with the channel-binding data.
    async fn upgrade(
        stream: Box<dyn Stream>,
        core: &mut Core,
        tls: Option<&Tls>,
    ) -> Result<Box<dyn Stream>, Error> {
        let (config, name) = tls.ok_or(Error::Tls("TLS was not configured".into()))?;
        let stream = futures_rustls::TlsConnector::from(config.clone())
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

    /// Runs startup and authentication, then splits into handle and connection.
    async fn start(
        mut stream: Box<dyn Stream>,
        mut core: Core,
        tls: Option<&Tls>,
    ) -> Result<(Self, Connection), Error> {
        let mut buf = vec![0u8; READ_SIZE];
        if core.phase() == Phase::TlsHandshake {
            // sslnegotiation=direct: TLS before anything else.
            stream = Self::upgrade(stream, &mut core, tls).await?;
        }
        // Output left queued at Ready is written by the connection.
        loop {
            match core.poll_event()? {
                Some(Event::Ready) => break,
                Some(Event::StartTls) => {
                    // The SSLRequest went out and the 'S' came back: nothing else may
                    // be in flight (the core refuses bytes buffered after the 'S').
                    stream = Self::upgrade(stream, &mut core, tls).await?;
                }
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
            protocol_version: core.protocol_version(),
            auth_method: core.auth_method(),
            channel_binding: core.used_channel_binding(),
            tls: core.is_tls(),
            shared: Arc::new(SharedAsyncMessages::new(&core)),
        };
        let (commands, commands_rx) = mpsc::unbounded();
        let (ended_tx, ended) = oneshot::channel();
        let connection = Connection {
            stream,
            core,
            commands: commands_rx,
            commands_open: true,
            routes: Router::new(),
            shared: info.shared.clone(),
            read_buf: buf,
            out: BytesMut::new(),
            needs_flush: false,
            terminating: false,
            copy_acks: Vec::new(),
            blocked: None,
            ended: Some(ended_tx),
        };
        let client = Self {
            commands,
            info,
            ended,
            gate: async_lock::RwLock::new(()),
            statements: std::sync::atomic::AtomicU64::new(0),
        };
        Ok((client, connection))
    }

    /// Hands commands to the connection (which issues them in submission order);
    /// their responses arrive on the returned channel. The caller must hold the gate.
    fn send(&self, build: Submit) -> Result<async_channel::Receiver<Reply>, Error> {
        let (replies, rx) = async_channel::unbounded();
        self.send_to(build, replies)?;
        Ok(rx)
    }

    /// [`Client::send`] with the replies going to `replies`.
    fn send_to(&self, build: Submit, replies: async_channel::Sender<Reply>) -> Result<(), Error> {
        self.commands
            .unbounded_send(Op::Submit(Command { build, replies }))
            .map_err(|_| Error::ConnectionClosed)
    }

    /// Hands a COPY FROM STDIN step to the connection; resolves once it is queued and
    /// the output waiting to be written is below [`COPY_BUFFER`].
    async fn copy_step(&self, action: CopyAction) -> Result<(), Error> {
        let (ack, acked) = oneshot::channel();
        self.commands
            .unbounded_send(Op::Copy { action, ack })
            .map_err(|_| Error::ConnectionClosed)?;
        acked.await.map_err(|_| Error::ConnectionClosed)??;
        Ok(())
    }

    /// Feeds the responses on `rx` to `collector` (and to `inspect`) until the
    /// operation's last one.
    async fn receive(
        rx: async_channel::Receiver<Reply>,
        mut collector: ResultCollector,
        mut inspect: impl FnMut(&Response),
    ) -> Result<ResultCollector, Error> {
        loop {
            match rx.recv().await {
                Ok(Reply::Response(r)) => {
                    inspect(&r);
                    collector.push(r);
                }
                Ok(Reply::Done) => return Ok(collector),
                Ok(Reply::Failed(e)) => return Err(e.into()),
                // The connection went away before answering (dropped, or never polled).
                Err(_) => return Err(Error::ConnectionClosed),
            }
        }
    }

    /// Submits commands and feeds their responses to `collector`.
    async fn collect_into(
        &self,
        build: Submit,
        collector: ResultCollector,
    ) -> Result<ResultCollector, Error> {
        let rx = {
            let _shared = self.gate.read().await;
            self.send(build)?
        };
        Self::receive(rx, collector, |_| {}).await
    }

    /// Submits commands and collects their responses into result sets.
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
    ///
    /// ```no_run
    /// # async fn demo(client: &pgproto_asyncstd::Client) -> Result<(), pgproto_asyncstd::Error> {
    /// let rows = client.query("select $1::int8 + 1 as n", &[&41i64]).await?;
    /// assert_eq!(rows[0].get::<i64, _>("n")?, 42);
    /// # Ok(()) }
    /// ```
    pub async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let sets = self.query_sets(sql, params).await?;
        Ok(sets.into_iter().next().map(|s| s.rows).unwrap_or_default())
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
        let rx = {
            let _shared = self.gate.read().await;
            self.send(Box::new(move |core| {
                let values: Vec<Option<&[u8]>> = args.iter().map(|a| a.as_deref()).collect();
                let id = core.function_call(&pgproto_core::message::FunctionCall {
                    function_oid,
                    arg_formats: pgproto_core::message::List::new(&[arg_format]),
                    args: pgproto_core::message::List::new(&values),
                    result_format,
                })?;
                Ok((id, id))
            }))?
        };
        let mut result = FunctionCallResult::default();
        loop {
            match rx.recv().await {
                Ok(Reply::Response(response)) => result.push(response),
                Ok(Reply::Done) => return Ok(result.finish()?),
                Ok(Reply::Failed(e)) => return Err(e.into()),
                Err(_) => return Err(Error::ConnectionClosed),
            }
        }
    }

    /// Runs `sql` with typed parameters and returns its rows as a stream: rows are
    /// handed over as they arrive, and a slow reader makes the connection stop reading
    /// the socket, so a result of any size runs in bounded memory. Other calls on this
    /// client are answered after the stream's statement (responses come in order).
    ///
    /// ```no_run
    /// # async fn demo(client: &pgproto_asyncstd::Client) -> Result<(), pgproto_asyncstd::Error> {
    /// use futures_lite::StreamExt;
    /// let mut rows = client.query_stream("select g from generate_series(1, 1000000) g", &[]).await?;
    /// let mut sum = 0i64;
    /// while let Some(row) = rows.next().await {
    ///     sum += i64::from(row?.get::<i32, _>(0)?);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn query_stream(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<RowStream, Error> {
        let params = encode(params, &[])?;
        let sql = sql.to_string();
        let (replies, rx) = async_channel::bounded(COPY_OUT_CAPACITY);
        {
            let _shared = self.gate.read().await;
            self.send_to(
                Box::new(move |core| core.query_encoded(&sql, &params)),
                replies,
            )?;
        }
        Ok(RowStream {
            rx: Box::pin(rx),
            rows: StreamedRows::default(),
            done: false,
        })
    }

    async fn query_sets(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<ResultSet>, Error> {
        let params = encode(params, &[])?;
        let sql = sql.to_string();
        self.collect(Box::new(move |core| core.query_encoded(&sql, &params)))
            .await
    }

    /// The single row `sql` returns; an error if it returns none or several.
    pub async fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, Error> {
        Ok(exactly_one(self.query(sql, params).await?)?)
    }

    /// Runs a statement with typed parameters; returns the number of rows it affected.
    pub async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, Error> {
        let sets = self.query_sets(sql, params).await?;
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
        let (sql, types, name2) = (sql.to_string(), types.to_vec(), name.clone());
        let collector = self
            .collect_into(
                Box::new(move |core| core.prepare_typed(&name2, &sql, &types)),
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

    /// Reads a prepared statement's result in batches of `batch` rows through portal
    /// suspension (Execute with a row limit, then Execute again while the portal is
    /// suspended, then Sync), calling `each` with every batch; memory holds one batch at
    /// a time. Returns the number of rows.
    ///
    /// The portal lives until the Sync, so other calls on this client wait until the
    /// read ends: do not call the same client from `each`. An error from `each` stops
    /// the read (the portal is closed) and is returned.
    pub async fn query_batched(
        &self,
        statement: &Statement,
        params: &[&(dyn ToSql + Sync)],
        batch: i32,
        mut each: impl FnMut(Vec<Row>) -> Result<(), Error>,
    ) -> Result<u64, Error> {
        let params = encode(params, &statement.param_types)?;
        let mut portal = Portal {
            client: self,
            synced: false,
            _exclusive: self.gate.write().await,
        };
        let st = statement.clone();
        let mut build: Submit =
            Box::new(move |core| core.execute_encoded(&st, "", &params, batch, false));
        let mut total = 0u64;
        let read = loop {
            let mut suspended = false;
            let collected = match self.send(build) {
                Ok(rx) => {
                    Self::receive(
                        rx,
                        ResultCollector::new(Some(statement.columns.clone())),
                        |r| suspended |= matches!(r, Response::PortalSuspended),
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            let rows: Vec<Row> = match collected.and_then(|c| Ok(c.finish()?)) {
                Ok(sets) => sets.into_iter().flat_map(|s| s.rows).collect(),
                Err(e) => break Err(e),
            };
            total += rows.len() as u64;
            if let Err(e) = each(rows) {
                break Err(e);
            }
            if !suspended {
                break Ok(total);
            }
            build = Box::new(move |core| {
                let id = core.execute("", batch)?;
                core.flush()?;
                Ok((id, id))
            });
        };
        // Sync ends the portal, the implicit transaction, and the skipping after an
        // error, whatever happened above.
        let synced = portal.sync().await;
        let total = read?;
        synced?;
        Ok(total)
    }

    /// Sends several queries at once (pipelined) and returns each one's rows or error.
    /// Each query has its own Sync, so a failure affects only that query.
    pub async fn pipeline(
        &self,
        queries: &[(&str, &[&(dyn ToSql + Sync)])],
    ) -> Result<Vec<Result<Vec<Row>, Error>>, Error> {
        let mut receivers = Vec::with_capacity(queries.len());
        {
            let _shared = self.gate.read().await;
            for (sql, params) in queries {
                let params = encode(params, &[])?;
                let sql = sql.to_string();
                receivers.push(self.send(Box::new(move |core| core.query_encoded(&sql, &params)))?);
            }
        }
        let mut out = Vec::with_capacity(receivers.len());
        for rx in receivers {
            let result = Self::receive(rx, ResultCollector::new(None), |_| {})
                .await?
                .finish();
            out.push(match result {
                Ok(sets) => Ok(sets.into_iter().next().map(|s| s.rows).unwrap_or_default()),
                Err(e) => Err(Error::Db(e)),
            });
        }
        Ok(out)
    }

    /// Asks the server to cancel the query running on the connection `token` belongs
    /// to: a CancelRequest on a new connection to `host:port` (a directory: its Unix
    /// socket). The server answers by closing; whether a query was cancelled shows as
    /// that query's error (SQLSTATE 57014).
    pub async fn cancel(token: &CancelToken, host: &str, port: u16) -> Result<(), Error> {
        let mut packet = BytesMut::new();
        token
            .encode(&mut packet)
            .map_err(pgproto_core::Error::from)?;
        let mut stream: Box<dyn Stream> = if host.starts_with('/') {
            let path = format!("{host}/.s.PGSQL.{port}");
            Box::new(async_net::unix::UnixStream::connect(path).await?)
        } else {
            Box::new(async_net::TcpStream::connect((host, port)).await?)
        };
        stream.write_all(&packet).await?;
        stream.flush().await?;
        // The server closes the connection without answering.
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
        Ok(())
    }

    /// The next notification (LISTEN/NOTIFY), oldest first; `None` once the connection
    /// has ended and none is left. Up to
    /// [`DEFAULT_ASYNC_MESSAGE_CAPACITY`](pgproto_core::client::DEFAULT_ASYNC_MESSAGE_CAPACITY)
    /// wait to be taken; newer ones are dropped and counted
    /// ([`Client::dropped_notifications`]).
    pub async fn notification(&self) -> Option<Notification> {
        std::future::poll_fn(|cx| self.info.shared.poll_notification(cx)).await
    }

    /// The next notice (NoticeResponse: a warning or information from the server,
    /// such as `RAISE NOTICE`), oldest first; `None` once the connection has ended and
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

    /// The key for cancelling this connection's running query.
    pub fn cancel_token(&self) -> Option<&CancelToken> {
        self.info.cancel_token.as_ref()
    }

    /// The latest value the server reported for a run-time parameter (at startup, and
    /// ParameterStatus after `SET` and the like): `server_version`, `TimeZone`, ...
    pub fn parameter(&self, name: &str) -> Option<String> {
        self.info.shared.parameter(name)
    }

    /// The protocol version in use (3.2, or what the server negotiated down to).
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.info.protocol_version
    }

    /// How the server authenticated this connection (`None`: trust).
    pub fn auth_method(&self) -> Option<AuthMethod> {
        self.info.auth_method
    }

    /// Whether SCRAM-SHA-256-PLUS bound the authentication to the TLS channel.
    pub fn used_channel_binding(&self) -> bool {
        self.info.channel_binding
    }

    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        self.info.tls
    }

    /// The transaction status after the last completed request.
    pub fn transaction_status(&self) -> TransactionStatus {
        self.info.shared.transaction_status()
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        self.commands.is_closed()
    }

    /// Closes the connection gracefully: the connection answers the requests already
    /// submitted, sends Terminate and ends. Waits for that; the [`Connection`] must be
    /// polled meanwhile. Fails with [`Error::ConnectionClosed`] if the connection had
    /// already failed or was dropped.
    pub async fn close(self) -> Result<(), Error> {
        drop(self.commands);
        match self.ended.await {
            Ok(true) => Ok(()),
            Ok(false) | Err(_) => Err(Error::ConnectionClosed),
        }
    }
}

/// Reads the replies of a COPY statement up to its CopyInResponse / CopyOutResponse
/// (`want` tells which); an error or another outcome ends the operation.
async fn copy_started(
    rx: &async_channel::Receiver<Reply>,
    want: fn(&Response) -> bool,
    what: &'static str,
) -> Result<(), Error> {
    let mut error = None;
    loop {
        match rx.recv().await {
            Ok(Reply::Response(r)) if want(&r) => return Ok(()),
            Ok(Reply::Response(Response::Error(e))) => error = Some(e),
            Ok(Reply::Response(_)) => {}
            Ok(Reply::Done) => {
                return Err(error.map_or(Error::Unsupported(what), Error::Db));
            }
            Ok(Reply::Failed(e)) => return Err(e.into()),
            Err(_) => return Err(Error::ConnectionClosed),
        }
    }
}

/// Reads the rest of a COPY statement's replies: its row count, or its error.
async fn copy_finished(rx: &async_channel::Receiver<Reply>) -> Result<u64, Error> {
    let mut rows = 0;
    let mut error = None;
    loop {
        match rx.recv().await {
            Ok(Reply::Response(Response::CommandComplete(tag))) => rows = tag.rows().unwrap_or(0),
            Ok(Reply::Response(Response::Error(e))) if error.is_none() => error = Some(e),
            Ok(Reply::Response(_)) => {}
            Ok(Reply::Done) => return error.map_or(Ok(rows), |e| Err(Error::Db(e))),
            Ok(Reply::Failed(e)) => return Err(e.into()),
            Err(_) => return Err(Error::ConnectionClosed),
        }
    }
}

impl Client {
    /// Starts `COPY ... FROM STDIN`: send data with [`CopyIn::send`], then
    /// [`CopyIn::finish`] (or [`CopyIn::abort`]). Sending waits while more than 1 MiB
    /// is waiting to be written, so any amount streams in bounded memory. Other calls
    /// on this client wait until the COPY ends; dropping the [`CopyIn`] unfinished
    /// aborts it.
    pub async fn copy_in(&self, sql: &str) -> Result<CopyIn<'_>, Error> {
        let exclusive = self.gate.write().await;
        let sql = sql.to_string();
        let rx = self.send(Box::new(move |core| {
            let id = core.query(&sql)?;
            Ok((id, id))
        }))?;
        copy_started(
            &rx,
            |r| matches!(r, Response::CopyIn(_)),
            "the statement did not start COPY FROM STDIN",
        )
        .await?;
        Ok(CopyIn {
            client: self,
            rx,
            done: false,
            _exclusive: exclusive,
        })
    }

    /// Runs `COPY ... TO STDOUT` and returns its data as a stream of chunks (one row per
    /// chunk, as PostgreSQL sends them). A slow reader makes the connection stop reading
    /// the socket, so any amount streams in bounded memory.
    pub async fn copy_out(&self, sql: &str) -> Result<CopyOut, Error> {
        let sql = sql.to_string();
        let (replies, rx) = async_channel::bounded(COPY_OUT_CAPACITY);
        {
            let _shared = self.gate.read().await;
            self.send_to(
                Box::new(move |core| {
                    let id = core.query(&sql)?;
                    Ok((id, id))
                }),
                replies,
            )?;
        }
        copy_started(
            &rx,
            |r| matches!(r, Response::CopyOut(_)),
            "the statement did not start COPY TO STDOUT",
        )
        .await?;
        Ok(CopyOut {
            rx: Box::pin(rx),
            rows: None,
            error: None,
            done: false,
        })
    }

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

/// An open `COPY FROM STDIN` ([`Client::copy_in`]). Dropping it unfinished aborts the
/// COPY.
#[derive(Debug)]
pub struct CopyIn<'a> {
    client: &'a Client,
    rx: async_channel::Receiver<Reply>,
    done: bool,
    // No other request may come between the COPY's messages.
    _exclusive: async_lock::RwLockWriteGuard<'a, ()>,
}

impl CopyIn<'_> {
    /// Sends a chunk of COPY data (any split; rows may span chunks). Fails with the
    /// server's error if it already ended the COPY (bad data).
    pub async fn send(&mut self, data: impl Into<bytes::Bytes>) -> Result<(), Error> {
        match self.client.copy_step(CopyAction::Data(data.into())).await {
            Ok(()) => Ok(()),
            Err(e) => Err(self.refused(e).await),
        }
    }

    /// Ends the COPY; returns the number of rows copied.
    pub async fn finish(mut self) -> Result<u64, Error> {
        self.done = true;
        if let Err(e) = self.client.copy_step(CopyAction::Done).await {
            return Err(self.refused(e).await);
        }
        copy_finished(&self.rx).await
    }

    /// Aborts the COPY (CopyFail): the server rolls the statement back and reports
    /// `message` in its error, which is returned here (SQLSTATE 57014). If the server
    /// had already ended the COPY with an error, that error is returned.
    pub async fn abort(mut self, message: &str) -> Result<Box<DbError>, Error> {
        self.done = true;
        let result = match self
            .client
            .copy_step(CopyAction::Fail(message.to_string()))
            .await
        {
            Ok(()) => copy_finished(&self.rx).await,
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
    async fn refused(&self, step: Error) -> Error {
        let server_ended_copy = matches!(
            step,
            Error::Protocol(pgproto_core::Error::Usage(UsageError::NotCopying))
        );
        if server_ended_copy || step.is_connection_lost() {
            if let Err(e) = copy_finished(&self.rx).await {
                if e.as_db_error().is_some() {
                    return e;
                }
            }
        }
        step
    }
}

impl Drop for CopyIn<'_> {
    fn drop(&mut self) {
        if !self.done {
            // Queued before the gate opens, so it precedes any other request.
            let (ack, _) = oneshot::channel();
            let _ = self.client.commands.unbounded_send(Op::Copy {
                action: CopyAction::Fail("COPY abandoned".to_string()),
                ack,
            });
        }
    }
}

/// The data of a `COPY TO STDOUT` ([`Client::copy_out`]): a
/// [`Stream`](futures_lite::Stream) of chunks, also read with [`CopyOut::next`].
#[derive(Debug)]
pub struct CopyOut {
    // Pinned: a receiver waiting for a message is not `Unpin`.
    rx: Pin<Box<async_channel::Receiver<Reply>>>,
    rows: Option<u64>,
    error: Option<Box<DbError>>,
    done: bool,
}

impl CopyOut {
    /// The next chunk; `None` at the end (then [`CopyOut::rows`] is known). An error
    /// (after the rest of the statement's responses) ends the stream.
    pub async fn next(&mut self) -> Option<Result<bytes::Bytes, Error>> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<bytes::Bytes, Error>>> {
        loop {
            if self.done {
                return Poll::Ready(self.error.take().map(|e| Err(Error::Db(e))));
            }
            let reply = match self.rx.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(r) => r,
            };
            match reply {
                Some(Reply::Response(Response::CopyData(d))) => return Poll::Ready(Some(Ok(d))),
                Some(Reply::Response(Response::CommandComplete(tag))) => self.rows = tag.rows(),
                Some(Reply::Response(Response::Error(e))) => {
                    self.error.get_or_insert(e);
                }
                Some(Reply::Response(_)) => {}
                Some(Reply::Done) => self.done = true,
                Some(Reply::Failed(e)) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(e.into())));
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

/// The rows of [`Client::query_stream`], as they arrive; also a `Stream`.
#[derive(Debug)]
pub struct RowStream {
    // Pinned: a receiver waiting for a message is not `Unpin`.
    rx: Pin<Box<async_channel::Receiver<Reply>>>,
    rows: StreamedRows,
    done: bool,
}

impl RowStream {
    /// The next row; `None` at the end. An error ends the stream.
    pub async fn next(&mut self) -> Option<Result<Row, Error>> {
        std::future::poll_fn(|cx| self.poll_row(cx)).await
    }

    fn poll_row(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Row, Error>>> {
        loop {
            if self.done {
                return Poll::Ready(self.rows.take_error().map(|e| Err(Error::Db(e))));
            }
            let reply = match self.rx.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(r) => r,
            };
            match reply {
                Some(Reply::Response(response)) => {
                    if let Some(row) = self.rows.accept(response) {
                        return Poll::Ready(Some(Ok(row)));
                    }
                }
                Some(Reply::Done) => self.done = true,
                Some(Reply::Failed(e)) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(e.into())));
                }
                None => {
                    self.done = true;
                    return Poll::Ready(Some(Err(Error::ConnectionClosed)));
                }
            }
        }
    }
}

impl futures_lite::Stream for RowStream {
    type Item = Result<Row, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_row(cx)
    }
}

impl futures_lite::Stream for CopyOut {
    type Item = Result<bytes::Bytes, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_chunk(cx)
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
            let _ = self.client.send(Box::new(move |core| {
                let id = core.query(&sql)?;
                Ok((id, id))
            }));
        }
    }
}

/// The client side of a portal read in batches: holds the gate, and sends the Sync
/// if the read is abandoned (its future dropped) before it did.
struct Portal<'a> {
    client: &'a Client,
    synced: bool,
    // Released after `drop` has queued the Sync.
    _exclusive: async_lock::RwLockWriteGuard<'a, ()>,
}

impl Portal<'_> {
    fn send_sync(&mut self) -> Result<async_channel::Receiver<Reply>, Error> {
        self.synced = true;
        self.client.send(Box::new(|core| {
            let id = core.sync()?;
            Ok((id, id))
        }))
    }

    async fn sync(&mut self) -> Result<(), Error> {
        let rx = self.send_sync()?;
        Client::receive(rx, ResultCollector::new(None), |_| {})
            .await?
            .finish()?;
        Ok(())
    }
}

impl Drop for Portal<'_> {
    fn drop(&mut self) {
        if !self.synced {
            let _ = self.send_sync();
        }
    }
}

/// Hands a response (and the end of its operation) to a waiter. A full (bounded)
/// channel returns a future that delivers them when there is room; the connection reads
/// nothing until it completes.
fn deliver(
    replies: &async_channel::Sender<Reply>,
    response: Response,
    done: bool,
) -> Option<Pin<Box<dyn Future<Output = ()> + Send>>> {
    let rest = match replies.try_send(Reply::Response(response)) {
        Ok(()) if !done => return None,
        Ok(()) => match replies.try_send(Reply::Done) {
            Err(async_channel::TrySendError::Full(r)) => [Some(r), None],
            _ => return None,
        },
        Err(async_channel::TrySendError::Full(r)) => [Some(r), done.then_some(Reply::Done)],
        // The caller is gone: nothing to deliver.
        Err(async_channel::TrySendError::Closed(_)) => return None,
    };
    let replies = replies.clone();
    Some(Box::pin(async move {
        for reply in rest.into_iter().flatten() {
            if replies.send(reply).await.is_err() {
                return;
            }
        }
    }))
}

fn encode(params: &[&(dyn ToSql + Sync)], types: &[Oid]) -> Result<EncodedParams, Error> {
    Ok(EncodedParams::encode_sync(params, types)?)
}

/// The TLS configuration and the name to verify, when TLS is requested.
type Tls = (
    Arc<rustls::ClientConfig>,
    rustls::pki_types::ServerName<'static>,
);

/// Reads and writes; boxed so TCP, Unix sockets and TLS share one connection type.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// The I/O half of a [`Client`]: a future that owns the socket and the core, writes what
/// the client's calls produce and routes responses back to them.
///
/// Spawn it on any executor (`async_std::task::spawn(connection)`,
/// `smol::spawn(connection).detach()`) or await it alongside your own work. It completes
/// with `Ok(())` once every [`Client`] handle is gone (or [`Client::close`] was called)
/// and the pending requests are answered, and with an error when the connection fails;
/// requests in flight then fail with that error.
#[must_use = "requests make progress only while the Connection is polled"]
pub struct Connection {
    stream: Box<dyn Stream>,
    core: Core,
    commands: mpsc::UnboundedReceiver<Op>,
    commands_open: bool,
    routes: Router<Waiter>,
    shared: Arc<SharedAsyncMessages>,
    read_buf: Vec<u8>,
    /// Bytes taken from the core and not yet written.
    out: BytesMut,
    needs_flush: bool,
    /// Terminate was queued: write it, close the socket, end.
    terminating: bool,
    /// COPY FROM STDIN steps waiting for the output to shrink.
    copy_acks: Vec<oneshot::Sender<Result<(), pgproto_core::Error>>>,
    /// Replies waiting for room in a bounded reader (COPY TO STDOUT); no socket reads
    /// until they are delivered.
    blocked: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    ended: Option<oneshot::Sender<bool>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("core", &self.core)
            .field("unsent", &self.out.len())
            .field("terminating", &self.terminating)
            .finish_non_exhaustive()
    }
}

impl Future for Connection {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.ended.is_none() {
            // Polled after completion.
            return Poll::Ready(Err(Error::ConnectionClosed));
        }
        let result = match this.drive(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        if let Err(e) = &result {
            let e = match e {
                Error::Protocol(e) => e.clone(),
                _ => pgproto_core::Error::Closed,
            };
            this.fail_all(&e);
        }
        // Wake `notification()`, `close()` and queued callers now rather than when the
        // future is dropped.
        this.shared.close();
        this.commands.close();
        while let Ok(op) = this.commands.try_recv() {
            match op {
                Op::Submit(command) => {
                    let _ = command
                        .replies
                        .try_send(Reply::Failed(pgproto_core::Error::Closed));
                }
                Op::Copy { ack, .. } => {
                    let _ = ack.send(Err(pgproto_core::Error::Closed));
                }
            }
        }
        for ack in this.copy_acks.drain(..) {
            let _ = ack.send(Err(pgproto_core::Error::Closed));
        }
        if let Some(ended) = this.ended.take() {
            let _ = ended.send(result.is_ok());
        }
        Poll::Ready(result)
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Dropped mid-flight: callers get an error rather than a truncated result, and
        // whoever waits for a notice or notification gets `None`.
        self.fail_all(&pgproto_core::Error::Closed);
        self.shared.close();
    }
}

impl Connection {
    /// One poll: take commands, route events, write, read; until nothing moves.
    fn drive(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        for _ in 0..POLL_BUDGET {
            let mut progress = false;
            if !self.terminating {
                while self.commands_open {
                    match self.commands.poll_next(cx) {
                        Poll::Ready(Some(Op::Submit(command))) => {
                            self.submit(command);
                            progress = true;
                        }
                        Poll::Ready(Some(Op::Copy { action, ack })) => {
                            let result = match action {
                                CopyAction::Data(data) => self.core.copy_data(&data),
                                CopyAction::Done => self.core.copy_done(),
                                CopyAction::Fail(message) => self.core.copy_fail(&message),
                            };
                            match result {
                                Ok(()) => self.copy_acks.push(ack),
                                Err(e) => {
                                    let _ = ack.send(Err(e));
                                }
                            }
                            progress = true;
                        }
                        Poll::Ready(None) => {
                            self.commands_open = false;
                            progress = true;
                        }
                        Poll::Pending => break,
                    }
                }
                if let Some(blocked) = &mut self.blocked {
                    if blocked.as_mut().poll(cx).is_ready() {
                        self.blocked = None;
                        progress = true;
                    }
                }
                if self.blocked.is_none() {
                    if let Err(e) = self.route_events(cx) {
                        return Poll::Ready(Err(e));
                    }
                    // A reader just filled up: poll the delivery in the next round, so
                    // that it registers for the reader's wake-up.
                    progress |= self.blocked.is_some();
                }
                if !self.commands_open && self.routes.is_empty() {
                    self.core.terminate();
                    self.terminating = true;
                }
            }
            match self.poll_write(cx) {
                Ok(wrote) => progress |= wrote,
                Err(e) => return Poll::Ready(Err(e)),
            }
            // Release COPY writers once the data waiting to be written is small again.
            if !self.copy_acks.is_empty()
                && self.out.len() + self.core.pending_output_len() < COPY_BUFFER
            {
                for ack in self.copy_acks.drain(..) {
                    let _ = ack.send(Ok(()));
                }
            }
            if self.terminating {
                if !self.out.is_empty() || self.needs_flush {
                    // poll_write registered the waker.
                    return Poll::Pending;
                }
                return Pin::new(&mut self.stream).poll_close(cx).map(|_| Ok(()));
            }
            if self.blocked.is_some() {
                // A reader is behind: read no more until it catches up (backpressure
                // through the socket to the server).
                if !progress {
                    return Poll::Pending;
                }
                continue;
            }
            match Pin::new(&mut self.stream).poll_read(cx, &mut self.read_buf) {
                Poll::Ready(Ok(0)) => {
                    self.core.handle_eof();
                    let e = self
                        .core
                        .error()
                        .cloned()
                        .unwrap_or(pgproto_core::Error::Closed);
                    return Poll::Ready(Err(e.into()));
                }
                Poll::Ready(Ok(n)) => {
                    if let Some(data) = self.read_buf.get(..n) {
                        self.core.handle_input(data);
                    }
                    progress = true;
                }
                Poll::Ready(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                    progress = true;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                Poll::Pending => {}
            }
            if !progress {
                return Poll::Pending;
            }
        }
        // Budget spent with work left: yield, and come back at once.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Issues a caller's commands on the core.
    fn submit(&mut self, command: Command) {
        match (command.build)(&mut self.core) {
            Ok((first, last)) => self.routes.add(
                first,
                last,
                Waiter {
                    replies: command.replies,
                },
            ),
            Err(e) => {
                let _ = command.replies.try_send(Reply::Failed(e));
            }
        }
    }

    /// Routes every event the buffered input produces. A core error ends the connection.
    fn route_events(&mut self, cx: &mut Context<'_>) -> Result<(), Error> {
        loop {
            match self.core.poll_event() {
                Ok(Some(event)) => {
                    // Notices, notifications, parameters and the transaction status go
                    // to the shared state; responses to their waiters.
                    let Some(Event::Response {
                        request,
                        response,
                        complete,
                    }) = self.shared.record(event)
                    else {
                        continue;
                    };
                    let mut blocked = None;
                    self.routes.dispatch(request, complete, |waiter, done| {
                        blocked = deliver(&waiter.replies, response, done);
                    });
                    if blocked.is_some() {
                        self.blocked = blocked;
                        return Ok(());
                    }
                }
                Ok(None) => return Ok(()),
                Err(e) => {
                    // Best effort: whatever the core queued on its way out.
                    let _ = self.poll_write(cx);
                    return Err(e.into());
                }
            }
        }
    }

    /// Writes what the core has queued; returns whether any byte moved.
    /// Registers the waker when the socket is not ready.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Result<bool, Error> {
        self.core.transmit_into(&mut self.out);
        let mut wrote = false;
        while !self.out.is_empty() {
            match Pin::new(&mut self.stream).poll_write(cx, &self.out) {
                Poll::Ready(Ok(0)) => return Err(Error::Io(std::io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.out.advance(n);
                    self.needs_flush = true;
                    wrote = true;
                }
                Poll::Ready(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Err(e.into()),
                Poll::Pending => return Ok(wrote),
            }
        }
        if self.needs_flush {
            match Pin::new(&mut self.stream).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.needs_flush = false,
                Poll::Ready(Err(e)) => return Err(e.into()),
                Poll::Pending => {}
            }
        }
        Ok(wrote)
    }

    /// Fails every caller still waiting.
    fn fail_all(&mut self, error: &pgproto_core::Error) {
        for waiter in self.routes.drain() {
            let _ = waiter.replies.try_send(Reply::Failed(error.clone()));
        }
    }
}
