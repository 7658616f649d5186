//! The blocking server framework against real clients: psql, pgbench, and this crate's
//! own client.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use pgproto_blocking::server::{serve_until, Handler, ServerOptions};
use pgproto_blocking::{Client, Error};
use pgproto_core::server::{AuthKind, Server, ServerAuth, ServerEvent};
use pgproto_core::testing::fixed_answer;
use pgproto_tests::clients;

struct Fixed;

impl Handler for Fixed {
    fn handle(&mut self, server: &mut Server, event: ServerEvent) -> Result<(), Error> {
        Ok(fixed_answer(server, event)?)
    }
}

fn start(kind: AuthKind) -> u16 {
    start_with_timeout(kind, std::time::Duration::from_secs(60))
}

fn start_with_timeout(kind: AuthKind, startup_timeout: std::time::Duration) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut auth = ServerAuth::new(kind, b"mock");
    auth.add_user("bob", "pw", b"0123456789abcdef").unwrap();
    let mut options = ServerOptions::new(auth);
    options.startup_timeout = startup_timeout;
    std::thread::spawn(move || {
        serve_until(
            listener,
            options,
            |_| Fixed,
            Arc::new(AtomicBool::new(false)),
        )
    });
    port
}

#[test]
fn psql_pgbench_and_own_client() {
    let port = start(AuthKind::Md5);
    let conninfo = format!("host=127.0.0.1 port={port} user=bob password=pw sslmode=disable");
    clients::psql_select_1(&conninfo);
    clients::pgbench_select_1((port, "bob", "pw", "postgres"), "extended", 3, 100);

    let mut c = Client::connect(&conninfo).unwrap();
    let sets = c.simple_query("select anything").unwrap();
    assert_eq!(sets[0].rows[0].raw(0usize), Some(Some(&b"1"[..])));
    let rows = c.query_text("select $1::int4", &[Some("5")]).unwrap();
    assert_eq!(rows[0].raw("?column?"), Some(Some(&b"1"[..])));
    let err = Client::connect(&format!(
        "host=127.0.0.1 port={port} user=bob password=no sslmode=disable"
    ))
    .unwrap_err();
    assert_eq!(
        err.as_db_error().unwrap().code,
        pgproto_core::sqlstate::SqlState::InvalidPassword
    );
}

/// A client sending its startup packet one byte at a time (slowloris) is cut off when
/// the startup timeout expires, however steadily it trickles; others are served.
#[test]
fn slowloris_is_cut_off_by_the_startup_timeout() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let port = start_with_timeout(AuthKind::Md5, Duration::from_secs(1));
    let slow = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(250)))
            .unwrap();
        let started = Instant::now();
        // A startup packet that never ends: 1,000 bytes declared.
        let mut trickle = vec![0, 0, 3, 0xe8, 0, 3, 0, 0];
        trickle.resize(1000, b'a');
        for byte in trickle {
            if s.write_all(&[byte]).is_err() {
                break;
            }
            let mut b = [0u8; 16];
            match s.read(&mut b) {
                Ok(0) => break,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) | Ok(_) => break,
            }
            if started.elapsed() > Duration::from_secs(10) {
                break;
            }
        }
        started.elapsed()
    });
    std::thread::sleep(Duration::from_millis(300));
    let conninfo = format!("host=127.0.0.1 port={port} user=bob password=pw sslmode=disable");
    let mut client = Client::connect(&conninfo).unwrap();
    assert_eq!(client.simple_query("select 1").unwrap()[0].rows.len(), 1);
    let elapsed = slow.join().unwrap();
    assert!(
        elapsed >= Duration::from_millis(800) && elapsed < Duration::from_secs(4),
        "cut off after {elapsed:?} (timeout 1 s)"
    );
}
