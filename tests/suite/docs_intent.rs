//! `/docs SYMBOL` and `/docs readme` in the running engine: the turn's prompt carries the code
//! index's facts — the symbol's callers, source and its language's doc convention; the
//! repository's areas, the references between them, the command-line definitions and the
//! README's headings — and the model's documentation edit goes through the gate.

use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::protocol::{ApprovalDecision, Event, Intent, Op};
use serde_json::json;

use super::explain::{engine, until};

#[tokio::test]
async fn docs_grounds_a_docstring_and_readme_sections_in_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    super::deps::copy_tree(&super::deps::fixture_path("graph/python"), &repo);
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("app/cli")).unwrap();
    std::fs::write(
        repo.join("app/cli/main.py"),
        "from app.api import create_user\n\n\ndef run_cli(argv):\n    return create_user(argv[0])\n",
    )
    .unwrap();
    std::fs::write(repo.join("README.md"), "# Users\n\n## Install\n\npip install .\n").unwrap();
    let services = std::fs::read_to_string(repo.join("app/services.py")).unwrap();
    let documented = services.replacen(
        "    def register(self, email):\n",
        "    def register(self, email):\n        \"\"\"Register a user by e-mail.\"\"\"\n",
        1,
    );
    assert_ne!(documented, services, "the fixture has register(self, email)");
    let script = vec![
        Turn::text(&["Adding it."]).tool_call(
            "c1",
            "write_file",
            json!({"path": "app/services.py", "content": documented}),
        ),
        Turn::text(&["Documented."]),
        Turn::text(&["Here are the sections."]),
    ];
    let server = ScriptedServer::start(Wire::OpenAi, script).await;
    let mut engine = engine(dir.path(), &server.base_url());
    until(
        &mut engine,
        |e| matches!(e, Event::Log { text, .. } if text.starts_with("graph: ") && text.contains(" entities")),
    )
    .await;

    let docs = |text: &str| Op::Submit { text: text.into(), intent: Some(Intent::Docs) };
    engine.ops.send(docs("register")).unwrap();
    let mut approved = false;
    loop {
        let events =
            until(&mut engine, |e| matches!(e, Event::TurnEnded(_) | Event::ApprovalRequest(_))).await;
        match events.last() {
            Some(Event::ApprovalRequest(r)) => {
                approved = true;
                engine.ops.send(Op::Approve { id: r.id, decision: ApprovalDecision::Once }).unwrap();
            }
            _ => break,
        }
    }
    assert!(approved, "the documentation edit asks through the gate");
    let prompt = server.chat_requests()[0].body["messages"].to_string();
    assert!(prompt.contains("Write the documentation of `register`"), "{prompt}");
    assert!(prompt.contains("PEP 257"), "the language's convention: {prompt}");
    assert!(prompt.contains("function app.api.create_user — app/api.py"), "its real caller: {prompt}");
    assert!(prompt.contains("source (app/services.py:16-"), "{prompt}");
    assert!(
        std::fs::read_to_string(repo.join("app/services.py")).unwrap().contains("Register a user by e-mail.")
    );

    engine.ops.send(docs("readme")).unwrap();
    until(&mut engine, |e| matches!(e, Event::TurnEnded(_))).await;
    let prompt = server.chat_requests()[2].body["messages"].to_string();
    assert!(prompt.contains("Propose README sections"), "{prompt}");
    assert!(prompt.contains("## Areas") && prompt.contains("- app:"), "{prompt}");
    assert!(prompt.contains("app/cli → app: "), "references between areas: {prompt}");
    assert!(prompt.contains("function app.cli.main.run_cli — app/cli/main.py:4"), "{prompt}");
    assert!(prompt.contains("## Install"), "the README's headings: {prompt}");
}
