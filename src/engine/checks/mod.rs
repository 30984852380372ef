//! The quality loop: what checks a proposed or applied change before the user is asked to trust
//! it — syntax, the project's own checks (diagnostics), and test results.
//!
//! This module owns the `[checks]` configuration section ([`ChecksSettings`]); each check is a
//! library of its own below it that the agent calls.
//! `test_results` reads a test runner's output into passed/failed/skipped counts and named failures.

pub mod settings;
pub mod test_results;

pub use settings::{CheckWhen, ChecksSettings};
