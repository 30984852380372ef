//! Few-shot examples as the engine uses them, and `/context`: what a request carries.
//!
//! At a turn's start [`Engine::choose_examples`] picks, from the edits the user accepted in
//! this workspace (`store::examples`), those most like the prompt (`learning::examples`); the
//! turn's requests carry them as a system-prompt section. `/context` (`Op::Context`) lists every
//! part of the next request with its tokens — the examples by request, session and turn — so
//! nothing the learning layer adds to a prompt is hidden.
//!
//! Invariants: no examples with `learning.enabled = false` or `learning.examples = 0`, or
//! without a store; a store error costs the examples, never the turn (it is logged).

use super::runtime::Engine;
use crate::engine::learning::examples::{self, Example};
use crate::engine::llm::context::estimate_tokens;
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

    /// `/context`: the parts of the next request and their tokens, as a notice.
    pub(super) fn context_report(&self) {
        let kind = self.config.llm.primary;
        let window = self.config.context_window(kind);
        let examples = &self.turn.examples;
        let mut lines = vec![
            format!("Context of the next request ({kind}, window {window} tokens):"),
            format!(
                "- system prompt with AGENTS.md / KV1NT.md: {} tokens",
                estimate_tokens(&self.system_prompt)
            ),
            format!(
                "- code graph sections (last turn): {} tokens",
                estimate_tokens(&self.turn.graph_context)
            ),
        ];
        lines.extend(self.history_report());
        if examples.is_empty() {
            let why = if !self.config.learning.enabled || self.config.learning.examples == 0 {
                "off ([learning])"
            } else {
                "none for the last request"
            };
            lines.push(format!("- few-shot examples: {why}"));
        } else {
            let tokens: usize = examples.iter().map(|e| e.tokens).sum();
            lines.push(format!(
                "- few-shot examples from your accepted edits: {} ({tokens} of {} tokens)",
                examples.len(),
                self.config.learning.example_tokens
            ));
            for e in examples {
                let session = e.session_id.get(..8).unwrap_or(&e.session_id);
                lines.push(format!(
                    "  · \"{}\" → {} (session {session}, turn {}, similarity {:.2})",
                    e.request,
                    e.paths.join(", "),
                    e.turn,
                    e.score
                ));
            }
        }
        self.notice(LogLevel::Info, lines.join("\n"));
    }
}
