//! What the user is looking at reaches the model: files named with `@path` in a prompt and the
//! file shown in Code go into the system prompt's "Files in view" section (cut around the
//! relevant lines when large, never from outside the workspace); the composer completes `@`
//! from the repository's files.

use std::time::Duration;

use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{Event, Op};

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join("src")).unwrap();
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::write(repo.join("src/lib.rs"), "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n")
            .unwrap();
        let big: String = (1..=4000).map(|i| format!("let line_{i} = {i};\n")).collect();
        std::fs::write(repo.join("src/big.rs"), big).unwrap();
        std::fs::write(repo.join(".gitignore"), "target/\n").unwrap();
        std::fs::create_dir_all(repo.join("target")).unwrap();
        std::fs::write(repo.join("target/junk.rs"), "ignored").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "TOP-SECRET").unwrap();
        Self { dir }
    }

    fn engine(&self, base: &str) -> EngineHandle {
        let mut c = Config::default();
        c.llm.primary = ProviderKind::OpenAi;
        c.llm.fallback = Fallback::None;
        c.llm.max_retries = 0;
        c.openai.base_url = base.into();
        c.openai.context_window = 32_768;
        c.context.current_file = 1_000; // 4,000 bytes: the big file must be cut
        c.graph.embed = kv1nt::engine::graph::settings::EmbedProvider::None;
        spawn(EngineSetup {
            config: c,
            secrets: Secrets {
                anthropic_api_key: None,
                openai_api_key: Some("oa".into()),
                github_token: None,
            },
            workspace: self.dir.path().join("repo"),
            store: None,
            resume: None,
            preflight: false,
            trust: None,
        })
    }
}

async fn until_turn_ends(engine: &mut EngineHandle) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(30), engine.events.recv()).await.unwrap().unwrap();
        let end = matches!(event, Event::TurnEnded(_));
        events.push(event);
        if end {
            return events;
        }
    }
}

fn system(server: &ScriptedServer, n: usize) -> String {
    server.chat_requests()[n].body["messages"][0]["content"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn named_and_viewed_files_reach_the_model_and_nothing_outside_the_workspace_does() {
    let server = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["ok"]), Turn::text(&["ok"])]).await;
    let repo = Repo::new();
    let mut engine = repo.engine(&server.base_url());
    let files = loop {
        let event =
            tokio::time::timeout(Duration::from_secs(30), engine.events.recv()).await.unwrap().unwrap();
        if let Event::WorkspaceFiles(files) = event {
            break files;
        }
    };
    assert!(
        files.contains(&"src/lib.rs".to_string()) && files.contains(&"src/big.rs".to_string()),
        "{files:?}"
    );
    assert!(!files.iter().any(|f| f.starts_with("target/")), ".gitignore is respected: {files:?}");

    let prompt = "why is @src/lib.rs wrong, and what about @../secret.txt?";
    engine.ops.send(Op::Submit { text: prompt.into(), intent: None }).unwrap();
    until_turn_ends(&mut engine).await;
    let first = system(&server, 0);
    assert!(first.contains("# Files in view") && first.contains("## src/lib.rs (3 lines)"), "{first}");
    assert!(first.contains("pub fn add(a: i32, b: i32)"));
    assert!(!first.contains("TOP-SECRET"), "nothing from outside the workspace");

    // Code shows src/big.rs scrolled to line 3000: that part of it goes, cut to the budget.
    engine.ops.send(Op::InView { file: Some(("src/big.rs".into(), 3000)) }).unwrap();
    engine.ops.send(Op::Submit { text: "and this?".into(), intent: None }).unwrap();
    until_turn_ends(&mut engine).await;
    let second = system(&server, 1);
    assert!(
        second.contains("## src/big.rs (4000 lines)") && second.contains("let line_3000 = 3000;"),
        "{second}"
    );
    assert!(
        !second.contains("let line_1 = 1;") && !second.contains("let line_4000 ="),
        "cut around line 3000"
    );
    assert!(second.contains("[… lines 1–"), "says what was left out");
}

#[test]
fn the_tui_completes_at_paths_and_tells_the_engine_which_file_code_shows() {
    use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
    use kv1nt::app::{input, update};
    let keymap = kv1nt::app::keymap::Keymap::load(&Default::default()).unwrap();
    let theme = kv1nt::text::theme::Theme::builtin("dark").unwrap();
    let mut s = kv1nt::app::state::AppState::new(keymap, theme, ProviderKind::OpenAi, "m".into());
    let (ops, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let key = |c: KeyCode| TermEvent::Key(KeyEvent::new(c, KeyModifiers::NONE));
    update::apply(
        &mut s,
        Event::WorkspaceFiles(vec!["src/lib.rs".into(), "src/engine/store/sessions.rs".into()]),
    );
    for c in "fix @sessi".chars() {
        input::handle(&mut s, key(KeyCode::Char(c)), &ops);
    }
    let area = ratatui::layout::Rect::new(0, 0, 120, 30);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    kv1nt::widgets::draw_into(area, &mut buf, &mut s, std::time::Instant::now());
    let screen: String =
        (0..30).flat_map(|y| (0..120).map(move |x| (x, y))).map(|p| buf[p].symbol().to_string()).collect();
    assert!(screen.contains("@src/engine/store/sessions.rs"), "the popup offers it");
    input::handle(&mut s, key(KeyCode::Tab), &ops);
    assert_eq!(s.composer.text(), "fix @src/engine/store/sessions.rs ");

    update::apply(&mut s, Event::OpenFile { path: "src/lib.rs".into(), line: 1, text: "fn a() {}\n".into() });
    s.focus = kv1nt::app::state::Focus::Composer;
    input::handle(&mut s, key(KeyCode::Enter), &ops);
    assert_eq!(rx.try_recv().unwrap(), Op::InView { file: Some(("src/lib.rs".into(), 1)) });
    assert!(
        matches!(rx.try_recv().unwrap(), Op::Submit { text, .. } if text.contains("@src/engine/store/sessions.rs"))
    );
}
