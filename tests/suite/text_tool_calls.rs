//! Tool calls that a weak model writes as text, through the real engine over the OpenAI wire
//! (native tool calling offered): a `<tool_call>` block, a fenced JSON call and a bare JSON call
//! in the reply's text run as calls, their results go back paired with the calls, and malformed
//! arguments get one repair request before the call is reported as failed.

use serde_json::Value;

use super::run_tool::{Fixture, drive};
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::approval::Policy;
use kv1nt::engine::protocol::{ApprovalDecision, Event, LogLevel, Op, TurnOutcome};
use kv1nt::engine::sandbox::SandboxMode;

/// Runs one turn against `turns`; the events and the chat requests the model server got.
async fn turn_with(turns: Vec<Turn>) -> (Vec<Event>, Vec<Value>) {
    let fx = Fixture::new();
    let server = ScriptedServer::start(Wire::OpenAi, turns).await;
    let mut engine = fx.engine(&server.base_url(), Policy::Ask, SandboxMode::Enforce);
    engine.ops.send(Op::Submit { text: "what does data.txt say?".into(), intent: None }).unwrap();
    let events = drive(&mut engine, |_, _, _| ApprovalDecision::Deny, |_, _| {}, false).await;
    let bodies = server.chat_requests().into_iter().map(|r| r.body).collect();
    (events, bodies)
}

/// `(tool name, ok, summary)` of every finished tool.
fn finished(events: &[Event]) -> Vec<(String, bool, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ToolFinished { name, ok, summary, .. } => Some((name.clone(), *ok, summary.clone())),
            _ => None,
        })
        .collect()
}

/// The `role: tool` messages of a request, as (tool_call_id, content).
fn tool_results(body: &Value) -> Vec<(String, String)> {
    body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["role"] == "tool")
        .map(|m| {
            (m["tool_call_id"].as_str().unwrap_or("").into(), m["content"].as_str().unwrap_or("").into())
        })
        .collect()
}

fn assert_completed(events: &[Event]) {
    let outcome = events.iter().find_map(|e| match e {
        Event::TurnEnded(outcome) => Some(outcome.clone()),
        _ => None,
    });
    assert!(matches!(outcome, Some(TurnOutcome::Complete { .. })), "{outcome:?}");
}

#[tokio::test]
async fn each_text_form_of_a_call_runs_the_tool_and_pairs_its_result() {
    let forms = [
        "I'll read it.\n<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"data.txt\"}}\n</tool_call>",
        "```json\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"data.txt\"}}\n```",
        "{\"name\": \"read_file\", \"parameters\": \"{\\\"path\\\": \\\"data.txt\\\"}\"}",
    ];
    for form in forms {
        let (events, bodies) = turn_with(vec![Turn::text(&[form]), Turn::text(&["It says kept."])]).await;
        assert_completed(&events);
        assert_eq!(finished(&events).len(), 1, "{form}: {:?}", finished(&events));
        assert!(finished(&events)[0].1, "{form}: {:?}", finished(&events));
        assert_eq!(bodies.len(), 2, "{form}");
        // The result went back as a tool message answering the call the assistant message carries.
        let results = tool_results(&bodies[1]);
        assert_eq!(results.len(), 1, "{form}: {}", bodies[1]);
        assert!(results[0].1.contains("kept"), "{form}: {results:?}");
        let messages = bodies[1]["messages"].as_array().unwrap();
        let assistant = messages.iter().rev().find(|m| m["role"] == "assistant").unwrap();
        assert_eq!(assistant["tool_calls"][0]["id"], results[0].0.as_str(), "{form}: {assistant}");
        assert_eq!(assistant["tool_calls"][0]["function"]["name"], "read_file", "{form}");
    }
}

#[tokio::test]
async fn prose_with_json_that_is_not_a_call_ends_the_turn() {
    let reply = "The config looks like {\"name\": \"kv1nt\", \"version\": 2}; nothing to run.";
    let (events, bodies) = turn_with(vec![Turn::text(&[reply])]).await;
    assert_completed(&events);
    assert!(finished(&events).is_empty());
    assert_eq!(bodies.len(), 1);
}

#[tokio::test]
async fn malformed_arguments_get_one_repair_request_then_the_repaired_call_runs() {
    let broken = "<tool_call>{\"name\": \"read_file\", \"arguments\": {\"paht\": \"data.txt\"}}</tool_call>";
    let fixed = "<tool_call>{\"name\": \"read_file\", \"arguments\": {\"path\": \"data.txt\"}}</tool_call>";
    let (events, bodies) =
        turn_with(vec![Turn::text(&[broken]), Turn::text(&[fixed]), Turn::text(&["It says kept."])]).await;
    assert_completed(&events);
    let done = finished(&events);
    assert_eq!(done.iter().map(|d| d.1).collect::<Vec<_>>(), [false, true], "{done:?}");
    let repair = &tool_results(&bodies[1])[0].1;
    assert!(repair.contains("malformed") && repair.contains("paht"), "{repair}");
    assert!(repair.contains("\"required\""), "the schema is given: {repair}");
    assert!(tool_results(&bodies[2]).last().unwrap().1.contains("kept"));
}

#[tokio::test]
async fn a_call_still_malformed_after_the_repair_request_is_reported_failed() {
    let broken = |bad: &str| format!("{{\"name\": \"read_file\", \"arguments\": {bad}}}");
    let (events, bodies) = turn_with(vec![
        Turn::text(&[&broken("{\"paht\": \"data.txt\"}")]),
        Turn::text(&[&format!("```json\n{}\n```", broken("{path: data.txt}"))]),
        Turn::text(&["Sorry."]),
    ])
    .await;
    assert_completed(&events);
    assert_eq!(finished(&events).iter().filter(|d| !d.1).count(), 2, "{:?}", finished(&events));
    let second = tool_results(&bodies[2]).pop().unwrap().1;
    assert!(second.starts_with("Failed:") && second.contains("not valid JSON"), "{second}");
    let notice = events.iter().any(
        |e| matches!(e, Event::Notice { level: LogLevel::Warn, text } if text.contains("read_file failed")),
    );
    assert!(notice, "the user is told the call failed");
    assert_eq!(bodies.len(), 3, "no further repair request");
}
