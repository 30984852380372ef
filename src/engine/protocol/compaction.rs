//! Compaction as the user sees it: a summary proposed in place of the oldest messages
//! ([`CompactionProposal`], answered with `Op::Compaction`), and the summary once in force
//! ([`Compacted`]). Plain data; the engine's `agent::compaction` runs it.

/// A summary the model wrote of the session's first `through` messages, waiting for the user:
/// accept it as is, edit it, or decline (the oldest messages are then trimmed as before).
#[derive(Debug, Clone, PartialEq)]
pub struct CompactionProposal {
    pub id: u64,
    pub summary: String,
    /// How many of the session's first messages it replaces (a previous summary's included).
    pub through: usize,
    /// Estimated input tokens of the next request before and after.
    pub tokens_before: usize,
    pub tokens_after: usize,
    /// The window those tokens are measured against.
    pub window: usize,
    /// Accepted as written after this many seconds without an answer (`context.compact_accept_secs`);
    /// `None`: the user must answer (the `read-only` policy, or the delay set to 0).
    pub auto_accept_secs: Option<u64>,
    /// `/compact` asked for it (else the window filled).
    pub manual: bool,
}

/// The user's answer to a [`CompactionProposal`].
#[derive(Debug, Clone, PartialEq)]
pub enum CompactionDecision {
    /// Use this text (the proposal's, or the user's edit of it).
    Accept(String),
    /// Keep the messages; the oldest are left out when the window fills.
    Decline,
}

/// A summary in force: sent in every request in place of the session's first `through`
/// messages. Also announced when a session with one is resumed.
#[derive(Debug, Clone, PartialEq)]
pub struct Compacted {
    pub summary: String,
    pub through: usize,
    pub tokens_before: usize,
    pub tokens_after: usize,
    /// Whether the user changed the model's text before accepting it.
    pub edited: bool,
    pub resumed: bool,
}
