//! Reading a session's messages a page at a time, so nobody holds a long session whole: the
//! newest page when a session is resumed, older pages as the Chat pane scrolls up, the count of
//! prompts before a page (the Chat pane's `#N`), the positions of the prompts (`/fork N`), and
//! the newest message shown in Chat that contains a text (Chat search reaching messages not yet
//! loaded).
//!
//! Invariants:
//! - Positions are `seq` numbers (1 = the first message); a page is a run of consecutive
//!   messages, returned oldest first; reads never write.
//! - Which messages count as prompts is [`Message::is_prompt`](crate::engine::llm::Message)
//!   written in SQL ([`PROMPT_SQL`]); a unit test holds the two to the same answers.
//! - The search matches what the Chat pane shows of a message — its text and its reasoning —
//!   in messages Chat shows (prompts and replies, not tool results), as a plain substring:
//!   LIKE with `\` escaping (ASCII case folding) when case is ignored, `instr` otherwise.

use super::Result;
use super::sessions::{Store, StoredMessage, stored_from_row};
use crate::engine::protocol::chat::{FIX_ROUND_MARK, STOP_HOOK_MARK, TOOL_RESULT_MARK};

/// SQL over a `messages` row `m` that holds exactly when its message is a prompt (`?3`..`?5`
/// are the marks of kv1nt's own user-role messages).
const PROMPT_SQL: &str = "(m.role = 'user'
    AND coalesce(json_array_length(m.body, '$.tool_results'), 0) = 0
    AND substr(coalesce(json_extract(m.body, '$.text'), ''), 1, length(?3)) <> ?3
    AND substr(coalesce(json_extract(m.body, '$.text'), ''), 1, length(?4)) <> ?4
    AND substr(coalesce(json_extract(m.body, '$.text'), ''), 1, length(?5)) <> ?5)";

/// A stored message with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct PagedMessage {
    pub seq: i64,
    pub stored: StoredMessage,
}

impl Store {
    /// Up to `limit` consecutive messages of the session ending just before position `before`
    /// (`None`: the newest), oldest first.
    pub fn load_messages_page(
        &self,
        session_id: &str,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<PagedMessage>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, role, body, status, note, seq FROM messages
             WHERE session_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
        )?;
        let mut rows = stmt.query((session_id, before.unwrap_or(i64::MAX), limit as i64))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(PagedMessage { seq: row.get(5)?, stored: stored_from_row(row)? });
        }
        out.reverse();
        Ok(out)
    }

    /// The messages at positions `from..before`, oldest first.
    pub fn load_messages_range(&self, session_id: &str, from: i64, before: i64) -> Result<Vec<PagedMessage>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, role, body, status, note, seq FROM messages
             WHERE session_id = ?1 AND seq >= ?2 AND seq < ?3 ORDER BY seq",
        )?;
        let mut rows = stmt.query((session_id, from, before))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(PagedMessage { seq: row.get(5)?, stored: stored_from_row(row)? });
        }
        Ok(out)
    }

    /// How many messages the session has stored.
    pub fn message_count(&self, session_id: &str) -> Result<usize> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM messages WHERE session_id = ?1")?
            .query_row([session_id], |r| r.get(0))?;
        Ok(n.max(0) as usize)
    }

    /// The positions of the session's prompts in order (the first is prompt #1).
    pub fn prompt_positions(&self, session_id: &str) -> Result<Vec<i64>> {
        self.prompt_query(session_id, i64::MAX, "m.seq", "ORDER BY m.seq")
    }

    /// How many of the session's messages before position `before` are prompts.
    pub fn prompts_before(&self, session_id: &str, before: i64) -> Result<usize> {
        let n = self.prompt_query(session_id, before, "count(*)", "")?;
        Ok(n.first().copied().unwrap_or(0).max(0) as usize)
    }

    fn prompt_query(&self, session_id: &str, before: i64, what: &str, order: &str) -> Result<Vec<i64>> {
        let sql = format!(
            "SELECT {what} FROM messages AS m WHERE m.session_id = ?1 AND m.seq < ?2 AND {PROMPT_SQL} {order}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map((session_id, before, TOOL_RESULT_MARK, FIX_ROUND_MARK, STOP_HOOK_MARK), |r| {
                r.get::<_, i64>(0)
            })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The position of the newest message before position `before` whose text or reasoning
    /// contains `query`, among those the Chat pane shows (see the module doc).
    pub fn search_messages(
        &self,
        session_id: &str,
        query: &str,
        before: i64,
        ignore_case: bool,
    ) -> Result<Option<i64>> {
        if query.is_empty() {
            return Ok(None);
        }
        let shown = "(coalesce(json_extract(m.body, '$.text'), '') || char(10) ||
             coalesce((SELECT group_concat(json_extract(t.value, '$.text'), char(10))
                       FROM json_each(m.body, '$.thinking') AS t), ''))";
        let matches = if ignore_case {
            format!("{shown} LIKE ?3 ESCAPE '\\'")
        } else {
            format!("instr({shown}, ?3) > 0")
        };
        let needle = if ignore_case { format!("%{}%", escape_like(query)) } else { query.to_owned() };
        let sql = format!(
            "SELECT m.seq FROM messages AS m
             WHERE m.session_id = ?1 AND m.seq < ?2
               AND (m.role = 'assistant'
                    OR (m.role = 'user' AND coalesce(json_array_length(m.body, '$.tool_results'), 0) = 0))
               AND {matches}
             ORDER BY m.seq DESC LIMIT 1"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query((session_id, before, needle))?;
        Ok(match rows.next()? {
            Some(row) => Some(row.get(0)?),
            None => None,
        })
    }
}

/// `text` with LIKE's wildcards and the escape character escaped by `\`.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::llm::{Message, Role, Thinking, ToolResult};
    use crate::engine::store::MessageStatus;

    fn session(messages: &[Message]) -> (Store, String) {
        let store = Store::open_in_memory().unwrap();
        let s = store.create_session("/w", "openai", "m").unwrap();
        for m in messages {
            store.append_message(&s.id, m, MessageStatus::Complete).unwrap();
        }
        (store, s.id)
    }

    #[test]
    fn pages_are_consecutive_runs_oldest_first() {
        let messages: Vec<Message> = (1..=25).map(|i| Message::user(format!("m{i}"))).collect();
        let (store, id) = session(&messages);
        let texts = |page: Vec<PagedMessage>| -> Vec<(i64, String)> {
            page.into_iter().map(|p| (p.seq, p.stored.message.text)).collect()
        };
        let newest = texts(store.load_messages_page(&id, None, 10).unwrap());
        assert_eq!(newest.first(), Some(&(16, "m16".to_string())));
        assert_eq!(newest.last(), Some(&(25, "m25".to_string())));
        let older = texts(store.load_messages_page(&id, Some(16), 10).unwrap());
        assert_eq!((older[0].0, older[9].0), (6, 15));
        let oldest = texts(store.load_messages_page(&id, Some(6), 10).unwrap());
        assert_eq!(oldest.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
        assert!(store.load_messages_page(&id, Some(1), 10).unwrap().is_empty());
        let range = texts(store.load_messages_range(&id, 3, 6).unwrap());
        assert_eq!(range, vec![(3, "m3".into()), (4, "m4".into()), (5, "m5".into())]);
        assert_eq!(store.message_count(&id).unwrap(), 25);
        assert!(store.load_messages_page("nope", None, 10).unwrap().is_empty());
    }

    #[test]
    fn prompts_are_counted_as_is_prompt_counts_them() {
        let mut result = Message::text(Role::User, "");
        result.tool_results.push(ToolResult { call_id: "c".into(), content: "ok".into(), is_error: false });
        let messages = vec![
            Message::user("first"),
            Message::assistant("answer"),
            result,
            Message::user(format!("{TOOL_RESULT_MARK} name=\"x\">ok</tool_result>")),
            Message::user(format!("{FIX_ROUND_MARK}1 of 3] tests fail")),
            Message::user(format!("{STOP_HOOK_MARK}not yet")),
            Message::user("second 100% _done_"),
            Message::assistant("bye"),
        ];
        let expected: Vec<i64> =
            (1..).zip(&messages).filter(|(_, m)| m.is_prompt()).map(|(seq, _)| seq).collect();
        let (store, id) = session(&messages);
        assert_eq!(expected, vec![1, 7]);
        assert_eq!(store.prompt_positions(&id).unwrap(), expected);
        assert_eq!(store.prompts_before(&id, 7).unwrap(), 1);
        assert_eq!(store.prompts_before(&id, 8).unwrap(), 2);
        assert_eq!(store.prompts_before(&id, 1).unwrap(), 0);
    }

    #[test]
    fn search_finds_the_newest_shown_message_before_a_position() {
        let mut thought = Message::assistant("plain answer");
        thought.thinking.push(Thinking { text: "Consider the Zebra crossing".into(), ..Default::default() });
        let mut result = Message::text(Role::User, "");
        result.tool_results.push(ToolResult {
            call_id: "c".into(),
            content: "zebra".into(),
            is_error: false,
        });
        let messages = vec![
            Message::user("where is the zebra?"),
            thought,
            result,
            Message::user("100% sure, a_b"),
            Message::assistant("zebra again"),
        ];
        let (store, id) = session(&messages);
        assert_eq!(store.search_messages(&id, "zebra", i64::MAX, true).unwrap(), Some(5));
        assert_eq!(
            store.search_messages(&id, "zebra", 5, true).unwrap(),
            Some(2),
            "tool results are not shown"
        );
        assert_eq!(store.search_messages(&id, "zebra", 2, true).unwrap(), Some(1));
        assert_eq!(store.search_messages(&id, "Zebra", i64::MAX, false).unwrap(), Some(2), "smart case");
        assert_eq!(store.search_messages(&id, "zebra", 1, true).unwrap(), None);
        assert_eq!(store.search_messages(&id, "0% s", i64::MAX, true).unwrap(), Some(4));
        assert_eq!(store.search_messages(&id, "a_b", i64::MAX, true).unwrap(), Some(4));
        assert_eq!(store.search_messages(&id, "%", i64::MAX, true).unwrap(), Some(4), "% is literal");
        assert_eq!(store.search_messages(&id, "_", i64::MAX, true).unwrap(), Some(4), "_ is literal");
        assert_eq!(store.search_messages(&id, "", i64::MAX, true).unwrap(), None);
    }
}
