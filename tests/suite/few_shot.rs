//! Few-shot examples from the user's accepted edits: a later request like an earlier one
//! carries that request and its accepted diff in the system prompt, within the budget; an
//! unrelated request, a denied edit and `learning.examples = 0` carry none; and
//! `/context` lists what was added.

use std::time::Duration;

use kv1nt::engine::agent::runtime::EngineHandle;
use kv1nt::engine::approval::{GateAction, Policy};
use kv1nt::engine::config::Config;
use kv1nt::engine::protocol::{ApprovalDecision, Event, LogLevel, Op};
use serde_json::json;

use super::checks::Fixture;
use crate::support::{ScriptedServer, Turn, Wire};

fn config(examples: usize, tokens: usize) -> Config {
    let mut config = Config::default();
    config.agent.approval = Policy::Ask;
    config.checks.when = kv1nt::engine::checks::CheckWhen::Off;
    config.learning.examples = examples;
    config.learning.example_tokens = tokens;
    config
}

/// Runs turns until each ended, approving every edit except to `denied.rs`; returns the notices.
async fn turns(engine: &mut EngineHandle, prompts: &[&str]) -> Vec<String> {
    let mut notices = Vec::new();
    for prompt in prompts {
        engine.ops.send(Op::Submit { text: (*prompt).into(), intent: None }).unwrap();
        loop {
            let event =
                tokio::time::timeout(Duration::from_secs(60), engine.events.recv()).await.unwrap().unwrap();
            match event {
                Event::ApprovalRequest(r) => {
                    let deny = matches!(&r.action, GateAction::Edit { changes } if changes[0].path == "src/denied.rs");
                    let decision = if deny { ApprovalDecision::Deny } else { ApprovalDecision::Once };
                    engine.ops.send(Op::Approve { id: r.id, decision }).unwrap();
                }
                Event::Notice { text, .. } => notices.push(text),
                Event::TurnEnded(_) => break,
                _ => {}
            }
        }
    }
    notices
}

fn write(path: &str, content: &str) -> Turn {
    Turn::text(&[]).tool_call("w", "write_file", json!({"path": path, "content": content}))
}

/// One earlier session: an accepted edit for a header parser, a denied one for a footer parser.
async fn history(fx: &Fixture) {
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![
            write(
                "src/header.rs",
                "pub fn parse_header(line: &str) -> Option<&str> {\n    line.strip_prefix('#')\n}\n",
            ),
            Turn::text(&["Done."]),
            write("src/denied.rs", "pub fn parse_footer() {}\n"),
            Turn::text(&["Done."]),
        ],
    )
    .await;
    let mut engine = fx.engine(config(3, 1500), Some(&server.base_url()));
    turns(&mut engine, &["write a parser for config header lines", "write a parser for config footer lines"])
        .await;
}

fn system_of(server: &ScriptedServer, request: usize) -> String {
    server.chat_requests()[request].body["messages"][0]["content"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_similar_request_carries_the_accepted_edit_and_context_lists_it() {
    let fx = Fixture::new();
    history(&fx).await;
    let server = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["ok"]), Turn::text(&["ok"])]).await;
    let mut engine = fx.engine(config(3, 1500), Some(&server.base_url()));
    turns(&mut engine, &["parse the config header of each file"]).await;
    engine.ops.send(Op::Context).unwrap();
    let context = loop {
        match tokio::time::timeout(Duration::from_secs(30), engine.events.recv()).await.unwrap().unwrap() {
            Event::Notice { level: LogLevel::Info, text }
                if text.starts_with("Context of the next request") =>
            {
                break text;
            }
            _ => {}
        }
    };
    turns(&mut engine, &["rename the logging module"]).await;

    let similar = system_of(&server, 0);
    assert!(similar.contains("# Changes the user accepted here before"), "{similar}");
    assert!(similar.contains("## Request: write a parser for config header lines"), "{similar}");
    assert!(similar.contains("+pub fn parse_header(line: &str)"), "{similar}");
    assert!(!similar.contains("parse_footer"), "a denied edit is no example: {similar}");
    assert!(
        context.contains("few-shot examples from your accepted edits: 1")
            && context.contains("\"write a parser for config header lines\" → src/header.rs"),
        "{context}"
    );
    assert!(
        !system_of(&server, 1).contains("Changes the user accepted"),
        "an unrelated request carries none"
    );
}

#[tokio::test]
async fn examples_stay_within_their_budget_and_can_be_turned_off() {
    let fx = Fixture::new();
    history(&fx).await;
    let server = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["ok"]), Turn::text(&["ok"])]).await;
    let mut tight = fx.engine(config(3, 20), Some(&server.base_url()));
    turns(&mut tight, &["parse the config header of each file"]).await;
    drop(tight);
    let mut off = fx.engine(config(0, 1500), Some(&server.base_url()));
    turns(&mut off, &["parse the config header of each file"]).await;
    assert!(!system_of(&server, 0).contains("Changes the user accepted"), "over budget: left out");
    assert!(!system_of(&server, 1).contains("Changes the user accepted"), "learning.examples = 0");
}
