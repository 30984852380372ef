//! Custom slash commands (`engine::custom_commands`) in the TUI: the names the engine announced
//! (`Event::CustomCommands`), reached when a typed name is not in the built-in table (so a
//! built-in always wins), run by the engine (`Op::Command`), which expands them; what the
//! completion popup and `/help` show of each.

use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use crate::app::chat::{ChatEntry, EntryKind, EntryStatus};
use crate::engine::protocol::{CustomCommandInfo, LogLevel, Op};

use super::super::state::AppState;

/// The announced custom command typed as `/name args`, if `name` is one (and no built-in).
pub fn find<'a>(state: &'a AppState, name: &str) -> Option<&'a CustomCommandInfo> {
    if super::find(name).is_some() {
        return None;
    }
    state.composer.custom_commands.iter().find(|c| c.name == name)
}

/// Show `/name args` in the chat and ask the engine to run it (not while a turn runs).
pub fn run(state: &mut AppState, name: &str, args: &str, ops: &UnboundedSender<Op>) {
    if state.busy() {
        state.composer.set_text(&format!("/{name} {args}"));
        state.status.flash = Some(("a reply is streaming — Esc cancels it".into(), LogLevel::Warn));
        return;
    }
    let shown = format!("/{name} {args}").trim_end().to_string();
    state.chat.entries.push(ChatEntry::new(EntryKind::User, shown, EntryStatus::Complete));
    state.chat.scroll_from_bottom = 0;
    state.status.busy_since = Some(Instant::now());
    state.status.flash = None;
    state.suggestions.clear();
    let _ = ops.send(Op::Command { name: name.to_string(), args: args.to_string() });
}

/// `/name ARG-HINT` for `/help`.
pub fn synopsis(command: &CustomCommandInfo) -> String {
    if command.argument_hint.is_empty() {
        format!("/{}", command.name)
    } else {
        format!("/{} {}", command.name, command.argument_hint)
    }
}

/// The description with where it comes from ("(user)", "(repository)", or held back).
pub fn description(command: &CustomCommandInfo) -> String {
    let whose = if command.held {
        "repository, not trusted: `kv1nt trust`".to_string()
    } else {
        command.source.name().to_string()
    };
    format!("{} ({whose})", command.description)
}

/// The announced custom commands a built-in does not shadow, in name order.
pub fn visible(commands: &[CustomCommandInfo]) -> impl Iterator<Item = &CustomCommandInfo> {
    commands.iter().filter(|c| super::find(&c.name).is_none())
}
