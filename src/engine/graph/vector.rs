//! Vector search over the embedded entities: exact KNN on the float `vec0` table for small
//! tables, and from [`EXACT_VECTOR_BELOW`] vectors a two-stage search — Hamming distance over the
//! sign bits for `BINARY_OVERSAMPLE × k` candidates, exact cosine re-ranking of those. The why of
//! each choice is in `query.rs`'s module docs (search decisions).

use rusqlite::{OptionalExtension, params};

use super::store::{BIN_TABLE, BitsCache, GraphDb, vector_blob};
use super::{GraphError, Result};

/// Vector tables smaller than this are searched exactly (brute force is already fast there).
pub const EXACT_VECTOR_BELOW: usize = 5_000;

/// Coarse (hamming) candidates per wanted neighbour before exact re-ranking.
pub const BINARY_OVERSAMPLE: usize = 10;

/// At least this many coarse candidates, however small `k`.
const MIN_CANDIDATES: usize = 100;

/// Bits that differ between two equally long byte strings.
fn hamming(a: &[u8], b: &[u8]) -> u32 {
    let mut d = 0;
    let (mut ca, mut cb) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in (&mut ca).zip(&mut cb) {
        let (x, y) = (
            u64::from_le_bytes(x.try_into().unwrap_or([0; 8])),
            u64::from_le_bytes(y.try_into().unwrap_or([0; 8])),
        );
        d += (x ^ y).count_ones();
    }
    d + ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| (x ^ y).count_ones()).sum::<u32>()
}

impl GraphDb {
    /// Nearest entities to `vector` (cosine), as (id, distance); empty without a vector table.
    /// From [`EXACT_VECTOR_BELOW`] vectors on (and with the binary table), a hamming KNN over
    /// the sign bits picks `BINARY_OVERSAMPLE × k` candidates and exact cosine re-ranks them;
    /// smaller tables are searched exactly.
    pub fn vector_search(&self, vector: &[f32], k: usize) -> Result<Vec<(i64, f64)>> {
        if !self.check_vector(vector)? || k == 0 {
            return Ok(Vec::new());
        }
        if self.has_binary_vectors()? && self.vector_count()? >= EXACT_VECTOR_BELOW {
            return self.vector_search_quantized(vector, k);
        }
        self.knn_exact(vector, k)
    }

    /// Brute-force exact KNN over the float vectors (the reference the quantised path is
    /// measured against).
    pub fn vector_search_exact(&self, vector: &[f32], k: usize) -> Result<Vec<(i64, f64)>> {
        if !self.check_vector(vector)? || k == 0 {
            return Ok(Vec::new());
        }
        self.knn_exact(vector, k)
    }

    /// Whether there are vectors to search with `vector` (dimension mismatch: an error).
    fn check_vector(&self, vector: &[f32]) -> Result<bool> {
        match self.vector_model()? {
            Some((_, dim)) if dim == vector.len() && self.has_vectors()? => Ok(true),
            Some((_, dim)) if self.has_vectors()? => {
                Err(GraphError::EmbeddingDim { expected: dim, got: vector.len() })
            }
            _ => Ok(false),
        }
    }

    fn knn_exact(&self, vector: &[f32], k: usize) -> Result<Vec<(i64, f64)>> {
        let rows = self
            .conn
            .prepare_cached("SELECT rowid, distance FROM entity_vectors WHERE embedding MATCH ?1 AND k = ?2")?
            .query_map(params![vector_blob(vector), k as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn vector_search_quantized(&self, vector: &[f32], k: usize) -> Result<Vec<(i64, f64)>> {
        let blob = vector_blob(vector);
        let candidates = k.saturating_mul(BINARY_OVERSAMPLE).max(MIN_CANDIDATES);
        let ids = self.hamming_nearest(&blob, candidates)?;
        let mut exact = self.conn.prepare_cached(
            "SELECT vec_distance_cosine(embedding, ?1) FROM entity_vectors WHERE rowid = ?2",
        )?;
        let mut out: Vec<(i64, f64)> = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(d) = exact.query_row(params![blob, id], |r| r.get::<_, f64>(0)).optional()? {
                out.push((id, d));
            }
        }
        out.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        out.truncate(k);
        Ok(out)
    }

    /// The `n` ids nearest to `blob` (float32) by hamming distance of the sign bits, from the
    /// in-memory copy of the binary table (re-read when the database changed).
    fn hamming_nearest(&self, blob: &[u8], n: usize) -> Result<Vec<i64>> {
        let query: Vec<u8> =
            self.conn.prepare_cached("SELECT vec_quantize_binary(?1)")?.query_row([blob], |r| r.get(0))?;
        let stamp = (
            self.conn.pragma_query_value(None, "data_version", |r| r.get::<_, i64>(0))?,
            self.conn.total_changes(),
        );
        let mut cache = self.bits.borrow_mut();
        if cache.as_ref().is_none_or(|c| c.stamp != stamp || c.width != query.len()) {
            let mut ids = Vec::new();
            let mut bits = Vec::new();
            let mut st = self.conn.prepare_cached(&format!("SELECT rowid, embedding FROM {BIN_TABLE}"))?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                if let Ok(b) = r.get_ref(1)?.as_blob()
                    && b.len() == query.len()
                {
                    ids.push(r.get::<_, i64>(0)?);
                    bits.extend_from_slice(b);
                }
            }
            *cache = Some(BitsCache { stamp, width: query.len(), ids, bits });
        }
        let Some(c) = cache.as_ref() else { return Ok(Vec::new()) };
        let mut dist: Vec<(u32, u32)> = c
            .bits
            .chunks_exact(c.width.max(1))
            .enumerate()
            .map(|(i, v)| (hamming(v, &query), i as u32))
            .collect();
        if dist.len() > n {
            dist.select_nth_unstable(n);
            dist.truncate(n);
        }
        Ok(dist.into_iter().map(|(_, i)| c.ids[i as usize]).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hamming_counts_differing_bits() {
        let a = [0xffu8; 12];
        let mut b = [0xffu8; 12];
        b[0] = 0xfe;
        b[11] = 0x0f;
        assert_eq!(hamming(&a, &b), 5);
        assert_eq!(hamming(&a, &a), 0);
    }
}
