//! The harness's error type.

use std::fmt;

/// Result alias used throughout the harness.
pub type HarnessResult<T> = Result<T, HarnessError>;

/// Something the harness could not do: set up binaries, start or talk to a
/// cluster, run a client program. The message says what failed and, where
/// it helps, how to fix it (for instance the tail of the server log).
///
/// `Debug` prints the message verbatim, so that `unwrap()` in a test shows
/// multi-line messages (such as a server log tail) readably.
#[derive(Clone, PartialEq, Eq)]
pub struct HarnessError {
    message: String,
}

impl HarnessError {
    /// Creates an error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The full, human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Wraps an I/O error with a description of what was being attempted.
    pub(crate) fn io(context: impl fmt::Display, err: std::io::Error) -> Self {
        Self::new(format!("{context}: {err}"))
    }
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HarnessError {}
