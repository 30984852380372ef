//! MCP servers over streamable HTTP, against the fixture server of `mcp.rs` served by
//! `tests/fixtures/mcp/http_server.py` (the `mcp` package's streamable HTTP app behind a bearer
//! token check): with the token in the environment its tools list and answer the model; without
//! it, or with a wrong one, `kv1nt mcp test` says why and exits 1; the token is never printed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::mcp::{Mx, call, finished, wait_ready};
use super::run_tool::drive;
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::approval::Policy;
use kv1nt::engine::mcp::ServerSettings;
use kv1nt::engine::protocol::ApprovalDecision;
use serde_json::json;

const TOKEN_VAR: &str = "KV1NT_TEST_MCP_HTTP_TOKEN";
const TOKEN: &str = "fx-bearer-7f3a";

/// The HTTP fixture server, killed on drop.
struct HttpServer {
    child: Child,
    url: String,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(mx: &Mx) -> HttpServer {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mcp/http_server.py");
    let child = Command::new(&mx.python)
        .arg(script)
        .current_dir(mx.srv())
        .env("FX_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let port_file = mx.srv().join("port.txt");
    let until = Instant::now() + Duration::from_secs(30);
    while !port_file.exists() {
        assert!(Instant::now() < until, "the HTTP fixture server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let port = std::fs::read_to_string(&port_file).unwrap();
    HttpServer { child, url: format!("http://127.0.0.1:{}/mcp", port.trim()) }
}

fn kv1nt(mx: &Mx, args: &[&str], token: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kv1nt"));
    command
        .args(args)
        .current_dir(mx.repo())
        .env_remove(TOKEN_VAR)
        .env("XDG_CONFIG_HOME", mx.dir.path().join("cfg"))
        .env("KV1NT_HOME", mx.dir.path().join("home"));
    if let Some(token) = token {
        command.env(TOKEN_VAR, token);
    }
    command.output().unwrap()
}

fn write_config(dir: &Path, text: &str) {
    let cfg = dir.join("cfg/kv1nt");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(cfg.join("config.toml"), text).unwrap();
}

#[test]
fn an_http_server_takes_its_bearer_token_from_the_environment() {
    let Some(mx) = Mx::new() else { return };
    let server = serve(&mx);
    write_config(
        mx.dir.path(),
        &format!("[mcp.servers.web]\nurl = {:?}\nbearer_token_env = {TOKEN_VAR:?}\n", server.url),
    );
    let out = kv1nt(&mx, &["mcp", "test", "web"], Some(TOKEN));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("web: ready, 7 tools") && stdout.contains("web__lookup (read-only)"), "{stdout}");
    assert!(stdout.contains("prompt /web:review path=… [focus=…]"), "{stdout}");
    assert!(stdout.contains("resource fixture://readme (readme)"), "{stdout}");
    assert!(stdout.contains(&format!("via HTTP {}", server.url)), "{stdout}");

    // Without the variable: it is named, nothing is sent.
    let out = kv1nt(&mx, &["mcp", "test", "web"], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("the environment variable {TOKEN_VAR} (bearer_token_env) is not set")),
        "{stdout}"
    );

    // A wrong token: the server's 401, said plainly; no token in the output.
    let out = kv1nt(&mx, &["mcp", "test", "web"], Some("wrong-token"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("401 Unauthorized"), "{stdout}");
    assert!(!stdout.contains("wrong-token"), "{stdout}");

    // `kv1nt mcp list` names the variable, never its value.
    let out = kv1nt(&mx, &["mcp", "list"], Some(TOKEN));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("bearer token from ${TOKEN_VAR}")) && !stdout.contains(TOKEN),
        "{stdout}"
    );
}

#[tokio::test]
async fn the_model_calls_an_http_server_s_tool_with_the_header_from_the_environment() {
    let Some(mx) = Mx::new() else { return };
    // Only this test sets the variable, to one value; the engine reads kv1nt's environment.
    unsafe { std::env::set_var(TOKEN_VAR, TOKEN) };
    let server = serve(&mx);
    let model = ScriptedServer::start(
        Wire::OpenAi,
        vec![call("c1", "fx__lookup", json!({"key": "web"})), Turn::text(&["Found."])],
    )
    .await;
    let settings = ServerSettings {
        url: Some(server.url.clone()),
        headers: [("Authorization".to_string(), format!("Bearer ${{{TOKEN_VAR}}}"))].into(),
        ..Default::default()
    };
    let mut engine = mx.engine(&model.base_url(), Policy::Ask, settings);
    let report = wait_ready(&mut engine, 0).await;
    assert!(report.transport.starts_with("HTTP http://127.0.0.1:"), "{report:?}");
    engine.ops.send(kv1nt::engine::protocol::Op::Submit { text: "look up".into(), intent: None }).unwrap();
    let events = drive(&mut engine, |_, _, _| ApprovalDecision::Deny, |_, _| {}, false).await;
    assert!(finished(&events, "fx__lookup").0, "{events:?}");
    let sent = model.chat_requests()[1].body["messages"].to_string();
    assert!(sent.contains("the value of web is 42"), "{sent}");
    let audit = format!("{:?}", mx.store().audit_entries(None, 20).unwrap());
    assert!(!audit.contains(TOKEN), "the token reached the audit log: {audit}");
}

#[tokio::test]
async fn an_http_server_that_hangs_times_out_and_one_that_dies_gives_an_error_result() {
    let Some(mx) = Mx::new() else { return };
    unsafe { std::env::set_var(TOKEN_VAR, TOKEN) };
    let server = serve(&mx);
    let model = ScriptedServer::start(
        Wire::OpenAi,
        vec![
            call("c1", "fx__hang", json!({})),
            Turn::text(&["It hung."]),
            call("c2", "fx__crash", json!({})),
            Turn::text(&["It died."]),
        ],
    )
    .await;
    let settings = ServerSettings {
        url: Some(server.url.clone()),
        bearer_token_env: Some(TOKEN_VAR.into()),
        timeout_secs: 2,
        ..Default::default()
    };
    let mut engine = mx.engine(&model.base_url(), Policy::Ask, settings);
    wait_ready(&mut engine, 0).await;
    let started = Instant::now();
    engine.ops.send(kv1nt::engine::protocol::Op::Submit { text: "hang".into(), intent: None }).unwrap();
    let events = drive(&mut engine, |_, _, _| ApprovalDecision::Deny, |_, _| {}, false).await;
    let (ok, summary, _) = finished(&events, "fx__hang");
    assert!(!ok && summary.contains("did not answer `hang` within 2 s"), "{summary}");
    assert!(started.elapsed() < Duration::from_secs(15));
    // The session was dropped and made again (the server itself still runs).
    let report = wait_ready(&mut engine, 1).await;
    assert!(report.errors.iter().any(|e| e.contains("did not answer `hang`")), "{report:?}");

    let started = Instant::now();
    engine.ops.send(kv1nt::engine::protocol::Op::Submit { text: "crash".into(), intent: None }).unwrap();
    let events = drive(&mut engine, |_, _, _| ApprovalDecision::Deny, |_, _| {}, false).await;
    let (ok, summary, _) = finished(&events, "fx__crash");
    assert!(!ok && summary.contains("MCP server `fx`"), "{summary}");
    assert!(started.elapsed() < Duration::from_secs(15), "the turn went on: {:?}", started.elapsed());
}
