//! Turns never wait on indexing: the graph thread answers a query between the batches of a
//! large index job (from the last committed index), and a turn whose graph is stuck (its index
//! lock held by another process, as a `kv1nt index` in another terminal does) still completes
//! without the graph's sections. The time bounds are hang guards, not speed assertions.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::{EngineSetup, spawn};
use kv1nt::engine::approval::Policy;
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::graph::{EmbedEndpoints, GraphSettings, GraphWorker, graph_db_path};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{Event, Op, TurnOutcome};
use kv1nt::engine::store::Store;

fn many_files(root: &Path, n: usize) {
    for i in 0..n {
        let dir = root.join(format!("pkg{}", i / 100));
        std::fs::create_dir_all(&dir).unwrap();
        let body: String = (0..20)
            .map(|j| {
                format!(
                    "def f{i}_{j}(x):\n    return g{i}_{j}(x) + {j}\n\ndef g{i}_{j}(y):\n    return y\n\n"
                )
            })
            .collect();
        std::fs::write(dir.join(format!("m{i}.py")), body).unwrap();
    }
}

fn index_finished(event: &Event) -> bool {
    matches!(event, Event::Log { text, .. } if text.starts_with("graph: ") && text.contains(" entities"))
}

#[tokio::test]
async fn a_query_during_a_large_index_answers_before_the_index_ends() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    many_files(&repo, 3000);
    let (events, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let settings = GraphSettings::default();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let graph =
        GraphWorker::start(&repo, Some(&data), &settings, &EmbedEndpoints::default(), events).unwrap();
    let started = Instant::now();
    let answer = tokio::time::timeout(
        Duration::from_secs(120),
        graph
            .ask(|db| db.connection().query_row("SELECT count(*) FROM entities", [], |r| r.get::<_, i64>(0))),
    )
    .await
    .expect("the query hung behind the index job");
    let waited = started.elapsed();
    assert!(answer.is_some_and(|n| n.is_ok()), "the query was answered");
    let mut finished_before = false;
    while let Ok(event) = rx.try_recv() {
        finished_before |= index_finished(&event);
    }
    assert!(!finished_before, "the answer came while the index was still running (after {waited:?})");
    let until_done = tokio::time::timeout(Duration::from_secs(300), async {
        while let Some(event) = rx.recv().await {
            if index_finished(&event) {
                return;
            }
        }
    });
    until_done.await.expect("the index finishes");
    eprintln!("query answered after {waited:?}, index finished after {:?}", started.elapsed());
}

#[tokio::test]
async fn a_turn_with_a_stuck_graph_still_completes() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::write(repo.join("app.py"), "def main():\n    return 1\n").unwrap();
    let home = dir.path().join("home");
    let store = Store::open(&home).unwrap();
    let db = graph_db_path(&store.data_dir().unwrap(), &repo);
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let lock_file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(format!("{}.lock", db.display()))
        .unwrap();
    let _held = nix::fcntl::Flock::lock(lock_file, nix::fcntl::FlockArg::LockExclusiveNonblock).unwrap();

    let server = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["It returns 1."])]).await;
    let mut c = Config::default();
    c.llm.primary = ProviderKind::OpenAi;
    c.llm.fallback = Fallback::None;
    c.llm.max_retries = 0;
    c.openai.base_url = server.base_url();
    c.agent.approval = Policy::AutoEdit;
    c.graph.watch = false;
    let mut engine = spawn(EngineSetup {
        config: c,
        secrets: Secrets::default(),
        workspace: repo.clone(),
        store: Some(store),
        resume: None,
        preflight: false,
        trust: None,
    });
    let started = Instant::now();
    engine.ops.send(Op::Submit { text: "what does app.py return?".into(), intent: None }).unwrap();
    let outcome = loop {
        let event = tokio::time::timeout(Duration::from_secs(20), engine.events.recv())
            .await
            .expect("the turn waited on the stuck graph")
            .unwrap();
        if let Event::TurnEnded(outcome) = event {
            break outcome;
        }
    };
    assert!(matches!(outcome, TurnOutcome::Complete { .. }), "{outcome:?}");
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    assert_eq!(server.chat_requests().len(), 1, "the model was asked without the graph sections");
}
