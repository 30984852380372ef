//! The project checks through the real engine and the real sandbox: `cargo check` on a crate
//! with a type error reports it with its file and line (on `/check`, and after a turn whose
//! applied change broke the build — compared with the baseline taken before it), the Problems
//! list opens the location in Code, and a hostile repository's `package.json` `lint` script or
//! its own check commands do not run until the user trusted the repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kv1nt::app::keymap::Keymap;
use kv1nt::app::problems::OutputView;
use kv1nt::app::state::{AppState, Focus, Pane};
use kv1nt::app::{input, update};
use kv1nt::text::theme::Theme;
use tokio::sync::mpsc;

use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::approval::Policy;
use kv1nt::engine::config::{self, Config, Fallback, Overrides, Paths, Secrets, TrustMode};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{ApprovalDecision, CheckReport, Event, Op, Severity};
use kv1nt::engine::store::Store;
use serde_json::json;

pub(super) const CARGO_TOML: &str =
    "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n";

pub(super) struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    pub(super) fn new() -> Self {
        crate::support::sandbox::use_built_helper();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("repo/.git")).unwrap();
        Self { dir }
    }

    pub(super) fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    pub(super) fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub(super) fn write(&self, rel: &str, text: &str) {
        let path = self.repo().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub(super) fn engine(&self, mut config: Config, base: Option<&str>) -> EngineHandle {
        config.llm.primary = ProviderKind::OpenAi;
        config.llm.fallback = Fallback::None;
        config.llm.max_retries = 0;
        config.openai.base_url = base.unwrap_or("http://127.0.0.1:9").into();
        // A cold `cargo check` of a tiny crate takes seconds; leave room on a busy machine.
        config.sandbox.timeout_secs = 120;
        spawn(EngineSetup {
            config,
            secrets: Secrets {
                anthropic_api_key: None,
                openai_api_key: Some("oa".into()),
                github_token: None,
            },
            workspace: self.repo(),
            store: Some(Store::open(&self.home()).unwrap()),
            resume: None,
            preflight: false,
            trust: None,
        })
    }
}

/// Events until the check report, answering approvals with Once.
pub(super) async fn until_report(engine: &mut EngineHandle) -> (CheckReport, Vec<Event>) {
    let mut events = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(240), engine.events.recv())
            .await
            .expect("engine hung")
            .expect("engine stopped");
        if let Event::ApprovalRequest(r) = &event {
            engine.ops.send(Op::Approve { id: r.id, decision: ApprovalDecision::Once }).unwrap();
        }
        if let Event::Checks(report) = event {
            return (report, events);
        }
        events.push(event);
    }
}

fn names(report: &CheckReport) -> Vec<&str> {
    report.checks.iter().map(|c| c.name.as_str()).collect()
}

#[tokio::test]
async fn check_runs_cargo_check_in_the_sandbox_and_reports_the_type_error_where_it_is() {
    let fx = Fixture::new();
    fx.write("Cargo.toml", CARGO_TOML);
    fx.write("src/main.rs", "mod calc;\n\nfn main() {\n    println!(\"{}\", calc::double(2));\n}\n");
    fx.write("src/calc.rs", "pub fn double(x: u32) -> u32 {\n    let y: u32 = \"two\";\n    x * y\n}\n");
    let mut engine = fx.engine(Config::default(), None);
    engine.ops.send(Op::Check).unwrap();
    let (report, events) = until_report(&mut engine).await;

    assert_eq!(names(&report), ["cargo check"], "{report:#?}");
    let started = events.iter().find_map(|e| match e {
        Event::RunStarted { title, .. } => Some(title.clone()),
        _ => None,
    });
    assert!(started.is_some_and(|t| t.contains("check: cargo check") && t.contains("sandboxed")));
    let shown: String = events
        .iter()
        .filter_map(|e| match e {
            Event::RunOutput { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert!(shown.contains("error[E0308]: mismatched types"), "Output shows what cargo would print: {shown}");
    assert!(!shown.contains("\"reason\""), "not cargo's JSON: {shown}");
    let check = &report.checks[0];
    assert!(!check.passed && !check.timed_out, "{check:?}");
    assert!(
        check.summary.contains("layers:") && check.summary.contains("landlock"),
        "sandboxed: {}",
        check.summary
    );
    let error = report.diagnostics.iter().find(|d| d.severity == Severity::Error).expect("an error");
    assert_eq!((error.file.as_str(), error.line, error.col), ("src/calc.rs", 2, 18), "{error:?}");
    assert_eq!(error.code.as_deref(), Some("E0308"));
    assert_eq!(error.check, "cargo check");
    assert!(report.summary().starts_with("✗ 1 error"), "{}", report.summary());
    assert!(fx.repo().join("target").is_dir(), "cargo wrote its build output in the workspace");

    // Fixed, the next check passes.
    fx.write("src/calc.rs", "pub fn double(x: u32) -> u32 {\n    x * 2\n}\n");
    engine.ops.send(Op::Check).unwrap();
    let (report, _) = until_report(&mut engine).await;
    assert!(report.checks[0].passed, "{report:#?}");
    assert_eq!(report.summary(), "checks ✓");
}

#[tokio::test]
async fn a_change_that_breaks_the_build_shows_in_problems_and_enter_opens_it_in_code() {
    let fx = Fixture::new();
    fx.write("Cargo.toml", CARGO_TOML);
    fx.write("src/lib.rs", "pub fn one() -> u32 {\n    1\n}\n");
    let broken = json!({"path": "src/lib.rs", "content": "pub fn one() -> u32 {\n    \"one\"\n}\n"});
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![Turn::text(&[]).tool_call("w", "write_file", broken), Turn::text(&["Done."])],
    )
    .await;
    let mut config = Config::default();
    config.agent.approval = Policy::Ask;
    // Without the fix loop (tests/suite/fix_loop.rs): the checks run once the turn ended.
    config.checks.max_fix_rounds = 0;
    let mut engine = fx.engine(config, Some(&server.base_url()));
    engine.ops.send(Op::Submit { text: "make one a string".into(), intent: None }).unwrap();

    // The baseline, taken before the approved change is written: the crate builds.
    let (before, _) = until_report(&mut engine).await;
    assert!(before.checks[0].passed && before.diagnostics.is_empty(), "{before:#?}");
    // Then the turn ends and the checks run on what it left.
    let (after, events) = until_report(&mut engine).await;
    assert!(events.iter().any(|e| matches!(e, Event::TurnEnded(_))), "checks run after the turn ended");
    let error = after.diagnostics.iter().find(|d| d.severity == Severity::Error).expect("an error");
    assert_eq!((error.file.as_str(), error.line), ("src/lib.rs", 2), "{error:?}");
    let delta = after.since(&before);
    assert_eq!(delta.broken, ["cargo check"]);
    assert_eq!(delta.new_errors.len(), 1, "{delta:?}");

    // The turn's proposal records that its checks failed (the fix loop is off: 0 rounds).
    let rows = Store::open(&fx.home()).unwrap().proposals(None).unwrap();
    let edit = rows.iter().find(|r| r.change_id.is_some()).expect("the applied edit's proposal");
    assert_eq!((edit.check_rounds, edit.checks_passed), (Some(0), Some(false)), "{rows:#?}");

    // The UI: the report fills the Problems list and the status bar; Enter opens the location.
    let mut app = app_state();
    update::apply(&mut app, Event::Checks(after));
    let (summary, _) = app.status.checks.clone().expect("a status bar summary");
    assert!(summary.starts_with("✗ 1 error"), "{summary}");
    app.focus = Focus::Pane(Pane::Output);
    let (ops, mut sent) = mpsc::unbounded_channel();
    input::handle(&mut app, key(KeyCode::Char('p')), &ops);
    assert_eq!(app.output.view, OutputView::Problems);
    input::handle(&mut app, key(KeyCode::Enter), &ops);
    let open = sent.try_recv().expect("Enter asks to open the location");
    assert!(matches!(&open, Op::OpenFile { path, line: 2 } if path == "src/lib.rs"), "{open:?}");
    engine.ops.send(open).unwrap();
    let opened = loop {
        match tokio::time::timeout(Duration::from_secs(30), engine.events.recv()).await.unwrap().unwrap() {
            event @ Event::OpenFile { .. } => break event,
            _ => continue,
        }
    };
    update::apply(&mut app, opened);
    assert_eq!(app.focus, Focus::Pane(Pane::Code));
    let doc = app.code.doc.as_ref().expect("the file is shown in Code");
    assert_eq!(doc.title, "src/lib.rs:2");
}

/// A server whose model writes a `src/lib.rs` that does not build, then says "Done."
async fn breaking_model() -> ScriptedServer {
    let broken = json!({"path": "src/lib.rs", "content": "pub fn one() -> u32 {\n    \"one\"\n}\n"});
    ScriptedServer::start(
        Wire::OpenAi,
        vec![Turn::text(&[]).tool_call("w", "write_file", broken), Turn::text(&["Done."])],
    )
    .await
}

/// Events until the turn ended and the engine took the next op: an `Op::OpenFile` sent after
/// `TurnEnded` is answered only once whatever followed the turn (checks) is done.
async fn through_turn(engine: &mut EngineHandle) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(240), engine.events.recv())
            .await
            .expect("engine hung")
            .expect("engine stopped");
        match &event {
            Event::ApprovalRequest(r) => {
                engine.ops.send(Op::Approve { id: r.id, decision: ApprovalDecision::Once }).unwrap();
            }
            Event::TurnEnded(_) => {
                engine.ops.send(Op::OpenFile { path: "Cargo.toml".into(), line: 1 }).unwrap();
            }
            Event::OpenFile { .. } => return events,
            _ => {}
        }
        events.push(event);
    }
}

fn reports(events: &[Event]) -> Vec<&CheckReport> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Checks(report) => Some(report),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn with_when_change_the_model_reads_the_checks_in_its_tool_result() {
    let fx = Fixture::new();
    fx.write("Cargo.toml", CARGO_TOML);
    fx.write("src/lib.rs", "pub fn one() -> u32 {\n    1\n}\n");
    let server = breaking_model().await;
    let mut config = Config::default();
    config.agent.approval = Policy::Ask;
    config.checks.when = kv1nt::engine::checks::CheckWhen::Change;
    config.checks.max_fix_rounds = 0;
    let mut engine = fx.engine(config, Some(&server.base_url()));
    engine.ops.send(Op::Submit { text: "make one a string".into(), intent: None }).unwrap();
    let events = through_turn(&mut engine).await;
    // The baseline, then the change's checks; none again after the turn (nothing changed since).
    let reports = reports(&events);
    assert_eq!(reports.len(), 2, "{reports:#?}");
    assert!(!reports[0].failed() && reports[1].failed(), "{reports:#?}");
    let requests = server.chat_requests();
    let tool_result = requests[1].body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool")
        .and_then(|m| m["content"].as_str())
        .expect("the write's tool result")
        .to_string();
    assert!(tool_result.contains("Project checks after this change: ✗ 1 error"), "{tool_result}");
    assert!(tool_result.contains("src/lib.rs:2:"), "{tool_result}");
}

#[tokio::test]
async fn with_when_off_no_check_runs() {
    let fx = Fixture::new();
    fx.write("Cargo.toml", CARGO_TOML);
    fx.write("src/lib.rs", "pub fn one() -> u32 {\n    1\n}\n");
    let server = breaking_model().await;
    let mut config = Config::default();
    config.agent.approval = Policy::Ask;
    config.checks.when = kv1nt::engine::checks::CheckWhen::Off;
    let mut engine = fx.engine(config, Some(&server.base_url()));
    engine.ops.send(Op::Submit { text: "make one a string".into(), intent: None }).unwrap();
    let events = through_turn(&mut engine).await;
    assert!(reports(&events).is_empty());
    assert!(!events.iter().any(|e| matches!(e, Event::RunStarted { .. })));
    assert!(!fx.repo().join("target").exists(), "cargo never ran");
}

#[tokio::test]
async fn a_problem_outside_the_workspace_is_not_opened() {
    let fx = Fixture::new();
    let mut engine = fx.engine(Config::default(), None);
    engine.ops.send(Op::OpenFile { path: "../../../../etc/passwd".into(), line: 1 }).unwrap();
    loop {
        match tokio::time::timeout(Duration::from_secs(30), engine.events.recv()).await.unwrap().unwrap() {
            Event::OpenFile { path, .. } => panic!("opened {path}"),
            Event::Notice { text, .. } if text.contains("cannot open") => break,
            _ => continue,
        }
    }
}

fn app_state() -> AppState {
    let keymap = Keymap::load(&BTreeMap::new()).unwrap();
    let theme = Theme::builtin("dark").unwrap();
    AppState::new(keymap, theme, ProviderKind::OpenAi, "gpt".into())
}

fn key(code: KeyCode) -> crossterm::event::Event {
    crossterm::event::Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// A repository whose config sets nothing held back is not trusted by that alone.
fn hostile_repo(fx: &Fixture) {
    fx.write("package.json", r#"{"name":"x","scripts":{"lint":"echo ran > lint-ran"}}"#);
    fx.write(".kv1nt/config.toml", "[checks]\nwhen = \"off\"\n");
}

fn load(repo: &Path, home: &Path) -> Config {
    let paths = Paths { user_config: None, data_dir: home.to_path_buf(), workspace: repo.to_path_buf() };
    config::load(&paths, &|_| None, &Overrides::default(), TrustMode::Recorded).unwrap().config
}

#[tokio::test]
async fn an_untrusted_repositorys_lint_script_and_check_commands_do_not_run() {
    let fx = Fixture::new();
    hostile_repo(&fx);
    let config = load(&fx.repo(), &fx.home());
    assert!(!config.repo_trusted, "a file with only harmless keys is not a trust");
    let mut engine = fx.engine(config, None);
    engine.ops.send(Op::Check).unwrap();
    let (report, _) = until_report(&mut engine).await;
    assert!(!names(&report).contains(&"npm run lint"), "{report:#?}");
    assert!(!fx.repo().join("lint-ran").exists(), "the lint script ran untrusted");

    // Its own check commands are held back too.
    fx.write(
        ".kv1nt/config.toml",
        "[checks.commands.evil]\ncommand = \"echo ran > command-ran\"\nformat = \"gcc\"\n",
    );
    let config = load(&fx.repo(), &fx.home());
    assert!(config.checks.commands.is_empty() && !config.repo_trusted);
    let mut engine = fx.engine(config, None);
    engine.ops.send(Op::Check).unwrap();
    let (report, _) = until_report(&mut engine).await;
    assert!(!names(&report).contains(&"evil"));
    assert!(!fx.repo().join("command-ran").exists());

    // Trusted, both run (sandboxed, in the workspace).
    let text = std::fs::read(fx.repo().join(".kv1nt/config.toml")).unwrap();
    let sha = kv1nt::engine::store::sha256_hex(&text);
    config::trust::record(&fx.home(), &config::trust::repo_key(&fx.repo()), &sha).unwrap();
    let config = load(&fx.repo(), &fx.home());
    assert!(config.repo_trusted);
    let mut engine = fx.engine(config, None);
    engine.ops.send(Op::Check).unwrap();
    let (report, _) = until_report(&mut engine).await;
    assert!(names(&report).contains(&"evil"), "{report:#?}");
    assert!(fx.repo().join("command-ran").exists(), "{report:#?}");
    let npm = kv1nt::engine::sandbox::languages::find_on_path("npm").is_some();
    if crate::support::prereq::require(npm, "npm", "apt-get install npm") {
        assert!(names(&report).contains(&"npm run lint"), "{report:#?}");
        assert!(fx.repo().join("lint-ran").exists(), "{report:#?}");
    }
}

#[tokio::test]
async fn python_and_go_checks_report_syntax_errors_and_vet_findings() {
    use kv1nt::engine::sandbox::languages::{Language, toolchain};
    let python =
        crate::support::prereq::require_found(toolchain(Language::Python), "apt-get install python3");
    let go = crate::support::prereq::require_found(toolchain(Language::Go), "apt-get install golang-go");
    if python.is_none() || go.is_none() {
        return;
    }
    let fx = Fixture::new();
    fx.write("app/broken.py", "def f(:\n    pass\n");
    fx.write("ok.py", "print(1)\n");
    fx.write("go.mod", "module example.com/demo\n\ngo 1.19\n");
    fx.write(
        "main.go",
        "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Printf(\"%d\\n\", \"x\")\n}\n",
    );
    let mut engine = fx.engine(Config::default(), None);
    engine.ops.send(Op::Check).unwrap();
    let (report, _) = until_report(&mut engine).await;
    assert!(names(&report).contains(&"python compile") && names(&report).contains(&"go vet"), "{report:#?}");
    let of =
        |check: &str| report.diagnostics.iter().filter(|d| d.check == check).cloned().collect::<Vec<_>>();
    let py = of("python compile");
    assert_eq!(py.len(), 1, "{report:#?}");
    assert_eq!((py[0].file.as_str(), py[0].line, py[0].severity), ("app/broken.py", 1, Severity::Error));
    let vet = of("go vet");
    assert_eq!(vet.len(), 1, "{report:#?}");
    assert_eq!((vet[0].file.as_str(), vet[0].line, vet[0].col), ("main.go", 6, 2), "{vet:?}");
    assert!(vet[0].message.contains("Printf"), "{vet:?}");
    assert!(
        !fx.repo().join("app/__pycache__").exists() && !fx.repo().join(".cache").exists(),
        "nothing written"
    );
}
