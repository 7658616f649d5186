//! The socket under a blocking client or server connection: TCP, a Unix socket, or TLS
//! over TCP (either side), with the TLS handshakes done in place.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;

use pgproto_driver::connect::{self, Tls};
use pgproto_tls::rustls;

use crate::Error;

/// A TLS session over TCP, client or server side.
pub(crate) trait TlsSession: Read + Write + Send {
    /// The TCP socket under it.
    fn socket(&self) -> &TcpStream;
    /// Sends close_notify.
    fn close_notify(&mut self);
}

impl<C, S> TlsSession for rustls::StreamOwned<C, TcpStream>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<S>> + Send,
    S: rustls::SideData,
{
    fn socket(&self) -> &TcpStream {
        &self.sock
    }

    fn close_notify(&mut self) {
        self.conn.send_close_notify();
    }
}

/// A connection's socket.
pub(crate) enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<dyn TlsSession>),
    /// Between a plain socket and its TLS session (never seen by I/O).
    Upgrading,
}

fn not_connected() -> std::io::Error {
    std::io::ErrorKind::NotConnected.into()
}

fn tls_error(e: impl std::fmt::Display) -> Error {
    Error::Tls(e.to_string())
}

impl Stream {
    fn io(&mut self) -> std::io::Result<&mut dyn ReadWrite> {
        match self {
            Self::Tcp(s) => Ok(s),
            Self::Unix(s) => Ok(s),
            Self::Tls(s) => Ok(s),
            Self::Upgrading => Err(not_connected()),
        }
    }

    pub(crate) fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.io()?.read(buf)
    }

    pub(crate) fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.io()?.write_all(buf)
    }

    /// Sends what TLS buffered (plain sockets write through).
    pub(crate) fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Tls(s) => s.flush(),
            _ => Ok(()),
        }
    }

    /// The TCP socket (for timeouts).
    pub(crate) fn socket(&self) -> std::io::Result<&TcpStream> {
        match self {
            Self::Tcp(s) => Ok(s),
            Self::Tls(s) => Ok(s.socket()),
            _ => Err(not_connected()),
        }
    }

    pub(crate) fn is_tls(&self) -> bool {
        matches!(self, Self::Tls(_))
    }

    /// Closes gracefully: close_notify over TLS, then the socket.
    pub(crate) fn shutdown(&mut self) {
        if let Self::Tls(s) = self {
            s.close_notify();
            let _ = s.flush();
        }
        if let Ok(s) = self.socket() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    fn take_tcp(&mut self) -> Result<TcpStream, Error> {
        match std::mem::replace(self, Self::Upgrading) {
            Self::Tcp(sock) => Ok(sock),
            _ => Err(Error::Tls("TLS needs a plain TCP connection".into())),
        }
    }

    /// Client side: wraps the TCP socket in TLS (handshake completed) and returns the
    /// channel-binding data of the server's certificate.
    pub(crate) fn connect_tls(&mut self, tls: Option<&Tls>) -> Result<Option<Vec<u8>>, Error> {
        let (config, name) = connect::tls_config(tls)?;
        let mut sock = self.take_tcp()?;
        let mut conn =
            rustls::ClientConnection::new(config.clone(), name.clone()).map_err(tls_error)?;
        while conn.is_handshaking() {
            conn.complete_io(&mut sock).map_err(tls_error)?;
        }
        let cb = connect::channel_binding(conn.peer_certificates());
        *self = Self::Tls(Box::new(rustls::StreamOwned::new(conn, sock)));
        Ok(cb)
    }

    /// Server side: performs the handshake (the socket's read timeout bounds it) and
    /// returns the negotiated ALPN protocol. `prefix` holds the bytes of a direct-TLS
    /// ClientHello the core already read.
    pub(crate) fn accept_tls(
        &mut self,
        config: std::sync::Arc<rustls::ServerConfig>,
        mut prefix: &[u8],
    ) -> Result<Option<Vec<u8>>, Error> {
        let mut sock = self.take_tcp()?;
        let mut conn = rustls::ServerConnection::new(config).map_err(tls_error)?;
        while !prefix.is_empty() {
            conn.read_tls(&mut prefix).map_err(tls_error)?;
            conn.process_new_packets().map_err(tls_error)?;
        }
        while conn.is_handshaking() {
            conn.complete_io(&mut sock).map_err(tls_error)?;
        }
        let alpn = conn.alpn_protocol().map(<[u8]>::to_vec);
        *self = Self::Tls(Box::new(rustls::StreamOwned::new(conn, sock)));
        Ok(alpn)
    }
}

/// Reads and writes.
trait ReadWrite: Read + Write {}
impl<T: Read + Write + ?Sized> ReadWrite for T {}
