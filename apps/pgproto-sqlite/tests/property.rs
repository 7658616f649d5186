//! The property check as a test: random `SELECT`s from a small PostgreSQL grammar (the
//! `support/property.rs` generator) run on PostgreSQL 15 and on pgproto-sqlite, over the
//! same schema and rows. It fails on any statement answered differently without an
//! error: each case must give the same column names and rows as text, or be refused
//! with 0A000, or fail on both servers.
//!
//! It runs the seeds of [`SEEDS`], [`CASES`] statements each (`PGPROTO_PROPERTY_CASES`
//! sets another number; `examples/property_vs_postgresql.rs` runs longer and other
//! seeds).

#[path = "support/property.rs"]
mod property;
mod support;

/// The fixed seeds.
const SEEDS: &[u64] = &[1, 2, 3];

/// Statements per seed: about 15 s in all on a 2-core machine (debug build).
const CASES: u64 = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_selects_answer_as_postgresql_or_refuse() {
    let servers = property::Servers::start().await;
    let cases = property::cases_per_seed(CASES);
    let mut failures = Vec::new();
    for &seed in SEEDS {
        let counts = property::run_seed(&servers, seed, cases).await;
        println!("seed {seed}: {counts}");
        property::print_refusals(&counts.refusals);
        failures.extend(counts.failures);
    }
    assert!(
        failures.is_empty(),
        "{} statements answered differently from PostgreSQL 15:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
