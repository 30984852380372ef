//! Running one hook: `sh -c COMMAND` in the workspace with the event JSON on stdin.
//!
//! A user's hook runs as the user's own process (their environment, like their shell) in its
//! own process group; a repository's runs in kv1nt's sandbox (`RunDir::Project`, its cleared
//! environment, no network unless configured), as the project checks do.
//!
//! Invariants: stdin is written by a task of its own, so a hook that never reads it cannot
//! block kv1nt; stdout and stderr are kept up to [`MAX_OUTPUT_BYTES`] each (the rest is read
//! and dropped); at the time limit, or when the future is dropped (Esc cancels the turn), the
//! whole process group is killed. `CLAUDE_PROJECT_DIR` and `KV1NT_PROJECT_DIR` name the
//! workspace, so `"$CLAUDE_PROJECT_DIR"/.claude/hooks/x.sh` commands work.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use crate::engine::sandbox::{self, CancellationToken, KilledBy, Program, RunDir, SandboxConfig};

/// Most bytes of each stream kept from a hook.
pub const MAX_OUTPUT_BYTES: usize = 64 * 1024;

/// How a hook's process ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HookRun {
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
    /// The time limit it had, in seconds.
    pub limit_secs: u64,
    /// Why it could not start.
    pub not_started: Option<String>,
}

/// Kills the process group unless the hook was waited for.
struct GroupGuard {
    pgid: Option<i32>,
}

impl GroupGuard {
    fn kill(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), nix::sys::signal::SIGKILL);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Run a user's hook as their own process.
pub async fn run_user(command: &str, workspace: &Path, input: Vec<u8>, limit: Duration) -> HookRun {
    let limit_secs = limit.as_secs();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(workspace)
        .env("CLAUDE_PROJECT_DIR", workspace)
        .env("KV1NT_PROJECT_DIR", workspace)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => return HookRun { limit_secs, not_started: Some(e.to_string()), ..HookRun::default() },
    };
    let mut guard = GroupGuard { pgid: child.id().map(|p| p as i32) };
    if let Some(mut stdin) = child.stdin.take() {
        tokio::spawn(async move {
            let _ = stdin.write_all(&input).await;
        });
    }
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let finished = async {
        let (out, err, status) = tokio::join!(read_capped(stdout), read_capped(stderr), child.wait());
        (out, err, status)
    };
    match tokio::time::timeout(limit, finished).await {
        Ok((stdout, stderr, status)) => {
            // Waited for: its own background children may live on, as in Claude Code.
            guard.pgid = None;
            let exit_code = status.ok().and_then(|s| s.code());
            HookRun { exit_code, stdout, stderr, limit_secs, ..HookRun::default() }
        }
        Err(_) => {
            guard.kill();
            HookRun { timed_out: true, limit_secs, ..HookRun::default() }
        }
    }
}

/// Run a trusted repository's hook in the sandbox (`RunDir::Project`); `limit` is its wall time.
pub async fn run_sandboxed(
    command: &str,
    workspace: &Path,
    input: Vec<u8>,
    limit: Duration,
    sandbox_config: &SandboxConfig,
) -> HookRun {
    let mut config = sandbox_config.clone();
    config.wall_time = limit;
    config.max_output_bytes = MAX_OUTPUT_BYTES;
    let dir = workspace.display().to_string();
    let argv = vec![
        "env".into(),
        format!("CLAUDE_PROJECT_DIR={dir}"),
        format!("KV1NT_PROJECT_DIR={dir}"),
        "sh".into(),
        "-c".into(),
        command.to_string(),
    ];
    let run = sandbox::execute(
        Program::Command { argv },
        RunDir::Project(workspace.to_path_buf()),
        Some(input),
        &config,
        CancellationToken::new(),
        |_, _| {},
    )
    .await;
    let limit_secs = limit.as_secs();
    match run {
        Ok(result) if result.killed_by == KilledBy::Timeout => {
            HookRun { timed_out: true, limit_secs, ..HookRun::default() }
        }
        Ok(result) => HookRun {
            exit_code: if result.killed_by == KilledBy::None { result.exit_code } else { None },
            stdout: result.stdout,
            stderr: result.stderr,
            limit_secs,
            ..HookRun::default()
        },
        Err(e) => HookRun { limit_secs, not_started: Some(format!("sandbox: {e}")), ..HookRun::default() },
    }
}

/// All of a stream, keeping the first [`MAX_OUTPUT_BYTES`].
async fn read_capped(stream: Option<impl AsyncRead + Unpin>) -> String {
    let Some(mut stream) = stream else { return String::new() };
    let mut kept = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n @ 1..) = stream.read(&mut buf).await {
        let room = MAX_OUTPUT_BYTES.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[tokio::test]
    async fn reads_stdin_answers_and_exit_status() {
        let dir = tempfile::tempdir().unwrap();
        let run = run_user(
            "read -r line; echo \"got $line in $CLAUDE_PROJECT_DIR\"; echo why >&2; exit 2",
            dir.path(),
            b"{\"a\":1}\n".to_vec(),
            Duration::from_secs(10),
        )
        .await;
        assert_eq!(run.exit_code, Some(2));
        assert_eq!(run.stdout, format!("got {{\"a\":1}} in {}\n", dir.path().display()));
        assert_eq!(run.stderr, "why\n");
    }

    #[tokio::test]
    async fn a_hook_that_ignores_stdin_and_sleeps_is_killed_at_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("late");
        let started = Instant::now();
        // A big stdin it never reads, and a child in its group that would write later.
        let command = format!("(sleep 3; touch {}) & sleep 30", marker.display());
        let run = run_user(&command, dir.path(), vec![b'x'; 1 << 20], Duration::from_secs(1)).await;
        assert!(run.timed_out && started.elapsed() < Duration::from_secs(5), "{run:?}");
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(!marker.exists(), "the hook's process group was killed");
    }

    #[tokio::test]
    async fn output_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        let run = run_user(
            "head -c 200000 /dev/zero | tr '\\0' a",
            dir.path(),
            Vec::new(),
            Duration::from_secs(10),
        )
        .await;
        assert_eq!((run.exit_code, run.stdout.len()), (Some(0), MAX_OUTPUT_BYTES));
    }
}
