//! Routing responses to whoever issued the requests: the async adapters' connection
//! tasks keep one [`Router`] and deliver each [`Event::Response`](super::Event::Response)
//! to the waiter registered for its request.

use alloc::collections::VecDeque;

use super::RequestId;

/// Waiters for ranges of requests, in issue order.
///
/// An operation (a query, a prepare, a pipeline ending in Sync) issues consecutive
/// requests `first..=last`; its responses go to one waiter, which is removed when
/// `last` completes.
///
/// ```
/// use pgproto_core::client::{RequestId, Router};
/// let mut router = Router::new();
/// router.add(RequestId(0), RequestId(2), "query A");
/// let mut seen = None;
/// router.dispatch(RequestId(1), true, |w, done| seen = Some((*w, done)));
/// assert_eq!(seen, Some(("query A", false)));
/// router.dispatch(RequestId(2), true, |_, done| assert!(done));
/// assert!(router.is_empty());
/// ```
#[derive(Debug)]
pub struct Router<T> {
    routes: VecDeque<(RequestId, RequestId, T)>,
}

impl<T> Default for Router<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Router<T> {
    /// No waiters.
    pub fn new() -> Self {
        Self {
            routes: VecDeque::new(),
        }
    }

    /// Registers `waiter` for requests `first..=last`.
    pub fn add(&mut self, first: RequestId, last: RequestId, waiter: T) {
        self.routes.push_back((first, last, waiter));
    }

    /// Hands the waiter of `request` to `deliver`, with whether this response ends the
    /// waiter's operation (its last request completed); the waiter is then dropped.
    /// Returns whether a waiter was found.
    pub fn dispatch(
        &mut self,
        request: RequestId,
        complete: bool,
        deliver: impl FnOnce(&T, bool),
    ) -> bool {
        let Some(i) = self
            .routes
            .iter()
            .position(|(first, last, _)| *first <= request && request <= *last)
        else {
            return false;
        };
        let mut done = false;
        if let Some((_, last, waiter)) = self.routes.get(i) {
            done = complete && *last == request;
            deliver(waiter, done);
        }
        if done {
            self.routes.remove(i);
        }
        true
    }

    /// The waiter of `request` and whether this response ends its operation, without
    /// removing it (for deliveries that must wait, e.g. on a bounded channel); call
    /// [`Router::finish`] after delivering a response that ends the operation.
    pub fn lookup(&self, request: RequestId, complete: bool) -> Option<(&T, bool)> {
        self.routes
            .iter()
            .find(|(first, last, _)| *first <= request && request <= *last)
            .map(|(_, last, w)| (w, complete && *last == request))
    }

    /// [`Router::lookup`] with mutable access to the waiter (one that collects
    /// responses itself).
    pub fn lookup_mut(&mut self, request: RequestId, complete: bool) -> Option<(&mut T, bool)> {
        self.routes
            .iter_mut()
            .find(|(first, last, _)| *first <= request && request <= *last)
            .map(|(_, last, w)| (w, complete && *last == request))
    }

    /// Removes and returns the waiter whose operation `request` ended.
    pub fn finish(&mut self, request: RequestId) -> Option<T> {
        let i = self
            .routes
            .iter()
            .position(|(first, last, _)| *first <= request && request <= *last)?;
        self.routes.remove(i).map(|(_, _, w)| w)
    }

    /// Whether no waiter is registered.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Removes every waiter (the connection failed).
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.routes.drain(..).map(|(_, _, w)| w)
    }
}
