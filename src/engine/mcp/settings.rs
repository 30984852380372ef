//! The `[mcp.servers.NAME]` settings: how to start each MCP server and how risky its tools are.
//!
//! Invariants: a server name is 1–32 characters of `[A-Za-z0-9_-]` without `__` (it prefixes
//! its tools as `NAME__tool`, split at the first `__`); `env` is the server's whole environment
//! besides `PATH` and `HOME` (see [`ServerSettings::environment`]) and the variables named in
//! `pass_env`, so no API key of kv1nt's reaches a server unless the user names it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::engine::protocol::Risk;

/// `[mcp]`: the MCP servers whose tools the model may call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct McpSettings {
    pub servers: BTreeMap<String, ServerSettings>,
}

/// One stdio server, started as a child process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// The program (looked up on `PATH`).
    pub command: String,
    pub args: Vec<String>,
    /// The server's environment (besides `PATH` and `HOME`, which it may override).
    pub env: BTreeMap<String, String>,
    /// Names of kv1nt's own environment variables to pass on (a token the server needs),
    /// so the value stays out of the config file.
    pub pass_env: Vec<String>,
    /// Working directory; the workspace when unset.
    pub cwd: Option<PathBuf>,
    /// How long one tool call may take before the server is taken for hung (and restarted).
    pub timeout_secs: u64,
    /// How long starting (the process, the handshake, the tool list) may take: `npx` may
    /// download the server first.
    pub start_timeout_secs: u64,
    /// Believe the server's `readOnlyHint` (a read-only tool is low risk and runs without
    /// asking). False: every tool of this server is at least medium unless set in `tools`.
    pub trust_annotations: bool,
    /// Per tool: its risk, whatever the server declares.
    pub tools: BTreeMap<String, ToolSettings>,
    /// Off: not started, its tools not offered.
    pub enabled: bool,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            command: String::new(),
            args: Vec::new(),
            env: BTreeMap::new(),
            pass_env: Vec::new(),
            cwd: None,
            timeout_secs: 30,
            start_timeout_secs: 60,
            trust_annotations: true,
            tools: BTreeMap::new(),
            enabled: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolSettings {
    pub risk: Risk,
}

/// Why a server name cannot be used, if it cannot.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if name.is_empty() || name.len() > 32 || !ok_chars || name.contains("__") {
        return Err(format!(
            "MCP server name `{name}`: use 1–32 letters, digits, `-` or `_`, without `__` \
             (its tools are offered as NAME__tool)"
        ));
    }
    Ok(())
}

impl ServerSettings {
    /// The child's whole environment: `PATH` and `HOME` from kv1nt's (so `npx`, `uvx` and
    /// interpreters are found and can cache), the `pass_env` variables, then `env` on top.
    pub fn environment(&self, parent: &dyn Fn(&str) -> Option<String>) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for name in ["PATH", "HOME"].iter().copied().chain(self.pass_env.iter().map(String::as_str)) {
            if let Some(value) = parent(name) {
                out.insert(name.to_string(), value);
            }
        }
        out.extend(self.env.clone());
        out
    }

    /// The risk the user set for `tool`, if any.
    pub fn tool_risk(&self, tool: &str) -> Option<Risk> {
        self.tools.get(tool).map(|t| t.risk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_split_cleanly() {
        assert!(check_name("files").is_ok() && check_name("my-db_2").is_ok());
        for bad in ["", "a__b", "has space", "x/y", &"n".repeat(33)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_environment_is_what_the_config_gives() {
        let s = ServerSettings {
            env: BTreeMap::from([("MODE".into(), "test".into()), ("HOME".into(), "/srv".into())]),
            pass_env: vec!["TOKEN".into()],
            ..Default::default()
        };
        let parent = |n: &str| match n {
            "PATH" => Some("/bin".to_string()),
            "HOME" => Some("/root".to_string()),
            "TOKEN" => Some("t0k".to_string()),
            "ANTHROPIC_API_KEY" => Some("secret".to_string()),
            _ => None,
        };
        let env = s.environment(&parent);
        let keys: Vec<&str> = env.keys().map(String::as_str).collect();
        assert_eq!(keys, ["HOME", "MODE", "PATH", "TOKEN"]);
        assert_eq!(env["HOME"], "/srv");
    }
}
