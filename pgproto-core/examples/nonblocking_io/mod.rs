//! Reading and writing a non-blocking socket (mio's or `std::net`'s) without waiting:
//! what every example's loop does on a readiness event or a tick.

use std::io::{self, Read, Write};

use bytes::{Buf, BytesMut};

/// Reads everything the socket has now, handing each chunk to `input` (the core's
/// `handle_input`), until it would block. Returns `false` at end of stream.
///
/// With edge-triggered readiness (mio) reading until `WouldBlock` is required: no new
/// event comes for bytes already waiting.
pub(crate) fn read_available(
    socket: &mut impl Read,
    mut input: impl FnMut(&[u8]),
) -> io::Result<bool> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match socket.read(&mut buf) {
            Ok(0) => return Ok(false),
            Ok(n) => input(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
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
