//! The bounded fix loop: when the model ends a turn that applied changes and the project checks
//! now fail where they did not before the turn (the report [`CheckReport::since`] the turn's
//! baseline: a check it broke, an error it added), the failures go back to the model as a
//! message and the turn goes on with another step.
//!
//! Invariants: at most `checks.max_fix_rounds` rounds per turn (0 turns the loop off); a round
//! that leaves exactly the failures of the round before ends the loop (the model is not fixing
//! them, and another round would only spend tokens); failures that were there before the turn
//! never start a round. Each round is announced to the user as a notice and kept in the history
//! as a user-role message that says it came from kv1nt; Esc cancels the checks or the model's
//! step like any other. The number of rounds and whether the turn left the checks no worse are
//! recorded on the turn's proposals (`checks.rs`, `store::proposals`).

use super::checks::QUOTED;
use super::reply::Interrupt;
use super::runtime::Engine;
use crate::engine::checks::CheckWhen;
use crate::engine::llm::Message;
use crate::engine::protocol::{CheckDelta, CheckReport, LogLevel};
use crate::engine::store::MessageStatus;

/// The fix loop's memory within one turn.
#[derive(Debug, Default)]
pub(super) struct FixState {
    /// Rounds run so far.
    pub rounds: u32,
    /// The failures that started the last round, to notice a round that changed nothing.
    last: Option<Vec<String>>,
}

impl Engine {
    /// The model ended its reply without tool calls. When the turn applied changes that broke
    /// the checks and a round is left, ask the model to fix them: `Ok(true)` means the turn
    /// takes another step. Errors only when the user cancelled the checks or the engine stops.
    pub(super) async fn fix_round(&mut self) -> Result<bool, Interrupt> {
        let max = self.config.checks.max_fix_rounds;
        if max == 0 || self.turn.edits_applied == 0 || self.config.checks.when == CheckWhen::Off {
            return Ok(false);
        }
        let report = self.current_checks().await?;
        let Some(delta) = self.checks_baseline().map(|before| report.since(before)) else {
            return Ok(false);
        };
        if delta.is_clean() {
            return Ok(false);
        }
        let what = broken_summary(&delta);
        let signature = signature(&delta);
        let rounds = self.turn.fix.rounds;
        if self.turn.fix.last.as_ref() == Some(&signature) {
            self.notice(
                LogLevel::Warn,
                format!(
                    "The checks fail just as before the last fix round ({what}): stopped after {rounds} round{}.",
                    plural(rounds)
                ),
            );
            return Ok(false);
        }
        if rounds >= max {
            self.notice(
                LogLevel::Warn,
                format!(
                    "The checks still fail after {max} fix round{} ({what}): checks.max_fix_rounds.",
                    plural(max)
                ),
            );
            return Ok(false);
        }
        let round = rounds + 1;
        self.turn.fix = FixState { rounds: round, last: Some(signature) };
        self.notice(
            LogLevel::Info,
            format!("Fix round {round}/{max}: {what}; the model is asked to fix it."),
        );
        let message = Message::user(fix_prompt(&delta, &report, round, max));
        self.persist_new(&message, MessageStatus::Complete);
        self.history.push(message);
        Ok(true)
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// "cargo check fails, 2 new errors".
pub(super) fn broken_summary(delta: &CheckDelta) -> String {
    let mut what: Vec<String> = delta.broken.iter().map(|c| format!("{c} fails")).collect();
    match delta.new_errors.len() {
        0 => {}
        1 => what.push("1 new error".into()),
        n => what.push(format!("{n} new errors")),
    }
    what.join(", ")
}

/// What a round is about, independent of line numbers an edit moves.
fn signature(delta: &CheckDelta) -> Vec<String> {
    let mut keys: Vec<String> = delta.broken.iter().map(|c| format!("check {c}")).collect();
    keys.extend(delta.new_errors.iter().map(|d| {
        format!("{}\u{1f}{}\u{1f}{}\u{1f}{}", d.check, d.file, d.code.as_deref().unwrap_or(""), d.message)
    }));
    keys.sort();
    keys
}

/// The message the model gets: what its changes broke, the new errors one per line, and for a
/// broken check that reported no diagnostic, its own summary.
fn fix_prompt(delta: &CheckDelta, report: &CheckReport, round: u32, max: u32) -> String {
    let mut text = format!(
        "[kv1nt fix round {round} of {max}] The project checks fail after your changes: {}.\n\
         Fix what your changes broke (read the files again first), then stop. \
         Errors that were there before this request are not yours to fix.",
        broken_summary(delta)
    );
    for d in delta.new_errors.iter().take(QUOTED) {
        text.push_str(&format!("\n{}", d.one_line()));
    }
    if delta.new_errors.len() > QUOTED {
        text.push_str(&format!("\n… and {} more", delta.new_errors.len() - QUOTED));
    }
    for check in report.checks.iter().filter(|c| delta.broken.contains(&c.name)) {
        if !report.diagnostics.iter().any(|d| d.check == check.name) {
            text.push_str(&format!("\n{}: {}", check.name, check.summary));
        }
    }
    text
}
