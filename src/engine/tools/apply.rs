//! [`apply`]: the only function in the tools that writes to the workspace.
//!
//! Invariants:
//! - The path is resolved again (for writing), so `.git/` and paths outside the root are refused
//!   even if a `FileChange` was built elsewhere.
//! - Right before writing, the file on disk must hash to `expected_before` (`None` = must not
//!   exist); otherwise [`ToolError::Stale`] and nothing is touched. The hash is computed streaming.
//! - Writes are atomic ([`write_atomic`], on `tempfile`): a temp file in the same directory is
//!   written, given the original's permissions (a new file gets 0666 less the umask, as `open`
//!   would), fsynced, and renamed over the target (then the directory is fsynced, best effort).
//!   Readers see the old bytes or the new bytes, never a mix; on failure the temp file is removed
//!   and the original is untouched.
//! - Missing parent directories of a new file are created. `after == None` deletes the file.
//! - On success the ledger holds the hash of the new content (or forgets a deleted file), so the
//!   model may edit again without re-reading.

use std::fs::{self, File, Permissions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{ReadLedger, ToolError, Workspace};
use crate::engine::approval::FileChange;

/// Writes `change.after` to `change.path` atomically (or deletes it when `after` is `None`),
/// after checking the file still hashes to `expected_before`.
pub fn apply(
    ws: &Workspace,
    ledger: &mut ReadLedger,
    change: &FileChange,
    expected_before: Option<&str>,
) -> Result<(), ToolError> {
    let (abs, rel) = ws.resolve(&change.path, true)?;
    if fs::metadata(&abs).is_ok_and(|m| m.is_dir()) {
        return Err(ToolError::Invalid(format!("`{rel}` is a directory; only files can be written")));
    }
    let current = check_before(&abs, &rel, expected_before)?;

    match &change.after {
        Some(text) => {
            write_atomic(&abs, text.as_bytes()).map_err(|e| ToolError::io("writing", &rel, &e))?;
            ledger.record(&rel, text.as_bytes());
        }
        None => {
            if current.is_none() {
                return Err(ToolError::NotFound(format!("`{rel}` does not exist, so it cannot be deleted")));
            }
            fs::remove_file(&abs).map_err(|e| ToolError::io("deleting", &rel, &e))?;
            if let Some(dir) = abs.parent() {
                sync_dir(dir);
            }
            ledger.forget(&rel);
        }
    }
    Ok(())
}

/// The file's current hash, after checking it is what the change expects (`None` = must not
/// exist); a stale file is refused with [`ToolError::Stale`].
pub(super) fn check_before(
    abs: &Path,
    rel: &str,
    expected_before: Option<&str>,
) -> Result<Option<String>, ToolError> {
    let current = hash_file(abs).map_err(|e| ToolError::io("reading", rel, &e))?;
    match (expected_before, current.as_deref()) {
        (None, None) => {}
        (Some(want), Some(now)) if want == now => {}
        (Some(_), None) => {
            return Err(ToolError::Stale(format!(
                "{rel} was deleted since this change was proposed; nothing was written — check \
                 with list_dir and propose the change again"
            )));
        }
        (None, Some(_)) => {
            return Err(ToolError::Stale(format!(
                "{rel} was created on disk since this change was proposed; nothing was written — \
                 read it and propose the change again"
            )));
        }
        (Some(_), Some(_)) => {
            return Err(ToolError::Stale(format!(
                "{rel} changed on disk since this change was proposed; nothing was written — read \
                 it again and redo the change"
            )));
        }
    }
    Ok(current)
}

/// sha256 hex of the file, streaming; `None` when it does not exist.
fn hash_file(path: &Path) -> std::io::Result<Option<String>> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(format!("{:x}", hasher.finalize())))
}

/// Writes `bytes` to `target` atomically: a temp file beside it (`.NAME.XXXXXX.kv1nt.tmp`),
/// written, given the original's permissions, fsynced and renamed over `target`; the directory is
/// fsynced after. Missing parent directories are created. On failure the temp file is removed.
fn write_atomic(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = target.parent().ok_or_else(|| std::io::Error::other("the path has no parent directory"))?;
    fs::create_dir_all(dir)?;
    let original_perms = fs::metadata(target).ok().map(|m| m.permissions());
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // Dropping `tmp` (an early return, or inside a failed persist's error) deletes the file.
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".kv1nt.tmp")
        .permissions(Permissions::from_mode(0o666))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    if let Some(perms) = original_perms {
        tmp.as_file().set_permissions(perms)?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(target).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// Makes a rename or unlink in `dir` durable, where the platform allows it.
pub(super) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn atomic_writes_keep_permissions_and_leave_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let (old, new) = (dir.path().join("run.sh"), dir.path().join("sub/new.txt"));
        fs::write(&old, "old").unwrap();
        fs::set_permissions(&old, Permissions::from_mode(0o751)).unwrap();
        write_atomic(&old, b"new").unwrap();
        assert_eq!(fs::read_to_string(&old).unwrap(), "new");
        assert_eq!(fs::metadata(&old).unwrap().permissions().mode() & 0o777, 0o751);
        // A new file gets what a plain create would give it (0666 less the umask).
        write_atomic(&new, b"x").unwrap();
        let plain = dir.path().join("sub/plain.txt");
        fs::write(&plain, "x").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&new), mode(&plain));
        assert_eq!(names(dir.path()), ["run.sh", "sub"]);
    }

    #[test]
    fn a_failed_rename_removes_the_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("taken");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("inside"), "x").unwrap();
        assert!(write_atomic(&target, b"new").is_err());
        assert_eq!(names(dir.path()), ["taken"]);
        assert_eq!(names(&target), ["inside"]);
    }
}
