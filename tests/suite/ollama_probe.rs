//! Ollama used to the full, against the scripted Ollama server: `num_ctx` from the model's
//! context length in `/api/show` (bounded by `ollama.max_ctx`, probed once), `keep_alive` passed
//! through, a model without the `tools` capability moved to the text tool protocol, and a
//! missing model's error naming `ollama pull`.

use serde_json::Value;

use super::run_tool::drive;
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::approval::Policy;
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{ApprovalDecision, Event, LogLevel, Op};

fn engine(
    dir: &tempfile::TempDir,
    server: &ScriptedServer,
    model: &str,
    edit: impl FnOnce(&mut Config),
) -> EngineHandle {
    std::fs::create_dir_all(dir.path().join("repo/.git")).unwrap();
    let mut c = Config::default();
    c.llm.primary = ProviderKind::Ollama;
    c.llm.fallback = Fallback::None;
    c.llm.max_retries = 0;
    c.ollama.host = server.base_url();
    c.ollama.model = model.into();
    c.agent.approval = Policy::Ask;
    edit(&mut c);
    spawn(EngineSetup {
        config: c,
        secrets: Secrets { anthropic_api_key: None, openai_api_key: None, github_token: None },
        workspace: dir.path().join("repo"),
        store: Some(kv1nt::engine::store::Store::open(&dir.path().join("home")).unwrap()),
        resume: None,
        preflight: false,
        trust: None,
    })
}

async fn ask(engine: &mut EngineHandle, text: &str) -> Vec<Event> {
    engine.ops.send(Op::Submit { text: text.into(), intent: None }).unwrap();
    drive(engine, |_, _, _| ApprovalDecision::Deny, |_, _| {}, false).await
}

fn shows(server: &ScriptedServer) -> usize {
    server.requests().iter().filter(|r| r.path == "/api/show").count()
}

#[tokio::test]
async fn num_ctx_is_the_models_context_length_probed_once_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let server = ScriptedServer::start(Wire::Ollama, vec![Turn::text(&["one"]), Turn::text(&["two"])]).await;
    let mut e = engine(&dir, &server, "tiny-ctx4096", |c| c.ollama.keep_alive = Some("30m".into()));
    ask(&mut e, "hi").await;
    ask(&mut e, "again").await;
    let bodies: Vec<Value> = server.chat_requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies[0]["options"]["num_ctx"], 4096, "{}", bodies[0]);
    assert_eq!(bodies[1]["options"]["num_ctx"], 4096);
    assert_eq!(bodies[0]["keep_alive"], "30m");
    assert_eq!(shows(&server), 1, "the model is probed once");
    // A 4k window gets the small-model profile: only the core tools.
    assert_eq!(bodies[0]["tools"].as_array().map(Vec::len), Some(6), "{}", bodies[0]["tools"]);

    let dir = tempfile::tempdir().unwrap();
    let server = ScriptedServer::start(Wire::Ollama, vec![Turn::text(&["one"])]).await;
    let mut e = engine(&dir, &server, "huge-ctx131072", |c| {
        c.ollama.max_ctx = 16_384;
        c.ollama.keep_alive = Some("-1".into());
    });
    ask(&mut e, "hi").await;
    let body = server.chat_requests().remove(0).body;
    assert_eq!(body["options"]["num_ctx"], 16_384);
    assert_eq!(body["keep_alive"], -1);
}

#[tokio::test]
async fn a_model_without_tools_gets_the_text_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let server = ScriptedServer::start(Wire::Ollama, vec![Turn::text(&["plain answer"])]).await;
    let mut e = engine(&dir, &server, "base-notools", |_| {});
    ask(&mut e, "hi").await;
    let requests = server.chat_requests();
    assert_eq!(requests.len(), 1, "the refused request never reached the server");
    let body = &requests[0].body;
    assert!(body["tools"].as_array().is_none_or(Vec::is_empty), "{}", body["tools"]);
    assert!(body["messages"][0]["content"].as_str().unwrap().contains("<tool_call>"));
}

#[tokio::test]
async fn a_missing_model_names_the_pull_that_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = ScriptedServer::start(
        Wire::Ollama,
        vec![Turn::status(404, "model 'missing-coder' not found, try pulling it first")],
    )
    .await;
    let mut e = engine(&dir, &server, "missing-coder", |_| {});
    let events = ask(&mut e, "hi").await;
    let told = events.iter().any(|ev| {
        matches!(ev, Event::Notice { level: LogLevel::Error, text } if text.contains("`/pull missing-coder` here"))
    });
    assert!(told, "{events:#?}");
}

/// `/pull NAME` with Ollama as the provider: the server pulls it (`/api/pull`), progress arrives
/// as `PullProgress` summed over the layers, the end as a notice; an unknown model's error line
/// is reported, not taken for success.
#[tokio::test]
async fn slash_pull_asks_ollama_to_pull_with_progress_and_reports_its_error() {
    use kv1nt::engine::protocol::PullProgress;
    let dir = tempfile::tempdir().unwrap();
    let server = ScriptedServer::start(Wire::Ollama, vec![]).await;
    let mut e = engine(&dir, &server, "qwen2.5-coder:7b", |_| {});
    let until_notice = async |e: &mut EngineHandle, reference: &str| {
        e.ops.send(Op::PullModel { reference: reference.into() }).unwrap();
        let mut progress = Vec::new();
        loop {
            let event = tokio::time::timeout(std::time::Duration::from_secs(20), e.events.recv())
                .await
                .unwrap()
                .unwrap();
            match event {
                Event::PullProgress { progress: p, .. } => progress.push(p),
                Event::Notice { level, text } if text.contains("pull") => return (progress, level, text),
                _ => {}
            }
        }
    };
    let (progress, level, text) = until_notice(&mut e, "qwen3:8b").await;
    assert_eq!(
        (level, text.as_str()),
        (LogLevel::Info, "Ollama pulled qwen3:8b (4.0 GB); `/model qwen3:8b` uses it.")
    );
    assert_eq!(
        progress.first(),
        Some(&PullProgress::Started { total: Some(3_000_000_000), resumed_from: 0 })
    );
    assert!(progress.contains(&PullProgress::Verifying { known: true }), "{progress:?}");
    assert!(
        progress.contains(&PullProgress::Bytes { done: 4_000_000_000, total: Some(4_000_000_000) }),
        "the last byte count covers both layers: {progress:?}"
    );
    let pulls: Vec<_> = server.requests().into_iter().filter(|r| r.path == "/api/pull").collect();
    assert_eq!(pulls[0].body["model"], "qwen3:8b");

    let (_, level, text) = until_notice(&mut e, "missing-model:1b").await;
    assert_eq!(level, LogLevel::Error);
    assert!(
        text.contains("Ollama could not pull missing-model:1b: pull model manifest: file does not exist"),
        "{text}"
    );
}
