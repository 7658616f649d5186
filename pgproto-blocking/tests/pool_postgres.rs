//! The `r2d2` manager against PostgreSQL 15 and 18: 32 threads share a small pool while
//! another connection kills pool connections with `pg_terminate_backend`. Killed
//! connections are replaced, and no request is lost: a request that failed because its
//! connection died is retried on another one, and every request ends up done exactly
//! once, with the right answer.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pgproto_blocking::pool::Manager;
use pgproto_blocking::Client;
use pgproto_tests::harness::{HbaMethod, PgCluster, PgVersion};
use pgproto_tests::pool_check::{self, MIN_KILLS, REQUEST, REQUESTS};

const THREADS: i64 = 32;
const POOL_SIZE: u32 = 8;

fn run(version: PgVersion) {
    let pg = PgCluster::start_with(version, HbaMethod::Trust);
    let info = pg.superuser_conninfo("application_name=pooltest");
    let mut setup = Client::connect(&info.replace("pooltest", "setup")).unwrap();
    setup.simple_query(pool_check::CREATE).unwrap();

    let pool = r2d2::Pool::builder()
        .max_size(POOL_SIZE)
        .connection_timeout(Duration::from_secs(30))
        .build(Manager::new(info.clone()))
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let killed = Arc::new(AtomicU64::new(0));
    let killer = {
        let (stop, killed) = (stop.clone(), killed.clone());
        let mut admin = Client::connect(&info.replace("pooltest", "killer")).unwrap();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let rows = admin.query(pool_check::KILL, &[]).unwrap();
                let n = rows
                    .iter()
                    .filter(|r| r.get::<bool, _>(0usize).unwrap())
                    .count() as u64;
                killed.fetch_add(n, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(25));
            }
        })
    };
    let retries = Arc::new(AtomicU64::new(0));
    let pids = Arc::new(Mutex::new(HashSet::new()));
    let workers: Vec<_> = (0..THREADS)
        .map(|task| {
            let (pool, retries, pids) = (pool.clone(), retries.clone(), pids.clone());
            let killed = killed.clone();
            std::thread::spawn(move || {
                let mut seq = 0;
                while seq < REQUESTS || killed.load(Ordering::Relaxed) < MIN_KILLS {
                    assert!(seq < 100_000, "the killer never struck");
                    let mut attempts = 0;
                    loop {
                        attempts += 1;
                        assert!(attempts <= 100, "request {task}/{seq} never succeeded");
                        // r2d2 retries failed connects itself until its timeout.
                        let mut client = pool.get().unwrap();
                        match client.query_one(REQUEST, &[&task, &seq]) {
                            Ok(row) => {
                                assert_eq!(row.get::<i64, _>(0usize).unwrap(), task * 1000 + seq);
                                pids.lock()
                                    .unwrap()
                                    .insert(row.get::<i32, _>(1usize).unwrap());
                                break;
                            }
                            Err(e) if e.is_connection_lost() => {
                                assert!(client.is_closed(), "{e} left the client open");
                                retries.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => panic!("request {task}/{seq} failed: {e}"),
                        }
                    }
                    seq += 1;
                }
                seq
            })
        })
        .collect();
    let done: Vec<i64> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    stop.store(true, Ordering::Relaxed);
    killer.join().unwrap();
    let killed = killed.load(Ordering::Relaxed);

    let row = setup.query_one(pool_check::VERIFY, &[]).unwrap();
    let got: (i64, i64, i64) = (
        row.get(0usize).unwrap(),
        row.get(1usize).unwrap(),
        row.get(2usize).unwrap(),
    );
    assert_eq!(got, pool_check::expected(&done));
    let pids = pids.lock().unwrap().len();
    eprintln!(
        "killed {killed} connections, {} retried requests, {pids} backends served",
        retries.load(Ordering::Relaxed)
    );
    assert!(killed >= MIN_KILLS, "the killer struck {killed} times");
    assert!(
        pids > POOL_SIZE as usize,
        "only {pids} backends served the requests"
    );
}

#[test]
fn r2d2_pg15() {
    run(PgVersion::V15);
}

#[test]
fn r2d2_pg18() {
    run(PgVersion::V18);
}
