//! The knowledge-graph commands as a user runs them, through the real binary: `kv1nt index`
//! (stats, incremental re-runs, a corrupt database, a concurrent run, `--embed` against a
//! scripted OpenAI-compatible server), `kv1nt search` (lexical and hybrid) and `kv1nt graph`
//! (callers against a fixture's expected edges and a real crate, unknown names, no index).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kv1nt::engine::graph::{GraphDb, graph_db_path};
use serde_json::Value;

use crate::support;

const BIN: &str = env!("CARGO_BIN_EXE_kv1nt");

/// A temp dir with `repo/` (a git repository holding a copy of `fixtures/graph/<lang>`), an
/// isolated data dir and a user config that turns embeddings off.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new(lang: &str) -> Env {
        let env = Env::empty();
        copy_tree(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph").join(lang),
            &env.repo(),
        );
        std::fs::remove_file(env.repo().join("expected.toml")).unwrap();
        let out = support::git::git_output(&env.repo(), &["init", "-q"]);
        assert!(out.status.success(), "git init: {}", String::from_utf8_lossy(&out.stderr));
        env
    }

    fn empty() -> Env {
        let env = Env { dir: tempfile::tempdir().unwrap() };
        std::fs::create_dir_all(env.repo()).unwrap();
        env.config("[graph]\nembed = \"none\"\n");
        env
    }

    fn config(&self, text: &str) {
        let dir = self.dir.path().join("config/kv1nt");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.toml"), text).unwrap();
    }

    fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn db_path(&self) -> PathBuf {
        graph_db_path(&self.dir.path().join("home"), &self.repo())
    }

    /// `kv1nt ARGS` in the repository, isolated from the user's environment.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("KV1NT_HOME", self.dir.path().join("home"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .current_dir(self.repo())
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run kv1nt")
    }

    /// Runs and parses stdout as JSON, asserting success.
    fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn qualified_names(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .expect("a JSON array")
        .iter()
        .map(|e| e["qualified_name"].as_str().expect("qualified_name").to_string())
        .collect()
}

#[derive(serde::Deserialize)]
struct Expected {
    calls: Vec<(String, String)>,
}

#[test]
fn index_then_callers_search_and_unknown_names_on_the_python_fixture() {
    let env = Env::new("python");
    let out = env.run(&["graph", "callers", "register"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no index for this repository; run `kv1nt index` first"),
        "{}",
        stderr(&out)
    );

    let stats = env.json(&["index", "--json"]);
    assert_eq!(
        (stats["files_seen"].as_u64(), stats["files_indexed"].as_u64()),
        (Some(7), Some(7)),
        "{stats}"
    );
    assert_eq!(stats["parse_errors"], 0);
    assert!(stats["entities"].as_u64().unwrap() >= 25 && stats["relations"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["lines_indexed"].as_u64().unwrap() > 50, "{stats}");
    assert!(stats["notice"].is_null());

    // Every expected caller of every callee in expected.toml, with the JSON fields promised.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph/python/expected.toml"),
    )
    .unwrap();
    let expected: Expected = toml::from_str(&text).unwrap();
    let mut by_callee: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (caller, callee) in &expected.calls {
        by_callee.entry(callee).or_default().insert(caller.clone());
    }
    for (callee, callers) in &by_callee {
        let got = env.json(&["graph", "callers", callee, "--json"]);
        for e in got.as_array().unwrap() {
            for field in ["name", "type", "file", "line", "strength", "depth"] {
                assert!(!e[field].is_null(), "{field} missing in {e}");
            }
        }
        let got = qualified_names(&got);
        assert!(callers.is_subset(&got), "callers of {callee}: expected {callers:?}, got {got:?}");
    }
    let got = env.json(&["graph", "callers", "find_by_email", "--json"]);
    assert_eq!(
        qualified_names(&got),
        BTreeSet::from([
            "app.api.get_user".into(),
            "app.orders.checkout".into(),
            "app.services.UserService.register".into()
        ])
    );
    // Depth 2 reaches the caller's callers, saying via whom.
    let deep = env.json(&["graph", "callers", "app.utils.normalize", "--depth", "2", "--json"]);
    let register = deep.as_array().unwrap().iter().find(|e| e["name"] == "register").expect("depth 2");
    assert_eq!(
        (register["depth"].as_u64(), register["via"].as_str()),
        (Some(2), Some("app.utils.is_valid_email"))
    );

    // A word from a docstring finds the entity; text output has rank, kind, name, file:line.
    let out = env.run(&["search", "pattern"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("lexical search only"), "{}", stderr(&out));
    let first = stdout(&out).lines().next().unwrap_or_default().to_string();
    assert!(
        first.contains("1.")
            && first.contains("function")
            && first.contains("app.utils.is_valid_email")
            && first.contains("app/utils.py:11"),
        "{first}"
    );
    let hits = env.json(&["search", "email", "--type", "function", "--limit", "3", "--json"]);
    let hits = hits.as_array().unwrap();
    assert!(!hits.is_empty() && hits.len() <= 3 && hits.iter().all(|h| h["type"] == "function"), "{hits:?}");
    let out = env.run(&["search", "x", "--type", "lambda"]);
    assert_eq!(out.status.code(), Some(2), "clap rejects an unknown type");
    assert!(stderr(&out).contains("api_endpoint"), "{}", stderr(&out));

    // An unknown name: exit 1, one line, with the close name.
    let out = env.run(&["graph", "callers", "is_valid_emal", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no entity named `is_valid_emal`") && err.contains("`app.utils.is_valid_email`"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(out.stdout.is_empty());

    // deps, related and stats answer as JSON.
    let deps = qualified_names(&env.json(&["graph", "deps", "app/api.py", "--json"]));
    assert!(deps.contains("app.services") && deps.contains("app.repository"), "{deps:?}");
    let related = env.json(&["graph", "related", "is_valid_email", "--json"]);
    assert!(related.as_array().unwrap().iter().any(|r| r["name"] == "normalize" && r["via"] == "calls"));
    let s = env.json(&["graph", "stats", "--json"]);
    assert_eq!((s["files"].as_u64(), s["embedded"].as_u64()), (Some(7), Some(0)), "{s}");
    assert!(s["by_type"]["api_endpoint"].as_u64() == Some(2), "{s}");

    // A second run: everything unchanged; a touched file is re-indexed, a deleted one dropped.
    let again = env.json(&["index", "--json"]);
    assert_eq!((again["files_unchanged"].as_u64(), again["files_indexed"].as_u64()), (Some(7), Some(0)));
    let utils = env.repo().join("app/utils.py");
    let text = std::fs::read_to_string(&utils).unwrap() + "\n\ndef added():\n    return normalize(' x ')\n";
    std::fs::write(&utils, text).unwrap();
    std::fs::remove_file(env.repo().join("app/models.py")).unwrap();
    let third = env.json(&["index", "--json"]);
    assert_eq!(
        (third["files_indexed"].as_u64(), third["files_deleted"].as_u64(), third["files_unchanged"].as_u64()),
        (Some(1), Some(1), Some(5)),
        "{third}"
    );
    let got = qualified_names(&env.json(&["graph", "callers", "normalize", "--json"]));
    assert!(got.contains("app.utils.added"), "{got:?}");

    // Text mode: plain progress lines on stderr (not a terminal), the stats on stdout.
    let out = env.run(&["index"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("6 seen · 0 indexed · 6 unchanged"), "{}", stdout(&out));
    assert!(stderr(&out).contains("found 6 source files"), "{}", stderr(&out));
}

#[test]
fn a_corrupt_database_is_rebuilt_with_a_notice() {
    let env = Env::new("go");
    let first = env.json(&["index", "--json"]);
    let db = env.db_path();
    assert!(db.is_file(), "{}", db.display());
    std::fs::write(&db, vec![0x5a; 8192]).unwrap();
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", db.display()));
    }
    let out = env.run(&["index", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("was corrupt"), "{}", stderr(&out));
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(stats["notice"].as_str().is_some_and(|n| n.contains("rebuilt")), "{stats}");
    assert_eq!(stats["files_indexed"], first["files_indexed"]);
    assert_eq!(stats["entities"], first["entities"]);
    let aside = std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().contains(".corrupt-"));
    assert!(aside, "the corrupt file is kept aside");
}

#[test]
fn a_second_index_run_waits_then_says_another_is_in_progress() {
    let env = Env::new("rust");
    assert!(env.run(&["index"]).status.success());
    let db = GraphDb::open(&env.db_path()).unwrap();
    let lock = db.lock_for_index(Duration::ZERO).unwrap();
    let start = Instant::now();
    let out = env.run(&["index", "--wait", "1"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(start.elapsed() >= Duration::from_secs(1), "it waited");
    assert!(stderr(&out).contains("another index run is in progress"), "{}", stderr(&out));
    drop(lock);
    assert!(env.run(&["index", "--wait", "1"]).status.success());
}

#[test]
fn index_path_argument_and_unreachable_embedder_is_lexical_only() {
    let env = Env::new("typescript");
    // Run from elsewhere, naming a subdirectory: the whole repository is indexed.
    let sub = std::fs::read_dir(env.repo())
        .unwrap()
        .flatten()
        .find(|e| e.path().is_dir() && e.file_name() != ".git");
    let target = sub.map_or(env.repo(), |e| e.path());
    let closed = support::closed_port_url();
    let out = env
        .cmd(&["index", "--embed", target.to_str().unwrap()])
        .current_dir(env.dir.path())
        .env("KV1NT_GRAPH_EMBED", "auto")
        .env("OLLAMA_HOST", &closed)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("no embedding model reachable: lexical search only"), "{}", stderr(&out));
    assert!(stderr(&out).contains(&closed), "says what it tried: {}", stderr(&out));
    assert!(env.db_path().is_file());
    let out = env.cmd(&["graph", "stats"]).env("KV1NT_GRAPH_EMBED", "bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("KV1NT_GRAPH_EMBED"), "{}", stderr(&out));
}

type Log = Arc<Mutex<Vec<(String, Value)>>>;

/// An OpenAI-compatible `/v1/embeddings` answering 4-dimensional vectors derived from each
/// input's words; records the request bodies.
async fn embedding_server() -> (String, Log) {
    use crate::support::http::Conn;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let log: Log = Arc::default();
    let log2 = log.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = log2.clone();
            tokio::spawn(async move {
                let mut conn = Conn::new(stream);
                let Ok(req) = conn.read_request().await else { return };
                let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                log.lock().unwrap().push((req.path().to_string(), body.clone()));
                if req.path() != "/v1/embeddings" {
                    let _ = conn.write_full(404, &[], "text/plain", b"not found").await;
                    return;
                }
                let vector = |s: &str| {
                    let s = s.to_lowercase();
                    vec![1.0 + s.len() as f32 / 100.0, f32::from(u8::from(s.contains("email"))), 0.5, 0.1]
                };
                let data: Vec<Value> = body["input"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, s)| serde_json::json!({"index": i, "embedding": vector(s.as_str().unwrap_or(""))}))
                    .collect();
                let answer = serde_json::json!({"object": "list", "data": data, "model": body["model"]});
                let _ = conn.write_full(200, &[], "application/json", answer.to_string().as_bytes()).await;
            });
        }
    });
    (url, log)
}

#[tokio::test]
async fn embed_with_an_openai_compatible_server_then_hybrid_search() {
    let (url, log) = embedding_server().await;
    let env = Env::new("python");
    env.config(&format!(
        "[graph]\nembed = \"openai\"\nembed_model = \"mini\"\nbatch = 8\n[openai]\nbase_url = \"{url}\"\n"
    ));
    let env = Arc::new(env);
    let run = |args: &'static [&'static str]| {
        let env = env.clone();
        tokio::task::spawn_blocking(move || env.run(args))
    };
    let out = run(&["index", "--embed", "--json"]).await.unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    let entities = stats["entities"].as_u64().unwrap();
    assert_eq!(stats["embedding"]["embedded"].as_u64(), Some(entities), "{stats}");
    assert_eq!(
        (stats["embedding"]["model"].as_str(), stats["embedding"]["dim"].as_u64()),
        (Some("mini"), Some(4))
    );
    // The dimension probe, then batches of at most 8.
    let requests = log.lock().unwrap().len() as u64;
    assert_eq!(requests, 1 + stats["embedding"]["requests"].as_u64().unwrap());
    assert!(requests > entities.div_ceil(8), "{requests} requests for {entities} entities");
    let largest = log.lock().unwrap().iter().map(|(_, b)| b["input"].as_array().map_or(0, Vec::len)).max();
    assert_eq!(largest, Some(8));

    let out = run(&["search", "email", "check"]).await.unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("hybrid search") && stderr(&out).contains("mini"), "{}", stderr(&out));
    assert!(stdout(&out).contains("app.utils.is_valid_email"), "{}", stdout(&out));
    let last = log.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.1["input"], serde_json::json!(["email check"]), "the query was embedded");

    let s: Value = serde_json::from_slice(&run(&["graph", "stats", "--json"]).await.unwrap().stdout).unwrap();
    assert_eq!((s["embedded"].as_u64(), s["embed_model"].as_str()), (Some(entities), Some("mini")));
    // Nothing pending: a second --embed sends no batch (only the probe).
    let before = log.lock().unwrap().len();
    let out = run(&["index", "--embed", "--json"]).await.unwrap();
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["embedding"]["embedded"].as_u64(), Some(0), "{stats}");
    assert_eq!(log.lock().unwrap().len(), before + 1);
}

/// Real code nobody here wrote: the `similar` crate's sources (the version Cargo.lock pins)
/// from the cargo registry.
#[test]
fn callers_in_a_real_crate() {
    let sources = support::crate_sources("similar");
    let Some(crate_dir) = support::require_found(sources, "cargo fetch --locked") else {
        return;
    };
    let env = Env::empty();
    copy_tree(&crate_dir, &env.repo());
    let stats = env.json(&["index", "--json"]);
    assert!(stats["files_indexed"].as_u64().unwrap() >= 15, "{stats}");
    let callers = qualified_names(&env.json(&["graph", "callers", "group_diff_ops", "--json"]));
    for want in
        ["crate::text::TextDiff::grouped_ops", "crate::algorithms::capture::Capture::into_grouped_ops"]
    {
        assert!(callers.contains(want), "{want} not among {callers:?}");
    }
    let out = env.run(&["graph", "callers", "group_diff_op"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("`crate::common::group_diff_ops`"), "{}", stderr(&out));
}
