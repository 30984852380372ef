//! `/fix` and `/review` through the real engine against a scripted model: `/fix` sends the last
//! failed run (or pasted text) with the fix instructions, and with nothing to fix starts no
//! turn; `/review` sends the staged diff (or the branch against its base) and offers no tool
//! that changes anything; `kv1nt exec "/review"` does the same headless.

use std::time::Duration;

use super::run_tool::{Fixture, drive, run_call};
use crate::support::git::git_in;
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::EngineHandle;
use kv1nt::engine::approval::Policy;
use kv1nt::engine::protocol::{ApprovalDecision, Event, Intent, Op, TurnOutcome};
use kv1nt::engine::sandbox::SandboxMode;
use serde_json::json;

async fn until_turn_ends(engine: &mut EngineHandle) -> Vec<Event> {
    drive(engine, |_, _, _| ApprovalDecision::Once, |_, _| {}, false).await
}

fn tool_names(body: &serde_json::Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["function"]["name"].as_str().map(String::from)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn fix_sends_the_last_failed_run_and_asks_for_the_cause_first() {
    let fx = Fixture::new();
    let turns = vec![
        run_call(json!({"command": "echo 'error[E0308]: mismatched types at src/lib.rs:3' >&2; exit 101"})),
        Turn::text(&["It failed."]),
        Turn::text(&["The cause is…"]),
    ];
    let server = ScriptedServer::start(Wire::OpenAi, turns).await;
    let mut engine = fx.engine(&server.base_url(), Policy::Ask, SandboxMode::Enforce);
    engine.ops.send(Op::Submit { text: "build it".into(), intent: None }).unwrap();
    until_turn_ends(&mut engine).await;
    engine.ops.send(Op::Submit { text: String::new(), intent: Some(Intent::Fix) }).unwrap();
    until_turn_ends(&mut engine).await;
    let body = &server.chat_requests()[2].body;
    let sent = body["messages"].to_string();
    assert!(
        sent.contains("Fix this failure") && sent.contains("mismatched types") && sent.contains("exit 101"),
        "{sent}"
    );
    assert!(sent.contains("what causes it"), "the fix instructions are in the system prompt: {sent}");
    assert!(tool_names(body).contains(&"edit_file".to_string()));
}

#[tokio::test]
async fn fix_with_nothing_failed_starts_no_turn_and_says_why() {
    let fx = Fixture::new();
    let server = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["unused"])]).await;
    let mut engine = fx.engine(&server.base_url(), Policy::Ask, SandboxMode::Enforce);
    engine.ops.send(Op::Submit { text: " ".into(), intent: Some(Intent::Fix) }).unwrap();
    let events = until_turn_ends(&mut engine).await;
    assert!(
        events.iter().any(|e| matches!(e, Event::Notice { text, .. } if text.starts_with("Nothing to fix"))),
        "{events:?}"
    );
    assert!(matches!(events.last(), Some(Event::TurnEnded(TurnOutcome::Failed { .. }))));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(server.chat_requests().is_empty(), "no request reached the model");
}

fn staged_repository(fx: &Fixture) {
    let repo = fx.repo();
    std::fs::remove_dir_all(repo.join(".git")).unwrap();
    git_in(&repo, &["init", "-q", "-b", "main"]);
    git_in(&repo, &["add", "."]);
    git_in(&repo, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "start"]);
    std::fs::write(repo.join("calc.py"), "def add(a, b):\n    return a - b\n").unwrap();
    git_in(&repo, &["add", "calc.py"]);
}

#[tokio::test]
async fn review_sends_the_staged_diff_with_read_only_tools() {
    let fx = Fixture::new();
    staged_repository(&fx);
    let server =
        ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["- **error** `calc.py:2` — subtracts."])])
            .await;
    let mut engine = fx.engine(&server.base_url(), Policy::Auto, SandboxMode::Enforce);
    engine.ops.send(Op::Submit { text: String::new(), intent: Some(Intent::Review) }).unwrap();
    until_turn_ends(&mut engine).await;
    let body = &server.chat_requests()[0].body;
    let sent = body["messages"].to_string();
    assert!(sent.contains("Review the staged changes") && sent.contains("+    return a - b"), "{sent}");
    let tools = tool_names(body);
    assert!(tools.contains(&"read_file".to_string()), "{tools:?}");
    for mutating in ["edit_file", "write_file", "run", "commit"] {
        assert!(!tools.contains(&mutating.to_string()), "{mutating} offered in a review: {tools:?}");
    }
}

#[tokio::test]
async fn exec_review_runs_the_review_headless() {
    let fx = super::undo_cli::Fx::new();
    fx.repo.write("calc.py", "def add(a, b):\n    return a + b\n");
    fx.repo.commit_all("start");
    fx.repo.write("calc.py", "def add(a, b):\n    return a - b\n");
    fx.repo.git(&["add", "calc.py"]);
    let server =
        ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["- **error** `calc.py:2` — subtracts."])])
            .await;
    let mut cmd = fx.kv1nt(&["exec", "/review focus on arithmetic"]);
    cmd.env("OPENAI_BASE_URL", server.base_url()).env("KV1NT_PROVIDER", "openai").env("OPENAI_API_KEY", "k");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("calc.py:2"));
    let sent = server.chat_requests()[0].body["messages"].to_string();
    assert!(sent.contains("Focus: focus on arithmetic") && sent.contains("-    return a + b"), "{sent}");
}

#[tokio::test]
async fn exec_fix_takes_pasted_error_text_headless() {
    let fx = super::undo_cli::Fx::new();
    fx.repo.write("calc.py", "def add(a, b):\n    return a - b\n");
    fx.repo.commit_all("start");
    let server =
        ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["The cause: `add` subtracts."])]).await;
    let pasted = "/fix AssertionError: assert add(1, 2) == 3 (got -1)";
    let mut cmd = fx.kv1nt(&["exec", pasted]);
    cmd.env("OPENAI_BASE_URL", server.base_url()).env("KV1NT_PROVIDER", "openai").env("OPENAI_API_KEY", "k");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("The cause: `add` subtracts."));
    let request = &server.chat_requests()[0].body;
    let sent = request["messages"].to_string();
    assert!(sent.contains("Fix this failure.") && sent.contains("assert add(1, 2) == 3 (got -1)"), "{sent}");
    let user = request["messages"][1]["content"].as_str().unwrap();
    assert!(!user.contains("/fix"), "the slash command is the intent, not text: {user}");
    let system = request["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("what causes it"), "the fix template asks for the cause first: {system}");
}
