//! Running the repository's own git hooks (`pre-commit`, `commit-msg`) the way `git commit`
//! does, so a commit made by kv1nt passes the same checks as one made by hand.
//!
//! Invariants:
//! - Hooks are found in `core.hooksPath` (relative to the working tree root, like git) or in
//!   `<git common dir>/hooks`; a hook runs only if it is a file with an execute bit.
//! - A hook runs in the working tree root with stdin closed, `GIT_INDEX_FILE` pointing at the
//!   index and `GIT_EDITOR=:`; its stdout and stderr are captured together, in order, and the
//!   last [`MAX_OUTPUT`] bytes are kept. A process the hook leaves running in the background
//!   cannot hang the commit: output is awaited for [`OUTPUT_GRACE`] after the hook exits.
//! - Given [`TrustedHooks`] (the engine's: the hooks present when its session started, plus the
//!   ones the user approved), a hook runs only if its content hash is the trusted one; any other
//!   hook fails the commit with [`VcsError::HookNotApproved`] before anything runs. The hash is
//!   taken just before the hook starts; nothing sandboxed can change it in between, since
//!   sandboxed runs see the git directory read-only.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use super::repo::Repo;
use super::{Result, VcsError};
use crate::engine::store::sha256_hex;

/// The most hook output kept (the end is kept: that is where errors are).
pub const MAX_OUTPUT: usize = 64 * 1024;
/// How long output is still read after the hook exited (background children may hold the pipe).
const OUTPUT_GRACE: Duration = Duration::from_secs(2);

/// The hooks a commit runs, in order.
pub const COMMIT_HOOKS: [&str; 2] = ["pre-commit", "commit-msg"];

/// Hook name → sha256 of the content allowed to run under that name.
pub type TrustedHooks = BTreeMap<String, String>;

/// A hook as it is now on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookFile {
    pub name: String,
    pub path: PathBuf,
    /// sha256 of the content, lowercase hex.
    pub hash: String,
    /// The content as text (lossy), for the user to read.
    pub content: String,
}

/// The commit hooks present and executable now ([`COMMIT_HOOKS`] order).
pub fn commit_hooks(repo: &Repo) -> Result<Vec<HookFile>> {
    let mut out = Vec::new();
    for name in COMMIT_HOOKS {
        let Some(path) = find(repo, name)? else { continue };
        let bytes = std::fs::read(&path)?;
        let hash = sha256_hex(&bytes);
        let content = String::from_utf8_lossy(&bytes).into_owned();
        out.push(HookFile { name: name.to_string(), path, hash, content });
    }
    Ok(out)
}

/// The commit hooks present now, as trusted (taken when a session starts).
pub fn trust_present(repo: &Repo) -> Result<TrustedHooks> {
    Ok(commit_hooks(repo)?.into_iter().map(|h| (h.name, h.hash)).collect())
}

/// Where the hook `name` would live, if it exists and is executable.
fn find(repo: &Repo, name: &str) -> Result<Option<PathBuf>> {
    let config = repo.git().config()?;
    let dir = match config.get_path("core.hooksPath") {
        Ok(p) if p.is_absolute() => p,
        Ok(p) => repo.workdir().join(p),
        Err(_) => repo.git().commondir().join("hooks"),
    };
    let path = dir.join(name);
    Ok(match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o111 != 0 => Some(path),
        _ => None,
    })
}

/// Runs hook `name` with `args` if the repository has it. Ok(output) when it passed or does
/// not exist (empty output); [`VcsError::HookFailed`] with its output when it exited non-zero.
/// With `trusted`, a hook whose content is not the trusted one is refused, not run.
pub(crate) fn run(
    repo: &Repo,
    name: &str,
    args: &[&std::ffi::OsStr],
    trusted: Option<&TrustedHooks>,
) -> Result<String> {
    let Some(path) = find(repo, name)? else { return Ok(String::new()) };
    if let Some(trusted) = trusted
        && trusted.get(name) != Some(&sha256_hex(&std::fs::read(&path)?))
    {
        return Err(VcsError::HookNotApproved { hook: name.to_string(), path: path.display().to_string() });
    }
    let (mut reader, writer) = std::io::pipe()?;
    let mut child = {
        let mut cmd = Command::new(&path);
        cmd.args(args)
            .current_dir(repo.workdir())
            .env("GIT_INDEX_FILE", repo.git_dir().join("index"))
            .env("GIT_EDITOR", ":")
            .stdin(Stdio::null())
            .stdout(writer.try_clone()?)
            .stderr(writer);
        cmd.spawn().map_err(|e| VcsError::HookFailed {
            hook: name.to_string(),
            status: None,
            output: format!("could not run {}: {e}", path.display()),
        })?
        // `cmd` (holding the write ends) drops here, so the read below sees end-of-file.
    };
    // Read on a thread: a hook that leaves a background process holding the pipe must not
    // hang the commit, so after the hook exits its output is awaited only briefly.
    let collected = Arc::new(Mutex::new(Vec::new()));
    let (done_tx, done_rx) = mpsc::channel();
    let sink = Arc::clone(&collected);
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n @ 1..) = reader.read(&mut chunk) {
            let Ok(mut buf) = sink.lock() else { break };
            buf.extend_from_slice(&chunk[..n]);
            if buf.len() > 2 * MAX_OUTPUT {
                let excess = buf.len() - MAX_OUTPUT;
                buf.drain(..excess);
            }
        }
        let _ = done_tx.send(());
    });
    let status = child.wait()?;
    let _ = done_rx.recv_timeout(OUTPUT_GRACE);
    let mut bytes = collected.lock().map(|b| b.clone()).unwrap_or_default();
    if bytes.len() > MAX_OUTPUT {
        bytes.drain(..bytes.len() - MAX_OUTPUT);
    }
    let output = String::from_utf8_lossy(&bytes).into_owned();
    if status.success() {
        Ok(output)
    } else {
        Err(VcsError::HookFailed { hook: name.to_string(), status: status.code(), output })
    }
}
