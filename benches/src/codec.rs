//! `codec`: decoding a result set and encoding Bind+Execute, pgproto-core vs
//! postgres-protocol, same input, same process, alternating.
//!
//! Decode input: RowDescription (int4, text, int8, timestamptz, text format), N DataRows of
//! realistic small text values (10% of all values NULL), CommandComplete `SELECT N`,
//! ReadyForQuery. Both sides frame and decode every message, check its type, look at every
//! column value (taking the value's bytes and summing lengths and NULLs) and at the
//! RowDescription fields, CommandComplete tag and ReadyForQuery status; the results are
//! checked against what was generated.
//!
//! - `decode`: the whole stream is already in the library's input buffer (copied there
//!   before the clock starts, for both).
//! - `decode chunked`: the stream arrives in `--chunk`-byte pieces, as from a socket; each
//!   piece is appended to the library's buffer and all complete messages taken out.
//!
//! Encode: N Bind (unnamed portal, statement `s1`, params int4 binary / short text / NULL,
//! result formats `[binary]`) + Execute pairs into a reused buffer; both sides' bytes are
//! asserted identical before measuring.

use std::hint::black_box;

use bytes::{BufMut, BytesMut};
use fallible_iterator::FallibleIterator;
use pgproto_core::message::{BackendMessage, Bind, Execute, Format, List};
use pgproto_core::wire::{Direction, Framer, Limits};
use postgres_protocol::message::{backend, frontend};
use postgres_protocol::IsNull;

use crate::alloc;
use crate::measure::{alternate, peak_rss_kib, ratio, report, timed, Only, Sample};

struct Config {
    rows: usize,
    pairs: usize,
    rounds: usize,
    warmup: usize,
    chunk: usize,
    only: Only,
}

impl Config {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut c = Self {
            rows: 200_000,
            pairs: 200_000,
            rounds: 11,
            warmup: 3,
            chunk: 16 * 1024,
            only: Only::Both,
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let num = || {
                value
                    .parse::<usize>()
                    .map_err(|e| format!("{flag} {value}: {e}"))
            };
            match flag.as_str() {
                "--rows" => c.rows = num()?,
                "--pairs" => c.pairs = num()?,
                "--rounds" => c.rounds = num()?.max(1),
                "--warmup" => c.warmup = num()?,
                "--chunk" => c.chunk = num()?.max(1),
                "--only" => c.only = Only::parse(value)?,
                other => return Err(format!("unknown option `{other}` for codec")),
            }
        }
        Ok(c)
    }
}

/// Runs the codec benchmark.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let cfg = Config::parse(args)?;
    alloc::reset_peak();
    println!(
        "codec: {} rounds alternating pgproto-core / postgres-protocol after {} warm-up \
         passes; medians (range = slowest-fastest pass)",
        cfg.rounds, cfg.warmup
    );

    let (pg_decode, peer_decode, pg_chunked, peer_chunked) = bench_decode(&cfg);
    let (pg_encode, peer_encode) = bench_encode(&cfg);

    println!(
        "peak heap {:.1} MiB, peak RSS {}",
        alloc::peak_bytes() as f64 / (1024.0 * 1024.0),
        peak_rss_kib().map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
    );
    ratio("decode_rows_per_s", pg_decode, peer_decode);
    ratio("decode_chunked_rows_per_s", pg_chunked, peer_chunked);
    ratio("encode_pairs_per_s", pg_encode, peer_encode);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Decode

/// What a decoder saw; compared with what was generated.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Summary {
    rows: u64,
    value_bytes: u64,
    nulls: u64,
    fields: u64,
    type_oids: u64,
    completed_rows: u64,
    ready_status: u8,
}

/// Deterministic pseudo-random numbers (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn message(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(body);
}

const COLUMNS: [(&str, u32, i16); 4] = [
    ("id", 23, 4),
    ("name", 25, -1),
    ("amount", 20, 8),
    ("created_at", 1184, 8),
];

/// The server's byte stream for `SELECT id, name, amount, created_at ...` returning `rows`
/// rows, hand-encoded (independently of both libraries), and what decoding it must find.
fn result_set(rows: usize) -> (Vec<u8>, Summary) {
    let mut rng = Rng(0x5eed);
    let mut out = Vec::with_capacity(rows * 64);
    let mut expect = Summary::default();

    let mut body = Vec::new();
    body.extend_from_slice(&(COLUMNS.len() as u16).to_be_bytes());
    for (i, (name, oid, size)) in COLUMNS.iter().enumerate() {
        body.extend_from_slice(name.as_bytes());
        body.push(0);
        body.extend_from_slice(&16_384u32.to_be_bytes()); // table OID
        body.extend_from_slice(&(i as i16 + 1).to_be_bytes()); // attribute number
        body.extend_from_slice(&oid.to_be_bytes());
        body.extend_from_slice(&size.to_be_bytes());
        body.extend_from_slice(&(-1i32).to_be_bytes()); // type modifier
        body.extend_from_slice(&0i16.to_be_bytes()); // text format
        expect.fields += 1;
        expect.type_oids += u64::from(*oid);
    }
    message(&mut out, b'T', &body);

    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    let mut value = String::new();
    for id in 1..=rows {
        body.clear();
        body.extend_from_slice(&4u16.to_be_bytes());
        for col in 0..4 {
            // id is never NULL; the other three are NULL with p = 2/15: 10% of all values.
            if col > 0 && rng.below(15) < 2 {
                body.extend_from_slice(&(-1i32).to_be_bytes());
                expect.nulls += 1;
                continue;
            }
            value.clear();
            match col {
                0 => value += &id.to_string(),
                1 => {
                    let len = 3 + rng.below(14) as usize;
                    for _ in 0..len {
                        value.push(LETTERS[rng.below(26) as usize] as char);
                    }
                }
                2 => value += &rng.below(10_000_000_000).to_string(),
                _ => {
                    let r = rng.next();
                    value += &format!(
                        "2024-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00",
                        1 + r % 12,
                        1 + (r >> 8) % 28,
                        (r >> 16) % 24,
                        (r >> 24) % 60,
                        (r >> 32) % 60,
                        (r >> 40) % 1_000_000
                    );
                }
            }
            body.extend_from_slice(&(value.len() as i32).to_be_bytes());
            body.extend_from_slice(value.as_bytes());
            expect.value_bytes += value.len() as u64;
        }
        message(&mut out, b'D', &body);
        expect.rows += 1;
    }

    let tag = format!("SELECT {rows}");
    message(&mut out, b'C', format!("{tag}\0").as_bytes());
    message(&mut out, b'Z', b"I");
    expect.completed_rows = rows as u64;
    expect.ready_status = b'I';
    (out, expect)
}

/// The row count of a CommandComplete tag such as `SELECT 5` (same helper for both sides).
#[inline]
fn command_rows(tag: &str) -> u64 {
    tag.rsplit_once(' ')
        .and_then(|(_, n)| n.parse().ok())
        .expect("row count in command tag")
}

/// pgproto-core: one framed message.
#[inline(always)]
fn pgproto_message(tag: Option<u8>, body: &[u8], s: &mut Summary) {
    let tag = tag.expect("backend messages are tagged");
    match BackendMessage::decode(tag, body).expect("valid backend message") {
        BackendMessage::DataRow(row) => {
            s.rows += 1;
            for value in row.values.iter() {
                match value {
                    Some(v) => s.value_bytes += v.len() as u64,
                    None => s.nulls += 1,
                }
            }
        }
        BackendMessage::RowDescription(rd) => {
            for f in rd.fields.iter() {
                s.fields += 1;
                s.type_oids += u64::from(f.type_oid);
            }
        }
        BackendMessage::CommandComplete(cc) => s.completed_rows = command_rows(cc.tag),
        BackendMessage::ReadyForQuery(rfq) => s.ready_status = rfq.status.byte(),
        other => panic!("unexpected {}", other.name()),
    }
}

/// postgres-protocol: one parsed message.
#[inline(always)]
fn peer_message(msg: backend::Message, s: &mut Summary) {
    match msg {
        backend::Message::DataRow(row) => {
            s.rows += 1;
            let buf = row.buffer();
            let mut ranges = row.ranges();
            while let Some(range) = ranges.next().expect("valid DataRow") {
                match range {
                    // Taking the value's bytes, as tokio-postgres' Row does.
                    Some(r) => s.value_bytes += buf[r].len() as u64,
                    None => s.nulls += 1,
                }
            }
        }
        backend::Message::RowDescription(rd) => {
            let mut fields = rd.fields();
            while let Some(f) = fields.next().expect("valid RowDescription") {
                s.fields += 1;
                s.type_oids += u64::from(f.type_oid());
            }
        }
        backend::Message::CommandComplete(cc) => {
            s.completed_rows = command_rows(cc.tag().expect("valid CommandComplete"));
        }
        backend::Message::ReadyForQuery(rfq) => s.ready_status = rfq.status(),
        _ => panic!("unexpected message"),
    }
}

fn decode_pgproto_whole(stream: &[u8]) -> (Summary, Sample) {
    let mut framer = Framer::new(Direction::Backend, Limits::default());
    framer.push(stream);
    timed(|| {
        let mut s = Summary::default();
        while let Some(frame) = framer.next_frame_ref().expect("valid framing") {
            pgproto_message(frame.tag, frame.body, &mut s);
        }
        black_box(s)
    })
}

fn decode_peer_whole(stream: &[u8]) -> (Summary, Sample) {
    let mut buf = BytesMut::from(stream);
    timed(|| {
        let mut s = Summary::default();
        while let Some(msg) = backend::Message::parse(&mut buf).expect("valid framing") {
            peer_message(msg, &mut s);
        }
        black_box(s)
    })
}

fn decode_pgproto_chunked(stream: &[u8], chunk: usize) -> (Summary, Sample) {
    timed(|| {
        let mut framer = Framer::new(Direction::Backend, Limits::default());
        let mut s = Summary::default();
        for piece in stream.chunks(chunk) {
            framer.push(piece);
            while let Some(frame) = framer.next_frame_ref().expect("valid framing") {
                pgproto_message(frame.tag, frame.body, &mut s);
            }
        }
        assert_eq!(framer.buffered_len(), 0);
        black_box(s)
    })
}

fn decode_peer_chunked(stream: &[u8], chunk: usize) -> (Summary, Sample) {
    timed(|| {
        let mut buf = BytesMut::new();
        let mut s = Summary::default();
        for piece in stream.chunks(chunk) {
            buf.extend_from_slice(piece);
            while let Some(msg) = backend::Message::parse(&mut buf).expect("valid framing") {
                peer_message(msg, &mut s);
            }
        }
        assert!(buf.is_empty());
        black_box(s)
    })
}

type Rate = Option<f64>;

fn bench_decode(cfg: &Config) -> (Rate, Rate, Rate, Rate) {
    let (stream, expect) = result_set(cfg.rows);
    println!(
        "decode input: {} DataRows x 4 cols, {} NULL values, {:.2} MB stream",
        expect.rows,
        expect.nulls,
        stream.len() as f64 / 1e6
    );
    let stream = black_box(stream);
    let check = |(s, sample): (Summary, Sample), who: &str| {
        assert_eq!(s, expect, "{who} decoded something else");
        sample
    };
    let units = [(expect.rows as f64, "rows/s"), (stream.len() as f64, "B/s")];

    let (a, b) = alternate(
        cfg.rounds,
        cfg.warmup,
        cfg.only,
        || check(decode_pgproto_whole(&stream), "pgproto-core"),
        || check(decode_peer_whole(&stream), "postgres-protocol"),
    );
    let pg = report("decode", "pgproto-core", &a, &units);
    let peer = report("decode", "postgres-protocol", &b, &units);

    let (a, b) = alternate(
        cfg.rounds,
        cfg.warmup,
        cfg.only,
        || check(decode_pgproto_chunked(&stream, cfg.chunk), "pgproto-core"),
        || check(decode_peer_chunked(&stream, cfg.chunk), "postgres-protocol"),
    );
    let label = format!("decode {}K-chunk", cfg.chunk / 1024);
    let pg_chunked = report(&label, "pgproto-core", &a, &units);
    let peer_chunked = report(&label, "postgres-protocol", &b, &units);
    (pg, peer, pg_chunked, peer_chunked)
}

// ---------------------------------------------------------------------------------------
// Encode

const NAMES: [&[u8]; 8] = [
    b"alice", b"bob", b"carol", b"dave", b"eve", b"mallory", b"trent", b"peggy",
];
const PARAM_FORMATS: [Format; 3] = [Format::Binary, Format::Text, Format::Text];
const RESULT_FORMATS: [Format; 1] = [Format::Binary];

fn encode_pgproto(buf: &mut BytesMut, pairs: usize) {
    for i in 0..pairs {
        let id = (i as i32).to_be_bytes();
        let params = [Some(&id[..]), Some(NAMES[i % NAMES.len()]), None];
        Bind {
            portal: "",
            statement: "s1",
            param_formats: List::new(&PARAM_FORMATS),
            params: List::new(&params),
            result_formats: List::new(&RESULT_FORMATS),
        }
        .encode(buf)
        .expect("encode Bind");
        Execute {
            portal: "",
            max_rows: 0,
        }
        .encode(buf)
        .expect("encode Execute");
    }
}

fn encode_peer(buf: &mut BytesMut, pairs: usize) {
    for i in 0..pairs {
        let id = (i as i32).to_be_bytes();
        let params = [Some(&id[..]), Some(NAMES[i % NAMES.len()]), None];
        let bound = frontend::bind(
            "",
            "s1",
            [1i16, 0, 0],
            params,
            |value, buf| match value {
                Some(v) => {
                    buf.put_slice(v);
                    Ok(IsNull::No)
                }
                None => Ok(IsNull::Yes),
            },
            [1i16],
            buf,
        );
        assert!(bound.is_ok(), "encode Bind");
        frontend::execute("", 0, buf).expect("encode Execute");
    }
}

fn bench_encode(cfg: &Config) -> (Rate, Rate) {
    let pairs = cfg.pairs;
    let mut pg_buf = BytesMut::new();
    let mut peer_buf = BytesMut::new();
    encode_pgproto(&mut pg_buf, pairs);
    encode_peer(&mut peer_buf, pairs);
    assert!(
        pg_buf[..] == peer_buf[..],
        "pgproto-core and postgres-protocol encode different bytes"
    );
    let len = pg_buf.len();
    println!(
        "encode: {pairs} Bind+Execute pairs, {:.2} MB, byte-identical for both",
        len as f64 / 1e6
    );

    let units = [(pairs as f64, "pairs/s"), (len as f64, "B/s")];
    let (a, b) = alternate(
        cfg.rounds,
        cfg.warmup,
        cfg.only,
        || {
            pg_buf.clear();
            let ((), sample) = timed(|| encode_pgproto(black_box(&mut pg_buf), pairs));
            assert_eq!(black_box(&pg_buf).len(), len);
            sample
        },
        || {
            peer_buf.clear();
            let ((), sample) = timed(|| encode_peer(black_box(&mut peer_buf), pairs));
            assert_eq!(black_box(&peer_buf).len(), len);
            sample
        },
    );
    let pg = report("encode", "pgproto-core", &a, &units);
    let peer = report("encode", "postgres-protocol", &b, &units);
    (pg, peer)
}
