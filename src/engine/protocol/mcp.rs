//! What `/mcp` and `kv1nt mcp list` show of each MCP server (its state, tools, prompts,
//! resources, recent errors) and the activity the status bar and `kv1nt exec --json` follow
//! ([`McpActivity`]). Plain data; the engine's `mcp` module fills it in.

use super::Op;

/// A slash word `SERVER:PROMPT`, split, when it has that shape.
pub fn split_command(word: &str) -> Option<(&str, &str)> {
    let (server, prompt) = word.split_once(':')?;
    let ok = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
    (ok(server) && ok(prompt)).then_some((server, prompt))
}

/// `/SERVER:PROMPT key=value …` as the op that runs it, when `is_server(SERVER)` (a configured
/// or held-back MCP server; other `/a:b` words are not this module's).
pub fn slash_op(text: &str, is_server: &dyn Fn(&str) -> bool) -> Option<Op> {
    let rest = text.trim().strip_prefix('/')?;
    let (word, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let (server, prompt) = split_command(word)?;
    is_server(server).then(|| Op::McpPrompt {
        server: server.to_string(),
        prompt: prompt.to_string(),
        args: args.trim().to_string(),
    })
}

/// One configured MCP server as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpServerReport {
    pub name: String,
    /// "ready", "starting", "restarting (attempt 2, in 4 s)", "failed: …", "held back: …".
    pub state: String,
    /// How it is reached: the command line, or `HTTP <url>` (never a header value).
    pub transport: String,
    /// The tools offered to the model, as it calls them (`NAME__tool`), with their risk source.
    pub tools: Vec<String>,
    /// Its prompts as slash commands: `/NAME:prompt arg=… [opt=…]`.
    pub prompts: Vec<String>,
    /// Its resources: `uri (name)`.
    pub resources: Vec<String>,
    /// Recent errors and stderr lines, oldest first.
    pub errors: Vec<String>,
    pub restarts: u32,
}

impl McpServerReport {
    /// The lines `/mcp` and `kv1nt mcp test` print for this server.
    pub fn lines(&self) -> Vec<String> {
        let restarts = match self.restarts {
            0 => String::new(),
            1 => ", restarted once".into(),
            n => format!(", restarted {n} times"),
        };
        let mut head = format!("{}: {}{restarts}, {} tools", self.name, self.state, self.tools.len());
        if !self.prompts.is_empty() {
            head.push_str(&format!(", {} prompts", self.prompts.len()));
        }
        if !self.resources.is_empty() {
            head.push_str(&format!(", {} resources", self.resources.len()));
        }
        let mut out = vec![head];
        if !self.transport.is_empty() {
            out.push(format!("  via {}", self.transport));
        }
        out.extend(self.tools.iter().map(|t| format!("  {t}")));
        out.extend(self.prompts.iter().map(|p| format!("  prompt {p}")));
        out.extend(self.resources.iter().map(|r| format!("  resource {r}")));
        out.extend(self.errors.iter().map(|e| format!("  ! {e}")));
        out
    }
}

/// Something that happened to an MCP server, with the count of servers up after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpActivity {
    pub server: String,
    /// "ready", "failed: …", "restarting: …", "called TOOL", "prompt PROMPT".
    pub what: String,
    /// Servers ready now, of `total` (enabled, not held back).
    pub up: usize,
    pub total: usize,
}
