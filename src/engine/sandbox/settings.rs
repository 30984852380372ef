//! `[sandbox]` in the configuration: the limits every run gets unless a run asks for less time,
//! and how strictly the layers are applied.
//!
//! ```toml
//! [sandbox]
//! mode = "enforce"      # enforce | degraded | off
//! timeout_secs = 30
//! memory_mb = 512
//! max_processes = 64
//! max_output_kb = 1024  # per stream
//! network = false
//! read_paths = []       # extra read-only paths (toolchains outside the usual places)
//! write_paths = []      # extra writable paths besides the workspace
//! bubblewrap = true     # also use bwrap (private /tmp, /dev, /proc) when it is installed
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{SandboxConfig, SandboxMode};

/// A run never gets more wall time than this, whatever the model or the config asks.
pub const MAX_WALL_SECS: u64 = 600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxSettings {
    /// enforce: Landlock and seccomp are mandatory; degraded: run with what the kernel offers
    /// (every run is then critical in the approval gate); off: no isolation (also critical).
    pub mode: SandboxMode,
    pub timeout_secs: u64,
    pub memory_mb: u64,
    pub max_processes: u64,
    /// Output kept per stream; past it the run is killed.
    pub max_output_kb: usize,
    pub network: bool,
    pub read_paths: Vec<PathBuf>,
    pub write_paths: Vec<PathBuf>,
    /// Also start runs inside bubblewrap when `bwrap` is installed and works here.
    pub bubblewrap: bool,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        let d = SandboxConfig::default();
        Self {
            mode: d.mode,
            timeout_secs: d.wall_time.as_secs(),
            memory_mb: d.memory_mb,
            max_processes: d.max_processes,
            max_output_kb: d.max_output_bytes / 1024,
            network: d.network,
            read_paths: d.read_paths,
            write_paths: d.write_paths,
            bubblewrap: d.bubblewrap,
        }
    }
}

impl SandboxSettings {
    /// The configuration of one run; `timeout` (from the model or the user) may only shorten
    /// or lengthen the wall time up to [`MAX_WALL_SECS`].
    pub fn to_config(&self, timeout: Option<Duration>) -> SandboxConfig {
        let wall = timeout.unwrap_or(Duration::from_secs(self.timeout_secs));
        SandboxConfig {
            wall_time: wall.clamp(Duration::from_secs(1), Duration::from_secs(MAX_WALL_SECS)),
            memory_mb: self.memory_mb,
            max_processes: self.max_processes,
            max_output_bytes: self.max_output_kb.saturating_mul(1024),
            network: self.network,
            read_paths: self.read_paths.clone(),
            write_paths: self.write_paths.clone(),
            mode: self.mode,
            bubblewrap: self.bubblewrap,
        }
    }

    /// Why runs are riskier than their command alone says (a weaker mode), if they are.
    pub fn weakness(&self) -> Option<String> {
        match self.mode {
            SandboxMode::Enforce if !self.network => None,
            SandboxMode::Enforce => Some("sandbox.network = true: the run can reach the network".into()),
            SandboxMode::Degraded => {
                Some("sandbox.mode = \"degraded\": runs even where Landlock or seccomp is missing".into())
            }
            SandboxMode::Off => Some("sandbox.mode = \"off\": the run is not isolated at all".into()),
        }
    }
}
