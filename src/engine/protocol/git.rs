//! Git as the UI sees it: the Git view's requests ([`GitOp`]) and what answers them — the
//! working tree's status ([`GitSnapshot`] of [`FileStatus`]es) and structured diffs
//! ([`FileDiff`] → [`Hunk`] → [`DiffLine`]). The git work itself is `engine::git`.

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

/// How one side of a path changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    Added,
    Modified,
    Deleted,
    Renamed,
    /// File ↔ symlink ↔ submodule.
    Typechange,
    /// Not tracked at all (worktree side only).
    Untracked,
}

impl Change {
    /// The porcelain letter: A, M, D, R, T, or ? for untracked.
    pub fn letter(self) -> char {
        match self {
            Change::Added => 'A',
            Change::Modified => 'M',
            Change::Deleted => 'D',
            Change::Renamed => 'R',
            Change::Typechange => 'T',
            Change::Untracked => '?',
        }
    }
}

/// One changed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStatus {
    /// Repository-relative path (the new name for a rename).
    pub path: String,
    /// The name in HEAD when the index renames the file.
    pub old_path: Option<String>,
    /// HEAD → index (staged); None when the index matches HEAD for this path.
    pub index: Option<Change>,
    /// Index → working tree (unstaged); None when the working tree matches the index.
    pub worktree: Option<Change>,
    /// Both sides changed it in a merge and it is not resolved yet.
    pub conflicted: bool,
    /// The path is a submodule (a gitlink): stage it whole, never by hunk.
    pub submodule: bool,
}

impl FileStatus {
    /// Two-letter porcelain code ("M ", " M", "??", "UU"…).
    pub fn code(&self) -> String {
        if self.conflicted {
            return "UU".to_string();
        }
        if self.worktree == Some(Change::Untracked) {
            return "??".to_string();
        }
        let letter = |c: Option<Change>| c.map_or(' ', Change::letter);
        format!("{}{}", letter(self.index), letter(self.worktree))
    }
}

/// Which side a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineOrigin {
    Context,
    Added,
    Removed,
}

impl LineOrigin {
    /// The unified-diff prefix: ' ', '+' or '-'.
    pub fn prefix(self) -> char {
        match self {
            LineOrigin::Context => ' ',
            LineOrigin::Added => '+',
            LineOrigin::Removed => '-',
        }
    }
}

/// One line of a hunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub origin: LineOrigin,
    /// 1-based line number in the old side (None for added lines).
    pub old_lineno: Option<u32>,
    /// 1-based line number in the new side (None for removed lines).
    pub new_lineno: Option<u32>,
    /// The text without the final `\n` (a CRLF line keeps its `\r`).
    pub content: String,
    /// This line ends its file without a newline.
    pub no_newline_at_eof: bool,
}

/// A run of changes with its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// `@@ -a,b +c,d @@ section` (no newline).
    pub header: String,
    pub old_start: u32,
    pub old_lines: u32,
    pub new_start: u32,
    pub new_lines: u32,
    pub lines: Vec<DiffLine>,
}

/// One file's diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    /// The new path (the old one for a deletion).
    pub path: String,
    /// The old path when it differs (renames).
    pub old_path: Option<String>,
    pub status: Change,
    pub binary: bool,
    /// Git file modes (0o100644, 0o100755, 0o120000 symlink, 0o160000 submodule; 0 = absent).
    pub old_mode: u32,
    pub new_mode: u32,
    pub hunks: Vec<Hunk>,
}
