//! The approval dialog: what is proposed, the syntax gate's verdict (`syntax ✓`, or what does
//! not parse), its risk and reasons, the exact scope `a` would grant, and the keys. With `m` it holds a message box; with `e` an editor over the proposed
//! content. The change itself is previewed in the Diff pane, which the dialog leaves visible.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Widget};

use crate::app::modals::{ApprovalDialog, ApprovalMode};
use crate::engine::protocol::{GateAction, Risk, syntax_lines};

use super::chat::wrap_plain;
use crate::text::theme::Theme;

pub fn risk_style(risk: Risk, theme: &Theme) -> Style {
    match risk {
        Risk::Low => theme.accent,
        Risk::Medium => theme.warning,
        Risk::High | Risk::Critical => theme.error.add_modifier(Modifier::BOLD),
    }
}

/// Draw the dialog over `area` (the panes): anchored to the bottom, full width of the Chat side.
pub fn render_approval(area: Rect, buf: &mut Buffer, dialog: &ApprovalDialog, theme: &Theme) {
    let request = &dialog.request;
    let width = area.width.min(96);
    let inner_width = width.saturating_sub(2).max(1);
    let mut lines: Vec<Line<'static>> = Vec::new();
    lines.extend(wrap_plain(&request.summary, inner_width, theme.base.add_modifier(Modifier::BOLD)));
    if let GateAction::Commit { message, .. } = &request.action {
        for line in message.lines().take(12) {
            lines.extend(wrap_plain(&format!("│ {line}"), inner_width, theme.accent));
        }
    }
    if let GateAction::Command { command, .. } = &request.action {
        let mut shown = command.lines();
        let first = shown.next().unwrap_or_default();
        lines.extend(wrap_plain(&format!("$ {first}"), inner_width, theme.accent));
        let more = shown.count();
        if more > 0 {
            let note = format!("  …{more} more lines: the whole snippet is shown in Diff");
            lines.extend(wrap_plain(&note, inner_width, theme.dim));
        }
    }
    if let GateAction::Git { op, target, detail, force } = &request.action {
        let forced = if *force { " (forced)" } else { "" };
        lines.extend(wrap_plain(&format!("git {} {target}{forced}", op.as_str()), inner_width, theme.accent));
        for line in detail.lines().take(12) {
            lines.extend(wrap_plain(&format!("│ {line}"), inner_width, theme.accent));
        }
        let more = detail.lines().count().saturating_sub(12);
        if more > 0 {
            let note = format!("  …{more} more lines: the whole text is shown in Diff");
            lines.extend(wrap_plain(&note, inner_width, theme.dim));
        }
    }
    for line in syntax_lines(&request.syntax) {
        let style = if line.starts_with("syntax ✗") {
            theme.error.add_modifier(Modifier::BOLD)
        } else if line.starts_with("syntax ✓") {
            theme.accent
        } else {
            theme.dim
        };
        lines.extend(wrap_plain(&line, inner_width, style));
    }
    if let GateAction::Mcp { server, tool, arguments, .. } = &request.action {
        lines.extend(wrap_plain(&format!("mcp {server}__{tool}"), inner_width, theme.accent));
        for line in arguments.lines().take(12) {
            lines.extend(wrap_plain(&format!("│ {line}"), inner_width, theme.accent));
        }
        let more = arguments.lines().count().saturating_sub(12);
        if more > 0 {
            let note = format!("  …{more} more lines: the whole arguments are shown in Diff");
            lines.extend(wrap_plain(&note, inner_width, theme.dim));
        }
    }
    for reason in &request.reasons {
        lines.extend(wrap_plain(&format!("• {reason}"), inner_width, theme.base));
    }
    if let Some(scope) = &request.session_scope {
        lines.extend(wrap_plain(&format!("a approves {scope}"), inner_width, theme.dim));
    }
    let keys = match &dialog.mode {
        ApprovalMode::Choose => {
            let mut keys = vec!["y once"];
            if request.session_scope.is_some() {
                keys.push("a for this session");
            }
            keys.extend(["n deny", "m deny with a message"]);
            if request.editable {
                keys.push(if matches!(request.action, GateAction::Commit { .. }) {
                    "e edit the message"
                } else {
                    "e edit first"
                });
            }
            let mut keys: Vec<String> = keys.into_iter().map(String::from).collect();
            keys.extend(request.picks.iter().map(|(k, label)| format!("{k} {label}")));
            keys.join("   ")
        }
        ApprovalMode::Message(_) => "Enter denies with this message · Esc back".to_string(),
        ApprovalMode::Edit(_) => "Ctrl+S approves the edited content · Esc back".to_string(),
    };
    lines.push(Line::styled(keys, theme.accent));
    let editor_rows: u16 = match &dialog.mode {
        ApprovalMode::Choose => 0,
        ApprovalMode::Message(_) => 3,
        ApprovalMode::Edit(_) => area.height.saturating_sub(lines.len() as u16 + 4).clamp(3, 30),
    };
    let height = (lines.len() as u16 + 2 + editor_rows).min(area.height);
    if height < 3 || width < 10 {
        return;
    }
    let rect = Rect { x: area.x, y: area.y + area.height - height, width, height };
    Clear.render(rect, buf);
    let title = vec![
        Span::styled(format!(" Approve {} — risk ", request.action.kind()), theme.modal_title),
        Span::styled(request.risk.as_str().to_uppercase(), risk_style(request.risk, theme)),
        Span::styled(" ", theme.modal_title),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(risk_style(request.risk, theme))
        .title(Line::from(title))
        .style(theme.base);
    let inner = block.inner(rect);
    block.render(rect, buf);
    let text_rows = inner.height.saturating_sub(editor_rows);
    for (row, line) in lines.iter().take(text_rows as usize).enumerate() {
        buf.set_line(inner.x, inner.y + row as u16, line, inner.width);
    }
    let editor = Rect { x: inner.x, y: inner.y + text_rows, width: inner.width, height: editor_rows };
    match &dialog.mode {
        ApprovalMode::Message(area) | ApprovalMode::Edit(area) if editor.height > 0 => {
            let mut area = area.as_ref().clone();
            area.set_block(Block::default().borders(Borders::TOP).border_style(theme.border_focused));
            area.set_cursor_style(theme.selection);
            area.render(editor, buf);
        }
        _ => {}
    }
}
