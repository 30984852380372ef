//! Staging and unstaging: whole paths (new, modified, deleted files, directories, submodules),
//! one hunk of a file's diff, or chosen lines of a hunk.
//!
//! Hunks and lines work by content arithmetic: the hunk is found again in a fresh diff (it must
//! be unchanged since it was shown, else [`VcsError::StaleHunk`]), the selected changes are
//! applied to the index version of the file using the diff's exact line bytes, and the result
//! is written as a blob into the index entry.
//!
//! Invariants:
//! - The working tree is never touched; only the index changes, and only for the given path.
//! - Line endings (LF or CRLF) and the presence or absence of a final newline are preserved
//!   byte for byte; a kept line that lost its place as the last line gets a newline in the
//!   file's style.
//! - The file mode of an existing entry is kept; a new entry takes the working file's mode.
//! - Binary files, submodules, type changes and conflicted paths are refused for hunk and line
//!   operations (stage them whole).

use std::path::Path;

use git2::{IndexAddOption, IndexEntry, IndexTime, Oid};

use super::diff::{FileDiff, Hunk, LineOrigin, RawFileDiff, staged_raw, unstaged_raw};
use super::repo::Repo;
use super::status::Change;
use super::{Result, VcsError};

/// `git add` for each path: new and modified files are added, deleted files removed from the
/// index, a directory adds what is inside it (respecting .gitignore), a submodule stages its
/// checked-out commit.
pub fn stage_paths(repo: &Repo, paths: &[&str]) -> Result<()> {
    repo.ensure_not_busy()?;
    let mut index = repo.index()?;
    for path in paths {
        let full = repo.workdir().join(path);
        match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.is_dir() => {
                if let Ok(mut sub) = repo.git().find_submodule(path) {
                    sub.add_to_index(false)?;
                    // The submodule wrote through the repository's shared index object.
                    index = repo.git().index()?;
                } else {
                    index.add_all([*path], IndexAddOption::DEFAULT, None)?;
                    index.update_all([*path], None)?;
                }
            }
            Ok(_) => index.add_path(Path::new(path))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let tracked = index.get_path(Path::new(path), 0).is_some()
                    || index.iter().any(|e| e.path == path.as_bytes());
                if !tracked {
                    return Err(VcsError::NotFound(format!("no such file: {path}")));
                }
                index.remove_path(Path::new(path))?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    index.write()?;
    Ok(())
}

/// `git restore --staged` for each path: the index entry goes back to HEAD's version (or is
/// removed when HEAD has none, which makes a new file untracked again). The working tree is
/// not touched.
pub fn unstage_paths(repo: &Repo, paths: &[&str]) -> Result<()> {
    repo.ensure_not_busy()?;
    repo.index()?;
    let head = repo.head_commit()?;
    repo.git().reset_default(head.as_ref().map(|c| c.as_object()), paths.iter().copied())?;
    Ok(())
}

/// Stages one hunk of `path`'s unstaged diff (as [`super::diff::unstaged`] showed it).
pub fn stage_hunk(repo: &Repo, path: &str, hunk: &Hunk) -> Result<()> {
    apply(repo, path, hunk, None, Direction::Stage)
}

/// Stages the chosen lines of a hunk: `lines` are indexes into `hunk.lines` and must be added
/// or removed lines. Unchosen removals stay in the index; unchosen additions stay unstaged.
pub fn stage_lines(repo: &Repo, path: &str, hunk: &Hunk, lines: &[usize]) -> Result<()> {
    apply(repo, path, hunk, Some(lines), Direction::Stage)
}

/// Unstages one hunk of `path`'s staged diff (as [`super::diff::staged`] showed it).
pub fn unstage_hunk(repo: &Repo, path: &str, hunk: &Hunk) -> Result<()> {
    apply(repo, path, hunk, None, Direction::Unstage)
}

/// Unstages the chosen lines of a staged hunk (indexes into `hunk.lines`).
pub fn unstage_lines(repo: &Repo, path: &str, hunk: &Hunk, lines: &[usize]) -> Result<()> {
    apply(repo, path, hunk, Some(lines), Direction::Unstage)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Apply an index → worktree hunk to the index.
    Stage,
    /// Reverse a HEAD → index hunk in the index.
    Unstage,
}

fn apply(repo: &Repo, path: &str, hunk: &Hunk, chosen: Option<&[usize]>, dir: Direction) -> Result<()> {
    repo.ensure_not_busy()?;
    let cannot = |reason: &str| VcsError::CannotStage { path: path.to_string(), reason: reason.to_string() };
    let diffs = match dir {
        Direction::Stage => unstaged_raw(repo, &[path])?,
        Direction::Unstage => staged_raw(repo, &[path])?,
    };
    let Some(RawFileDiff { file, raw }) = diffs.into_iter().find(|d| d.file.path == path) else {
        return Err(VcsError::StaleHunk(path.to_string()));
    };
    check_supported(&file).map_err(cannot)?;
    let Some(h) = file.hunks.iter().position(|x| x == hunk) else {
        return Err(VcsError::StaleHunk(path.to_string()));
    };
    let selected: Vec<bool> = match chosen {
        None => hunk.lines.iter().map(|l| l.origin != LineOrigin::Context).collect(),
        Some(idxs) => {
            let mut sel = vec![false; hunk.lines.len()];
            for &i in idxs {
                match hunk.lines.get(i) {
                    Some(l) if l.origin != LineOrigin::Context => sel[i] = true,
                    Some(_) => {
                        return Err(cannot(&format!("line {} of the hunk is context, not a change", i + 1)));
                    }
                    None => return Err(cannot(&format!("the hunk has no line {}", i + 1))),
                }
            }
            if !sel.contains(&true) {
                return Err(cannot("no lines were chosen"));
            }
            sel
        }
    };

    let mut index = repo.index()?;
    if super::merge::conflicted_paths(&index).iter().any(|p| p == path) {
        return Err(cannot("has unresolved merge conflicts; resolve it first"));
    }
    let existing = index.get_path(Path::new(path), 0);
    let base = match &existing {
        Some(entry) => repo.git().find_blob(entry.id)?.content().to_vec(),
        None => Vec::new(),
    };
    let (start, len) = match dir {
        Direction::Stage => (hunk.old_start, hunk.old_lines),
        Direction::Unstage => (hunk.new_start, hunk.new_lines),
    };
    let base_side = |o: LineOrigin| match dir {
        Direction::Stage => o != LineOrigin::Added,
        Direction::Unstage => o != LineOrigin::Removed,
    };
    let mut middle: Vec<&[u8]> = Vec::new();
    let mut expected: Vec<&[u8]> = Vec::new();
    for ((line, bytes), &sel) in hunk.lines.iter().zip(&raw[h]).zip(&selected) {
        if base_side(line.origin) {
            expected.push(bytes);
        }
        // A line is in the result when it is on the base side and not chosen for reversal,
        // or on the other side and chosen.
        if base_side(line.origin) != (sel && line.origin != LineOrigin::Context) {
            middle.push(bytes);
        }
    }
    let content = splice(&base, start as usize, len as usize, &expected, &middle)
        .ok_or_else(|| VcsError::StaleHunk(path.to_string()))?;

    // Staging all of a deletion removes the entry; unstaging all of an addition makes the
    // file untracked again.
    let gone = match dir {
        Direction::Stage => file.status == Change::Deleted,
        Direction::Unstage => file.status == Change::Added,
    };
    if gone && content.is_empty() {
        index.remove_path(Path::new(path))?;
    } else {
        let mode = match (&existing, file.new_mode) {
            (Some(e), _) => e.mode,
            (None, m) if m == 0o100755 => m,
            _ => 0o100644,
        };
        index.add_frombuffer(&content_entry(path, mode, existing.as_ref()), &content)?;
    }
    index.write()?;
    Ok(())
}

fn check_supported(file: &FileDiff) -> std::result::Result<(), &'static str> {
    const GITLINK: u32 = 0o160000;
    if file.old_mode == GITLINK || file.new_mode == GITLINK {
        Err("is a submodule; stage or unstage it as a whole")
    } else if file.binary {
        Err("is a binary file; stage or unstage it as a whole")
    } else if file.status == Change::Typechange {
        Err("changed type (file/symlink); stage or unstage it as a whole")
    } else if file.old_path.is_some() {
        Err("was renamed; stage or unstage it as a whole")
    } else {
        Ok(())
    }
}

/// An index entry for content written from memory: the existing entry's mode and flags (minus
/// intent-to-add) with no stat data, so git compares contents rather than trusting timestamps.
fn content_entry(path: &str, mode: u32, existing: Option<&IndexEntry>) -> IndexEntry {
    const INTENT_TO_ADD: u16 = 1 << 13;
    let zero = IndexTime::new(0, 0);
    IndexEntry {
        ctime: zero,
        mtime: zero,
        dev: 0,
        ino: 0,
        mode,
        uid: 0,
        gid: 0,
        file_size: 0,
        id: Oid::ZERO_SHA1,
        flags: existing.map_or(0, |e| e.flags),
        flags_extended: existing.map_or(0, |e| e.flags_extended & !INTENT_TO_ADD),
        path: path.as_bytes().to_vec(),
    }
}

/// `base` with lines `start..start+len` (1-based; `len == 0` inserts after line `start`)
/// replaced by `middle`. None when those lines are not `expected` (the file changed).
fn splice(base: &[u8], start: usize, len: usize, expected: &[&[u8]], middle: &[&[u8]]) -> Option<Vec<u8>> {
    let lines: Vec<&[u8]> = base.split_inclusive(|&b| b == b'\n').collect();
    let from = if len == 0 { start } else { start.checked_sub(1)? };
    let to = from.checked_add(len)?;
    if to > lines.len() || lines[from..to] != *expected {
        return None;
    }
    let eol: &[u8] = if lines.iter().any(|l| l.ends_with(b"\r\n")) { b"\r\n" } else { b"\n" };
    let parts: Vec<&[u8]> = lines[..from].iter().chain(middle).chain(&lines[to..]).copied().collect();
    let mut out = Vec::with_capacity(base.len());
    for (i, part) in parts.iter().enumerate() {
        out.extend_from_slice(part);
        if i + 1 < parts.len() && !part.ends_with(b"\n") {
            out.extend_from_slice(eol);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::splice;

    #[test]
    fn splice_replaces_inserts_and_keeps_missing_newline() {
        let base = b"a\nb\nc";
        assert_eq!(splice(base, 2, 1, &[b"b\n"], &[b"B\n"]).unwrap(), b"a\nB\nc");
        assert_eq!(splice(base, 1, 0, &[], &[b"x\n"]).unwrap(), b"a\nx\nb\nc");
        assert_eq!(splice(b"", 0, 0, &[], &[b"new"]).unwrap(), b"new");
        assert_eq!(splice(base, 3, 1, &[b"c"], &[b"c", b"d\n"]).unwrap(), b"a\nb\nc\nd\n");
        assert!(splice(base, 2, 1, &[b"X\n"], &[]).is_none());
        assert!(splice(base, 9, 1, &[b"b\n"], &[]).is_none());
        assert_eq!(splice(b"a\r\nb", 2, 1, &[b"b"], &[b"b", b"c\r\n"]).unwrap(), b"a\r\nb\r\nc\r\n");
    }
}
