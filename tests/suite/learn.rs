//! `/learn` and `kv1nt learn`: a real git repository with a clear convention — snake_case
//! `test_` functions under `tests/`, `Result`-returning functions that propagate with `?`,
//! Conventional Commits, a rustfmt.toml — and a session in which the user twice changed a
//! proposed `.unwrap()` to `?` before approving yields those rules with their evidence.
//! Accepting a rule is an approval request editing `KV1NT.md`; approving writes it (and the rule
//! is not offered again), `/undo` takes it back, denying leaves the file alone.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::git::TestRepo;
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::approval::{GateAction, Policy};
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{ApprovalDecision, ApprovalRequest, Event, LogLevel, Op, Rule, RuleCategory};
use kv1nt::engine::store::Store;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_kv1nt");

const TESTS_A: &str = "use app::parse;\n\n#[test]\nfn test_parses_an_empty_list() {\n    assert!(parse(\"\").is_ok());\n}\n\n#[test]\nfn test_rejects_junk() {\n    assert!(parse(\"%\").is_err());\n}\n\n#[test]\nfn test_keeps_order() {\n    assert_eq!(parse(\"a,b\").unwrap(), [\"a\", \"b\"]);\n}\n";
const TESTS_B: &str = "#[test]\nfn test_opens_the_store() {\n    app::open(\"x\").unwrap();\n}\n\n#[test]\nfn test_saves_twice() {\n    app::save(1).unwrap();\n    app::save(1).unwrap();\n}\n";
const LIB: &str = "pub fn parse(text: &str) -> Result<Vec<String>, Error> {\n    let items = split(text)?;\n    Ok(items)\n}\n\npub fn open(path: &str) -> Result<Store, Error> {\n    let file = std::fs::File::open(path)?;\n    Store::from(file)\n}\n\npub fn save(value: u32) -> Result<(), Error> {\n    write(value)?;\n    flush()?;\n    Ok(())\n}\n\nfn split(text: &str) -> Result<Vec<String>, Error> {\n    check(text)?;\n    Ok(text.split(',').map(String::from).collect())\n}\n";

/// The fixture: a repository with a consistent history and an isolated kv1nt home.
struct Fx {
    repo: TestRepo,
    home: tempfile::TempDir,
}

impl Fx {
    fn new() -> Fx {
        crate::support::sandbox::use_built_helper();
        let repo = TestRepo::new();
        repo.write("rustfmt.toml", "max_width = 100\n");
        repo.write("src/lib.rs", LIB);
        repo.commit_all("feat: parse comma-separated lists");
        repo.write("tests/parse.rs", TESTS_A);
        repo.commit_all("test: cover the parser");
        repo.write("tests/store.rs", TESTS_B);
        repo.commit_all("test(store): open and save");
        repo.write(
            "src/lib.rs",
            format!("{LIB}\npub fn flush() -> Result<(), Error> {{\n    sync()?;\n    Ok(())\n}}\n"),
        );
        repo.commit_all("fix: flush after saving");
        repo.write("README.md", "# app\n");
        repo.commit_all("docs: say what the app is");
        Fx { repo, home: tempfile::tempdir().unwrap() }
    }

    /// The workspace as the engine and the CLI name it (the sessions' cwd).
    fn root(&self) -> PathBuf {
        std::fs::canonicalize(self.repo.path()).unwrap()
    }

    fn data(&self) -> PathBuf {
        self.home.path().join("data")
    }

    fn engine(&self, base: &str) -> EngineHandle {
        let mut c = Config::default();
        c.llm.primary = ProviderKind::OpenAi;
        c.llm.fallback = Fallback::None;
        c.llm.max_retries = 0;
        c.openai.base_url = base.into();
        c.agent.approval = Policy::Ask;
        spawn(EngineSetup {
            config: c,
            secrets: Secrets {
                anthropic_api_key: None,
                openai_api_key: Some("oa".into()),
                github_token: None,
            },
            workspace: self.root(),
            store: Some(Store::open(&self.data()).unwrap()),
            resume: None,
            preflight: false,
            trust: None,
        })
    }

    fn kv1nt(&self, args: &[&str]) -> std::process::Output {
        Command::new(BIN)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("KV1NT_HOME", self.data())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .current_dir(self.repo.path())
            .output()
            .unwrap()
    }
}

fn write(id: &str, path: &str, content: &str) -> Turn {
    Turn::text(&[]).tool_call(id, "write_file", json!({"path": path, "content": content}))
}

/// The next event `pick` accepts, answering nothing else.
async fn next<T>(engine: &mut EngineHandle, pick: impl Fn(Event) -> Option<T>) -> T {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(60), engine.events.recv())
            .await
            .expect("engine hung")
            .expect("engine stopped");
        if let Some(found) = pick(event) {
            return found;
        }
    }
}

async fn conventions(engine: &mut EngineHandle) -> Vec<Rule> {
    engine.ops.send(Op::Learn).unwrap();
    next(engine, |e| match e {
        Event::Conventions(rules) => Some(rules),
        _ => None,
    })
    .await
}

async fn approval(engine: &mut EngineHandle) -> ApprovalRequest {
    next(engine, |e| match e {
        Event::ApprovalRequest(r) => Some(r),
        _ => None,
    })
    .await
}

async fn notice(engine: &mut EngineHandle) -> String {
    next(engine, |e| match e {
        Event::Notice { level: LogLevel::Info, text } => Some(text),
        _ => None,
    })
    .await
}

fn rule<'a>(rules: &'a [Rule], id: &str) -> &'a Rule {
    rules.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no rule {id} in {rules:#?}"))
}

/// A session in which the model twice proposes `.unwrap()` and the user approves it with `?`.
async fn correct_twice(fx: &Fx, engine: &mut EngineHandle) {
    engine.ops.send(Op::Submit { text: "add config and db loaders".into(), intent: None }).unwrap();
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(60), engine.events.recv()).await.unwrap().unwrap();
        match event {
            Event::ApprovalRequest(r) => {
                let GateAction::Edit { changes } = &r.action else { panic!("{:?}", r.action) };
                let corrected = changes[0].after.as_deref().unwrap().replace(".unwrap()", "?");
                engine
                    .ops
                    .send(Op::Approve { id: r.id, decision: ApprovalDecision::ApproveEdited(corrected) })
                    .unwrap();
            }
            Event::TurnEnded(_) => break,
            _ => {}
        }
    }
    let written = std::fs::read_to_string(fx.root().join("src/config.rs")).unwrap();
    assert!(written.contains("load(path)?;"), "{written}");
}

fn scripted() -> Vec<Turn> {
    vec![
        write(
            "w1",
            "src/config.rs",
            "pub fn config(path: &str) -> Result<Config, Error> {\n    let text = load(path).unwrap();\n    Ok(Config::parse(&text))\n}\n",
        ),
        write(
            "w2",
            "src/db.rs",
            "pub fn db(url: &str) -> Result<Db, Error> {\n    let conn = connect(url).unwrap();\n    Ok(Db { conn })\n}\n",
        ),
        Turn::text(&["Done."]),
    ]
}

fn assert_repository_rules(rules: &[Rule]) {
    let names = rule(rules, "tests-rust-names");
    assert_eq!(names.text, "Name Rust test functions `test_<behaviour>` in snake_case under `tests/`.");
    assert_eq!((names.evidence.count, names.evidence.total), (5, 5));
    assert_eq!(names.evidence.examples[0], "tests/parse.rs:4 test_parses_an_empty_list");
    assert_eq!(rule(rules, "tests-rust-layout").evidence.count, 5);
    let result = rule(rules, "errors-rust-result");
    assert_eq!(result.category, RuleCategory::Errors);
    assert!(result.evidence.count >= 5 && result.evidence.count == result.evidence.total, "{result:?}");
    assert!(result.evidence.examples[0].starts_with("src/"), "{result:?}");
    let commits = rule(rules, "commits-conventional");
    assert_eq!((commits.evidence.count, commits.evidence.total), (5, 5));
    assert!(commits.evidence.examples[0].ends_with("docs: say what the app is"), "newest first: {commits:?}");
    assert_eq!(rule(rules, "tooling-rustfmt").evidence.examples, ["rustfmt.toml"]);
}

#[tokio::test]
async fn a_consistent_repository_and_repeated_corrections_yield_rules_and_accepting_one_asks_first() {
    let fx = Fx::new();
    let server = ScriptedServer::start(Wire::OpenAi, scripted()).await;
    let mut engine = fx.engine(&server.base_url());
    correct_twice(&fx, &mut engine).await;

    let rules = conventions(&mut engine).await;
    assert_repository_rules(&rules);
    let correction = rule(&rules, "correction-unwrap-to-question-mark");
    assert_eq!(correction.text, "Write `?` instead of `.unwrap()`.");
    assert_eq!((correction.evidence.count, correction.evidence.total), (2, 2));
    assert!(
        correction.evidence.examples[0]
            .contains("`let text = load(path).unwrap();` → `let text = load(path)?;`")
    );
    assert!(correction.evidence.examples[1].contains("connect(url)?"), "{correction:?}");

    // Denied: nothing is written.
    let names = rule(&rules, "tests-rust-names").clone();
    engine.ops.send(Op::AcceptRule(names.clone())).unwrap();
    let request = approval(&mut engine).await;
    assert!(request.summary.contains("add this convention to KV1NT.md"), "{}", request.summary);
    engine.ops.send(Op::Approve { id: request.id, decision: ApprovalDecision::Deny }).unwrap();
    assert!(notice(&mut engine).await.contains("not changed"));
    assert!(!fx.root().join("KV1NT.md").exists());

    // Approved: the edit the dialog showed is what is written; the rule is not offered again.
    engine.ops.send(Op::AcceptRule(names.clone())).unwrap();
    let request = approval(&mut engine).await;
    let GateAction::Edit { changes } = &request.action else { panic!("{:?}", request.action) };
    assert_eq!(changes[0].path, "KV1NT.md");
    assert_eq!(changes[0].before, None);
    let expected = format!("## Conventions\n\n- {}\n", names.text);
    assert_eq!(changes[0].after.as_deref(), Some(expected.as_str()));
    assert!(request.editable);
    engine.ops.send(Op::Approve { id: request.id, decision: ApprovalDecision::Once }).unwrap();
    assert!(notice(&mut engine).await.starts_with("Added to KV1NT.md"));
    assert_eq!(std::fs::read_to_string(fx.root().join("KV1NT.md")).unwrap(), expected);
    let again = conventions(&mut engine).await;
    assert!(again.iter().all(|r| r.id != "tests-rust-names"), "already stated");
    assert!(again.iter().any(|r| r.id == "correction-unwrap-to-question-mark"));

    // A second rule goes under the same heading.
    engine.ops.send(Op::AcceptRule(rule(&again, "correction-unwrap-to-question-mark").clone())).unwrap();
    let request = approval(&mut engine).await;
    engine.ops.send(Op::Approve { id: request.id, decision: ApprovalDecision::Once }).unwrap();
    notice(&mut engine).await;
    let both = format!("{}- Write `?` instead of `.unwrap()`.\n", expected);
    assert_eq!(std::fs::read_to_string(fx.root().join("KV1NT.md")).unwrap(), both);

    // Audited like any edit, and undoable.
    let store = Store::open(&fx.data()).unwrap();
    let mut audit = store.audit_entries(None, 1000).unwrap();
    audit.sort_by_key(|a| a.id);
    let kv1nt: Vec<_> =
        audit.iter().filter(|a| a.target.contains("KV1NT.md")).map(|a| a.decision.as_str()).collect();
    assert_eq!(kv1nt, ["denied", "approved-once", "approved-once"], "{audit:#?}");
    engine.ops.send(Op::Undo).unwrap();
    let request = approval(&mut engine).await;
    engine.ops.send(Op::Approve { id: request.id, decision: ApprovalDecision::Once }).unwrap();
    assert!(notice(&mut engine).await.starts_with("Restored"));
    assert_eq!(std::fs::read_to_string(fx.root().join("KV1NT.md")).unwrap(), expected);
    engine.ops.send(Op::Shutdown).unwrap();
}

fn json_rules(out: &std::process::Output) -> Vec<Value> {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<Value>(&out.stdout).expect("one JSON value").as_array().unwrap().clone()
}

#[tokio::test]
async fn kv1nt_learn_prints_the_rules_with_evidence_and_writes_nothing() {
    let fx = Fx::new();
    let server = ScriptedServer::start(Wire::OpenAi, scripted()).await;
    let mut engine = fx.engine(&server.base_url());
    correct_twice(&fx, &mut engine).await;
    engine.ops.send(Op::Shutdown).unwrap();
    let _ = engine.task.await;
    let before = fx.repo.snapshot();

    let rules = json_rules(&fx.kv1nt(&["learn", "--json"]));
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for id in [
        "tests-rust-names",
        "errors-rust-result",
        "commits-conventional",
        "tooling-rustfmt",
        "correction-unwrap-to-question-mark",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let correction = rules.iter().find(|r| r["id"] == "correction-unwrap-to-question-mark").unwrap();
    assert_eq!(correction["evidence"]["count"], 2);
    assert_eq!(correction["category"], "corrections");

    // With the graph's index, naming per entity kind joins.
    assert!(fx.kv1nt(&["index"]).status.success());
    let rules = json_rules(&fx.kv1nt(&["learn", "--json"]));
    let functions = rules.iter().find(|r| r["id"] == "naming-rust-functions").expect("naming rule");
    assert_eq!(functions["text"], "Name Rust functions in snake_case.");

    let text = fx.kv1nt(&["learn"]);
    let shown = String::from_utf8(text.stdout).unwrap();
    assert!(
        shown.contains("[tests] Name Rust test functions `test_<behaviour>` in snake_case under `tests/`."),
        "{shown}"
    );
    assert!(shown.contains("5/5 (100 %) · id tests-rust-names"), "{shown}");
    assert!(shown.contains("e.g. tests/parse.rs:4 test_parses_an_empty_list"), "{shown}");
    assert_eq!(fx.repo.snapshot(), before, "learn is read-only");
    assert!(!Path::new(&fx.root().join("KV1NT.md")).exists());
}

/// The TUI: `/learn` asks the engine; its answer is a list of rules with their share and, under
/// the selected one, its examples; ↓ then Enter proposes that rule (once), Esc closes.
#[test]
fn the_learn_list_shows_evidence_and_enter_proposes_the_selected_rule() {
    use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
    use kv1nt::app::keymap::Keymap;
    use kv1nt::app::modals::Modal;
    use kv1nt::app::state::AppState;
    use kv1nt::app::{input, update};
    use kv1nt::engine::protocol::Evidence;
    use kv1nt::text::theme::{ColorMode, Theme};
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;

    let key = |code| TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE));
    let keymap = Keymap::load(&Default::default()).unwrap();
    let theme = Theme::builtin("dark").unwrap().with_color_mode(ColorMode::TrueColor);
    let mut s = AppState::new(keymap, theme, ProviderKind::Anthropic, "m".into());
    let screen = |s: &mut AppState| {
        let area = Rect::new(0, 0, 140, 40);
        let mut buf = Buffer::empty(area);
        kv1nt::widgets::draw_into(area, &mut buf, s, std::time::Instant::now());
        (0..area.height)
            .map(|y| (0..area.width).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for c in "/learn".chars() {
        input::handle(&mut s, key(KeyCode::Char(c)), &tx);
    }
    input::handle(&mut s, key(KeyCode::Enter), &tx);
    assert!(matches!(rx.try_recv(), Ok(Op::Learn)));

    let rules = vec![
        Rule {
            id: "tests-rust-names".into(),
            category: RuleCategory::Tests,
            text: "Name Rust test functions `test_<behaviour>` in snake_case under `tests/`.".into(),
            evidence: Evidence {
                count: 14,
                total: 15,
                examples: vec!["tests/parse.rs:4 test_parses_empty".into()],
            },
        },
        Rule {
            id: "correction-unwrap-to-question-mark".into(),
            category: RuleCategory::Corrections,
            text: "Write `?` instead of `.unwrap()`.".into(),
            evidence: Evidence {
                count: 2,
                total: 3,
                examples: vec!["proposal #7: `a.unwrap();` → `a?;`".into()],
            },
        },
    ];
    update::apply(&mut s, Event::Conventions(rules.clone()));
    let shown = screen(&mut s);
    for expected in [
        "Conventions kv1nt noticed",
        "test_<behaviour>",
        "14/15 (93 %)",
        "e.g. tests/parse.rs:4",
        "2/3 (66 %)",
    ] {
        assert!(shown.contains(expected), "{expected} missing:\n{shown}");
    }
    assert!(!shown.contains("proposal #7"), "only the selected rule's examples:\n{shown}");
    input::handle(&mut s, key(KeyCode::Down), &tx);
    assert!(screen(&mut s).contains("e.g. proposal #7"));
    input::handle(&mut s, key(KeyCode::Enter), &tx);
    assert!(matches!(rx.try_recv(), Ok(Op::AcceptRule(rule)) if rule == rules[1]));
    input::handle(&mut s, key(KeyCode::Char('a')), &tx);
    assert!(rx.try_recv().is_err(), "proposed once");
    assert!(screen(&mut s).contains("✓"));
    input::handle(&mut s, key(KeyCode::Esc), &tx);
    assert!(!s.modals.iter().any(|m| matches!(m, Modal::Learn(_))));

    update::apply(&mut s, Event::Conventions(Vec::new()));
    assert!(screen(&mut s).contains("No convention has strong enough evidence yet"));
}

/// A hostile `KV1NT.md` that links outside the repository: accepting a rule is refused with a
/// clear message, nothing is asked and the file it points to is untouched.
#[tokio::test]
async fn a_kv1nt_md_linking_outside_the_repository_is_refused_without_asking() {
    let fx = Fx::new();
    let outside = fx.home.path().join("outside.md");
    std::fs::write(&outside, "keep\n").unwrap();
    std::os::unix::fs::symlink(&outside, fx.root().join("KV1NT.md")).unwrap();
    let mut engine = fx.engine(&crate::support::closed_port_url());
    let rules = conventions(&mut engine).await;
    engine.ops.send(Op::AcceptRule(rules[0].clone())).unwrap();
    let text = next(&mut engine, |e| match e {
        Event::ApprovalRequest(r) => panic!("asked: {}", r.summary),
        Event::Notice { level: LogLevel::Error, text } => Some(text),
        _ => None,
    })
    .await;
    assert!(text.starts_with("Cannot add the rule"), "{text}");
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep\n");
    engine.ops.send(Op::Shutdown).unwrap();
}
