//! The compaction dialog drawn over the panes: what the summary replaces and saves, how long
//! before it is accepted on its own, and the summary itself (scrollable), or the editor after
//! `e`. The state is `app::compaction`.

use std::time::Instant;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Borders, Clear, Widget};

use super::chat::wrap_plain;
use super::modals::centered;
use crate::app::compaction::CompactionView;
use crate::text::theme::Theme;

pub fn render_compaction(area: Rect, buf: &mut Buffer, view: &CompactionView, theme: &Theme, now: Instant) {
    let rect = centered(area, 100, 30);
    if rect.width < 24 || rect.height < 8 {
        return;
    }
    Clear.render(rect, buf);
    let p = &view.proposal;
    let why = if p.manual { "/compact" } else { "the context window is filling" };
    let title = format!(" Compact the conversation? ({why}) ");
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.modal_border)
        .title(Line::styled(title, theme.modal_title))
        .style(theme.base);
    let inner = block.inner(rect);
    block.render(rect, buf);
    let mut head = vec![Line::styled(
        format!(
            "This summary replaces the first {} messages in every request: about {} → {} tokens of {}.",
            p.through, p.tokens_before, p.tokens_after, p.window
        ),
        theme.dim,
    )];
    if let Some(s) = view.seconds_left(now) {
        head.push(Line::styled(format!("Accepted as written in {s} s unless you answer."), theme.dim));
    }
    head.push(Line::styled(
        match view.editor {
            Some(_) => "Ctrl+S accepts your edit · Esc back",
            None => {
                "y/Enter accept · e edit · n/Esc decline (the oldest messages are then left out) · ↑↓ scroll"
            }
        },
        theme.accent,
    ));
    let mut head_rows = 0;
    for line in head.iter().flat_map(|l| wrap_plain(&l.to_string(), inner.width, l.style)) {
        if head_rows >= inner.height {
            return;
        }
        buf.set_line(inner.x, inner.y + head_rows, &line, inner.width);
        head_rows += 1;
    }
    let body = Rect {
        x: inner.x,
        y: inner.y + head_rows + 1,
        width: inner.width,
        height: inner.height.saturating_sub(head_rows + 1),
    };
    if body.height == 0 {
        return;
    }
    if let Some(editor) = &view.editor {
        return super::modals::render_editor(editor, body, buf, theme);
    }
    let lines = wrap_plain(&p.summary, body.width, theme.base);
    let top = view.scroll.min(lines.len().saturating_sub(body.height as usize));
    for (row, line) in lines.iter().skip(top).take(body.height as usize).enumerate() {
        buf.set_line(body.x, body.y + row as u16, line, body.width);
    }
}
