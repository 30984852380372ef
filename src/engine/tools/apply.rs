//! [`apply`]: the only function in the tools that writes to the workspace.
//!
//! Invariants:
//! - The path is resolved again (for writing), so `.git/` and paths outside the root are refused
//!   even if a `FileChange` was built elsewhere.
//! - Right before writing, the file on disk must hash to `expected_before` (`None` = must not
//!   exist); otherwise [`ToolError::Stale`] and nothing is touched. The hash is computed streaming.
//! - Writes are atomic: a temp file in the same directory is written, fsynced, given the original's
//!   permissions, and renamed over the target (then the directory is fsynced, best effort). Readers
//!   see the old bytes or the new bytes, never a mix; on failure the temp file is removed and the
//!   original is untouched.
//! - Missing parent directories of a new file are created. `after == None` deletes the file.
//! - On success the ledger holds the hash of the new content (or forgets a deleted file), so the
//!   model may edit again without re-reading.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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
    let current = hash_file(&abs).map_err(|e| ToolError::io("reading", &rel, &e))?;
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

/// Temp file beside `target`, written and fsynced, original permissions, renamed over `target`.
fn write_atomic(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = target.parent().ok_or_else(|| std::io::Error::other("the path has no parent directory"))?;
    fs::create_dir_all(dir)?;
    let original_perms = fs::metadata(target).ok().map(|m| m.permissions());
    let tmp = temp_path(target);
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        if let Some(perms) = original_perms {
            file.set_permissions(perms)?;
        }
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dir);
    Ok(())
}

/// `dir/.name.kv1nt-<pid>-<n>.tmp`: unique per process and call.
fn temp_path(target: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!(".{name}.kv1nt-{}-{n}.tmp", std::process::id()))
}

/// Makes a rename or unlink in `dir` durable, where the platform allows it.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
