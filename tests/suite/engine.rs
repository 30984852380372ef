//! The engine end to end over scripted servers: turns, persistence, fallback, cancel, faults,
//! resume and context trimming — through the same `Op`/`Event` boundary the TUI uses.

use std::time::Duration;

use crate::support::{ScriptedServer, Turn, Wire, closed_port_url};
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::llm::{ProviderKind, Role};
use kv1nt::engine::protocol::{Event, Op, TurnOutcome};
use kv1nt::engine::store::{MessageStatus, Store};

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    fn store(&self) -> Store {
        Store::open(&self.dir.path().join("home")).unwrap()
    }

    fn workspace(&self) -> std::path::PathBuf {
        let ws = self.dir.path().join("repo");
        std::fs::create_dir_all(&ws).unwrap();
        ws
    }

    fn engine(&self, config: Config, resume: Option<&str>) -> EngineHandle {
        let store = self.store();
        let resume = resume.map(|key| store.resolve_session(key).unwrap());
        spawn(EngineSetup {
            config,
            secrets: Secrets {
                anthropic_api_key: Some("sk-test".into()),
                openai_api_key: None,
                github_token: None,
            },
            workspace: self.workspace(),
            store: Some(store),
            resume,
            preflight: false,
            trust: None,
        })
    }
}

fn config(primary: ProviderKind, anthropic: &str, ollama: &str) -> Config {
    let mut c = Config::default();
    c.llm.primary = primary;
    c.llm.fallback = Fallback::None;
    c.llm.retry_base_ms = 5;
    c.llm.retry_max_ms = 20;
    c.llm.idle_timeout_secs = 2;
    c.anthropic.base_url = anthropic.into();
    c.ollama.host = ollama.into();
    c.session.checkpoint_ms = 50;
    c
}

/// Events until the turn ends (or the engine stops); shared with `cost.rs`.
pub(super) async fn turn_events(engine: &mut EngineHandle) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(20), engine.events.recv()).await.expect("engine hung");
        let Some(event) = event else { break };
        let end = matches!(event, Event::TurnEnded(_) | Event::Stopped);
        events.push(event);
        if end {
            break;
        }
    }
    events
}

fn text_of(events: &[Event]) -> String {
    events.iter().filter_map(|e| if let Event::TextDelta(t) = e { Some(t.as_str()) } else { None }).collect()
}

fn outcome(events: &[Event]) -> &TurnOutcome {
    events
        .iter()
        .rev()
        .find_map(|e| if let Event::TurnEnded(o) = e { Some(o) } else { None })
        .expect("turn ended")
}

#[tokio::test]
async fn a_turn_streams_and_is_saved_as_a_session() {
    let server = ScriptedServer::start(
        Wire::Anthropic,
        vec![Turn::text(&["Here:\n```rust\nfn a() {}\n```\n"]).usage(20, 9)],
    )
    .await;
    let fx = Fixture::new();
    std::fs::write(fx.workspace().join("AGENTS.md"), "Always answer in haiku.").unwrap();
    let mut engine = fx.engine(config(ProviderKind::Anthropic, &server.base_url(), "x"), None);
    engine.ops.send(Op::Submit { text: "write a fn".into(), intent: None }).unwrap();
    let events = turn_events(&mut engine).await;
    assert!(matches!(outcome(&events), TurnOutcome::Complete { .. }), "{events:?}");
    assert_eq!(text_of(&events), "Here:\n```rust\nfn a() {}\n```\n");
    assert!(
        events.iter().any(
            |e| matches!(e, Event::Usage { turn: u, .. } if u.input_tokens == 20 && u.output_tokens == 9)
        )
    );
    assert!(events.iter().any(|e| matches!(e, Event::Context { window: 200_000, .. })));
    let body = &server.chat_requests()[0].body;
    assert!(
        body["system"][0]["text"].as_str().unwrap().contains("Always answer in haiku."),
        "AGENTS.md joins the system prompt"
    );

    let store = fx.store();
    let session = store.resolve_session("last").unwrap();
    let messages = store.load_messages(&session.id).unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].message.text, "write a fn");
    assert_eq!(messages[1].message.role, Role::Assistant);
    assert_eq!(messages[1].status, MessageStatus::Complete);
    assert_eq!(session.provider, "anthropic");
}

#[tokio::test]
async fn an_overloaded_primary_falls_back_and_says_so() {
    let anthropic =
        ScriptedServer::start(Wire::Anthropic, (0..4).map(|_| Turn::status(529, "Overloaded")).collect())
            .await;
    let ollama = ScriptedServer::start(Wire::Ollama, vec![Turn::text(&["local ", "answer"])]).await;
    let fx = Fixture::new();
    let mut c = config(ProviderKind::Anthropic, &anthropic.base_url(), &ollama.base_url());
    c.llm.fallback = Fallback::Ollama;
    c.ollama.num_ctx = 16_384;
    let mut engine = fx.engine(c, None);
    engine.ops.send(Op::Submit { text: "hi".into(), intent: None }).unwrap();
    let events = turn_events(&mut engine).await;
    let retries = events.iter().filter(|e| matches!(e, Event::Retrying { .. })).count();
    assert_eq!(retries, 3, "three retries on the primary first");
    assert!(events.iter().any(|e| matches!(
        e,
        Event::FallingBack { from: ProviderKind::Anthropic, to: ProviderKind::Ollama, .. }
    )));
    assert!(events.iter().any(|e| matches!(e, Event::TurnStarted { provider: ProviderKind::Ollama, .. })));
    assert_eq!(text_of(&events), "local answer");
    assert_eq!(anthropic.chat_requests().len(), 4);
    assert_eq!(ollama.chat_requests()[0].body["options"]["num_ctx"], 16_384);
}

#[tokio::test]
async fn fallback_waits_for_confirmation_when_configured() {
    let ollama = ScriptedServer::start(Wire::Ollama, vec![Turn::text(&["never"])]).await;
    let fx = Fixture::new();
    let mut c = config(ProviderKind::Anthropic, &closed_port_url(), &ollama.base_url());
    c.llm.fallback = Fallback::Ollama;
    c.llm.fallback_confirm = true;
    c.llm.max_retries = 0;
    let mut engine = fx.engine(c, None);
    engine.ops.send(Op::Submit { text: "hi".into(), intent: None }).unwrap();
    let id = loop {
        match engine.events.recv().await.unwrap() {
            Event::ConfirmRequest { id, body, .. } => {
                assert!(body.contains("ollama"), "{body}");
                break id;
            }
            Event::TurnStarted { .. } => panic!("started without confirmation"),
            _ => {}
        }
    };
    engine.ops.send(Op::Answer { id, approved: false }).unwrap();
    let events = turn_events(&mut engine).await;
    assert!(matches!(outcome(&events), TurnOutcome::Failed { .. }));
    assert!(ollama.chat_requests().is_empty(), "declined: the fallback is not asked");
}

#[tokio::test]
async fn no_key_and_no_server_tells_exactly_what_to_set() {
    let fx = Fixture::new();
    let mut c =
        config(ProviderKind::Anthropic, kv1nt::engine::llm::anthropic::DEFAULT_BASE_URL, &closed_port_url());
    c.llm.fallback = Fallback::Ollama;
    c.llm.max_retries = 0;
    let store = fx.store();
    let mut engine = spawn(EngineSetup {
        config: c,
        secrets: Secrets::default(),
        workspace: fx.workspace(),
        store: Some(store),
        resume: None,
        preflight: true,
        trust: None,
    });
    // The start-up check offers what would work (the first-run modal), naming every setting.
    let offer = loop {
        if let Event::FirstRun(offer) =
            tokio::time::timeout(Duration::from_secs(10), engine.events.recv()).await.unwrap().unwrap()
        {
            break offer;
        }
    };
    assert_eq!(offer.errors.len(), 2, "the primary's and the fallback's failure: {:?}", offer.errors);
    assert!(offer.download.as_ref().is_some_and(|d| d.reference.starts_with("hf:")), "{offer:?}");
    for needed in ["ANTHROPIC_API_KEY", "OLLAMA_HOST", "OPENAI_BASE_URL"] {
        assert!(offer.help.contains(needed), "the first-run offer must name {needed}: {}", offer.help);
    }
    engine.ops.send(Op::Submit { text: "hello?".into(), intent: None }).unwrap();
    let events = turn_events(&mut engine).await;
    assert!(matches!(outcome(&events), TurnOutcome::Failed { .. }));
    let said: Vec<&String> = events
        .iter()
        .filter_map(|e| if let Event::Notice { text, .. } = e { Some(text) } else { None })
        .collect();
    assert!(said.iter().any(|t| t.contains("ANTHROPIC_API_KEY") && t.contains("OLLAMA_HOST")), "{said:?}");
}

#[tokio::test]
async fn a_dropped_stream_keeps_the_partial_reply_marked_incomplete() {
    let server =
        ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["half ", "an answer"]).then_drop()]).await;
    let fx = Fixture::new();
    let mut c = config(ProviderKind::OpenAi, "x", "x");
    c.openai.base_url = server.base_url();
    let mut engine = fx.engine(c, None);
    engine.ops.send(Op::Submit { text: "q".into(), intent: None }).unwrap();
    let events = turn_events(&mut engine).await;
    assert!(
        matches!(outcome(&events), TurnOutcome::Incomplete { reason } if reason.contains("dropped")),
        "{events:?}"
    );
    let store = fx.store();
    let session = store.resolve_session("last").unwrap();
    let stored = store.load_messages(&session.id).unwrap();
    assert_eq!(stored[1].message.text, "half an answer");
    assert_eq!(stored[1].status, MessageStatus::Incomplete);
    assert!(stored[1].note.as_deref().unwrap_or_default().contains("dropped"));
}

#[tokio::test]
async fn cancel_stops_the_stream_and_keeps_what_arrived() {
    let chunks: Vec<String> = (0..50).map(|i| format!("w{i} ")).collect();
    let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    let server = ScriptedServer::start(
        Wire::Anthropic,
        vec![Turn::text(&refs).chunk_delay(Duration::from_millis(40))],
    )
    .await;
    let fx = Fixture::new();
    let mut engine = fx.engine(config(ProviderKind::Anthropic, &server.base_url(), "x"), None);
    engine.ops.send(Op::Submit { text: "long".into(), intent: None }).unwrap();
    let mut seen = String::new();
    loop {
        if let Event::TextDelta(t) = engine.events.recv().await.unwrap() {
            seen.push_str(&t);
            if seen.len() > 10 {
                engine.ops.send(Op::Cancel).unwrap();
                break;
            }
        }
    }
    let events = turn_events(&mut engine).await;
    assert_eq!(outcome(&events), &TurnOutcome::Cancelled);
    seen.push_str(&text_of(&events));
    assert!(seen.len() < 200, "the stream kept going after cancel: {seen}");
    let store = fx.store();
    let stored = store.load_messages(&store.resolve_session("last").unwrap().id).unwrap();
    assert_eq!(stored[1].message.text, seen);
    assert_eq!(stored[1].note.as_deref(), Some("cancelled"));
}

#[tokio::test]
async fn a_resumed_session_continues_with_its_history() {
    let server = ScriptedServer::start(
        Wire::Anthropic,
        vec![Turn::text(&["first answer"]), Turn::text(&["second answer"])],
    )
    .await;
    let fx = Fixture::new();
    let c = config(ProviderKind::Anthropic, &server.base_url(), "x");
    let mut engine = fx.engine(c.clone(), None);
    engine.ops.send(Op::Submit { text: "first question".into(), intent: None }).unwrap();
    turn_events(&mut engine).await;
    engine.ops.send(Op::Shutdown).unwrap();
    let _ = engine.task.await;

    let mut engine = fx.engine(c, Some("last"));
    match engine.events.recv().await.unwrap() {
        Event::SessionReady { resumed: true, history, .. } => {
            let texts: Vec<&str> = history.iter().map(|h| h.message.text.as_str()).collect();
            assert_eq!(texts, ["first question", "first answer"]);
        }
        other => panic!("{other:?}"),
    }
    engine.ops.send(Op::Submit { text: "second question".into(), intent: None }).unwrap();
    turn_events(&mut engine).await;
    let messages = server.chat_requests()[1].body["messages"].as_array().unwrap().len();
    assert_eq!(messages, 3, "the resumed history is sent to the model");
}

#[tokio::test]
async fn history_is_trimmed_oldest_first_to_fit_the_window() {
    let turns = (0..4).map(|i| Turn::text(&[&format!("answer {i} {}", "z".repeat(3200))])).collect();
    let server = ScriptedServer::start(Wire::Anthropic, turns).await;
    let fx = Fixture::new();
    let mut c = config(ProviderKind::Anthropic, &server.base_url(), "x");
    // A window the system prompt and tools leave room in for about two of these turns.
    c.anthropic.context_window = 4_000;
    c.anthropic.max_tokens = 100;
    c.context.compact_at = 0; // trimming, not compaction (tests/suite/compaction.rs)
    let mut engine = fx.engine(c, None);
    let mut trimmed = 0;
    for i in 0..4 {
        engine
            .ops
            .send(Op::Submit { text: format!("question {i} {}", "q".repeat(3200)), intent: None })
            .unwrap();
        for e in turn_events(&mut engine).await {
            if let Event::Context { trimmed: t, used_tokens, window } = e {
                trimmed = t;
                assert!(used_tokens <= window, "{used_tokens} > {window}");
            }
        }
    }
    assert!(trimmed > 0, "the oldest messages must be left out");
    let last = server.chat_requests().last().unwrap().body["messages"].clone();
    assert_eq!(last[0]["role"], "user");
    let newest = &last.as_array().unwrap().last().unwrap()["content"];
    // A text block: the newest message carries the prompt-cache breakpoint.
    assert!(newest[0]["text"].as_str().unwrap().starts_with("question 3"), "{newest}");
}
