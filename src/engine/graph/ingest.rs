//! Writing parsed files into the graph database and (re-)resolving references.
//!
//! Invariants:
//! - A file's rows are replaced whole: deleting its `files` row cascades to its entities, refs
//!   and every relation touching them (and through triggers to FTS and vectors).
//! - Every relation that came from a reference carries `ref_id`; re-resolving a reference first
//!   deletes its old relations, so resolution is idempotent.
//! - Callers run these inside one `IMMEDIATE` transaction per batch.

use std::collections::HashSet;

use rusqlite::{Connection, params};

use super::Result;
use super::model::{EntityKind, RelationKind};
use super::parse::{ParsedFile, RefKind};
use super::resolve::{RefRow, Resolver, Sym};

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

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
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

/// Replaces `meta.path`'s rows with `parsed`; returns the number of entities written.
pub fn write_file(conn: &Connection, meta: &FileMeta, parsed: &ParsedFile) -> Result<usize> {
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
    let mut ins = conn.prepare_cached(
        "INSERT INTO entities(file, parent_id, name, qualified_name, kind, start_line, end_line,
                              signature, doc, complexity)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut rel = conn.prepare_cached(
        "INSERT INTO relations(source_id, target_id, kind, strength, ref_id) VALUES (?1, ?2, ?3, 1.0, NULL)",
    )?;
    let mut ids: Vec<i64> = Vec::with_capacity(parsed.entities.len());
    for e in &parsed.entities {
        let parent = e.parent.and_then(|p| ids.get(p).copied());
        ins.execute(params![
            meta.path,
            parent,
            e.name,
            e.qualified_name,
            e.kind.as_str(),
            e.start_line,
            e.end_line,
            e.signature,
            e.doc,
            e.complexity
        ])?;
        let id = conn.last_insert_rowid();
        if let Some(p) = parent {
            rel.execute(params![p, id, RelationKind::Contains.as_str()])?;
        }
        ids.push(id);
    }
    for &(s, t, kind) in &parsed.local_edges {
        if let (Some(s), Some(t)) = (ids.get(s), ids.get(t)) {
            rel.execute(params![s, t, kind.as_str()])?;
        }
    }
    let mut refs = conn.prepare_cached(
        "INSERT INTO refs(file, source_id, kind, name, path, alias, line) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut path_buf = String::new();
    for r in &parsed.refs {
        let Some(source) = ids.get(r.source) else { continue };
        path_buf.clear();
        for (i, seg) in r.path.iter().enumerate() {
            if i > 0 {
                path_buf.push(PATH_SEP);
            }
            path_buf.push_str(seg);
        }
        refs.execute(params![meta.path, source, r.kind.as_str(), r.name, path_buf, r.alias, r.line])?;
    }
    Ok(ids.len())
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
                .prepare(&format!("SELECT {SYM_COLS} FROM entities"))?
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
                    "SELECT {SYM_COLS} FROM entities WHERE name IN (SELECT value FROM json_each(?1))"
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
    let mut ins = conn.prepare_cached(
        "INSERT INTO relations(source_id, target_id, kind, strength, ref_id) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut n = 0;
    for r in &targets {
        for rel in resolver.resolve(r) {
            ins.execute(params![rel.source, rel.target, rel.kind.as_str(), rel.strength, rel.ref_id])?;
            n += 1;
        }
    }
    Ok(n)
}
