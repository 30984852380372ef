//! A pane's search drawn over it (`app::search`): every visible occurrence of the query
//! highlighted, and the query line with the match count on the pane's bottom border.
//!
//! Invariant: highlighting reads the cells already drawn, so it marks exactly what the user
//! sees — wrapped, styled or scrolled — whatever the pane; it changes styles only, never text.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;

use crate::app::search::{Search, status};
use crate::text::theme::Theme;

/// Highlight the query's occurrences in `inner` (the pane's content area).
pub fn highlight(inner: Rect, buf: &mut Buffer, search: &Search, theme: &Theme) {
    let fold = |c: char| if search.ignore_case() { c.to_lowercase().next().unwrap_or(c) } else { c };
    let query: Vec<char> = search.query.chars().map(fold).collect();
    if query.is_empty() {
        return;
    }
    let style = theme.selection;
    for y in inner.top()..inner.bottom() {
        // One char per drawn cell (the continuation cell of a wide character has no symbol).
        let cells: Vec<(u16, char)> = (inner.left()..inner.right())
            .filter_map(|x| buf[(x, y)].symbol().chars().next().map(|c| (x, fold(c))))
            .collect();
        let mut i = 0;
        while i + query.len() <= cells.len() {
            if cells[i..i + query.len()].iter().map(|(_, c)| *c).eq(query.iter().copied()) {
                for (x, _) in &cells[i..i + query.len()] {
                    buf[(*x, y)].set_style(style);
                }
                i += query.len();
            } else {
                i += 1;
            }
        }
    }
}

/// The query line on the bottom row of `rect` (the pane with its border).
pub fn draw_status(rect: Rect, buf: &mut Buffer, search: &Search, theme: &Theme) {
    if rect.height < 3 || rect.width < 6 {
        return;
    }
    let line = Line::styled(status(search), theme.accent);
    buf.set_line(rect.x + 1, rect.bottom() - 1, &line, rect.width - 2);
}
