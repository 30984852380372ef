//! Git steps in the gate's own vocabulary, judged from outside: `/pr` under `auto` asks before
//! anything reaches the GitHub listener; a session grant for a branch lets no `run` command pass;
//! a hook planted after the engine started is shown and needs its own (critical) approval; a
//! commit-message request asks before it moves to the fallback when `fallback_confirm` is set.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::git::TestRepo;
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::approval::{GateAction, GitAction, Policy, Risk};
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{ApprovalDecision, Event, GitOp, Op};
use kv1nt::engine::store::Store;

struct Fixture {
    repo: TestRepo,
    home: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let repo = TestRepo::new();
        repo.write("f.txt", "one\n");
        repo.commit_all("init");
        Self { repo, home: tempfile::tempdir().unwrap() }
    }

    fn engine(&self, github_token: Option<&str>, tune: impl FnOnce(&mut Config)) -> EngineHandle {
        let mut c = Config::default();
        c.llm.primary = ProviderKind::OpenAi;
        c.llm.fallback = Fallback::None;
        c.llm.max_retries = 0;
        c.openai.base_url = "http://127.0.0.1:9".into();
        c.agent.approval = Policy::Auto;
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

#[tokio::test]
async fn a_pull_request_under_auto_asks_before_github_hears_anything() {
    let fx = Fixture::new();
    fx.repo.git(&["remote", "add", "origin", "git@github.com:octo/hello.git"]);
    fx.repo.git(&["update-ref", "refs/remotes/origin/main", "HEAD"]);
    fx.repo.git(&["switch", "-q", "-c", "feature/x"]);
    fx.repo.write("f.txt", "two\n");
    fx.repo.commit_all("fix: two");
    fx.repo.git(&["update-ref", "refs/remotes/origin/feature/x", "HEAD"]);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}/api/v3", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = connections.clone();
    tokio::spawn(async move {
        while let Ok((_stream, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    let mut engine = fx.engine(Some("ghp_test0123456789"), |c| c.git.github_api_url = api);
    engine.ops.send(Op::Git(GitOp::PullRequest)).unwrap();
    let request = loop {
        match next(&mut engine).await {
            Event::ApprovalRequest(r) => break r,
            Event::GitChanged => panic!("the flow ended without asking"),
            _ => {}
        }
    };
    assert_eq!(connections.load(Ordering::SeqCst), 0, "GitHub heard nothing before the answer");
    assert!(
        matches!(&request.action, GateAction::Git { op: GitAction::PullRequest, .. }),
        "{:?}",
        request.action
    );
    assert!(request.risk >= Risk::High, "{:?}", request.risk);
    assert_eq!(request.session_scope, None, "no session grant for what leaves the machine");
    engine.ops.send(Op::Approve { id: request.id, decision: ApprovalDecision::Deny }).unwrap();
    while !matches!(next(&mut engine).await, Event::GitChanged) {}
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(connections.load(Ordering::SeqCst), 0, "denied: nothing was sent");
}

#[tokio::test]
async fn a_session_grant_for_a_branch_does_not_pass_a_forced_switch_run() {
    let fx = Fixture::new();
    let turns = vec![
        Turn::text(&["A branch."]).tool_call("b1", "create_branch", serde_json::json!({"name": "lexer"})),
        Turn::text(&["Now switch."]).tool_call(
            "r1",
            "run",
            serde_json::json!({"command": "git switch -f x"}),
        ),
        Turn::text(&["Done."]),
    ];
    let server = ScriptedServer::start(Wire::OpenAi, turns).await;
    let base = server.base_url();
    let mut engine = fx.engine(None, |c| {
        c.openai.base_url = base;
        c.agent.approval = Policy::Ask;
    });
    engine.ops.send(Op::Submit { text: "rework the lexer".into(), intent: None }).unwrap();
    let mut asked = Vec::new();
    loop {
        match next(&mut engine).await {
            Event::ApprovalRequest(r) => {
                let decision = match &r.action {
                    GateAction::Git { op: GitAction::Branch, .. } => ApprovalDecision::ForSession,
                    _ => ApprovalDecision::Deny,
                };
                engine.ops.send(Op::Approve { id: r.id, decision }).unwrap();
                asked.push(r);
            }
            Event::TurnEnded(_) => break,
            _ => {}
        }
    }
    assert_eq!(fx.repo.git(&["branch", "--show-current"]).trim(), "feature/lexer");
    assert_eq!(asked.len(), 2, "the run asked despite the branch grant: {asked:?}");
    assert!(asked[0].session_scope.as_deref().is_some_and(|s| s.contains("branch")), "{:?}", asked[0]);
    assert!(
        matches!(&asked[1].action, GateAction::Command { command, .. } if command == "git switch -f x"),
        "{:?}",
        asked[1].action
    );
}

/// An executable hook at `.git/hooks/NAME` that creates `marker` (an absolute path) when it runs.
fn plant_hook(fx: &Fixture, name: &str, marker: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let path = fx.repo.path().join(".git/hooks").join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, format!("#!/bin/sh\ntouch '{}'\n", marker.display())).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `/commit`, answering every request with `answer`; returns the requests and the notices.
async fn commit(
    engine: &mut EngineHandle,
    answer: impl Fn(&kv1nt::engine::protocol::ApprovalRequest) -> ApprovalDecision,
) -> (Vec<kv1nt::engine::protocol::ApprovalRequest>, Vec<String>) {
    engine.ops.send(Op::Git(GitOp::Commit)).unwrap();
    let (mut asked, mut notices) = (Vec::new(), Vec::new());
    loop {
        match next(engine).await {
            Event::ApprovalRequest(r) => {
                engine.ops.send(Op::Approve { id: r.id, decision: answer(&r) }).unwrap();
                asked.push(r);
            }
            Event::Notice { text, .. } => notices.push(text),
            Event::GitChanged => return (asked, notices),
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_hook_planted_after_the_start_asks_as_critical_and_does_not_run_when_denied() {
    let fx = Fixture::new();
    let outside = tempfile::tempdir().unwrap();
    let (old_marker, new_marker) = (outside.path().join("old-ran"), outside.path().join("planted-ran"));
    plant_hook(&fx, "commit-msg", &old_marker); // there before the session: trusted
    let mut engine = fx.engine(None, |_| {});
    next(&mut engine).await; // the engine has started
    plant_hook(&fx, "pre-commit", &new_marker);
    fx.repo.write("f.txt", "two\n");
    fx.repo.git(&["add", "f.txt"]);
    let head = fx.repo.head();

    let (asked, notices) = commit(&mut engine, |_| ApprovalDecision::Deny).await;
    assert_eq!(asked.len(), 1, "{asked:?}");
    let GateAction::Git { op: GitAction::Hook, target, detail, .. } = &asked[0].action else {
        panic!("{:?}", asked[0].action)
    };
    assert_eq!((target.as_str(), asked[0].risk), ("pre-commit", Risk::Critical));
    assert!(detail.contains("planted-ran"), "the hook's content is shown: {detail}");
    assert_eq!(asked[0].session_scope, None);
    assert!(notices.iter().any(|n| n.contains("Not committed") && n.contains("pre-commit")), "{notices:?}");
    assert!(!new_marker.exists(), "the denied hook did not run");
    assert!(!old_marker.exists(), "nothing was committed, so no hook ran");
    assert_eq!(fx.repo.head(), head);

    // Approved, it runs, and the commit's request (asked under `ask`) names the hooks that run.
    engine.ops.send(Op::SetPolicy(Policy::Ask)).unwrap();
    let (asked, notices) = commit(&mut engine, |_| ApprovalDecision::Once).await;
    assert!(notices.iter().any(|n| n.starts_with("Committed ")), "{notices:?}");
    assert!(new_marker.exists() && old_marker.exists(), "both hooks ran");
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(matches!(asked[1].action, GateAction::Commit { .. }));
    let reasons = &asked[1].reasons;
    assert!(reasons.iter().any(|r| r.contains("hooks: pre-commit, commit-msg")), "{reasons:?}");
}

/// The next confirm question (the fallback's), failing on an approval request first.
async fn confirm_question(engine: &mut EngineHandle) -> (u64, String) {
    loop {
        match next(engine).await {
            Event::ConfirmRequest { id, body, .. } => return (id, body),
            Event::ApprovalRequest(r) => panic!("asked to approve before the fallback question: {r:?}"),
            _ => {}
        }
    }
}

async fn commit_request(engine: &mut EngineHandle) -> kv1nt::engine::protocol::ApprovalRequest {
    loop {
        if let Event::ApprovalRequest(r) = next(engine).await {
            return r;
        }
    }
}

#[tokio::test]
async fn a_commit_message_asks_before_it_goes_to_the_fallback() {
    let fx = Fixture::new();
    let fallback = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["feat: from the fallback"])]).await;
    let base = fallback.base_url();
    let mut engine = fx.engine(None, |c| {
        c.llm.primary = ProviderKind::Ollama;
        c.ollama.host = "http://127.0.0.1:9".into(); // unreachable: warrants the fallback
        c.llm.fallback = Fallback::OpenAi;
        c.openai.base_url = base;
        c.llm.fallback_confirm = true;
        c.agent.approval = Policy::Ask;
    });
    fx.repo.write("f.txt", "two\n");
    fx.repo.git(&["add", "f.txt"]);

    engine.ops.send(Op::Git(GitOp::Commit)).unwrap();
    let (id, body) = confirm_question(&mut engine).await;
    assert!(body.contains("staged diff") && body.contains("openai"), "{body}");
    assert!(fallback.chat_requests().is_empty(), "nothing reached the fallback before the answer");
    engine.ops.send(Op::Answer { id, approved: false }).unwrap();
    let request = commit_request(&mut engine).await;
    assert!(request.summary.contains("summarised from the diff"), "{}", request.summary);
    assert!(request.summary.contains("declined"), "says why: {}", request.summary);
    engine.ops.send(Op::Approve { id: request.id, decision: ApprovalDecision::Deny }).unwrap();
    while !matches!(next(&mut engine).await, Event::GitChanged) {}
    assert!(fallback.chat_requests().is_empty(), "declined: the diff never went to the fallback");

    engine.ops.send(Op::Git(GitOp::Commit)).unwrap();
    let (id, _) = confirm_question(&mut engine).await;
    engine.ops.send(Op::Answer { id, approved: true }).unwrap();
    let request = commit_request(&mut engine).await;
    assert!(
        matches!(&request.action, GateAction::Commit { message, .. } if message.contains("from the fallback")),
        "{:?}",
        request.action
    );
    assert_eq!(fallback.chat_requests().len(), 1);
}
