//! Alternating A/B measurement, medians and formatting, shared by all subcommands.

use std::time::Instant;

use crate::alloc::Counts;

/// One timed pass: wall time and the allocations made while the clock ran.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) secs: f64,
    pub(crate) counts: Counts,
}

/// Runs `f` with the clock and the allocation counters running.
#[inline(never)]
pub(crate) fn timed<R>(f: impl FnOnce() -> R) -> (R, Sample) {
    let counts = Counts::now();
    let start = Instant::now();
    let r = f();
    let secs = start.elapsed().as_secs_f64();
    let counts = Counts::now().since(counts);
    (r, Sample { secs, counts })
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
        let v = self.sorted_secs();
        match v.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        }
    }

    /// Fastest and slowest pass, in seconds.
    pub(crate) fn min_max_secs(&self) -> (f64, f64) {
        let v = self.sorted_secs();
        (
            v.first().copied().unwrap_or(f64::NAN),
            v.last().copied().unwrap_or(f64::NAN),
        )
    }

    /// Most allocations any timed pass made.
    pub(crate) fn max_counts(&self) -> Counts {
        self.samples
            .iter()
            .map(|s| s.counts)
            .max_by_key(|c| c.allocs)
            .unwrap_or_default()
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
    let c = series.max_counts();
    line += &format!("  allocs/pass {} ({} B)", c.allocs, c.bytes);
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
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
