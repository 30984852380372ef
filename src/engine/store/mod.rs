//! Session storage in SQLite: `kv1nt.db` in the data directory ([`crate::engine::config::data_dir`]).
//!
//! Layout:
//! - [`db`] opens connections: sqlite-vec registered, WAL, `synchronous=NORMAL`, foreign keys on,
//!   5 s busy timeout. A file that is not SQLite becomes [`StoreError::Corrupt`], never a panic.
//! - [`migrations`] brings the schema up to date, tracked by `PRAGMA user_version`; a database
//!   from a newer kv1nt is refused with [`StoreError::TooNew`].
//! - [`sessions`] is the typed API ([`Store`]) the engine uses.
//! - [`pages`] reads a session a page at a time (resume, Chat scrolling up, Chat search) so
//!   nobody holds a long session whole.
//! - [`recall`] searches every message's text, calls and results (FTS5, kept by triggers).
//! - [`compactions`] holds the summaries that stand for a session's oldest messages.
//! - [`todos`] holds each session's plan (the `todo` tool's list).
//! - [`forks`] makes a session from the start of another (`/fork`), naming its parent.
//! - [`calibration`] keeps, per provider and model, how reported token counts compare with the
//!   raw estimate.
//! - [`audit`] is the approval audit log; [`changes`] (the change ledger) holds content-addressed pre/post-images
//!   for undo and `/rewind`.
//!
//! Invariants:
//! - Every timestamp is an RFC 3339 UTC string with exactly six fractional digits, so string
//!   order is time order.
//! - A message's `role` lives in its own column; `body` is the JSON of the rest of the
//!   [`Message`](crate::engine::llm::Message) (text, tool calls, tool results) and nothing else.
//! - Nothing here imports a terminal crate.

pub mod audit;
pub mod calibration;
pub mod changes;
pub mod commits;
pub mod compactions;
pub mod db;
pub mod examples;
pub mod forget;
pub mod forks;
pub mod migrations;
pub mod pages;
pub mod proposals;
pub mod recall;
pub mod sessions;
pub mod todos;
pub mod usage;

use std::path::PathBuf;

pub use audit::{AUDIT_ACTIONS, AUDIT_DECISIONS, AuditEntry, MAX_FIELD_CHARS, NewAudit};
pub use changes::{ByteChange, ChangeFile, ChangeRecord, RestoreStep, restore_plan, rewind_plan, sha256_hex};
pub use compactions::StoredCompaction;
pub use db::{open_connection, open_in_memory};
pub use examples::AcceptedEdit;
pub use forget::LearningRecords;
pub use migrations::{MIGRATIONS, SCHEMA_VERSION, migrate};
pub use pages::PagedMessage;
pub use proposals::{NewProposal, ProposalRecord};
pub use recall::{RecallHit, RecallScope};
pub use sessions::{MessageStatus, SessionInfo, Store, StoredMessage, now_rfc3339};
pub use usage::TurnUsage;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "{} is not a readable kv1nt database (corrupt or not SQLite); move it aside \
         (e.g. rename it to `{}.bak`) and kv1nt will start a fresh one",
        path.display(),
        path.display()
    )]
    Corrupt { path: PathBuf },
    #[error(
        "the session database has schema version {found} but this kv1nt only knows up to \
         {known}; it was written by a newer kv1nt — upgrade kv1nt (or point it at another home dir)"
    )]
    TooNew { found: i64, known: i64 },
    #[error("no session matches `{0}`")]
    NoSuchSession(String),
    #[error("`{key}` matches several sessions: {}", candidates.join(", "))]
    AmbiguousSession { key: String, candidates: Vec<String> },
    #[error("cannot fork after message {through}: the session has {count} messages")]
    ForkPoint { through: usize, count: usize },
    #[error("no stored message with row id {0}")]
    NoSuchMessage(i64),
    #[error("stored message is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Store result; the error defaults to [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
