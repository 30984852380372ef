//! The test harness as benches/stream_cost.rs includes it (`#[path = "../tests/support/mod.rs"]`).
//! The bench uses only the scripted server and the pty driver, so the dead-code and
//! unused-import lints are off for this view alone. The test binary loads the harness from
//! `root.rs` directly (tests/all.rs), where every unused item warns. When the bench includes
//! `root.rs` itself (with its own allow), this file can go.
#![allow(dead_code, unused_imports)]

#[path = "root.rs"]
mod root;

pub use root::*;
