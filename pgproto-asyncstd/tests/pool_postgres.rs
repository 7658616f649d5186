//! The deadpool manager of the futures-io client against PostgreSQL 15 and 18, under
//! async-std and under smol: a pool whose connections are killed while 32 tasks use it.
//! (COPY, streamed rows and transactions: the conformance suite,
//! `tests/conformance/copy_stream.rs`, run for every adapter.)

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Exec, BOTH};
use pgproto_asyncstd::pool::{Manager, Pool};
use pgproto_tests::harness::{PgCluster, PgVersion};
use pgproto_tests::pool_check::{self, Tally, REQUEST};

const LIMIT: Duration = Duration::from_secs(180);

/// 32 tasks on a pool of 8 while another connection kills pool connections: every
/// request is done once, with the right answer; failed ones (their connection died)
/// are retried on another connection.
async fn pool(info: &str, exec: Exec) {
    const TASKS: i64 = 32;
    const POOL_SIZE: usize = 8;
    let info = format!("{info} application_name=pooltest");
    let (admin, admin_conn) = exec
        .connect(&info.replace("pooltest", "admin"))
        .await
        .unwrap();
    admin
        .simple_query("drop table if exists hits")
        .await
        .unwrap();
    admin.simple_query(pool_check::CREATE).await.unwrap();
    let manager = Manager::new(info.clone(), move |connection| {
        exec.spawn_detached(connection)
    });
    let pool = Pool::builder(manager).max_size(POOL_SIZE).build().unwrap();
    let tally = Arc::new(Tally::default());
    let killer = {
        let tally = tally.clone();
        let (killer, killer_conn) = exec
            .connect(&info.replace("pooltest", "killer"))
            .await
            .unwrap();
        async move {
            while tally.killing() {
                tally.killed(&killer.query(pool_check::KILL, &[]).await.unwrap());
                async_io::Timer::after(Duration::from_millis(25)).await;
            }
            killer.close().await.unwrap();
            killer_conn.await.unwrap();
        }
    };
    let killer = exec.spawn_any(killer);
    let mut workers = Vec::new();
    for task in 0..TASKS {
        let (pool, tally) = (pool.clone(), tally.clone());
        workers.push(exec.spawn_any(async move {
            let mut worker = tally.worker(task);
            while let Some((task, seq)) = worker.request() {
                match pool.get().await {
                    Ok(client) => worker.answer(client.query_one(REQUEST, &[&task, &seq]).await),
                    Err(deadpool::managed::PoolError::Backend(e)) if e.is_connection_lost() => {
                        continue
                    }
                    Err(e) => panic!("checkout failed: {e}"),
                };
            }
            worker.done()
        }));
    }
    let mut done = Vec::new();
    for w in workers {
        done.push(w.await);
    }
    tally.stop();
    killer.await;
    eprint!("{exec:?}: ");
    let row = admin.query_one(pool_check::VERIFY, &[]).await.unwrap();
    tally.verify(&row, &done, POOL_SIZE);
    pool.close();
    admin.close().await.unwrap();
    admin_conn.await.unwrap();
}

fn run(version: PgVersion) {
    let (_pg, info) = PgCluster::start_trust(version);
    for exec in BOTH {
        exec.block_on(LIMIT, pool(&info, exec));
    }
}

#[test]
fn pool_pg15() {
    run(PgVersion::V15);
}

#[test]
fn pool_pg18() {
    run(PgVersion::V18);
}
