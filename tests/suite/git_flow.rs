//! Git through the real engine, as the TUI drives it: stage two of three hunks with Git view jobs,
//! `/commit` with the message edited in the approval modal, a merge whose conflict is resolved by
//! picking a side, an aborted merge that leaves everything as it was, and `/uncommit` — all
//! checked with the git CLI.

use std::time::Duration;

use crate::support::git::TestRepo;
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::approval::GateAction;
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::git::FileDiff;
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{ApprovalDecision, ApprovalRequest, Event, GitOp, GitPart, LogLevel, Op};
use kv1nt::engine::store::Store;

const BEFORE: &str = "a1\na2\na3\na4\na5\na6\na7\na8\na9\na10\na11\na12\na13\na14\na15\na16\na17\na18\n";
const AFTER: &str = "A1\na2\na3\na4\na5\na6\na7\na8\nA9\na10\na11\na12\na13\na14\na15\na16\na17\nA18\n";

struct Fixture {
    repo: TestRepo,
    home: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let repo = TestRepo::new();
        repo.write("f.txt", BEFORE);
        repo.commit_all("init");
        Self { repo, home: tempfile::tempdir().unwrap() }
    }

    fn engine(&self) -> EngineHandle {
        self.engine_at("http://127.0.0.1:9") // no model: messages are summaries
    }

    fn engine_at(&self, base_url: &str) -> EngineHandle {
        self.engine_with(base_url, None, |_| {})
    }

    fn engine_with(
        &self,
        base_url: &str,
        github_token: Option<&str>,
        tune: impl FnOnce(&mut Config),
    ) -> EngineHandle {
        let mut c = Config::default();
        c.llm.primary = ProviderKind::OpenAi;
        c.llm.fallback = Fallback::None;
        c.llm.max_retries = 0;
        c.openai.base_url = base_url.into();
        tune(&mut c);
        spawn(EngineSetup {
            config: c,
            secrets: Secrets { github_token: github_token.map(String::from), ..Secrets::default() },
            workspace: self.repo.path().to_path_buf(),
            store: Some(Store::open(self.home.path()).unwrap()),
            resume: None,
            preflight: false,
            trust: None,
        })
    }
}

async fn next(engine: &mut EngineHandle) -> Event {
    tokio::time::timeout(Duration::from_secs(30), engine.events.recv()).await.expect("engine hung").unwrap()
}

async fn file_diff(engine: &mut EngineHandle, path: &str) -> FileDiff {
    engine.ops.send(Op::Git(GitOp::ShowFile { seq: 1, path: path.into(), staged: false })).unwrap();
    loop {
        if let Event::GitFileDiff(answer) = next(engine).await {
            return answer.diff.expect("an unstaged diff");
        }
    }
}

async fn stage(engine: &mut EngineHandle, path: &str, part: GitPart) {
    engine.ops.send(Op::Git(GitOp::Stage { seq: 2, path: path.into(), part, unstage: false })).unwrap();
    loop {
        match next(engine).await {
            Event::GitFileDiff(_) => return,
            Event::Notice { level: LogLevel::Warn, text } => panic!("{text}"),
            _ => {}
        }
    }
}

/// Events until the flow ends (`GitChanged`), answering approvals with `answer`.
async fn flow(
    engine: &mut EngineHandle,
    op: GitOp,
    mut answer: impl FnMut(&ApprovalRequest) -> ApprovalDecision,
) -> (Vec<ApprovalRequest>, Vec<String>) {
    engine.ops.send(Op::Git(op)).unwrap();
    let (mut asked, mut notices) = (Vec::new(), Vec::new());
    loop {
        match next(engine).await {
            Event::ApprovalRequest(r) => {
                let decision = answer(&r);
                engine.ops.send(Op::Approve { id: r.id, decision }).unwrap();
                asked.push(r);
            }
            Event::Notice { text, .. } => notices.push(text),
            Event::GitChanged => return (asked, notices),
            _ => {}
        }
    }
}

#[tokio::test]
async fn stage_two_of_three_hunks_commit_with_an_edited_message_then_uncommit() {
    let fx = Fixture::new();
    fx.repo.write("f.txt", AFTER);
    let mut engine = fx.engine();
    let diff = file_diff(&mut engine, "f.txt").await;
    assert_eq!(diff.hunks.len(), 3, "{diff:?}");
    stage(&mut engine, "f.txt", GitPart::Hunk(diff.hunks[0].clone())).await;
    let diff = file_diff(&mut engine, "f.txt").await;
    let last = diff.hunks.last().unwrap().clone();
    stage(&mut engine, "f.txt", GitPart::Hunk(last)).await;

    let message = "fix(f): capitalise the first and last lines\n\nThe middle one waits.";
    let (asked, notices) = flow(&mut engine, GitOp::Commit, |r| {
        assert!(r.editable, "the message is editable in the modal");
        ApprovalDecision::ApproveEdited(message.into())
    })
    .await;
    assert_eq!(asked.len(), 1);
    let GateAction::Commit { message: proposed, diff } = &asked[0].action else { panic!("{asked:?}") };
    assert!(asked[0].summary.contains("summarised from the diff"), "no model here: {}", asked[0].summary);
    assert!(!proposed.is_empty() && diff.contains("+A1") && diff.contains("+A18") && !diff.contains("+A9"));
    assert!(notices.iter().any(|n| n.starts_with("Committed ")), "{notices:?}");

    assert_eq!(fx.repo.git(&["log", "-1", "--format=%B"]).trim_end(), message);
    let shown = fx.repo.git(&["show", "HEAD", "--format=", "--unified=0"]);
    assert!(shown.contains("+A1\n") && shown.contains("+A18\n") && !shown.contains("A9"), "{shown}");
    assert_eq!(fx.repo.git(&["diff", "--unified=0"]).matches("\n+A9").count(), 1, "hunk 2 stays unstaged");
    assert!(!fx.repo.git(&["log", "-1", "--format=%B"]).contains("Co-Authored-By"), "no trailer");

    let head_before = fx.repo.head();
    let (asked, notices) = flow(&mut engine, GitOp::Uncommit, |_| ApprovalDecision::Once).await;
    assert_eq!(asked.len(), 1, "uncommit asks first");
    assert!(notices.iter().any(|n| n.starts_with("Undid commit")), "{notices:?}");
    assert_ne!(fx.repo.head(), head_before);
    let cached = fx.repo.git(&["diff", "--cached", "--unified=0"]);
    assert!(cached.contains("+A1") && cached.contains("+A18"), "the changes stay staged: {cached}");
    let (_, notices) = flow(&mut engine, GitOp::Uncommit, |_| panic!("nothing to undo")).await;
    assert!(notices.iter().any(|n| n.contains("no commit here")), "{notices:?}");
}

#[tokio::test]
async fn nothing_staged_says_how_to_stage() {
    let fx = Fixture::new();
    let mut engine = fx.engine();
    let (asked, notices) = flow(&mut engine, GitOp::Commit, |_| panic!("nothing to ask")).await;
    assert!(asked.is_empty());
    assert!(notices.iter().any(|n| n.contains("Nothing is staged")), "{notices:?}");
}

fn conflicting(fx: &Fixture) {
    fx.repo.git(&["checkout", "-q", "-b", "other"]);
    fx.repo.write("f.txt", BEFORE.replace("a5\n", "theirs\n"));
    fx.repo.commit_all("theirs");
    fx.repo.git(&["checkout", "-q", "main"]);
    fx.repo.write("f.txt", BEFORE.replace("a5\n", "ours\n"));
    fx.repo.commit_all("ours");
}

#[tokio::test]
async fn a_conflict_is_resolved_through_approvals_and_the_merge_commit_asks_too() {
    let fx = Fixture::new();
    conflicting(&fx);
    let mut engine = fx.engine();
    let (asked, notices) = flow(&mut engine, GitOp::Merge { branch: "other".into() }, |r| match &r.action {
        GateAction::Edit { .. } => {
            assert!(r.picks.iter().any(|(k, _)| *k == 't'), "a side can be picked: {r:?}");
            ApprovalDecision::Pick('t')
        }
        _ => ApprovalDecision::Once,
    })
    .await;
    assert_eq!(asked.len(), 2, "one conflict, then the merge commit: {asked:?}");
    assert!(matches!(asked[1].action, GateAction::Commit { .. }));
    assert!(notices.iter().any(|n| n.starts_with("Committed ")), "{notices:?}");
    assert_eq!(fx.repo.read("f.txt"), BEFORE.replace("a5\n", "theirs\n").as_bytes());
    let parents = fx.repo.git(&["rev-list", "--parents", "-n", "1", "HEAD"]);
    assert_eq!(parents.split_whitespace().count(), 3, "a merge commit: {parents}");
    assert_eq!(fx.repo.git(&["status", "--porcelain"]), "");
    assert!(fx.repo.git_output(&["fsck", "--strict"]).status.success());
}

#[tokio::test]
async fn denying_a_resolution_aborts_the_merge_and_restores_everything() {
    let fx = Fixture::new();
    conflicting(&fx);
    let before = fx.repo.snapshot();
    let mut engine = fx.engine();
    let (_, notices) =
        flow(&mut engine, GitOp::Merge { branch: "other".into() }, |_| ApprovalDecision::Deny).await;
    assert!(notices.iter().any(|n| n.contains("merge is aborted")), "{notices:?}");
    assert_eq!(fx.repo.snapshot(), before, "HEAD, index and worktree exactly as before");
}

#[tokio::test]
async fn a_branch_is_created_from_the_base_and_checked_out() {
    let fx = Fixture::new();
    let mut engine = fx.engine();
    let (_, notices) =
        flow(&mut engine, GitOp::Branch { name: "parser".into() }, |_| panic!("no approval")).await;
    assert!(notices.iter().any(|n| n.contains("feature/parser")), "{notices:?}");
    assert_eq!(fx.repo.git(&["branch", "--show-current"]).trim(), "feature/parser");
}

#[tokio::test]
async fn the_models_commit_tool_asks_commits_and_reports_back() {
    let fx = Fixture::new();
    fx.repo.write("f.txt", AFTER);
    fx.repo.git(&["add", "f.txt"]);
    let message = "fix(f): capitalise three lines\n\nSo they stand out.";
    let turns = vec![
        Turn::text(&["Committing."]).tool_call("c1", "commit", serde_json::json!({"message": message})),
        Turn::text(&["Done."]),
    ];
    let server = ScriptedServer::start(Wire::OpenAi, turns).await;
    let mut engine = fx.engine_at(&server.base_url());
    engine.ops.send(Op::Submit { text: "commit it".into(), intent: None }).unwrap();
    let mut asked = Vec::new();
    loop {
        match next(&mut engine).await {
            Event::ApprovalRequest(r) => {
                engine.ops.send(Op::Approve { id: r.id, decision: ApprovalDecision::Once }).unwrap();
                asked.push(r);
            }
            Event::TurnEnded(_) => break,
            _ => {}
        }
    }
    assert_eq!(asked.len(), 1);
    assert!(matches!(&asked[0].action, GateAction::Commit { message: m, .. } if m == message));
    assert_eq!(fx.repo.git(&["log", "-1", "--format=%B"]).trim_end(), message);
    let sent = server.chat_requests()[1].body["messages"].to_string();
    assert!(sent.contains("Committed "), "the model hears the outcome: {sent}");
}

#[tokio::test]
async fn a_pull_request_is_described_approved_and_opened_on_the_github_api() {
    let fx = Fixture::new();
    fx.repo.git(&["remote", "add", "origin", "git@github.com:octo/hello.git"]);
    fx.repo.git(&["update-ref", "refs/remotes/origin/main", "HEAD"]);
    fx.repo.git(&["switch", "-q", "-c", "feature/x"]);
    fx.repo.write("f.txt", AFTER);
    fx.repo.commit_all("fix: capitalise lines");
    fx.repo.git(&["update-ref", "refs/remotes/origin/feature/x", "HEAD"]);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}/api/v3", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut conn = crate::support::http::Conn::new(stream);
        let request = conn.read_request().await.unwrap();
        let body = r#"{"number": 7, "html_url": "https://github.com/octo/hello/pull/7"}"#;
        conn.write_full(201, &[], "application/json", body.as_bytes()).await.unwrap();
        request
    });
    let mut engine =
        fx.engine_with("http://127.0.0.1:9", Some("ghp_test0123456789"), |c| c.git.github_api_url = api);
    let (asked, notices) = flow(&mut engine, GitOp::PullRequest, |_| ApprovalDecision::Once).await;
    assert_eq!(asked.len(), 1, "opening a pull request asks first");
    assert!(asked[0].reasons.iter().any(|r| r.contains("title: fix: capitalise lines")), "{:?}", asked[0]);
    assert!(notices.iter().any(|n| n.contains("Opened pull request #7")), "{notices:?}");
    let request = server.await.unwrap();
    assert_eq!(request.path(), "/api/v3/repos/octo/hello/pulls");
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!((body["head"].as_str(), body["base"].as_str()), (Some("feature/x"), Some("main")));
}

#[tokio::test]
async fn without_a_token_or_a_pushed_branch_pr_says_what_to_do() {
    let fx = Fixture::new();
    let mut engine = fx.engine();
    let (_, notices) = flow(&mut engine, GitOp::PullRequest, |_| panic!("nothing to ask")).await;
    assert!(notices.iter().any(|n| n.contains("GITHUB_TOKEN")), "{notices:?}");
    let mut engine = fx.engine_with("http://127.0.0.1:9", Some("ghp_x"), |_| {});
    let (_, notices) = flow(&mut engine, GitOp::PullRequest, |_| panic!("nothing to ask")).await;
    assert!(
        notices.iter().any(|n| n.contains("Cannot open a pull request") && n.contains("remote")),
        "{notices:?}"
    );
}

#[tokio::test]
async fn the_model_proposes_a_feature_branch_and_the_user_approves_it() {
    let fx = Fixture::new();
    let turns = vec![
        Turn::text(&["This is a multi-step change."]).tool_call(
            "b1",
            "create_branch",
            serde_json::json!({"name": "lexer"}),
        ),
        Turn::text(&["On it."]),
    ];
    let server = ScriptedServer::start(Wire::OpenAi, turns).await;
    let mut engine = fx.engine_at(&server.base_url());
    engine.ops.send(Op::Submit { text: "rework the lexer".into(), intent: None }).unwrap();
    let mut asked = Vec::new();
    loop {
        match next(&mut engine).await {
            Event::ApprovalRequest(r) => {
                engine.ops.send(Op::Approve { id: r.id, decision: ApprovalDecision::Once }).unwrap();
                asked.push(r);
            }
            Event::TurnEnded(_) => break,
            _ => {}
        }
    }
    assert_eq!(asked.len(), 1, "the branch is proposed, not just made");
    assert!(asked[0].reasons[0].contains("feature/lexer"), "{:?}", asked[0].reasons);
    assert_eq!(fx.repo.git(&["branch", "--show-current"]).trim(), "feature/lexer");
}
