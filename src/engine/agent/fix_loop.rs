//! The bounded fix loop: when the model ends a turn that applied changes and the project checks
//! now fail where they did not before the turn (the report [`CheckReport::since`] the turn's
//! baseline: a check it broke, an error it added), or its last test run has failures the run
//! before its first write did not have, the failures go back to the model as a message and the
//! turn goes on with another step.
//!
//! The tests' baseline is the last test run before the turn's first write: one the model ran in
//! this turn, else the session's last one when kv1nt wrote nothing since. Tests are only known
//! from runs (the model's `run`, `/run`) whose output a test-result parser read; kv1nt does not
//! run them on its own, since a suite may take minutes.
//!
//! Invariants: at most `checks.max_fix_rounds` rounds per turn (0 turns the loop off); a round
//! that leaves exactly the failures of the round before ends the loop (the model is not fixing
//! them, and another round would only spend tokens), and so does a round after which the model
//! did not run the failing tests again; failures that were there before the turn never start a
//! round. Each round is announced to the user as a notice and kept in the history
//! as a user-role message that says it came from kv1nt; Esc cancels the checks or the model's
//! step like any other. The number of rounds and whether the turn left the checks no worse are
//! recorded on the turn's proposals (`checks.rs`, `store::proposals`).

use super::checks::QUOTED;
use super::reply::Interrupt;
use super::runtime::Engine;
use crate::engine::checks::CheckWhen;
use crate::engine::llm::Message;
use crate::engine::protocol::chat::FIX_ROUND_MARK;
use crate::engine::protocol::{CheckDelta, CheckReport, LogLevel, TestFailure, TestReport};
use crate::engine::store::MessageStatus;

/// The fix loop's memory within one turn.
#[derive(Debug, Default)]
pub(super) struct FixState {
    /// Rounds run so far.
    pub rounds: u32,
    /// The failures that started the last round, to notice a round that changed nothing.
    last: Option<Vec<String>>,
    /// The last test run before the turn's first write (the tests' baseline).
    pub tests_before: Option<TestReport>,
    /// The last test run after it.
    pub tests_after: Option<TestReport>,
    /// Test runs after the first write, and their number when the last round began with
    /// failing tests (`None`: it began with checks alone).
    tests_runs: u32,
    tests_runs_at_round: Option<u32>,
}

/// What the turn's last test run broke: failures its baseline did not have.
struct TestRegression {
    runner: String,
    /// Named failures not named in the baseline.
    new: Vec<TestFailure>,
    /// More failures than before without names for them (output that names none).
    unnamed: usize,
}

impl TestRegression {
    fn summary(&self) -> String {
        let n = self.new.len() + self.unnamed;
        format!("{n} test{} newly fail{}", if n == 1 { "" } else { "s" }, if n == 1 { "s" } else { "" })
    }
}

/// The turn's test regression, if its tests were run before and after its first write with
/// the same runner and the later run fails where the earlier did not.
fn test_regression(before: &TestReport, after: &TestReport) -> Option<TestRegression> {
    if before.runner != after.runner || after.failed == 0 {
        return None;
    }
    let new: Vec<TestFailure> = after
        .failures
        .iter()
        .filter(|f| !before.failures.iter().any(|b| b.name == f.name))
        .cloned()
        .collect();
    let unnamed = if new.is_empty() { after.failed.saturating_sub(before.failed) } else { 0 };
    (!new.is_empty() || unnamed > 0).then(|| TestRegression {
        runner: after.runner.to_string(),
        new,
        unnamed,
    })
}

impl Engine {
    /// The model ended its reply without tool calls. When the turn applied changes that broke
    /// the checks and a round is left, ask the model to fix them: `Ok(true)` means the turn
    /// takes another step. Errors only when the user cancelled the checks or the engine stops.
    pub(super) async fn fix_round(&mut self) -> Result<bool, Interrupt> {
        let max = self.config.checks.max_fix_rounds;
        if max == 0 || self.turn.edits_applied == 0 {
            return Ok(false);
        }
        let checks = if self.config.checks.when == CheckWhen::Off {
            None
        } else {
            let report = self.current_checks().await?;
            self.checks_baseline().map(|before| (report.since(before), report)).filter(|(d, _)| !d.is_clean())
        };
        let fix = &self.turn.fix;
        let tests = match (&fix.tests_before, &fix.tests_after) {
            (Some(before), Some(after)) => test_regression(before, after),
            _ => None,
        };
        if checks.is_none() && tests.is_none() {
            return Ok(false);
        }
        let mut parts: Vec<String> = checks.iter().map(|(delta, _)| broken_summary(delta)).collect();
        parts.extend(tests.as_ref().map(TestRegression::summary));
        let what = parts.join("; ");
        let mut signature = checks.as_ref().map(|(delta, _)| signature(delta)).unwrap_or_default();
        signature.extend(tests.iter().flat_map(|t| t.new.iter().map(|f| format!("test {}", f.name))));
        let rounds = fix.rounds;
        if tests.is_some() && fix.tests_runs_at_round == Some(fix.tests_runs) {
            self.notice(
                LogLevel::Warn,
                format!("The tests were not run again after the last fix round; they last failed ({what}). Fix rounds stopped."),
            );
            return Ok(false);
        }
        if fix.last.as_ref() == Some(&signature) {
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
        let fix = &mut self.turn.fix;
        fix.rounds = round;
        fix.last = Some(signature);
        fix.tests_runs_at_round = tests.as_ref().map(|_| fix.tests_runs);
        self.notice(
            LogLevel::Info,
            format!("Fix round {round}/{max}: {what}; the model is asked to fix it."),
        );
        let message = Message::user(fix_prompt(checks.as_ref(), tests.as_ref(), round, max));
        self.persist_new(&message, MessageStatus::Complete);
        self.history.push(message);
        Ok(true)
    }

    /// A run's output had test results (`runs.rs`): before the turn's first write they are the
    /// tests' baseline, after it what the turn left.
    pub(super) fn note_tests(&mut self, report: &TestReport) {
        self.remember_tests(report);
        let fix = &mut self.turn.fix;
        if self.turn.edits_applied == 0 {
            fix.tests_before = Some(report.clone());
        } else {
            fix.tests_after = Some(report.clone());
            fix.tests_runs += 1;
        }
    }

    /// Whether the turn left its tests no worse (`None`: not known — not run before and after).
    pub(super) fn tests_no_worse(&self) -> Option<bool> {
        match (&self.turn.fix.tests_before, &self.turn.fix.tests_after) {
            (Some(before), Some(after)) => Some(test_regression(before, after).is_none()),
            _ => None,
        }
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

/// The message the model gets: what its changes broke, the new errors one per line (for a
/// broken check that reported no diagnostic, its own summary), the tests that newly fail.
fn fix_prompt(
    checks: Option<&(CheckDelta, CheckReport)>,
    tests: Option<&TestRegression>,
    round: u32,
    max: u32,
) -> String {
    let mut text = format!(
        "{FIX_ROUND_MARK}{round} of {max}] Your changes broke what passed before this request.\n\
         Fix what your changes broke (read the files again first), then stop. \
         Failures that were there before this request are not yours to fix."
    );
    if let Some((delta, report)) = checks {
        text.push_str(&format!("\n\nThe project checks fail after your changes: {}.", broken_summary(delta)));
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
    }
    if let Some(tests) = tests {
        text.push_str(&format!(
            "\n\nTests that passed before your changes now fail ({}): {}. Run them again with `run` once fixed.",
            tests.runner,
            tests.summary()
        ));
        for f in tests.new.iter().take(QUOTED) {
            let at = f.location.as_ref().map(|(file, line)| format!(" ({file}:{line})")).unwrap_or_default();
            let message = if f.message.is_empty() { String::new() } else { format!(" — {}", f.message) };
            text.push_str(&format!("\n- {}{at}{message}", f.name));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_fix_round_is_not_a_prompt_of_the_user() {
        let text = super::fix_prompt(None, None, 1, 3);
        assert!(text.starts_with("[kv1nt fix round 1 of 3]"), "{text}");
        assert!(!crate::engine::llm::Message::user(text).is_prompt());
    }
}
