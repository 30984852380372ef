//! The template form drawn over the panes (`app::template_form`): the template's description
//! and target, then one field per parameter — its name, type and whether it is required, the
//! value (choices and booleans between ◀ ▶), and the validation error under it — and the keys.
//! Draws at any size without panicking; fields that do not fit are cut from the bottom.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Widget};

use crate::app::template_form::TemplateForm;
use crate::engine::protocol::ParamKind;
use crate::text::theme::Theme;

use super::modals::centered;

pub fn render_template_form(area: Rect, buf: &mut Buffer, form: &TemplateForm, theme: &Theme) {
    let lines = lines(form, theme);
    let width = area.width.saturating_sub(4).clamp(1, 76);
    let rect = centered(area, width + 2, (lines.len() as u16).saturating_add(2));
    if rect.width < 3 || rect.height < 3 {
        return;
    }
    Clear.render(rect, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.modal_border)
        .title(Line::styled(
            format!(" Template {} ({}) ", form.info.name, form.info.source.name()),
            theme.modal_title,
        ))
        .style(theme.base);
    let inner = block.inner(rect);
    block.render(rect, buf);
    for (i, line) in lines.iter().take(inner.height as usize).enumerate() {
        buf.set_line(inner.x, inner.y + i as u16, line, inner.width);
    }
}

fn lines<'a>(form: &'a TemplateForm, theme: &Theme) -> Vec<Line<'a>> {
    let mut out = vec![
        Line::styled(form.info.description.as_str(), theme.base),
        Line::styled(format!("{} → {}", form.info.language, form.info.target), theme.dim),
        Line::default(),
    ];
    for (i, param) in form.info.params.iter().enumerate() {
        let focused = i == form.focus;
        let required = if param.required { ", required" } else { "" };
        let label =
            format!("{}{} ({}{required})", if focused { "▸ " } else { "  " }, param.name, param.kind.name());
        let mut label_line = vec![Span::styled(label, if focused { theme.accent } else { theme.base })];
        if !param.description.is_empty() {
            label_line.push(Span::styled(format!("  {}", param.description), theme.dim));
        }
        out.push(Line::from(label_line));
        let value = &form.values[i];
        let shown = match param.kind {
            ParamKind::Choice(_) | ParamKind::Bool => format!("◀ {value} ▶"),
            _ if focused => format!("{value}▏"),
            _ => value.clone(),
        };
        let style = if focused { theme.popup_selected.add_modifier(Modifier::BOLD) } else { theme.popup };
        out.push(Line::from(vec![Span::raw("    "), Span::styled(shown, style)]));
        if let Some(error) = &form.errors[i] {
            out.push(Line::styled(format!("    ✗ {error}"), theme.error));
        }
    }
    if let Some(general) = &form.general {
        out.push(Line::default());
        out.push(Line::styled(format!("✗ {general}"), theme.error));
    }
    out.push(Line::default());
    out.push(Line::styled("Tab/Shift+Tab fields · ←/→ choices · Enter create · Esc cancel", theme.dim));
    out
}
