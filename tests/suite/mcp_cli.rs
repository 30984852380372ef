//! `kv1nt mcp add|remove`: servers added to and removed from the user's config file, its
//! comments kept, an existing name replaced only with `--force`, and the added server works
//! (`kv1nt mcp test`). Runs kv1nt in the isolated environment of `undo_cli::Fx`.

use super::mcp::Mx;
use super::undo_cli::Fx;

fn out(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn mcp_add_and_remove_edit_the_user_config_and_keep_its_comments() {
    let Some(mx) = Mx::new() else { return };
    let fx = Fx::new();
    let config = fx.home.path().join("config/kv1nt/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let original = "# my kv1nt settings\n[ui]\ntheme = \"dark\" # easier on the eyes\n";
    std::fs::write(&config, original).unwrap();
    let s = mx.server(30);

    let o = fx.run(&["mcp", "add", "fx", "--", &s.command, &s.args[0]]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("added the MCP server `fx`"), "{}", out(&o));
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.starts_with(original) && text.contains("[mcp.servers.fx]"), "{text}");
    let o = fx.run(&["mcp", "test", "fx"]);
    assert!(o.status.success() && out(&o).contains("fx: ready, 7 tools"), "{}", out(&o));

    let o = fx.run(&["mcp", "add", "fx", "--url", "https://mcp.example/mcp"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("already in") && out(&o).contains("--force"), "{}", out(&o));
    let o = fx.run(&[
        "mcp",
        "add",
        "fx",
        "--force",
        "--url",
        "https://mcp.example/mcp",
        "--bearer-env",
        "MCP_TOKEN",
    ]);
    assert!(o.status.success(), "{}", out(&o));
    let o = fx.run(&["mcp", "list"]);
    assert!(
        out(&o).contains("fx: HTTP https://mcp.example/mcp")
            && out(&o).contains("bearer token from $MCP_TOKEN"),
        "{}",
        out(&o)
    );

    let o = fx.run(&["mcp", "add", "web", "--url", "https://a/mcp", "--", "npx"]);
    assert!(!o.status.success() && out(&o).contains("not both"), "{}", out(&o));
    let o = fx.run(&["mcp", "add", "bad__name", "--", "x"]);
    assert!(!o.status.success() && out(&o).contains("without `__`"), "{}", out(&o));

    let o = fx.run(&["mcp", "remove", "fx"]);
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(std::fs::read_to_string(&config).unwrap().trim_end(), original.trim_end());
    let o = fx.run(&["mcp", "remove", "fx"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("no MCP server `fx`"), "{}", out(&o));
}
