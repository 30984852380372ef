//! Summaries that stand for the start of a session (`compactions`) and the messages the user
//! pinned so no summary replaces them (`pins`). Each summary replaces the
//! session's messages with `seq <= through` in the requests after it; the messages themselves
//! stay where they are (recall reads them, `kv1nt sessions` counts them).
//!
//! Invariants: rows are only appended; the one in force is the last one written, and a later
//! summary always covers at least what an earlier one did (it folds the earlier one in).

use rusqlite::OptionalExtension;

use super::Result;
use super::sessions::{Store, now_rfc3339};

/// A stored summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCompaction {
    /// The session's messages it replaces: those with `seq` 1..=`through` (the first `through`).
    pub through: usize,
    pub summary: String,
    pub tokens_before: usize,
    pub tokens_after: usize,
    pub edited: bool,
    pub created_at: String,
}

impl Store {
    /// Records the summary now in force for `session_id`.
    pub fn add_compaction(&self, session_id: &str, c: &StoredCompaction) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO compactions (session_id, through, summary, tokens_before, tokens_after,
                                          edited, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute((
                session_id,
                c.through as i64,
                &c.summary,
                c.tokens_before as i64,
                c.tokens_after as i64,
                c.edited,
                now_rfc3339(),
            ))?;
        Ok(())
    }

    /// Pins (`pinned`) or unpins the session's message at position `seq` (1-based).
    pub fn set_pin(&self, session_id: &str, seq: usize, pinned: bool) -> Result<()> {
        let sql = if pinned {
            "INSERT OR IGNORE INTO pins (session_id, seq) VALUES (?1, ?2)"
        } else {
            "DELETE FROM pins WHERE session_id = ?1 AND seq = ?2"
        };
        self.conn.prepare_cached(sql)?.execute((session_id, seq as i64))?;
        Ok(())
    }

    /// The positions (1-based) of the session's pinned messages, in order.
    pub fn pins(&self, session_id: &str) -> Result<Vec<usize>> {
        let mut stmt = self.conn.prepare_cached("SELECT seq FROM pins WHERE session_id = ?1 ORDER BY seq")?;
        let rows = stmt.query_map([session_id], |r| r.get::<_, i64>(0))?;
        Ok(rows.filter_map(|r| r.ok()).map(|s| s.max(0) as usize).collect())
    }

    /// The summary in force for `session_id`, if it was ever compacted.
    pub fn latest_compaction(&self, session_id: &str) -> Result<Option<StoredCompaction>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT through, summary, tokens_before, tokens_after, edited, created_at
                 FROM compactions WHERE session_id = ?1 ORDER BY id DESC LIMIT 1",
            )?
            .query_row([session_id], |r| {
                Ok(StoredCompaction {
                    through: r.get::<_, i64>(0)?.max(0) as usize,
                    summary: r.get(1)?,
                    tokens_before: r.get::<_, i64>(2)?.max(0) as usize,
                    tokens_after: r.get::<_, i64>(3)?.max(0) as usize,
                    edited: r.get(4)?,
                    created_at: r.get(5)?,
                })
            })
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_summary_of_a_session_is_the_one_in_force() {
        let store = Store::open_in_memory().unwrap();
        let s = store.create_session("/w", "openai", "m").unwrap();
        assert_eq!(store.latest_compaction(&s.id).unwrap(), None);
        let first = StoredCompaction {
            through: 10,
            summary: "## Goal\nA".into(),
            tokens_before: 3_000,
            tokens_after: 900,
            edited: false,
            created_at: String::new(),
        };
        store.add_compaction(&s.id, &first).unwrap();
        store
            .add_compaction(
                &s.id,
                &StoredCompaction { through: 30, summary: "## Goal\nB".into(), edited: true, ..first },
            )
            .unwrap();
        let now = store.latest_compaction(&s.id).unwrap().unwrap();
        assert_eq!((now.through, now.summary.as_str(), now.edited), (30, "## Goal\nB", true));
        let other = store.create_session("/w", "openai", "m").unwrap();
        assert_eq!(store.latest_compaction(&other.id).unwrap(), None);
    }

    #[test]
    fn pins_are_kept_per_session_in_order() {
        let store = Store::open_in_memory().unwrap();
        let s = store.create_session("/w", "openai", "m").unwrap();
        for seq in [7, 3, 7] {
            store.set_pin(&s.id, seq, true).unwrap();
        }
        assert_eq!(store.pins(&s.id).unwrap(), vec![3, 7]);
        store.set_pin(&s.id, 3, false).unwrap();
        assert_eq!(store.pins(&s.id).unwrap(), vec![7]);
    }
}
