//! Few-shot examples as the engine uses them (`/context` lists them: `context_report.rs`).
//!
//! At a turn's start [`Engine::choose_examples`] picks, from the edits the user accepted in
//! this workspace (`store::examples`), those most like the prompt (`learning::examples`); the
//! turn's requests carry them as a system-prompt section, listed by `/context` by request,
//! session and turn, so nothing the learning layer adds to a prompt is hidden.
//!
//! Invariants: no examples with `learning.enabled = false` or `learning.examples = 0`, or
//! without a store; a store error costs the examples, never the turn (it is logged).

use super::runtime::Engine;
use crate::engine::learning::examples::{self, Example};
use crate::engine::protocol::LogLevel;

/// Accepted edits read as candidates per turn (newest first).
const CANDIDATES: usize = 200;

impl Engine {
    /// The examples for a turn whose prompt is `request`.
    pub(super) fn choose_examples(&self, request: &str) -> Vec<Example> {
        let learning = &self.config.learning;
        let Some(store) = &self.store else { return Vec::new() };
        if !learning.enabled || learning.examples == 0 {
            return Vec::new();
        }
        let workspace = self.workspace.display().to_string();
        let edits = match store.accepted_edits(&workspace, CANDIDATES) {
            Ok(edits) => edits,
            Err(e) => {
                self.log(LogLevel::Warn, format!("no few-shot examples: {e}"));
                return Vec::new();
            }
        };
        let chosen = examples::choose(request, &edits, learning.examples, learning.example_tokens);
        if !chosen.is_empty() {
            let tokens: usize = chosen.iter().map(|e| e.tokens).sum();
            self.log(
                LogLevel::Info,
                format!(
                    "{} few-shot example(s) from accepted edits, {tokens} tokens (/context)",
                    chosen.len()
                ),
            );
        }
        chosen
    }
}
