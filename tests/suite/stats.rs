//! `kv1nt stats`: a scripted session with known verdicts — three edits approved (one undone
//! later), one edited then approved, one denied — yields exactly those rates in `--json`, and
//! the table names the seed's targets; `--since` and the global `--model` filter; bad input is a
//! clear error.

use std::process::Command;
use std::time::Duration;

use super::run_tool::{Fixture, drive};
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::approval::{GateAction, Policy};
use kv1nt::engine::protocol::{ApprovalDecision, Event, Intent, LogLevel, Op};
use kv1nt::engine::sandbox::SandboxMode;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_kv1nt");

fn write(id: &str, path: &str, content: &str) -> Turn {
    Turn::text(&[]).tool_call(id, "write_file", json!({"path": path, "content": content})).usage(100, 10)
}

fn stats(fx: &Fixture, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("stats")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", fx.repo())
        .env("KV1NT_HOME", fx.home())
        .env("XDG_CONFIG_HOME", fx.repo().join(".config-none"))
        .current_dir(fx.repo())
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_scripted_session_yields_exactly_its_rates() {
    let fx = Fixture::new();
    let turns = vec![
        write("w1", "a.rs", "fn a() {}\n"),
        write("w2", "b.rs", "fn b() {}\n"),
        write("w3", "c.py", "x = 1\n"),
        write("w4", "d.rs", "fn d() {}\n"),
        write("w5", "e.rs", "fn e() {}\n"),
        Turn::text(&["Done."]).usage(100, 10),
    ];
    let server = ScriptedServer::start(Wire::OpenAi, turns).await;
    let mut engine = fx.engine(&server.base_url(), Policy::Ask, SandboxMode::Enforce);
    engine.ops.send(Op::Submit { text: "write five".into(), intent: Some(Intent::Generate) }).unwrap();
    drive(
        &mut engine,
        |action, _, _| match action {
            GateAction::Edit { changes } if changes[0].path == "c.py" => {
                ApprovalDecision::ApproveEdited("x = 2\n".into())
            }
            GateAction::Edit { changes } if changes[0].path == "d.rs" => ApprovalDecision::Deny,
            _ => ApprovalDecision::Once,
        },
        |_, _| {},
        false,
    )
    .await;
    engine.ops.send(Op::Undo).unwrap();
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(30), engine.events.recv()).await.unwrap().unwrap();
        match event {
            Event::ApprovalRequest(r) => {
                engine.ops.send(Op::Approve { id: r.id, decision: ApprovalDecision::Once }).unwrap();
            }
            Event::Notice { level: LogLevel::Info, text } if text.starts_with("Restored") => break,
            _ => {}
        }
    }
    assert!(!fx.repo().join("e.rs").exists(), "the last change was undone");
    // `/stats` in the TUI asks the engine the same.
    engine.ops.send(Op::Stats { query: vec!["last tuesday".into()] }).unwrap();
    engine.ops.send(Op::Stats { query: vec!["1d".into(), "generate".into(), "rust".into()] }).unwrap();
    let (mut refused, mut report) = (None, None);
    while report.is_none() {
        match tokio::time::timeout(Duration::from_secs(30), engine.events.recv()).await.unwrap().unwrap() {
            Event::Notice { level: LogLevel::Warn, text } => refused = Some(text),
            Event::Stats(r) => report = Some(r),
            _ => {}
        }
    }
    assert!(refused.unwrap().contains("`last tuesday` is not a span"));
    let report = report.unwrap();
    assert_eq!(
        (report.total.proposals, report.total.accepted),
        (4, 3),
        "the Rust ones: /stats 1d generate rust"
    );
    assert_eq!((report.intent.as_deref(), report.language.as_deref()), (Some("generate"), Some("rust")));
    drop(engine);

    let out = stats(&fx, &["--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let total = &report["total"];
    let figures = |name: &str| total[name].clone();
    assert_eq!(
        [
            figures("proposals"),
            figures("accepted"),
            figures("modified"),
            figures("denied"),
            figures("undone")
        ],
        [json!(5), json!(4), json!(1), json!(1), json!(1)],
        "{report:#}"
    );
    assert_eq!(figures("acceptance"), json!(0.8));
    assert_eq!(figures("modified_rate"), json!(0.25));
    assert_eq!(figures("denial_rate"), json!(0.2));
    assert_eq!(figures("undo_rate"), json!(0.25));
    assert_eq!(figures("tokens_per_accepted"), json!(165.0), "6 replies × 110 tokens over 4 accepted");
    assert_eq!(figures("syntax_first_pass"), json!(1.0), "every proposed file parsed the first time");
    let languages: Vec<&str> =
        report["by_language"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(languages, ["python", "rust"]);
    assert_eq!(report["by_intent"][0]["key"], "generate");
    assert_eq!(report["by_model"].as_array().unwrap().len(), 1);
    let prompts = report["by_prompt"].as_array().unwrap();
    assert_eq!(prompts.len(), 1, "one prompt variant answered: {prompts:?}");
    let key = prompts[0]["key"].as_str().unwrap();
    let (variant, model) = key.split_once(" · ").unwrap();
    assert!(variant.len() == 8 && variant.chars().all(|c| c.is_ascii_hexdigit()), "{key}");
    assert!(model.starts_with("openai/"), "{key}");

    let table = String::from_utf8(stats(&fx, &[]).stdout).unwrap();
    assert!(
        table.contains("acceptance") && table.contains("80 %") && table.contains("target 85 %"),
        "{table}"
    );

    // "Which model for Rust changes here, and how often do I accept them?"
    let rust: Value =
        serde_json::from_slice(&stats(&fx, &["--json", "--intent", "generate", "--language", "Rust"]).stdout)
            .unwrap();
    assert_eq!((rust["total"]["proposals"].clone(), rust["total"]["accepted"].clone()), (json!(4), json!(3)));
    assert_eq!(rust["language"], "rust");
    let table =
        String::from_utf8(stats(&fx, &["--intent", "generate", "--language", "rust"]).stdout).unwrap();
    assert!(table.contains("intent generate, language rust: 4 proposals"), "{table}");

    let other = stats(&fx, &["--json", "--model", "no-such-model"]);
    let report: Value = serde_json::from_slice(&other.stdout).unwrap();
    assert_eq!(report["total"]["proposals"], 0);
    let future: Value =
        serde_json::from_slice(&stats(&fx, &["--json", "--since", "2999-01-01"]).stdout).unwrap();
    assert_eq!(future["total"]["proposals"], 0);
    let bad = stats(&fx, &["--since", "last tuesday"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--since `last tuesday` is not a span"));
}
