//! Provider errors, classified so the router can decide: retry, fall back, or give up.

use std::time::Duration;

pub use crate::engine::protocol::chat::ProviderKind;

#[derive(Debug, Clone, thiserror::Error)]
pub enum LlmError {
    #[error("{provider} is not configured: {hint}")]
    NotConfigured { provider: ProviderKind, hint: String },
    #[error("{provider} is unreachable at {url}: {reason}")]
    Unreachable { provider: ProviderKind, url: String, reason: String },
    #[error("{provider} rejected the credentials (HTTP {status}): {message}")]
    Auth { provider: ProviderKind, status: u16, message: String },
    #[error("{provider} does not know model `{model}`: {message}")]
    UnknownModel { provider: ProviderKind, model: String, message: String },
    #[error("{provider} is rate limiting (HTTP 429): {message}")]
    RateLimited { provider: ProviderKind, retry_after: Option<Duration>, message: String },
    #[error("{provider} is overloaded (HTTP {status}): {message}")]
    Overloaded { provider: ProviderKind, status: u16, retry_after: Option<Duration>, message: String },
    #[error("{provider} answered HTTP {status}: {message}")]
    Http { provider: ProviderKind, status: u16, message: String },
    /// The server refused the request as larger than the model's context window (`llm::window`
    /// parses the three wire formats), naming the window and the request's tokens where it did.
    #[error("{provider} refused the request as larger than the model's context window: {message}")]
    ContextExceeded {
        provider: ProviderKind,
        window: Option<usize>,
        prompt_tokens: Option<usize>,
        message: String,
    },
    #[error("{provider} sent a malformed stream line: {detail}")]
    Malformed { provider: ProviderKind, detail: String },
    #[error("{provider} reported an error mid-stream: {message}")]
    StreamError { provider: ProviderKind, kind: String, message: String },
    #[error("{provider} dropped the connection mid-stream: {reason}")]
    Dropped { provider: ProviderKind, reason: String },
    #[error("{provider} stalled: no data for {secs} s")]
    Stalled { provider: ProviderKind, secs: u64 },
    #[error("cancelled")]
    Cancelled,
    /// A one-shot request ([`super::oneshot::complete`]) got no answer from any provider; the
    /// text names each provider tried and why it failed.
    #[error("no model could answer: {0}")]
    NoAnswer(String),
}

impl LlmError {
    /// Worth another attempt at the same provider (before any output was shown).
    pub fn is_retryable(&self) -> bool {
        match self {
            LlmError::Unreachable { .. } | LlmError::RateLimited { .. } | LlmError::Overloaded { .. } => true,
            LlmError::Http { status, .. } => *status >= 500,
            LlmError::StreamError { kind, .. } => kind == "overloaded_error" || kind == "api_error",
            _ => false,
        }
    }

    /// After retries, should the turn move to the fallback provider?
    pub fn warrants_fallback(&self) -> bool {
        matches!(
            self,
            LlmError::NotConfigured { .. }
                | LlmError::Unreachable { .. }
                | LlmError::Auth { .. }
                | LlmError::RateLimited { .. }
                | LlmError::Overloaded { .. }
        ) || matches!(self, LlmError::Http { status, .. } if *status >= 500)
    }

    /// The server's requested delay before the next attempt, if it named one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LlmError::RateLimited { retry_after, .. } | LlmError::Overloaded { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// Classify a non-success HTTP status with the provider's error message.
    pub fn from_status(
        provider: ProviderKind,
        status: u16,
        retry_after: Option<Duration>,
        model: &str,
        message: String,
    ) -> LlmError {
        match status {
            401 | 403 => LlmError::Auth { provider, status, message },
            404 => LlmError::UnknownModel { provider, model: model.to_string(), message },
            429 => LlmError::RateLimited { provider, retry_after, message },
            503 | 529 => LlmError::Overloaded { provider, status, retry_after, message },
            _ => LlmError::Http { provider, status, message },
        }
    }
}

/// Parse a `retry-after` header: delta-seconds (HTTP-date values are ignored).
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    let secs: f64 = value?.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(600.0)))
}
