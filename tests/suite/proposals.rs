//! Every gate verdict leaves a proposal row with who proposed what and what became of it — the
//! figures the quality loop and the learning layer read: a scripted session with an approved
//! edit (undone later), a denied edit and an approved command yields exactly those rows.

use std::time::Duration;

use super::run_tool::{Fixture, drive, run_call};
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::approval::{GateAction, Policy};
use kv1nt::engine::protocol::{ApprovalDecision, Event, Intent, LogLevel, Op};
use kv1nt::engine::sandbox::SandboxMode;
use serde_json::json;

#[tokio::test]
async fn each_verdict_is_recorded_with_its_fate() {
    let fx = Fixture::new();
    let turns = vec![
        Turn::text(&[]).tool_call("w1", "write_file", json!({"path": "src/ok.rs", "content": "fn a() {}\n"})),
        Turn::text(&[]).tool_call("w2", "write_file", json!({"path": "src/no.py", "content": "x = 1\n"})),
        Turn::text(&["Written one."]),
        run_call(json!({"command": "echo hi"})),
        Turn::text(&["Ran."]),
    ];
    let server = ScriptedServer::start(Wire::OpenAi, turns).await;
    let mut engine = fx.engine(&server.base_url(), Policy::Ask, SandboxMode::Enforce);
    engine.ops.send(Op::Submit { text: "write two".into(), intent: Some(Intent::Generate) }).unwrap();
    drive(
        &mut engine,
        |action, _, _| match action {
            GateAction::Edit { changes } if changes[0].path == "src/no.py" => ApprovalDecision::Deny,
            _ => ApprovalDecision::Once,
        },
        |_, _| {},
        false,
    )
    .await;
    engine.ops.send(Op::Submit { text: "run it".into(), intent: None }).unwrap();
    drive(&mut engine, |_, _, _| ApprovalDecision::Once, |_, _| {}, false).await;
    engine.ops.send(Op::Undo).unwrap();
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(30), engine.events.recv()).await.unwrap().unwrap();
        match event {
            Event::ApprovalRequest(r) => {
                engine.ops.send(Op::Approve { id: r.id, decision: ApprovalDecision::Once }).unwrap();
            }
            Event::Notice { level: LogLevel::Info, text } if text.starts_with("Restored") => break,
            _ => {}
        }
    }
    let rows = fx.store().proposals(None).unwrap();
    let seen: Vec<_> = rows
        .iter()
        .map(|p| (p.kind.as_str(), p.decision.as_str(), p.language.as_deref(), p.intent.as_deref(), p.undone))
        .collect();
    assert_eq!(
        seen,
        [
            ("edit", "approved-once", Some("rust"), Some("generate"), true),
            ("edit", "denied", Some("python"), Some("generate"), false),
            ("command", "approved-once", None, None, false),
        ],
        "{rows:?}"
    );
    assert!(rows[0].change_id.is_some() && rows[1].change_id.is_none());
    let undone_at = rows[0].undone_at.as_deref().expect("when the undo happened");
    assert!(undone_at > rows[0].time.as_str(), "undone after the verdict: {undone_at} vs {}", rows[0].time);
    assert!(rows.iter().all(|p| p.template.is_none()), "no template in these turns");
    assert!(rows.iter().all(|p| p.provider == "openai" && !p.model.is_empty()));
    assert_eq!(rows[0].turn, rows[1].turn);
    assert!(rows[2].turn > rows[0].turn, "a later turn");
}
