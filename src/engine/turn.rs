//! One turn: the user's prompt goes to the primary provider (retried, then possibly the
//! fallback), the reply streams back as events and into the session store.
//!
//! Invariants: a partial reply is never lost — it is checkpointed at most `checkpoint_ms` apart
//! while streaming and kept, marked incomplete with the reason, when the stream fails or the user
//! cancels; cancelling drops the stream, which closes the HTTP connection at once.

use std::future::Future;
use std::time::Instant;

use super::llm::context::fit_history;
use super::llm::router::start_with_retries;
use super::llm::{ChatRequest, EventStream, LlmError, Message, ProviderKind, StreamEvent, Usage};
use super::protocol::{Event, LogLevel, Op, TurnOutcome};
use super::providers;
use super::runtime::{Engine, Flow};
use super::store::MessageStatus;

/// What interrupted a wait for the user's sake.
enum Interrupt {
    Cancel,
    Shutdown,
}

impl Engine {
    pub(super) async fn run_turn(&mut self, text: String) -> Flow {
        self.ensure_session();
        let prompt = Message::user(text);
        self.persist_new(&prompt, MessageStatus::Complete);
        self.history.push(prompt);

        let (stream, kind) = match self.start_reply().await {
            Ok(started) => started,
            Err(Some(Interrupt::Shutdown)) => {
                self.emit(Event::TurnEnded(TurnOutcome::Cancelled));
                return Flow::Shutdown;
            }
            Err(Some(Interrupt::Cancel)) => {
                self.log(LogLevel::Info, "turn cancelled before the reply started");
                self.emit(Event::TurnEnded(TurnOutcome::Cancelled));
                return Flow::Continue;
            }
            Err(None) => return Flow::Continue, // reported by start_reply
        };
        let model = self.config.model_of(kind).to_string();
        if let (Some(store), Some(session)) = (&self.store, &self.session) {
            let _ = store.set_session_model(&session.id, kind.as_str(), &model);
        }
        self.emit(Event::TurnStarted { provider: kind, model });
        self.stream_reply(stream).await
    }

    /// Start a reply on the primary, then on the fallback when the primary cannot answer.
    /// `Err(None)` means it failed and the failure was already reported.
    async fn start_reply(&mut self) -> Result<(EventStream, ProviderKind), Option<Interrupt>> {
        let mut kind = self.config.llm.primary;
        let mut failures: Vec<LlmError> = Vec::new();
        loop {
            let provider = providers::build(kind, &self.config, &self.secrets, &self.client);
            let request = self.request_for(kind, provider.model());
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
            let error = match self.unless_interrupted(attempt).await? {
                Ok(stream) => return Ok((stream, kind)),
                Err(error) => error,
            };
            self.log(LogLevel::Error, error.to_string());
            let fallback = self.config.llm.fallback.provider().filter(|f| *f != kind && failures.is_empty());
            failures.push(error.clone());
            match fallback {
                Some(next) if error.warrants_fallback() => {
                    if self.config.llm.fallback_confirm {
                        let body = format!(
                            "{error}\n\nSend this turn to {next} ({}) instead?",
                            self.config.model_of(next)
                        );
                        if !self.confirm("Switch to the fallback provider?", body).await? {
                            self.fail_turn(&failures, "the switch to the fallback was declined");
                            return Err(None);
                        }
                    }
                    let reason = error.to_string();
                    self.log(LogLevel::Warn, format!("falling back from {kind} to {next}: {reason}"));
                    self.emit(Event::FallingBack { from: kind, to: next, reason });
                    kind = next;
                }
                _ => {
                    self.fail_turn(&failures, "");
                    return Err(None);
                }
            }
        }
    }

    fn fail_turn(&self, failures: &[LlmError], extra: &str) {
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
        let reason = failures.last().map(|e| e.to_string()).unwrap_or_default();
        self.emit(Event::Notice { level: LogLevel::Error, text });
        self.emit(Event::TurnEnded(TurnOutcome::Failed { reason }));
    }

    /// The request for `kind`, with the history trimmed to its context window.
    fn request_for(&self, kind: ProviderKind, model: &str) -> ChatRequest {
        let window = self.config.context_window(kind);
        let max_tokens = self.config.max_tokens(kind);
        let fitted = fit_history(&self.system_prompt, &self.history, window, max_tokens as usize);
        if fitted.trimmed > 0 {
            self.log(
                LogLevel::Info,
                format!("{} oldest messages left out to fit the context window", fitted.trimmed),
            );
        }
        self.emit(Event::Context { used_tokens: fitted.used_tokens, window, trimmed: fitted.trimmed });
        let messages = fitted
            .messages
            .into_iter()
            .filter(|m| !m.text.is_empty() || !m.tool_calls.is_empty() || !m.tool_results.is_empty())
            .collect();
        ChatRequest {
            model: model.to_string(),
            system: self.system_prompt.clone(),
            messages,
            tools: Vec::new(),
            max_tokens,
            temperature: self.config.llm.temperature,
        }
    }

    async fn stream_reply(&mut self, mut stream: EventStream) -> Flow {
        let mut reply = Message::assistant("");
        let mut row: Option<i64> = None;
        let mut last_checkpoint = Instant::now();
        let checkpoint_every = std::time::Duration::from_millis(self.config.session.checkpoint_ms);
        let mut usage = Usage::default();
        let (outcome, flow) = loop {
            tokio::select! {
                item = stream.next() => match item {
                    Some(Ok(StreamEvent::TextDelta(text))) => {
                        reply.text.push_str(&text);
                        self.emit(Event::TextDelta(text));
                        if row.is_none() {
                            row = self.persist_new(&reply, MessageStatus::Streaming);
                            last_checkpoint = Instant::now();
                        } else if last_checkpoint.elapsed() >= checkpoint_every {
                            self.checkpoint(row, &reply, MessageStatus::Streaming, None);
                            last_checkpoint = Instant::now();
                        }
                    }
                    Some(Ok(StreamEvent::ToolCall(call))) => {
                        reply.tool_calls.push(call.clone());
                        self.emit(Event::ToolCall(call));
                    }
                    Some(Ok(StreamEvent::Usage(u))) => {
                        usage.merge(u);
                        self.emit(Event::Usage(usage));
                    }
                    Some(Ok(StreamEvent::Done { stop_reason })) => break (TurnOutcome::Complete { stop_reason }, Flow::Continue),
                    Some(Err(error)) => break (self.interrupted_by(error), Flow::Continue),
                    None => break (TurnOutcome::Incomplete { reason: "the stream ended unexpectedly".into() }, Flow::Continue),
                },
                op = self.ops.recv() => match op {
                    Some(Op::Cancel) => break (TurnOutcome::Cancelled, Flow::Continue),
                    Some(Op::Shutdown) | None => break (TurnOutcome::Cancelled, Flow::Shutdown),
                    Some(other) => self.defer(other),
                },
            }
        };
        drop(stream); // closes the connection now, before the database write
        self.finish_reply(reply, row, &outcome);
        self.emit(Event::TurnEnded(outcome));
        flow
    }

    fn interrupted_by(&self, error: LlmError) -> TurnOutcome {
        self.log(LogLevel::Error, error.to_string());
        self.emit(Event::Notice { level: LogLevel::Error, text: format!("The reply stopped: {error}") });
        TurnOutcome::Incomplete { reason: error.to_string() }
    }

    fn finish_reply(&mut self, reply: Message, row: Option<i64>, outcome: &TurnOutcome) {
        if reply.text.is_empty() && reply.tool_calls.is_empty() {
            return;
        }
        let (status, note) = match outcome {
            TurnOutcome::Complete { .. } => (MessageStatus::Complete, None),
            TurnOutcome::Cancelled => (MessageStatus::Incomplete, Some("cancelled".to_string())),
            TurnOutcome::Incomplete { reason } | TurnOutcome::Failed { reason } => {
                (MessageStatus::Incomplete, Some(reason.clone()))
            }
        };
        match row {
            Some(_) => self.checkpoint(row, &reply, status, note.as_deref()),
            None => {
                let row = self.persist_new(&reply, status);
                if note.is_some() {
                    self.checkpoint(row, &reply, status, note.as_deref());
                }
            }
        }
        self.history.push(reply);
    }

    /// Run `work` unless the user cancels or the engine shuts down first; other ops are queued.
    async fn unless_interrupted<T>(&mut self, work: impl Future<Output = T>) -> Result<T, Option<Interrupt>> {
        tokio::pin!(work);
        loop {
            tokio::select! {
                result = &mut work => return Ok(result),
                op = self.ops.recv() => match op {
                    Some(Op::Cancel) => return Err(Some(Interrupt::Cancel)),
                    Some(Op::Shutdown) | None => return Err(Some(Interrupt::Shutdown)),
                    Some(other) => self.defer(other),
                },
            }
        }
    }

    /// Ask the user a yes/no question and wait for the answer.
    async fn confirm(&mut self, title: &str, body: String) -> Result<bool, Option<Interrupt>> {
        let id = self.next_confirm_id;
        self.next_confirm_id += 1;
        self.emit(Event::ConfirmRequest { id, title: title.to_string(), body });
        loop {
            match self.ops.recv().await {
                Some(Op::Answer { id: answered, approved }) if answered == id => return Ok(approved),
                Some(Op::Cancel) => return Err(Some(Interrupt::Cancel)),
                Some(Op::Shutdown) | None => return Err(Some(Interrupt::Shutdown)),
                Some(other) => self.defer(other),
            }
        }
    }

    fn defer(&mut self, op: Op) {
        match op {
            Op::ListModels => self.spawn_list_models(),
            Op::Answer { .. } => {} // an answer to a question no longer asked
            other => self.queued.push_back(other),
        }
    }

    fn ensure_session(&mut self) {
        if self.session.is_some() {
            return;
        }
        let Some(store) = &self.store else { return };
        let kind = self.config.llm.primary;
        let cwd = self.workspace.display().to_string();
        match store.create_session(&cwd, kind.as_str(), self.config.model_of(kind)) {
            Ok(session) => {
                self.emit(Event::SessionCreated { session_id: session.id.clone() });
                self.session = Some(session);
            }
            Err(e) => self.log(LogLevel::Error, format!("could not create a session: {e}")),
        }
    }

    fn persist_new(&self, message: &Message, status: MessageStatus) -> Option<i64> {
        let (store, session) = (self.store.as_ref()?, self.session.as_ref()?);
        match store.append_message(&session.id, message, status) {
            Ok(row) => Some(row),
            Err(e) => {
                self.log(LogLevel::Error, format!("could not save a message: {e}"));
                None
            }
        }
    }

    fn checkpoint(&self, row: Option<i64>, message: &Message, status: MessageStatus, note: Option<&str>) {
        let (Some(store), Some(row)) = (&self.store, row) else { return };
        if let Err(e) = store.checkpoint_message(row, message, status, note) {
            self.log(LogLevel::Error, format!("could not save the reply: {e}"));
        }
    }
}
