//! What the learning layer records can be turned off and deleted: with `learning.enabled =
//! false` a session records no proposal outcomes or token counts; `kv1nt forget` deletes this
//! workspace's records only after asking (or with `--yes`), keeps other workspaces' unless
//! `--all`, and keeps the sessions themselves.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use kv1nt::engine::config::Config;
use kv1nt::engine::protocol::{ApprovalDecision, Event, Op};
use kv1nt::engine::store::Store;
use serde_json::json;

use super::checks::Fixture;
use crate::support::{ScriptedServer, Turn, Wire};

const BIN: &str = env!("CARGO_BIN_EXE_kv1nt");

fn kv1nt(fx: &Fixture, dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", fx.repo())
        .env("KV1NT_HOME", fx.home())
        .env("XDG_CONFIG_HOME", fx.repo().join(".config-none"))
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// One turn writing two files, both approved, in `fx`'s repository.
async fn session(fx: &Fixture, learning: bool) {
    let write = |id: &str, path: &str| {
        Turn::text(&[])
            .tool_call(id, "write_file", json!({"path": path, "content": "x = 1\n"}))
            .usage(100, 10)
    };
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![write("a", "a.py"), write("b", "b.py"), Turn::text(&["Done."]).usage(100, 10)],
    )
    .await;
    let mut config = Config::default();
    config.agent.approval = kv1nt::engine::approval::Policy::Ask;
    config.checks.when = kv1nt::engine::checks::CheckWhen::Off;
    config.learning.enabled = learning;
    let mut engine = fx.engine(config, Some(&server.base_url()));
    engine.ops.send(Op::Submit { text: "write two".into(), intent: None }).unwrap();
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(60), engine.events.recv()).await.unwrap().unwrap();
        match event {
            Event::ApprovalRequest(r) => {
                engine.ops.send(Op::Approve { id: r.id, decision: ApprovalDecision::Once }).unwrap();
            }
            Event::TurnEnded(_) => break,
            _ => {}
        }
    }
    assert!(fx.repo().join("b.py").exists());
}

#[tokio::test]
async fn forget_asks_then_deletes_this_workspaces_records_only() {
    let fx = Fixture::new();
    session(&fx, true).await;
    let store = Store::open(&fx.home()).unwrap();
    assert_eq!(store.proposals(None).unwrap().len(), 2);

    let refused = kv1nt(&fx, &fx.repo(), &["forget"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("2 proposal outcomes and the token counts of 1 turn"),
        "{}",
        text(&refused)
    );
    assert!(text(&refused).contains("pass --yes"), "{}", text(&refused));
    assert_eq!(store.proposals(None).unwrap().len(), 2, "nothing deleted without an answer");

    let elsewhere = fx.repo().parent().unwrap().join("elsewhere");
    std::fs::create_dir_all(elsewhere.join(".git")).unwrap();
    let other = kv1nt(&fx, &elsewhere, &["forget", "--yes"]);
    assert!(other.status.success(), "{}", text(&other));
    assert!(text(&other).contains("Nothing to forget"), "{}", text(&other));
    assert_eq!(store.proposals(None).unwrap().len(), 2, "another workspace's records are kept");

    let done = kv1nt(&fx, &fx.repo(), &["forget", "--yes"]);
    assert!(done.status.success(), "{}", text(&done));
    assert!(
        text(&done).contains("Deleted 2 proposal outcomes and the token counts of 1 turn."),
        "{}",
        text(&done)
    );
    assert!(store.proposals(None).unwrap().is_empty());
    assert!(store.turn_usage(None).unwrap().is_empty());
    assert_eq!(store.list_sessions(10).unwrap().len(), 1, "the session itself is kept");
    let stats: serde_json::Value =
        serde_json::from_slice(&kv1nt(&fx, &fx.repo(), &["stats", "--json"]).stdout).unwrap();
    assert_eq!(stats["total"]["proposals"], 0);
}

#[tokio::test]
async fn with_learning_off_nothing_is_recorded() {
    let fx = Fixture::new();
    session(&fx, false).await;
    let store = Store::open(&fx.home()).unwrap();
    assert!(store.proposals(None).unwrap().is_empty());
    assert!(store.turn_usage(None).unwrap().is_empty());
    assert!(!store.audit_entries(None, 10).unwrap().is_empty(), "the audit log is not a learning record");
}
