//! MCP prompts and resources, against the fixture server (`tests/fixtures/mcp/server.py`):
//! `/mcp` lists them; `/SERVER:PROMPT key=value …` (an `Op::McpPrompt`, in the TUI and
//! `kv1nt exec`) sends the prompt's messages as the turn, and arguments the prompt does not
//! declare (or a missing required one) end it with a clear message before the model is asked.
//! `kv1nt exec --json` reports the server's activity.

use std::time::Duration;

use super::mcp::{Mx, wait_ready};
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::approval::Policy;
use kv1nt::engine::protocol::{Event, Op, TurnOutcome};

async fn until_turn_ends(engine: &mut kv1nt::engine::agent::runtime::EngineHandle) -> TurnOutcome {
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(60), engine.events.recv()).await.unwrap().unwrap();
        if let Event::TurnEnded(outcome) = event {
            return outcome;
        }
    }
}

#[tokio::test]
async fn a_prompt_becomes_the_turn_and_undeclared_arguments_are_refused() {
    let Some(mx) = Mx::new() else { return };
    let model = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["Reviewed."])]).await;
    let mut engine = mx.engine(&model.base_url(), Policy::Ask, mx.server(30));
    let report = wait_ready(&mut engine, 0).await;
    assert_eq!(report.prompts, ["/fx:review path=… [focus=…] — Review a file."], "{report:?}");
    assert_eq!(report.resources, ["fixture://readme (readme)"], "{report:?}");

    let op = Op::McpPrompt { server: "fx".into(), prompt: "review".into(), args: "path=src/a.rs".into() };
    engine.ops.send(op).unwrap();
    assert!(matches!(until_turn_ends(&mut engine).await, TurnOutcome::Complete { .. }));
    let sent = model.chat_requests()[0].body["messages"].to_string();
    assert!(sent.contains("Review src/a.rs and look for bugs."), "{sent}");

    let op = Op::McpPrompt { server: "fx".into(), prompt: "review".into(), args: "colour=red".into() };
    engine.ops.send(op).unwrap();
    match until_turn_ends(&mut engine).await {
        TurnOutcome::Failed { reason } => assert_eq!(
            reason,
            "/fx:review: it takes no colour; path missing; usage: /fx:review path=… [focus=…] — Review a file."
        ),
        other => panic!("{other:?}"),
    }
    let op = Op::McpPrompt { server: "fx".into(), prompt: "nope".into(), args: String::new() };
    engine.ops.send(op).unwrap();
    match until_turn_ends(&mut engine).await {
        TurnOutcome::Failed { reason } => {
            assert_eq!(reason, "the MCP server `fx` has no prompt `nope` (its prompts: review)")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(model.chat_requests().len(), 1, "refused prompts never reach the model");
}

#[tokio::test]
async fn kv1nt_exec_runs_a_prompt_and_reports_mcp_activity_as_json() {
    let Some(mx) = Mx::new() else { return };
    let fx = super::undo_cli::Fx::new();
    let s = mx.server(30);
    let config = format!(
        "[mcp.servers.fx]\ncommand = {:?}\nargs = [{:?}]\ncwd = {:?}\n",
        s.command,
        s.args[0],
        mx.srv().display().to_string()
    );
    let cfg = fx.home.path().join("config/kv1nt");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(cfg.join("config.toml"), config).unwrap();
    let model = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["Looks fine."])]).await;
    let exec = |prompt: &str| {
        let mut cmd = fx.kv1nt(&["exec", "--json", prompt]);
        cmd.env("OPENAI_BASE_URL", model.base_url())
            .env("KV1NT_PROVIDER", "openai")
            .env("OPENAI_API_KEY", "k");
        cmd
    };
    let mut cmd = exec("/fx:review path=lib.rs focus=\"error handling\"");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let mcp: Vec<(&str, &str)> = lines
        .iter()
        .filter(|l| l["type"] == "mcp")
        .map(|l| (l["server"].as_str().unwrap(), l["what"].as_str().unwrap()))
        .collect();
    assert!(mcp.contains(&("fx", "starting")) && mcp.contains(&("fx", "ready")), "{mcp:?}");
    assert!(mcp.contains(&("fx", "prompt review")), "{mcp:?}");
    let ready = lines.iter().find(|l| l["type"] == "mcp" && l["what"] == "ready").unwrap();
    assert_eq!((ready["up"].as_u64(), ready["total"].as_u64()), (Some(1), Some(1)), "{ready}");
    let sent = model.chat_requests()[0].body["messages"].to_string();
    assert!(sent.contains("Review lib.rs and look for error handling."), "{sent}");

    let mut cmd = exec("/fx:review");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("/fx:review: path missing"), "{stderr}");
    assert_eq!(model.chat_requests().len(), 1);
}
