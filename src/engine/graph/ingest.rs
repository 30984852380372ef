//! Writing parsed files into the graph database and (re-)resolving references.
//!
//! Invariants:
//! - A file's rows are replaced whole: deleting its `files` row cascades to its entities, refs
//!   and every relation touching them (and through triggers to FTS and vectors).
//! - Every relation that came from a reference carries `ref_id`; re-resolving a reference first
//!   deletes its old relations, so resolution is idempotent.
//! - Callers run these inside one `IMMEDIATE` transaction per batch.
//! - New entity ids are assigned by [`Pending`] as `max(id) + 1` onward (what SQLite would
//!   pick); safe because only index runs insert entities and they hold the index lock and an
//!   `IMMEDIATE` transaction.

use std::collections::HashSet;

use rayon::prelude::*;
use rusqlite::{Connection, Statement, params};

use super::Result;
use super::model::{EntityKind, RelationKind};
use super::parse::{ParsedEntity, ParsedFile, RawRef, RefKind};
use super::resolve::{RefRow, Resolver, Sym};
use crate::engine::store::now_rfc3339;

/// Path segments are stored joined by this (ASCII unit separator).
const PATH_SEP: char = '\u{1f}';

/// What the `files` row records.
pub struct FileMeta<'a> {
    pub path: &'a str,
    pub hash: &'a str,
    pub size: u64,
    pub mtime_ns: i64,
    pub lossy: bool,
}

/// Distinct entity names defined in `path` (before it is replaced or deleted).
pub fn names_in_file(conn: &Connection, path: &str) -> Result<Vec<String>> {
    let mut st = conn.prepare_cached("SELECT DISTINCT name FROM entities WHERE file = ?1")?;
    let names = st.query_map([path], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(names)
}

/// References whose relations point into `path`'s entities (they must be re-resolved when the
/// file's rows are replaced, since the targets get new ids).
pub fn refs_into_file(conn: &Connection, path: &str) -> Result<Vec<i64>> {
    let mut st = conn.prepare_cached(
        "SELECT DISTINCT r.ref_id FROM relations r JOIN entities e ON e.id = r.target_id
         WHERE e.file = ?1 AND r.ref_id IS NOT NULL",
    )?;
    let ids = st.query_map([path], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

pub fn delete_file(conn: &Connection, path: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM files WHERE path = ?1")?.execute([path])?;
    Ok(())
}

/// Only the mtime changed (same content): remember it so the next run need not read the file.
pub fn touch_file(conn: &Connection, path: &str, mtime_ns: i64) -> Result<()> {
    conn.prepare_cached("UPDATE files SET mtime_ns = ?2 WHERE path = ?1")?
        .execute(params![path, mtime_ns])?;
    Ok(())
}

/// Rows per multi-row `INSERT` (≤ 10 columns, far below SQLite's 32 766 parameters).
const CHUNK: usize = 64;

/// `head` (`INSERT INTO t(a, b) VALUES`) followed by `rows` groups of `cols` placeholders.
fn multi_row_sql(head: &str, cols: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(head.len() + rows * (cols * 2 + 4));
    sql.push_str(head);
    for r in 0..rows {
        sql.push_str(if r == 0 { " (" } else { ", (" });
        for c in 0..cols {
            sql.push_str(if c == 0 { "?" } else { ", ?" });
        }
        sql.push(')');
    }
    sql
}

/// Inserts `n` rows with one statement per [`CHUNK`] rows; `bind(statement, row, first)`
/// binds row `row`'s `cols` values from parameter index `first` on. A statement (not a row) is
/// SQLite's unit of per-execution overhead: the statement transaction, and the FTS5 flush its
/// savepoint forces through the `entities_fts_ai` trigger, so fewer statements is the win.
fn insert_rows(
    conn: &Connection,
    head: &str,
    cols: usize,
    n: usize,
    mut bind: impl FnMut(&mut Statement, usize, usize) -> rusqlite::Result<()>,
) -> Result<()> {
    let mut row = 0;
    while row < n {
        let len = (n - row).min(CHUNK);
        let mut st = conn.prepare_cached(&multi_row_sql(head, cols, len))?;
        for i in 0..len {
            bind(&mut st, row + i, i * cols + 1)?;
        }
        st.raw_execute()?;
        row += len;
    }
    Ok(())
}

/// Parsed files waiting to be inserted together (see [`Pending::flush`]).
#[derive(Default)]
pub struct Pending<'a> {
    files: Vec<(&'a str, &'a ParsedFile, i64)>,
    next_id: Option<i64>,
}

impl<'a> Pending<'a> {
    /// Replaces `meta.path`'s rows with `parsed`: the old rows and the new `files` row go now,
    /// entities, refs and relations at [`Pending::flush`] (same transaction). Entity ids are
    /// assigned here (`max(id) + 1` onwards, what SQLite would pick), so parents and edges
    /// need no `last_insert_rowid` round trip and rows can be inserted many per statement.
    pub fn add(&mut self, conn: &Connection, meta: &FileMeta<'a>, parsed: &'a ParsedFile) -> Result<()> {
        delete_file(conn, meta.path)?;
        conn.prepare_cached(
            "INSERT INTO files(path, hash, size, mtime_ns, language, indexed_at, parse_errors, lossy)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            meta.path,
            meta.hash,
            meta.size as i64,
            meta.mtime_ns,
            parsed.language.as_str(),
            now_rfc3339(),
            parsed.errors,
            meta.lossy
        ])?;
        let first = match self.next_id {
            Some(id) => id,
            None => conn.query_row("SELECT coalesce(max(id), 0) + 1 FROM entities", [], |r| r.get(0))?,
        };
        self.next_id = Some(first + parsed.entities.len() as i64);
        self.files.push((meta.path, parsed, first));
        Ok(())
    }

    /// Inserts the entities, parse-time relations and refs of every added file.
    pub fn flush(&mut self, conn: &Connection) -> Result<()> {
        // (file, entity, id, parent id)
        let mut ents: Vec<(&str, &ParsedEntity, i64, Option<i64>)> = Vec::new();
        let mut rels: Vec<(i64, i64, &'static str)> = Vec::new();
        // (file, source id, ref, joined path)
        let mut refs: Vec<(&str, i64, &RawRef, String)> = Vec::new();
        for &(path, parsed, first) in &self.files {
            let n = parsed.entities.len();
            let id = |i: usize| (i < n).then(|| first + i as i64);
            for (i, e) in parsed.entities.iter().enumerate() {
                let parent = e.parent.filter(|&p| p < i).map(|p| first + p as i64);
                ents.push((path, e, first + i as i64, parent));
                if let Some(p) = parent {
                    rels.push((p, first + i as i64, RelationKind::Contains.as_str()));
                }
            }
            for &(s, t, kind) in &parsed.local_edges {
                if let (Some(s), Some(t)) = (id(s), id(t)) {
                    rels.push((s, t, kind.as_str()));
                }
            }
            for r in &parsed.refs {
                let Some(source) = id(r.source) else { continue };
                let mut joined = String::new();
                for (i, seg) in r.path.iter().enumerate() {
                    if i > 0 {
                        joined.push(PATH_SEP);
                    }
                    joined.push_str(seg);
                }
                refs.push((path, source, r, joined));
            }
        }
        insert_rows(
            conn,
            "INSERT INTO entities(id, file, parent_id, name, qualified_name, kind, start_line, end_line,
                                  signature, doc, complexity) VALUES",
            11,
            ents.len(),
            |st, i, b| {
                let (file, e, id, parent) = ents[i];
                st.raw_bind_parameter(b, id)?;
                st.raw_bind_parameter(b + 1, file)?;
                st.raw_bind_parameter(b + 2, parent)?;
                st.raw_bind_parameter(b + 3, &e.name)?;
                st.raw_bind_parameter(b + 4, &e.qualified_name)?;
                st.raw_bind_parameter(b + 5, e.kind.as_str())?;
                st.raw_bind_parameter(b + 6, e.start_line)?;
                st.raw_bind_parameter(b + 7, e.end_line)?;
                st.raw_bind_parameter(b + 8, &e.signature)?;
                st.raw_bind_parameter(b + 9, &e.doc)?;
                st.raw_bind_parameter(b + 10, e.complexity)
            },
        )?;
        insert_rows(
            conn,
            "INSERT INTO relations(source_id, target_id, kind) VALUES",
            3,
            rels.len(),
            |st, i, b| {
                let (s, t, k) = rels[i];
                st.raw_bind_parameter(b, s)?;
                st.raw_bind_parameter(b + 1, t)?;
                st.raw_bind_parameter(b + 2, k)
            },
        )?;
        insert_rows(
            conn,
            "INSERT INTO refs(file, source_id, kind, name, path, alias, line) VALUES",
            7,
            refs.len(),
            |st, i, b| {
                let (file, source, r, path) = &refs[i];
                st.raw_bind_parameter(b, *file)?;
                st.raw_bind_parameter(b + 1, *source)?;
                st.raw_bind_parameter(b + 2, r.kind.as_str())?;
                st.raw_bind_parameter(b + 3, &r.name)?;
                st.raw_bind_parameter(b + 4, path)?;
                st.raw_bind_parameter(b + 5, &r.alias)?;
                st.raw_bind_parameter(b + 6, r.line)
            },
        )?;
        self.files.clear();
        self.next_id = None;
        Ok(())
    }
}

/// Which references to (re-)resolve.
pub enum ResolveScope {
    /// Everything (first index, or most files changed).
    All,
    /// References made in `files`, naming any of `names`, or with an id in `ref_ids`.
    Targeted { files: Vec<String>, names: Vec<String>, ref_ids: Vec<i64> },
}

fn ref_row(r: &rusqlite::Row) -> rusqlite::Result<RefRow> {
    let kind: String = r.get(3)?;
    let path: String = r.get(5)?;
    Ok(RefRow {
        id: r.get(0)?,
        file: r.get(1)?,
        source: r.get(2)?,
        kind: RefKind::parse(&kind).unwrap_or(RefKind::TypeHint),
        name: r.get(4)?,
        path: if path.is_empty() { Vec::new() } else { path.split(PATH_SEP).map(str::to_string).collect() },
        alias: r.get(6)?,
    })
}

fn sym_row(r: &rusqlite::Row) -> rusqlite::Result<Sym> {
    let kind: String = r.get(3)?;
    Ok(Sym {
        id: r.get(0)?,
        name: r.get(1)?,
        qn: r.get(2)?,
        kind: EntityKind::parse(&kind).unwrap_or(EntityKind::Variable),
        file: r.get(4)?,
    })
}

const REF_COLS: &str = "id, file, source_id, kind, name, path, alias";
const SYM_COLS: &str = "id, name, qualified_name, kind, file";

/// Resolves the references in `scope` and writes their relations; returns how many relations.
pub fn resolve_refs(conn: &Connection, scope: ResolveScope) -> Result<usize> {
    let (targets, context, syms) = match scope {
        ResolveScope::All => {
            conn.execute("DELETE FROM relations WHERE ref_id IS NOT NULL", [])?;
            let refs = conn
                .prepare(&format!("SELECT {REF_COLS} FROM refs"))?
                .query_map([], ref_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let syms = conn
                .prepare(&format!("SELECT {SYM_COLS} FROM entities WHERE kind != 'package'"))?
                .query_map([], sym_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            (refs.clone(), refs, syms)
        }
        ResolveScope::Targeted { files, names, ref_ids } => {
            let files_json = serde_json::to_string(&files).unwrap_or_else(|_| "[]".into());
            let names_json = serde_json::to_string(&names).unwrap_or_else(|_| "[]".into());
            let ids_json = serde_json::to_string(&ref_ids).unwrap_or_else(|_| "[]".into());
            let targets = conn
                .prepare(&format!(
                    "SELECT {REF_COLS} FROM refs WHERE kind != 'typehint' AND
                     (file IN (SELECT value FROM json_each(?1)) OR name IN (SELECT value FROM json_each(?2))
                          OR id IN (SELECT value FROM json_each(?3)))"
                ))?
                .query_map([&files_json, &names_json, &ids_json], ref_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let ref_files: HashSet<&str> = targets.iter().map(|r| r.file.as_str()).collect();
            let ref_files_json = serde_json::to_string(&ref_files).unwrap_or_else(|_| "[]".into());
            let context = conn
                .prepare(&format!(
                    "SELECT {REF_COLS} FROM refs WHERE kind IN ('imports', 'typehint', 'inherits', 'implements')
                     AND file IN (SELECT value FROM json_each(?1))"
                ))?
                .query_map([&ref_files_json], ref_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let source_ids: HashSet<i64> = targets.iter().chain(&context).map(|r| r.source).collect();
            let ids_json = serde_json::to_string(&source_ids).unwrap_or_else(|_| "[]".into());
            let sources = conn
                .prepare(&format!(
                    "SELECT {SYM_COLS} FROM entities WHERE id IN (SELECT value FROM json_each(?1))"
                ))?
                .query_map([&ids_json], sym_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut wanted: HashSet<String> = HashSet::new();
            for r in targets.iter().chain(&context) {
                wanted.insert(r.name.clone());
                wanted.extend(r.path.iter().cloned());
                wanted.extend(r.alias.iter().cloned());
            }
            for s in &sources {
                wanted.extend(super::parse::segments(&s.qn).into_iter().map(str::to_string));
            }
            let wanted_json = serde_json::to_string(&wanted).unwrap_or_else(|_| "[]".into());
            let syms = conn
                .prepare(&format!(
                    "SELECT {SYM_COLS} FROM entities WHERE kind != 'package'
                     AND name IN (SELECT value FROM json_each(?1))"
                ))?
                .query_map([&wanted_json], sym_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut del = conn.prepare_cached("DELETE FROM relations WHERE ref_id = ?1")?;
            for t in &targets {
                del.execute([t.id])?;
            }
            (targets, context, syms)
        }
    };
    let resolver = Resolver::new(&syms, &context);
    // Resolution only reads the tables; big runs use every core (order is kept).
    let resolved: Vec<_> = if targets.len() >= 4096 {
        targets.par_iter().flat_map_iter(|r| resolver.resolve(r)).collect()
    } else {
        targets.iter().flat_map(|r| resolver.resolve(r)).collect()
    };
    insert_rows(
        conn,
        "INSERT INTO relations(source_id, target_id, kind, strength, ref_id) VALUES",
        5,
        resolved.len(),
        |st, i, b| {
            let rel = &resolved[i];
            st.raw_bind_parameter(b, rel.source)?;
            st.raw_bind_parameter(b + 1, rel.target)?;
            st.raw_bind_parameter(b + 2, rel.kind.as_str())?;
            st.raw_bind_parameter(b + 3, rel.strength)?;
            st.raw_bind_parameter(b + 4, rel.ref_id)
        },
    )?;
    Ok(resolved.len())
}
