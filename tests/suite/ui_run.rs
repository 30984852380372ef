//! The TUI side of sandboxed runs: the status bar and composer say a run is going, Ctrl+C in the
//! Output pane cancels it, `/run` sends the block shown in Code, and the approval dialog for a
//! snippet shows its first line with the whole code in Diff, and a test run ends with its counts.

use std::collections::BTreeMap;
use std::time::Instant;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use kv1nt::app::keymap::Keymap;
use kv1nt::app::state::{AppState, Focus, Pane};
use kv1nt::app::{input, update};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{ApprovalRequest, Event, Op, OutputStream, TurnOutcome};
use kv1nt::engine::protocol::{GateAction, Risk, TestFailure, TestReport, TestRunner};
use kv1nt::text::theme::{ColorMode, Theme};
use kv1nt::widgets;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use tokio::sync::mpsc;

fn state() -> AppState {
    let keymap = Keymap::load(&BTreeMap::new()).unwrap();
    let theme = Theme::builtin("dark").unwrap().with_color_mode(ColorMode::TrueColor);
    AppState::new(keymap, theme, ProviderKind::Anthropic, "claude-opus-4-5".into())
}

fn screen(state: &mut AppState, width: u16, height: u16) -> String {
    let area = Rect::new(0, 0, width, height);
    let mut buf = Buffer::empty(area);
    widgets::draw_into(area, &mut buf, state, Instant::now());
    (0..height)
        .map(|y| (0..width).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

fn press(state: &mut AppState, code: KeyCode, modifiers: KeyModifiers, ops: &mpsc::UnboundedSender<Op>) {
    input::handle(state, TermEvent::Key(KeyEvent::new(code, modifiers)), ops);
}

fn type_line(state: &mut AppState, text: &str, ops: &mpsc::UnboundedSender<Op>) {
    for c in text.chars() {
        press(state, KeyCode::Char(c), KeyModifiers::NONE, ops);
    }
    press(state, KeyCode::Enter, KeyModifiers::NONE, ops);
}

fn reply(state: &mut AppState, answer: &str) {
    update::apply(state, Event::TurnStarted { provider: ProviderKind::Anthropic, model: "m".into() });
    update::apply(state, Event::TextDelta(answer.into()));
    update::apply(state, Event::TurnEnded(TurnOutcome::Complete { stop_reason: None }));
}

#[test]
fn a_running_run_shows_in_the_status_bar_and_ctrl_c_in_output_cancels_it() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut s = state();
    update::apply(&mut s, Event::RunStarted { id: 7, title: "cargo test — no network".into() });
    update::apply(
        &mut s,
        Event::RunOutput { id: 7, stream: OutputStream::Stdout, text: "running 3 tests\n".into() },
    );
    assert!(s.busy(), "a run counts as busy");
    let shown = screen(&mut s, 180, 30);
    assert!(shown.contains("running") && shown.contains("Ctrl+C cancels"), "{shown}");
    assert!(shown.contains("▶ run: cargo test") && shown.contains("running 3 tests"), "{shown}");

    s.focus = Focus::Pane(Pane::Output);
    press(&mut s, KeyCode::Char('c'), KeyModifiers::CONTROL, &tx);
    assert_eq!(rx.try_recv().ok(), Some(Op::Cancel), "Ctrl+C in Output cancels the run");
    assert!(!s.should_quit, "and does not quit");

    update::apply(
        &mut s,
        Event::RunFinished { id: 7, ok: false, summary: "cancelled · 1.20 s".into(), tests: None },
    );
    assert!(!s.busy());
    let shown = screen(&mut s, 180, 30);
    assert!(shown.contains("■ cancelled · 1.20 s") && !shown.contains("Ctrl+C cancels"), "{shown}");
}

#[test]
fn a_test_run_ends_with_its_counts_and_first_failure_in_output() {
    let mut s = state();
    update::apply(&mut s, Event::RunStarted { id: 3, title: "pytest".into() });
    let mut tests = TestReport::new(TestRunner::Pytest);
    tests.passed = 12;
    tests.failed = 1;
    tests.failures.push(TestFailure {
        name: "tests/test_calc.py::test_add".into(),
        location: Some(("tests/test_calc.py".into(), 6)),
        message: "assert 3 == 4".into(),
    });
    update::apply(
        &mut s,
        Event::RunFinished { id: 3, ok: false, summary: "exit 1 · 0.40 s".into(), tests: Some(tests) },
    );
    let lines: Vec<&str> = s.output.lines.iter().map(|l| l.text.as_str()).collect();
    let n = lines.len();
    assert_eq!(
        lines[n.saturating_sub(2)..],
        [
            "■ exit 1 · 0.40 s",
            "■ tests (pytest): 12 passed, 1 failed: tests/test_calc.py::test_add — assert 3 == 4"
        ],
        "the Output pane's last lines"
    );
    assert!(screen(&mut s, 180, 30).contains("■ tests (pytest): 12"), "and it is drawn");
}

#[test]
fn slash_run_sends_the_block_shown_in_code() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut s = state();
    type_line(&mut s, "/run", &tx);
    assert!(rx.try_recv().is_err(), "no block yet: nothing is sent");
    assert!(screen(&mut s, 180, 30).contains("no code block to run yet"));

    reply(&mut s, "Here:\n\n```python\nprint(6 * 7)\n```\n\nand\n\n```sh\necho two\n```\n");
    type_line(&mut s, "/run", &tx);
    assert_eq!(
        rx.try_recv().ok(),
        Some(Op::RunCode { language: Some("sh".into()), code: "echo two\n".into() }),
        "the newest block is the one shown"
    );
    // Step back to the first block (Ctrl+P) and run that one.
    press(&mut s, KeyCode::Char('p'), KeyModifiers::CONTROL, &tx);
    type_line(&mut s, "/run", &tx);
    assert_eq!(
        rx.try_recv().ok(),
        Some(Op::RunCode { language: Some("python".into()), code: "print(6 * 7)\n".into() })
    );
}

#[test]
fn approving_a_snippet_shows_its_first_line_and_the_whole_code_in_diff() {
    let mut s = state();
    let command = "python <<'EOF'\nimport sys\nprint('from the model')\nEOF".to_string();
    update::apply(
        &mut s,
        Event::ApprovalRequest(ApprovalRequest {
            id: 1,
            action: GateAction::Command { command, cwd: ".".into() },
            risk: Risk::Medium,
            reasons: vec!["`python` is not a known build, test or read-only command".into()],
            summary: "run this python snippet (2 lines) in a scratch directory, sandboxed".into(),
            session_scope: None,
            editable: false,
            picks: Vec::new(),
            syntax: Vec::new(),
        }),
    );
    let shown = screen(&mut s, 180, 40);
    assert!(shown.contains("Approve command — risk MEDIUM"), "{shown}");
    assert!(
        shown.contains("$ python <<'EOF'") && shown.contains("whole snippet is shown in Diff"),
        "{shown}"
    );
    assert!(shown.contains("print('from the model')"), "Diff shows the code:\n{shown}");
}
