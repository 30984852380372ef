//! The `[checks]` configuration section.
//!
//! ```toml
//! [checks]
//! when = "turn"            # turn | change | off: when the project's checks run
//! max_syntax_retries = 2   # a proposal that does not parse goes back to the model this often
//! max_fix_rounds = 3       # rounds of the fix loop after checks or tests start failing
//! auto_detect = true       # checks from the repository's files (Cargo.toml, pyproject.toml, …)
//! clippy = false           # Rust: cargo clippy as well as cargo check
//!
//! [checks.commands.mypy]   # your own checks: a shell command and how to read its output
//! command = "mypy --show-column-numbers ."
//! format = "gcc"           # cargo-json | ruff-json | tsc | gcc | eslint
//! ```
//!
//! Invariant: the counts, `when`, `clippy` and `auto_detect = false` are harmless in an
//! untrusted repository's file (they run nothing new); `commands` names programs to run and is
//! held back until the repository is trusted (`config::trust`, an allow-list).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// When the project's checks run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckWhen {
    /// After a turn that applied changes.
    #[default]
    Turn,
    /// After each applied change.
    Change,
    Off,
}

/// How a check's output is read into diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputFormat {
    /// `cargo check/clippy --message-format=json`: one JSON object per line.
    CargoJson,
    /// `ruff check --output-format=json`: one JSON array.
    RuffJson,
    /// `file(line,col): error TS2322: message` (tsc without `--pretty`).
    Tsc,
    /// `file:line[:col]: [error|warning|note:] message` — gcc, go vet, pyflakes, mypy, …
    Gcc,
    /// ESLint's default "stylish" output (a file line, then `line:col  error  message  rule`),
    /// and gcc-style lines.
    Eslint,
}

/// A user-defined check (`[checks.commands.NAME]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckCommand {
    /// Run by `sh -c` in the repository, sandboxed.
    pub command: String,
    pub format: OutputFormat,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChecksSettings {
    pub when: CheckWhen,
    pub max_syntax_retries: u32,
    pub max_fix_rounds: u32,
    /// Checks from the repository's files (`checks::project::detect`).
    pub auto_detect: bool,
    /// `cargo clippy` too, where `cargo check` is detected.
    pub clippy: bool,
    /// The user's own checks, by name.
    pub commands: BTreeMap<String, CheckCommand>,
}

impl Default for ChecksSettings {
    fn default() -> Self {
        Self {
            when: CheckWhen::Turn,
            max_syntax_retries: 2,
            max_fix_rounds: 3,
            auto_detect: true,
            clippy: false,
            commands: BTreeMap::new(),
        }
    }
}
