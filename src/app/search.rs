//! Search in a pane: `/` in a focused pane (Chat, Code, Output) or Ctrl+F anywhere (Chat from the
//! composer) opens a query line; each key updates the matches and shows the nearest one; Enter
//! keeps the search, Esc drops it; then `n`/`N` go to the next/previous match and Esc clears.
//! Matches are found in the pane's content — every chat entry's whole text (collapsed Thinking
//! blocks included: a match there opens them), the Code document's lines, the Output log — not
//! in what happens to be drawn, so a match scrolled far out of view is found.
//! Case-insensitive unless the query has a capital letter (smart case). In a resumed session,
//! Chat search reaches messages not loaded yet: the engine finds the newest older match and
//! sends its page (`app::paging`).
//!
//! Invariants: a search belongs to one pane; its matches are recomputed on every move, so
//! content that changed since never leaves a stale position; moving to a match
//! only scrolls — Chat through `ChatState::reveal`, resolved by the widget, which knows the
//! layout; nothing else in the pane changes.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::chat::{ChatEntry, EntryKind};
use super::state::{AppState, Focus, Pane};

/// One place the query occurs: a chat entry or a line, and the byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub item: usize,
    pub byte: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub pane: Pane,
    pub query: String,
    /// The query line has the keys.
    pub editing: bool,
    /// Index of the match shown among `matches(...)`, and how many there were.
    pub current: Option<usize>,
    pub count: usize,
}

impl Search {
    /// Whether `text` matches case-insensitively (the query has no capital letter).
    pub fn ignore_case(&self) -> bool {
        !self.query.chars().any(char::is_uppercase)
    }
}

/// Which panes can be searched.
pub fn searchable(pane: Pane) -> bool {
    matches!(pane, Pane::Chat | Pane::Code | Pane::Output)
}

/// Open the query line for `pane`.
pub fn start(state: &mut AppState, pane: Pane) {
    if !searchable(pane) {
        state.status.flash =
            Some(("Search works in Chat, Code and Output".into(), crate::engine::protocol::LogLevel::Info));
        return;
    }
    state.focus = Focus::Pane(pane);
    state.search = Some(Search { pane, query: String::new(), editing: true, current: None, count: 0 });
}

/// The search's keys; returns whether the key was taken. While the query line is open it takes
/// every key; afterwards `n`, `N` and Esc in the searched pane.
pub fn on_key(state: &mut AppState, key: KeyEvent) -> bool {
    let Some(search) = state.search.as_mut() else { return false };
    if search.editing {
        match key.code {
            KeyCode::Esc => state.search = None,
            KeyCode::Enter => {
                search.editing = false;
                if search.query.is_empty() {
                    state.search = None;
                }
            }
            KeyCode::Backspace => {
                search.query.pop();
                go(state, Step::Nearest);
            }
            KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                search.query.push(c);
                go(state, Step::Nearest);
            }
            _ => {}
        }
        state.dirty = true;
        return true;
    }
    if state.focus != Focus::Pane(search.pane) || !key.modifiers.difference(KeyModifiers::SHIFT).is_empty() {
        return false;
    }
    match key.code {
        KeyCode::Char('n') => go(state, Step::Next),
        KeyCode::Char('N') => go(state, Step::Previous),
        KeyCode::Esc => state.search = None,
        _ => return false,
    }
    state.dirty = true;
    true
}

#[derive(Clone, Copy, PartialEq)]
enum Step {
    /// The match nearest the view (typing the query).
    Nearest,
    Next,
    Previous,
}

/// Every match of the search in its pane, in reading order.
pub fn matches(state: &AppState, search: &Search) -> Vec<Hit> {
    scan_items(state, search, search.pane)
}

/// The matches of a Chat search in `entries` (items numbered from 0).
pub fn matches_in(entries: &[ChatEntry], search: &Search) -> Vec<Hit> {
    let mut out = Vec::new();
    scan_with(search, &mut out, |scan| entries.iter().enumerate().for_each(|(i, e)| scan(i, &e.text)));
    out
}

fn scan_items(state: &AppState, search: &Search, pane: Pane) -> Vec<Hit> {
    let mut out = Vec::new();
    scan_with(search, &mut out, |scan| match pane {
        Pane::Chat => state.chat.entries.iter().enumerate().for_each(|(i, e)| scan(i, &e.text)),
        Pane::Code => {
            if let Some(doc) = &state.code.doc {
                doc.lines.iter().enumerate().for_each(|(i, l)| scan(i, l));
            }
        }
        Pane::Output => state.output.lines.iter().enumerate().for_each(|(i, l)| scan(i, &l.text)),
        Pane::Diff => {}
    });
    out
}

/// Calls `items` with a scanner that adds each item's matches to `out`.
fn scan_with(search: &Search, out: &mut Vec<Hit>, items: impl FnOnce(&mut dyn FnMut(usize, &str))) {
    if search.query.is_empty() {
        return;
    }
    let ignore_case = search.ignore_case();
    let query = if ignore_case { search.query.to_lowercase() } else { search.query.clone() };
    let mut scan = |item: usize, text: &str| {
        let hay = if ignore_case { text.to_lowercase() } else { text.to_string() };
        if hay.len() != text.len() {
            // Lower-casing changed byte lengths (rare scripts): offsets point at the item's start.
            if hay.contains(&query) {
                out.push(Hit { item, byte: 0 });
            }
            return;
        }
        out.extend(hay.match_indices(&query).map(|(byte, _)| Hit { item, byte }));
    };
    items(&mut scan);
}

/// Move to a match and scroll the pane to it. In Chat, no match among the loaded entries, or
/// `N` past the oldest, asks the engine for an older one first (`app::paging`).
fn go(state: &mut AppState, step: Step) {
    let Some(search) = state.search.clone() else { return };
    let hits = matches(state, &search);
    let count = hits.len();
    let past_oldest = count == 0 || (step == Step::Previous && search.current == Some(0));
    if search.pane == Pane::Chat
        && past_oldest
        && super::paging_search::search_older(
            state,
            &search.query,
            search.ignore_case(),
            step == Step::Previous,
        )
    {
        if let Some(s) = state.search.as_mut() {
            s.count = count;
        }
        return;
    }
    let current = if count == 0 {
        None
    } else {
        Some(match (step, search.current) {
            (Step::Next, Some(i)) => (i + 1) % count,
            (Step::Previous, Some(i)) => (i + count - 1) % count,
            _ => nearest(state, search.pane, &hits),
        })
    };
    show(state, hits, current);
}

/// Make match `current` of `hits` the one shown (`None`: none) and scroll the pane to it.
pub(super) fn show(state: &mut AppState, hits: Vec<Hit>, current: Option<usize>) {
    let Some(search) = state.search.clone() else { return };
    if let Some(s) = state.search.as_mut() {
        s.count = hits.len();
        s.current = current;
    }
    let Some(hit) = current.and_then(|i| hits.get(i).copied()) else { return };
    match search.pane {
        Pane::Chat => {
            if let Some(entry) = state.chat.entries.get_mut(hit.item)
                && entry.kind == (EntryKind::Thinking { collapsed: true })
            {
                entry.kind = EntryKind::Thinking { collapsed: false };
                entry.cache = Default::default();
            }
            state.chat.reveal = Some((hit.item, hit.byte, search.query.clone()));
        }
        Pane::Code => state.code.scroll_y = hit.item.saturating_sub(3),
        Pane::Output => {
            let below = state.output.lines.len().saturating_sub(hit.item + 1);
            state.output.scroll_from_bottom = below.saturating_sub(3);
        }
        Pane::Diff => {}
    }
}

/// The first match at or after the view's top (Code), or the newest match (Chat, Output: their
/// view follows the tail, so the nearest is the last).
fn nearest(state: &AppState, pane: Pane, hits: &[Hit]) -> usize {
    match pane {
        Pane::Code => hits.iter().position(|h| h.item >= state.code.scroll_y).unwrap_or(0),
        _ => hits.len() - 1,
    }
}

/// The status line of a search: the query and where the match shown stands.
pub fn status(search: &Search) -> String {
    let place = match (search.current, search.count) {
        (_, 0) if search.query.is_empty() => String::new(),
        (_, 0) => "  no match".to_string(),
        (Some(i), n) => format!("  {} of {n}", i + 1),
        (None, n) => format!("  {n} matches"),
    };
    let keys = if search.editing { "Enter keep · Esc drop" } else { "n/N next/previous · Esc clear" };
    format!(" /{}{place}  ({keys}) ", search.query)
}
