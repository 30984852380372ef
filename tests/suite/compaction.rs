//! Compaction over a scripted model: `/compact FOCUS` and declining, a failed compaction request
//! leaving the turn working on the trimmed history with a visible note, recall of the exact
//! original after a summary, pins, and `/context`. The session helpers here are shared by the
//! other long-session tests (`long_session.rs`: the 200-turn session and its resume).

use std::time::Duration;

use crate::support::scripted::RecordedRequest;
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::llm::compact::SUMMARY_SYSTEM;
use kv1nt::engine::protocol::{CompactionDecision, Event, LogLevel, Op, TurnOutcome};
use kv1nt::engine::store::{SessionInfo, Store};

const WINDOW: usize = 4_096;
const MAX_TOKENS: u32 = 512;

pub(super) struct Session {
    pub(super) dir: tempfile::TempDir,
}

impl Session {
    pub(super) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("repo/.git")).unwrap();
        std::fs::write(
            dir.path().join("repo/AGENTS.md"),
            "AGENTS-MARKER: run cargo fmt before committing.\n",
        )
        .unwrap();
        Self { dir }
    }

    pub(super) fn store(&self) -> Store {
        Store::open(&self.dir.path().join("home")).unwrap()
    }

    pub(super) fn engine(
        &self,
        base: &str,
        window: usize,
        max_tokens: u32,
        resume: Option<SessionInfo>,
    ) -> EngineHandle {
        let mut c = Config::default();
        c.llm.primary = ProviderKind::OpenAi;
        c.llm.fallback = Fallback::None;
        c.llm.max_retries = 0;
        c.openai.base_url = base.into();
        c.openai.context_window = window;
        c.openai.max_tokens = max_tokens;
        c.graph.embed = kv1nt::engine::graph::settings::EmbedProvider::None;
        spawn(EngineSetup {
            config: c,
            secrets: Secrets {
                anthropic_api_key: None,
                openai_api_key: Some("oa".into()),
                github_token: None,
            },
            workspace: self.dir.path().join("repo"),
            store: Some(self.store()),
            resume,
            preflight: false,
            trust: None,
        })
    }
}

/// Submit `text` and drive the turn to its end, answering a compaction proposal with
/// `answer(summary)` (`None`: decline). Returns the turn's events.
pub(super) async fn turn(
    engine: &mut EngineHandle,
    text: &str,
    mut answer: impl FnMut(&str) -> Option<String>,
) -> Vec<Event> {
    engine.ops.send(Op::Submit { text: text.into(), intent: None }).unwrap();
    let mut events = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), engine.events.recv())
            .await
            .expect("engine hung")
            .expect("engine stopped");
        if let Event::CompactionProposed(p) = &event {
            let decision = match answer(&p.summary) {
                Some(text) => CompactionDecision::Accept(text),
                None => CompactionDecision::Decline,
            };
            engine.ops.send(Op::Compaction { id: p.id, decision }).unwrap();
        }
        if let Event::ApprovalRequest(r) = &event {
            panic!("unexpected approval request {r:?}");
        }
        let end = matches!(event, Event::TurnEnded(_));
        events.push(event);
        if end {
            return events;
        }
    }
}

pub(super) fn system_of(request: &RecordedRequest) -> String {
    request.body["messages"][0]["content"].as_str().unwrap_or_default().to_string()
}

pub(super) fn is_summary_request(request: &RecordedRequest) -> bool {
    system_of(request) == SUMMARY_SYSTEM
}

pub(super) fn filler(words: usize) -> String {
    "lorem ipsum dolor sit amet ".repeat(words / 5)
}

#[tokio::test]
async fn a_failed_compaction_request_leaves_the_turn_working_on_the_trimmed_history() {
    // Turn 1 fills less than 80 % of a 32k window; turn 2 would fill more, so the summary is
    // asked for before turn 2's reply — and the server fails it.
    let script =
        vec![Turn::text(&["First."]), Turn::status(500, "summariser down"), Turn::text(&["Second."])];
    let server = ScriptedServer::start(Wire::OpenAi, script).await;
    let session = Session::new();
    let mut engine = session.engine(&server.base_url(), 32_768, 1_024, None);
    turn(&mut engine, &format!("GOAL-MARKER {}", filler(11_000)), |_| panic!("no compaction yet")).await;
    let events =
        turn(&mut engine, &format!("more {}", filler(11_000)), |_| panic!("nothing to propose")).await;
    let failed = events.iter().find_map(|e| match e {
        Event::Notice { level: LogLevel::Warn, text } if text.starts_with("Compaction failed") => Some(text),
        _ => None,
    });
    assert!(failed.is_some_and(|t| t.contains("left out")), "a visible note: {events:?}");
    let ended = events.iter().find_map(|e| if let Event::TurnEnded(o) = e { Some(o) } else { None });
    assert!(matches!(ended, Some(TurnOutcome::Complete { .. })), "{ended:?}");
    let requests = server.chat_requests();
    assert_eq!(requests.len(), 3);
    assert!(is_summary_request(&requests[1]));
    assert!(!system_of(&requests[2]).contains("Earlier in this session"), "no summary in force");
}

#[tokio::test]
async fn slash_compact_with_a_focus_asks_for_it_and_declining_changes_nothing() {
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![Turn::text(&["Hi."]), Turn::text(&["## Goal\nx"]), Turn::text(&["Again."])],
    )
    .await;
    let session = Session::new();
    let mut engine = session.engine(&server.base_url(), WINDOW, MAX_TOKENS, None);
    turn(&mut engine, "hello", |_| None).await;
    engine.ops.send(Op::Compact { focus: Some("the parser bug".into()) }).unwrap();
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(30), engine.events.recv()).await.unwrap().unwrap();
        if let Event::CompactionProposed(p) = event {
            assert!(p.manual && p.through == 2, "{p:?}");
            engine.ops.send(Op::Compaction { id: p.id, decision: CompactionDecision::Decline }).unwrap();
            break;
        }
    }
    turn(&mut engine, "go on", |_| panic!("declined: not asked again")).await;
    let requests = server.chat_requests();
    assert!(requests[1].body.to_string().contains("the parser bug"), "the focus reaches the summariser");
    assert!(!system_of(&requests[2]).contains("Earlier in this session"), "declined: no summary sent");
    assert_eq!(requests[2].body["messages"].as_array().unwrap().len(), 4, "system + the three messages");
}

#[tokio::test]
async fn after_compaction_recall_returns_the_exact_original_text() {
    let script = vec![
        Turn::text(&["First."]),
        Turn::text(&["## Goal\nport the server"]),
        Turn::text(&["Let me look."]).tool_call(
            "call_1",
            "recall",
            serde_json::json!({"query": "port number"}),
        ),
        Turn::text(&["It is 48213."]),
    ];
    let server = ScriptedServer::start(Wire::OpenAi, script).await;
    let session = Session::new();
    let mut engine = session.engine(&server.base_url(), 32_768, 1_024, None);
    let original = "The port number is 48213, never 8080.";
    turn(&mut engine, &format!("{original} {}", filler(11_000)), |_| panic!("no compaction yet")).await;
    turn(&mut engine, &format!("which port? {}", filler(11_000)), |s| Some(s.to_string())).await;
    let requests = server.chat_requests();
    assert_eq!(requests.len(), 4, "turn 1, the summary, turn 2's call and its answer");
    let offered: Vec<String> = requests[2].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["function"]["name"].as_str().map(String::from))
        .collect();
    assert!(offered.contains(&"recall".to_string()), "{offered:?}");
    assert!(!requests[2].body["messages"].to_string().contains("48213"), "the first turn is summarised away");
    assert!(
        requests[3].body["messages"].to_string().contains(original),
        "the recall result carries the exact original"
    );
    assert!(!requests[0].body["tools"].to_string().contains("\"recall\""), "no recall before a summary");
}

#[tokio::test]
async fn a_pinned_prompt_is_never_summarised_and_is_sent_word_for_word() {
    let script =
        vec![Turn::text(&["First."]), Turn::text(&["## Goal\nport the server"]), Turn::text(&["Second."])];
    let server = ScriptedServer::start(Wire::OpenAi, script).await;
    let session = Session::new();
    let mut engine = session.engine(&server.base_url(), 32_768, 1_024, None);
    let pinned = "PINNED-RULE: never touch the vendored code.";
    turn(&mut engine, &format!("{pinned} {}", filler(11_000)), |_| panic!("no compaction yet")).await;
    engine.ops.send(Op::Pin { words: Some("pinned-rule".into()), pinned: true }).unwrap();
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(10), engine.events.recv()).await.unwrap().unwrap();
        if let Event::Notice { text, .. } = event {
            assert!(text.starts_with("Pinned message 1:"), "{text}");
            break;
        }
    }
    turn(&mut engine, &format!("go on {}", filler(11_000)), |s| Some(s.to_string())).await;
    let requests = server.chat_requests();
    assert_eq!(requests.len(), 3);
    assert!(is_summary_request(&requests[1]));
    assert!(!requests[1].body.to_string().contains("PINNED-RULE"), "the pinned prompt is not summarised");
    let system = system_of(&requests[2]);
    assert!(system.contains("# Pinned by the user") && system.contains(pinned), "sent word for word");
    assert_eq!(session.store().pins(&session.store().list_sessions(1).unwrap()[0].id).unwrap(), vec![1]);

    // /context shows each part against its budget, the summary, the pin and the threshold.
    engine.ops.send(Op::Context).unwrap();
    let report = loop {
        let event =
            tokio::time::timeout(Duration::from_secs(10), engine.events.recv()).await.unwrap().unwrap();
        if let Event::Notice { text, .. } = event
            && text.starts_with("Context of the next request")
        {
            break text;
        }
    };
    for line in [
        "- system prompt with AGENTS.md / KV1NT.md: ",
        " of 7000 tokens",
        "- files in view (@path, the file in Code): 0 of 8192 tokens",
        "- summary of the first 2 messages (reviewed by you): ",
        "- pinned (never summarised): messages 1; ",
        "- conversation sent verbatim: 2 messages, ",
        "input tokens; compacts at 80 % (",
        "- kept free for the reply: 1024 tokens",
    ] {
        assert!(report.contains(line), "{line:?} in\n{report}");
    }
}
