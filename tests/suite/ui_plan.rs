//! Plan mode in the drawn TUI: Shift+Tab reaches `plan`, the status bar says so, and the plan
//! dialog shows the summary, steps, files, risks and policy, and answers with `Op::Plan`.

use std::collections::BTreeMap;
use std::time::Instant;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use kv1nt::app::keymap::Keymap;
use kv1nt::app::modals::Modal;
use kv1nt::app::state::AppState;
use kv1nt::app::{input, update};
use kv1nt::engine::approval::Policy;
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{Event, Op, PlanDecision, PlanProposal};
use kv1nt::text::theme::Theme;
use kv1nt::widgets;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use tokio::sync::mpsc;

fn screen(state: &mut AppState) -> String {
    let area = Rect::new(0, 0, 140, 40);
    let mut buf = Buffer::empty(area);
    widgets::draw_into(area, &mut buf, state, Instant::now());
    (0..area.height)
        .map(|y| (0..area.width).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

fn key(code: KeyCode) -> TermEvent {
    TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn state() -> AppState {
    let keymap = Keymap::load(&BTreeMap::new()).unwrap();
    AppState::new(keymap, Theme::builtin("dark").unwrap(), ProviderKind::OpenAi, "m".into())
}

#[test]
fn shift_tab_reaches_plan_mode_and_the_status_bar_shows_it() {
    let mut s = state();
    let (ops, mut rx) = mpsc::unbounded_channel();
    update::apply(&mut s, Event::PolicyChanged(Policy::ReadOnly));
    input::handle(&mut s, TermEvent::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)), &ops);
    assert_eq!(rx.try_recv().unwrap(), Op::SetPolicy(Policy::Plan));
    update::apply(&mut s, Event::PolicyChanged(Policy::Plan));
    assert!(screen(&mut s).contains("plan (Shift+Tab)"));
    assert_eq!(Policy::Plan.next(), Policy::Ask);
}

#[test]
fn the_plan_dialog_shows_the_plan_and_approves_under_the_chosen_policy() {
    let mut s = state();
    let (ops, mut rx) = mpsc::unbounded_channel();
    update::apply(
        &mut s,
        Event::PlanProposed(PlanProposal {
            id: 9,
            summary: "Move the lexer into its own module.".into(),
            steps: vec!["Create src/lexer.rs".into(), "Move Token and lex() there".into()],
            files: vec!["src/lexer.rs".into(), "src/parser.rs".into()],
            risks: vec!["parser.rs imports change".into()],
            policy: Policy::Ask,
        }),
    );
    let shown = screen(&mut s);
    for expected in [
        "The model's plan",
        "Move the lexer into its own module.",
        " 1. Create src/lexer.rs",
        " 2. Move Token and lex() there",
        "src/parser.rs",
        "! parser.rs imports change",
        "Approve under:",
        "auto-edit",
        "Enter/y approve",
    ] {
        assert!(shown.contains(expected), "missing {expected:?}:\n{shown}");
    }
    input::handle(&mut s, key(KeyCode::Tab), &ops);
    input::handle(&mut s, key(KeyCode::Tab), &ops);
    input::handle(&mut s, key(KeyCode::Enter), &ops);
    assert_eq!(
        rx.try_recv().unwrap(),
        Op::Plan {
            id: 9,
            decision: PlanDecision::Approve {
                policy: Policy::Auto,
                steps: vec!["Create src/lexer.rs".into(), "Move Token and lex() there".into()]
            }
        }
    );
    assert!(!s.modals.iter().any(|m| matches!(m, Modal::Plan(_))));
}
