//! `/template [NAME [key=value …]]`: without a name, list the templates (`Event::Templates`);
//! with one, ask the engine for its parameters and open the form (`app::template_form`),
//! pre-filled with the values typed.

use std::collections::BTreeMap;

use tokio::sync::mpsc::UnboundedSender;

use crate::engine::protocol::{Op, TemplateOp};

use super::super::state::AppState;
use super::{Args, CommandError};

pub(super) fn template(
    state: &mut AppState,
    args: Args<'_>,
    ops: &UnboundedSender<Op>,
) -> Result<(), CommandError> {
    let words = args.words();
    let Some((name, rest)) = words.split_first() else {
        let _ = ops.send(Op::Template(TemplateOp::List));
        return Ok(());
    };
    let mut preset = BTreeMap::new();
    for word in rest {
        let (key, value) = word.split_once('=').ok_or_else(|| args.usage())?;
        preset.insert(key.to_string(), value.to_string());
    }
    state.template_preset = Some((name.to_string(), preset));
    let _ = ops.send(Op::Template(TemplateOp::Open { name: name.to_string() }));
    Ok(())
}
