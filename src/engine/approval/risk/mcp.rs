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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::engine::approval::grants::{Grants, grant_for};
    use crate::engine::approval::policy::{Verdict, decide};
    use crate::engine::approval::risk::assess;
    use crate::engine::approval::types::{GateAction, McpHint, Policy, Risk};

    fn call(tool: &str, arguments: &str, hint: McpHint) -> GateAction {
        GateAction::Mcp { server: "fx".into(), tool: tool.into(), arguments: arguments.into(), hint }
    }

    #[test]
    fn risk_follows_the_hint_and_secrets_raise_it() {
        let risk = |hint| assess(&call("t", "{}", hint), Path::new("/w")).risk;
        assert_eq!(risk(McpHint::ReadOnly), Risk::Low);
        assert_eq!(risk(McpHint::Additive), Risk::Medium);
        assert_eq!(risk(McpHint::Undeclared), Risk::Medium);
        assert_eq!(risk(McpHint::Destructive), Risk::High);
        assert_eq!(risk(McpHint::Set(Risk::Critical)), Risk::Critical);
        let key = r#"{"token": "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789"}"#;
        let a = assess(&call("t", key, McpHint::ReadOnly), Path::new("/w"));
        assert!(a.risk >= Risk::High, "{a:?}");
        assert!(a.reasons.iter().all(|r| !r.contains("abcdefghij")), "never echoed: {a:?}");
    }

    #[test]
    fn read_only_calls_run_under_every_policy_and_grants_cover_one_tool() {
        let read = call("lookup", "{}", McpHint::ReadOnly);
        let low = assess(&read, Path::new("/w"));
        for policy in Policy::ALL {
            assert!(
                matches!(decide(policy, &read, &low, &Grants::default()), Verdict::Allow { .. }),
                "{policy:?}"
            );
        }
        let erase = call("erase", "{}", McpHint::Destructive);
        let high = assess(&erase, Path::new("/w"));
        assert_eq!(decide(Policy::Auto, &erase, &high, &Grants::default()), Verdict::Ask);
        assert!(matches!(decide(Policy::ReadOnly, &erase, &high, &Grants::default()), Verdict::Deny { .. }));
        let grant = grant_for(&erase).unwrap();
        assert_eq!(grant.description, "calls of fx__erase for this session");
        assert!(grant.covers(&call("erase", "{\"x\": 1}", McpHint::Destructive)));
        assert!(!grant.covers(&call("note", "{}", McpHint::Undeclared)));
    }
}
