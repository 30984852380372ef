//! MCP (Model Context Protocol) client: the `[mcp.servers.NAME]` settings ([`settings`]), the
//! repository's `.mcp.json` ([`project`]), one stdio server process ([`server`]: environment,
//! handshake, listing, results cut to size) or one streamable HTTP server ([`http`]: kv1nt's
//! reqwest client, headers from the environment), the tools as the model sees them ([`tools`]:
//! `NAME__tool` specs, risk hints), prompts as slash commands ([`prompts`]: `/NAME:prompt`),
//! each server's lifetime ([`lifetime`]: start, wait, restart with backoff) and the engine's set
//! of servers ([`manager`]: calls with a time limit, `/mcp`'s report). The protocol is rmcp's.
//!
//! The gate, injection screening and the chat are the engine's (`agent/mcp_tools.rs`); this
//! module never sees `Engine`. A repository's `[mcp]` keys and `.mcp.json` servers are held
//! back until the repository is trusted (`config/trust.rs`: they are not on the allow-list).

pub mod http;
mod lifetime;
pub mod manager;
pub mod project;
pub mod prompts;
pub mod server;
pub mod settings;
pub mod tools;

pub use manager::McpManager;
pub use settings::{McpSettings, ServerSettings, ToolSettings};
pub use tools::McpTool;
