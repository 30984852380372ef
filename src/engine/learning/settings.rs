//! The `[learning]` configuration section.
//!
//! ```toml
//! [learning]
//! enabled = true         # false: no proposal outcomes or token counts are recorded from now on
//! examples = 3           # few-shot examples from your accepted edits per request; 0: none
//! example_tokens = 1500  # their budget in the prompt
//!
//! [learning.prices]      # USD per million tokens, for "cost per accepted change"
//! "claude-sonnet-4-5" = { input = 3.0, output = 15.0 }   # a model's name or provider/name
//! ```
//!
//! Ollama's models run locally and cost nothing; other models without a price have no cost.
//!
//! Invariant: `enabled = false` only records less, so an untrusted repository's file may set it
//! (`config::trust`); `true` there is held back like any other key not listed. The example
//! counts are harmless either way: examples are the user's own accepted edits.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a model's tokens cost, in USD per million.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    pub input: f64,
    pub output: f64,
}

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
    /// Prices by model name (or `provider/name`), for the cost figures.
    pub prices: BTreeMap<String, ModelPrice>,
}

impl LearningSettings {
    /// The price of `provider`'s `model`: the user's, or nothing for a local Ollama model.
    pub fn price(&self, provider: &str, model: &str) -> Option<ModelPrice> {
        self.prices
            .get(&format!("{provider}/{model}"))
            .or_else(|| self.prices.get(model))
            .copied()
            .or_else(|| (provider == "ollama").then_some(ModelPrice { input: 0.0, output: 0.0 }))
    }
}

impl Default for LearningSettings {
    fn default() -> Self {
        Self { enabled: true, examples: 3, example_tokens: 1500, prices: BTreeMap::new() }
    }
}
