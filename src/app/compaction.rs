//! The compaction dialog: the summary the model proposes in place of the oldest messages
//! (`Event::CompactionProposed`), to read, accept (`y`/Enter), edit (`e`, then Ctrl+S accepts
//! the edit) or decline (`n`/Esc) — answered with `Op::Compaction`. Once a summary is in force
//! (`Event::Compacted`) the chat shows it as a notice.
//!
//! Invariants: the dialog accepts on its own only when the proposal carries `auto_accept_secs`
//! (never under `read-only`), only after that delay, and never while the user edits; every
//! proposal gets exactly one answer.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::{CursorMove, TextArea};

use super::modals::Modal;
use super::state::AppState;
use super::update::notice;
use crate::engine::protocol::{Compacted, CompactionDecision, CompactionProposal, LogLevel, Op};

#[derive(Debug)]
pub struct CompactionView {
    pub proposal: CompactionProposal,
    /// When it is accepted as written without an answer; `None` once the user started editing.
    pub deadline: Option<Instant>,
    /// `e`: the summary being edited.
    pub editor: Option<Box<TextArea<'static>>>,
    /// Lines scrolled down in the summary.
    pub scroll: usize,
}

impl CompactionView {
    /// Whole seconds left before it is accepted on its own.
    pub fn seconds_left(&self, now: Instant) -> Option<u64> {
        self.deadline.map(|d| d.saturating_duration_since(now).as_secs_f64().ceil() as u64)
    }
}

/// `Event::CompactionProposed`: show the dialog.
pub fn open(state: &mut AppState, proposal: CompactionProposal) {
    let deadline = proposal.auto_accept_secs.map(|s| Instant::now() + Duration::from_secs(s));
    state.modals.retain(|m| !matches!(m, Modal::Compaction(_)));
    state.modals.push(Modal::Compaction(Box::new(CompactionView {
        proposal,
        deadline,
        editor: None,
        scroll: 0,
    })));
}

/// `Event::Compacted`: say what is now sent in place of the oldest messages.
pub fn compacted(state: &mut AppState, c: Compacted) {
    let how = match (c.resumed, c.edited) {
        (true, _) => "Resumed with the summary",
        (false, true) => "Compacted with your edited summary",
        (false, false) => "Compacted",
    };
    let tokens = if c.resumed {
        String::new()
    } else {
        format!(" ({} → {} tokens in the next request)", c.tokens_before, c.tokens_after)
    };
    let text = format!(
        "{how}: the first {} messages are sent as this summary{tokens}. The originals stay stored.\n\n{}",
        c.through, c.summary
    );
    notice(state, LogLevel::Info, text);
}

pub fn on_key(state: &mut AppState, key: KeyEvent) {
    let Some(Modal::Compaction(view)) = state.modals.last_mut() else { return };
    if let Some(editor) = view.editor.as_mut() {
        match key.code {
            KeyCode::Esc => view.editor = None,
            KeyCode::Char('s') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                let text = editor.lines().join("\n");
                answer(state, CompactionDecision::Accept(text));
            }
            _ => {
                editor.input(key);
            }
        }
        return;
    }
    match key.code {
        KeyCode::Enter | KeyCode::Char('y') => {
            let text = view.proposal.summary.clone();
            answer(state, CompactionDecision::Accept(text));
        }
        KeyCode::Char('e') => {
            view.deadline = None;
            let lines = view.proposal.summary.split('\n').map(String::from).collect();
            let mut editor = TextArea::new(lines);
            editor.move_cursor(CursorMove::Bottom);
            editor.move_cursor(CursorMove::End);
            view.editor = Some(Box::new(editor));
        }
        KeyCode::Esc | KeyCode::Char('n') => answer(state, CompactionDecision::Decline),
        KeyCode::Down | KeyCode::Char('j') => view.scroll += 1,
        KeyCode::Up | KeyCode::Char('k') => view.scroll = view.scroll.saturating_sub(1),
        KeyCode::PageDown => view.scroll += 10,
        KeyCode::PageUp => view.scroll = view.scroll.saturating_sub(10),
        _ => {
            view.deadline = None; // the user is here: wait for an answer
        }
    }
}

/// Text pasted while editing goes into the summary.
pub fn on_paste(state: &mut AppState, text: &str) -> bool {
    match state.modals.last_mut() {
        Some(Modal::Compaction(view)) => {
            if let Some(editor) = view.editor.as_mut() {
                editor.insert_str(text);
            }
            true
        }
        _ => false,
    }
}

/// Accept the summary as written once its delay has passed; returns when to look again.
pub fn tick(state: &mut AppState, now: Instant) -> Option<Instant> {
    let view = state.modals.iter().find_map(|m| match m {
        Modal::Compaction(view) => Some(view),
        _ => None,
    })?;
    let deadline = view.deadline?;
    if now < deadline {
        state.dirty = true; // the countdown
        return Some(deadline.min(now + Duration::from_secs(1)));
    }
    let text = view.proposal.summary.clone();
    answer(state, CompactionDecision::Accept(text));
    None
}

fn answer(state: &mut AppState, decision: CompactionDecision) {
    let Some(index) = state.modals.iter().rposition(|m| matches!(m, Modal::Compaction(_))) else { return };
    let Modal::Compaction(view) = state.modals.remove(index) else { return };
    state.outbox.push(Op::Compaction { id: view.proposal.id, decision });
    state.dirty = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposal(auto: Option<u64>) -> CompactionProposal {
        CompactionProposal {
            id: 7,
            summary: "## Goal\nship".into(),
            through: 12,
            tokens_before: 3_000,
            tokens_after: 800,
            window: 4_096,
            auto_accept_secs: auto,
            manual: false,
        }
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn an_edit_is_what_is_accepted() {
        let mut state = AppState::for_tests();
        open(&mut state, proposal(Some(30)));
        on_key(&mut state, key(KeyCode::Char('e')));
        for c in " now".chars() {
            on_key(&mut state, key(KeyCode::Char(c)));
        }
        on_key(&mut state, KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
        assert!(state.modals.is_empty());
        let Some(Op::Compaction { id: 7, decision: CompactionDecision::Accept(text) }) = state.outbox.pop()
        else {
            panic!("no answer")
        };
        assert!(text.ends_with("now"), "{text}");
    }

    #[test]
    fn it_accepts_on_its_own_only_after_the_delay_and_not_while_editing() {
        let mut state = AppState::for_tests();
        let now = Instant::now();
        open(&mut state, proposal(Some(30)));
        assert!(tick(&mut state, now + Duration::from_secs(29)).is_some());
        assert!(state.outbox.is_empty());
        tick(&mut state, now + Duration::from_secs(31));
        assert!(matches!(
            state.outbox.pop(),
            Some(Op::Compaction { decision: CompactionDecision::Accept(_), .. })
        ));

        open(&mut state, proposal(Some(30)));
        on_key(&mut state, key(KeyCode::Char('e')));
        tick(&mut state, now + Duration::from_secs(300));
        assert!(state.outbox.is_empty() && !state.modals.is_empty());

        state.modals.clear();
        open(&mut state, proposal(None)); // read-only: never on its own
        tick(&mut state, now + Duration::from_secs(3_600));
        assert!(state.outbox.is_empty());
        on_key(&mut state, key(KeyCode::Esc));
        assert!(matches!(
            state.outbox.pop(),
            Some(Op::Compaction { decision: CompactionDecision::Decline, .. })
        ));
    }
}
