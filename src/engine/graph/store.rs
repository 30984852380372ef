//! The per-repository graph database: where it lives, opening (with corruption recovery),
//! the index lock, meta values and the lazily created vector table.
//!
//! Invariants:
//! - [`graph_db_path`] is a pure function of the data dir and the repository's canonical path:
//!   `<data_dir>/graphs/<sanitized-name>-<12 hex of xxh3(canonical path)>.sqlite`.
//! - A file SQLite rejects as not-a-database/corrupt is renamed to `<file>.corrupt-<unix
//!   seconds>` (with its `-wal`/`-shm`), a fresh database is created, and
//!   [`GraphDb::notice`] says so; nothing is deleted.
//! - Index runs hold [`IndexLock`] (an exclusive `flock` on `<file>.lock`) for their whole
//!   duration and write in `BEGIN IMMEDIATE` transactions, so two runs never interleave; the
//!   second waits up to its timeout, then fails with [`GraphError::Locked`].
//! - While `meta.fts_stale` is set (a bulk index run is in progress or died), the FTS triggers
//!   are absent and `entities_fts` may be stale; the run's end, the next index run, or the
//!   next open that can take the index lock rebuilds it and restores the triggers.
//! - Connections use `temp_store = MEMORY` (statement journals of the multi-row inserts never
//!   touch disk) and a 16 MiB page cache (64 MiB during a bulk run).
//! - The vector table's dimension and model are recorded in `meta`; a different model or
//!   dimension drops the vectors (not the cache) so they are re-embedded.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::schema;
use super::{GraphError, Result};
use crate::engine::store::{StoreError, db};

/// `meta` key set while the FTS triggers are suspended by a bulk index run.
const FTS_STALE: &str = "fts_stale";

/// The graph database file for the repository at `repo_root`.
pub fn graph_db_path(data_dir: &Path, repo_root: &Path) -> PathBuf {
    let canonical = std::fs::canonicalize(repo_root).unwrap_or_else(|_| repo_root.to_path_buf());
    let name: String = canonical
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "root".into())
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(48)
        .collect();
    let hash = xxhash_rust::xxh3::xxh3_64(canonical.as_os_str().as_encoded_bytes());
    let hex = format!("{hash:016x}");
    data_dir.join("graphs").join(format!("{name}-{}.sqlite", &hex[..12]))
}

/// An open graph database.
pub struct GraphDb {
    pub(crate) conn: Connection,
    path: Option<PathBuf>,
    notice: Option<String>,
}

impl GraphDb {
    /// Opens (creating, migrating, or rebuilding a corrupt one) the database at `path`.
    pub fn open(path: &Path) -> Result<GraphDb> {
        match Self::try_open(path) {
            Ok(db) => Ok(db),
            Err(e) if is_corrupt(&e) => {
                let stamp = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let aside = PathBuf::from(format!("{}.corrupt-{stamp}", path.display()));
                std::fs::rename(path, &aside).map_err(|e| GraphError::io(path, e))?;
                for ext in ["-wal", "-shm"] {
                    let side = PathBuf::from(format!("{}{ext}", path.display()));
                    if side.exists() {
                        let _ = std::fs::rename(&side, format!("{}{ext}", aside.display()));
                    }
                }
                let mut db = Self::try_open(path)?;
                db.notice = Some(format!(
                    "the graph database {} was corrupt; it was moved to {} and the graph will be rebuilt",
                    path.display(),
                    aside.display()
                ));
                tracing::warn!(path = %path.display(), aside = %aside.display(), "corrupt graph database moved aside");
                Ok(db)
            }
            Err(e) => Err(e),
        }
    }

    fn try_open(path: &Path) -> Result<GraphDb> {
        let conn = db::open_connection(path)?;
        schema::migrate(&conn).map_err(|e| match e {
            GraphError::Sqlite(s) => GraphError::Store(db::corrupt_or(s, path)),
            other => other,
        })?;
        let db = GraphDb { conn, path: Some(path.to_path_buf()), notice: None };
        db.tune()?;
        // A bulk run that died left the FTS index stale: repair it unless a run is going on.
        if db.meta(FTS_STALE)?.is_some()
            && let Ok(_lock) = db.lock_for_index(Duration::ZERO)
        {
            db.resume_fts()?;
        }
        Ok(db)
    }

    /// A private in-memory graph (tests, benchmarks).
    pub fn open_in_memory() -> Result<GraphDb> {
        let conn = db::open_in_memory()?;
        schema::migrate(&conn)?;
        let db = GraphDb { conn, path: None, notice: None };
        db.tune()?;
        Ok(db)
    }

    /// Connection settings for this database's workload. Temporary b-trees (statement
    /// journals, sorts) stay in memory, and prepared statements are cached generously: the
    /// writer's multi-row inserts and the queries each have their own.
    fn tune(&self) -> Result<()> {
        self.conn.pragma_update(None, "temp_store", "MEMORY")?;
        self.conn.pragma_update(None, "cache_size", -16384)?;
        self.conn.set_prepared_statement_cache_capacity(64);
        Ok(())
    }

    /// Starts a bulk write (a full or mostly-changed index run; the caller holds the index
    /// lock): the FTS triggers are dropped and `fts_stale` recorded in `meta` in one
    /// transaction; [`GraphDb::resume_fts`] rebuilds the FTS index from `entities` in one pass
    /// and restores the triggers. Keeping FTS5 in sync row by row costs more than the rest of
    /// the insert (every statement's savepoint flushes a tiny FTS segment that is merged
    /// later). Until resumed, lexical search sees a stale index; a run that dies leaves the
    /// mark, and the next open or index run repairs it. Also disables fsync for the run
    /// (`synchronous = OFF`: a crash can lose the run's work, never corrupt what a
    /// rebuild cannot redo) and grows the page cache.
    pub(crate) fn suspend_fts(&self) -> Result<()> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "DROP TRIGGER IF EXISTS entities_fts_ai;
             DROP TRIGGER IF EXISTS entities_fts_ad;
             DROP TRIGGER IF EXISTS entities_fts_au;",
        )?;
        tx.execute(
            "INSERT INTO meta(key, value) VALUES (?1, '1') ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [FTS_STALE],
        )?;
        tx.commit()?;
        self.conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;")?;
        Ok(())
    }

    /// Ends a bulk write (see [`GraphDb::suspend_fts`]); a no-op when none is pending.
    pub(crate) fn resume_fts(&self) -> Result<()> {
        if self.meta(FTS_STALE)?.is_none() {
            return Ok(());
        }
        self.conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384;")?;
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        tx.execute_batch("INSERT INTO entities_fts(entities_fts) VALUES ('rebuild');")?;
        tx.execute_batch(schema::FTS_TRIGGERS)?;
        tx.execute("DELETE FROM meta WHERE key = ?1", [FTS_STALE])?;
        tx.commit()?;
        Ok(())
    }

    /// Set when opening had to rebuild a corrupt database: tell the user.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Takes the index lock, waiting up to `timeout` for another run to finish.
    pub fn lock_for_index(&self, timeout: Duration) -> Result<IndexLock> {
        let Some(path) = &self.path else { return Ok(IndexLock { _lock: None }) };
        let lock_path = PathBuf::from(format!("{}.lock", path.display()));
        let start = Instant::now();
        loop {
            let file = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .map_err(|e| GraphError::io(&lock_path, e))?;
            match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
                Ok(lock) => return Ok(IndexLock { _lock: Some(lock) }),
                Err((_, nix::errno::Errno::EWOULDBLOCK)) if start.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
                    return Err(GraphError::Locked { lock: lock_path, waited_secs: timeout.as_secs() });
                }
                Err((_, errno)) => return Err(GraphError::io(&lock_path, std::io::Error::from(errno))),
            }
        }
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Whether the vector table exists (an embedder has run).
    pub fn has_vectors(&self) -> Result<bool> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'entity_vectors'",
            [],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    /// The embedding model and dimension the vector table holds, if any.
    pub fn vector_model(&self) -> Result<Option<(String, usize)>> {
        let (Some(model), Some(dim)) = (self.meta("embed_model")?, self.meta("embed_dim")?) else {
            return Ok(None);
        };
        Ok(dim.parse().ok().map(|d| (model, d)))
    }

    /// Creates the `vec0` table for `model`/`dim`, dropping vectors of a different model.
    pub fn ensure_vectors(&self, model: &str, dim: usize) -> Result<()> {
        let same = self.vector_model()?.is_some_and(|(m, d)| m == model && d == dim);
        if same && self.has_vectors()? {
            return Ok(());
        }
        self.conn.execute_batch(&format!(
            "DROP TRIGGER IF EXISTS entities_vec_ad;
             DROP TABLE IF EXISTS entity_vectors;
             CREATE VIRTUAL TABLE entity_vectors USING vec0(embedding float[{dim}] distance_metric=cosine);
             CREATE TRIGGER entities_vec_ad AFTER DELETE ON entities BEGIN
                 DELETE FROM entity_vectors WHERE rowid = old.id;
             END;"
        ))?;
        self.set_meta("embed_model", model)?;
        self.set_meta("embed_dim", &dim.to_string())?;
        Ok(())
    }
}

/// Held for the duration of an index run; released on drop.
pub struct IndexLock {
    _lock: Option<nix::fcntl::Flock<File>>,
}

fn is_corrupt(e: &GraphError) -> bool {
    match e {
        GraphError::Store(StoreError::Corrupt { .. }) => true,
        GraphError::Sqlite(s) => matches!(
            s.sqlite_error_code(),
            Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
        ),
        _ => false,
    }
}

/// Encodes a vector as sqlite-vec's little-endian f32 blob.
pub fn vector_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Decodes a little-endian f32 blob.
pub fn blob_vector(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_is_stable_and_sanitized() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("my repo!");
        std::fs::create_dir(&repo).unwrap();
        let a = graph_db_path(Path::new("/data"), &repo);
        assert_eq!(a, graph_db_path(Path::new("/data"), &repo));
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("my_repo_-") && name.ends_with(".sqlite"), "{name}");
        assert!(a.starts_with("/data/graphs"));
    }
}
