//! The workload of the pool tests (every adapter's pool manager runs it): many workers
//! share a small pool while another connection kills pool connections with
//! `pg_terminate_backend`; each request is an idempotent upsert, retried on another
//! connection when its connection died, and at the end the table must hold every
//! request exactly once.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use pgproto_core::adapter::Error;
use pgproto_core::client::Row;

/// The `application_name` of pool connections (the killer kills only those).
pub const APPLICATION_NAME: &str = "pooltest";

/// Creates the table the requests write.
pub const CREATE: &str =
    "create table hits (task int8, seq int8, pid int4, primary key (task, seq))";

/// Request `($1 task, $2 seq)`: an upsert (a retry after a kill that struck after the
/// commit does not count twice) returning `task * 1000 + seq` and the pid of the backend
/// that ran it.
pub const REQUEST: &str = "insert into hits (task, seq, pid) values ($1, $2, pg_backend_pid()) \
     on conflict (task, seq) do update set pid = excluded.pid \
     returning task * 1000 + seq, pid";

/// Kills one pool connection at random; returns a row per attempt (`true`: killed).
pub const KILL: &str = "select pg_terminate_backend(pid) from pg_stat_activity \
     where application_name = 'pooltest' order by random() limit 1";

/// Rows, distinct requests and the sum of `task * 1000 + seq` in the table.
pub const VERIFY: &str = "select count(*), count(distinct (task, seq)), \
     coalesce(sum(task * 1000 + seq), 0)::int8 from hits";

/// Requests per worker at least; workers go on until the killer struck
/// [`MIN_KILLS`] times.
pub const REQUESTS: i64 = 50;

/// How many connections the killer must have killed before the workers stop.
pub const MIN_KILLS: u64 = 5;

/// What [`VERIFY`] must return when worker `t` did requests `0..done[t]`:
/// `(rows, distinct requests, sum)`.
pub fn expected(done: &[i64]) -> (i64, i64, i64) {
    let total: i64 = done.iter().sum();
    let sum = done
        .iter()
        .zip(0i64..)
        .flat_map(|(n, t)| (0..*n).map(move |s| t * 1000 + s))
        .sum();
    (total, total, sum)
}

/// What the workers and the killer of a pool test saw, shared by their tasks or
/// threads; it checks each answer as it comes and the whole at the end.
#[derive(Debug, Default)]
pub struct Tally {
    retries: AtomicU64,
    killed: AtomicU64,
    pids: Mutex<HashSet<i32>>,
    stopped: AtomicBool,
}

impl Tally {
    /// The requests of worker `task`, to be sent in turn.
    pub fn worker(&self, task: i64) -> Worker<'_> {
        Worker {
            tally: self,
            task,
            seq: 0,
            attempts: 0,
        }
    }

    /// Whether the killer goes on (until [`Tally::stop`]).
    pub fn killing(&self) -> bool {
        !self.stopped.load(Ordering::Relaxed)
    }

    /// Tells the killer to stop.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    /// Counts the connections one [`KILL`] killed.
    pub fn killed(&self, rows: &[Row]) {
        let n = rows
            .iter()
            .filter(|r| r.get::<bool, _>(0usize).unwrap())
            .count();
        self.killed.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Checks the [`VERIFY`] row: every request of `done` (worker `t` did requests
    /// `0..done[t]`) stands in the table once; the killer struck; more backends than
    /// the pool holds at once served (killed connections were replaced).
    pub fn verify(&self, row: &Row, done: &[i64], pool_size: usize) {
        let got: (i64, i64, i64) = (
            row.get(0usize).unwrap(),
            row.get(1usize).unwrap(),
            row.get(2usize).unwrap(),
        );
        assert_eq!(got, expected(done));
        let killed = self.killed.load(Ordering::Relaxed);
        let pids = self.pids.lock().unwrap().len();
        eprintln!(
            "killed {killed} connections, {} retried requests, {pids} backends served",
            self.retries.load(Ordering::Relaxed)
        );
        assert!(killed >= MIN_KILLS, "the killer struck {killed} times");
        assert!(pids > pool_size, "only {pids} backends served the requests");
    }
}

/// One worker's requests: [`Worker::request`] says which to send, [`Worker::answer`] takes
/// its outcome; a request whose connection died is sent again.
#[derive(Debug)]
pub struct Worker<'a> {
    tally: &'a Tally,
    task: i64,
    seq: i64,
    attempts: u32,
}

impl Worker<'_> {
    /// The parameters of the request to send now (`$1 task, $2 seq` of [`REQUEST`]), or
    /// `None` once the worker did [`REQUESTS`] and the killer struck [`MIN_KILLS`] times.
    /// Panics if the killer never strikes, or a request fails 100 times.
    pub fn request(&mut self) -> Option<(i64, i64)> {
        let (task, seq) = (self.task, self.seq);
        assert!(seq < 100_000, "the killer never struck");
        if seq >= REQUESTS && self.tally.killed.load(Ordering::Relaxed) >= MIN_KILLS {
            return None;
        }
        self.attempts += 1;
        assert!(self.attempts <= 100, "request {task}/{seq} never succeeded");
        Some((task, seq))
    }

    /// Takes the outcome of the request [`Worker::request`] gave: an answer is checked
    /// (`task * 1000 + seq`) and its backend noted; a lost connection means the request
    /// is sent again (returns `true`); any other error panics.
    pub fn answer(&mut self, result: Result<Row, Error>) -> bool {
        let (task, seq) = (self.task, self.seq);
        match result {
            Ok(row) => {
                assert_eq!(row.get::<i64, _>(0usize).unwrap(), task * 1000 + seq);
                let pid = row.get::<i32, _>(1usize).unwrap();
                self.tally.pids.lock().unwrap().insert(pid);
                (self.seq, self.attempts) = (seq + 1, 0);
                false
            }
            Err(e) if e.is_connection_lost() => {
                self.tally.retries.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(e) => panic!("request {task}/{seq} failed: {e}"),
        }
    }

    /// How many requests the worker did.
    pub fn done(&self) -> i64 {
        self.seq
    }
}

/// Peak resident set size of this process (`VmHWM`), in KiB.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
