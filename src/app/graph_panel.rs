//! The Graph panel (F3 or `/graph`): a search box over the knowledge graph with live results,
//! the selected entity's details (signature, doc, callers and callees), and Enter to open it in
//! Code at its line. While it is open it takes the keys (Esc or F3 closes it).
//!
//! Invariants: each keystroke that changes the query sends one search with a new sequence
//! number and answers older than the newest are dropped; requests go through `AppState::outbox`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::code::CodeDoc;
use crate::engine::protocol::Entity;
use crate::engine::protocol::{EntityDetails, GraphOp, Op};

use super::state::{AppState, Focus, Pane};

#[derive(Debug, Default)]
pub struct GraphPanel {
    pub open: bool,
    pub query: String,
    pub hits: Vec<Entity>,
    /// The results are lexical only (no embedding model answered).
    pub lexical_only: bool,
    pub selected: usize,
    pub details: Option<EntityDetails>,
    /// A search has been sent and not answered yet.
    pub searching: bool,
    next_seq: u64,
    search_seq: u64,
    details_seq: u64,
}

impl GraphPanel {
    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }
}

pub fn toggle(state: &mut AppState) {
    state.graph.open = !state.graph.open;
    state.dirty = true;
}

fn search(state: &mut AppState) {
    let seq = state.graph.seq();
    state.graph.search_seq = seq;
    if state.graph.query.trim().is_empty() {
        state.graph.hits.clear();
        state.graph.details = None;
        state.graph.searching = false;
        return;
    }
    state.graph.searching = true;
    state.outbox.push(Op::Graph(GraphOp::Search { seq, query: state.graph.query.clone() }));
}

fn request_details(state: &mut AppState) {
    let Some(id) = state.graph.hits.get(state.graph.selected).map(|e| e.id) else { return };
    let seq = state.graph.seq();
    state.graph.details_seq = seq;
    state.outbox.push(Op::Graph(GraphOp::Details { seq, id }));
}

/// Keys while the panel is open; false when the key is not the panel's (e.g. Ctrl+Q).
pub fn on_key(state: &mut AppState, key: KeyEvent) -> bool {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc | KeyCode::F(3) => state.graph.open = false,
        KeyCode::Char('c') if ctrl => state.graph.open = false,
        _ if ctrl || key.modifiers.contains(KeyModifiers::ALT) => return false,
        KeyCode::Char(c) => {
            state.graph.query.push(c);
            search(state);
        }
        KeyCode::Backspace => {
            state.graph.query.pop();
            search(state);
        }
        KeyCode::Down | KeyCode::Up => {
            let last = state.graph.hits.len().saturating_sub(1);
            let s = &mut state.graph.selected;
            *s = if key.code == KeyCode::Down { (*s + 1).min(last) } else { s.saturating_sub(1) };
            request_details(state);
        }
        KeyCode::Enter => {
            if let Some(id) = state.graph.hits.get(state.graph.selected).map(|e| e.id) {
                state.outbox.push(Op::Graph(GraphOp::Open { id }));
                state.graph.open = false;
            }
        }
        _ => return false,
    }
    state.dirty = true;
    true
}

pub fn on_results(state: &mut AppState, seq: u64, hits: Vec<Entity>, lexical_only: bool) {
    if seq < state.graph.search_seq {
        return;
    }
    state.graph.searching = false;
    state.graph.hits = hits;
    state.graph.lexical_only = lexical_only;
    state.graph.selected = 0;
    state.graph.details = None;
    request_details(state);
}

pub fn on_details(state: &mut AppState, seq: u64, details: EntityDetails) {
    if seq >= state.graph.details_seq {
        state.graph.details = Some(details);
    }
}

/// A file to show in Code at `line` (from the panel's Enter).
pub fn open_file(state: &mut AppState, path: &str, line: usize, text: &str) {
    let lang = crate::text::highlight::lang_from_path(path);
    let title = format!("{path}:{line}");
    state.code.doc = Some(CodeDoc::new(lang.as_deref(), title, text));
    state.code.file = Some(path.to_string());
    state.code.doc_source_len = text.len();
    state.code.selected = None;
    state.code.follow_latest = false;
    state.code.scroll_y = line.saturating_sub(4);
    state.code.scroll_x = 0;
    state.git.open = false;
    state.focus = Focus::Pane(Pane::Code);
    state.tab = Pane::Code;
    state.dirty = true;
}
