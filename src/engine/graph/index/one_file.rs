//! Re-indexing one file (a save seen by the watcher, or `kv1nt graph reindex PATH`): the same
//! steps as a run over the tree, for one path — a manifest re-reads the packages, a deleted
//! or unreadable file loses its rows, and only what the file touches is re-resolved.

use std::path::Path;
use std::time::Instant;

use rusqlite::{Transaction, TransactionBehavior};

use super::{
    Candidate, Changes, IndexOptions, IndexReport, apply, mtime_ns, process, rel_path, resolve, totals,
};
use crate::engine::graph::parse::Language;
use crate::engine::graph::store::GraphDb;
use crate::engine::graph::{GraphError, Result, ingest, packages};

/// Re-indexes one file (deleted → its rows removed) and re-resolves what it touches.
pub fn reindex_file(root: &Path, db: &GraphDb, path: &Path) -> Result<IndexReport> {
    let start = Instant::now();
    let _lock = db.lock_for_index(IndexOptions::default().lock_timeout)?;
    db.resume_fts()?;
    let root = std::fs::canonicalize(root).map_err(|e| GraphError::io(root, e))?;
    let abs = if path.is_absolute() { path.to_path_buf() } else { root.join(path) };
    let abs = std::fs::canonicalize(&abs).unwrap_or(abs);
    let rel = rel_path(&root, &abs)
        .ok_or_else(|| GraphError::OutsideRoot { path: path.to_path_buf(), root: root.clone() })?;
    let mut report = IndexReport::default();
    let mut changes = Changes::default();
    let total_files = db.conn.query_row("SELECT count(*) FROM files", [], |r| r.get::<_, i64>(0))? as usize;
    if packages::is_manifest(&rel) {
        packages::reindex(db, &root, &rel, IndexOptions::default().max_file_bytes)?;
        totals(db, &mut report)?;
        report.elapsed = start.elapsed();
        return Ok(report);
    }
    let md = std::fs::metadata(&abs).ok().filter(|m| m.is_file());
    let lang = Language::from_path(&rel);
    match (md, lang) {
        (Some(md), Some(lang)) => {
            report.files_seen = 1;
            if md.len() > IndexOptions::default().max_file_bytes {
                report.skipped_too_large.push(rel.clone());
                let tx = Transaction::new_unchecked(&db.conn, TransactionBehavior::Immediate)?;
                changes.note(&tx, &rel, None)?;
                ingest::delete_file(&tx, &rel)?;
                tx.commit()?;
            } else {
                let known: Option<String> =
                    db.conn.query_row("SELECT hash FROM files WHERE path = ?1", [&rel], |r| r.get(0)).ok();
                let c = Candidate { rel, abs, size: md.len(), mtime_ns: mtime_ns(&md), lang };
                let mut batch = vec![process(&c, known.as_deref())];
                apply(db, &mut batch, &mut report, &mut changes)?;
            }
        }
        _ => {
            let tx = Transaction::new_unchecked(&db.conn, TransactionBehavior::Immediate)?;
            changes.note(&tx, &rel, None)?;
            let existed = tx.execute("DELETE FROM files WHERE path = ?1", [&rel])? > 0;
            tx.commit()?;
            if existed {
                report.files_deleted = 1;
            }
        }
    }
    resolve(db, changes, total_files.max(1) * 4)?;
    totals(db, &mut report)?;
    report.elapsed = start.elapsed();
    Ok(report)
}
