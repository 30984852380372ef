//! The approval gate as the engine runs it: raise the risk when this turn read flagged content,
//! let the policy and session grants decide, ask the user when they must, and audit the outcome.
//! Edits, runs (and later commits) all pass through [`Engine::pass_gate`].
//!
//! Invariants: nothing proceeds without a verdict (policy, grant or the user); every request and
//! every decision is written to the audit log, and a decision that could not be written (no
//! session storage, a database error) is shown as a notice and stops the action (fail closed:
//! nothing proceeds without its audit row); critical risk always reaches the user.

use super::reply::Interrupt;
use super::runtime::Engine;
use crate::engine::approval::grants::grant_for;
use crate::engine::approval::policy::{Verdict, decide};
use crate::engine::approval::risk::redact_secrets;
use crate::engine::approval::{Assessment, GateAction};
use crate::engine::protocol::{ApprovalDecision, ApprovalRequest, Event, FileSyntax, LogLevel, Op};
use crate::engine::store::{NewAudit, NewProposal};

/// How the gate's messages to the model name the thing: "this change" / "Not applied".
#[derive(Debug, Clone, Copy)]
pub(super) struct GateWords {
    pub noun: &'static str,
    pub not_done: &'static str,
}

impl GateWords {
    pub const CHANGE: GateWords = GateWords { noun: "change", not_done: "Not applied" };
    pub const RUN: GateWords = GateWords { noun: "run", not_done: "Not run" };
    pub const COMMIT: GateWords = GateWords { noun: "commit", not_done: "Not committed" };
    pub const STEP: GateWords = GateWords { noun: "step", not_done: "Not done" };
    pub const CALL: GateWords = GateWords { noun: "call", not_done: "Not called" };
}

/// How a request is put to the user.
pub(super) struct Ask {
    /// The dialog's first line.
    pub summary: String,
    /// Whether `e` edits the proposal (new file content, a commit message).
    pub editable: bool,
    pub words: GateWords,
    /// Extra choices (key, label), answered with [`Gated::Picked`].
    pub picks: Vec<(char, String)>,
    /// The syntax gate's verdict per changed file, shown as the dialog's `syntax` line(s).
    pub syntax: Vec<FileSyntax>,
}

impl Ask {
    pub fn new(summary: impl Into<String>, words: GateWords) -> Ask {
        Ask { summary: summary.into(), editable: false, words, picks: Vec::new(), syntax: Vec::new() }
    }

    pub fn editable(mut self) -> Ask {
        self.editable = true;
        self
    }
}

/// The gate's outcome (already audited).
pub(super) enum Gated {
    /// Go ahead; `edited` is the user's replacement content when they edited the change.
    Proceed { edited: Option<String> },
    /// The user took one of the extra choices.
    Picked(char),
    /// Do not; the message says why, for the model.
    Stop(String),
}

impl Engine {
    pub(super) async fn pass_gate(
        &mut self,
        action: &GateAction,
        mut assessment: Assessment,
        ask: Ask,
    ) -> Result<Gated, Interrupt> {
        let words = ask.words;
        if self.turn.flagged {
            assessment.risk = assessment.risk.raised();
            assessment
                .reasons
                .push("proposed after content flagged as a possible prompt injection in this turn".into());
        }
        let id = self.next_request_id();
        let verdict = decide(self.policy, action, &assessment, &self.grants);
        let (verdict, by_hook) = self.hook_verdict(verdict, &mut assessment);
        let (decision, scope, note, edited) = match verdict {
            Verdict::Deny { reason } => {
                self.settle(id, action, &assessment, "policy-denied", None, Some(&reason));
                return Ok(Gated::Stop(format!("{}: {reason}", words.not_done)));
            }
            Verdict::Allow { reason } => {
                (if by_hook { "hook-allowed" } else { "auto-approved" }, None, Some(reason), None)
            }
            Verdict::Ask => {
                let grant = grant_for(action);
                self.emit(Event::ApprovalRequest(ApprovalRequest {
                    id,
                    action: action.clone(),
                    risk: assessment.risk,
                    reasons: assessment.reasons.clone(),
                    summary: ask.summary.clone(),
                    session_scope: grant.as_ref().map(|g| g.description.clone()),
                    editable: ask.editable,
                    picks: ask.picks.clone(),
                    syntax: ask.syntax.clone(),
                }));
                self.notify_hooks(&ask.summary, action);
                let answer = self
                    .wait_for(|op| match op {
                        Op::Approve { id: answered, decision } if *answered == id => Some(decision.clone()),
                        _ => None,
                    })
                    .await;
                let decision = match answer {
                    Ok(decision) => decision,
                    Err(interrupt) => {
                        self.settle(id, action, &assessment, "cancelled", None, None);
                        return Err(interrupt);
                    }
                };
                let noun = words.noun;
                match decision {
                    ApprovalDecision::Once => ("approved-once", None, None, None),
                    ApprovalDecision::ForSession => {
                        let description = grant.as_ref().map(|g| g.description.clone());
                        if let Some(grant) = grant {
                            self.grants.add(grant);
                        }
                        ("approved-session", description, None, None)
                    }
                    ApprovalDecision::Deny => {
                        self.settle(id, action, &assessment, "denied", None, None);
                        return Ok(Gated::Stop(format!(
                            "The user denied this {noun}. Do not retry it unchanged."
                        )));
                    }
                    ApprovalDecision::DenyWithMessage(message) => {
                        self.settle(id, action, &assessment, "denied-with-message", None, Some(&message));
                        return Ok(Gated::Stop(format!("The user denied this {noun} and said: {message}")));
                    }
                    ApprovalDecision::ApproveEdited(content) => {
                        ("edited-and-approved", None, None, Some(content))
                    }
                    ApprovalDecision::Pick(key) => {
                        let label = ask.picks.iter().find(|(k, _)| *k == key).map(|(_, l)| l.as_str());
                        self.settle(id, action, &assessment, "picked", None, label);
                        return Ok(Gated::Picked(key));
                    }
                }
            }
        };
        if !self.settle(id, action, &assessment, decision, scope.as_deref(), note.as_deref()) {
            return Ok(Gated::Stop(format!(
                "{}: the audit log could not be written, so nothing was done (see the notice)",
                words.not_done
            )));
        }
        if let Some(content) = &edited {
            self.record_modification(action, content);
        }
        Ok(Gated::Proceed { edited })
    }

    /// A gate verdict: its audit row, then its proposal row (`store::proposals`: the figures
    /// the quality loop and the learning layer read). Returns whether the audit row was written.
    fn settle(
        &mut self,
        request_id: u64,
        action: &GateAction,
        assessment: &Assessment,
        decision: &str,
        scope: Option<&str>,
        note: Option<&str>,
    ) -> bool {
        if !self.audit(request_id, action, assessment, decision, scope, note) {
            return false;
        }
        self.turn.proposal = None;
        let (Some(store), Some(session)) = (&self.store, &self.session) else { return true };
        if !self.config.learning.enabled {
            return true;
        }
        let language = match action {
            GateAction::Edit { changes } => changes
                .first()
                .and_then(|c| crate::engine::grammars::Grammar::from_path(&c.path))
                .map(|l| l.as_str()),
            _ => None,
        };
        let provider = self.config.llm.primary;
        let proposal = NewProposal {
            session_id: &session.id,
            request_id,
            turn: self.turn.number,
            kind: action.kind(),
            provider: provider.as_str(),
            model: self.config.model_of(provider),
            intent: self.turn.intent.map(|i| i.name()),
            language,
            risk: assessment.risk.as_str(),
            decision,
            template: self.turn.template.as_deref(),
            prompt_variant: Some(self.turn.prompt_variant.as_str()).filter(|v| !v.is_empty()),
        };
        match store.record_proposal(&proposal) {
            Ok(id) => self.turn.proposal = Some(id),
            Err(e) => self.log(LogLevel::Warn, format!("could not record the proposal's outcome: {e}")),
        }
        true
    }

    /// The user edited the proposal before approving: keep proposed → approved as a diff (the
    /// corrections the learning layer mines).
    fn record_modification(&self, action: &GateAction, approved: &str) {
        let proposed = match action {
            GateAction::Edit { changes } => changes.first().and_then(|c| c.after.as_deref()).unwrap_or(""),
            GateAction::Command { command, .. } => command,
            GateAction::Commit { message, .. } => message,
            GateAction::Git { detail, .. } => detail,
            GateAction::Mcp { arguments, .. } => arguments,
        };
        let diff = similar::TextDiff::from_lines(proposed, approved)
            .unified_diff()
            .context_radius(2)
            .header("proposed", "approved")
            .to_string();
        if let (Some(store), Some(proposal)) = (&self.store, self.turn.proposal)
            && let Err(e) = store.set_modification(proposal, &diff)
        {
            self.log(LogLevel::Warn, format!("could not record the user's modification: {e}"));
        }
    }

    /// The last verdict's proposal wrote `change_id`.
    pub(super) fn link_proposal(&self, change_id: i64) {
        if let (Some(store), Some(proposal)) = (&self.store, self.turn.proposal)
            && let Err(e) = store.link_change(proposal, change_id)
        {
            self.log(LogLevel::Warn, format!("could not link change #{change_id} to its proposal: {e}"));
        }
    }

    pub(super) fn audit(
        &self,
        request_id: u64,
        action: &GateAction,
        assessment: &Assessment,
        decision: &str,
        scope: Option<&str>,
        note: Option<&str>,
    ) -> bool {
        let (Some(store), Some(session)) = (&self.store, &self.session) else {
            self.emit(Event::Notice {
                level: LogLevel::Error,
                text: "Session storage is unavailable: this decision could not be audited.".into(),
            });
            return false;
        };
        let note = note.map(redact_secrets);
        let entry = NewAudit {
            session_id: &session.id,
            request_id,
            action: action.kind(),
            target: &redact_secrets(&action.target()),
            risk: assessment.risk,
            reasons: &assessment.reasons,
            decision,
            scope,
            note: note.as_deref(),
        };
        match store.record_audit(&entry) {
            Ok(_) => true,
            Err(e) => {
                let text = format!("Could not write the audit log: {e}");
                self.emit(Event::Notice { level: LogLevel::Error, text });
                false
            }
        }
    }
}
