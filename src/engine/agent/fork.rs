//! `/fork [N]`: go on in a new stored session made of this one's history — all of it, or what
//! came before the user's N-th prompt, whose text goes back to the composer to be edited and
//! sent again (`store::forks` copies the messages, and the summaries and pins within them).
//!
//! Invariants:
//! - The parent session is never changed; the engine switches to the fork at once (history,
//!   summary in force, pins) and says so with a second `Event::SessionReady` carrying `forked`.
//! - Prompts are counted by [`Message::is_prompt`] over the stored messages, the same count the
//!   Chat pane shows (`Event::PromptRecorded`, and `is_prompt` over a resumed history).
//! - A bad N, or no stored session, is a notice and changes nothing.

use super::runtime::Engine;
use crate::engine::protocol::{Event, Forked, HistoryEntry, LogLevel};
use crate::engine::store::StoredMessage;

impl Engine {
    /// `Op::Fork`: see the module doc.
    pub(super) fn fork(&mut self, before_prompt: Option<usize>) {
        let Some(store) = &self.store else {
            return self.notice(
                LogLevel::Warn,
                "Cannot fork: the session database is unavailable, so this session is not stored.",
            );
        };
        let Some(session) = &self.session else {
            return self.notice(LogLevel::Info, "Nothing to fork yet: no prompt was sent in this session.");
        };
        let stored = match store.load_messages(&session.id) {
            Ok(stored) => stored,
            Err(e) => return self.notice(LogLevel::Error, format!("Cannot fork: {e}")),
        };
        let prompts: Vec<usize> =
            stored.iter().enumerate().filter(|(_, m)| m.message.is_prompt()).map(|(i, _)| i).collect();
        let (through, prompt) = match before_prompt {
            _ if prompts.is_empty() => {
                return self
                    .notice(LogLevel::Info, "Nothing to fork yet: no prompt was sent in this session.");
            }
            None => (stored.len(), None),
            Some(0) => {
                return self.notice(
                    LogLevel::Warn,
                    format!("/fork 0: prompts are numbered from 1 (#1 … #{} in Chat).", prompts.len()),
                );
            }
            Some(n) if n > prompts.len() => {
                return self.notice(
                    LogLevel::Warn,
                    format!("/fork {n}: this session has {} prompts (#1 … #{0} in Chat).", prompts.len()),
                );
            }
            Some(n) => (prompts[n - 1], Some(stored[prompts[n - 1]].message.text.clone())),
        };
        let parent_id = session.id.clone();
        let fork = match store.fork_session(&parent_id, through) {
            Ok(fork) => fork,
            Err(e) => return self.notice(LogLevel::Error, format!("Cannot fork: {e}")),
        };
        self.log(
            LogLevel::Info,
            format!("forked session {} from {parent_id} ({through} messages copied)", fork.id),
        );
        let session_id = fork.id.clone();
        self.session = Some(fork);
        let history = self.load_stored(stored.into_iter().take(through).collect());
        self.summary = None;
        self.pins.clear();
        self.compaction_declined = None;
        self.turn = Default::default();
        self.emit(Event::SessionReady {
            session_id: Some(session_id),
            resumed: true,
            history,
            forked: Some(Forked { parent_id, before_prompt, prompt }),
        });
        self.resume_summary();
        self.resume_pins();
    }

    /// `stored` becomes the history; returns it as the UI shows a resumed session.
    pub(super) fn load_stored(&mut self, stored: Vec<StoredMessage>) -> Vec<HistoryEntry> {
        self.history = stored.iter().map(|m| m.message.clone()).collect();
        stored
            .into_iter()
            .map(|m| HistoryEntry { message: m.message, status: m.status, note: m.note })
            .collect()
    }

    /// After a prompt joined the history: its number, for the Chat pane's `#N`.
    pub(super) fn announce_prompt(&self) {
        if let Some(last) = self.history.last().filter(|m| m.is_prompt()) {
            let images = last.images.iter().map(|i| i.placeholder()).collect();
            let number = self.history.iter().filter(|m| m.is_prompt()).count();
            self.emit(Event::PromptRecorded { number, images });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::llm::{Message, Role, ToolResult};

    #[test]
    fn only_what_the_user_sent_is_a_prompt() {
        assert!(Message::user("fix the parser").is_prompt());
        assert!(!Message::assistant("done").is_prompt());
        let text_result = super::super::text_protocol::format_result("read_file", "fn main() {}", false);
        assert!(!Message::user(text_result).is_prompt());
        let stop = format!("{}tests still fail", crate::engine::protocol::chat::STOP_HOOK_MARK);
        assert!(!Message::user(stop).is_prompt());
        let mut native = Message::text(Role::User, "");
        native.tool_results.push(ToolResult { call_id: "c".into(), content: "ok".into(), is_error: false });
        assert!(!native.is_prompt());
    }
}
