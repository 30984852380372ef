//! Hooks (Claude Code's protocol, `engine::hooks`) as the engine fires them: `PreToolUse` and
//! `PostToolUse` around every tool call (reads too), `UserPromptSubmit` before a turn,
//! `Stop` when the model ends one, `SessionStart` once the session is ready, `Notification`
//! when the approval dialog opens. Not git's commit hooks (`commit_hooks.rs`).
//!
//! Invariants — nothing gets around the gate:
//! - a `deny` (or exit 2) always wins: the call does not run, the model gets the reason, the
//!   chat shows it and the audit log has a `hook-denied` row;
//! - `ask` makes the gate ask even where the policy or a grant would allow;
//! - `allow` from the user's own hook skips the dialog as a session grant would (never for
//!   critical risk, never past a policy denial; audited `hook-allowed`); a repository's
//!   `allow` leaves the decision to the policy;
//! - a hook that fails or times out is a non-blocking error (Claude Code's rule): shown, and
//!   the call goes on through the gate as without hooks;
//! - a Stop hook keeps a turn going at most [`MAX_STOP_CONTINUES`] times;
//! - hooks run while the engine waits, so Esc cancels them (their process group is killed).

use std::future::Future;
use std::pin::Pin;

use serde_json::{Value, json};

use super::reply::Interrupt;
use super::runtime::{Engine, LoopControl};
use super::tool_calls::Outcome;
use crate::engine::approval::policy::Verdict;
use crate::engine::approval::{Assessment, GateAction, Policy, Risk};
use crate::engine::hooks::input::{Common, claude_tool_name, payload, tool_input};
use crate::engine::hooks::run::{HookRun, run_sandboxed, run_user};
use crate::engine::hooks::{Answer, Hook, HookSet, Permission, interpret};
use crate::engine::llm::{Message, ToolCall};
use crate::engine::protocol::{Event, HookOutcome, HookReport, HookSource, LogLevel, TurnOutcome};
use crate::engine::store::{MessageStatus, NewAudit};

/// How often Stop hooks may send the model back to work in one turn.
pub(super) const MAX_STOP_CONTINUES: u32 = 3;

/// Most bytes of a tool's result handed to PostToolUse hooks.
const MAX_RESPONSE_BYTES: usize = 32 * 1024;

/// What PreToolUse hooks said that the gate must hear, for the call being run.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum HookGate {
    /// Ask the user whatever the policy says.
    Ask(String),
    /// The user's own hook allowed it.
    Allow(String),
}

type Running = Pin<Box<dyn Future<Output = HookRun> + Send>>;

impl Engine {
    /// Build the session's hooks (after the trust question, so an untrusted repository's
    /// never are in it); problems are shown once.
    pub(super) fn load_hooks(&mut self) {
        let home = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
        let repo = self.config.repo_hooks.as_ref().filter(|_| self.config.repo_trusted);
        let (set, problems) = HookSet::build(&self.config.hooks, repo, home.as_deref());
        for problem in problems {
            self.notice(LogLevel::Warn, format!("hooks: {problem}"));
        }
        self.hooks = set;
    }

    /// The hooks' processes for `event`, each with its command, not yet started.
    fn hook_runs(&self, event: &'static str, names: &[&str], fields: Value) -> Vec<(Hook, Running)> {
        let hooks = self.hooks.matching(event, names);
        if hooks.is_empty() {
            return Vec::new();
        }
        let common = Common {
            session_id: self.session.as_ref().map_or("", |s| s.id.as_str()),
            cwd: &self.workspace,
            permission_mode: permission_mode(self.policy),
        };
        let mut input = payload(&common, event, fields).to_string().into_bytes();
        input.push(b'\n');
        let sandbox = self.config.sandbox.to_config(None);
        hooks
            .into_iter()
            .map(|hook| {
                let (command, workspace, input, sandbox) =
                    (hook.command.clone(), self.workspace.clone(), input.clone(), sandbox.clone());
                let limit = hook.timeout;
                let run: Running =
                    match hook.source {
                        HookSource::User => {
                            Box::pin(async move { run_user(&command, &workspace, input, limit).await })
                        }
                        HookSource::Repository => Box::pin(async move {
                            run_sandboxed(&command, &workspace, input, limit, &sandbox).await
                        }),
                    };
                (hook, run)
            })
            .collect()
    }

    /// Run the matching hooks of `event` together, waiting (Esc cancels); each is reported.
    async fn fire(
        &mut self,
        event: &'static str,
        names: &[&str],
        subject: &str,
        fields: Value,
    ) -> Result<Vec<(Hook, Answer)>, Interrupt> {
        let (hooks, runs): (Vec<Hook>, Vec<Running>) =
            self.hook_runs(event, names, fields).into_iter().unzip();
        if hooks.is_empty() {
            return Ok(Vec::new());
        }
        let results = self.unless_interrupted(futures_util::future::join_all(runs)).await?;
        let answers: Vec<(Hook, Answer)> =
            hooks.into_iter().zip(results).map(|(hook, run)| (hook, interpret(event, &run))).collect();
        for (hook, answer) in &answers {
            let report = report(hook, subject, answer);
            if matches!(report.outcome, HookOutcome::Failed | HookOutcome::TimedOut) {
                self.notice(LogLevel::Warn, report.line());
            }
            if let Some(message) = &answer.message {
                self.notice(LogLevel::Info, format!("hook {}: {message}", hook.event));
            }
            self.emit(Event::Hook(report));
        }
        Ok(answers)
    }

    /// PreToolUse: `Some(result)` when a hook refused the call (audited, shown); otherwise
    /// what the gate must hear is left in `turn.hook_gate` for this call.
    pub(super) async fn pre_tool_hooks(&mut self, call: &ToolCall) -> Result<Option<Outcome>, Interrupt> {
        let (claude, fields) = self.tool_fields(call, None);
        let answers = self.fire("PreToolUse", &[&claude, &call.name], &call.name, fields).await?;
        let mut denied = Vec::new();
        let mut gate = None;
        for (hook, answer) in &answers {
            let reason = answer.permission.as_ref().map(|(_, r)| r.clone()).unwrap_or_default();
            let reason = if reason.is_empty() { format!("`{}` said so", hook.command) } else { reason };
            match (answer.permission.as_ref().map(|p| p.0), &answer.stop) {
                (_, Some(stop)) => denied.push((hook, stop.clone())),
                (Some(Permission::Deny), _) => denied.push((hook, reason)),
                (Some(Permission::Ask), _) => gate = Some(HookGate::Ask(reason)),
                (Some(Permission::Allow), _) if hook.source == HookSource::User && gate.is_none() => {
                    gate = Some(HookGate::Allow(reason))
                }
                _ => {}
            }
        }
        if denied.is_empty() {
            self.turn.hook_gate = gate;
            return Ok(None);
        }
        let reasons: Vec<String> = denied.iter().map(|(_, r)| r.clone()).collect();
        let reason = reasons.join("; ");
        let commands: Vec<String> = denied
            .iter()
            .map(|(h, _)| format!("PreToolUse hook `{}` ({})", h.command, h.source.as_str()))
            .collect();
        self.audit_hook(&format!("{claude} {}", super::tool_calls::call_summary(call)), &commands, &reason);
        self.notice(
            LogLevel::Warn,
            format!("A hook refused {}: {reason}", super::tool_calls::call_summary(call)),
        );
        Ok(Some(Outcome::error(format!("Not run: a PreToolUse hook refused this call: {reason}"))))
    }

    /// PostToolUse (after a call that ran and succeeded): a block's reason and added context
    /// go to the model with the result.
    pub(super) async fn post_tool_hooks(
        &mut self,
        call: &ToolCall,
        outcome: &mut Outcome,
    ) -> Result<(), Interrupt> {
        let mut response = outcome.content.clone();
        if response.len() > MAX_RESPONSE_BYTES {
            let cut = (0..=MAX_RESPONSE_BYTES).rev().find(|i| response.is_char_boundary(*i)).unwrap_or(0);
            response.truncate(cut);
        }
        let (claude, fields) =
            self.tool_fields(call, Some(json!({"success": !outcome.is_error, "content": response})));
        for (hook, answer) in self.fire("PostToolUse", &[&claude, &call.name], &call.name, fields).await? {
            if let Some(reason) = answer.block.or(answer.stop) {
                let reason = self.screen_hook_text(&hook, reason);
                outcome.content.push_str(&format!("\n\nA PostToolUse hook says: {reason}"));
            }
            if let Some(context) = answer.context {
                let context = self.screen_hook_text(&hook, context);
                outcome.content.push_str(&format!("\n\nContext from a PostToolUse hook:\n{context}"));
            }
        }
        Ok(())
    }

    /// UserPromptSubmit: the prompt with any added context, or `Err` when a hook blocked it
    /// (shown, no turn; the turn's end is already reported).
    pub(super) async fn prompt_hooks(&mut self, mut text: String) -> Result<String, LoopControl> {
        let fields = json!({"prompt": text});
        let answers = match self.fire("UserPromptSubmit", &[], "", fields).await {
            Ok(answers) => answers,
            Err(Interrupt::Shutdown) => return Err(LoopControl::Shutdown),
            Err(Interrupt::Cancel) => {
                self.emit(Event::TurnEnded(TurnOutcome::Cancelled));
                return Err(LoopControl::Continue);
            }
        };
        let mut blocked = Vec::new();
        for (hook, answer) in answers {
            if let Some(reason) = answer.block.or(answer.stop) {
                blocked.push(reason);
            } else if let Some(context) = answer.context {
                let context = self.screen_hook_text(&hook, context);
                text.push_str(&format!("\n\n(Context from a UserPromptSubmit hook:)\n{context}"));
            }
        }
        if blocked.is_empty() {
            return Ok(text);
        }
        self.refuse_turn(format!("A UserPromptSubmit hook blocked this prompt: {}", blocked.join("; ")));
        Err(LoopControl::Continue)
    }

    /// Stop: `true` when a hook sent the model back to work (its reason is the next message).
    pub(super) async fn stop_hooks(&mut self, last_reply: &str) -> Result<bool, Interrupt> {
        if self.turn.hook_stops >= MAX_STOP_CONTINUES {
            return Ok(false);
        }
        let fields =
            json!({"stop_hook_active": self.turn.hook_stops > 0, "last_assistant_message": last_reply});
        let answers = self.fire("Stop", &[], "", fields).await?;
        if answers.iter().any(|(_, a)| a.stop.is_some()) {
            return Ok(false);
        }
        let reasons: Vec<String> = answers.into_iter().filter_map(|(_, a)| a.block).collect();
        if reasons.is_empty() {
            return Ok(false);
        }
        self.turn.hook_stops += 1;
        let reason = reasons.join("\n");
        self.notice(LogLevel::Info, format!("A Stop hook kept the turn going: {reason}"));
        let message = Message::user(format!("{}{reason}", crate::engine::protocol::chat::STOP_HOOK_MARK));
        self.persist_new(&message, MessageStatus::Complete);
        self.history.push(message);
        Ok(true)
    }

    /// SessionStart: added context goes into the system prompt.
    pub(super) async fn session_start_hooks(&mut self) -> Result<(), Interrupt> {
        let source = if self.session.is_some() { "resume" } else { "startup" };
        let answers = self.fire("SessionStart", &[source], source, json!({"source": source})).await?;
        let context: Vec<String> = answers
            .into_iter()
            .filter_map(|(hook, a)| a.context.map(|c| self.screen_hook_text(&hook, c)))
            .collect();
        if !context.is_empty() {
            self.system_prompt.push_str("\n\n# From the user's SessionStart hooks\n\n");
            self.system_prompt.push_str(&context.join("\n\n"));
        }
        Ok(())
    }

    /// Notification (the approval dialog opened): started and left to run, never waited for.
    pub(super) fn notify_hooks(&self, summary: &str, action: &GateAction) {
        let target = crate::engine::approval::risk::redact_secrets(&action.target());
        let fields = json!({
            "message": format!("kv1nt needs your permission: {summary}: {target}"),
            "notification_type": "permission_prompt",
        });
        for (hook, run) in self.hook_runs("Notification", &["permission_prompt"], fields) {
            let events = self.events.clone();
            tokio::spawn(async move {
                let answer = interpret(hook.event, &run.await);
                let _ = events.send(Event::Hook(report(&hook, "permission_prompt", &answer)));
            });
        }
    }

    /// The gate's verdict with this call's PreToolUse answer applied; `true` when a hook's
    /// `allow` decided it.
    pub(super) fn hook_verdict(&self, verdict: Verdict, assessment: &mut Assessment) -> (Verdict, bool) {
        match (verdict, self.turn.hook_gate.clone()) {
            (Verdict::Allow { .. }, Some(HookGate::Ask(reason))) => {
                assessment.reasons.push(format!("a PreToolUse hook asks: {reason}"));
                (Verdict::Ask, false)
            }
            (Verdict::Ask, Some(HookGate::Ask(reason))) => {
                assessment.reasons.push(format!("a PreToolUse hook asks: {reason}"));
                (Verdict::Ask, false)
            }
            (Verdict::Ask, Some(HookGate::Allow(reason))) if assessment.risk != Risk::Critical => {
                (Verdict::Allow { reason: format!("allowed by your PreToolUse hook: {reason}") }, true)
            }
            (verdict, _) => (verdict, false),
        }
    }

    /// What a hook adds for the model, screened for prompt injection like every tool result
    /// (a hook may print what it read: a file, a web page).
    fn screen_hook_text(&mut self, hook: &Hook, text: String) -> String {
        self.screen(&format!("the {} hook `{}`", hook.event, hook.command), text).0
    }

    /// The hook-facing name and fields of a call (`tool_response` for PostToolUse).
    fn tool_fields(&self, call: &ToolCall, response: Option<Value>) -> (String, Value) {
        let claude = claude_tool_name(&call.name, self.mcp.tool(&call.name).is_some());
        let mut fields = json!({
            "tool_name": claude,
            "tool_input": tool_input(&call.name, &call.arguments, &self.workspace),
            "tool_use_id": call.id,
            "kv1nt_tool": call.name,
        });
        if let Some(response) = response {
            fields["tool_response"] = response;
        }
        (claude, fields)
    }

    /// A hook's refusal in the audit log (`hook-denied`); a row that cannot be written changes
    /// nothing — the call is refused anyway.
    fn audit_hook(&mut self, target: &str, hooks: &[String], reason: &str) {
        let request_id = self.next_request_id();
        let (Some(store), Some(session)) = (&self.store, &self.session) else { return };
        let note = crate::engine::approval::risk::redact_secrets(reason);
        let entry = NewAudit {
            session_id: &session.id,
            request_id,
            action: "tool-call",
            target: &crate::engine::approval::risk::redact_secrets(target),
            risk: Risk::Low,
            reasons: hooks,
            decision: "hook-denied",
            scope: None,
            note: Some(&note),
        };
        if let Err(e) = store.record_audit(&entry) {
            self.notice(LogLevel::Error, format!("Could not write the audit log: {e}"));
        }
    }
}

/// What a hook's answer is, for the chat's log and `exec --json`.
fn report(hook: &Hook, subject: &str, answer: &Answer) -> HookReport {
    let (outcome, message) = if answer.timed_out {
        (HookOutcome::TimedOut, answer.error.clone())
    } else if let Some(error) = &answer.error {
        (HookOutcome::Failed, Some(error.clone()))
    } else if let Some(stop) = &answer.stop {
        (HookOutcome::Stopped, Some(stop.clone()))
    } else if let Some((permission, reason)) = &answer.permission {
        let outcome = match permission {
            Permission::Allow => HookOutcome::Allowed,
            Permission::Ask => HookOutcome::Asked,
            Permission::Deny => HookOutcome::Denied,
        };
        (outcome, Some(reason.clone()))
    } else if let Some(block) = &answer.block {
        (HookOutcome::Blocked, Some(block.clone()))
    } else if let Some(context) = &answer.context {
        (HookOutcome::Context, Some(context.clone()))
    } else {
        (HookOutcome::Ok, None)
    };
    HookReport {
        event: hook.event.to_string(),
        subject: subject.to_string(),
        source: hook.source,
        command: hook.command.clone(),
        outcome,
        message: message.unwrap_or_default(),
    }
}

/// Claude Code's `permission_mode` for kv1nt's policy.
fn permission_mode(policy: Policy) -> &'static str {
    match policy {
        Policy::ReadOnly | Policy::Plan => "plan",
        Policy::Ask => "default",
        Policy::AutoEdit => "acceptEdits",
        Policy::Auto => "bypassPermissions",
    }
}
