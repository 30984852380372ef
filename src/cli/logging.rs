//! The log file: a `tracing` subscriber writing to `<data dir>/logs/`, installed at start-up.
//!
//! Invariants:
//! - Logs go to a file only, never to the terminal (the TUI owns it; headless commands keep
//!   stderr for their one-line errors). Files rotate daily (UTC dates, `kv1nt.YYYY-MM-DD.log`),
//!   at most [`KEPT_FILES`] are kept, and `kv1nt.log` is a symlink to the newest: the path
//!   [`log_file`] names and `kv1nt --log-file` prints.
//! - The filter comes from `KV1NT_LOG` (`EnvFilter` syntax), default [`DEFAULT_FILTER`]; an
//!   unparsable value falls back to the default.
//! - Writes go through a non-blocking writer whose thread flushes until the [`LogGuard`] is
//!   dropped, so `main` keeps the guard for the whole process. The `sandbox-exec` helper never
//!   calls [`init`]: it must stay single-threaded.
//! - No log file is not an error: [`init`] says why in one line (the caller prints it in
//!   headless mode only) and kv1nt runs without logs.
//! - Known gap: tracing-appender itself `eprintln!`s when the log file fails later (pruning,
//!   rotation or a flush failing); only such a fault of the log file can reach the terminal.

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;

/// The environment variable holding the filter directives.
pub const FILTER_VAR: &str = "KV1NT_LOG";
/// kv1nt's own notes (migrations) and warnings, other crates' warnings and errors.
pub const DEFAULT_FILTER: &str = "warn,kv1nt=info";
/// How many daily files are kept (older ones are deleted when a new one starts).
pub const KEPT_FILES: usize = 7;
const PREFIX: &str = "kv1nt";
const SUFFIX: &str = "log";
/// The symlink to the newest file.
const LATEST: &str = "kv1nt.log";

/// Keeps the log writer's thread flushing; drop it last.
pub struct LogGuard {
    _guard: WorkerGuard,
}

/// The directory of the log files under the data directory (absolute, so the symlink resolves).
pub fn log_dir(data_dir: &Path) -> PathBuf {
    let dir = data_dir.join("logs");
    std::path::absolute(&dir).unwrap_or(dir)
}

/// The path that always names the newest log file.
pub fn log_file(data_dir: &Path) -> PathBuf {
    log_dir(data_dir).join(LATEST)
}

/// The filter for `value` (of [`FILTER_VAR`]); the default when unset, empty or unparsable.
pub fn filter(value: Option<&str>) -> EnvFilter {
    value
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| EnvFilter::builder().parse(v).ok())
        .unwrap_or_else(|| EnvFilter::new(DEFAULT_FILTER))
}

/// Installs the global subscriber writing to [`log_file`]; `Err` says in one line why not.
pub fn init(data_dir: &Path) -> Result<LogGuard, String> {
    let dir = log_dir(data_dir);
    // Made here: the appender prunes old files before creating the directory, and says so on
    // stderr when it is missing.
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("no log file: cannot create {}: {e}", dir.display()))?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(PREFIX)
        .filename_suffix(SUFFIX)
        .max_log_files(KEPT_FILES)
        .latest_symlink(LATEST)
        .build(&dir)
        .map_err(|e| format!("no log file: cannot open one in {}: {e}", dir.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter(std::env::var(FILTER_VAR).ok().as_deref()))
        .try_init()
        .map_err(|e| format!("no log file: {e}"))?;
    Ok(LogGuard { _guard: guard })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_under_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(log_file(dir.path()), dir.path().join("logs/kv1nt.log"));
        assert!(log_file(Path::new("rel")).is_absolute());
    }

    #[test]
    fn filter_falls_back_to_the_default() {
        for value in [None, Some(""), Some("  "), Some("kv1nt=[")] {
            assert_eq!(filter(value).to_string(), EnvFilter::new(DEFAULT_FILTER).to_string(), "{value:?}");
        }
        assert_eq!(filter(Some("debug")).to_string(), "debug");
    }
}
