//! The async client: a [`Client`] handle that sends work to a [`Connection`] future,
//! which owns the socket and the core state machine and routes responses back.
//!
//! The connection is a hand-written future rather than a task, so that no executor is
//! assumed: the runtime adapter spawns it (tokio) or hands it to the caller. It reads
//! and writes at the same time, so a long pipeline never deadlocks against a server that
//! is busy sending results. A caller that wants a whole result has it collected by the
//! connection and handed over once; a caller that reads as rows come (streams, COPY)
//! gets them in batches, one channel message per read rather than per row.

use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures_channel::{mpsc, oneshot};
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use futures_lite::StreamExt;
use pgproto_core::adapter::SharedAsyncMessages;
use pgproto_core::cancel::CancelToken;
use pgproto_core::client::{
    exactly_one, transaction_statements, AuthMethod, Client as Core, CopyDirection, CopyEnd,
    CopyStart, CopyStartProgress, EncodedParams, Event, FunctionCallResult, Notification, Phase,
    PortalBatches, RequestId, Response, ResultCollector, ResultSet, Router, Row, Statement,
    StreamedRows, TransactionOptions, TransactionStatements,
};
use pgproto_core::db_error::DbError;
use pgproto_core::message::{Format, FunctionCall, List, Oid, ProtocolVersion, TransactionStatus};
use pgproto_core::types::ToSql;
use pgproto_core::UsageError;

use crate::connect::{self, Canceller, Target, Tls};
use crate::runtime::{timeout_at, BoxStream, ConnectClock, Runtime};
use crate::Error;
use pgproto_core::client::StartupStep;

/// Size of the read buffer and of one read from the socket.
const READ_SIZE: usize = 64 * 1024;

/// Rounds of reading and writing one poll of [`Connection`] may do before it yields to
/// the executor, so that a busy connection does not starve other tasks.
const POLL_BUDGET: usize = 32;

/// How many bytes of COPY data may wait to be written before [`CopyIn::send`] waits.
const COPY_BUFFER: usize = 1 << 20;

/// How many batches a reader that takes rows as they come (streams, COPY TO STDOUT) may
/// have waiting before the connection stops reading the socket.
const READER_CAPACITY: usize = 256;

/// Most responses handed to a reader in one channel message.
const BATCH: usize = 256;

/// Work for the connection: issue commands on the core, returning the range of request
/// ids they created.
type Submit =
    Box<dyn FnOnce(&mut Core) -> Result<(RequestId, RequestId), pgproto_core::Error> + Send>;

/// What a [`Client`] asks of its [`Connection`].
enum Op {
    /// Issue commands and route their responses to the waiter.
    Submit(Submit, Waiter),
    /// COPY FROM STDIN data (or its end); acknowledged once the output waiting to be
    /// written is small again (so a fast sender cannot fill memory).
    Copy {
        action: CopyAction,
        ack: oneshot::Sender<Result<(), pgproto_core::Error>>,
    },
}

/// A step of COPY FROM STDIN.
enum CopyAction {
    Data(Bytes),
    Done,
    Fail(String),
}

/// Who waits for an operation's responses.
enum Waiter {
    /// A caller reading responses as they come (streams, COPY, portals).
    Stream(async_channel::Sender<Batch>),
    /// A caller that wants the whole result: the connection collects it and hands it
    /// over once, without a channel message per row.
    Collect(
        ResultCollector,
        oneshot::Sender<Result<ResultCollector, pgproto_core::Error>>,
    ),
}

impl Waiter {
    fn fail(self, error: pgproto_core::Error) {
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

/// What the connection sends a reader: the responses one read produced.
#[derive(Debug)]
enum Batch {
    /// Responses; `true` when the last one ends the operation.
    Responses(Vec<Response>, bool),
    /// The commands were refused, or the connection failed before the operation ended.
    Failed(pgproto_core::Error),
}

/// What a reader takes: one response at a time.
#[derive(Debug)]
enum Delivery {
    /// A response; `true` when it is the operation's last.
    Response(Response, bool),
    /// See [`Batch::Failed`].
    Failed(Error),
}

/// The receiving side of an operation: unpacks batches into single responses.
#[derive(Debug)]
struct Responses {
    // Pinned: a receiver waiting for a message is not `Unpin`.
    rx: Pin<Box<async_channel::Receiver<Batch>>>,
    buffered: VecDeque<Response>,
    ends_operation: bool,
}

impl Responses {
    /// The next response; `None` when the connection went away before answering.
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        loop {
            if let Some(r) = self.buffered.pop_front() {
                let last = self.buffered.is_empty() && self.ends_operation;
                return Poll::Ready(Some(Delivery::Response(r, last)));
            }
            match self.rx.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Batch::Responses(batch, ends))) => {
                    self.buffered.extend(batch);
                    self.ends_operation = ends;
                }
                Poll::Ready(Some(Batch::Failed(e))) => {
                    return Poll::Ready(Some(Delivery::Failed(e.into())))
                }
                Poll::Ready(None) => return Poll::Ready(None),
            }
        }
    }

    async fn recv(&mut self) -> Option<Delivery> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Feeds the responses to `collector` (and to `inspect`) until the operation's last.
    async fn collect(
        mut self,
        mut collector: ResultCollector,
        mut inspect: impl FnMut(&Response),
    ) -> Result<ResultCollector, Error> {
        loop {
            match self.recv().await {
                Some(Delivery::Response(r, last)) => {
                    inspect(&r);
                    collector.push(r);
                    if last {
                        return Ok(collector);
                    }
                }
                Some(Delivery::Failed(e)) => return Err(e),
                // The connection went away before answering (dropped, or never polled).
                None => return Err(Error::ConnectionClosed),
            }
        }
    }
}

/// Connection state visible to the handle.
#[derive(Debug, Clone)]
struct Info {
    cancel_token: Option<CancelToken>,
    protocol_version: ProtocolVersion,
    auth_method: Option<AuthMethod>,
    channel_binding: bool,
    tls: bool,
    /// Where the connection went (for cancel requests).
    host: String,
    port: u16,
    /// Parameters, notices, notifications and the transaction status, kept up to date
    /// by the connection.
    shared: Arc<SharedAsyncMessages>,
}

/// An async connection to PostgreSQL. Every method takes `&self`: share it by reference
/// across tasks, and concurrent calls are pipelined on the one connection.
///
/// Requests make progress only while its [`Connection`] is being polled (the tokio
/// adapter spawns it; the executor-agnostic one hands it to you).
pub struct Client<R> {
    commands: mpsc::UnboundedSender<Op>,
    info: Info,
    /// Resolves when the connection ends: `true` after a graceful Terminate.
    ended: oneshot::Receiver<bool>,
    /// Held shared while submitting, exclusively while a portal is read in batches or a
    /// COPY FROM STDIN is open (no other request may come in between).
    gate: async_lock::RwLock<()>,
    /// Numbers the prepared statements' names.
    statements: AtomicU64,
    runtime: PhantomData<fn() -> R>,
}

impl<R> std::fmt::Debug for Client<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> Client<R> {
    /// Connects with a libpq-style URL or `key=value` string, completed by the `PG*`
    /// environment variables and the password file; hosts are tried in order.
    /// `connect_timeout` bounds each host's attempt.
    ///
    /// The tokio adapter spawns the [`Connection`] and returns the client; the
    /// executor-agnostic adapter returns both, and the connection must be spawned (or
    /// polled next to the client), else requests never complete.
    pub async fn connect(conninfo: &str) -> Result<R::Connected, Error> {
        let mut last_error = None;
        for target in connect::targets(conninfo)? {
            match Self::connect_target(&target).await {
                Ok((client, connection)) => return Ok(R::connected(client, connection)),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(connect::no_host))
    }

    async fn connect_target(target: &Target) -> Result<(Self, Connection), Error> {
        let mut core = target.core()?;
        // The core keeps connect_timeout: its clock starts before the socket opens, and
        // every wait below ends at its deadline.
        let clock = ConnectClock::start(&mut core);
        let until = clock.deadline(&core);
        let stream = timeout_at::<R, _>(until, async {
            Ok(match target.unix_path() {
                Some(path) => R::connect_unix(&path).await?,
                None => R::connect_tcp(&target.host, target.port).await?,
            })
        });
        let stream = clock.check(&mut core, stream.await)?;
        Self::start(stream, core, target, clock).await
    }

    /// Runs startup and authentication, then splits into handle and connection.
    async fn start(
        mut stream: BoxStream,
        mut core: Core,
        target: &Target,
        clock: ConnectClock,
    ) -> Result<(Self, Connection), Error> {
        let mut buf = vec![0u8; READ_SIZE];
        let tls = target.tls.as_ref();
        if core.phase() == Phase::TlsHandshake {
            // sslnegotiation=direct: TLS before anything else.
            let until = clock.deadline(&core);
            let upgraded = timeout_at::<R, _>(until, upgrade(stream, &mut core, tls)).await;
            stream = clock.check(&mut core, upgraded)?;
        }
        // Output left queued at Ready is written by the connection.
        loop {
            match core.poll_startup()? {
                StartupStep::Ready => break,
                StartupStep::StartTls => {
                    let until = clock.deadline(&core);
                    let upgraded = timeout_at::<R, _>(until, upgrade(stream, &mut core, tls)).await;
                    stream = clock.check(&mut core, upgraded)?;
                }
                StartupStep::Io => {
                    let until = clock.deadline(&core);
                    let io = async {
                        while let Some(bytes) = core.poll_transmit() {
                            stream.write_all(&bytes).await?;
                        }
                        stream.flush().await?;
                        Ok(stream.read(&mut buf).await?)
                    };
                    let read = timeout_at::<R, _>(until, io).await;
                    let n = clock.check(&mut core, read)?;
                    match buf.get(..n) {
                        Some(data) if n > 0 => core.handle_input(data),
                        _ => core.handle_eof(),
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
            host: target.host.clone(),
            port: target.port,
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
            batch: Vec::new(),
            batch_to: None,
            blocked: None,
            ended: Some(ended_tx),
        };
        let client = Self {
            commands,
            info,
            ended,
            gate: async_lock::RwLock::new(()),
            statements: AtomicU64::new(0),
            runtime: PhantomData,
        };
        Ok((client, connection))
    }

    /// Asks the server to cancel the query running on this connection: a CancelRequest
    /// on a new connection to the same host. The server answers by closing; whether a
    /// query was cancelled shows as that query's error (SQLSTATE 57014).
    pub async fn cancel(&self) -> Result<(), Error> {
        Self::cancel_with(&self.canceller()?).await
    }

    /// Sends the CancelRequest `canceller` describes (a [`Client::canceller`], or a key
    /// and an address from elsewhere): the running query of the connection its key
    /// belongs to is cancelled.
    pub async fn cancel_with(canceller: &Canceller) -> Result<(), Error> {
        let packet = connect::cancel_packet(&canceller.token)?;
        let mut stream = match connect::unix_path(&canceller.host, canceller.port) {
            Some(path) => R::connect_unix(&path).await?,
            None => R::connect_tcp(&canceller.host, canceller.port).await?,
        };
        stream.write_all(&packet).await?;
        stream.flush().await?;
        // The server closes the connection without answering.
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
        Ok(())
    }
}

/// Wraps `stream` in TLS and tells the core, with the channel-binding data.
async fn upgrade(
    stream: BoxStream,
    core: &mut Core,
    tls: Option<&Tls>,
) -> Result<BoxStream, Error> {
    let (config, name) = connect::tls_config(tls)?;
    let stream = futures_rustls::TlsConnector::from(config.clone())
        .connect(name.clone(), stream)
        .await
        .map_err(Error::tls_handshake)?;
    core.handle_tls_established(connect::channel_binding(
        stream.get_ref().1.peer_certificates(),
    ))?;
    Ok(Box::new(stream))
}

impl<R> Client<R> {
    /// Hands commands to the connection (which issues them in submission order).
    fn submit(&self, build: Submit, waiter: Waiter) -> Result<(), Error> {
        self.commands
            .unbounded_send(Op::Submit(build, waiter))
            .map_err(|_| Error::ConnectionClosed)
    }

    /// Submits commands whose responses are read as they come; `capacity` bounds how
    /// many batches may wait (none: unbounded). The caller must hold the gate.
    fn send(&self, build: Submit, capacity: Option<usize>) -> Result<Responses, Error> {
        let (tx, rx) = match capacity {
            Some(n) => async_channel::bounded(n),
            None => async_channel::unbounded(),
        };
        self.submit(build, Waiter::Stream(tx))?;
        Ok(Responses {
            rx: Box::pin(rx),
            buffered: VecDeque::new(),
            ends_operation: false,
        })
    }

    /// Submits commands and has the connection feed their responses to `collector`.
    async fn collect_into(
        &self,
        build: Submit,
        collector: ResultCollector,
    ) -> Result<ResultCollector, Error> {
        let (tx, rx) = oneshot::channel();
        {
            let _shared = self.gate.read().await;
            self.submit(build, Waiter::Collect(collector, tx))?;
        }
        Ok(rx.await.map_err(|_| Error::ConnectionClosed)??)
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
        self.collect(simple(sql)).await
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
        sets.into_iter().next().ok_or(Error::NoResult)
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
        let sets = self.collect(typed(sql, params)?).await?;
        Ok(sets.into_iter().next().map(|s| s.rows).unwrap_or_default())
    }

    /// The single row `sql` returns; an error if it returns none or several.
    pub async fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, Error> {
        Ok(exactly_one(self.query(sql, params).await?)?)
    }

    /// Runs a statement with typed parameters; returns the number of rows it affected.
    pub async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, Error> {
        let sets = self.collect(typed(sql, params)?).await?;
        Ok(sets.first().map_or(0, ResultSet::rows_affected))
    }

    /// Calls a function by OID with the function-call sub-protocol; returns its result
    /// (`None` for NULL) in `result_format`.
    pub async fn function_call(
        &self,
        function_oid: Oid,
        args: &[Option<&[u8]>],
        arg_format: Format,
        result_format: Format,
    ) -> Result<Option<Bytes>, Error> {
        let args: Vec<Option<Vec<u8>>> = args.iter().map(|a| a.map(<[u8]>::to_vec)).collect();
        let mut rx = {
            let _shared = self.gate.read().await;
            self.send(
                Box::new(move |core| {
                    let values: Vec<Option<&[u8]>> = args.iter().map(|a| a.as_deref()).collect();
                    let id = core.function_call(&FunctionCall {
                        function_oid,
                        arg_formats: List::new(&[arg_format]),
                        args: List::new(&values),
                        result_format,
                    })?;
                    Ok((id, id))
                }),
                None,
            )?
        };
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

    /// Runs `sql` with typed parameters and returns its rows as a stream: rows are
    /// handed over as they arrive, and a slow reader makes the connection stop reading
    /// the socket, so a result of any size runs in bounded memory. Other calls on this
    /// client are answered after the stream's statement (responses come in order).
    pub async fn query_stream(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<RowStream, Error> {
        let build = typed(sql, params)?;
        let rx = {
            let _shared = self.gate.read().await;
            self.send(build, Some(READER_CAPACITY))?
        };
        Ok(RowStream {
            rx,
            rows: StreamedRows::default(),
            done: false,
        })
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
        let params = EncodedParams::encode_sync(params, &statement.param_types)?;
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
        let params = EncodedParams::encode_sync(params, &statement.param_types)?;
        let mut portal = Portal {
            client: self,
            synced: false,
            _exclusive: self.gate.write().await,
        };
        let st = statement.clone();
        let mut build: Submit =
            Box::new(move |core| PortalBatches::first_batch(core, &st, &params, batch));
        let mut batches = PortalBatches::new(batch);
        let mut total = 0u64;
        let read = loop {
            let collected = match self.send(build, None) {
                Ok(rx) => {
                    rx.collect(ResultCollector::new(Some(statement.columns.clone())), |r| {
                        batches.push(r)
                    })
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
            if !batches.has_more() {
                break Ok(total);
            }
            build = Box::new(move |core| PortalBatches::next_batch(core, batch));
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
                let (tx, rx) = oneshot::channel();
                self.submit(
                    typed(sql, params)?,
                    Waiter::Collect(ResultCollector::new(None), tx),
                )?;
                receivers.push(rx);
            }
        }
        let mut out = Vec::with_capacity(receivers.len());
        for rx in receivers {
            let result = rx.await.map_err(|_| Error::ConnectionClosed)??.finish();
            out.push(match result {
                Ok(sets) => Ok(sets.into_iter().next().map(|s| s.rows).unwrap_or_default()),
                Err(e) => Err(Error::Db(e)),
            });
        }
        Ok(out)
    }

    /// Starts `COPY ... FROM STDIN`: send data with [`CopyIn::send`], then
    /// [`CopyIn::finish`] (or [`CopyIn::abort`]). Sending waits while more than 1 MiB
    /// is waiting to be written, so any amount streams in bounded memory. Other calls
    /// on this client wait until the COPY ends; dropping the [`CopyIn`] unfinished
    /// aborts it.
    pub async fn copy_in(&self, sql: &str) -> Result<CopyIn<'_, R>, Error> {
        let exclusive = self.gate.write().await;
        let mut rx = self.send(simple(sql), None)?;
        copy_started(&mut rx, CopyDirection::In).await?;
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
        let mut rx = {
            let _shared = self.gate.read().await;
            self.send(simple(sql), Some(READER_CAPACITY))?
        };
        copy_started(&mut rx, CopyDirection::Out).await?;
        Ok(CopyOut {
            rx,
            rows: None,
            error: None,
            done: false,
        })
    }

    /// Starts a transaction.
    pub async fn transaction(&self) -> Result<Transaction<'_, R>, Error> {
        self.build_transaction(TransactionOptions::default()).await
    }

    /// Starts a transaction with an isolation level, read-only or deferrable mode.
    pub async fn build_transaction(
        &self,
        options: TransactionOptions,
    ) -> Result<Transaction<'_, R>, Error> {
        Transaction::begin(self, 0, &options).await
    }

    /// Hands a COPY FROM STDIN step to the connection; resolves once it is queued and
    /// the output waiting to be written is below 1 MiB.
    async fn copy_step(&self, action: CopyAction) -> Result<(), Error> {
        let (ack, acked) = oneshot::channel();
        self.commands
            .unbounded_send(Op::Copy { action, ack })
            .map_err(|_| Error::ConnectionClosed)?;
        acked.await.map_err(|_| Error::ConnectionClosed)??;
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
    pub async fn notice(&self) -> Option<DbError> {
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

    /// The cancel key with this connection's address: what a CancelRequest needs.
    pub fn canceller(&self) -> Result<Canceller, Error> {
        Canceller::for_connection(self.cancel_token(), &self.info.host, self.info.port)
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

    /// Asks the connection to end gracefully without waiting: it answers the requests
    /// already submitted, sends Terminate and completes. Later calls fail.
    pub fn start_close(&self) {
        self.commands.close_channel();
    }

    /// Closes the connection gracefully: the connection answers the requests already
    /// submitted, sends Terminate and ends. Waits for that. Fails with
    /// [`Error::ConnectionClosed`] if the connection had already failed or was dropped.
    pub async fn close(self) -> Result<(), Error> {
        drop(self.commands);
        match self.ended.await {
            Ok(true) => Ok(()),
            Ok(false) | Err(_) => Err(Error::ConnectionClosed),
        }
    }
}

/// A simple query's commands.
fn simple(sql: &str) -> Submit {
    let sql = sql.to_string();
    Box::new(move |core| {
        let id = core.query(&sql)?;
        Ok((id, id))
    })
}

/// The commands of `sql` with typed parameters (Parse, Bind, Describe, Execute, Sync).
fn typed(sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Submit, Error> {
    let params = EncodedParams::encode_sync(params, &[])?;
    let sql = sql.to_string();
    Ok(Box::new(move |core| core.query_encoded(&sql, &params)))
}

/// Reads a COPY statement's responses until the core's [`CopyStart`] says the COPY
/// started: the statement's error, or [`Error::CopyNotStarted`] when it ended without.
async fn copy_started(rx: &mut Responses, direction: CopyDirection) -> Result<(), Error> {
    let mut start = CopyStart::new(direction);
    loop {
        match rx.recv().await {
            Some(Delivery::Response(r, last)) => match start.push(r, last) {
                CopyStartProgress::Started => return Ok(()),
                CopyStartProgress::Pending => {}
                CopyStartProgress::Refused(e) => {
                    return Err(e.map_or(Error::CopyNotStarted(direction), Error::Db))
                }
            },
            Some(Delivery::Failed(e)) => return Err(e),
            None => return Err(Error::ConnectionClosed),
        }
    }
}

/// Reads the rest of a COPY statement's responses: its row count, or its error.
async fn copy_finished(rx: &mut Responses) -> Result<u64, Error> {
    let mut end = CopyEnd::default();
    loop {
        match rx.recv().await {
            Some(Delivery::Response(r, last)) => {
                end.push(r);
                if last {
                    return end.finish().map_err(Error::Db);
                }
            }
            Some(Delivery::Failed(e)) => return Err(e),
            None => return Err(Error::ConnectionClosed),
        }
    }
}

/// An open `COPY FROM STDIN` ([`Client::copy_in`]). Dropping it unfinished aborts the
/// COPY.
pub struct CopyIn<'a, R> {
    client: &'a Client<R>,
    rx: Responses,
    done: bool,
    // No other request may come between the COPY's messages.
    _exclusive: async_lock::RwLockWriteGuard<'a, ()>,
}

impl<R> std::fmt::Debug for CopyIn<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyIn")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R> CopyIn<'_, R> {
    /// Sends a chunk of COPY data (any split; rows may span chunks). Fails with the
    /// server's error if it already ended the COPY (bad data).
    pub async fn send(&mut self, data: impl Into<Bytes>) -> Result<(), Error> {
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
        copy_finished(&mut self.rx).await
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
            Ok(()) => copy_finished(&mut self.rx).await,
            Err(e) => Err(self.refused(e).await),
        };
        match result {
            Err(Error::Db(e)) => Ok(e),
            Err(e) => Err(e),
            Ok(_) => Err(Error::ServerAcceptedAbortedCopy),
        }
    }

    /// The error to report for a COPY step the core refused: when the server already
    /// ended the COPY (an ErrorResponse for bad data arrived first), the server's error;
    /// when the connection is gone, the server's reason if it gave one (a FATAL such as
    /// 57P01 from `pg_terminate_backend`) rather than "closed".
    async fn refused(&mut self, step: Error) -> Error {
        let server_ended_copy = matches!(
            step,
            Error::Protocol(pgproto_core::Error::Usage(UsageError::NotCopying))
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

impl<R> Drop for CopyIn<'_, R> {
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
/// [`Stream`](futures_core::Stream) of chunks, also read with [`CopyOut::next`].
#[derive(Debug)]
pub struct CopyOut {
    rx: Responses,
    rows: Option<u64>,
    error: Option<Box<DbError>>,
    done: bool,
}

impl CopyOut {
    /// The next chunk; `None` at the end (then [`CopyOut::rows`] is known). An error
    /// (after the rest of the statement's responses) ends the stream.
    pub async fn next(&mut self) -> Option<Result<Bytes, Error>> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Error>>> {
        loop {
            if self.done {
                return Poll::Ready(self.error.take().map(|e| Err(Error::Db(e))));
            }
            let (response, last) = match self.rx.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Delivery::Response(r, last))) => (r, last),
                Poll::Ready(other) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(failed(other))));
                }
            };
            self.done = last;
            match response {
                Response::CopyData(d) => return Poll::Ready(Some(Ok(d))),
                Response::CommandComplete(tag) => self.rows = tag.rows(),
                Response::Error(e) => {
                    self.error.get_or_insert(e);
                }
                _ => {}
            }
        }
    }

    /// The number of rows copied, once the stream ended.
    pub fn rows(&self) -> Option<u64> {
        self.rows
    }
}

/// The error of a delivery that is not a response.
fn failed(delivery: Option<Delivery>) -> Error {
    match delivery {
        Some(Delivery::Failed(e)) => e,
        _ => Error::ConnectionClosed,
    }
}

/// The rows of [`Client::query_stream`], as they arrive; also a
/// [`Stream`](futures_core::Stream).
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

    fn poll_row(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Row, Error>>> {
        loop {
            if self.done {
                return Poll::Ready(self.rows.take_error().map(|e| Err(Error::Db(e))));
            }
            match self.rx.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Delivery::Response(response, last))) => {
                    self.done = last;
                    if let Some(row) = self.rows.accept(response) {
                        return Poll::Ready(Some(Ok(row)));
                    }
                }
                Poll::Ready(other) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(failed(other))));
                }
            }
        }
    }
}

impl futures_core::Stream for RowStream {
    type Item = Result<Row, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_row(cx)
    }
}

impl futures_core::Stream for CopyOut {
    type Item = Result<Bytes, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_chunk(cx)
    }
}

/// A transaction (or, nested, a savepoint) on a [`Client`]. Queries go through it (it
/// dereferences to the client). Dropping it without [`Transaction::commit`] rolls it
/// back before the connection's next use.
pub struct Transaction<'a, R> {
    client: &'a Client<R>,
    depth: u32,
    statements: TransactionStatements,
    done: bool,
}

impl<R> std::fmt::Debug for Transaction<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("depth", &self.depth)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<'a, R> Transaction<'a, R> {
    async fn begin(
        client: &'a Client<R>,
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
    pub async fn transaction(&self) -> Result<Transaction<'a, R>, Error> {
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

impl<R> std::ops::Deref for Transaction<'_, R> {
    type Target = Client<R>;
    fn deref(&self) -> &Client<R> {
        self.client
    }
}

impl<R> Drop for Transaction<'_, R> {
    fn drop(&mut self) {
        if !self.done {
            // Queued now, so it runs before whatever the connection does next.
            let _ = self.client.send(simple(&self.statements.rollback), None);
        }
    }
}

/// The client side of a portal read in batches: holds the gate, and sends the Sync
/// if the read is abandoned (its future dropped) before it did.
struct Portal<'a, R> {
    client: &'a Client<R>,
    synced: bool,
    // Released after `drop` has queued the Sync.
    _exclusive: async_lock::RwLockWriteGuard<'a, ()>,
}

impl<R> Portal<'_, R> {
    fn send_sync(&mut self) -> Result<Responses, Error> {
        self.synced = true;
        self.client.send(Box::new(PortalBatches::end), None)
    }

    async fn sync(&mut self) -> Result<(), Error> {
        self.send_sync()?
            .collect(ResultCollector::new(None), |_| {})
            .await?
            .finish()?;
        Ok(())
    }
}

impl<R> Drop for Portal<'_, R> {
    fn drop(&mut self) {
        if !self.synced {
            let _ = self.send_sync();
        }
    }
}

/// The I/O half of a [`Client`]: a future that owns the socket and the core, writes what
/// the client's calls produce and routes responses back to them.
///
/// It completes with `Ok(())` once every [`Client`] handle is gone (or
/// [`Client::close`] was called) and the pending requests are answered, and with an
/// error when the connection fails; requests in flight then fail with that error.
#[must_use = "requests make progress only while the Connection is polled"]
pub struct Connection {
    stream: BoxStream,
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
    /// Responses for one reader, sent as one message.
    batch: Vec<Response>,
    batch_to: Option<async_channel::Sender<Batch>>,
    /// Batches waiting for room in a bounded reader (a stream or COPY TO STDOUT); no
    /// socket reads until they are delivered.
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
                Op::Submit(_, waiter) => waiter.fail(pgproto_core::Error::Closed),
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
                progress |= self.take_commands(cx);
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

    /// Issues every queued command on the core; returns whether there was any.
    fn take_commands(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        while self.commands_open {
            match self.commands.poll_next(cx) {
                Poll::Ready(Some(Op::Submit(build, waiter))) => match build(&mut self.core) {
                    Ok((first, last)) => self.routes.add(first, last, waiter),
                    Err(e) => waiter.fail(e),
                },
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
                }
                Poll::Ready(None) => self.commands_open = false,
                Poll::Pending => break,
            }
            progress = true;
        }
        progress
    }

    /// Routes every event the buffered input produces, until a reader is full. A core
    /// error ends the connection.
    fn route_events(&mut self, cx: &mut Context<'_>) -> Result<(), Error> {
        loop {
            let event = match self.core.poll_event() {
                Ok(Some(event)) => event,
                Ok(None) => {
                    self.send_batch(false);
                    return Ok(());
                }
                Err(e) => {
                    self.send_batch(false);
                    // Best effort: whatever the core queued on its way out.
                    let _ = self.poll_write(cx);
                    return Err(e.into());
                }
            };
            // Notices, notifications, parameters and the transaction status go to the
            // shared state; responses to their waiters.
            let Some(Event::Response {
                request,
                response,
                complete,
            }) = self.shared.record(event)
            else {
                continue;
            };
            let Some((waiter, done)) = self.routes.lookup_mut(request, complete) else {
                continue;
            };
            match waiter {
                Waiter::Collect(collector, _) => {
                    collector.push(response);
                    if done {
                        if let Some(Waiter::Collect(collector, tx)) = self.routes.finish(request) {
                            let _ = tx.send(Ok(collector));
                        }
                    }
                }
                Waiter::Stream(tx) => {
                    // Consecutive responses for one reader go in one message.
                    let other = match &self.batch_to {
                        Some(current) if current.same_channel(tx) => None,
                        _ => Some(tx.clone()),
                    };
                    if let Some(tx) = other {
                        self.send_batch(false);
                        self.batch_to = Some(tx);
                    }
                    self.batch.push(response);
                    if done {
                        self.routes.finish(request);
                        self.send_batch(true);
                    } else if self.batch.len() >= BATCH {
                        self.send_batch(false);
                    }
                    if self.blocked.is_some() {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Hands the responses gathered for one reader over (`ends`: the operation ended).
    /// A full reader gets them when it has room; meanwhile the connection reads nothing.
    fn send_batch(&mut self, ends: bool) {
        let Some(tx) = self.batch_to.take() else {
            return;
        };
        let mut batch = Batch::Responses(std::mem::take(&mut self.batch), ends);
        if self.blocked.is_none() {
            match tx.try_send(batch) {
                Err(async_channel::TrySendError::Full(b)) => batch = b,
                // Sent, or the reader is gone: nothing to deliver.
                _ => return,
            }
        }
        let before = self.blocked.take();
        self.blocked = Some(Box::pin(async move {
            if let Some(before) = before {
                before.await;
            }
            let _ = tx.send(batch).await;
        }));
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

    /// Fails every caller still waiting (after handing over what was gathered).
    fn fail_all(&mut self, error: &pgproto_core::Error) {
        if let Some(tx) = self.batch_to.take() {
            let batch = std::mem::take(&mut self.batch);
            let _ = tx.try_send(Batch::Responses(batch, false));
        }
        for waiter in self.routes.drain() {
            waiter.fail(error.clone());
        }
    }
}
