//! HTTP plumbing shared by the providers: sending a request with errors classified, and pumping a
//! streamed body through a wire decoder into an [`EventStream`].
//!
//! Invariant: dropping an `EventStream` aborts its reader task at once, which drops the response
//! and closes the connection — that is how Esc cancels a turn.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::error::{LlmError, ProviderKind, parse_retry_after};
use super::types::StreamEvent;

/// Decoded items in wire order; an error ends the reply, so nothing follows it.
pub type Decoded = Vec<Result<StreamEvent, LlmError>>;

/// Turns wire bytes into stream events. `finish` flushes at end of body; a body that ends
/// without a `Done` event is reported as dropped by the pump, not by each decoder.
pub trait StreamDecoder: Send + 'static {
    fn feed(&mut self, chunk: &[u8]) -> Decoded;
    fn finish(&mut self) -> Decoded;
}

/// Append the events of one wire unit to `out`; false once an error has been appended.
pub fn push_decoded(out: &mut Decoded, unit: Result<Vec<StreamEvent>, LlmError>) -> bool {
    match unit {
        Ok(events) => {
            out.extend(events.into_iter().map(Ok));
            true
        }
        Err(e) => {
            out.push(Err(e));
            false
        }
    }
}

/// A reply being streamed. Read it with [`EventStream::next`]; drop it to cancel.
pub struct EventStream {
    rx: mpsc::Receiver<Result<StreamEvent, LlmError>>,
    task: Option<JoinHandle<()>>,
}

impl EventStream {
    pub async fn next(&mut self) -> Option<Result<StreamEvent, LlmError>> {
        self.rx.recv().await
    }

    /// A stream fed by a producer outside the runtime (the built-in model's inference thread):
    /// dropping it closes `rx`, which the producer checks before every token.
    pub fn from_receiver(rx: mpsc::Receiver<Result<StreamEvent, LlmError>>) -> Self {
        Self { rx, task: None }
    }

    /// A stream that replays fixed items (tests, and replies produced without a network).
    pub fn from_items(items: Vec<Result<StreamEvent, LlmError>>) -> Self {
        let (tx, rx) = mpsc::channel(items.len().max(1));
        for item in items {
            let _ = tx.try_send(item);
        }
        Self { rx, task: None }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// One reqwest client for all providers: rustls, connect timeout, no overall timeout (streams
/// may legitimately run for minutes; stalls are caught by the idle timeout instead).
pub fn build_client(connect_timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .user_agent(concat!("kv1nt/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Send a request; map connection failures and non-2xx answers to classified errors.
pub async fn send(
    provider: ProviderKind,
    request: reqwest::RequestBuilder,
    url: &str,
    model: &str,
) -> Result<reqwest::Response, LlmError> {
    let response = request.send().await.map_err(|e| LlmError::Unreachable {
        provider,
        url: url.to_string(),
        reason: error_chain(&e),
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after =
        parse_retry_after(response.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()));
    let body = response.text().await.unwrap_or_default();
    if let Some(refused) = super::window::too_large(status.as_u16(), &body) {
        return Err(LlmError::ContextExceeded {
            provider,
            window: refused.window,
            prompt_tokens: refused.prompt_tokens,
            message: error_message(&body),
        });
    }
    Err(LlmError::from_status(provider, status.as_u16(), retry_after, model, error_message(&body)))
}

/// The human part of an error body in any of the three wire formats, else the trimmed text.
pub fn error_message(body: &str) -> String {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(body) {
        let candidates = [&json["error"]["message"], &json["error"], &json["message"]];
        if let Some(text) = candidates.iter().find_map(|v| v.as_str()) {
            return text.to_string();
        }
    }
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return "(empty response body)".to_string();
    }
    trimmed.chars().take(300).collect()
}

/// An error and its sources on one line ("error sending request: … : Connection refused").
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Read `response` through `decoder` on a background task until the reply is done, the body
/// ends, an error occurs, or no byte arrives for `idle_timeout`.
pub fn pump(
    provider: ProviderKind,
    response: reqwest::Response,
    idle_timeout: Duration,
    mut decoder: impl StreamDecoder,
) -> EventStream {
    let (tx, rx) = mpsc::channel(256);
    let task = tokio::spawn(async move {
        let mut body = response.bytes_stream();
        loop {
            let (items, at_end) = match tokio::time::timeout(idle_timeout, body.next()).await {
                Err(_) => {
                    (vec![Err(LlmError::Stalled { provider, secs: idle_timeout.as_secs().max(1) })], true)
                }
                Ok(None) => {
                    let mut items = decoder.finish();
                    items.push(Err(ended_early(provider)));
                    (items, true)
                }
                Ok(Some(Err(e))) => {
                    (vec![Err(LlmError::Dropped { provider, reason: error_chain(&e) })], true)
                }
                Ok(Some(Ok(bytes))) => (decoder.feed(&bytes), false),
            };
            for item in items {
                let stop = matches!(item, Ok(StreamEvent::Done { .. }) | Err(_));
                if tx.send(item).await.is_err() || stop {
                    return;
                }
            }
            if at_end {
                return;
            }
        }
    });
    EventStream { rx, task: Some(task) }
}

/// Model ids from a `{"data": [{"id": …}, …]}` listing (Anthropic and OpenAI `/v1/models`).
pub async fn model_ids(provider: ProviderKind, response: reqwest::Response) -> Result<Vec<String>, LlmError> {
    let json: serde_json::Value =
        response.json().await.map_err(|e| LlmError::Malformed { provider, detail: error_chain(&e) })?;
    Ok(json["data"]
        .as_array()
        .map(|models| models.iter().filter_map(|m| m["id"].as_str().map(String::from)).collect())
        .unwrap_or_default())
}

/// The error for a body that ended before the wire's end-of-reply marker.
pub fn ended_early(provider: ProviderKind) -> LlmError {
    LlmError::Dropped { provider, reason: "the stream ended before the reply was complete".to_string() }
}
