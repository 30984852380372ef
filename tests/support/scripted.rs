//! [`ScriptedServer`]: a local model server that plays a script of [`Turn`]s
//! in one of three wire formats ([`Wire`]), injects faults, and records every
//! request so tests can assert on exactly what the client sent.
//!
//! Each chat request consumes the next turn; requests beyond the script get
//! HTTP 500 with "script exhausted" in the wire's error shape. Non-chat
//! endpoints (model lists, embeddings, …) are answered by the wire modules
//! and never consume turns. Unknown paths get 404.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use super::http::{Conn, ReadError};
use super::{
    Chunk, Codec, Fault, Kind, Reply, ToolCall, json_bytes, wire_anthropic, wire_ollama, wire_openai,
    wire_responses,
};

/// Maximum time `then_stall` keeps a connection open.
pub const STALL_CAP: Duration = Duration::from_secs(120);

/// Which documented wire format the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// Anthropic Messages API: `POST /v1/messages`, SSE.
    Anthropic,
    /// OpenAI chat completions: `POST /v1/chat/completions`, SSE.
    OpenAi,
    /// Ollama native API: `POST /api/chat`, NDJSON.
    Ollama,
    /// OpenAI Responses API: `POST /v1/responses`, SSE (what Codex CLI speaks; benches only).
    Responses,
}

impl Wire {
    /// Path of the chat endpoint for this wire.
    pub fn chat_path(self) -> &'static str {
        self.codec().chat_path
    }

    fn codec(self) -> &'static Codec {
        match self {
            Wire::Anthropic => &wire_anthropic::CODEC,
            Wire::OpenAi => &wire_openai::CODEC,
            Wire::Ollama => &wire_ollama::CODEC,
            Wire::Responses => &wire_responses::CODEC,
        }
    }
}

/// One request as received by the server.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// The request target as sent (including any query string).
    pub path: String,
    /// Header names lowercased, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON, or `Null` if empty / not JSON.
    pub body: Value,
    pub raw_body: Vec<u8>,
}

impl RecordedRequest {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// `http://127.0.0.1:PORT` where nothing listens.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind ephemeral port");
    let port = listener.local_addr().expect("local addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// One scripted response to one chat request.
///
/// Faults (`then_*`) happen "after the chunks": right after the last content
/// delta (the last text delta, or the last tool-argument piece if the turn
/// has tool calls), before any closing events.
#[derive(Debug, Clone)]
pub struct Turn {
    pub(super) kind: Kind,
    pub(super) chunks: Vec<Chunk>,
    pub(super) tools: Vec<ToolCall>,
    pub(super) usage: Option<(u64, u64)>,
    /// Input tokens counted from the request instead: its JSON body's bytes per token.
    pub(super) bytes_per_token: Option<u64>,
    /// Prompt-cache (writes, reads) reported with the usage.
    pub(super) cache: (u64, u64),
    /// An extended-thinking block before the text (Anthropic wire): its pieces and signature.
    pub(super) thinking: Option<(Vec<String>, String)>,
    pub(super) delay: Duration,
    pub(super) fault: Option<Fault>,
    pub(super) split: bool,
    pub(super) retry_after: Option<u64>,
}

impl Turn {
    fn new(kind: Kind) -> Turn {
        Turn {
            kind,
            chunks: Vec::new(),
            tools: Vec::new(),
            usage: None,
            bytes_per_token: None,
            cache: (0, 0),
            thinking: None,
            delay: Duration::ZERO,
            fault: None,
            split: false,
            retry_after: None,
        }
    }

    /// Streamed text deltas, one event/line per chunk.
    pub fn text(chunks: &[&str]) -> Turn {
        let mut t = Turn::new(Kind::Stream);
        t.chunks = chunks.iter().map(|c| Chunk::Text(c.to_string())).collect();
        t
    }

    /// Appends a tool call after the text; the stop reason becomes tool use.
    pub fn tool_call(mut self, id: &str, name: &str, arguments: Value) -> Turn {
        self.tools.push(ToolCall { id: id.to_string(), name: name.to_string(), arguments });
        self
    }

    /// Token usage reported (default: 10 input, one output per chunk).
    pub fn usage(mut self, input_tokens: u64, output_tokens: u64) -> Turn {
        self.usage = Some((input_tokens, output_tokens));
        self
    }

    /// Input tokens reported as the request's JSON body's length over `bytes_per_token` (a
    /// tokenizer of the server's own, unlike kv1nt's estimate); output tokens as by default.
    pub fn usage_counted(mut self, bytes_per_token: u64) -> Turn {
        self.bytes_per_token = Some(bytes_per_token.max(1));
        self
    }

    /// Prompt-cache tokens reported: Anthropic's `cache_creation_input_tokens` and
    /// `cache_read_input_tokens`; OpenAI's `prompt_tokens_details.cached_tokens` (reads, counted
    /// inside `prompt_tokens` as that API does).
    pub fn cache(mut self, write: u64, read: u64) -> Turn {
        self.cache = (write, read);
        self
    }

    /// A thinking block streamed before the text (Anthropic wire only).
    pub fn thinking(mut self, pieces: &[&str], signature: &str) -> Turn {
        self.thinking = Some((pieces.iter().map(|p| p.to_string()).collect(), signature.to_string()));
        self
    }

    /// Pause between events (default 0).
    pub fn chunk_delay(mut self, d: Duration) -> Turn {
        self.delay = d;
        self
    }

    /// An HTTP error response; `body` is the message inside the wire's JSON
    /// error shape.
    pub fn status(code: u16, body: &str) -> Turn {
        Turn::new(Kind::Status { code, message: body.to_string() })
    }

    /// Adds a `retry-after: N` response header.
    pub fn retry_after(mut self, secs: u64) -> Turn {
        self.retry_after = Some(secs);
        self
    }

    /// Accept, read the request, close the socket without sending a byte.
    pub fn close_without_response() -> Turn {
        Turn::new(Kind::CloseWithoutResponse)
    }

    /// After the chunks, close the socket abruptly (no final events, no
    /// `[DONE]`, no terminating HTTP chunk).
    pub fn then_drop(mut self) -> Turn {
        self.fault = Some(Fault::Drop);
        self
    }

    /// After the chunks, write one malformed line, then continue normally.
    pub fn then_malformed(mut self) -> Turn {
        self.fault = Some(Fault::Malformed);
        self
    }

    /// After the chunks, a mid-stream error event in the wire's shape, then
    /// the body is ended and the socket closed.
    pub fn then_error_event(mut self, kind: &str, message: &str) -> Turn {
        self.fault = Some(Fault::ErrorEvent { kind: kind.to_string(), message: message.to_string() });
        self
    }

    /// After the chunks, send nothing until the client disconnects (capped
    /// at [`STALL_CAP`]).
    pub fn then_stall(mut self) -> Turn {
        self.fault = Some(Fault::Stall);
        self
    }

    /// One more text delta whose JSON string contains these bytes verbatim
    /// (unescaped, possibly invalid UTF-8).
    pub fn raw_text_bytes(mut self, bytes: &[u8]) -> Turn {
        self.chunks.push(Chunk::Raw(bytes.to_vec()));
        self
    }

    /// Write every event (and the HTTP chunk framing) in 3-byte pieces.
    pub fn split_writes(mut self) -> Turn {
        self.split = true;
        self
    }

    pub(super) fn input_tokens(&self) -> u64 {
        self.usage.map_or(10, |u| u.0)
    }

    pub(super) fn output_tokens(&self) -> u64 {
        self.usage.map_or(self.chunks.len() as u64, |u| u.1)
    }

    /// The concatenated text, with a placeholder for each raw chunk.
    pub(super) fn full_text(&self) -> String {
        self.chunks.iter().map(|c| c.text()).collect()
    }

    /// Raw byte chunks in order (matching the placeholders of `full_text`).
    pub(super) fn raws(&self) -> Vec<&[u8]> {
        self.chunks.iter().filter_map(|c| c.raw()).collect()
    }
}

struct Shared {
    requests: Vec<RecordedRequest>,
    turns: VecDeque<Turn>,
    models: Vec<String>,
    chat_count: u64,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// A scripted model server on `127.0.0.1:<ephemeral>`. Stops when dropped.
pub struct ScriptedServer {
    wire: Wire,
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    task: JoinHandle<()>,
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptedServer {
    pub async fn start(wire: Wire, turns: Vec<Turn>) -> ScriptedServer {
        Self::start_with_models(wire, turns, wire.codec().default_models).await
    }

    /// Like [`start`](Self::start), with the model names listed by
    /// `/v1/models` (Anthropic, OpenAI) or `/api/tags` (Ollama).
    pub async fn start_with_models(wire: Wire, turns: Vec<Turn>, models: &[&str]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Mutex::new(Shared {
            requests: Vec::new(),
            turns: turns.into(),
            models: models.iter().map(|m| m.to_string()).collect(),
            chat_count: 0,
        }));
        let task = tokio::spawn(accept_loop(listener, wire.codec(), shared.clone()));
        ScriptedServer { wire, addr, shared, task }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash, no `/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received, in order, all paths.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared).requests.clone()
    }

    /// Only the requests to the wire's chat endpoint.
    pub fn chat_requests(&self) -> Vec<RecordedRequest> {
        let chat = self.wire.chat_path();
        let is_chat = |r: &RecordedRequest| r.method == "POST" && r.path.split('?').next() == Some(chat);
        self.requests().into_iter().filter(is_chat).collect()
    }

    /// Turns not yet consumed.
    pub fn remaining_turns(&self) -> usize {
        lock(&self.shared).turns.len()
    }
}

async fn accept_loop(listener: TcpListener, codec: &'static Codec, shared: Arc<Mutex<Shared>>) {
    // Dropping the JoinSet (when this task is aborted) aborts every
    // connection task, so stalls never outlive the server.
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    conns.spawn(handle(Conn::new(stream), codec, shared.clone()));
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn handle(mut conn: Conn, codec: &'static Codec, shared: Arc<Mutex<Shared>>) {
    let error = |status, message: &str| json_bytes(&(codec.error_body)(status, message), &[]);
    let req = match conn.read_request().await {
        Ok(req) => req,
        Err(ReadError::Closed) => return,
        Err(ReadError::Malformed(why)) => {
            let body = error(400, &format!("malformed HTTP request: {why}"));
            let _ = conn.write_full(400, &[], "application/json", &body).await;
            return;
        }
    };
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let is_chat = req.method == "POST" && req.path() == codec.chat_path;
    let (turn, seq, models) = {
        let mut s = lock(&shared);
        s.requests.push(RecordedRequest {
            method: req.method.clone(),
            path: req.target.clone(),
            headers: req.headers.clone(),
            body: body.clone(),
            raw_body: req.body.clone(),
        });
        s.chat_count += u64::from(is_chat);
        let turn = if is_chat { s.turns.pop_front() } else { None };
        (turn, s.chat_count, s.models.clone())
    };
    let reply = if is_chat {
        match turn {
            Some(turn) => {
                let _ = play(&mut conn, codec, turn, &body, seq).await;
                return;
            }
            None => Reply::encoded(500, error(500, "script exhausted")),
        }
    } else {
        (codec.route)(&req.method, req.path(), &body, &models).unwrap_or_else(|| {
            Reply::encoded(404, error(404, &format!("not found: {} {}", req.method, req.path())))
        })
    };
    let _ = conn.write_full(reply.status, &[], reply.content_type, &reply.body).await;
}

async fn play(conn: &mut Conn, codec: &Codec, mut turn: Turn, req: &Value, seq: u64) -> io::Result<()> {
    if let Some(per_token) = turn.bytes_per_token {
        let bytes = serde_json::to_vec(req).map_or(0, |b| b.len() as u64);
        turn.usage = Some((bytes / per_token, turn.output_tokens()));
    }
    let mut headers = Vec::new();
    if let Some(name) = codec.request_id_header {
        headers.push((name.to_string(), format!("req_scripted_{seq:04}")));
    }
    if let Some(secs) = turn.retry_after {
        headers.push(("retry-after".into(), secs.to_string()));
    }
    match &turn.kind {
        Kind::CloseWithoutResponse => {
            conn.close().await;
            return Ok(());
        }
        Kind::Status { code, message } => {
            let body = json_bytes(&(codec.error_body)(*code, message), &[]);
            return conn.write_full(*code, &headers, "application/json", &body).await;
        }
        Kind::Stream => {}
    }
    let wants_stream = req.get("stream").and_then(Value::as_bool);
    if !wants_stream.unwrap_or(codec.stream_by_default) {
        let body = (codec.complete)(&turn, req, seq);
        return conn.write_full(200, &headers, "application/json", &body).await;
    }
    let stream = (codec.stream)(&turn, req, seq);
    conn.split = turn.split;
    conn.start_stream(200, &headers, codec.stream_content_type, true).await?;
    let mut first = true;
    let (before, after) = stream.events.split_at(stream.fault_at.min(stream.events.len()));
    for event in before {
        conn.write_event_paced(event, turn.delay, &mut first).await?;
    }
    match &turn.fault {
        None => {}
        Some(Fault::Drop) => return Ok(()),
        Some(Fault::Stall) => {
            conn.stall_until_disconnect(STALL_CAP).await;
            return Ok(());
        }
        Some(Fault::Malformed) => conn.write_event_paced(codec.malformed, turn.delay, &mut first).await?,
        Some(Fault::ErrorEvent { kind, message }) => {
            let event = (codec.error_event)(kind, message);
            conn.write_event_paced(&event, turn.delay, &mut first).await?;
            return conn.finish().await;
        }
    }
    for event in after {
        conn.write_event_paced(event, turn.delay, &mut first).await?;
    }
    conn.finish().await
}
