//! Git as the engine offers it to the UI: the Git view's background jobs (`jobs.rs`: status,
//! file diffs, staging — ordered, off the UI thread, stale answers dropped by sequence number),
//! and the flows that pass the approval gate (`flow.rs`: commit, branch, merge with assisted
//! conflict resolution, uncommit, pull request). The git work itself is `engine::vcs`.

mod flow;
mod jobs;

use super::vcs::{FileDiff, FileStatus, Hunk};

pub(in crate::engine) use jobs::GitWorker;

/// What the UI asks of git. Jobs answer with [`GitSnapshot`] / file diffs; flows run in the
/// engine (they may ask for approval) and are queued while a turn runs.
#[derive(Debug, Clone, PartialEq)]
pub enum GitOp {
    /// Status of the working tree (answers `Event::GitStatus`).
    Refresh { seq: u64 },
    /// One file's diff, unstaged (worktree vs index) or staged (index vs HEAD).
    ShowFile { seq: u64, path: String, staged: bool },
    /// `/diff`: the whole change, staged and unstaged (answers `Event::GitWholeDiff`).
    ShowAll { seq: u64 },
    /// Stage (`unstage = false`) or unstage part of a file, then answer status and its diff.
    Stage { seq: u64, path: String, part: GitPart, unstage: bool },
    /// `/commit`: propose a commit of what is staged (message by the model), ask, commit.
    Commit,
    /// `/branch NAME`: create `<prefix>NAME` from the base branch and switch to it.
    Branch { name: String },
    /// `/merge BRANCH` into the current branch, resolving conflicts through approvals.
    Merge { branch: String },
    /// `/uncommit`: undo kv1nt's last commit (soft), after approval.
    Uncommit,
    /// `/pr`: open a pull request for the current branch (GitHub, with `GITHUB_TOKEN`).
    PullRequest,
}

impl GitOp {
    /// Jobs run in the background at once; flows go through the engine's op queue.
    pub fn is_job(&self) -> bool {
        matches!(
            self,
            GitOp::Refresh { .. } | GitOp::ShowFile { .. } | GitOp::ShowAll { .. } | GitOp::Stage { .. }
        )
    }
}

/// Which part of a file's diff to stage or unstage.
#[derive(Debug, Clone, PartialEq)]
pub enum GitPart {
    File,
    Hunk(Hunk),
    /// Positions in `hunk.lines` of the added/removed lines to take.
    Lines(Hunk, Vec<usize>),
}

/// The working tree as the Git view shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct GitSnapshot {
    pub seq: u64,
    /// "main", "detached at 1a2b3c4", "main (no commits yet)"; empty when `error` is set.
    pub head: String,
    /// "merge in progress", "rebase in progress"…; None when clean.
    pub state: Option<String>,
    pub files: Vec<FileStatus>,
    /// Why there is no status (not a repository, …).
    pub error: Option<String>,
}

/// One file's diff for the Git view; `diff` is None when that side has no change.
#[derive(Debug, Clone, PartialEq)]
pub struct GitFileDiff {
    pub seq: u64,
    pub path: String,
    pub staged: bool,
    pub diff: Option<FileDiff>,
}
