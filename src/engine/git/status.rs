//! Working-tree status: for every changed path, what changed in the index (staged) and in the
//! working tree (unstaged), like `git status --porcelain`.
//!
//! Invariants:
//! - Untracked files are listed one by one (untracked directories are recursed into); ignored
//!   files are not listed.
//! - Submodules appear as single entries (`submodule: true`) and are never recursed into.
//! - Renames are detected between HEAD and the index (as `git status` does); `old_path` is the
//!   name in HEAD. Entries are sorted by path, byte-wise, like git.

use git2::{Delta, FileMode, Status, StatusOptions};

use super::repo::Repo;
use super::{Result, path_string};

/// Status crosses to the UI (Git view), so its types are defined in the protocol.
pub use crate::engine::protocol::git::{Change, FileStatus};

/// Every changed, untracked or conflicted path in the repository.
pub fn status(repo: &Repo) -> Result<Vec<FileStatus>> {
    let mut opts = StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .exclude_submodules(false)
        .renames_head_to_index(true)
        .sort_case_sensitively(true);
    repo.index()?;
    let statuses = repo.git().statuses(Some(&mut opts))?;
    let mut out = Vec::with_capacity(statuses.len());
    for entry in statuses.iter() {
        let s = entry.status();
        let mut submodule = false;
        let mut old_path = None;
        for delta in [entry.head_to_index(), entry.index_to_workdir()].into_iter().flatten() {
            submodule |=
                delta.old_file().mode() == FileMode::Commit || delta.new_file().mode() == FileMode::Commit;
        }
        if let Some(delta) = entry.head_to_index()
            && delta.status() == Delta::Renamed
        {
            old_path = delta.old_file().path_bytes().map(path_string);
        }
        let path = match entry.head_to_index().or_else(|| entry.index_to_workdir()) {
            Some(delta) => {
                delta.new_file().path_bytes().map_or_else(|| path_string(entry.path_bytes()), path_string)
            }
            None => path_string(entry.path_bytes()),
        };
        let index = if s.contains(Status::INDEX_NEW) {
            Some(Change::Added)
        } else if s.contains(Status::INDEX_MODIFIED) {
            Some(Change::Modified)
        } else if s.contains(Status::INDEX_DELETED) {
            Some(Change::Deleted)
        } else if s.contains(Status::INDEX_RENAMED) {
            Some(Change::Renamed)
        } else if s.contains(Status::INDEX_TYPECHANGE) {
            Some(Change::Typechange)
        } else {
            None
        };
        let worktree = if s.contains(Status::WT_NEW) {
            Some(Change::Untracked)
        } else if s.contains(Status::WT_MODIFIED) {
            Some(Change::Modified)
        } else if s.contains(Status::WT_DELETED) {
            Some(Change::Deleted)
        } else if s.contains(Status::WT_RENAMED) {
            Some(Change::Renamed)
        } else if s.contains(Status::WT_TYPECHANGE) {
            Some(Change::Typechange)
        } else {
            None
        };
        let conflicted = s.contains(Status::CONFLICTED);
        if index.is_none() && worktree.is_none() && !conflicted {
            continue;
        }
        out.push(FileStatus { path, old_path, index, worktree, conflicted, submodule });
    }
    Ok(out)
}

/// Paths whose tracked content differs between HEAD, index and working tree (untracked files
/// ignored): what a merge or an exact abort needs to be absent.
pub(crate) fn tracked_changes(repo: &Repo) -> Result<Vec<String>> {
    Ok(status(repo)?
        .into_iter()
        .filter(|f| f.conflicted || f.index.is_some() || f.worktree.is_some_and(|w| w != Change::Untracked))
        .map(|f| f.path)
        .collect())
}
