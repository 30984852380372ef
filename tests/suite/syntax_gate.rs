//! The syntax gate through the real engine, store and sandbox, with a scripted model: a change
//! that breaks the file's syntax goes back to the model naming line, column and text, and the
//! user is not asked; the corrected attempt is what the dialog shows, with `syntax ✓`; after
//! `checks.max_syntax_retries` broken attempts the user sees it marked "does not parse"; errors
//! the file already had are not blamed; a command's change set passes the same gate; a file the
//! model reads is parsed ahead of its edit.

use super::run_tool::{Fixture, drive, run_call};
use crate::support::git::git_in;
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::approval::{GateAction, Policy};
use kv1nt::engine::checks::tree_cache;
use kv1nt::engine::grammars::Grammar;
use kv1nt::engine::protocol::{
    ApprovalDecision, ApprovalRequest, Event, LogLevel, Op, SyntaxVerdict, syntax_lines,
};
use kv1nt::engine::sandbox::SandboxMode;
use kv1nt::engine::store::ProposalRecord;
use serde_json::json;

const CALC: &str = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n";

fn edit(id: &str, replace: &str) -> Turn {
    let edits = json!({"path": "calc.py", "edits": [{"search": "    return a + b", "replace": replace}]});
    Turn::text(&[]).tool_call(id, "edit_file", edits)
}

/// Runs one turn of `turns` on `calc.py` (holding `start`) under `policy`; every approval is
/// answered with `answer`. Returns the requests the dialog got, the events, and the server.
async fn turn(
    fx: &Fixture,
    start: &str,
    turns: Vec<Turn>,
    policy: Policy,
    answer: ApprovalDecision,
) -> (Vec<ApprovalRequest>, Vec<Event>, ScriptedServer) {
    std::fs::write(fx.repo().join("calc.py"), start).unwrap();
    let server = ScriptedServer::start(Wire::OpenAi, turns).await;
    let mut engine = fx.engine(&server.base_url(), policy, SandboxMode::Enforce);
    engine.ops.send(Op::Submit { text: "change calc.py".into(), intent: None }).unwrap();
    let mut asked = Vec::new();
    let events = drive(
        &mut engine,
        |_, _, _| answer.clone(),
        |event, _| {
            if let Event::ApprovalRequest(request) = event {
                asked.push(request.clone());
            }
        },
        false,
    )
    .await;
    (asked, events, server)
}

/// What the model was sent in chat request `index` (its history, tool results included).
fn sent(server: &ScriptedServer, index: usize) -> String {
    let messages = &server.chat_requests()[index].body["messages"];
    let last = messages.as_array().and_then(|m| m.last()).expect("a history");
    last["content"].as_str().map(str::to_string).unwrap_or_else(|| last.to_string())
}

fn finished(events: &[Event]) -> Vec<(bool, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ToolFinished { ok, summary, .. } => Some((*ok, summary.clone())),
            _ => None,
        })
        .collect()
}

fn proposals(fx: &Fixture) -> Vec<ProposalRecord> {
    fx.store().proposals(None).unwrap()
}

#[tokio::test]
async fn a_broken_python_edit_goes_back_to_the_model_and_the_user_sees_the_fixed_one() {
    let fx = Fixture::new();
    let turns =
        vec![edit("e1", "    return (a + b"), edit("e2", "    return (a + b)"), Turn::text(&["Done."])];
    let (asked, events, server) = turn(&fx, CALC, turns, Policy::Ask, ApprovalDecision::Once).await;

    let back = sent(&server, 1);
    assert!(back.starts_with("Not applied: calc.py (python) does not parse after this change"), "{back}");
    assert!(back.contains("line 2 col 5: unexpected `return (a + b`"), "line, column and text: {back}");
    assert!(back.contains("syntax check 1 of 2"), "{back}");
    assert_eq!(asked.len(), 1, "only the corrected attempt reaches the dialog: {asked:?}");
    let GateAction::Edit { changes } = &asked[0].action else { panic!("{:?}", asked[0].action) };
    assert!(changes[0].after.as_deref().unwrap().contains("return (a + b)\n"));
    assert_eq!(syntax_lines(&asked[0].syntax), vec!["syntax ✓ (python)".to_string()]);
    assert_eq!(
        std::fs::read_to_string(fx.repo().join("calc.py")).unwrap(),
        CALC.replace("return a + b", "return (a + b)")
    );
    let results = finished(&events);
    assert!(
        !results[0].0 && results[0].1.contains("does not parse"),
        "the chat shows the send-back: {results:?}"
    );
    assert!(results[1].0, "{results:?}");
    let rows = proposals(&fx);
    assert_eq!(rows.len(), 1, "a send-back is no verdict of the gate: {rows:?}");
    assert_eq!((rows[0].syntax_retries, rows[0].parsed), (Some(1), Some(true)));
}

#[tokio::test]
async fn after_the_retries_the_user_sees_it_marked_does_not_parse() {
    let fx = Fixture::new();
    let turns = vec![
        edit("e1", "    return (a + b"),
        edit("e2", "    return [a + b"),
        edit("e3", "    return {a + b"),
        Turn::text(&["I could not fix it."]),
    ];
    let (asked, events, server) = turn(&fx, CALC, turns, Policy::Ask, ApprovalDecision::Deny).await;

    assert!(sent(&server, 2).contains("the next attempt goes to the user"), "{}", sent(&server, 2));
    assert_eq!(asked.len(), 1, "{asked:?}");
    let lines = syntax_lines(&asked[0].syntax);
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("syntax ✗ does not parse: line 2 col 5: "), "{lines:?}");
    assert!(lines[0].contains("return {a + b"), "{lines:?}");
    assert_eq!(std::fs::read_to_string(fx.repo().join("calc.py")).unwrap(), CALC, "denied: untouched");
    assert_eq!(finished(&events).iter().filter(|(ok, _)| !ok).count(), 3);
    let rows = proposals(&fx);
    assert_eq!(
        (rows[0].decision.as_str(), rows[0].syntax_retries, rows[0].parsed),
        ("denied", Some(2), Some(false))
    );
}

#[tokio::test]
async fn a_broken_change_applied_without_asking_is_still_named() {
    let fx = Fixture::new();
    let turns = vec![
        edit("e1", "    return (a + b"),
        edit("e2", "    return [a + b"),
        edit("e3", "    return {a + b"),
        Turn::text(&["Left it broken."]),
    ];
    let (asked, events, server) = turn(&fx, CALC, turns, Policy::AutoEdit, ApprovalDecision::Deny).await;

    assert!(asked.is_empty(), "auto-edit applies a medium-risk edit without asking: {asked:?}");
    assert!(std::fs::read_to_string(fx.repo().join("calc.py")).unwrap().contains("return {a + b"));
    let notice = events.iter().find_map(|e| match e {
        Event::Notice { level: LogLevel::Warn, text }
            if text.starts_with("Applied, although it does not parse") =>
        {
            Some(text.clone())
        }
        _ => None,
    });
    assert!(notice.is_some_and(|t| t.contains("calc.py: line 2 col 5")), "{events:?}");
    let told = sent(&server, 3);
    assert!(
        told.starts_with("Applied") && told.contains("It does not parse: calc.py: line 2 col 5"),
        "{told}"
    );
}

#[tokio::test]
async fn errors_the_file_already_had_are_not_blamed() {
    let fx = Fixture::new();
    let start = format!("{CALC}\n\ndef broken(:\n    pass\n");
    let turns = vec![edit("e1", "    return a + b + 0"), Turn::text(&["Done."])];
    let (asked, events, _server) = turn(&fx, &start, turns, Policy::Ask, ApprovalDecision::Once).await;

    assert_eq!(asked.len(), 1, "not sent back: {events:?}");
    assert!(matches!(asked[0].syntax[0].verdict, SyntaxVerdict::PreExisting { count: 1, .. }));
    assert_eq!(
        syntax_lines(&asked[0].syntax),
        vec!["syntax ✓ (python): no new errors; it already had 1 error".to_string()]
    );
    assert!(std::fs::read_to_string(fx.repo().join("calc.py")).unwrap().contains("a + b + 0"));
    assert_eq!(proposals(&fx)[0].parsed, Some(true));
}

#[tokio::test]
async fn a_command_that_breaks_a_json_file_is_sent_back_and_its_fix_is_asked() {
    let fx = Fixture::new();
    let repo = fx.repo();
    std::fs::remove_dir_all(repo.join(".git")).unwrap();
    std::fs::write(repo.join("config.json"), "{\"a\": 1}\n").unwrap();
    git_in(&repo, &["init", "-q", "-b", "main"]);
    git_in(&repo, &["add", "."]);
    git_in(&repo, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "start"]);
    let turns = vec![
        run_call(json!({"command": "printf '{\"a\": 1, \"b\": 2,}\\n' > config.json"})),
        run_call(json!({"command": "printf '{\"a\": 1, \"b\": 2}\\n' > config.json"})),
        Turn::text(&["Done."]),
    ];
    let server = ScriptedServer::start(Wire::OpenAi, turns).await;
    let mut engine = fx.engine(&server.base_url(), Policy::Ask, SandboxMode::Enforce);
    engine.ops.send(Op::Submit { text: "add b".into(), intent: None }).unwrap();
    let mut edits = Vec::new();
    drive(
        &mut engine,
        |_, _, _| ApprovalDecision::Once,
        |event, _| {
            if let Event::ApprovalRequest(r) = event
                && matches!(r.action, GateAction::Edit { .. })
            {
                edits.push((
                    syntax_lines(&r.syntax),
                    std::fs::read_to_string(repo.join("config.json")).unwrap(),
                ));
            }
        },
        false,
    )
    .await;

    let back = sent(&server, 1);
    assert!(back.contains("--- changes: discarded (1 file: config.json) ---"), "{back}");
    assert!(back.contains("config.json (json) does not parse after this change"), "{back}");
    assert!(back.contains("line 1 col 16: unexpected `,`"), "{back}");
    assert_eq!(edits.len(), 1, "only the fixed change set is asked: {edits:?}");
    assert_eq!(edits[0].0, vec!["syntax ✓ (json)".to_string()]);
    assert_eq!(edits[0].1, "{\"a\": 1}\n", "copy-on-write: untouched while asking");
    assert_eq!(std::fs::read_to_string(repo.join("config.json")).unwrap(), "{\"a\": 1, \"b\": 2}\n");
}

/// Reading a file parses it into the gate's tree cache off the critical path, so the edit the
/// model proposes next is re-parsed incrementally; the checked content is cached too (it is the
/// next edit's old content once applied). Each is looked up the moment it should be there: the
/// cache is one per process, shared with the tests running beside this one.
#[tokio::test]
async fn a_read_file_is_parsed_ahead_of_its_edit() {
    let fx = Fixture::new();
    let start = format!("{CALC}\n\ndef read_ahead_{}():\n    return 'ü'\n", std::process::id());
    let after = start.replace("return a + b", "return b + a");
    std::fs::write(fx.repo().join("calc.py"), &start).unwrap();
    let read = Turn::text(&[]).tool_call("r1", "read_file", json!({"path": "calc.py"}));
    let turns = vec![read, edit("e1", "    return b + a"), Turn::text(&["Done."])];
    let server = ScriptedServer::start(Wire::OpenAi, turns).await;
    let mut engine = fx.engine(&server.base_url(), Policy::Ask, SandboxMode::Enforce);
    engine.ops.send(Op::Submit { text: "swap them".into(), intent: None }).unwrap();
    let python = Grammar::from_path("calc.py").unwrap();
    let (mut read_cached, mut after_cached, mut asked) = (false, false, Vec::new());
    drive(
        &mut engine,
        |_, _, _| ApprovalDecision::Once,
        |event, _| match event {
            Event::ToolFinished { name, ok: true, .. } if name == "read_file" => {
                // Parsed on a blocking thread after the result was sent: wait for it here.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                while !read_cached && std::time::Instant::now() < deadline {
                    read_cached = tree_cache::get(python, &start).is_some();
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
            Event::ApprovalRequest(request) => {
                after_cached = tree_cache::get(python, &after).is_some();
                asked.push(syntax_lines(&request.syntax));
            }
            _ => {}
        },
        false,
    )
    .await;

    assert!(read_cached, "the read file's tree was cached");
    assert!(after_cached, "the checked content's tree was cached");
    assert_eq!(asked, vec![vec!["syntax ✓ (python)".to_string()]]);
    assert_eq!(std::fs::read_to_string(fx.repo().join("calc.py")).unwrap(), after);
}
