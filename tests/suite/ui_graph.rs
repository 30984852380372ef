//! The Graph panel's UI: F3 opens it and takes the keys, typing searches live (stale answers
//! dropped), arrows ask for details, Enter asks to open the entity, and the opened file shows in
//! Code at the entity's line.

use std::collections::BTreeMap;
use std::time::Instant;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use kv1nt::app::keymap::Keymap;
use kv1nt::app::state::{AppState, Focus, Pane};
use kv1nt::app::{input, update};
use kv1nt::engine::graph::{Entity, EntityKind};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{EntityDetails, Event, GraphOp, Op};
use kv1nt::text::theme::{ColorMode, Theme};
use kv1nt::widgets;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use tokio::sync::mpsc::unbounded_channel;

fn state() -> AppState {
    let keymap = Keymap::load(&BTreeMap::new()).unwrap();
    let theme = Theme::builtin("dark").unwrap().with_color_mode(ColorMode::TrueColor);
    AppState::new(keymap, theme, ProviderKind::Anthropic, "m".into())
}

fn entity(id: i64, name: &str, file: &str, line: u32) -> Entity {
    Entity {
        id,
        name: name.into(),
        qualified_name: format!("app.{name}"),
        kind: EntityKind::Function,
        file: file.into(),
        start_line: line,
        end_line: line + 3,
        signature: format!("def {name}(x):"),
        doc: Some("Checks things.".into()),
        complexity: 2,
    }
}

fn screen(s: &mut AppState) -> String {
    let area = Rect::new(0, 0, 160, 30);
    let mut buf = Buffer::empty(area);
    widgets::draw_into(area, &mut buf, s, Instant::now());
    (0..30).map(|y| (0..160).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>() + "\n").collect()
}

#[test]
fn search_as_you_type_details_and_enter_opens_in_code() {
    let (tx, mut rx) = unbounded_channel::<Op>();
    let mut sent = move || std::iter::from_fn(|| rx.try_recv().ok()).collect::<Vec<Op>>();
    let mut s = state();
    let key = |s: &mut AppState, code: KeyCode| {
        input::handle(s, TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)), &tx)
    };
    key(&mut s, KeyCode::F(3));
    assert!(s.graph.open);
    for c in "valid".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    let searches: Vec<(u64, String)> = sent()
        .into_iter()
        .filter_map(|op| match op {
            Op::Graph(GraphOp::Search { seq, query }) => Some((seq, query)),
            _ => None,
        })
        .collect();
    assert_eq!(searches.len(), 5, "one search per keystroke");
    assert_eq!(searches.last().unwrap().1, "valid");
    assert!(s.composer.is_empty(), "typing went to the panel, not the composer");

    let (newest, older) = (searches[4].0, searches[3].0);
    let hits = vec![entity(7, "is_valid_email", "app/utils.py", 12), entity(8, "validate", "app/v.py", 3)];
    update::apply(&mut s, Event::GraphResults { seq: newest, hits, lexical_only: true });
    update::apply(&mut s, Event::GraphResults { seq: older, hits: vec![], lexical_only: true });
    assert_eq!(s.graph.hits.len(), 2, "the older answer is dropped");
    let details_seq = s.outbox.drain(..).chain(sent()).find_map(|op| match op {
        Op::Graph(GraphOp::Details { seq, id: 7 }) => Some(seq),
        _ => None,
    });
    let details = EntityDetails {
        entity: entity(7, "is_valid_email", "app/utils.py", 12),
        callers: vec![(entity(9, "register", "app/services.py", 20), 1.0)],
        callees: vec![],
    };
    update::apply(&mut s, Event::GraphDetails { seq: details_seq.unwrap(), details: Box::new(details) });
    let shown = screen(&mut s);
    assert!(shown.contains("lexical search (no embedding model)"), "{shown}");
    assert!(
        shown.contains("app.is_valid_email  app/utils.py:12") && shown.contains("callers (1)"),
        "{shown}"
    );
    assert!(shown.contains("└─ app.register  app/services.py:20"), "{shown}");

    key(&mut s, KeyCode::Enter);
    assert!(!s.graph.open);
    assert!(sent().iter().any(|op| matches!(op, Op::Graph(GraphOp::Open { id: 7 }))));
    let text: String = (1..=40).map(|i| format!("line {i}\n")).collect();
    update::apply(&mut s, Event::OpenFile { path: "app/utils.py".into(), line: 12, text });
    assert_eq!(s.focus, Focus::Pane(Pane::Code));
    let shown = screen(&mut s);
    assert!(shown.contains("app/utils.py:12") && shown.contains("line 12"), "{shown}");
}
