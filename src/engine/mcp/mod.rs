//! MCP (Model Context Protocol) client: the `[mcp.servers.NAME]` settings ([`settings`]), one
//! stdio server process ([`server`]: environment, handshake, results cut to size), the tools
//! as the model sees them ([`tools`]: `NAME__tool` specs, risk hints) and the
//! engine's set of servers ([`manager`]: background start, `NAME__tool` specs, calls with a
//! time limit, restarts with backoff). The protocol itself is rmcp's (the official Rust SDK).
//!
//! The gate, injection screening and the chat are the engine's (`agent/mcp_tools.rs`); this
//! module never sees `Engine`. A repository's `[mcp]` keys are held back until the repository
//! is trusted (`config/trust.rs`: they are not on the allow-list).

pub mod manager;
pub mod server;
pub mod settings;
pub mod tools;

pub use manager::McpManager;
pub use settings::{McpSettings, ServerSettings, ToolSettings};
pub use tools::McpTool;
