//! The model's task list over a scripted model: the `todo` tool sets it, every later request's
//! system prompt carries it, an invalid list is refused with the reason and changes nothing, and
//! the list survives `--resume` and a compaction word for word.

use std::time::Duration;

use serde_json::json;

use super::compaction::{Session, filler, is_summary_request, system_of, turn};
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::protocol::{Event, Op, TodoItem, TodoStatus};

fn plan() -> serde_json::Value {
    json!({"items": [
        {"text": "Read the parser", "status": "done"},
        {"text": "Fix the off-by-one in lexer.rs", "status": "in_progress"},
        {"text": "Run the tests", "status": "pending"}
    ]})
}

const LISTED: &str = "2. [in_progress] Fix the off-by-one in lexer.rs";

#[tokio::test]
async fn the_list_is_sent_in_every_request_refused_when_invalid_and_kept_on_resume() {
    let two_doing = json!({"items": [
        {"text": "a", "status": "in_progress"}, {"text": "b", "status": "in_progress"}
    ]});
    let script = vec![
        Turn::text(&["Planning."]).tool_call("c1", "todo", plan()),
        Turn::text(&["Planned."]),
        Turn::text(&["Oops."]).tool_call("c2", "todo", two_doing),
        Turn::text(&["Kept the plan."]),
        Turn::text(&["Resumed."]),
    ];
    let server = ScriptedServer::start(Wire::OpenAi, script).await;
    let session = Session::new();
    let mut engine = session.engine(&server.base_url(), 32_768, 1_024, None);
    let events = turn(&mut engine, "fix the lexer", |_| None).await;
    let announced = events.iter().find_map(|e| if let Event::Todo(items) = e { Some(items) } else { None });
    assert_eq!(
        announced.map(|i| i.as_slice()),
        Some(
            &[
                TodoItem::new("Read the parser", TodoStatus::Done),
                TodoItem::new("Fix the off-by-one in lexer.rs", TodoStatus::InProgress),
                TodoItem::new("Run the tests", TodoStatus::Pending),
            ][..]
        )
    );
    let requests = server.chat_requests();
    assert!(!system_of(&requests[0]).contains("# Your task list"), "no list before the tool call");
    assert!(system_of(&requests[1]).contains(LISTED), "the step after the call carries the list");

    let events = turn(&mut engine, "now mark two steps", |_| None).await;
    assert!(!events.iter().any(|e| matches!(e, Event::Todo(_))), "an invalid list changes nothing");
    let requests = server.chat_requests();
    let result = requests[3].body.to_string();
    assert!(result.contains("only one step may be in_progress"), "the model is told why: {result}");
    assert!(system_of(&requests[3]).contains(LISTED), "the old list stays in force");

    engine.ops.send(Op::Shutdown).unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(10), engine.task).await;
    let stored = session.store().list_sessions(1).unwrap().pop().unwrap();
    let mut resumed = session.engine(&server.base_url(), 32_768, 1_024, Some(stored));
    let mut announced = false;
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(500), resumed.events.recv()).await
    {
        if let Event::Todo(items) = event {
            assert_eq!(items.len(), 3);
            announced = true;
        }
    }
    assert!(announced, "a resumed session announces its list");
    turn(&mut resumed, "go on", |_| None).await;
    let last = server.chat_requests().pop().unwrap();
    assert!(system_of(&last).contains(LISTED), "the resumed session sends the list");
}

#[tokio::test]
async fn the_list_survives_a_compaction_word_for_word() {
    // Turn 1 (a todo call) fills less than 80 % of a 32k window; turn 2 would fill more, so the
    // summary is asked for first.
    let script = vec![
        Turn::text(&["Planning."]).tool_call("c1", "todo", plan()),
        Turn::text(&["First."]),
        Turn::text(&["## Goal\nfix the lexer"]),
        Turn::text(&["Second."]),
    ];
    let server = ScriptedServer::start(Wire::OpenAi, script).await;
    let session = Session::new();
    let mut engine = session.engine(&server.base_url(), 32_768, 1_024, None);
    turn(&mut engine, &format!("GOAL {}", filler(11_000)), |_| panic!("no compaction yet")).await;
    let mut proposed = false;
    turn(&mut engine, &format!("more {}", filler(11_000)), |summary| {
        proposed = true;
        Some(summary.to_string())
    })
    .await;
    assert!(proposed, "the second turn compacts");
    let requests = server.chat_requests();
    let summariser = requests.iter().position(is_summary_request).expect("a summary request");
    let after = &requests[summariser + 1];
    let system = system_of(after);
    assert!(system.contains("fix the lexer"), "the summary is in force");
    assert!(system.contains(LISTED), "the list is still sent after compaction");
    assert!(system.find("# Your task list") > system.find("# Earlier in this session"));
}
