//! Opening SQLite connections configured the way the store expects.
//!
//! Invariants:
//! - sqlite-vec is registered as an auto-extension exactly once per process, before the first
//!   connection is opened, so every connection has `vec0` and `vec_*` functions.
//! - File connections run in WAL mode with `synchronous=NORMAL`; every connection has
//!   `foreign_keys=ON` and a 5 000 ms busy timeout.
//! - A file that SQLite rejects as "not a database" or "corrupt" while opening yields
//!   [`StoreError::Corrupt`] naming the path, never a panic.

use std::path::Path;
use std::sync::Once;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

use super::{Result, StoreError};

/// How long a connection waits for another writer before giving up with `SQLITE_BUSY`.
pub const BUSY_TIMEOUT: Duration = Duration::from_millis(5000);

/// The entry-point type `sqlite3_auto_extension` takes.
type AutoExtension = unsafe extern "C" fn(
    *mut rusqlite::ffi::sqlite3,
    *mut *mut std::ffi::c_char,
    *const rusqlite::ffi::sqlite3_api_routines,
) -> std::ffi::c_int;

static REGISTER_VEC: Once = Once::new();

/// Registers sqlite-vec for every connection opened afterwards in this process.
fn register_sqlite_vec() {
    REGISTER_VEC.call_once(|| {
        // SAFETY: this is the registration sqlite-vec documents for rusqlite. `sqlite3_vec_init`
        // is declared without arguments on the Rust side but is really the C extension entry
        // point `int (sqlite3*, char**, const sqlite3_api_routines*)`, which is exactly what
        // `sqlite3_auto_extension` expects; the transmute only restores that signature.
        unsafe {
            let entry =
                std::mem::transmute::<*const (), AutoExtension>(sqlite_vec::sqlite3_vec_init as *const ());
            rusqlite::ffi::sqlite3_auto_extension(Some(entry));
        }
    });
}

/// Opens (creating if needed, along with its parent directories) the database at `path`.
pub fn open_connection(path: &Path) -> Result<Connection> {
    register_sqlite_vec();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let conn = Connection::open(path).map_err(|e| corrupt_or(e, path))?;
    configure(&conn, true).map_err(|e| corrupt_or(e, path))?;
    Ok(conn)
}

/// Opens a private in-memory database with the same settings (WAL does not apply).
pub fn open_in_memory() -> Result<Connection> {
    register_sqlite_vec();
    let conn = Connection::open_in_memory()?;
    configure(&conn, false)?;
    Ok(conn)
}

fn configure(conn: &Connection, wal: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    if wal {
        // The first statement that reads the file: a non-database fails here.
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode, "SQLite refused WAL journal mode");
        }
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Maps SQLite's "not a database"/"corrupt" errors to [`StoreError::Corrupt`] for `path`.
pub fn corrupt_or(err: impl Into<StoreError>, path: &Path) -> StoreError {
    match err.into() {
        StoreError::Sqlite(e)
            if matches!(
                e.sqlite_error_code(),
                Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
            ) =>
        {
            StoreError::Corrupt { path: path.to_path_buf() }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_has_settings_and_vec() {
        let conn = open_in_memory().unwrap();
        let fk: i64 = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap();
        assert_eq!(fk, 1);
        let v: String = conn.query_row("select vec_version()", [], |r| r.get(0)).unwrap();
        assert!(v.starts_with('v'));
    }

    #[test]
    fn file_is_wal_and_parents_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/test.db");
        let conn = open_connection(&path).unwrap();
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
        assert_eq!(sync, 1, "NORMAL");
    }
}
