//! Transaction control statements, built once for every adapter: BEGIN with its options,
//! and the savepoints nested transactions use.

use alloc::format;
use alloc::string::String;

/// A transaction isolation level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IsolationLevel {
    /// `READ UNCOMMITTED` (behaves as READ COMMITTED in PostgreSQL).
    ReadUncommitted,
    /// `READ COMMITTED`, PostgreSQL's default.
    ReadCommitted,
    /// `REPEATABLE READ`.
    RepeatableRead,
    /// `SERIALIZABLE`.
    Serializable,
}

impl IsolationLevel {
    fn sql(self) -> &'static str {
        match self {
            Self::ReadUncommitted => "READ UNCOMMITTED",
            Self::ReadCommitted => "READ COMMITTED",
            Self::RepeatableRead => "REPEATABLE READ",
            Self::Serializable => "SERIALIZABLE",
        }
    }
}

/// Options of a transaction.
///
/// ```
/// use pgproto_core::client::{IsolationLevel, TransactionOptions};
/// let opts = TransactionOptions {
///     isolation: Some(IsolationLevel::Serializable),
///     read_only: Some(true),
///     deferrable: Some(true),
/// };
/// assert_eq!(opts.begin_sql(), "BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE");
/// assert_eq!(TransactionOptions::default().begin_sql(), "BEGIN");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TransactionOptions {
    /// Isolation level (server default when `None`).
    pub isolation: Option<IsolationLevel>,
    /// `READ ONLY` / `READ WRITE`.
    pub read_only: Option<bool>,
    /// `DEFERRABLE` / `NOT DEFERRABLE` (only meaningful for serializable read-only).
    pub deferrable: Option<bool>,
}

impl TransactionOptions {
    /// The BEGIN statement.
    pub fn begin_sql(&self) -> String {
        let mut modes = alloc::vec::Vec::new();
        if let Some(level) = self.isolation {
            modes.push(format!("ISOLATION LEVEL {}", level.sql()));
        }
        if let Some(ro) = self.read_only {
            modes.push(String::from(if ro { "READ ONLY" } else { "READ WRITE" }));
        }
        if let Some(d) = self.deferrable {
            modes.push(String::from(if d {
                "DEFERRABLE"
            } else {
                "NOT DEFERRABLE"
            }));
        }
        if modes.is_empty() {
            String::from("BEGIN")
        } else {
            format!("BEGIN {}", modes.join(", "))
        }
    }
}

/// The statements that open, commit and roll back a transaction at nesting `depth` (0:
/// the outer transaction; deeper ones are savepoints).
///
/// ```
/// use pgproto_core::client::{transaction_statements, TransactionOptions};
/// let outer = transaction_statements(0, &TransactionOptions::default());
/// assert_eq!((outer.begin.as_str(), outer.commit.as_str(), outer.rollback.as_str()), ("BEGIN", "COMMIT", "ROLLBACK"));
/// let inner = transaction_statements(2, &TransactionOptions::default());
/// assert_eq!(inner.begin, "SAVEPOINT pgproto_sp_2");
/// assert_eq!(inner.rollback, "ROLLBACK TO SAVEPOINT pgproto_sp_2; RELEASE SAVEPOINT pgproto_sp_2");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionStatements {
    /// Opens the transaction or savepoint.
    pub begin: String,
    /// Commits it (releases the savepoint).
    pub commit: String,
    /// Rolls it back.
    pub rollback: String,
}

/// See [`TransactionStatements`].
pub fn transaction_statements(depth: u32, options: &TransactionOptions) -> TransactionStatements {
    if depth == 0 {
        TransactionStatements {
            begin: options.begin_sql(),
            commit: String::from("COMMIT"),
            rollback: String::from("ROLLBACK"),
        }
    } else {
        let name = format!("pgproto_sp_{depth}");
        TransactionStatements {
            begin: format!("SAVEPOINT {name}"),
            commit: format!("RELEASE SAVEPOINT {name}"),
            rollback: format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"),
        }
    }
}
