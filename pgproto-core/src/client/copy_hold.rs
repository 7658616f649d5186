//! Requests that wait while a COPY FROM STDIN is open, or may be about to open.
//!
//! During COPY FROM STDIN the server reads only CopyData, CopyDone and CopyFail (it
//! ignores Flush and Sync); any other message aborts the COPY, and PostgreSQL answers
//! with `08P01` and closes the connection. A client that pipelines requests from several
//! callers must therefore not send a request while a COPY is open, nor while a request
//! that can still open one is unanswered: its bytes would arrive inside the COPY stream.
//!
//! # The rule
//!
//! A request is a *candidate* when it can start a COPY that reads from the client:
//! a simple Query, or an Execute of a portal bound from a statement, whose SQL contains
//! `copy` or `start_replication` (ASCII case-insensitive; START_REPLICATION opens
//! COPY BOTH). The test is textual and errs on the side of holding: a query that merely
//! mentions `copy` costs one round trip of pipelining, never correctness.
//!
//! After a candidate is sent, the requests made later wait here and go out, in order,
//! when the candidate is complete (its ReadyForQuery for a Query, its CommandComplete or
//! error for an Execute) and no COPY is open. A held candidate is released with the
//! requests before it and holds the ones after it in turn.
//!
//! A Sync (or Flush) right after an Execute candidate goes out at once: without it the
//! server would keep the Execute's answer buffered and both sides would wait. If the
//! Execute then opens COPY FROM STDIN, the server ignores that Sync, so the client sends
//! another after CopyDone or CopyFail, or when an error ends the COPY (as libpq does).

use alloc::collections::{BTreeSet, VecDeque};
use alloc::string::{String, ToString};

use bytes::BytesMut;

use super::session::Pending;
use super::RequestId;
use crate::cycle::RequestKind;
use crate::error::EncodeError;
use crate::message::Sync;

/// What a command is about to send, as far as holding is concerned.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outgoing {
    /// A request; `candidate` when it may open a COPY, `execute` when it is an Execute.
    Request { candidate: bool, execute: bool },
    /// A Sync.
    Sync,
    /// A Flush.
    Flush,
}

/// A held candidate: where its bytes end in the held buffer.
#[derive(Debug, Clone, Copy)]
struct Mark {
    request: RequestId,
    end: usize,
    execute: bool,
    sync_follows: bool,
}

/// The sent candidate that has not completed yet.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    request: RequestId,
    execute: bool,
    /// A Sync was sent right behind this Execute.
    sync_follows: bool,
}

/// The client's hold on requests during COPY (see the [module documentation](self)).
#[derive(Debug, Default)]
pub(crate) struct CopyHold {
    held: BytesMut,
    marks: VecDeque<Mark>,
    in_flight: Option<InFlight>,
    /// The last request sent is the in-flight candidate (maybe followed by Flush/Sync).
    tail_is_candidate: bool,
    /// Syncs the server ignored because they arrived during the open COPY: each is sent
    /// again when the COPY ends.
    owed_syncs: u32,
    copy_statements: BTreeSet<String>,
    copy_portals: BTreeSet<String>,
}

/// Whether `sql` may open a COPY that reads from the client.
pub(crate) fn may_open_copy(sql: &str) -> bool {
    contains_ignore_case(sql.as_bytes(), b"copy")
        || contains_ignore_case(sql.as_bytes(), b"start_replication")
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    let mut at = 0;
    while let Some(found) = haystack.get(at..).and_then(|rest| {
        memchr::memchr2(first.to_ascii_lowercase(), first.to_ascii_uppercase(), rest)
    }) {
        let start = at + found;
        if haystack
            .get(start..start + needle.len())
            .is_some_and(|window| window.eq_ignore_ascii_case(needle))
        {
            return true;
        }
        at = start + 1;
    }
    false
}

impl CopyHold {
    /// Records that statement `name` was parsed from SQL that may (or may not) open COPY.
    pub(crate) fn statement_parsed(&mut self, name: &str, may_copy: bool) {
        if may_copy {
            self.copy_statements.insert(name.to_string());
        } else if !self.copy_statements.is_empty() {
            self.copy_statements.remove(name);
        }
    }

    /// Records that portal `portal` was bound from `statement`.
    pub(crate) fn portal_bound(&mut self, portal: &str, statement: &str) {
        if self.copy_statements.contains(statement) {
            self.copy_portals.insert(portal.to_string());
        } else if !self.copy_portals.is_empty() {
            self.copy_portals.remove(portal);
        }
    }

    /// Records that a statement or portal was closed.
    pub(crate) fn closed(&mut self, name: &str, portal: bool) {
        if portal {
            self.copy_portals.remove(name);
        } else {
            self.copy_statements.remove(name);
        }
    }

    /// Whether executing `portal` may open COPY.
    pub(crate) fn portal_may_copy(&self, portal: &str) -> bool {
        !self.copy_portals.is_empty() && self.copy_portals.contains(portal)
    }

    /// Encodes one outgoing message into `out`, or into the held buffer when it must
    /// wait. `next` is the id the request will get; `copy_in` whether a COPY FROM STDIN
    /// is open.
    pub(crate) fn send(
        &mut self,
        out: &mut BytesMut,
        copy_in: bool,
        what: Outgoing,
        next: RequestId,
        encode: impl FnOnce(&mut BytesMut) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        let holding = self.in_flight.is_some() || !self.held.is_empty() || copy_in;
        let behind_candidate = self.held.is_empty() && self.tail_is_candidate;
        match what {
            Outgoing::Request { candidate, execute } if !holding => {
                encode(out)?;
                if candidate {
                    self.in_flight = Some(InFlight {
                        request: next,
                        execute,
                        sync_follows: false,
                    });
                }
                self.tail_is_candidate = candidate && execute;
            }
            Outgoing::Sync | Outgoing::Flush if !holding || behind_candidate => {
                encode(out)?;
                if matches!(what, Outgoing::Sync) {
                    if let Some(flight) = self.in_flight.as_mut().filter(|_| behind_candidate) {
                        flight.sync_follows = true;
                        // Sent while the COPY is already open: the server ignores it.
                        self.owed_syncs += u32::from(copy_in);
                    }
                }
            }
            Outgoing::Request { candidate, execute } => {
                encode(&mut self.held)?;
                if candidate {
                    self.marks.push_back(Mark {
                        request: next,
                        end: self.held.len(),
                        execute,
                        sync_follows: false,
                    });
                }
            }
            Outgoing::Sync | Outgoing::Flush => {
                let before = self.held.len();
                encode(&mut self.held)?;
                // A Sync or Flush right behind a held Execute candidate goes out with it.
                if let Some(mark) = self
                    .marks
                    .back_mut()
                    .filter(|m| m.end == before && m.execute)
                {
                    mark.end = self.held.len();
                    mark.sync_follows |= matches!(what, Outgoing::Sync);
                }
            }
        }
        Ok(())
    }

    /// A COPY FROM STDIN opened for `pending[0]`. A request that was not expected to
    /// open one (no `copy` in its SQL) becomes the candidate now: what is submitted later
    /// waits until it completes, not only until this COPY ends (the same request may open
    /// another).
    pub(crate) fn copy_opened(&mut self, pending: &VecDeque<Pending>) {
        let Some(front) = pending.front() else {
            return;
        };
        let execute = front.kind == RequestKind::Execute;
        if self.in_flight.is_none() {
            // Nothing was held, so a Sync queued right behind it went out already.
            let sync_follows = execute
                && pending
                    .get(1)
                    .is_some_and(|next| next.kind == RequestKind::Sync);
            self.in_flight = Some(InFlight {
                request: front.id,
                execute,
                sync_follows,
            });
        }
        if let Some(flight) = self.in_flight.filter(|f| f.request == front.id) {
            self.owed_syncs += u32::from(flight.execute && flight.sync_follows);
        }
    }

    /// The COPY FROM STDIN ended (CopyDone or CopyFail sent, or an error from the
    /// server): sends again the Syncs the server ignored during it.
    pub(crate) fn copy_ended(&mut self, out: &mut BytesMut) {
        for _ in 0..core::mem::take(&mut self.owed_syncs) {
            // Sync has no variable part: encoding cannot fail.
            let _ = Sync.encode(out);
        }
    }

    /// `request` completed.
    pub(crate) fn completed(&mut self, request: RequestId) {
        if self.in_flight.is_some_and(|f| f.request == request) {
            self.in_flight = None;
            self.tail_is_candidate = false;
        }
    }

    /// Whether requests are waiting.
    pub(crate) fn has_held(&self) -> bool {
        !self.held.is_empty()
    }

    /// Moves the held requests that may go now to `out`: all of them up to and with the
    /// next candidate, when no candidate is in flight and no COPY is open.
    pub(crate) fn release(
        &mut self,
        out: &mut BytesMut,
        copy_in: bool,
        pending: &VecDeque<Pending>,
    ) {
        while self.in_flight.is_none() && !copy_in && !self.held.is_empty() {
            let Some(mark) = self.marks.pop_front() else {
                out.extend_from_slice(&self.held.split());
                self.tail_is_candidate = false;
                return;
            };
            out.extend_from_slice(&self.held.split_to(mark.end));
            for later in &mut self.marks {
                later.end -= mark.end;
            }
            // A candidate answered already (skipped after an earlier error) opens nothing.
            let waiting = pending
                .binary_search_by_key(&mark.request, |p| p.id)
                .is_ok();
            if waiting {
                self.in_flight = Some(InFlight {
                    request: mark.request,
                    execute: mark.execute,
                    sync_follows: mark.sync_follows,
                });
                self.tail_is_candidate = mark.execute;
            } else {
                self.tail_is_candidate = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Client, Config, Event, Response, SslMode};
    use crate::message::Format;
    use alloc::vec::Vec;

    const COPY_IN_RESPONSE: &[u8] = b"G\0\0\0\x09\0\0\x01\0\0";
    const READY: &[u8] = b"Z\0\0\0\x05I";

    fn ready_client() -> Client {
        let mut config = Config::new("alice");
        config.ssl_mode = SslMode::Disable;
        let mut client = Client::new(config, &[7; 24]);
        let _startup = client.poll_transmit();
        client.handle_input(b"R\0\0\0\x08\0\0\0\0");
        client.handle_input(READY);
        while client.poll_event().unwrap().is_some() {}
        client
    }

    /// The tags of the frontend messages the client wants to send now.
    fn sent(client: &mut Client) -> Vec<u8> {
        let bytes = client.poll_transmit().unwrap_or_default();
        let mut tags = Vec::new();
        let mut rest = &bytes[..];
        while let [tag, a, b, c, d, ..] = rest {
            tags.push(*tag);
            let len = u32::from_be_bytes([*a, *b, *c, *d]) as usize;
            rest = &rest[1 + len..];
        }
        tags
    }

    /// ParseComplete, BindComplete and NoData: the answers before an Execute's own.
    const PARSED_BOUND_NO_DATA: [&[u8]; 3] = [b"1\0\0\0\x04", b"2\0\0\0\x04", b"n\0\0\0\x04"];

    /// `sql` through the extended protocol (Parse, Bind, Describe, Execute, Sync) with a
    /// simple query `behind` it: only the extended messages go out.
    fn extended_then_query(client: &mut Client, sql: &str, behind: &str) {
        client
            .query_raw(sql, &[], &[], Format::Text, Format::Text)
            .unwrap();
        client.query(behind).unwrap();
        assert_eq!(sent(client), b"PBDES", "Sync goes with the Execute");
    }

    fn command_complete(tag: &str) -> Vec<u8> {
        let mut m = alloc::vec![b'C'];
        m.extend_from_slice(&u32::try_from(tag.len() + 5).unwrap().to_be_bytes());
        m.extend_from_slice(tag.as_bytes());
        m.push(0);
        m
    }

    fn feed(client: &mut Client, input: &[&[u8]]) -> Vec<Event> {
        for bytes in input {
            client.handle_input(bytes);
        }
        let mut events = Vec::new();
        while let Some(e) = client.poll_event().unwrap() {
            events.push(e);
        }
        events
    }

    #[test]
    fn a_query_waits_for_a_simple_copy() {
        let mut client = ready_client();
        let copy = client.query("COPY t FROM STDIN").unwrap();
        let select = client.query("select 42").unwrap();
        assert_eq!(
            sent(&mut client),
            b"Q",
            "the select waits for the COPY's answer"
        );
        feed(&mut client, &[COPY_IN_RESPONSE]);
        client.copy_data(b"1\n").unwrap();
        // Submitted while the COPY is open.
        let later = client.query("select 43").unwrap();
        assert_eq!(sent(&mut client), b"d");
        client.copy_done().unwrap();
        assert_eq!(
            sent(&mut client),
            b"c",
            "held until the COPY's request completes"
        );
        let events = feed(&mut client, &[&command_complete("COPY 1"), READY]);
        assert!(matches!(
            events.last(),
            Some(Event::Response { request, complete: true, .. }) if *request == copy
        ));
        assert_eq!(sent(&mut client), b"QQ", "both queries go out, in order");
        assert!(select < later);
    }

    #[test]
    fn a_copy_nobody_expected_holds_requests_until_its_query_completes() {
        // Fuzz finding: a server opening COPY for a query without `copy` in it, twice.
        let mut client = ready_client();
        client.query("select 1").unwrap();
        assert_eq!(sent(&mut client), b"Q");
        feed(&mut client, &[COPY_IN_RESPONSE]);
        client.query("select 2").unwrap();
        client.copy_done().unwrap();
        assert_eq!(
            sent(&mut client),
            b"c",
            "held: the query may open another COPY"
        );
        feed(&mut client, &[COPY_IN_RESPONSE]);
        client.copy_done().unwrap();
        assert_eq!(sent(&mut client), b"c");
        feed(&mut client, &[&command_complete("COPY 0"), READY]);
        assert_eq!(sent(&mut client), b"Q");
    }

    #[test]
    fn an_extended_copy_gets_its_sync_again() {
        let mut client = ready_client();
        extended_then_query(&mut client, "copy t from stdin", "select 42");
        feed(&mut client, &PARSED_BOUND_NO_DATA);
        feed(&mut client, &[COPY_IN_RESPONSE]);
        assert!(client.is_copy_in());
        client.copy_done().unwrap();
        // The server ignored the Sync that arrived during the COPY: one more follows.
        assert_eq!(sent(&mut client), b"cS");
        feed(&mut client, &[&command_complete("COPY 0"), READY]);
        assert_eq!(sent(&mut client), b"Q");
        assert_eq!(client.pending_requests(), 1);
    }

    #[test]
    fn an_error_ending_an_extended_copy_sends_the_sync() {
        let mut client = ready_client();
        extended_then_query(&mut client, "copy t from stdin", "select 42");
        feed(&mut client, &PARSED_BOUND_NO_DATA);
        feed(&mut client, &[COPY_IN_RESPONSE]);
        client.copy_data(b"oops\n").unwrap();
        assert_eq!(sent(&mut client), b"d");
        // 22P02 from the server ends the COPY; it now discards until Sync.
        let error = b"E\0\0\0\x13SERROR\0C22P02\0\0";
        let events = feed(&mut client, &[&error[..]]);
        assert!(matches!(
            events.first(),
            Some(Event::Response {
                response: Response::Error(_),
                complete: true,
                ..
            })
        ));
        // The Sync first, then the query: the server reads it after its ReadyForQuery.
        assert_eq!(sent(&mut client), b"SQ");
        feed(&mut client, &[READY]);
        assert_eq!(client.pending_requests(), 1);
    }

    #[test]
    fn an_execute_that_only_mentions_copy_is_not_held_forever() {
        let mut client = ready_client();
        extended_then_query(&mut client, "select 'copy'", "select 1");
        feed(&mut client, &PARSED_BOUND_NO_DATA);
        feed(&mut client, &[&command_complete("SELECT 1")]);
        assert_eq!(
            sent(&mut client),
            b"Q",
            "released at the Execute's completion"
        );
        feed(&mut client, &[READY]);
        assert_eq!(client.pending_requests(), 1);
    }

    #[test]
    fn a_held_candidate_skipped_after_an_error_opens_nothing() {
        let mut client = ready_client();
        client.parse("s", "copy x from stdin", &[]).unwrap();
        client
            .bind(&crate::message::Bind {
                portal: "p",
                statement: "s",
                param_formats: crate::message::List::new(&[]),
                params: crate::message::List::new(&[]),
                result_formats: crate::message::List::new(&[]),
            })
            .unwrap();
        client.execute("p", 0).unwrap();
        // Behind the candidate: held, with a second candidate among them.
        client.parse("", "select 1", &[]).unwrap();
        client.execute("p", 0).unwrap();
        client.sync().unwrap();
        assert_eq!(sent(&mut client), b"PBE");
        let error = b"E\0\0\0\x13SERROR\0C42P01\0\0";
        feed(&mut client, &[b"1\0\0\0\x04", b"2\0\0\0\x04", &error[..]]);
        // Both were answered Skipped; they go out (the server discards them) with Sync.
        assert_eq!(sent(&mut client), b"PES");
        feed(&mut client, &[READY]);
        assert_eq!(client.pending_requests(), 0);
        client.query("select 2").unwrap();
        assert_eq!(sent(&mut client), b"Q", "nothing is held any more");
    }

    #[test]
    fn copy_is_found_in_any_case() {
        assert!(may_open_copy("COPY t FROM STDIN"));
        assert!(may_open_copy("select 1; copy t from stdin"));
        assert!(may_open_copy("Copy t from stdin"));
        assert!(may_open_copy("START_REPLICATION SLOT s LOGICAL 0/0"));
        assert!(!may_open_copy("select 1"));
        assert!(!may_open_copy("select 'cop'"));
        assert!(!may_open_copy(""));
        assert!(contains_ignore_case(b"xxcCOPY", b"copy"));
        assert!(!contains_ignore_case(b"cop", b"copy"));
    }
}
