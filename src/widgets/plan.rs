//! The plan dialog drawn over the panes: the model's summary, its steps (numbered, marked when
//! edited), the files and risks, the policy approval switches to, and the keys — or the steps'
//! editor after `e`, or the feedback line after `r`. The state is `app::plan`.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Widget};

use super::chat::wrap_plain;
use super::modals::centered;
use crate::app::plan::PlanView;
use crate::engine::protocol::plan::APPROVE_POLICIES;
use crate::text::theme::Theme;

pub fn render_plan(area: Rect, buf: &mut Buffer, view: &PlanView, theme: &Theme) {
    let rect = centered(area, 100, 32);
    if rect.width < 24 || rect.height < 8 {
        return;
    }
    Clear.render(rect, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.modal_border)
        .title(Line::styled(" The model's plan — approve it to let it make changes ", theme.modal_title))
        .style(theme.base);
    let inner = block.inner(rect);
    block.render(rect, buf);
    let keys = if view.editor.is_some() {
        "One step per line · Ctrl+S keeps the edit · Esc drops it".to_string()
    } else if view.feedback.is_some() {
        "What should change? Enter sends it for a revised plan · Esc back".to_string()
    } else {
        "Enter/y approve · Tab policy · e edit steps · r reject with a reason · n/Esc reject · ↑↓ scroll"
            .to_string()
    };
    let mut policies = vec![Span::styled("Approve under: ", theme.dim)];
    for (i, p) in APPROVE_POLICIES.iter().enumerate() {
        let style = if i == view.policy { theme.selection } else { theme.dim };
        policies.push(Span::styled(format!(" {} ", p.as_str()), style));
    }
    let mut head = vec![Line::from(policies)];
    if let Some(error) = &view.error {
        head.push(Line::styled(format!("Not approved: {error}"), theme.error));
    }
    head.push(Line::styled(keys, theme.accent));
    let mut row = 0u16;
    for line in head {
        if row >= inner.height {
            return;
        }
        buf.set_line(inner.x, inner.y + row, &line, inner.width);
        row += 1;
    }
    let body = Rect {
        x: inner.x,
        y: inner.y + row + 1,
        width: inner.width,
        height: inner.height.saturating_sub(row + 1),
    };
    if body.height == 0 {
        return;
    }
    let input = view.editor.as_ref().or(view.feedback.as_ref());
    if let Some(editor) = input {
        return super::modals::render_editor(editor, body, buf, theme);
    }
    let lines = plan_lines(view, body.width, theme);
    let top = view.scroll.min(lines.len().saturating_sub(body.height as usize));
    for (r, line) in lines.iter().skip(top).take(body.height as usize).enumerate() {
        buf.set_line(body.x, body.y + r as u16, line, body.width);
    }
}

/// The plan as wrapped lines: summary, steps, files, risks.
fn plan_lines(view: &PlanView, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let p = &view.proposal;
    let mut out = wrap_plain(&p.summary, width, theme.base);
    let mut section = |title: String, items: Vec<String>, style: Style| {
        if items.is_empty() {
            return;
        }
        out.push(Line::default());
        out.push(Line::styled(title, theme.modal_title));
        for item in items {
            out.extend(wrap_plain(&item, width, style));
        }
    };
    let edited = if view.edited() { " (edited by you)" } else { "" };
    let steps = view.steps.iter().enumerate().map(|(i, s)| format!("{:>2}. {s}", i + 1)).collect();
    section(format!("Steps{edited}"), steps, theme.base);
    section("Files".into(), p.files.iter().map(|f| format!("  {f}")).collect(), theme.dim);
    section("Risks".into(), p.risks.iter().map(|r| format!("  ! {r}")).collect(), theme.warning);
    out
}
