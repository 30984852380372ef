//! Turning terminal input (keys, mouse, paste) into state changes and `Op`s for the engine.
//!
//! Invariant: while a modal is up, every key goes to it and nothing reaches the composer.

use crossterm::event::{Event as TermEvent, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use tokio::sync::mpsc::UnboundedSender;

use crate::engine::protocol::{LogLevel, Op};

use super::approvals;
use super::blocks;
use super::commands;
use super::git_view;
use super::graph_panel;
use super::keymap::{KeyAction, KeyContext};
use super::modals::{ConfirmDialog, ConfirmPurpose, Modal};
use super::scroll::{Scroll, scroll, scroll_pane};
use super::selection;
use super::state::{AppState, Focus, Pane};

pub fn handle(state: &mut AppState, event: TermEvent, ops: &UnboundedSender<Op>) {
    state.dirty = true;
    on_event(state, event, ops);
    for op in state.outbox.drain(..) {
        let _ = ops.send(op);
    }
}

fn on_event(state: &mut AppState, event: TermEvent, ops: &UnboundedSender<Op>) {
    match event {
        TermEvent::Key(key) if key.kind != KeyEventKind::Release => on_key(state, key, ops),
        TermEvent::Mouse(mouse) => on_mouse(state, mouse, ops),
        TermEvent::FocusGained => super::notify::on_focus(state, true),
        TermEvent::FocusLost => super::notify::on_focus(state, false),
        // The selection's lines were laid out for the old width.
        TermEvent::Resize(..) => state.selection = None,
        TermEvent::Paste(text) if state.modals.is_empty() => {
            state.focus = Focus::Composer;
            state.composer.paste(&text);
        }
        TermEvent::Paste(text)
            if !super::compaction::on_paste(state, &text) && !super::plan::on_paste(state, &text) =>
        {
            approvals::on_paste(state, &text)
        }
        _ => {}
    }
}

fn on_key(state: &mut AppState, key: KeyEvent, ops: &UnboundedSender<Op>) {
    let contexts = chord_contexts(state);
    if let Some(first) = state.pending_chord.take() {
        state.status.flash = None;
        if let Some(action) = state.keymap.chord(&contexts, first, &key) {
            if action == KeyAction::ExternalEditor {
                super::editor::request(state);
            }
            return;
        }
        // Not a chord after all: the first key is dropped and this one does what it does.
    }
    if state.keymap.starts_chord(&contexts, &key) {
        let first = super::keymap::KeyCombo::from_event(&key);
        state.status.flash = Some((format!("{} …", first.label()), LogLevel::Info));
        state.pending_chord = Some(first);
        return;
    }
    if !state.modals.is_empty() {
        return on_layer_key(state, key, ops);
    }
    if super::search::on_key(state, key) {
        return;
    }
    if state.graph.open && graph_panel::on_key(state, key) {
        return;
    }
    match state.focus {
        Focus::Composer => {
            let popup = !state.composer.completions().is_empty();
            let action = state.keymap.lookup(&[KeyContext::Composer, KeyContext::Global], &key);
            match action {
                // Tab completes only while the popup is up; Alt+N takes a follow-up only when
                // there is one. Otherwise the key does what it does everywhere.
                Some(KeyAction::Complete) if !popup => {
                    if let Some(global) = state.keymap.lookup(&[KeyContext::Global], &key) {
                        perform(state, global, ops);
                    }
                }
                Some(a) if suggestion_index(a).is_some_and(|i| i >= state.suggestions.len()) => {
                    if let Some(global) = state.keymap.lookup(&[KeyContext::Global], &key) {
                        perform(state, global, ops);
                    }
                }
                Some(KeyAction::HistoryPrev | KeyAction::HistoryNext) if popup => {
                    state.composer.move_completion(action == Some(KeyAction::HistoryNext));
                }
                Some(KeyAction::Submit) if popup && !is_complete_command(state) => {
                    state.composer.accept_completion();
                }
                Some(KeyAction::HistoryPrev) if !state.composer.at_edge(true) => {
                    state.composer.textarea.input(key);
                }
                Some(KeyAction::HistoryNext) if !state.composer.at_edge(false) => {
                    state.composer.textarea.input(key);
                }
                Some(action) => perform(state, action, ops),
                None => {
                    state.composer.textarea.input(key);
                    state.composer.completion_selected = 0;
                }
            }
        }
        Focus::Pane(pane) if state.git.open && matches!(pane, Pane::Code | Pane::Diff) => {
            let contexts = [KeyContext::Git, KeyContext::Pane, KeyContext::Global];
            if let Some(action) = state.keymap.lookup(&contexts, &key)
                && !git_view::on_action(state, action)
            {
                perform(state, action, ops);
            }
        }
        Focus::Pane(Pane::Output)
            if state.keymap.lookup(&[KeyContext::Output], &key).is_some_and(|action| {
                state.output.view == super::problems::OutputView::Problems
                    || action == KeyAction::ProblemsToggle
            }) =>
        {
            let contexts = [KeyContext::Output, KeyContext::Pane, KeyContext::Global];
            if let Some(action) = state.keymap.lookup(&contexts, &key)
                && !super::problems::on_action(state, action, ops)
            {
                perform(state, action, ops);
            }
        }
        Focus::Pane(Pane::Output) if state.output.view == super::problems::OutputView::Problems => {
            match state.keymap.lookup(&[KeyContext::Pane, KeyContext::Global], &key) {
                Some(action) if super::problems::on_action(state, action, ops) => {}
                Some(action) => perform(state, action, ops),
                None => {}
            }
        }
        Focus::Pane(_) => match state.keymap.lookup(&[KeyContext::Pane, KeyContext::Global], &key) {
            Some(action) => perform(state, action, ops),
            None if matches!(key.code, crossterm::event::KeyCode::Char(_)) => {
                state.focus = Focus::Composer;
                state.composer.textarea.input(key);
            }
            None => {}
        },
    }
}

/// Where chords are looked up: the composer (and everywhere) when no dialog is up, the approval
/// dialog's own bindings when it is on top; nowhere else.
fn chord_contexts(state: &AppState) -> Vec<KeyContext> {
    match state.modals.last() {
        Some(Modal::Approval(_)) => vec![KeyContext::Approval],
        None if state.focus == Focus::Composer => vec![KeyContext::Composer, KeyContext::Global],
        _ => Vec::new(),
    }
}

fn is_complete_command(state: &AppState) -> bool {
    let text = state.composer.text();
    commands::COMMANDS.iter().any(|c| text.trim() == format!("/{}", c.name))
}

fn on_layer_key(state: &mut AppState, key: KeyEvent, ops: &UnboundedSender<Op>) {
    if matches!(state.modals.last(), Some(Modal::Approval(_))) {
        return approvals::on_key(state, key, ops);
    }
    if matches!(state.modals.last(), Some(Modal::TemplateForm(_))) {
        return super::template_form::on_key(state, key, ops);
    }
    if matches!(state.modals.last(), Some(Modal::Learn(_))) {
        return super::learn::on_key(state, key, ops);
    }
    if matches!(state.modals.last(), Some(Modal::FirstRun(_))) {
        return super::first_run::on_key(state, key, ops);
    }
    if matches!(state.modals.last(), Some(Modal::Compaction(_))) {
        return super::compaction::on_key(state, key);
    }
    if matches!(state.modals.last(), Some(Modal::Plan(_))) {
        return super::plan::on_key(state, key);
    }
    let action = state.keymap.lookup(&[KeyContext::Modal], &key);
    match state.modals.last_mut() {
        Some(Modal::Confirm(dialog)) => match action {
            Some(KeyAction::ConfirmYes) if key.code == crossterm::event::KeyCode::Enter => {
                let yes = dialog.yes_selected;
                answer(state, yes, ops);
            }
            Some(KeyAction::ConfirmYes) => answer(state, true, ops),
            Some(KeyAction::ConfirmNo) => answer(state, false, ops),
            Some(KeyAction::ToggleChoice) => dialog.yes_selected = !dialog.yes_selected,
            _ => {}
        },
        Some(Modal::Help { scroll }) => {
            match state.keymap.lookup(&[KeyContext::Pane, KeyContext::Global], &key) {
                Some(KeyAction::ScrollDown) => *scroll += 1,
                Some(KeyAction::ScrollUp) => *scroll = scroll.saturating_sub(1),
                Some(KeyAction::PageDown) => *scroll += 10,
                Some(KeyAction::PageUp) => *scroll = scroll.saturating_sub(10),
                Some(KeyAction::Quit) => {
                    state.modals.pop();
                    perform(state, KeyAction::Quit, ops);
                }
                _ if matches!(
                    key.code,
                    crossterm::event::KeyCode::Esc
                        | crossterm::event::KeyCode::Char('q' | '?')
                        | crossterm::event::KeyCode::F(1)
                ) =>
                {
                    state.modals.pop();
                }
                _ => {}
            }
        }
        Some(Modal::Stats(_)) => match state.keymap.lookup(&[KeyContext::Pane, KeyContext::Global], &key) {
            Some(KeyAction::Quit) => {
                state.modals.pop();
                perform(state, KeyAction::Quit, ops);
            }
            _ if matches!(
                key.code,
                crossterm::event::KeyCode::Esc
                    | crossterm::event::KeyCode::Char('q')
                    | crossterm::event::KeyCode::Enter
            ) =>
            {
                state.modals.pop();
            }
            _ => {}
        },
        Some(
            Modal::Approval(_)
            | Modal::TemplateForm(_)
            | Modal::Learn(_)
            | Modal::FirstRun(_)
            | Modal::Compaction(_)
            | Modal::Plan(_),
        )
        | None => {}
    }
}

/// Answer the top confirm dialog.
fn answer(state: &mut AppState, yes: bool, ops: &UnboundedSender<Op>) {
    let Some(Modal::Confirm(dialog)) = state.modals.pop() else { return };
    match dialog.purpose {
        ConfirmPurpose::QuitWhileStreaming if yes => quit_now(state, ops),
        ConfirmPurpose::QuitWhileStreaming => {}
        ConfirmPurpose::Engine(id) => {
            let _ = ops.send(Op::Answer { id, approved: yes });
        }
    }
}

fn quit_now(state: &mut AppState, ops: &UnboundedSender<Op>) {
    state.push_log(LogLevel::Info, "quitting");
    if ops.send(Op::Shutdown).is_err() {
        state.should_quit = true;
    }
}

pub fn request_quit(state: &mut AppState, ops: &UnboundedSender<Op>) {
    if state.busy() {
        let dialog = ConfirmDialog::new(
            ConfirmPurpose::QuitWhileStreaming,
            "Quit while a reply streams?",
            "The reply is still streaming. Quit anyway? What arrived so far is saved, marked incomplete.",
        );
        state.modals.push(Modal::Confirm(dialog));
    } else {
        quit_now(state, ops);
    }
}

pub fn perform(state: &mut AppState, action: KeyAction, ops: &UnboundedSender<Op>) {
    match action {
        KeyAction::Quit => request_quit(state, ops),
        KeyAction::Cancel if selection::esc_drops(state) => state.selection = None,
        KeyAction::Interrupt if state.busy() => {
            let _ = ops.send(Op::Cancel);
        }
        KeyAction::Interrupt if !state.composer.is_empty() => state.composer.set_text(""),
        KeyAction::Interrupt => request_quit(state, ops),
        KeyAction::Cancel if state.busy() => {
            let _ = ops.send(Op::Cancel);
        }
        KeyAction::Cancel if state.zoom.is_some() => state.zoom = None,
        KeyAction::Cancel => state.focus = Focus::Composer,
        KeyAction::Help => state.modals.push(Modal::Help { scroll: 0 }),
        KeyAction::GitToggle => git_view::toggle(state),
        KeyAction::GraphToggle => graph_panel::toggle(state),
        KeyAction::Search => {
            let pane = match state.focus {
                Focus::Pane(pane) if super::search::searchable(pane) => pane,
                _ => Pane::Chat,
            };
            super::search::start(state, pane);
        }
        KeyAction::ToggleThinking => {
            if !state.chat.toggle_thinking() {
                state.status.flash =
                    Some(("no Thinking blocks yet (/think low|high turns it on)".into(), LogLevel::Info));
            }
        }
        KeyAction::FocusNext | KeyAction::FocusPrev => {
            state.focus = state.focus.cycle(action == KeyAction::FocusNext);
            if let Focus::Pane(pane) = state.focus {
                state.tab = pane;
                if state.zoom.is_some() {
                    state.zoom = Some(pane);
                }
            }
        }
        KeyAction::FocusChat => focus_pane(state, Pane::Chat),
        KeyAction::FocusCode => focus_pane(state, Pane::Code),
        KeyAction::FocusDiff => focus_pane(state, Pane::Diff),
        KeyAction::FocusOutput => focus_pane(state, Pane::Output),
        KeyAction::FocusComposer => state.focus = Focus::Composer,
        KeyAction::Zoom => {
            let pane = match state.focus {
                Focus::Pane(p) => p,
                Focus::Composer => state.tab,
            };
            state.zoom = if state.zoom.is_some() { None } else { Some(pane) };
        }
        KeyAction::NextBlock | KeyAction::PrevBlock => blocks::step(state, action == KeyAction::NextBlock),
        KeyAction::Submit => super::prompt::submit(state, ops),
        KeyAction::Newline => state.composer.textarea.insert_newline(),
        KeyAction::HistoryPrev => state.composer.history_prev(),
        KeyAction::HistoryNext => state.composer.history_next(),
        KeyAction::Complete => {
            state.composer.accept_completion();
        }
        KeyAction::ExternalEditor => super::editor::request(state),
        KeyAction::SelectLines => selection::start_keys(state),
        KeyAction::Copy => selection::yank(state),
        KeyAction::ScrollUp => selection::scroll_or_extend(state, Scroll::Lines(-1)),
        KeyAction::ScrollDown => selection::scroll_or_extend(state, Scroll::Lines(1)),
        KeyAction::PageUp => selection::scroll_or_extend(state, Scroll::Pages(-1)),
        KeyAction::PageDown => selection::scroll_or_extend(state, Scroll::Pages(1)),
        KeyAction::ScrollTop => scroll(state, Scroll::Top),
        KeyAction::ScrollBottom => scroll(state, Scroll::Bottom),
        KeyAction::ScrollLeft => state.code.scroll_x = state.code.scroll_x.saturating_sub(4),
        KeyAction::ScrollRight => state.code.scroll_x += 4,
        KeyAction::CyclePolicy => {
            let _ = ops.send(Op::SetPolicy(state.status.policy.next()));
        }
        KeyAction::Suggestion1 | KeyAction::Suggestion2 | KeyAction::Suggestion3 | KeyAction::Suggestion4 => {
            super::prompt::take_suggestion(state, suggestion_index(action).unwrap_or(0), ops);
        }
        KeyAction::ConfirmYes
        | KeyAction::ConfirmNo
        | KeyAction::ToggleChoice
        | KeyAction::ApproveOnce
        | KeyAction::ApproveSession
        | KeyAction::Deny
        | KeyAction::DenyWithMessage
        | KeyAction::EditProposal
        | KeyAction::SaveEdit
        | KeyAction::GitStage
        | KeyAction::GitUnstage
        | KeyAction::GitStageLine
        | KeyAction::GitUnstageLine
        | KeyAction::GitSide
        | KeyAction::GitRefresh
        | KeyAction::ProblemsToggle
        | KeyAction::OpenProblem => {}
    }
}

fn suggestion_index(action: KeyAction) -> Option<usize> {
    match action {
        KeyAction::Suggestion1 => Some(0),
        KeyAction::Suggestion2 => Some(1),
        KeyAction::Suggestion3 => Some(2),
        KeyAction::Suggestion4 => Some(3),
        _ => None,
    }
}

fn focus_pane(state: &mut AppState, pane: Pane) {
    state.focus = Focus::Pane(pane);
    state.tab = pane;
}

fn on_mouse(state: &mut AppState, mouse: MouseEvent, ops: &UnboundedSender<Op>) {
    if mouse.modifiers.contains(crossterm::event::KeyModifiers::SHIFT) {
        return; // Shift+drag is the terminal's own selection
    }
    let at = Position { x: mouse.column, y: mouse.row };
    let inside = |r: &Rect| r.contains(at);
    match mouse.kind {
        MouseEventKind::ScrollUp | MouseEventKind::ScrollDown if state.modals.is_empty() => {
            let lines = if mouse.kind == MouseEventKind::ScrollUp { -3 } else { 3 };
            if let Some((pane, _)) = state.hit.panes.iter().find(|(_, r)| inside(r)).copied() {
                scroll_pane(state, pane, Scroll::Lines(lines));
            }
        }
        MouseEventKind::Down(MouseButton::Left) => {
            if let Some(Modal::Confirm(_)) = state.modals.last() {
                if let Some((yes, _)) = state.hit.buttons.iter().find(|(_, r)| inside(r)).copied() {
                    answer(state, yes, ops);
                }
                return;
            }
            if !state.modals.is_empty() {
                return;
            }
            state.selection = None;
            if inside(&state.hit.composer) {
                state.focus = Focus::Composer;
            } else if let Some((pane, _)) = state.hit.panes.iter().find(|(_, r)| inside(r)).copied() {
                focus_pane(state, pane);
                selection::mouse_down(state, pane, mouse.column, mouse.row);
            }
        }
        MouseEventKind::Drag(MouseButton::Left) => selection::mouse_drag(state, mouse.column, mouse.row),
        MouseEventKind::Up(MouseButton::Left) => selection::mouse_up(state),
        _ => {}
    }
}
