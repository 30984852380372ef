//! The agent's `run` tool and the user's `/run`: commands and snippets run in the sandbox.
//!
//! A model's request passes the gate first (the command is assessed like any other: `rm -rf`,
//! `git push`, `curl … | sh`, installs, writes outside the workspace → high or critical; a weaker
//! sandbox mode or network access makes every run critical). A user's `/run` is their own
//! decision: it runs at once and is audited as `user-requested`.
//!
//! Output streams live as [`Event::RunOutput`] between [`Event::RunStarted`] and
//! [`Event::RunFinished`]; the model gets the summary and the tails of stdout and stderr. When
//! the output is a test runner's (`checks::test_results`, told by the command line or the output
//! itself), `RunFinished` carries the [`TestReport`] and the model's result starts with its counts
//! and named failures. A run that was killed (time, memory, output limit, cancel) has no report:
//! its counts would be of part of a run.
//!
//! Invariant: a run never outlives its request — `Op::Cancel` (Ctrl+C or Esc in the TUI) or
//! shutdown kills it, and the engine waits for the sandbox to report the kill before it goes on.
//! Commands run in the workspace seen copy-on-write (`RunDir::Transaction`): what they change
//! in files that are not git-ignored comes back as a change set that passes the gate like an
//! edit (`run_changes.rs`); git-ignored build output writes through. Snippets run in a fresh
//! scratch directory that is removed afterwards.

use std::time::Duration;

use super::gate::{Ask, GateWords, Gated};
use super::reply::Interrupt;
use super::runtime::{Engine, LoopControl};
use crate::engine::approval::risk::assess;
use crate::engine::approval::{Assessment, GateAction, Risk};
use crate::engine::checks::test_results;
use crate::engine::protocol::{Event, LogLevel, Op, OutputStream, TestReport};
use crate::engine::sandbox::{
    self, CancellationToken, ChangeSet, ExecutionResult, KilledBy, Language, Program, RunDir, Stream,
};
use crate::engine::tools::{RunArgs, RunTarget};

/// How much of each stream the model gets back (the end: errors are usually there).
const RESULT_TAIL_BYTES: usize = 8 * 1024;

/// A run, ready for the gate and the sandbox.
struct RunRequest {
    program: Program,
    workspace: RunDir,
    /// "cargo test", "python snippet (12 lines)".
    title: String,
    /// What the gate assesses and the audit log records.
    action: GateAction,
    timeout: Option<Duration>,
}

impl RunRequest {
    fn new(target: RunTarget, timeout_secs: Option<u64>, engine: &Engine) -> RunRequest {
        let timeout = timeout_secs.map(Duration::from_secs);
        let cwd = ".".to_string();
        match target {
            RunTarget::Command(command) => RunRequest {
                program: Program::Command { argv: vec!["bash".into(), "-c".into(), command.clone()] },
                workspace: RunDir::Transaction(engine.workspace.clone()),
                title: command.clone(),
                action: GateAction::Command { command, cwd },
                timeout,
            },
            RunTarget::Snippet { language, code } => {
                let name = language.name();
                RunRequest {
                    title: format!("{name} snippet ({} lines)", code.lines().count()),
                    action: GateAction::Command { command: format!("{name} <<'EOF'\n{code}\nEOF"), cwd },
                    program: Program::Code { language, code },
                    workspace: RunDir::Scratch,
                    timeout,
                }
            }
        }
    }
}

impl Engine {
    /// The model's `run`: gate, then sandbox. Returns (content for the model, is_error).
    pub(super) async fn run_tool(&mut self, args: RunArgs) -> Result<(String, bool), Interrupt> {
        let request = RunRequest::new(args.target, args.timeout_secs, self);
        let assessment = self.assess_run(&request);
        let summary = match &request.program {
            Program::Code { .. } => format!("run this {} in a scratch directory, sandboxed", request.title),
            _ => "run this command in the workspace, sandboxed".to_string(),
        };
        match self.pass_gate(&request.action, assessment, Ask::new(summary, GateWords::RUN)).await? {
            Gated::Stop(message) => Ok((message, true)),
            Gated::Picked(_) => Ok(("Not run: no choice was offered".into(), true)),
            Gated::Proceed { .. } => {
                let title = request.title.clone();
                if matches!(request.workspace, RunDir::Transaction(_)) {
                    self.capture_checks_baseline().await?;
                }
                let (mut content, is_error, changes) = self.run_in_sandbox(request).await?;
                if let Some(set) = changes.filter(|set| !set.is_empty()) {
                    let applied = self.turn.edits_applied;
                    content.push_str(&self.settle_run_changes(&title, set).await?);
                    if self.turn.edits_applied > applied {
                        content.push_str(&self.checks_after_change().await?);
                    }
                }
                Ok((content, is_error))
            }
        }
    }

    /// `/run`: the user runs a code block themselves (no gate: typing it is the decision).
    pub(super) async fn run_user_code(&mut self, language: Option<String>, code: String) -> LoopControl {
        let language = match language.as_deref().map(Language::detect) {
            Some(Some(language)) => language,
            other => {
                let tag = match other {
                    Some(None) => format!("`{}` cannot run here", language.unwrap_or_default()),
                    _ => "the block has no language tag".into(),
                };
                let text = format!("/run: {tag}; blocks in python, node, bash, sh, rust or go can run.");
                self.emit(Event::Notice { level: LogLevel::Warn, text });
                return LoopControl::Continue;
            }
        };
        let request = RunRequest::new(RunTarget::Snippet { language, code }, None, self);
        self.ensure_session();
        let assessment = self.assess_run(&request);
        let id = self.next_request_id();
        self.audit(id, &request.action, &assessment, "user-requested", None, None);
        match self.run_in_sandbox(request).await {
            Err(Interrupt::Shutdown) => LoopControl::Shutdown,
            _ => LoopControl::Continue,
        }
    }

    fn assess_run(&self, request: &RunRequest) -> Assessment {
        let mut assessment = assess(&request.action, &self.workspace);
        if let Some(weakness) = self.config.sandbox.weakness() {
            assessment.risk = Risk::Critical;
            assessment.reasons.insert(0, weakness);
        }
        assessment
    }

    /// Run it, streaming output as events; cancel on `Op::Cancel`, kill on shutdown. Returns the
    /// model's report, whether the run failed, and a transactional run's change set.
    async fn run_in_sandbox(
        &mut self,
        request: RunRequest,
    ) -> Result<(String, bool, Option<ChangeSet>), Interrupt> {
        let id = self.next_request_id();
        // What tells a test runner apart: the command line, or a snippet's code.
        let command = match &request.program {
            Program::Code { code, .. } => code.clone(),
            _ => request.title.clone(),
        };
        let config = self.config.sandbox.to_config(request.timeout);
        let network = if config.network { "network allowed" } else { "no network" };
        self.emit(Event::RunStarted {
            id,
            title: format!(
                "{} — {network} · {} s · {} MB · {} mode",
                request.title,
                config.wall_time.as_secs(),
                config.memory_mb,
                config.mode.as_str()
            ),
        });
        let events = self.events.clone();
        let on_output = move |stream: Stream, bytes: &[u8]| {
            let stream = match stream {
                Stream::Stdout => OutputStream::Stdout,
                Stream::Stderr => OutputStream::Stderr,
            };
            let text = String::from_utf8_lossy(bytes).into_owned();
            let _ = events.send(Event::RunOutput { id, stream, text });
        };
        let cancel = CancellationToken::new();
        let run =
            sandbox::execute(request.program, request.workspace, None, &config, cancel.clone(), on_output);
        tokio::pin!(run);
        let mut interrupted = None;
        let result = loop {
            tokio::select! {
                result = &mut run => break result,
                op = self.ops.recv(), if interrupted.is_none() => match op {
                    Some(Op::Cancel) => {
                        cancel.cancel();
                        interrupted = Some(Interrupt::Cancel);
                    }
                    Some(Op::Shutdown) | None => {
                        cancel.cancel();
                        interrupted = Some(Interrupt::Shutdown);
                    }
                    Some(other) => self.defer(other),
                },
            }
        };
        let (summary, ok, content, changes, tests) = match result {
            Ok(mut result) => {
                let summary = result.summary();
                let changes = result.changes.take();
                let tests = self.test_report(&command, &result);
                if let Some(tests) = &tests {
                    self.note_tests(tests);
                }
                let content = model_report(&summary, tests.as_ref(), &result);
                (summary, result.success, content, changes, tests)
            }
            Err(e) => {
                (format!("not run: {e}"), false, format!("The sandbox refused to run it: {e}"), None, None)
            }
        };
        let level = if ok { LogLevel::Info } else { LogLevel::Warn };
        if !ok {
            self.last_failure = Some(format!("$ {}\n{content}", request.title));
        }
        let tested = tests.as_ref().map(|t| format!("; tests: {}", t.summary_line())).unwrap_or_default();
        self.log(level, format!("run {}: {summary}{tested}", request.title));
        self.emit(Event::RunFinished { id, ok, summary, tests });
        match interrupted {
            Some(interrupt) => {
                if let Some(set) = changes.filter(|set| !set.is_empty()) {
                    self.settle_stopped_run(&request.title, set);
                }
                Err(interrupt)
            }
            None => Ok((content, !ok, changes)),
        }
    }

    /// The test report in a finished run's output, its locations relative to the workspace.
    fn test_report(&self, command: &str, result: &ExecutionResult) -> Option<TestReport> {
        if result.killed_by != KilledBy::None {
            return None;
        }
        let mut report = test_results::parse(Some(command), &result.stdout, &result.stderr)?;
        report.relative_to(&self.workspace);
        Some(report)
    }
}

/// The model's view: the summary line, the test results when there are some, then the tails of
/// both streams.
fn model_report(summary: &str, tests: Option<&TestReport>, result: &ExecutionResult) -> String {
    let mut text = summary.to_string();
    if let Some(tests) = tests {
        text.push('\n');
        text.push_str(&tests.details());
    }
    for (name, stream) in [("stdout", &result.stdout), ("stderr", &result.stderr)] {
        if stream.is_empty() {
            text.push_str(&format!("\n--- {name}: (empty) ---"));
            continue;
        }
        let (tail, cut) = tail(stream);
        let note = if cut > 0 {
            format!(" (last {} bytes; {cut} earlier bytes omitted)", tail.len())
        } else {
            String::new()
        };
        text.push_str(&format!("\n--- {name}{note} ---\n{tail}"));
    }
    text
}

/// The last [`RESULT_TAIL_BYTES`] of `text` (on a char boundary) and how many bytes were cut.
fn tail(text: &str) -> (&str, usize) {
    if text.len() <= RESULT_TAIL_BYTES {
        return (text, 0);
    }
    let mut start = text.len() - RESULT_TAIL_BYTES;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    (&text[start..], start)
}
