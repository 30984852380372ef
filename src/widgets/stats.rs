//! The `/stats` view drawn over the panes: the headline figures beside the seed's targets, a
//! bar per model (acceptance %), and a sparkline of acceptance per day — people would rather
//! look than read. The figures come from `Event::Stats` (`protocol::stats`).
//!
//! Invariant: a figure with nothing recorded is drawn as `—` and a model with no verdicts gets
//! no bar; nothing here computes a rate.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, BorderType, Borders, Clear, Sparkline, Widget};

use crate::engine::protocol::stats::{
    StatsReport, TARGET_ACCEPTANCE, TARGET_CHECKS_FIRST_PASS, TARGET_SYNTAX_FIRST_PASS,
};

use super::modals::centered;
use crate::text::theme::Theme;

/// " · since 2026-11-28 · fix · rust" for a narrowed report, else nothing.
fn scope(report: &StatsReport) -> String {
    let since = report.since.as_deref().map(|s| format!("since {}", s.get(..10).unwrap_or(s)));
    [since, report.intent.clone(), report.language.clone()]
        .into_iter()
        .flatten()
        .map(|part| format!(" · {}", part.chars().filter(|c| !c.is_control()).collect::<String>()))
        .collect()
}

pub fn render_stats(area: Rect, buf: &mut Buffer, report: &StatsReport, theme: &Theme) {
    let rect = centered(area, 78, 24);
    if rect.width < 20 || rect.height < 8 {
        return;
    }
    Clear.render(rect, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.modal_border)
        .title(Line::styled(
            " Stats — how often you accept what kv1nt proposes · Esc closes ",
            theme.modal_title,
        ))
        .style(theme.base);
    let inner = block.inner(rect);
    block.render(rect, buf);
    let t = &report.total;
    if t.proposals == 0 {
        let line = Line::styled(
            "No proposals recorded yet: the figures start with the first approval dialog.",
            theme.dim,
        );
        buf.set_line(inner.x, inner.y, &line, inner.width);
        return;
    }
    let [figures, bars, spark] =
        Layout::vertical([Constraint::Length(10), Constraint::Min(5), Constraint::Length(3)]).areas(inner);
    let figure = |name: &str, value: String, target: Option<f64>| {
        let mut spans = vec![
            Span::styled(format!(" {name:<22}"), theme.base),
            Span::styled(format!("{value:>7}"), theme.accent),
        ];
        if let Some(target) = target {
            spans.push(Span::styled(format!("   target {}", pct(Some(target))), theme.dim));
        }
        Line::from(spans)
    };
    let lines = [
        Line::styled(
            format!(
                " {} proposals, {} accepted, {} denied{}",
                t.proposals,
                t.accepted,
                t.denied,
                scope(report)
            ),
            theme.heading.add_modifier(Modifier::BOLD),
        ),
        figure("acceptance", pct(t.acceptance), Some(TARGET_ACCEPTANCE)),
        figure("first-pass syntax", pct(t.syntax_first_pass), Some(TARGET_SYNTAX_FIRST_PASS)),
        figure("first-pass checks", pct(t.checks_first_pass), Some(TARGET_CHECKS_FIRST_PASS)),
        figure("modified before yes", pct(t.modified_rate), None),
        figure("undone later", pct(t.undo_rate), None),
        figure("mean fix rounds", num(t.mean_fix_rounds, 1), None),
        figure("tokens per accepted", num(t.tokens_per_accepted, 0), None),
        figure(
            "cost per accepted",
            t.cost_per_accepted.map(|c| format!("${c:.4}")).unwrap_or_else(|| "—".into()),
            None,
        ),
    ];
    for (i, line) in lines.iter().take(figures.height as usize).enumerate() {
        buf.set_line(figures.x, figures.y + i as u16, line, figures.width);
    }
    let bar_list: Vec<Bar> = report
        .by_model
        .iter()
        .filter_map(|row| {
            let rate = row.figures.acceptance?;
            let percent = (rate * 100.0).round() as u64;
            Some(
                Bar::default()
                    .value(percent)
                    .text_value(format!("{percent}%"))
                    .label(Line::from(short(&row.key, 12)))
                    .style(theme.accent),
            )
        })
        .collect();
    BarChart::default()
        .block(Block::default().title(Line::styled(" acceptance by model ", theme.title)))
        .data(BarGroup::default().bars(&bar_list))
        .bar_width(12)
        .bar_gap(2)
        .max(100)
        .value_style(theme.base.add_modifier(Modifier::BOLD))
        .render(bars, buf);
    let days: Vec<u64> =
        report.daily.iter().map(|d| d.acceptance.map_or(0, |r| (r * 100.0).round() as u64)).collect();
    let shown = &days[days.len().saturating_sub(spark.width as usize)..];
    Sparkline::default()
        .block(
            Block::default()
                .title(Line::styled(format!(" acceptance per day ({} days) ", days.len()), theme.title)),
        )
        .data(shown)
        .max(100)
        .style(theme.accent)
        .render(spark, buf);
}

fn short(key: &str, width: usize) -> String {
    let name = key.rsplit('/').next().unwrap_or(key);
    let clean: String = name.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() <= width {
        clean
    } else {
        let head: String = clean.chars().take(width - 1).collect();
        format!("{head}…")
    }
}

fn pct(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.0} %", r * 100.0)).unwrap_or_else(|| "—".into())
}

fn num(value: Option<f64>, decimals: usize) -> String {
    value.map(|v| format!("{v:.decimals$}")).unwrap_or_else(|| "—".into())
}
