//! Structured test results end to end: the model asks to run a real test runner in the sandbox,
//! and both the tool result it gets back and the `RunFinished` event the Output pane shows carry
//! the counts and the failure by name, location and message.

use kv1nt::engine::approval::Policy;
use kv1nt::engine::protocol::{ApprovalDecision, Event, TestReport, TestRunner};
use kv1nt::engine::sandbox::SandboxMode;
use serde_json::json;

use super::run_tool::{Fixture, drive, run_call};
use crate::support::{ScriptedServer, Turn, Wire, require};

/// Whether `program` runs with the sandbox's system `PATH` (a pyenv or nvm shim is not what a
/// sandboxed command finds): skip, or fail under `CI=true`.
fn installed(program: &str, args: &[&str], install: &str) -> bool {
    let ok = std::process::Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .output()
        .is_ok_and(|o| o.status.success());
    require(ok, &format!("{program} {}", args.join(" ")), install)
}

/// The model runs `command` in the fixture's repository; returns the test report of the run and
/// what the model was sent back.
async fn run_as_model(fx: &Fixture, command: &str) -> (Option<TestReport>, String) {
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![run_call(json!({"command": command})), Turn::text(&["Seen."])],
    )
    .await;
    let mut engine = fx.engine(&server.base_url(), Policy::Ask, SandboxMode::Enforce);
    engine
        .ops
        .send(kv1nt::engine::protocol::Op::Submit { text: "run the tests".into(), intent: None })
        .unwrap();
    let events = drive(&mut engine, |_, _, _| ApprovalDecision::Once, |_, _| {}, false).await;
    // The model's run, not a project check the turn ran around it (those are runs too).
    let run_id = events
        .iter()
        .find_map(|e| match e {
            Event::RunStarted { id, title } if title.contains(command) => Some(*id),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the model's run started: {events:?}"));
    let tests = events
        .iter()
        .find_map(|e| match e {
            Event::RunFinished { id, tests, .. } if *id == run_id => Some(tests.clone()),
            _ => None,
        })
        .expect("the run finished");
    let requests = server.chat_requests();
    let sent = requests[1].body["messages"].to_string();
    (tests, sent)
}

#[tokio::test]
async fn a_failing_pytest_run_reaches_the_model_as_counts_and_the_failure() {
    if !installed("python3", &["-m", "pytest", "--version"], "apt-get install python3-pytest") {
        return;
    }
    let fx = Fixture::new();
    std::fs::create_dir_all(fx.repo().join("tests")).unwrap();
    std::fs::write(fx.repo().join("calc.py"), "def add(a, b):\n    return a + b\n").unwrap();
    std::fs::write(
        fx.repo().join("tests/test_calc.py"),
        "from calc import add\n\n\ndef test_add_ok():\n    assert add(2, 2) == 4\n\n\ndef test_add():\n    assert add(1, 2) == 4\n",
    )
    .unwrap();
    // No cache or bytecode: the run changes nothing in the workspace, so no change set to settle;
    // `python3 -m` puts the workspace on sys.path for `from calc import add`.
    let command = "PYTHONDONTWRITEBYTECODE=1 python3 -m pytest -p no:cacheprovider tests";
    let (tests, sent) = run_as_model(&fx, command).await;
    let tests = tests.unwrap_or_else(|| panic!("a test report; the model got: {sent}"));
    assert_eq!((tests.runner, tests.passed, tests.failed, tests.skipped), (TestRunner::Pytest, 1, 1, 0));
    assert_eq!(tests.failures[0].name, "tests/test_calc.py::test_add");
    assert_eq!(tests.failures[0].location, Some(("tests/test_calc.py".into(), 9)));
    assert_eq!(tests.summary_line(), "1 passed, 1 failed: tests/test_calc.py::test_add — assert 3 == 4");
    assert!(
        sent.contains(
            "Test results (pytest): 1 passed, 1 failed: tests/test_calc.py::test_add — assert 3 == 4"
        ),
        "{sent}"
    );
    assert!(sent.contains("tests/test_calc.py::test_add (tests/test_calc.py:9) — assert 3 == 4"), "{sent}");
}

#[tokio::test]
async fn node_test_locations_are_relative_to_the_workspace() {
    if !installed("node", &["--version"], "apt-get install nodejs") {
        return;
    }
    let fx = Fixture::new();
    std::fs::create_dir_all(fx.repo().join("test")).unwrap();
    std::fs::write(
        fx.repo().join("test/calc.test.js"),
        "const test = require('node:test');\nconst assert = require('node:assert');\n\ntest('adds', () => {\n  assert.strictEqual(1 + 1, 2);\n});\n\ntest('adds wrong', () => {\n  assert.strictEqual(1 + 2, 4);\n});\n\ntest.skip('later', () => {});\n",
    )
    .unwrap();
    let (tests, sent) = run_as_model(&fx, "node --test --test-reporter=tap test/").await;
    let tests = tests.unwrap_or_else(|| panic!("a test report; the model got: {sent}"));
    assert_eq!((tests.runner, tests.passed, tests.failed, tests.skipped), (TestRunner::Node, 1, 1, 1));
    assert_eq!(tests.failures[0].name, "adds wrong");
    assert_eq!(
        tests.failures[0].location,
        Some(("test/calc.test.js".into(), 9)),
        "node printed an absolute path"
    );
    assert!(
        sent.contains("1 passed, 1 failed, 1 skipped: adds wrong — Expected values to be strictly equal:"),
        "{sent}"
    );
}

#[tokio::test]
async fn a_command_that_is_not_a_test_run_has_no_report() {
    let fx = Fixture::new();
    let (tests, sent) = run_as_model(&fx, "echo '=== 3 passed in 0.01s ==='").await;
    assert_eq!(tests, None, "echo is not a test runner");
    assert!(!sent.contains("Test results"), "{sent}");
}
