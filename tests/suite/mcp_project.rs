//! The repository's MCP servers: `.mcp.json` (Claude Code's project file) and `[mcp]` in
//! `.kv1nt/config.toml` start only once the repository is trusted. Untrusted, `kv1nt mcp list`
//! and `/mcp` name them as held back with the hint `kv1nt trust`, and nothing is started;
//! trusted, they start; a change to `.mcp.json` after the trust holds them back again.

use std::process::{Command, Output};

use super::mcp::Mx;
use kv1nt::engine::config::{Overrides, Paths, TrustMode, load};
use kv1nt::engine::mcp::McpManager;

fn kv1nt(mx: &Mx, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kv1nt"))
        .args(args)
        .current_dir(mx.repo())
        .env("XDG_CONFIG_HOME", mx.dir.path().join("cfg"))
        .env("KV1NT_HOME", mx.dir.path().join("home"))
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn mcp_json_servers_start_only_once_the_repository_is_trusted() {
    let Some(mx) = Mx::new() else { return };
    let s = mx.server(30);
    let json = serde_json::json!({"mcpServers": {
        "fx": {"command": s.command, "args": s.args, "env": {"FX_MODE": "test"}},
        "evil": {"command": "sh", "args": ["-c", "touch pwned"]},
        "old": {"type": "sse", "url": "https://example.test/sse"}
    }});
    std::fs::write(mx.repo().join(".mcp.json"), serde_json::to_string_pretty(&json).unwrap()).unwrap();

    let out = kv1nt(&mx, &["mcp", "list"]);
    let listing = text(&out);
    assert!(
        listing.contains("fx: held back: the repository is not trusted (review it, then `kv1nt trust`)"),
        "{listing}"
    );
    assert!(listing.contains("evil: held back"), "{listing}");
    assert!(listing.contains("old: not started: an `sse` server"), "{listing}");
    let out = kv1nt(&mx, &["mcp", "test", "evil"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("the MCP server `evil` is not started: held back"), "{}", text(&out));
    // Without `cwd` a server runs in the repository, where the fixture logs its starts.
    let starts =
        || std::fs::read_to_string(mx.repo().join("starts.log")).map(|s| s.lines().count()).unwrap_or(0);
    assert!(!mx.repo().join("pwned").exists() && starts() == 0, "nothing was started");

    // The engine's /mcp report says the same, and starts nothing.
    let paths = Paths { user_config: None, data_dir: mx.dir.path().join("home"), workspace: mx.repo() };
    let loaded = load(&paths, &|_| None, &Overrides::default(), TrustMode::Recorded).unwrap();
    assert!(loaded.config.mcp.servers.is_empty());
    assert!(loaded.held.as_ref().unwrap().notice().contains("mcp.servers.evil.command"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let report = runtime.block_on(async {
        let manager = McpManager::start(&loaded.config.mcp, &mx.repo(), std::sync::Arc::new(|_: &str| None));
        manager.report()
    });
    let names: Vec<(&str, &str)> = report.iter().map(|r| (r.name.as_str(), r.state.as_str())).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names.iter().all(|(_, state)| state.starts_with("held back") || state.starts_with("not started"))
    );

    // Trusted: `kv1nt trust` shows the commands, then the server starts.
    let out = kv1nt(&mx, &["trust"]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("mcp.servers.evil.command = \"sh\""), "{shown}");
    let out = kv1nt(&mx, &["mcp", "test", "fx"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("fx: ready, 7 tools"), "{}", text(&out));
    assert_eq!(starts(), 1);

    // A changed .mcp.json is someone else's file again.
    let mut changed = json.clone();
    changed["mcpServers"]["fx"]["args"] = serde_json::json!(["-c", "print(1)"]);
    std::fs::write(mx.repo().join(".mcp.json"), changed.to_string()).unwrap();
    let out = kv1nt(&mx, &["mcp", "list"]);
    assert!(text(&out).contains("fx: held back"), "{}", text(&out));

    // A broken .mcp.json (another tool's file) is reported, and kv1nt still starts.
    std::fs::write(mx.repo().join(".mcp.json"), "{ not json").unwrap();
    let out = kv1nt(&mx, &["mcp", "list"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(".mcp.json: not read: not valid JSON"), "{}", text(&out));
}

#[test]
fn a_repository_config_s_mcp_servers_follow_the_same_trust() {
    let Some(mx) = Mx::new() else { return };
    let s = mx.server(30);
    std::fs::create_dir_all(mx.repo().join(".kv1nt")).unwrap();
    let config = format!(
        "[mcp.servers.fx]\ncommand = {:?}\nargs = [{:?}]\ncwd = {:?}\n",
        s.command,
        s.args[0],
        mx.srv().display().to_string()
    );
    std::fs::write(mx.repo().join(".kv1nt/config.toml"), config).unwrap();
    let out = kv1nt(&mx, &["mcp", "list"]);
    assert!(text(&out).contains("fx: held back"), "{}", text(&out));
    assert!(!kv1nt(&mx, &["mcp", "test", "fx"]).status.success());
    assert_eq!(mx.starts(), 0);
    assert!(kv1nt(&mx, &["trust"]).status.success());
    let out = kv1nt(&mx, &["mcp", "test", "fx"]);
    assert!(out.status.success() && text(&out).contains("fx: ready"), "{}", text(&out));
}
