//! What a long session keeps besides its summary: the `recall` tool (earlier messages exactly as
//! stored, for a model whose context holds only a summary of them — `store::recall`; offered
//! while a summary is in force, `request.rs`) and the messages the user pins (`/pin`), which no
//! summary replaces: they are sent word for word (`compact::pinned_section`).
//!
//! Invariants: `recall` reads the store only, and what it returns passes the injection screen
//! like any other content from outside (`tool_calls.rs`); only the user's prompts and the
//! model's text replies can be pinned (never a tool call or result, whose pair could break).

use super::runtime::Engine;
use crate::engine::llm::compact;
use crate::engine::llm::{Message, Role};
use crate::engine::protocol::LogLevel;
use crate::engine::store::RecallScope;

/// Messages one call returns by default.
const DEFAULT_HITS: usize = 3;
/// Bytes of one tool call's arguments or result returned at most.
const HIT_CAP: usize = 4_000;

impl Engine {
    /// (content, is_error) for `recall`.
    pub(super) fn recall_tool(
        &self,
        query: &str,
        all_sessions: bool,
        limit: Option<usize>,
    ) -> (String, bool) {
        let (Some(store), Some(session)) = (&self.store, &self.session) else {
            return ("Nothing to recall: this session is not stored.".into(), true);
        };
        let scope = if all_sessions {
            RecallScope::Workspace(&session.cwd)
        } else {
            RecallScope::Session(&session.id)
        };
        let hits = match store.recall(scope, query, limit.unwrap_or(DEFAULT_HITS)) {
            Ok(hits) => hits,
            Err(e) => return (format!("recall failed: {e}"), true),
        };
        if hits.is_empty() {
            return (format!("No earlier message contains any of the words of \"{query}\"."), false);
        }
        let mut out = String::new();
        for hit in hits {
            let whose = if hit.session_id == session.id {
                String::new()
            } else {
                format!(", session {}", hit.session_id)
            };
            let text = compact::block(&hit.message.message, HIT_CAP);
            out.push_str(&format!("--- message {}{whose} ---\n{text}\n", hit.seq));
        }
        (out, false)
    }

    /// `/pin [WORDS]` (`pinned`) and `/unpin [WORDS]`: the latest prompt or reply containing
    /// WORDS (any case), or the latest prompt; answered by a notice.
    pub(super) fn pin(&mut self, words: Option<String>, pinned: bool) {
        let words = words.map(|w| w.trim().to_lowercase()).filter(|w| !w.is_empty());
        let found = self.history.indexed().rev().find(|(i, m)| {
            pinnable(m)
                && (pinned || self.pins.contains(i))
                && match &words {
                    Some(w) => m.text.to_lowercase().contains(w.as_str()),
                    None => m.role == Role::User,
                }
        });
        let Some((index, message)) = found else {
            let what = match (&words, pinned) {
                (Some(w), true) => format!("No prompt or reply contains \"{w}\"."),
                (Some(w), false) => format!("No pinned message contains \"{w}\"."),
                (None, true) => "There is no prompt to pin yet.".to_string(),
                (None, false) => "No prompt is pinned.".to_string(),
            };
            return self.notice(LogLevel::Info, what);
        };
        let preview: String =
            message.text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(80).collect();
        if let (Some(store), Some(session)) = (&self.store, &self.session)
            && let Err(e) = store.set_pin(&session.id, index + 1, pinned)
        {
            self.log(LogLevel::Error, format!("could not save the pin: {e}"));
        }
        let text = if pinned {
            self.pins.insert(index);
            format!("Pinned message {}: \"{preview}\" — sent word for word, never summarised.", index + 1)
        } else {
            self.pins.remove(&index);
            format!("Unpinned message {}: \"{preview}\".", index + 1)
        };
        self.notice(LogLevel::Info, text);
    }

    /// On resume: the session's pins again.
    pub(super) fn resume_pins(&mut self) {
        let (Some(store), Some(session)) = (&self.store, &self.session) else { return };
        match store.pins(&session.id) {
            Ok(seqs) => {
                self.pins =
                    seqs.into_iter().filter(|&s| s >= 1 && s <= self.history.len()).map(|s| s - 1).collect();
                self.read_early_pins();
            }
            Err(e) => self.log(LogLevel::Error, format!("could not load the session's pins: {e}")),
        }
    }

    /// The pinned messages a summary stands for (they go into the system prompt word for word).
    pub(super) fn pinned_before(&self, through: usize) -> Vec<(usize, &Message)> {
        self.pins.iter().filter(|&&i| i < through).filter_map(|&i| Some((i, self.history.get(i)?))).collect()
    }
}

/// A user's prompt or a text reply: what `/pin` can pin.
fn pinnable(m: &Message) -> bool {
    m.tool_results.is_empty()
        && m.tool_calls.is_empty()
        && !m.text.trim().is_empty()
        && matches!(m.role, Role::User | Role::Assistant)
}
