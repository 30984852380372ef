//! Search in the drawn TUI: Ctrl+F from the composer finds a word in a Chat message far out of
//! view (a resumed 300-message session) and scrolls it into view highlighted; `n` moves on and
//! wraps; `/` in Code and Output finds lines beyond the visible ones; Esc clears.

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

const AREA: Rect = Rect { x: 0, y: 0, width: 140, height: 40 };

fn draw(state: &mut AppState) -> Buffer {
    let mut buf = Buffer::empty(AREA);
    widgets::draw_into(AREA, &mut buf, state, Instant::now());
    buf
}

fn text(buf: &Buffer) -> String {
    (0..AREA.height)
        .map(|y| (0..AREA.width).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The cells of `word` on screen drawn in the theme's selection style.
fn highlighted(buf: &Buffer, state: &AppState, word: &str) -> bool {
    let shown = text(buf);
    let Some((row, line)) = shown.lines().enumerate().find(|(_, l)| l.contains(word)) else { return false };
    let col = line[..line.find(word).unwrap()].chars().count() as u16;
    (0..word.chars().count() as u16).all(|i| Some(buf[(col + i, row as u16)].bg) == state.theme.selection.bg)
}

fn key(code: KeyCode, modifiers: KeyModifiers) -> TermEvent {
    TermEvent::Key(KeyEvent::new(code, modifiers))
}

fn type_text(s: &mut AppState, ops: &mpsc::UnboundedSender<kv1nt::engine::protocol::Op>, text: &str) {
    for c in text.chars() {
        input::handle(s, key(KeyCode::Char(c), KeyModifiers::NONE), ops);
    }
}

fn state() -> AppState {
    let keymap = Keymap::load(&BTreeMap::new()).unwrap();
    AppState::new(keymap, Theme::builtin("dark").unwrap(), ProviderKind::OpenAi, "m".into())
}

#[test]
fn ctrl_f_finds_a_word_far_up_the_chat_highlights_it_and_n_wraps() {
    let mut s = state();
    let (ops, _rx) = mpsc::unbounded_channel();
    let mut history = Vec::new();
    for i in 0..150 {
        let reply = match i {
            3 => "the cache key was QUOKKA-7 all along".to_string(),
            120 => "quokka-7 shows up again".to_string(),
            _ => format!("reply {i}: nothing to see"),
        };
        history.push(HistoryEntry {
            message: Message::user(format!("prompt {i}")),
            status: MessageStatus::Complete,
            note: None,
        });
        history.push(HistoryEntry {
            message: Message::assistant(reply),
            status: MessageStatus::Complete,
            note: None,
        });
    }
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
    let first = draw(&mut s);
    assert!(!text(&first).contains("QUOKKA-7"), "the word starts out of view");

    input::handle(&mut s, key(KeyCode::Char('f'), KeyModifiers::CONTROL), &ops);
    assert_eq!(s.focus, Focus::Pane(Pane::Chat));
    type_text(&mut s, &ops, "quokka");
    let buf = draw(&mut s);
    let shown = text(&buf);
    assert!(shown.contains("/quokka  2 of 2"), "the newest match first:\n{shown}");
    assert!(shown.contains("quokka-7 shows up again") && highlighted(&buf, &s, "quokka"), "{shown}");

    input::handle(&mut s, key(KeyCode::Enter, KeyModifiers::NONE), &ops);
    input::handle(&mut s, key(KeyCode::Char('N'), KeyModifiers::SHIFT), &ops);
    let buf = draw(&mut s);
    let shown = text(&buf);
    assert!(shown.contains("the cache key was QUOKKA-7 all along"), "N goes to the older match:\n{shown}");
    assert!(shown.contains("1 of 2") && highlighted(&buf, &s, "QUOKKA"), "{shown}");
    input::handle(&mut s, key(KeyCode::Char('N'), KeyModifiers::SHIFT), &ops);
    assert!(text(&draw(&mut s)).contains("2 of 2"), "and wraps");

    input::handle(&mut s, key(KeyCode::Esc, KeyModifiers::NONE), &ops);
    assert!(s.search.is_none());
    let buf = draw(&mut s);
    assert!(!text(&buf).contains("/quokka") && !highlighted(&buf, &s, "quokka"));
}

#[test]
fn slash_searches_code_and_output_beyond_the_visible_lines() {
    let mut s = state();
    let (ops, _rx) = mpsc::unbounded_channel();
    let code: String = (0..600)
        .map(|i| if i == 450 { "let needle = 1;\n".to_string() } else { format!("let x{i} = {i};\n") })
        .collect();
    s.code.doc = Some(kv1nt::app::code::CodeDoc::new(Some("rust"), "big.rs", &code));
    s.focus = Focus::Pane(Pane::Code);
    assert!(!text(&draw(&mut s)).contains("needle"));
    input::handle(&mut s, key(KeyCode::Char('/'), KeyModifiers::NONE), &ops);
    type_text(&mut s, &ops, "needle");
    input::handle(&mut s, key(KeyCode::Enter, KeyModifiers::NONE), &ops);
    let buf = draw(&mut s);
    assert!(text(&buf).contains("let needle = 1;") && highlighted(&buf, &s, "needle"), "{}", text(&buf));

    for i in 0..400 {
        let line = if i == 10 { "error: HAYSTACK-42 failed".to_string() } else { format!("log line {i}") };
        update::apply(&mut s, Event::Log { level: LogLevel::Info, text: line });
    }
    s.focus = Focus::Pane(Pane::Output);
    input::handle(&mut s, key(KeyCode::Char('/'), KeyModifiers::NONE), &ops);
    type_text(&mut s, &ops, "haystack-42");
    let buf = draw(&mut s);
    let shown = text(&buf);
    assert!(shown.contains("HAYSTACK-42 failed") && shown.contains("1 of 1"), "{shown}");
    type_text(&mut s, &ops, "x");
    assert!(text(&draw(&mut s)).contains("no match"));
}
