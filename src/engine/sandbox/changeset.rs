//! What a transactional run did to the workspace: a [`ChangeSet`] of file contents before and
//! after, read from the overlay's upper layer (copy-on-write runs, nothing applied yet) or from
//! a [`Snapshot`] taken before the run (where copy-on-write is unavailable: the run wrote the
//! real tree, and the snapshot holds what to restore).
//!
//! Invariants:
//! - Only files that are not git-ignored are in the set, and only when their bytes differ
//!   (a `touch` or a rewrite with the same content is no change). Protected paths (`protect.rs`)
//!   never are.
//! - Effects on git-ignored paths of a copy-on-write run are applied to the real tree at once
//!   ([`from_upper`]), never through a symlink and never outside the workspace.
//! - What cannot be carried (symlinks, special files, files over [`MAX_FILE_BYTES`], a snapshot
//!   over its budget) is listed in [`ChangeSet::not_carried`] with the reason: in a
//!   copy-on-write run it was not applied, in a recorded run it cannot be undone.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Largest file a change set carries (before or after).
pub const MAX_FILE_BYTES: u64 = 8 << 20;
/// Largest total a [`Snapshot`] keeps in memory.
const SNAPSHOT_BUDGET: u64 = 256 << 20;

/// One file a run created, changed or deleted (`None`: did not exist / was deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    /// Relative to the workspace, `/`-separated.
    pub path: String,
    pub before: Option<Vec<u8>>,
    pub after: Option<Vec<u8>>,
}

/// Whether the changes are on disk yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSetState {
    /// Copy-on-write: nothing is written; applying is the caller's (through the gate).
    Pending,
    /// Recorded: the run wrote the real tree; `before` is what restores it.
    Recorded,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSet {
    pub state: ChangeSetState,
    /// Sorted by path.
    pub files: Vec<ChangedFile>,
    /// "out.bin (over 8 MB)", "link (a symlink)": effects the set does not carry.
    pub not_carried: Vec<String>,
    /// Git-ignored paths written through (count), for the summary.
    pub ignored_written: usize,
}

impl ChangeSet {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.not_carried.is_empty()
    }
}

/// Git's ignore rules for the workspace (none outside a repository).
struct Ignores {
    repo: Option<(git2::Repository, PathBuf)>,
}

impl Ignores {
    fn new(workspace: &Path) -> Ignores {
        let repo = git2::Repository::open(workspace).ok().and_then(|repo| {
            let root = repo.workdir()?.canonicalize().ok()?;
            Some((repo, root))
        });
        Ignores { repo }
    }

    fn ignored(&self, path: &Path) -> bool {
        let Some((repo, root)) = &self.repo else { return false };
        path.strip_prefix(root).is_ok_and(|rel| repo.is_path_ignored(rel).unwrap_or(false))
    }
}

/// The change set of a copy-on-write run whose upper layer is `upper`; git-ignored effects are
/// applied to `workspace` on the way (they write through).
pub(crate) fn from_upper(upper: &Path, workspace: &Path, protected: &[PathBuf]) -> ChangeSet {
    let mut set = ChangeSet {
        state: ChangeSetState::Pending,
        files: Vec::new(),
        not_carried: Vec::new(),
        ignored_written: 0,
    };
    let walk = Walk { upper, workspace, protected, ignores: Ignores::new(workspace) };
    walk.dir(Path::new(""), &mut set);
    set.files.sort_by(|a, b| a.path.cmp(&b.path));
    set
}

struct Walk<'a> {
    upper: &'a Path,
    workspace: &'a Path,
    protected: &'a [PathBuf],
    ignores: Ignores,
}

impl Walk<'_> {
    fn dir(&self, rel: &Path, set: &mut ChangeSet) {
        let Ok(entries) = fs::read_dir(self.upper.join(rel)) else { return };
        for entry in entries.flatten() {
            let rel = rel.join(entry.file_name());
            let (up, real) = (entry.path(), self.workspace.join(&rel));
            let Ok(meta) = entry.metadata() else { continue };
            if self.protected.iter().any(|p| real.starts_with(p)) {
                continue;
            }
            if self.ignores.ignored(&real) {
                set.ignored_written += write_through(&up, &real, self.workspace);
                continue;
            }
            let shown = rel.to_string_lossy().into_owned();
            if is_whiteout(&meta) {
                for (path, before) in lower_files(&real, self.workspace, set) {
                    set.files.push(ChangedFile { path, before: Some(before), after: None });
                }
            } else if meta.is_dir() {
                if is_opaque(&up) {
                    for (path, before) in lower_files(&real, self.workspace, set) {
                        if fs::symlink_metadata(self.upper.join(&path)).is_err() {
                            set.files.push(ChangedFile { path, before: Some(before), after: None });
                        }
                    }
                }
                self.dir(&rel, set);
            } else if meta.is_file() {
                if meta.len() > MAX_FILE_BYTES {
                    set.not_carried.push(format!("{shown} (over {} MB)", MAX_FILE_BYTES >> 20));
                    continue;
                }
                let Ok(after) = fs::read(&up) else { continue };
                match read_regular(&real) {
                    Ok(before) if before.as_deref() == Some(&after[..]) => {}
                    Ok(before) => set.files.push(ChangedFile { path: shown, before, after: Some(after) }),
                    Err(why) => set.not_carried.push(format!("{shown} ({why})")),
                }
            } else {
                set.not_carried.push(format!("{shown} (a symlink or special file)"));
            }
        }
    }
}

/// overlayfs marks a deletion with a 0:0 character device.
fn is_whiteout(meta: &fs::Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

/// A directory that replaced the lower one entirely (`rm -r d; mkdir d`).
fn is_opaque(dir: &Path) -> bool {
    ["trusted.overlay.opaque", "user.overlay.opaque"]
        .iter()
        .any(|name| xattr(dir, name).is_some_and(|v| v == b"y"))
}

fn xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let n = std::ffi::CString::new(name).ok()?;
    let mut buf = [0u8; 8];
    // SAFETY: valid C strings and buffer.
    let len = unsafe { libc::lgetxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (len >= 0).then(|| buf[..len as usize].to_vec())
}

/// A regular file's bytes (`None`: it does not exist); an error for what the set cannot carry.
fn read_regular(path: &Path) -> Result<Option<Vec<u8>>, String> {
    match fs::symlink_metadata(path) {
        Err(_) => Ok(None),
        Ok(m) if m.is_file() && m.len() > MAX_FILE_BYTES => Err(format!("over {} MB", MAX_FILE_BYTES >> 20)),
        Ok(m) if m.is_file() => fs::read(path).map(Some).map_err(|e| e.to_string()),
        Ok(m) if m.is_dir() => Err("replaces a directory".into()),
        Ok(_) => Err("replaces a symlink or special file".into()),
    }
}

/// Every non-ignored regular file at or under `real` (relative path, bytes).
fn lower_files(real: &Path, workspace: &Path, set: &mut ChangeSet) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for path in files_under(real) {
        let rel = path.strip_prefix(workspace).unwrap_or(&path).to_string_lossy().into_owned();
        match read_regular(&path) {
            Ok(Some(bytes)) => out.push((rel, bytes)),
            Ok(None) => {}
            Err(why) => set.not_carried.push(format!("{rel} ({why})")),
        }
    }
    out
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    walker.flatten().filter(|e| e.file_type().is_some_and(|t| !t.is_dir())).map(|e| e.into_path()).collect()
}

/// Apply an ignored upper entry (file, whiteout or directory tree) to the real tree; returns
/// how many paths were written or removed. Never follows a symlink in the real tree, and never
/// writes outside `workspace`.
fn write_through(up: &Path, real: &Path, workspace: &Path) -> usize {
    let Some(parent) = real.parent() else { return 0 };
    let inside =
        fs::create_dir_all(parent).is_ok() && parent.canonicalize().is_ok_and(|p| p.starts_with(workspace));
    let Ok(meta) = fs::symlink_metadata(up) else { return 0 };
    if !inside {
        return 0;
    }
    let existing = fs::symlink_metadata(real).ok();
    let remove_existing = || match &existing {
        Some(m) if m.is_dir() => fs::remove_dir_all(real),
        Some(_) => fs::remove_file(real),
        None => Ok(()),
    };
    if is_whiteout(&meta) {
        return usize::from(remove_existing().is_ok() && existing.is_some());
    }
    if meta.is_dir() {
        if existing.as_ref().is_some_and(|m| !m.is_dir()) || is_opaque(up) {
            let _ = remove_existing();
        }
        if fs::create_dir_all(real).is_err() {
            return 0;
        }
        let entries = fs::read_dir(up).into_iter().flatten().flatten();
        return entries.map(|e| write_through(&e.path(), &real.join(e.file_name()), workspace)).sum();
    }
    if !meta.is_file() {
        return 0;
    }
    if existing.as_ref().is_some_and(|m| !m.is_file()) {
        let _ = remove_existing();
    }
    // Rename when the layers share the file system, else copy (never through a symlink: any
    // symlink at `real` was removed above).
    if fs::rename(up, real).is_ok() || fs::copy(up, real).is_ok() {
        let _ = fs::set_permissions(real, meta.permissions());
        return 1;
    }
    0
}

/// The fallback where copy-on-write is unavailable: every non-ignored file's bytes before the
/// run, to compare with after it and restore from.
pub(crate) struct Snapshot {
    workspace: PathBuf,
    protected: Vec<PathBuf>,
    files: BTreeMap<String, Before>,
}

/// A file as the snapshot saw it.
struct Before {
    /// `None`: not kept (over the size limit or the budget, or unreadable).
    bytes: Option<Vec<u8>>,
    /// Size and modification time (ns), to tell whether a file not kept changed.
    stamp: (u64, i128),
}

fn stamp(meta: &fs::Metadata) -> (u64, i128) {
    (meta.len(), i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()))
}

impl Snapshot {
    pub(crate) fn take(workspace: &Path, protected: &[PathBuf]) -> Snapshot {
        let mut budget = SNAPSHOT_BUDGET;
        let mut files = BTreeMap::new();
        for (rel, path) in Self::walk(workspace, protected) {
            let Ok(meta) = fs::symlink_metadata(&path) else { continue };
            let bytes = (meta.is_file() && meta.len() <= MAX_FILE_BYTES.min(budget))
                .then(|| fs::read(&path).ok())
                .flatten();
            budget -= bytes.as_ref().map_or(0, |b| b.len() as u64);
            files.insert(rel, Before { bytes, stamp: stamp(&meta) });
        }
        Snapshot { workspace: workspace.to_path_buf(), protected: protected.to_vec(), files }
    }

    fn walk(workspace: &Path, protected: &[PathBuf]) -> Vec<(String, PathBuf)> {
        files_under(workspace)
            .into_iter()
            .filter(|p| !protected.iter().any(|q| p.starts_with(q)))
            .filter_map(|p| Some((p.strip_prefix(workspace).ok()?.to_string_lossy().into_owned(), p)))
            .collect()
    }

    /// What the run changed, compared with now.
    pub(crate) fn changes(mut self) -> ChangeSet {
        let mut set = ChangeSet {
            state: ChangeSetState::Recorded,
            files: Vec::new(),
            not_carried: Vec::new(),
            ignored_written: 0,
        };
        for (rel, path) in Self::walk(&self.workspace, &self.protected) {
            let before = self.files.remove(&rel);
            let now = fs::symlink_metadata(&path).map(|m| stamp(&m)).ok();
            match (before, read_regular(&path)) {
                (Some(Before { bytes: Some(b), .. }), Ok(Some(a))) if a == b => {}
                (Some(Before { bytes: None, stamp }), _) if Some(stamp) == now => {}
                (Some(Before { bytes: None, .. }), _) => {
                    set.not_carried.push(format!("{rel} (changed; too large to record: cannot be undone)"));
                }
                (_, Err(why)) => set.not_carried.push(format!("{rel} ({why}: cannot be undone)")),
                (before, Ok(after)) => {
                    set.files.push(ChangedFile { path: rel, before: before.and_then(|b| b.bytes), after });
                }
            }
        }
        for (rel, before) in std::mem::take(&mut self.files) {
            match before.bytes {
                Some(bytes) => set.files.push(ChangedFile { path: rel, before: Some(bytes), after: None }),
                None => {
                    set.not_carried.push(format!("{rel} (deleted; too large to record: cannot be undone)"))
                }
            }
        }
        set.files.sort_by(|a, b| a.path.cmp(&b.path));
        set
    }
}
