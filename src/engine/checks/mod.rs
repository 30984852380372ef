//! The quality loop: what checks a proposed or applied change before the user is asked to trust
//! it — syntax, the project's own checks (diagnostics), and test results.
//!
//! This module owns the `[checks]` configuration section ([`ChecksSettings`]); each check is a
//! library of its own below it that the agent calls. The project checks: `project` (which
//! checks a repository has, as [`CheckSpec`]s), `parse` (their output → `Diagnostic`s); the
//! engine runs them in the sandbox (`agent/checks.rs`). [`syntax`] is the syntax gate: does a
//! proposed content parse, and which errors did the change introduce.
//! `test_results` reads a test runner's output into passed/failed/skipped counts and named failures.

pub mod parse;
pub mod project;
pub mod run;
pub mod settings;
pub mod syntax;
pub mod test_results;
pub mod tree_cache;

pub use project::{CheckSpec, detect};
pub use run::{CheckRun, report, run_check};
pub use settings::{CheckCommand, CheckWhen, ChecksSettings, OutputFormat};
