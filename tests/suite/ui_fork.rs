//! `/fork` in the drawn TUI: prompts carry their number (`#N`) on their header line — resumed
//! ones and live ones once the engine stored them, never kv1nt's own user-role messages —,
//! `/fork N` sends the op, and the fork's `SessionReady` replaces the conversation shown and puts
//! the prompt back in the composer.

use std::collections::BTreeMap;
use std::time::Instant;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use kv1nt::app::keymap::Keymap;
use kv1nt::app::state::AppState;
use kv1nt::app::{input, update};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{Event, Forked, HistoryEntry, Message, MessageStatus, Op, TurnOutcome};
use kv1nt::text::theme::Theme;
use kv1nt::widgets;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use tokio::sync::mpsc;

fn screen(state: &mut AppState) -> String {
    let area = Rect::new(0, 0, 120, 40);
    let mut buf = Buffer::empty(area);
    widgets::draw_into(area, &mut buf, state, Instant::now());
    (0..area.height)
        .map(|y| (0..area.width).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

fn typed(state: &mut AppState, text: &str, ops: &mpsc::UnboundedSender<Op>) {
    for c in text.chars() {
        input::handle(state, TermEvent::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)), ops);
    }
    input::handle(state, TermEvent::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)), ops);
}

fn entry(message: Message) -> HistoryEntry {
    HistoryEntry { message, status: MessageStatus::Complete, note: None }
}

/// The header line of the prompt whose text is `text` (the line above it).
fn header_of(shown: &str, text: &str) -> String {
    let lines: Vec<&str> = shown.lines().collect();
    let at =
        lines.iter().position(|l| l.contains(text)).unwrap_or_else(|| panic!("{text} not shown:\n{shown}"));
    lines[at - 1].to_string()
}

#[test]
fn prompts_are_numbered_and_a_fork_replaces_the_conversation() {
    let keymap = Keymap::load(&BTreeMap::new()).unwrap();
    let mut s = AppState::new(keymap, Theme::builtin("dark").unwrap(), ProviderKind::OpenAi, "m".into());
    let (ops, mut rx) = mpsc::unbounded_channel();
    update::apply(
        &mut s,
        Event::SessionReady {
            session_id: Some("aaaa1111".into()),
            resumed: true,
            history: vec![
                entry(Message::user("FIRST-PROMPT")),
                entry(Message::assistant("FIRST-REPLY")),
                entry(Message::user("[kv1nt fix round 1 of 3] FIX-ROUND")),
                entry(Message::assistant("FIXED")),
                entry(Message::user("SECOND-PROMPT")),
                entry(Message::assistant("SECOND-REPLY")),
            ],
            older: Default::default(),
            forked: None,
        },
    );
    let shown = screen(&mut s);
    assert!(header_of(&shown, "FIRST-PROMPT").contains("You  #1"), "{shown}");
    assert!(header_of(&shown, "SECOND-PROMPT").contains("You  #2"), "{shown}");
    assert!(!header_of(&shown, "FIX-ROUND").contains('#'), "kv1nt's own message has no number: {shown}");

    // A live prompt gets its number once the engine stored it.
    typed(&mut s, "THIRD-PROMPT", &ops);
    assert!(matches!(rx.try_recv(), Ok(Op::Submit { .. })));
    assert!(!header_of(&screen(&mut s), "THIRD-PROMPT").contains('#'));
    update::apply(&mut s, Event::PromptRecorded { number: 3, images: vec![] });
    update::apply(&mut s, Event::TurnEnded(TurnOutcome::Complete { stop_reason: None }));
    assert!(header_of(&screen(&mut s), "THIRD-PROMPT").contains("You  #3"));

    // `/fork #2` (as shown) is `/fork 2`; a word is a usage error naming the command.
    typed(&mut s, "/fork #2", &ops);
    assert_eq!(rx.try_recv().unwrap(), Op::Fork { before_prompt: Some(2) });
    typed(&mut s, "/fork second", &ops);
    assert!(rx.try_recv().is_err());
    assert!(screen(&mut s).contains("usage: /fork [N]"));

    update::apply(
        &mut s,
        Event::SessionReady {
            session_id: Some("bbbb2222".into()),
            resumed: true,
            history: vec![entry(Message::user("FIRST-PROMPT")), entry(Message::assistant("FIRST-REPLY"))],
            older: Default::default(),
            forked: Some(Forked {
                parent_id: "aaaa1111".into(),
                before_prompt: Some(2),
                prompt: Some("SECOND-PROMPT".into()),
            }),
        },
    );
    let shown = screen(&mut s);
    assert!(shown.contains("Forked session bbbb2222 from aaaa1111"), "{shown}");
    assert!(!shown.contains("THIRD-PROMPT") && !shown.contains("SECOND-REPLY"), "replaced: {shown}");
    assert!(header_of(&shown, "FIRST-PROMPT").contains("You  #1"), "{shown}");
    assert_eq!(s.composer.text(), "SECOND-PROMPT", "the prompt is back in the composer");
    assert_eq!(s.status.session_id.as_deref(), Some("bbbb2222"));
}

#[test]
fn help_says_what_n_is() {
    let keymap = Keymap::load(&BTreeMap::new()).unwrap();
    let lines = widgets::help::help_lines(&keymap, &[], &Theme::builtin("dark").unwrap());
    let text: Vec<String> =
        lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect();
    let row = text.iter().find(|l| l.trim_start().starts_with("/fork [N]")).expect("a /fork row");
    assert!(row.contains("prompt #N") && row.contains("composer"), "{row}");
}
