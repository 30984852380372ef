//! Tokens spent per turn and model (`turn_usage`): what each reply of a turn cost, summed per
//! (session, turn, provider, model), for the learning layer's "tokens per accepted change".
//!
//! Invariants: counts only grow (each reply adds its own usage); nothing but counts and names
//! is stored — no prompt or reply text.

use rusqlite::params;

use super::Result;
use super::sessions::{Store, now_rfc3339};

/// One turn's tokens on one model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnUsage {
    pub session_id: String,
    pub turn: u64,
    pub provider: String,
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub time: String,
}

impl Store {
    /// Adds one reply's tokens to its turn.
    pub fn add_turn_usage(
        &self,
        session_id: &str,
        turn: u64,
        provider: &str,
        model: &str,
        tokens: (u64, u64),
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO turn_usage (session_id, turn, provider, model, input_tokens, output_tokens, time)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (session_id, turn, provider, model) DO UPDATE SET
                     input_tokens = input_tokens + excluded.input_tokens,
                     output_tokens = output_tokens + excluded.output_tokens,
                     time = excluded.time",
            )?
            .execute(params![
                session_id,
                turn as i64,
                provider,
                model,
                tokens.0 as i64,
                tokens.1 as i64,
                now_rfc3339()
            ])?;
        Ok(())
    }

    /// Every turn's usage at or after `since` (all when `None`).
    pub fn turn_usage(&self, since: Option<&str>) -> Result<Vec<TurnUsage>> {
        let mut st = self.conn.prepare_cached(
            "SELECT session_id, turn, provider, model, input_tokens, output_tokens, time FROM turn_usage
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
                time: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
