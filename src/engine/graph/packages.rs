//! `depends_on`: packages and their dependencies, from the repository's manifests (`Cargo.toml`,
//! `pyproject.toml`, `requirements*.txt`, `package.json`, `go.mod`, read by
//! `engine::project::deps` — one parser for both).
//!
//! Node representation: entities of kind `package` (their `qualified_name` is their name):
//! - **the repository's packages**: one per manifest directory and ecosystem, named as code
//!   imports it (Cargo `[package] name` with `-` as `_`, the normalised `[project] name`, the
//!   `package.json` `name`, the `go.mod` module path); a directory with only a
//!   `requirements.txt` or a nameless `package.json` is named after the directory (the root's
//!   own name at the root). Its `file` is the manifest that names it, line 1. A virtual Cargo
//!   workspace root is no package.
//! - **declared packages from outside**: one per ecosystem and package name, in the first
//!   manifest (by path) declaring it, at the declaration's line.
//!
//! Edges (`depends_on`, strength 1.0): a repository package → each package its manifests declare
//! (every section: dev, build, optional and peer dependencies too); when the declared name is
//! another of the repository's packages of the same ecosystem (a Cargo path or workspace
//! dependency, an npm workspace, a Go module required — and `replace`d — from the same tree)
//! the edge goes to that package and no outside package is made. Go `// indirect` requirements
//! are transitive, not edges.
//!
//! Invariants:
//! - Manifests have `files` rows with language [`LANGUAGE`]; their entities cascade with them
//!   and their relations carry no `ref_id`, so code resolution never touches them.
//! - All of it is recomputed whenever any manifest is added, changed or removed (manifests are
//!   few and small); a run where none did writes nothing but new mtimes.
//! - A manifest that does not parse contributes nothing (`kv1nt deps` reports why); manifests
//!   in vendored or fixture trees ([`is_manifest`]) are not the repository's packages.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, Transaction, TransactionBehavior, params};

use super::Result;
use super::index::content_hash;
use super::store::GraphDb;
use crate::engine::project::deps::{self, Ecosystem, Manifest, go::INDIRECT};
use crate::engine::store::now_rfc3339;

/// The `files.language` of a manifest.
pub const LANGUAGE: &str = "manifest";

/// A manifest file found by the index walk.
#[derive(Clone, Debug)]
pub struct Found {
    pub rel: String,
    pub abs: PathBuf,
    pub size: u64,
    pub mtime_ns: i64,
}

/// Whether the `/`-separated path names a manifest of the repository's own (not one inside
/// `node_modules/`, `vendor/`, fixtures: the trees `kv1nt deps` leaves out too).
pub fn is_manifest(rel: &str) -> bool {
    deps::is_manifest_name(rel.rsplit('/').next().unwrap_or(rel))
        && crate::engine::learning::conventions::ours(rel)
}

struct Read {
    rel: String,
    size: u64,
    mtime_ns: i64,
    hash: String,
    text: String,
}

/// Brings the package entities and `depends_on` relations up to date with `found` (every
/// manifest of the tree); returns whether they were rewritten.
pub fn sync(db: &GraphDb, root: &Path, found: &[Found], max_bytes: u64) -> Result<bool> {
    let conn = &db.conn;
    let mut st = conn.prepare_cached("SELECT path, size, mtime_ns, hash FROM files WHERE language = ?1")?;
    let known: HashMap<String, (u64, i64, String)> = st
        .query_map([LANGUAGE], |r| Ok((r.get(0)?, (r.get::<_, i64>(1)? as u64, r.get(2)?, r.get(3)?))))?
        .collect::<rusqlite::Result<_>>()?;
    let same_meta = known.len() == found.len()
        && found.iter().all(|f| known.get(&f.rel).is_some_and(|k| k.0 == f.size && k.1 == f.mtime_ns));
    if same_meta {
        return Ok(false);
    }
    let mut read: Vec<Read> = Vec::new();
    for f in found.iter().filter(|f| f.size <= max_bytes) {
        let Ok(bytes) = std::fs::read(&f.abs) else { continue };
        let hash = content_hash(&bytes);
        let Ok(text) = String::from_utf8(bytes) else { continue };
        read.push(Read { rel: f.rel.clone(), size: f.size, mtime_ns: f.mtime_ns, hash, text });
    }
    read.sort_by(|a, b| a.rel.cmp(&b.rel));
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let same_content =
        known.len() == read.len() && read.iter().all(|r| known.get(&r.rel).is_some_and(|k| k.2 == r.hash));
    if same_content {
        let mut up = tx.prepare_cached("UPDATE files SET size = ?2, mtime_ns = ?3 WHERE path = ?1")?;
        for r in &read {
            up.execute(params![r.rel, r.size as i64, r.mtime_ns])?;
        }
        drop(up);
        tx.commit()?;
        return Ok(false);
    }
    tx.execute("DELETE FROM files WHERE language = ?1", [LANGUAGE])?;
    write(&tx, root, &read)?;
    tx.commit()?;
    Ok(true)
}

/// After one file changed: re-syncs when it is a manifest (the others as the index knows them).
pub fn reindex(db: &GraphDb, root: &Path, rel: &str, max_bytes: u64) -> Result<()> {
    let mut st = db.conn.prepare_cached("SELECT path FROM files WHERE language = ?1")?;
    let mut paths: Vec<String> = st.query_map([LANGUAGE], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    drop(st);
    if !paths.iter().any(|p| p == rel) {
        paths.push(rel.to_string());
    }
    let found: Vec<Found> = paths
        .into_iter()
        .filter_map(|rel| {
            let abs = root.join(&rel);
            let md = std::fs::symlink_metadata(&abs).ok().filter(|m| m.is_file())?;
            let mtime_ns = md
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i64);
            Some(Found { rel, abs, size: md.len(), mtime_ns })
        })
        .collect();
    sync(db, root, &found, max_bytes)?;
    Ok(())
}

/// Normalised package name for matching a dependency to one of the repository's packages.
fn key(eco: Ecosystem, name: &str) -> (Ecosystem, String) {
    let n =
        if eco == Ecosystem::Go { name.to_string() } else { name.to_lowercase().replace(['-', '.'], "_") };
    (eco, n)
}

/// One of the repository's packages: the manifests of one ecosystem in one directory.
struct Group<'a> {
    name: String,
    file: &'a str,
    manifests: Vec<(&'a Manifest, &'a str)>,
}

fn dir_name<'a>(root: &'a Path, rel: &'a str) -> String {
    let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
    let base = if dir.is_empty() {
        root.file_name().and_then(|n| n.to_str()).unwrap_or("root")
    } else {
        dir.rsplit('/').next().unwrap_or(dir)
    };
    base.to_string()
}

fn write(tx: &Connection, root: &Path, read: &[Read]) -> Result<()> {
    let now = now_rfc3339();
    let mut files = tx.prepare_cached(
        "INSERT INTO files(path, hash, size, mtime_ns, language, indexed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut parsed: Vec<(Manifest, &Read)> = Vec::new();
    for r in read {
        files.execute(params![r.rel, r.hash, r.size as i64, r.mtime_ns, LANGUAGE, now])?;
        if let Some(Ok(m)) = deps::parse_manifest(&r.rel, &r.text) {
            parsed.push((m, r));
        }
    }
    let mut groups: BTreeMap<(Ecosystem, &str), Group> = BTreeMap::new();
    for (m, r) in parsed.iter().filter(|(m, _)| !m.inherited_only) {
        let dir = r.rel.rsplit_once('/').map_or("", |(d, _)| d);
        let g = groups.entry((m.ecosystem, dir)).or_insert_with(|| Group {
            name: String::new(),
            file: &r.rel,
            manifests: Vec::new(),
        });
        if g.name.is_empty()
            && let Some(own) = m.own.first()
        {
            g.name = own.clone();
            g.file = &r.rel;
        }
        g.manifests.push((m, &r.text));
    }
    let mut entity = tx.prepare_cached(
        "INSERT INTO entities(file, name, qualified_name, kind, start_line, end_line, signature)
         VALUES (?1, ?2, ?2, 'package', ?3, ?3, ?4)",
    )?;
    let mut own_ids: HashMap<(Ecosystem, String), i64> = HashMap::new();
    let mut group_ids = Vec::new();
    for ((eco, _), g) in groups.iter_mut() {
        if g.name.is_empty() {
            g.name = dir_name(root, g.file);
        }
        let sig = format!("{} package {}", eco.as_str(), g.name);
        entity.execute(params![g.file, g.name, 1, sig])?;
        let id = tx.last_insert_rowid();
        own_ids.insert(key(*eco, &g.name), id);
        group_ids.push(id);
    }
    let mut outside: HashMap<(Ecosystem, String), i64> = HashMap::new();
    let mut edges: HashSet<(i64, i64)> = HashSet::new();
    for (((eco, _), g), &source) in groups.iter().zip(&group_ids) {
        for &(m, text) in &g.manifests {
            for d in m.deps.iter().filter(|d| d.section != INDIRECT) {
                let k = key(*eco, &d.package);
                let target = match own_ids.get(&k).or_else(|| outside.get(&k)) {
                    Some(&t) => t,
                    None => {
                        let sig = format!("{} {}", d.package, d.requirement).trim().to_string();
                        entity.execute(params![m.path, d.package, line_of(text, &d.package), sig])?;
                        let id = tx.last_insert_rowid();
                        outside.insert(k, id);
                        id
                    }
                };
                if target != source {
                    edges.insert((source, target));
                }
            }
        }
    }
    let mut rel = tx.prepare_cached(
        "INSERT INTO relations(source_id, target_id, kind, strength) VALUES (?1, ?2, 'depends_on', 1.0)",
    )?;
    let mut edges: Vec<(i64, i64)> = edges.into_iter().collect();
    edges.sort();
    for (s, t) in edges {
        rel.execute(params![s, t])?;
    }
    Ok(())
}

/// The 1-based line of the first whole-word occurrence of `name` in `text` (1 when none).
fn line_of(text: &str, name: &str) -> u32 {
    let word = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '@');
    let found = text.match_indices(name).map(|(i, _)| i).find(|&i| {
        let before = text[..i].chars().next_back().is_none_or(|c| !word(c));
        let after = text[i + name.len()..].chars().next().is_none_or(|c| !word(c));
        before && after
    });
    found.map_or(1, |i| text.as_bytes()[..i].iter().filter(|&&b| b == b'\n').count() as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declaration_lines() {
        let text = "[package]\nname = \"serde-extra\"\n[dependencies]\nserde = \"1\"\n";
        assert_eq!(line_of(text, "serde"), 4);
        assert_eq!(line_of(text, "serde-extra"), 2);
        assert_eq!(line_of(text, "tokio"), 1);
        assert_eq!(line_of("require (\n\tgithub.com/a/b v1\n)", "github.com/a/b"), 2);
    }
}
