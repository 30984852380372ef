//! Encoder for Ollama's native API: `POST /api/chat` (NDJSON stream, or a
//! single JSON object when the request has `"stream": false`),
//! `GET /api/tags`, `POST /api/embed` (plus the legacy `/api/embeddings`),
//! `POST /api/show`, `GET /api/version` and `GET /`.
//!
//! `/api/show` follows the model's name, so a test picks what it answers: `…ctxN…` gives a
//! context length of N tokens (else 32768), `…notools…` leaves `tools` out of `capabilities`,
//! `…novision…` leaves out `vision`, and a name starting `missing` is not found (404
//! `model '…' not found`, like Ollama).
//!
//! Each stream line is one JSON object plus `\n`. Tool calls arrive in a
//! message's `tool_calls` with `arguments` as a JSON object (not a string);
//! the final line has `done: true`, `done_reason` and timing/token counts.

use serde_json::{Value, json};

use super::{Codec, Reply, Stream, Turn, json_bytes};

pub(super) const CODEC: Codec = Codec {
    chat_path: "/api/chat",
    stream_content_type: "application/x-ndjson",
    stream_by_default: true,
    default_models: &["scripted:latest"],
    request_id_header: None,
    malformed: b"{not json\n",
    stream: |turn, req, _seq| stream(turn, req),
    complete: |turn, req, _seq| complete(turn, req),
    error_body: |_status, message| error_body(message),
    error_event: |_kind, message| error_event(message),
    route,
};

/// HTTP error body: `{"error":"…"}`.
pub fn error_body(message: &str) -> Value {
    json!({"error": message})
}

/// Mid-stream error line: `{"error":"…"}\n`.
pub fn error_event(message: &str) -> Vec<u8> {
    line(&error_body(message), &[])
}

/// One NDJSON line.
pub fn line(v: &Value, raws: &[&[u8]]) -> Vec<u8> {
    let mut out = json_bytes(v, raws);
    out.push(b'\n');
    out
}

fn created_at(i: usize) -> String {
    format!("2026-01-01T00:00:00.{:09}Z", 1000 * i as u64 + 1)
}

fn model_of(req: &Value) -> String {
    req.get("model").and_then(Value::as_str).unwrap_or("scripted:latest").to_string()
}

fn tool_calls(turn: &Turn) -> Value {
    turn.tools.iter().map(|t| json!({"function": {"name": t.name, "arguments": t.arguments}})).collect()
}

/// The final (`done: true`) object, with the given message.
fn done(turn: &Turn, model: &str, i: usize, message: Value) -> Value {
    json!({
        "model": model,
        "created_at": created_at(i),
        "message": message,
        "done": true,
        "done_reason": "stop",
        "total_duration": 1_000_000u64,
        "load_duration": 100_000u64,
        "prompt_eval_count": turn.input_tokens(),
        "prompt_eval_duration": 200_000u64,
        "eval_count": turn.output_tokens(),
        "eval_duration": 700_000u64
    })
}

/// The streamed (NDJSON) response for one turn.
pub(super) fn stream(turn: &Turn, req: &Value) -> Stream {
    let model = model_of(req);
    let mut events = Vec::new();
    for c in &turn.chunks {
        let raws: Vec<&[u8]> = c.raw().into_iter().collect();
        let v = json!({
            "model": model, "created_at": created_at(events.len()),
            "message": {"role": "assistant", "content": c.text()}, "done": false
        });
        events.push(line(&v, &raws));
    }
    if !turn.tools.is_empty() {
        let v = json!({
            "model": model, "created_at": created_at(events.len()),
            "message": {"role": "assistant", "content": "", "tool_calls": tool_calls(turn)},
            "done": false
        });
        events.push(line(&v, &[]));
    }
    let fault_at = events.len();
    let last = done(turn, &model, fault_at, json!({"role": "assistant", "content": ""}));
    events.push(line(&last, &[]));
    Stream { events, fault_at }
}

/// The non-streamed (`"stream": false`) response body.
pub(super) fn complete(turn: &Turn, req: &Value) -> Vec<u8> {
    let mut message = json!({"role": "assistant", "content": turn.full_text()});
    if !turn.tools.is_empty() {
        message["tool_calls"] = tool_calls(turn);
    }
    json_bytes(&done(turn, &model_of(req), 0, message), &turn.raws())
}

/// Deterministic 8-dimensional unit vector derived from `text` (FNV-1a).
pub fn embedding(text: &str) -> Vec<f64> {
    let v: Vec<f64> = (0..8u64)
        .map(|dim| {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ dim.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            for b in text.bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
            (h >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(f64::EPSILON);
    v.into_iter().map(|x| x / norm).collect()
}

fn inputs(body: &Value) -> Vec<String> {
    match body.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => {
            items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string)).collect()
        }
        _ => Vec::new(),
    }
}

fn tag(name: &str) -> Value {
    json!({
        "name": name, "model": name, "modified_at": "2026-01-01T00:00:00Z", "size": 1,
        "digest": "sha256:00",
        "details": {"format": "gguf", "family": "scripted", "families": null,
                    "parameter_size": "1B", "quantization_level": "Q4_0"}
    })
}

/// Non-chat endpoints.
pub(super) fn route(method: &str, path: &str, body: &Value, models: &[String]) -> Option<Reply> {
    let model = model_of(body);
    let reply = match (method, path) {
        ("GET", "/") => Reply {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body: b"Ollama is running".to_vec(),
        },
        ("GET", "/api/version") => Reply::json(200, &json!({"version": "0.12.0"})),
        ("GET", "/api/tags") => {
            let list: Vec<Value> = models.iter().map(|m| tag(m)).collect();
            Reply::json(200, &json!({"models": list}))
        }
        ("POST", "/api/embed") => {
            let texts = inputs(body);
            if texts.is_empty() {
                return Some(Reply::json(400, &error_body("invalid input type")));
            }
            let vectors: Vec<Vec<f64>> = texts.iter().map(|t| embedding(t)).collect();
            Reply::json(
                200,
                &json!({"model": model, "embeddings": vectors, "total_duration": 1_000_000u64,
                        "load_duration": 100_000u64, "prompt_eval_count": texts.len()}),
            )
        }
        ("POST", "/api/embeddings") => {
            let prompt = body.get("prompt").and_then(Value::as_str).unwrap_or("");
            Reply::json(200, &json!({"embedding": embedding(prompt)}))
        }
        // Ollama's documented pull stream: a status per step, bytes per layer, then success
        // (or, for an unknown model, an error line).
        ("POST", "/api/pull") => {
            let name = body.get("model").and_then(Value::as_str).unwrap_or("");
            let lines: Vec<Value> = if name.starts_with("missing") {
                vec![
                    json!({"status": "pulling manifest"}),
                    json!({"error": "pull model manifest: file does not exist"}),
                ]
            } else {
                vec![
                    json!({"status": "pulling manifest"}),
                    json!({"status": "pulling aa11", "digest": "sha256:aa11", "total": 3_000_000_000u64, "completed": 0}),
                    json!({"status": "pulling aa11", "digest": "sha256:aa11", "total": 3_000_000_000u64, "completed": 1_500_000_000u64}),
                    json!({"status": "pulling aa11", "digest": "sha256:aa11", "total": 3_000_000_000u64, "completed": 3_000_000_000u64}),
                    json!({"status": "pulling bb22", "digest": "sha256:bb22", "total": 1_000_000_000u64, "completed": 1_000_000_000u64}),
                    json!({"status": "verifying sha256 digest"}),
                    json!({"status": "writing manifest"}),
                    json!({"status": "success"}),
                ]
            };
            let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
            Reply { status: 200, content_type: "application/x-ndjson", body: body.into_bytes() }
        }
        ("POST", "/api/show") => {
            let name = body
                .get("model")
                .or_else(|| body.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("scripted:latest");
            if name.starts_with("missing") {
                return Some(Reply::json(404, &error_body(&format!("model '{name}' not found"))));
            }
            let context_length = name
                .split_once("ctx")
                .map(|(_, rest)| rest.chars().take_while(char::is_ascii_digit).collect::<String>())
                .and_then(|digits| digits.parse::<u64>().ok())
                .unwrap_or(32768);
            let capabilities: Vec<&str> = ["completion", "tools", "vision"]
                .into_iter()
                .filter(|c| *c != "tools" || !name.contains("notools"))
                .filter(|c| *c != "vision" || !name.contains("novision"))
                .collect();
            Reply::json(
                200,
                &json!({
                    "modelfile": format!("# scripted {name}"), "parameters": "",
                    "template": "{{ .Prompt }}", "details": tag(name)["details"],
                    "model_info": {"general.architecture": "scripted",
                                   "general.parameter_count": 1_000_000_000u64,
                                   "scripted.context_length": context_length,
                                   "scripted.embedding_length": 8},
                    "capabilities": capabilities,
                    "modified_at": "2026-01-01T00:00:00Z"
                }),
            )
        }
        _ => return None,
    };
    Some(reply)
}
