//! Styled terminal text, shared by the UI state (`app`) and the views (`widgets`): markdown →
//! lines, syntax highlighting (syntect, loaded lazily) with its incremental cache, ANSI SGR →
//! styles, and themes.
//!
//! Invariant: a leaf — nothing here imports `app`, `widgets` or the engine (beyond
//! `engine::protocol`); so both UI halves can use it without a cycle (a suite test checks).

pub mod ansi;
pub mod highlight;
pub mod lines;
pub mod markdown;
pub mod theme;
