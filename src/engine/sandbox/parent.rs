//! The parent side: prepare the workspace, spawn the helper, enforce wall time, output caps and
//! cancellation, and collect the result.
//!
//! Invariants:
//! - The helper starts in its own session (setsid in `pre_exec`, so its pgid is its pid) with
//!   PR_SET_PDEATHSIG=SIGKILL and a cleared environment (see [`sandbox_env`]).
//! - Every kill is SIGKILL to the helper's process group and to the helper itself. The helper's
//!   init is PID 1 of the run's PID namespace and dies with the helper (PDEATHSIG), which makes
//!   the kernel kill everything else in the namespace, `setsid` children included.
//! - Output: each stream keeps at most `max_output_bytes`; the first byte past that kills the run
//!   ([`KilledBy::Output`]) so 100 MB of output ends quickly. `on_output` sees only stored bytes.
//! - Peak memory is `ru_maxrss` from `wait4` on the helper: the maximum RSS of the helper and the
//!   descendants it reaped (init reaps the program), i.e. the largest single process, in kB.
//! - [`KilledBy::Memory`] is best effort: a failed run whose stderr names an allocation failure,
//!   or that died by SIGKILL/SIGSEGV/SIGABRT/SIGBUS with a peak ≥ 80 % of the limit.
//! - If the future is dropped mid-run the guard kills the run; a scratch workspace is removed.
//! - [`execute`] returns only when the run's process group is empty (zombies reaped), so
//!   back-to-back runs never inherit a full process count (bounded wait: 2 s). To reap them
//!   itself, the process becomes a child subreaper on its first run; orphans of other children
//!   (e.g. a daemon started by a git hook) then wait as zombies until kv1nt exits.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::prepare::{Prepared, ScratchDir, prepare, sandbox_env, scratch_dir};
use super::reap::{KillGuard, become_subreaper, drain_process_group};
use super::{
    ExecutionResult, HelperConfig, KilledBy, Program, RunDir, SandboxConfig, SandboxError, SandboxMode,
    Stream, bwrap, changeset, cow, helper, protect,
};

const MAX_FILE_BYTES: u64 = 256 << 20;

enum Msg {
    Out(Stream, Vec<u8>),
    Eof,
}

pub(super) async fn execute(
    program: Program,
    workspace: RunDir,
    stdin: Option<Vec<u8>>,
    config: &SandboxConfig,
    cancel: CancellationToken,
    mut on_output: impl FnMut(Stream, &[u8]) + Send,
) -> Result<ExecutionResult, SandboxError> {
    let (dir, _scratch, transaction) = match workspace {
        RunDir::Scratch => {
            let dir = scratch_dir()?;
            (dir.clone(), ScratchDir(Some(dir)), false)
        }
        RunDir::Project(dir) => (dir.canonicalize()?, ScratchDir(None), false),
        RunDir::Transaction(dir) => (dir.canonicalize()?, ScratchDir(None), true),
    };
    let prepared = prepare(program, &dir)?;
    let require = std::env::var("KV1NT_SANDBOX_REQUIRE").unwrap_or_default();
    let require: Vec<String> =
        require.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
    let helper_config = HelperConfig {
        workspace: dir.clone(),
        read_paths: prepared.read_paths.iter().chain(&config.read_paths).cloned().collect(),
        write_paths: config.write_paths.clone(),
        protected: protect::protected_paths(&dir, &config.write_paths, &|k| std::env::var(k).ok()),
        memory_bytes: config.memory_mb << 20,
        max_processes: config.max_processes,
        cpu_secs: config.wall_time.as_secs() + 1,
        max_file_bytes: MAX_FILE_BYTES,
        network: config.network,
        mode: config.mode,
        cow: None,
        require,
    };
    if !transaction {
        return run_once(&prepared, helper_config, stdin, config, cancel, &mut on_output, None).await;
    }
    let required = helper_config.require.iter().any(|r| r == cow::LAYER);
    if config.mode != SandboxMode::Off && (required || !cow::known_unavailable()) {
        let cow_dir = cow::CowDir::new(&dir)?;
        let mut cow_config = helper_config.clone();
        cow_config.cow = Some(cow_dir.spec.clone());
        let run = run_once(
            &prepared,
            cow_config,
            stdin.clone(),
            config,
            cancel.clone(),
            &mut on_output,
            Some(cow_dir.root()),
        );
        match run.await {
            Ok(mut result) => {
                let protected = helper_config.protected.clone();
                let collect = move || changeset::from_upper(&cow_dir.spec.upper, &dir, &protected);
                result.changes = Some(blocking(collect).await?);
                return Ok(result);
            }
            Err(SandboxError::LayerUnavailable { layer, .. }) if layer == cow::LAYER && !required => {
                cow::mark_unavailable();
            }
            Err(e) => return Err(e),
        }
    } else if required {
        let reason = "copy-on-write needs the sandbox (sandbox.mode is off)".to_string();
        return Err(SandboxError::LayerUnavailable { layer: cow::LAYER.into(), reason });
    }
    let protected = helper_config.protected.clone();
    let snapshot = blocking(move || changeset::Snapshot::take(&dir, &protected)).await?;
    let mut result = run_once(&prepared, helper_config, stdin, config, cancel, &mut on_output, None).await?;
    result.changes = Some(blocking(move || snapshot.changes()).await?);
    Ok(result)
}

/// Walking and reading the tree is blocking file I/O: off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, SandboxError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| SandboxError::Io(std::io::Error::other(e.to_string())))
}

/// One helper run; `cow_root`: the directory of the copy-on-write layers (bound into bwrap).
async fn run_once(
    prepared: &Prepared,
    helper_config: HelperConfig,
    stdin: Option<Vec<u8>>,
    config: &SandboxConfig,
    cancel: CancellationToken,
    on_output: &mut (impl FnMut(Stream, &[u8]) + Send),
    cow_root: Option<&Path>,
) -> Result<ExecutionResult, SandboxError> {
    let dir = helper_config.workspace.clone();
    let helper_exe = match std::env::var_os("KV1NT_SANDBOX_HELPER") {
        Some(path) => PathBuf::from(path),
        None => std::env::current_exe()?,
    };
    let json = serde_json::to_string(&helper_config).map_err(|e| SandboxError::Spawn(e.to_string()))?;
    let (report_r, report_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| SandboxError::Spawn(e.to_string()))?;
    let bwrap = with_bwrap(config, &helper_config)?;
    let mut cmd = match bwrap {
        Some(bwrap_exe) => {
            let mut extra = helper_config.read_paths.clone();
            extra.extend(helper_config.write_paths.iter().cloned());
            extra.extend(cow_root.map(Path::to_path_buf));
            let mut cmd = std::process::Command::new(bwrap_exe);
            cmd.args(bwrap::prefix(&helper_exe, &dir, &extra, &helper_config.protected)).arg(&helper_exe);
            cmd
        }
        None => std::process::Command::new(&helper_exe),
    };
    cmd.arg("sandbox-exec")
        .arg("--config")
        .arg(json)
        .arg("--")
        .args(&prepared.argv)
        .env_clear()
        .envs(sandbox_env(&dir, &prepared.bin_dirs, prepared.language))
        .current_dir(&dir)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let report_fd = report_w.as_raw_fd();
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::setsid();
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
            let ok = if report_fd == 3 { libc::fcntl(3, libc::F_SETFD, 0) } else { libc::dup2(report_fd, 3) };
            if ok < 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
        });
    }
    let start = Instant::now();
    become_subreaper();
    let mut child = cmd.spawn().map_err(|e| SandboxError::Spawn(format!("{}: {e}", helper_exe.display())))?;
    drop(report_w);
    let mut guard = KillGuard { pid: child.id() as i32, reaped: false };

    if let (Some(mut pipe), Some(data)) = (child.stdin.take(), stdin) {
        std::thread::spawn(move || pipe.write_all(&data));
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    for (stream, pipe) in [
        (Stream::Stdout, child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>)),
        (Stream::Stderr, child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>)),
    ] {
        let (tx, mut pipe) = (tx.clone(), pipe.expect("piped"));
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                if tx.send(Msg::Out(stream, buf[..n].to_vec())).is_err() {
                    break;
                }
            }
            let _ = tx.send(Msg::Eof);
        });
    }
    drop(tx);
    let (report_tx, report_rx) = oneshot::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::fs::File::from(report_r).read_to_string(&mut text);
        let _ = report_tx.send(text);
    });
    let (wait_tx, mut wait_rx) = oneshot::channel();
    let pid = guard.pid;
    std::thread::spawn(move || {
        let mut status = 0;
        // SAFETY: zeroed rusage is valid; we wait for our own child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: valid out pointers.
            let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            if r >= 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                break;
            }
        }
        let _ = wait_tx.send((status, usage.ru_maxrss.max(0) as u64));
    });

    let cap = config.max_output_bytes;
    let mut out: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let (mut truncated, mut killed_by, mut open, mut waited) = (false, KilledBy::None, 2, None);
    let deadline = tokio::time::sleep(config.wall_time);
    tokio::pin!(deadline);
    let drain = tokio::time::sleep(Duration::from_secs(3600));
    tokio::pin!(drain);
    while waited.is_none() || open > 0 {
        tokio::select! {
            msg = rx.recv(), if open > 0 => match msg {
                Some(Msg::Out(stream, bytes)) => {
                    let buf = &mut out[stream as usize];
                    let room = cap.saturating_sub(buf.len());
                    let keep = &bytes[..bytes.len().min(room)];
                    if !keep.is_empty() {
                        on_output(stream, keep);
                        buf.extend_from_slice(keep);
                    }
                    if bytes.len() > room && !truncated {
                        truncated = true;
                        if killed_by == KilledBy::None {
                            killed_by = KilledBy::Output;
                        }
                        guard.kill();
                    }
                }
                Some(Msg::Eof) => open -= 1,
                None => open = 0,
            },
            res = &mut wait_rx, if waited.is_none() => {
                guard.reaped = true;
                waited = Some(res.unwrap_or((0, 0)));
                // Descendants are dead with the namespace; don't wait forever on stray pipe holders.
                drain.as_mut().reset(tokio::time::Instant::now() + Duration::from_secs(2));
            }
            _ = &mut deadline, if waited.is_none() && killed_by == KilledBy::None => {
                killed_by = KilledBy::Timeout;
                guard.kill();
            }
            _ = cancel.cancelled(), if waited.is_none() && killed_by == KilledBy::None => {
                killed_by = KilledBy::Cancel;
                guard.kill();
            }
            _ = &mut drain, if waited.is_some() => break,
        }
    }
    let execution_time = start.elapsed();
    let (status, peak_memory_kb) = waited.unwrap_or((0, 0));
    drain_process_group(guard.pid).await;
    let report = report_rx.await.unwrap_or_default();
    let report: serde_json::Value = serde_json::from_str(report.trim()).unwrap_or_default();
    if let Some(error) = report.get("error") {
        let field = |k: &str| error.get(k).and_then(|v| v.as_str()).unwrap_or("?").to_string();
        return Err(SandboxError::LayerUnavailable { layer: field("layer"), reason: field("reason") });
    }
    if report.get("layers").is_none() && killed_by == KilledBy::None {
        return Err(helper_silent(&helper_exe, status, &out[Stream::Stderr as usize]));
    }
    let mut layers_applied: Vec<String> = report["layers"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default();
    let mut exit_code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let mut signal = libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status));
    if bwrap.is_some() {
        layers_applied.insert(layers_applied.len().min(1), "bwrap".into());
        // bwrap reports a child killed by signal N as 128 + N.
        if let Some(code @ 129..=192) = exit_code {
            (exit_code, signal) = (None, Some(code - 128));
        }
    }
    let [stdout, stderr] = out.map(|b| String::from_utf8_lossy(&b).into_owned());
    if killed_by == KilledBy::None {
        killed_by = classify(exit_code, signal, &stderr, peak_memory_kb, config.memory_mb);
    }
    Ok(ExecutionResult {
        success: exit_code == Some(0) && killed_by == KilledBy::None,
        stdout,
        stderr,
        exit_code,
        signal,
        execution_time,
        peak_memory_kb,
        truncated,
        killed_by,
        layers_applied,
        changes: None,
    })
}

/// Why a run whose helper never reported (and that the parent did not stop) did not happen: the
/// helper refused, or never started (e.g. bwrap could not exec it; its stderr says why).
fn helper_silent(helper_exe: &Path, status: i32, stderr: &[u8]) -> SandboxError {
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == helper::EXIT_REFUSED {
        return SandboxError::Spawn("the sandbox helper refused to run without saying why".into());
    }
    let stderr = String::from_utf8_lossy(stderr);
    let why = match stderr.trim() {
        "" => format!("it ended (wait status {status:#x}) before starting the program"),
        said => said.to_string(),
    };
    SandboxError::Spawn(format!("{}: {why}", helper_exe.display()))
}

/// Best-effort cause of a failure the parent did not cause itself.
fn classify(exit: Option<i32>, signal: Option<i32>, stderr: &str, peak_kb: u64, memory_mb: u64) -> KilledBy {
    if exit == Some(0) {
        return KilledBy::None;
    }
    if signal == Some(libc::SIGXCPU) {
        return KilledBy::Timeout;
    }
    const OOM_TEXT: &[&str] = &[
        "MemoryError",
        "Cannot allocate memory",
        "out of memory",
        "memory allocation of",
        "std::bad_alloc",
        "heap out of memory",
    ];
    let near_limit = peak_kb >= memory_mb * 1024 * 8 / 10;
    let fatal = matches!(signal, Some(libc::SIGKILL | libc::SIGSEGV | libc::SIGABRT | libc::SIGBUS));
    if OOM_TEXT.iter().any(|t| stderr.contains(t)) || (fatal && near_limit) {
        return KilledBy::Memory;
    }
    KilledBy::None
}

/// The bwrap binary when this run uses the bubblewrap layer; an error when it is required
/// (`KV1NT_SANDBOX_REQUIRE` names `bwrap`) but unavailable.
fn with_bwrap(config: &SandboxConfig, helper: &HelperConfig) -> Result<Option<&'static Path>, SandboxError> {
    let required = helper.require.iter().any(|r| r == "bwrap");
    if !required && (!config.bubblewrap || config.mode == SandboxMode::Off) {
        return Ok(None);
    }
    match bwrap::available() {
        Ok(path) => Ok(Some(path)),
        Err(reason) if required => {
            Err(SandboxError::LayerUnavailable { layer: "bwrap".into(), reason: reason.into() })
        }
        Err(_) => Ok(None),
    }
}
