//! What `/mcp` and `kv1nt mcp list` show of each MCP server: its state, its tools, its recent
//! errors. Plain data; the engine's `mcp` module fills it in.

/// One configured MCP server as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpServerReport {
    pub name: String,
    /// "ready", "starting", "restarting (attempt 2, in 4 s)", "failed: …", "disabled".
    pub state: String,
    /// The tools offered to the model, as it calls them (`NAME__tool`), with their risk source.
    pub tools: Vec<String>,
    /// Recent errors and stderr lines, oldest first.
    pub errors: Vec<String>,
    pub restarts: u32,
}

impl McpServerReport {
    /// The lines `/mcp` and `kv1nt mcp list` print for this server.
    pub fn lines(&self) -> Vec<String> {
        let restarts = match self.restarts {
            0 => String::new(),
            1 => ", restarted once".into(),
            n => format!(", restarted {n} times"),
        };
        let mut out = vec![format!("{}: {}{restarts}, {} tools", self.name, self.state, self.tools.len())];
        out.extend(self.tools.iter().map(|t| format!("  {t}")));
        out.extend(self.errors.iter().map(|e| format!("  ! {e}")));
        out
    }
}
