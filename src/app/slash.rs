//! Dispatch of a slash command the composer submitted: the line is looked up in
//! `commands::COMMANDS` and the row's handler runs it (most send an `Op` to the engine, some
//! change the UI); a name not in the table may be a custom command the engine announced
//! (`commands::custom`). Every error is shown to the user as a warning notice in the chat.

use tokio::sync::mpsc::UnboundedSender;

use crate::engine::protocol::{LogLevel, Op};

use super::commands::{self, CommandError};
use super::state::AppState;
use super::update::notice;

pub(super) fn run_command(state: &mut AppState, text: &str, ops: &UnboundedSender<Op>) {
    if let Err(e) = dispatch(state, text, ops) {
        notice(state, LogLevel::Warn, e.to_string());
    }
}

/// Parse `text` (a line starting with `/`) and run its row's handler.
pub(super) fn dispatch(
    state: &mut AppState,
    text: &str,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    if let Some(op) = crate::engine::protocol::mcp::slash_op(text, &|s| state.status.mcp_servers.contains(s))
    {
        mcp_prompt(state, text, op, ops);
        return Ok(());
    }
    let args = match commands::parse(text) {
        Ok(args) => args,
        Err(CommandError::Unknown { typed, nearest }) => {
            if commands::custom::find(state, &typed).is_none() {
                return Err(CommandError::Unknown { typed, nearest });
            }
            let body = text.trim().trim_start_matches('/').trim_start();
            let rest = body.split_once(char::is_whitespace).map(|(_, rest)| rest.trim()).unwrap_or("");
            commands::custom::run(state, &typed, rest, ops);
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    (args.command.handler)(state, args, ops)
}

/// `/SERVER:PROMPT …` (an MCP server's prompt): shown as typed, run as a turn by the engine.
fn mcp_prompt(state: &mut AppState, text: &str, op: Op, ops: &UnboundedSender<Op>) {
    if state.busy() {
        state.composer.set_text(text);
        state.status.flash = Some(("a reply is streaming — Esc cancels it".into(), LogLevel::Warn));
        return;
    }
    let entry = crate::app::chat::ChatEntry::new(
        crate::app::chat::EntryKind::User,
        text.trim().to_string(),
        crate::app::chat::EntryStatus::Complete,
    );
    state.chat.entries.push(entry);
    state.status.busy_since = Some(std::time::Instant::now());
    let _ = ops.send(op);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

    use super::*;
    use crate::app::chat::EntryKind;
    use crate::app::commands::COMMANDS;
    use crate::app::keymap::Keymap;
    use crate::app::modals::Modal;
    use crate::engine::protocol::{GitOp, Intent, Policy, ProviderKind};
    use crate::text::theme::Theme;

    fn state() -> AppState {
        let keymap = Keymap::load(&BTreeMap::new()).unwrap();
        let theme = Theme::builtin("dark").unwrap();
        AppState::new(keymap, theme, ProviderKind::Anthropic, "claude".into())
    }

    /// Run `text` on a fresh state: the ops it sent and the state after.
    fn run(text: &str) -> (Vec<Op>, AppState) {
        let mut state = state();
        let (tx, mut rx) = unbounded_channel();
        run_command(&mut state, text, &tx);
        (drain(&mut rx), state)
    }

    fn drain(rx: &mut UnboundedReceiver<Op>) -> Vec<Op> {
        std::iter::from_fn(|| rx.try_recv().ok()).collect()
    }

    fn last_notice(state: &AppState) -> Option<&str> {
        let entry = state.chat.entries.last()?;
        matches!(entry.kind, EntryKind::Notice(LogLevel::Warn)).then_some(entry.text.as_str())
    }

    #[test]
    fn commands_send_the_same_ops_as_before() {
        let cases: Vec<(&str, Op)> = vec![
            ("/approval auto", Op::SetPolicy(Policy::Auto)),
            ("/approval auto-edit", Op::SetPolicy(Policy::AutoEdit)),
            ("/models", Op::ListModels),
            (
                "/model claude-sonnet-4-5",
                Op::SwitchModel {
                    provider: ProviderKind::Anthropic,
                    model: Some("claude-sonnet-4-5".into()),
                },
            ),
            (
                "/provider ollama llama3",
                Op::SwitchModel { provider: ProviderKind::Ollama, model: Some("llama3".into()) },
            ),
            ("/provider openai", Op::SwitchModel { provider: ProviderKind::OpenAi, model: None }),
            ("/undo", Op::Undo),
            ("/rewind", Op::Rewind { to: None }),
            ("/rewind #3", Op::Rewind { to: Some(3) }),
            ("/commit", Op::Git(GitOp::Commit)),
            ("/uncommit", Op::Git(GitOp::Uncommit)),
            ("/pr", Op::Git(GitOp::PullRequest)),
            ("/branch login", Op::Git(GitOp::Branch { name: "login".into() })),
            ("/merge main", Op::Git(GitOp::Merge { branch: "main".into() })),
            (
                "/explain  the\nparser",
                Op::Submit { text: "the\nparser".into(), intent: Some(Intent::Explain) },
            ),
            ("/docs the loader", Op::Submit { text: "the loader".into(), intent: Some(Intent::Docs) }),
            ("/quit", Op::Shutdown),
            ("/q", Op::Shutdown),
        ];
        for (text, op) in cases {
            let (ops, state) = run(text);
            assert_eq!(ops, [op], "{text}");
            assert_eq!(last_notice(&state), None, "{text}");
        }
    }

    #[test]
    fn ui_commands_change_the_state_only() {
        let (ops, state) = run("/help");
        assert!(ops.is_empty());
        assert!(matches!(state.modals.last(), Some(Modal::Help { scroll: 0 })));
        let (ops, state) = run("/graph");
        assert!(ops.is_empty() && state.graph.open);
        let (ops, state) = run("/run");
        assert!(ops.is_empty());
        assert_eq!(last_notice(&state), Some("no code block to run yet: /run runs the block shown in Code"));
    }

    #[test]
    fn git_flows_mark_busy_and_wait_for_a_running_turn() {
        let (_, state) = run("/commit");
        assert!(state.busy() && state.git.flow_running);
        let mut state = state;
        let (tx, mut rx) = unbounded_channel();
        run_command(&mut state, "/merge main", &tx);
        assert!(drain(&mut rx).is_empty());
        assert_eq!(last_notice(&state), Some("wait until the reply or run in progress ends, then try again"));
    }

    #[test]
    fn model_without_a_name_shows_its_usage() {
        let (ops, state) = run("/model");
        assert!(ops.is_empty());
        assert_eq!(
            last_notice(&state),
            Some(
                "usage: /model NAME|local:NAME (use another model of the current provider, or a local GGUF)"
            )
        );
        let (ops, _) = run("/model local:tiny:1b");
        assert_eq!(ops, [Op::UseLocalModel { model: "tiny:1b".into(), save: false }]);
        assert!(run("/model local:").0.is_empty());
    }

    #[test]
    fn bad_values_and_unknown_commands_are_explained() {
        let (ops, state) = run("/provider nope");
        assert!(ops.is_empty());
        assert!(last_notice(&state).unwrap().contains("`nope` is not a provider"));
        let (_, state) = run("/approval sometimes");
        assert!(last_notice(&state).unwrap().contains("`sometimes` is not a policy"));
        let (ops, state) = run("/undoo");
        assert!(ops.is_empty());
        assert!(last_notice(&state).unwrap().contains("did you mean /undo?"));
    }

    /// Every row rejects some arguments (none where it needs some, three words where it takes
    /// at most two) with its own usage line — but rows whose only argument is optional free text
    /// (`[ERROR TEXT]`), which take anything.
    #[test]
    fn every_row_reports_its_own_usage() {
        for command in COMMANDS.iter().filter(|c| !(c.args.starts_with('[') && c.args.ends_with(']'))) {
            let mut errors = Vec::new();
            for args in ["", " a b c"] {
                let (tx, _rx) = unbounded_channel();
                if let Err(e) = dispatch(&mut state(), &format!("/{}{args}", command.name), &tx) {
                    errors.push(e);
                }
            }
            let usage = errors
                .iter()
                .find(|e| matches!(e, CommandError::Usage { name, .. } if *name == command.name))
                .unwrap_or_else(|| panic!("/{} never reports its usage: {errors:?}", command.name));
            assert!(usage.to_string().starts_with(&format!("usage: {}", command.synopsis())), "{usage}");
            assert!(usage.to_string().contains(command.args), "{usage}");
        }
    }
}
