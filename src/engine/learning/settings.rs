//! The `[learning]` configuration section.
//!
//! ```toml
//! [learning]
//! enabled = true         # false: no proposal outcomes or token counts are recorded from now on
//! examples = 3           # few-shot examples from your accepted edits per request; 0: none
//! example_tokens = 1500  # their budget in the prompt
//!
//! [learning.prices]      # USD per million tokens, over the built-in assets/pricing.toml
//! "claude-sonnet-4-5" = { input = 3.0, output = 15.0 }   # a model's name or provider/name
//! ```
//!
//! The prices are looked up by `engine::pricing` (local models cost nothing; a model no table
//! names has no cost).
//!
//! Invariant: `enabled = false` only records less, so an untrusted repository's file may set it
//! (`config::trust`); `true` there is held back like any other key not listed. The example
//! counts are harmless either way: examples are the user's own accepted edits.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::engine::pricing::ModelPrice;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Prices by model name (or `provider/name`), over the built-in table
    /// (`engine::pricing`), for the cost figures.
    pub prices: BTreeMap<String, ModelPrice>,
}

impl Default for LearningSettings {
    fn default() -> Self {
        Self { enabled: true, examples: 3, example_tokens: 1500, prices: BTreeMap::new() }
    }
}
