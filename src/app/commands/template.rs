//! `/template [NAME [key=value …]]`: without a name, list the templates (`Event::Templates`);
//! with one, ask the engine for its parameters and open the form (`app::template_form`),
//! pre-filled with the values typed.

use tokio::sync::mpsc::UnboundedSender;

use crate::engine::protocol::templates::parse_invocation;
use crate::engine::protocol::{LogLevel, Op, TemplateOp};

use super::super::state::AppState;
use super::super::update::notice;
use super::{Args, CommandError};

pub(super) fn template(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    match parse_invocation(args.raw) {
        Ok(None) => {
            let _ = ops.send(Op::Template(TemplateOp::List));
        }
        Ok(Some((name, preset))) => {
            state.template_preset = Some((name.clone(), preset));
            let _ = ops.send(Op::Template(TemplateOp::Open { name }));
        }
        Err(why) => notice(state, LogLevel::Warn, format!("/template: {why}")),
    }
    Ok(())
}
