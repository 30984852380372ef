//! One turn: the user's prompt, then as many model steps as the tool loop needs. Each step
//! starts a reply on the primary (retried, then possibly the fallback), streams it, and runs the
//! tool calls it made through the approval gate; the loop ends when the model stops calling
//! tools, at the step limit, or when the user cancels.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::reply::Interrupt;
use super::runtime::{Engine, LoopControl};
use super::{intents, text_protocol};
use crate::engine::config::ToolMode;
use crate::engine::llm::oneshot::{FALLBACK_TITLE, fallback_body};
use crate::engine::llm::providers;
use crate::engine::llm::router::start_with_retries;
use crate::engine::llm::{EventStream, LlmError, Message, ProviderKind, Usage};
use crate::engine::protocol::{Event, Intent, LogLevel, TurnOutcome};
use crate::engine::store::MessageStatus;

/// What the engine tracks across the steps of one turn.
#[derive(Debug, Default)]
pub(super) struct TurnState {
    pub intent: Option<Intent>,
    pub step: usize,
    /// Content flagged as a possible prompt injection was read in this turn.
    pub flagged: bool,
    /// How often each (tool, arguments) was called since kv1nt last wrote to the workspace, to
    /// stop a model that loops (`note_write` clears it).
    pub call_counts: HashMap<String, usize>,
    pub edits_applied: usize,
    /// The graph's sections for the files in view, recomputed before each step.
    pub graph_context: String,
    /// The turn's number in the session: the index of its prompt in the history.
    pub number: u64,
    /// The proposal row of the last gate verdict (to link what it wrote).
    pub proposal: Option<i64>,
    /// The project checks before the turn's first write (`checks.rs`): the fix loop's baseline.
    pub checks_before: Option<crate::engine::protocol::CheckReport>,
    /// The tokens of the last reply (its provider's cumulative count).
    pub last_usage: Usage,
    /// The tokens of the turn's finished replies, summed (`record_usage`).
    pub usage: Usage,
    /// Their cost in USD (`engine::pricing`); `unpriced` once a reply's model had no price.
    pub cost: f64,
    pub unpriced: bool,
    /// How often the syntax gate sent a change of each path back to the model in this turn
    /// (`syntax_gate`; a path's count restarts once a proposal of it reached the gate).
    pub syntax_retries: HashMap<String, u32>,
    /// The fix loop's rounds in this turn (`fix_loop`).
    pub fix: super::fix_loop::FixState,
    /// What PreToolUse hooks told the gate about the call being run (`user_hooks`).
    pub hook_gate: Option<super::user_hooks::HookGate>,
    /// How often Stop hooks sent the model back to work in this turn (`user_hooks`).
    pub hook_stops: u32,
    /// The code template this turn fills (`/template`), recorded on its proposals.
    pub template: Option<String>,
    /// Which prompt the model answers: 8 hex digits of the hash of the system prompt (with
    /// `AGENTS.md`/`KV1NT.md`) and the intent's template, recorded on the turn's proposals.
    pub prompt_variant: String,
    /// Few-shot examples from the user's accepted edits (`examples.rs`), in every request.
    pub examples: Vec<crate::engine::learning::examples::Example>,
    /// The tools whose malformed arguments the model was already asked to repair (`repair.rs`).
    pub repaired: HashSet<String>,
    /// The current step's reply speaks the text tool protocol ([`Engine::text_tools_for`]).
    pub text_tools: bool,
    /// A full window already asked for a compaction in this turn (`compaction.rs`).
    pub compaction_tried: bool,
    /// The "Files in view" section: what the prompt names with `@path` and Code shows
    /// (`in_view.rs`), read at the turn's start.
    pub files_in_view: String,
    /// The user rejected a plan without saying why: the turn ends after this step's tool results
    /// (`plan.rs`).
    pub stop_after_tools: bool,
    /// The raw estimate of the step's request, for the calibration when its usage arrives.
    pub sent_estimate: Option<usize>,
}

/// Why a reply could not start.
pub(super) enum StartError {
    Interrupted(Interrupt),
    /// Reported to the user already.
    Failed(String),
}

/// How long a turn's first step waits for MCP servers that are still starting.
const MCP_START_WAIT: Duration = Duration::from_secs(5);

impl Engine {
    /// The user's own prompt (`Op::Submit`): the one text whose image paths are attached.
    pub(super) async fn run_turn(&mut self, text: String, intent: Option<Intent>) -> LoopControl {
        let images = self.prompt_images(&text);
        self.run_turn_for(text, intent, None, images).await
    }

    /// A turn that fills the code template `template` (`/template`), or none, with the prompt's
    /// `images` (none for a template's, a custom command's or an MCP prompt's text).
    pub(super) async fn run_turn_for(
        &mut self,
        text: String,
        intent: Option<Intent>,
        template: Option<String>,
        images: Vec<crate::engine::protocol::ImageAttachment>,
    ) -> LoopControl {
        self.ensure_session();
        let text = match self.intent_prompt(intent, text).await {
            Ok(text) => text,
            Err(why) => {
                self.refuse_turn(why);
                return LoopControl::Continue;
            }
        };
        let text = match self.prompt_hooks(text).await {
            Ok(text) => text,
            Err(flow) => return flow,
        };
        let examples = self.choose_examples(&text);
        // A custom command's `@path`s are already expanded into its prompt.
        let files_in_view = if self.command_turn.is_some() {
            self.files_in_view_section("")
        } else {
            self.files_in_view_section(&text)
        };
        let prompt = Message { images, ..Message::user(text) };
        self.persist_new(&prompt, MessageStatus::Complete);
        self.history.push(prompt);
        self.announce_prompt();
        let number = self.history.len() as u64;
        let prompt_variant = self.prompt_variant(intent);
        self.turn = TurnState {
            intent,
            number,
            template,
            examples,
            prompt_variant,
            files_in_view,
            ..TurnState::default()
        };
        self.turn.flagged = self.command_turn.as_ref().is_some_and(|c| c.flagged);
        let (outcome, flow) = self.run_steps().await;
        self.emit(Event::TurnEnded(outcome));
        self.trim_held();
        if self.turn.edits_applied > 0 {
            self.announce_workspace_files(); // new files for the `@` completion
        }
        if flow == LoopControl::Continue { self.checks_after_turn().await } else { flow }
    }

    async fn run_steps(&mut self) -> (TurnOutcome, LoopControl) {
        loop {
            if self.turn.step >= self.config.agent.max_steps {
                let reason = format!("stopped after {} tool steps (agent.max_steps)", self.turn.step);
                self.emit(Event::Notice { level: LogLevel::Warn, text: format!("The model {reason}.") });
                return (TurnOutcome::Incomplete { reason }, LoopControl::Continue);
            }
            let window = self.config.context_window(self.config.llm.primary);
            self.turn.graph_context = match self.prompt_graph_sections(window).await {
                Ok(sections) => sections,
                Err(Interrupt::Shutdown) => return (TurnOutcome::Cancelled, LoopControl::Shutdown),
                Err(Interrupt::Cancel) => {
                    self.log(LogLevel::Info, "turn cancelled while waiting for the code index");
                    return (TurnOutcome::Cancelled, LoopControl::Continue);
                }
            };
            match self.compact_if_full().await {
                Ok(()) => {}
                Err(Interrupt::Shutdown) => return (TurnOutcome::Cancelled, LoopControl::Shutdown),
                Err(Interrupt::Cancel) => {
                    self.log(LogLevel::Info, "turn cancelled during compaction");
                    return (TurnOutcome::Cancelled, LoopControl::Continue);
                }
            }
            if self.turn.step == 0 && self.mcp.starting() {
                // The first turn may come while MCP servers still start: wait a little so
                // their tools are offered, never long (a slow server's tools come next step).
                let mcp = self.mcp.clone();
                match self.unless_interrupted(mcp.settled(MCP_START_WAIT)).await {
                    Ok(()) => {}
                    Err(Interrupt::Shutdown) => return (TurnOutcome::Cancelled, LoopControl::Shutdown),
                    Err(Interrupt::Cancel) => return (TurnOutcome::Cancelled, LoopControl::Continue),
                }
            }
            let (stream, kind) = match self.start_reply().await {
                Ok(started) => started,
                Err(StartError::Interrupted(Interrupt::Shutdown)) => {
                    return (TurnOutcome::Cancelled, LoopControl::Shutdown);
                }
                Err(StartError::Interrupted(Interrupt::Cancel)) => {
                    self.log(LogLevel::Info, "turn cancelled before the reply started");
                    return (TurnOutcome::Cancelled, LoopControl::Continue);
                }
                Err(StartError::Failed(reason)) => {
                    return (TurnOutcome::Failed { reason }, LoopControl::Continue);
                }
            };
            self.turn.text_tools = self.text_tools_for(kind);
            let model = self.config.model_of(kind).to_string();
            if let (Some(store), Some(session)) = (&self.store, &self.session) {
                let _ = store.set_session_model(&session.id, kind.as_str(), &model);
            }
            self.emit(Event::TurnStarted { provider: kind, model: self.model_label(kind) });
            let (reply, outcome, flow) = self.stream_reply(stream, kind).await;
            self.record_usage(kind);
            if flow == LoopControl::Shutdown || !matches!(outcome, TurnOutcome::Complete { .. }) {
                return (outcome, flow);
            }
            // A native reply's calls written as text were made its calls by `recognise_text_calls`.
            let calls = if self.turn.text_tools {
                text_protocol::parse_calls(&reply.text, &self.offered_tools())
            } else {
                reply.tool_calls.clone()
            };
            if calls.is_empty() {
                match self.fix_round().await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(Interrupt::Cancel) => {
                        self.log(LogLevel::Info, "turn cancelled during the checks");
                        return (TurnOutcome::Cancelled, LoopControl::Continue);
                    }
                    Err(Interrupt::Shutdown) => return (TurnOutcome::Cancelled, LoopControl::Shutdown),
                }
                match self.stop_hooks(&reply.text).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(Interrupt::Cancel) => return (TurnOutcome::Cancelled, LoopControl::Continue),
                    Err(Interrupt::Shutdown) => return (TurnOutcome::Cancelled, LoopControl::Shutdown),
                }
                let suggestions = intents::follow_ups(self.turn.intent, &reply.text, self.turn.edits_applied);
                if !suggestions.is_empty() {
                    self.emit(Event::Suggestions(suggestions));
                }
                return (outcome, LoopControl::Continue);
            }
            self.turn.step += 1;
            match self.run_tool_calls(&calls).await {
                Ok(results) => {
                    self.persist_new(&results, MessageStatus::Complete);
                    self.history.push(results);
                    if std::mem::take(&mut self.turn.stop_after_tools) {
                        return (
                            TurnOutcome::Complete { stop_reason: Some("plan rejected".into()) },
                            LoopControl::Continue,
                        );
                    }
                }
                Err(Interrupt::Cancel) => return (TurnOutcome::Cancelled, LoopControl::Continue),
                Err(Interrupt::Shutdown) => return (TurnOutcome::Cancelled, LoopControl::Shutdown),
            }
        }
    }

    /// See [`TurnState::prompt_variant`].
    fn prompt_variant(&self, intent: Option<Intent>) -> String {
        let template = intent.map(intents::template).unwrap_or("");
        let hash = crate::engine::store::sha256_hex(format!("{}\0{template}", self.system_prompt).as_bytes());
        hash[..8].to_string()
    }

    /// The turn's usage so far with `reply`'s (the one streaming, on `kind`) added, and its cost.
    pub(super) fn usage_event(&self, kind: ProviderKind, reply: Usage) -> Event {
        let mut turn = self.turn.usage;
        turn.add(reply);
        let prices = crate::engine::pricing::Prices::of(&self.config);
        let cost = prices.cost(kind.as_str(), self.config.model_of(kind), &reply);
        let cost_usd = cost.filter(|_| !self.turn.unpriced).map(|c| c + self.turn.cost);
        Event::Usage { turn, cost_usd }
    }

    /// The last reply's tokens, added to the turn's sum and cost and to its row
    /// (`store::usage`).
    fn record_usage(&mut self, kind: ProviderKind) {
        let usage = std::mem::take(&mut self.turn.last_usage);
        if usage.is_empty() {
            return;
        }
        if let Some(estimated) = self.turn.sent_estimate.take() {
            self.calibrate(kind, estimated, usage.prompt_tokens());
        }
        let model = self.config.model_of(kind);
        self.turn.usage.add(usage);
        match crate::engine::pricing::Prices::of(&self.config).cost(kind.as_str(), model, &usage) {
            Some(cost) => self.turn.cost += cost,
            None => self.turn.unpriced = true,
        }
        if !self.config.learning.enabled {
            return;
        }
        let (Some(store), Some(session)) = (&self.store, &self.session) else { return };
        if let Err(e) = store.add_turn_usage(&session.id, self.turn.number, kind.as_str(), model, &usage) {
            self.log(LogLevel::Warn, format!("could not record the turn's token usage: {e}"));
        }
    }

    /// Start a reply on the primary, then on the fallback when the primary cannot answer.
    async fn start_reply(&mut self) -> Result<(EventStream, ProviderKind), StartError> {
        let mut kind = self.config.llm.primary;
        let mut failures: Vec<LlmError> = Vec::new();
        let mut refitted = false;
        loop {
            let provider = providers::build(kind, &self.config, &self.secrets, &self.client);
            // The server's window (and so the profile and trimming), where it says it.
            self.probe_window(kind).await.map_err(StartError::Interrupted)?;
            let request = self.request_for(kind, provider.model());
            let sent = self.raw_estimate(kind, &request);
            self.turn.sent_estimate = Some(sent);
            let policy = providers::retry_policy(&self.config);
            let events = self.events.clone();
            let attempt = async move {
                start_with_retries(provider.as_ref(), &request, &policy, |notice| {
                    let text = format!(
                        "{}: retry {}/{} in {:.1} s — {}",
                        notice.provider,
                        notice.attempt,
                        notice.max_retries,
                        notice.delay.as_secs_f64(),
                        notice.reason
                    );
                    let _ = events.send(Event::Log { level: LogLevel::Warn, text });
                    let _ = events.send(Event::Retrying {
                        provider: notice.provider,
                        attempt: notice.attempt,
                        max_retries: notice.max_retries,
                        delay: notice.delay,
                        reason: notice.reason,
                    });
                })
                .await
            };
            let error = match self.unless_interrupted(attempt).await.map_err(StartError::Interrupted)? {
                Ok(stream) => return Ok((stream, kind)),
                Err(error) => error,
            };
            if let LlmError::ContextExceeded { window, prompt_tokens, .. } = &error
                && !refitted
            {
                // A window kv1nt could have known: learn it, fit the history, try once more.
                refitted = true;
                self.log(LogLevel::Warn, error.to_string());
                let (window, prompt_tokens) = (*window, *prompt_tokens);
                self.refit_after_refusal(kind, window, prompt_tokens, sent)
                    .await
                    .map_err(StartError::Interrupted)?;
                continue;
            }
            if self.should_switch_to_text_tools(&error) {
                self.text_tools = true;
                self.log(
                    LogLevel::Warn,
                    format!("{kind} refused native tool calls ({error}); using the text tool protocol"),
                );
                continue;
            }
            self.log(LogLevel::Error, error.to_string());
            let fallback = self.config.llm.fallback.provider().filter(|f| *f != kind && failures.is_empty());
            failures.push(error.clone());
            match fallback {
                Some(next) if error.warrants_fallback() => {
                    if self.config.llm.fallback_confirm {
                        let model = self.config.model_of(next);
                        let body = fallback_body(&error.to_string(), "this turn", next, model);
                        if !self.confirm(FALLBACK_TITLE, body).await.map_err(StartError::Interrupted)? {
                            return Err(StartError::Failed(
                                self.report_failure(&failures, "the switch to the fallback was declined"),
                            ));
                        }
                    }
                    let reason = error.to_string();
                    self.log(LogLevel::Warn, format!("falling back from {kind} to {next}: {reason}"));
                    self.emit(Event::FallingBack { from: kind, to: next, reason });
                    kind = next;
                }
                _ => return Err(StartError::Failed(self.report_failure(&failures, ""))),
            }
        }
    }

    /// Whether `kind`'s replies carry tool calls in the text protocol: the session switched to
    /// it, or the provider has no native tool calling (the built-in model).
    pub(super) fn text_tools_for(&self, kind: ProviderKind) -> bool {
        self.text_tools || !kind.native_tools()
    }

    /// A server that answers "this model does not support tools" gets the text protocol instead
    /// (only in `tool_mode = "auto"`, and only once per session).
    fn should_switch_to_text_tools(&self, error: &LlmError) -> bool {
        if self.text_tools || self.config.agent.tool_mode != ToolMode::Auto {
            return false;
        }
        let message = match error {
            LlmError::Http { status: 400, message, .. } | LlmError::UnknownModel { message, .. } => {
                message.to_lowercase()
            }
            _ => return false,
        };
        message.contains("tool") && (message.contains("support") || message.contains("not allowed"))
    }

    /// Tell the user why no reply could start; returns the reason for the turn's outcome.
    fn report_failure(&self, failures: &[LlmError], extra: &str) -> String {
        let needs_setup = failures.iter().all(|e| {
            matches!(e, LlmError::NotConfigured { .. } | LlmError::Unreachable { .. } | LlmError::Auth { .. })
        });
        let mut text = if needs_setup {
            providers::setup_help(failures)
        } else {
            failures.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")
        };
        if !extra.is_empty() {
            text = format!("{text}\n({extra})");
        }
        self.emit(Event::Notice { level: LogLevel::Error, text });
        failures.last().map(|e| e.to_string()).unwrap_or_default()
    }
}
