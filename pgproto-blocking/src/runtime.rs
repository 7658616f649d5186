//! The driver's [`Runtime`] for blocking callers, and the executor that runs it on the
//! calling thread.
//!
//! Sockets are plain `std::net` (blocking) sockets. The executor polls the call's future
//! and the client's [`Connection`](pgproto_driver::Connection) in turn; the socket
//! blocks *inside* a read when the call has nothing else to do, so a round trip costs
//! one `send` and one `recv` (no failed non-blocking read, no readiness wait, no
//! reactor, no other thread). Writes never block (`MSG_DONTWAIT`): when the socket is
//! full, it waits for readability or writability together (`poll(2)`), so that a long
//! pipeline cannot deadlock against a server busy sending results. A timer (the
//! connect and startup timeouts) bounds those waits.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};
use pgproto_driver::runtime::{BoxStream, Runtime, Stream};
use pgproto_driver::Connection;
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::net::{RecvFlags, SendFlags};

/// The blocking runtime: `Client<Blocking>` is the driver's client on `std::net`.
#[derive(Debug)]
pub(crate) struct Blocking;

impl Runtime for Blocking {
    /// The client and its connection, polled by [`run`] while a call waits.
    type Connected = (pgproto_driver::Client<Self>, Connection);

    async fn connect_tcp(host: &str, port: u16) -> io::Result<BoxStream> {
        // The connect timeout's timer is polled first: it bounds each attempt.
        let deadline = LOCAL.with(|l| l.deadline.get());
        let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address");
        for addr in (host, port).to_socket_addrs()? {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let attempt = left.map_or_else(
                || TcpStream::connect(addr),
                |t| TcpStream::connect_timeout(&addr, t.max(Duration::from_millis(1))),
            );
            match attempt.and_then(|s| s.set_nodelay(true).map(|()| s)) {
                Ok(socket) => return Ok(Box::new(Sock::new(socket))),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    async fn connect_unix(path: &str) -> io::Result<BoxStream> {
        Ok(Box::new(Sock::new(UnixStream::connect(path)?)))
    }

    async fn sleep_until(deadline: Instant) {
        std::future::poll_fn(|_| {
            if Instant::now() >= deadline {
                return Poll::Ready(());
            }
            // The executor wakes the call at the earliest deadline, and socket waits end
            // there.
            LOCAL.with(|l| {
                let earliest = l.deadline.get().map_or(deadline, |d| d.min(deadline));
                l.deadline.set(Some(earliest));
            });
            Poll::Pending
        })
        .await;
    }

    fn connected(client: pgproto_driver::Client<Self>, connection: Connection) -> Self::Connected {
        (client, connection)
    }
}

/// A wake-up flag: set by a waker (from any thread), taken by the executor.
struct Flag {
    set: AtomicBool,
    thread: Thread,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.set.store(true, Ordering::Release);
        // Cheap unless the executor is parked (a wake from another thread).
        self.thread.unpark();
    }
}

/// The executor's state on this thread.
struct Local {
    /// Woken: the call's future.
    call: Arc<Flag>,
    /// Woken: the side future (the client's connection).
    side: Arc<Flag>,
    /// The earliest timer the call's future registered in its latest poll.
    deadline: Cell<Option<Instant>>,
}

fn flag() -> Arc<Flag> {
    let thread = std::thread::current();
    Arc::new(Flag {
        set: true.into(),
        thread,
    })
}

thread_local! {
    static LOCAL: Local = Local { call: flag(), side: flag(), deadline: Cell::new(None) };
}

/// Runs `future` to completion on this thread, calling `side` (which polls the client's
/// connection) whenever that was woken. Blocks in the socket (see the module docs), or
/// parks the thread when nothing can move until another thread or a timer wakes it.
pub(crate) fn run<T>(future: impl Future<Output = T>, mut side: impl FnMut(&mut Context<'_>)) -> T {
    let mut future = pin!(future);
    LOCAL.with(|l| {
        let (call_waker, side_waker) = (Waker::from(l.call.clone()), Waker::from(l.side.clone()));
        l.call.set.store(true, Ordering::Relaxed);
        l.side.set.store(true, Ordering::Relaxed);
        let value = loop {
            let expired = l.deadline.get().is_some_and(|d| Instant::now() >= d);
            if l.call.set.swap(false, Ordering::Acquire) || expired {
                l.deadline.set(None);
                let mut cx = Context::from_waker(&call_waker);
                if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
                    break value;
                }
            }
            if l.side.set.swap(false, Ordering::Acquire) {
                side(&mut Context::from_waker(&side_waker));
            }
            if !l.call.set.load(Ordering::Acquire) && !l.side.set.load(Ordering::Acquire) {
                let left = l
                    .deadline
                    .get()
                    .map(|d| d.saturating_duration_since(Instant::now()));
                left.map_or_else(std::thread::park, std::thread::park_timeout);
            }
        };
        // A run around this one (a blocking call inside a served handler) polls again.
        l.call.set.store(true, Ordering::Release);
        l.side.set.store(true, Ordering::Release);
        value
    })
}

/// A blocking socket read and written as the driver's [`Stream`].
#[derive(Debug)]
struct Sock<S> {
    socket: S,
    /// The last write found the socket full: reads must not block (the peer may wait
    /// for the rest of our output before it sends anything).
    write_blocked: bool,
    /// A read may block: the last operation was a write, or a read that found nothing.
    /// After a read that got data, the caller may have more to write (a TLS handshake
    /// reads twice before it answers), so the next read only tries.
    may_block: bool,
}

/// `send` flags: never block, never raise SIGPIPE.
#[cfg(any(target_os = "linux", target_os = "android"))]
const SEND: SendFlags = SendFlags::DONTWAIT.union(SendFlags::NOSIGNAL);
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const SEND: SendFlags = SendFlags::DONTWAIT;

impl<S: AsFd> Sock<S> {
    fn new(socket: S) -> Self {
        Self {
            socket,
            write_blocked: false,
            may_block: true,
        }
    }

    /// Waits until the socket is readable (or, with `write`, writable), or the timer.
    fn wait(&self, write: bool) -> io::Result<()> {
        let out = [PollFlags::empty(), PollFlags::OUT][usize::from(write)];
        let flags = PollFlags::IN | out;
        let deadline = LOCAL.with(|l| l.deadline.get());
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let timeout = left.and_then(|t| Timespec::try_from(t).ok());
        match rustix::event::poll(&mut [PollFd::new(&self.socket, flags)], timeout.as_ref()) {
            Ok(_) | Err(Errno::INTR) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Whether the call's future was woken: it goes first, nothing may block.
fn call_woken() -> bool {
    LOCAL.with(|l| l.call.set.load(Ordering::Relaxed))
}

impl<S: AsFd + Unpin> AsyncRead for Sock<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if call_woken() {
            // Come back after the call had its turn.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let timed = LOCAL.with(|l| l.deadline.get()).is_some();
        if this.write_blocked || timed {
            this.wait(this.write_blocked)?;
        }
        // Nothing else to do until the server answers: the one blocking read.
        let block = this.may_block && !this.write_blocked && !timed;
        let flags = [RecvFlags::DONTWAIT, RecvFlags::empty()][usize::from(block)];
        loop {
            return match rustix::net::recv(&this.socket, &mut *buf, flags) {
                Ok((n, _)) => {
                    this.may_block = false;
                    Poll::Ready(Ok(n))
                }
                Err(Errno::INTR) => continue,
                Err(Errno::AGAIN) => {
                    this.may_block = true;
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                Err(e) => Poll::Ready(Err(e.into())),
            };
        }
    }
}

impl<S: AsFd + Unpin> AsyncWrite for Sock<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            return match rustix::net::send(&this.socket, buf, SEND) {
                Ok(n) => {
                    this.write_blocked = false;
                    this.may_block = true;
                    Poll::Ready(Ok(n))
                }
                Err(Errno::INTR) => continue,
                Err(Errno::AGAIN) => {
                    this.write_blocked = true;
                    if !call_woken() {
                        this.wait(true)?;
                    }
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                Err(e) => Poll::Ready(Err(e.into())),
            };
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Already closed by the peer is fine.
        let _ = rustix::net::shutdown(&self.socket, rustix::net::Shutdown::Write);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsFd + Unpin + Send + 'static> Stream for Sock<S> {}

/// A `std::net` socket accepted by the server, as a driver stream.
pub(crate) fn accepted(socket: TcpStream) -> BoxStream {
    Box::new(Sock::new(socket))
}
