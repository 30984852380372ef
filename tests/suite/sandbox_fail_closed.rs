//! Fail closed: on a kernel without Landlock the sandbox refuses to run, with a message saying
//! what is missing and how to opt into a weaker mode; `--mode degraded` then runs with the layers
//! that remain. "A kernel without Landlock" is real here: the test starts kv1nt under a seccomp
//! filter that answers `landlock_create_ruleset` with ENOSYS, exactly what an old kernel does.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

use seccompiler::{BpfProgram, SeccompAction, SeccompFilter};

fn kv1nt_without_landlock(args: &[&str]) -> Output {
    let arch = std::env::consts::ARCH.try_into().expect("a seccomp architecture");
    let filter = SeccompFilter::new(
        BTreeMap::from([(libc::SYS_landlock_create_ruleset, vec![])]),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )
    .unwrap();
    let program: BpfProgram = filter.try_into().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kv1nt"));
    cmd.args(args).env_remove("KV1NT_SANDBOX_REQUIRE");
    // SAFETY: between fork and exec only prctl and seccomp are called (no allocation).
    unsafe {
        cmd.pre_exec(move || {
            seccompiler::apply_filter(&program).map_err(|e| std::io::Error::other(e.to_string()))
        });
    }
    cmd.output().unwrap()
}

#[test]
fn without_landlock_runs_are_refused_with_a_clear_message() {
    let out = kv1nt_without_landlock(&["run", "--lang", "sh", "-e", "echo ran"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("ran"), "{out:?}");
    assert!(
        stderr.contains("`landlock` is unavailable") && stderr.contains("sandbox.mode = \"degraded\""),
        "{stderr}"
    );
}

#[test]
fn degraded_mode_runs_with_the_layers_that_remain() {
    let out = kv1nt_without_landlock(&["run", "--mode", "degraded", "--lang", "sh", "-e", "echo ran"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ran\n");
    let layers = stderr.lines().last().unwrap_or_default();
    assert!(layers.contains("layers: ") && !layers.contains("landlock"), "{stderr}");
    assert!(layers.contains("seccomp"), "the other layers still apply: {stderr}");
}
