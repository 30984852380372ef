//! Select and copy in the drawn TUI: a mouse drag in each pane copies exactly the text under it
//! (no borders, gutters, line numbers, diff markers or wrapping), the selection is drawn
//! reversed, `v`/`y` select and copy whole lines, `y` in Code copies the block, `/copy` the last
//! answer; Shift+drag and the composer's own `v`/`y` are left alone.

use std::collections::BTreeMap;
use std::time::Instant;

use crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use kv1nt::app::chat::{ChatEntry, EntryKind, EntryStatus};
use kv1nt::app::code::CodeDoc;
use kv1nt::app::diff::DiffModel;
use kv1nt::app::keymap::Keymap;
use kv1nt::app::state::{AppState, Focus, Pane};
use kv1nt::app::{blocks, input};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{LogLevel, Op};
use kv1nt::text::theme::Theme;
use kv1nt::widgets;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use tokio::sync::mpsc::{self, UnboundedSender};

const ANSWER: &str = "Here is a paragraph that is long enough to wrap across at least two lines of \
the chat pane in this layout, word by word.\n\n```rust\nfn main() {\n\tprintln!(\"hi\");\n}\n```\n\n\
> quoted words\n\n- item one\n- item two\n";

fn state() -> AppState {
    let keymap = Keymap::load(&BTreeMap::new()).unwrap();
    AppState::new(keymap, Theme::builtin("dark").unwrap(), ProviderKind::OpenAi, "m".into())
}

fn draw(state: &mut AppState) -> Buffer {
    let area = Rect::new(0, 0, 140, 40);
    let mut buf = Buffer::empty(area);
    widgets::draw_into(area, &mut buf, state, Instant::now());
    buf
}

/// Where `needle` starts on screen (the first match, rows top to bottom).
fn find(buf: &Buffer, needle: &str) -> (u16, u16) {
    for y in 0..buf.area.height {
        let cells: Vec<&str> = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        let row: String = cells.concat();
        if let Some(at) = row.find(needle) {
            let mut bytes = 0;
            for (x, cell) in cells.iter().enumerate() {
                if bytes == at {
                    return (x as u16, y);
                }
                bytes += cell.len();
            }
        }
    }
    panic!("{needle:?} is not on screen");
}

fn mouse(kind: MouseEventKind, (column, row): (u16, u16), modifiers: KeyModifiers) -> TermEvent {
    TermEvent::Mouse(MouseEvent { kind, column, row, modifiers })
}

/// Press at `from`, drag through the middle to `to`, release.
fn drag(s: &mut AppState, ops: &UnboundedSender<Op>, from: (u16, u16), to: (u16, u16), mods: KeyModifiers) {
    input::handle(s, mouse(MouseEventKind::Down(MouseButton::Left), from, mods), ops);
    let middle = (from.0.midpoint(to.0), from.1.midpoint(to.1));
    input::handle(s, mouse(MouseEventKind::Drag(MouseButton::Left), middle, mods), ops);
    input::handle(s, mouse(MouseEventKind::Drag(MouseButton::Left), to, mods), ops);
    input::handle(s, mouse(MouseEventKind::Up(MouseButton::Left), to, mods), ops);
}

fn key(s: &mut AppState, ops: &UnboundedSender<Op>, c: char) {
    input::handle(s, TermEvent::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)), ops);
}

/// The cell `len - 1` columns right of `start`: the last character of a needle.
fn end_of(start: (u16, u16), needle: &str) -> (u16, u16) {
    (start.0 + needle.chars().count() as u16 - 1, start.1)
}

fn with_answer() -> AppState {
    let mut s = state();
    s.chat.entries.push(ChatEntry::new(EntryKind::User, "show me".into(), EntryStatus::Complete));
    s.chat.entries.push(ChatEntry::new(EntryKind::Assistant, ANSWER.into(), EntryStatus::Complete));
    blocks::refresh_from(&mut s, 0);
    s
}

#[test]
fn a_drag_in_chat_copies_the_text_without_wrapping_gutters_or_quote_bars_and_is_drawn() {
    let mut s = with_answer();
    let (ops, _rx) = mpsc::unbounded_channel();
    let buf = draw(&mut s);
    let start = find(&buf, "Here is");
    let brace = find(&buf, "│ }");
    assert!(brace.1 > start.1 + 2, "the paragraph wraps: {start:?} .. {brace:?}");
    drag(&mut s, &ops, start, (brace.0 + 2, brace.1), KeyModifiers::NONE);
    let paragraph = ANSWER.split("\n\n").next().unwrap();
    assert_eq!(
        s.copied.take().as_deref(),
        Some(format!("{paragraph}\n\nfn main() {{\n\tprintln!(\"hi\");\n}}").as_str())
    );
    assert_eq!(s.status.flash.as_ref().map(|f| f.0.as_str()), Some("copied 5 lines"));

    let buf = draw(&mut s);
    assert!(buf[start].modifier.contains(Modifier::REVERSED), "the selection is drawn");
    let header = find(&buf, "kv1nt");
    assert!(!buf[header].modifier.contains(Modifier::REVERSED), "above it is not");

    let quoted = find(&buf, "quoted");
    let last = find(&buf, "item two");
    drag(&mut s, &ops, (quoted.0 - 2, quoted.1), end_of(last, "item two"), KeyModifiers::NONE);
    assert_eq!(s.copied.take().as_deref(), Some("quoted words\n\n• item one\n• item two"));

    // Part of a line: exactly the cells between.
    let word = find(&buf, "paragraph");
    drag(&mut s, &ops, word, end_of(word, "paragraph"), KeyModifiers::NONE);
    assert_eq!(s.copied.take().as_deref(), Some("paragraph"));
}

#[test]
fn a_click_selects_nothing_and_shift_drag_is_left_to_the_terminal() {
    let mut s = with_answer();
    let (ops, _rx) = mpsc::unbounded_channel();
    let buf = draw(&mut s);
    let start = find(&buf, "Here is");
    drag(&mut s, &ops, start, start, KeyModifiers::NONE);
    assert!(s.copied.is_none() && s.selection.is_none());
    drag(&mut s, &ops, start, (start.0 + 10, start.1 + 1), KeyModifiers::SHIFT);
    assert!(s.copied.is_none() && s.selection.is_none(), "kv1nt ignores Shift+mouse");
}

#[test]
fn code_copies_without_line_numbers_and_y_copies_the_block_shown() {
    let mut s = with_answer();
    let (ops, _rx) = mpsc::unbounded_channel();
    let buf = draw(&mut s);
    let first = find(&buf, "1 fn main");
    let last = find(&buf, "3 }");
    drag(&mut s, &ops, (first.0 + 2, first.1), (last.0 + 2, last.1), KeyModifiers::NONE);
    assert_eq!(s.copied.take().as_deref(), Some("fn main() {\n\tprintln!(\"hi\");\n}"));
    let shown = find(&buf, "println");
    drag(&mut s, &ops, shown, end_of(shown, "println!"), KeyModifiers::NONE);
    assert_eq!(s.copied.take().as_deref(), Some("println!"), "the tab counts as drawn");

    assert_eq!(s.focus, Focus::Pane(Pane::Code), "a click focuses the pane");
    input::handle(&mut s, TermEvent::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)), &ops);
    assert!(s.selection.is_none(), "Esc drops the selection");
    key(&mut s, &ops, 'y');
    assert_eq!(s.copied.take().as_deref(), Some("fn main() {\n\tprintln!(\"hi\");\n}\n"));

    // A selection never outlives its content: another block in Code drops it.
    drag(&mut s, &ops, shown, end_of(shown, "println!"), KeyModifiers::NONE);
    s.copied = None;
    assert!(s.selection.is_some());
    s.code.doc = Some(CodeDoc::new(None, "other", "something else\n"));
    draw(&mut s);
    assert!(s.selection.is_none());
    key(&mut s, &ops, 'y');
    assert_eq!(
        s.copied.take().as_deref(),
        Some("fn main() {\n\tprintln!(\"hi\");\n}\n"),
        "y copies the block Code stands on"
    );
}

#[test]
fn diff_copies_the_code_of_its_rows_and_output_its_lines() {
    let mut s = state();
    let (ops, _rx) = mpsc::unbounded_channel();
    s.diff.model = Some(DiffModel::between("a\nlet old_value = 1;\nb\n", "a\nlet new_value = 2;\nb\n", 0));
    s.push_log(LogLevel::Info, "first log line");
    s.push_log(LogLevel::Warn, "second log line");
    let buf = draw(&mut s);
    let header = find(&buf, "@@");
    let new = find(&buf, "let new_value");
    drag(&mut s, &ops, header, end_of(new, "let new_value = 2;"), KeyModifiers::NONE);
    assert_eq!(s.copied.take().as_deref(), Some("let old_value = 1;\nlet new_value = 2;"));

    let first = find(&buf, "first log line");
    let second = find(&buf, "second log line");
    drag(&mut s, &ops, first, end_of(second, "second log line"), KeyModifiers::NONE);
    let time = s.output.lines.last().unwrap().time.clone();
    assert_eq!(s.copied.take(), Some(format!("first log line\n{time} second log line")));
}

#[test]
fn v_and_y_select_whole_lines_in_a_pane_but_type_into_the_composer() {
    let mut s = with_answer();
    let (ops, _rx) = mpsc::unbounded_channel();
    draw(&mut s);
    key(&mut s, &ops, 'v');
    key(&mut s, &ops, 'y');
    assert_eq!(s.composer.text(), "vy", "the composer has focus: the keys are text");
    assert!(s.copied.is_none());

    s.composer.set_text("");
    s.focus = Focus::Pane(Pane::Chat);
    key(&mut s, &ops, 'v');
    let buf = draw(&mut s);
    let two = find(&buf, "item two");
    assert!(buf[two].modifier.contains(Modifier::REVERSED), "the newest line is selected");
    key(&mut s, &ops, 'k');
    draw(&mut s);
    key(&mut s, &ops, 'k');
    key(&mut s, &ops, 'y');
    assert_eq!(s.copied.take().as_deref(), Some("quoted words\n\n• item one\n• item two"));
    assert!(s.selection.is_none(), "y ends the selection");
    assert_eq!(s.focus, Focus::Pane(Pane::Chat), "and stays in the pane");

    key(&mut s, &ops, 'v');
    input::handle(&mut s, TermEvent::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)), &ops);
    assert!(s.selection.is_none(), "Esc drops it");
}

#[test]
fn slash_copy_copies_the_last_answer_as_written() {
    let mut s = with_answer();
    let (ops, _rx) = mpsc::unbounded_channel();
    s.composer.set_text("/copy");
    input::handle(&mut s, TermEvent::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)), &ops);
    assert_eq!(s.copied.take().as_deref(), Some(ANSWER));
    assert_eq!(s.status.flash.as_ref().map(|f| f.0.as_str()), Some("copied 12 lines"));
}

#[test]
fn keys_past_the_pane_edge_scroll_it_and_the_selection_keeps_its_lines() {
    let mut s = state();
    let (ops, _rx) = mpsc::unbounded_channel();
    let code: String = (1..=100).map(|i| format!("line {i}\n")).collect();
    s.code.doc = Some(CodeDoc::new(None, "many", &code));
    s.focus = Focus::Pane(Pane::Code);
    draw(&mut s);
    key(&mut s, &ops, 'v');
    for _ in 0..30 {
        key(&mut s, &ops, 'j');
        draw(&mut s);
    }
    assert!(s.code.scroll_y > 0, "the pane scrolled with the cursor");
    let buf = draw(&mut s);
    let shown = find(&buf, "line 31");
    assert!(buf[shown].modifier.contains(Modifier::REVERSED));
    key(&mut s, &ops, 'y');
    let expected: Vec<String> = (1..=31).map(|i| format!("line {i}")).collect();
    assert_eq!(s.copied.take(), Some(expected.join("\n")));
}
