//! What a session costs: a turn's usage summed over its replies, prompt-cache tokens counted
//! apart, priced from the built-in table (`assets/pricing.toml`), recorded per turn, shown by
//! exec; and the Anthropic requests that make the cache work.

use serde_json::json;

use super::engine::turn_events;
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::llm::{ProviderKind, Usage};
use kv1nt::engine::protocol::{Event, Op, TurnOutcome};
use kv1nt::engine::store::Store;

fn engine(dir: &std::path::Path, base: &str, model: &str) -> EngineHandle {
    let mut c = Config::default();
    c.llm.primary = ProviderKind::Anthropic;
    c.llm.fallback = Fallback::None;
    c.llm.max_retries = 0;
    c.anthropic.base_url = base.into();
    c.anthropic.model = model.into();
    std::fs::create_dir_all(dir.join("repo")).unwrap();
    std::fs::write(dir.join("repo/notes.txt"), "hello\n").unwrap();
    spawn(EngineSetup {
        config: c,
        secrets: Secrets {
            anthropic_api_key: Some("sk-test".into()),
            openai_api_key: None,
            github_token: None,
        },
        workspace: dir.join("repo"),
        store: Some(Store::open(&dir.join("home")).unwrap()),
        resume: None,
        preflight: false,
        trust: None,
    })
}

/// A turn of two replies on a priced model: the first writes the cache, the second reads it.
fn two_replies() -> Vec<Turn> {
    vec![
        Turn::text(&["Looking."])
            .tool_call("c1", "list_dir", json!({"path": "."}))
            .usage(1000, 50)
            .cache(2000, 0),
        Turn::text(&["It holds notes.txt."]).usage(200, 10).cache(0, 2000),
    ]
}

#[tokio::test]
async fn a_turn_s_usage_sums_its_replies_and_prices_cache_tokens_apart() {
    let server = ScriptedServer::start(Wire::Anthropic, two_replies()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut engine = engine(dir.path(), &server.base_url(), "claude-sonnet-4-5-20250929");
    engine.ops.send(Op::Submit { text: "what is here?".into(), intent: None }).unwrap();
    let events = turn_events(&mut engine).await;
    assert!(events.iter().any(|e| matches!(e, Event::TurnEnded(TurnOutcome::Complete { .. }))), "{events:?}");
    let (turn, cost) = events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Usage { turn, cost_usd } => Some((*turn, *cost_usd)),
            _ => None,
        })
        .expect("usage reported");
    // Both replies, not only the last one.
    let want =
        Usage { input_tokens: 1200, output_tokens: 60, cache_write_tokens: 2000, cache_read_tokens: 2000 };
    assert_eq!(turn, want);
    // claude-sonnet-4-5 per million: input $3, output $15, cache writes $3.75, reads $0.30.
    let expected = (1200.0 * 3.0 + 60.0 * 15.0 + 2000.0 * 3.75 + 2000.0 * 0.3) / 1e6;
    let cost = cost.expect("a priced model");
    assert!((cost - expected).abs() < 1e-12, "{cost} vs {expected}");

    // The turn's row holds the same counts, for `kv1nt stats` and `kv1nt sessions`.
    let rows = Store::open(&dir.path().join("home")).unwrap().turn_usage(None).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].usage(), want);

    // The second request marks its new last message (the tool result) as the cache breakpoint.
    let second = &server.chat_requests()[1].body;
    let last = second["messages"].as_array().unwrap().last().unwrap();
    let block = last["content"].as_array().unwrap().last().unwrap();
    assert_eq!(block["type"], "tool_result");
    assert_eq!(block["cache_control"], json!({"type": "ephemeral"}));
}

#[tokio::test]
async fn an_unknown_model_has_no_cost_rather_than_a_zero_one() {
    let server = ScriptedServer::start(Wire::Anthropic, vec![Turn::text(&["hi"]).usage(10, 1)]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut engine = engine(dir.path(), &server.base_url(), "some-private-model");
    engine.ops.send(Op::Submit { text: "hi".into(), intent: None }).unwrap();
    let events = turn_events(&mut engine).await;
    let costs: Vec<Option<f64>> = events
        .iter()
        .filter_map(|e| match e {
            Event::Usage { cost_usd, .. } => Some(*cost_usd),
            _ => None,
        })
        .collect();
    assert!(!costs.is_empty() && costs.iter().all(Option::is_none), "{costs:?}");
}

#[tokio::test]
async fn exec_reports_the_turn_s_cost_and_sessions_lists_what_each_session_cost() {
    let server = ScriptedServer::start(Wire::Anthropic, two_replies()).await;
    let fx = super::undo_cli::Fx::new();
    fx.repo.write("notes.txt", b"hello\n");
    let base = server.base_url();
    let out = tokio::task::spawn_blocking(move || {
        let out = fx
            .kv1nt(&["exec", "--json", "--model", "claude-haiku-4-5", "what is here?"])
            .env("ANTHROPIC_BASE_URL", &base)
            .env("ANTHROPIC_API_KEY", "sk-test")
            .output()
            .unwrap();
        let sessions = fx.run(&["sessions", "--json"]);
        let table = fx.run(&["sessions"]);
        (out, sessions, table)
    })
    .await
    .unwrap();
    let (exec, sessions, table) = out;
    assert!(exec.status.success(), "{}", String::from_utf8_lossy(&exec.stderr));
    // claude-haiku-4-5 per million: input $1, output $5, cache writes $1.25, reads $0.10.
    let expected = (1200.0 * 1.0 + 60.0 * 5.0 + 2000.0 * 1.25 + 2000.0 * 0.1) / 1e6;
    let usage: serde_json::Value = String::from_utf8_lossy(&exec.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
        .find(|l| l["type"] == "usage")
        .expect("a usage line");
    assert_eq!(
        (
            usage["input_tokens"].as_u64(),
            usage["cache_write_tokens"].as_u64(),
            usage["cache_read_tokens"].as_u64()
        ),
        (Some(1200), Some(2000), Some(2000))
    );
    assert!((usage["cost_usd"].as_f64().unwrap() - expected).abs() < 1e-12, "{usage}");

    let line: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&sessions.stdout).lines().next().expect("one session"))
            .unwrap();
    assert!((line["cost_usd"].as_f64().unwrap() - expected).abs() < 1e-12, "{line}");
    assert_eq!(line["usage"]["output_tokens"], 60);
    let table = String::from_utf8_lossy(&table.stdout).to_string();
    assert!(table.contains("COST") && table.contains("$0.0042"), "{table}");
}

#[tokio::test]
async fn thinking_is_requested_shown_and_sent_back_unchanged_with_the_tool_result() {
    let server = ScriptedServer::start(
        Wire::Anthropic,
        vec![
            Turn::text(&["Listing."])
                .thinking(&["The user wants ", "the files; list the root."], "EqQBCgIYAhIM1gbcDa9GJwZA2b3h")
                .tool_call("c1", "list_dir", json!({"path": "."})),
            Turn::text(&["notes.txt"]),
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut engine = engine(dir.path(), &server.base_url(), "claude-sonnet-4-5");
    engine.ops.send(Op::SetThinking(kv1nt::engine::protocol::ThinkingLevel::Low)).unwrap();
    engine.ops.send(Op::Submit { text: "what is here?".into(), intent: None }).unwrap();
    let events = turn_events(&mut engine).await;
    let shown: String = events
        .iter()
        .filter_map(|e| match e {
            Event::ThinkingDelta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(shown, "The user wants the files; list the root.");

    let requests = server.chat_requests();
    let (first, second) = (&requests[0], &requests[1]);
    assert_eq!(first.body["thinking"], json!({"type": "enabled", "budget_tokens": 4096}));
    assert!(first.body.get("temperature").is_none(), "thinking refuses a temperature");
    assert_eq!(first.header("anthropic-beta"), Some("interleaved-thinking-2025-05-14"));
    // The assistant turn goes back with its thinking block first, byte for byte.
    let assistant =
        second.body["messages"].as_array().unwrap().iter().rev().find(|m| m["role"] == "assistant").unwrap();
    assert_eq!(
        assistant["content"][0],
        json!({"type": "thinking", "thinking": "The user wants the files; list the root.",
               "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3h"})
    );
    assert_eq!(assistant["content"][2]["type"], "tool_use");
    // And it is kept in the session: a resumed session sends it back too.
    let store = Store::open(&dir.path().join("home")).unwrap();
    let session = store.list_sessions(1).unwrap().remove(0);
    let kept = store.load_messages(&session.id).unwrap();
    assert!(kept.iter().any(|m| m.message.thinking.iter().any(|t| t.signature.is_some())), "{kept:?}");
}
