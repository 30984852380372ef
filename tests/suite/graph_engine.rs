//! The knowledge graph inside the running engine: the model finds code through `search_code`,
//! `find_callers`, `related` and `file_context`; an edit kv1nt makes is in the index for the
//! very next query; a file saved outside kv1nt is re-indexed within a second; the prompt carries
//! the graph's sections for the files in view; the Graph panel's requests are answered.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::approval::Policy;
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{ApprovalDecision, Event, GraphOp, Op};
use kv1nt::engine::store::Store;
use serde_json::json;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph/python");
        copy_dir(&fixture, &dir.path().join("repo"));
        std::fs::create_dir_all(dir.path().join("repo/.git")).unwrap();
        Self { dir }
    }

    fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn engine(&self, base: &str, watch: bool) -> EngineHandle {
        let mut c = Config::default();
        c.llm.primary = ProviderKind::OpenAi;
        c.llm.fallback = Fallback::None;
        c.llm.max_retries = 0;
        c.openai.base_url = base.into();
        c.agent.approval = Policy::AutoEdit;
        c.graph.watch = watch;
        spawn(EngineSetup {
            config: c,
            secrets: Secrets::default(),
            workspace: self.repo(),
            store: Some(Store::open(&self.dir.path().join("home")).unwrap()),
            resume: None,
            preflight: false,
            trust: None,
        })
    }
}

/// Waits for the start-up index to finish (the graph tools are offered once it has entities).
async fn until_indexed(engine: &mut EngineHandle) {
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(30), engine.events.recv()).await.unwrap().unwrap();
        if let Event::Log { text, .. } = &event
            && text.starts_with("graph: ")
            && text.contains(" entities")
        {
            return;
        }
    }
}

async fn until_turn_ends(engine: &mut EngineHandle) {
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(30), engine.events.recv()).await.unwrap().unwrap();
        match event {
            Event::ApprovalRequest(r) => {
                engine.ops.send(Op::Approve { id: r.id, decision: ApprovalDecision::Once }).unwrap()
            }
            Event::TurnEnded(_) => return,
            _ => {}
        }
    }
}

fn tool_result(server: &ScriptedServer, request: usize) -> String {
    server.chat_requests()[request].body["messages"].to_string()
}

#[tokio::test]
async fn the_model_finds_code_through_the_graph_tools() {
    let fx = Fixture::new();
    let turns = vec![
        Turn::text(&[]).tool_call("s", "search_code", json!({"query": "valid email"})),
        Turn::text(&[]).tool_call("c", "find_callers", json!({"name": "find_by_email"})),
        Turn::text(&[]).tool_call("r", "related", json!({"name": "UserService.register"})),
        Turn::text(&[]).tool_call("f", "file_context", json!({"path": "app/services.py"})),
        Turn::text(&[]).tool_call("u", "find_callers", json!({"name": "regster"})),
        Turn::text(&["Found it."]),
    ];
    let server = ScriptedServer::start(Wire::OpenAi, turns).await;
    let mut engine = fx.engine(&server.base_url(), false);
    until_indexed(&mut engine).await;
    engine.ops.send(Op::Submit { text: "where is email validation?".into(), intent: None }).unwrap();
    until_turn_ends(&mut engine).await;
    let tools: Vec<String> = server.chat_requests()[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].to_string())
        .collect();
    assert!(tools.iter().any(|t| t.contains("search_code")), "offered: {tools:?}");
    // No file named yet: the prompt carries a map of the repository's most-used definitions.
    let system = server.chat_requests()[0].body["messages"][0]["content"].as_str().unwrap().to_string();
    let heading = "# Map of the repository (its most-used definitions, from kv1nt's code index)\n\n";
    let map = system.split(heading).nth(1).unwrap_or_else(|| panic!("no map: {system}"));
    assert!(
        // `User` is called, imported, and named as a type (`uses`/`returns`) the most.
        map.trim_start().starts_with("app/models.py: database_model User (7 uses)"),
        "most used first: {map}"
    );
    assert!(map.contains("function is_valid_email (1 use)"), "{map}");
    let search = tool_result(&server, 1);
    assert!(search.contains("app.utils.is_valid_email") && search.contains("app/utils.py"), "{search}");
    let callers = tool_result(&server, 2);
    assert!(
        callers.contains("app.services.UserService.register") && callers.contains("app.api.get_user"),
        "{callers}"
    );
    let related = tool_result(&server, 3);
    assert!(related.contains("is_valid_email") && related.contains("calls"), "{related}");
    let context = tool_result(&server, 4);
    assert!(context.contains("UserService"), "{context}");
    let unknown = tool_result(&server, 5);
    assert!(unknown.contains("No entity named `regster`") && unknown.contains("register"), "{unknown}");
}

#[tokio::test]
async fn an_edit_by_kv1nt_is_in_the_index_for_the_next_query_and_the_prompt_has_graph_sections() {
    let fx = Fixture::new();
    let utils = std::fs::read_to_string(fx.repo().join("app/utils.py")).unwrap();
    let turns = vec![
        Turn::text(&[]).tool_call("r", "read_file", json!({"path": "app/utils.py"})),
        Turn::text(&[]).tool_call(
            "w",
            "write_file",
            json!({"path": "app/utils.py", "content": format!("{utils}\n\ndef slugify_title(text):\n    \"\"\"Turn a title into a URL slug.\"\"\"\n    return text.lower()\n")}),
        ),
        Turn::text(&[]).tool_call("s", "search_code", json!({"query": "slugify_title"})),
        Turn::text(&["Done."]),
    ];
    let server = ScriptedServer::start(Wire::OpenAi, turns).await;
    let mut engine = fx.engine(&server.base_url(), false);
    engine.ops.send(Op::Submit { text: "add a slug helper".into(), intent: None }).unwrap();
    until_turn_ends(&mut engine).await;
    let found = tool_result(&server, 3);
    assert!(found.contains("app.utils.slugify_title"), "{found}");
    let system = server.chat_requests()[1].body["messages"][0]["content"].to_string();
    assert!(
        system.contains("Semantic summary of the files in view") && system.contains("is_valid_email"),
        "{system}"
    );
}

async fn search(engine: &mut EngineHandle, seq: u64, query: &str) -> Vec<String> {
    engine.ops.send(Op::Graph(GraphOp::Search { seq, query: query.into() })).unwrap();
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(10), engine.events.recv()).await.unwrap().unwrap();
        if let Event::GraphResults { seq: s, hits, .. } = event
            && s == seq
        {
            return hits.into_iter().map(|h| h.qualified_name).collect();
        }
    }
}

#[tokio::test]
async fn a_file_saved_outside_kv1nt_is_reindexed_within_a_second_and_the_panel_opens_it() {
    let fx = Fixture::new();
    let mut engine = fx.engine("http://127.0.0.1:9", true);
    // Queries answer from the last committed index while the first one is built: wait for it.
    let mut seq = 1;
    let start = Instant::now();
    while search(&mut engine, seq, "is_valid_email").await.is_empty() {
        assert!(start.elapsed() < Duration::from_secs(60), "indexed at start");
        seq += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::fs::write(fx.repo().join("app/extra.py"), "def freshly_saved_helper():\n    return 1\n").unwrap();
    let saved = Instant::now();
    seq += 1;
    loop {
        if search(&mut engine, seq, "freshly_saved_helper")
            .await
            .iter()
            .any(|n| n.ends_with("freshly_saved_helper"))
        {
            break;
        }
        assert!(saved.elapsed() < Duration::from_secs(1), "not re-indexed within a second");
        seq += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Deleting it removes its entities.
    std::fs::remove_file(fx.repo().join("app/extra.py")).unwrap();
    let removed = Instant::now();
    while search(&mut engine, seq, "freshly_saved_helper")
        .await
        .iter()
        .any(|n| n.ends_with("freshly_saved_helper"))
    {
        assert!(removed.elapsed() < Duration::from_secs(2), "deleted file still indexed");
        seq += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The panel: details with callers, then Enter opens the file at the entity's line.
    engine.ops.send(Op::Graph(GraphOp::Search { seq: 100, query: "find_by_email".into() })).unwrap();
    let id = loop {
        if let Some(Event::GraphResults { hits, .. }) = engine.events.recv().await
            && let Some(hit) = hits.iter().find(|h| h.name == "find_by_email")
        {
            break hit.id;
        }
    };
    engine.ops.send(Op::Graph(GraphOp::Details { seq: 101, id })).unwrap();
    engine.ops.send(Op::Graph(GraphOp::Open { id })).unwrap();
    let (mut details, mut opened) = (None, None);
    while details.is_none() || opened.is_none() {
        match tokio::time::timeout(Duration::from_secs(10), engine.events.recv()).await.unwrap().unwrap() {
            Event::GraphDetails { details: d, .. } => details = Some(d),
            Event::OpenFile { path, line, text } => opened = Some((path, line, text)),
            _ => {}
        }
    }
    let details = details.unwrap();
    assert!(details.callers.iter().any(|(c, _)| c.qualified_name == "app.api.get_user"), "{details:?}");
    let (path, line, text) = opened.unwrap();
    assert_eq!(path, "app/repository.py");
    assert!(text.lines().nth(line - 1).unwrap().contains("def find_by_email"), "line {line}");
}
