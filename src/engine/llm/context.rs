//! The context window manager: token estimates, the seed's per-section budgets, and trimming the
//! history oldest-first so a request fits the model's window.
//!
//! Tokens are estimated at four bytes each (plus a small per-message overhead): providers'
//! tokenizers differ and are not available offline, and the estimate only has to be good enough
//! to trim before the server refuses. Provider-reported usage replaces the estimate in the status
//! bar once a reply arrives.

use serde::{Deserialize, Serialize};

use super::types::{Message, Role};

/// Token budgets per prompt section (the seed's "Context Window Strategy").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Budgets {
    pub system: usize,
    pub architecture: usize,
    pub related_code: usize,
    pub current_file: usize,
    pub semantic_summary: usize,
    pub user_intent: usize,
    pub generation: usize,
    /// Compact the history once the next request would fill this percentage of the model's
    /// input space (the window minus the reply's tokens); 0 turns automatic compaction off.
    pub compact_at: u8,
    /// A proposed summary is accepted as written after this many seconds without an answer
    /// (never under the `read-only` policy); 0: always wait for the user.
    pub compact_accept_secs: u64,
}

impl Default for Budgets {
    fn default() -> Self {
        Self {
            system: 2_000,
            architecture: 5_000,
            related_code: 30_000,
            current_file: 20_000,
            semantic_summary: 50_000,
            user_intent: 1_000,
            generation: 20_000,
            compact_at: 80,
            compact_accept_secs: 60,
        }
    }
}

const MESSAGE_OVERHEAD: usize = 4;

pub fn estimate_tokens(text: &str) -> usize {
    text.len().div_ceil(4)
}

pub fn estimate_message(msg: &Message) -> usize {
    let calls: usize = msg
        .tool_calls
        .iter()
        .map(|c| estimate_tokens(&c.name) + estimate_tokens(&c.arguments.to_string()))
        .sum();
    let results: usize =
        msg.tool_results.iter().map(|r| estimate_tokens(&r.content) + MESSAGE_OVERHEAD).sum();
    let thinking: usize = msg
        .thinking
        .iter()
        .map(|t| estimate_tokens(&t.text) + t.redacted.as_deref().map_or(0, estimate_tokens))
        .sum();
    MESSAGE_OVERHEAD + estimate_tokens(&msg.text) + calls + results + thinking
}

/// Cut `text` to about `budget` tokens on a character boundary, saying so at the end.
pub fn truncate_to_budget(text: &str, budget: usize) -> String {
    let max_bytes = budget.saturating_mul(4);
    if text.len() <= max_bytes {
        return text.to_string();
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[… truncated to fit the context budget]", &text[..end])
}

/// A history cut to fit, with what was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    pub messages: Vec<Message>,
    /// How many of the oldest messages were left out.
    pub trimmed: usize,
    /// Estimated tokens of system prompt plus the kept messages.
    pub used_tokens: usize,
}

/// Keep the newest messages that fit in `window - reserve` tokens alongside `system`.
///
/// The newest message is always kept. The kept history starts at a user message that is not a
/// tool result, so no tool result loses the call it answers and providers that require the
/// first message to be the user's accept it.
pub fn fit_history(system: &str, history: &[Message], window: usize, reserve: usize) -> Fitted {
    let available = window.saturating_sub(reserve).saturating_sub(estimate_tokens(system));
    let mut used = 0;
    let mut start = history.len();
    for (i, msg) in history.iter().enumerate().rev() {
        let cost = estimate_message(msg);
        if used + cost > available && start < history.len() {
            break;
        }
        used += cost;
        start = i;
    }
    while start < history.len().saturating_sub(1) && !is_turn_start(&history[start]) {
        used -= estimate_message(&history[start]);
        start += 1;
    }
    Fitted {
        messages: history[start..].to_vec(),
        trimmed: start,
        used_tokens: used + estimate_tokens(system),
    }
}

fn is_turn_start(msg: &Message) -> bool {
    msg.role == Role::User && msg.tool_results.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::llm::types::{ToolCall, ToolResult};

    fn user(n: usize) -> Message {
        Message::user("u".repeat(n * 4))
    }

    #[test]
    fn everything_fits_in_a_big_window() {
        let history = vec![user(10), Message::assistant("ok"), user(10)];
        let fitted = fit_history("sys", &history, 10_000, 1_000);
        assert_eq!(fitted.trimmed, 0);
        assert_eq!(fitted.messages.len(), 3);
    }

    #[test]
    fn oldest_messages_go_first_and_newest_always_stays() {
        let history = vec![
            user(100),
            Message::assistant("a".repeat(400)),
            user(100),
            Message::assistant("b"),
            user(50),
        ];
        let fitted = fit_history("", &history, 220, 0);
        assert_eq!(fitted.trimmed, 2);
        assert_eq!(fitted.messages[0], history[2]);
        let tiny = fit_history("", &history, 1, 0);
        assert_eq!(tiny.messages, vec![history[4].clone()]);
    }

    #[test]
    fn tool_results_are_never_orphaned() {
        let call = ToolCall { id: "c1".into(), name: "read_file".into(), arguments: serde_json::json!({}) };
        let mut assistant = Message::assistant("");
        assistant.tool_calls.push(call);
        let mut result = Message::text(Role::Tool, "");
        result.tool_results.push(ToolResult {
            call_id: "c1".into(),
            content: "x".repeat(40),
            is_error: false,
        });
        let history = vec![user(100), assistant, result, Message::assistant("done"), user(5)];
        let fitted = fit_history("", &history, 40, 0);
        assert!(fitted.messages.iter().all(|m| m.tool_results.is_empty()));
        assert_eq!(fitted.messages.first().map(|m| m.role), Some(Role::User));
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        let text = "é".repeat(100);
        let cut = truncate_to_budget(&text, 3);
        assert!(cut.starts_with("éééééé"));
        assert!(cut.ends_with("budget]"));
    }
}
