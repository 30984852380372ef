//! One non-interactive request to a model: a system prompt and one user message, no tools, the
//! reply's text collected. Used where kv1nt asks the model for a single piece of text (commit
//! messages, conflict resolutions, pull-request descriptions) outside a conversation.
//!
//! Invariants:
//! - The configured primary provider is asked first, then the fallback (`llm.fallback`) when it
//!   differs. A provider that is not configured, cannot start (after at most one retry), or fails
//!   mid-stream moves on to the next: nothing was shown to anyone yet, so nothing is replayed.
//! - The whole call (every provider, every retry) is bounded by [`TIMEOUT`].
//! - On failure the error is [`LlmError::NoAnswer`], naming every provider tried and why it
//!   failed (never a key: provider errors carry URLs and server messages only).
//! - Tool calls in a reply are ignored; only text deltas are collected.

use std::sync::Arc;
use std::time::Duration;

use super::router::{RetryPolicy, start_with_retries};
use super::{ChatRequest, LlmError, Message, Provider, StreamEvent, ToolChoice};

/// Upper bound on one [`OneShot::complete`] call, all providers included.
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// Retries per provider: a one-shot caller (a commit, a merge) is waiting, and the fallback is
/// the better second chance.
const MAX_RETRIES: u32 = 1;

/// One provider a one-shot request may ask, with its configured output cap.
pub struct Candidate {
    pub provider: Arc<dyn Provider>,
    pub max_tokens: u32,
}

/// The models a one-shot request asks, in order (the primary, then the fallback when it is
/// another provider), and how. Built from configuration by
/// [`providers::one_shot`](super::providers::one_shot), so its users (git's assist) never
/// see the whole `Config`.
pub struct OneShot {
    pub candidates: Vec<Candidate>,
    pub temperature: Option<f32>,
    pub retry: RetryPolicy,
    /// No distinct fallback provider is configured (said in the error when all fail).
    pub no_fallback: bool,
}

impl OneShot {
    /// Asks the primary provider (then the fallback) for one reply to `user` under `system`,
    /// with at most `max_tokens` output tokens (also capped by the provider's configured maximum).
    pub async fn complete(&self, system: &str, user: &str, max_tokens: u32) -> Result<String, LlmError> {
        self.complete_within(system, user, max_tokens, TIMEOUT).await
    }

    /// [`OneShot::complete`] with another overall time limit.
    pub async fn complete_within(
        &self,
        system: &str,
        user: &str,
        max_tokens: u32,
        limit: Duration,
    ) -> Result<String, LlmError> {
        let mut failures: Vec<String> = Vec::new();
        let mut current = None;
        let attempts = async {
            for candidate in &self.candidates {
                current = Some(candidate.provider.kind());
                match self.ask(candidate, system, user, max_tokens).await {
                    Ok(text) => return Some(Ok(text)),
                    Err(LlmError::Cancelled) => return Some(Err(LlmError::Cancelled)),
                    Err(e) => failures.push(e.to_string()),
                }
            }
            None
        };
        match tokio::time::timeout(limit, attempts).await {
            Ok(Some(result)) => result,
            Ok(None) => {
                if self.no_fallback {
                    failures.push("no fallback provider is configured".to_string());
                }
                Err(LlmError::NoAnswer(failures.join("; ")))
            }
            Err(_) => {
                let during = current.map(|k| format!(" (waiting for {k})")).unwrap_or_default();
                let limit = if limit.subsec_millis() == 0 {
                    format!("{} s", limit.as_secs())
                } else {
                    format!("{} ms", limit.as_millis())
                };
                failures.push(format!("no complete reply within {limit}{during}"));
                Err(LlmError::NoAnswer(failures.join("; ")))
            }
        }
    }

    /// One provider: check, start (with a retry), collect the text until `Done`.
    async fn ask(
        &self,
        candidate: &Candidate,
        system: &str,
        user: &str,
        max_tokens: u32,
    ) -> Result<String, LlmError> {
        let provider = candidate.provider.as_ref();
        provider.check_configured()?;
        let request = ChatRequest {
            model: provider.model().to_string(),
            system: system.to_string(),
            messages: vec![Message::user(user)],
            tools: Vec::new(),
            max_tokens: max_tokens.clamp(1, candidate.max_tokens.max(1)),
            temperature: self.temperature,
            tool_choice: ToolChoice::Auto,
        };
        let policy = RetryPolicy { max_retries: self.retry.max_retries.min(MAX_RETRIES), ..self.retry };
        let mut stream = start_with_retries(provider, &request, &policy, |_| {}).await?;
        let mut text = String::new();
        while let Some(item) = stream.next().await {
            match item? {
                StreamEvent::TextDelta(delta) => text.push_str(&delta),
                StreamEvent::Done { .. } => break,
                StreamEvent::ToolCall(_) | StreamEvent::Usage(_) => {}
            }
        }
        Ok(text)
    }
}
