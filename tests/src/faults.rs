//! What the fault tests of the three clients share (`tests/conformance/faults.rs` for the
//! async ones, `pgproto-blocking/tests/faults.rs`): a PostgreSQL 15 cluster whose
//! commits survive a crash, the statements each fault is staged with, a relay that cuts
//! the connection in the middle of a message, and the outcomes a client may report for
//! each fault.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use pgproto_core::adapter::Error;
use pgproto_core::client::ResultSet;
use pgproto_core::sqlstate::SqlState;

use crate::harness::{HbaMethod, PgCluster, PgVersion};
use crate::relay::RecordingRelay;

/// How long any one step of a fault test may take; longer counts as a hang.
pub const PROMPTLY: Duration = Duration::from_secs(10);

/// How long to wait before killing a backend that is busy with a request.
pub const BEFORE_KILL: Duration = Duration::from_millis(300);

/// Creates table `t` with [`SEEDED`] committed rows.
pub const SEED: &str = "create table t (n int); insert into t select generate_series(1, 100)";
/// The rows [`SEED`] commits.
pub const SEEDED: i64 = 100;
/// Counts the rows of `t`.
pub const COUNT: &str = "select count(*) from t";
/// The backend's process id, for `pg_terminate_backend`.
pub const BACKEND_PID: &str = "select pg_backend_pid()";
/// A query that runs until it is killed.
pub const LONG_QUERY: &str = "select pg_sleep(60)";
/// Starts COPY FROM STDIN into `t`.
pub const COPY_IN: &str = "copy t from stdin";
/// A COPY TO STDOUT that streams slowly for much longer than a test lasts.
pub const SLOW_COPY_OUT: &str =
    "copy (select n, pg_sleep(0.01) from generate_series(1, 100000) n) to stdout";
/// Five 100 kB DataRows: a cut after [`CUT_MID_DATAROW`] bytes falls inside the first.
pub const BIG_ROWS: &str = "select repeat('x', 100000) from generate_series(1, 5)";
/// Bytes from the server before the cut in the middle of a DataRow (startup takes well
/// under 2 kB).
pub const CUT_MID_DATAROW: usize = 20_000;
/// Bytes from the server before the cut in the middle of startup (inside the
/// ParameterStatus messages).
pub const CUT_MID_STARTUP: usize = 40;

/// PostgreSQL 15 with `synchronous_commit` on: the harness turns it off for speed, and
/// then a commit acknowledged just before a crash may be lost, which is not the
/// client's fault.
pub fn cluster() -> PgCluster {
    PgCluster::builder()
        .version(PgVersion::V15)
        .auth(HbaMethod::Trust)
        .setting("synchronous_commit", "on")
        .start()
        .expect("PostgreSQL 15 (apt-get install postgresql-15)")
}

/// A connection string for the superuser at `127.0.0.1:port`, without TLS.
pub fn conninfo(port: u16) -> String {
    format!("host=127.0.0.1 port={port} dbname=postgres user=postgres sslmode=disable")
}

/// `pg_terminate_backend` of `pid`.
pub fn terminate_sql(pid: &str) -> String {
    format!("select pg_terminate_backend({pid})")
}

/// The text of the first column of the first row of the first result set (the answer to
/// [`BACKEND_PID`] or [`terminate_sql`]).
pub fn single_value(sets: &[ResultSet]) -> String {
    let value = sets
        .first()
        .and_then(|set| set.rows.first())
        .and_then(|row| row.raw(0).flatten())
        .expect("one non-null value");
    String::from_utf8(value.to_vec()).expect("text")
}

/// A relay to `pg` accepting one connection, which it cuts once `cut_after` bytes went
/// from the server to the client.
pub fn cut_relay(pg: &PgCluster, cut_after: usize) -> RecordingRelay {
    let upstream = SocketAddr::from(([127, 0, 0, 1], pg.port()));
    RecordingRelay::start_cutting(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        upstream,
        Some(1),
        Some(cut_after),
    )
    .expect("relay")
}

/// Drains a COPY TO STDOUT stream (of the tokio or the futures-io client) up to its
/// first error; panics if it ends normally.
pub async fn first_error<S>(stream: &mut S) -> Error
where
    S: Stream<Item = Result<Bytes, Error>> + Unpin,
{
    poll_fn(|cx| loop {
        match Pin::new(&mut *stream).poll_next(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Some(Ok(_))) => {}
            Poll::Ready(Some(Err(e))) => return Poll::Ready(e),
            Poll::Ready(None) => panic!("the stream ended normally"),
        }
    })
    .await
}

/// The connection is gone without a word from the server: the socket failed or ended,
/// or the connection task ended.
pub fn is_lost(err: &Error) -> bool {
    matches!(
        err,
        Error::Io(_) | Error::Protocol(_) | Error::ConnectionClosed
    )
}

/// Killed by `pg_terminate_backend`: FATAL 57P01, or the connection simply gone.
pub fn assert_terminated(what: &str, err: &Error) {
    println!("{what}: {err}");
    assert!(
        err.as_db_error()
            .is_some_and(|e| e.code == SqlState::AdminShutdown)
            || is_lost(err),
        "{what}: {err}"
    );
}

/// The server was stopped (immediate shutdown): FATAL 57P01 or 57P02, or the connection
/// simply gone.
pub fn assert_server_stopped(what: &str, err: &Error) {
    println!("{what}: {err}");
    assert!(
        err.as_db_error()
            .is_some_and(|e| e.code == SqlState::AdminShutdown || e.code == SqlState::CrashShutdown)
            || is_lost(err),
        "{what}: {err}"
    );
}

/// The connection was cut: nothing from the server explains it.
pub fn assert_cut(what: &str, err: &Error) {
    println!("{what}: {err}");
    assert!(is_lost(err), "{what}: {err}");
}

/// The answer of a client that already knows its connection is closed.
pub fn assert_closed_answer(what: &str, err: &Error) {
    assert!(is_lost(err), "{what}: a closed connection answered {err}");
}

/// Connecting to a port nobody listens on.
pub fn assert_refused(what: &str, err: &Error) {
    assert!(matches!(err, Error::Io(_)), "{what}: {err}");
}
