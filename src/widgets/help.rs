//! The help overlay, generated from the keymap table and the slash-command table
//! (`app::commands::COMMANDS`, one line per row, in table order), then the custom commands the
//! engine announced (`app::commands::custom`).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Widget};

use crate::app::commands::{COMMANDS, custom};
use crate::app::keymap::Keymap;
use crate::engine::protocol::CustomCommandInfo;

use super::modals::centered;
use crate::text::theme::Theme;

pub fn help_lines(keymap: &Keymap, customs: &[CustomCommandInfo], theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for (context, actions) in keymap.describe() {
        lines.push(Line::styled(context.title().to_string(), theme.heading.add_modifier(Modifier::BOLD)));
        for (action, keys) in actions {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<24}", keys.join(", ")), theme.accent),
                Span::styled(action.description().to_string(), theme.base),
            ]));
        }
        lines.push(Line::default());
    }
    lines.push(Line::styled("Slash commands", theme.heading.add_modifier(Modifier::BOLD)));
    for command in COMMANDS {
        let usage = command.synopsis();
        lines.push(Line::from(vec![
            Span::styled(format!("  {usage:<24}"), theme.accent),
            Span::styled(command.description.to_string(), theme.base),
        ]));
    }
    let customs: Vec<&CustomCommandInfo> = custom::visible(customs).collect();
    if !customs.is_empty() {
        lines.push(Line::default());
        lines.push(Line::styled("Custom commands", theme.heading.add_modifier(Modifier::BOLD)));
        for command in customs {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<24}", format!("{} ", custom::synopsis(command))), theme.accent),
                Span::styled(custom::description(command), theme.base),
            ]));
        }
    }
    lines
}

pub fn render_help(
    area: Rect,
    buf: &mut Buffer,
    keymap: &Keymap,
    customs: &[CustomCommandInfo],
    scroll: &mut usize,
    theme: &Theme,
) {
    let lines = help_lines(keymap, customs, theme);
    let rect = centered(area, 84, area.height.saturating_sub(2));
    if rect.width < 3 || rect.height < 3 {
        return;
    }
    Clear.render(rect, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.modal_border)
        .title(Line::styled(" Help — Esc closes, ↑↓ scroll ", theme.modal_title))
        .style(theme.base);
    let inner = block.inner(rect);
    block.render(rect, buf);
    *scroll = (*scroll).min(lines.len().saturating_sub(inner.height as usize));
    for (row, line) in lines.iter().skip(*scroll).take(inner.height as usize).enumerate() {
        buf.set_line(inner.x, inner.y + row as u16, line, inner.width);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn help_lists_every_slash_command() {
        let keymap = Keymap::load(&BTreeMap::new()).unwrap();
        let lines = help_lines(&keymap, &[], &Theme::builtin("dark").unwrap());
        let text: Vec<String> =
            lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect();
        for command in COMMANDS {
            let row = format!("  {:<24}{}", command.synopsis(), command.description);
            assert!(text.contains(&row), "help lacks {row:?}");
        }
    }
}
