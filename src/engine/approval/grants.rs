//! Session grants: "approve for this session", with the scope written out exactly.
//!
//! Invariants:
//! - [`grant_for`] offers the narrowest sensible scope: one top-level file, else the deepest
//!   directory holding every changed file (the whole workspace only when the files span the
//!   root), or a command prefix of the program and its subcommand. Commits get no grant; of the
//!   other git steps only a plain (unforced) branch or merge gets one, for that step alone; an
//!   MCP tool call gets one for that server's tool, whatever the arguments.
//! - A grant covers only its own kind: a branch grant covers no command (`git switch -f x` run
//!   by the model still asks) and a command grant no git step.
//! - Paths are compared after [`normalize_path`] on `/`-separated, workspace-relative paths; a
//!   directory scope ends with `/`, so `src/engine/` never covers `src/engineering/a.rs`. Paths
//!   that are absolute or climb out of the workspace are never granted or covered.
//! - A command grant never covers a command with shell syntax (`;`, `&`, `|`, `$`, redirects,
//!   backticks, newlines…): `cargo test; rm -rf ~` does not start with `cargo test` here.
//! - Every file of an edit must lie inside one single grant for that grant to cover the edit.
//! - Grants only ever widen what runs without asking up to high risk; critical actions ask
//!   regardless (see `policy.rs`).

use serde::{Deserialize, Serialize};

use super::types::{GateAction, GitAction};

/// One standing approval for the rest of the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub kind: GrantKind,
    /// Exactly what it allows, e.g. "edits under src/engine/llm/ for this session".
    pub description: String,
}

/// The scope of a [`Grant`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GrantKind {
    /// Edits of files under `dir`: workspace-relative, `""` = the whole workspace, otherwise
    /// ending with `/`.
    EditsUnder { dir: String },
    /// Edits of exactly this workspace-relative file.
    EditsOf { path: String },
    /// Commands whose words start with the words of `prefix`, e.g. "cargo test".
    CommandPrefix { prefix: String },
    /// Unforced git steps of this kind kv1nt takes itself (`/branch`, the model's
    /// `create_branch`); never a shell command.
    Git { op: GitAction },
    /// Calls of one MCP server's tool (any arguments).
    McpTool { server: String, tool: String },
}

/// Programs whose second word is a subcommand worth keeping in a command grant.
const SUBCOMMAND_TOOLS: &[&str] = &[
    "cargo",
    "git",
    "npm",
    "pnpm",
    "yarn",
    "bun",
    "npx",
    "go",
    "make",
    "docker",
    "kubectl",
    "pip",
    "pip3",
    "poetry",
    "uv",
    "bundle",
    "dotnet",
    "mvn",
    "gradle",
    "./gradlew",
    "deno",
    "rustup",
    "mix",
    "just",
];
/// Test runners and linters granted by program name alone.
const RUNNERS: &[&str] = &[
    "pytest", "jest", "vitest", "tox", "nox", "ruff", "mypy", "black", "eslint", "prettier", "tsc", "rspec",
    "ctest", "phpunit",
];

impl Grant {
    /// A grant of `kind` with its exact description.
    pub fn new(kind: GrantKind) -> Grant {
        let description = match &kind {
            GrantKind::EditsUnder { dir } if dir.is_empty() => {
                "edits anywhere in the workspace for this session".to_string()
            }
            GrantKind::EditsUnder { dir } => format!("edits under {dir} for this session"),
            GrantKind::EditsOf { path } => format!("edits of {path} for this session"),
            GrantKind::CommandPrefix { prefix } => {
                format!("commands starting with `{prefix}` for this session")
            }
            GrantKind::Git { op } => {
                format!("kv1nt's own {} steps (not forced) for this session", op.as_str())
            }
            GrantKind::McpTool { server, tool } => format!("calls of {server}__{tool} for this session"),
        };
        Grant { kind, description }
    }

    /// Whether this grant alone covers `action`.
    pub fn covers(&self, action: &GateAction) -> bool {
        match (&self.kind, action) {
            (GrantKind::EditsUnder { dir }, GateAction::Edit { changes }) => {
                let dir = if dir.is_empty() {
                    String::new()
                } else {
                    match normalize_path(dir) {
                        Some(d) if !d.is_empty() => format!("{d}/"),
                        _ => return false,
                    }
                };
                !changes.is_empty()
                    && changes.iter().all(|c| normalize_path(&c.path).is_some_and(|p| p.starts_with(&dir)))
            }
            (GrantKind::EditsOf { path }, GateAction::Edit { changes }) => {
                let Some(granted) = normalize_path(path) else { return false };
                !changes.is_empty()
                    && changes.iter().all(|c| normalize_path(&c.path) == Some(granted.clone()))
            }
            (GrantKind::CommandPrefix { prefix }, GateAction::Command { command, .. }) => {
                let want: Vec<&str> = prefix.split_whitespace().collect();
                let have: Vec<&str> = command.split_whitespace().collect();
                !want.is_empty() && !has_shell_syntax(command) && have.starts_with(&want)
            }
            (GrantKind::Git { op }, GateAction::Git { op: asked, force, .. }) => op == asked && !force,
            (GrantKind::McpTool { server, tool }, GateAction::Mcp { server: s, tool: t, .. }) => {
                server == s && tool == t
            }
            _ => false,
        }
    }
}

/// The narrowest sensible grant for `action` (see the module docs); None for commits, git steps
/// other than a plain branch or merge, empty edits, paths outside the workspace and commands
/// with shell syntax.
pub fn grant_for(action: &GateAction) -> Option<Grant> {
    match action {
        GateAction::Edit { changes } => {
            let paths: Vec<String> =
                changes.iter().map(|c| normalize_path(&c.path)).collect::<Option<_>>()?;
            let first = paths.first()?;
            if first.is_empty() {
                return None;
            }
            if !first.contains('/') && paths.iter().all(|p| p == first) {
                return Some(Grant::new(GrantKind::EditsOf { path: first.clone() }));
            }
            let dir = paths.iter().map(|p| parent_dir(p)).reduce(|a, b| common_dir(&a, &b))?;
            Some(Grant::new(GrantKind::EditsUnder { dir }))
        }
        GateAction::Command { command, .. } => {
            if has_shell_syntax(command) {
                return None;
            }
            let words: Vec<&str> = command.split_whitespace().collect();
            let first = *words.first()?;
            let keep = if SUBCOMMAND_TOOLS.contains(&first) {
                match words.get(1) {
                    Some(sub) if is_subcommand(sub) => {
                        let runs_script = matches!(first, "npm" | "pnpm" | "yarn" | "bun") && *sub == "run";
                        if runs_script && words.get(2).is_some_and(|s| is_subcommand(s)) { 3 } else { 2 }
                    }
                    _ if words.len() == 1 => 1,
                    _ => words.len(),
                }
            } else if RUNNERS.contains(&first) {
                1
            } else if first.starts_with("python") && words.get(1) == Some(&"-m") && words.len() >= 3 {
                3
            } else {
                words.len()
            };
            Some(Grant::new(GrantKind::CommandPrefix { prefix: words[..keep].join(" ") }))
        }
        GateAction::Commit { .. } => None,
        GateAction::Git { op: op @ (GitAction::Branch | GitAction::Merge), force: false, .. } => {
            Some(Grant::new(GrantKind::Git { op: *op }))
        }
        GateAction::Git { .. } => None,
        GateAction::Mcp { server, tool, .. } => {
            Some(Grant::new(GrantKind::McpTool { server: server.clone(), tool: tool.clone() }))
        }
    }
}

/// The session's grants, in the order they were given.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    grants: Vec<Grant>,
}

impl Grants {
    /// Adds `g` (a grant already present is not added twice).
    pub fn add(&mut self, g: Grant) {
        if !self.grants.contains(&g) {
            self.grants.push(g);
        }
    }

    /// The first grant that alone covers `action`.
    pub fn covers(&self, action: &GateAction) -> Option<&Grant> {
        self.grants.iter().find(|g| g.covers(action))
    }

    pub fn list(&self) -> &[Grant] {
        &self.grants
    }

    /// Forgets every grant.
    pub fn clear(&mut self) {
        self.grants.clear();
    }
}

/// Normalises a workspace-relative path: `\` becomes `/`, empty and `.` segments go, `..`
/// climbs. None when the path is absolute (or has a drive letter) or climbs out of the
/// workspace. `""` is the workspace root.
pub fn normalize_path(path: &str) -> Option<String> {
    let path = path.replace('\\', "/");
    if path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for (i, seg) in path.split('/').enumerate() {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s if i == 0 && s.len() == 2 && s.ends_with(':') => return None,
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// True when `command` uses shell syntax beyond plain words and quotes.
fn has_shell_syntax(command: &str) -> bool {
    command.contains(['\n', '\r', ';', '&', '|', '`', '$', '>', '<', '(', ')', '{', '}'])
}

fn is_subcommand(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_alphabetic())
        && word.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':'))
}

/// "src/a/b.rs" → "src/a/", "Cargo.toml" → "".
fn parent_dir(path: &str) -> String {
    path.rsplit_once('/').map(|(dir, _)| format!("{dir}/")).unwrap_or_default()
}

/// The deepest directory containing both directories (each "" or ending with '/').
fn common_dir(a: &str, b: &str) -> String {
    a.split_inclusive('/').zip(b.split_inclusive('/')).take_while(|(x, y)| x == y).map(|(x, _)| x).collect()
}
