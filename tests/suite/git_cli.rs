//! `kv1nt commit` as a user runs it, on temporary repositories: the proposal as JSON (risk,
//! reasons, a model message or a marked summary), the refusals (no terminal, nothing staged, no
//! repository), and that a refused commit leaves `git log` unchanged.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::git::TestRepo;
use crate::support::{ScriptedServer, Turn, Wire, closed_port_url};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_kv1nt");

/// A PEM private key as it appears in real repositories (random bytes, not a real key).
const PEM_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun
VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK
LxoU3Ul4EKIzLSL9XNv4hl3gy8uqG2NrPCtKdp4PkKlXTm7OVYxdvqGjTBr5fPpV
-----END RSA PRIVATE KEY-----
";

/// kv1nt in `repo`, isolated: its own HOME/config/data under `home`, no keys, and no model
/// reachable (Anthropic at a closed port, no fallback) unless the test points it at a server.
fn kv1nt(repo: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("KV1NT_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("ANTHROPIC_BASE_URL", closed_port_url())
        .env("KV1NT_FALLBACK", "none")
        .current_dir(repo);
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("run kv1nt")
}

async fn run_async(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || run(&mut cmd)).await.expect("join")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_of(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.trim_end().lines().count(), 1, "one JSON object on stdout: {stdout}");
    serde_json::from_str(stdout.trim()).expect("stdout is JSON")
}

/// A repository with one commit and `files` staged on top.
fn staged_repo(files: &[(&str, &str)]) -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "# demo\n");
    repo.commit_all("initial");
    for (path, text) in files {
        repo.write(path, text);
        repo.git(&["add", path]);
    }
    repo
}

#[test]
fn dry_run_json_reports_a_private_key_as_critical_with_a_marked_summary() {
    let repo = staged_repo(&[("deploy/id_rsa", PEM_KEY), ("src/main.rs", "fn main() {}\n")]);
    let home = tempfile::tempdir().unwrap();
    let head = repo.head();
    let out = run(kv1nt(repo.path(), home.path()).args(["commit", "--dry-run", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json_of(&out);
    assert_eq!(v["risk"], "critical");
    let reasons: Vec<&str> = v["reasons"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(reasons.iter().any(|r| r.contains("private key") && r.contains("deploy/id_rsa")), "{reasons:?}");
    assert!(!reasons.iter().any(|r| r.contains("MIIE")), "reasons never quote the key: {reasons:?}");
    assert_eq!(v["message_source"], "summary");
    assert!(v["note"].as_str().unwrap().contains("private key"), "{}", v["note"]);
    assert!(v["message"].as_str().unwrap().contains("id_rsa"));
    assert_eq!(v["files"], serde_json::json!(["deploy/id_rsa", "src/main.rs"]));
    assert_eq!(v["diffstat"]["files"], 2);
    assert_eq!(v["diffstat"]["insertions"], 6);
    assert_eq!(v["diffstat"]["per_file"][0]["path"], "deploy/id_rsa");
    assert_eq!(v["diffstat"]["per_file"][0]["status"], "added");
    assert_eq!(v["committed"], false);
    assert_eq!(repo.head(), head, "a dry run commits nothing");
    assert!(!repo.git(&["diff", "--cached", "--name-only"]).is_empty(), "the index is untouched");
}

#[test]
fn without_a_model_the_summary_is_marked_with_the_reason() {
    let repo = staged_repo(&[("src/lib.rs", "pub fn f() -> u8 {\n    1\n}\n")]);
    let home = tempfile::tempdir().unwrap();
    let out = run(kv1nt(repo.path(), home.path()).args(["commit", "--dry-run", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json_of(&out);
    assert_eq!(v["message_source"], "summary");
    let note = v["note"].as_str().unwrap();
    assert!(note.starts_with("no model reachable: ") && note.contains("anthropic"), "{note}");
    assert!(v["message"].as_str().unwrap().starts_with("feat: add lib.rs"), "{}", v["message"]);
    assert_eq!(v["risk"], "low");

    // Text mode says the same to a reader.
    let out = run(kv1nt(repo.path(), home.path()).args(["commit", "--dry-run"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Message (a summary of the diff: no model reachable:"), "{text}");
    assert!(text.contains("Risk: low") && text.contains("src/lib.rs"), "{text}");
}

#[tokio::test]
async fn the_models_message_is_used_and_cleaned() {
    let reply = "Here is the commit message:\n\n```\nfeat(parser): accept empty tables   \n\
                 Empty tables used to be an error.\n```\n\nCo-authored-by: Model <m@example.com>";
    let server = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&[reply])]).await;
    let repo = staged_repo(&[("src/parser.rs", "pub fn parse() {}\n")]);
    let home = tempfile::tempdir().unwrap();
    let mut cmd = kv1nt(repo.path(), home.path());
    cmd.env("OPENAI_BASE_URL", server.base_url()).env("KV1NT_PROVIDER", "openai").args([
        "commit",
        "--dry-run",
        "--json",
    ]);
    let out = run_async(cmd).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json_of(&out);
    assert_eq!(v["message_source"], "model");
    assert_eq!(v["note"], Value::Null);
    assert_eq!(v["message"], "feat(parser): accept empty tables\n\nEmpty tables used to be an error.");
    let requests = server.chat_requests();
    assert_eq!(requests.len(), 1);
    let sent = requests[0].body.to_string();
    assert!(sent.contains("src/parser.rs") && sent.contains("pub fn parse()"), "the diff is sent: {sent}");
    assert!(sent.contains("Conventional Commits"), "the style is asked for: {sent}");
    assert!(requests[0].body.get("tools").is_none_or(|t| t.as_array().is_none_or(Vec::is_empty)));
}

#[test]
fn without_a_terminal_a_commit_is_refused_and_nothing_changes() {
    let repo = staged_repo(&[("src/lib.rs", "pub fn f() {}\n")]);
    let home = tempfile::tempdir().unwrap();
    let (log, cached) = (repo.git(&["log", "--oneline"]), repo.git(&["diff", "--cached"]));
    let out = run(kv1nt(repo.path(), home.path()).args(["commit"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains("not committing: approval needs a terminal"), "{err}");
    assert_eq!(repo.git(&["log", "--oneline"]), log);
    assert_eq!(repo.git(&["diff", "--cached"]), cached);
}

#[test]
fn a_critical_commit_is_refused_without_allow_critical() {
    let repo = staged_repo(&[("id_ed25519", PEM_KEY)]);
    let home = tempfile::tempdir().unwrap();
    let log = repo.git(&["log", "--oneline"]);
    let out = run(kv1nt(repo.path(), home.path()).args(["commit", "--json"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("critical") && err.contains("--allow-critical"), "{err}");
    assert_eq!(json_of(&out)["committed"], false);
    // Even when allowed, a terminal is still needed to type `yes`.
    let out = run(kv1nt(repo.path(), home.path()).args(["commit", "--allow-critical"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("terminal"), "{}", stderr(&out));
    assert_eq!(repo.git(&["log", "--oneline"]), log);
}

#[test]
fn nothing_staged_and_no_repository_are_clear_errors() {
    let repo = TestRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("initial");
    repo.write("a.txt", "changed but not staged\n");
    let home = tempfile::tempdir().unwrap();
    let out = run(kv1nt(repo.path(), home.path()).args(["commit", "--dry-run"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nothing is staged"), "{}", stderr(&out));
    assert!(stderr(&out).contains("git add"), "{}", stderr(&out));

    let plain = tempfile::tempdir().unwrap();
    let out = run(kv1nt(plain.path(), home.path()).args(["commit", "--dry-run", "--json"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not inside a git repository"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}

/// `kv1nt commit` on a terminal in `repo`, no model reachable, `[git]` settings from `git_toml`.
fn on_terminal(
    repo: &TestRepo,
    home: &Path,
    args: &[&str],
    git_toml: &str,
) -> crate::support::pty::PtySession {
    let config_dir = home.join("config/kv1nt");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(config_dir.join("config.toml"), format!("[git]\n{git_toml}")).unwrap();
    let editor = home.join("editor.sh");
    std::fs::write(&editor, "#!/bin/sh\nprintf 'fix: edited in the editor\\n\\nBecause.\\n' > \"$1\"\n")
        .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (home_s, editor_s, closed) =
        (home.to_string_lossy().into_owned(), editor.to_string_lossy().into_owned(), closed_port_url());
    let (data, config) = (format!("{home_s}/data"), format!("{home_s}/config"));
    let env = [
        ("HOME", home_s.as_str()),
        ("KV1NT_HOME", data.as_str()),
        ("XDG_CONFIG_HOME", config.as_str()),
        ("GIT_CONFIG_NOSYSTEM", "1"),
        ("ANTHROPIC_BASE_URL", closed.as_str()),
        ("KV1NT_FALLBACK", "none"),
        ("EDITOR", editor_s.as_str()),
    ];
    let mut all = vec!["commit"];
    all.extend_from_slice(args);
    crate::support::pty::PtySession::spawn(BIN, &all, &env, repo.path(), 120, 60)
}

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn on_a_terminal_the_message_is_edited_then_committed_with_the_configured_trailer() {
    let repo = staged_repo(&[("src/lib.rs", "pub fn f() {}\n")]);
    repo.write("notes.txt", "unstaged, untracked\n");
    let home = tempfile::tempdir().unwrap();
    let mut term = on_terminal(&repo, home.path(), &[], "trailer = \"Reviewed-with: kv1nt\"\n");
    term.wait_for("Commit? [y/N/e]", WAIT).unwrap();
    term.send("e\r");
    term.wait_for("Message (edited by you)", WAIT).unwrap();
    term.send("y\r");
    let screen = term.wait_for("committed ", WAIT).unwrap();
    assert!(screen.contains("fix: edited in the editor"), "{screen}");
    assert_eq!(term.wait_exit(WAIT), Some(0));
    assert_eq!(
        repo.git(&["log", "-1", "--format=%B"]),
        "fix: edited in the editor\n\nBecause.\n\nReviewed-with: kv1nt\n\n"
    );
    assert_eq!(repo.git(&["show", "--name-only", "--format="]).trim(), "src/lib.rs");
    assert_eq!(repo.git(&["status", "--porcelain"]), "?? notes.txt\n");
}

#[test]
fn on_a_terminal_a_critical_commit_needs_the_flag_and_a_typed_yes() {
    let repo = staged_repo(&[("config/id_rsa", PEM_KEY)]);
    let home = tempfile::tempdir().unwrap();
    let head = repo.head();
    let mut term = on_terminal(&repo, home.path(), &["--allow-critical"], "");
    term.wait_for("Type `yes` to commit anyway", WAIT).unwrap();
    term.send("y\r");
    assert_eq!(term.wait_exit(WAIT), Some(1), "`y` is not enough for a critical commit");
    assert_eq!(repo.head(), head);

    let mut term = on_terminal(&repo, home.path(), &["--allow-critical"], "");
    term.wait_for("Type `yes` to commit anyway", WAIT).unwrap();
    term.send("yes\r");
    term.wait_for("committed ", WAIT).unwrap();
    assert_eq!(term.wait_exit(WAIT), Some(0));
    assert_ne!(repo.head(), head);
    assert_eq!(
        repo.git(&["log", "-1", "--format=%B"]).trim_end(),
        "feat(config): add id_rsa\n\n- config/id_rsa (+5/-0)"
    );
}
