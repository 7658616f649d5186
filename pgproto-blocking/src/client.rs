//! The blocking client: the driver's async client ([`pgproto_driver::Client`] on the
//! blocking runtime of [`crate::runtime`]) with its [`Connection`] polled on the calling
//! thread while a call waits, as psycopg runs one protocol implementation under many
//! waiters. Nothing runs in the background: between calls the socket is left alone, and
//! whatever arrived meanwhile (notifications, the rest of an abandoned result) is
//! handled during the next call.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use pgproto_core::cancel::CancelToken;
use pgproto_core::client::{
    transaction_statements, AuthMethod, Notification, ResultSet, Row, Statement,
    TransactionOptions, TransactionStatements,
};
use pgproto_core::db_error::DbError;
use pgproto_core::message::{Format, Oid, ProtocolVersion, TransactionStatus};
use pgproto_core::types::ToSql;
use pgproto_driver::{Canceller, Connection};

use crate::runtime::{run, Blocking};
use crate::Error;

type Async = pgproto_driver::Client<Blocking>;

/// The connection future, polled only while a call waits.
#[derive(Debug)]
struct Io {
    connection: Connection,
    /// The connection future completed: never poll it again.
    ended: bool,
}

impl Io {
    /// Runs `future` to completion on this thread, polling the connection meanwhile.
    fn wait<T>(&mut self, future: impl Future<Output = T>) -> T {
        run(future, |cx| {
            // Ending, the connection fails its waiters, which wakes them.
            if !self.ended && Pin::new(&mut self.connection).poll(cx).is_ready() {
                self.ended = true;
            }
        })
    }

    /// Lets the connection finish (after Terminate was asked for).
    fn finish(&mut self) -> Result<(), Error> {
        if std::mem::replace(&mut self.ended, true) {
            return Err(Error::ConnectionClosed);
        }
        run(&mut self.connection, |_| {})
    }
}

/// The blocking methods that run the async client's method of the same name.
macro_rules! blocking {
    ($($(#[$doc:meta])* fn $name:ident(&mut self $(, $arg:ident: $ty:ty)*) -> $out:ty;)*) => {$(
        $(#[$doc])*
        pub fn $name(&mut self $(, $arg: $ty)*) -> $out {
            self.wait(|c| c.$name($($arg),*))
        }
    )*};
}

/// A blocking connection to PostgreSQL.
#[derive(Debug)]
pub struct Client {
    client: Async,
    io: Io,
}

impl Client {
    /// Connects with a libpq-style URL (`postgresql://user:pw@host:port/db?sslmode=disable`)
    /// or `key=value` string, completed by the `PG*` environment variables and the
    /// password file as libpq does. Hosts are tried in order; `connect_timeout` bounds
    /// each.
    pub fn connect(conninfo: &str) -> Result<Self, Error> {
        let (client, connection) = run(Async::connect(conninfo), |_| {})?;
        Ok(Self {
            client,
            io: Io {
                connection,
                ended: false,
            },
        })
    }

    /// Runs the operation `op` starts on the async client, blocking until it ends.
    fn wait<'a, T, F: Future<Output = T> + 'a>(&'a mut self, op: impl FnOnce(&'a Async) -> F) -> T {
        let future = op(&self.client);
        self.io.wait(future)
    }

    blocking! {
        /// Runs one or more statements with the simple query protocol; returns every
        /// statement's result (values in text format).
        fn simple_query(&mut self, sql: &str) -> Result<Vec<ResultSet>, Error>;
        /// Runs one statement with the extended protocol (unnamed statement and portal, one
        /// round trip) with already-encoded parameters. `param_types` may be empty (the
        /// server infers them); `params` are in `param_format`, results in `result_format`.
        fn query_raw(&mut self, sql: &str, param_types: &[Oid], params: &[Option<&[u8]>], param_format: Format, result_format: Format) -> Result<ResultSet, Error>;
        /// Rows of [`Client::query_raw`] with text parameters and results.
        fn query_text(&mut self, sql: &str, params: &[Option<&str>]) -> Result<Vec<Row>, Error>;
        /// Runs `sql` with typed parameters in one round trip; results come back in binary
        /// and are read with [`Row::get`].
        ///
        /// ```no_run
        /// # let mut client = pgproto_blocking::Client::connect("")?;
        /// let rows = client.query("select $1::int8 + 1 as n", &[&41i64])?;
        /// assert_eq!(rows[0].get::<i64, _>("n")?, 42);
        /// # Ok::<(), pgproto_blocking::Error>(())
        /// ```
        fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, Error>;
        /// The single row `sql` returns; an error if it returns none or several.
        fn query_one(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, Error>;
        /// Runs a statement with typed parameters; returns the number of rows it affected.
        fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, Error>;
        /// Prepares a statement on the server (named, reusable).
        fn prepare(&mut self, sql: &str) -> Result<Statement, Error>;
        /// Prepares a statement with some parameter types given (0 leaves one to the server).
        fn prepare_typed(&mut self, sql: &str, types: &[Oid]) -> Result<Statement, Error>;
        /// Executes a prepared statement with typed parameters.
        fn query_prepared(&mut self, statement: &Statement, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, Error>;
        /// Reads a prepared statement's result in batches of `batch` rows through portal
        /// suspension, calling `each` with every batch; memory holds one batch at a time.
        /// Returns the number of rows.
        fn query_batched(&mut self, statement: &Statement, params: &[&(dyn ToSql + Sync)], batch: i32, each: impl FnMut(Vec<Row>) -> Result<(), Error>) -> Result<u64, Error>;
        /// Sends several queries at once (one round trip) and returns each one's rows or
        /// error. Each query has its own Sync, so a failure affects only that query.
        fn pipeline(&mut self, queries: &[(&str, &[&(dyn ToSql + Sync)])]) -> Result<Vec<Result<Vec<Row>, Error>>, Error>;
        /// Calls a function by OID with the function-call sub-protocol; returns its result
        /// (`None` for NULL) in `result_format`.
        fn function_call(&mut self, function_oid: Oid, args: &[Option<&[u8]>], arg_format: Format, result_format: Format) -> Result<Option<Bytes>, Error>;
        /// The next notification (LISTEN/NOTIFY), oldest first, reading from the server
        /// until one arrives; `None` once the connection has ended and none is left. Up to
        /// [`DEFAULT_ASYNC_MESSAGE_CAPACITY`](pgproto_core::client::DEFAULT_ASYNC_MESSAGE_CAPACITY)
        /// wait to be taken; newer ones are dropped and counted
        /// ([`Client::dropped_notifications`]).
        fn notification(&mut self) -> Option<Notification>;
        /// The next notice (a warning or information from the server, such as `RAISE
        /// NOTICE`), oldest first, reading from the server until one arrives; `None` once
        /// the connection has ended and none is left. Bounded like notifications.
        fn notice(&mut self) -> Option<DbError>;
    }

    /// Runs `sql` with typed parameters and returns its rows as an iterator that reads
    /// them off the socket as it goes: a result of any size runs in bounded memory (the
    /// server waits while the socket buffers are full).
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
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<RowStream<'_>, Error> {
        let rows = self.io.wait(self.client.query_stream(sql, params))?;
        Ok(RowStream {
            rows,
            io: &mut self.io,
        })
    }

    /// Starts `COPY ... FROM STDIN`: write data with [`CopyIn::send`], then
    /// [`CopyIn::finish`] (or [`CopyIn::abort`]). Data goes out as it is sent, so any
    /// amount streams in bounded memory. Dropping the [`CopyIn`] unfinished aborts it.
    pub fn copy_in(&mut self, sql: &str) -> Result<CopyIn<'_>, Error> {
        let copy = self.io.wait(self.client.copy_in(sql))?;
        Ok(CopyIn {
            copy,
            io: &mut self.io,
        })
    }

    /// Runs `COPY ... TO STDOUT` and returns its data as an iterator of chunks (one row
    /// each, as PostgreSQL sends them), read off the socket as consumed.
    pub fn copy_out(&mut self, sql: &str) -> Result<CopyOut<'_>, Error> {
        let out = self.io.wait(self.client.copy_out(sql))?;
        Ok(CopyOut {
            out,
            io: &mut self.io,
        })
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
        run(Async::cancel_with(canceller), |_| {})
    }

    /// The cancel key with this connection's address: send it to another thread and
    /// call [`Client::cancel_with`] there.
    pub fn canceller(&self) -> Result<Canceller, Error> {
        self.client.canceller()
    }

    /// The key for cancelling this connection's running query.
    pub fn cancel_token(&self) -> Option<&CancelToken> {
        self.client.cancel_token()
    }

    /// Notifications dropped because nobody took them and their queue was full.
    pub fn dropped_notifications(&self) -> u64 {
        self.client.dropped_notifications()
    }

    /// Notices dropped because nobody took them and their queue was full.
    pub fn dropped_notices(&self) -> u64 {
        self.client.dropped_notices()
    }

    /// The latest value the server reported for a run-time parameter (at startup, and
    /// ParameterStatus after `SET` and the like): `server_version`, `TimeZone`, ...
    pub fn parameter(&self, name: &str) -> Option<String> {
        self.client.parameter(name)
    }

    /// The transaction status after the last completed request.
    pub fn transaction_status(&self) -> TransactionStatus {
        self.client.transaction_status()
    }

    /// The protocol version in use (3.2, or what the server negotiated down to).
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.client.protocol_version()
    }

    /// How the server authenticated this connection (`None`: trust).
    pub fn auth_method(&self) -> Option<AuthMethod> {
        self.client.auth_method()
    }

    /// Whether SCRAM-SHA-256-PLUS bound the authentication to the TLS channel.
    pub fn used_channel_binding(&self) -> bool {
        self.client.used_channel_binding()
    }

    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        self.client.is_tls()
    }

    /// Whether the connection is unusable: closed, or failed (I/O error, the server
    /// ended the session, a protocol error).
    pub fn is_closed(&self) -> bool {
        self.io.ended || self.client.is_closed()
    }

    /// Sends Terminate (after answering what is in flight) and closes the connection.
    pub fn close(mut self) -> Result<(), Error> {
        self.client.start_close();
        self.io.finish()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.client.start_close();
        let _ = self.io.finish();
    }
}

/// Rows of [`Client::query_stream`], read as they are consumed. The first error ends the
/// iteration.
#[derive(Debug)]
pub struct RowStream<'a> {
    rows: pgproto_driver::RowStream,
    io: &'a mut Io,
}

impl Iterator for RowStream<'_> {
    type Item = Result<Row, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.io.wait(self.rows.next())
    }
}

/// The data of a `COPY TO STDOUT` ([`Client::copy_out`]), an iterator of chunks read as
/// they are consumed. An error (after the rest of the statement's responses) ends it.
#[derive(Debug)]
pub struct CopyOut<'a> {
    out: pgproto_driver::CopyOut,
    io: &'a mut Io,
}

impl CopyOut<'_> {
    /// The number of rows copied, once the iteration ended.
    pub fn rows(&self) -> Option<u64> {
        self.out.rows()
    }
}

impl Iterator for CopyOut<'_> {
    type Item = Result<Bytes, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.io.wait(self.out.next())
    }
}

/// An open `COPY FROM STDIN` ([`Client::copy_in`]). Dropping it unfinished aborts the
/// COPY.
#[derive(Debug)]
pub struct CopyIn<'a> {
    copy: pgproto_driver::CopyIn<'a, Blocking>,
    io: &'a mut Io,
}

impl CopyIn<'_> {
    /// Sends a chunk of COPY data (any split; rows may span chunks).
    pub fn send(&mut self, data: &[u8]) -> Result<(), Error> {
        self.io.wait(self.copy.send(Bytes::copy_from_slice(data)))
    }

    /// Ends the COPY; returns the number of rows copied.
    pub fn finish(self) -> Result<u64, Error> {
        self.io.wait(self.copy.finish())
    }

    /// Aborts the COPY (CopyFail): the server rolls the statement back and reports
    /// `message` in its error, which is returned here (SQLSTATE 57014).
    pub fn abort(self, message: &str) -> Result<Box<DbError>, Error> {
        self.io.wait(self.copy.abort(message))
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
