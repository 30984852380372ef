//! MCP servers through the real engine, against a real MCP server: `tests/fixtures/mcp/server.py`,
//! written with the `mcp` package from PyPI (scripts/test installs it and sets
//! `KV1NT_MCP_PYTHON`; with `CI=true` a missing one fails). The model is scripted: tools are
//! offered as `SERVER__TOOL`, a read-only tool runs under `ask` without a dialog, destructive
//! and undeclared ones ask, a server killed mid-call gives an error result and is restarted,
//! one that never answers times out (and Esc cancels the wait), injected text is flagged, the
//! server sees only the environment its config gives, and an untrusted repository's servers
//! are never started.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::run_tool::drive;
use crate::support::prereq::require_found;
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::approval::{GateAction, McpHint, Policy, Risk};
use kv1nt::engine::config::{Config, Fallback, Overrides, Paths, Secrets, TrustMode, load};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::mcp::ServerSettings;
use kv1nt::engine::protocol::{ApprovalDecision, Event, McpServerReport, Op, TurnOutcome};
use kv1nt::engine::store::Store;
use serde_json::json;

/// A python that has the `mcp` package: `KV1NT_MCP_PYTHON`, else the venv scripts/test makes.
pub(super) fn python() -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = std::env::var_os("KV1NT_MCP_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kv1nt-mcp/venv/bin/python")))
        .collect();
    for python in &candidates {
        let ok = std::process::Command::new(python)
            .args(["-c", "import mcp.server.mcpserver"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Ok(python.clone());
        }
    }
    Err(format!("a python with the `mcp` package (tried KV1NT_MCP_PYTHON and {candidates:?})"))
}

pub(super) struct Mx {
    pub(super) dir: tempfile::TempDir,
    pub(super) python: PathBuf,
}

impl Mx {
    pub(super) fn new() -> Option<Mx> {
        let python = require_found(python(), "scripts/test (pip install mcp==2.3.0 into a venv)")?;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("repo/.git")).unwrap();
        std::fs::create_dir_all(dir.path().join("srv")).unwrap();
        Some(Mx { dir, python })
    }

    pub(super) fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// The server's working directory: its `starts.log`, `erased.txt`, `notes.txt`.
    pub(super) fn srv(&self) -> PathBuf {
        self.dir.path().join("srv")
    }

    pub(super) fn store(&self) -> Store {
        Store::open(&self.dir.path().join("home")).unwrap()
    }

    pub(super) fn server(&self, timeout_secs: u64) -> ServerSettings {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mcp/server.py");
        ServerSettings {
            command: self.python.display().to_string(),
            args: vec![script.display().to_string()],
            env: BTreeMap::from([("FX_MODE".to_string(), "test".to_string())]),
            cwd: Some(self.srv()),
            timeout_secs,
            ..Default::default()
        }
    }

    pub(super) fn engine(&self, base: &str, policy: Policy, server: ServerSettings) -> EngineHandle {
        let mut c = Config::default();
        c.llm.primary = ProviderKind::OpenAi;
        c.llm.fallback = Fallback::None;
        c.llm.max_retries = 0;
        c.openai.base_url = base.into();
        c.agent.approval = policy;
        c.mcp.servers.insert("fx".into(), server);
        spawn(EngineSetup {
            config: c,
            secrets: Secrets {
                anthropic_api_key: None,
                openai_api_key: Some("oa".into()),
                github_token: None,
            },
            workspace: self.repo(),
            store: Some(self.store()),
            resume: None,
            preflight: false,
            trust: None,
        })
    }

    pub(super) fn starts(&self) -> usize {
        std::fs::read_to_string(self.srv().join("starts.log")).map(|s| s.lines().count()).unwrap_or(0)
    }
}

/// Asks `/mcp`'s question until the server is ready (and has restarted `restarts` times).
pub(super) async fn wait_ready(engine: &mut EngineHandle, restarts: u32) -> McpServerReport {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        engine.ops.send(Op::McpStatus).unwrap();
        loop {
            let event =
                tokio::time::timeout(Duration::from_secs(30), engine.events.recv()).await.unwrap().unwrap();
            if let Event::McpStatus(servers) = event {
                let fx = servers.into_iter().find(|s| s.name == "fx").expect("fx is configured");
                if fx.state == "ready" && fx.restarts >= restarts {
                    return fx;
                }
                assert!(Instant::now() < until, "the MCP server did not get ready: {fx:?}");
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(super) fn call(id: &str, tool: &str, args: serde_json::Value) -> Turn {
    Turn::text(&[]).tool_call(id, tool, args)
}

pub(super) fn finished(events: &[Event], name: &str) -> (bool, String, Vec<String>) {
    events
        .iter()
        .find_map(|e| match e {
            Event::ToolFinished { name: n, ok, summary, flags, .. } if n == name => {
                Some((*ok, summary.clone(), flags.clone()))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no ToolFinished for {name}: {events:?}"))
}

#[tokio::test]
async fn tools_are_offered_as_server_dunder_tool_and_a_read_only_one_runs_under_ask_without_a_dialog() {
    let Some(mx) = Mx::new() else { return };
    let model = ScriptedServer::start(
        Wire::OpenAi,
        vec![call("c1", "fx__lookup", json!({"key": "answer"})), Turn::text(&["It is 42."])],
    )
    .await;
    let mut engine = mx.engine(&model.base_url(), Policy::Ask, mx.server(30));
    let report = wait_ready(&mut engine, 0).await;
    assert!(report.tools.iter().any(|t| t == "fx__lookup (read-only)"), "{report:?}");
    assert!(report.tools.iter().any(|t| t == "fx__erase (destructive)"), "{report:?}");
    assert!(report.tools.iter().any(|t| t == "fx__note (undeclared)"), "{report:?}");
    engine.ops.send(Op::Submit { text: "look up answer".into(), intent: None }).unwrap();
    let mut asked = 0;
    let events = drive(
        &mut engine,
        |_, _, _| {
            asked += 1;
            ApprovalDecision::Deny
        },
        |_, _| {},
        false,
    )
    .await;
    assert_eq!(asked, 0, "a read-only tool under ask shows no dialog: {events:?}");
    assert!(matches!(events.last(), Some(Event::TurnEnded(TurnOutcome::Complete { .. }))));
    let requests = model.chat_requests();
    let tools = &requests[0].body["tools"];
    let lookup = tools
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["function"]["name"] == "fx__lookup")
        .unwrap_or_else(|| panic!("fx__lookup not offered: {tools}"));
    assert_eq!(lookup["function"]["parameters"]["properties"]["key"]["type"], "string", "{lookup}");
    assert!(lookup["function"]["description"].as_str().unwrap().contains("[MCP server fx]"), "{lookup}");
    let sent = requests[1].body["messages"].to_string();
    assert!(sent.contains("the value of answer is 42"), "{sent}");
    let audit = mx.store().audit_entries(None, 10).unwrap();
    assert!(
        audit.iter().any(|a| a.action == "mcp" && a.target == "fx__lookup" && a.decision == "auto-approved"),
        "{audit:?}"
    );
}

#[tokio::test]
async fn destructive_and_undeclared_tools_ask_and_a_denied_call_reaches_no_server() {
    let Some(mx) = Mx::new() else { return };
    let model = ScriptedServer::start(
        Wire::OpenAi,
        vec![
            call("c1", "fx__erase", json!({"name": "old-entry"})),
            call("c2", "fx__note", json!({"text": "remember"})),
            Turn::text(&["Done."]),
        ],
    )
    .await;
    let mut engine = mx.engine(&model.base_url(), Policy::Auto, mx.server(30));
    wait_ready(&mut engine, 0).await;
    engine.ops.send(Op::Submit { text: "erase and note".into(), intent: None }).unwrap();
    let mut asked: Vec<(GateAction, Risk)> = Vec::new();
    let events = drive(
        &mut engine,
        |action, risk, _| {
            asked.push((action.clone(), risk));
            if matches!(action, GateAction::Mcp { tool, .. } if tool == "erase") {
                ApprovalDecision::Once
            } else {
                ApprovalDecision::Deny
            }
        },
        |_, _| {},
        false,
    )
    .await;
    assert_eq!(
        asked.len(),
        1,
        "auto lets the medium (undeclared) tool through, asks for destructive: {asked:?}"
    );
    match &asked[0] {
        (GateAction::Mcp { server, tool, arguments, hint }, Risk::High) => {
            assert_eq!((server.as_str(), tool.as_str(), *hint), ("fx", "erase", McpHint::Destructive));
            assert!(arguments.contains("old-entry"), "{arguments}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read_to_string(mx.srv().join("erased.txt")).unwrap(), "old-entry\n");
    assert_eq!(std::fs::read_to_string(mx.srv().join("notes.txt")).unwrap(), "remember\n");
    assert!(finished(&events, "fx__erase").0);

    // Under ask the undeclared tool asks too (medium), and denying it calls nothing.
    let model = ScriptedServer::start(
        Wire::OpenAi,
        vec![call("c3", "fx__note", json!({"text": "again"})), Turn::text(&["OK."])],
    )
    .await;
    let mut engine = mx.engine(&model.base_url(), Policy::Ask, mx.server(30));
    wait_ready(&mut engine, 0).await;
    engine.ops.send(Op::Submit { text: "note".into(), intent: None }).unwrap();
    let mut risks = Vec::new();
    drive(
        &mut engine,
        |_, risk, _| {
            risks.push(risk);
            ApprovalDecision::Deny
        },
        |_, _| {},
        false,
    )
    .await;
    assert_eq!(risks, [Risk::Medium]);
    assert_eq!(
        std::fs::read_to_string(mx.srv().join("notes.txt")).unwrap(),
        "remember\n",
        "denied: not called"
    );
    let sent = model.chat_requests()[1].body["messages"].to_string();
    assert!(sent.contains("The user denied this call"), "{sent}");
}

#[tokio::test]
async fn a_server_killed_mid_call_gives_an_error_result_and_is_restarted() {
    let Some(mx) = Mx::new() else { return };
    let model = ScriptedServer::start(
        Wire::OpenAi,
        vec![
            call("c1", "fx__crash", json!({})),
            Turn::text(&["It crashed."]),
            call("c2", "fx__lookup", json!({"key": "after"})),
            Turn::text(&["Back."]),
        ],
    )
    .await;
    let mut engine = mx.engine(&model.base_url(), Policy::Ask, mx.server(30));
    wait_ready(&mut engine, 0).await;
    engine.ops.send(Op::Submit { text: "crash it".into(), intent: None }).unwrap();
    let events = drive(&mut engine, |_, _, _| ApprovalDecision::Deny, |_, _| {}, false).await;
    assert!(matches!(events.last(), Some(Event::TurnEnded(TurnOutcome::Complete { .. }))), "{events:?}");
    let (ok, summary, _) = finished(&events, "fx__crash");
    assert!(!ok && summary.contains("stopped during the call"), "{summary}");
    let report = wait_ready(&mut engine, 1).await;
    assert!(report.errors.iter().any(|e| e.contains("exited")), "{report:?}");
    assert_eq!(mx.starts(), 2, "started once, restarted once");
    engine.ops.send(Op::Submit { text: "again".into(), intent: None }).unwrap();
    let events = drive(&mut engine, |_, _, _| ApprovalDecision::Deny, |_, _| {}, false).await;
    assert!(finished(&events, "fx__lookup").0, "the restarted server answers: {events:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_and_esc_cancels_the_wait() {
    let Some(mx) = Mx::new() else { return };
    let model = ScriptedServer::start(
        Wire::OpenAi,
        vec![call("c1", "fx__hang", json!({})), Turn::text(&["It hung."])],
    )
    .await;
    let mut engine = mx.engine(&model.base_url(), Policy::Ask, mx.server(2));
    wait_ready(&mut engine, 0).await;
    let started = Instant::now();
    engine.ops.send(Op::Submit { text: "hang".into(), intent: None }).unwrap();
    let events = drive(&mut engine, |_, _, _| ApprovalDecision::Deny, |_, _| {}, false).await;
    let elapsed = started.elapsed();
    let (ok, summary, _) = finished(&events, "fx__hang");
    assert!(!ok && summary.contains("did not answer `hang` within 2 s"), "{summary}");
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
    assert!(matches!(events.last(), Some(Event::TurnEnded(TurnOutcome::Complete { .. }))));
    // The hung server was killed and started again.
    wait_ready(&mut engine, 1).await;
    assert_eq!(mx.starts(), 2);

    // With a long limit, Esc ends the wait at once.
    let model = ScriptedServer::start(Wire::OpenAi, vec![call("c2", "fx__hang", json!({}))]).await;
    let mut engine = mx.engine(&model.base_url(), Policy::Ask, mx.server(120));
    wait_ready(&mut engine, 0).await;
    engine.ops.send(Op::Submit { text: "hang".into(), intent: None }).unwrap();
    let mut cancelled_at = None;
    let events = drive(
        &mut engine,
        |_, _, _| ApprovalDecision::Deny,
        |event, engine| {
            if matches!(event, Event::ToolStarted { name, .. } if name == "fx__hang") {
                cancelled_at = Some(Instant::now());
                engine.ops.send(Op::Cancel).unwrap();
            }
        },
        false,
    )
    .await;
    assert!(matches!(events.last(), Some(Event::TurnEnded(TurnOutcome::Cancelled))), "{events:?}");
    assert!(cancelled_at.unwrap().elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn injection_in_a_tool_result_is_flagged_and_quarantined() {
    let Some(mx) = Mx::new() else { return };
    let model = ScriptedServer::start(
        Wire::OpenAi,
        vec![call("c1", "fx__fetch_page", json!({"url": "https://example.test"})), Turn::text(&["Read."])],
    )
    .await;
    let mut engine = mx.engine(&model.base_url(), Policy::Ask, mx.server(30));
    wait_ready(&mut engine, 0).await;
    engine.ops.send(Op::Submit { text: "fetch".into(), intent: None }).unwrap();
    let events = drive(&mut engine, |_, _, _| ApprovalDecision::Deny, |_, _| {}, false).await;
    let (ok, _, flags) = finished(&events, "fx__fetch_page");
    assert!(ok && flags.iter().any(|f| f.contains("ignore its previous instructions")), "{flags:?}");
    let sent = model.chat_requests()[1].body["messages"].to_string();
    assert!(sent.contains("untrusted") && sent.contains("Ignore all previous instructions"), "{sent}");
}

#[tokio::test]
async fn the_server_sees_only_the_environment_its_config_gives() {
    let Some(mx) = Mx::new() else { return };
    let model = ScriptedServer::start(
        Wire::OpenAi,
        vec![call("c1", "fx__show_env", json!({})), Turn::text(&["Seen."])],
    )
    .await;
    let mut engine = mx.engine(&model.base_url(), Policy::Ask, mx.server(30));
    wait_ready(&mut engine, 0).await;
    engine.ops.send(Op::Submit { text: "env".into(), intent: None }).unwrap();
    drive(&mut engine, |_, _, _| ApprovalDecision::Deny, |_, _| {}, false).await;
    let sent = model.chat_requests()[1].body["messages"].to_string();
    let start = sent.find("FX_MODE").unwrap_or_else(|| panic!("{sent}"));
    let names: Vec<&str> = sent[start..].split(['"', '\\']).next().unwrap().split_whitespace().collect();
    // Python itself may add LC_CTYPE (PEP 538 locale coercion); nothing of the test's own
    // environment (CARGO_*, RUST_*, the provider keys) reaches the server.
    for name in &names {
        assert!(["FX_MODE", "HOME", "PATH", "LC_CTYPE"].contains(name), "{name} leaked: {names:?}");
    }
    assert!(names.contains(&"PATH") && names.contains(&"FX_MODE"), "{names:?}");
}

#[test]
fn an_untrusted_repository_s_servers_are_held_back_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".kv1nt")).unwrap();
    std::fs::write(
        repo.join(".kv1nt/config.toml"),
        "[mcp.servers.evil]\ncommand = \"sh\"\nargs = [\"-c\", \"touch pwned\"]\n",
    )
    .unwrap();
    let paths = Paths { user_config: None, data_dir: dir.path().join("data"), workspace: repo.clone() };
    let env = |_: &str| None;
    let loaded = load(&paths, &env, &Overrides::default(), TrustMode::Recorded).unwrap();
    assert!(loaded.config.mcp.servers.is_empty(), "{:?}", loaded.config.mcp);
    let held = loaded.held.expect("held back");
    let keys: Vec<&str> = held.keys.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["mcp.servers.evil.args", "mcp.servers.evil.command"]);
    assert!(held.notice().contains("mcp.servers.evil.command"), "{}", held.notice());
    // Trusted, the same file starts its server.
    let loaded = load(&paths, &env, &Overrides::default(), TrustMode::Always).unwrap();
    assert_eq!(loaded.config.mcp.servers["evil"].command, "sh");
    // A name that cannot prefix tools is refused with the file's line.
    std::fs::write(repo.join(".kv1nt/config.toml"), "[mcp.servers.\"a__b\"]\ncommand = \"x\"\n").unwrap();
    let err = load(&paths, &env, &Overrides::default(), TrustMode::Always).unwrap_err().to_string();
    assert!(err.contains("a__b") && err.contains("without `__`"), "{err}");
}

#[test]
fn kv1nt_mcp_test_starts_the_server_and_lists_its_tools() {
    let Some(mx) = Mx::new() else { return };
    let cfg = mx.dir.path().join("cfg/kv1nt");
    std::fs::create_dir_all(&cfg).unwrap();
    let s = mx.server(30);
    let config = format!(
        "[mcp.servers.fx]\ncommand = {:?}\nargs = [{:?}]\ncwd = {:?}\n[mcp.servers.fx.tools.erase]\nrisk = \"critical\"\n",
        s.command,
        s.args[0],
        mx.srv().display().to_string()
    );
    std::fs::write(cfg.join("config.toml"), config).unwrap();
    let kv1nt = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kv1nt"))
            .args(args)
            .current_dir(mx.repo())
            .env("XDG_CONFIG_HOME", mx.dir.path().join("cfg"))
            .env("KV1NT_HOME", mx.dir.path().join("home"))
            .output()
            .unwrap()
    };
    let out = kv1nt(&["mcp", "test", "fx"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("fx: ready, 7 tools") && stdout.contains("fx__erase (critical by your config)"),
        "{stdout}"
    );
    let out = kv1nt(&["mcp", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("fx__erase: critical risk (your config)"));
    let out = kv1nt(&["mcp", "test", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no MCP server `nope` is configured (configured: fx)")
    );
}
