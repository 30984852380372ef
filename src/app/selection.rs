//! Selecting text inside one pane (Chat, Code, Diff, Output) and turning it into the text to
//! copy: a mouse drag (copied on release), or `v` then `j`/`k`/pages and `y` (whole lines).
//!
//! A selection lives in the pane's content coordinates, not screen cells: a [`Point`] is a line
//! key — Chat: `(entry, line of that entry)`, the blank line after an entry being its line
//! `height`; Code, Diff, Output: `(0, line index)` — and a display column of that line's text
//! (after the gutter, counting Code's horizontal scroll). So scrolling while selecting keeps the
//! selection on the same text. Each frame the widgets say what every row of a pane shows
//! ([`PaneRows`] in `HitAreas::rows`); the mouse and the keys are mapped through that.
//!
//! What is copied (`text::lines` for Chat's drawn lines): no borders, no line-number gutter, no
//! code gutter or quote bars, a wrapped line as one line, a cut code line whole. Diff copies the
//! code text of its rows — no numbers, no `+`/`-` markers, no hunk headers. Output copies its
//! lines as shown (a log line with its time). Points that no longer exist (the chat was
//! replaced) copy nothing and never panic.

use ratatui::layout::Rect;

use super::diff::DiffKind;
use super::output::LineSource;
use super::scroll::{Scroll, scroll_pane};
use super::state::{AppState, Focus, Pane};
use crate::engine::protocol::LogLevel;
use crate::text::lines::{self, Copier, Join};

/// A line of a pane's content (see the module doc).
pub type LineKey = (usize, usize);

/// A column of a line of content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Point {
    pub line: LineKey,
    pub col: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The left button is down.
    Dragging,
    /// Dragged and released (copied); stays drawn until a click, Esc or `y`.
    Mouse,
    /// Started with `v`: whole lines, the cursor moved by the scroll keys.
    Keys,
}

#[derive(Debug, Clone)]
pub struct Selection {
    pub pane: Pane,
    pub anchor: Point,
    pub cursor: Point,
    pub mode: Mode,
    /// The row the keyboard cursor moves to once the pane has scrolled and been drawn again.
    pub pending_row: Option<usize>,
    /// Which content the points index ([`content_id`]); other content drops the selection.
    content: u64,
}

impl Selection {
    fn new(state: &AppState, pane: Pane, at: Point, mode: Mode) -> Self {
        Self { pane, anchor: at, cursor: at, mode, pending_row: None, content: content_id(state, pane) }
    }

    /// First and last point, in order (whole lines in keyboard mode).
    pub fn bounds(&self) -> (Point, Point) {
        let (a, b) =
            if self.anchor <= self.cursor { (self.anchor, self.cursor) } else { (self.cursor, self.anchor) };
        match self.mode {
            Mode::Keys => (Point { col: 0, ..a }, Point { col: usize::MAX, ..b }),
            _ => (a, b),
        }
    }

    /// The columns `[from, to)` selected on line `key`, if any.
    pub fn columns(&self, key: LineKey) -> Option<(usize, usize)> {
        let (start, end) = self.bounds();
        if key < start.line || key > end.line {
            return None;
        }
        let from = if key == start.line { start.col } else { 0 };
        let to = if key == end.line { end.col.saturating_add(1) } else { usize::MAX };
        Some((from, to))
    }
}

/// What each row of a pane showed in the last frame.
#[derive(Debug, Clone, Default)]
pub struct PaneRows {
    /// Where the text is drawn (after any gutter); row `i` of `lines` is `text.y + i`.
    pub text: Rect,
    /// Columns of the text scrolled off to the left.
    pub col_offset: usize,
    pub lines: Vec<Option<LineKey>>,
}

impl PaneRows {
    /// The point under screen cell `(x, y)`, snapped to the nearest row with content.
    pub fn point_at(&self, x: u16, y: u16) -> Option<Point> {
        let last = self.lines.len().checked_sub(1)?;
        let row = usize::from(y.saturating_sub(self.text.y)).min(last);
        let col = usize::from(x.saturating_sub(self.text.x)) + self.col_offset;
        if let Some(line) = self.lines[row] {
            return Some(Point { line, col });
        }
        if let Some(line) = self.lines[..row].iter().rev().find_map(|k| *k) {
            return Some(Point { line, col: usize::MAX - 1 });
        }
        self.lines[row..].iter().find_map(|k| *k).map(|line| Point { line, col: 0 })
    }
}

/// Identifies what a pane shows, so a selection never indexes content that replaced its own:
/// Chat's session, the document in Code, the diff, Output's lines dropped from the top.
fn content_id(state: &AppState, pane: Pane) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    match pane {
        Pane::Chat => state.status.session_id.hash(&mut hasher),
        Pane::Code => state.code.doc.as_ref().map(|d| d.lines.as_ptr() as usize).hash(&mut hasher),
        Pane::Diff => {
            state.diff.model.as_ref().map(|m| (m.lines.as_ptr() as usize, m.lines.len())).hash(&mut hasher)
        }
        Pane::Output => state.output.dropped.hash(&mut hasher),
    }
    hasher.finish()
}

fn rows_of(state: &AppState, pane: Pane) -> Option<&PaneRows> {
    state.hit.rows.iter().find(|(p, _)| *p == pane).map(|(_, r)| r)
}

/// The left button went down on `pane` at `(x, y)`: a new selection may start there.
pub fn mouse_down(state: &mut AppState, pane: Pane, x: u16, y: u16) {
    state.selection = rows_of(state, pane)
        .and_then(|rows| rows.point_at(x, y))
        .map(|at| Selection::new(state, pane, at, Mode::Dragging));
}

/// The mouse moved with the button down: the selection follows it; past the pane's top or
/// bottom edge the pane scrolls a line.
pub fn mouse_drag(state: &mut AppState, x: u16, y: u16) {
    let Some(pane) = state.selection.as_ref().filter(|s| s.mode == Mode::Dragging).map(|s| s.pane) else {
        return;
    };
    let Some(rows) = rows_of(state, pane) else { return };
    let text = rows.text;
    let point = rows.point_at(x, y);
    if y < text.y {
        scroll_pane(state, pane, Scroll::Lines(-1));
    } else if y >= text.bottom() {
        scroll_pane(state, pane, Scroll::Lines(1));
    }
    if let (Some(selection), Some(point)) = (state.selection.as_mut(), point) {
        selection.cursor = point;
    }
}

/// The button was released: a drag is copied; a click selects nothing.
pub fn mouse_up(state: &mut AppState) {
    let Some(selection) = state.selection.as_mut().filter(|s| s.mode == Mode::Dragging) else { return };
    if selection.anchor == selection.cursor {
        state.selection = None;
        return;
    }
    selection.mode = Mode::Mouse;
    let text = selected_text(state);
    copy(state, text);
}

/// `v`: start (or drop) a line selection in the focused pane, at its newest visible line (Chat,
/// Output) or its top line (Code, Diff).
pub fn start_keys(state: &mut AppState) {
    let Focus::Pane(pane) = state.focus else { return };
    if state.selection.as_ref().is_some_and(|s| s.pane == pane && s.mode == Mode::Keys) {
        state.selection = None;
        return;
    }
    // Chat's blank lines between entries are not where a selection starts.
    let separator = |key: &LineKey| {
        pane == Pane::Chat && state.chat.entries.get(key.0).is_some_and(|e| e.cache.height == key.1)
    };
    let keys = rows_of(state, pane)
        .map(|r| r.lines.iter().flatten().copied().filter(|k| !separator(k)).collect::<Vec<_>>());
    let at = keys.and_then(|k| {
        if matches!(pane, Pane::Chat | Pane::Output) { k.last().copied() } else { k.first().copied() }
    });
    match at {
        Some(line) => {
            state.selection = Some(Selection::new(state, pane, Point { line, col: 0 }, Mode::Keys));
            state.status.flash =
                Some(("selecting lines: j/k or pages extend, y copies, Esc cancels".into(), LogLevel::Info));
        }
        None => state.status.flash = Some(("nothing to select here".into(), LogLevel::Warn)),
    }
}

/// Whether Esc drops the selection (first, before its other meanings — except that from the
/// composer it still stops a streaming reply).
pub fn esc_drops(state: &AppState) -> bool {
    state.selection.is_some() && (!state.busy() || state.focus != Focus::Composer)
}

/// A scroll key: it extends a line selection of the focused pane, or scrolls.
pub(super) fn scroll_or_extend(state: &mut AppState, how: Scroll) {
    if !move_keys(state, &how) {
        super::scroll::scroll(state, how);
    }
}

/// With a line selection in the focused pane, a scroll key moves its cursor by lines or pages
/// (scrolling the pane when it leaves the view). False when there is none (or for Top/Bottom).
fn move_keys(state: &mut AppState, how: &Scroll) -> bool {
    let Some(pane) = state
        .selection
        .as_ref()
        .filter(|s| s.mode == Mode::Keys && state.focus == Focus::Pane(s.pane))
        .map(|s| s.pane)
    else {
        return false;
    };
    let visible: Vec<(usize, LineKey)> = rows_of(state, pane)
        .map(|r| r.lines.iter().enumerate().filter_map(|(i, k)| k.map(|k| (i, k))).collect())
        .unwrap_or_default();
    let delta = match how {
        Scroll::Lines(n) => *n,
        Scroll::Pages(n) => n * visible.len().max(1) as isize,
        Scroll::Top | Scroll::Bottom => return false,
    };
    let Some(selection) = state.selection.as_mut() else { return false };
    let Some(last) = visible.len().checked_sub(1) else { return true };
    let Some(current) = visible.iter().position(|(_, k)| *k == selection.cursor.line) else {
        // Scrolled away: the cursor comes back to the edge it left by.
        let edge = if delta < 0 { last } else { 0 };
        selection.cursor.line = visible[edge].1;
        return true;
    };
    let target = current as isize + delta;
    let clamped = target.clamp(0, last as isize) as usize;
    selection.cursor.line = visible[clamped].1;
    if target != clamped as isize {
        selection.pending_row = Some(visible[clamped].0);
        scroll_pane(state, pane, Scroll::Lines(target - clamped as isize));
    }
    true
}

/// After a frame: a selection whose pane shows other content now is dropped; a keyboard cursor
/// waiting for the pane to scroll takes the line now at its row.
pub fn after_draw(state: &mut AppState) {
    let Some(selection) = state.selection.as_ref() else { return };
    if selection.content != content_id(state, selection.pane) {
        state.selection = None;
        return;
    }
    let Some(row) = selection.pending_row else { return };
    let key = rows_of(state, selection.pane).and_then(|r| r.lines.get(row).copied().flatten());
    if let Some(selection) = state.selection.as_mut() {
        selection.pending_row = None;
        if let Some(key) = key {
            selection.cursor.line = key;
        }
    }
}

/// `y`: copy the selection of the focused pane and end it; with none, in Code, the whole block
/// or file shown there.
pub fn yank(state: &mut AppState) {
    let focused = |s: &Selection| state.focus == Focus::Pane(s.pane);
    if state.selection.as_ref().is_some_and(focused) {
        let text = selected_text(state);
        state.selection = None;
        return copy(state, text);
    }
    if state.focus == Focus::Pane(Pane::Code) && !state.git.open {
        let block = state.code.selected.and_then(|i| state.code.blocks.get(i));
        let text = match (&state.code.file, block, &state.code.doc) {
            (None, Some(block), _) => Some(block.block.code.clone()),
            (_, _, Some(doc)) => {
                Some((0..doc.line_count()).filter_map(|i| doc.line(i)).collect::<Vec<_>>().join("\n"))
            }
            _ => None,
        };
        if let Some(text) = text {
            return copy(state, text);
        }
    }
    state.status.flash =
        Some(("nothing selected: drag with the mouse, or v then j/k, then y".into(), LogLevel::Warn));
}

/// Put `text` on the clipboard (the event loop writes it, `app::clipboard`) and say so.
pub fn copy(state: &mut AppState, text: String) {
    let text = super::clipboard::sanitize(&text);
    if text.is_empty() {
        state.status.flash = Some(("nothing to copy there".into(), LogLevel::Warn));
        return;
    }
    let n = lines::count_lines(&text);
    let mut message = format!("copied {n} line{}", if n == 1 { "" } else { "s" });
    if text.len() > super::clipboard::MAX_OSC52_BYTES {
        message.push_str(&format!(
            " (the terminal gets the first {} kB)",
            super::clipboard::MAX_OSC52_BYTES / 1000
        ));
    }
    state.status.flash = Some((message, LogLevel::Info));
    state.copied = Some(text);
}

/// The text the current selection covers.
pub fn selected_text(state: &AppState) -> String {
    let Some(selection) = state.selection.as_ref() else { return String::new() };
    let (start, end) = selection.bounds();
    let keys = (start.line.1..=end.line.1).map(|i| (0, i));
    let mut copier = Copier::default();
    let mut push_raw = |key: LineKey, text: &str| {
        if let Some((from, to)) = selection.columns(key) {
            copier.push(&lines::slice_columns(text, from, to), Join::New);
        }
    };
    match selection.pane {
        Pane::Chat => return chat_text(state, selection),
        Pane::Code => {
            let Some(doc) = state.code.doc.as_ref() else { return String::new() };
            for key in keys {
                let Some(text) = doc.line(key.1) else { break };
                push_raw(key, text);
            }
        }
        Pane::Diff => {
            let Some(model) = state.diff.model.as_ref() else { return String::new() };
            for key in keys {
                let Some(row) = model.lines.get(key.1) else { break };
                if row.kind != DiffKind::HunkHeader {
                    push_raw(key, &row.text);
                }
            }
        }
        Pane::Output => {
            for key in keys {
                let Some(line) = state.output.lines.get(key.1) else { break };
                match line.source {
                    LineSource::Log => push_raw(key, &format!("{} {}", line.time, line.text)),
                    LineSource::Stdout | LineSource::Stderr => push_raw(key, &line.text),
                }
            }
        }
    }
    copier.finish()
}

/// Chat: each entry's drawn lines through their copy rules; the blank line between two entries
/// copies as an empty line.
fn chat_text(state: &AppState, selection: &Selection) -> String {
    let (start, end) = selection.bounds();
    let mut copier = Copier::default();
    for index in start.line.0..=end.line.0 {
        let Some(entry) = state.chat.entries.get(index) else { break };
        let cache = &entry.cache;
        let first = if index == start.line.0 { start.line.1 } else { 0 };
        let last = if index == end.line.0 { end.line.1.min(cache.height) } else { cache.height };
        for line in first..=last {
            let Some((from, to)) = selection.columns((index, line)) else { continue };
            if line == cache.height {
                if index != end.line.0 {
                    copier.push("", Join::New);
                }
                continue;
            }
            let Some((drawn, meta)) = cache.line_meta(line) else { continue };
            copier.push(&lines::piece(drawn, &meta, from, to), meta.join);
        }
    }
    copier.finish()
}

#[cfg(test)]
mod tests;
