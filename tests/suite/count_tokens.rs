//! Anthropic's token count before a step near the compaction threshold (`anthropic.count_tokens`):
//! the scripted server counts like a tokenizer of its own (three bytes of JSON a token, the
//! same for `count_tokens` and for the usage a reply reports), and the status bar's context
//! figure (`Event::Context`) for a request is within 10 % of the provider's own count of it with
//! the count, and off by more without it. A request far below the threshold is not counted.

use crate::support::scripted::RecordedRequest;
use crate::support::wire_anthropic::COUNT_BYTES_PER_TOKEN;
use crate::support::{ScriptedServer, Turn, Wire};

use super::compaction::{Session, filler, turn};
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::Event;

const WINDOW: usize = 16_384;

fn engine(session: &Session, base: &str, count_tokens: bool) -> EngineHandle {
    let mut c = Config::default();
    c.llm.primary = ProviderKind::Anthropic;
    c.llm.fallback = Fallback::None;
    c.llm.max_retries = 0;
    c.anthropic.base_url = base.into();
    c.anthropic.context_window = WINDOW;
    c.anthropic.max_tokens = 512;
    c.anthropic.count_tokens = count_tokens;
    c.context.compact_at = 60;
    c.graph.embed = kv1nt::engine::graph::settings::EmbedProvider::None;
    spawn(EngineSetup {
        config: c,
        secrets: Secrets {
            anthropic_api_key: Some("sk-ant".into()),
            openai_api_key: None,
            github_token: None,
        },
        workspace: session.dir.path().join("repo"),
        store: Some(session.store()),
        resume: None,
        preflight: false,
        trust: None,
    })
}

/// The provider's own count of a request (the scripted tokenizer).
fn provider_count(request: &RecordedRequest) -> usize {
    serde_json::to_vec(&request.body).unwrap().len() / COUNT_BYTES_PER_TOKEN
}

/// One turn of `prompt`: the status bar's last context figure, the provider's count of the chat
/// request, and the count requests made.
async fn measure(count_tokens: bool, prompt: &str) -> (usize, usize, Vec<RecordedRequest>) {
    let server = ScriptedServer::start(Wire::Anthropic, vec![Turn::text(&["Done."]).usage_counted(3)]).await;
    let session = Session::new();
    let mut engine = engine(&session, &server.base_url(), count_tokens);
    let events = turn(&mut engine, prompt, |_| panic!("one turn: nothing to compact")).await;
    let shown = events
        .iter()
        .filter_map(|e| if let Event::Context { used_tokens, .. } = e { Some(*used_tokens) } else { None })
        .next_back()
        .expect("a context figure");
    let chat = server.chat_requests();
    assert_eq!(chat.len(), 1);
    let counts = server.requests().into_iter().filter(|r| r.path == "/v1/messages/count_tokens").collect();
    (shown, provider_count(&chat[0]), counts)
}

fn percent(tokens: usize) -> f64 {
    tokens as f64 * 100.0 / WINDOW as f64
}

#[tokio::test]
async fn near_the_threshold_the_count_brings_the_status_bar_within_10_percent_of_the_providers() {
    // About 7,000 raw estimated tokens of prompt: past four fifths of a 60 % threshold.
    let prompt = format!("GOAL {}", filler(5_200));
    let (shown, provider, counts) = measure(true, &prompt).await;
    assert_eq!(counts.len(), 1, "the step was counted once");
    let count = &counts[0];
    assert_eq!(count.header("x-api-key"), Some("sk-ant"));
    assert!(count.header("anthropic-version").is_some());
    assert!(count.body.get("max_tokens").is_none() && count.body.get("stream").is_none());
    assert!(count.body["messages"].to_string().contains("GOAL lorem"), "the request's own messages");
    let error = shown.abs_diff(provider) as f64 / provider as f64;
    eprintln!(
        "with count_tokens: status bar {shown} tokens ({:.1} %), provider {provider} ({:.1} %), off by {:.1} %",
        percent(shown),
        percent(provider),
        error * 100.0
    );
    assert!(error < 0.10, "status bar {shown} vs provider {provider}");

    // Without the count the same request is shown by the raw estimate alone.
    let (shown, provider, counts) = measure(false, &prompt).await;
    assert!(counts.is_empty(), "no count unless configured");
    let error = shown.abs_diff(provider) as f64 / provider as f64;
    eprintln!(
        "without: status bar {shown} tokens ({:.1} %), provider {provider} ({:.1} %), off by {:.1} %",
        percent(shown),
        percent(provider),
        error * 100.0
    );
    assert!(error > 0.10, "the estimate alone is off: {shown} vs {provider}");
}

#[tokio::test]
async fn a_request_far_below_the_threshold_is_not_counted() {
    let (_, _, counts) = measure(true, "hello").await;
    assert!(counts.is_empty(), "{counts:?}");
}
