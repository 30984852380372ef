//! The Problems list: the last project-check report as a view of the Output pane (`p` switches
//! between the log and the list), with a selection; Enter asks the engine to show the selected
//! location in Code (`Op::OpenFile`, answered by `Event::OpenFile`).
//!
//! Invariants: the list is replaced whole by each report (never merged); the selection stays
//! inside it; the status bar's checks summary comes from the same report.

use tokio::sync::mpsc::UnboundedSender;

use super::keymap::KeyAction;
use super::state::AppState;
use crate::engine::protocol::{CheckReport, Op, Severity};

/// What the Output pane shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OutputView {
    #[default]
    Log,
    Problems,
}

#[derive(Debug, Default)]
pub struct ProblemsState {
    /// The last report (`None` until checks ran).
    pub report: Option<CheckReport>,
    pub selected: usize,
    /// First row drawn (kept so the selection is visible).
    pub offset: usize,
}

/// A report arrived: replace the list, summarise it in the status bar.
pub fn on_report(state: &mut AppState, report: CheckReport) {
    let level = if report.count(Severity::Error) > 0 || report.failed() {
        crate::engine::protocol::LogLevel::Error
    } else if report.count(Severity::Warning) > 0 {
        crate::engine::protocol::LogLevel::Warn
    } else {
        crate::engine::protocol::LogLevel::Info
    };
    state.status.checks = Some((report.summary(), level));
    state.output.problems.report = Some(report);
    state.output.problems.selected = 0;
    state.output.problems.offset = 0;
}

/// Keys of the Output pane; false when the action is not the Problems list's.
pub fn on_action(state: &mut AppState, action: KeyAction, ops: &UnboundedSender<Op>) -> bool {
    let output = &mut state.output;
    if action == KeyAction::ProblemsToggle {
        output.view = match output.view {
            OutputView::Log => OutputView::Problems,
            OutputView::Problems => OutputView::Log,
        };
        state.dirty = true;
        return true;
    }
    if output.view != OutputView::Problems {
        return false;
    }
    let len = output.problems.report.as_ref().map_or(0, |r| r.diagnostics.len());
    let last = len.saturating_sub(1);
    let p = &mut output.problems;
    match action {
        KeyAction::ScrollUp => p.selected = p.selected.saturating_sub(1),
        KeyAction::ScrollDown => p.selected = (p.selected + 1).min(last),
        KeyAction::PageUp => p.selected = p.selected.saturating_sub(10),
        KeyAction::PageDown => p.selected = (p.selected + 10).min(last),
        KeyAction::ScrollTop => p.selected = 0,
        KeyAction::ScrollBottom => p.selected = last,
        KeyAction::OpenProblem => {
            let Some(d) = p.report.as_ref().and_then(|r| r.diagnostics.get(p.selected)) else { return true };
            let _ = ops.send(Op::OpenFile { path: d.file.clone(), line: d.line.max(1) });
        }
        _ => return false,
    }
    state.dirty = true;
    true
}
