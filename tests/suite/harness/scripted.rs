//! Self-tests of the scripted model servers in `tests/support/`: drive them
//! with plain reqwest and check the bytes are well-formed HTTP/SSE/NDJSON in
//! the documented shapes, that faults behave as advertised, and that
//! requests are recorded faithfully.

use std::time::{Duration, Instant};

use crate::support::{ScriptedServer, Turn, Wire, closed_port_url};
use futures_util::StreamExt;
use serde_json::{Value, json};

const WIRES: [Wire; 3] = [Wire::Anthropic, Wire::OpenAi, Wire::Ollama];
/// With the Responses wire, which only benches use (to drive Codex CLI): its text and tool
/// calls are checked, not its faults.
const ALL_WIRES: [Wire; 4] = [Wire::Anthropic, Wire::OpenAi, Wire::Ollama, Wire::Responses];

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn chat_body(wire: Wire) -> Value {
    let messages = json!([{"role": "user", "content": "hi"}]);
    match wire {
        Wire::Anthropic => json!({"model": "claude-test", "max_tokens": 64, "stream": true,
                                  "messages": messages}),
        Wire::OpenAi => json!({"model": "gpt-test", "stream": true, "messages": messages,
                               "stream_options": {"include_usage": true}}),
        Wire::Ollama => json!({"model": "llama-test", "messages": messages}),
        Wire::Responses => json!({"model": "gpt-test", "stream": true, "input": messages}),
    }
}

fn chat_url(server: &ScriptedServer, wire: Wire) -> String {
    format!("{}{}", server.base_url(), wire.chat_path())
}

async fn post(server: &ScriptedServer, wire: Wire, body: &Value) -> reqwest::Response {
    let req = client().post(chat_url(server, wire)).json(body);
    let req = req.header("x-api-key", "sk-test");
    req.header("anthropic-version", "2023-06-01").send().await.unwrap()
}

async fn get(url: String) -> reqwest::Response {
    client().get(url).send().await.unwrap()
}

async fn get_json(url: String) -> Value {
    get(url).await.json().await.unwrap()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A response body as received: the individual reads, all bytes, and the
/// error that ended it (if any).
struct Body {
    pieces: Vec<Vec<u8>>,
    bytes: Vec<u8>,
    error: Option<String>,
}

async fn collect(resp: reqwest::Response) -> Body {
    let mut stream = resp.bytes_stream();
    let mut body = Body { pieces: Vec::new(), bytes: Vec::new(), error: None };
    while let Some(item) = stream.next().await {
        match item {
            Ok(b) => {
                body.bytes.extend_from_slice(&b);
                body.pieces.push(b.to_vec());
            }
            Err(e) => {
                body.error = Some(format!("{e:?}"));
                break;
            }
        }
    }
    body
}

/// One chat exchange: the server, the body, its parsed payloads and the
/// number of frames that were not JSON.
struct Run {
    _server: ScriptedServer,
    headers: reqwest::header::HeaderMap,
    body: Body,
    events: Vec<Value>,
    bad: usize,
}

async fn run(wire: Wire, turn: Turn) -> Run {
    let server = ScriptedServer::start(wire, vec![turn]).await;
    let resp = post(&server, wire, &chat_body(wire)).await;
    assert_eq!(resp.status(), 200);
    let headers = resp.headers().clone();
    let body = collect(resp).await;
    let (events, bad) = parse(wire, &body.bytes);
    let _server = server;
    Run { _server, headers, body, events, bad }
}

/// Parses SSE (Anthropic, OpenAI) or NDJSON (Ollama) strictly: framing must
/// be exact, Anthropic event names must equal `data.type`, `[DONE]` is
/// skipped. Returns the payloads and the count of non-JSON frames.
fn parse(wire: Wire, bytes: &[u8]) -> (Vec<Value>, usize) {
    let text = String::from_utf8_lossy(bytes);
    let (mut values, mut bad) = (Vec::new(), 0);
    let mut push = |s: &str| match serde_json::from_str::<Value>(s) {
        Ok(v) => values.push(v),
        Err(_) => bad += 1,
    };
    if wire == Wire::Ollama {
        assert!(text.is_empty() || text.ends_with('\n'), "NDJSON ends with a newline");
        text.lines().for_each(push);
        return (values, bad);
    }
    let frames: Vec<&str> = text.split("\n\n").collect();
    assert_eq!(frames.last(), Some(&""), "SSE ends with a blank line: {text:?}");
    for frame in &frames[..frames.len() - 1] {
        let lines: Vec<&str> = frame.lines().collect();
        let data = lines.last().unwrap().strip_prefix("data: ").expect("data line");
        if matches!(wire, Wire::Anthropic | Wire::Responses) {
            assert_eq!(lines.len(), 2, "{frame:?}");
            let name = lines[0].strip_prefix("event: ").expect("event line");
            let kind = serde_json::from_str::<Value>(data).map(|v| v["type"].clone());
            assert!(kind.is_err() || kind.unwrap() == name, "event name = data.type");
        } else {
            assert_eq!(lines.len(), 1, "{frame:?}");
        }
        if data != "[DONE]" {
            push(data);
        }
    }
    (values, bad)
}

fn text_part(wire: Wire, v: &Value) -> Option<&str> {
    match wire {
        Wire::Anthropic if v["delta"]["type"] == "text_delta" => v["delta"]["text"].as_str(),
        Wire::OpenAi => v["choices"][0]["delta"]["content"].as_str(),
        Wire::Ollama => v["message"]["content"].as_str(),
        Wire::Responses if v["type"] == "response.output_text.delta" => v["delta"].as_str(),
        _ => None,
    }
}

fn text_of(wire: Wire, events: &[Value]) -> String {
    events.iter().filter_map(|v| text_part(wire, v)).collect()
}

fn s(v: &Value) -> String {
    v.as_str().unwrap().to_string()
}

/// Reassembled tool calls as (id, name, arguments); Ollama has no ids.
fn tools_of(wire: Wire, events: &[Value]) -> Vec<(String, String, Value)> {
    let mut calls: Vec<(String, String, String)> = Vec::new();
    for v in events {
        let (block, delta) = (&v["content_block"], &v["delta"]);
        match wire {
            Wire::Anthropic if block["type"] == "tool_use" => {
                calls.push((s(&block["id"]), s(&block["name"]), String::new()));
            }
            Wire::Anthropic if delta["type"] == "input_json_delta" => {
                calls.last_mut().unwrap().2 += &s(&delta["partial_json"]);
            }
            Wire::Anthropic => {}
            Wire::OpenAi => {
                let tcs = v["choices"][0]["delta"]["tool_calls"].as_array().cloned();
                for tc in tcs.unwrap_or_default() {
                    let k = tc["index"].as_u64().unwrap() as usize;
                    if tc.get("id").is_some() {
                        assert_eq!((k, &tc["type"]), (calls.len(), &json!("function")));
                        calls.push((s(&tc["id"]), s(&tc["function"]["name"]), String::new()));
                    }
                    calls[k].2 += &s(&tc["function"]["arguments"]);
                }
            }
            Wire::Ollama => {
                let tcs = v["message"]["tool_calls"].as_array().cloned();
                for tc in tcs.unwrap_or_default() {
                    let (name, args) = (&tc["function"]["name"], &tc["function"]["arguments"]);
                    assert!(args.is_object(), "Ollama arguments are an object");
                    calls.push((String::new(), s(name), args.to_string()));
                }
            }
            Wire::Responses
                if v["type"] == "response.output_item.added" && v["item"]["type"] == "function_call" =>
            {
                calls.push((s(&v["item"]["call_id"]), s(&v["item"]["name"]), String::new()));
            }
            Wire::Responses if v["type"] == "response.function_call_arguments.delta" => {
                calls.last_mut().unwrap().2 += &s(&v["delta"]);
            }
            Wire::Responses => {}
        }
    }
    let decode = |(id, name, args): (String, String, String)| {
        (id, name, serde_json::from_str(&args).expect("arguments are JSON"))
    };
    calls.into_iter().map(decode).collect()
}

/// Whether the stream reached its proper end.
fn has_end(wire: Wire, bytes: &[u8]) -> bool {
    let (events, _) = parse(wire, bytes);
    match wire {
        Wire::Anthropic => events.iter().any(|v| v["type"] == "message_stop"),
        Wire::OpenAi => bytes.ends_with(b"data: [DONE]\n\n"),
        Wire::Ollama => events.iter().any(|v| v["done"] == true),
        Wire::Responses => events.iter().any(|v| v["type"] == "response.completed"),
    }
}

#[tokio::test]
async fn text_streams_are_chunked_and_reassemble() {
    for wire in ALL_WIRES {
        let r = run(wire, Turn::text(&["Hel", "lo"]).usage(42, 7)).await;
        let h = &r.headers;
        assert_eq!(h["transfer-encoding"], "chunked");
        assert_eq!(h["connection"], "close");
        let ndjson = wire == Wire::Ollama;
        let ct = if ndjson { "application/x-ndjson" } else { "text/event-stream" };
        assert_eq!(h["content-type"], ct);
        assert!(r.body.error.is_none(), "{wire:?}: {:?}", r.body.error);
        assert_eq!(r.bad, 0);
        assert_eq!(text_of(wire, &r.events), "Hello");
        assert!(has_end(wire, &r.body.bytes));
    }
}

#[tokio::test]
async fn anthropic_stream_matches_the_docs() {
    let ev = run(Wire::Anthropic, Turn::text(&["Hel", "lo"]).usage(42, 7)).await.events;
    let id = s(&ev[0]["message"]["id"]);
    assert!(id.starts_with("msg_"));
    let delta = |t| {
        json!({"type": "content_block_delta", "index": 0,
               "delta": {"type": "text_delta", "text": t}})
    };
    let want = vec![
        json!({"type": "message_start", "message": {"id": id, "type": "message",
            "role": "assistant", "content": [], "model": "claude-test",
            "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 42, "output_tokens": 1,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}}),
        json!({"type": "ping"}),
        json!({"type": "content_block_start", "index": 0,
               "content_block": {"type": "text", "text": ""}}),
        delta("Hel"),
        delta("lo"),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "usage": {"output_tokens": 7},
               "delta": {"stop_reason": "end_turn", "stop_sequence": null}}),
        json!({"type": "message_stop"}),
    ];
    assert_eq!(ev, want);
}

#[tokio::test]
async fn openai_stream_matches_the_docs() {
    let ev = run(Wire::OpenAi, Turn::text(&["Hel", "lo"]).usage(42, 7)).await.events;
    for v in &ev {
        assert_eq!(v["object"], "chat.completion.chunk");
        assert_eq!(v["model"], "gpt-test");
        assert!(s(&v["id"]).starts_with("chatcmpl-") && v["created"].is_u64());
    }
    let (choices, usage) = ev.split_at(ev.len() - 1);
    let got: Vec<Value> = choices.iter().map(|v| v["choices"].clone()).collect();
    let c = |delta: Value, fin: Value| json!([{"index": 0, "delta": delta, "finish_reason": fin}]);
    let want = vec![
        c(json!({"role": "assistant", "content": ""}), Value::Null),
        c(json!({"content": "Hel"}), Value::Null),
        c(json!({"content": "lo"}), Value::Null),
        c(json!({}), json!("stop")),
    ];
    assert_eq!(got, want);
    // With include_usage, every other chunk carries `"usage": null`.
    assert!(choices.iter().all(|v| v.get("usage") == Some(&Value::Null)));
    let want = json!({"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49,
                      "prompt_tokens_details": {"cached_tokens": 0}});
    assert_eq!(usage[0]["choices"], json!([]));
    assert_eq!(usage[0]["usage"], want);
}

#[tokio::test]
async fn ollama_stream_matches_the_docs() {
    let mut ev = run(Wire::Ollama, Turn::text(&["Hel", "lo"]).usage(42, 7)).await.events;
    for v in &mut ev {
        let at = s(&v.as_object_mut().unwrap().remove("created_at").unwrap());
        assert!(at.starts_with("2026-") && at.ends_with('Z'), "{at}");
    }
    let line = |t| {
        json!({"model": "llama-test", "done": false,
               "message": {"role": "assistant", "content": t}})
    };
    assert_eq!(ev[..2], [line("Hel"), line("lo")]);
    let last = &ev[2];
    assert_eq!(last["message"], json!({"role": "assistant", "content": ""}));
    assert_eq!(last["done"], true);
    assert_eq!(last["done_reason"], "stop");
    assert_eq!(last["prompt_eval_count"], 42);
    assert_eq!(last["eval_count"], 7);
    for k in ["total_duration", "load_duration", "prompt_eval_duration"] {
        assert!(last[k].is_u64() && last["eval_duration"].is_u64(), "{k}");
    }
}

#[tokio::test]
async fn openai_usage_chunk_only_when_requested() {
    let server = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["a"])]).await;
    let req = json!({"model": "m", "stream": true, "messages": []});
    let body = collect(post(&server, Wire::OpenAi, &req).await).await;
    let (ev, _) = parse(Wire::OpenAi, &body.bytes);
    assert!(ev.iter().all(|v| v.get("usage").is_none()));
    assert_eq!(ev.last().unwrap()["choices"][0]["finish_reason"], "stop");
    assert!(body.bytes.ends_with(b"data: [DONE]\n\n"));
}

#[tokio::test]
async fn tool_call_arguments_reassemble() {
    let args = json!({"path": "src/main.rs", "range": [1, 20], "note": "ünïcode ✓"});
    for wire in ALL_WIRES {
        let turn = Turn::text(&["Let me look."]).tool_call("call_1", "read_file", args.clone());
        let r = run(wire, turn.tool_call("call_2", "list", json!({}))).await;
        assert_eq!(r.bad, 0);
        assert_eq!(text_of(wire, &r.events), "Let me look.");
        let calls = tools_of(wire, &r.events);
        let (id1, id2) = if wire == Wire::Ollama { ("", "") } else { ("call_1", "call_2") };
        let want = vec![
            (id1.to_string(), "read_file".to_string(), args.clone()),
            (id2.to_string(), "list".to_string(), json!({})),
        ];
        assert_eq!(calls, want, "{wire:?}");
        let ev = &r.events;
        match wire {
            Wire::Anthropic => {
                let piece = |v: &&Value| v["index"] == 1 && v["delta"]["partial_json"].is_string();
                assert!(ev.iter().filter(piece).count() >= 3, "an empty piece then ≥ 2 more");
                let start = &ev[5]["content_block"];
                assert_eq!((&start["type"], &start["input"]), (&json!("tool_use"), &json!({})));
                assert_eq!(ev[ev.len() - 2]["delta"]["stop_reason"], "tool_use");
            }
            Wire::OpenAi => {
                let pieces = ev.iter().filter(|v| {
                    let tc = &v["choices"][0]["delta"]["tool_calls"][0];
                    tc["index"] == 0 && tc.get("id").is_none()
                });
                assert!(pieces.count() >= 2);
                let fin = &ev[ev.len() - 2]["choices"][0]["finish_reason"];
                assert_eq!(fin, "tool_calls");
            }
            Wire::Ollama => assert_eq!(ev.last().unwrap()["done"], true),
            Wire::Responses => {
                let done = &ev.last().unwrap()["response"];
                assert_eq!(
                    (&done["status"], done["output"].as_array().unwrap().len()),
                    (&json!("completed"), 3)
                );
                let numbers: Vec<u64> = ev.iter().map(|v| v["sequence_number"].as_u64().unwrap()).collect();
                assert_eq!(numbers, (0..ev.len() as u64).collect::<Vec<_>>(), "numbered in order");
            }
        }
    }
}

#[tokio::test]
async fn requests_are_recorded_with_headers_and_body() {
    for wire in WIRES {
        let server = ScriptedServer::start(wire, vec![Turn::text(&["x"]), Turn::text(&["y"])]);
        let server = server.await;
        let body = chat_body(wire);
        collect(post(&server, wire, &body).await).await;
        assert_eq!(get(format!("{}/nope?q=1", server.base_url())).await.status(), 404);
        let resp = client().post(chat_url(&server, wire)).body("not json");
        collect(resp.send().await.unwrap()).await;

        let (all, chat) = (server.requests(), server.chat_requests());
        assert_eq!((all.len(), chat.len()), (3, 2));
        let r = &chat[0];
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", wire.chat_path()));
        assert_eq!(r.header("X-API-Key"), Some("sk-test"));
        assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(r.headers.iter().all(|(n, _)| *n == n.to_lowercase()));
        assert_eq!(r.body, body);
        assert_eq!(serde_json::from_slice::<Value>(&r.raw_body).unwrap(), body);
        assert_eq!((all[1].method.as_str(), all[1].path.as_str()), ("GET", "/nope?q=1"));
        assert_eq!((&chat[1].body, &chat[1].raw_body[..]), (&Value::Null, &b"not json"[..]));
    }
}

#[tokio::test]
async fn status_429_has_retry_after_and_wire_shaped_body() {
    for wire in WIRES {
        let turn = Turn::status(429, "slow down").retry_after(2);
        let server = ScriptedServer::start(wire, vec![turn]).await;
        let resp = post(&server, wire, &chat_body(wire)).await;
        assert_eq!(resp.status(), 429);
        assert_eq!(resp.headers()["retry-after"], "2");
        assert_eq!(resp.headers()["content-type"], "application/json");
        let want = match wire {
            Wire::Anthropic => json!({"type": "error",
                "error": {"type": "rate_limit_error", "message": "slow down"}}),
            Wire::OpenAi => json!({"error": {"message": "slow down", "param": null,
                "type": "rate_limit_exceeded", "code": "rate_limit_exceeded"}}),
            Wire::Ollama => json!({"error": "slow down"}),
            Wire::Responses => unreachable!("not in WIRES"),
        };
        assert_eq!(resp.json::<Value>().await.unwrap(), want, "{wire:?}");
    }
    let server = ScriptedServer::start(Wire::Anthropic, vec![Turn::status(529, "busy")]).await;
    let resp = post(&server, Wire::Anthropic, &chat_body(Wire::Anthropic)).await;
    assert_eq!(resp.status(), 529);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["type"], "overloaded_error");
}

#[tokio::test]
async fn exhausted_script_unknown_paths_and_closed_sockets() {
    for wire in WIRES {
        let server = ScriptedServer::start(wire, vec![Turn::close_without_response()]).await;
        let sent = client().post(chat_url(&server, wire)).json(&chat_body(wire));
        assert!(sent.send().await.is_err(), "close_without_response fails");
        let resp = post(&server, wire, &chat_body(wire)).await;
        assert_eq!(resp.status(), 500);
        let body = resp.text().await.unwrap();
        assert!(body.contains("script exhausted"), "{body}");
        assert_eq!(get(format!("{}/v2/nope", server.base_url())).await.status(), 404);
        assert_eq!(server.chat_requests().len(), 2);
        assert_eq!(server.remaining_turns(), 0);
    }
    assert!(client().get(closed_port_url()).send().await.is_err());
}

#[tokio::test]
async fn then_drop_ends_the_body_early_with_an_error() {
    for wire in WIRES {
        let r = run(wire, Turn::text(&["par", "tial"]).then_drop()).await;
        assert!(r.body.error.is_some(), "{wire:?}: unterminated chunked body");
        assert!(!has_end(wire, &r.body.bytes));
        assert_eq!(text_of(wire, &r.events), "partial");
    }
}

#[tokio::test]
async fn split_writes_reassemble_across_reads_and_utf8() {
    for wire in WIRES {
        let text = ["héllo ✓", " é✓é✓é✓é✓é✓é✓é✓ ünï"];
        let turn = Turn::text(&text).tool_call("c1", "f", json!({"k": "✓"}));
        let r = run(wire, turn.split_writes()).await;
        assert!(r.body.error.is_none() && r.bad == 0);
        let reads = r.body.pieces.len();
        assert!(reads > r.events.len(), "{wire:?}: {reads} reads");
        let pieces = &r.body.pieces;
        let splits_char = pieces.iter().any(|p| std::str::from_utf8(p).is_err());
        assert!(splits_char, "some read ends inside a UTF-8 character");
        assert!(std::str::from_utf8(&r.body.bytes).is_ok());
        assert_eq!(text_of(wire, &r.events), text.concat());
        assert_eq!(tools_of(wire, &r.events)[0].2, json!({"k": "✓"}));
        assert!(has_end(wire, &r.body.bytes));
    }
}

#[tokio::test]
async fn each_write_is_one_event_and_chunk_delay_paces() {
    for wire in WIRES {
        let started = Instant::now();
        let turn = Turn::text(&["a", "b"]).chunk_delay(Duration::from_millis(15));
        let r = run(wire, turn).await;
        let frames = r.events.len() + usize::from(wire == Wire::OpenAi); // + [DONE]
        assert!(started.elapsed() >= Duration::from_millis(15 * (frames as u64 - 1)));
        assert_eq!(r.body.pieces.len(), frames, "{wire:?}");
        let end: &[u8] = if wire == Wire::Ollama { b"\n" } else { b"\n\n" };
        assert!(r.body.pieces.iter().all(|p| p.ends_with(end)));
    }
}

#[tokio::test]
async fn then_stall_really_stalls() {
    for wire in WIRES {
        let turns = vec![Turn::text(&["wait", "ing"]).then_stall(), Turn::text(&["x"])];
        let server = ScriptedServer::start(wire, turns).await;
        let mut stream = post(&server, wire, &chat_body(wire)).await.bytes_stream();
        let mut bytes = Vec::new();
        loop {
            match tokio::time::timeout(Duration::from_millis(300), stream.next()).await {
                Ok(Some(Ok(b))) => bytes.extend_from_slice(&b),
                Ok(other) => panic!("{wire:?}: stream ended instead of stalling: {other:?}"),
                Err(_elapsed) => break,
            }
        }
        assert_eq!(text_of(wire, &parse(wire, &bytes).0), "waiting");
        assert!(!has_end(wire, &bytes));
        drop(stream);
        let body = collect(post(&server, wire, &chat_body(wire)).await).await;
        assert_eq!(text_of(wire, &parse(wire, &body.bytes).0), "x");
    }
}

#[tokio::test]
async fn malformed_line_then_normal_end() {
    for wire in WIRES {
        let r = run(wire, Turn::text(&["a", "b"]).then_malformed()).await;
        assert!(r.body.error.is_none());
        assert_eq!(r.bad, 1, "{wire:?}");
        assert_eq!(text_of(wire, &r.events), "ab");
        assert!(has_end(wire, &r.body.bytes));
        let ndjson = wire == Wire::Ollama;
        let line: &[u8] = if ndjson { b"\n{not json\n" } else { b"data: {not json\n\n" };
        assert!(contains(&r.body.bytes, line));
    }
}

#[tokio::test]
async fn mid_stream_error_events() {
    for wire in WIRES {
        let turn = Turn::text(&["a"]).then_error_event("overloaded_error", "Overloaded");
        let r = run(wire, turn).await;
        assert!(r.body.error.is_none(), "an error event ends the body cleanly");
        assert!(!has_end(wire, &r.body.bytes));
        let want = match wire {
            Wire::Anthropic => json!({"type": "error",
                "error": {"type": "overloaded_error", "message": "Overloaded"}}),
            Wire::OpenAi => json!({"error": {"message": "Overloaded", "type": "overloaded_error"}}),
            Wire::Ollama => json!({"error": "Overloaded"}),
            Wire::Responses => unreachable!("not in WIRES"),
        };
        assert_eq!(r.events.last().unwrap(), &want);
    }
}

#[tokio::test]
async fn raw_text_bytes_are_written_verbatim() {
    for wire in WIRES {
        let long = vec![b'z'; 200_000];
        let turn = Turn::text(&["ok"]).raw_text_bytes(b"\xff\xfe");
        let r = run(wire, turn.raw_text_bytes(&long)).await;
        assert!(r.body.error.is_none());
        assert!(contains(&r.body.bytes, b"\"\xff\xfe\""), "{wire:?}");
        assert!(contains(&r.body.bytes, &long) && !contains(&r.body.bytes, b"kv1nt-raw"));
        assert!(text_of(wire, &r.events).starts_with("ok\u{fffd}\u{fffd}zzz"));
    }
}

#[tokio::test]
async fn non_streaming_requests_get_one_json_object() {
    for wire in WIRES {
        let turn = Turn::text(&["who", "le"]).tool_call("c9", "t", json!({"a": 1})).usage(3, 4);
        let server = ScriptedServer::start(wire, vec![turn]).await;
        let mut req = chat_body(wire);
        req["stream"] = json!(false);
        let v: Value = post(&server, wire, &req).await.json().await.unwrap();
        let (text, tools, fin, out) = match wire {
            Wire::Anthropic => {
                let tool = json!({"type": "tool_use", "id": "c9", "name": "t", "input": {"a": 1}});
                assert_eq!(v["content"][1], tool);
                let c = &v["content"][0]["text"];
                (c, json!(null), &v["stop_reason"], &v["usage"]["output_tokens"])
            }
            Wire::OpenAi => {
                let (c, m) = (&v["choices"][0], &v["choices"][0]["message"]);
                let args = m["tool_calls"][0]["function"]["arguments"].clone();
                let out = &v["usage"]["completion_tokens"];
                (&m["content"], args, &c["finish_reason"], out)
            }
            Wire::Ollama => {
                let m = &v["message"];
                let args = m["tool_calls"][0]["function"]["arguments"].clone();
                (&m["content"], args, &v["done_reason"], &v["eval_count"])
            }
            Wire::Responses => unreachable!("not in WIRES"),
        };
        let k = WIRES.iter().position(|w| *w == wire).unwrap();
        let want_tools = [json!(null), json!("{\"a\":1}"), json!({"a": 1})];
        let want_fin = json!(["tool_use", "tool_calls", "stop"])[k].take();
        assert_eq!((text, &tools), (&json!("whole"), &want_tools[k]));
        assert_eq!((fin, out), (&want_fin, &json!(4)));
    }
}

#[tokio::test]
async fn model_lists_and_ollama_endpoints() {
    let s = ScriptedServer::start(Wire::OpenAi, vec![]).await;
    let m = json!({"id": "scripted-model", "object": "model", "created": 0, "owned_by": "scripted"});
    let want = json!({"object": "list", "data": [m]});
    assert_eq!(get_json(format!("{}/v1/models", s.base_url())).await, want);
    let s = ScriptedServer::start_with_models(Wire::OpenAi, vec![], &["a", "b"]).await;
    let v = get_json(format!("{}/v1/models", s.base_url())).await;
    assert_eq!(v["data"][1]["id"], "b");
    let s = ScriptedServer::start(Wire::Anthropic, vec![]).await;
    let v = get_json(format!("{}/v1/models", s.base_url())).await;
    assert_eq!(v["data"][0]["id"], "claude-scripted");

    let s = ScriptedServer::start(Wire::Ollama, vec![]).await;
    let v = get_json(format!("{}/api/tags", s.base_url())).await;
    assert_eq!(v["models"][0]["name"], "scripted:latest");
    assert_eq!(v["models"][0]["details"]["quantization_level"], "Q4_0");
    let embed = |input: Value| {
        let req = client().post(format!("{}/api/embed", s.base_url()));
        let req = req.json(&json!({"model": "e", "input": input}));
        async move { req.send().await.unwrap().json::<Value>().await.unwrap()["embeddings"].clone() }
    };
    let one = embed(json!("hello")).await;
    let two = embed(json!(["hello", "world"])).await;
    assert_eq!((one.as_array().unwrap().len(), two.as_array().unwrap().len()), (1, 2));
    assert_eq!(one[0], two[0], "deterministic");
    assert_ne!(two[0], two[1]);
    assert_eq!(one[0].as_array().unwrap().len(), 8);

    let missing = Turn::status(404, "model \"x\" not found, try pulling it first");
    let s = ScriptedServer::start_with_models(Wire::Ollama, vec![missing], &["q:7b"]).await;
    let v = get_json(format!("{}/api/tags", s.base_url())).await;
    assert_eq!(v["models"][0]["model"], "q:7b");
    let resp = post(&s, Wire::Ollama, &chat_body(Wire::Ollama)).await;
    assert_eq!(resp.status(), 404);
    let want = json!({"error": "model \"x\" not found, try pulling it first"});
    assert_eq!(resp.json::<Value>().await.unwrap(), want);
    assert_eq!((s.chat_requests().len(), s.requests().len()), (1, 2));
}

#[tokio::test]
async fn dropping_the_server_stops_it() {
    let server = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["x"]).then_stall()]).await;
    let url = format!("{}/v1/models", server.base_url());
    assert!(client().get(&url).send().await.is_ok());
    drop(server);
    let mut refused = false;
    for _ in 0..200 {
        tokio::task::yield_now().await;
        if client().get(&url).send().await.is_err() {
            refused = true;
            break;
        }
    }
    assert!(refused, "listener closed after drop");
}
