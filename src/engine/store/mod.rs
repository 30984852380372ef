//! Session storage in SQLite.
