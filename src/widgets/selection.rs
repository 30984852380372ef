//! Draws a pane's selection (`app::selection`) over what the pane drew: the selected cells of
//! each row reversed, mapped from content columns to screen columns through the rows the pane
//! reported (`PaneRows`). Rows scrolled out of view draw nothing; nothing outside the pane's
//! text area is touched.

use ratatui::buffer::Buffer;
use ratatui::style::Modifier;

use crate::app::selection::{PaneRows, Selection};

pub fn render_selection(buf: &mut Buffer, rows: &PaneRows, selection: &Selection) {
    let text = rows.text.intersection(*buf.area());
    for (i, key) in rows.lines.iter().enumerate() {
        let Some((from, to)) = key.and_then(|key| selection.columns(key)) else { continue };
        let Some(y) = u16::try_from(i).ok().map(|i| rows.text.y.saturating_add(i)) else { break };
        if y < text.y || y >= text.bottom() {
            continue;
        }
        let screen = |col: usize| {
            let col = col.saturating_sub(rows.col_offset).min(usize::from(u16::MAX));
            (usize::from(rows.text.x) + col).min(usize::from(text.right())) as u16
        };
        for x in screen(from).max(text.x)..screen(to) {
            if let Some(cell) = buf.cell_mut((x, y)) {
                cell.modifier.insert(Modifier::REVERSED);
            }
        }
    }
}
