//! The small-model profile through the real engine over the OpenAI wire: a model whose context
//! window is at most 8,192 tokens gets the short system prompt and only the core tools (another
//! tool only when the request names it); `llm.profile` overrides the choice either way.

use serde_json::Value;

use super::run_tool::drive;
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::{EngineSetup, spawn};
use kv1nt::engine::approval::Policy;
use kv1nt::engine::config::{Config, Fallback, Profile, Secrets};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{ApprovalDecision, Op};

/// The first chat request of a turn asking `prompt`, with `openai.context_window = window`.
async fn first_request(window: usize, profile: Profile, prompt: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("repo/.git")).unwrap();
    let server = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["Done."])]).await;
    let mut c = Config::default();
    c.llm.primary = ProviderKind::OpenAi;
    c.llm.fallback = Fallback::None;
    c.llm.max_retries = 0;
    c.llm.profile = profile;
    c.openai.base_url = server.base_url();
    c.openai.context_window = window;
    c.openai.max_tokens = 512;
    c.agent.approval = Policy::Ask;
    let mut engine = spawn(EngineSetup {
        config: c,
        secrets: Secrets { anthropic_api_key: None, openai_api_key: Some("oa".into()), github_token: None },
        workspace: dir.path().join("repo"),
        store: Some(kv1nt::engine::store::Store::open(&dir.path().join("home")).unwrap()),
        resume: None,
        preflight: false,
        trust: None,
    });
    engine.ops.send(Op::Submit { text: prompt.into(), intent: None }).unwrap();
    drive(&mut engine, |_, _, _| ApprovalDecision::Deny, |_, _| {}, false).await;
    server.chat_requests().remove(0).body
}

fn tool_names(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["function"]["name"].as_str().map(String::from))
        .collect()
}

fn system_len(body: &Value) -> usize {
    body["messages"][0]["content"].as_str().map_or(0, str::len)
}

#[tokio::test]
async fn a_small_window_gets_the_short_prompt_and_the_core_tools() {
    let small = first_request(8_192, Profile::Auto, "why does main fail?").await;
    let full = first_request(32_768, Profile::Auto, "why does main fail?").await;
    assert_eq!(tool_names(&small), ["read_file", "list_dir", "grep", "edit_file", "write_file", "run"]);
    assert!(tool_names(&full).len() > tool_names(&small).len(), "{:?}", tool_names(&full));
    assert!(tool_names(&full).contains(&"ask_user".to_string()));
    assert!(system_len(&small) * 2 < system_len(&full), "{} vs {}", system_len(&small), system_len(&full));
}

#[tokio::test]
async fn a_tool_the_request_names_is_kept_and_the_setting_overrides_the_window() {
    let named = first_request(4_096, Profile::Auto, "Please commit what is staged.").await;
    assert!(tool_names(&named).contains(&"commit".to_string()), "{:?}", tool_names(&named));
    assert!(!tool_names(&named).contains(&"ask_user".to_string()));
    let forced_full = first_request(4_096, Profile::Full, "hi").await;
    assert!(tool_names(&forced_full).contains(&"ask_user".to_string()));
    let forced_small = first_request(200_000, Profile::Small, "hi").await;
    assert_eq!(tool_names(&forced_small).len(), 6, "{:?}", tool_names(&forced_small));
}
