//! The `/learn` list drawn over the panes: each candidate convention as the line it would add to
//! `KV1NT.md`, its category and evidence share, and under the selected one its examples. The
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
        let share = rule.evidence.share();
        let category = format!("{:<12}", rule.category.as_str());
        let room = width.saturating_sub(marker.chars().count() + category.len() + share.chars().count() + 2);
        let text: String = if rule.text.chars().count() > room {
            rule.text.chars().take(room.saturating_sub(1)).chain(['…']).collect()
        } else {
            format!("{:<room$}", rule.text)
        };
        out.push((
            Some(i),
            true,
            Line::from(vec![
                Span::styled(marker, theme.accent),
                Span::styled(category, theme.dim),
                Span::styled(text, text_style),
                Span::styled(format!("  {share}"), theme.accent.add_modifier(Modifier::BOLD)),
            ]),
        ));
        if selected {
            for example in &rule.evidence.examples {
                out.push((Some(i), false, Line::styled(format!("               e.g. {example}"), theme.dim)));
            }
        }
    }
    out
}
