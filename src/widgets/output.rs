//! The Output pane: the session's event log (provider, retries, fallbacks, errors) and the live
//! output of sandboxed runs (ANSI colours, parsed as they arrived, applied over the theme's
//! style), newest at the bottom, following the tail unless scrolled up; or the Problems list
//! (`problems.rs`) when that view is chosen. Only visible lines are
//! drawn, so long output costs nothing off screen.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::output::{LineSource, OutputState};
use crate::app::problems::OutputView;
use crate::app::selection::LineKey;
use crate::engine::protocol::LogLevel;

use crate::text::ansi::styled_line;
use crate::text::theme::Theme;

/// Draws the log (returning what each row shows, `(0, line index)`, for selecting) or the
/// Problems list (returning `None`: not selectable).
pub fn render_output(
    area: Rect,
    buf: &mut Buffer,
    state: &mut OutputState,
    theme: &Theme,
) -> Option<Vec<Option<LineKey>>> {
    if area.width == 0 || area.height == 0 {
        return None;
    }
    if state.view == OutputView::Problems {
        super::problems::render_problems(area, buf, &mut state.problems, theme);
        return None;
    }
    let height = area.height as usize;
    let max_scroll = state.lines.len().saturating_sub(height);
    state.scroll_from_bottom = state.scroll_from_bottom.min(max_scroll);
    let end = state.lines.len() - state.scroll_from_bottom;
    let start = end.saturating_sub(height);
    let mut rows: Vec<Option<LineKey>> = (start..end).map(|i| Some((0, i))).collect();
    rows.resize(height, None);
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
            LineSource::Stdout => styled_line(&log.text, &log.runs, theme.base),
            LineSource::Stderr => styled_line(&log.text, &log.runs, theme.warning),
        };
        buf.set_line(area.x, area.y + row as u16, &line, area.width);
    }
    Some(rows)
}

#[cfg(test)]
mod tests {
    use ratatui::style::Color;

    use super::*;

    /// The foreground of the first cell of each of the pane's rows.
    fn row_colours(state: &mut OutputState, rows: u16) -> Vec<Option<Color>> {
        let theme = Theme::builtin("dark").unwrap();
        let area = Rect::new(0, 0, 20, rows);
        let mut buf = Buffer::empty(area);
        render_output(area, &mut buf, state, &theme);
        (0..rows).map(|y| buf[(0, y)].style().fg).collect()
    }

    #[test]
    fn a_colour_carries_to_the_next_lines_until_reset() {
        // printf '\e[31mred\nstill red\e[0m\nplain\n', in chunks that split the escape and a line.
        let mut state = OutputState::default();
        for chunk in ["\x1b[3", "1mred\nstill", " red\x1b[0m\nplain\n"] {
            state.push_run_output(LineSource::Stdout, chunk);
        }
        state.finish_run_output();
        let base = Theme::builtin("dark").unwrap().base.fg;
        let red = Some(Color::Indexed(1));
        assert_eq!(row_colours(&mut state, 3), vec![red, red, base]);
    }
}
