//! OpenAI-compatible chat completions: `POST {base}/chat/completions` with `stream: true`, as
//! served by OpenAI, llama.cpp's server, vLLM, LM Studio and Ollama's `/v1`.
//!
//! `base` is `OPENAI_BASE_URL` with `/v1` appended when it does not already end in a version
//! segment. Tool-call arguments arrive as string fragments keyed by `index` and are parsed when
//! the choice finishes. A stream that sent a `finish_reason` but no `data: [DONE]` (some local
//! servers) still counts as complete.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::Provider;
use super::error::{LlmError, ProviderKind};
use super::framing::{SseDecoder, SseEvent};
use super::http::{self, Decoded, EventStream, StreamDecoder};
use super::types::{ChatRequest, Message, Role, StreamEvent, ToolCall, ToolChoice, Usage};

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
const KIND: ProviderKind = ProviderKind::OpenAi;

pub struct OpenAiProvider {
    client: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    model: String,
    idle_timeout: Duration,
}

/// `http://host:8080` → `http://host:8080/v1`; `…/v1` and `…/v4/` are kept as they are.
pub fn normalize_base_url(base: &str) -> String {
    let base = base.trim().trim_end_matches('/');
    let last = base.rsplit('/').next().unwrap_or_default();
    let versioned = last.len() > 1 && last.starts_with('v') && last[1..].chars().all(|c| c.is_ascii_digit());
    if versioned { base.to_string() } else { format!("{base}/v1") }
}

impl OpenAiProvider {
    pub fn new(
        client: reqwest::Client,
        base_url: &str,
        api_key: Option<String>,
        model: &str,
        idle_timeout: Duration,
    ) -> Self {
        Self {
            client,
            base_url: normalize_base_url(base_url),
            api_key: api_key.filter(|k| !k.trim().is_empty()),
            model: model.to_string(),
            idle_timeout,
        }
    }

    fn configured(&self) -> Result<(), LlmError> {
        // OpenAI itself needs a key; local servers (llama.cpp, vLLM, LM Studio) usually do not.
        if self.api_key.is_none() && self.base_url == DEFAULT_BASE_URL {
            return Err(LlmError::NotConfigured { provider: KIND, hint: KIND.setup_hint().to_string() });
        }
        Ok(())
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let rb = self.client.request(method, url);
        match &self.api_key {
            Some(key) => rb.bearer_auth(key),
            None => rb,
        }
    }
}

impl Provider for OpenAiProvider {
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
            let url = format!("{}/chat/completions", self.base_url);
            let rb = self.request(reqwest::Method::POST, &url).json(&request_body(&req));
            let response = http::send(KIND, rb, &url, &req.model).await?;
            Ok(http::pump(KIND, response, self.idle_timeout, OpenAiDecoder::default()))
        })
    }

    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>, LlmError>> {
        Box::pin(async move {
            self.configured()?;
            let url = format!("{}/models", self.base_url);
            let response = http::send(KIND, self.request(reqwest::Method::GET, &url), &url, "").await?;
            http::model_ids(KIND, response).await
        })
    }
}

/// The JSON body of a streaming chat-completions request.
pub fn request_body(req: &ChatRequest) -> Value {
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    if !req.system.is_empty() {
        messages.push(json!({"role": "system", "content": req.system}));
    }
    for msg in &req.messages {
        wire_messages(msg, &mut messages);
    }
    let mut body = json!({
        "model": req.model,
        "stream": true,
        "stream_options": {"include_usage": true},
        "max_tokens": req.max_tokens,
        "messages": messages,
    });
    if let Some(t) = req.temperature {
        body["temperature"] = json!(t);
    }
    if !req.tools.is_empty() {
        body["tools"] = req
            .tools
            .iter()
            .map(|t| json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.input_schema}}))
            .collect();
        if req.tool_choice == ToolChoice::Required {
            body["tool_choice"] = json!("required");
        }
    }
    body
}

fn wire_messages(msg: &Message, out: &mut Vec<Value>) {
    for result in &msg.tool_results {
        out.push(json!({"role": "tool", "tool_call_id": result.call_id, "content": result.content}));
    }
    match msg.role {
        Role::Assistant if !msg.tool_calls.is_empty() => {
            let calls: Vec<Value> = msg
                .tool_calls
                .iter()
                .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments.to_string()}}))
                .collect();
            out.push(json!({"role": "assistant", "content": msg.text, "tool_calls": calls}));
        }
        Role::Tool if msg.text.is_empty() => {}
        Role::Tool => out.push(json!({"role": "user", "content": msg.text})),
        Role::User if !msg.images.is_empty() => {
            out.push(json!({"role": "user", "content": super::images::openai_content(msg)}));
        }
        role if msg.tool_results.is_empty() || !msg.text.is_empty() => {
            out.push(json!({"role": role.as_str(), "content": msg.text}));
        }
        _ => {}
    }
}

#[derive(Default)]
struct PendingTool {
    id: String,
    name: String,
    arguments: String,
}

#[derive(Default)]
pub struct OpenAiDecoder {
    sse: SseDecoder,
    tools: BTreeMap<u64, PendingTool>,
    finish_reason: Option<String>,
    done: bool,
    /// `reasoning_content` so far (llama.cpp, vLLM, DeepSeek), kept as a thinking block.
    reasoning: String,
}

impl OpenAiDecoder {
    fn chunk(&mut self, data: &str) -> Result<Vec<StreamEvent>, LlmError> {
        let mut out = Vec::new();
        if data.trim() == "[DONE]" {
            out.extend(self.flush_tools());
            if !self.reasoning.is_empty() {
                let text = std::mem::take(&mut self.reasoning);
                out.push(StreamEvent::Thinking(super::Thinking { text, ..Default::default() }));
            }
            self.done = true;
            out.push(StreamEvent::Done { stop_reason: self.finish_reason.clone() });
            return Ok(out);
        }
        let json: Value = serde_json::from_str(data).map_err(|e| LlmError::Malformed {
            provider: KIND,
            detail: format!("{e} in `{}`", data.chars().take(120).collect::<String>()),
        })?;
        if let Some(error) = json.get("error").filter(|e| !e.is_null()) {
            return Err(LlmError::StreamError {
                provider: KIND,
                kind: error["type"].as_str().unwrap_or("error").to_string(),
                message: error["message"].as_str().map(String::from).unwrap_or_else(|| error.to_string()),
            });
        }
        if let Some(choice) = json["choices"].get(0) {
            let delta = &choice["delta"];
            if let Some(text) = delta["reasoning_content"].as_str().filter(|t| !t.is_empty()) {
                self.reasoning.push_str(text);
                out.push(StreamEvent::ThinkingDelta(text.to_string()));
            }
            if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
                out.push(StreamEvent::TextDelta(text.to_string()));
            }
            for call in delta["tool_calls"].as_array().into_iter().flatten() {
                let index = call["index"].as_u64().unwrap_or_default();
                let tool = self.tools.entry(index).or_default();
                if let Some(id) = call["id"].as_str() {
                    tool.id = id.to_string();
                }
                if let Some(name) = call["function"]["name"].as_str() {
                    tool.name.push_str(name);
                }
                if let Some(args) = call["function"]["arguments"].as_str() {
                    tool.arguments.push_str(args);
                }
            }
            if let Some(reason) = choice["finish_reason"].as_str() {
                self.finish_reason = Some(reason.to_string());
                out.extend(self.flush_tools());
            }
        }
        if let Some(usage) = json.get("usage").filter(|u| u.is_object()) {
            // `cached_tokens` are part of `prompt_tokens`; they are counted (and priced) apart.
            let prompt = usage["prompt_tokens"].as_u64().unwrap_or_default();
            let cached =
                usage["prompt_tokens_details"]["cached_tokens"].as_u64().unwrap_or_default().min(prompt);
            out.push(StreamEvent::Usage(Usage {
                input_tokens: prompt - cached,
                output_tokens: usage["completion_tokens"].as_u64().unwrap_or_default(),
                cache_write_tokens: 0,
                cache_read_tokens: cached,
            }));
        }
        Ok(out)
    }

    fn flush_tools(&mut self) -> Vec<StreamEvent> {
        std::mem::take(&mut self.tools)
            .into_iter()
            .map(|(index, tool)| {
                let id = if tool.id.is_empty() { format!("call_{index}") } else { tool.id };
                let arguments = super::parse_tool_arguments(&tool.arguments);
                StreamEvent::ToolCall(ToolCall { id, name: tool.name, arguments })
            })
            .collect()
    }

    fn decode_all(&mut self, events: Vec<SseEvent>) -> Decoded {
        let mut out = Vec::new();
        for event in events {
            if self.done || !http::push_decoded(&mut out, self.chunk(&event.data)) {
                break;
            }
        }
        out
    }
}

impl StreamDecoder for OpenAiDecoder {
    fn feed(&mut self, chunk: &[u8]) -> Decoded {
        let events = self.sse.push(chunk);
        self.decode_all(events)
    }

    fn finish(&mut self) -> Decoded {
        let events = self.sse.finish();
        let mut out = self.decode_all(events);
        if !self.done && self.finish_reason.is_some() && !out.iter().any(|i| i.is_err()) {
            self.done = true;
            out.extend(self.flush_tools().into_iter().map(Ok));
            out.push(Ok(StreamEvent::Done { stop_reason: self.finish_reason.clone() }));
        }
        out
    }
}
