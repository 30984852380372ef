//! `kv1nt forget`: deleting what the learning layer recorded — the proposals' outcomes
//! (`proposals`) and the turns' tokens (`turn_usage`) — for one workspace's sessions or all.
//!
//! Invariants: only those two tables are touched (sessions, messages, the audit log and the
//! undo ledger stay: they are the user's history and the undo, not learning records); counting
//! and deleting use the same filter, and deleting is one transaction.

use rusqlite::params;

use super::Result;
use super::sessions::Store;

/// How many records a forget covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LearningRecords {
    pub proposals: u64,
    /// `turn_usage` rows: one per turn and model.
    pub turns: u64,
}

/// Sessions of `workspace` (a session's `cwd`), or every session when `None`.
const OF_WORKSPACE: &str = "(?1 IS NULL OR session_id IN (SELECT id FROM sessions WHERE cwd = ?1))";

impl Store {
    /// The learning records of `workspace`'s sessions (all when `None`).
    pub fn learning_records(&self, workspace: Option<&str>) -> Result<LearningRecords> {
        let count = |table: &str| -> Result<u64> {
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE {OF_WORKSPACE}");
            Ok(self.conn.query_row(&sql, params![workspace], |r| r.get::<_, i64>(0))? as u64)
        };
        Ok(LearningRecords { proposals: count("proposals")?, turns: count("turn_usage")? })
    }

    /// Deletes the learning records of `workspace`'s sessions (all when `None`); returns how
    /// many were deleted.
    pub fn forget_learning(&self, workspace: Option<&str>) -> Result<LearningRecords> {
        let tx = self.conn.unchecked_transaction()?;
        let delete = |table: &str| -> Result<u64> {
            let sql = format!("DELETE FROM {table} WHERE {OF_WORKSPACE}");
            Ok(tx.execute(&sql, params![workspace])? as u64)
        };
        let forgotten = LearningRecords { proposals: delete("proposals")?, turns: delete("turn_usage")? };
        tx.commit()?;
        Ok(forgotten)
    }
}
