//! Full-text search over stored messages (`message_search`, FTS5, filled by triggers on
//! `messages`): what the `recall` tool returns when a summary is not enough.
//!
//! Invariants: the search reads only; a query is reduced to its words (letters, digits, `_`),
//! each quoted, so nothing a model writes is FTS5 syntax; results come best first (bm25).

use super::Result;
use super::sessions::{Store, StoredMessage, stored_from_row};

/// A message that matched, with where it sits.
#[derive(Debug, Clone, PartialEq)]
pub struct RecallHit {
    pub session_id: String,
    /// Its position in the session (1 = the first message).
    pub seq: i64,
    pub message: StoredMessage,
}

/// Where to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecallScope<'a> {
    Session(&'a str),
    /// Every session started in this directory.
    Workspace(&'a str),
}

/// `text`'s words as an FTS5 query matching any of them, or `None` when it has none.
pub fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .take(32)
        .map(|w| format!("\"{w}\""))
        .collect();
    (!words.is_empty()).then(|| words.join(" OR "))
}

impl Store {
    /// Up to `limit` messages matching `query` in `scope`, best first.
    pub fn recall(&self, scope: RecallScope<'_>, query: &str, limit: usize) -> Result<Vec<RecallHit>> {
        let Some(fts) = fts_query(query) else { return Ok(Vec::new()) };
        let (filter, key) = match scope {
            RecallScope::Session(id) => ("m.session_id = ?2", id),
            RecallScope::Workspace(cwd) => ("m.session_id IN (SELECT id FROM sessions WHERE cwd = ?2)", cwd),
        };
        let sql = format!(
            "SELECT m.id, m.role, m.body, m.status, m.note, m.session_id, m.seq
             FROM message_search AS s JOIN messages AS m ON m.id = s.rowid
             WHERE message_search MATCH ?1 AND {filter}
             ORDER BY bm25(message_search) LIMIT ?3"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query((fts, key, limit as i64))?;
        let mut hits = Vec::new();
        while let Some(row) = rows.next()? {
            hits.push(RecallHit {
                session_id: row.get(5)?,
                seq: row.get(6)?,
                message: stored_from_row(row)?,
            });
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::llm::{Message, Role, ToolResult};
    use crate::engine::store::MessageStatus;

    #[test]
    fn a_query_is_words_only() {
        assert_eq!(
            fts_query("parse_config() NEAR\"x*"),
            Some("\"parse_config\" OR \"NEAR\" OR \"x\"".into())
        );
        assert_eq!(fts_query(" -*() "), None);
    }

    #[test]
    fn finds_text_and_tool_results_in_the_session_or_the_workspace() {
        let store = Store::open_in_memory().unwrap();
        let a = store.create_session("/w", "openai", "m").unwrap();
        let b = store.create_session("/w", "openai", "m").unwrap();
        let other = store.create_session("/elsewhere", "openai", "m").unwrap();
        store
            .append_message(
                &a.id,
                &Message::user("the flux capacitor needs 1.21 gigawatts"),
                MessageStatus::Complete,
            )
            .unwrap();
        let mut result = Message::text(Role::User, "");
        result.tool_results.push(ToolResult {
            call_id: "c".into(),
            content: "error[E0308]: mismatched gigawatts".into(),
            is_error: true,
        });
        store.append_message(&a.id, &result, MessageStatus::Complete).unwrap();
        store.append_message(&b.id, &Message::user("gigawatts again"), MessageStatus::Complete).unwrap();
        store
            .append_message(&other.id, &Message::user("gigawatts elsewhere"), MessageStatus::Complete)
            .unwrap();

        let hits = store.recall(RecallScope::Session(&a.id), "E0308", 5).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].seq, hits[0].message.message.tool_results[0].is_error), (2, true));
        assert_eq!(store.recall(RecallScope::Session(&a.id), "gigawatts", 5).unwrap().len(), 2);
        assert_eq!(store.recall(RecallScope::Workspace("/w"), "gigawatts", 5).unwrap().len(), 3);
        assert_eq!(store.recall(RecallScope::Workspace("/w"), "gigawatts", 1).unwrap().len(), 1);
    }

    #[test]
    fn a_checkpointed_reply_is_found_by_its_final_text() {
        let store = Store::open_in_memory().unwrap();
        let s = store.create_session("/w", "openai", "m").unwrap();
        let row =
            store.append_message(&s.id, &Message::assistant("draft"), MessageStatus::Streaming).unwrap();
        store
            .checkpoint_message(
                row,
                &Message::assistant("final answer: use rayon"),
                MessageStatus::Complete,
                None,
            )
            .unwrap();
        assert!(store.recall(RecallScope::Session(&s.id), "draft", 5).unwrap().is_empty());
        assert_eq!(store.recall(RecallScope::Session(&s.id), "rayon", 5).unwrap().len(), 1);
    }
}
