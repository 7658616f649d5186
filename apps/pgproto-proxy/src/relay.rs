//! The relay between a client and its upstream connection once both are past startup.
//!
//! Client → upstream is a plain byte copy; the proxy only follows the message headers
//! to know whether the client's last message was a Terminate (after which the upstream
//! server closing is the normal end, not a failure to report).
//! Upstream → client keeps track of message boundaries from the 5-byte headers (tag and
//! length) only, and writes whole messages: when the upstream connection fails, the
//! client gets an ErrorResponse at a message boundary instead of half a message. No
//! message is decoded or re-encoded.
//!
//! A message too large for the buffer (a huge row or COPY chunk) is streamed through as
//! it arrives; if the upstream connection fails in the middle of one, the client
//! connection is just closed, since nothing can be appended to half a message.
//!
//! Both directions are polled by one future (one task per session, no lock between
//! halves), each with its own buffer. Writes are flushed before waiting for more input,
//! so TLS records leave at once.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Bytes, BytesMut};
use pgproto_core::db_error::{DbError, Severity};
use pgproto_core::sqlstate::SqlState;
use tokio::io::ReadBuf;

use super::BoxStream;

/// Per-direction buffer size; upstream messages up to this size keep their boundaries.
pub(crate) const BUFFER: usize = 64 * 1024;

/// How a session ended.
#[derive(Debug)]
pub(crate) enum End {
    /// The upstream connection closed after the client left (or after its own FATAL
    /// error, which the client received).
    Closed,
    /// The upstream connection failed; the client was told with an ErrorResponse
    /// (unless it failed in the middle of a streamed message).
    UpstreamFailed(String),
    /// Writing to the client failed.
    ClientGone(io::Error),
}

/// Relays until the upstream side is done. `to_upstream` and `to_client` are bytes that
/// arrived during startup but belong to the session (a pipelined first query).
pub(crate) async fn run(
    client: &mut BoxStream,
    upstream: &mut BoxStream,
    to_upstream: Bytes,
    to_client: Bytes,
) -> End {
    let mut up = Raw::new(to_upstream);
    let mut down = Framed::new(&to_client);
    poll_fn(|cx| {
        if !up.done {
            if let Poll::Ready(result) = up.poll(cx, client, upstream) {
                up.done = true;
                down.client_left = result.client_left;
                if let Some(e) = result.upstream_error {
                    // The upstream socket broke: its read side reports the rest.
                    down.write_error = Some(e);
                }
            }
            down.client_left |= up.boundaries.terminated();
        }
        down.poll(cx, upstream, client)
    })
    .await
}

struct RawDone {
    client_left: bool,
    upstream_error: Option<String>,
}

/// Client → upstream: bytes as they come.
struct Raw {
    boundaries: Boundaries,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    eof: bool,
    need_flush: bool,
    done: bool,
}

impl Raw {
    fn new(pending: Bytes) -> Self {
        let mut buf = vec![0u8; BUFFER.max(pending.len())].into_boxed_slice();
        let end = pending.len();
        if let Some(dst) = buf.get_mut(..end) {
            dst.copy_from_slice(&pending);
        }
        let mut boundaries = Boundaries::default();
        boundaries.advance(&pending);
        Self {
            boundaries,
            buf,
            pos: 0,
            end,
            eof: false,
            need_flush: end > 0,
            done: false,
        }
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        client: &mut BoxStream,
        upstream: &mut BoxStream,
    ) -> Poll<RawDone> {
        let failed = |e: io::Error| {
            Poll::Ready(RawDone {
                client_left: false,
                upstream_error: Some(e.to_string()),
            })
        };
        loop {
            if self.pos < self.end {
                let chunk = self.buf.get(self.pos..self.end).unwrap_or_default();
                match Pin::new(&mut **upstream).poll_write(cx, chunk) {
                    Poll::Ready(Ok(0)) => return failed(io::ErrorKind::WriteZero.into()),
                    Poll::Ready(Ok(n)) => self.pos += n,
                    Poll::Ready(Err(e)) => return failed(e),
                    Poll::Pending => return Poll::Pending,
                }
                continue;
            }
            self.pos = 0;
            self.end = 0;
            if self.eof {
                if let Err(e) = ready!(Pin::new(&mut **upstream).poll_shutdown(cx)) {
                    return failed(e);
                }
                return Poll::Ready(RawDone {
                    client_left: true,
                    upstream_error: None,
                });
            }
            let mut rb = ReadBuf::new(&mut self.buf);
            match Pin::new(&mut **client).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) => {
                    let n = rb.filled().len();
                    if n == 0 {
                        self.eof = true;
                    } else {
                        self.end = n;
                        self.need_flush = true;
                        self.boundaries.advance(rb.filled());
                    }
                }
                // A client that breaks its connection has left, like one that closes it.
                Poll::Ready(Err(_)) => self.eof = true,
                Poll::Pending => {
                    if self.need_flush {
                        if let Err(e) = ready!(Pin::new(&mut **upstream).poll_flush(cx)) {
                            return failed(e);
                        }
                        self.need_flush = false;
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

/// Follows message boundaries in a stream of tagged messages, from the headers only.
#[derive(Debug, Default)]
struct Boundaries {
    header: [u8; 5],
    /// Header bytes collected so far (a header may straddle reads).
    have: usize,
    /// Body bytes of the current message still to come.
    remaining: usize,
    last_tag: u8,
    /// A length below 4: boundaries are lost (the upstream server will say so).
    lost: bool,
}

impl Boundaries {
    fn advance(&mut self, mut data: &[u8]) {
        while !data.is_empty() && !self.lost {
            if self.remaining > 0 {
                let n = self.remaining.min(data.len());
                data = data.get(n..).unwrap_or_default();
                self.remaining -= n;
                continue;
            }
            let n = (5 - self.have).min(data.len());
            if let (Some(dst), Some(src)) =
                (self.header.get_mut(self.have..self.have + n), data.get(..n))
            {
                dst.copy_from_slice(src);
            }
            self.have += n;
            data = data.get(n..).unwrap_or_default();
            if self.have == 5 {
                let [tag, a, b, c, d] = self.header;
                let len = u32::from_be_bytes([a, b, c, d]);
                self.lost = len < 4;
                self.last_tag = tag;
                self.remaining = usize::try_from(len.saturating_sub(4)).unwrap_or(usize::MAX);
                self.have = 0;
            }
        }
    }

    /// Whether the last complete message was a Terminate.
    fn terminated(&self) -> bool {
        !self.lost && self.last_tag == b'X' && self.remaining == 0 && self.have == 0
    }
}

/// Upstream → client: whole messages, found from their headers.
struct Framed {
    buf: Box<[u8]>,
    /// Written to the client up to here.
    start: usize,
    /// Complete messages (or the streamed part of an oversized one) end here.
    ready: usize,
    /// Received up to here.
    end: usize,
    /// Bytes of an oversized message still to come (streamed as they arrive).
    streaming: usize,
    /// The tag of the last message that was complete or started streaming.
    last_tag: u8,
    need_flush: bool,
    /// The upstream connection ended; what remains is `tail`, then shutdown.
    finishing: Option<End>,
    tail: Bytes,
    /// The client closed its side or sent Terminate (an upstream EOF after that is the
    /// normal end).
    client_left: bool,
    /// Writing upstream failed (reported if reading does not say more).
    write_error: Option<String>,
}

impl Framed {
    fn new(pending: &[u8]) -> Self {
        let mut buf = vec![0u8; BUFFER.max(pending.len())].into_boxed_slice();
        if let Some(dst) = buf.get_mut(..pending.len()) {
            dst.copy_from_slice(pending);
        }
        let mut this = Self {
            buf,
            start: 0,
            ready: 0,
            end: pending.len(),
            streaming: 0,
            last_tag: 0,
            need_flush: false,
            finishing: None,
            tail: Bytes::new(),
            client_left: false,
            write_error: None,
        };
        if let Err(why) = this.scan() {
            this.fail(why);
        }
        this
    }

    /// Advances `ready` over the complete messages in `ready..end`.
    fn scan(&mut self) -> Result<(), String> {
        if self.streaming > 0 {
            let take = self.streaming.min(self.end - self.ready);
            self.ready += take;
            self.streaming -= take;
            if self.streaming > 0 {
                return Ok(());
            }
        }
        while let Some(header) = self.buf.get(self.ready..self.end).and_then(|b| b.get(..5)) {
            let tag = header[0];
            let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
            if len < 4 {
                return Err(format!(
                    "upstream sent an invalid message length {len} (tag {:?})",
                    char::from(tag)
                ));
            }
            let total = usize::try_from(len).map_or(usize::MAX, |l| l.saturating_add(1));
            let available = self.end - self.ready;
            self.last_tag = tag;
            if total <= available {
                self.ready += total;
            } else {
                if total > self.buf.len() {
                    // Can never be held whole: stream it.
                    self.streaming = total - available;
                    self.ready = self.end;
                }
                break;
            }
        }
        Ok(())
    }

    /// The upstream connection is over: drop an incomplete message and queue the error
    /// for the client, unless upstream already said why (an ErrorResponse was its last
    /// message) or the client left first.
    fn fail(&mut self, why: String) {
        let error_sent = self.last_tag == b'E' && self.ready == self.end;
        self.end = self.ready;
        if self.streaming > 0 {
            // Half a message went out: nothing can follow it.
            self.finishing = Some(End::UpstreamFailed(why));
            return;
        }
        if self.client_left || error_sent {
            self.finishing = Some(if self.client_left || why.is_empty() {
                End::Closed
            } else {
                End::UpstreamFailed(why)
            });
            return;
        }
        let message = if why.is_empty() {
            "the upstream server closed the connection unexpectedly".to_string()
        } else {
            format!("lost the connection to the upstream server: {why}")
        };
        self.tail = error_response(SqlState::ConnectionFailure, &message);
        self.finishing = Some(End::UpstreamFailed(if why.is_empty() {
            "closed".into()
        } else {
            why
        }));
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        upstream: &mut BoxStream,
        client: &mut BoxStream,
    ) -> Poll<End> {
        loop {
            if self.start < self.ready {
                let chunk = self.buf.get(self.start..self.ready).unwrap_or_default();
                match Pin::new(&mut **client).poll_write(cx, chunk) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(End::ClientGone(io::ErrorKind::WriteZero.into()))
                    }
                    Poll::Ready(Ok(n)) => {
                        self.start += n;
                        self.need_flush = true;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(End::ClientGone(e)),
                    Poll::Pending => return Poll::Pending,
                }
                continue;
            }
            if self.finishing.is_some() {
                while !self.tail.is_empty() {
                    match ready!(Pin::new(&mut **client).poll_write(cx, &self.tail)) {
                        Ok(n) if n > 0 => {
                            let _ = self.tail.split_to(n.min(self.tail.len()));
                        }
                        _ => self.tail = Bytes::new(),
                    }
                }
                // The client may be gone already: errors do not matter any more.
                let _ = ready!(Pin::new(&mut **client).poll_flush(cx));
                let _ = ready!(Pin::new(&mut **client).poll_shutdown(cx));
                return Poll::Ready(self.finishing.take().unwrap_or(End::Closed));
            }
            // Everything complete went out: move the incomplete rest to the front.
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.ready -= self.start;
                self.start = 0;
            }
            let Some(space) = self.buf.get_mut(self.end..) else {
                return Poll::Ready(End::UpstreamFailed("relay buffer state".into()));
            };
            let mut rb = ReadBuf::new(space);
            match Pin::new(&mut **upstream).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) => {
                    let n = rb.filled().len();
                    if n == 0 {
                        let why = self.write_error.take().unwrap_or_default();
                        self.fail(why);
                    } else {
                        self.end += n;
                        if let Err(why) = self.scan() {
                            self.fail(why);
                        }
                    }
                }
                Poll::Ready(Err(e)) => self.fail(e.to_string()),
                Poll::Pending => {
                    if self.need_flush {
                        if let Err(e) = ready!(Pin::new(&mut **client).poll_flush(cx)) {
                            return Poll::Ready(End::ClientGone(e));
                        }
                        self.need_flush = false;
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

/// A FATAL ErrorResponse, encoded.
pub(crate) fn error_response(code: SqlState, message: &str) -> Bytes {
    let mut buf = BytesMut::new();
    let _ = DbError::new(Severity::Fatal, code, message).encode_error(&mut buf);
    buf.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_messages_are_ready_and_a_partial_one_waits() {
        let mut input = b"Z\0\0\0\x05I".to_vec();
        input.extend_from_slice(b"C\0\0\0\x0dSELE");
        let f = Framed::new(&input);
        assert_eq!((f.ready, f.end, f.streaming), (6, input.len(), 0));
    }

    #[test]
    fn oversized_messages_stream_and_boundaries_resume_after_them() {
        let big = BUFFER + 100;
        let mut input = b"D".to_vec();
        input.extend_from_slice(&u32::try_from(big - 1).unwrap().to_be_bytes());
        input.extend_from_slice(&[7; 10]);
        let mut f = Framed::new(&input);
        assert_eq!(f.ready, input.len());
        assert_eq!(f.streaming, big - input.len());
        // The rest of it, then a whole ReadyForQuery and half of another, in two reads.
        let mut more = vec![7u8; f.streaming];
        more.extend_from_slice(b"Z\0\0\0\x05IZ\0");
        let (first, second) = more.split_at(BUFFER - 3);
        feed(&mut f, first);
        assert_eq!(
            (f.ready, f.streaming),
            (first.len(), big - 15 - first.len())
        );
        feed(&mut f, second);
        assert_eq!(f.streaming, 0);
        assert_eq!(f.end - f.ready, 2, "the partial ReadyForQuery waits");
        assert_eq!(f.last_tag, b'Z');
    }

    #[test]
    fn terminate_is_recognised_across_reads() {
        let mut b = Boundaries::default();
        b.advance(b"Q\0\0\0\x0dselect 1\0X\0");
        assert!(!b.terminated());
        b.advance(b"\0\0");
        assert!(!b.terminated());
        b.advance(b"\x04");
        assert!(b.terminated());
        // A CopyData whose payload looks like a Terminate is not one.
        let mut b = Boundaries::default();
        b.advance(b"d\0\0\0\x09X\0\0\0\x04");
        assert!(!b.terminated());
        assert_eq!(b.last_tag, b'd');
    }

    /// What `poll` does: everything ready was written, compact, then read `data`.
    fn feed(f: &mut Framed, data: &[u8]) {
        f.start = f.ready;
        f.buf.copy_within(f.start..f.end, 0);
        f.end -= f.start;
        f.ready -= f.start;
        f.start = 0;
        f.buf[f.end..f.end + data.len()].copy_from_slice(data);
        f.end += data.len();
        f.scan().unwrap();
    }

    #[test]
    fn a_failure_at_a_boundary_queues_an_error_unless_upstream_sent_one() {
        let mut f = Framed::new(b"Z\0\0\0\x05IC\0\0");
        f.fail(String::new());
        assert_eq!(f.end, f.ready, "the incomplete message is dropped");
        assert_eq!(f.tail.first(), Some(&b'E'));
        let mut error = error_response(SqlState::AdminShutdown, "bye").to_vec();
        let mut f = Framed::new(&error);
        f.fail(String::new());
        assert!(f.tail.is_empty());
        // A length below 4 is a protocol violation, reported the same way.
        error.extend_from_slice(b"Z\0\0\0\x02");
        let f = Framed::new(&error);
        assert!(matches!(f.finishing, Some(End::UpstreamFailed(_))));
        assert_eq!(f.tail.first(), Some(&b'E'));
    }
}
