//! The `[learning]` configuration section.
//!
//! ```toml
//! [learning]
//! enabled = true         # false: no proposal outcomes or token counts are recorded from now on
//! examples = 3           # few-shot examples from your accepted edits per request; 0: none
//! example_tokens = 1500  # their budget in the prompt
//! ```
//!
//! Invariant: `enabled = false` only records less, so an untrusted repository's file may set it
//! (`config::trust`); `true` there is held back like any other key not listed. The example
//! counts are harmless either way: examples are the user's own accepted edits.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LearningSettings {
    /// Record each proposal's outcome (`store::proposals`) and each turn's tokens
    /// (`store::usage`): what `kv1nt stats` reads.
    pub enabled: bool,
    /// At most this many of the user's accepted edits go into a request as examples
    /// (`learning::examples`); 0 turns them off.
    pub examples: usize,
    /// The examples' budget in the system prompt, in tokens.
    pub example_tokens: usize,
}

impl Default for LearningSettings {
    fn default() -> Self {
        Self { enabled: true, examples: 3, example_tokens: 1500 }
    }
}
