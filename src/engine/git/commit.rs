//! Making a commit from the index (hooks, identity, optional trailer, signing) and undoing the
//! last commit kv1nt made.
//!
//! Invariants:
//! - A commit contains exactly the index: unstaged changes and untracked files are never
//!   touched, read or included.
//! - `pre-commit` runs first, then `commit-msg` on `<git dir>/COMMIT_EDITMSG` (it may rewrite
//!   the message); a failing hook aborts with [`VcsError::HookFailed`] and nothing is written.
//!   The index is re-read after `pre-commit`, which may stage files. `post-commit` and
//!   `prepare-commit-msg` are not run.
//! - The message is cleaned like `git commit -F` (trailing whitespace, blank-line runs; comment
//!   lines are kept). No trailer is added unless [`CommitOptions::trailer`] is set.
//! - Author and committer come from `GIT_AUTHOR_*`/`GIT_COMMITTER_*` or `user.name`/`user.email`;
//!   without them the commit is refused ([`VcsError::NoIdentity`]).
//! - With `commit.gpgsign = true` the commit object is made by the user's own
//!   `git commit-tree -S` (their key, program and format), then HEAD is moved here; kv1nt
//!   never writes an unsigned commit when signing is configured.
//! - [`uncommit`] only undoes HEAD when it is the given commit, has at most one parent, and is
//!   on no remote-tracking branch. Undoing a root commit deletes the branch ref, leaving HEAD
//!   unborn again (a detached root commit is refused). Changes stay staged either way.

use std::ffi::OsStr;
use std::process::Command;

use git2::{BranchType, ErrorCode, Oid, ResetType};

use super::repo::{Repo, short};
use super::{Result, VcsError, hooks};

pub use super::proposal::{CommitProposal, MessageSource, prepare_commit, summarize_diff};

/// How to commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitOptions {
    /// A trailer line appended after a blank line (e.g. "Co-authored-by: kv1nt <…>").
    pub trailer: Option<String>,
    /// Skip the `pre-commit` and `commit-msg` hooks (`git commit --no-verify`).
    pub no_verify: bool,
    /// Run only hooks with these contents (the engine's session); None runs whatever is there
    /// (the headless `kv1nt commit`, whose invocation is its whole session).
    pub trusted_hooks: Option<super::hooks::TrustedHooks>,
}

/// A commit that was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitOutcome {
    /// Full hex id; keep it to allow [`uncommit`].
    pub id: String,
    /// The message's first line.
    pub summary: String,
    /// Combined output of the hooks that ran (for the Output pane).
    pub hook_output: String,
    /// Made through `git commit-tree -S` because `commit.gpgsign` is set.
    pub signed: bool,
}

/// Commits the index with `message`; see the module docs for hooks, identity and signing.
pub fn commit(repo: &Repo, message: &str, options: &CommitOptions) -> Result<CommitOutcome> {
    repo.ensure_idle()?;
    write_commit(repo, message, options, &[])
}

/// Makes a commit of the index whose parents are HEAD (if born) then `extra_parents`.
pub(crate) fn write_commit(
    repo: &Repo,
    message: &str,
    options: &CommitOptions,
    extra_parents: &[Oid],
) -> Result<CommitOutcome> {
    let git = repo.git();
    let identity =
        |e: git2::Error| if e.code() == ErrorCode::NotFound { VcsError::NoIdentity } else { e.into() };
    let author = git.author_from_env().map_err(identity)?;
    let committer = git.committer_from_env().map_err(identity)?;
    let head = repo.head_commit()?;
    ensure_something_staged(repo, head.as_ref(), extra_parents)?;

    let mut hook_output = String::new();
    if !options.no_verify {
        hook_output.push_str(&hooks::run(repo, "pre-commit", &[], options.trusted_hooks.as_ref())?);
    }
    let mut index = repo.index()?;
    index.read(true)?;
    if index.has_conflicts() {
        return Err(VcsError::Unresolved(super::merge::conflicted_paths(&index)));
    }
    ensure_something_staged(repo, head.as_ref(), extra_parents)?;

    let mut text = message.trim_end().to_string();
    if let Some(trailer) = &options.trailer {
        text.push_str("\n\n");
        text.push_str(trailer.trim());
    }
    text.push('\n');
    let msg_file = repo.git_dir().join("COMMIT_EDITMSG");
    std::fs::write(&msg_file, &text)?;
    if !options.no_verify {
        hook_output.push_str(&hooks::run(
            repo,
            "commit-msg",
            &[msg_file.as_os_str()],
            options.trusted_hooks.as_ref(),
        )?);
        text = String::from_utf8_lossy(&std::fs::read(&msg_file)?).into_owned();
    }
    let text = git2::message_prettify(&text, None)?;
    if text.trim().is_empty() {
        return Err(VcsError::EmptyMessage);
    }
    std::fs::write(&msg_file, &text)?;

    let tree = git.find_tree(index.write_tree()?)?;
    let mut parents: Vec<git2::Commit<'_>> = head.into_iter().collect();
    for id in extra_parents {
        parents.push(git.find_commit(*id)?);
    }
    let summary = text.lines().next().unwrap_or_default().to_string();
    let signed = git.config()?.get_bool("commit.gpgsign").unwrap_or(false);
    let id = if signed {
        let parent_ids: Vec<Oid> = parents.iter().map(|p| p.id()).collect();
        let id = signed_commit(repo, tree.id(), &parent_ids, &msg_file)?;
        let kind = match parents.len() {
            0 => " (initial)",
            1 => "",
            _ => " (merge)",
        };
        move_head(repo, id, parent_ids.first().copied(), &format!("commit{kind}: {summary}"))?;
        id
    } else {
        let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        git.commit(Some("HEAD"), &author, &committer, &text, &tree, &refs)?
    };
    Ok(CommitOutcome { id: id.to_string(), summary, hook_output, signed })
}

fn ensure_something_staged(
    repo: &Repo,
    head: Option<&git2::Commit<'_>>,
    extra_parents: &[Oid],
) -> Result<()> {
    if !extra_parents.is_empty() {
        return Ok(()); // a merge commit may record a merge that changed nothing
    }
    let mut index = repo.index()?;
    let unchanged = match head {
        Some(h) => index.write_tree().is_ok_and(|t| t == h.tree_id()),
        None => index.is_empty(),
    };
    if unchanged { Err(VcsError::NothingStaged) } else { Ok(()) }
}

/// Asks the user's git to make (and sign) the commit object.
fn signed_commit(repo: &Repo, tree: Oid, parents: &[Oid], msg_file: &std::path::Path) -> Result<Oid> {
    let tree = tree.to_string();
    let mut args: Vec<&OsStr> = vec![OsStr::new("commit-tree"), OsStr::new(&tree)];
    let parent_ids: Vec<String> = parents.iter().map(Oid::to_string).collect();
    for p in &parent_ids {
        args.extend([OsStr::new("-p"), OsStr::new(p)]);
    }
    args.extend([OsStr::new("-S"), OsStr::new("-F"), msg_file.as_os_str()]);
    let output = Command::new("git")
        .args(&args)
        .current_dir(repo.workdir())
        .env("GIT_DIR", repo.git_dir())
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            VcsError::CannotSign(format!("`git` could not be run ({e}); install git or unset commit.gpgsign"))
        })?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        return Err(VcsError::CannotSign(format!("git commit-tree -S failed: {}", err.trim())));
    }
    let id = String::from_utf8_lossy(&output.stdout);
    Oid::from_str(id.trim())
        .map_err(|_| VcsError::CannotSign(format!("git commit-tree printed `{}`", id.trim())))
}

/// Points HEAD (its branch, or HEAD itself when detached) at `id`, if it still is at `expected`.
fn move_head(repo: &Repo, id: Oid, expected: Option<Oid>, log: &str) -> Result<()> {
    let git = repo.git();
    let head = git.find_reference("HEAD")?;
    match (head.symbolic_target()?, expected) {
        (Some(branch), Some(old)) => git.reference_matching(branch, id, true, old, log).map(drop)?,
        (Some(branch), None) => git.reference(branch, id, false, log).map(drop)?,
        (None, _) => git.set_head_detached(id)?,
    }
    Ok(())
}

/// Undoes commit `id` (which kv1nt made) with a soft reset: HEAD moves to its parent and its
/// changes stay staged. Refused unless `id` is still HEAD, has at most one parent and was not
/// pushed (is on no remote-tracking branch).
pub fn uncommit(repo: &Repo, id: &str) -> Result<()> {
    repo.ensure_idle()?;
    let refuse = |why: String| Err(VcsError::Uncommit(why));
    let Some(head) = repo.head_commit()? else { return refuse("the repository has no commits".into()) };
    let id = Oid::from_str(id).map_err(|_| VcsError::Uncommit(format!("`{id}` is not a commit id")))?;
    if head.id() != id {
        let (was, now) = (id.to_string(), head.id().to_string());
        return refuse(format!("HEAD has moved on from {} (it is now {})", short(&was), short(&now)));
    }
    if head.parent_count() > 1 {
        return refuse("it is a merge commit".into());
    }
    let git = repo.git();
    for branch in git.branches(Some(BranchType::Remote))? {
        let (branch, _) = branch?;
        let Ok(tip) = branch.get().peel_to_commit() else { continue };
        if tip.id() == id || git.graph_descendant_of(tip.id(), id)? {
            let name = super::path_string(branch.name_bytes()?);
            return refuse(format!("it is already pushed to {name}"));
        }
    }
    match head.parent(0) {
        Ok(parent) => git.reset(parent.as_object(), ResetType::Soft, None)?,
        Err(_) => {
            let head_ref = git.find_reference("HEAD")?;
            let Some(branch) = head_ref.symbolic_target()? else {
                return refuse("it is the first commit and HEAD is detached".into());
            };
            git.find_reference(branch)?.delete()?;
        }
    }
    Ok(())
}
