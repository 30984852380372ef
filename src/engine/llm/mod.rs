//! Model providers behind one trait, the router that retries and falls back, and the context
//! window manager.
//!
//! A provider turns a [`ChatRequest`] into an [`EventStream`] of text deltas, complete tool calls,
//! usage and a final `Done`. `start` resolves once the server has accepted the request (HTTP status
//! checked), so authentication, rate-limit and overload errors surface before any output and can
//! be retried or sent to the fallback; failures after that arrive as stream items.

pub mod anthropic;
pub mod compact;
pub mod context;
pub mod count_tokens;
pub mod error;
pub mod framing;
pub mod http;
pub mod images;
pub mod local;
pub mod ollama;
pub mod ollama_pull;
pub mod oneshot;
pub mod openai;
pub mod providers;
pub mod router;
pub mod types;
pub mod window;

use futures_util::future::BoxFuture;

pub use error::{LlmError, ProviderKind};
pub use http::EventStream;
pub use types::*;

/// One model endpoint (a provider kind, a base URL and a model).
pub trait Provider: Send + Sync {
    fn kind(&self) -> ProviderKind;
    fn model(&self) -> &str;
    /// Whether the provider has what it needs to try at all (a key for a public API), without
    /// touching the network.
    fn check_configured(&self) -> Result<(), LlmError> {
        Ok(())
    }
    /// Send the request; resolves when the reply starts streaming.
    fn start(&self, req: ChatRequest) -> BoxFuture<'_, Result<EventStream, LlmError>>;
    /// Model names the server offers.
    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>, LlmError>>;
}

/// Tool arguments as the model sent them: parsed JSON, or the raw text as a JSON string when it
/// is not valid JSON (the agent reports that back to the model instead of failing the stream).
pub fn parse_tool_arguments(raw: &str) -> serde_json::Value {
    if raw.trim().is_empty() {
        return serde_json::json!({});
    }
    serde_json::from_str(raw).unwrap_or_else(|_| serde_json::Value::String(raw.to_string()))
}
