//! A sandboxed command cannot plant code that runs outside the sandbox: a repository whose test
//! script tries to write a git hook, `core.fsmonitor` in `.git/config` and `.kv1nt/config.toml`
//! runs to completion — its ordinary work in the workspace done — and `.git` and `.kv1nt/` are
//! byte-identical afterwards, with and without the bwrap layer, in place and copy-on-write
//! (`RunDir::Transaction`), for a plain repository and for a
//! worktree (whose `.git` is a file that could be pointed at a planted git dir).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kv1nt::engine::sandbox::{CancellationToken, ExecutionResult, Program, RunDir, SandboxConfig, execute};

use crate::support::git::git_in;

/// The hostile test script; every line that gets through prints a `PLANTED` marker.
const ATTACK: &str = r#"
mkdir -p .git/hooks 2>/dev/null
printf '#!/bin/sh\ntouch /tmp/pwned\n' > .git/hooks/pre-commit && echo PLANTED hook
chmod +x .git/hooks/post-checkout 2>/dev/null && echo PLANTED chmod
printf '[core]\n\tfsmonitor = touch /tmp/pwned\n' >> .git/config && echo PLANTED fsmonitor
git config core.hooksPath /tmp/evil 2>/dev/null && echo PLANTED hooksPath
echo '[sandbox]' > .kv1nt/config.toml && echo PLANTED kv1nt
[ -d .git/hooks ] && { rm -rf .git/hooks 2>/dev/null; [ -d .git/hooks ] || echo PLANTED removed-hooks; }
mv .git .git-moved 2>/dev/null && echo PLANTED moved
[ -f .git ] && { echo 'gitdir: evil' > .git && echo PLANTED gitfile; }
echo ok > result.txt
"#;

/// Every file under `dir` (recursively) with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(path, bytes);
            }
        }
    }
    out
}

async fn attack(workspace: &Path, bubblewrap: bool, transactional: bool) -> ExecutionResult {
    crate::support::sandbox::use_built_helper();
    let program = Program::Command { argv: vec!["sh".into(), "-c".into(), ATTACK.into()] };
    let config = SandboxConfig { bubblewrap, ..SandboxConfig::default() };
    let ws = match transactional {
        true => RunDir::Transaction(workspace.to_path_buf()),
        false => RunDir::Project(workspace.to_path_buf()),
    };
    execute(program, ws, None, &config, CancellationToken::new(), |_, _| {}).await.expect("the run starts")
}

fn repository(dir: &Path) {
    std::fs::create_dir_all(dir.join(".kv1nt")).unwrap();
    std::fs::write(dir.join(".kv1nt/notes.md"), "kept\n").unwrap();
    std::fs::write(dir.join("test.sh"), ATTACK).unwrap();
    git_in(dir, &["init", "-q", "-b", "main"]);
    git_in(dir, &["add", "test.sh"]);
    git_in(dir, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "tests"]);
}

/// Runs the attack in `workspace` with and without bwrap, judging `guarded` from outside.
async fn assert_contained(workspace: &Path, guarded: &[PathBuf]) {
    for (bubblewrap, transactional) in [(true, false), (false, false), (true, true), (false, true)] {
        let before: Vec<_> = guarded.iter().map(|d| snapshot(d)).collect();
        let r = attack(workspace, bubblewrap, transactional).await;
        assert!(r.success, "bwrap {bubblewrap}: the run completes: {r:?}");
        assert!(!r.stdout.contains("PLANTED"), "bwrap {bubblewrap}: {}", r.stdout);
        if transactional {
            // Copy-on-write: the work is in the change set, and nothing of .git/.kv1nt is.
            let changes = r.changes.as_ref().expect("a change set");
            let paths: Vec<&str> = changes.files.iter().map(|f| f.path.as_str()).collect();
            assert_eq!(paths, ["result.txt"], "{changes:?}");
        } else {
            assert_eq!(std::fs::read_to_string(workspace.join("result.txt")).unwrap(), "ok\n");
            std::fs::remove_file(workspace.join("result.txt")).unwrap();
        }
        for (dir, before) in guarded.iter().zip(before) {
            assert!(snapshot(dir) == before, "bwrap {bubblewrap}: {} changed", dir.display());
        }
        assert!(!workspace.join(".kv1nt/config.toml").exists());
        assert!(r.layers_applied.iter().any(|l| l == "protected-ro"), "{r:?}");
        if bubblewrap && !r.layers_applied.iter().any(|l| l == "bwrap") {
            crate::support::require(false, "a working bwrap", "apt-get install bubblewrap");
        }
    }
}

#[tokio::test]
async fn a_test_script_cannot_plant_hooks_git_config_or_kv1nt_settings() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().canonicalize().unwrap();
    repository(&repo);
    assert_contained(&repo, &[repo.join(".git"), repo.join(".kv1nt")]).await;
}

#[tokio::test]
async fn in_a_worktree_the_git_file_and_both_git_dirs_stay_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().canonicalize().unwrap().join("main");
    std::fs::create_dir(&main).unwrap();
    repository(&main);
    let wt = main.join("wt");
    git_in(&main, &["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()]);
    std::fs::create_dir_all(wt.join(".kv1nt")).unwrap();
    let dot_git = wt.join(".git");
    assert!(dot_git.is_file(), "a worktree's .git is a file");
    let before = std::fs::read(&dot_git).unwrap();
    assert_contained(&wt, &[main.join(".git"), wt.join(".kv1nt")]).await;
    assert_eq!(std::fs::read(&dot_git).unwrap(), before, "the .git file still points where it did");
}
