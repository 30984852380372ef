//! The decision: given the user's [`Policy`], an action's [`Assessment`] and the session's
//! [`Grants`], does the action run, ask, or get refused?
//!
//! Invariants (checked in this order):
//! 1. A low-risk MCP tool call (declared read-only, or set low by the user) runs without asking
//!    under every policy, like the file reads it is the equivalent of.
//! 2. Read-only and plan deny every other action, whatever its risk or grants.
//! 3. Critical risk always asks — under every other policy and despite any grant.
//! 4. A session grant covering the action allows it (risk is at most high here).
//! 5. Ask asks; auto-edit allows edits up to medium and asks for the rest; auto allows every
//!    kind up to medium and asks for high.

use super::grants::Grants;
use super::types::{Assessment, GateAction, Policy, Risk};

/// What the gate does with one action.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Runs without asking; `reason` says why (for the audit log and the transcript).
    Allow { reason: String },
    /// Shows the approval modal.
    Ask,
    /// Refused; `reason` is shown to the user and the model.
    Deny { reason: String },
}

/// The reason every action is denied under [`Policy::ReadOnly`].
pub const READ_ONLY_REASON: &str =
    "read-only policy: no changes are made; switch with Shift+Tab or --approval";

/// The reason every action is denied under [`Policy::Plan`].
pub const PLAN_REASON: &str = "plan mode: no changes are made until the user approves a plan; \
     read and search, then call propose_plan with the steps";

/// Decides what happens to `action` (see the module docs for the rules).
pub fn decide(policy: Policy, action: &GateAction, assessment: &Assessment, grants: &Grants) -> Verdict {
    let risk = assessment.risk;
    if matches!(action, GateAction::Mcp { .. }) && risk == Risk::Low {
        return Verdict::Allow { reason: "a read-only MCP tool runs without asking".into() };
    }
    match policy {
        Policy::ReadOnly => return Verdict::Deny { reason: READ_ONLY_REASON.to_string() },
        Policy::Plan => return Verdict::Deny { reason: PLAN_REASON.to_string() },
        _ => {}
    }
    if risk == Risk::Critical {
        return Verdict::Ask;
    }
    if let Some(grant) = grants.covers(action) {
        return Verdict::Allow { reason: format!("allowed by your grant: {}", grant.description) };
    }
    let allowed = match policy {
        Policy::ReadOnly | Policy::Plan | Policy::Ask => false,
        Policy::AutoEdit => matches!(action, GateAction::Edit { .. }) && risk <= Risk::Medium,
        Policy::Auto => risk <= Risk::Medium,
    };
    if allowed {
        Verdict::Allow {
            reason: format!("{} policy runs {risk}-risk {}s without asking", policy.as_str(), action.kind()),
        }
    } else {
        Verdict::Ask
    }
}
