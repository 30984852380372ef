//! The model's task list, pinned at the top of the Chat pane above the conversation: a title
//! line with the count done, then the items (☐ pending, ▶ in progress, ☑ done), then a rule.
//!
//! Invariants: it takes at most [`MAX_ROWS`] rows and never more than a third of the pane, so the
//! conversation keeps most of the room; when the items do not fit, the window shows the step in
//! progress (or the first not done) and says how many are above and below.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use crate::engine::protocol::{TodoItem, TodoStatus};
use crate::text::theme::Theme;

/// Most rows the list takes, its title and rule included.
pub const MAX_ROWS: usize = 9;

/// Rows the list takes in a pane `height` rows high (0: not drawn).
pub fn todo_height(items: &[TodoItem], height: u16) -> u16 {
    if items.is_empty() || height < 9 {
        return 0;
    }
    (items.len() + 2).min(MAX_ROWS).min(height as usize / 3) as u16
}

/// Draws the list into `area` (as high as [`todo_height`] said).
pub fn render_todo(area: Rect, buf: &mut Buffer, items: &[TodoItem], theme: &Theme) {
    if area.height < 3 || area.width == 0 {
        return;
    }
    let done = items.iter().filter(|i| i.status == TodoStatus::Done).count();
    let title = Line::from(vec![
        Span::styled("Tasks ", theme.accent.add_modifier(Modifier::BOLD)),
        Span::styled(format!("{done}/{} done", items.len()), theme.dim),
    ]);
    buf.set_line(area.x, area.y, &title, area.width);
    let rows = area.height as usize - 2;
    let (start, end) = window(items, rows);
    let mut lines = Vec::new();
    if start > 0 {
        lines.push(Line::styled(format!("  … {start} above"), theme.dim));
    }
    let shown_rows = rows - usize::from(start > 0) - usize::from(end < items.len());
    for item in &items[start..start + shown_rows.min(end - start)] {
        let style = match item.status {
            TodoStatus::Done => theme.dim.add_modifier(Modifier::CROSSED_OUT),
            TodoStatus::InProgress => theme.base.add_modifier(Modifier::BOLD),
            TodoStatus::Pending => theme.base,
        };
        let mark = match item.status {
            TodoStatus::InProgress => theme.accent,
            _ => theme.dim,
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", item.status.mark()), mark),
            Span::styled(item.text.clone(), style),
        ]));
    }
    if end < items.len() {
        lines.push(Line::styled(format!("  … {} more", items.len() - end), theme.dim));
    }
    for (i, line) in lines.iter().enumerate() {
        buf.set_line(area.x, area.y + 1 + i as u16, line, area.width);
    }
    let rule = "─".repeat(area.width as usize);
    buf.set_line(area.x, area.y + area.height - 1, &Line::styled(rule, theme.dim), area.width);
}

/// The items shown in `rows` rows: `start..end`, where a row goes to "… above" when
/// `start > 0` and one to "… more" when `end < len`.
fn window(items: &[TodoItem], rows: usize) -> (usize, usize) {
    if items.len() <= rows {
        return (0, items.len());
    }
    let focus = items
        .iter()
        .position(|i| i.status == TodoStatus::InProgress)
        .or_else(|| items.iter().position(|i| i.status != TodoStatus::Done))
        .unwrap_or(items.len() - 1);
    // Two rows go to the markers at most; keep one item of context above the focus.
    let room = rows.saturating_sub(2).max(1);
    let start = focus.saturating_sub(1).min(items.len() - room);
    let start = if start == 1 { 0 } else { start };
    let room = rows - usize::from(start > 0);
    let end = if start + room >= items.len() { items.len() } else { start + room - 1 };
    (start, end.max(start + 1).min(items.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(statuses: &[TodoStatus]) -> Vec<TodoItem> {
        statuses.iter().enumerate().map(|(i, s)| TodoItem::new(format!("step {i}"), *s)).collect()
    }

    #[test]
    fn a_long_list_keeps_the_step_in_progress_in_view() {
        use TodoStatus::*;
        let mut statuses = vec![Done; 12];
        statuses.extend([InProgress, Pending, Pending, Pending, Pending, Pending, Pending, Pending]);
        let items = list(&statuses);
        let (start, end) = window(&items, 7);
        assert!(start <= 12 && 12 < end, "{start}..{end}");
        let rows = usize::from(start > 0) + (end - start) + usize::from(end < items.len());
        assert!(rows <= 7, "{rows} rows for {start}..{end}");
        assert_eq!(window(&items[..5], 7), (0, 5));
    }
}
