//! The git engine: status, structured diffs, staging by file, hunk or line, branches, commits
//! (with the repository's hooks, and signing through the user's `git`), undoing kv1nt's own
//! last commit, and merges with conflict resolution and an exact abort. Built on libgit2
//! (`git2`); the repository operations are local only: nothing here fetches or pushes.
//!
//! Every repository function blocks (the caller runs it on a blocking thread) and returns a
//! [`VcsError`] whose message a user can act on; none panics on bad input. The model-assisted
//! parts are async and take no [`Repo`]: [`message`] (commit messages), [`mod@resolve`] (proposed
//! conflict resolutions) and [`github`] (pull requests through the GitHub REST API; its
//! [`github_target`] is a blocking repository read). `[git]` settings live in [`settings`].
//!
//! Invariants:
//! - Nothing is ever forced: a checkout that would overwrite local changes is refused with the
//!   files listed, and no operation discards work it did not create (only [`merge::abort_merge`]
//!   resets, and only a merge kv1nt started from a clean tree).
//! - Mutating operations refuse while a rebase, cherry-pick, revert, bisect or `git am` is in
//!   progress ([`Repo::ensure_idle`]); during a merge only staging, resolving, committing the
//!   merge and aborting it are allowed.
//! - Paths are repository-relative with `/` separators, exactly as git stores them (decoded as
//!   UTF-8; non-UTF-8 bytes, which git allows, are replaced and the path is then read-only).
//! - Index writes made from content (hunks, lines) carry no stat data, so git re-reads the file
//!   instead of trusting a stale timestamp.

pub mod assist;
pub mod branch;
pub mod commit;
pub mod diff;
pub mod hooks;
pub mod merge;
mod proposal;
pub mod repo;
pub mod settings;
pub mod stage;
pub mod status;
mod worker;

use std::path::PathBuf;

pub use branch::{BranchInfo, CommitInfo, branches, create_branch, log, log_since, switch_branch};
pub use commit::{
    CommitOptions, CommitOutcome, CommitProposal, MessageSource, commit, prepare_commit, summarize_diff,
    uncommit,
};
pub use diff::{
    DiffLine, DiffStat, FileDiff, FileDiffStat, Hunk, LineOrigin, between, diffstat, render_unified, staged,
    unstaged,
};
pub use merge::{Conflict, MergeOutcome, abort_merge, conflicts, merge, merge_commit, resolve_file};
pub use repo::{HeadInfo, Repo, RepoState};
pub use settings::{GitSettings, MessageStyle};
pub use stage::{stage_hunk, stage_lines, stage_paths, unstage_hunk, unstage_lines, unstage_paths};
pub use status::{Change, FileStatus, status};
pub use worker::GitWorker;

/// Everything that can go wrong, worded for the user.
#[derive(Debug, thiserror::Error)]
pub enum VcsError {
    #[error("not a git repository: {}", .0.display())]
    NotARepo(PathBuf),
    #[error("bare repositories are not supported: {}", .0.display())]
    Bare(PathBuf),
    #[error("the repository is in the middle of {}", busy_hint(*.0))]
    Busy(RepoState),
    #[error("a merge is in progress; resolve the conflicts and commit the merge, or abort it first")]
    MergeInProgress,
    #[error("no merge is in progress")]
    NoMerge,
    #[error("nothing is staged to commit")]
    NothingStaged,
    #[error("the commit message is empty")]
    EmptyMessage,
    #[error(
        "git does not know who you are: set your name and email with \
         `git config --global user.name \"Your Name\"` and `git config --global user.email you@example.com`"
    )]
    NoIdentity,
    #[error("`{0}` is not a valid branch name")]
    InvalidBranchName(String),
    #[error("a branch named `{0}` already exists")]
    BranchExists(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the repository has no commits yet")]
    NoCommits,
    #[error(
        "switching to `{branch}` would overwrite local changes to: {}; commit or stash them first",
        .paths.join(", ")
    )]
    WouldOverwrite { branch: String, paths: Vec<String> },
    #[error(
        "{action} needs a clean working tree; commit or stash the changes to: {}",
        .paths.join(", ")
    )]
    Dirty { action: &'static str, paths: Vec<String> },
    #[error("unresolved conflicts remain in: {}", .0.join(", "))]
    Unresolved(Vec<String>),
    #[error("{path}: {reason}")]
    CannotStage { path: String, reason: String },
    #[error("the diff of {0} changed since it was shown; refresh it and choose again")]
    StaleHunk(String),
    #[error("{} hook failed ({}):\n{output}", .hook, exit_text(*.status))]
    HookFailed { hook: String, status: Option<i32>, output: String },
    #[error(
        "the {hook} hook was created or changed during this session and not approved; read {path} \
         and remove it, or approve it when asked"
    )]
    HookNotApproved { hook: String, path: String },
    #[error("commit.gpgsign is set but kv1nt cannot sign: {0}")]
    CannotSign(String),
    #[error("{0}")]
    Refused(String),
    #[error("cannot undo the commit: {0}")]
    Uncommit(String),
    #[error("git: {}", .0.message())]
    Git(#[from] git2::Error),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The blocking thread running a git operation panicked or was cancelled.
    #[error("the git job failed: {0}")]
    JobFailed(String),
}

/// Result of every operation in this module.
pub type Result<T, E = VcsError> = std::result::Result<T, E>;

fn busy_hint(state: RepoState) -> String {
    let (what, cmd) = match state {
        RepoState::Rebase => ("a rebase", "rebase"),
        RepoState::CherryPick => ("a cherry-pick", "cherry-pick"),
        RepoState::Revert => ("a revert", "revert"),
        RepoState::ApplyMailbox => ("`git am`", "am"),
        RepoState::Bisect => {
            return "a bisect; finish it first (git bisect reset)".to_string();
        }
        RepoState::Merge => return "a merge; commit or abort it first (git merge --abort)".to_string(),
        RepoState::Clean => return "nothing".to_string(),
    };
    format!("{what}; finish or abort it first (git {cmd} --continue / --abort)")
}

fn exit_text(status: Option<i32>) -> String {
    status.map_or_else(|| "killed by a signal".to_string(), |c| format!("exit status {c}"))
}

/// Bytes of a git path → `String` (exact for UTF-8, which is every path git writes on Linux
/// unless the file name itself is not UTF-8).
pub(crate) fn path_string(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
