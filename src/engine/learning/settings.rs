//! The `[learning]` configuration section.
//!
//! ```toml
//! [learning]
//! enabled = true   # false: no proposal outcomes or token counts are recorded from now on
//! ```
//!
//! Invariant: `enabled = false` only records less, so an untrusted repository's file may set it
//! (`config::trust`); `true` there is held back like any other key not listed.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LearningSettings {
    /// Record each proposal's outcome (`store::proposals`) and each turn's tokens
    /// (`store::usage`): what `kv1nt stats` reads.
    pub enabled: bool,
}

impl Default for LearningSettings {
    fn default() -> Self {
        Self { enabled: true }
    }
}
