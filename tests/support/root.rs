//! Test support: scripted model servers speaking the Anthropic, OpenAI and
//! Ollama wire formats on `127.0.0.1:0`, with fault injection and request
//! recording; plus git, pty and local-model helpers. Tests in `tests/suite/` use it
//! as `crate::support` (one test binary, `tests/all.rs`, compiles it once).
//!
//! ```ignore
//! let turns = vec![Turn::text(&["Hi", " there"]).usage(12, 2)];
//! let server = ScriptedServer::start(Wire::Anthropic, turns).await;
//! // point the client at server.base_url(), run it, then:
//! let req = &server.chat_requests()[0];
//! assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));
//! ```
//!
//! Layout: `http` (hand-written HTTP/1.1), `scripted` (server + [`Turn`]),
//! `wire_*` (encoders), `prereq` (installed prerequisites: skipped, or failed
//! under `CI=true`). This file holds the encoding plumbing they share.
//!
//! This is the harness's root: tests/all.rs loads it as `support` (`#[path]`), and
//! `mod.rs` beside it is only what benches/stream_cost.rs includes.

pub mod file_server;
pub mod gguf;
pub mod git;
pub mod http;
pub mod local_model;
pub mod prereq;
pub mod pty;
pub mod pty_replies;
pub mod sandbox;
pub mod scripted;
pub mod wire_anthropic;
pub mod wire_ollama;
pub mod wire_openai;
pub mod wire_responses;

use serde_json::Value;

pub use prereq::{crate_sources, require, require_found};
pub use scripted::{ScriptedServer, Turn, Wire, closed_port_url};

/// Placeholder substituted by the raw bytes of a `raw_text_bytes` chunk after
/// JSON serialisation (it survives serde_json unescaped).
const RAW_PLACEHOLDER: &str = "<<kv1nt-raw-bytes>>";

/// Serialises `v` and substitutes each placeholder occurrence, in order, by
/// the next raw byte string.
fn json_bytes(v: &Value, raws: &[&[u8]]) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(v).expect("serialise JSON");
    if raws.is_empty() {
        return bytes;
    }
    let needle = RAW_PLACEHOLDER.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut raws = raws.iter();
    while let Some(pos) = bytes.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&bytes[..pos]);
        out.extend_from_slice(raws.next().copied().unwrap_or(needle));
        bytes.drain(..pos + needle.len());
    }
    out.extend_from_slice(&bytes);
    out
}

/// Splits a string into at least two pieces (when it has ≥ 2 chars) at char
/// boundaries, roughly in thirds.
fn split_pieces(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let size = (chars.len() / 3).max(1);
    let mut pieces: Vec<String> = chars.chunks(size).map(|c| c.iter().collect()).collect();
    if pieces.is_empty() {
        pieces.push(String::new());
    }
    pieces
}

/// A stream of pre-encoded events, plus where faults are injected.
struct Stream {
    pub events: Vec<Vec<u8>>,
    /// Number of events written before the fault.
    pub fault_at: usize,
}

/// A complete non-chat response.
struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Reply {
    fn json(status: u16, v: &Value) -> Reply {
        Reply::encoded(status, json_bytes(v, &[]))
    }

    /// A JSON body (already encoded) with this status.
    fn encoded(status: u16, body: Vec<u8>) -> Reply {
        Reply { status, content_type: "application/json", body }
    }
}

// Parts of a `Turn`.

#[derive(Debug, Clone)]
enum Chunk {
    Text(String),
    Raw(Vec<u8>),
}

#[derive(Debug, Clone)]
struct ToolCall {
    id: String,
    name: String,
    arguments: Value,
}

#[derive(Debug, Clone)]
enum Fault {
    Drop,
    Malformed,
    ErrorEvent { kind: String, message: String },
    Stall,
}

#[derive(Debug, Clone)]
enum Kind {
    Stream,
    Status { code: u16, message: String },
    CloseWithoutResponse,
}

impl Chunk {
    /// Text of the chunk; raw chunks yield the placeholder.
    fn text(&self) -> &str {
        match self {
            Chunk::Text(t) => t,
            Chunk::Raw(_) => RAW_PLACEHOLDER,
        }
    }

    fn raw(&self) -> Option<&[u8]> {
        match self {
            Chunk::Raw(b) => Some(b),
            Chunk::Text(_) => None,
        }
    }
}

/// How one wire format is spoken: its endpoints and encoders.
struct Codec {
    chat_path: &'static str,
    /// `content-type` of streamed responses.
    stream_content_type: &'static str,
    /// Whether a chat request without a `stream` field gets a stream.
    stream_by_default: bool,
    /// Model names listed when none are configured.
    default_models: &'static [&'static str],
    /// Response header carrying a request id, if the wire has one.
    request_id_header: Option<&'static str>,
    /// The line written by `then_malformed`.
    malformed: &'static [u8],
    /// `(turn, request body, chat request number)` → stream of events.
    stream: fn(&Turn, &Value, u64) -> Stream,
    /// `(turn, request body, chat request number)` → non-streamed body.
    complete: fn(&Turn, &Value, u64) -> Vec<u8>,
    /// `(status, message)` → HTTP error body.
    error_body: fn(u16, &str) -> Value,
    /// `(kind, message)` → mid-stream error event.
    error_event: fn(&str, &str) -> Vec<u8>,
    /// `(method, path, body, models)` → answer for a non-chat endpoint.
    route: fn(&str, &str, &Value, &[String]) -> Option<Reply>,
}
