//! Scrolling the panes by lines, pages or to an end (keys and the mouse wheel, `input.rs`).
//!
//! Invariant: Chat and Output count from the bottom (0 follows the tail); Code and Diff from
//! the top; a page is the pane's last drawn height less its frame.

use super::state::{AppState, Focus, Pane};

pub(super) enum Scroll {
    Lines(isize),
    Pages(isize),
    Top,
    Bottom,
}

pub(super) fn scroll(state: &mut AppState, how: Scroll) {
    let pane = match state.focus {
        Focus::Pane(p) => p,
        Focus::Composer => Pane::Chat,
    };
    scroll_pane(state, pane, how);
}

pub(super) fn scroll_pane(state: &mut AppState, pane: Pane, how: Scroll) {
    let page = state
        .hit
        .panes
        .iter()
        .find(|(p, _)| *p == pane)
        .map_or(10, |(_, r)| r.height.saturating_sub(3).max(1) as isize);
    let delta = match how {
        Scroll::Lines(n) => n,
        Scroll::Pages(n) => n * page,
        Scroll::Top => isize::MIN / 2,
        Scroll::Bottom => isize::MAX / 2,
    };
    // Chat and Output count from the bottom (0 = follow the tail); Code and Diff from the top.
    let from_bottom = |v: &mut usize| *v = v.saturating_add_signed(-delta);
    let from_top = |v: &mut usize| *v = v.saturating_add_signed(delta);
    match pane {
        Pane::Chat => from_bottom(&mut state.chat.scroll_from_bottom),
        Pane::Output => from_bottom(&mut state.output.scroll_from_bottom),
        Pane::Code => from_top(&mut state.code.scroll_y),
        Pane::Diff => from_top(&mut state.diff.scroll_y),
    }
}
