//! Skills (Claude Code's `skills/NAME/SKILL.md`) through the real engine and a scripted model:
//! only a skill's name and description are in the system prompt; the model loads the body with
//! the `skill` tool, then one of the skill's files; a file outside the skill's folder is refused;
//! without skills no `skill` tool is offered; an untrusted repository's skills stay out.

use serde_json::json;

use super::custom_commands::{engine, write};
use super::run_tool::{Fixture, drive};
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::protocol::{ApprovalDecision, Event, TurnOutcome};

const SKILL: &str = "---\nname: release-notes\ndescription: Write release notes from the git log\n---\n\
    # Release notes\nGroup changes by Added, Fixed, Removed. The wording rules are in style.md.\n";

fn system(body: &serde_json::Value) -> String {
    body["messages"][0]["content"].as_str().unwrap_or_default().to_string()
}

fn offers_skill(body: &serde_json::Value) -> bool {
    body["tools"].as_array().unwrap().iter().any(|t| t["function"]["name"] == "skill")
}

/// The content of the tool result answering `call_id` in a request.
fn tool_result(body: &serde_json::Value, call_id: &str) -> String {
    let messages = body["messages"].as_array().unwrap();
    let found = messages.iter().find(|m| m["role"] == "tool" && m["tool_call_id"] == call_id);
    found.unwrap_or_else(|| panic!("no result for {call_id}: {body}"))["content"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_skill_is_described_in_the_prompt_and_loaded_on_demand() {
    let fx = Fixture::new();
    let user = tempfile::tempdir().unwrap();
    write(&user.path().join("skills/notes/SKILL.md"), SKILL);
    write(&user.path().join("skills/notes/style.md"), "Use the imperative mood.\n");
    write(&user.path().join("secret.txt"), "not for the model");
    let turns = vec![
        Turn::text(&["Loading the skill."]).tool_call("s1", "skill", json!({"name": "release-notes"})),
        Turn::text(&["And its style."]).tool_call(
            "s2",
            "skill",
            json!({"name": "release-notes", "file": "style.md"}),
        ),
        Turn::text(&["Escaping."]).tool_call(
            "s3",
            "skill",
            json!({"name": "release-notes", "file": "../../secret.txt"}),
        ),
        Turn::text(&["Done."]),
    ];
    let server = ScriptedServer::start(Wire::OpenAi, turns).await;
    let mut engine = engine(&fx, &server.base_url(), user.path(), false);
    engine
        .ops
        .send(kv1nt::engine::protocol::Op::Submit { text: "write the notes".into(), intent: None })
        .unwrap();
    let events = drive(&mut engine, |_, _, _| ApprovalDecision::Deny, |_, _| {}, false).await;
    assert!(matches!(events.last(), Some(Event::TurnEnded(TurnOutcome::Complete { .. }))), "{events:?}");
    assert!(!events.iter().any(|e| matches!(e, Event::ApprovalRequest(_))), "reading a skill asks nothing");

    let requests = server.chat_requests();
    let first = &requests[0].body;
    assert!(
        system(first).contains("- release-notes: Write release notes from the git log"),
        "{}",
        system(first)
    );
    assert!(!system(first).contains("Group changes by"), "the body is not in the prompt until loaded");
    assert!(offers_skill(first));

    let body = tool_result(&requests[1].body, "s1");
    assert!(body.starts_with("[skill release-notes]\n# Release notes\nGroup changes by Added"), "{body}");
    assert!(body.contains("[files of this skill, loaded with skill(name, file): style.md]"), "{body}");
    assert_eq!(
        tool_result(&requests[2].body, "s2"),
        "[skill release-notes — style.md]\nUse the imperative mood.\n"
    );
    let refused = tool_result(&requests[3].body, "s3");
    assert!(
        refused.contains("outside the skill's folder") && !refused.contains("not for the model"),
        "{refused}"
    );
}

#[tokio::test]
async fn no_skill_no_tool_and_an_untrusted_repository_skill_stays_out() {
    let fx = Fixture::new();
    let user = tempfile::tempdir().unwrap();
    write(
        &fx.repo().join(".claude/skills/theirs/SKILL.md"),
        "---\ndescription: Their secret workflow\n---\nDo it.\n",
    );
    let server = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["Hi."]), Turn::text(&["Hi."])]).await;
    for trusted in [false, true] {
        let mut engine = engine(&fx, &server.base_url(), user.path(), trusted);
        engine.ops.send(kv1nt::engine::protocol::Op::Submit { text: "hello".into(), intent: None }).unwrap();
        drive(&mut engine, |_, _, _| ApprovalDecision::Deny, |_, _| {}, false).await;
        engine.ops.send(kv1nt::engine::protocol::Op::Shutdown).unwrap();
    }
    let requests = server.chat_requests();
    assert!(!system(&requests[0].body).contains("Their secret workflow") && !offers_skill(&requests[0].body));
    assert!(
        system(&requests[1].body).contains("- theirs: Their secret workflow")
            && offers_skill(&requests[1].body)
    );
}
