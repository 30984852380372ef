//! One non-interactive request to a model: a system prompt and one user message, no tools, the
//! reply's text collected. Used where kv1nt asks the model for a single piece of text (commit
//! messages, conflict resolutions, pull-request descriptions) outside a conversation.
//!
//! Invariants:
//! - The configured primary provider is asked first, then the fallback (`llm.fallback`) when it
//!   differs. A provider that cannot start (after at most one retry) or fails mid-stream moves
//!   on to the fallback only for the errors the streaming turn falls back on
//!   ([`LlmError::warrants_fallback`]: the one rule for both), and only with the user's consent
//!   when `llm.fallback_confirm` is set ([`FallbackConsent`]): the request would send the same
//!   text (a staged diff, a conflicted file) to another provider.
//! - The whole call (every provider, every retry) is bounded by [`TIMEOUT`], not counting the
//!   time the user takes to answer the fallback question.
//! - On failure the error is [`LlmError::NoAnswer`], naming every provider tried and why it
//!   failed (never a key: provider errors carry URLs and server messages only).
//! - Tool calls in a reply are ignored; only text deltas are collected.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::router::{RetryPolicy, start_with_retries};
use super::{ChatRequest, LlmError, Message, Provider, ProviderKind, StreamEvent, ToolChoice};

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
    /// Whether moving on to the fallback needs the user's consent, and how it is asked.
    pub consent: FallbackConsent,
}

/// How a one-shot request gets consent to move to the fallback provider.
#[derive(Debug, Clone)]
pub enum FallbackConsent {
    /// `llm.fallback_confirm = false`: move on without asking.
    Given,
    /// Ask: each question goes down this channel, to whoever can put it to the user (the
    /// engine's confirm dialog, the headless command's terminal).
    Ask(mpsc::UnboundedSender<FallbackQuestion>),
    /// Nobody can be asked: do not move on; the text says why (it ends the error).
    Refused(String),
}

/// "The primary failed with `error`; send the request to `to` (`model`) instead?"
#[derive(Debug)]
pub struct FallbackQuestion {
    pub error: String,
    pub to: ProviderKind,
    pub model: String,
    /// true = go ahead. Dropping it counts as no.
    pub answer: oneshot::Sender<bool>,
}

impl FallbackQuestion {
    /// The question as the user reads it (the streaming turn asks the same way).
    pub fn body(&self, what: &str) -> String {
        fallback_body(&self.error, what, self.to, &self.model)
    }
}

/// The title of the fallback confirmation, for turns and one-shot requests alike.
pub const FALLBACK_TITLE: &str = "Switch to the fallback provider?";

/// The text of the fallback confirmation: why, and what would go where.
pub fn fallback_body(error: &str, what: &str, to: ProviderKind, model: &str) -> String {
    format!("{error}\n\nSend {what} to {to} ({model}) instead?")
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
        let mut left = limit;
        for (i, candidate) in self.candidates.iter().enumerate() {
            let kind = candidate.provider.kind();
            let started = Instant::now();
            let error = match tokio::time::timeout(left, self.ask(candidate, system, user, max_tokens)).await
            {
                Ok(Ok(text)) => return Ok(text),
                Ok(Err(LlmError::Cancelled)) => return Err(LlmError::Cancelled),
                Ok(Err(e)) => e,
                Err(_) => {
                    failures.push(format!("no complete reply within {} (waiting for {kind})", shown(limit)));
                    return Err(LlmError::NoAnswer(failures.join("; ")));
                }
            };
            left = left.saturating_sub(started.elapsed());
            failures.push(error.to_string());
            let Some(next) = self.candidates.get(i + 1) else { break };
            if !error.warrants_fallback() {
                failures.push(format!("not a failure that moves the request to {}", next.provider.kind()));
                return Err(LlmError::NoAnswer(failures.join("; ")));
            }
            let (to, model) = (next.provider.kind(), next.provider.model().to_string());
            if let Some(refusal) = self.consent_to(&error, to, model).await {
                failures.push(refusal);
                return Err(LlmError::NoAnswer(failures.join("; ")));
            }
        }
        if self.no_fallback {
            failures.push("no fallback provider is configured".to_string());
        }
        Err(LlmError::NoAnswer(failures.join("; ")))
    }

    /// None when the request may move to `to`; otherwise why not.
    async fn consent_to(&self, error: &LlmError, to: ProviderKind, model: String) -> Option<String> {
        match &self.consent {
            FallbackConsent::Given => None,
            FallbackConsent::Refused(why) => Some(why.clone()),
            FallbackConsent::Ask(questions) => {
                let (answer, answered) = oneshot::channel();
                let question = FallbackQuestion { error: error.to_string(), to, model, answer };
                let yes = questions.send(question).is_ok() && answered.await.unwrap_or(false);
                (!yes).then(|| format!("the switch to {to} was declined"))
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
            thinking: super::ThinkingLevel::Off,
        };
        let policy = RetryPolicy { max_retries: self.retry.max_retries.min(MAX_RETRIES), ..self.retry };
        let mut stream = start_with_retries(provider, &request, &policy, |_| {}).await?;
        let mut text = String::new();
        while let Some(item) = stream.next().await {
            match item? {
                StreamEvent::TextDelta(delta) => text.push_str(&delta),
                StreamEvent::Done { .. } => break,
                StreamEvent::ToolCall(_)
                | StreamEvent::Usage(_)
                | StreamEvent::ThinkingDelta(_)
                | StreamEvent::Thinking(_) => {}
            }
        }
        Ok(text)
    }
}

/// "120 s", "300 ms".
fn shown(limit: Duration) -> String {
    if limit.subsec_millis() == 0 {
        format!("{} s", limit.as_secs())
    } else {
        format!("{} ms", limit.as_millis())
    }
}
