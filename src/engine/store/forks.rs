//! Forked sessions (`/fork`): a new session that begins with a copy of another's first messages,
//! with the summaries and pins that fall inside the copy, and that names its parent
//! (`sessions.parent_id`, `sessions.forked_at`).
//!
//! Invariants:
//! - A fork is written in one transaction: the new session exists with all of its copied rows,
//!   or not at all. The parent is only read.
//! - The copy keeps the parent's `seq` numbers (1..=`through`), so a position (a pin, a
//!   summary's `through`) means the same message in both sessions. Only summaries standing for
//!   messages inside the copy (`through` ≤ the copy's length) and pins on copied messages come
//!   along; the latest such summary is the one in force in the fork.
//! - What happened in the parent stays the parent's: its audit rows, proposals, usage and
//!   changes are not copied.

use rusqlite::{Transaction, TransactionBehavior};

use super::sessions::{SessionInfo, Store};
use super::{Result, StoreError};

impl Store {
    /// A new session made of `parent_id`'s first `through` messages (0: none), its summaries
    /// and pins within them, forked from it. The parent is not changed.
    pub fn fork_session(&self, parent_id: &str, through: usize) -> Result<SessionInfo> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let parent =
            self.session_by_id(parent_id)?.ok_or_else(|| StoreError::NoSuchSession(parent_id.to_owned()))?;
        if through > parent.message_count {
            return Err(StoreError::ForkPoint { through, count: parent.message_count });
        }
        let child = self.create_session(&parent.cwd, &parent.provider, &parent.model)?;
        let title = if through == 0 { "" } else { parent.title.as_str() };
        let upto = through as i64;
        tx.prepare_cached("UPDATE sessions SET parent_id = ?2, forked_at = ?3, title = ?4 WHERE id = ?1")?
            .execute((&child.id, parent_id, upto, title))?;
        tx.prepare_cached(
            "INSERT INTO messages (session_id, seq, role, body, status, note, created_at, updated_at)
             SELECT ?1, seq, role, body, status, note, created_at, updated_at
             FROM messages WHERE session_id = ?2 AND seq <= ?3 ORDER BY seq",
        )?
        .execute((&child.id, parent_id, upto))?;
        tx.prepare_cached(
            "INSERT INTO compactions (session_id, through, summary, tokens_before, tokens_after,
                                      edited, created_at)
             SELECT ?1, through, summary, tokens_before, tokens_after, edited, created_at
             FROM compactions WHERE session_id = ?2 AND through <= ?3 ORDER BY id",
        )?
        .execute((&child.id, parent_id, upto))?;
        tx.prepare_cached(
            "INSERT INTO pins (session_id, seq) SELECT ?1, seq FROM pins WHERE session_id = ?2 AND seq <= ?3",
        )?
        .execute((&child.id, parent_id, upto))?;
        tx.commit()?;
        self.session_by_id(&child.id)?.ok_or(StoreError::NoSuchSession(child.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::llm::Message;
    use crate::engine::store::{MessageStatus, RecallScope, StoredCompaction};

    fn session_with(store: &Store, n: usize) -> SessionInfo {
        let s = store.create_session("/w", "openai", "m").unwrap();
        for i in 1..=n {
            let msg = if i % 2 == 1 {
                Message::user(format!("prompt {i}"))
            } else {
                Message::assistant(format!("reply {i}"))
            };
            store.append_message(&s.id, &msg, MessageStatus::Complete).unwrap();
        }
        s
    }

    fn summary(through: usize, text: &str) -> StoredCompaction {
        StoredCompaction {
            through,
            summary: text.into(),
            tokens_before: 100,
            tokens_after: 10,
            edited: false,
            created_at: String::new(),
        }
    }

    #[test]
    fn a_fork_copies_the_first_messages_and_names_its_parent() {
        let store = Store::open_in_memory().unwrap();
        let parent = session_with(&store, 6);
        let fork = store.fork_session(&parent.id, 4).unwrap();
        assert_ne!(fork.id, parent.id);
        assert_eq!((fork.parent_id.as_deref(), fork.forked_at), (Some(parent.id.as_str()), Some(4)));
        assert_eq!((fork.message_count, fork.title.as_str(), fork.cwd.as_str()), (4, "prompt 1", "/w"));
        let texts: Vec<String> =
            store.load_messages(&fork.id).unwrap().into_iter().map(|m| m.message.text).collect();
        assert_eq!(texts, ["prompt 1", "reply 2", "prompt 3", "reply 4"]);
        // The parent is untouched; the fork is listed first (newest) and found by its id.
        assert_eq!(store.load_messages(&parent.id).unwrap().len(), 6);
        assert_eq!(store.resolve_session(&parent.id).unwrap().parent_id, None);
        assert_eq!(store.list_sessions(1).unwrap()[0].id, fork.id);
        assert_eq!(store.resolve_session(&fork.id).unwrap(), fork);
        // The fork goes on by itself, and recall finds its copied messages.
        store.append_message(&fork.id, &Message::user("prompt 5b"), MessageStatus::Complete).unwrap();
        assert_eq!(store.load_messages(&fork.id).unwrap()[4].message.text, "prompt 5b");
        assert_eq!(store.load_messages(&parent.id).unwrap()[4].message.text, "prompt 5");
        assert_eq!(store.recall(RecallScope::Session(&fork.id), "reply", 10).unwrap().len(), 2);
    }

    #[test]
    fn summaries_and_pins_come_along_only_inside_the_copy() {
        let store = Store::open_in_memory().unwrap();
        let parent = session_with(&store, 8);
        store.add_compaction(&parent.id, &summary(2, "first")).unwrap();
        store.add_compaction(&parent.id, &summary(6, "second")).unwrap();
        for seq in [1, 3, 7] {
            store.set_pin(&parent.id, seq, true).unwrap();
        }
        let late = store.fork_session(&parent.id, 8).unwrap();
        assert_eq!(store.latest_compaction(&late.id).unwrap().unwrap().summary, "second");
        assert_eq!(store.pins(&late.id).unwrap(), vec![1, 3, 7]);
        let early = store.fork_session(&parent.id, 4).unwrap();
        assert_eq!(store.latest_compaction(&early.id).unwrap().unwrap().summary, "first");
        assert_eq!(store.pins(&early.id).unwrap(), vec![1, 3]);
        let empty = store.fork_session(&parent.id, 0).unwrap();
        assert_eq!((empty.message_count, empty.title.as_str()), (0, ""));
        assert_eq!(store.latest_compaction(&empty.id).unwrap(), None);
        assert!(store.pins(&empty.id).unwrap().is_empty());
        // The parent keeps everything.
        assert_eq!(store.latest_compaction(&parent.id).unwrap().unwrap().summary, "second");
        assert_eq!(store.pins(&parent.id).unwrap(), vec![1, 3, 7]);
    }

    #[test]
    fn a_fork_point_past_the_end_or_an_unknown_parent_changes_nothing() {
        let store = Store::open_in_memory().unwrap();
        let parent = session_with(&store, 2);
        assert!(matches!(
            store.fork_session(&parent.id, 3),
            Err(StoreError::ForkPoint { through: 3, count: 2 })
        ));
        assert!(matches!(store.fork_session("00000000", 0), Err(StoreError::NoSuchSession(_))));
        assert_eq!(store.list_sessions(10).unwrap().len(), 1, "no half-made fork is left");
    }
}
