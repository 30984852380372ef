//! Drawing a frame: the layout (four columns at ≥ 160 columns, Chat beside a stack of the others
//! at ≥ 100, tabs below that, one pane when zoomed), pane frames, composer, status bar and modals.
//! Every size down to 1×1 draws without panicking.

use std::time::Instant;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Widget};

use super::approvals::render_approval;
use super::chat::render_chat;
use super::code::render_code;
use super::diff::{diff_text_offset, render_diff_cached};
use super::git_view::render_git_files;
use super::graph_panel::render_graph_panel;
use super::help::render_help;
use super::modals::render_confirm;
use super::output::render_output;
use super::status_bar::render_status;

use crate::app::modals::Modal;
use crate::app::selection::{LineKey, PaneRows};
use crate::app::state::{AppState, Focus, HitAreas, Pane};

/// Width from which the four panes sit side by side.
pub const WIDE: u16 = 160;
/// Width from which Chat sits beside the other three stacked.
pub const MEDIUM: u16 = 100;

pub fn draw(frame: &mut Frame, state: &mut AppState, now: Instant) {
    let area = frame.area();
    let buf = frame.buffer_mut();
    draw_into(area, buf, state, now);
}

pub fn draw_into(area: Rect, buf: &mut Buffer, state: &mut AppState, now: Instant) {
    buf.set_style(area, state.theme.base);
    let mut hit = HitAreas::default();
    if area.height == 0 || area.width == 0 {
        state.hit = hit;
        return;
    }
    let composer_lines = state.composer.textarea.lines().len().min(6) as u16;
    let composer_h =
        (composer_lines + 2).min(area.height.saturating_sub(1) / 2).max(1.min(area.height.saturating_sub(1)));
    let [panes_area, composer_area, status_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(composer_h), Constraint::Length(1)])
            .areas(area);

    let (tab_bar, rects) = pane_rects(panes_area, state);
    if let Some(bar) = tab_bar {
        buf.set_line(bar.x, bar.y, &tab_bar_line(state), bar.width);
    }
    for (pane, rect) in rects {
        if let Some(rows) = draw_pane(pane, rect, buf, state) {
            if let Some(selection) = state.selection.as_ref().filter(|s| s.pane == pane) {
                super::selection::render_selection(buf, &rows, selection);
            }
            hit.rows.push((pane, rows));
        }
        hit.panes.push((pane, rect));
    }
    if state.graph.open {
        render_graph_panel(panes_area, buf, &state.graph, &state.theme);
    }
    draw_composer(composer_area, buf, state);
    hit.composer = composer_area;
    render_status(status_area, buf, &state.status, &state.theme, now);

    let popup = state.composer.completions();
    if !popup.is_empty() && state.modals.is_empty() && state.focus == Focus::Composer {
        draw_completion(panes_area, composer_area, buf, state);
    }
    match state.modals.last_mut() {
        Some(Modal::Confirm(dialog)) => hit.buttons = render_confirm(area, buf, dialog, &state.theme),
        Some(Modal::Help { scroll }) => {
            render_help(area, buf, &state.keymap, &state.composer.custom_commands, scroll, &state.theme)
        }
        Some(Modal::Approval(dialog)) => render_approval(panes_area, buf, dialog, &state.theme),
        Some(Modal::TemplateForm(form)) => {
            super::template_form::render_template_form(area, buf, form, &state.theme)
        }
        Some(Modal::Stats(report)) => super::stats::render_stats(area, buf, report, &state.theme),
        Some(Modal::Learn(view)) => super::learn::render_learn(area, buf, view, &state.theme),
        Some(Modal::FirstRun(view)) => super::first_run::render_first_run(area, buf, view, &state.theme),
        Some(Modal::Compaction(view)) => {
            super::compaction::render_compaction(area, buf, view, &state.theme, now)
        }
        Some(Modal::Plan(view)) => super::plan::render_plan(area, buf, view, &state.theme),
        None => {}
    }
    state.hit = hit;
    crate::app::selection::after_draw(state);
}

/// Where each visible pane goes, and the tab bar's row in narrow layouts.
pub fn pane_rects(area: Rect, state: &AppState) -> (Option<Rect>, Vec<(Pane, Rect)>) {
    if state.inline {
        return (None, vec![(Pane::Chat, area)]); // `--inline`: the reply being written
    }
    if let Some(pane) = state.zoom {
        return (None, vec![(pane, area)]);
    }
    if area.width >= WIDE {
        let cols = Layout::horizontal([
            Constraint::Percentage(34),
            Constraint::Percentage(26),
            Constraint::Percentage(22),
            Constraint::Percentage(18),
        ])
        .split(area);
        return (None, Pane::ALL.iter().copied().zip(cols.iter().copied()).collect());
    }
    if area.width >= MEDIUM && area.height >= 18 {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
        let stack = Layout::vertical([
            Constraint::Percentage(45),
            Constraint::Percentage(30),
            Constraint::Percentage(25),
        ])
        .split(right);
        return (
            None,
            vec![
                (Pane::Chat, left),
                (Pane::Code, stack[0]),
                (Pane::Diff, stack[1]),
                (Pane::Output, stack[2]),
            ],
        );
    }
    let [bar, body] =
        Layout::vertical([Constraint::Length(1.min(area.height)), Constraint::Min(0)]).areas(area);
    (Some(bar), vec![(state.tab, body)])
}

/// The tab bar of narrow layouts: Alt+1..4 or Tab switch.
fn tab_bar_line(state: &AppState) -> Line<'static> {
    let spans = Pane::ALL
        .iter()
        .enumerate()
        .map(|(i, pane)| {
            let style = if *pane == state.tab { state.theme.tab_active } else { state.theme.tab_inactive };
            Span::styled(format!(" {} {} ", i + 1, pane.title()), style)
        })
        .collect::<Vec<_>>();
    Line::from(spans)
}

/// The pane's frame (borders when there is room) and its content; what each row of its text
/// shows, when it shows selectable text.
fn draw_pane(pane: Pane, rect: Rect, buf: &mut Buffer, state: &mut AppState) -> Option<PaneRows> {
    if rect.width == 0 || rect.height == 0 {
        return None;
    }
    let focused = state.focus == Focus::Pane(pane);
    let theme = &state.theme;
    let inner = if rect.height >= 3 && rect.width >= 4 {
        let (border, title_style) =
            if focused { (theme.border_focused, theme.title_focused) } else { (theme.border, theme.title) };
        let mut title = vec![Span::styled(format!(" {} ", pane.title()), title_style)];
        let extra = pane_caption(pane, state);
        if !extra.is_empty() {
            title.push(Span::styled(format!("{extra} "), theme.dim));
        }
        let block = Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Rounded)
            .border_style(border)
            .title(Line::from(title));
        let inner = block.inner(rect);
        block.render(rect, buf);
        inner
    } else {
        rect
    };
    let rows = match pane {
        Pane::Chat => {
            let top = super::todo::todo_height(&state.chat.todo, inner.height);
            let list = Rect { height: top, ..inner };
            super::todo::render_todo(list, buf, &state.chat.todo, &state.theme);
            let rest = Rect { y: inner.y + top, height: inner.height - top, ..inner };
            let lines = render_chat(rest, buf, &mut state.chat, &state.theme);
            Some(PaneRows { text: rest, col_offset: 0, lines })
        }
        Pane::Code if state.git.open => {
            render_git_files(inner, buf, &state.git, &state.theme);
            None
        }
        Pane::Code => match state.code.doc.as_mut() {
            Some(doc) => {
                state.code.scroll_y = state.code.scroll_y.min(doc.line_count().saturating_sub(1));
                render_code(inner, buf, doc, state.code.scroll_y, state.code.scroll_x, &state.theme);
                let gutter = doc.gutter_width().min(inner.width);
                let text = Rect { x: inner.x + gutter, width: inner.width - gutter, ..inner };
                let lines = top_rows(inner.height, state.code.scroll_y, doc.line_count());
                Some(PaneRows { text, col_offset: state.code.scroll_x, lines })
            }
            None => {
                placeholder(inner, buf, "Code blocks from the conversation appear here.", state.theme.dim);
                None
            }
        },
        Pane::Diff => match state.diff.model.as_ref() {
            Some(model) => {
                state.diff.scroll_y = state.diff.scroll_y.min(model.lines.len().saturating_sub(1));
                render_diff_cached(
                    inner,
                    buf,
                    model,
                    state.diff.lang.as_deref(),
                    state.diff.scroll_y,
                    &state.theme,
                    &mut state.diff.highlights,
                );
                if state.git.open && !state.git.rows.is_empty() {
                    let row = state.git.cursor.checked_sub(state.diff.scroll_y);
                    if let Some(row) = row.filter(|r| *r < usize::from(inner.height)) {
                        let line = Rect { y: inner.y + row as u16, height: 1, ..inner };
                        // The cursor: the selection background under the row (its colours stay).
                        let mut style = Style::default().add_modifier(ratatui::style::Modifier::BOLD);
                        style.bg = state.theme.selection.bg;
                        if state.focus != Focus::Pane(Pane::Diff) {
                            style = Style::default().add_modifier(ratatui::style::Modifier::UNDERLINED);
                        }
                        buf.set_style(line, style);
                    }
                }
                let gutter = diff_text_offset(model).min(inner.width);
                let text = Rect { x: inner.x + gutter, width: inner.width - gutter, ..inner };
                let lines = top_rows(inner.height, state.diff.scroll_y, model.lines.len());
                Some(PaneRows { text, col_offset: 0, lines })
            }
            None => {
                placeholder(
                    inner,
                    buf,
                    "When the model revises a code block, the change shows here.",
                    state.theme.dim,
                );
                None
            }
        },
        Pane::Output => render_output(inner, buf, &mut state.output, &state.theme).map(|lines| PaneRows {
            text: inner,
            col_offset: 0,
            lines,
        }),
    };
    if let Some(search) = state.search.as_ref().filter(|s| s.pane == pane) {
        super::search::highlight(inner, buf, search, &state.theme);
        if inner != rect {
            super::search::draw_status(rect, buf, search, &state.theme);
        }
    }
    rows
}

/// Rows of a pane showing lines `first..` of `count` from its top.
fn top_rows(height: u16, first: usize, count: usize) -> Vec<Option<LineKey>> {
    (0..usize::from(height)).map(|row| Some(first + row).filter(|i| *i < count).map(|i| (0, i))).collect()
}

fn pane_caption(pane: Pane, state: &AppState) -> String {
    match pane {
        Pane::Chat if state.chat.scroll_from_bottom > 0 && state.chat.view.new_below => {
            format!("↑{} · ↓ new output (End follows)", state.chat.scroll_from_bottom)
        }
        Pane::Chat if state.chat.scroll_from_bottom > 0 => {
            format!("↑{} (End follows)", state.chat.scroll_from_bottom)
        }
        Pane::Code if state.git.open => {
            "Git · s stage · u unstage · t staged/unstaged · Enter hunks · Ctrl+G closes".into()
        }
        Pane::Code => state.code.doc.as_ref().map(|d| d.title.clone()).unwrap_or_default(),
        Pane::Diff => state.diff.caption.clone(),
        Pane::Output if state.output.view == crate::app::problems::OutputView::Problems => {
            let n = state.output.problems.report.as_ref().map_or(0, |r| r.diagnostics.len());
            format!("Problems ({n}) · p: log")
        }
        Pane::Output if state.output.scroll_from_bottom > 0 => {
            format!("↑{}", state.output.scroll_from_bottom)
        }
        _ => String::new(),
    }
}

fn placeholder(area: Rect, buf: &mut Buffer, text: &str, style: Style) {
    if area.height > 0 {
        buf.set_stringn(area.x, area.y, text, area.width as usize, style);
    }
}

fn draw_composer(area: Rect, buf: &mut Buffer, state: &mut AppState) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let focused = state.focus == Focus::Composer && state.modals.is_empty();
    let theme = &state.theme;
    let textarea = &mut state.composer.textarea;
    textarea.set_style(theme.base);
    textarea.set_cursor_line_style(Style::default());
    textarea.set_placeholder_style(theme.dim);
    textarea.set_cursor_style(if focused { theme.selection } else { theme.base });
    if area.height >= 3 {
        let (border, title) =
            if focused { (theme.border_focused, theme.title_focused) } else { (theme.border, theme.title) };
        let busy = if state.question.is_some() {
            " — answer kv1nt's question, Enter sends".to_string()
        } else if state.status.run.is_some() {
            " — a run is going, Ctrl+C or Esc cancels it".to_string()
        } else if state.status.busy_since.is_some() {
            " — streaming, Esc cancels".to_string()
        } else if !state.suggestions.is_empty() {
            let offers: Vec<String> = state
                .suggestions
                .iter()
                .enumerate()
                .map(|(i, s)| format!("Alt+{} {}", i + 1, s.label()))
                .collect();
            format!(" — {}", offers.join(" · "))
        } else {
            String::new()
        };
        textarea.set_block(
            Block::default()
                .borders(Borders::ALL)
                .border_type(BorderType::Rounded)
                .border_style(border)
                .title(Line::styled(format!(" Prompt{busy} "), title)),
        );
    } else {
        textarea.remove_block();
    }
    textarea.render(area, buf);
}

fn draw_completion(panes: Rect, composer: Rect, buf: &mut Buffer, state: &AppState) {
    let items = state.composer.completions();
    let height = (items.len() as u16 + 2).min(panes.height);
    if height < 3 {
        return;
    }
    let width = 60.min(panes.width);
    let rect = Rect { x: composer.x, y: composer.y.saturating_sub(height), width, height };
    Clear.render(rect, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(state.theme.border_focused)
        .style(state.theme.popup);
    let inner = block.inner(rect);
    block.render(rect, buf);
    let selected = state.composer.completion_selected.min(items.len().saturating_sub(1));
    for (i, item) in items.iter().take(inner.height as usize).enumerate() {
        let style = if i == selected { state.theme.popup_selected } else { state.theme.popup };
        let text = format!("{:<11} {}", item.label, item.description);
        buf.set_stringn(inner.x, inner.y + i as u16, text, inner.width as usize, style);
    }
}
