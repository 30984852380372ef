//! Borrowed views that draw app state into a ratatui buffer. Nothing here owns state beyond
//! render caches, and nothing here talks to the engine.

pub mod ansi;
pub mod approval;
pub mod chat;
pub mod code_view;
pub mod diff_view;
pub mod git_files;
pub mod graph_panel;
pub mod help;
pub mod highlight;
pub mod markdown;
pub mod modal;
pub mod output;
pub mod status_bar;
pub mod theme;
