//! Opening a repository and knowing where it stands: which branch (or detached commit, or no
//! commit yet), and whether an operation such as a rebase is half-way through.
//!
//! Invariants:
//! - A [`Repo`] always has a working tree: bare repositories are refused at [`Repo::open`].
//! - The index is re-read from disk (`Repo::index`) before every operation, so changes made
//!   by the `git` CLI or an editor meanwhile are seen, never overwritten with a stale copy.
//! - An unborn HEAD (a repository with no commits) is a normal state: its tree is the empty tree.

use std::path::{Path, PathBuf};

use git2::{ErrorCode, RepositoryState};

use super::{Result, VcsError};

/// What is in progress in the repository (git's "state").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RepoState {
    /// Nothing in progress.
    Clean,
    Merge,
    Rebase,
    CherryPick,
    Revert,
    Bisect,
    /// `git am` (applying patches from a mailbox).
    ApplyMailbox,
}

impl RepoState {
    /// Lower-case name for display ("clean", "merge", "rebase"…).
    pub fn as_str(self) -> &'static str {
        match self {
            RepoState::Clean => "clean",
            RepoState::Merge => "merge",
            RepoState::Rebase => "rebase",
            RepoState::CherryPick => "cherry-pick",
            RepoState::Revert => "revert",
            RepoState::Bisect => "bisect",
            RepoState::ApplyMailbox => "am",
        }
    }
}

/// Where HEAD points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadInfo {
    /// On a branch with at least one commit.
    Branch { name: String, id: String },
    /// HEAD is a commit, not a branch ("detached HEAD"); commits are allowed but belong to no branch.
    Detached { id: String },
    /// On a branch that has no commit yet (a fresh repository); the first commit creates it.
    Unborn { name: String },
}

impl HeadInfo {
    /// One line for the status bar: "main", "detached HEAD at 1a2b3c4", "main (no commits yet)".
    pub fn describe(&self) -> String {
        match self {
            HeadInfo::Branch { name, .. } => name.clone(),
            HeadInfo::Detached { id } => format!("detached HEAD at {}", short(id)),
            HeadInfo::Unborn { name } => format!("{name} (no commits yet)"),
        }
    }
}

/// An open repository with a working tree.
pub struct Repo {
    git: git2::Repository,
    workdir: PathBuf,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo").field("workdir", &self.workdir).finish()
    }
}

impl Repo {
    /// Opens the repository containing `path` (searching parent directories like git does).
    pub fn open(path: impl AsRef<Path>) -> Result<Repo> {
        let path = path.as_ref();
        let git = match git2::Repository::discover(path) {
            Ok(git) => git,
            Err(e) if e.code() == ErrorCode::NotFound => return Err(VcsError::NotARepo(path.to_path_buf())),
            Err(e) => return Err(e.into()),
        };
        if git.is_bare() {
            return Err(VcsError::Bare(git.path().to_path_buf()));
        }
        let Some(workdir) = git.workdir().map(Path::to_path_buf) else {
            return Err(VcsError::Bare(git.path().to_path_buf()));
        };
        Ok(Repo { git, workdir })
    }

    /// The root of the working tree.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The `.git` directory (for a linked worktree, its own git dir).
    pub fn git_dir(&self) -> &Path {
        self.git.path()
    }

    /// The underlying libgit2 handle, for operations this module does not wrap.
    pub fn git(&self) -> &git2::Repository {
        &self.git
    }

    /// What is in progress.
    pub fn state(&self) -> RepoState {
        match self.git.state() {
            RepositoryState::Clean => RepoState::Clean,
            RepositoryState::Merge => RepoState::Merge,
            RepositoryState::Revert | RepositoryState::RevertSequence => RepoState::Revert,
            RepositoryState::CherryPick | RepositoryState::CherryPickSequence => RepoState::CherryPick,
            RepositoryState::Bisect => RepoState::Bisect,
            RepositoryState::Rebase | RepositoryState::RebaseInteractive | RepositoryState::RebaseMerge => {
                RepoState::Rebase
            }
            RepositoryState::ApplyMailbox | RepositoryState::ApplyMailboxOrRebase => RepoState::ApplyMailbox,
        }
    }

    /// Refuses when any operation, a merge included, is in progress.
    pub fn ensure_idle(&self) -> Result<()> {
        match self.state() {
            RepoState::Clean => Ok(()),
            RepoState::Merge => Err(VcsError::MergeInProgress),
            other => Err(VcsError::Busy(other)),
        }
    }

    /// Refuses when an operation other than a merge is in progress (staging and resolving are
    /// part of finishing a merge).
    pub fn ensure_not_busy(&self) -> Result<()> {
        match self.state() {
            RepoState::Clean | RepoState::Merge => Ok(()),
            other => Err(VcsError::Busy(other)),
        }
    }

    /// Where HEAD points.
    pub fn head(&self) -> Result<HeadInfo> {
        match self.git.head() {
            Ok(head) => {
                let id = head.peel_to_commit()?.id().to_string();
                if self.git.head_detached()? {
                    Ok(HeadInfo::Detached { id })
                } else {
                    let name = super::path_string(head.shorthand_bytes());
                    Ok(HeadInfo::Branch { name, id })
                }
            }
            Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => {
                let head = self.git.find_reference("HEAD")?;
                let target = head.symbolic_target_bytes().unwrap_or(b"refs/heads/main");
                let name = target.strip_prefix(b"refs/heads/").unwrap_or(target);
                Ok(HeadInfo::Unborn { name: super::path_string(name) })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The commit HEAD points at; None when HEAD is unborn.
    pub(crate) fn head_commit(&self) -> Result<Option<git2::Commit<'_>>> {
        match self.git.head() {
            Ok(head) => Ok(Some(head.peel_to_commit()?)),
            Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// HEAD's tree; None when HEAD is unborn (diff against it as the empty tree).
    pub(crate) fn head_tree(&self) -> Result<Option<git2::Tree<'_>>> {
        Ok(match self.head_commit()? {
            Some(c) => Some(c.tree()?),
            None => None,
        })
    }

    /// The index, freshly re-read from disk if it changed there.
    pub(crate) fn index(&self) -> Result<git2::Index> {
        let mut index = self.git.index()?;
        index.read(false)?;
        Ok(index)
    }

    /// Resolves a revision ("main", "HEAD~2", an id…) to a commit, with a readable error.
    pub(crate) fn commit_of(&self, spec: &str) -> Result<git2::Commit<'_>> {
        let object = self
            .git
            .revparse_single(spec)
            .map_err(|_| VcsError::NotFound(format!("unknown revision `{spec}`")))?;
        object.peel_to_commit().map_err(|_| VcsError::NotFound(format!("`{spec}` is not a commit")))
    }
}

/// The first 7 characters of an id.
pub(crate) fn short(id: &str) -> &str {
    id.get(..7).unwrap_or(id)
}
