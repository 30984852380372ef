//! The vocabulary of the approval gate: what is being asked (an [`GateAction`] made of concrete
//! [`FileChange`]s, commands or commits), how risky it is ([`Risk`], [`Assessment`]), and the
//! user's standing choice ([`Policy`]).

use serde::{Deserialize, Serialize};

/// The gate's vocabulary crosses to the UI, so it is defined in the protocol.
pub use crate::engine::protocol::gate::{FileChange, GateAction, GitAction, McpHint, Policy, Risk};

/// The assessor's verdict: a level and the reasons for it, in words a user reads in the modal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub risk: Risk,
    pub reasons: Vec<String>,
}
