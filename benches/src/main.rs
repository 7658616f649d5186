//! Benchmarks of pgproto against its peers.
//!
//! Every subcommand runs pgproto and a peer library in the same process on the same input,
//! alternating A B A B, and prints medians and `ratio <metric> <pgproto/peer>` lines (above
//! 1 means pgproto is better). See `benches/README.md` for why.
//!
//! ```text
//! cargo run --release -p pgproto-benches -- codec [--rows N] [--pairs N] [--rounds N]
//! cargo run --release -p pgproto-benches -- client [--seconds S] [--runtime current|multi]
//! cargo run --release -p pgproto-benches -- server [--seconds S] [--rounds N]
//! cargo run --release -p pgproto-benches -- copy [--rows N] [--rounds N]
//! cargo run --release -p pgproto-benches -- sqlite [--seconds S] [--rounds N]
//! ```

mod alloc;
mod client;
mod codec;
mod copy;
mod measure;
mod pgbench;
mod pin;
mod proxy;
mod server;
mod servers;
mod sqlite;

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
  client  pgproto-tokio vs tokio-postgres and pgproto-blocking vs libpq (pgbench) against
          a PostgreSQL 15 started for the run: sequential prepared SELECT $1::int4,
          64 pipelined, fetching 1M rows x 3 columns with typed getters
          options: --queries N  --pipelined N  --depth N  --rows N  --rounds N
                   --rows-rounds N  --warmup N  --seconds S  --pgbench-rounds N
                   --pass-secs S (seq/pipe pass length when --queries/--pipelined unset)
                   --runtime current|multi  --pin on|off  --only pgproto|peer
                   --workloads seq,pipe,rows,blocking
  server  pgbench SELECT 1 (-c1, -c8 -j2; simple/extended/prepared) against pgproto-tokio's
          fixed-answer server and a pgwire one, then memory per idle connection
          options: --seconds S  --rounds N  --conns N  --pin on|off  --only pgproto|peer
  copy    COPY FROM STDIN and COPY TO STDOUT of 1M rows (int4, text, int8) against a
          PostgreSQL 15 started for the run: pgproto-tokio vs tokio-postgres vs psql \\copy
          options: --rows N  --rounds N  --warmup N
  proxy   pgbench -M prepared (SELECT 1 and TPC-B-like; -c1, -c8, -c32) through
          pgproto-proxy (cargo build --release -p pgproto-proxy first), through PgBouncer
          (session mode; apt-get install pgbouncer) and direct
          (see benches/src/proxy.rs for options)
  sqlite  pgbench against pgproto-sqlite (a file database; cargo build --release -p
          pgproto-sqlite first) and PostgreSQL 15 on the same 10,000-row table: point
          SELECT by primary key and a one-row INSERT transaction (simple and prepared, -c1
          and -c8), and 8 readers with and without a session holding a write transaction
          open; TPS and server CPU per transaction
          (see benches/src/sqlite.rs for options)
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let sub = args.next();
    let rest: Vec<String> = args.collect();
    let result = match sub.as_deref() {
        Some("codec") => codec::run(&rest),
        Some("client") => client::run(&rest),
        Some("server") => server::run(&rest),
        // Used by `server`: one server alone in this process.
        Some("server-process") => servers::process(&rest),
        Some("proxy") => proxy::run(&rest),
        Some("copy") => copy::run(&rest),
        Some("sqlite") => sqlite::run(&rest),
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
