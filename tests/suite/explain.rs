//! `/explain SYMBOL --detail …` in the running engine: the turn's prompt carries the code
//! index's facts about the symbol — its real callers, what it calls, the tests that reach it
//! (directly or through callers) and, beyond `brief`, its source — and a bad `--detail` starts
//! no turn.

use std::path::Path;
use std::time::Duration;

use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{Event, Intent, Op};
use kv1nt::engine::store::Store;

pub(super) fn engine(dir: &Path, base: &str) -> EngineHandle {
    let mut c = Config::default();
    c.llm.primary = ProviderKind::OpenAi;
    c.llm.fallback = Fallback::None;
    c.llm.max_retries = 0;
    c.openai.base_url = base.into();
    c.graph.watch = false;
    spawn(EngineSetup {
        config: c,
        secrets: Secrets::default(),
        workspace: dir.join("repo"),
        store: Some(Store::open(&dir.join("home")).unwrap()),
        resume: None,
        preflight: false,
        trust: None,
    })
}

pub(super) async fn until(engine: &mut EngineHandle, done: impl Fn(&Event) -> bool) -> Vec<Event> {
    let mut seen = Vec::new();
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(60), engine.events.recv()).await.unwrap().unwrap();
        let end = done(&event);
        seen.push(event);
        if end {
            return seen;
        }
    }
}

#[tokio::test]
async fn explain_grounds_the_prompt_in_callers_callees_and_tests() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    super::deps::copy_tree(&super::deps::fixture_path("graph/python"), {
        std::fs::create_dir_all(&repo).unwrap();
        &repo
    });
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("tests")).unwrap();
    std::fs::write(
        repo.join("tests/test_api.py"),
        "from app.api import create_user\n\n\ndef test_create_user():\n    assert create_user(\"a@b.c\")[\"id\"]\n",
    )
    .unwrap();
    let server =
        ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["Brief."]), Turn::text(&["Deep."])]).await;
    let mut engine = engine(dir.path(), &server.base_url());
    until(
        &mut engine,
        |e| matches!(e, Event::Log { text, .. } if text.starts_with("graph: ") && text.contains(" entities")),
    )
    .await;

    let explain = |text: &str| Op::Submit { text: text.into(), intent: Some(Intent::Explain) };
    engine.ops.send(explain("register --detail brief")).unwrap();
    until(&mut engine, |e| matches!(e, Event::TurnEnded(_))).await;
    let prompt = server.chat_requests()[0].body["messages"].to_string();
    assert!(prompt.contains("Explain `register` (detail: brief)"), "{prompt}");
    assert!(prompt.contains("method app.services.UserService.register — app/services.py:16-"), "{prompt}");
    assert!(
        prompt.contains("called by (1)") && prompt.contains("function app.api.create_user — app/api.py"),
        "{prompt}"
    );
    assert!(
        prompt.contains("app.utils.is_valid_email") && prompt.contains("find_by_email"),
        "callees: {prompt}"
    );
    assert!(
        prompt.contains("test_create_user — tests/test_api.py:4-5 (via app.api.create_user)"),
        "the test reaching it through its caller: {prompt}"
    );
    assert!(!prompt.contains("source ("), "brief carries no source: {prompt}");

    engine.ops.send(explain("register --detail deep")).unwrap();
    until(&mut engine, |e| matches!(e, Event::TurnEnded(_))).await;
    let prompt = server.chat_requests()[1].body["messages"].to_string();
    assert!(
        prompt.contains("source (app/services.py:16-")
            && prompt.contains("if not utils.is_valid_email(email)"),
        "{prompt}"
    );
    assert!(prompt.contains("walk through the body step by step"), "{prompt}");

    engine.ops.send(explain("register --detail huge")).unwrap();
    let events = until(&mut engine, |e| matches!(e, Event::Notice { .. } | Event::TurnStarted { .. })).await;
    assert!(
        matches!(events.last(), Some(Event::Notice { text, .. }) if text.contains("brief, normal or deep")),
        "{:?}",
        events.last()
    );
    assert_eq!(server.chat_requests().len(), 2, "no turn for a bad --detail");
}

/// `kv1nt graph stats` counts the public items with and without docs (here: the FastAPI
/// fixture, where private `_key` and `__init__` do not count).
#[test]
fn graph_stats_reports_public_items_without_docs() {
    let fx = super::undo_cli::Fx::new();
    super::deps::copy_tree(&super::deps::fixture_path("graph/python"), fx.repo.path());
    assert!(fx.run(&["index"]).status.success());
    let out = fx.run(&["graph", "stats", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // app/orders.py adds 7: Order, Cart and checkout documented; add_order, first, new_cart and
    // buyer_of not.
    assert_eq!(stats["docs"]["public_items"], 23);
    assert_eq!(stats["docs"]["documented"], 10);
    let undocumented = stats["docs"]["undocumented"].as_array().unwrap();
    assert_eq!(undocumented.len(), 13);
    assert_eq!(undocumented[0], "function app.api.get_user — app/api.py:19");
    assert!(
        !undocumented.iter().any(|u| u.as_str().unwrap().contains("_key")),
        "private items are not counted"
    );
    let text = String::from_utf8_lossy(&fx.run(&["graph", "stats"]).stdout).to_string();
    assert!(text.contains("docs        10 of 23 public items documented (43 %)"), "{text}");
    assert!(
        text.contains("  no doc    method app.repository.UserRepository.add — app/repository.py:21"),
        "{text}"
    );
}
