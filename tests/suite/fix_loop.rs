//! The bounded fix loop through the real engine, the real sandbox and a real `cargo check`: a
//! turn whose approved change breaks the build goes back to the model with the new errors, and
//! ends when the checks pass again, when a round changes nothing, or after
//! `checks.max_fix_rounds`; the rounds are recorded on the turn's proposals.

use std::time::Duration;

use kv1nt::engine::agent::runtime::EngineHandle;
use kv1nt::engine::approval::Policy;
use kv1nt::engine::config::Config;
use kv1nt::engine::protocol::{ApprovalDecision, Event, Intent, LogLevel, Op, TurnOutcome};
use kv1nt::engine::store::Store;
use serde_json::json;

use super::checks::{CARGO_TOML, Fixture};
use crate::support::{ScriptedServer, Turn, Wire};

const BUILDS: &str = "pub fn one() -> u32 {\n    1\n}\n";
/// E0308: mismatched types.
const MISMATCHED: &str = "pub fn one() -> u32 {\n    \"one\"\n}\n";
/// E0425: cannot find value.
const UNDEFINED: &str = "pub fn one() -> u32 {\n    uno\n}\n";

fn write(content: &str) -> Turn {
    Turn::text(&[]).tool_call("w", "write_file", json!({"path": "src/lib.rs", "content": content}))
}

/// Submit, approve every change once, and collect the events until the turn ended.
async fn turn(fx: &Fixture, server: &ScriptedServer, max_fix_rounds: u32) -> (Vec<Event>, EngineHandle) {
    let mut config = Config::default();
    config.agent.approval = Policy::Ask;
    config.checks.max_fix_rounds = max_fix_rounds;
    let mut engine = fx.engine(config, Some(&server.base_url()));
    engine.ops.send(Op::Submit { text: "make one a string".into(), intent: None }).unwrap();
    let mut events = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(240), engine.events.recv())
            .await
            .expect("engine hung")
            .expect("engine stopped");
        if let Event::ApprovalRequest(r) = &event {
            engine.ops.send(Op::Approve { id: r.id, decision: ApprovalDecision::Once }).unwrap();
        }
        let end = matches!(event, Event::TurnEnded(_));
        events.push(event);
        if end {
            return (events, engine);
        }
    }
}

fn notices(events: &[Event]) -> Vec<(LogLevel, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Notice { level, text } => Some((*level, text.clone())),
            _ => None,
        })
        .collect()
}

/// The turn's (fix rounds, checks no worse than before) as recorded on its applied edits.
fn recorded(fx: &Fixture) -> Vec<(Option<u32>, Option<bool>)> {
    let rows = Store::open(&fx.home()).unwrap().proposals(None).unwrap();
    rows.iter().filter(|r| r.change_id.is_some()).map(|r| (r.check_rounds, r.checks_passed)).collect()
}

fn repo() -> Fixture {
    let fx = Fixture::new();
    fx.write("Cargo.toml", CARGO_TOML);
    fx.write("src/lib.rs", BUILDS);
    fx
}

#[tokio::test]
async fn a_broken_build_goes_back_to_the_model_and_the_turn_ends_when_it_builds() {
    let fx = repo();
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![write(MISMATCHED), Turn::text(&["Done."]), write(BUILDS), Turn::text(&["Fixed: it builds."])],
    )
    .await;
    let (events, _engine) = turn(&fx, &server, 3).await;

    assert!(matches!(events.last(), Some(Event::TurnEnded(TurnOutcome::Complete { .. }))), "{events:#?}");
    let requests = server.chat_requests();
    assert_eq!(requests.len(), 4, "write, done, the fix, done");
    let told = requests[2].body["messages"].to_string();
    assert!(told.contains("[kv1nt fix round 1 of 3]"), "{told}");
    assert!(told.contains("cargo check fails, 1 new error"), "{told}");
    assert!(told.contains("src/lib.rs:2:") && told.contains("mismatched types"), "{told}");
    let shown = notices(&events);
    assert!(shown.iter().any(|(_, t)| t.starts_with("Fix round 1/3: cargo check fails")), "{shown:?}");
    assert_eq!(std::fs::read_to_string(fx.repo().join("src/lib.rs")).unwrap(), BUILDS);
    assert_eq!(recorded(&fx), [(Some(1), Some(true)), (Some(1), Some(true))]);
}

#[tokio::test]
async fn a_round_that_leaves_the_same_errors_ends_the_loop() {
    let fx = repo();
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![write(MISMATCHED), Turn::text(&["Done."]), Turn::text(&["It looks right to me."])],
    )
    .await;
    let (events, _engine) = turn(&fx, &server, 3).await;

    assert_eq!(server.chat_requests().len(), 3, "one round, then no more requests");
    assert_eq!(server.remaining_turns(), 0);
    let shown = notices(&events);
    assert!(
        shown.iter().any(|(level, t)| *level == LogLevel::Warn
            && t.contains("fail just as before the last fix round")
            && t.contains("stopped after 1 round.")),
        "{shown:?}"
    );
    assert_eq!(recorded(&fx), [(Some(1), Some(false))]);
}

#[tokio::test]
async fn the_loop_stops_after_max_fix_rounds() {
    let fx = repo();
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![
            write(MISMATCHED),
            Turn::text(&["Done."]),
            write(UNDEFINED),
            Turn::text(&["Fixed."]),
            Turn::text(&["never asked for"]),
        ],
    )
    .await;
    let (events, _engine) = turn(&fx, &server, 1).await;

    assert_eq!(server.remaining_turns(), 1, "no second round");
    let shown = notices(&events);
    assert!(
        shown
            .iter()
            .any(|(_, t)| t.contains("still fail after 1 fix round (cargo check fails, 1 new error)")),
        "{shown:?}"
    );
    assert_eq!(recorded(&fx), [(Some(1), Some(false)), (Some(1), Some(false))]);
}

/// Events until the turn ended (nothing to approve).
async fn until_turn_ends(engine: &mut EngineHandle) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(240), engine.events.recv())
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

#[tokio::test]
async fn fix_with_nothing_pasted_takes_the_failing_checks_until_they_pass() {
    let fx = repo();
    fx.write("src/lib.rs", MISMATCHED);
    let server =
        ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["The cause: a &str where a u32 is due."])])
            .await;
    let mut engine = fx.engine(Config::default(), Some(&server.base_url()));
    engine.ops.send(Op::Check).unwrap();
    let (report, _) = super::checks::until_report(&mut engine).await;
    assert!(report.failed(), "{report:#?}");

    engine.ops.send(Op::Submit { text: String::new(), intent: Some(Intent::Fix) }).unwrap();
    until_turn_ends(&mut engine).await;
    let asked = server.chat_requests()[0].body["messages"].to_string();
    assert!(asked.contains("Project checks: ✗ 1 error"), "{asked}");
    assert!(asked.contains("src/lib.rs:2:") && asked.contains("mismatched types"), "{asked}");

    // Repaired outside kv1nt and checked again: nothing is left to fix.
    fx.write("src/lib.rs", BUILDS);
    engine.ops.send(Op::Check).unwrap();
    let (report, _) = super::checks::until_report(&mut engine).await;
    assert!(!report.failed(), "{report:#?}");
    engine.ops.send(Op::Submit { text: String::new(), intent: Some(Intent::Fix) }).unwrap();
    let events = until_turn_ends(&mut engine).await;
    assert!(
        events.iter().any(|e| matches!(e, Event::Notice { text, .. } if text.starts_with("Nothing to fix"))),
        "{events:?}"
    );
    assert_eq!(server.chat_requests().len(), 1, "no second request");
}
