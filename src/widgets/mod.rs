//! Borrowed views that draw app state into a ratatui buffer. File names mirror `src/app/`
//! where app has a file. Widgets read `crate::app` state (and fill its render caches); `app`
//! never imports a widget, and nothing here talks to the engine beyond `engine::protocol`.

pub mod approval;
pub mod chat;
pub mod code_view;
pub mod diff_view;
mod frame;
pub mod git_files;
pub mod graph_panel;
pub mod help;
pub mod modal;
pub mod output;
pub mod status_bar;

pub use frame::{draw, draw_into, pane_rects};
