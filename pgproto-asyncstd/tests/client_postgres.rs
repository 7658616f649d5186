//! The futures-io client against real PostgreSQL 15 and 18, each run once under
//! async-std and once under smol: queries, pipelining, errors, notifications,
//! cancellation, Unix sockets, a backend killed under a live connection.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_lite::io::AsyncWriteExt;
use pgproto_asyncstd::{Client, Connection, Error};
use pgproto_core::message::TransactionStatus;
use pgproto_core::sqlstate::SqlState;
use pgproto_tests::harness::{HbaMethod, PasswordEncryption, PgCluster, PgVersion};

#[derive(Debug, Clone, Copy)]
enum Exec {
    AsyncStd,
    Smol,
}

type Spawned = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

impl Exec {
    fn block_on<T>(self, future: impl Future<Output = T>) -> T {
        match self {
            Self::AsyncStd => async_std::task::block_on(future),
            Self::Smol => smol::block_on(future),
        }
    }

    /// Spawns the connection on the executor's pool; the handle resolves to its result.
    fn spawn(self, connection: Connection) -> Spawned {
        match self {
            Self::AsyncStd => Box::pin(async_std::task::spawn(connection)),
            Self::Smol => Box::pin(smol::spawn(connection)),
        }
    }
}

fn cluster(version: PgVersion) -> PgCluster {
    let pg = PgCluster::builder()
        .version(version)
        .auth(HbaMethod::ScramSha256)
        .start()
        .unwrap();
    pg.create_role("app", "pw", PasswordEncryption::ScramSha256)
        .unwrap();
    pg
}

async fn run(pg: &PgCluster, exec: Exec) {
    let url = format!("{}?sslmode=disable", pg.connection_url("app", Some("pw")));
    let (client, connection) = Client::connect(&url).await.unwrap();
    let connection = exec.spawn(connection);
    assert!(client.parameter("server_version").is_some());
    assert_eq!(client.transaction_status(), TransactionStatus::Idle);

    let sets = client
        .simple_query("select 1 as a; select 'x' as b")
        .await
        .unwrap();
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[0].rows[0].raw("a"), Some(Some(&b"1"[..])));
    assert_eq!(sets[1].rows[0].raw("b"), Some(Some(&b"x"[..])));

    // 200 concurrent queries on one connection: pipelined, each answered correctly, one
    // failure in the middle affects only its caller.
    let futures = (0..200).map(|i| {
        let client = &client;
        async move {
            if i == 100 {
                return client
                    .query_text("select 1/0", &[])
                    .await
                    .err()
                    .map(|e| e.to_string());
            }
            let n = i.to_string();
            let rows = client
                .query_text("select $1::int * 2", &[Some(&n)])
                .await
                .unwrap();
            let got = rows[0].raw(0usize).unwrap().unwrap().to_vec();
            assert_eq!(String::from_utf8(got).unwrap(), (i * 2).to_string());
            None
        }
    });
    let results = join_all(futures).await;
    let errors: Vec<_> = results.into_iter().flatten().collect();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("22012"), "{errors:?}");

    // A large pipeline of large requests and results (20 MB each way, more than the
    // socket buffers hold): the connection must read while it writes, else both peers
    // block on a full socket.
    let big = "x".repeat(500_000);
    let params = [Some(big.as_str())];
    let futures = (0..40).map(|_| client.query_text("select $1::text", &params));
    for rows in join_all(futures).await {
        assert_eq!(
            rows.unwrap()[0].raw(0usize).unwrap().unwrap().len(),
            500_000
        );
    }

    let err = client
        .simple_query("select * from missing")
        .await
        .unwrap_err();
    assert_eq!(err.as_db_error().unwrap().code, SqlState::UndefinedTable);

    client.simple_query("begin").await.unwrap();
    assert_eq!(
        client.transaction_status(),
        TransactionStatus::InTransaction
    );
    client.simple_query("select 1/0").await.unwrap_err();
    assert_eq!(client.transaction_status(), TransactionStatus::Failed);
    client.simple_query("rollback").await.unwrap();
    assert_eq!(client.transaction_status(), TransactionStatus::Idle);

    // The function-call sub-protocol: int4pl (OID 177) adds two int4s; a strict
    // function given NULL returns NULL; int4div (OID 154) by zero is an error.
    let binary = pgproto_core::message::Format::Binary;
    let sum = client
        .function_call(
            177,
            &[Some(&2i32.to_be_bytes()), Some(&40i32.to_be_bytes())],
            binary,
            binary,
        )
        .await
        .unwrap();
    assert_eq!(sum.as_deref(), Some(&42i32.to_be_bytes()[..]));
    let null = client
        .function_call(177, &[None, Some(&1i32.to_be_bytes())], binary, binary)
        .await
        .unwrap();
    assert_eq!(null, None);
    let err = client
        .function_call(
            154,
            &[Some(&1i32.to_be_bytes()), Some(&0i32.to_be_bytes())],
            binary,
            binary,
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.as_db_error().map(|e| e.code),
        Some(SqlState::DivisionByZero)
    );

    client.simple_query("listen ch").await.unwrap();
    client.simple_query("notify ch, 'hello'").await.unwrap();
    let n = client.notification().await.unwrap();
    assert_eq!(n.payload, "hello");
    assert_eq!(n.channel, "ch");

    // Asynchronous messages: ParameterStatus after SET, a notice.
    client
        .simple_query("set timezone = 'Asia/Tokyo'")
        .await
        .unwrap();
    assert_eq!(client.parameter("TimeZone").as_deref(), Some("Asia/Tokyo"));
    client
        .simple_query("do $$ begin raise notice 'careful'; end $$")
        .await
        .unwrap();
    assert_eq!(client.notice().await.unwrap().message, "careful");
    assert_eq!(client.dropped_notices(), 0);

    // Cancellation with the token, on a new connection, while a query runs.
    let token = client.cancel_token().unwrap().clone();
    let (slow, ()) = futures_lite::future::zip(client.simple_query("select pg_sleep(30)"), async {
        async_io::Timer::after(Duration::from_millis(300)).await;
        let mut packet = bytes::BytesMut::new();
        token.encode(&mut packet).unwrap();
        let mut s = async_net::TcpStream::connect(("127.0.0.1", pg.port()))
            .await
            .unwrap();
        s.write_all(&packet).await.unwrap();
        s.close().await.unwrap();
    })
    .await;
    let err = slow.unwrap_err();
    assert_eq!(
        err.as_db_error().unwrap().code,
        SqlState::QueryCanceled,
        "{err}"
    );
    client.simple_query("select 1").await.unwrap();

    // A second client over the Unix socket, driven on this task without spawning; its
    // backend is killed under it: calls fail, the connection ends with an error.
    let unix = format!(
        "host={} port={} user=app password=pw dbname=postgres",
        pg.socket_dir().display(),
        pg.port()
    );
    let (other, other_connection) = Client::connect(&unix).await.unwrap();
    let pid = other.cancel_token().unwrap().process_id.to_string();
    let (ended, ()) = futures_lite::future::zip(other_connection, async {
        let rows = other
            .query_text("select current_user::text", &[])
            .await
            .unwrap();
        assert_eq!(rows[0].raw(0usize), Some(Some(&b"app"[..])));
        client
            .query_text("select pg_terminate_backend($1::int)", &[Some(&pid)])
            .await
            .unwrap();
        // Until the connection sees the FATAL and EOF, calls may still be queued; then
        // every call fails.
        let mut failed = false;
        for _ in 0..100 {
            if other.simple_query("select 1").await.is_err() {
                failed = true;
                break;
            }
            async_io::Timer::after(Duration::from_millis(20)).await;
        }
        assert!(failed, "queries keep working on a terminated backend");
    })
    .await;
    // The FATAL, the EOF, or a write into the closed socket: whichever comes first.
    let err = ended.unwrap_err();
    assert!(
        err.as_db_error().map(|e| e.code) == Some(SqlState::AdminShutdown)
            || matches!(err, Error::Protocol(pgproto_core::Error::Closed))
            || matches!(&err, Error::Io(e) if matches!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            )),
        "{err:?}"
    );
    assert!(other.is_closed());
    assert!(other.notification().await.is_none());
    assert!(other.simple_query("select 1").await.is_err());
    assert!(matches!(other.close().await, Err(Error::ConnectionClosed)));

    // Graceful close: Terminate, and the connection ends cleanly.
    client.close().await.unwrap();
    connection.await.unwrap();
}

/// A client whose connection is dropped (never spawned) fails instead of hanging.
async fn dropped_connection(pg: &PgCluster) {
    let url = format!("{}?sslmode=disable", pg.connection_url("app", Some("pw")));
    let (client, connection) = Client::connect(&url).await.unwrap();
    drop(connection);
    assert!(matches!(
        client.simple_query("select 1").await,
        Err(Error::ConnectionClosed)
    ));
    assert!(client.is_closed());
}

/// Joins futures concurrently on the current task.
async fn join_all<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set: Vec<_> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.unwrap()).collect()
}

fn test(version: PgVersion, exec: Exec) {
    let pg = cluster(version);
    let test = async {
        run(&pg, exec).await;
        dropped_connection(&pg).await;
    };
    // A deadlocked connection fails the test instead of hanging it.
    let watchdog = async {
        async_io::Timer::after(Duration::from_secs(120)).await;
        panic!("timed out; server log:\n{}", pg.log_tail(20));
    };
    exec.block_on(futures_lite::future::or(test, watchdog));
}

#[test]
fn pg15_async_std() {
    test(PgVersion::V15, Exec::AsyncStd);
}

#[test]
fn pg15_smol() {
    test(PgVersion::V15, Exec::Smol);
}

#[test]
fn pg18_async_std() {
    test(PgVersion::V18, Exec::AsyncStd);
}

#[test]
fn pg18_smol() {
    test(PgVersion::V18, Exec::Smol);
}
