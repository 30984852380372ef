//! Handlers of the commands that change the UI itself (`/help`, `/quit`, `/git`, `/graph`,
//! `/diff`, `/copy`) and `/run`, which sends the block shown in Code to the sandbox.

use tokio::sync::mpsc::UnboundedSender;

use crate::engine::protocol::{LogLevel, Op};

use super::super::git_view;
use super::super::graph_panel;
use super::super::input::request_quit;
use super::super::modals::Modal;
use super::super::state::AppState;
use super::super::update::notice;
use super::{Args, CommandError};

pub(super) fn help(
    state: &mut AppState,
    args: Args<'_>,
    _: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    args.none()?;
    state.modals.push(Modal::Help { scroll: 0 });
    Ok(())
}

pub(super) fn quit(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    args.none()?;
    request_quit(state, ops);
    Ok(())
}

pub(super) fn git(state: &mut AppState, args: Args<'_>, _: &UnboundedSender<Op>) -> Result<(), CommandError> {
    args.none()?;
    git_view::toggle(state);
    Ok(())
}

pub(super) fn graph(
    state: &mut AppState,
    args: Args<'_>,
    _: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    args.none()?;
    graph_panel::toggle(state);
    Ok(())
}

pub(super) fn diff(
    state: &mut AppState,
    args: Args<'_>,
    _: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    args.none()?;
    git_view::show_all(state);
    Ok(())
}

/// `/run`: the block shown in Code goes to the sandbox (its output streams into Output).
pub(super) fn run(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    args.none()?;
    let selected = state.code.selected.and_then(|i| state.code.blocks.get(i));
    let message = match selected {
        _ if state.busy() => "wait until the reply or run in progress ends (Esc cancels it), then /run",
        None => "no code block to run yet: /run runs the block shown in Code",
        Some(b) if !b.block.complete => "the block is still streaming; /run when it is complete",
        Some(b) => {
            let (language, code) = (b.block.lang.clone(), b.block.code.clone());
            let _ = ops.send(Op::RunCode { language, code });
            return Ok(());
        }
    };
    notice(state, LogLevel::Warn, message);
    Ok(())
}

/// `/copy`: the last answer, as the model wrote it (markdown), onto the clipboard.
pub(super) fn copy(
    state: &mut AppState,
    args: Args<'_>,
    _: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    args.none()?;
    let answer = state
        .chat
        .entries
        .iter()
        .rev()
        .find(|e| e.kind == crate::app::chat::EntryKind::Assistant && !e.text.trim().is_empty())
        .map(|e| e.text.clone());
    match answer {
        Some(text) => crate::app::selection::copy(state, text),
        None => notice(state, LogLevel::Warn, "no answer to copy yet"),
    }
    Ok(())
}

/// `/check`: run the project's checks now; their output streams into Output and the Problems
/// list (`p` in Output) shows what they found.
pub(super) fn check(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    args.none()?;
    if state.busy() {
        notice(
            state,
            LogLevel::Warn,
            "wait until the reply or run in progress ends (Esc cancels it), then /check",
        );
        return Ok(());
    }
    state.output.view = crate::app::problems::OutputView::Problems;
    let _ = ops.send(Op::Check);
    Ok(())
}
