//! The quality loop: what checks a proposed or applied change before the user is asked to trust
//! it — syntax, the project's own checks (diagnostics), and test results.
//!
//! This module owns the `[checks]` configuration section ([`ChecksSettings`]); each check is a
//! library of its own below it that the agent calls.

pub mod settings;

pub use settings::{CheckWhen, ChecksSettings};
