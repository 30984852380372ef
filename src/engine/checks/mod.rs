//! The quality loop: what checks a proposed or applied change before the user is asked to trust
//! it — syntax, the project's own checks (diagnostics), and test results.
//!
//! This module owns the `[checks]` configuration section ([`ChecksSettings`]); each check is a
//! library of its own below it that the agent calls: [`syntax`] (the syntax gate: does a
//! proposed content parse, and which errors did the change introduce).

pub mod settings;
pub mod syntax;

pub use settings::{CheckWhen, ChecksSettings};
