//! COPY FROM STDIN with other requests around it, against PostgreSQL 15 and 18.
//!
//! - Two threads share one blocking client: one copies while the other queries. The
//!   client is `&mut` while a COPY is open, so the query runs after it, and both succeed.
//! - The core driven by hand over a blocking socket, COPY started with the extended
//!   protocol (Parse, Bind, Describe, Execute, Sync) and a query submitted before the
//!   CopyInResponse: the query waits, and the Sync PostgreSQL ignored during the COPY is
//!   sent again after CopyDone, or after the server's error ends the COPY.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pgproto_blocking::core::client::{Client as Core, Config, Event, Response, SslMode};
use pgproto_blocking::core::message::Format;
use pgproto_blocking::core::sqlstate::SqlState;
use pgproto_blocking::Client;
use pgproto_tests::harness::{PgCluster, PgVersion};

const ROWS: u64 = 2_000;

fn threads_share_a_client(info: &str) {
    let client = Arc::new(Mutex::new(Client::connect(info).unwrap()));
    client
        .lock()
        .unwrap()
        .simple_query("create table shared (v int8)")
        .unwrap();
    let (opened, open) = std::sync::mpsc::channel();
    let copier = {
        let client = Arc::clone(&client);
        std::thread::spawn(move || {
            let mut client = client.lock().unwrap();
            let mut copy = client.copy_in("copy shared from stdin").unwrap();
            for i in 0..ROWS {
                copy.send(format!("{i}\n").as_bytes()).unwrap();
                if i == 0 {
                    opened.send(()).unwrap();
                }
            }
            copy.finish().unwrap()
        })
    };
    open.recv().unwrap();
    let row = client
        .lock()
        .unwrap()
        .query_one("select count(*) from shared", &[])
        .unwrap();
    // The query ran after the COPY: it sees every row.
    assert_eq!(row.get::<i64, _>(0usize).unwrap() as u64, ROWS);
    assert_eq!(copier.join().unwrap(), ROWS);
}

/// A core client over a blocking socket.
struct Driven {
    core: Core,
    stream: TcpStream,
    events: Vec<Event>,
}

impl Driven {
    fn connect(pg: &PgCluster) -> Self {
        let mut config = Config::new(pg.superuser());
        config.ssl_mode = SslMode::Disable;
        config.database = Some("postgres".into());
        let stream = TcpStream::connect((pg.host(), pg.port())).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut driven = Self {
            core: Core::new(config, &[9; 24]),
            stream,
            events: Vec::new(),
        };
        driven.until(|events| events.contains(&Event::Ready));
        driven
    }

    /// Sends what the core has, reads and collects events until `done` says so. A
    /// read that times out fails the test (a server waiting for a Sync never sent).
    fn until(&mut self, done: impl Fn(&[Event]) -> bool) {
        let mut buf = [0u8; 8192];
        loop {
            // Events first: answers can release requests held during a COPY.
            while let Some(event) = self.core.poll_event().unwrap() {
                self.events.push(event);
            }
            while let Some(bytes) = self.core.poll_transmit() {
                self.stream.write_all(&bytes).unwrap();
            }
            if done(&self.events) {
                return;
            }
            let n = match self.stream.read(&mut buf) {
                Ok(n) => n,
                Err(e) => panic!("no answer ({e}) after {:#?}", self.events),
            };
            assert!(n > 0, "the server closed the connection");
            self.core.handle_input(&buf[..n]);
        }
    }

    fn responses(&self, request: pgproto_blocking::core::client::RequestId) -> Vec<&Response> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Response {
                    request: r,
                    response,
                    ..
                } if *r == request => Some(response),
                _ => None,
            })
            .collect()
    }

    fn completed(&self, request: pgproto_blocking::core::client::RequestId) -> bool {
        self.events.iter().any(
            |e| matches!(e, Event::Response { request: r, complete: true, .. } if *r == request),
        )
    }
}

fn copy_in_extended(pg: &PgCluster) {
    let mut c = Driven::connect(pg);
    let create = c.core.query("create table ext (v int8)").unwrap();
    c.until(|events| {
        events.iter().any(
            |e| matches!(e, Event::Response { request, complete: true, .. } if *request == create),
        )
    });

    // COPY through the extended protocol, and a query submitted right behind it.
    let (_, sync) = c
        .core
        .query_raw("copy ext from stdin", &[], &[], Format::Text, Format::Text)
        .unwrap();
    let select = c.core.query("select 42").unwrap();
    c.until(|events| {
        events.iter().any(|e| {
            matches!(
                e,
                Event::Response {
                    response: Response::CopyIn(_),
                    ..
                }
            )
        })
    });
    c.core.copy_data(b"1\n2\n").unwrap();
    c.core.copy_done().unwrap();
    c.until(|events| {
        events.iter().any(
            |e| matches!(e, Event::Response { request, complete: true, .. } if *request == select),
        )
    });
    assert!(c.completed(sync), "the extended COPY's Sync was answered");
    let answers: Vec<String> = c
        .responses(select)
        .iter()
        .filter_map(|r| match r {
            Response::DataRow(row) => row
                .values()
                .next()
                .flatten()
                .map(|v| String::from_utf8_lossy(v).into_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(answers, ["42"]);

    // The server's error ends the COPY: the Sync goes again, the query still runs.
    let (_, sync) = c
        .core
        .query_raw("copy ext from stdin", &[], &[], Format::Text, Format::Text)
        .unwrap();
    let select = c.core.query("select count(*) from ext").unwrap();
    c.until(|events| {
        events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Event::Response {
                        response: Response::CopyIn(_),
                        ..
                    }
                )
            })
            .count()
            == 2
    });
    c.core.copy_data(b"not a number\n").unwrap();
    c.until(|events| {
        events.iter().any(
            |e| matches!(e, Event::Response { request, complete: true, .. } if *request == select),
        )
    });
    assert!(c.completed(sync));
    let error = c.events.iter().find_map(|e| match e {
        Event::Response {
            response: Response::Error(e),
            ..
        } => Some(e.code),
        _ => None,
    });
    assert_eq!(error, Some(SqlState::InvalidTextRepresentation));
    let count = c.responses(select).iter().find_map(|r| match r {
        Response::DataRow(row) => row
            .values()
            .next()
            .flatten()
            .map(|v| String::from_utf8_lossy(v).into_owned()),
        _ => None,
    });
    assert_eq!(count.as_deref(), Some("2"), "only the first COPY's rows");
}

fn run(version: PgVersion) {
    let (pg, info) = PgCluster::start_trust(version);
    threads_share_a_client(&info);
    copy_in_extended(&pg);
}

#[test]
fn pg15() {
    run(PgVersion::V15);
}

#[test]
fn pg18() {
    run(PgVersion::V18);
}
