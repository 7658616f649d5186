//! When a file database's write-ahead log is checkpointed.
//!
//! Left to itself, SQLite checkpoints the WAL inside the commit that takes it past 1000
//! pages: that commit copies the WAL into the database file and waits for two fsyncs,
//! milliseconds spent inside the statement. The server wants to know beforehand which
//! statements may take long (a short one runs on the async runtime's worker, see
//! `SqliteThreads`), and a commit cannot say whether it will cross the line. So the
//! sessions' connections never checkpoint by themselves ([`hand_over`]): their commits
//! only note the WAL's length (a WAL hook), and the session whose commit left it past
//! [`CHECKPOINT_PAGES`] checkpoints it afterwards ([`checkpoint`]), off the runtime's
//! workers, before it gives the right to write back, so that no writer appends
//! meanwhile and the next one can start the WAL over. A commit itself never waits for
//! the disk (the WAL runs with `synchronous = NORMAL`).

use rusqlite::Connection;
use std::cell::Cell;

/// A commit that leaves the WAL at least this long (in pages) is followed by a
/// checkpoint, as SQLite's own automatic checkpoint is.
pub(crate) const CHECKPOINT_PAGES: i32 = 1000;

thread_local! {
    /// The WAL's length in pages after the last commit made on this thread, until
    /// [`take_wal_pages`] reads it.
    static WAL_PAGES: Cell<i32> = const { Cell::new(0) };
}

/// Makes `conn` (a session's connection to a file database) leave checkpoints to the
/// session: no automatic checkpoint, and its commits note the WAL's length.
pub(crate) fn hand_over(conn: &Connection) -> rusqlite::Result<()> {
    // The pragma installs SQLite's own WAL hook, so the hook is set after it.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.wal_hook(Some(note_wal_pages));
    Ok(())
}

/// The WAL hook: SQLite calls it on the committing thread, after the commit.
fn note_wal_pages(_: &rusqlite::hooks::Wal, pages: std::ffi::c_int) -> rusqlite::Result<()> {
    WAL_PAGES.with(|p| p.set(pages));
    Ok(())
}

/// The WAL's length in pages after the last commit made on this thread since the last
/// call, or 0 when there was none.
pub(crate) fn take_wal_pages() -> i32 {
    WAL_PAGES.with(|p| p.replace(0))
}

/// Checkpoints the WAL of `conn`'s database (`PASSIVE`: it waits for no reader; a
/// reader still on an old snapshot keeps the frames it needs in the log, for the next
/// checkpoint).
pub(crate) fn checkpoint(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_note_the_wal_length_and_leave_the_checkpoint_to_the_caller() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("c.db");
        let conn = Connection::open(&path).expect("open");
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .expect("wal");
        hand_over(&conn).expect("hand over");
        take_wal_pages();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
            .expect("write");
        assert!(take_wal_pages() > 0, "the commit noted the WAL's length");
        assert_eq!(take_wal_pages(), 0, "read once");
        // No automatic checkpoint: the WAL keeps growing past SQLite's 1000 pages.
        let big = "x".repeat(4000);
        for _ in 0..1200 {
            conn.execute("INSERT INTO t VALUES (?1)", [&big])
                .expect("insert");
        }
        let pages = take_wal_pages();
        assert!(pages >= CHECKPOINT_PAGES, "{pages} pages in the WAL");
        // Everything is still in the WAL: the database file has not grown.
        let size = || std::fs::metadata(&path).map_or(0, |m| m.len());
        assert!(size() < 1 << 20, "checkpointed already: {} bytes", size());
        checkpoint(&conn).expect("checkpoint");
        assert!(size() > 4 << 20, "checkpointed: {} bytes", size());
        // The next commit starts the log over.
        conn.execute("INSERT INTO t VALUES (1)", [])
            .expect("insert");
        let pages = take_wal_pages();
        assert!((1..10).contains(&pages), "{pages} pages in the WAL");
    }
}
