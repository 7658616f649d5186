//! Reading and writing a non-blocking socket (mio's or `std::net`'s) without waiting:
//! what every example's loop does on a readiness event or a tick.

use std::io::{self, Read, Write};

use bytes::{Buf, BytesMut};

/// What one read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadOutcome {
    /// Bytes (handed over); more may be waiting.
    Data,
    /// Nothing now (`WouldBlock`).
    Empty,
    /// End of stream.
    End,
}

/// Reads once (16 KiB at most), handing the bytes to `input` (the core's
/// `handle_input`).
pub(crate) fn read_once(
    socket: &mut impl Read,
    mut input: impl FnMut(&[u8]),
) -> io::Result<ReadOutcome> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        return match socket.read(&mut buf) {
            Ok(0) => Ok(ReadOutcome::End),
            Ok(n) => {
                input(buf.get(..n).unwrap_or_default());
                Ok(ReadOutcome::Data)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(ReadOutcome::Empty),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => Err(e),
        };
    }
}

/// Writes as much of `outgoing` as the socket takes now; the rest stays for the next
/// writable event.
pub(crate) fn write_available(socket: &mut impl Write, outgoing: &mut BytesMut) -> io::Result<()> {
    while !outgoing.is_empty() {
        match socket.write(outgoing) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => outgoing.advance(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
