//! The approval gate's conversation with the user: a mutation waiting ([`ApprovalRequest`]) and
//! the answer ([`ApprovalDecision`]). Plain data, like all of `protocol`; what is gated and how
//! risky it is are `gate.rs`.

use super::{FileSyntax, GateAction, Risk};

/// The user's answer to an approval request.
#[derive(Debug, Clone, PartialEq)]
pub enum ApprovalDecision {
    /// `y`: this one action.
    Once,
    /// `a`: this action and every later one inside the offered scope, for this session.
    ForSession,
    /// `n`
    Deny,
    /// `m`: deny and tell the model why.
    DenyWithMessage(String),
    /// `e`: approve with the user's edited version of the new content (single-file edits).
    ApproveEdited(String),
    /// One of the request's extra `picks` (e.g. `o` keeps our side of a merge conflict).
    Pick(char),
}

/// A mutation waiting for the user.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRequest {
    pub id: u64,
    pub action: GateAction,
    pub risk: Risk,
    pub reasons: Vec<String>,
    /// One line: "edit src/a.rs: 2 blocks, +3 −1 lines".
    pub summary: String,
    /// What `a` would approve, written out ("edits under src/engine/ for this session").
    pub session_scope: Option<String>,
    /// Whether `e` can edit the proposed content (one file with new content, a commit message).
    pub editable: bool,
    /// Extra choices besides approve/deny: (key, what it does), answered with `Pick(key)`.
    pub picks: Vec<(char, String)>,
    /// The syntax gate's verdict on each changed file (empty when nothing was parsed: commands,
    /// commits, restores).
    pub syntax: Vec<FileSyntax>,
}
