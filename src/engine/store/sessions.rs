//! The typed session API over the SQLite schema.
//!
//! Invariants:
//! - Session ids are 8 lowercase hex chars, unique (collisions are retried on insert).
//! - Messages of a session have consecutive `seq` from 1, assigned inside a write transaction.
//! - `body` holds only the message's text, tool calls and tool results as JSON; `role` is a
//!   column. Nothing else (no keys, no config) is ever written there.
//! - Appending a message bumps the session's `updated_at`; the first user message sets an empty
//!   title (its first non-blank line, at most [`TITLE_MAX_CHARS`] chars).
//! - A row still `streaming` when read belongs to a writer that died (or is still writing in
//!   another process); readers report it as `Incomplete` with note `"interrupted"` without
//!   rewriting it.
//! - Timestamps are strictly increasing within the process, so `updated_at` orders sessions.

use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::macros::format_description;

use super::db::{self, corrupt_or};
use super::migrations::migrate;
use super::{Result, StoreError};
use crate::engine::llm::{Message, Role, Thinking, ToolCall, ToolResult};
use crate::engine::protocol::ImageAttachment;

pub use crate::engine::protocol::chat::MessageStatus;

/// File name of the database inside the kv1nt home dir.
pub const DB_FILE_NAME: &str = "kv1nt.db";
/// Longest title derived from the first user message, in chars.
pub const TITLE_MAX_CHARS: usize = 60;
/// Note given to a row found still `streaming`.
pub const INTERRUPTED_NOTE: &str = "interrupted";

/// Summary of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: String,
    pub created_at: String,
    pub updated_at: String,
    pub cwd: String,
    pub provider: String,
    pub model: String,
    pub title: String,
    pub message_count: usize,
    /// The session this one was forked from (`/fork`, `forks.rs`): it began with that
    /// session's first `forked_at` messages.
    pub parent_id: Option<String>,
    pub forked_at: Option<usize>,
}

/// A message as loaded back from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMessage {
    pub row_id: i64,
    pub message: Message,
    pub status: MessageStatus,
    pub note: Option<String>,
}

/// The persisted part of a message besides its role.
#[derive(Serialize)]
struct BodyRef<'a> {
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    thinking: &'a [Thinking],
    text: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tool_calls: &'a [ToolCall],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tool_results: &'a [ToolResult],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    images: &'a [ImageAttachment],
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Body {
    thinking: Vec<Thinking>,
    text: String,
    tool_calls: Vec<ToolCall>,
    tool_results: Vec<ToolResult>,
    images: Vec<ImageAttachment>,
}

fn body_json(msg: &Message) -> Result<String> {
    Ok(serde_json::to_string(&BodyRef {
        thinking: &msg.thinking,
        text: &msg.text,
        tool_calls: &msg.tool_calls,
        tool_results: &msg.tool_results,
        images: &msg.images,
    })?)
}

/// The session database. `Send`, not `Sync`: give each thread its own `Store`.
pub struct Store {
    pub(super) conn: Connection,
}

const SESSION_COLUMNS: &str = "s.id, s.created_at, s.updated_at, s.cwd, s.provider, s.model, \
     s.title, (SELECT count(*) FROM messages m WHERE m.session_id = s.id), s.parent_id, s.forked_at";

impl Store {
    /// Opens (creating and migrating) `home_dir/kv1nt.db`.
    pub fn open(home_dir: &Path) -> Result<Store> {
        let path = home_dir.join(DB_FILE_NAME);
        let conn = db::open_connection(&path)?;
        migrate(&conn).map_err(|e| corrupt_or(e, &path))?;
        Ok(Store { conn })
    }

    /// The directory holding the database file (None in memory): where other per-user data,
    /// like the knowledge graphs, lives too.
    pub fn data_dir(&self) -> Option<std::path::PathBuf> {
        let path = self.conn.path().filter(|p| !p.is_empty())?;
        Path::new(path).parent().map(Path::to_path_buf)
    }

    /// A fresh, migrated, private in-memory store (tests, `--no-history`).
    pub fn open_in_memory() -> Result<Store> {
        let conn = db::open_in_memory()?;
        migrate(&conn)?;
        Ok(Store { conn })
    }

    /// Creates an empty session with a new random id.
    pub fn create_session(&self, cwd: &str, provider: &str, model: &str) -> Result<SessionInfo> {
        let now = now_rfc3339();
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO sessions (id, created_at, updated_at, cwd, provider, model, title)
             VALUES (?1, ?2, ?2, ?3, ?4, ?5, '')",
        )?;
        let mut attempts = 0;
        loop {
            let id = new_session_id();
            match stmt.execute((&id, &now, cwd, provider, model)) {
                Ok(_) => {
                    return Ok(SessionInfo {
                        id,
                        created_at: now.clone(),
                        updated_at: now,
                        cwd: cwd.to_owned(),
                        provider: provider.to_owned(),
                        model: model.to_owned(),
                        title: String::new(),
                        message_count: 0,
                        parent_id: None,
                        forked_at: None,
                    });
                }
                Err(e) if attempts < 16 && e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                    attempts += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Up to `limit` sessions, most recently updated first.
    pub fn list_sessions(&self, limit: usize) -> Result<Vec<SessionInfo>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s
             ORDER BY s.updated_at DESC, s.rowid DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit], session_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Finds a session by `"last"` (most recently updated), exact id, or unique id prefix.
    pub fn resolve_session(&self, key: &str) -> Result<SessionInfo> {
        let key = key.trim();
        if key.eq_ignore_ascii_case("last") {
            return self.list_sessions(1)?.pop().ok_or_else(|| StoreError::NoSuchSession(key.to_owned()));
        }
        if key.is_empty() {
            return Err(StoreError::NoSuchSession(String::new()));
        }
        let lower = key.to_ascii_lowercase();
        if let Some(info) = self.session_by_id(&lower)? {
            return Ok(info);
        }
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s
             WHERE substr(s.id, 1, length(?1)) = ?1
             ORDER BY s.updated_at DESC, s.rowid DESC"
        ))?;
        let mut found: Vec<SessionInfo> =
            stmt.query_map([&lower], session_from_row)?.collect::<rusqlite::Result<_>>()?;
        match found.len() {
            0 => Err(StoreError::NoSuchSession(key.to_owned())),
            1 => Ok(found.remove(0)),
            _ => Err(StoreError::AmbiguousSession {
                key: key.to_owned(),
                candidates: found.into_iter().map(|s| s.id).collect(),
            }),
        }
    }

    pub(super) fn session_by_id(&self, id: &str) -> Result<Option<SessionInfo>> {
        let mut stmt =
            self.conn.prepare_cached(&format!("SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.id = ?1"))?;
        Ok(stmt.query_row([id], session_from_row).optional()?)
    }

    /// All messages of a session in order. Rows left `streaming` come back `Incomplete`
    /// with note `"interrupted"`.
    pub fn load_messages(&self, session_id: &str) -> Result<Vec<StoredMessage>> {
        if self.session_by_id(session_id)?.is_none() {
            return Err(StoreError::NoSuchSession(session_id.to_owned()));
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, role, body, status, note FROM messages
             WHERE session_id = ?1 ORDER BY seq",
        )?;
        let mut rows = stmt.query([session_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(stored_from_row(row)?);
        }
        Ok(out)
    }

    /// Appends `msg` at the end of the session; returns its row id for checkpoints.
    pub fn append_message(&self, session_id: &str, msg: &Message, status: MessageStatus) -> Result<i64> {
        let body = body_json(msg)?;
        let now = now_rfc3339();
        let title = if msg.role == Role::User { title_from(&msg.text) } else { String::new() };
        // IMMEDIATE: take the write lock up front so reading max(seq) cannot race another writer.
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let touched = tx
            .prepare_cached(
                "UPDATE sessions SET updated_at = ?2,
                     title = CASE WHEN title = '' THEN ?3 ELSE title END
                 WHERE id = ?1",
            )?
            .execute((session_id, &now, &title))?;
        if touched == 0 {
            return Err(StoreError::NoSuchSession(session_id.to_owned()));
        }
        let row_id = tx
            .prepare_cached(
                "INSERT INTO messages (session_id, seq, role, body, status, note, created_at,
                                       updated_at)
                 VALUES (?1,
                         (SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE session_id = ?1),
                         ?2, ?3, ?4, NULL, ?5, ?5)
                 RETURNING id",
            )?
            .query_row((session_id, msg.role.as_str(), &body, status.as_str(), &now), |r| r.get(0))?;
        tx.commit()?;
        Ok(row_id)
    }

    /// Rewrites a message's body, status and note in place (one cached UPDATE).
    pub fn checkpoint_message(
        &self,
        row_id: i64,
        msg: &Message,
        status: MessageStatus,
        note: Option<&str>,
    ) -> Result<()> {
        let body = body_json(msg)?;
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE messages SET body = ?2, status = ?3, note = ?4, updated_at = ?5
                 WHERE id = ?1",
            )?
            .execute((row_id, &body, status.as_str(), note, now_rfc3339()))?;
        if changed == 0 {
            return Err(StoreError::NoSuchMessage(row_id));
        }
        Ok(())
    }

    /// Records that the session continues with another provider/model; bumps `updated_at`.
    pub fn set_session_model(&self, session_id: &str, provider: &str, model: &str) -> Result<()> {
        let changed = self
            .conn
            .prepare_cached("UPDATE sessions SET provider = ?2, model = ?3, updated_at = ?4 WHERE id = ?1")?
            .execute((session_id, provider, model, now_rfc3339()))?;
        if changed == 0 {
            return Err(StoreError::NoSuchSession(session_id.to_owned()));
        }
        Ok(())
    }
}

fn session_from_row(row: &Row<'_>) -> rusqlite::Result<SessionInfo> {
    Ok(SessionInfo {
        id: row.get(0)?,
        created_at: row.get(1)?,
        updated_at: row.get(2)?,
        cwd: row.get(3)?,
        provider: row.get(4)?,
        model: row.get(5)?,
        title: row.get(6)?,
        message_count: usize::try_from(row.get::<_, i64>(7)?).unwrap_or(0),
        parent_id: row.get(8)?,
        forked_at: row.get::<_, Option<i64>>(9)?.map(|n| usize::try_from(n).unwrap_or(0)),
    })
}

pub(super) fn stored_from_row(row: &Row<'_>) -> Result<StoredMessage> {
    let row_id: i64 = row.get(0)?;
    let role: String = row.get(1)?;
    let body: String = row.get(2)?;
    let status: String = row.get(3)?;
    let mut note: Option<String> = row.get(4)?;
    let role: Role = serde_json::from_value(serde_json::Value::String(role))?;
    let body: Body = serde_json::from_str(&body)?;
    let mut status = MessageStatus::parse(&status).unwrap_or(MessageStatus::Incomplete);
    if status == MessageStatus::Streaming {
        status = MessageStatus::Incomplete;
        note = Some(INTERRUPTED_NOTE.to_owned());
    }
    let message = Message {
        role,
        thinking: body.thinking,
        text: body.text,
        tool_calls: body.tool_calls,
        tool_results: body.tool_results,
        images: body.images,
    };
    Ok(StoredMessage { row_id, message, status, note })
}

/// First non-blank line of `text`, trimmed, cut to [`TITLE_MAX_CHARS`] chars (with `…`).
fn title_from(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    if line.chars().count() <= TITLE_MAX_CHARS {
        return line.to_owned();
    }
    let mut t: String = line.chars().take(TITLE_MAX_CHARS - 1).collect();
    t.truncate(t.trim_end().len());
    t.push('…');
    t
}

/// 8 lowercase hex chars from std's randomly keyed hasher over time, pid and a counter.
fn new_session_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i128(OffsetDateTime::now_utc().unix_timestamp_nanos());
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{:08x}", h.finish() as u32)
}

/// Now as RFC 3339 UTC with microseconds, strictly increasing within the process: every
/// timestamp kv1nt stores (sessions, audit, changes, commits, the graph's `indexed_at`).
pub fn now_rfc3339() -> String {
    static LAST_MICROS: AtomicI64 = AtomicI64::new(0);
    let now = (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64;
    // Never repeat or go back: a stamp is at least one microsecond after the previous one.
    let prev = LAST_MICROS
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |prev| Some(now.max(prev + 1)))
        .unwrap_or_else(|prev| prev);
    let micros = now.max(prev + 1);
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    t.format(&fmt).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles() {
        assert_eq!(title_from("\n  fix the bug  \nmore"), "fix the bug");
        let long = "x".repeat(100);
        let t = title_from(&long);
        assert_eq!(t.chars().count(), TITLE_MAX_CHARS);
        assert!(t.ends_with('…'));
    }

    #[test]
    fn ids_and_times() {
        let id = new_session_id();
        assert_eq!(id.len(), 8);
        assert!(id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        let (a, b) = (now_rfc3339(), now_rfc3339());
        assert!(a < b, "{a} < {b}");
        assert!(a.ends_with('Z') && a.len() == "2024-01-01T00:00:00.000000Z".len());
    }

    #[test]
    fn body_has_no_role() {
        let json = body_json(&Message::user("hi")).unwrap();
        assert_eq!(json, r#"{"text":"hi"}"#);
    }
}
