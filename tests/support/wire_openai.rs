//! Encoder for the OpenAI chat completions wire format
//! (`POST /v1/chat/completions`, `stream: true` → `data: JSON\n\n` chunks
//! ending with `data: [DONE]\n\n`), plus `GET /v1/models`.
//!
//! Chunk order: a role delta (`{"role":"assistant","content":""}`), one
//! `content` delta per text chunk, per tool call a `tool_calls` delta with
//! id/name and empty arguments followed by ≥ 2 argument pieces, a final
//! choice chunk with an empty delta and `finish_reason`, an optional usage
//! chunk (`stream_options.include_usage`), then `[DONE]`.

use serde_json::{Value, json};

use super::{Codec, Reply, Stream, Turn, json_bytes, split_pieces};

pub(super) const CODEC: Codec = Codec {
    chat_path: "/v1/chat/completions",
    stream_content_type: "text/event-stream",
    stream_by_default: false,
    default_models: &["scripted-model"],
    request_id_header: Some("x-request-id"),
    malformed: b"data: {not json\n\n",
    stream,
    complete,
    error_body,
    error_event,
    route: |method, path, _body, models| route(method, path, models),
};

/// Fixed `created` timestamp (2026-01-01T00:00:00Z).
const CREATED: u64 = 1_767_225_600;

/// `(type, code)` OpenAI uses for an HTTP status.
pub fn error_kind(status: u16) -> (&'static str, Option<&'static str>) {
    match status {
        400 => ("invalid_request_error", None),
        401 => ("invalid_request_error", Some("invalid_api_key")),
        403 => ("permission_error", None),
        404 => ("invalid_request_error", Some("model_not_found")),
        429 => ("rate_limit_exceeded", Some("rate_limit_exceeded")),
        _ => ("server_error", None),
    }
}

/// HTTP error body: `{"error":{"message":…,"type":…,"param":null,"code":…}}`.
pub fn error_body(status: u16, message: &str) -> Value {
    let (kind, code) = error_kind(status);
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

/// Mid-stream error chunk: `data: {"error":{"message":…,"type":…}}`.
pub fn error_event(kind: &str, message: &str) -> Vec<u8> {
    data(&json!({"error": {"message": message, "type": kind}}), &[])
}

/// One SSE data event: `data: JSON\n\n`.
pub fn data(v: &Value, raws: &[&[u8]]) -> Vec<u8> {
    let mut out = b"data: ".to_vec();
    out.extend_from_slice(&json_bytes(v, raws));
    out.extend_from_slice(b"\n\n");
    out
}

fn model_of(req: &Value) -> String {
    req.get("model").and_then(Value::as_str).unwrap_or("scripted-model").to_string()
}

fn finish_reason(turn: &Turn) -> &'static str {
    if turn.tools.is_empty() { "stop" } else { "tool_calls" }
}

fn usage(turn: &Turn) -> Value {
    let (input, output) = (turn.input_tokens() + turn.cache.1, turn.output_tokens());
    json!({
        "prompt_tokens": input,
        "completion_tokens": output,
        "total_tokens": input + output,
        "prompt_tokens_details": {"cached_tokens": turn.cache.1}
    })
}

/// The streamed response for one turn.
pub(super) fn stream(turn: &Turn, req: &Value, seq: u64) -> Stream {
    let id = format!("chatcmpl-scripted{seq:04}");
    let model = model_of(req);
    let include_usage =
        req.pointer("/stream_options/include_usage").and_then(Value::as_bool).unwrap_or(false);
    let chunk = |delta: Value, finish: Option<&str>| {
        let mut v = json!({
            "id": id, "object": "chat.completion.chunk", "created": CREATED, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
        });
        if include_usage {
            // Documented: with include_usage every other chunk has usage null.
            v["usage"] = Value::Null;
        }
        v
    };
    let mut events = vec![data(&chunk(json!({"role": "assistant", "content": ""}), None), &[])];
    let mut fault_at = events.len();
    for c in &turn.chunks {
        let raws: Vec<&[u8]> = c.raw().into_iter().collect();
        events.push(data(&chunk(json!({"content": c.text()}), None), &raws));
        fault_at = events.len();
    }
    for (k, tool) in turn.tools.iter().enumerate() {
        let start = json!({"tool_calls": [{"index": k, "id": tool.id, "type": "function",
                           "function": {"name": tool.name, "arguments": ""}}]});
        events.push(data(&chunk(start, None), &[]));
        let args = serde_json::to_string(&tool.arguments).expect("serialise arguments");
        let mut pieces = split_pieces(&args);
        if pieces.len() < 2 {
            pieces.push(String::new());
        }
        for piece in pieces {
            let delta = json!({"tool_calls": [{"index": k, "function": {"arguments": piece}}]});
            events.push(data(&chunk(delta, None), &[]));
            fault_at = events.len();
        }
    }
    events.push(data(&chunk(json!({}), Some(finish_reason(turn))), &[]));
    if include_usage {
        let v = json!({
            "id": id, "object": "chat.completion.chunk", "created": CREATED, "model": model,
            "choices": [], "usage": usage(turn)
        });
        events.push(data(&v, &[]));
    }
    events.push(b"data: [DONE]\n\n".to_vec());
    Stream { events, fault_at }
}

/// The non-streamed (`stream` absent or false) response body.
pub(super) fn complete(turn: &Turn, req: &Value, seq: u64) -> Vec<u8> {
    let content = if turn.chunks.is_empty() && !turn.tools.is_empty() {
        Value::Null
    } else {
        Value::String(turn.full_text())
    };
    let mut message = json!({"role": "assistant", "content": content});
    if !turn.tools.is_empty() {
        let calls: Vec<Value> = turn
            .tools
            .iter()
            .map(|t| {
                let args = serde_json::to_string(&t.arguments).expect("serialise arguments");
                json!({"id": t.id, "type": "function", "function": {"name": t.name, "arguments": args}})
            })
            .collect();
        message["tool_calls"] = Value::Array(calls);
    }
    let v = json!({
        "id": format!("chatcmpl-scripted{seq:04}"),
        "object": "chat.completion",
        "created": CREATED,
        "model": model_of(req),
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(turn)}],
        "usage": usage(turn)
    });
    json_bytes(&v, &turn.raws())
}

/// Non-chat endpoints: `GET /v1/models`.
pub(super) fn route(method: &str, path: &str, models: &[String]) -> Option<Reply> {
    match (method, path) {
        ("GET", "/v1/models") => {
            let data: Vec<Value> = models
                .iter()
                .map(|m| json!({"id": m, "object": "model", "created": 0, "owned_by": "scripted"}))
                .collect();
            Some(Reply::json(200, &json!({"object": "list", "data": data})))
        }
        _ => None,
    }
}
