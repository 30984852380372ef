//! The helper is reachable in every layer: a kv1nt binary that lives under /tmp (a clone built
//! there) still runs its sandbox inside bubblewrap, whose private /tmp would otherwise hide the
//! helper (`bwrap: execvp …/kv1nt: No such file or directory`). Judged as a user sees it: the
//! copied binary's `kv1nt run` prints the program's output and reports the `bwrap` layer.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::require;

/// `kv1nt run` through the binary at `bin`, isolated from the user's environment, the helper
/// being that same binary (no `KV1NT_SANDBOX_HELPER`).
///
/// A child forked by another test while the copy was being written holds its write descriptor
/// until it execs, so running the copy can briefly fail with "Text file busy": retry that.
fn run_copy(bin: &Path, home: &Path, args: &[&str]) -> Output {
    let mut tries = 0;
    loop {
        let result = Command::new(bin)
            .args(args)
            .env_remove("KV1NT_SANDBOX_HELPER")
            .env("HOME", home)
            .env("KV1NT_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .current_dir(home)
            .stdin(Stdio::null())
            .output();
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            other => return other.expect("run the copied kv1nt"),
        }
    }
}

fn bwrap_works() -> bool {
    let ok = Command::new("bwrap")
        .args(["--bind", "/", "/", "--tmpfs", "/tmp", "--", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    require(ok, "a working bwrap", "apt-get install bubblewrap")
}

#[test]
fn a_kv1nt_under_tmp_runs_its_sandbox_inside_bubblewrap() {
    if !bwrap_works() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    assert!(dir.path().starts_with("/tmp"), "the point is a binary under /tmp: {}", dir.path().display());
    let bin = dir.path().join("kv1nt");
    std::fs::copy(env!("CARGO_BIN_EXE_kv1nt"), &bin).unwrap();
    let out = run_copy(&bin, dir.path(), &["run", "--lang", "sh", "-e", "echo ran"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ran\n", "{stderr}");
    let layers = stderr.lines().last().unwrap_or_default();
    assert!(layers.contains("layers: ") && layers.contains("bwrap"), "{stderr}");
}

#[test]
fn a_helper_that_cannot_start_is_named_as_the_failure() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("gone/kv1nt");
    let out = Command::new(env!("CARGO_BIN_EXE_kv1nt"))
        .args(["run", "--lang", "sh", "-e", "echo ran"])
        .env("KV1NT_SANDBOX_HELPER", &missing)
        .env("HOME", dir.path())
        .env("KV1NT_HOME", dir.path().join("data"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stderr.contains("cannot start the sandbox helper"), "{stderr}");
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
    assert!(!stderr.contains("layers:"), "no run happened, so no layers: {stderr}");
}
