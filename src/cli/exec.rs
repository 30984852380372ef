//! `kv1nt exec`: one prompt through the same engine as the TUI, the answer streamed to stdout.
//!
//! Text mode prints the reply as it streams and notes (retries, fallbacks) on stderr. `--json`
//! prints one object per line: `start`, `text`, `retry`, `fallback`, `notice`, `hook`, `usage`, `done`.
//! The repository's `.kv1nt/config.toml` applies in full only with `--trust` (a recorded trust
//! does not count here: scripts run in checkouts nobody looked at); otherwise its held-back keys
//! are ignored and one `kv1nt: ignored …` line on stderr says which.
//! A prompt that is `/template NAME key=value …` fills a code template (`exec_template`); one
//! that is `/name args` for a name no built-in takes runs a custom slash command; `/deps [add
//! NAME]`, `/config-check` and `/env-example` run without a model (a proposal still needs the
//! gate's verdict: `--approval auto` applies it, `ask` without a terminal denies it).
//! Exit status: 0 when the reply completed, 1 otherwise (with one line on stderr), 2 when a
//! template's parameters or a custom command were refused (no turn), 130 when interrupted.

use std::io::{IsTerminal, Read, Write};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::json;

use crate::engine::protocol::{
    ApprovalDecision, ApprovalRequest, CompactionDecision, Event, LogLevel, Op, OutputStream, PlanDecision,
    TestReport, TurnOutcome, syntax_lines,
};

use super::Setup;

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The prompt; `-` reads it from standard input.
    pub prompt: String,
    /// One JSON object per line instead of plain text.
    #[arg(long)]
    pub json: bool,
    /// Cap the reply's length in tokens.
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// Continue a saved session (id, prefix or `last`).
    #[arg(long, value_name = "ID|last")]
    pub resume: Option<String>,
    /// Apply the repository's .kv1nt/config.toml in full for this run, including the keys that
    /// route API keys, loosen safety or run programs (ignored otherwise, even when trusted).
    #[arg(long)]
    pub trust: bool,
}

/// Run the command; returns the process exit code.
pub async fn run(args: ExecArgs, mut setup: Setup) -> Result<i32> {
    let prompt = if args.prompt == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("cannot read the prompt from standard input")?;
        text
    } else {
        args.prompt.clone()
    };
    if prompt.trim().is_empty() {
        bail!("the prompt is empty");
    }
    let first = match super::exec_template::op(&prompt) {
        Some(op) => op.map_err(anyhow::Error::msg)?,
        None if let Some(op) = crate::engine::protocol::ProjectOp::parse(&prompt) => {
            Op::Project(op.map_err(anyhow::Error::msg)?)
        }
        None => match super::mcp::prompt_op(&prompt, &setup.config.mcp).or_else(|| custom_command(&prompt)) {
            Some(op) => op,
            None => {
                let (text, intent) = split_intent(&prompt);
                Op::Submit { text, intent }
            }
        },
    };
    if let Some(max) = args.max_tokens {
        let max = max.max(1);
        setup.config.anthropic.max_tokens = max;
        setup.config.ollama.max_tokens = max;
        setup.config.openai.max_tokens = max;
        setup.config.local.max_tokens = max;
    }
    // One prompt does not pay for embedding the repository (nor probe embedding servers, which
    // may be the very server answering the prompt): the graph tools search lexically, and the
    // saved-file watcher has nothing to do.
    setup.config.graph.embed = crate::engine::graph::EmbedProvider::None;
    setup.config.graph.watch = false;
    let held = setup.held.as_ref().map(|h| h.notice());
    let (mut engine, store_error) = super::start_engine(setup, args.resume.as_deref(), false)?;
    if let Some(e) = store_error {
        eprintln!("kv1nt: {e} (continuing without saving)");
    }
    let mut out = Printer { json: args.json, stdout: std::io::stdout(), usage: None };
    if let Some(text) = held {
        // Always on stderr, like the store error: a security notice is not progress.
        eprintln!("kv1nt: {text}");
        out.json(json!({"type": "notice", "level": "warn", "text": text}));
    }
    let _ = engine.ops.send(first);
    let mut last_error: Option<String> = None;
    // Set when `/template` ends without a turn: the list was printed, or the values were refused.
    let mut early: Option<i32> = None;
    let mut interrupted = false;
    let outcome = loop {
        let event = tokio::select! {
            event = engine.events.recv() => event,
            _ = tokio::signal::ctrl_c(), if !interrupted => {
                interrupted = true;
                let _ = engine.ops.send(Op::Cancel);
                continue;
            }
        };
        let Some(event) = event else { break None };
        match event {
            Event::TurnStarted { provider, model } => out.json(json!({"type": "start", "provider": provider, "model": model})),
            Event::TextDelta(text) => out.text(&text),
            Event::Usage { turn, cost_usd } => out.usage = Some((turn, cost_usd)),
            Event::Retrying { provider, attempt, max_retries, delay, reason } => out.note(
                json!({"type": "retry", "provider": provider, "attempt": attempt, "max_retries": max_retries, "delay_ms": delay.as_millis() as u64, "reason": reason}),
                &format!("{provider}: retry {attempt}/{max_retries} in {:.1} s — {reason}", delay.as_secs_f64()),
            ),
            Event::FallingBack { from, to, reason } => out.note(
                json!({"type": "fallback", "from": from, "to": to, "reason": reason}),
                &format!("{from} could not answer ({reason}); falling back to {to}"),
            ),
            Event::ApprovalRequest(request) => {
                let decision = approve_headless(&request, &mut out);
                let _ = engine.ops.send(Op::Approve { id: request.id, decision });
            }
            Event::Question { id, text } => {
                let answer = ask_headless(&text, &mut out);
                let _ = engine.ops.send(Op::Reply { id, text: answer });
            }
            Event::ToolStarted { name, summary, .. } => {
                out.note(json!({"type": "tool", "name": name, "call": summary}), &format!("tool: {summary}"))
            }
            Event::ToolFinished { name, ok, summary, flags, .. } => out.note(
                json!({"type": "tool_result", "name": name, "ok": ok, "summary": summary, "flags": flags}),
                &format!("  {} {summary}", if ok { "ok" } else { "error:" }),
            ),
            // No one to review it: the summary is accepted as written, and printed.
            Event::CompactionProposed(p) => {
                let _ = engine.ops.send(Op::Compaction { id: p.id, decision: CompactionDecision::Accept(p.summary) });
            }
            Event::Compacted(c) => out.note(
                json!({"type": "compaction", "through": c.through, "tokens_before": c.tokens_before, "tokens_after": c.tokens_after, "summary": c.summary}),
                &format!("compacted the first {} messages ({} → {} tokens)", c.through, c.tokens_before, c.tokens_after),
            ),
            Event::Todo(items) => {
                let list: Vec<_> = items.iter().map(|i| json!({"text": i.text, "status": i.status.as_str()})).collect();
                let text: Vec<String> = items.iter().map(|i| format!("  {} {}", i.status.mark(), i.text)).collect();
                out.note(json!({"type": "todo", "items": list}), &format!("tasks:\n{}", text.join("\n")))
            }
            // No one to approve it: the plan is printed for review and the turn ends in plan mode.
            Event::PlanProposed(p) => {
                let steps: Vec<String> = p.steps.iter().enumerate().map(|(i, s)| format!("  {}. {s}", i + 1)).collect();
                out.note(
                    json!({"type": "plan", "summary": p.summary, "steps": p.steps, "files": p.files, "risks": p.risks}),
                    &format!("plan: {}
{}", p.summary, steps.join("\n")),
                );
                let _ = engine.ops.send(Op::Plan { id: p.id, decision: PlanDecision::Reject { feedback: None } });
            }
            Event::ConfirmRequest { id, title, .. } => {
                out.note(json!({"type": "notice", "level": "warn", "text": format!("{title} — declined: exec cannot ask")}), &format!("{title} — declined: exec cannot ask"));
                let _ = engine.ops.send(Op::Answer { id, approved: false });
            }
            Event::Notice { level, text } => {
                if level == LogLevel::Error {
                    last_error = Some(text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" "));
                }
                let line = json!({"type": "notice", "level": level_name(level), "text": text});
                if level == LogLevel::Warn {
                    // A warning changes what the run does (an image not attached): on a terminal too.
                    out.note(line, &text);
                } else if args.json {
                    out.json(line);
                }
            }
            Event::RunStarted { id, title } => {
                out.note(json!({"type": "run_started", "id": id, "title": title}), &format!("run: {title}"))
            }
            Event::RunOutput { id, stream, text } => {
                let stream = if stream == OutputStream::Stderr { "stderr" } else { "stdout" };
                out.note(json!({"type": "run_output", "id": id, "stream": stream, "text": text}), text.trim_end());
            }
            Event::RunFinished { id, ok, summary, tests } => {
                let text = match &tests {
                    Some(tests) => format!("  {summary}\n  tests ({}): {}", tests.runner, tests.summary_line()),
                    None => format!("  {summary}"),
                };
                let tests = tests.as_ref().map(tests_json);
                out.note(json!({"type": "run_finished", "id": id, "ok": ok, "summary": summary, "tests": tests}), &text)
            }
            Event::Mcp(activity) => out.note(super::mcp::activity_json(&activity), &super::mcp::activity_text(&activity)),
            Event::Hook(report) => out.note(
                json!({"type": "hook", "event": report.event, "subject": report.subject, "source": report.source.as_str(),
                    "command": report.command, "outcome": report.outcome.as_str(), "message": report.message}),
                &report.line(),
            ),
            Event::TurnEnded(outcome) => break Some(outcome),
            Event::Templates(list) => {
                let (text, problems) = super::exec_template::list_text(&list);
                if args.json {
                    out.json(super::exec_template::list_json(&list));
                } else {
                    out.text(&format!("{text}\n"));
                }
                problems.iter().for_each(|p| eprintln!("kv1nt: {p}"));
                early = Some(0);
                break None;
            }
            Event::CommandRefused { name, reason } => {
                out.json(json!({"type": "command_refused", "name": name, "reason": reason}));
                eprintln!("kv1nt: /{name} not run: {reason}");
                early = Some(super::exec_template::INVALID);
                break None;
            }
            Event::Project(reply) => {
                if args.json {
                    out.json(json!({"type": "project", "ok": reply.ok, "text": reply.text}));
                } else {
                    out.text(&format!("{}\n", reply.text.trim_end()));
                }
                early = Some(if reply.ok { 0 } else { 1 });
                break None;
            }
            Event::TemplateInvalid { name, errors } => {
                out.json(super::exec_template::invalid_json(&name, &errors));
                eprintln!("kv1nt: {}", super::exec_template::invalid_text(&name, &errors));
                early = Some(super::exec_template::INVALID);
                break None;
            }
            _ => {}
        }
    };
    let _ = engine.ops.send(Op::Shutdown);
    let _ = engine.task.await;
    if let Some(code) = early {
        return Ok(code);
    }
    out.finish(outcome.as_ref(), last_error.as_deref(), interrupted)
}

/// Whether a person can answer on this terminal (stdin for the answer, stderr for the question).
fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// An approval in exec: asked on the terminal when there is one; otherwise denied, saying so.
fn approve_headless(request: &ApprovalRequest, out: &mut Printer) -> ApprovalDecision {
    let syntax = syntax_lines(&request.syntax);
    let checked = if syntax.is_empty() { String::new() } else { format!(" [{}]", syntax.join("; ")) };
    let what =
        format!("{}{checked} (risk {}: {})", request.summary, request.risk, request.reasons.join("; "));
    if !interactive() {
        let text = format!("denied {what}: exec has no terminal to ask; use --approval auto-edit or auto");
        let value = json!({"type": "approval", "decision": "denied", "summary": request.summary,
            "syntax": syntax, "risk": request.risk, "reasons": request.reasons, "why": text});
        out.note(value, &text);
        return ApprovalDecision::Deny;
    }
    eprintln!("kv1nt: approve {what}? [y/N] ");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    if line.trim().eq_ignore_ascii_case("y") { ApprovalDecision::Once } else { ApprovalDecision::Deny }
}

fn ask_headless(question: &str, out: &mut Printer) -> String {
    if !interactive() {
        out.note(
            json!({"type": "question", "text": question, "answered": false}),
            &format!("the model asked: {question}"),
        );
        return "(nobody can answer: kv1nt runs non-interactively; decide yourself and say what you assumed)"
            .into();
    }
    eprintln!("kv1nt asks: {question}");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    line.trim().to_string()
}

/// A run's test report for `--json`: the runner, counts and named failures.
fn tests_json(report: &TestReport) -> serde_json::Value {
    let failures: Vec<serde_json::Value> = report
        .failures
        .iter()
        .map(|f| {
            let (file, line) = f.location.clone().unzip();
            json!({"name": f.name, "file": file, "line": line, "message": f.message})
        })
        .collect();
    json!({
        "runner": report.runner.name(),
        "passed": report.passed,
        "failed": report.failed,
        "skipped": report.skipped,
        "failures": failures,
        "summary": report.summary_line(),
    })
}

fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    }
}

struct Printer {
    json: bool,
    stdout: std::io::Stdout,
    usage: Option<(crate::engine::llm::Usage, Option<f64>)>,
}

impl Printer {
    fn json(&mut self, value: serde_json::Value) {
        if self.json {
            let _ = writeln!(self.stdout, "{value}");
            let _ = self.stdout.flush();
        }
    }

    fn text(&mut self, text: &str) {
        if self.json {
            self.json(json!({"type": "text", "text": text}));
        } else {
            let _ = self.stdout.write_all(text.as_bytes());
            let _ = self.stdout.flush();
        }
    }

    /// Progress (retries, fallbacks): a JSON line, or a stderr line when a person watches
    /// stderr — scripts reading stderr get exactly one line, the final error.
    fn note(&mut self, value: serde_json::Value, text: &str) {
        if self.json {
            self.json(value);
        } else if std::io::stderr().is_terminal() {
            eprintln!("kv1nt: {text}");
        }
    }

    fn finish(
        mut self,
        outcome: Option<&TurnOutcome>,
        error: Option<&str>,
        interrupted: bool,
    ) -> Result<i32> {
        if let Some((u, cost_usd)) = self.usage {
            self.json(json!({
                "type": "usage",
                "input_tokens": u.input_tokens,
                "output_tokens": u.output_tokens,
                "cache_write_tokens": u.cache_write_tokens,
                "cache_read_tokens": u.cache_read_tokens,
                "cost_usd": cost_usd,
            }));
        }
        let (status, reason) = match outcome {
            Some(TurnOutcome::Complete { stop_reason }) => {
                self.json(json!({"type": "done", "status": "complete", "stop_reason": stop_reason}));
                if !self.json {
                    let _ = writeln!(self.stdout);
                }
                return Ok(0);
            }
            Some(TurnOutcome::Incomplete { reason }) => ("incomplete", reason.clone()),
            Some(TurnOutcome::Cancelled) => ("cancelled", "interrupted".to_string()),
            Some(TurnOutcome::Failed { reason }) => ("error", error.unwrap_or(reason).to_string()),
            None => ("error", "the engine stopped unexpectedly".to_string()),
        };
        self.json(json!({"type": "done", "status": status, "error": reason}));
        if !self.json {
            let _ = writeln!(self.stdout);
        }
        eprintln!("kv1nt: {}", reason.replace('\n', " "));
        Ok(if interrupted { 130 } else { 1 })
    }
}

/// A prompt `/name args` whose name is no built-in command (intents and `/template` included):
/// a custom slash command, expanded and run by the engine as in the TUI (refused, exit 2, when
/// there is no such command). A first word that cannot be a command name (`/tmp/x …`) is text.
fn custom_command(prompt: &str) -> Option<Op> {
    let body = prompt.trim_start().strip_prefix('/')?;
    let (name, args) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        && !name.starts_with(['.', ':']);
    if !valid || crate::app::commands::find(name).is_some() {
        return None;
    }
    Some(Op::Command { name: name.to_string(), args: args.trim().to_string() })
}

/// A prompt that starts with an intent's slash command (`/fix …`, `/review`, `/explain …`) runs
/// with that intent, as in the TUI; anything else is plain text.
fn split_intent(prompt: &str) -> (String, Option<crate::engine::protocol::Intent>) {
    let trimmed = prompt.trim_start();
    if let Some(rest) = trimmed.strip_prefix('/') {
        let name = rest.split_whitespace().next().unwrap_or_default();
        if let Some(intent) = crate::engine::protocol::Intent::parse(name) {
            return (rest[name.len()..].trim_start().to_string(), Some(intent));
        }
    }
    (prompt.to_string(), None)
}
