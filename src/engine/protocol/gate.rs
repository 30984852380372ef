//! The gate's vocabulary as the UI sees it: what is asked ([`GateAction`] made of
//! [`FileChange`]s, commands, commits or other git steps ([`GitAction`])), how risky it is
//! ([`Risk`]), and the user's standing choice ([`Policy`]). The assessment itself is
//! `engine::approval`.
//!
//! Invariant: a git step kv1nt takes itself is never dressed up as a shell command — it is a
//! [`GateAction::Commit`] (which carries the diff and message to assess) or a
//! [`GateAction::Git`], so its risk rules and its grants are its own.

use serde::{Deserialize, Serialize};

/// How much could go wrong. Ordered: `Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Low,
    Medium,
    High,
    Critical,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
            Risk::Critical => "critical",
        }
    }

    /// One level up (critical stays critical).
    pub fn raised(self) -> Risk {
        match self {
            Risk::Low => Risk::Medium,
            Risk::Medium => Risk::High,
            Risk::High | Risk::Critical => Risk::Critical,
        }
    }
}

impl std::fmt::Display for Risk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file's change: its content before (None = did not exist) and after (None = deleted).
/// `path` is relative to the workspace root, with `/` separators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl FileChange {
    /// The change of raw contents as the dialog and the Diff pane show it: UTF-8 text as it is,
    /// anything else as one line naming its size (the bytes themselves are what gets written).
    pub fn from_bytes(path: &str, before: Option<&[u8]>, after: Option<&[u8]>) -> FileChange {
        let shown = |bytes: &[u8]| match std::str::from_utf8(bytes) {
            Ok(text) => text.to_string(),
            Err(_) => format!("(binary content, {} bytes)\n", bytes.len()),
        };
        FileChange { path: path.to_string(), before: before.map(shown), after: after.map(shown) }
    }
}

/// Something that mutates the workspace or the world and so must pass the gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum GateAction {
    /// Edits, new files, rewrites or deletions (all applied together or not at all).
    Edit { changes: Vec<FileChange> },
    /// A shell command (the sandbox issue runs it).
    Command { command: String, cwd: String },
    /// A commit (plain or of a merge): the message and the staged diff it records.
    Commit { message: String, diff: String },
    /// Any other git step kv1nt takes itself (`/branch`, `/uncommit`, `/pr`, a hook).
    Git {
        op: GitAction,
        /// What it acts on: a branch, a commit, "owner/repo head → base", a hook's name.
        target: String,
        /// Shown in full below the reasons: a pull request's body, a hook's content.
        detail: String,
        /// Forced (`-f`, `--force`): discards or overwrites what the plain step keeps.
        force: bool,
    },
    /// A tool of an MCP server, offered to the model as `SERVER__TOOL`.
    Mcp {
        server: String,
        tool: String,
        /// The call's arguments as pretty JSON (shown in full, and all the server receives).
        arguments: String,
        /// What the tool declares about itself, or the risk the user set for it.
        hint: McpHint,
    },
}

/// Where an MCP tool's risk comes from: its annotations (believed only for a server whose
/// `trust_annotations` is on) or the user's `tools.<tool>.risk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum McpHint {
    /// `readOnlyHint: true`.
    ReadOnly,
    /// `destructiveHint: false`: it changes things, only by adding.
    Additive,
    /// `destructiveHint: true` (or left at its default with `readOnlyHint: false`).
    Destructive,
    /// No annotations, or annotations of a server not trusted for them.
    Undeclared,
    /// The user's configured risk for this tool.
    Set(Risk),
}

/// The git steps other than a commit, each with its own risk rules and grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GitAction {
    /// Create a branch and switch the working tree to it.
    Branch,
    /// Merge another branch into the current one.
    Merge,
    /// Move the branch back past kv1nt's last commit, keeping its changes staged.
    Uncommit,
    /// Open a pull request on the remote's host (leaves the machine).
    PullRequest,
    /// Push to a remote (leaves the machine).
    Push,
    /// Run a repository hook that was created or changed during this session.
    Hook,
}

impl GitAction {
    /// Its name in the audit log and the dialog: "branch", "pull-request", "hook"…
    pub fn as_str(self) -> &'static str {
        match self {
            GitAction::Branch => "branch",
            GitAction::Merge => "merge",
            GitAction::Uncommit => "uncommit",
            GitAction::PullRequest => "pull-request",
            GitAction::Push => "push",
            GitAction::Hook => "hook",
        }
    }
}

impl GateAction {
    /// Short name for the audit log: "edit", "command", "commit", "mcp", or a [`GitAction`]'s
    /// name.
    pub fn kind(&self) -> &'static str {
        match self {
            GateAction::Edit { .. } => "edit",
            GateAction::Command { .. } => "command",
            GateAction::Commit { .. } => "commit",
            GateAction::Git { op, .. } => op.as_str(),
            GateAction::Mcp { .. } => "mcp",
        }
    }

    /// What it touches, for the audit log and the modal title ("src/a.rs, src/b.rs").
    pub fn target(&self) -> String {
        match self {
            GateAction::Edit { changes } => {
                changes.iter().map(|c| c.path.as_str()).collect::<Vec<_>>().join(", ")
            }
            GateAction::Command { command, .. } => command.clone(),
            GateAction::Commit { message, .. } => message.lines().next().unwrap_or_default().to_string(),
            GateAction::Git { target, .. } => target.clone(),
            GateAction::Mcp { server, tool, .. } => format!("{server}__{tool}"),
        }
    }
}

/// The user's standing choice of how much runs without asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// Nothing mutates.
    ReadOnly,
    /// Nothing mutates; the model reads, searches and ends with a plan (`propose_plan`) the user
    /// approves — switching to the policy they choose — edits or rejects.
    Plan,
    /// Every mutation asks.
    Ask,
    /// Edits up to medium risk run without asking.
    AutoEdit,
    /// Only high and critical ask.
    Auto,
}

impl Policy {
    pub const ALL: [Policy; 5] =
        [Policy::ReadOnly, Policy::Plan, Policy::Ask, Policy::AutoEdit, Policy::Auto];

    pub fn as_str(self) -> &'static str {
        match self {
            Policy::ReadOnly => "read-only",
            Policy::Plan => "plan",
            Policy::Ask => "ask",
            Policy::AutoEdit => "auto-edit",
            Policy::Auto => "auto",
        }
    }

    pub fn parse(name: &str) -> Option<Policy> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// Whether nothing may change under it (`read-only`, `plan`): mutating tools are not
    /// offered and the gate refuses every change.
    pub fn changes_nothing(self) -> bool {
        matches!(self, Policy::ReadOnly | Policy::Plan)
    }

    /// The next policy in the Shift+Tab cycle.
    pub fn next(self) -> Policy {
        let i = Self::ALL.iter().position(|p| *p == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }
}
