//! An MCP server's tools as the model sees them: `SERVER__TOOL` specs (names providers accept
//! only) and where each one's risk comes from ([`McpHint`]: its annotations, believed only for
//! a server with `trust_annotations`, or the user's `tools.<tool>.risk`).

use rmcp::model::Tool;

use super::settings::ServerSettings;
use crate::engine::llm::types::ToolSpec;
use crate::engine::protocol::McpHint;

/// One tool of one server, as offered to the model.
#[derive(Debug, Clone)]
pub struct McpTool {
    pub server: String,
    pub name: String,
    pub hint: McpHint,
    pub(super) spec: ToolSpec,
}

impl McpTool {
    /// `SERVER__TOOL`, the name the model calls.
    pub fn full_name(&self) -> &str {
        &self.spec.name
    }
}

pub(super) fn hint_name(hint: McpHint) -> String {
    match hint {
        McpHint::ReadOnly => "read-only".into(),
        McpHint::Additive => "additive".into(),
        McpHint::Destructive => "destructive".into(),
        McpHint::Undeclared => "undeclared".into(),
        McpHint::Set(risk) => format!("{risk} by your config"),
    }
}

/// What the server declares about `tool`, or what the user set.
pub fn hint_of(settings: &ServerSettings, tool: &Tool) -> McpHint {
    if let Some(risk) = settings.tool_risk(&tool.name) {
        return McpHint::Set(risk);
    }
    let Some(a) = tool.annotations.as_ref().filter(|_| settings.trust_annotations) else {
        return McpHint::Undeclared;
    };
    match (a.read_only_hint, a.destructive_hint) {
        (Some(true), _) => McpHint::ReadOnly,
        (_, Some(false)) => McpHint::Additive,
        (Some(false), _) | (_, Some(true)) => McpHint::Destructive,
        (None, None) => McpHint::Undeclared,
    }
}

/// The tools to offer as `SERVER__TOOL`, and why others are not offered (a name providers
/// refuse: only `[A-Za-z0-9_-]`, at most 64 characters in all).
pub(super) fn offered_tools(
    server: &str,
    settings: &ServerSettings,
    tools: Vec<Tool>,
) -> (Vec<McpTool>, Vec<String>) {
    let (mut offered, mut refused) = (Vec::new(), Vec::new());
    for tool in tools {
        let full = format!("{server}__{}", tool.name);
        let valid =
            full.len() <= 64 && full.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            refused.push(format!(
                "tool `{}` not offered: its name is not [A-Za-z0-9_-] or is too long",
                tool.name
            ));
            continue;
        }
        let description = tool.description.as_deref().unwrap_or("(no description)");
        let spec = ToolSpec {
            name: full,
            description: format!("[MCP server {server}] {description}"),
            input_schema: serde_json::Value::Object((*tool.input_schema).clone()),
        };
        offered.push(McpTool {
            server: server.to_string(),
            name: tool.name.to_string(),
            hint: hint_of(settings, &tool),
            spec,
        });
    }
    (offered, refused)
}
