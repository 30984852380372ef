//! Borrowed views that draw app state into a ratatui buffer.
