//! Each session's plan: the list the model keeps with the `todo` tool (`agent::todo`), one row
//! per item in order.
//!
//! Invariants: a list is written whole, in one transaction, replacing the previous one (so a
//! crash leaves the old list or the new one, never a mix); reading skips a row whose status this
//! build does not know rather than failing the resume.

use super::Result;
use super::sessions::Store;
use crate::engine::protocol::todo::{TodoItem, TodoStatus};

impl Store {
    /// Replaces the session's list with `items` (an empty list clears it).
    pub fn set_todos(&self, session_id: &str, items: &[TodoItem]) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.prepare_cached("DELETE FROM todos WHERE session_id = ?1")?.execute([session_id])?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO todos (session_id, position, text, status) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (i, item) in items.iter().enumerate() {
                insert.execute((session_id, i as i64, &item.text, item.status.as_str()))?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The session's list, in order (empty if it has none).
    pub fn todos(&self, session_id: &str) -> Result<Vec<TodoItem>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT text, status FROM todos WHERE session_id = ?1 ORDER BY position")?;
        let rows = stmt.query_map([session_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut items = Vec::new();
        for row in rows {
            let (text, status) = row?;
            if let Some(status) = TodoStatus::parse(&status) {
                items.push(TodoItem { text, status });
            }
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_replaces_the_previous_one_per_session() {
        let store = Store::open_in_memory().unwrap();
        let a = store.create_session("/w", "p", "m").unwrap();
        let b = store.create_session("/w", "p", "m").unwrap();
        let first =
            vec![TodoItem::new("read", TodoStatus::Done), TodoItem::new("fix", TodoStatus::InProgress)];
        store.set_todos(&a.id, &first).unwrap();
        store.set_todos(&b.id, &[TodoItem::new("other", TodoStatus::Pending)]).unwrap();
        assert_eq!(store.todos(&a.id).unwrap(), first);
        let second = vec![TodoItem::new("fix", TodoStatus::Done)];
        store.set_todos(&a.id, &second).unwrap();
        assert_eq!(store.todos(&a.id).unwrap(), second);
        store.set_todos(&a.id, &[]).unwrap();
        assert!(store.todos(&a.id).unwrap().is_empty());
        assert_eq!(store.todos(&b.id).unwrap().len(), 1);
    }
}
