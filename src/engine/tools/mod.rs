//! The model's file tools: read, list, search, propose edits, apply them.
//!
//! Invariants shared by every tool:
//! - Every path the model gives goes through [`Workspace::resolve`] first; nothing touches a path
//!   outside the canonical workspace root, and nothing writes inside a `.git/` directory.
//! - Nothing here writes to disk except [`apply`]: `propose_*` only build a [`Proposal`] for the
//!   approval gate.
//! - The [`ReadLedger`] holds the sha256 of each file as the model last saw it; a proposal for a
//!   file that changed on disk since is refused with [`ToolError::Stale`], and [`apply`] re-checks
//!   the hash right before writing.
//! - Every error is a sentence a model can act on: it names the path and says what to do next,
//!   because it is sent back to the model as the tool result.
//! - No terminal code: this module never imports ratatui or crossterm.

mod apply;
mod args;
mod edit;
mod graph_specs;
mod plan_specs;
mod read;
pub mod restore;
mod search;
mod specs;
mod workspace;

use std::collections::HashMap;

use crate::engine::store::sha256_hex;

pub use apply::apply;
pub use edit::{EditArgs, Proposal, SearchReplace, WriteArgs, propose_edit, propose_write};
pub use graph_specs::{GRAPH_TOOL_NAMES, GraphQuery, graph_specs};
pub use plan_specs::PlanArgs;
pub use read::{ReadArgs, read_file};
pub use search::{GrepArgs, ListArgs, grep, list_dir};
pub use specs::{RunArgs, RunTarget, TOOL_NAMES, ToolInput, parse_call, tool_specs};
pub use workspace::Workspace;

/// Most lines one `read_file` call returns.
pub const MAX_READ_LINES: usize = 2_000;
/// Most bytes of file text one `read_file` call returns.
pub const MAX_READ_BYTES: usize = 256 * 1024;
/// Files larger than this are read only with a line range, and are never edited or grepped.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
/// How many leading bytes are checked for a NUL byte to call a file binary.
pub const BINARY_SNIFF_BYTES: usize = 8 * 1024;
/// Default and maximum depth of `list_dir`.
pub const DEFAULT_LIST_DEPTH: usize = 2;
pub const MAX_LIST_DEPTH: usize = 20;
/// Most entries `list_dir` shows.
pub const MAX_LIST_ENTRIES: usize = 1_000;
/// Default and maximum number of `grep` matches.
pub const DEFAULT_GREP_RESULTS: usize = 200;
pub const MAX_GREP_RESULTS: usize = 2_000;
/// `grep` cuts matching lines to this many characters.
pub const GREP_LINE_CHARS: usize = 300;

/// A tool failure. The message is complete and addressed to the model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ToolError {
    /// Bad arguments, or a request that is refused (path outside the workspace, `.git/` write…).
    #[error("{0}")]
    Invalid(String),
    /// The path does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The filesystem failed.
    #[error("{0}")]
    Io(String),
    /// The file changed on disk since the model read it (or since the change was proposed).
    #[error("{0}")]
    Stale(String),
}

impl ToolError {
    /// An I/O failure on `rel` while doing `what` ("reading", "writing"…).
    pub(crate) fn io(what: &str, rel: &str, err: &std::io::Error) -> ToolError {
        ToolError::Io(format!("error {what} `{rel}`: {err}"))
    }
}

/// Remembers the content hash (sha256 hex) of each file as the model last saw it, keyed by
/// workspace-relative path, so a write to a file that changed on disk since is refused.
#[derive(Default, Clone, Debug)]
pub struct ReadLedger {
    seen: HashMap<String, String>,
}

impl ReadLedger {
    /// The model has now seen `content` as the whole of `rel_path`.
    pub fn record(&mut self, rel_path: &str, content: &[u8]) {
        self.record_hash(rel_path, sha256_hex(content));
    }

    /// Like [`record`](Self::record) with the hash already computed (e.g. streaming).
    pub fn record_hash(&mut self, rel_path: &str, sha256_hex: String) {
        self.seen.insert(rel_path.to_string(), sha256_hex);
    }

    /// The hash of `rel_path` as last seen, if it was.
    pub fn seen(&self, rel_path: &str) -> Option<&str> {
        self.seen.get(rel_path).map(String::as_str)
    }

    /// Drop what is known about `rel_path` (it was deleted).
    pub fn forget(&mut self, rel_path: &str) {
        self.seen.remove(rel_path);
    }
}
