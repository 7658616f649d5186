//! The pool managers (`deadpool`, `bb8`) against PostgreSQL 15 and 18: 32 tasks share a
//! small pool while another connection kills pool connections with
//! `pg_terminate_backend` (the tasks go on until it struck at least 5 times). Killed
//! connections are replaced, and no request is lost: a request that failed because its
//! connection died is retried on another one, and every request ends up done exactly
//! once, with the right answer (the workload: `pgproto_tests::pool_check`).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pgproto_tests::harness::{HbaMethod, PgCluster, PgVersion};
use pgproto_tests::pool_check::{self, MIN_KILLS, REQUEST, REQUESTS};
use pgproto_tokio::{Client, Error};

const TASKS: i64 = 32;
const POOL_SIZE: usize = 8;

fn conninfo(pg: &PgCluster) -> String {
    format!(
        "{} sslmode=disable application_name=pooltest",
        pg.connection_string(pg.superuser(), None)
    )
}

/// What the workers saw.
#[derive(Default)]
struct Tally {
    retries: AtomicU64,
    pids: Mutex<HashSet<i32>>,
    /// Connections killed so far.
    killed: AtomicU64,
    /// Requests done, per task.
    done: Mutex<Vec<i64>>,
}

impl Tally {
    /// Runs one request on `client` and checks its answer; `Err` only when the
    /// connection died (the caller retries), any other failure panics.
    async fn request(&self, client: &Client, task: i64, seq: i64) -> Result<(), Error> {
        match client.query_one(REQUEST, &[&task, &seq]).await {
            Ok(row) => {
                assert_eq!(row.get::<i64, _>(0usize).unwrap(), task * 1000 + seq);
                self.pids
                    .lock()
                    .unwrap()
                    .insert(row.get::<i32, _>(1usize).unwrap());
                Ok(())
            }
            Err(e) if e.is_connection_lost() => {
                self.retries.fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
            Err(e) => panic!("request {task}/{seq} failed: {e}"),
        }
    }
}

/// Kills pool connections (not itself) until `stop`; counts them in `tally`.
async fn killer(pg_conninfo: String, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let admin = Client::connect(&pg_conninfo.replace("pooltest", "killer"))
        .await
        .unwrap();
    while !stop.load(Ordering::Relaxed) {
        let rows = admin.query(pool_check::KILL, &[]).await.unwrap();
        let killed = rows
            .iter()
            .filter(|r| r.get::<bool, _>(0usize).unwrap())
            .count() as u64;
        tally.killed.fetch_add(killed, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn setup(version: PgVersion) -> (PgCluster, String) {
    let pg = PgCluster::builder()
        .version(version)
        .auth(HbaMethod::Trust)
        .start()
        .unwrap();
    let info = conninfo(&pg);
    let client = Client::connect(&info).await.unwrap();
    client.simple_query(pool_check::CREATE).await.unwrap();
    client.close().await.unwrap();
    (pg, info)
}

/// Checks that every request was done once and that connections were replaced.
async fn verify(info: &str, tally: &Tally) {
    let killed = tally.killed.load(Ordering::Relaxed);
    let done = tally.done.lock().unwrap().clone();
    let client = Client::connect(info).await.unwrap();
    let row = client.query_one(pool_check::VERIFY, &[]).await.unwrap();
    let got: (i64, i64, i64) = (
        row.get(0usize).unwrap(),
        row.get(1usize).unwrap(),
        row.get(2usize).unwrap(),
    );
    assert_eq!(got, pool_check::expected(&done));
    let pids = tally.pids.lock().unwrap().len();
    eprintln!(
        "killed {killed} connections, {} retried requests, {pids} backends served",
        tally.retries.load(Ordering::Relaxed)
    );
    assert!(killed >= MIN_KILLS, "the killer struck {killed} times");
    // More backends than the pool holds at once: killed connections were replaced.
    assert!(pids > POOL_SIZE, "only {pids} backends served the requests");
    client.close().await.unwrap();
}

/// Runs the workload on a pool reached through `get`, with the killer running.
async fn hammer<F, Fut, C>(info: &str, get: F) -> Arc<Tally>
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<C, Error>> + Send,
    C: std::ops::Deref<Target = Client> + Send,
{
    let tally = Arc::new(Tally {
        done: Mutex::new(vec![0; TASKS as usize]),
        ..Tally::default()
    });
    let stop = Arc::new(AtomicBool::new(false));
    let killer = tokio::spawn(killer(info.to_string(), stop.clone(), tally.clone()));
    let mut workers = Vec::new();
    for task in 0..TASKS {
        let (tally, get) = (tally.clone(), get.clone());
        workers.push(tokio::spawn(async move {
            let mut seq = 0;
            while seq < REQUESTS || tally.killed.load(Ordering::Relaxed) < MIN_KILLS {
                assert!(seq < 100_000, "the killer never struck");
                let mut attempts = 0;
                loop {
                    attempts += 1;
                    assert!(attempts <= 100, "request {task}/{seq} never succeeded");
                    let client = match get().await {
                        Ok(c) => c,
                        Err(e) if e.is_connection_lost() => continue,
                        Err(e) => panic!("checkout failed: {e}"),
                    };
                    if tally.request(&client, task, seq).await.is_ok() {
                        break;
                    }
                }
                seq += 1;
            }
            tally.done.lock().unwrap()[task as usize] = seq;
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    killer.await.unwrap();
    tally
}

async fn with_deadpool(version: PgVersion) {
    use pgproto_tokio::pool::deadpool::{Manager, Pool};
    let (_pg, info) = setup(version).await;
    let pool = Pool::builder(Manager::new(info.clone()))
        .max_size(POOL_SIZE)
        .build()
        .unwrap();
    let get = move || {
        let pool = pool.clone();
        async move {
            pool.get().await.map_err(|e| match e {
                deadpool::managed::PoolError::Backend(e) => e,
                other => panic!("pool failed: {other}"),
            })
        }
    };
    let tally = hammer(&info, get).await;
    verify(&info, &tally).await;
}

async fn with_bb8(version: PgVersion) {
    use pgproto_tokio::pool::bb8::Manager;
    let (_pg, info) = setup(version).await;
    let pool = bb8::Pool::builder()
        .max_size(POOL_SIZE as u32)
        .connection_timeout(Duration::from_secs(30))
        .build(Manager::new(info.clone()))
        .await
        .unwrap();
    let get = move || {
        let pool = pool.clone();
        async move {
            pool.get_owned().await.map_err(|e| match e {
                bb8::RunError::User(e) => e,
                bb8::RunError::TimedOut => panic!("checkout timed out"),
            })
        }
    };
    let tally = hammer(&info, get).await;
    verify(&info, &tally).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadpool_pg15() {
    with_deadpool(PgVersion::V15).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadpool_pg18() {
    with_deadpool(PgVersion::V18).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bb8_pg15() {
    with_bb8(PgVersion::V15).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bb8_pg18() {
    with_bb8(PgVersion::V18).await;
}
