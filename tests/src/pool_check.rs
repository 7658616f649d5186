//! The workload of the pool tests (every adapter's pool manager runs it): many workers
//! share a small pool while another connection kills pool connections with
//! `pg_terminate_backend`; each request is an idempotent upsert, retried on another
//! connection when its connection died, and at the end the table must hold every
//! request exactly once.

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
