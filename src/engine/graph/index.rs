//! Incremental indexing of a repository (or one file) into its graph database.
//!
//! A run: take the index lock → walk the tree (`.gitignore` respected, symlinks not followed)
//! → skip files whose size and mtime (else content hash) are unchanged → read, hash and parse
//! the rest in parallel (rayon) while the calling thread writes finished files in batches, one
//! `IMMEDIATE` transaction each → delete rows of files that are gone → re-resolve references
//! (all of them when most files changed, otherwise those made in the changed files or naming
//! a symbol they defined before or after).
//!
//! Performance (why it looks like this):
//! - A run that rewrites most of the tree (≥ `BULK_MIN_FILES` files and ≥ half of it) is a
//!   *bulk* run: FTS triggers are suspended and the FTS index rebuilt once at the end
//!   (`GraphDb::suspend_fts`), `synchronous = OFF` and a bigger page cache for its duration,
//!   and commits at most every `BULK_COMMIT_EVERY` (each commit rewrites the hot b-tree pages
//!   into the WAL). Small runs keep row-by-row FTS sync: rebuilding would cost more.
//! - Rows are written many per statement with ids assigned up front (`ingest::Pending`);
//!   tree-sitter parsers are reused per thread; resolution of a big run uses all cores.
//!
//! Invariants:
//! - Files larger than `max_file_bytes` are never read; binary files (a NUL byte in the first
//!   8 KiB) are skipped; non-UTF-8 text is decoded lossily and counted. All are reported.
//! - A file that fails to read is reported in `failed` and keeps its previous rows.
//! - Nothing here holds the lock beyond the function call.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use rayon::prelude::*;
use rusqlite::{Transaction, TransactionBehavior};

use super::ingest::{self, FileMeta, ResolveScope};
use super::parse::{Language, ParsedFile, parse_source};
use super::store::GraphDb;
use super::{GraphError, Result, packages};

mod one_file;
pub use one_file::reindex_file;

/// Files written per transaction.
const BATCH: usize = 128;
/// A run writing at least this many files, and at least half the tree, is a bulk run.
const BULK_MIN_FILES: usize = 64;
/// A bulk run commits at most this often.
const BULK_COMMIT_EVERY: Duration = Duration::from_millis(250);
/// Bytes inspected for NUL to call a file binary.
const BINARY_PROBE: usize = 8192;

#[derive(Clone, Debug)]
pub struct IndexOptions {
    /// Files above this size are skipped and reported (default 1 MiB).
    pub max_file_bytes: u64,
    /// Parser threads; 0 = all cores.
    pub threads: usize,
    /// How long to wait for another index run of the same database.
    pub lock_timeout: Duration,
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions { max_file_bytes: 1 << 20, threads: 0, lock_timeout: Duration::from_secs(30) }
    }
}

/// Progress reports (cheap; called from the calling thread only).
#[derive(Clone, Debug, PartialEq)]
pub enum IndexProgress {
    Walked { files: usize },
    Indexed { done: usize, total: usize },
    Resolving,
    Done,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct IndexReport {
    /// Source files (known language) found by the walk.
    pub files_seen: usize,
    pub files_indexed: usize,
    pub files_unchanged: usize,
    pub files_deleted: usize,
    pub skipped_too_large: Vec<String>,
    pub skipped_binary: usize,
    pub non_utf8: usize,
    /// Files (of those indexed) whose syntax tree had errors.
    pub parse_errors: usize,
    /// Files that could not be read: (path, error).
    pub failed: Vec<(String, String)>,
    /// Totals in the database after the run.
    pub entities: usize,
    pub relations: usize,
    pub elapsed: Duration,
}

struct Candidate {
    rel: String,
    abs: PathBuf,
    size: u64,
    mtime_ns: i64,
    lang: Language,
}

enum Outcome {
    Unchanged { rel: String, mtime_ns: i64 },
    Binary { rel: String },
    Parsed { rel: String, hash: String, size: u64, mtime_ns: i64, lossy: bool, parsed: ParsedFile },
    Failed { rel: String, error: String },
}

fn mtime_ns(md: &std::fs::Metadata) -> i64 {
    md.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos() as i64)
}

fn rel_path(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

pub fn content_hash(bytes: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes))
}

/// Reads, hashes and (when the hash differs from `known`) parses one file.
fn process(c: &Candidate, known: Option<&str>) -> Outcome {
    let bytes = match std::fs::read(&c.abs) {
        Ok(b) => b,
        Err(e) => return Outcome::Failed { rel: c.rel.clone(), error: e.to_string() },
    };
    if bytes[..bytes.len().min(BINARY_PROBE)].contains(&0) {
        return Outcome::Binary { rel: c.rel.clone() };
    }
    let hash = content_hash(&bytes);
    if known == Some(hash.as_str()) {
        return Outcome::Unchanged { rel: c.rel.clone(), mtime_ns: c.mtime_ns };
    }
    let (text, lossy) = match String::from_utf8(bytes) {
        Ok(s) => (s, false),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
    };
    match parse_source(c.lang, &c.rel, &text) {
        Some(parsed) => {
            Outcome::Parsed { rel: c.rel.clone(), hash, size: c.size, mtime_ns: c.mtime_ns, lossy, parsed }
        }
        None => Outcome::Failed { rel: c.rel.clone(), error: "the parser gave up".into() },
    }
}

/// A bulk write in progress; ends it (rebuilding FTS) even when the run fails half-way.
struct BulkRun<'a>(Option<&'a GraphDb>);

impl<'a> BulkRun<'a> {
    fn start(db: &'a GraphDb) -> Result<BulkRun<'a>> {
        db.suspend_fts()?;
        Ok(BulkRun(Some(db)))
    }

    fn finish(mut self) -> Result<()> {
        self.0.take().map_or(Ok(()), GraphDb::resume_fts)
    }
}

impl Drop for BulkRun<'_> {
    fn drop(&mut self) {
        if let Some(db) = self.0.take() {
            let _ = db.resume_fts();
        }
    }
}

struct Known {
    hash: String,
    size: u64,
    mtime_ns: i64,
}

fn known_files(db: &GraphDb) -> Result<HashMap<String, Known>> {
    let mut st = db.conn.prepare("SELECT path, hash, size, mtime_ns FROM files")?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            Known { hash: r.get(1)?, size: r.get::<_, i64>(2)? as u64, mtime_ns: r.get(3)? },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?)
}

/// Accumulates written files and what resolution must revisit.
#[derive(Default)]
struct Changes {
    files: Vec<String>,
    names: HashSet<String>,
    ref_ids: HashSet<i64>,
}

impl Changes {
    /// Before `path`'s rows go: refs pointing into it must be re-resolved, and its old names
    /// (all of them when it is removed, else only those that disappear) may change what
    /// other refs resolve to; `new` names the file defines after the change.
    fn note(&mut self, conn: &rusqlite::Connection, path: &str, new: Option<&ParsedFile>) -> Result<()> {
        self.ref_ids.extend(ingest::refs_into_file(conn, path)?);
        let old: HashSet<String> = ingest::names_in_file(conn, path)?.into_iter().collect();
        match new {
            None => self.names.extend(old),
            Some(p) => {
                let new: HashSet<&str> = p.entities.iter().map(|e| e.name.as_str()).collect();
                self.names.extend(old.iter().filter(|n| !new.contains(n.as_str())).cloned());
                self.names.extend(new.into_iter().filter(|n| !old.contains(*n)).map(str::to_string));
            }
        }
        self.files.push(path.to_string());
        Ok(())
    }
}

fn apply(
    db: &GraphDb,
    batch: &mut Vec<Outcome>,
    report: &mut IndexReport,
    changes: &mut Changes,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let tx = Transaction::new_unchecked(&db.conn, TransactionBehavior::Immediate)?;
    let mut pending = ingest::Pending::default();
    for o in batch.iter() {
        match o {
            Outcome::Unchanged { rel, mtime_ns } => {
                ingest::touch_file(&tx, rel, *mtime_ns)?;
                report.files_unchanged += 1;
            }
            Outcome::Binary { rel } => {
                changes.note(&tx, rel, None)?;
                ingest::delete_file(&tx, rel)?;
                report.skipped_binary += 1;
            }
            Outcome::Failed { rel, error } => report.failed.push((rel.clone(), error.clone())),
            Outcome::Parsed { rel, hash, size, mtime_ns, lossy, parsed } => {
                changes.note(&tx, rel, Some(parsed))?;
                let meta = FileMeta { path: rel, hash, size: *size, mtime_ns: *mtime_ns, lossy: *lossy };
                pending.add(&tx, &meta, parsed)?;
                report.files_indexed += 1;
                report.non_utf8 += usize::from(*lossy);
                report.parse_errors += usize::from(parsed.errors > 0);
            }
        }
    }
    pending.flush(&tx)?;
    drop(pending);
    tx.commit()?;
    batch.clear();
    Ok(())
}

fn totals(db: &GraphDb, report: &mut IndexReport) -> Result<()> {
    report.entities =
        db.conn.query_row("SELECT count(*) FROM entities", [], |r| r.get::<_, i64>(0))? as usize;
    report.relations =
        db.conn.query_row("SELECT count(*) FROM relations", [], |r| r.get::<_, i64>(0))? as usize;
    Ok(())
}

fn resolve(db: &GraphDb, changes: Changes, total_files: usize) -> Result<()> {
    if changes.files.is_empty() && changes.names.is_empty() && changes.ref_ids.is_empty() {
        return Ok(());
    }
    let scope = if changes.files.len() * 2 > total_files {
        ResolveScope::All
    } else {
        ResolveScope::Targeted {
            files: changes.files,
            names: changes.names.into_iter().collect(),
            ref_ids: changes.ref_ids.into_iter().collect(),
        }
    };
    let tx = Transaction::new_unchecked(&db.conn, TransactionBehavior::Immediate)?;
    ingest::resolve_refs(&tx, scope)?;
    tx.commit()?;
    Ok(())
}

/// Indexes every source file under `root` into `db` (incrementally).
pub fn index_repository(
    root: &Path,
    db: &GraphDb,
    opts: &IndexOptions,
    progress: &dyn Fn(IndexProgress),
) -> Result<IndexReport> {
    let start = Instant::now();
    let _lock = db.lock_for_index(opts.lock_timeout)?;
    db.resume_fts()?;
    let root = std::fs::canonicalize(root).map_err(|e| GraphError::io(root, e))?;
    let mut report = IndexReport::default();
    let known = known_files(db)?;

    let mut candidates = Vec::new();
    let mut manifests: Vec<packages::Found> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let walker = ignore::WalkBuilder::new(&root).follow_links(false).require_git(false).build();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(rel) = rel_path(&root, entry.path()) else { continue };
        let Some(lang) = Language::from_path(&rel) else {
            if packages::is_manifest(&rel)
                && let Ok(md) = entry.metadata()
            {
                let abs = entry.path().to_path_buf();
                manifests.push(packages::Found { rel, abs, size: md.len(), mtime_ns: mtime_ns(&md) });
            }
            continue;
        };
        report.files_seen += 1;
        let Ok(md) = entry.metadata() else { continue };
        if md.len() > opts.max_file_bytes {
            report.skipped_too_large.push(rel);
            continue;
        }
        seen.insert(rel.clone());
        let mtime_ns = mtime_ns(&md);
        if let Some(k) = known.get(&rel)
            && k.size == md.len()
            && k.mtime_ns == mtime_ns
        {
            report.files_unchanged += 1;
            continue;
        }
        candidates.push(Candidate { rel, abs: entry.path().to_path_buf(), size: md.len(), mtime_ns, lang });
    }
    progress(IndexProgress::Walked { files: report.files_seen });

    let mut changes = Changes::default();
    // Files that vanished or became too large lose their rows (manifests: `packages::sync`).
    let gone: Vec<&String> =
        known.keys().filter(|p| !seen.contains(*p) && !packages::is_manifest(p)).collect();
    if !gone.is_empty() {
        let tx = Transaction::new_unchecked(&db.conn, TransactionBehavior::Immediate)?;
        for p in gone {
            changes.note(&tx, p, None)?;
            ingest::delete_file(&tx, p)?;
            report.files_deleted += 1;
        }
        tx.commit()?;
    }

    let total = candidates.len();
    // Most of the tree is (re)written: bulk mode (see `GraphDb::suspend_fts`).
    let bulk = total >= BULK_MIN_FILES && total * 2 >= seen.len();
    let _bulk = if bulk { Some(BulkRun::start(db)?) } else { None };
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        opts.threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(16 << 20)
        .build()
        .map_err(|e| GraphError::io(&root, std::io::Error::other(e.to_string())))?;
    let (tx, rx) = mpsc::sync_channel::<Outcome>(BATCH * 2);
    let write_result = std::thread::scope(|s| {
        let known = &known;
        let candidates = &candidates;
        s.spawn(move || {
            pool.install(|| {
                candidates.par_iter().for_each_with(tx, |tx, c| {
                    let _ = tx.send(process(c, known.get(&c.rel).map(|k| k.hash.as_str())));
                });
            });
        });
        let mut batch = Vec::with_capacity(BATCH);
        let mut done = 0;
        let mut last_commit = Instant::now();
        for o in rx {
            batch.push(o);
            done += 1;
            // A bulk run commits less often: each commit rewrites the hot index pages.
            if batch.len() >= BATCH && (!bulk || last_commit.elapsed() >= BULK_COMMIT_EVERY) {
                last_commit = Instant::now();
                apply(db, &mut batch, &mut report, &mut changes)?;
                progress(IndexProgress::Indexed { done, total });
            }
        }
        apply(db, &mut batch, &mut report, &mut changes)?;
        progress(IndexProgress::Indexed { done, total });
        Ok::<(), GraphError>(())
    });
    write_result?;

    progress(IndexProgress::Resolving);
    resolve(db, changes, seen.len())?;
    // Before a bulk run's FTS rebuild, so new package entities need no per-row FTS update.
    packages::sync(db, &root, &manifests, opts.max_file_bytes)?;
    if let Some(b) = _bulk {
        b.finish()?;
    }
    totals(db, &mut report)?;
    report.elapsed = start.elapsed();
    progress(IndexProgress::Done);
    Ok(report)
}
