//! The change ledger for undo: the before/after contents of every file a change touches, stored
//! content-addressed in the session database, never through the user's git.
//!
//! Invariants:
//! - A blob's key is the lowercase hex sha256 of its bytes; identical contents are stored once.
//!   Blobs are never deleted, and `change_files` references them by foreign key, so every hash a
//!   change names can be loaded.
//! - [`Store::begin_change`] writes the blobs, the change row (state `pending`) and its file
//!   rows in one transaction, *before* the caller touches the disk. A change still `pending`
//!   on the next start belongs to a writer that died between approval and write; the caller
//!   recovers it from [`Store::pending_changes`] (its files are each at the before or the after
//!   state, or conflicting).
//! - State moves only through [`Store::mark_change`] (or [`Store::mark_changes`], several in
//!   one transaction) to `applied` or `undone`; rows are never deleted.
//! - Contents are bytes end to end: nothing is decoded, normalised or re-encoded (CRLF and
//!   non-UTF-8 bytes come back exactly).
//! - [`restore_plan`] and [`rewind_plan`] only read: they take the current disk state as a
//!   function and return what to write, so they are testable without a file system.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, Params, Transaction, TransactionBehavior};
use sha2::{Digest, Sha256};

use super::audit::cap;
use super::sessions::{Store, now_rfc3339};
use super::{Result, StoreError};
use crate::engine::approval::FileChange;

/// One recorded change (one approved edit action), with its files ordered by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    pub id: i64,
    pub time: String,
    pub description: String,
    /// `pending`, `applied` or `undone`.
    pub state: String,
    pub files: Vec<ChangeFile>,
}

/// One file of a change. A `None` hash means the file did not exist (before) or was deleted
/// (after).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeFile {
    pub path: String,
    pub before_hash: Option<String>,
    pub after_hash: Option<String>,
}

/// A file change as raw bytes, for contents that are not UTF-8 (see [`Store::begin_change_bytes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteChange<'a> {
    pub path: &'a str,
    pub before: Option<&'a [u8]>,
    pub after: Option<&'a [u8]>,
}

/// What to do to one file to undo: write `content`, or delete the file when it is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreStep {
    pub path: String,
    pub content: Option<Vec<u8>>,
    /// The file now holds neither the recorded after nor the before content (someone changed
    /// it since): ask before overwriting.
    pub conflict: bool,
}

/// Lowercase hex sha256 of `bytes`: a file's content hash everywhere (these blobs, the tools'
/// read ledger and stale check, undo). `tools::apply` hashes files streaming to the same form.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

impl Store {
    /// Records `changes` as a `pending` change (blobs deduplicated by sha256); returns its id.
    /// Call it BEFORE writing the files, then [`mark_change`](Self::mark_change) `applied`.
    pub fn begin_change(&self, session_id: &str, description: &str, changes: &[FileChange]) -> Result<i64> {
        let bytes: Vec<ByteChange> = changes
            .iter()
            .map(|c| ByteChange {
                path: &c.path,
                before: c.before.as_deref().map(str::as_bytes),
                after: c.after.as_deref().map(str::as_bytes),
            })
            .collect();
        self.begin_change_bytes(session_id, description, &bytes)
    }

    /// [`begin_change`](Self::begin_change) over raw bytes. A path listed twice is recorded
    /// once: the `before` of its first entry and the `after` of its last.
    pub fn begin_change_bytes(
        &self,
        session_id: &str,
        description: &str,
        changes: &[ByteChange],
    ) -> Result<i64> {
        let mut merged: BTreeMap<&str, ByteChange> = BTreeMap::new();
        for c in changes {
            merged.entry(c.path).and_modify(|e| e.after = c.after).or_insert(*c);
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let change_id: i64 = tx
            .prepare_cached(
                "INSERT INTO changes (session_id, time, description, state)
                 VALUES (?1, ?2, ?3, 'pending') RETURNING id",
            )?
            .query_row((session_id, now_rfc3339(), cap(description)), |r| r.get(0))?;
        for (path, c) in merged {
            let before_hash = c.before.map(|b| put_blob(&tx, b)).transpose()?;
            let after_hash = c.after.map(|b| put_blob(&tx, b)).transpose()?;
            tx.prepare_cached(
                "INSERT INTO change_files (change_id, path, before_hash, after_hash)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute((change_id, path, before_hash, after_hash))?;
        }
        tx.commit()?;
        Ok(change_id)
    }

    /// Moves a change to `applied` (its files were written) or `undone` (they were restored).
    pub fn mark_change(&self, change_id: i64, state: &str) -> Result<()> {
        if !matches!(state, "applied" | "undone") {
            return Err(invalid(format!("`{state}` is not a change state to mark; use applied or undone")));
        }
        let changed = self
            .conn
            .prepare_cached("UPDATE changes SET state = ?2, marked_at = ?3 WHERE id = ?1")?
            .execute((change_id, state, super::sessions::now_rfc3339()))?;
        if changed == 0 {
            return Err(invalid(format!("no recorded change with id {change_id}")));
        }
        Ok(())
    }

    /// Moves several changes to `state` in one transaction: all of them or none.
    pub fn mark_changes(&self, change_ids: &[i64], state: &str) -> Result<()> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        for id in change_ids {
            self.mark_change(*id, state)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The content stored under `hash`, if any.
    pub fn blob(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT content FROM blobs WHERE hash = ?1")?
            .query_row([hash], |r| r.get(0))
            .optional()?)
    }

    /// Every change of the session, oldest first.
    pub fn changes(&self, session_id: &str) -> Result<Vec<ChangeRecord>> {
        self.query_changes("c.session_id = ?1", [session_id])
    }

    /// The session's changes left `pending` (the writer died before marking them), oldest first.
    pub fn pending_changes(&self, session_id: &str) -> Result<Vec<ChangeRecord>> {
        self.query_changes("c.session_id = ?1 AND c.state = 'pending'", [session_id])
    }

    /// One change by id.
    pub fn change(&self, change_id: i64) -> Result<Option<ChangeRecord>> {
        Ok(self.query_changes("c.id = ?1", [change_id])?.pop())
    }

    fn query_changes(&self, filter: &str, params: impl Params) -> Result<Vec<ChangeRecord>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT c.id, c.time, c.description, c.state, f.path, f.before_hash, f.after_hash
             FROM changes c LEFT JOIN change_files f ON f.change_id = c.id
             WHERE {filter} ORDER BY c.id, f.path"
        ))?;
        let mut rows = stmt.query(params)?;
        let mut out: Vec<ChangeRecord> = Vec::new();
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            if out.last().is_none_or(|c| c.id != id) {
                out.push(ChangeRecord {
                    id,
                    time: row.get(1)?,
                    description: row.get(2)?,
                    state: row.get(3)?,
                    files: Vec::new(),
                });
            }
            if let Some(path) = row.get::<_, Option<String>>(4)?
                && let Some(record) = out.last_mut()
            {
                record.files.push(ChangeFile { path, before_hash: row.get(5)?, after_hash: row.get(6)? });
            }
        }
        Ok(out)
    }
}

/// Stores `content` under its hash unless already there; returns the hash.
fn put_blob(tx: &Transaction<'_>, content: &[u8]) -> Result<String> {
    let hash = sha256_hex(content);
    tx.prepare_cached("INSERT OR IGNORE INTO blobs (hash, content) VALUES (?1, ?2)")?
        .execute((&hash, content))?;
    Ok(hash)
}

/// An invalid argument or a missing row, reported as a database error with a readable message.
fn invalid(message: String) -> StoreError {
    StoreError::Sqlite(rusqlite::Error::ToSqlConversionFailure(message.into()))
}

/// How to undo `change` given the disk now (`current(path)`: the file's bytes, `None` if absent):
/// one step per file of the change, in path order, writing back its before content or deleting
/// it if it did not exist. A step may be a no-op (the file already holds its before content);
/// callers treat deleting an absent file as success. Works for any state, so a crashed
/// `pending` change can be rolled back too.
pub fn restore_plan(
    store: &Store,
    change: &ChangeRecord,
    current: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<Vec<RestoreStep>> {
    change
        .files
        .iter()
        .map(|f| step(store, &f.path, f.before_hash.as_deref(), f.after_hash.as_deref(), current))
        .collect()
}

/// How to rewind the session to just after change `to_change` (0: before its first change):
/// undo every `applied` change with a greater id, merged per file so each file ends byte-exactly
/// as it was before the oldest of them touched it. Steps come newest change first (then by path).
/// A file conflicts when it holds neither the newest recorded after content nor that target.
/// The caller then marks each of those changes `undone`; `pending` and `undone` ones are skipped.
pub fn rewind_plan(
    store: &Store,
    session_id: &str,
    to_change: i64,
    current: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<Vec<RestoreStep>> {
    let all = store.changes(session_id)?;
    if to_change != 0 && !all.iter().any(|c| c.id == to_change) {
        return Err(invalid(format!("session {session_id} has no recorded change with id {to_change}")));
    }
    // path -> (content to restore, content expected now, newest change touching it)
    let mut merged: BTreeMap<&str, (Option<&str>, Option<&str>, i64)> = BTreeMap::new();
    for change in all.iter().filter(|c| c.id > to_change && c.state == "applied") {
        for f in &change.files {
            let entry = merged.entry(&f.path).or_insert((f.before_hash.as_deref(), None, change.id));
            entry.1 = f.after_hash.as_deref();
            entry.2 = change.id;
        }
    }
    let mut order: Vec<_> = merged.into_iter().collect();
    order.sort_by(|a, b| b.1.2.cmp(&a.1.2).then_with(|| a.0.cmp(b.0)));
    order.into_iter().map(|(path, (before, after, _))| step(store, path, before, after, current)).collect()
}

fn step(
    store: &Store,
    path: &str,
    before_hash: Option<&str>,
    after_hash: Option<&str>,
    current: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<RestoreStep> {
    let content = match before_hash {
        None => None,
        Some(hash) => Some(
            store
                .blob(hash)?
                .ok_or_else(|| invalid(format!("pre-image blob {hash} for {path} is missing")))?,
        ),
    };
    let now = current(path).map(|bytes| sha256_hex(&bytes));
    let conflict = now.as_deref() != after_hash && now.as_deref() != before_hash;
    Ok(RestoreStep { path: path.to_owned(), content, conflict })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_empty_and_abc() {
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn mark_change_rejects_bad_state_and_unknown_id() {
        let store = Store::open_in_memory().unwrap();
        let id = store.begin_change("s", "d", &[]).unwrap();
        assert!(store.mark_change(id, "pending").is_err());
        assert!(store.mark_change(id + 1, "applied").is_err());
        store.mark_change(id, "applied").unwrap();
        let c = store.change(id).unwrap().unwrap();
        assert_eq!((c.state.as_str(), c.files.len()), ("applied", 0));
    }

    #[test]
    fn duplicate_paths_merge() {
        let store = Store::open_in_memory().unwrap();
        let changes = [
            ByteChange { path: "a", before: Some(b"1"), after: Some(b"2") },
            ByteChange { path: "a", before: Some(b"2"), after: Some(b"3") },
        ];
        let id = store.begin_change_bytes("s", "d", &changes).unwrap();
        let f = &store.change(id).unwrap().unwrap().files;
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].before_hash.as_deref(), Some(sha256_hex(b"1").as_str()));
        assert_eq!(f[0].after_hash.as_deref(), Some(sha256_hex(b"3").as_str()));
    }
}
