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

use std::time::Duration;

use super::router::{RetryPolicy, start_with_retries};
use super::{ChatRequest, LlmError, Message, ProviderKind, StreamEvent, ToolChoice};
use crate::engine::config::{Config, Secrets};
use crate::engine::llm::providers;

/// Upper bound on one [`complete`] call, all providers included.
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// Retries per provider: a one-shot caller (a commit, a merge) is waiting, and the fallback is
/// the better second chance.
const MAX_RETRIES: u32 = 1;

/// Asks the primary provider (then the fallback) for one reply to `user` under `system`, with
/// at most `max_tokens` output tokens (also capped by the provider's configured maximum).
pub async fn complete(
    config: &Config,
    secrets: &Secrets,
    client: &reqwest::Client,
    system: &str,
    user: &str,
    max_tokens: u32,
) -> Result<String, LlmError> {
    complete_within(config, secrets, client, system, user, max_tokens, TIMEOUT).await
}

/// [`complete`] with another overall time limit.
pub async fn complete_within(
    config: &Config,
    secrets: &Secrets,
    client: &reqwest::Client,
    system: &str,
    user: &str,
    max_tokens: u32,
    limit: Duration,
) -> Result<String, LlmError> {
    let mut failures: Vec<String> = Vec::new();
    let mut current: Option<ProviderKind> = None;
    let attempts = async {
        for kind in candidates(config) {
            current = Some(kind);
            match ask(kind, config, secrets, client, system, user, max_tokens).await {
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
            if config.llm.fallback.provider().is_none_or(|f| f == config.llm.primary) {
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

/// The primary provider, then the fallback if it is another one.
fn candidates(config: &Config) -> Vec<ProviderKind> {
    let mut out = vec![config.llm.primary];
    if let Some(fallback) = config.llm.fallback.provider().filter(|f| *f != config.llm.primary) {
        out.push(fallback);
    }
    out
}

/// One provider: check, start (with a retry), collect the text until `Done`.
async fn ask(
    kind: ProviderKind,
    config: &Config,
    secrets: &Secrets,
    client: &reqwest::Client,
    system: &str,
    user: &str,
    max_tokens: u32,
) -> Result<String, LlmError> {
    let provider = providers::build(kind, config, secrets, client);
    provider.check_configured()?;
    let request = ChatRequest {
        model: provider.model().to_string(),
        system: system.to_string(),
        messages: vec![Message::user(user)],
        tools: Vec::new(),
        max_tokens: max_tokens.clamp(1, config.max_tokens(kind).max(1)),
        temperature: config.llm.temperature,
        tool_choice: ToolChoice::Auto,
    };
    let configured = providers::retry_policy(config);
    let policy = RetryPolicy { max_retries: configured.max_retries.min(MAX_RETRIES), ..configured };
    let mut stream = start_with_retries(provider.as_ref(), &request, &policy, |_| {}).await?;
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
