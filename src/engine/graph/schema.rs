//! The graph database schema as versioned migrations (same mechanism as the session store:
//! `PRAGMA user_version`, one `IMMEDIATE` transaction per step), but its own list.
//!
//! Invariants:
//! - [`MIGRATIONS`] is append-only; entry `i` takes the schema from version `i` to `i + 1`.
//! - `entities_fts` is an external-content FTS5 table over `entities`, kept in sync by triggers
//!   (entities are only inserted and deleted, never updated in place). Bulk index runs drop
//!   the triggers and re-create them from [`FTS_TRIGGERS`] after an FTS `rebuild`.
//! - The `vec0` tables are not here: their dimension is only known once an embedder is chosen,
//!   so [`super::store::GraphDb::ensure_vectors`] creates them lazily (with their delete
//!   trigger). A step that must touch them is a [`Step::Rust`] function (v2 adds the binary
//!   table to a database embedded before it existed).

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::{GraphError, Result};

/// One migration step: a SQL script, or a function for steps that depend on data (the vector
/// tables' dimension lives in `meta`).
pub enum Step {
    Sql(&'static str),
    Rust(fn(&Transaction) -> Result<()>),
}

pub const MIGRATIONS: &[Step] = &[
    // v1: files, entities, unresolved refs, relations, full-text index, embedding cache.
    Step::Sql(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE files (
        path         TEXT PRIMARY KEY,  -- relative to the repository root, '/' separated
        hash         TEXT NOT NULL,     -- xxh3-128 of the raw bytes, hex
        size         INTEGER NOT NULL,
        mtime_ns     INTEGER NOT NULL DEFAULT 0,
        language     TEXT NOT NULL,
        indexed_at   TEXT NOT NULL,
        parse_errors INTEGER NOT NULL DEFAULT 0,
        lossy        INTEGER NOT NULL DEFAULT 0   -- 1: not valid UTF-8, decoded lossily
    );
    CREATE TABLE entities (
        id             INTEGER PRIMARY KEY,
        file           TEXT NOT NULL REFERENCES files(path) ON DELETE CASCADE,
        parent_id      INTEGER REFERENCES entities(id) ON DELETE CASCADE,
        name           TEXT NOT NULL,
        qualified_name TEXT NOT NULL,
        kind           TEXT NOT NULL,
        start_line     INTEGER NOT NULL,
        end_line       INTEGER NOT NULL,
        signature      TEXT NOT NULL DEFAULT '',
        doc            TEXT,
        complexity     INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX entities_name ON entities(name);
    CREATE INDEX entities_file ON entities(file);
    CREATE INDEX entities_qn ON entities(qualified_name);
    CREATE INDEX entities_parent ON entities(parent_id);
    CREATE TABLE refs (
        id        INTEGER PRIMARY KEY,
        file      TEXT NOT NULL REFERENCES files(path) ON DELETE CASCADE,
        source_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        kind      TEXT NOT NULL,   -- calls | imports | inherits | implements | handles | typehint
        name      TEXT NOT NULL,
        path      TEXT NOT NULL DEFAULT '',  -- qualifier segments joined by char(31)
        alias     TEXT,
        line      INTEGER NOT NULL
    );
    CREATE INDEX refs_name ON refs(name);
    CREATE INDEX refs_file ON refs(file);
    CREATE INDEX refs_source ON refs(source_id);
    CREATE TABLE relations (
        id        INTEGER PRIMARY KEY,
        source_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        target_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        kind      TEXT NOT NULL,
        strength  REAL NOT NULL DEFAULT 1.0,
        ref_id    INTEGER REFERENCES refs(id) ON DELETE CASCADE  -- NULL: known at parse time
    );
    CREATE INDEX relations_source ON relations(source_id, kind);
    CREATE INDEX relations_target ON relations(target_id, kind);
    CREATE INDEX relations_ref ON relations(ref_id);
    CREATE VIRTUAL TABLE entities_fts USING fts5(
        name, qualified_name, signature, doc, content='entities', content_rowid='id'
    );
    -- The default ranking weighs a name hit above a doc hit; `ORDER BY rank` uses it.
    INSERT INTO entities_fts(entities_fts, rank) VALUES ('rank', 'bm25(10.0, 4.0, 2.0, 1.0)');
    CREATE TRIGGER entities_fts_ai AFTER INSERT ON entities BEGIN
        INSERT INTO entities_fts(rowid, name, qualified_name, signature, doc)
        VALUES (new.id, new.name, new.qualified_name, new.signature, new.doc);
    END;
    CREATE TRIGGER entities_fts_ad AFTER DELETE ON entities BEGIN
        INSERT INTO entities_fts(entities_fts, rowid, name, qualified_name, signature, doc)
        VALUES ('delete', old.id, old.name, old.qualified_name, old.signature, old.doc);
    END;
    CREATE TRIGGER entities_fts_au AFTER UPDATE ON entities BEGIN
        INSERT INTO entities_fts(entities_fts, rowid, name, qualified_name, signature, doc)
        VALUES ('delete', old.id, old.name, old.qualified_name, old.signature, old.doc);
        INSERT INTO entities_fts(rowid, name, qualified_name, signature, doc)
        VALUES (new.id, new.name, new.qualified_name, new.signature, new.doc);
    END;
    CREATE TABLE embeddings_cache (
        content_hash TEXT NOT NULL,  -- xxh3-128 of the embedded text, hex
        model        TEXT NOT NULL,
        vector       BLOB NOT NULL,  -- little-endian f32
        PRIMARY KEY (content_hash, model)
    );",
    ),
    // v2: the binary-quantised companion of an existing float vector table.
    Step::Rust(super::store::add_binary_vectors),
];

/// The FTS sync triggers of v1, re-creatable: a bulk index run drops them and rebuilds the
/// FTS index in one pass instead (see `GraphDb::suspend_fts`).
pub const FTS_TRIGGERS: &str = "
    CREATE TRIGGER IF NOT EXISTS entities_fts_ai AFTER INSERT ON entities BEGIN
        INSERT INTO entities_fts(rowid, name, qualified_name, signature, doc)
        VALUES (new.id, new.name, new.qualified_name, new.signature, new.doc);
    END;
    CREATE TRIGGER IF NOT EXISTS entities_fts_ad AFTER DELETE ON entities BEGIN
        INSERT INTO entities_fts(entities_fts, rowid, name, qualified_name, signature, doc)
        VALUES ('delete', old.id, old.name, old.qualified_name, old.signature, old.doc);
    END;
    CREATE TRIGGER IF NOT EXISTS entities_fts_au AFTER UPDATE ON entities BEGIN
        INSERT INTO entities_fts(entities_fts, rowid, name, qualified_name, signature, doc)
        VALUES ('delete', old.id, old.name, old.qualified_name, old.signature, old.doc);
        INSERT INTO entities_fts(rowid, name, qualified_name, signature, doc)
        VALUES (new.id, new.name, new.qualified_name, new.signature, new.doc);
    END;";

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Brings `conn` up to [`SCHEMA_VERSION`]; returns the version found.
pub fn migrate(conn: &Connection) -> Result<i64> {
    let found = user_version(conn)?;
    loop {
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        let current = user_version(&tx)?;
        if current > SCHEMA_VERSION {
            return Err(GraphError::TooNew { found: current, known: SCHEMA_VERSION });
        }
        let Some(step) = usize::try_from(current).ok().and_then(|i| MIGRATIONS.get(i)) else {
            tx.commit()?;
            return Ok(found);
        };
        match step {
            Step::Sql(script) => tx.execute_batch(script)?,
            Step::Rust(f) => f(&tx)?,
        }
        tx.pragma_update(None, "user_version", current + 1)?;
        tx.commit()?;
    }
}
