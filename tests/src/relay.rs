//! A recording TCP relay: sits between a client and a real server, passes
//! bytes through unchanged and keeps a copy of each direction.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// The bytes of one relayed connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedConnection {
    /// Everything the client sent.
    pub frontend: Vec<u8>,
    /// Everything the server sent.
    pub backend: Vec<u8>,
}

impl RecordedConnection {
    /// Writes `<prefix>.frontend.bin` and `<prefix>.backend.bin`, returning
    /// their paths.
    pub fn write_files(&self, prefix: &Path) -> io::Result<(PathBuf, PathBuf)> {
        let frontend = with_suffix(prefix, ".frontend.bin");
        let backend = with_suffix(prefix, ".backend.bin");
        fs::write(&frontend, &self.frontend)?;
        fs::write(&backend, &self.backend)?;
        Ok((frontend, backend))
    }
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

type ConnectionThread = JoinHandle<io::Result<RecordedConnection>>;

/// A relay accepting connections on a local port and forwarding each to
/// `upstream`, recording both directions. Connections are handled
/// concurrently and returned in the order they were accepted.
#[derive(Debug)]
pub struct RecordingRelay {
    local_addr: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: JoinHandle<io::Result<Vec<ConnectionThread>>>,
}

impl RecordingRelay {
    /// Listens on `listen` (use port 0 for a free port) and relays to
    /// `upstream`. With `max_connections`, stops accepting after that many.
    pub fn start(
        listen: SocketAddr,
        upstream: SocketAddr,
        max_connections: Option<usize>,
    ) -> io::Result<Self> {
        Self::start_cutting(listen, upstream, max_connections, None)
    }

    /// As [`RecordingRelay::start`], but with `cut_after`, every connection is cut
    /// (both sockets shut down, as a dropped network path) once that many bytes went
    /// from the server to the client: a cut in the middle of a message.
    pub fn start_cutting(
        listen: SocketAddr,
        upstream: SocketAddr,
        max_connections: Option<usize>,
        cut_after: Option<usize>,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(listen)?;
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        let acceptor = thread::spawn(move || {
            let mut connections = Vec::new();
            while !stop_flag.load(Ordering::SeqCst)
                && max_connections.map_or(true, |max| connections.len() < max)
            {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false)?;
                        connections.push(thread::spawn(move || relay(client, upstream, cut_after)));
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(5));
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(connections)
        });
        Ok(Self {
            local_addr,
            stop,
            acceptor,
        })
    }

    /// The address clients should connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The port clients should connect to.
    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// Stops accepting and waits for the accepted connections to close.
    pub fn finish(self) -> io::Result<Vec<RecordedConnection>> {
        self.stop.store(true, Ordering::SeqCst);
        self.wait()
    }

    /// Waits until `max_connections` connections were accepted (forever if
    /// there is no maximum) and have closed.
    pub fn wait(self) -> io::Result<Vec<RecordedConnection>> {
        let threads = self
            .acceptor
            .join()
            .map_err(|_| io::Error::other("relay acceptor panicked"))??;
        threads
            .into_iter()
            .map(|t| {
                t.join()
                    .map_err(|_| io::Error::other("relay connection thread panicked"))?
            })
            .collect()
    }
}

fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    cut_after: Option<usize>,
) -> io::Result<RecordedConnection> {
    let server = TcpStream::connect(upstream)?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (client_reader, server_writer) = (client.try_clone()?, server.try_clone()?);
    let to_server = thread::spawn(move || pump(client_reader, server_writer, None));
    let backend = pump(server, client, cut_after)?;
    let frontend = to_server
        .join()
        .map_err(|_| io::Error::other("relay pump panicked"))??;
    Ok(RecordedConnection { frontend, backend })
}

/// Copies `from` to `to` until end of stream, returning what was copied;
/// then closes the write side of `to`. With `cut_after`, stops after that many
/// bytes and shuts both sockets down entirely.
fn pump(mut from: TcpStream, mut to: TcpStream, cut_after: Option<usize>) -> io::Result<Vec<u8>> {
    let mut recorded = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let mut n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break,
            Err(e) => return Err(e),
        };
        if let Some(cut) = cut_after {
            n = n.min(cut - recorded.len());
            if recorded.len() + n >= cut {
                recorded.extend_from_slice(&buf[..n]);
                let _ = to.write_all(&buf[..n]);
                let _ = to.shutdown(Shutdown::Both);
                let _ = from.shutdown(Shutdown::Both);
                return Ok(recorded);
            }
        }
        recorded.extend_from_slice(&buf[..n]);
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    Ok(recorded)
}
