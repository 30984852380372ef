//! Borrowed views that draw app state into a ratatui buffer. File names mirror `src/app/`
//! where app has a file. Widgets read `crate::app` state (and fill its render caches); `app`
//! never imports a widget, and nothing here talks to the engine beyond `engine::protocol`.

pub mod approvals;
pub mod chat;
pub mod chat_scroll;
pub mod code;
pub mod compaction;
pub mod diff;
pub mod first_run;
mod frame;
pub mod git_view;
pub mod graph_panel;
pub mod help;
pub mod learn;
pub mod modals;
pub mod output;
pub mod plan;
pub mod problems;
pub mod search;
pub mod selection;
pub mod stats;
pub mod status_bar;
pub mod template_form;
pub mod todo;

pub use frame::{draw, draw_into, pane_rects};

/// What `app::run` draws with.
pub const RENDER: crate::app::Render = crate::app::Render { draw, entry_lines: chat::entry_lines };
