//! The Problems list (the Output pane's second view): the last project-check report, one row
//! per diagnostic — severity, `file:line:col`, message, `[code]` — errors first, the selection
//! kept in view; a header line with the report's summary and how to use the list.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::problems::ProblemsState;
use crate::engine::protocol::Severity;
use crate::text::theme::Theme;

pub fn render_problems(area: Rect, buf: &mut Buffer, state: &mut ProblemsState, theme: &Theme) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let Some(report) = &state.report else {
        let text = "No checks ran yet: /check runs the project's checks (p: back to the log)";
        buf.set_stringn(area.x, area.y, text, area.width as usize, theme.dim);
        return;
    };
    let header = format!("{} · Enter opens in Code · p: log · /check runs again", report.summary());
    let style = if report.failed() { theme.error } else { theme.dim };
    buf.set_stringn(area.x, area.y, header, area.width as usize, style);
    let rows = area.height.saturating_sub(1) as usize;
    if rows == 0 {
        return;
    }
    let len = report.diagnostics.len();
    state.selected = state.selected.min(len.saturating_sub(1));
    if state.selected < state.offset {
        state.offset = state.selected;
    } else if state.selected >= state.offset + rows {
        state.offset = state.selected + 1 - rows;
    }
    for (row, (i, d)) in report.diagnostics.iter().enumerate().skip(state.offset).take(rows).enumerate() {
        let (mark, mark_style) = match d.severity {
            Severity::Error => ("✗ error  ", theme.error),
            Severity::Warning => ("⚠ warning", theme.warning),
            Severity::Note => ("· note   ", theme.dim),
        };
        let selected = i == state.selected;
        let base = if selected { theme.selection } else { theme.base };
        let mut spans = vec![
            Span::styled(mark, if selected { theme.selection } else { mark_style }),
            Span::styled(
                format!(" {}:{}:{} ", d.file, d.line, d.col),
                if selected { base } else { theme.accent },
            ),
            Span::styled(d.message.as_str(), base),
        ];
        if let Some(code) = &d.code {
            spans.push(Span::styled(format!(" [{code}]"), if selected { base } else { theme.dim }));
        }
        let y = area.y + 1 + row as u16;
        if selected {
            buf.set_style(Rect::new(area.x, y, area.width, 1), theme.selection);
        }
        buf.set_line(area.x, y, &Line::from(spans), area.width);
    }
}
