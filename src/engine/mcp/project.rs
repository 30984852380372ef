//! The repository's `.mcp.json` (Claude Code's project file) as a configuration layer:
//! `{"mcpServers": {"NAME": {"command", "args", "env"} | {"type": "http", "url", "headers"}}}`
//! becomes `[mcp.servers.NAME]`, merged under the repository's `.kv1nt/config.toml` and, like
//! it, held back until the repository is trusted (`config::load`).
//!
//! Invariants: the file is someone else's: a server kv1nt cannot run (an `sse` server, a name
//! that cannot prefix tools, an `env` value that is a `${VAR}` of another name) is skipped with
//! the reason, never guessed at; a file that is not JSON of this shape is an error, which
//! `config::load` reports in `/mcp` (never fatal: the file may be another tool's).
//! `"KEY": "${KEY}"` in `env` becomes `pass_env` (the value stays in kv1nt's environment);
//! `${VAR}` in a header is kept, and read at connect time.

use serde_json::{Map, Value};

use super::settings::check_name;

/// The file's name in the repository root.
pub const FILE: &str = ".mcp.json";

/// `.mcp.json`'s servers as a TOML table `{mcp = {servers = {…}}}`, and the servers skipped
/// (name, why).
pub fn to_layer(text: &str) -> Result<(toml::Table, Vec<(String, String)>), String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let servers = match value.get("mcpServers") {
        Some(Value::Object(servers)) => servers.clone(),
        Some(_) => return Err("`mcpServers` is not an object".into()),
        None => Map::new(),
    };
    let (mut table, mut skipped) = (toml::Table::new(), Vec::new());
    for (name, server) in servers {
        match server_table(&name, &server) {
            Ok(t) => {
                table.insert(name, toml::Value::Table(t));
            }
            Err(why) => skipped.push((name, why)),
        }
    }
    let mut mcp = toml::Table::new();
    if !table.is_empty() {
        mcp.insert("servers".into(), toml::Value::Table(table));
    }
    let mut layer = toml::Table::new();
    if !mcp.is_empty() {
        layer.insert("mcp".into(), toml::Value::Table(mcp));
    }
    Ok((layer, skipped))
}

fn server_table(name: &str, server: &Value) -> Result<toml::Table, String> {
    check_name(name)?;
    let Value::Object(server) = server else { return Err("not an object".into()) };
    let text = |key: &str| -> Result<Option<String>, String> {
        match server.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("`{key}` is not a string")),
        }
    };
    let strings = |key: &str| -> Result<Map<String, Value>, String> {
        match server.get(key) {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(map)) if map.values().all(Value::is_string) => Ok(map.clone()),
            Some(_) => Err(format!("`{key}` is not an object of strings")),
        }
    };
    let mut out = toml::Table::new();
    let kind = text("type")?;
    match (kind.as_deref(), text("url")?, text("command")?) {
        (Some("sse"), _, _) => return Err("an `sse` server (kv1nt speaks stdio and streamable HTTP)".into()),
        (Some("http" | "streamable-http") | None, Some(url), None) => {
            out.insert("url".into(), url.into());
            let headers: toml::Table = strings("headers")?
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().into()))
                .collect();
            if !headers.is_empty() {
                out.insert("headers".into(), toml::Value::Table(headers));
            }
        }
        (Some("stdio") | None, None, Some(command)) => {
            out.insert("command".into(), command.into());
            let args = match server.get("args") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
                    a.iter().map(|v| toml::Value::from(v.as_str().unwrap_or_default())).collect()
                }
                Some(_) => return Err("`args` is not a list of strings".into()),
            };
            out.insert("args".into(), toml::Value::Array(args));
            let (mut env, mut pass) = (toml::Table::new(), Vec::new());
            for (key, value) in strings("env")? {
                let value = value.as_str().unwrap_or_default().to_string();
                if value == format!("${{{key}}}") {
                    pass.push(toml::Value::from(key));
                } else if value.contains("${") {
                    return Err(format!(
                        "env `{key}` = `{value}`: only \"{key}\": \"${{{key}}}\" is taken from the environment"
                    ));
                } else {
                    env.insert(key, value.into());
                }
            }
            if !env.is_empty() {
                out.insert("env".into(), toml::Value::Table(env));
            }
            if !pass.is_empty() {
                out.insert("pass_env".into(), toml::Value::Array(pass));
            }
        }
        (kind, _, _) => {
            let kind = kind.unwrap_or("unset");
            return Err(format!("needs `command` (stdio) or `url` (http), not both (type {kind})"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_code_s_file_becomes_mcp_servers() {
        let text = r#"{"mcpServers": {
            "files": {"command": "npx", "args": ["-y", "@mcp/fs", "."], "env": {"GH": "${GH}", "MODE": "ro"}},
            "gh": {"type": "http", "url": "https://api.example/mcp", "headers": {"Authorization": "Bearer ${GH}"}},
            "old": {"type": "sse", "url": "https://x/sse"},
            "bad.name": {"command": "x"},
            "odd": {"command": "x", "env": {"A": "${B}"}}
        }}"#;
        let (layer, skipped) = to_layer(text).unwrap();
        let servers = &layer["mcp"]["servers"];
        assert_eq!(servers["files"]["command"].as_str(), Some("npx"));
        assert_eq!(servers["files"]["args"].as_array().unwrap().len(), 3);
        assert_eq!(servers["files"]["pass_env"].as_array().unwrap()[0].as_str(), Some("GH"));
        assert_eq!(servers["files"]["env"]["MODE"].as_str(), Some("ro"));
        assert_eq!(servers["gh"]["url"].as_str(), Some("https://api.example/mcp"));
        assert_eq!(servers["gh"]["headers"]["Authorization"].as_str(), Some("Bearer ${GH}"));
        let names: Vec<&str> = skipped.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["old", "bad.name", "odd"], "in the file's order");
        assert!(skipped[0].1.contains("sse"), "{skipped:?}");
        // The layer is valid configuration.
        let config: crate::engine::config::Config = toml::Value::Table(layer).try_into().unwrap();
        assert_eq!(config.mcp.servers.len(), 2);
        assert!(to_layer("{").unwrap_err().contains("not valid JSON"));
        assert!(to_layer(r#"{"mcpServers": 3}"#).is_err());
        assert!(to_layer("{}").unwrap().0.is_empty());
    }
}
