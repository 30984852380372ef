//! The built-in `local` provider (llama.cpp in-process) and the offline embedder, against the
//! real GGUFs `scripts/test` installs: Gemma 3 270M (`KV1NT_CHAT_MODEL`) and all-MiniLM-L6-v2
//! (`KV1NT_EMBED_MODEL`). A missing model skips locally and fails under `CI=true`.
//!
//! The 270M base model is weak: these tests check what a user would notice of the plumbing
//! (a stream arrives with real token counts, Esc stops it at once, a tool call goes through the
//! engine and back, similar texts embed close), never the quality of what it writes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kv1nt::engine::graph::embed::Embedder;
use kv1nt::engine::graph::settings::{EmbedEndpoints, EmbedProvider, GraphSettings, embedder_for};
use kv1nt::engine::llm::local::LocalProvider;
use kv1nt::engine::llm::local::embed::LocalEmbedder;
use kv1nt::engine::llm::local::settings::LocalConfig;
use kv1nt::engine::llm::{ChatRequest, Message, Provider, StreamEvent, ToolChoice};
use serde_json::Value;

use crate::support::local_model::skip_real_model;
use crate::support::prereq::require_found;

/// The GGUF named by `var`, or None (skipped; a failure under CI=true).
fn gguf(var: &str) -> Option<PathBuf> {
    if skip_real_model() {
        return None;
    }
    let found = std::env::var(var)
        .ok()
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .ok_or_else(|| format!("{var} (a GGUF file for the built-in provider)"));
    require_found(found, "run the tests with scripts/test, which installs the test models and exports it")
}

/// One test at a time: the chat tests share the process's one inference thread (a timing must not
/// include another test's request queued on it), and llama.cpp's OpenMP threads slow down badly
/// when several models compete for the two cores of the CI machine.
static CHAT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn config(model: &Path) -> LocalConfig {
    LocalConfig { model: model.display().to_string(), threads: 2, ..LocalConfig::default() }
}

fn request(prompt: &str, max_tokens: u32, temperature: Option<f32>) -> ChatRequest {
    ChatRequest {
        model: String::new(),
        system: String::new(),
        messages: vec![Message::user(prompt)],
        tools: Vec::new(),
        max_tokens,
        temperature,
        tool_choice: ToolChoice::Auto,
        thinking: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_streams_in_several_deltas_with_real_token_counts() {
    let Some(model) = gguf("KV1NT_CHAT_MODEL") else { return };
    let _one = CHAT.lock().await;
    let provider = LocalProvider::new(&config(&model));
    provider.check_configured().unwrap();
    let mut stream =
        provider.start(request("Write a short poem about the sea.", 48, Some(0.7))).await.unwrap();
    let (mut deltas, mut text, mut usage, mut done) = (0, String::new(), None, None);
    while let Some(event) = tokio::time::timeout(Duration::from_secs(120), stream.next()).await.unwrap() {
        match event.unwrap() {
            StreamEvent::TextDelta(t) => {
                deltas += 1;
                text.push_str(&t);
            }
            StreamEvent::Usage(u) => usage = Some(u),
            StreamEvent::Done { stop_reason } => {
                done = stop_reason;
                break;
            }
            StreamEvent::ToolCall(c) => panic!("no native tool calls from the built-in model: {c:?}"),
            StreamEvent::ThinkingDelta(_) | StreamEvent::Thinking(_) => {
                panic!("the built-in model does not think")
            }
        }
    }
    let usage = usage.expect("a usage event");
    assert!(deltas >= 2, "a stream, not one block: {deltas} deltas of {text:?}");
    assert!(!text.trim().is_empty());
    assert!(usage.input_tokens > 5, "the prompt's real token count (chat template included): {usage:?}");
    assert!(usage.output_tokens >= deltas as u64 && usage.output_tokens <= 48, "{usage:?}");
    assert!(matches!(done.as_deref(), Some("stop" | "length")), "{done:?}");
}

/// Esc drops the stream: the inference thread must notice before its next token. Measured as
/// the time until the next request, queued behind it on the same thread, has started, minus
/// what starting that request costs on an idle thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_stream_stops_generation_within_200_ms() {
    let Some(model) = gguf("KV1NT_CHAT_MODEL") else { return };
    let _one = CHAT.lock().await;
    let provider = LocalProvider::new(&config(&model));
    let tiny = || request("Hi", 1, Some(0.0));
    // Loads the model if needed, then the cost of starting a request on an idle thread.
    drop(provider.start(tiny()).await.unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = Instant::now();
    drop(provider.start(tiny()).await.unwrap());
    let setup = idle.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let long = request("Count from 1 to 500, one number per line: 1\n2\n3\n", 2_000, Some(0.7));
    let mut stream = provider.start(long).await.unwrap();
    for _ in 0..3 {
        match tokio::time::timeout(Duration::from_secs(120), stream.next()).await.unwrap() {
            Some(Ok(StreamEvent::TextDelta(_))) => {}
            other => panic!("the model was to be still generating, got {other:?}"),
        }
    }
    let dropped = Instant::now();
    drop(stream);
    let next = provider.start(tiny()).await.unwrap();
    let waited = dropped.elapsed();
    drop(next);
    let stopped = waited.saturating_sub(setup);
    eprintln!(
        "stopped {stopped:?} after the drop (waited {waited:?}, of which starting a request {setup:?})"
    );
    assert!(stopped < Duration::from_millis(200), "generation went on for {stopped:?} after the drop");
}

/// A tool call through the engine: `kv1nt exec --provider local` with the first step forced to
/// call a tool (`agent.tool_choice = "required"`): the built-in provider constrains decoding
/// with a GBNF grammar to one `<tool_call>` of an offered tool, the turn parses it with the
/// text protocol and runs it, the result goes back, and the model replies again. The grammar
/// guarantees the call's shape, not its arguments: the test proves the round trip, not that the
/// 270M model picked a sensible file.
#[test]
fn a_tool_round_trip_runs_through_the_engine() {
    let Some(model) = gguf("KV1NT_CHAT_MODEL") else { return };
    let _one = CHAT.blocking_lock();
    let repo = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let config_home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join(".git")).unwrap();
    std::fs::create_dir_all(repo.path().join(".kv1nt")).unwrap();
    std::fs::write(repo.path().join("notes.txt"), "The answer is 42.\n").unwrap();
    let settings = "[llm]\ntemperature = 0.0\n[agent]\ntool_choice = \"required\"\napproval = \"read-only\"\nmax_steps = 2\n";
    std::fs::write(repo.path().join(".kv1nt/config.toml"), settings).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kv1nt"))
        .args(["exec", "--provider", "local", "--model"])
        .arg(&model)
        .args(["--json", "--max-tokens", "200", "Call read_file with path notes.txt and tell me the answer."])
        .current_dir(repo.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", repo.path())
        .env("KV1NT_HOME", data.path())
        .env("XDG_CONFIG_HOME", config_home.path())
        .env("KV1NT_FALLBACK", "none")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let context = || format!("stdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr));
    let events: Vec<Value> = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let of = |kind: &str| events.iter().filter(|e| e["type"] == kind).collect::<Vec<_>>();
    let starts = of("start");
    assert!(!starts.is_empty() && starts[0]["provider"] == "local", "{}", context());
    let tools = of("tool");
    assert!(!tools.is_empty(), "the grammar-forced call was parsed and run\n{}", context());
    assert!(tools[0]["name"].as_str().is_some_and(|n| !n.is_empty()), "{}", context());
    assert!(!of("tool_result").is_empty(), "kv1nt reported the result\n{}", context());
    assert!(starts.len() >= 2, "the result went back and the model replied again\n{}", context());
    assert_eq!(of("done").len(), 1, "{}", context());
    assert_eq!(out.status.code(), Some(0), "{}", context());
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_embeddings_have_384_dims_and_put_similar_texts_closer() {
    let Some(model) = gguf("KV1NT_EMBED_MODEL") else { return };
    let _one = CHAT.lock().await;
    let embedder = LocalEmbedder::detect(&model, 2).await.unwrap();
    assert_eq!(embedder.dim(), 384);
    let texts = [
        "function parse_json reads a JSON document into a tree",
        "fn parse_json(text: &str) -> Result<Value>: parse JSON text",
        "The weather in Paris is sunny with a light breeze today",
    ]
    .map(String::from);
    let v = embedder.embed(&texts).await.unwrap();
    assert_eq!(v.len(), 3);
    assert!(v.iter().all(|x| x.len() == 384));
    let (near, far) = (cosine(&v[0], &v[1]), cosine(&v[0], &v[2]));
    assert!(near > far + 0.1, "similar texts closer: {near} vs unrelated {far}");
}

/// `graph.embed = "auto"` with no embedding server answering falls to the built-in embedder;
/// `"local"` asks for it directly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graph_falls_back_to_the_built_in_embedder_when_no_server_answers() {
    let Some(model) = gguf("KV1NT_EMBED_MODEL") else { return };
    let _one = CHAT.lock().await;
    let at = EmbedEndpoints {
        ollama_host: "http://127.0.0.1:9".into(),
        openai_base_url: kv1nt::engine::llm::openai::DEFAULT_BASE_URL.into(),
        openai_api_key: None,
        local_embed_model: Some(model.clone()),
        local_threads: 2,
    };
    for embed in [EmbedProvider::Auto, EmbedProvider::Local] {
        let settings = GraphSettings { embed, ..GraphSettings::default() };
        let embedder = embedder_for(&settings, &at).await.unwrap().expect("an embedder");
        assert!(
            embedder.describe().starts_with("built-in") && embedder.dim() == 384,
            "{}",
            embedder.describe()
        );
    }
    let missing = EmbedEndpoints { local_embed_model: Some(PathBuf::from("/nonexistent.gguf")), ..at };
    let settings = GraphSettings { embed: EmbedProvider::Local, ..GraphSettings::default() };
    let why = embedder_for(&settings, &missing).await.err().expect("a clear error");
    assert!(why.contains("/nonexistent.gguf"), "{why}");
}

/// Issue 17's promise end to end, in a real terminal: no provider answers, the first-run modal
/// offers the GGUF registered with `kv1nt model add`, Enter makes it the built-in provider's
/// model, and a prompt typed next is answered by it with a tool call that runs (the first step
/// forced to call one, as in the test above) — nothing else installed, no server.
#[test]
fn first_run_choice_then_a_chat_with_a_tool_call_on_the_built_in_model() {
    use crate::support::closed_port_url;
    use crate::support::pty::{Key, PtySession};
    let Some(model) = gguf("KV1NT_CHAT_MODEL") else { return };
    let _one = CHAT.blocking_lock();
    let dir = tempfile::tempdir().unwrap();
    let (repo, home, config) = (dir.path().join("repo"), dir.path().join("home"), dir.path().join("config"));
    let no_ollama = dir.path().join("no-ollama");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::write(repo.join("notes.txt"), "The answer is 42.\n").unwrap();
    std::fs::create_dir_all(config.join("kv1nt")).unwrap();
    let settings = format!(
        "[llm]\nprimary = \"ollama\"\nfallback = \"none\"\ntemperature = 0.0\n[ollama]\nhost = \"{}\"\n\
         [graph]\nembed = \"none\"\n[agent]\ntool_choice = \"required\"\napproval = \"read-only\"\n\
         max_steps = 2\n[local]\nmax_tokens = 200\nthreads = 2\n",
        closed_port_url()
    );
    std::fs::write(config.join("kv1nt/config.toml"), settings).unwrap();
    let env = [
        ("KV1NT_HOME", home.to_str().unwrap()),
        ("XDG_CONFIG_HOME", config.to_str().unwrap()),
        ("OLLAMA_MODELS", no_ollama.to_str().unwrap()),
    ];
    let added = Command::new(env!("CARGO_BIN_EXE_kv1nt"))
        .args(["model", "add", "--name", "gemma"])
        .arg(&model)
        .envs(env)
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let wait = Duration::from_secs(180);
    let mut tui = PtySession::spawn(env!("CARGO_BIN_EXE_kv1nt"), &[], &env, &repo, 160, 50);
    let screen = tui.wait_for("No model provider answered", wait).expect("the first-run modal");
    assert!(screen.contains("› gemma"), "{screen}");
    tui.send_key(Key::Enter);
    tui.wait_for("local · gemma │", wait).expect("chosen");
    tui.send("Call read_file with path notes.txt and tell me the answer.");
    tui.send_key(Key::Enter);
    tui.wait_for("⚙", wait).expect("the forced tool call shows in the chat");
    // The result went back, the model replied again and the turn ended: its usage is shown.
    let ended = |screen: &vt100::Screen| {
        let text = crate::support::pty::screen_text(screen);
        text.contains("tokens ") && !text.contains("Prompt — streaming")
    };
    tui.wait_for_fn("the turn's end", wait, ended).expect("the turn ends with its token count");
    let screen = tui.screen_text();
    // The grammar holds the arguments to the tool's schema: the call runs, it is not sent back
    // as malformed.
    assert!(!screen.contains("malformed") && !screen.contains("Not run"), "{screen}");
    assert!(screen.contains(" local · gemma │"), "the status bar names the built-in provider: {screen}");
    tui.send_key(Key::Ctrl('q'));
    assert_eq!(tui.wait_exit(Duration::from_secs(30)), Some(0));
}
