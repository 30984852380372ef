//! A model's command through the real engine, sandbox and ledger, judged by the files: what it
//! changes in tracked or new files is asked for like an edit (the dialog lists every file) and
//! reaches the tree only after approval — then `/undo` restores it byte-exactly; denied, it is
//! discarded; git-ignored build output writes through either way. Where copy-on-write is
//! unavailable (`sandbox.mode = "off"`) the effects land at once and No restores them.

use std::path::Path;
use std::time::Duration;

use super::run_tool::{Fixture, drive, run_call};
use crate::support::git::git_in;
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::EngineHandle;
use kv1nt::engine::approval::{GateAction, Policy};
use kv1nt::engine::protocol::{ApprovalDecision, Event, LogLevel, Op};
use kv1nt::engine::sandbox::SandboxMode;
use serde_json::json;

const COMMAND: &str =
    "rm old.txt && printf 'new\\r\\n' > keep.txt && mkdir -p target && echo built > target/out";
const KEEP: &[u8] = b"kept \xff bytes\n";

fn repository(fx: &Fixture) {
    let repo = fx.repo();
    std::fs::remove_dir_all(repo.join(".git")).unwrap();
    std::fs::write(repo.join("keep.txt"), KEEP).unwrap();
    std::fs::write(repo.join("old.txt"), "old\n").unwrap();
    std::fs::write(repo.join(".gitignore"), "target/\n").unwrap();
    git_in(&repo, &["init", "-q", "-b", "main"]);
    git_in(&repo, &["add", "."]);
    git_in(&repo, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "start"]);
}

fn untouched(repo: &Path) -> bool {
    std::fs::read(repo.join("keep.txt")).is_ok_and(|b| b == KEEP) && repo.join("old.txt").exists()
}

/// The paths of an edit-shaped request (the command's change set).
fn edited_paths(action: &GateAction) -> Option<Vec<(String, bool)>> {
    match action {
        GateAction::Edit { changes } => {
            Some(changes.iter().map(|c| (c.path.clone(), c.after.is_none())).collect())
        }
        _ => None,
    }
}

async fn run_and_settle(fx: &Fixture, mode: SandboxMode, settle: ApprovalDecision) -> (EngineHandle, String) {
    repository(fx);
    let turns = vec![run_call(json!({"command": COMMAND})), Turn::text(&["Done."])];
    let server = ScriptedServer::start(Wire::OpenAi, turns).await;
    let mut engine = fx.engine(&server.base_url(), Policy::Ask, mode);
    engine.ops.send(Op::Submit { text: "clean up".into(), intent: None }).unwrap();
    let repo = fx.repo();
    let mut asked = Vec::new();
    drive(
        &mut engine,
        |action, _, _| match edited_paths(action) {
            None => ApprovalDecision::Once,
            Some(paths) => {
                // While the dialog is open, a copy-on-write run has changed nothing yet.
                asked.push((paths, untouched(&repo)));
                settle.clone()
            }
        },
        |_, _| {},
        false,
    )
    .await;
    let expected = vec![("keep.txt".to_string(), false), ("old.txt".to_string(), true)];
    assert_eq!(asked.len(), 1, "one dialog for the command's changes: {asked:?}");
    assert_eq!(asked[0].0, expected, "the dialog lists both changes");
    assert_eq!(asked[0].1, mode != SandboxMode::Off, "copy-on-write keeps the tree untouched until approved");
    assert_eq!(
        std::fs::read_to_string(repo.join("target/out")).unwrap(),
        "built\n",
        "ignored output writes through"
    );
    let sent = server.chat_requests()[1].body["messages"].to_string();
    (engine, sent)
}

/// `/undo`, approved; returns the notice that ends it.
async fn undo(engine: &mut EngineHandle) -> String {
    engine.ops.send(Op::Undo).unwrap();
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(30), engine.events.recv()).await.unwrap().unwrap();
        match event {
            Event::ApprovalRequest(r) => {
                engine.ops.send(Op::Approve { id: r.id, decision: ApprovalDecision::Once }).unwrap();
            }
            Event::Notice { level: LogLevel::Info | LogLevel::Error, text } => return text,
            _ => {}
        }
    }
}

#[tokio::test]
async fn an_approved_command_change_set_is_applied_and_undo_restores_it_byte_exactly() {
    let fx = Fixture::new();
    let (mut engine, sent) = run_and_settle(&fx, SandboxMode::Enforce, ApprovalDecision::Once).await;
    let repo = fx.repo();
    assert_eq!(std::fs::read(repo.join("keep.txt")).unwrap(), b"new\r\n");
    assert!(!repo.join("old.txt").exists());
    assert!(sent.contains("applied as change #"), "the model is told: {sent}");
    let notice = undo(&mut engine).await;
    assert!(notice.starts_with("Restored"), "{notice}");
    assert!(untouched(&repo), "undo restores both files byte-exactly");
    assert_eq!(std::fs::read_to_string(repo.join("target/out")).unwrap(), "built\n");
}

#[tokio::test]
async fn a_denied_command_change_set_never_reaches_the_tree() {
    let fx = Fixture::new();
    let (_engine, sent) = run_and_settle(&fx, SandboxMode::Enforce, ApprovalDecision::Deny).await;
    assert!(untouched(&fx.repo()));
    assert!(sent.contains("were discarded"), "the model is told: {sent}");
    let audit = fx.store().audit_entries(None, 10).unwrap();
    assert!(audit.iter().any(|a| a.action == "edit" && a.decision == "denied"), "audited: {audit:?}");
}

#[tokio::test]
async fn without_copy_on_write_a_denied_change_set_is_restored_and_an_approved_one_undone() {
    let fx = Fixture::new();
    let (_engine, sent) = run_and_settle(&fx, SandboxMode::Off, ApprovalDecision::Deny).await;
    assert!(untouched(&fx.repo()), "No put the files back");
    assert!(sent.contains("restored as they were before the command"), "{sent}");

    let fx = Fixture::new();
    let (mut engine, _) = run_and_settle(&fx, SandboxMode::Off, ApprovalDecision::Once).await;
    assert!(!fx.repo().join("old.txt").exists());
    let notice = undo(&mut engine).await;
    assert!(notice.starts_with("Restored"), "{notice}");
    assert!(untouched(&fx.repo()));
}

/// The scenario end to end: the dialog listed both changes and the user approved them
/// (above, through the engine); then a script's `kv1nt undo --yes` restores both byte-exactly
/// and leaves the ignored `target/` written.
#[tokio::test]
async fn kv1nt_undo_yes_restores_what_an_approved_command_changed() {
    let fx = Fixture::new();
    let (engine, _) = run_and_settle(&fx, SandboxMode::Enforce, ApprovalDecision::Once).await;
    drop(engine);
    let repo = fx.repo();
    assert!(!untouched(&repo));
    let home = repo.parent().unwrap().join("home");
    let undo = std::process::Command::new(env!("CARGO_BIN_EXE_kv1nt"))
        .args(["undo", "--yes"])
        .env("KV1NT_HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .current_dir(&repo)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&undo.stdout).into_owned() + &String::from_utf8_lossy(&undo.stderr);
    assert!(undo.status.success(), "{said}");
    assert!(said.contains("keep.txt") && said.contains("old.txt"), "shows both files: {said}");
    assert!(untouched(&repo), "both files byte-exact: {said}");
    assert_eq!(std::fs::read_to_string(repo.join("target/out")).unwrap(), "built\n");
}
