//! Knowledge-graph tests (per-language relation precision/recall: `graph_relations`):
//! incremental indexing, robustness (syntax errors, size cap, binary, non-UTF-8, symlink loops,
//! concurrent runs, corrupt databases), search, embeddings over HTTP (scripted server, or the
//! real local model when available), and a real dependency's sources.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kv1nt::engine::graph::*;

use crate::support;

pub(super) fn fixture(lang: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph").join(lang)
}

pub(super) fn index_mem(root: &Path) -> (GraphDb, IndexReport) {
    let db = GraphDb::open_in_memory().unwrap();
    let report = index_repository(root, &db, &IndexOptions::default(), &|_| {}).unwrap();
    (db, report)
}

pub(super) fn edges(db: &GraphDb, kind: &str) -> BTreeSet<(String, String)> {
    let mut st = db
        .connection()
        .prepare(
            "SELECT s.qualified_name, t.qualified_name FROM relations r
             JOIN entities s ON s.id = r.source_id JOIN entities t ON t.id = r.target_id WHERE r.kind = ?1",
        )
        .unwrap();
    st.query_map([kind], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect()
}

/// Copies a directory tree (fixtures are copied before tests modify them).
pub(super) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn entity_details_signatures_docs_complexity() {
    let (db, _) = index_mem(&fixture("python"));
    let reg = &db.find_entities("app.services.UserService.register").unwrap()[0];
    assert_eq!(reg.signature, "def register(self, email)");
    assert_eq!(reg.doc.as_deref(), Some("Register a new user after validating the address."));
    assert_eq!((reg.start_line, reg.end_line), (16, 25));
    assert_eq!(reg.complexity, 3, "1 + two ifs");
    let (db, _) = index_mem(&fixture("rust"));
    let log = &db.find_entities("crate::db::Store::log").unwrap()[0];
    assert_eq!(log.complexity, 3, "1 + if + ||");
    let place = &db.find_entities("crate::service::OrderService::place").unwrap()[0];
    assert_eq!(place.doc.as_deref(), Some("Places an order after validating it."));
    assert!(place.signature.starts_with("pub fn place(&mut self, id: u64, total: i64)"));
}

#[test]
fn queries_related_callers_dependencies_context_stats() {
    let (db, _) = index_mem(&fixture("rust"));
    let callers: Vec<String> =
        db.find_callers("is_valid").unwrap().into_iter().map(|(e, _)| e.qualified_name).collect();
    assert_eq!(callers, ["crate::db::Store::save", "crate::service::OrderService::check"]);
    let callees: Vec<String> = db
        .find_callees("crate::service::OrderService::place")
        .unwrap()
        .into_iter()
        .map(|(e, _)| e.name)
        .collect();
    assert_eq!(callees.len(), 3, "{callees:?}");
    let related = db.query_related("crate::service::OrderService::place", 2, &[RelationKind::Calls]).unwrap();
    let names: Vec<(&str, u32)> =
        related.iter().map(|r| (r.entity.qualified_name.as_str(), r.depth)).collect();
    assert!(names.contains(&("crate::db::Store::save", 1)), "{names:?}");
    assert!(names.contains(&("crate::db::Store::log", 2)), "{names:?}");
    assert!(matches!(db.query_related("nope", 1, &[]), Err(GraphError::NoSuchEntity(_))));
    let deps: Vec<String> =
        db.find_dependencies("src/service.rs").unwrap().into_iter().map(|e| e.file).collect();
    assert_eq!(deps, ["src/db.rs", "src/models.rs"]);
    let ctx = db.architectural_context("src/service.rs").unwrap();
    assert!(ctx.contains("pub fn place(&mut self, id: u64, total: i64) -> Result<Order, String>"), "{ctx}");
    assert!(ctx.contains("crate::db::Store (src/db.rs)"), "{ctx}");
    assert!(ctx.contains("crate::build (src/lib.rs)"), "{ctx}");
    let stats = db.stats().unwrap();
    assert_eq!(stats.files, 6, "source files; the two Cargo.toml manifests are not counted");
    assert!(stats.by_kind.contains(&(EntityKind::Package, 7)), "2 of the tree, 5 declared: {stats:?}");
    assert!(stats.by_kind.contains(&(EntityKind::DatabaseModel, 1)), "{stats:?}");
    assert!(stats.by_kind.contains(&(EntityKind::ApiEndpoint, 1)), "{stats:?}");
    assert_eq!(stats.embedded, 0);
}

#[test]
fn fts_finds_by_docstring_word_and_escapes_input() {
    let (db, _) = index_mem(&fixture("python"));
    let hits = db.lexical_search("address", &[], 10).unwrap();
    let names: Vec<&str> = hits.iter().map(|h| h.entity.name.as_str()).collect();
    assert!(names.contains(&"is_valid_email") && names.contains(&"register"), "{names:?}");
    let only_fns = db.lexical_search("address", &[EntityKind::Function], 10).unwrap();
    assert!(only_fns.iter().all(|h| h.entity.kind == EntityKind::Function) && !only_fns.is_empty());
    // FTS5 syntax in user input is plain text, never an error.
    for q in ["\"", "a AND (", "NEAR(x y)", "*", "email:", "'; DROP TABLE entities; --"] {
        db.lexical_search(q, &[], 5).unwrap();
    }
    assert!(db.lexical_search("   ", &[], 5).unwrap().is_empty());
}

#[test]
fn incremental_unchanged_changed_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    copy_tree(&fixture("python"), &root);
    let db = GraphDb::open(&dir.path().join("g.sqlite")).unwrap();
    let opts = IndexOptions::default();
    let first = index_repository(&root, &db, &opts, &|_| {}).unwrap();
    assert_eq!((first.files_indexed, first.files_unchanged), (7, 0));

    let again = index_repository(&root, &db, &opts, &|_| {}).unwrap();
    assert_eq!((again.files_indexed, again.files_unchanged, again.files_deleted), (0, 7, 0));
    assert_eq!((again.entities, again.relations), (first.entities, first.relations));
    assert!(again.elapsed < first.elapsed * 2 + Duration::from_millis(50));

    // Change one file: only it is parsed; a new caller of `normalize` appears.
    let utils = root.join("app/utils.py");
    let mut text = std::fs::read_to_string(&utils).unwrap();
    text.push_str("\n\ndef shout(email):\n    return normalize(email).upper()\n");
    std::fs::write(&utils, text).unwrap();
    let changed = index_repository(&root, &db, &opts, &|_| {}).unwrap();
    assert_eq!((changed.files_indexed, changed.files_unchanged), (1, 6));
    let callers: Vec<String> =
        db.find_callers("normalize").unwrap().into_iter().map(|(e, _)| e.name).collect();
    assert_eq!(callers, ["is_valid_email", "shout"]);
    // Edges from other files into the re-parsed one survive re-resolution.
    assert!(
        edges(&db, "calls")
            .contains(&("app.services.UserService.register".into(), "app.utils.is_valid_email".into()))
    );

    // Same content, new mtime: read and hashed, but not parsed.
    std::fs::write(&utils, std::fs::read(&utils).unwrap()).unwrap();
    let touched = index_repository(&root, &db, &opts, &|_| {}).unwrap();
    assert_eq!(touched.files_indexed, 0);

    // Delete a file: its entities and the edges into them are gone.
    std::fs::remove_file(&utils).unwrap();
    let deleted = index_repository(&root, &db, &opts, &|_| {}).unwrap();
    assert_eq!(deleted.files_deleted, 1);
    assert!(db.find_entities("is_valid_email").unwrap().is_empty());
    assert!(!edges(&db, "calls").iter().any(|(_, t)| t.starts_with("app.utils")));

    // Re-creating it with reindex_file restores the edge from services.py.
    std::fs::write(&utils, "def is_valid_email(email):\n    return '@' in email\n").unwrap();
    let one = reindex_file(&root, &db, Path::new("app/utils.py")).unwrap();
    assert_eq!(one.files_indexed, 1);
    assert!(
        edges(&db, "calls")
            .contains(&("app.services.UserService.register".into(), "app.utils.is_valid_email".into()))
    );
    let outside = reindex_file(&root, &db, dir.path().join("g.sqlite").as_path());
    assert!(matches!(outside, Err(GraphError::OutsideRoot { .. })), "{outside:?}");
}

#[test]
fn syntax_errors_keep_partial_entities() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.py"),
        "def good(a):\n    return a + 1\n\ndef bad(:\n    return (\n\nclass Later:\n    def m(self):\n        return good(1)\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.rs"), "fn ok() -> u8 { 1 }\nfn broken( { let x = ; }\n").unwrap();
    let (db, report) = index_mem(dir.path());
    assert_eq!(report.parse_errors, 2, "{report:?}");
    assert!(!db.find_entities("good").unwrap().is_empty());
    assert!(!db.find_entities("ok").unwrap().is_empty());
    let errors: i64 =
        db.connection().query_row("SELECT sum(parse_errors) FROM files", [], |r| r.get(0)).unwrap();
    assert!(errors >= 2);
    assert_eq!(db.stats().unwrap().parse_error_files, 2);
}

#[test]
fn size_cap_binary_and_non_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("big.py"), "x = 1\n".repeat(2000)).unwrap();
    std::fs::write(root.join("blob.js"), b"var a = 1;\0\0\x01binary").unwrap();
    std::fs::write(
        root.join("latin1.py"),
        b"def caf\xe9():\n    return 'd\xe9j\xe0'\n\ndef ok():\n    return 1\n",
    )
    .unwrap();
    std::fs::write(root.join("notes.txt"), "not source").unwrap();
    let db = GraphDb::open_in_memory().unwrap();
    let opts = IndexOptions { max_file_bytes: 4096, ..IndexOptions::default() };
    let report = index_repository(root, &db, &opts, &|_| {}).unwrap();
    assert_eq!(report.files_seen, 3);
    assert_eq!(report.skipped_too_large, ["big.py"]);
    assert_eq!(report.skipped_binary, 1);
    assert_eq!(report.non_utf8, 1);
    assert_eq!(report.files_indexed, 1);
    assert!(!db.find_entities("ok").unwrap().is_empty());
    let lossy: i64 = db
        .connection()
        .query_row("SELECT lossy FROM files WHERE path = 'latin1.py'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(lossy, 1);
}

#[cfg(unix)]
#[test]
fn symlink_loop_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("a")).unwrap();
    std::fs::write(root.join("a/m.py"), "def f():\n    pass\n").unwrap();
    std::os::unix::fs::symlink(root, root.join("a/loop")).unwrap();
    std::os::unix::fs::symlink(root.join("a/m.py"), root.join("link.py")).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let root2 = root.to_path_buf();
    std::thread::spawn(move || {
        let (_, report) = index_mem(&root2);
        let _ = tx.send(report);
    });
    let report = rx.recv_timeout(Duration::from_secs(60)).expect("indexing hung on a symlink loop");
    assert_eq!(report.files_indexed, 1);
}

#[test]
fn concurrent_index_runs_wait_then_fail_with_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.sqlite");
    let root = fixture("go");
    let holder = GraphDb::open(&path).unwrap();
    let lock = holder.lock_for_index(Duration::from_secs(1)).unwrap();
    let db = GraphDb::open(&path).unwrap();
    let opts = IndexOptions { lock_timeout: Duration::from_millis(300), ..IndexOptions::default() };
    let err = index_repository(&root, &db, &opts, &|_| {}).unwrap_err();
    assert!(err.to_string().contains("another index run is in progress"), "{err}");

    // A waiting run proceeds once the first finishes.
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(lock);
    });
    let opts = IndexOptions { lock_timeout: Duration::from_secs(20), ..IndexOptions::default() };
    let report = index_repository(&root, &db, &opts, &|_| {}).unwrap();
    assert_eq!(report.files_indexed, 6);
    release.join().unwrap();

    // Two real runs at once from two threads: both succeed, one after the other.
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            let root = root.clone();
            std::thread::spawn(move || {
                let db = GraphDb::open(&path).unwrap();
                index_repository(&root, &db, &opts_long(), &|_| {}).unwrap()
            })
        })
        .collect();
    for r in runs {
        assert_eq!(r.join().unwrap().files_unchanged, 6);
    }
}

fn opts_long() -> IndexOptions {
    IndexOptions { lock_timeout: Duration::from_secs(30), ..IndexOptions::default() }
}

#[test]
fn corrupt_database_is_moved_aside_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("graphs/repo.sqlite");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"this is definitely not an SQLite database, just garbage bytes .......").unwrap();
    let db = GraphDb::open(&path).unwrap();
    let notice = db.notice().expect("a notice about the rebuild");
    assert!(notice.contains("corrupt") && notice.contains("rebuilt"), "{notice}");
    let aside: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("repo.sqlite.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1);
    let report = index_repository(&fixture("javascript"), &db, &IndexOptions::default(), &|_| {}).unwrap();
    assert_eq!(report.files_indexed, 5);
    drop(db);
    assert!(GraphDb::open(&path).unwrap().notice().is_none());
}

#[test]
fn graph_db_path_is_per_repository() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let data = Path::new("/data/kv1nt");
    assert_ne!(graph_db_path(data, a.path()), graph_db_path(data, b.path()));
    assert!(graph_db_path(data, a.path()).starts_with("/data/kv1nt/graphs"));
}

/// Deterministic fake: a vector from the entity's name, so tests know the geometry.
struct FakeEmbedder;

impl Embedder for FakeEmbedder {
    fn model(&self) -> &str {
        "fake"
    }

    fn dim(&self) -> usize {
        8
    }

    async fn embed(&self, texts: &[String]) -> kv1nt::engine::graph::Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|t| fake_vector(t)).collect())
    }
}

fn fake_vector(text: &str) -> Vec<f32> {
    let mut v = vec![0.01f32; 8];
    if text.contains("is_valid_email") {
        v[0] = 1.0;
    } else if text.contains("normalize") {
        v[0] = 0.9;
        v[1] = 0.3;
    } else {
        let h = text.bytes().fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize));
        v[2 + h % 6] = 1.0;
    }
    v
}

#[tokio::test]
async fn hybrid_search_fuses_lexical_and_vector_ranks() {
    let (db, report) = index_mem(&fixture("python"));
    let done = embed_pending(&db, &FakeEmbedder, 7).await.unwrap();
    assert_eq!(done.embedded, report.entities);
    assert!(done.requests >= 2, "batches of 7");
    assert_eq!(embed_pending(&db, &FakeEmbedder, 7).await.unwrap().embedded, 0, "nothing pending");
    assert_eq!(db.stats().unwrap().embedded, report.entities);

    // "pattern" matches is_valid_email's doc only; the vector is nearest to it, then normalize.
    let query = fake_vector("is_valid_email");
    let lexical = db.semantic_search("pattern", None, &[], 5).unwrap();
    assert_eq!(lexical.iter().map(|h| h.entity.name.as_str()).collect::<Vec<_>>(), ["is_valid_email"]);
    let hybrid = db.semantic_search("pattern", Some(&query), &[], 5).unwrap();
    let names: Vec<&str> = hybrid.iter().map(|h| h.entity.name.as_str()).collect();
    assert_eq!(&names[..2], ["is_valid_email", "normalize"], "{names:?}");
    assert!(hybrid[0].score > hybrid[1].score);
    let methods = db.semantic_search("pattern", Some(&query), &[EntityKind::Method], 5).unwrap();
    assert!(methods.iter().all(|h| h.entity.kind == EntityKind::Method));
    assert!(matches!(
        db.semantic_search("x", Some(&[1.0, 2.0]), &[], 5),
        Err(GraphError::EmbeddingDim { .. })
    ));

    // Re-indexing a changed file gives its entities new ids; the cache makes them free.
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("python"), dir.path());
    let db = GraphDb::open_in_memory().unwrap();
    index_repository(dir.path(), &db, &IndexOptions::default(), &|_| {}).unwrap();
    embed_pending(&db, &FakeEmbedder, 64).await.unwrap();
    let utils = dir.path().join("app/utils.py");
    let text = std::fs::read_to_string(&utils).unwrap() + "\n# trailing comment\n";
    std::fs::write(&utils, text).unwrap();
    reindex_file(dir.path(), &db, &utils).unwrap();
    let again = embed_pending(&db, &FakeEmbedder, 64).await.unwrap();
    assert_eq!((again.embedded, again.from_cache, again.requests), (4, 4, 0));
}

/// A scripted embedding server: answers `/v1/embeddings` (OpenAI) and `/api/embed` (Ollama)
/// with 3-dimensional vectors derived from each input's length; records request bodies.
async fn embedding_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<(String, serde_json::Value)>>>) {
    use crate::support::http::Conn;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log2 = log.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = log2.clone();
            tokio::spawn(async move {
                let mut conn = Conn::new(stream);
                let Ok(req) = conn.read_request().await else { return };
                let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
                log.lock().unwrap().push((req.path().to_string(), body.clone()));
                let inputs: Vec<String> = body["input"]
                    .as_array()
                    .map(|a| a.iter().map(|s| s.as_str().unwrap_or("").to_string()).collect())
                    .unwrap_or_default();
                let vec_of = |s: &str| vec![s.len() as f32, 1.0, 0.5];
                let answer = match req.path() {
                    // Out of order on purpose: clients must sort by `index`.
                    "/v1/embeddings" => serde_json::json!({
                        "object": "list",
                        "data": inputs.iter().enumerate().rev()
                            .map(|(i, s)| serde_json::json!({"object": "embedding", "index": i, "embedding": vec_of(s)}))
                            .collect::<Vec<_>>(),
                        "model": body["model"],
                    }),
                    "/api/embed" => serde_json::json!({
                        "model": body["model"],
                        "embeddings": inputs.iter().map(|s| vec_of(s)).collect::<Vec<_>>(),
                    }),
                    _ => {
                        let _ = conn.write_full(404, &[], "text/plain", b"not found").await;
                        return;
                    }
                };
                let _ = conn.write_full(200, &[], "application/json", answer.to_string().as_bytes()).await;
            });
        }
    });
    (url, log)
}

#[tokio::test]
async fn http_embedders_speak_openai_and_ollama_formats() {
    let (url, log) = embedding_server().await;
    let openai = OpenAiEmbedder::detect(&url, "mini", Some("k")).await.unwrap();
    assert_eq!(openai.dim(), 3);
    let v = openai.embed(&["a".into(), "abcd".into()]).await.unwrap();
    assert_eq!(v, [vec![1.0, 1.0, 0.5], vec![4.0, 1.0, 0.5]]);
    let ollama = OllamaEmbedder::detect(&url, "nomic").await.unwrap();
    assert_eq!(ollama.embed(&["abc".into()]).await.unwrap(), [vec![3.0, 1.0, 0.5]]);
    let reqs = log.lock().unwrap().clone();
    assert!(
        reqs.iter().any(|(p, b)| p == "/v1/embeddings" && b["model"] == "mini" && b["input"][1] == "abcd")
    );
    assert!(reqs.iter().any(|(p, b)| p == "/api/embed" && b["model"] == "nomic"));

    let (db, report) = index_mem(&fixture("go"));
    let done = embed_pending(&db, &openai, 16).await.unwrap();
    assert_eq!(done.embedded, report.entities);
    // Switching model drops the vectors and re-embeds.
    let again = embed_pending(&db, &ollama, 16).await.unwrap();
    assert_eq!(again.embedded, report.entities);
    assert_eq!(db.stats().unwrap().embedded, report.entities);

    let bad = OpenAiEmbedder::new(&format!("{url}/nothing"), "m", None, 3);
    let err = bad.embed(&["x".into()]).await.unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
}

/// With the real MiniLM server (`KV1NT_EMBED_MODEL` set by `setup.sh --embed`), hybrid search
/// over a fixture runs end to end. Without it the test skips (fails under `CI=true`); with
/// `KV1NT_SKIP_REAL_MODEL=1` it skips like every real-model test.
#[tokio::test]
async fn real_local_embedding_model_when_available() {
    if support::local_model::skip_real_model() {
        return;
    }
    let set = std::env::var("KV1NT_EMBED_MODEL").is_ok_and(|v| !v.is_empty());
    let install = "run the tests with scripts/test (its setup.sh --embed exports KV1NT_EMBED_MODEL)";
    if !support::require(set, "KV1NT_EMBED_MODEL (the local embedding model) is not set", install) {
        return;
    }
    let server = tokio::task::spawn_blocking(|| {
        support::local_model::LocalModelServer::start(support::local_model::LocalModel::Embed)
    })
    .await
    .unwrap()
    .unwrap();
    let Some(server) = server else { return };
    let embedder = OpenAiEmbedder::detect(&server.base_url, &server.model, None).await.unwrap();
    assert_eq!(embedder.dim(), 384);
    let (db, report) = index_mem(&fixture("python"));
    let done = embed_pending(&db, &embedder, 16).await.unwrap();
    assert_eq!(done.embedded, report.entities);
    let q = embedder.embed(&["validate an email address".into()]).await.unwrap().remove(0);
    let hits = db.semantic_search("validate email address", Some(&q), &[], 5).unwrap();
    assert!(hits.iter().any(|h| h.entity.name == "is_valid_email"), "{hits:?}");
}

/// The `similar` crate's sources (the version Cargo.lock pins) from the cargo registry.
#[test]
fn real_dependency_sources_callers() {
    let Some(src) = support::require_found(support::crate_sources("similar"), "cargo fetch --locked") else {
        return;
    };
    let db = GraphDb::open_in_memory().unwrap();
    let report = index_repository(&src.join("src"), &db, &IndexOptions::default(), &|_| {}).unwrap();
    assert!(report.files_indexed >= 15 && report.parse_errors == 0, "{report:?}");
    let callers: Vec<String> = db
        .find_callers("crate::common::group_diff_ops")
        .unwrap()
        .into_iter()
        .map(|(e, _)| e.qualified_name)
        .collect();
    for want in
        ["crate::text::TextDiff::grouped_ops", "crate::algorithms::capture::Capture::into_grouped_ops"]
    {
        assert!(callers.iter().any(|c| c == want), "{want} not among {callers:?}");
    }
    let callers: Vec<String> = db
        .find_callers("crate::common::capture_diff_slices")
        .unwrap()
        .into_iter()
        .map(|(e, _)| e.qualified_name)
        .collect();
    assert!(callers.iter().any(|c| c == "crate::utils::diff_slices"), "{callers:?}");
}

#[test]
fn cyclic_type_hints_terminate() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.py"),
        "class a:\n    def run(self):\n        pass\n\ndef f(x: y, y: x):\n    x.run()\n    y.run()\n\ndef g(a: a):\n    a.run()\n\ndef h(r: a):\n    r.run()\n",
    )
    .unwrap();
    let (db, _) = index_mem(dir.path());
    let callers: Vec<String> = db.find_callers("run").unwrap().into_iter().map(|(e, _)| e.name).collect();
    // Cyclic hints resolve to nothing (but terminate); an ordinary hint still works.
    assert_eq!(callers, ["h"]);
}

/// Runs writing most of a large tree take the bulk path (FTS triggers suspended, the FTS index
/// rebuilt at the end); the result must equal what row-by-row indexing gives, and a run that
/// died in bulk mode (its `fts_stale` mark left behind) is repaired by the next open.
#[test]
fn bulk_runs_keep_fts_in_sync_and_interrupted_runs_are_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    std::fs::create_dir_all(root.join("src")).unwrap();
    let write_all = |word: &str| {
        for i in 0..80 {
            std::fs::write(
                root.join(format!("src/m{i}.rs")),
                format!("/// Does the {word} thing.\npub fn {word}_{i}() -> u8 {{ helper_{i}() }}\nfn helper_{i}() -> u8 {{ {i} }}\n"),
            )
            .unwrap();
        }
    };
    write_all("alpha");
    let path = dir.path().join("g.sqlite");
    let db = GraphDb::open(&path).unwrap();
    let r = index_repository(&root, &db, &IndexOptions::default(), &|_| {}).unwrap();
    assert_eq!(r.files_indexed, 80);
    let count = |db: &GraphDb, q: &str| db.lexical_search(q, &[], 1000).unwrap().len();
    assert_eq!(count(&db, "alpha"), 80);
    assert!(!db.find_callers("helper_7").unwrap().is_empty());
    let fts_rows = |db: &GraphDb| -> i64 {
        db.connection().query_row("SELECT count(*) FROM entities_fts", [], |r| r.get(0)).unwrap()
    };
    let entities = |db: &GraphDb| -> i64 {
        db.connection().query_row("SELECT count(*) FROM entities", [], |r| r.get(0)).unwrap()
    };
    assert_eq!(fts_rows(&db), entities(&db));
    // Changing every file: again a bulk run; old words gone, new ones found.
    std::thread::sleep(Duration::from_millis(20));
    write_all("beta");
    index_repository(&root, &db, &IndexOptions::default(), &|_| {}).unwrap();
    assert_eq!(count(&db, "alpha"), 0);
    assert_eq!(count(&db, "beta"), 80);
    // Triggers are back: a single-file re-index updates FTS row by row.
    std::fs::write(root.join("src/m3.rs"), "pub fn gamma_only() {}\n").unwrap();
    reindex_file(&root, &db, &root.join("src/m3.rs")).unwrap();
    assert_eq!(count(&db, "gamma_only"), 1);
    assert_eq!(count(&db, "beta"), 79);
    let integrity: rusqlite::Result<usize> =
        db.connection().execute("INSERT INTO entities_fts(entities_fts) VALUES ('integrity-check')", []);
    integrity.unwrap();
    // Simulate a run that died in bulk mode: triggers gone, mark left.
    db.connection()
        .execute_batch(
            "DROP TRIGGER entities_fts_ai; DROP TRIGGER entities_fts_ad; DROP TRIGGER entities_fts_au;
             INSERT INTO meta(key, value) VALUES ('fts_stale', '1');
             DELETE FROM entities_fts;",
        )
        .ok();
    drop(db);
    let db = GraphDb::open(&path).unwrap();
    assert_eq!(count(&db, "beta"), 79);
    assert_eq!(db.meta("fts_stale").unwrap(), None);
    let triggers: i64 = db
        .connection()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'entities_fts_%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(triggers, 3);
}

/// Rows in a `vec0` table (its plain rowid shadow table), 0 when it does not exist.
fn vec_rows(db: &GraphDb, table: &str) -> i64 {
    db.connection().query_row(&format!("SELECT count(*) FROM {table}_rowids"), [], |r| r.get(0)).unwrap_or(0)
}

fn entity_count(db: &GraphDb) -> i64 {
    db.connection().query_row("SELECT count(*) FROM entities", [], |r| r.get(0)).unwrap()
}

/// Inserts `names` (with docs) as function entities of one synthetic file; ids from 1.
fn synthetic_entities(db: &GraphDb, rows: &[(&str, &str)]) {
    let conn = db.connection();
    conn.execute(
        "INSERT OR IGNORE INTO files(path, hash, size, language, indexed_at) VALUES ('s.rs', '', 0, 'rust', '')",
        [],
    )
    .unwrap();
    for (i, (name, doc)) in rows.iter().enumerate() {
        conn.execute(
            "INSERT INTO entities(id, file, name, qualified_name, kind, start_line, end_line, signature, doc)
             VALUES (?1, 's.rs', ?2, ?2, 'function', 1, 2, '', ?3)",
            rusqlite::params![i as i64 + 1, name, doc],
        )
        .unwrap();
    }
}

#[test]
fn lexical_search_wants_all_words_then_falls_back_to_any() {
    let db = GraphDb::open_in_memory().unwrap();
    synthetic_entities(
        &db,
        &[
            ("parse_token", "Reads one token."),
            ("parse_stream", "Parses a stream."),
            ("token_count", "Counts tokens."),
            ("render_widget", "Draws it."),
        ],
    );
    let names = |q: &str, limit: usize| -> Vec<String> {
        db.lexical_search(q, &[], limit).unwrap().into_iter().map(|h| h.entity.name).collect()
    };
    // Enough rows have every word: only those.
    assert_eq!(names("parse token", 1), ["parse_token"]);
    // Too few: any word, the all-words row still first.
    let any = names("parse token", 10);
    assert_eq!(any[0], "parse_token", "{any:?}");
    assert_eq!(any.len(), 3, "{any:?}");
    // No row has every word: any word.
    assert_eq!(names("render nothingmatches", 10), ["render_widget"]);
    // Syntax stays plain text on both paths.
    for q in ["parse \" token", "parse AND (", "NEAR(parse token)", "parse* token:"] {
        db.lexical_search(q, &[], 1).unwrap();
        db.lexical_search(q, &[], 10).unwrap();
    }
    // Hybrid: the all-words match leads.
    db.ensure_vectors("m", 8).unwrap();
    for id in 1..=4 {
        db.put_vector(id, &[id as f32, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5]).unwrap();
    }
    let hybrid =
        db.semantic_search("parse token", Some(&[1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5]), &[], 2).unwrap();
    assert_eq!(hybrid[0].entity.name, "parse_token");
}

struct OtherEmbedder(usize);

impl Embedder for OtherEmbedder {
    fn model(&self) -> &str {
        "other"
    }

    fn dim(&self) -> usize {
        self.0
    }

    async fn embed(&self, texts: &[String]) -> kv1nt::engine::graph::Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|t| (0..self.0).map(|i| ((t.len() + i) % 5) as f32 - 2.0).collect()).collect())
    }
}

/// The binary table follows the float table: embedding, deleting a file, changing the model
/// (dimension divisible by 8 or not), and migrating a database embedded before it existed.
#[tokio::test]
async fn binary_vectors_stay_in_step_with_float_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    copy_tree(&fixture("python"), &root);
    let path = dir.path().join("g.sqlite");
    let db = GraphDb::open(&path).unwrap();
    let opts = IndexOptions::default();
    index_repository(&root, &db, &opts, &|_| {}).unwrap();
    embed_pending(&db, &FakeEmbedder, 16).await.unwrap();
    let n = entity_count(&db);
    assert!(db.has_binary_vectors().unwrap());
    assert_eq!((vec_rows(&db, "entity_vectors"), vec_rows(&db, "entity_vectors_bin")), (n, n));

    std::fs::remove_file(root.join("app/utils.py")).unwrap();
    assert_eq!(index_repository(&root, &db, &opts, &|_| {}).unwrap().files_deleted, 1);
    let after = entity_count(&db);
    assert!(after < n);
    assert_eq!((vec_rows(&db, "entity_vectors"), vec_rows(&db, "entity_vectors_bin")), (after, after));

    // A new model drops and re-creates both tables.
    embed_pending(&db, &OtherEmbedder(16), 16).await.unwrap();
    assert_eq!(db.vector_model().unwrap(), Some(("other".into(), 16)));
    assert_eq!((vec_rows(&db, "entity_vectors"), vec_rows(&db, "entity_vectors_bin")), (after, after));
    // A dimension with no whole bytes: float only, searched exactly, deletes still work.
    embed_pending(&db, &OtherEmbedder(3), 16).await.unwrap();
    assert!(!db.has_binary_vectors().unwrap());
    assert_eq!(vec_rows(&db, "entity_vectors"), after);
    assert_eq!(db.vector_search(&[1.0, 0.0, 0.0], 3).unwrap().len(), 3);
    std::fs::remove_file(root.join("app/api.py")).unwrap();
    index_repository(&root, &db, &opts, &|_| {}).unwrap();
    assert_eq!(vec_rows(&db, "entity_vectors"), entity_count(&db));

    // A v1 database (float table only) gets the binary table, filled, on open.
    embed_pending(&db, &FakeEmbedder, 16).await.unwrap();
    let n = entity_count(&db);
    db.connection()
        .execute_batch(
            "DROP TABLE entity_vectors_bin;
             DROP TRIGGER entities_vec_ad;
             CREATE TRIGGER entities_vec_ad AFTER DELETE ON entities BEGIN
                 DELETE FROM entity_vectors WHERE rowid = old.id;
             END;
             PRAGMA user_version = 1;",
        )
        .unwrap();
    drop(db);
    let db = GraphDb::open(&path).unwrap();
    let version: i64 = db.connection().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 2);
    assert!(db.has_binary_vectors().unwrap());
    assert_eq!((vec_rows(&db, "entity_vectors"), vec_rows(&db, "entity_vectors_bin")), (n, n));
    std::fs::remove_file(root.join("app/models.py")).unwrap();
    index_repository(&root, &db, &opts, &|_| {}).unwrap();
    let n = entity_count(&db);
    assert_eq!((vec_rows(&db, "entity_vectors"), vec_rows(&db, "entity_vectors_bin")), (n, n));
}

/// Over the exact-search threshold, the quantised search finds (nearly) the exact neighbours
/// of clustered vectors, with exact distances; below it, search is exact.
#[test]
fn quantised_vector_search_agrees_with_exact() {
    const DIM: usize = 256;
    let db = GraphDb::open_in_memory().unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 2000) as f32 / 1000.0 - 1.0
    };
    let centres: Vec<Vec<f32>> = (0..40).map(|_| (0..DIM).map(|_| rand()).collect()).collect();
    let n = 6_000;
    let rows: Vec<(String, String)> = (0..n).map(|i| (format!("e{i}"), String::new())).collect();
    let refs: Vec<(&str, &str)> = rows.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    synthetic_entities(&db, &refs);
    db.ensure_vectors("clustered", DIM).unwrap();
    db.connection().execute_batch("BEGIN").unwrap();
    for id in 1..=n as i64 {
        let c = &centres[id as usize % centres.len()];
        let v: Vec<f32> = c.iter().map(|x| x + 0.6 * rand()).collect();
        db.put_vector(id, &v).unwrap();
    }
    db.connection().execute_batch("COMMIT").unwrap();
    let (mut found, mut wanted) = (0, 0);
    for q in 0..20 {
        let query: Vec<f32> = centres[q % centres.len()].iter().map(|x| x + 0.6 * rand()).collect();
        let fast = db.vector_search(&query, 10).unwrap();
        let exact = db.vector_search_exact(&query, 10).unwrap();
        assert_eq!(fast.len(), 10);
        for (id, d) in &fast {
            if let Some((_, e)) = exact.iter().find(|(x, _)| x == id) {
                assert!((d - e).abs() < 1e-5, "exact distances after re-ranking");
            }
        }
        found += fast.iter().filter(|(id, _)| exact.iter().any(|(x, _)| x == id)).count();
        wanted += exact.len();
    }
    let recall = found as f64 / wanted as f64;
    println!("clustered recall@10 (6,000 × {DIM}): {recall:.3}");
    assert!(recall >= 0.9, "recall@10 {recall}");

    // Below the threshold: the exact answer.
    let small = GraphDb::open_in_memory().unwrap();
    synthetic_entities(&small, &refs[..200]);
    small.ensure_vectors("clustered", DIM).unwrap();
    for id in 1..=200i64 {
        let v: Vec<f32> = centres[id as usize % 40].iter().map(|x| x + 0.6 * rand()).collect();
        small.put_vector(id, &v).unwrap();
    }
    let query: Vec<f32> = centres[3].clone();
    assert_eq!(small.vector_search(&query, 10).unwrap(), small.vector_search_exact(&query, 10).unwrap());
}
