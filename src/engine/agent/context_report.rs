//! `/context` (`Op::Context`): every part of the next request with its tokens against its
//! budget — system prompt, files in view, graph sections, few-shot examples, the summary in
//! force and the pins, the conversation sent verbatim, tool definitions, the reply's reserve —
//! and where compaction starts. Answered by a notice.
//!
//! Invariant: the figures are the ones `request.rs` and `compaction.rs` use (the same estimate,
//! the same budgets, the same threshold), so what the user reads is what kv1nt acts on.

use super::runtime::Engine;
use crate::engine::llm::compact;
use crate::engine::llm::context::{estimate_message, estimate_tokens};
use crate::engine::protocol::LogLevel;

impl Engine {
    /// `/context`: the parts of the next request and their tokens, as a notice.
    pub(super) fn context_report(&self) {
        let kind = self.config.llm.primary;
        let window = self.config.context_window(kind);
        let budgets = &self.config.context;
        let small = self.config.small_profile(kind);
        let parts = self.request_parts(kind);
        let tools = parts.tokens().saturating_sub(estimate_tokens(&parts.system));
        let mut lines = vec![format!(
            "Context of the next request ({kind}, window {window} tokens{}):",
            if small { ", small-model profile" } else { "" }
        )];
        let section =
            |name: &str, tokens: usize, budget: usize| format!("- {name}: {tokens} of {budget} tokens");
        lines.push(section(
            "system prompt with AGENTS.md / KV1NT.md",
            estimate_tokens(&self.system_prompt),
            budgets.system + budgets.architecture,
        ));
        lines.push(section(
            "files in view (@path, the file in Code)",
            estimate_tokens(&self.turn.files_in_view),
            budgets.current_file.min(window / 4),
        ));
        let graph = if small {
            "- code graph sections: none (small-model profile)".to_string()
        } else {
            section(
                "code graph sections, last turn",
                estimate_tokens(&self.turn.graph_context),
                (budgets.semantic_summary + budgets.related_code).min(window / 4),
            )
        };
        lines.push(graph);
        lines.extend(self.examples_report());
        lines.extend(self.history_report());
        lines.push(format!("- tool definitions: {tools} tokens"));
        lines.push(format!("- kept free for the reply: {} tokens", self.config.reply_reserve(kind)));
        self.notice(LogLevel::Info, lines.join("\n"));
    }

    /// The few-shot examples' lines.
    fn examples_report(&self) -> Vec<String> {
        let examples = &self.turn.examples;
        if examples.is_empty() {
            let why = if !self.config.learning.enabled || self.config.learning.examples == 0 {
                "off ([learning])"
            } else {
                "none for the last request"
            };
            return vec![format!("- few-shot examples: {why}")];
        }
        let tokens: usize = examples.iter().map(|e| e.tokens).sum();
        let mut lines = vec![format!(
            "- few-shot examples from your accepted edits: {} ({tokens} of {} tokens)",
            examples.len(),
            self.config.learning.example_tokens
        )];
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
        lines
    }

    /// The history's lines: what is summarised, pinned and sent verbatim, and the threshold.
    fn history_report(&self) -> Vec<String> {
        let kind = self.config.llm.primary;
        let calibration = self.calibration(kind);
        let live = self.live_history();
        let tokens = calibration.tokens(live.iter().map(estimate_message).sum());
        let mut lines = Vec::new();
        match &self.summary {
            Some(s) => lines.push(format!(
                "- summary of the first {} messages (reviewed by you): {} tokens",
                s.through,
                calibration.tokens(estimate_tokens(&s.text))
            )),
            None => lines.push("- summary: none yet".to_string()),
        }
        if !self.pins.is_empty() {
            let list: Vec<String> = self.pins.iter().map(|i| (i + 1).to_string()).collect();
            let sent = self.summary.as_ref().map_or(0, |s| {
                calibration.tokens(estimate_tokens(&compact::pinned_section(&self.pinned_before(s.through))))
            });
            lines.push(format!(
                "- pinned (never summarised): messages {}; {sent} tokens sent apart",
                list.join(", ")
            ));
        }
        lines.push(format!("- conversation sent verbatim: {} messages, {tokens} tokens", live.len()));
        lines.push(match calibration.samples {
            0 => format!(
                "- tokens: estimated at 4 bytes each ({} has reported no usage yet)",
                self.model_label(kind)
            ),
            n => format!(
                "- tokens: the estimate × {:.2}, from the usage {} reported for {n} requests",
                calibration.ratio,
                self.model_label(kind)
            ),
        });
        let (used, space) = self.input_pressure(kind);
        let at = self.config.context.compact_at;
        lines.push(if at == 0 {
            format!("- in use: {used} of {space} input tokens; automatic compaction is off (context.compact_at = 0)")
        } else {
            format!(
                "- in use: {used} of {space} input tokens; compacts at {at} % ({} tokens)",
                space * at.min(100) as usize / 100
            )
        });
        lines
    }
}
