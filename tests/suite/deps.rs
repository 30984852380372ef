//! `kv1nt deps` on one fixture repository per ecosystem (tests/fixtures/deps/{rust,python,js,go}),
//! each with a missing, an unused and a conflicting or duplicated dependency: the exact JSON,
//! the same facts from the graph's index as from parsing, declaring a missing one through the
//! gate (`kv1nt exec '/deps add NAME'`: denied → the manifest unchanged, `--approval auto` →
//! declared), a broken manifest reported rather than fatal, and the model's `dependencies` tool.

use std::path::Path;

use serde_json::{Value, json};

use super::undo_cli::Fx;
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::approval::Policy;
use kv1nt::engine::protocol::{ApprovalDecision, Event};
use kv1nt::engine::sandbox::SandboxMode;

/// Copies a fixture tree into `to`.
pub(super) fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

pub(super) fn fixture_path(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

fn repo_with(ecosystem: &str) -> Fx {
    let fx = Fx::new();
    copy_tree(&fixture_path(&format!("deps/{ecosystem}")), fx.repo.path());
    fx
}

fn deps_json(fx: &Fx) -> Value {
    let out = fx.run(&["deps", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn expected(ecosystem: &str) -> Value {
    match ecosystem {
        "rust" => json!({
            "source": "parse",
            "manifests": ["Cargo.toml", "app/Cargo.toml", "util/Cargo.toml"],
            "lockfiles": ["Cargo.lock"],
            "missing": [{"ecosystem": "rust", "package": "regex", "import": "regex", "manifest": "app/Cargo.toml", "files": ["app/src/main.rs"]}],
            "unused": [{"ecosystem": "rust", "package": "itoa", "manifest": "app/Cargo.toml", "section": "dependencies"}],
            "duplicates": [{"ecosystem": "rust", "package": "rand", "lockfile": "Cargo.lock", "versions": ["0.7.3", "0.8.5"]}],
            "conflicts": [{"ecosystem": "rust", "package": "rand", "requirements": [
                {"manifest": "app/Cargo.toml", "section": "dependencies", "requirement": "0.8"},
                {"manifest": "util/Cargo.toml", "section": "dependencies", "requirement": "0.7"}
            ]}],
            "problems": []
        }),
        "python" => json!({
            "source": "parse",
            "manifests": ["pyproject.toml", "requirements.txt"],
            "lockfiles": ["uv.lock"],
            "missing": [{"ecosystem": "python", "package": "Pillow", "import": "PIL", "manifest": "pyproject.toml", "files": ["shop/app.py"]}],
            "unused": [{"ecosystem": "python", "package": "rich", "manifest": "pyproject.toml", "section": "dependencies"}],
            "duplicates": [],
            "conflicts": [{"ecosystem": "python", "package": "requests", "requirements": [
                {"manifest": "pyproject.toml", "section": "dependencies", "requirement": ">=2.31"},
                {"manifest": "requirements.txt", "section": "requirements.txt", "requirement": "==2.28.0"}
            ]}],
            "problems": []
        }),
        "js" => json!({
            "source": "parse",
            "manifests": ["package.json", "packages/ui/package.json"],
            "lockfiles": ["package-lock.json"],
            "missing": [{"ecosystem": "js", "package": "axios", "import": "axios", "manifest": "package.json", "files": ["src/index.ts"]}],
            "unused": [{"ecosystem": "js", "package": "left-pad", "manifest": "package.json", "section": "dependencies"}],
            "duplicates": [{"ecosystem": "js", "package": "ms", "lockfile": "package-lock.json", "versions": ["2.0.0", "2.1.3"]}],
            "conflicts": [{"ecosystem": "js", "package": "react", "requirements": [
                {"manifest": "package.json", "section": "dependencies", "requirement": "^18.2.0"},
                {"manifest": "packages/ui/package.json", "section": "dependencies", "requirement": "^17.0.2"}
            ]}],
            "problems": []
        }),
        "go" => json!({
            "source": "parse",
            "manifests": ["go.mod"],
            "lockfiles": ["go.sum"],
            "missing": [{"ecosystem": "go", "package": "github.com/sirupsen/logrus", "import": "github.com/sirupsen/logrus", "manifest": "go.mod", "files": ["main.go"]}],
            "unused": [{"ecosystem": "go", "package": "github.com/pkg/errors", "manifest": "go.mod", "section": "require"}],
            "duplicates": [{"ecosystem": "go", "package": "github.com/google/uuid", "lockfile": "go.sum", "versions": ["v1.3.0", "v1.6.0"]}],
            "conflicts": [],
            "problems": []
        }),
        _ => unreachable!(),
    }
}

#[test]
fn a_rust_workspace_reports_its_missing_unused_duplicated_and_conflicting_crates() {
    assert_eq!(deps_json(&repo_with("rust")), expected("rust"));
}

#[test]
fn a_python_project_maps_modules_to_distributions() {
    assert_eq!(deps_json(&repo_with("python")), expected("python"));
}

#[test]
fn a_js_project_with_a_nested_package_reports_per_manifest() {
    assert_eq!(deps_json(&repo_with("js")), expected("js"));
}

#[test]
fn a_go_module_reports_by_module_path_prefix() {
    assert_eq!(deps_json(&repo_with("go")), expected("go"));
}

/// The index's stored import references give the same facts as parsing the files now.
#[test]
fn the_graph_index_gives_the_same_report_as_parsing() {
    for eco in ["rust", "python", "js", "go"] {
        let fx = repo_with(eco);
        let index = fx.run(&["index"]);
        assert!(index.status.success(), "{}", String::from_utf8_lossy(&index.stderr));
        let mut want = expected(eco);
        want["source"] = json!("graph");
        assert_eq!(deps_json(&fx), want, "{eco}");
    }
}

/// `/deps add NAME` is a manifest edit through the gate: denied (no terminal to ask) nothing
/// changes; approved (`--approval auto`: a manifest is medium risk) the manifest declares it at
/// the lockfile's version and the report no longer lists it.
#[test]
fn adding_a_missing_dependency_passes_the_gate() {
    let cases = [
        ("rust", "regex", "app/Cargo.toml", "regex = \"1.10.4\"\n"),
        ("js", "axios", "package.json", "    \"axios\": \"^1.7.2\",\n"),
        ("go", "github.com/sirupsen/logrus", "go.mod", "\tgithub.com/sirupsen/logrus v1.9.3\n"),
    ];
    for (eco, name, manifest, line) in cases {
        let fx = repo_with(eco);
        let before = fx.bytes(manifest).unwrap();
        let command = format!("/deps add {name}");
        let denied = fx.run(&["exec", "--json", "--approval", "ask", &command]);
        assert_eq!(denied.status.code(), Some(1), "{eco}: {}", String::from_utf8_lossy(&denied.stderr));
        let stdout = String::from_utf8_lossy(&denied.stdout);
        assert!(stdout.contains("exec has no terminal to ask"), "{eco}: {stdout}");
        assert_eq!(fx.bytes(manifest).unwrap(), before, "{eco}: denied, yet {manifest} changed");

        let approved = fx.run(&["exec", "--approval", "auto", &command]);
        assert!(approved.status.success(), "{eco}: {}", String::from_utf8_lossy(&approved.stderr));
        let after = String::from_utf8(fx.bytes(manifest).unwrap()).unwrap();
        assert!(after.contains(line), "{eco}: {after}");
        assert!(String::from_utf8_lossy(&approved.stdout).contains("Declared"), "{eco}");
        let report = deps_json(&fx);
        assert_eq!(report["missing"], json!([]), "{eco}: {report}");
        // Everything but the added line is as it was.
        assert_eq!(after.replacen(line, "", 1).into_bytes(), before, "{eco}");
    }
}

/// Sends `op` and answers every approval with `decision` until the engine's reply.
pub(super) async fn project_op(
    engine: &mut kv1nt::engine::agent::runtime::EngineHandle,
    op: kv1nt::engine::protocol::ProjectOp,
    decision: ApprovalDecision,
) -> (kv1nt::engine::protocol::ProjectReply, Vec<kv1nt::engine::protocol::ApprovalRequest>) {
    engine.ops.send(kv1nt::engine::protocol::Op::Project(op)).unwrap();
    let mut asked = Vec::new();
    loop {
        let event = tokio::time::timeout(std::time::Duration::from_secs(60), engine.events.recv())
            .await
            .expect("engine hung")
            .expect("engine stopped");
        match event {
            Event::ApprovalRequest(r) => {
                engine
                    .ops
                    .send(kv1nt::engine::protocol::Op::Approve { id: r.id, decision: decision.clone() })
                    .unwrap();
                asked.push(r);
            }
            Event::Project(reply) => return (reply, asked),
            _ => {}
        }
    }
}

/// A `pyproject.toml` can run code at build time (high risk): `auto` does not pass it, the
/// user's approval in the dialog does.
#[tokio::test]
async fn a_pyproject_edit_asks_the_user_and_is_written_only_when_approved() {
    let fx = super::run_tool::Fixture::new();
    copy_tree(&fixture_path("deps/python"), &fx.repo());
    let before = std::fs::read_to_string(fx.repo().join("pyproject.toml")).unwrap();
    let mut engine = fx.engine(&crate::support::closed_port_url(), Policy::Auto, SandboxMode::Enforce);
    let add = || kv1nt::engine::protocol::ProjectOp::AddDependency { name: "PIL".into() };
    let (reply, asked) = project_op(&mut engine, add(), ApprovalDecision::Deny).await;
    assert!(!reply.ok && reply.text.contains("pyproject.toml was not changed"), "{reply:?}");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].summary, "declare Pillow>=10.3.0 in pyproject.toml");
    assert_eq!(std::fs::read_to_string(fx.repo().join("pyproject.toml")).unwrap(), before);
    let (reply, _) = project_op(&mut engine, add(), ApprovalDecision::Once).await;
    assert!(reply.ok, "{reply:?}");
    let after = std::fs::read_to_string(fx.repo().join("pyproject.toml")).unwrap();
    assert_eq!(after, before.replace("    \"rich>=13\",\n", "    \"rich>=13\",\n    \"Pillow>=10.3.0\",\n"));
}

#[test]
fn a_package_already_declared_or_unknown_is_refused_without_asking() {
    let fx = repo_with("rust");
    let out = fx.run(&["exec", "--approval", "auto", "/deps add serde"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("already declares serde"));
    let out = fx.run(&["exec", "--approval", "auto", "/deps add a\"b"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("not a package name"));
    let out = fx.run(&["exec", "/deps add"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: /deps"));
}

/// A manifest that does not parse is a problem line; the rest is still analysed.
#[test]
fn a_broken_manifest_is_reported_not_fatal() {
    let fx = repo_with("js");
    fx.repo.write("packages/ui/package.json", "{\"dependencies\": {\"react\": \n");
    fx.repo.write("tools/Cargo.toml", "[package\nname = \"\u{1b}[31mx\"\n");
    let report = deps_json(&fx);
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].as_str().unwrap().starts_with("packages/ui/package.json: not valid JSON"));
    assert!(problems[1].as_str().unwrap().starts_with("tools/Cargo.toml: not valid TOML"));
    assert_eq!(report["missing"][0]["package"], "axios");
    assert_eq!(report["conflicts"], json!([]));
    let text = fx.run(&["deps"]);
    assert!(text.status.success());
    assert!(!String::from_utf8_lossy(&text.stdout).contains('\u{1b}'), "control characters are not printed");
}

/// The model's read-only `dependencies` tool returns the same facts.
#[tokio::test]
async fn the_model_reads_the_report_with_the_dependencies_tool() {
    let fx = super::run_tool::Fixture::new();
    copy_tree(&fixture_path("deps/go"), &fx.repo());
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![Turn::text(&[]).tool_call("d1", "dependencies", json!({})), Turn::text(&["Noted."])],
    )
    .await;
    let mut engine = fx.engine(&server.base_url(), Policy::ReadOnly, SandboxMode::Enforce);
    engine
        .ops
        .send(kv1nt::engine::protocol::Op::Submit { text: "what is undeclared?".into(), intent: None })
        .unwrap();
    let events =
        super::run_tool::drive(&mut engine, |_, _, _| ApprovalDecision::Deny, |_, _| {}, false).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::ToolFinished { name, ok: true, .. } if name == "dependencies")),
        "{events:?}"
    );
    let requests = server.chat_requests();
    let second = requests.last().unwrap().body.to_string();
    assert!(second.contains("github.com/sirupsen/logrus") && second.contains("used in main.go"), "{second}");
    assert!(second.contains("github.com/pkg/errors"), "the unused one too: {second}");
}
