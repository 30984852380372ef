//! Structured diffs — unstaged (index → working tree), staged (HEAD → index) and between two
//! revisions — plus their unified-diff text and a diffstat.
//!
//! Invariants:
//! - A [`DiffLine`]'s `content` is the line without its final `\n`; a `\r` before it (CRLF
//!   files) is kept, so [`render_unified`] reproduces git's patch text byte for byte (minus the
//!   `index` lines and git's quoting of unusual names).
//! - `no_newline_at_eof` marks the one line of a side that ends the file without a newline.
//! - Diffs used for staging always have 3 lines of context; [`unstaged`] and [`staged`] use
//!   the same options as `stage.rs` so a [`Hunk`] shown to the user can be found again there.
//! - Staged diffs against an unborn HEAD compare with the empty tree.

use git2::{Delta, DiffLineType, DiffOptions, Patch};

use super::repo::Repo;
use super::status::Change;
use super::{Result, path_string};

/// Diffs cross to the UI (Git view), so their types are defined in the protocol.
pub use crate::engine::protocol::git::{DiffLine, FileDiff, Hunk, LineOrigin};

/// Counts for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiffStat {
    pub path: String,
    pub status: Change,
    pub insertions: usize,
    pub deletions: usize,
    pub binary: bool,
}

/// Counts for a set of files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiffStat {
    pub files: usize,
    pub insertions: usize,
    pub deletions: usize,
    pub per_file: Vec<FileDiffStat>,
}

impl DiffStat {
    /// `git diff --stat`-like text: one " path | n +++--" line per file and a summary line.
    pub fn render(&self) -> String {
        let width = self.per_file.iter().map(|f| f.path.chars().count()).max().unwrap_or(0);
        let mut out = String::new();
        for f in &self.per_file {
            let pad = " ".repeat(width - f.path.chars().count());
            if f.binary {
                out.push_str(&format!(" {}{pad} | Bin\n", f.path));
            } else {
                let (plus, minus) = (f.insertions.min(40), f.deletions.min(40));
                let bar = format!("{}{}", "+".repeat(plus), "-".repeat(minus));
                out.push_str(&format!(" {}{pad} | {} {bar}\n", f.path, f.insertions + f.deletions));
            }
        }
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        out.push_str(&format!(
            " {} changed, {}(+), {}(-)\n",
            plural(self.files, "file"),
            plural(self.insertions, "insertion"),
            plural(self.deletions, "deletion")
        ));
        out
    }
}

/// A file's diff together with the exact bytes of every hunk line (terminator included), which
/// staging needs and `content` cannot give back exactly.
pub(crate) struct RawFileDiff {
    pub file: FileDiff,
    /// `raw[h][l]` = bytes of `file.hunks[h].lines[l]`.
    pub raw: Vec<Vec<Vec<u8>>>,
}

/// Working tree against the index (what `git diff` shows), untracked files included as new
/// files. `paths` limits the diff to those exact paths (empty = everything).
pub fn unstaged(repo: &Repo, paths: &[&str]) -> Result<Vec<FileDiff>> {
    Ok(unstaged_raw(repo, paths)?.into_iter().map(|r| r.file).collect())
}

/// The index against HEAD (what `git diff --cached` shows; everything is new when HEAD is
/// unborn). `paths` limits the diff to those exact paths (empty = everything).
pub fn staged(repo: &Repo, paths: &[&str]) -> Result<Vec<FileDiff>> {
    Ok(staged_raw(repo, paths)?.into_iter().map(|r| r.file).collect())
}

/// From revision `old` to revision `new` (any revspec naming a commit), with renames found.
pub fn between(repo: &Repo, old: &str, new: &str, paths: &[&str]) -> Result<Vec<FileDiff>> {
    let (old, new) = (repo.commit_of(old)?.tree()?, repo.commit_of(new)?.tree()?);
    let mut diff = repo.git().diff_tree_to_tree(Some(&old), Some(&new), Some(&mut options(paths)))?;
    diff.find_similar(Some(git2::DiffFindOptions::new().renames(true)))?;
    Ok(collect(&diff)?.into_iter().map(|r| r.file).collect())
}

pub(crate) fn unstaged_raw(repo: &Repo, paths: &[&str]) -> Result<Vec<RawFileDiff>> {
    let index = repo.index()?;
    let mut opts = options(paths);
    opts.include_untracked(true).recurse_untracked_dirs(true).show_untracked_content(true);
    let diff = repo.git().diff_index_to_workdir(Some(&index), Some(&mut opts))?;
    collect(&diff)
}

pub(crate) fn staged_raw(repo: &Repo, paths: &[&str]) -> Result<Vec<RawFileDiff>> {
    let index = repo.index()?;
    let tree = repo.head_tree()?;
    let diff = repo.git().diff_tree_to_index(tree.as_ref(), Some(&index), Some(&mut options(paths)))?;
    collect(&diff)
}

fn options(paths: &[&str]) -> DiffOptions {
    let mut opts = DiffOptions::new();
    opts.context_lines(3).interhunk_lines(0).include_typechange(true).disable_pathspec_match(true);
    for p in paths {
        opts.pathspec(*p);
    }
    opts
}

fn collect(diff: &git2::Diff<'_>) -> Result<Vec<RawFileDiff>> {
    let mut out = Vec::new();
    for idx in 0..diff.deltas().len() {
        let Some(delta) = diff.get_delta(idx) else { continue };
        let old_path = delta.old_file().path_bytes().map(path_string);
        let new_path = delta.new_file().path_bytes().map(path_string);
        let path = new_path.clone().or_else(|| old_path.clone()).unwrap_or_default();
        let status = match delta.status() {
            Delta::Added | Delta::Copied => Change::Added,
            Delta::Deleted => Change::Deleted,
            Delta::Renamed => Change::Renamed,
            Delta::Typechange => Change::Typechange,
            Delta::Untracked => Change::Untracked,
            _ => Change::Modified,
        };
        let mut file = FileDiff {
            old_path: old_path.filter(|o| *o != path),
            path,
            status,
            binary: delta.flags().is_binary(),
            old_mode: u32::from(delta.old_file().mode()),
            new_mode: u32::from(delta.new_file().mode()),
            hunks: Vec::new(),
        };
        let mut raw = Vec::new();
        if let Some(patch) = Patch::from_diff(diff, idx)? {
            file.binary |= patch.delta().flags().is_binary();
            for h in 0..patch.num_hunks() {
                let (hunk, count) = patch.hunk(h)?;
                let header =
                    String::from_utf8_lossy(hunk.header()).trim_end_matches(['\n', '\r']).to_string();
                let mut lines = Vec::with_capacity(count);
                let mut raw_lines = Vec::with_capacity(count);
                for l in 0..count {
                    let line = patch.line_in_hunk(h, l)?;
                    let origin = match line.origin_value() {
                        DiffLineType::Context => LineOrigin::Context,
                        DiffLineType::Addition => LineOrigin::Added,
                        DiffLineType::Deletion => LineOrigin::Removed,
                        // "\ No newline at end of file" markers: the line itself says so.
                        _ => continue,
                    };
                    let bytes = line.content();
                    let text = bytes.strip_suffix(b"\n").unwrap_or(bytes);
                    lines.push(DiffLine {
                        origin,
                        old_lineno: line.old_lineno(),
                        new_lineno: line.new_lineno(),
                        content: String::from_utf8_lossy(text).into_owned(),
                        no_newline_at_eof: !bytes.ends_with(b"\n"),
                    });
                    raw_lines.push(bytes.to_vec());
                }
                file.hunks.push(Hunk {
                    header,
                    old_start: hunk.old_start(),
                    old_lines: hunk.old_lines(),
                    new_start: hunk.new_start(),
                    new_lines: hunk.new_lines(),
                    lines,
                });
                raw.push(raw_lines);
            }
        }
        out.push(RawFileDiff { file, raw });
    }
    Ok(out)
}

/// Unified-diff text of `files`, as `git diff` prints it (without `index` lines). Paths are
/// written as they are, not C-quoted.
pub fn render_unified(files: &[FileDiff]) -> String {
    let mut out = String::new();
    for f in files {
        let old = f.old_path.as_deref().unwrap_or(&f.path);
        out.push_str(&format!("diff --git a/{old} b/{}\n", f.path));
        let (created, deleted) =
            (matches!(f.status, Change::Added | Change::Untracked), f.status == Change::Deleted);
        if created {
            out.push_str(&format!("new file mode {:o}\n", f.new_mode));
        } else if deleted {
            out.push_str(&format!("deleted file mode {:o}\n", f.old_mode));
        } else if f.old_mode != f.new_mode {
            out.push_str(&format!("old mode {:o}\nnew mode {:o}\n", f.old_mode, f.new_mode));
        }
        if f.old_path.is_some() {
            out.push_str(&format!("rename from {old}\nrename to {}\n", f.path));
        }
        let from = if created { "/dev/null".to_string() } else { format!("a/{old}") };
        let to = if deleted { "/dev/null".to_string() } else { format!("b/{}", f.path) };
        if f.binary {
            out.push_str(&format!("Binary files {from} and {to} differ\n"));
            continue;
        }
        if f.hunks.is_empty() {
            continue;
        }
        out.push_str(&format!("--- {from}\n+++ {to}\n"));
        for h in &f.hunks {
            out.push_str(&h.header);
            out.push('\n');
            for l in &h.lines {
                out.push(l.origin.prefix());
                out.push_str(&l.content);
                out.push('\n');
                if l.no_newline_at_eof {
                    out.push_str("\\ No newline at end of file\n");
                }
            }
        }
    }
    out
}

/// Lines added and removed, per file and in total.
pub fn diffstat(files: &[FileDiff]) -> DiffStat {
    let mut stat = DiffStat { files: files.len(), ..DiffStat::default() };
    for f in files {
        let count = |o: LineOrigin| f.hunks.iter().flat_map(|h| &h.lines).filter(|l| l.origin == o).count();
        let (insertions, deletions) = (count(LineOrigin::Added), count(LineOrigin::Removed));
        stat.insertions += insertions;
        stat.deletions += deletions;
        let path = f.path.clone();
        stat.per_file.push(FileDiffStat { path, status: f.status, insertions, deletions, binary: f.binary });
    }
    stat
}
