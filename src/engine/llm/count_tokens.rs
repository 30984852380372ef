//! Anthropic's token counting endpoint, `POST {base}/v1/messages/count_tokens`: the exact input
//! tokens of a Messages request before it is sent. The body is the request's
//! (`anthropic::request_body`) without the fields the endpoint refuses — `max_tokens`, `stream`,
//! `temperature` —; the answer is `{"input_tokens": N}`. The engine asks it only with
//! `anthropic.count_tokens` on (`agent/window.rs`), a key an untrusted repository's config
//! cannot set, since each count sends the conversation to the configured endpoint.
//!
//! Invariants: a count is taken only when it is a number in `1..=window::MAX_WINDOW`; anything
//! else is `LlmError::Malformed`. One attempt, bounded by [`TIMEOUT`]: a count is an
//! improvement of an estimate, never worth holding a step up for.

use std::time::Duration;

use serde_json::Value;

use super::anthropic::{API_VERSION, INTERLEAVED_THINKING_BETA, request_body};
use super::error::{LlmError, ProviderKind};
use super::http;
use super::types::ChatRequest;
use super::window::MAX_WINDOW;

const KIND: ProviderKind = ProviderKind::Anthropic;
/// How long a count may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The count endpoint's body for `req`: the Messages body less what the endpoint refuses.
pub fn body(req: &ChatRequest, cache: bool) -> Value {
    let mut body = request_body(req, cache);
    if let Some(fields) = body.as_object_mut() {
        for refused in ["max_tokens", "stream", "temperature"] {
            fields.remove(refused);
        }
    }
    body
}

/// The input tokens Anthropic counts for `req` at `base_url`.
pub async fn count(
    client: &reqwest::Client,
    base_url: &str,
    api_key: Option<&str>,
    req: &ChatRequest,
    cache: bool,
) -> Result<u64, LlmError> {
    let url = format!("{}/v1/messages/count_tokens", base_url.trim_end_matches('/'));
    let mut rb =
        client.post(&url).timeout(TIMEOUT).header("anthropic-version", API_VERSION).json(&body(req, cache));
    if let Some(key) = api_key.filter(|k| !k.trim().is_empty()) {
        rb = rb.header("x-api-key", key);
    }
    if req.thinking.budget_tokens().is_some() {
        rb = rb.header("anthropic-beta", INTERLEAVED_THINKING_BETA);
    }
    let response = http::send(KIND, rb, &url, &req.model).await?;
    let answer: Value = response.json().await.map_err(|e| LlmError::Malformed {
        provider: KIND,
        detail: format!("the token count is not JSON: {e}"),
    })?;
    parse(&answer)
}

/// `input_tokens` of the endpoint's answer, bounded.
fn parse(answer: &Value) -> Result<u64, LlmError> {
    match answer["input_tokens"].as_u64() {
        Some(n) if (1..=MAX_WINDOW as u64).contains(&n) => Ok(n),
        _ => Err(LlmError::Malformed {
            provider: KIND,
            detail: format!("no token count in {}", cut(&answer.to_string(), 200)),
        }),
    }
}

/// `text` cut to about `max` bytes on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::llm::Message;

    #[test]
    fn the_body_is_the_request_less_what_the_endpoint_refuses() {
        let req = ChatRequest {
            model: "claude-x".into(),
            system: "be brief".into(),
            messages: vec![Message::user("hi")],
            tools: Vec::new(),
            max_tokens: 100,
            temperature: Some(0.2),
            tool_choice: Default::default(),
            thinking: Default::default(),
        };
        let body = body(&req, true);
        assert!(body.get("max_tokens").is_none() && body.get("stream").is_none());
        assert!(body.get("temperature").is_none());
        assert_eq!(body["model"], "claude-x");
        assert_eq!(body["messages"], request_body(&req, true)["messages"]);
        assert_eq!(body["system"], request_body(&req, true)["system"]);
    }

    #[test]
    fn only_a_count_in_bounds_is_taken() {
        assert_eq!(parse(&serde_json::json!({"input_tokens": 1234})).unwrap(), 1234);
        for bad in [
            serde_json::json!({"input_tokens": 0}),
            serde_json::json!({"input_tokens": -5}),
            serde_json::json!({"input_tokens": "12"}),
            serde_json::json!({"input_tokens": 1u64 << 40}),
            serde_json::json!({"error": {"message": "x"}}),
        ] {
            assert!(matches!(parse(&bad), Err(LlmError::Malformed { .. })), "{bad}");
        }
    }
}
