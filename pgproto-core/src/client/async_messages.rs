//! The server's asynchronous messages (NoticeResponse, NotificationResponse,
//! ParameterStatus: they may arrive at any time, outside any request) kept for the
//! application in bounded queues.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use super::{Event, Notification};
use crate::db_error::DbError;

/// How many notices and how many notifications [`AsyncMessages`] keeps by default until
/// the application takes them.
pub const DEFAULT_ASYNC_MESSAGE_CAPACITY: usize = 1024;

/// Notices, notifications and run-time parameters reported by the server, kept until
/// the application asks for them.
///
/// The queues are bounded: a server (or other sessions sending NOTIFY) cannot grow an
/// application's memory without limit when nobody reads them. Once a queue is full, newer
/// messages are dropped and counted ([`AsyncMessages::dropped_notices`],
/// [`AsyncMessages::dropped_notifications`]). Parameters keep their latest value.
///
/// ```
/// use pgproto_core::client::{AsyncMessages, Event, Notification};
///
/// let mut messages = AsyncMessages::with_capacity(1);
/// let notify = |payload: &str| Event::Notification(Notification {
///     process_id: 7,
///     channel: "jobs".into(),
///     payload: payload.into(),
/// });
/// assert!(messages.record(notify("a")).is_none()); // kept
/// assert!(messages.record(notify("b")).is_none()); // dropped: the queue is full
/// messages.record(Event::ParameterStatus { name: "TimeZone".into(), value: "UTC".into() });
/// assert_eq!(messages.pop_notification().map(|n| n.payload), Some("a".into()));
/// assert_eq!(messages.dropped_notifications(), 1);
/// assert_eq!(messages.parameter("TimeZone"), Some("UTC"));
/// assert!(messages.record(Event::Ready).is_some()); // not an asynchronous message
/// ```
#[derive(Debug, Clone)]
pub struct AsyncMessages {
    capacity: usize,
    parameters: Vec<(String, String)>,
    notices: VecDeque<DbError>,
    notifications: VecDeque<Notification>,
    dropped_notices: u64,
    dropped_notifications: u64,
}

impl Default for AsyncMessages {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_ASYNC_MESSAGE_CAPACITY)
    }
}

impl AsyncMessages {
    /// Queues holding at most `capacity` notices and `capacity` notifications.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity,
            parameters: Vec::new(),
            notices: VecDeque::new(),
            notifications: VecDeque::new(),
            dropped_notices: 0,
            dropped_notifications: 0,
        }
    }

    /// Keeps `event` if it is an asynchronous message (notice, notification, parameter
    /// status) and returns `None`; returns any other event to the caller.
    pub fn record(&mut self, event: Event) -> Option<Event> {
        match event {
            Event::Notice(notice) => {
                if self.notices.len() < self.capacity {
                    self.notices.push_back(*notice);
                } else {
                    self.dropped_notices += 1;
                }
                None
            }
            Event::Notification(notification) => {
                if self.notifications.len() < self.capacity {
                    self.notifications.push_back(notification);
                } else {
                    self.dropped_notifications += 1;
                }
                None
            }
            Event::ParameterStatus { name, value } => {
                self.set_parameter(name, value);
                None
            }
            other => Some(other),
        }
    }

    /// Sets a run-time parameter (e.g. the values reported during startup).
    pub fn set_parameter(&mut self, name: String, value: String) {
        match self.parameters.iter_mut().find(|(k, _)| *k == name) {
            Some((_, v)) => *v = value,
            None => self.parameters.push((name, value)),
        }
    }

    /// The latest value the server reported for a run-time parameter (`TimeZone`,
    /// `server_version`, `client_encoding`, ...).
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The oldest notice not yet taken.
    pub fn pop_notice(&mut self) -> Option<DbError> {
        self.notices.pop_front()
    }

    /// The oldest notification not yet taken.
    pub fn pop_notification(&mut self) -> Option<Notification> {
        self.notifications.pop_front()
    }

    /// Every notice not yet taken, oldest first.
    pub fn take_notices(&mut self) -> Vec<DbError> {
        self.notices.drain(..).collect()
    }

    /// Every notification not yet taken, oldest first.
    pub fn take_notifications(&mut self) -> Vec<Notification> {
        self.notifications.drain(..).collect()
    }

    /// Notices dropped because the queue was full.
    pub fn dropped_notices(&self) -> u64 {
        self.dropped_notices
    }

    /// Notifications dropped because the queue was full.
    pub fn dropped_notifications(&self) -> u64 {
        self.dropped_notifications
    }
}
