//! The context window manager: token estimates, the seed's per-section budgets, and trimming the
//! history oldest-first so a request fits the model's window.
//!
//! Tokens are estimated at four bytes each (plus a small per-message overhead): providers'
//! tokenizers differ and are not available offline. [`estimate_tokens`] is that raw estimate; a
//! [`Calibration`] corrects it per provider and model with the ratio of the input tokens the
//! provider reported to the raw estimate of the requests it answered (a running average, stored
//! by `store::calibration`), and the engine fits and reports with the calibrated figure
//! ([`fit_history_with`], [`Calibration::tokens`]).

use serde::{Deserialize, Serialize};

use super::types::{ChatRequest, Message, Role, ToolSpec};

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
    // An image is a fixed cost from its size (`ImageAttachment::tokens`), never its base64.
    let images: usize = msg.images.iter().map(|i| i.tokens()).sum();
    MESSAGE_OVERHEAD + estimate_tokens(&msg.text) + calls + results + thinking + images
}

/// Raw estimate of tool definitions as sent (name, description, JSON schema).
pub fn estimate_tools(tools: &[ToolSpec]) -> usize {
    tools
        .iter()
        .map(|t| {
            estimate_tokens(&t.name)
                + estimate_tokens(&t.description)
                + estimate_tokens(&t.input_schema.to_string())
        })
        .sum()
}

/// Raw estimate of a whole request's input: system prompt, messages, tools.
pub fn estimate_request(request: &ChatRequest) -> usize {
    estimate_tokens(&request.system)
        + request.messages.iter().map(estimate_message).sum::<usize>()
        + estimate_tools(&request.tools)
}

/// How a model's real token counts compare with the raw estimate: `ratio` = reported input
/// tokens ÷ raw estimate, averaged over `samples` replies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    pub ratio: f64,
    pub samples: u32,
}

impl Calibration {
    /// No reply seen yet: the raw estimate as it is.
    pub const RAW: Calibration = Calibration { ratio: 1.0, samples: 0 };
    /// The average covers at most this many replies, so it follows a changed server or template.
    pub const WINDOW: u32 = 20;
    /// Ratios outside this range are not a tokenizer's (a server that counts only the uncached
    /// part of a prompt, or hostile figures) and are ignored.
    pub const BOUNDS: (f64, f64) = (0.25, 4.0);

    /// `raw` estimated tokens in the model's tokens.
    pub fn tokens(&self, raw: usize) -> usize {
        (raw as f64 * self.ratio).ceil() as usize
    }

    /// The raw estimate that fills `tokens` of the model's tokens (for budgets and fitting).
    pub fn raw_budget(&self, tokens: usize) -> usize {
        (tokens as f64 / self.ratio).floor() as usize
    }

    /// The average after a reply whose request was estimated at `estimated` raw tokens and
    /// counted `reported` by the provider; unchanged when either is 0 or the ratio is out of
    /// [`Self::BOUNDS`].
    pub fn observe(self, reported: u64, estimated: usize) -> Calibration {
        if reported == 0 || estimated == 0 {
            return self;
        }
        let sample = reported as f64 / estimated as f64;
        if !(Self::BOUNDS.0..=Self::BOUNDS.1).contains(&sample) {
            return self;
        }
        let n = self.samples.min(Self::WINDOW - 1);
        let ratio =
            if self.samples == 0 { sample } else { (self.ratio * n as f64 + sample) / (n as f64 + 1.0) };
        Calibration { ratio, samples: self.samples.saturating_add(1) }
    }
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
    fit_history_with(system, history, window, reserve, Calibration::RAW)
}

/// [`fit_history`] in the model's tokens as `calibration` counts them (`window` and `reserve`
/// are the model's tokens; `used_tokens` comes back calibrated).
pub fn fit_history_with(
    system: &str,
    history: &[Message],
    window: usize,
    reserve: usize,
    calibration: Calibration,
) -> Fitted {
    let mut fitted = fit_raw(system, history, calibration.raw_budget(window.saturating_sub(reserve)));
    fitted.used_tokens = calibration.tokens(fitted.used_tokens);
    fitted
}

/// Fit into `space` raw estimated tokens.
fn fit_raw(system: &str, history: &[Message], space: usize) -> Fitted {
    let available = space.saturating_sub(estimate_tokens(system));
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
    fn calibration_is_a_bounded_running_average() {
        let c = Calibration::RAW.observe(2_000, 1_000);
        assert_eq!((c.ratio, c.samples), (2.0, 1));
        assert_eq!((c.tokens(500), c.raw_budget(4_096)), (1_000, 2_048));
        let c = c.observe(1_000, 1_000);
        assert!((c.ratio - 1.5).abs() < 1e-9, "{c:?}");
        assert_eq!(c.observe(1, 1_000), c, "a prompt counted without its cached part is ignored");
        assert_eq!(c.observe(0, 1_000), c);
        let mut c = Calibration::RAW;
        for _ in 0..200 {
            c = c.observe(3_000, 1_000);
        }
        for _ in 0..30 {
            c = c.observe(1_000, 1_000);
        }
        assert!(c.ratio < 1.5, "the average follows a changed server: {c:?}");
    }

    #[test]
    fn a_calibrated_fit_counts_in_the_models_tokens() {
        let history = vec![user(100), Message::assistant("a".repeat(400)), user(100)];
        let raw = fit_history("", &history, 400, 0);
        assert_eq!(raw.trimmed, 0);
        let doubled = fit_history_with("", &history, 400, 0, Calibration { ratio: 2.0, samples: 3 });
        assert_eq!(doubled.trimmed, 2, "twice the tokens: only the newest turn fits");
        assert_eq!(doubled.used_tokens, 2 * estimate_message(&history[2]));
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        let text = "é".repeat(100);
        let cut = truncate_to_budget(&text, 3);
        assert!(cut.starts_with("éééééé"));
        assert!(cut.ends_with("budget]"));
    }
}
