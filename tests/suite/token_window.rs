//! Real token counts and the real window over a scripted model: a server whose tokenizer counts
//! twice kv1nt's raw estimate makes the next request's reported context (`Event::Context`, the
//! status bar's %) land within 10 % of the server's own count, in this session and the next; a
//! server that refuses a request as larger than its window gets the same step again, fitted to
//! the window it named, which later turns remember; a second refusal ends the step with the
//! server's words.

use std::time::Duration;

use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{Event, Op, TurnOutcome};
use kv1nt::engine::store::Store;

const MODEL: &str = "counting-model";

fn engine(dir: &std::path::Path, base: &str, compact_at: u8) -> EngineHandle {
    let mut c = Config::default();
    c.llm.primary = ProviderKind::OpenAi;
    c.llm.fallback = Fallback::None;
    c.llm.max_retries = 0;
    c.openai.base_url = base.into();
    c.openai.model = MODEL.into();
    c.context.compact_at = compact_at;
    c.graph.embed = kv1nt::engine::graph::settings::EmbedProvider::None;
    std::fs::create_dir_all(dir.join("repo/.git")).unwrap();
    spawn(EngineSetup {
        config: c,
        secrets: Secrets { anthropic_api_key: None, openai_api_key: Some("oa".into()), github_token: None },
        workspace: dir.join("repo"),
        store: Some(Store::open(&dir.join("home")).unwrap()),
        resume: None,
        preflight: false,
        trust: None,
    })
}

/// Runs one turn; returns its events.
async fn turn(engine: &mut EngineHandle, text: &str) -> Vec<Event> {
    engine.ops.send(Op::Submit { text: text.into(), intent: None }).unwrap();
    let mut events = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), engine.events.recv())
            .await
            .expect("engine hung")
            .expect("engine stopped");
        let end = matches!(event, Event::TurnEnded(_));
        events.push(event);
        if end {
            return events;
        }
    }
}

/// (used tokens, window) of each `Event::Context`, in order.
fn contexts(events: &[Event]) -> Vec<(usize, usize)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Context { used_tokens, window, .. } => Some((*used_tokens, *window)),
            _ => None,
        })
        .collect()
}

/// The input tokens the server reported for the turn.
fn reported(events: &[Event]) -> u64 {
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Usage { turn, .. } => Some(turn.prompt_tokens()),
            _ => None,
        })
        .expect("a usage event")
}

fn ended(events: &[Event]) -> &TurnOutcome {
    events.iter().find_map(|e| if let Event::TurnEnded(o) = e { Some(o) } else { None }).unwrap()
}

fn off_by(estimate: usize, actual: u64) -> f64 {
    (estimate as f64 - actual as f64).abs() / actual as f64
}

#[tokio::test]
async fn reported_usage_calibrates_the_next_requests_count_to_within_10_percent() {
    let server = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["Noted."]).usage_counted(2); 3]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path(), &server.base_url(), 80);

    let first = turn(&mut e, "Plan a parser for the config format.").await;
    let (estimated, _) = contexts(&first)[0];
    let counted = reported(&first);
    assert!(off_by(estimated, counted) > 0.4, "the raw estimate is far off: {estimated} vs {counted}");

    // A longer request: the calibrated estimate follows the server's count.
    let long = format!("Now this: {}", "the quick brown fox jumps over the lazy dog ".repeat(150));
    let second = turn(&mut e, &long).await;
    let (estimated, _) = contexts(&second)[0];
    let counted = reported(&second);
    assert!(off_by(estimated, counted) <= 0.10, "calibrated: {estimated} vs the server's {counted}");
    e.ops.send(Op::Shutdown).unwrap();
    let _ = e.task.await;

    // Stored per provider and model: the next session starts calibrated.
    let store = Store::open(&dir.path().join("home")).unwrap();
    let calibration = store.calibration("openai", MODEL).unwrap().expect("stored");
    assert_eq!(calibration.samples, 2);
    assert!((1.6..2.8).contains(&calibration.ratio), "{calibration:?}");
    let mut again = engine(dir.path(), &server.base_url(), 80);
    let third = turn(&mut again, "And one more thing about the parser.").await;
    let (estimated, _) = contexts(&third)[0];
    assert!(off_by(estimated, reported(&third)) <= 0.10, "{estimated} vs {}", reported(&third));
}

const REFUSAL: &str =
    "request (12000 tokens) exceeds the available context size (4096 tokens), try increasing it";

#[tokio::test]
async fn a_refused_request_is_fitted_to_the_window_the_server_named_and_sent_again() {
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![
            Turn::text(&["Read it."]),
            Turn::status(400, REFUSAL),
            Turn::text(&["Done."]),
            Turn::text(&["Still fine."]),
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path(), &server.base_url(), 0);
    let big = format!("FIRST-MARKER {}", "lorem ipsum dolor sit amet ".repeat(1_200));
    assert!(matches!(ended(&turn(&mut e, &big).await), TurnOutcome::Complete { .. }));

    let events = turn(&mut e, "SECOND: summarise it").await;
    assert!(matches!(ended(&events), TurnOutcome::Complete { .. }), "{:?}", ended(&events));
    let said = events
        .iter()
        .any(|e| matches!(e, Event::Notice { text, .. } if text.contains("context window is 4096 tokens")));
    assert!(said, "the user is told: {events:?}");
    let requests = server.chat_requests();
    assert_eq!(requests.len(), 3);
    let (refused, retried) = (&requests[1], &requests[2]);
    assert!(String::from_utf8_lossy(&refused.raw_body).contains("FIRST-MARKER"));
    assert!(
        !String::from_utf8_lossy(&retried.raw_body).contains("FIRST-MARKER"),
        "the old turn was left out"
    );
    assert!(retried.raw_body.len() < refused.raw_body.len() / 3);
    assert!(String::from_utf8_lossy(&retried.raw_body).contains("SECOND: summarise it"));
    let (used, window) = *contexts(&events).last().unwrap();
    assert_eq!(window, 4096);
    assert!(used <= 4096, "{used}");

    // The window is remembered: the next turn fits it on the first try.
    let events = turn(&mut e, "THIRD").await;
    assert!(matches!(ended(&events), TurnOutcome::Complete { .. }));
    assert_eq!(contexts(&events)[0].1, 4096);
    assert_eq!(server.chat_requests().len(), 4);
}

#[tokio::test]
async fn a_second_refusal_ends_the_step_with_the_servers_words() {
    let anthropic_refusal = "prompt is too long: 9000 tokens > 4096 maximum";
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![Turn::status(400, REFUSAL), Turn::status(400, anthropic_refusal)],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path(), &server.base_url(), 0);
    let events = turn(&mut e, "hello").await;
    match ended(&events) {
        TurnOutcome::Failed { reason } => assert!(reason.contains("prompt is too long"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.chat_requests().len(), 2, "one retry, not more");
}
