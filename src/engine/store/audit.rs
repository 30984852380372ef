//! The approval audit log: one row per decision the approval gate made (or the user made in it).
//!
//! Invariants:
//! - Rows are append-only; nothing here updates or deletes them. `id` order is record order,
//!   and `time` (see [`super`]) increases with it within a process.
//! - Nothing secret is written: `target`, `scope` and `note` are stored exactly as the caller
//!   passes them, and the caller passes already-masked text. The store only bounds their size.
//! - Every text field (each reason included) is capped at [`MAX_FIELD_CHARS`] chars, ending in
//!   `…` when cut; at most [`MAX_REASONS`] reasons are kept. A huge command line cannot bloat
//!   the database.
//! - `request_id` is a `u64` stored bit-for-bit in SQLite's signed 64-bit integer, so every
//!   value round-trips exactly.
//! - `action` and `decision` are free text for forward compatibility; [`AUDIT_ACTIONS`] and
//!   [`AUDIT_DECISIONS`] list the values kv1nt writes today.

use rusqlite::Row;

use super::Result;
use super::sessions::{Store, now_rfc3339};
use crate::engine::approval::types::Risk;

/// Longest stored text field (target, note, scope, each reason, ...), in chars.
pub const MAX_FIELD_CHARS: usize = 2_000;
/// Most reasons kept per entry; later ones are dropped.
pub const MAX_REASONS: usize = 32;
/// Values of `action` kv1nt writes.
/// (`hook` is a commit hook run with a commit; `tool-call` a model's call a hook refused.)
pub const AUDIT_ACTIONS: [&str; 11] = [
    "edit",
    "command",
    "commit",
    "undo",
    "branch",
    "merge",
    "uncommit",
    "pull-request",
    "push",
    "hook",
    "tool-call",
];
/// Values of `decision` kv1nt writes.
pub const AUDIT_DECISIONS: [&str; 12] = [
    "approved-once",
    "approved-session",
    "auto-approved",
    "denied",
    "denied-with-message",
    "edited-and-approved",
    "policy-denied",
    "cancelled",
    "user-requested",
    "picked",
    "hook-denied",
    "hook-allowed",
];

/// One recorded decision, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub time: String,
    pub session_id: String,
    pub request_id: u64,
    pub action: String,
    pub target: String,
    pub risk: String,
    pub reasons: Vec<String>,
    pub decision: String,
    pub scope: Option<String>,
    pub note: Option<String>,
}

/// A decision to record. `target`, `scope` and `note` must already be masked by the caller.
#[derive(Debug, Clone, Copy)]
pub struct NewAudit<'a> {
    pub session_id: &'a str,
    pub request_id: u64,
    pub action: &'a str,
    pub target: &'a str,
    pub risk: Risk,
    pub reasons: &'a [String],
    pub decision: &'a str,
    pub scope: Option<&'a str>,
    pub note: Option<&'a str>,
}

const AUDIT_COLUMNS: &str =
    "id, time, session_id, request_id, action, target, risk, reasons, decision, scope, note";

impl Store {
    /// Appends one decision to the log; returns its row id.
    pub fn record_audit(&self, entry: &NewAudit) -> Result<i64> {
        let reasons: Vec<String> = entry.reasons.iter().take(MAX_REASONS).map(|r| cap(r)).collect();
        let reasons = serde_json::to_string(&reasons)?;
        let id = self
            .conn
            .prepare_cached(
                "INSERT INTO audit (time, session_id, request_id, action, target, risk, reasons,
                                    decision, scope, note)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 RETURNING id",
            )?
            .query_row(
                (
                    now_rfc3339(),
                    cap(entry.session_id),
                    entry.request_id as i64,
                    cap(entry.action),
                    cap(entry.target),
                    entry.risk.as_str(),
                    reasons,
                    cap(entry.decision),
                    entry.scope.map(cap),
                    entry.note.map(cap),
                ),
                |r| r.get(0),
            )?;
        Ok(id)
    }

    /// The most recent `limit` entries (of one session, or of all), oldest first.
    pub fn audit_entries(&self, session_id: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut out = Vec::new();
        match session_id {
            Some(session) => {
                let mut stmt = self.conn.prepare_cached(&format!(
                    "SELECT * FROM (SELECT {AUDIT_COLUMNS} FROM audit WHERE session_id = ?1
                                    ORDER BY id DESC LIMIT ?2)
                     ORDER BY id"
                ))?;
                let mut rows = stmt.query((session, limit))?;
                while let Some(row) = rows.next()? {
                    out.push(entry_from_row(row)?);
                }
            }
            None => {
                let mut stmt = self.conn.prepare_cached(&format!(
                    "SELECT * FROM (SELECT {AUDIT_COLUMNS} FROM audit ORDER BY id DESC LIMIT ?1)
                     ORDER BY id"
                ))?;
                let mut rows = stmt.query([limit])?;
                while let Some(row) = rows.next()? {
                    out.push(entry_from_row(row)?);
                }
            }
        }
        Ok(out)
    }
}

fn entry_from_row(row: &Row<'_>) -> Result<AuditEntry> {
    let reasons: String = row.get(7)?;
    Ok(AuditEntry {
        id: row.get(0)?,
        time: row.get(1)?,
        session_id: row.get(2)?,
        request_id: row.get::<_, i64>(3)? as u64,
        action: row.get(4)?,
        target: row.get(5)?,
        risk: row.get(6)?,
        reasons: serde_json::from_str(&reasons)?,
        decision: row.get(8)?,
        scope: row.get(9)?,
        note: row.get(10)?,
    })
}

/// `text` cut to at most [`MAX_FIELD_CHARS`] chars, the last being `…` when anything was cut.
pub(super) fn cap(text: &str) -> String {
    match text.char_indices().nth(MAX_FIELD_CHARS) {
        None => text.to_owned(),
        Some(_) => {
            let mut out: String = text.chars().take(MAX_FIELD_CHARS - 1).collect();
            out.push('…');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_is_exact_at_the_limit() {
        let at = "é".repeat(MAX_FIELD_CHARS);
        assert_eq!(cap(&at), at);
        let over = format!("{at}x");
        let capped = cap(&over);
        assert_eq!(capped.chars().count(), MAX_FIELD_CHARS);
        assert!(capped.ends_with('…'));
    }

    #[test]
    fn request_id_round_trips_above_i64_max() {
        let store = Store::open_in_memory().unwrap();
        let new = NewAudit {
            session_id: "s",
            request_id: u64::MAX - 1,
            action: "edit",
            target: "a.rs",
            risk: Risk::Low,
            reasons: &[],
            decision: "denied",
            scope: None,
            note: None,
        };
        store.record_audit(&new).unwrap();
        let got = store.audit_entries(None, 10).unwrap();
        assert_eq!(got[0].request_id, u64::MAX - 1);
        assert!(got[0].reasons.is_empty());
    }
}
