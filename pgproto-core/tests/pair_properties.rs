//! Properties of the client and server state machines talking to each other in memory
//! (`testing::Pair`), driven through the core alone:
//!
//! - random sequences of operations (simple queries, pipelined extended-protocol batches
//!   with errors in the middle, COPY in and out, cancel requests, notices and
//!   notifications) give the same results on both sides: the server application sees
//!   exactly what the client sent (minus what an error made it discard), and the client
//!   receives exactly what the server answered, routed to the right request;
//! - every request completes exactly once, in the order it was sent;
//! - delivering both byte streams split at random boundaries gives the same events as
//!   delivering them whole;
//! - random bytes (or random frames) never make either state machine panic or loop, and
//!   never leave more buffered than the configured `Limits` allow.

use std::collections::{BTreeMap, VecDeque};

use pgproto_core::client::{Config, Event, Response, SslMode};
use pgproto_core::column::Column;
use pgproto_core::db_error::{DbError, Severity};
use pgproto_core::message::{Bind, Format, List, TransactionStatus};
use pgproto_core::server::{Server, ServerConfig, ServerEvent};
use pgproto_core::sqlstate::SqlState;
use pgproto_core::testing::{fixed_answer, Pair};
use pgproto_core::wire::Limits;
use proptest::prelude::*;

// ---------------------------------------------------------------------------- scenario

/// What a query asks the scripted server application to do. The SQL text carries it, so
/// the server side learns it only from the bytes the client sent.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    /// A result set of this many rows.
    Rows(u8),
    /// A syntax error at Parse (or for the simple query).
    ParseError,
    /// A division by zero at Execute (a simple query fails the same way).
    ExecuteError,
    /// The empty query.
    Empty,
}

impl Outcome {
    fn sql(self) -> String {
        match self {
            Self::Rows(n) => format!("select rows {n}"),
            Self::ParseError => "selec syntax error".into(),
            Self::ExecuteError => "select 1/0".into(),
            Self::Empty => String::new(),
        }
    }

    fn from_sql(sql: &str) -> Self {
        if let Some(n) = sql.strip_prefix("select rows ") {
            Self::Rows(n.parse().expect("row count"))
        } else if sql == "selec syntax error" {
            Self::ParseError
        } else if sql == "select 1/0" {
            Self::ExecuteError
        } else {
            assert!(sql.is_empty(), "unknown query {sql:?}");
            Self::Empty
        }
    }
}

/// One extended-protocol group: Parse, [Describe], Bind, Execute, [Close], [Sync].
#[derive(Debug, Clone)]
struct Extended {
    outcome: Outcome,
    named: bool,
    describe: bool,
    /// Bind names a statement that does not exist (the core answers 26000).
    bad_bind: bool,
    max_rows: i32,
    close: bool,
    sync: bool,
}

#[derive(Debug, Clone)]
enum Request {
    Simple { outcome: Outcome, asyncs: u8 },
    Extended(Extended),
}

#[derive(Debug, Clone)]
enum Step {
    /// Requests sent back to back before the server reads any of them.
    Pipeline(Vec<Request>),
    /// COPY FROM STDIN, with requests submitted while its answer is on the way
    /// (`before`) and while it is open (`during`): they must wait and run after it.
    CopyIn {
        chunks: Vec<Vec<u8>>,
        abort: bool,
        before: Vec<Request>,
        during: Vec<Request>,
    },
    CopyOut {
        chunks: Vec<Vec<u8>>,
        asyncs: u8,
    },
    Cancel,
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        4 => (0u8..5).prop_map(Outcome::Rows),
        1 => Just(Outcome::ParseError),
        1 => Just(Outcome::ExecuteError),
        1 => Just(Outcome::Empty),
    ]
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        (outcome(), 0u8..3).prop_map(|(outcome, asyncs)| Request::Simple { outcome, asyncs }),
        (
            outcome(),
            any::<bool>(),
            any::<bool>(),
            prop::bool::weighted(0.1),
            0i32..4,
            any::<bool>(),
            prop::bool::weighted(0.6),
        )
            .prop_map(
                |(outcome, named, describe, bad_bind, max_rows, close, sync)| {
                    Request::Extended(Extended {
                        outcome,
                        named,
                        describe,
                        bad_bind,
                        max_rows,
                        close,
                        sync,
                    })
                }
            ),
    ]
}

fn chunks() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..5)
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => prop::collection::vec(request(), 1..6).prop_map(Step::Pipeline),
        2 => (
            chunks(),
            prop::bool::weighted(0.3),
            prop::collection::vec(request(), 0..3),
            prop::collection::vec(request(), 0..3),
        )
            .prop_map(|(chunks, abort, before, during)| Step::CopyIn {
                chunks,
                abort,
                before,
                during
            }),
        1 => (chunks(), 0u8..3).prop_map(|(chunks, asyncs)| Step::CopyOut { chunks, asyncs }),
        1 => Just(Step::Cancel),
    ]
}

// ------------------------------------------------------------------- server application

const PROCESS_ID: i32 = 4242;

fn column() -> Vec<Column> {
    vec![Column::new("n", 23, 4)]
}

/// What the server application saw, in protocol terms.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Query(String),
    Parse(String, String),
    Bind(String),
    Execute(String, i32),
    CopyData(Vec<u8>),
    CopyDone,
    CopyFail(String),
}

/// The scripted application behind the server: answers from the SQL text, records what
/// it saw, and sends the notices and notifications a query asks for (`asyncs`).
#[derive(Default)]
struct App {
    seen: Vec<Seen>,
    copy_out: VecDeque<Vec<Vec<u8>>>,
    copy_rows: u64,
    async_counter: u32,
}

impl App {
    fn asyncs(&mut self, server: &mut Server, n: u8) {
        for _ in 0..n {
            let k = self.async_counter;
            self.async_counter += 1;
            if k % 2 == 0 {
                let notice = DbError::new(Severity::Notice, SqlState::Warning, format!("n{k}"));
                server.notice(&notice).unwrap();
            } else {
                server
                    .notification(PROCESS_ID, "chan", &format!("p{k}"))
                    .unwrap();
            }
        }
    }

    fn rows(server: &mut Server, n: u8) {
        for i in 0..n {
            server.data_row(&[Some(i.to_string().as_bytes())]).unwrap();
        }
    }

    fn answer(&mut self, server: &mut Server, event: ServerEvent) {
        match event {
            ServerEvent::Query { sql } => {
                self.seen.push(Seen::Query(sql.clone()));
                let (sql, asyncs) = match sql.split_once(" -- asyncs ") {
                    Some((s, a)) => (s.to_string(), a.parse().unwrap()),
                    None => (sql, 0),
                };
                self.asyncs(server, asyncs);
                if sql == "copy in" {
                    self.copy_rows = 0;
                    server
                        .copy_in_response(Format::Text, &[Format::Text])
                        .unwrap();
                    return;
                }
                if sql == "copy out" {
                    let chunks = self.copy_out.pop_front().expect("copy-out script");
                    server
                        .copy_out_response(Format::Text, &[Format::Text])
                        .unwrap();
                    for c in &chunks {
                        server.copy_data(c).unwrap();
                    }
                    server.copy_done().unwrap();
                    server
                        .command_complete(&format!("COPY {}", chunks.len()))
                        .unwrap();
                    server.ready_for_query().unwrap();
                    return;
                }
                // `error` ends a simple query itself (ReadyForQuery follows it).
                match Outcome::from_sql(&sql) {
                    Outcome::Rows(n) => {
                        server.row_description(&column()).unwrap();
                        Self::rows(server, n);
                        server.command_complete(&format!("SELECT {n}")).unwrap();
                        server.ready_for_query().unwrap();
                    }
                    Outcome::ParseError => server.error(&syntax_error()).unwrap(),
                    Outcome::ExecuteError => {
                        server.row_description(&column()).unwrap();
                        server.error(&division_by_zero()).unwrap();
                    }
                    Outcome::Empty => {
                        server.empty_query().unwrap();
                        server.ready_for_query().unwrap();
                    }
                }
            }
            ServerEvent::Parse {
                statement, query, ..
            } => {
                self.seen.push(Seen::Parse(statement, query.clone()));
                match Outcome::from_sql(&query) {
                    Outcome::ParseError => server.error(&syntax_error()).unwrap(),
                    Outcome::Empty => server.parse_complete(&[], None).unwrap(),
                    _ => server.parse_complete(&[], Some(column())).unwrap(),
                }
            }
            ServerEvent::Bind { portal } => {
                self.seen.push(Seen::Bind(portal));
                server.bind_complete().unwrap();
            }
            ServerEvent::Execute { portal, max_rows } => {
                self.seen.push(Seen::Execute(portal.clone(), max_rows));
                let query = server.portal(&portal).unwrap().statement.query.clone();
                match Outcome::from_sql(&query) {
                    Outcome::Rows(n) => {
                        let limit = u8::try_from(max_rows).unwrap();
                        if limit > 0 && n > limit {
                            Self::rows(server, limit);
                            server.portal_suspended().unwrap();
                        } else {
                            Self::rows(server, n);
                            server.command_complete(&format!("SELECT {n}")).unwrap();
                        }
                    }
                    Outcome::ExecuteError => server.error(&division_by_zero()).unwrap(),
                    Outcome::Empty => server.empty_query().unwrap(),
                    Outcome::ParseError => unreachable!("never prepared"),
                }
            }
            ServerEvent::CopyData(data) => {
                self.copy_rows += 1;
                self.seen.push(Seen::CopyData(data.to_vec()));
            }
            ServerEvent::CopyDone => {
                self.seen.push(Seen::CopyDone);
                server
                    .command_complete(&format!("COPY {}", self.copy_rows))
                    .unwrap();
                server.ready_for_query().unwrap();
            }
            ServerEvent::CopyFail(message) => {
                self.seen.push(Seen::CopyFail(message.clone()));
                let e = DbError::new(
                    Severity::Error,
                    SqlState::QueryCanceled,
                    format!("COPY from stdin failed: {message}"),
                );
                server.error(&e).unwrap();
            }
            other => panic!("unexpected server event {other:?}"),
        }
    }
}

fn syntax_error() -> DbError {
    DbError::new(Severity::Error, SqlState::SyntaxError, "syntax error")
}

fn division_by_zero() -> DbError {
    DbError::new(
        Severity::Error,
        SqlState::DivisionByZero,
        "division by zero",
    )
}

// ---------------------------------------------------------------------------- transport

/// Delivers bytes either whole or in chunks whose sizes come from `splits` (cycled).
struct Wire {
    splits: Vec<usize>,
    next: usize,
}

impl Wire {
    fn deliver(&mut self, bytes: &[u8], mut into: impl FnMut(&[u8])) {
        if self.splits.is_empty() {
            into(bytes);
            return;
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = self.splits[self.next % self.splits.len()].clamp(1, rest.len());
            self.next += 1;
            let (head, tail) = rest.split_at(n);
            into(head);
            rest = tail;
        }
    }
}

/// Everything observable from one run.
#[derive(Debug, Default, PartialEq)]
struct Trace {
    client: Vec<Event>,
    server: Vec<Seen>,
    cancels: Vec<(i32, Vec<u8>)>,
}

struct Run {
    pair: Pair,
    app: App,
    wire: Wire,
    trace: Trace,
    unsynced: bool,
    statements: usize,
}

impl Run {
    /// Moves bytes and lets the application answer until nothing moves.
    fn pump(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            while let Some(bytes) = self.pair.client.poll_transmit() {
                let server = &mut self.pair.server;
                self.wire.deliver(&bytes, |b| server.handle_input(b));
                moved = true;
            }
            while let Some(event) = self.pair.server.poll_event().expect("server") {
                self.app.answer(&mut self.pair.server, event);
                moved = true;
            }
            while let Some(bytes) = self.pair.server.poll_transmit() {
                let client = &mut self.pair.client;
                self.wire.deliver(&bytes, |b| client.handle_input(b));
                moved = true;
            }
            while let Some(event) = self.pair.client.poll_event().expect("client") {
                self.trace.client.push(event);
                moved = true;
            }
            if !moved {
                return;
            }
        }
        panic!("the pair never went quiet");
    }

    fn connect(splits: Vec<usize>) -> Self {
        let mut config = Config::new("alice");
        config.ssl_mode = SslMode::Disable;
        let pair = Pair::new(config, ServerConfig::default());
        let mut run = Self {
            pair,
            app: App::default(),
            wire: Wire { splits, next: 0 },
            trace: Trace::default(),
            unsynced: false,
            statements: 0,
        };
        // Startup by hand: the application chooses trust.
        for _ in 0..100 {
            while let Some(bytes) = run.pair.client.poll_transmit() {
                let server = &mut run.pair.server;
                run.wire.deliver(&bytes, |b| server.handle_input(b));
            }
            match run.pair.server.poll_event().expect("server") {
                Some(ServerEvent::Startup(_)) => run.pair.server.authenticate_trust().unwrap(),
                Some(ServerEvent::Authenticated) => {
                    run.pair
                        .server
                        .complete_startup(&[], PROCESS_ID, &[7; 32])
                        .unwrap();
                    run.pump();
                    break;
                }
                Some(other) => panic!("{other:?}"),
                None => {}
            }
        }
        assert!(run.trace.client.contains(&Event::Ready), "startup failed");
        run.trace.client.clear();
        run
    }

    fn execute(&mut self, steps: &[Step]) {
        for step in steps {
            match step {
                Step::Pipeline(requests) => {
                    for r in requests {
                        self.send(r);
                    }
                    if self.unsynced {
                        self.pair.client.sync().unwrap();
                        self.unsynced = false;
                    }
                    self.pump();
                }
                Step::CopyIn {
                    chunks,
                    abort,
                    before,
                    during,
                } => {
                    self.pair.client.query("copy in").unwrap();
                    for r in before {
                        self.send(r);
                    }
                    self.pump();
                    assert!(self.pair.client.is_copy_in(), "CopyInResponse arrived");
                    if chunks.is_empty() {
                        for r in during {
                            self.send(r);
                        }
                    }
                    for (i, c) in chunks.iter().enumerate() {
                        self.pair.client.copy_data(c).unwrap();
                        if i == 0 {
                            for r in during {
                                self.send(r);
                            }
                            // Nothing of theirs reaches the server during the COPY.
                            self.pump();
                            assert!(self.pair.client.is_copy_in(), "the COPY is still open");
                        }
                    }
                    if *abort {
                        self.pair.client.copy_fail("abort").unwrap();
                    } else {
                        self.pair.client.copy_done().unwrap();
                    }
                    if self.unsynced {
                        self.pair.client.sync().unwrap();
                        self.unsynced = false;
                    }
                    self.pump();
                }
                Step::CopyOut { chunks, asyncs } => {
                    self.app.copy_out.push_back(chunks.clone());
                    let sql = if *asyncs > 0 {
                        format!("copy out -- asyncs {asyncs}")
                    } else {
                        "copy out".to_string()
                    };
                    self.pair.client.query(&sql).unwrap();
                    self.pump();
                }
                Step::Cancel => {
                    // A CancelRequest goes over a new connection to a new server.
                    let token = self.pair.client.cancel_token().unwrap().clone();
                    let mut packet = bytes::BytesMut::new();
                    token.encode(&mut packet).unwrap();
                    let mut other = Server::new(ServerConfig::default());
                    self.wire.deliver(&packet, |b| other.handle_input(b));
                    match other.poll_event().unwrap() {
                        Some(ServerEvent::CancelRequested(t)) => {
                            self.trace.cancels.push((t.process_id, t.secret_key));
                        }
                        other => panic!("{other:?}"),
                    }
                    assert!(other.poll_event().is_err(), "the cancel connection is over");
                }
            }
        }
    }

    fn send(&mut self, request: &Request) {
        let c = &mut self.pair.client;
        match request {
            Request::Simple { outcome, asyncs } => {
                if self.unsynced {
                    // A simple query needs a synced pipeline.
                    assert!(c.query("x").is_err(), "query in an unsynced pipeline");
                    c.sync().unwrap();
                    self.unsynced = false;
                }
                let mut sql = outcome.sql();
                if *asyncs > 0 {
                    sql = format!("{sql} -- asyncs {asyncs}");
                }
                c.query(&sql).unwrap();
            }
            Request::Extended(e) => {
                self.statements += 1;
                let name = if e.named {
                    format!("s{}", self.statements)
                } else {
                    String::new()
                };
                c.parse(&name, &e.outcome.sql(), &[]).unwrap();
                if e.describe {
                    c.describe_statement(&name).unwrap();
                }
                let statement = if e.bad_bind { "nope" } else { name.as_str() };
                c.bind(&Bind {
                    portal: "",
                    statement,
                    param_formats: List::new(&[]),
                    params: List::new(&[]),
                    result_formats: List::new(&[Format::Text]),
                })
                .unwrap();
                c.execute("", e.max_rows).unwrap();
                if e.close {
                    c.close_statement(&name).unwrap();
                }
                if e.sync {
                    c.sync().unwrap();
                }
                self.unsynced = !e.sync;
            }
        }
    }
}

// ------------------------------------------------------------------------------- model

/// What the client should receive and the server application should see, computed from
/// the scenario alone.
#[derive(Default)]
struct Model {
    /// Per request, in sending order: its responses, in a compact form.
    responses: Vec<Vec<String>>,
    server: Vec<Seen>,
    asyncs: Vec<String>,
    async_counter: u32,
    discarding: bool,
    unsynced: bool,
}

impl Model {
    fn asyncs(&mut self, n: u8) {
        for _ in 0..n {
            let k = self.async_counter;
            self.async_counter += 1;
            self.asyncs.push(if k % 2 == 0 {
                format!("n{k}")
            } else {
                format!("p{k}")
            });
        }
    }

    fn push(&mut self, skipped_if_discarding: bool, answer: Vec<String>) {
        if skipped_if_discarding && self.discarding {
            self.responses.push(vec!["Skipped".into()]);
        } else {
            self.responses.push(answer);
        }
    }

    fn sync(&mut self) {
        self.discarding = false;
        self.unsynced = false;
        self.responses.push(vec!["ReadyForQuery".into()]);
    }

    fn rows(n: u8) -> Vec<String> {
        (0..n).map(|i| format!("DataRow {i}")).collect()
    }

    fn steps(&mut self, steps: &[Step]) {
        for step in steps {
            match step {
                Step::Pipeline(requests) => {
                    for r in requests {
                        self.request(r);
                    }
                    if self.unsynced {
                        self.sync();
                    }
                }
                Step::CopyIn {
                    chunks,
                    abort,
                    before,
                    during,
                } => {
                    self.server.push(Seen::Query("copy in".into()));
                    self.server
                        .extend(chunks.iter().map(|c| Seen::CopyData(c.clone())));
                    let mut r = vec!["CopyIn".to_string()];
                    if *abort {
                        self.server.push(Seen::CopyFail("abort".into()));
                        r.push("Error 57014".into());
                    } else {
                        self.server.push(Seen::CopyDone);
                        r.push(format!("CommandComplete COPY {}", chunks.len()));
                    }
                    r.push("ReadyForQuery".into());
                    self.responses.push(r);
                    for r in before.iter().chain(during) {
                        self.request(r);
                    }
                    if self.unsynced {
                        self.sync();
                    }
                }
                Step::CopyOut { chunks, asyncs } => {
                    let sql = if *asyncs > 0 {
                        format!("copy out -- asyncs {asyncs}")
                    } else {
                        "copy out".to_string()
                    };
                    self.server.push(Seen::Query(sql));
                    self.asyncs(*asyncs);
                    let mut r = vec!["CopyOut".to_string()];
                    r.extend(chunks.iter().map(|c| format!("CopyData {c:?}")));
                    r.push("CopyDone".into());
                    r.push(format!("CommandComplete COPY {}", chunks.len()));
                    r.push("ReadyForQuery".into());
                    self.responses.push(r);
                }
                Step::Cancel => {}
            }
        }
    }

    fn request(&mut self, request: &Request) {
        match request {
            Request::Simple { outcome, asyncs } => {
                if self.unsynced {
                    self.sync();
                }
                let mut sql = outcome.sql();
                if *asyncs > 0 {
                    sql = format!("{sql} -- asyncs {asyncs}");
                }
                self.server.push(Seen::Query(sql));
                self.asyncs(*asyncs);
                let mut r = Vec::new();
                match outcome {
                    Outcome::Rows(n) => {
                        r.push("RowDescription".to_string());
                        r.extend(Self::rows(*n));
                        r.push(format!("CommandComplete SELECT {n}"));
                    }
                    Outcome::ParseError => r.push("Error 42601".into()),
                    Outcome::ExecuteError => {
                        r.push("RowDescription".into());
                        r.push("Error 22012".into());
                    }
                    Outcome::Empty => r.push("EmptyQuery".into()),
                }
                r.push("ReadyForQuery".into());
                self.responses.push(r);
            }
            Request::Extended(e) => {
                self.unsynced = true;
                // Named statements are compared as "named": the client picks the names.
                let name = if e.named {
                    "named".to_string()
                } else {
                    String::new()
                };
                let sql = e.outcome.sql();
                // Parse
                if !self.discarding {
                    self.server.push(Seen::Parse(name.clone(), sql.clone()));
                }
                let parse_fails = e.outcome == Outcome::ParseError;
                self.push(
                    true,
                    vec![if parse_fails {
                        "Error 42601".into()
                    } else {
                        "ParseComplete".into()
                    }],
                );
                if parse_fails {
                    self.discarding = true;
                }
                let has_rows = e.outcome != Outcome::Empty;
                if e.describe {
                    let mut d = vec!["ParameterDescription".to_string()];
                    d.push(if has_rows { "RowDescription" } else { "NoData" }.into());
                    self.push(true, d);
                }
                // Bind
                if !self.discarding && !e.bad_bind {
                    self.server.push(Seen::Bind(String::new()));
                }
                self.push(
                    true,
                    vec![if e.bad_bind {
                        "Error 26000".into()
                    } else {
                        "BindComplete".into()
                    }],
                );
                if e.bad_bind {
                    self.discarding = true;
                }
                // Execute
                if !self.discarding {
                    self.server.push(Seen::Execute(String::new(), e.max_rows));
                }
                let answer = match e.outcome {
                    Outcome::Rows(n) => {
                        let limit = u8::try_from(e.max_rows).unwrap();
                        if limit > 0 && n > limit {
                            let mut r = Self::rows(limit);
                            r.push("PortalSuspended".into());
                            r
                        } else {
                            let mut r = Self::rows(n);
                            r.push(format!("CommandComplete SELECT {n}"));
                            r
                        }
                    }
                    Outcome::ExecuteError => vec!["Error 22012".into()],
                    Outcome::Empty => vec!["EmptyQuery".into()],
                    Outcome::ParseError => vec!["(never)".into()],
                };
                let execute_fails = e.outcome == Outcome::ExecuteError;
                self.push(true, answer);
                if execute_fails {
                    self.discarding = true;
                }
                if e.close {
                    self.push(true, vec!["CloseComplete".into()]);
                }
                if e.sync {
                    self.sync();
                }
            }
        }
    }
}

/// The client's events in the model's compact form: responses grouped by request, plus
/// the asynchronous messages in order. Checks that every request completes exactly once,
/// in order, with its last response.
fn observed(events: &[Event]) -> (Vec<Vec<String>>, Vec<String>) {
    let mut by_request: BTreeMap<u64, (Vec<String>, bool)> = BTreeMap::new();
    let mut completion_order = Vec::new();
    let mut asyncs = Vec::new();
    for e in events {
        match e {
            Event::Response {
                request,
                response,
                complete,
            } => {
                let entry = by_request.entry(request.0).or_default();
                assert!(!entry.1, "request {} answered after completing", request.0);
                entry.0.push(compact(response));
                if *complete {
                    entry.1 = true;
                    completion_order.push(request.0);
                }
            }
            Event::Notice(n) => asyncs.push(n.message.clone()),
            Event::Notification(n) => {
                assert_eq!((n.process_id, n.channel.as_str()), (PROCESS_ID, "chan"));
                asyncs.push(n.payload.clone());
            }
            other => panic!("unexpected client event {other:?}"),
        }
    }
    let mut sorted = completion_order.clone();
    sorted.sort_unstable();
    assert_eq!(completion_order, sorted, "requests completed out of order");
    assert!(
        by_request.values().all(|(_, done)| *done),
        "a request never completed"
    );
    let ids: Vec<u64> = by_request.keys().copied().collect();
    assert_eq!(
        ids,
        (0..ids.len() as u64).collect::<Vec<_>>(),
        "request ids are consecutive"
    );
    (by_request.into_values().map(|(r, _)| r).collect(), asyncs)
}

fn compact(r: &Response) -> String {
    match r {
        Response::RowDescription(_) => "RowDescription".into(),
        Response::DataRow(row) => {
            let v = row.values().next().flatten().unwrap_or_default();
            format!("DataRow {}", String::from_utf8_lossy(v))
        }
        Response::CommandComplete(tag) => format!("CommandComplete {}", tag.as_str()),
        Response::EmptyQuery => "EmptyQuery".into(),
        Response::PortalSuspended => "PortalSuspended".into(),
        Response::ParseComplete => "ParseComplete".into(),
        Response::BindComplete => "BindComplete".into(),
        Response::CloseComplete => "CloseComplete".into(),
        Response::NoData => "NoData".into(),
        Response::ParameterDescription(_) => "ParameterDescription".into(),
        Response::CopyIn(_) => "CopyIn".into(),
        Response::CopyOut(_) => "CopyOut".into(),
        Response::CopyData(d) => format!("CopyData {:?}", d.to_vec()),
        Response::CopyDone => "CopyDone".into(),
        Response::Error(e) => format!("Error {}", e.code.code()),
        Response::Skipped => "Skipped".into(),
        Response::ReadyForQuery(status) => {
            assert_eq!(*status, TransactionStatus::Idle);
            "ReadyForQuery".into()
        }
        other => format!("{other:?}"),
    }
}

fn run(steps: &[Step], splits: Vec<usize>) -> Trace {
    let mut run = Run::connect(splits);
    run.execute(steps);
    assert_eq!(
        run.pair.client.pending_requests(),
        0,
        "requests left pending"
    );
    assert!(!run.pair.server.is_busy(), "server still busy");
    run.trace.server = std::mem::take(&mut run.app.seen);
    run.trace
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    /// Both sides agree with the model and with each other; splitting the byte streams
    /// anywhere changes nothing.
    #[test]
    fn operations_match_on_both_sides(
        steps in prop::collection::vec(step(), 1..8),
        splits in prop::collection::vec(1usize..12, 1..8),
    ) {
        let whole = run(&steps, Vec::new());

        let mut model = Model::default();
        model.steps(&steps);
        let strip = |v: &[Seen]| -> Vec<Seen> {
            v.iter()
                .map(|s| match s {
                    Seen::Parse(n, q) if !n.is_empty() => Seen::Parse("named".into(), q.clone()),
                    other => other.clone(),
                })
                .collect()
        };
        prop_assert_eq!(strip(&whole.server), model.server);

        let (responses, asyncs) = observed(&whole.client);
        prop_assert_eq!(&responses, &model.responses);
        prop_assert_eq!(&asyncs, &model.asyncs);
        let cancels = steps.iter().filter(|s| matches!(s, Step::Cancel)).count();
        prop_assert_eq!(whole.cancels.len(), cancels);
        prop_assert!(whole.cancels.iter().all(|(pid, key)| *pid == PROCESS_ID && key == &[7; 32]));

        let split = run(&steps, splits);
        prop_assert_eq!(split, whole);
    }
}

// ------------------------------------------------------------------------------ garbage

/// Small limits, so that the garbage reaches them.
fn limits() -> Limits {
    Limits {
        max_message_len: 2048,
        max_small_message_len: 256,
        max_startup_packet_len: 10_000,
    }
}

/// The most a state machine may keep buffered after it has consumed all it can: one
/// incomplete frame whose declared length passed the limit check.
fn max_buffered(limits: &Limits, startup: bool) -> usize {
    if startup {
        limits.max_startup_packet_len
    } else {
        limits.max_message_len + 1
    }
}

/// Random bytes, or random frames with correct or wild lengths (the more interesting
/// garbage: it gets past framing into the decoders and the state machines).
fn garbage(tags: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    let frame = (
        prop::sample::select(tags),
        prop::collection::vec(any::<u8>(), 0..48),
        prop::option::weighted(0.1, any::<i32>()),
    )
        .prop_map(|(tag, body, wild_len)| {
            let mut f = vec![tag];
            let len = wild_len.unwrap_or(i32::try_from(body.len()).unwrap() + 4);
            f.extend_from_slice(&len.to_be_bytes());
            f.extend_from_slice(&body);
            f
        });
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        prop::collection::vec(frame, 0..24).prop_map(|v| v.concat()),
    ]
}

const BACKEND_TAGS: &[u8] = b"RSKZTDCIEnNAGHWdcst1239vV";
const FRONTEND_TAGS: &[u8] = b"QPBEDHSCXFdcfp";

/// A connected pair with requests in flight, for feeding the client garbage as answers.
fn client_with_requests() -> pgproto_core::client::Client {
    let mut config = Config::new("alice");
    config.ssl_mode = SslMode::Disable;
    config.limits = limits();
    let mut client = pgproto_core::client::Client::new(config, &[1; 24]);
    let _ = client.poll_transmit();
    client.handle_input(b"R\0\0\0\x08\0\0\0\0Z\0\0\0\x05I");
    while client.poll_event().unwrap().is_some() {}
    client.query("select 1").unwrap();
    client.parse("", "select 1", &[]).unwrap();
    client.describe_statement("").unwrap();
    client.execute("", 0).unwrap();
    client.sync().unwrap();
    let _ = client.poll_transmit();
    client
}

/// Runs `step` (true: an event came out) until no event is left or an error; panics
/// if more than `bound` events come out (the state machine loops).
fn drain_bounded(
    who: &str,
    bound: usize,
    mut step: impl FnMut() -> Result<bool, pgproto_core::Error>,
) -> Result<(), pgproto_core::Error> {
    for _ in 0..=bound {
        if !step()? {
            return Ok(());
        }
    }
    panic!("{who} loops on garbage")
}

/// Feeds `data` in chunks; after each, drains events with a bound (no loop), checks the
/// buffer stays within the limits while the connection is healthy, and that an error
/// is sticky.
fn feed_client(mut client: pgproto_core::client::Client, data: &[u8], chunk: usize) {
    let lim = limits();
    for piece in data.chunks(chunk.max(1)) {
        client.handle_input(piece);
        let result = drain_bounded("client", data.len() + 16, || {
            client.poll_event().map(|e| e.is_some())
        });
        let _ = client.poll_transmit();
        match result {
            Ok(()) => {
                if client.phase() != pgproto_core::client::Phase::TlsHandshake {
                    assert!(
                        client.input_buffer().len() <= max_buffered(&lim, false),
                        "client buffered {} bytes",
                        client.input_buffer().len()
                    );
                }
            }
            Err(e) => {
                assert_eq!(client.poll_event(), Err(e.clone()), "error not sticky");
                assert!(
                    client.query("select 1").is_err(),
                    "poisoned client accepts queries"
                );
                return;
            }
        }
    }
}

fn feed_server(mut server: Server, data: &[u8], chunk: usize) {
    let lim = limits();
    for piece in data.chunks(chunk.max(1)) {
        server.handle_input(piece);
        let result = drain_bounded("server", data.len() + 16, || {
            let Some(event) = server.poll_event()? else {
                return Ok(false);
            };
            // Answer as an application would, to move the state machine along; the
            // application's own usage errors are fine here.
            let _ = match event {
                ServerEvent::TlsRequested => server.refuse_tls(),
                ServerEvent::Startup(_) => server.authenticate_trust(),
                ServerEvent::Authenticated => server.complete_startup(&[], 1, &[0; 32]),
                ServerEvent::CopyDone => server
                    .command_complete("COPY 0")
                    .and_then(|()| server.ready_for_query()),
                ServerEvent::Query { ref sql } if sql.starts_with('c') => {
                    server.copy_in_response(Format::Text, &[])
                }
                other => fixed_answer(&mut server, other),
            };
            Ok(true)
        });
        let _ = server.poll_transmit();
        match result {
            Ok(()) => {
                let startup = server.phase() == pgproto_core::server::ServerPhase::Startup;
                if !server.is_busy()
                    && !matches!(
                        server.phase(),
                        pgproto_core::server::ServerPhase::TlsDecision
                            | pgproto_core::server::ServerPhase::TlsHandshake
                            | pgproto_core::server::ServerPhase::Authenticated
                    )
                {
                    assert!(
                        server.input_buffer().len() <= max_buffered(&lim, startup),
                        "server buffered {} bytes",
                        server.input_buffer().len()
                    );
                }
            }
            Err(e) => {
                assert_eq!(server.poll_event(), Err(e.clone()), "error not sticky");
                return;
            }
        }
    }
}

fn startup_packet() -> Vec<u8> {
    let mut config = Config::new("alice");
    config.ssl_mode = SslMode::Disable;
    let mut client = pgproto_core::client::Client::new(config, &[1; 24]);
    client.poll_transmit().unwrap().to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10000))]

    /// Garbage from a "server", at each phase of the client.
    #[test]
    fn client_survives_garbage(
        phase in 0u8..4,
        data in garbage(BACKEND_TAGS),
        chunk in 1usize..64,
    ) {
        let mut config = Config::new("alice");
        config.password = Some(b"pw".to_vec());
        config.limits = limits();
        let client = match phase {
            // Waiting for the answer to SSLRequest.
            0 => {
                config.ssl_mode = SslMode::Prefer;
                pgproto_core::client::Client::new(config, &[1; 24])
            }
            // Authenticating.
            1 => {
                config.ssl_mode = SslMode::Disable;
                pgproto_core::client::Client::new(config, &[1; 24])
            }
            // Authenticated (AuthenticationOk arrived), awaiting ReadyForQuery.
            2 => {
                config.ssl_mode = SslMode::Disable;
                let mut c = pgproto_core::client::Client::new(config, &[1; 24]);
                c.handle_input(b"R\0\0\0\x08\0\0\0\0");
                while c.poll_event().unwrap().is_some() {}
                c
            }
            // Ready, with simple and extended requests in flight.
            _ => client_with_requests(),
        };
        feed_client(client, &data, chunk);
    }

    /// Garbage from a "client", before and after startup.
    #[test]
    fn server_survives_garbage(
        after_startup in any::<bool>(),
        data in garbage(FRONTEND_TAGS),
        chunk in 1usize..64,
    ) {
        let mut config = ServerConfig::default();
        config.limits = limits();
        let mut stream = Vec::new();
        if after_startup {
            stream.extend_from_slice(&startup_packet());
        }
        stream.extend_from_slice(&data);
        feed_server(Server::new(config), &stream, chunk);
    }

    /// Garbage spliced into a valid conversation at a random point.
    #[test]
    fn server_survives_corrupted_conversation(
        cut in 0usize..200,
        data in garbage(FRONTEND_TAGS),
        chunk in 1usize..64,
    ) {
        let mut config = ServerConfig::default();
        config.limits = limits();
        let mut valid = startup_packet();
        for m in [
            &b"Q\0\0\0\x0dselect 1\0"[..],
            b"P\0\0\0\x10\0select 1\0\0\0",
            b"B\0\0\0\x0c\0\0\0\0\0\0\0\0",
            b"E\0\0\0\x09\0\0\0\0\0",
            b"S\0\0\0\x04",
            b"Q\0\0\0\x0ccopy in\0",
            b"d\0\0\0\x06ab",
        ] {
            valid.extend_from_slice(m);
        }
        let cut = cut.min(valid.len());
        let mut stream = valid[..cut].to_vec();
        stream.extend_from_slice(&data);
        stream.extend_from_slice(&valid[cut..]);
        feed_server(Server::new(config), &stream, chunk);
    }
}

/// Lengths over the limits are refused before anything is buffered, in both roles.
#[test]
fn declared_lengths_over_the_limits_are_refused() {
    let lim = limits();
    // Client: a DataRow one byte over max_message_len, a ParameterStatus over the small
    // limit.
    for (tag, len) in [
        (b'D', lim.max_message_len + 1),
        (b'S', lim.max_small_message_len + 1),
        (b'Z', usize::try_from(i32::MAX).unwrap()),
    ] {
        let mut client = client_with_requests();
        let mut header = vec![tag];
        header.extend_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
        client.handle_input(&header);
        assert!(client.poll_event().is_err(), "{} length {len}", tag as char);
    }
    // Server: a startup packet over max_startup_packet_len.
    let mut config = ServerConfig::default();
    config.limits = lim;
    let mut server = Server::new(config.clone());
    let len = u32::try_from(lim.max_startup_packet_len + 1).unwrap();
    let mut packet = len.to_be_bytes().to_vec();
    packet.extend_from_slice(&[0, 3, 0, 0]);
    server.handle_input(&packet);
    assert!(server.poll_event().is_err());
    let fatal = server.poll_transmit().expect("a FATAL error goes out");
    assert_eq!(fatal.first(), Some(&b'E'));
    // And a Query over max_message_len after startup.
    let mut server = Server::new(config);
    server.handle_input(&startup_packet());
    let Some(ServerEvent::Startup(_)) = server.poll_event().unwrap() else {
        panic!()
    };
    server.authenticate_trust().unwrap();
    let _ = server.poll_event();
    server.complete_startup(&[], 1, &[0; 32]).unwrap();
    while server.poll_transmit().is_some() {}
    let mut header = vec![b'Q'];
    header.extend_from_slice(
        &u32::try_from(lim.max_message_len + 1)
            .unwrap()
            .to_be_bytes(),
    );
    server.handle_input(&header);
    assert!(server.poll_event().is_err());
    assert_eq!(server.poll_transmit().unwrap().first(), Some(&b'E'));
}

/// A server past startup, its output drained.
fn ready_server() -> Server {
    let mut server = Server::new(ServerConfig::default());
    server.handle_input(&startup_packet());
    let Some(ServerEvent::Startup(_)) = server.poll_event().unwrap() else {
        panic!()
    };
    server.authenticate_trust().unwrap();
    let _ = server.poll_event();
    server.complete_startup(&[], 1, &[0; 32]).unwrap();
    while server.poll_transmit().is_some() {}
    server
}

/// The (tag, SQLSTATE or empty) of each message in `out`.
fn answers(out: &[u8]) -> Vec<(u8, String)> {
    let mut rest = out;
    let mut v = Vec::new();
    while rest.len() >= 5 {
        let len = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        let body = &rest[5..1 + len];
        let code = body
            .split(|b| *b == 0)
            .find_map(|f| f.strip_prefix(b"C"))
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .unwrap_or_default();
        v.push((rest[0], if rest[0] == b'E' { code } else { String::new() }));
        rest = &rest[1 + len..];
    }
    v
}

/// As PostgreSQL: a well-framed message that does not decode is an ERROR (22021 for
/// invalid UTF-8, 08P01 otherwise), the extended protocol skips to Sync, and the
/// session goes on; an unknown message type is FATAL.
#[test]
fn malformed_messages_are_errors_and_the_session_goes_on() {
    let mut server = ready_server();
    // Query without its NUL: ERROR 08P01, ReadyForQuery.
    server.handle_input(b"Q\0\0\0\x0cselect 1");
    assert_eq!(server.poll_event().unwrap(), None);
    let out = server.poll_transmit().unwrap();
    assert_eq!(
        answers(&out),
        [(b'E', "08P01".to_string()), (b'Z', String::new())]
    );
    // Parse with an invalid UTF-8 name, then a malformed Bind (skipped unread), Sync.
    server.handle_input(b"P\0\0\0\x11\xff\0select 1\0\0\0");
    server.handle_input(b"B\0\0\0\x06\x01\x02");
    server.handle_input(b"S\0\0\0\x04");
    assert_eq!(server.poll_event().unwrap(), None);
    let out = server.poll_transmit().unwrap();
    assert_eq!(
        answers(&out),
        [(b'E', "22021".to_string()), (b'Z', String::new())]
    );
    // CopyData outside COPY is ignored, even malformed CopyFail.
    server.handle_input(b"d\0\0\0\x05xf\0\0\0\x05x");
    assert_eq!(server.poll_event().unwrap(), None);
    assert_eq!(server.poll_transmit(), None);
    // The session goes on.
    server.handle_input(b"Q\0\0\0\x0dselect 1\0");
    assert!(matches!(
        server.poll_event().unwrap(),
        Some(ServerEvent::Query { .. })
    ));
    fixed_answer(
        &mut server,
        ServerEvent::Query {
            sql: "select 1".into(),
        },
    )
    .unwrap();
    while server.poll_transmit().is_some() {}
    // An unknown type is fatal; so is a password message after startup.
    for bad in [&b"z\0\0\0\x04"[..], b"p\0\0\0\x07pw\0"] {
        let mut server = ready_server();
        server.handle_input(bad);
        assert!(server.poll_event().is_err());
        let out = server.poll_transmit().unwrap();
        assert_eq!(answers(&out), [(b'E', "08P01".to_string())]);
    }
}

/// The authentication timeout lives in the core: it runs from the first
/// `handle_timeout`, closes a connection still starting up when it passes, and stops once
/// startup is over.
#[test]
fn authentication_timeout_is_kept_by_the_core() {
    use std::time::Duration;
    let mut config = ServerConfig::default();
    config.authentication_timeout = Some(Duration::from_secs(5));

    // Startup finished in time: no deadline any more, later times change nothing.
    let mut server = Server::new(config.clone());
    server.handle_timeout(Duration::from_secs(10));
    assert_eq!(server.poll_timeout(), Some(Duration::from_secs(15)));
    server.handle_input(&startup_packet());
    assert!(matches!(
        server.poll_event().unwrap(),
        Some(ServerEvent::Startup(_))
    ));
    server.handle_timeout(Duration::from_secs(14));
    assert!(server.error_state().is_none(), "not yet");
    server.authenticate_trust().unwrap();
    assert!(matches!(
        server.poll_event().unwrap(),
        Some(ServerEvent::Authenticated)
    ));
    server.complete_startup(&[], 1, &[1, 2, 3, 4]).unwrap();
    assert_eq!(server.poll_timeout(), None);
    server.handle_timeout(Duration::from_secs(1000));
    assert!(server.error_state().is_none());

    // A client that sends half a startup packet is closed at the deadline.
    let mut server = Server::new(config);
    server.handle_timeout(Duration::ZERO);
    server.handle_input(&startup_packet()[..5]);
    assert_eq!(server.poll_event().unwrap(), None);
    server.handle_timeout(Duration::from_secs(5));
    assert!(matches!(
        server.poll_event(),
        Err(pgproto_core::Error::TimedOut(_))
    ));
    assert_eq!(server.poll_timeout(), None);
}
