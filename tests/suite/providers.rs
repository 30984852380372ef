//! The three providers against scripted servers that speak each documented wire format:
//! streaming, tool calls, what is sent, and every fault the foundation issue lists.

use std::time::{Duration, Instant};

use crate::support::{ScriptedServer, Turn, Wire, closed_port_url};
use kv1nt::engine::llm::anthropic::AnthropicProvider;
use kv1nt::engine::llm::ollama::OllamaProvider;
use kv1nt::engine::llm::openai::OpenAiProvider;
use kv1nt::engine::llm::router::{RetryPolicy, start_with_retries};
use kv1nt::engine::llm::*;
use serde_json::json;

/// A predicate on the classified error of one HTTP status.
type ErrorCheck = fn(&LlmError) -> bool;

const WIRES: [Wire; 3] = [Wire::Anthropic, Wire::OpenAi, Wire::Ollama];

fn provider(wire: Wire, base: &str, idle: Duration) -> Box<dyn Provider> {
    let client = http::build_client(Duration::from_secs(2));
    match wire {
        Wire::Anthropic => {
            Box::new(AnthropicProvider::new(client, base, Some("sk-test".into()), "claude-test", idle))
        }
        Wire::OpenAi => Box::new(OpenAiProvider::new(client, base, Some("oa-test".into()), "gpt-test", idle)),
        Wire::Ollama => Box::new(OllamaProvider::new(client, base, "llama-test", 8192, idle)),
        Wire::Responses => unreachable!("kv1nt does not speak the Responses API"),
    }
}

fn request(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        system: "be brief".into(),
        messages: vec![Message::user("hi")],
        tools: vec![ToolSpec {
            name: "read_file".into(),
            description: "Read a file".into(),
            input_schema: json!({"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}),
        }],
        max_tokens: 100,
        temperature: None,
        tool_choice: ToolChoice::Auto,
        thinking: ThinkingLevel::Off,
    }
}

/// Everything a reply produced: text, tool calls, usage, and how it ended.
#[derive(Debug, Default)]
struct Collected {
    text: String,
    calls: Vec<ToolCall>,
    usage: Usage,
    thinking: Vec<Thinking>,
    done: Option<Option<String>>,
    error: Option<LlmError>,
}

async fn collect(mut stream: EventStream) -> Collected {
    let mut out = Collected::default();
    while let Some(item) = stream.next().await {
        match item {
            Ok(StreamEvent::TextDelta(t)) => out.text.push_str(&t),
            Ok(StreamEvent::ToolCall(c)) => out.calls.push(c),
            Ok(StreamEvent::Usage(u)) => out.usage.merge(u),
            Ok(StreamEvent::ThinkingDelta(_)) => {}
            Ok(StreamEvent::Thinking(t)) => out.thinking.push(t),
            Ok(StreamEvent::Done { stop_reason }) => out.done = Some(stop_reason),
            Err(e) => out.error = Some(e),
        }
    }
    out
}

async fn run_one(wire: Wire, turn: Turn) -> (ScriptedServer, Result<Collected, LlmError>) {
    let server = ScriptedServer::start(wire, vec![turn]).await;
    let p = provider(wire, &server.base_url(), Duration::from_millis(400));
    let result = match p.start(request(p.model())).await {
        Ok(stream) => Ok(collect(stream).await),
        Err(e) => Err(e),
    };
    (server, result)
}

#[tokio::test]
async fn text_streams_with_usage_and_a_normal_end() {
    for wire in WIRES {
        let (_s, result) = run_one(wire, Turn::text(&["Hel", "lo ", "world"]).usage(12, 3)).await;
        let got = result.unwrap_or_else(|e| panic!("{wire:?}: {e}"));
        assert_eq!(got.text, "Hello world", "{wire:?}");
        assert_eq!(got.usage, Usage { input_tokens: 12, output_tokens: 3, ..Usage::default() }, "{wire:?}");
        assert!(got.done.is_some() && got.error.is_none(), "{wire:?}: {got:?}");
    }
}

#[tokio::test]
async fn tool_calls_arrive_typed_with_parsed_arguments() {
    for wire in WIRES {
        let args = json!({"path": "src/main.rs", "lines": [1, 20]});
        let turn = Turn::text(&["Let me look."]).tool_call("toolu_1", "read_file", args.clone());
        let (_s, result) = run_one(wire, turn).await;
        let got = result.unwrap();
        assert_eq!(got.calls.len(), 1, "{wire:?}");
        assert_eq!(got.calls[0].name, "read_file");
        assert_eq!(got.calls[0].arguments, args, "{wire:?}");
        assert!(!got.calls[0].id.is_empty());
    }
}

#[tokio::test]
async fn prompt_cache_tokens_are_counted_apart_from_fresh_input() {
    // Anthropic reports writes and reads beside `input_tokens`; OpenAI counts its cached
    // tokens inside `prompt_tokens`, and they are moved out so neither is counted twice.
    let (_s, got) = run_one(Wire::Anthropic, Turn::text(&["ok"]).usage(12, 3).cache(100, 900)).await;
    let want = Usage { input_tokens: 12, output_tokens: 3, cache_write_tokens: 100, cache_read_tokens: 900 };
    assert_eq!(got.unwrap().usage, want);
    let (_s, got) = run_one(Wire::OpenAi, Turn::text(&["ok"]).usage(12, 3).cache(0, 900)).await;
    let want = Usage { input_tokens: 12, output_tokens: 3, cache_write_tokens: 0, cache_read_tokens: 900 };
    assert_eq!(got.unwrap().usage, want);
}

#[tokio::test]
async fn requests_carry_the_documented_headers_and_body() {
    let (s, _) = run_one(Wire::Anthropic, Turn::text(&["ok"])).await;
    let req = &s.chat_requests()[0];
    assert_eq!(req.path, "/v1/messages");
    assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(req.header("x-api-key"), Some("sk-test"));
    assert_eq!(req.body["model"], "claude-test");
    assert_eq!(req.body["stream"], true);
    // Prompt caching: breakpoints on the system prompt, the last tool and the last message.
    let cached = json!({"type": "ephemeral"});
    assert_eq!(req.body["system"], json!([{"type": "text", "text": "be brief", "cache_control": cached}]));
    assert_eq!(
        req.body["messages"][0],
        json!({"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": cached}]})
    );
    assert_eq!(req.body["tools"][0]["input_schema"]["required"], json!(["path"]));
    assert_eq!(req.body["tools"][0]["cache_control"], cached);

    let (s, _) = run_one(Wire::OpenAi, Turn::text(&["ok"])).await;
    let req = &s.chat_requests()[0];
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.header("authorization"), Some("Bearer oa-test"));
    assert_eq!(req.body["messages"][0], json!({"role": "system", "content": "be brief"}));
    assert_eq!(req.body["stream_options"]["include_usage"], true);
    assert_eq!(req.body["tools"][0]["function"]["name"], "read_file");

    let (s, _) = run_one(Wire::Ollama, Turn::text(&["ok"])).await;
    let req = &s.chat_requests()[0];
    assert_eq!(req.path, "/api/chat");
    assert_eq!(req.body["options"]["num_ctx"], 8192, "num_ctx must be explicit: {}", req.body);
    assert_eq!(req.body["stream"], true);
    assert_eq!(req.body["model"], "llama-test");
    assert_eq!(req.body["tools"][0]["function"]["parameters"]["required"], json!(["path"]));
}

#[tokio::test]
async fn http_errors_are_classified() {
    for wire in WIRES {
        let cases: [(u16, ErrorCheck); 4] = [
            (401, |e| matches!(e, LlmError::Auth { status: 401, .. })),
            (404, |e| matches!(e, LlmError::UnknownModel { .. })),
            (500, |e| matches!(e, LlmError::Http { status: 500, .. }) && e.is_retryable()),
            (529, |e| matches!(e, LlmError::Overloaded { .. }) && e.warrants_fallback()),
        ];
        for (status, check) in cases {
            let (_s, result) = run_one(wire, Turn::status(status, "nope")).await;
            let error = result.err().unwrap_or_else(|| panic!("{wire:?} {status} should fail"));
            assert!(check(&error), "{wire:?} {status}: {error:?}");
            assert!(error.to_string().contains("nope"), "{wire:?} {status}: message kept: {error}");
        }
        let (_s, result) = run_one(wire, Turn::status(429, "slow down").retry_after(2)).await;
        match result {
            Err(LlmError::RateLimited { retry_after, .. }) => {
                assert_eq!(retry_after, Some(Duration::from_secs(2)))
            }
            other => panic!("{wire:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn connection_refused_and_closed_without_answer_are_unreachable() {
    for wire in WIRES {
        let p = provider(wire, &closed_port_url(), Duration::from_secs(1));
        let error = p.start(request(p.model())).await.err().expect("must fail");
        assert!(matches!(error, LlmError::Unreachable { .. }) && error.warrants_fallback(), "{error:?}");
        let (_s, result) = run_one(wire, Turn::close_without_response()).await;
        assert!(matches!(result, Err(LlmError::Unreachable { .. })), "{wire:?}: {result:?}");
    }
}

#[tokio::test]
async fn mid_stream_faults_keep_the_partial_text_and_report_why() {
    for wire in WIRES {
        let (_s, r) = run_one(wire, Turn::text(&["partial ", "reply"]).then_drop()).await;
        let got = r.unwrap();
        assert_eq!(got.text, "partial reply");
        assert!(matches!(got.error, Some(LlmError::Dropped { .. })), "{wire:?} drop: {:?}", got.error);

        let (_s, r) = run_one(wire, Turn::text(&["partial"]).then_malformed()).await;
        let got = r.unwrap();
        assert_eq!(got.text, "partial");
        assert!(matches!(got.error, Some(LlmError::Malformed { .. })), "{wire:?} malformed: {:?}", got.error);

        let (_s, r) =
            run_one(wire, Turn::text(&["partial"]).then_error_event("overloaded_error", "Overloaded")).await;
        let got = r.unwrap();
        assert_eq!(got.text, "partial");
        match got.error {
            Some(LlmError::StreamError { message, .. }) => {
                assert!(message.contains("Overloaded"), "{wire:?}")
            }
            other => panic!("{wire:?} error event: {other:?}"),
        }

        let started = Instant::now();
        let (_s, r) = run_one(wire, Turn::text(&["partial"]).then_stall()).await;
        let got = r.unwrap();
        assert_eq!(got.text, "partial");
        assert!(matches!(got.error, Some(LlmError::Stalled { .. })), "{wire:?} stall: {:?}", got.error);
        assert!(started.elapsed() < Duration::from_secs(30), "a stall must end at the idle timeout");
    }
}

#[tokio::test]
async fn split_reads_non_utf8_bytes_and_long_lines_never_break_the_stream() {
    for wire in WIRES {
        let (_s, r) = run_one(wire, Turn::text(&["héllo ", "✓ done"]).split_writes()).await;
        assert_eq!(r.unwrap().text, "héllo ✓ done", "{wire:?}");

        let (_s, r) = run_one(wire, Turn::text(&["a"]).raw_text_bytes(b"\xff\xfe")).await;
        let got = r.unwrap();
        assert!(got.text.starts_with('a') && got.text.contains('\u{fffd}'), "{wire:?}: {:?}", got.text);
        assert!(got.error.is_none(), "{wire:?}: {:?}", got.error);

        let long = "x".repeat(300_000);
        let (_s, r) = run_one(wire, Turn::text(&["<"]).raw_text_bytes(long.as_bytes())).await;
        assert_eq!(r.unwrap().text.len(), 300_001, "{wire:?}");
    }
}

#[tokio::test]
async fn retries_honour_retry_after_then_succeed() {
    let turns =
        vec![Turn::status(429, "slow").retry_after(1), Turn::status(500, "oops"), Turn::text(&["finally"])];
    let server = ScriptedServer::start(Wire::Anthropic, turns).await;
    let p = provider(Wire::Anthropic, &server.base_url(), Duration::from_secs(2));
    let policy = RetryPolicy { base_delay: Duration::from_millis(10), ..RetryPolicy::default() };
    let mut notices = Vec::new();
    let started = Instant::now();
    let stream =
        start_with_retries(p.as_ref(), &request(p.model()), &policy, |n| notices.push(n)).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "retry-after: 1 was not honoured");
    assert_eq!(collect(stream).await.text, "finally");
    assert_eq!(notices.len(), 2);
    assert_eq!(notices[0].delay, Duration::from_secs(1));
    assert_eq!(server.chat_requests().len(), 3);
}

#[tokio::test]
async fn cancelling_closes_the_stream_at_once() {
    let turn = Turn::text(&["one ", "two ", "three ", "four"]).chunk_delay(Duration::from_millis(300));
    let server = ScriptedServer::start(Wire::OpenAi, vec![turn]).await;
    let p = provider(Wire::OpenAi, &server.base_url(), Duration::from_secs(5));
    let mut stream = p.start(request(p.model())).await.unwrap();
    let first = stream.next().await;
    assert!(matches!(first, Some(Ok(StreamEvent::TextDelta(_)))), "{first:?}");
    drop(stream); // Esc
    // Nothing to read any more; the server side sees the disconnect and stops writing.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(server.chat_requests().len(), 1);
}

#[tokio::test]
async fn models_are_listed_from_each_api() {
    let s = ScriptedServer::start_with_models(Wire::Ollama, vec![], &["qwen2.5-coder:7b", "llama3:8b"]).await;
    let models = provider(Wire::Ollama, &s.base_url(), Duration::from_secs(1)).list_models().await.unwrap();
    assert_eq!(models, vec!["qwen2.5-coder:7b", "llama3:8b"]);
    let s = ScriptedServer::start_with_models(Wire::OpenAi, vec![], &["local-model"]).await;
    let models = provider(Wire::OpenAi, &s.base_url(), Duration::from_secs(1)).list_models().await.unwrap();
    assert_eq!(models, vec!["local-model"]);
}

#[test]
fn missing_keys_for_public_apis_say_what_to_set() {
    let client = http::build_client(Duration::from_secs(1));
    let a = AnthropicProvider::new(
        client.clone(),
        anthropic::DEFAULT_BASE_URL,
        None,
        "m",
        Duration::from_secs(1),
    );
    assert!(a.check_configured().unwrap_err().to_string().contains("ANTHROPIC_API_KEY"));
    let o = OpenAiProvider::new(client, openai::DEFAULT_BASE_URL, None, "m", Duration::from_secs(1));
    assert!(o.check_configured().unwrap_err().to_string().contains("OPENAI_BASE_URL"));
}
