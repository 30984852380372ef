//! Merging a branch into HEAD: fast-forward when possible, otherwise a real merge whose
//! conflicts are listed with their three versions, resolved one path at a time, then committed
//! with two parents — or aborted.
//!
//! Invariants:
//! - A merge only starts from a clean tree: no staged or unstaged change to a tracked file
//!   ([`VcsError::Dirty`]). Untracked and ignored files in the way refuse the merge
//!   ([`VcsError::WouldOverwrite`]) rather than being overwritten. So HEAD, the index and
//!   every tracked file before the merge are exactly HEAD's commit, and [`abort_merge`] restores
//!   them byte for byte by resetting to HEAD; untracked files are never touched.
//! - HEAD does not move until [`merge_commit`]; the merge state (MERGE_HEAD, MERGE_MSG…) is
//!   cleaned up by the commit or the abort.
//! - [`merge_commit`] refuses while any conflict remains; its parents are HEAD then MERGE_HEAD.

use std::path::Path;

use git2::{BranchType, ErrorCode, MergeOptions, Oid, ResetType, build::CheckoutBuilder};

use super::commit::{CommitOptions, CommitOutcome, write_commit};
use super::repo::{Repo, RepoState, short};
use super::status::tracked_changes;
use super::{Result, VcsError, path_string};

/// A path both sides changed, with its three versions (None: absent on that side, e.g. deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub path: String,
    /// The common ancestor's version.
    pub base: Option<String>,
    /// HEAD's version.
    pub ours: Option<String>,
    /// The merged branch's version.
    pub theirs: Option<String>,
}

/// How a merge went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeOutcome {
    /// The branch is already contained in HEAD; nothing changed.
    UpToDate,
    /// HEAD moved forward to the branch's commit; no merge commit needed.
    FastForward { id: String },
    /// Merged without conflicts; the result is staged and needs [`merge_commit`] (with
    /// `message`, git's proposed merge message, or another).
    Clean { message: String },
    /// Conflicts to [`resolve_file`] before [`merge_commit`] (or [`abort_merge`]).
    Conflicts(Vec<Conflict>),
}

/// Merges `branch` (a local or remote-tracking branch, or any revision) into HEAD.
pub fn merge(repo: &Repo, branch: &str) -> Result<MergeOutcome> {
    repo.ensure_idle()?;
    let git = repo.git();
    let reference = git
        .find_branch(branch, BranchType::Local)
        .or_else(|_| git.find_branch(branch, BranchType::Remote))
        .map(git2::Branch::into_reference);
    let theirs = match &reference {
        Ok(r) => git.reference_to_annotated_commit(r)?,
        Err(_) => git.find_annotated_commit(repo.commit_of(branch)?.id())?,
    };
    let dirty = tracked_changes(repo)?;
    if !dirty.is_empty() {
        return Err(VcsError::Dirty { action: "merging", paths: dirty });
    }
    let (analysis, preference) = git.merge_analysis(&[&theirs])?;
    if analysis.is_up_to_date() {
        return Ok(MergeOutcome::UpToDate);
    }
    if analysis.is_unborn() || (analysis.is_fast_forward() && !preference.is_no_fast_forward()) {
        let target = git.find_commit(theirs.id())?;
        safe_checkout(repo, branch, |c| git.checkout_tree(target.as_object(), Some(c)))?;
        let head = git.find_reference("HEAD")?;
        let log = format!("merge {branch}: Fast-forward");
        match (head.symbolic_target()?, repo.head_commit()?) {
            (Some(name), Some(old)) => {
                drop(git.reference_matching(name, target.id(), true, old.id(), &log)?)
            }
            (Some(name), None) => drop(git.reference(name, target.id(), false, &log)?),
            (None, _) => git.set_head_detached(target.id())?,
        }
        return Ok(MergeOutcome::FastForward { id: target.id().to_string() });
    }
    let mut options = MergeOptions::new();
    options.fail_on_conflict(false);
    match safe_checkout(repo, branch, |c| git.merge(&[&theirs], Some(&mut options), Some(c))) {
        // libgit2 checks the working tree before its checkout and names no paths: they are
        // the untracked files where the merge writes.
        Err(VcsError::WouldOverwrite { branch, paths }) if paths.is_empty() => {
            let paths = untracked_in_the_way(repo, &git.find_commit(theirs.id())?.tree()?)?;
            return Err(VcsError::WouldOverwrite { branch, paths });
        }
        other => other?,
    }
    let index = repo.index()?;
    if index.has_conflicts() {
        return Ok(MergeOutcome::Conflicts(conflicts(repo)?));
    }
    let message = std::fs::read_to_string(repo.git_dir().join("MERGE_MSG"))
        .unwrap_or_else(|_| format!("Merge branch '{branch}'\n"));
    Ok(MergeOutcome::Clean { message })
}

/// Runs a checkout-like operation with a safe strategy, turning "would overwrite" into
/// [`VcsError::WouldOverwrite`] with the paths.
fn safe_checkout(
    repo: &Repo,
    branch: &str,
    run: impl FnOnce(&mut CheckoutBuilder<'_>) -> std::result::Result<(), git2::Error>,
) -> Result<()> {
    let mut paths: Vec<String> = Vec::new();
    let result = {
        let mut checkout = CheckoutBuilder::new();
        checkout
            .safe()
            .allow_conflicts(true)
            .overwrite_ignored(false)
            .notify_on(git2::CheckoutNotificationType::CONFLICT)
            .notify(|_, path, _, _, _| {
                paths.extend(path.map(|p| p.to_string_lossy().into_owned()));
                true
            });
        run(&mut checkout)
    };
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.code() == ErrorCode::Conflict || !paths.is_empty() => {
            if repo.state() == RepoState::Merge {
                repo.git().cleanup_state()?;
            }
            paths.sort();
            paths.dedup();
            Err(VcsError::WouldOverwrite { branch: branch.to_string(), paths })
        }
        Err(e) => Err(e.into()),
    }
}

/// Untracked files at paths that differ between HEAD and `theirs` (what a merge would write).
fn untracked_in_the_way(repo: &Repo, theirs: &git2::Tree<'_>) -> Result<Vec<String>> {
    let ours = repo.head_tree()?;
    let diff = repo.git().diff_tree_to_tree(ours.as_ref(), Some(theirs), None)?;
    let changed: std::collections::HashSet<String> =
        diff.deltas().filter_map(|d| d.new_file().path_bytes().map(path_string)).collect();
    Ok(super::status::status(repo)?
        .into_iter()
        .filter(|f| f.worktree == Some(super::status::Change::Untracked) && changed.contains(&f.path))
        .map(|f| f.path)
        .collect())
}

/// The unresolved conflicts of the merge in progress.
pub fn conflicts(repo: &Repo) -> Result<Vec<Conflict>> {
    let index = repo.index()?;
    let blob = |entry: &Option<git2::IndexEntry>| -> Result<Option<String>> {
        Ok(match entry {
            Some(e) => Some(String::from_utf8_lossy(repo.git().find_blob(e.id)?.content()).into_owned()),
            None => None,
        })
    };
    let mut out = Vec::new();
    for conflict in index.conflicts()? {
        let c = conflict?;
        let Some(path) =
            [&c.our, &c.their, &c.ancestor].into_iter().flatten().next().map(|e| path_string(&e.path))
        else {
            continue;
        };
        out.push(Conflict { path, base: blob(&c.ancestor)?, ours: blob(&c.our)?, theirs: blob(&c.their)? });
    }
    Ok(out)
}

pub(crate) fn conflicted_paths(index: &git2::Index) -> Vec<String> {
    let mut paths: Vec<String> = match index.conflicts() {
        Ok(iter) => iter
            .flatten()
            .filter_map(|c| [c.our, c.their, c.ancestor].into_iter().flatten().next())
            .map(|e| path_string(&e.path))
            .collect(),
        Err(_) => Vec::new(),
    };
    paths.dedup();
    paths
}

/// Resolves the conflict at `path`: writes `content` to the working file and stages it, or with
/// None deletes the file and stages the deletion.
pub fn resolve_file(repo: &Repo, path: &str, content: Option<&str>) -> Result<()> {
    repo.ensure_not_busy()?;
    let mut index = repo.index()?;
    if !conflicted_paths(&index).iter().any(|p| p == path) {
        return Err(VcsError::NotFound(format!("`{path}` has no unresolved conflict")));
    }
    let full = repo.workdir().join(path);
    match content {
        Some(text) => {
            if let Some(dir) = full.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&full, text)?;
            index.add_path(Path::new(path))?;
        }
        None => {
            match std::fs::remove_file(&full) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
            index.remove_path(Path::new(path))?;
        }
    }
    index.write()?;
    Ok(())
}

/// Commits the merge in progress (parents: HEAD, then the merged commit) once no conflict
/// remains, runs the commit hooks like [`super::commit::commit`], and ends the merge state.
pub fn merge_commit(repo: &Repo, message: &str, options: &CommitOptions) -> Result<CommitOutcome> {
    if repo.state() != RepoState::Merge {
        return Err(VcsError::NoMerge);
    }
    let index = repo.index()?;
    if index.has_conflicts() {
        return Err(VcsError::Unresolved(conflicted_paths(&index)));
    }
    let heads = merge_heads(repo)?;
    let outcome = write_commit(repo, message, options, &heads)?;
    repo.git().cleanup_state()?;
    Ok(outcome)
}

fn merge_heads(repo: &Repo) -> Result<Vec<Oid>> {
    let text = std::fs::read_to_string(repo.git_dir().join("MERGE_HEAD"))?;
    let ids: Vec<Oid> = text.lines().filter_map(|l| Oid::from_str(l.trim()).ok()).collect();
    if ids.is_empty() {
        return Err(VcsError::NoMerge);
    }
    Ok(ids)
}

/// Abandons the merge in progress: HEAD, the index and every tracked file go back to HEAD's
/// commit (which is exactly what they were, since a merge only starts from a clean tree) and
/// the merge state is removed. Untracked files are left alone.
pub fn abort_merge(repo: &Repo) -> Result<()> {
    if repo.state() != RepoState::Merge {
        return Err(VcsError::NoMerge);
    }
    let head = repo.head_commit()?.ok_or(VcsError::NoCommits)?;
    if let Ok(orig) = std::fs::read_to_string(repo.git_dir().join("ORIG_HEAD"))
        && let Ok(orig) = Oid::from_str(orig.trim())
        && orig != head.id()
    {
        let (orig, now) = (orig.to_string(), head.id().to_string());
        return Err(VcsError::Refused(format!(
            "HEAD moved during the merge (from {} to {}); abort it with `git merge --abort`",
            short(&orig),
            short(&now)
        )));
    }
    repo.index()?;
    repo.git().reset(head.as_object(), ResetType::Hard, None)?;
    repo.git().cleanup_state()?;
    Ok(())
}
