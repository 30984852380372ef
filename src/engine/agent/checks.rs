//! The project checks as the engine runs them: after a turn that applied changes
//! (`checks.when = "turn"`), after each applied change (`"change"`), or on demand (`/check`,
//! `Op::Check`). Each check streams into the Output pane as a run (`RunStarted` … `RunFinished`),
//! then one [`Event::Checks`] carries the report for the Problems list and the status bar.
//! Also `Op::OpenFile`: a problem's location shown in Code.
//!
//! The API a fix loop builds on: [`Engine::run_checks`] (run them now, get the report) and the
//! turn's baseline, [`Engine::checks_baseline`] — the report from just before the turn's first
//! write — so that [`CheckReport::since`] tells what the turn broke from what was broken
//! already; the fix loop (`fix_loop.rs`) builds on both. The turn's result (fix rounds, no
//! worse than the baseline or not) is recorded on its proposals (`store::proposals`).
//!
//! Invariants: checks run in the sandbox with the engine's sandbox settings, never through the
//! gate (they change nothing the user would review: `RunDir::Project`, no change set) and never
//! copy-on-write; Esc (`Op::Cancel`) stops the running check and skips the rest, shutdown too;
//! other ops that arrive meanwhile wait (`defer`). The last report is reused as a baseline only
//! while kv1nt wrote nothing since it ran ([`Engine::note_write`]); edits made outside kv1nt are
//! not noticed.

use super::reply::Interrupt;
use super::runtime::{Engine, LoopControl};
use crate::engine::checks::{self, CheckRun, CheckWhen};
use crate::engine::protocol::{CheckReport, Event, LogLevel, Op, OutputStream, Severity, TestReport};
use crate::engine::sandbox::{CancellationToken, Stream};

/// How many diagnostics a tool result or a fix round quotes (the Problems list has them all).
pub(super) const QUOTED: usize = 20;

/// Largest file `Op::OpenFile` shows.
const MAX_OPEN_BYTES: u64 = 4 << 20;

/// The engine's memory of the checks across turns.
#[derive(Debug, Default)]
pub(super) struct ChecksMemory {
    /// The last report of this session.
    last: Option<CheckReport>,
    /// kv1nt wrote files since `last` ran, so it no longer describes the workspace.
    stale: bool,
    /// What the checks last put in `Engine::last_failure` (for `/fix`), to take it back once
    /// they pass.
    failure: Option<String>,
    /// The session's last test results (a run's output read by a test-result parser), and
    /// whether kv1nt wrote files since: a later turn's baseline while it did not.
    tests: Option<TestReport>,
    tests_stale: bool,
}

impl Engine {
    /// Run every check of the workspace now, in order, sandboxed: each streams into Output as a
    /// run, then the report goes out as [`Event::Checks`] and becomes the last report (a
    /// repository without checks gets an empty report and no event). Errors
    /// only when the user cancelled (`Interrupt::Cancel`: the checks not run yet are skipped) or
    /// the engine is shutting down; a check that cannot start is a failed outcome in the report.
    pub(crate) async fn run_checks(&mut self) -> Result<CheckReport, Interrupt> {
        let specs = checks::detect(&self.workspace, &self.config.checks, self.config.repo_trusted);
        if specs.is_empty() {
            // Nothing to say after every turn in a repository without checks.
            return Ok(CheckReport::default());
        }
        let config = self.config.sandbox.to_config(None);
        let workspace = self.workspace.clone();
        let mut runs = Vec::new();
        let mut interrupted = None;
        for spec in &specs {
            let id = self.next_request_id();
            self.emit(Event::RunStarted {
                id,
                title: format!("check: {} — sandboxed, {} s", spec.name, config.wall_time.as_secs()),
            });
            let events = self.events.clone();
            let mut display = checks::parse::Display::new(spec.format);
            let on_output = move |stream: Stream, bytes: &[u8]| {
                let (stream, text) = match stream {
                    Stream::Stdout => (OutputStream::Stdout, display.feed(bytes)),
                    Stream::Stderr => (OutputStream::Stderr, String::from_utf8_lossy(bytes).into_owned()),
                };
                if !text.is_empty() {
                    let _ = events.send(Event::RunOutput { id, stream, text });
                }
            };
            let cancel = CancellationToken::new();
            let run = checks::run_check(spec, &workspace, &config, cancel.clone(), on_output);
            tokio::pin!(run);
            let result: CheckRun = loop {
                tokio::select! {
                    result = &mut run => break result,
                    op = self.ops.recv(), if interrupted.is_none() => match op {
                        Some(Op::Cancel) => { cancel.cancel(); interrupted = Some(Interrupt::Cancel); }
                        Some(Op::Shutdown) | None => { cancel.cancel(); interrupted = Some(Interrupt::Shutdown); }
                        Some(other) => self.defer(other),
                    },
                }
            };
            let outcome = &result.outcome;
            self.emit(Event::RunFinished {
                id,
                ok: outcome.passed,
                summary: outcome.summary.clone(),
                tests: None,
            });
            runs.push(result);
            if let Some(interrupt) = interrupted {
                self.log(LogLevel::Info, "checks stopped");
                return Err(interrupt);
            }
        }
        let report = checks::report(runs);
        let level = if report.failed() { LogLevel::Warn } else { LogLevel::Info };
        self.log(level, format!("checks: {}", report.summary()));
        self.emit(Event::Checks(report.clone()));
        let mut failure = None;
        if report.failed() {
            // `/fix` with nothing pasted fixes the latest failure, a check's or a run's.
            let text = describe(&report, "Project checks");
            self.last_failure = Some(text.clone());
            failure = Some(text);
        } else if self.last_failure.is_some() && self.last_failure == self.checks.failure {
            self.last_failure = None;
        }
        self.checks.last = Some(report.clone());
        self.checks.stale = false;
        self.checks.failure = failure;
        Ok(report)
    }

    /// The checks as they were before this turn's first write (taken by
    /// [`Engine::capture_checks_baseline`]); `None` when the turn wrote nothing or checks are off.
    pub(crate) fn checks_baseline(&self) -> Option<&CheckReport> {
        self.turn.checks_before.as_ref()
    }

    /// Before the turn's first write (an applied edit, a command in the workspace): remember
    /// the checks as they are — the last report when kv1nt wrote nothing since it ran, else a
    /// run now. Nothing when checks are off or the baseline is taken already.
    pub(super) async fn capture_checks_baseline(&mut self) -> Result<(), Interrupt> {
        if self.turn.edits_applied == 0
            && self.turn.fix.tests_before.is_none()
            && !self.checks.tests_stale
            && let Some(tests) = &self.checks.tests
        {
            self.turn.fix.tests_before = Some(tests.clone());
        }
        if self.config.checks.when == CheckWhen::Off || self.turn.checks_before.is_some() {
            return Ok(());
        }
        self.turn.checks_before = Some(self.current_checks().await?);
        Ok(())
    }

    /// The checks of the workspace as it is: the last report when kv1nt wrote nothing since it
    /// ran, else a run now.
    pub(super) async fn current_checks(&mut self) -> Result<CheckReport, Interrupt> {
        match &self.checks {
            ChecksMemory { last: Some(report), stale: false, .. } => Ok(report.clone()),
            _ => self.run_checks().await,
        }
    }

    /// kv1nt wrote files (an applied edit, a command's changes, an undo): the last report is
    /// out of date.
    pub(super) fn note_write(&mut self) {
        self.checks.stale = true;
        self.checks.tests_stale = true;
        // The same call on a changed workspace is not a loop (running the tests again after a
        // fix, reading a file again after an edit): the repeat guard counts from here.
        self.turn.call_counts.clear();
    }

    /// The session's latest test results (`fix_loop::note_tests`).
    pub(super) fn remember_tests(&mut self, report: &TestReport) {
        self.checks.tests = Some(report.clone());
        self.checks.tests_stale = false;
    }

    /// The turn's checks and tests on its proposals (`store::proposals`): its fix rounds,
    /// whether it left the checks (without a baseline: passing) and its tests no worse than
    /// before, and the tests' summary lines before and after. A failure to record is logged,
    /// never fatal.
    fn record_turn_checks(&self, report: &CheckReport) {
        let (Some(store), Some(session)) = (&self.store, &self.session) else { return };
        let checks_ok = match self.checks_baseline() {
            _ if report.checks.is_empty() => true,
            Some(before) => report.since(before).is_clean(),
            None => !report.failed(),
        };
        let passed = checks_ok && self.tests_no_worse() != Some(false);
        let rounds = self.turn.fix.rounds;
        let fix = &self.turn.fix;
        let before = fix.tests_before.as_ref().map(TestReport::summary_line);
        let after = fix.tests_after.as_ref().map(TestReport::summary_line);
        let tests = (before.as_deref(), after.as_deref());
        if let Err(e) = store.set_turn_checks(&session.id, self.turn.number, rounds, passed, tests) {
            self.log(LogLevel::Warn, format!("could not record the turn's checks: {e}"));
        }
    }

    /// `/check`.
    pub(super) async fn check_now(&mut self) -> LoopControl {
        match self.run_checks().await {
            Err(Interrupt::Shutdown) => LoopControl::Shutdown,
            Ok(report) if report.checks.is_empty() => {
                // Asked for: the Problems list and the status bar say so.
                self.log(LogLevel::Info, "checks: none detected (see [checks] in the README)");
                self.emit(Event::Checks(report));
                LoopControl::Continue
            }
            _ => LoopControl::Continue,
        }
    }

    /// After a turn that applied changes: with `checks.when = "turn"` the checks run now (unless
    /// the fix loop ran them on what the turn left); with `"change"` they ran after its last
    /// change. Either way the result is recorded on the turn's proposals.
    pub(super) async fn checks_after_turn(&mut self) -> LoopControl {
        if self.turn.edits_applied == 0 {
            return LoopControl::Continue;
        }
        let report = match self.config.checks.when {
            // Without checks, what the turn did to its tests is still recorded.
            CheckWhen::Off => CheckReport::default(),
            CheckWhen::Change => match &self.checks {
                ChecksMemory { last: Some(report), stale: false, .. } => report.clone(),
                _ => return LoopControl::Continue,
            },
            CheckWhen::Turn => match self.current_checks().await {
                Ok(report) => report,
                Err(Interrupt::Shutdown) => return LoopControl::Shutdown,
                Err(Interrupt::Cancel) => return LoopControl::Continue,
            },
        };
        if !report.checks.is_empty() || self.turn.fix.tests_after.is_some() {
            self.record_turn_checks(&report);
        }
        if let Some(delta) = self.checks_baseline().map(|before| report.since(before))
            && !delta.is_clean()
        {
            let what = super::fix_loop::broken_summary(&delta);
            self.log(LogLevel::Warn, format!("this turn broke the checks: {what}"));
        }
        LoopControl::Continue
    }

    /// After an applied change (`checks.when = "change"`): what to add to the model's tool
    /// result — the summary and the first diagnostics — or nothing.
    pub(super) async fn checks_after_change(&mut self) -> Result<String, Interrupt> {
        if self.config.checks.when != CheckWhen::Change {
            return Ok(String::new());
        }
        let report = self.run_checks().await?;
        if report.checks.is_empty() {
            return Ok(String::new());
        }
        Ok(format!("\n\n{}", for_model(&report)))
    }

    /// `Op::OpenFile`: a workspace file in Code (paths outside the workspace are refused).
    pub(super) fn open_location(&self, path: &str, line: usize) {
        let event = match self.tools_workspace.as_ref().map(|w| w.resolve(path, false)) {
            Some(Ok((full, _))) => match std::fs::metadata(&full) {
                Ok(meta) if meta.len() > MAX_OPEN_BYTES => {
                    Event::Notice { level: LogLevel::Warn, text: format!("{path} is too large to open here") }
                }
                _ => match std::fs::read(&full) {
                    Ok(bytes) => Event::OpenFile {
                        path: path.to_string(),
                        line,
                        text: String::from_utf8_lossy(&bytes).into_owned(),
                    },
                    Err(e) => {
                        Event::Notice { level: LogLevel::Warn, text: format!("cannot open {path}: {e}") }
                    }
                },
            },
            Some(Err(e)) => Event::Notice { level: LogLevel::Warn, text: format!("cannot open {path}: {e}") },
            None => Event::Notice { level: LogLevel::Warn, text: "the workspace cannot be opened".into() },
        };
        self.emit(event);
    }
}

/// The report as the model reads it after a change: the summary, then errors and warnings one
/// per line.
pub(crate) fn for_model(report: &CheckReport) -> String {
    describe(report, "Project checks after this change")
}

/// `heading: summary`, then errors and warnings one per line (the first [`QUOTED`]), then each
/// failed check's own summary.
fn describe(report: &CheckReport, heading: &str) -> String {
    let mut text = format!("{heading}: {}", report.summary());
    let shown: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity != Severity::Note)
        .take(QUOTED)
        .map(|d| d.one_line())
        .collect();
    let rest = report.diagnostics.iter().filter(|d| d.severity != Severity::Note).count() - shown.len();
    for line in shown {
        text.push_str(&format!("\n{line}"));
    }
    if rest > 0 {
        text.push_str(&format!("\n… and {rest} more"));
    }
    for check in report.checks.iter().filter(|c| !c.passed) {
        text.push_str(&format!("\n{}: {}", check.name, check.summary));
    }
    text
}
