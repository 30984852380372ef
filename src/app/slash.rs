//! Running a slash command the composer submitted: most become `Op`s for the engine, some change
//! the UI (`/git`, `/graph`, `/help`), `/run` sends the block shown in Code to the sandbox.

use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use crate::engine::protocol::{LogLevel, Op};

use super::commands::{self, Command};
use super::git_view;
use super::graph_panel;
use super::input::{request_quit, send_prompt};
use super::modals::Modal;
use super::state::AppState;
use super::update::notice;

pub(super) fn run_command(state: &mut AppState, text: &str, ops: &UnboundedSender<Op>) {
    match commands::parse(text) {
        Ok(Command::Help) => state.modals.push(Modal::Help { scroll: 0 }),
        Ok(Command::Quit) => request_quit(state, ops),
        Ok(Command::Models) => {
            let _ = ops.send(Op::ListModels);
        }
        Ok(Command::Model(model)) => {
            let provider = state.status.provider;
            let _ = ops.send(Op::SwitchModel { provider, model: Some(model) });
        }
        Ok(Command::Provider(provider, model)) => {
            let _ = ops.send(Op::SwitchModel { provider, model });
        }
        Ok(Command::Undo) => {
            let _ = ops.send(Op::Undo);
        }
        Ok(Command::Rewind(to)) => {
            let _ = ops.send(Op::Rewind { to });
        }
        Ok(Command::Run) => run_selected_block(state, ops),
        Ok(Command::Git) => git_view::toggle(state),
        Ok(Command::Graph) => graph_panel::toggle(state),
        Ok(Command::Diff) => git_view::show_all(state),
        Ok(Command::GitFlow(op)) if state.busy() => {
            let _ = op;
            notice(state, LogLevel::Warn, "wait until the reply or run in progress ends, then try again");
        }
        Ok(Command::GitFlow(op)) => {
            // Busy until the flow reports `GitChanged`, so Esc/Ctrl+C can cancel it.
            state.status.busy_since = Some(Instant::now());
            state.git.flow_running = true;
            let _ = ops.send(Op::Git(op));
        }
        Ok(Command::Approval(policy)) => {
            let _ = ops.send(Op::SetPolicy(policy));
        }
        Ok(Command::Intent(intent, text)) => send_prompt(state, text, Some(intent), ops),
        Err(message) => notice(state, LogLevel::Warn, message),
    }
}

/// `/run`: the block shown in Code goes to the sandbox (its output streams into Output).
fn run_selected_block(state: &mut AppState, ops: &UnboundedSender<Op>) {
    let selected = state.code.selected.and_then(|i| state.code.blocks.get(i));
    let message = match selected {
        _ if state.busy() => "wait until the reply or run in progress ends (Esc cancels it), then /run",
        None => "no code block to run yet: /run runs the block shown in Code",
        Some(b) if !b.block.complete => "the block is still streaming; /run when it is complete",
        Some(b) => {
            let (language, code) = (b.block.lang.clone(), b.block.code.clone());
            let _ = ops.send(Op::RunCode { language, code });
            return;
        }
    };
    notice(state, LogLevel::Warn, message);
}
