//! Streaming one reply into the conversation and the session store, and waiting for the user.
//!
//! Invariants: a partial reply is never lost — it is checkpointed at most `checkpoint_ms` apart
//! while streaming and kept, marked incomplete with the reason, when the stream fails or the user
//! cancels; cancelling drops the stream, which closes the HTTP connection at once. While the
//! engine waits (for a stream, an approval or an answer), other ops are queued, never dropped.

use std::future::Future;
use std::time::Instant;

use super::runtime::{Engine, LoopControl};
use crate::engine::llm::{EventStream, LlmError, Message, ProviderKind, StreamEvent, Usage};
use crate::engine::protocol::{Event, LogLevel, Op, TurnOutcome};
use crate::engine::store::MessageStatus;

/// What interrupted a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Interrupt {
    Cancel,
    Shutdown,
}

impl Engine {
    /// Stream one reply; it is added to the history (and the store) unless nothing arrived.
    pub(super) async fn stream_reply(
        &mut self,
        mut stream: EventStream,
        kind: ProviderKind,
    ) -> (Message, TurnOutcome, LoopControl) {
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
                    Some(Ok(StreamEvent::ThinkingDelta(text))) => self.emit(Event::ThinkingDelta(text)),
                    Some(Ok(StreamEvent::Thinking(block))) => reply.thinking.push(block),
                    Some(Ok(StreamEvent::ToolCall(call))) => {
                        reply.tool_calls.push(call.clone());
                        self.emit(Event::ToolCall(call));
                    }
                    Some(Ok(StreamEvent::Usage(u))) => {
                        usage.merge(u);
                        self.emit(self.usage_event(kind, usage));
                    }
                    Some(Ok(StreamEvent::Done { stop_reason })) => break (TurnOutcome::Complete { stop_reason }, LoopControl::Continue),
                    Some(Err(error)) => break (self.interrupted_by(error), LoopControl::Continue),
                    None => break (TurnOutcome::Incomplete { reason: "the stream ended unexpectedly".into() }, LoopControl::Continue),
                },
                op = self.ops.recv() => match op {
                    Some(Op::Cancel) => break (TurnOutcome::Cancelled, LoopControl::Continue),
                    Some(Op::Shutdown) | None => break (TurnOutcome::Cancelled, LoopControl::Shutdown),
                    Some(other) => self.defer(other),
                },
            }
        };
        drop(stream); // closes the connection now, before the database write
        if matches!(outcome, TurnOutcome::Complete { .. }) {
            self.recognise_text_calls(&mut reply);
        }
        self.turn.last_usage = usage;
        self.finish_reply(&reply, row, &outcome);
        (reply, outcome, flow)
    }

    fn interrupted_by(&self, error: LlmError) -> TurnOutcome {
        self.log(LogLevel::Error, error.to_string());
        self.emit(Event::Notice { level: LogLevel::Error, text: format!("The reply stopped: {error}") });
        TurnOutcome::Incomplete { reason: error.to_string() }
    }

    fn finish_reply(&mut self, reply: &Message, row: Option<i64>, outcome: &TurnOutcome) {
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
            Some(_) => self.checkpoint(row, reply, status, note.as_deref()),
            None => {
                let row = self.persist_new(reply, status);
                if note.is_some() {
                    self.checkpoint(row, reply, status, note.as_deref());
                }
            }
        }
        self.history.push(reply.clone());
    }

    /// Run `work` unless the user cancels or the engine shuts down first; other ops are queued.
    pub(super) async fn unless_interrupted<T>(
        &mut self,
        work: impl Future<Output = T>,
    ) -> Result<T, Interrupt> {
        tokio::pin!(work);
        loop {
            tokio::select! {
                result = &mut work => return Ok(result),
                op = self.ops.recv() => match op {
                    Some(Op::Cancel) => return Err(Interrupt::Cancel),
                    Some(Op::Shutdown) | None => return Err(Interrupt::Shutdown),
                    Some(other) => self.defer(other),
                },
            }
        }
    }

    /// Wait for the op `pick` accepts (an answer with the right id); others are handled or queued.
    pub(super) async fn wait_for<T>(&mut self, pick: impl Fn(&Op) -> Option<T>) -> Result<T, Interrupt> {
        loop {
            match self.ops.recv().await {
                Some(op) => {
                    if let Some(answer) = pick(&op) {
                        return Ok(answer);
                    }
                    match op {
                        Op::Cancel => return Err(Interrupt::Cancel),
                        Op::Shutdown => return Err(Interrupt::Shutdown),
                        other => self.defer(other),
                    }
                }
                None => return Err(Interrupt::Shutdown),
            }
        }
    }

    /// Ask the user a yes/no question (Enter: yes) and wait for the answer.
    pub(super) async fn confirm(&mut self, title: &str, body: String) -> Result<bool, Interrupt> {
        self.confirm_with_default(title, body, true).await
    }

    /// [`Self::confirm`] with the answer Enter gives.
    pub(super) async fn confirm_with_default(
        &mut self,
        title: &str,
        body: String,
        default_yes: bool,
    ) -> Result<bool, Interrupt> {
        let id = self.next_confirm_id;
        self.next_confirm_id += 1;
        self.emit(Event::ConfirmRequest { id, title: title.to_string(), body, default_yes });
        self.wait_for(|op| match op {
            Op::Answer { id: answered, approved } if *answered == id => Some(*approved),
            _ => None,
        })
        .await
    }

    /// An op that arrived while busy: some take effect at once, the rest wait their turn.
    pub(super) fn defer(&mut self, op: Op) {
        match op {
            Op::ListModels => self.spawn_list_models(),
            Op::Stats { query } => self.stats(&query),
            Op::Context => self.context_report(),
            Op::Pin { words, pinned } => self.pin(words, pinned),
            Op::InView { file } => self.set_in_view(file),
            Op::McpStatus => self.emit(Event::McpStatus(self.mcp.report())),
            Op::Learn => self.learn(),
            Op::SetPolicy(policy) => self.set_policy(policy),
            Op::Git(job) if job.is_job() => self.git.submit(job),
            Op::Graph(op) => self.graph_panel(op),
            Op::OpenFile { path, line } => self.open_location(&path, line),
            Op::Answer { .. }
            | Op::Approve { .. }
            | Op::Reply { .. }
            | Op::Compaction { .. }
            | Op::Plan { .. } => {} // for a question no longer asked
            other => self.queued.push_back(other),
        }
    }

    pub(super) fn ensure_session(&mut self) {
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

    pub(super) fn persist_new(&self, message: &Message, status: MessageStatus) -> Option<i64> {
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
