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
    /// Servers the repository sets that do not start, and why (held back until the repository
    /// is trusted; a `.mcp.json` entry kv1nt cannot run). Set by `config::load`, never by a file.
    #[serde(skip)]
    pub held: Vec<(String, String)>,
}

/// One server: a child process over stdio (`command`), or streamable HTTP (`url`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// The program (looked up on `PATH`).
    pub command: String,
    /// A streamable HTTP server's endpoint (`https://…/mcp`), instead of `command`.
    pub url: Option<String>,
    /// HTTP headers; `${VAR}` in a value is kv1nt's environment variable VAR, read at connect
    /// time (`Authorization = "Bearer ${GITHUB_TOKEN}"`), so the token is never in a file.
    pub headers: BTreeMap<String, String>,
    /// The environment variable holding a bearer token (`Authorization: Bearer <value>`).
    pub bearer_token_env: Option<String>,
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
            url: None,
            headers: BTreeMap::new(),
            bearer_token_env: None,
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

/// Why a server's settings cannot start it, if they cannot: exactly one of `command` and `url`.
pub fn check_server(name: &str, server: &ServerSettings) -> Result<(), String> {
    match (&server.url, server.command.trim().is_empty()) {
        (None, true) => Err(format!(
            "[mcp.servers.{name}] needs `command` (the program to start) or `url` (a streamable HTTP server)"
        )),
        (Some(_), false) => Err(format!("[mcp.servers.{name}] sets both `command` and `url`: keep one")),
        (Some(url), true) if !(url.starts_with("https://") || url.starts_with("http://")) => {
            Err(format!("[mcp.servers.{name}] url `{url}` is not an http:// or https:// address"))
        }
        _ => Ok(()),
    }
}

impl ServerSettings {
    /// How the server is reached, for listings (never a header value).
    pub fn transport(&self) -> String {
        match &self.url {
            Some(url) => format!("HTTP {url}"),
            None => format!("{} {}", self.command, self.args.join(" ")).trim_end().to_string(),
        }
    }

    /// The HTTP headers to send, `${VAR}` replaced from `parent` (kv1nt's environment), and
    /// `Authorization: Bearer …` from `bearer_token_env`. A variable that is unset or empty is
    /// an error naming it (never its value).
    pub fn http_headers(
        &self,
        parent: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<(String, String)>, String> {
        let lookup = |var: &str, what: &str| {
            parent(var).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                format!("the environment variable {var} ({what}) is not set: set it where you start kv1nt")
            })
        };
        let mut out = Vec::new();
        for (name, template) in &self.headers {
            let mut value = String::new();
            let mut rest = template.as_str();
            while let Some(start) = rest.find("${") {
                let Some(len) = rest[start + 2..].find('}') else { break };
                value.push_str(&rest[..start]);
                let var = &rest[start + 2..start + 2 + len];
                value.push_str(&lookup(var, &format!("header {name}"))?);
                rest = &rest[start + 3 + len..];
            }
            value.push_str(rest);
            out.push((name.clone(), value));
        }
        if let Some(var) = &self.bearer_token_env {
            let token = lookup(var, "bearer_token_env")?;
            out.retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
            out.push(("Authorization".into(), format!("Bearer {}", token.trim())));
        }
        Ok(out)
    }
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
    fn headers_take_their_values_from_the_environment_at_connect_time() {
        let s = ServerSettings {
            url: Some("https://mcp.example/mcp".into()),
            headers: BTreeMap::from([
                ("Authorization".into(), "Bearer ${GH}".into()),
                ("X-Team".into(), "${TEAM}-${TEAM}".into()),
            ]),
            ..Default::default()
        };
        let parent = |n: &str| match n {
            "GH" => Some("ghp_1".to_string()),
            "TEAM" => Some("core".to_string()),
            _ => None,
        };
        let headers = s.http_headers(&parent).unwrap();
        assert_eq!(
            headers,
            [("Authorization".into(), "Bearer ghp_1".into()), ("X-Team".into(), "core-core".into())]
        );
        let err = s.http_headers(&|_| None).unwrap_err();
        assert!(err.contains("GH (header Authorization) is not set"), "{err}");
        let bearer = ServerSettings { bearer_token_env: Some("TOK".into()), ..s.clone() };
        let headers =
            bearer.http_headers(&|n| (n != "TOK").then(|| "x".to_string()).or(Some("t".into()))).unwrap();
        assert!(headers.contains(&("Authorization".into(), "Bearer t".into())), "{headers:?}");
        assert_eq!(headers.iter().filter(|(n, _)| n == "Authorization").count(), 1);
        assert!(check_server("gh", &s).is_ok());
        let both = ServerSettings { command: "x".into(), ..s.clone() };
        assert!(check_server("gh", &both).unwrap_err().contains("both"));
        let neither = ServerSettings::default();
        assert!(check_server("gh", &neither).unwrap_err().contains("needs `command`"));
        let ftp = ServerSettings { url: Some("ftp://x".into()), ..Default::default() };
        assert!(check_server("gh", &ftp).unwrap_err().contains("not an http"));
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
