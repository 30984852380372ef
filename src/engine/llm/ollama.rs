//! Ollama's native API: streaming `POST /api/chat` (NDJSON) with tools and an explicit `num_ctx`,
//! models from `GET /api/tags`.
//!
//! Each model is probed once per process with `POST /api/show` ([`probed`] keeps the answer):
//! its context length (`model_info["<arch>.context_length"]`) becomes `num_ctx` unless the user
//! set one, at most `ollama.max_ctx`, so Ollama's small default never silently cuts the system
//! prompt and tools; its `capabilities` (tools, vision, thinking) say whether tools may be sent —
//! a model without `tools` is refused before the request with the "does not support tools"
//! error that moves the agent to the text tool protocol. `keep_alive` is passed through. A
//! missing model (404) names the `/pull` (and `ollama pull`) that fixes it.
//!
//! Request and response bodies are ollama-rs types (`ChatMessageRequest`, `ChatMessageResponse`,
//! `ModelOptions`), and `/api/tags` goes through `Ollama::list_local_models`. The chat stream
//! itself is read by our own NDJSON framing: ollama-rs 0.3.6's stream drops any network chunk that
//! splits a UTF-8 character, skips malformed lines after printing them with `eprintln!` (which
//! would scribble over the TUI), and folds HTTP statuses into a string, so 404 "model not found"
//! could not be told from a 500.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use ollama_rs::Ollama;
use ollama_rs::generation::chat::request::ChatMessageRequest;
use ollama_rs::generation::chat::{ChatMessage, ChatMessageResponse, MessageRole};
use ollama_rs::generation::images::Image;
use ollama_rs::generation::tools::{
    ToolCall as WireToolCall, ToolCallFunction, ToolFunctionInfo, ToolInfo, ToolType,
};
use ollama_rs::models::ModelOptions;
use ollama_rs::re_exports::schemars::Schema;
use serde_json::Value;

use super::Provider;
use super::error::{LlmError, ProviderKind};
use super::framing::LineBuffer;
use super::http::{self, Decoded, EventStream, StreamDecoder};
use super::types::{ChatRequest, Role, StreamEvent, ToolCall, Usage};

pub const DEFAULT_HOST: &str = "http://127.0.0.1:11434";
const KIND: ProviderKind = ProviderKind::Ollama;

pub struct OllamaProvider {
    client: reqwest::Client,
    host: String,
    model: String,
    /// 0: the model's context length, at most `max_ctx`.
    num_ctx: u64,
    max_ctx: u64,
    keep_alive: Option<String>,
    idle_timeout: Duration,
}

/// What `/api/show` says about a model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelInfo {
    /// `model_info["<arch>.context_length"]`: the context the model was trained for.
    pub context_length: Option<u64>,
    /// `capabilities`: `completion`, `tools`, `vision`, `thinking`, `embedding`, …
    pub capabilities: Vec<String>,
}

impl ModelInfo {
    /// Whether the model takes tools; an older Ollama that lists no capabilities is trusted.
    pub fn supports_tools(&self) -> bool {
        self.capabilities.is_empty() || self.capabilities.iter().any(|c| c == "tools")
    }

    /// Parse an `/api/show` answer.
    pub fn from_show(show: &Value) -> ModelInfo {
        let info = &show["model_info"];
        let context_length = info["general.architecture"]
            .as_str()
            .and_then(|arch| info[format!("{arch}.context_length")].as_u64())
            .filter(|n| *n > 0);
        let capabilities = show["capabilities"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect();
        ModelInfo { context_length, capabilities }
    }
}

/// Models already probed, by (normalised host, model).
static PROBED: LazyLock<Mutex<HashMap<(String, String), ModelInfo>>> = LazyLock::new(Default::default);

/// `model`'s `/api/show` answer, asked once per process (the agent asks before building a
/// request, so its context window is known); `None` when it cannot be had (an old or
/// unreachable server, a missing model: the chat request then says why).
pub async fn probe(client: &reqwest::Client, host: &str, model: &str) -> Option<ModelInfo> {
    if let Some(info) = probed(host, model) {
        return Some(info);
    }
    let host = normalize_host(host);
    let url = format!("{host}/api/show");
    let request = client.post(&url).json(&serde_json::json!({"model": model}));
    let response = request.timeout(Duration::from_secs(10)).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let info = ModelInfo::from_show(&response.json::<Value>().await.ok()?);
    let mut cache = PROBED.lock().unwrap_or_else(|e| e.into_inner());
    cache.insert((host, model.to_string()), info.clone());
    Some(info)
}

/// What `/api/show` said about `model` on `host`, if it was probed in this process.
pub fn probed(host: &str, model: &str) -> Option<ModelInfo> {
    let cache = PROBED.lock().unwrap_or_else(|e| e.into_inner());
    cache.get(&(normalize_host(host), model.to_string())).cloned()
}

/// `OLLAMA_HOST` as Ollama's own CLI reads it: scheme defaults to http, port to 11434.
pub fn normalize_host(host: &str) -> String {
    let host = host.trim().trim_end_matches('/');
    let with_scheme = if host.contains("://") { host.to_string() } else { format!("http://{host}") };
    match reqwest::Url::parse(&with_scheme) {
        Ok(mut url) => {
            if url.port().is_none() && !host.contains("://") {
                let _ = url.set_port(Some(11434));
            }
            url.as_str().trim_end_matches('/').to_string()
        }
        Err(_) => with_scheme,
    }
}

impl OllamaProvider {
    pub fn new(
        client: reqwest::Client,
        host: &str,
        model: &str,
        num_ctx: u64,
        idle_timeout: Duration,
    ) -> Self {
        Self {
            client,
            host: normalize_host(host),
            model: model.to_string(),
            num_ctx,
            max_ctx: 32_768,
            keep_alive: None,
            idle_timeout,
        }
    }

    /// The bound on a `num_ctx` taken from the model (`ollama.max_ctx`).
    pub fn with_max_ctx(mut self, max_ctx: u64) -> Self {
        self.max_ctx = max_ctx.max(1);
        self
    }

    /// `ollama.keep_alive`, sent with every request when set.
    pub fn with_keep_alive(mut self, keep_alive: Option<String>) -> Self {
        self.keep_alive = keep_alive.filter(|k| !k.trim().is_empty());
        self
    }

    async fn model_info(&self) -> Option<ModelInfo> {
        probe(&self.client, &self.host, &self.model).await
    }

    fn ollama(&self) -> Result<Ollama, LlmError> {
        let url = reqwest::Url::parse(&self.host).map_err(|e| LlmError::NotConfigured {
            provider: KIND,
            hint: format!("OLLAMA_HOST `{}` is not a URL ({e})", self.host),
        })?;
        Ok(Ollama::builder().url(url).reqwest_client(self.client.clone()).build())
    }
}

impl Provider for OllamaProvider {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn start(&self, req: ChatRequest) -> BoxFuture<'_, Result<EventStream, LlmError>> {
        Box::pin(async move {
            self.ollama()?; // validates the host before any request
            let info = self.model_info().await;
            if let Some(info) = &info
                && !req.tools.is_empty()
                && !info.supports_tools()
            {
                return Err(LlmError::Http {
                    provider: KIND,
                    status: 400,
                    message: format!(
                        "{} does not support tools (its capabilities: {})",
                        req.model,
                        info.capabilities.join(", ")
                    ),
                });
            }
            let num_ctx = match (self.num_ctx, info.and_then(|i| i.context_length)) {
                (0, Some(length)) => length.min(self.max_ctx),
                (0, None) => self.max_ctx,
                (set, _) => set,
            };
            let url = format!("{}/api/chat", self.host);
            let mut body = request_body(&req, num_ctx);
            if let Some(keep_alive) = &self.keep_alive {
                // A number of seconds goes as a number, a duration ("5m") as a string.
                body["keep_alive"] = keep_alive
                    .trim()
                    .parse::<i64>()
                    .map_or_else(|_| Value::from(keep_alive.trim()), Value::from);
            }
            let response = http::send(KIND, self.client.post(&url).json(&body), &url, &req.model)
                .await
                .map_err(pull_hint)?;
            Ok(http::pump(KIND, response, self.idle_timeout, OllamaDecoder::default()))
        })
    }

    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>, LlmError>> {
        Box::pin(async move {
            let models = self.ollama()?.list_local_models().await.map_err(|e| LlmError::Unreachable {
                provider: KIND,
                url: format!("{}/api/tags", self.host),
                reason: http::error_chain(&e),
            })?;
            Ok(models.into_iter().map(|m| m.name).collect())
        })
    }
}

/// A missing model's error names the command that fetches it.
fn pull_hint(error: LlmError) -> LlmError {
    match error {
        LlmError::UnknownModel { provider, model, message } => {
            let message = format!(
                "{message}. Download it with `/pull {model}` here (or `ollama pull {model}`), or pick another with /models"
            );
            LlmError::UnknownModel { provider, model, message }
        }
        other => other,
    }
}

/// The JSON body of a streaming `/api/chat` request, built from ollama-rs types.
pub fn request_body(req: &ChatRequest, num_ctx: u64) -> Value {
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    if !req.system.is_empty() {
        messages.push(ChatMessage::system(req.system.clone()));
    }
    for msg in &req.messages {
        for result in &msg.tool_results {
            messages.push(ChatMessage::tool(result.content.clone()));
        }
        if msg.role == Role::Tool || (msg.text.is_empty() && msg.tool_calls.is_empty()) {
            continue;
        }
        let role = if msg.role == Role::Assistant { MessageRole::Assistant } else { MessageRole::User };
        let mut wire = ChatMessage::new(role, msg.text.clone());
        if !msg.images.is_empty() {
            wire = wire.with_images(msg.images.iter().map(|i| Image::from_base64(i.base64())).collect());
        }
        wire.tool_calls = msg
            .tool_calls
            .iter()
            .map(|c| WireToolCall {
                function: ToolCallFunction { name: c.name.clone(), arguments: c.arguments.clone() },
            })
            .collect();
        messages.push(wire);
    }
    let mut options = ModelOptions::default().num_ctx(num_ctx).num_predict(req.max_tokens as i32);
    if let Some(t) = req.temperature {
        options = options.temperature(t);
    }
    let tools = req
        .tools
        .iter()
        .map(|t| ToolInfo {
            tool_type: ToolType::Function,
            function: ToolFunctionInfo {
                name: t.name.clone(),
                description: t.description.clone(),
                parameters: Schema::try_from(t.input_schema.clone()).unwrap_or_default(),
            },
        })
        .collect();
    let request = ChatMessageRequest::new(req.model.clone(), messages).options(options).tools(tools);
    let mut body = serde_json::to_value(request).unwrap_or_default();
    body["stream"] = Value::Bool(true); // the field is crate-private in ollama-rs
    if req.thinking != super::ThinkingLevel::Off {
        body["think"] = Value::Bool(true); // reasoning arrives in `message.thinking`
    }
    body
}

#[derive(Default)]
pub struct OllamaDecoder {
    lines: LineBuffer,
    calls: usize,
    done: bool,
    /// `message.thinking` so far, kept as the reply's thinking block at the end.
    thinking: String,
}

impl OllamaDecoder {
    fn line(&mut self, line: &str) -> Result<Vec<StreamEvent>, LlmError> {
        if line.trim().is_empty() {
            return Ok(Vec::new());
        }
        let malformed = |e: serde_json::Error| LlmError::Malformed {
            provider: KIND,
            detail: format!("{e} in `{}`", line.chars().take(120).collect::<String>()),
        };
        let json: Value = serde_json::from_str(line).map_err(malformed)?;
        if let Some(error) = json.get("error") {
            let message = error.as_str().map(String::from).unwrap_or_else(|| error.to_string());
            return Err(LlmError::StreamError { provider: KIND, kind: "error".into(), message });
        }
        let response: ChatMessageResponse = serde_json::from_value(json.clone()).map_err(malformed)?;
        let mut out = Vec::new();
        if let Some(thinking) = response.message.thinking.filter(|t| !t.is_empty()) {
            self.thinking.push_str(&thinking);
            out.push(StreamEvent::ThinkingDelta(thinking));
        }
        if !response.message.content.is_empty() {
            out.push(StreamEvent::TextDelta(response.message.content));
        }
        for call in response.message.tool_calls {
            self.calls += 1;
            out.push(StreamEvent::ToolCall(ToolCall {
                id: format!("call_{}", self.calls),
                name: call.function.name,
                arguments: call.function.arguments,
            }));
        }
        if response.done {
            out.push(StreamEvent::Usage(Usage {
                input_tokens: json["prompt_eval_count"].as_u64().unwrap_or_default(),
                output_tokens: json["eval_count"].as_u64().unwrap_or_default(),
                ..Usage::default()
            }));
            let stop_reason = json["done_reason"].as_str().map(String::from);
            if !self.thinking.is_empty() {
                let text = std::mem::take(&mut self.thinking);
                out.push(StreamEvent::Thinking(super::Thinking { text, ..Default::default() }));
            }
            self.done = true;
            out.push(StreamEvent::Done { stop_reason });
        }
        Ok(out)
    }

    fn decode_all(&mut self, lines: Vec<String>) -> Decoded {
        let mut out = Vec::new();
        for line in lines {
            if self.done || !http::push_decoded(&mut out, self.line(&line)) {
                break;
            }
        }
        out
    }
}

impl StreamDecoder for OllamaDecoder {
    fn feed(&mut self, chunk: &[u8]) -> Decoded {
        let lines = self.lines.push(chunk);
        self.decode_all(lines)
    }

    fn finish(&mut self) -> Decoded {
        let rest: Vec<String> = self.lines.finish().into_iter().collect();
        self.decode_all(rest)
    }
}
