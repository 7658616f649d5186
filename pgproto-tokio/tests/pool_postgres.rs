//! The pool managers (`deadpool`, `bb8`) against PostgreSQL 15 and 18: 32 tasks share a
//! small pool while another connection kills pool connections with
//! `pg_terminate_backend` (the tasks go on until it struck at least 5 times). Killed
//! connections are replaced, and no request is lost: a request that failed because its
//! connection died is retried on another one, and every request ends up done exactly
//! once, with the right answer (the workload: `pgproto_tests::pool_check`).

use std::sync::Arc;
use std::time::Duration;

use pgproto_tests::harness::{HbaMethod, PgCluster, PgVersion};
use pgproto_tests::pool_check::{self, Tally, REQUEST};
use pgproto_tokio::{Client, Error};

const TASKS: i64 = 32;
const POOL_SIZE: usize = 8;

fn conninfo(pg: &PgCluster) -> String {
    format!(
        "{} sslmode=disable application_name=pooltest",
        pg.connection_string(pg.superuser(), None)
    )
}

/// Kills pool connections (not itself) until [`Tally::stop`]; counts them in `tally`.
async fn killer(pg_conninfo: String, tally: Arc<Tally>) {
    let admin = Client::connect(&pg_conninfo.replace("pooltest", "killer"))
        .await
        .unwrap();
    while tally.killing() {
        tally.killed(&admin.query(pool_check::KILL, &[]).await.unwrap());
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
async fn verify(info: &str, tally: &Tally, done: &[i64]) {
    let client = Client::connect(info).await.unwrap();
    let row = client.query_one(pool_check::VERIFY, &[]).await.unwrap();
    tally.verify(&row, done, POOL_SIZE);
    client.close().await.unwrap();
}

/// Runs the workload on a pool reached through `get`, with the killer running, and
/// checks the outcome.
async fn hammer<F, Fut, C>(info: &str, get: F)
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<C, Error>> + Send,
    C: std::ops::Deref<Target = Client> + Send,
{
    let tally = Arc::new(Tally::default());
    let killer = tokio::spawn(killer(info.to_string(), tally.clone()));
    let mut workers = Vec::new();
    for task in 0..TASKS {
        let (tally, get) = (tally.clone(), get.clone());
        workers.push(tokio::spawn(async move {
            let mut worker = tally.worker(task);
            while let Some((task, seq)) = worker.request() {
                match get().await {
                    Ok(client) => worker.answer(client.query_one(REQUEST, &[&task, &seq]).await),
                    Err(e) if e.is_connection_lost() => continue,
                    Err(e) => panic!("checkout failed: {e}"),
                };
            }
            worker.done()
        }));
    }
    let mut done = Vec::new();
    for w in workers {
        done.push(w.await.unwrap());
    }
    tally.stop();
    killer.await.unwrap();
    verify(info, &tally, &done).await;
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
    hammer(&info, get).await;
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
    hammer(&info, get).await;
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
