//! A scrolled-up view stays put: while a reply streams below it (Chat) or lines arrive (Output)
//! the rows on screen do not move and the caption says there is new output; End follows again;
//! after a resize the entry that was at the top is still in view.

use std::collections::BTreeMap;
use std::time::Instant;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use kv1nt::app::keymap::Keymap;
use kv1nt::app::state::{AppState, Focus, Pane};
use kv1nt::app::{input, update};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{Event, HistoryEntry, LogLevel, Message, MessageStatus};
use kv1nt::text::theme::Theme;
use kv1nt::widgets;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use tokio::sync::mpsc;

fn screen(state: &mut AppState, width: u16) -> Vec<String> {
    let area = Rect::new(0, 0, width, 40);
    let mut buf = Buffer::empty(area);
    widgets::draw_into(area, &mut buf, state, Instant::now());
    (0..area.height).map(|y| (0..area.width).map(|x| buf[(x, y)].symbol().to_string()).collect()).collect()
}

fn key(code: KeyCode) -> TermEvent {
    TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn resumed(n: usize) -> AppState {
    resumed_with(n, "")
}

/// `n` prompts and answers, each answer followed by `tail` (long text wraps differently per width).
fn resumed_with(n: usize, tail: &str) -> AppState {
    let keymap = Keymap::load(&BTreeMap::new()).unwrap();
    let mut s = AppState::new(keymap, Theme::builtin("dark").unwrap(), ProviderKind::OpenAi, "m".into());
    let history = (0..n)
        .flat_map(|i| {
            [
                Message::user(format!("prompt {i}")),
                Message::assistant(format!("answer number {i} here {tail}")),
            ]
        })
        .map(|message| HistoryEntry { message, status: MessageStatus::Complete, note: None })
        .collect();
    update::apply(
        &mut s,
        Event::SessionReady {
            session_id: Some("s".into()),
            resumed: true,
            history,
            older: Default::default(),
            forked: None,
        },
    );
    s
}

/// The rows of the Chat pane (the left half at 140 columns), without the caption row.
fn chat_rows(rows: &[String]) -> Vec<String> {
    rows[1..30].iter().map(|r| r.chars().take(60).collect()).collect()
}

#[test]
fn chat_scrolled_up_stays_still_while_a_reply_streams_and_end_follows_again() {
    let mut s = resumed(40);
    let (ops, _rx) = mpsc::unbounded_channel();
    s.focus = Focus::Pane(Pane::Chat);
    update::apply(&mut s, Event::TurnStarted { provider: ProviderKind::OpenAi, model: "m".into() });
    update::apply(&mut s, Event::TextDelta("streaming start\n\n".into()));
    screen(&mut s, 140);
    input::handle(&mut s, key(KeyCode::PageUp), &ops);
    let before = chat_rows(&screen(&mut s, 140));
    for i in 0..60 {
        update::apply(&mut s, Event::TextDelta(format!("streamed line {i}\n\n")));
        if i % 7 == 0 {
            let now = chat_rows(&screen(&mut s, 140));
            assert_eq!(now, before, "the view moved after {i} lines");
        }
    }
    update::notice(&mut s, LogLevel::Warn, "a notice below");
    let rows = screen(&mut s, 140);
    assert_eq!(chat_rows(&rows), before, "a notice does not move it either");
    assert!(rows[0].contains("↓ new output"), "{}", rows[0]);
    input::handle(&mut s, key(KeyCode::End), &ops);
    let rows = screen(&mut s, 140);
    assert!(rows.iter().any(|r| r.contains("a notice below")), "End follows the tail again");
    assert!(!rows[0].contains("new output"));
}

#[test]
fn output_scrolled_up_stays_still_while_lines_arrive() {
    let mut s = resumed(1);
    let (ops, _rx) = mpsc::unbounded_channel();
    for i in 0..100 {
        update::apply(&mut s, Event::Log { level: LogLevel::Info, text: format!("old line {i}") });
    }
    s.focus = Focus::Pane(Pane::Output);
    input::handle(&mut s, key(KeyCode::PageUp), &ops);
    let rows = screen(&mut s, 140);
    let top = rows.iter().find(|r| r.contains("old line")).cloned().unwrap();
    for i in 0..30 {
        update::apply(&mut s, Event::Log { level: LogLevel::Info, text: format!("new line {i}") });
    }
    let rows = screen(&mut s, 140);
    assert_eq!(rows.iter().find(|r| r.contains("old line")).cloned().unwrap(), top);
    assert!(!rows.iter().any(|r| r.contains("new line")));
}

#[test]
fn after_a_resize_the_entry_at_the_top_is_still_in_view() {
    let mut s = resumed_with(60, &"words that wrap at a narrower width ".repeat(5));
    let (ops, _rx) = mpsc::unbounded_channel();
    s.focus = Focus::Pane(Pane::Chat);
    screen(&mut s, 140);
    for _ in 0..4 {
        input::handle(&mut s, key(KeyCode::PageUp), &ops);
    }
    let rows = screen(&mut s, 140);
    let top = chat_rows(&rows)
        .into_iter()
        .find_map(|r| {
            r.split("answer number ").nth(1).map(|n| n.split_whitespace().next().unwrap().to_string())
        })
        .expect("an answer in view");
    let wanted = format!("answer number {top} here");
    for width in [100, 80, 140] {
        let rows = screen(&mut s, width);
        assert!(
            rows.iter().any(|r| r.contains(&wanted)),
            "{wanted} left the view at width {width}:\n{}",
            rows.join("\n")
        );
    }
}
