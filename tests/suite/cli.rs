//! The `kv1nt` binary as a user runs it: `exec` (text and JSON), bad input, configuration
//! errors, sessions, completions, and a `kill -9` in the middle of a stream.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{ScriptedServer, Turn, Wire, closed_port_url};
use kv1nt::engine::store::{MessageStatus, Store};

const BIN: &str = env!("CARGO_BIN_EXE_kv1nt");

/// A command isolated from the user's environment: its own data and config dirs, no keys.
fn kv1nt(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("KV1NT_HOME", dir.join("home"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .current_dir(dir);
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("run kv1nt")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn exec_streams_text_and_json_lines() {
    let server =
        ScriptedServer::start(Wire::Anthropic, vec![Turn::text(&["Hello", ", world"]).usage(7, 2); 2]).await;
    let dir = tempfile::tempdir().unwrap();
    let base = server.base_url();
    let out = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        let base = base.clone();
        move || {
            run(kv1nt(&dir)
                .env("ANTHROPIC_API_KEY", "sk-test")
                .env("ANTHROPIC_BASE_URL", &base)
                .args(["exec", "hi"]))
        }
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Hello, world\n");

    let out = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        move || {
            run(kv1nt(&dir)
                .env("ANTHROPIC_API_KEY", "sk-test")
                .env("ANTHROPIC_BASE_URL", &base)
                .args(["exec", "--json", "--model", "claude-x", "hi"]))
        }
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines[0]["type"], "start");
    assert_eq!(lines[0]["model"], "claude-x");
    let text: String =
        lines.iter().filter(|l| l["type"] == "text").map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(text, "Hello, world");
    let usage = lines.iter().find(|l| l["type"] == "usage").expect("usage line");
    assert_eq!((usage["input_tokens"].as_u64(), usage["output_tokens"].as_u64()), (Some(7), Some(2)));
    assert_eq!(lines.last().unwrap()["type"], "done");
    assert_eq!(lines.last().unwrap()["status"], "complete");
    assert_eq!(server.chat_requests()[1].body["model"], "claude-x");
}

#[tokio::test]
async fn exec_reads_the_prompt_from_stdin() {
    let server = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["ok"])]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = kv1nt(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .args(["exec", "--provider", "openai", "--fallback", "none", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all("a prompt\nover two lines".as_bytes()).unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let messages = &server.chat_requests()[0].body["messages"];
    assert_eq!(messages[1]["content"], "a prompt\nover two lines");
}

#[test]
fn exec_without_any_provider_fails_with_one_line_saying_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(kv1nt(dir.path()).env("OLLAMA_HOST", closed_port_url()).args(["exec", "hello"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for needed in ["ANTHROPIC_API_KEY", "OLLAMA_HOST", "OPENAI_BASE_URL"] {
        assert!(err.contains(needed), "stderr must name {needed}: {err}");
    }
}

#[tokio::test]
async fn exec_reports_an_unknown_model_and_a_malformed_stream() {
    let server = ScriptedServer::start(
        Wire::Ollama,
        vec![
            Turn::status(404, "model \"nope\" not found, try pulling it first"),
            Turn::text(&["par"]).then_malformed(),
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let base = server.base_url();
    let d = dir.path().to_path_buf();
    let (first, second) = tokio::task::spawn_blocking(move || {
        let mut cmd = kv1nt(&d);
        cmd.env("OLLAMA_HOST", &base).args([
            "exec",
            "--provider",
            "ollama",
            "--fallback",
            "none",
            "--model",
            "nope",
            "hi",
        ]);
        (run(&mut cmd), run(&mut cmd))
    })
    .await
    .unwrap();
    assert_eq!(first.status.code(), Some(1));
    assert!(stderr(&first).contains("does not know model `nope`"), "{}", stderr(&first));
    assert_eq!(second.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&second.stdout).trim(), "par", "the partial reply is printed");
    assert!(stderr(&second).contains("malformed"), "{}", stderr(&second));
}

#[test]
fn a_bad_config_names_the_file_the_key_and_what_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    std::fs::create_dir_all(dir.path().join(".kv1nt")).unwrap();
    let file = dir.path().join(".kv1nt/config.toml");
    std::fs::write(&file, "[llm]\nprimery = \"ollama\"\n").unwrap();
    let out = run(kv1nt(dir.path()).args(["exec", "hi"]));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains(".kv1nt/config.toml: line 2: `llm.primery`") && err.contains("primary"), "{err}");

    std::fs::write(&file, "[llm]\nprimary = \"gpt\"\n").unwrap();
    let err = stderr(&run(kv1nt(dir.path()).args(["exec", "hi"])));
    assert!(err.contains("gpt") && err.contains("anthropic") && err.contains("ollama"), "{err}");

    std::fs::write(&file, "[ollama]\nnum_ctx = \"big\"\n").unwrap();
    let err = stderr(&run(kv1nt(dir.path()).args(["exec", "hi"])));
    assert!(err.contains("`ollama.num_ctx`") && err.contains("whole number"), "{err}");

    std::fs::write(&file, "[sandbox]\nmode = \"loose\"\n").unwrap();
    let err = stderr(&run(kv1nt(dir.path()).args(["exec", "hi"])));
    assert!(err.contains("`sandbox.mode`") && err.contains("enforce") && err.contains("degraded"), "{err}");
}

#[test]
fn bad_flags_and_unknown_sessions_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = stderr(&run(kv1nt(dir.path()).args(["exec", "--provider", "gpt", "hi"])));
    assert!(err.contains("not a provider"), "{err}");
    let out = run(kv1nt(dir.path()).args(["--resume", "deadbeef"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("deadbeef") && stderr(&out).contains("kv1nt sessions"), "{}", stderr(&out));
}

#[test]
fn completions_are_printed_for_each_shell() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = run(kv1nt(dir.path()).args(["completions", shell]));
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("exec"), "{shell}");
    }
}

/// `kill -9` while a reply streams: the saved reply holds what had been checkpointed (about a
/// second behind at most), marked interrupted, and `kv1nt sessions` lists the session.
#[tokio::test]
async fn kill_9_during_a_stream_loses_at_most_the_last_checkpoint_interval() {
    let words: Vec<String> = (0..200).map(|i| format!("word{i} ")).collect();
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    let server = ScriptedServer::start(
        Wire::Anthropic,
        vec![Turn::text(&refs).chunk_delay(Duration::from_millis(25))],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = kv1nt(dir.path())
        .env("ANTHROPIC_API_KEY", "sk-test")
        .env("ANTHROPIC_BASE_URL", server.base_url())
        .args(["exec", "stream a lot"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let printed = tokio::task::spawn_blocking(move || {
        let mut reader = BufReader::new(stdout);
        let mut printed = Vec::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(2500) {
            let buf = reader.fill_buf().unwrap();
            if buf.is_empty() {
                break;
            }
            let n = buf.len();
            printed.extend_from_slice(buf);
            reader.consume(n);
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        String::from_utf8(printed).unwrap()
    })
    .await
    .unwrap();
    assert!(printed.len() > 100, "the stream was running: {printed}");
    let store = Store::open(&dir.path().join("home")).unwrap();
    let session = store.resolve_session("last").unwrap();
    let messages = store.load_messages(&session.id).unwrap();
    assert_eq!(messages.len(), 2, "{messages:?}");
    let saved = &messages[1];
    assert_eq!(saved.status, MessageStatus::Incomplete);
    assert_eq!(saved.note.as_deref(), Some("interrupted"));
    assert!(printed.starts_with(&saved.message.text), "saved text is what was shown");
    // Default checkpoint interval is 1 s; at 40 words/s at most ~1 s of words may be missing.
    let missing_words = printed[saved.message.text.len()..].split_whitespace().count();
    assert!(missing_words <= 60, "lost {missing_words} words after the last checkpoint");
    let out = run(kv1nt(dir.path()).args(["sessions", "--json"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&session.id));
}

/// Headless approval: `auto-edit` applies a low-risk edit, `read-only` applies nothing, and
/// `ask` without a terminal denies and says so.
#[tokio::test]
async fn exec_applies_edits_only_as_the_approval_policy_allows() {
    let edit = serde_json::json!({"path": "src/lib.rs", "edits": [{"search": "a + b", "replace": "a.wrapping_add(b)"}]});
    let turns = |n: usize| {
        (0..n)
            .flat_map(|_| {
                vec![Turn::text(&[]).tool_call("e", "edit_file", edit.clone()), Turn::text(&["done"])]
            })
            .collect::<Vec<_>>()
    };
    let server = ScriptedServer::start(Wire::Anthropic, turns(3)).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    let original = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n";
    let base = server.base_url();
    let d = dir.path().to_path_buf();
    let run_with =
        move |policy: &str| {
            std::fs::write(d.join("src/lib.rs"), original).unwrap();
            let out = run(kv1nt(&d)
                .env("ANTHROPIC_API_KEY", "sk-test")
                .env("ANTHROPIC_BASE_URL", &base)
                .args(["exec", "--json", "--approval", policy, "use wrapping add"]));
            (out, std::fs::read_to_string(d.join("src/lib.rs")).unwrap())
        };
    let results =
        tokio::task::spawn_blocking(move || ["auto-edit", "read-only", "ask"].map(run_with)).await.unwrap();
    let [(auto, auto_file), (read_only, ro_file), (ask, ask_file)] = results;
    assert!(auto.status.success(), "{}", stderr(&auto));
    assert!(auto_file.contains("a.wrapping_add(b)"), "auto-edit applied the low-risk edit");
    assert!(read_only.status.success());
    assert_eq!(ro_file, original, "read-only applied nothing");
    assert!(String::from_utf8_lossy(&read_only.stdout).contains("read-only"));
    assert_eq!(ask_file, original, "ask without a terminal denies");
    assert!(
        String::from_utf8_lossy(&ask.stdout).contains("exec has no terminal to ask"),
        "{}",
        String::from_utf8_lossy(&ask.stdout)
    );
}
