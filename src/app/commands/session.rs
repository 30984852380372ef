//! Handlers of the commands that become one `Op` for the engine's session: model and provider
//! switches (`/models` lists the local GGUF models too; `/model local:NAME` uses one), the approval policy, undo/rewind, `/mcp`, and the intents (`/generate` … `/docs`), which
//! start a turn like a typed prompt.

use tokio::sync::mpsc::UnboundedSender;

use crate::engine::protocol::{Intent, Op, Policy, ProviderKind};

use super::super::prompt::send_prompt;
use super::super::state::AppState;
use super::{Args, CommandError};

pub(super) fn models(
    _: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    args.none()?;
    let _ = ops.send(Op::ListModels);
    Ok(())
}

/// `/mcp`: the engine answers with every MCP server's state, tools and recent errors.
pub(super) fn mcp(_: &mut AppState, args: Args<'_>, ops: &UnboundedSender<Op>) -> Result<(), CommandError> {
    args.none()?;
    let _ = ops.send(Op::McpStatus);
    Ok(())
}

/// `/model NAME` switches the current provider's model; `/model local:NAME` (a name `/models`
/// lists, or a GGUF path) uses a local model for this session.
pub(super) fn model(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    let model = args.one()?.to_string();
    let op = match model.strip_prefix(LOCAL_PREFIX) {
        Some(local) if !local.is_empty() => Op::UseLocalModel { model: local.to_string(), save: false },
        Some(_) => return Err(args.usage()),
        None => Op::SwitchModel { provider: state.status.provider, model: Some(model) },
    };
    let _ = ops.send(op);
    Ok(())
}

/// How `/models` marks a local model, and how `/model` is told to use one.
const LOCAL_PREFIX: &str = "local:";

/// `/provider KIND [MODEL]`.
pub(super) fn provider(
    _: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    let (kind, model) = match args.words().as_slice() {
        [kind] => (*kind, None),
        [kind, model] => (*kind, Some(model.to_string())),
        _ => return Err(args.usage()),
    };
    let provider = ProviderKind::parse(kind).ok_or_else(|| CommandError::NotAProvider(kind.to_string()))?;
    let _ = ops.send(Op::SwitchModel { provider, model });
    Ok(())
}

pub(super) fn approval(
    _: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    let name = args.one()?;
    let policy = Policy::parse(name).ok_or_else(|| CommandError::NotAPolicy(name.to_string()))?;
    let _ = ops.send(Op::SetPolicy(policy));
    Ok(())
}

/// `/stats [SPAN]`: the figures since a span or date (the engine checks it), or of all history.
pub(super) fn stats(_: &mut AppState, args: Args<'_>, ops: &UnboundedSender<Op>) -> Result<(), CommandError> {
    let query: Vec<String> = args.words().iter().map(|w| w.to_string()).collect();
    if query.len() > 3 {
        return Err(args.usage());
    }
    let _ = ops.send(Op::Stats { query });
    Ok(())
}

/// `/learn`: mine the conventions (answered by `Event::Conventions`, which opens the list).
pub(super) fn learn(_: &mut AppState, args: Args<'_>, ops: &UnboundedSender<Op>) -> Result<(), CommandError> {
    args.none()?;
    let _ = ops.send(Op::Learn);
    Ok(())
}

pub(super) fn think(_: &mut AppState, args: Args<'_>, ops: &UnboundedSender<Op>) -> Result<(), CommandError> {
    let level = crate::engine::protocol::ThinkingLevel::parse(args.one()?).ok_or_else(|| args.usage())?;
    let _ = ops.send(Op::SetThinking(level));
    Ok(())
}

pub(super) fn context(
    _: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    args.none()?;
    let _ = ops.send(Op::Context);
    Ok(())
}

/// `/compact [FOCUS]`: the engine proposes a summary of the conversation (the compaction dialog).
pub(super) fn compact(
    _: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    let focus = Some(args.raw.trim().to_string()).filter(|f| !f.is_empty());
    let _ = ops.send(Op::Compact { focus });
    Ok(())
}

/// `/pull NAME`: the engine downloads it, reporting progress in the status bar.
pub(super) fn pull(_: &mut AppState, args: Args<'_>, ops: &UnboundedSender<Op>) -> Result<(), CommandError> {
    let _ = ops.send(Op::PullModel { reference: args.one()?.to_string() });
    Ok(())
}

/// `/pin [WORDS]`: the engine pins the message and says which.
pub(super) fn pin(_: &mut AppState, args: Args<'_>, ops: &UnboundedSender<Op>) -> Result<(), CommandError> {
    let words = Some(args.raw.trim().to_string()).filter(|w| !w.is_empty());
    let _ = ops.send(Op::Pin { words, pinned: true });
    Ok(())
}

/// `/fork [N]` (`#N` as the Chat pane shows it is taken too): the engine switches to the new
/// session, or says why not (no prompt N, nothing stored).
pub(super) fn fork(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    let before_prompt = match args.words().as_slice() {
        [] => None,
        [n] => Some(n.trim_start_matches('#').parse::<usize>().map_err(|_| args.usage())?),
        _ => return Err(args.usage()),
    };
    if state.busy() {
        state.status.flash = Some((
            "a reply is streaming — Esc cancels it, then /fork".into(),
            crate::engine::protocol::LogLevel::Warn,
        ));
        return Ok(());
    }
    let _ = ops.send(Op::Fork { before_prompt });
    Ok(())
}

/// `/unpin [WORDS]`.
pub(super) fn unpin(_: &mut AppState, args: Args<'_>, ops: &UnboundedSender<Op>) -> Result<(), CommandError> {
    let words = Some(args.raw.trim().to_string()).filter(|w| !w.is_empty());
    let _ = ops.send(Op::Pin { words, pinned: false });
    Ok(())
}

pub(super) fn undo(_: &mut AppState, args: Args<'_>, ops: &UnboundedSender<Op>) -> Result<(), CommandError> {
    args.none()?;
    let _ = ops.send(Op::Undo);
    Ok(())
}

/// `/rewind` lists the changes; `/rewind N` (or `#N`) restores to after change N.
pub(super) fn rewind(
    _: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    let to = match args.words().as_slice() {
        [] => None,
        [n] => Some(n.trim_start_matches('#').parse().map_err(|_| args.usage())?),
        _ => return Err(args.usage()),
    };
    let _ = ops.send(Op::Rewind { to });
    Ok(())
}

pub(super) fn generate(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    intent(state, Intent::Generate, args, ops)
}

pub(super) fn modify(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    intent(state, Intent::Modify, args, ops)
}

pub(super) fn explain(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    intent(state, Intent::Explain, args, ops)
}

pub(super) fn test(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    intent(state, Intent::Test, args, ops)
}

pub(super) fn docs(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    intent(state, Intent::Docs, args, ops)
}

/// `/fix [ERROR TEXT]`: the engine brings the last failed run when no text is given.
pub(super) fn fix(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    send_prompt(state, args.raw.to_string(), Some(Intent::Fix), ops);
    Ok(())
}

/// `/review [FOCUS]`: the engine brings the staged diff or the branch.
pub(super) fn review(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    send_prompt(state, args.raw.to_string(), Some(Intent::Review), ops);
    Ok(())
}

/// The intent's prompt is the text after the command, newlines kept.
fn intent(
    state: &mut AppState,
    intent: Intent,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    let text = args.text()?.to_string();
    send_prompt(state, text, Some(intent), ops);
    Ok(())
}
