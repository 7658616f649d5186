//! Faults against real PostgreSQL 15, for the blocking client: the backend killed with
//! `pg_terminate_backend` in the middle of a query and of COPY in both directions, the
//! server stopped and restarted, the connection cut in the middle of a message. Every
//! blocking call runs on a thread the test waits for with a deadline, so a hang fails
//! the test; the client must then report the connection closed and committed rows
//! must be there after reconnecting. The cluster, statements and expected outcomes are
//! shared with the other clients' fault tests (`pgproto_tests::faults`).

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use pgproto_blocking::Client;
use pgproto_tests::faults::{self, conninfo, PROMPTLY};

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
    faults::assert_closed_answer(what, &err);
}

fn backend_pid(client: &mut Client) -> String {
    faults::single_value(&client.simple_query(faults::BACKEND_PID).unwrap())
}

fn terminate(admin: &mut Client, pid: &str) {
    let sets = admin.simple_query(&faults::terminate_sql(pid)).unwrap();
    assert_eq!(faults::single_value(&sets), "t");
}

fn count(port: u16) -> i64 {
    let mut client = promptly("reconnect", move || Client::connect(&conninfo(port))).unwrap();
    let row = client.query_one(faults::COUNT, &[]).unwrap();
    row.get::<i64, _>(0).unwrap()
}

#[test]
fn backend_terminated_mid_query_and_mid_copy() {
    let pg = faults::cluster();
    let port = pg.port();
    let mut admin = Client::connect(&conninfo(port)).unwrap();
    admin.simple_query(faults::SEED).unwrap();

    // Mid-query.
    let mut victim = Client::connect(&conninfo(port)).unwrap();
    let pid = backend_pid(&mut victim);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let result = victim.simple_query(faults::LONG_QUERY).map(drop);
        let _ = tx.send((victim, result));
    });
    thread::sleep(faults::BEFORE_KILL);
    terminate(&mut admin, &pid);
    let (victim, result) = rx.recv_timeout(PROMPTLY).expect("pg_sleep was killed");
    faults::assert_terminated("mid-query", &result.expect_err("the query was killed"));
    assert_closed("mid-query", victim);

    // Mid-COPY FROM STDIN: the rows sent are not committed.
    let mut victim = Client::connect(&conninfo(port)).unwrap();
    let pid = backend_pid(&mut victim);
    let (started, wait_started) = mpsc::channel();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let err = {
            let mut copy = victim.copy_in(faults::COPY_IN).unwrap();
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
    faults::assert_terminated("mid-COPY IN", &err);
    assert_closed("mid-COPY IN", victim);

    // Mid-COPY TO STDOUT.
    let mut victim = Client::connect(&conninfo(port)).unwrap();
    let pid = backend_pid(&mut victim);
    let (started, wait_started) = mpsc::channel();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut first = Some(started);
        let result = victim.copy_out(faults::SLOW_COPY_OUT).and_then(|chunks| {
            for chunk in chunks {
                chunk?;
                if let Some(s) = first.take() {
                    let _ = s.send(());
                }
            }
            Ok(())
        });
        let _ = tx.send((victim, result));
    });
    wait_started.recv_timeout(PROMPTLY).unwrap();
    terminate(&mut admin, &pid);
    let (victim, result) = rx.recv_timeout(PROMPTLY).expect("COPY OUT failed promptly");
    faults::assert_terminated("mid-COPY OUT", &result.expect_err("COPY OUT was killed"));
    assert_closed("mid-COPY OUT", victim);

    assert_eq!(count(port), faults::SEEDED);
}

#[test]
fn server_stopped_and_restarted() {
    let mut pg = faults::cluster();
    let port = pg.port();
    let mut client = Client::connect(&conninfo(port)).unwrap();
    client.simple_query(faults::SEED).unwrap();
    client
        .simple_query("begin; insert into t values (999)")
        .unwrap();
    pg.stop();
    let (client, result) = promptly("query after the server stopped", move || {
        let r = client.simple_query("select 1").map(drop);
        (client, r)
    });
    faults::assert_server_stopped("server stopped", &result.expect_err("the server is gone"));
    assert_closed("server stopped", client);
    let err = promptly("connect to a stopped server", move || {
        Client::connect(&conninfo(port)).map(drop)
    })
    .expect_err("nobody listens");
    faults::assert_refused("connect to a stopped server", &err);
    pg.restart().unwrap();
    assert_eq!(count(port), faults::SEEDED);
}

#[test]
fn connection_cut_in_the_middle_of_a_message() {
    let pg = faults::cluster();
    let relay = faults::cut_relay(&pg, faults::CUT_MID_DATAROW);
    let port = relay.port();
    let mut client = Client::connect(&conninfo(port)).unwrap();
    let (client, result) = promptly("query through a cut connection", move || {
        let r = client.simple_query(faults::BIG_ROWS).map(drop);
        (client, r)
    });
    faults::assert_cut(
        "cut mid-DataRow",
        &result.expect_err("the connection was cut"),
    );
    assert_closed("cut mid-DataRow", client);
    assert_eq!(
        relay.wait().unwrap()[0].backend.len(),
        faults::CUT_MID_DATAROW
    );

    let relay = faults::cut_relay(&pg, faults::CUT_MID_STARTUP);
    let port = relay.port();
    let err = promptly("connect through a cut connection", move || {
        Client::connect(&conninfo(port)).map(drop)
    })
    .expect_err("the connection was cut");
    faults::assert_cut("cut mid-startup", &err);
    let _ = relay.wait();
}
