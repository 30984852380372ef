//! Branches (list, create, switch) and the commit log.
//!
//! Invariants:
//! - Switching is a safe checkout, never forced: when a local change (staged, unstaged, or an
//!   untracked file in the way) would be overwritten, nothing changes and
//!   [`VcsError::WouldOverwrite`] lists the files. Changes the switch does not touch are carried
//!   over, like `git switch`.
//! - Branch names are validated by git's own rules (and may not start with `-`).
//! - Creating a branch never switches to it.

use git2::{BranchType, CheckoutNotificationType, ErrorCode, Sort, build::CheckoutBuilder};

use super::repo::Repo;
use super::{Result, VcsError, path_string};

/// A local branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchInfo {
    pub name: String,
    /// HEAD is on this branch.
    pub current: bool,
    /// The remote-tracking branch it follows ("origin/main"), if set.
    pub upstream: Option<String>,
    /// Full id of its tip.
    pub id: String,
}

/// One commit of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: String,
    pub short_id: String,
    pub summary: String,
    pub author: String,
    pub email: String,
    /// Author time, seconds since the Unix epoch.
    pub time: i64,
    /// The author's UTC offset, minutes.
    pub offset_minutes: i32,
}

/// Local branches sorted by name, the current one marked.
pub fn branches(repo: &Repo) -> Result<Vec<BranchInfo>> {
    let mut out = Vec::new();
    for branch in repo.git().branches(Some(BranchType::Local))? {
        let (branch, _) = branch?;
        let name = path_string(branch.name_bytes()?);
        let upstream = match branch.upstream() {
            Ok(up) => Some(path_string(up.name_bytes()?)),
            Err(_) => None,
        };
        let id = branch.get().target().map(|id| id.to_string()).unwrap_or_default();
        out.push(BranchInfo { name, current: branch.is_head(), upstream, id });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Creates branch `name` at `base` (a revision; HEAD when None) without switching to it.
pub fn create_branch(repo: &Repo, name: &str, base: Option<&str>) -> Result<BranchInfo> {
    if name.starts_with('-') || !git2::Branch::name_is_valid(name).unwrap_or(false) {
        return Err(VcsError::InvalidBranchName(name.to_string()));
    }
    if repo.git().find_branch(name, BranchType::Local).is_ok() {
        return Err(VcsError::BranchExists(name.to_string()));
    }
    let commit = match base {
        Some(spec) => repo.commit_of(spec)?,
        None => repo.head_commit()?.ok_or(VcsError::NoCommits)?,
    };
    repo.git().branch(name, &commit, false)?;
    Ok(BranchInfo { name: name.to_string(), current: false, upstream: None, id: commit.id().to_string() })
}

/// Switches to local branch `name`, carrying local changes that do not conflict; refuses (and
/// changes nothing) when any would be overwritten.
pub fn switch_branch(repo: &Repo, name: &str) -> Result<()> {
    repo.ensure_idle()?;
    let branch = repo
        .git()
        .find_branch(name, BranchType::Local)
        .map_err(|_| VcsError::NotFound(format!("no branch named `{name}`")))?;
    if branch.is_head() {
        return Ok(());
    }
    let refname = branch.get().name().map_err(|_| VcsError::InvalidBranchName(name.to_string()))?.to_string();
    let tree = branch.get().peel_to_tree()?;
    repo.index()?;
    let mut conflicts: Vec<String> = Vec::new();
    let result = {
        let mut checkout = CheckoutBuilder::new();
        checkout.safe().notify_on(CheckoutNotificationType::CONFLICT).notify(|_, path, _, _, _| {
            if let Some(p) = path {
                conflicts.push(p.to_string_lossy().into_owned());
            }
            true
        });
        repo.git().checkout_tree(tree.as_object(), Some(&mut checkout))
    };
    match result {
        Ok(()) => {}
        Err(e) if e.code() == ErrorCode::Conflict || !conflicts.is_empty() => {
            conflicts.sort();
            conflicts.dedup();
            return Err(VcsError::WouldOverwrite { branch: name.to_string(), paths: conflicts });
        }
        Err(e) => return Err(e.into()),
    }
    repo.git().set_head(&refname)?;
    Ok(())
}

/// The last `n` commits reachable from HEAD, newest first (empty when HEAD is unborn).
pub fn log(repo: &Repo, n: usize) -> Result<Vec<CommitInfo>> {
    log_since(repo, None, n)
}

/// Like [`log`], without the commits reachable from `base` (a revspec such as `origin/main`):
/// what a pull request of HEAD into `base` would contain.
pub fn log_since(repo: &Repo, base: Option<&str>, n: usize) -> Result<Vec<CommitInfo>> {
    if repo.head_commit()?.is_none() {
        return Ok(Vec::new());
    }
    let mut walk = repo.git().revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
    walk.push_head()?;
    if let Some(base) = base {
        let object = repo
            .git()
            .revparse_single(base)
            .map_err(|_| VcsError::NotFound(format!("the base `{base}` does not exist here")))?;
        walk.hide(object.peel_to_commit()?.id())?;
    }
    let mut out = Vec::new();
    for id in walk.take(n) {
        let commit = repo.git().find_commit(id?)?;
        let author = commit.author();
        let id = commit.id().to_string();
        out.push(CommitInfo {
            short_id: id.chars().take(7).collect(),
            id,
            summary: String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default()).into_owned(),
            author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
            email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
            time: author.when().seconds(),
            offset_minutes: author.when().offset_minutes(),
        });
    }
    Ok(out)
}
