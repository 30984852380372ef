//! Handlers of the git flows (`/commit`, `/uncommit`, `/pr`, `/branch`, `/merge`): each becomes
//! one `Op::Git` that the engine runs through the gate.
//!
//! Invariant: a flow is refused while a reply or run is in progress; once sent, the UI is busy
//! (so Esc/Ctrl+C can cancel it) until the flow reports `GitChanged`.

use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use crate::engine::protocol::{GitOp, LogLevel, Op};

use super::super::state::AppState;
use super::super::update::notice;
use super::{Args, CommandError};

pub(super) fn commit(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    args.none()?;
    flow(state, GitOp::Commit, ops)
}

pub(super) fn uncommit(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    args.none()?;
    flow(state, GitOp::Uncommit, ops)
}

pub(super) fn pull_request(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    args.none()?;
    flow(state, GitOp::PullRequest, ops)
}

pub(super) fn branch(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    let name = args.one()?.to_string();
    flow(state, GitOp::Branch { name }, ops)
}

pub(super) fn merge(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    let branch = args.one()?.to_string();
    flow(state, GitOp::Merge { branch }, ops)
}

fn flow(state: &mut AppState, op: GitOp, ops: &UnboundedSender<Op>) -> Result<(), CommandError> {
    if state.busy() {
        notice(state, LogLevel::Warn, "wait until the reply or run in progress ends, then try again");
        return Ok(());
    }
    state.status.busy_since = Some(Instant::now());
    state.git.flow_running = true;
    let _ = ops.send(Op::Git(op));
    Ok(())
}
