//! Where the Chat pane's view goes when its content or size changes: scrolled up, it stays put
//! while a reply streams or entries arrive below (the offset from the bottom grows by the lines
//! added, and the caption says "↓ new output"), and on a new width the entry line at the top
//! stays at the top; entries put in a gap below the view's top push the offset by their lines;
//! a search match is brought into view (`reveal`). State in
//! `app::chat::ChatView`, filled while drawing.
//!
//! Invariants: following the tail (offset 0) is never disturbed; only the entries below the
//! view, or the one at its top, are laid out for this.

use ratatui::layout::Rect;

use super::chat::refresh;
use crate::app::chat::ChatState;
use crate::text::theme::Theme;

/// Height of entry `index` in the column (its lines, the blank after it, and the "trimmed" marker
/// drawn above it).
fn item_height(
    state: &mut ChatState,
    index: usize,
    width: u16,
    marker_before: Option<usize>,
    theme: &Theme,
) -> usize {
    let markers =
        2 * (usize::from(marker_before == Some(index)) + usize::from(state.paging.gap_at == Some(index)));
    refresh(&mut state.entries[index], width, theme) + 1 + markers
}

/// Lines below entry `index` (the entries after it).
fn lines_below(
    state: &mut ChatState,
    index: usize,
    width: u16,
    marker_before: Option<usize>,
    theme: &Theme,
) -> usize {
    (index + 1..state.entries.len()).map(|i| item_height(state, i, width, marker_before, theme)).sum()
}

/// Before drawing: keep a scrolled-up view where it was (see the module docs).
pub(super) fn keep_view(state: &mut ChatState, area: Rect, marker_before: Option<usize>, theme: &Theme) {
    let width = area.width;
    let len = state.entries.len();
    let view = state.view;
    if state.scroll_from_bottom == 0 {
        state.view.new_below = false;
        state.inserted = None;
        return;
    }
    // Entries put in below the view's top (a gap filled from above): the lines above stay.
    if let Some((at, n, true)) = state.inserted.take() {
        let added: usize =
            (at..(at + n).min(len)).map(|i| item_height(state, i, width, marker_before, theme)).sum();
        state.scroll_from_bottom += added;
    }
    if view.width == width {
        let (count, last_height) = view.tail;
        if count == 0 || count > len {
            return;
        }
        let added: usize = (count..len).map(|i| item_height(state, i, width, marker_before, theme)).sum();
        let grown = (refresh(&mut state.entries[count - 1], width, theme) + 1).saturating_sub(last_height);
        if added + grown > 0 {
            state.scroll_from_bottom += added + grown;
            state.view.new_below = true;
        }
        return;
    }
    // A new width: the same entry, at the same share of its lines, at the top.
    let Some((entry, local, old_height)) = view.top.filter(|(entry, ..)| *entry < len) else { return };
    let below = lines_below(state, entry, width, marker_before, theme);
    let height = refresh(&mut state.entries[entry], width, theme) + 1;
    let local = (local * height / old_height.max(1)).min(height.saturating_sub(1));
    state.scroll_from_bottom = (below + height - local).saturating_sub(area.height as usize).max(1);
}

/// After drawing: what the next frame compares with.
pub(super) fn mark_tail(state: &mut ChatState, width: u16, theme: &Theme) {
    let len = state.entries.len();
    let last = match state.entries.last_mut() {
        Some(entry) => refresh(entry, width, theme) + 1,
        None => 0,
    };
    state.view.tail = (len, last);
    state.view.width = width;
    if state.scroll_from_bottom == 0 {
        state.view.new_below = false;
    }
}

/// Scroll so that the line of entry `target` holding `query` at `byte` sits a third of the way
/// down the viewport (`app::search`). Lays out the entries from `target` to the newest.
pub(super) fn reveal(
    state: &mut ChatState,
    target: usize,
    byte: usize,
    query: &str,
    area: Rect,
    marker_before: Option<usize>,
    theme: &Theme,
) {
    if target >= state.entries.len() {
        return;
    }
    let below = lines_below(state, target, area.width, marker_before, theme);
    let height = refresh(&mut state.entries[target], area.width, theme) + 1;
    let cache = &state.entries[target].cache;
    // The line: in the block holding `byte`, the first whose text has the query.
    let needle = query.to_lowercase();
    let mut local = 1;
    for (start, end, lines, _) in &cache.blocks {
        if byte >= *end && *end > *start {
            local += lines.len();
            continue;
        }
        let within = lines.iter().position(|l| l.to_string().to_lowercase().contains(&needle)).unwrap_or(0);
        local += within;
        break;
    }
    let from_bottom = below + height.saturating_sub(local + 1);
    let h = area.height as usize;
    state.scroll_from_bottom = from_bottom.saturating_sub(h - h / 3);
}
