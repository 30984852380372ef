//! Reading the graph: related entities, callers/callees, dependencies, prompt context, stats
//! (search is `search.rs`).
//!
//! Invariants:
//! - User text never reaches FTS5 syntax: every token is double-quoted (quotes doubled) and
//!   tokens are joined by AND or OR only, so `"`, `*`, `NEAR`, `:` and friends are plain text.

//! - A name argument matches an exact qualified name first, otherwise every entity with that
//!   short name.
//! - Empty `kinds` slices mean "any kind".

use std::collections::{HashSet, VecDeque};
use std::fmt::Write as _;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::model::{Entity, EntityKind, RelationKind};
use super::store::GraphDb;
use super::{GraphError, Result};

/// Which entity a query starts from.
#[derive(Clone, Copy, Debug)]
pub enum EntityKey<'a> {
    Id(i64),
    Name(&'a str),
}

impl From<i64> for EntityKey<'_> {
    fn from(id: i64) -> Self {
        EntityKey::Id(id)
    }
}

impl<'a> From<&'a str> for EntityKey<'a> {
    fn from(name: &'a str) -> Self {
        EntityKey::Name(name)
    }
}

/// An entity reached from the start of [`GraphDb::query_related`].
#[derive(Clone, Debug, Serialize)]
pub struct Related {
    pub entity: Entity,
    /// The kind of the last edge on the path.
    pub via: RelationKind,
    /// Whether that edge points away from the start side (`true`: start → … → entity).
    pub outgoing: bool,
    pub depth: u32,
    pub strength: f32,
}

#[derive(Clone, Debug, Serialize)]
pub struct SearchHit {
    pub entity: Entity,
    /// BM25 (lexical: higher is better, sign flipped) or the fused RRF score.
    pub score: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct GraphStats {
    pub files: usize,
    pub entities: usize,
    pub relations: usize,
    pub unresolved_refs: usize,
    pub embedded: usize,
    pub parse_error_files: usize,
    pub by_kind: Vec<(EntityKind, usize)>,
    pub by_relation: Vec<(RelationKind, usize)>,
}

/// The entity columns [`entity_from_row`] reads, for queries outside the graph module.
pub const ENTITY_COLUMNS: &str = ENTITY_COLS;

/// An entity from a row selected with [`ENTITY_COLUMNS`].
pub fn entity_from_row(r: &rusqlite::Row) -> rusqlite::Result<Entity> {
    entity_row(r)
}

pub(super) const ENTITY_COLS: &str = "e.id, e.name, e.qualified_name, e.kind, e.file, e.start_line, e.end_line, e.signature, e.doc, e.complexity";

pub(super) fn entity_row(r: &rusqlite::Row) -> rusqlite::Result<Entity> {
    let kind: String = r.get(3)?;
    Ok(Entity {
        id: r.get(0)?,
        name: r.get(1)?,
        qualified_name: r.get(2)?,
        kind: EntityKind::parse(&kind).unwrap_or(EntityKind::Variable),
        file: r.get(4)?,
        start_line: r.get(5)?,
        end_line: r.get(6)?,
        signature: r.get(7)?,
        doc: r.get(8)?,
        complexity: r.get(9)?,
    })
}

pub(super) fn kinds_json(kinds: &[EntityKind]) -> String {
    serde_json::to_string(&kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into())
}

impl GraphDb {
    pub fn entity(&self, id: i64) -> Result<Option<Entity>> {
        let sql = format!("SELECT {ENTITY_COLS} FROM entities e WHERE e.id = ?1");
        Ok(self.conn.query_row(&sql, [id], entity_row).optional()?)
    }

    /// Entities with qualified name `key`, else with short name `key`.
    pub fn find_entities(&self, key: &str) -> Result<Vec<Entity>> {
        for col in ["qualified_name", "name"] {
            let sql = format!(
                "SELECT {ENTITY_COLS} FROM entities e WHERE e.{col} = ?1 ORDER BY e.file, e.start_line"
            );
            let found = self
                .conn
                .prepare_cached(&sql)?
                .query_map([key], entity_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            if !found.is_empty() {
                return Ok(found);
            }
        }
        Ok(Vec::new())
    }

    fn start_ids(&self, key: EntityKey) -> Result<Vec<i64>> {
        let ids = match key {
            EntityKey::Id(id) => self.entity(id)?.map(|e| vec![e.id]).unwrap_or_default(),
            EntityKey::Name(n) => self.find_entities(n)?.into_iter().map(|e| e.id).collect(),
        };
        if ids.is_empty() {
            let what = match key {
                EntityKey::Id(id) => format!("#{id}"),
                EntityKey::Name(n) => n.to_string(),
            };
            return Err(GraphError::NoSuchEntity(what));
        }
        Ok(ids)
    }

    /// Entities within `depth` edges of the start (both directions), nearest first.
    pub fn query_related<'a>(
        &self,
        key: impl Into<EntityKey<'a>>,
        depth: u32,
        kinds: &[RelationKind],
    ) -> Result<Vec<Related>> {
        let start = self.start_ids(key.into())?;
        let mut seen: HashSet<i64> = start.iter().copied().collect();
        let mut queue: VecDeque<(i64, u32)> = start.iter().map(|&id| (id, 0)).collect();
        let mut out = Vec::new();
        let mut st = self.conn.prepare_cached(
            "SELECT target_id, kind, strength, 1 FROM relations WHERE source_id = ?1
             UNION ALL SELECT source_id, kind, strength, 0 FROM relations WHERE target_id = ?1",
        )?;
        while let Some((id, d)) = queue.pop_front() {
            if d >= depth {
                continue;
            }
            let edges = st
                .query_map([id], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, f32>(2)?,
                        r.get::<_, bool>(3)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for (other, kind, strength, outgoing) in edges {
                let Some(kind) = RelationKind::parse(&kind) else { continue };
                if (!kinds.is_empty() && !kinds.contains(&kind)) || !seen.insert(other) {
                    continue;
                }
                if let Some(entity) = self.entity(other)? {
                    out.push(Related { entity, via: kind, outgoing, depth: d + 1, strength });
                    queue.push_back((other, d + 1));
                }
            }
        }
        Ok(out)
    }

    fn neighbours(&self, name: &str, kind: RelationKind, incoming: bool) -> Result<Vec<(Entity, f32)>> {
        let ids = self.start_ids(EntityKey::Name(name))?;
        let (want, from) = if incoming { ("source_id", "target_id") } else { ("target_id", "source_id") };
        let sql = format!(
            "SELECT {ENTITY_COLS}, max(r.strength) FROM relations r JOIN entities e ON e.id = r.{want}
             WHERE r.{from} IN (SELECT value FROM json_each(?1)) AND r.kind = ?2
             GROUP BY e.id ORDER BY max(r.strength) DESC, e.qualified_name"
        );
        let ids_json = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
        let rows = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params![ids_json, kind.as_str()], |r| Ok((entity_row(r)?, r.get::<_, f32>(10)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Who calls `name` (qualified or short), with the strongest edge's strength.
    pub fn find_callers(&self, name: &str) -> Result<Vec<(Entity, f32)>> {
        self.neighbours(name, RelationKind::Calls, true)
    }

    /// What `name` calls.
    pub fn find_callees(&self, name: &str) -> Result<Vec<(Entity, f32)>> {
        self.neighbours(name, RelationKind::Calls, false)
    }

    /// The modules a module (by name) or file (by path) depends on (imports, calls, inherits,
    /// implements, or names as a type: `uses`/`returns`), as the module entities of the files
    /// that define what it refers to.
    pub fn find_dependencies(&self, module_or_file: &str) -> Result<Vec<Entity>> {
        let file: Option<String> = self
            .conn
            .query_row("SELECT path FROM files WHERE path = ?1", [module_or_file], |r| r.get(0))
            .optional()?;
        let files = match file {
            Some(f) => vec![f],
            None => {
                let mods = self.find_entities(module_or_file)?;
                let files: Vec<String> =
                    mods.into_iter().filter(|e| e.kind == EntityKind::Module).map(|e| e.file).collect();
                if files.is_empty() {
                    return Err(GraphError::NoSuchEntity(module_or_file.to_string()));
                }
                files
            }
        };
        let sql = format!(
            "SELECT DISTINCT {ENTITY_COLS} FROM entities e WHERE e.parent_id IS NULL AND e.file IN (
                 SELECT t.file FROM relations r JOIN entities s ON s.id = r.source_id
                 JOIN entities t ON t.id = r.target_id
                 WHERE r.kind IN ('imports', 'calls', 'inherits', 'implements', 'uses', 'returns')
                   AND s.file IN (SELECT value FROM json_each(?1)) AND t.file != s.file)
             ORDER BY e.file"
        );
        let files_json = serde_json::to_string(&files).unwrap_or_else(|_| "[]".into());
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_map([files_json], entity_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// A compact text summary of `file` for a prompt: what it defines, imports and who uses it.
    pub fn architectural_context(&self, file: &str) -> Result<String> {
        let sql =
            format!("SELECT {ENTITY_COLS} FROM entities e WHERE e.file = ?1 ORDER BY e.start_line, e.id");
        let ents = self
            .conn
            .prepare_cached(&sql)?
            .query_map([file], entity_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let Some(module) = ents.first() else { return Err(GraphError::NoSuchEntity(file.to_string())) };
        let mut out = format!("# {file} ({})\n", module.qualified_name);
        if let Some(doc) = &module.doc {
            let _ = writeln!(out, "{}", doc.lines().next().unwrap_or(""));
        }
        out.push_str("defines:\n");
        for e in ents.iter().skip(1).take(60) {
            let sig = if e.signature.is_empty() { e.name.as_str() } else { e.signature.as_str() };
            let _ = writeln!(out, "  {} {} (L{}-{})", e.kind, sig, e.start_line, e.end_line);
        }
        let edges = |sql: &str| -> Result<Vec<(String, String, String)>> {
            Ok(self
                .conn
                .prepare_cached(sql)?
                .query_map([file], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        };
        let imports = edges(
            "SELECT DISTINCT r.kind, t.qualified_name, t.file FROM relations r
             JOIN entities s ON s.id = r.source_id JOIN entities t ON t.id = r.target_id
             WHERE s.file = ?1 AND t.file != ?1
               AND r.kind IN ('imports', 'inherits', 'implements', 'calls', 'uses', 'returns')
             ORDER BY r.kind, t.qualified_name LIMIT 40",
        )?;
        if !imports.is_empty() {
            out.push_str("uses:\n");
            for (kind, qn, f) in imports {
                let _ = writeln!(out, "  {kind} {qn} ({f})");
            }
        }
        let users = edges(
            "SELECT DISTINCT r.kind, s.qualified_name, s.file FROM relations r
             JOIN entities s ON s.id = r.source_id JOIN entities t ON t.id = r.target_id
             WHERE t.file = ?1 AND s.file != ?1 AND r.kind != 'contains'
             ORDER BY s.file, s.qualified_name LIMIT 40",
        )?;
        if !users.is_empty() {
            out.push_str("used by:\n");
            for (kind, qn, f) in users {
                let _ = writeln!(out, "  {qn} ({f}) {kind} it");
            }
        }
        Ok(out)
    }

    /// A map of the repository for a prompt with no file in view: its most-used definitions
    /// (most incoming relations other than `contains` first), grouped by file in order of their
    /// best entity, within `max_bytes`.
    pub fn repo_map(&self, max_bytes: usize) -> Result<String> {
        let sql = format!(
            "SELECT {ENTITY_COLS}, (SELECT count(*) FROM relations r
                                    WHERE r.target_id = e.id AND r.kind != 'contains') AS used
             FROM entities e
             WHERE e.kind IN ('class', 'struct', 'enum', 'trait', 'interface', 'function', 'method',
                              'api_endpoint', 'database_model')
             ORDER BY used DESC, e.file, e.start_line LIMIT 300"
        );
        let mut rows: Vec<(Entity, i64)> = self
            .conn
            .prepare_cached(&sql)?
            .query_map([], |r| Ok((entity_row(r)?, r.get::<_, i64>(10)?)))? // `used`, after the 10 entity columns
            .collect::<rusqlite::Result<_>>()?;
        rows.retain(|(_, used)| *used > 0);
        let mut files: Vec<(String, Vec<String>)> = Vec::new();
        for (e, used) in rows {
            let item = format!("{} {} ({used} use{})", e.kind, e.name, if used == 1 { "" } else { "s" });
            match files.iter_mut().find(|(f, _)| *f == e.file) {
                Some((_, items)) => items.push(item),
                None => files.push((e.file.clone(), vec![item])),
            }
        }
        let mut out = String::new();
        for (file, items) in files {
            let block = format!("{file}: {}\n", items.join(" · "));
            if out.len() + block.len() > max_bytes {
                break;
            }
            out.push_str(&block);
        }
        Ok(out)
    }

    /// Counts per kind, files, relations and embedded entities.
    pub fn stats(&self) -> Result<GraphStats> {
        let count = |sql: &str| -> Result<usize> {
            Ok(self.conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as usize)
        };
        let mut s = GraphStats {
            files: count("SELECT count(*) FROM files WHERE language != 'manifest'")?,
            entities: count("SELECT count(*) FROM entities")?,
            relations: count("SELECT count(*) FROM relations")?,
            unresolved_refs: count(
                "SELECT count(*) FROM refs f WHERE kind NOT IN ('typehint', 'uses', 'returns')
                 AND NOT EXISTS (SELECT 1 FROM relations r WHERE r.ref_id = f.id)",
            )?,
            parse_error_files: count("SELECT count(*) FROM files WHERE parse_errors > 0")?,
            ..GraphStats::default()
        };
        if self.has_vectors()? {
            s.embedded = count("SELECT count(*) FROM entity_vectors")?;
        }
        let mut st = self.conn.prepare("SELECT kind, count(*) FROM entities GROUP BY kind ORDER BY kind")?;
        s.by_kind = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
            .filter_map(|r| r.ok())
            .filter_map(|(k, n)| EntityKind::parse(&k).map(|k| (k, n as usize)))
            .collect();
        let mut st = self.conn.prepare("SELECT kind, count(*) FROM relations GROUP BY kind ORDER BY kind")?;
        s.by_relation = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
            .filter_map(|r| r.ok())
            .filter_map(|(k, n)| RelationKind::parse(&k).map(|k| (k, n as usize)))
            .collect();
        Ok(s)
    }
}
