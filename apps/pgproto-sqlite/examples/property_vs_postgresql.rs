//! The property check for long runs (the CI test is `tests/property.rs`, over the same
//! generator, `tests/support/property.rs`): random `SELECT`s from a small PostgreSQL
//! grammar run on PostgreSQL 15 and on pgproto-sqlite, over the same schema and rows.
//! It exits with status 1 when a statement answered differently without an error.
//!
//! ```sh
//! cargo run -p pgproto-sqlite --example property_vs_postgresql
//! ```
//!
//! It runs the seeds of [`SEEDS`], [`DEFAULT_CASES`] statements each, and prints the
//! counts. `PGPROTO_PROPERTY_SEED` adds a seed of one's own (`time` for one from the
//! clock), `PGPROTO_PROPERTY_CASES` sets the statements per seed.

#[path = "../tests/support/property.rs"]
mod property;
#[path = "../tests/support/mod.rs"]
mod support;

/// Statements per seed unless `PGPROTO_PROPERTY_CASES` says otherwise.
const DEFAULT_CASES: u64 = 1000;

/// The fixed seeds every run checks.
const SEEDS: &[u64] = &[1, 2, 3];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut seeds = SEEDS.to_vec();
    match std::env::var("PGPROTO_PROPERTY_SEED").ok().as_deref() {
        Some("time") => seeds.push(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64),
        ),
        Some(s) => seeds.push(
            s.parse()
                .expect("PGPROTO_PROPERTY_SEED: a number or `time`"),
        ),
        None => {}
    }
    let cases = property::cases_per_seed(DEFAULT_CASES);
    let servers = property::Servers::start().await;
    let mut failures = Vec::new();
    let mut refusals = std::collections::BTreeMap::new();
    for seed in seeds {
        let counts = property::run_seed(&servers, seed, cases).await;
        println!("seed {seed}: {counts}");
        for (what, n) in &counts.refusals {
            *refusals.entry(what.clone()).or_insert(0) += n;
        }
        failures.extend(counts.failures);
    }
    property::print_refusals(&refusals);
    for f in &failures {
        println!("FAIL {f}\n");
    }
    if !failures.is_empty() {
        println!(
            "{} statements answered differently from PostgreSQL 15 (see FAIL above; rerun \
             one seed with PGPROTO_PROPERTY_SEED=n)",
            failures.len()
        );
        std::process::exit(1);
    }
}
