//! Issue 18's "done when" over a scripted model: a 200-turn session on a 4k window that sets a
//! task list early never sends a request over the window; every request carries the goal and the
//! user's constraint from the first prompt (verbatim in the history, or in the summary section)
//! and the task list; the session resumes with its summary and task list announced and sent.
//!
//! The summaries are written the way a faithful model would (`faithful_summary`): they keep the
//! goal and the constraint only when the summariser's request showed them, so a goal kv1nt failed
//! to hand on to the summariser is lost and the test fails. Each accepted summary is marked as the
//! user's edit, so the test also sees that the edit, not the model's text, is what is sent on.

use std::time::Duration;

use serde_json::json;

use super::compaction::{Session, filler, is_summary_request, system_of, turn};
use crate::support::scripted::RecordedRequest;
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::protocol::{Event, Op, TodoItem, TodoStatus, TurnOutcome};

const WINDOW: usize = 4_096;
const MAX_TOKENS: u32 = 512;
const GOAL: &str = "GOAL-MARKER: port the tokenizer to Rust.";
const CONSTRAINT: &str = "CONSTRAINT-MARKER: indent with tabs, never spaces.";
const LISTED: &str = "2. [in_progress] Port the lexer";

fn plan() -> serde_json::Value {
    json!({"items": [
        {"text": "Read the Python tokenizer", "status": "done"},
        {"text": "Port the lexer", "status": "in_progress"},
        {"text": "Port the tests", "status": "pending"}
    ]})
}

/// The summary a model following `SUMMARY_SYSTEM` writes from the summariser's `request` (the
/// previous summary folded in and the transcript): the goal and the constraint when it read
/// them, then the user's edit mark `n`.
fn faithful_summary(request: &RecordedRequest, n: usize) -> String {
    let read = request.body["messages"].to_string();
    let keep = |line: &str| if read.contains(line) { line.to_string() } else { "none".to_string() };
    format!("## Goal\n{}\n## Constraints and preferences\n{}\n(edit {n})", keep(GOAL), keep(CONSTRAINT))
}

/// The "# Earlier in this session" section of a system prompt ("" without one).
fn summary_section(system: &str) -> &str {
    let Some(start) = system.find("# Earlier in this session") else { return "" };
    let rest = &system[start..];
    let end = rest[1..].find("\n# ").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

/// Whether `request` carries `text` verbatim in its live history or in its summary section.
fn carries(request: &RecordedRequest, text: &str) -> bool {
    let messages = &request.body["messages"].as_array().unwrap()[1..];
    messages.iter().any(|m| m["content"].as_str().is_some_and(|c| c.contains(text)))
        || summary_section(&system_of(request)).contains(text)
}

#[tokio::test]
async fn a_200_turn_session_keeps_goal_constraints_and_task_list_in_every_request_and_on_resume() {
    let mut script = vec![Turn::text(&["Planning."]).tool_call("c1", "todo", plan())];
    script.extend(vec![Turn::text(&["Noted."]); 400]);
    let server = ScriptedServer::start(Wire::OpenAi, script).await;
    let session = Session::new();
    let mut engine = session.engine(&server.base_url(), WINDOW, MAX_TOKENS, None);
    let mut accepted: Vec<String> = Vec::new();
    for i in 0..200 {
        let text = if i == 0 {
            format!("{GOAL} {CONSTRAINT} {}", filler(200))
        } else {
            format!("turn {i}: {}", filler(200))
        };
        let events = turn(&mut engine, &text, |_| {
            let request = server.chat_requests().pop().expect("the summary request");
            assert!(is_summary_request(&request));
            let edited = faithful_summary(&request, accepted.len() + 1);
            accepted.push(edited.clone());
            Some(edited)
        })
        .await;
        let ended = events.iter().find_map(|e| if let Event::TurnEnded(o) = e { Some(o) } else { None });
        assert!(matches!(ended, Some(TurnOutcome::Complete { .. })), "turn {i}: {ended:?}");
        if i == 0 {
            assert!(events.iter().any(|e| matches!(e, Event::Todo(items) if items.len() == 3)));
        }
    }
    assert!(accepted.len() >= 20, "a 200-turn session on a 4k window compacts often: {}", accepted.len());

    let requests = server.chat_requests();
    let mut in_force: Option<&String> = None;
    let mut summaries = 0;
    for (n, request) in requests.iter().enumerate() {
        let body = request.raw_body.len();
        assert!(body / 4 <= WINDOW, "request {n} is {body} bytes: over a {WINDOW}-token window");
        if is_summary_request(request) {
            if summaries > 0 {
                // The summariser reads the user's edit of the summary before it.
                let prompt = request.body.to_string();
                assert!(prompt.contains(&format!("(edit {summaries})")), "summary request {n}");
            }
            summaries += 1;
            in_force = Some(&accepted[summaries - 1]);
            continue;
        }
        let system = system_of(request);
        assert!(system.contains("AGENTS-MARKER"), "request {n} carries AGENTS.md");
        assert!(carries(request, GOAL), "request {n} carries the goal");
        assert!(carries(request, CONSTRAINT), "request {n} carries the constraint");
        if n > 0 {
            assert!(system.contains("# Your task list") && system.contains(LISTED), "request {n}: the list");
        }
        if let Some(edited) = in_force {
            assert!(summary_section(&system).contains(edited.as_str()), "request {n}: the accepted edit");
        }
    }
    assert_eq!(summaries, accepted.len());
    let last = accepted.last().unwrap();
    assert!(last.contains(GOAL) && last.contains(CONSTRAINT), "the 200th turn's summary still has both");

    // The session comes back with its summary and its task list, announced and sent.
    engine.ops.send(Op::Shutdown).unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(10), engine.task).await;
    let stored = session.store().list_sessions(1).unwrap().pop().unwrap();
    let mut resumed = session.engine(&server.base_url(), WINDOW, MAX_TOKENS, Some(stored));
    let (mut summary, mut todo) = (None, None);
    while summary.is_none() || todo.is_none() {
        let event = tokio::time::timeout(Duration::from_secs(10), resumed.events.recv())
            .await
            .expect("the resumed engine announces its summary and task list")
            .expect("engine stopped");
        match event {
            Event::Compacted(c) if c.resumed => summary = Some(c.summary),
            Event::Todo(items) => todo = Some(items),
            _ => {}
        }
    }
    assert_eq!(summary.as_ref(), Some(last), "the last accepted summary is announced");
    assert_eq!(
        todo.unwrap(),
        vec![
            TodoItem::new("Read the Python tokenizer", TodoStatus::Done),
            TodoItem::new("Port the lexer", TodoStatus::InProgress),
            TodoItem::new("Port the tests", TodoStatus::Pending),
        ]
    );
    turn(&mut resumed, "one more thing", |_| None).await;
    let first = server.chat_requests().pop().unwrap();
    assert!(!is_summary_request(&first));
    let system = system_of(&first);
    assert!(summary_section(&system).contains(last.as_str()), "the resumed session sends the summary");
    assert!(system.contains(LISTED), "the resumed session sends the task list");
    assert!(carries(&first, GOAL) && carries(&first, CONSTRAINT));
}
