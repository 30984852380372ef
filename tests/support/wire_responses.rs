//! Encoder for the OpenAI Responses API wire format (`POST /v1/responses`, `stream: true` →
//! server-sent events named by their `type`), the API Codex CLI speaks. kv1nt itself does not
//! use it: this wire exists so benches can run Codex CLI against the same scripted stream as
//! kv1nt (benches/stream_cost.rs).
//!
//! Stream shape (each `event: TYPE\ndata: JSON\n\n`, every data carrying `sequence_number`):
//! `response.created`, `response.in_progress`; for the text an `output_item.added` (a message),
//! `content_part.added`, one `output_text.delta` per chunk, `output_text.done`,
//! `content_part.done`, `output_item.done`; per tool call an `output_item.added` (a
//! `function_call`), ≥ 2 `function_call_arguments.delta`, `function_call_arguments.done`,
//! `output_item.done`; then `response.completed` with the output and usage.

use serde_json::{Value, json};

use super::{Codec, Stream, ToolCall, Turn, json_bytes, split_pieces};

pub(super) const CODEC: Codec = Codec {
    chat_path: "/v1/responses",
    stream_content_type: "text/event-stream",
    stream_by_default: false,
    default_models: &["scripted-model"],
    request_id_header: Some("x-request-id"),
    malformed: b"event: response.output_text.delta\ndata: {not json\n\n",
    stream,
    complete,
    error_body: super::wire_openai::error_body,
    error_event,
    route: |method, path, _body, models| super::wire_openai::route(method, path, models),
};

/// Fixed `created_at` (2026-01-01T00:00:00Z).
const CREATED: u64 = 1_767_225_600;

/// Mid-stream `event: error`.
fn error_event(kind: &str, message: &str) -> Vec<u8> {
    sse(&json!({"type": "error", "code": kind, "message": message, "param": null}), &[])
}

/// One SSE event named by the data's `type`.
fn sse(data: &Value, raws: &[&[u8]]) -> Vec<u8> {
    let name = data["type"].as_str().unwrap_or("message");
    let mut out = format!("event: {name}\ndata: ").into_bytes();
    out.extend_from_slice(&json_bytes(data, raws));
    out.extend_from_slice(b"\n\n");
    out
}

fn usage(turn: &Turn) -> Value {
    let (input, output) = (turn.input_tokens() + turn.cache.1, turn.output_tokens());
    json!({
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": turn.cache.1},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input + output
    })
}

fn message_item(seq: u64, text: &str, status: &str) -> Value {
    let content = if status == "completed" {
        json!([{"type": "output_text", "text": text, "annotations": []}])
    } else {
        json!([])
    };
    json!({"id": format!("msg_scripted{seq:04}"), "type": "message", "status": status,
           "role": "assistant", "content": content})
}

fn call_item(tool: &ToolCall, arguments: &str, status: &str) -> Value {
    json!({"id": format!("fc_{}", tool.id), "type": "function_call", "status": status,
           "call_id": tool.id, "name": tool.name, "arguments": arguments})
}

/// The response object: in progress (no output yet) or completed.
fn response(turn: &Turn, req: &Value, seq: u64, output: Vec<Value>, done: bool) -> Value {
    let model = req.get("model").and_then(Value::as_str).unwrap_or("scripted-model");
    json!({
        "id": format!("resp_scripted{seq:04}"), "object": "response", "created_at": CREATED,
        "status": if done { "completed" } else { "in_progress" }, "model": model,
        "output": output, "usage": if done { usage(turn) } else { Value::Null }
    })
}

/// The completed output items of a turn: its text (if any), then its tool calls.
fn output(turn: &Turn, seq: u64) -> Vec<Value> {
    let mut out = Vec::new();
    if !turn.chunks.is_empty() {
        out.push(message_item(seq, &turn.full_text(), "completed"));
    }
    for tool in &turn.tools {
        let args = serde_json::to_string(&tool.arguments).expect("serialise arguments");
        out.push(call_item(tool, &args, "completed"));
    }
    out
}

/// The streamed response for one turn.
pub(super) fn stream(turn: &Turn, req: &Value, seq: u64) -> Stream {
    let mut events = Vec::new();
    let mut n = 0u64;
    let mut push = |mut v: Value, raws: &[&[u8]], events: &mut Vec<Vec<u8>>| {
        v["sequence_number"] = json!(n);
        n += 1;
        events.push(sse(&v, raws));
    };
    push(
        json!({"type": "response.created", "response": response(turn, req, seq, vec![], false)}),
        &[],
        &mut events,
    );
    push(
        json!({"type": "response.in_progress", "response": response(turn, req, seq, vec![], false)}),
        &[],
        &mut events,
    );
    let mut fault_at = events.len();
    let mut index = 0;
    if !turn.chunks.is_empty() {
        let item_id = format!("msg_scripted{seq:04}");
        let at = json!({"item_id": item_id, "output_index": index, "content_index": 0});
        let with = |kind: &str, extra: Value| {
            let mut v = at.clone();
            v["type"] = json!(kind);
            for (k, x) in extra.as_object().expect("object").clone() {
                v[k] = x;
            }
            v
        };
        let item = message_item(seq, "", "in_progress");
        push(
            json!({"type": "response.output_item.added", "output_index": index, "item": item}),
            &[],
            &mut events,
        );
        let part = json!({"type": "output_text", "text": "", "annotations": []});
        push(with("response.content_part.added", json!({"part": part})), &[], &mut events);
        for c in &turn.chunks {
            let raws: Vec<&[u8]> = c.raw().into_iter().collect();
            push(
                with("response.output_text.delta", json!({"delta": c.text(), "logprobs": []})),
                &raws,
                &mut events,
            );
            fault_at = events.len();
        }
        let text = turn.full_text();
        push(with("response.output_text.done", json!({"text": text, "logprobs": []})), &[], &mut events);
        let part = json!({"type": "output_text", "text": text, "annotations": []});
        push(with("response.content_part.done", json!({"part": part})), &[], &mut events);
        let item = message_item(seq, &text, "completed");
        push(
            json!({"type": "response.output_item.done", "output_index": index, "item": item}),
            &[],
            &mut events,
        );
        index += 1;
    }
    for tool in &turn.tools {
        let item_id = format!("fc_{}", tool.id);
        push(
            json!({"type": "response.output_item.added", "output_index": index,
                   "item": call_item(tool, "", "in_progress")}),
            &[],
            &mut events,
        );
        let args = serde_json::to_string(&tool.arguments).expect("serialise arguments");
        let mut pieces = split_pieces(&args);
        if pieces.len() < 2 {
            pieces.push(String::new());
        }
        for piece in pieces {
            push(
                json!({"type": "response.function_call_arguments.delta", "item_id": item_id,
                       "output_index": index, "delta": piece}),
                &[],
                &mut events,
            );
            fault_at = events.len();
        }
        push(
            json!({"type": "response.function_call_arguments.done", "item_id": item_id,
                   "output_index": index, "arguments": args}),
            &[],
            &mut events,
        );
        push(
            json!({"type": "response.output_item.done", "output_index": index,
                   "item": call_item(tool, &args, "completed")}),
            &[],
            &mut events,
        );
        index += 1;
    }
    let done = response(turn, req, seq, output(turn, seq), true);
    push(json!({"type": "response.completed", "response": done}), &[], &mut events);
    Stream { events, fault_at }
}

/// The non-streamed (`stream` absent or false) response body.
pub(super) fn complete(turn: &Turn, req: &Value, seq: u64) -> Vec<u8> {
    json_bytes(&response(turn, req, seq, output(turn, seq), true), &turn.raws())
}
