//! The model-assisted parts of the git engine against scripted servers: one-shot completion with
//! fallback, generated commit messages, conflict resolutions (through a real merge), pull-request
//! targets on temporary repositories, and the GitHub API call against a scripted local server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::git::TestRepo;
use crate::support::http::{Conn, Request};
use crate::support::{ScriptedServer, Turn, Wire, closed_port_url};
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::git::assist::{GithubTarget, github_target, open_pull_request};
use kv1nt::engine::git::{self, CommitInfo, MergeOutcome, MessageSource};
use kv1nt::engine::llm::http::build_client;
use kv1nt::engine::llm::oneshot::OneShot;
use kv1nt::engine::llm::{LlmError, ProviderKind, providers};
use tokio::net::TcpListener;

/// Every provider at a closed port, fast retries; tests point one provider at a server.
fn config(primary: ProviderKind, fallback: Fallback) -> Config {
    let mut config = Config::default();
    config.llm.primary = primary;
    config.llm.fallback = fallback;
    config.llm.retry_base_ms = 1;
    config.llm.retry_max_ms = 2;
    config.anthropic.base_url = closed_port_url();
    config.openai.base_url = closed_port_url();
    config.ollama.host = closed_port_url();
    config
}

fn client() -> reqwest::Client {
    build_client(Duration::from_secs(2))
}

/// The providers a one-shot request asks under `cfg`.
fn one_shot(cfg: &Config, secrets: &Secrets) -> OneShot {
    providers::one_shot(cfg, secrets, &client())
}

#[tokio::test]
async fn oneshot_uses_the_primary_and_sends_no_tools() {
    let server = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["Hel", "lo"])]).await;
    let mut cfg = config(ProviderKind::OpenAi, Fallback::None);
    cfg.openai.base_url = server.base_url();
    let text = one_shot(&cfg, &Secrets::default()).complete("SYS", "USER", 50).await.unwrap();
    assert_eq!(text, "Hello");
    let req = &server.chat_requests()[0];
    assert_eq!(req.body["messages"][0]["content"], "SYS");
    assert_eq!(req.body["messages"][1]["content"], "USER");
    assert!(req.body.get("tools").is_none_or(|t| t.as_array().is_none_or(Vec::is_empty)));
    assert_eq!(req.body["max_tokens"], 50);
}

#[tokio::test]
async fn oneshot_falls_back_when_the_primary_refuses() {
    let primary = ScriptedServer::start(Wire::Anthropic, vec![Turn::status(401, "invalid x-api-key")]).await;
    let fallback = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["from the fallback"])]).await;
    let mut cfg = config(ProviderKind::Anthropic, Fallback::OpenAi);
    cfg.anthropic.base_url = primary.base_url();
    cfg.openai.base_url = fallback.base_url();
    let secrets = Secrets { anthropic_api_key: Some("sk-bad".into()), ..Secrets::default() };
    let text = one_shot(&cfg, &secrets).complete("s", "u", 50).await.unwrap();
    assert_eq!(text, "from the fallback");
    assert_eq!(primary.chat_requests().len(), 1, "a refused key is not retried");
}

#[tokio::test]
async fn oneshot_follows_the_turns_fallback_rule_and_fallback_confirm() {
    // A 400 is not a reason to change provider, for a turn or a one-shot request.
    let primary = ScriptedServer::start(Wire::OpenAi, vec![Turn::status(400, "bad request")]).await;
    let fallback = ScriptedServer::start(Wire::Ollama, vec![Turn::text(&["never"])]).await;
    let mut cfg = config(ProviderKind::OpenAi, Fallback::Ollama);
    cfg.openai.base_url = primary.base_url();
    cfg.ollama.host = fallback.base_url();
    let err = one_shot(&cfg, &Secrets::default()).complete("s", "u", 50).await.unwrap_err().to_string();
    assert!(err.contains("HTTP 400") && err.contains("not a failure that moves"), "{err}");
    assert!(fallback.chat_requests().is_empty(), "{err}");

    // With fallback_confirm and nobody to ask, an unreachable primary does not move either.
    let mut cfg = config(ProviderKind::OpenAi, Fallback::Ollama);
    cfg.ollama.host = fallback.base_url();
    cfg.llm.fallback_confirm = true;
    let err = one_shot(&cfg, &Secrets::default()).complete("s", "u", 50).await.unwrap_err().to_string();
    assert!(err.contains("unreachable") && err.contains("fallback_confirm"), "{err}");
    assert!(fallback.chat_requests().is_empty(), "{err}");
}

#[tokio::test]
async fn oneshot_names_every_provider_when_none_answers() {
    let cfg = config(ProviderKind::Anthropic, Fallback::Ollama);
    let err = one_shot(&cfg, &Secrets::default()).complete("s", "u", 50).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, LlmError::NoAnswer(_)), "{err:?}");
    assert!(text.contains("anthropic") && text.contains("ollama"), "{text}");

    let cfg = config(ProviderKind::OpenAi, Fallback::None);
    let text = one_shot(&cfg, &Secrets::default()).complete("s", "u", 50).await.unwrap_err().to_string();
    assert!(text.contains("openai") && text.contains("no fallback"), "{text}");
}

#[tokio::test]
async fn oneshot_gives_up_at_its_time_limit() {
    let server = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["partial"]).then_stall()]).await;
    let mut cfg = config(ProviderKind::OpenAi, Fallback::None);
    cfg.openai.base_url = server.base_url();
    let limit = Duration::from_millis(500);
    let err = one_shot(&cfg, &Secrets::default())
        .complete_within("s", "u", 50, limit)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no complete reply within 500 ms (waiting for openai)"), "{err}");
    assert!(err.contains("openai"), "{err}");
}

fn staged_proposal(repo: &TestRepo) -> git::CommitProposal {
    repo.write("README.md", "# demo\n");
    repo.commit_all("initial");
    repo.write("src/parser.rs", "pub fn parse(input: &str) -> usize {\n    input.len()\n}\n");
    repo.git(&["add", "src/parser.rs"]);
    git::prepare_commit(&repo.open(), repo.path()).unwrap()
}

#[tokio::test]
async fn commit_messages_come_from_the_model_or_a_marked_summary() {
    let repo = TestRepo::new();
    let proposal = staged_proposal(&repo);
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![Turn::text(&["```\nfeat(parser): count input bytes\n```"]), Turn::text(&["Sure, I can help!"])],
    )
    .await;
    let mut cfg = config(ProviderKind::OpenAi, Fallback::None);
    cfg.openai.base_url = server.base_url();
    let secrets = Secrets::default();
    let (message, source, note) =
        git::assist::write_commit_message(&one_shot(&cfg, &secrets), cfg.git.message_style, &proposal).await;
    assert_eq!(
        (message.as_str(), source, note),
        ("feat(parser): count input bytes", MessageSource::Model, None)
    );
    let sent = server.chat_requests()[0].body.to_string();
    assert!(sent.contains("src/parser.rs | 3 +++") && sent.contains("input.len()"), "{sent}");

    // An unusable reply: the summary, saying so.
    let (message, source, note) =
        git::assist::write_commit_message(&one_shot(&cfg, &secrets), cfg.git.message_style, &proposal).await;
    assert_eq!(source, MessageSource::Summary);
    assert_eq!(message, git::summarize_diff(&proposal.diffstat, &proposal.files));
    assert_eq!(note.as_deref(), Some("the model's message was not usable"));

    // No model at all.
    let cfg = config(ProviderKind::OpenAi, Fallback::None);
    let (message, source, note) =
        git::assist::write_commit_message(&one_shot(&cfg, &secrets), cfg.git.message_style, &proposal).await;
    assert_eq!(source, MessageSource::Summary);
    assert!(message.starts_with("feat(") || message.starts_with("feat:"), "{message}");
    let note = note.unwrap();
    assert!(note.starts_with("no model reachable: ") && note.contains("openai"), "{note}");
}

/// A repository on `main` with a conflicting change to `lib.rs` on `feature`, merged: the
/// merge stops with one conflict.
fn conflicted_merge() -> (TestRepo, git::Conflict) {
    let repo = TestRepo::new();
    repo.write("lib.rs", "fn a() {}\n\nfn shared() -> u8 {\n    1\n}\n");
    repo.commit_all("base");
    repo.git(&["switch", "-q", "-c", "feature"]);
    repo.write("lib.rs", "fn a() {}\n\nfn shared() -> u8 {\n    2\n}\n\nfn theirs() {}\n");
    repo.commit_all("theirs");
    repo.git(&["switch", "-q", "main"]);
    repo.write("lib.rs", "fn ours() {}\n\nfn shared() -> u8 {\n    3\n}\n");
    repo.commit_all("ours");
    let outcome = git::merge(&repo.open(), "feature").unwrap();
    let MergeOutcome::Conflicts(conflicts) = outcome else { panic!("expected conflicts: {outcome:?}") };
    assert_eq!(conflicts.len(), 1);
    let conflict = conflicts.into_iter().next().unwrap();
    (repo, conflict)
}

#[tokio::test]
async fn a_proposed_resolution_is_the_models_file_and_completes_the_merge() {
    let (repo, conflict) = conflicted_merge();
    let resolved = "fn ours() {}\n\nfn shared() -> u8 {\n    3\n}\n\nfn theirs() {}\n";
    let reply = format!("Merged both sides:\n````rust\n{resolved}````\n");
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![
            Turn::text(&[reply.as_str()]),
            Turn::text(&["````\n<<<<<<< HEAD\n    3\n=======\n    2\n>>>>>>> feature\n````"]),
        ],
    )
    .await;
    let mut cfg = config(ProviderKind::OpenAi, Fallback::None);
    cfg.openai.base_url = server.base_url();
    let secrets = Secrets::default();
    let text = git::assist::propose_resolution(&one_shot(&cfg, &secrets), &conflict).await.unwrap();
    assert_eq!(text, resolved);
    let sent = server.chat_requests()[0].body.to_string();
    for part in ["File: lib.rs", "BASE", "OURS", "THEIRS", "    2", "    3", "fn theirs()"] {
        assert!(sent.contains(part), "{part} in {sent}");
    }

    let err = git::assist::propose_resolution(&one_shot(&cfg, &secrets), &conflict).await.unwrap_err();
    assert!(err.contains("conflict markers"), "{err}");

    let git = repo.open();
    git::resolve_file(&git, "lib.rs", Some(&text)).unwrap();
    git::merge_commit(&git, "Merge feature", &git::CommitOptions::default()).unwrap();
    assert_eq!(repo.read("lib.rs"), resolved.as_bytes());
    assert_eq!(repo.git(&["log", "-1", "--format=%P"]).split_whitespace().count(), 2);
    assert!(repo.git(&["status", "--porcelain"]).is_empty());
}

#[tokio::test]
async fn resolutions_are_not_asked_for_deleted_or_secret_files() {
    let (_repo, conflict) = conflicted_merge();
    let cfg = config(ProviderKind::OpenAi, Fallback::None);
    let secrets = Secrets::default();
    let deleted = git::Conflict { theirs: None, ..conflict.clone() };
    let err = git::assist::propose_resolution(&one_shot(&cfg, &secrets), &deleted).await.unwrap_err();
    assert!(err.contains("deleted on one side"), "{err}");
    let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n";
    let secret = git::Conflict { ours: Some(key.to_string()), ..conflict.clone() };
    let err = git::assist::propose_resolution(&one_shot(&cfg, &secrets), &secret).await.unwrap_err();
    assert!(err.contains("private key") && err.contains("not sent"), "{err}");
    let err = git::assist::propose_resolution(&one_shot(&cfg, &secrets), &conflict).await.unwrap_err();
    assert!(err.starts_with("no model reachable: "), "{err}");
}

#[test]
fn github_targets_need_a_pushed_branch_on_a_github_like_remote() {
    let repo = TestRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("initial");
    repo.git(&["switch", "-q", "-c", "feature/x"]);
    let err = github_target(&repo.open()).unwrap_err().to_string();
    assert!(err.contains("no remote") && err.contains("does not push"), "{err}");

    repo.git(&["remote", "add", "origin", "git@github.com:octo/hello.git"]);
    let err = github_target(&repo.open()).unwrap_err().to_string();
    assert!(err.contains("not on any remote") && err.contains("git push -u origin feature/x"), "{err}");

    repo.git(&["update-ref", "refs/remotes/origin/feature/x", "HEAD"]);
    let target = github_target(&repo.open()).unwrap();
    assert_eq!(
        target,
        GithubTarget {
            owner: "octo".into(),
            repo: "hello".into(),
            remote: "origin".into(),
            head: "feature/x".into()
        }
    );

    repo.git(&["remote", "set-url", "origin", "https://ghe.example.com/team/app"]);
    let target = github_target(&repo.open()).unwrap();
    assert_eq!((target.owner.as_str(), target.repo.as_str()), ("team", "app"));
    repo.git(&["remote", "set-url", "origin", "ssh://git@github.com/octo/other.git"]);
    assert_eq!(github_target(&repo.open()).unwrap().repo, "other");

    repo.git(&["remote", "set-url", "origin", "https://me:hunter22@gitlab.com/a/b/c.git"]);
    let err = github_target(&repo.open()).unwrap_err().to_string();
    assert!(err.contains("does not look like a GitHub repository"), "{err}");
    assert!(!err.contains("hunter22"), "credentials are not shown: {err}");

    // An upstream with another name on another remote wins.
    repo.git(&["remote", "add", "fork", "git@github.com:me/hello.git"]);
    repo.git(&["update-ref", "refs/remotes/fork/topic", "HEAD"]);
    repo.git(&["config", "branch.feature/x.remote", "fork"]);
    repo.git(&["config", "branch.feature/x.merge", "refs/heads/topic"]);
    let target = github_target(&repo.open()).unwrap();
    assert_eq!(
        (target.owner.as_str(), target.remote.as_str(), target.head.as_str()),
        ("me", "fork", "topic")
    );

    repo.git(&["checkout", "-q", "--detach"]);
    assert!(github_target(&repo.open()).unwrap_err().to_string().contains("detached"));
}

/// A local HTTP server answering each request with the next (status, body), recording requests.
async fn github_server(answers: Vec<(u16, &'static str)>) -> (String, Arc<Mutex<Vec<Request>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/v3", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        for (status, body) in answers {
            let Ok((stream, _)) = listener.accept().await else { return };
            let mut conn = Conn::new(stream);
            let Ok(request) = conn.read_request().await else { return };
            record.lock().unwrap().push(request);
            let _ = conn.write_full(status, &[], "application/json", body.as_bytes()).await;
        }
    });
    (url, seen)
}

fn target() -> GithubTarget {
    GithubTarget {
        owner: "octo".into(),
        repo: "hello".into(),
        remote: "origin".into(),
        head: "feature/x".into(),
    }
}

const TOKEN: &str = "ghp_test0123456789abcdef";

#[tokio::test]
async fn a_pull_request_is_opened_with_the_documented_request() {
    let (api, seen) = github_server(vec![(
        201,
        r#"{"number": 7, "html_url": "https://ghe.example.com/octo/hello/pull/7", "state": "open"}"#,
    )])
    .await;
    let pr =
        open_pull_request(&client(), &format!("{api}/"), TOKEN, &target(), "main", "Add x", "Body **md**")
            .await
            .unwrap();
    assert_eq!((pr.number, pr.url.as_str()), (7, "https://ghe.example.com/octo/hello/pull/7"));
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path(), "/api/v3/repos/octo/hello/pulls");
    assert_eq!(req.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(req.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(req.header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(req.header("user-agent"), Some("kv1nt"));
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"title": "Add x", "head": "feature/x", "base": "main", "body": "Body **md**"})
    );
}

#[tokio::test]
async fn github_refusals_are_explained_without_the_token() {
    let (api, _) = github_server(vec![
        (
            422,
            r#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for octo:feature/x."}]}"#,
        ),
        (422, r#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","field":"base","code":"invalid"}]}"#),
        (401, r#"{"message":"Bad credentials ghp_test0123456789abcdef","status":"401"}"#),
        (403, r#"{"message":"Resource not accessible by personal access token"}"#),
        (404, r#"{"message":"Not Found"}"#),
    ])
    .await;
    let mut errors = Vec::new();
    for _ in 0..5 {
        errors
            .push(open_pull_request(&client(), &api, TOKEN, &target(), "main", "t", "b").await.unwrap_err());
    }
    assert_eq!(
        errors[0],
        "GitHub refused the pull request: A pull request already exists for octo:feature/x."
    );
    assert_eq!(errors[1], "GitHub refused the pull request: base is invalid");
    assert!(errors[2].starts_with("GITHUB_TOKEN was refused by GitHub (HTTP 401"), "{}", errors[2]);
    assert!(errors[3].contains("GITHUB_TOKEN was refused") && errors[3].contains("write pull requests"));
    assert!(errors[4].contains("no repository octo/hello") && errors[4].contains("no access"));
    for e in &errors {
        assert!(!e.contains(TOKEN), "the token leaked: {e}");
    }

    let err = open_pull_request(&client(), &closed_port_url(), TOKEN, &target(), "main", "t", "b")
        .await
        .unwrap_err();
    assert!(err.contains("cannot reach the GitHub API") && !err.contains(TOKEN), "{err}");
    let err = open_pull_request(&client(), &api, " ", &target(), "main", "t", "b").await.unwrap_err();
    assert!(err.contains("GITHUB_TOKEN is not set"), "{err}");
}

#[tokio::test]
async fn pull_request_descriptions_from_the_model_or_the_commits() {
    let commit = |s: &str| CommitInfo {
        id: "a".repeat(40),
        short_id: "aaaaaaa".into(),
        summary: s.into(),
        author: "A".into(),
        email: "a@x".into(),
        time: 0,
        offset_minutes: 0,
    };
    let commits = [commit("fix: second"), commit("feat: first")];
    let server =
        ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["Add first and second\n\nThis adds both.\n"])])
            .await;
    let mut cfg = config(ProviderKind::OpenAi, Fallback::None);
    cfg.openai.base_url = server.base_url();
    let secrets = Secrets::default();
    let (title, body) =
        git::assist::pr_description(&one_shot(&cfg, &secrets), &commits, " 2 files changed").await;
    assert_eq!((title.as_str(), body.as_str()), ("Add first and second", "This adds both."));
    let sent = server.chat_requests()[0].body.to_string();
    assert!(sent.contains("fix: second") && sent.contains("2 files changed"), "{sent}");

    let cfg = config(ProviderKind::OpenAi, Fallback::None);
    let (title, body) =
        git::assist::pr_description(&one_shot(&cfg, &secrets), &commits, " 2 files changed").await;
    assert_eq!(title, "feat: first");
    assert!(body.contains("- feat: first") && body.contains("- fix: second"), "{body}");
}
