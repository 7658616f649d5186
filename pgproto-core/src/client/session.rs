//! The ready phase's request bookkeeping: which request each response answers, what the
//! server skips after an error until Sync, COPY state, and requests held during COPY.
//!
//! [`Session`] is the data of [`super::State::Ready`]; [`Requests`] borrows it together
//! with the connection's event queue and output buffer while a command or a response is
//! handled.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};

use super::copy_hold::{CopyHold, Outgoing};
use super::{CommandTag, CopyFormat, Event, RequestId, Response, RowDescriptionBody};
use crate::cycle::{ErrorRecovery, RequestKind};
use crate::db_error::DbError;
use crate::error::{Error, ProtocolViolation};
use crate::message::{BackendMessage, Oid, TransactionStatus};

/// A request waiting for its answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending {
    pub(crate) id: RequestId,
    pub(crate) kind: RequestKind,
}

/// Which COPY is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CopyState {
    None,
    In,
    Out,
    Both,
}

/// The data of the ready phase.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) pending: VecDeque<Pending>,
    pub(crate) next_id: u64,
    /// An extended-protocol error arrived and no Sync was sent since: the server
    /// discards what is sent until one.
    pub(crate) discarding: bool,
    /// Extended-protocol messages were sent since the last Sync.
    pub(crate) unsynced: bool,
    pub(crate) copy: CopyState,
    pub(crate) hold: CopyHold,
}

impl Session {
    pub(crate) fn new(next_id: u64) -> Self {
        Self {
            pending: VecDeque::new(),
            next_id,
            discarding: false,
            unsynced: false,
            copy: CopyState::None,
            hold: CopyHold::default(),
        }
    }

    /// Whether COPY FROM STDIN data may be sent now.
    pub(crate) fn is_copy_in(&self) -> bool {
        matches!(self.copy, CopyState::In | CopyState::Both)
    }
}

fn unexpected(message: &'static str) -> Error {
    ProtocolViolation::UnexpectedMessage {
        phase: super::Phase::Ready.name(),
        message,
    }
    .into()
}

/// The session with the connection's event queue and output, for one command or one
/// response.
pub(crate) struct Requests<'a> {
    pub(crate) session: &'a mut Session,
    pub(crate) events: &'a mut VecDeque<Event>,
    pub(crate) out: &'a mut BytesMut,
    pub(crate) transaction_status: &'a mut TransactionStatus,
}

impl Requests<'_> {
    pub(crate) fn respond(&mut self, id: RequestId, response: Response, complete: bool) {
        if complete {
            self.session.pending.pop_front();
            self.session.hold.completed(id);
        }
        self.events.push_back(Event::Response {
            request: id,
            response,
            complete,
        });
    }

    /// The request a DataRow (`is_row`) or CopyData belongs to, when one may come now:
    /// rows answer a Query or Execute, COPY data a Query or Execute in COPY-out mode.
    /// Otherwise [`Client::process_response`] refuses the message.
    pub(crate) fn row_destination(&self, is_row: bool) -> Option<RequestId> {
        let front = self.session.pending.front()?;
        let expected = matches!(front.kind, RequestKind::Query | RequestKind::Execute)
            && (is_row || matches!(self.session.copy, CopyState::Out | CopyState::Both));
        expected.then_some(front.id)
    }

    /// Routes a response to the request it answers. (DataRow and CopyData, when
    /// expected, go straight from [`Client::process`] to [`Client::respond`].)
    pub(crate) fn process_response(
        &mut self,
        msg: BackendMessage<'_>,
        body: Bytes,
    ) -> Result<(), Error> {
        use RequestKind as K;
        let Some(front) = self.session.pending.front().copied() else {
            if let BackendMessage::ErrorResponse(e) = msg {
                // An error outside any request: the server is ending the session.
                return Err(Error::Server(Box::new(DbError::from_fields(&e.fields))));
            }
            return Err(ProtocolViolation::UnsolicitedResponse {
                message: msg.name(),
            }
            .into());
        };
        let id = front.id;
        match (front.kind, msg) {
            (kind, BackendMessage::ErrorResponse(e)) => {
                let error = DbError::from_fields(&e.fields);
                let fatal = error.is_fatal();
                if self.session.is_copy_in() {
                    self.session.hold.copy_ended(self.out);
                }
                self.session.copy = CopyState::None;
                let ends_request = kind.error_recovery() == ErrorRecovery::DiscardUntilSync;
                self.respond(id, Response::Error(Box::new(error.clone())), ends_request);
                if ends_request {
                    self.skip_until_sync();
                }
                if fatal {
                    return Err(Error::Server(Box::new(error)));
                }
            }
            (K::Query, BackendMessage::RowDescription(_)) => {
                self.respond(
                    id,
                    Response::RowDescription(RowDescriptionBody::new(body)),
                    false,
                );
            }
            (K::DescribeStatement | K::DescribePortal, BackendMessage::RowDescription(_)) => {
                self.respond(
                    id,
                    Response::RowDescription(RowDescriptionBody::new(body)),
                    true,
                );
            }
            (K::Query | K::Execute, BackendMessage::CommandComplete(_)) => {
                self.session.copy = CopyState::None;
                self.respond(
                    id,
                    Response::CommandComplete(CommandTag::new(body)),
                    front.kind == K::Execute,
                );
            }
            (K::Query | K::Execute, BackendMessage::EmptyQueryResponse(_)) => {
                self.respond(id, Response::EmptyQuery, front.kind == K::Execute);
            }
            (K::Execute, BackendMessage::PortalSuspended(_)) => {
                self.respond(id, Response::PortalSuspended, true);
            }
            (K::Query | K::Execute, BackendMessage::CopyInResponse(c)) => {
                self.session.copy = CopyState::In;
                self.session.hold.copy_opened(&self.session.pending);
                let format = CopyFormat::new(c.format, c.column_formats.iter().collect());
                self.respond(id, Response::CopyIn(format), false);
            }
            (K::Query | K::Execute, BackendMessage::CopyOutResponse(c)) => {
                self.session.copy = CopyState::Out;
                let format = CopyFormat::new(c.format, c.column_formats.iter().collect());
                self.respond(id, Response::CopyOut(format), false);
            }
            (K::Query | K::Execute, BackendMessage::CopyBothResponse(c)) => {
                self.session.copy = CopyState::Both;
                self.session.hold.copy_opened(&self.session.pending);
                let format = CopyFormat::new(c.format, c.column_formats.iter().collect());
                self.respond(id, Response::CopyBoth(format), false);
            }
            (K::Query | K::Execute, BackendMessage::CopyDone(_))
                if matches!(self.session.copy, CopyState::Out | CopyState::Both) =>
            {
                self.session.copy = if self.session.copy == CopyState::Both {
                    CopyState::In
                } else {
                    CopyState::None
                };
                self.respond(id, Response::CopyDone, false);
            }
            (K::Parse, BackendMessage::ParseComplete(_)) => {
                self.respond(id, Response::ParseComplete, true);
            }
            (K::Bind, BackendMessage::BindComplete(_)) => {
                self.respond(id, Response::BindComplete, true);
            }
            (K::DescribeStatement, BackendMessage::ParameterDescription(p)) => {
                let types: Vec<Oid> = p.types.iter().collect();
                self.respond(id, Response::ParameterDescription(types), false);
            }
            (K::DescribeStatement | K::DescribePortal, BackendMessage::NoData(_)) => {
                self.respond(id, Response::NoData, true);
            }
            (K::Close, BackendMessage::CloseComplete(_)) => {
                self.respond(id, Response::CloseComplete, true);
            }
            (K::FunctionCall, BackendMessage::FunctionCallResponse(f)) => {
                let value = f.value.map(Bytes::copy_from_slice);
                self.respond(id, Response::FunctionResult(value), false);
            }
            (K::Query | K::Sync | K::FunctionCall, BackendMessage::ReadyForQuery(r)) => {
                *self.transaction_status = r.status;
                self.session.copy = CopyState::None;
                self.respond(id, Response::ReadyForQuery(r.status), true);
            }
            (_, other) => return Err(unexpected(other.name())),
        }
        Ok(())
    }

    /// After an extended-protocol error, the server discards messages until Sync.
    fn skip_until_sync(&mut self) {
        while let Some(p) = self.session.pending.front().copied() {
            if p.kind == RequestKind::Sync {
                return;
            }
            self.respond(p.id, Response::Skipped, true);
        }
        // No Sync sent yet: requests sent from now on until one are discarded too.
        self.session.discarding = true;
    }

    pub(crate) fn push_request(&mut self, kind: RequestKind) -> RequestId {
        let id = RequestId(self.session.next_id);
        self.session.next_id += 1;
        if kind.error_recovery() == ErrorRecovery::DiscardUntilSync {
            self.session.unsynced = true;
            if self.session.discarding {
                // The server will discard it without an answer.
                self.events.push_back(Event::Response {
                    request: id,
                    response: Response::Skipped,
                    complete: true,
                });
                return id;
            }
        }
        self.session.pending.push_back(Pending { id, kind });
        id
    }

    /// Encodes a request's message, now or (while a COPY is open or may open) into the
    /// hold; see [`copy_hold`].
    pub(crate) fn send_request(
        &mut self,
        candidate: bool,
        execute: bool,
        encode: impl FnOnce(&mut BytesMut) -> Result<(), crate::error::EncodeError>,
    ) -> Result<(), Error> {
        self.send(Outgoing::Request { candidate, execute }, encode)
    }

    pub(crate) fn send(
        &mut self,
        what: Outgoing,
        encode: impl FnOnce(&mut BytesMut) -> Result<(), crate::error::EncodeError>,
    ) -> Result<(), Error> {
        let copy_in = self.session.is_copy_in();
        let next = RequestId(self.session.next_id);
        self.session
            .hold
            .send(self.out, copy_in, what, next, encode)?;
        Ok(())
    }

    /// The client ended COPY FROM STDIN: owed Syncs go out, then what was held may.
    pub(crate) fn copy_ended(&mut self) {
        self.session.hold.copy_ended(self.out);
        let copy_in = self.session.is_copy_in();
        let Session { hold, pending, .. } = &mut *self.session;
        hold.release(self.out, copy_in, pending);
    }
}
