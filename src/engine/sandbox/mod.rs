//! Sandboxed execution of snippets, files and commands.
//!
//! Shape: the parent ([`execute`], in `parent.rs`) re-executes the kv1nt binary as
//! `kv1nt sandbox-exec --config <json> -- <argv…>` with a cleared environment. That helper
//! (`helper.rs`, single-threaded, dispatched before any runtime or thread exists) applies the
//! layers, reports them on fd 3, and execs the program. The parent enforces wall time, output
//! caps and cancellation, and reads peak memory from `wait4`.
//!
//! Invariants:
//! - The program never sees the parent's environment: only PATH, LANG, HOME (= workspace),
//!   TMPDIR (= workspace) and TERM=dumb (plus GOCACHE/GOPATH for Go) are passed. Never API keys.
//! - In [`SandboxMode::Enforce`], Landlock (every filesystem right: a kernel that enforces only
//!   part of the ruleset is reported as `landlock(partial: …)` and refused) and seccomp are
//!   mandatory: if either cannot be applied the helper refuses to exec and [`execute`] returns
//!   [`SandboxError::LayerUnavailable`].
//!   `KV1NT_SANDBOX_REQUIRE=landlock,seccomp,…` (read by the parent) makes the named layers
//!   mandatory in any mode.
//! - Every process of a run lives in one PID namespace (when available) whose init is killed
//!   with the helper, so nothing (not even a `setsid` child) outlives [`execute`].
//! - A scratch workspace is a fresh directory under the system temp dir, removed afterwards.
//! - Nothing sandboxed changes the repository's git dir, `.kv1nt/`, or kv1nt's data and config
//!   directories (`protect.rs`): they are read-only in the run's mount namespace, in kv1nt's own
//!   layers and in bwrap's; in `enforce` mode a run that cannot have that is refused.

mod bwrap;
pub mod changeset;
mod cow;
mod helper;
pub mod languages;
mod layers;
mod parent;
mod prepare;
mod protect;
mod reap;
#[cfg(any(target_os = "macos", test))]
mod seatbelt;
mod settings;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use changeset::{ChangeSet, ChangeSetState, ChangedFile};
pub use helper::main as helper_main;
pub use languages::Language;
pub use settings::{MAX_WALL_SECS, SandboxSettings};
pub use tokio_util::sync::CancellationToken;

/// How strictly the layers are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SandboxMode {
    /// Landlock and seccomp are mandatory; fail closed when the kernel lacks them.
    #[default]
    Enforce,
    /// Apply every layer the kernel offers; run anyway when some are missing.
    Degraded,
    /// No isolation: only the cleared environment and the parent's limits (time, output).
    Off,
}

impl SandboxMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::Degraded => "degraded",
            Self::Off => "off",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "enforce" => Some(Self::Enforce),
            "degraded" => Some(Self::Degraded),
            "off" => Some(Self::Off),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub wall_time: Duration,
    pub memory_mb: u64,
    pub max_processes: u64,
    /// Per stream; past it the run is killed with [`KilledBy::Output`].
    pub max_output_bytes: usize,
    pub network: bool,
    pub read_paths: Vec<PathBuf>,
    pub write_paths: Vec<PathBuf>,
    pub mode: SandboxMode,
    /// Start the helper inside bubblewrap when it is installed and works here (`bwrap` layer).
    pub bubblewrap: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            wall_time: Duration::from_secs(30),
            memory_mb: 512,
            max_processes: 64,
            max_output_bytes: 1 << 20,
            network: false,
            read_paths: Vec::new(),
            write_paths: Vec::new(),
            mode: SandboxMode::Enforce,
            bubblewrap: true,
        }
    }
}

/// Where the program runs (its cwd, HOME and TMPDIR; the only writable tree besides
/// `write_paths` and `/dev/null`).
#[derive(Debug, Clone)]
pub enum RunDir {
    /// A fresh temp directory holding the snippet, removed after the run.
    Scratch,
    /// The project directory, writable.
    Project(PathBuf),
    /// The project directory seen copy-on-write (`cow.rs`): the run's effects on files that are
    /// not git-ignored come back in [`ExecutionResult::changes`] instead of reaching the tree
    /// (or, where copy-on-write is unavailable, are recorded with their pre-images); git-ignored
    /// directories write through.
    Transaction(PathBuf),
}

#[derive(Debug, Clone)]
pub enum Program {
    Code { language: Language, code: String },
    Command { argv: Vec<String> },
    File { language: Language, path: PathBuf },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KilledBy {
    None,
    Timeout,
    /// Best effort: a failure that looks like the memory limit (see `parent.rs`).
    Memory,
    Output,
    Cancel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExecutionResult {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    #[serde(rename = "execution_time_ms", serialize_with = "as_millis")]
    pub execution_time: Duration,
    /// `ru_maxrss` of the helper subtree: the largest single process, not the sum.
    pub peak_memory_kb: u64,
    pub truncated: bool,
    pub killed_by: KilledBy,
    pub layers_applied: Vec<String>,
    /// A [`RunDir::Transaction`] run's effects (`None` for other runs).
    #[serde(skip)]
    pub changes: Option<ChangeSet>,
}

impl ExecutionResult {
    /// One line: `exit 0 · 0.04 s · peak 12 MB · layers: …` (or how the run was stopped).
    pub fn summary(&self) -> String {
        let mut status = match (self.killed_by, self.exit_code, self.signal) {
            (KilledBy::Timeout, ..) => "killed: time limit".to_string(),
            (KilledBy::Memory, ..) => "killed: memory limit".to_string(),
            (KilledBy::Output, ..) => "killed: output limit".to_string(),
            (KilledBy::Cancel, ..) => "cancelled".to_string(),
            (KilledBy::None, Some(code), _) => format!("exit {code}"),
            (KilledBy::None, None, Some(signal)) => format!("signal {signal}"),
            (KilledBy::None, None, None) => "no status".to_string(),
        };
        if self.truncated {
            status.push_str(" · output truncated");
        }
        let layers =
            if self.layers_applied.is_empty() { "none".into() } else { self.layers_applied.join(", ") };
        format!(
            "{status} · {:.2} s · peak {} MB · layers: {layers}",
            self.execution_time.as_secs_f64(),
            self.peak_memory_kb.div_ceil(1024),
        )
    }
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "the sandbox layer `{layer}` is unavailable: {reason} (set sandbox.mode = \"degraded\" to run with \
         the layers this system offers)"
    )]
    LayerUnavailable { layer: String, reason: String },
    #[error("no {0} toolchain: {1}")]
    Toolchain(String, String),
    #[error("cannot start the sandbox helper: {0}")]
    Spawn(String),
    #[error("sandbox i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// What the parent hands the helper (as JSON on its command line).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct HelperConfig {
    pub workspace: PathBuf,
    pub read_paths: Vec<PathBuf>,
    pub write_paths: Vec<PathBuf>,
    /// Paths inside writable trees that the run must not change (`protect.rs`): bound read-only.
    pub protected: Vec<PathBuf>,
    pub memory_bytes: u64,
    pub max_processes: u64,
    pub cpu_secs: u64,
    pub max_file_bytes: u64,
    pub network: bool,
    pub mode: SandboxMode,
    /// Layers that must apply or the helper refuses to run.
    pub require: Vec<String>,
    /// Mount the workspace copy-on-write (or refuse with layer `copy-on-write`).
    pub cow: Option<cow::CowSpec>,
}

/// Run `program` in the sandbox. Output chunks are passed to `on_output` as they arrive (before
/// the cap is applied to what is stored). Cancelling `cancel` kills the run
/// ([`KilledBy::Cancel`]).
pub async fn execute(
    program: Program,
    workspace: RunDir,
    stdin: Option<Vec<u8>>,
    config: &SandboxConfig,
    cancel: CancellationToken,
    on_output: impl FnMut(Stream, &[u8]) + Send,
) -> Result<ExecutionResult, SandboxError> {
    parent::execute(program, workspace, stdin, config, cancel, on_output).await
}
