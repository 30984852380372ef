//! UI state, keymap, layers and the terminal event loop.
//!
//! The loop waits on three sources — terminal input, engine events, and a timer — applies
//! everything pending, and draws at most once per frame interval (≤ 60 fps) and only when
//! something changed. Slow work (syntax sets, HTTP, SQLite) never runs on this loop.

pub mod approvals;
pub mod backend;
pub mod blocks;
pub mod chat;
pub mod clipboard;
pub mod code;
pub mod commands;
pub mod compaction;
pub mod composer;
pub mod diff;
pub mod editor;
pub mod first_run;
pub mod git_view;
pub mod graph_panel;
pub mod inline;
pub mod input;
pub mod keymap;
pub mod learn;
pub mod modals;
pub mod notify;
pub mod output;
pub mod paging;
pub mod paging_search;
pub mod plan;
pub mod problems;
mod prompt;
mod scroll;
pub mod search;
pub mod selection;
pub mod slash;
pub mod state;
pub mod template_form;
pub mod terminal;
pub mod update;

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use crossterm::event::EventStream;
use futures_util::StreamExt;

use crate::cli::{self, Setup};
use crate::engine::protocol::{LogLevel, Op};
use crate::text::highlight;
use crate::text::theme::{ColorMode, Theme};

use keymap::Keymap;
use state::AppState;

/// Minimum time between frames (≤ 60 fps).
const FRAME: Duration = Duration::from_millis(16);
/// Frame interval while a reply streams without user input: 20 fps reads smoothly and keeps the
/// cost of a 1,000 tokens/s stream small (see README, Performance).
const STREAM_FRAME: Duration = Duration::from_millis(50);
/// How often Code follows a block that is still streaming in.
const BLOCK_REFRESH: Duration = Duration::from_millis(250);
/// Lines of exact highlighting computed per loop turn while a big file catches up.
const HIGHLIGHT_SLICE: usize = 2_000;

/// Build the UI state for `setup` (shared by the TUI and the benchmarks).
pub fn initial_state(setup: &Setup) -> Result<AppState> {
    let mode = ColorMode::detect();
    let theme = Theme::load(&setup.config.ui.theme, setup.paths.themes_dir().as_deref())
        .map_err(|e| anyhow::anyhow!("theme: {e}"))?
        .with_color_mode(mode);
    let keymap = Keymap::load(&setup.config.keymap).map_err(anyhow::Error::msg)?;
    let provider = setup.config.llm.primary;
    let mut state = AppState::new(keymap, theme, provider, setup.config.model_of(provider).to_string());
    state.notifier = notify::Notifier::new(&setup.config.notify, &|name| std::env::var(name).ok());
    Ok(state)
}

/// Draws a whole frame from the state (`widgets::draw`); passed in so `app` never imports a
/// widget (imports go widgets → app only).
pub type Draw = fn(&mut ratatui::Frame, &mut AppState, Instant);

/// The lines a chat entry prints as in the transcript of `--inline` (`widgets::chat::entry_lines`).
pub type EntryLines = fn(&mut chat::ChatEntry, u16, &Theme) -> Vec<ratatui::text::Line<'static>>;

/// How the app draws: given by `widgets::RENDER`.
#[derive(Clone, Copy)]
pub struct Render {
    pub draw: Draw,
    pub entry_lines: EntryLines,
}

/// Run the full-screen app until the user quits; returns the exit code.
pub async fn run(
    setup: Setup,
    resume: Option<String>,
    exit_after_first_frame: bool,
    inline: bool,
    render: Render,
) -> Result<i32> {
    let draw = render.draw;
    let mut state = initial_state(&setup)?;
    state.inline = inline;
    let mouse = setup.config.ui.mouse;
    let (mut engine, store_error) = cli::start_engine(setup, resume.as_deref(), !exit_after_first_frame)?;
    if let Some(e) = store_error {
        update::notice(&mut state, LogLevel::Error, format!("{e}. This session will not be saved."));
    }
    let mut guard = if inline {
        let rows = crossterm::terminal::size().map_or(24, |(_, rows)| rows);
        terminal::TerminalGuard::enter_inline(inline::viewport_rows(rows))
    } else {
        terminal::TerminalGuard::enter(mouse)
    }
    .context("cannot set up the terminal")?;
    guard.terminal.draw(|f| draw(f, &mut state, Instant::now()))?;
    if exit_after_first_frame {
        return Ok(0);
    }
    highlight::warm_up();
    let mut highlight_ready = highlight::is_ready();
    let mut input = EventStream::new();
    let mut last_draw = Instant::now();
    let mut last_blocks = Instant::now();
    let mut shutdown_sent_at: Option<Instant> = None;
    let mut input_since_draw = false;
    let mut last_batch = Instant::now();
    let mut compaction_wake: Option<Instant> = None;
    loop {
        let interval = frame_interval(&state, input_since_draw);
        let deadline = next_deadline(&state, last_draw + interval, last_blocks, highlight_ready);
        let deadline = match (deadline, compaction_wake) {
            (Some(d), Some(c)) => Some(d.min(c)),
            (d, c) => d.or(c),
        };
        // While a reply streams, engine events are taken in one batch per streaming frame
        // rather than one wake-up per token; input is always handled at once.
        let engine_gate = if state.busy() { last_batch + STREAM_FRAME } else { last_batch };
        let engine_open = Instant::now() >= engine_gate;
        let deadline =
            if engine_open { deadline } else { Some(deadline.map_or(engine_gate, |d| d.min(engine_gate))) };
        tokio::select! {
            event = input.next() => match event {
                Some(Ok(event)) => {
                    input::handle(&mut state, event, &engine.ops);
                    input_since_draw = true;
                    if let Some(edit) = state.external_edit.take() {
                        // The editor owns the terminal until it exits: no input is read meanwhile.
                        drop(input);
                        guard.suspend();
                        let editor_cmd = editor::command();
                        let result = tokio::task::spawn_blocking(move || editor::edit(&editor_cmd, &edit.text))
                            .await
                            .unwrap_or_else(|e| Err(format!("the editor task failed: {e}")));
                        guard.resume().context("cannot take the terminal back from the editor")?;
                        input = EventStream::new();
                        editor::apply(&mut state, edit.target, result);
                    }
                }
                Some(Err(e)) => state.push_log(LogLevel::Error, format!("terminal input: {e}")),
                None => break,
            },
            event = engine.events.recv(), if engine_open => match event {
                Some(event) => {
                    last_batch = Instant::now();
                    update::apply(&mut state, event);
                    while let Ok(more) = engine.events.try_recv() {
                        update::apply(&mut state, more);
                    }
                    for op in state.outbox.drain(..) {
                        let _ = engine.ops.send(op);
                    }
                }
                None => break,
            },
            _ = sleep_until(deadline) => {}
        }
        if state.should_quit {
            break;
        }
        if shutdown_sent_at.is_some_and(|t| t.elapsed() > Duration::from_secs(3)) {
            break; // the engine did not stop in time; leave anyway
        }
        if !highlight_ready && highlight::is_ready() {
            highlight_ready = true;
            invalidate_rendering(&mut state);
        }
        if state.busy() {
            state.dirty = true; // spinner and elapsed time
        }
        compaction_wake = compaction::tick(&mut state, Instant::now());
        if !state.notifications.is_empty() {
            notify::flush(&mut state, guard.terminal.backend_mut());
        }
        if let Some(text) = state.copied.take() {
            clipboard::write(text, guard.terminal.backend_mut());
        }
        for op in state.outbox.drain(..) {
            let _ = engine.ops.send(op);
        }
        if state.blocks_stale && last_blocks.elapsed() >= BLOCK_REFRESH {
            let from = state.chat.entries.len().saturating_sub(1);
            blocks::refresh_from(&mut state, from);
            last_blocks = Instant::now();
        }
        if let Some(doc) = state.code.doc.as_mut().filter(|d| highlight_ready && !d.highlight_complete()) {
            // Exact highlighting catches up in slices between frames (see highlight::cache).
            doc.advance_highlight(HIGHLIGHT_SLICE);
            state.dirty = true;
        }
        if guard.is_inline() {
            inline::print_finished(&mut state, &mut guard.terminal, render.entry_lines, false)?;
        }
        let interval = frame_interval(&state, input_since_draw);
        if state.dirty && last_draw.elapsed() >= interval {
            guard.terminal.draw(|f| draw(f, &mut state, Instant::now()))?;
            state.dirty = false;
            input_since_draw = false;
            last_draw = Instant::now();
            // The view reached the oldest loaded message: ask for the page before it now.
            paging::after_draw(&mut state);
            for op in state.outbox.drain(..) {
                let _ = engine.ops.send(op);
            }
        }
        if shutdown_sent_at.is_none() && engine.ops.is_closed() {
            shutdown_sent_at = Some(Instant::now());
        }
    }
    let _ = engine.ops.send(Op::Shutdown);
    let _ = tokio::time::timeout(Duration::from_secs(3), engine.task).await;
    if guard.is_inline() {
        // The whole transcript stays in the terminal; the viewport is cleared for the shell.
        let _ = inline::print_finished(&mut state, &mut guard.terminal, render.entry_lines, true);
        // The viewport is cleared and the shell's prompt comes right under the transcript.
        let top = guard.terminal.get_frame().area().as_position();
        let _ = guard.terminal.clear();
        let _ = guard.terminal.set_cursor_position(top);
    }
    drop(guard);
    Ok(0)
}

/// When the loop must wake up without input: the next frame if something is dirty, the
/// spinner while busy, the pending code-block refresh, and polling for highlighting to load.
fn frame_interval(state: &AppState, input_since_draw: bool) -> Duration {
    if state.busy() && !input_since_draw { STREAM_FRAME } else { FRAME }
}

fn next_deadline(
    state: &AppState,
    next_frame: Instant,
    last_blocks: Instant,
    highlight_ready: bool,
) -> Option<Instant> {
    let mut deadline: Option<Instant> = None;
    let mut consider = |t: Instant| deadline = Some(deadline.map_or(t, |d| d.min(t)));
    if state.dirty || state.busy() {
        consider(next_frame); // a pending frame, or the spinner and the next batch of events
    }
    if state.blocks_stale {
        consider(last_blocks + BLOCK_REFRESH);
    }
    if !highlight_ready {
        consider(Instant::now() + Duration::from_millis(50));
    }
    deadline
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

/// Drop cached renderings (e.g. once syntax highlighting has loaded).
pub fn invalidate_rendering(state: &mut AppState) {
    for entry in &mut state.chat.entries {
        entry.cache = Default::default();
    }
    if let Some(selected) = state.code.selected {
        state.code.doc = None;
        state.code.file = None;
        blocks::select(state, selected);
    }
    state.dirty = true;
}
