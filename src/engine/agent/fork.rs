//! `/fork [N]`: go on in a new stored session made of this one's history — all of it, or what
//! came before the user's N-th prompt, whose text goes back to the composer to be edited and
//! sent again (`store::forks` copies the messages, and the summaries and pins within them).
//!
//! Invariants:
//! - The parent session is never changed; the engine switches to the fork at once (history,
//!   summary in force, pins) and says so with a second `Event::SessionReady` carrying `forked`.
//! - Prompts are counted by [`is_prompt`](crate::engine::llm::Message::is_prompt) over the stored messages (in SQL,
//!   `store::pages`), the same count the Chat pane shows (`Event::PromptRecorded`, and
//!   `Older::prompts` plus `is_prompt` over a resumed page).
//! - The fork is loaded as a resumed session is (`paging.rs`): neither session is read whole.
//! - A bad N, or no stored session, is a notice and changes nothing.

use super::runtime::Engine;
use crate::engine::protocol::{Event, Forked, LogLevel};

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
        // Positions of the prompts, counted in SQL: the parent is never read whole.
        let prompts = match store.prompt_positions(&session.id) {
            Ok(prompts) => prompts,
            Err(e) => return self.notice(LogLevel::Error, format!("Cannot fork: {e}")),
        };
        let (through, prompt) = match before_prompt {
            _ if prompts.is_empty() => {
                return self
                    .notice(LogLevel::Info, "Nothing to fork yet: no prompt was sent in this session.");
            }
            None => match store.message_count(&session.id) {
                Ok(count) => (count, None),
                Err(e) => return self.notice(LogLevel::Error, format!("Cannot fork: {e}")),
            },
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
            Some(n) => {
                let seq = prompts[n - 1];
                let text = match store.load_messages_range(&session.id, seq, seq + 1) {
                    Ok(mut page) if !page.is_empty() => page.remove(0).stored.message.text,
                    Ok(_) => String::new(),
                    Err(e) => return self.notice(LogLevel::Error, format!("Cannot fork: {e}")),
                };
                ((seq.max(1) - 1) as usize, Some(text))
            }
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
        self.session = Some(fork);
        self.summary = None;
        self.pins.clear();
        self.compaction_declined = None;
        self.turn = Default::default();
        self.load_session(Some(Forked { parent_id, before_prompt, prompt }));
        self.resume_summary();
        self.resume_pins();
    }

    /// After a prompt joined the history: its number, for the Chat pane's `#N`.
    pub(super) fn announce_prompt(&self) {
        if let Some(last) = self.history.last().filter(|m| m.is_prompt()) {
            let images = last.images.iter().map(|i| i.placeholder()).collect();
            let number = self.history.prompts();
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
