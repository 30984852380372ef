//! The compaction dialog in the drawn TUI: what it says, its countdown, editing the summary,
//! the chat's notice of the summary in force, and the task list at the top of the Chat pane.

use std::collections::BTreeMap;
use std::time::Instant;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use kv1nt::app::keymap::Keymap;
use kv1nt::app::modals::Modal;
use kv1nt::app::state::AppState;
use kv1nt::app::{input, update};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{Compacted, CompactionDecision, CompactionProposal, Event, Op};
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

fn key(code: KeyCode, modifiers: KeyModifiers) -> TermEvent {
    TermEvent::Key(KeyEvent::new(code, modifiers))
}

fn proposal(auto_accept_secs: Option<u64>) -> Event {
    Event::CompactionProposed(CompactionProposal {
        id: 3,
        summary: "## Goal\nport the tokenizer\n## Constraints and preferences\nindent with tabs".into(),
        through: 34,
        tokens_before: 3_100,
        tokens_after: 1_200,
        window: 4_096,
        auto_accept_secs,
        manual: false,
    })
}

#[test]
fn the_dialog_shows_the_summary_and_what_it_saves_and_an_edit_is_the_answer() {
    let keymap = Keymap::load(&BTreeMap::new()).unwrap();
    let mut s = AppState::new(keymap, Theme::builtin("dark").unwrap(), ProviderKind::OpenAi, "m".into());
    let (ops, mut rx) = mpsc::unbounded_channel();
    update::apply(&mut s, proposal(Some(60)));
    let shown = screen(&mut s);
    assert!(shown.contains("Compact the conversation?"), "{shown}");
    assert!(shown.contains("first 34 messages") && shown.contains("3100 → 1200 tokens of 4096"), "{shown}");
    assert!(shown.contains("Accepted as written in 60 s unless you answer."), "{shown}");
    assert!(shown.contains("port the tokenizer") && shown.contains("indent with tabs"), "{shown}");

    input::handle(&mut s, key(KeyCode::Char('e'), KeyModifiers::NONE), &ops);
    let editing = screen(&mut s);
    assert!(
        editing.contains("Ctrl+S accepts your edit") && !editing.contains("Accepted as written"),
        "{editing}"
    );
    input::handle(&mut s, key(KeyCode::Enter, KeyModifiers::NONE), &ops);
    for c in "never touch vendor/".chars() {
        input::handle(&mut s, key(KeyCode::Char(c), KeyModifiers::NONE), &ops);
    }
    input::handle(&mut s, key(KeyCode::Char('s'), KeyModifiers::CONTROL), &ops);
    match rx.try_recv().unwrap() {
        Op::Compaction { id: 3, decision: CompactionDecision::Accept(text) } => {
            assert!(text.ends_with("indent with tabs\nnever touch vendor/"), "{text}")
        }
        other => panic!("{other:?}"),
    }
    assert!(!s.modals.iter().any(|m| matches!(m, Modal::Compaction(_))));

    update::apply(
        &mut s,
        Event::Compacted(Compacted {
            summary: "## Goal\nport the tokenizer".into(),
            through: 34,
            tokens_before: 3_100,
            tokens_after: 1_200,
            edited: true,
            resumed: false,
        }),
    );
    let chat = screen(&mut s);
    assert!(chat.contains("Compacted with your edited summary"), "{chat}");
}

#[test]
fn under_read_only_there_is_no_countdown_and_n_declines() {
    let keymap = Keymap::load(&BTreeMap::new()).unwrap();
    let mut s = AppState::new(keymap, Theme::builtin("dark").unwrap(), ProviderKind::OpenAi, "m".into());
    let (ops, mut rx) = mpsc::unbounded_channel();
    update::apply(&mut s, proposal(None));
    let shown = screen(&mut s);
    assert!(!shown.contains("Accepted as written"), "{shown}");
    input::handle(&mut s, key(KeyCode::Char('n'), KeyModifiers::NONE), &ops);
    assert_eq!(rx.try_recv().unwrap(), Op::Compaction { id: 3, decision: CompactionDecision::Decline });
}

#[test]
fn the_task_list_is_drawn_at_the_top_of_the_chat_pane() {
    use kv1nt::engine::protocol::{TodoItem, TodoStatus};
    let keymap = Keymap::load(&BTreeMap::new()).unwrap();
    let mut s = AppState::new(keymap, Theme::builtin("dark").unwrap(), ProviderKind::OpenAi, "m".into());
    assert!(!screen(&mut s).contains("Tasks "), "no list, no section");
    update::apply(
        &mut s,
        Event::Todo(vec![
            TodoItem::new("Read the parser", TodoStatus::Done),
            TodoItem::new("Fix the off-by-one", TodoStatus::InProgress),
            TodoItem::new("Run the tests", TodoStatus::Pending),
        ]),
    );
    let shown = screen(&mut s);
    assert!(shown.contains("Tasks 1/3 done"), "{shown}");
    assert!(shown.contains("☑ Read the parser"), "{shown}");
    assert!(shown.contains("▶ Fix the off-by-one"), "{shown}");
    assert!(shown.contains("☐ Run the tests"), "{shown}");
    update::apply(&mut s, Event::Todo(Vec::new()));
    assert!(!screen(&mut s).contains("Tasks "), "an empty list is not drawn");
}
