//! The optional bubblewrap layer: when `bwrap` is installed and works here, the helper starts
//! inside it, with a private /tmp, /dev, /dev/shm and /proc and its own IPC and UTS namespaces.
//!
//! Invariants:
//! - bwrap is probed once per process (`bwrap … true`); a bwrap that is missing or cannot set up
//!   its mounts (common in containers) is skipped, and the run reports the layer as not applied
//!   — unless `KV1NT_SANDBOX_REQUIRE` names `bwrap`, which refuses the run instead.
//! - bwrap is started by the parent with the same cleared environment as the helper, so it adds
//!   nothing the program could read.
//! - The workspace and the extra paths are bound back after the private /tmp, so a scratch
//!   workspace under /tmp stays visible; everything else of the host's /tmp is not.
//! - The protected paths (`protect.rs`: the git dir, `.kv1nt/`, kv1nt's data and config
//!   directories) are bound read-only over themselves after the writable binds, so they win.
//! - The helper binary is bound read-only at its own path, so bwrap can exec it wherever it
//!   lives (a kv1nt built in a clone under /tmp would otherwise be hidden by the private /tmp).
//! - bwrap reports a program killed by signal N as exit status 128 + N; the parent maps that back
//!   (see `parent.rs`), so results look the same with or without this layer.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The bwrap binary, if it is installed and can set up its mounts here (probed once).
pub(super) fn available() -> Result<&'static Path, &'static str> {
    static PROBE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PROBE.get_or_init(probe).as_ref().map(PathBuf::as_path).map_err(String::as_str)
}

fn probe() -> Result<PathBuf, String> {
    let path = super::languages::find_on_path("bwrap").ok_or("bwrap is not installed")?;
    let status = Command::new(&path)
        .args(["--die-with-parent", "--bind", "/", "/"])
        .args(["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/dev/shm", "--", "true"])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("bwrap cannot start: {e}"))?;
    if status.success() { Ok(path) } else { Err(format!("bwrap cannot set up its mounts here ({status})")) }
}

/// The arguments that put `helper …` inside bwrap: everything before the helper's own path.
pub(super) fn prefix(
    helper: &Path,
    workspace: &Path,
    extra: &[PathBuf],
    protected: &[PathBuf],
) -> Vec<String> {
    let mut args: Vec<String> = [
        "--die-with-parent",
        "--unshare-ipc",
        "--unshare-uts",
        "--bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
        "--tmpfs",
        "/dev/shm",
    ]
    .map(String::from)
    .to_vec();
    for path in std::iter::once(&workspace.to_path_buf()).chain(extra) {
        let shown = path.to_string_lossy().into_owned();
        args.extend(["--bind-try".into(), shown.clone(), shown]);
    }
    for path in std::iter::once(&helper.to_path_buf()).chain(protected) {
        let shown = path.to_string_lossy().into_owned();
        args.extend(["--ro-bind-try".into(), shown.clone(), shown]);
    }
    args.extend(["--chdir".into(), workspace.to_string_lossy().into_owned(), "--".into()]);
    args
}
