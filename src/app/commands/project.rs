//! Project knowledge commands: `/deps [add NAME]`, `/config-check`, `/env-example`. Each sends
//! `Op::Project`; the engine answers with `Event::Project` (shown as a notice), and a proposal
//! (manifest edit, `.env.example`) comes as the usual approval dialog first.

use tokio::sync::mpsc::UnboundedSender;

use super::{Args, CommandError};
use crate::app::state::AppState;
use crate::engine::protocol::{Op, ProjectOp};

/// `/deps`: the report; `/deps add NAME`: declare a missing dependency (asks first).
pub(super) fn deps(_: &mut AppState, args: Args<'_>, ops: &UnboundedSender<Op>) -> Result<(), CommandError> {
    let op = match args.words().as_slice() {
        [] => ProjectOp::Deps,
        ["add", name] => ProjectOp::AddDependency { name: (*name).to_string() },
        _ => return Err(args.usage()),
    };
    let _ = ops.send(Op::Project(op));
    Ok(())
}

pub(super) fn config_check(
    _: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    args.none()?;
    let _ = ops.send(Op::Project(ProjectOp::ConfigCheck));
    Ok(())
}

pub(super) fn env_example(
    _: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    args.none()?;
    let _ = ops.send(Op::Project(ProjectOp::EnvExample));
    Ok(())
}
