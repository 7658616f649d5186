//! Large and binary COPY with the tokio client against PostgreSQL 15 and 18: 1,000,000
//! rows each way with checksums, a COPY aborted half-way, binary COPY through the core's
//! encoder and decoder. (COPY and streaming in bounded memory, transactions: the
//! conformance suite, `tests/conformance/copy_stream.rs`, run for every adapter.)

use pgproto_core::sqlstate::SqlState;
use pgproto_tests::harness::{PgCluster, PgVersion};
use pgproto_tokio::Client;

/// FNV-1a over a byte stream (order-sensitive: a lost, repeated or reordered byte changes
/// it).
#[derive(Clone, Copy)]
struct Checksum(u64);

impl Checksum {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
    fn update(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

const MILLION: u64 = 1_000_000;

/// Row `i` of the big COPY, in text format.
fn big_row(out: &mut String, i: u64) {
    use std::fmt::Write;
    let _ = writeln!(out, "{i}	name {i} {}	{}", i % 977, i * 7);
}

/// 1,000,000 rows in with COPY FROM STDIN and back out with COPY TO STDOUT: the bytes
/// that come out are the bytes that went in (checksum), and the server agrees on the
/// count and sums. Then a COPY aborted half-way leaves no rows.
async fn copy_million(client: &Client) {
    client
        .simple_query("create table big (id int8, name text, v int8)")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut sent = Checksum::new();
    let mut copy = client.copy_in("copy big from stdin").await.unwrap();
    let mut chunk = String::with_capacity(70_000);
    for i in 1..=MILLION {
        big_row(&mut chunk, i);
        if chunk.len() >= 64 * 1024 {
            sent.update(chunk.as_bytes());
            copy.send(std::mem::replace(&mut chunk, String::with_capacity(70_000)))
                .await
                .unwrap();
        }
    }
    sent.update(chunk.as_bytes());
    copy.send(chunk).await.unwrap();
    assert_eq!(copy.finish().await.unwrap(), MILLION);
    let copied_in = started.elapsed();
    let row = client
        .query_one("select count(*), sum(id)::int8, sum(v)::int8 from big", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>(0usize).unwrap() as u64, MILLION);
    assert_eq!(
        row.get::<i64, _>(1usize).unwrap() as u64,
        MILLION * (MILLION + 1) / 2
    );
    assert_eq!(
        row.get::<i64, _>(2usize).unwrap() as u64,
        7 * MILLION * (MILLION + 1) / 2
    );

    let started = std::time::Instant::now();
    let mut received = Checksum::new();
    let mut bytes = 0usize;
    let mut out = client
        .copy_out("copy (select * from big order by id) to stdout")
        .await
        .unwrap();
    // Read through the `Stream` implementation.
    while let Some(chunk) =
        std::future::poll_fn(|cx| futures_core::Stream::poll_next(std::pin::Pin::new(&mut out), cx))
            .await
    {
        let chunk = chunk.unwrap();
        bytes += chunk.len();
        received.update(&chunk);
    }
    assert_eq!(out.rows(), Some(MILLION));
    assert_eq!(
        received.0, sent.0,
        "COPY out differs from COPY in ({bytes} bytes)"
    );
    eprintln!(
        "COPY 1,000,000 rows: in {copied_in:?}, out {:?} ({bytes} bytes)",
        started.elapsed()
    );

    // Aborted half-way, after 500,000 rows went out: none of them stays.
    client
        .simple_query("create table big_aborted (id int8, name text, v int8)")
        .await
        .unwrap();
    let mut copy = client.copy_in("copy big_aborted from stdin").await.unwrap();
    let mut chunk = String::new();
    for i in 1..=MILLION / 2 {
        big_row(&mut chunk, i);
        if chunk.len() >= 64 * 1024 {
            copy.send(std::mem::take(&mut chunk)).await.unwrap();
        }
    }
    copy.send(chunk).await.unwrap();
    let err = copy.abort("half-way").await.unwrap();
    assert_eq!(err.code, SqlState::QueryCanceled);
    let n = client
        .query_one("select count(*) from big_aborted", &[])
        .await
        .unwrap();
    assert_eq!(n.get::<i64, _>(0usize).unwrap(), 0);
    client
        .simple_query("drop table big; drop table big_aborted")
        .await
        .unwrap();
}

/// Binary COPY both ways, written and read with the core's binary COPY helpers and the
/// type codecs: PostgreSQL accepts what the encoder writes, and the decoder reads back
/// what PostgreSQL writes.
async fn copy_binary(client: &Client) {
    use pgproto_core::copy::{BinaryCopyDecoder, BinaryCopyEncoder};
    use pgproto_core::types::oid;
    client
        .simple_query("create table bin (id int4, name text, big int8)")
        .await
        .unwrap();
    let mut enc = BinaryCopyEncoder::new(&[oid::INT4, oid::TEXT, oid::INT8]);
    let mut copy = client
        .copy_in("copy bin from stdin (format binary)")
        .await
        .unwrap();
    for i in 0..10_000i32 {
        let name = (i % 7 != 0).then(|| format!("n{i} é"));
        enc.write_row(&[&i, &name, &(i64::from(i) << 33)]).unwrap();
        if enc.buffered_len() > 32 * 1024 {
            copy.send(enc.take()).await.unwrap();
        }
    }
    copy.send(enc.finish()).await.unwrap();
    assert_eq!(copy.finish().await.unwrap(), 10_000);
    let row = client
        .query_one(
            "select count(*), count(name), sum(big)::int8 from bin where name is null or name = 'n' || id || ' é'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>(0usize).unwrap(), 10_000);
    assert_eq!(row.get::<i64, _>(1usize).unwrap(), 10_000 - 1_429);
    assert_eq!(
        row.get::<i64, _>(2usize).unwrap(),
        (0..10_000i64).map(|i| i << 33).sum::<i64>()
    );

    let mut out = client
        .copy_out("copy (select * from bin order by id) to stdout (format binary)")
        .await
        .unwrap();
    let mut dec = BinaryCopyDecoder::new();
    let mut next = 0i32;
    while let Some(chunk) = out.next().await {
        dec.push(&chunk.unwrap());
        while let Some(row) = dec.next_row().unwrap() {
            assert_eq!(row.get::<i32>(0, oid::INT4).unwrap(), next);
            let name: Option<String> = row.get(1, oid::TEXT).unwrap();
            assert_eq!(name, (next % 7 != 0).then(|| format!("n{next} é")));
            assert_eq!(row.get::<i64>(2, oid::INT8).unwrap(), i64::from(next) << 33);
            next += 1;
        }
    }
    assert_eq!(next, 10_000);
    assert!(dec.is_finished());
    client.simple_query("drop table bin").await.unwrap();
}

async fn run(version: PgVersion) {
    let (_pg, info) = PgCluster::start_trust(version);
    let client = Client::connect(&info).await.unwrap();
    copy_million(&client).await;
    copy_binary(&client).await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn pg15() {
    run(PgVersion::V15).await;
}

#[tokio::test]
async fn pg18() {
    run(PgVersion::V18).await;
}
