//! Sending what the composer holds: a prompt (shown in the chat, with the file Code shows told
//! to the engine first when it changed), an answer to the model's question, a slash command,
//! or a follow-up suggestion.
//!
//! Invariant: no prompt starts while a turn runs — it goes back into the composer with a flash.

use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use super::chat::{ChatEntry, EntryKind, EntryStatus};
use super::state::AppState;
use crate::engine::protocol::{FollowUp, Intent, LogLevel, Op};

pub(super) fn submit(state: &mut AppState, ops: &UnboundedSender<Op>) {
    let text = state.composer.text();
    if text.trim().is_empty() {
        return;
    }
    if let Some(id) = state.question.take() {
        let text = state.composer.take();
        state.chat.entries.push(ChatEntry::new(EntryKind::User, text.clone(), EntryStatus::Complete));
        let _ = ops.send(Op::Reply { id, text });
        return;
    }
    if text.trim_start().starts_with('/') {
        state.composer.take();
        return super::slash::run_command(state, &text, ops);
    }
    let text = state.composer.take();
    send_prompt(state, text, None, ops);
}

/// Show the prompt in the chat and start a turn (unless one is running).
pub(super) fn send_prompt(
    state: &mut AppState,
    text: String,
    intent: Option<Intent>,
    ops: &UnboundedSender<Op>,
) {
    if state.busy() {
        state.composer.set_text(&text);
        state.status.flash = Some(("a reply is streaming — Esc cancels it".into(), LogLevel::Warn));
        return;
    }
    let shown = match intent {
        Some(intent) => format!("/{} {text}", intent.name()),
        None => text.clone(),
    };
    state.chat.entries.push(ChatEntry::new(EntryKind::User, shown, EntryStatus::Complete));
    state.chat.scroll_from_bottom = 0;
    state.status.busy_since = Some(Instant::now());
    state.status.flash = None;
    state.suggestions.clear();
    let file = state.code.file.clone().map(|path| (path, state.code.scroll_y + 1));
    if file != state.code.announced {
        state.code.announced = file.clone();
        let _ = ops.send(Op::InView { file });
    }
    let _ = ops.send(Op::Submit { text, intent });
}

/// Alt+N: send follow-up N (one ending in "…" is put in the composer to be completed).
pub(super) fn take_suggestion(state: &mut AppState, index: usize, ops: &UnboundedSender<Op>) {
    let Some(suggestion) = state.suggestions.get(index).cloned() else { return };
    match suggestion {
        FollowUp::Prompt { text, .. } if text.ends_with('…') => {
            state.composer.set_text(text.trim_end_matches('…'));
        }
        FollowUp::Prompt { text, intent } => send_prompt(state, text, intent, ops),
        FollowUp::Run { language, code } => {
            if state.busy() {
                state.status.flash =
                    Some(("wait until the reply or run in progress ends".into(), LogLevel::Warn));
                return;
            }
            state.suggestions.clear();
            let _ = ops.send(Op::RunCode { language, code });
        }
    }
}
