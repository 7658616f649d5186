//! Faults against real PostgreSQL 15, for the blocking client: the backend killed with
//! `pg_terminate_backend` in the middle of a query and of COPY in both directions, the
//! server stopped and restarted, the connection cut in the middle of a message. Every
//! blocking call runs on a thread the test waits for with a deadline, so a hang fails
//! the test; the client must then report the connection closed and committed rows
//! must be there after reconnecting.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use pgproto_blocking::{Client, Error};
use pgproto_core::sqlstate::SqlState;
use pgproto_tests::harness::{HbaMethod, PgCluster, PgVersion};
use pgproto_tests::relay::RecordingRelay;

const PROMPTLY: Duration = Duration::from_secs(10);

/// PostgreSQL 15 with durable commits (the harness turns synchronous_commit off).
fn pg15() -> PgCluster {
    PgCluster::builder()
        .version(PgVersion::V15)
        .auth(HbaMethod::Trust)
        .setting("synchronous_commit", "on")
        .start()
        .expect("PostgreSQL 15 (apt-get install postgresql-15)")
}

fn conninfo(port: u16) -> String {
    format!("host=127.0.0.1 port={port} dbname=postgres user=postgres sslmode=disable")
}

/// Runs `f` on its own thread; panics if it does not finish in time.
fn promptly<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(PROMPTLY)
        .unwrap_or_else(|_| panic!("{what}: no answer within {PROMPTLY:?}"))
}

fn assert_closed(what: &str, mut client: Client) {
    assert!(client.is_closed(), "{what}: is_closed() is false");
    let err = promptly(what, move || client.simple_query("select 1"))
        .expect_err("a closed connection answers");
    assert!(
        matches!(err, Error::Protocol(_) | Error::Io(_)),
        "{what}: {err}"
    );
}

fn assert_terminated(what: &str, err: &Error) {
    println!("{what}: {err}");
    assert!(
        err.as_db_error()
            .is_some_and(|e| e.code == SqlState::AdminShutdown)
            || matches!(err, Error::Io(_) | Error::Protocol(_)),
        "{what}: {err}"
    );
}

fn backend_pid(client: &mut Client) -> String {
    let sets = client.simple_query("select pg_backend_pid()").unwrap();
    String::from_utf8(sets[0].rows[0].raw(0).flatten().unwrap().to_vec()).unwrap()
}

fn terminate(admin: &mut Client, pid: &str) {
    let sets = admin
        .simple_query(&format!("select pg_terminate_backend({pid})"))
        .unwrap();
    assert_eq!(sets[0].rows[0].raw(0), Some(Some(&b"t"[..])));
}

fn count(port: u16) -> i64 {
    let mut client = promptly("reconnect", move || Client::connect(&conninfo(port))).unwrap();
    let row = client.query_one("select count(*) from t", &[]).unwrap();
    row.get::<i64, _>(0).unwrap()
}

#[test]
fn backend_terminated_mid_query_and_mid_copy() {
    let pg = pg15();
    let port = pg.port();
    let mut admin = Client::connect(&conninfo(port)).unwrap();
    admin
        .simple_query("create table t (n int); insert into t select generate_series(1, 100)")
        .unwrap();

    // Mid-query.
    let mut victim = Client::connect(&conninfo(port)).unwrap();
    let pid = backend_pid(&mut victim);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let result = victim.simple_query("select pg_sleep(60)").map(drop);
        let _ = tx.send((victim, result));
    });
    thread::sleep(Duration::from_millis(300));
    terminate(&mut admin, &pid);
    let (victim, result) = rx.recv_timeout(PROMPTLY).expect("pg_sleep was killed");
    assert_terminated("mid-query", &result.expect_err("the query was killed"));
    assert_closed("mid-query", victim);

    // Mid-COPY FROM STDIN: the rows sent are not committed.
    let mut victim = Client::connect(&conninfo(port)).unwrap();
    let pid = backend_pid(&mut victim);
    let (started, wait_started) = mpsc::channel();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let err = {
            let mut copy = victim.copy_in("copy t from stdin").unwrap();
            copy.send(b"1001\n1002\n").unwrap();
            started.send(()).unwrap();
            let mut err = None;
            for _ in 0..200 {
                thread::sleep(Duration::from_millis(10));
                // Large enough to be flushed to the socket at once.
                if let Err(e) = copy.send(&b"1003\n".repeat(20_000)) {
                    err = Some(e);
                    break;
                }
            }
            match err {
                Some(e) => e,
                None => copy.finish().expect_err("COPY into a dead backend"),
            }
        };
        let _ = tx.send((victim, err));
    });
    wait_started.recv_timeout(PROMPTLY).unwrap();
    terminate(&mut admin, &pid);
    let (victim, err) = rx.recv_timeout(PROMPTLY).expect("COPY IN failed promptly");
    assert_terminated("mid-COPY IN", &err);
    assert_closed("mid-COPY IN", victim);

    // Mid-COPY TO STDOUT.
    let mut victim = Client::connect(&conninfo(port)).unwrap();
    let pid = backend_pid(&mut victim);
    let (started, wait_started) = mpsc::channel();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut first = Some(started);
        let result = victim.copy_out(
            "copy (select n, pg_sleep(0.01) from generate_series(1, 100000) n) to stdout",
            |_| {
                if let Some(s) = first.take() {
                    let _ = s.send(());
                }
                Ok(())
            },
        );
        let _ = tx.send((victim, result));
    });
    wait_started.recv_timeout(PROMPTLY).unwrap();
    terminate(&mut admin, &pid);
    let (victim, result) = rx.recv_timeout(PROMPTLY).expect("COPY OUT failed promptly");
    assert_terminated("mid-COPY OUT", &result.expect_err("COPY OUT was killed"));
    assert_closed("mid-COPY OUT", victim);

    assert_eq!(count(port), 100);
}

#[test]
fn server_stopped_and_restarted() {
    let mut pg = pg15();
    let port = pg.port();
    let mut client = Client::connect(&conninfo(port)).unwrap();
    client
        .simple_query("create table t (n int); insert into t select generate_series(1, 50)")
        .unwrap();
    client
        .simple_query("begin; insert into t values (999)")
        .unwrap();
    pg.stop();
    let (client, result) = promptly("query after the server stopped", move || {
        let r = client.simple_query("select 1").map(drop);
        (client, r)
    });
    let err = result.expect_err("the server is gone");
    println!("server stopped: {err}");
    assert_closed("server stopped", client);
    let err = promptly("connect to a stopped server", move || {
        Client::connect(&conninfo(port)).map(drop)
    })
    .expect_err("nobody listens");
    assert!(matches!(err, Error::Io(_)), "{err}");
    pg.restart().unwrap();
    assert_eq!(count(port), 50);
}

fn cut_relay(pg: &PgCluster, cut_after: usize) -> RecordingRelay {
    let upstream: SocketAddr = format!("127.0.0.1:{}", pg.port()).parse().unwrap();
    RecordingRelay::start_cutting(
        "127.0.0.1:0".parse().unwrap(),
        upstream,
        Some(1),
        Some(cut_after),
    )
    .unwrap()
}

#[test]
fn connection_cut_in_the_middle_of_a_message() {
    let pg = pg15();
    let relay = cut_relay(&pg, 20_000);
    let port = relay.port();
    let mut client = Client::connect(&conninfo(port)).unwrap();
    let (client, result) = promptly("query through a cut connection", move || {
        let r = client
            .simple_query("select repeat('x', 100000) from generate_series(1, 5)")
            .map(drop);
        (client, r)
    });
    let err = result.expect_err("the connection was cut");
    println!("cut mid-DataRow: {err}");
    assert!(matches!(err, Error::Protocol(_) | Error::Io(_)), "{err}");
    assert_closed("cut mid-DataRow", client);
    assert_eq!(relay.wait().unwrap()[0].backend.len(), 20_000);

    let relay = cut_relay(&pg, 40);
    let port = relay.port();
    let err = promptly("connect through a cut connection", move || {
        Client::connect(&conninfo(port)).map(drop)
    })
    .expect_err("the connection was cut");
    println!("cut mid-startup: {err}");
    assert!(matches!(err, Error::Protocol(_) | Error::Io(_)), "{err}");
    let _ = relay.wait();
}
