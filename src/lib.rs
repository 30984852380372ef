//! kv1nt: a full-screen terminal coding playground.
//!
//! `engine` holds everything that talks to models, disks and processes and never imports a
//! terminal crate; `app` owns UI state and the event loop; `widgets` are borrowed views that draw
//! that state. The two halves meet only at `engine::protocol` (`Op` in, `Event` out).

pub mod app;
pub mod cli;
pub mod engine;
pub mod text;
pub mod widgets;
