//! The Graph panel, drawn over the panes: the search box, the results (kind, qualified name,
//! file:line), and the selected entity's signature, doc and its callers/callees as a small tree.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Widget};

use crate::app::graph_panel::GraphPanel;
use crate::engine::protocol::Entity;
use crate::text::theme::Theme;

fn entity_line(e: &Entity) -> String {
    format!("{:<9} {}  {}:{}", e.kind.as_str(), e.qualified_name, e.file, e.start_line)
}

pub fn render_graph_panel(area: Rect, buf: &mut Buffer, panel: &GraphPanel, theme: &Theme) {
    if area.width < 20 || area.height < 6 {
        return;
    }
    Clear.render(area, buf);
    let mode = if panel.lexical_only { "lexical search (no embedding model)" } else { "hybrid search" };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.border_focused)
        .title(Line::from(vec![
            Span::styled(" Graph ", theme.title_focused),
            Span::styled(format!("{mode} · ↑↓ select · Enter opens in Code · Esc closes "), theme.dim),
        ]))
        .style(theme.base);
    let inner = block.inner(area);
    block.render(area, buf);
    let [search, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(inner);
    let prompt = Line::from(vec![
        Span::styled("search: ", theme.accent),
        Span::styled(panel.query.clone(), theme.base),
        Span::styled("▏", theme.accent),
        Span::styled(if panel.searching { "  searching…" } else { "" }, theme.dim),
    ]);
    buf.set_line(search.x, search.y, &prompt, search.width);
    let [list, details] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(body);
    if panel.hits.is_empty() {
        let text =
            if panel.query.is_empty() { "type to search names, signatures and docs" } else { "no matches" };
        buf.set_stringn(list.x, list.y, text, list.width as usize, theme.dim);
    }
    let rows = list.height as usize;
    let first = panel.selected.saturating_sub(rows.saturating_sub(1));
    for (row, (i, e)) in panel.hits.iter().enumerate().skip(first).take(rows).enumerate() {
        let style = if i == panel.selected { theme.selection } else { theme.base };
        let y = list.y + row as u16;
        if i == panel.selected {
            buf.set_style(Rect { y, height: 1, ..list }, theme.selection);
        }
        buf.set_stringn(list.x, y, entity_line(e), list.width.saturating_sub(1) as usize, style);
    }
    let Some(d) = &panel.details else { return };
    let mut lines: Vec<Line> = vec![
        Line::styled(d.entity.qualified_name.clone(), theme.heading),
        Line::styled(
            format!(
                "{} · {}:{}-{} · complexity {}",
                d.entity.kind.as_str(),
                d.entity.file,
                d.entity.start_line,
                d.entity.end_line,
                d.entity.complexity
            ),
            theme.dim,
        ),
    ];
    lines.extend(d.entity.signature.lines().take(4).map(|l| Line::styled(l.to_string(), theme.inline_code)));
    if let Some(doc) = &d.entity.doc {
        lines.extend(doc.lines().take(4).map(|l| Line::styled(l.to_string(), theme.base)));
    }
    for (title, list) in [("callers", &d.callers), ("callees", &d.callees)] {
        lines.push(Line::styled(format!("{title} ({})", list.len()), theme.accent));
        for (i, (e, strength)) in list.iter().take(12).enumerate() {
            let branch = if i + 1 == list.len().min(12) { "└─" } else { "├─" };
            let sure = if *strength < 1.0 { format!("  ({strength:.1})") } else { String::new() };
            lines.push(Line::styled(
                format!("{branch} {}  {}:{}{sure}", e.qualified_name, e.file, e.start_line),
                theme.base,
            ));
        }
    }
    for (row, line) in lines.iter().take(details.height as usize).enumerate() {
        buf.set_line(details.x + 1, details.y + row as u16, line, details.width.saturating_sub(1));
    }
}
