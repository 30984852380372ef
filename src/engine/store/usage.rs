//! Tokens spent per turn and model (`turn_usage`): what each reply of a turn cost, summed per
//! (session, turn, provider, model), for the learning layer's "tokens per accepted change".
//!
//! Invariants: counts only grow (each reply adds its own usage); nothing but counts and names
//! is stored — no prompt or reply text.

use rusqlite::params;

use super::Result;
use super::sessions::{Store, now_rfc3339};
use crate::engine::protocol::Usage;

/// One turn's tokens on one model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnUsage {
    pub session_id: String,
    pub turn: u64,
    pub provider: String,
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_write_tokens: u64,
    pub cache_read_tokens: u64,
    pub time: String,
}

impl TurnUsage {
    pub fn usage(&self) -> Usage {
        Usage {
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cache_write_tokens: self.cache_write_tokens,
            cache_read_tokens: self.cache_read_tokens,
        }
    }
}

impl Store {
    /// Adds one reply's tokens to its turn.
    pub fn add_turn_usage(
        &self,
        session_id: &str,
        turn: u64,
        provider: &str,
        model: &str,
        tokens: &Usage,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO turn_usage (session_id, turn, provider, model, input_tokens, output_tokens,
                                         cache_write_tokens, cache_read_tokens, time)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (session_id, turn, provider, model) DO UPDATE SET
                     input_tokens = input_tokens + excluded.input_tokens,
                     output_tokens = output_tokens + excluded.output_tokens,
                     cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
                     cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
                     time = excluded.time",
            )?
            .execute(params![
                session_id,
                turn as i64,
                provider,
                model,
                tokens.input_tokens as i64,
                tokens.output_tokens as i64,
                tokens.cache_write_tokens as i64,
                tokens.cache_read_tokens as i64,
                now_rfc3339()
            ])?;
        Ok(())
    }

    /// One session's usage, summed per provider and model.
    pub fn session_usage(&self, session_id: &str) -> Result<Vec<(String, String, Usage)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT provider, model, SUM(input_tokens), SUM(output_tokens), SUM(cache_write_tokens),
                    SUM(cache_read_tokens)
             FROM turn_usage WHERE session_id = ?1 GROUP BY provider, model ORDER BY provider, model",
        )?;
        let rows = st.query_map([session_id], |r| {
            let count = |i: usize| r.get::<_, i64>(i).map(|n| n.max(0) as u64);
            let usage = Usage {
                input_tokens: count(2)?,
                output_tokens: count(3)?,
                cache_write_tokens: count(4)?,
                cache_read_tokens: count(5)?,
            };
            Ok((r.get(0)?, r.get(1)?, usage))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every turn's usage at or after `since` (all when `None`).
    pub fn turn_usage(&self, since: Option<&str>) -> Result<Vec<TurnUsage>> {
        let mut st = self.conn.prepare_cached(
            "SELECT session_id, turn, provider, model, input_tokens, output_tokens, cache_write_tokens,
                    cache_read_tokens, time FROM turn_usage
             WHERE ?1 IS NULL OR time >= ?1 ORDER BY time",
        )?;
        let rows = st.query_map([since], |r| {
            Ok(TurnUsage {
                session_id: r.get(0)?,
                turn: r.get::<_, i64>(1)? as u64,
                provider: r.get(2)?,
                model: r.get(3)?,
                input_tokens: r.get::<_, i64>(4)? as u64,
                output_tokens: r.get::<_, i64>(5)? as u64,
                cache_write_tokens: r.get::<_, i64>(6)? as u64,
                cache_read_tokens: r.get::<_, i64>(7)? as u64,
                time: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
