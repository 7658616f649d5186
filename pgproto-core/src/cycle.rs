//! The request cycle both roles follow: what kind of request a frontend message is, and
//! what happens after the server reports an error for it.
//!
//! PostgreSQL's rules (protocol manual, "Extended Query" and "Simple Query"):
//!
//! | request | answered by | after its ErrorResponse |
//! |---|---|---|
//! | Query | results, then ReadyForQuery | ReadyForQuery (the rest of the string is skipped) |
//! | FunctionCall | FunctionCallResponse, then ReadyForQuery | ReadyForQuery |
//! | Sync | ReadyForQuery | ReadyForQuery |
//! | Parse, Bind, Describe, Execute, Close | one completion message each | the server discards messages until Sync |
//!
//! While discarding, the server reads and drops everything but Sync (and Terminate);
//! Sync ends it with ReadyForQuery. The client predicts the same: requests it sends
//! after the error and before a Sync are answered with nothing, and the server core skips
//! them unread. Both consult this module, so the two sides cannot disagree.

/// A request, as both roles classify it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    Query,
    Parse,
    Bind,
    DescribeStatement,
    DescribePortal,
    Execute,
    Close,
    Sync,
    FunctionCall,
}

/// What follows an ErrorResponse for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorRecovery {
    /// ReadyForQuery follows at once.
    ReadyForQuery,
    /// The server discards messages until Sync, which ReadyForQuery answers.
    DiscardUntilSync,
}

impl RequestKind {
    /// The kind of the request a frontend message starts (`None` for messages that get
    /// no answer of their own: Flush, COPY data, Terminate, ...). Describe and Close are
    /// reported as their statement variant; only the recovery rule depends on the tag.
    pub(crate) fn from_tag(tag: u8) -> Option<Self> {
        Some(match tag {
            b'Q' => Self::Query,
            b'P' => Self::Parse,
            b'B' => Self::Bind,
            b'D' => Self::DescribeStatement,
            b'E' => Self::Execute,
            b'C' => Self::Close,
            b'S' => Self::Sync,
            b'F' => Self::FunctionCall,
            _ => return None,
        })
    }

    /// What follows an error for this request.
    pub(crate) fn error_recovery(self) -> ErrorRecovery {
        match self {
            Self::Query | Self::Sync | Self::FunctionCall => ErrorRecovery::ReadyForQuery,
            Self::Parse
            | Self::Bind
            | Self::DescribeStatement
            | Self::DescribePortal
            | Self::Execute
            | Self::Close => ErrorRecovery::DiscardUntilSync,
        }
    }
}

/// Whether the server, discarding after an extended-protocol error, drops a message with
/// this tag unread (everything but Sync and Terminate).
pub(crate) fn discarded_until_sync(tag: u8) -> bool {
    !matches!(tag, b'S' | b'X')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_roles_read_the_same_table() {
        for (tag, recovery) in [
            (b'Q', ErrorRecovery::ReadyForQuery),
            (b'F', ErrorRecovery::ReadyForQuery),
            (b'S', ErrorRecovery::ReadyForQuery),
            (b'P', ErrorRecovery::DiscardUntilSync),
            (b'B', ErrorRecovery::DiscardUntilSync),
            (b'D', ErrorRecovery::DiscardUntilSync),
            (b'E', ErrorRecovery::DiscardUntilSync),
            (b'C', ErrorRecovery::DiscardUntilSync),
        ] {
            assert_eq!(
                RequestKind::from_tag(tag).map(RequestKind::error_recovery),
                Some(recovery)
            );
        }
        assert_eq!(RequestKind::from_tag(b'H'), None);
        assert!(!discarded_until_sync(b'S'));
        assert!(!discarded_until_sync(b'X'));
        assert!(discarded_until_sync(b'E'));
    }
}
