//! The ledger fails closed, judged from the disk: an edit whose audit row / pre-image cannot be
//! stored (the session database locked by another writer mid-session) is refused and the file
//! is untouched; a multi-file rewind whose second file cannot be restored leaves the first file
//! as it was (all or none) and its changes still undoable.
//!
//! Why a lock: the tests run as root, so permission bits cannot make the database read-only. An
//! exclusive write lock held by another connection (as a second kv1nt or a stuck sqlite3 shell
//! would) makes every write of the engine fail for real after its busy timeout, root or not.

use std::path::PathBuf;
use std::time::Duration;

use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::approval::Policy;
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{ApprovalDecision, Event, LogLevel, Op};
use kv1nt::engine::store::{Store, open_connection};
use serde_json::json;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("repo/.git")).unwrap();
        std::fs::create_dir_all(dir.path().join("repo/sub")).unwrap();
        std::fs::write(dir.path().join("repo/a.txt"), "A0\r\n").unwrap();
        std::fs::write(dir.path().join("repo/sub/b.txt"), "B0\n").unwrap();
        Self { dir }
    }

    fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.repo().join(rel)).unwrap_or_else(|_| "<missing>".into())
    }

    fn engine(&self, base: &str) -> EngineHandle {
        let mut c = Config::default();
        c.llm.primary = ProviderKind::OpenAi;
        c.llm.fallback = Fallback::None;
        c.llm.max_retries = 0;
        c.openai.base_url = base.into();
        c.agent.approval = Policy::Ask;
        spawn(EngineSetup {
            config: c,
            secrets: Secrets {
                anthropic_api_key: None,
                openai_api_key: Some("oa".into()),
                github_token: None,
            },
            workspace: self.repo(),
            store: Some(Store::open(&self.home()).unwrap()),
            resume: None,
            preflight: false,
            trust: None,
        })
    }
}

fn write(path: &str, content: &str) -> serde_json::Value {
    json!({"path": path, "content": content})
}

/// Every event until `stop`, approving every request (after `on_ask`).
async fn until(
    engine: &mut EngineHandle,
    mut on_ask: impl FnMut(),
    stop: impl Fn(&Event) -> bool,
) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(60), engine.events.recv())
            .await
            .expect("engine hung")
            .expect("engine stopped");
        if let Event::ApprovalRequest(r) = &event {
            on_ask();
            engine.ops.send(Op::Approve { id: r.id, decision: ApprovalDecision::Once }).unwrap();
        }
        let done = stop(&event);
        events.push(event);
        if done {
            return events;
        }
    }
}

fn turn_ended(e: &Event) -> bool {
    matches!(e, Event::TurnEnded(_))
}

fn errors(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Notice { level: LogLevel::Error, text } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn an_edit_is_refused_when_the_session_database_stops_taking_writes() {
    let fx = Fixture::new();
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![
            Turn::text(&["Hello."]),
            Turn::text(&[]).tool_call("w", "write_file", write("a.txt", "A1\n")),
            Turn::text(&["Done."]),
        ],
    )
    .await;
    let mut engine = fx.engine(&server.base_url());
    engine.ops.send(Op::Submit { text: "hi".into(), intent: None }).unwrap();
    until(&mut engine, || {}, turn_ended).await;

    let locker = open_connection(&fx.home().join("kv1nt.db")).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    engine.ops.send(Op::Submit { text: "write a.txt".into(), intent: None }).unwrap();
    let events = until(&mut engine, || {}, turn_ended).await;
    assert_eq!(fx.read("a.txt"), "A0\r\n", "the file is untouched");
    let finished = events.iter().find_map(|e| match e {
        Event::ToolFinished { ok, summary, .. } => Some((*ok, summary.clone())),
        _ => None,
    });
    let (ok, summary) = finished.expect("the write was answered");
    assert!(!ok && summary.contains("could not be written"), "{summary}");
    assert!(
        errors(&events).iter().any(|t| t.contains("audit log")),
        "the user is told: {:?}",
        errors(&events)
    );
    locker.execute_batch("ROLLBACK").unwrap();
}

#[tokio::test]
async fn a_rewind_that_cannot_restore_every_file_restores_none() {
    let fx = Fixture::new();
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![
            Turn::text(&[]).tool_call("w1", "write_file", write("sub/b.txt", "B1\n")).tool_call(
                "w2",
                "write_file",
                write("a.txt", "A1\n"),
            ),
            Turn::text(&["Done."]),
        ],
    )
    .await;
    let mut engine = fx.engine(&server.base_url());
    engine.ops.send(Op::Submit { text: "write both".into(), intent: None }).unwrap();
    until(&mut engine, || {}, turn_ended).await;
    assert_eq!((fx.read("a.txt"), fx.read("sub/b.txt")), ("A1\r\n".into(), "B1\n".into()));

    // The rewind restores a.txt (the newer change) first, then sub/b.txt. While it is shown,
    // sub/ becomes a file: b.txt cannot be restored.
    let repo = fx.repo();
    engine.ops.send(Op::Rewind { to: Some(0) }).unwrap();
    let sabotage = || {
        std::fs::remove_dir_all(repo.join("sub")).unwrap();
        std::fs::write(repo.join("sub"), "not a directory\n").unwrap();
    };
    let stop = |e: &Event| matches!(e, Event::Notice { text, .. } if text.contains("estored"));
    let events = until(&mut engine, sabotage, stop).await;
    assert!(errors(&events).iter().any(|t| t.starts_with("Nothing was restored")), "{events:?}");
    assert_eq!(fx.read("a.txt"), "A1\r\n", "the first file was not restored alone");
    let names: Vec<String> = std::fs::read_dir(fx.repo())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("kv1nt")), "no temp files left: {names:?}");

    // Put sub/ back: the same rewind now restores both, byte-exactly.
    std::fs::remove_file(fx.repo().join("sub")).unwrap();
    std::fs::create_dir(fx.repo().join("sub")).unwrap();
    std::fs::write(fx.repo().join("sub/b.txt"), "B1\n").unwrap();
    engine.ops.send(Op::Rewind { to: Some(0) }).unwrap();
    let events = until(&mut engine, || {}, stop).await;
    assert!(errors(&events).is_empty(), "{events:?}");
    assert_eq!((fx.read("a.txt"), fx.read("sub/b.txt")), ("A0\r\n".into(), "B0\n".into()));
}
