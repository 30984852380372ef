//! The status bar: provider and model, session, tokens (prompt-cache reads apart), the session's
//! cost (when its models have a price: `engine::pricing`), context use, the last project checks
//! (`✗ 2 errors · 1 warning`, `checks ✓`), MCP servers up of all (`MCP 2/3`), and a spinner with the elapsed time while a reply
//! streams.

use std::time::Instant;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::state::StatusState;
use crate::engine::protocol::LogLevel;
use crate::engine::protocol::Policy;

use crate::text::theme::Theme;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub fn render_status(area: Rect, buf: &mut Buffer, status: &StatusState, theme: &Theme, now: Instant) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    buf.set_style(area, theme.status_bar);
    let mut spans = Vec::new();
    if let Some((_, since)) = status.run {
        let elapsed = now.saturating_duration_since(since);
        let frame = SPINNER[(elapsed.as_millis() / 100) as usize % SPINNER.len()];
        let text = format!(" {frame} running {:.1}s · Ctrl+C cancels ", elapsed.as_secs_f64());
        spans.push(Span::styled(text, theme.status_busy));
    } else if let Some(since) = status.busy_since {
        let elapsed = now.saturating_duration_since(since);
        let frame = SPINNER[(elapsed.as_millis() / 100) as usize % SPINNER.len()];
        spans.push(Span::styled(format!(" {frame} {:.1}s ", elapsed.as_secs_f64()), theme.status_busy));
    }
    spans.push(Span::styled(format!(" {} · {} ", status.provider, status.model), theme.status_bar));
    let session = status.session_id.as_deref().unwrap_or("new");
    spans.push(Span::styled(format!("│ session {session} "), theme.status_bar));
    let input = status.total.prompt_tokens() + status.turn.prompt_tokens();
    let output = status.total.output_tokens + status.turn.output_tokens;
    spans.push(Span::styled(format!("│ tokens {input}↑ {output}↓ "), theme.status_bar));
    let cached = status.total.cache_read_tokens + status.turn.cache_read_tokens;
    if cached > 0 {
        spans.push(Span::styled(format!("({cached} cached) "), theme.status_bar));
    }
    let cost = status.total_cost.zip(status.turn_cost).map(|(total, turn)| total + turn);
    if let Some(cost) = cost.filter(|_| input + output > 0) {
        spans.push(Span::styled(
            format!("│ {} ", crate::engine::protocol::format_usd(cost)),
            theme.status_bar,
        ));
    }
    if status.context_window > 0 {
        let pct = percent(status.context_used, status.context_window);
        let style = if pct >= 90 { theme.warning } else { theme.status_bar };
        spans.push(Span::styled(format!("│ ctx {pct}% "), style));
    }
    if let Some((text, level)) = &status.checks {
        let style = match level {
            LogLevel::Error => theme.error,
            LogLevel::Warn => theme.warning,
            LogLevel::Info => theme.status_bar,
        };
        spans.push(Span::styled(format!("│ {text} "), style));
    }
    if let Some((up, total)) = status.mcp.filter(|(_, total)| *total > 0) {
        let style = if up < total { theme.warning } else { theme.status_bar };
        spans.push(Span::styled(format!("│ MCP {up}/{total} "), style));
    }
    if let Some((text, level)) = &status.flash {
        let style = match level {
            LogLevel::Error => theme.error,
            LogLevel::Warn => theme.warning,
            LogLevel::Info => theme.status_bar,
        };
        spans.push(Span::styled(format!("│ {text} "), style));
    }
    let policy_style = match status.policy {
        Policy::ReadOnly | Policy::Plan | Policy::Ask => theme.status_bar,
        Policy::AutoEdit | Policy::Auto => theme.warning,
    };
    spans.push(Span::styled(format!("│ {} (Shift+Tab) ", status.policy.as_str()), policy_style));
    spans.push(Span::styled("│ F1 help", theme.status_bar));
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

/// Context use in percent of the window, for the status bar.
fn percent(used_tokens: usize, window: usize) -> u16 {
    if window == 0 {
        return 100;
    }
    ((used_tokens.saturating_mul(100)) / window).min(999) as u16
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::app::keymap::Keymap;
    use crate::app::state::AppState;
    use crate::engine::protocol::ProviderKind;

    fn line(state: &AppState) -> String {
        let area = Rect::new(0, 0, 200, 1);
        let mut buf = Buffer::empty(area);
        render_status(area, &mut buf, &state.status, &state.theme, Instant::now());
        (0..area.width).map(|x| buf[(x, 0)].symbol().to_string()).collect()
    }

    #[test]
    fn mcp_servers_up_of_all_show_once_one_reports() {
        let keymap = Keymap::load(&BTreeMap::new()).unwrap();
        let mut state =
            AppState::new(keymap, Theme::builtin("dark").unwrap(), ProviderKind::OpenAi, "m".into());
        assert!(!line(&state).contains("MCP"));
        state.status.mcp = Some((2, 3));
        assert!(line(&state).contains("│ MCP 2/3 "), "{}", line(&state));
        state.status.mcp = Some((0, 0));
        assert!(!line(&state).contains("MCP"), "no servers started: nothing shown");
    }

    #[test]
    fn the_session_s_cost_adds_the_running_turn_and_an_unpriced_model_shows_none() {
        use crate::app::update::apply;
        use crate::engine::protocol::{Event, TurnOutcome, Usage};
        let keymap = Keymap::load(&BTreeMap::new()).unwrap();
        let mut state =
            AppState::new(keymap, Theme::builtin("dark").unwrap(), ProviderKind::Anthropic, "m".into());
        assert!(!line(&state).contains('$'), "no tokens yet: no cost");
        let turn =
            Usage { input_tokens: 100, output_tokens: 10, cache_write_tokens: 0, cache_read_tokens: 400 };
        apply(&mut state, Event::Usage { turn, cost_usd: Some(0.25) });
        assert!(line(&state).contains("tokens 500↑ 10↓ (400 cached) │ $0.25 "), "{}", line(&state));
        apply(&mut state, Event::TurnEnded(TurnOutcome::Complete { stop_reason: None }));
        apply(&mut state, Event::Usage { turn, cost_usd: Some(0.5) });
        assert!(line(&state).contains("│ $0.75 "), "the session's, not the turn's: {}", line(&state));
        apply(&mut state, Event::Usage { turn, cost_usd: None });
        assert!(!line(&state).contains('$'), "a model without a price: no figure rather than a wrong one");
    }
}
