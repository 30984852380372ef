//! Versioned schema migrations.
//!
//! Invariants:
//! - [`MIGRATIONS`] is append-only: entry `i` takes the schema from version `i` to `i + 1`.
//!   Never edit a shipped script; add a new one.
//! - The schema version is `PRAGMA user_version`; each script runs in its own `IMMEDIATE`
//!   transaction together with the `user_version` bump, so a crash leaves a whole version.
//! - A database whose `user_version` exceeds [`SCHEMA_VERSION`] was written by a newer kv1nt and
//!   is refused with [`StoreError::TooNew`] without being touched.

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::{Result, StoreError};

/// Schema scripts in order; `MIGRATIONS[i]` upgrades version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // v1: sessions and their messages.
    "CREATE TABLE sessions (
        id         TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        cwd        TEXT NOT NULL DEFAULT '',
        provider   TEXT NOT NULL DEFAULT '',
        model      TEXT NOT NULL DEFAULT '',
        title      TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE messages (
        id         INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        seq        INTEGER NOT NULL,
        role       TEXT NOT NULL,
        body       TEXT NOT NULL,  -- JSON: the message minus its role
        status     TEXT NOT NULL CHECK (status IN ('complete', 'streaming', 'incomplete')),
        note       TEXT,           -- e.g. why a message is incomplete
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (session_id, seq)
    );
    CREATE INDEX messages_session_seq ON messages(session_id, seq);
    CREATE INDEX sessions_updated_at ON sessions(updated_at);",
    // v2: the approval audit log and content-addressed pre/post-images for undo. No foreign key
    // to `sessions`: audit rows and recorded changes outlive (or exist without) a stored session.
    "CREATE TABLE audit (
        id         INTEGER PRIMARY KEY,
        time       TEXT NOT NULL,
        session_id TEXT NOT NULL,
        request_id INTEGER NOT NULL,
        action     TEXT NOT NULL,  -- edit | command | commit | undo
        target     TEXT NOT NULL,
        risk       TEXT NOT NULL,
        reasons    TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
        decision   TEXT NOT NULL,  -- approved-once | approved-session | auto-approved | denied | ...
        scope      TEXT,           -- description of the grant that applied, if any
        note       TEXT
    );
    CREATE INDEX audit_session_id ON audit(session_id, id);
    CREATE TABLE blobs (
        hash    TEXT PRIMARY KEY,  -- sha256 of content, lowercase hex
        content BLOB NOT NULL
    );
    CREATE TABLE changes (
        id          INTEGER PRIMARY KEY,
        session_id  TEXT NOT NULL,
        time        TEXT NOT NULL,
        description TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'undone'))
    );
    CREATE INDEX changes_session_id ON changes(session_id, id);
    CREATE TABLE change_files (
        change_id   INTEGER NOT NULL REFERENCES changes(id) ON DELETE CASCADE,
        path        TEXT NOT NULL,
        before_hash TEXT REFERENCES blobs(hash),  -- NULL: the file did not exist
        after_hash  TEXT REFERENCES blobs(hash),  -- NULL: the change deletes it
        PRIMARY KEY (change_id, path)
    );",
    // v3: commits kv1nt made (what /uncommit may undo).
    "CREATE TABLE vcs_commits (
        id         INTEGER PRIMARY KEY,
        time       TEXT NOT NULL,
        session_id TEXT NOT NULL,
        repo       TEXT NOT NULL,    -- the working tree's canonical path
        commit_id  TEXT NOT NULL,
        summary    TEXT NOT NULL,
        undone     INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX vcs_commits_repo ON vcs_commits(repo, id);",
    // v4: the fate of every proposal that passed the gate (the quality loop's and the learning
    // layer's figures). Like `audit`, no foreign key to `sessions`.
    "CREATE TABLE proposals (
        id                  INTEGER PRIMARY KEY,
        time                TEXT NOT NULL,
        session_id          TEXT NOT NULL,
        request_id          INTEGER NOT NULL,
        turn                INTEGER NOT NULL,  -- the session's turn number (from 1)
        kind                TEXT NOT NULL,     -- edit | command | commit | git
        provider            TEXT NOT NULL DEFAULT '',
        model               TEXT NOT NULL DEFAULT '',
        intent              TEXT,              -- generate | fix | … ; NULL: free text
        language            TEXT,              -- of the first file an edit touches
        risk                TEXT NOT NULL,
        decision            TEXT NOT NULL,     -- as in audit
        change_id           INTEGER REFERENCES changes(id),  -- what was written, if anything
        syntax_retries      INTEGER,           -- NULL: not checked
        parsed              INTEGER,           -- 1: the shown version parses; NULL: not checked
        check_rounds        INTEGER,           -- fix rounds the turn's checks needed; NULL: none ran
        checks_passed       INTEGER,           -- 1: the checks passed at the end
        tests_before        TEXT,              -- the test run's summary line (`TestReport::summary_line`)
        tests_after         TEXT
    );
    CREATE INDEX proposals_session ON proposals(session_id, turn);",
    // v5: what the user changed before approving (`e`), and the tokens each turn spent per
    // model — the learning layer's corrections and cost figures.
    "ALTER TABLE proposals ADD COLUMN modification TEXT;  -- unified diff: proposed → approved
    CREATE TABLE turn_usage (
        session_id    TEXT NOT NULL,
        turn          INTEGER NOT NULL,
        provider      TEXT NOT NULL,
        model         TEXT NOT NULL,
        input_tokens  INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        time          TEXT NOT NULL,               -- of the last reply counted
        PRIMARY KEY (session_id, turn, provider, model)
    );",
    // v6: when a change was last marked (applied, or undone: the undo's time), and the code
    // template a proposal's turn filled.
    "ALTER TABLE changes ADD COLUMN marked_at TEXT;
    ALTER TABLE proposals ADD COLUMN template TEXT;",
    // v7: which prompt a proposal answered (a hash of the system prompt and intent template,
    // `AGENTS.md`/`KV1NT.md` included), so acceptance can be compared between prompt variants.
    "ALTER TABLE proposals ADD COLUMN prompt_variant TEXT;",
    // v8: prompt-cache tokens per turn (Anthropic's cache writes and reads, OpenAI's cached
    // input), priced apart by `engine::pricing`.
    "ALTER TABLE turn_usage ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE turn_usage ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0;",
    // v9: compaction summaries, each standing for a session's first `through` messages in the
    // requests after it (the messages stay); the messages the user pinned (never summarised).
    "CREATE TABLE compactions (
        id            INTEGER PRIMARY KEY,
        session_id    TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        through       INTEGER NOT NULL,
        summary       TEXT NOT NULL,
        tokens_before INTEGER NOT NULL,
        tokens_after  INTEGER NOT NULL,
        edited        INTEGER NOT NULL DEFAULT 0,
        created_at    TEXT NOT NULL
    );
    CREATE INDEX compactions_session ON compactions(session_id, id);
    CREATE TABLE pins (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        seq        INTEGER NOT NULL,   -- the pinned message's position in its session
        PRIMARY KEY (session_id, seq)
    );",
    // v10: full-text search over every message's text, tool calls and tool results (the
    // `recall` tool), kept in step with `messages` by triggers; rowid = messages.id.
    "CREATE VIRTUAL TABLE message_search USING fts5(content, tokenize = 'unicode61');
    INSERT INTO message_search(rowid, content)
        SELECT m.id, coalesce(json_extract(m.body, '$.text'), '') || ' ' ||
                coalesce((SELECT group_concat(json_extract(c.value, '$.name') || ' ' ||
                                              json_extract(c.value, '$.arguments'), ' ')
                          FROM json_each(m.body, '$.tool_calls') AS c), '') || ' ' ||
                coalesce((SELECT group_concat(json_extract(r.value, '$.content'), ' ')
                          FROM json_each(m.body, '$.tool_results') AS r), '') FROM messages AS m;
    CREATE TRIGGER message_search_insert AFTER INSERT ON messages BEGIN
        INSERT INTO message_search(rowid, content) VALUES (NEW.id, coalesce(json_extract(NEW.body, '$.text'), '') || ' ' ||
                coalesce((SELECT group_concat(json_extract(c.value, '$.name') || ' ' ||
                                              json_extract(c.value, '$.arguments'), ' ')
                          FROM json_each(NEW.body, '$.tool_calls') AS c), '') || ' ' ||
                coalesce((SELECT group_concat(json_extract(r.value, '$.content'), ' ')
                          FROM json_each(NEW.body, '$.tool_results') AS r), ''));
    END;
    CREATE TRIGGER message_search_update AFTER UPDATE OF body ON messages BEGIN
        DELETE FROM message_search WHERE rowid = OLD.id;
        INSERT INTO message_search(rowid, content) VALUES (NEW.id, coalesce(json_extract(NEW.body, '$.text'), '') || ' ' ||
                coalesce((SELECT group_concat(json_extract(c.value, '$.name') || ' ' ||
                                              json_extract(c.value, '$.arguments'), ' ')
                          FROM json_each(NEW.body, '$.tool_calls') AS c), '') || ' ' ||
                coalesce((SELECT group_concat(json_extract(r.value, '$.content'), ' ')
                          FROM json_each(NEW.body, '$.tool_results') AS r), ''));
    END;
    CREATE TRIGGER message_search_delete AFTER DELETE ON messages BEGIN
        DELETE FROM message_search WHERE rowid = OLD.id;
    END;",
    // v11: the model's plan for the session (the `todo` tool), one row per item in order.
    "CREATE TABLE todos (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        position   INTEGER NOT NULL,   -- 0-based order in the list
        text       TEXT NOT NULL,
        status     TEXT NOT NULL,      -- pending | in_progress | done
        PRIMARY KEY (session_id, position)
    );",
    // v12: a session forked from another
    // (`/fork`) names its parent and how many of the parent's messages it began with (no foreign
    // key: a fork outlives its parent); and per provider and model, how the input tokens it
    // reported compare with kv1nt's raw estimate (`llm::context::Calibration`).
    "ALTER TABLE sessions ADD COLUMN parent_id TEXT;
    ALTER TABLE sessions ADD COLUMN forked_at INTEGER;
    CREATE TABLE token_calibration (
        provider   TEXT NOT NULL,
        model      TEXT NOT NULL,
        ratio      REAL NOT NULL,     -- reported input tokens / raw estimate, running average
        samples    INTEGER NOT NULL,  -- replies averaged
        updated_at TEXT NOT NULL,
        PRIMARY KEY (provider, model)
    );",
];

/// The schema version this build writes and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Brings `conn` up to [`SCHEMA_VERSION`]; returns the version found before migrating.
pub fn migrate(conn: &Connection) -> Result<i64> {
    let found = user_version(conn)?;
    check_not_newer(found)?;
    if found == SCHEMA_VERSION {
        return Ok(found);
    }
    // Another process may migrate concurrently; each step re-reads the version under the
    // write lock taken by BEGIN IMMEDIATE and skips work already done.
    loop {
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        let current = user_version(&tx)?;
        check_not_newer(current)?;
        if current == SCHEMA_VERSION {
            tx.commit()?;
            return Ok(found);
        }
        let script = MIGRATIONS[usize::try_from(current).unwrap_or(0)];
        tx.execute_batch(script)?;
        tx.pragma_update(None, "user_version", current + 1)?;
        tx.commit()?;
        tracing::info!(version = current + 1, "migrated session database");
    }
}

fn check_not_newer(found: i64) -> Result<()> {
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew { found, known: SCHEMA_VERSION });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::store::db::open_in_memory;

    #[test]
    fn migrates_fresh_and_is_idempotent() {
        let conn = open_in_memory().unwrap();
        assert_eq!(migrate(&conn).unwrap(), 0);
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        assert_eq!(migrate(&conn).unwrap(), SCHEMA_VERSION);
        let n: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE name IN ('sessions', 'messages')", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 2);
    }

    #[test]
    fn refuses_newer() {
        let conn = open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        match migrate(&conn) {
            Err(StoreError::TooNew { found, known }) => {
                assert_eq!((found, known), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
            }
            other => panic!("expected TooNew, got {other:?}"),
        }
    }
}
