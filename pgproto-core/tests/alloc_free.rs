//! The DataRow decode path allocates nothing per row.
//!
//! A counting global allocator counts, per thread, every allocation and reallocation. The
//! counter is thread-local so that tests running in parallel on other threads (and the
//! test harness itself) cannot pollute a count: each test resets and reads only its own
//! thread's counter.
//!
//! - Decoding rows already in the [`Framer`]'s buffer (`next_frame_ref` +
//!   `BackendMessage::decode` + iterating every value) must make exactly 0 allocations.
//! - Feeding the stream in 1 KiB chunks may allocate when the input buffer grows, but that
//!   must be bounded by the number of chunks, never proportional to the number of rows.
//! - The counter itself is checked: a deliberate `Vec::with_capacity(1)` counts exactly
//!   one, and the same decode loop that keeps one `Vec` per row is seen allocating.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use bytes::BytesMut;
use pgproto_core::message::{
    BackendMessage, CommandComplete, DataRow, List, ReadyForQuery, TransactionStatus,
};
use pgproto_core::wire::{Direction, Framer, Limits};

thread_local! {
    // `const` initialisation and no destructor: reading it never allocates, so it is safe
    // to use from inside the allocator.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

struct CountingAllocator;

fn count_one() {
    // `try_with` fails only while the thread is being torn down; those are not counted.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call is forwarded unchanged to `System`; only a thread-local counter is
// updated, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Runs `f` and returns its result and the allocations this thread made meanwhile.
fn count_allocations<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = ALLOCATIONS.with(Cell::get);
    let r = f();
    let after = ALLOCATIONS.with(Cell::get);
    (r, after - before)
}

const ROWS: usize = 10_000;

/// What decoding found: rows, total value bytes, NULLs, and whether the stream ended with
/// CommandComplete and ReadyForQuery.
#[derive(Debug, Default, PartialEq, Eq)]
struct Seen {
    rows: usize,
    value_bytes: usize,
    nulls: usize,
    completed: bool,
    ready: bool,
}

/// A server's byte stream: `ROWS` DataRows of four small values (10% NULL), then
/// CommandComplete and ReadyForQuery; and what decoding it must find.
fn stream() -> (BytesMut, Seen) {
    let mut buf = BytesMut::new();
    let mut expect = Seen {
        completed: true,
        ready: true,
        ..Seen::default()
    };
    for i in 0..ROWS {
        let id = i.to_string();
        let name = format!("user-{}", i % 97);
        let amount = (i * 7919 % 100_000).to_string();
        let values: [Option<&[u8]>; 4] = [
            Some(id.as_bytes()),
            (i % 5 != 3).then_some(name.as_bytes()),
            (i % 5 != 1).then_some(amount.as_bytes()),
            Some(b"2024-05-01 12:00:00+00"),
        ];
        for v in values {
            match v {
                Some(v) => expect.value_bytes += v.len(),
                None => expect.nulls += 1,
            }
        }
        DataRow {
            values: List::new(&values),
        }
        .encode(&mut buf)
        .unwrap();
        expect.rows += 1;
    }
    let tag = format!("SELECT {ROWS}");
    CommandComplete { tag: &tag }.encode(&mut buf).unwrap();
    ReadyForQuery {
        status: TransactionStatus::Idle,
    }
    .encode(&mut buf)
    .unwrap();
    (buf, expect)
}

/// Takes every complete frame out of `framer`, decodes it and looks at every value.
/// `keep_values` makes it collect each row's values into a `Vec` (one allocation per row),
/// to show the measurement would catch a per-row allocation.
fn drain(framer: &mut Framer, seen: &mut Seen, keep_values: bool) {
    while let Some(frame) = framer.next_frame_ref().unwrap() {
        match BackendMessage::decode(frame.tag.unwrap(), frame.body).unwrap() {
            BackendMessage::DataRow(row) => {
                seen.rows += 1;
                if keep_values {
                    let kept: Vec<Option<&[u8]>> = row.values.iter().collect();
                    black_box(kept);
                }
                for value in row.values.iter() {
                    match black_box(value) {
                        Some(v) => seen.value_bytes += v.len(),
                        None => seen.nulls += 1,
                    }
                }
            }
            BackendMessage::CommandComplete(cc) => {
                seen.completed = cc.rows() == Some(ROWS as u64);
            }
            BackendMessage::ReadyForQuery(rfq) => {
                seen.ready = rfq.status == TransactionStatus::Idle;
            }
            other => panic!("unexpected {}", other.name()),
        }
    }
}

#[test]
fn counter_counts_this_threads_allocations() {
    let (v, n) = count_allocations(|| black_box(Vec::<u8>::with_capacity(1)));
    assert_eq!(n, 1, "Vec::with_capacity(1) must count as one allocation");
    drop(v);
    let (_, n) = count_allocations(|| {
        let mut v = black_box(Vec::<u64>::with_capacity(1));
        v.extend([1, 2, 3]); // grows: a reallocation
        black_box(v)
    });
    assert_eq!(n, 2, "an allocation and a reallocation");
    let (_, n) = count_allocations(|| black_box(1 + 1));
    assert_eq!(n, 0);
}

#[test]
fn decoding_buffered_data_rows_allocates_nothing() {
    let (bytes, expect) = stream();
    let mut framer = Framer::new(Direction::Backend, Limits::default());
    framer.push(&bytes);

    let mut seen = Seen::default();
    let ((), allocations) = count_allocations(|| drain(&mut framer, &mut seen, false));
    assert_eq!(seen, expect, "every row and value was decoded");
    assert_eq!(framer.buffered_len(), 0);
    assert_eq!(
        allocations, 0,
        "decoding {ROWS} buffered DataRows must not allocate"
    );
}

#[test]
fn measurement_catches_a_per_row_allocation() {
    let (bytes, expect) = stream();
    let mut framer = Framer::new(Direction::Backend, Limits::default());
    framer.push(&bytes);

    let mut seen = Seen::default();
    let ((), allocations) = count_allocations(|| drain(&mut framer, &mut seen, true));
    assert_eq!(seen, expect);
    assert!(
        allocations >= ROWS as u64,
        "a Vec per row must show up: {allocations} allocations for {ROWS} rows"
    );
}

/// Feeding 1 KiB at a time, as from a socket: the framer's input buffer may grow (and may
/// occasionally need a fresh allocation when the unread tail cannot be moved to the
/// front), so some allocations are allowed. They depend on how the buffer is fed, not on
/// what it holds: at most one per chunk pushed, and far fewer than one per row. An
/// allocation per row (or per frame) would give at least 10,000.
#[test]
fn decoding_in_1k_chunks_allocates_per_chunk_not_per_row() {
    const CHUNK: usize = 1024;
    let (bytes, expect) = stream();
    let chunks = bytes.len().div_ceil(CHUNK);
    assert!(
        chunks < ROWS / 10,
        "the bound below must tell chunks from rows"
    );

    let mut framer = Framer::new(Direction::Backend, Limits::default());
    let mut seen = Seen::default();
    let ((), allocations) = count_allocations(|| {
        for chunk in bytes.chunks(CHUNK) {
            framer.push(chunk);
            drain(&mut framer, &mut seen, false);
        }
    });
    assert_eq!(seen, expect, "every row and value was decoded");
    assert_eq!(framer.buffered_len(), 0);
    assert!(
        allocations as usize <= chunks,
        "{allocations} allocations for {chunks} chunks: more than one per chunk"
    );
    assert!(
        (allocations as usize) < ROWS / 10,
        "{allocations} allocations for {ROWS} rows: allocating per row?"
    );
    println!("{allocations} allocations for {chunks} chunks of {CHUNK} B, {ROWS} rows");
}
