//! The `/learn` list drawn over the panes: each candidate convention as the line it would add to
//! `KV1NT.md` (wrapped, never cut), its category and evidence share, and under the selected one its examples. The
//! rules come from `Event::Conventions` (`protocol::learn`); the state is `app::learn`.
//!
//! Invariant: the list scrolls to keep the selected rule (and its examples) in view.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Widget};

use super::modals::centered;
use crate::app::learn::LearnView;
use crate::text::theme::Theme;

pub fn render_learn(area: Rect, buf: &mut Buffer, view: &LearnView, theme: &Theme) {
    let rect = centered(area, 100, 26);
    if rect.width < 24 || rect.height < 6 {
        return;
    }
    Clear.render(rect, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.modal_border)
        .title(Line::styled(
            " Conventions kv1nt noticed · ↑↓ move · Enter/a add to KV1NT.md · Esc closes ",
            theme.modal_title,
        ))
        .style(theme.base);
    let inner = block.inner(rect);
    block.render(rect, buf);
    let lines = lines(view, theme, inner.width as usize);
    let height = inner.height as usize;
    // The selected rule's first line, kept in view with its examples below it when they fit.
    let selected_at = lines.iter().position(|(i, first, _)| *i == Some(view.selected) && *first).unwrap_or(0);
    let selected_end = lines.iter().rposition(|(i, _, _)| *i == Some(view.selected)).unwrap_or(selected_at);
    let top = if selected_end + 1 > height { (selected_end + 1 - height).min(selected_at) } else { 0 };
    for (row, (_, _, line)) in lines.into_iter().skip(top).take(height).enumerate() {
        buf.set_line(inner.x, inner.y + row as u16, &line, inner.width);
    }
}

/// Where a rule's text starts: after the marker and the category.
const INDENT: usize = 14;

/// `text` in lines of at most `width` characters, broken at spaces (a longer word is cut).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if !line.is_empty() && needed > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        while line.chars().count() > width {
            let rest: String = line.chars().skip(width).collect();
            lines.push(line.chars().take(width).collect());
            line = rest;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// (rule index, first line of the rule, line) for every line of the list.
fn lines<'a>(view: &'a LearnView, theme: &Theme, width: usize) -> Vec<(Option<usize>, bool, Line<'a>)> {
    if view.rules.is_empty() {
        let text = "No convention has strong enough evidence yet (at least 5 cases, 80 % agreeing; \
                    or a correction you made in 2 proposals).";
        return vec![(None, true, Line::styled(text, theme.dim))];
    }
    let mut out = Vec::new();
    for (i, rule) in view.rules.iter().enumerate() {
        let selected = i == view.selected;
        let marker = if view.proposed.contains(&i) {
            "✓ "
        } else if selected {
            "› "
        } else {
            "  "
        };
        let text_style = if selected { theme.popup_selected } else { theme.base };
        let share = format!("{:>14}", rule.evidence.share());
        let room = width.saturating_sub(INDENT + share.chars().count() + 1).max(10);
        for (n, piece) in wrap(&rule.text, room).into_iter().enumerate() {
            let mut spans = if n == 0 {
                vec![
                    Span::styled(marker, theme.accent),
                    Span::styled(format!("{:<12}", rule.category.as_str()), theme.dim),
                ]
            } else {
                vec![Span::raw(" ".repeat(INDENT))]
            };
            let padded = format!("{piece:<room$}");
            spans.push(Span::styled(padded, text_style));
            if n == 0 {
                spans.push(Span::styled(format!(" {share}"), theme.accent.add_modifier(Modifier::BOLD)));
            }
            out.push((Some(i), n == 0, Line::from(spans)));
        }
        if selected {
            for example in &rule.evidence.examples {
                let line = format!("{}e.g. {example}", " ".repeat(INDENT));
                out.push((Some(i), false, Line::styled(line, theme.dim)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrapping_keeps_every_word() {
        assert_eq!(
            wrap("Name Rust test functions in snake_case.", 16),
            ["Name Rust test", "functions in", "snake_case."]
        );
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
    }
}
