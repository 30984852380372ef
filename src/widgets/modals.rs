//! The confirm dialog drawn over the panes: a title, a wrapped body and two buttons that answer
//! by key or mouse. Returns the buttons' areas for hit-testing.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Borders, Clear, Widget};

use crate::app::modals::ConfirmDialog;

use super::chat::wrap_plain;
use crate::text::theme::Theme;

/// A rectangle of at most `width`×`height` centred in `area`.
/// A dialog's text editor (a summary, plan steps, feedback) in `area`, under a rule.
pub fn render_editor(
    editor: &ratatui_textarea::TextArea<'static>,
    area: Rect,
    buf: &mut Buffer,
    theme: &Theme,
) {
    let mut editor = editor.clone();
    editor.set_block(
        ratatui::widgets::Block::default()
            .borders(ratatui::widgets::Borders::TOP)
            .border_style(theme.border_focused),
    );
    editor.set_cursor_style(theme.selection);
    ratatui::widgets::Widget::render(&editor, area, buf);
}

pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

pub fn render_confirm(
    area: Rect,
    buf: &mut Buffer,
    dialog: &ConfirmDialog,
    theme: &Theme,
) -> Vec<(bool, Rect)> {
    let inner_width = area.width.saturating_sub(4).clamp(1, 70);
    let body = wrap_plain(&dialog.body, inner_width, theme.base);
    let height = (body.len() as u16).saturating_add(4);
    let rect = centered(area, inner_width + 2, height);
    if rect.width < 3 || rect.height < 3 {
        return Vec::new();
    }
    Clear.render(rect, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.modal_border)
        .title(Line::styled(format!(" {} ", dialog.title), theme.modal_title))
        .style(theme.base);
    let inner = block.inner(rect);
    block.render(rect, buf);
    let body_rows = inner.height.saturating_sub(1);
    for (i, line) in body.iter().take(body_rows as usize).enumerate() {
        buf.set_line(inner.x, inner.y + i as u16, line, inner.width);
    }
    let row = inner.y + inner.height.saturating_sub(1);
    let yes = format!(" {} ", dialog.yes_label);
    let no = format!(" {} ", dialog.no_label);
    let selected = theme.popup_selected.add_modifier(Modifier::BOLD);
    let (yes_style, no_style) =
        if dialog.yes_selected { (selected, theme.popup) } else { (theme.popup, selected) };
    let yes_w = yes.chars().count() as u16;
    let no_w = no.chars().count() as u16;
    let start = inner.x + inner.width.saturating_sub(yes_w + no_w + 2) / 2;
    buf.set_stringn(start, row, &yes, inner.width as usize, yes_style);
    let no_x = (start + yes_w + 2).min(inner.x + inner.width.saturating_sub(1));
    buf.set_stringn(no_x, row, &no, (inner.x + inner.width).saturating_sub(no_x) as usize, no_style);
    vec![
        (true, Rect { x: start, y: row, width: yes_w.min(inner.width), height: 1 }),
        (
            false,
            Rect {
                x: no_x,
                y: row,
                width: no_w.min((inner.x + inner.width).saturating_sub(no_x)),
                height: 1,
            },
        ),
    ]
}
