//! The `fixed_server` example on each adapter: started as a program on a free port, it
//! answers a simple and an extended query from a client with 1, and `--help` and an
//! unknown adapter are refused.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The running program, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `fixed_server ADAPTER` on a free port; returns it and the port.
fn start(adapter: &str) -> (Server, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fixed_server"))
        .args([adapter, "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let server = Server(child);
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    (server, port)
}

fn answers_one(adapter: &str) {
    let (_server, port) = start(adapter);
    let conninfo = format!("host=127.0.0.1 port={port} user=postgres sslmode=disable");
    let mut client = pgproto_blocking::Client::connect(&conninfo).unwrap();
    let sets = client.simple_query("select 1").unwrap();
    assert_eq!(sets[0].rows[0].raw("?column?"), Some(Some(&b"1"[..])));
    let row = client.query_one("select $1::int4", &[&7i32]).unwrap();
    assert_eq!(row.get::<i32, _>(0usize).unwrap(), 1);
    client.close().unwrap();
}

#[test]
fn fixed_server_tokio() {
    answers_one("tokio");
}

#[test]
fn fixed_server_asyncstd() {
    answers_one("asyncstd");
}

#[test]
fn fixed_server_blocking() {
    answers_one("blocking");
}

#[test]
fn fixed_server_refuses_an_unknown_adapter() {
    let out = Command::new(env!("CARGO_BIN_EXE_fixed_server"))
        .args(["nginx", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("usage: fixed_server"), "{stderr}");
}
