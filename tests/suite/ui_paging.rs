//! The Chat pane on a long resumed session (issue 16 item 8): the newest page is shown with a
//! line saying older messages are stored; reaching it asks the engine for the page before, which
//! is put in front without moving the view, with its prompts numbered; back at the tail, pages
//! loaded far back are let go again; Chat search asks the engine for a word in no loaded message
//! and shows it when its page arrives. The engine's side is played here by answering the ops
//! the pane sends (`AppState::outbox`) as `agent::paging` does.

use std::collections::BTreeMap;
use std::time::Instant;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use kv1nt::app::keymap::Keymap;
use kv1nt::app::state::{AppState, Focus, Pane};
use kv1nt::app::{input, paging, update};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{Event, HistoryEntry, Message, MessageStatus, Older, Op};
use kv1nt::text::theme::Theme;
use kv1nt::widgets;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use tokio::sync::mpsc;

fn screen(state: &mut AppState) -> Vec<String> {
    let area = Rect::new(0, 0, 140, 40);
    let mut buf = Buffer::empty(area);
    widgets::draw_into(area, &mut buf, state, Instant::now());
    paging::after_draw(state);
    (0..area.height).map(|y| (0..area.width).map(|x| buf[(x, y)].symbol().to_string()).collect()).collect()
}

fn key(code: KeyCode, modifiers: KeyModifiers) -> TermEvent {
    TermEvent::Key(KeyEvent::new(code, modifiers))
}

/// The stored messages at positions `from..to`: even positions prompts, odd ones answers;
/// position 500 holds the rare word.
fn page(from: usize, to: usize) -> Vec<HistoryEntry> {
    (from..to)
        .map(|i| {
            let message = match i % 2 {
                0 if i == 500 => Message::user(format!("prompt at {i}: the QUOKKA-9 question")),
                0 => Message::user(format!("prompt at {i}")),
                _ => Message::assistant(format!("answer at {i}")),
            };
            HistoryEntry { message, status: MessageStatus::Complete, note: None }
        })
        .collect()
}

/// A session of 1,200 stored messages resumed with its newest 200 loaded.
fn resumed() -> AppState {
    let keymap = Keymap::load(&BTreeMap::new()).unwrap();
    let mut s = AppState::new(keymap, Theme::builtin("dark").unwrap(), ProviderKind::OpenAi, "m".into());
    update::apply(
        &mut s,
        Event::SessionReady {
            session_id: Some("s".into()),
            resumed: true,
            history: page(1_000, 1_200),
            older: Older { messages: 1_000, prompts: 500 },
            forked: None,
        },
    );
    s
}

/// Answer the page request the pane sent, as the engine does.
fn serve_page(s: &mut AppState) {
    let ops: Vec<Op> = s.outbox.drain(..).collect();
    let [Op::LoadOlder { before, from: None }] = ops.as_slice() else {
        panic!("expected one page request: {ops:?}")
    };
    let from = before.saturating_sub(200);
    update::apply(s, Event::OlderMessages { history: page(from, *before), older: from, prompts: from / 2 });
}

fn chat_rows(rows: &[String]) -> Vec<String> {
    rows[1..30].iter().map(|r| r.chars().take(60).collect()).collect()
}

#[test]
fn scrolling_to_the_top_loads_the_page_before_keeping_the_view_still_and_lets_it_go_at_the_tail() {
    let mut s = resumed();
    let (ops, _rx) = mpsc::unbounded_channel();
    s.focus = Focus::Pane(Pane::Chat);
    let rows = screen(&mut s);
    assert!(rows.iter().any(|r| r.contains("answer at 1199")));
    assert!(s.outbox.is_empty(), "nothing is asked while the view is at the tail");

    input::handle(&mut s, key(KeyCode::Home, KeyModifiers::NONE), &ops);
    let rows = screen(&mut s);
    let top =
        rows.iter().position(|r| r.contains("1000 older messages — scroll up to load")).expect("marker");
    assert!(rows[top + 2..].iter().any(|r| r.contains("prompt at 1000")), "{rows:#?}");
    let before: Vec<String> = chat_rows(&rows)[top + 1..].to_vec();
    serve_page(&mut s);
    let after = chat_rows(&screen(&mut s));
    assert_eq!(after[top + 1..], before[..], "the page went in front without moving the view");
    assert!(!after.iter().any(|r| r.contains("older messages")), "the marker is above the view now");
    let first = &s.chat.entries[0];
    assert_eq!((first.text.as_str(), first.prompt), ("prompt at 800", Some(401)), "numbered in the session");
    assert_eq!(s.chat.paging.older, Older { messages: 800, prompts: 400 });

    // Two more pages back, then End: the pages beyond what is kept are let go.
    for _ in 0..2 {
        input::handle(&mut s, key(KeyCode::Home, KeyModifiers::NONE), &ops);
        screen(&mut s);
        serve_page(&mut s);
    }
    assert_eq!(s.chat.paging.older.messages, 400);
    let loaded = s.chat.entries.len();
    input::handle(&mut s, key(KeyCode::End, KeyModifiers::NONE), &ops);
    let rows = screen(&mut s);
    assert!(rows.iter().any(|r| r.contains("answer at 1199")), "End follows the tail");
    assert_eq!(s.chat.entries.len(), loaded - 400, "all but 200 of the 600 loaded entries let go");
    assert_eq!(s.chat.paging.older, Older { messages: 800, prompts: 400 });
    assert_eq!(s.chat.entries[0].text, "prompt at 800");
    assert!(s.outbox.is_empty());
    // And scrolling up again loads them again.
    input::handle(&mut s, key(KeyCode::Home, KeyModifiers::NONE), &ops);
    screen(&mut s);
    serve_page(&mut s);
    assert_eq!(s.chat.entries[0].text, "prompt at 600");
}

#[test]
fn chat_search_asks_for_a_word_in_no_loaded_message_and_shows_it_when_its_page_arrives() {
    let mut s = resumed();
    let (ops, mut rx) = mpsc::unbounded_channel();
    screen(&mut s);
    input::handle(&mut s, key(KeyCode::Char('f'), KeyModifiers::CONTROL), &ops);
    for c in "quokka".chars() {
        input::handle(&mut s, key(KeyCode::Char(c), KeyModifiers::NONE), &ops);
    }
    let mut asked = None;
    while let Ok(op) = rx.try_recv() {
        asked = Some(op); // each key with no loaded match asked; the last answer is the one shown
    }
    let asked = asked.expect("a session search");
    assert_eq!(asked, Op::SearchSession { query: "quokka".into(), before: 1_000, ignore_case: true });
    let rows = screen(&mut s);
    assert!(!rows.iter().any(|r| r.contains("QUOKKA-9")));

    // The engine says where: 500 messages back, so a page around it replaces the loaded run.
    update::apply(&mut s, Event::SessionSearch { query: "quokka".into(), found: Some(500) });
    assert_eq!(s.outbox.drain(..).collect::<Vec<_>>(), [Op::LoadOlder { before: 600, from: Some(400) }]);
    update::apply(&mut s, Event::OlderMessages { history: page(400, 600), older: 400, prompts: 200 });
    let rows = screen(&mut s);
    let shown = rows.join("\n");
    assert!(shown.contains("prompt at 500: the QUOKKA-9 question"), "{shown}");
    assert!(shown.contains("/quokka  1 of 1"), "{shown}");
    assert_eq!(s.chat.paging.older, Older { messages: 400, prompts: 200 });
    assert_eq!(s.chat.entries.len(), 201, "the page around the match and the resume notice: no more");
    let first = &s.chat.entries[0];
    assert_eq!((first.text.as_str(), first.prompt), ("prompt at 400", Some(201)));

    // Scrolling down reaches the gap's line: it fills from the side the view shows more of,
    // without moving what is on screen there (notices below keep the tail out of view).
    for i in 0..40 {
        update::notice(&mut s, kv1nt::engine::protocol::LogLevel::Info, format!("live notice {i}"));
    }
    input::handle(&mut s, key(KeyCode::Enter, KeyModifiers::NONE), &ops);
    s.focus = Focus::Pane(Pane::Chat);
    let mut asked = Vec::new();
    for _ in 0..200 {
        input::handle(&mut s, key(KeyCode::PageDown, KeyModifiers::NONE), &ops);
        screen(&mut s);
        asked = s.outbox.drain(..).collect();
        if !asked.is_empty() {
            break;
        }
    }
    let rows = chat_rows(&screen(&mut s));
    let gap_row = rows
        .iter()
        .position(|r| r.contains("600 messages not loaded here"))
        .unwrap_or_else(|| panic!("{asked:?} {rows:#?}"));
    match asked.as_slice() {
        [Op::LoadOlder { before: 800, from: Some(600) }] => {
            update::apply(&mut s, Event::OlderMessages { history: page(600, 800), older: 600, prompts: 300 });
            let after = chat_rows(&screen(&mut s));
            assert_eq!(after[..gap_row], rows[..gap_row], "the lines above the gap stay");
            assert!(after.iter().any(|r| r.contains("prompt at 600")), "{after:#?}");
        }
        [Op::LoadOlder { before: 1_200, from: Some(1_000) }] => {
            update::apply(
                &mut s,
                Event::OlderMessages { history: page(1_000, 1_200), older: 1_000, prompts: 500 },
            );
            let after = chat_rows(&screen(&mut s));
            assert_eq!(after[gap_row + 1..], rows[gap_row + 1..], "the lines below the gap stay");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.chat.paging.gap.map(|g| g.to - g.from), Some(400));

    // Back at the tail, the whole run with its gap is let go; scrolling up asks for the newest
    // page again.
    input::handle(&mut s, key(KeyCode::End, KeyModifiers::NONE), &ops);
    screen(&mut s);
    assert_eq!(s.chat.entries.len(), 41, "only the notices stay");
    assert_eq!(s.chat.paging.older, Older { messages: 1_200, prompts: 600 });
    assert!(s.chat.paging.gap.is_none());
    input::handle(&mut s, key(KeyCode::Home, KeyModifiers::NONE), &ops);
    screen(&mut s);
    assert_eq!(s.outbox.drain(..).collect::<Vec<_>>(), [Op::LoadOlder { before: 1_200, from: None }]);
}

#[test]
fn a_match_found_while_a_page_is_on_its_way_is_shown_once_the_messages_down_to_it_arrive() {
    let mut s = resumed();
    let (ops, mut rx) = mpsc::unbounded_channel();
    s.focus = Focus::Pane(Pane::Chat);
    input::handle(&mut s, key(KeyCode::Home, KeyModifiers::NONE), &ops);
    screen(&mut s);
    let in_flight: Vec<Op> = s.outbox.drain(..).collect();
    assert_eq!(in_flight, [Op::LoadOlder { before: 1_000, from: None }]);
    input::handle(&mut s, key(KeyCode::Char('/'), KeyModifiers::NONE), &ops);
    for c in "quokka".chars() {
        input::handle(&mut s, key(KeyCode::Char(c), KeyModifiers::NONE), &ops);
    }
    while rx.try_recv().is_ok() {}
    update::apply(&mut s, Event::SessionSearch { query: "quokka".into(), found: Some(500) });
    assert!(s.outbox.is_empty(), "one page request at a time");
    update::apply(&mut s, Event::OlderMessages { history: page(800, 1_000), older: 800, prompts: 400 });
    let asked: Vec<Op> = s.outbox.drain(..).collect();
    assert_eq!(asked, [Op::LoadOlder { before: 800, from: Some(500) }], "then the rest down to the match");
    update::apply(&mut s, Event::OlderMessages { history: page(500, 800), older: 500, prompts: 250 });
    let shown = screen(&mut s).join("\n");
    assert!(shown.contains("the QUOKKA-9 question") && shown.contains("/quokka  1 of 1"), "{shown}");
}
