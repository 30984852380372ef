//! The plan dialog: the plan the model proposed in plan mode (`Event::PlanProposed`), to read,
//! approve under a policy (Enter/`y`; Tab or ←/→ picks ask, auto-edit or auto), edit its steps
//! (`e`: one step per line, Ctrl+S keeps the edit, Esc drops it), reject with words for a
//! revised plan (`r`, then Enter sends them) or reject outright (`n`/Esc) — answered with
//! `Op::Plan`.
//!
//! Invariants: every proposal gets exactly one answer; an approval is sent only once
//! `PlanDecision::approve` accepts it (otherwise the dialog stays and shows why); the dialog
//! never answers on its own.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::{CursorMove, TextArea};

use super::modals::Modal;
use super::state::AppState;
use crate::engine::protocol::plan::APPROVE_POLICIES;
use crate::engine::protocol::{Op, PlanDecision, PlanProposal};

#[derive(Debug)]
pub struct PlanView {
    pub proposal: PlanProposal,
    /// The steps approval sends: the proposal's, or the user's edit of them.
    pub steps: Vec<String>,
    /// Index in `APPROVE_POLICIES` of the policy approval switches to.
    pub policy: usize,
    /// `e`: the steps being edited, one per line.
    pub editor: Option<Box<TextArea<'static>>>,
    /// `r`: the words sent with a rejection.
    pub feedback: Option<Box<TextArea<'static>>>,
    /// Why the last approval was refused (shown until the next key).
    pub error: Option<String>,
    /// Lines scrolled down in the plan.
    pub scroll: usize,
}

impl PlanView {
    pub fn edited(&self) -> bool {
        self.steps != self.proposal.steps
    }
}

/// `Event::PlanProposed`: show the dialog.
pub fn open(state: &mut AppState, proposal: PlanProposal) {
    let policy = APPROVE_POLICIES.iter().position(|p| *p == proposal.policy).unwrap_or(0);
    state.modals.retain(|m| !matches!(m, Modal::Plan(_)));
    state.modals.push(Modal::Plan(Box::new(PlanView {
        steps: proposal.steps.clone(),
        proposal,
        policy,
        editor: None,
        feedback: None,
        error: None,
        scroll: 0,
    })));
}

pub fn on_key(state: &mut AppState, key: KeyEvent) {
    let Some(Modal::Plan(view)) = state.modals.last_mut() else { return };
    view.error = None;
    if let Some(editor) = view.editor.as_mut() {
        match key.code {
            KeyCode::Esc => view.editor = None,
            KeyCode::Char('s') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                view.steps =
                    editor.lines().iter().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
                view.editor = None;
            }
            _ => {
                editor.input(key);
            }
        }
        return;
    }
    if let Some(feedback) = view.feedback.as_mut() {
        match key.code {
            KeyCode::Esc => view.feedback = None,
            KeyCode::Enter if !key.modifiers.intersects(KeyModifiers::SHIFT | KeyModifiers::ALT) => {
                let words = feedback.lines().join("\n").trim().to_string();
                let feedback = (!words.is_empty()).then_some(words);
                answer(state, PlanDecision::Reject { feedback });
            }
            _ => {
                feedback.input(key);
            }
        }
        return;
    }
    let n = APPROVE_POLICIES.len();
    match key.code {
        KeyCode::Enter | KeyCode::Char('y') => {
            match PlanDecision::approve(APPROVE_POLICIES[view.policy], &view.steps) {
                Ok(decision) => answer(state, decision),
                Err(why) => view.error = Some(why),
            }
        }
        KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => view.policy = (view.policy + 1) % n,
        KeyCode::BackTab | KeyCode::Left | KeyCode::Char('h') => view.policy = (view.policy + n - 1) % n,
        KeyCode::Char('e') => {
            let mut editor = TextArea::new(view.steps.clone());
            editor.move_cursor(CursorMove::Bottom);
            editor.move_cursor(CursorMove::End);
            view.editor = Some(Box::new(editor));
        }
        KeyCode::Char('r') => view.feedback = Some(Box::new(TextArea::default())),
        KeyCode::Esc | KeyCode::Char('n') => answer(state, PlanDecision::Reject { feedback: None }),
        KeyCode::Down | KeyCode::Char('j') => view.scroll += 1,
        KeyCode::Up | KeyCode::Char('k') => view.scroll = view.scroll.saturating_sub(1),
        KeyCode::PageDown => view.scroll += 10,
        KeyCode::PageUp => view.scroll = view.scroll.saturating_sub(10),
        _ => {}
    }
}

/// Text pasted while editing the steps or writing feedback goes there.
pub fn on_paste(state: &mut AppState, text: &str) -> bool {
    let Some(Modal::Plan(view)) = state.modals.last_mut() else { return false };
    if let Some(editor) = view.editor.as_mut().or(view.feedback.as_mut()) {
        editor.insert_str(text);
    }
    true
}

fn answer(state: &mut AppState, decision: PlanDecision) {
    let Some(index) = state.modals.iter().rposition(|m| matches!(m, Modal::Plan(_))) else { return };
    let Modal::Plan(view) = state.modals.remove(index) else { return };
    state.outbox.push(Op::Plan { id: view.proposal.id, decision });
    state.dirty = true;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::protocol::Policy;

    fn proposal() -> PlanProposal {
        PlanProposal {
            id: 4,
            summary: "Fix the parser.".into(),
            steps: vec!["Read src/p.rs".into(), "Fix the off-by-one".into()],
            files: vec!["src/p.rs".into()],
            risks: vec![],
            policy: Policy::Ask,
        }
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn type_text(state: &mut AppState, text: &str) {
        for c in text.chars() {
            on_key(state, key(if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) }));
        }
    }

    #[test]
    fn approval_sends_the_edited_steps_under_the_chosen_policy() {
        let mut state = AppState::for_tests();
        open(&mut state, proposal());
        on_key(&mut state, key(KeyCode::Tab)); // ask → auto-edit
        on_key(&mut state, key(KeyCode::Char('e')));
        type_text(&mut state, "\nRun the tests");
        on_key(&mut state, KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
        on_key(&mut state, key(KeyCode::Enter));
        assert!(state.modals.is_empty());
        assert_eq!(
            state.outbox.pop(),
            Some(Op::Plan {
                id: 4,
                decision: PlanDecision::Approve {
                    policy: Policy::AutoEdit,
                    steps: vec!["Read src/p.rs".into(), "Fix the off-by-one".into(), "Run the tests".into()]
                }
            })
        );
    }

    #[test]
    fn an_emptied_plan_is_not_sent_and_says_why() {
        let mut state = AppState::for_tests();
        open(&mut state, proposal());
        on_key(&mut state, key(KeyCode::Char('e')));
        for _ in 0..60 {
            on_key(&mut state, key(KeyCode::Backspace));
        }
        on_key(&mut state, KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
        on_key(&mut state, key(KeyCode::Enter));
        let Some(Modal::Plan(view)) = state.modals.last() else { panic!("the dialog closed") };
        assert!(view.error.as_deref().is_some_and(|e| e.contains("at least one step")));
        assert!(state.outbox.is_empty());
    }

    #[test]
    fn rejection_carries_the_words_or_none() {
        let mut state = AppState::for_tests();
        open(&mut state, proposal());
        on_key(&mut state, key(KeyCode::Char('r')));
        type_text(&mut state, "use the lexer instead\n");
        assert_eq!(
            state.outbox.pop(),
            Some(Op::Plan {
                id: 4,
                decision: PlanDecision::Reject { feedback: Some("use the lexer instead".into()) }
            })
        );
        open(&mut state, proposal());
        on_key(&mut state, key(KeyCode::Esc));
        assert_eq!(
            state.outbox.pop(),
            Some(Op::Plan { id: 4, decision: PlanDecision::Reject { feedback: None } })
        );
    }
}
