//! Protected paths: what a sandboxed run must not change even though it lies in a tree the run
//! may write — the repository's git dir (hooks, config: code that later runs outside any
//! sandbox), `<workspace>/.kv1nt/`, and kv1nt's own data and config directories.
//!
//! The parent finds them ([`protected_paths`]); the helper bind-mounts each read-only over itself
//! in the run's private mount namespace ([`bind_read_only`], the `protected-ro` layer), and the
//! bwrap layer does the same with `--ro-bind-try`. Landlock cannot say "the workspace minus
//! `.git`" (it is an allowlist), so the read-only mount is the mechanism.
//!
//! Invariants:
//! - A `.git` *file* (worktree, submodule) is protected itself (so it cannot be pointed at a
//!   planted git dir), as are the git dir it names and that dir's common dir.
//! - Only existing paths that lie inside a writable tree (the workspace or a `write_paths`
//!   entry) are listed: elsewhere Landlock already denies writes, and binding them into bwrap's
//!   private /tmp would make hidden data visible. All paths are canonical.
//! - The mounts are made only after the mount namespace is private, so they never reach the
//!   host; a path that vanished in between is skipped, any other failure is reported.
//! - A missing `.git` or `.kv1nt/` is not created: there is nothing to protect (repository
//!   settings written there are subject to repository trust).

use std::path::{Path, PathBuf};

/// The protected paths of a run in `workspace` that may also write `write_paths` (`env`: the
/// environment that locates kv1nt's data directory).
pub(super) fn protected_paths(
    workspace: &Path,
    write_paths: &[PathBuf],
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<PathBuf> {
    let paths = crate::engine::config::Paths::from_env(workspace, env);
    let mut candidates = git_paths(workspace);
    if paths.workspace != workspace {
        candidates.extend(git_paths(&paths.workspace));
    }
    candidates.push(workspace.join(".kv1nt"));
    candidates.push(paths.data_dir.clone());
    candidates.extend(paths.user_config.as_deref().and_then(Path::parent).map(Path::to_path_buf));
    let writable: Vec<PathBuf> = std::iter::once(workspace)
        .chain(write_paths.iter().map(PathBuf::as_path))
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    let mut out: Vec<PathBuf> = Vec::new();
    for path in candidates.iter().filter_map(|p| p.canonicalize().ok()) {
        if writable.iter().any(|w| path.starts_with(w)) && !out.contains(&path) {
            out.push(path);
        }
    }
    out
}

/// `<dir>/.git`, and when it is a `gitdir:` file, the git dir it names and its common dir.
fn git_paths(dir: &Path) -> Vec<PathBuf> {
    let dot_git = dir.join(".git");
    let mut out = vec![dot_git.clone()];
    let Ok(text) = std::fs::read_to_string(&dot_git) else { return out };
    let Some(target) = text.lines().find_map(|l| l.strip_prefix("gitdir:")).map(str::trim) else {
        return out;
    };
    let git_dir = dir.join(target);
    if let Ok(common) = std::fs::read_to_string(git_dir.join("commondir")) {
        out.push(git_dir.join(common.trim()));
    }
    out.push(git_dir);
    out
}

/// Bind-mount each path read-only over itself (helper side, in a private mount namespace).
pub(super) fn bind_read_only(paths: &[PathBuf]) -> Result<(), String> {
    use std::os::unix::ffi::OsStrExt;
    for path in paths {
        let c = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| format!("{}: contains a NUL byte", path.display()))?;
        let err = |what: &str| format!("{what} {}: {}", path.display(), std::io::Error::last_os_error());
        // SAFETY: valid C strings and a zeroed out-struct; plain syscalls.
        unsafe {
            let bind = libc::MS_BIND | libc::MS_REC;
            if libc::mount(c.as_ptr(), c.as_ptr(), std::ptr::null(), bind, std::ptr::null()) != 0 {
                if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOENT) {
                    continue;
                }
                return Err(err("bind"));
            }
            // A remount must keep the flags the kernel locked on the mount (user namespaces).
            let mut st: libc::statvfs = std::mem::zeroed();
            if libc::statvfs(c.as_ptr(), &mut st) != 0 {
                return Err(err("statvfs"));
            }
            let kept = [
                (libc::ST_NOSUID, libc::MS_NOSUID),
                (libc::ST_NODEV, libc::MS_NODEV),
                (libc::ST_NOEXEC, libc::MS_NOEXEC),
                (libc::ST_NOATIME, libc::MS_NOATIME),
                (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
                (libc::ST_RELATIME, libc::MS_RELATIME),
            ];
            let mut flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY;
            for (st_flag, ms_flag) in kept {
                if st.f_flag & st_flag != 0 {
                    flags |= ms_flag;
                }
            }
            if libc::mount(std::ptr::null(), c.as_ptr(), std::ptr::null(), flags, std::ptr::null()) != 0 {
                return Err(err("read-only remount of"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worktree_protects_its_git_file_git_dir_common_dir_kv1nt_and_data_dir_when_writable() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let (ws, common, data) = (root.join("ws"), root.join("main/.git"), root.join("data"));
        let git_dir = common.join("worktrees/ws");
        for dir in [&ws.join(".kv1nt"), &git_dir, &data] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(ws.join(".git"), "gitdir: ../main/.git/worktrees/ws\n").unwrap();
        std::fs::write(git_dir.join("commondir"), "../..\n").unwrap();
        let env = |k: &str| (k == "KV1NT_HOME").then(|| data.display().to_string());
        let all = protected_paths(&ws, std::slice::from_ref(&root), &env);
        for path in [ws.join(".git"), git_dir.clone(), common.clone(), ws.join(".kv1nt"), data.clone()] {
            assert!(all.contains(&path), "{} in {all:?}", path.display());
        }
        // Outside every writable tree Landlock already denies writes: nothing to bind.
        let only_ws = protected_paths(&ws, &[], &env);
        assert_eq!(only_ws, vec![ws.join(".git"), ws.join(".kv1nt")]);
    }

    #[test]
    fn a_workspace_without_git_or_kv1nt_has_nothing_to_protect() {
        let tmp = tempfile::tempdir().unwrap();
        let env = |_: &str| None;
        assert!(protected_paths(tmp.path(), &[], &env).is_empty());
    }
}
