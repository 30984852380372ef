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
//! - Vectors live twice: float32 in `entity_vectors` (exact cosine) and, when the dimension is
//!   a multiple of 8, sign-quantised in `entity_vectors_bin` (`bit[dim]`, 32× smaller, hamming
//!   KNN). Why: brute-force float KNN over 100k × 384 reads ~150 MB per query (~40 ms); the
//!   bit table is ~5 MB, and re-ranking its few hundred best candidates exactly restores the
//!   order. Both are written only through [`put_vector_in`], dropped and re-created together
//!   by [`GraphDb::ensure_vectors`], and cleaned by one delete trigger on `entities`
//!   (triggers cannot sit on virtual tables, so the entity side carries it). Databases
//!   embedded before v2 get the bit table from migration v2.

use std::cell::RefCell;
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
    /// In-memory copy of `entity_vectors_bin` for the coarse vector stage.
    pub(crate) bits: RefCell<Option<BitsCache>>,
}

/// A packed copy of the binary vector table, valid while [`BitsCache::stamp`] matches: the
/// connection's `PRAGMA data_version` (bumped by other connections' commits) and
/// `total_changes` (bumped by this one's writes).
pub(crate) struct BitsCache {
    pub stamp: (i64, u64),
    /// Bytes per vector.
    pub width: usize,
    pub ids: Vec<i64>,
    /// `ids.len() × width` bytes, one vector after another.
    pub bits: Vec<u8>,
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
        let db = GraphDb { conn, path: Some(path.to_path_buf()), notice: None, bits: RefCell::new(None) };
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
        let db = GraphDb { conn, path: None, notice: None, bits: RefCell::new(None) };
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
        Ok(table_exists(&self.conn, "entity_vectors")?)
    }

    /// Whether the binary-quantised companion table exists (dimensions divisible by 8 only).
    pub fn has_binary_vectors(&self) -> Result<bool> {
        Ok(table_exists(&self.conn, BIN_TABLE)?)
    }

    /// How many entities have a vector (0 without the vector table). Counts the `vec0`
    /// table's plain rowid shadow table: a b-tree count, not a scan of the vectors.
    pub fn vector_count(&self) -> Result<usize> {
        if !self.has_vectors()? {
            return Ok(0);
        }
        let n: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM entity_vectors_rowids")?
            .query_row([], |r| r.get(0))?;
        Ok(n.max(0) as usize)
    }

    /// The embedding model and dimension the vector table holds, if any.
    pub fn vector_model(&self) -> Result<Option<(String, usize)>> {
        let (Some(model), Some(dim)) = (self.meta("embed_model")?, self.meta("embed_dim")?) else {
            return Ok(None);
        };
        Ok(dim.parse().ok().map(|d| (model, d)))
    }

    /// Creates the `vec0` tables for `model`/`dim`, dropping vectors of a different model
    /// (from both the float and the binary table).
    pub fn ensure_vectors(&self, model: &str, dim: usize) -> Result<()> {
        let same = self.vector_model()?.is_some_and(|(m, d)| m == model && d == dim);
        if same && self.has_vectors()? {
            return Ok(());
        }
        let (binary, trigger) = if dim.is_multiple_of(8) {
            (
                format!("CREATE VIRTUAL TABLE {BIN_TABLE} USING vec0(embedding bit[{dim}]);"),
                VEC_DELETE_TRIGGER,
            )
        } else {
            (String::new(), VEC_DELETE_TRIGGER_FLOAT_ONLY)
        };
        self.conn.execute_batch(&format!(
            "DROP TRIGGER IF EXISTS entities_vec_ad;
             DROP TABLE IF EXISTS entity_vectors;
             DROP TABLE IF EXISTS {BIN_TABLE};
             CREATE VIRTUAL TABLE entity_vectors USING vec0(embedding float[{dim}] distance_metric=cosine);
             {binary}
             {trigger}"
        ))?;
        self.set_meta("embed_model", model)?;
        self.set_meta("embed_dim", &dim.to_string())?;
        Ok(())
    }

    /// Stores the vector of entity `id` in the float table and, when it exists, its
    /// sign-quantised copy in the binary table (the one place both are written).
    pub fn put_vector(&self, id: i64, vector: &[f32]) -> Result<()> {
        put_vector_in(&self.conn, id, vector, self.has_binary_vectors()?)
    }
}

/// The binary-quantised (one sign bit per dimension) companion of `entity_vectors`: the
/// coarse stage of vector search.
pub(crate) const BIN_TABLE: &str = "entity_vectors_bin";

/// Deleting an entity deletes its vectors from both tables (file deletion cascades to
/// entities, so to vectors too).
const VEC_DELETE_TRIGGER: &str = "CREATE TRIGGER entities_vec_ad AFTER DELETE ON entities BEGIN
    DELETE FROM entity_vectors WHERE rowid = old.id;
    DELETE FROM entity_vectors_bin WHERE rowid = old.id;
END;";

/// The same trigger for a database with no binary table (odd dimensions).
const VEC_DELETE_TRIGGER_FLOAT_ONLY: &str = "CREATE TRIGGER entities_vec_ad AFTER DELETE ON entities BEGIN
    DELETE FROM entity_vectors WHERE rowid = old.id;
END;";

fn table_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT count(*) FROM sqlite_master WHERE name = ?1")?
        .query_row([name], |r| r.get::<_, i64>(0))
        .map(|n| n > 0)
}

/// See [`GraphDb::put_vector`]; `binary`: whether the binary table exists.
pub(crate) fn put_vector_in(conn: &Connection, id: i64, vector: &[f32], binary: bool) -> Result<()> {
    let blob = vector_blob(vector);
    conn.prepare_cached("INSERT INTO entity_vectors(rowid, embedding) VALUES (?1, ?2)")?
        .execute(params![id, blob])?;
    if binary {
        conn.prepare_cached(
            "INSERT INTO entity_vectors_bin(rowid, embedding) VALUES (?1, vec_quantize_binary(?2))",
        )?
        .execute(params![id, blob])?;
    }
    Ok(())
}

/// Migration v2: a database embedded before the binary table existed gets it, filled from
/// the float vectors, and the delete trigger that covers both tables.
pub(crate) fn add_binary_vectors(tx: &Transaction) -> Result<()> {
    if !table_exists(tx, "entity_vectors")? || table_exists(tx, BIN_TABLE)? {
        return Ok(());
    }
    let dim: Option<String> =
        tx.query_row("SELECT value FROM meta WHERE key = 'embed_dim'", [], |r| r.get(0)).optional()?;
    let Some(dim) = dim.and_then(|d| d.parse::<usize>().ok()).filter(|d| d.is_multiple_of(8)) else {
        return Ok(());
    };
    tx.execute_batch(&format!(
        "CREATE VIRTUAL TABLE {BIN_TABLE} USING vec0(embedding bit[{dim}]);
         INSERT INTO {BIN_TABLE}(rowid, embedding)
             SELECT rowid, vec_quantize_binary(embedding) FROM entity_vectors;
         DROP TRIGGER IF EXISTS entities_vec_ad;
         {VEC_DELETE_TRIGGER}"
    ))?;
    Ok(())
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
