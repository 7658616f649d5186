//! A deliberately hostile PostgreSQL "server" for client tests: a thread on a local
//! port that follows a script of raw reads and writes, and records every byte the
//! client sent, so a test can assert what a client never sends (a password in the
//! clear, a SASL response to a server that cannot prove channel binding).
//!
//! [`downgrade_cases`] is the table of downgrade attacks every client adapter runs.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// The SSLRequest packet.
pub const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// The connection as the script sees it: raw TCP, or TLS after [`Peer::start_tls`].
/// Everything the client sends is recorded (decrypted, after TLS).
#[derive(Debug)]
pub struct Peer {
    tcp: TcpStream,
    tls: Option<Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>>,
    received: Vec<u8>,
}

impl Peer {
    fn read_some(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match &mut self.tls {
            Some(tls) => tls.read(buf)?,
            None => self.tcp.read(buf)?,
        };
        self.received.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn read_exact(&mut self, n: usize) -> io::Result<Vec<u8>> {
        let mut out = vec![0; n];
        let mut filled = 0;
        while filled < n {
            let got = self.read_some(&mut out[filled..])?;
            if got == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            filled += got;
        }
        Ok(out)
    }

    fn read_body(&mut self, len_field: [u8; 4]) -> io::Result<Vec<u8>> {
        let len = u32::from_be_bytes(len_field) as usize;
        if !(4..=1 << 20).contains(&len) {
            return Err(io::Error::other(format!("length {len}")));
        }
        self.read_exact(len - 4)
    }

    /// Reads one untagged startup-phase packet (SSLRequest, StartupMessage); returns
    /// its body (after the length).
    pub fn read_packet(&mut self) -> io::Result<Vec<u8>> {
        let len = self.read_exact(4)?;
        self.read_body([len[0], len[1], len[2], len[3]])
    }

    /// Reads one tagged message; returns its type byte and body.
    pub fn read_message(&mut self) -> io::Result<(u8, Vec<u8>)> {
        let head = self.read_exact(5)?;
        let body = self.read_body([head[1], head[2], head[3], head[4]])?;
        Ok((head[0], body))
    }

    /// Sends raw bytes.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.tls {
            Some(tls) => {
                tls.write_all(bytes)?;
                tls.flush()
            }
            None => self.tcp.write_all(bytes),
        }
    }

    /// Performs the server side of a TLS handshake with `config`.
    pub fn start_tls(&mut self, config: Arc<rustls::ServerConfig>) -> io::Result<()> {
        let conn = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
        let mut tls = rustls::StreamOwned::new(conn, self.tcp.try_clone()?);
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock)?;
        }
        self.tls = Some(Box::new(tls));
        Ok(())
    }

    /// Everything the client sent so far (decrypted after TLS).
    pub fn received(&self) -> &[u8] {
        &self.received
    }
}

/// A hostile server accepting one connection.
#[derive(Debug)]
pub struct HostileServer {
    addr: SocketAddr,
    thread: JoinHandle<io::Result<Vec<u8>>>,
}

impl HostileServer {
    /// Listens on a free local port; the first connection is handed to `script`. When
    /// the script returns, whatever else the client sends until it closes (or 2 s of
    /// silence) is recorded too.
    pub fn start<F>(script: F) -> io::Result<Self>
    where
        F: FnOnce(&mut Peer) -> io::Result<()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let thread = thread::spawn(move || {
            let (tcp, _) = listener.accept()?;
            tcp.set_read_timeout(Some(Duration::from_secs(2)))?;
            let mut peer = Peer {
                tcp,
                tls: None,
                received: Vec::new(),
            };
            // A script error is the client hanging up early: not the server's problem.
            let _ = script(&mut peer);
            let mut buf = [0u8; 4096];
            while matches!(peer.read_some(&mut buf), Ok(n) if n > 0) {}
            Ok(peer.received)
        });
        Ok(Self { addr, thread })
    }

    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Waits for the connection to end; returns every byte the client sent.
    pub fn finish(self) -> io::Result<Vec<u8>> {
        self.thread
            .join()
            .map_err(|_| io::Error::other("hostile server panicked"))?
    }
}

/// A tagged backend message.
pub fn message(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![tag];
    m.extend_from_slice(&(u32::try_from(body.len() + 4).unwrap_or(u32::MAX)).to_be_bytes());
    m.extend_from_slice(body);
    m
}

/// An Authentication message with request code `code` and extra data.
pub fn authentication(code: u32, data: &[u8]) -> Vec<u8> {
    let mut body = code.to_be_bytes().to_vec();
    body.extend_from_slice(data);
    message(b'R', &body)
}

/// AuthenticationSASL offering `mechanisms`.
pub fn sasl(mechanisms: &[&str]) -> Vec<u8> {
    let mut data = Vec::new();
    for m in mechanisms {
        data.extend_from_slice(m.as_bytes());
        data.push(0);
    }
    data.push(0);
    authentication(10, &data)
}

/// AuthenticationOk, BackendKeyData, ReadyForQuery: a "successful" startup.
pub fn startup_ok() -> Vec<u8> {
    let mut out = authentication(0, &[]);
    out.extend(message(b'K', &[0, 0, 0, 1, 0, 0, 0, 2]));
    out.extend(message(b'Z', b"I"));
    out
}

/// Whether `stream` (what a client sent) holds a `p` message (PasswordMessage,
/// SASLInitialResponse, SASLResponse) after its startup packets.
pub fn has_password_message(stream: &[u8]) -> bool {
    tagged_messages(stream).iter().any(|(tag, _)| *tag == b'p')
}

/// Splits a client stream into its tagged messages, skipping the leading untagged
/// packets (SSLRequest, StartupMessage).
pub fn tagged_messages(stream: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut rest = stream;
    // Untagged packets: the first one, and one more after an SSLRequest.
    let mut untagged = 1;
    let mut out = Vec::new();
    while !rest.is_empty() {
        if untagged > 0 {
            let Some(len) = rest
                .get(..4)
                .map(|l| u32::from_be_bytes([l[0], l[1], l[2], l[3]]))
            else {
                break;
            };
            let len = len as usize;
            if rest.get(..8) == Some(&SSL_REQUEST[..]) {
                untagged += 1;
            }
            untagged -= 1;
            rest = rest.get(len..).unwrap_or_default();
            continue;
        }
        let Some(head) = rest.get(..5) else { break };
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let body = rest.get(5..1 + len).unwrap_or_default().to_vec();
        out.push((head[0], body));
        rest = rest.get(1 + len..).unwrap_or_default();
    }
    out
}

/// The client nonce in a SASLInitialResponse body (`SCRAM-SHA-256\0` len `n,,n=,r=...`).
fn client_nonce(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    text.split(',')
        .find_map(|f| f.strip_prefix("r="))
        .map(ToOwned::to_owned)
}

/// The script of a downgrade attack and what the client must do.
pub struct DowngradeCase {
    /// What the attack is.
    pub name: &'static str,
    /// Connection options added to `host=127.0.0.1 port=... user=alice password=...`.
    pub options: &'static str,
    /// The server side.
    pub script: fn(&mut Peer) -> io::Result<()>,
    /// Words the client's error must contain (lowercase match).
    pub error_contains: &'static str,
}

impl std::fmt::Debug for DowngradeCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DowngradeCase")
            .field("name", &self.name)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The password every downgrade case uses: it must never appear in what the server
/// received.
pub const PASSWORD: &str = "hunter2-secret";

fn refuse_tls_then(peer: &mut Peer, then: &[u8]) -> io::Result<()> {
    let first = peer.read_packet()?;
    if first == SSL_REQUEST[4..] {
        peer.write(b"N")?;
        peer.read_packet()?;
    }
    peer.write(then)?;
    // Give the client time to answer (it must not).
    peer.read_message().map(drop)
}

/// Answers the SSLRequest with 'N' and asks for the password in cleartext.
fn refuse_tls_ask_cleartext(peer: &mut Peer) -> io::Result<()> {
    refuse_tls_then(peer, &authentication(3, &[]))
}

fn refuse_tls_ask_md5(peer: &mut Peer) -> io::Result<()> {
    refuse_tls_then(peer, &authentication(5, b"salt"))
}

fn refuse_tls_offer_scram(peer: &mut Peer) -> io::Result<()> {
    refuse_tls_then(peer, &sasl(&["SCRAM-SHA-256"]))
}

fn refuse_tls_trust(peer: &mut Peer) -> io::Result<()> {
    refuse_tls_then(peer, &startup_ok())
}

/// Answers the SSLRequest with 'S' and, in the same write, plaintext messages that a
/// man in the middle injected (CVE-2021-23222).
fn injected_after_s(peer: &mut Peer) -> io::Result<()> {
    peer.read_packet()?;
    let mut out = b"S".to_vec();
    out.extend(authentication(3, &[]));
    peer.write(&out)?;
    peer.read_message().map(drop)
}

/// Offers SCRAM-SHA-256 and plays the server-first message (a server that does not
/// know the password can do that much), then reads the client's proof; sends `then`.
fn scram_up_to_proof(peer: &mut Peer, then: &[u8]) -> io::Result<()> {
    peer.read_packet()?;
    peer.write(&sasl(&["SCRAM-SHA-256"]))?;
    let (_, body) = peer.read_message()?;
    let nonce = client_nonce(&body).unwrap_or_default();
    let first = format!("r={nonce}server,s=c2FsdHNhbHRzYWx0,i=4096");
    peer.write(&authentication(11, first.as_bytes()))?;
    peer.read_message()?;
    peer.write(then)?;
    peer.read_message().map(drop)
}

/// Skips SASLFinal: AuthenticationOk right after the client's proof.
fn scram_without_server_signature(peer: &mut Peer) -> io::Result<()> {
    scram_up_to_proof(peer, &startup_ok())
}

/// Answers the proof with a forged server signature.
fn scram_forged_signature(peer: &mut Peer) -> io::Result<()> {
    let mut out = authentication(12, b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    out.extend(startup_ok());
    scram_up_to_proof(peer, &out)
}

/// Offers SCRAM-SHA-256 with a server nonce that does not extend the client's.
fn scram_foreign_nonce(peer: &mut Peer) -> io::Result<()> {
    peer.read_packet()?;
    peer.write(&sasl(&["SCRAM-SHA-256"]))?;
    peer.read_message()?;
    let first = "r=notTheClientNonce,s=c2FsdHNhbHRzYWx0,i=4096";
    peer.write(&authentication(11, first.as_bytes()))?;
    peer.read_message().map(drop)
}

fn plain_then(peer: &mut Peer, then: &[u8]) -> io::Result<()> {
    peer.read_packet()?;
    peer.write(then)?;
    peer.read_message().map(drop)
}

fn ask_cleartext(peer: &mut Peer) -> io::Result<()> {
    plain_then(peer, &authentication(3, &[]))
}

fn ask_md5(peer: &mut Peer) -> io::Result<()> {
    plain_then(peer, &authentication(5, b"salt"))
}

fn offer_scram(peer: &mut Peer) -> io::Result<()> {
    plain_then(peer, &sasl(&["SCRAM-SHA-256"]))
}

fn trust(peer: &mut Peer) -> io::Result<()> {
    plain_then(peer, &startup_ok())
}

/// The downgrade attacks every client adapter must resist. In each, the client must
/// fail, and [`PASSWORD`] and any `p` message must be absent from what the server
/// received (see [`check_nothing_leaked`]).
pub fn downgrade_cases() -> Vec<DowngradeCase> {
    vec![
        DowngradeCase {
            name: "sslmode=require, server refuses TLS and asks for cleartext",
            options: "sslmode=require",
            script: refuse_tls_ask_cleartext,
            error_contains: "tls",
        },
        DowngradeCase {
            name: "sslmode=require, server refuses TLS and offers SCRAM",
            options: "sslmode=require",
            script: refuse_tls_offer_scram,
            error_contains: "tls",
        },
        DowngradeCase {
            name: "sslmode=verify-full, server refuses TLS and asks for md5",
            options: "sslmode=verify-full sslrootcert=system",
            script: refuse_tls_ask_md5,
            error_contains: "tls",
        },
        DowngradeCase {
            name: "sslmode=verify-ca, server refuses TLS and lets everyone in",
            options: "sslmode=verify-ca sslrootcert=system",
            script: refuse_tls_trust,
            error_contains: "tls",
        },
        DowngradeCase {
            name: "CVE-2021-23222: plaintext injected after 'S'",
            options: "sslmode=require",
            script: injected_after_s,
            error_contains: "ssl",
        },
        DowngradeCase {
            name: "channel_binding=require, TLS refused, SCRAM-SHA-256 offered",
            options: "sslmode=prefer channel_binding=require",
            script: refuse_tls_offer_scram,
            error_contains: "channel binding",
        },
        DowngradeCase {
            name: "channel_binding=require, cleartext asked",
            options: "sslmode=disable channel_binding=require",
            script: ask_cleartext,
            error_contains: "channel binding",
        },
        DowngradeCase {
            name: "channel_binding=require, md5 asked",
            options: "sslmode=disable channel_binding=require",
            script: ask_md5,
            error_contains: "channel binding",
        },
        DowngradeCase {
            name: "channel_binding=require, no authentication at all",
            options: "sslmode=disable channel_binding=require",
            script: trust,
            error_contains: "channel binding",
        },
        DowngradeCase {
            name: "require_auth=scram-sha-256, cleartext asked",
            options: "sslmode=disable require_auth=scram-sha-256",
            script: ask_cleartext,
            error_contains: "password",
        },
        DowngradeCase {
            name: "require_auth=scram-sha-256, md5 asked",
            options: "sslmode=disable require_auth=scram-sha-256",
            script: ask_md5,
            error_contains: "md5",
        },
        DowngradeCase {
            name: "require_auth=scram-sha-256, no authentication at all",
            options: "sslmode=disable require_auth=scram-sha-256",
            script: trust,
            error_contains: "none",
        },
        DowngradeCase {
            name: "require_auth=md5, SCRAM offered",
            options: "sslmode=disable require_auth=md5",
            script: offer_scram,
            error_contains: "scram",
        },
        DowngradeCase {
            name: "require_auth=!password, cleartext asked",
            options: "sslmode=disable require_auth=!password",
            script: ask_cleartext,
            error_contains: "password",
        },
        DowngradeCase {
            name: "require_auth=password,md5, SCRAM offered",
            options: "sslmode=disable require_auth=password,md5",
            script: offer_scram,
            error_contains: "scram",
        },
    ]
}

/// SCRAM exchanges where the server cannot prove it knows the password: the client
/// sends its proof (that is the protocol) but must refuse the session.
pub fn scram_forgery_cases() -> Vec<DowngradeCase> {
    vec![
        DowngradeCase {
            name: "AuthenticationOk without SASLFinal",
            options: "sslmode=disable",
            script: scram_without_server_signature,
            error_contains: "proving",
        },
        DowngradeCase {
            name: "forged server signature",
            options: "sslmode=disable",
            script: scram_forged_signature,
            error_contains: "signature",
        },
        DowngradeCase {
            name: "server nonce not extending the client's",
            options: "sslmode=disable",
            script: scram_foreign_nonce,
            error_contains: "nonce",
        },
    ]
}

/// Panics unless `received` (what the hostile server got) is free of the password and
/// of any `p` message.
pub fn check_nothing_leaked(case: &str, received: &[u8]) {
    let text = String::from_utf8_lossy(received);
    assert!(
        !text.contains(PASSWORD),
        "{case}: the password went out: {text:?}"
    );
    assert!(
        !has_password_message(received),
        "{case}: a password/SASL message went out: {:?}",
        tagged_messages(received)
    );
}

/// A hostile TLS server offering only SCRAM-SHA-256 (no -PLUS) to a client that requires
/// channel binding. Returns the server; connect with `sslmode=require`.
pub fn tls_without_plus(config: Arc<rustls::ServerConfig>) -> io::Result<HostileServer> {
    HostileServer::start(move |peer| {
        peer.read_packet()?;
        peer.write(b"S")?;
        peer.start_tls(config)?;
        peer.read_packet()?;
        peer.write(&sasl(&["SCRAM-SHA-256"]))?;
        peer.read_message().map(drop)
    })
}
