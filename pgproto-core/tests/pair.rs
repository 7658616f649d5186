//! The client and server state machines talking to each other in memory: startup,
//! authentication, both query protocols, pipelining with errors, COPY, notifications.

use pgproto_core::auth::scram::{ScramCredential, ScramVerifier};
use pgproto_core::client::{Config, Event, Response, SslMode};
use pgproto_core::column::Column;
use pgproto_core::db_error::{DbError, Severity};
use pgproto_core::message::{Bind, Format, List, TransactionStatus};
use pgproto_core::server::{ServerConfig, ServerEvent};
use pgproto_core::sqlstate::SqlState;
use pgproto_core::testing::Pair;

fn config(password: Option<&str>) -> Config {
    let mut c = Config::new("alice");
    c.ssl_mode = SslMode::Disable;
    c.password = password.map(|p| p.as_bytes().to_vec());
    c
}

fn client_events(pair: &mut Pair) -> Vec<Event> {
    pair.transfer();
    let mut out = Vec::new();
    while let Some(e) = pair.client.poll_event().unwrap() {
        out.push(e);
    }
    out
}

fn server_event(pair: &mut Pair) -> Option<ServerEvent> {
    pair.transfer();
    pair.server.poll_event().unwrap()
}

/// Runs startup with the given authentication on the server side.
fn connect(pair: &mut Pair, auth: impl FnOnce(&mut Pair)) {
    let Some(ServerEvent::Startup(s)) = server_event(pair) else {
        panic!("no startup")
    };
    assert_eq!((s.user.as_str(), s.database.as_str()), ("alice", "alice"));
    auth(pair);
    loop {
        match server_event(pair) {
            Some(ServerEvent::Authenticated) => break,
            Some(other) => panic!("{other:?}"),
            None => {
                client_events(pair);
            }
        }
    }
    pair.server
        .complete_startup(&[("server_version", "99.0")], 7, &[9; 32])
        .unwrap();
    let events = client_events(pair);
    assert!(events.contains(&Event::Ready), "{events:?}");
    assert_eq!(pair.client.parameter("server_version"), Some("99.0"));
    let token = pair.client.cancel_token().unwrap();
    assert_eq!((token.process_id, token.secret_key.len()), (7, 32));
}

fn responses(events: Vec<Event>) -> Vec<(u64, Response, bool)> {
    events
        .into_iter()
        .filter_map(|e| match e {
            Event::Response {
                request,
                response,
                complete,
            } => Some((request.0, response, complete)),
            _ => None,
        })
        .collect()
}

#[test]
fn scram_startup_and_simple_query() {
    let mut pair = Pair::new(config(Some("pencil")), ServerConfig::default());
    let verifier = ScramVerifier::generate(b"pencil", b"0123456789abcdef", 4096).unwrap();
    connect(&mut pair, |p| {
        p.server
            .request_scram(ScramCredential::Verifier(verifier), &[1; 24])
            .unwrap()
    });
    // 3.2 was requested and is spoken by this server: no negotiation.
    assert_eq!(pair.client.protocol_version().minor, 2);

    let q = pair.client.query("select 1; select 2").unwrap();
    let Some(ServerEvent::Query { sql }) = server_event(&mut pair) else {
        panic!()
    };
    assert_eq!(sql, "select 1; select 2");
    let col = [Column::new("n", 23, 4)];
    for v in [b"1", b"2"] {
        pair.server.row_description(&col).unwrap();
        pair.server.data_row(&[Some(v)]).unwrap();
        pair.server.command_complete("SELECT 1").unwrap();
    }
    // Invalid sequences are refused: no DataRow without a RowDescription.
    assert!(pair.server.data_row(&[Some(b"x")]).is_err());
    pair.server.ready_for_query().unwrap();
    assert!(
        pair.server.ready_for_query().is_err(),
        "second ReadyForQuery"
    );
    let r = responses(client_events(&mut pair));
    assert_eq!(r.len(), 7);
    assert!(r.iter().all(|(id, _, _)| *id == q.0));
    assert!(
        matches!(&r[1].1, Response::DataRow(row) if row.values().next() == Some(Some(&b"1"[..])))
    );
    assert!(r[6].2, "ReadyForQuery completes the query");
}

#[test]
fn wrong_scram_password_and_unknown_user_fail_alike() {
    let verifier = ScramVerifier::generate(b"right", b"0123456789abcdef", 4096).unwrap();
    let mut pair = Pair::new(config(Some("wrong")), ServerConfig::default());
    let Some(ServerEvent::Startup(_)) = server_event(&mut pair) else {
        panic!()
    };
    pair.server
        .request_scram(ScramCredential::Verifier(verifier), &[1; 24])
        .unwrap();
    // The failure reaches the client as the server's FATAL 28P01.
    let mut client_err = None;
    for _ in 0..10 {
        let _ = pair.server.poll_event();
        pair.transfer();
        if let Err(e) = pair.client.poll_event() {
            client_err = Some(e);
            break;
        }
    }
    let wrong = client_err.expect("client fails");

    let mut pair = Pair::new(config(Some("whatever")), ServerConfig::default());
    let Some(ServerEvent::Startup(_)) = server_event(&mut pair) else {
        panic!()
    };
    pair.server
        .request_scram(
            ScramCredential::Unknown {
                username: b"alice",
                mock_secret: b"server secret",
                iterations: 4096,
            },
            &[1; 24],
        )
        .unwrap();
    let mut client_err = None;
    for _ in 0..10 {
        let _ = pair.server.poll_event();
        pair.transfer();
        if let Err(e) = pair.client.poll_event() {
            client_err = Some(e);
            break;
        }
    }
    let unknown = client_err.expect("client fails");
    assert_eq!(wrong, unknown);
    match wrong {
        pgproto_core::Error::Server(e) => assert_eq!(e.code, SqlState::InvalidPassword),
        other => panic!("{other:?}"),
    }
}

#[test]
fn md5_and_cleartext() {
    let stored = pgproto_core::auth::md5::encrypt_password(b"alice", b"pw");
    let mut pair = Pair::new(config(Some("pw")), ServerConfig::default());
    connect(&mut pair, |p| {
        p.server
            .request_md5_password(Some(&stored), *b"salt")
            .unwrap()
    });

    let mut pair = Pair::new(config(Some("pw")), ServerConfig::default());
    let Some(ServerEvent::Startup(_)) = server_event(&mut pair) else {
        panic!()
    };
    pair.server.request_password().unwrap();
    client_events(&mut pair);
    let Some(ServerEvent::Password(pw)) = server_event(&mut pair) else {
        panic!()
    };
    assert_eq!(pw, b"pw");
    pair.server.authentication_ok().unwrap();
    assert_eq!(server_event(&mut pair), Some(ServerEvent::Authenticated));
}

/// Prepares `name` on the server side answering Parse with one int4 column.
fn answer_parse(pair: &mut Pair, params: &[u32]) {
    let Some(ServerEvent::Parse { .. }) = server_event(pair) else {
        panic!("expected Parse")
    };
    pair.server
        .parse_complete(params, Some(vec![Column::new("v", 23, 4)]))
        .unwrap();
}

#[test]
fn pipelined_extended_queries_with_an_error_skip_until_sync() {
    let mut pair = Pair::new(config(None), ServerConfig::default());
    connect(&mut pair, |p| p.server.authenticate_trust().unwrap());
    let c = &mut pair.client;
    let parse = c.parse("s1", "select $1::int4", &[23]).unwrap();
    let describe = c.describe_statement("s1").unwrap();
    let v = 5i32.to_be_bytes();
    let params = [Some(&v[..])];
    let bind = Bind {
        portal: "",
        statement: "s1",
        param_formats: List::new(&[Format::Binary]),
        params: List::new(&params),
        result_formats: List::new(&[Format::Binary]),
    };
    let b1 = c.bind(&bind).unwrap();
    let e1 = c.execute("", 0).unwrap();
    let bad_bind = c
        .bind(&Bind {
            statement: "nope",
            ..bind
        })
        .unwrap();
    let skipped_exec = c.execute("", 0).unwrap();
    let sync = c.sync().unwrap();
    // After the Sync, the next batch works again.
    let b2 = c.bind(&bind).unwrap();
    let e2 = c.execute("", 1).unwrap();
    let sync2 = c.sync().unwrap();

    answer_parse(&mut pair, &[23]);
    // Describe is answered by the core; then Bind.
    let Some(ServerEvent::Bind { portal }) = server_event(&mut pair) else {
        panic!()
    };
    let p = pair.server.portal(&portal).unwrap();
    assert_eq!(p.params().next(), Some(Some(&v[..])));
    assert_eq!(p.result_format(0), Format::Binary);
    pair.server.bind_complete().unwrap();
    let Some(ServerEvent::Execute { .. }) = server_event(&mut pair) else {
        panic!()
    };
    pair.server.data_row(&[Some(&v)]).unwrap();
    pair.server.command_complete("SELECT 1").unwrap();
    // The bad Bind is answered by the core (26000), the Execute after it discarded, and
    // Sync answered: the next event is the second batch's Bind.
    let Some(ServerEvent::Bind { .. }) = server_event(&mut pair) else {
        panic!()
    };
    pair.server.bind_complete().unwrap();
    let Some(ServerEvent::Execute { max_rows: 1, .. }) = server_event(&mut pair) else {
        panic!()
    };
    pair.server.data_row(&[Some(&v)]).unwrap();
    assert!(pair.server.data_row(&[Some(&v)]).is_err(), "row limit");
    pair.server.portal_suspended().unwrap();
    assert_eq!(server_event(&mut pair), None);

    let r = responses(client_events(&mut pair));
    let by_id = |id: pgproto_core::client::RequestId| -> Vec<&Response> {
        r.iter()
            .filter(|(i, _, _)| *i == id.0)
            .map(|(_, resp, _)| resp)
            .collect()
    };
    assert_eq!(by_id(parse), [&Response::ParseComplete]);
    assert!(
        matches!(by_id(describe)[..], [Response::ParameterDescription(ref t), Response::RowDescription(_)] if t == &[23])
    );
    assert_eq!(by_id(b1), [&Response::BindComplete]);
    assert!(matches!(
        by_id(e1)[..],
        [Response::DataRow(_), Response::CommandComplete(_)]
    ));
    assert!(
        matches!(by_id(bad_bind)[..], [Response::Error(ref e)] if e.code == SqlState::InvalidSqlStatementName)
    );
    assert_eq!(by_id(skipped_exec), [&Response::Skipped]);
    assert_eq!(
        by_id(sync),
        [&Response::ReadyForQuery(TransactionStatus::Idle)]
    );
    assert_eq!(by_id(b2), [&Response::BindComplete]);
    assert!(matches!(
        by_id(e2)[..],
        [Response::DataRow(_), Response::PortalSuspended]
    ));
    assert_eq!(
        by_id(sync2),
        [&Response::ReadyForQuery(TransactionStatus::Idle)]
    );
    // Every request completed exactly once.
    let completions = r.iter().filter(|(_, _, done)| *done).count();
    assert_eq!(completions, 10);
    assert_eq!(pair.client.pending_requests(), 0);
}

#[test]
fn copy_in_and_out_and_notifications() {
    let mut pair = Pair::new(config(None), ServerConfig::default());
    connect(&mut pair, |p| p.server.authenticate_trust().unwrap());

    let q = pair.client.query("copy t from stdin").unwrap();
    let Some(ServerEvent::Query { .. }) = server_event(&mut pair) else {
        panic!()
    };
    pair.server
        .copy_in_response(Format::Text, &[Format::Text])
        .unwrap();
    let r = responses(client_events(&mut pair));
    assert!(matches!(r[0].1, Response::CopyIn(_)));
    pair.client.copy_data(b"1\n2\n").unwrap();
    pair.client.copy_done().unwrap();
    assert!(pair.client.copy_data(b"3\n").is_err(), "copy is over");
    assert_eq!(
        server_event(&mut pair),
        Some(ServerEvent::CopyData(bytes::Bytes::from_static(b"1\n2\n")))
    );
    assert_eq!(server_event(&mut pair), Some(ServerEvent::CopyDone));
    pair.server.command_complete("COPY 2").unwrap();
    pair.server.ready_for_query().unwrap();
    let r = responses(client_events(&mut pair));
    assert!(matches!(&r[0].1, Response::CommandComplete(t) if t.rows() == Some(2)));
    assert!(r[1].2 && r[1].0 == q.0);

    pair.client.query("copy t to stdout").unwrap();
    let Some(ServerEvent::Query { .. }) = server_event(&mut pair) else {
        panic!()
    };
    pair.server.copy_out_response(Format::Text, &[]).unwrap();
    pair.server.copy_data(b"a\n").unwrap();
    assert!(
        pair.server.command_complete("COPY 1").is_err(),
        "copy_done first"
    );
    pair.server.copy_done().unwrap();
    pair.server.command_complete("COPY 1").unwrap();
    pair.server.notification(99, "chan", "hi").unwrap();
    pair.server.ready_for_query().unwrap();
    let events = client_events(&mut pair);
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::Notification(n) if n.channel == "chan")));
    let r = responses(events);
    assert!(matches!(&r[1].1, Response::CopyData(d) if &d[..] == b"a\n"));

    // An error in a transaction block fails it, and the status reaches the client.
    pair.server
        .set_transaction_status(TransactionStatus::InTransaction);
    pair.client.query("select boom").unwrap();
    let Some(ServerEvent::Query { .. }) = server_event(&mut pair) else {
        panic!()
    };
    pair.server
        .error(&DbError::new(
            Severity::Error,
            SqlState::UndefinedColumn,
            "no boom",
        ))
        .unwrap();
    client_events(&mut pair);
    assert_eq!(pair.client.transaction_status(), TransactionStatus::Failed);
}
