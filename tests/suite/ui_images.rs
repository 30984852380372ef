//! Images in the drawn Chat pane: a prompt's images show as one placeholder line each under its
//! text — `[image: NAME W×H, SIZE]` —, for a resumed prompt and for a live one once the engine
//! recorded it.

use std::collections::BTreeMap;
use std::time::Instant;

use kv1nt::app::chat::{ChatEntry, EntryKind, EntryStatus};
use kv1nt::app::keymap::Keymap;
use kv1nt::app::state::AppState;
use kv1nt::app::update;
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{Event, HistoryEntry, ImageAttachment, Message, MessageStatus};
use kv1nt::text::theme::Theme;
use kv1nt::widgets;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::images::png;

fn screen(state: &mut AppState) -> String {
    let area = Rect::new(0, 0, 100, 30);
    let mut buf = Buffer::empty(area);
    widgets::draw_into(area, &mut buf, state, Instant::now());
    (0..area.height)
        .map(|y| (0..area.width).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_chat_shows_a_placeholder_line_per_image_live_and_resumed() {
    let keymap = Keymap::load(&BTreeMap::new()).unwrap();
    let mut s = AppState::new(keymap, Theme::builtin("dark").unwrap(), ProviderKind::Anthropic, "m".into());
    let image = ImageAttachment::from_bytes("old.png", png(800, 600, 1_500)).unwrap();
    let resumed = Message { images: vec![image], ..Message::user("earlier @old.png") };
    update::apply(
        &mut s,
        Event::SessionReady {
            session_id: Some("s1".into()),
            resumed: true,
            history: vec![HistoryEntry { message: resumed, status: MessageStatus::Complete, note: None }],
            older: Default::default(),
            forked: None,
        },
    );
    let live = ChatEntry::new(EntryKind::User, "now @docs/screenshot.png".into(), EntryStatus::Complete);
    s.chat.entries.push(live);
    update::apply(
        &mut s,
        Event::PromptRecorded {
            number: 2,
            images: vec!["[image: docs/screenshot.png 1280×720, 312 kB]".into()],
        },
    );
    let shown = screen(&mut s);
    assert!(shown.contains("[image: old.png 800×600, 2 kB]"), "{shown}");
    assert!(shown.contains("[image: docs/screenshot.png 1280×720, 312 kB]"), "{shown}");
    let lines: Vec<&str> = shown.lines().collect();
    let text = lines.iter().position(|l| l.contains("now @docs/screenshot.png")).unwrap();
    assert!(lines[text + 1].contains("[image: docs/screenshot.png"), "below its prompt:\n{shown}");
}
