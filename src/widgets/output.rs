//! The Output pane: the session's event log (provider, retries, fallbacks, errors) and the live
//! output of sandboxed runs (ANSI colours kept), newest at the bottom, following the tail unless
//! scrolled up. Only visible lines are drawn, so long output costs nothing off screen.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::output::{LineSource, OutputState};
use crate::engine::protocol::LogLevel;

use crate::text::ansi::ansi_line;
use crate::text::theme::Theme;

pub fn render_output(area: Rect, buf: &mut Buffer, state: &mut OutputState, theme: &Theme) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let height = area.height as usize;
    let max_scroll = state.lines.len().saturating_sub(height);
    state.scroll_from_bottom = state.scroll_from_bottom.min(max_scroll);
    let end = state.lines.len() - state.scroll_from_bottom;
    let start = end.saturating_sub(height);
    for (row, log) in state.lines[start..end].iter().enumerate() {
        let line = match log.source {
            LineSource::Log => {
                let style = match log.level {
                    LogLevel::Info => theme.base,
                    LogLevel::Warn => theme.warning,
                    LogLevel::Error => theme.error,
                };
                Line::from(vec![
                    Span::styled(format!("{} ", log.time), theme.dim),
                    Span::styled(log.text.as_str(), style),
                ])
            }
            LineSource::Stdout => ansi_line(&log.text, theme.base),
            LineSource::Stderr => ansi_line(&log.text, theme.warning),
        };
        buf.set_line(area.x, area.y + row as u16, &line, area.width);
    }
}
