//! Benchmarks of pgproto against its peers.
//!
//! Every subcommand runs pgproto and a peer library in the same process on the same input,
//! alternating A B A B, and prints medians and `ratio <metric> <pgproto/peer>` lines (above
//! 1 means pgproto is better). See `/work/shared/BENCHMARKING.md` for why.
//!
//! ```text
//! cargo run --release -p pgproto-benches -- codec [--rows N] [--pairs N] [--rounds N]
//! ```

mod alloc;
mod codec;
mod measure;
mod proxy;

use std::process::ExitCode;

/// Counts allocations so each benchmark can report allocations per pass and peak heap.
#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

const USAGE: &str = "\
usage: pgproto-benches <subcommand> [options]

subcommands:
  codec   decode 200k DataRows and encode 200k Bind+Execute pairs,
          pgproto-core vs postgres-protocol
          options: --rows N  --pairs N  --rounds N  --warmup N  --chunk BYTES
                   --only pgproto|peer  (one side only, e.g. for a profiler; no ratios)
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let sub = args.next();
    let rest: Vec<String> = args.collect();
    let result = match sub.as_deref() {
        Some("codec") => codec::run(&rest),
        Some("proxy") => proxy::run(&rest),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("unknown subcommand `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
        None => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("error: {msg}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
