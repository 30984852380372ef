//! The fix loop on tests, through the real engine, sandbox and a real pytest: a turn whose
//! change makes a passing test fail (the model ran the tests before and after) goes back to the
//! model with the failure by name; a round after which the tests were not run again ends the
//! loop; the tests' summary lines before and after are recorded on the turn's proposals.

use kv1nt::engine::approval::Policy;
use kv1nt::engine::protocol::{ApprovalDecision, Event, LogLevel, Op};
use kv1nt::engine::sandbox::SandboxMode;
use serde_json::json;

use super::run_tool::{Fixture, drive, run_call};
use crate::support::{ScriptedServer, Turn, Wire, require};

const GOOD: &str = "def add(a, b):\n    return a + b\n";
const BAD: &str = "def add(a, b):\n    return a - b\n";
const PYTEST: &str = "PYTHONDONTWRITEBYTECODE=1 python3 -m pytest -p no:cacheprovider -q tests";

fn pytest_installed() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-m", "pytest", "--version"])
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .output()
        .is_ok_and(|o| o.status.success());
    require(ok, "python3 -m pytest", "apt-get install python3-pytest")
}

fn python_repo() -> Fixture {
    let fx = Fixture::new();
    std::fs::create_dir_all(fx.repo().join("tests")).unwrap();
    std::fs::write(fx.repo().join("calc.py"), GOOD).unwrap();
    std::fs::write(
        fx.repo().join("tests/test_calc.py"),
        "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\ndef test_zero():\n    assert add(0, 0) == 0\n",
    )
    .unwrap();
    fx
}

fn write_calc(content: &str) -> Turn {
    Turn::text(&[]).tool_call("w", "write_file", json!({"path": "calc.py", "content": content}))
}

fn pytest() -> Turn {
    run_call(json!({ "command": PYTEST }))
}

async fn turn(fx: &Fixture, server: &ScriptedServer) -> Vec<Event> {
    let mut engine = fx.engine(&server.base_url(), Policy::Ask, SandboxMode::Enforce);
    engine.ops.send(Op::Submit { text: "change add".into(), intent: None }).unwrap();
    drive(&mut engine, |_, _, _| ApprovalDecision::Once, |_, _| {}, false).await
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

#[tokio::test]
async fn a_test_the_turn_broke_goes_back_to_the_model_by_name() {
    if !pytest_installed() {
        return;
    }
    let fx = python_repo();
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![
            pytest(),
            write_calc(BAD),
            pytest(),
            Turn::text(&["Done."]),
            write_calc(GOOD),
            pytest(),
            Turn::text(&["Fixed: the tests pass."]),
        ],
    )
    .await;
    let events = turn(&fx, &server).await;

    assert_eq!(server.remaining_turns(), 0, "{:?}", notices(&events));
    let requests = server.chat_requests();
    let told = requests[4].body["messages"].to_string();
    assert!(told.contains("[kv1nt fix round 1 of 3]"), "{told}");
    assert!(
        told.contains("Tests that passed before your changes now fail (pytest): 1 test newly fails"),
        "{told}"
    );
    assert!(told.contains("- tests/test_calc.py::test_add (tests/test_calc.py:5)"), "{told}");
    let shown = notices(&events);
    assert!(shown.iter().any(|(_, t)| t.starts_with("Fix round 1/3: 1 test newly fails")), "{shown:?}");
    assert_eq!(std::fs::read_to_string(fx.repo().join("calc.py")).unwrap(), GOOD);

    let rows = fx.store().proposals(None).unwrap();
    let edit = rows.iter().find(|r| r.kind == "edit").expect("the edit's proposal");
    assert_eq!((edit.check_rounds, edit.checks_passed), (Some(1), Some(true)), "{rows:#?}");
    assert_eq!(edit.tests_before.as_deref(), Some("2 passed, 0 failed"));
    assert_eq!(edit.tests_after.as_deref(), Some("2 passed, 0 failed"));
}

#[tokio::test]
async fn a_round_without_running_the_tests_again_ends_the_loop() {
    if !pytest_installed() {
        return;
    }
    let fx = python_repo();
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![
            pytest(),
            write_calc(BAD),
            pytest(),
            Turn::text(&["Done."]),
            write_calc(GOOD),
            Turn::text(&["Fixed, surely."]),
            Turn::text(&["never asked for"]),
        ],
    )
    .await;
    let events = turn(&fx, &server).await;

    assert_eq!(server.remaining_turns(), 1, "no second round");
    let shown = notices(&events);
    assert!(
        shown.iter().any(|(level, t)| *level == LogLevel::Warn
            && t.starts_with("The tests were not run again after the last fix round")),
        "{shown:?}"
    );
    let rows = fx.store().proposals(None).unwrap();
    let edit = rows.iter().find(|r| r.kind == "edit").expect("an edit's proposal");
    assert_eq!(edit.check_rounds, Some(1), "{rows:#?}");
    assert_eq!(edit.checks_passed, Some(false), "the last test run failed: {rows:#?}");
    assert!(edit.tests_after.as_deref().unwrap().starts_with("1 passed, 1 failed"), "{rows:#?}");
}
