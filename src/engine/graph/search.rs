//! Searching the graph: lexical (FTS5 BM25) and hybrid (BM25 + vector KNN fused by reciprocal
//! rank) search.
//!
//! Invariant: user text never reaches FTS5 syntax: every token is double-quoted (quotes doubled)
//! and tokens are joined by AND or OR only, so `"`, `*`, `NEAR`, `:` and friends are plain text.
//!
//! Decisions (why):
//! - Lexical search asks for all tokens first (AND) and falls back to any token (OR) only when
//!   that finds fewer than `limit` rows. FTS5's bm25 scores every matching row before `ORDER
//!   BY rank LIMIT` can cut (a common-word OR query over 100k entities matches ~50k rows,
//!   ~25 ms); the AND query matches the few rows that contain every word, which are also the
//!   ones an OR ranking would put first. Column weights stay in the table's `rank` config
//!   (`bm25(10, 4, 2, 1)`: name, qualified name, signature, doc). No prefix matching (never
//!   had it). Ranking queries return ids and scores only; entity rows are loaded for the hits.
//! - Vector search over ≥ [`EXACT_VECTOR_BELOW`] vectors is two-stage: hamming KNN over the
//!   sign-bit table (`entity_vectors_bin`) for `BINARY_OVERSAMPLE × k` candidates, then exact
//!   cosine on those candidates' float vectors. Brute-force float KNN reads every vector
//!   (~150 MB for 100k × 384) per query; the bit table is 32× smaller. The hamming scan runs
//!   in Rust over an in-memory copy of the bit table (re-read when `data_version` or the
//!   connection's `total_changes` moves), not as a vec0 KNN: sqlite-vec 0.1.9 selects its
//!   top k per chunk in O(rows × k) (17 ms for k = 200 over 100k rows; the popcount scan is
//!   < 1 ms). Recall is not 1 (the bench prints recall@10 against brute force:
//!   [`GraphDb::vector_search_exact`]); tables under the threshold stay exact.
//! - Hybrid search runs each side at depth `2 × limit` (at least 10), fuses by RRF and loads
//!   entities for the final `limit` only.

use std::collections::{HashMap, HashSet};

use rusqlite::params;

use super::Result;
use super::model::{Entity, EntityKind};
use super::query::{ENTITY_COLS, SearchHit, entity_row, kinds_json};
use super::store::GraphDb;

impl GraphDb {
    /// Full-text search over names, qualified names, signatures and docs (BM25).
    pub fn lexical_search(&self, query: &str, kinds: &[EntityKind], limit: usize) -> Result<Vec<SearchHit>> {
        let ranked = self.lexical_ranked(query, kinds, limit, limit)?;
        let mut found = self.entities_by_id(ranked.iter().map(|&(id, _)| id))?;
        Ok(ranked
            .into_iter()
            .filter_map(|(id, score)| found.remove(&id).map(|entity| SearchHit { entity, score }))
            .collect())
    }

    /// The best `limit` (entity id, BM25 score with the sign flipped: higher is better) for
    /// `query`: all tokens required first, any token when that finds fewer than `min`.
    fn lexical_ranked(
        &self,
        query: &str,
        kinds: &[EntityKind],
        limit: usize,
        min: usize,
    ) -> Result<Vec<(i64, f64)>> {
        let tokens = fts_tokens(query);
        if tokens.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        if tokens.len() > 1 {
            let all = self.fts_ranked(&tokens.join(" AND "), kinds, limit)?;
            if all.len() >= min.min(limit) {
                return Ok(all);
            }
        }
        self.fts_ranked(&tokens.join(" OR "), kinds, limit)
    }

    /// Ids and scores only; entity rows are loaded for the final hits alone.
    fn fts_ranked(&self, fts: &str, kinds: &[EntityKind], limit: usize) -> Result<Vec<(i64, f64)>> {
        let row = |r: &rusqlite::Row| Ok((r.get::<_, i64>(0)?, -r.get::<_, f64>(1)?));
        let rows = if kinds.is_empty() {
            self.conn
                .prepare_cached(
                    "SELECT rowid, rank FROM entities_fts WHERE entities_fts MATCH ?1 ORDER BY rank LIMIT ?2",
                )?
                .query_map(params![fts, limit as i64], row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        } else {
            self.conn
                .prepare_cached(
                    "SELECT entities_fts.rowid, entities_fts.rank FROM entities_fts
                     JOIN entities e ON e.id = entities_fts.rowid
                     WHERE entities_fts MATCH ?1 AND e.kind IN (SELECT value FROM json_each(?2))
                     ORDER BY entities_fts.rank LIMIT ?3",
                )?
                .query_map(params![fts, kinds_json(kinds), limit as i64], row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        Ok(rows)
    }

    /// The entities with these ids (missing ones absent), by id.
    fn entities_by_id(&self, ids: impl IntoIterator<Item = i64>) -> Result<HashMap<i64, Entity>> {
        let ids: Vec<i64> = ids.into_iter().collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql =
            format!("SELECT {ENTITY_COLS} FROM entities e WHERE e.id IN (SELECT value FROM json_each(?1))");
        let ids_json = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_map([ids_json], entity_row)?
            .map(|r| r.map(|e| (e.id, e)))
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Of these ids, those whose entity exists and (unless `kinds` is empty) has one of `kinds`.
    fn existing_ids(&self, ids: &[i64], kinds: &[EntityKind]) -> Result<HashSet<i64>> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let ids_json = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id FROM entities WHERE id IN (SELECT value FROM json_each(?1))
                 AND (?2 = '[]' OR kind IN (SELECT value FROM json_each(?2)))",
            )?
            .query_map(params![ids_json, kinds_json(kinds)], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Hybrid search: BM25 and vector KNN ranks fused by RRF (k = 60); lexical only when
    /// `query_vector` is `None` (or nothing is embedded yet). Both lists are cut at
    /// `2 × limit` (at least 10) and entity rows are loaded for the final `limit` only.
    pub fn semantic_search(
        &self,
        query: &str,
        query_vector: Option<&[f32]>,
        kinds: &[EntityKind],
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        let Some(v) = query_vector else { return self.lexical_search(query, kinds, limit) };
        let depth = (limit * 2).max(10);
        let lexical = self.lexical_ranked(query, kinds, depth, limit)?;
        let knn = self.vector_search(v, if kinds.is_empty() { depth } else { depth * 4 })?;
        let knn_ids: Vec<i64> = knn.iter().map(|&(id, _)| id).collect();
        let keep = self.existing_ids(&knn_ids, kinds)?;
        let mut scores: HashMap<i64, f64> = HashMap::new();
        for (rank, &(id, _)) in lexical.iter().enumerate() {
            *scores.entry(id).or_default() += 1.0 / (RRF_K + rank as f64 + 1.0);
        }
        for (rank, id) in knn_ids.into_iter().filter(|id| keep.contains(id)).take(depth).enumerate() {
            *scores.entry(id).or_default() += 1.0 / (RRF_K + rank as f64 + 1.0);
        }
        let mut ranked: Vec<(i64, f64)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        // Over-fetch a little: a lexical id may point at a row gone since (stale FTS).
        let mut found = self.entities_by_id(ranked.iter().take(limit * 2).map(|&(id, _)| id))?;
        let mut hits: Vec<SearchHit> = ranked
            .into_iter()
            .filter_map(|(id, score)| found.remove(&id).map(|entity| SearchHit { entity, score }))
            .collect();
        hits.truncate(limit);
        Ok(hits)
    }
}

/// Reciprocal-rank-fusion constant.
pub const RRF_K: f64 = 60.0;

/// The quoted FTS5 phrases of `query` (at most 32): every token double-quoted, quotes doubled.
fn fts_tokens(query: &str) -> Vec<String> {
    query
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|t| !t.is_empty())
        .take(32)
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect()
}

/// Quotes every token of `query` for FTS5 MATCH, any token matching (OR); `None` when there
/// is nothing to search.
pub fn fts_query(query: &str) -> Option<String> {
    let tokens = fts_tokens(query);
    (!tokens.is_empty()).then(|| tokens.join(" OR "))
}

/// Like [`fts_query`], but every token must match (AND).
pub fn fts_query_all(query: &str) -> Option<String> {
    let tokens = fts_tokens(query);
    (!tokens.is_empty()).then(|| tokens.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_query_quotes_everything() {
        assert_eq!(
            fts_query("a\"b NEAR(c) x*").as_deref(),
            Some("\"a\" OR \"b\" OR \"NEAR\" OR \"c\" OR \"x\"")
        );
        assert_eq!(fts_query("  ::  "), None);
        assert_eq!(fts_query_all("a\"b x*").as_deref(), Some("\"a\" AND \"b\" AND \"x\""));
        assert_eq!(fts_query_all("  ::  "), None);
    }
}
