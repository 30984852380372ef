//! Anthropic Messages API: `POST {base}/v1/messages` with `stream: true`, decoded from SSE.
//!
//! Every documented stream event is handled: `message_start`, `content_block_start`,
//! `content_block_delta` (`text_delta`, `input_json_delta`, `thinking_delta`, `signature_delta`),
//! `content_block_stop`, `message_delta` (stop reason, usage with prompt-cache writes
//! and reads), `message_stop`, `ping`, `error`. Unknown event types are ignored, as the API's
//! versioning policy asks. Requests mark their stable prefix for prompt caching. With
//! `thinking` on, requests carry the budget (and the interleaved-thinking beta), and the
//! `thinking`/`redacted_thinking` blocks of earlier replies go back unchanged.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::Provider;
use super::error::{LlmError, ProviderKind};
use super::framing::SseDecoder;
use super::http::{self, Decoded, EventStream, StreamDecoder};
use super::types::{ChatRequest, Message, Role, StreamEvent, Thinking, ToolCall, ToolChoice, Usage};

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const API_VERSION: &str = "2023-06-01";
/// Thinking between tool calls (Claude 4 models); ignored by models without it.
pub const INTERLEAVED_THINKING_BETA: &str = "interleaved-thinking-2025-05-14";
const KIND: ProviderKind = ProviderKind::Anthropic;

pub struct AnthropicProvider {
    client: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    model: String,
    idle_timeout: Duration,
    /// Mark the stable prefix for prompt caching (`[anthropic] prompt_cache`).
    prompt_cache: bool,
}

impl AnthropicProvider {
    pub fn new(
        client: reqwest::Client,
        base_url: &str,
        api_key: Option<String>,
        model: &str,
        idle_timeout: Duration,
    ) -> Self {
        Self {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key: api_key.filter(|k| !k.trim().is_empty()),
            model: model.to_string(),
            idle_timeout,
            prompt_cache: true,
        }
    }

    /// Whether requests carry prompt-caching breakpoints (on by default).
    pub fn with_prompt_cache(mut self, on: bool) -> Self {
        self.prompt_cache = on;
        self
    }

    fn configured(&self) -> Result<(), LlmError> {
        // The public API always needs a key; a custom base URL (proxy, local server) may not.
        if self.api_key.is_none() && self.base_url == DEFAULT_BASE_URL {
            return Err(LlmError::NotConfigured { provider: KIND, hint: KIND.setup_hint().to_string() });
        }
        Ok(())
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let mut rb = self.client.request(method, url).header("anthropic-version", API_VERSION);
        if let Some(key) = &self.api_key {
            rb = rb.header("x-api-key", key);
        }
        rb
    }
}

impl Provider for AnthropicProvider {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn check_configured(&self) -> Result<(), LlmError> {
        self.configured()
    }

    fn start(&self, req: ChatRequest) -> BoxFuture<'_, Result<EventStream, LlmError>> {
        Box::pin(async move {
            self.configured()?;
            let url = format!("{}/v1/messages", self.base_url);
            let body = request_body(&req, self.prompt_cache);
            let mut rb = self.request(reqwest::Method::POST, &url).json(&body);
            if req.thinking.budget_tokens().is_some() {
                rb = rb.header("anthropic-beta", INTERLEAVED_THINKING_BETA);
            }
            let response = http::send(KIND, rb, &url, &req.model).await?;
            Ok(http::pump(KIND, response, self.idle_timeout, AnthropicDecoder::default()))
        })
    }

    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>, LlmError>> {
        Box::pin(async move {
            self.configured()?;
            let url = format!("{}/v1/models", self.base_url);
            let response = http::send(KIND, self.request(reqwest::Method::GET, &url), &url, "").await?;
            http::model_ids(KIND, response).await
        })
    }
}

/// The JSON body of a streaming Messages request. With `cache`, prompt-caching breakpoints
/// mark the stable prefix — see [`add_cache_breakpoints`].
pub fn request_body(req: &ChatRequest, cache: bool) -> Value {
    let mut body = json!({
        "model": req.model,
        "max_tokens": req.max_tokens,
        "stream": true,
        "messages": req.messages.iter().map(wire_message).collect::<Vec<_>>(),
    });
    if !req.system.is_empty() {
        body["system"] = json!(req.system);
    }
    if let Some(budget) = req.thinking.budget_tokens() {
        // The budget is part of max_tokens, and a temperature other than 1 is refused.
        body["thinking"] = json!({"type": "enabled", "budget_tokens": budget});
        body["max_tokens"] = json!(req.max_tokens + budget);
    } else if let Some(t) = req.temperature {
        body["temperature"] = json!(t);
    }
    if !req.tools.is_empty() {
        body["tools"] = req
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.input_schema}))
            .collect();
        if req.tool_choice == ToolChoice::Required {
            body["tool_choice"] = json!({"type": "any"});
        }
    }
    if cache {
        add_cache_breakpoints(&mut body);
    }
    body
}

/// Prompt caching: `cache_control` breakpoints (three of the API's four) on the last tool, the
/// system prompt and the last message, so the next request — the same tools, system prompt and
/// history plus new messages — reads that whole prefix from the cache at a tenth of the input
/// price. Requests below the model's minimum cacheable length are served uncached by the API.
fn add_cache_breakpoints(body: &mut Value) {
    let mark = json!({"type": "ephemeral"});
    if let Some(last_tool) = body["tools"].as_array_mut().and_then(|tools| tools.last_mut()) {
        last_tool["cache_control"] = mark.clone();
    }
    if let Some(system) = body["system"].as_str().map(str::to_string) {
        body["system"] = json!([{"type": "text", "text": system, "cache_control": mark}]);
    }
    let Some(last) = body["messages"].as_array_mut().and_then(|messages| messages.last_mut()) else { return };
    if let Some(text) = last["content"].as_str().map(str::to_string) {
        if text.is_empty() {
            return; // an empty text block is refused by the API
        }
        last["content"] = json!([{"type": "text", "text": text}]);
    }
    if let Some(block) = last["content"].as_array_mut().and_then(|blocks| blocks.last_mut()) {
        block["cache_control"] = mark;
    }
}

fn wire_message(msg: &Message) -> Value {
    match msg.role {
        Role::User if msg.tool_results.is_empty() && msg.images.is_empty() => {
            json!({"role": "user", "content": msg.text})
        }
        Role::User if msg.tool_results.is_empty() => {
            json!({"role": "user", "content": super::images::anthropic_content(msg)})
        }
        Role::User | Role::Tool => {
            let mut content: Vec<Value> = msg
                .tool_results
                .iter()
                .map(|r| json!({"type": "tool_result", "tool_use_id": r.call_id, "content": r.content, "is_error": r.is_error}))
                .collect();
            if !msg.text.is_empty() {
                content.push(json!({"type": "text", "text": msg.text}));
            }
            json!({"role": "user", "content": content})
        }
        Role::Assistant if msg.tool_calls.is_empty() && !msg.thinking.iter().any(returnable) => {
            json!({"role": "assistant", "content": msg.text})
        }
        Role::Assistant => {
            // Thinking blocks go back first and unchanged, as the API requires with tool use.
            let mut content: Vec<Value> = msg.thinking.iter().filter_map(thinking_block).collect();
            if !msg.text.is_empty() {
                content.push(json!({"type": "text", "text": msg.text}));
            }
            content.extend(
                msg.tool_calls
                    .iter()
                    .map(|c| json!({"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments})),
            );
            json!({"role": "assistant", "content": content})
        }
    }
}

/// Whether a thinking block can be sent back: Anthropic checks the signature (or the redacted
/// data), so another provider's reasoning, which has neither, stays out.
fn returnable(thinking: &Thinking) -> bool {
    thinking.signature.is_some() || thinking.redacted.is_some()
}

fn thinking_block(thinking: &Thinking) -> Option<Value> {
    if let Some(data) = &thinking.redacted {
        return Some(json!({"type": "redacted_thinking", "data": data}));
    }
    let signature = thinking.signature.as_ref()?;
    Some(json!({"type": "thinking", "thinking": thinking.text, "signature": signature}))
}

/// A tool-use block whose JSON input is still arriving.
struct PendingTool {
    id: String,
    name: String,
    json: String,
}

#[derive(Default)]
pub struct AnthropicDecoder {
    sse: SseDecoder,
    tools: HashMap<u64, PendingTool>,
    /// Thinking blocks still arriving, by content index.
    thinking: HashMap<u64, Thinking>,
    usage: Usage,
    stop_reason: Option<String>,
}

impl AnthropicDecoder {
    fn event(&mut self, name: Option<&str>, data: &str) -> Result<Vec<StreamEvent>, LlmError> {
        let json: Value = serde_json::from_str(data).map_err(|e| LlmError::Malformed {
            provider: KIND,
            detail: format!("{e} in `{}`", data.chars().take(120).collect::<String>()),
        })?;
        let kind = json["type"].as_str().or(name).unwrap_or_default();
        let mut out = Vec::new();
        match kind {
            "message_start" => {
                self.usage.merge(usage_of(&json["message"]["usage"]));
                out.push(StreamEvent::Usage(self.usage));
            }
            "content_block_start" => {
                let block = &json["content_block"];
                let index = json["index"].as_u64().unwrap_or_default();
                match block["type"].as_str() {
                    Some("text") => {
                        if let Some(text) = block["text"].as_str().filter(|t| !t.is_empty()) {
                            out.push(StreamEvent::TextDelta(text.to_string()));
                        }
                    }
                    Some("thinking") => {
                        let text = block["thinking"].as_str().unwrap_or_default().to_string();
                        if !text.is_empty() {
                            out.push(StreamEvent::ThinkingDelta(text.clone()));
                        }
                        let signature =
                            block["signature"].as_str().filter(|s| !s.is_empty()).map(str::to_string);
                        self.thinking.insert(index, Thinking { text, signature, redacted: None });
                    }
                    Some("redacted_thinking") => {
                        let data = block["data"].as_str().unwrap_or_default().to_string();
                        self.thinking.insert(index, Thinking { redacted: Some(data), ..Thinking::default() });
                    }
                    Some("tool_use") => {
                        let tool = PendingTool {
                            id: block["id"].as_str().unwrap_or_default().to_string(),
                            name: block["name"].as_str().unwrap_or_default().to_string(),
                            json: String::new(),
                        };
                        self.tools.insert(index, tool);
                    }
                    _ => {}
                }
            }
            "content_block_delta" => {
                let delta = &json["delta"];
                match delta["type"].as_str() {
                    Some("text_delta") => {
                        let text = delta["text"].as_str().unwrap_or_default();
                        out.push(StreamEvent::TextDelta(text.to_string()));
                    }
                    Some("thinking_delta") => {
                        let text = delta["thinking"].as_str().unwrap_or_default();
                        if let Some(block) =
                            self.thinking.get_mut(&json["index"].as_u64().unwrap_or_default())
                        {
                            block.text.push_str(text);
                        }
                        out.push(StreamEvent::ThinkingDelta(text.to_string()));
                    }
                    Some("signature_delta") => {
                        let signature = delta["signature"].as_str().unwrap_or_default();
                        if let Some(block) =
                            self.thinking.get_mut(&json["index"].as_u64().unwrap_or_default())
                        {
                            block.signature.get_or_insert_with(String::new).push_str(signature);
                        }
                    }
                    Some("input_json_delta") => {
                        let index = json["index"].as_u64().unwrap_or_default();
                        if let Some(tool) = self.tools.get_mut(&index) {
                            tool.json.push_str(delta["partial_json"].as_str().unwrap_or_default());
                        }
                    }
                    _ => {}
                }
            }
            "content_block_stop" => {
                let index = json["index"].as_u64().unwrap_or_default();
                if let Some(tool) = self.tools.remove(&index) {
                    out.push(StreamEvent::ToolCall(finish_tool(tool)?));
                }
                if let Some(thinking) = self.thinking.remove(&index) {
                    out.push(StreamEvent::Thinking(thinking));
                }
            }
            "message_delta" => {
                if let Some(reason) = json["delta"]["stop_reason"].as_str() {
                    self.stop_reason = Some(reason.to_string());
                }
                self.usage.merge(usage_of(&json["usage"]));
                out.push(StreamEvent::Usage(self.usage));
            }
            "message_stop" => {
                out.push(StreamEvent::Done { stop_reason: self.stop_reason.clone() });
            }
            "error" => {
                return Err(LlmError::StreamError {
                    provider: KIND,
                    kind: json["error"]["type"].as_str().unwrap_or("error").to_string(),
                    message: json["error"]["message"].as_str().unwrap_or("unknown error").to_string(),
                });
            }
            _ => {} // ping and future event types
        }
        Ok(out)
    }
}

fn finish_tool(tool: PendingTool) -> Result<ToolCall, LlmError> {
    Ok(ToolCall { id: tool.id, name: tool.name, arguments: super::parse_tool_arguments(&tool.json) })
}

fn usage_of(json: &Value) -> Usage {
    let count = |key: &str| json[key].as_u64().unwrap_or_default();
    Usage {
        input_tokens: count("input_tokens"),
        output_tokens: count("output_tokens"),
        cache_write_tokens: count("cache_creation_input_tokens"),
        cache_read_tokens: count("cache_read_input_tokens"),
    }
}

impl StreamDecoder for AnthropicDecoder {
    fn feed(&mut self, chunk: &[u8]) -> Decoded {
        let events = self.sse.push(chunk);
        self.decode_all(events)
    }

    fn finish(&mut self) -> Decoded {
        let events = self.sse.finish();
        self.decode_all(events)
    }
}

impl AnthropicDecoder {
    fn decode_all(&mut self, events: Vec<super::framing::SseEvent>) -> Decoded {
        let mut out = Vec::new();
        for event in events {
            if !http::push_decoded(&mut out, self.event(event.event.as_deref(), &event.data)) {
                break;
            }
        }
        out
    }
}
