//! The `[checks]` configuration section.
//!
//! ```toml
//! [checks]
//! when = "turn"            # turn | change | off: when the project's checks run
//! max_syntax_retries = 2   # a proposal that does not parse goes back to the model this often
//! max_fix_rounds = 3       # rounds of the fix loop after checks or tests start failing
//! ```
//!
//! Invariant: the counts and `when` are harmless in an untrusted repository's file (they run
//! nothing new); keys that name programs to run are held back until the repository is trusted
//! (`config::trust`).

use serde::{Deserialize, Serialize};

/// When the project's checks run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckWhen {
    /// After a turn that applied changes.
    #[default]
    Turn,
    /// After each applied change.
    Change,
    Off,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChecksSettings {
    pub when: CheckWhen,
    pub max_syntax_retries: u32,
    pub max_fix_rounds: u32,
}

impl Default for ChecksSettings {
    fn default() -> Self {
        Self { when: CheckWhen::Turn, max_syntax_retries: 2, max_fix_rounds: 3 }
    }
}
