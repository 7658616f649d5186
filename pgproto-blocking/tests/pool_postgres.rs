//! The `r2d2` manager against PostgreSQL 15 and 18: 32 threads share a small pool while
//! another connection kills pool connections with `pg_terminate_backend`. Killed
//! connections are replaced, and no request is lost: a request that failed because its
//! connection died is retried on another one, and every request ends up done exactly
//! once, with the right answer.

use std::sync::Arc;
use std::time::Duration;

use pgproto_blocking::pool::Manager;
use pgproto_blocking::Client;
use pgproto_tests::harness::{HbaMethod, PgCluster, PgVersion};
use pgproto_tests::pool_check::{self, Tally, REQUEST};

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
    let tally = Arc::new(Tally::default());
    let killer = {
        let tally = tally.clone();
        let mut admin = Client::connect(&info.replace("pooltest", "killer")).unwrap();
        std::thread::spawn(move || {
            while tally.killing() {
                tally.killed(&admin.query(pool_check::KILL, &[]).unwrap());
                std::thread::sleep(Duration::from_millis(25));
            }
        })
    };
    let workers: Vec<_> = (0..THREADS)
        .map(|task| {
            let (pool, tally) = (pool.clone(), tally.clone());
            std::thread::spawn(move || {
                let mut worker = tally.worker(task);
                while let Some((task, seq)) = worker.request() {
                    // r2d2 retries failed connects itself until its timeout.
                    let mut client = pool.get().unwrap();
                    let lost = worker.answer(client.query_one(REQUEST, &[&task, &seq]));
                    assert!(
                        !lost || client.is_closed(),
                        "a lost connection left the client open"
                    );
                }
                worker.done()
            })
        })
        .collect();
    let done: Vec<i64> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    tally.stop();
    killer.join().unwrap();
    let row = setup.query_one(pool_check::VERIFY, &[]).unwrap();
    tally.verify(&row, &done, POOL_SIZE as usize);
}

#[test]
fn r2d2_pg15() {
    run(PgVersion::V15);
}

#[test]
fn r2d2_pg18() {
    run(PgVersion::V18);
}
