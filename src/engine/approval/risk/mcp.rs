//! MCP tool risk: the rules for [`GateAction::Mcp`](crate::engine::protocol::GateAction::Mcp).
//!
//! Invariants:
//! - Only a declared read-only tool (of a server trusted for its annotations) or a tool the user
//!   set to low is low; a tool that says nothing, or only that it adds, is medium; one that
//!   declares it may destroy is high; the user's `tools.<tool>.risk` replaces the declaration.
//! - A secret in the arguments is at least high: it would leave kv1nt for the server.

use super::find_secrets;
use crate::engine::approval::types::{McpHint, Risk};

pub(super) fn assess_mcp(server: &str, tool: &str, arguments: &str, hint: McpHint) -> Vec<(Risk, String)> {
    let mut found = vec![match hint {
        McpHint::ReadOnly => (Risk::Low, format!("`{server}` declares `{tool}` read-only")),
        McpHint::Set(risk) => (risk, format!("your config sets `{tool}` of `{server}` to {risk} risk")),
        McpHint::Additive => {
            (Risk::Medium, format!("`{server}` declares that `{tool}` changes things (adding only)"))
        }
        McpHint::Destructive => (Risk::High, format!("`{server}` declares that `{tool}` may destroy data")),
        McpHint::Undeclared => (Risk::Medium, format!("`{server}` does not declare what `{tool}` changes")),
    }];
    for s in find_secrets(arguments) {
        let (kind, masked) = (s.kind, s.masked);
        found.push((Risk::High, format!("the arguments carry a {kind} ({masked}) to the server")));
    }
    found
}
