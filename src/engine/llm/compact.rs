//! Compaction as data: where a long history is cut, the transcript the summariser reads, the
//! request that asks for the summary, and the section that carries an accepted summary in every
//! later request. The engine (`agent::compaction`) runs the request and asks the user.
//!
//! Invariants:
//! - A cut is always at a turn start (a user message that is not a tool result) and never past
//!   the current turn's prompt, so what stays verbatim begins with a whole turn and no tool
//!   result loses its call.
//! - The summary replaces messages `0..through` of the session; the messages stay in the store
//!   (nothing here deletes), and the system prompt with `AGENTS.md`/`KV1NT.md` is never part of
//!   what is summarised: it is sent whole with every request.

use super::context::{estimate_message, estimate_tokens, truncate_to_budget};
use super::types::{Message, Role};

/// A tool result longer than this (in bytes) is cut in the summariser's transcript.
const RESULT_CAP: usize = 1_500;

/// A summary in force: it stands for the session's first `through` messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub through: usize,
    pub text: String,
}

/// Whether `used` input tokens cross `percent` of the `available` input space (`0` turns
/// automatic compaction off).
pub fn over_threshold(used: usize, available: usize, percent: u8) -> bool {
    percent > 0 && used.saturating_mul(100) > available.saturating_mul(percent.min(100) as usize)
}

/// Where to cut `history` so the messages from there on take at most `keep` tokens: the earliest
/// turn start in `from + 1 ..= limit` that fits, or `limit` itself when even the last turn alone
/// does not (it is never cut inside). `None` when no turn start lies past `from`: nothing new to
/// summarise. `limit` is the index of the current turn's prompt (or `history.len()`).
pub fn cut_point(history: &[Message], from: usize, limit: usize, keep: usize) -> Option<usize> {
    let limit = limit.min(history.len());
    let starts: Vec<usize> =
        (from + 1..=limit).filter(|&i| i == history.len() || is_turn_start(&history[i])).collect();
    let last = *starts.last()?;
    let mut tail: usize = history[last..].iter().map(estimate_message).sum();
    let mut cut = last;
    for &start in starts.iter().rev().skip(1) {
        let more: usize = history[start..cut].iter().map(estimate_message).sum();
        if tail + more > keep {
            break;
        }
        tail += more;
        cut = start;
    }
    Some(cut)
}

/// The index of the last turn start in `history` (the prompt of the turn under way), if any.
pub fn last_turn_start(history: &[Message]) -> Option<usize> {
    history.iter().rposition(is_turn_start)
}

fn is_turn_start(msg: &Message) -> bool {
    msg.role == Role::User && msg.tool_results.is_empty()
}

/// The messages as the summariser reads them: one block per message, tool calls as
/// `→ name {arguments}`, results as `← …` cut to [`RESULT_CAP`] bytes, thinking left out (the
/// decisions it reached are in the replies). Fits `budget` tokens: when it would not, the middle
/// goes (the first request, usually the goal, and the latest messages stay).
pub fn transcript(messages: &[Message], budget: usize) -> String {
    let blocks: Vec<String> =
        messages.iter().map(|m| block(m, RESULT_CAP)).filter(|b| !b.is_empty()).collect();
    let whole = blocks.join("\n\n");
    if estimate_tokens(&whole) <= budget || blocks.len() < 2 {
        return truncate_to_budget(&whole, budget);
    }
    let first = truncate_to_budget(&blocks[0], budget / 3);
    let mut left = budget.saturating_sub(estimate_tokens(&first) + 20);
    let mut tail = Vec::new();
    for b in blocks[1..].iter().rev() {
        let cost = estimate_tokens(b) + 1;
        if cost > left {
            break;
        }
        left -= cost;
        tail.push(b.as_str());
    }
    tail.reverse();
    let dropped = blocks.len() - 1 - tail.len();
    format!("{first}\n\n[… {dropped} messages left out here to fit …]\n\n{}", tail.join("\n\n"))
}

/// One message as text: `Who: text`, tool calls as `→ name {arguments}`, results as `← …`
/// (arguments and each result cut to `cap` bytes).
pub fn block(msg: &Message, cap: usize) -> String {
    let mut out = String::new();
    let who = match msg.role {
        Role::User if !msg.tool_results.is_empty() => "Tool results",
        Role::User => "User",
        Role::Assistant => "Assistant",
        Role::Tool => "Tool results",
    };
    if !msg.text.trim().is_empty() {
        out.push_str(&format!("{who}: {}", msg.text.trim()));
    }
    for image in &msg.images {
        // By name only: an image's bytes never go into a summary prompt.
        out.push_str(&format!("\n[image: {}]", image.name));
    }
    for call in &msg.tool_calls {
        let args = call.arguments.to_string();
        out.push_str(&format!("\n→ {} {}", call.name, cut(&args, cap)));
    }
    for result in &msg.tool_results {
        let mark = if result.is_error { "← error: " } else { "← " };
        out.push_str(&format!("\n{mark}{}", cut(result.content.trim(), cap)));
    }
    out.trim().to_string()
}

fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} […{} bytes more]", &text[..end], text.len() - end)
}

/// The summariser's instructions.
pub const SUMMARY_SYSTEM: &str = "You compact a coding assistant's conversation so it can go on \
with less context. Write a faithful, specific summary in Markdown with exactly these sections:\n\
## Goal\n## Constraints and preferences\n## Decisions\n## Files touched\n## What failed\n\
## Open tasks\n\
Keep every instruction the user gave, names of files, functions, commands and error messages \
exactly as written. Leave out pleasantries and anything already settled that no longer matters. \
Write \"none\" under a section with nothing to say. The assistant's task list (its `todo` \
tool) is kept apart and sent word for word; do not copy it. Reply with the summary only.";

/// The summariser's request: the summary in force (folded in), the transcript, and the user's
/// focus from `/compact FOCUS`.
pub fn summary_prompt(previous: Option<&str>, transcript: &str, focus: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(previous) = previous {
        out.push_str("The summary of the conversation before this part:\n\n");
        out.push_str(previous.trim());
        out.push_str("\n\nFold it into the new summary.\n\n");
    }
    out.push_str("The conversation to summarise:\n\n<conversation>\n");
    out.push_str(transcript);
    out.push_str("\n</conversation>\n");
    if let Some(focus) = focus.map(str::trim).filter(|f| !f.is_empty()) {
        out.push_str(&format!("\nThe user asks the summary to keep in particular: {focus}\n"));
    }
    out
}

/// How a summary travels in every request after it was accepted: a system-prompt section.
pub fn section(summary: &Summary) -> String {
    format!(
        "\n\n# Earlier in this session\n\nThe first {} messages of this session were compacted into \
         this summary, which the user reviewed. The original messages are still stored.\n\n{}\n",
        summary.through,
        summary.text.trim()
    )
}

/// The pinned messages a summary stands for, word for word: a system-prompt section after the
/// summary's (`index` is the message's position in the history, 0-based).
pub fn pinned_section(pinned: &[(usize, &Message)]) -> String {
    if pinned.is_empty() {
        return String::new();
    }
    let mut out =
        String::from("\n\n# Pinned by the user\n\nThese earlier messages are kept word for word:\n");
    for (index, message) in pinned {
        out.push_str(&format!("\n--- message {} ---\n{}\n", index + 1, block(message, usize::MAX)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::llm::types::{ToolCall, ToolResult};

    fn user(n: usize) -> Message {
        Message::user("u".repeat(n * 4))
    }

    fn assistant(n: usize) -> Message {
        Message::assistant("a".repeat(n * 4))
    }

    fn tool_pair(n: usize) -> [Message; 2] {
        let mut call = Message::assistant("");
        call.tool_calls.push(ToolCall {
            id: "c".into(),
            name: "read_file".into(),
            arguments: serde_json::json!({"path": "a"}),
        });
        let mut result = Message::text(Role::User, "");
        result.tool_results.push(ToolResult {
            call_id: "c".into(),
            content: "r".repeat(n * 4),
            is_error: false,
        });
        [call, result]
    }

    #[test]
    fn the_threshold_is_a_share_of_the_input_space_and_zero_is_off() {
        assert!(!over_threshold(80, 100, 80));
        assert!(over_threshold(81, 100, 80));
        assert!(!over_threshold(1_000_000, 100, 0));
    }

    #[test]
    fn the_cut_is_at_a_turn_start_and_keeps_what_fits() {
        let [call, result] = tool_pair(100);
        let history = vec![user(100), assistant(100), user(100), call, result, assistant(10), user(50)];
        // The current turn (index 6) plus the turn before it would take ~470 tokens.
        assert_eq!(cut_point(&history, 0, 6, 100), Some(6));
        assert_eq!(cut_point(&history, 0, 6, 1_000), Some(2));
        // Never before `from`, never past the current turn, never inside a turn.
        assert_eq!(cut_point(&history, 2, 6, 1_000), Some(6));
        assert_eq!(cut_point(&history, 6, 6, 1_000), None);
        assert_eq!(cut_point(&history, 0, 1, 0), None);
    }

    #[test]
    fn a_manual_compaction_can_cut_at_the_end_of_the_history() {
        let history = vec![user(10), assistant(10)];
        assert_eq!(cut_point(&history, 0, history.len(), 0), Some(2));
        assert_eq!(last_turn_start(&history), Some(0));
    }

    #[test]
    fn the_transcript_keeps_the_goal_and_the_latest_messages_when_it_must_shrink() {
        let mut history = vec![Message::user("GOAL: port the parser to Rust")];
        for i in 0..50 {
            history.push(Message::assistant(format!("step {i} {}", "x".repeat(200))));
        }
        history.push(Message::user("LATEST: use tabs"));
        let whole = transcript(&history, 100_000);
        assert!(whole.contains("step 25"));
        let cut = transcript(&history, 500);
        assert!(estimate_tokens(&cut) <= 520, "{}", estimate_tokens(&cut));
        assert!(cut.contains("GOAL: port the parser") && cut.contains("LATEST: use tabs"));
        assert!(cut.contains("messages left out here"));
    }

    #[test]
    fn tool_calls_and_long_results_are_shown_briefly() {
        let [call, result] = tool_pair(2_000);
        let text = transcript(&[call, result], 100_000);
        assert!(text.contains("→ read_file {\"path\":\"a\"}"));
        assert!(text.contains("bytes more]") && text.len() < 2_000, "{}", text.len());
    }

    #[test]
    fn an_image_is_named_in_the_transcript_and_its_bytes_are_not() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0".to_vec();
        png.extend(b"PIXELDATA");
        let image = crate::engine::protocol::ImageAttachment::from_bytes("shot.png", png).unwrap();
        let base64 = image.base64();
        let prompt = Message { images: vec![image], ..Message::user("what is wrong here?") };
        let text = transcript(std::slice::from_ref(&prompt), 100_000);
        assert_eq!(text, "User: what is wrong here?\n[image: shot.png]");
        assert!(!text.contains(&base64) && !text.contains("PIXELDATA"));
        // The estimate counts the image at its fixed cost, not its size in base64.
        let plain = crate::engine::llm::context::estimate_message(&Message::user("what is wrong here?"));
        assert_eq!(crate::engine::llm::context::estimate_message(&prompt), plain + 87);
    }

    #[test]
    fn the_prompt_folds_the_previous_summary_and_the_focus_in() {
        let p = summary_prompt(Some("## Goal\nold goal"), "User: hi", Some("the failing test"));
        assert!(p.contains("old goal") && p.contains("User: hi") && p.contains("the failing test"));
        let s = section(&Summary { through: 12, text: "## Goal\nship it".into() });
        assert!(s.contains("first 12 messages") && s.contains("ship it"));
    }
}
