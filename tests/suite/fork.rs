//! `/fork` over a scripted model: a fork before prompt 2 sends turn 1 and the new prompt only,
//! switches the engine to a new stored session at once, leaves the parent as it was, is listed
//! with its parent by `kv1nt sessions` and resumes with `--resume`; a bad N or an unstored
//! session is a notice that changes nothing.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::scripted::RecordedRequest;
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{Event, Forked, HistoryEntry, LogLevel, Op};
use kv1nt::engine::store::{SessionInfo, Store};

fn engine(
    dir: &std::path::Path,
    base: &str,
    store: Option<Store>,
    resume: Option<SessionInfo>,
) -> EngineHandle {
    let mut c = Config::default();
    c.llm.primary = ProviderKind::OpenAi;
    c.llm.fallback = Fallback::None;
    c.llm.max_retries = 0;
    c.openai.base_url = base.into();
    c.graph.embed = kv1nt::engine::graph::settings::EmbedProvider::None;
    std::fs::create_dir_all(dir.join("repo/.git")).unwrap();
    spawn(EngineSetup {
        config: c,
        secrets: Secrets { anthropic_api_key: None, openai_api_key: Some("oa".into()), github_token: None },
        workspace: dir.join("repo"),
        store,
        resume,
        preflight: false,
        trust: None,
    })
}

async fn next(engine: &mut EngineHandle) -> Event {
    tokio::time::timeout(Duration::from_secs(30), engine.events.recv())
        .await
        .expect("engine hung")
        .expect("engine stopped")
}

/// The first event `pick` accepts.
async fn until<T>(engine: &mut EngineHandle, mut pick: impl FnMut(Event) -> Option<T>) -> T {
    loop {
        if let Some(found) = pick(next(engine).await) {
            return found;
        }
    }
}

/// Sends a prompt and waits for the turn's end; returns the number the engine gave the prompt.
async fn turn(engine: &mut EngineHandle, text: &str) -> usize {
    engine.ops.send(Op::Submit { text: text.into(), intent: None }).unwrap();
    let mut number = None;
    loop {
        match next(engine).await {
            Event::PromptRecorded { number: n, .. } => number = Some(n),
            Event::TurnEnded(_) => return number.expect("the prompt was numbered"),
            _ => {}
        }
    }
}

async fn notice(engine: &mut EngineHandle) -> String {
    until(engine, |e| match e {
        Event::Notice { level: LogLevel::Warn | LogLevel::Info, text } => Some(text),
        _ => None,
    })
    .await
}

async fn session_ready(engine: &mut EngineHandle) -> (Option<String>, Vec<HistoryEntry>, Option<Forked>) {
    until(engine, |e| match e {
        Event::SessionReady { session_id, history, forked, .. } => Some((session_id, history, forked)),
        _ => None,
    })
    .await
}

/// The user and assistant texts a chat request carried (system prompt left out).
fn conversation(request: &RecordedRequest) -> Vec<String> {
    request.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] != "system")
        .map(|m| m["content"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn texts(store: &Store, id: &str) -> Vec<String> {
    store.load_messages(id).unwrap().into_iter().map(|m| m.message.text).collect()
}

#[tokio::test]
async fn a_fork_before_prompt_2_sends_turn_1_and_the_new_prompt_and_leaves_the_parent() {
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![
            Turn::text(&["REPLY-ONE"]),
            Turn::text(&["REPLY-TWO"]),
            Turn::text(&["REPLY-B"]),
            Turn::text(&["REPLY-C"]),
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut e = engine(dir.path(), &server.base_url(), Some(Store::open(&home).unwrap()), None);
    session_ready(&mut e).await;
    e.ops.send(Op::Fork { before_prompt: None }).unwrap();
    assert!(notice(&mut e).await.contains("Nothing to fork yet"));

    assert_eq!(turn(&mut e, "PROMPT-ONE: use tabs").await, 1);
    assert_eq!(turn(&mut e, "PROMPT-TWO: now rename it").await, 2);
    let store = Store::open(&home).unwrap();
    let parent = store.resolve_session("last").unwrap();

    for (n, says) in [(0, "numbered from 1"), (3, "has 2 prompts")] {
        e.ops.send(Op::Fork { before_prompt: Some(n) }).unwrap();
        let text = notice(&mut e).await;
        assert!(text.contains(says), "/fork {n}: {text}");
    }
    assert_eq!(store.list_sessions(10).unwrap().len(), 1, "a bad N made no session");

    e.ops.send(Op::Fork { before_prompt: Some(2) }).unwrap();
    let (id, history, forked) = session_ready(&mut e).await;
    let forked = forked.expect("the SessionReady of a fork says so");
    assert_eq!(forked.parent_id, parent.id);
    assert_eq!(
        (forked.before_prompt, forked.prompt.as_deref()),
        (Some(2), Some("PROMPT-TWO: now rename it"))
    );
    let shown: Vec<&str> = history.iter().map(|h| h.message.text.as_str()).collect();
    assert_eq!(shown, ["PROMPT-ONE: use tabs", "REPLY-ONE"]);
    let fork_id = id.expect("the fork is stored");
    assert_ne!(fork_id, parent.id);

    assert_eq!(turn(&mut e, "PROMPT-TWO-B: rename it to parse").await, 2, "the fork's second prompt");
    let last = server.chat_requests().pop().unwrap();
    assert_eq!(
        conversation(&last),
        ["PROMPT-ONE: use tabs", "REPLY-ONE", "PROMPT-TWO-B: rename it to parse"]
    );

    // The parent is as it was; the fork holds turn 1 and its own turn.
    assert_eq!(
        texts(&store, &parent.id),
        ["PROMPT-ONE: use tabs", "REPLY-ONE", "PROMPT-TWO: now rename it", "REPLY-TWO"]
    );
    assert_eq!(
        texts(&store, &fork_id),
        ["PROMPT-ONE: use tabs", "REPLY-ONE", "PROMPT-TWO-B: rename it to parse", "REPLY-B"]
    );
    let info = store.resolve_session(&fork_id).unwrap();
    assert_eq!((info.parent_id.as_deref(), info.forked_at), (Some(parent.id.as_str()), Some(2)));
    e.ops.send(Op::Shutdown).unwrap();
    let _ = e.task.await;

    // `kv1nt sessions` lists the fork with its parent, as a table and as JSON.
    let sessions = |json: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kv1nt"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("KV1NT_HOME", &home)
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .current_dir(dir.path())
            .arg("sessions")
            .stdin(Stdio::null());
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let table = sessions(false);
    let row = table.lines().find(|l| l.starts_with(&fork_id)).expect(&table);
    assert!(row.contains(&format!("fork of {}, from its first 2 messages", parent.id)), "{table}");
    let json = sessions(true);
    let line: serde_json::Value =
        serde_json::from_str(json.lines().find(|l| l.contains(&format!("\"id\":\"{fork_id}\""))).unwrap())
            .unwrap();
    assert_eq!((line["parent_id"].as_str(), line["forked_at"].as_u64()), (Some(parent.id.as_str()), Some(2)));

    // `--resume` on the fork continues it.
    let mut resumed = engine(dir.path(), &server.base_url(), Some(Store::open(&home).unwrap()), Some(info));
    let (_, history, forked) = session_ready(&mut resumed).await;
    assert_eq!((history.len(), forked), (4, None));
    assert_eq!(turn(&mut resumed, "PROMPT-THREE").await, 3);
    let last = server.chat_requests().pop().unwrap();
    assert_eq!(conversation(&last)[2..], ["PROMPT-TWO-B: rename it to parse", "REPLY-B", "PROMPT-THREE"]);
}

#[tokio::test]
async fn a_fork_of_everything_keeps_the_pins_and_an_unstored_session_cannot_fork() {
    let server = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["Noted."]); 3]).await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut e = engine(dir.path(), &server.base_url(), Some(Store::open(&home).unwrap()), None);
    session_ready(&mut e).await;
    turn(&mut e, "PIN-ME: never touch vendor/").await;
    e.ops.send(Op::Pin { words: None, pinned: true }).unwrap();
    assert!(notice(&mut e).await.starts_with("Pinned message 1"));
    e.ops.send(Op::Fork { before_prompt: None }).unwrap();
    let (id, history, forked) = session_ready(&mut e).await;
    let forked = forked.unwrap();
    assert_eq!((forked.before_prompt, forked.prompt), (None, None));
    assert_eq!(history.len(), 2);
    let store = Store::open(&home).unwrap();
    assert_eq!(store.pins(&id.unwrap()).unwrap(), vec![1], "the pin came along");
    e.ops.send(Op::Shutdown).unwrap();

    let mut memory_only = engine(dir.path(), &server.base_url(), None, None);
    session_ready(&mut memory_only).await;
    turn(&mut memory_only, "hello").await;
    memory_only.ops.send(Op::Fork { before_prompt: Some(1) }).unwrap();
    let text = until(&mut memory_only, |e| match e {
        Event::Notice { text, .. } => Some(text),
        Event::SessionReady { .. } => panic!("an unstored session was forked"),
        _ => None,
    })
    .await;
    assert!(text.contains("Cannot fork") && text.contains("not stored"), "{text}");
}
