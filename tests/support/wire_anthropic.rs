//! Encoder for the Anthropic Messages API wire format
//! (`POST /v1/messages`, `stream: true` → server-sent events).
//!
//! Stream shape: `message_start`, `ping`, then per content block
//! `content_block_start` / `content_block_delta`… / `content_block_stop`,
//! then `message_delta` (stop reason + output usage) and `message_stop`.
//! Each event is `event: NAME\ndata: JSON\n\n`.
//!
//! `POST /v1/messages/count_tokens` answers `{"input_tokens": N}`, N being the request's JSON
//! length over [`COUNT_BYTES_PER_TOKEN`] (what `Turn::usage_counted` with that figure reports
//! for a chat request), and refuses the fields the real endpoint refuses.

use serde_json::{Value, json};

use super::{Codec, Reply, Stream, Turn, json_bytes, split_pieces};

pub(super) const CODEC: Codec = Codec {
    chat_path: "/v1/messages",
    stream_content_type: "text/event-stream",
    stream_by_default: false,
    default_models: &["claude-scripted"],
    request_id_header: Some("request-id"),
    // Named like a real delta so clients that dispatch on the event name
    // must parse (and reject) the data.
    malformed: b"event: content_block_delta\ndata: {not json\n\n",
    stream,
    complete,
    error_body,
    error_event,
    route,
};

/// The `error.type` Anthropic uses for an HTTP status.
pub fn error_kind(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

/// HTTP error body: `{"type":"error","error":{"type":…,"message":…}}`.
pub fn error_body(status: u16, message: &str) -> Value {
    json!({"type": "error", "error": {"type": error_kind(status), "message": message}})
}

/// Mid-stream `event: error`.
pub fn error_event(kind: &str, message: &str) -> Vec<u8> {
    sse("error", &json!({"type": "error", "error": {"type": kind, "message": message}}), &[])
}

/// One SSE event: `event: NAME\ndata: JSON\n\n`.
pub fn sse(name: &str, data: &Value, raws: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("event: {name}\ndata: ").into_bytes();
    out.extend_from_slice(&json_bytes(data, raws));
    out.extend_from_slice(b"\n\n");
    out
}

fn model_of(req: &Value) -> String {
    req.get("model").and_then(Value::as_str).unwrap_or("claude-scripted").to_string()
}

fn stop_reason(turn: &Turn) -> &'static str {
    if turn.tools.is_empty() { "end_turn" } else { "tool_use" }
}

/// The streamed response for one turn.
pub(super) fn stream(turn: &Turn, req: &Value, seq: u64) -> Stream {
    let mut events = Vec::new();
    events.push(sse(
        "message_start",
        &json!({
            "type": "message_start",
            "message": {
                "id": format!("msg_scripted_{seq:04}"),
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": model_of(req),
                "stop_reason": null,
                "stop_sequence": null,
                "usage": {
                    "input_tokens": turn.input_tokens(),
                    "output_tokens": 1,
                    "cache_creation_input_tokens": turn.cache.0,
                    "cache_read_input_tokens": turn.cache.1
                }
            }
        }),
        &[],
    ));
    events.push(sse("ping", &json!({"type": "ping"}), &[]));
    let mut fault_at = events.len();
    let mut index = 0u64;
    if let Some((pieces, signature)) = &turn.thinking {
        // As the API streams extended thinking: the block starts empty, thinking_delta pieces,
        // then the signature in one signature_delta just before content_block_stop.
        events.push(sse(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
            &[],
        ));
        for piece in pieces {
            events.push(sse(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index,
                        "delta": {"type": "thinking_delta", "thinking": piece}}),
                &[],
            ));
        }
        events.push(sse(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": index,
                    "delta": {"type": "signature_delta", "signature": signature}}),
            &[],
        ));
        events.push(sse("content_block_stop", &json!({"type": "content_block_stop", "index": index}), &[]));
        index += 1;
    }
    if !turn.chunks.is_empty() {
        events.push(sse(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index,
                    "content_block": {"type": "text", "text": ""}}),
            &[],
        ));
        for chunk in &turn.chunks {
            let raws: Vec<&[u8]> = chunk.raw().into_iter().collect();
            events.push(sse(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index,
                        "delta": {"type": "text_delta", "text": chunk.text()}}),
                &raws,
            ));
            fault_at = events.len();
        }
        events.push(sse("content_block_stop", &json!({"type": "content_block_stop", "index": index}), &[]));
        index += 1;
    }
    for tool in &turn.tools {
        events.push(sse(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index,
                    "content_block": {"type": "tool_use", "id": tool.id, "name": tool.name, "input": {}}}),
            &[],
        ));
        let args = serde_json::to_string(&tool.arguments).expect("serialise arguments");
        let mut pieces = vec![String::new()];
        pieces.extend(split_pieces(&args));
        for piece in pieces {
            events.push(sse(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece}}),
                &[],
            ));
            fault_at = events.len();
        }
        events.push(sse("content_block_stop", &json!({"type": "content_block_stop", "index": index}), &[]));
        index += 1;
    }
    events.push(sse(
        "message_delta",
        &json!({"type": "message_delta",
                "delta": {"stop_reason": stop_reason(turn), "stop_sequence": null},
                "usage": {"output_tokens": turn.output_tokens()}}),
        &[],
    ));
    events.push(sse("message_stop", &json!({"type": "message_stop"}), &[]));
    Stream { events, fault_at }
}

/// The non-streamed (`stream` absent or false) response body.
pub(super) fn complete(turn: &Turn, req: &Value, seq: u64) -> Vec<u8> {
    let mut content = Vec::new();
    if !turn.chunks.is_empty() {
        content.push(json!({"type": "text", "text": turn.full_text()}));
    }
    for tool in &turn.tools {
        content.push(json!({"type": "tool_use", "id": tool.id, "name": tool.name, "input": tool.arguments}));
    }
    let v = json!({
        "id": format!("msg_scripted_{seq:04}"),
        "type": "message",
        "role": "assistant",
        "model": model_of(req),
        "content": content,
        "stop_reason": stop_reason(turn),
        "stop_sequence": null,
        "usage": {"input_tokens": turn.input_tokens(), "output_tokens": turn.output_tokens()}
    });
    json_bytes(&v, &turn.raws())
}

/// Non-chat endpoints: `GET /v1/models`.
/// The scripted tokenizer of `count_tokens`: bytes of the request's JSON per token.
pub const COUNT_BYTES_PER_TOKEN: usize = 3;

pub(super) fn route(method: &str, path: &str, body: &Value, models: &[String]) -> Option<Reply> {
    match (method, path) {
        ("POST", "/v1/messages/count_tokens") => {
            if let Some(field) =
                ["max_tokens", "stream", "temperature"].iter().find(|f| body.get(**f).is_some())
            {
                let message = format!("{field}: Extra inputs are not permitted");
                return Some(Reply::json(400, &error_body(400, &message)));
            }
            let bytes = serde_json::to_vec(body).map_or(0, |b| b.len());
            Some(Reply::json(200, &json!({"input_tokens": bytes / COUNT_BYTES_PER_TOKEN})))
        }
        ("GET", "/v1/models") => {
            let data: Vec<Value> = models
                .iter()
                .map(|m| {
                    json!({"type": "model", "id": m, "display_name": m,
                           "created_at": "2026-01-01T00:00:00Z"})
                })
                .collect();
            Some(Reply::json(
                200,
                &json!({"data": data, "has_more": false,
                        "first_id": models.first(), "last_id": models.last()}),
            ))
        }
        _ => None,
    }
}
