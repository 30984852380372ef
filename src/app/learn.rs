//! The `/learn` list: the candidate conventions of `Event::Conventions`, one selected; ↑/↓ move,
//! Enter or `a` proposes adding the selected rule to `KV1NT.md` (`Op::AcceptRule` — the engine
//! then shows the approval dialog over this list), Esc closes.
//!
//! Invariant: nothing here writes `KV1NT.md`; a rule already proposed is marked, not removed,
//! and proposing it again is refused (the dialog decides, once).

use crossterm::event::{KeyCode, KeyEvent};
use tokio::sync::mpsc::UnboundedSender;

use super::modals::Modal;
use super::state::AppState;
use crate::engine::protocol::{Op, Rule};

#[derive(Debug, Clone, PartialEq)]
pub struct LearnView {
    pub rules: Vec<Rule>,
    pub selected: usize,
    /// Indices of the rules proposed from this list.
    pub proposed: Vec<usize>,
}

impl LearnView {
    pub fn new(rules: Vec<Rule>) -> Self {
        LearnView { rules, selected: 0, proposed: Vec::new() }
    }
}

/// `Event::Conventions`: open the list (replacing one already open).
pub fn open(state: &mut AppState, rules: Vec<Rule>) {
    state.modals.retain(|m| !matches!(m, Modal::Learn(_)));
    state.modals.push(Modal::Learn(Box::new(LearnView::new(rules))));
}

pub fn on_key(state: &mut AppState, key: KeyEvent, ops: &UnboundedSender<Op>) {
    let Some(Modal::Learn(view)) = state.modals.last_mut() else { return };
    let last = view.rules.len().saturating_sub(1);
    match key.code {
        KeyCode::Esc | KeyCode::Char('q') => {
            state.modals.pop();
        }
        KeyCode::Up | KeyCode::Char('k') => view.selected = view.selected.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => view.selected = (view.selected + 1).min(last),
        KeyCode::Home => view.selected = 0,
        KeyCode::End => view.selected = last,
        KeyCode::Enter | KeyCode::Char('a') => {
            let at = view.selected;
            if let Some(rule) = view.rules.get(at)
                && !view.proposed.contains(&at)
            {
                view.proposed.push(at);
                let _ = ops.send(Op::AcceptRule(rule.clone()));
            }
        }
        _ => {}
    }
}
