//! Alternating A/B measurement, medians and formatting, shared by all subcommands.

use std::time::Instant;

use crate::alloc::Counts;

/// One timed pass: wall time and the allocations made while the clock ran (none when the
/// work ran in another process, e.g. pgbench).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) secs: f64,
    pub(crate) counts: Option<Counts>,
    /// CPU time this process used during the pass (all threads), when measured: the
    /// library's own cost when the other side (a server) is the bottleneck.
    pub(crate) cpu_secs: Option<f64>,
}

impl Sample {
    /// A pass normalised to one operation: `ops` operations took `secs` (report it with
    /// a per-pass count of 1). Allocations, if counted, are divided among the operations.
    pub(crate) fn per_op(self, ops: u64) -> Self {
        let n = ops.max(1);
        Self {
            secs: self.secs / n as f64,
            counts: self.counts.map(|c| Counts {
                allocs: c.allocs / n,
                bytes: c.bytes / n,
            }),
            cpu_secs: self.cpu_secs.map(|c| c / n as f64),
        }
    }

    /// One operation of a peer measured elsewhere, from its rate (pgbench's tps).
    pub(crate) fn from_rate(per_sec: f64) -> Self {
        Self {
            secs: 1.0 / per_sec,
            counts: None,
            cpu_secs: None,
        }
    }
}

/// Runs `f` with the clock and the allocation counters running.
#[inline(never)]
pub(crate) fn timed<R>(f: impl FnOnce() -> R) -> (R, Sample) {
    let counts = Counts::now();
    let start = Instant::now();
    let r = f();
    let secs = start.elapsed().as_secs_f64();
    let counts = Some(Counts::now().since(counts));
    let sample = Sample {
        secs,
        counts,
        cpu_secs: None,
    };
    (r, sample)
}

/// [`timed`], also measuring the CPU time of the whole process (for work split between
/// this process and a server).
pub(crate) fn timed_cpu<R>(f: impl FnOnce() -> R) -> (R, Sample) {
    let cpu = process_cpu_secs();
    let (r, mut sample) = timed(f);
    sample.cpu_secs = match (cpu, process_cpu_secs()) {
        (Some(before), Some(after)) => Some(after - before),
        _ => None,
    };
    (r, sample)
}

/// CPU time of this process so far: the sum over its threads of the nanoseconds on CPU in
/// `/proc/self/task/*/schedstat` (threads that already exited are not counted; take both
/// readings around work whose threads live on).
pub(crate) fn process_cpu_secs() -> Option<f64> {
    let mut ns = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path().join("schedstat");
        let Ok(stat) = std::fs::read_to_string(path) else {
            continue; // the thread ended meanwhile
        };
        ns += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(ns as f64 / 1e9)
}

/// Which implementations to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Only {
    Both,
    Pgproto,
    Peer,
}

impl Only {
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        match s {
            "pgproto" => Ok(Self::Pgproto),
            "peer" => Ok(Self::Peer),
            "both" => Ok(Self::Both),
            other => Err(format!("--only takes pgproto, peer or both, not `{other}`")),
        }
    }

    fn pgproto(self) -> bool {
        self != Self::Peer
    }

    fn peer(self) -> bool {
        self != Self::Pgproto
    }
}

/// The samples of one implementation on one workload.
#[derive(Debug, Default)]
pub(crate) struct Series {
    samples: Vec<Sample>,
}

impl Series {
    /// Adds a pass (for measurements of more than two implementations).
    pub(crate) fn push(&mut self, sample: Sample) {
        self.samples.push(sample);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    fn sorted_secs(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.samples.iter().map(|s| s.secs).collect();
        v.sort_by(f64::total_cmp);
        v
    }

    /// Median seconds per pass.
    pub(crate) fn median_secs(&self) -> f64 {
        median(self.samples.iter().map(|s| s.secs)).unwrap_or(f64::NAN)
    }

    /// Fastest and slowest pass, in seconds.
    pub(crate) fn min_max_secs(&self) -> (f64, f64) {
        let v = self.sorted_secs();
        (
            v.first().copied().unwrap_or(f64::NAN),
            v.last().copied().unwrap_or(f64::NAN),
        )
    }

    /// Median CPU seconds per pass, if measured.
    pub(crate) fn median_cpu_secs(&self) -> Option<f64> {
        median(self.samples.iter().filter_map(|s| s.cpu_secs))
    }

    /// Operations per CPU-second of this process (median), if measured.
    pub(crate) fn per_cpu_sec(&self, per_pass: f64) -> Option<f64> {
        self.median_cpu_secs().map(|c| per_pass / c)
    }

    /// Most allocations any timed pass made; `None` if they were not counted.
    pub(crate) fn max_counts(&self) -> Option<Counts> {
        self.samples
            .iter()
            .filter_map(|s| s.counts)
            .max_by_key(|c| c.allocs)
    }
}

/// The median of some numbers (mean of the middle two for an even count).
fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => v.get(n / 2).copied(),
        _ => Some((v.get(n / 2 - 1)? + v.get(n / 2)?) / 2.0),
    }
}

/// Warms up, then alternates `pgproto` and `peer` for `rounds` rounds (which one goes
/// first alternates too), one full pass per sample.
pub(crate) fn alternate(
    rounds: usize,
    warmup: usize,
    only: Only,
    mut pgproto: impl FnMut() -> Sample,
    mut peer: impl FnMut() -> Sample,
) -> (Series, Series) {
    for _ in 0..warmup {
        if only.pgproto() {
            pgproto();
        }
        if only.peer() {
            peer();
        }
    }
    let (mut a, mut b) = (Series::default(), Series::default());
    for round in 0..rounds {
        let mut run_a = || {
            if only.pgproto() {
                a.samples.push(pgproto());
            }
        };
        let mut run_b = || {
            if only.peer() {
                b.samples.push(peer());
            }
        };
        if round % 2 == 0 {
            run_a();
            run_b();
        } else {
            run_b();
            run_a();
        }
    }
    (a, b)
}

/// `12.34 M`-style number with an SI prefix.
pub(crate) fn si(x: f64) -> String {
    let (v, p) = if x >= 1e9 {
        (x / 1e9, "G")
    } else if x >= 1e6 {
        (x / 1e6, "M")
    } else if x >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    format!("{v:.2} {p}")
}

/// Prints one implementation's line: median throughput, spread and allocations per pass.
pub(crate) fn report(
    workload: &str,
    name: &str,
    series: &Series,
    units: &[(f64, &str)],
) -> Option<f64> {
    if series.is_empty() {
        return None;
    }
    let median = series.median_secs();
    let (min, max) = series.min_max_secs();
    let mut line = format!("{workload:<16} {name:<18}");
    for (i, (per_pass, unit)) in units.iter().enumerate() {
        line += &format!(" {:>9}{unit}", si(per_pass / median));
        if i == 0 {
            line += &format!(
                " (range {}-{})",
                si(per_pass / max).trim_end(),
                si(per_pass / min).trim_end()
            );
        }
    }
    if let (Some(cpu), Some((per_pass, _))) = (series.median_cpu_secs(), units.first()) {
        line += &format!("  cpu {:.0} ns/op", cpu * 1e9 / per_pass);
    }
    if let Some(c) = series.max_counts() {
        line += &format!("  allocs/pass {} ({} B)", c.allocs, c.bytes);
    }
    println!("{line}");
    Some(per_pass_rate(units, median))
}

fn per_pass_rate(units: &[(f64, &str)], median: f64) -> f64 {
    units.first().map_or(f64::NAN, |(n, _)| n / median)
}

/// Prints `ratio <metric> <pgproto/peer>` when both sides ran.
pub(crate) fn ratio(metric: &str, pgproto: Option<f64>, peer: Option<f64>) {
    if let (Some(a), Some(b)) = (pgproto, peer) {
        println!("ratio {metric} {:.3}", a / b);
    }
}

/// Peak resident set size (`VmHWM`) from `/proc/self/status`, if available.
pub(crate) fn peak_rss_kib() -> Option<u64> {
    proc_status_kib("self", "VmHWM")
}

/// A `kB` field (`VmRSS`, `VmHWM`...) of `/proc/<pid>/status` (`pid` may be `self`).
pub(crate) fn proc_status_kib(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// How many operations make a pass of about `target_secs`: times a trial of `trial`
/// operations with `run` (which returns seconds) and scales, rounding up to a multiple of
/// `multiple`. For workloads whose speed varies by orders of magnitude between machines
/// (round trips: ~10k/s across CPUs, over 100k/s on one).
pub(crate) fn calibrate(
    trial: usize,
    target_secs: f64,
    multiple: usize,
    mut run: impl FnMut(usize) -> f64,
) -> usize {
    let secs = run(trial).max(1e-6);
    let n = (trial as f64 * target_secs / secs).ceil() as usize;
    let m = multiple.max(1);
    n.div_ceil(m).max(1) * m
}
