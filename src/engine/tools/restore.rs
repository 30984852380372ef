//! All-or-nothing writes of several files (undo and rewind restores): every file is written to a
//! temp file beside it first, then all are renamed into place; a failure part-way renames back
//! what was already replaced, so the workspace ends with all new contents or all old ones.
//!
//! Invariants:
//! - Staging ([`stage`]) checks every file against its expected hash (as [`super::apply`] does)
//!   and writes every temp file before anything in the workspace changes; a failure there
//!   removes the temp files and changes nothing.
//! - Committing keeps each replaced (or deleted) original as a hard link / renamed backup beside
//!   it until [`Committed::finish`]; [`Committed::rollback`] moves them back byte-exactly and
//!   removes files that did not exist before. Neither leaves a backup or temp file behind.
//! - When a journal path is given, the journal (JSON: the caller's change ids, and per file its
//!   path, backup and temp) is written and fsynced before the first rename and removed last, so
//!   after a crash [`recover`] can roll the whole restore back, or clean up when it completed.

use std::fs::{self, Permissions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::apply::{check_before, sync_dir};
use super::{ToolError, Workspace};

/// One file to write (`content`) or delete (`None`), expected to hash to `expected` now.
pub struct RestoreFile<'a> {
    pub path: &'a str,
    pub content: Option<&'a [u8]>,
    pub expected: Option<&'a str>,
}

/// What the journal records for one file.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    target: PathBuf,
    /// The original, kept until the end (`None`: the file did not exist).
    backup: Option<PathBuf>,
    /// The new content waiting to be renamed over `target` (`None`: a deletion).
    temp: Option<PathBuf>,
}

/// The journal of a restore in flight.
#[derive(Debug, Serialize, Deserialize)]
pub struct Journal {
    pub change_ids: Vec<i64>,
    entries: Vec<Entry>,
}

/// Every temp file written, nothing in the workspace changed yet.
pub struct Staged {
    entries: Vec<Entry>,
    rels: Vec<String>,
}

/// Every file in place, the originals still kept for [`rollback`](Committed::rollback).
pub struct Committed {
    entries: Vec<Entry>,
    journal: Option<PathBuf>,
}

/// A unique name beside `target`: `.NAME.<pid>-<n>.kv1nt.<what>`.
fn beside(target: &Path, what: &str, n: usize) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!(".{name}.{}-{n}.kv1nt.{what}", std::process::id()))
}

/// Checks every file and writes every new content to a temp file beside its target; on any
/// failure the temp files written so far are removed.
pub fn stage(ws: &Workspace, files: &[RestoreFile]) -> Result<Staged, ToolError> {
    let mut staged = Staged { entries: Vec::new(), rels: Vec::new() };
    for (n, file) in files.iter().enumerate() {
        match stage_one(ws, file, n) {
            Ok((entry, rel)) => {
                staged.entries.push(entry);
                staged.rels.push(rel);
            }
            Err(e) => {
                staged.discard();
                return Err(e);
            }
        }
    }
    Ok(staged)
}

fn stage_one(ws: &Workspace, file: &RestoreFile, n: usize) -> Result<(Entry, String), ToolError> {
    let (abs, rel) = ws.resolve(file.path, true)?;
    if fs::metadata(&abs).is_ok_and(|m| m.is_dir()) {
        return Err(ToolError::Invalid(format!("`{rel}` is a directory; only files can be restored")));
    }
    let current = check_before(&abs, &rel, file.expected)?;
    let temp = match file.content {
        Some(bytes) => Some(write_temp(&abs, bytes, n).map_err(|e| ToolError::io("writing", &rel, &e))?),
        None => None,
    };
    let backup = current.map(|_| beside(&abs, "bak", n));
    Ok((Entry { target: abs, backup, temp }, rel))
}

fn write_temp(target: &Path, bytes: &[u8], n: usize) -> std::io::Result<PathBuf> {
    let dir = target.parent().ok_or_else(|| std::io::Error::other("the path has no parent directory"))?;
    fs::create_dir_all(dir)?;
    let path = beside(target, "new", n);
    let mut file = fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
    let result = (|| {
        file.write_all(bytes)?;
        let perms = fs::metadata(target).map(|m| m.permissions()).unwrap_or(Permissions::from_mode(0o644));
        file.set_permissions(perms)?;
        file.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&path);
        return Err(e);
    }
    Ok(path)
}

impl Staged {
    /// The workspace-relative paths, in order.
    pub fn paths(&self) -> &[String] {
        &self.rels
    }

    fn discard(&self) {
        for e in &self.entries {
            if let Some(temp) = &e.temp {
                let _ = fs::remove_file(temp);
            }
        }
    }

    /// Writes the journal (when given), then puts every file in place; on a failure everything
    /// already replaced is rolled back and the error names the file.
    pub fn commit(self, change_ids: &[i64], journal: Option<&Path>) -> Result<Committed, ToolError> {
        if let Some(path) = journal {
            let record = Journal { change_ids: change_ids.to_vec(), entries: self.entries };
            let written = serde_json::to_vec(&record).map_err(std::io::Error::other).and_then(|bytes| {
                let mut f = fs::File::create(path)?;
                f.write_all(&bytes)?;
                f.sync_all()
            });
            let staged = Staged { entries: record.entries, rels: self.rels };
            if let Err(e) = written {
                staged.discard();
                let _ = fs::remove_file(path);
                return Err(ToolError::Io(format!("could not write the restore journal: {e}")));
            }
            return staged.put_in_place(journal);
        }
        self.put_in_place(None)
    }

    fn put_in_place(self, journal: Option<&Path>) -> Result<Committed, ToolError> {
        let mut done = Committed { entries: Vec::new(), journal: journal.map(Path::to_path_buf) };
        for (entry, rel) in self.entries.into_iter().zip(&self.rels) {
            if let Err(e) = replace(&entry) {
                let _ = put_back(&entry);
                done.rollback();
                return Err(ToolError::io("restoring", rel, &e));
            }
            done.entries.push(entry);
        }
        Ok(done)
    }
}

/// Keeps the original as the backup, then puts the new content (or nothing) in its place.
fn replace(e: &Entry) -> std::io::Result<()> {
    match (&e.backup, &e.temp) {
        (Some(backup), Some(temp)) => {
            fs::hard_link(&e.target, backup)?;
            fs::rename(temp, &e.target)
        }
        (Some(backup), None) => fs::rename(&e.target, backup),
        (None, Some(temp)) => fs::rename(temp, &e.target),
        (None, None) => Ok(()),
    }
}

/// Undoes [`replace`] for one entry (best effort; the journal keeps what could not be undone).
fn put_back(e: &Entry) -> std::io::Result<()> {
    match &e.backup {
        Some(backup) if backup.exists() => {
            fs::rename(backup, &e.target)?;
            // Interrupted between taking the backup (a hard link) and the rename: both names are
            // links to the original, and rename between links of one file does nothing. The
            // original is in place; drop the extra name.
            if fs::symlink_metadata(backup).is_ok() {
                fs::remove_file(backup)?;
            }
        }
        Some(_) => {}
        None => match fs::remove_file(&e.target) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
            _ => {}
        },
    }
    if let Some(temp) = &e.temp {
        let _ = fs::remove_file(temp);
    }
    Ok(())
}

impl Committed {
    /// Puts every original back (newest first) and removes the journal.
    pub fn rollback(self) {
        for e in self.entries.iter().rev() {
            let _ = put_back(e);
        }
        sync_parents(&self.entries);
        if let Some(journal) = &self.journal {
            let _ = fs::remove_file(journal);
        }
    }

    /// Drops the kept originals and the journal: the restore is final.
    pub fn finish(self) {
        finish_entries(&self.entries);
        sync_parents(&self.entries);
        if let Some(journal) = &self.journal {
            let _ = fs::remove_file(journal);
        }
    }
}

fn finish_entries(entries: &[Entry]) {
    for e in entries {
        if let Some(backup) = &e.backup {
            let _ = fs::remove_file(backup);
        }
        if let Some(temp) = &e.temp {
            let _ = fs::remove_file(temp);
        }
    }
}

fn sync_parents(entries: &[Entry]) {
    for e in entries {
        if let Some(dir) = e.target.parent() {
            sync_dir(dir);
        }
    }
}

/// After a crash: reads the journal at `path` (if any); when `completed(change_ids)` says the
/// restore was recorded, drops the kept originals, else puts every original back. Returns the
/// journal's change ids and whether it was rolled back; the journal is removed.
pub fn recover(path: &Path, completed: impl FnOnce(&[i64]) -> bool) -> Option<(Vec<i64>, bool)> {
    let bytes = fs::read(path).ok()?;
    let Ok(journal) = serde_json::from_slice::<Journal>(&bytes) else {
        let _ = fs::remove_file(path);
        return None;
    };
    let done = completed(&journal.change_ids);
    if done {
        finish_entries(&journal.entries);
    } else {
        for e in journal.entries.iter().rev() {
            // A file whose original is still in place (backup not yet taken, or a deletion not
            // yet done) needs nothing; otherwise the backup goes back.
            let replaced = match (&e.backup, &e.temp) {
                (Some(backup), _) => backup.exists(),
                (None, Some(temp)) => !temp.exists() && e.target.exists(),
                (None, None) => false,
            };
            if replaced {
                let _ = put_back(e);
            } else if let Some(temp) = &e.temp {
                let _ = fs::remove_file(temp);
            }
        }
    }
    sync_parents(&journal.entries);
    let _ = fs::remove_file(path);
    Some((journal.change_ids, !done))
}
