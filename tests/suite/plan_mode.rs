//! Plan mode over a scripted model: no mutating tool is offered and a change attempted anyway is
//! refused; `propose_plan` shows the plan; approval switches to the chosen policy, makes the
//! (edited) steps the task list and lets the same turn carry them out; rejection with words
//! asks for a revised plan, without words ends the turn still in plan mode; `kv1nt exec` prints
//! the plan and changes nothing.

use std::time::Duration;

use serde_json::json;

use super::compaction::{Session, system_of};
use crate::support::scripted::RecordedRequest;
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::EngineHandle;
use kv1nt::engine::approval::Policy;
use kv1nt::engine::protocol::{
    ApprovalDecision, Event, Op, PlanDecision, PlanProposal, TodoItem, TodoStatus, TurnOutcome,
};

const MUTATING: [&str; 5] = ["edit_file", "write_file", "run", "commit", "create_branch"];

fn tool_names(request: &RecordedRequest) -> Vec<String> {
    request.body["tools"]
        .as_array()
        .map(|tools| tools.iter().filter_map(|t| t["function"]["name"].as_str().map(String::from)).collect())
        .unwrap_or_default()
}

fn plan_call(summary: &str) -> serde_json::Value {
    json!({
        "summary": summary,
        "steps": ["Add src/greet.rs with greet()", "Export it from lib.rs"],
        "files": ["src/greet.rs", "src/lib.rs"],
        "risks": ["lib.rs is public API"]
    })
}

/// Submit `text` and drive the turn to its end: plans answered by `answer`, approvals approved.
async fn drive(
    engine: &mut EngineHandle,
    text: &str,
    mut answer: impl FnMut(&PlanProposal) -> PlanDecision,
) -> Vec<Event> {
    engine.ops.send(Op::Submit { text: text.into(), intent: None }).unwrap();
    let mut events = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), engine.events.recv())
            .await
            .expect("engine hung")
            .expect("engine stopped");
        match &event {
            Event::PlanProposed(p) => engine.ops.send(Op::Plan { id: p.id, decision: answer(p) }).unwrap(),
            Event::ApprovalRequest(r) => {
                engine.ops.send(Op::Approve { id: r.id, decision: ApprovalDecision::Once }).unwrap()
            }
            _ => {}
        }
        let end = matches!(event, Event::TurnEnded(_));
        events.push(event);
        if end {
            return events;
        }
    }
}

async fn set_policy(engine: &mut EngineHandle, policy: Policy) {
    engine.ops.send(Op::SetPolicy(policy)).unwrap();
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(10), engine.events.recv()).await.unwrap().unwrap();
        if event == Event::PolicyChanged(policy) {
            return;
        }
    }
}

#[tokio::test]
async fn plan_mode_changes_nothing_and_an_approved_plan_becomes_the_policy_and_the_task_list() {
    let script = vec![
        Turn::text(&["Looking."]).tool_call("c1", "read_file", json!({"path": "src/lib.rs"})),
        Turn::text(&["Trying anyway."]).tool_call(
            "c2",
            "write_file",
            json!({"path": "src/evil.rs", "content": "pub fn evil() {}\n"}),
        ),
        Turn::text(&["Here is the plan."]).tool_call("c3", "propose_plan", plan_call("Add a greeting.")),
        Turn::text(&["Doing it."]).tool_call(
            "c4",
            "write_file",
            json!({"path": "src/greet.rs", "content": "pub fn greet() -> &'static str {\n    \"hi\"\n}\n"}),
        ),
        Turn::text(&["Done."]),
    ];
    let server = ScriptedServer::start(Wire::OpenAi, script).await;
    let session = Session::new();
    let src = session.dir.path().join("repo/src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("lib.rs"), "pub fn one() -> u8 {\n    1\n}\n").unwrap();
    let mut engine = session.engine(&server.base_url(), 32_768, 1_024, None);
    set_policy(&mut engine, Policy::AutoEdit).await;
    set_policy(&mut engine, Policy::Plan).await;

    let mut proposed = None;
    let events = drive(&mut engine, "add a greeting function", |p| {
        proposed = Some(p.clone());
        let mut steps = p.steps.clone();
        steps.push("Run the tests".into());
        PlanDecision::Approve { policy: p.policy, steps }
    })
    .await;

    let requests = server.chat_requests();
    let first = tool_names(&requests[0]);
    assert!(first.contains(&"propose_plan".to_string()), "{first:?}");
    assert!(MUTATING.iter().all(|m| !first.contains(&m.to_string())), "plan mode offers {first:?}");
    assert!(system_of(&requests[0]).contains("# Plan mode"));
    let refused = requests[2].body.to_string();
    assert!(refused.contains("plan mode: no changes are made"), "the write is refused: {refused}");
    assert!(!src.join("evil.rs").exists(), "nothing is written in plan mode");

    let p = proposed.expect("the plan is shown");
    assert_eq!(p.summary, "Add a greeting.");
    assert_eq!(p.files, ["src/greet.rs", "src/lib.rs"]);
    assert_eq!(p.risks, ["lib.rs is public API"]);
    assert_eq!(p.policy, Policy::AutoEdit, "approval offers the policy before plan mode");

    assert!(events.contains(&Event::PolicyChanged(Policy::AutoEdit)));
    let todo =
        events.iter().find_map(|e| if let Event::Todo(items) = e { Some(items.clone()) } else { None });
    assert_eq!(
        todo,
        Some(vec![
            TodoItem::new("Add src/greet.rs with greet()", TodoStatus::Pending),
            TodoItem::new("Export it from lib.rs", TodoStatus::Pending),
            TodoItem::new("Run the tests", TodoStatus::Pending),
        ])
    );
    let after = &requests[3];
    let tools = tool_names(after);
    assert!(
        tools.contains(&"write_file".to_string()) && !tools.contains(&"propose_plan".to_string()),
        "{tools:?}"
    );
    let system = system_of(after);
    assert!(!system.contains("# Plan mode") && system.contains("3. [pending] Run the tests"), "{system}");
    assert!(after.body.to_string().contains("approved the plan with their edits"));
    assert!(src.join("greet.rs").exists(), "the approved plan is carried out in the same turn");
    assert!(matches!(events.last(), Some(Event::TurnEnded(TurnOutcome::Complete { .. }))));
}

#[tokio::test]
async fn a_rejection_with_words_gets_a_revised_plan_and_one_without_ends_the_turn_in_plan_mode() {
    let script = vec![
        Turn::text(&["Plan A."]).tool_call("c1", "propose_plan", plan_call("Plan A.")),
        Turn::text(&["Plan B."]).tool_call("c2", "propose_plan", plan_call("Plan B.")),
        Turn::text(&["Still planning."]),
    ];
    let server = ScriptedServer::start(Wire::OpenAi, script).await;
    let session = Session::new();
    let mut engine = session.engine(&server.base_url(), 32_768, 1_024, None);
    set_policy(&mut engine, Policy::Plan).await;
    let mut shown = Vec::new();
    let events = drive(&mut engine, "add a greeting", |p| {
        shown.push(p.summary.clone());
        let feedback = (p.summary == "Plan A.").then(|| "put it in utils.rs instead".to_string());
        PlanDecision::Reject { feedback }
    })
    .await;
    assert_eq!(shown, ["Plan A.", "Plan B."]);
    let requests = server.chat_requests();
    assert_eq!(requests.len(), 2, "a rejection without words ends the turn");
    assert!(requests[1].body.to_string().contains("put it in utils.rs instead"));
    assert!(!events.iter().any(|e| matches!(e, Event::PolicyChanged(_) | Event::Todo(_))));

    drive(&mut engine, "what now?", |_| panic!("no plan")).await;
    let last = server.chat_requests().pop().unwrap();
    assert!(tool_names(&last).contains(&"propose_plan".to_string()), "still in plan mode");
}

#[tokio::test]
async fn a_plan_outside_plan_mode_is_refused() {
    let script = vec![
        Turn::text(&["Plan."]).tool_call("c1", "propose_plan", plan_call("Plan.")),
        Turn::text(&["Ok."]),
    ];
    let server = ScriptedServer::start(Wire::OpenAi, script).await;
    let session = Session::new();
    let mut engine = session.engine(&server.base_url(), 32_768, 1_024, None);
    drive(&mut engine, "plan it", |_| panic!("no plan dialog outside plan mode")).await;
    let requests = server.chat_requests();
    assert!(!tool_names(&requests[0]).contains(&"propose_plan".to_string()));
    assert!(requests[1].body.to_string().contains("Not in plan mode"));
}

#[tokio::test]
async fn exec_in_plan_mode_prints_the_plan_and_changes_nothing() {
    let script = vec![
        Turn::text(&["Plan."]).tool_call("c1", "propose_plan", plan_call("Add a greeting.")),
        Turn::text(&["unreachable"]),
    ];
    let server = ScriptedServer::start(Wire::Anthropic, script).await;
    let fx = super::undo_cli::Fx::new();
    fx.repo.write("notes.txt", b"hello\n");
    let base = server.base_url();
    let out = tokio::task::spawn_blocking(move || {
        fx.kv1nt(&["exec", "--json", "--approval", "plan", "add a greeting"])
            .env("ANTHROPIC_BASE_URL", &base)
            .env("ANTHROPIC_API_KEY", "sk-test")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plan = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["type"] == "plan")
        .expect("a plan line");
    assert_eq!(plan["summary"], "Add a greeting.");
    assert_eq!(plan["steps"][1], "Export it from lib.rs");
    assert_eq!(server.chat_requests().len(), 1, "the turn ends with the plan");
}
