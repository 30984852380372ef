//! `kv1nt config-check` on a repository reading environment variables in Rust, Python,
//! TypeScript and Go (tests/fixtures/config_check): the variables missing from `.env.example`
//! per language, the unused ones, a YAML file invalid against its declared schema (path and
//! reason), a `[project_config]` schema mapping, `/env-example` through the gate — and no
//! value of `.env` in any output.

use serde_json::{Value, json};

use super::deps::{copy_tree, fixture_path};
use super::undo_cli::Fx;
use kv1nt::engine::approval::Policy;
use kv1nt::engine::protocol::ApprovalDecision;
use kv1nt::engine::sandbox::SandboxMode;

/// Values that must never be printed (written at run time: no secret-looking text is committed).
const SECRETS: [&str; 2] = ["hunter2-db-secret", "sk-proj-Zq81kfT5sBqA0x3nVbY7w2Lm"];

fn repo() -> Fx {
    let fx = Fx::new();
    copy_tree(&fixture_path("config_check"), fx.repo.path());
    fx.repo.write(
        ".env",
        format!("DATABASE_URL=postgres://admin:{}@db/prod\nOPENAI_API_KEY={}\n", SECRETS[0], SECRETS[1]),
    );
    // Ignored, as it should be: the check reads it all the same.
    fx.repo.write(".gitignore", ".env\n");
    fx
}

fn assert_no_secret(out: &std::process::Output) {
    for s in SECRETS {
        assert!(!String::from_utf8_lossy(&out.stdout).contains(s), "stdout shows a .env value");
        assert!(!String::from_utf8_lossy(&out.stderr).contains(s), "stderr shows a .env value");
    }
}

fn check_json(fx: &Fx) -> (Value, std::process::Output) {
    let out = fx.run(&["config-check", "--json"]);
    assert_no_secret(&out);
    (
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout))),
        out,
    )
}

#[test]
fn variables_read_in_each_language_but_missing_from_the_example_are_reported() {
    let fx = repo();
    let (report, out) = check_json(&fx);
    assert_eq!(out.status.code(), Some(1), "a file fails its schema");
    assert_eq!(report["examples"], json!([".env.example"]));
    // Rust, Python, TypeScript and Go each read one undocumented variable; DATABASE_URL is
    // documented, CARGO_PKG_VERSION is cargo's.
    assert_eq!(report["missing"], json!(["API_URL", "GO_PORT", "PY_TOKEN", "RUST_ONLY_VAR"]));
    let variables = report["variables"].as_array().unwrap();
    let find = |name: &str| variables.iter().find(|v| v["name"] == name).cloned().unwrap();
    assert_eq!(find("RUST_ONLY_VAR")["read_in"], json!(["src/main.rs:5"]));
    assert_eq!(find("PY_TOKEN")["read_in"], json!(["app.py:3"]));
    assert_eq!(find("API_URL")["read_in"], json!(["web/index.ts:1"]));
    assert_eq!(find("API_URL")["defined_in"], json!(["docker-compose.yml"]));
    assert_eq!(find("GO_PORT")["read_in"], json!(["cmd/server/main.go:9"]));
    assert_eq!(find("DATABASE_URL")["read_in"], json!(["app.py:4", "src/main.rs:4"]));
    assert_eq!(find("DATABASE_URL")["defined_in"], json!([".env.example", ".env"]));
    assert_eq!(
        report["unused"],
        json!([{"name": "OLD_FLAG", "defined_in": [".env.example"]}, {"name": "OPENAI_API_KEY", "defined_in": [".env"]}])
    );
}

#[test]
fn an_invalid_yaml_against_its_schema_gives_the_path_and_the_reason() {
    let fx = repo();
    let (report, _) = check_json(&fx);
    assert_eq!(
        report["schemas"],
        json!([
            {"file": "config/app.json", "schema": "schemas/app.json", "errors": []},
            {"file": "deploy/app.yaml", "schema": "schemas/deploy.json", "errors": [
                {"path": "/services/web/port", "reason": "value is not of type \"integer\""},
                {"path": "/services/worker", "reason": "\"image\" is a required property"}
            ]}
        ])
    );
    let text = fx.run(&["config-check"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("deploy/app.yaml ✗ 2 error(s) against schemas/deploy.json"), "{stdout}");
    assert!(stdout.contains("/services/web/port: value is not of type \"integer\""), "{stdout}");
    assert_no_secret(&text);
}

/// `[project_config] schemas` in the repository's config applies untrusted (it only names
/// files to read); a schema outside the repository is refused, never read.
#[test]
fn a_project_config_mapping_validates_toml_and_a_schema_outside_is_refused() {
    let fx = repo();
    fx.repo.write(
        ".kv1nt/config.toml",
        "[project_config.schemas]\n\"settings/*.toml\" = \"schemas/settings.json\"\n\"secret/*.json\" = \"../outside.json\"\n",
    );
    fx.repo.write(
        "schemas/settings.json",
        r#"{"type": "object", "properties": {"workers": {"type": "integer", "minimum": 1}}}"#,
    );
    fx.repo.write("settings/prod.toml", "workers = 0\n");
    fx.repo.write("secret/a.json", "{}");
    let (report, out) = check_json(&fx);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("ignored"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prod =
        report["schemas"].as_array().unwrap().iter().find(|v| v["file"] == "settings/prod.toml").cloned();
    assert_eq!(
        prod,
        Some(json!({"file": "settings/prod.toml", "schema": "schemas/settings.json", "errors": [
            {"path": "/workers", "reason": "value is less than the minimum of 1"}
        ]}))
    );
    let problems = report["problems"].to_string();
    assert!(
        problems.contains("secret/a.json: schema ../outside.json is outside the repository"),
        "{problems}"
    );
}

/// `/env-example` proposes the missing names (values empty) through the gate: an environment
/// file is high risk, so even `--approval auto` leaves it to the user, who approves it here.
#[tokio::test]
async fn env_example_is_proposed_through_the_gate_without_any_value() {
    let fx = repo();
    let before = fx.bytes(".env.example").unwrap();
    let denied = fx.run(&["exec", "--json", "--approval", "auto", "/env-example"]);
    assert_eq!(denied.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&denied.stdout).contains("\"risk\":\"high\""));
    assert_no_secret(&denied);
    assert_eq!(fx.bytes(".env.example").unwrap(), before, "denied, yet changed");

    let rt = super::run_tool::Fixture::new();
    copy_tree(&fixture_path("config_check"), &rt.repo());
    std::fs::copy(fx.repo.path().join(".env"), rt.repo().join(".env")).unwrap();
    let mut engine = rt.engine(&crate::support::closed_port_url(), Policy::Auto, SandboxMode::Enforce);
    let (reply, asked) = super::deps::project_op(
        &mut engine,
        kv1nt::engine::protocol::ProjectOp::EnvExample,
        ApprovalDecision::Once,
    )
    .await;
    assert!(reply.ok, "{reply:?}");
    assert_eq!(asked.len(), 1);
    for s in SECRETS {
        assert!(!format!("{reply:?}{asked:?}").contains(s), "a .env value reached the dialog");
    }
    let after = std::fs::read_to_string(rt.repo().join(".env.example")).unwrap();
    assert_eq!(
        after,
        format!(
            "{}\n# Read by the code (added by kv1nt)\n# read in web/index.ts:1\nAPI_URL=\n# read in cmd/server/main.go:9\nGO_PORT=\n\
             # read in app.py:3\nPY_TOKEN=\n# read in src/main.rs:5\nRUST_ONLY_VAR=\n",
            String::from_utf8(before).unwrap()
        )
    );
    for s in SECRETS {
        assert!(!after.contains(s));
    }
}
