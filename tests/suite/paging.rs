//! A long stored session is read a page at a time (issue 16 item 8): resumed, the engine sends
//! only the newest page with what comes before it, serves older pages on request, finds a word
//! in a message no page brought yet, and goes on with the conversation (prompt numbers counted
//! over the whole session, the newest messages sent to the model).

use std::time::Duration;

use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::llm::{Message, ProviderKind};
use kv1nt::engine::protocol::{Event, HistoryEntry, Older, Op};
use kv1nt::engine::store::{MessageStatus, Store};

const MESSAGES: usize = 5_000;
const RARE: &str = "quetzalcoatl";

/// A home with one session of [`MESSAGES`] messages: prompt `i` and its answer, the word
/// [`RARE`] only in message 17 (position 16). Returns the session id.
fn seed(home: &std::path::Path) -> String {
    let store = Store::open(home).unwrap();
    let s = store.create_session("/w", "anthropic", "x").unwrap();
    for seq in 1..=MESSAGES {
        let message = match (seq % 2, seq) {
            (1, 17) => Message::user(format!("message {seq}: where does the {RARE} live?")),
            (1, _) => Message::user(format!("message {seq}: a prompt")),
            _ => Message::assistant(format!("message {seq}: an answer")),
        };
        store.append_message(&s.id, &message, MessageStatus::Complete).unwrap();
    }
    s.id
}

fn engine(home: &std::path::Path, workspace: &std::path::Path, url: &str, id: &str) -> EngineHandle {
    let store = Store::open(home).unwrap();
    let resume = Some(store.resolve_session(id).unwrap());
    let mut config = Config::default();
    config.llm.primary = ProviderKind::Anthropic;
    config.llm.fallback = Fallback::None;
    config.anthropic.base_url = url.into();
    spawn(EngineSetup {
        config,
        secrets: Secrets { anthropic_api_key: Some("sk-test".into()), ..Default::default() },
        workspace: workspace.to_path_buf(),
        store: Some(store),
        resume,
        preflight: false,
        trust: None,
    })
}

/// The next event `pick` takes, skipping others.
async fn next<T>(engine: &mut EngineHandle, mut pick: impl FnMut(Event) -> Option<T>) -> T {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), engine.events.recv())
            .await
            .expect("engine hung")
            .expect("engine stopped");
        if let Some(found) = pick(event) {
            return found;
        }
    }
}

fn texts(history: &[HistoryEntry]) -> Vec<String> {
    history.iter().map(|h| h.message.text.clone()).collect()
}

#[tokio::test]
async fn a_resumed_5000_message_session_sends_its_newest_page_and_serves_older_ones_and_search() {
    let dir = tempfile::tempdir().unwrap();
    let (home, workspace) = (dir.path().join("home"), dir.path().join("repo"));
    std::fs::create_dir_all(&workspace).unwrap();
    let id = seed(&home);
    let server = ScriptedServer::start(Wire::Anthropic, vec![Turn::text(&["the newest answer"])]).await;
    let mut engine = engine(&home, &workspace, &server.base_url(), &id);

    let (history, older) = next(&mut engine, |e| match e {
        Event::SessionReady { history, older, .. } => Some((history, older)),
        _ => None,
    })
    .await;
    assert_eq!(history.len(), 200, "only the newest page is sent");
    assert_eq!(older, Older { messages: MESSAGES - 200, prompts: (MESSAGES - 200) / 2 });
    assert_eq!(texts(&history)[0], "message 4801: a prompt");
    assert_eq!(texts(&history)[199], "message 5000: an answer");

    engine.ops.send(Op::LoadOlder { before: older.messages, from: None }).unwrap();
    let (page, before, prompts) = next(&mut engine, |e| match e {
        Event::OlderMessages { history, older, prompts } => Some((history, older, prompts)),
        _ => None,
    })
    .await;
    assert_eq!((page.len(), before, prompts), (200, 4_600, 2_300));
    assert_eq!(texts(&page)[0], "message 4601: a prompt");
    assert_eq!(texts(&page)[199], "message 4800: an answer", "the page ends where the loaded ones begin");

    // A word only in message 17: where it is, then the messages from it down to the loaded ones.
    let query = RARE.to_string();
    engine.ops.send(Op::SearchSession { query: query.clone(), before, ignore_case: true }).unwrap();
    let found = next(&mut engine, |e| match e {
        Event::SessionSearch { query: q, found } if q == query => Some(found),
        _ => None,
    })
    .await;
    assert_eq!(found, Some(16));
    engine.ops.send(Op::LoadOlder { before, from: found }).unwrap();
    let (page, from, prompts) = next(&mut engine, |e| match e {
        Event::OlderMessages { history, older, prompts } => Some((history, older, prompts)),
        _ => None,
    })
    .await;
    assert_eq!((from, page.len(), prompts), (16, 4_600 - 16, 8));
    assert!(page[0].message.text.contains(RARE));

    // Not in the session (and smart case: a capital makes it exact).
    for (query, ignore_case) in [("no such word anywhere", true), ("QUETZALCOATL", false)] {
        engine.ops.send(Op::SearchSession { query: query.into(), before: 4_600, ignore_case }).unwrap();
        let found = next(&mut engine, |e| match e {
            Event::OlderMessages { .. } => panic!("nothing to load for {query}"),
            Event::SessionSearch { found, .. } => Some(found),
            _ => None,
        })
        .await;
        assert_eq!(found, None, "{query}");
    }

    // The conversation goes on: the prompt is the session's 2,501st, and the newest messages go
    // to the model.
    engine.ops.send(Op::Submit { text: "one more question".into(), intent: None }).unwrap();
    let number = next(&mut engine, |e| match e {
        Event::PromptRecorded { number, .. } => Some(number),
        _ => None,
    })
    .await;
    assert_eq!(number, MESSAGES / 2 + 1);
    next(&mut engine, |e| matches!(e, Event::TurnEnded(_)).then_some(())).await;
    let request = &server.chat_requests()[0].body["messages"];
    let sent = request.to_string();
    assert!(sent.contains("message 5000: an answer") && sent.contains("one more question"), "{sent:.300}");
    engine.ops.send(Op::Shutdown).unwrap();
    let _ = engine.task.await;
}

#[tokio::test]
async fn a_resumed_summary_still_sends_a_pinned_message_it_stands_for_though_the_engine_no_longer_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let (home, workspace) = (dir.path().join("home"), dir.path().join("repo"));
    std::fs::create_dir_all(&workspace).unwrap();
    let id = seed(&home);
    let pinned = "message 1: a prompt";
    {
        let store = Store::open(&home).unwrap();
        let summary = kv1nt::engine::store::StoredCompaction {
            through: MESSAGES - 4,
            summary: "## Goal\nSUMMARY-MARKER".into(),
            tokens_before: 90_000,
            tokens_after: 2_000,
            edited: false,
            created_at: String::new(),
        };
        store.add_compaction(&id, &summary).unwrap();
        store.set_pin(&id, 1, true).unwrap();
    }
    let server = ScriptedServer::start(Wire::Anthropic, vec![Turn::text(&["ok"])]).await;
    let mut engine = engine(&home, &workspace, &server.base_url(), &id);
    engine.ops.send(Op::Submit { text: "and now?".into(), intent: None }).unwrap();
    next(&mut engine, |e| matches!(e, Event::TurnEnded(_)).then_some(())).await;
    let body = server.chat_requests()[0].body.to_string();
    assert!(body.contains("SUMMARY-MARKER") && body.contains(pinned), "the pin is read back for the summary");
    assert!(body.contains("message 4997: a prompt"), "the messages after the summary are sent");
    assert!(!body.contains("message 4996: an answer"), "the summarised ones are not");
    engine.ops.send(Op::Shutdown).unwrap();
    let _ = engine.task.await;
}
