//! The real context window, learned from the server where it says it: llama.cpp's `GET /props`
//! (`default_generation_settings.n_ctx`, or `n_ctx`) for an OpenAI-compatible server, probed once
//! per base URL and model like Ollama's `/api/show` (`ollama.rs`); and the window a server names
//! when it refuses a request as too large (llama.cpp's "request (4906 tokens) exceeds the
//! available context size (4096 tokens)", OpenAI's `context_length_exceeded` "maximum context
//! length is 8192 tokens", Anthropic's "prompt is too long: 210000 tokens > 200000 maximum"),
//! remembered for the rest of the process ([`learn`]). [`of`] is what `Config::context_window`
//! answers with them.
//!
//! Invariants:
//! - A window the user set explicitly is never exceeded: what a server says only lowers it
//!   (`openai.context_window = 0`, the default, takes the server's when it has one).
//! - Everything a server says is bounded: a window outside [`MIN_WINDOW`]..=[`MAX_WINDOW`] is
//!   ignored, and a learned window only ever shrinks.
//! - A server that does not answer `/props` (OpenAI itself, vLLM, …) is asked once per process;
//!   OpenAI's own API never.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::error::ProviderKind;
use crate::engine::config::Config;

/// The smallest and largest window a server's word is taken for.
pub const MIN_WINDOW: usize = 256;
pub const MAX_WINDOW: usize = 16 << 20;
/// `openai.context_window` when neither the user nor the server says.
pub const DEFAULT_OPENAI_WINDOW: usize = 128_000;

type Key = (ProviderKind, String, String);
/// `/props` answers by (server root, model); `None`: the server has none.
type Props = HashMap<(String, String), Option<usize>>;

static PROPS: LazyLock<Mutex<Props>> = LazyLock::new(Default::default);
/// Windows servers named when refusing a request, by (provider, endpoint, model).
static LEARNED: LazyLock<Mutex<HashMap<Key, usize>>> = LazyLock::new(Default::default);

/// `kind`'s context window under `config`: the configured one, the server's where it said it
/// (see the module doc), never more than one the user set.
pub fn of(config: &Config, kind: ProviderKind) -> usize {
    let configured = match kind {
        ProviderKind::Anthropic => config.anthropic.context_window,
        ProviderKind::Ollama => config.ollama_num_ctx() as usize,
        ProviderKind::OpenAi => {
            let server = probed_props(&config.openai.base_url, &config.openai.model);
            match (config.openai.context_window, server) {
                (0, server) => server.unwrap_or(DEFAULT_OPENAI_WINDOW),
                (set, Some(server)) => set.min(server),
                (set, None) => set,
            }
        }
        ProviderKind::Local => config.local.context_window(),
    };
    match learned(kind, endpoint(config, kind), config.model_of(kind)) {
        Some(window) => configured.min(window),
        None => configured,
    }
}

/// Where `kind`'s requests go (what learned windows are keyed by besides the model).
pub fn endpoint(config: &Config, kind: ProviderKind) -> &str {
    match kind {
        ProviderKind::Anthropic => &config.anthropic.base_url,
        ProviderKind::Ollama => &config.ollama.host,
        ProviderKind::OpenAi => &config.openai.base_url,
        ProviderKind::Local => "",
    }
}

/// Remember that `model` at `endpoint` holds at most `window` tokens (a refusal said so).
pub fn learn(kind: ProviderKind, endpoint: &str, model: &str, window: usize) {
    if !(MIN_WINDOW..=MAX_WINDOW).contains(&window) {
        return;
    }
    let mut learned = LEARNED.lock().unwrap_or_else(|e| e.into_inner());
    let slot = learned.entry((kind, endpoint.trim_end_matches('/').to_string(), model.to_string()));
    let known = slot.or_insert(window);
    *known = (*known).min(window);
}

/// The window a refusal named for `model` at `endpoint`, if one did in this process.
pub fn learned(kind: ProviderKind, endpoint: &str, model: &str) -> Option<usize> {
    let learned = LEARNED.lock().unwrap_or_else(|e| e.into_inner());
    learned.get(&(kind, endpoint.trim_end_matches('/').to_string(), model.to_string())).copied()
}

/// The server's root for an OpenAI-compatible base URL (`http://h:8080/v1` → `http://h:8080`):
/// where llama.cpp serves `/props`.
fn server_root(base_url: &str) -> String {
    let base = super::openai::normalize_base_url(base_url);
    match base.rsplit_once('/') {
        Some((root, _version)) => root.to_string(),
        None => base,
    }
}

/// llama.cpp's `n_ctx` from `/props`, asked once per server root and model in this process;
/// `None` for a server without it (and for OpenAI's own API, never asked).
pub async fn probe_props(client: &reqwest::Client, base_url: &str, model: &str) -> Option<usize> {
    let root = server_root(base_url);
    let key = (root.clone(), model.to_string());
    if let Some(known) = PROPS.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return *known;
    }
    if super::openai::normalize_base_url(base_url) == super::openai::DEFAULT_BASE_URL {
        return None;
    }
    let answer = client.get(format!("{root}/props")).timeout(Duration::from_secs(5)).send().await;
    let n_ctx = match answer {
        Ok(response) if response.status().is_success() => {
            response.json::<Value>().await.ok().as_ref().and_then(parse_props)
        }
        Ok(_) => None,
        // Not listening now: the chat request will say why, and the next step asks again. A
        // server that accepted and never answered is not asked again (each step would wait).
        Err(e) if e.is_connect() => return None,
        Err(_) => None,
    };
    PROPS.lock().unwrap_or_else(|e| e.into_inner()).insert(key, n_ctx);
    n_ctx
}

/// What [`probe_props`] found for this base URL and model, if it asked.
pub fn probed_props(base_url: &str, model: &str) -> Option<usize> {
    let props = PROPS.lock().unwrap_or_else(|e| e.into_inner());
    props.get(&(server_root(base_url), model.to_string())).copied().flatten()
}

/// `n_ctx` of a `/props` answer (per slot, in `default_generation_settings`; or at the top).
pub fn parse_props(props: &Value) -> Option<usize> {
    [&props["default_generation_settings"]["n_ctx"], &props["n_ctx"]]
        .iter()
        .find_map(|v| v.as_u64())
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| (MIN_WINDOW..=MAX_WINDOW).contains(n))
}

/// A refusal of a request as larger than the model's window: the window and the request's size
/// in the server's tokens, where it said them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    pub window: Option<usize>,
    pub prompt_tokens: Option<usize>,
}

/// Whether an HTTP error answer (`status`, raw `body`) refuses the request for its size.
pub fn too_large(status: u16, body: &str) -> Option<TooLarge> {
    if !(400..500).contains(&status) || status == 429 {
        return None;
    }
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let error = &json["error"];
    let message = super::http::error_message(body);
    let text = message.to_ascii_lowercase();
    let number = |v: &Value| v.as_u64().and_then(|n| usize::try_from(n).ok());
    // llama.cpp: `exceed_context_size_error` with `n_ctx` and `n_prompt_tokens`, and the message.
    if error["type"] == "exceed_context_size_error" || text.contains("exceeds the available context size") {
        return Some(TooLarge {
            window: number(&error["n_ctx"]).or_else(|| number_before(&text, "context size (", " tokens)")),
            prompt_tokens: number(&error["n_prompt_tokens"])
                .or_else(|| number_before(&text, "request (", " tokens)")),
        });
    }
    // OpenAI and servers copying it (vLLM, LM Studio).
    if error["code"] == "context_length_exceeded" || text.contains("maximum context length") {
        let prompt_tokens = number_before(&text, "(", " in the messages")
            .or_else(|| number_before(&text, "resulted in ", " tokens"));
        return Some(TooLarge {
            window: number_before(&text, "maximum context length is ", " tokens"),
            prompt_tokens,
        });
    }
    // Anthropic: "prompt is too long: 210000 tokens > 200000 maximum".
    if text.contains("prompt is too long") {
        return Some(TooLarge {
            window: number_before(&text, "> ", " maximum"),
            prompt_tokens: number_before(&text, "too long: ", " tokens"),
        });
    }
    None
}

/// The number between `before` and `after` in `text` (digits, commas allowed), if there is one.
fn number_before(text: &str, before: &str, after: &str) -> Option<usize> {
    let start = text.find(before)? + before.len();
    let rest = &text[start..];
    let end = rest.find(after)?;
    let digits: String = rest[..end].chars().filter(|c| *c != ',').collect();
    digits.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llama_cpp_props_give_the_slot_window() {
        let props = serde_json::json!({"default_generation_settings": {"n_ctx": 4096}, "total_slots": 1});
        assert_eq!(parse_props(&props), Some(4096));
        assert_eq!(parse_props(&serde_json::json!({"n_ctx": 8192})), Some(8192));
        assert_eq!(parse_props(&serde_json::json!({"n_ctx": 3})), None, "nonsense is ignored");
        assert_eq!(parse_props(&serde_json::json!({"object": "list"})), None);
        assert_eq!(server_root("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(server_root("http://127.0.0.1:8080/v1/"), "http://127.0.0.1:8080");
    }

    #[test]
    fn refusals_of_three_kinds_name_the_window() {
        let llama = r#"{"error":{"code":400,"message":"request (4906 tokens) exceeds the available context size (4096 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":4906,"n_ctx":4096}}"#;
        assert_eq!(too_large(400, llama), Some(TooLarge { window: Some(4096), prompt_tokens: Some(4906) }));
        let older = r#"{"error":{"code":400,"message":"request (4906 tokens) exceeds the available context size (4096 tokens)","type":"invalid_request_error"}}"#;
        assert_eq!(too_large(400, older), Some(TooLarge { window: Some(4096), prompt_tokens: Some(4906) }));
        let openai = r#"{"error":{"message":"This model's maximum context length is 8192 tokens. However, you requested 9000 tokens (8000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
        assert_eq!(too_large(400, openai), Some(TooLarge { window: Some(8192), prompt_tokens: Some(8000) }));
        let anthropic = r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210,000 tokens > 200,000 maximum"}}"#;
        assert_eq!(
            too_large(400, anthropic),
            Some(TooLarge { window: Some(200_000), prompt_tokens: Some(210_000) })
        );
        let bare = r#"{"error":{"code":"context_length_exceeded","message":"too long"}}"#;
        assert_eq!(too_large(400, bare), Some(TooLarge { window: None, prompt_tokens: None }));
        assert_eq!(too_large(400, r#"{"error":{"message":"bad tool schema"}}"#), None);
        assert_eq!(too_large(500, llama), None, "a server error is not a size refusal");
    }

    #[test]
    fn a_learned_window_only_shrinks_and_never_raises_a_configured_one() {
        let mut config = Config::default();
        config.openai.base_url = "http://127.0.0.1:1/learned-test".into();
        assert_eq!(of(&config, ProviderKind::OpenAi), DEFAULT_OPENAI_WINDOW);
        learn(ProviderKind::OpenAi, "http://127.0.0.1:1/learned-test/", &config.openai.model, 4096);
        learn(ProviderKind::OpenAi, "http://127.0.0.1:1/learned-test", &config.openai.model, 9000);
        learn(ProviderKind::OpenAi, "http://127.0.0.1:1/learned-test", &config.openai.model, 10);
        assert_eq!(of(&config, ProviderKind::OpenAi), 4096);
        config.openai.context_window = 2048;
        assert_eq!(of(&config, ProviderKind::OpenAi), 2048);
        config.openai.model = "another".into();
        assert_eq!(of(&config, ProviderKind::OpenAi), 2048);
        config.openai.context_window = 0;
        assert_eq!(of(&config, ProviderKind::OpenAi), DEFAULT_OPENAI_WINDOW, "per model");
    }
}
